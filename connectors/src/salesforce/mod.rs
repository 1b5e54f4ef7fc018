//! The Salesforce connector (feature `salesforce`): the REST API over
//! OAuth 2.0.
//!
//! **Status.** Accounts ⇄ [`ClientCompany`], Contacts ⇄ [`Contact`] and
//! Opportunities ⇄ [`Opportunity`] are read incrementally with deletes and
//! written idempotently in sObject Collections. Opportunity line items are
//! read, and written (replaced as a whole) once you name the price book
//! entry they use ([`SalesforceBuilder::line_pricebook_entry`]). Any other
//! canonical entity (an engagement in a custom `Project__c`, an employee)
//! is synced the same way through an [`ObjectMap`] of its fields, given to
//! [`SalesforceBuilder::object_map`]: a custom object is one map.
//!
//! **Signing in.** [`ConnectedApp::client_credentials`] (an app's consumer
//! key and secret) or [`ConnectedApp::jwt_bearer`] (an RS256 assertion
//! signed with the app's certificate key). One access token is cached and
//! shared by every task; when Salesforce answers 401 (`INVALID_SESSION_ID`)
//! the token is fetched again once (concurrent callers share that one
//! request) and the call is retried once. The instance URL comes from the
//! token answer; the login URL ([`SalesforceBuilder::login_url`]) and the
//! API version ([`SalesforceBuilder::api_version`]) are configurable.
//! Secrets live in `secrecy` types: no `Debug`, `Display`, error or log
//! shows them.
//!
//! **Reading.** A SOQL `query` ordered by `SystemModstamp, Id` and resumed
//! after the last `(SystemModstamp, Id)` handed out, so records that share
//! a stamp are neither lost nor repeated; an answer is paged through by its
//! `nextRecordsUrl`. Salesforce stamps whole seconds, and stamps a record
//! when its transaction writes it, not when it commits: a long transaction
//! can commit records stamped behind those already read. So once caught
//! up, the next read starts again an overlap
//! ([`SalesforceBuilder::overlap`], default 5 minutes) behind the newest
//! stamp read, and skips each record already handed out with the same
//! `(Id, SystemModstamp)` (the cursor carries those of the overlap): a late
//! commit is read once, nothing twice. Once the changes are caught up, deleted records come
//! from `sobjects/{type}/deleted/` (getDeleted) from where the last window
//! ended (its `latestDateCovered`); the ids of the window's last minute
//! travel in the cursor, since Salesforce ignores the seconds of `start`.
//! Deletes are looked for at most once per
//! [`SalesforceBuilder::deleted_interval`] (default 5 minutes, Salesforce's
//! guidance for getDeleted) per sObject; the cursor remembers the last
//! look, so successive runs honour it, and a read in between hands out
//! changes only. A window's deletes wait in the cursor until they are all
//! handed out, without asking again.
//! getDeleted only reaches back about 15 days
//! ([`SalesforceBuilder::deleted_window`]); when the cursor is older (or
//! Salesforce refuses the window with `INVALID_REPLICATION_DATE`, or with
//! `EXCEEDED_ID_LIMIT` because it holds more than 600,000 deletes), the
//! connector falls back to a **full compare**: it lists every id of the
//! sObject and reports as deleted each id that your [`KnownIds`] (the ids
//! the sync has seen: [`StoredIds`] reads them from the pipeline's
//! cross-reference store) names and Salesforce no longer has. The deletes found are handed out page by page
//! from the cursor. Without a [`KnownIds`] the read fails with
//! [`ConnectorErrorKind::Configuration`] rather than silently losing deletes.
//!
//! **Writing.** In sObject Collections of 200 with `allOrNone: false`: a
//! record Salesforce already has (the pipeline knows its id) is updated by
//! id with only the fields the policy let through; a new one is upserted by
//! an external id field ([`SalesforceBuilder::sync_field`], default
//! `Integration_Sync_Id__c`, holding `origin:origin_id`), so a replayed
//! batch never creates twice. Each record gets its own outcome: `created`
//! → [`Outcome::Created`], else [`Outcome::Updated`]; a refused record
//! fails alone with its typed error. An external id that matches several
//! records (HTTP 300 for [`SalesforceConnector::upsert_one`],
//! `DUPLICATE_EXTERNAL_ID` in a collection) is [`ConnectorErrorKind::Ambiguous`],
//! never a guess. A delete is a collections delete; one already deleted
//! (`ENTITY_IS_DELETED`) counts as deleted. Contact and Opportunity
//! `AccountId` come from [`SinkRecord::links`].
//!
//! **Line items.** With [`SalesforceBuilder::line_pricebook_entry`], an
//! opportunity whose `lines` the policy lets through gets its lines
//! replaced as a whole after it is written (the lines need its id): one
//! SOQL `SELECT Id, OpportunityId FROM OpportunityLineItem WHERE
//! OpportunityId IN (…)` per 200 opportunities (paged) finds the current
//! line items, a collections delete removes them, a collections create
//! adds the new ones (200 a call), so a replay never leaves two sets. A
//! line the org refuses, or a call of this step that fails, fails its
//! opportunity with the typed error (the opportunity's own fields are
//! written; the pipeline retries it, which replaces the lines again); an
//! opportunity whose old lines could not all be deleted gets no new ones.
//! A line without a unit price, or priced in another currency than the
//! opportunity, fails its record before anything is sent.
//!
//! A line that names its product (`product`, a product code) goes on that
//! product's entry instead: the configured entry's price book is read
//! (one query a batch), then its active entries of the batch's product
//! codes (`SELECT Id, ProductCode FROM PricebookEntry WHERE Pricebook2Id =
//! … AND IsActive = true AND ProductCode IN (…)`, with `CurrencyIsoCode`
//! matched to the line's currency in a multi-currency org). A code with
//! no such entry fails its record with [`ConnectorErrorKind::Invalid`]
//! naming it, one with several with [`ConnectorErrorKind::Ambiguous`],
//! before anything is sent; a configured entry Salesforce does not have
//! fails the records with product lines as
//! [`ConnectorErrorKind::Configuration`]. Every line of an opportunity is
//! in one price book, as Salesforce requires.
//!
//! **Owners.** An opportunity's owner is read as its user's email
//! (`Owner.Email`, in the same query). Written, the emails of a batch are
//! looked up in one SOQL query on `User` (`IsActive = true AND Email IN
//! (…)`, 100 emails a query; SOQL compares them without case) and each
//! becomes the `OwnerId` of its user. An email no active user has fails
//! that record with [`ConnectorErrorKind::Invalid`] naming it (Salesforce
//! refuses an inactive owner with `INACTIVE_OWNER_OR_USER`, also
//! invalid); an email several active users share fails it as
//! [`ConnectorErrorKind::Ambiguous`], never a guess. Every Salesforce
//! record has an owner: writing no owner leaves `OwnerId` as it is (a new
//! opportunity gets the connected app's user, as Salesforce assigns it).
//!
//! **Errors and limits.** `[{message, errorCode, fields}]` becomes a
//! [`ConnectorError`] by its code (`INVALID_SESSION_ID` → unauthorized,
//! `REQUEST_LIMIT_EXCEEDED` and 429 → rate limited with `Retry-After`,
//! `ENTITY_IS_DELETED`/`NOT_FOUND` → not found, `DUPLICATE_VALUE` →
//! conflict, validation codes → invalid); a 5xx or a proxy's HTML page is
//! unavailable, a cut-off JSON body a protocol error; nothing panics. The
//! `Sforce-Limit-Info` header (`api-usage=18/15000`) is read from every
//! answer ([`SalesforceConnector::api_usage`]). When the org's daily usage
//! reaches [`SalesforceBuilder::usage_threshold`] (default 90 %), the
//! connector **refuses** calls with a rate-limited error carrying a
//! retry-after of [`SalesforceBuilder::usage_pause`] (default 15 minutes)
//! instead of spending the org's last calls, which its users and other
//! integrations need too; after the pause one call goes through to read the
//! usage again.
//!
//! # Maps
//!
//! | canonical | Salesforce | notes |
//! |---|---|---|
//! | `client.legal_name` | `Account.Name` | |
//! | `client.industry` / `website` | `Industry` / `Website` | |
//! | `client.address.street` / `city` / `postal_code` / `country` | `BillingStreet` / `BillingCity` / `BillingPostalCode` / `BillingCountry` | |
//! | `client.tax_id`, `billing_terms`, `account_manager` | — | not mapped by default; add custom fields with [`SalesforceBuilder::account_map`] |
//! | `contact.name` | `Contact.Name` (read), `FirstName` + `LastName` (written, split at the last space) | |
//! | `contact.email` / `phone` | `Email` / `Phone` | [`SalesforceBuilder::contact_map`] |
//! | `contact.client` | `AccountId` | a reference |
//! | `opportunity.name` | `Opportunity.Name` | |
//! | `opportunity.stage` | read from `IsWon` / `IsClosed`; written as `StageName` | won → `Closed Won`, lost → `Closed Lost`, open → `Prospecting` ([`SalesforceBuilder::stage_names`]) |
//! | `opportunity.amount` | `Amount` + `CurrencyIsoCode` | the org currency unless [`SalesforceBuilder::multi_currency`] |
//! | `opportunity.close_date` | `CloseDate` | |
//! | `opportunity.client` | `AccountId` | a reference |
//! | `opportunity.owner` | `Owner.Email` (read), `OwnerId` (written) | the owner's email; written as the one active `User` with that email (see **Owners**) |
//! | `opportunity.lines` | `OpportunityLineItems`: `Id`, `Description` (else `Name`), `Quantity`, `UnitPrice` | read; written (replaced as a whole, `PricebookEntryId` the configured entry) only with [`SalesforceBuilder::line_pricebook_entry`] |
//! | `contract_line.product` (rows of `lines`) | `OpportunityLineItem.ProductCode` (read), `PricebookEntryId` (written) | read from the line's product; written as the product's active entry in the configured entry's price book (see **Line items**) |
//! | `opportunity.billing`, `order_ref` | custom fields | with [`SalesforceBuilder::opportunity_fields`] |
//! | `opportunity.project_ref` | a custom field | only with [`SalesforceBuilder::project_field`] |
//! | `opportunity.payment_state`, `amount_due`, others | custom fields | with [`SalesforceBuilder::opportunity_fields`] |
//!
//! # Caveats
//!
//! - Opportunity line items are written only with
//!   [`SalesforceBuilder::line_pricebook_entry`]: Salesforce needs a
//!   `PricebookEntryId` per line; a line without a product code is
//!   written on that one entry (a generic product), so it reads back with
//!   that product's code; without it `lines` is skipped on writes. Lines
//!   read back keep their `Description`. The line ids change at each
//!   write (lines are replaced, not updated).
//! - An opportunity already on another price book than the configured
//!   entry's refuses the new lines (`FIELD_INTEGRITY_EXCEPTION`); the
//!   connector does not move it to another book.
//! - An opportunity with line items has an `Amount` that Salesforce
//!   computes from them (the sum of the lines' totals) and ignores when
//!   written. Writing an empty set of lines on an opportunity that had
//!   some removes them after the opportunity is written, and Salesforce
//!   lowers `Amount` as they go: write it again (or let Salesforce own
//!   `amount`) if it matters.
//! - `Description` of a line item holds 255 characters; a longer line
//!   description fails the opportunity (`STRING_TOO_LONG`), it is not cut.
//! - Writing an open stage sets the configured open `StageName`, whatever
//!   open stage the opportunity was in: let Salesforce own `stage` in your
//!   policy unless that is what you want.
//! - A record committed more than the overlap behind the newest stamp
//!   read (a transaction longer than [`SalesforceBuilder::overlap`]) is
//!   missed until it changes again. A busy org's overlap holds many ids:
//!   the cursor carries them all (about 40 bytes each) and each caught-up
//!   read queries them again. A cursor written before the overlap was
//!   kept resumes where it was; records it had passed count as read.
//! - The first read starts the delete window a minute before it runs, so
//!   a record deleted in that minute can be reported deleted without ever
//!   having been read; the pipeline ignores deletes of unknown records.
//! - A sub-query answer of more line items than Salesforce puts in one
//!   (`done: false` inside the opportunity) is paged through by its own
//!   `nextRecordsUrl`, for each opportunity of a batch before the next
//!   batch of opportunities is asked for: that request invalidates the
//!   sub-query locators of the batches before it. This costs a call per
//!   extra page of lines.
//!
//! # Example
//!
//! ```
//! use odoo_integration_model::ClientCompany;
//! use odoo_integration_connectors::{Operation, Source};
//! use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
//! use odoo_integration_fakes::salesforce::FakeSalesforce;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An org on loopback (`odoo-integration-fakes`); in production, your My Domain
//! // login URL and your connected app's key and secret.
//! let org = FakeSalesforce::start().await?;
//! org.allow_client("consumer-key", "consumer-secret");
//! org.insert("Account", serde_json::json!({"Name": "Acme NV", "BillingCity": "Ghent"}));
//!
//! let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("consumer-key", "consumer-secret"))
//!     .login_url(org.url())
//!     .build()?;
//! let page = Source::<ClientCompany>::read(&sf, None, 200).await?;
//! assert_eq!(page.changes.len(), 1);
//! let Operation::Upsert(acme) = &page.changes[0].operation else { panic!("a delete") };
//! assert_eq!(acme.legal_name, "Acme NV");
//! assert!(sf.api_usage().is_some()); // read from `Sforce-Limit-Info`
//! # Ok(()) }
//! ```
//!
//! [`ClientCompany`]: odoo_integration_model::ClientCompany
//! [`Contact`]: odoo_integration_model::Contact
//! [`Opportunity`]: odoo_integration_model::Opportunity
//! [`Outcome::Created`]: crate::Outcome::Created
//! [`Outcome::Updated`]: crate::Outcome::Updated
//! [`SinkRecord::links`]: crate::SinkRecord::links
//! [`ConnectorError`]: crate::ConnectorError
//! [`ConnectorErrorKind::Configuration`]: crate::ConnectorErrorKind::Configuration
//! [`ConnectorErrorKind::Ambiguous`]: crate::ConnectorErrorKind::Ambiguous
//! [`ConnectorErrorKind::Invalid`]: crate::ConnectorErrorKind::Invalid

