//! What a runner runs: any [`Job`], a [`Pipeline`] among them.

use super::Shutdown;
use crate::error::Result;
use crate::pipeline::{Pipeline, RunSummary};
use async_trait::async_trait;
use odoo_integration_model::Entity;
use std::fmt;

/// Something the [`Runner`](crate::Runner) runs again and again: a
/// [`Pipeline`] of any entity, or your own workflow.
///
/// A run should watch `stop` and, once it trips, finish the unit of work
/// in flight (a page, a batch), save its progress, and return early
/// with a report marked [`stopped`](RunReport::stopped): the runner trips
/// it on shutdown, and when the job's lease was lost (another worker may
/// be taking over). A run that ignores it is waited for.
///
/// The name is the job's identity: its lease is held under it, ordering
/// ([`RunnerBuilder::after`](crate::RunnerBuilder::after)) and status
/// refer to it. A pipeline's is its own name (its checkpoint key).
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use odoo_integration_connectors::{Job, RunReport, Shutdown};
///
/// /// Sends a digest of yesterday's dead letters, in chunks.
/// struct Digest;
///
/// #[async_trait]
/// impl Job for Digest {
///     fn name(&self) -> &str { "digest" }
///     async fn run_once(&self, stop: &Shutdown) -> odoo_integration_connectors::Result<RunReport> {
///         for chunk in 0..3 {
///             // ... send chunk `chunk` ...
///             if stop.is_tripped() {
///                 return Ok(RunReport::new(format!("{} chunks sent", chunk + 1)).stopped());
///             }
///         }
///         Ok(RunReport::new("3 chunks sent"))
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let report = Digest.run_once(&Shutdown::new()).await?;
/// assert_eq!(report.message, "3 chunks sent");
/// assert!(!report.stopped_early);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait Job: Send + Sync {
    /// The job's name: its lease, its place in the runner's order and
    /// status. Unique within a runner.
    fn name(&self) -> &str;

    /// One run, watching `stop`.
    ///
    /// # Errors
    ///
    /// The run failed; the runner backs off (or waits the error's
    /// [`retry_after`](crate::ConnectorError::retry_after)) before the
    /// next run.
    async fn run_once(&self, stop: &Shutdown) -> Result<RunReport>;
}

/// What one run of a [`Job`] did.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{RunReport, RunSummary};
/// let mut summary = RunSummary::default();
/// (summary.read, summary.created) = (3, 3);
/// let report = RunReport::from(summary);
/// assert_eq!(report.summary.map(|s| s.created), Some(3));
/// assert!(RunReport::new("2 chunks sent").stopped().stopped_early);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunReport {
    /// One line for people: what the run did.
    pub message: String,
    /// The run stopped before the end of its work because its stop
    /// tripped; the next run carries on.
    pub stopped_early: bool,
    /// A pipeline's summary of the run.
    pub summary: Option<RunSummary>,
}

impl RunReport {
    /// A run that did what `message` says, to the end.
    ///
    /// # Example
    ///
    /// See [`RunReport`].
    pub fn new(message: impl Into<String>) -> Self {
        RunReport {
            message: message.into(),
            stopped_early: false,
            summary: None,
        }
    }

    /// Marks the run as stopped early.
    ///
    /// # Example
    ///
    /// See [`RunReport`].
    #[must_use]
    pub fn stopped(mut self) -> Self {
        self.stopped_early = true;
        self
    }
}

impl From<RunSummary> for RunReport {
    fn from(summary: RunSummary) -> Self {
        RunReport {
            message: summary.to_string(),
            stopped_early: false,
            summary: Some(summary),
        }
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        if self.stopped_early {
            f.write_str(" (stopped early)")?;
        }
        Ok(())
    }
}

/// A pipeline is a job: each run reads from its checkpoint to the end of
/// its source, or to the first page boundary after `stop` trips
/// ([`Pipeline::run_until`]).
#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> Job for Pipeline<E> {
    fn name(&self) -> &str {
        Pipeline::name(self)
    }

    async fn run_once(&self, stop: &Shutdown) -> Result<RunReport> {
        let (summary, stopped) = self.run_stoppable(stop).await;
        let report = RunReport::from(summary?);
        Ok(if stopped { report.stopped() } else { report })
    }
}
