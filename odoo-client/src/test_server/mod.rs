//! An in-memory Odoo for tests (feature `test-server`).
//!
//! [`TestServer`] listens on `127.0.0.1` on a free port and answers as Odoo
//! 19 or, with [`TestServerBuilder::version`], as 16, 17 or 18 (no JSON-2),
//! with password and API-key users. Its routes:
//!
//! - `POST /json/2/<model>/<method>`: JSON-2 (bearer API key; a session
//!   cookie only with a browser's `Sec-Fetch-*` headers). Other methods and
//!   paths under `/json/2` get its JSON 404, `"Did you mean POST
//!   /json/2/<model>/<method>?"`.
//! - `POST /jsonrpc`: JSON-RPC, services `common` (`version`, `about`,
//!   `login`, `authenticate`), `object` (`execute_kw`, `execute`) and `db`
//!   (`list`, `server_version`, `db_exist`, `list_lang`).
//! - `POST /xmlrpc/2/<service>`: XML-RPC, the same services, int fault
//!   codes; `POST /xmlrpc/<service>`: the legacy route, string fault codes
//!   (`"warning -- UserError\n\n<message>"`, `"AccessDenied"`).
//! - `POST /web/session/authenticate`, `/web/session/get_session_info`,
//!   `/web/session/destroy`: web client sessions (a `session_id` cookie);
//!   `POST /web/dataset/call_kw` and `/web/dataset/call_kw/<path>`: model
//!   calls with that cookie (`model`, `method`, `args`, `kwargs`), answered
//!   as `execute_kw`, "Odoo Session Expired" (code 100) without a live
//!   session. Ten failed logins in a row start Odoo's 60-second login
//!   cooldown (as for one client address).
//! - `GET /doc-bearer/<model>.json`: Odoo 19's model description (fields
//!   and public methods) for an API key.
//! - `GET /web/version` and `/json/version`; `POST
//!   /web/webclient/version_info` and `/web/database/list`.
//! - Any other path: Odoo's HTML 404 page.
//!
//! Models have typed fields; records live in memory; `search`,
//! `search_read`, `read`, `search_count`, `create`, `write`, `unlink`,
//! `fields_get`, `name_search`, `load`, `formatted_read_group`, the
//! deprecated `read_group`, `web_search_read` and `web_read` work with
//! domains evaluated, and a few of Odoo's business rules hold (the admin
//! user cannot be deleted; a partner cannot be its own ancestor). Errors are
//! shaped like a real Odoo 19's for each protocol and endpoint, malformed
//! requests included. Faults can be injected, and every call is logged for
//! assertions.
//!
//! Its models are Odoo 19's own, generated from a real server's
//! `fields_get` (listed in [`schema`]): every field exists with its type,
//! stored fields keep their values, related fields read through their
//! path, and what sync code relies on is computed as Odoo does (display
//! names, commercial partners, order and invoice amounts from their lines,
//! sequences such as `S00001` and `INV/2026/00001` on `action_post`,
//! defaults of required fields, create/write dates and users, a product's
//! service invoicing policy, an order line's price from its product when
//! none is given (price list rules are not applied), whether an expense is
//! re-invoiced (`can_be_reinvoiced`, from its product's
//! `expense_policy`)). Odoo's rules that break integrations are enforced:
//! required fields, a product on order lines, a name on contacts, no
//! recursive partners, field and model access by group,
//! `sale.order.action_confirm` only on quotations whose lines all have a
//! product, no removing lines of a confirmed order, and the company's lock
//! dates (an invoice dated
//! inside a locked period gets its accounting `date` moved past the lock,
//! as Odoo does; posting an entry dated inside one, or changing a posted
//! one there, is refused; tax lock dates are not applied, as no taxes are
//! computed), and, as since Odoo 17.3, a posted entry's lines, dates,
//! partner and currency are read only in any period.
//!
//! Every server has Odoo's base data (the company as partner 1, all
//! countries with Odoo's ids, USD, units, journals, users 1 to 5 with their
//! external ids); [`TestServer::start`] adds a professional-services
//! dataset (clients with their people, leads, projects with tasks,
//! employees, timesheets, an order, invoices), [`TestServer::builder`]
//! does not unless asked.
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
mod web;

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
    /// `json2`, `jsonrpc`, `xmlrpc`, or `web` for the web client's routes
    /// (`/web/session/authenticate`, `/web/dataset/call_kw`).
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
    /// Web client sessions (`/web/session/authenticate`).
    sessions: web::Sessions,
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

    /// Adds the professional-services demo dataset to the base data (default: off for the
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
    /// let base = TestServer::builder().start().await?;
    /// let demo = TestServer::builder().with_demo_data().start().await?;
    /// // Odoo's base data has the company's partner (id 1), which the demo
    /// // data renames, and adds clients to.
    /// assert_eq!(base.records("res.partner")?[0]["name"], "YourCompany");
    /// assert_eq!(demo.records("res.partner")?[0]["name"], "Northwind Consulting");
    /// assert!(demo.records("res.partner")?.len() > base.records("res.partner")?.len());
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
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when no port can be bound or the seed data
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
            sessions: web::Sessions::default(),
        });
        let app = Router::new()
            .route(
                "/json/2/{model}/{method}",
                post(json2).fallback(json2_not_found),
            )
            .route("/doc-bearer/{file}", get(doc_bearer))
            .route("/jsonrpc", post(jsonrpc))
            .route("/xmlrpc/2/{service}", post(xmlrpc_handler))
            .route("/xmlrpc/{service}", post(xmlrpc_legacy_handler))
            .route("/web/version", get(web_version))
            .route("/json/version", get(web_version))
            .route("/web/webclient/version_info", post(webclient_version_info))
            .route("/web/database/list", post(web_database_list))
            .route("/web/session/authenticate", post(web::authenticate))
            .route("/web/session/get_session_info", post(web::get_session_info))
            .route("/web/session/destroy", post(web::destroy))
            .route("/web/dataset/call_kw", post(web::call_kw))
            .route("/web/dataset/call_kw/{*path}", post(web::call_kw))
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
    ///         .search_count(Domain::field("parent_id.name").eq("Acme Corporation"))
    ///         .send()
    ///         .await?,
    ///     2 // Acme's people: Ada Lind and Jon Park
    /// );
    /// # Ok(()) }
    /// ```
    pub async fn start() -> Result<TestServer> {
        TestServer::builder().with_demo_data().start().await
    }

    /// A builder: standard models and Odoo's base data, no demo data unless asked.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::TestServer;
    ///
    /// let server = TestServer::builder().start().await?; // Odoo's base data only
    /// let client = server.client(Protocol::Json2)?;
    /// let partners = client.model("res.partner");
    /// let acme = Domain::field("name").eq("Acme Corporation");
    /// assert_eq!(partners.search_count(acme).send().await?, 0); // no demo data
    /// let company = partners.read([1]).fields(["name"]).send().await?;
    /// assert_eq!(company[0]["name"], "YourCompany");
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
    /// assert_eq!(a?, b?); // both counted the same partners
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
    /// assert_eq!(err.kind(), ErrorKind::Forbidden);
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
    // Werkzeug's HTTP exceptions carry their status in `arguments`;
    // `AccessDenied` is raised without a traceback.
    let arguments = if raise.name.starts_with("werkzeug.exceptions.") {
        json!([raise.message, json2_status(&raise.name)])
    } else {
        json!([raise.message])
    };
    let debug = if raise.name == "odoo.exceptions.AccessDenied" {
        format!("{}: {}\n", raise.name, raise.message)
    } else {
        traceback(raise)
    };
    json!({
        "name": raise.name,
        "message": raise.message,
        "arguments": arguments,
        "context": {},
        "debug": debug,
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
        "AccessError" | "Forbidden" | "SessionExpiredException" => 403,
        "MissingError" | "NotFound" | "AttributeError" => 404,
        "UserError" | "ValidationError" | "UnprocessableEntity" => 422,
        "Unauthorized" | "AccessDenied" => 401,
        "BadRequest" => 400,
        _ => 500,
    }
}