mod auth;
mod builder;
mod deletes;
mod http;
pub(crate) mod jwt;
mod known;
mod map_settings;
mod maps;
mod objects;
mod read;
mod soql;
mod wire;
mod write;

pub use crate::mapping::{Conversion, FieldMap};
pub use auth::ConnectedApp;
pub use builder::SalesforceBuilder;
pub use known::{KnownIds, StoredIds};
pub use maps::{SObject, account_fields, contact_fields};
pub use objects::ObjectMap;

use crate::connector::{Capabilities, Connector};
use crate::error::Result;
use crate::http::{Body, RestClient};
use maps::Settings;
use odoo_integration_model::SystemId;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The Salesforce connector: cheap to clone, clones share the token and
/// the usage budget.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
/// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("key", "top-secret"))
///     .login_url("https://acme.my.salesforce.com") // My Domain
///     .build()?;
/// assert!(!format!("{sf:?}").contains("top-secret"));
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Clone)]
pub struct SalesforceConnector {
    inner: Arc<Inner>,
}

struct Inner {
    client: RestClient,
    version: String,
    settings: Settings,
    sync_field: String,
    budget: Arc<Mutex<http::Budget>>,
    deleted_window: Duration,
    overlap: Duration,
    deleted_interval: Duration,
    known_ids: Option<Arc<dyn KnownIds>>,
}

