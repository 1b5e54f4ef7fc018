//! A stateful fake of the Gusto endpoints the `gusto` connector uses,
//! served on `127.0.0.1` by [`FakeGusto`] (one company). It aims to be at
//! least as strict as Gusto (API version `2025-06-15`) where it models
//! something; what it does not model is listed below, so that a test
//! passing here is not mistaken for proof against the real API.
//!
//! # Modelled
//!
//! - **OAuth** (`POST /oauth/token`, JSON or form body): the refresh-token
//!   grant for the clients you [`allow_client`](FakeGusto::allow_client)
//!   (another client: 401 `invalid_client`; another grant type: 400
//!   `unsupported_grant_type`). [`grant`](FakeGusto::grant) issues a
//!   first pair as an authorisation would. Access tokens expire after
//!   [`set_token_lifetime`](FakeGusto::set_token_lifetime) (default two
//!   hours) or at once with
//!   [`expire_access_tokens`](FakeGusto::expire_access_tokens); then the
//!   API answers 401 `invalid_token`. Refresh tokens are **single use**:
//!   a refresh revokes the one presented, and presenting it again is
//!   refused with 400 `invalid_grant` (counted by
//!   [`invalid_grants`](FakeGusto::invalid_grants)). Every refresh token
//!   presented is kept
//!   ([`refresh_tokens_presented`](FakeGusto::refresh_tokens_presented)).
//!   A token reply can be slowed
//!   ([`set_token_delay`](FakeGusto::set_token_delay)) or lost after the
//!   pair was rotated
//!   ([`lose_token_replies`](FakeGusto::lose_token_replies): a 502 page,
//!   the old refresh token already revoked).
//! - **API** (`/v1/companies/{company}/…`; another company's uuid or an
//!   unknown path is 404 `not_found`): `employees` (paged when `page` is
//!   given, `per` 25 by default and at most 100, with `X-Total-Count`,
//!   `X-Total-Pages`, `X-Page`, `X-Per-Page`; all at once otherwise, as
//!   Gusto documents), `pay_schedules` (paged the same way), `payrolls` (by `processing_statuses`, only `processed` by
//!   default as in Gusto; by `payroll_types`, only `regular` by default;
//!   `start_date` ≤ pay period start and pay period end ≤ `end_date`,
//!   today by default; a range over a year is 422; ordered by pay period
//!   start, paged, without `employee_compensations`), `payrolls/{id}`
//!   (`GET`, employee compensations paged by `page`/`per`; `PUT` to
//!   update an unprocessed payroll's hourly compensations),
//!   `payrolls/{id}/prepare` (`PUT`, for the `employee_uuids` given or
//!   all), `time_off_requests` (by `start_date`/`end_date` against the
//!   first and last day requested; not paged, as in Gusto).
//! - **Calculation**, as Gusto: a payroll holds a calculation
//!   (`calculated_at`, and `totals`) once calculated
//!   ([`calculate_payroll`](FakeGusto::calculate_payroll)) or processed
//!   ([`process_payroll`](FakeGusto::process_payroll)).
//!   `PUT …/prepare` **un-calculates** it (`calculated_at` and `totals`
//!   become null, as Gusto documents) and gives the prepared employees'
//!   compensations new versions; an update un-calculates it too.
//! - **What a payroll shows**, as Gusto's spec says: `GET
//!   …/payrolls/{id}` returns `employee_compensations` only for a
//!   calculated or processed payroll (none at all otherwise, and no
//!   `totals`); `gross_pay`, `net_pay` and `check_amount` are null until
//!   it is processed; an hourly or fixed compensation's `amount` appears
//!   only once it is calculated; `version` only in a prepare's or an
//!   update's answer; a processed payroll lists only the hourly and fixed
//!   compensations above zero. A payroll can be reopened under a reader
//!   ([`reopen_before_next_get`](FakeGusto::reopen_before_next_get)).
//! - **Updates and versions.** Each employee compensation has a `version`
//!   that changes on every update and prepare. An update checks the
//!   whole request before changing anything: more than 100 employee
//!   compensations is 422; an employee not on the payroll is 422 (nested
//!   errors, as Gusto nests them); a stale version is 409
//!   `invalid_resource_version`; a processed payroll is 422
//!   `invalid_operation` (and refuses a prepare the same way); a body that
//!   is not JSON is 400. Hours are matched by compensation `name` (and
//!   `job_uuid` when both sides have one); the answer holds only the
//!   compensations sent, as Gusto's does. To script a concurrent edit,
//!   [`bump_versions`](FakeGusto::bump_versions) and
//!   [`set_regular_hours`](FakeGusto::set_regular_hours) edit a payroll as
//!   someone else would, and
//!   [`edit_before_next_put`](FakeGusto::edit_before_next_put) does so
//!   right before the next `PUT` to it arrives.
//! - **Limits.** Each access token may make
//!   [`set_rate_limit`](FakeGusto::set_rate_limit) calls a minute
//!   (default 200, Gusto's); past it the API answers 429 with
//!   `Retry-After` (the seconds left in the window).
//! - **Faults** ([`fail_next`](FakeGusto::fail_next): an HTML page, a
//!   429, a body cut short or Gusto's error JSON, answered before the
//!   token is even checked), a **call log** ([`calls`](FakeGusto::calls):
//!   method, path, query, version header, bearer token and status; not
//!   the bodies) and seeding and inspection helpers.
//!
//! Amounts and hours are kept as the strings sent, so they stay exact.
//!
//! # Not modelled
//!
//! - **Sign-in:** the authorisation-code grant (use
//!   [`grant`](FakeGusto::grant)), system access tokens, token
//!   revocation; **scopes** are not checked (every token may do
//!   everything: Gusto needs `employees:read` for a prepare to list
//!   compensations and `compensations:read` for job rates).
//! - **Companies:** one company only; no company, location or department
//!   endpoints.
//! - **Payroll life cycle:** no `…/calculate`, `…/submit` or `…/cancel`
//!   endpoints (calculating, processing and reopening are helpers), and a
//!   calculation is instant (Gusto calculates asynchronously: `202`, then
//!   poll). `totals` are only the sums of the seeded `gross_pay`,
//!   `net_pay` and `check_amount`; nothing is computed from rates and
//!   hours (no taxes, benefits, deductions, garnishments or
//!   reimbursements), and compensation amounts are whatever was seeded.
//!   A prepare neither adds nor removes eligible employees and does not
//!   move `check_date`, `payroll_deadline` or `payroll_status_meta`;
//!   off-cycle payroll creation, submission blockers, credit blockers and
//!   the payroll deadline (an unprocessed payroll never becomes late) are
//!   absent.
//! - **Versions:** only employee compensations are versioned; which
//!   versions a real prepare changes is not documented (the fake changes
//!   the prepared employees'); employees and pay schedules carry a
//!   `version` that nothing checks.
//! - **Update details:** only hourly compensations are written; fixed
//!   compensations, paid time off, deductions, memos and `excluded` in an
//!   update are ignored without an error, and an hourly compensation name
//!   the employee does not have is added rather than refused.
//! - **Parameters ignored:** `include` (no benefits, deductions, taxes or
//!   status meta), `sort_by`, the employees' `terminated`, `onboarded` and
//!   `search_term` filters; seeded records are served as given, not
//!   checked against Gusto's schemas.
//! - **Writes elsewhere:** no employee, job, compensation, pay schedule or
//!   time-off writes; no contractors; no webhooks; no `Idempotency-Key`.
//! - **Limits and transport:** the rate window is a fixed minute opened
//!   by a token's first call (Gusto does not document its algorithm); the
//!   token endpoint is not limited; no TLS, compression or HTTP/2; API
//!   versions are not acted on (the `X-Gusto-API-Version` header is only
//!   logged in [`calls`](FakeGusto::calls)); 403 and 5xx answers come
//!   only from [`fail_next`](FakeGusto::fail_next).
//!
//! # Example
//!
//! ```
//! use odoo_integration_fakes::gusto::FakeGusto;
//! use serde_json::json;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let gusto = FakeGusto::start().await?;
//! let ann = gusto.add_employee(json!({"first_name": "Ann", "last_name": "Lee"}));
//! let run = gusto.add_payroll(json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}, "check_date": "2025-06-20"}));
//! gusto.add_compensation(&run, json!({"employee_uuid": ann, "hourly_compensations": [{"name": "Regular Hours", "hours": "0.000"}]}));
//! assert_eq!(gusto.regular_hours(&run, &ann).as_deref(), Some("0.000"));
//! # Ok(()) }
//! ```

