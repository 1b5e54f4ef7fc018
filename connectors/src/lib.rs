//! # odoo-integration-connectors
//!
//! What a sync between Odoo and the firm's other systems is built from:
//!
//! - **Traits.** A [`Connector`] names its system and declares its
//!   [`Capabilities`]; a [`Source`] yields [`SourceChange`]s since a
//!   [`Cursor`], page by page; a [`Sink`] applies a batch of
//!   [`SinkRecord`]s and returns one [`Outcome`] per record, idempotently.
//!   Both are typed over a canonical entity (`Source<ClientCompany>`,
//!   `Sink<TimesheetEntry>`) and dyn-compatible, so your own connector (your
//!   timesheet tool, your data warehouse) plugs into everything below; the
//!   [`testkit`] checks it behaves.
//! - **Ready-made sources** ([`sources`]) for your own data: changes in
//!   memory (`VecSource`), and files of records, JSON Lines or CSV (feature
//!   `csv`) (`FileSource`), each with a real cursor, as a snapshot read
//!   again when it changes or as a log that only grows.
//! - **State.** [`CheckpointStore`], [`XrefStore`], [`RecordStore`],
//!   [`DeadLetterQueue`], [`HeldStore`] (conflicts held for review) and
//!   [`LeaseStore`] (one worker per pipeline at a time), each a trait,
//!   with [`MemoryStore`] and the crash-safe [`FileStore`] implementing
//!   all six, and with the `sqlite` feature `SqliteStore` (one SQLite
//!   file, for production), with the `postgres` feature `PostgresStore`
//!   (one PostgreSQL database shared by many workers on many machines).
//! - **Running.** The [`Runner`] keeps pipelines (and any [`Job`] of
//!   yours) going: intervals with jitter, a lease per job in the state
//!   store, ordering, back-off, the [`CircuitBreaker`]'s wait honoured,
//!   graceful shutdown on SIGTERM/ctrl-c ([`Shutdown`]). A sync split in
//!   [`sources::Shard`]s spreads over several workers. [`review::Review`]
//!   lists and decides held conflicts and dead letters. With the `cli`
//!   feature, the `odoo-sync` binary drives all of it from a TOML file
//!   (the `cli` module). With `metrics`, every run is measured.
//! - **Flow control.** [`RateLimiter`]: a token bucket per connector, shared
//!   by all tasks, that pauses every caller when a system sends
//!   `Retry-After`. [`RetryPolicy`] (the Odoo client's type): how a
//!   pipeline retries, the one retry layer of a sync. [`PageGuard`]: a
//!   source that hands back a cursor it already gave is an error
//!   ([`ConnectorErrorKind::NoProgress`]), never a loop.
//! - **The [`Pipeline`]**: source → mapping → identity → ownership merge →
//!   validation → sink, in batches with bounded concurrency. Each change
//!   is first *planned* (a pure decision: create, update which fields,
//!   leave, delete, reject) and then *executed* (every side effect: stores,
//!   sink, dead letters). A bad record goes to the dead-letter queue and
//!   never stops the rest; the checkpoint moves only past what is
//!   recorded, so a killed run resumes without loss or duplicates. On a
//!   first sync a [`Matcher`] can link records the sink already holds
//!   instead of creating them again. Dry runs plan without writing; every
//!   run returns a [`RunSummary`].
//! - **One mapping vocabulary** ([`mapping`]): a [`mapping::FieldMap`]
//!   ties a canonical field to a vendor field through a
//!   [`mapping::Conversion`] (text, number, money with its currency field,
//!   date, datetime, full name from two fields, coded values, reference,
//!   rows). Every connector's maps, Odoo's included, are lists of them, so
//!   a custom field is one entry.
//! - **Connectors**, each behind a feature:
//!   - `odoo` (the `odoo` module): canonical entities ⇄ Odoo models,
//!     incremental reads, idempotent writes by external id;
//!   - `hubspot` (the `hubspot` module): companies, contacts, deals and
//!     their line items and associations, read incrementally past the
//!     search API's 10,000-result wall and written idempotently in
//!     batches; webhooks verified and turned into changes;
//!   - `salesforce` (the `salesforce` module): Accounts, Contacts and
//!     Opportunities over OAuth 2.0 (client credentials or JWT), SOQL
//!     reads with deletes, sObject Collections writes.
//!
//!   - `bamboohr` (the `bamboohr` module): employees (changed-since, with
//!     terminations, deletes and cost rates) and time off;
//!   - `gusto` (the `gusto` module): employees, payrolls, pay statements
//!     and time off read; hours written into unprocessed payrolls with
//!     Gusto's version check; single-use refresh tokens refreshed
//!     single-flight through your token store.
//! - **Push** (feature `webhooks`, the `webhooks` module): an axum router
//!   that verifies webhooks (HubSpot v3 signatures, Odoo 17+ automation
//!   notifications, a generic HMAC-signed endpoint) and turns them into
//!   targeted reads: [`Pipeline::sync_ids`] reads just those records
//!   through a [`FetchByIds`] source, without moving the checkpoint.
//! - **Workflows** (feature `odoo`, the `workflows` module): the firm's
//!   flows as tested library calls: timesheet approval on any Odoo,
//!   approved hours per pay period and their billing, employees paired
//!   across systems, amount reconciliation.
//! - **Fakes** of the four vendors live in their own crate,
//!   `odoo-integration-fakes` (a dev-dependency for your tests): stateful
//!   in-memory HubSpot, Salesforce, BambooHR and Gusto APIs on loopback,
//!   so examples and your own tests run offline.
//! - **[`testkit`]**: conformance checks any source or sink can run.
//!
//! ## Layout
//!
//! | module | what |
//! |---|---|
//! | `connector` | the traits, pages, outcomes, [`read_to_end`] |
//! | `pipeline/` | [`Pipeline`]: `plan` (pure), `execute`, `lookup`, `sink` (retries), `letters`, `matching`, `summary`, `builder`, `targeted` (reads by id), `review` (decisions, replays), `stop`, `last_run`, `breaker`, `observe` (metrics) | |
//! | `paging` | [`PageGuard`], [`Pages`] |
//! | `store/` | the six state traits; memory, file, SQLite and PostgreSQL stores |
//! | `runner/` | [`Runner`], [`Job`], [`Shutdown`], leases and scheduling |
//! | `review` | [`review::Review`]: the held-conflict and dead-letter queues |
//! | `webhooks/` | the push receiver (feature `webhooks`) |
//! | `cli/` | the operator CLI's config, commands and builders (feature `cli`); `bin/odoo-sync.rs` |
//! | `mapping/` | the shared [`FieldMap`](mapping::FieldMap) and [`Conversion`](mapping::Conversion) |
//! | `http/` | the vendors' one HTTP core (crate-private): one send loop, auth (bearer token, basic key, OAuth with single-flight refresh and a token store), each vendor's error map, `Retry-After`, capped bodies, decode errors that name the JSON path |
//! | `odoo/`, `hubspot/`, `salesforce/`, `bamboohr/`, `gusto/` | the connectors, each a `mod.rs` with its settings, and `read`/`write` files |
//! | `error` | [`ConnectorError`], one [`ConnectorErrorKind`] |
//!
//! ## Example
//!
//! ```
//! use async_trait::async_trait;
//! use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
//! use odoo_integration_connectors::*;
//! use std::sync::Arc;
//!
//! /// A source with two clients, read in one page.
//! struct Spreadsheet;
//! impl Connector for Spreadsheet {
//!     fn system(&self) -> SystemId { SystemId::new("sheet") }
//!     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
//! }
//! #[async_trait]
//! impl Source<ClientCompany> for Spreadsheet {
//!     async fn read(&self, _since: Option<&Cursor>, _limit: usize) -> odoo_integration_connectors::Result<Page<ClientCompany>> {
//!         let at = chrono::Utc::now();
//!         let client = |name: &str| ClientCompany { legal_name: name.into(), ..Default::default() };
//!         Ok(Page {
//!             changes: vec![
//!                 SourceChange::upsert("row-1", at, client("Northwind")),
//!                 SourceChange::upsert("row-2", at, client("")), // invalid: no name
//!             ],
//!             next: Cursor::new("end"),
//!             has_more: false,
//!         })
//!     }
//! }
//!
//! /// A sink that accepts clients with a name.
//! struct Ledger;
//! impl Connector for Ledger {
//!     fn system(&self) -> SystemId { SystemId::new("ledger") }
//!     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
//! }
//! #[async_trait]
//! impl Sink<ClientCompany> for Ledger {
//!     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> odoo_integration_connectors::Result<Vec<Outcome>> {
//!         Ok(batch.into_iter().map(|r| match &r.operation {
//!             Operation::Upsert(c) if c.legal_name.is_empty() =>
//!                 Outcome::Failed(ConnectorError::new(ConnectorErrorKind::Invalid, "a client needs a name")),
//!             _ => Outcome::Created(RemoteId::new(format!("L-{}", r.origin_id))),
//!         }).collect())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> odoo_integration_connectors::Result<()> {
//! let state = Arc::new(MemoryStore::new());
//! let pipeline = Pipeline::<ClientCompany>::builder("sheet→ledger", Arc::new(Spreadsheet), Arc::new(Ledger), state.clone())
//!     .build()?;
//! let summary = pipeline.run().await?;
//! assert_eq!((summary.created, summary.dead_lettered), (1, 1));
//! assert_eq!(state.letters("client").await?[0].remote_id.as_str(), "row-2");
//! # Ok(()) }
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(feature = "bamboohr")]
pub mod bamboohr;
#[cfg(feature = "cli")]
pub mod cli;
mod connector;
mod error;
#[cfg(feature = "gusto")]
pub mod gusto;
#[cfg(any(
    feature = "hubspot",
    feature = "salesforce",
    feature = "bamboohr",
    feature = "gusto"
))]
mod http;
#[cfg(feature = "hubspot")]
pub mod hubspot;
pub mod mapping;
#[cfg(feature = "odoo")]
pub mod odoo;
mod paging;
mod pipeline;
mod rate_limit;
pub mod review;
mod runner;
#[cfg(feature = "salesforce")]
pub mod salesforce;
pub mod sources;
mod store;
pub mod testkit;
#[cfg(any(
    feature = "hubspot",
    feature = "salesforce",
    feature = "bamboohr",
    feature = "gusto"
))]
mod web;
#[cfg(feature = "webhooks")]
pub mod webhooks;
#[cfg(feature = "odoo")]
pub mod workflows;

