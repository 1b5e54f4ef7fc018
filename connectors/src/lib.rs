//! # connectors
//!
//! Pluggable connector traits, the sync building blocks between them
//! (checkpoints, rate limits, a dead-letter queue, a pipeline) and real
//! connectors for Odoo, Salesforce, HubSpot, an HRIS and a payroll system,
//! each behind its own cargo feature.
//!
//! Dependencies point one way: `connectors` uses `canonical-model` and
//! `odoo-client`; neither of those knows this crate. It is being built (see
//! the project's issue tracker); it exposes no public items yet.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
