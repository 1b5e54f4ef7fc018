//! Every store in one SQLite database file (feature `sqlite`).
//!
//! One table per store: `checkpoints`, `xrefs`, `records`,
//! `dead_letters`, `held` (conflicts held for review) and `leases`. The
//! database runs in WAL mode so readers never wait for
//! the writer, with `synchronous = FULL` so a call that returned `Ok` is on
//! disk (the same promise as [`FileStore`](super::FileStore)'s fsync per
//! write), and a busy timeout so two processes sharing the file wait for
//! each other instead of failing. `PRAGMA user_version` holds the schema
//! version, checked on open; an older file is migrated in place, in one
//! transaction.
//!
//! Files: `schema` (the tables, opening and migrating), `xrefs`
//! (checkpoints and cross-references), `records` (records and dead letters),
//! `review` (held conflicts and leases).
//!
//! `rusqlite` is blocking, so every call runs on tokio's blocking pool
//! (`spawn_blocking`) and never stalls the async workers. A call runs to its
//! end even if its future is dropped: each write is one transaction, which
//! commits or rolls back whole.

mod records;
mod review;
mod schema;
mod xrefs;

use crate::error::{ConnectorError, Result};
use odoo_integration_model::CanonicalId;
use rusqlite::{Connection, OpenFlags};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Every store (checkpoints, cross-references, records, dead letters, held
/// conflicts, leases) in one SQLite database file, for production use. Needs the `sqlite`
/// feature; SQLite is compiled in, no system library is needed.
///
/// - **Durability.** WAL journal with `synchronous = FULL`: every commit is
///   flushed to disk before the call returns, so a power cut never loses a
///   cross-reference the pipeline was told is stored (it would otherwise
///   create the record a second time in the target system). `NORMAL` would
///   save one fsync per commit but may drop the last commits on power loss;
///   the pipeline writes once per page, so the fsync costs little.
/// - **Atomicity.** Each write is one transaction: [`link`] and
///   [`save_records`] and [`hold`] store all or nothing. [`link`] answers
///   as the built-in stores do, and also refuses one canonical id given two
///   entities within a single call.
/// - **Leases.** One row per lease, taken in one `BEGIN IMMEDIATE`
///   transaction (the file's write lock is held from the read to the
///   write), so of any number of handles and processes on one file, one
///   at a time holds a live lease. Times are this machine's clock, read
///   under that lock, in microseconds; a released lease keeps its row, so
///   the fencing token only grows.
/// - **Async.** SQLite calls block, so each runs on tokio's blocking pool
///   (`spawn_blocking`), never on an async worker. A call whose future is
///   dropped still runs to its end: its transaction commits or rolls back
///   whole. The batch lookups are one query each, however many ids.
/// - **Sharing.** Clones share one connection, used by one call at a time.
///   Other processes may open the same file: WAL lets them read while one
///   writes, and a 5-second busy timeout makes writers queue.
/// - **Versioning.** The schema version is kept in `PRAGMA user_version`.
///   Opening a file of an older version migrates it in place, in one
///   transaction (all or nothing, data kept); a file written by a newer,
///   incompatible version is refused, as is a file that is not a SQLite
///   database or belongs to another program.
/// - **Privacy.** Error messages name keys and ids, never record contents.
///
/// [`link`]: crate::XrefStore::link
/// [`save_records`]: crate::RecordStore::save_records
/// [`hold`]: crate::HeldStore::hold
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
    /// [`ConnectorErrorKind::Store`](crate::ConnectorErrorKind::Store) when the file cannot be opened or created, is
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
            schema::init(&mut conn, &name, true)?;
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
    /// [`ConnectorErrorKind::Store`](crate::ConnectorErrorKind::Store) when SQLite cannot allocate the database.
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
        schema::init(&mut conn, ":memory:", false)?;
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

    /// The schema version this crate writes, kept in the file's `PRAGMA
    /// user_version`: 1 had checkpoints, cross-references, records and
    /// dead letters; 2 added held conflicts and leases.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::SqliteStore::SCHEMA_VERSION, 2);
    /// ```
    pub const SCHEMA_VERSION: i64 = schema::SCHEMA_VERSION;

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

/// A SQLite error while `doing` something. SQLite's messages name tables
/// and columns, never the values.
pub(super) fn db_error(doing: impl fmt::Display, e: rusqlite::Error) -> ConnectorError {
    ConnectorError::store(format!("{doing}: {e}")).with_source(e)
}

pub(super) fn parse_id(text: &str) -> Result<CanonicalId> {
    text.parse()
        .map_err(|e: odoo_integration_model::IdentityError| {
            ConnectorError::store(format!("the SQLite store holds {e}")).with_source(e)
        })
}

/// A JSON array of strings, for `json_each`: one query however many ids.
pub(super) fn json_array<'a>(items: impl Iterator<Item = &'a str>) -> Result<String> {
    serde_json::to_string(&items.collect::<Vec<_>>())
        .map_err(|e| ConnectorError::store(format!("encoding a list of ids: {e}")).with_source(e))
}