/// The first argument name in Python's "missing ... argument(s): 'x'".
fn first_quoted(message: &str) -> Option<&str> {
    let (_, rest) = message.split_once('\'')?;
    rest.split('\'').next()
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
        "builtins.TypeError" if raise.message.contains("required positional argument") => {
            Raise::new(
                "werkzeug.exceptions.UnprocessableEntity",
                format!(
                    "missing a required argument: '{}'",
                    first_quoted(&raise.message).unwrap_or_default()
                ),
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

/// The methods Odoo declares `@api.model`: JSON-2 refuses `ids` for them.
fn model_method(method: &str) -> bool {
    matches!(
        method,
        "create"
            | "search"
            | "search_read"
            | "search_count"
            | "search_fetch"
            | "fields_get"
            | "name_search"
            | "name_create"
            | "formatted_read_group"
            | "read_group"
            | "load"
            | "web_search_read"
            | "default_get"
            | "context_get"
    )
}

async fn json2(
    State(shared): State<Arc<Shared>>,
    Path((model, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !shared.version.has_json2() {
        return not_found_page(&headers);
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

/// `GET /doc-bearer/<model>.json` (Odoo 19's `api_doc` module, with an
/// API key): a model's fields and public methods.
async fn doc_bearer(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    if !shared.version.has_json2() {
        return not_found_page(&headers);
    }
    if wrong_database(&headers) {
        return nodb_not_found();
    }
    let user = match json2_user(&shared, &headers) {
        Ok(user) => user,
        Err(e) => return json2_error(&e),
    };
    let Some(model) = file.strip_suffix(".json") else {
        return not_found_page(&headers);
    };
    let caller = Caller {
        uid: user.uid,
        admin: user.admin,
    };
    let described = shared.store().describe(model, caller);
    match described {
        Ok(v) => json_response(200, &v),
        Err(_) => not_found_page(&headers),
    }
}

/// `/json/2` and its paths other than `POST /json/2/<model>/<method>`.
async fn json2_not_found(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if !shared.version.has_json2() {
        return not_found_page(&headers);
    }
    if let Some(r) = web::database_conflict(&shared, &headers) {
        return r;
    }
    if wrong_database(&headers) {
        return nodb_not_found();
    }
    json2_error(&Raise::new(
        "werkzeug.exceptions.NotFound",
        "Did you mean POST /json/2/<model>/<method>?",
    ))
}

/// `X-Odoo-Database` names a database the server does not have.
fn wrong_database(headers: &HeaderMap) -> bool {
    headers
        .get("x-odoo-database")
        .is_some_and(|v| v.to_str().map_or(true, |db| db != DATABASE))
}

/// The API key of an `Authorization: bearer <key>` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(char::is_whitespace)?;
    let token = token.trim_start();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The browser's `Sec-Fetch-*` headers of a top-level navigation, which
/// let a session cookie stand in for an API key.
fn interactive(headers: &HeaderMap) -> bool {
    let h = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    h("sec-fetch-dest") == Some("document")
        && h("sec-fetch-mode") == Some("navigate")
        && matches!(h("sec-fetch-site"), Some("none" | "same-origin"))
        && h("sec-fetch-user") == Some("?1")
}

/// Who a JSON-2 call runs as: the API key's user (`auth='bearer'`).
fn json2_user(shared: &Shared, headers: &HeaderMap) -> std::result::Result<&'static User, Raise> {
    let session = web::session_user(shared, headers);
    match bearer(headers) {
        Some(key) => {
            let user = USERS
                .iter()
                .find(|u| u.api_key == key)
                .ok_or_else(|| Raise::new("werkzeug.exceptions.Unauthorized", "Invalid apikey"))?;
            if session.is_some_and(|uid| uid != user.uid) {
                return Err(Raise::new(
                    "odoo.exceptions.AccessDenied",
                    "Session user does not match the used apikey",
                ));
            }
            Ok(user)
        }
        None => match session {
            None => Err(Raise::new(
                "werkzeug.exceptions.Unauthorized",
                "User not authenticated, use an API Key with a Bearer Authorization header.",
            )),
            Some(_) if !interactive(headers) => Err(Raise::new(
                "werkzeug.exceptions.Unauthorized",
                "Missing \"Authorization\" or Sec-headers for interactive usage.",
            )),
            Some(uid) => USERS
                .iter()
                .find(|u| u.uid == uid)
                .ok_or_else(|| Raise::new("odoo.http.SessionExpiredException", "Session expired")),
        },
    }
}

fn json2_handle(
    shared: &Shared,
    model: &str,
    method: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if let Some(r) = web::database_conflict(shared, headers) {
        return r;
    }
    if wrong_database(headers) {
        return nodb_not_found();
    }
    let user = match json2_user(shared, headers) {
        Ok(user) => user,
        Err(e) => return json2_error(&e),
    };
    // An empty body is no arguments; a body that is not an object is
    // ignored.
    let args: Map<String, Value> = if body.iter().all(u8::is_ascii_whitespace) {
        Map::new()
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(m)) => m,
            Ok(_) => Map::new(),
            Err(e) => {
                return json2_error(&Raise::new(
                    "werkzeug.exceptions.BadRequest",
                    format!("could not parse the body as json: {e}"),
                ));
            }
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
    let mut store = shared.store();
    if ids.as_ref().is_some_and(|i| !i.is_empty())
        && model_method(method)
        && store.models.contains_key(model)
    {
        return json2_error(&Raise::new(
            "werkzeug.exceptions.UnprocessableEntity",
            format!("cannot call {model}.{method} with ids"),
        ));
    }
    match store.call(caller, model, method, ids, &named, &context) {
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
        "default_get" => &["fields_list"],
        "read_group" => &[
            "domain", "fields", "groupby", "offset", "limit", "orderby", "lazy",
        ],
        "formatted_read_group" => &[
            "domain",
            "groupby",
            "aggregates",
            "having",
            "offset",
            "limit",
            "order",
        ],
        "web_search_read" => &[
            "domain",
            "specification",
            "offset",
            "limit",
            "order",
            "count_limit",
        ],
        "web_read" if has_ids => &["specification"],
        _ => &[],
    }
}

fn takes_ids(method: &str) -> bool {
    matches!(
        method,
        "read"
            | "write"
            | "unlink"
            | "action_archive"
            | "action_unarchive"
            | "action_post"
            | "action_confirm"
            | "web_read"
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

/// A model method called as `user`, with `execute_kw`'s positional and
/// keyword arguments.
fn call_model(
    shared: &Shared,
    user: &User,
    model: &str,
    method: &str,
    positional: &[Value],
    kwargs: &Map<String, Value>,
) -> std::result::Result<Value, Raise> {
    let (ids, named, context) = name_args(method, positional, kwargs);
    let caller = Caller {
        uid: user.uid,
        admin: user.admin,
    };
    shared
        .store()
        .call(caller, model, method, ids, &named, &context)
}

fn jsonrpc_error(id: &Value, raise: &Raise) -> Response {
    let (code, message) = match raise.name.as_str() {
        "odoo.http.SessionExpiredException" => (100, "Odoo Session Expired"),
        "werkzeug.exceptions.NotFound" => (404, "404: Not Found"),
        _ => (0, "Odoo Server Error"),
    };
    json_response(
        200,
        &json!({
            "jsonrpc": "2.0",
            "id": id,
            "error": {"code": code, "message": message, "data": exception_body(raise)},
        }),
    )
}

/// A JSON-RPC answer: `result`, no `result` at all for `None`, or the
/// error.
fn jsonrpc_reply(id: &Value, result: std::result::Result<Value, Raise>) -> Response {
    match result {
        Ok(Value::Null) => json_response(200, &json!({"jsonrpc": "2.0", "id": id})),
        Ok(v) => json_response(200, &json!({"jsonrpc": "2.0", "id": id, "result": v})),
        Err(e) => jsonrpc_error(id, &e),
    }
}

/// Werkzeug's plain 400 answer, which Odoo gives a body it cannot read as
/// JSON-RPC.
fn bad_request(text: &'static str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        text,
    )
        .into_response()
}

/// Python's name of a JSON value's type.
fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// A JSON-RPC request: its id and params, or what Odoo answers a
/// malformed one (415 for another content type, 400 for a body that is
/// not a JSON object, the error of `dict(params)` for params that are not
/// an object).
fn jsonrpc_envelope(
    headers: &HeaderMap,
    body: &[u8],
    route: &str,
) -> std::result::Result<(Value, Map<String, Value>), Box<Response>> {
    if !is_json(headers) {
        return Err(Box::new(unsupported_media_type(route)));
    }
    let request = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(o)) => o,
        Ok(_) => return Err(Box::new(bad_request("Invalid JSON-RPC data"))),
        Err(_) => return Err(Box::new(bad_request("Invalid JSON data"))),
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let params = match request.get("params") {
        None => Map::new(),
        Some(Value::Object(p)) => p.clone(),
        // `dict(params)`: a list of [key, value] pairs is a dict too.
        Some(Value::Array(pairs)) => {
            let mut out = Map::new();
            for (i, pair) in pairs.iter().enumerate() {
                match pair {
                    Value::Array(kv) if kv.len() == 2 => {
                        let key = match &kv[0] {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        out.insert(key, kv[1].clone());
                    }
                    Value::Array(kv) => {
                        return Err(Box::new(jsonrpc_error(
                            &id,
                            &Raise::new(
                                "builtins.ValueError",
                                format!(
                                    "dictionary update sequence element #{i} has length {}; 2 is required",
                                    kv.len()
                                ),
                            ),
                        )));
                    }
                    Value::String(s) if s.chars().count() == 2 => {
                        let mut chars = s.chars();
                        let (k, v) = (chars.next(), chars.next());
                        out.insert(
                            k.map(String::from).unwrap_or_default(),
                            json!(v.map(String::from)),
                        );
                    }
                    Value::String(s) => {
                        return Err(Box::new(jsonrpc_error(
                            &id,
                            &Raise::new(
                                "builtins.ValueError",
                                format!(
                                    "dictionary update sequence element #{i} has length {}; 2 is required",
                                    s.chars().count()
                                ),
                            ),
                        )));
                    }
                    _ => {
                        return Err(Box::new(jsonrpc_error(
                            &id,
                            &Raise::new(
                                "builtins.TypeError",
                                format!(
                                    "cannot convert dictionary update sequence element #{i} to a sequence"
                                ),
                            ),
                        )));
                    }
                }
            }
            out
        }
        // A string's items are its characters: one, not a pair.
        Some(Value::String(s)) if s.is_empty() => Map::new(),
        Some(Value::String(_)) => {
            return Err(Box::new(jsonrpc_error(
                &id,
                &Raise::new(
                    "builtins.ValueError",
                    "dictionary update sequence element #0 has length 1; 2 is required",
                ),
            )));
        }
        Some(other) => {
            return Err(Box::new(jsonrpc_error(
                &id,
                &Raise::new(
                    "builtins.TypeError",
                    format!("'{}' object is not iterable", py_type(other)),
                ),
            )));
        }
    };
    Ok((id, params))
}

/// Python's `TypeError` for a call missing arguments (`names` in order).
fn missing_arguments(function: &str, names: &[&str]) -> Raise {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let list = match quoted.as_slice() {
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [init @ .., last] => format!("{}, and {last}", init.join(", ")),
        [] => String::new(),
    };
    let plural = if names.len() == 1 {
        "argument"
    } else {
        "arguments"
    };
    Raise::new(
        "builtins.TypeError",
        format!(
            "{function}() missing {} required positional {plural}: {list}",
            names.len()
        ),
    )
}

/// The endpoint's required parameters, as Python checks them.
fn require(
    function: &str,
    params: &Map<String, Value>,
    names: &[&str],
) -> std::result::Result<(), Raise> {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !params.contains_key(*n))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(missing_arguments(function, &missing))
    }
}

/// Python's `TypeError` for too many positional arguments.
fn too_many(function: &str, min: usize, max: usize, given: usize) -> Raise {
    let takes = if min == max {
        format!(
            "{max} positional argument{}",
            if max == 1 { "" } else { "s" }
        )
    } else {
        format!("from {min} to {max} positional arguments")
    };
    let verb = if given == 1 { "was" } else { "were" };
    Raise::new(
        "builtins.TypeError",
        format!("{function}() takes {takes} but {given} {verb} given"),
    )
}

/// Checks a service function's arity: `names` are its parameters, the
/// first `required` of them without default.
fn arity(
    function: &str,
    names: &[&str],
    required: usize,
    args: &[Value],
) -> std::result::Result<(), Raise> {
    if args.len() > names.len() {
        return Err(too_many(function, required, names.len(), args.len()));
    }
    if args.len() < required {
        return Err(missing_arguments(function, &names[args.len()..required]));
    }
    Ok(())
}

/// `*args` in Python: the items of a list, the characters of a string,
/// the keys of a dict.
fn python_items(v: &Value) -> std::result::Result<Vec<Value>, Raise> {
    match v {
        Value::Array(items) => Ok(items.clone()),
        Value::String(s) => Ok(s.chars().map(|c| Value::String(c.to_string())).collect()),
        Value::Object(o) => Ok(o.keys().map(|k| Value::String(k.clone())).collect()),
        other => Err(Raise::new(
            "builtins.TypeError",
            format!("'{}' object is not iterable", py_type(other)),
        )),
    }
}

/// `int(v)` in Python.
fn python_int(v: &Value) -> std::result::Result<i64, Raise> {
    match v {
        Value::Number(n) => Ok(n
            .as_i64()
            .or_else(|| n.as_f64().map(|f| f.trunc() as i64))
            .unwrap_or_default()),
        Value::Bool(b) => Ok(i64::from(*b)),
        Value::String(s) => s.trim().parse().map_err(|_| {
            Raise::new(
                "builtins.ValueError",
                format!("invalid literal for int() with base 10: '{s}'"),
            )
        }),
        other => Err(Raise::new(
            "builtins.TypeError",
            format!(
                "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                py_type(other)
            ),
        )),
    }
}

/// Python's truth of a value.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => false,
        Value::Bool(true) => true,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// A name argument (model, method) as text.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

async fn jsonrpc(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let (id, params) = match jsonrpc_envelope(&headers, &body, "/jsonrpc") {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    let _guard = InFlight::enter(&shared);
    // JSONRPC.jsonrpc(service, method, args)
    if let Err(e) = require("JSONRPC.jsonrpc", &params, &["service", "method", "args"]) {
        return jsonrpc_error(&id, &e);
    }
    let service = text_of(&params["service"]);
    let method = text_of(&params["method"]);
    let args = match python_items(&params["args"]) {
        Ok(args) => args,
        Err(e) => return jsonrpc_error(&id, &e),
    };
    let (model, model_method) = if service == "object" {
        (
            args.get(3).map(text_of).unwrap_or_default(),
            args.get(4).map(text_of).unwrap_or_default(),
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
    jsonrpc_reply(&id, result)
}

fn version(v: OdooVersion) -> Value {
    json!({
        "server_version": v.to_string(),
        "server_version_info": [v.major(), 0, 0, "final", 0, ""],
        "server_serie": v.to_string(),
        "protocol_version": 1
    })
}

/// Opening a database that does not exist.
fn check_database(db: &Value) -> std::result::Result<(), Raise> {
    if db.as_str() == Some(DATABASE) {
        return Ok(());
    }
    Err(Raise::new(
        "psycopg2.OperationalError",
        format!(
            "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"{}\" does not exist\n",
            text_of(db)
        ),
    ))
}

/// The `common`, `db` and `object` services shared by JSON-RPC and
/// XML-RPC (`dispatch_rpc`).
fn legacy_dispatch(
    shared: &Shared,
    service: &str,
    method: &str,
    args: &[Value],
) -> std::result::Result<Value, Raise> {
    match service {
        "common" => common_service(shared, method, args),
        "db" => db_service(shared, method, args),
        "object" => object_service(shared, method, args),
        other => Err(Raise::new("builtins.KeyError", other.to_owned())),
    }
}

fn common_service(
    shared: &Shared,
    method: &str,
    args: &[Value],
) -> std::result::Result<Value, Raise> {
    match method {
        "version" => {
            arity("exp_version", &[], 0, args)?;
            Ok(version(shared.version))
        }
        "about" => {
            arity("exp_about", &["extended"], 0, args)?;
            let info = "See http://openerp.com";
            Ok(if args.first().is_some_and(truthy) {
                json!([info, shared.version.to_string()])
            } else {
                json!(info)
            })
        }
        "login" | "authenticate" => {
            if method == "login" {
                arity("exp_login", &["db", "login", "password"], 3, args)?;
            } else {
                arity(
                    "exp_authenticate",
                    &["db", "login", "password", "user_agent_env"],
                    4,
                    args,
                )?;
            }
            check_database(&args[0])?;
            let (login, secret) = (args[1].as_str(), args[2].as_str());
            let user = USERS.iter().find(|u| {
                Some(u.login) == login && (Some(u.password) == secret || Some(u.api_key) == secret)
            });
            Ok(user.map_or(Value::Bool(false), |u| json!(u.uid)))
        }
        other => Err(Raise::new(
            "builtins.Exception",
            format!("Method not found: {other}"),
        )),
    }
}

fn db_service(shared: &Shared, method: &str, args: &[Value]) -> std::result::Result<Value, Raise> {
    match method {
        "list" => Ok(json!([DATABASE])),
        "server_version" => Ok(json!(shared.version.to_string())),
        "db_exist" => {
            arity("exp_db_exist", &["db_name"], 1, args)?;
            Ok(json!(args[0].as_str() == Some(DATABASE)))
        }
        "list_lang" => Ok(json!(LANGUAGES)),
        // Guarded by the master password, which no call here knows.
        "create_database"
        | "duplicate_database"
        | "drop"
        | "dump"
        | "restore"
        | "rename"
        | "change_admin_password"
        | "migrate_databases"
        | "list_countries" => Err(Raise::new("odoo.exceptions.AccessDenied", "Access Denied")),
        other => Err(Raise::new(
            "builtins.KeyError",
            format!("Method not found: {other}"),
        )),
    }
}

/// `object.execute` / `object.execute_kw` (`odoo.service.model.dispatch`).
fn object_service(
    shared: &Shared,
    method: &str,
    args: &[Value],
) -> std::result::Result<Value, Raise> {
    // db, uid, passwd, model, method_, *args = params
    if args.len() < 5 {
        return Err(Raise::new(
            "builtins.ValueError",
            format!(
                "not enough values to unpack (expected at least 5, got {})",
                args.len()
            ),
        ));
    }
    let uid = python_int(&args[1])?;
    if !truthy(&args[2]) {
        return Err(Raise::new("odoo.exceptions.AccessDenied", "Access Denied"));
    }
    check_database(&args[0])?;
    let (positional, kwargs) = match method {
        "execute" => (args[5..].to_vec(), Map::new()),
        "execute_kw" => match &args[5..] {
            [] => {
                return Err(Raise::new(
                    "builtins.ValueError",
                    "not enough values to unpack (expected 2, got 0)",
                ));
            }
            [positional] => (python_items(positional)?, Map::new()),
            [positional, kw] => (
                python_items(positional)?,
                match kw {
                    Value::Null => Map::new(),
                    Value::Object(o) => o.clone(),
                    other => {
                        return Err(Raise::new(
                            "builtins.TypeError",
                            format!("'{}' object is not a mapping", py_type(other)),
                        ));
                    }
                },
            ),
            _ => {
                return Err(Raise::new(
                    "builtins.ValueError",
                    "too many values to unpack (expected 2)",
                ));
            }
        },
        other => {
            return Err(Raise::new(
                "builtins.NameError",
                format!("Method not available {other}"),
            ));
        }
    };
    let user = check_uid_passwd(shared, uid, &args[2])?;
    call_model(
        shared,
        user,
        &text_of(&args[3]),
        &text_of(&args[4]),
        &positional,
        &kwargs,
    )
}

/// `res.users._check_uid_passwd`: a uid without a user is a
/// `MissingError` on `res.users(uid,)`, a wrong password `AccessDenied`.
fn check_uid_passwd(
    shared: &Shared,
    uid: i64,
    secret: &Value,
) -> std::result::Result<&'static User, Raise> {
    let denied = || Raise::new("odoo.exceptions.AccessDenied", "Access Denied");
    match USERS.iter().find(|u| u.uid == uid) {
        Some(u) => {
            let secret = secret.as_str();
            if Some(u.password) == secret || Some(u.api_key) == secret {
                Ok(u)
            } else {
                Err(denied())
            }
        }
        // OdooBot (uid 1) and users without a password exist.
        None if uid == 1
            || shared
                .store()
                .tables
                .get("res.users")
                .is_some_and(|t| t.contains_key(&uid)) =>
        {
            Err(denied())
        }
        None => Err(Raise::new(
            "odoo.exceptions.MissingError",
            format!(
                "Record does not exist or has been deleted.\n(Record: res.users({uid},), User: {uid})"
            ),
        )),
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

/// A fault as `/xmlrpc/2` gives it: an int `faultCode` (1 any exception,
/// its traceback as `faultString`; 2 the `UserError` family; 3
/// `AccessDenied`; 4 `AccessError`) or, on the legacy `/xmlrpc`, a string
/// `faultCode` such as `"warning -- UserError\n\n<message>"`.
fn xmlrpc_fault(raise: &Raise, legacy: bool) -> Response {
    let short = raise.name.rsplit('.').next().unwrap_or(&raise.name);
    let message = raise.message.clone();
    let (code, string) = if legacy {
        match short {
            "RedirectWarning" => (
                FaultCode::String(format!("warning -- Warning\n\n{message}")),
                String::new(),
            ),
            "MissingError" | "AccessError" => (
                FaultCode::String(format!("warning -- {short}\n\n{message}")),
                String::new(),
            ),
            "AccessDenied" => (FaultCode::String("AccessDenied".into()), message),
            "UserError" | "ValidationError" => (
                FaultCode::String(format!("warning -- UserError\n\n{message}")),
                String::new(),
            ),
            _ => (FaultCode::String(message), traceback(raise)),
        }
    } else {
        match short {
            "UserError" | "ValidationError" | "MissingError" | "RedirectWarning" => {
                (FaultCode::Int(2), message)
            }
            "AccessDenied" => (FaultCode::Int(3), message),
            "AccessError" => (FaultCode::Int(4), message),
            _ => (FaultCode::Int(1), traceback(raise)),
        }
    };
    xml_response(&MethodResponse::Fault { code, string })
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

/// `/xmlrpc/2/<service>`.
async fn xmlrpc_handler(
    State(shared): State<Arc<Shared>>,
    Path(service): Path<String>,
    body: Bytes,
) -> Response {
    xmlrpc_serve(&shared, &service, &body, false).await
}

/// `/xmlrpc/<service>`, the historical route with string fault codes.
async fn xmlrpc_legacy_handler(
    State(shared): State<Arc<Shared>>,
    Path(service): Path<String>,
    body: Bytes,
) -> Response {
    xmlrpc_serve(&shared, &service, &body, true).await
}

async fn xmlrpc_serve(shared: &Shared, service: &str, body: &[u8], legacy: bool) -> Response {
    let _guard = InFlight::enter(shared);
    let (method, params) = match xmlrpc::decode_call(body) {
        Ok(call) => call,
        Err(e) => {
            return xmlrpc_fault(
                &Raise::new("xml.parsers.expat.ExpatError", e.to_string()),
                legacy,
            );
        }
    };
    let args: Vec<Value> = params.into_iter().map(XmlRpcValue::into_json).collect();
    let (model, model_method) = if service == "object" {
        (
            args.get(3).map(text_of).unwrap_or_default(),
            args.get(4).map(text_of).unwrap_or_default(),
        )
    } else {
        (String::new(), method.clone())
    };
    let render = |r: &Raise| xmlrpc_fault(r, legacy);
    let drop_after = match before(shared, "xmlrpc", &model, &model_method, render).await {
        Before::Answer(r) => return r,
        Before::Drop => true,
        Before::Proceed => false,
    };
    let result = legacy_dispatch(shared, service, &method, &args);
    if drop_after {
        return dropped();
    }
    match result {
        // Odoo marshals with allow_none=False.
        Ok(Value::Null) => xmlrpc_fault(
            &Raise::new(
                "builtins.TypeError",
                "cannot marshal None unless allow_none is enabled",
            ),
            legacy,
        ),
        Ok(v) => xml_response(&MethodResponse::Success(XmlRpcValue::from_json(&v))),
        Err(e) => xmlrpc_fault(&e, legacy),
    }
}

// ------------------------------------------------------------------ web

/// `/web/version` and `/json/version`: plain JSON, no envelope.
async fn web_version(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    let v = shared.version;
    web::with_new_session(
        &headers,
        json_response(
            200,
            &json!({"version_info": [v.major(), 0, 0, "final", 0, ""], "version": v.to_string()}),
        ),
    )
}

/// What Odoo's web client asks: the `common.version` answer, over
/// JSON-RPC.
async fn webclient_version_info(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (id, _) = match jsonrpc_envelope(&headers, &body, "/web/webclient/version_info") {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    web::with_new_session(&headers, jsonrpc_reply(&id, Ok(version(shared.version))))
}

/// Odoo's page for a route it does not have (any unknown path; `/json/2`
/// on 16–18): an HTML page, status 404.
fn not_found_page(headers: &HeaderMap) -> Response {
    web::with_new_session(
        headers,
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/html;charset=utf-8")],
            "<!DOCTYPE html>\n<html>\n    <head>\n        <meta charset=\"utf-8\"/>\n        \
             <title>Odoo</title>\n    </head>\n    <body>\n        \
             <h1 class=\"visually-hidden\">Error 404</h1>\n        \
             <p>This page does not seem to exist.</p>\n    </body>\n</html>\n",
        )
            .into_response(),
    )
}

/// Werkzeug's 404 page when `X-Odoo-Database` names no database.
fn nodb_not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database \
         is selected and the requested URL was not found in the server-wide controllers.</p>\n\
         <p>Please verify the hostname, <a href=/web/login>login</a> and try again.</p>\n\n\
         <!-- Alternatively, use the X-Odoo-Database header. -->\n",
    )
        .into_response()
}

async fn route_not_found(
    State(shared): State<Arc<Shared>>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Response {
    let path = uri.path();
    if path == "/json/2" || path.starts_with("/json/2/") {
        return json2_not_found(State(shared), headers).await;
    }
    not_found_page(&headers)
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
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::ACCEPT, "application/json, application/json-rpc"),
        ],
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
    let (id, _) = match jsonrpc_envelope(&headers, &body, "/web/database/list") {
        Ok(request) => request,
        Err(answer) => return *answer,
    };
    web::with_new_session(&headers, jsonrpc_reply(&id, Ok(json!([DATABASE]))))
}
