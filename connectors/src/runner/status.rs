//! What the runner is doing, readable while it runs.

use super::RunReport;
use crate::error::ConnectorError;
use chrono::{DateTime, Utc};
use std::fmt;

/// A snapshot of a [`Runner`](crate::Runner): its worker id and each
/// job's state. Read it at any time with
/// [`Runner::status`](crate::Runner::status); its `Display` is a table,
/// one line per job.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{Job, MemoryStore, RunReport, Runner, Shutdown};
/// use std::{sync::Arc, time::Duration};
/// # struct Nightly;
/// # #[async_trait::async_trait] impl Job for Nightly { fn name(&self) -> &str { "nightly" }
/// #   async fn run_once(&self, _: &Shutdown) -> odoo_integration_connectors::Result<RunReport> { Ok(RunReport::new("done")) } }
/// # fn main() -> odoo_integration_connectors::Result<()> {
/// let runner = Runner::builder(Arc::new(MemoryStore::new()))
///     .worker_id("worker-1")
///     .job(Arc::new(Nightly), Duration::from_secs(24 * 3600))
///     .build()?;
/// let status = runner.status();
/// assert_eq!(status.worker, "worker-1");
/// let nightly = status.job("nightly").expect("a job");
/// assert_eq!((nightly.runs, nightly.running), (0, false));
/// assert!(status.to_string().contains("nightly"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RunnerStatus {
    /// This runner's worker id: the holder of its leases.
    pub worker: String,
    /// Shutdown has been asked for: no new runs start.
    pub shutting_down: bool,
    /// Each job, in the order they were added.
    pub jobs: Vec<JobStatus>,
}

impl RunnerStatus {
    /// The job named `name`.
    ///
    /// # Example
    ///
    /// See [`RunnerStatus`].
    pub fn job(&self, name: &str) -> Option<&JobStatus> {
        self.jobs.iter().find(|j| j.name == name)
    }
}

/// One job's state in a [`RunnerStatus`].
///
/// # Example
///
/// See [`RunnerStatus`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct JobStatus {
    /// The job's name (and lease).
    pub name: String,
    /// A run is in flight.
    pub running: bool,
    /// Runs started by this runner.
    pub runs: u64,
    /// Runs that failed, in a row (0 after a run that did not).
    pub failures_in_row: u32,
    /// Rounds skipped because another worker held the lease.
    pub skipped_held: u64,
    /// Ticks missed because a run took longer than the interval (skipped,
    /// never queued).
    pub missed_ticks: u64,
    /// When the last run started.
    pub last_start: Option<DateTime<Utc>>,
    /// When the last round ended (a run, a skip, a failure).
    pub last_end: Option<DateTime<Utc>>,
    /// How it ended.
    pub last: Option<LastRun>,
    /// When the next run is due; `None` while one runs, or once shutting
    /// down.
    pub next_run_at: Option<DateTime<Utc>>,
    /// Who holds the job's lease, as last seen: this worker while it runs,
    /// another when it was skipped for it.
    pub lease_holder: Option<String>,
}

impl JobStatus {
    pub(super) fn new(name: &str) -> Self {
        JobStatus {
            name: name.to_owned(),
            running: false,
            runs: 0,
            failures_in_row: 0,
            skipped_held: 0,
            missed_ticks: 0,
            last_start: None,
            last_end: None,
            last: None,
            next_run_at: None,
            lease_holder: None,
        }
    }
}

/// How a job's last round ended.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{LastRun, RunReport};
/// let last = LastRun::Finished(RunReport::new("12 read"));
/// assert_eq!(last.to_string(), "finished: 12 read");
/// assert_eq!(LastRun::Skipped { holder: "worker-2".into() }.to_string(), "skipped: lease held by worker-2");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum LastRun {
    /// It ran to the end of its work.
    Finished(RunReport),
    /// It stopped early for shutdown (at a page boundary, progress
    /// saved).
    Stopped(RunReport),
    /// Its lease was lost while it ran (the store could not renew it, or
    /// another worker took it after it lapsed): it was stopped at the next
    /// page boundary.
    LeaseLost(RunReport),
    /// It failed (or its lease could not be taken: the store failed).
    Failed(ConnectorError),
    /// It did not run: another worker held the lease.
    Skipped {
        /// That worker.
        holder: String,
    },
}

impl fmt::Display for LastRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LastRun::Finished(r) => write!(f, "finished: {r}"),
            LastRun::Stopped(r) => write!(f, "stopped for shutdown: {r}"),
            LastRun::LeaseLost(r) => write!(f, "lease lost: {r}"),
            LastRun::Failed(e) => write!(f, "failed: {e}"),
            LastRun::Skipped { holder } => write!(f, "skipped: lease held by {holder}"),
        }
    }
}

impl fmt::Display for RunnerStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let time = |t: &Option<DateTime<Utc>>| {
            t.map_or_else(
                || "-".to_owned(),
                |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
            )
        };
        write!(f, "worker {}", self.worker)?;
        if self.shutting_down {
            f.write_str(" (shutting down)")?;
        }
        for j in &self.jobs {
            let state = if j.running { "running" } else { "idle" };
            let last = j
                .last
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            write!(
                f,
                "\n{}: {state}, {} runs, last started {}, next {}, lease {}, last: {last}",
                j.name,
                j.runs,
                time(&j.last_start),
                time(&j.next_run_at),
                j.lease_holder.as_deref().unwrap_or("-"),
            )?;
        }
        Ok(())
    }
}
