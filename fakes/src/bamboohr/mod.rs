//! A stateful in-memory fake of the BambooHR API v1 endpoints the
//! `bamboohr` connector uses.
//!
//! [`FakeBambooHr`] listens on `127.0.0.1` on a free port and answers,
//! under `/api/gateway.php/{company}/v1`, with BambooHR's request and
//! response shapes (`../shared/specs/bamboohr/public.yaml`). It is meant
//! to be at least as strict as BambooHR: where it is more lenient, the
//! list under "Not modelled" says so.
//!
//! # Modelled
//!
//! - `GET /employees/directory`: active employees, a fixed field set
//!   (404 when there is none);
//! - `GET /employees/{id}?fields=a,b`: one employee's fields (at most
//!   400);
//! - `GET /employees/changed?since=ISO8601[&type=inserted|updated|deleted]`:
//!   `{latest, employees: {id: {id, action, lastChanged}}}`, every
//!   employee whose last change is at or after `since`, with the kind of
//!   that last change (deleted employees included, as `Deleted`);
//!   `since` is required (else 400);
//! - `POST /reports/custom?format=JSON`: `{title, fields, employees}` for
//!   the requested fields (at most 400; unset ones `null`; `id`, `status`
//!   and `lastChanged` are always known), all live employees or
//!   `filters.employeeIds`, `filters.lastChanged.value`. **Fields left
//!   out, with 200:** a field the key may not see
//!   ([`FakeBambooHr::hide_field`]) and a field BambooHR does not know at
//!   all (neither standard, nor ever seeded on an employee, nor
//!   [declared](FakeBambooHr::define_field)) are in neither the answer's
//!   `fields` list nor any row, as BambooHR does: never `null`. The body
//!   must be sent as exactly `Content-Type: application/json`, as
//!   BambooHR requires (otherwise it is read as XML: 400);
//! - the compensation table, three ways:
//!   `GET /employees/{id}/tables/compensation` (one employee's rows),
//!   `GET /employees/all/tables/compensation` (every employee's rows in
//!   one list, each row naming its `employeeId`; inactive employees
//!   included) and `GET /employees/changed/tables/compensation?since=`
//!   (`{table, employees: {id: {lastChanged, rows}}}`); rows are `{id,
//!   employeeId, startDate, rate: {currency, value}, type, paidPer, ...}`;
//!   403 when the key may not read pay
//!   ([`FakeBambooHr::forbid_compensation`]); other tables 404;
//! - employees the key may not see ([`FakeBambooHr::hide_employee`]):
//!   left out of reports, the directory and the table reads, and refused
//!   (403) by the one-employee reads, while the change log still lists
//!   their changes (this also models a report lagging behind the change
//!   log);
//! - `GET /time_off/requests?start=&end=[&status=][&employeeId=]`: requests
//!   overlapping the dates (`start` and `end` required).
//!
//! Every request needs HTTP basic auth with the API key as the user (any
//! password): else 401; another company's path: 404. A successful answer
//! is JSON only when the request's `Accept` asks for `application/json`
//! (or, for a report, `format=JSON`): otherwise it is XML, BambooHR's
//! default. Errors answer an empty body with the message in
//! `X-BambooHR-Error-Message`, as most BambooHR endpoints do
//! ([`Fault::OtherMessage`] sends it in `X-BambooHR-Message`, as others
//! do).
//!
//! # The clock and the change log
//!
//! Each write through the seeding helpers ([`FakeBambooHr::insert_employee`],
//! [`update_employee`](FakeBambooHr::update_employee),
//! [`terminate`](FakeBambooHr::terminate),
//! [`delete_employee`](FakeBambooHr::delete_employee),
//! [`set_compensation`](FakeBambooHr::set_compensation)) stamps the
//! employee's `lastChanged` with the fake clock (default start
//! `2026-01-01T00:00:00Z`) and moves the clock on by the tick (default
//! 1 s; BambooHR's stamps are whole seconds). Set the tick to zero for
//! several changes in the same second. A compensation change changes the
//! employee, as in BambooHR.
//!
//! # Rate limits and faults
//!
//! With [`FakeBambooHrBuilder::rate_limit`], each authenticated request
//! spends one of a budget per rolling window (tokio's clock); a spent
//! budget answers 429 with `Retry-After`. [`FakeBambooHr::fail_next`]
//! queues a [`Fault`] for the next request: an HTML error page, a 429 or a
//! throttling 503 with `Retry-After`, an error with a message in either
//! header, or an answer cut in half. Every request is logged
//! ([`FakeBambooHr::calls`]). Bad input answers 400; the fake never panics
//! on a request.
//!
//! # Not modelled
//!
//! - BambooHR's real request limits (it publishes none): the budget is a
//!   test knob, off by default;
//! - writes through the API (employees, table rows, time off), webhooks,
//!   datasets, the metadata endpoints (`/meta/fields`, `/meta/tables`),
//!   tables other than compensation, `onlyCurrent` (field values have no
//!   history: every value is current), `filters.lastChanged.includeNull`;
//! - XML itself: an answer that is not JSON is a placeholder document,
//!   not the data;
//! - the report's field metadata is simplified (`type` is always `text`,
//!   `name` is the field's id) and every value is text; values are not
//!   checked against a field type (a date field takes any text);
//! - field permissions other than [`hide_field`](FakeBambooHr::hide_field)
//!   and the whole compensation table: hidden and unknown fields are left
//!   out of reports only (`GET /employees/{id}` still answers them, as
//!   `null` when unknown), and no field within a table row is hidden;
//! - time off: no `id`, `action` or `type` filters, no per-day `dates`,
//!   no notes, no deleted requests (a request stays until the test
//!   changes it), no balances or policies;
//! - OAuth, API key expiry, and a company that is disabled or over its
//!   plan's limits.
//!
//! # Example
//!
//! ```
//! use odoo_integration_fakes::bamboohr::{Compensation, FakeBambooHr};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let bamboo = FakeBambooHr::start().await?;
//! let ann = bamboo.insert_employee([("firstName", "Ann"), ("lastName", "Lee"), ("employeeNumber", "E1")]);
//! bamboo.set_compensation(&ann, [Compensation::new("2024-01-01".parse()?, "104000", "USD", "Year")]);
//! // Point the connector at bamboo.url(), company bamboo.company(), key bamboo.api_key().
//! assert_eq!(bamboo.employee(&ann).unwrap().field("firstName"), Some("Ann"));
//! # Ok(()) }
//! ```

mod fields;
mod tables;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{RollingWindow, lock, owned};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeDelta, Utc};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

