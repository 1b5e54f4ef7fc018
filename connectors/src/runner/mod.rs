//! The runner: keeps a set of jobs (pipelines, workflows) running, each
//! at its interval, under a lease, in order, until shutdown.
//!
//! - [`job`]: the [`Job`] trait and its [`RunReport`]; a [`Pipeline`] is a
//!   job.
//! - [`shutdown`]: the [`Shutdown`] signal (SIGTERM and ctrl-c included).
//! - [`schedule`]: pure decisions: the next run (interval, jitter,
//!   back-off, `retry_after`), the order between jobs, cycles.
//! - [`lease`]: one run under its lease, renewed while it runs.
//! - [`status`]: what it is doing, for people and the CLI.
//! - [`builder`]: its settings, checked at `build()`.
//!
//! [`Pipeline`]: crate::Pipeline

mod builder;
mod job;
mod lease;
mod schedule;
mod shutdown;
mod status;

pub use builder::RunnerBuilder;
pub use job::{Job, RunReport};
pub use shutdown::Shutdown;
pub use status::{JobStatus, LastRun, RunnerStatus};

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::store::LeaseStore;
use lease::Attempt;
use schedule::{Clock, Ended};
use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::Instrument;

/// Keeps a set of [`Job`]s running until [`Shutdown`]: pipelines (each a
/// job) and your own workflows.
///
/// - **Intervals.** Each job runs every interval, plus a random
///   [`jitter`](RunnerBuilder::jitter), its first run at once. A run that
///   outlasts its interval skips the ticks it missed (never two runs of a
///   job queued, never two at once).
/// - **Leases.** Before each run the job's lease (its name) is taken in
///   the [`LeaseStore`], as this runner's [worker id](RunnerBuilder::worker_id);
///   while another worker (a task, a process, a machine sharing the
///   store) holds it, the round is skipped ([`LastRun::Skipped`], counted
///   in [`JobStatus::skipped_held`]). The lease is renewed every third of
///   its [TTL](RunnerBuilder::lease_ttl) while the run is in flight and
///   given back after it, so a worker that dies gives its jobs up within
///   the TTL. A run whose lease is lost is stopped at its next page
///   boundary ([`LastRun::LeaseLost`]).
/// - **Graceful shutdown.** Once the [`Shutdown`] trips, no new run
///   starts; each run in flight finishes its page (batch applied,
///   checkpoint saved), stops, and gives its lease back; then
///   [`run`](Self::run) returns. The next start resumes from the
///   checkpoints.
/// - **Back-pressure.** At most [`max_concurrent`](RunnerBuilder::max_concurrent)
///   runs at once. A failing run doubles its wait, up to
///   [`max_backoff`](RunnerBuilder::max_backoff); an error with a
///   [`retry_after`](ConnectorError::retry_after) (a pipeline's
///   [`CircuitBreaker`](crate::CircuitBreaker) open, a rate limit) sets
///   the next run to exactly then, instead of polling.
/// - **Order.** [`after`](RunnerBuilder::after)`("contacts", "clients")`:
///   each run of contacts waits for a round of clients.
/// - **Status.** [`status`](Self::status), at any time, from any task.
///
/// It is cheap to clone (clones share one runner): keep one to read the
/// status while another runs.
///
/// ## Metrics
///
/// With the feature `metrics`:
///
/// | metric | kind | labels | what |
/// |---|---|---|---|
/// | `sync_runner_rounds_total` | counter | `job`, `outcome` (`finished`, `stopped`, `lease_lost`, `failed`, `skipped`) | rounds by how they ended |
/// | `sync_runner_running` | gauge | `job` | 1 while a run is in flight |
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{sources::VecSource, MemoryStore, Pipeline, Runner, Shutdown, SourceChange};
/// use odoo_integration_model::{ClientCompany, Contact};
/// use std::{sync::Arc, time::Duration};
/// # use async_trait::async_trait;
/// # use odoo_integration_connectors::*;
/// # use odoo_integration_model::{Entity, RemoteId, SystemId};
/// # struct Erp;
/// # impl Connector for Erp { fn system(&self) -> SystemId { SystemId::odoo() }
/// #   fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client", "contact"]) } }
/// # #[async_trait] impl<E: Entity + Send + Sync + 'static> Sink<E> for Erp {
/// #   async fn apply(&self, b: Vec<SinkRecord<E>>) -> odoo_integration_connectors::Result<Vec<Outcome>> {
/// #     Ok(b.iter().map(|r| Outcome::Created(RemoteId::new(r.origin_id.as_str()))).collect()) } }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let state = Arc::new(MemoryStore::new());
/// let at = chrono::Utc::now();
/// let clients = VecSource::from_records("crm", at, [("1", ClientCompany { legal_name: "Acme".into(), ..Default::default() })]);
/// let contacts = VecSource::from_records("crm", at, [("7", Contact::default())]);
/// let clients = Pipeline::<ClientCompany>::builder("clients", Arc::new(clients), Arc::new(Erp), state.clone()).build()?;
/// let contacts = Pipeline::<Contact>::builder("contacts", Arc::new(contacts), Arc::new(Erp), state.clone()).build()?;
///
/// let runner = Runner::builder(state)
///     .job(Arc::new(clients), Duration::from_secs(60))
///     .job(Arc::new(contacts), Duration::from_secs(60))
///     .after("contacts", "clients")
///     .max_concurrent(2)
///     .lease_ttl(Duration::from_secs(30))
///     .jitter(0.2)
///     .max_backoff(Duration::from_secs(600))
///     .build()?;
/// let shutdown = Shutdown::new(); // in a service: Shutdown::on_signals()?
/// let running = tokio::spawn({
///     let (runner, shutdown) = (runner.clone(), shutdown.clone());
///     async move { runner.run(&shutdown).await }
/// });
/// while runner.status().job("contacts").is_none_or(|j| j.runs == 0 || j.running) {
///     tokio::time::sleep(Duration::from_millis(5)).await;
/// }
/// shutdown.trip();
/// running.await.expect("not panicked")?;
/// let status = runner.status();
/// assert!(matches!(status.job("clients").and_then(|j| j.last.clone()), Some(LastRun::Finished(_))));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Runner {
    inner: Arc<Inner>,
}

