//! Where a sync keeps its state between runs: checkpoints, cross-references,
//! the canonical records (with their provenance trail), the dead-letter
//! queue, the conflicts held for review, and the leases that keep two
//! workers from running one pipeline at once.
//!
//! Each is a trait, so a user can keep state where they like. Two
//! implementations hold all six: [`MemoryStore`] (tests, one-shot runs) and
//! [`FileStore`] (a directory of JSON files, each replaced atomically: temp
//! file, fsync, rename, so a kill mid-write leaves the old or the new file,
//! never half of one; one instance per directory, held by an OS lock).
//! With the `sqlite` feature, `SqliteStore` holds all
//! six in one SQLite database file (WAL, one transaction per write).
//! With the `postgres` feature, `PostgresStore` holds all six in a
//! PostgreSQL schema shared by any number of workers on any number of
//! machines (a pool of connections, one transaction per write, versioned
//! migrations).

mod file;
mod memory;
#[cfg(feature = "postgres")]
mod postgres;
mod review;
#[cfg(feature = "sqlite")]
mod sqlite;
mod state;

pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "postgres")]
pub use postgres::{PostgresConfig, PostgresStore};
pub use review::{HeldConflict, HeldFilter, HeldStore, Lease, LeaseStore, Resolution};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;

use crate::connector::Cursor;
use crate::error::{ErrorRecord, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use odoo_integration_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use serde::{Deserialize, Serialize};

/// Stores the cursor of each sync (by a name the caller picks).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{CheckpointStore, Cursor, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
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
/// use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
/// let l = odoo_integration_connectors::Link::new("client", CanonicalId::new(), SystemId::odoo(), RemoteId::new("7"));
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
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// let l = odoo_integration_connectors::Link::new("contact", CanonicalId::new(), SystemId::hubspot(), RemoteId::new("51"));
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
/// use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
/// use odoo_integration_connectors::{Link, MemoryStore, XrefStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let store = MemoryStore::new();
/// let acme = CanonicalId::new();
/// store.link(&[Link::new("client", acme, SystemId::hubspot(), RemoteId::new("981"))]).await?;
/// assert_eq!(store.resolve("client", &SystemId::hubspot(), &RemoteId::new("981")).await?, Some(acme));
/// assert_eq!(store.cross_refs(acme).await?.len(), 1);
/// let many = store.resolve_many("client", &SystemId::hubspot(), &[RemoteId::new("981"), RemoteId::new("1")]).await?;
/// assert_eq!(many, vec![Some(acme), None]);
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
    /// [`resolve`](Self::resolve) for several remote ids of one entity and
    /// system, in the order asked. The pipeline asks once per page; the
    /// default asks one by one.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn resolve_many(
        &self,
        entity: &str,
        system: &SystemId,
        remotes: &[RemoteId],
    ) -> Result<Vec<Option<CanonicalId>>> {
        let mut out = Vec::with_capacity(remotes.len());
        for remote in remotes {
            out.push(self.resolve(entity, system, remote).await?);
        }
        Ok(out)
    }
    /// [`cross_refs`](Self::cross_refs) for several canonical ids, in the
    /// order asked.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn cross_refs_many(&self, ids: &[CanonicalId]) -> Result<Vec<CrossRefs>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.cross_refs(*id).await?);
        }
        Ok(out)
    }
    /// Records links, all or none. Linking what is already linked is a
    /// no-op; a system's record linked to two canonical ids, or a
    /// canonical record given a second id in one system, is an error.
    ///
    /// # Errors
    ///
    /// A conflicting link is [`LinkConflict`](crate::ConnectorErrorKind::LinkConflict)
    /// (nothing is stored); a store that failed is
    /// [`Store`](crate::ConnectorErrorKind::Store).
    async fn link(&self, links: &[Link]) -> Result<()>;
    /// Every id of `system` linked for `entity`, sorted: what the sync
    /// knows of that system's records (a connector that finds deletes by
    /// comparing ids asks for it; see
    /// `salesforce::StoredIds`).
    ///
    /// # Errors
    ///
    /// The store could not be read.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// use odoo_integration_connectors::{Link, MemoryStore, XrefStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let store = MemoryStore::new();
    /// let hubspot = SystemId::hubspot();
    /// store.link(&[
    ///     Link::new("client", CanonicalId::new(), hubspot.clone(), RemoteId::new("981")),
    ///     Link::new("client", CanonicalId::new(), hubspot.clone(), RemoteId::new("17")),
    ///     Link::new("contact", CanonicalId::new(), hubspot.clone(), RemoteId::new("5")),
    /// ]).await?;
    /// assert_eq!(store.remote_ids("client", &hubspot).await?, [RemoteId::new("17"), RemoteId::new("981")]);
    /// assert!(store.remote_ids("client", &SystemId::odoo()).await?.is_empty());
    /// # Ok(()) }
    /// ```
    async fn remote_ids(&self, entity: &str, system: &SystemId) -> Result<Vec<RemoteId>>;
}

