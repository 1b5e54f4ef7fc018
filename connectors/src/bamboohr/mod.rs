//! The BambooHR connector (feature `bamboohr`): employees and time off from
//! BambooHR's API v1, read with an API key.
//!
//! **Connection.** Every request goes to
//! `https://api.bamboohr.com/api/gateway.php/{company}/v1/...` (the base URL
//! can be changed for a test server with [`BambooHrConnector::base_url`])
//! with `Accept: application/json` and HTTP basic auth: the API key as the
//! user, `x` as the password. The key is a [`SecretString`]: it is in no
//! `Debug`, error or log.
//!
//! **Employees** ([`Source`](crate::Source)`<`[`Employee`](odoo_integration_model::Employee)`>`).
//! The first read takes every employee (active and inactive) through one
//! custom report (`POST /v1/reports/custom?format=JSON`) with the mapped
//! fields, fetched once for the whole run and paged by employee id on our
//! side (the connector keeps the run's report between its pages; a page
//! read by another connector, or after a restart, fetches it again);
//! before it, one call to `GET /v1/employees/changed` fixes the instant
//! the full read stands for.
//! Later reads ask `GET /v1/employees/changed?since=…` for the employees
//! changed since the cursor, oldest first, and read the fields of those
//! inserted or updated through one custom report restricted to them
//! (`filters.employeeIds`, one per page); `Deleted` ones become deletes.
//! The cursor holds the latest `lastChanged` handed out and the ids
//! changed at that same second already handed out, so a burst of changes
//! in one second is neither lost nor repeated. BambooHR stamps changes to
//! the second: reads only take changes at least
//! [`settle`](BambooHrConnector::settle) old (default 5 s), so a second
//! change of an employee within the second the cursor stands on is not
//! skipped. A changed employee the report does not return (the key may
//! not see it, or the report lags the change log) is not skipped: the
//! cursor keeps that change and every later read asks for it again (in
//! the room its page has left), until the report returns it or the log
//! lists the employee again; the changes around it go on meanwhile.
//!
//! The field map, shared [`FieldMap`]s (replace it with
//! [`BambooHrConnector::fields`], extend it with [`BambooHrConnector::field`]:
//! a custom field is one entry):
//!
//! | canonical | BambooHR | notes |
//! |---|---|---|
//! | `employee_number` | `employeeNumber` | |
//! | `name` | `firstName` + `lastName` | joined by a space |
//! | `work_email` | `workEmail` | |
//! | `department` | `department` | |
//! | `job_title` | `jobTitle` | |
//! | `manager` | `supervisorEId` | the manager's employee id, a reference to `employee` |
//! | `status` | `status` + `terminationDate` | `Inactive`, or a termination date on or before today: `terminated`; else `active` |
//! | `hire_date` | `hireDate` | `0000-00-00` is empty |
//! | `termination_date` | `terminationDate` | |
//! | `cost_rate` | compensation table | see below; or a custom field with [`Conversion::Money`] |
//!
//! `work_phone` is usually the ERP's: map it only if BambooHR owns it
//! (`FieldMap::text("work_phone", "workPhone")`). Each change names the
//! fields it carries ([`SourceChange::with_fields`](crate::SourceChange::with_fields)),
//! so fields BambooHR does not hold are never cleared.
//!
//! **Cost rate.** With [`compensation`](BambooHrConnector::compensation) on
//! (the default), the compensation table is read in one request, never
//! one per employee: for every employee on the full read
//! (`GET /v1/employees/all/tables/compensation`, once per run; rows name
//! their `employeeId`), for the changed ones on later reads
//! (`GET /v1/employees/changed/tables/compensation?since=…`, once per
//! page). An employee's current row (the
//! latest `startDate` not after today) gives `rate` `{value, currency}`
//! per `paidPer`: `Hour` as is; `Day` over
//! [`hours_per_day`](BambooHrConnector::hours_per_day); `Week`, `Month`,
//! `Quarter` and `Year` as a yearly amount over
//! [`hours_per_year`](BambooHrConnector::hours_per_year) (default 2080),
//! rounded to 4 decimals, in decimal arithmetic. A key that may not read
//! the table (403), an employee without rows in it (the key may not see
//! that employee's pay), no current row, or a period we cannot convert
//! leaves `cost_rate` out of the change: it is neither an error nor a
//! clearing.
//!
//! **Time off** ([`Source`](crate::Source)`<`[`TimeOff`](odoo_integration_model::TimeOff)`>`).
//! `GET /v1/time_off/requests?start=&end=`: `employeeId` → the `employee`
//! reference, the type's name → `kind`, `start`/`end`, the amount in hours
//! (days × [`hours_per_day`](BambooHrConnector::hours_per_day), default 8),
//! the status: `approved` → approved, `requested` → submitted, `denied`,
//! `canceled` and `superceded` → rejected. BambooHR has no changed-since
//! for requests, so each pass re-reads a moving window of dates, from
//! [`time_off_window`](BambooHrConnector::time_off_window) days back to
//! days ahead of today (defaults 30 and 365; the first pass starts
//! [`time_off_history`](BambooHrConnector::time_off_history) days back,
//! default 365), paged by request id. Requests seen before come again:
//! the pipeline's unchanged detection drops them. A request that leaves
//! the window is no longer read, and a deleted one is not reported.
//!
//! **Rate limits and errors.** Every request waits its turn at the
//! connector's [`RateLimiter`] (default 10 per second; BambooHR publishes
//! no number). A 429, or a 503 with `Retry-After` (BambooHR's older way
//! of refusing), pauses the limiter for the wait asked (60 s if none) and
//! becomes a rate-limited error carrying the wait. BambooHR's
//! `X-BambooHR-Error-Message` header, or `X-BambooHR-Message` (the one
//! its specification documents; endpoints send one or the other),
//! becomes the error message; 400 is
//! invalid, 401 unauthorized, 403 forbidden, 404 not found, other 5xx
//! unavailable; an HTML page, a truncated or otherwise unreadable body is
//! a protocol error. Nothing panics on what the server sends.
//!
//! **Caveats.** `Active`/`Inactive` is all the status read: leave of absence
//! is not told apart (map `employmentHistoryStatus` yourself if you need
//! it). Dates of time off are the company's calendar dates. The custom
//! report endpoint is marked deprecated in BambooHR's specification (in
//! favour of datasets) but is the one that reads every employee, inactive
//! ones included, in one call.
//!
//! # Example
//!
//! ```
//! use odoo_integration_connectors::bamboohr::{BambooHrConnector, FieldMap};
//!
//! let bamboo = BambooHrConnector::new("acme", "secret-api-key")?
//!     .field(FieldMap::text("work_phone", "workPhone"))
//!     .hours_per_year(rust_decimal::Decimal::from(1_950));
//! assert!(!format!("{bamboo:?}").contains("secret-api-key"));
//! # Ok::<(), odoo_integration_connectors::ConnectorError>(())
//! ```

