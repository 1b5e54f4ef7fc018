//! A stateful in-memory fake of HubSpot's CRM API.
//!
//! [`FakeHubSpot`] listens on `127.0.0.1` on a free port and answers the
//! endpoints the `hubspot` connector uses, with HubSpot's request and
//! response shapes (`../shared/specs/hubspot/`):
//!
//! - CRM v3 objects, for any object type (`companies`, `contacts`,
//!   `deals`, `line_items`, custom ones; `company`, `0-2` and the other
//!   names HubSpot accepts mean the same object):
//!   `GET /crm/v3/objects/{object}` (paged by id with `after`, `limit` up
//!   to 100, `properties`, `archived`), `GET /crm/v3/objects/{object}/{id}`,
//!   `POST .../search`, and `POST .../batch/{read,create,update,upsert,archive}`.
//! - Line items from products: a line item created with `hs_product_id`
//!   naming a product takes the product's `name`, `price`, `hs_sku` and
//!   `description` where the input gives none, as HubSpot copies them.
//! - Associations v4: `POST /crm/v4/associations/{from}/{to}/batch/read`,
//!   `.../batch/associate/default` and `.../batch/archive`.
//! - Deal pipelines: `GET /crm/v3/pipelines/deals`, the default pipeline
//!   and those of [`FakeHubSpot::add_deal_pipeline`], each stage with
//!   `metadata.isClosed` and `metadata.probability` as text. A deal
//!   created without a `pipeline` goes in `default`; a deal write whose
//!   stage is not one of its pipeline's is refused (`INVALID_OPTION`).
//! - Owners: `GET /crm/v3/owners` (active owners, or with `archived=true`
//!   only the archived ones; `email` filters without case; `limit` up to
//!   500, default 100; paged with `after`) and
//!   `GET /crm/v3/owners/{ownerId}` (`idProperty=id|userId`; an archived
//!   owner only with `archived=true`, else 404), each owner HubSpot's
//!   `{id, email, type, firstName, lastName, userId,
//!   userIdIncludingInactive, createdAt, updatedAt, archived, teams}`
//!   (`userId` `null` once archived). Owners are added with
//!   [`FakeHubSpot::add_owner`] and archived with
//!   [`FakeHubSpot::archive_owner`]. Any object's `hubspot_owner_id` takes
//!   only an active owner's id: a write of another value (an unknown or
//!   archived owner, a user id) is refused (`INVALID_OPTION`), as HubSpot
//!   refuses a value that is not one of the property's options.
//!
//! Every request needs `Authorization: Bearer <token>` ([`FakeHubSpot::TOKEN`]
//! unless the builder says otherwise).
//!
//! # Records
//!
//! Ids are numeric strings, unique across all objects and increasing
//! (from 10001). Property values are text, as HubSpot's are; a write of
//! `""` or `null` clears a property, and a cleared property is absent. The
//! fake maintains `hs_object_id`, `createdate` and `hs_lastmodifieddate`
//! (`lastmodifieddate` instead on contacts, as HubSpot does: a contact
//! search by `hs_lastmodifieddate` finds nothing) as ISO 8601 UTC instants with
//! milliseconds (`2026-11-30T10:00:00.123Z`); writes to them are ignored.
//! A write that changes no value leaves the record, and its modification
//! time, as it was. Answers show the object's default properties, or the
//! ones asked for (unset ones as `null`), plus the three maintained ones;
//! batch writes answer the properties they were sent.
//!
//! # The clock
//!
//! Times come from a fake clock, not the wall: it starts at
//! [`FakeHubSpotBuilder::clock`] (default `2026-01-01T00:00:00.000Z`) and
//! each record written (created, changed or archived, through the API or
//! [`FakeHubSpot::insert`]) takes the clock's time, which then moves on by
//! the tick (default 1 ms). So records written one after the other have
//! distinct, increasing modification times, and tests are deterministic.
//! To script a burst of records in the same millisecond, set the tick to
//! zero ([`FakeHubSpot::set_tick`]), write them, and move the clock on
//! with [`FakeHubSpot::advance`] or [`FakeHubSpot::set_clock`].
//!
//! # Search
//!
//! `filterGroups` are OR-ed, the filters of a group AND-ed, with the
//! operators `EQ`, `NEQ`, `GT`, `GTE`, `LT`, `LTE`, `BETWEEN`, `IN`,
//! `NOT_IN`, `HAS_PROPERTY`, `NOT_HAS_PROPERTY`, `CONTAINS_TOKEN` and
//! `NOT_CONTAINS_TOKEN` (at most 5 groups of 6 filters, 18 in all). Date
//! properties (`createdate`, `hs_lastmodifieddate`, names ending in `date`
//! or `_at`) compare as instants whether a value is epoch milliseconds or
//! ISO 8601; numbers compare as numbers; other text without case, as
//! HubSpot does. One sort (`{propertyName, direction}`), unset values
//! first when ascending, ties broken by id; without one, by id. `limit` is 1 to 200 (default 10), `after` an offset; a request
//! whose `after` plus `limit` goes past 10,000 is refused with a 400
//! `VALIDATION_ERROR`, as HubSpot refuses it. `query` matches any property
//! value containing it. Archived records are not searched.
//!
//! # Writes and their failures
//!
//! Batches take at most 100 inputs (more: 400). `batch/update` and
//! `batch/read` find records by id or by a unique `idProperty`;
//! `batch/upsert` needs an `idProperty` declared unique
//! ([`FakeHubSpot::unique_property`]; contacts' `email` is unique from
//! the start), else 400, and answers `new: true|false`. As HubSpot's
//! do, `batch/create`, `batch/update` and `batch/upsert` are applied whole
//! or not at all: one input that breaks a rule of
//! [`FakeHubSpot::required`] or [`FakeHubSpot::reject_when`] refuses the
//! whole batch with one 400 (`VALIDATION_ERROR`), one that takes a unique
//! value already taken with one 409 (`CONFLICT`), and nothing of the batch
//! is written; the error does not say which input it was. Only unknown
//! ids in a `batch/update` answer a 207 (`OBJECT_NOT_FOUND`, `context.ids`)
//! with HubSpot's `errors` (each `{status, category, message, context,
//! errors, links}`), the others applied. `batch/archive` answers 204 for any ids; an
//! archived record leaves lists (unless `archived=true`), search, reads
//! and its associations.
//!
//! # Associations
//!
//! Stored both ways with HubSpot's default type ids: contact→company 279
//! (primary 1) and back 280 (2), deal→company 341 (primary 5) and back 342
//! (6), deal→contact 3 and back 4, deal→line item 19 and back 20, and the
//! ticket ones; pairs without a defined type get ids from 1000 on.
//! `associate/default` stores the unlabeled type both ways; v4
//! `batch/create` stores the types given (a label, such as the primary
//! one) and the unlabeled one; a
//! `batch/create` input's `associations` store the types given (a primary
//! one moves off any other record), plus the unlabeled one. `batch/read`
//! answers `{from, to: [{toObjectId, associationTypes: [{category,
//! typeId, label}]}]}` (label `"Primary"` or `null`), and a 207 naming the
//! inputs that have none, as HubSpot does. An object with more
//! associations than a page (500, or
//! [`FakeHubSpot::set_association_page_size`]) answers the first page and
//! `paging.next.after`; an input `{id, after}` reads the next.
//!
//! # Rate limits and faults
//!
//! Every answer carries `X-HubSpot-RateLimit-Max`, `-Remaining` and
//! `-Interval-Milliseconds`: each authenticated request spends one of a
//! budget per rolling window (default 190 per 10 s, HubSpot's for private
//! apps; [`FakeHubSpotBuilder::rate_limit`]); once it is spent the fake
//! answers 429 `RATE_LIMITS` (policy `TEN_SECONDLY_ROLLING`), with
//! `Retry-After` only if [`FakeHubSpotBuilder::retry_after`] says so. With
//! [`FakeHubSpotBuilder::daily_limit`] the day's requests run out too, and
//! the 429 names `policyName: DAILY` (reset at midnight UTC on the fake's
//! clock; HubSpot's resets in the account's time zone). The
//! window runs on tokio's clock, so `tokio::time::pause` and `advance`
//! drive it. [`FakeHubSpot::fail_next`] queues a [`Fault`] for the next
//! request: an error page, a 429, a delay, or an answer lost or cut after
//! the request took effect (to test idempotent replays).
//!
//! Every request is logged ([`FakeHubSpot::calls`]). Bad input (a body
//! that is not JSON or not the expected shape) answers HubSpot's 400
//! body; the fake never panics on a request.
//!
//! # Not modelled
//!
//! What HubSpot does that this fake does not, so a test passing here
//! proves nothing about it:
//!
//! - **Search lag.** HubSpot's search index trails writes by a few
//!   seconds (the connector's `settle` waits that out); here a write is
//!   searchable at once.
//! - Search's own limit of a few requests per second (search spends the
//!   general budget here), and the daily limit's reset in the account's
//!   time zone (here midnight UTC).
//! - Property definitions: any property name is accepted and kept as
//!   text; HubSpot refuses unknown properties and checks types and
//!   enumeration options. Only pipelines, stages and owners
//!   (`hubspot_owner_id`) are checked.
//! - A line item's `hs_product_id` naming no product is accepted (kept
//!   as text, nothing copied); HubSpot's answer to that is not checked.
//! - Owner teams (every owner has `teams: []`), queue owners
//!   (`type: QUEUE`), and the owners API's exact limit on `limit` (here
//!   larger values are cut to 500, not refused).
//! - Pipelines of objects other than deals (tickets' `hs_pipeline`),
//!   pipeline write endpoints, and stage-level permissions.
//! - `propertiesWithHistory`, `associations` on reads, custom association
//!   labels and the v4 label endpoints (the primary label is modelled).
//! - The single-record `POST`/`PATCH`/`DELETE` endpoints, merges (their
//!   webhook events are tested from recorded bodies), and webhooks
//!   (the fake sends none).
//! - The 207 for unknown ids in `batch/update` follows HubSpot's
//!   documented multi-status shape; whether HubSpot answers a mix of
//!   unknown and valid ids with 207 or a whole 404 has not been checked
//!   against a live portal.

