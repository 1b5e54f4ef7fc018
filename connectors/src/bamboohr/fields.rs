//! The employee field map: canonical fields ⇄ BambooHR field names, and
//! how each value converts.

use chrono::NaiveDate;
use odoo_integration_model::{Currency, EmploymentStatus, FieldValue, Money};
use serde_json::{Map, Value};
use std::str::FromStr;

/// How a BambooHR value becomes a canonical one.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::bamboohr::{FieldKind, FieldMap};
/// let m = FieldMap::new("hire_date", "hireDate", FieldKind::Date);
/// assert_eq!(m.kind, FieldKind::Date);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// Text as is; empty is none.
    Text,
    /// A date `YYYY-MM-DD`; empty and `0000-00-00` are none.
    Date,
    /// An amount (`85.00`, `85.00 USD`): money in its currency, else the
    /// connector's.
    Money,
    /// Another employee's id (e.g. `supervisorEId`): a reference to an
    /// `employee`.
    Employee,
    /// Two fields joined by a space (first name, then this last-name
    /// field).
    FullName {
        /// The second field, e.g. `lastName`.
        last_name_field: String,
    },
    /// `Active`/`Inactive` with this termination-date field: `Inactive`, or
    /// a termination date on or before today, is terminated.
    Status {
        /// The termination date field, e.g. `terminationDate`.
        termination_date_field: String,
    },
}

/// One canonical employee field ⇄ a BambooHR field (standard field names
/// or custom field aliases such as `customCostRate`).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::bamboohr::{FieldKind, FieldMap};
/// let m = FieldMap::new("cost_rate", "customCostRate", FieldKind::Money);
/// assert_eq!(m.bamboohr, "customCostRate");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap {
    /// The canonical field of `Employee`.
    pub canonical: String,
    /// The BambooHR field.
    pub bamboohr: String,
    /// How the value converts.
    pub kind: FieldKind,
}

impl FieldMap {
    /// A field of any kind.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::bamboohr::{FieldKind, FieldMap};
    /// let m = FieldMap::new("manager", "supervisorEId", FieldKind::Employee);
    /// assert_eq!(m.canonical, "manager");
    /// ```
    pub fn new(canonical: impl Into<String>, bamboohr: impl Into<String>, kind: FieldKind) -> Self {
        FieldMap {
            canonical: canonical.into(),
            bamboohr: bamboohr.into(),
            kind,
        }
    }

    /// A text field.
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::bamboohr::FieldMap::text("work_phone", "workPhone");
    /// assert_eq!(m.bamboohr, "workPhone");
    /// ```
    pub fn text(canonical: impl Into<String>, bamboohr: impl Into<String>) -> Self {
        FieldMap::new(canonical, bamboohr, FieldKind::Text)
    }

    /// Every BambooHR field this one is read from.
    pub(crate) fn sources(&self) -> impl Iterator<Item = &str> {
        let extra = match &self.kind {
            FieldKind::FullName { last_name_field } => Some(last_name_field.as_str()),
            FieldKind::Status {
                termination_date_field,
            } => Some(termination_date_field.as_str()),
            _ => None,
        };
        std::iter::once(self.bamboohr.as_str()).chain(extra)
    }
}

/// The built-in map (see the table in the [module docs](super)).
///
/// # Example
///
/// ```
/// let fields = odoo_integration_connectors::bamboohr::default_fields();
/// assert!(fields.iter().any(|f| f.bamboohr == "supervisorEId"));
/// assert!(!fields.iter().any(|f| f.canonical == "work_phone"));
/// ```
pub fn default_fields() -> Vec<FieldMap> {
    vec![
        FieldMap::text("employee_number", "employeeNumber"),
        FieldMap::new(
            "name",
            "firstName",
            FieldKind::FullName {
                last_name_field: "lastName".into(),
            },
        ),
        FieldMap::text("work_email", "workEmail"),
        FieldMap::text("department", "department"),
        FieldMap::text("job_title", "jobTitle"),
        FieldMap::new("manager", "supervisorEId", FieldKind::Employee),
        FieldMap::new(
            "status",
            "status",
            FieldKind::Status {
                termination_date_field: "terminationDate".into(),
            },
        ),
        FieldMap::new("hire_date", "hireDate", FieldKind::Date),
        FieldMap::new("termination_date", "terminationDate", FieldKind::Date),
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
    let mut value = None;
    let mut currency = default;
    for part in raw.split_whitespace() {
        if part.len() == 3 && part.chars().all(|c| c.is_ascii_alphabetic()) {
            currency =
                Currency::from_str(part).map_err(|_| format!("`{part}` is not a currency"))?;
        } else {
            let cleaned: String = part.chars().filter(|c| *c != ',' && *c != '$').collect();
            value = Some(
                crate::web::decimal(&cleaned).ok_or_else(|| format!("`{raw}` is not an amount"))?,
            );
        }
    }
    value
        .map(|v| Money::new(v, currency))
        .ok_or_else(|| format!("`{raw}` has no amount"))
}

/// What one mapped field decodes to.
pub(crate) enum Decoded {
    /// A value for the field.
    Value(FieldValue),
    /// A reference to an employee (its BambooHR id), or none.
    Employee(Option<String>),
}

/// Decodes one mapped field of a report row.
pub(crate) fn decode(
    map: &FieldMap,
    row: &Map<String, Value>,
    currency: Currency,
    today: NaiveDate,
) -> Result<Decoded, String> {
    let value = text(row, &map.bamboohr);
    let v = match &map.kind {
        FieldKind::Text => value.map_or(FieldValue::Null, |s| FieldValue::Text(s.into_owned())),
        FieldKind::Date => match value {
            Some(s) => date(&s)?.map_or(FieldValue::Null, FieldValue::Date),
            None => FieldValue::Null,
        },
        FieldKind::Money => match value {
            Some(s) => FieldValue::Money(amount(&s, currency)?),
            None => FieldValue::Null,
        },
        FieldKind::Employee => {
            let id = value.filter(|s| s != "0").map(|s| s.into_owned());
            if let Some(id) = &id
                && !id.chars().all(|c| c.is_ascii_digit())
            {
                return Err(format!("`{id}` is not an employee id"));
            }
            return Ok(Decoded::Employee(id));
        }
        FieldKind::FullName { last_name_field } => {
            let last = text(row, last_name_field);
            let parts: Vec<&str> = [value.as_deref(), last.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            FieldValue::Text(parts.join(" "))
        }
        FieldKind::Status {
            termination_date_field,
        } => {
            let ended = match text(row, termination_date_field) {
                Some(s) => date(&s)?.is_some_and(|d| d <= today),
                None => false,
            };
            let status = match value.as_deref() {
                Some(s) if s.eq_ignore_ascii_case("inactive") => EmploymentStatus::Terminated,
                Some(s) if s.eq_ignore_ascii_case("active") && ended => {
                    EmploymentStatus::Terminated
                }
                Some(s) if s.eq_ignore_ascii_case("active") => EmploymentStatus::Active,
                None if ended => EmploymentStatus::Terminated,
                other => return Err(format!("`{}` is not a status", other.unwrap_or(""))),
            };
            FieldValue::Text(status.as_str().to_owned())
        }
    };
    Ok(Decoded::Value(v))
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
