//! Push: a webhook receiver that turns pushed events into targeted reads
//! through the pipelines, within seconds of the change (feature
//! `webhooks`).
//!
//! [`PushReceiver::builder`] gives an axum [`Router`] to mount in your
//! server and a [`PushWorker`]. Each request is verified, read, answered at
//! once, and its record ids handed to a bounded queue; the worker gathers
//! ids for a short [`window`](PushReceiverBuilder::window), deduplicates
//! them per pipeline, and calls [`Pipeline::sync_ids`](crate::Pipeline::sync_ids)
//! once per pipeline. A pushed event is only a hint: the record is read
//! from its system *now* ([`FetchByIds`](crate::FetchByIds)), so events
//! out of order, repeated, or stale are harmless, and the webhook's own
//! values are never trusted.
//!
//! ## Endpoints
//!
//! | route | sender | check |
//! |---|---|---|
//! | `POST /hubspot` (feature `hubspot`) | HubSpot app webhooks: a JSON array of up to 100 events | `X-HubSpot-Signature-v3`: base64 HMAC-SHA256 with the app's client secret over `POST` + the target URL + body + `X-HubSpot-Request-Timestamp`, at most five minutes old (`hubspot::WebhookVerifier`) |
//! | `POST /odoo/{token}` | Odoo 17+ automation rules' "Send Webhook Notification" action: `{"_model", "_id", "_action", …fields}` | Odoo signs nothing and sets no header: the secret token in the URL, compared in constant time |
//! | `POST /events` | anything: `{"entity": "client", "ids": ["17", 18]}` | `X-Webhook-Timestamp` (Unix seconds) and `X-Webhook-Signature: sha256=<hex>`, the HMAC-SHA256 of `<timestamp>.<body>` with the shared secret, at most five minutes old |
//!
//! Only the endpoints configured are routed. Answers:
//!
//! - **200** `{"accepted": n}`: `n` record ids queued (events of a
//!   HubSpot object type with no route are skipped, not refused, so an
//!   app subscribed to more than you sync is not retried forever);
//! - **401** `{"error": "unauthorized"}`: signature, timestamp or token
//!   missing or wrong; nothing is queued;
//! - **400** `{"error": "malformed"}` or `{"error": "unrouted"}`: a body
//!   that is not the sender's shape, or an Odoo model or generic entity
//!   with no route;
//! - **413**: a body over the [limit](PushReceiverBuilder::body_limit);
//! - **503** with `Retry-After`: the queue is full (or the worker
//!   stopped); HubSpot and any well-behaved sender retry, so nothing is
//!   lost. Odoo does not retry a failed notification: its next change, or
//!   the next poll, carries the record.
//!
//! ## When a pushed read comes too early
//!
//! Odoo sends its notification from inside the transaction that made the
//! change, before that commits (and an automation rule "on deletion" runs
//! before the record is gone): a read at once could see the record as it
//! was. The worker's [`window`](PushReceiverBuilder::window) (default 1 s)
//! is that margin; a read that still came too early is corrected by the
//! next poll, and a deletion is always found by it.
//!
//! ## Push and poll together
//!
//! Polling stays the safety net: a failed targeted sync is logged and
//! its records are read by the pipeline's next [`run`](crate::Pipeline::run).
//! A targeted sync records what it wrote and does not move the
//! checkpoint; the next poll reads the record again, finds it as recorded
//! and writes nothing, so a pushed change and the poll apply it once.
//!
//! ## Example
//!
//! ```
//! use odoo_integration_client::{Protocol, test_server::TestServer};
//! use odoo_integration_connectors::odoo::OdooConnector;
//! use odoo_integration_connectors::webhooks::{PushReceiver, PushTarget};
//! use odoo_integration_connectors::{MemoryStore, Pipeline, Sink};
//! use odoo_integration_model::ClientCompany;
//! use std::sync::Arc;
//! # fn warehouse(odoo: &Arc<OdooConnector>) -> Arc<dyn Sink<ClientCompany>> { odoo.clone() }
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = TestServer::start().await?;
//! let odoo = Arc::new(OdooConnector::new(server.client(Protocol::Json2)?));
//! let clients = Arc::new(
//!     Pipeline::<ClientCompany>::builder("odoo→warehouse", odoo.clone(), warehouse(&odoo), Arc::new(MemoryStore::new())).build()?,
//! );
//! let (router, worker) = PushReceiver::builder()
//!     // Odoo: an automation rule on res.partner with a "Send Webhook
//!     // Notification" action to https://hooks.example.com/webhooks/odoo/<token>
//!     .odoo_token("7c2f9d0e4b8a41f6a3e5d1c9b0f27e48")
//!     .route_odoo("res.partner", PushTarget::new(clients, odoo))
//!     .build()?;
//! let app = axum::Router::new().nest("/webhooks", router);
//! // axum::serve(listener, app).await?;
//! # drop(app);
//! worker.shutdown().await;
//! # Ok(()) }
//! ```

