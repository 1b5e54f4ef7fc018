//! The Salesforce connector (feature `salesforce`): the REST API over
//! OAuth 2.0.
//!
//! **Status.** Accounts ⇄ [`ClientCompany`], Contacts ⇄ [`Contact`] and
//! Opportunities ⇄ [`Opportunity`] are read incrementally with deletes and
//! written idempotently in sObject Collections. Opportunity line items are
//! read, and written (replaced as a whole) once you name the price book
//! entry they use ([`SalesforceBuilder::line_pricebook_entry`]).
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
//! `nextRecordsUrl`. Once the changes are caught up, deleted records come
//! from `sobjects/{type}/deleted/` (getDeleted) from where the last window
//! ended (its `latestDateCovered`); the ids of the window's last minute
//! travel in the cursor, since Salesforce ignores the seconds of `start`.
//! getDeleted only reaches back about 15 days
//! ([`SalesforceBuilder::deleted_window`]); when the cursor is older (or
//! Salesforce refuses the window with `INVALID_REPLICATION_DATE`), the
//! connector falls back to a **full compare**: it lists every id of the
//! sObject and reports as deleted each id that your [`KnownIds`] (the ids
//! the sync has seen, typically from your cross-reference store) names and
//! Salesforce no longer has. The deletes found are handed out page by page
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
//! | `opportunity.lines` | `OpportunityLineItems`: `Id`, `Description` (else `Name`), `Quantity`, `UnitPrice` | read; written (replaced as a whole, `PricebookEntryId` the configured entry) only with [`SalesforceBuilder::line_pricebook_entry`] |
//! | `opportunity.project_ref` | a custom field | only with [`SalesforceBuilder::project_field`] |
//!
//! # Caveats
//!
//! - Opportunity line items are written only with
//!   [`SalesforceBuilder::line_pricebook_entry`]: Salesforce needs a
//!   `PricebookEntryId` per line, which the canonical line does not carry,
//!   so every line is written on that one entry (a generic product);
//!   without it `lines` is skipped on writes. Lines read back keep their
//!   `Description`; the product is not mapped. The line ids change at
//!   each write (lines are replaced, not updated).
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
//! - The cursor resumes after `(SystemModstamp, Id)`. A record changed in
//!   the same second as the last one read, with a smaller id, after that
//!   read, would be missed until it changes again (Salesforce stamps carry
//!   seconds); this is the usual price of keyset paging on stamps.
//! - The first read starts the delete window a minute before it runs, so
//!   a record deleted in that minute can be reported deleted without ever
//!   having been read; the pipeline ignores deletes of unknown records.
//! - Subqueries of more than a page of line items are paged through by
//!   their own `nextRecordsUrl`.
//!
//! # Example
//!
//! ```
//! use odoo_integration_model::ClientCompany;
//! use odoo_integration_connectors::{Operation, Source};
//! use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
//! use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // An org on loopback (feature `fakes`); in production, your My Domain
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

mod auth;
mod http;
pub(crate) mod jwt;
mod maps;
mod read;
mod soql;
mod wire;
mod write;

pub use crate::mapping::{Conversion, FieldMap};
pub use auth::ConnectedApp;
pub use maps::{SObject, account_fields, contact_fields};
pub use read::KnownIds;

use crate::connector::{Capabilities, Connector};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use auth::Auth;
use maps::Settings;
use odoo_integration_model::{Currency, SystemId};
use secrecy::ExposeSecret;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Production login.
const LOGIN: &str = "https://login.salesforce.com";

/// The Salesforce connector: cheap to clone, clones share the token and
/// the usage budget.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
/// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("key", "top-secret")).build()?;
/// assert!(!format!("{sf:?}").contains("top-secret"));
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Clone)]
pub struct SalesforceConnector {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    auth: Auth,
    version: String,
    settings: Settings,
    sync_field: String,
    threshold_percent: u8,
    pause: Duration,
    budget: Mutex<Budget>,
    deleted_window: Duration,
    known_ids: Option<Arc<dyn KnownIds>>,
}

