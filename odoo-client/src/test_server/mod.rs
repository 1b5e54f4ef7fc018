//! An in-memory Odoo for tests (feature `test-server`).
//!
//! [`TestServer`] listens on `127.0.0.1` on a free port and answers the three
//! protocols the client speaks — JSON-2 (`/json/2/<model>/<method>`),
//! JSON-RPC (`/jsonrpc`, services `common` and `object`) and XML-RPC
//! (`/xmlrpc/2/common`, `/xmlrpc/2/object`) — plus `/web/version` and
//! `/web/webclient/version_info`, `/web/database/list` and the `db`
//! service (`list`, `server_version`, `db_exist`, `list_lang`), as Odoo 19
//! or, with
//! [`TestServerBuilder::version`], as 16, 17 or 18 (no JSON-2), with
//! password and API-key users. Models have typed fields; records live in
//! memory; `search`, `search_read`, `read`, `search_count`, `create`,
//! `write`, `unlink`, `fields_get`, `name_search` work with domains
//! evaluated; errors are shaped like a real Odoo 19's for each protocol.
//! Faults can be injected, and every call is logged for assertions.
//!
//! It starts with a small professional-services dataset (companies,
//! contacts, projects, employees, ...) from [`TestServer::start`], or empty
//! from [`TestServer::builder`].
//!
//! The binary `odoo-test-server` (same feature) runs it with the demo data
//! as a process for clients in any language: `odoo-test-server --port N`
//! (0: any free port; default 8069) prints one JSON line, `{"url": …,
//! "database": …, "login": …, "password": …, "api_key": …}`, then serves
//! until killed.
//!
//! # Example
//!
//! ```
//! use odoo_integration_client::test_server::TestServer;
//! use odoo_integration_client::{Domain, Protocol};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = TestServer::start().await?;
//! let client = server.client(Protocol::JsonRpc)?;
//! let companies = client
//!     .model("res.partner")
//!     .search_count(Domain::field("is_company").eq(true))
//!     .send()
//!     .await?;
//! assert!(companies > 0);
//! assert_eq!(server.calls().last().map(|c| c.method.as_str()), Some("search_count"));
//! # Ok(()) }
//! ```

mod dataset;
pub mod schema;
mod store;

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Map, Value, json};

use crate::client::{Client, Credentials, Protocol};
use crate::error::{Error, Result};
use crate::xmlrpc::{self, FaultCode, MethodResponse, XmlRpcValue};

use store::{Caller, Raise, Store};
pub use store::{Field, FieldKind, ModelDef};

/// The Odoo release the test server presents itself as.
///
/// Odoo 19 (the default) offers the JSON-2 API; 16, 17 and 18 answer
/// `/json/2/...` with a 404 page, as those releases do, and report their
/// own `server_version` and `version_info`, so `Protocol::Auto` and the
/// JSON-RPC and XML-RPC paths can be tested as most firms run them.
///
/// # Example
///
/// ```
/// use odoo_integration_client::test_server::OdooVersion;
/// assert_eq!(OdooVersion::V17.to_string(), "17.0");
/// assert!(!OdooVersion::V18.has_json2());
/// assert!(OdooVersion::default().has_json2());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
#[non_exhaustive]
pub enum OdooVersion {
    /// Odoo 16.0.
    V16,
    /// Odoo 17.0.
    V17,
    /// Odoo 18.0.
    V18,
    /// Odoo 19.0.
    #[default]
    V19,
}

impl OdooVersion {
    /// The major version number.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_client::test_server::OdooVersion::V16.major(), 16);
    /// ```
    pub fn major(self) -> u32 {
        match self {
            OdooVersion::V16 => 16,
            OdooVersion::V17 => 17,
            OdooVersion::V18 => 18,
            OdooVersion::V19 => 19,
        }
    }

    /// Whether this release offers the JSON-2 API (19 and later).
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_client::test_server::OdooVersion::V19.has_json2());
    /// ```
    pub fn has_json2(self) -> bool {
        self.major() >= 19
    }
}

impl fmt::Display for OdooVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.0", self.major())
    }
}

/// The database name the server answers to.
pub const DATABASE: &str = "test";
/// The administrator's login (uid 2).
pub const ADMIN_LOGIN: &str = "admin";
/// The administrator's password.
pub const ADMIN_PASSWORD: &str = "admin";
/// The administrator's API key.
pub const ADMIN_API_KEY: &str = "test-server-admin-api-key";
/// A user without administrator rights (uid 5): login, password and key.
pub const DEMO_LOGIN: &str = "demo";
/// The demo user's password.
pub const DEMO_PASSWORD: &str = "demo";
/// The demo user's API key.
pub const DEMO_API_KEY: &str = "test-server-demo-api-key";