impl fmt::Debug for SalesforceConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceConnector")
            .field("client", &self.inner.client)
            .field("version", &self.inner.version)
            .field("sync_field", &self.inner.sync_field)
            .finish_non_exhaustive()
    }
}

impl SalesforceConnector {
    /// The sObject `E` is kept in: built in, or from its object map.
    fn sobject<E: SObject>(&self) -> Result<&str> {
        match <E as maps::sealed::Mapped>::sobject(&self.inner.settings) {
            Some(name) => Ok(name),
            None => objects::map_of::<E>(&self.inner.settings).map(|m| m.sobject.as_str()),
        }
    }

    /// A builder signing in with `credentials`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::Source;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// let b = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"));
    /// let sf = b.login_url(org.url()).build()?;
    /// let page = Source::<odoo_integration_model::ClientCompany>::read(&sf, None, 100).await?;
    /// assert!(page.changes.is_empty());
    /// assert_eq!(org.token_requests(), 1); // signed in once, with the key and secret
    /// # Ok(()) }
    /// ```
    pub fn builder(credentials: ConnectedApp) -> SalesforceBuilder {
        SalesforceBuilder::new(credentials)
    }

    /// The org's API usage as Salesforce last reported it in
    /// `Sforce-Limit-Info`: `(used, daily limit)`; `None` before the first
    /// call.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url("https://acme.my.salesforce.com")
    ///     .build()?;
    /// assert_eq!(sf.api_usage(), None);
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn api_usage(&self) -> Option<(u64, u64)> {
        self.inner.budget.lock().ok().and_then(|b| b.usage)
    }