mod payrolls;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The API version the fake answers as.
const VERSION: &str = "2025-06-15";

/// A fault to answer instead of the next API calls (the token endpoint
/// is faulted only by [`FakeGusto::lose_token_replies`]).
///
/// # Example
///
/// ```
/// use odoo_integration_fakes::gusto::Fault;
/// let f = Fault::TooManyRequests { retry_after_secs: 7 };
/// assert_ne!(f, Fault::TruncatedBody);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// An HTML error page with this status, as a proxy or a maintenance
    /// window sends (502, 503).
    HtmlPage(u16),
    /// 429 with `Retry-After`.
    TooManyRequests {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
    /// 200 with a JSON body cut short.
    TruncatedBody,
    /// Gusto's error JSON (`{"errors": [{error_key, category, message}]}`)
    /// with this status.
    Error {
        /// The HTTP status.
        status: u16,
        /// The error `category`, e.g. `invalid_attribute_value`.
        category: String,
        /// The error `message`.
        message: String,
    },
}

/// One API call as the fake saw it.
///
/// # Example
///
/// ```
/// # use odoo_integration_fakes::gusto::FakeGusto;
/// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
/// # use odoo_integration_connectors::Source;
/// # use odoo_integration_model::Employee;
/// # use std::sync::Arc;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let g = FakeGusto::start().await?;
/// # g.allow_client("client-id", "client-secret");
/// # let pair = g.grant();
/// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
/// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
/// #     .base_url(g.url())
/// #     .build()?;
/// Source::<Employee>::read(&gusto, None, 10).await?;
/// let calls = g.calls();
/// assert!(!calls.is_empty());
/// for call in calls {
///     assert_eq!(call.api_version.as_deref(), Some("2025-06-15"));
///     assert_eq!(call.status, 200);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Call {
    /// `GET`, `PUT`…
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query, `""` if none.
    pub query: String,
    /// The `X-Gusto-API-Version` header, if sent.
    pub api_version: Option<String>,
    /// The bearer token, if sent (this is a fake: tests may look).
    pub access_token: Option<String>,
    /// The status answered.
    pub status: u16,
}

/// A token pair the fake issued.
///
/// # Example
///
/// ```
/// # use odoo_integration_fakes::gusto::FakeGusto;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let g = FakeGusto::start().await?;
/// let pair = g.grant();
/// assert_ne!(pair.access_token, pair.refresh_token);
/// assert_ne!(g.grant().refresh_token, pair.refresh_token); // a new pair each time
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedTokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token (single use).
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: DateTime<Utc>,
}

#[derive(Default)]
struct Company {
    uuid: String,
    clients: HashMap<String, String>,
    access: HashMap<String, DateTime<Utc>>,
    refresh: HashSet<String>,
    token_lifetime: i64,
    token_delay: Duration,
    /// Token requests whose reply is lost after the pair is rotated.
    lose_token_replies: usize,
    refreshes: usize,
    presented: Vec<String>,
    invalid_grants: usize,
    calls: Vec<Call>,
    faults: VecDeque<Fault>,
    rate_limit: u32,
    windows: HashMap<String, (Instant, u32)>,
    employees: Vec<Value>,
    pay_schedules: Vec<Value>,
    payrolls: Vec<Value>,
    time_off: Vec<Value>,
    next: u64,
    edits: HashMap<String, VecDeque<Vec<(String, String)>>>,
    /// Payrolls reopened (cancelled and calculated again) right before
    /// their next `GET`.
    reopen: HashSet<String>,
}

struct Shared {
    company: Mutex<Company>,
}

impl Shared {
    fn company(&self) -> MutexGuard<'_, Company> {
        crate::lock(&self.company)
    }
}

