//! Where the database is and how to log in: [`PostgresConfig`].

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

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
    pub(super) pg: tokio_postgres::Config,
    pub(super) schema: String,
    pub(super) pool_size: usize,
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
