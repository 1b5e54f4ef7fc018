//! The conversions, written once over a vendor's [`Wire`].

// Each connector feature uses part of this; all of it with every one on.
#![cfg_attr(
    not(all(
        feature = "odoo",
        feature = "hubspot",
        feature = "salesforce",
        feature = "bamboohr"
    )),
    allow(dead_code)
)]

use super::{Conversion, ConversionError, ConversionErrorKind, FieldMap};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use odoo_integration_model::{Currency, EmploymentStatus, FieldValue, Money};
use rust_decimal::Decimal;
use std::borrow::Cow;
use std::str::FromStr;

type Converted<T> = Result<T, ConversionError>;

/// A vendor's wire form of the plain values: what a connector supplies so
/// the shared conversions read and write its fields. Reads take the field
/// as found (`None`: absent) and answer `None` for no value.
pub(crate) trait Wire {
    /// One field's value on the wire.
    type Value;

    /// No value (Odoo's `false`, HubSpot's `""`, JSON `null`).
    fn empty(&self) -> Self::Value;
    /// Text.
    fn text(&self, text: String) -> Self::Value;
    /// An exact number.
    fn number(&self, n: Decimal) -> Converted<Self::Value>;
    /// A flag.
    fn boolean(&self, b: bool) -> Self::Value;
    /// A calendar date.
    fn date(&self, d: NaiveDate) -> Self::Value;
    /// An instant, UTC.
    fn datetime(&self, t: DateTime<Utc>) -> Self::Value;
    /// Whether money's currency is written to its currency field.
    fn writes_currency(&self) -> bool {
        true
    }
    /// Whether a value of another type than the conversion writes is sent
    /// as its text (HubSpot's and Salesforce's string fields) rather than
    /// refused.
    fn lenient(&self) -> bool {
        false
    }

    /// Text; `None` for no value.
    fn read_text<'a>(&self, v: Option<&'a Self::Value>) -> Converted<Option<Cow<'a, str>>>;
    /// An exact number.
    fn read_number(&self, v: Option<&Self::Value>) -> Converted<Option<Decimal>>;
    /// A flag.
    fn read_bool(&self, v: Option<&Self::Value>) -> Converted<Option<bool>>;
    /// A calendar date.
    fn read_date(&self, v: Option<&Self::Value>) -> Converted<Option<NaiveDate>>;
    /// An instant.
    fn read_datetime(&self, v: Option<&Self::Value>) -> Converted<Option<DateTime<Utc>>>;
    /// An amount, with the currency it carries if any.
    fn read_amount(
        &self,
        v: Option<&Self::Value>,
    ) -> Converted<Option<(Decimal, Option<Currency>)>> {
        Ok(self.read_number(v)?.map(|n| (n, None)))
    }
    /// A currency field's ISO code.
    fn read_currency(&self, v: Option<&Self::Value>) -> Converted<Option<Currency>> {
        match self.read_text(v)? {
            None => Ok(None),
            Some(code) => Currency::from_str(&code)
                .map(Some)
                .map_err(|_| ConversionError::unreadable("a currency", code)),
        }
    }
    /// A field's text read by `parse`, `expected` naming what it should be
    /// (`a date`) when it is not.
    fn read_parsed<T>(
        &self,
        v: Option<&Self::Value>,
        expected: &str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Converted<Option<T>> {
        match self.read_text(v)? {
            None => Ok(None),
            Some(t) => parse(&t)
                .map(Some)
                .ok_or_else(|| ConversionError::unreadable(expected, t)),
        }
    }
    /// Another record's id.
    fn read_id(&self, v: Option<&Self::Value>) -> Converted<Option<String>> {
        Ok(self.read_text(v)?.map(Cow::into_owned))
    }
}

/// A vendor record's fields by name.
pub(crate) trait Fields<V> {
    /// The field `name`, if present.
    fn field(&self, name: &str) -> Option<&V>;
}

impl Fields<serde_json::Value> for serde_json::Map<String, serde_json::Value> {
    fn field(&self, name: &str) -> Option<&serde_json::Value> {
        self.get(name)
    }
}

/// What a read needs besides the record.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context {
    /// The currency of amounts that name none.
    pub(crate) currency: Currency,
    /// Today, for an employment status (now's UTC date when `None`).
    pub(crate) today: Option<NaiveDate>,
}

impl Context {
    /// Amounts without a currency in `currency`; today is today.
    pub(crate) fn new(currency: Currency) -> Self {
        Context {
            currency,
            today: None,
        }
    }
}

