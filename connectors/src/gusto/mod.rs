//! The Gusto connector (feature `gusto`): one company's payroll over
//! Gusto's API (version `2025-06-15`) and OAuth 2.0.
//!
//! **Status.** Employees ⇄ [`Employee`], payrolls ⇄ [`PayrollRun`], a
//! payroll's employee compensations ⇄ [`PayStatement`] and time-off
//! requests ⇄ [`TimeOff`] are read, and the company's pay schedules
//! ([`GustoConnector::pay_schedules`], no canonical entity holds them);
//! hours are written into unprocessed payrolls
//! ([`Sink<PayStatement>`](crate::Sink)). Nothing else is written.
//!
//! **Signing in.** Gusto authorises an app per company with OAuth 2.0:
//! an access token that lasts two hours and a refresh token that is
//! **single use** (each refresh answers a new pair and revokes the old
//! refresh token). The pair lives in your [`TokenStore`] (database,
//! secrets manager; [`MemoryTokenStore`] for tests). The connector loads
//! it on first use and refreshes it when it is expired (a minute early) or
//! when Gusto answers 401 (once per call). The token endpoint's
//! `expires_in` is trusted up to one day (a longer or absurd one, even
//! `i64::MAX` seconds, is read as a day; a negative one as already
//! expired). A refresh is single-flight:
//! however many tasks find the token expired, one refresh request is sent
//! and the others wait for its answer. The new pair is handed to
//! [`TokenStore::save`], and the save awaited, **before** the new access
//! token is used; if the save fails, the call fails with
//! [`ConnectorErrorKind::Store`], the new pair is kept in memory unused (its
//! refresh token is now the only valid one), and the next call tries the
//! save again before using it. Every request carries
//! `X-Gusto-API-Version: 2025-06-15`. The client secret and the tokens
//! live in `secrecy` types: no `Debug`, `Display`, error or log shows
//! them.
//!
//! **Reading.** Employees are listed with `page`/`per`; the cursor is the
//! offset reached, and once the list is read through it starts again at
//! zero: Gusto's employees carry no modification time, so each run is a
//! full read whose repeats the pipeline's unchanged detection drops.
//! Payrolls (processed and unprocessed, regular and off-cycle) are listed
//! by pay period in windows of at most a year (Gusto's limit), from
//! [`GustoBuilder::history_start`] up to three months ahead; once the
//! last window is read the cursor goes back to
//! [`GustoBuilder::lookback_days`] days ago (default 90), because recent
//! payrolls still change (an unprocessed payroll gets processed) while
//! Gusto offers no `updated_since`. Pay statements are the employee
//! compensations of the **processed** payrolls of the same windows, each
//! payroll fetched (`GET …/payrolls/{id}`, paged by 100). Time off is
//! `GET …/time_off_requests` from the lookback on (that endpoint has no
//! paging; the cursor is the offset in the answer, ordered by start date
//! and uuid). The `at` of a change is the time of the read: Gusto gives
//! no modification time for any of these.
//!
//! **Writing hours.** [`Sink<PayStatement>`](crate::Sink) writes a
//! statement's `hours` into the `Regular Hours` hourly compensation of
//! the employee in an **unprocessed** payroll. The payroll and the
//! employee are found by [`SinkRecord::links`]: the sink's ids of the
//! statement's `run` (the payroll uuid) and `employee` (the employee
//! uuid). The records of one batch that share a payroll are written in one
//! `PUT …/payrolls/{id}` (at most 100 employees a request, Gusto's limit)
//! after a `GET` of the payroll (is it processed?) and a
//! `PUT …/payrolls/{id}/prepare` for those employees, which answers their
//! compensations with the `version`s an update must carry (Gusto's
//! documented way; a plain `GET` lists compensations only once a payroll
//! is calculated). Employees whose hours already match are
//! [`Outcome::Unchanged`] and not sent. A processed payroll refuses the
//! write before any update or prepare ([`ConnectorErrorKind::Invalid`]).
//!
//! **Conflicts (409).** Gusto versions each employee compensation and
//! answers 409 (`invalid_resource_version`) when a `PUT` carries a stale
//! version: someone edited the payroll in between. The connector then
//! refetches the payroll (`GET` and `prepare` again) and **re-merges**,
//! once, per employee: a
//! canonical record is seeded with Gusto's fresh `hours` (source `gusto`,
//! at the refetch), and a change carrying our `hours` (source: the
//! record's origin system, at the retry) is merged into it with
//! [`odoo_integration_model::merge`] under the connector's policy
//! ([`GustoBuilder::policy`]; without one, our side owns `hours`). If the
//! merge applies our hours (our side owns `pay_statement.hours`, nobody
//! owns it, or latest-wins), they are sent again with the fresh version;
//! if Gusto's fresh value already equals ours, the record is
//! [`Outcome::Unchanged`]; if the merge refuses or holds them (Gusto owns
//! `hours`, or the rule holds conflicts for review), Gusto's value is kept
//! and the record fails with [`ConnectorErrorKind::Conflict`] saying so. Only
//! `hours` is ever written, so no other field of the payroll is touched
//! by the retry. A second 409 fails the records with
//! [`ConnectorErrorKind::Conflict`]: no loop.
//!
//! **Errors and limits.** Gusto allows 200 requests a minute per token;
//! the connector paces itself with its own [`RateLimiter`] at that quota
//! (declared in its capabilities; share one limiter between connectors of
//! the same grant with [`GustoBuilder::rate_limiter`]). A 429 pauses the
//! limiter for `Retry-After` and fails the call with
//! [`ConnectorErrorKind::RateLimited`] carrying the wait. Gusto's
//! `{"errors": [{error_key, category, message}]}` (nested errors
//! flattened) becomes a typed error: 401 unauthorized, 403 forbidden, 404
//! not found, 409 conflict, 422 invalid, 5xx unavailable; an HTML page or
//! a body cut short is a typed error too, never a panic.
//!
//! # Maps
//!
//! | canonical | Gusto | notes |
//! |---|---|---|
//! | `employee.employee_number` | `employee_code` | |
//! | `employee.name` | `first_name` + `last_name` | `preferred_first_name` is not used |
//! | `employee.work_email` | `work_email`, else `email` | `email` is the personal address |
//! | `employee.department` | `department` | |
//! | `employee.job_title` | the primary job's `title` | else the first job's |
//! | `employee.hire_date` | the primary job's `hire_date` | |
//! | `employee.status` | `terminated` | `true` → terminated, else active |
//! | `employee.termination_date` | the active termination's `effective_date` | else the latest one's |
//! | `employee.cost_rate` | the primary job's current compensation `rate` | only when `payment_unit` is `Hour`; needs the `compensations:read` scope |
//! | `employee.manager` | `manager_uuid` | a reference |
//! | `employee.bill_rate`, `work_phone`, `work_calendar` | — | not in Gusto; not claimed (left to other systems) |
//! | `payroll_run.period_start` / `period_end` | `pay_period.start_date` / `end_date` | |
//! | `payroll_run.pay_date` | `check_date` | |
//! | `pay_statement.run` / `employee` | the payroll uuid / `employee_uuid` | references; remote id `payroll:employee` |
//! | `pay_statement.gross` / `net` | `gross_pay` / `net_pay` | USD, exact decimals |
//! | `pay_statement.hours` | the `Regular Hours` hourly compensation | read and written; overtime is not included |
//! | `time_off.employee` | `employee.uuid` | a reference |
//! | `time_off.kind` | `policy_type` (else `request_type`) | |
//! | `time_off.start` / `end` / `hours` | the first / last day and the sum of `days` | |
//! | `time_off.approval` | `status` | pending → submitted, approved / consumed → approved, declined → rejected |
//!
//! # Caveats
//!
//! - Employees, time off and recent payrolls are re-read every run (see
//!   Reading); no deletes are reported (Gusto does not delete employees;
//!   a termination is a status).
//! - A payroll whose pay period straddles two windows of the first
//!   history read is read in the later window (windows overlap by 31
//!   days; a payroll read in a window is not repeated in the next).
//! - Hours are written to the employee's first `Regular Hours`
//!   compensation (the primary job's, as Gusto lists it first); an
//!   employee with several hourly jobs needs a per-job map, not provided.
//! - Amounts are USD (Gusto pays in USD only); they come as strings or
//!   numbers and are read as exact decimals.
//! - Use one connector (and its clones) per company and process. Workers
//!   in several processes may share one store: when Gusto refuses a
//!   refresh (another worker refreshed first, revoking our refresh
//!   token), the connector reloads the store and adopts the newer pair.
//!   Two workers refreshing at the same instant can still race; if you run
//!   several, serialise refreshes with a lock in your store.
//!
//! # Example
//!
//! ```
//! use odoo_integration_model::Employee;
//! use odoo_integration_connectors::{Operation, Source};
//! use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
//! use odoo_integration_fakes::gusto::FakeGusto;
//! use std::sync::Arc;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A company on loopback (`odoo-integration-fakes`); in production, `.demo()` or
//! // the default URL, your app's credentials and the pair its authorisation gave.
//! let fake = FakeGusto::start().await?;
//! fake.allow_client("client-id", "client-secret");
//! fake.add_employee(serde_json::json!({"first_name": "Ann", "last_name": "Lee"}));
//! let pair = fake.grant();
//!
//! let tokens = Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at);
//! let gusto = GustoConnector::builder(
//!     fake.company_uuid(),
//!     AppCredentials::new("client-id", "client-secret"),
//!     Arc::new(MemoryTokenStore::new(tokens)),
//! )
//! .base_url(fake.url())
//! .build()?;
//! let page = Source::<Employee>::read(&gusto, None, 100).await?;
//! assert_eq!(page.changes.len(), 1);
//! let Operation::Upsert(ann) = &page.changes[0].operation else { panic!("a delete") };
//! assert_eq!(ann.name, "Ann Lee");
//! # Ok(()) }
//! ```
//!
//! [`Employee`]: odoo_integration_model::Employee
//! [`PayrollRun`]: odoo_integration_model::PayrollRun
//! [`PayStatement`]: odoo_integration_model::PayStatement
//! [`TimeOff`]: odoo_integration_model::TimeOff
//! [`Outcome::Unchanged`]: crate::Outcome::Unchanged
//! [`SinkRecord::links`]: crate::SinkRecord::links
//! [`ConnectorErrorKind::Store`]: crate::ConnectorErrorKind::Store
//! [`ConnectorErrorKind::Invalid`]: crate::ConnectorErrorKind::Invalid
//! [`ConnectorErrorKind::Conflict`]: crate::ConnectorErrorKind::Conflict
//! [`ConnectorErrorKind::RateLimited`]: crate::ConnectorErrorKind::RateLimited
//! [`RateLimiter`]: crate::RateLimiter

