//! Employees: the first full read through one custom report per run,
//! then the changed-since feed; cost rates from the compensation table
//! ([`pay`](super::pay)).

use super::BambooHrConnector;
use super::fields::{Decoded, decode};
use super::pay::PayTable;
use crate::connector::{Cursor, Page, Reference, Source, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::mapping::FieldMap;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use odoo_integration_model::{Employee, Entity, SystemId};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Where an employee read stands.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct EmployeeCursor {
    /// The latest `lastChanged` handed out (during the full read: the
    /// instant the full read stands for).
    since: DateTime<Utc>,
    /// Ids changed at `since` already handed out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen: Vec<String>,
    /// During the first full read: the last employee id handed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<u64>,
    /// During the first full read: the run whose report the pages share.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run: Option<u64>,
    /// Changes the change log listed whose employee the report did not
    /// return (not visible to the key, or not yet): asked again on every
    /// later read until the report has them or the log lists them again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    held: Vec<Held>,
}

/// A change handed out by the change log but not yet readable.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Held {
    id: String,
    at: DateTime<Utc>,
}

/// What a full read's pages share: the whole-company report and the
/// compensation table, fetched once per run.
#[derive(Debug)]
pub(super) struct FullRun {
    id: u64,
    report: Report,
    pay: Option<PayTable>,
}

/// The full read in progress (one at a time: another one replaces it, and
/// its next page fetches its own again).
#[derive(Debug, Default)]
pub(super) struct Runs(Mutex<Option<Arc<FullRun>>>);

impl Runs {
    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<FullRun>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, id: u64) -> Option<Arc<FullRun>> {
        self.slot().as_ref().filter(|r| r.id == id).cloned()
    }

    fn put(&self, run: Arc<FullRun>) {
        *self.slot() = Some(run);
    }

    fn end(&self, id: u64) {
        let mut slot = self.slot();
        if slot.as_ref().is_some_and(|r| r.id == id) {
            *slot = None;
        }
    }
}

/// A run id no other run of this process takes, and unlikely to be one a
/// cursor of another process carries.
fn next_run_id() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = Utc::now()
        .timestamp_nanos_opt()
        .map_or(0, |n| n.unsigned_abs());
    nanos.wrapping_add(
        COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    )
}

/// One entry of `GET /employees/changed`.
#[derive(Debug, Clone)]
struct Changed {
    id: String,
    action: String,
    at: DateTime<Utc>,
}

fn protocol(message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::Protocol, message).with_system(SystemId::bamboohr())
}

/// BambooHR's timestamps: ISO 8601 with an offset, or `YYYY-MM-DD
/// HH:MM:SS` in UTC.
pub(super) fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%z") {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%d %H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

/// An id sent as a string or a number.
fn id_text(v: Option<&Value>) -> Option<String> {
    crate::web::id_text(v?)
}

