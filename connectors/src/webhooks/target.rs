//! What a routed event feeds: a pipeline and the targeted read of its
//! source, type-erased so pipelines of different entities share one table.

use crate::pipeline::targeted::FetchByIds;
use crate::{Pipeline, Result, RunSummary};
use async_trait::async_trait;
use odoo_integration_model::{Entity, RemoteId};
use std::fmt;
use std::sync::Arc;

/// A pipeline and how to read its source's records by id: where the
/// receiver sends the ids of a route ([`PushReceiverBuilder::route_odoo`](super::PushReceiverBuilder::route_odoo)
/// and its siblings). Cheap to clone.
///
/// # Example
///
/// ```
/// use odoo_integration_client::{Protocol, test_server::TestServer};
/// use odoo_integration_connectors::{MemoryStore, Pipeline, Sink};
/// use odoo_integration_connectors::odoo::OdooConnector;
/// use odoo_integration_connectors::webhooks::PushTarget;
/// use odoo_integration_model::ClientCompany;
/// use std::sync::Arc;
/// # fn warehouse(odoo: &Arc<OdooConnector>) -> Arc<dyn Sink<ClientCompany>> { odoo.clone() }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// let odoo = Arc::new(OdooConnector::new(server.client(Protocol::Json2)?));
/// let pipeline = Pipeline::<ClientCompany>::builder("odoo→warehouse", odoo.clone(), warehouse(&odoo), Arc::new(MemoryStore::new())).build()?;
/// // Pushed Odoo ids are read back from Odoo by id, then synced.
/// let target = PushTarget::new(Arc::new(pipeline), odoo);
/// assert_eq!(target.name(), "odoo→warehouse");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PushTarget {
    inner: Arc<dyn Targeted>,
}

impl fmt::Debug for PushTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushTarget")
            .field("pipeline", &self.inner.name())
            .field("entity", &self.inner.entity())
            .finish()
    }
}

impl PushTarget {
    /// Pushed ids go to `pipeline`, read through `fetch` (the pipeline's
    /// source, or anything reading the same system).
    ///
    /// # Example
    ///
    /// See [`PushTarget`].
    pub fn new<E: Entity + Default + Send + Sync + 'static>(
        pipeline: Arc<Pipeline<E>>,
        fetch: Arc<dyn FetchByIds<E>>,
    ) -> Self {
        PushTarget {
            inner: Arc::new(Bound { pipeline, fetch }),
        }
    }

    /// The pipeline's name.
    ///
    /// # Example
    ///
    /// See [`PushTarget`].
    pub fn name(&self) -> &str {
        self.inner.name()
    }

    pub(super) async fn sync(&self, ids: &[RemoteId]) -> Result<RunSummary> {
        self.inner.sync(ids).await
    }
}

#[async_trait]
trait Targeted: Send + Sync {
    fn name(&self) -> &str;
    fn entity(&self) -> &'static str;
    async fn sync(&self, ids: &[RemoteId]) -> Result<RunSummary>;
}

struct Bound<E: Entity> {
    pipeline: Arc<Pipeline<E>>,
    fetch: Arc<dyn FetchByIds<E>>,
}

#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> Targeted for Bound<E> {
    fn name(&self) -> &str {
        self.pipeline.name()
    }
    fn entity(&self) -> &'static str {
        E::NAME
    }
    async fn sync(&self, ids: &[RemoteId]) -> Result<RunSummary> {
        self.pipeline.sync_ids(self.fetch.as_ref(), ids).await
    }
}
