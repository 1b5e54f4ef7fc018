//! The client handle, its builder, credentials and the session.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backon::Retryable;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use tokio::sync::OnceCell;
use url::Url;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::{Model, ModelClient, TypedModel};
use crate::protocol::{self, Call, Service};
use crate::retry::RetryPolicy;
use crate::transport::Transport;

/// Which of Odoo's RPC protocols the client speaks.
///
/// # Example
///
/// ```
/// use odoo_integration_client::Protocol;
///
/// assert_eq!(Protocol::default(), Protocol::Auto);
/// assert_eq!("json2".parse::<Protocol>()?, Protocol::Json2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// The JSON-2 API of Odoo 19+: `POST /json/2/<model>/<method>` with a
    /// bearer API key and named arguments. Needs an API key.
    Json2,
    /// JSON-RPC at `/jsonrpc` (`common` and `object` services). Odoo 8 to 19
    /// (deprecated in 19, scheduled for removal in 20).
    JsonRpc,
    /// XML-RPC at `/xmlrpc/2/common` and `/xmlrpc/2/object`. Odoo 8 to 19
    /// (deprecated in 19, scheduled for removal in 20).
    XmlRpc,
    /// Ask the server its version once, then use JSON-2 on Odoo 19+ when the
    /// credential is an API key, and JSON-RPC otherwise.
    #[default]
    Auto,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Json2 => "json2",
            Protocol::JsonRpc => "jsonrpc",
            Protocol::XmlRpc => "xmlrpc",
            Protocol::Auto => "auto",
        })
    }
}

impl std::str::FromStr for Protocol {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().replace(['-', '_'], "").as_str() {
            "json2" => Ok(Protocol::Json2),
            "jsonrpc" => Ok(Protocol::JsonRpc),
            "xmlrpc" => Ok(Protocol::XmlRpc),
            "auto" | "" => Ok(Protocol::Auto),
            _ => Err(Error::config(format!(
                "unknown protocol `{s}` (expected json2, jsonrpc, xmlrpc or auto)"
            ))),
        }
    }
}

/// The secret a user authenticates with.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SecretKind {
    Password,
    ApiKey,
}

/// A login and its secret: a password or an API key.
///
/// The secret is held in a [`SecretString`]: `Debug` shows the login and the
/// kind of secret, never the secret itself.
///
/// # Example
///
/// ```
/// use odoo_integration_client::Credentials;
///
/// let creds = Credentials::api_key("admin", "0123456789abcdef");
/// assert_eq!(creds.login(), "admin");
/// assert!(!format!("{creds:?}").contains("0123456789abcdef"));
/// ```
#[derive(Clone)]
pub struct Credentials {
    login: String,
    secret: SecretString,
    kind: SecretKind,
}

impl Credentials {
    /// A login with its password. Works with JSON-RPC and XML-RPC, not with
    /// JSON-2.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Credentials;
    ///
    /// let creds = Credentials::password("admin", "s3cret");
    /// assert!(!creds.is_api_key());
    /// assert!(!format!("{creds:?}").contains("s3cret"));
    /// ```
    pub fn password(login: impl Into<String>, password: impl Into<SecretString>) -> Self {
        Credentials {
            login: login.into(),
            secret: password.into(),
            kind: SecretKind::Password,
        }
    }

    /// A login with an API key (Odoo 14+; Preferences → Account Security).
    /// Works with every protocol; JSON-2 needs one.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Credentials;
    ///
    /// let creds = Credentials::api_key("admin", "0123456789abcdef");
    /// assert!(creds.is_api_key());
    /// assert!(!format!("{creds:?}").contains("0123456789abcdef"));
    /// ```
    pub fn api_key(login: impl Into<String>, key: impl Into<SecretString>) -> Self {
        Credentials {
            login: login.into(),
            secret: key.into(),
            kind: SecretKind::ApiKey,
        }
    }

    /// The login (user name), which is not secret.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Credentials;
    ///
    /// assert_eq!(Credentials::password("ops@example.com", "pw").login(), "ops@example.com");
    /// ```
    pub fn login(&self) -> &str {
        &self.login
    }

    /// `true` for an API key, `false` for a password.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Credentials;
    ///
    /// assert!(Credentials::api_key("admin", "key").is_api_key());
    /// assert!(!Credentials::password("admin", "pw").is_api_key());
    /// ```
    pub fn is_api_key(&self) -> bool {
        self.kind == SecretKind::ApiKey
    }

    pub(crate) fn secret(&self) -> &str {
        self.secret.expose_secret()
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("login", &self.login)
            .field(
                match self.kind {
                    SecretKind::Password => "password",
                    SecretKind::ApiKey => "api_key",
                },
                &"[REDACTED]",
            )
            .finish()
    }
}

/// The version a server reports.
///
/// # Example
///
/// ```
/// use odoo_integration_client::ServerVersion;
///
/// let v = ServerVersion::parse("17.0+e")?;
/// assert_eq!((v.major(), v.minor()), (17, 0));
/// assert!(!v.has_json2());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerVersion {
    version: String,
    major: u32,
    minor: u32,
}

