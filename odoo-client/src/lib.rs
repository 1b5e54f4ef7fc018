//! # odoo-integration-client
//!
//! A typed, async client for Odoo over the three protocols it speaks:
//!
//! | protocol | endpoint | Odoo | authentication |
//! |---|---|---|---|
//! | [`Protocol::Json2`] | `POST /json/2/<model>/<method>` | 19+ | bearer API key |
//! | [`Protocol::JsonRpc`] | `POST /jsonrpc` | 8–19 | password or API key |
//! | [`Protocol::XmlRpc`] | `POST /xmlrpc/2/{common,object}` | 8–19 | password or API key |
//!
//! [`Protocol::Auto`] (the default) asks the server its version once and uses
//! JSON-2 on Odoo 19+ with an API key, JSON-RPC otherwise.
//!
//! ## Quick start
//!
//! ```no_run
//! use odoo_integration_client::{Client, Credentials, Domain, Model};
//! use odoo_integration_client::value::{Many2One, falsy};
//!
//! // The derive writes the model's name and the fields to read
//! // (`name`, `email`, `country_id`) from the struct.
//! #[derive(Debug, serde::Deserialize, Model)]
//! #[odoo(model = "res.partner")]
//! struct Partner {
//!     id: i64,
//!     name: String,
//!     #[serde(with = "falsy")]
//!     email: Option<String>,
//!     #[serde(with = "falsy")]
//!     country_id: Option<Many2One>,
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let client = Client::builder("https://odoo.example.com")
//!     .database("prod")
//!     .credentials(Credentials::api_key("admin", std::env::var("ODOO_API_KEY")?))
//!     .build()?;
//!
//! let companies: Vec<Partner> = client
//!     .typed::<Partner>()
//!     .search_read(Domain::field("is_company").eq(true) & Domain::field("name").ilike("acme"))
//!     .order("id")
//!     .limit(20)
//!     .send()
//!     .await?;
//! println!("{companies:#?}");
//! # Ok(()) }
//! ```
//!
//! ## What the crate does for you
//!
//! - **Sessions**: lazy login on the first call (exactly one, even when many
//!   tasks start at once), uid and server version cached.
//! - **Values** ([`value`]): `false` for empty fields as `Option`, many2one
//!   pairs, x2many commands, UTC datetimes, monetary amounts as
//!   `rust_decimal::Decimal` (never `f64`), base64 binaries.
//! - **Domains** ([`domain`]): a builder that serialises exactly as Odoo
//!   expects and rejects malformed domains before any request.
//! - **Errors** ([`Error`]): one opaque type with a stable [`ErrorKind`],
//!   predicates ([`Error::is_retryable`], ...) and accessors
//!   ([`Error::server_error`], [`Error::http_status`], ...); Odoo's
//!   exception class decides the kind before the HTTP status; its name,
//!   message and arguments are kept; tracebacks reachable but never in
//!   `Display`; decode errors name the failing path.
//! - **Retries** ([`RetryPolicy`]): transient failures of calls safe to
//!   repeat, with backoff and jitter; [`Client::with_retry_policy`] gives a
//!   handle on the same session with another policy (none, for a caller
//!   that retries itself).
//! - **Secrets**: passwords and API keys live in `secrecy` types and never
//!   appear in `Debug`, `Display`, errors or logs.
//! - **Tracing**: one `odoo.call` span per call with protocol, model, method,
//!   duration and outcome (never argument values).
//! - **Limits on what a server sends**: a reply body of at most 256 MiB
//!   ([`ClientBuilder::max_body_size`]), values nested at most 128 levels
//!   (JSON and XML-RPC alike), and a `Retry-After` waited for only up to
//!   [`RetryPolicy::max_retry_after`]; past each limit the call fails with a
//!   typed error, so a broken proxy or a hostile server can neither crash
//!   nor stall the process. A server that echoes the request never gets the
//!   credential into an error: it is scrubbed from every text the server
//!   supplied.
//! - **Exactly-once upserts**: [`UpsertByExternalId`] creates a record, its
//!   lines and its external id in one transaction, so a reply lost after
//!   Odoo committed never leads to a second record.
//!
//! ## Protocol notes
//!
//! - Over XML-RPC, a method that returns `None` makes Odoo answer with fault
//!   1 "cannot marshal None"; the method did run, so the client returns
//!   `null` (decode into `()` or `Option<T>`).
//! - Over XML-RPC, faults with code 2 cover `UserError`, `ValidationError`
//!   and `MissingError` without naming them; the client recognises missing
//!   records and constraint violations ("The operation cannot be
//!   completed: ...": required fields, SQL constraints) by their message,
//!   and reports the others (Python constraints included) as
//!   [`ErrorKind::UserError`]. JSON-RPC and JSON-2 name the exception.
//! - JSON-2 takes named arguments only: [`CallBuilder::named_arg`] works on
//!   every protocol, [`CallBuilder::arg`] only on the legacy ones.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod bulk;
mod client;
pub mod codec;
mod context;
pub mod domain;
mod error;
mod model;
mod protocol;
mod retry;
mod stream;
#[cfg(feature = "test-server")]
pub mod test_server;
pub mod tls;
mod transport;
pub mod value;
mod xmlrpc;
#[cfg(test)]
mod xmlrpc_wire_tests;

pub use bulk::{
    CreateBatch, DEFAULT_BATCH_SIZE, ExternalId, UpsertByExternalId, UpsertByKey, Upserted,
    WriteBatch,
};
pub use client::{
    CallBuilder, Client, ClientBuilder, Credentials, DEFAULT_MAX_BODY_SIZE,
    DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_TIMEOUT, Protocol, ServerVersion,
};
pub use context::Context;
pub use domain::Domain;
pub use error::{
    Error, ErrorKind, FaultCode, ProtocolError, ProtocolErrorKind, Result, ServerError,
    TransportKind,
};
pub use model::{
    Create, CreateMany, FieldInfo, FieldsGet, Group, Model, ModelClient, NameSearch, Read,
    ReadGroup, Search, SearchCount, SearchRead, TypedModel, Unlink, Write,
};
/// `#[derive(Model)]`: the trait's `NAME` and `FIELDS` written from a
/// struct's fields (feature `derive`, on by default). The derive macro has
/// the trait's name, so `use odoo_integration_client::Model;` brings both.
#[cfg(feature = "derive")]
pub use odoo_integration_derive::Model;
pub use retry::RetryPolicy;
pub use secrecy::SecretString;
pub use stream::{ChangeCursor, ChangePage, Changes, DEFAULT_PAGE_SIZE, Keyset};

/// What the code `#[derive(Model)]` writes names; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use serde::de::DeserializeOwned;
}

/// The README's code blocks, compiled as doctests so they never drift.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
