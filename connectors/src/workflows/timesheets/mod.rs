//! Timesheets to payroll and billing: approved hours summed per employee
//! per pay period and written to payroll, and billable hours priced at the
//! contract's rate card into draft invoices in Odoo, one per client and
//! period with a line per engagement and role, rebillable expenses on the
//! same invoices, posting optional.
//!
//! - [`TimesheetsToPayroll`] is the whole flow as one call (what
//!   `examples/timesheets_to_payroll.rs` runs), returning a [`Report`].
//! - The rest are the pure steps it is made of, for flows of your own:
//!   [`approved_hours`] sums, [`price_hours`] prices at a [`RateCard`]
//!   (rounding and currency as the contract says), [`rebill_expenses`]
//!   adds rebillable expenses.
//!
//! Hours are [`Decimal`]s and rates
//! [`Money`](odoo_integration_model::Money), never floats. Payroll gets
//! the exact hours; billing rounds each timesheet line's hours and each
//! invoice line's amount as the [`RateCard`] says.

mod expenses;
mod flow;
mod posting;
mod pricing;
mod reads;
mod report;
mod steps;
mod terms;

pub use expenses::{ExpenseLeftOut, ExpenseLine, ExpenseSkipped, rebill_expenses};
pub use flow::{Payroll, Posting, TimesheetsToPayroll};
pub use pricing::{Billed, Billing, NotPriced, Unpriced, price_hours};
pub use report::{NotPosted, Overbilled, PostedInvoice, Report};
pub use terms::{RateCard, RateCards, Rounding, RoundingMode};

use crate::connector::{Operation, SourceChange};
use chrono::NaiveDate;
use odoo_integration_model::{ApprovalState, RemoteId, TimesheetEntry};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// A timesheet line as read, with the ids (in the system it was read
/// from) of its employee and engagement.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::Line;
/// use odoo_integration_connectors::{Reference, SourceChange};
/// use odoo_integration_model::TimesheetEntry;
/// let change = SourceChange::upsert("17", chrono::Utc::now(), TimesheetEntry::default())
///     .with_ref("employee", Reference::new("employee", "7"));
/// let line = Line::from_change(&change).unwrap();
/// assert_eq!(line.employee.unwrap().as_str(), "7");
/// assert!(line.engagement.is_none());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The line's id.
    pub id: RemoteId,
    /// Its values.
    pub entry: TimesheetEntry,
    /// Its employee's id.
    pub employee: Option<RemoteId>,
    /// Its engagement's (project's) id.
    pub engagement: Option<RemoteId>,
}

impl Line {
    /// The line a source's change carries (its `employee` and
    /// `engagement` references give the ids); `None` for a delete.
    ///
    /// # Example
    ///
    /// See [`Line`].
    pub fn from_change(change: &SourceChange<TimesheetEntry>) -> Option<Self> {
        let Operation::Upsert(entry) = &change.operation else {
            return None;
        };
        let of = |field: &str| change.refs.get(field).map(|r| r.remote_id.clone());
        Some(Line {
            id: change.remote_id.clone(),
            entry: entry.clone(),
            employee: of("employee"),
            engagement: of("engagement"),
        })
    }
}

/// A pay period: its payroll's id and its first and last days.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::PayPeriod;
/// let p = PayPeriod::new("run-1", "2026-11-01".parse()?, "2026-11-15".parse()?);
/// assert!(p.contains("2026-11-15".parse()?));
/// assert!(!p.contains("2026-11-16".parse()?));
/// # Ok::<(), chrono::ParseError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayPeriod {
    /// The payroll's id.
    pub payroll: RemoteId,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
}

impl PayPeriod {
    /// A period of payroll `payroll`.
    ///
    /// # Example
    ///
    /// See [`PayPeriod`].
    pub fn new(payroll: impl Into<String>, start: NaiveDate, end: NaiveDate) -> Self {
        PayPeriod {
            payroll: RemoteId::new(payroll.into()),
            start,
            end,
        }
    }

