//! Writing hours into unprocessed payrolls, with one re-merge and retry
//! on a stale version (409).

use super::GustoConnector;
use super::http;
use super::wire::{REGULAR_HOURS, WireEmployeeCompensation, WirePayroll};
use crate::connector::{Operation, Outcome, Sink, SinkRecord, fill_outcomes};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use odoo_integration_model::{
    CanonicalId, CanonicalRecord, Change, FieldValue, PayStatement, Policy, RemoteId, SystemId,
    merge,
};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::{BTreeMap, HashMap};

/// Gusto takes at most 100 employee compensations per `PUT`.
const MAX_PUT: usize = 100;

/// One statement's hours to write.
struct Wanted {
    slot: usize,
    employee: String,
    hours: Decimal,
    origin: SystemId,
}

/// A payroll as the write needs it.
struct Fetched {
    processed: bool,
    /// Whether `by_employee` is a prepare's answer (with the versions an
    /// update needs) rather than a calculated payroll's `GET`.
    prepared: bool,
    by_employee: HashMap<String, WireEmployeeCompensation>,
}

/// What the re-merge decided for one employee.
enum Remerge {
    /// Our hours apply: send them with the fresh version.
    Write,
    /// Gusto already holds our hours.
    Same,
    /// Gusto's fresh value is kept, for this reason.
    Kept(String),
}

/// A copy of an error for each record it fails.
fn copy(e: &ConnectorError) -> ConnectorError {
    let c = if e.kind() == ConnectorErrorKind::RateLimited {
        ConnectorError::rate_limited(e.message().to_owned(), e.retry_after())
    } else {
        ConnectorError::new(e.kind(), e.message().to_owned())
    };
    c.with_system(SystemId::gusto())
}

fn fail(kind: ConnectorErrorKind, message: String) -> Outcome {
    Outcome::Failed(http::error(kind, message, None))
}

fn remote_id(payroll: &str, employee: &str) -> RemoteId {
    RemoteId::new(format!("{payroll}:{employee}"))
}

fn hours_text(h: Decimal) -> String {
    // Gusto keeps hours to the thousandth.
    format!("{:.3}", h.round_dp(3))
}

impl GustoConnector {
    /// The payroll as it stands, for `employees`: one `GET` (paged by 100
    /// while it lists compensations). A processed payroll stops there. A
    /// calculated one lists its compensations (hours, no versions): they
    /// are read without a `prepare`, which would drop the calculation. One
    /// that is not calculated lists none, so those employees are prepared
    /// (`PUT …/prepare`: there is no calculation to lose).
    async fn fetch_for_write(&self, payroll: &str, employees: &[&str]) -> Result<Fetched> {
        let (head, mut more) = self.payroll_page(payroll, 0).await?;
        if head.processed == Some(true) {
            return Ok(Fetched {
                processed: true,
                prepared: false,
                by_employee: HashMap::new(),
            });
        }
        let calculated = head
            .calculated_at
            .as_deref()
            .is_some_and(|t| !t.trim().is_empty());
        if !calculated {
            return Ok(Fetched {
                processed: false,
                prepared: true,
                by_employee: self.prepare(payroll, employees).await?,
            });
        }
        let keep = |c: &WireEmployeeCompensation| employees.contains(&c.employee_uuid.as_str());
        let mut by_employee = HashMap::new();
        let mut seen = 0;
        let mut page = head.employee_compensations.unwrap_or_default();
        loop {
            seen += page.len();
            let got = page.len();
            for c in page.into_iter().filter(keep) {
                by_employee.insert(c.employee_uuid.clone(), c);
            }
            if !more || got == 0 {
                break;
            }
            let (next, again) = self.payroll_page(payroll, seen).await?;
            page = next.employee_compensations.unwrap_or_default();
            more = again;
        }
        Ok(Fetched {
            processed: false,
            prepared: false,
            by_employee,
        })
    }

    /// `PUT …/prepare` for `employees` (by 100, paged by 100): their
    /// compensations with the `version`s an update must carry. Gusto drops
    /// the payroll's calculation (`calculated_at`, `totals`) when it
    /// prepares.
    async fn prepare(
        &self,
        payroll: &str,
        employees: &[&str],
    ) -> Result<HashMap<String, WireEmployeeCompensation>> {
        let mut by_employee = HashMap::new();
        for chunk in employees.chunks(MAX_PUT) {
            let body = serde_json::to_vec(&json!({ "employee_uuids": chunk })).map_err(|e| {
                http::error(
                    ConnectorErrorKind::Protocol,
                    format!("encoding employees: {e}"),
                    None,
                )
            })?;
            let mut page = 1;
            loop {
                let path = self.company_path(&format!(
                    "/payrolls/{}/prepare?page={page}&per={MAX_PUT}",
                    http::percent_encode(payroll)
                ));
                let (_, p): (_, WirePayroll) = self
                    .call_json(Method::PUT, &path, Some(body.clone()))
                    .await?;
                let comps = p.employee_compensations.unwrap_or_default();
                let got = comps.len();
                for c in comps {
                    by_employee.insert(c.employee_uuid.clone(), c);
                }
                if got < MAX_PUT {
                    break;
                }
                page += 1;
            }
        }
        Ok(by_employee)
    }