impl ServerVersion {
    /// Parses a version string such as `19.0`, `17.0+e` or `saas~18.2`.
    ///
    /// # Errors
    ///
    /// Never a protocol error: a string without a leading number gives a
    /// configuration error naming it.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ServerVersion;
    ///
    /// let v = ServerVersion::parse("saas~18.2")?;
    /// assert_eq!((v.major(), v.minor()), (18, 2));
    /// assert!(ServerVersion::parse("unknown").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(version: &str) -> Result<Self> {
        let trimmed = version.trim_start_matches("saas~");
        let mut parts = trimmed.split(|c: char| !c.is_ascii_digit());
        let major = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| Error::config(format!("cannot read the server version `{version}`")))?;
        let minor = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
        Ok(ServerVersion {
            version: version.to_owned(),
            major,
            minor,
        })
    }

    /// The version string as the server sent it (`"19.0"`).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ServerVersion;
    ///
    /// assert_eq!(ServerVersion::parse("17.0+e")?.as_str(), "17.0+e");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.version
    }
    /// The major version (`19`).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ServerVersion;
    ///
    /// assert_eq!(ServerVersion::parse("16.0")?.major(), 16);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn major(&self) -> u32 {
        self.major
    }
    /// The minor version (`0`; `2` for `saas~18.2`).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ServerVersion;
    ///
    /// assert_eq!(ServerVersion::parse("saas~17.4")?.minor(), 4);
    /// assert_eq!(ServerVersion::parse("19.0")?.minor(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn minor(&self) -> u32 {
        self.minor
    }
    /// `true` when the server offers the JSON-2 API (Odoo 19+).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ServerVersion;
    ///
    /// assert!(ServerVersion::parse("19.0")?.has_json2());
    /// assert!(!ServerVersion::parse("18.0")?.has_json2());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn has_json2(&self) -> bool {
        self.major >= 19
    }
}

impl fmt::Display for ServerVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.version)
    }
}

/// Builds a [`Client`]. Created by [`Client::builder`].
///
/// # Example
///
/// ```
/// use std::time::Duration;
/// use odoo_integration_client::{Client, Context, Credentials, Protocol};
///
/// let client = Client::builder("https://odoo.example.com")
///     .database("prod")
///     .credentials(Credentials::api_key("admin", "0123456789abcdef"))
///     .protocol(Protocol::Json2)
///     .timeout(Duration::from_secs(60))
///     .context(Context::new().lang("fr_BE").tz("Europe/Brussels"))
///     .build()?;
/// assert_eq!(client.context().get("tz"), Some(&serde_json::json!("Europe/Brussels")));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use]
pub struct ClientBuilder {
    url: String,
    database: Option<String>,
    credentials: Option<Credentials>,
    protocol: Protocol,
    timeout: Duration,
    context: Context,
    http: Option<reqwest::Client>,
    retry: RetryPolicy,
    max_concurrent: usize,
    max_body: usize,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("url", &self.url)
            .field("database", &self.database)
            .field("credentials", &self.credentials)
            .field("protocol", &self.protocol)
            .field("timeout", &self.timeout)
            .field("context", &self.context)
            .field("http", &self.http.as_ref().map(|_| "user-supplied"))
            .field("retry", &self.retry)
            .field("max_concurrent_requests", &self.max_concurrent)
            .field("max_body_size", &self.max_body)
            .finish()
    }
}

/// The default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default cap on requests in flight per client.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 8;

/// The default limit on the size of one reply body: 256 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 256 * 1024 * 1024;

impl ClientBuilder {
    /// A builder configured from the environment (see
    /// [`Client::from_env`] for the variables), to adjust before
    /// [`build`](ClientBuilder::build).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) naming the variable that is missing, empty
    /// or invalid.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let client = odoo_integration_client::ClientBuilder::from_env()?
    ///     .timeout(Duration::from_secs(120))
    ///     .build()?;
    /// println!("connected to {:?}", client.database());
    /// # Ok::<(), odoo_integration_client::Error>(())
    /// ```
    pub fn from_env() -> Result<ClientBuilder> {
        ClientBuilder::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](ClientBuilder::from_env) over any lookup of variables.
    pub(crate) fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<ClientBuilder> {
        let get = |name: &str| var(name).filter(|v| !v.trim().is_empty());
        let required = |name: &str| {
            get(name)
                .ok_or_else(|| Error::config(format!("the environment variable {name} is not set")))
        };
        let url = required("ODOO_URL")?;
        let login = required("ODOO_LOGIN")?;
        let credentials = match (get("ODOO_API_KEY"), get("ODOO_PASSWORD")) {
            (Some(key), _) => Credentials::api_key(login, key),
            (None, Some(password)) => Credentials::password(login, password),
            (None, None) => {
                return Err(Error::config(
                    "neither ODOO_API_KEY nor ODOO_PASSWORD is set in the environment",
                ));
            }
        };
        let protocol = match get("ODOO_PROTOCOL") {
            Some(p) => p
                .parse::<Protocol>()
                .map_err(|e| Error::config(format!("ODOO_PROTOCOL: {e}")))?,
            None => Protocol::Auto,
        };
        let mut builder = Client::builder(url)
            .credentials(credentials)
            .protocol(protocol);
        if let Some(db) = get("ODOO_DB") {
            builder = builder.database(db);
        } else if matches!(protocol, Protocol::JsonRpc | Protocol::XmlRpc) {
            return Err(Error::config(format!(
                "the environment variable ODOO_DB is not set ({protocol} needs a database)"
            )));
        }
        Ok(builder)
    }

