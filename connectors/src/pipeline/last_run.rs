//! What the last run of a pipeline did, kept in the state store beside its
//! checkpoint so that any process (the operator CLI's `status`, another
//! worker) can say when it last ran, how it ended and how far behind it is.

use super::{Pipeline, RunSummary};
use crate::connector::Cursor;
use crate::error::Result;
use crate::store::CheckpointStore;
use chrono::{DateTime, Utc};
use odoo_integration_model::Entity;
use serde::{Deserialize, Serialize};

/// The last run of a pipeline, as stored (under the checkpoint key
/// `NAME#last-run`).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{LastRunRecord, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let store = MemoryStore::new();
/// assert!(LastRunRecord::load(&store, "hubspot→odoo/client").await?.is_none());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LastRunRecord {
    /// When it started.
    pub started: DateTime<Utc>,
    /// When it ended.
    pub finished: DateTime<Utc>,
    /// What it did, when it ended well (counts only; no record data).
    pub summary: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
    /// The newest change it applied (or of the last one that applied any):
    /// the lag is now minus this.
    pub newest_change: Option<DateTime<Utc>>,
}

impl LastRunRecord {
    /// The checkpoint key it is kept under.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::LastRunRecord::key("p"), "p#last-run");
    /// ```
    pub fn key(pipeline: &str) -> String {
        format!("{pipeline}#last-run")
    }

    /// The stored record of `pipeline`'s last run; `None` before the first
    /// or when what is stored does not decode (written by an incompatible
    /// version).
    ///
    /// # Errors
    ///
    /// The store could not be read.
    ///
    /// # Example
    ///
    /// See [`LastRunRecord`].
    pub async fn load(store: &dyn CheckpointStore, pipeline: &str) -> Result<Option<Self>> {
        Ok(store
            .checkpoint(&LastRunRecord::key(pipeline))
            .await?
            .and_then(|c| serde_json::from_str(c.as_str()).ok()))
    }

    /// How far behind the pipeline was at `now`: now minus the newest
    /// change applied.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::LastRunRecord;
    /// # use chrono::{TimeDelta, Utc};
    /// # async fn f(r: LastRunRecord) {
    /// let lag: Option<TimeDelta> = r.lag(Utc::now());
    /// # }
    /// ```
    pub fn lag(&self, now: DateTime<Utc>) -> Option<chrono::TimeDelta> {
        self.newest_change.map(|t| now - t)
    }
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Stores the record of a run that started at `started`. A failure to
    /// store it is logged, never the run's failure.
    pub(super) async fn record_run(
        &self,
        started: DateTime<Utc>,
        run: std::result::Result<&RunSummary, &crate::ConnectorError>,
        newest: Option<DateTime<Utc>>,
    ) {
        let key = LastRunRecord::key(&self.name);
        let previous = LastRunRecord::load(self.state.as_ref(), &self.name)
            .await
            .ok()
            .flatten();
        let record = LastRunRecord {
            started,
            finished: Utc::now(),
            summary: run.ok().map(ToString::to_string),
            error: run.err().map(ToString::to_string),
            newest_change: newest.or(previous.and_then(|p| p.newest_change)),
        };
        let saved = match serde_json::to_string(&record) {
            Ok(json) => self.state.save_checkpoint(&key, &Cursor::new(json)).await,
            Err(e) => Err(crate::ConnectorError::store(e.to_string())),
        };
        if let Err(e) = saved {
            tracing::warn!(pipeline = %self.name, error = %e, "the last run could not be recorded");
        }
    }
}
