//! Every store in one SQLite database file (feature `sqlite`).
//!
//! One table per store: `checkpoints`, `xrefs`, `records` and
//! `dead_letters`. The database runs in WAL mode so readers never wait for
//! the writer, with `synchronous = FULL` so a call that returned `Ok` is on
//! disk (the same promise as [`FileStore`](super::FileStore)'s fsync per
//! write), and a busy timeout so two processes sharing the file wait for
//! each other instead of failing. `PRAGMA user_version` holds the schema
//! version, checked on open.
//!
//! `rusqlite` is blocking, so every call runs on tokio's blocking pool
//! (`spawn_blocking`) and never stalls the async workers. A call runs to its
//! end even if its future is dropped: each write is one transaction, which
//! commits or rolls back whole.

use super::{DeadLetter, Link, StoredRecord};
use crate::connector::Cursor;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use odoo_integration_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The schema this version writes and reads, kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

/// How long a call waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE checkpoints (
    key TEXT NOT NULL PRIMARY KEY,
    cursor TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE xrefs (
    entity TEXT NOT NULL,
    system TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (entity, system, remote_id),
    UNIQUE (id, system)
) STRICT, WITHOUT ROWID;

CREATE TABLE records (
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (entity, id)
) STRICT;

CREATE TABLE dead_letters (
    key TEXT NOT NULL PRIMARY KEY,
    entity TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    first_seen_nanos INTEGER NOT NULL,
    letter TEXT NOT NULL
) STRICT;

CREATE INDEX dead_letters_by_entity
    ON dead_letters (entity, first_seen, first_seen_nanos, key);
";