/// A job and its place.
struct Entry {
    job: Arc<dyn Job>,
    interval: Duration,
    /// Its prerequisites (indexes).
    before: Vec<usize>,
}

struct Inner {
    worker: Arc<str>,
    store: Arc<dyn LeaseStore>,
    jobs: Vec<Entry>,
    max_concurrent: usize,
    lease_ttl: Duration,
    jitter: f64,
    max_backoff: Duration,
    random: RandomState,
    status: Mutex<RunnerStatus>,
    /// [`Runner::run`] is running.
    running: AtomicBool,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let jobs: Vec<&str> = self.inner.jobs.iter().map(|e| e.job.name()).collect();
        f.debug_struct("Runner")
            .field("worker", &self.inner.worker)
            .field("jobs", &jobs)
            .field("max_concurrent", &self.inner.max_concurrent)
            .field("lease_ttl", &self.inner.lease_ttl)
            .finish_non_exhaustive()
    }
}

/// Clears [`Inner::running`] however `run` ends (aborted included).
struct Running<'a>(&'a AtomicBool);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Runner {
    /// Starts a runner whose leases live in `store` (any state store:
    /// share one among the workers that must not run a job at once).
    ///
    /// # Example
    ///
    /// See [`Runner`].
    pub fn builder(store: Arc<dyn LeaseStore>) -> RunnerBuilder {
        RunnerBuilder::new(store)
    }

    /// A snapshot of what the runner is doing.
    ///
    /// # Example
    ///
    /// See [`RunnerStatus`].
    pub fn status(&self) -> RunnerStatus {
        self.status_mut().clone()
    }

