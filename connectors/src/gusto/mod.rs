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
//! payroll fetched (`GET …/payrolls/{id}`, paged by 100). Gusto shows a
//! payroll's compensations only once it is calculated, and their gross
//! and net pay only once it is processed: an unprocessed payroll has no
//! pay statement (never statements of zeroes or of provisional hours). A
//! payroll listed as processed but unprocessed when fetched (cancelled
//! meanwhile) yields none, the payrolls after it are not skipped, and it
//! is read once processed again. Time off is
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
//! `PUT …/payrolls/{id}` (at most 100 employees a request, Gusto's limit),
//! and **only the hours that differ** are sent: Gusto's
//! `PUT …/payrolls/{id}/prepare`, which answers the compensations with
//! the `version`s an update must carry, also **un-calculates** a
//! calculated payroll (nulls its `calculated_at` and `totals`), so it is
//! called only when something is to be written. The connector first
//! `GET`s the payroll (paged by 100): a processed payroll refuses the
//! write ([`ConnectorErrorKind::Invalid`]) before any prepare or update;
//! a calculated one lists its compensations, and the employees whose
//! `Regular Hours` already match are [`Outcome::Unchanged`] without a
//! prepare, the others alone are prepared and updated (the payroll then
//! needs calculating again, as after any edit in Gusto); one that is not
//! calculated lists no compensations (Gusto shows them only once
//! calculated), so its employees are prepared (there is no calculation
//! to lose) and those whose hours match are not sent.
//!
//! **Conflicts (409).** Gusto versions each employee compensation and
//! answers 409 (`invalid_resource_version`) when a `PUT` carries a stale
//! version: someone edited the payroll in between. The connector then
//! refetches the payroll (`GET`, and `prepare` for what is to be
//! written again) and **re-merges**,
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
//! | `employee.work_email` | `work_email` (else `email`, with [`GustoBuilder::personal_email_as_work_email`]) | `email` is the personal address |
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
mod builder;
mod http;
mod read;
mod schedules;
mod wire;
mod write;

pub use auth::{AppCredentials, MemoryTokenStore, TokenStore, Tokens};
pub use builder::GustoBuilder;
pub use schedules::PaySchedule;

use crate::connector::{Capabilities, Connector};
use crate::error::Result;
use crate::http::{Body, RestClient};
use crate::rate_limit::{Quota, RateLimiter};
use chrono::NaiveDate;
use odoo_integration_model::{Policy, SystemId};
use std::fmt;
use std::sync::Arc;

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
    client: RestClient,
    company: String,
    limiter: RateLimiter,
    policy: Option<Policy>,
    lookback_days: u64,
    history_start: Option<NaiveDate>,
    personal_email_as_work: bool,
}

impl fmt::Debug for GustoConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GustoConnector")
            .field("company", &self.inner.company)
            .field("client", &self.inner.client)
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
        GustoBuilder::new(company_uuid.into(), app, store)
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

    /// Sends one API call (a path with its query) through the HTTP core:
    /// paced by the rate limiter, the token refreshed once on a 401.
    /// Returns the 2xx answer's headers and body; every other status is a
    /// typed error.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(reqwest::header::HeaderMap, Vec<u8>)> {
        let answer = self
            .inner
            .client
            .send(method, path, body.map(Body::json_bytes))
            .await?;
        Ok((answer.headers, answer.body))
    }

    /// [`call`](Self::call), then the JSON answer decoded (naming the JSON
    /// path of what does not fit, never quoting the body).
    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(reqwest::header::HeaderMap, T)> {
        let label = RestClient::label(&method, path);
        let (headers, bytes) = self.call(method, path, body).await?;
        Ok((headers, self.inner.client.decode(&label, &bytes)?))
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
