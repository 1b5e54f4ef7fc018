//! Time off: a moving window of dates re-read on every pass, paged by
//! request id.

use super::BambooHrConnector;
use super::fields::{date, text};
use crate::connector::{Cursor, Page, Reference, Source, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use chrono::{DateTime, Days, NaiveDate, Utc};
use odoo_integration_model::{ApprovalState, Employee, Entity, SystemId, TimeOff};
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Where a time-off pass stands: its window and the last request id
/// handed out; no window means "start the next pass from today".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct TimeOffCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    window: Option<(NaiveDate, NaiveDate)>,
    #[serde(default)]
    after: u64,
}

fn protocol(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::Protocol, message).with_system(SystemId::bamboohr())
}

/// A number sent as a JSON number or as text, read as a decimal (from its
/// printed form, never through floating-point arithmetic).
fn decimal(v: Option<&Value>) -> Option<Decimal> {
    match v? {
        Value::Number(n) => crate::web::decimal(&n.to_string()),
        Value::String(s) => crate::web::decimal(s),
        _ => None,
    }
}

/// BambooHR's request status as an approval state.
pub(super) fn approval(status: &str) -> Option<ApprovalState> {
    match status.trim().to_ascii_lowercase().as_str() {
        "approved" => Some(ApprovalState::Approved),
        "requested" => Some(ApprovalState::Submitted),
        "denied" | "canceled" | "cancelled" | "superceded" | "superseded" => {
            Some(ApprovalState::Rejected)
        }
        _ => None,
    }
}

fn id_of(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

impl BambooHrConnector {
    fn decode_request(&self, row: &Map<String, Value>, id: u64) -> SourceChange<TimeOff> {
        let mut record = TimeOff::default();
        let mut fields = vec!["kind", "start", "end", "hours"];
        record.kind = row
            .get("type")
            .and_then(|t| t.get("name"))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let day = |name: &str| text(row, name).and_then(|s| date(&s).ok().flatten());
        record.start = day("start");
        record.end = day("end");
        let amount = row.get("amount").and_then(Value::as_object);
        let value = amount.and_then(|a| decimal(a.get("amount")));
        let unit = amount
            .and_then(|a| a.get("unit"))
            .and_then(Value::as_str)
            .unwrap_or("days")
            .to_ascii_lowercase();
        record.hours = match (value, unit.as_str()) {
            (Some(v), "hours" | "hour") => Some(v.normalize()),
            (Some(v), "days" | "day") => v.checked_mul(self.hours_per_day).map(|h| h.normalize()),
            (v, _) => {
                if v.is_some() {
                    tracing::warn!(request = id, unit = %unit, "time-off amount in an unknown unit left out");
                }
                fields.retain(|f| *f != "hours");
                None
            }
        };
        let status = row.get("status").and_then(|s| s.get("status"));
        match status.and_then(Value::as_str).and_then(approval) {
            Some(a) => {
                record.approval = a;
                fields.push("approval");
            }
            None => tracing::warn!(request = id, "time-off status unknown: approval left out"),
        }
        let at = row
            .get("status")
            .and_then(|s| s.get("lastChanged"))
            .and_then(Value::as_str)
            .or_else(|| row.get("created").and_then(Value::as_str))
            .and_then(|s| date(s).ok().flatten())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(DateTime::UNIX_EPOCH, |t| t.and_utc());
        let employee = id_of(row.get("employeeId"));
        let mut change = SourceChange::upsert(id.to_string(), at, record);
        if let Some(e) = employee {
            change = change.with_ref("employee", Reference::new(Employee::NAME, e.to_string()));
        }
        fields.push("employee");
        change.with_fields(fields)
    }
}

#[async_trait]
impl Source<TimeOff> for BambooHrConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<TimeOff>> {
        let limit = limit.max(1);
        let today = Utc::now().date_naive();
        let back = |days: u32| {
            today
                .checked_sub_days(Days::new(days.into()))
                .unwrap_or(today)
        };
        let ahead = today
            .checked_add_days(Days::new(self.window_ahead.into()))
            .unwrap_or(today);
        let cursor = match since {
            None => TimeOffCursor {
                window: Some((back(self.history), ahead)),
                after: 0,
            },
            Some(c) => serde_json::from_str::<TimeOffCursor>(c.as_str()).map_err(|e| {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    format!("`{}` is not a BambooHR time-off cursor: {e}", c.as_str()),
                )
                .with_system(SystemId::bamboohr())
            })?,
        };
        let (start, end) = cursor.window.unwrap_or((back(self.window_back), ahead));
        let mut path = format!("/time_off/requests?start={start}&end={end}");
        if !self.time_off_statuses.is_empty() {
            path.push_str("&status=");
            path.push_str(&self.time_off_statuses.join(","));
        }
        let answer = self.request(Method::GET, &path, None).await?;
        let rows = answer
            .as_array()
            .ok_or_else(|| protocol("time_off/requests: the answer is not a list"))?;
        let mut requests: Vec<(u64, &Map<String, Value>)> = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let row = row
                .as_object()
                .ok_or_else(|| protocol(format!("time_off/requests: row {i} is not an object")))?;
            let id = id_of(row.get("id"))
                .ok_or_else(|| protocol(format!("time_off/requests: row {i} has no id")))?;
            if id > cursor.after {
                requests.push((id, row));
            }
        }
        requests.sort_by_key(|(id, _)| *id);
        requests.dedup_by_key(|(id, _)| *id);
        let has_more = requests.len() > limit;
        let page: Vec<SourceChange<TimeOff>> = requests
            .iter()
            .take(limit)
            .map(|(id, row)| self.decode_request(row, *id))
            .collect();
        let next = if has_more {
            TimeOffCursor {
                window: Some((start, end)),
                after: requests.get(limit - 1).map_or(cursor.after, |(id, _)| *id),
            }
        } else {
            TimeOffCursor::default()
        };
        let next = serde_json::to_string(&next)
            .map(Cursor::new)
            .map_err(|e| protocol(format!("cannot encode the cursor: {e}")))?;
        Ok(Page {
            changes: page,
            next,
            has_more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        assert_eq!(approval("approved"), Some(ApprovalState::Approved));
        assert_eq!(approval("requested"), Some(ApprovalState::Submitted));
        assert_eq!(approval("canceled"), Some(ApprovalState::Rejected));
        assert_eq!(approval("maybe"), None);
    }

    #[test]
    fn decimals_from_numbers_and_text() {
        assert_eq!(
            decimal(Some(&serde_json::json!(1.5))),
            Some(Decimal::new(15, 1))
        );
        assert_eq!(
            decimal(Some(&serde_json::json!("0.1"))),
            Some(Decimal::new(1, 1))
        );
    }
}