/// A fault to inject into the next request ([`FakeBambooHr::fail_next`]).
///
/// # Example
///
/// ```
/// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
/// # use odoo_integration_connectors::Source;
/// # use odoo_integration_model::Employee;
/// # fn connector(fake: &FakeBambooHr) -> Result<BambooHrConnector, Box<dyn std::error::Error>> {
/// #     Ok(BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url()))
/// # }
/// use odoo_integration_connectors::ConnectorErrorKind;
/// use odoo_integration_fakes::bamboohr::Fault;
/// use std::time::Duration;
/// let bamboo = FakeBambooHr::start().await?;
/// let faults = [
///     (Fault::Status(503), ConnectorErrorKind::Unavailable),
///     (Fault::RateLimited { retry_after: Duration::from_secs(30) }, ConnectorErrorKind::RateLimited),
///     (Fault::Message { status: 400, message: "Invalid field: hireDate".into() }, ConnectorErrorKind::Invalid),
///     (Fault::Truncated, ConnectorErrorKind::Protocol),
/// ];
/// for (fault, kind) in faults {
///     bamboo.fail_next(fault);
///     let e = Source::<Employee>::read(&connector(&bamboo)?, None, 10).await.unwrap_err();
///     assert_eq!(e.kind(), kind);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer this status with a proxy's HTML page, without handling the
    /// request.
    Status(u16),
    /// Answer 429 with `Retry-After` (whole seconds, rounded up).
    RateLimited {
        /// The wait sent.
        retry_after: Duration,
    },
    /// Answer 503 with `Retry-After`, as BambooHR throttled before it
    /// answered 429.
    Throttled {
        /// The wait sent.
        retry_after: Duration,
    },
    /// Answer `status` with an empty body and `X-BambooHR-Error-Message`.
    Message {
        /// The HTTP status.
        status: u16,
        /// The header's text.
        message: String,
    },
    /// Answer `status` with an empty body and the message in
    /// `X-BambooHR-Message`, the header BambooHR's specification documents
    /// for its errors (other endpoints send `X-BambooHR-Error-Message`,
    /// as [`Fault::Message`] does).
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::{FakeBambooHr, Fault};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// use odoo_integration_connectors::Source;
    /// let bamboo = FakeBambooHr::start().await?;
    /// bamboo.fail_next(Fault::OtherMessage { status: 403, message: "No access".into() });
    /// let hr = BambooHrConnector::new(bamboo.company(), bamboo.api_key())?.base_url(&bamboo.url());
    /// let e = Source::<odoo_integration_model::Employee>::read(&hr, None, 10).await.unwrap_err();
    /// assert!(e.message().contains("No access"));
    /// # Ok(()) }
    /// ```
    OtherMessage {
        /// The HTTP status.
        status: u16,
        /// The header's text.
        message: String,
    },
    /// Handle the request, then send only the first half of the body.
    Truncated,
}

/// One request the fake received.
///
/// # Example
///
/// ```
/// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
/// # use odoo_integration_connectors::Source;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
/// # let connector = BambooHrConnector::new(bamboo.company(), bamboo.api_key())?.base_url(&bamboo.url());
/// Source::<odoo_integration_model::Employee>::read(&connector, None, 10).await?;
/// let call = &bamboo.calls()[0];
/// assert_eq!((call.method.as_str(), call.path.as_str(), call.status), ("GET", "/employees/changed", 200)); // the path after `/v1`
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeCall {
    /// `GET` or `POST`.
    pub method: String,
    /// The path after `/v1` (`/employees/changed`).
    pub path: String,
    /// The query string, as sent.
    pub query: String,
    /// The HTTP status answered.
    pub status: u16,
}

/// A row of an employee's compensation table.
///
/// # Example
///
/// ```
/// use odoo_integration_fakes::bamboohr::Compensation;
/// let row = Compensation::new("2025-01-01".parse().unwrap(), "85.50", "USD", "Hour");
/// assert_eq!(row.paid_per, "Hour");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compensation {
    /// The first day the row applies.
    pub start_date: NaiveDate,
    /// The amount, as BambooHR sends it (`"104000.00"`).
    pub value: String,
    /// The currency code.
    pub currency: String,
    /// `Hour`, `Day`, `Week`, `Month`, `Quarter`, `Year`...
    pub paid_per: String,
}

impl Compensation {
    /// A row.
    ///
    /// # Example
    ///
    /// ```
    /// let row = odoo_integration_fakes::bamboohr::Compensation::new("2025-01-01".parse().unwrap(), "104000", "USD", "Year");
    /// assert_eq!(row.value, "104000");
    /// ```
    pub fn new(
        start_date: NaiveDate,
        value: impl Into<String>,
        currency: impl Into<String>,
        paid_per: impl Into<String>,
    ) -> Self {
        Compensation {
            start_date,
            value: value.into(),
            currency: currency.into(),
            paid_per: paid_per.into(),
        }
    }
}

/// A time-off request to seed ([`FakeBambooHr::add_time_off`]).
///
/// # Example
///
/// ```
/// use odoo_integration_fakes::bamboohr::FakeTimeOff;
/// let r = FakeTimeOff::new("12", "Vacation", "2026-03-02".parse().unwrap(), "2026-03-03".parse().unwrap())
///     .days("2")
///     .status("approved");
/// assert_eq!(r.unit, "days");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeTimeOff {
    /// The employee's id.
    pub employee_id: String,
    /// The type's name.
    pub kind: String,
    /// First day.
    pub start: NaiveDate,
    /// Last day.
    pub end: NaiveDate,
    /// The amount, as a decimal text.
    pub amount: String,
    /// `days` or `hours`.
    pub unit: String,
    /// `approved`, `requested`, `denied`, `canceled` or `superceded`.
    pub status: String,
}

impl FakeTimeOff {
    /// A request of one day, `requested`.
    ///
    /// # Example
    ///
    /// ```
    /// let r = odoo_integration_fakes::bamboohr::FakeTimeOff::new("12", "Sick", "2026-03-02".parse().unwrap(), "2026-03-02".parse().unwrap());
    /// assert_eq!(r.status, "requested");
    /// ```
    pub fn new(
        employee_id: impl Into<String>,
        kind: impl Into<String>,
        start: NaiveDate,
        end: NaiveDate,
    ) -> Self {
        FakeTimeOff {
            employee_id: employee_id.into(),
            kind: kind.into(),
            start,
            end,
            amount: "1".into(),
            unit: "days".into(),
            status: "requested".into(),
        }
    }

    /// The amount in days.
    ///
    /// # Example
    ///
    /// ```
    /// # let r = odoo_integration_fakes::bamboohr::FakeTimeOff::new("1", "Sick", "2026-03-02".parse().unwrap(), "2026-03-02".parse().unwrap());
    /// assert_eq!(r.days("0.5").amount, "0.5");
    /// ```
    #[must_use]
    pub fn days(mut self, amount: impl Into<String>) -> Self {
        self.amount = amount.into();
        self.unit = "days".into();
        self
    }

    /// The amount in hours.
    ///
    /// # Example
    ///
    /// ```
    /// # let r = odoo_integration_fakes::bamboohr::FakeTimeOff::new("1", "Sick", "2026-03-02".parse().unwrap(), "2026-03-02".parse().unwrap());
    /// assert_eq!(r.hours("4").unit, "hours");
    /// ```
    #[must_use]
    pub fn hours(mut self, amount: impl Into<String>) -> Self {
        self.amount = amount.into();
        self.unit = "hours".into();
        self
    }

    /// The status.
    ///
    /// # Example
    ///
    /// ```
    /// # let r = odoo_integration_fakes::bamboohr::FakeTimeOff::new("1", "Sick", "2026-03-02".parse().unwrap(), "2026-03-02".parse().unwrap());
    /// assert_eq!(r.status("denied").status, "denied");
    /// ```
    #[must_use]
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = status.into();
        self
    }
}

/// An employee as stored, for inspection ([`FakeBambooHr::employee`]).
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
/// let id = bamboo.insert_employee([("firstName", "Ann")]);
/// let ann = bamboo.employee(&id).unwrap();
/// assert_eq!((ann.action.as_str(), ann.deleted), ("Inserted", false));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeEmployee {
    /// The employee id.
    pub id: String,
    /// The fields that are set (`status` among them).
    pub fields: BTreeMap<String, String>,
    /// The last change, on the fake clock.
    pub last_changed: DateTime<Utc>,
    /// The last change's kind: `Inserted`, `Updated` or `Deleted`.
    pub action: String,
    /// Whether it is deleted.
    pub deleted: bool,
}