/// Every store (checkpoints, cross-references, records, dead letters) in
/// one SQLite database file, for production use. Needs the `sqlite`
/// feature; SQLite is compiled in, no system library is needed.
///
/// - **Durability.** WAL journal with `synchronous = FULL`: every commit is
///   flushed to disk before the call returns, so a power cut never loses a
///   cross-reference the pipeline was told is stored (it would otherwise
///   create the record a second time in the target system). `NORMAL` would
///   save one fsync per commit but may drop the last commits on power loss;
///   the pipeline writes once per page, so the fsync costs little.
/// - **Atomicity.** Each write is one transaction: [`link`] and
///   [`save_records`] store all or nothing. [`link`] answers as the
///   built-in stores do, and also refuses one canonical id given two
///   entities within a single call.
/// - **Async.** SQLite calls block, so each runs on tokio's blocking pool
///   (`spawn_blocking`), never on an async worker. A call whose future is
///   dropped still runs to its end: its transaction commits or rolls back
///   whole. The batch lookups are one query each, however many ids.
/// - **Sharing.** Clones share one connection, used by one call at a time.
///   Other processes may open the same file: WAL lets them read while one
///   writes, and a 5-second busy timeout makes writers queue.
/// - **Versioning.** The schema version is kept in `PRAGMA user_version`; a
///   file written by a newer, incompatible version is refused on open, as
///   is a file that is not a SQLite database or belongs to another program.
/// - **Privacy.** Error messages name keys and ids, never record contents.
///
/// [`link`]: crate::XrefStore::link
/// [`save_records`]: crate::RecordStore::save_records
///
/// # Example
///
/// ```
/// use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
/// use odoo_integration_connectors::{CheckpointStore, Cursor, Link, SqliteStore, XrefStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("sync.db");
/// let store = SqliteStore::open(&path).await?;
/// let acme = CanonicalId::new();
/// store.link(&[Link::new("client", acme, SystemId::hubspot(), RemoteId::new("981"))]).await?;
/// store.save_checkpoint("hubspot→odoo/client", &Cursor::new("p7")).await?;
/// drop(store);
///
/// let again = SqliteStore::open(&path).await?;
/// assert_eq!(again.resolve("client", &SystemId::hubspot(), &RemoteId::new("981")).await?, Some(acme));
/// assert_eq!(again.checkpoint("hubspot→odoo/client").await?, Some(Cursor::new("p7")));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    path: Option<Arc<PathBuf>>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path.as_deref())
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store in the SQLite file at `path`, creating the file and
    /// its tables if needed (the directory must exist).
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Store`] when the file cannot be opened or created, is
    /// not a SQLite database (or is damaged), holds another program's
    /// tables, or was written by a newer version of this crate.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let store = odoo_integration_connectors::SqliteStore::open(dir.path().join("sync.db")).await?;
    /// assert!(dir.path().join("sync.db").exists());
    ///
    /// std::fs::write(dir.path().join("notes.txt"), "not a database, just text")?;
    /// let opened = odoo_integration_connectors::SqliteStore::open(dir.path().join("notes.txt")).await;
    /// assert!(matches!(opened, Err(e) if e.kind() == odoo_integration_connectors::ConnectorErrorKind::Store));
    /// # Ok(()) }
    /// ```
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        tokio::task::spawn_blocking(move || {
            let name = path.display().to_string();
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let mut conn = Connection::open_with_flags(&path, flags)
                .map_err(|e| db_error(format_args!("opening {name}"), e))?;
            init(&mut conn, &name, true)?;
            Ok(SqliteStore {
                conn: Arc::new(Mutex::new(conn)),
                path: Some(Arc::new(path)),
            })
        })
        .await
        .map_err(|e| {
            ConnectorError::store(format!("opening the SQLite store: {e}")).with_source(e)
        })?
    }

    /// A store in a private in-memory database, gone when the last clone is
    /// dropped: for tests.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Store`] when SQLite cannot allocate the database.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{CheckpointStore, Cursor, SqliteStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let store = SqliteStore::open_in_memory()?;
    /// let clone = store.clone();
    /// store.save_checkpoint("k", &Cursor::new("1")).await?;
    /// assert_eq!(clone.checkpoint("k").await?, Some(Cursor::new("1")));
    /// # Ok(()) }
    /// ```
    pub fn open_in_memory() -> Result<Self> {
        let mut conn = Connection::open_in_memory()
            .map_err(|e| db_error("opening an in-memory database", e))?;
        init(&mut conn, ":memory:", false)?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            path: None,
        })
    }

    /// The database file, `None` for an in-memory store.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("sync.db");
    /// let store = odoo_integration_connectors::SqliteStore::open(&path).await?;
    /// assert_eq!(store.path(), Some(path.as_path()));
    /// assert_eq!(odoo_integration_connectors::SqliteStore::open_in_memory()?.path(), None);
    /// # Ok(()) }
    /// ```
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref().map(PathBuf::as_path)
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn call<R, F>(&self, f: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| {
                ConnectorError::store(
                    "the SQLite store's connection is unusable: a call panicked while using it",
                )
            })?;
            f(&mut conn)
        })
        .await
        .map_err(|e| {
            ConnectorError::store(format!("a SQLite store call failed: {e}")).with_source(e)
        })?
    }
}

/// Sets the connection up and checks (or creates) the schema.
fn init(conn: &mut Connection, name: &str, file: bool) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(format_args!("opening {name}"), e))?;
    if file {
        // The first read of the file: fails here when it is no database.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| db_error(format_args!("opening {name}"), e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Still correct, only without concurrent readers.
            tracing::warn!(
                path = name,
                mode,
                "SQLite store: WAL journal mode unavailable"
            );
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| db_error(format_args!("opening {name}"), e))?;

    // Immediate: two processes creating the same file do it one at a time.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| db_error(format_args!("opening {name}"), e))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| db_error(format_args!("reading the schema version of {name}"), e))?;
    match version {
        SCHEMA_VERSION => {}
        0 => {
            let tables: i64 = tx
                .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
                .map_err(|e| db_error(format_args!("reading the schema of {name}"), e))?;
            if tables > 0 {
                return Err(ConnectorError::store(format!(
                    "{name} is a SQLite database but not a sync-state store \
                     (it has tables and no schema version)"
                )));
            }
            tx.execute_batch(SCHEMA)
                .map_err(|e| db_error(format_args!("creating the tables in {name}"), e))?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(|e| db_error(format_args!("setting the schema version of {name}"), e))?;
        }
        v if v > SCHEMA_VERSION => {
            return Err(ConnectorError::store(format!(
                "{name} was written by a newer version of this store (schema version {v}, \
                 this version reads {SCHEMA_VERSION}); upgrade, or use another file"
            )));
        }
        v => {
            return Err(ConnectorError::store(format!(
                "{name} has an unknown schema version {v} (this version reads {SCHEMA_VERSION})"
            )));
        }
    }
    tx.commit()
        .map_err(|e| db_error(format_args!("opening {name}"), e))
}

