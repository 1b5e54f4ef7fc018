//! The firm's workflows as library calls, built on the connectors: what
//! the examples do, tested, so a user calls them instead of copying them.
//!
//! - [`approval`]: what "approved" means for Odoo timesheet lines, chosen
//!   per server ([`Approval`]) and checked against what the server has
//!   before anything is written.
//!
//! More of the firm's flows (quote-to-cash, timesheets to billing and
//! payroll, people, period-close safety) move here from `examples/` over
//! the 0.3 series.

pub mod approval;

pub use approval::Approval;
