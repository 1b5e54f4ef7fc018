//! The circuit breaker: when a system keeps failing, the pipeline stops
//! sending to it instead of filing every record as a dead letter, waits,
//! probes, and resumes.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// Stops a pipeline that keeps failing against a system, so a long outage
/// or a revoked credential does not send every record to the dead-letter
/// queue.
///
/// It counts records the sink failed for reasons that are the system's,
/// not the record's: unreachable, unavailable, rate limited past the
/// retries, access refused. At [`threshold`](Self::threshold) such
/// failures in a row (a record written in between starts the count again)
/// it *opens*: the run stops with a [`CircuitOpen`](ConnectorErrorKind::CircuitOpen)
/// error, the failed records of the page are left where they are (the
/// checkpoint does not move past them, so the next run reads them again)
/// instead of dead-lettered, and every run before the wait is over fails
/// at once with the same kind, without calling either system. The first
/// run after the wait is the probe: a page written closes the breaker; a
/// system failure opens it again for twice as long (up to
/// [`waits`](Self::waits)' maximum). A credential refused
/// ([`Unauthorized`](ConnectorErrorKind::Unauthorized),
/// [`ReauthorizationNeeded`](ConnectorErrorKind::ReauthorizationNeeded))
/// opens it on the first record: the run stops with that error, nothing
/// dead-lettered. A source that still fails after the pipeline's retries
/// opens it too.
///
/// One breaker per pipeline by default; pipelines that share a system can
/// share one ([`PipelineBuilder::circuit_breaker`](super::PipelineBuilder::circuit_breaker)).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::CircuitBreaker;
/// use std::time::Duration;
/// let breaker = CircuitBreaker::new()
///     .threshold(20)
///     .waits(Duration::from_secs(10), Duration::from_secs(600));
/// assert!(!breaker.is_open());
/// assert!(breaker.check().is_ok());
/// ```
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    first_wait: Duration,
    max_wait: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// System failures in a row.
    failures: u32,
    /// Open until then, and why.
    open: Option<(Instant, ConnectorError)>,
    /// The wait the next opening gets.
    next_wait: Option<Duration>,
    /// The wait is over and the next page decides.
    probing: bool,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker::new()
    }
}

/// Whether a failure is the system's rather than the record's.
pub(super) fn system_failure(e: &ConnectorError) -> bool {
    matches!(
        e.kind(),
        ConnectorErrorKind::Transport
            | ConnectorErrorKind::RateLimited
            | ConnectorErrorKind::Unavailable
            | ConnectorErrorKind::Forbidden
    ) || credential_failure(e)
}

/// Whether the credential itself was refused.
fn credential_failure(e: &ConnectorError) -> bool {
    matches!(
        e.kind(),
        ConnectorErrorKind::Unauthorized | ConnectorErrorKind::ReauthorizationNeeded
    )
}

impl CircuitBreaker {
    /// Opens at 10 system failures in a row; waits 30 seconds, then
    /// twice as long each time the probe fails, up to 15 minutes.
    ///
    /// # Example
    ///
    /// See [`CircuitBreaker`].
    pub fn new() -> Self {
        CircuitBreaker {
            threshold: 10,
            first_wait: Duration::from_secs(30),
            max_wait: Duration::from_secs(15 * 60),
            state: Mutex::new(State::default()),
        }
    }

    /// Opens at `failures` system failures in a row (at least 1).
    ///
    /// # Example
    ///
    /// See [`CircuitBreaker`].
    pub fn threshold(mut self, failures: u32) -> Self {
        self.threshold = failures.max(1);
        self
    }

    /// The first wait once open, and the longest.
    ///
    /// # Example
    ///
    /// See [`CircuitBreaker`].
    pub fn waits(mut self, first: Duration, max: Duration) -> Self {
        self.first_wait = first;
        self.max_wait = max.max(first);
        self
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether the breaker is open now (its wait not over).
    ///
    /// # Example
    ///
    /// See [`CircuitBreaker`].
    pub fn is_open(&self) -> bool {
        self.state()
            .open
            .as_ref()
            .is_some_and(|(until, _)| Instant::now() < *until)
    }

    /// `Ok` when a run may go ahead (closed, or the wait is over and this
    /// run is the probe); else the error the breaker opened with, its
    /// `retry_after` the wait left.
    ///
    /// # Errors
    ///
    /// [`CircuitOpen`](ConnectorErrorKind::CircuitOpen) (or the refused
    /// credential's kind) while open.
    ///
    /// # Example
    ///
    /// See [`CircuitBreaker`].
    pub fn check(&self) -> Result<()> {
        let mut state = self.state();
        let Some((until, why)) = &state.open else {
            return Ok(());
        };
        let now = Instant::now();
        if now < *until {
            let left = *until - now;
            return Err(if credential_failure(why) {
                why.clone()
            } else {
                ConnectorError::circuit_open(why.message().to_owned(), left)
            });
        }
        state.open = None;
        state.probing = true;
        Ok(())
    }

    /// Records what the sink did with a page: `written` records went
    /// through, `failed` are the errors of those that did not. The error
    /// to stop the run with when this opens the breaker.
    pub(crate) fn record(
        &self,
        written: usize,
        failed: &[&ConnectorError],
    ) -> Option<ConnectorError> {
        let mut state = self.state();
        if let Some(refused) = failed.iter().find(|e| credential_failure(e)) {
            let why = ConnectorError::new(
                refused.kind(),
                format!(
                    "the credential was refused ({}): the pipeline stopped, nothing was \
                     dead-lettered; renew or fix the credential, then run again",
                    refused.message()
                ),
            );
            let why = match refused.system() {
                Some(s) => why.with_system(s.clone()),
                None => why,
            };
            return Some(self.open(&mut state, why));
        }
        let system: Vec<&&ConnectorError> = failed.iter().filter(|e| system_failure(e)).collect();
        if system.is_empty() {
            if written > 0 {
                state.failures = 0;
                state.probing = false;
                state.next_wait = None;
            }
            return None;
        }
        state.failures = state
            .failures
            .saturating_add(u32::try_from(system.len()).unwrap_or(u32::MAX));
        if state.probing || state.failures >= self.threshold {
            let last = system[system.len() - 1];
            let why = ConnectorError::new(
                ConnectorErrorKind::CircuitOpen,
                format!(
                    "{} records in a row failed against the system, the last with: {}",
                    state.failures, last
                ),
            );
            return Some(self.open(&mut state, why));
        }
        None
    }

    /// Records a read the source failed after the pipeline's retries; the
    /// error to stop the run with (the source's own, unless it opened the
    /// breaker).
    pub(crate) fn record_source(&self, error: ConnectorError) -> ConnectorError {
        if !system_failure(&error) {
            return error;
        }
        let mut state = self.state();
        let why = ConnectorError::new(
            error.kind(),
            format!("the source failed past the retries: {}", error.message()),
        );
        self.open(&mut state, why);
        error
    }

    /// Opens the breaker with `why`; the error the run stops with.
    fn open(&self, state: &mut State, why: ConnectorError) -> ConnectorError {
        let wait = state.next_wait.unwrap_or(self.first_wait);
        state.next_wait = Some(wait.saturating_mul(2).min(self.max_wait));
        state.failures = 0;
        state.probing = false;
        state.open = Some((Instant::now() + wait, why.clone()));
        tracing::warn!(error = %why, wait_s = wait.as_secs(), "circuit breaker open");
        if credential_failure(&why) {
            why
        } else {
            ConnectorError::circuit_open(why.message().to_owned(), wait)
        }
    }
}