//! # Example
//!
//! ```
//! use odoo_integration_fakes::hubspot::FakeHubSpot;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let hubspot = FakeHubSpot::start().await?;
//! let acme = hubspot.insert("companies", [("name", "Acme"), ("domain", "acme.example")]);
//! let jane = hubspot.insert("contacts", [("email", "jane@acme.example")]);
//! hubspot.associate("contacts", &jane, "companies", &acme);
//! // Point your HubSpot client at hubspot.url() with hubspot.token(), then:
//! assert_eq!(hubspot.associations("companies", &acme, "contacts"), vec![jane]);
//! assert_eq!(hubspot.record("companies", &acme).unwrap().property("name"), Some("Acme"));
//! # Ok(()) }
//! ```

mod owners;
mod pipelines;
mod store;

pub use pipelines::FakeStage;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::{RollingWindow, lock, owned};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use store::{Answer, Fail, Store, object_name};

/// A fault to inject into the next request ([`FakeHubSpot::fail_next`]).
///
/// # Example
///
/// ```
/// # use odoo_integration_fakes::hubspot::FakeHubSpot;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use odoo_integration_connectors::hubspot::HubSpotConnector;
/// # use odoo_integration_connectors::Source;
/// # use odoo_integration_model::ClientCompany;
/// # fn connector(fake: &FakeHubSpot) -> Result<HubSpotConnector, Box<dyn std::error::Error>> {
/// #     Ok(HubSpotConnector::new(fake.token())?.base_url(&fake.url()).settle(std::time::Duration::ZERO))
/// # }
/// use odoo_integration_connectors::ConnectorErrorKind;
/// use odoo_integration_fakes::hubspot::Fault;
/// use std::time::Duration;
/// let hubspot = FakeHubSpot::start().await?;
/// let faults = [
///     (Fault::Status(503), ConnectorErrorKind::Unavailable),
///     (Fault::RateLimited { retry_after: Some(Duration::from_secs(1)) }, ConnectorErrorKind::RateLimited),
///     (Fault::LostAnswer, ConnectorErrorKind::Unavailable),
/// ];
/// for (fault, kind) in faults {
///     hubspot.fail_next(fault);
///     let e = Source::<ClientCompany>::read(&connector(&hubspot)?, None, 10).await.unwrap_err();
///     assert_eq!(e.kind(), kind);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer this HTTP status with a short HTML page (a proxy's), without
    /// handling the request.
    Status(u16),
    /// Answer HubSpot's 429 (`RATE_LIMITS`, remaining 0), with a
    /// `Retry-After` of whole seconds if given, without handling the
    /// request.
    RateLimited {
        /// The wait to send in `Retry-After` (rounded up to seconds).
        retry_after: Option<Duration>,
    },
    /// Wait this long (on tokio's clock), then handle the request.
    Delay(Duration),
    /// Handle the request (it takes effect), then send only the first half
    /// of the answer's body, with a matching `Content-Length`: the client
    /// reads a complete reply that is not valid JSON.
    Truncated,
    /// Handle the request (it takes effect), then answer a gateway's 502
    /// page instead: the answer is lost, as when a proxy times out.
    LostAnswer,
    /// Handle the request (it takes effect), then break the connection
    /// before any of the body is sent.
    Disconnect,
}