/// Ids order as numbers (BambooHR's are), others after them as text.
fn id_key(id: &str) -> (u64, String) {
    (id.parse().unwrap_or(u64::MAX), id.to_owned())
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A custom report's answer: the rows, and the fields it answered
/// (`None` when it did not list them).
#[derive(Debug, Default)]
struct Report {
    rows: Vec<Map<String, Value>>,
    listed: Option<BTreeSet<String>>,
}

impl BambooHrConnector {
    /// Every entry of the changed feed since `since`, oldest first.
    async fn changed_since(&self, since: DateTime<Utc>) -> Result<Vec<Changed>> {
        let path = format!("/employees/changed?since={}", iso(since));
        let answer = self.request(Method::GET, &path, None).await?;
        let employees = match answer.get("employees") {
            Some(Value::Object(m)) => m.clone(),
            // PHP's empty map is `[]`.
            Some(Value::Array(a)) if a.is_empty() => Map::new(),
            Some(Value::Null) | None => Map::new(),
            Some(_) => return Err(protocol("employees/changed: `employees` is not a map")),
        };
        let mut out = Vec::with_capacity(employees.len());
        for (key, entry) in &employees {
            let id = id_text(entry.get("id")).unwrap_or_else(|| key.clone());
            let action = entry
                .get("action")
                .and_then(Value::as_str)
                .unwrap_or("Updated")
                .to_owned();
            let raw = entry
                .get("lastChanged")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let at = parse_instant(raw).ok_or_else(|| {
                protocol(format!(
                    "employees/changed: employee {id} has no readable lastChanged: `{raw}`"
                ))
            })?;
            out.push(Changed { id, action, at });
        }
        out.sort_by_key(|c| (c.at, id_key(&c.id)));
        Ok(out)
    }

    /// The custom report of the mapped fields, for every employee or for
    /// `ids`, ordered by id, with the fields it answers. BambooHR leaves
    /// out, with 200, a field that does not exist or that the key may not
    /// see: from its `fields` list and from every row.
    async fn report(&self, ids: Option<&[String]>) -> Result<Report> {
        let mut names: BTreeSet<&str> = self.fields.iter().flat_map(|f| f.sources()).collect();
        names.insert("lastChanged");
        let mut body = json!({
            "title": "connectors sync",
            "fields": names.into_iter().collect::<Vec<_>>(),
        });
        if let Some(ids) = ids {
            let numbers: Vec<Value> = ids
                .iter()
                .map(|id| {
                    id.parse::<u64>()
                        .map_or_else(|_| Value::String(id.clone()), Value::from)
                })
                .collect();
            body["filters"] = json!({ "employeeIds": numbers });
        }
        let answer = self
            .request(
                Method::POST,
                "/reports/custom?format=JSON&onlyCurrent=true",
                Some(&body),
            )
            .await?;
        let rows = answer
            .get("employees")
            .and_then(Value::as_array)
            .ok_or_else(|| protocol("reports/custom: the answer has no `employees` list"))?;
        let mut out: Vec<Map<String, Value>> = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let row = row.as_object().ok_or_else(|| {
                protocol(format!("reports/custom: employee {i} is not an object"))
            })?;
            if id_text(row.get("id")).is_none() {
                return Err(protocol(format!("reports/custom: employee {i} has no id")));
            }
            out.push(row.clone());
        }
        out.sort_by_key(|r| id_key(&id_text(r.get("id")).unwrap_or_default()));
        let listed = answer
            .get("fields")
            .and_then(Value::as_array)
            .map(|fields| fields.iter().filter_map(|f| id_text(f.get("id"))).collect());
        Ok(Report { rows: out, listed })
    }

    /// A report row as a change; `cost_rate` from the employee's rows of
    /// `pay` (when read: `None` leaves it out).
    fn decode_row(
        &self,
        row: &Map<String, Value>,
        listed: Option<&BTreeSet<String>>,
        at: DateTime<Utc>,
        today: NaiveDate,
        pay: Option<&PayTable>,
    ) -> Result<SourceChange<Employee>> {
        let id = id_text(row.get("id")).unwrap_or_default();
        let mut record = Employee::default();
        let mut fields = Vec::with_capacity(self.fields.len() + 1);
        let mut manager = None;
        // A field the report left out is not claimed: its value is
        // unknown, not empty, and must clear nothing elsewhere.
        let answered = |m: &FieldMap| listed.is_none_or(|l| m.sources().all(|s| l.contains(s)));
        for m in self.fields.iter().filter(|m| answered(m)) {
            match decode(m, row, self.currency, today) {
                Ok(Decoded::Value(value)) => match record.set(&m.canonical, value) {
                    Ok(()) => fields.push(m.canonical.clone()),
                    Err(e) => {
                        return Err(ConnectorError::new(
                            ConnectorErrorKind::Configuration,
                            format!("field map `{}`: {e}", m.canonical),
                        )
                        .with_system(SystemId::bamboohr()));
                    }
                },
                Ok(Decoded::Reference(entity, target)) => {
                    manager = target.map(|t| (m.canonical.clone(), entity, t));
                    fields.push(m.canonical.clone());
                }
                Err(why) => tracing::warn!(
                    employee = %id, field = %m.canonical,
                    "BambooHR value left out: {why}"
                ),
            }
        }
        if let Some(rows) = pay.and_then(|p| p.get(&id))
            && let Some(rate) = self.cost_rate(&id, rows, today)
        {
            record.cost_rate = Some(rate);
            fields.push("cost_rate".to_owned());
        }
        let mut change = SourceChange::upsert(id, at, record);
        if let Some((field, entity, target)) = manager {
            change = change.with_ref(field, Reference::new(entity, target));
        }
        Ok(change.with_fields(fields))
    }

    /// The first read: the instant it stands for and the ids changed then.
    async fn start_full(&self) -> Result<EmployeeCursor> {
        let all = self.changed_since(DateTime::UNIX_EPOCH).await?;
        let since = all.last().map_or(DateTime::UNIX_EPOCH, |c| c.at);
        let seen = all
            .iter()
            .filter(|c| c.at == since)
            .map(|c| c.id.clone())
            .collect();
        Ok(EmployeeCursor {
            since,
            seen,
            after: Some(0),
            run: None,
            held: Vec::new(),
        })
    }

    /// The report and compensation table of the full read `run`: those
    /// fetched on its first page, or (a new run, or one this connector no
    /// longer holds) fetched now, once for all its pages.
    async fn full_run(&self, run: Option<u64>) -> Result<Arc<FullRun>> {
        if let Some(id) = run
            && let Some(held) = self.runs.get(id)
        {
            return Ok(held);
        }
        let report = self.report(None).await?;
        let pay = if self.reads_pay() {
            self.pay_all().await?
        } else {
            None
        };
        let run = Arc::new(FullRun {
            id: next_run_id(),
            report,
            pay,
        });
        self.runs.put(Arc::clone(&run));
        Ok(run)
    }

    async fn read_full(&self, cursor: EmployeeCursor, limit: usize) -> Result<Page<Employee>> {
        let after = cursor.after.unwrap_or(0);
        let run = self.full_run(cursor.run).await?;
        let report = &run.report;
        let rest: Vec<&Map<String, Value>> = report
            .rows
            .iter()
            .filter(|r| {
                id_text(r.get("id"))
                    .and_then(|id| id.parse::<u64>().ok())
                    .is_some_and(|id| id > after)
            })
            .collect();
        let today = Utc::now().date_naive();
        let mut changes = Vec::with_capacity(limit.min(rest.len()));
        let mut last = after;
        for row in rest.iter().take(limit) {
            let at = row
                .get("lastChanged")
                .and_then(Value::as_str)
                .and_then(parse_instant)
                .unwrap_or(cursor.since);
            changes.push(self.decode_row(
                row,
                report.listed.as_ref(),
                at,
                today,
                run.pay.as_ref(),
            )?);
            last = id_text(row.get("id"))
                .and_then(|id| id.parse().ok())
                .unwrap_or(last);
        }
        let has_more = rest.len() > limit;
        if !has_more {
            self.runs.end(run.id);
        }
        let next = EmployeeCursor {
            after: has_more.then_some(last),
            run: has_more.then_some(run.id),
            ..cursor
        };
        Ok(Page {
            changes,
            next: encode(&next)?,
            has_more,
        })
    }

    async fn read_changes(&self, cursor: EmployeeCursor, limit: usize) -> Result<Page<Employee>> {
        // Ask from a second earlier, whether BambooHR's `since` is
        // inclusive or not; what was handed out is filtered here.
        let from = cursor.since - TimeDelta::seconds(1);
        let cutoff = (!self.settle.is_zero())
            .then(|| Utc::now() - TimeDelta::from_std(self.settle).unwrap_or(TimeDelta::MAX));
        let fresh: Vec<Changed> = self
            .changed_since(from.max(DateTime::UNIX_EPOCH))
            .await?
            .into_iter()
            .filter(|c| {
                c.at > cursor.since || (c.at == cursor.since && !cursor.seen.contains(&c.id))
            })
            .filter(|c| cutoff.is_none_or(|cut| c.at <= cut))
            .collect();
        // A held change the log lists again is handed out with that entry.
        let listed: BTreeSet<&str> = fresh.iter().map(|c| c.id.as_str()).collect();
        let mut held: Vec<Held> = cursor
            .held
            .iter()
            .filter(|h| !listed.contains(h.id.as_str()))
            .cloned()
            .collect();
        let taken: Vec<&Changed> = fresh.iter().take(limit).collect();
        let has_more = fresh.len() > taken.len();
        // Held changes are asked again in the room the page has left.
        let retry: Vec<Held> = held
            .drain(..(limit - taken.len()).min(held.len()))
            .collect();
        let upserts: Vec<(&str, DateTime<Utc>)> = retry
            .iter()
            .map(|h| (h.id.as_str(), h.at))
            .chain(
                taken
                    .iter()
                    .filter(|c| !c.action.eq_ignore_ascii_case("deleted"))
                    .map(|c| (c.id.as_str(), c.at)),
            )
            .collect();
        let ids: Vec<String> = upserts.iter().map(|(id, _)| (*id).to_owned()).collect();
        let report = if ids.is_empty() {
            Report::default()
        } else {
            self.report(Some(&ids)).await?
        };
        // One read of the changed employees' compensation rows.
        let pay = match upserts.iter().map(|(_, at)| *at).min() {
            Some(oldest) if self.reads_pay() => {
                let since = (oldest - TimeDelta::seconds(1)).max(DateTime::UNIX_EPOCH);
                self.pay_changed(since).await?
            }
            _ => None,
        };
        let today = Utc::now().date_naive();
        let row_of = |id: &str| {
            report
                .rows
                .iter()
                .find(|r| id_text(r.get("id")).as_deref() == Some(id))
        };
        let mut changes = Vec::with_capacity(taken.len() + retry.len());
        let mut missing = Vec::new();
        let pending = retry
            .iter()
            .map(|h| (h.id.as_str(), h.at, false))
            .chain(taken.iter().map(|c| {
                let deleted = c.action.eq_ignore_ascii_case("deleted");
                (c.id.as_str(), c.at, deleted)
            }));
        for (id, at, deleted) in pending {
            if deleted {
                changes.push(SourceChange::delete(id.to_owned(), at));
                continue;
            }
            match row_of(id) {
                Some(row) => changes.push(self.decode_row(
                    row,
                    report.listed.as_ref(),
                    at,
                    today,
                    pay.as_ref(),
                )?),
                None => {
                    // Not readable yet (the report lags the log, or the
                    // key may not see it): kept for the next read.
                    tracing::warn!(
                        employee = %id,
                        "changed employee not in the report (not visible to the key, or not yet): asked again next read"
                    );
                    missing.push(Held {
                        id: id.to_owned(),
                        at,
                    });
                }
            }
        }
        held.extend(missing);
        held.sort_by_key(|h| (h.at, id_key(&h.id)));
        let mut next = match taken.last() {
            None => cursor,
            Some(last) => {
                let mut seen: Vec<String> = if last.at == cursor.since {
                    cursor.seen
                } else {
                    Vec::new()
                };
                seen.extend(
                    taken
                        .iter()
                        .filter(|c| c.at == last.at)
                        .map(|c| c.id.clone()),
                );
                EmployeeCursor {
                    since: last.at,
                    seen,
                    after: None,
                    run: None,
                    held: Vec::new(),
                }
            }
        };
        next.held = held;
        Ok(Page {
            changes,
            next: encode(&next)?,
            has_more,
        })
    }
}