/// A canonical record (a [`odoo_integration_model::CanonicalRecord`] with its provenance
/// trail) as stored: its JSON text, checked to be JSON.
///
/// Stores keep the text as it is rather than a parsed tree, so saving and
/// loading cost one encode and one decode of the record, nothing more.
///
/// # Example
///
/// ```
/// use odoo_integration_model::{ClientCompany, CanonicalRecord};
/// use odoo_integration_connectors::StoredRecord;
/// let record = CanonicalRecord::new(ClientCompany { legal_name: "Acme".into(), ..Default::default() });
/// let stored = StoredRecord::encode(&record)?;
/// let back: CanonicalRecord<ClientCompany> = stored.decode()?;
/// assert_eq!(back.data.legal_name, "Acme");
/// assert!(StoredRecord::from_json("{not json".to_owned()).is_err());
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StoredRecord(Box<serde_json::value::RawValue>);

impl StoredRecord {
    /// Encodes a value.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Store`](crate::ConnectorErrorKind::Store) when the value cannot
    /// be encoded (a map with non-string keys).
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_connectors::StoredRecord::encode(&serde_json::json!({"a": 1}))?;
    /// assert_eq!(s.as_str(), r#"{"a":1}"#);
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Self> {
        serde_json::value::to_raw_value(value)
            .map(StoredRecord)
            .map_err(|e| {
                crate::ConnectorError::store(format!("encoding a record: {e}")).with_source(e)
            })
    }

    /// Takes JSON text (as read back from a database), checking it parses.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Store`](crate::ConnectorErrorKind::Store) when it is not JSON.
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_connectors::StoredRecord::from_json(r#"{"legal_name":"Acme"}"#.to_owned())?;
    /// assert!(s.as_str().contains("Acme"));
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn from_json(text: String) -> Result<Self> {
        serde_json::value::RawValue::from_string(text)
            .map(StoredRecord)
            .map_err(|e| {
                crate::ConnectorError::store(format!("a stored record is not JSON: {e}"))
                    .with_source(e)
            })
    }

    /// Decodes it.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Store`](crate::ConnectorErrorKind::Store) when it does not decode
    /// as a `T` (a record stored by an older, incompatible version).
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_connectors::StoredRecord::encode(&[1, 2])?;
    /// assert_eq!(s.decode::<Vec<u8>>()?, vec![1, 2]);
    /// assert!(s.decode::<String>().is_err());
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_str(self.0.get()).map_err(|e| {
            crate::ConnectorError::store(format!("a stored record does not decode: {e}"))
                .with_source(e)
        })
    }

    /// The JSON text.
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_connectors::StoredRecord::encode("x")?;
    /// assert_eq!(s.as_str(), "\"x\"");
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        self.0.get()
    }
}

