//! Building a [`SalesforceConnector`]: sign-in, API version, maps,
//! limits.

use super::auth::{ConnectedApp, SignIn};
use super::http::{Budget, SalesforceApi};
use super::known::KnownIds;
use super::maps::{Settings, account_fields, contact_fields};
use super::{Inner, SalesforceConnector, soql};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::http::{OAuth, RestClient};
use crate::mapping::FieldMap;
use odoo_integration_model::{Currency, SystemId};
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Production login.
const LOGIN: &str = "https://login.salesforce.com";

/// Builds a [`SalesforceConnector`]; each setter says its default.
///
/// # Example
///
/// ```
/// # use odoo_integration_connectors::salesforce::*;
/// # use odoo_integration_fakes::salesforce::FakeSalesforce;
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
    pub(super) settings: Settings,
    sync_field: String,
    threshold_percent: u8,
    pause: Duration,
    timeout: Duration,
    deleted_window: Duration,
    overlap: Duration,
    deleted_interval: Duration,
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

impl SalesforceBuilder {
    /// The defaults, signing in with `credentials`.
    pub(super) fn new(credentials: ConnectedApp) -> Self {
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
                opportunities: Vec::new(),
                line_entry: None,
                objects: std::collections::BTreeMap::new(),
            },
            sync_field: "Integration_Sync_Id__c".into(),
            threshold_percent: 90,
            pause: Duration::from_secs(15 * 60),
            timeout: Duration::from_secs(120),
            deleted_window: Duration::from_secs(15 * 24 * 3600),
            overlap: Duration::from_secs(5 * 60),
            deleted_interval: Duration::from_secs(5 * 60),
            known_ids: None,
        }
    }

    /// Where to sign in. Default: `https://login.salesforce.com`; a sandbox
    /// uses `https://test.salesforce.com`, and a My Domain login URL works
    /// too (or a fake's URL in tests).
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
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
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
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
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

    /// The share of the org's daily API calls (in percent, 1–100) past
    /// which the connector refuses calls. Default: 90.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
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
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
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
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
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
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
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

    /// The least time between two looks for deletes of one sObject
    /// (getDeleted, or the full compare that stands in for it): Salesforce
    /// asks replication clients to call getDeleted for an object at most
    /// once every 5 minutes. A read within the interval hands out changes
    /// only; its deletes come with a later read. The cursor remembers the
    /// last look (by this machine's clock), so successive runs honour it
    /// too. Default: 5 minutes.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_model::ClientCompany;
    /// use std::time::Duration;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .deleted_interval(Duration::from_secs(15 * 60))
    ///     .build()?;
    /// let (_, cursor) = read_to_end::<ClientCompany>(&sf, None, 100).await?;
    /// read_to_end::<ClientCompany>(&sf, Some(cursor), 100).await?;
    /// assert_eq!(org.get_deleted_calls("Account"), 1); // the second read did not ask
    /// # Ok(()) }
    /// ```
    pub fn deleted_interval(mut self, interval: Duration) -> Self {
        self.deleted_interval = interval;
        self
    }

    /// How far behind the newest `SystemModstamp` read each caught-up read
    /// looks again. Salesforce stamps a record when its transaction writes
    /// it, not when it commits: a long transaction can commit records
    /// stamped behind what was already read. They are read once (records
    /// already handed out with the same stamp are skipped); a commit later
    /// than the overlap is missed until the record changes again. The
    /// cursor carries the ids read within the overlap. Default: 5 minutes.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_model::ClientCompany;
    /// use std::time::Duration;
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
    ///     .login_url(org.url())
    ///     .overlap(Duration::from_secs(15 * 60)) // transactions of up to 15 minutes
    ///     .build()?;
    /// org.insert("Account", serde_json::json!({"Name": "Acme NV"}));
    /// let (_, cursor) = read_to_end::<ClientCompany>(&sf, None, 100).await?;
    /// let began = chrono::Utc::now() - chrono::TimeDelta::minutes(10);
    /// let late = org.insert_committed_at("Account", serde_json::json!({"Name": "Late BV"}), began);
    /// let (changes, _) = read_to_end::<ClientCompany>(&sf, Some(cursor), 100).await?;
    /// assert_eq!(changes.len(), 1);
    /// assert_eq!(changes[0].remote_id.as_str(), late);
    /// # Ok(()) }
    /// ```
    pub fn overlap(mut self, overlap: Duration) -> Self {
        self.overlap = overlap;
        self
    }

    /// The ids the sync knows, for the full compare that finds deletes
    /// older than the getDeleted window: usually
    /// [`StoredIds`](super::StoredIds) over the pipeline's store. Default:
    /// none (such a read fails).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
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
    ///     .deleted_interval(Duration::ZERO) // look for deletes at every read
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
        // Salesforce refuses this flow on the generic login hosts.
        let host = super::auth::host_of(&self.login_url);
        if self.credentials.needs_my_domain()
            && matches!(
                host.as_str(),
                "login.salesforce.com" | "test.salesforce.com"
            )
        {
            return Err(config(format!(
                "the client-credentials flow needs your org's My Domain URL \
                 (https://yourcompany.my.salesforce.com) as the login URL, not {host}: \
                 Salesforce refuses it there (`invalid_grant: request not supported on this domain`)"
            )));
        }
        let names = self
            .settings
            .accounts
            .iter()
            .chain(&self.settings.contacts)
            .chain(&self.settings.opportunities)
            .chain(self.settings.objects.values().flat_map(|o| &o.fields))
            .flat_map(FieldMap::sources)
            .chain(self.settings.objects.values().map(|o| o.sobject.as_str()))
            .chain(self.settings.project_field.as_deref())
            .chain([self.sync_field.as_str()]);
        for name in names {
            if !soql::is_api_name(name) {
                return Err(config(format!("`{name}` is not a Salesforce field name")));
            }
        }
        if let Some(built_in) = ["client", "contact", "opportunity"]
            .into_iter()
            .find(|e| self.settings.objects.contains_key(*e))
        {
            return Err(config(format!(
                "{built_in} is mapped by the connector itself: change its fields with \
                 `account_map` or `contact_map`, not `object_map`"
            )));
        }
        if let Some(entry) = &self.settings.line_entry
            && !soql::is_record_id(entry)
        {
            return Err(config(format!(
                "`{entry}` is not a Salesforce id (of a price book entry)"
            )));
        }
        let http = crate::http::http_client(self.timeout, SystemId::salesforce())?;
        let budget = Arc::new(Mutex::new(Budget::default()));
        let login_url: Arc<str> = Arc::from(self.login_url);
        let auth = OAuth::new(SignIn::new(
            self.credentials,
            login_url.clone(),
            http.clone(),
        ));
        let api = SalesforceApi {
            budget: budget.clone(),
            threshold_percent: self.threshold_percent,
            pause: self.pause,
        };
        // The instance URL comes with the token; the login URL is only
        // the fallback.
        let client = RestClient::builder(http, &login_url, Arc::new(auth), Arc::new(api)).build();
        Ok(SalesforceConnector {
            inner: Arc::new(Inner {
                client,
                version: self.version,
                settings: self.settings,
                sync_field: self.sync_field,
                budget,
                deleted_window: self.deleted_window,
                overlap: self.overlap,
                deleted_interval: self.deleted_interval,
                known_ids: self.known_ids,
            }),
        })
    }
}