/// An in-memory Gusto company on loopback. See the [module docs](self).
/// Dropping it stops the server.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let g = odoo_integration_fakes::gusto::FakeGusto::start().await?;
/// assert!(g.url().starts_with("http://127.0.0.1:"));
/// # Ok(()) }
/// ```
pub struct FakeGusto {
    served: crate::Served,
    shared: Arc<Shared>,
}

impl fmt::Debug for FakeGusto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeGusto")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl Company {
    fn new_id(&mut self, kind: &str) -> String {
        self.next += 1;
        let n = self.next;
        let tag = match kind {
            "employee" => 0xe,
            "payroll" => 0xa,
            "schedule" => 0x5,
            "time_off" => 0x7,
            _ => 0xf,
        };
        format!("{tag:08x}-0000-4000-8000-{n:012x}")
    }

    fn new_version(&mut self) -> String {
        self.next += 1;
        format!("{:032x}", self.next.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn issue(&mut self) -> IssuedTokens {
        self.next += 1;
        let n = self.next;
        let stamp = Utc::now().timestamp_micros();
        let access = format!("fake-access-{n}-{stamp:x}");
        let refresh = format!("fake-refresh-{n}-{stamp:x}");
        // A lifetime past chrono's range (a test may set one to see how
        // the connector copes with it) expires at the end of time.
        let now = Utc::now();
        let expires_at = TimeDelta::try_seconds(self.token_lifetime)
            .and_then(|lifetime| now.checked_add_signed(lifetime))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        self.access.insert(access.clone(), expires_at);
        self.refresh.insert(refresh.clone());
        IssuedTokens {
            access_token: access,
            refresh_token: refresh,
            expires_at,
        }
    }

    fn payroll_mut(&mut self, uuid: &str) -> Option<&mut Value> {
        self.payrolls.iter_mut().find(|p| p["uuid"] == uuid)
    }

    fn bump(&mut self, payroll: &str, employee: Option<&str>) -> bool {
        let n = self
            .payroll_mut(payroll)
            .and_then(|p| p["employee_compensations"].as_array().map(Vec::len))
            .unwrap_or(0);
        let versions: Vec<String> = (0..n).map(|_| self.new_version()).collect();
        let Some(comps) = self
            .payroll_mut(payroll)
            .and_then(|p| p["employee_compensations"].as_array_mut())
        else {
            return false;
        };
        for (c, v) in comps.iter_mut().zip(versions) {
            if employee.is_none_or(|e| c["employee_uuid"] == e) {
                c["version"] = json!(v);
            }
        }
        true
    }

    /// Sets an employee's `Regular Hours` and bumps the versions.
    fn set_hours(&mut self, payroll: &str, employee: &str, hours: &str) -> bool {
        let Some(comps) = self
            .payroll_mut(payroll)
            .and_then(|p| p["employee_compensations"].as_array_mut())
        else {
            return false;
        };
        let Some(comp) = comps.iter_mut().find(|c| c["employee_uuid"] == employee) else {
            return false;
        };
        let Some(hourly) = comp["hourly_compensations"].as_array_mut() else {
            return false;
        };
        let Some(regular) = hourly.iter_mut().find(|h| h["name"] == "Regular Hours") else {
            return false;
        };
        regular["hours"] = json!(hours);
        self.bump(payroll, Some(employee))
    }
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

fn period(v: &Value, key: &str) -> Option<NaiveDate> {
    v.get("pay_period")
        .and_then(|p| p.get(key))
        .and_then(Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
}

impl FakeGusto {
    /// Starts an empty company on `127.0.0.1` (a free port): tokens last
    /// two hours, 200 calls a minute per token.
    ///
    /// # Errors
    ///
    /// The port cannot be bound.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let g = odoo_integration_fakes::gusto::FakeGusto::start().await?;
    /// assert!(g.calls().is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn start() -> std::io::Result<FakeGusto> {
        FakeGusto::start_on(crate::LOOPBACK).await
    }

    /// Starts the same on `addr`: a fixed port, say, for a fake you point a
    /// tool at by hand (port 0 picks a free one).
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
    /// use odoo_integration_fakes::gusto::FakeGusto;
    /// let gusto = FakeGusto::start_on("127.0.0.1:0".parse()?).await?;
    /// assert!(gusto.url().starts_with("http://127.0.0.1:"));
    /// // A port in use is an error, not a panic.
    /// let port = gusto.url().rsplit(':').next().unwrap_or_default().to_owned();
    /// assert!(FakeGusto::start_on(format!("127.0.0.1:{port}").parse()?).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn start_on(addr: std::net::SocketAddr) -> std::io::Result<FakeGusto> {
        let (listener, addr) = crate::bind(addr).await?;
        let shared = Arc::new(Shared {
            company: Mutex::new(Company {
                uuid: "c0000000-0000-4000-8000-00000000c0de".into(),
                token_lifetime: 7200,
                rate_limit: 200,
                ..Company::default()
            }),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        Ok(FakeGusto {
            served: crate::Served::new(listener, addr, app),
            shared,
        })
    }

    /// The base URL (API and token endpoint).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let base = g.url(); // the API and the token endpoint
    /// assert!(base.starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.served.addr())
    }

    /// The company's uuid.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let company = g.company_uuid();
    /// assert!(!company.is_empty());
    /// assert_eq!(company, g.company_uuid()); // one company, one uuid
    /// # Ok(()) }
    /// ```
    pub fn company_uuid(&self) -> String {
        self.shared.company().uuid.clone()
    }

    /// Accepts refreshes from this app.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// let g = FakeGusto::start().await?;
    /// g.allow_client("client-id", "client-secret");
    /// // An expired pair: the connector refreshes it first.
    /// let pair = g.grant();
    /// let tokens = Tokens::new(pair.access_token, pair.refresh_token, chrono::DateTime::UNIX_EPOCH);
    /// let store = Arc::new(MemoryTokenStore::new(tokens));
    /// let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    ///     .base_url(g.url())
    ///     .build()?;
    /// Source::<Employee>::read(&gusto, None, 10).await?;
    /// assert_eq!(g.refreshes(), 1);
    /// assert_eq!(store.saves(), 1); // the new pair, saved
    /// # Ok(()) }
    /// ```
    pub fn allow_client(&self, client_id: &str, client_secret: &str) {
        self.shared
            .company()
            .clients
            .insert(client_id.to_owned(), client_secret.to_owned());
    }

    /// Issues a token pair, as an authorisation would.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let pair = g.grant();
    /// assert!(pair.expires_at > chrono::Utc::now());
    /// assert!(pair.expires_at <= chrono::Utc::now() + chrono::TimeDelta::hours(2));
    /// # Ok(()) }
    /// ```
    pub fn grant(&self) -> IssuedTokens {
        self.shared.company().issue()
    }

    /// How long new access tokens last, as the token endpoint's
    /// `expires_in` says. Default: 7,200 s. A lifetime past `i64::MAX`
    /// seconds is answered as `i64::MAX`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// g.set_token_lifetime(std::time::Duration::from_secs(60));
    /// let pair = g.grant();
    /// assert!(pair.expires_at <= chrono::Utc::now() + chrono::TimeDelta::seconds(60));
    /// # Ok(()) }
    /// ```
    pub fn set_token_lifetime(&self, lifetime: Duration) {
        self.shared.company().token_lifetime =
            i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
    }

    /// Makes the token endpoint take this long to answer, so concurrent
    /// refreshes would overlap. Default: none.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// g.set_token_delay(std::time::Duration::from_millis(50));
    /// g.expire_access_tokens();
    /// let start = std::time::Instant::now();
    /// Source::<Employee>::read(&gusto, None, 10).await?; // 401, then a refresh
    /// assert!(start.elapsed() >= std::time::Duration::from_millis(50));
    /// # Ok(()) }
    /// ```
    pub fn set_token_delay(&self, delay: Duration) {
        self.shared.company().token_delay = delay;
    }

    /// Loses the reply of the next `times` token requests: each is handled
    /// (a refresh rotates the pair: the refresh token sent is revoked, a new
    /// pair issued) and then answered with a gateway's 502 page, as when a
    /// proxy times out. The new pair never reaches the caller.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::{ConnectorErrorKind, Source};
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the pair `g` granted.
    /// g.expire_access_tokens();
    /// g.lose_token_replies(1);
    /// let lost = Source::<Employee>::read(&gusto, None, 10).await.unwrap_err();
    /// assert!(lost.is_retryable()); // the reply was lost: try again...
    /// let revoked = Source::<Employee>::read(&gusto, None, 10).await.unwrap_err();
    /// // ...but the pair was rotated: the held refresh token is revoked.
    /// assert_eq!(revoked.kind(), ConnectorErrorKind::ReauthorizationNeeded);
    /// # Ok(()) }
    /// ```
    pub fn lose_token_replies(&self, times: usize) {
        self.shared.company().lose_token_replies = times;
    }

    /// Expires every access token issued so far: the API answers 401 to
    /// them.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// Source::<Employee>::read(&gusto, None, 10).await?;
    /// g.expire_access_tokens();
    /// // Answered 401, the connector refreshes once and retries.
    /// Source::<Employee>::read(&gusto, None, 10).await?;
    /// assert_eq!(g.refreshes(), 1);
    /// assert!(g.calls().iter().any(|c| c.status == 401));
    /// # Ok(()) }
    /// ```
    pub fn expire_access_tokens(&self) {
        let past = Utc::now() - TimeDelta::seconds(1);
        for expiry in self.shared.company().access.values_mut() {
            *expiry = past;
        }
    }

    /// How many refreshes succeeded.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// assert_eq!(g.refreshes(), 0);
    /// g.expire_access_tokens();
    /// Source::<Employee>::read(&gusto, None, 10).await?;
    /// assert_eq!(g.refreshes(), 1);
    /// # Ok(()) }
    /// ```
    pub fn refreshes(&self) -> usize {
        self.shared.company().refreshes
    }

    /// How many refreshes were refused with `invalid_grant` (a reused or
    /// unknown refresh token).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// assert_eq!(g.invalid_grants(), 0);
    /// g.expire_access_tokens();
    /// Source::<Employee>::read(&gusto, None, 10).await?;
    /// // A stale copy of the store presents the spent refresh token again.
    /// let stale = Arc::new(MemoryTokenStore::new(Tokens::new("old", pair.refresh_token, chrono::DateTime::UNIX_EPOCH)));
    /// let other = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), stale)
    ///     .base_url(g.url())
    ///     .build()?;
    /// assert!(Source::<Employee>::read(&other, None, 10).await.is_err());
    /// assert_eq!(g.invalid_grants(), 1);
    /// # Ok(()) }
    /// ```
    pub fn invalid_grants(&self) -> usize {
        self.shared.company().invalid_grants
    }

    /// Every refresh token presented to the token endpoint, in order.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// assert!(g.refresh_tokens_presented().is_empty());
    /// g.expire_access_tokens();
    /// Source::<Employee>::read(&gusto, None, 10).await?;
    /// assert_eq!(g.refresh_tokens_presented(), vec![pair.refresh_token]);
    /// # Ok(()) }
    /// ```
    pub fn refresh_tokens_presented(&self) -> Vec<String> {
        self.shared.company().presented.clone()
    }

    /// Calls allowed per access token per minute. Default: 200.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// g.set_rate_limit(1);
    /// Source::<Employee>::read(&gusto, None, 10).await?; // the minute's one call
    /// let e = Source::<Employee>::read(&gusto, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    /// assert!(e.retry_after().is_some());
    /// # Ok(()) }
    /// ```
    pub fn set_rate_limit(&self, per_minute: u32) {
        self.shared.company().rate_limit = per_minute;
    }

    /// Answers the next `times` API calls with `fault`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// use odoo_integration_fakes::gusto::Fault;
    /// g.fail_next(Fault::HtmlPage(503), 1);
    /// let e = Source::<Employee>::read(&gusto, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    /// assert!(Source::<Employee>::read(&gusto, None, 10).await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn fail_next(&self, fault: Fault, times: usize) {
        let mut c = self.shared.company();
        for _ in 0..times {
            c.faults.push_back(fault.clone());
        }
    }

    /// Every API call so far (token requests aside), faults included.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// Source::<Employee>::read(&gusto, None, 10).await?;
    /// assert!(g.calls().iter().all(|c| c.method == "GET"));
    /// assert!(g.calls().iter().any(|c| c.path.ends_with("/employees")));
    /// # Ok(()) }
    /// ```
    pub fn calls(&self) -> Vec<Call> {
        self.shared.company().calls.clone()
    }

    /// Adds an employee (`first_name`, `last_name`, `jobs`…; `uuid`,
    /// `version`, `company_uuid`, `terminated`, `jobs` and `terminations`
    /// filled in when absent): its uuid.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let id = g.add_employee(serde_json::json!({"first_name": "Bo", "last_name": "Lind"}));
    /// let bo = g.employee(&id).unwrap();
    /// assert_eq!(bo["first_name"], "Bo");
    /// assert_eq!(bo["terminated"], false); // filled in
    /// # Ok(()) }
    /// ```
    pub fn add_employee(&self, fields: Value) -> String {
        let mut c = self.shared.company();
        let uuid = c.new_id("employee");
        let version = c.new_version();
        let mut e = fields.as_object().cloned().unwrap_or_default();
        e.entry("uuid").or_insert_with(|| json!(uuid));
        let uuid = text(&Value::Object(e.clone()), "uuid");
        e.insert("version".into(), json!(version));
        e.insert("company_uuid".into(), json!(c.uuid));
        e.entry("terminated").or_insert(json!(false));
        e.entry("jobs").or_insert(json!([]));
        e.entry("terminations").or_insert(json!([]));
        e.entry("employee_code")
            .or_insert_with(|| json!(format!("{:06x}", c.next)));
        c.employees.push(Value::Object(e));
        uuid
    }

    /// An employee, `None` if unknown.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let id = g.add_employee(serde_json::json!({"first_name": "Bo", "last_name": "Lind"}));
    /// assert_eq!(g.employee(&id).unwrap()["uuid"], id.as_str());
    /// assert!(g.employee("nobody").is_none());
    /// # Ok(()) }
    /// ```
    pub fn employee(&self, uuid: &str) -> Option<Value> {
        self.shared
            .company()
            .employees
            .iter()
            .find(|e| e["uuid"] == uuid)
            .cloned()
    }

    /// Adds a pay schedule (`frequency`, `name`…): its uuid.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = std::sync::Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store)
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// let id = g.add_pay_schedule(serde_json::json!({"frequency": "Every other week", "name": "Staff"}));
    /// let schedules = gusto.pay_schedules().await?;
    /// assert_eq!(schedules.len(), 1);
    /// assert_eq!((schedules[0].uuid.as_str(), schedules[0].frequency.as_str()), (id.as_str(), "Every other week"));
    /// # Ok(()) }
    /// ```
    pub fn add_pay_schedule(&self, fields: Value) -> String {
        let mut c = self.shared.company();
        let uuid = c.new_id("schedule");
        let version = c.new_version();
        let mut s = fields.as_object().cloned().unwrap_or_default();
        s.insert("uuid".into(), json!(uuid));
        s.insert("version".into(), json!(version));
        c.pay_schedules.push(Value::Object(s));
        uuid
    }

    /// Adds a payroll (`pay_period: {start_date, end_date}`,
    /// `check_date`, `processed` (default `false`), `off_cycle`): its
    /// uuid. Add its employees with
    /// [`add_compensation`](Self::add_compensation).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let id = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}, "check_date": "2025-06-20"}));
    /// assert_eq!(g.payroll(&id).unwrap()["processed"], false);
    /// assert!(g.process_payroll(&id));
    /// assert_eq!(g.payroll(&id).unwrap()["processed"], true);
    /// # Ok(()) }
    /// ```
    pub fn add_payroll(&self, fields: Value) -> String {
        let mut c = self.shared.company();
        let uuid = c.new_id("payroll");
        let mut p = fields.as_object().cloned().unwrap_or_default();
        p.insert("uuid".into(), json!(uuid));
        p.insert("payroll_uuid".into(), json!(uuid));
        p.insert("company_uuid".into(), json!(c.uuid));
        p.entry("processed").or_insert(json!(false));
        p.entry("off_cycle").or_insert(json!(false));
        p.entry("external").or_insert(json!(false));
        p.entry("processed_date").or_insert(Value::Null);
        let calculated = if p["processed"] == true {
            json!(payrolls::timestamp())
        } else {
            Value::Null
        };
        p.entry("calculated_at").or_insert(calculated);
        p.insert("totals".into(), Value::Null);
        p.insert("employee_compensations".into(), json!([]));
        c.payrolls.push(Value::Object(p));
        uuid
    }

    /// Adds an employee compensation to a payroll (`employee_uuid`,
    /// `gross_pay`, `net_pay`, `hourly_compensations: [{name, hours,
    /// job_uuid}]`…; `version` and empty lists filled in): whether the
    /// payroll exists.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// assert!(g.add_compensation(&run, serde_json::json!({"employee_uuid": "e1", "gross_pay": "1000.00"})));
    /// assert!(g.compensation_version(&run, "e1").is_some());
    /// assert!(!g.add_compensation("no-such-payroll", serde_json::json!({"employee_uuid": "e1"})));
    /// # Ok(()) }
    /// ```
    pub fn add_compensation(&self, payroll: &str, fields: Value) -> bool {
        let mut c = self.shared.company();
        let version = c.new_version();
        let mut comp = fields.as_object().cloned().unwrap_or_default();
        comp.insert("version".into(), json!(version));
        comp.entry("excluded").or_insert(json!(false));
        comp.entry("payment_method")
            .or_insert(json!("Direct Deposit"));
        for list in [
            "fixed_compensations",
            "hourly_compensations",
            "paid_time_off",
            "benefits",
            "deductions",
            "reimbursements",
        ] {
            comp.entry(list).or_insert(json!([]));
        }
        let Some(list) = c
            .payroll_mut(payroll)
            .and_then(|p| p["employee_compensations"].as_array_mut())
        else {
            return false;
        };
        list.push(Value::Object(comp));
        true
    }

    /// A payroll with its employee compensations, `None` if unknown.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// g.add_compensation(&run, serde_json::json!({"employee_uuid": "e1", "gross_pay": "1000.00"}));
    /// assert_eq!(g.payroll(&run).unwrap()["employee_compensations"][0]["gross_pay"], "1000.00");
    /// assert!(g.payroll("none").is_none());
    /// # Ok(()) }
    /// ```
    pub fn payroll(&self, uuid: &str) -> Option<Value> {
        self.shared
            .company()
            .payrolls
            .iter()
            .find(|p| p["uuid"] == uuid)
            .cloned()
    }

    /// An employee's `Regular Hours` on a payroll, as stored.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// g.add_compensation(&run, serde_json::json!({"employee_uuid": "e1",
    ///     "hourly_compensations": [{"name": "Regular Hours", "hours": "40.000"}]}));
    /// assert_eq!(g.regular_hours(&run, "e1").as_deref(), Some("40.000"));
    /// assert!(g.regular_hours(&run, "nobody").is_none());
    /// # Ok(()) }
    /// ```
    pub fn regular_hours(&self, payroll: &str, employee: &str) -> Option<String> {
        let p = self.payroll(payroll)?;
        let comp = p["employee_compensations"]
            .as_array()?
            .iter()
            .find(|c| c["employee_uuid"] == employee)?
            .clone();
        comp["hourly_compensations"]
            .as_array()?
            .iter()
            .find(|h| h["name"] == "Regular Hours")
            .map(|h| text(h, "hours"))
    }

    /// An employee compensation's current `version`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// g.add_compensation(&run, serde_json::json!({"employee_uuid": "e1",
    ///     "hourly_compensations": [{"name": "Regular Hours", "hours": "40.000"}]}));
    /// let v1 = g.compensation_version(&run, "e1").unwrap();
    /// assert!(g.set_regular_hours(&run, "e1", "38.000"));
    /// assert_ne!(g.compensation_version(&run, "e1").unwrap(), v1);
    /// assert!(g.compensation_version(&run, "nobody").is_none());
    /// # Ok(()) }
    /// ```
    pub fn compensation_version(&self, payroll: &str, employee: &str) -> Option<String> {
        let p = self.payroll(payroll)?;
        p["employee_compensations"]
            .as_array()?
            .iter()
            .find(|c| c["employee_uuid"] == employee)
            .map(|c| text(c, "version"))
    }

    /// Marks a payroll processed (it then refuses updates): whether it
    /// exists.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// assert!(g.process_payroll(&run));
    /// assert_eq!(g.payroll(&run).unwrap()["processed"], true);
    /// assert!(!g.process_payroll("none"));
    /// # Ok(()) }
    /// ```
    pub fn process_payroll(&self, uuid: &str) -> bool {
        let mut c = self.shared.company();
        let today = Utc::now().date_naive().to_string();
        let Some(p) = c.payroll_mut(uuid) else {
            return false;
        };
        p["processed"] = json!(true);
        p["processed_date"] = json!(today);
        if p["calculated_at"].is_null() {
            p["calculated_at"] = json!(payrolls::timestamp());
        }
        true
    }

    /// Calculates a payroll, as `PUT …/payrolls/{id}/calculate` and a
    /// moment's wait would: `calculated_at` is set and `totals` (the sums
    /// of the compensations' seeded `gross_pay`, `net_pay` and
    /// `check_amount`) appear. A `prepare` or an update drops the
    /// calculation again. Whether the payroll exists.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// assert!(!g.is_calculated(&run));
    /// assert!(g.calculate_payroll(&run));
    /// assert!(g.is_calculated(&run));
    /// assert!(!g.calculate_payroll("none"));
    /// # Ok(()) }
    /// ```
    pub fn calculate_payroll(&self, uuid: &str) -> bool {
        let mut c = self.shared.company();
        let Some(p) = c.payroll_mut(uuid) else {
            return false;
        };
        p["calculated_at"] = json!(payrolls::timestamp());
        true
    }

    /// Whether a payroll holds a valid calculation (`calculated_at` is
    /// set): `false` for an unknown payroll.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}, "processed": true}));
    /// assert!(g.is_calculated(&run), "a processed payroll is calculated");
    /// assert!(!g.is_calculated("none"));
    /// # Ok(()) }
    /// ```
    pub fn is_calculated(&self, uuid: &str) -> bool {
        self.shared
            .company()
            .payrolls
            .iter()
            .find(|p| p["uuid"] == uuid)
            .is_some_and(payrolls::is_calculated)
    }

    /// Changes every compensation version of a payroll, as an edit by
    /// someone else would: a `PUT` with the old versions gets 409.
    /// Whether the payroll exists.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// g.add_compensation(&run, serde_json::json!({"employee_uuid": "e1",
    ///     "hourly_compensations": [{"name": "Regular Hours", "hours": "40.000"}]}));
    /// let v1 = g.compensation_version(&run, "e1").unwrap();
    /// assert!(g.bump_versions(&run));
    /// assert_ne!(g.compensation_version(&run, "e1").unwrap(), v1);
    /// assert_eq!(g.regular_hours(&run, "e1").as_deref(), Some("40.000")); // only the version
    /// assert!(!g.bump_versions("none"));
    /// # Ok(()) }
    /// ```
    pub fn bump_versions(&self, payroll: &str) -> bool {
        self.shared.company().bump(payroll, None)
    }

    /// Sets an employee's `Regular Hours` as someone editing in Gusto
    /// would (the version changes): whether it was found.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// g.add_compensation(&run, serde_json::json!({"employee_uuid": "e1",
    ///     "hourly_compensations": [{"name": "Regular Hours", "hours": "40.000"}]}));
    /// assert!(g.set_regular_hours(&run, "e1", "8.000"));
    /// assert_eq!(g.regular_hours(&run, "e1").as_deref(), Some("8.000"));
    /// assert!(!g.set_regular_hours(&run, "nobody", "8.000"));
    /// # Ok(()) }
    /// ```
    pub fn set_regular_hours(&self, payroll: &str, employee: &str, hours: &str) -> bool {
        self.shared.company().set_hours(payroll, employee, hours)
    }

    /// Scripts a concurrent edit: right before the next `PUT` to
    /// `payroll` is checked, the `Regular Hours` in `edits` (employee
    /// uuid, hours) are set and every compensation version of the payroll
    /// changes, so that `PUT` gets 409. Call it again to script the `PUT`
    /// after that one too.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// # use odoo_integration_connectors::{ConnectorErrorKind, Operation, Outcome, Sink, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, PayStatement, RemoteId, SystemId};
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}}));
    /// g.add_compensation(&run, serde_json::json!({"employee_uuid": "e1",
    ///     "hourly_compensations": [{"name": "Regular Hours", "hours": "40.000"}]}));
    /// g.edit_before_next_put(&run, &[("e1", "12.000")]);
    /// g.edit_before_next_put(&run, &[]); // and a version bump before the retry
    /// // Each PUT now meets a newer version: the write is a conflict.
    /// # let (run_id, e1_id) = (CanonicalId::new(), CanonicalId::new());
    /// # let hours = PayStatement { run: Some(run_id), employee: Some(e1_id), hours: Some(rust_decimal::Decimal::from(38)), ..Default::default() };
    /// # let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("1"), Operation::Upsert(hours))
    /// #     .with_link(run_id, RemoteId::new(&run))
    /// #     .with_link(e1_id, RemoteId::new("e1"))
    /// #     .only(["hours"]);
    /// let outcomes = gusto.apply(vec![record]).await?;
    /// assert!(matches!(&outcomes[0], Outcome::Failed(e) if e.kind() == ConnectorErrorKind::Conflict));
    /// assert_eq!(g.regular_hours(&run, "e1").as_deref(), Some("12.000"));
    /// # Ok(()) }
    /// ```
    pub fn edit_before_next_put(&self, payroll: &str, edits: &[(&str, &str)]) {
        self.shared
            .company()
            .edits
            .entry(payroll.to_owned())
            .or_default()
            .push_back(
                edits
                    .iter()
                    .map(|(e, h)| ((*e).to_owned(), (*h).to_owned()))
                    .collect(),
            );
    }

    /// Scripts a payroll reopened under a reader: right before the next
    /// `GET …/payrolls/{id}` arrives, the payroll is cancelled back to
    /// unprocessed (as Gusto's `PUT …/payrolls/{id}/cancel` does) and
    /// calculated again, so that `GET` shows a calculated, unprocessed
    /// payroll (hours, but no `gross_pay` or `net_pay`) that a list made
    /// just before showed as processed.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// let run = g.add_payroll(serde_json::json!({"pay_period": {"start_date": "2025-06-01", "end_date": "2025-06-15"}, "processed": true}));
    /// g.reopen_before_next_get(&run);
    /// assert_eq!(g.payroll(&run).unwrap()["processed"], true, "not before that GET");
    /// # Ok(()) }
    /// ```
    pub fn reopen_before_next_get(&self, payroll: &str) {
        self.shared.company().reopen.insert(payroll.to_owned());
    }

    /// Adds a time-off request (`status`, `policy_type`, `days: {date:
    /// hours}`, `employee: {uuid, full_name}`…): its uuid.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::gusto::FakeGusto;
    /// # use odoo_integration_connectors::gusto::{AppCredentials, GustoConnector, MemoryTokenStore, Tokens};
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::Employee;
    /// # use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let g = FakeGusto::start().await?;
    /// # g.allow_client("client-id", "client-secret");
    /// # let pair = g.grant();
    /// # let store = Arc::new(MemoryTokenStore::new(Tokens::new(pair.access_token, pair.refresh_token.clone(), pair.expires_at)));
    /// # let gusto = GustoConnector::builder(g.company_uuid(), AppCredentials::new("client-id", "client-secret"), store.clone())
    /// #     .base_url(g.url())
    /// #     .build()?;
    /// // `gusto`: a GustoConnector on `g`, holding the `pair` `g` granted.
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_model::{ApprovalState, TimeOff};
    /// # let day = chrono::Utc::now().date_naive().to_string();
    /// g.add_time_off(serde_json::json!({"status": "approved", "policy_type": "vacation",
    ///     "days": {day: "8.000"}, "employee": {"uuid": "e1", "full_name": "Ann Lee"}}));
    /// let (requests, _) = read_to_end::<TimeOff>(&gusto, None, 10).await?;
    /// let odoo_integration_connectors::Operation::Upsert(leave) = &requests[0].operation else { panic!("a delete") };
    /// assert_eq!(leave.approval, ApprovalState::Approved);
    /// assert_eq!(leave.hours, Some(rust_decimal::Decimal::from(8)));
    /// # Ok(()) }
    /// ```
    pub fn add_time_off(&self, fields: Value) -> String {
        let mut c = self.shared.company();
        let uuid = c.new_id("time_off");
        let mut t = fields.as_object().cloned().unwrap_or_default();
        t.insert("uuid".into(), json!(uuid));
        c.time_off.push(Value::Object(t));
        uuid
    }
}

