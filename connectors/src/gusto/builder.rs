//! Building a [`GustoConnector`]: the company, the app, the token store,
//! the environment and the reading windows.

use super::auth::{AppCredentials, Refresh, TokenStore};
use super::http::{DEFAULT_WAIT, GustoApi};
use super::{API_VERSION, DEMO_URL, GustoConnector, Inner, PRODUCTION_URL};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::http::{OAuth, RestClient};
use crate::rate_limit::{Quota, RateLimiter};
use chrono::NaiveDate;
use odoo_integration_model::{Policy, SystemId};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Builds a [`GustoConnector`]; each setter says its default.
///
/// # Example
///
/// ```
/// # use odoo_integration_connectors::gusto::*;
/// # use odoo_integration_fakes::gusto::FakeGusto;
/// # use std::sync::Arc;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use odoo_integration_connectors::Source;
/// let g = FakeGusto::start().await?;
/// # g.allow_client("i", "s");
/// # let pair = g.grant();
/// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
/// g.add_employee(serde_json::json!({"first_name": "Ann", "last_name": "Lee"}));
/// let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store)
///     .base_url(g.url()) // or .demo(), or the default: production
///     .lookback_days(30)
///     .build()?;
/// let page = Source::<odoo_integration_model::Employee>::read(&gusto, None, 100).await?;
/// assert_eq!(page.changes.len(), 1);
/// # Ok(()) }
/// ```
#[must_use]
pub struct GustoBuilder {
    company: String,
    app: AppCredentials,
    store: Arc<dyn TokenStore>,
    base_url: String,
    timeout: Duration,
    limiter: Option<RateLimiter>,
    policy: Option<Policy>,
    lookback_days: u64,
    personal_email_as_work: bool,
    history_start: Option<NaiveDate>,
}

