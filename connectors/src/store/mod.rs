//! Where a sync keeps its state between runs: checkpoints, cross-references,
//! the canonical records (with their provenance trail) and the dead-letter
//! queue.
//!
//! Each is a trait, so a user can keep state where they like. Two
//! implementations hold all four: [`MemoryStore`] (tests, one-shot runs) and
//! [`FileStore`] (a directory of JSON files, each replaced atomically: temp
//! file, fsync, rename, so a kill mid-write leaves the old or the new file,
//! never half of one).

mod file;
mod memory;
mod state;

pub use file::FileStore;
pub use memory::MemoryStore;

use crate::connector::Cursor;
use crate::error::{ErrorRecord, Result};
use async_trait::async_trait;
use canonical_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Stores the cursor of each sync (by a name the caller picks).
///
/// # Example
///
/// ```
/// use connectors::{CheckpointStore, Cursor, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> connectors::Result<()> {
/// let store = MemoryStore::new();
/// store.save_checkpoint("hubspot→odoo/client", &Cursor::new("p7")).await?;
/// assert_eq!(store.checkpoint("hubspot→odoo/client").await?, Some(Cursor::new("p7")));
/// # Ok(()) }
/// ```
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// The stored cursor, `None` before the first run.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn checkpoint(&self, key: &str) -> Result<Option<Cursor>>;
    /// Replaces the cursor.
    ///
    /// # Errors
    ///
    /// The store could not be written; the old cursor stays.
    async fn save_checkpoint(&self, key: &str, cursor: &Cursor) -> Result<()>;
}

/// One cross-reference: canonical record `id` of `entity` is `remote_id`
/// in `system`.
///
/// # Example
///
/// ```
/// use canonical_model::{CanonicalId, RemoteId, SystemId};
/// let l = connectors::Link::new("client", CanonicalId::new(), SystemId::odoo(), RemoteId::new("7"));
/// assert_eq!(l.system.as_str(), "odoo");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Entity name.
    pub entity: String,
    /// Canonical id.
    pub id: CanonicalId,
    /// System.
    pub system: SystemId,
    /// The id there.
    pub remote_id: RemoteId,
}

impl Link {
    /// A link.
    ///
    /// # Example
    ///
    /// ```
    /// # use canonical_model::{CanonicalId, RemoteId, SystemId};
    /// let l = connectors::Link::new("contact", CanonicalId::new(), SystemId::hubspot(), RemoteId::new("51"));
    /// assert_eq!(l.remote_id.as_str(), "51");
    /// ```
    pub fn new(
        entity: impl Into<String>,
        id: CanonicalId,
        system: SystemId,
        remote_id: RemoteId,
    ) -> Self {
        Link {
            entity: entity.into(),
            id,
            system,
            remote_id,
        }
    }
}

/// Cross-references between canonical ids and each system's ids.
///
/// A remote id belongs to one canonical record: linking it to a second one
/// is an error, never a silent re-point.
///
/// # Example
///
/// ```
/// use canonical_model::{CanonicalId, RemoteId, SystemId};
/// use connectors::{Link, MemoryStore, XrefStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> connectors::Result<()> {
/// let store = MemoryStore::new();
/// let acme = CanonicalId::new();
/// store.link(&[Link::new("client", acme, SystemId::hubspot(), RemoteId::new("981"))]).await?;
/// assert_eq!(store.resolve("client", &SystemId::hubspot(), &RemoteId::new("981")).await?, Some(acme));
/// assert_eq!(store.cross_refs(acme).await?.len(), 1);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait XrefStore: Send + Sync {
    /// The canonical id of `remote` in `system`, if linked.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn resolve(
        &self,
        entity: &str,
        system: &SystemId,
        remote: &RemoteId,
    ) -> Result<Option<CanonicalId>>;
    /// Every system's id of canonical record `id` (canonical ids are unique
    /// across entities).
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn cross_refs(&self, id: CanonicalId) -> Result<CrossRefs>;
    /// Records links, all or none. Linking what is already linked is a
    /// no-op; a system's record linked to two canonical ids, or a
    /// canonical record given a second id in one system, is an error.
    ///
    /// # Errors
    ///
    /// A conflicting link (nothing is stored), or the store failed.
    async fn link(&self, links: &[Link]) -> Result<()>;
}

/// The canonical records, with their provenance trail, as JSON (a
/// [`canonical_model::Record`] serialised).
///
/// # Example
///
/// ```
/// use canonical_model::CanonicalId;
/// use connectors::{MemoryStore, RecordStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> connectors::Result<()> {
/// let store = MemoryStore::new();
/// let id = CanonicalId::new();
/// store.save_records("client", vec![(id, serde_json::json!({"legal_name": "Acme"}))]).await?;
/// assert!(store.record("client", id).await?.is_some());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// A stored record.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn record(&self, entity: &str, id: CanonicalId) -> Result<Option<serde_json::Value>>;
    /// Stores records (replacing), all or none.
    ///
    /// # Errors
    ///
    /// The store could not be written; nothing changed.
    async fn save_records(
        &self,
        entity: &str,
        records: Vec<(CanonicalId, serde_json::Value)>,
    ) -> Result<()>;
}

