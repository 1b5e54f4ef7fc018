//! Each conversion, both ways, over a plain JSON wire; bad input is a
//! typed error, never a panic.

use super::codec::{Context, Decoded, Wire, decode, decode_decimal, encode};
use super::{Conversion, ConversionError, ConversionErrorKind, FieldMap};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use odoo_integration_model::{Currency, FieldValue, Money};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};
use std::borrow::Cow;

/// JSON with numbers as strings (so money never passes through a float),
/// dates `YYYY-MM-DD`, instants RFC 3339.
struct Json;

impl Wire for Json {
    type Value = Value;
    fn empty(&self) -> Value {
        Value::Null
    }
    fn text(&self, text: String) -> Value {
        Value::String(text)
    }
    fn number(&self, n: Decimal) -> Result<Value, ConversionError> {
        Ok(Value::String(n.to_string()))
    }
    fn boolean(&self, b: bool) -> Value {
        Value::Bool(b)
    }
    fn date(&self, d: NaiveDate) -> Value {
        Value::String(d.to_string())
    }
    fn datetime(&self, t: DateTime<Utc>) -> Value {
        Value::String(t.to_rfc3339())
    }
    fn read_text<'a>(&self, v: Option<&'a Value>) -> Result<Option<Cow<'a, str>>, ConversionError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(Cow::Borrowed(s))),
            Some(other) => Err(ConversionError::unreadable("text", other)),
        }
    }
    fn read_number(&self, v: Option<&Value>) -> Result<Option<Decimal>, ConversionError> {
        self.read_parsed(v, "a number", decode_decimal)
    }
    fn read_bool(&self, v: Option<&Value>) -> Result<Option<bool>, ConversionError> {
        match v {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(other) => Err(ConversionError::unreadable("true or false", other)),
        }
    }
    fn read_date(&self, v: Option<&Value>) -> Result<Option<NaiveDate>, ConversionError> {
        match self.read_text(v)? {
            None => Ok(None),
            Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| ConversionError::unreadable("a date", t)),
        }
    }
    fn read_datetime(&self, v: Option<&Value>) -> Result<Option<DateTime<Utc>>, ConversionError> {
        match self.read_text(v)? {
            None => Ok(None),
            Some(t) => DateTime::parse_from_rfc3339(&t)
                .map(|t| Some(t.with_timezone(&Utc)))
                .map_err(|_| ConversionError::unreadable("an instant", t)),
        }
    }
}

fn ctx() -> Context {
    Context {
        currency: Currency::USD,
        today: NaiveDate::from_ymd_opt(2026, 6, 1),
    }
}

fn read(map: &FieldMap, record: Value) -> Result<FieldValue, ConversionError> {
    let record: Map<String, Value> = record.as_object().cloned().unwrap_or_default();
    match decode(&Json, map, &record, ctx())? {
        Decoded::Value(v) => Ok(v),
        Decoded::Reference(entity, id) => Ok(FieldValue::Text(format!("{entity}:{id:?}"))),
    }
}

fn write(map: &FieldMap, value: FieldValue) -> Result<Value, ConversionError> {
    let mut out = Map::new();
    encode(&Json, map, value, &mut |k, v| {
        out.insert(k.to_owned(), v);
    })?;
    Ok(Value::Object(out))
}

