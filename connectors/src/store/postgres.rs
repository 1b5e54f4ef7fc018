//! Every store in one PostgreSQL database (feature `postgres`), shared by
//! any number of workers on any number of machines.
//!
//! The tables live in one PostgreSQL schema (a namespace, `odoo_sync` unless
//! configured): `checkpoints`, `xrefs`, `records`, `dead_letters`, and
//! `sync_state_migrations`, which lists the migrations applied. Opening a
//! store applies the missing migrations in one transaction, under an
//! advisory lock so two workers starting at once migrate once; a schema
//! migrated by a newer version of this crate, or holding another program's
//! tables, is refused.
//!
//! The connection is plain TCP or a Unix socket (`NoTls`): TLS is not
//! supported yet, so reach a remote server over a private network or a
//! tunnel.

use super::state::Xrefs;
use super::{DeadLetter, Link, StoredRecord};
use crate::connector::Cursor;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use odoo_integration_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use secrecy::{ExposeSecret, SecretString};
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

/// The migrations, in order: `(version, what it does, SQL)`. `{s}` is the
/// quoted schema name. A new version appends one; none is ever edited.
const MIGRATIONS: &[(i32, &str, &str)] = &[(
    1,
    "checkpoints, cross-references, records and dead letters",
    r#"
CREATE TABLE {s}.checkpoints (
    key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    cursor TEXT NOT NULL
);
CREATE TABLE {s}.xrefs (
    entity TEXT COLLATE "C" NOT NULL,
    system TEXT COLLATE "C" NOT NULL,
    remote_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (entity, system, remote_id),
    UNIQUE (id, system)
);
CREATE TABLE {s}.records (
    entity TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE TABLE {s}.dead_letters (
    key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    entity TEXT COLLATE "C" NOT NULL,
    first_seen BIGINT NOT NULL,
    first_seen_nanos INTEGER NOT NULL,
    letter TEXT NOT NULL
);
CREATE INDEX dead_letters_by_entity
    ON {s}.dead_letters (entity, first_seen, first_seen_nanos, key);
"#,
)];

/// The schema version this crate writes and reads: the last migration's.
const SCHEMA_VERSION: i32 = 1;

/// The table that lists the applied migrations.
const MIGRATIONS_TABLE: &str = "sync_state_migrations";

/// How to reach the database, and where in it the store lives.
///
/// The password is kept as a [`SecretString`] and never shown: not by
/// `Debug`, not in an error.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::PostgresConfig;
/// let config = PostgresConfig::from_url("postgres://sync:hunter2@db.internal:5433/state")?
///     .schema("acme_sync")?
///     .pool_size(4);
/// let shown = format!("{config:?}");
/// assert!(shown.contains("db.internal") && shown.contains("acme_sync"));
/// assert!(!shown.contains("hunter2"));
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Clone)]
pub struct PostgresConfig {
    pg: tokio_postgres::Config,
    schema: String,
    pool_size: usize,
}

impl fmt::Debug for PostgresConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PostgresConfig")
            .field("hosts", &hosts(&self.pg))
            .field("ports", &self.pg.get_ports())
            .field("user", &self.pg.get_user())
            .field("dbname", &self.pg.get_dbname())
            .field("password", &self.pg.get_password().map(|_| "[redacted]"))
            .field("schema", &self.schema)
            .field("pool_size", &self.pool_size)
            .finish()
    }
}

fn hosts(pg: &tokio_postgres::Config) -> Vec<String> {
    pg.get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect()
}

impl Default for PostgresConfig {
    fn default() -> Self {
        PostgresConfig::new()
    }
}

impl PostgresConfig {
    /// The default schema: `odoo_sync`.
    pub const DEFAULT_SCHEMA: &'static str = "odoo_sync";

