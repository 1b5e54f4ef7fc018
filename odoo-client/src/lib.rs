//! # odoo-client
//!
//! A typed, async Odoo client over the three protocols Odoo speaks.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
