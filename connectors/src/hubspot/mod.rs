//! The HubSpot connector (feature `hubspot`): CRM v3 objects and v4
//! associations over a private-app token or an OAuth access token.
//!
//! **Objects.** Each canonical entity is mapped to an object type by an
//! [`ObjectMap`]: properties ⇄ fields (each a shared [`FieldMap`], its
//! [`Conversion`] saying how the text converts), associations ⇄ reference fields, line items ⇄ a
//! rows field. Built in:
//!
//! | entity | object | fields |
//! |---|---|---|
//! | `client` | `companies` | `name`, `website`, `industry`, `address`, `city`, `zip`, `country` |
//! | `contact` | `contacts` | `firstname` + `lastname` ⇄ name, `email`, `phone`; primary company ⇄ `client` |
//! | `opportunity` | `deals` | `dealname`, `amount` + `deal_currency_code`, `dealstage` in `pipeline` ⇄ stage (won, lost or open by the pipeline's stage metadata, see [`StageMap`]), `closedate`; `hubspot_owner_id` ⇄ `owner` (the owner's email, see [`OwnerMap`]); primary company ⇄ `client`; line items ⇄ `lines` |
//! | `contract_line` (rows of `lines`) | `line_items` | `name` ⇄ `description`, `quantity`, `price` + `hs_line_item_currency_code` ⇄ `unit_price`, `hs_sku` ⇄ `product` |
//!
//! `opportunity.billing` and `order_ref` have no HubSpot property of their
//! own: map them to custom properties of yours with a [`FieldMap`] (see
//! [`HubSpotConnector::object_map`]).
//!
//! **Owners.** HubSpot holds a deal's owner as an owner id; the canonical
//! `owner` is an email. The connector lists the account's owners
//! (`GET /crm/v3/owners`, paged) once and keeps the listing ten minutes:
//! a read turns each id into its owner's email (an id no active owner has
//! is looked up among the archived owners, listed once when needed), a
//! write turns an email (without case) into the active owner's id. An
//! email no active owner has fails that record with
//! [`ConnectorErrorKind::Invalid`] naming it; the rest of the batch is
//! written. Needs the `crm.objects.owners.read` scope.
//!
//! Replace or add maps with [`HubSpotConnector::object_map`] (a custom
//! property for the ERP project reference, a custom object for
//! engagements). A value HubSpot holds that cannot be read as its field
//! (an amount that is not a number) is logged and left out of the change,
//! so it clears nothing; the rest of the record still syncs.
//!
//! **Reading.** Incremental through the CRM search API by the last
//! modification time (`lastmodifieddate` on contacts, which have no
//! searchable `hs_lastmodifieddate`; `hs_lastmodifieddate` on every other
//! object), oldest first. The search API refuses to page
//! past 10,000 results, so the connector never pages far: each read starts
//! a new search from the last modification time it returned, and skips
//! the records of that same millisecond it already handed out (their ids
//! travel in the cursor). A burst of more records than a page in one
//! millisecond is paged through with `after` inside that millisecond.
//! HubSpot's search index trails writes by a few seconds, so a read only
//! takes records modified more than [`settle`](HubSpotConnector::settle)
//! ago (default 5 s): nothing indexed late is skipped. For each page the
//! associations are read in one v4 batch call per association, and line
//! items in one more (plus a batch read of the items).
//!
//! **Deletes.** Search does not see archived records. Webhooks carry
//! deletions ([`HubSpotConnector::changes`]); a polling-only sync turns on
//! [`poll_archived`](HubSpotConnector::poll_archived), and each read that
//! has caught up then lists archived records (the list API, paged with
//! `after`) and hands out those archived since the last look as deletes.
//!
//! **Webhooks.** A [`WebhookReceiver`] checks a request's v3 signature
//! ([`WebhookVerifier`]: the timestamp must be within five minutes of
//! now, either way), reads the batch and hands out the events not handled
//! before, keyed by [`EventKey`] (HubSpot's `eventId` alone is not
//! unique). The default [`Deduplicator`] is in memory, bounded, per
//! process and forgotten on restart; plug a persistent [`DedupStore`] for
//! more. [`HubSpotConnector::changes`] turns the events into changes: a
//! deletion or a privacy deletion is a delete; a merge deletes the records
//! merged away (`mergedObjectIds`) and reads the one that remains
//! (`primaryObjectId`) whole.
//!
//! **Writing.** In batches of 100. A record HubSpot already has (the
//! pipeline knows its id) is updated by id (`batch/update`); a new one is
//! upserted by its origin key in a unique property of yours
//! ([`HubSpotConnector::sync_property`]) through `batch/upsert`, so a
//! replayed batch never creates a record twice. Only the fields the policy
//! let through are sent; an empty value clears the property (a new record
//! sends only the values it has). HubSpot refuses a whole batch (one 400
//! or 409) for one invalid input: the connector halves it until the
//! refused inputs fail alone and the others are written; a batch that
//! partly fails (HTTP 207, unknown ids) fails only the records it names. A
//! reference is written as the primary association (contact → company,
//! deal → company): the new target gets the primary label and only the
//! association to the old primary target is removed, so the other links a
//! user made stay. Association reads follow HubSpot's per-object pages
//! (`paging.next.after`). Lines are written as a whole: the record's line
//! items are archived and the lines created again, associated with it, so
//! a replay never leaves two sets. A delete archives (`batch/archive`).
//!
//! **Rate limits and errors.** Every request waits its turn at the
//! connector's [`RateLimiter`] (share it with the pipeline through
//! [`HubSpotConnector::rate_limiter`]). When HubSpot's
//! `X-HubSpot-RateLimit-Remaining` reaches 0, the limiter pauses for the
//! window (`X-HubSpot-RateLimit-Interval-Milliseconds`), before HubSpot
//! has to refuse; a 429 pauses it for `Retry-After` (or the window) and
//! becomes a rate-limited error. HubSpot's `{status, message,
//! correlationId, category}` becomes a [`ConnectorError`] of the matching
//! kind; the correlation id is kept in the message for HubSpot's support.
//! The token is a [`SecretString`]: it is in no `Debug`, error or log.