/// A fault to inject into the next calls.
///
/// # Example
///
/// ```
/// use odoo_integration_client::test_server::Fault;
///
/// let f = Fault::RateLimited { retry_after: 2 };
/// assert_ne!(f, Fault::BadGateway);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Fault {
    /// Answer with this HTTP status and a short HTML page.
    Status(u16),
    /// Raise this Odoo exception (e.g. `odoo.exceptions.UserError`).
    Exception {
        /// The Python class name.
        name: String,
        /// The message.
        message: String,
    },
    /// HTTP 429 with `Retry-After` in seconds.
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// The HTML 502 page an nginx proxy sends when Odoo is down.
    BadGateway,
    /// Wait this long before handling the call normally.
    Delay(Duration),
    /// Handle the call (it takes effect), then break the connection before
    /// the reply is complete.
    DropAfterHandling,
}

/// One call the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallRecord {
    /// `json2`, `jsonrpc` or `xmlrpc`.
    pub protocol: &'static str,
    /// The model (`""` for `common` service calls).
    pub model: String,
    /// The method.
    pub method: String,
}

struct User {
    uid: i64,
    login: &'static str,
    password: &'static str,
    api_key: &'static str,
    admin: bool,
}

const USERS: [User; 2] = [
    User {
        uid: 2,
        login: ADMIN_LOGIN,
        password: ADMIN_PASSWORD,
        api_key: ADMIN_API_KEY,
        admin: true,
    },
    User {
        uid: 5,
        login: DEMO_LOGIN,
        password: DEMO_PASSWORD,
        api_key: DEMO_API_KEY,
        admin: false,
    },
];

struct Shared {
    version: OdooVersion,
    store: Mutex<Store>,
    faults: Mutex<VecDeque<Fault>>,
    /// Faults for calls of one method, before the general queue.
    targeted: Mutex<BTreeMap<String, VecDeque<Fault>>>,
    calls: Mutex<Vec<CallRecord>>,
    in_flight: AtomicUsize,
    peak: AtomicUsize,
}

