//! Stopping a run at a page boundary: [`Pipeline::run_until`] runs
//! [`Pipeline::run`] with a [`Shutdown`] in scope, and the page loop asks
//! [`requested`] after each page's checkpoint is saved.
//!
//! The stop travels as a task-local, so `run` itself (and what it does
//! before and after reading pages) stays one code path for both.

use super::{Pipeline, RunSummary};
use crate::error::Result;
use crate::runner::Shutdown;
use odoo_integration_model::Entity;
use std::cell::Cell;
use std::future::Future;

/// The stop a run watches, and whether it stopped the run.
struct Scope {
    stop: Shutdown,
    stopped: Cell<bool>,
}

tokio::task_local! {
    static STOP: Scope;
}

/// Runs `run` with `stop` in scope; its output, and whether it stopped
/// early because `stop` tripped.
async fn scoped<F: Future>(stop: Shutdown, run: F) -> (F::Output, bool) {
    let scope = Scope {
        stop,
        stopped: Cell::new(false),
    };
    STOP.scope(scope, async move {
        let out = run.await;
        (out, STOP.with(|s| s.stopped.get()))
    })
    .await
}

/// Whether the run in scope was asked to stop (and then it stops, and
/// says so). Outside [`scoped`], never.
pub(super) fn requested() -> bool {
    STOP.try_with(|s| {
        let stop = s.stop.is_tripped();
        if stop {
            s.stopped.set(true);
        }
        stop
    })
    .unwrap_or(false)
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Runs like [`run`](Self::run), but stops early once `stop` trips:
    /// the page in flight is finished (its batch applied, its checkpoint
    /// saved) and the next page is not read. The next run resumes from
    /// that checkpoint, so nothing is applied twice. A stop tripped before
    /// the run starts still lets it apply one page.
    ///
    /// The [`Runner`](crate::Runner) runs pipelines this way, tripping the
    /// stop on shutdown or when the pipeline's lease is lost.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{sources::VecSource, CheckpointStore, Cursor, MemoryStore, Pipeline, Shutdown, SourceChange};
    /// use odoo_integration_model::ClientCompany;
    /// use std::sync::Arc;
    /// # use async_trait::async_trait;
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{RemoteId, SystemId};
    /// # struct Ledger;
    /// # impl Connector for Ledger { fn system(&self) -> SystemId { SystemId::new("ledger") }
    /// #   fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) } }
    /// # #[async_trait] impl Sink<ClientCompany> for Ledger {
    /// #   async fn apply(&self, b: Vec<SinkRecord<ClientCompany>>) -> odoo_integration_connectors::Result<Vec<Outcome>> {
    /// #     Ok(b.iter().map(|r| Outcome::Created(RemoteId::new(r.origin_id.as_str()))).collect()) } }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let at = chrono::Utc::now();
    /// let sheet = VecSource::new("sheet", (1..=5).map(|i| {
    ///     SourceChange::upsert(i.to_string(), at, ClientCompany { legal_name: format!("Client {i}"), ..Default::default() })
    /// }));
    /// let state = Arc::new(MemoryStore::new());
    /// let pipeline = Pipeline::<ClientCompany>::builder("sheet→ledger", Arc::new(sheet), Arc::new(Ledger), state.clone())
    ///     .batch_size(2)
    ///     .build()?;
    /// let stop = Shutdown::new();
    /// stop.trip(); // already asked to stop: one page, then the run ends
    /// assert_eq!(pipeline.run_until(&stop).await?.created, 2);
    /// let rest = pipeline.run().await?; // resumes after that page
    /// assert_eq!((rest.read, rest.created), (3, 3));
    /// # Ok(()) }
    /// ```
    pub async fn run_until(&self, stop: &Shutdown) -> Result<RunSummary> {
        self.run_stoppable(stop).await.0
    }

    /// [`run_until`](Self::run_until), and whether the stop ended the run
    /// before the end of the source.
    pub(crate) async fn run_stoppable(&self, stop: &Shutdown) -> (Result<RunSummary>, bool) {
        scoped(stop.clone(), self.run()).await
    }
}
