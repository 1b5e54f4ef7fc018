//! The firm's workflows as library calls, built on the connectors: what
//! the examples do, tested, so a user calls them instead of copying them.
//!
//! - [`amounts`]: reconciliation of amounts (hours in Odoo against hours
//!   in payroll, billed against billable hours, deal amounts against order
//!   totals) as the field reconciliation's report: table, CSV, JSON.
//! - [`compare`]: two systems' records compared field by field (which
//!   pair, which are on one side only, which fields disagree), the same
//!   report.
//! - [`approval`]: what "approved" means for Odoo timesheet lines, chosen
//!   per server ([`Approval`]) and checked against what the server has
//!   before anything is written.
//! - [`payments`]: the payment status of a deal's or client's posted
//!   invoices, and what is due, as sources for a pipeline back to the CRM.
//! - [`people`]: the HRIS's employees into Odoo (departments, managers,
//!   leavers archived, rehires unarchived) in one call, and employees
//!   paired across two systems by employee number or work email, one to
//!   one, with what does not pair, what could be several people, and what
//!   differs.
//! - [`quote_to_cash`]: a won deal becomes a client, contacts, a project
//!   managed by the deal's owner and a sale order in Odoo, once, with the
//!   product (and so the invoicing policy) of its billing kind, confirmed
//!   if asked; the project's id and the order's reference go back to the
//!   deal.
//! - [`timesheets`]: approved hours per employee per pay period to the
//!   payroll system, and billable hours priced at the contract's rate card
//!   (with its rounding and currency) into invoices, one per client and
//!   period, with the client's rebillable expenses, posted if asked: one
//!   call, [`TimesheetsToPayroll`](timesheets::TimesheetsToPayroll).
//! - Period-close safety is built into the Odoo sink: an accounting record
//!   (a map with [`period_date`](crate::odoo::ModelMap::period_date), as
//!   invoices have) dated inside a period closed by the company's lock
//!   dates is held for review
//!   ([`PeriodLocked`](crate::ConnectorErrorKind::PeriodLocked)), never
//!   written into another period.
//! - First syncs match what Odoo already holds
//!   ([`OdooMatcher`](crate::odoo::OdooMatcher), on by default for
//!   clients, contacts and employees).

pub mod amounts;
pub mod approval;
pub mod compare;
pub mod payments;
pub mod people;
pub mod quote_to_cash;
pub mod timesheets;

pub use approval::Approval;