    /// The database to use. Required for JSON-RPC and XML-RPC; optional for
    /// JSON-2 on a server that hosts a single database.
    ///
    /// Default: none.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Credentials};
    ///
    /// let client = Client::builder("https://odoo.example.com")
    ///     .database("prod")
    ///     .credentials(Credentials::password("admin", "pw"))
    ///     .build()?;
    /// assert_eq!(client.database(), Some("prod"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn database(mut self, database: impl Into<String>) -> Self {
        self.database = Some(database.into());
        self
    }

    /// The login and its password or API key. Required.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Credentials, ErrorKind};
    ///
    /// let builder = Client::builder("https://odoo.example.com");
    /// let err = builder.build().unwrap_err(); // credentials are required
    /// assert_eq!(err.kind(), ErrorKind::Configuration);
    /// let client = Client::builder("https://odoo.example.com")
    ///     .credentials(Credentials::api_key("admin", "key"))
    ///     .build()?;
    /// assert_eq!(client.database(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// The protocol to speak.
    ///
    /// Default: [`Protocol::Auto`].
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Credentials, Protocol};
    ///
    /// // JSON-2 authenticates with an API key only.
    /// let with_password = Client::builder("https://odoo.example.com")
    ///     .credentials(Credentials::password("admin", "pw"))
    ///     .protocol(Protocol::Json2)
    ///     .build();
    /// assert!(with_password.is_err());
    /// // XML-RPC needs a database.
    /// let client = Client::builder("https://odoo.example.com")
    ///     .database("prod")
    ///     .credentials(Credentials::password("admin", "pw"))
    ///     .protocol(Protocol::XmlRpc)
    ///     .build();
    /// assert!(client.is_ok());
    /// ```
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = protocol;
        self
    }

    /// The timeout of each request, from sending to the end of the body.
    ///
    /// Default: 30 s ([`DEFAULT_TIMEOUT`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use std::time::Duration;
    ///
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .timeout(Duration::from_millis(100))
    ///     .build()?;
    /// server.inject(Fault::Delay(Duration::from_secs(2)), 1); // a slow reply
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "Slow"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.is_timeout());
    /// # Ok(()) }
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The context sent with every call (language, time zone, allowed
    /// companies, ...). A call's own context is merged over it.
    ///
    /// Default: empty (the user's own preferences apply).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use odoo_integration_client::Context;
    ///
    /// let with_archived = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .context(Context::new().active_test(false))
    ///     .build()?;
    /// let plain = server.client(Protocol::Json2)?;
    /// let all = with_archived.model("res.partner").search_count(Domain::all()).send().await?;
    /// let active = plain.model("res.partner").search_count(Domain::all()).send().await?;
    /// assert!(all > active);
    /// # Ok(()) }
    /// ```
    pub fn context(mut self, context: Context) -> Self {
        self.context = context;
        self
    }

    /// Use this `reqwest::Client` (for proxies, custom TLS roots, connection
    /// pool settings). The per-request timeout still applies. Call
    /// [`tls::ensure_crypto_provider`](crate::tls::ensure_crypto_provider)
    /// before building it, unless your application installs a rustls
    /// crypto provider itself.
    ///
    /// Default: a client built by this crate with rustls.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use std::time::Duration;
    ///
    /// odoo_integration_client::tls::ensure_crypto_provider()?;
    /// let http = reqwest::Client::builder().pool_idle_timeout(Duration::from_secs(30)).build()?;
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .http_client(http)
    ///     .build()?;
    /// assert!(client.model("res.partner").search_count(Domain::all()).send().await? > 0);
    /// # Ok(()) }
    /// ```
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.http = Some(client);
        self
    }

    /// How failed calls that are safe to repeat are retried.
    ///
    /// Default: [`RetryPolicy::new`] (3 retries, exponential backoff with
    /// jitter, honouring `Retry-After`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use std::time::Duration;
    /// use odoo_integration_client::RetryPolicy;
    ///
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .retry_policy(RetryPolicy::new().min_delay(Duration::from_millis(10)))
    ///     .build()?;
    /// server.inject(Fault::Status(503), 2); // two failures, then the read succeeds
    /// assert!(client.model("res.partner").search_count(Domain::all()).send().await? > 0);
    /// # Ok(()) }
    /// ```
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The most requests this client (and its clones) has in flight at
    /// once; further calls wait for a free slot. Protects a small Odoo from
    /// a burst of parallel work.
    ///
    /// Default: 8 ([`DEFAULT_MAX_CONCURRENT_REQUESTS`]). Values below 1
    /// count as 1.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use std::time::Duration;
    ///
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .max_concurrent_requests(2)
    ///     .build()?;
    /// server.inject(Fault::Delay(Duration::from_millis(20)), 6);
    /// let partners = client.model("res.partner");
    /// let counts =
    ///     futures::future::join_all((0..6).map(|_| partners.search_count(Domain::all()).send()))
    ///         .await;
    /// assert!(counts.iter().all(Result::is_ok));
    /// assert!(server.peak_concurrency() <= 2);
    /// # Ok(()) }
    /// ```
    pub fn max_concurrent_requests(mut self, max: usize) -> Self {
        self.max_concurrent = max.max(1);
        self
    }

    /// The largest reply body the client accepts, in bytes. A reply that
    /// declares a larger `Content-Length` is refused before it is read; one
    /// without a length stops being read when it passes the limit. Either
    /// way the call fails with a protocol error of kind
    /// [`ProtocolErrorKind::TooLarge`](crate::ProtocolErrorKind::TooLarge),
    /// so a broken or hostile server cannot make the client hold gigabytes.
    /// Page large reads (`search_read` with a `limit`, the keyset streams)
    /// rather than raise it.
    ///
    /// Default: 256 MiB ([`DEFAULT_MAX_BODY_SIZE`]). Values below 1 KiB
    /// count as 1 KiB.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol, ProtocolErrorKind};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// server.insert("res.partner", serde_json::json!({"name": "Big", "comment": "x".repeat(4096)}))?;
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .max_body_size(2048)
    ///     .build()?;
    /// let err = client.model("res.partner").search_read(Domain::all()).send().await.unwrap_err();
    /// assert_eq!(err.protocol_error().map(|p| p.kind()), Some(ProtocolErrorKind::TooLarge));
    /// # Ok(()) }
    /// ```
    pub fn max_body_size(mut self, bytes: usize) -> Self {
        self.max_body = bytes.max(1024);
        self
    }

    /// Builds the client. No request is made: the client logs in lazily on
    /// its first call.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when the URL does not parse, credentials are
    /// missing, JSON-2 is asked for with a password, or JSON-RPC/XML-RPC is
    /// asked for without a database.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Credentials, ErrorKind};
    ///
    /// let creds = Credentials::api_key("admin", "key");
    /// let client = Client::builder("https://odoo.example.com/odoo").credentials(creds.clone()).build();
    /// assert!(client.is_ok()); // no request made yet
    /// let err = Client::builder("ftp://odoo.example.com").credentials(creds).build().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Configuration);
    /// ```
    pub fn build(self) -> Result<Client> {
        let mut base =
            Url::parse(&self.url).map_err(|e| Error::config(format!("invalid base url: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(Error::config(format!(
                "base url must be http or https, not `{}`",
                base.scheme()
            )));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(Error::config(
                "base url must not carry credentials; use Credentials",
            ));
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let credentials = self
            .credentials
            .ok_or_else(|| Error::config("credentials are required"))?;
        match self.protocol {
            Protocol::Json2 if !credentials.is_api_key() => {
                return Err(Error::config(
                    "the JSON-2 API authenticates with an API key, not a password",
                ));
            }
            Protocol::JsonRpc | Protocol::XmlRpc if self.database.is_none() => {
                return Err(Error::config(format!(
                    "{} needs a database name",
                    self.protocol
                )));
            }
            _ => {}
        }
        let http = match self.http {
            Some(http) => http,
            None => {
                crate::tls::ensure_crypto_provider()?;
                reqwest::Client::builder()
                    .user_agent(concat!("odoo-integration/", env!("CARGO_PKG_VERSION")))
                    .build()
                    .map_err(|e| Error::config(format!("cannot build the http client: {e}")))?
            }
        };
        Ok(Client {
            retry: self.retry,
            inner: Arc::new(Inner {
                transport: Transport::new(
                    http,
                    base,
                    self.timeout,
                    self.max_concurrent,
                    self.max_body,
                ),
                database: self.database,
                credentials,
                protocol: self.protocol,
                context: self.context,
                resolved: OnceCell::new(),
                version: OnceCell::new(),
                uid: tokio::sync::Mutex::new(None),
                next_id: AtomicU64::new(1),
            }),
        })
    }
}