impl FakeEmployee {
    /// A field's value, if set.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// let id = bamboo.insert_employee([("firstName", "Ann")]);
    /// assert_eq!(bamboo.employee(&id).unwrap().field("status"), Some("Active"));
    /// # Ok(()) }
    /// ```
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields.get(name).map(String::as_str)
    }
}

#[derive(Debug, Clone)]
struct Emp {
    fields: BTreeMap<String, String>,
    last_changed: DateTime<Utc>,
    action: &'static str,
    deleted: bool,
    compensation: Vec<Compensation>,
}

#[derive(Debug, Clone)]
struct Req {
    request: FakeTimeOff,
    created: NaiveDate,
    changed: NaiveDate,
}

#[derive(Debug)]
struct Store {
    clock: DateTime<Utc>,
    tick: TimeDelta,
    next_id: u64,
    employees: BTreeMap<u64, Emp>,
    next_request: u64,
    requests: BTreeMap<u64, Req>,
    forbid_compensation: bool,
    /// Fields the API key may not see: left out of reports.
    hidden: std::collections::BTreeSet<String>,
    /// Custom fields BambooHR knows (besides the standard ones): every
    /// field name ever seeded, and those declared.
    defined: std::collections::BTreeSet<String>,
    /// Employees the key may not see (or not yet: a report lagging
    /// behind the change log): left out of reports and tables, still in
    /// the change log.
    invisible: std::collections::BTreeSet<u64>,
}

impl Store {
    /// The time of a write, and the clock moved on.
    fn stamp(&mut self) -> DateTime<Utc> {
        let at = self.clock;
        self.clock = self
            .clock
            .checked_add_signed(self.tick)
            .unwrap_or(self.clock);
        at
    }

    fn live(&mut self, id: &str) -> Option<&mut Emp> {
        let id = id.trim().parse::<u64>().ok()?;
        self.employees.get_mut(&id).filter(|e| !e.deleted)
    }

    fn change(&mut self, id: &str, f: impl FnOnce(&mut Emp)) -> bool {
        let at = self.clock;
        let Some(e) = self.live(id) else {
            return false;
        };
        f(e);
        e.last_changed = at;
        e.action = "Updated";
        self.stamp();
        true
    }
}

/// The request budget (none: unlimited) and the `Retry-After` of a spent
/// one.
#[derive(Debug)]
struct Budget {
    window: Option<RollingWindow>,
    retry_after: Duration,
}

impl Budget {
    /// Spends one request; false when the window's budget is spent.
    fn take(&mut self) -> bool {
        self.window.as_mut().is_none_or(RollingWindow::take)
    }
}

struct Shared {
    company: String,
    api_key: String,
    store: Mutex<Store>,
    faults: Mutex<VecDeque<Fault>>,
    calls: Mutex<Vec<FakeCall>>,
    budget: Mutex<Budget>,
}

/// Builds a [`FakeBambooHr`] with another company, key, clock or budget.
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::builder()
///     .company("globex")
///     .api_key("test-key")
///     .rate_limit(100, Duration::from_secs(60))
///     .start()
///     .await?;
/// assert_eq!(bamboo.company(), "globex");
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct FakeBambooHrBuilder {
    company: String,
    api_key: String,
    clock: DateTime<Utc>,
    tick: Duration,
    max: Option<u32>,
    window: Duration,
    retry_after: Duration,
    forbid_compensation: bool,
}

impl FakeBambooHrBuilder {
    /// The company subdomain in the paths. Default: `acme`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # fn connector(fake: &FakeBambooHr) -> Result<BambooHrConnector, Box<dyn std::error::Error>> {
    /// #     Ok(BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url()))
    /// # }
    /// let bamboo = FakeBambooHr::builder().company("globex").start().await?;
    /// assert_eq!(bamboo.company(), "globex");
    /// assert!(Source::<Employee>::read(&connector(&bamboo)?, None, 10).await.is_ok());
    /// let acme = BambooHrConnector::new("acme", bamboo.api_key())?.base_url(&bamboo.url());
    /// assert!(Source::<Employee>::read(&acme, None, 10).await.is_err()); // another company
    /// # Ok(()) }
    /// ```
    pub fn company(mut self, company: impl Into<String>) -> Self {
        self.company = company.into();
        self
    }