#[derive(Debug, Default)]
struct Budget {
    usage: Option<(u64, u64)>,
    refused_until: Option<Instant>,
}

impl fmt::Debug for SalesforceConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceConnector")
            .field("auth", &self.inner.auth)
            .field("version", &self.inner.version)
            .field("sync_field", &self.inner.sync_field)
            .finish_non_exhaustive()
    }
}

/// Builds a [`SalesforceConnector`]; each setter says its default.
///
/// # Example
///
/// ```
/// # use odoo_integration_connectors::salesforce::*;
/// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # use odoo_integration_connectors::{Operation, SinkRecord};
/// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
/// let org = FakeSalesforce::start().await?;
/// # org.allow_client("k", "s");
/// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
///     .login_url(org.url())
///     .api_version("v61.0")
///     .sync_field("Odoo_Key__c")
///     .build()?;
/// let acme = odoo_integration_model::ClientCompany { legal_name: "Acme NV".into(), ..Default::default() };
/// let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("7"), Operation::Upsert(acme));
/// let id = sf.upsert_one(&record).await?.remote_id().unwrap().to_string();
/// assert_eq!(org.record("Account", &id).unwrap()["Odoo_Key__c"], "odoo:7");
/// # Ok(()) }
/// ```
#[must_use]
pub struct SalesforceBuilder {
    credentials: ConnectedApp,
    login_url: String,
    version: String,
    settings: Settings,
    sync_field: String,
    threshold_percent: u8,
    pause: Duration,
    timeout: Duration,
    deleted_window: Duration,
    known_ids: Option<Arc<dyn KnownIds>>,
}

impl fmt::Debug for SalesforceBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SalesforceBuilder")
            .field("credentials", &self.credentials)
            .field("login_url", &self.login_url)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl SalesforceConnector {
    /// A builder signing in with `credentials`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
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
        SalesforceBuilder {
            credentials,
            login_url: LOGIN.to_owned(),
            version: "v62.0".to_owned(),
            settings: Settings {
                accounts: account_fields(),
                contacts: contact_fields(),
                currency: Currency::USD,
                multi_currency: false,
                stage_open: "Prospecting".into(),
                stage_won: "Closed Won".into(),
                stage_lost: "Closed Lost".into(),
                project_field: None,
                line_entry: None,
            },
            sync_field: "Integration_Sync_Id__c".into(),
            threshold_percent: 90,
            pause: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(120),
            deleted_window: Duration::from_secs(15 * 24 * 3600),
            known_ids: None,
        }
    }

    /// The org's API usage as Salesforce last reported it in
    /// `Sforce-Limit-Info`: `(used, daily limit)`; `None` before the first
    /// call.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s")).build()?;
    /// assert_eq!(sf.api_usage(), None);
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn api_usage(&self) -> Option<(u64, u64)> {
        self.inner.budget.lock().ok().and_then(|b| b.usage)
    }

    fn data_path(&self, rest: &str) -> String {
        format!("/services/data/{}{rest}", self.inner.version)
    }

    /// Refuses a call when the org's usage is at the threshold.
    fn check_budget(&self) -> Result<()> {
        let Ok(mut budget) = self.inner.budget.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        match budget.refused_until {
            Some(until) if until > now => {
                return Err(self.over_budget(budget.usage, until - now));
            }
            Some(_) => {
                // The pause is over: let one call through to learn the
                // usage again.
                budget.refused_until = None;
                return Ok(());
            }
            None => {}
        }
        if let Some((used, limit)) = budget.usage
            && limit > 0
            && u128::from(used) * 100
                >= u128::from(limit) * u128::from(self.inner.threshold_percent)
        {
            budget.refused_until = Some(now + self.inner.pause);
            return Err(self.over_budget(budget.usage, self.inner.pause));
        }
        Ok(())
    }

    fn over_budget(&self, usage: Option<(u64, u64)>, wait: Duration) -> ConnectorError {
        let (used, limit) = usage.unwrap_or_default();
        ConnectorError::rate_limited(
            format!(
                "the org has used {used} of its {limit} daily API calls, past the {} % kept for others",
                self.inner.threshold_percent
            ),
            Some(wait),
        )
        .with_system(SystemId::salesforce())
    }

    fn note_usage(&self, headers: &reqwest::header::HeaderMap) {
        let usage = headers
            .get("sforce-limit-info")
            .and_then(|v| v.to_str().ok())
            .and_then(http::parse_limit_info);
        if let Some(usage) = usage
            && let Ok(mut budget) = self.inner.budget.lock()
        {
            budget.usage = Some(usage);
        }
    }

    /// Sends one API call (a path under the instance URL, with its query),
    /// refreshing the token once on a 401. Returns the status (2xx or 300)
    /// and the body; every other status is a typed error.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Vec<u8>)> {
        self.check_budget()?;
        let label = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let mut token = self.inner.auth.token().await?;
        let mut refreshed = false;
        loop {
            let mut request = self
                .inner
                .http
                .request(method.clone(), format!("{}{path}", token.instance_url))
                .bearer_auth(token.access.expose_secret())
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
            self.note_usage(response.headers());
            let retry_after = http::retry_after(response.headers());
            let bytes = crate::web::read_body(response, SystemId::salesforce(), &label).await?;
            if status == 401 && !refreshed {
                tracing::debug!(call = %label, "salesforce: session expired, signing in again");
                refreshed = true;
                token = self.inner.auth.refresh(token.generation).await?;
                continue;
            }
            if (200..300).contains(&status) || status == 300 {
                return Ok((status, bytes));
            }
            let e = http::api_error(status, &bytes, retry_after);
            return Err(
                ConnectorError::new(e.kind(), format!("{label}: {}", e.message()))
                    .with_retry(e.retry_after())
                    .with_system(SystemId::salesforce()),
            );
        }
    }

    /// [`call`](Self::call), then the JSON answer decoded.
    async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T> {
        let label = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let (_, bytes) = self.call(method, path, body).await?;
        decode_json(&label, &bytes)
    }
}