pub use connector::{
    Capabilities, Connector, Cursor, Operation, Outcome, Page, Reference, Sink, SinkRecord, Source,
    SourceChange, read_to_end,
};
pub use error::{ConnectorError, ConnectorErrorKind, ErrorRecord, Result};
pub use odoo_integration_client::RetryPolicy;
pub use paging::{PageGuard, Pages};
pub use pipeline::targeted::FetchByIds;
pub use pipeline::{
    CircuitBreaker, DeletePolicy, HeldChange, LastRunRecord, Matcher, Pipeline, PipelineBuilder,
    PlannedAction, PlannedChange, RefusedChange, RunSummary, SinkMatch,
};
pub use rate_limit::{DEFAULT_MAX_PAUSE, PauseTooLong, Quota, RateLimiter};
pub use runner::{
    Job, JobStatus, LastRun, RunReport, Runner, RunnerBuilder, RunnerStatus, Shutdown,
};
#[cfg(feature = "sqlite")]
pub use store::SqliteStore;
pub use store::{
    CheckpointStore, DeadLetter, DeadLetterQueue, FileStore, HeldConflict, HeldFilter, HeldStore,
    Lease, LeaseStore, Link, MemoryStore, RecordStore, Resolution, StoredRecord, SyncState,
    XrefStore,
};
#[cfg(feature = "postgres")]
pub use store::{PostgresConfig, PostgresStore};

/// The README's code blocks, compiled as doctests so they never drift.
#[cfg(all(doctest, feature = "odoo", feature = "hubspot"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