    fn data_path(&self, rest: &str) -> String {
        format!("/services/data/{}{rest}", self.inner.version)
    }

    /// Sends one API call (a path under the instance URL, with its query)
    /// through the HTTP core: refused past the usage threshold, the token
    /// fetched again once on a 401. Returns the status (2xx or 300) and
    /// the body; every other status is a typed error.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Vec<u8>)> {
        let answer = self
            .inner
            .client
            .send(method, path, body.map(Body::json_bytes))
            .await?;
        Ok((answer.status, answer.body))
    }

    /// [`call`](Self::call), then the JSON answer decoded.
    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T> {
        self.inner
            .client
            .json(method, path, body.map(Body::json_bytes))
            .await
    }

    /// A 2xx answer decoded, naming what is wrong with it.
    fn decode_json<T: serde::de::DeserializeOwned>(&self, label: &str, bytes: &[u8]) -> Result<T> {
        self.inner.client.decode(label, bytes)
    }
}

impl Connector for SalesforceConnector {
    fn system(&self) -> SystemId {
        SystemId::salesforce()
    }
    fn capabilities(&self) -> Capabilities {
        // Salesforce limits calls per day (see the usage threshold), not
        // per second: no quota here.
        let entities: Vec<&str> = ["client", "contact", "opportunity"]
            .into_iter()
            .chain(self.inner.settings.objects.keys().map(String::as_str))
            .collect();
        Capabilities::new()
            .reads(entities.iter().copied())
            .writes(entities.iter().copied())
            .incremental(true)
            .detects_deletes(true)
    }
}
