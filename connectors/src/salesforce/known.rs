//! The ids a full compare checks against Salesforce's: [`KnownIds`], and
//! [`StoredIds`], which reads them from the sync's cross-reference store.

use crate::error::Result;
use crate::store::XrefStore;
use async_trait::async_trait;
use odoo_integration_model::SystemId;
use std::fmt;
use std::sync::Arc;

/// The ids of one entity that the sync has seen in Salesforce and not yet
/// seen deleted: what a full compare checks against Salesforce's ids when
/// the cursor is older than getDeleted's window. [`StoredIds`] reads them
/// from the sync's cross-reference store; implement it yourself to keep
/// them elsewhere.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::salesforce::KnownIds;
///
/// struct Fixed(Vec<String>);
/// #[async_trait::async_trait]
/// impl KnownIds for Fixed {
///     async fn known_ids(&self, entity: &str) -> odoo_integration_connectors::Result<Vec<String>> {
///         Ok(if entity == "client" { self.0.clone() } else { vec![] })
///     }
/// }
/// ```
#[async_trait]
pub trait KnownIds: Send + Sync {
    /// The Salesforce ids known for `entity` (`client`, `contact`,
    /// `opportunity`).
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn known_ids(&self, entity: &str) -> Result<Vec<String>>;
}

#[async_trait]
impl<T: KnownIds + ?Sized> KnownIds for Arc<T> {
    async fn known_ids(&self, entity: &str) -> Result<Vec<String>> {
        (**self).known_ids(entity).await
    }
}

/// [`KnownIds`] over the sync's cross-reference store: the Salesforce ids
/// linked for the entity, that is every record the sync has written to or
/// read from Salesforce.
///
/// # Example
///
/// ```
/// # use odoo_integration_connectors::salesforce::*;
/// # use odoo_integration_fakes::salesforce::FakeSalesforce;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use odoo_integration_connectors::{Link, MemoryStore, XrefStore, read_to_end};
/// use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
/// use std::sync::Arc;
/// use std::time::Duration;
/// let org = FakeSalesforce::start().await?;
/// # org.allow_client("k", "s");
/// let acme = org.insert("Account", serde_json::json!({"Name": "Acme NV"}));
/// let gone = org.insert("Account", serde_json::json!({"Name": "Gone BV"}));
/// // The store the pipeline keeps its links in.
/// let state = Arc::new(MemoryStore::new());
/// for id in [&acme, &gone] {
///     state.link(&[Link::new("client", CanonicalId::new(), SystemId::salesforce(), RemoteId::new(id.as_str()))]).await?;
/// }
/// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
///     .login_url(org.url())
///     .deleted_window(Duration::ZERO) // always past getDeleted's reach
///     .deleted_interval(Duration::ZERO) // look for deletes at every read
///     .known_ids(Arc::new(StoredIds::new(state.clone())))
///     .build()?;
/// let (_, cursor) = read_to_end::<ClientCompany>(&sf, None, 100).await?;
/// org.delete("Account", &gone);
/// let (changes, _) = read_to_end::<ClientCompany>(&sf, Some(cursor), 100).await?;
/// assert!(changes.iter().any(|c| c.operation.is_delete() && c.remote_id.as_str() == gone));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct StoredIds {
    store: Arc<dyn XrefStore>,
    system: SystemId,
}

impl fmt::Debug for StoredIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredIds")
            .field("system", &self.system)
            .finish_non_exhaustive()
    }
}

impl StoredIds {
    /// The Salesforce ids (system [`SystemId::salesforce`]) linked in
    /// `store`.
    ///
    /// # Example
    ///
    /// See [`StoredIds`].
    pub fn new(store: Arc<dyn XrefStore>) -> Self {
        StoredIds {
            store,
            system: SystemId::salesforce(),
        }
    }

    /// The ids linked under `system` instead: for a connector whose
    /// [`SystemId`] is not the default one (two orgs, say).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::MemoryStore;
    /// use odoo_integration_connectors::salesforce::StoredIds;
    /// use odoo_integration_model::SystemId;
    /// use std::sync::Arc;
    /// let eu = StoredIds::new(Arc::new(MemoryStore::new())).system(SystemId::new("salesforce-eu"));
    /// assert!(format!("{eu:?}").contains("salesforce-eu"));
    /// ```
    #[must_use]
    pub fn system(mut self, system: SystemId) -> Self {
        self.system = system;
        self
    }
}

#[async_trait]
impl KnownIds for StoredIds {
    async fn known_ids(&self, entity: &str) -> Result<Vec<String>> {
        let ids = self.store.remote_ids(entity, &self.system).await?;
        Ok(ids.iter().map(|id| id.as_str().to_owned()).collect())
    }
}