    /// Whether `day` is in the period.
    ///
    /// # Example
    ///
    /// See [`PayPeriod`].
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.start <= day && day <= self.end
    }
}

/// Why a line's hours are neither paid nor billed.
///
/// # Example
///
/// See [`approved_hours`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LeftOut {
    /// Not approved (its state).
    NotApproved(ApprovalState),
    /// Its date is in no pay period.
    NoPeriod,
    /// It names no employee.
    NoEmployee,
    /// It has no date.
    NoDate,
}

/// A line left out, and why.
///
/// # Example
///
/// See [`approved_hours`].
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// The line's id.
    pub line: RemoteId,
    /// Its employee's id.
    pub employee: Option<RemoteId>,
    /// Its date.
    pub date: Option<NaiveDate>,
    /// Its hours.
    pub hours: Decimal,
    /// Why.
    pub why: LeftOut,
}

/// Approved hours per employee per pay period, and per engagement.
///
/// # Example
///
/// See [`approved_hours`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PeriodHours {
    /// (payroll, employee) → hours.
    pub total: BTreeMap<(RemoteId, RemoteId), Decimal>,
    /// (engagement, payroll, employee) → the hours of `total` booked on
    /// that engagement.
    pub by_engagement: BTreeMap<(RemoteId, RemoteId, RemoteId), Decimal>,
    /// (engagement, payroll, employee) → the hours of each line summed in
    /// `by_engagement`, in the order read (a contract rounds per line).
    pub entries: BTreeMap<(RemoteId, RemoteId, RemoteId), Vec<Decimal>>,
    /// Lines left out, in the order read.
    pub skipped: Vec<Skipped>,
}

impl PeriodHours {
    /// The totals keyed `payroll/employee`, to reconcile against what
    /// payroll holds ([`reconcile_quantities`](super::amounts::reconcile_quantities)).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::timesheets::PeriodHours;
    /// use odoo_integration_model::RemoteId;
    /// let mut h = PeriodHours::default();
    /// h.total.insert((RemoteId::new("nov-1"), RemoteId::new("ann")), 8.into());
    /// assert_eq!(h.keyed_totals()["nov-1/ann"], 8.into());
    /// ```
    pub fn keyed_totals(&self) -> BTreeMap<String, Decimal> {
        self.total
            .iter()
            .map(|((payroll, employee), h)| (format!("{payroll}/{employee}"), *h))
            .collect()
    }
}

