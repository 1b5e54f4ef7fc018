//! Ready-made [`Source`](crate::Source)s for your own data: a log of
//! changes in memory ([`VecSource`]) and files of records, JSON Lines or
//! CSV ([`FileSource`]); and [`Shard`], one part of any source, so several
//! workers share a sync.
//!
//! Each has a real cursor and honours the `limit` a pipeline asks for, so a
//! run resumes where the last stopped and the
//! [`testkit`](crate::testkit::check_source) passes on it.
//!
//! # Example
//!
//! ```
//! use odoo_integration_connectors::sources::VecSource;
//! use odoo_integration_connectors::{testkit, SourceChange};
//! use odoo_integration_model::ClientCompany;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let at = chrono::Utc::now();
//! let source = VecSource::from_records("sheet", at, [
//!     ("acme", ClientCompany { legal_name: "Acme NV".into(), ..Default::default() }),
//!     ("globex", ClientCompany { legal_name: "Globex".into(), ..Default::default() }),
//! ]);
//! testkit::check_source::<ClientCompany>(&source).await.assert_ok();
//! # }
//! ```

mod file;
mod shard;
mod vec;

pub use file::{FileSource, MAX_LINE, ReadMode};
pub use shard::Shard;
pub use vec::VecSource;