mod auth;
mod http;
mod read;
mod schedules;
mod write;

pub use auth::{AppCredentials, MemoryTokenStore, TokenStore, Tokens};
pub use schedules::PaySchedule;

use crate::connector::{Capabilities, Connector};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::rate_limit::{Quota, RateLimiter};
use auth::Auth;
use chrono::NaiveDate;
use odoo_integration_model::{Policy, SystemId};
use secrecy::ExposeSecret;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Gusto's production API.
pub const PRODUCTION_URL: &str = "https://api.gusto.com";
/// Gusto's demo (sandbox) API.
pub const DEMO_URL: &str = "https://api.gusto-demo.com";
/// The API version every request pins.
pub const API_VERSION: &str = "2025-06-15";

/// The Gusto connector for one company: cheap to clone, clones share the
/// tokens and the rate limiter.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
/// use std::sync::Arc;
///
/// let store = Arc::new(MemoryTokenStore::new(Tokens::new("acc", "ref", chrono::Utc::now())));
/// let gusto = GustoConnector::builder("c0ffee", AppCredentials::new("id", "top-secret"), store).build()?;
/// assert!(!format!("{gusto:?}").contains("top-secret"));
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Clone)]
pub struct GustoConnector {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    auth: Auth,
    base_url: Arc<str>,
    api_version: Arc<str>,
    company: String,
    limiter: RateLimiter,
    policy: Option<Policy>,
    lookback_days: u64,
    history_start: Option<NaiveDate>,
}