/// Sums approved hours per employee per pay period (and per engagement);
/// lines not approved, undated, without an employee or outside every
/// period are listed in [`PeriodHours::skipped`], never counted.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::{approved_hours, Line, PayPeriod};
/// use odoo_integration_model::{ApprovalState, RemoteId, TimesheetEntry};
/// use rust_decimal::Decimal;
/// let line = |id: &str, day: &str, hours: i64, approval| Line {
///     id: RemoteId::new(id),
///     entry: TimesheetEntry { date: day.parse().ok(), hours: Decimal::from(hours), approval, ..Default::default() },
///     employee: Some(RemoteId::new("ann")),
///     engagement: Some(RemoteId::new("acme")),
/// };
/// let lines = [
///     line("1", "2026-11-02", 8, ApprovalState::Approved),
///     line("2", "2026-11-03", 6, ApprovalState::Approved),
///     line("3", "2026-11-04", 8, ApprovalState::Submitted),
/// ];
/// let periods = [PayPeriod::new("nov-1", "2026-11-01".parse()?, "2026-11-15".parse()?)];
/// let sum = approved_hours(&lines, &periods);
/// assert_eq!(sum.total[&(RemoteId::new("nov-1"), RemoteId::new("ann"))], Decimal::from(14));
/// assert_eq!(sum.skipped.len(), 1);
/// # Ok::<(), chrono::ParseError>(())
/// ```
pub fn approved_hours(lines: &[Line], periods: &[PayPeriod]) -> PeriodHours {
    let mut out = PeriodHours::default();
    for line in lines {
        let skip = |why| Skipped {
            line: line.id.clone(),
            employee: line.employee.clone(),
            date: line.entry.date,
            hours: line.entry.hours,
            why,
        };
        if line.entry.approval != ApprovalState::Approved {
            out.skipped
                .push(skip(LeftOut::NotApproved(line.entry.approval)));
            continue;
        }
        let Some(employee) = &line.employee else {
            out.skipped.push(skip(LeftOut::NoEmployee));
            continue;
        };
        let Some(date) = line.entry.date else {
            out.skipped.push(skip(LeftOut::NoDate));
            continue;
        };
        let Some(period) = periods.iter().find(|p| p.contains(date)) else {
            out.skipped.push(skip(LeftOut::NoPeriod));
            continue;
        };
        *out.total
            .entry((period.payroll.clone(), employee.clone()))
            .or_default() += line.entry.hours;
        if let Some(engagement) = &line.engagement {
            let key = (engagement.clone(), period.payroll.clone(), employee.clone());
            *out.by_engagement.entry(key.clone()).or_default() += line.entry.hours;
            out.entries.entry(key).or_default().push(line.entry.hours);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn id(s: &str) -> RemoteId {
        RemoteId::new(s)
    }

    pub(super) fn line(
        n: &str,
        who: Option<&str>,
        day: Option<&str>,
        tenths: i64,
        ok: bool,
    ) -> Line {
        Line {
            id: id(n),
            entry: TimesheetEntry {
                date: day.and_then(|d| d.parse().ok()),
                hours: Decimal::new(tenths, 1),
                approval: if ok {
                    ApprovalState::Approved
                } else {
                    ApprovalState::Submitted
                },
                ..Default::default()
            },
            employee: who.map(id),
            engagement: Some(id("acme")),
        }
    }

    pub(super) fn periods() -> Vec<PayPeriod> {
        let d = |s: &str| s.parse().unwrap_or_default();
        vec![
            PayPeriod::new("p1", d("2026-11-01"), d("2026-11-15")),
            PayPeriod::new("p2", d("2026-11-16"), d("2026-11-30")),
        ]
    }

    #[test]
    fn hours_are_summed_exactly_per_employee_and_period_and_the_rest_is_listed() {
        let lines = [
            line("1", Some("ann"), Some("2026-11-15"), 75, true),
            line("2", Some("ann"), Some("2026-11-01"), 1, true),
            line("3", Some("ann"), Some("2026-11-16"), 80, true),
            line("4", Some("bo"), Some("2026-11-02"), 80, false),
            line("5", None, Some("2026-11-02"), 10, true),
            line("6", Some("bo"), Some("2026-12-01"), 10, true),
            line("7", Some("bo"), None, 10, true),
        ];
        let sum = approved_hours(&lines, &periods());
        assert_eq!(sum.total[&(id("p1"), id("ann"))], Decimal::new(76, 1));
        assert_eq!(sum.total[&(id("p2"), id("ann"))], Decimal::from(8));
        assert_eq!(sum.total.len(), 2, "{:?}", sum.total);
        assert_eq!(
            sum.by_engagement[&(id("acme"), id("p1"), id("ann"))],
            Decimal::new(76, 1)
        );
        let why: Vec<(&str, &LeftOut)> = sum
            .skipped
            .iter()
            .map(|s| (s.line.as_str(), &s.why))
            .collect();
        assert_eq!(
            why,
            [
                ("4", &LeftOut::NotApproved(ApprovalState::Submitted)),
                ("5", &LeftOut::NoEmployee),
                ("6", &LeftOut::NoPeriod),
                ("7", &LeftOut::NoDate),
            ]
        );
    }
}
