//! The pipeline: source → mapping → identity → ownership merge → validation
//! → sink, in batches, where a bad record goes to the dead-letter queue and
//! never stops the rest, and the checkpoint moves only past what is done.
//!
//! It is two parts:
//!
//! - **Planning** ([`plan`]) decides, for one change, from the stored
//!   record, the ownership policy and the validator, whether to create,
//!   update which fields, leave unchanged, delete, or reject it, and which
//!   field changes the policy refused or held. It is a pure function.
//! - **Execution** ([`execute`] and the modules beside it) owns every side
//!   effect: it asks the stores once per page for what planning needs,
//!   links identities, sends to the sink in waves and batches, retries,
//!   records outcomes, and files dead letters.
//!
//! Who retries: see [`Pipeline`].

mod breaker;
mod builder;
mod change_id;
mod execute;
mod last_run;
mod letters;
mod lookup;
mod matching;
mod observe;
mod plan;
mod review;
mod sink;
mod stop;
mod summary;
pub(crate) mod targeted;

pub use breaker::CircuitBreaker;
pub use builder::PipelineBuilder;
pub use last_run::LastRunRecord;
pub use matching::{Matcher, SinkMatch};
pub use summary::{
    DeletePolicy, HeldChange, PlannedAction, PlannedChange, RefusedChange, RunSummary,
};

use crate::connector::{Sink, Source, SourceChange};
use crate::error::Result;
use crate::paging::PageGuard;
use crate::rate_limit::RateLimiter;
use crate::store::SyncState;
use odoo_integration_client::RetryPolicy;
use odoo_integration_model::{Entity, Policy, SystemId, Validator};
use std::fmt;
use std::sync::Arc;
use tracing::Instrument;

