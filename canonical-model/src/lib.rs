//! # odoo-integration-model
//!
//! The firm's domain model, independent of any transport: clients, contacts,
//! opportunities, engagements, contracts and milestones, employees and
//! assignments, timesheets, expenses, invoices and payments, payroll runs,
//! pay statements and time off; a canonical identity per record with
//! cross-references to each system's remote id; and declarative field-level
//! ownership rules that decide which system owns each field and how
//! conflicts resolve.
//!
//! This crate knows no transport: it depends on neither `reqwest` nor
//! `odoo-integration-client`.
//!
//! ## Quick start
//!
//! ```
//! use odoo_integration_model::{merge, Change, ClientCompany, FieldValue, Policy, CanonicalRecord, SystemId};
//!
//! let policy = Policy::from_toml(r#"
//!     [client]
//!     default_owner = "odoo"
//!     [client.fields]
//!     industry = "salesforce"
//!     "address.*" = { owner = "odoo", strategy = "hold-for-review" }
//! "#)?;
//! let mut acme = CanonicalRecord::new(ClientCompany { legal_name: "Acme NV".into(), ..Default::default() });
//! let change = Change::new("sf-1", chrono::Utc::now())
//!     .with("industry", FieldValue::Text("Retail".into()))     // Salesforce owns it: applied
//!     .with("legal_name", FieldValue::Text("ACME".into()))     // Odoo owns it: refused
//!     .with("address.city", FieldValue::Text("Ghent".into())); // held for review
//! let out = merge(&mut acme, &change, &SystemId::salesforce(), &policy)?;
//! assert_eq!((out.applied.len(), out.refused.len(), out.held.len()), (1, 1, 1));
//! assert_eq!(acme.history("industry").count(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Design decisions
//!
//! - **One field mechanism.** Every entity implements [`Entity`] through the
//!   [`entity!`] macro: field names (nested ones dotted, `address.city`) and
//!   typed get/set by name through [`FieldValue`]. Merge, diff,
//!   reconciliation, match keys, validation and policy checking all use it.
//!   Your own entities can use the macro too.
//! - **Ownership.** A field's rule is the most specific of: the field, its
//!   group (`address.*`), the entity's `default_owner`. A field with no owner
//!   may be written by anyone. The owner's change always applies; others'
//!   are refused (owner wins), applied only when newer than the field's last
//!   applied change by the source's change time (latest wins), or held
//!   (hold for review). Equal values change nothing, so replays are harmless.
//!   A record new to the sync is seeded whole by the system that brings it,
//!   owned fields included, unless the policy says `seed = "owner-only"`
//!   ([`Seed`]) for a field, a group or the entity.
//! - **Every mistake at once.** A policy file with several mistakes gives a
//!   [`PolicyError`] listing each [`PolicyMistake`] in file order.
//! - **Errors point at the file.** TOML policy errors carry line and column
//!   (from toml spans); JSON ones a JSON path such as
//!   `$.client.fields.industri` (syntax errors: line and column).
//! - **Money** is [`Money`]: an exact decimal and an ISO 4217 [`Currency`];
//!   adding two currencies is an error. Dates are `chrono::NaiveDate`,
//!   instants `DateTime<Utc>`.
//! - **Personal data** stays out of `Debug` for [`Contact`], [`Employee`] and
//!   [`PayStatement`]: ids and employee numbers only.
//! - **Identity.** [`CanonicalId`] is a UUID v7; [`SystemId`] is open-ended.
//!   [`propose_match`] never merges: an ambiguous match is returned as
//!   [`MatchOutcome::Ambiguous`] with the reasons for each candidate.
//! - **Diffs.** [`diff`]/[`apply`] work on any entity; [`InvoiceDiff`] diffs
//!   invoice lines keyed by line id. [`reconcile`] joins two sets by a key
//!   (a cross-reference or normalised match key) and reports matched,
//!   only-in-A, only-in-B and mismatched fields, as JSON (serde) or CSV.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod diff;
mod entities;
mod field;
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
    Normalize, RemoteId, SystemId, match_keys_for, propose_match,
};
pub use merge::{CanonicalRecord, Change, Held, MergeOutcome, Provenance, Refused, merge};
pub use money::{Currency, Money, MoneyError};
pub use policy::{FieldRule, Location, Policy, PolicyError, PolicyMistake, Seed, Strategy};
pub use validate::{Condition, Failure, RequiredWhen, Rule, Validator};

/// The README's code blocks, compiled as doctests so they never drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
