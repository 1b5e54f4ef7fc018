//! The pipeline: source → mapping → identity → ownership merge → validation
//! → sink, in batches, where a bad record goes to the dead-letter queue and
//! never stops the rest, and the checkpoint moves only past what is done.

use crate::connector::{
    Cursor, Operation, Outcome, Sink, SinkRecord, Source, SourceChange, check_outcomes,
    fill_outcomes,
};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::rate_limit::{Quota, RateLimiter};
use crate::store::{DeadLetter, Link, StoredRecord, SyncState};
use backon::{BackoffBuilder, ExponentialBuilder};
use futures::StreamExt;
use odoo_integration_model::{
    CanonicalId, CanonicalRecord, Change, Entity, FieldValue, Held, Policy, Refused, RemoteId,
    SystemId, Validator, merge,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

/// What the pipeline does with a record the source reports deleted.
///
/// # Example
///
/// ```
/// assert_eq!(odoo_integration_connectors::DeletePolicy::default(), odoo_integration_connectors::DeletePolicy::Propagate);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeletePolicy {
    /// Ask the sink to delete it (the Odoo connector archives).
    #[default]
    Propagate,
    /// Do not touch the sink; list it in [`RunSummary::deletes_reported`].
    Report,
    /// Do nothing.
    Ignore,
}

/// A field change the ownership policy refused, with the record it was for.
///
/// # Example
///
/// ```
/// use odoo_integration_model::{FieldValue, Refused, RemoteId, SystemId};
/// let r = odoo_integration_connectors::RefusedChange { remote_id: RemoteId::new("7"), refused: Refused {
///     field: "tax_id".into(), owner: Some(SystemId::odoo()), attempted: FieldValue::Null, reason: "not the owner".into() } };
/// assert_eq!(r.refused.field, "tax_id");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedChange {
    /// The source record.
    pub remote_id: RemoteId,
    /// What was refused and why.
    pub refused: Refused,
}

/// A conflict held for review, with the record it was for.
///
/// # Example
///
/// ```
/// use odoo_integration_model::{FieldValue, Held, RemoteId, SystemId};
/// let h = odoo_integration_connectors::HeldChange { remote_id: RemoteId::new("7"), held: Held { field: "legal_name".into(),
///     owner: Some(SystemId::odoo()), source: SystemId::hubspot(), change_id: "c".into(), current: FieldValue::Null, attempted: FieldValue::Null } };
/// assert_eq!(h.held.source.as_str(), "hubspot");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldChange {
    /// The source record.
    pub remote_id: RemoteId,
    /// The conflict.
    pub held: Held,
}

/// What a dry run would do with one record.
///
/// # Example
///
/// ```
/// let a = odoo_integration_connectors::PlannedAction::Update { fields: vec!["industry".into()] };
/// assert!(matches!(a, odoo_integration_connectors::PlannedAction::Update { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlannedAction {
    /// Write every field of a record new to the sink.
    Create,
    /// Write these fields.
    Update {
        /// The fields.
        fields: Vec<String>,
    },
    /// Delete (archive) it in the sink.
    Delete,
    /// Nothing to write.
    Unchanged,
    /// It would go to the dead-letter queue.
    Reject {
        /// Why.
        error: String,
    },
}

/// One record of a dry run's plan.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{PlannedAction, PlannedChange};
/// let p = PlannedChange { remote_id: odoo_integration_model::RemoteId::new("1"), action: PlannedAction::Create };
/// assert_eq!(p.action, PlannedAction::Create);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedChange {
    /// The source record.
    pub remote_id: RemoteId,
    /// What would happen.
    pub action: PlannedAction,
}

/// What a run did.
///
/// # Example
///
/// ```
/// let s = odoo_integration_connectors::RunSummary::default();
/// assert_eq!(s.read, 0);
/// assert!(s.is_no_op());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunSummary {
    /// Changes read from the source (or the dead-letter queue, on replay).
    pub read: usize,
    /// Records created in the sink.
    pub created: usize,
    /// Records updated in the sink.
    pub updated: usize,
    /// Records that needed nothing.
    pub unchanged: usize,
    /// Records deleted (archived) in the sink.
    pub deleted: usize,
    /// Deletes reported instead of applied ([`DeletePolicy::Report`]).
    pub deletes_reported: Vec<RemoteId>,
    /// Field changes refused by the ownership policy.
    pub refused: Vec<RefusedChange>,
    /// Conflicts held for review.
    pub held: Vec<HeldChange>,
    /// Records put in (or kept in) the dead-letter queue.
    pub dead_lettered: usize,
    /// Of those, records parked after too many attempts.
    pub parked: usize,
    /// Dead letters applied and removed (on replay, or when a record that
    /// failed before succeeds).
    pub recovered: usize,
    /// The plan, in a dry run (empty otherwise).
    pub planned: Vec<PlannedChange>,
}

impl RunSummary {
    /// Whether the run wrote nothing and failed nothing.
    ///
    /// # Example
    ///
    /// ```
    /// let mut s = odoo_integration_connectors::RunSummary::default();
    /// s.unchanged = 10;
    /// assert!(s.is_no_op());
    /// ```
    pub fn is_no_op(&self) -> bool {
        self.created == 0 && self.updated == 0 && self.deleted == 0 && self.dead_lettered == 0
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read {}, created {}, updated {}, unchanged {}, deleted {}, refused fields {}, held {}, dead-lettered {}",
            self.read,
            self.created,
            self.updated,
            self.unchanged,
            self.deleted,
            self.refused.len(),
            self.held.len(),
            self.dead_lettered
        )
    }
}

type Mapper<E> = Arc<dyn Fn(&mut SourceChange<E>) -> Result<()> + Send + Sync>;

/// Builds a [`Pipeline`].
///
/// # Example
///
/// See [`Pipeline`].
#[must_use]
pub struct PipelineBuilder<E: Entity> {
    pipeline: Pipeline<E>,
}

impl<E: Entity> fmt::Debug for PipelineBuilder<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.pipeline.fmt(f)
    }
}

