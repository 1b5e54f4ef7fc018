//! The pipeline's metrics through the `metrics` facade (feature
//! `metrics`; without it these do nothing): see [`Pipeline`](super::Pipeline)
//! for the names.
#![cfg_attr(not(feature = "metrics"), allow(dead_code))]

use super::RunSummary;
use std::time::Duration;

/// A summary's counts, to report what one page added.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Counts([usize; 9]);

impl Counts {
    const OUTCOMES: [&'static str; 9] = [
        "read",
        "created",
        "updated",
        "unchanged",
        "deleted",
        "refused",
        "held",
        "dead_lettered",
        "recovered",
    ];

    pub(super) fn of(s: &RunSummary) -> Self {
        Counts([
            s.read,
            s.created,
            s.updated,
            s.unchanged,
            s.deleted,
            s.refused.len(),
            s.held.len(),
            s.dead_lettered,
            s.recovered,
        ])
    }
}

/// Counts what `now` has more than `before`.
#[allow(unused_variables)]
pub(super) fn records(pipeline: &str, entity: &'static str, before: Counts, now: Counts) {
    #[cfg(feature = "metrics")]
    for ((outcome, b), n) in Counts::OUTCOMES.iter().zip(before.0).zip(now.0) {
        if n > b {
            let added = u64::try_from(n - b).unwrap_or(u64::MAX);
            metrics::counter!("sync_records_total", "pipeline" => pipeline.to_owned(), "entity" => entity, "outcome" => *outcome)
                .increment(added);
        }
    }
}

/// The lag behind the newest change applied.
#[allow(unused_variables)]
pub(super) fn lag(pipeline: &str, entity: &'static str, newest: chrono::DateTime<chrono::Utc>) {
    #[cfg(feature = "metrics")]
    {
        let lag = (chrono::Utc::now() - newest).num_milliseconds().max(0) as f64 / 1000.0;
        metrics::gauge!("sync_lag_seconds", "pipeline" => pipeline.to_owned(), "entity" => entity)
            .set(lag);
    }
}

/// One call to a system.
#[allow(unused_variables)]
pub(super) fn call(system: &str, call: &'static str, took: Duration) {
    #[cfg(feature = "metrics")]
    metrics::histogram!("sync_call_seconds", "system" => system.to_owned(), "call" => call)
        .record(took.as_secs_f64());
}

/// A retry, after waiting `waited`.
#[allow(unused_variables)]
pub(super) fn retry(pipeline: &str, system: &str, waited: Duration) {
    #[cfg(feature = "metrics")]
    {
        let labels = [
            ("pipeline", pipeline.to_owned()),
            ("system", system.to_owned()),
        ];
        metrics::counter!("sync_retries_total", &labels).increment(1);
        metrics::histogram!("sync_wait_seconds", &labels).record(waited.as_secs_f64());
    }
}

/// The queues after a run, and the breaker.
#[cfg(feature = "metrics")]
pub(super) fn after_run(
    pipeline: &str,
    entity: &'static str,
    dead_letters: Option<usize>,
    held: usize,
    open: bool,
) {
    if let Some(n) = dead_letters {
        metrics::gauge!("sync_dead_letters", "entity" => entity).set(n as f64);
    }
    metrics::gauge!("sync_held", "pipeline" => pipeline.to_owned(), "entity" => entity)
        .set(held as f64);
    metrics::gauge!("sync_circuit_open", "pipeline" => pipeline.to_owned()).set(if open {
        1.0
    } else {
        0.0
    });
}