impl fmt::Debug for GustoConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GustoConnector")
            .field("company", &self.inner.company)
            .field("base_url", &self.inner.base_url)
            .field("auth", &self.inner.auth)
            .finish_non_exhaustive()
    }
}

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

impl GustoConnector {
    /// A builder for the company `company_uuid`, authorised for the app
    /// `app`, its tokens in `store`.
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
    /// let b = GustoConnector::builder(g.company_uuid(), AppCredentials::new("i", "s"), store);
    /// let gusto = b.base_url(g.url()).build()?;
    /// assert!(gusto.pay_schedules().await?.is_empty());
    /// assert!(g.calls()[0].path.starts_with(&format!("/v1/companies/{}/", g.company_uuid())));
    /// # Ok(()) }
    /// ```
    pub fn builder(
        company_uuid: impl Into<String>,
        app: AppCredentials,
        store: Arc<dyn TokenStore>,
    ) -> GustoBuilder {
        GustoBuilder {
            company: company_uuid.into(),
            app,
            store,
            base_url: PRODUCTION_URL.to_owned(),
            timeout: Duration::from_secs(60),
            limiter: None,
            policy: None,
            lookback_days: 90,
            history_start: None,
        }
    }

    /// The company's uuid.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// let g = GustoConnector::builder("c0ffee", AppCredentials::new("i", "s"), std::sync::Arc::new(MemoryTokenStore::default())).build()?;
    /// assert_eq!(g.company(), "c0ffee");
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn company(&self) -> &str {
        &self.inner.company
    }