impl<E: Entity + Default + Send + Sync + 'static> PipelineBuilder<E> {
    /// The ownership policy (default: no owners, every change applies).
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn policy(mut self, policy: Policy) -> Self {
        self.pipeline.policy = Arc::new(policy);
        self
    }
    /// Validation rules; a record that fails them is dead-lettered.
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn validator(mut self, validator: Validator<E>) -> Self {
        self.pipeline.validator = Arc::new(validator);
        self
    }
    /// A mapping step run on every change before anything else (fill a
    /// default, normalise a code); an error dead-letters the record.
    ///
    /// A record that fails later (validation, the sink) is dead-lettered
    /// as mapped and replayed without mapping it again; one whose mapping
    /// failed is dead-lettered as the step left it and mapped again on
    /// replay, so a step should be idempotent (trimming, defaulting and
    /// code tables are).
    ///
    /// # Example
    ///
    /// ```
    /// # use async_trait::async_trait;
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
    /// # use std::sync::{Arc, Mutex};
    /// # /// One page of clients, by name.
    /// # struct Csv(Vec<&'static str>);
    /// # impl Connector for Csv {
    /// #     fn system(&self) -> SystemId { SystemId::new("csv") }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Source<ClientCompany> for Csv {
    /// #     async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
    /// #         let at = chrono::Utc::now();
    /// #         let changes = self.0.iter().enumerate()
    /// #             .map(|(i, name)| SourceChange::upsert(i.to_string(), at, ClientCompany { legal_name: (*name).into(), ..Default::default() }))
    /// #             .collect();
    /// #         Ok(Page { changes, next: Cursor::new("1"), has_more: false })
    /// #     }
    /// # }
    /// # /// Keeps the clients it is given; its first `down` calls fail.
    /// # #[derive(Default)]
    /// # struct Erp { got: Mutex<Vec<ClientCompany>>, down: Mutex<u32> }
    /// # impl Connector for Erp {
    /// #     fn system(&self) -> SystemId { SystemId::odoo() }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Sink<ClientCompany> for Erp {
    /// #     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
    /// #         if let Ok(mut down) = self.down.lock() && *down > 0 {
    /// #             *down -= 1;
    /// #             return Err(ConnectorError::new(ConnectorErrorKind::Unavailable, "down for maintenance"));
    /// #         }
    /// #         let mut got = self.got.lock().unwrap();
    /// #         Ok(batch.into_iter().map(|r| {
    /// #             if let Operation::Upsert(c) = r.operation { got.push(c) }
    /// #             Outcome::Created(RemoteId::new(r.origin_id.as_str()))
    /// #         }).collect())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// let erp = Arc::new(Erp::default());
    /// let pipeline = Pipeline::<ClientCompany>::builder("csv→odoo", Arc::new(Csv(vec!["  Acme NV "])), erp.clone(), Arc::new(MemoryStore::new()))
    ///     .map(|change| {
    ///         if let Operation::Upsert(c) = &mut change.operation {
    ///             c.legal_name = c.legal_name.trim().to_owned();
    ///         }
    ///         Ok(())
    ///     })
    ///     .build()?;
    /// pipeline.run().await?;
    /// assert_eq!(erp.got.lock().unwrap()[0].legal_name, "Acme NV");
    /// # Ok(()) }
    /// ```
    pub fn map(
        mut self,
        f: impl Fn(&mut SourceChange<E>) -> Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.pipeline.mapper = Some(Arc::new(f));
        self
    }
    /// Changes read per page and records per sink call (default 100).
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn batch_size(mut self, n: usize) -> Self {
        self.pipeline.batch_size = n.max(1);
        self
    }
    /// Sink calls in flight at once (default 4).
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn concurrency(mut self, n: usize) -> Self {
        self.pipeline.concurrency = n.max(1);
        self
    }
    /// Attempts per call and per record within a run before a record is
    /// dead-lettered (default 4), with exponential backoff from `first_delay`.
    ///
    /// # Example
    ///
    /// ```
    /// # use async_trait::async_trait;
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
    /// # use std::sync::{Arc, Mutex};
    /// # /// One page of clients, by name.
    /// # struct Csv(Vec<&'static str>);
    /// # impl Connector for Csv {
    /// #     fn system(&self) -> SystemId { SystemId::new("csv") }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Source<ClientCompany> for Csv {
    /// #     async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
    /// #         let at = chrono::Utc::now();
    /// #         let changes = self.0.iter().enumerate()
    /// #             .map(|(i, name)| SourceChange::upsert(i.to_string(), at, ClientCompany { legal_name: (*name).into(), ..Default::default() }))
    /// #             .collect();
    /// #         Ok(Page { changes, next: Cursor::new("1"), has_more: false })
    /// #     }
    /// # }
    /// # /// Keeps the clients it is given; its first `down` calls fail.
    /// # #[derive(Default)]
    /// # struct Erp { got: Mutex<Vec<ClientCompany>>, down: Mutex<u32> }
    /// # impl Connector for Erp {
    /// #     fn system(&self) -> SystemId { SystemId::odoo() }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Sink<ClientCompany> for Erp {
    /// #     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
    /// #         if let Ok(mut down) = self.down.lock() && *down > 0 {
    /// #             *down -= 1;
    /// #             return Err(ConnectorError::new(ConnectorErrorKind::Unavailable, "down for maintenance"));
    /// #         }
    /// #         let mut got = self.got.lock().unwrap();
    /// #         Ok(batch.into_iter().map(|r| {
    /// #             if let Operation::Upsert(c) = r.operation { got.push(c) }
    /// #             Outcome::Created(RemoteId::new(r.origin_id.as_str()))
    /// #         }).collect())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// use std::time::Duration;
    /// let erp = Arc::new(Erp { down: Mutex::new(2), ..Erp::default() }); // fails twice
    /// let pipeline = Pipeline::<ClientCompany>::builder("csv→odoo", Arc::new(Csv(vec!["Acme"])), erp.clone(), Arc::new(MemoryStore::new()))
    ///     .attempts(6, Duration::from_millis(10))
    ///     .build()?;
    /// let summary = pipeline.run().await?;
    /// assert_eq!((summary.created, summary.dead_lettered), (1, 0)); // the third attempt went through
    /// # Ok(()) }
    /// ```
    pub fn attempts(mut self, attempts: u32, first_delay: Duration) -> Self {
        self.pipeline.attempts = attempts.max(1);
        self.pipeline.first_delay = first_delay;
        self
    }
    /// Dead letters are parked after this many failed attempts (default 5).
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn park_after(mut self, attempts: u32) -> Self {
        self.pipeline.park_after = attempts.max(1);
        self
    }
    /// What to do with deletes (default [`DeletePolicy::Propagate`]).
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn on_delete(mut self, policy: DeletePolicy) -> Self {
        self.pipeline.deletes = policy;
        self
    }
    /// Plan only: read and merge, write nothing (not even the stores).
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn dry_run(mut self, yes: bool) -> Self {
        self.pipeline.dry_run = yes;
        self
    }
    /// Rate limiters for the source and the sink (default: from each
    /// connector's declared [`Capabilities::rate_limit`](crate::Capabilities),
    /// unlimited if none). A `Retry-After` from the system pauses every
    /// task using the limiter; give pipelines that share a connector clones
    /// of one limiter so they share its budget and its pauses.
    ///
    /// # Example
    ///
    /// ```
    /// # use async_trait::async_trait;
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
    /// # use std::sync::{Arc, Mutex};
    /// # /// One page of clients, by name.
    /// # struct Csv(Vec<&'static str>);
    /// # impl Connector for Csv {
    /// #     fn system(&self) -> SystemId { SystemId::new("csv") }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Source<ClientCompany> for Csv {
    /// #     async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
    /// #         let at = chrono::Utc::now();
    /// #         let changes = self.0.iter().enumerate()
    /// #             .map(|(i, name)| SourceChange::upsert(i.to_string(), at, ClientCompany { legal_name: (*name).into(), ..Default::default() }))
    /// #             .collect();
    /// #         Ok(Page { changes, next: Cursor::new("1"), has_more: false })
    /// #     }
    /// # }
    /// # /// Keeps the clients it is given; its first `down` calls fail.
    /// # #[derive(Default)]
    /// # struct Erp { got: Mutex<Vec<ClientCompany>>, down: Mutex<u32> }
    /// # impl Connector for Erp {
    /// #     fn system(&self) -> SystemId { SystemId::odoo() }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Sink<ClientCompany> for Erp {
    /// #     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
    /// #         if let Ok(mut down) = self.down.lock() && *down > 0 {
    /// #             *down -= 1;
    /// #             return Err(ConnectorError::new(ConnectorErrorKind::Unavailable, "down for maintenance"));
    /// #         }
    /// #         let mut got = self.got.lock().unwrap();
    /// #         Ok(batch.into_iter().map(|r| {
    /// #             if let Operation::Upsert(c) = r.operation { got.push(c) }
    /// #             Outcome::Created(RemoteId::new(r.origin_id.as_str()))
    /// #         }).collect())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// use std::time::Duration;
    /// let limiter = RateLimiter::new(Quota::per_second(10));
    /// let pipeline = Pipeline::<ClientCompany>::builder("csv→odoo", Arc::new(Csv(vec!["Acme"])), Arc::new(Erp::default()), Arc::new(MemoryStore::new()))
    ///     .sink_limiter(limiter.clone())
    ///     .build()?;
    /// let start = std::time::Instant::now();
    /// limiter.pause_for(Duration::from_millis(100))?; // as a `Retry-After` would
    /// assert_eq!(pipeline.run().await?.created, 1);
    /// // The write waited for the pause to end (a bound, not a timing).
    /// assert!(start.elapsed() >= Duration::from_millis(100));
    /// # Ok(()) }
    /// ```
    pub fn sink_limiter(mut self, limiter: RateLimiter) -> Self {
        self.pipeline.sink_limiter = Some(limiter);
        self
    }
    /// The source's rate limiter; see [`sink_limiter`](Self::sink_limiter).
    ///
    /// # Example
    ///
    /// ```
    /// # use async_trait::async_trait;
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
    /// # use std::sync::{Arc, Mutex};
    /// # /// One page of clients, by name.
    /// # struct Csv(Vec<&'static str>);
    /// # impl Connector for Csv {
    /// #     fn system(&self) -> SystemId { SystemId::new("csv") }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Source<ClientCompany> for Csv {
    /// #     async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
    /// #         let at = chrono::Utc::now();
    /// #         let changes = self.0.iter().enumerate()
    /// #             .map(|(i, name)| SourceChange::upsert(i.to_string(), at, ClientCompany { legal_name: (*name).into(), ..Default::default() }))
    /// #             .collect();
    /// #         Ok(Page { changes, next: Cursor::new("1"), has_more: false })
    /// #     }
    /// # }
    /// # /// Keeps the clients it is given; its first `down` calls fail.
    /// # #[derive(Default)]
    /// # struct Erp { got: Mutex<Vec<ClientCompany>>, down: Mutex<u32> }
    /// # impl Connector for Erp {
    /// #     fn system(&self) -> SystemId { SystemId::odoo() }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Sink<ClientCompany> for Erp {
    /// #     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
    /// #         if let Ok(mut down) = self.down.lock() && *down > 0 {
    /// #             *down -= 1;
    /// #             return Err(ConnectorError::new(ConnectorErrorKind::Unavailable, "down for maintenance"));
    /// #         }
    /// #         let mut got = self.got.lock().unwrap();
    /// #         Ok(batch.into_iter().map(|r| {
    /// #             if let Operation::Upsert(c) = r.operation { got.push(c) }
    /// #             Outcome::Created(RemoteId::new(r.origin_id.as_str()))
    /// #         }).collect())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// use std::time::Duration;
    /// let limiter = RateLimiter::new(Quota::per_minute(600));
    /// let pipeline = Pipeline::<ClientCompany>::builder("csv→odoo", Arc::new(Csv(vec!["Acme"])), Arc::new(Erp::default()), Arc::new(MemoryStore::new()))
    ///     .source_limiter(limiter.clone())
    ///     .build()?;
    /// limiter.pause_for(Duration::from_millis(100))?;
    /// let start = std::time::Instant::now();
    /// assert_eq!(pipeline.run().await?.read, 1);
    /// assert!(start.elapsed() >= Duration::from_millis(100));
    /// # Ok(()) }
    /// ```
    pub fn source_limiter(mut self, limiter: RateLimiter) -> Self {
        self.pipeline.source_limiter = Some(limiter);
        self
    }
    /// The pipeline.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] when the source does not read `E` or
    /// the sink does not write it (per their capabilities).
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn build(mut self) -> Result<Pipeline<E>> {
        let p = &mut self.pipeline;
        let (source, sink) = (p.source.capabilities(), p.sink.capabilities());
        if !source.can_read(E::NAME) {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("{} does not read {}", p.source.system(), E::NAME),
            ));
        }
        if !sink.can_write(E::NAME) {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("{} does not write {}", p.sink.system(), E::NAME),
            ));
        }
        // A connector without a declared limit still gets a limiter: a
        // Retry-After from it must hold back every task of this pipeline.
        if p.source_limiter.is_none() {
            p.source_limiter = Some(RateLimiter::new(
                source.rate_limit.unwrap_or_else(Quota::unlimited),
            ));
        }
        if p.sink_limiter.is_none() {
            p.sink_limiter = Some(RateLimiter::new(
                sink.rate_limit.unwrap_or_else(Quota::unlimited),
            ));
        }
        Ok(self.pipeline)
    }
}