impl Shared {
    fn store(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Builds a [`TestServer`] with your own models.
///
/// # Example
///
/// ```
/// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = TestServer::builder()
///     .model(ModelDef::new("x_tool.entry").field(Field::new("name", FieldKind::Char).required()))
///     .start()
///     .await?;
/// let id = server.insert("x_tool.entry", serde_json::json!({"name": "Mon"}))?;
/// assert_eq!(server.records("x_tool.entry")?[0]["id"], id);
/// # Ok(()) }
/// ```
#[must_use]
pub struct TestServerBuilder {
    demo_data: bool,
    port: u16,
    version: OdooVersion,
    models: Vec<ModelDef>,
    fields: Vec<(String, Field)>,
}

impl fmt::Debug for TestServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServerBuilder")
            .field("demo_data", &self.demo_data)
            .field("port", &self.port)
            .field("version", &self.version)
            .field(
                "models",
                &self.models.iter().map(ModelDef::name).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl TestServerBuilder {
    /// Registers a model (replacing a standard one of the same name).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let server = TestServer::builder()
    ///     .model(ModelDef::new("x_tool.entry").field(Field::new("name", FieldKind::Char)))
    ///     .start()
    ///     .await?;
    /// let client = server.client(Protocol::Json2)?;
    /// client.model("x_tool.entry").create(&serde_json::json!({"name": "Mon"})).send().await?;
    /// assert_eq!(client.model("x_tool.entry").search_count(Domain::all()).send().await?, 1);
    /// # Ok(()) }
    /// ```
    pub fn model(mut self, model: ModelDef) -> Self {
        self.models.push(model);
        self
    }

    /// Adds a field to a model, standard or registered: a custom `x_`
    /// field as Odoo Studio or a module would add it.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Protocol;
    /// use odoo_integration_client::test_server::{Field, FieldKind, TestServer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::builder()
    ///     .with_demo_data()
    ///     .field("account.analytic.line", Field::new("x_approved", FieldKind::Boolean))
    ///     .start()
    ///     .await?;
    /// let lines = server.client(Protocol::Json2)?.model("account.analytic.line");
    /// lines.write([1], &serde_json::json!({"x_approved": true})).send().await?;
    /// assert_eq!(lines.read([1]).fields(["x_approved"]).send().await?[0]["x_approved"], true);
    /// # Ok(()) }
    /// ```
    pub fn field(mut self, model: impl Into<String>, field: Field) -> Self {
        self.fields.push((model.into(), field));
        self
    }

    /// Seeds the professional-services dataset (default: off for the
    /// builder, on for [`TestServer::start`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let empty = TestServer::builder().start().await?;
    /// let demo = TestServer::builder().with_demo_data().start().await?;
    /// assert!(empty.records("res.partner")?.is_empty());
    /// assert!(!demo.records("res.partner")?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn with_demo_data(mut self) -> Self {
        self.demo_data = true;
        self
    }

    /// The loopback port to listen on (default 0: any free port). The
    /// server listens on `127.0.0.1` only.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let first = TestServer::builder().start().await?;
    /// let port: u16 = first.url().rsplit(':').next().unwrap_or_default().parse()?;
    /// // The port is taken: a second server on it is a configuration error.
    /// let err = TestServer::builder().port(port).start().await.unwrap_err();
    /// assert!(err.to_string().contains("cannot bind"), "{err}");
    /// # Ok(()) }
    /// ```
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The Odoo release to present (default [`OdooVersion::V19`]); before
    /// 19 there is no JSON-2, so [`Protocol::Auto`] chooses JSON-RPC.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{OdooVersion, TestServer};
    ///
    /// let server = TestServer::builder().version(OdooVersion::V17).with_demo_data().start().await?;
    /// let client = server.client(Protocol::Auto)?;
    /// assert_eq!(client.server_version().await?.as_str(), "17.0");
    /// client.model("res.partner").search_count(Domain::all()).send().await?;
    /// assert_eq!(server.calls().last().map(|c| c.protocol), Some("jsonrpc"));
    /// # Ok(()) }
    /// ```
    pub fn version(mut self, version: OdooVersion) -> Self {
        self.version = version;
        self
    }

    /// Starts listening on `127.0.0.1`, on a free port unless
    /// [`port`](TestServerBuilder::port) says which.
    ///
    /// # Errors
    ///
    /// [`Error::Configuration`] when no port can be bound or the seed data
    /// is invalid.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::builder().start().await?;
    /// assert!(server.url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub async fn start(self) -> Result<TestServer> {
        let mut store = Store::default();
        for m in dataset::standard_models() {
            store.register(m);
        }
        for m in self.models {
            store.register(m);
        }
        for (model, field) in self.fields {
            store
                .add_field(&model, field)
                .map_err(|e| Error::config(e.message))?;
        }
        let seeded = dataset::base(&mut store).and_then(|()| {
            if self.demo_data {
                dataset::seed(&mut store)?;
            }
            dataset::users(&mut store)
        });
        seeded.map_err(|e| Error::config(format!("invalid seed data: {}", e.message)))?;
        let shared = Arc::new(Shared {
            version: self.version,
            store: Mutex::new(store),
            faults: Mutex::new(VecDeque::new()),
            targeted: Mutex::new(BTreeMap::new()),
            calls: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            peak: AtomicUsize::new(0),
        });
        let app = Router::new()
            .route("/json/2/{model}/{method}", post(json2))
            .route("/jsonrpc", post(jsonrpc))
            .route("/xmlrpc/2/{service}", post(xmlrpc_handler))
            .route("/web/version", get(web_version))
            .route("/web/webclient/version_info", post(webclient_version_info))
            .route("/web/database/list", post(web_database_list))
            .fallback(route_not_found)
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(|e| {
                Error::config(format!(
                    "cannot bind the test server to 127.0.0.1:{}: {e}",
                    self.port
                ))
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| Error::config(format!("cannot read the test server address: {e}")))?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(TestServer {
            addr,
            shared,
            stop: Some(stop),
            task,
        })
    }
}

/// An in-memory Odoo on loopback. See the [module documentation](self).
///
/// Dropping it stops the server.
pub struct TestServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("url", &self.url())
            .finish()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

impl TestServer {
    /// A server with the standard models and the demo dataset.
    ///
    /// # Errors
    ///
    /// See [`TestServerBuilder::start`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::start().await?;
    /// let client = server.client(Protocol::JsonRpc)?;
    /// assert_eq!(
    ///     client
    ///         .model("res.partner")
    ///         .search_count(Domain::field("is_company").eq(true))
    ///         .send()
    ///         .await?,
    ///     3
    /// );
    /// # Ok(()) }
    /// ```
    pub async fn start() -> Result<TestServer> {
        TestServer::builder().with_demo_data().start().await
    }

    /// A builder: standard models, no data unless asked.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::builder().start().await?; // standard models, no data
    /// let client = server.client(Protocol::Json2)?;
    /// assert_eq!(client.model("res.partner").search_count(Domain::all()).send().await?, 0);
    /// # Ok(()) }
    /// ```
    pub fn builder() -> TestServerBuilder {
        TestServerBuilder {
            demo_data: false,
            port: 0,
            version: OdooVersion::V19,
            models: Vec::new(),
            fields: Vec::new(),
        }
    }

    /// The base URL (`http://127.0.0.1:<port>`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::{Client, Credentials};
    /// use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, TestServer};
    ///
    /// let server = TestServer::start().await?;
    /// let client = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
    ///     .build()?;
    /// assert_eq!(client.server_version().await?.as_str(), "19.0");
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A client for the administrator: API key for JSON-2 and `Auto`,
    /// password for JSON-RPC and XML-RPC.
    ///
    /// # Errors
    ///
    /// Never in practice (the URL and credentials are valid).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::start().await?;
    /// for protocol in [Protocol::Json2, Protocol::JsonRpc, Protocol::XmlRpc, Protocol::Auto] {
    ///     assert_eq!(server.client(protocol)?.uid().await?, 2);
    /// }
    /// # Ok(()) }
    /// ```
    pub fn client(&self, protocol: Protocol) -> Result<Client> {
        let credentials = match protocol {
            Protocol::Json2 | Protocol::Auto => Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY),
            _ => Credentials::password(ADMIN_LOGIN, ADMIN_PASSWORD),
        };
        Client::builder(self.url())
            .database(DATABASE)
            .credentials(credentials)
            .protocol(protocol)
            .build()
    }

    /// Every call received so far, oldest first.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::start().await?;
    /// server.client(Protocol::XmlRpc)?.model("crm.lead").search_count(Domain::all()).send().await?;
    /// let calls = server.calls();
    /// assert_eq!(
    ///     calls
    ///         .last()
    ///         .map(|c| (c.protocol, c.model.as_str(), c.method.as_str())),
    ///     Some(("xmlrpc", "crm.lead", "search_count"))
    /// );
    /// assert_eq!(calls.first().map(|c| c.method.as_str()), Some("authenticate"));
    /// # Ok(()) }
    /// ```
    pub fn calls(&self) -> Vec<CallRecord> {
        self.shared
            .calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The most requests the server handled at the same time.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use odoo_integration_client::test_server::{Fault, TestServer};
    ///
    /// let server = TestServer::start().await?;
    /// let client = server.client(Protocol::Json2)?;
    /// server.inject(Fault::Delay(Duration::from_millis(200)), 2);
    /// let partners = client.model("res.partner");
    /// let (a, b) = tokio::join!(
    ///     partners.search_count(Domain::all()).send(),
    ///     partners.search_count(Domain::all()).send()
    /// );
    /// assert_eq!(a? + b?, 12);
    /// assert_eq!(server.peak_concurrency(), 2);
    /// # Ok(()) }
    /// ```
    pub fn peak_concurrency(&self) -> usize {
        self.shared.peak.load(Ordering::SeqCst)
    }

    /// Makes the next `times` calls fail with `fault` (after any faults
    /// already queued).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::ErrorKind;
    /// use odoo_integration_client::test_server::{Fault, TestServer};
    ///
    /// let server = TestServer::start().await?;
    /// let client = server.client(Protocol::Json2)?;
    /// let fault = Fault::Exception {
    ///     name: "odoo.exceptions.AccessError".into(),
    ///     message: "Not for you".into(),
    /// };
    /// server.inject(fault, 1);
    /// let err = client.model("res.partner").search_count(Domain::all()).send().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::AccessDenied);
    /// assert!(client.model("res.partner").search_count(Domain::all()).send().await.is_ok()); // once only
    /// # Ok(()) }
    /// ```
    pub fn inject(&self, fault: Fault, times: usize) {
        if let Ok(mut q) = self.shared.faults.lock() {
            for _ in 0..times {
                q.push_back(fault.clone());
            }
        }
    }

    /// Makes the next `times` calls of `method` (on any model and over any
    /// protocol; `"load"`, `"write"`, `"create"`, `"authenticate"`, ...)
    /// fail with `fault`, before any fault queued with
    /// [`inject`](TestServer::inject). Other calls are not affected.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::test_server::{Fault, TestServer};
    /// use odoo_integration_client::{Domain, Protocol};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::start().await?;
    /// let client = server.client(Protocol::Json2)?;
    /// server.inject_on("create", Fault::DropAfterHandling, 1);
    /// // Reads are untouched...
    /// client.model("res.partner").search_count(Domain::all()).send().await?;
    /// // ...the create is handled, and its reply lost.
    /// let lost = client.model("res.partner").create(&serde_json::json!({"name": "Lost"})).send().await;
    /// assert!(lost.is_err());
    /// assert!(server.records("res.partner")?.iter().any(|r| r["name"] == "Lost"));
    /// # Ok(()) }
    /// ```
    pub fn inject_on(&self, method: &str, fault: Fault, times: usize) {
        if let Ok(mut targeted) = self.shared.targeted.lock() {
            let q = targeted.entry(method.to_owned()).or_default();
            for _ in 0..times {
                q.push_back(fault.clone());
            }
        }
    }

    /// The stored records of a model as `read` returns them, by id.
    ///
    /// # Errors
    ///
    /// The model does not exist.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::start().await?;
    /// let stages = server.records("crm.stage")?;
    /// assert_eq!(stages.iter().map(|r| r["name"].clone()).collect::<Vec<_>>(), ["New", "Won"]);
    /// assert!(server.records("no.such.model").is_err());
    /// # Ok(()) }
    /// ```
    pub fn records(&self, model: &str) -> Result<Vec<Map<String, Value>>> {
        let store = &mut *self.shared.store();
        let ids: Vec<i64> = store
            .tables
            .get(model)
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default();
        let admin = Caller {
            uid: 2,
            admin: true,
        };
        let mut args = BTreeMap::new();
        args.insert("domain".to_owned(), json!([["id", "in", ids]]));
        args.insert("order".to_owned(), json!("id"));
        let rows = store
            .call(
                admin,
                model,
                "search_read",
                None,
                &args,
                &json!({"active_test": false})
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            )
            .map_err(|e| Error::config(e.message))?;
        Ok(serde_json::from_value(rows).unwrap_or_default())
    }

    /// Creates a record directly (no call logged), e.g. to change data
    /// between two pages of a stream.
    ///
    /// # Errors
    ///
    /// The values are invalid for the model.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::builder().start().await?;
    /// let id = server.insert("res.partner", serde_json::json!({"name": "Seeded"}))?;
    /// let rows = server
    ///     .client(Protocol::Json2)?
    ///     .model("res.partner")
    ///     .read([id])
    ///     .fields(["name"])
    ///     .send()
    ///     .await?;
    /// assert_eq!(rows[0]["name"], "Seeded");
    /// assert!(server.insert("res.partner", serde_json::json!({"no_such_field": 1})).is_err());
    /// # Ok(()) }
    /// ```
    pub fn insert(&self, model: &str, values: Value) -> Result<i64> {
        let map = values.as_object().cloned().unwrap_or_default();
        self.shared
            .store()
            .insert(model, &map)
            .map_err(|e| Error::config(e.message))
    }

    /// Deletes a record directly (no call logged).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::builder().start().await?;
    /// let id = server.insert("res.partner", serde_json::json!({"name": "Gone soon"}))?;
    /// server.remove("res.partner", id);
    /// let rows = server.client(Protocol::Json2)?.model("res.partner").read([id]).send().await?;
    /// assert!(rows.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn remove(&self, model: &str, id: i64) {
        // Through the store, which keeps its external-id index exact. Only
        // the row goes: its external ids stay, pointing at nothing, as
        // after a delete behind Odoo's back.
        self.shared.store().remove_row(model, id);
    }
}

// ------------------------------------------------------------------ dispatch

/// Counts requests in flight for [`TestServer::peak_concurrency`].
struct InFlight<'a>(&'a Shared);