    /// `localhost:5432`, user `postgres`, schema `odoo_sync`, up to 8
    /// connections, a 10-second connect timeout.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::PostgresConfig;
    /// let config = PostgresConfig::new().host("10.0.0.5").port(5433).user("sync").dbname("state");
    /// assert!(format!("{config:?}").contains("10.0.0.5"));
    /// ```
    pub fn new() -> Self {
        let mut pg = tokio_postgres::Config::new();
        pg.host("localhost")
            .port(5432)
            .user("postgres")
            .application_name("odoo-integration")
            .connect_timeout(Duration::from_secs(10));
        PostgresConfig {
            pg,
            schema: Self::DEFAULT_SCHEMA.to_owned(),
            pool_size: 8,
        }
    }

    /// Reads a `postgres://user:password@host:port/dbname?...` URL (or a
    /// `key=value` connection string), as `libpq` does.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Store`] when it does not parse; the message
    /// never repeats the URL (it may hold the password).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::PostgresConfig;
    /// assert!(PostgresConfig::from_url("postgres://sync@localhost/state").is_ok());
    /// let bad = PostgresConfig::from_url("postgres://sync:hunter2@localhost:notaport/state").unwrap_err();
    /// assert!(!bad.to_string().contains("hunter2"));
    /// ```
    pub fn from_url(url: &str) -> Result<Self> {
        let mut pg = tokio_postgres::Config::from_str(url).map_err(|_| {
            ConnectorError::store(
                "the PostgreSQL connection URL does not parse (it is not repeated here: it may \
                 hold a password)",
            )
        })?;
        if pg.get_hosts().is_empty() {
            pg.host("localhost");
        }
        if pg.get_user().is_none() {
            pg.user("postgres");
        }
        if pg.get_application_name().is_none() {
            pg.application_name("odoo-integration");
        }
        if pg.get_connect_timeout().is_none() {
            pg.connect_timeout(Duration::from_secs(10));
        }
        Ok(PostgresConfig {
            pg,
            schema: Self::DEFAULT_SCHEMA.to_owned(),
            pool_size: 8,
        })
    }