/// A sync of one entity from a source to a sink.
///
/// Each run reads pages from the stored checkpoint; for each change it maps
/// the record, resolves its identity (and its references) through the
/// cross-reference store, merges it into the canonical record under the
/// ownership policy, validates it, and hands what the policy let through to
/// the sink in batches, several in flight. A record that fails mapping,
/// validation, or the sink (after retries for what retrying can fix) goes
/// to the dead-letter queue; the rest carry on. The page's outcomes, the
/// cross-references and the canonical records are stored before the
/// checkpoint moves past them, so a run killed at any point loses nothing
/// and, with an idempotent sink, duplicates nothing when run again.
///
/// ## New records and the policy
///
/// The ownership policy guards records the sync already knows: a change
/// from a system that does not own a field is refused, applied when newer,
/// or held, as the field's strategy says. A record *new* to the sync has no
/// owner's value to protect, so by default its source seeds every field it
/// has, including fields another system owns (a CRM's first sync of a
/// contact writes its email into Odoo even when Odoo owns `email`). A field,
/// group or entity set to `seed = "owner-only"` in the policy (see
/// [`Seed`](odoo_integration_model::Seed)) is left empty instead, and the
/// value left out is reported in [`RunSummary::refused`] with the reason
/// `seeded by its owner only`.
///
/// # Example
///
/// ```
/// use odoo_integration_model::{ClientCompany, Policy};
/// use odoo_integration_connectors::{MemoryStore, Pipeline};
/// use std::sync::Arc;
/// # use async_trait::async_trait;
/// # use odoo_integration_model::SystemId;
/// # use odoo_integration_connectors::*;
/// # struct Csv;
/// # impl Connector for Csv { fn system(&self) -> SystemId { SystemId::new("csv") }
/// #   fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) } }
/// # #[async_trait] impl Source<ClientCompany> for Csv {
/// #   async fn read(&self, _: Option<&Cursor>, _: usize) -> odoo_integration_connectors::Result<Page<ClientCompany>> {
/// #     Ok(Page { changes: vec![SourceChange::upsert("1", chrono::Utc::now(), ClientCompany { legal_name: "Acme".into(), ..Default::default() })], next: Cursor::new("1"), has_more: false }) } }
/// # struct Erp;
/// # impl Connector for Erp { fn system(&self) -> SystemId { SystemId::odoo() }
/// #   fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) } }
/// # #[async_trait] impl Sink<ClientCompany> for Erp {
/// #   async fn apply(&self, b: Vec<SinkRecord<ClientCompany>>) -> odoo_integration_connectors::Result<Vec<Outcome>> {
/// #     Ok(b.iter().map(|r| Outcome::Created(odoo_integration_model::RemoteId::new(r.origin_id.as_str()))).collect()) } }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let state = Arc::new(MemoryStore::new());
/// let pipeline = Pipeline::<ClientCompany>::builder("csv→odoo/client", Arc::new(Csv), Arc::new(Erp), state)
///     .policy(Policy::from_toml("[client]\ndefault_owner = \"odoo\"\n").map_err(|e| odoo_integration_connectors::ConnectorError::new(odoo_integration_connectors::ConnectorErrorKind::Configuration, e.to_string()))?)
///     .batch_size(200)
///     .concurrency(4)
///     .park_after(5)
///     .on_delete(odoo_integration_connectors::DeletePolicy::Propagate)
///     .build()?;
/// let first = pipeline.run().await?;
/// assert_eq!(first.created, 1);
/// let again = pipeline.run().await?; // the source replays the same page
/// assert_eq!((again.created, again.unchanged), (0, 1));
/// # Ok(()) }
/// ```
pub struct Pipeline<E: Entity> {
    name: String,
    source: Arc<dyn Source<E>>,
    sink: Arc<dyn Sink<E>>,
    /// The two systems' ids, asked once.
    source_system: SystemId,
    sink_system: SystemId,
    state: Arc<dyn SyncState>,
    policy: Arc<Policy>,
    validator: Arc<Validator<E>>,
    mapper: Option<Mapper<E>>,
    batch_size: usize,
    concurrency: usize,
    attempts: u32,
    first_delay: Duration,
    park_after: u32,
    deletes: DeletePolicy,
    dry_run: bool,
    source_limiter: Option<RateLimiter>,
    sink_limiter: Option<RateLimiter>,
}