/// A record that could not be applied, kept for replay.
///
/// # Example
///
/// ```
/// use canonical_model::{RemoteId, SystemId};
/// use connectors::{ConnectorError, DeadLetter, ErrorKind};
/// let l = DeadLetter::new("client", SystemId::hubspot(), RemoteId::new("9"), serde_json::json!({}),
///     &ConnectorError::new(ErrorKind::Invalid, "name is required"));
/// assert_eq!(l.key, "client/hubspot/9");
/// assert_eq!(l.attempts, 1);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// `entity/system/remote id`: one letter per source record.
    pub key: String,
    /// Entity name.
    pub entity: String,
    /// The system the record came from.
    pub system: SystemId,
    /// Its id there.
    pub remote_id: RemoteId,
    /// The change as read (a serialised [`SourceChange`](crate::SourceChange)).
    pub payload: serde_json::Value,
    /// The last error.
    pub error: ErrorRecord,
    /// Failed attempts so far.
    pub attempts: u32,
    /// First failure.
    pub first_seen: DateTime<Utc>,
    /// Last failure.
    pub last_seen: DateTime<Utc>,
    /// Parked: failed too often; not replayed until a person looks.
    pub parked: bool,
}

impl DeadLetter {
    /// A first failure, now.
    ///
    /// # Example
    ///
    /// ```
    /// # use canonical_model::{RemoteId, SystemId};
    /// # use connectors::{ConnectorError, DeadLetter, ErrorKind};
    /// let l = DeadLetter::new("contact", SystemId::new("csv"), RemoteId::new("a1"), serde_json::Value::Null,
    ///     &ConnectorError::new(ErrorKind::Validation, "email missing"));
    /// assert!(!l.parked);
    /// ```
    pub fn new(
        entity: &str,
        system: SystemId,
        remote_id: RemoteId,
        payload: serde_json::Value,
        error: &crate::ConnectorError,
    ) -> Self {
        let now = Utc::now();
        DeadLetter {
            key: DeadLetter::key_of(entity, &system, &remote_id),
            entity: entity.to_owned(),
            system,
            remote_id,
            payload,
            error: error.into(),
            attempts: 1,
            first_seen: now,
            last_seen: now,
            parked: false,
        }
    }

    /// The key of a source record's letter.
    ///
    /// # Example
    ///
    /// ```
    /// # use canonical_model::{RemoteId, SystemId};
    /// assert_eq!(connectors::DeadLetter::key_of("client", &SystemId::odoo(), &RemoteId::new("3")), "client/odoo/3");
    /// ```
    pub fn key_of(entity: &str, system: &SystemId, remote_id: &RemoteId) -> String {
        format!("{entity}/{system}/{remote_id}")
    }
}

/// The dead-letter queue: records that failed, with their error, until a
/// replay applies them or a person removes them.
///
/// # Example
///
/// ```
/// use canonical_model::{RemoteId, SystemId};
/// use connectors::{ConnectorError, DeadLetter, DeadLetterQueue, ErrorKind, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> connectors::Result<()> {
/// let dlq = MemoryStore::new();
/// let err = ConnectorError::new(ErrorKind::Invalid, "bad email");
/// dlq.put(DeadLetter::new("contact", SystemId::hubspot(), RemoteId::new("5"), serde_json::Value::Null, &err)).await?;
/// assert_eq!(dlq.letters("contact").await?.len(), 1);
/// dlq.remove("contact/hubspot/5").await?;
/// assert!(dlq.letters("contact").await?.is_empty());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait DeadLetterQueue: Send + Sync {
    /// Stores a letter, replacing the one with the same key.
    ///
    /// # Errors
    ///
    /// The store could not be written.
    async fn put(&self, letter: DeadLetter) -> Result<()>;
    /// The letter with this key.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn letter(&self, key: &str) -> Result<Option<DeadLetter>>;
    /// Every letter of an entity, oldest first.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn letters(&self, entity: &str) -> Result<Vec<DeadLetter>>;
    /// Removes a letter (absent is fine).
    ///
    /// # Errors
    ///
    /// The store could not be written.
    async fn remove(&self, key: &str) -> Result<()>;
}

/// Everything a pipeline keeps: one value implementing all four stores.
///
/// Implemented for every type that implements the four traits, such as
/// [`MemoryStore`] and [`FileStore`].
///
/// # Example
///
/// ```
/// fn takes(_: std::sync::Arc<dyn connectors::SyncState>) {}
/// takes(std::sync::Arc::new(connectors::MemoryStore::new()));
/// ```
pub trait SyncState: CheckpointStore + XrefStore + RecordStore + DeadLetterQueue {}
impl<T: CheckpointStore + XrefStore + RecordStore + DeadLetterQueue> SyncState for T {}
