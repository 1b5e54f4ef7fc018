//! The address, the pace and the time-off windows of a
//! [`BambooHrConnector`].

use super::{BambooHrConnector, api_root};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::rate_limit::RateLimiter;
use odoo_integration_model::SystemId;
use std::sync::Arc;

/// `url` as a base for the API paths (no trailing slash), or why it
/// cannot be one.
fn checked_base(url: &str) -> std::result::Result<String, String> {
    let trimmed = url.trim().trim_end_matches('/');
    let refuse = |why: &str| Err(format!("`{url}` is not a BambooHR base URL: {why}"));
    let Ok(parsed) = reqwest::Url::parse(trimmed) else {
        return refuse("not an absolute URL");
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return refuse("not http or https");
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return refuse("no host");
    }
    if parsed.query().is_some() || parsed.fragment().is_some() || url.contains('?') {
        return refuse("a query or a fragment");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse("credentials in the URL");
    }
    Ok(trimmed.to_owned())
}

impl BambooHrConnector {
    /// Talks to another address (a test server, a proxy) instead of
    /// `https://api.bamboohr.com`; paths stay
    /// `/api/gateway.php/{company}/v1/...` under it (a path prefix in
    /// `url` is kept, a trailing slash dropped). Every request goes there.
    ///
    /// `url` must be an `http` or `https` address with a host and no
    /// query, fragment or credentials: otherwise every request fails with
    /// a [`ConnectorErrorKind::Configuration`] error (nothing is sent).
    /// [`try_base_url`](BambooHrConnector::try_base_url) says so at once.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::bamboohr::*;
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # use odoo_integration_model::Employee;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let fake = FakeBambooHr::start().await?;
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url());
    /// Source::<Employee>::read(&bamboo, None, 10).await?;
    /// assert!(!fake.calls().is_empty()); // every request went to the fake
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn base_url(mut self, url: &str) -> Self {
        match checked_base(url) {
            Ok(base) => {
                self.client.set_base(&api_root(&base, &self.company));
                self.bad_base = None;
            }
            Err(why) => self.bad_base = Some(Arc::from(why)),
        }
        self
    }

    /// [`base_url`](BambooHrConnector::base_url), refusing a bad address
    /// at once.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] when `url` is not an `http`
    /// or `https` address with a host, or carries a query, a fragment or
    /// credentials.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::bamboohr::*;
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # use odoo_integration_connectors::{ConnectorErrorKind, Source};
    /// # use odoo_integration_model::Employee;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let fake = FakeBambooHr::start().await?;
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?.try_base_url(&fake.url())?;
    /// Source::<Employee>::read(&bamboo, None, 10).await?;
    /// let e = BambooHrConnector::new("acme", "key")?.try_base_url("api.example.com").unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
    /// # Ok(()) }
    /// ```
    pub fn try_base_url(self, url: &str) -> Result<Self> {
        let checked = self.base_url(url);
        match &checked.bad_base {
            Some(why) => Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                why.to_string(),
            )
            .with_system(SystemId::bamboohr())),
            None => Ok(checked),
        }
    }

    /// Paces every request through this limiter instead of the connector's
    /// own (10 per second).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::bamboohr::*;
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # use odoo_integration_model::Employee;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Quota, RateLimiter};
    /// use std::time::Duration;
    /// let fake = FakeBambooHr::start().await?;
    /// let shared = RateLimiter::new(Quota::per_second(2));
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .limiter(shared.clone());
    /// // A pause on the shared limiter holds this connector back too.
    /// shared.pause_for(Duration::from_millis(100))?;
    /// let start = std::time::Instant::now();
    /// Source::<Employee>::read(&bamboo, None, 10).await?;
    /// assert!(start.elapsed() >= Duration::from_millis(100));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn limiter(mut self, limiter: RateLimiter) -> Self {
        self.limiter = limiter.clone();
        self.client = self.client.with_limiter(limiter);
        self
    }

    /// The window of dates each time-off pass reads: from `days_back`
    /// before today to `days_ahead` after it (defaults 30 and 365).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::bamboohr::*;
    /// # use odoo_integration_fakes::bamboohr::{FakeBambooHr, FakeTimeOff};
    /// # use odoo_integration_connectors::read_to_end;
    /// # use odoo_integration_model::TimeOff;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let fake = FakeBambooHr::start().await?;
    /// # let ann = fake.insert_employee([("firstName", "Ann")]);
    /// let weeks_ago = chrono::Utc::now().date_naive() - chrono::Days::new(45);
    /// fake.add_time_off(FakeTimeOff::new(&ann, "Vacation", weeks_ago, weeks_ago).status("approved"));
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .time_off_window(60, 180);
    /// let (first, cursor) = read_to_end::<TimeOff>(&bamboo, None, 10).await?; // a year back
    /// assert_eq!(first.len(), 1);
    /// let (again, _) = read_to_end::<TimeOff>(&bamboo, Some(cursor), 10).await?;
    /// assert_eq!(again.len(), 1); // still within the 60 days back
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn time_off_window(mut self, days_back: u32, days_ahead: u32) -> Self {
        self.window_back = days_back;
        self.window_ahead = days_ahead;
        self
    }

    /// How far back the first time-off pass reads (default 365 days).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::bamboohr::*;
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # use odoo_integration_model::Employee;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_fakes::bamboohr::FakeTimeOff;
    /// # use odoo_integration_connectors::read_to_end;
    /// # use odoo_integration_model::TimeOff;
    /// let fake = FakeBambooHr::start().await?;
    /// # let today = chrono::Utc::now().date_naive();
    /// # let ann = fake.insert_employee([("firstName", "Ann")]);
    /// let long_ago = today - chrono::Days::new(500);
    /// fake.add_time_off(FakeTimeOff::new(&ann, "Vacation", long_ago, long_ago).status("approved"));
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .time_off_history(730);
    /// let (requests, _) = read_to_end::<TimeOff>(&bamboo, None, 10).await?;
    /// assert_eq!(requests.len(), 1); // the default 365 days would miss it
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn time_off_history(mut self, days_back: u32) -> Self {
        self.history = days_back;
        self
    }

    /// Reads only time-off requests of these statuses (`approved`,
    /// `requested`, `denied`, `canceled`, `superceded`); default all.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::bamboohr::*;
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # use odoo_integration_model::Employee;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_fakes::bamboohr::FakeTimeOff;
    /// # use odoo_integration_connectors::read_to_end;
    /// # use odoo_integration_model::TimeOff;
    /// let fake = FakeBambooHr::start().await?;
    /// # let today = chrono::Utc::now().date_naive();
    /// # let ann = fake.insert_employee([("firstName", "Ann")]);
    /// fake.add_time_off(FakeTimeOff::new(&ann, "Vacation", today, today).status("approved"));
    /// fake.add_time_off(FakeTimeOff::new(&ann, "Sick", today, today).status("denied"));
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .time_off_statuses(["approved"]);
    /// let (requests, _) = read_to_end::<TimeOff>(&bamboo, None, 10).await?;
    /// assert_eq!(requests.len(), 1);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn time_off_statuses<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        statuses: I,
    ) -> Self {
        self.time_off_statuses = Arc::new(statuses.into_iter().map(Into::into).collect());
        self
    }
}