    /// The rate limiter every call of this connector (and its clones)
    /// waits on.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::gusto::*;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let g = GustoConnector::builder("c", AppCredentials::new("i", "s"), std::sync::Arc::new(MemoryTokenStore::default())).build()?;
    /// assert_eq!(g.rate_limiter().quota(), odoo_integration_connectors::Quota::per_minute(200));
    /// # Ok(()) }
    /// ```
    pub fn rate_limiter(&self) -> &RateLimiter {
        &self.inner.limiter
    }

    fn company_path(&self, rest: &str) -> String {
        format!(
            "/v1/companies/{}{rest}",
            http::percent_encode(&self.inner.company)
        )
    }

    /// Sends one API call (a path with its query), waiting for the rate
    /// limiter and refreshing the token once on a 401. Returns the 2xx
    /// answer's headers and body; every other status is a typed error.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(reqwest::header::HeaderMap, Vec<u8>)> {
        let label = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut access = self.inner.auth.access().await?;
        let mut refreshed = false;
        loop {
            self.inner.limiter.acquire().await;
            let mut request = self
                .inner
                .http
                .request(method.clone(), format!("{}{path}", self.inner.base_url))
                .bearer_auth(access.token.expose_secret())
                .header("X-Gusto-API-Version", &*self.inner.api_version)
                .header(reqwest::header::ACCEPT, "application/json");
            if let Some(b) = &body {
                request = request
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(b.clone());
            }
            let response = request
                .send()
                .await
                .map_err(|e| http::transport(&label, e))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let bytes = crate::web::read_body(response, SystemId::gusto(), &label).await?;
            if status == 401 && !refreshed {
                tracing::debug!(call = %label, "gusto: access token refused, refreshing");
                refreshed = true;
                access = self.inner.auth.refresh_after(access.generation).await?;
                continue;
            }
            if (200..300).contains(&status) {
                return Ok((headers, bytes));
            }
            let wait = http::retry_after(&headers);
            if status == 429 {
                // Gusto counts per token per rolling minute: hold back
                // every task of this connector, not just this one.
                if let Err(refused) = self
                    .inner
                    .limiter
                    .pause_for(wait.unwrap_or(Duration::from_secs(60)))
                {
                    tracing::warn!(%refused, "gusto: pause not taken");
                }
            }
            return Err(http::api_error(&label, status, &bytes, wait));
        }
    }

    /// [`call`](Self::call), then the JSON answer decoded.
    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(reqwest::header::HeaderMap, T)> {
        let label = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let (headers, bytes) = self.call(method, path, body).await?;
        Ok((headers, decode_json(&label, &bytes)?))
    }
}

/// Decodes a 2xx answer, naming what is wrong with it (the field path,
/// never the body).
fn decode_json<T: serde::de::DeserializeOwned>(label: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        http::error(
            ConnectorErrorKind::Protocol,
            format!(
                "{label}: the answer is {} ({e})",
                http::describe_body(bytes)
            ),
            None,
        )
    })
}

impl GustoBuilder {
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
        let http = crate::web::http_client(self.timeout, SystemId::gusto())?;
        let base_url: Arc<str> = Arc::from(self.base_url);
        let api_version: Arc<str> = Arc::from(API_VERSION);
        Ok(GustoConnector {
            inner: Arc::new(Inner {
                auth: Auth::new(
                    self.app,
                    base_url.clone(),
                    api_version.clone(),
                    http.clone(),
                    self.store,
                ),
                http,
                base_url,
                api_version,
                company: self.company,
                limiter: self
                    .limiter
                    .unwrap_or_else(|| RateLimiter::new(Quota::per_minute(200))),
                policy: self.policy,
                lookback_days: self.lookback_days,
                history_start: self.history_start,
            }),
        })
    }
}

impl Connector for GustoConnector {
    fn system(&self) -> SystemId {
        SystemId::gusto()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .reads(["employee", "payroll_run", "pay_statement", "time_off"])
            .writes(["pay_statement"])
            .incremental(false)
            .detects_deletes(false)
            .rate_limit(Quota::per_minute(200))
    }
}