    /// The API key requests must carry. Default: [`FakeBambooHr::API_KEY`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// use odoo_integration_connectors::{ConnectorErrorKind, Source};
    /// # use odoo_integration_model::Employee;
    /// let bamboo = FakeBambooHr::builder().api_key("my-test-key").start().await?;
    /// assert_eq!(bamboo.api_key(), "my-test-key");
    /// let wrong = BambooHrConnector::new(bamboo.company(), "another-key")?.base_url(&bamboo.url());
    /// let e = Source::<Employee>::read(&wrong, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
    /// # Ok(()) }
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = key.into();
        self
    }

    /// Where the clock starts (whole seconds). Default:
    /// `2026-01-01T00:00:00Z`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let start: chrono::DateTime<chrono::Utc> = "2026-05-01T09:00:00Z".parse()?;
    /// let bamboo = FakeBambooHr::builder().clock(start).start().await?;
    /// let id = bamboo.insert_employee([("firstName", "Ann")]);
    /// assert_eq!(bamboo.employee(&id).unwrap().last_changed, start);
    /// # Ok(()) }
    /// ```
    pub fn clock(mut self, start: DateTime<Utc>) -> Self {
        self.clock = start;
        self
    }

    /// How far the clock moves after each write. Default: 1 s.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = FakeBambooHr::builder().tick(std::time::Duration::ZERO).start().await?;
    /// let a = bamboo.insert_employee([("firstName", "A")]);
    /// let b = bamboo.insert_employee([("firstName", "B")]);
    /// assert_eq!(bamboo.employee(&a).unwrap().last_changed, bamboo.employee(&b).unwrap().last_changed);
    /// # Ok(()) }
    /// ```
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// A request budget: `max` requests per rolling `window`, then 429.
    /// Default: none.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # fn connector(fake: &FakeBambooHr) -> Result<BambooHrConnector, Box<dyn std::error::Error>> {
    /// #     Ok(BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url()))
    /// # }
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// use std::time::Duration;
    /// let bamboo = FakeBambooHr::builder().rate_limit(1, Duration::from_secs(60)).start().await?;
    /// // A first read makes two calls: the second is refused.
    /// let e = Source::<Employee>::read(&connector(&bamboo)?, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    /// assert_eq!(bamboo.calls().last().map(|c| c.status), Some(429));
    /// # Ok(()) }
    /// ```
    pub fn rate_limit(mut self, max: u32, window: Duration) -> Self {
        self.max = Some(max);
        self.window = window;
        self
    }

    /// The `Retry-After` of a spent budget. Default: 30 s.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # fn connector(fake: &FakeBambooHr) -> Result<BambooHrConnector, Box<dyn std::error::Error>> {
    /// #     Ok(BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url()))
    /// # }
    /// use std::time::Duration;
    /// let bamboo = FakeBambooHr::builder()
    ///     .rate_limit(1, Duration::from_secs(60))
    ///     .retry_after(Duration::from_secs(5))
    ///     .start()
    ///     .await?;
    /// let e = Source::<Employee>::read(&connector(&bamboo)?, None, 10).await.unwrap_err();
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(5)));
    /// # Ok(()) }
    /// ```
    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = wait;
        self
    }

    /// Whether the key is refused the compensation table (403). Default:
    /// no.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # fn connector(fake: &FakeBambooHr) -> Result<BambooHrConnector, Box<dyn std::error::Error>> {
    /// #     Ok(BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url()))
    /// # }
    /// use odoo_integration_fakes::bamboohr::Compensation;
    /// use odoo_integration_connectors::Operation;
    /// let bamboo = FakeBambooHr::builder().forbid_compensation(true).start().await?;
    /// let id = bamboo.insert_employee([("firstName", "Ann")]);
    /// bamboo.set_compensation(&id, [Compensation::new("2024-01-01".parse()?, "85.00", "USD", "Hour")]);
    /// // The table answers 403: the employee is read without a cost rate.
    /// let page = Source::<Employee>::read(&connector(&bamboo)?, None, 10).await?;
    /// assert!(matches!(&page.changes[0].operation, Operation::Upsert(ann) if ann.cost_rate.is_none()));
    /// assert_eq!(bamboo.calls().last().map(|c| c.status), Some(403));
    /// # Ok(()) }
    /// ```
    pub fn forbid_compensation(mut self, forbid: bool) -> Self {
        self.forbid_compensation = forbid;
        self
    }

    /// Starts listening on `127.0.0.1` on a free port.
    ///
    /// # Errors
    ///
    /// No port could be bound on loopback.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::builder().start().await?;
    /// assert!(bamboo.url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub async fn start(self) -> std::io::Result<FakeBambooHr> {
        self.start_on(crate::LOOPBACK).await
    }

    /// Starts listening on `addr`: a fixed port, say, for a fake you point
    /// a tool at by hand (port 0 picks a free one).
    ///
    /// # Errors
    ///
    /// `addr` cannot be bound (the port is taken, or the address is not
    /// this machine's).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// let bamboo = FakeBambooHr::builder().start_on("127.0.0.1:0".parse()?).await?;
    /// assert!(bamboo.url().starts_with("http://127.0.0.1:"));
    /// // A port in use is an error, not a panic.
    /// let port = bamboo.url().rsplit(':').next().unwrap_or_default().to_owned();
    /// assert!(FakeBambooHr::builder().start_on(format!("127.0.0.1:{port}").parse()?).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn start_on(self, addr: std::net::SocketAddr) -> std::io::Result<FakeBambooHr> {
        let (listener, addr) = crate::bind(addr).await?;
        let clock = DateTime::from_timestamp(self.clock.timestamp(), 0).unwrap_or(self.clock);
        let shared = Arc::new(Shared {
            company: self.company,
            api_key: self.api_key,
            store: Mutex::new(Store {
                clock,
                tick: TimeDelta::from_std(self.tick).unwrap_or(TimeDelta::seconds(1)),
                next_id: 1,
                employees: BTreeMap::new(),
                next_request: 1,
                requests: BTreeMap::new(),
                forbid_compensation: self.forbid_compensation,
                hidden: std::collections::BTreeSet::new(),
                defined: std::collections::BTreeSet::new(),
                invisible: std::collections::BTreeSet::new(),
            }),
            faults: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
            budget: Mutex::new(Budget {
                window: self.max.map(|max| RollingWindow::new(max, self.window)),
                retry_after: self.retry_after,
            }),
        });
        let app = Router::new().fallback(serve).with_state(shared.clone());
        Ok(FakeBambooHr {
            served: crate::Served::new(listener, addr, app),
            shared,
        })
    }
}

/// An in-memory BambooHR on loopback. See the [module documentation](self).
///
/// Dropping it stops the server.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
/// let id = bamboo.insert_employee([("firstName", "Ann"), ("lastName", "Lee")]);
/// assert_eq!(id, "1");
/// # Ok(()) }
/// ```
pub struct FakeBambooHr {
    served: crate::Served,
    shared: Arc<Shared>,
}

impl fmt::Debug for FakeBambooHr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeBambooHr")
            .field("url", &self.url())
            .field("company", &self.shared.company)
            .finish_non_exhaustive()
    }
}

impl FakeBambooHr {
    /// The API key a fake from [`FakeBambooHr::start`] accepts.
    pub const API_KEY: &'static str = "fake0bamboohr0api0key0000000000000000000";

    /// A fake with the defaults: company `acme`, [`FakeBambooHr::API_KEY`],
    /// the clock at `2026-01-01T00:00:00Z` ticking 1 s per write, no
    /// budget.
    ///
    /// # Errors
    ///
    /// See [`FakeBambooHrBuilder::start`].
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// assert_eq!(bamboo.company(), "acme");
    /// # Ok(()) }
    /// ```
    pub async fn start() -> std::io::Result<FakeBambooHr> {
        FakeBambooHr::builder().start().await
    }

    /// A builder with the defaults of [`FakeBambooHr::start`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = FakeBambooHr::builder().start().await?; // the defaults
    /// assert_eq!((bamboo.company(), bamboo.api_key()), ("acme", FakeBambooHr::API_KEY));
    /// # Ok(()) }
    /// ```
    pub fn builder() -> FakeBambooHrBuilder {
        FakeBambooHrBuilder {
            company: "acme".into(),
            api_key: FakeBambooHr::API_KEY.into(),
            clock: DateTime::from_timestamp(1_767_225_600, 0).unwrap_or_default(),
            tick: Duration::from_secs(1),
            max: None,
            window: Duration::from_secs(60),
            retry_after: Duration::from_secs(30),
            forbid_compensation: false,
        }
    }