/// A connection to one Odoo database as one user.
///
/// Cheap to clone (an `Arc` inside), `Send + Sync`: share one client between
/// tasks. It logs in lazily on the first call that needs it, exactly once
/// even when many tasks call at the same time, and caches the uid and the
/// server version.
///
/// # Example
///
/// ```
/// use odoo_integration_client::{Client, Credentials, Domain};
/// # use odoo_integration_client::test_server::{ADMIN_API_KEY, TestServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let url = server.url();
/// # let api_key = ADMIN_API_KEY;
/// let client = Client::builder(url) // e.g. "https://odoo.example.com"
///     .credentials(Credentials::api_key("admin", api_key))
///     .build()?;
///
/// let companies = client
///     .model("res.partner")
///     .search_read(Domain::field("is_company").eq(true))
///     .fields(["name", "email"])
///     .order("name")
///     .limit(10)
///     .send()
///     .await?;
/// assert_eq!(companies[0]["name"], "Acme Corporation");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    /// Per handle: [`Client::with_retry_policy`] gives a handle on the same
    /// session with another policy.
    retry: RetryPolicy,
}

struct Inner {
    transport: Transport,
    database: Option<String>,
    credentials: Credentials,
    protocol: Protocol,
    context: Context,
    resolved: OnceCell<Protocol>,
    version: OnceCell<ServerVersion>,
    /// The logged-in uid. A mutex rather than a once-cell: concurrent first
    /// calls wait for the one login, and an expired session can forget it.
    uid: tokio::sync::Mutex<Option<i64>>,
    next_id: AtomicU64,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("url", &self.inner.transport.base().as_str())
            .field("database", &self.inner.database)
            .field("credentials", &self.inner.credentials)
            .field("protocol", &self.inner.protocol)
            .field("resolved_protocol", &self.inner.resolved.get())
            .field("retry", &self.retry)
            .field("uid", &self.inner.uid.try_lock().ok().and_then(|u| *u))
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client configured from the environment, as the examples (and most
    /// scripts and services) are:
    ///
    /// | variable | meaning | |
    /// |---|---|---|
    /// | `ODOO_URL` | the server, e.g. `https://odoo.example.com` | required |
    /// | `ODOO_LOGIN` | the user's login | required |
    /// | `ODOO_API_KEY` or `ODOO_PASSWORD` | the secret (the key wins when both are set) | one required |
    /// | `ODOO_DB` | the database | required for JSON-RPC and XML-RPC |
    /// | `ODOO_PROTOCOL` | `json2`, `jsonrpc`, `xmlrpc` or `auto` | default `auto` |
    ///
    /// Use [`ClientBuilder::from_env`] to change other settings before
    /// building.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) naming the variable that is missing, empty
    /// or invalid, or any error of [`ClientBuilder::build`].
    ///
    /// # Example
    ///
    /// ```no_run
    /// // ODOO_URL=https://odoo.example.com ODOO_DB=prod ODOO_LOGIN=admin ODOO_API_KEY=...
    /// let client = odoo_integration_client::Client::from_env()?;
    /// println!("database: {:?}", client.database());
    /// # Ok::<(), odoo_integration_client::Error>(())
    /// ```
    pub fn from_env() -> Result<Client> {
        ClientBuilder::from_env()?.build()
    }

    /// Starts building a client for the server at `url` (e.g.
    /// `https://odoo.example.com`, or with a path prefix when Odoo is served
    /// under one).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Credentials};
    ///
    /// let client = Client::builder("https://odoo.example.com")
    ///     .database("prod")
    ///     .credentials(Credentials::password("admin", "pw"))
    ///     .build()?;
    /// assert_eq!(client.database(), Some("prod"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(url: impl Into<String>) -> ClientBuilder {
        ClientBuilder {
            url: url.into(),
            database: None,
            credentials: None,
            protocol: Protocol::Auto,
            timeout: DEFAULT_TIMEOUT,
            context: Context::new(),
            http: None,
            retry: RetryPolicy::new(),
            max_concurrent: DEFAULT_MAX_CONCURRENT_REQUESTS,
            max_body: DEFAULT_MAX_BODY_SIZE,
        }
    }