impl<'a> InFlight<'a> {
    fn enter(shared: &'a Shared) -> Self {
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(shared)
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What the handler should do before answering.
enum Before {
    Proceed,
    Answer(Response),
    Drop,
}

async fn before(
    shared: &Shared,
    protocol: &'static str,
    model: &str,
    method: &str,
    render: impl Fn(&Raise) -> Response,
) -> Before {
    if let Ok(mut calls) = shared.calls.lock() {
        calls.push(CallRecord {
            protocol,
            model: model.to_owned(),
            method: method.to_owned(),
        });
    }
    let targeted = shared
        .targeted
        .lock()
        .ok()
        .and_then(|mut t| t.get_mut(method).and_then(VecDeque::pop_front));
    let fault = targeted.or_else(|| shared.faults.lock().ok().and_then(|mut q| q.pop_front()));
    match fault {
        None => Before::Proceed,
        Some(Fault::Delay(d)) => {
            tokio::time::sleep(d).await;
            Before::Proceed
        }
        Some(Fault::DropAfterHandling) => Before::Drop,
        Some(Fault::Status(code)) => Before::Answer(html(code, "Error")),
        Some(Fault::BadGateway) => Before::Answer(html(502, "502 Bad Gateway")),
        Some(Fault::RateLimited { retry_after }) => {
            let mut r = html(429, "429 Too Many Requests");
            if let Ok(v) = retry_after.to_string().parse() {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            Before::Answer(r)
        }
        Some(Fault::Exception { name, message }) => {
            Before::Answer(render(&Raise::new(name, message)))
        }
    }
}

fn html(status: u16, title: &str) -> Response {
    let body = format!(
        "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    );
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [(header::CONTENT_TYPE, "text/html")],
        body,
    )
        .into_response()
}

/// A reply whose body breaks off: the client sees the connection drop.
fn dropped() -> Response {
    let stream = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::other(
            "connection dropped by fault injection",
        ))
    });
    Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .unwrap_or_else(|_| html(500, "error"))
}