    /// The base URL (`http://127.0.0.1:<port>`), in place of
    /// `https://api.bamboohr.com`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// assert!(bamboo.url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.served.addr())
    }

    /// The company subdomain.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// assert_eq!(bamboo.company(), "acme");
    /// # Ok(()) }
    /// ```
    pub fn company(&self) -> &str {
        &self.shared.company
    }

    /// The API key the fake accepts.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// assert_eq!(bamboo.api_key(), odoo_integration_fakes::bamboohr::FakeBambooHr::API_KEY);
    /// # Ok(()) }
    /// ```
    pub fn api_key(&self) -> &str {
        &self.shared.api_key
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.shared.store)
    }

    // ------------------------------------------------------------ seeding

    /// Adds an employee with these fields (`status` defaults to `Active`),
    /// logged as `Inserted`. Returns its id (1, 2, ...).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// let boss = bamboo.insert_employee([("firstName", "Bo")]);
    /// let ann = bamboo.insert_employee([("firstName", "Ann"), ("supervisorEId", boss.as_str())]);
    /// assert_eq!(ann, "2");
    /// # Ok(()) }
    /// ```
    pub fn insert_employee<I, K, V>(&self, fields: I) -> String
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut store = self.store();
        let id = store.next_id;
        store.next_id += 1;
        let mut map: BTreeMap<String, String> = owned(fields);
        map.entry("status".into())
            .or_insert_with(|| "Active".into());
        store.defined.extend(map.keys().cloned());
        let at = store.stamp();
        store.employees.insert(
            id,
            Emp {
                fields: map,
                last_changed: at,
                action: "Inserted",
                deleted: false,
                compensation: Vec::new(),
            },
        );
        id.to_string()
    }

    /// Sets fields of a live employee (`""` clears one), logged as
    /// `Updated`. False when there is no such live employee.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// let id = bamboo.insert_employee([("jobTitle", "Analyst")]);
    /// assert!(bamboo.update_employee(&id, [("jobTitle", "Consultant")]));
    /// assert_eq!(bamboo.employee(&id).unwrap().action, "Updated");
    /// # Ok(()) }
    /// ```
    pub fn update_employee<I, K, V>(&self, id: &str, fields: I) -> bool
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let fields: Vec<(String, String)> = owned(fields);
        let mut store = self.store();
        store.defined.extend(fields.iter().map(|(k, _)| k.clone()));
        store.change(id, |e| {
            for (k, v) in fields {
                if v.is_empty() {
                    e.fields.remove(&k);
                } else {
                    e.fields.insert(k, v);
                }
            }
        })
    }

    /// Terminates an employee on `date`: `status` `Inactive` and
    /// `terminationDate`, logged as `Updated`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// let id = bamboo.insert_employee([("firstName", "Ann")]);
    /// assert!(bamboo.terminate(&id, "2026-02-27".parse()?));
    /// assert_eq!(bamboo.employee(&id).unwrap().field("status"), Some("Inactive"));
    /// # Ok(()) }
    /// ```
    pub fn terminate(&self, id: &str, date: NaiveDate) -> bool {
        self.store().change(id, |e| {
            e.fields.insert("status".into(), "Inactive".into());
            e.fields.insert("terminationDate".into(), date.to_string());
        })
    }

    /// Deletes an employee, logged as `Deleted`. False when there is no
    /// such live employee.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// let id = bamboo.insert_employee([("firstName", "Ann")]);
    /// assert!(bamboo.delete_employee(&id));
    /// assert!(bamboo.employee(&id).unwrap().deleted);
    /// # Ok(()) }
    /// ```
    pub fn delete_employee(&self, id: &str) -> bool {
        let mut store = self.store();
        let at = store.clock;
        let Some(e) = store.live(id) else {
            return false;
        };
        e.deleted = true;
        e.action = "Deleted";
        e.last_changed = at;
        store.stamp();
        true
    }

    /// Replaces an employee's compensation rows, logged as `Updated` (a
    /// table change changes the employee in BambooHR).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_fakes::bamboohr::{Compensation, FakeBambooHr};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = FakeBambooHr::start().await?;
    /// let id = bamboo.insert_employee([("firstName", "Ann")]);
    /// assert!(bamboo.set_compensation(&id, [Compensation::new("2025-01-01".parse()?, "85.50", "USD", "Hour")]));
    /// # Ok(()) }
    /// ```
    pub fn set_compensation(&self, id: &str, rows: impl IntoIterator<Item = Compensation>) -> bool {
        let rows: Vec<Compensation> = rows.into_iter().collect();
        self.store().change(id, |e| e.compensation = rows)
    }

    /// Whether the key is refused the compensation table (403) from now.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # fn connector(fake: &FakeBambooHr) -> Result<BambooHrConnector, Box<dyn std::error::Error>> {
    /// #     Ok(BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url()))
    /// # }
    /// use odoo_integration_fakes::bamboohr::Compensation;
    /// let bamboo = FakeBambooHr::start().await?;
    /// let id = bamboo.insert_employee([("firstName", "Ann")]);
    /// bamboo.set_compensation(&id, [Compensation::new("2024-01-01".parse()?, "85.00", "USD", "Hour")]);
    /// bamboo.forbid_compensation(true);
    /// Source::<Employee>::read(&connector(&bamboo)?, None, 10).await?;
    /// assert_eq!(bamboo.calls().last().map(|c| c.status), Some(403));
    /// # Ok(()) }
    /// ```
    pub fn forbid_compensation(&self, forbid: bool) {
        self.store().forbid_compensation = forbid;
    }

    /// Hides a field from the API key, as BambooHR does with a field the
    /// key's user may not see (or one that does not exist): a report asked
    /// for it answers 200 without it, in neither its `fields` list nor its
    /// rows.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// let bamboo = FakeBambooHr::start().await?;
    /// bamboo.insert_employee([("firstName", "Ann"), ("jobTitle", "Engineer")]);
    /// bamboo.hide_field("jobTitle");
    /// let hr = BambooHrConnector::new(bamboo.company(), bamboo.api_key())?.base_url(&bamboo.url());
    /// let page = Source::<Employee>::read(&hr, None, 10).await?;
    /// // Not claimed: a value nobody could see is not cleared elsewhere.
    /// assert!(!page.changes[0].fields.as_ref().unwrap().contains(&"job_title".to_owned()));
    /// # Ok(()) }
    /// ```
    pub fn hide_field(&self, name: &str) {
        self.store().hidden.insert(name.to_owned());
    }

    /// Declares a custom field BambooHR knows though no employee has a
    /// value for it yet: a report asked for it lists it and answers `null`
    /// for every employee. Fields ever seeded on an employee and
    /// BambooHR's standard fields are known without this; any other field
    /// is unknown, and a report leaves it out (of `fields` and of every
    /// row) with 200, as BambooHR does.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::bamboohr::{BambooHrConnector, FieldMap};
    /// use odoo_integration_connectors::Source;
    /// use odoo_integration_model::Employee;
    /// let bamboo = FakeBambooHr::start().await?;
    /// bamboo.insert_employee([("firstName", "Ann")]);
    /// let hr = BambooHrConnector::new(bamboo.company(), bamboo.api_key())?
    ///     .base_url(&bamboo.url())
    ///     .field(FieldMap::text("work_phone", "customDeskPhone"));
    /// let claims = |page: &odoo_integration_connectors::Page<Employee>| {
    ///     page.changes[0].fields.as_ref().is_some_and(|f| f.contains(&"work_phone".to_owned()))
    /// };
    /// // Unknown: left out of the report, so not claimed.
    /// assert!(!claims(&Source::<Employee>::read(&hr, None, 10).await?));
    /// bamboo.define_field("customDeskPhone");
    /// // Known and empty: claimed, as empty.
    /// assert!(claims(&Source::<Employee>::read(&hr, None, 10).await?));
    /// # Ok(()) }
    /// ```
    pub fn define_field(&self, name: &str) {
        self.store().defined.insert(name.to_owned());
    }

    /// Hides an employee from the key, or shows it again: hidden, it is
    /// left out of custom reports, of the directory and of the
    /// compensation tables (as BambooHR leaves out employees the key's
    /// access level does not cover), while the change log still lists its
    /// changes. This also models a report lagging behind the change log.
    /// False when there is no such employee.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// use odoo_integration_connectors::Source;
    /// use odoo_integration_model::Employee;
    /// let bamboo = FakeBambooHr::start().await?;
    /// let ann = bamboo.insert_employee([("firstName", "Ann")]);
    /// bamboo.insert_employee([("firstName", "Bo")]);
    /// assert!(bamboo.hide_employee(&ann, true));
    /// let hr = BambooHrConnector::new(bamboo.company(), bamboo.api_key())?.base_url(&bamboo.url());
    /// let page = Source::<Employee>::read(&hr, None, 10).await?;
    /// assert_eq!(page.changes.len(), 1); // Bo only
    /// # Ok(()) }
    /// ```
    pub fn hide_employee(&self, id: &str, hidden: bool) -> bool {
        let mut store = self.store();
        let Some(n) = id
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| store.employees.contains_key(n))
        else {
            return false;
        };
        if hidden {
            store.invisible.insert(n);
        } else {
            store.invisible.remove(&n);
        }
        true
    }

    /// Adds a time-off request, created and changed today by the fake
    /// clock. Returns its id.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_fakes::bamboohr::{FakeBambooHr, FakeTimeOff};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = FakeBambooHr::start().await?;
    /// let ann = bamboo.insert_employee([("firstName", "Ann")]);
    /// let id = bamboo.add_time_off(FakeTimeOff::new(&ann, "Vacation", "2026-03-02".parse()?, "2026-03-06".parse()?).days("5"));
    /// assert_eq!(id, "1");
    /// # Ok(()) }
    /// ```
    pub fn add_time_off(&self, request: FakeTimeOff) -> String {
        let mut store = self.store();
        let id = store.next_request;
        store.next_request += 1;
        let today = store.clock.date_naive();
        store.requests.insert(
            id,
            Req {
                request,
                created: today,
                changed: today,
            },
        );
        id.to_string()
    }

    /// Changes a request's status (`approved`, `denied`, `canceled`...).
    /// False when there is no such request.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_fakes::bamboohr::{FakeBambooHr, FakeTimeOff};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = FakeBambooHr::start().await?;
    /// let id = bamboo.add_time_off(FakeTimeOff::new("1", "Sick", "2026-03-02".parse()?, "2026-03-02".parse()?));
    /// assert!(bamboo.set_time_off_status(&id, "approved"));
    /// # Ok(()) }
    /// ```
    pub fn set_time_off_status(&self, id: &str, status: &str) -> bool {
        let mut store = self.store();
        let today = store.clock.date_naive();
        let Some(r) = id
            .parse::<u64>()
            .ok()
            .and_then(|id| store.requests.get_mut(&id))
        else {
            return false;
        };
        r.request.status = status.to_owned();
        r.changed = today;
        true
    }

    // --------------------------------------------------------- inspection

    /// An employee (deleted ones too), or `None`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// assert!(bamboo.employee("7").is_none());
    /// # Ok(()) }
    /// ```
    pub fn employee(&self, id: &str) -> Option<FakeEmployee> {
        let n = id.trim().parse::<u64>().ok()?;
        self.store().employees.get(&n).map(|e| FakeEmployee {
            id: n.to_string(),
            fields: e.fields.clone(),
            last_changed: e.last_changed,
            action: e.action.to_owned(),
            deleted: e.deleted,
        })
    }

    /// Every request received so far, oldest first.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// bamboo.insert_employee([("firstName", "Ann")]); // seeding is no call
    /// assert!(bamboo.calls().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn calls(&self) -> Vec<FakeCall> {
        lock(&self.shared.calls).clone()
    }

    /// How many requests went to paths ending with `suffix`
    /// (`/tables/compensation`).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// assert_eq!(bamboo.call_count("/employees/changed"), 0);
    /// # Ok(()) }
    /// ```
    pub fn call_count(&self, suffix: &str) -> usize {
        lock(&self.shared.calls)
            .iter()
            .filter(|c| c.path.ends_with(suffix))
            .count()
    }

    // -------------------------------------------------------------- clock

    /// The fake clock: the time the next write takes.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// let before = bamboo.now();
    /// bamboo.insert_employee([("firstName", "Ann")]);
    /// assert_eq!(bamboo.now() - before, chrono::TimeDelta::seconds(1));
    /// # Ok(()) }
    /// ```
    pub fn now(&self) -> DateTime<Utc> {
        self.store().clock
    }

    /// Sets the fake clock (whole seconds); it may go back.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// bamboo.set_clock("2026-06-01T08:00:00Z".parse()?);
    /// assert_eq!(bamboo.now().to_rfc3339(), "2026-06-01T08:00:00+00:00");
    /// # Ok(()) }
    /// ```
    pub fn set_clock(&self, at: DateTime<Utc>) {
        self.store().clock = DateTime::from_timestamp(at.timestamp(), 0).unwrap_or(at);
    }

    /// Moves the fake clock on.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = FakeBambooHr::start().await?;
    /// let before = bamboo.now();
    /// bamboo.advance(std::time::Duration::from_secs(3600));
    /// assert_eq!(bamboo.now() - before, chrono::TimeDelta::hours(1));
    /// # Ok(()) }
    /// ```
    pub fn advance(&self, by: Duration) {
        let mut store = self.store();
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        store.clock = store.clock.checked_add_signed(by).unwrap_or(store.clock);
    }

    /// How far the clock moves after each write; zero puts writes in the
    /// same second.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let bamboo = odoo_integration_fakes::bamboohr::FakeBambooHr::start().await?;
    /// bamboo.set_tick(std::time::Duration::ZERO);
    /// let a = bamboo.insert_employee([("firstName", "A")]);
    /// let b = bamboo.insert_employee([("firstName", "B")]);
    /// assert_eq!(bamboo.employee(&a).unwrap().last_changed, bamboo.employee(&b).unwrap().last_changed);
    /// # Ok(()) }
    /// ```
    pub fn set_tick(&self, tick: Duration) {
        self.store().tick = TimeDelta::from_std(tick).unwrap_or(TimeDelta::seconds(1));
    }

    // ------------------------------------------------------------- faults

    /// Makes the next request fail with `fault` (after those already
    /// queued; each is used once).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::bamboohr::FakeBambooHr;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::bamboohr::BambooHrConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # fn connector(fake: &FakeBambooHr) -> Result<BambooHrConnector, Box<dyn std::error::Error>> {
    /// #     Ok(BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url()))
    /// # }
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// use odoo_integration_fakes::bamboohr::Fault;
    /// let bamboo = FakeBambooHr::start().await?;
    /// bamboo.fail_next(Fault::Status(503));
    /// let e = Source::<Employee>::read(&connector(&bamboo)?, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    /// assert!(Source::<Employee>::read(&connector(&bamboo)?, None, 10).await.is_ok()); // used once
    /// # Ok(()) }
    /// ```
    pub fn fail_next(&self, fault: Fault) {
        lock(&self.shared.faults).push_back(fault);
    }
}

