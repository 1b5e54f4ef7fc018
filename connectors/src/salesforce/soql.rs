//! SOQL text, Salesforce's date-time formats, and query answers read
//! field by field without going through `f64`.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use odoo_integration_model::SystemId;
use rust_decimal::Decimal;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// A page of a SOQL query answer.
#[derive(Debug, Deserialize)]
pub(crate) struct QueryAnswer {
    #[serde(default)]
    pub(crate) done: bool,
    #[serde(rename = "nextRecordsUrl", default)]
    pub(crate) next_records_url: Option<String>,
    #[serde(default)]
    pub(crate) records: Vec<Record>,
}

/// One record as Salesforce sent it: each field's raw JSON, so numbers
/// reach [`Decimal`] from their text.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub(crate) struct Record(pub(crate) BTreeMap<String, Box<RawValue>>);

fn protocol(message: String) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::Protocol, message).with_system(SystemId::salesforce())
}

impl Record {
    fn raw(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(|r| r.get()).filter(|r| *r != "null")
    }

    /// The `Id`, or a protocol error.
    pub(crate) fn id(&self, sobject: &str) -> Result<String> {
        self.text(sobject, "?", "Id")?
            .ok_or_else(|| protocol(format!("a {sobject} record came without an Id")))
    }

    fn fail(&self, sobject: &str, id: &str, field: &str, expected: &str) -> ConnectorError {
        let found = self.raw(field).unwrap_or("null");
        let found: String = found.chars().take(40).collect();
        protocol(format!(
            "{sobject} {id}: field `{field}`: expected {expected}, found `{found}`"
        ))
    }

    /// A text field (`None` for null or absent).
    pub(crate) fn text(&self, sobject: &str, id: &str, field: &str) -> Result<Option<String>> {
        match self.raw(field) {
            None => Ok(None),
            Some(raw) => serde_json::from_str::<String>(raw)
                .map(Some)
                .map_err(|_| self.fail(sobject, id, field, "text")),
        }
    }

    /// A boolean field.
    pub(crate) fn flag(&self, sobject: &str, id: &str, field: &str) -> Result<Option<bool>> {
        match self.raw(field) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(self.fail(sobject, id, field, "true or false")),
        }
    }

    /// A number field, exactly.
    pub(crate) fn decimal(&self, sobject: &str, id: &str, field: &str) -> Result<Option<Decimal>> {
        let Some(raw) = self.raw(field) else {
            return Ok(None);
        };
        let text = raw.trim_matches('"');
        crate::web::decimal(text)
            .map(Some)
            .ok_or_else(|| self.fail(sobject, id, field, "a number"))
    }

    /// A date field (`YYYY-MM-DD`).
    pub(crate) fn date(&self, sobject: &str, id: &str, field: &str) -> Result<Option<NaiveDate>> {
        match self.text(sobject, id, field)? {
            None => Ok(None),
            Some(t) => NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .map(Some)
                .map_err(|_| self.fail(sobject, id, field, "a date")),
        }
    }

    /// A date-time field.
    pub(crate) fn datetime(
        &self,
        sobject: &str,
        id: &str,
        field: &str,
    ) -> Result<Option<DateTime<Utc>>> {
        match self.text(sobject, id, field)? {
            None => Ok(None),
            Some(t) => parse_datetime(&t)
                .map(Some)
                .ok_or_else(|| self.fail(sobject, id, field, "a date-time")),
        }
    }

    /// A child relationship's sub-query answer.
    pub(crate) fn children(
        &self,
        sobject: &str,
        id: &str,
        relationship: &str,
    ) -> Result<Option<QueryAnswer>> {
        match self.raw(relationship) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw)
                .map(Some)
                .map_err(|_| self.fail(sobject, id, relationship, "a sub-query answer")),
        }
    }

    /// The record a lookup relationship points at, as the query nests it
    /// (`"Owner": {"attributes": …, "Email": …}`); `None` for an empty
    /// lookup.
    pub(crate) fn related(
        &self,
        sobject: &str,
        id: &str,
        relationship: &str,
    ) -> Result<Option<Record>> {
        match self.raw(relationship) {
            None => Ok(None),
            Some(raw) => serde_json::from_str(raw)
                .map(Some)
                .map_err(|_| self.fail(sobject, id, relationship, "a related record")),
        }
    }

    /// Replaces a child relationship's answer (after paging through it).
    pub(crate) fn set_raw(&mut self, field: &str, raw: Box<RawValue>) {
        self.0.insert(field.to_owned(), raw);
    }
}

/// Salesforce's date-times: `2026-11-30T10:00:00.000+0000`, or with `Z`
/// or `+00:00`.
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A SOQL date-time literal. Salesforce documents second precision
/// (`2026-11-30T10:00:00Z`), which is what its stamps carry; milliseconds
/// are written only when the instant has them.
pub(crate) fn datetime_literal(t: DateTime<Utc>) -> String {
    if t.timestamp_subsec_millis() == 0 {
        t.to_rfc3339_opts(SecondsFormat::Secs, true)
    } else {
        t.to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

/// A date-time parameter of `updated` / `deleted` (`…+00:00`).
pub(crate) fn datetime_param(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
}

/// A SOQL string literal.
pub(crate) fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for c in text.chars() {
        match c {
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Whether `name` is a plain API name (`Name`, `Sync_Id__c`,
/// `Account.Name`): what may go into SOQL and URLs unquoted.
pub(crate) fn is_api_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Whether `id` looks like a Salesforce id (15 or 18 alphanumerics).
pub(crate) fn is_record_id(id: &str) -> bool {
    matches!(id.len(), 15 | 18) && id.chars().all(|c| c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn datetimes_round_trip() {
        let t = parse_datetime("2026-11-30T10:00:00.000+0000").unwrap();
        assert_eq!(datetime_literal(t), "2026-11-30T10:00:00Z");
        let t = parse_datetime("2026-11-30T10:00:00.250Z").unwrap();
        assert_eq!(datetime_literal(t), "2026-11-30T10:00:00.250Z");
    }

    #[test]
    fn numbers_are_exact() {
        let r: Record =
            serde_json::from_str(r#"{"Amount": 12345678901234.57, "Q": 1E+2}"#).unwrap();
        assert_eq!(
            r.decimal("X", "1", "Amount").unwrap().unwrap().to_string(),
            "12345678901234.57"
        );
        assert_eq!(
            r.decimal("X", "1", "Q").unwrap().unwrap(),
            Decimal::from(100)
        );
    }

    #[test]
    fn related_records_are_read_nested() {
        let r: Record = serde_json::from_str(
            r#"{"Owner": {"attributes": {"type": "User"}, "Email": "ann@firm.example"}, "Account": null, "Bad": 3}"#,
        )
        .unwrap();
        let owner = r.related("Opportunity", "006", "Owner").unwrap().unwrap();
        assert_eq!(
            owner.text("User", "?", "Email").unwrap().as_deref(),
            Some("ann@firm.example")
        );
        assert!(
            r.related("Opportunity", "006", "Account")
                .unwrap()
                .is_none()
        );
        let e = r.related("Opportunity", "006", "Bad").unwrap_err();
        assert!(e.to_string().contains("`Bad`"), "{e}");
    }

    #[test]
    fn literals_are_escaped() {
        assert_eq!(quote("O'Brien\\"), "'O\\'Brien\\\\'");
        assert!(is_api_name("Sync_Id__c") && !is_api_name("Name, Id"));
    }
}