impl fmt::Debug for GustoBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GustoBuilder")
            .field("company", &self.company)
            .field("app", &self.app)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl GustoBuilder {
    /// The defaults.
    pub(super) fn new(company: String, app: AppCredentials, store: Arc<dyn TokenStore>) -> Self {
        GustoBuilder {
            company,
            app,
            store,
            base_url: PRODUCTION_URL.to_owned(),
            timeout: Duration::from_secs(60),
            limiter: None,
            policy: None,
            lookback_days: 90,
            personal_email_as_work: false,
            history_start: None,
        }
    }

    /// The API's base URL. Default: [`PRODUCTION_URL`]; see
    /// [`demo`](Self::demo), or a fake's URL in tests.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("i", "s");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store)
    ///     .base_url(format!("{}/", g.url())) // a trailing slash is dropped
    ///     .build()?;
    /// gusto.pay_schedules().await?;
    /// assert_eq!(g.calls().len(), 1);
    /// assert!(g.calls()[0].path.starts_with("/v1/companies/"));
    /// # Ok(()) }
    /// ```
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Uses Gusto's demo environment ([`DEMO_URL`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// let b = GustoConnector::builder("c0ffee", AppCredentials::new("i", "s"), std::sync::Arc::new(MemoryTokenStore::default()))
    ///     .demo();
    /// assert!(format!("{b:?}").contains(DEMO_URL));
    /// ```
    pub fn demo(self) -> Self {
        self.base_url(DEMO_URL)
    }

    /// The ownership policy used to re-merge hours after a 409 (see the
    /// module docs). Default: none (our side owns `hours`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{ConnectorErrorKind, Operation, Outcome, Sink, SinkRecord};
    /// use odoo_integration_model::{CanonicalId, PayStatement, Policy, RemoteId, SystemId};
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("i", "s");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// // Gusto owns the hours: after a 409, the re-merge keeps Gusto's edit.
    /// let policy = Policy::from_toml("[pay_statement.fields]\nhours = \"gusto\"\n")?;
    /// let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store)
    ///     .base_url(g.url())
    ///     .policy(policy)
    ///     .build()?;
    /// # let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// # g.add_compensation(&run, serde_json::json!({"employee_uuid": "e1",
    /// #     "hourly_compensations": [{"name": "Regular Hours", "hours": "0.000"}]}));
    /// g.edit_before_next_put(&run, &[("e1", "30.000")]); // someone edits in Gusto meanwhile
    /// # let (run_id, e1_id) = (CanonicalId::new(), CanonicalId::new());
    /// let hours = PayStatement { run: Some(run_id), employee: Some(e1_id), hours: Some(rust_decimal::Decimal::from(38)), ..Default::default() };
    /// let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("1"), Operation::Upsert(hours))
    ///     .with_link(run_id, RemoteId::new(&run))
    ///     .with_link(e1_id, RemoteId::new("e1"))
    ///     .only(["hours"]);
    /// let outcomes = gusto.apply(vec![record]).await?;
    /// assert!(matches!(&outcomes[0], Outcome::Failed(e) if e.kind() == ConnectorErrorKind::Conflict));
    /// assert_eq!(g.regular_hours(&run, "e1").as_deref(), Some("30.000"));
    /// # Ok(()) }
    /// ```
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The limiter to pace calls with, to share one budget between
    /// connectors of the same OAuth grant. Default: a new limiter at
    /// Gusto's 200 requests a minute.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Quota, RateLimiter};
    /// use std::time::Duration;
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("i", "s");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// let shared = RateLimiter::new(Quota::per_minute(200));
    /// let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store)
    ///     .base_url(g.url())
    ///     .rate_limiter(shared.clone())
    ///     .build()?;
    /// // A pause on the shared limiter holds back this connector too.
    /// shared.pause_for(Duration::from_millis(100))?;
    /// let start = std::time::Instant::now();
    /// gusto.pay_schedules().await?;
    /// assert!(start.elapsed() >= Duration::from_millis(100));
    /// # Ok(()) }
    /// ```
    pub fn rate_limiter(mut self, limiter: RateLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// How many days back payrolls and time off are re-read on every run.
    /// Default: 90.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_model::PayrollRun;
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("i", "s");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// // A payroll paid two months ago.
    /// let start = chrono::Utc::now().date_naive() - chrono::Days::new(60);
    /// g.add_payroll(serde_json::json!({"processed": true, "check_date": (start + chrono::Days::new(18)).to_string(),
    ///     "pay_period": {"start_date": start.to_string(), "end_date": (start + chrono::Days::new(13)).to_string()}}));
    /// let builder = |days| {
    ///     GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store.clone())
    ///         .base_url(g.url())
    ///         .lookback_days(days)
    ///         .build()
    /// };
    /// let (runs, _) = read_to_end::<PayrollRun>(&builder(45)?, None, 100).await?;
    /// assert!(runs.is_empty());
    /// let (runs, _) = read_to_end::<PayrollRun>(&builder(90)?, None, 100).await?;
    /// assert_eq!(runs.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn lookback_days(mut self, days: u64) -> Self {
        self.lookback_days = days;
        self
    }

    /// Whether an employee without a work email is read with their
    /// personal `email` as the work email. Default: no; the personal
    /// address is private, and a sync would write it into Odoo's work
    /// email for everyone to see.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Source};
    /// use odoo_integration_model::Employee;
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("i", "s");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// g.add_employee(serde_json::json!({"first_name": "Ann", "last_name": "Lee", "email": "ann@home.example"}));
    /// let gusto = |opt_in| {
    ///     GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store.clone())
    ///         .base_url(g.url())
    ///         .personal_email_as_work_email(opt_in)
    ///         .build()
    /// };
    /// let work_email = |page: odoo_integration_connectors::Page<Employee>| match &page.changes[0].operation {
    ///     Operation::Upsert(e) => e.work_email.clone(),
    ///     Operation::Delete => None,
    /// };
    /// assert_eq!(work_email(Source::<Employee>::read(&gusto(false)?, None, 10).await?), None);
    /// assert_eq!(work_email(Source::<Employee>::read(&gusto(true)?, None, 10).await?).as_deref(), Some("ann@home.example"));
    /// # Ok(()) }
    /// ```
    pub fn personal_email_as_work_email(mut self, yes: bool) -> Self {
        self.personal_email_as_work = yes;
        self
    }

    /// Where the first read of payrolls and pay statements starts (by pay
    /// period). Default: the lookback ([`lookback_days`](Self::lookback_days)
    /// before today).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_model::PayrollRun;
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("i", "s");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// g.add_payroll(serde_json::json!({"processed": true, "check_date": "2026-01-20",
    ///     "pay_period": {"start_date": "2026-01-01", "end_date": "2026-01-15"}}));
    /// let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store)
    ///     .base_url(g.url())
    ///     .history_start(chrono::NaiveDate::from_ymd_opt(2025, 12, 1).unwrap())
    ///     .build()?;
    /// let (runs, _) = read_to_end::<PayrollRun>(&gusto, None, 100).await?;
    /// assert_eq!(runs.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn history_start(mut self, date: NaiveDate) -> Self {
        self.history_start = Some(date);
        self
    }

    /// The timeout of each HTTP request. Default: 60 s.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("i", "s");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store)
    ///     .base_url(g.url())
    ///     .timeout(std::time::Duration::from_secs(20))
    ///     .build()?;
    /// g.add_pay_schedule(serde_json::json!({"frequency": "Monthly"}));
    /// assert_eq!(gusto.pay_schedules().await?.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connector.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] for an empty company uuid or client
    /// id, a base URL that is not `http(s)://`, or an HTTP client that
    /// cannot be built.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// let err = GustoConnector::builder("", AppCredentials::new("i", "s"), std::sync::Arc::new(MemoryTokenStore::default()))
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), odoo_integration_connectors::ConnectorErrorKind::Configuration);
    /// ```
    pub fn build(self) -> Result<GustoConnector> {
        let config = |m: String| {
            ConnectorError::new(ConnectorErrorKind::Configuration, m).with_system(SystemId::gusto())
        };
        if self.company.trim().is_empty() {
            return Err(config("the company uuid is empty".into()));
        }
        if self.app.client_id().trim().is_empty() {
            return Err(config("the client id is empty".into()));
        }
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return Err(config(format!(
                "the base URL `{}` is not http(s)://",
                self.base_url
            )));
        }
        let http = crate::http::http_client(self.timeout, SystemId::gusto())?;
        let base_url: Arc<str> = Arc::from(self.base_url);
        let auth = OAuth::new(Refresh::new(
            self.app,
            base_url.clone(),
            Arc::from(API_VERSION),
            http.clone(),
            self.store,
        ));
        let limiter = self
            .limiter
            .unwrap_or_else(|| RateLimiter::new(Quota::per_minute(200)));
        let client = RestClient::builder(http, &base_url, Arc::new(auth), Arc::new(GustoApi))
            .limiter(limiter.clone())
            .default_pause(DEFAULT_WAIT)
            .header("x-gusto-api-version", API_VERSION)?
            .build();
        Ok(GustoConnector {
            inner: Arc::new(Inner {
                client,
                company: self.company,
                limiter,
                policy: self.policy,
                lookback_days: self.lookback_days,
                history_start: self.history_start,
                personal_email_as_work: self.personal_email_as_work,
            }),
        })
    }
}
