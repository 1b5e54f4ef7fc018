//! # canonical-model
//!
//! The firm's domain model, independent of any transport: clients, contacts,
//! engagements, contracts, employees, timesheets, expenses, invoices and
//! payroll; a canonical identity per record with cross-references to each
//! system's remote id; and declarative field-level ownership rules that decide
//! which system owns each field and how conflicts resolve.
//!
//! This crate knows no transport: it depends on neither `reqwest` nor
//! `odoo-client`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod diff;
mod entities;
#[doc(hidden)]
pub mod field;
mod identity;
mod merge;
mod money;
mod policy;
mod validate;

pub use diff::{FieldChange, InvoiceDiff, Mismatch, Reconciliation, apply, diff, reconcile};
pub use entities::*;
pub use field::{Entity, FieldError, FieldType, FieldValue, UnknownCode};
pub use identity::{
    CanonicalId, CrossRefs, IdentityError, IdentityMap, MatchKey, MatchOutcome, MatchProposal,
    Normalize, RemoteId, SystemId, propose_match,
};
pub use merge::{Change, Held, MergeOutcome, Provenance, Record, Refused, merge};
pub use money::{Currency, Money, MoneyError};
pub use policy::{FieldRule, Location, Policy, PolicyError, Strategy};
pub use validate::{Condition, Failure, RequiredWhen, Rule, Validator};