mod events;
mod target;
mod worker;

pub use target::PushTarget;
pub use worker::PushWorker;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

use crate::error::{ConnectorError, ConnectorErrorKind};

/// Why a webhook request was refused; the answer's status and its
/// `error` code say the same.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::webhooks::WebhookError;
/// let e = WebhookError::Busy;
/// assert_eq!((e.status(), e.code()), (503, "busy"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    /// A signature, timestamp or token missing or wrong (401).
    #[error("webhook refused: {0}")]
    Unauthorized(String),
    /// The body is not what the sender sends (400).
    #[error("malformed webhook body: {0}")]
    Malformed(String),
    /// No pipeline is routed for the model or entity named (400).
    #[error("no route for {0}")]
    Unrouted(String),
    /// The queue is full or the worker stopped: retry later (503, with
    /// `Retry-After`).
    #[error("the webhook queue is full")]
    Busy,
}

impl WebhookError {
    fn malformed(why: impl Into<String>) -> Self {
        WebhookError::Malformed(why.into())
    }

    /// The HTTP status it is answered with.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::webhooks::WebhookError;
    /// assert_eq!(WebhookError::Unauthorized("no signature".into()).status(), 401);
    /// ```
    pub fn status(&self) -> u16 {
        match self {
            WebhookError::Unauthorized(_) => 401,
            WebhookError::Malformed(_) | WebhookError::Unrouted(_) => 400,
            WebhookError::Busy => 503,
        }
    }

    /// The answer's `error` code: `unauthorized`, `malformed`, `unrouted`
    /// or `busy`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::webhooks::WebhookError;
    /// assert_eq!(WebhookError::Unrouted("model `x`".into()).code(), "unrouted");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            WebhookError::Unauthorized(_) => "unauthorized",
            WebhookError::Malformed(_) => "malformed",
            WebhookError::Unrouted(_) => "unrouted",
            WebhookError::Busy => "busy",
        }
    }
}

/// How long a sender is asked to wait when the queue is full.
const RETRY_AFTER_SECONDS: u64 = 5;

impl IntoResponse for WebhookError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::Json(serde_json::json!({
            "error": self.code(),
            "message": self.to_string(),
        }));
        let mut response = (status, body).into_response();
        if matches!(self, WebhookError::Busy) {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECONDS));
        }
        response
    }
}

/// The clock requests are judged by.
type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The webhook receiver: build it with [`PushReceiver::builder`].
///
/// # Example
///
/// See [the module](self).
#[derive(Debug)]
#[non_exhaustive]
pub struct PushReceiver;

impl PushReceiver {
    /// A receiver with no endpoint yet.
    ///
    /// # Example
    ///
    /// See [the module](self).
    pub fn builder() -> PushReceiverBuilder {
        PushReceiverBuilder {
            #[cfg(feature = "hubspot")]
            hubspot: None,
            odoo_token: None,
            generic_secret: None,
            #[cfg(feature = "hubspot")]
            hubspot_routes: BTreeMap::new(),
            odoo_routes: BTreeMap::new(),
            generic_routes: BTreeMap::new(),
            window: Duration::from_secs(1),
            queue: 1024,
            body_limit: 1024 * 1024,
            max_age: Duration::from_secs(300),
            clock: Arc::new(Utc::now),
        }
    }
}