/// One request the fake received.
///
/// # Example
///
/// ```
/// # use odoo_integration_connectors::hubspot::HubSpotConnector;
/// # use odoo_integration_connectors::Source;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
/// # let hs = HubSpotConnector::new(hubspot.token())?.base_url(&hubspot.url());
/// Source::<odoo_integration_model::ClientCompany>::read(&hs, None, 10).await?;
/// let call = &hubspot.calls()[0];
/// assert_eq!((call.method.as_str(), call.path.as_str(), call.status), ("POST", "/crm/v3/objects/companies/search", 200));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeCall {
    /// `GET` or `POST`.
    pub method: String,
    /// The path, without the query (`/crm/v3/objects/companies/search`).
    pub path: String,
    /// The HTTP status answered (200 for a [`Fault::Disconnect`]).
    pub status: u16,
}

/// A stored record, as [`FakeHubSpot::record`] shows it.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
/// let id = hubspot.insert("deals", [("dealname", "Rollout")]);
/// let deal = hubspot.record("deals", &id).unwrap();
/// assert_eq!(deal.property("dealname"), Some("Rollout"));
/// assert_eq!(deal.property("hs_object_id"), Some(id.as_str()));
/// assert!(!deal.archived);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FakeRecord {
    /// The record's id.
    pub id: String,
    /// The object type (`companies`, ...).
    pub object: String,
    /// The properties that are set, with the maintained ones.
    pub properties: BTreeMap<String, String>,
    /// When it was created, on the fake clock.
    pub created_at: DateTime<Utc>,
    /// When it was last changed, on the fake clock.
    pub updated_at: DateTime<Utc>,
    /// Whether it is archived.
    pub archived: bool,
}

impl FakeRecord {
    /// A property's value, if set.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let id = hubspot.insert("companies", [("name", "Acme")]);
    /// let acme = hubspot.record("companies", &id).unwrap();
    /// assert_eq!(acme.property("name"), Some("Acme"));
    /// assert_eq!(acme.property("domain"), None);
    /// # Ok(()) }
    /// ```
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties.get(name).map(String::as_str)
    }
}

/// The request budget per rolling window, and the `Retry-After` of a
/// spent one.
#[derive(Debug)]
struct Limiter {
    window: RollingWindow,
    retry_after: Option<Duration>,
    /// The daily limit, if set: (max, used, the day counted, UTC on the
    /// fake's clock).
    daily: Option<(u32, u32, chrono::NaiveDate)>,
}

impl Limiter {
    /// Spends one of the day's requests; false when the day's are spent.
    fn take_daily(&mut self, today: chrono::NaiveDate) -> bool {
        let Some((max, used, day)) = &mut self.daily else {
            return true;
        };
        if *day != today {
            (*used, *day) = (0, today);
        }
        if *used >= *max {
            return false;
        }
        *used += 1;
        true
    }
}

struct Shared {
    token: String,
    base: String,
    store: Mutex<Store>,
    faults: Mutex<VecDeque<Fault>>,
    calls: Mutex<Vec<FakeCall>>,
    limiter: Mutex<Limiter>,
    correlation: AtomicU64,
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    fn correlation_id(&self) -> String {
        let n = self.correlation.fetch_add(1, Ordering::Relaxed);
        format!(
            "f4ce0b5e-{:04x}-4000-8000-{:012x}",
            (n >> 48) & 0xffff,
            n & 0xffff_ffff_ffff
        )
    }
}

/// Builds a [`FakeHubSpot`] with another token, clock or rate limit.
///
/// # Example
///
/// ```
/// use odoo_integration_fakes::hubspot::FakeHubSpot;
/// use std::time::Duration;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let hubspot = FakeHubSpot::builder()
///     .token("pat-na1-my-test-token")
///     .rate_limit(5, Duration::from_secs(10))
///     .retry_after(Some(Duration::from_secs(2)))
///     .start()
///     .await?;
/// assert_eq!(hubspot.token(), "pat-na1-my-test-token");
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug, Clone)]
pub struct FakeHubSpotBuilder {
    token: String,
    clock: DateTime<Utc>,
    tick: Duration,
    first_id: u64,
    max: u32,
    interval: Duration,
    retry_after: Option<Duration>,
    daily: Option<u32>,
}

impl FakeHubSpotBuilder {
    /// A daily request limit (HubSpot's is per account, reset at midnight
    /// in its time zone; here at midnight UTC on the fake's clock). Once
    /// spent, every request is answered HubSpot's 429 with `policyName:
    /// DAILY`. Default: none.
    ///
    /// # Example
    ///
    /// See `HubSpotConnector::account_utc_offset` in the connectors crate.
    pub fn daily_limit(mut self, max: u32) -> Self {
        self.daily = Some(max);
        self
    }

