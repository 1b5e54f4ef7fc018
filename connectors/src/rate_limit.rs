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
/// use connectors::Quota;
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
    /// let q = connectors::Quota::new(100, std::time::Duration::from_secs(10));
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
    /// assert!(connectors::Quota::unlimited().interval().is_zero());
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
    /// assert_eq!(connectors::Quota::per_second(4).interval().as_millis(), 250);
    /// ```
    pub fn per_second(n: u32) -> Self {
        Quota::new(n, Duration::from_secs(1))
    }
    /// `n` requests per minute.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(connectors::Quota::per_minute(60).interval().as_secs(), 1);
    /// ```
    pub fn per_minute(n: u32) -> Self {
        Quota::new(n, Duration::from_secs(60))
    }
    /// How many requests may go at once (at least 1).
    ///
    /// # Example
    ///
    /// ```
    /// let q = connectors::Quota::per_second(10).burst(1);
    /// # let _ = q;
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
    /// assert_eq!(connectors::Quota::per_second(1).interval().as_secs(), 1);
    /// ```
    pub fn interval(&self) -> Duration {
        self.per / self.requests
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
/// use connectors::{Quota, RateLimiter};
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
    /// let l = connectors::RateLimiter::new(connectors::Quota::per_second(5));
    /// assert_eq!(l.quota().interval().as_millis(), 200);
    /// # }
    /// ```
    pub fn new(quota: Quota) -> Self {
        RateLimiter {
            quota,
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
    /// let q = connectors::Quota::per_minute(30);
    /// assert_eq!(connectors::RateLimiter::new(q).quota(), q);
    /// # }
    /// ```
    pub fn quota(&self) -> Quota {
        self.quota
    }

    /// Waits until a request may go.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// connectors::RateLimiter::new(connectors::Quota::per_second(100)).acquire().await;
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

    /// Makes every caller wait `wait` from now (longer pauses win).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let l = connectors::RateLimiter::new(connectors::Quota::per_second(100));
    /// let start = tokio::time::Instant::now();
    /// l.pause_for(Duration::from_secs(7));
    /// l.acquire().await;
    /// assert!(start.elapsed() >= Duration::from_secs(7));
    /// # }
    /// ```
    pub fn pause_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        if let Ok(mut s) = self.state.lock() {
            s.paused_until = Some(s.paused_until.map_or(until, |p| p.max(until)));
        }
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
        let tolerance = interval * (self.quota.burst - 1);
        let tat = s.tat.max(start);
        let allowed = tat.checked_sub(tolerance).unwrap_or(start).max(start);
        s.tat = tat + interval;
        allowed
    }
}
