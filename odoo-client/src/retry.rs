//! When the client repeats a failed call.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

/// How the client retries calls that failed for a transient reason.
///
/// Only calls that are safe to repeat are retried: reads (`search`,
/// `search_read`, `read`, `search_count`, `fields_get`, `name_search`,
/// grouped reads, version and login), and writes the caller marked with
/// `allow_retry()` (for instance writes made idempotent by external ids).
/// A plain `create` is never retried unless the caller opts in: if the
/// connection drops after the server committed it, a retry would create a
/// duplicate.
///
/// Transient errors are those for which [`Error::is_retryable`] is true:
/// transport failures, HTTP 429, an HTTP 5xx reply that names no known
/// exception class (a proxy's 502 page, an empty 503), truncated or empty
/// bodies, database serialisation conflicts. An Odoo exception of a known
/// class is never retried, whatever its status. The delay grows
/// exponentially with jitter, and is never shorter than the server's
/// `Retry-After`.
///
/// A server may ask for any wait: a `Retry-After: 86400` would hold the call
/// for a day. The client waits at most
/// [`max_retry_after`](RetryPolicy::max_retry_after) (by default the policy's
/// [`max_delay`](RetryPolicy::max_delay)); a longer request is not waited
/// for, and the call fails at once with an [`ErrorKind::RateLimited`] error
/// carrying the time the server asked for ([`Error::retry_after`]), so the
/// caller can decide (park the job, alert an operator).
///
/// [`ErrorKind::RateLimited`]: crate::ErrorKind::RateLimited
/// [`Error::retry_after`]: crate::Error::retry_after
///
/// [`Error::is_retryable`]: crate::Error::is_retryable
///
/// # One retry layer
///
/// When a sync pipeline drives a sink that writes through this client, the
/// **pipeline decides retries**: it knows whether its writes are idempotent,
/// how long a record may wait and when to dead-letter it. It then gives the
/// sink a handle without retries
/// ([`Client::with_retry_policy`](crate::Client::with_retry_policy) with
/// [`RetryPolicy::disabled`]) and schedules its own attempts with the same
/// type ([`RetryPolicy::delays`]), so that a failing call is sent at most
/// `1 + retry_limit()` times, not (client attempts) × (pipeline attempts).
/// Used on its own, the client retries by its policy.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use odoo_integration_client::{Client, Credentials, RetryPolicy};
///
/// let client = Client::builder("https://odoo.example.com")
///     .database("prod")
///     .credentials(Credentials::api_key("admin", "key"))
///     .retry_policy(RetryPolicy::new().max_retries(5).min_delay(Duration::from_millis(500)))
///     .build()?;
/// assert_eq!(client.database(), Some("prod"));
/// assert!(!RetryPolicy::disabled().is_enabled());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    max_retries: usize,
    min_delay: Duration,
    max_delay: Duration,
    max_retry_after: Option<Duration>,
    jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy::new()
    }
}

impl RetryPolicy {
    /// The default policy: up to 3 retries, from 200 ms doubling up to 10 s,
    /// with jitter.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let policy = RetryPolicy::new();
    /// assert!(policy.is_enabled());
    /// assert_eq!(policy, RetryPolicy::default());
    /// assert_eq!(policy.retry_after_ceiling(), Duration::from_secs(10));
    /// ```
    pub fn new() -> Self {
        RetryPolicy {
            max_retries: 3,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_retry_after: None,
            jitter: true,
        }
    }

    /// No retries at all.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .retry_policy(RetryPolicy::disabled())
    ///     .build()?;
    /// server.inject(Fault::Status(503), 1);
    /// let err = client.model("res.partner").search_count(Domain::all()).send().await.unwrap_err();
    /// assert_eq!(err.http_status(), Some(503)); // not retried, though it could have been
    /// # Ok(()) }
    /// ```
    pub fn disabled() -> Self {
        RetryPolicy {
            max_retries: 0,
            ..RetryPolicy::new()
        }
    }

    /// At most this many retries after the first attempt (default 3).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use std::time::Duration;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .retry_policy(RetryPolicy::new().max_retries(2).min_delay(Duration::from_millis(10)))
    ///     .build()?;
    /// let partners = client.model("res.partner");
    /// server.inject(Fault::Status(503), 2);
    /// assert!(partners.search_count(Domain::all()).send().await.is_ok()); // third attempt
    /// server.inject(Fault::Status(503), 3);
    /// assert!(partners.search_count(Domain::all()).send().await.is_err()); // no fourth
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn max_retries(mut self, retries: usize) -> Self {
        self.max_retries = retries;
        self
    }