/// One field read from a vendor record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decoded {
    /// A value for the canonical field.
    Value(FieldValue),
    /// A reference to another record: the entity and its vendor id, or
    /// none.
    Reference(String, Option<String>),
}

/// Reads the field `map` from `record`.
pub(crate) fn decode<W: Wire>(
    wire: &W,
    map: &FieldMap,
    record: &impl Fields<W::Value>,
    ctx: Context,
) -> Converted<Decoded> {
    read(wire, map, record, ctx).map_err(|e| e.at(&map.vendor))
}

fn read<W: Wire>(
    wire: &W,
    map: &FieldMap,
    record: &impl Fields<W::Value>,
    ctx: Context,
) -> Converted<Decoded> {
    let raw = record.field(&map.vendor);
    let value = |v: Option<FieldValue>| Ok(Decoded::Value(v.unwrap_or(FieldValue::Null)));
    match &map.conversion {
        Conversion::Text => value(
            wire.read_text(raw)?
                .map(|t| FieldValue::Text(t.into_owned())),
        ),
        Conversion::Bool => value(wire.read_bool(raw)?.map(FieldValue::Bool)),
        Conversion::Number => value(wire.read_number(raw)?.map(FieldValue::Decimal)),
        Conversion::Money { currency_field } => {
            let Some((amount, carried)) = wire.read_amount(raw)? else {
                return value(None);
            };
            let currency = match (carried, currency_field) {
                (Some(c), _) => c,
                (None, Some(field)) => wire
                    .read_currency(record.field(field))
                    .map_err(|e| e.at(field))?
                    .unwrap_or(ctx.currency),
                (None, None) => ctx.currency,
            };
            value(Some(FieldValue::Money(Money::new(amount, currency))))
        }
        Conversion::Date => value(wire.read_date(raw)?.map(FieldValue::Date)),
        Conversion::DateTime => value(wire.read_datetime(raw)?.map(FieldValue::DateTime)),
        Conversion::DateInDateTime => value(
            wire.read_datetime(raw)?
                .map(|t| FieldValue::Date(t.date_naive())),
        ),
        Conversion::InstantInDate => value(
            wire.read_date(raw)?
                .map(|d| FieldValue::DateTime(midnight(d))),
        ),
        Conversion::FullName { last_name_field } => {
            let first = wire.read_text(raw)?;
            let last = wire
                .read_text(record.field(last_name_field))
                .map_err(|e| e.at(last_name_field))?;
            value(Some(FieldValue::Text(join_name(
                first.as_deref(),
                last.as_deref(),
            ))))
        }
        Conversion::Codes { pairs, otherwise } => {
            let code = match wire.read_text(raw)? {
                None => otherwise.clone(),
                Some(v) => match pairs.iter().find(|(_, vendor)| *vendor == v) {
                    Some((code, _)) => Some(code.clone()),
                    None => Some(otherwise.clone().ok_or_else(|| {
                        ConversionError::unreadable("a value in the code table", v)
                    })?),
                },
            };
            value(code.map(FieldValue::Text))
        }
        Conversion::Flag {
            read_true,
            read_false,
            ..
        } => {
            let yes = wire.read_bool(raw).ok().flatten().unwrap_or(false);
            value(Some(FieldValue::Text(
                if yes { read_true } else { read_false }.clone(),
            )))
        }
        Conversion::EmploymentStatus {
            termination_date_field,
        } => {
            let ended = wire
                .read_date(record.field(termination_date_field))
                .map_err(|e| e.at(termination_date_field))?;
            let today = ctx.today.unwrap_or_else(|| Utc::now().date_naive());
            let status = employment_status(
                wire.read_text(raw)?.as_deref(),
                ended.is_some_and(|d| d <= today),
            )?;
            value(Some(FieldValue::Text(status.as_str().to_owned())))
        }
        Conversion::Reference { entity } => {
            Ok(Decoded::Reference(entity.clone(), wire.read_id(raw)?))
        }
        Conversion::Lookup { .. } | Conversion::Rows { .. } => Err(unsupported(map)),
    }
}

/// Writes `value` to the field `map` (two vendor fields for money and
/// full names), each through `out`.
pub(crate) fn encode<W: Wire>(
    wire: &W,
    map: &FieldMap,
    value: FieldValue,
    out: &mut impl FnMut(&str, W::Value),
) -> Converted<()> {
    write(wire, map, value, out).map_err(|e| e.at(&map.vendor))
}

