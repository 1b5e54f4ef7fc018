//! Targeted reads: a pipeline told "these records changed" (by a webhook,
//! an operator, a test) reads just them, now, and runs them through the
//! same planning and execution as a page, without moving the checkpoint.

use super::{Pipeline, RunSummary};
use crate::connector::{Connector, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use odoo_integration_model::{Entity, RemoteId};
use std::collections::BTreeSet;
use tracing::Instrument;

/// A source that can read records of entity `E` by their ids, now: the
/// targeted read behind push (webhooks) and "sync this record".
///
/// `fetch_ids` answers one change per id it was asked for: an upsert with
/// the record as the source's pages would give it (same mapping, same
/// fields), or a delete for an id the system no longer has (deleted,
/// archived, or outside the source's filter). It is a read, safe to
/// repeat, and dyn-compatible (`Arc<dyn FetchByIds<E>>`).
///
/// Implemented by the HubSpot connector (`batch/read`) and the Odoo
/// connector (`search_read` by id, archived records included).
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use odoo_integration_connectors::{Capabilities, Connector, FetchByIds, SourceChange};
/// use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
///
/// /// A spreadsheet that knows row 1 only.
/// struct Sheet;
/// impl Connector for Sheet {
///     fn system(&self) -> SystemId { SystemId::new("sheet") }
///     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
/// }
/// #[async_trait]
/// impl FetchByIds<ClientCompany> for Sheet {
///     async fn fetch_ids(&self, ids: &[RemoteId]) -> odoo_integration_connectors::Result<Vec<SourceChange<ClientCompany>>> {
///         let now = chrono::Utc::now();
///         Ok(ids.iter().map(|id| match id.as_str() {
///             "1" => SourceChange::upsert("1", now, ClientCompany { legal_name: "Acme".into(), ..Default::default() }),
///             gone => SourceChange::delete(gone, now),
///         }).collect())
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let changes = Sheet.fetch_ids(&[RemoteId::new("1"), RemoteId::new("2")]).await?;
/// assert!(changes[1].operation.is_delete());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait FetchByIds<E: Entity>: Connector {
    /// The records with these ids, as changes: one per id.
    ///
    /// # Errors
    ///
    /// The system could not be read ([`ConnectorError::is_retryable`] says
    /// whether to try again), or an id cannot be one of this system's
    /// ([`ConnectorErrorKind::Invalid`]).
    async fn fetch_ids(&self, ids: &[RemoteId]) -> Result<Vec<SourceChange<E>>>;
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Reads the records `ids` of the source from `fetch` now, and applies
    /// them like a page of a run: mapped, merged under the policy,
    /// validated, written to the sink only where something changed, failures
    /// dead-lettered. The checkpoint does **not** move, so the next
    /// [`run`](Self::run) reads on from where it was; it finds these
    /// records unchanged (they are recorded), so a pushed change and the
    /// next poll write once.
    ///
    /// It may run while a [`run`](Self::run) of the same pipeline is in
    /// progress (a webhook arriving mid-poll): both read the system's
    /// current state and the sink is idempotent by contract, so the record
    /// ends the same; at worst the sink is sent it once more.
    ///
    /// Ids are read once each, in batches of the pipeline's
    /// [`batch_size`](super::PipelineBuilder::batch_size), with the
    /// pipeline's retries and source pacing. `fetch` must read the
    /// pipeline's source system (usually it is the source itself).
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] when `fetch` reads another
    /// system than the pipeline's source; the read failed beyond its
    /// retries; a store failed; the [`CircuitBreaker`](super::CircuitBreaker)
    /// is open. What was applied before the error stays applied.
    ///
    /// # Example
    ///
    /// ```
    /// # use async_trait::async_trait;
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
    /// # use std::sync::{Arc, Mutex};
    /// # struct Crm;
    /// # impl Connector for Crm {
    /// #     fn system(&self) -> SystemId { SystemId::new("crm") }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Source<ClientCompany> for Crm {
    /// #     async fn read(&self, _: Option<&Cursor>, _: usize) -> Result<Page<ClientCompany>> {
    /// #         Ok(Page { changes: vec![SourceChange::upsert("7", chrono::DateTime::UNIX_EPOCH, acme())], next: Cursor::new("1"), has_more: false })
    /// #     }
    /// # }
    /// # fn acme() -> ClientCompany { ClientCompany { legal_name: "Acme".into(), ..Default::default() } }
    /// #[async_trait]
    /// impl FetchByIds<ClientCompany> for Crm {
    ///     async fn fetch_ids(&self, ids: &[RemoteId]) -> Result<Vec<SourceChange<ClientCompany>>> {
    ///         Ok(ids.iter().map(|id| SourceChange::upsert(id.as_str(), chrono::DateTime::UNIX_EPOCH, acme())).collect())
    ///     }
    /// }
    /// # #[derive(Default)]
    /// # struct Erp(Mutex<usize>);
    /// # impl Connector for Erp {
    /// #     fn system(&self) -> SystemId { SystemId::odoo() }
    /// #     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
    /// # }
    /// # #[async_trait]
    /// # impl Sink<ClientCompany> for Erp {
    /// #     async fn apply(&self, b: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
    /// #         *self.0.lock().unwrap() += b.len();
    /// #         Ok(b.iter().map(|r| Outcome::Created(RemoteId::new(r.origin_id.as_str()))).collect())
    /// #     }
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<()> {
    /// let crm = Arc::new(Crm);
    /// let erp = Arc::new(Erp::default());
    /// let state = Arc::new(MemoryStore::new());
    /// let p = Pipeline::<ClientCompany>::builder("crm→erp", crm.clone(), erp.clone(), state.clone()).build()?;
    /// // A webhook said record 7 changed: read it now.
    /// let pushed = p.sync_ids(crm.as_ref(), &[RemoteId::new("7"), RemoteId::new("7")]).await?;
    /// assert_eq!((pushed.read, pushed.created), (1, 1));
    /// assert!(state.checkpoint("crm→erp").await?.is_none()); // not moved
    /// // The next poll reads record 7 again and finds nothing to write.
    /// assert_eq!(p.run().await?.unchanged, 1);
    /// assert_eq!(*erp.0.lock().unwrap(), 1);
    /// # Ok(()) }
    /// ```
    pub async fn sync_ids(
        &self,
        fetch: &dyn FetchByIds<E>,
        ids: &[RemoteId],
    ) -> Result<RunSummary> {
        let system = fetch.system();
        if system != self.source_system {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!(
                    "pipeline {}: a targeted read from {system} cannot feed a pipeline whose source is {}",
                    self.name, self.source_system
                ),
            ));
        }
        if !self.dry_run {
            self.breaker.check()?;
        }
        let mut seen = BTreeSet::new();
        let ids: Vec<RemoteId> = ids
            .iter()
            .filter(|id| seen.insert(id.as_str()))
            .cloned()
            .collect();
        let span = tracing::info_span!("sync_ids", pipeline = %self.name, entity = E::NAME, ids = ids.len());
        async {
            let mut summary = RunSummary::default();
            for chunk in ids.chunks(self.batch_size.max(1)) {
                let changes = self
                    .fetch_chunk(fetch, chunk)
                    .await
                    .map_err(|e| self.breaker.record_source(e))?;
                summary.read += changes.len();
                self.process(changes, false, &mut summary).await?;
            }
            tracing::info!(pipeline = %self.name, %summary, "targeted sync finished");
            Ok(summary)
        }
        .instrument(span)
        .await
    }

    /// One targeted read, with the pipeline's retries and source pacing.
    async fn fetch_chunk(
        &self,
        fetch: &dyn FetchByIds<E>,
        ids: &[RemoteId],
    ) -> Result<Vec<SourceChange<E>>> {
        let mut delays = self.delays();
        loop {
            if let Some(l) = &self.source_limiter {
                l.acquire().await;
            }
            let started = std::time::Instant::now();
            let read = fetch.fetch_ids(ids).await;
            super::observe::call(self.source_system.as_str(), "read", started.elapsed());
            match read {
                Ok(changes) => return Ok(changes),
                Err(e) if e.is_retryable() => {
                    let Some(delay) = delays.next() else {
                        return Err(e);
                    };
                    tracing::warn!(pipeline = %self.name, error = %e, "targeted read failed, retrying");
                    super::observe::retry(&self.name, self.source_system.as_str(), delay);
                    if !self.wait(&e, delay, self.source_limiter.as_ref()).await {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }
}
