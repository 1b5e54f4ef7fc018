//! Every store in one PostgreSQL database (feature `postgres`), shared by
//! any number of workers on any number of machines.
//!
//! The tables live in one PostgreSQL schema (a namespace, `odoo_sync` unless
//! configured): `checkpoints`, `xrefs`, `records`, `dead_letters`, `held`
//! (conflicts held for review), `leases`, and `sync_state_migrations`,
//! which lists the migrations applied. Opening a
//! store applies the missing migrations in one transaction, under an
//! advisory lock so two workers starting at once migrate once; a schema
//! migrated by a newer version of this crate, or holding another program's
//! tables, is refused.
//!
//! The connection is plain TCP or a Unix socket (`NoTls`): TLS is not
//! supported yet, so reach a remote server over a private network or a
//! tunnel.
//!
//! Files: `config` (where the database is), `migrate` (the schema's
//! versions), `xrefs` (checkpoints and cross-references), `records`
//! (records and dead letters), `review` (held conflicts and leases).

mod config;
mod migrate;
mod records;
mod review;
mod xrefs;

pub use config::PostgresConfig;

use crate::error::{ConnectorError, Result};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use odoo_integration_model::CanonicalId;
use std::fmt;
use std::sync::Arc;
use tokio_postgres::NoTls;

/// Every store (checkpoints, cross-references, records, dead letters, held
/// conflicts, leases) in a PostgreSQL database, for production use by
/// several workers at once.
/// Needs the `postgres` feature.
///
/// - **Sharing.** Clones share one pool of connections; any number of
///   stores, in any number of processes on any number of machines, may use
///   one database and schema at once.
/// - **Atomicity.** Each write is one transaction: [`link`] and
///   [`save_records`] store all or nothing. [`link`] takes a
///   transaction-scoped advisory lock on the schema's cross-references, so
///   two workers linking one remote id at once get one link and one
///   [`LinkConflict`](crate::ConnectorErrorKind::LinkConflict), as one
///   process would. It answers as [`MemoryStore`](super::MemoryStore) does.
///   [`hold`] merges with what is stored under a lock of its own, so two
///   workers holding one conflict at once merge one after the other.
/// - **Leases.** One row per lease in `leases`, taken by a single
///   `INSERT ... ON CONFLICT DO UPDATE ... WHERE` (lapsed, or the same
///   holder's) that PostgreSQL re-checks against the latest row: of any
///   number of workers racing, one gets it. Expiries are the database's
///   `now()` plus the ttl, never a worker's clock, so workers with skewed
///   clocks agree; the fencing token grows each time the lease changes
///   hands or lapses (a released lease keeps its row). A ttl beyond a
///   hundred thousand years counts as that.
/// - **Versioning.** The applied migrations are listed in the schema's
///   `sync_state_migrations` table; opening applies the missing ones in one
///   transaction, keeping every row (migration 2 added held conflicts and
///   leases to a migration-1 schema). A schema migrated by a newer version
///   of this crate is refused, as is a schema holding another program's
///   tables.
/// - **Transport.** No TLS yet (`NoTls`): use a private network, a Unix
///   socket or a tunnel.
/// - **Privacy.** The password is never shown; error messages name keys
///   and ids, never record contents.
///
/// [`link`]: crate::XrefStore::link
/// [`save_records`]: crate::RecordStore::save_records
/// [`hold`]: crate::HeldStore::hold
///
/// # Example
///
/// ```no_run
/// use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
/// use odoo_integration_connectors::{CheckpointStore, Cursor, Link, PostgresStore, XrefStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let store = PostgresStore::connect("postgres://sync@db.internal/state").await?;
/// let acme = CanonicalId::new();
/// store.link(&[Link::new("client", acme, SystemId::hubspot(), RemoteId::new("981"))]).await?;
/// store.save_checkpoint("hubspot→odoo/client", &Cursor::new("p7")).await?;
/// assert_eq!(store.resolve("client", &SystemId::hubspot(), &RemoteId::new("981")).await?, Some(acme));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    config: PostgresConfig,
    /// The schema name, double-quoted for SQL.
    quoted: String,
}

impl fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresStore")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects by URL (`postgres://user:password@host:port/dbname`), in
    /// schema `odoo_sync`, and migrates it. See [`open`](Self::open).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open); also when the URL does not parse.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let store = odoo_integration_connectors::PostgresStore::connect("postgres://sync@localhost/state").await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(url: &str) -> Result<Self> {
        PostgresStore::open(PostgresConfig::from_url(url)?).await
    }

    /// Connects, creates the schema if missing and applies the missing
    /// migrations, in one transaction.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Store`](crate::ConnectorErrorKind::Store) when the server cannot be reached or
    /// refuses the login, when the schema holds another program's tables,
    /// or when it was migrated by a newer version of this crate.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use odoo_integration_connectors::{PostgresConfig, PostgresStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let config = PostgresConfig::from_env()?.schema("acme_sync")?.pool_size(4);
    /// let store = PostgresStore::open(config).await?;
    /// # Ok(()) }
    /// ```
    pub async fn open(config: PostgresConfig) -> Result<Self> {
        let manager = Manager::from_config(
            config.pg.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(config.pool_size)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| {
                ConnectorError::store(format!("building the PostgreSQL pool: {e}")).with_source(e)
            })?;
        let quoted = format!("\"{}\"", config.schema);
        let store = PostgresStore {
            inner: Arc::new(Inner {
                pool,
                config,
                quoted,
            }),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// The schema holding the tables.
    ///
    /// # Example
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let store = odoo_integration_connectors::PostgresStore::connect("postgres://sync@localhost/state").await?;
    /// assert_eq!(store.schema(), "odoo_sync");
    /// # Ok(()) }
    /// ```
    pub fn schema(&self) -> &str {
        &self.inner.config.schema
    }

    /// The schema version this crate writes: the number of the last
    /// migration.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::PostgresStore::SCHEMA_VERSION >= 1);
    /// ```
    pub const SCHEMA_VERSION: i32 = migrate::SCHEMA_VERSION;

    /// `sql` with `{s}` replaced by the quoted schema.
    fn sql(&self, sql: &str) -> String {
        sql.replace("{s}", &self.inner.quoted)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.inner.pool.get().await.map_err(|e| {
            ConnectorError::store(format!("connecting to PostgreSQL: {e}")).with_source(e)
        })
    }
}

/// A PostgreSQL error while `doing` something. The server's messages name
/// tables, columns and at most key values (ids), never record contents.
fn db_error(doing: impl fmt::Display, e: tokio_postgres::Error) -> ConnectorError {
    let detail = e
        .as_db_error()
        .map(|d| format!("{}: {}", d.code().code(), d.message()))
        .unwrap_or_else(|| e.to_string());
    ConnectorError::store(format!("{doing}: {detail}")).with_source(e)
}

fn parse_id(text: &str) -> Result<CanonicalId> {
    text.parse()
        .map_err(|e: odoo_integration_model::IdentityError| {
            ConnectorError::store(format!("the PostgreSQL store holds {e}")).with_source(e)
        })
}