/// Configures a [`PushReceiver`]: its endpoints, its routing table (which
/// pipeline each object type, model or entity feeds) and its limits.
///
/// # Example
///
/// See [the module](self).
pub struct PushReceiverBuilder {
    #[cfg(feature = "hubspot")]
    hubspot: Option<(crate::hubspot::WebhookVerifier, String)>,
    odoo_token: Option<SecretString>,
    generic_secret: Option<SecretString>,
    #[cfg(feature = "hubspot")]
    hubspot_routes: BTreeMap<String, PushTarget>,
    odoo_routes: BTreeMap<String, PushTarget>,
    generic_routes: BTreeMap<String, PushTarget>,
    window: Duration,
    queue: usize,
    body_limit: usize,
    max_age: Duration,
    clock: Clock,
}

impl fmt::Debug for PushReceiverBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushReceiverBuilder")
            .field(
                "odoo_token",
                &self.odoo_token.as_ref().map(|_| "[redacted]"),
            )
            .field(
                "generic_secret",
                &self.generic_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("odoo_routes", &self.odoo_routes)
            .field("generic_routes", &self.generic_routes)
            .field("window", &self.window)
            .field("queue", &self.queue)
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

/// Odoo tokens and shared secrets shorter than this are refused.
const MIN_SECRET_LEN: usize = 16;

impl PushReceiverBuilder {
    /// Serves `POST /hubspot` for a HubSpot app's webhooks, checked with
    /// the app's client secret. `target_url` is the URL exactly as set in
    /// the app's webhook settings (HubSpot signs the URL it calls, and a
    /// proxy in front of this server may change what it sees).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::webhooks::PushReceiver;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (router, worker) = PushReceiver::builder()
    ///     .hubspot("the-app-client-secret", "https://hooks.example.com/webhooks/hubspot")
    ///     .build()?;
    /// # drop(router); worker.shutdown().await;
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "hubspot")]
    #[must_use]
    pub fn hubspot(
        mut self,
        client_secret: impl Into<String>,
        target_url: impl Into<String>,
    ) -> Self {
        self.hubspot = Some((
            crate::hubspot::WebhookVerifier::new(client_secret),
            target_url.into(),
        ));
        self
    }

    /// Serves `POST /odoo/{token}` for Odoo's "Send Webhook Notification"
    /// actions; set the action's URL to `…/odoo/<token>`. Use a long
    /// random token (at least 16 characters): it is the only secret (Odoo
    /// signs nothing and sends no custom header), so serve it over HTTPS
    /// and keep request paths out of access logs.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::webhooks::PushReceiver;
    /// let short = PushReceiver::builder().odoo_token("1234").build();
    /// assert!(short.is_err());
    /// ```
    #[must_use]
    pub fn odoo_token(mut self, token: impl Into<String>) -> Self {
        self.odoo_token = Some(SecretString::from(token.into()));
        self
    }

    /// Serves `POST /events`, the generic endpoint, whose requests are
    /// signed with `secret` (at least 16 characters).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::webhooks::PushReceiver;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (router, worker) = PushReceiver::builder().generic_secret("a-shared-secret-of-some-length").build()?;
    /// # drop(router); worker.shutdown().await;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn generic_secret(mut self, secret: impl Into<String>) -> Self {
        self.generic_secret = Some(SecretString::from(secret.into()));
        self
    }

    /// HubSpot events about `object` go to `target`. `object` is the
    /// subscription type's object (`contact`, `company`, `deal`,
    /// `line_item`, `product`, `ticket`), or for the generic `object.*`
    /// subscriptions of other objects, their `objectTypeId` (`2-1234567`).
    ///
    /// # Example
    ///
    /// See [the module](self) (the same for each kind of route).
    #[cfg(feature = "hubspot")]
    #[must_use]
    pub fn route_hubspot(mut self, object: impl Into<String>, target: PushTarget) -> Self {
        self.hubspot_routes.insert(object.into(), target);
        self
    }

    /// Odoo notifications about records of `model` (`res.partner`) go to
    /// `target`.
    ///
    /// # Example
    ///
    /// See [the module](self).
    #[must_use]
    pub fn route_odoo(mut self, model: impl Into<String>, target: PushTarget) -> Self {
        self.odoo_routes.insert(model.into(), target);
        self
    }

    /// Generic events about `entity` go to `target`.
    ///
    /// # Example
    ///
    /// See [the module](self) (the same for each kind of route).
    #[must_use]
    pub fn route_generic(mut self, entity: impl Into<String>, target: PushTarget) -> Self {
        self.generic_routes.insert(entity.into(), target);
        self
    }

    /// How long the worker gathers ids before syncing them, so a burst of
    /// events about one record is one read, and a sender's transaction
    /// has committed before the read. Default: 1 s.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::webhooks::PushReceiver;
    /// let b = PushReceiver::builder().window(std::time::Duration::from_millis(100));
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn window(mut self, window: Duration) -> Self {
        self.window = window;
        self
    }

    /// How many accepted requests may wait for the worker; past that,
    /// requests are answered 503 with `Retry-After`. Default: 1024.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::webhooks::PushReceiver;
    /// let b = PushReceiver::builder().queue_capacity(64);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn queue_capacity(mut self, requests: usize) -> Self {
        self.queue = requests;
        self
    }

    /// The largest body accepted (larger: 413). Default: 1 MiB.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::webhooks::PushReceiver;
    /// let b = PushReceiver::builder().body_limit(256 * 1024);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// The clock signed timestamps are judged by. Default: the system
    /// clock. For tests that replay a recorded request.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::webhooks::PushReceiver;
    /// let recorded = chrono::DateTime::from_timestamp(1_795_000_090, 0).unwrap();
    /// let b = PushReceiver::builder().clock(move || recorded);
    /// # drop(b);
    /// ```
    #[must_use]
    pub fn clock(mut self, now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(now);
        self
    }

    /// The router (mount it where the senders call, e.g. with
    /// `Router::nest("/webhooks", router)`) and its worker, spawned on the
    /// current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`]: no endpoint, a route for an
    /// endpoint not configured, an Odoo token or shared secret shorter
    /// than 16 characters, a zero queue capacity, or no tokio runtime.
    ///
    /// # Example
    ///
    /// See [the module](self).
    pub fn build(self) -> crate::Result<(Router, PushWorker)> {
        let refuse = |why: &str| {
            Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("webhooks: {why}"),
            ))
        };
        #[cfg(feature = "hubspot")]
        let has_hubspot = self.hubspot.is_some();
        #[cfg(not(feature = "hubspot"))]
        let has_hubspot = false;
        if !has_hubspot && self.odoo_token.is_none() && self.generic_secret.is_none() {
            return refuse("no endpoint configured (hubspot, odoo_token or generic_secret)");
        }
        #[cfg(feature = "hubspot")]
        if !has_hubspot && !self.hubspot_routes.is_empty() {
            return refuse("HubSpot routes without the HubSpot endpoint");
        }
        if self.odoo_token.is_none() && !self.odoo_routes.is_empty() {
            return refuse("Odoo routes without an Odoo token");
        }
        if self.generic_secret.is_none() && !self.generic_routes.is_empty() {
            return refuse("generic routes without a shared secret");
        }
        for secret in [&self.odoo_token, &self.generic_secret]
            .into_iter()
            .flatten()
        {
            if secret.expose_secret().chars().count() < MIN_SECRET_LEN {
                return refuse("an Odoo token or shared secret needs at least 16 characters");
            }
        }
        if self.queue == 0 {
            return refuse("the queue needs room for at least one request");
        }
        if tokio::runtime::Handle::try_current().is_err() {
            return refuse("build the receiver inside a tokio runtime (it spawns its worker)");
        }
        let mut targets = Vec::new();
        let mut index = |routes: BTreeMap<String, PushTarget>| {
            routes
                .into_iter()
                .map(|(key, target)| {
                    targets.push(target);
                    (key, targets.len() - 1)
                })
                .collect::<BTreeMap<String, usize>>()
        };
        #[cfg(feature = "hubspot")]
        let hubspot_routes = index(self.hubspot_routes);
        let odoo_routes = index(self.odoo_routes);
        let generic_routes = index(self.generic_routes);
        let (sender, receiver) = mpsc::channel(self.queue);
        let worker = PushWorker::spawn(receiver, Arc::new(targets), self.window);
        let mut router = Router::new();
        if self.odoo_token.is_some() {
            router = router.route("/odoo/{token}", post(odoo));
        }
        if self.generic_secret.is_some() {
            router = router.route("/events", post(generic));
        }
        #[cfg(feature = "hubspot")]
        if self.hubspot.is_some() {
            router = router.route("/hubspot", post(hubspot));
        }
        let shared = Arc::new(Shared {
            #[cfg(feature = "hubspot")]
            hubspot: self.hubspot,
            odoo_tag: self
                .odoo_token
                .as_ref()
                .map(|t| token_tag(t.expose_secret())),
            generic_secret: self.generic_secret,
            #[cfg(feature = "hubspot")]
            hubspot_routes,
            odoo_routes,
            generic_routes,
            max_age: self.max_age,
            clock: self.clock,
            sender,
        });
        let router = router
            .layer(DefaultBodyLimit::max(self.body_limit))
            .with_state(shared);
        Ok((router, worker))
    }
}