    /// The bearer token requests must carry. Default: [`FakeHubSpot::TOKEN`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::hubspot::HubSpotConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::ClientCompany;
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// let hubspot = FakeHubSpot::builder().token("pat-na1-other").start().await?;
    /// assert_eq!(hubspot.token(), "pat-na1-other");
    /// let stranger = HubSpotConnector::new(FakeHubSpot::TOKEN)?.base_url(&hubspot.url());
    /// let e = Source::<ClientCompany>::read(&stranger, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
    /// # Ok(()) }
    /// ```
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = token.into();
        self
    }

    /// Where the fake clock starts (truncated to milliseconds). Default:
    /// `2026-01-01T00:00:00.000Z`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let start = "2026-11-30T10:00:00Z".parse::<chrono::DateTime<chrono::Utc>>()?;
    /// let hubspot = FakeHubSpot::builder().clock(start).start().await?;
    /// let id = hubspot.insert("companies", [("name", "Acme")]);
    /// assert_eq!(hubspot.record("companies", &id).unwrap().created_at, start);
    /// # Ok(()) }
    /// ```
    pub fn clock(mut self, start: DateTime<Utc>) -> Self {
        self.clock = start;
        self
    }

    /// How far the fake clock moves after each record written. Default:
    /// 1 ms; zero stamps every write with the same instant.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let hubspot = FakeHubSpot::builder().tick(Duration::from_secs(1)).start().await?;
    /// let a = hubspot.insert("companies", [("name", "A")]);
    /// let b = hubspot.insert("companies", [("name", "B")]);
    /// let at = |id: &str| hubspot.record("companies", id).unwrap().updated_at;
    /// assert_eq!(at(&b) - at(&a), chrono::TimeDelta::seconds(1));
    /// # Ok(()) }
    /// ```
    pub fn tick(mut self, tick: Duration) -> Self {
        self.tick = tick;
        self
    }

    /// The first record id. Default: 10001.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = FakeHubSpot::builder().first_id(5_000_000).start().await?;
    /// assert_eq!(hubspot.insert("companies", [("name", "Acme")]), "5000000");
    /// assert_eq!(hubspot.insert("contacts", [("email", "a@acme.example")]), "5000001");
    /// # Ok(()) }
    /// ```
    pub fn first_id(mut self, id: u64) -> Self {
        self.first_id = id;
        self
    }

    /// The request budget: `max` requests per rolling `interval`. Default:
    /// 190 per 10 s.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::hubspot::HubSpotConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::ClientCompany;
    /// # fn connector(fake: &FakeHubSpot) -> Result<HubSpotConnector, Box<dyn std::error::Error>> {
    /// #     Ok(HubSpotConnector::new(fake.token())?.base_url(&fake.url()).settle(std::time::Duration::ZERO))
    /// # }
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// use std::time::Duration;
    /// let hubspot = FakeHubSpot::builder().rate_limit(1, Duration::from_secs(10)).start().await?;
    /// Source::<ClientCompany>::read(&connector(&hubspot)?, None, 10).await?; // the window's one request
    /// // Another client (not warned by the first answer's headers) is refused.
    /// let e = Source::<ClientCompany>::read(&connector(&hubspot)?, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    /// assert_eq!(hubspot.calls().last().map(|c| c.status), Some(429));
    /// # Ok(()) }
    /// ```
    pub fn rate_limit(mut self, max: u32, interval: Duration) -> Self {
        self.max = max;
        self.interval = interval;
        self
    }

    /// The `Retry-After` sent with a 429 when the budget is spent (whole
    /// seconds, rounded up). Default: none, as HubSpot's rolling-window
    /// 429s usually come.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::hubspot::HubSpotConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::ClientCompany;
    /// # fn connector(fake: &FakeHubSpot) -> Result<HubSpotConnector, Box<dyn std::error::Error>> {
    /// #     Ok(HubSpotConnector::new(fake.token())?.base_url(&fake.url()).settle(std::time::Duration::ZERO))
    /// # }
    /// use std::time::Duration;
    /// let hubspot = FakeHubSpot::builder()
    ///     .rate_limit(1, Duration::from_secs(10))
    ///     .retry_after(Some(Duration::from_secs(3)))
    ///     .start()
    ///     .await?;
    /// Source::<ClientCompany>::read(&connector(&hubspot)?, None, 10).await?; // spends the budget
    /// let e = Source::<ClientCompany>::read(&connector(&hubspot)?, None, 10).await.unwrap_err();
    /// assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
    /// # Ok(()) }
    /// ```
    pub fn retry_after(mut self, wait: Option<Duration>) -> Self {
        self.retry_after = wait;
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
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::builder().start().await?;
    /// assert!(hubspot.url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub async fn start(self) -> std::io::Result<FakeHubSpot> {
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
    /// use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// let hubspot = FakeHubSpot::builder().start_on("127.0.0.1:0".parse()?).await?;
    /// assert!(hubspot.url().starts_with("http://127.0.0.1:"));
    /// // A port in use is an error, not a panic.
    /// let port = hubspot.url().rsplit(':').next().unwrap_or_default().to_owned();
    /// assert!(FakeHubSpot::builder().start_on(format!("127.0.0.1:{port}").parse()?).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn start_on(self, addr: std::net::SocketAddr) -> std::io::Result<FakeHubSpot> {
        let (listener, addr) = crate::bind(addr).await?;
        let tick = TimeDelta::from_std(self.tick).unwrap_or(TimeDelta::milliseconds(1));
        let shared = Arc::new(Shared {
            token: self.token,
            base: format!("http://{addr}"),
            store: Mutex::new(Store::new(truncate_ms(self.clock), tick, self.first_id)),
            faults: Mutex::new(VecDeque::new()),
            calls: Mutex::new(Vec::new()),
            limiter: Mutex::new(Limiter {
                window: RollingWindow::new(self.max, self.interval),
                retry_after: self.retry_after,
                daily: self.daily.map(|max| (max, 0, self.clock.date_naive())),
            }),
            correlation: AtomicU64::new(1),
        });
        let app = Router::new().fallback(serve).with_state(shared.clone());
        Ok(FakeHubSpot {
            served: crate::Served::new(listener, addr, app),
            shared,
        })
    }
}