/// Decodes a 2xx answer, naming what is wrong with it.
fn decode_json<T: serde::de::DeserializeOwned>(label: &str, bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|e| {
        ConnectorError::new(
            ConnectorErrorKind::Protocol,
            format!("{label}: {} ({e})", http::describe_body(bytes)),
        )
        .with_system(SystemId::salesforce())
    })
}

/// Keeps a rate limit's wait when a message is rewritten.
trait WithRetry {
    fn with_retry(self, wait: Option<Duration>) -> Self;
}

impl WithRetry for ConnectorError {
    fn with_retry(self, wait: Option<Duration>) -> Self {
        if self.kind() == ConnectorErrorKind::RateLimited {
            ConnectorError::rate_limited(self.message().to_owned(), wait)
        } else {
            self
        }
    }
}

impl SalesforceBuilder {
    /// Where to sign in. Default: `https://login.salesforce.com`; a sandbox
    /// uses `https://test.salesforce.com`, and a My Domain login URL works
    /// too (or a fake's URL in tests).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::Source;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// // A sandbox: "https://test.salesforce.com"; here the fake org.
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(format!("{}/", org.url()))
    ///     .build()?;
    /// Source::<odoo_integration_model::ClientCompany>::read(&sf, None, 100).await?;
    /// assert_eq!(org.token_requests(), 1);
    /// assert!(org.requests().iter().all(|r| !r.contains("//")));
    /// # Ok(()) }
    /// ```
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The REST API version, `vNN.N`. Default: `v62.0`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::Source;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .api_version("v60.0")
    ///     .build()?;
    /// Source::<odoo_integration_model::ClientCompany>::read(&sf, None, 100).await?;
    /// assert!(org.requests().iter().all(|r| r.contains("/services/data/v60.0/")));
    /// # Ok(()) }
    /// ```
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The external id field (unique, on every sObject written) that holds
    /// a record's origin key `system:id`, through which a record new to
    /// Salesforce is upserted. Default: `Integration_Sync_Id__c`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .sync_field("Odoo_Key__c")
    ///     .build()?;
    /// let acme = odoo_integration_model::ClientCompany { legal_name: "Acme NV".into(), ..Default::default() };
    /// // Twice: the second upsert finds the record by its origin key.
    /// let first = sf.upsert_one(&upsert("42", acme.clone())).await?;
    /// let again = sf.upsert_one(&upsert("42", acme)).await?;
    /// assert_eq!(first.remote_id(), again.remote_id());
    /// assert_eq!(org.records("Account").len(), 1);
    /// assert_eq!(org.records("Account")[0]["Odoo_Key__c"], "odoo:42");
    /// # Ok(()) }
    /// ```
    pub fn sync_field(mut self, field: impl Into<String>) -> Self {
        self.sync_field = field.into();
        self
    }

