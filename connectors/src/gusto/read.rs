//! Reading: employees, payrolls, pay statements and time off.

use super::GustoConnector;
use super::http;
use super::wire::{WireEmployee, WireEmployeeCompensation, WirePayroll, WireTimeOff};
use crate::connector::{Cursor, Page, Reference, Source, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use chrono::{Days, NaiveDate, Utc};
use odoo_integration_model::{
    ApprovalState, Currency, Employee, EmploymentStatus, Money, PayStatement, PayrollRun, TimeOff,
};
use reqwest::Method;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The most Gusto answers per page.
const MAX_PER: usize = 100;
/// How far ahead Gusto lists payrolls (`end_date` at most three months
/// in the future).
const AHEAD_DAYS: u64 = 90;
/// The longest payroll window Gusto accepts (`start_date` and `end_date`
/// at most a year apart).
const WINDOW_DAYS: u64 = 364;
/// How much consecutive windows overlap, so a pay period that straddles
/// two windows is inside one of them.
const OVERLAP_DAYS: u64 = 31;
impl WirePayroll {
    fn period_end(&self) -> Result<Option<NaiveDate>> {
        let what = format!("payroll {}", self.id().unwrap_or("?"));
        date(
            &what,
            "pay_period.end_date",
            self.pay_period.as_ref().and_then(|p| p.end_date.as_deref()),
        )
    }
}

fn protocol(message: String) -> ConnectorError {
    http::error(ConnectorErrorKind::Protocol, message, None)
}

/// A `YYYY-MM-DD` field; empty or absent is `None`, anything else a
/// protocol error naming the record and the field.
fn date(what: &str, field: &str, text: Option<&str>) -> Result<Option<NaiveDate>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| protocol(format!("{what}: field `{field}`: `{t}` is not a date"))),
    }
}

fn non_empty(s: Option<&str>) -> Option<String> {
    s.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn bad_cursor(cursor: &Cursor) -> ConnectorError {
    http::error(
        ConnectorErrorKind::Configuration,
        format!("`{}` is not a cursor of this Gusto read", cursor.as_str()),
        None,
    )
}

fn decode_cursor<T: for<'de> Deserialize<'de>>(since: Option<&Cursor>) -> Result<Option<T>> {
    since
        .map(|c| serde_json::from_str(c.as_str()).map_err(|_| bad_cursor(c)))
        .transpose()
}

fn encode_cursor<T: Serialize>(cursor: &T) -> Result<Cursor> {
    serde_json::to_string(cursor)
        .map(Cursor::new)
        .map_err(|e| protocol(format!("cannot encode the cursor: {e}")))
}

/// A position in a list read through from the start on every run.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct OffsetCursor {
    offset: usize,
}

