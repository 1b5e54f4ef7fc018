//! A token bucket per connector, shared by every task that calls it, that
//! also obeys the system's `Retry-After`.
//!
//! Hand-written (a GCRA over `tokio::time`) rather than `governor`: it must
//! pause every caller when a system answers 429, and it runs on tokio's
//! clock so that tests use the paused clock instead of sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// A request budget: `requests` per `per`, with bursts of up to `burst`.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::Quota;
/// use std::time::Duration;
///
/// let q = Quota::per_second(10).burst(20);
/// assert_eq!(q.interval(), Duration::from_millis(100));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    requests: u32,
    per: Duration,
    burst: u32,
}

impl Quota {
    /// `requests` per `per`; bursts of `requests` allowed (at least 1).
    ///
    /// # Example
    ///
    /// ```
    /// let q = odoo_integration_connectors::Quota::new(100, std::time::Duration::from_secs(10));
    /// assert_eq!(q.interval(), std::time::Duration::from_millis(100));
    /// ```
    pub fn new(requests: u32, per: Duration) -> Self {
        let requests = requests.max(1);
        Quota {
            requests,
            per,
            burst: requests,
        }
    }
    /// No limit: a limiter with this quota only passes on pauses
    /// ([`RateLimiter::pause_for`]). The pipeline uses it for a connector
    /// that declares no rate limit, so a `Retry-After` still holds back
    /// every task that calls it.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::Quota::unlimited().interval().is_zero());
    /// ```
    pub fn unlimited() -> Self {
        Quota {
            requests: u32::MAX,
            per: Duration::ZERO,
            burst: u32::MAX,
        }
    }
    /// `n` requests per second.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::Quota::per_second(4).interval().as_millis(), 250);
    /// ```
    pub fn per_second(n: u32) -> Self {
        Quota::new(n, Duration::from_secs(1))
    }
    /// `n` requests per minute.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::Quota::per_minute(60).interval().as_secs(), 1);
    /// ```
    pub fn per_minute(n: u32) -> Self {
        Quota::new(n, Duration::from_secs(60))
    }
    /// How many requests may go at once (at least 1).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{Quota, RateLimiter};
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let limiter = RateLimiter::new(Quota::per_second(10).burst(3));
    /// let start = tokio::time::Instant::now();
    /// for _ in 0..3 {
    ///     limiter.acquire().await; // a burst of three goes at once
    /// }
    /// assert_eq!(start.elapsed(), Duration::ZERO);
    /// limiter.acquire().await; // then one per 100 ms
    /// assert_eq!(start.elapsed(), Duration::from_millis(100));
    /// # }
    /// ```
    pub fn burst(mut self, burst: u32) -> Self {
        self.burst = burst.max(1);
        self
    }
    /// The steady-state time between two requests.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::Quota::per_second(1).interval().as_secs(), 1);
    /// ```
    pub fn interval(&self) -> Duration {
        self.per / self.requests
    }
}

/// The longest pause a [`RateLimiter`] takes when a system asks for one,
/// unless set otherwise with [`RateLimiter::with_max_pause`]: 5 minutes.
pub const DEFAULT_MAX_PAUSE: Duration = Duration::from_secs(300);

/// A system asked for a pause longer than the limiter's ceiling; the
/// limiter did not take it (see [`RateLimiter::pause_for`]).
///
/// Converts into a rate-limited [`ConnectorError`](crate::ConnectorError)
/// that carries the requested wait.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{Quota, RateLimiter};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let limiter = RateLimiter::new(Quota::per_second(10));
/// let refused = limiter.pause_for(Duration::from_secs(86_400)).unwrap_err();
/// assert_eq!(refused.requested(), Duration::from_secs(86_400));
/// let error = odoo_integration_connectors::ConnectorError::from(refused);
/// assert_eq!(error.retry_after(), Some(Duration::from_secs(86_400)));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the system asked to wait {} s, longer than the limiter's ceiling of {} s", requested.as_secs(), ceiling.as_secs())]
pub struct PauseTooLong {
    requested: Duration,
    ceiling: Duration,
}

impl PauseTooLong {
    /// The wait the system asked for.
    ///
    /// # Example
    ///
    /// See [`PauseTooLong`].
    pub fn requested(&self) -> Duration {
        self.requested
    }
    /// The longest pause the limiter takes.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let l = odoo_integration_connectors::RateLimiter::new(odoo_integration_connectors::Quota::per_second(1));
    /// let e = l.pause_for(std::time::Duration::from_secs(3_600)).unwrap_err();
    /// assert_eq!(e.ceiling(), odoo_integration_connectors::DEFAULT_MAX_PAUSE);
    /// # }
    /// ```
    pub fn ceiling(&self) -> Duration {
        self.ceiling
    }
}

impl From<PauseTooLong> for crate::ConnectorError {
    fn from(e: PauseTooLong) -> Self {
        crate::ConnectorError::rate_limited(e.to_string(), Some(e.requested))
    }
}

#[derive(Debug)]
struct State {
    /// The theoretical arrival time of the next request (GCRA).
    tat: Instant,
    /// No request before this instant (a system's `Retry-After`).
    paused_until: Option<Instant>,
}