impl<E: Entity> fmt::Debug for Pipeline<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.name)
            .field("entity", &E::NAME)
            .field("source", &self.source_system)
            .field("sink", &self.sink_system)
            .field("batch_size", &self.batch_size)
            .field("concurrency", &self.concurrency)
            .field("dry_run", &self.dry_run)
            .finish_non_exhaustive()
    }
}

/// What the preparation of one change decided.
enum Prepared<E> {
    // Boxed: a page holds hundreds of these, moved several times.
    Send {
        record: Box<SinkRecord<E>>,
        /// The canonical record to store once the sink applied it.
        canonical: Option<Box<CanonicalRecord<E>>>,
        letter: Letter<E>,
    },
    Done {
        remote_id: RemoteId,
    },
    /// A dry run's plan for a record that would be sent.
    Planned(PlannedChange),
    Reject {
        error: ConnectorError,
        letter: Letter<E>,
    },
}

/// Enough to file a dead letter: the change is only encoded if it fails.
struct Letter<E> {
    remote_id: RemoteId,
    /// The change; `None` keeps the payload already filed.
    change: Option<Box<SourceChange<E>>>,
    /// Whether `change` has been through the mapping step.
    mapped: bool,
    /// The change's record was moved into the canonical record (a new
    /// record seeded from it); put it back before filing the letter.
    data_in_record: bool,
}

/// What one page needs from the stores, asked once per page.
struct Lookups<E> {
    /// Canonical ids of the page's records and of what they reference, by
    /// entity and the source's id.
    ids: HashMap<String, HashMap<RemoteId, CanonicalId>>,
    /// Ids allocated in this page, to be linked before anything is sent.
    new: Vec<Link>,
    /// The sink's id of each canonical record that has one.
    targets: HashMap<CanonicalId, RemoteId>,
    /// The stored canonical records.
    records: HashMap<CanonicalId, CanonicalRecord<E>>,
}

impl<E> Lookups<E> {
    fn id(&self, entity: &str, remote: &RemoteId) -> Option<CanonicalId> {
        self.ids.get(entity).and_then(|m| m.get(remote)).copied()
    }
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Starts a pipeline named `name` (the checkpoint key) from `source` to
    /// `sink`, keeping its state in `state`.
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn builder(
        name: impl Into<String>,
        source: Arc<dyn Source<E>>,
        sink: Arc<dyn Sink<E>>,
        state: Arc<dyn SyncState>,
    ) -> PipelineBuilder<E> {
        PipelineBuilder {
            pipeline: Pipeline {
                name: name.into(),
                source_system: source.system(),
                sink_system: sink.system(),
                source,
                sink,
                state,
                policy: Arc::new(Policy::default()),
                validator: Arc::new(Validator::new()),
                mapper: None,
                batch_size: 100,
                concurrency: 4,
                attempts: 4,
                first_delay: Duration::from_millis(200),
                park_after: 5,
                deletes: DeletePolicy::Propagate,
                dry_run: false,
                source_limiter: None,
                sink_limiter: None,
            },
        }
    }

    /// The pipeline's name, also its checkpoint key.
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs from the stored checkpoint to the end of the source.
    ///
    /// # Errors
    ///
    /// The source failed beyond its retries, or a store failed. Records
    /// already applied stay applied and recorded; the checkpoint stays at
    /// the last page fully recorded, so the next run resumes there.
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub async fn run(&self) -> Result<RunSummary> {
        let span = tracing::info_span!("sync", pipeline = %self.name, entity = E::NAME, dry_run = self.dry_run);
        self.run_pages().instrument(span).await
    }

    async fn run_pages(&self) -> Result<RunSummary> {
        let mut summary = RunSummary::default();
        let mut cursor = self.state.checkpoint(&self.name).await?;
        loop {
            let page = self.read_page(cursor.as_ref()).await?;
            summary.read += page.changes.len();
            tracing::debug!(pipeline = %self.name, changes = page.changes.len(), "page read");
            self.process(page.changes, false, &mut summary).await?;
            if !self.dry_run {
                self.state.save_checkpoint(&self.name, &page.next).await?;
            }
            cursor = Some(page.next);
            if !page.has_more {
                break;
            }
        }
        tracing::info!(pipeline = %self.name, %summary, "sync finished");
        Ok(summary)
    }

    /// Re-submits the dead letters of this pipeline's entity and source that
    /// are not parked: those that succeed are removed, those that fail
    /// count one more attempt and are parked after
    /// [`park_after`](PipelineBuilder::park_after) attempts.
    ///
    /// # Errors
    ///
    /// A store failed.
    ///
    /// # Example
    ///
    /// ```
    /// # use async_trait::async_trait;
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
    /// # use std::sync::{Arc, Mutex};
    /// # /// One page of clients, by name.
    /// # struct Csv(Vec<&'static str>);
    /// # impl Connector for Csv {
    /// #     fn system(&self) -> SystemId { SystemId::new("csv") }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Source<ClientCompany> for Csv {
    /// #     async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
    /// #         let at = chrono::Utc::now();
    /// #         let changes = self.0.iter().enumerate()
    /// #             .map(|(i, name)| SourceChange::upsert(i.to_string(), at, ClientCompany { legal_name: (*name).into(), ..Default::default() }))
    /// #             .collect();
    /// #         Ok(Page { changes, next: Cursor::new("1"), has_more: false })
    /// #     }
    /// # }
    /// # /// Keeps the clients it is given; its first `down` calls fail.
    /// # #[derive(Default)]
    /// # struct Erp { got: Mutex<Vec<ClientCompany>>, down: Mutex<u32> }
    /// # impl Connector for Erp {
    /// #     fn system(&self) -> SystemId { SystemId::odoo() }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Sink<ClientCompany> for Erp {
    /// #     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
    /// #         if let Ok(mut down) = self.down.lock() && *down > 0 {
    /// #             *down -= 1;
    /// #             return Err(ConnectorError::new(ConnectorErrorKind::Unavailable, "down for maintenance"));
    /// #         }
    /// #         let mut got = self.got.lock().unwrap();
    /// #         Ok(batch.into_iter().map(|r| {
    /// #             if let Operation::Upsert(c) = r.operation { got.push(c) }
    /// #             Outcome::Created(RemoteId::new(r.origin_id.as_str()))
    /// #         }).collect())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// use std::time::Duration;
    /// let erp = Arc::new(Erp { down: Mutex::new(1), ..Erp::default() }); // down for the first call
    /// let p = Pipeline::<ClientCompany>::builder("csv→odoo", Arc::new(Csv(vec!["Acme"])), erp.clone(), Arc::new(MemoryStore::new()))
    ///     .attempts(1, Duration::ZERO)
    ///     .build()?;
    /// assert_eq!(p.run().await?.dead_lettered, 1);
    /// let summary = p.replay().await?; // the sink is back
    /// assert_eq!((summary.recovered, summary.dead_lettered), (1, 0));
    /// assert_eq!(erp.got.lock().unwrap().len(), 1);
    ///
    /// # Ok(()) }
    /// ```
    pub async fn replay(&self) -> Result<RunSummary> {
        let system = self.source_system.clone();
        let mut summary = RunSummary::default();
        let mut changes = Vec::new();
        for letter in self.state.letters(E::NAME).await? {
            if letter.parked || letter.system != system {
                continue;
            }
            match serde_json::from_value::<SourceChange<E>>(letter.payload.clone()) {
                Ok(change) => changes.push((letter.mapped, change)),
                Err(e) => {
                    let error = ConnectorError::new(
                        ConnectorErrorKind::Mapping,
                        format!("the stored change no longer decodes: {e}"),
                    );
                    let mut parked = letter.clone();
                    parked.error = (&error).into();
                    parked.parked = true;
                    self.state.put(parked).await?;
                    summary.parked += 1;
                }
            }
        }
        summary.read = changes.len();
        // Those not yet mapped, then those that were.
        let (done, todo): (Vec<_>, Vec<_>) = changes.into_iter().partition(|(m, _)| *m);
        for (mapped, group) in [(false, todo), (true, done)] {
            let mut group = group.into_iter().map(|(_, c)| c).peekable();
            while group.peek().is_some() {
                let chunk: Vec<SourceChange<E>> = group.by_ref().take(self.batch_size).collect();
                self.process(chunk, mapped, &mut summary).await?;
            }
        }
        tracing::info!(pipeline = %self.name, %summary, "dead letters replayed");
        Ok(summary)
    }