/// A position in the windows of payrolls by pay period.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct WindowCursor {
    /// The window's first day.
    from: NaiveDate,
    /// Payrolls of the window already passed.
    #[serde(default)]
    offset: usize,
    /// Statements of the payroll at `offset` already handed out.
    #[serde(default, skip_serializing_if = "is_zero")]
    statement: usize,
    /// The previous window's last day: payrolls ending by then were read
    /// in that window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<NaiveDate>,
    /// A payroll listed as processed at `offset` that was no longer
    /// processed when read: it has left the list, so `offset` now points
    /// at the payroll after it (unless the list still shows it there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reopened: Option<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn employee_change(
    e: WireEmployee,
    at: chrono::DateTime<Utc>,
    personal_as_work: bool,
) -> Result<SourceChange<Employee>> {
    let what = format!("employee {}", e.uuid);
    let jobs = e.jobs.unwrap_or_default();
    let primary = jobs
        .iter()
        .find(|j| j.primary == Some(true))
        .or_else(|| jobs.first());
    let name = [e.first_name.as_deref(), e.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let terminations = e.terminations.unwrap_or_default();
    let mut ends = Vec::new();
    for t in &terminations {
        if let Some(d) = date(
            &what,
            "terminations.effective_date",
            t.effective_date.as_deref(),
        )? {
            ends.push((t.active == Some(true), d));
        }
    }
    let termination_date = ends
        .iter()
        .filter(|(active, _)| *active)
        .map(|(_, d)| *d)
        .max()
        .or_else(|| ends.iter().map(|(_, d)| *d).max());
    let terminated = e.terminated == Some(true);
    // The hourly rate of the primary job's current compensation.
    let mut cost_known = false;
    let mut cost_rate = None;
    if let Some(job) = primary {
        let comps = job.compensations.as_deref().unwrap_or_default();
        let current = comps
            .iter()
            .find(|c| c.uuid.is_some() && c.uuid == job.current_compensation_uuid)
            .or_else(|| comps.first());
        let (rate, unit) = match current {
            Some(c) => (c.rate, c.payment_unit.as_deref()),
            None => (job.rate, job.payment_unit.as_deref()),
        };
        if let (Some(rate), Some(unit)) = (rate, unit)
            && unit.eq_ignore_ascii_case("hour")
        {
            cost_known = true;
            cost_rate = Some(Money::new(rate.0, Currency::USD));
        }
    }
    let employee = Employee {
        employee_number: e.employee_code.unwrap_or_default(),
        name,
        // `email` is the personal address: a work email only if asked.
        work_email: non_empty(e.work_email.as_deref()).or_else(|| {
            personal_as_work
                .then(|| non_empty(e.email.as_deref()))
                .flatten()
        }),
        department: non_empty(e.department.as_deref()),
        job_title: primary.and_then(|j| non_empty(j.title.as_deref())),
        manager: None,
        status: if terminated {
            EmploymentStatus::Terminated
        } else {
            EmploymentStatus::Active
        },
        cost_rate,
        bill_rate: None,
        hire_date: date(
            &what,
            "jobs.hire_date",
            primary.and_then(|j| j.hire_date.as_deref()),
        )?,
        termination_date: if terminated { termination_date } else { None },
        work_phone: None,
        work_calendar: None,
    };
    let mut fields = vec![
        "employee_number",
        "name",
        "work_email",
        "department",
        "job_title",
        "manager",
        "status",
        "hire_date",
        "termination_date",
    ];
    if cost_known {
        fields.push("cost_rate");
    }
    let mut change = SourceChange::upsert(e.uuid, at, employee).with_fields(fields);
    if let Some(manager) = non_empty(e.manager_uuid.as_deref()) {
        change = change.with_ref("manager", Reference::new("employee", manager));
    }
    Ok(change)
}

impl GustoConnector {
    fn today(&self) -> NaiveDate {
        Utc::now().date_naive()
    }

    /// Where the lookback starts today.
    fn lookback_start(&self) -> NaiveDate {
        let from = self
            .today()
            .checked_sub_days(Days::new(self.inner.lookback_days))
            .unwrap_or(NaiveDate::MIN);
        match self.inner.history_start {
            Some(h) if h > from => h,
            _ => from,
        }
    }

    fn first_window(&self) -> WindowCursor {
        WindowCursor {
            from: self
                .inner
                .history_start
                .unwrap_or_else(|| self.lookback_start()),
            offset: 0,
            statement: 0,
            after: None,
            reopened: None,
        }
    }

    /// The window starting at `from`: its last day, and whether it is the
    /// last window (it reaches as far ahead as Gusto lists).
    fn window_end(&self, from: NaiveDate) -> (NaiveDate, bool) {
        let horizon = self
            .today()
            .checked_add_days(Days::new(AHEAD_DAYS))
            .unwrap_or(NaiveDate::MAX);
        let end = from
            .checked_add_days(Days::new(WINDOW_DAYS))
            .unwrap_or(NaiveDate::MAX);
        if end >= horizon {
            (horizon, true)
        } else {
            (end, false)
        }
    }

    /// The cursor after the window of `c` is read through: the next
    /// window, or (after the last) the lookback again.
    fn after_window(&self, c: &WindowCursor) -> (WindowCursor, bool) {
        let (end, last) = self.window_end(c.from);
        if last {
            let restart = WindowCursor {
                from: self.lookback_start(),
                offset: 0,
                statement: 0,
                after: None,
                reopened: None,
            };
            (restart, false)
        } else {
            let next = WindowCursor {
                from: end.checked_sub_days(Days::new(OVERLAP_DAYS)).unwrap_or(end),
                offset: 0,
                statement: 0,
                after: Some(end),
                reopened: None,
            };
            (next, true)
        }
    }

    /// A window's payrolls from `offset`, at most `per`: the payrolls
    /// (those at or after `offset`) and whether the window has more after
    /// them.
    async fn list_payrolls(
        &self,
        c: &WindowCursor,
        statuses: &str,
        per: usize,
    ) -> Result<(Vec<WirePayroll>, bool)> {
        let per = per.clamp(1, MAX_PER);
        let (end, _) = self.window_end(c.from);
        let page = c.offset / per + 1;
        let skip = c.offset % per;
        let path = self.company_path(&format!(
            "/payrolls?processing_statuses={statuses}&payroll_types=regular,off_cycle&start_date={}&end_date={end}&page={page}&per={per}",
            c.from
        ));
        let (headers, payrolls): (_, Vec<WirePayroll>) =
            self.call_json(Method::GET, &path, None).await?;
        let listed = payrolls.len();
        let taken: Vec<WirePayroll> = payrolls.into_iter().skip(skip).collect();
        let reached = c.offset + taken.len();
        let more = match http::header_number(&headers, "x-total-count") {
            Some(total) => reached < total,
            None => listed == per,
        };
        Ok((taken, more))
    }

    /// Whether a payroll of window `c` was read in the window before.
    fn read_before(c: &WindowCursor, p: &WirePayroll) -> Result<bool> {
        Ok(match (c.after, p.period_end()?) {
            (Some(after), Some(end)) => end <= after,
            _ => false,
        })
    }

    /// One page of a payroll's employee compensations (100 at most), from
    /// index `from`: the payroll, and whether there are more after.
    pub(super) async fn payroll_page(
        &self,
        payroll: &str,
        from: usize,
    ) -> Result<(WirePayroll, bool)> {
        let page = from / MAX_PER + 1;
        let skip = from % MAX_PER;
        let path = self.company_path(&format!(
            "/payrolls/{}?page={page}&per={MAX_PER}",
            http::percent_encode(payroll)
        ));
        let (headers, mut p): (_, WirePayroll) = self.call_json(Method::GET, &path, None).await?;
        let comps = p.employee_compensations.take().unwrap_or_default();
        let listed = comps.len();
        let taken: Vec<WireEmployeeCompensation> = comps.into_iter().skip(skip).collect();
        let reached = from + taken.len();
        let more = match http::header_number(&headers, "x-total-count") {
            Some(total) => reached < total,
            None => listed == MAX_PER,
        };
        p.employee_compensations = Some(taken);
        Ok((p, more))
    }
}

#[async_trait]
impl Source<Employee> for GustoConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<Employee>> {
        let c: OffsetCursor = decode_cursor(since)?.unwrap_or_default();
        let per = limit.clamp(1, MAX_PER);
        let page = c.offset / per + 1;
        let skip = c.offset % per;
        let path = self.company_path(&format!("/employees?page={page}&per={per}"));
        let (headers, employees): (_, Vec<WireEmployee>) =
            self.call_json(Method::GET, &path, None).await?;
        let listed = employees.len();
        let at = Utc::now();
        let mut changes = Vec::new();
        for e in employees.into_iter().skip(skip) {
            changes.push(employee_change(e, at, self.inner.personal_email_as_work)?);
        }
        let reached = c.offset + changes.len();
        let more = match http::header_number(&headers, "x-total-count") {
            Some(total) => reached < total,
            None => listed == per,
        };
        let next = OffsetCursor {
            offset: if more { reached } else { 0 },
        };
        Ok(Page {
            changes,
            next: encode_cursor(&next)?,
            has_more: more,
        })
    }
}