fn truncate_ms(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

/// An in-memory HubSpot CRM on loopback. See the [module
/// documentation](self).
///
/// Dropping it stops the server.
///
/// # Example
///
/// ```
/// # use odoo_integration_fakes::hubspot::FakeHubSpot;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use odoo_integration_connectors::hubspot::HubSpotConnector;
/// # use odoo_integration_connectors::Source;
/// # use odoo_integration_model::ClientCompany;
/// # fn connector(fake: &FakeHubSpot) -> Result<HubSpotConnector, Box<dyn std::error::Error>> {
/// #     Ok(HubSpotConnector::new(fake.token())?.base_url(&fake.url()).settle(std::time::Duration::ZERO))
/// # }
/// use odoo_integration_connectors::{Operation, Sink, SinkRecord};
/// use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
/// let hubspot = FakeHubSpot::start().await?;
/// hubspot.unique_property("companies", "integration_sync_id");
/// hubspot.required("companies", "name");
/// // The client under test: here the HubSpot connector, at hubspot.url().
/// let hs = connector(&hubspot)?;
/// let nameless = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("1"), Operation::Upsert(ClientCompany::default()));
/// let outcomes = hs.apply(vec![nameless]).await?;
/// assert!(!outcomes[0].is_success()); // `name` is required
/// assert!(hubspot.records("companies").is_empty());
/// # Ok(()) }
/// ```
pub struct FakeHubSpot {
    served: crate::Served,
    shared: Arc<Shared>,
}

impl fmt::Debug for FakeHubSpot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeHubSpot")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl FakeHubSpot {
    /// The token a fake from [`FakeHubSpot::start`] accepts.
    pub const TOKEN: &'static str = "pat-na1-00000000-0000-4000-8000-fake0hubspot";

    /// A fake with the defaults: [`FakeHubSpot::TOKEN`], the clock at
    /// `2026-01-01T00:00:00.000Z` ticking 1 ms per write, 190 requests per
    /// 10 s.
    ///
    /// # Errors
    ///
    /// See [`FakeHubSpotBuilder::start`].
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// assert_eq!(hubspot.token(), odoo_integration_fakes::hubspot::FakeHubSpot::TOKEN);
    /// # Ok(()) }
    /// ```
    pub async fn start() -> std::io::Result<FakeHubSpot> {
        FakeHubSpot::builder().start().await
    }

    /// A builder with the defaults of [`FakeHubSpot::start`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = FakeHubSpot::builder().start().await?; // the defaults
    /// assert_eq!(hubspot.token(), FakeHubSpot::TOKEN);
    /// assert_eq!(hubspot.now(), "2026-01-01T00:00:00Z".parse::<chrono::DateTime<chrono::Utc>>()?);
    /// # Ok(()) }
    /// ```
    pub fn builder() -> FakeHubSpotBuilder {
        FakeHubSpotBuilder {
            token: FakeHubSpot::TOKEN.to_owned(),
            clock: DateTime::from_timestamp_millis(1_767_225_600_000).unwrap_or_default(),
            tick: Duration::from_millis(1),
            first_id: 10_001,
            max: 190,
            interval: Duration::from_secs(10),
            retry_after: None,
            daily: None,
        }
    }

    /// The base URL (`http://127.0.0.1:<port>`), in place of
    /// `https://api.hubapi.com`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// assert!(hubspot.url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.served.addr())
    }

    /// The bearer token the fake accepts.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::hubspot::HubSpotConnector;
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_model::ClientCompany;
    /// # fn connector(fake: &FakeHubSpot) -> Result<HubSpotConnector, Box<dyn std::error::Error>> {
    /// #     Ok(HubSpotConnector::new(fake.token())?.base_url(&fake.url()).settle(std::time::Duration::ZERO))
    /// # }
    /// let hubspot = FakeHubSpot::start().await?;
    /// // Every request carries `Authorization: Bearer {token}`.
    /// Source::<ClientCompany>::read(&connector(&hubspot)?, None, 10).await?;
    /// assert!(hubspot.calls().iter().all(|c| c.status == 200));
    /// # Ok(()) }
    /// ```
    pub fn token(&self) -> &str {
        &self.shared.token
    }

    // ------------------------------------------------------------ seeding

    /// Creates a record directly (no request, no rule checked), stamped by
    /// the fake clock. Returns its id.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let id = hubspot.insert("companies", [("name", "Acme")]);
    /// assert_eq!(id, "10001");
    /// # Ok(()) }
    /// ```
    pub fn insert<I, K, V>(&self, object: &str, properties: I) -> String
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        self.shared
            .store()
            .insert(object, owned(properties))
            .to_string()
    }

    /// Changes a record directly (no request, no rule checked); `""`
    /// clears a property. False when there is no such record.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let id = hubspot.insert("companies", [("name", "Acme")]);
    /// assert!(hubspot.update("companies", &id, [("name", "Acme Ltd")]));
    /// assert_eq!(hubspot.record("companies", &id).unwrap().property("name"), Some("Acme Ltd"));
    /// # Ok(()) }
    /// ```
    pub fn update<I, K, V>(&self, object: &str, id: &str, properties: I) -> bool
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let Ok(id) = id.parse::<u64>() else {
            return false;
        };
        self.shared.store().update(object, id, owned(properties))
    }

    /// Archives a record directly, dropping its associations. False when
    /// there is no such live record.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let id = hubspot.insert("companies", [("name", "Acme")]);
    /// assert!(hubspot.archive("companies", &id));
    /// assert!(hubspot.record("companies", &id).unwrap().archived);
    /// # Ok(()) }
    /// ```
    pub fn archive(&self, object: &str, id: &str) -> bool {
        id.parse::<u64>()
            .is_ok_and(|id| self.shared.store().archive(object, id))
    }

    /// Associates two records with the default (unlabeled) type, both
    /// ways. False when either is not a live record.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let deal = hubspot.insert("deals", [("dealname", "Rollout")]);
    /// let item = hubspot.insert("line_items", [("name", "Workshop")]);
    /// assert!(hubspot.associate("deals", &deal, "line_items", &item));
    /// assert_eq!(hubspot.associations("line_items", &item, "deals"), vec![deal]);
    /// # Ok(()) }
    /// ```
    pub fn associate(&self, from: &str, id: &str, to: &str, to_id: &str) -> bool {
        let (Ok(a), Ok(b)) = (id.parse::<u64>(), to_id.parse::<u64>()) else {
            return false;
        };
        let (from, to) = (object_name(from), object_name(to));
        let mut store = self.shared.store();
        let live =
            |s: &Store, o: &str, i: u64| s.get(o, i).is_some_and(|r| r.archived_at.is_none());
        if !live(&store, &from, a) || !live(&store, &to, b) {
            return false;
        }
        let t = store.default_type(&from, &to);
        store.link(&from, a, &to, b, t);
        true
    }

    /// The ids of the records of `to` associated with a record, in id
    /// order.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let acme = hubspot.insert("companies", [("name", "Acme")]);
    /// assert!(hubspot.associations("companies", &acme, "deals").is_empty());
    /// # Ok(()) }
    /// ```
    pub fn associations(&self, from: &str, id: &str, to: &str) -> Vec<String> {
        let Ok(id) = id.parse::<u64>() else {
            return Vec::new();
        };
        self.shared
            .store()
            .linked(from, id, to)
            .into_iter()
            .map(|(id, _)| id.to_string())
            .collect()
    }

    /// The association type ids between two records (from `from` to
    /// `to`), e.g. `[1, 279]` for a contact's primary company.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let acme = hubspot.insert("companies", [("name", "Acme")]);
    /// let jane = hubspot.insert("contacts", [("email", "jane@acme.example")]);
    /// hubspot.associate("contacts", &jane, "companies", &acme);
    /// assert_eq!(hubspot.association_types("contacts", &jane, "companies", &acme), vec![279]);
    /// assert_eq!(hubspot.association_types("companies", &acme, "contacts", &jane), vec![280]);
    /// # Ok(()) }
    /// ```
    pub fn association_types(&self, from: &str, id: &str, to: &str, to_id: &str) -> Vec<u32> {
        let (Ok(a), Ok(b)) = (id.parse::<u64>(), to_id.parse::<u64>()) else {
            return Vec::new();
        };
        self.shared
            .store()
            .linked(from, a, to)
            .into_iter()
            .find(|(id, _)| *id == b)
            .map(|(_, types)| types)
            .unwrap_or_default()
    }

    // --------------------------------------------------------- inspection

    /// A record (archived ones too), or `None`.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// assert!(hubspot.record("companies", "1").is_none());
    /// # Ok(()) }
    /// ```
    pub fn record(&self, object: &str, id: &str) -> Option<FakeRecord> {
        let id = id.parse::<u64>().ok()?;
        let object = object_name(object);
        self.shared
            .store()
            .get(&object, id)
            .map(|r| fake_record(&object, r))
    }

    /// All records of an object (archived ones too), by id.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// hubspot.insert("contacts", [("email", "a@example.com")]);
    /// hubspot.insert("contacts", [("email", "b@example.com")]);
    /// assert_eq!(hubspot.records("contacts").len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn records(&self, object: &str) -> Vec<FakeRecord> {
        let object = object_name(object);
        self.shared
            .store()
            .all(&object)
            .iter()
            .map(|r| fake_record(&object, r))
            .collect()
    }

    /// Every request received so far, oldest first.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// hubspot.insert("companies", [("name", "Acme")]); // seeding is no call
    /// assert!(hubspot.calls().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn calls(&self) -> Vec<FakeCall> {
        lock(&self.shared.calls).clone()
    }

    /// How many requests were made to `path` (without the query).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// assert_eq!(hubspot.call_count("/crm/v3/objects/companies/search"), 0);
    /// # Ok(()) }
    /// ```
    pub fn call_count(&self, path: &str) -> usize {
        lock(&self.shared.calls)
            .iter()
            .filter(|c| c.path == path)
            .count()
    }

    // -------------------------------------------------------------- rules

    /// Declares a property of an object as holding unique values: usable
    /// as `idProperty` in batch upsert, update and read, and refused
    /// (`CONFLICT`) when a write would give a second live record the same
    /// value. Contacts' `email` is unique from the start.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// hubspot.unique_property("companies", "integration_sync_id");
    /// # Ok(()) }
    /// ```
    pub fn unique_property(&self, object: &str, property: &str) {
        self.shared.store().add_unique(object, property);
    }

    /// Makes a property required: a create without it, or a write that
    /// clears it, fails that input with a `VALIDATION_ERROR`
    /// (`REQUIRED_FIELD`; "`name` is required"), the others being applied.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// hubspot.required("companies", "name");
    /// # Ok(()) }
    /// ```
    pub fn required(&self, object: &str, property: &str) {
        self.shared.store().add_required(object, property);
    }

    /// Refuses writes that set `property` to `value`: that input fails
    /// with a `VALIDATION_ERROR` (`INVALID_OPTION`), the others being
    /// applied.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// hubspot.reject_when("deals", "dealstage", "no-such-stage");
    /// # Ok(()) }
    /// ```
    pub fn reject_when(&self, object: &str, property: &str, value: &str) {
        self.shared.store().add_reject(object, property, value);
    }

    /// Adds a deal pipeline (or replaces one with the same id) to the
    /// account, beside HubSpot's default one (`default`, whose stages are
    /// `appointmentscheduled` … `contractsent`, `closedwon`, `closedlost`).
    /// `GET /crm/v3/pipelines/deals` lists it, and from then on a deal
    /// write whose `dealstage` is not a stage of the deal's `pipeline`
    /// (the one written, else the deal's, else `default`) is refused with
    /// a `VALIDATION_ERROR` (`INVALID_OPTION`), as HubSpot refuses it.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_fakes::hubspot::{FakeHubSpot, FakeStage};
    /// let hubspot = FakeHubSpot::start().await?;
    /// hubspot.add_deal_pipeline("renewals", "Renewals", [
    ///     FakeStage::open("93000001", "Up for renewal", "0.5"),
    ///     FakeStage::won("93000002", "Renewed"),
    ///     FakeStage::lost("93000003", "Churned"),
    /// ]);
    /// # Ok(()) }
    /// ```
    pub fn add_deal_pipeline(
        &self,
        id: &str,
        label: &str,
        stages: impl IntoIterator<Item = FakeStage>,
    ) {
        self.shared
            .store()
            .pipelines
            .add(id, label, stages.into_iter().collect());
    }

    /// Adds an active owner (a HubSpot user records can be assigned to)
    /// and returns its owner id. `GET /crm/v3/owners` lists it, and from
    /// then on `hubspot_owner_id` takes its id. The fake has no owners
    /// until one is added, so a write of any `hubspot_owner_id` before
    /// then is refused, as HubSpot refuses an id that is not an owner.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let jane = hubspot.add_owner("jane@firm.example", "Jane", "Doe");
    /// let deal = hubspot.insert("deals", [("dealname", "Rollout"), ("hubspot_owner_id", jane.as_str())]);
    /// assert_eq!(hubspot.record("deals", &deal).unwrap().property("hubspot_owner_id"), Some(jane.as_str()));
    /// # Ok(()) }
    /// ```
    pub fn add_owner(&self, email: &str, first_name: &str, last_name: &str) -> String {
        let mut store = self.shared.store();
        let now = store.now();
        store
            .owners
            .add(email, first_name, last_name, now)
            .to_string()
    }

    /// Archives an owner, as deactivating a HubSpot user does: it leaves
    /// the default owner listing (`archived=true` lists it, with `userId`
    /// `null`), and writing its id to `hubspot_owner_id` is refused.
    /// Records it owns keep its id. False when there is no such active
    /// owner.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let jane = hubspot.add_owner("jane@firm.example", "Jane", "Doe");
    /// assert!(hubspot.archive_owner(&jane));
    /// assert!(!hubspot.archive_owner(&jane)); // already archived
    /// # Ok(()) }
    /// ```
    pub fn archive_owner(&self, id: &str) -> bool {
        let mut store = self.shared.store();
        let now = store.now();
        store.owners.archive(id, now)
    }

    // -------------------------------------------------------------- clock

    /// The fake clock: the time the next write will take.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let before = hubspot.now();
    /// hubspot.insert("companies", [("name", "Acme")]);
    /// assert_eq!(hubspot.now() - before, chrono::TimeDelta::milliseconds(1));
    /// # Ok(()) }
    /// ```
    pub fn now(&self) -> DateTime<Utc> {
        self.shared.store().now()
    }

    /// Sets the fake clock (truncated to milliseconds); it may go back.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// let t = "2026-11-30T10:00:00.123Z".parse()?;
    /// hubspot.set_clock(t);
    /// let id = hubspot.insert("companies", [("name", "Acme")]);
    /// assert_eq!(
    ///     hubspot.record("companies", &id).unwrap().property("hs_lastmodifieddate"),
    ///     Some("2026-11-30T10:00:00.123Z")
    /// );
    /// # Ok(()) }
    /// ```
    pub fn set_clock(&self, at: DateTime<Utc>) {
        self.shared.store().clock = truncate_ms(at);
    }

    /// Moves the fake clock on.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// hubspot.advance(std::time::Duration::from_secs(60));
    /// # Ok(()) }
    /// ```
    pub fn advance(&self, by: Duration) {
        let mut store = self.shared.store();
        let by = TimeDelta::from_std(by).unwrap_or(TimeDelta::MAX);
        store.clock = store.clock.checked_add_signed(by).unwrap_or(store.clock);
    }

    /// How far the clock moves after each record written; zero makes a
    /// burst of writes in the same millisecond.
    ///
    /// # Example
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// hubspot.set_tick(Duration::ZERO);
    /// let a = hubspot.insert("companies", [("name", "A")]);
    /// let b = hubspot.insert("companies", [("name", "B")]);
    /// let modified = |id: &str| hubspot.record("companies", id).unwrap().updated_at;
    /// assert_eq!(modified(&a), modified(&b));
    /// hubspot.set_tick(Duration::from_millis(1));
    /// hubspot.advance(Duration::from_millis(1));
    /// # Ok(()) }
    /// ```
    pub fn set_tick(&self, tick: Duration) {
        self.shared.store().tick = TimeDelta::from_std(tick).unwrap_or(TimeDelta::milliseconds(1));
    }

    /// How many associations a v4 batch read answers per object before it
    /// pages with `paging.next.after` (HubSpot: 500; the default here too).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = odoo_integration_fakes::hubspot::FakeHubSpot::start().await?;
    /// hubspot.set_association_page_size(2); // page after two, to test paging
    /// # Ok(()) }
    /// ```
    pub fn set_association_page_size(&self, n: usize) {
        self.shared.store().association_page = n.max(1);
    }

    // ------------------------------------------------------------- faults

    /// Makes the next request fail with `fault` (after any faults already
    /// queued; each is used once).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_fakes::hubspot::{FakeHubSpot, Fault};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let hubspot = FakeHubSpot::start().await?;
    /// hubspot.fail_next(Fault::Status(503));
    /// hubspot.fail_next(Fault::LostAnswer); // the request after that
    /// # Ok(()) }
    /// ```
    pub fn fail_next(&self, fault: Fault) {
        lock(&self.shared.faults).push_back(fault);
    }
}