mod api;
mod employees;
mod fields;
mod pay;
mod settings;
mod time_off;

pub use crate::mapping::{Conversion, FieldMap};
pub use fields::default_fields;

use crate::connector::{Capabilities, Connector};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::http::{BasicKey, RestClient};
use crate::rate_limit::{Quota, RateLimiter};
use odoo_integration_model::{Currency, SystemId};
use reqwest::Method;
use rust_decimal::Decimal;
use secrecy::SecretString;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// BambooHR's production API.
const API: &str = "https://api.bamboohr.com";

/// Where a company's API paths start under `base`.
fn api_root(base: &str, company: &str) -> String {
    format!("{base}/api/gateway.php/{company}/v1")
}

/// The default pace: BambooHR publishes no number.
fn default_quota() -> Quota {
    Quota::per_second(10).burst(10)
}

/// The BambooHR connector: a [`Source`](crate::Source) of employees and of
/// time off. See the [module documentation](self).
///
/// Cheap to clone; clones share the HTTP client and the rate limiter.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::Connector;
/// let bamboo = odoo_integration_connectors::bamboohr::BambooHrConnector::new("acme", "secret-api-key")?;
/// assert!(bamboo.capabilities().can_read("employee"));
/// assert!(!format!("{bamboo:?}").contains("secret-api-key"));
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Clone)]
pub struct BambooHrConnector {
    client: RestClient,
    company: Arc<str>,
    fields: Arc<Vec<FieldMap>>,
    currency: Currency,
    compensation: bool,
    hours_per_year: Decimal,
    hours_per_day: Decimal,
    limiter: RateLimiter,
    settle: Duration,
    window_back: u32,
    window_ahead: u32,
    history: u32,
    time_off_statuses: Arc<Vec<String>>,
    /// Why the last [`base_url`](BambooHrConnector::base_url) was refused:
    /// every request fails with it.
    bad_base: Option<Arc<str>>,
    /// The full read in progress: its report and compensation table.
    runs: Arc<employees::Runs>,
}