    /// Untyped access to any model by name; rows are [`crate::value::Record`]s.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let n = client
    ///     .model("res.partner")
    ///     .search_count(Domain::field("parent_id.name").eq("Acme Corporation"))
    ///     .send()
    ///     .await?;
    /// assert_eq!(n, 2); // Acme's people: Ada Lind and Jon Park
    /// # Ok(()) }
    /// ```
    pub fn model(&self, name: impl Into<String>) -> ModelClient {
        ModelClient::new(self.clone(), name.into())
    }

    /// Typed access to the model `M` maps.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Domain, Model};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Partner { id: i64, name: String }
    /// impl Model for Partner {
    ///     const NAME: &'static str = "res.partner";
    ///     const FIELDS: &'static [&'static str] = &["name"];
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = odoo_integration_client::test_server::TestServer::start().await?;
    /// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// let partners: Vec<Partner> = client.typed::<Partner>().search_read(Domain::all()).send().await?;
    /// assert!(partners.iter().any(|p| p.name == "Acme Corporation"));
    /// # Ok(()) }
    /// ```
    pub fn typed<M: Model>(&self) -> TypedModel<M> {
        TypedModel::new(self.clone())
    }

    /// Calls any public method of a model, with positional and keyword
    /// arguments and a context.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// // res.partner.action_archive returns None: decode into ().
    /// let id = server.insert("res.partner", serde_json::json!({"name": "Old Supplier"}))?;
    /// client.call("res.partner", "action_archive").ids([id]).send::<()>().await?;
    /// assert_eq!(client.model("res.partner").search_count(Domain::field("id").eq(id)).send().await?, 0);
    /// # Ok(()) }
    /// ```
    pub fn call(&self, model: impl Into<String>, method: impl Into<String>) -> CallBuilder {
        CallBuilder {
            client: self.clone(),
            call: Call::new(model.into(), method.into()),
        }
    }

    /// The server version, asked once and cached. Needs no login.
    ///
    /// # Errors
    ///
    /// Transport and protocol errors of the version request.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let version = client.server_version().await?;
    /// assert_eq!(version.major(), 19);
    /// assert!(version.has_json2());
    /// # Ok(()) }
    /// ```
    pub async fn server_version(&self) -> Result<ServerVersion> {
        self.inner
            .version
            .get_or_try_init(|| self.fetch_version())
            .await
            .cloned()
    }

    /// The protocol in use: the configured one, or for [`Protocol::Auto`] the
    /// one chosen after asking the server its version.
    ///
    /// # Errors
    ///
    /// Those of [`Client::server_version`], for `Auto`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// // `Auto` with an API key picks JSON-2 on Odoo 19.
    /// let client = server.client(Protocol::Auto)?;
    /// assert_eq!(client.protocol().await?, Protocol::Json2);
    /// # Ok(()) }
    /// ```
    pub async fn protocol(&self) -> Result<Protocol> {
        if self.inner.protocol != Protocol::Auto {
            return Ok(self.inner.protocol);
        }
        self.inner
            .resolved
            .get_or_try_init(|| async {
                let version = self.server_version().await?;
                let chosen = if version.has_json2() && self.inner.credentials.is_api_key() {
                    Protocol::Json2
                } else {
                    Protocol::JsonRpc
                };
                if chosen == Protocol::JsonRpc && self.inner.database.is_none() {
                    return Err(Error::config(format!(
                        "Odoo {version} with {} needs JSON-RPC, which needs a database name",
                        if self.inner.credentials.is_api_key() {
                            "an API key"
                        } else {
                            "a password"
                        }
                    )));
                }
                tracing::debug!(protocol = %chosen, server_version = %version, "protocol chosen");
                Ok(chosen)
            })
            .await
            .copied()
    }

    /// The uid of the user, logging in first if needed (exactly one login
    /// even when many tasks ask at once).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) when the server refuses the credentials;
    /// transport and protocol errors.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let client = server.client(Protocol::JsonRpc)?;
    /// assert_eq!(client.uid().await?, 2); // the administrator
    /// # Ok(()) }
    /// ```
    pub async fn uid(&self) -> Result<i64> {
        let protocol = self.protocol().await?;
        let mut cached = self.inner.uid.lock().await;
        if let Some(uid) = *cached {
            return Ok(uid);
        }
        let uid = self.login(protocol).await?;
        *cached = Some(uid);
        Ok(uid)
    }

