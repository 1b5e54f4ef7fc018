//! The employee field map: canonical fields ⇄ BambooHR field names (shared
//! [`FieldMap`]s), and BambooHR's wire form of the values.

use crate::mapping::{self, Context, Conversion, ConversionError, FieldMap, Wire};
use chrono::{DateTime, NaiveDate, Utc};
use odoo_integration_model::{Currency, Money};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::str::FromStr;

pub(crate) use crate::mapping::Decoded;

/// The built-in map (see the table in the [module docs](super)).
///
/// # Example
///
/// ```
/// let fields = odoo_integration_connectors::bamboohr::default_fields();
/// assert!(fields.iter().any(|f| f.vendor == "supervisorEId"));
/// assert!(!fields.iter().any(|f| f.canonical == "work_phone"));
/// ```
pub fn default_fields() -> Vec<FieldMap> {
    vec![
        FieldMap::text("employee_number", "employeeNumber"),
        FieldMap::new("name", "firstName", Conversion::full_name("lastName")),
        FieldMap::text("work_email", "workEmail"),
        FieldMap::text("department", "department"),
        FieldMap::text("job_title", "jobTitle"),
        FieldMap::new(
            "manager",
            "supervisorEId",
            Conversion::reference("employee"),
        ),
        FieldMap::new(
            "status",
            "status",
            Conversion::employment_status("terminationDate"),
        ),
        FieldMap::new("hire_date", "hireDate", Conversion::Date),
        FieldMap::new("termination_date", "terminationDate", Conversion::Date),
    ]
}

/// A value as text: strings trimmed, numbers printed, empty as `None`.
pub(crate) fn text<'a>(
    row: &'a Map<String, Value>,
    name: &str,
) -> Option<std::borrow::Cow<'a, str>> {
    match row.get(name)? {
        Value::String(s) if !s.trim().is_empty() => Some(std::borrow::Cow::Borrowed(s.trim())),
        Value::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
        _ => None,
    }
}

/// A BambooHR date; `0000-00-00` and empty are none.
pub(crate) fn date(raw: &str) -> Result<Option<NaiveDate>, String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.starts_with("0000-00-00") {
        return Ok(None);
    }
    let day = raw.get(..10).unwrap_or(raw);
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| format!("`{raw}` is not a date"))
}

/// An amount with an optional currency code after it (`85.00 USD`), or
/// before it (`USD 85.00`); thousands separators dropped.
pub(crate) fn amount(raw: &str, default: Currency) -> Result<Money, String> {
    let (value, currency) = amount_parts(raw)?;
    Ok(Money::new(value, currency.unwrap_or(default)))
}

fn amount_parts(raw: &str) -> Result<(Decimal, Option<Currency>), String> {
    let mut value = None;
    let mut currency = None;
    for part in raw.split_whitespace() {
        if part.len() == 3 && part.chars().all(|c| c.is_ascii_alphabetic()) {
            currency =
                Some(Currency::from_str(part).map_err(|_| format!("`{part}` is not a currency"))?);
        } else {
            let cleaned: String = part.chars().filter(|c| *c != ',' && *c != '$').collect();
            value = Some(
                mapping::decode_decimal(&cleaned)
                    .ok_or_else(|| format!("`{raw}` is not an amount"))?,
            );
        }
    }
    value
        .map(|v| (v, currency))
        .ok_or_else(|| format!("`{raw}` has no amount"))
}

/// BambooHR's wire: text fields (numbers printed), dates `YYYY-MM-DD`
/// with `0000-00-00` for none, amounts with their currency code, employee
/// ids with `0` for none. Read only: the writes are never used.
struct BambooWire;

type Converted<T> = Result<T, ConversionError>;

fn unreadable(why: String) -> ConversionError {
    ConversionError::new(mapping::ConversionErrorKind::Unreadable, why)
}