/// A SQLite error while `doing` something. SQLite's messages name tables
/// and columns, never the values.
fn db_error(doing: impl fmt::Display, e: rusqlite::Error) -> ConnectorError {
    ConnectorError::store(format!("{doing}: {e}")).with_source(e)
}

fn parse_id(text: &str) -> Result<CanonicalId> {
    text.parse()
        .map_err(|e: odoo_integration_model::IdentityError| {
            ConnectorError::store(format!("the SQLite store holds {e}")).with_source(e)
        })
}

/// A JSON array of strings, for `json_each`: one query however many ids.
fn json_array<'a>(items: impl Iterator<Item = &'a str>) -> Result<String> {
    serde_json::to_string(&items.collect::<Vec<_>>())
        .map_err(|e| ConnectorError::store(format!("encoding a list of ids: {e}")).with_source(e))
}

/// Decodes a stored letter. The serde error may quote the letter's
/// contents, so only its category and position are kept.
fn decode_letter(key: &str, json: &str) -> Result<DeadLetter> {
    serde_json::from_str(json).map_err(|e| {
        ConnectorError::store(format!(
            "the dead letter {key} does not decode ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

fn conflict(message: String) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::LinkConflict, message)
}

/// [`XrefStore::link`](crate::XrefStore::link): checks every link against
/// the table and the links before it, then stores them, in one
/// transaction. Same checks and messages as the built-in stores, plus one
/// they lack: a canonical id given two entities within the call.
fn link_all(conn: &mut Connection, links: &[Link]) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| db_error("linking", e))?;
    {
        let mut owner_of = tx
            .prepare_cached(
                "SELECT id FROM xrefs WHERE entity = ?1 AND system = ?2 AND remote_id = ?3",
            )
            .map_err(|e| db_error("linking", e))?;
        let mut entity_of = tx
            .prepare_cached("SELECT entity FROM xrefs WHERE id = ?1 LIMIT 1")
            .map_err(|e| db_error("linking", e))?;
        let mut remote_of = tx
            .prepare_cached("SELECT remote_id FROM xrefs WHERE id = ?1 AND system = ?2")
            .map_err(|e| db_error("linking", e))?;

        let mut pending: HashMap<(&str, &SystemId, &RemoteId), CanonicalId> = HashMap::new();
        let mut pending_ids: HashMap<(CanonicalId, &SystemId), &RemoteId> = HashMap::new();
        let mut pending_entities: HashMap<CanonicalId, &str> = HashMap::new();
        for l in links {
            let id = l.id.to_string();
            let remote_key = (l.entity.as_str(), &l.system, &l.remote_id);
            let owner = match pending.get(&remote_key) {
                Some(owner) => Some(*owner),
                None => owner_of
                    .query_row(
                        params![l.entity, l.system.as_str(), l.remote_id.as_str()],
                        |row| row.get::<_, String>(0),
                    )
                    .optional()
                    .map_err(|e| db_error("linking", e))?
                    .map(|owner| parse_id(&owner))
                    .transpose()?,
            };
            if let Some(owner) = owner.filter(|o| *o != l.id) {
                return Err(conflict(format!(
                    "{} {} in {} is already linked to {owner}, not {}",
                    l.entity, l.remote_id, l.system, l.id
                )));
            }
            let stored_entity: Option<String> = entity_of
                .query_row([&id], |row| row.get(0))
                .optional()
                .map_err(|e| db_error("linking", e))?;
            let entity = stored_entity
                .as_deref()
                .or_else(|| pending_entities.get(&l.id).copied());
            if let Some(entity) = entity.filter(|e| *e != l.entity) {
                return Err(conflict(format!(
                    "{} is a {entity}, not a {}",
                    l.id, l.entity
                )));
            }
            let existing = match pending_ids.get(&(l.id, &l.system)) {
                Some(remote) => Some((*remote).clone()),
                None => remote_of
                    .query_row(params![id, l.system.as_str()], |row| {
                        row.get::<_, String>(0)
                    })
                    .optional()
                    .map_err(|e| db_error("linking", e))?
                    .map(RemoteId::new),
            };
            if let Some(existing) = existing.filter(|r| *r != l.remote_id) {
                return Err(conflict(format!(
                    "{} {} already has id {existing} in {}, not {}",
                    l.entity, l.id, l.system, l.remote_id
                )));
            }
            pending.insert(remote_key, l.id);
            pending_ids.insert((l.id, &l.system), &l.remote_id);
            pending_entities.entry(l.id).or_insert(l.entity.as_str());
        }

        // A link already stored is skipped; anything else conflicting
        // would break a constraint and roll the whole call back.
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO xrefs (entity, system, remote_id, id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (entity, system, remote_id) DO NOTHING",
            )
            .map_err(|e| db_error("linking", e))?;
        for l in links {
            insert
                .execute(params![
                    l.entity,
                    l.system.as_str(),
                    l.remote_id.as_str(),
                    l.id.to_string()
                ])
                .map_err(|e| {
                    db_error(
                        format_args!("linking {} {} in {}", l.entity, l.remote_id, l.system),
                        e,
                    )
                })?;
        }
    }
    tx.commit().map_err(|e| db_error("linking", e))
}

#[async_trait]
impl super::CheckpointStore for SqliteStore {
    async fn checkpoint(&self, key: &str) -> Result<Option<Cursor>> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("SELECT cursor FROM checkpoints WHERE key = ?1")
                .and_then(|mut q| {
                    q.query_row([&key], |row| row.get::<_, String>(0))
                        .optional()
                })
                .map(|c| c.map(Cursor::new))
                .map_err(|e| db_error(format_args!("reading checkpoint {key}"), e))
        })
        .await
    }

    async fn save_checkpoint(&self, key: &str, cursor: &Cursor) -> Result<()> {
        let key = key.to_owned();
        let cursor = cursor.as_str().to_owned();
        self.call(move |conn| {
            conn.prepare_cached(
                "INSERT INTO checkpoints (key, cursor) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET cursor = excluded.cursor",
            )
            .and_then(|mut q| q.execute([&key, &cursor]))
            .map(|_| ())
            .map_err(|e| db_error(format_args!("saving checkpoint {key}"), e))
        })
        .await
    }
}