    /// Forgets the uid so that the next call logs in again.
    async fn forget_login(&self) {
        *self.inner.uid.lock().await = None;
    }

    /// The default context of this client.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Context, Credentials};
    ///
    /// let client = Client::builder("https://odoo.example.com")
    ///     .credentials(Credentials::api_key("admin", "key"))
    ///     .context(Context::new().lang("fr_FR"))
    ///     .build()?;
    /// assert_eq!(client.context().get("lang"), Some(&serde_json::json!("fr_FR")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn context(&self) -> &Context {
        &self.inner.context
    }

    /// The database name, when one was configured.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Credentials};
    ///
    /// let client = Client::builder("https://odoo.example.com")
    ///     .credentials(Credentials::api_key("admin", "key"))
    ///     .build()?;
    /// assert_eq!(client.database(), None); // JSON-2 on a single-database server
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn database(&self) -> Option<&str> {
        self.inner.database.as_deref()
    }

    /// A handle on the same client that retries by `policy` instead: it
    /// shares the session, the HTTP connection pool, the cap on requests in
    /// flight, the cached uid and server version; only the retry policy
    /// differs. Cheap (an `Arc` clone); this handle is unchanged.
    ///
    /// The usual use is [`RetryPolicy::disabled`] for a caller that runs
    /// its own retry loop, such as a sync pipeline driving Odoo as a sink:
    /// then exactly one layer decides retries, and a failing call is not
    /// sent (client retries) × (pipeline attempts) times.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use odoo_integration_client::RetryPolicy;
    /// use odoo_integration_client::test_server::Fault;
    ///
    /// let client = server.client(Protocol::Json2)?; // retries transient failures
    /// let once = client.with_retry_policy(RetryPolicy::disabled());
    /// assert!(!once.retry_policy().is_enabled());
    /// assert!(client.retry_policy().is_enabled());
    ///
    /// server.inject(Fault::Status(503), 1);
    /// // The handle without retries reports the 503 at once...
    /// let err = once.model("res.partner").search_count(Domain::all()).send().await.unwrap_err();
    /// assert_eq!(err.http_status(), Some(503));
    /// // ...where the original handle would have tried again.
    /// server.inject(Fault::Status(503), 1);
    /// assert!(client.model("res.partner").search_count(Domain::all()).send().await.is_ok());
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn with_retry_policy(&self, policy: RetryPolicy) -> Client {
        Client {
            inner: Arc::clone(&self.inner),
            retry: policy,
        }
    }

    /// The retry policy of this handle.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Credentials, RetryPolicy};
    ///
    /// let client = Client::builder("https://odoo.example.com")
    ///     .credentials(Credentials::api_key("admin", "key"))
    ///     .retry_policy(RetryPolicy::new().max_retries(5))
    ///     .build()?;
    /// assert_eq!(client.retry_policy().retry_limit(), 5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    async fn fetch_version(&self) -> Result<ServerVersion> {
        let version: Value = match self.inner.protocol {
            Protocol::XmlRpc => {
                protocol::xmlrpc_service(self, Service::Common, "version", Vec::new()).await?
            }
            Protocol::JsonRpc => {
                protocol::jsonrpc_service(self, Service::Common, "version", Vec::new()).await?
            }
            Protocol::Json2 | Protocol::Auto => {
                match self.inner.transport.get_json("web/version").await {
                    Ok(v) => v,
                    // Before Odoo 17 there is no /web/version: ask JSON-RPC.
                    Err(e) if e.http_status() == Some(404) => {
                        protocol::jsonrpc_service(self, Service::Common, "version", Vec::new())
                            .await?
                    }
                    Err(e) => return Err(e),
                }
            }
        };
        let text = version
            .get("server_version")
            .or_else(|| version.get("version"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                Error::protocol(
                    crate::error::ProtocolErrorKind::Unexpected,
                    "version",
                    None,
                    "the version reply has no version string",
                    version.to_string().as_bytes(),
                )
            })?;
        ServerVersion::parse(text)
    }

    async fn login(&self, protocol: Protocol) -> Result<i64> {
        let creds = &self.inner.credentials;
        let uid: Value = match protocol {
            Protocol::Json2 => {
                // JSON-2 is stateless: ask the server who the key belongs to.
                // Boxed: `execute` may itself log in, so the future is recursive.
                let ctx: Map<String, Value> =
                    Box::pin(self.call("res.users", "context_get").allow_retry().send()).await?;
                ctx.get("uid").cloned().unwrap_or(Value::Bool(false))
            }
            Protocol::JsonRpc | Protocol::XmlRpc => {
                let args = vec![
                    Value::String(self.database_required()?.to_owned()),
                    Value::String(creds.login().to_owned()),
                    Value::String(creds.secret().to_owned()),
                    Value::Object(Map::new()),
                ];
                if protocol == Protocol::XmlRpc {
                    protocol::xmlrpc_service(self, Service::Common, "authenticate", args).await?
                } else {
                    protocol::jsonrpc_service(self, Service::Common, "authenticate", args).await?
                }
            }
            Protocol::Auto => return Err(Error::config("protocol not resolved")),
        };
        match uid.as_i64() {
            Some(uid) => {
                tracing::debug!(uid, "logged in");
                Ok(uid)
            }
            None => Err(Error::unauthorized(format!(
                "the server refused the login `{}` on database `{}`",
                creds.login(),
                self.inner.database.as_deref().unwrap_or("(default)")
            ))),
        }
    }

    pub(crate) fn database_required(&self) -> Result<&str> {
        self.inner
            .database
            .as_deref()
            .ok_or_else(|| Error::config("this protocol needs a database name"))
    }

    pub(crate) fn credentials(&self) -> &Credentials {
        &self.inner.credentials
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    pub(crate) fn next_request_id(&self) -> u64 {
        self.inner.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Sends a model call and decodes its result, retrying transient
    /// failures when the call is safe to repeat.
    pub(crate) async fn execute<T: DeserializeOwned>(&self, mut call: Call) -> Result<T> {
        call.merge_default_context(&self.inner.context);
        // JSON-2 is stateless (and its login runs through this very
        // function, holding the uid lock), so only the session protocols
        // look at the cached login.
        let session = self.protocol().await? != Protocol::Json2;
        let logged_in = session && self.inner.uid.lock().await.is_some();
        match self.execute_with_retries(&call).await {
            // A session that expired (or credentials the server stopped
            // accepting for a cached login): log in once more and repeat
            // the call once. A second refusal is final.
            Err(e) if logged_in && e.is_auth() => {
                tracing::info!(model = %call.model, method = %call.method, "session refused, logging in again");
                self.forget_login().await;
                self.execute_with_retries(&call).await
            }
            other => other,
        }
    }

    async fn execute_with_retries<T: DeserializeOwned>(&self, call: &Call) -> Result<T> {
        let policy = &self.retry;
        if !call.retry_safe || !policy.is_enabled() {
            let protocol = self.protocol().await?;
            return protocol::execute(self, protocol, call.clone()).await;
        }
        let attempt = || async {
            let protocol = self.protocol().await?;
            protocol::execute(self, protocol, call.clone()).await
        };
        attempt
            .retry(policy.backoff())
            .sleep(tokio::time::sleep)
            .when(|err: &Error| {
                // A server asking for a longer wait than the policy allows
                // is not waited for: the caller gets the rate-limit error
                // with the time the server asked.
                err.is_retryable()
                    && err
                        .retry_after()
                        .is_none_or(|wait| wait <= policy.retry_after_ceiling())
            })
            .adjust(|err: &Error, delay| {
                // Never sooner than the server asked.
                delay.map(|d| err.retry_after().map_or(d, |wait| wait.max(d)))
            })
            .notify(|err: &Error, delay| {
                tracing::warn!(
                    model = %call.model,
                    method = %call.method,
                    error.kind = %err.kind(),
                    delay_ms = delay.as_millis() as u64,
                    "transient failure, retrying"
                );
            })
            .await
    }
}

/// A call of any public model method. Created by [`Client::call`].
///
/// Arguments: on JSON-RPC and XML-RPC, `ids` then the positional arguments
/// go into `args` and keyword arguments into `kwargs`; on JSON-2 every
/// argument is sent by name, so positional arguments must be given with
/// [`CallBuilder::named_arg`] to work on every protocol.
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use serde_json::json;
/// let found: Vec<(i64, String)> = client
///     .call("res.partner", "name_search")
///     .named_arg("name", "Acme")
///     .kwarg("limit", 5)
///     .send()
///     .await?;
/// assert_eq!(found[0].1, "Acme Corporation");
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct CallBuilder {
    client: Client,
    call: Call,
}

impl CallBuilder {
    /// The record ids the method runs on (its `self`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let id = server.insert("res.partner", serde_json::json!({"name": "Old Supplier"}))?;
    /// client.call("res.partner", "action_archive").ids([id]).send::<()>().await?;
    /// assert_eq!(server.records("res.partner")?.iter().find(|r| r["id"] == id).unwrap()["active"], false);
    /// # Ok(()) }
    /// ```
    pub fn ids(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        self.call.ids = Some(ids.into_iter().collect());
        self
    }

    /// A positional argument without a name. Not usable with JSON-2 (which
    /// takes named arguments only): prefer [`CallBuilder::named_arg`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use serde_json::json;
    ///
    /// let client = server.client(Protocol::JsonRpc)?;
    /// let n: u64 = client
    ///     .call("res.partner", "search_count")
    ///     .arg(json!([["parent_id.name", "=", "Acme Corporation"]]))
    ///     .send()
    ///     .await?;
    /// assert_eq!(n, 2); // Acme's people: Ada Lind and Jon Park
    /// # Ok(()) }
    /// ```
    pub fn arg(mut self, value: impl Into<Value>) -> Self {
        self.call.args.push((None, value.into()));
        self
    }

    /// A positional argument with its parameter name: positional on
    /// JSON-RPC and XML-RPC, named on JSON-2.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use serde_json::json;
    ///
    /// // The same call on every protocol.
    /// for protocol in [Protocol::Json2, Protocol::JsonRpc, Protocol::XmlRpc] {
    ///     let n: u64 = server
    ///         .client(protocol)?
    ///         .call("res.partner", "search_count")
    ///         .named_arg("domain", json!([["parent_id.name", "=", "Acme Corporation"]]))
    ///         .send()
    ///         .await?;
    ///     assert_eq!(n, 2); // Acme's people: Ada Lind and Jon Park
    /// }
    /// # Ok(()) }
    /// ```
    pub fn named_arg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.call.args.push((Some(name.into()), value.into()));
        self
    }

    /// A keyword argument.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use serde_json::json;
    ///
    /// let rows: Vec<serde_json::Value> = client
    ///     .call("res.partner", "search_read")
    ///     .named_arg("domain", json!([["ref", "=", "ACME"]]))
    ///     .kwarg("fields", json!(["name"]))
    ///     .send()
    ///     .await?;
    /// assert_eq!(rows[0]["name"], "Acme Corporation");
    /// # Ok(()) }
    /// ```
    pub fn kwarg(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.call.kwargs.insert(name.into(), value.into());
        self
    }

    /// Context for this call, merged over the client's default context.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::Context;
    ///
    /// let count = |ctx: Context| {
    ///     client
    ///         .call("res.partner", "search_count")
    ///         .named_arg("domain", serde_json::json!([]))
    ///         .context(ctx)
    ///         .send::<u64>()
    /// };
    /// assert!(count(Context::new().active_test(false)).await? > count(Context::new()).await?);
    /// # Ok(()) }
    /// ```
    pub fn context(mut self, context: Context) -> Self {
        self.call.context = Some(context);
        self
    }

    /// Allow retries of this call after a transient failure: only for
    /// methods that read, or whose repetition is harmless.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::test_server::Fault;
    ///
    /// let id = server.insert("res.partner", serde_json::json!({"name": "Old Supplier"}))?;
    /// server.inject(Fault::Status(503), 1);
    /// // Archiving twice is harmless: let the client retry it.
    /// client.call("res.partner", "action_archive").ids([id]).allow_retry().send::<()>().await?;
    /// assert_eq!(server.records("res.partner")?.iter().find(|r| r["id"] == id).unwrap()["active"], false);
    /// # Ok(()) }
    /// ```
    pub fn allow_retry(mut self) -> Self {
        self.call.retry_safe = true;
        self
    }

    /// Sends the call and decodes the result into `T` (`()` or
    /// `Option<T>` for methods that return `None`, `serde_json::Value` for
    /// anything).
    ///
    /// # Errors
    ///
    /// Every [`Error`] variant can occur; see [`Error::kind`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let ctx: serde_json::Map<String, serde_json::Value> =
    ///     client.call("res.users", "context_get").send().await?;
    /// assert_eq!(ctx["uid"], 2);
    /// # Ok(()) }
    /// ```
    pub async fn send<T: DeserializeOwned>(self) -> Result<T> {
        self.client.execute(self.call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_env_names_what_is_missing_and_reads_the_rest() {
        let env = |pairs: &[(&str, &str)]| {
            let map: std::collections::HashMap<String, String> = pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            ClientBuilder::from_vars(move |name| map.get(name).cloned())
        };
        let message = |r: Result<ClientBuilder>| match r {
            Err(e) => e.to_string(),
            Ok(b) => panic!("expected an error, got {b:?}"),
        };
        assert!(message(env(&[])).contains("ODOO_URL"));
        assert!(message(env(&[("ODOO_URL", "https://o.example")])).contains("ODOO_LOGIN"));
        let no_secret = env(&[("ODOO_URL", "https://o.example"), ("ODOO_LOGIN", "admin")]);
        assert!(message(no_secret).contains("ODOO_API_KEY nor ODOO_PASSWORD"));
        let base = [
            ("ODOO_URL", "https://o.example"),
            ("ODOO_LOGIN", "admin"),
            ("ODOO_PASSWORD", "pw-sentinel-123"),
        ];
        let mut xml = base.to_vec();
        xml.push(("ODOO_PROTOCOL", "xmlrpc"));
        assert!(message(env(&xml)).contains("ODOO_DB"));
        let mut bad = base.to_vec();
        bad.push(("ODOO_PROTOCOL", "soap"));
        assert!(message(env(&bad)).contains("ODOO_PROTOCOL"));
        let mut full = base.to_vec();
        full.extend([
            ("ODOO_DB", "prod"),
            ("ODOO_PROTOCOL", "jsonrpc"),
            ("ODOO_API_KEY", ""),
        ]);
        let builder = env(&full).unwrap();
        assert_eq!(builder.database.as_deref(), Some("prod"));
        assert_eq!(builder.protocol, Protocol::JsonRpc);
        let shown = format!("{builder:?}");
        assert!(!shown.contains("pw-sentinel-123"), "{shown}");
        let client = builder.build().unwrap();
        assert_eq!(client.database(), Some("prod"));
        // An empty variable counts as missing; the key wins over a password.
        let mut keyed = base.to_vec();
        keyed.push(("ODOO_API_KEY", "key-sentinel-456"));
        let keyed = env(&keyed).unwrap();
        assert!(
            keyed
                .credentials
                .as_ref()
                .is_some_and(Credentials::is_api_key)
        );
    }

    #[test]
    fn client_is_send_sync_clone() {
        fn assert_traits<T: Send + Sync + Clone + 'static>() {}
        assert_traits::<Client>();
    }

    #[test]
    fn version_parsing() {
        for (s, major, minor) in [("19.0", 19, 0), ("17.0+e", 17, 0), ("saas~18.2", 18, 2)] {
            let v = ServerVersion::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!((v.major(), v.minor()), (major, minor));
        }
        assert!(ServerVersion::parse("master").is_err());
    }

    #[test]
    fn builder_rejects_what_cannot_work() {
        let pw = || Credentials::password("admin", "pw");
        let e = Client::builder("http://x")
            .credentials(pw())
            .protocol(Protocol::Json2)
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Configuration);
        assert!(e.to_string().contains("API key"), "{e}");
        let e = Client::builder("http://x")
            .credentials(pw())
            .protocol(Protocol::JsonRpc)
            .build()
            .unwrap_err();
        assert!(e.to_string().contains("database"), "{e}");
        let e = Client::builder("not a url")
            .credentials(pw())
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Configuration);
        let e = Client::builder("http://x").build().unwrap_err();
        assert!(e.to_string().contains("credentials"), "{e}");
        let e = Client::builder("http://u:p@x")
            .credentials(pw())
            .build()
            .unwrap_err();
        assert!(!e.to_string().contains(":p@"), "{e}");
    }
}