    /// Replaces the Account ⇄ client map. Default: [`account_fields`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// let mut map = account_fields();
    /// map.push(FieldMap::text("tax_id", "VAT_Number__c")); // a custom field: one map entry
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .account_map(map)
    ///     .build()?;
    /// let acme = odoo_integration_model::ClientCompany {
    ///     legal_name: "Acme NV".into(),
    ///     tax_id: Some("BE0123456789".into()),
    ///     ..Default::default()
    /// };
    /// let id = sf.upsert_one(&upsert("42", acme)).await?.remote_id().unwrap().to_string();
    /// assert_eq!(org.record("Account", &id).unwrap()["VAT_Number__c"], "BE0123456789");
    /// # Ok(()) }
    /// ```
    pub fn account_map(mut self, map: Vec<FieldMap>) -> Self {
        self.settings.accounts = map;
        self
    }

    /// Replaces the Contact field map (besides the name and the account).
    /// Default: [`contact_fields`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Source};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// org.insert("Contact", serde_json::json!({"LastName": "Lee", "Email": "ann@acme.example", "Phone": "+32 9 123"}));
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .contact_map(vec![FieldMap::text("email", "Email")])
    ///     .build()?;
    /// let page = Source::<odoo_integration_model::Contact>::read(&sf, None, 100).await?;
    /// let Operation::Upsert(ann) = &page.changes[0].operation else { panic!("a delete") };
    /// assert_eq!(ann.email.as_deref(), Some("ann@acme.example"));
    /// assert_eq!(ann.phone, None); // no longer mapped
    /// # Ok(()) }
    /// ```
    pub fn contact_map(mut self, map: Vec<FieldMap>) -> Self {
        self.settings.contacts = map;
        self
    }

    /// The org's currency, for amounts of an org without multi-currency.
    /// Default: USD.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Source};
    /// use odoo_integration_model::{Currency, Opportunity};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// org.insert("Opportunity", serde_json::json!({
    ///     "Name": "Rollout", "StageName": "Prospecting", "CloseDate": "2026-12-31", "Amount": 1250,
    /// }));
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .org_currency(Currency::EUR)
    ///     .build()?;
    /// let page = Source::<Opportunity>::read(&sf, None, 100).await?;
    /// let Operation::Upsert(deal) = &page.changes[0].operation else { panic!("a delete") };
    /// let amount = deal.amount.unwrap();
    /// assert_eq!(amount.amount(), rust_decimal::Decimal::from(1250));
    /// assert_eq!(amount.currency(), Currency::EUR);
    /// # Ok(()) }
    /// ```
    pub fn org_currency(mut self, currency: Currency) -> Self {
        self.settings.currency = currency;
        self
    }