// ------------------------------------------------------------------ server

/// An error as BambooHR answers it: no body, the message in a header.
fn error(status: u16, message: &str) -> Response {
    error_in("x-bamboohr-error-message", status, message)
}

/// An error with the message in the header `name`.
fn error_in(name: &'static str, status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (code, Body::empty()).into_response();
    let clean: String = message
        .chars()
        .map(|c| {
            if c.is_ascii() && !c.is_control() {
                c
            } else {
                ' '
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&clean) {
        r.headers_mut().insert(name, v);
    }
    r
}

/// What a client that did not ask for JSON gets: XML, as BambooHR
/// answers by default (a placeholder document: the fake does not render
/// its data as XML).
fn xml_response() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=UTF-8")],
        "<?xml version=\"1.0\"?>\n<response/>\n",
    )
        .into_response()
}

fn json_response(body: &Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn html(status: u16) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    let title = format!(
        "{} {}",
        code.as_u16(),
        code.canonical_reason().unwrap_or("Error")
    );
    let body = format!(
        "<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1><p>The server is temporarily unable to service your request.</p></body></html>\n"
    );
    (
        code,
        [(header::CONTENT_TYPE, "text/html; charset=UTF-8")],
        body,
    )
        .into_response()
}

fn wait_secs(wait: Duration) -> String {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).to_string()
}