mod api;
mod by_id;
mod dedup;
mod maps;
mod owners;
mod read;
mod stages;
mod webhook;
mod write;

pub use crate::mapping::{Conversion, FieldMap};
pub use dedup::{DedupStore, Deduplicator, EventKey};
pub use maps::{AssociationMap, LineItemsMap, ObjectMap, company_properties};
pub use owners::OwnerMap;
pub use stages::StageMap;
pub use webhook::{DEFAULT_DEDUP_CAPACITY, WebhookEvent, WebhookReceiver, WebhookVerifier};

use crate::connector::{Capabilities, Connector};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::http::{BearerToken, RestClient};
use crate::rate_limit::{Quota, RateLimiter};
use odoo_integration_model::{Currency, SystemId};
use reqwest::Method;
use secrecy::SecretString;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// HubSpot's production API.
const API: &str = "https://api.hubapi.com";

/// The HubSpot connector.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::HubSpotConnector;
/// let hs = HubSpotConnector::new("pat-na1-secret-token")?;
/// assert!(!format!("{hs:?}").contains("secret-token"));
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Clone)]
pub struct HubSpotConnector {
    client: RestClient,
    api: Arc<api::HubSpotApi>,
    maps: Arc<Vec<ObjectMap>>,
    sync_property: Arc<str>,
    currency: Currency,
    limiter: RateLimiter,
    settle: Duration,
    poll_archived: bool,
    archived_every: Duration,
    /// Deal pipelines, read when a stage is read or written.
    pipelines: Arc<stages::PipelineCache>,
    /// The account's owners, read when an owner is read or written.
    owners: Arc<owners::OwnerCache>,
}

