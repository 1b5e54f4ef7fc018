//! Talking to the two systems: reading a page and applying a batch, with
//! the pipeline's retries (the one retry layer), the limiters' pacing and
//! the systems' `Retry-After`.

use super::Pipeline;
use super::execute::Outgoing;
use crate::connector::{Cursor, Outcome, Page, SinkRecord, check_outcomes, fill_outcomes};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::rate_limit::RateLimiter;
use odoo_integration_model::Entity;
use std::time::Duration;

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    pub(super) async fn read_page(&self, cursor: Option<&Cursor>) -> Result<Page<E>> {
        let mut delays = self.delays();
        loop {
            if let Some(l) = &self.source_limiter {
                l.acquire().await;
            }
            let started = std::time::Instant::now();
            let read = self.source.read(cursor, self.batch_size).await;
            super::observe::call(self.source_system.as_str(), "read", started.elapsed());
            match read {
                Ok(page) => return Ok(page),
                Err(e) if e.is_retryable() => {
                    let Some(delay) = delays.next() else {
                        return Err(e);
                    };
                    tracing::warn!(pipeline = %self.name, error = %e, "source read failed, retrying");
                    super::observe::retry(&self.name, self.source_system.as_str(), delay);
                    if !self.wait(&e, delay, self.source_limiter.as_ref()).await {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Asks `matcher` about `records`, with the pipeline's retries and the
    /// sink's pacing (matching reads the sink).
    pub(super) async fn find_in_sink(
        &self,
        matcher: &dyn super::Matcher<E>,
        records: &[&E],
    ) -> Result<Vec<super::SinkMatch<E>>> {
        let mut delays = self.delays();
        loop {
            if let Some(l) = &self.sink_limiter {
                l.acquire().await;
            }
            match matcher.find(records).await {
                Ok(found) => return Ok(found),
                Err(e) if e.is_retryable() => {
                    let Some(delay) = delays.next() else {
                        return Err(e);
                    };
                    tracing::warn!(pipeline = %self.name, error = %e, "matching in the sink failed, retrying");
                    super::observe::retry(&self.name, self.sink_system.as_str(), delay);
                    if !self.wait(&e, delay, self.sink_limiter.as_ref()).await {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The waits before each retry, as the pipeline's retry policy says.
    pub(super) fn delays(&self) -> impl Iterator<Item = Duration> + use<E> {
        self.retry.delays()
    }

    /// Waits before a retry: at least the system's `Retry-After`, which
    /// also pauses every other caller of that limiter. `false` (nothing
    /// waited) when the system asked for longer than the limiter's ceiling
    /// ([`RateLimiter::max_pause`]): the caller gives up on this attempt
    /// and keeps the error, which carries the requested wait.
    pub(super) async fn wait(
        &self,
        e: &ConnectorError,
        delay: Duration,
        limiter: Option<&RateLimiter>,
    ) -> bool {
        match (e.retry_after(), limiter) {
            (Some(after), Some(l)) => {
                if let Err(refused) = l.pause_for(after) {
                    tracing::warn!(pipeline = %self.name, %refused, "not retrying");
                    return false;
                }
                tokio::time::sleep(delay).await;
            }
            (Some(after), None) if after > crate::rate_limit::DEFAULT_MAX_PAUSE => return false,
            (Some(after), None) => tokio::time::sleep(after.max(delay)).await,
            (None, _) => tokio::time::sleep(delay).await,
        }
        true
    }

    /// Sends records to the sink with retries; one outcome per record.
    ///
    /// A record new to the sink whose earlier attempt failed without an
    /// answer (a lost reply, a timeout, a 5xx) may have been created by
    /// that attempt: when a retry then finds it there (unchanged, or
    /// updated), it was created by this run, and counts as created.
    pub(super) async fn apply(&self, lot: &mut [Box<Outgoing<E>>]) -> Vec<Outcome> {
        let system = self.sink_system.clone();
        let mut results: Vec<Option<Outcome>> = lot.iter().map(|_| None).collect();
        let mut unsure = vec![false; lot.len()];
        // Whether each record creates: it is new to the sink, and no delete.
        let creates: Vec<bool> = lot
            .iter()
            .map(|o| o.record.target_id.is_none() && o.canonical.is_some())
            .collect();
        let settle = |i: usize, outcome: Outcome, unsure: &[bool]| match outcome {
            Outcome::Unchanged(id) | Outcome::Updated(id) if unsure[i] && creates[i] => {
                Outcome::Created(id)
            }
            other => other,
        };
        let mut pending: Vec<usize> = (0..lot.len()).collect();
        let mut delays = self.delays();
        loop {
            if let Some(l) = &self.sink_limiter {
                l.acquire().await;
            }
            let batch: Vec<SinkRecord<E>> = pending.iter().map(|&i| lot[i].next_send()).collect();
            let sent = batch.len();
            let started = std::time::Instant::now();
            let answer = self
                .sink
                .apply(batch)
                .await
                .and_then(|o| check_outcomes(&system, sent, &o).map(|()| o));
            super::observe::call(system.as_str(), "write", started.elapsed());
            let delay = delays.next();
            let mut retry_after: Option<ConnectorError> = None;
            match answer {
                Err(e) => {
                    if delay.is_none() || !e.is_retryable() {
                        for &i in &pending {
                            results[i] = Some(Outcome::Failed(e.clone()));
                        }
                        pending.clear();
                    } else {
                        tracing::warn!(pipeline = %self.name, error = %e, "sink call failed, retrying");
                        if outcome_unknown(&e) {
                            for &i in &pending {
                                unsure[i] = true;
                            }
                        }
                        retry_after = Some(e);
                    }
                }
                Ok(outcomes) => {
                    let mut still = Vec::new();
                    for (&i, outcome) in pending.iter().zip(outcomes) {
                        match outcome {
                            Outcome::Failed(e) if e.is_retryable() && delay.is_some() => {
                                unsure[i] |= outcome_unknown(&e);
                                // Keep a rate limit's error: its wait matters.
                                if e.retry_after().is_some() || retry_after.is_none() {
                                    retry_after = Some(e);
                                }
                                still.push(i);
                            }
                            other => results[i] = Some(settle(i, other, &unsure)),
                        }
                    }
                    pending = still;
                }
            }
            if let (false, Some(delay)) = (pending.is_empty(), delay) {
                super::observe::retry(&self.name, system.as_str(), delay);
            }
            match (pending.is_empty(), delay, retry_after) {
                (true, _, _) => break,
                (false, Some(delay), Some(e)) => {
                    if !self.wait(&e, delay, self.sink_limiter.as_ref()).await {
                        // Asked to wait past the ceiling: these records
                        // fail now with the rate limit (dead letters,
                        // replayed later) instead of holding the run.
                        for &i in &pending {
                            results[i] = Some(Outcome::Failed(e.clone()));
                        }
                        break;
                    }
                }
                (false, Some(delay), None) => tokio::time::sleep(delay).await,
                (false, None, _) => break,
            }
        }
        fill_outcomes(results, "no outcome")
    }
}

/// `true` when a failed call may still have taken effect: the request may
/// have reached the system and only its answer went missing.
fn outcome_unknown(e: &ConnectorError) -> bool {
    matches!(
        e.kind(),
        ConnectorErrorKind::Transport
            | ConnectorErrorKind::Unavailable
            | ConnectorErrorKind::Protocol
    )
}
