//! Cost rates: the compensation table, read for every employee at once
//! (`GET /employees/all/tables/compensation`) on a full read, or for the
//! employees changed since a time
//! (`GET /employees/changed/tables/compensation?since=`) on an
//! incremental one; never one request per employee.

use super::BambooHrConnector;
use super::fields::{amount, date, text};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use odoo_integration_model::{Money, SystemId};
use reqwest::Method;
use rust_decimal::{Decimal, RoundingStrategy};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Compensation rows by employee id.
pub(super) type PayTable = BTreeMap<String, Vec<Map<String, Value>>>;

/// A compensation row's order: its start date, then its row id.
type RowKey = (NaiveDate, (u64, String));

fn protocol(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::Protocol, message).with_system(SystemId::bamboohr())
}

fn id_text(v: Option<&Value>) -> Option<String> {
    crate::web::id_text(v?)
}

fn id_key(id: &str) -> (u64, String) {
    (id.parse().unwrap_or(u64::MAX), id.to_owned())
}

/// Rows of one employee, as objects (others skipped).
fn objects(rows: &[Value]) -> Vec<Map<String, Value>> {
    rows.iter().filter_map(Value::as_object).cloned().collect()
}

impl BambooHrConnector {
    /// Whether cost rates come from the compensation table: it is on and
    /// no field map reads `cost_rate` itself.
    pub(super) fn reads_pay(&self) -> bool {
        self.compensation && !self.fields.iter().any(|f| f.canonical == "cost_rate")
    }

    /// Every employee's compensation rows, in one request; `None` when the
    /// key may not read the table (or it does not exist): cost rates are
    /// then left out, not cleared.
    pub(super) async fn pay_all(&self) -> Result<Option<PayTable>> {
        let answer = self
            .refusable(self.request(Method::GET, "/employees/all/tables/compensation", None))
            .await?;
        let Some(answer) = answer else {
            return Ok(None);
        };
        let rows = match &answer {
            Value::Array(rows) => rows.as_slice(),
            Value::Null => &[],
            _ => {
                return Err(protocol(
                    "compensation of all employees: not a list of rows",
                ));
            }
        };
        let mut table = PayTable::new();
        for row in rows.iter().filter_map(Value::as_object) {
            // A row without its employee cannot be placed: skipped.
            if let Some(id) = id_text(row.get("employeeId")) {
                table.entry(id).or_default().push(row.clone());
            }
        }
        Ok(Some(table))
    }

    /// The compensation rows of every employee changed since `since`, in
    /// one request (a change to anything of an employee brings all its
    /// rows); `None` as for [`pay_all`](Self::pay_all).
    pub(super) async fn pay_changed(&self, since: DateTime<Utc>) -> Result<Option<PayTable>> {
        let path = format!(
            "/employees/changed/tables/compensation?since={}",
            since.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
        let Some(answer) = self
            .refusable(self.request(Method::GET, &path, None))
            .await?
        else {
            return Ok(None);
        };
        let employees = match answer.get("employees") {
            Some(Value::Object(m)) => m,
            Some(Value::Array(a)) if a.is_empty() => return Ok(Some(PayTable::new())),
            Some(Value::Null) | None => return Ok(Some(PayTable::new())),
            Some(_) => {
                return Err(protocol(
                    "employees/changed/tables/compensation: `employees` is not a map",
                ));
            }
        };
        let mut table = PayTable::new();
        for (id, entry) in employees {
            let rows = match entry.get("rows") {
                Some(Value::Array(rows)) => objects(rows),
                Some(Value::Null) | None => Vec::new(),
                Some(_) => {
                    return Err(protocol(format!(
                        "employees/changed/tables/compensation: the rows of employee {id} are not a list"
                    )));
                }
            };
            table.insert(id.clone(), rows);
        }
        Ok(Some(table))
    }

    /// The answer, or `None` when BambooHR refused the table (403) or has
    /// none (404).
    async fn refusable(&self, call: impl Future<Output = Result<Value>>) -> Result<Option<Value>> {
        match call.await {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == ConnectorErrorKind::Forbidden => {
                tracing::warn!("the API key may not read compensation: cost rates left out");
                Ok(None)
            }
            Err(e) if e.kind() == ConnectorErrorKind::NotFound => {
                tracing::warn!("no compensation table: cost rates left out");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The hourly cost from the current row of an employee's compensation
    /// rows (the latest `startDate` not after today; ties: the highest row
    /// id); `None` when there is none or it cannot be converted.
    pub(super) fn cost_rate(
        &self,
        id: &str,
        rows: &[Map<String, Value>],
        today: NaiveDate,
    ) -> Option<Money> {
        let mut current: Option<(RowKey, &Map<String, Value>)> = None;
        for row in rows {
            let start = match text(row, "startDate") {
                Some(s) => match date(&s) {
                    Ok(d) => d.unwrap_or(NaiveDate::MIN),
                    Err(why) => {
                        tracing::warn!(employee = %id, "compensation row left out: {why}");
                        continue;
                    }
                },
                None => NaiveDate::MIN,
            };
            if start > today {
                continue; // future-dated
            }
            let key = (start, id_key(&id_text(row.get("id")).unwrap_or_default()));
            if current.as_ref().is_none_or(|(k, _)| *k < key) {
                current = Some((key, row));
            }
        }
        let (_, row) = current?;
        let rate = match row.get("rate") {
            Some(Value::Object(r)) => {
                let value = id_text(r.get("value"));
                let currency = r.get("currency").and_then(Value::as_str).unwrap_or("");
                value.map(|v| format!("{v} {currency}"))
            }
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }?;
        let rate = match amount(&rate, self.currency) {
            Ok(m) => m,
            Err(why) => {
                tracing::warn!(employee = %id, "compensation rate left out: {why}");
                return None;
            }
        };
        let per = row.get("paidPer").and_then(Value::as_str).unwrap_or("");
        let hourly = self.hourly(rate.amount(), per);
        if hourly.is_none() {
            tracing::warn!(employee = %id, paid_per = %per, "compensation period not convertible to an hourly cost");
        }
        hourly.map(|a| Money::new(a, rate.currency()))
    }

    /// An amount paid per `per` as an hourly amount.
    pub(super) fn hourly(&self, value: Decimal, per: &str) -> Option<Decimal> {
        let year = self.hours_per_year;
        let hourly = match per.trim().to_ascii_lowercase().as_str() {
            "hour" => Some(value),
            "day" => value.checked_div(self.hours_per_day),
            "week" => value.checked_mul(Decimal::from(52))?.checked_div(year),
            "month" => value.checked_mul(Decimal::from(12))?.checked_div(year),
            "quarter" => value.checked_mul(Decimal::from(4))?.checked_div(year),
            "year" => value.checked_div(year),
            _ => None,
        }?;
        Some(
            hourly
                .round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
                .normalize(),
        )
    }
}