fn refused(status: u16, wait: Duration) -> Response {
    let mut r = error(status, "Rate limit exceeded. Please retry later.");
    if let Ok(v) = HeaderValue::from_str(&wait_secs(wait)) {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}

async fn serve(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = lock(&shared.faults).pop_front();
    let response = match fault {
        Some(Fault::Status(code)) => html(code),
        Some(Fault::RateLimited { retry_after }) => refused(429, retry_after),
        Some(Fault::Throttled { retry_after }) => refused(503, retry_after),
        Some(Fault::Message { status, message }) => error(status, &message),
        Some(Fault::OtherMessage { status, message }) => {
            error_in("x-bamboohr-message", status, &message)
        }
        Some(Fault::Truncated) => truncate(handle(&shared, &method, &uri, &headers, &body)).await,
        None => handle(&shared, &method, &uri, &headers, &body),
    };
    let prefix = format!("/api/gateway.php/{}/v1", shared.company);
    let path = uri.path();
    lock(&shared.calls).push(FakeCall {
        method: method.to_string(),
        path: path.strip_prefix(&prefix).unwrap_or(path).to_owned(),
        query: uri.query().unwrap_or_default().to_owned(),
        status: response.status().as_u16(),
    });
    response
}

/// The same answer with half its body.
async fn truncate(r: Response) -> Response {
    let (mut parts, body) = r.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let half = bytes.slice(..bytes.len() / 2);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(half))
}

/// Standard base64 (with or without padding), for the basic auth header.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((acc >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The user of a basic auth header.
fn basic_user(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, _password) = decoded.split_once(':')?;
    Some(user.to_owned())
}

fn handle(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if basic_user(headers).as_deref() != Some(shared.api_key.as_str()) {
        return error(401, "Invalid API key or not authorized");
    }
    if !lock(&shared.budget).take() {
        let wait = lock(&shared.budget).retry_after;
        return refused(429, wait);
    }
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let rest = match segments.as_slice() {
        ["api", "gateway.php", company, "v1", rest @ ..] if *company == shared.company => rest,
        ["api", "gateway.php", _, ..] => return error(404, "Company not found"),
        _ => return error(404, "Not found"),
    };
    let q: Vec<(String, String)> = match Query::<Vec<(String, String)>>::try_from_uri(uri) {
        Ok(q) => q.0,
        Err(e) => return error(400, &format!("Invalid query string: {e}")),
    };
    let param = |name: &str| {
        q.iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut store = lock(&shared.store);
    let answer = match (method.as_str(), rest) {
        ("GET", ["employees", "directory"]) => directory(&store),
        ("GET", ["employees", "changed"]) => changed(&store, param("since"), param("type")),
        ("POST", ["reports", "custom"]) => report(&store, headers, param("format"), body),
        ("GET", ["employees", "all", "tables", "compensation"]) => tables::all(&store),
        ("GET", ["employees", "changed", "tables", "compensation"]) => {
            tables::changed(&store, param("since"))
        }
        ("GET", ["employees", "changed", "tables", table]) => {
            Err((404, format!("Table `{table}` not found")))
        }
        ("GET", ["employees", id, "tables", "compensation"]) => tables::one(&store, id),
        ("GET", ["employees", _, "tables", table]) => {
            Err((404, format!("Table `{table}` not found")))
        }
        ("GET", ["employees", id]) => one_employee(&mut store, id, param("fields")),
        ("GET", ["time_off", "requests"]) => time_off(
            &store,
            param("start"),
            param("end"),
            param("status"),
            param("employeeId"),
        ),
        _ => Err((
            404,
            format!("The fake BambooHR does not serve {method} {}", uri.path()),
        )),
    };
    // BambooHR answers XML unless asked for JSON (a report, also by its
    // `format`).
    let json_asked = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.to_ascii_lowercase().contains("application/json"))
        || (rest == ["reports", "custom"]
            && param("format").is_some_and(|f| f.eq_ignore_ascii_case("json")));
    match answer {
        Ok(_) if !json_asked => xml_response(),
        Ok(v) => json_response(&v),
        Err((status, message)) => error(status, &message),
    }
}

type Answer = Result<Value, (u16, String)>;

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn parse_since(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    DateTime::parse_from_rfc3339(raw)
        .or_else(|_| DateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn field_value(id: u64, e: &Emp, name: &str) -> Value {
    match name {
        "id" => Value::String(id.to_string()),
        "lastChanged" => Value::String(iso(e.last_changed)),
        _ => e
            .fields
            .get(name)
            .map_or(Value::Null, |v| Value::String(v.clone())),
    }
}

fn directory(store: &Store) -> Answer {
    const FIELDS: [&str; 7] = [
        "displayName",
        "firstName",
        "lastName",
        "jobTitle",
        "workEmail",
        "department",
        "supervisor",
    ];
    let employees: Vec<Value> = store
        .employees
        .iter()
        .filter(|(id, e)| {
            !e.deleted
                && !store.invisible.contains(id)
                && e.fields.get("status").is_none_or(|s| s == "Active")
        })
        .map(|(id, e)| {
            let mut row = Map::new();
            row.insert("id".into(), Value::String(id.to_string()));
            for f in FIELDS {
                let v = if f == "displayName" {
                    let name = [e.fields.get("firstName"), e.fields.get("lastName")]
                        .into_iter()
                        .flatten()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ");
                    Value::String(name)
                } else {
                    field_value(*id, e, f)
                };
                row.insert(f.into(), v);
            }
            Value::Object(row)
        })
        .collect();
    if employees.is_empty() {
        return Err((404, "The directory is empty".into()));
    }
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|f| json!({"id": f, "type": "text", "name": f}))
        .collect();
    Ok(json!({"fields": fields, "employees": employees}))
}

fn changed(store: &Store, since: Option<&str>, kind: Option<&str>) -> Answer {
    let since = since.ok_or((400, "The since parameter is required".to_owned()))?;
    let since = parse_since(since)
        .ok_or_else(|| (400, format!("`{since}` is not a valid ISO 8601 timestamp")))?;
    let kind = kind.map(str::to_ascii_lowercase);
    if let Some(k) = &kind
        && !["inserted", "updated", "deleted", "all"].contains(&k.as_str())
    {
        return Err((400, format!("Invalid type `{k}`")));
    }
    let mut employees = Map::new();
    let mut latest = since;
    for (id, e) in &store.employees {
        if e.last_changed < since {
            continue;
        }
        if let Some(k) = &kind
            && k != "all"
            && !e.action.eq_ignore_ascii_case(k)
        {
            continue;
        }
        latest = latest.max(e.last_changed);
        employees.insert(
            id.to_string(),
            json!({"id": id.to_string(), "action": e.action, "lastChanged": iso(e.last_changed)}),
        );
    }
    Ok(json!({"latest": iso(latest), "employees": employees}))
}

fn report(store: &Store, headers: &HeaderMap, format: Option<&str>, body: &[u8]) -> Answer {
    match format {
        Some(f) if f.eq_ignore_ascii_case("json") => {}
        Some(f) => return Err((404, format!("Report format `{f}` not found"))),
        None => {
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if accept != "application/json" {
                return Err((404, "Report format not found".into()));
            }
        }
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type != "application/json" {
        return Err((400, "Malformed XML".into()));
    }
    let body: Value =
        serde_json::from_slice(body).map_err(|e| (400, format!("Malformed JSON: {e}")))?;
    let fields: Vec<String> = body
        .get("fields")
        .and_then(Value::as_array)
        .ok_or((400, "A report needs a list of fields".to_owned()))?
        .iter()
        .filter_map(Value::as_str)
        // Unknown and hidden fields: left out, with 200.
        .filter(|f| !store.hidden.contains(*f) && fields::known(store, f))
        .map(str::to_owned)
        .collect();
    if fields.len() > 400 {
        return Err((400, "A report may have at most 400 fields".into()));
    }
    let only: Option<Vec<u64>> = body
        .pointer("/filters/employeeIds")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .filter_map(|v| match v {
                    Value::Number(n) => n.as_u64(),
                    Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                })
                .collect()
        });
    let changed_after = match body.pointer("/filters/lastChanged/value") {
        Some(Value::String(s)) => {
            Some(parse_since(s).ok_or_else(|| (400, format!("`{s}` is not a valid date-time")))?)
        }
        _ => None,
    };
    let employees: Vec<Value> = store
        .employees
        .iter()
        .filter(|(id, e)| {
            !e.deleted
                && !store.invisible.contains(id)
                && only.as_ref().is_none_or(|o| o.contains(id))
                && changed_after.is_none_or(|t| e.last_changed >= t)
        })
        .map(|(id, e)| {
            let mut row = Map::new();
            row.insert("id".into(), Value::String(id.to_string()));
            for f in &fields {
                row.insert(f.clone(), field_value(*id, e, f));
            }
            Value::Object(row)
        })
        .collect();
    let meta: Vec<Value> = fields
        .iter()
        .map(|f| json!({"id": f, "type": "text", "name": f}))
        .collect();
    Ok(json!({
        "title": body.get("title").cloned().unwrap_or(Value::String("Report".into())),
        "fields": meta,
        "employees": employees,
    }))
}