#[async_trait]
impl Source<PayrollRun> for GustoConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<PayrollRun>> {
        let c: WindowCursor = decode_cursor(since)?.unwrap_or_else(|| self.first_window());
        let (payrolls, more) = self
            .list_payrolls(&c, "processed,unprocessed", limit)
            .await?;
        let at = Utc::now();
        let mut changes = Vec::new();
        let passed = payrolls.len();
        for p in payrolls {
            if Self::read_before(&c, &p)? {
                continue;
            }
            let Some(id) = p.id().map(str::to_owned) else {
                return Err(protocol("a payroll without a uuid".into()));
            };
            let what = format!("payroll {id}");
            let period = p.pay_period.as_ref();
            let run = PayrollRun {
                period_start: date(
                    &what,
                    "pay_period.start_date",
                    period.and_then(|p| p.start_date.as_deref()),
                )?,
                period_end: p.period_end()?,
                pay_date: date(&what, "check_date", p.check_date.as_deref())?,
            };
            changes.push(SourceChange::upsert(id, at, run));
        }
        let (next, has_more) = if more {
            let mut n = c.clone();
            n.offset += passed;
            (n, true)
        } else {
            self.after_window(&c)
        };
        Ok(Page {
            changes,
            next: encode_cursor(&next)?,
            has_more,
        })
    }
}