fn write<W: Wire>(
    wire: &W,
    map: &FieldMap,
    value: FieldValue,
    out: &mut impl FnMut(&str, W::Value),
) -> Converted<()> {
    let field = map.vendor.as_str();
    match (&map.conversion, value) {
        (
            Conversion::Reference { .. }
            | Conversion::Lookup { .. }
            | Conversion::Rows { .. }
            | Conversion::EmploymentStatus { .. },
            _,
        ) => return Err(unsupported(map)),
        (conversion, FieldValue::Null) => {
            out(field, wire.empty());
            match conversion {
                Conversion::FullName { last_name_field } => out(last_name_field, wire.empty()),
                Conversion::Money {
                    currency_field: Some(c),
                } if wire.writes_currency() => out(c, wire.empty()),
                _ => {}
            }
        }
        (Conversion::Text, FieldValue::Text(t)) => out(field, wire.text(t)),
        (Conversion::Bool, FieldValue::Bool(b)) => out(field, wire.boolean(b)),
        (Conversion::Number, FieldValue::Decimal(d)) => out(field, wire.number(d)?),
        (Conversion::Money { currency_field }, FieldValue::Money(m)) => {
            out(field, wire.number(m.amount())?);
            if let Some(c) = currency_field
                && wire.writes_currency()
            {
                out(c, wire.text(m.currency().as_str().to_owned()));
            }
        }
        (Conversion::Date, FieldValue::Date(d)) => out(field, wire.date(d)),
        (Conversion::DateTime, FieldValue::DateTime(t)) => out(field, wire.datetime(t)),
        (Conversion::DateInDateTime, FieldValue::Date(d)) => out(field, wire.datetime(midnight(d))),
        (Conversion::InstantInDate, FieldValue::DateTime(t)) => {
            out(field, wire.date(t.date_naive()))
        }
        (Conversion::FullName { last_name_field }, FieldValue::Text(name)) => {
            let (first, last) = split_name(&name);
            out(field, wire.text(first.to_owned()));
            out(last_name_field, wire.text(last.to_owned()));
        }
        (Conversion::Codes { pairs, .. }, FieldValue::Text(code)) => {
            let (_, vendor) = pairs.iter().find(|(c, _)| *c == code).ok_or_else(|| {
                ConversionError::new(
                    ConversionErrorKind::NoCode,
                    format!("no vendor value for `{code}`"),
                )
            })?;
            out(field, wire.text(vendor.clone()));
        }
        (Conversion::Flag { true_for, .. }, FieldValue::Text(code)) => {
            out(field, wire.boolean(true_for.contains(&code)))
        }
        (_, other) if wire.lenient() => out(field, wire.text(other.to_string())),
        (conversion, other) => {
            return Err(ConversionError::new(
                ConversionErrorKind::Mismatch,
                format!(
                    "cannot write a {} value as {}",
                    other.kind(),
                    conversion.name()
                ),
            ));
        }
    }
    Ok(())
}

fn unsupported(map: &FieldMap) -> ConversionError {
    ConversionError::new(
        ConversionErrorKind::Unsupported,
        format!(
            "a {} conversion is not supported here",
            map.conversion.name()
        ),
    )
}

/// Midnight UTC of a date.
fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(NaiveTime::MIN).and_utc()
}

/// A full name from its parts, joined by a space; a missing part is left
/// out.
pub(crate) fn join_name(first: Option<&str>, last: Option<&str>) -> String {
    match (first, last) {
        (Some(f), Some(l)) => format!("{f} {l}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => String::new(),
    }
}

/// A full name split at its first space: first name, last name (empty
/// when there is one word).
pub(crate) fn split_name(name: &str) -> (&str, &str) {
    let name = name.trim();
    let (first, last) = name.split_once(char::is_whitespace).unwrap_or((name, ""));
    (first, last.trim())
}

/// An employment status from `Active`/`Inactive` text and whether the
/// termination date has passed.
fn employment_status(status: Option<&str>, ended: bool) -> Converted<EmploymentStatus> {
    Ok(match status {
        Some(s) if s.eq_ignore_ascii_case("inactive") => EmploymentStatus::Terminated,
        Some(s) if s.eq_ignore_ascii_case("active") && ended => EmploymentStatus::Terminated,
        Some(s) if s.eq_ignore_ascii_case("active") => EmploymentStatus::Active,
        None if ended => EmploymentStatus::Terminated,
        other => {
            return Err(ConversionError::unreadable("a status", other.unwrap_or("")));
        }
    })
}

/// An exact decimal from text, plain or in scientific notation.
pub(crate) fn decode_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}