impl Wire for BambooWire {
    type Value = Value;
    fn empty(&self) -> Value {
        Value::Null
    }
    fn text(&self, text: String) -> Value {
        Value::String(text)
    }
    fn number(&self, n: Decimal) -> Converted<Value> {
        Ok(Value::String(n.to_string()))
    }
    fn boolean(&self, b: bool) -> Value {
        Value::Bool(b)
    }
    fn date(&self, d: NaiveDate) -> Value {
        Value::String(d.format("%Y-%m-%d").to_string())
    }
    fn datetime(&self, t: DateTime<Utc>) -> Value {
        Value::String(t.to_rfc3339())
    }
    fn read_text<'a>(&self, v: Option<&'a Value>) -> Converted<Option<Cow<'a, str>>> {
        Ok(match v {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(Cow::Borrowed(s.trim())),
            Some(Value::Number(n)) => Some(Cow::Owned(n.to_string())),
            _ => None,
        })
    }
    fn read_number(&self, v: Option<&Value>) -> Converted<Option<Decimal>> {
        self.read_parsed(v, "a number", mapping::decode_decimal)
    }
    fn read_bool(&self, v: Option<&Value>) -> Converted<Option<bool>> {
        match v {
            Some(Value::Bool(b)) => Ok(Some(*b)),
            _ => match self.read_text(v)?.as_deref() {
                None => Ok(None),
                Some("true") => Ok(Some(true)),
                Some("false") => Ok(Some(false)),
                Some(other) => Err(ConversionError::unreadable("true or false", other)),
            },
        }
    }
    fn read_date(&self, v: Option<&Value>) -> Converted<Option<NaiveDate>> {
        match self.read_text(v)? {
            None => Ok(None),
            Some(s) => date(&s).map_err(unreadable),
        }
    }
    fn read_datetime(&self, v: Option<&Value>) -> Converted<Option<DateTime<Utc>>> {
        self.read_parsed(v, "a date and time", |t| {
            DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
    }
    fn read_amount(&self, v: Option<&Value>) -> Converted<Option<(Decimal, Option<Currency>)>> {
        match self.read_text(v)? {
            None => Ok(None),
            Some(s) => amount_parts(&s).map(Some).map_err(unreadable),
        }
    }
    fn read_id(&self, v: Option<&Value>) -> Converted<Option<String>> {
        let id = self.read_text(v)?.filter(|s| s != "0");
        match id {
            Some(id) if !id.chars().all(|c| c.is_ascii_digit()) => {
                Err(ConversionError::unreadable("an employee id", id))
            }
            id => Ok(id.map(Cow::into_owned)),
        }
    }
}

/// Decodes one mapped field of a report row.
pub(crate) fn decode(
    map: &FieldMap,
    row: &Map<String, Value>,
    currency: Currency,
    today: NaiveDate,
) -> Converted<Decoded> {
    let ctx = Context {
        currency,
        today: Some(today),
    };
    mapping::decode(&BambooWire, map, row, ctx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use odoo_integration_model::FieldValue;
    use rust_decimal::Decimal;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn amounts_and_dates() {
        let m = amount("1,234.50 EUR", Currency::USD).ok();
        assert_eq!(m, Some(Money::new(Decimal::new(123_450, 2), Currency::EUR)));
        assert!(amount("abc", Currency::USD).is_err());
        assert_eq!(date("0000-00-00"), Ok(None));
        assert!(date("31/12/2026").is_err());
    }

    #[test]
    fn status_from_active_and_termination() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default();
        let map = &default_fields()[6];
        let status = |r: Value| match decode(map, &row(r), Currency::USD, today) {
            Ok(Decoded::Value(FieldValue::Text(s))) => s,
            _ => "error".into(),
        };
        assert_eq!(status(json!({"status": "Active"})), "active");
        assert_eq!(status(json!({"status": "Inactive"})), "terminated");
        assert_eq!(
            status(json!({"status": "Active", "terminationDate": "2026-05-31"})),
            "terminated"
        );
        assert_eq!(
            status(json!({"status": "Active", "terminationDate": "2026-07-01"})),
            "active"
        );
        assert_eq!(status(json!({"status": "Sleeping"})), "error");
    }

    #[test]
    fn wire_values() {
        let today = NaiveDate::from_ymd_opt(2026, 6, 1).unwrap_or_default();
        let read = |m: FieldMap, r: Value| decode(&m, &row(r), Currency::USD, today);
        let rate = read(
            FieldMap::new("cost_rate", "customRate", Conversion::money()),
            json!({"customRate": "85.00 EUR"}),
        );
        let eur = Money::new(Decimal::new(8500, 2), Currency::EUR);
        assert_eq!(rate, Ok(Decoded::Value(FieldValue::Money(eur))));
        let bad = read(
            FieldMap::new("cost_rate", "customRate", Conversion::money()),
            json!({"customRate": "lots"}),
        );
        assert_eq!(
            bad.err().map(|e| e.kind()),
            Some(mapping::ConversionErrorKind::Unreadable)
        );
        let boss = FieldMap::new(
            "manager",
            "supervisorEId",
            Conversion::reference("employee"),
        );
        let id = |v: Value| read(boss.clone(), json!({ "supervisorEId": v }));
        assert_eq!(
            id(json!(7)),
            Ok(Decoded::Reference("employee".into(), Some("7".into())))
        );
        assert_eq!(
            id(json!("0")),
            Ok(Decoded::Reference("employee".into(), None))
        );
        assert!(id(json!("Ada")).is_err());
        let hired = FieldMap::new("hire_date", "hireDate", Conversion::Date);
        assert_eq!(
            read(hired.clone(), json!({"hireDate": "0000-00-00"})),
            Ok(Decoded::Value(FieldValue::Null))
        );
        assert!(read(hired, json!({"hireDate": "31/12/2026"})).is_err());
    }
}
