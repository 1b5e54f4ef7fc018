//! The pipeline's settings.

use super::{CircuitBreaker, DeletePolicy, Matcher, Pipeline};
use crate::connector::SourceChange;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::rate_limit::{Quota, RateLimiter};
use odoo_integration_client::RetryPolicy;
use odoo_integration_model::{Entity, Policy, Validator};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`Pipeline`].
///
/// # Example
///
/// See [`Pipeline`].
#[must_use]
pub struct PipelineBuilder<E: Entity> {
    pub(super) pipeline: Pipeline<E>,
    /// Whether to ask the sink for its matcher; `None`: by the entity.
    pub(super) match_existing: Option<bool>,
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
    /// Before creating a record new to the sync, asks `matcher` whether
    /// the sink already holds it (instead of the sink's own matcher; see
    /// [`match_existing`](Self::match_existing) for when matching is on). One confident match is
    /// linked and updated under the policy, with the sink's values counted
    /// as its owner's; several hold the record in the dead-letter queue
    /// (kind [`Ambiguous`](crate::ConnectorErrorKind::Ambiguous)), never
    /// created; none creates it. A first sync into a sink that already has
    /// the data then links instead of duplicating.
    ///
    /// # Example
    ///
    /// ```
    /// # use async_trait::async_trait;
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, MatchKey, Normalize, RemoteId, SystemId};
    /// # use std::sync::{Arc, Mutex};
    /// # struct Crm;
    /// # impl Connector for Crm { fn system(&self) -> SystemId { SystemId::hubspot() }
    /// #   fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) } }
    /// # #[async_trait] impl Source<ClientCompany> for Crm {
    /// #   async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
    /// #     let acme = ClientCompany { legal_name: "Acme".into(), tax_id: Some("BE0123456789".into()), ..Default::default() };
    /// #     Ok(Page { changes: vec![SourceChange::upsert("981", chrono::Utc::now(), acme)], next: Cursor::new("1"), has_more: false }) } }
    /// /// An ERP that already holds Acme, as record 7.
    /// #[derive(Default)]
    /// struct Erp { writes: Mutex<Vec<SinkRecord<ClientCompany>>> }
    /// # impl Connector for Erp { fn system(&self) -> SystemId { SystemId::odoo() }
    /// #   fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) } }
    /// # #[async_trait] impl Sink<ClientCompany> for Erp {
    /// #   async fn apply(&self, b: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
    /// #     let out = b.iter().map(|r| match &r.target_id { Some(id) => Outcome::Updated(id.clone()), None => Outcome::Created(RemoteId::new("99")) }).collect();
    /// #     self.writes.lock().unwrap().extend(b);
    /// #     Ok(out) } }
    /// #[async_trait]
    /// impl Matcher<ClientCompany> for Erp {
    ///     async fn find(&self, records: &[&ClientCompany]) -> Result<Vec<SinkMatch<ClientCompany>>> {
    ///         let held = ClientCompany { legal_name: "ACME SA".into(), tax_id: Some("BE 0123.456.789".into()), ..Default::default() };
    ///         let keys = [MatchKey::new("tax_id", Normalize::Identifier)];
    ///         Ok(records.iter().map(|r| SinkMatch::propose(*r, vec![(RemoteId::new("7"), held.clone())], &keys)).collect())
    ///     }
    /// }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// let erp = Arc::new(Erp::default());
    /// let p = Pipeline::<ClientCompany>::builder("crm→erp", Arc::new(Crm), erp.clone(), Arc::new(MemoryStore::new()))
    ///     .matcher(erp.clone())
    ///     .build()?;
    /// let summary = p.run().await?;
    /// assert_eq!((summary.created, summary.updated), (0, 1));
    /// // Record 7 was written, not a new one.
    /// assert_eq!(erp.writes.lock().unwrap()[0].target_id, Some(RemoteId::new("7")));
    /// # Ok(()) }
    /// ```
    pub fn matcher(mut self, matcher: Arc<dyn Matcher<E>>) -> Self {
        self.pipeline.matcher = Some(matcher);
        self
    }

    /// Whether a first sync looks in the sink for the records it is about
    /// to create (see [`matcher`](Self::matcher)), with the sink's own
    /// matcher ([`Sink::matcher`](crate::Sink::matcher)) unless one is
    /// given. On by default for the entities with
    /// [default match keys](odoo_integration_model::match_keys_for)
    /// (clients, contacts, employees), off for the others; `false` turns
    /// any matching off, a given matcher's too.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::ClientCompany;
    /// # use std::sync::Arc;
    /// # fn build(source: Arc<dyn Source<ClientCompany>>, sink: Arc<dyn Sink<ClientCompany>>) -> Result<Pipeline<ClientCompany>> {
    /// // Odoo is known to hold none of these clients yet: skip the searches.
    /// Pipeline::builder("crm→erp", source, sink, Arc::new(MemoryStore::new()))
    ///     .match_existing(false)
    ///     .build()
    /// # }
    /// ```
    pub fn match_existing(mut self, on: bool) -> Self {
        self.match_existing = Some(on);
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
    /// How the pipeline retries a failed read or write within a run,
    /// before a record is dead-lettered: the one retry layer of a run
    /// (default [`RetryPolicy::new`]: 3 retries from 200 ms doubling up to
    /// 10 s, with jitter). Only errors that are
    /// [retryable](crate::ConnectorError::is_retryable) are retried, and
    /// never sooner than the system's `Retry-After`. The connectors the
    /// pipeline drives do not retry underneath it (see
    /// [`Pipeline`], "Who retries"), so a failing call is sent at most
    /// `1 + policy.retry_limit()` times.
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
    /// use odoo_integration_connectors::RetryPolicy;
    /// use std::time::Duration;
    /// let erp = Arc::new(Erp { down: Mutex::new(2), ..Erp::default() }); // fails twice
    /// let pipeline = Pipeline::<ClientCompany>::builder("csv→odoo", Arc::new(Csv(vec!["Acme"])), erp.clone(), Arc::new(MemoryStore::new()))
    ///     .retry(RetryPolicy::new().max_retries(5).min_delay(Duration::from_millis(10)))
    ///     .build()?;
    /// let summary = pipeline.run().await?;
    /// assert_eq!((summary.created, summary.dead_lettered), (1, 0)); // the third attempt went through
    /// # Ok(()) }
    /// ```
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.pipeline.retry = policy;
        self
    }
    /// Shorthand for [`retry`](Self::retry): `attempts` in all per call and
    /// per record (so `attempts - 1` retries), with exponential backoff
    /// from `first_delay` up to 32 times it, with jitter.
    ///
    /// # Example
    ///
    /// See [`Pipeline::replay`].
    pub fn attempts(self, attempts: u32, first_delay: Duration) -> Self {
        self.retry(
            RetryPolicy::new()
                .max_retries(attempts.saturating_sub(1) as usize)
                .min_delay(first_delay)
                .max_delay(first_delay.saturating_mul(32)),
        )
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
    /// The circuit breaker that stops the pipeline when a system keeps
    /// failing (default: one of its own, [`CircuitBreaker::new`]); give
    /// pipelines that write to one system the same breaker so one outage
    /// stops them all.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, Contact, SystemId};
    /// # use std::sync::Arc;
    /// # fn demo(crm: Arc<sources::VecSource<ClientCompany>>, people: Arc<sources::VecSource<Contact>>, odoo: Arc<odoo::OdooConnector>) -> Result<()> {
    /// let odoo_down = Arc::new(CircuitBreaker::new().threshold(5));
    /// let state = Arc::new(MemoryStore::new());
    /// let clients = Pipeline::<ClientCompany>::builder("crm→odoo/client", crm, odoo.clone(), state.clone())
    ///     .circuit_breaker(odoo_down.clone())
    ///     .build()?;
    /// let contacts = Pipeline::<Contact>::builder("crm→odoo/contact", people, odoo, state)
    ///     .circuit_breaker(odoo_down)
    ///     .build()?;
    /// # Ok(()) }
    /// ```
    pub fn circuit_breaker(mut self, breaker: Arc<CircuitBreaker>) -> Self {
        self.pipeline.breaker = breaker;
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
        let matching = self
            .match_existing
            .unwrap_or_else(|| !odoo_integration_model::match_keys_for(E::NAME).is_empty());
        if !matching {
            p.matcher = None;
        } else if p.matcher.is_none() {
            p.matcher = p.sink.matcher();
        }
        if p.sink_limiter.is_none() {
            p.sink_limiter = Some(RateLimiter::new(
                sink.rate_limit.unwrap_or_else(Quota::unlimited),
            ));
        }
        Ok(self.pipeline)
    }
}