// ---------------------------------------------------------------- serving

fn respond(status: u16, body: String, content_type: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, [("content-type", content_type.to_owned())], body).into_response()
}

fn json_answer(status: u16, body: &Value) -> Response {
    respond(status, body.to_string(), "application/json; charset=utf-8")
}

fn errors(status: u16, key: &str, category: &str, message: &str) -> Response {
    json_answer(
        status,
        &json!({"errors": [{"error_key": key, "category": category, "message": message}]}),
    )
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'+', _, _) => out.push(b' '),
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 2;
            }
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

/// A page of `items` by `page`/`per` (all of them without `page`), with
/// Gusto's paging headers.
fn paged(
    items: Vec<Value>,
    query: &HashMap<String, String>,
) -> (Vec<Value>, Vec<(String, String)>) {
    let total = items.len();
    let Some(page) = query.get("page").and_then(|p| p.parse::<usize>().ok()) else {
        return (items, vec![("x-total-count".into(), total.to_string())]);
    };
    let per = query
        .get("per")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 100);
    let page = page.max(1);
    let slice: Vec<Value> = items.into_iter().skip((page - 1) * per).take(per).collect();
    let headers = vec![
        ("x-page".into(), page.to_string()),
        ("x-per-page".into(), per.to_string()),
        ("x-total-count".into(), total.to_string()),
        ("x-total-pages".into(), total.div_ceil(per).to_string()),
    ];
    (slice, headers)
}