/// What the handlers share.
struct Shared {
    #[cfg(feature = "hubspot")]
    hubspot: Option<(crate::hubspot::WebhookVerifier, String)>,
    /// The Odoo token, as [`token_tag`] keeps it.
    odoo_tag: Option<[u8; 32]>,
    generic_secret: Option<SecretString>,
    #[cfg(feature = "hubspot")]
    hubspot_routes: BTreeMap<String, usize>,
    odoo_routes: BTreeMap<String, usize>,
    generic_routes: BTreeMap<String, usize>,
    max_age: Duration,
    clock: Clock,
    sender: mpsc::Sender<worker::Job>,
}

impl Shared {
    /// Queues the routed ids; how many there were.
    fn enqueue(
        &self,
        named: events::Named,
        routes: &BTreeMap<String, usize>,
        strict: bool,
    ) -> Result<usize, WebhookError> {
        let mut job = Vec::with_capacity(named.len());
        let mut count = 0;
        for (key, ids) in named {
            match routes.get(&key) {
                Some(&target) => {
                    count += ids.len();
                    job.push((target, ids));
                }
                None if strict => return Err(WebhookError::Unrouted(format!("`{key}`"))),
                None => {
                    tracing::debug!(object = %key, "webhooks: events of an unrouted object skipped")
                }
            }
        }
        if job.is_empty() {
            return Ok(0);
        }
        // One message per request: all of it is queued, or none (503).
        self.sender.try_send(job).map_err(|_| WebhookError::Busy)?;
        Ok(count)
    }
}