impl fmt::Debug for BambooHrConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BambooHrConnector")
            .field("base", &self.client.base())
            .field("company", &self.company)
            .field("api_key", &"[redacted]")
            .field(
                "fields",
                &self
                    .fields
                    .iter()
                    .map(|m| m.canonical.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("compensation", &self.compensation)
            .finish_non_exhaustive()
    }
}

impl BambooHrConnector {
    /// A connector for the company `company` (the subdomain of
    /// `https://{company}.bamboohr.com`) with an API key, with the default
    /// field map.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] when the company is empty or not a
    /// plain subdomain, or the HTTP client cannot be built.
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
    /// fake.insert_employee([("firstName", "Ann"), ("lastName", "Lee")]);
    /// // BambooHrConnector::new("acme", api_key) talks to api.bamboohr.com; here, the fake.
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url());
    /// let page = Source::<Employee>::read(&bamboo, None, 10).await?;
    /// assert_eq!(page.changes.len(), 1);
    /// assert!(BambooHrConnector::new("acme/../x", "key").is_err()); // not a subdomain
    /// # Ok(()) }
    /// ```
    pub fn new(company: impl Into<String>, api_key: impl Into<String>) -> Result<Self> {
        let company = company.into();
        if company.is_empty()
            || !company
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("`{company}` is not a BambooHR company subdomain"),
            )
            .with_system(SystemId::bamboohr()));
        }
        let http = crate::http::http_client(Duration::from_secs(60), SystemId::bamboohr())?;
        let key = Arc::new(SecretString::from(api_key.into()));
        let limiter = RateLimiter::new(default_quota());
        let client = RestClient::builder(
            http,
            &api_root(API, &company),
            Arc::new(BasicKey::new(SystemId::bamboohr(), key, "x")),
            Arc::new(api::BambooHrApi),
        )
        .limiter(limiter.clone())
        .default_pause(api::DEFAULT_WAIT)
        .build();
        Ok(BambooHrConnector {
            client,
            company: Arc::from(company.as_str()),
            fields: Arc::new(default_fields()),
            currency: Currency::USD,
            compensation: true,
            hours_per_year: Decimal::from(2080),
            hours_per_day: Decimal::from(8),
            limiter,
            settle: Duration::from_secs(5),
            window_back: 30,
            window_ahead: 365,
            history: 365,
            time_off_statuses: Arc::new(Vec::new()),
            bad_base: None,
            runs: Arc::default(),
        })
    }

    /// Replaces the employee field map (default: [`default_fields`]).
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
    /// # async fn first(bamboo: &BambooHrConnector) -> Result<Employee, Box<dyn std::error::Error>> {
    /// #     let page = Source::<Employee>::read(bamboo, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// fake.insert_employee([("firstName", "Ann"), ("lastName", "Lee"), ("department", "Sales")]);
    /// let mut fields = default_fields();
    /// fields.retain(|f| f.canonical != "department");
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .fields(fields);
    /// let ann = first(&bamboo).await?;
    /// assert_eq!(ann.name, "Ann Lee");
    /// assert_eq!(ann.department, None); // not read
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn fields(mut self, fields: Vec<FieldMap>) -> Self {
        self.fields = Arc::new(fields);
        self.runs = Arc::default(); // another report
        self
    }

    /// Adds a field map, replacing the one of the same canonical field.
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
    /// # async fn first(bamboo: &BambooHrConnector) -> Result<Employee, Box<dyn std::error::Error>> {
    /// #     let page = Source::<Employee>::read(bamboo, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// fake.insert_employee([("firstName", "Ann"), ("customBillRate", "150.00")]);
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .field(FieldMap::new("bill_rate", "customBillRate", Conversion::money()));
    /// let ann = first(&bamboo).await?;
    /// assert_eq!(ann.bill_rate.map(|m| m.amount()), Some(rust_decimal::Decimal::new(15_000, 2)));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn field(mut self, map: FieldMap) -> Self {
        let fields = Arc::make_mut(&mut self.fields);
        fields.retain(|f| f.canonical != map.canonical);
        fields.push(map);
        self.runs = Arc::default(); // another report
        self
    }

    /// The currency of amounts BambooHR sends without one (default USD).
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
    /// use odoo_integration_model::Currency;
    /// let fake = FakeBambooHr::start().await?;
    /// # async fn first(bamboo: &BambooHrConnector) -> Result<Employee, Box<dyn std::error::Error>> {
    /// #     let page = Source::<Employee>::read(bamboo, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// fake.insert_employee([("firstName", "Ann"), ("customBillRate", "150.00")]);
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .field(FieldMap::new("bill_rate", "customBillRate", Conversion::money()))
    ///     .currency(Currency::EUR);
    /// let ann = first(&bamboo).await?;
    /// assert_eq!(ann.bill_rate.map(|m| m.currency()), Some(Currency::EUR));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn currency(mut self, currency: Currency) -> Self {
        self.currency = currency;
        self
    }

    /// Whether `cost_rate` is read from the compensation table (default
    /// on; one request per run for all employees, not one per employee).
    /// Turn it off when the key may not read pay (a refused table costs
    /// one 403 per run), or when a field map reads `cost_rate` from a
    /// custom field (the table is then not read).
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
    /// use odoo_integration_fakes::bamboohr::Compensation;
    /// let fake = FakeBambooHr::start().await?;
    /// # async fn first(bamboo: &BambooHrConnector) -> Result<Employee, Box<dyn std::error::Error>> {
    /// #     let page = Source::<Employee>::read(bamboo, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// let id = fake.insert_employee([("firstName", "Ann")]);
    /// fake.set_compensation(&id, [Compensation::new("2024-01-01".parse()?, "85.00", "USD", "Hour")]);
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .compensation(false);
    /// let ann = first(&bamboo).await?;
    /// assert_eq!(ann.cost_rate, None);
    /// assert_eq!(fake.call_count("/tables/compensation"), 0);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn compensation(mut self, read: bool) -> Self {
        self.compensation = read;
        self.runs = Arc::default(); // the table read or not
        self
    }

    /// Working hours in a year, to turn a salary into an hourly cost
    /// (default 2080: 52 weeks of 40 hours). Zero or less is ignored.
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
    /// use odoo_integration_fakes::bamboohr::Compensation;
    /// use rust_decimal::Decimal;
    /// let fake = FakeBambooHr::start().await?;
    /// # async fn first(bamboo: &BambooHrConnector) -> Result<Employee, Box<dyn std::error::Error>> {
    /// #     let page = Source::<Employee>::read(bamboo, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// let id = fake.insert_employee([("firstName", "Ann")]);
    /// fake.set_compensation(&id, [Compensation::new("2024-01-01".parse()?, "86000", "USD", "Year")]);
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .hours_per_year(Decimal::from(1_720));
    /// let ann = first(&bamboo).await?;
    /// assert_eq!(ann.cost_rate.map(|m| m.amount()), Some(Decimal::from(50))); // 86,000 / 1,720
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn hours_per_year(mut self, hours: Decimal) -> Self {
        if hours > Decimal::ZERO {
            self.hours_per_year = hours;
        }
        self
    }

    /// Working hours in a day, for time off counted in days and daily pay
    /// (default 8). Zero or less is ignored.
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
    /// use odoo_integration_fakes::bamboohr::Compensation;
    /// use rust_decimal::Decimal;
    /// let fake = FakeBambooHr::start().await?;
    /// # async fn first(bamboo: &BambooHrConnector) -> Result<Employee, Box<dyn std::error::Error>> {
    /// #     let page = Source::<Employee>::read(bamboo, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// let id = fake.insert_employee([("firstName", "Ann")]);
    /// fake.set_compensation(&id, [Compensation::new("2024-01-01".parse()?, "600", "USD", "Day")]);
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .hours_per_day(Decimal::new(75, 1));
    /// let ann = first(&bamboo).await?;
    /// assert_eq!(ann.cost_rate.map(|m| m.amount()), Some(Decimal::from(80))); // 600 / 7.5
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn hours_per_day(mut self, hours: Decimal) -> Self {
        if hours > Decimal::ZERO {
            self.hours_per_day = hours;
        }
        self
    }

    /// The limiter every request waits at; give it to the pipeline so a
    /// pause BambooHR asks for holds back its other tasks too.
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
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// use odoo_integration_fakes::bamboohr::Fault;
    /// use std::time::Duration;
    /// let fake = FakeBambooHr::start().await?;
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url());
    /// let limiter = bamboo.rate_limiter();
    /// fake.fail_next(Fault::RateLimited { retry_after: Duration::from_secs(30) });
    /// let e = Source::<Employee>::read(&bamboo, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    /// // The limiter (and every task waiting at it) now holds back for 30 s.
    /// let waited = tokio::time::timeout(Duration::from_millis(100), limiter.acquire()).await;
    /// assert!(waited.is_err());
    /// # Ok(()) }
    /// ```
    pub fn rate_limiter(&self) -> RateLimiter {
        self.limiter.clone()
    }

    /// How old a change must be (by our clock) before an incremental read
    /// takes it (default 5 s; zero for a fake whose clock is not ours).
    /// BambooHR stamps changes to the second, so without this a second
    /// change within the second a cursor stands on would be skipped.
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
    /// use std::time::Duration;
    /// let fake = FakeBambooHr::start().await?;
    /// fake.insert_employee([("firstName", "Ann")]);
    /// let bamboo = BambooHrConnector::new(fake.company(), fake.api_key())?
    ///     .base_url(&fake.url())
    ///     .settle(Duration::ZERO); // the fake's clock is not ours
    /// let first = Source::<Employee>::read(&bamboo, None, 10).await?;
    /// let bo = fake.insert_employee([("firstName", "Bo")]);
    /// let next = Source::<Employee>::read(&bamboo, Some(&first.next), 10).await?;
    /// assert_eq!(next.changes.len(), 1);
    /// assert_eq!(next.changes[0].remote_id.as_str(), bo);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn settle(mut self, lag: Duration) -> Self {
        self.settle = lag;
        self
    }

    /// Sends one request through the HTTP core (paced by the limiter,
    /// basic auth with the key) and decodes the JSON answer, or
    /// BambooHR's error. `path` is under the company's `/v1`
    /// (`/employees/changed?...`).
    async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        if let Some(why) = &self.bad_base {
            return Err(
                ConnectorError::new(ConnectorErrorKind::Configuration, why.to_string())
                    .with_system(SystemId::bamboohr()),
            );
        }
        // BambooHR reads a body as XML unless the type is exactly JSON's.
        let body = body
            .map(|b| self.client.encode(&method, path, b))
            .transpose()?;
        self.client.json(method, path, body).await
    }
}

impl Connector for BambooHrConnector {
    fn system(&self) -> SystemId {
        SystemId::bamboohr()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .reads(["employee", "time_off"])
            .incremental(true)
            .detects_deletes(true)
            .rate_limit(self.limiter.quota())
    }
}