fn with_headers(mut response: Response, headers: Vec<(String, String)>) -> Response {
    for (k, v) in headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(k.as_bytes()),
            axum::http::HeaderValue::from_str(&v),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    if path == "/oauth/token" && method == Method::POST {
        let delay = shared.company().token_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let answer = token(&shared, &headers, &body);
        let mut c = shared.company();
        if c.lose_token_replies > 0 {
            c.lose_token_replies -= 1;
            return respond(
                502,
                "<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"
                    .into(),
                "text/html",
            );
        }
        return answer;
    }
    let query_text = uri.query().unwrap_or("").to_owned();
    let query = form(&query_text);
    let api_version = headers
        .get("x-gusto-api-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::to_owned);
    let mut company = shared.company();
    let response = api(
        &mut company,
        &method,
        &path,
        &query,
        bearer.as_deref(),
        &body,
    );
    company.calls.push(Call {
        method: method.to_string(),
        path,
        query: query_text,
        api_version,
        access_token: bearer,
        status: response.status().as_u16(),
    });
    response
}

fn api(
    c: &mut Company,
    method: &Method,
    path: &str,
    query: &HashMap<String, String>,
    bearer: Option<&str>,
    body: &[u8],
) -> Response {
    if let Some(fault) = c.faults.pop_front() {
        return match fault {
            Fault::HtmlPage(status) => respond(
                status,
                format!("<html><head><title>{status}</title></head><body><h1>We'll be right back</h1></body></html>"),
                "text/html",
            ),
            Fault::TooManyRequests { retry_after_secs } => with_headers(
                errors(429, "base", "rate_limit_exceeded", "Too many requests"),
                vec![("retry-after".into(), retry_after_secs.to_string())],
            ),
            Fault::TruncatedBody => respond(
                200,
                r#"[{"uuid":"e0000000-0000-4000-8000-000000000001","first_name":"Ann","jobs":[{"ti"#.into(),
                "application/json",
            ),
            Fault::Error {
                status,
                category,
                message,
            } => errors(status, "base", &category, &message),
        };
    }
    let now = Utc::now();
    let Some(token) = bearer.filter(|t| c.access.get(*t).is_some_and(|exp| *exp > now)) else {
        return json_answer(
            401,
            &json!({"errors": [{"error_key": "base", "category": "invalid_token", "message": "The access token is invalid or has expired"}]}),
        );
    };
    // The per-token budget, in a window that opens with its first call.
    let limit = c.rate_limit;
    let window = c
        .windows
        .entry(token.to_owned())
        .or_insert((Instant::now(), 0));
    if window.0.elapsed() >= Duration::from_secs(60) {
        *window = (Instant::now(), 0);
    }
    window.1 += 1;
    if window.1 > limit {
        let left = Duration::from_secs(60).saturating_sub(window.0.elapsed());
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        return with_headers(
            errors(
                429,
                "base",
                "rate_limit_exceeded",
                "You have exceeded the rate limit of requests per minute",
            ),
            vec![("retry-after".into(), secs.max(1).to_string())],
        );
    }
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let not_found = || {
        errors(
            404,
            "request",
            "not_found",
            "The requested resource was not found.",
        )
    };
    let rest = match segs.as_slice() {
        ["v1", "companies", company, rest @ ..] if *company == c.uuid => rest.to_vec(),
        _ => return not_found(),
    };
    match (method.clone(), rest.as_slice()) {
        (Method::GET, ["employees"]) => {
            let (items, h) = paged(c.employees.clone(), query);
            with_headers(json_answer(200, &Value::Array(items)), h)
        }
        (Method::GET, ["pay_schedules"]) => {
            let (items, h) = paged(c.pay_schedules.clone(), query);
            with_headers(json_answer(200, &Value::Array(items)), h)
        }
        (Method::GET, ["payrolls"]) => payrolls::list_payrolls(c, query),
        (Method::GET, ["payrolls", id]) => payrolls::show(c, id, query),
        (Method::PUT, ["payrolls", id, "prepare"]) => payrolls::prepare(c, id, query, body),
        (Method::PUT, ["payrolls", id]) => payrolls::update(c, id, body),
        (Method::GET, ["time_off_requests"]) => {
            let start = query.get("start_date").cloned();
            let end = query.get("end_date").cloned();
            let items: Vec<Value> = c
                .time_off
                .iter()
                .filter(|t| {
                    let days: Vec<&String> = t["days"]
                        .as_object()
                        .map(|d| d.keys().collect())
                        .unwrap_or_default();
                    let first = days.iter().min().map(|d| d.as_str()).unwrap_or("");
                    let last = days.iter().max().map(|d| d.as_str()).unwrap_or("");
                    start.as_deref().is_none_or(|s| first >= s)
                        && end.as_deref().is_none_or(|e| last <= e)
                })
                .cloned()
                .collect();
            json_answer(200, &Value::Array(items))
        }
        _ => not_found(),
    }
}

fn token(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Response {
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let params: Map<String, Value> = if is_json {
        serde_json::from_slice(body).unwrap_or_default()
    } else {
        form(&String::from_utf8_lossy(body))
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect()
    };
    let get = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut c = shared.company();
    let refuse = |status: u16, error: &str, description: &str| {
        json_answer(
            status,
            &json!({"error": error, "error_description": description}),
        )
    };
    if c.clients.get(&get("client_id")) != Some(&get("client_secret")) {
        return refuse(401, "invalid_client", "Client authentication failed");
    }
    if get("grant_type") != "refresh_token" {
        return refuse(
            400,
            "unsupported_grant_type",
            "The grant type is not supported",
        );
    }
    let presented = get("refresh_token");
    c.presented.push(presented.clone());
    if !c.refresh.remove(&presented) {
        c.invalid_grants += 1;
        return refuse(
            400,
            "invalid_grant",
            "The provided authorization grant is invalid, expired, revoked, or was issued to another client",
        );
    }
    c.refreshes += 1;
    let issued = c.issue();
    json_answer(
        200,
        &json!({
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": c.token_lifetime,
            "refresh_token": issued.refresh_token,
            "scope": "employees:read payrolls:read payrolls:write time_off_requests:read",
            "created_at": Utc::now().timestamp(),
            "company_uuid": c.uuid,
            "api_version": VERSION,
        }),
    )
}
