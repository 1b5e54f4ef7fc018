//! # canonical-model
//!
//! The firm's domain model, independent of any transport: clients, contacts,
//! engagements, contracts, employees, timesheets, expenses, invoices and
//! payroll; a canonical identity per record with cross-references to each
//! system's remote id; and declarative field-level ownership rules that decide
//! which system owns each field and how conflicts resolve.
//!
//! This crate knows no transport: it depends on neither `reqwest` nor
//! `odoo-client`. It is being built (see the project's issue tracker); it
//! exposes no public items yet.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