#[async_trait]
impl Source<PayStatement> for GustoConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<PayStatement>> {
        let c: WindowCursor = decode_cursor(since)?.unwrap_or_else(|| self.first_window());
        let (payrolls, _) = self.list_payrolls(&c, "processed", 1).await?;
        let Some(listed) = payrolls.into_iter().next() else {
            // The window is read through.
            let (next, has_more) = self.after_window(&c);
            return Ok(Page {
                changes: Vec::new(),
                next: encode_cursor(&next)?,
                has_more,
            });
        };
        let next_payroll = |c: &WindowCursor| {
            let mut n = c.clone();
            n.offset += 1;
            n.statement = 0;
            n.reopened = None;
            n
        };
        let Some(id) = listed.id().map(str::to_owned) else {
            return Err(protocol("a payroll without a uuid".into()));
        };
        let skip = Self::read_before(&c, &listed)?
            || listed.processed == Some(false)
            || c.reopened.as_deref() == Some(id.as_str());
        if skip {
            return Ok(Page {
                changes: Vec::new(),
                next: encode_cursor(&next_payroll(&c))?,
                has_more: true,
            });
        }
        let (payroll, more) = self.payroll_page(&id, c.statement).await?;
        if payroll.processed != Some(true) {
            // Reopened (cancelled) since it was listed: Gusto gives gross
            // and net pay only once a payroll is processed, and no
            // compensations at all until it is calculated again. Its
            // statements are read once it is processed again; it has left
            // the list, so the same offset is the next payroll.
            let mut n = c.clone();
            n.statement = 0;
            n.reopened = Some(id);
            return Ok(Page {
                changes: Vec::new(),
                next: encode_cursor(&n)?,
                has_more: true,
            });
        }
        let at = Utc::now();
        let limit = limit.max(1);
        let comps = payroll.employee_compensations.unwrap_or_default();
        let available = comps.len();
        let mut changes = Vec::new();
        for comp in comps.into_iter().take(limit) {
            let statement = PayStatement {
                run: None,
                employee: None,
                gross: comp.gross_pay.map(|a| Money::new(a.0, Currency::USD)),
                net: comp.net_pay.map(|a| Money::new(a.0, Currency::USD)),
                hours: comp.regular().and_then(|h| h.hours).map(|a| a.0),
            };
            changes.push(
                SourceChange::upsert(format!("{id}:{}", comp.employee_uuid), at, statement)
                    .with_ref("run", Reference::new("payroll_run", id.clone()))
                    .with_ref(
                        "employee",
                        Reference::new("employee", comp.employee_uuid.clone()),
                    )
                    .with_fields(["run", "employee", "gross", "net", "hours"]),
            );
        }
        let next = if changes.len() < available || more {
            let mut n = c.clone();
            n.statement += changes.len();
            n
        } else {
            next_payroll(&c)
        };
        Ok(Page {
            changes,
            next: encode_cursor(&next)?,
            has_more: true,
        })
    }
}