    fn status_mut(&self) -> MutexGuard<'_, RunnerStatus> {
        self.inner
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs the jobs until `shutdown` trips, then lets the runs in flight
    /// finish their page, and returns. A job that fails is retried later
    /// (see [`Runner`]); its error is in the [`status`](Self::status).
    ///
    /// Dropping (or aborting) the future stops the runs at once, without
    /// giving their leases back: they lapse after the TTL, as when the
    /// process dies.
    ///
    /// # Errors
    ///
    /// [`Configuration`](ConnectorErrorKind::Configuration): this runner
    /// (or a clone) is already running.
    ///
    /// # Example
    ///
    /// See [`Runner`].
    pub async fn run(&self, shutdown: &Shutdown) -> Result<()> {
        if self.inner.running.swap(true, Ordering::SeqCst) {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                "runner: already running; run it once, or build another with its own worker id",
            ));
        }
        let _running = Running(&self.inner.running);
        let span = tracing::info_span!("runner", worker = %self.inner.worker);
        self.run_loop(shutdown).instrument(span).await;
        Ok(())
    }

    async fn run_loop(&self, shutdown: &Shutdown) {
        let inner = &self.inner;
        let now = Instant::now();
        let mut clocks: Vec<Clock> = inner
            .jobs
            .iter()
            .map(|e| Clock::new(e.interval, now))
            .collect();
        let mut tasks: JoinSet<Attempt> = JoinSet::new();
        // Which job each task runs.
        let mut jobs_of: HashMap<tokio::task::Id, usize> = HashMap::new();
        // Numbers starts and ends, for the order between jobs.
        let mut events = 0u64;
        {
            let mut status = self.status_mut();
            status.shutting_down = shutdown.is_tripped();
            let wall = chrono::Utc::now();
            for job in &mut status.jobs {
                job.next_run_at = Some(wall);
            }
        }
        tracing::info!(jobs = clocks.len(), "runner started");
        loop {
            let now = Instant::now();
            let stopping = shutdown.is_tripped();
            if stopping {
                if tasks.is_empty() {
                    break;
                }
            } else {
                let mut due: Vec<usize> = (0..clocks.len())
                    .filter(|&i| {
                        !clocks[i].running
                            && clocks[i].next_at <= now
                            && schedule::ordered(&clocks, &inner.jobs[i].before, i)
                    })
                    .collect();
                due.sort_by_key(|&i| clocks[i].next_at);
                for i in due {
                    if tasks.len() >= inner.max_concurrent {
                        break;
                    }
                    events += 1;
                    clocks[i].running = true;
                    clocks[i].started = Some(events);
                    jobs_of.insert(self.start(i, &mut tasks, shutdown), i);
                }
            }
            // The next job to fall due; one already due waits for a run
            // to end (a free slot, a prerequisite's round).
            let next_due = if stopping {
                None
            } else {
                clocks
                    .iter()
                    .filter(|c| !c.running && c.next_at > now)
                    .map(|c| c.next_at)
                    .min()
            };
            tokio::select! {
                Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                    let (id, attempt) = match joined {
                        Ok(ended) => ended,
                        // The job's own panics are caught in the task;
                        // this is the lease store's (its lease lapses).
                        Err(e) => (e.id(), Attempt::Ran {
                            result: Err(ConnectorError::new(
                                ConnectorErrorKind::Store,
                                format!("the run's task failed (the lease store panicked?): {e}"),
                            )),
                            lost: false,
                        }),
                    };
                    if let Some(i) = jobs_of.remove(&id) {
                        events += 1;
                        self.ended(i, attempt, &mut clocks[i], events);
                    }
                }
                () = sleep_until(next_due), if next_due.is_some() => {}
                () = shutdown.tripped(), if !stopping => {
                    tracing::info!(in_flight = tasks.len(), "shutdown: finishing the runs in flight");
                    let mut status = self.status_mut();
                    status.shutting_down = true;
                    for job in &mut status.jobs {
                        job.next_run_at = None;
                    }
                }
            }
        }
        tracing::info!("runner stopped");
    }

    /// Starts job `i` in `tasks`; the task's id.
    fn start(
        &self,
        i: usize,
        tasks: &mut JoinSet<Attempt>,
        shutdown: &Shutdown,
    ) -> tokio::task::Id {
        let inner = &self.inner;
        let job = inner.jobs[i].job.clone();
        let name = job.name().to_owned();
        {
            let mut status = self.status_mut();
            let s = &mut status.jobs[i];
            s.running = true;
            s.next_run_at = None;
        }
        observe_running(&name, true);
        let span = tracing::info_span!("job", job = %name);
        let this = self.clone();
        let started = move || {
            let mut status = this.status_mut();
            let s = &mut status.jobs[i];
            s.runs += 1;
            s.last_start = Some(chrono::Utc::now());
            s.lease_holder = Some(this.inner.worker.to_string());
        };
        // The jobs it is ordered with, either way (its prerequisites, the
        // jobs after it): while one runs on another worker, it does not
        // start. Both sides take their own lease before they look, so two
        // ordered jobs never run at once on two workers.
        let ordered: Vec<String> = inner
            .jobs
            .iter()
            .enumerate()
            .filter(|(j, e)| inner.jobs[i].before.contains(j) || e.before.contains(&i))
            .map(|(_, e)| e.job.name().to_owned())
            .collect();
        let run = lease::run_leased(
            job,
            lease::Leasing {
                store: inner.store.clone(),
                worker: inner.worker.clone(),
                ttl: inner.lease_ttl,
                ordered,
            },
            shutdown.clone(),
            started,
        );
        tasks.spawn(run.instrument(span)).id()
    }

    /// Records how job `i`'s round ended, and when it runs next.
    fn ended(&self, i: usize, attempt: Attempt, clock: &mut Clock, event: u64) {
        let inner = &self.inner;
        let name = inner.jobs[i].job.name();
        let now = Instant::now();
        let wall = chrono::Utc::now();
        clock.running = false;
        clock.concluded = Some(event);
        observe_running(name, false);
        let (ended, last) = match attempt {
            Attempt::Held { holder } => {
                tracing::debug!(job = name, %holder, "skipped: the lease is held by a live worker");
                (Ended::Skipped, LastRun::Skipped { holder })
            }
            Attempt::NoLease(e) => {
                tracing::warn!(job = name, error = %e, "could not ask for the lease");
                let retry_after = e.retry_after();
                (Ended::Failed { retry_after }, LastRun::Failed(e))
            }
            Attempt::Ran { result: Err(e), .. } => {
                tracing::warn!(job = name, error = %e, retry_after_s = e.retry_after().map(|d| d.as_secs_f64()), "run failed");
                let retry_after = e.retry_after();
                (Ended::Failed { retry_after }, LastRun::Failed(e))
            }
            Attempt::Ran {
                result: Ok(report),
                lost,
            } => {
                tracing::info!(job = name, report = %report, lease_lost = lost, "run ended");
                let last = if lost {
                    LastRun::LeaseLost(report)
                } else if report.stopped_early {
                    LastRun::Stopped(report)
                } else {
                    LastRun::Finished(report)
                };
                (Ended::Ran, last)
            }
        };
        let round = clock.started.unwrap_or(0);
        let sample = schedule::sample(&inner.random, name, round);
        let missed = clock.schedule(ended, now, inner.jitter, sample, inner.max_backoff);
        observe_round(name, &last);
        let mut status = self.status_mut();
        let shutting_down = status.shutting_down;
        let s = &mut status.jobs[i];
        s.running = false;
        s.last_end = Some(wall);
        s.missed_ticks += missed;
        s.failures_in_row = clock.failures;
        s.lease_holder = match &last {
            LastRun::Skipped { holder } => {
                s.skipped_held += 1;
                Some(holder.clone())
            }
            _ => None,
        };
        s.last = Some(last);
        s.next_run_at = (!shutting_down).then(|| {
            let wait = clock.next_at.saturating_duration_since(now);
            chrono::Duration::from_std(wait).map_or(wall, |w| wall + w)
        });
    }
}

/// Sleeps until `at` (forever when `None`; guarded by the caller).
async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[allow(unused_variables)]
fn observe_running(job: &str, running: bool) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("sync_runner_running", "job" => job.to_owned()).set(if running {
        1.0
    } else {
        0.0
    });
}

#[allow(unused_variables)]
fn observe_round(job: &str, last: &LastRun) {
    #[cfg(feature = "metrics")]
    {
        let outcome = match last {
            LastRun::Finished(_) => "finished",
            LastRun::Stopped(_) => "stopped",
            LastRun::LeaseLost(_) => "lease_lost",
            LastRun::Failed(_) => "failed",
            LastRun::Skipped { .. } => "skipped",
        };
        metrics::counter!("sync_runner_rounds_total", "job" => job.to_owned(), "outcome" => outcome).increment(1);
    }
}
