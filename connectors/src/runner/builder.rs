//! Configuring a [`Runner`]: its jobs, their order, and its limits.

use super::schedule::prerequisites;
use super::status::{JobStatus, RunnerStatus};
use super::{Entry, Inner, Job, Runner};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::store::LeaseStore;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The shortest lease TTL `build()` takes.
const MIN_LEASE_TTL: Duration = Duration::from_millis(10);

/// Builds a [`Runner`]; [`build`](Self::build) checks it all.
///
/// # Example
///
/// See [`Runner`].
#[must_use]
pub struct RunnerBuilder {
    store: Arc<dyn LeaseStore>,
    jobs: Vec<(Arc<dyn Job>, Duration)>,
    after: Vec<(String, String)>,
    worker: Option<String>,
    max_concurrent: usize,
    lease_ttl: Duration,
    jitter: f64,
    max_backoff: Duration,
}

impl std::fmt::Debug for RunnerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let jobs: Vec<&str> = self.jobs.iter().map(|(j, _)| j.name()).collect();
        f.debug_struct("RunnerBuilder")
            .field("jobs", &jobs)
            .field("after", &self.after)
            .field("worker", &self.worker)
            .field("max_concurrent", &self.max_concurrent)
            .field("lease_ttl", &self.lease_ttl)
            .field("jitter", &self.jitter)
            .field("max_backoff", &self.max_backoff)
            .finish_non_exhaustive()
    }
}

impl RunnerBuilder {
    pub(super) fn new(store: Arc<dyn LeaseStore>) -> Self {
        RunnerBuilder {
            store,
            jobs: Vec::new(),
            after: Vec::new(),
            worker: None,
            max_concurrent: 4,
            lease_ttl: Duration::from_secs(60),
            jitter: 0.1,
            max_backoff: Duration::from_secs(15 * 60),
        }
    }

    /// Adds a job, run every `every` (the first run at once). A run that
    /// takes longer than `every` skips the ticks it missed: the next run
    /// is at the next tick after it, never several in a row.
    ///
    /// # Example
    ///
    /// See [`Runner`].
    pub fn job(mut self, job: Arc<dyn Job>, every: Duration) -> Self {
        self.jobs.push((job, every));
        self
    }

    /// Orders two jobs: each run of `job` waits until `prerequisite` has
    /// ended a round (run, failed, or skipped because another worker held
    /// it) since `job`'s previous run started, and is not running. So
    /// `after("contacts", "clients")` runs contacts after clients, each
    /// round, and a job never runs more often than its prerequisites. A
    /// prerequisite does not wait for the jobs after it.
    ///
    /// Across workers sharing a store, two jobs ordered this way never
    /// run at once: a job does not start while the other holds its lease
    /// on another worker (each takes its own lease before it looks, so of
    /// two starting together at least one sees the other and waits for
    /// its next round). The rounds themselves are counted per worker.
    ///
    /// Default: no order; jobs run as they fall due.
    ///
    /// # Example
    ///
    /// See [`Runner`].
    pub fn after(mut self, job: impl Into<String>, prerequisite: impl Into<String>) -> Self {
        self.after.push((job.into(), prerequisite.into()));
        self
    }

    /// This runner's worker id, the holder of its leases: unique among the
    /// workers sharing the store, or two of them would both hold a lease.
    ///
    /// Default: `<host>-<process id>-<random>`, unique per runner (the
    /// host from `HOSTNAME` or `COMPUTERNAME`, else `worker`).
    ///
    /// # Example
    ///
    /// See [`RunnerStatus`](crate::RunnerStatus).
    pub fn worker_id(mut self, id: impl Into<String>) -> Self {
        self.worker = Some(id.into());
        self
    }

    /// Runs at most `n` jobs at once (at least 1); the others wait their
    /// turn, earliest due first.
    ///
    /// Default: 4.
    ///
    /// # Example
    ///
    /// See [`Runner`].
    pub fn max_concurrent(mut self, n: usize) -> Self {
        self.max_concurrent = n;
        self
    }