fn traceback(raise: &Raise) -> String {
    let short = raise.name.strip_prefix("builtins.").unwrap_or(&raise.name);
    format!(
        "Traceback (most recent call last):\n  File \"/opt/odoo/odoo/service/model.py\", line 184, in retrying\n    result = func()\n{short}: {}\n",
        raise.message
    )
}

fn exception_body(raise: &Raise) -> Value {
    json!({
        "name": raise.name,
        "message": raise.message,
        "arguments": [raise.message],
        "context": {},
        "debug": traceback(raise),
    })
}

fn json_response(status: u16, body: &Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

// ------------------------------------------------------------------ JSON-2

fn json2_status(name: &str) -> u16 {
    match name.rsplit('.').next().unwrap_or(name) {
        "AccessError" => 403,
        "MissingError" | "NotFound" | "AttributeError" => 404,
        "UserError" | "ValidationError" | "UnprocessableEntity" => 422,
        "Unauthorized" | "AccessDenied" => 401,
        "BadRequest" => 400,
        _ => 500,
    }
}

fn json2_error(raise: &Raise) -> Response {
    // Unknown methods and models are werkzeug NotFound on JSON-2.
    let raise = match raise.name.as_str() {
        "builtins.AttributeError" => {
            Raise::new("werkzeug.exceptions.NotFound", raise.message.clone())
        }
        // JSON-2 checks arguments before calling the method.
        "builtins.TypeError" if raise.message.contains("unexpected keyword argument") => {
            Raise::new(
                "werkzeug.exceptions.UnprocessableEntity",
                raise
                    .message
                    .split("() ")
                    .nth(1)
                    .unwrap_or(&raise.message)
                    .to_owned(),
            )
        }
        "odoo.exceptions.UserError" if raise.message.starts_with("Object ") => Raise::new(
            "werkzeug.exceptions.NotFound",
            raise
                .message
                .replace("Object ", "the model '")
                .replace(" doesn't exist", "' does not exist"),
        ),
        _ => raise.clone(),
    };
    let mut r = json_response(json2_status(&raise.name), &exception_body(&raise));
    if raise.name == "werkzeug.exceptions.Unauthorized" {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            axum::http::HeaderValue::from_static("Bearer "),
        );
    }
    r
}

