//! # odoo-integration
//!
//! The facade of the Odoo integration SDK: one dependency that brings the
//! three crates of the workspace.
//!
//! | crate | what it is |
//! |---|---|
//! | [`odoo_client`] | a typed, async Odoo RPC client (JSON-2, JSON-RPC, XML-RPC) |
//! | [`canonical_model`] | the firm's domain model, cross-system identities and field ownership rules |
//! | [`connectors`] | connector traits, sync building blocks and vendor connectors |
//!
//! ```no_run
//! use odoo_integration::odoo_client::{Client, Credentials};
//!
//! let client = Client::builder("https://odoo.example.com")
//!     .database("prod")
//!     .credentials(Credentials::api_key("admin", "0123456789abcdef"))
//!     .build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use canonical_model;
pub use connectors;
pub use odoo_client;

/// The README's code blocks, compiled as doctests so they never drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