    /// How long a lease lasts unless renewed: a run renews its lease every
    /// third of it, so a worker that dies gives its jobs up within `ttl`.
    /// Longer tolerates a slower store; shorter hands over sooner. At
    /// least 10 ms.
    ///
    /// Default: 60 s.
    ///
    /// # Example
    ///
    /// See [`Runner`].
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.lease_ttl = ttl;
        self
    }

    /// Adds up to `fraction` of a job's interval to each of its runs, at
    /// random, so workers and jobs started together drift apart (0 to 1).
    ///
    /// Default: 0.1.
    ///
    /// # Example
    ///
    /// See [`Runner`].
    pub fn jitter(mut self, fraction: f64) -> Self {
        self.jitter = fraction;
        self
    }

    /// The longest a failing job waits: after each failure in a row the
    /// wait doubles from twice its interval, up to this (or its interval,
    /// when that is longer). An error that says when to come back
    /// ([`retry_after`](crate::ConnectorError::retry_after): a circuit
    /// breaker open, a rate limit) sets the next run to then instead.
    ///
    /// Default: 15 minutes.
    ///
    /// # Example
    ///
    /// See [`Runner`].
    pub fn max_backoff(mut self, max: Duration) -> Self {
        self.max_backoff = max;
        self
    }

    /// The runner.
    ///
    /// # Errors
    ///
    /// [`Configuration`](ConnectorErrorKind::Configuration): no job; two
    /// jobs with one name, or an empty name; an interval or concurrency of
    /// zero; a lease TTL under 10 ms; a jitter outside 0 to 1; an empty worker id;
    /// an [`after`](Self::after) that names no job, or orders jobs in a
    /// cycle.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorErrorKind, Job, MemoryStore, RunReport, Runner, Shutdown};
    /// use std::{sync::Arc, time::Duration};
    /// # struct Named(&'static str);
    /// # #[async_trait::async_trait] impl Job for Named { fn name(&self) -> &str { self.0 }
    /// #   async fn run_once(&self, _: &Shutdown) -> odoo_integration_connectors::Result<RunReport> { Ok(RunReport::new("done")) } }
    /// let minute = Duration::from_secs(60);
    /// let e = Runner::builder(Arc::new(MemoryStore::new()))
    ///     .job(Arc::new(Named("clients")), minute)
    ///     .job(Arc::new(Named("contacts")), minute)
    ///     .after("contacts", "clients")
    ///     .after("clients", "contacts")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
    /// assert!(e.message().contains("cycle"));
    /// ```
    pub fn build(self) -> Result<Runner> {
        let bad = |message: String| {
            Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("runner: {message}"),
            ))
        };
        if self.jobs.is_empty() {
            return bad("no jobs to run".into());
        }
        let names: Vec<&str> = self.jobs.iter().map(|(j, _)| j.name()).collect();
        for (i, (job, every)) in self.jobs.iter().enumerate() {
            let name = job.name();
            if name.trim().is_empty() {
                return bad("a job has an empty name".into());
            }
            if names[..i].contains(&name) {
                return bad(format!(
                    "two jobs are named `{name}`; a name is a lease, it must be unique"
                ));
            }
            if every.is_zero() {
                return bad(format!("job `{name}` has an interval of zero"));
            }
        }
        if self.max_concurrent == 0 {
            return bad("max_concurrent is zero: nothing could run".into());
        }
        if self.lease_ttl < MIN_LEASE_TTL {
            return bad(format!(
                "the lease TTL ({:?}) is under {MIN_LEASE_TTL:?}: it would be renewed in a busy loop",
                self.lease_ttl
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return bad(format!(
                "jitter {} is not a fraction from 0 to 1",
                self.jitter
            ));
        }
        let worker = match self.worker {
            Some(w) if w.trim().is_empty() => return bad("the worker id is empty".into()),
            Some(w) => w,
            None => default_worker_id(),
        };
        let before = prerequisites(&names, &self.after)?;
        let status = RunnerStatus {
            worker: worker.clone(),
            shutting_down: false,
            jobs: names.iter().map(|n| JobStatus::new(n)).collect(),
        };
        let jobs = self
            .jobs
            .into_iter()
            .zip(before)
            .map(|((job, interval), before)| Entry {
                job,
                interval,
                before,
            })
            .collect();
        Ok(Runner {
            inner: Arc::new(Inner {
                worker: worker.into(),
                store: self.store,
                jobs,
                max_concurrent: self.max_concurrent,
                lease_ttl: self.lease_ttl,
                jitter: self.jitter,
                max_backoff: self.max_backoff,
                random: RandomState::new(),
                status: Mutex::new(status),
                running: AtomicBool::new(false),
            }),
        })
    }
}

/// `<host>-<pid>-<random>`: unique per runner, readable in the store.
fn default_worker_id() -> String {
    let host = std::env::var("HOSTNAME")
        .or_else(|_| std::env::var("COMPUTERNAME"))
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| "worker".to_owned());
    // A fresh `RandomState` is keyed differently for each runner.
    let suffix = RandomState::new().hash_one(std::process::id()) & 0xffff_ffff;
    format!("{host}-{}-{suffix:08x}", std::process::id())
}