fn employee_of<'a>(store: &'a Store, id: &str) -> Result<(u64, &'a Emp), (u16, String)> {
    let n = id
        .trim()
        .parse::<u64>()
        .map_err(|_| (404, format!("Employee `{id}` not found")))?;
    store
        .employees
        .get(&n)
        .filter(|e| !e.deleted)
        .map(|e| (n, e))
        .ok_or_else(|| (404, format!("Employee {n} not found")))
}

fn one_employee(store: &mut Store, id: &str, fields: Option<&str>) -> Answer {
    let (n, e) = employee_of(store, id)?;
    if store.invisible.contains(&n) {
        return Err((403, format!("You do not have access to employee {n}")));
    }
    let names: Vec<&str> = fields
        .unwrap_or("firstName,lastName")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.len() > 400 {
        return Err((400, "At most 400 fields may be requested".into()));
    }
    let mut row = Map::new();
    row.insert("id".into(), Value::String(n.to_string()));
    for f in names {
        row.insert(f.to_owned(), field_value(n, e, f));
    }
    Ok(Value::Object(row))
}

fn time_off(
    store: &Store,
    start: Option<&str>,
    end: Option<&str>,
    status: Option<&str>,
    employee: Option<&str>,
) -> Answer {
    let day = |v: Option<&str>, name: &str| {
        let v = v.ok_or_else(|| (400, format!("The {name} parameter is required")))?;
        NaiveDate::parse_from_str(v, "%Y-%m-%d")
            .map_err(|_| (400, format!("Invalid {name} date `{v}`")))
    };
    let (start, end) = (day(start, "start")?, day(end, "end")?);
    let statuses: Option<Vec<String>> = status.map(|s| {
        s.split(',')
            .map(|x| x.trim().to_ascii_lowercase())
            .filter(|x| !x.is_empty())
            .collect()
    });
    let mut kinds: Vec<&str> = Vec::new();
    let mut rows = Vec::new();
    for (id, r) in &store.requests {
        let q = &r.request;
        if q.end < start || q.start > end {
            continue;
        }
        if statuses
            .as_ref()
            .is_some_and(|s| !s.contains(&q.status.to_ascii_lowercase()))
        {
            continue;
        }
        if employee.is_some_and(|e| e.trim() != q.employee_id) {
            continue;
        }
        let type_id = match kinds.iter().position(|k| *k == q.kind) {
            Some(i) => i + 1,
            None => {
                kinds.push(&q.kind);
                kinds.len()
            }
        };
        let employee_id: Value = q
            .employee_id
            .parse::<u64>()
            .map_or_else(|_| Value::String(q.employee_id.clone()), Value::from);
        let name = q
            .employee_id
            .parse::<u64>()
            .ok()
            .and_then(|n| store.employees.get(&n))
            .map(|e| {
                [e.fields.get("firstName"), e.fields.get("lastName")]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        // A JSON number, as BambooHR sends it.
        let amount: Value = Decimal::from_str(&q.amount)
            .ok()
            .and_then(|d| serde_json::from_str(&d.normalize().to_string()).ok())
            .unwrap_or(Value::Null);
        rows.push(json!({
            "id": id,
            "employeeId": employee_id,
            "name": name,
            "start": q.start.to_string(),
            "end": q.end.to_string(),
            "created": r.created.to_string(),
            "status": {"lastChanged": r.changed.to_string(), "lastChangedByUserId": 1, "status": q.status},
            "type": {"id": type_id, "name": q.kind, "icon": "palm-trees"},
            "amount": {"unit": q.unit, "amount": amount},
            "actions": {"view": true, "edit": false, "cancel": false, "approve": false, "deny": false, "bypass": false},
            "dates": {},
            "notes": {},
        }));
    }
    Ok(Value::Array(rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sends `GET path` with basic auth and `accept`, returns the answer's
    /// head and body.
    async fn raw_get(fake: &FakeBambooHr, path: &str, accept: Option<&str>) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = fake.url().trim_start_matches("http://").to_owned();
        let Ok(mut stream) = tokio::net::TcpStream::connect(&addr).await else {
            panic!("connect {addr}");
        };
        // "fake0bamboohr0api0key0000000000000000000:x"
        let auth = "ZmFrZTBiYW1ib29ocjBhcGkwa2V5MDAwMDAwMDAwMDAwMDAwMDAwMDp4";
        let accept = accept.map_or(String::new(), |a| format!("Accept: {a}\r\n"));
        let request = format!(
            "GET /api/gateway.php/acme/v1{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {auth}\r\n{accept}Connection: close\r\n\r\n"
        );
        assert!(stream.write_all(request.as_bytes()).await.is_ok());
        let mut answer = String::new();
        assert!(stream.read_to_string(&mut answer).await.is_ok());
        answer
    }

    #[tokio::test]
    async fn xml_unless_json_is_asked_for() {
        let Ok(fake) = FakeBambooHr::start().await else {
            panic!("start");
        };
        fake.insert_employee([("firstName", "Ann")]);
        let path = "/employees/changed?since=2020-01-01T00:00:00Z";
        let plain = raw_get(&fake, path, None).await;
        assert!(plain.starts_with("HTTP/1.1 200"), "{plain}");
        assert!(
            plain
                .to_ascii_lowercase()
                .contains("content-type: text/xml"),
            "{plain}"
        );
        let json = raw_get(&fake, path, Some("application/json")).await;
        assert!(json.contains("\"employees\""), "{json}");
        // Errors are the header either way.
        let missing = raw_get(&fake, "/employees/changed", None).await;
        assert!(missing.starts_with("HTTP/1.1 400"), "{missing}");
    }

    #[test]
    fn base64_of_basic_auth() {
        // "key:x"
        assert_eq!(base64_decode("a2V5Ong=").as_deref(), Some(&b"key:x"[..]));
        assert_eq!(base64_decode("a2V5Ong").as_deref(), Some(&b"key:x"[..]));
        assert!(base64_decode("a2V5*").is_none());
    }
}