fn accepted(count: usize) -> Response {
    axum::Json(serde_json::json!({ "accepted": count })).into_response()
}

fn answer(result: Result<usize, WebhookError>) -> Response {
    match result {
        Ok(count) => accepted(count),
        Err(e) => {
            tracing::debug!(error = %e, "webhooks: request refused");
            e.into_response()
        }
    }
}

fn header_text<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

#[cfg(feature = "hubspot")]
async fn hubspot(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    answer((|| {
        let Some((verifier, url)) = &s.hubspot else {
            return Err(WebhookError::Unrouted("HubSpot".into()));
        };
        let signature = header_text(&headers, "x-hubspot-signature-v3")
            .ok_or_else(|| WebhookError::Unauthorized("no X-HubSpot-Signature-v3".into()))?;
        let timestamp = header_text(&headers, "x-hubspot-request-timestamp")
            .ok_or_else(|| WebhookError::Unauthorized("no X-HubSpot-Request-Timestamp".into()))?;
        verifier
            .verify("POST", url, &body, timestamp, signature, (s.clock)())
            .map_err(|e| WebhookError::Unauthorized(e.to_string()))?;
        let named = events::hubspot(&body)?;
        s.enqueue(named, &s.hubspot_routes, false)
    })())
}

/// A fixed-size tag of a token, compared in constant time: an HMAC keyed
/// by the token over a fixed label.
fn token_tag(token: &str) -> [u8; 32] {
    let mut tag = [0; 32];
    if let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(token.as_bytes()) {
        mac.update(b"odoo-integration webhook token");
        tag.copy_from_slice(&mac.finalize().into_bytes());
    }
    tag
}

async fn odoo(State(s): State<Arc<Shared>>, Path(token): Path<String>, body: Bytes) -> Response {
    answer((|| {
        let Some(expected) = &s.odoo_tag else {
            return Err(WebhookError::Unrouted("Odoo".into()));
        };
        let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes())
            .map_err(|_| WebhookError::Unauthorized("unreadable token".into()))?;
        mac.update(b"odoo-integration webhook token");
        // `verify_slice` compares in constant time.
        mac.verify_slice(expected)
            .map_err(|_| WebhookError::Unauthorized("wrong token".into()))?;
        let named = events::odoo(&body)?;
        s.enqueue(named, &s.odoo_routes, true)
    })())
}