async fn json2(
    State(shared): State<Arc<Shared>>,
    Path((model, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !shared.version.has_json2() {
        return not_found_page();
    }
    let _guard = InFlight::enter(&shared);
    match before(&shared, "json2", &model, &method, json2_error).await {
        Before::Answer(r) => return r,
        Before::Drop => {
            let _ = json2_handle(&shared, &model, &method, &headers, &body);
            return dropped();
        }
        Before::Proceed => {}
    }
    json2_handle(&shared, &model, &method, &headers, &body)
}

fn json2_handle(
    shared: &Shared,
    model: &str,
    method: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if let Some(db) = headers.get("x-odoo-database").and_then(|v| v.to_str().ok())
        && db != DATABASE
    {
        return html(404, "404 Not Found");
    }
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("bearer ")
                .or_else(|| v.strip_prefix("Bearer "))
        });
    let Some(key) = key else {
        return json2_error(&Raise::new(
            "werkzeug.exceptions.Unauthorized",
            "User not authenticated, use an API Key with a Bearer Authorization header.",
        ));
    };
    let Some(user) = USERS.iter().find(|u| u.api_key == key) else {
        return json2_error(&Raise::new(
            "werkzeug.exceptions.Unauthorized",
            "Invalid apikey",
        ));
    };
    let args: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m,
        Ok(_) => Map::new(),
        Err(e) => {
            return json2_error(&Raise::new(
                "werkzeug.exceptions.BadRequest",
                format!("could not parse the body as json: {e}"),
            ));
        }
    };
    let ids = args
        .get("ids")
        .and_then(|v| serde_json::from_value::<Vec<i64>>(v.clone()).ok());
    let context = args
        .get("context")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let named: BTreeMap<String, Value> = args
        .into_iter()
        .filter(|(k, _)| k != "ids" && k != "context")
        .collect();
    let caller = Caller {
        uid: user.uid,
        admin: user.admin,
    };
    match shared
        .store()
        .call(caller, model, method, ids, &named, &context)
    {
        // JSON-2's create always answers a list of ids.
        Ok(v) if method == "create" && !v.is_array() => json_response(200, &json!([v])),
        Ok(v) => json_response(200, &v),
        Err(e) => json2_error(&e),
    }
}

// ------------------------------------------------------------------ JSON-RPC

/// Positional parameter names of the methods the server knows, to map
/// `execute_kw` args onto names.
fn positional_names(method: &str, has_ids: bool) -> &'static [&'static str] {
    match method {
        "search" | "search_count" => &["domain", "offset", "limit", "order"],
        "search_read" => &["domain", "fields", "offset", "limit", "order"],
        "read" if has_ids => &["fields"],
        "create" => &["vals_list"],
        "load" => &["fields", "data"],
        "write" if has_ids => &["vals"],
        "fields_get" => &["allfields", "attributes"],
        "name_search" => &["name", "domain", "operator", "limit"],
        _ => &[],
    }
}

fn takes_ids(method: &str) -> bool {
    matches!(
        method,
        "read" | "write" | "unlink" | "action_archive" | "action_unarchive" | "action_post"
    )
}

/// A model call's ids, named arguments and context.
type NamedCall = (
    Option<Vec<i64>>,
    BTreeMap<String, Value>,
    Map<String, Value>,
);