fn kind(r: Result<impl std::fmt::Debug, ConversionError>) -> Option<ConversionErrorKind> {
    r.err().map(|e| e.kind())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

#[test]
fn text_both_ways() {
    let m = FieldMap::text("name", "n");
    assert_eq!(
        read(&m, json!({"n": "Ada"})),
        Ok(FieldValue::Text("Ada".into()))
    );
    assert_eq!(read(&m, json!({"n": ""})), Ok(FieldValue::Null));
    assert_eq!(read(&m, json!({})), Ok(FieldValue::Null));
    assert_eq!(
        kind(read(&m, json!({"n": [1]}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(
        write(&m, FieldValue::Text("Ada".into())),
        Ok(json!({"n": "Ada"}))
    );
    assert_eq!(write(&m, FieldValue::Null), Ok(json!({"n": null})));
    // A strict wire refuses a value of another type.
    let e = write(&m, FieldValue::Bool(true));
    assert_eq!(kind(e), Some(ConversionErrorKind::Mismatch));
}

#[test]
fn bool_and_number_both_ways() {
    let b = FieldMap::new("billable", "b", Conversion::Bool);
    assert_eq!(read(&b, json!({"b": true})), Ok(FieldValue::Bool(true)));
    assert_eq!(
        kind(read(&b, json!({"b": "yes"}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(write(&b, FieldValue::Bool(false)), Ok(json!({"b": false})));
    let n = FieldMap::new("hours", "h", Conversion::Number);
    assert_eq!(
        read(&n, json!({"h": "7.25"})),
        Ok(FieldValue::Decimal(Decimal::new(725, 2)))
    );
    assert_eq!(
        read(&n, json!({"h": "1e2"})),
        Ok(FieldValue::Decimal(Decimal::from(100)))
    );
    assert_eq!(
        kind(read(&n, json!({"h": "seven"}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(
        write(&n, FieldValue::Decimal(Decimal::new(725, 2))),
        Ok(json!({"h": "7.25"}))
    );
}

#[test]
fn money_with_and_without_a_currency_field() {
    let m = FieldMap::new("amount", "a", Conversion::money_in("cur"));
    let eur = Money::new(Decimal::new(125_050, 2), Currency::EUR);
    assert_eq!(
        read(&m, json!({"a": "1250.50", "cur": "EUR"})),
        Ok(FieldValue::Money(eur))
    );
    // No currency: the connector's.
    let usd = Money::new(Decimal::new(5, 0), Currency::USD);
    assert_eq!(read(&m, json!({"a": "5"})), Ok(FieldValue::Money(usd)));
    assert_eq!(read(&m, json!({"cur": "EUR"})), Ok(FieldValue::Null));
    let bad = read(&m, json!({"a": "12,50 euros"}));
    assert_eq!(kind(bad.clone()), Some(ConversionErrorKind::Unreadable));
    assert_eq!(
        bad.err().and_then(|e| e.field().map(str::to_owned)),
        Some("a".into())
    );
    let bad_code = read(&m, json!({"a": "5", "cur": "Euro"})).err();
    assert_eq!(
        bad_code.as_ref().and_then(ConversionError::field),
        Some("cur")
    );
    assert_eq!(
        write(&m, FieldValue::Money(eur)),
        Ok(json!({"a": "1250.50", "cur": "EUR"}))
    );
    assert_eq!(
        write(&m, FieldValue::Null),
        Ok(json!({"a": null, "cur": null}))
    );
    let plain = FieldMap::new("amount", "a", Conversion::money());
    assert_eq!(
        write(&plain, FieldValue::Money(eur)),
        Ok(json!({"a": "1250.50"}))
    );
}

#[test]
fn dates_and_instants_both_ways() {
    let d = FieldMap::new("hire_date", "d", Conversion::Date);
    let day = date(2026, 5, 1);
    assert_eq!(
        read(&d, json!({"d": "2026-05-01"})),
        Ok(FieldValue::Date(day))
    );
    assert_eq!(
        kind(read(&d, json!({"d": "01/05/2026"}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(
        kind(read(&d, json!({"d": "2026-02-30"}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(
        write(&d, FieldValue::Date(day)),
        Ok(json!({"d": "2026-05-01"}))
    );

    let t = FieldMap::new("at", "t", Conversion::DateTime);
    let at = Utc
        .with_ymd_and_hms(2026, 5, 1, 8, 30, 0)
        .single()
        .unwrap_or_default();
    assert_eq!(
        read(&t, json!({"t": "2026-05-01T10:30:00+02:00"})),
        Ok(FieldValue::DateTime(at))
    );
    assert_eq!(
        kind(read(&t, json!({"t": "yesterday"}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(
        write(&t, FieldValue::DateTime(at)),
        Ok(json!({"t": "2026-05-01T08:30:00+00:00"}))
    );

    let dd = FieldMap::new("signed_on", "s", Conversion::DateInDateTime);
    assert_eq!(
        read(&dd, json!({"s": "2026-05-01T23:00:00Z"})),
        Ok(FieldValue::Date(day))
    );
    assert_eq!(
        write(&dd, FieldValue::Date(day)),
        Ok(json!({"s": "2026-05-01T00:00:00+00:00"}))
    );

    let id = FieldMap::new("received_at", "r", Conversion::InstantInDate);
    let midnight = Utc
        .with_ymd_and_hms(2026, 5, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    assert_eq!(
        read(&id, json!({"r": "2026-05-01"})),
        Ok(FieldValue::DateTime(midnight))
    );
    assert_eq!(
        write(&id, FieldValue::DateTime(at)),
        Ok(json!({"r": "2026-05-01"}))
    );
    // A date where an instant is written is a mismatch.
    assert_eq!(
        kind(write(&id, FieldValue::Date(day))),
        Some(ConversionErrorKind::Mismatch)
    );
}

#[test]
fn full_name_from_two_fields() {
    let m = FieldMap::new("name", "first", Conversion::full_name("last"));
    let name = |v| read(&m, v);
    assert_eq!(
        name(json!({"first": "Ada", "last": "Lovelace"})),
        Ok(FieldValue::Text("Ada Lovelace".into()))
    );
    assert_eq!(
        name(json!({"last": "Lovelace"})),
        Ok(FieldValue::Text("Lovelace".into()))
    );
    assert_eq!(name(json!({})), Ok(FieldValue::Text(String::new())));
    assert_eq!(
        kind(name(json!({"first": "Ada", "last": 7}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(
        write(&m, FieldValue::Text(" Ada  King Lovelace ".into())),
        Ok(json!({"first": "Ada", "last": "King Lovelace"}))
    );
    assert_eq!(
        write(&m, FieldValue::Text("Cher".into())),
        Ok(json!({"first": "Cher", "last": ""}))
    );
    assert_eq!(
        write(&m, FieldValue::Null),
        Ok(json!({"first": null, "last": null}))
    );
}

#[test]
fn coded_values_both_ways() {
    let strict = FieldMap::new(
        "stage",
        "s",
        Conversion::codes([("won", "Closed Won"), ("open", "Prospecting")]),
    );
    assert_eq!(
        read(&strict, json!({"s": "Closed Won"})),
        Ok(FieldValue::Text("won".into()))
    );
    assert_eq!(read(&strict, json!({"s": ""})), Ok(FieldValue::Null));
    assert_eq!(
        kind(read(&strict, json!({"s": "Negotiation"}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(
        write(&strict, FieldValue::Text("open".into())),
        Ok(json!({"s": "Prospecting"}))
    );
    assert_eq!(
        kind(write(&strict, FieldValue::Text("lost".into()))),
        Some(ConversionErrorKind::NoCode)
    );

    let loose = FieldMap::new(
        "stage",
        "s",
        Conversion::codes_or([("won", "closedwon")], "open"),
    );
    assert_eq!(
        read(&loose, json!({"s": "qualified"})),
        Ok(FieldValue::Text("open".into()))
    );
    assert_eq!(read(&loose, json!({})), Ok(FieldValue::Text("open".into())));
}

#[test]
fn flags_and_employment_status() {
    let f = FieldMap::new("approval", "x_approved", Conversion::approval_flag());
    assert_eq!(
        read(&f, json!({"x_approved": true})),
        Ok(FieldValue::Text("approved".into()))
    );
    assert_eq!(
        read(&f, json!({"x_approved": "garbage"})),
        Ok(FieldValue::Text("submitted".into()))
    );
    assert_eq!(
        write(&f, FieldValue::Text("approved".into())),
        Ok(json!({"x_approved": true}))
    );
    assert_eq!(
        write(&f, FieldValue::Text("draft".into())),
        Ok(json!({"x_approved": false}))
    );

    let s = FieldMap::new("status", "status", Conversion::employment_status("end"));
    let status = |v| read(&s, v);
    assert_eq!(
        status(json!({"status": "Active"})),
        Ok(FieldValue::Text("active".into()))
    );
    assert_eq!(
        status(json!({"status": "inactive"})),
        Ok(FieldValue::Text("terminated".into()))
    );
    assert_eq!(
        status(json!({"status": "Active", "end": "2026-05-31"})),
        Ok(FieldValue::Text("terminated".into()))
    );
    assert_eq!(
        status(json!({"status": "Active", "end": "2026-07-01"})),
        Ok(FieldValue::Text("active".into()))
    );
    assert_eq!(
        kind(status(json!({"status": "Sleeping"}))),
        Some(ConversionErrorKind::Unreadable)
    );
    assert_eq!(
        kind(status(json!({"status": "Active", "end": "soon"}))),
        Some(ConversionErrorKind::Unreadable)
    );
    // Read only.
    assert_eq!(
        kind(write(&s, FieldValue::Text("active".into()))),
        Some(ConversionErrorKind::Unsupported)
    );
}

#[test]
fn references_lookups_and_rows() {
    let r = FieldMap::new("manager", "boss", Conversion::reference("employee"));
    assert_eq!(
        read(&r, json!({"boss": "42"})),
        Ok(FieldValue::Text("employee:Some(\"42\")".into()))
    );
    assert_eq!(
        read(&r, json!({})),
        Ok(FieldValue::Text("employee:None".into()))
    );
    // References, lookups and rows are resolved by the connector, never
    // written blind.
    assert_eq!(
        kind(write(&r, FieldValue::Text("42".into()))),
        Some(ConversionErrorKind::Unsupported)
    );
    let l = FieldMap::new(
        "country",
        "c",
        Conversion::lookup("res.country", "code", false),
    );
    assert_eq!(
        kind(read(&l, json!({"c": "BE"}))),
        Some(ConversionErrorKind::Unsupported)
    );
    let rows = FieldMap::new("lines", "l", Conversion::rows("x.line", vec![]));
    assert_eq!(
        kind(write(&rows, FieldValue::Rows(vec![]))),
        Some(ConversionErrorKind::Unsupported)
    );
}

#[test]
fn errors_become_connector_errors_of_the_right_kind() {
    use crate::{ConnectorError, ConnectorErrorKind};
    let n = FieldMap::new("hours", "h", Conversion::Number);
    let unreadable = read(&n, json!({"h": "x"})).err().map(ConnectorError::from);
    assert_eq!(
        unreadable.map(|e| e.kind()),
        Some(ConnectorErrorKind::Protocol)
    );
    let strict = FieldMap::new("stage", "s", Conversion::codes([("won", "W")]));
    let no_code = write(&strict, FieldValue::Text("lost".into()))
        .err()
        .map(ConnectorError::from);
    assert_eq!(no_code.map(|e| e.kind()), Some(ConnectorErrorKind::Mapping));
}