    /// From the environment, as `psql` reads it: `DATABASE_URL` when set,
    /// else `PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD` and `PGDATABASE`
    /// over [`new`](Self::new)'s defaults.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Store`] when `DATABASE_URL` does not parse or
    /// `PGPORT` is not a port.
    ///
    /// # Example
    ///
    /// ```
    /// // Whatever the environment holds, the password is never shown.
    /// if let Ok(config) = odoo_integration_connectors::PostgresConfig::from_env() {
    ///     if let Ok(password) = std::env::var("PGPASSWORD") {
    ///         assert!(password.is_empty() || !format!("{config:?}").contains(&password));
    ///     }
    /// }
    /// ```
    pub fn from_env() -> Result<Self> {
        if let Some(url) = std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            return PostgresConfig::from_url(&url);
        }
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let mut config = PostgresConfig::new();
        if let Some(host) = var("PGHOST") {
            config = config.host(&host);
        }
        if let Some(port) = var("PGPORT") {
            let port = port
                .parse()
                .map_err(|_| ConnectorError::store(format!("PGPORT {port:?} is not a port")))?;
            config = config.port(port);
        }
        if let Some(user) = var("PGUSER") {
            config = config.user(&user);
        }
        if let Some(password) = var("PGPASSWORD") {
            config = config.password(SecretString::from(password));
        }
        if let Some(dbname) = var("PGDATABASE") {
            config = config.dbname(&dbname);
        }
        Ok(config)
    }

    /// The server's host name or address, or a Unix socket directory (a
    /// path starting with `/`).
    ///
    /// # Example
    ///
    /// ```
    /// let config = odoo_integration_connectors::PostgresConfig::new().host("/run/postgresql");
    /// assert!(format!("{config:?}").contains("/run/postgresql"));
    /// ```
    #[must_use]
    pub fn host(mut self, host: &str) -> Self {
        let ports = self.pg.get_ports().first().copied().unwrap_or(5432);
        self.pg = rebuild(&self.pg, &[host.to_owned()], ports);
        self
    }

    /// The server's port.
    ///
    /// # Example
    ///
    /// ```
    /// let config = odoo_integration_connectors::PostgresConfig::new().port(6543);
    /// assert!(format!("{config:?}").contains("6543"));
    /// ```
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.pg = rebuild(&self.pg, &hosts(&self.pg), port);
        self
    }

    /// The user to log in as.
    ///
    /// # Example
    ///
    /// ```
    /// let config = odoo_integration_connectors::PostgresConfig::new().user("sync");
    /// assert!(format!("{config:?}").contains("\"sync\""));
    /// ```
    #[must_use]
    pub fn user(mut self, user: &str) -> Self {
        self.pg.user(user);
        self
    }

    /// The password (kept secret: never shown).
    ///
    /// # Example
    ///
    /// ```
    /// let config = odoo_integration_connectors::PostgresConfig::new().password("hunter2".into());
    /// assert!(!format!("{config:?}").contains("hunter2"));
    /// ```
    #[must_use]
    pub fn password(mut self, password: SecretString) -> Self {
        self.pg.password(password.expose_secret());
        self
    }

    /// The database (by default, the user's name).
    ///
    /// # Example
    ///
    /// ```
    /// let config = odoo_integration_connectors::PostgresConfig::new().dbname("state");
    /// assert!(format!("{config:?}").contains("\"state\""));
    /// ```
    #[must_use]
    pub fn dbname(mut self, dbname: &str) -> Self {
        self.pg.dbname(dbname);
        self
    }

    /// The PostgreSQL schema (namespace) holding the store's tables, created
    /// if missing: one per independent sync state. A lowercase SQL
    /// identifier: letters, digits and `_`, not starting with a digit, at
    /// most 63 bytes.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Invalid`] for any other name.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorErrorKind, PostgresConfig};
    /// assert!(PostgresConfig::new().schema("acme_sync").is_ok());
    /// let bad = PostgresConfig::new().schema("x; DROP TABLE y").unwrap_err();
    /// assert_eq!(bad.kind(), ConnectorErrorKind::Invalid);
    /// ```
    pub fn schema(mut self, schema: &str) -> Result<Self> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && !schema.starts_with(|c: char| c.is_ascii_digit())
            && !schema.starts_with("pg_")
            && schema
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Invalid,
                format!(
                    "{schema:?} is not a usable PostgreSQL schema name (lowercase letters, \
                     digits and _, not starting with a digit or pg_, at most 63 bytes)"
                ),
            ));
        }
        self.schema = schema.to_owned();
        Ok(self)
    }

    /// The most connections the store opens at once (at least 1).
    ///
    /// # Example
    ///
    /// ```
    /// let config = odoo_integration_connectors::PostgresConfig::new().pool_size(2);
    /// assert!(format!("{config:?}").contains("pool_size: 2"));
    /// ```
    #[must_use]
    pub fn pool_size(mut self, size: usize) -> Self {
        self.pool_size = size.max(1);
        self
    }
}

/// A copy of what [`PostgresConfig`] sets, with these hosts and one port
/// for all of them.
fn rebuild(from: &tokio_postgres::Config, hosts: &[String], port: u16) -> tokio_postgres::Config {
    let mut to = tokio_postgres::Config::new();
    for h in hosts {
        to.host(h);
    }
    to.port(port);
    if let Some(user) = from.get_user() {
        to.user(user);
    }
    if let Some(password) = from.get_password() {
        to.password(password);
    }
    if let Some(dbname) = from.get_dbname() {
        to.dbname(dbname);
    }
    if let Some(name) = from.get_application_name() {
        to.application_name(name);
    }
    if let Some(timeout) = from.get_connect_timeout() {
        to.connect_timeout(*timeout);
    }
    if let Some(options) = from.get_options() {
        to.options(options);
    }
    to
}