/// Splits `execute_kw` arguments into ids and named arguments.
fn name_args(method: &str, args: &[Value], kwargs: &Map<String, Value>) -> NamedCall {
    let mut rest = args;
    let mut ids = None;
    if takes_ids(method)
        && let Some((first, tail)) = args.split_first()
    {
        ids = serde_json::from_value::<Vec<i64>>(first.clone())
            .ok()
            .or_else(|| first.as_i64().map(|i| vec![i]));
        rest = tail;
    }
    let mut named = BTreeMap::new();
    for (name, value) in positional_names(method, ids.is_some()).iter().zip(rest) {
        named.insert((*name).to_owned(), value.clone());
    }
    let mut context = Map::new();
    for (k, v) in kwargs {
        if k == "context" {
            context = v.as_object().cloned().unwrap_or_default();
        } else {
            named.insert(k.clone(), v.clone());
        }
    }
    (ids, named, context)
}

fn jsonrpc_error(id: &Value, raise: &Raise) -> Response {
    json_response(
        200,
        &json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": 0, "message": "Odoo Server Error", "data": exception_body(raise)},
        }),
    )
}

async fn jsonrpc(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    if !is_json(&headers) {
        return unsupported_media_type("/jsonrpc");
    }
    let _guard = InFlight::enter(&shared);
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "Invalid JSON data",
        )
            .into_response();
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let params = &request["params"];
    let service = params["service"].as_str().unwrap_or_default().to_owned();
    let method = params["method"].as_str().unwrap_or_default().to_owned();
    let args: Vec<Value> = params["args"].as_array().cloned().unwrap_or_default();
    let (model, model_method) = if service == "object" {
        (
            args.get(3)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            args.get(4)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )
    } else {
        (String::new(), method.clone())
    };
    let render = |r: &Raise| jsonrpc_error(&id, r);
    let drop_after = match before(&shared, "jsonrpc", &model, &model_method, render).await {
        Before::Answer(r) => return r,
        Before::Drop => true,
        Before::Proceed => false,
    };
    let result = legacy_dispatch(&shared, &service, &method, &args);
    if drop_after {
        return dropped();
    }
    match result {
        Ok(Value::Null) => json_response(200, &json!({"jsonrpc": "2.0", "id": id})),
        Ok(v) => json_response(200, &json!({"jsonrpc": "2.0", "id": id, "result": v})),
        Err(e) => jsonrpc_error(&id, &e),
    }
}

fn version(v: OdooVersion) -> Value {
    json!({
        "server_version": v.to_string(),
        "server_version_info": [v.major(), 0, 0, "final", 0, ""],
        "server_serie": v.to_string(),
        "protocol_version": 1
    })
}

/// The `common` and `object` services shared by JSON-RPC and XML-RPC.
fn legacy_dispatch(
    shared: &Shared,
    service: &str,
    method: &str,
    args: &[Value],
) -> std::result::Result<Value, Raise> {
    let text = |i: usize| args.get(i).and_then(Value::as_str).unwrap_or_default();
    match (service, method) {
        ("common", "version") => Ok(version(shared.version)),
        ("common", "login" | "authenticate") => {
            if text(0) != DATABASE {
                return Err(Raise::new(
                    "psycopg2.OperationalError",
                    format!(
                        "connection to server failed: FATAL:  database \"{}\" does not exist",
                        text(0)
                    ),
                ));
            }
            let user = USERS
                .iter()
                .find(|u| u.login == text(1) && (u.password == text(2) || u.api_key == text(2)));
            Ok(user.map_or(Value::Bool(false), |u| json!(u.uid)))
        }
        ("common", other) => Err(Raise::new(
            "builtins.Exception",
            format!("Method not found: {other}"),
        )),
        ("object", "execute_kw") => {
            if text(0) != DATABASE {
                return Err(Raise::new(
                    "psycopg2.OperationalError",
                    format!(
                        "connection to server failed: FATAL:  database \"{}\" does not exist",
                        text(0)
                    ),
                ));
            }
            let uid = args.get(1).and_then(Value::as_i64).unwrap_or_default();
            let user = USERS
                .iter()
                .find(|u| u.uid == uid && (u.password == text(2) || u.api_key == text(2)))
                .ok_or_else(|| Raise::new("odoo.exceptions.AccessDenied", "Access Denied"))?;
            let positional = args
                .get(5)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let kwargs = args
                .get(6)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let (ids, named, context) = name_args(text(4), &positional, &kwargs);
            let caller = Caller {
                uid: user.uid,
                admin: user.admin,
            };
            shared
                .store()
                .call(caller, text(3), text(4), ids, &named, &context)
        }
        ("db", "list") => Ok(json!([DATABASE])),
        ("db", "server_version") => Ok(json!(shared.version.to_string())),
        ("db", "db_exist") => Ok(json!(text(0) == DATABASE)),
        ("db", "list_lang") => Ok(json!(LANGUAGES)),
        ("db", other) => Err(Raise::new(
            "builtins.Exception",
            format!("Method not found: {other}"),
        )),
        (other, _) => Err(Raise::new("builtins.KeyError", other.to_owned())),
    }
}