#[async_trait]
impl Source<TimeOff> for GustoConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<TimeOff>> {
        let c: OffsetCursor = decode_cursor(since)?.unwrap_or_default();
        let path = self.company_path(&format!(
            "/time_off_requests?start_date={}",
            self.lookback_start()
        ));
        let (_, requests): (_, Vec<WireTimeOff>) = self.call_json(Method::GET, &path, None).await?;
        let mut rows = Vec::with_capacity(requests.len());
        for r in requests {
            let what = format!("time off request {}", r.uuid);
            let mut days = Vec::new();
            let mut hours = Decimal::ZERO;
            let mut any_hours = false;
            for (day, h) in r.days.iter().flatten() {
                if let Some(d) = date(&what, "days", Some(day))? {
                    days.push(d);
                }
                if let Some(h) = h {
                    hours += h.0;
                    any_hours = true;
                }
            }
            let approval = match r.status.as_deref() {
                Some("approved" | "consumed") => ApprovalState::Approved,
                Some("declined") => ApprovalState::Rejected,
                Some("pending") => ApprovalState::Submitted,
                _ => ApprovalState::Draft,
            };
            let record = TimeOff {
                employee: None,
                kind: non_empty(r.policy_type.as_deref())
                    .or_else(|| non_empty(r.request_type.as_deref())),
                start: days.iter().min().copied(),
                end: days.iter().max().copied(),
                hours: any_hours.then_some(hours),
                approval,
            };
            rows.push((record.start, r.uuid, r.employee.map(|e| e.uuid), record));
        }
        rows.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let total = rows.len();
        let at = Utc::now();
        let changes: Vec<SourceChange<TimeOff>> = rows
            .into_iter()
            .skip(c.offset)
            .take(limit.max(1))
            .map(|(_, uuid, employee, record)| {
                let change = SourceChange::upsert(uuid, at, record)
                    .with_fields(["employee", "kind", "start", "end", "hours", "approval"]);
                match employee {
                    Some(e) => change.with_ref("employee", Reference::new("employee", e)),
                    None => change,
                }
            })
            .collect();
        let reached = c.offset + changes.len();
        let more = reached < total;
        let next = OffsetCursor {
            offset: if more { reached } else { 0 },
        };
        Ok(Page {
            changes,
            next: encode_cursor(&next)?,
            has_more: more,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn an_employee_maps() {
        let e: WireEmployee = serde_json::from_value(serde_json::json!({
            "uuid": "e1", "first_name": "Ann", "last_name": "Lee", "email": "ann@home.example",
            "work_email": null, "terminated": true, "employee_code": "46f036",
            "terminations": [{"active": true, "effective_date": "2025-03-31"}],
            "jobs": [{"primary": true, "title": "Consultant", "hire_date": "2024-06-09",
                      "current_compensation_uuid": "c1", "rate": "80000.00", "payment_unit": "Year",
                      "compensations": [{"uuid": "c1", "rate": "55.50", "payment_unit": "Hour"}]}]
        }))
        .unwrap();
        // The personal address is a work email only when asked for.
        let again: WireEmployee = serde_json::from_value(serde_json::json!({
            "uuid": "e1", "first_name": "Ann", "last_name": "Lee", "email": "ann@home.example",
        }))
        .unwrap();
        let opted = employee_change(again, Utc::now(), true).unwrap();
        let crate::Operation::Upsert(emp) = opted.operation else {
            panic!("an upsert")
        };
        assert_eq!(emp.work_email.as_deref(), Some("ann@home.example"));
        let c = employee_change(e, Utc::now(), false).unwrap();
        let crate::Operation::Upsert(emp) = c.operation else {
            panic!("an upsert")
        };
        assert_eq!(emp.name, "Ann Lee");
        assert_eq!(emp.work_email, None);
        assert_eq!(emp.status, EmploymentStatus::Terminated);
        assert_eq!(emp.termination_date.unwrap().to_string(), "2025-03-31");
        assert_eq!(emp.cost_rate.unwrap().amount().to_string(), "55.50");
        assert!(c.fields.unwrap().contains(&"cost_rate".to_owned()));
    }
}