impl fmt::Debug for HubSpotConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubSpotConnector")
            .field("base", &self.client.base())
            .field("token", &"[redacted]")
            .field(
                "objects",
                &self.maps.iter().map(|m| &m.object).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl HubSpotConnector {
    /// A connector for HubSpot's API with a private-app token or an OAuth
    /// access token, with the built-in maps.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] when the HTTP client cannot be built.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// fake.insert("companies", [("name", "Acme")]);
    /// // HubSpotConnector::new(token) talks to api.hubapi.com; here, the fake.
    /// let hs = HubSpotConnector::new(fake.token())?.base_url(&fake.url()).settle(Duration::ZERO);
    /// let page = Source::<odoo_integration_model::ClientCompany>::read(&hs, None, 10).await?;
    /// assert_eq!(page.changes.len(), 1);
    /// assert!(!format!("{hs:?}").contains(fake.token()));
    /// # Ok(()) }
    /// ```
    pub fn new(token: impl Into<String>) -> Result<Self> {
        let http = crate::http::http_client(Duration::from_secs(60), SystemId::hubspot())?;
        let token = Arc::new(SecretString::from(token.into()));
        // HubSpot allows private apps 100 (Pro/Enterprise: 190) requests
        // per rolling 10 seconds, and search 5 per second.
        let limiter = RateLimiter::new(Quota::per_second(4).burst(4));
        let api = Arc::new(api::HubSpotApi::default());
        let client = RestClient::builder(
            http,
            API,
            Arc::new(BearerToken::new(SystemId::hubspot(), token)),
            api.clone(),
        )
        .limiter(limiter.clone())
        .build();
        Ok(HubSpotConnector {
            client,
            api,
            maps: Arc::new(vec![
                ObjectMap::companies(),
                ObjectMap::contacts(),
                ObjectMap::deals(),
            ]),
            sync_property: Arc::from("integration_sync_id"),
            currency: Currency::USD,
            limiter,
            settle: Duration::from_secs(5),
            poll_archived: false,
            archived_every: Duration::from_secs(15 * 60),
            pipelines: Arc::default(),
            owners: Arc::default(),
        })
    }

    /// Talks to another address (a test server, a proxy).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let fake = FakeHubSpot::start().await?;
    /// let hs = HubSpotConnector::new(fake.token())?.base_url(&format!("{}/", fake.url()));
    /// Source::<odoo_integration_model::ClientCompany>::read(&hs, None, 10).await?;
    /// assert_eq!(fake.call_count("/crm/v3/objects/companies/search"), 1);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn base_url(mut self, url: &str) -> Self {
        self.client.set_base(url);
        self
    }

    /// The account's offset from UTC (Settings → Account defaults, or
    /// `utcOffset` in `GET /account-info/v3/details`). HubSpot resets the
    /// daily request limit at midnight there: a 429 for the daily limit
    /// (`policyName: DAILY`) is a rate-limited error whose
    /// [`retry_after`](crate::ConnectorError::retry_after) is the time
    /// until then, not the ten-second window, so a pipeline stops instead
    /// of retrying all day. Default: UTC.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{ConnectorErrorKind, Source};
    /// use odoo_integration_model::ClientCompany;
    /// let fake = FakeHubSpot::builder().daily_limit(1).start().await?;
    /// let new_york = chrono::FixedOffset::west_opt(5 * 3600).unwrap();
    /// let hs = HubSpotConnector::new(fake.token())?
    ///     .base_url(&fake.url())
    ///     .account_utc_offset(new_york);
    /// Source::<ClientCompany>::read(&hs, None, 10).await?; // the day's last request
    /// let e = Source::<ClientCompany>::read(&hs, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    /// assert!(e.retry_after().unwrap() > std::time::Duration::from_secs(10));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn account_utc_offset(self, offset: chrono::FixedOffset) -> Self {
        self.api.set_utc_offset(offset);
        self
    }

    /// Replaces the company ⇄ client property map.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// # async fn first<E: odoo_integration_model::Entity + Default + Send + Sync + 'static>(
    /// #     hs: &HubSpotConnector,
    /// # ) -> Result<E, Box<dyn std::error::Error>> {
    /// #     let page = Source::<E>::read(hs, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// fake.insert("companies", [("name", "Acme"), ("vat_number", "BE0123456789")]);
    /// let mut map = company_properties();
    /// map.push(FieldMap::text("tax_id", "vat_number")); // a custom property: one map entry
    /// let hs = HubSpotConnector::new(fake.token())?
    ///     .base_url(&fake.url())
    ///     .settle(Duration::ZERO)
    ///     .company_map(map);
    /// let acme: odoo_integration_model::ClientCompany = first(&hs).await?;
    /// assert_eq!(acme.tax_id.as_deref(), Some("BE0123456789"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn company_map(self, properties: Vec<FieldMap>) -> Self {
        let mut companies = ObjectMap::companies();
        companies.properties = properties;
        self.object_map(companies)
    }

    /// Adds an object map, replacing the one of the same entity.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// # async fn first<E: odoo_integration_model::Entity + Default + Send + Sync + 'static>(
    /// #     hs: &HubSpotConnector,
    /// # ) -> Result<E, Box<dyn std::error::Error>> {
    /// #     let page = Source::<E>::read(hs, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// fake.insert("deals", [("dealname", "Rollout"), ("odoo_project_id", "17")]);
    /// let mut deals = ObjectMap::deals();
    /// deals.properties.push(FieldMap::text("project_ref", "odoo_project_id"));
    /// let hs = HubSpotConnector::new(fake.token())?
    ///     .base_url(&fake.url())
    ///     .settle(Duration::ZERO)
    ///     .object_map(deals);
    /// let deal: odoo_integration_model::Opportunity = first(&hs).await?;
    /// assert_eq!(deal.project_ref.as_deref(), Some("17"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn object_map(mut self, map: ObjectMap) -> Self {
        let maps = Arc::make_mut(&mut self.maps);
        maps.retain(|m| m.entity != map.entity);
        maps.push(map);
        self
    }

    /// The unique-value property that holds a record's origin key
    /// (`system:id`), through which a record new to HubSpot is upserted, so
    /// that a replayed batch updates instead of creating twice. Create it
    /// in HubSpot (single-line text, "require unique values") on each
    /// object you write; default `integration_sync_id`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Sink, SinkRecord};
    /// use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
    /// let fake = FakeHubSpot::start().await?;
    /// fake.unique_property("companies", "odoo_key"); // "require unique values"
    /// let hs = HubSpotConnector::new(fake.token())?.base_url(&fake.url()).sync_property("odoo_key");
    /// let acme = ClientCompany { legal_name: "Acme".into(), ..Default::default() };
    /// let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("42"), Operation::Upsert(acme));
    /// // Applied twice (a replay): one company.
    /// hs.apply(vec![record.clone()]).await?;
    /// hs.apply(vec![record]).await?;
    /// let companies = fake.records("companies");
    /// assert_eq!(companies.len(), 1);
    /// assert_eq!(companies[0].property("odoo_key"), Some("odoo:42"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn sync_property(mut self, name: &str) -> Self {
        self.sync_property = Arc::from(name);
        self
    }

    /// The account's currency, for amounts HubSpot sends without a
    /// currency code (default USD).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_model::{Currency, Opportunity};
    /// # use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// # async fn first<E: odoo_integration_model::Entity + Default + Send + Sync + 'static>(
    /// #     hs: &HubSpotConnector,
    /// # ) -> Result<E, Box<dyn std::error::Error>> {
    /// #     let page = Source::<E>::read(hs, None, 10).await?;
    /// #     match page.changes.into_iter().next().map(|c| c.operation) {
    /// #         Some(Operation::Upsert(e)) => Ok(e),
    /// #         other => Err(format!("{other:?}").into()),
    /// #     }
    /// # }
    /// fake.insert("deals", [("dealname", "Rollout"), ("amount", "1200.50")]); // no deal_currency_code
    /// let hs = HubSpotConnector::new(fake.token())?
    ///     .base_url(&fake.url())
    ///     .settle(Duration::ZERO)
    ///     .currency(Currency::EUR);
    /// let deal: Opportunity = first(&hs).await?;
    /// let amount = deal.amount.unwrap();
    /// assert_eq!((amount.amount(), amount.currency()), (rust_decimal::Decimal::new(120_050, 2), Currency::EUR));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn currency(mut self, currency: Currency) -> Self {
        self.currency = currency;
        self
    }

    /// Paces every request through this limiter instead of the connector's
    /// own (4 per second). Give it a shared limiter to share HubSpot's
    /// budget between connectors with the same token.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Quota, RateLimiter};
    /// use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// let shared = RateLimiter::new(Quota::per_second(9).burst(10));
    /// let hs = HubSpotConnector::new(fake.token())?.base_url(&fake.url()).limiter(shared.clone());
    /// // A pause on the shared limiter (say another connector was told to wait)
    /// // holds this one back too.
    /// shared.pause_for(Duration::from_millis(100))?;
    /// let start = std::time::Instant::now();
    /// Source::<odoo_integration_model::ClientCompany>::read(&hs, None, 10).await?;
    /// assert!(start.elapsed() >= Duration::from_millis(100));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn limiter(self, limiter: RateLimiter) -> Self {
        HubSpotConnector {
            client: self.client.with_limiter(limiter.clone()),
            limiter,
            ..self
        }
    }

    /// The limiter every request waits at; pass it to the pipeline
    /// (`source_limiter` / `sink_limiter`) so a pause HubSpot asks for
    /// holds back the pipeline's other tasks too.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// use odoo_integration_fakes::hubspot::Fault;
    /// use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// let hs = HubSpotConnector::new(fake.token())?.base_url(&fake.url());
    /// let limiter = hs.rate_limiter();
    /// fake.fail_next(Fault::RateLimited { retry_after: Some(Duration::from_secs(2)) });
    /// let e = Source::<odoo_integration_model::ClientCompany>::read(&hs, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    /// // The limiter, and every task waiting at it, now holds back for 2 s.
    /// assert!(tokio::time::timeout(Duration::from_millis(100), limiter.acquire()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub fn rate_limiter(&self) -> RateLimiter {
        self.limiter.clone()
    }

    /// How long HubSpot's search index may trail a write: reads take only
    /// records modified at least this long ago (default 5 s; zero for a
    /// fake that indexes at once).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// fake.set_clock(chrono::Utc::now()); // the fake's clock, ours
    /// fake.insert("companies", [("name", "Acme")]); // modified just now
    /// let hs = HubSpotConnector::new(fake.token())?.base_url(&fake.url());
    /// let wary = hs.clone().settle(Duration::from_secs(10));
    /// assert!(Source::<odoo_integration_model::ClientCompany>::read(&wary, None, 10).await?.changes.is_empty());
    /// let eager = hs.settle(Duration::ZERO);
    /// assert_eq!(Source::<odoo_integration_model::ClientCompany>::read(&eager, None, 10).await?.changes.len(), 1);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn settle(mut self, lag: Duration) -> Self {
        self.settle = lag;
        self
    }

    /// Whether a read that has caught up also lists archived records to
    /// hand out deletes (default off: deletes come from webhooks).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_model::ClientCompany;
    /// use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// let acme = fake.insert("companies", [("name", "Acme")]);
    /// let hs = HubSpotConnector::new(fake.token())?
    ///     .base_url(&fake.url())
    ///     .settle(Duration::ZERO)
    ///     .poll_archived(true)
    ///     .archived_every(Duration::ZERO); // every caught-up read, for the example
    /// let (_, cursor) = read_to_end::<ClientCompany>(&hs, None, 10).await?;
    /// fake.archive("companies", &acme);
    /// let (changes, _) = read_to_end::<ClientCompany>(&hs, Some(cursor), 10).await?;
    /// assert!(changes.iter().any(|c| c.operation.is_delete() && c.remote_id.as_str() == acme));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn poll_archived(mut self, yes: bool) -> Self {
        self.poll_archived = yes;
        self
    }

    /// With [`poll_archived`](Self::poll_archived): how often the archived
    /// records are listed, on a slower schedule than changes (listing them
    /// reads every archived record of the object). A caught-up read lists
    /// them when this long has passed since the last listing, recorded in
    /// the cursor. Default: 15 minutes.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_model::ClientCompany;
    /// use std::time::Duration;
    /// let fake = FakeHubSpot::start().await?;
    /// let acme = fake.insert("companies", [("name", "Acme")]);
    /// let hs = HubSpotConnector::new(fake.token())?
    ///     .base_url(&fake.url())
    ///     .settle(Duration::ZERO)
    ///     .poll_archived(true)
    ///     .archived_every(Duration::from_secs(3600));
    /// let (_, cursor) = read_to_end::<ClientCompany>(&hs, None, 10).await?; // lists them
    /// fake.archive("companies", &acme);
    /// let (changes, _) = read_to_end::<ClientCompany>(&hs, Some(cursor), 10).await?;
    /// assert!(changes.is_empty()); // not listed again within the hour
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn archived_every(mut self, every: Duration) -> Self {
        self.archived_every = every;
        self
    }

    /// The map of an entity.
    fn map(&self, entity: &str) -> Result<&ObjectMap> {
        self.maps
            .iter()
            .find(|m| m.entity == entity)
            .ok_or_else(|| {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    format!("HubSpot has no object map for `{entity}`"),
                )
                .with_system(SystemId::hubspot())
            })
    }

    /// POSTs JSON and decodes the JSON answer, or HubSpot's error.
    async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        self.request(Method::POST, path, Some(body)).await
    }

    /// POSTs JSON and decodes the answer as `T`, naming the JSON path of
    /// what does not fit.
    async fn post_as<T: DeserializeOwned>(&self, path: &str, body: &Value) -> Result<T> {
        let body = self.client.encode(&Method::POST, path, body)?;
        self.client.json(Method::POST, path, Some(body)).await
    }

    /// Sends one request through the HTTP core (paced by the limiter,
    /// HubSpot's rate-limit headers obeyed) and decodes the JSON answer
    /// (`Null` for 204), or HubSpot's error.
    async fn request(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value> {
        let body = body
            .map(|b| self.client.encode(&method, path, b))
            .transpose()?;
        self.client.json(method, path, body).await
    }
}

impl Connector for HubSpotConnector {
    fn system(&self) -> SystemId {
        SystemId::hubspot()
    }
    fn capabilities(&self) -> Capabilities {
        let entities = || self.maps.iter().map(|m| m.entity.clone());
        // The connector paces its own requests (see `rate_limiter`); the
        // pipeline's limiter counts batches, which is within that.
        Capabilities::new()
            .reads(entities())
            .writes(entities())
            .incremental(true)
            .detects_deletes(self.poll_archived)
            .rate_limit(Quota::per_second(4).burst(4))
    }
}