#[async_trait]
impl super::XrefStore for SqliteStore {
    async fn remote_ids(&self, entity: &str, system: &SystemId) -> Result<Vec<RemoteId>> {
        let (entity, system) = (entity.to_owned(), system.clone());
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT remote_id FROM xrefs WHERE entity = ?1 AND system = ?2
                     ORDER BY remote_id",
                )
                .map_err(|e| db_error(format_args!("listing {entity} ids in {system}"), e))?;
            q.query_map(params![entity, system.as_str()], |row| {
                Ok(RemoteId::new(row.get::<_, String>(0)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| db_error(format_args!("listing {entity} ids in {system}"), e))
        })
        .await
    }

    async fn resolve(
        &self,
        entity: &str,
        system: &SystemId,
        remote: &RemoteId,
    ) -> Result<Option<CanonicalId>> {
        let (entity, system, remote) = (entity.to_owned(), system.clone(), remote.clone());
        self.call(move |conn| {
            conn.prepare_cached(
                "SELECT id FROM xrefs WHERE entity = ?1 AND system = ?2 AND remote_id = ?3",
            )
            .and_then(|mut q| {
                q.query_row(params![entity, system.as_str(), remote.as_str()], |row| {
                    row.get::<_, String>(0)
                })
                .optional()
            })
            .map_err(|e| db_error(format_args!("resolving {entity} {remote} in {system}"), e))?
            .map(|id| parse_id(&id))
            .transpose()
        })
        .await
    }