impl PartialEq for StoredRecord {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

/// The canonical records, with their provenance trail, as
/// [`StoredRecord`]s, by entity and canonical id.
///
/// # Example
///
/// ```
/// use odoo_integration_model::CanonicalId;
/// use odoo_integration_connectors::{MemoryStore, RecordStore, StoredRecord};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let store = MemoryStore::new();
/// let id = CanonicalId::new();
/// store.save_records("client", vec![(id, StoredRecord::encode(&serde_json::json!({"legal_name": "Acme"}))?)]).await?;
/// assert!(store.record("client", id).await?.is_some());
/// assert_eq!(store.records("client", &[id, CanonicalId::new()]).await?.iter().filter(|r| r.is_some()).count(), 1);
/// # Ok(()) }
/// ```
#[async_trait]
pub trait RecordStore: Send + Sync {
    /// A stored record.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn record(&self, entity: &str, id: CanonicalId) -> Result<Option<StoredRecord>>;
    /// Several records at once, in the order asked (`None` where absent).
    /// The pipeline asks once per page; the default asks one by one.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn records(
        &self,
        entity: &str,
        ids: &[CanonicalId],
    ) -> Result<Vec<Option<StoredRecord>>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(self.record(entity, *id).await?);
        }
        Ok(out)
    }
    /// Stores records (replacing), all or none.
    ///
    /// # Errors
    ///
    /// The store could not be written; nothing changed.
    async fn save_records(
        &self,
        entity: &str,
        records: Vec<(CanonicalId, StoredRecord)>,
    ) -> Result<()>;
}

/// A record that could not be applied, kept for replay.
///
/// # Example
///
/// ```
/// use odoo_integration_model::{RemoteId, SystemId};
/// use odoo_integration_connectors::{ConnectorError, DeadLetter, ConnectorErrorKind};
/// let l = DeadLetter::new("client", SystemId::hubspot(), RemoteId::new("9"), serde_json::json!({}),
///     &ConnectorError::new(ConnectorErrorKind::Invalid, "name is required"));
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
    /// The change (a serialised [`SourceChange`](crate::SourceChange)):
    /// as read, or as the pipeline's mapping step left it when `mapped`.
    pub payload: serde_json::Value,
    /// The payload has been through the mapping step (it failed after
    /// that), so replay does not map it again.
    #[serde(default)]
    pub mapped: bool,
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
    /// # use odoo_integration_model::{RemoteId, SystemId};
    /// # use odoo_integration_connectors::{ConnectorError, DeadLetter, ConnectorErrorKind};
    /// let l = DeadLetter::new("contact", SystemId::new("csv"), RemoteId::new("a1"), serde_json::Value::Null,
    ///     &ConnectorError::new(ConnectorErrorKind::NotReady, "email missing"));
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
            mapped: false,
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
    /// # use odoo_integration_model::{RemoteId, SystemId};
    /// assert_eq!(odoo_integration_connectors::DeadLetter::key_of("client", &SystemId::odoo(), &RemoteId::new("3")), "client/odoo/3");
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
/// use odoo_integration_model::{RemoteId, SystemId};
/// use odoo_integration_connectors::{ConnectorError, DeadLetter, DeadLetterQueue, ConnectorErrorKind, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let dlq = MemoryStore::new();
/// let err = ConnectorError::new(ConnectorErrorKind::Invalid, "bad email");
/// dlq.put(DeadLetter::new("contact", SystemId::hubspot(), RemoteId::new("5"), serde_json::Value::Null, &err)).await?;
/// assert_eq!(dlq.letters("contact").await?.len(), 1);
/// dlq.remove("contact/hubspot/5").await?;
/// assert!(dlq.letters("contact").await?.is_empty());
/// assert_eq!(dlq.remove_many(&["contact/hubspot/5".to_owned()]).await?, 0);
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
    /// Removes the letters with these keys and says how many there were.
    ///
    /// # Errors
    ///
    /// The store could not be written.
    async fn remove_many(&self, keys: &[String]) -> Result<usize> {
        let mut removed = 0;
        for key in keys {
            if self.letter(key).await?.is_some() {
                self.remove(key).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Everything a pipeline keeps: one value implementing all six stores
/// (checkpoints, cross-references, records, dead letters, held conflicts,
/// leases).
///
/// Implemented for every type that implements the six traits, such as
/// [`MemoryStore`] and [`FileStore`].
///
/// # Example
///
/// ```
/// fn takes(_: std::sync::Arc<dyn odoo_integration_connectors::SyncState>) {}
/// takes(std::sync::Arc::new(odoo_integration_connectors::MemoryStore::new()));
/// ```
pub trait SyncState:
    CheckpointStore + XrefStore + RecordStore + DeadLetterQueue + HeldStore + LeaseStore
{
}
impl<T: CheckpointStore + XrefStore + RecordStore + DeadLetterQueue + HeldStore + LeaseStore>
    SyncState for T
{
}
