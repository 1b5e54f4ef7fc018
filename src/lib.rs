//! # odoo-integration
//!
//! The facade of the Odoo integration SDK: one dependency that brings the
//! whole family, each crate under a short name.
//!
//! | module | crate | what it is |
//! |---|---|---|
//! | [`odoo`] | `odoo-integration-client` | a typed, async Odoo RPC client (JSON-2, JSON-RPC, XML-RPC) |
//! | [`model`] | `odoo-integration-model` | the firm's domain model, cross-system identities and field ownership rules |
//! | [`connectors`] | `odoo-integration-connectors` | connector traits, sync building blocks and vendor connectors |
//! | `fakes` (feature `fakes`) | `odoo-integration-fakes` | stateful offline fakes of HubSpot, Salesforce, BambooHR and Gusto on loopback |
//!
//! ```
//! use odoo_integration::odoo::{Client, Credentials};
//!
//! // Building a client sends nothing: it logs in on the first call.
//! let client = Client::builder("https://odoo.example.com")
//!     .database("prod")
//!     .credentials(Credentials::api_key("admin", "0123456789abcdef"))
//!     .build()?;
//! assert!(!format!("{client:?}").contains("0123456789abcdef"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! With the `derive` feature (on by default), `odoo::Model` is a
//! [derive macro](derive@odoo::Model) too. It needs no attribute to find
//! the trait through this crate: it sees `odoo-integration` in your
//! `Cargo.toml`, under whatever name.
//!
//! ```
//! use odoo_integration::odoo::Model;
//!
//! #[derive(serde::Deserialize, Model)]
//! #[odoo(model = "res.partner")]
//! struct Partner {
//!     id: i64,
//!     name: String,
//! }
//! assert_eq!(Partner::FIELDS, ["name"]);
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use odoo_integration_client as odoo;
pub use odoo_integration_connectors as connectors;
/// Stateful fakes of the vendors on loopback (feature `fakes`): the
/// `odoo-integration-fakes` crate, for tests and examples.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// use odoo_integration::fakes::hubspot::FakeHubSpot;
/// let hubspot = FakeHubSpot::start().await?;
/// assert!(hubspot.url().starts_with("http://127.0.0.1:"));
/// # Ok(()) }
/// ```
#[cfg(feature = "fakes")]
pub use odoo_integration_fakes as fakes;
pub use odoo_integration_model as model;

// What the API makes you name: the attribute for implementing the
// connector traits, dates, decimal amounts, JSON values and streams. Use
// these rather than adding the crates yourself, so the versions match.
pub use async_trait::async_trait;
pub use chrono;
pub use futures;
pub use rust_decimal;
pub use serde_json;

/// The README's code blocks, compiled as doctests so they never drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