/// Every store (checkpoints, cross-references, records, dead letters) in
/// a PostgreSQL database, for production use by several workers at once.
/// Needs the `postgres` feature.
///
/// - **Sharing.** Clones share one pool of connections; any number of
///   stores, in any number of processes on any number of machines, may use
///   one database and schema at once.
/// - **Atomicity.** Each write is one transaction: [`link`] and
///   [`save_records`] store all or nothing. [`link`] takes a
///   transaction-scoped advisory lock on the schema's cross-references, so
///   two workers linking one remote id at once get one link and one
///   [`LinkConflict`](ConnectorErrorKind::LinkConflict), as one process
///   would. It answers as [`MemoryStore`](super::MemoryStore) does.
/// - **Versioning.** The applied migrations are listed in the schema's
///   `sync_state_migrations` table; opening applies the missing ones in one
///   transaction. A schema migrated by a newer version of this crate is
///   refused, as is a schema holding another program's tables.
/// - **Transport.** No TLS yet (`NoTls`): use a private network, a Unix
///   socket or a tunnel.
/// - **Privacy.** The password is never shown; error messages name keys
///   and ids, never record contents.
///
/// [`link`]: crate::XrefStore::link
/// [`save_records`]: crate::RecordStore::save_records
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
    /// [`ConnectorErrorKind::Store`] when the server cannot be reached or
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
    pub const SCHEMA_VERSION: i32 = SCHEMA_VERSION;

    /// `sql` with `{s}` replaced by the quoted schema.
    fn sql(&self, sql: &str) -> String {
        sql.replace("{s}", &self.inner.quoted)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.inner.pool.get().await.map_err(|e| {
            ConnectorError::store(format!("connecting to PostgreSQL: {e}")).with_source(e)
        })
    }

    /// Creates the schema and applies the missing migrations, under an
    /// advisory lock, in one transaction.
    async fn migrate(&self) -> Result<()> {
        let schema = self.inner.config.schema.clone();
        let doing = format!("opening the store in schema {schema}");
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_error(&doing, e))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('odoo-integration/migrate/' || $1))",
            &[&schema],
        )
        .await
        .map_err(|e| db_error(&doing, e))?;
        let has_table = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables
                   WHERE schemaname = $1 AND tablename = $2)",
                &[&schema, &MIGRATIONS_TABLE],
            )
            .await
            .map_err(|e| db_error(&doing, e))?
            .get::<_, bool>(0);
        let current: i32 = if has_table {
            tx.query_one(
                &self.sql("SELECT COALESCE(max(version), 0) FROM {s}.sync_state_migrations"),
                &[],
            )
            .await
            .map_err(|e| db_error(&doing, e))?
            .get(0)
        } else {
            let others: i64 = tx
                .query_one(
                    "SELECT count(*) FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
                    &[&schema],
                )
                .await
                .map_err(|e| db_error(&doing, e))?
                .get(0);
            if others > 0 {
                return Err(ConnectorError::store(format!(
                    "schema {schema} is not a sync-state store: it holds {others} tables or \
                     views of another program and no {MIGRATIONS_TABLE}; choose another schema"
                )));
            }
            tx.batch_execute(&self.sql(
                "CREATE SCHEMA IF NOT EXISTS {s};
                 CREATE TABLE {s}.sync_state_migrations (
                     version INTEGER NOT NULL PRIMARY KEY,
                     description TEXT NOT NULL,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                 );",
            ))
            .await
            .map_err(|e| db_error(&doing, e))?;
            0
        };
        if current > SCHEMA_VERSION {
            return Err(ConnectorError::store(format!(
                "schema {schema} was migrated by a newer version of this store (schema version \
                 {current}, this version reads {SCHEMA_VERSION}); upgrade, or use another schema"
            )));
        }
        if current < 0 {
            return Err(ConnectorError::store(format!(
                "schema {schema} has an unknown schema version {current} (this version reads \
                 {SCHEMA_VERSION})"
            )));
        }
        for (version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            tx.batch_execute(&self.sql(sql))
                .await
                .map_err(|e| db_error(format!("{doing}: migration {version}"), e))?;
            tx.execute(
                &self.sql(
                    "INSERT INTO {s}.sync_state_migrations (version, description) VALUES ($1, $2)",
                ),
                &[version, description],
            )
            .await
            .map_err(|e| db_error(format!("{doing}: migration {version}"), e))?;
        }
        tx.commit().await.map_err(|e| db_error(&doing, e))
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