fn fake_record(object: &str, r: &store::Record) -> FakeRecord {
    let mut properties = r.properties.clone();
    properties.insert("hs_object_id".into(), r.id.to_string());
    FakeRecord {
        id: r.id.to_string(),
        object: object.to_owned(),
        properties,
        created_at: r.created,
        updated_at: r.updated,
        archived: r.archived_at.is_some(),
    }
}

// ------------------------------------------------------------------ server

fn json_response(status: u16, body: &Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
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
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>cloudflare</center>\r\n</body>\r\n</html>\r\n"
    );
    (code, [(header::CONTENT_TYPE, "text/html")], body).into_response()
}

/// HubSpot's error body.
fn error(shared: &Shared, fail: &Fail) -> Response {
    json_response(
        fail.status,
        &json!({
            "status": "error",
            "message": fail.message,
            "correlationId": shared.correlation_id(),
            "category": fail.category,
        }),
    )
}

fn rate_limited(shared: &Shared, retry_after: Option<Duration>) -> Response {
    let mut r = json_response(
        429,
        &json!({
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": shared.correlation_id(),
            "policyName": "TEN_SECONDLY_ROLLING",
            "category": "RATE_LIMITS",
        }),
    );
    if let Some(wait) = retry_after {
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    r
}

/// HubSpot's 429 once the day's requests are spent.
fn daily_limited(shared: &Shared) -> Response {
    json_response(
        429,
        &json!({
            "status": "error",
            "message": "You have reached your daily limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": shared.correlation_id(),
            "policyName": "DAILY",
            "category": "RATE_LIMITS",
        }),
    )
}

fn rate_headers(r: &mut Response, max: u32, remaining: u32, interval: Duration) {
    let h = r.headers_mut();
    for (name, value) in [
        ("x-hubspot-ratelimit-max", max.to_string()),
        ("x-hubspot-ratelimit-remaining", remaining.to_string()),
        (
            "x-hubspot-ratelimit-interval-milliseconds",
            interval.as_millis().to_string(),
        ),
    ] {
        if let Ok(v) = HeaderValue::from_str(&value) {
            h.insert(name, v);
        }
    }
}

/// Every request comes here: faults, then auth, the budget, the endpoint.
async fn serve(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = lock(&shared.faults).pop_front();
    let (response, status) = match fault {
        Some(Fault::Status(code)) => {
            let r = html(code);
            let s = r.status().as_u16();
            (r, s)
        }
        Some(Fault::RateLimited { retry_after }) => {
            let mut r = rate_limited(&shared, retry_after);
            let (max, interval) = {
                let l = lock(&shared.limiter);
                (l.window.max(), l.window.interval())
            };
            rate_headers(&mut r, max, 0, interval);
            (r, 429)
        }
        Some(Fault::Delay(wait)) => {
            tokio::time::sleep(wait).await;
            let r = handle(&shared, &method, &uri, &headers, &body);
            let s = r.status().as_u16();
            (r, s)
        }
        Some(Fault::LostAnswer) => {
            let _ = handle(&shared, &method, &uri, &headers, &body);
            (html(502), 502)
        }
        Some(Fault::Truncated) => {
            let r = handle(&shared, &method, &uri, &headers, &body);
            let s = r.status().as_u16();
            (truncate(r).await, s)
        }
        Some(Fault::Disconnect) => {
            let _ = handle(&shared, &method, &uri, &headers, &body);
            (disconnect(), 200)
        }
        None => {
            let r = handle(&shared, &method, &uri, &headers, &body);
            let s = r.status().as_u16();
            (r, s)
        }
    };
    lock(&shared.calls).push(FakeCall {
        method: method.to_string(),
        path: uri.path().to_owned(),
        status,
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

/// A reply whose body breaks off: the client sees the connection drop.
fn disconnect() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    let mut r = Response::new(Body::from_stream(stream));
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=utf-8"),
    );
    r
}

/// Auth, the budget and the endpoint; the answer carries the rate-limit
/// headers.
fn handle(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
    let today = shared.store().clock.date_naive();
    let mut limiter = lock(&shared.limiter);
    let (max, interval) = (limiter.window.max(), limiter.window.interval());
    let refused = match given {
        None => Some(Fail {
            status: 401,
            category: "INVALID_AUTHENTICATION",
            message: "Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview".into(),
        }),
        Some(t) if t != shared.token => Some(Fail {
            status: 401,
            category: "INVALID_AUTHENTICATION",
            message: "The access token provided is not valid: check the private app's token or refresh the OAuth token".into(),
        }),
        Some(_) => None,
    };
    if let Some(fail) = refused {
        let remaining = limiter.window.remaining();
        drop(limiter);
        let mut r = error(shared, &fail);
        rate_headers(&mut r, max, remaining, interval);
        return r;
    }
    if !limiter.take_daily(today) {
        drop(limiter);
        let mut r = daily_limited(shared);
        rate_headers(&mut r, max, 0, interval);
        return r;
    }
    if !limiter.window.take() {
        let wait = limiter.retry_after;
        drop(limiter);
        let mut r = rate_limited(shared, wait);
        rate_headers(&mut r, max, 0, interval);
        return r;
    }
    let remaining = limiter.window.remaining();
    drop(limiter);
    let mut r = match route(shared, method, uri, body) {
        Ok((204, _)) => StatusCode::NO_CONTENT.into_response(),
        Ok((status, value)) => json_response(status, &value),
        Err(fail) => error(shared, &fail),
    };
    rate_headers(&mut r, max, remaining, interval);
    r
}

/// The query parameters, repeated ones in order.
fn query(uri: &Uri) -> Result<Vec<(String, String)>, Fail> {
    Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| Fail::invalid(format!("Invalid query string: {e}")))
}

fn query_bool(q: &[(String, String)], name: &str) -> Result<bool, Fail> {
    match q.iter().rev().find(|(k, _)| k == name) {
        None => Ok(false),
        Some((_, v)) => v
            .parse::<bool>()
            .map_err(|_| Fail::invalid(format!("{name} must be true or false, not `{v}`"))),
    }
}

/// `properties=a,b` or `properties=a&properties=b`.
fn query_properties(q: &[(String, String)]) -> Option<Vec<String>> {
    let names: Vec<String> = q
        .iter()
        .filter(|(k, _)| k == "properties")
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!names.is_empty()).then_some(names)
}