type Mapper<E> = Arc<dyn Fn(&mut SourceChange<E>) -> Result<()> + Send + Sync>;

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
/// ## Metrics
///
/// With the feature `metrics`, the pipeline reports through the
/// [`metrics`](https://docs.rs/metrics) facade to whatever recorder the
/// program installs (Prometheus, StatsD, OpenTelemetry; the example
/// `metrics` renders them in Prometheus' text format):
///
/// | metric | kind | labels | what |
/// |---|---|---|---|
/// | `sync_records_total` | counter | `pipeline`, `entity`, `outcome` | records by outcome: `read`, `created`, `updated`, `unchanged`, `deleted`, `refused` (field changes the policy refused), `held`, `dead_lettered`, `recovered` |
/// | `sync_lag_seconds` | gauge | `pipeline`, `entity` | now − the newest change of the last page applied |
/// | `sync_call_seconds` | histogram | `system`, `call` (`read`, `write`) | how long each call to a system took |
/// | `sync_retries_total` | counter | `pipeline`, `system` | calls retried |
/// | `sync_wait_seconds` | histogram | `pipeline`, `system` | each wait before a retry (a system's `Retry-After` included) |
/// | `sync_dead_letters` | gauge | `entity` | the dead-letter queue's size, after each run |
/// | `sync_held` | gauge | `pipeline`, `entity` | field changes held for review by the last run |
/// | `sync_circuit_open` | gauge | `pipeline` | 1 while the pipeline's circuit breaker is open |
///
/// ## Who retries
///
/// One layer decides retries: the pipeline, by its
/// [`RetryPolicy`](crate::RetryPolicy) ([`PipelineBuilder::retry`]). The
/// connectors it drives do not retry underneath it: the vendor connectors'
/// calls are sent once (a 401 is answered by one refresh of the
/// credential, not a retry of the failure), and the
/// Odoo connector's (`odoo::OdooConnector`) calls go out with the
/// client's retries switched off. So a failing call is sent at most
/// `1 + retry_limit()` times per run, not (client retries) × (pipeline
/// retries); what still fails is dead-lettered, to be replayed.
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
    pub(super) name: String,
    source: Arc<dyn Source<E>>,
    sink: Arc<dyn Sink<E>>,
    /// The two systems' ids, asked once.
    source_system: SystemId,
    sink_system: SystemId,
    state: Arc<dyn SyncState>,
    policy: Arc<Policy>,
    validator: Arc<Validator<E>>,
    mapper: Option<Mapper<E>>,
    matcher: Option<Arc<dyn Matcher<E>>>,
    batch_size: usize,
    concurrency: usize,
    retry: RetryPolicy,
    park_after: u32,
    deletes: DeletePolicy,
    dry_run: bool,
    source_limiter: Option<RateLimiter>,
    sink_limiter: Option<RateLimiter>,
    breaker: Arc<CircuitBreaker>,
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
                matcher: None,
                batch_size: 100,
                concurrency: 4,
                retry: RetryPolicy::new(),
                park_after: 5,
                deletes: DeletePolicy::Propagate,
                dry_run: false,
                source_limiter: None,
                sink_limiter: None,
                breaker: Arc::new(CircuitBreaker::new()),
            },
            match_existing: None,
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
    /// First it applies the decisions people took on the pipeline's held
    /// conflicts (see [`Review`](crate::review::Review)): those fields are
    /// written to the sink before any change is read.
    ///
    /// # Errors
    ///
    /// The source failed beyond its retries, or a store failed. Records
    /// already applied stay applied and recorded; the checkpoint stays at
    /// the last page fully recorded, so the next run resumes there. The
    /// [`CircuitBreaker`] opened (or is open): a system kept failing, or
    /// refused the credential; the records it failed are not in the
    /// dead-letter queue, the next run after the wait reads them again.
    ///
    /// # Example
    ///
    /// See [`Pipeline`].
    pub async fn run(&self) -> Result<RunSummary> {
        if !self.dry_run {
            self.breaker.check()?;
        }
        let started = chrono::Utc::now();
        let span = tracing::info_span!("sync", pipeline = %self.name, entity = E::NAME, dry_run = self.dry_run);
        let run = async {
            let mut summary = RunSummary::default();
            if !self.dry_run {
                self.apply_decisions(&mut summary).await?;
            }
            self.run_pages(summary).await
        }
        .instrument(span)
        .await;
        if !self.dry_run {
            self.observe_queues(run.as_ref().ok()).await;
            let newest = run.as_ref().ok().and_then(|s| s.newest_change);
            self.record_run(started, run.as_ref(), newest).await;
        }
        run
    }

    /// The queues' sizes and the breaker's state, as metrics.
    #[allow(unused_variables)]
    async fn observe_queues(&self, summary: Option<&RunSummary>) {
        #[cfg(feature = "metrics")]
        {
            let letters = self.state.letters(E::NAME).await.ok().map(|l| l.len());
            let filter = crate::store::HeldFilter::default().pipeline(&self.name);
            let held = match self.state.held(&filter).await {
                Ok(held) => held.len(),
                Err(_) => summary.map_or(0, |s| s.held.len()),
            };
            observe::after_run(&self.name, E::NAME, letters, held, self.breaker.is_open());
        }
    }

    async fn run_pages(&self, mut summary: RunSummary) -> Result<RunSummary> {
        let mut cursor = self.state.checkpoint(&self.name).await?;
        let mut guard = PageGuard::new(cursor.as_ref());
        loop {
            let page = self
                .read_page(cursor.as_ref())
                .await
                .map_err(|e| self.breaker.record_source(e))?;
            // Before anything of it is applied: a page that leads back
            // where the read has been would loop forever.
            guard.check(&page)?;
            let before = observe::Counts::of(&summary);
            summary.read += page.changes.len();
            tracing::debug!(pipeline = %self.name, changes = page.changes.len(), "page read");
            let newest = page.changes.iter().map(|c| c.at).max();
            summary.newest_change = summary.newest_change.max(newest);
            self.process(page.changes, false, &mut summary).await?;
            if !self.dry_run {
                observe::records(&self.name, E::NAME, before, observe::Counts::of(&summary));
                if let Some(newest) = newest {
                    observe::lag(&self.name, E::NAME, newest);
                }
            }
            if !self.dry_run {
                self.state.save_checkpoint(&self.name, &page.next).await?;
            }
            cursor = Some(page.next);
            if !page.has_more {
                break;
            }
            // The page is applied and its checkpoint saved: a stop asked
            // for (`run_until`) ends the run here, before the next read.
            if stop::requested() {
                tracing::info!(pipeline = %self.name, "stopped before the next page");
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
        let letters = self.state.letters(E::NAME).await?;
        self.replay_letters(letters, false).await
    }
}