async fn generic(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    answer((|| {
        let Some(secret) = &s.generic_secret else {
            return Err(WebhookError::Unrouted("generic events".into()));
        };
        verify_generic(
            secret,
            header_text(&headers, "x-webhook-timestamp"),
            header_text(&headers, "x-webhook-signature"),
            &body,
            (s.clock)(),
            s.max_age,
        )?;
        let named = events::generic(&body)?;
        s.enqueue(named, &s.generic_routes, true)
    })())
}

/// Checks a generic request: the timestamp within `max_age` of `now`
/// either way, and `sha256=<hex>` the HMAC-SHA256 of `<timestamp>.<body>`.
fn verify_generic(
    secret: &SecretString,
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<(), WebhookError> {
    let refuse = |why: &str| WebhookError::Unauthorized(why.to_owned());
    let timestamp = timestamp.ok_or_else(|| refuse("no X-Webhook-Timestamp"))?;
    let signature = signature.ok_or_else(|| refuse("no X-Webhook-Signature"))?;
    let sent: i64 = timestamp
        .parse()
        .map_err(|_| refuse("X-Webhook-Timestamp is not Unix seconds"))?;
    let limit = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
    let age = now.timestamp().saturating_sub(sent);
    if age > limit || age < -limit {
        return Err(refuse(
            "the request timestamp is more than five minutes from now",
        ));
    }
    let hex = signature
        .strip_prefix("sha256=")
        .ok_or_else(|| refuse("X-Webhook-Signature is not `sha256=<hex>`"))?;
    let expected = decode_hex(hex).ok_or_else(|| refuse("X-Webhook-Signature is not hex"))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| refuse("the secret cannot key an HMAC"))?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| refuse("the signature does not match"))
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let text = std::str::from_utf8(pair).ok()?;
            u8::from_str_radix(text, 16).ok()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, timestamp: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        let bytes = mac.finalize().into_bytes();
        format!(
            "sha256={}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        )
    }

    #[test]
    fn generic_signatures_are_checked_with_their_window() {
        let secret = SecretString::from("a-shared-secret-of-some-length");
        let body = br#"{"entity":"client","ids":["1"]}"#;
        let now = DateTime::from_timestamp(1_795_000_000, 0).unwrap();
        let age = Duration::from_secs(300);
        let ts = "1795000000";
        let sig = sign("a-shared-secret-of-some-length", ts, body);
        assert!(verify_generic(&secret, Some(ts), Some(&sig), body, now, age).is_ok());
        // Upper-case hex is still hex.
        let upper = format!("sha256={}", sig["sha256=".len()..].to_uppercase());
        assert!(verify_generic(&secret, Some(ts), Some(&upper), body, now, age).is_ok());
        let late = now + chrono::Duration::seconds(301);
        let bad = [
            verify_generic(&secret, Some(ts), Some(&sig), b"{}", now, age),
            verify_generic(&secret, Some("1795000001"), Some(&sig), body, now, age),
            verify_generic(&secret, Some(ts), Some(&sig), body, late, age),
            verify_generic(&secret, None, Some(&sig), body, now, age),
            verify_generic(&secret, Some(ts), None, body, now, age),
            verify_generic(&secret, Some(ts), Some("sha256=zz"), body, now, age),
            verify_generic(&secret, Some(ts), Some(&sig[7..]), body, now, age),
            verify_generic(&secret, Some("soon"), Some(&sig), body, now, age),
        ];
        for r in bad {
            assert!(matches!(r, Err(WebhookError::Unauthorized(_))), "{r:?}");
        }
    }

    #[test]
    fn the_public_types_are_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<PushTarget>();
        check::<PushWorker>();
        check::<PushReceiverBuilder>();
        check::<WebhookError>();
    }

    #[test]
    fn tokens_are_told_apart() {
        assert_eq!(token_tag("0123456789abcdef"), token_tag("0123456789abcdef"));
        assert_ne!(token_tag("0123456789abcdef"), token_tag("0123456789abcdeF"));
    }
}