    /// The first delay (default 200 ms); each next one doubles.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use std::time::{Duration, Instant};
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .retry_policy(RetryPolicy::new().min_delay(Duration::from_millis(50)))
    ///     .build()?;
    /// server.inject(Fault::Status(503), 1);
    /// let started = Instant::now();
    /// client.model("res.partner").search_count(Domain::all()).send().await?;
    /// assert!(started.elapsed() >= Duration::from_millis(50));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay;
        self
    }

    /// The longest delay between two attempts (default 10 s), unless the
    /// server's `Retry-After` asks for longer.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let policy = RetryPolicy::new().max_delay(Duration::from_secs(2));
    /// // Unless told otherwise, a `Retry-After` is honoured up to the same bound.
    /// assert_eq!(policy.retry_after_ceiling(), Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest server-requested wait (`Retry-After`) the client honours
    /// by waiting (default: the same as [`max_delay`](RetryPolicy::max_delay)).
    /// When a server asks for longer, the call is not retried: it fails
    /// with [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited), whose
    /// [`retry_after`](crate::Error::retry_after) is what the server asked.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let policy = RetryPolicy::new().max_retry_after(Duration::from_secs(120));
    /// assert_eq!(policy.retry_after_ceiling(), Duration::from_secs(120));
    /// assert_eq!(RetryPolicy::new().retry_after_ceiling(), Duration::from_secs(10));
    /// ```
    #[must_use]
    pub fn max_retry_after(mut self, ceiling: Duration) -> Self {
        self.max_retry_after = Some(ceiling);
        self
    }

    /// The longest `Retry-After` the client waits for (see
    /// [`max_retry_after`](RetryPolicy::max_retry_after)).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = odoo_integration_client::RetryPolicy::new().max_delay(Duration::from_secs(30));
    /// assert_eq!(policy.retry_after_ceiling(), Duration::from_secs(30));
    /// ```
    pub fn retry_after_ceiling(&self) -> Duration {
        self.max_retry_after.unwrap_or(self.max_delay)
    }

    /// Delays without random jitter (jitter spreads the retries of many
    /// clients; on by default).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let exact = RetryPolicy::new().without_jitter();
    /// assert_ne!(exact, RetryPolicy::new());
    /// assert!(exact.is_enabled());
    /// ```
    #[must_use]
    pub fn without_jitter(mut self) -> Self {
        self.jitter = false;
        self
    }

    /// `true` when the policy allows at least one retry.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// assert!(RetryPolicy::new().is_enabled());
    /// assert!(!RetryPolicy::disabled().is_enabled());
    /// assert!(!RetryPolicy::new().max_retries(0).is_enabled());
    /// ```
    pub fn is_enabled(&self) -> bool {
        self.max_retries > 0
    }

    /// How many retries the policy allows after the first attempt (set
    /// with [`max_retries`](RetryPolicy::max_retries)).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::new().retry_limit(), 3);
    /// assert_eq!(RetryPolicy::new().max_retries(5).retry_limit(), 5);
    /// assert_eq!(RetryPolicy::disabled().retry_limit(), 0);
    /// ```
    pub fn retry_limit(&self) -> usize {
        self.max_retries
    }

    /// The first delay, before jitter (set with
    /// [`min_delay`](RetryPolicy::min_delay)).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::new().first_delay(), Duration::from_millis(200));
    /// let policy = RetryPolicy::new().min_delay(Duration::from_secs(1));
    /// assert_eq!(policy.first_delay(), Duration::from_secs(1));
    /// ```
    pub fn first_delay(&self) -> Duration {
        self.min_delay
    }

    /// The longest delay between two attempts, before jitter (set with
    /// [`max_delay`](RetryPolicy::max_delay)).
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// assert_eq!(RetryPolicy::new().delay_ceiling(), Duration::from_secs(10));
    /// let policy = RetryPolicy::new().max_delay(Duration::from_secs(2));
    /// assert_eq!(policy.delay_ceiling(), Duration::from_secs(2));
    /// ```
    pub fn delay_ceiling(&self) -> Duration {
        self.max_delay
    }

    /// `true` when delays carry random jitter (the default; see
    /// [`without_jitter`](RetryPolicy::without_jitter)).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// assert!(RetryPolicy::new().has_jitter());
    /// assert!(!RetryPolicy::new().without_jitter().has_jitter());
    /// ```
    pub fn has_jitter(&self) -> bool {
        self.jitter
    }

    /// The delays before each retry, in order: one per allowed retry
    /// ([`retry_limit`](RetryPolicy::retry_limit) of them, none for a
    /// disabled policy), from [`first_delay`](RetryPolicy::first_delay)
    /// doubling up to [`delay_ceiling`](RetryPolicy::delay_ceiling). With
    /// jitter each delay is lengthened by a random part of itself (at most
    /// doubled), as the client's own retries are. This is the schedule the
    /// client follows; a caller that runs its own retry loop (a sync
    /// pipeline) uses it to wait the same way. A server's `Retry-After`
    /// is not part of it: wait for the longer of the two (see
    /// [`retry_after_ceiling`](RetryPolicy::retry_after_ceiling)).
    ///
    /// Each call starts a new schedule.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let policy = RetryPolicy::new()
    ///     .max_retries(4)
    ///     .min_delay(Duration::from_secs(1))
    ///     .max_delay(Duration::from_secs(3))
    ///     .without_jitter();
    /// let delays: Vec<Duration> = policy.delays().collect();
    /// assert_eq!(delays, [1, 2, 3, 3].map(Duration::from_secs));
    /// assert_eq!(RetryPolicy::disabled().delays().count(), 0);
    ///
    /// // With jitter, each delay lies between the plain one and twice it.
    /// let jittered = RetryPolicy::new().max_retries(4).min_delay(Duration::from_secs(1));
    /// for (delay, plain) in jittered.delays().zip([1, 2, 4, 8]) {
    ///     let plain = Duration::from_secs(plain);
    ///     assert!(delay >= plain && delay <= plain * 2, "{delay:?}");
    /// }
    /// ```
    pub fn delays(&self) -> impl Iterator<Item = Duration> + Send + Sync + use<> {
        self.backoff().build()
    }

    pub(crate) fn backoff(&self) -> impl BackoffBuilder + use<> {
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_retries);
        if self.jitter {
            builder.with_jitter()
        } else {
            builder
        }
    }
}
