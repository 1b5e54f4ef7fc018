//! The pace and the time-off windows of a [`BambooHrConnector`].

use super::BambooHrConnector;
use crate::rate_limit::RateLimiter;
use std::sync::Arc;

impl BambooHrConnector {
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