    /// The org has multi-currency on: amounts carry `CurrencyIsoCode`.
    /// Default: off.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Source};
    /// use odoo_integration_model::{Currency, Opportunity};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// org.insert("Opportunity", serde_json::json!({
    ///     "Name": "Rollout", "StageName": "Prospecting", "CloseDate": "2026-12-31",
    ///     "Amount": 900, "CurrencyIsoCode": "GBP",
    /// }));
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .multi_currency()
    ///     .build()?;
    /// let page = Source::<Opportunity>::read(&sf, None, 100).await?;
    /// let Operation::Upsert(deal) = &page.changes[0].operation else { panic!("a delete") };
    /// assert_eq!(deal.amount.unwrap().currency(), Currency::GBP);
    /// # Ok(()) }
    /// ```
    pub fn multi_currency(mut self) -> Self {
        self.settings.multi_currency = true;
        self
    }

    /// The `StageName`s written for an open, a won and a lost opportunity.
    /// Default: `Prospecting`, `Closed Won`, `Closed Lost`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .stage_names("Qualification", "Closed Won", "Closed Lost")
    ///     .build()?;
    /// let deal = odoo_integration_model::Opportunity {
    ///     name: "Rollout".into(),
    ///     close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
    ///     ..Default::default() // an open stage
    /// };
    /// let id = sf.upsert_one(&upsert("9", deal)).await?.remote_id().unwrap().to_string();
    /// assert_eq!(org.record("Opportunity", &id).unwrap()["StageName"], "Qualification");
    /// # Ok(()) }
    /// ```
    pub fn stage_names(
        mut self,
        open: impl Into<String>,
        won: impl Into<String>,
        lost: impl Into<String>,
    ) -> Self {
        self.settings.stage_open = open.into();
        self.settings.stage_won = won.into();
        self.settings.stage_lost = lost.into();
        self
    }

    /// The Opportunity field holding `project_ref` (the ERP project).
    /// Default: none (not mapped).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .project_field("Odoo_Project__c")
    ///     .build()?;
    /// let deal = odoo_integration_model::Opportunity {
    ///     name: "Rollout".into(),
    ///     close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
    ///     project_ref: Some("17".into()),
    ///     ..Default::default()
    /// };
    /// let id = sf.upsert_one(&upsert("9", deal)).await?.remote_id().unwrap().to_string();
    /// assert_eq!(org.record("Opportunity", &id).unwrap()["Odoo_Project__c"], "17");
    /// # Ok(()) }
    /// ```
    pub fn project_field(mut self, field: impl Into<String>) -> Self {
        self.settings.project_field = Some(field.into());
        self
    }

    /// Writes opportunity line items: each canonical line becomes an
    /// `OpportunityLineItem` of the price book entry `entry_id`
    /// (`PricebookEntryId`, `01u…`), with its `Quantity`, `UnitPrice`
    /// (exact, in the opportunity's currency) and `Description`. Take the
    /// entry of a generic service product (say "Services") in the org's
    /// standard price book, active, in the org's currency.
    ///
    /// The opportunity must use that entry's price book (`Pricebook2Id`):
    /// Salesforce sets it on an opportunity that has none when its first
    /// line is created, and refuses the lines of an opportunity already
    /// on another price book (the record fails with that error). In a
    /// multi-currency org the entry's currency must be the opportunity's.
    ///
    /// When the policy lets `lines` through, a written opportunity's lines
    /// are **replaced as a whole**: its current line items are deleted and
    /// the lines created again, so a replayed batch never leaves two sets.
    /// Default: none: `lines` is not written (only read).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{Operation, Sink, SinkRecord};
    /// use odoo_integration_model::{CanonicalId, ContractLine, Currency, Money, Opportunity, RemoteId, SystemId};
    /// use rust_decimal::Decimal;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .line_pricebook_entry("01u5g00000AbCdEAAV")
    ///     .build()?;
    /// let line = ContractLine {
    ///     description: "Implementation".into(),
    ///     quantity: Decimal::from(3),
    ///     unit_price: Some(Money::new(Decimal::new(12_000, 2), Currency::USD)),
    ///     ..Default::default()
    /// };
    /// let deal = Opportunity {
    ///     name: "Rollout".into(),
    ///     close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
    ///     lines: vec![line],
    ///     ..Default::default()
    /// };
    /// let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("9"), Operation::Upsert(deal));
    /// let outcomes = sf.apply(vec![record]).await?;
    /// assert!(outcomes[0].is_success());
    /// let items = org.records("OpportunityLineItem");
    /// assert_eq!(items.len(), 1);
    /// assert_eq!(items[0]["PricebookEntryId"], "01u5g00000AbCdEAAV");
    /// assert_eq!(items[0]["Description"], "Implementation");
    /// # Ok(()) }
    /// ```
    pub fn line_pricebook_entry(mut self, entry_id: impl Into<String>) -> Self {
        self.settings.line_entry = Some(entry_id.into());
        self
    }