/// Some of the languages `db.list_lang` offers (Odoo lists about ninety).
const LANGUAGES: &[[&str; 2]] = &[
    ["nl_BE", "Dutch (BE) / Nederlands (BE)"],
    ["nl_NL", "Dutch / Nederlands"],
    ["en_GB", "English (UK)"],
    ["en_US", "English (US)"],
    ["fr_BE", "French (BE) / Français (BE)"],
    ["fr_FR", "French / Français"],
    ["de_DE", "German / Deutsch"],
    ["es_ES", "Spanish / Español"],
];

// ------------------------------------------------------------------ XML-RPC

fn xmlrpc_fault(raise: &Raise) -> Response {
    let short = raise.name.rsplit('.').next().unwrap_or(&raise.name);
    let (code, string) = match short {
        "UserError" | "ValidationError" | "MissingError" => (2, raise.message.clone()),
        "AccessDenied" => (3, raise.message.clone()),
        "AccessError" => (4, raise.message.clone()),
        _ => (1, traceback(raise)),
    };
    xml_response(&MethodResponse::Fault {
        code: FaultCode::Int(code),
        string,
    })
}

fn xml_response(response: &MethodResponse<XmlRpcValue>) -> Response {
    match xmlrpc::encode_response(response) {
        Ok(body) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
            body,
        )
            .into_response(),
        Err(e) => html(500, &format!("cannot encode: {e}")),
    }
}

async fn xmlrpc_handler(
    State(shared): State<Arc<Shared>>,
    Path(service): Path<String>,
    body: Bytes,
) -> Response {
    let _guard = InFlight::enter(&shared);
    let (method, params) = match xmlrpc::decode_call(&body) {
        Ok(call) => call,
        Err(e) => {
            return xmlrpc_fault(&Raise::new("xml.parsers.expat.ExpatError", e.to_string()));
        }
    };
    let args: Vec<Value> = params.into_iter().map(XmlRpcValue::into_json).collect();
    let (model, model_method) = if service == "object" {
        (
            args.get(3)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            args.get(4)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
        )
    } else {
        (String::new(), method.clone())
    };
    let drop_after = match before(&shared, "xmlrpc", &model, &model_method, xmlrpc_fault).await {
        Before::Answer(r) => return r,
        Before::Drop => true,
        Before::Proceed => false,
    };
    let result = legacy_dispatch(&shared, &service, &method, &args);
    if drop_after {
        return dropped();
    }
    match result {
        // Odoo marshals with allow_none=False.
        Ok(Value::Null) => xmlrpc_fault(&Raise::new(
            "builtins.TypeError",
            "cannot marshal None unless allow_none is enabled",
        )),
        Ok(v) => xml_response(&MethodResponse::Success(XmlRpcValue::from_json(&v))),
        Err(e) => xmlrpc_fault(&e),
    }
}

async fn web_version(State(shared): State<Arc<Shared>>) -> Response {
    let v = shared.version;
    json_response(
        200,
        &json!({"version_info": [v.major(), 0, 0, "final", 0, ""], "version": v.to_string()}),
    )
}

/// What Odoo's web client asks: the `common.version` answer, over
/// JSON-RPC.
async fn webclient_version_info(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null);
    json_response(
        200,
        &json!({"jsonrpc": "2.0", "id": id, "result": version(shared.version)}),
    )
}

/// Odoo's page for a route it does not have (any unknown path; `/json/2`
/// on 16–18): an HTML page, status 404.
fn not_found_page() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
        "<!DOCTYPE html>\n<html>\n    <head>\n        <meta charset=\"utf-8\"/>\n        \
         <title>Odoo</title>\n    </head>\n    <body>\n        \
         <h1 class=\"visually-hidden\">Error 404</h1>\n        \
         <p>This page does not seem to exist.</p>\n    </body>\n</html>\n",
    )
        .into_response()
}

async fn route_not_found() -> Response {
    not_found_page()
}

/// Whether the request declares a JSON body, as Odoo's JSON routes require.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| {
            let t = t.trim();
            t.eq_ignore_ascii_case("application/json")
                || t.eq_ignore_ascii_case("application/json-rpc")
        })
}

/// Werkzeug's 415 page, as Odoo answers a JSON route called with another
/// content type.
fn unsupported_media_type(route: &str) -> Response {
    (
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        format!(
            "<!doctype html>\n<html lang=en>\n<title>415 Unsupported Media Type</title>\n\
             <h1>Unsupported Media Type</h1>\n<p>Request inferred type is compatible with \
             [&#39;http&#39;] but &#39;{route}&#39; is type=&#39;jsonrpc&#39;.<br><br>Please \
             verify the Content-Type request header and try again.</p>\n"
        ),
    )
        .into_response()
}

/// `/web/database/list`: the databases, over JSON-RPC.
async fn web_database_list(headers: HeaderMap, body: Bytes) -> Response {
    if !is_json(&headers) {
        return unsupported_media_type("/web/database/list");
    }
    let id = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(Value::Null);
    json_response(
        200,
        &json!({"jsonrpc": "2.0", "id": id, "result": [DATABASE]}),
    )
}