fn parse_body(body: &[u8]) -> Result<Value, Fail> {
    serde_json::from_slice(body).map_err(|e| {
        Fail::invalid(format!(
            "Invalid input JSON on line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })
}

fn route(shared: &Shared, method: &Method, uri: &Uri, body: &[u8]) -> Answer {
    let segments: Vec<&str> = uri.path().trim_matches('/').split('/').collect();
    let q = query(uri)?;
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["crm", "v3", "objects", object]) => {
            let object = object_name(object);
            let limit = match q.iter().rev().find(|(k, _)| k == "limit") {
                None => 10,
                Some((_, v)) => v
                    .parse::<usize>()
                    .map_err(|_| Fail::invalid(format!("limit must be a number, not `{v}`")))?
                    .clamp(1, 100),
            };
            let after = match q.iter().rev().find(|(k, _)| k == "after") {
                None => None,
                Some((_, v)) => Some(v.parse::<u64>().map_err(|_| {
                    Fail::invalid(format!("after `{v}` is not a paging token of this list"))
                })?),
            };
            let properties = query_properties(&q);
            let archived = query_bool(&q, "archived")?;
            shared.store().list(
                &object,
                limit,
                after,
                properties.as_deref(),
                archived,
                &shared.base,
            )
        }
        ("GET", ["crm", "v3", "objects", object, id]) => {
            let properties = query_properties(&q);
            let id_property = q
                .iter()
                .find(|(k, _)| k == "idProperty")
                .map(|(_, v)| v.as_str());
            shared.store().read_one(
                &object_name(object),
                id,
                id_property,
                properties.as_deref(),
                query_bool(&q, "archived")?,
            )
        }
        ("GET", ["crm", "v3", "owners"]) => {
            let get = |name: &str| {
                q.iter()
                    .rev()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.as_str())
            };
            let list = owners::ListOwners {
                email: get("email"),
                after: get("after"),
                limit: get("limit"),
                archived: query_bool(&q, "archived")?,
            };
            shared.store().owners.list(&list, &shared.base)
        }
        ("GET", ["crm", "v3", "owners", id]) => {
            let id_property = q
                .iter()
                .find(|(k, _)| k == "idProperty")
                .map(|(_, v)| v.as_str());
            shared
                .store()
                .owners
                .read(id, id_property, query_bool(&q, "archived")?)
        }
        ("GET", ["crm", "v3", "pipelines", object]) => shared
            .store()
            .pipelines
            .to_json(&object_name(object))
            .map(|body| (200, body))
            .ok_or_else(|| no_route(method, uri)),
        ("POST", ["crm", "v3", "objects", object, "search"]) => {
            let body = parse_body(body)?;
            shared.store().search(&object_name(object), &body)
        }
        ("POST", ["crm", "v3", "objects", object, "batch", op]) => {
            let object = object_name(object);
            let body = parse_body(body)?;
            let mut store = shared.store();
            match *op {
                "read" => store.batch_read(&object, &body, query_bool(&q, "archived")?),
                "create" => store.batch_create(&object, &body),
                "update" => store.batch_update(&object, &body),
                "upsert" => store.batch_upsert(&object, &body),
                "archive" => store.batch_archive(&object, &body),
                _ => Err(no_route(method, uri)),
            }
        }
        ("POST", ["crm", "v4", "associations", from, to, "batch", rest @ ..]) => {
            let (from, to) = (object_name(from), object_name(to));
            let body = parse_body(body)?;
            let mut store = shared.store();
            match rest {
                ["read"] => store.associations_read(&from, &to, &body),
                ["associate", "default"] => store.associations_default(&from, &to, &body),
                ["create"] => store.associations_create(&from, &to, &body),
                ["archive"] => store.associations_archive(&from, &to, &body),
                _ => Err(no_route(method, uri)),
            }
        }
        _ => Err(no_route(method, uri)),
    }
}

fn no_route(method: &Method, uri: &Uri) -> Fail {
    Fail::not_found(format!(
        "The fake HubSpot does not serve {method} {}",
        uri.path()
    ))
}
