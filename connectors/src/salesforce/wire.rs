//! Salesforce's wire form of the shared conversions.

use super::maps::{null, raw_text};
use super::soql::{Record, parse_datetime};
use crate::mapping::{self as shared, ConversionError, ConversionErrorKind, Wire};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// Salesforce's wire: JSON fields, `null` for none, numbers exact, dates
/// `YYYY-MM-DD`, instants ISO 8601 UTC.
pub(super) struct SalesforceWire;

type Converted<T> = std::result::Result<T, ConversionError>;

fn raw(json: String) -> Converted<Box<RawValue>> {
    RawValue::from_string(json)
        .map_err(|e| ConversionError::new(ConversionErrorKind::OutOfRange, e.to_string()))
}

impl Wire for SalesforceWire {
    type Value = Box<RawValue>;
    fn empty(&self) -> Box<RawValue> {
        null()
    }
    fn text(&self, text: String) -> Box<RawValue> {
        raw_text(Some(&text))
    }
    fn number(&self, n: Decimal) -> Converted<Box<RawValue>> {
        raw(n.normalize().to_string())
    }
    fn boolean(&self, b: bool) -> Box<RawValue> {
        raw(b.to_string()).unwrap_or_default()
    }
    fn date(&self, d: NaiveDate) -> Box<RawValue> {
        raw_text(Some(&d.format("%Y-%m-%d").to_string()))
    }
    fn datetime(&self, t: DateTime<Utc>) -> Box<RawValue> {
        raw_text(Some(
            &t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ))
    }
    fn lenient(&self) -> bool {
        true
    }
    fn read_text<'a>(&self, v: Option<&'a Box<RawValue>>) -> Converted<Option<Cow<'a, str>>> {
        match v.map(|r| r.get()).filter(|r| *r != "null") {
            None => Ok(None),
            Some(json) => serde_json::from_str::<String>(json)
                .map(|t| Some(Cow::Owned(t)))
                .map_err(|_| ConversionError::unreadable("text", json)),
        }
    }
    fn read_number(&self, v: Option<&Box<RawValue>>) -> Converted<Option<Decimal>> {
        match v.map(|r| r.get()).filter(|r| *r != "null") {
            None => Ok(None),
            Some(json) => shared::decode_decimal(json.trim_matches('"'))
                .map(Some)
                .ok_or_else(|| ConversionError::unreadable("a number", json)),
        }
    }
    fn read_bool(&self, v: Option<&Box<RawValue>>) -> Converted<Option<bool>> {
        match v.map(|r| r.get()) {
            None | Some("null") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ConversionError::unreadable("true or false", other)),
        }
    }
    fn read_date(&self, v: Option<&Box<RawValue>>) -> Converted<Option<NaiveDate>> {
        self.read_parsed(v, "a date", |t| {
            NaiveDate::parse_from_str(t, "%Y-%m-%d").ok()
        })
    }
    fn read_datetime(&self, v: Option<&Box<RawValue>>) -> Converted<Option<DateTime<Utc>>> {
        self.read_parsed(v, "a date-time", parse_datetime)
    }
}

impl shared::Fields<Box<RawValue>> for Record {
    fn field(&self, name: &str) -> Option<&Box<RawValue>> {
        self.0.get(name)
    }
}
