//! One run of a job under its lease: take it, keep it renewed while the
//! run is in flight, stop the run when it is lost, give it back.

use super::{Job, RunReport, Shutdown};
use crate::error::{ConnectorError, ConnectorErrorKind};
use crate::store::{Lease, LeaseStore};
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

/// How one attempt at a round went.
#[derive(Debug)]
pub(super) enum Attempt {
    /// Another worker holds the lease.
    Held { holder: String },
    /// The job ran under the lease.
    Ran {
        result: Result<RunReport, ConnectorError>,
        /// The lease was lost while it ran.
        lost: bool,
    },
    /// The lease could not be asked for (the store failed).
    NoLease(ConnectorError),
}

/// Where and how a job's lease is taken.
pub(super) struct Leasing {
    pub(super) store: Arc<dyn LeaseStore>,
    pub(super) worker: Arc<str>,
    pub(super) ttl: Duration,
    /// The jobs ordered with this one (`after`, either way): it does not
    /// start while one of them runs on another worker.
    pub(super) ordered: Vec<String>,
}

/// Runs `job` once under its lease, as `worker`, calling `started` once
/// the lease is taken. The run's stop trips with `shutdown`, and when the
/// lease is lost.
pub(super) async fn run_leased(
    job: Arc<dyn Job>,
    leasing: Leasing,
    shutdown: Shutdown,
    started: impl FnOnce(),
) -> Attempt {
    let Leasing {
        store,
        worker,
        ttl,
        ordered,
    } = leasing;
    let name = job.name().to_owned();
    let mut lease = match store.acquire(&name, &worker, ttl).await {
        Ok(Some(lease)) => lease,
        Ok(None) => {
            let holder = match store.lease(&name).await {
                Ok(Some(l)) => l.holder,
                // Given up in between: skipped all the same, this round.
                Ok(None) | Err(_) => "another worker".to_owned(),
            };
            return Attempt::Held { holder };
        }
        Err(e) => return Attempt::NoLease(e),
    };
    // A job ordered with this one running on another worker: not now.
    // Each side takes its own lease before it looks at the other's, so
    // of two that start together at least one sees the other.
    for other in &ordered {
        match store.lease(other).await {
            Ok(Some(l)) if l.holder != *worker => {
                if let Err(e) = store.release(&lease).await {
                    tracing::warn!(job = %name, error = %e, "could not give the lease back");
                }
                return Attempt::Held {
                    holder: format!("{} (running {other}, ordered with this job)", l.holder),
                };
            }
            Ok(_) => {}
            Err(e) => {
                let _ = store.release(&lease).await;
                return Attempt::NoLease(e);
            }
        }
    }
    tracing::debug!(job = %name, token = lease.token, "lease taken");
    started();
    let stop = shutdown.child();
    let run = AssertUnwindSafe(job.run_once(&stop)).catch_unwind();
    tokio::pin!(run);
    let mut lost = false;
    let outcome = tokio::select! {
        outcome = &mut run => outcome,
        () = keep(store.as_ref(), &mut lease, ttl) => {
            lost = true;
            stop.trip();
            run.await
        }
    };
    let result = outcome.unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!(job = %name, panic = %what, "the job panicked");
        Err(ConnectorError::new(
            ConnectorErrorKind::Configuration,
            format!("the job panicked (a bug in it): {what}"),
        ))
    });
    if !lost && let Err(e) = store.release(&lease).await {
        // It lapses by itself after the TTL.
        tracing::warn!(job = %name, error = %e, "could not give the lease back");
    }
    Attempt::Ran { result, lost }
}

/// Renews `lease` every third of `ttl` for as long as it is polled;
/// returns when the lease is lost.
async fn keep(store: &dyn LeaseStore, lease: &mut Lease, ttl: Duration) {
    let every = ttl / 3;
    loop {
        tokio::time::sleep(every).await;
        match store.renew(lease, ttl).await {
            Ok(Some(renewed)) => *lease = renewed,
            Ok(None) => {
                tracing::warn!(job = %lease.name, "lease lost: another worker may take over; stopping at the next page");
                return;
            }
            Err(e) if chrono::Utc::now() >= lease.expires_at => {
                tracing::warn!(job = %lease.name, error = %e, "lease lapsed: it could not be renewed; stopping at the next page");
                return;
            }
            Err(e) => {
                tracing::warn!(job = %lease.name, error = %e, "could not renew the lease; trying again");
            }
        }
    }
}