    async fn cross_refs(&self, id: CanonicalId) -> Result<CrossRefs> {
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached("SELECT system, remote_id FROM xrefs WHERE id = ?1")
                .map_err(|e| db_error(format_args!("reading the cross-references of {id}"), e))?;
            q.query_map([id.to_string()], |row| {
                Ok((
                    SystemId::new(row.get::<_, String>(0)?),
                    RemoteId::new(row.get::<_, String>(1)?),
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<CrossRefs>>())
            .map_err(|e| db_error(format_args!("reading the cross-references of {id}"), e))
        })
        .await
    }

    async fn resolve_many(
        &self,
        entity: &str,
        system: &SystemId,
        remotes: &[RemoteId],
    ) -> Result<Vec<Option<CanonicalId>>> {
        if remotes.is_empty() {
            return Ok(Vec::new());
        }
        let asked = json_array(remotes.iter().map(RemoteId::as_str))?;
        let (entity, system, count) = (entity.to_owned(), system.clone(), remotes.len());
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT x.id FROM json_each(?1) AS j
                     LEFT JOIN xrefs AS x
                       ON x.entity = ?2 AND x.system = ?3 AND x.remote_id = j.value
                     ORDER BY j.key",
                )
                .map_err(|e| db_error(format_args!("resolving {entity} ids in {system}"), e))?;
            let ids = q
                .query_map(params![asked, entity, system.as_str()], |row| {
                    row.get::<_, Option<String>>(0)
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error(format_args!("resolving {entity} ids in {system}"), e))?;
            if ids.len() != count {
                return Err(ConnectorError::store(format!(
                    "resolving {entity} ids in {system}: asked {count}, got {} answers",
                    ids.len()
                )));
            }
            ids.into_iter()
                .map(|id| id.map(|id| parse_id(&id)).transpose())
                .collect()
        })
        .await
    }

    async fn cross_refs_many(&self, ids: &[CanonicalId]) -> Result<Vec<CrossRefs>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = ids.iter().map(CanonicalId::to_string).collect();
        let asked = json_array(texts.iter().map(String::as_str))?;
        let count = ids.len();
        self.call(move |conn| {
            // CROSS JOIN keeps the asked ids as the outer loop, so each is
            // one lookup in the (id, system) index.
            let mut q = conn
                .prepare_cached(
                    "SELECT j.key, x.system, x.remote_id FROM json_each(?1) AS j
                     CROSS JOIN xrefs AS x ON x.id = j.value
                     ORDER BY j.key",
                )
                .map_err(|e| db_error("reading cross-references", e))?;
            let rows = q
                .query_map([asked], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        SystemId::new(row.get::<_, String>(1)?),
                        RemoteId::new(row.get::<_, String>(2)?),
                    ))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error("reading cross-references", e))?;
            let mut out = vec![CrossRefs::new(); count];
            for (index, system, remote) in rows {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| out.get_mut(i))
                    .ok_or_else(|| {
                        ConnectorError::store(format!(
                            "reading cross-references: answer {index} for {count} ids"
                        ))
                    })?
                    .insert(system, remote);
            }
            Ok(out)
        })
        .await
    }

    async fn link(&self, links: &[Link]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        let links = links.to_vec();
        self.call(move |conn| link_all(conn, &links)).await
    }
}