    /// The share of the org's daily API calls (in percent, 1–100) past
    /// which the connector refuses calls. Default: 90.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// org.set_api_usage(12_000, 15_000); // 80 % of the day's calls spent
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .usage_threshold(75)
    ///     .build()?;
    /// let acme = odoo_integration_model::ClientCompany { legal_name: "Acme NV".into(), ..Default::default() };
    /// sf.upsert_one(&upsert("1", acme.clone())).await?; // learns the usage
    /// let refused = sf.upsert_one(&upsert("2", acme)).await.unwrap_err();
    /// assert_eq!(refused.kind(), ConnectorErrorKind::RateLimited);
    /// assert_eq!(org.records("Account").len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn usage_threshold(mut self, percent: u8) -> Self {
        self.threshold_percent = percent.clamp(1, 100);
        self
    }

    /// How long calls are refused once the threshold is reached, before
    /// one call reads the usage again. Default: 15 minutes.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # use odoo_integration_connectors::{Operation, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # fn upsert<E>(id: &str, e: E) -> SinkRecord<E> {
    /// #     SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new(id), Operation::Upsert(e))
    /// # }
    /// use std::time::Duration;
    /// org.set_api_usage(14_000, 15_000);
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .usage_pause(Duration::from_secs(3600))
    ///     .build()?;
    /// let acme = odoo_integration_model::ClientCompany { legal_name: "Acme NV".into(), ..Default::default() };
    /// sf.upsert_one(&upsert("1", acme.clone())).await?;
    /// let refused = sf.upsert_one(&upsert("2", acme)).await.unwrap_err();
    /// assert_eq!(refused.retry_after(), Some(Duration::from_secs(3600)));
    /// # Ok(()) }
    /// ```
    pub fn usage_pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// The timeout of each HTTP request. Default: 120 s.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::Source;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// org.insert("Account", serde_json::json!({"Name": "Acme NV"}));
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .timeout(std::time::Duration::from_secs(30))
    ///     .build()?;
    /// let page = Source::<odoo_integration_model::ClientCompany>::read(&sf, None, 100).await?;
    /// assert_eq!(page.changes.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How far back getDeleted reaches in this org. Past it, deletes are
    /// found by a full compare of ids (see the module docs). Default: 15
    /// days; less if your admins purge the recycle bin sooner.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::{ConnectorErrorKind, Source};
    /// use odoo_integration_model::ClientCompany;
    /// use std::time::Duration;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .deleted_window(Duration::from_secs(7 * 24 * 3600))
    ///     .build()?;
    /// Source::<ClientCompany>::read(&sf, None, 100).await?;
    /// assert!(org.requests().iter().any(|r| r.contains("/sobjects/Account/deleted")));
    ///
    /// // With no window every read needs a full compare, hence known ids.
    /// let blind = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .deleted_window(Duration::ZERO)
    ///     .build()?;
    /// let e = Source::<ClientCompany>::read(&blind, None, 100).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
    /// # Ok(()) }
    /// ```
    pub fn deleted_window(mut self, window: Duration) -> Self {
        self.deleted_window = window;
        self
    }

    /// The ids the sync knows, for the full compare that finds deletes
    /// older than the getDeleted window. Default: none (such a read fails).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_connectors::fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_model::ClientCompany;
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    ///
    /// /// The ids the sync has seen (in practice, from the cross-reference store).
    /// struct Seen(Vec<String>);
    /// #[async_trait::async_trait]
    /// impl KnownIds for Seen {
    ///     async fn known_ids(&self, _entity: &str) -> odoo_integration_connectors::Result<Vec<String>> {
    ///         Ok(self.0.clone())
    ///     }
    /// }
    /// let acme = org.insert("Account", serde_json::json!({"Name": "Acme NV"}));
    /// let gone = org.insert("Account", serde_json::json!({"Name": "Gone BV"}));
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .deleted_window(Duration::ZERO) // always past getDeleted's reach
    ///     .known_ids(Arc::new(Seen(vec![acme, gone.clone()])))
    ///     .build()?;
    /// let (_, cursor) = read_to_end::<ClientCompany>(&sf, None, 100).await?;
    /// org.delete("Account", &gone);
    /// let (changes, _) = read_to_end::<ClientCompany>(&sf, Some(cursor), 100).await?;
    /// assert!(changes.iter().any(|c| c.operation.is_delete() && c.remote_id.as_str() == gone));
    /// # Ok(()) }
    /// ```
    pub fn known_ids(mut self, known: Arc<dyn KnownIds>) -> Self {
        self.known_ids = Some(known);
        self
    }

    /// The connector.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] for an API version that is not
    /// `vNN.N`, a field name that is not an API name, a line price book
    /// entry that is not a record id, or an HTTP client that cannot be
    /// built.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// let err = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .sync_field("Bad Field")
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), odoo_integration_connectors::ConnectorErrorKind::Configuration);
    /// ```
    pub fn build(self) -> Result<SalesforceConnector> {
        let config = |m: String| {
            ConnectorError::new(ConnectorErrorKind::Configuration, m)
                .with_system(SystemId::salesforce())
        };
        let version_ok = self
            .version
            .strip_prefix('v')
            .and_then(|v| v.split_once('.'))
            .is_some_and(|(a, b)| {
                !a.is_empty()
                    && !b.is_empty()
                    && a.chars().all(|c| c.is_ascii_digit())
                    && b.chars().all(|c| c.is_ascii_digit())
            });
        if !version_ok {
            return Err(config(format!(
                "API version `{}` is not like `v62.0`",
                self.version
            )));
        }
        let names = self
            .settings
            .accounts
            .iter()
            .chain(&self.settings.contacts)
            .flat_map(FieldMap::sources)
            .chain(self.settings.project_field.as_deref())
            .chain([self.sync_field.as_str()]);
        for name in names {
            if !soql::is_api_name(name) {
                return Err(config(format!("`{name}` is not a Salesforce field name")));
            }
        }
        if let Some(entry) = &self.settings.line_entry
            && !soql::is_record_id(entry)
        {
            return Err(config(format!(
                "`{entry}` is not a Salesforce id (of a price book entry)"
            )));
        }
        let http = crate::web::http_client(self.timeout, SystemId::salesforce())?;
        Ok(SalesforceConnector {
            inner: Arc::new(Inner {
                auth: Auth::new(self.credentials, Arc::from(self.login_url), http.clone()),
                http,
                version: self.version,
                settings: self.settings,
                sync_field: self.sync_field,
                threshold_percent: self.threshold_percent,
                pause: self.pause,
                budget: Mutex::new(Budget::default()),
                deleted_window: self.deleted_window,
                known_ids: self.known_ids,
            }),
        })
    }
}

impl Connector for SalesforceConnector {
    fn system(&self) -> SystemId {
        SystemId::salesforce()
    }
    fn capabilities(&self) -> Capabilities {
        // Salesforce limits calls per day (see the usage threshold), not
        // per second: no quota here.
        Capabilities::new()
            .reads(["client", "contact", "opportunity"])
            .writes(["client", "contact", "opportunity"])
            .incremental(true)
            .detects_deletes(true)
    }
}