/// A rate limiter, cheap to clone; clones share one budget.
///
/// [`acquire`](RateLimiter::acquire) waits for a slot;
/// [`pause_for`](RateLimiter::pause_for) makes every caller wait, for when
/// the system answered 429 with `Retry-After`.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{Quota, RateLimiter};
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let limiter = RateLimiter::new(Quota::per_second(2).burst(1));
/// let start = tokio::time::Instant::now();
/// for _ in 0..3 {
///     limiter.acquire().await;
/// }
/// assert_eq!(start.elapsed(), Duration::from_secs(1)); // 0 ms, 500 ms, 1000 ms
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct RateLimiter {
    quota: Quota,
    max_pause: Duration,
    state: Arc<Mutex<State>>,
}

impl RateLimiter {
    /// A limiter with `quota`, full at start.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let l = odoo_integration_connectors::RateLimiter::new(odoo_integration_connectors::Quota::per_second(5));
    /// assert_eq!(l.quota().interval().as_millis(), 200);
    /// # }
    /// ```
    pub fn new(quota: Quota) -> Self {
        RateLimiter {
            quota,
            max_pause: DEFAULT_MAX_PAUSE,
            state: Arc::new(Mutex::new(State {
                tat: Instant::now(),
                paused_until: None,
            })),
        }
    }

    /// The quota.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let q = odoo_integration_connectors::Quota::per_minute(30);
    /// assert_eq!(odoo_integration_connectors::RateLimiter::new(q).quota(), q);
    /// # }
    /// ```
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// The longest pause this limiter takes when a system asks for one
    /// (default [`DEFAULT_MAX_PAUSE`], 5 minutes). A longer `Retry-After`
    /// (a daily quota spent, a broken or hostile server asking for years)
    /// is refused by [`pause_for`](RateLimiter::pause_for) rather than
    /// block every caller.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let l = odoo_integration_connectors::RateLimiter::new(odoo_integration_connectors::Quota::per_second(5))
    ///     .with_max_pause(Duration::from_secs(30));
    /// assert_eq!(l.max_pause(), Duration::from_secs(30));
    /// assert!(l.pause_for(Duration::from_secs(31)).is_err());
    /// # }
    /// ```
    #[must_use]
    pub fn with_max_pause(mut self, ceiling: Duration) -> Self {
        self.max_pause = ceiling;
        self
    }

    /// The longest pause this limiter takes; see
    /// [`with_max_pause`](RateLimiter::with_max_pause).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let l = odoo_integration_connectors::RateLimiter::new(odoo_integration_connectors::Quota::per_second(5));
    /// assert_eq!(l.max_pause(), odoo_integration_connectors::DEFAULT_MAX_PAUSE);
    /// # }
    /// ```
    pub fn max_pause(&self) -> std::time::Duration {
        self.max_pause
    }

    /// Waits until a request may go.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// odoo_integration_connectors::RateLimiter::new(odoo_integration_connectors::Quota::per_second(100)).acquire().await;
    /// # }
    /// ```
    pub async fn acquire(&self) {
        loop {
            let at = self.reserve();
            tokio::time::sleep_until(at).await;
            // A pause may have arrived while we slept: honour it.
            match self.paused_until() {
                Some(until) if until > Instant::now() => continue,
                _ => return,
            }
        }
    }

    /// Makes every caller wait `wait` from now (longer pauses win), for
    /// when a system answered 429 with `Retry-After`.
    ///
    /// # Errors
    ///
    /// [`PauseTooLong`] when `wait` is longer than
    /// [`max_pause`](RateLimiter::max_pause): the limiter does not pause
    /// (later calls go ahead and meet the system's refusal themselves, as
    /// a typed error), and the caller should fail the call with the error,
    /// which carries the requested wait.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), odoo_integration_connectors::PauseTooLong> {
    /// let l = odoo_integration_connectors::RateLimiter::new(odoo_integration_connectors::Quota::per_second(100));
    /// let start = tokio::time::Instant::now();
    /// l.pause_for(Duration::from_secs(7))?;
    /// l.acquire().await;
    /// assert!(start.elapsed() >= Duration::from_secs(7));
    /// # Ok(()) }
    /// ```
    pub fn pause_for(&self, wait: Duration) -> Result<(), PauseTooLong> {
        let now = Instant::now();
        let until = match now.checked_add(wait) {
            Some(until) if wait <= self.max_pause => until,
            _ => {
                return Err(PauseTooLong {
                    requested: wait,
                    ceiling: self.max_pause,
                });
            }
        };
        if let Ok(mut s) = self.state.lock() {
            s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
        }
        Ok(())
    }

    fn paused_until(&self) -> Option<Instant> {
        self.state.lock().ok().and_then(|s| s.paused_until)
    }

    /// Books the next slot and returns when it starts.
    fn reserve(&self) -> Instant {
        let now = Instant::now();
        let Ok(mut s) = self.state.lock() else {
            return now;
        };
        let start = s.paused_until.map_or(now, |p| p.max(now));
        let interval = self.quota.interval();
        let tolerance = interval
            .checked_mul(self.quota.burst - 1)
            .unwrap_or(Duration::MAX);
        let tat = s.tat.max(start);
        let allowed = tat.checked_sub(tolerance).unwrap_or(start).max(start);
        s.tat = tat.checked_add(interval).unwrap_or(tat);
        allowed
    }
}