#[async_trait]
impl super::RecordStore for SqliteStore {
    async fn record(&self, entity: &str, id: CanonicalId) -> Result<Option<StoredRecord>> {
        let entity = entity.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("SELECT json FROM records WHERE entity = ?1 AND id = ?2")
                .and_then(|mut q| {
                    q.query_row(params![entity, id.to_string()], |row| {
                        row.get::<_, String>(0)
                    })
                    .optional()
                })
                .map_err(|e| db_error(format_args!("reading {entity} {id}"), e))?
                .map(StoredRecord::from_json)
                .transpose()
        })
        .await
    }

    async fn records(
        &self,
        entity: &str,
        ids: &[CanonicalId],
    ) -> Result<Vec<Option<StoredRecord>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = ids.iter().map(CanonicalId::to_string).collect();
        let asked = json_array(texts.iter().map(String::as_str))?;
        let (entity, count) = (entity.to_owned(), ids.len());
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT r.json FROM json_each(?1) AS j
                     LEFT JOIN records AS r ON r.entity = ?2 AND r.id = j.value
                     ORDER BY j.key",
                )
                .map_err(|e| db_error(format_args!("reading {entity} records"), e))?;
            let found = q
                .query_map(params![asked, entity], |row| {
                    row.get::<_, Option<String>>(0)
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error(format_args!("reading {entity} records"), e))?;
            if found.len() != count {
                return Err(ConnectorError::store(format!(
                    "reading {entity} records: asked {count}, got {} answers",
                    found.len()
                )));
            }
            found
                .into_iter()
                .map(|json| json.map(StoredRecord::from_json).transpose())
                .collect()
        })
        .await
    }

    async fn save_records(
        &self,
        entity: &str,
        records: Vec<(CanonicalId, StoredRecord)>,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let entity = entity.to_owned();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| db_error(format_args!("saving {entity} records"), e))?;
            {
                let mut upsert = tx
                    .prepare_cached(
                        "INSERT INTO records (entity, id, json) VALUES (?1, ?2, ?3)
                         ON CONFLICT (entity, id) DO UPDATE SET json = excluded.json",
                    )
                    .map_err(|e| db_error(format_args!("saving {entity} records"), e))?;
                for (id, record) in &records {
                    upsert
                        .execute(params![entity, id.to_string(), record.as_str()])
                        .map_err(|e| db_error(format_args!("saving {entity} {id}"), e))?;
                }
            }
            tx.commit()
                .map_err(|e| db_error(format_args!("saving {entity} records"), e))
        })
        .await
    }
}

#[async_trait]
impl super::DeadLetterQueue for SqliteStore {
    async fn put(&self, letter: DeadLetter) -> Result<()> {
        let json = serde_json::to_string(&letter).map_err(|e| {
            ConnectorError::store(format!("encoding the dead letter {}: {e}", letter.key))
                .with_source(e)
        })?;
        self.call(move |conn| {
            conn.prepare_cached(
                "INSERT INTO dead_letters (key, entity, first_seen, first_seen_nanos, letter)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (key) DO UPDATE SET
                    entity = excluded.entity,
                    first_seen = excluded.first_seen,
                    first_seen_nanos = excluded.first_seen_nanos,
                    letter = excluded.letter",
            )
            .and_then(|mut q| {
                q.execute(params![
                    letter.key,
                    letter.entity,
                    letter.first_seen.timestamp(),
                    letter.first_seen.timestamp_subsec_nanos(),
                    json
                ])
            })
            .map(|_| ())
            .map_err(|e| db_error(format_args!("storing the dead letter {}", letter.key), e))
        })
        .await
    }

    async fn letter(&self, key: &str) -> Result<Option<DeadLetter>> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("SELECT letter FROM dead_letters WHERE key = ?1")
                .and_then(|mut q| {
                    q.query_row([&key], |row| row.get::<_, String>(0))
                        .optional()
                })
                .map_err(|e| db_error(format_args!("reading the dead letter {key}"), e))?
                .map(|json| decode_letter(&key, &json))
                .transpose()
        })
        .await
    }

    async fn letters(&self, entity: &str) -> Result<Vec<DeadLetter>> {
        let entity = entity.to_owned();
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT key, letter FROM dead_letters WHERE entity = ?1
                     ORDER BY first_seen, first_seen_nanos, key",
                )
                .map_err(|e| db_error(format_args!("reading the {entity} dead letters"), e))?;
            let rows = q
                .query_map([&entity], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error(format_args!("reading the {entity} dead letters"), e))?;
            rows.iter()
                .map(|(key, json)| decode_letter(key, json))
                .collect()
        })
        .await
    }

    async fn remove(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("DELETE FROM dead_letters WHERE key = ?1")
                .and_then(|mut q| q.execute([&key]))
                .map(|_| ())
                .map_err(|e| db_error(format_args!("removing the dead letter {key}"), e))
        })
        .await
    }

    async fn remove_many(&self, keys: &[String]) -> Result<usize> {
        if keys.is_empty() {
            return Ok(0);
        }
        let asked = json_array(keys.iter().map(String::as_str))?;
        self.call(move |conn| {
            conn.prepare_cached(
                "DELETE FROM dead_letters WHERE key IN (SELECT value FROM json_each(?1))",
            )
            .and_then(|mut q| q.execute([asked]))
            .map_err(|e| db_error("removing dead letters", e))
        })
        .await
    }
}