    /// Sorts `wanted` against `fetched`: the records whose hours already
    /// match are [`Outcome::Unchanged`], those that cannot be written fail,
    /// and the rest are returned, to send. Read from a calculated payroll
    /// (not prepared), an employee it does not list is returned too: the
    /// prepare will tell.
    fn to_send<'a>(
        payroll: &str,
        fetched: &Fetched,
        wanted: impl IntoIterator<Item = &'a Wanted>,
        slots: &mut [Option<Outcome>],
    ) -> Vec<&'a Wanted> {
        let mut send = Vec::new();
        for w in wanted {
            let regular = fetched.by_employee.get(&w.employee).map(|c| c.regular());
            match regular {
                Some(Some(r)) if r.hours.map(|h| h.0) == Some(w.hours) => {
                    slots[w.slot] = Some(Outcome::Unchanged(remote_id(payroll, &w.employee)));
                }
                _ if !fetched.prepared => send.push(w),
                None => {
                    slots[w.slot] = Some(fail(
                        ConnectorErrorKind::NotFound,
                        format!("employee {} is not on payroll {payroll}", w.employee),
                    ));
                }
                Some(None) => {
                    slots[w.slot] = Some(fail(
                        ConnectorErrorKind::Invalid,
                        format!(
                            "employee {} has no `{REGULAR_HOURS}` compensation on payroll {payroll} (not paid hourly?)",
                            w.employee
                        ),
                    ));
                }
                Some(Some(_)) => send.push(w),
            }
        }
        send
    }

    /// `PUT` the hours of these employees (with the versions `fetched`
    /// holds).
    async fn put_hours(&self, payroll: &str, fetched: &Fetched, wanted: &[&Wanted]) -> Result<()> {
        let comps: Vec<serde_json::Value> = wanted
            .iter()
            .filter_map(|w| {
                let comp = fetched.by_employee.get(&w.employee)?;
                let mut hourly = json!({"name": REGULAR_HOURS, "hours": hours_text(w.hours)});
                if let Some(job) = comp.regular().and_then(|r| r.job_uuid.clone()) {
                    hourly["job_uuid"] = json!(job);
                }
                Some(json!({
                    "employee_uuid": w.employee,
                    "version": comp.version,
                    "hourly_compensations": [hourly],
                }))
            })
            .collect();
        let body =
            serde_json::to_vec(&json!({ "employee_compensations": comps })).map_err(|e| {
                http::error(
                    ConnectorErrorKind::Protocol,
                    format!("encoding hours: {e}"),
                    None,
                )
            })?;
        let path = self.company_path(&format!("/payrolls/{}", http::percent_encode(payroll)));
        self.call(Method::PUT, &path, Some(body)).await.map(|_| ())
    }

    /// Decides, after a 409, whether our hours still apply over Gusto's
    /// fresh value (see the module docs).
    fn remerge(&self, w: &Wanted, theirs: Option<Decimal>) -> Remerge {
        if theirs == Some(w.hours) {
            return Remerge::Same;
        }
        let default_policy = Policy::default();
        let policy = self.inner.policy.as_ref().unwrap_or(&default_policy);
        let fetched_at = Utc::now();
        let fresh = PayStatement {
            hours: theirs,
            ..PayStatement::default()
        };
        let mut record = CanonicalRecord::seed(
            CanonicalId::new(),
            fresh,
            &PayStatement::default(),
            &SystemId::gusto(),
            "gusto-refetch".into(),
            fetched_at,
        );
        let change = Change::new("gusto-retry", fetched_at + TimeDelta::microseconds(1))
            .with("hours", FieldValue::Decimal(w.hours));
        let shown = theirs.map_or_else(|| "none".to_owned(), hours_text);
        match merge(&mut record, &change, &w.origin, policy) {
            Ok(out) if !out.applied.is_empty() => Remerge::Write,
            Ok(out) if !out.held.is_empty() => Remerge::Kept(format!(
                "the hours changed in Gusto meanwhile (now {shown}) and the policy holds \
                 pay_statement.hours conflicts for review: Gusto's value kept"
            )),
            Ok(out) => {
                let owner = out
                    .refused
                    .first()
                    .and_then(|r| r.owner.as_ref())
                    .map_or_else(|| "another system".to_owned(), |o| o.to_string());
                Remerge::Kept(format!(
                    "the hours changed in Gusto meanwhile (now {shown}) and {owner} owns \
                     pay_statement.hours: Gusto's value kept"
                ))
            }
            Err(e) => Remerge::Kept(format!("the re-merge failed: {e}")),
        }
    }

    /// Writes the hours of one payroll's records into `slots`.
    async fn write_payroll(
        &self,
        payroll: &str,
        wanted: Vec<Wanted>,
        slots: &mut [Option<Outcome>],
    ) {
        let employees: Vec<&str> = wanted.iter().map(|w| w.employee.as_str()).collect();
        let mut fetched = match self.fetch_for_write(payroll, &employees).await {
            Ok(f) => f,
            Err(e) => {
                for w in &wanted {
                    slots[w.slot] = Some(Outcome::Failed(copy(&e)));
                }
                return;
            }
        };
        if fetched.processed {
            for w in &wanted {
                slots[w.slot] = Some(fail(
                    ConnectorErrorKind::Invalid,
                    format!("payroll {payroll} is processed: its hours can no longer change"),
                ));
            }
            return;
        }
        let mut to_send = Self::to_send(payroll, &fetched, &wanted, slots);
        if !fetched.prepared && !to_send.is_empty() {
            // A calculated payroll: only the employees whose hours change
            // are prepared (which drops the calculation), for their
            // versions.
            let employees: Vec<&str> = to_send.iter().map(|w| w.employee.as_str()).collect();
            match self.prepare(payroll, &employees).await {
                Ok(by_employee) => {
                    fetched = Fetched {
                        processed: false,
                        prepared: true,
                        by_employee,
                    };
                }
                Err(e) => {
                    for w in &to_send {
                        slots[w.slot] = Some(Outcome::Failed(copy(&e)));
                    }
                    return;
                }
            }
            to_send = Self::to_send(payroll, &fetched, to_send, slots);
        }
        for chunk in to_send.chunks(MAX_PUT) {
            match self.put_hours(payroll, &fetched, chunk).await {
                Ok(()) => {
                    for w in chunk {
                        slots[w.slot] = Some(Outcome::Updated(remote_id(payroll, &w.employee)));
                    }
                }
                Err(e) if e.kind() == ConnectorErrorKind::Conflict => {
                    tracing::debug!(payroll, "gusto: stale version, refetching and re-merging");
                    self.retry_after_conflict(payroll, chunk, slots).await;
                }
                Err(e) => {
                    for w in chunk {
                        slots[w.slot] = Some(Outcome::Failed(copy(&e)));
                    }
                }
            }
        }
    }

    /// After a 409, whether `w` is written again over the refetched
    /// payroll (else its outcome is recorded). Read from a calculated
    /// payroll (not prepared), an employee it does not list is written
    /// again: the prepare will tell.
    fn write_again(
        &self,
        payroll: &str,
        fresh: &Fetched,
        w: &Wanted,
        slots: &mut [Option<Outcome>],
    ) -> bool {
        let Some(comp) = fresh.by_employee.get(&w.employee) else {
            if fresh.prepared {
                slots[w.slot] = Some(fail(
                    ConnectorErrorKind::NotFound,
                    format!(
                        "employee {} was removed from payroll {payroll} meanwhile",
                        w.employee
                    ),
                ));
            }
            return !fresh.prepared;
        };
        let theirs = comp.regular().and_then(|r| r.hours).map(|h| h.0);
        match self.remerge(w, theirs) {
            Remerge::Write => true,
            Remerge::Same => {
                slots[w.slot] = Some(Outcome::Unchanged(remote_id(payroll, &w.employee)));
                false
            }
            Remerge::Kept(reason) => {
                slots[w.slot] = Some(fail(
                    ConnectorErrorKind::Conflict,
                    format!("employee {} on payroll {payroll}: {reason}", w.employee),
                ));
                false
            }
        }
    }

    /// After a 409: refetch, re-merge each record under the policy, and
    /// send once more what still applies. A second 409 is a conflict.
    async fn retry_after_conflict(
        &self,
        payroll: &str,
        chunk: &[&Wanted],
        slots: &mut [Option<Outcome>],
    ) {
        let employees: Vec<&str> = chunk.iter().map(|w| w.employee.as_str()).collect();
        let mut fresh = match self.fetch_for_write(payroll, &employees).await {
            Ok(f) => f,
            Err(e) => {
                for w in chunk {
                    slots[w.slot] = Some(Outcome::Failed(copy(&e)));
                }
                return;
            }
        };
        if fresh.processed {
            for w in chunk {
                slots[w.slot] = Some(fail(
                    ConnectorErrorKind::Invalid,
                    format!(
                        "payroll {payroll} was processed meanwhile: its hours can no longer change"
                    ),
                ));
            }
            return;
        }
        let mut again: Vec<&Wanted> = chunk
            .iter()
            .copied()
            .filter(|w| self.write_again(payroll, &fresh, w, slots))
            .collect();
        if !fresh.prepared && !again.is_empty() {
            // Calculated meanwhile: prepare only what is written again.
            let employees: Vec<&str> = again.iter().map(|w| w.employee.as_str()).collect();
            match self.prepare(payroll, &employees).await {
                Ok(by_employee) => {
                    fresh = Fetched {
                        processed: false,
                        prepared: true,
                        by_employee,
                    };
                }
                Err(e) => {
                    for w in again {
                        slots[w.slot] = Some(Outcome::Failed(copy(&e)));
                    }
                    return;
                }
            }
            again.retain(|w| self.write_again(payroll, &fresh, w, slots));
        }
        if again.is_empty() {
            return;
        }
        match self.put_hours(payroll, &fresh, &again).await {
            Ok(()) => {
                for w in again {
                    slots[w.slot] = Some(Outcome::Updated(remote_id(payroll, &w.employee)));
                }
            }
            Err(e) if e.kind() == ConnectorErrorKind::Conflict => {
                for w in again {
                    slots[w.slot] = Some(fail(
                        ConnectorErrorKind::Conflict,
                        format!(
                            "payroll {payroll} changed again while its hours were written (a second stale version); not retried: {}",
                            e.message()
                        ),
                    ));
                }
            }
            Err(e) => {
                for w in again {
                    slots[w.slot] = Some(Outcome::Failed(copy(&e)));
                }
            }
        }
    }
}