    async fn read_page(&self, cursor: Option<&Cursor>) -> Result<crate::Page<E>> {
        let mut delays = self.backoff();
        loop {
            if let Some(l) = &self.source_limiter {
                l.acquire().await;
            }
            match self.source.read(cursor, self.batch_size).await {
                Ok(page) => return Ok(page),
                Err(e) if e.is_retryable() => {
                    let Some(delay) = delays.next() else {
                        return Err(e);
                    };
                    tracing::warn!(pipeline = %self.name, error = %e, "source read failed, retrying");
                    if !self.wait(&e, delay, self.source_limiter.as_ref()).await {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn backoff(&self) -> impl Iterator<Item = Duration> + use<E> {
        ExponentialBuilder::default()
            .with_min_delay(self.first_delay)
            .with_max_delay(self.first_delay * 32)
            .with_max_times(self.attempts.saturating_sub(1) as usize)
            .with_jitter()
            .build()
    }

    /// Waits before a retry: at least the system's `Retry-After`, which
    /// also pauses every other caller of that limiter. `false` (nothing
    /// waited) when the system asked for longer than the limiter's ceiling
    /// ([`RateLimiter::max_pause`]): the caller gives up on this attempt
    /// and keeps the error, which carries the requested wait.
    async fn wait(
        &self,
        e: &ConnectorError,
        delay: Duration,
        limiter: Option<&RateLimiter>,
    ) -> bool {
        match (e.retry_after(), limiter) {
            (Some(after), Some(l)) => {
                if let Err(refused) = l.pause_for(after) {
                    tracing::warn!(pipeline = %self.name, %refused, "not retrying");
                    return false;
                }
                tokio::time::sleep(delay).await;
            }
            (Some(after), None) if after > crate::rate_limit::DEFAULT_MAX_PAUSE => return false,
            (Some(after), None) => tokio::time::sleep(after.max(delay)).await,
            (None, _) => tokio::time::sleep(delay).await,
        }
        true
    }

    /// Prepares, applies and records one batch of changes.
    /// `already_mapped`: the changes have been through the mapping step
    /// (dead letters that failed after it).
    async fn process(
        &self,
        changes: Vec<SourceChange<E>>,
        already_mapped: bool,
        summary: &mut RunSummary,
    ) -> Result<()> {
        // The same record twice in a page: its last change stands.
        let mut last: HashMap<&RemoteId, usize> = HashMap::with_capacity(changes.len());
        for (i, c) in changes.iter().enumerate() {
            last.insert(&c.remote_id, i);
        }
        let keep: Vec<bool> = (0..changes.len())
            .map(|i| last.get(&changes[i].remote_id) == Some(&i))
            .collect();
        drop(last);
        let mut prepared = Vec::with_capacity(changes.len());
        let mut mapped = Vec::with_capacity(changes.len());
        for (change, keep) in changes.into_iter().zip(keep) {
            if !keep {
                summary.unchanged += 1;
                continue;
            }
            match self.map_change(change, already_mapped) {
                Ok(m) => mapped.push(m),
                Err(rejected) => prepared.push(rejected),
            }
        }
        let mut lookups = self.look_up(&mapped).await?;
        for change in mapped {
            prepared.push(self.prepare(change, &mut lookups, summary));
        }
        let mut unresolved = self
            .link_references(prepared.iter_mut().filter_map(|p| match p {
                Prepared::Send { record, .. } => Some(&mut **record),
                _ => None,
            }))
            .await?;
        if self.dry_run {
            summary.planned.extend(prepared.into_iter().map(plan));
            return Ok(());
        }
        // New identities first: a rerun must find the same canonical ids.
        if !lookups.new.is_empty() {
            self.state.link(&lookups.new).await?;
        }
        let mut to_send = Vec::new();
        let mut rejected = Vec::new();
        for p in prepared {
            match p {
                Prepared::Send {
                    record,
                    canonical,
                    letter,
                } => to_send.push((record, canonical, letter)),
                Prepared::Done { .. } => summary.unchanged += 1,
                Prepared::Reject { error, letter } => rejected.push((letter, error)),
                // Only made in a dry run, which returned above.
                Prepared::Planned(_) => {}
            }
        }
        let system = self.source_system.clone();
        let sink_system = self.sink_system.clone();
        let mut records = Vec::new();
        let mut recovered = Vec::new();
        // Records that refer to records of this page not yet in the sink
        // (an employee and their manager, new together) go in a later
        // wave, once the sink has given the referred ones their ids.
        let mut waiting = to_send;
        while !waiting.is_empty() {
            // Only a reference still without a sink id can wait for a
            // record of this page; usually there is none, and all go.
            let (wave, later) = if unresolved {
                next_wave(waiting)
            } else {
                (waiting, Vec::new())
            };
            waiting = later;
            let chunks: Vec<Vec<_>> = chunked(wave, self.batch_size);
            let results: Vec<_> =
                futures::stream::iter(chunks.into_iter().map(|chunk| async move {
                    let (records, rest): (Vec<SinkRecord<E>>, Vec<_>) = chunk
                        .into_iter()
                        .map(|(record, canonical, letter)| (*record, (canonical, letter)))
                        .unzip();
                    let ids: Vec<CanonicalId> = records.iter().map(|r| r.id).collect();
                    let outcomes = self.apply(records).await;
                    (ids, rest, outcomes)
                }))
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            let mut links = Vec::new();
            for (ids, rest, outcomes) in results {
                for ((id, (canonical, letter)), outcome) in ids.into_iter().zip(rest).zip(outcomes)
                {
                    match outcome {
                        Outcome::Failed(error) => {
                            let mut letter = letter;
                            if letter.data_in_record
                                && let (Some(record), Some(change)) =
                                    (canonical, &mut letter.change)
                            {
                                change.operation = Operation::Upsert(record.data);
                            }
                            rejected.push((letter, error))
                        }
                        ok => {
                            match &ok {
                                Outcome::Created(_) => summary.created += 1,
                                Outcome::Updated(_) => summary.updated += 1,
                                Outcome::Unchanged(_) => summary.unchanged += 1,
                                Outcome::Deleted(_) => summary.deleted += 1,
                                Outcome::Failed(_) => {}
                            }
                            if let Some(remote) = ok.remote_id() {
                                links.push(Link::new(
                                    E::NAME,
                                    id,
                                    sink_system.clone(),
                                    remote.clone(),
                                ));
                            }
                            if let Some(c) = canonical {
                                records.push((c.id, StoredRecord::encode(&c)?));
                            }
                            recovered.push(DeadLetter::key_of(E::NAME, &system, &letter.remote_id));
                        }
                    }
                }
            }
            self.record_links(links, &mut rejected).await?;
            if !waiting.is_empty() {
                unresolved = self
                    .link_references(waiting.iter_mut().map(|(r, _, _)| &mut **r))
                    .await?;
            }
        }
        if !records.is_empty() {
            self.state.save_records(E::NAME, records).await?;
        }
        summary.recovered += self.state.remove_many(&recovered).await?;
        for (letter, error) in rejected {
            self.dead_letter(letter, &error, summary).await?;
        }
        Ok(())
    }

    /// Runs the mapping step (unless the change has been through it). A
    /// change that fails it is dead-lettered as the step left it, to be
    /// mapped again on replay: mapping steps must be idempotent.
    fn map_change(
        &self,
        mut change: SourceChange<E>,
        mapped: bool,
    ) -> std::result::Result<SourceChange<E>, Prepared<E>> {
        let Some(map) = self.mapper.as_ref().filter(|_| !mapped) else {
            return Ok(change);
        };
        match map(&mut change) {
            Ok(()) => Ok(change),
            Err(error) => Err(Prepared::Reject {
                error,
                letter: Letter {
                    remote_id: change.remote_id.clone(),
                    change: Some(Box::new(change)),
                    mapped: false,
                    data_in_record: false,
                },
            }),
        }
    }

    /// Asks the stores, once per page, for everything preparing its changes
    /// needs, and allocates canonical ids for records seen the first time.
    async fn look_up(&self, page: &[SourceChange<E>]) -> Result<Lookups<E>> {
        let system = self.source_system.clone();
        let sink_system = self.sink_system.clone();
        let mut wanted: HashMap<&str, Vec<RemoteId>> = HashMap::new();
        wanted.insert(E::NAME, Vec::with_capacity(page.len()));
        for change in page {
            wanted
                .entry(E::NAME)
                .or_default()
                .push(change.remote_id.clone());
            for reference in change.refs.values() {
                wanted
                    .entry(reference.entity.as_str())
                    .or_default()
                    .push(reference.remote_id.clone());
            }
        }
        let mut lookups = Lookups {
            ids: HashMap::new(),
            new: Vec::new(),
            targets: HashMap::new(),
            records: HashMap::new(),
        };
        let mut known = Vec::new();
        for (entity, mut remotes) in wanted {
            remotes.sort_unstable();
            remotes.dedup();
            let found = self.state.resolve_many(entity, &system, &remotes).await?;
            let ids = lookups
                .ids
                .entry(entity.to_owned())
                .or_insert_with(|| HashMap::with_capacity(remotes.len()));
            for (remote, id) in remotes.into_iter().zip(found) {
                let id = match id {
                    Some(id) => {
                        known.push(id);
                        id
                    }
                    None => {
                        let id = CanonicalId::new();
                        lookups
                            .new
                            .push(Link::new(entity, id, system.clone(), remote.clone()));
                        id
                    }
                };
                ids.insert(remote, id);
            }
        }
        if known.is_empty() {
            return Ok(lookups);
        }
        for (id, refs) in known.iter().zip(self.state.cross_refs_many(&known).await?) {
            if let Some(remote) = refs.get(&sink_system) {
                lookups.targets.insert(*id, remote.clone());
            }
        }
        // Only this entity's records are read; references need no record.
        let own: Vec<CanonicalId> = page
            .iter()
            .filter_map(|c| lookups.id(E::NAME, &c.remote_id))
            .filter(|id| known.contains(id))
            .collect();
        for (id, stored) in own.iter().zip(self.state.records(E::NAME, &own).await?) {
            if let Some(stored) = stored {
                let record: CanonicalRecord<E> = stored.decode().map_err(|e| {
                    ConnectorError::store(format!(
                        "the stored {} {id} does not decode: {}",
                        E::NAME,
                        e.message()
                    ))
                })?;
                lookups.records.insert(*id, record);
            }
        }
        Ok(lookups)
    }

    /// Fills in the sink's ids of the records that records to send refer
    /// to, asking the store once. True when some reference is still
    /// without a sink id (its record is new, or not written yet).
    async fn link_references<'a>(
        &self,
        records: impl Iterator<Item = &'a mut SinkRecord<E>>,
    ) -> Result<bool>
    where
        E: 'a,
    {
        // Each record to send with the canonical ids it refers to.
        let mut referring: Vec<(&mut SinkRecord<E>, Vec<CanonicalId>)> = Vec::new();
        for record in records {
            if let Operation::Upsert(data) = &record.operation {
                let ids: Vec<CanonicalId> = data
                    .references()
                    .into_iter()
                    .map(|(_, id)| id)
                    .filter(|id| !record.links.contains_key(id))
                    .collect();
                if !ids.is_empty() {
                    referring.push((record, ids));
                }
            }
        }
        if referring.is_empty() {
            return Ok(false);
        }
        let mut wanted: Vec<CanonicalId> = referring
            .iter()
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let refs = self.state.cross_refs_many(&wanted).await?;
        let remote: HashMap<CanonicalId, RemoteId> = wanted
            .into_iter()
            .zip(refs)
            .filter_map(|(id, refs)| refs.get(&self.sink_system).map(|r| (id, r.clone())))
            .collect();
        let mut unresolved = false;
        for (record, ids) in referring {
            for id in ids {
                match remote.get(&id) {
                    Some(r) => {
                        record.links.insert(id, r.clone());
                    }
                    None => unresolved = true,
                }
            }
        }
        Ok(unresolved)
    }

    /// Stores the sink's ids; a link that conflicts with an existing one
    /// (two source records written to one sink record) is dead-lettered.
    async fn record_links(
        &self,
        links: Vec<Link>,
        rejected: &mut Vec<(Letter<E>, ConnectorError)>,
    ) -> Result<()> {
        if links.is_empty() || self.state.link(&links).await.is_ok() {
            return Ok(());
        }
        for link in links {
            if let Err(e) = self.state.link(std::slice::from_ref(&link)).await {
                if e.kind() != ConnectorErrorKind::Store {
                    return Err(e);
                }
                let remote_id = self
                    .state
                    .cross_refs(link.id)
                    .await?
                    .get(&self.source_system.clone())
                    .cloned()
                    .unwrap_or_else(|| link.remote_id.clone());
                rejected.push((
                    Letter {
                        remote_id,
                        change: None,
                        mapped: false,
                        data_in_record: false,
                    },
                    ConnectorError::new(ConnectorErrorKind::Ambiguous, e.message().to_owned()),
                ));
            }
        }
        Ok(())
    }

    async fn dead_letter(
        &self,
        letter: Letter<E>,
        error: &ConnectorError,
        summary: &mut RunSummary,
    ) -> Result<()> {
        let system = self.source_system.clone();
        let payload = match &letter.change {
            Some(change) => serde_json::to_value(change)
                .map_err(|e| ConnectorError::store(format!("encoding a dead letter: {e}")))?,
            None => serde_json::Value::Null,
        };
        let mut l = DeadLetter::new(E::NAME, system, letter.remote_id, payload, error);
        l.mapped = letter.mapped;
        if let Some(previous) = self.state.letter(&l.key).await? {
            l.attempts = previous.attempts.saturating_add(1);
            l.first_seen = previous.first_seen;
            if l.payload.is_null() {
                l.payload = previous.payload;
                l.mapped = previous.mapped;
            }
        }
        l.parked = l.attempts >= self.park_after;
        tracing::warn!(pipeline = %self.name, key = %l.key, kind = %error.kind(), attempts = l.attempts, parked = l.parked, "dead-lettered");
        summary.dead_lettered += 1;
        if l.parked {
            summary.parked += 1;
        }
        self.state.put(l).await
    }

    /// Decides what to do with one mapped change, from what the page's
    /// lookups found.
    /// step changed it.
    fn prepare(
        &self,
        mut change: SourceChange<E>,
        lookups: &mut Lookups<E>,
        summary: &mut RunSummary,
    ) -> Prepared<E> {
        let system = self.source_system.clone();
        let Some(id) = lookups.id(E::NAME, &change.remote_id) else {
            // Unreachable: look_up gave every record of the page an id.
            return Prepared::Reject {
                error: ConnectorError::new(
                    ConnectorErrorKind::Protocol,
                    "no identity was allocated",
                ),
                letter: Letter {
                    remote_id: change.remote_id.clone(),
                    change: Some(Box::new(change)),
                    mapped: true,
                    data_in_record: false,
                },
            };
        };
        let target = lookups.targets.get(&id).cloned();
        let current = lookups.records.remove(&id);
        macro_rules! reject {
            ($error:expr) => {
                return Prepared::Reject {
                    error: $error,
                    letter: Letter {
                        remote_id: change.remote_id.clone(),
                        change: Some(Box::new(change)),
                        mapped: true,
                        data_in_record: false,
                    },
                }
            };
        }
        let data = match &mut change.operation {
            Operation::Delete => {
                if target.is_none() && current.is_none() {
                    return Prepared::Done {
                        remote_id: change.remote_id,
                    };
                }
                match self.deletes {
                    DeletePolicy::Ignore => {
                        return Prepared::Done {
                            remote_id: change.remote_id,
                        };
                    }
                    DeletePolicy::Report => {
                        summary.deletes_reported.push(change.remote_id.clone());
                        return Prepared::Done {
                            remote_id: change.remote_id,
                        };
                    }
                    DeletePolicy::Propagate => {}
                }
                let remote_id = change.remote_id.clone();
                let mut record = SinkRecord::new(id, system, remote_id.clone(), Operation::Delete);
                record.target_id = target;
                return Prepared::Send {
                    record: Box::new(record),
                    canonical: None,
                    letter: Letter {
                        remote_id,
                        change: Some(Box::new(change)),
                        mapped: true,
                        data_in_record: false,
                    },
                };
            }
            Operation::Upsert(data) => data,
        };
        for (field, reference) in &change.refs {
            let Some(rid) = lookups.id(&reference.entity, &reference.remote_id) else {
                reject!(ConnectorError::new(
                    ConnectorErrorKind::Protocol,
                    "no identity was allocated for a reference"
                ));
            };
            if let Err(e) = data.set(field, FieldValue::Id(rid)) {
                reject!(ConnectorError::new(
                    ConnectorErrorKind::Mapping,
                    e.to_string()
                ));
            }
        }
        let change_id = change_id(&system, &change.remote_id, change.at);
        // Only what differs goes further: equal values change nothing, and
        // comparing the structs spares building their values.
        let fresh = E::default();
        let base = current.as_ref().map_or(&fresh, |r| &r.data);
        // A record new to us has no owner to protect yet: the source seeds
        // it whole, also the parts that have no field name (a contract's
        // billing model). Later changes go through the policy.
        let seeding = current.is_none() && change.fields.is_none();
        let differing: Vec<&'static str> = match &change.fields {
            None if seeding => Vec::new(), // the seed finds them itself
            None => data.changed_fields(base),
            Some(known) => {
                let mut out = Vec::with_capacity(known.len());
                for field in known {
                    // The entity's own name for the field, which lives forever.
                    let Some(name) = E::FIELDS.iter().find(|f| *f == field) else {
                        reject!(ConnectorError::new(
                            ConnectorErrorKind::Mapping,
                            format!("{} has no field `{field}`", E::NAME),
                        ));
                    };
                    if data.get(name) != base.get(name) {
                        out.push(*name);
                    }
                }
                out
            }
        };
        if current.is_none() && self.policy.restricts_seeding(E::NAME) {
            // Fields the policy lets only their owner seed stay empty.
            for field in E::FIELDS {
                let rule = self.policy.rule(E::NAME, field);
                let (Some(value), empty) = (data.get(field), fresh.get(field)) else {
                    continue;
                };
                if rule.seeds_from(&system) || Some(&value) == empty.as_ref() {
                    continue;
                }
                if let Err(e) = data.set(field, empty.unwrap_or(FieldValue::Null)) {
                    reject!(ConnectorError::new(
                        ConnectorErrorKind::Mapping,
                        e.to_string()
                    ));
                }
                summary.refused.push(RefusedChange {
                    remote_id: change.remote_id.clone(),
                    refused: Refused {
                        field: (*field).to_owned(),
                        owner: rule.owner,
                        attempted: value,
                        reason: "seeded by its owner only".into(),
                    },
                });
            }
        }
        let mut taken = false;
        let (record, applied): (CanonicalRecord<E>, Vec<&'static str>) = match current {
            None if seeding => {
                // Moved, not copied: a letter gets it back if need be.
                taken = true;
                let record = CanonicalRecord::seed(
                    id,
                    std::mem::take(data),
                    &fresh,
                    &system,
                    change_id.into(),
                    change.at,
                );
                // The fields written, needed only to update a record the
                // sink already has (the stored canonical one was lost).
                let applied = match target {
                    Some(_) => record
                        .trail()
                        .iter()
                        .filter_map(|p| E::FIELDS.iter().find(|f| **f == p.field).copied())
                        .collect(),
                    None => differing,
                };
                (record, applied)
            }
            current => {
                let open = Policy::default();
                let (mut record, policy) = match current {
                    Some(r) => (r, &*self.policy),
                    None => (CanonicalRecord::with_id(id, E::default()), &open),
                };
                let mut incoming = Change::new(change_id, change.at);
                for field in differing {
                    if let Some(value) = data.get(field) {
                        incoming = incoming.with(field, value);
                    }
                }
                let merged = match merge(&mut record, &incoming, &system, policy) {
                    Ok(m) => m,
                    Err(e) => reject!(ConnectorError::new(
                        ConnectorErrorKind::Mapping,
                        e.to_string()
                    )),
                };
                let applied = merged
                    .applied
                    .iter()
                    .filter_map(|p| E::FIELDS.iter().find(|f| **f == p.field).copied())
                    .collect();
                summary
                    .refused
                    .extend(merged.refused.into_iter().map(|refused| RefusedChange {
                        remote_id: change.remote_id.clone(),
                        refused,
                    }));
                summary
                    .held
                    .extend(merged.held.into_iter().map(|held| HeldChange {
                        remote_id: change.remote_id.clone(),
                        held,
                    }));
                (record, applied)
            }
        };
        let failures = self.validator.validate(&record.data);
        if !failures.is_empty() {
            if taken {
                *data = record.data.clone();
            }
            let detail: Vec<String> = failures
                .iter()
                .map(|f| format!("{} ({})", f.code, f.field))
                .collect();
            reject!(ConnectorError::new(
                ConnectorErrorKind::Validation,
                format!("{} is not ready: {}", E::NAME, detail.join(", ")),
            ));
        }
        if applied.is_empty() && target.is_some() {
            return Prepared::Done {
                remote_id: change.remote_id,
            };
        }
        let fields = target.is_some().then(|| {
            let mut fields: Vec<String> = applied.iter().map(|f| (*f).to_owned()).collect();
            fields.dedup();
            fields
        });
        if self.dry_run {
            // A plan needs no payload for the sink.
            return Prepared::Planned(PlannedChange {
                remote_id: change.remote_id,
                action: match fields {
                    None => PlannedAction::Create,
                    Some(fields) => PlannedAction::Update { fields },
                },
            });
        }
        let remote_id = change.remote_id.clone();
        let letter = Letter {
            remote_id: remote_id.clone(),
            change: Some(Box::new(change)),
            mapped: true,
            data_in_record: taken,
        };
        let mut sink_record = SinkRecord::new(
            id,
            system,
            remote_id,
            Operation::Upsert(record.data.clone()),
        );
        sink_record.fields = fields;
        sink_record.target_id = target;
        Prepared::Send {
            record: Box::new(sink_record),
            canonical: Some(Box::new(record)),
            letter,
        }
    }

    /// Sends records to the sink with retries; one outcome per record.
    ///
    /// A record new to the sink whose earlier attempt failed without an
    /// answer (a lost reply, a timeout, a 5xx) may have been created by
    /// that attempt: when a retry then finds it there (unchanged, or
    /// updated), it was created by this run, and counts as created.
    async fn apply(&self, records: Vec<SinkRecord<E>>) -> Vec<Outcome> {
        let system = self.sink_system.clone();
        let mut results: Vec<Option<Outcome>> = records.iter().map(|_| None).collect();
        let mut unsure = vec![false; records.len()];
        let settle = |i: usize, outcome: Outcome, unsure: &[bool]| match outcome {
            Outcome::Unchanged(id) | Outcome::Updated(id)
                if unsure[i]
                    && records[i].target_id.is_none()
                    && matches!(records[i].operation, Operation::Upsert(_)) =>
            {
                Outcome::Created(id)
            }
            other => other,
        };
        let mut pending: Vec<usize> = (0..records.len()).collect();
        let mut delays = self.backoff();
        loop {
            if let Some(l) = &self.sink_limiter {
                l.acquire().await;
            }
            let batch: Vec<SinkRecord<E>> = pending.iter().map(|&i| records[i].clone()).collect();
            let sent = batch.len();
            let answer = self
                .sink
                .apply(batch)
                .await
                .and_then(|o| check_outcomes(&system, sent, &o).map(|()| o));
            let delay = delays.next();
            let mut retry_after: Option<ConnectorError> = None;
            match answer {
                Err(e) => {
                    if delay.is_none() || !e.is_retryable() {
                        for &i in &pending {
                            results[i] = Some(Outcome::Failed(copy_error(&e)));
                        }
                        pending.clear();
                    } else {
                        tracing::warn!(pipeline = %self.name, error = %e, "sink call failed, retrying");
                        if outcome_unknown(&e) {
                            for &i in &pending {
                                unsure[i] = true;
                            }
                        }
                        retry_after = Some(e);
                    }
                }
                Ok(outcomes) => {
                    let mut still = Vec::new();
                    for (&i, outcome) in pending.iter().zip(outcomes) {
                        match outcome {
                            Outcome::Failed(e) if e.is_retryable() && delay.is_some() => {
                                unsure[i] |= outcome_unknown(&e);
                                // Keep a rate limit's error: its wait matters.
                                if e.retry_after().is_some() || retry_after.is_none() {
                                    retry_after = Some(e);
                                }
                                still.push(i);
                            }
                            other => results[i] = Some(settle(i, other, &unsure)),
                        }
                    }
                    pending = still;
                }
            }
            match (pending.is_empty(), delay, retry_after) {
                (true, _, _) => break,
                (false, Some(delay), Some(e)) => {
                    if !self.wait(&e, delay, self.sink_limiter.as_ref()).await {
                        // Asked to wait past the ceiling: these records
                        // fail now with the rate limit (dead letters,
                        // replayed later) instead of holding the run.
                        for &i in &pending {
                            results[i] = Some(Outcome::Failed(copy_error(&e)));
                        }
                        break;
                    }
                }
                (false, Some(delay), None) => tokio::time::sleep(delay).await,
                (false, None, _) => break,
            }
        }
        fill_outcomes(results, "no outcome")
    }
}

/// `true` when a failed call may still have taken effect: the request may
/// have reached the system and only its answer went missing.
fn outcome_unknown(e: &ConnectorError) -> bool {
    matches!(
        e.kind(),
        ConnectorErrorKind::Transport
            | ConnectorErrorKind::Unavailable
            | ConnectorErrorKind::Protocol
    )
}

/// `system:remote@time`, the time as RFC 3339 in UTC (what
/// `DateTime::to_rfc3339` gives). Runs for every record, so the digits are
/// written by hand rather than through `format!`.
fn change_id(system: &SystemId, remote: &RemoteId, at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    fn digits(out: &mut String, n: u32, width: u32) {
        let mut div = 10u32.pow(width - 1);
        while div > 0 {
            out.push(char::from(b'0' + ((n / div) % 10) as u8));
            div /= 10;
        }
    }
    let mut id = String::with_capacity(system.as_str().len() + remote.as_str().len() + 40);
    id.push_str(system.as_str());
    id.push(':');
    id.push_str(remote.as_str());
    id.push('@');
    let year = at.year();
    if (0..=9999).contains(&year) {
        digits(&mut id, year as u32, 4);
    } else {
        id.push_str(&year.to_string());
    }
    for (sep, n) in [('-', at.month()), ('-', at.day()), ('T', at.hour())] {
        id.push(sep);
        digits(&mut id, n, 2);
    }
    for n in [at.minute(), at.second()] {
        id.push(':');
        digits(&mut id, n, 2);
    }
    match at.nanosecond() % 1_000_000_000 {
        0 => {}
        n if n % 1_000_000 == 0 => {
            id.push('.');
            digits(&mut id, n / 1_000_000, 3);
        }
        n if n % 1_000 == 0 => {
            id.push('.');
            digits(&mut id, n / 1_000, 6);
        }
        n => {
            id.push('.');
            digits(&mut id, n, 9);
        }
    }
    id.push_str("+00:00");
    id
}

fn copy_error(e: &ConnectorError) -> ConnectorError {
    let mut copy = ConnectorError::new(e.kind(), e.message().to_owned());
    if let Some(s) = e.system() {
        copy = copy.with_system(s.clone());
    }
    copy
}

/// Records to send, each with what is kept beside it.
type Lot<E, T, U> = Vec<(Box<SinkRecord<E>>, T, U)>;

/// Splits records to send into those that can go now and those that
/// refer to a record of the same lot the sink has no id for yet (it is
/// new, and in the lot). When none can go (a cycle), all go, and the
/// sink reports the unresolved references.
fn next_wave<E: Entity, T, U>(records: Lot<E, T, U>) -> (Lot<E, T, U>, Lot<E, T, U>) {
    let in_lot: std::collections::HashSet<CanonicalId> =
        records.iter().map(|(r, _, _)| r.id).collect();
    let waits = |r: &SinkRecord<E>| match &r.operation {
        Operation::Upsert(data) => data
            .references()
            .into_iter()
            .any(|(_, id)| id != r.id && in_lot.contains(&id) && !r.links.contains_key(&id)),
        Operation::Delete => false,
    };
    let (later, now): (Vec<_>, Vec<_>) = records.into_iter().partition(|(r, _, _)| waits(r));
    if now.is_empty() {
        (later, Vec::new())
    } else {
        (now, later)
    }
}

fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut out = Vec::new();
    let mut it = items.into_iter().peekable();
    while it.peek().is_some() {
        out.push(it.by_ref().take(size).collect());
    }
    out
}

fn plan<E>(p: Prepared<E>) -> PlannedChange {
    match p {
        Prepared::Send { record, .. } => PlannedChange {
            action: match (&record.operation, &record.fields) {
                (Operation::Delete, _) => PlannedAction::Delete,
                (Operation::Upsert(_), None) => PlannedAction::Create,
                (Operation::Upsert(_), Some(fields)) => PlannedAction::Update {
                    fields: fields.clone(),
                },
            },
            remote_id: record.origin_id,
        },
        Prepared::Done { remote_id } => PlannedChange {
            remote_id,
            action: PlannedAction::Unchanged,
        },
        Prepared::Planned(planned) => planned,
        Prepared::Reject { error, letter } => PlannedChange {
            remote_id: letter.remote_id,
            action: PlannedAction::Reject {
                error: error.to_string(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::change_id;
    use chrono::{TimeZone, Utc};
    use odoo_integration_model::{RemoteId, SystemId};

    #[test]
    fn change_ids_carry_the_time_as_to_rfc3339_writes_it() {
        let (s, r) = (SystemId::hubspot(), RemoteId::new("981"));
        for (secs, nanos) in [
            (1_795_000_000, 0),
            (1_795_000_000, 5_000_000),
            (1_795_000_000, 123_456_000),
            (1_795_000_000, 123_456_789),
            (1_795_000_000, 1),
            (0, 0),
            (-62_000_000_000, 7),           // year 5
            (253_402_300_799, 999_999_999), // 9999-12-31T23:59:59
        ] {
            let at = Utc.timestamp_opt(secs, nanos).single().unwrap_or_default();
            assert_eq!(
                change_id(&s, &r, at),
                format!("hubspot:981@{}", at.to_rfc3339())
            );
        }
    }
}