fn encode(cursor: &EmployeeCursor) -> Result<Cursor> {
    serde_json::to_string(cursor)
        .map(Cursor::new)
        .map_err(|e| protocol(format!("cannot encode the cursor: {e}")))
}

#[async_trait]
impl Source<Employee> for BambooHrConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<Employee>> {
        let limit = limit.max(1);
        let cursor = match since {
            None => self.start_full().await?,
            Some(c) => serde_json::from_str::<EmployeeCursor>(c.as_str()).map_err(|e| {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    format!("`{}` is not a BambooHR employee cursor: {e}", c.as_str()),
                )
                .with_system(SystemId::bamboohr())
            })?,
        };
        if cursor.after.is_some() {
            self.read_full(cursor, limit).await
        } else {
            self.read_changes(cursor, limit).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn hourly_from_periods() {
        let Ok(c) = BambooHrConnector::new("acme", "k") else {
            panic!("connector");
        };
        assert_eq!(
            c.hourly(Decimal::from(104_000), "Year"),
            Some(Decimal::from(50))
        );
        assert_eq!(
            c.hourly(Decimal::new(8550, 2), "Hour"),
            Some(Decimal::new(855, 1))
        );
        assert_eq!(c.hourly(Decimal::from(400), "Day"), Some(Decimal::from(50)));
        assert_eq!(
            c.hourly(Decimal::from(100_000), "Year"),
            Some(Decimal::new(480_769, 4))
        );
        assert_eq!(c.hourly(Decimal::from(1), "Piece"), None);
    }

    #[test]
    fn instants() {
        let t = parse_instant("2026-01-02T03:04:05+00:00");
        assert_eq!(t.map(iso).as_deref(), Some("2026-01-02T03:04:05Z"));
        assert!(parse_instant("2026-01-02 03:04:05").is_some());
        assert!(parse_instant("yesterday").is_none());
    }
}
