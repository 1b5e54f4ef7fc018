//! The queue between the handlers and the pipelines, and the worker that
//! empties it: ids gathered for a short window, deduplicated per target,
//! then one targeted sync per target.

use super::PushTarget;
use odoo_integration_model::RemoteId;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// One accepted request: for each target (by index), its ids.
pub(super) type Job = Vec<(usize, Vec<RemoteId>)>;

/// The running worker of a receiver: stop it with
/// [`shutdown`](Self::shutdown), which syncs what was accepted first.
/// Dropping it leaves the worker running until the router is dropped.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::webhooks::PushReceiver;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (router, worker) = PushReceiver::builder().odoo_token("a-long-random-token").build()?;
/// # drop(router);
/// worker.shutdown().await; // nothing was queued: returns at once
/// # Ok(()) }
/// ```
pub struct PushWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl fmt::Debug for PushWorker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushWorker")
            .field("finished", &self.task.is_finished())
            .finish()
    }
}

impl PushWorker {
    pub(super) fn spawn(
        receiver: mpsc::Receiver<Job>,
        targets: Arc<Vec<PushTarget>>,
        window: Duration,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(run(receiver, targets, window, stopped));
        PushWorker { stop, task }
    }

    /// Stops taking requests (they are answered 503 with `Retry-After`),
    /// syncs what was already accepted, and returns when done.
    ///
    /// # Example
    ///
    /// See [`PushWorker`].
    pub async fn shutdown(self) {
        // The worker may be gone already (the router was dropped).
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "webhooks: the worker ended abnormally");
        }
    }
}

/// Ids waiting for their sync, per target, each once.
#[derive(Default)]
struct Pending(BTreeMap<usize, BTreeSet<RemoteId>>);

impl Pending {
    fn add(&mut self, job: Job) {
        for (target, ids) in job {
            self.0.entry(target).or_default().extend(ids);
        }
    }
}

async fn run(
    mut receiver: mpsc::Receiver<Job>,
    targets: Arc<Vec<PushTarget>>,
    window: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let first = tokio::select! {
            job = receiver.recv() => job,
            () = stop_asked(&mut stopped) => None,
        };
        let Some(first) = first else {
            break;
        };
        let mut pending = Pending::default();
        pending.add(first);
        // Gather what arrives within the window: a burst of events about
        // one record becomes one read.
        let deadline = tokio::time::Instant::now() + window;
        loop {
            tokio::select! {
                job = receiver.recv() => match job {
                    Some(job) => pending.add(job),
                    None => break,
                },
                () = tokio::time::sleep_until(deadline) => break,
                () = stop_asked(&mut stopped) => break,
            }
        }
        flush(&targets, pending).await;
    }
    // Stopping: refuse new requests, then sync those already accepted.
    receiver.close();
    let mut pending = Pending::default();
    while let Ok(job) = receiver.try_recv() {
        pending.add(job);
    }
    if !pending.0.is_empty() {
        flush(&targets, pending).await;
    }
    tracing::debug!("webhooks: worker stopped");
}

/// Returns when [`PushWorker::shutdown`] asks the worker to stop; never
/// when the handle was dropped without asking (the worker then runs until
/// the router is dropped).
async fn stop_asked(stopped: &mut watch::Receiver<bool>) {
    if stopped.wait_for(|stop| *stop).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// One targeted sync per target, all at once, each in its own task so
/// that not even a panic in a pipeline stops the worker. A failure is
/// logged: the ids are not lost for good, the next poll of the pipeline
/// reads them.
async fn flush(targets: &[PushTarget], pending: Pending) {
    let syncs: Vec<_> = pending
        .0
        .into_iter()
        .filter_map(|(index, ids)| {
            let target = targets.get(index)?.clone();
            let ids: Vec<RemoteId> = ids.into_iter().collect();
            let name = target.name().to_owned();
            let task = tokio::spawn(async move {
                match target.sync(&ids).await {
                    Ok(summary) => tracing::info!(
                        pipeline = target.name(), ids = ids.len(), %summary,
                        "webhooks: pushed records synced"
                    ),
                    Err(e) => tracing::warn!(
                        pipeline = target.name(), ids = ids.len(), error = %e,
                        "webhooks: targeted sync failed; the next poll picks these records up"
                    ),
                }
            });
            Some((name, task))
        })
        .collect();
    for (name, task) in syncs {
        if let Err(e) = task.await {
            tracing::error!(
                pipeline = %name, error = %e,
                "webhooks: a targeted sync panicked; the next poll picks its records up"
            );
        }
    }
}