/// Reads a stored record's text, checking it is JSON. The parser's
/// message may quote the text, so only a position is kept.
fn decode_record(entity: &str, id: &str, json: String) -> Result<StoredRecord> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&json) {
        return Err(ConnectorError::store(format!(
            "the stored {entity} {id} is not JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        )));
    }
    StoredRecord::from_json(json)
}

#[async_trait]
impl super::CheckpointStore for PostgresStore {
    async fn checkpoint(&self, key: &str) -> Result<Option<Cursor>> {
        let client = self.client().await?;
        let doing = || format!("reading checkpoint {key}");
        let stmt = client
            .prepare_cached(&self.sql("SELECT cursor FROM {s}.checkpoints WHERE key = $1"))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let row = client
            .query_opt(&stmt, &[&key])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(row.map(|r| Cursor::new(r.get::<_, String>(0))))
    }

    async fn save_checkpoint(&self, key: &str, cursor: &Cursor) -> Result<()> {
        let client = self.client().await?;
        let doing = || format!("saving checkpoint {key}");
        let stmt = client
            .prepare_cached(&self.sql(
                "INSERT INTO {s}.checkpoints (key, cursor) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET cursor = excluded.cursor",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .execute(&stmt, &[&key, &cursor.as_str()])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(())
    }
}

#[async_trait]
impl super::XrefStore for PostgresStore {
    async fn remote_ids(&self, entity: &str, system: &SystemId) -> Result<Vec<RemoteId>> {
        let client = self.client().await?;
        let doing = || format!("listing {entity} ids in {system}");
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT remote_id FROM {s}.xrefs WHERE entity = $1 AND system = $2
                 ORDER BY remote_id",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let rows = client
            .query(&stmt, &[&entity, &system.as_str()])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(rows
            .iter()
            .map(|r| RemoteId::new(r.get::<_, String>(0)))
            .collect())
    }

    async fn resolve(
        &self,
        entity: &str,
        system: &SystemId,
        remote: &RemoteId,
    ) -> Result<Option<CanonicalId>> {
        Ok(self
            .resolve_many(entity, system, std::slice::from_ref(remote))
            .await?
            .into_iter()
            .next()
            .flatten())
    }

    async fn cross_refs(&self, id: CanonicalId) -> Result<CrossRefs> {
        Ok(self
            .cross_refs_many(&[id])
            .await?
            .into_iter()
            .next()
            .unwrap_or_default())
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
        let asked: Vec<&str> = remotes.iter().map(RemoteId::as_str).collect();
        let client = self.client().await?;
        let doing = || format!("resolving {entity} ids in {system}");
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT x.id FROM unnest($1::text[]) WITH ORDINALITY AS j(value, n)
                 LEFT JOIN {s}.xrefs AS x
                   ON x.entity = $2 AND x.system = $3 AND x.remote_id = j.value
                 ORDER BY j.n",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let rows = client
            .query(&stmt, &[&asked, &entity, &system.as_str()])
            .await
            .map_err(|e| db_error(doing(), e))?;
        if rows.len() != remotes.len() {
            return Err(ConnectorError::store(format!(
                "{}: asked {}, got {} answers",
                doing(),
                remotes.len(),
                rows.len()
            )));
        }
        rows.iter()
            .map(|r| {
                r.get::<_, Option<String>>(0)
                    .map(|id| parse_id(&id))
                    .transpose()
            })
            .collect()
    }

    async fn cross_refs_many(&self, ids: &[CanonicalId]) -> Result<Vec<CrossRefs>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = ids.iter().map(CanonicalId::to_string).collect();
        let client = self.client().await?;
        let doing = "reading cross-references";
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT j.n, x.system, x.remote_id
                 FROM unnest($1::text[]) WITH ORDINALITY AS j(value, n)
                 JOIN {s}.xrefs AS x ON x.id = j.value
                 ORDER BY j.n",
            ))
            .await
            .map_err(|e| db_error(doing, e))?;
        let rows = client
            .query(&stmt, &[&texts])
            .await
            .map_err(|e| db_error(doing, e))?;
        let mut out = vec![CrossRefs::new(); ids.len()];
        for row in rows {
            let n: i64 = row.get(0);
            usize::try_from(n - 1)
                .ok()
                .and_then(|i| out.get_mut(i))
                .ok_or_else(|| {
                    ConnectorError::store(format!("{doing}: answer {n} for {} ids", ids.len()))
                })?
                .insert(
                    SystemId::new(row.get::<_, String>(1)),
                    RemoteId::new(row.get::<_, String>(2)),
                );
        }
        Ok(out)
    }

    async fn link(&self, links: &[Link]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        let doing = "linking";
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| db_error(doing, e))?;
        // One linker at a time per schema: the checks below and the
        // inserts after them see no other linker's rows appear between.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('odoo-integration/link/' || $1))",
            &[&self.inner.config.schema],
        )
        .await
        .map_err(|e| db_error(doing, e))?;

        // What is stored about these remote ids and canonical ids.
        let mut entities = Vec::with_capacity(links.len());
        let mut systems = Vec::with_capacity(links.len());
        let mut remotes = Vec::with_capacity(links.len());
        let mut ids = Vec::with_capacity(links.len());
        for l in links {
            entities.push(l.entity.as_str());
            systems.push(l.system.as_str());
            remotes.push(l.remote_id.as_str());
            ids.push(l.id.to_string());
        }
        let distinct_ids: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let rows = tx
            .query(
                &self.sql(
                    "SELECT x.entity, x.system, x.remote_id, x.id
                     FROM unnest($1::text[], $2::text[], $3::text[]) AS j(entity, system, remote_id)
                     JOIN {s}.xrefs AS x USING (entity, system, remote_id)
                     UNION
                     SELECT entity, system, remote_id, id FROM {s}.xrefs WHERE id = ANY($4)",
                ),
                &[&entities, &systems, &remotes, &distinct_ids],
            )
            .await
            .map_err(|e| db_error(doing, e))?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in &rows {
            stored.push(Link::new(
                row.get::<_, String>(0),
                parse_id(row.get(3))?,
                SystemId::new(row.get::<_, String>(1)),
                RemoteId::new(row.get::<_, String>(2)),
            ));
        }
        // The built-in stores' checks, over what is stored: the same
        // answers and messages.
        let mut xrefs = Xrefs::default();
        xrefs.link(&stored).map_err(|e| {
            ConnectorError::store(format!(
                "{doing}: the stored cross-references contradict each other: {}",
                e.message()
            ))
        })?;
        xrefs.link(links)?;

        let inserted = tx
            .execute(
                &self.sql(
                    "INSERT INTO {s}.xrefs (entity, system, remote_id, id)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                     ON CONFLICT DO NOTHING",
                ),
                &[&entities, &systems, &remotes, &ids],
            )
            .await;
        if let Err(e) = inserted {
            return Err(if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                ConnectorError::new(
                    ConnectorErrorKind::LinkConflict,
                    format!("{doing}: another worker linked one of these ids first"),
                )
                .with_source(e)
            } else {
                db_error(doing, e)
            });
        }
        tx.commit().await.map_err(|e| db_error(doing, e))
    }
}

