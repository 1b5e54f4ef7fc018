//! What a run reports: its pipelines' summaries, what it left out and
//! why, the invoices it keeps, posts or could not post.

use super::{ExpenseSkipped, Skipped, Unpriced};
use crate::error::ConnectorError;
use crate::pipeline::RunSummary;
use odoo_integration_model::{Invoice, RemoteId};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// An invoice posted by a run.
///
/// # Example
///
/// See [`TimesheetsToPayroll`](super::TimesheetsToPayroll).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedInvoice {
    /// The invoice's id in the workflow (`billing:<client>:<payroll>`,
    /// then `:2`, `:3` for later hours of the same period).
    pub record: RemoteId,
    /// Its id in Odoo.
    pub odoo: RemoteId,
    /// The number Odoo gave it.
    pub number: String,
}

/// An invoice Odoo would not post (a locked period, a missing customer),
/// left in draft.
///
/// # Example
///
/// See [`TimesheetsToPayroll`](super::TimesheetsToPayroll).
#[derive(Debug, Clone)]
pub struct NotPosted {
    /// The invoice's id in the workflow.
    pub record: RemoteId,
    /// Its id in Odoo.
    pub odoo: RemoteId,
    /// What Odoo said.
    pub error: ConnectorError,
}

/// A line of a posted invoice that bills more than the timesheets now
/// say (hours taken back after posting): never changed by the workflow;
/// a person issues the credit note.
///
/// # Example
///
/// See [`TimesheetsToPayroll`](super::TimesheetsToPayroll).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overbilled {
    /// The first invoice of the client and period (`billing:<client>:<payroll>`).
    pub record: RemoteId,
    /// The line's description.
    pub description: String,
    /// The quantity on posted invoices.
    pub posted: Decimal,
    /// The quantity the timesheets say now.
    pub now: Decimal,
}

/// What a run did.
///
/// # Example
///
/// See [`TimesheetsToPayroll`](super::TimesheetsToPayroll).
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    /// The hours written to payroll.
    pub hours: RunSummary,
    /// The draft invoices written to Odoo.
    pub invoices: RunSummary,
    /// Timesheet lines neither paid nor billed, and why.
    pub left_out: Vec<Skipped>,
    /// Billable hours not priced, and why.
    pub unpriced: Vec<Unpriced>,
    /// Rebillable expenses not re-invoiced, and why.
    pub expenses_left_out: Vec<ExpenseSkipped>,
    /// The drafts the workflow keeps in Odoo after this run (written now
    /// or unchanged), by their id in the workflow; each `total` the
    /// contract's (none on an invoice of hours found after posting).
    pub billed: BTreeMap<RemoteId, Invoice>,
    /// Invoices posted by this run.
    pub posted: Vec<PostedInvoice>,
    /// Invoices Odoo would not post.
    pub not_posted: Vec<NotPosted>,
    /// Posted lines that bill more than the timesheets now say.
    pub overbilled: Vec<Overbilled>,
}

impl Report {
    /// Whether the run changed nothing anywhere.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::workflows::timesheets::Report::default().is_no_op());
    /// ```
    pub fn is_no_op(&self) -> bool {
        self.hours.is_no_op() && self.invoices.is_no_op() && self.posted.is_empty()
    }
}