/// The payroll and employee uuids a record is written to: from its links
/// (the sink's ids of its `run` and `employee`), else from its target id
/// (`payroll:employee`).
fn target(r: &SinkRecord<PayStatement>, s: &PayStatement) -> Option<(String, String)> {
    let link = |id: Option<CanonicalId>| {
        id.and_then(|id| r.links.get(&id))
            .map(|remote| remote.as_str().to_owned())
    };
    let from_target = r
        .target_id
        .as_ref()
        .and_then(|t| t.as_str().split_once(':'))
        .map(|(p, e)| (p.to_owned(), e.to_owned()));
    let payroll = link(s.run).or_else(|| from_target.as_ref().map(|t| t.0.clone()))?;
    let employee = link(s.employee).or_else(|| from_target.as_ref().map(|t| t.1.clone()))?;
    Some((payroll, employee))
}

#[async_trait]
impl Sink<PayStatement> for GustoConnector {
    async fn apply(&self, batch: Vec<SinkRecord<PayStatement>>) -> Result<Vec<Outcome>> {
        let mut slots: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
        let mut by_payroll: BTreeMap<String, Vec<Wanted>> = BTreeMap::new();
        for (slot, r) in batch.iter().enumerate() {
            let s = match &r.operation {
                Operation::Delete => {
                    slots[slot] = Some(fail(
                        ConnectorErrorKind::Invalid,
                        "a Gusto pay statement cannot be deleted; set its hours instead".into(),
                    ));
                    continue;
                }
                Operation::Upsert(s) => s,
            };
            let Some((payroll, employee)) = target(r, s) else {
                slots[slot] = Some(fail(
                    ConnectorErrorKind::UnresolvedReference,
                    "the statement's run or employee has no Gusto id yet (no link)".into(),
                ));
                continue;
            };
            let hours = match s.hours {
                Some(h) if r.writes("hours") => h,
                // Nothing this sink writes: gross and net are Gusto's.
                _ => {
                    slots[slot] = Some(Outcome::Unchanged(remote_id(&payroll, &employee)));
                    continue;
                }
            };
            if hours.is_sign_negative() {
                slots[slot] = Some(fail(
                    ConnectorErrorKind::Invalid,
                    format!("hours must not be negative, got {hours}"),
                ));
                continue;
            }
            let group = by_payroll.entry(payroll.clone()).or_default();
            if let Some(earlier) = group.iter_mut().find(|w| w.employee == employee) {
                // The last statement for an employee in a batch wins.
                slots[earlier.slot] = Some(Outcome::Unchanged(remote_id(&payroll, &employee)));
                earlier.slot = slot;
                earlier.hours = hours;
                earlier.origin = r.origin.clone();
                continue;
            }
            group.push(Wanted {
                slot,
                employee,
                hours,
                origin: r.origin.clone(),
            });
        }
        for (payroll, wanted) in by_payroll {
            self.write_payroll(&payroll, wanted, &mut slots).await;
        }
        Ok(fill_outcomes(
            slots,
            "gusto: no outcome was recorded for this statement",
        ))
    }
}