#[async_trait]
impl super::RecordStore for PostgresStore {
    async fn record(&self, entity: &str, id: CanonicalId) -> Result<Option<StoredRecord>> {
        Ok(self
            .records(entity, &[id])
            .await?
            .into_iter()
            .next()
            .flatten())
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
        let client = self.client().await?;
        let doing = || format!("reading {entity} records");
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT r.json FROM unnest($1::text[]) WITH ORDINALITY AS j(value, n)
                 LEFT JOIN {s}.records AS r ON r.entity = $2 AND r.id = j.value
                 ORDER BY j.n",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let rows = client
            .query(&stmt, &[&texts, &entity])
            .await
            .map_err(|e| db_error(doing(), e))?;
        if rows.len() != ids.len() {
            return Err(ConnectorError::store(format!(
                "{}: asked {}, got {} answers",
                doing(),
                ids.len(),
                rows.len()
            )));
        }
        rows.iter()
            .zip(&texts)
            .map(|(r, id)| {
                r.get::<_, Option<String>>(0)
                    .map(|json| decode_record(entity, id, json))
                    .transpose()
            })
            .collect()
    }

    async fn save_records(
        &self,
        entity: &str,
        records: Vec<(CanonicalId, StoredRecord)>,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        // The last of one id wins, as in the built-in stores (one statement
        // may not update a row twice).
        let mut last: HashMap<CanonicalId, usize> = HashMap::with_capacity(records.len());
        for (i, (id, _)) in records.iter().enumerate() {
            last.insert(*id, i);
        }
        let mut ids = Vec::with_capacity(last.len());
        let mut jsons = Vec::with_capacity(last.len());
        for (i, (id, record)) in records.iter().enumerate() {
            if last.get(id) == Some(&i) {
                ids.push(id.to_string());
                jsons.push(record.as_str());
            }
        }
        let client = self.client().await?;
        let doing = || format!("saving {entity} records");
        let stmt = client
            .prepare_cached(&self.sql(
                "INSERT INTO {s}.records (entity, id, json)
                 SELECT $1, j.id, j.json FROM unnest($2::text[], $3::text[]) AS j(id, json)
                 ON CONFLICT (entity, id) DO UPDATE SET json = excluded.json",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        // One statement: all rows or none.
        client
            .execute(&stmt, &[&entity, &ids, &jsons])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(())
    }
}

#[async_trait]
impl super::DeadLetterQueue for PostgresStore {
    async fn put(&self, letter: DeadLetter) -> Result<()> {
        let json = serde_json::to_string(&letter).map_err(|e| {
            ConnectorError::store(format!("encoding the dead letter {}: {e}", letter.key))
                .with_source(e)
        })?;
        let client = self.client().await?;
        let doing = || format!("storing the dead letter {}", letter.key);
        let stmt = client
            .prepare_cached(&self.sql(
                "INSERT INTO {s}.dead_letters (key, entity, first_seen, first_seen_nanos, letter)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (key) DO UPDATE SET
                    entity = excluded.entity,
                    first_seen = excluded.first_seen,
                    first_seen_nanos = excluded.first_seen_nanos,
                    letter = excluded.letter",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let nanos = i32::try_from(letter.first_seen.timestamp_subsec_nanos()).unwrap_or(i32::MAX);
        client
            .execute(
                &stmt,
                &[
                    &letter.key,
                    &letter.entity,
                    &letter.first_seen.timestamp(),
                    &nanos,
                    &json,
                ],
            )
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(())
    }

    async fn letter(&self, key: &str) -> Result<Option<DeadLetter>> {
        let client = self.client().await?;
        let doing = || format!("reading the dead letter {key}");
        let stmt = client
            .prepare_cached(&self.sql("SELECT letter FROM {s}.dead_letters WHERE key = $1"))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .query_opt(&stmt, &[&key])
            .await
            .map_err(|e| db_error(doing(), e))?
            .map(|r| decode_letter(key, r.get(0)))
            .transpose()
    }

    async fn letters(&self, entity: &str) -> Result<Vec<DeadLetter>> {
        let client = self.client().await?;
        let doing = || format!("reading the {entity} dead letters");
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT key, letter FROM {s}.dead_letters WHERE entity = $1
                 ORDER BY first_seen, first_seen_nanos, key",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let rows = client
            .query(&stmt, &[&entity])
            .await
            .map_err(|e| db_error(doing(), e))?;
        rows.iter()
            .map(|r| decode_letter(r.get(0), r.get(1)))
            .collect()
    }

    async fn remove(&self, key: &str) -> Result<()> {
        self.remove_many(&[key.to_owned()]).await.map(|_| ())
    }

    async fn remove_many(&self, keys: &[String]) -> Result<usize> {
        if keys.is_empty() {
            return Ok(0);
        }
        let client = self.client().await?;
        let doing = "removing dead letters";
        let stmt = client
            .prepare_cached(&self.sql("DELETE FROM {s}.dead_letters WHERE key = ANY($1)"))
            .await
            .map_err(|e| db_error(doing, e))?;
        let n = client
            .execute(&stmt, &[&keys])
            .await
            .map_err(|e| db_error(doing, e))?;
        usize::try_from(n).map_err(|_| ConnectorError::store(format!("{doing}: {n} rows")))
    }
}
