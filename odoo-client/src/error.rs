//! The error type of the client.
//!
//! Every fallible operation returns [`Error`], an opaque type. Match on
//! [`Error::kind`] for the one stable classification, or use the predicates
//! ([`Error::is_retryable`], [`Error::is_timeout`], ...) and accessors
//! ([`Error::server_error`], [`Error::http_status`], ...). What the server
//! said is kept: the Python exception name, its message and arguments
//! ([`ServerError`]); the server's traceback is reachable through
//! [`ServerError::debug`] but never part of `Display`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::domain::DomainError;

/// A shared error used as the `source()` of transport errors, so that no
/// third-party error type is part of this crate's API (and so that an
/// [`Error`] can be cloned with its cause).
type SharedError = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// The error returned by every fallible operation of this crate.
///
/// The type is opaque: [`Error::kind`] is its one classification (an Odoo
/// exception is classified by its class first, by the HTTP status only when
/// the reply names no class), the predicates answer the usual questions
/// ([`is_retryable`](Error::is_retryable), [`is_timeout`](Error::is_timeout),
/// [`is_auth`](Error::is_auth), ...), and the accessors give what the server
/// said ([`server_error`](Error::server_error),
/// [`http_status`](Error::http_status),
/// [`retry_after`](Error::retry_after), [`endpoint`](Error::endpoint), ...).
/// `source()` reaches the transport's cause or the [`DomainError`] of an
/// invalid domain.
///
/// It is small (one pointer) and cheap to clone: a failed call that covers
/// several records can give each record the same error.
///
/// # Example
///
/// ```
/// use odoo_integration_client::{Client, Credentials, Error, ErrorKind, codec};
///
/// fn explain(err: &Error) -> &'static str {
///     match err.kind() {
///         ErrorKind::MissingRecord => "the record was deleted meanwhile",
///         ErrorKind::Forbidden => "ask an administrator for rights",
///         _ if err.is_retryable() => "try again later",
///         _ => "fix the request",
///     }
/// }
///
/// // A reply cut short by a dropped connection may succeed when sent again.
/// let cut = codec::decode_json2::<Vec<i64>>(b"[1, 2").unwrap_err();
/// assert_eq!(explain(&cut), "try again later");
/// // A configuration that cannot work never will.
/// let bad = Client::builder("ftp://odoo.example.com")
///     .credentials(Credentials::api_key("admin", "key"))
///     .build()
///     .unwrap_err();
/// assert_eq!(explain(&bad), "fix the request");
/// assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
/// ```
#[derive(Clone)]
pub struct Error {
    repr: Box<Repr>,
}

/// What an [`Error`] carries: private, so that variants can change without
/// breaking users.
#[derive(Debug, Clone)]
enum Repr {
    /// Odoo raised an exception (JSON-RPC `error`, JSON-2 error body or an
    /// XML-RPC fault).
    Server(ServerError),
    /// The credentials were refused: a login that returned `false`.
    Unauthorized { message: String },
    /// The server answered something that is not a valid reply of the
    /// protocol.
    Protocol(ProtocolError),
    /// The request did not reach the server or its answer did not arrive.
    Transport {
        kind: TransportKind,
        endpoint: String,
        source: SharedError,
    },
    /// HTTP 429.
    RateLimited { retry_after: Option<Duration> },
    /// The reply was well-formed but did not decode into the requested type.
    Decode {
        model: String,
        method: String,
        path: String,
        message: String,
    },
    /// An upsert by natural key found several records with the key.
    AmbiguousMatch {
        model: String,
        field: String,
        ids: Vec<i64>,
    },
    /// A domain was malformed; nothing was sent.
    InvalidDomain(DomainError),
    /// The client was configured in a way that cannot work.
    Configuration(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.repr {
            Repr::Server(e) => fmt::Display::fmt(e, f),
            Repr::Unauthorized { message } => write!(f, "authentication failed: {message}"),
            Repr::Protocol(p) => fmt::Display::fmt(p, f),
            Repr::Transport { kind, endpoint, .. } => {
                write!(f, "transport error ({kind}) calling {endpoint}")
            }
            Repr::RateLimited { retry_after } => {
                f.write_str("rate limited")?;
                match retry_after {
                    Some(d) => write!(f, ", retry after {} s", d.as_secs_f64()),
                    None => Ok(()),
                }
            }
            Repr::Decode {
                model,
                method,
                path,
                message,
            } => write!(
                f,
                "{model}/{method}: cannot decode the result at `{path}`: {message}"
            ),
            Repr::AmbiguousMatch { model, field, ids } => write!(
                f,
                "{model}: {} records have the same `{field}` (ids {ids:?}); refusing to guess",
                ids.len()
            ),
            Repr::InvalidDomain(e) => write!(f, "invalid domain: {e}"),
            Repr::Configuration(message) => write!(f, "configuration error: {message}"),
        }
    }
}

// Debug shows the private representation (a `ServerError` leaves the
// traceback out; secrets were redacted when the error was made).
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.repr, f)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &*self.repr {
            Repr::Transport { source, .. } => Some(&**source),
            Repr::InvalidDomain(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DomainError> for Error {
    fn from(err: DomainError) -> Self {
        Error::new(Repr::InvalidDomain(err))
    }
}

/// A stable classification of [`Error`].
///
/// # Example
///
/// ```
/// use odoo_integration_client::ErrorKind;
///
/// assert_eq!(ErrorKind::MissingRecord.to_string(), "missing record");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The credentials were refused (`AccessDenied`, invalid API key,
    /// `login` returned `false`, an expired session). Was `Authentication`.
    Unauthorized,
    /// The user may not do this (`odoo.exceptions.AccessError`). Was
    /// `AccessDenied`.
    Forbidden,
    /// A constraint refused the values (`odoo.exceptions.ValidationError`).
    /// Was `Validation`.
    Invalid,
    /// A business rule refused the operation (`odoo.exceptions.UserError`).
    UserError,
    /// A record does not exist or was deleted (`odoo.exceptions.MissingError`).
    MissingRecord,
    /// The model, method or route does not exist.
    NotFound,
    /// Odoo refused the arguments: an unknown field, an invalid domain
    /// operator, a missing or unexpected argument (`ValueError`,
    /// `TypeError`, HTTP 400/422).
    InvalidRequest,
    /// Any other server-side exception: a class this crate does not know,
    /// or an HTTP 5xx error reply that names none. Retryable when the reply
    /// came with a 5xx status (see [`Error::is_retryable`]).
    Server,
    /// The reply was not a valid reply of the protocol.
    Protocol,
    /// The reply did not decode into the requested type.
    Decode,
    /// Connect failure, reset, or timeout.
    Transport,
    /// HTTP 429.
    RateLimited,
    /// Several records matched a key that should be unique.
    AmbiguousMatch,
    /// A domain was malformed (caught before any request).
    InvalidDomain,
    /// The client configuration cannot work (caught before any request).
    Configuration,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::Invalid => "invalid",
            ErrorKind::UserError => "user error",
            ErrorKind::MissingRecord => "missing record",
            ErrorKind::NotFound => "not found",
            ErrorKind::InvalidRequest => "invalid request",
            ErrorKind::Server => "server error",
            ErrorKind::Protocol => "protocol",
            ErrorKind::Decode => "decode",
            ErrorKind::Transport => "transport",
            ErrorKind::RateLimited => "rate limited",
            ErrorKind::AmbiguousMatch => "ambiguous match",
            ErrorKind::InvalidDomain => "invalid domain",
            ErrorKind::Configuration => "configuration",
        })
    }
}

/// Which part of the transport failed.
///
/// # Example
///
/// ```
/// use odoo_integration_client::TransportKind;
///
/// assert_eq!(TransportKind::Timeout.to_string(), "timeout");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportKind {
    /// The connection could not be established.
    Connect,
    /// The per-request timeout elapsed.
    Timeout,
    /// The connection broke while sending or receiving.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "connect",
            TransportKind::Timeout => "timeout",
            TransportKind::Other => "connection",
        })
    }
}

/// An exception raised by Odoo, as the server described it.
///
/// `Display` shows the exception name and message, never the traceback.
///
/// # Example
///
/// ```
/// use odoo_integration_client::{ErrorKind, codec};
///
/// // A JSON-RPC error reply, as Odoo sends it for a deleted record.
/// let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
///     "data": {"name": "odoo.exceptions.MissingError", "message": "Record does not exist or has been deleted.",
///              "debug": "Traceback (most recent call last): ..."}}}"#;
/// let err = codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
/// let server = err.server_error().expect("an Odoo exception");
/// assert_eq!(server.kind(), ErrorKind::MissingRecord);
/// assert_eq!(err.kind(), ErrorKind::MissingRecord);
/// assert_eq!(server.name(), "odoo.exceptions.MissingError");
/// assert!(server.debug().is_some());
/// assert!(!err.to_string().contains("Traceback"));
/// ```
#[derive(Clone, PartialEq)]
pub struct ServerError {
    pub(crate) kind: ErrorKind,
    pub(crate) name: String,
    pub(crate) message: String,
    pub(crate) arguments: Vec<Value>,
    pub(crate) debug: Option<String>,
    pub(crate) http_status: Option<u16>,
    pub(crate) code: Option<FaultCode>,
    pub(crate) model: Option<String>,
    pub(crate) method: Option<String>,
    pub(crate) endpoint: Option<String>,
}

/// The numeric or textual code an error came with: the JSON-RPC `error.code`
/// (0 for exceptions, 100 for an expired session) or the XML-RPC `faultCode`
/// (1 other, 2 user error, 3 access denied, 4 access error; a string on the
/// legacy `/xmlrpc/` endpoints).
///
/// # Example
///
/// ```
/// use odoo_integration_client::FaultCode;
///
/// assert_eq!(FaultCode::Int(2).to_string(), "2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultCode {
    /// A numeric code.
    Int(i64),
    /// A string code (legacy XML-RPC endpoints).
    String(String),
}

impl fmt::Display for FaultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FaultCode::Int(i) => write!(f, "{i}"),
            FaultCode::String(s) => f.write_str(s),
        }
    }
}

impl ServerError {
    /// The stable classification of this exception.
    ///
    /// # Example
    ///
    /// ```
    /// # let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
    /// #   "data": {"name": "odoo.exceptions.AccessError", "message": "You are not allowed to modify 'Contact'.",
    /// #   "arguments": ["You are not allowed to modify 'Contact'.", 42], "debug": "Traceback (most recent call last): ..."}}}"#;
    /// # let err = odoo_integration_client::codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
    /// let server = err.server_error().unwrap();
    /// use odoo_integration_client::ErrorKind;
    /// assert_eq!(server.kind(), ErrorKind::Forbidden);
    /// assert_eq!(err.kind(), server.kind());
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }
    /// The Python exception class, e.g. `odoo.exceptions.AccessError`.
    ///
    /// # Example
    ///
    /// ```
    /// # let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
    /// #   "data": {"name": "odoo.exceptions.AccessError", "message": "You are not allowed to modify 'Contact'.",
    /// #   "arguments": ["You are not allowed to modify 'Contact'.", 42], "debug": "Traceback (most recent call last): ..."}}}"#;
    /// # let err = odoo_integration_client::codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
    /// let server = err.server_error().unwrap();
    /// assert_eq!(server.name(), "odoo.exceptions.AccessError");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The exception message.
    ///
    /// # Example
    ///
    /// ```
    /// # let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
    /// #   "data": {"name": "odoo.exceptions.AccessError", "message": "You are not allowed to modify 'Contact'.",
    /// #   "arguments": ["You are not allowed to modify 'Contact'.", 42], "debug": "Traceback (most recent call last): ..."}}}"#;
    /// # let err = odoo_integration_client::codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
    /// let server = err.server_error().unwrap();
    /// assert_eq!(server.message(), "You are not allowed to modify 'Contact'.");
    /// assert!(err.to_string().contains(server.message()));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
    /// The exception arguments as the server sent them.
    ///
    /// # Example
    ///
    /// ```
    /// # let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
    /// #   "data": {"name": "odoo.exceptions.AccessError", "message": "You are not allowed to modify 'Contact'.",
    /// #   "arguments": ["You are not allowed to modify 'Contact'.", 42], "debug": "Traceback (most recent call last): ..."}}}"#;
    /// # let err = odoo_integration_client::codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
    /// let server = err.server_error().unwrap();
    /// assert_eq!(server.arguments().len(), 2);
    /// assert_eq!(server.arguments()[1], 42);
    /// ```
    pub fn arguments(&self) -> &[Value] {
        &self.arguments
    }
    /// The server traceback, when the server sent one. Never part of
    /// `Display`.
    ///
    /// # Example
    ///
    /// ```
    /// # let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
    /// #   "data": {"name": "odoo.exceptions.AccessError", "message": "You are not allowed to modify 'Contact'.",
    /// #   "arguments": ["You are not allowed to modify 'Contact'.", 42], "debug": "Traceback (most recent call last): ..."}}}"#;
    /// # let err = odoo_integration_client::codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
    /// let server = err.server_error().unwrap();
    /// assert!(server.debug().is_some_and(|tb| tb.starts_with("Traceback")));
    /// assert!(!err.to_string().contains("Traceback")); // never displayed
    /// ```
    pub fn debug(&self) -> Option<&str> {
        self.debug.as_deref()
    }
    /// The HTTP status of the reply (JSON-2 maps exceptions to statuses;
    /// JSON-RPC and XML-RPC always answer 200).
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
    /// // JSON-2 answers an exception with an HTTP status...
    /// server.inject(
    ///     Fault::Exception {
    ///         name: "odoo.exceptions.UserError".into(),
    ///         message: "Closed".into(),
    ///     },
    ///     1,
    /// );
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.server_error().unwrap().http_status().is_some_and(|s| s >= 400));
    /// // ...JSON-RPC always answers 200, and reports none.
    /// let client = server.client(Protocol::JsonRpc)?;
    /// server.inject(
    ///     Fault::Exception {
    ///         name: "odoo.exceptions.UserError".into(),
    ///         message: "Closed".into(),
    ///     },
    ///     1,
    /// );
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.server_error().unwrap().http_status(), None);
    /// # Ok(()) }
    /// ```
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }
    /// The JSON-RPC error code or XML-RPC fault code.
    ///
    /// # Example
    ///
    /// ```
    /// # let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
    /// #   "data": {"name": "odoo.exceptions.AccessError", "message": "You are not allowed to modify 'Contact'.",
    /// #   "arguments": ["You are not allowed to modify 'Contact'.", 42], "debug": "Traceback (most recent call last): ..."}}}"#;
    /// # let err = odoo_integration_client::codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
    /// let server = err.server_error().unwrap();
    /// use odoo_integration_client::FaultCode;
    /// assert_eq!(server.code(), Some(&FaultCode::Int(200)));
    /// ```
    pub fn code(&self) -> Option<&FaultCode> {
        self.code.as_ref()
    }
    /// The model that was called, when the error came from a model call.
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
    /// server.inject_on(
    ///     "write",
    ///     Fault::Exception {
    ///         name: "odoo.exceptions.UserError".into(),
    ///         message: "Locked".into(),
    ///     },
    ///     1,
    /// );
    /// let err = client
    ///     .model("res.partner")
    ///     .write([1], &serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.server_error().and_then(|e| e.model()), Some("res.partner"));
    /// # Ok(()) }
    /// ```
    pub fn model(&self) -> Option<&str> {
        self.model.as_deref()
    }
    /// The method that was called, when the error came from a model call.
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
    /// server.inject_on(
    ///     "write",
    ///     Fault::Exception {
    ///         name: "odoo.exceptions.UserError".into(),
    ///         message: "Locked".into(),
    ///     },
    ///     1,
    /// );
    /// let err = client
    ///     .model("res.partner")
    ///     .write([1], &serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.server_error().and_then(|e| e.method()), Some("write"));
    /// # Ok(()) }
    /// ```
    pub fn method(&self) -> Option<&str> {
        self.method.as_deref()
    }

    pub(crate) fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        let name = name.into();
        let message = message.into();
        let kind = classify(&name, &message);
        ServerError {
            kind,
            name,
            message,
            arguments: Vec::new(),
            debug: None,
            http_status: None,
            code: None,
            model: None,
            method: None,
            endpoint: None,
        }
    }

    /// `true` when the same call may succeed later: a database
    /// serialisation conflict, or an HTTP 5xx reply whose exception class
    /// this crate does not know. A known class (a `ValueError` Odoo answers
    /// with HTTP 500, an `AccessError`, ...) fails again however often it is
    /// sent.
    fn is_transient(&self) -> bool {
        self.name.ends_with("SerializationFailure")
            || self.name.ends_with("TransactionRollbackError")
            || (self.kind == ErrorKind::Server && is_5xx(self.http_status))
    }
}

/// `true` for a server-side HTTP failure (500 to 599).
fn is_5xx(status: Option<u16>) -> bool {
    matches!(status, Some(500..=599))
}

// Debug leaves the traceback out (it can be long); `debug()` has it.
impl fmt::Debug for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerError")
            .field("kind", &self.kind)
            .field("name", &self.name)
            .field("message", &self.message)
            .field("arguments", &self.arguments)
            .field("http_status", &self.http_status)
            .field("code", &self.code)
            .field("model", &self.model)
            .field("method", &self.method)
            .field("endpoint", &self.endpoint)
            .field(
                "debug",
                &self.debug.as_ref().map(|d| format!("<{} bytes>", d.len())),
            )
            .finish()
    }
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let (Some(model), Some(method)) = (&self.model, &self.method) {
            write!(f, "{model}/{method}: ")?;
        }
        write!(
            f,
            "{} ({}): {}",
            self.kind,
            self.name,
            self.message.trim_end()
        )
    }
}

impl std::error::Error for ServerError {}

/// Maps an Odoo exception class name (and, where the class alone is
/// ambiguous, its message) to an [`ErrorKind`]. The class decides, whatever
/// the HTTP status: JSON-2 answers 500 to a `ValueError` ("Invalid field
/// ..."), which is a bad request, not a server failure.
pub(crate) fn classify(name: &str, message: &str) -> ErrorKind {
    let short = name.rsplit('.').next().unwrap_or(name);
    match short {
        "AccessDenied" | "Unauthorized" | "SessionExpiredException" => ErrorKind::Unauthorized,
        "AccessError" | "Forbidden" => ErrorKind::Forbidden,
        "MissingError" => ErrorKind::MissingRecord,
        "ValidationError" | "IntegrityError" => ErrorKind::Invalid,
        "UserError" | "RedirectWarning" | "CacheMiss" if is_unknown_model(message) => {
            ErrorKind::NotFound
        }
        "UserError" | "RedirectWarning" => ErrorKind::UserError,
        "NotFound" => ErrorKind::NotFound,
        "AttributeError" if message.contains("does not exist") => ErrorKind::NotFound,
        "Exception" if message.starts_with("Method not found") => ErrorKind::NotFound,
        "ValueError" | "TypeError" | "KeyError" | "BadRequest" | "UnprocessableEntity" => {
            ErrorKind::InvalidRequest
        }
        "TooManyRequests" => ErrorKind::RateLimited,
        _ => ErrorKind::Server,
    }
}

fn is_unknown_model(message: &str) -> bool {
    message.starts_with("Object ") && message.trim_end().ends_with("doesn't exist")
}

/// What was wrong with a reply that is not valid for the protocol.
///
/// # Example
///
/// ```
/// use odoo_integration_client::{ProtocolErrorKind, codec};
///
/// // What a proxy sends when Odoo is down, where JSON was expected.
/// let err = codec::decode_json2::<serde_json::Value>(b"<html><h1>502 Bad Gateway</h1></html>")
///     .unwrap_err();
/// let p = err.protocol_error().expect("a protocol error");
/// assert_eq!(p.kind(), ProtocolErrorKind::Html);
/// assert!(p.snippet().contains("Bad Gateway"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError {
    pub(crate) kind: ProtocolErrorKind,
    pub(crate) status: Option<u16>,
    pub(crate) endpoint: String,
    pub(crate) detail: String,
    pub(crate) snippet: String,
}

/// The kind of a [`ProtocolError`].
///
/// # Example
///
/// ```
/// use odoo_integration_client::ProtocolErrorKind;
///
/// assert_ne!(ProtocolErrorKind::Html, ProtocolErrorKind::Truncated);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProtocolErrorKind {
    /// An HTML (or other text) page where JSON or XML was expected, typically
    /// from a proxy (502, 503, 504) or a misrouted request.
    Html,
    /// The body ended in the middle of a value.
    Truncated,
    /// The body was empty.
    Empty,
    /// The body was well-formed but not shaped like a reply of the protocol.
    Unexpected,
    /// Arrays, objects or structs nested deeper than the decoder allows
    /// (128 levels, as `serde_json`): a hostile or broken body, refused
    /// before it can exhaust the stack.
    TooDeep,
    /// The body was larger than the client's limit
    /// ([`ClientBuilder::max_body_size`](crate::ClientBuilder::max_body_size));
    /// it was not read to the end.
    TooLarge,
}

impl ProtocolError {
    /// The kind of protocol violation.
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
    /// server.inject(Fault::BadGateway, 1); // the page nginx sends when Odoo is down
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// let p = err.protocol_error().expect("a protocol error");
    /// assert_eq!(p.kind(), odoo_integration_client::ProtocolErrorKind::Html);
    /// # Ok(()) }
    /// ```
    pub fn kind(&self) -> ProtocolErrorKind {
        self.kind
    }
    /// The HTTP status of the reply.
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
    /// server.inject(Fault::BadGateway, 1); // the page nginx sends when Odoo is down
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// let p = err.protocol_error().expect("a protocol error");
    /// assert_eq!(p.status(), Some(502));
    /// # Ok(()) }
    /// ```
    pub fn status(&self) -> Option<u16> {
        self.status
    }
    /// The endpoint path that was called.
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
    /// server.inject(Fault::BadGateway, 1); // the page nginx sends when Odoo is down
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// let p = err.protocol_error().expect("a protocol error");
    /// assert_eq!(p.endpoint(), "/json/2/res.partner/create");
    /// # Ok(()) }
    /// ```
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }
    /// A short, sanitised excerpt of the body (at most 200 characters).
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
    /// server.inject(Fault::BadGateway, 1); // the page nginx sends when Odoo is down
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// let p = err.protocol_error().expect("a protocol error");
    /// assert!(p.snippet().contains("502 Bad Gateway"));
    /// # Ok(()) }
    /// ```
    pub fn snippet(&self) -> &str {
        &self.snippet
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ProtocolErrorKind::Html => "an html or text page instead of an rpc reply",
            ProtocolErrorKind::Truncated => "a truncated body",
            ProtocolErrorKind::Empty => "an empty body",
            ProtocolErrorKind::Unexpected => "an unexpected reply",
            ProtocolErrorKind::TooDeep => "a reply nested too deeply",
            ProtocolErrorKind::TooLarge => "a reply larger than the limit",
        };
        write!(f, "protocol error: {} answered {what}", self.endpoint)?;
        if let Some(status) = self.status {
            write!(f, " (http {status})")?;
        }
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        Ok(())
    }
}

impl std::error::Error for ProtocolError {}

impl Error {
    fn new(repr: Repr) -> Self {
        Error {
            repr: Box::new(repr),
        }
    }

    /// The stable classification of this error: the one thing to match on.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{ErrorKind, codec};
    ///
    /// let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
    ///     "data": {"name": "odoo.exceptions.AccessError", "message": "You are not allowed to modify 'Contact'."}}}"#;
    /// let err = codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Forbidden);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match &*self.repr {
            Repr::Server(e) => e.kind,
            Repr::Unauthorized { .. } => ErrorKind::Unauthorized,
            Repr::Protocol(_) => ErrorKind::Protocol,
            Repr::Transport { .. } => ErrorKind::Transport,
            Repr::RateLimited { .. } => ErrorKind::RateLimited,
            Repr::Decode { .. } => ErrorKind::Decode,
            Repr::AmbiguousMatch { .. } => ErrorKind::AmbiguousMatch,
            Repr::InvalidDomain(_) => ErrorKind::InvalidDomain,
            Repr::Configuration(_) => ErrorKind::Configuration,
        }
    }

    /// The server's exception, when Odoo raised one: its class, message and
    /// arguments (the traceback only through [`ServerError::debug`]).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{Client, Credentials, codec};
    ///
    /// let body = br#"{"jsonrpc": "2.0", "id": 1, "error": {"code": 200, "message": "Odoo Server Error",
    ///     "data": {"name": "odoo.exceptions.ValidationError", "message": "The VAT number is invalid."}}}"#;
    /// let err = codec::decode_jsonrpc::<serde_json::Value>(body).unwrap_err();
    /// assert_eq!(err.server_error().map(|e| e.message()), Some("The VAT number is invalid."));
    /// let bad_url = Client::builder("ftp://x").credentials(Credentials::api_key("a", "k")).build();
    /// assert!(bad_url.unwrap_err().server_error().is_none());
    /// ```
    pub fn server_error(&self) -> Option<&ServerError> {
        match &*self.repr {
            Repr::Server(e) => Some(e),
            _ => None,
        }
    }

    /// What was wrong with a reply that is not a valid reply of the
    /// protocol (an HTML page from a proxy, a truncated body, ...).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::{ProtocolErrorKind, codec};
    ///
    /// let err = codec::decode_json2::<serde_json::Value>(b"<html><h1>502 Bad Gateway</h1></html>")
    ///     .unwrap_err();
    /// assert_eq!(err.protocol_error().map(|p| p.kind()), Some(ProtocolErrorKind::Html));
    /// ```
    pub fn protocol_error(&self) -> Option<&ProtocolError> {
        match &*self.repr {
            Repr::Protocol(p) => Some(p),
            _ => None,
        }
    }

    /// The HTTP status of the reply, when there was one.
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
    /// server.inject(Fault::RateLimited { retry_after: 1 }, 1);
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.http_status(), Some(429));
    /// # Ok(()) }
    /// ```
    pub fn http_status(&self) -> Option<u16> {
        match &*self.repr {
            Repr::Server(e) => e.http_status,
            Repr::Protocol(p) => p.status,
            Repr::RateLimited { .. } => Some(429),
            _ => None,
        }
    }

    /// The endpoint path that was called (no host, no credentials), when the
    /// error came from a reply or a request: e.g. `/json/2/res.partner/create`,
    /// `/jsonrpc`, `/xmlrpc/2/object`.
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
    /// server.inject(Fault::BadGateway, 1); // the page nginx sends when Odoo is down
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.endpoint(), Some("/json/2/res.partner/create"));
    /// # Ok(()) }
    /// ```
    pub fn endpoint(&self) -> Option<&str> {
        match &*self.repr {
            Repr::Server(e) => e.endpoint.as_deref(),
            Repr::Protocol(p) => Some(&p.endpoint),
            Repr::Transport { endpoint, .. } => Some(endpoint),
            _ => None,
        }
    }

    /// The model that was called, when the error names one: a server error
    /// of a model call, a decode error, an ambiguous match.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// #[derive(Debug, serde::Deserialize)]
    /// struct Row { id: i64, name: i64 } // a name is text, not a number
    ///
    /// let err = client
    ///     .model("res.partner")
    ///     .search_read(Domain::all())
    ///     .fields(["name"])
    ///     .into_typed::<Row>()
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.model(), Some("res.partner"));
    /// assert_eq!(err.method(), Some("search_read"));
    /// # Ok(()) }
    /// ```
    pub fn model(&self) -> Option<&str> {
        match &*self.repr {
            Repr::Server(e) => e.model.as_deref(),
            Repr::Decode { model, .. } | Repr::AmbiguousMatch { model, .. } => {
                (!model.is_empty()).then_some(model.as_str())
            }
            _ => None,
        }
    }

    /// The method that was called, when the error names one: a server error
    /// of a model call, a decode error.
    ///
    /// # Example
    ///
    /// ```
    /// let err = odoo_integration_client::codec::decode_jsonrpc::<Vec<i64>>(
    ///     br#"{"jsonrpc": "2.0", "id": 1, "result": [1, "two"]}"#,
    /// )
    /// .unwrap_err();
    /// // Replayed without a call: the client names the `common` service.
    /// assert_eq!(err.method(), Some("call"));
    /// ```
    pub fn method(&self) -> Option<&str> {
        match &*self.repr {
            Repr::Server(e) => e.method.as_deref(),
            Repr::Decode { method, .. } => (!method.is_empty()).then_some(method.as_str()),
            _ => None,
        }
    }

    /// Where a reply failed to decode into the requested type: the path of
    /// the value, e.g. `[17].date_invoice`.
    ///
    /// # Example
    ///
    /// ```
    /// let err = odoo_integration_client::codec::decode_json2::<Vec<i64>>(br#"[1, "two"]"#)
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), odoo_integration_client::ErrorKind::Decode);
    /// assert_eq!(err.decode_path(), Some("[1]"));
    /// ```
    pub fn decode_path(&self) -> Option<&str> {
        match &*self.repr {
            Repr::Decode { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The records that share a key an upsert expected to be unique
    /// ([`ErrorKind::AmbiguousMatch`]).
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
    /// let a = server.insert("res.partner", json!({"name": "Twin", "ref": "T-1"}))?;
    /// let b = server.insert("res.partner", json!({"name": "Twin too", "ref": "T-1"}))?;
    /// let err = client
    ///     .model("res.partner")
    ///     .upsert_by_key("ref", &json!({"ref": "T-1", "name": "Twin"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.ambiguous_ids(), Some(&[a, b][..]));
    /// assert_eq!(err.key_field(), Some("ref"));
    /// # Ok(()) }
    /// ```
    pub fn ambiguous_ids(&self) -> Option<&[i64]> {
        match &*self.repr {
            Repr::AmbiguousMatch { ids, .. } => Some(ids),
            _ => None,
        }
    }

    /// The key field of an ambiguous match.
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
    /// server.insert("res.partner", json!({"name": "Twin", "ref": "T-2"}))?;
    /// server.insert("res.partner", json!({"name": "Twin too", "ref": "T-2"}))?;
    /// let err = client
    ///     .model("res.partner")
    ///     .upsert_by_key("ref", &json!({"ref": "T-2", "name": "Twin"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.key_field(), Some("ref"));
    /// assert_eq!(err.model(), Some("res.partner"));
    /// # Ok(()) }
    /// ```
    pub fn key_field(&self) -> Option<&str> {
        match &*self.repr {
            Repr::AmbiguousMatch { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Which part of the transport failed, for a transport error.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::{Client, Credentials, Domain, RetryPolicy, TransportKind};
    ///
    /// // A port on which nothing listens.
    /// let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let client = Client::builder(format!("http://127.0.0.1:{port}"))
    ///     .credentials(Credentials::api_key("admin", "key"))
    ///     .retry_policy(RetryPolicy::disabled())
    ///     .build()?;
    /// let err = client.model("res.partner").search_count(Domain::all()).send().await.unwrap_err();
    /// assert_eq!(err.transport_kind(), Some(TransportKind::Connect));
    /// # Ok(()) }
    /// ```
    pub fn transport_kind(&self) -> Option<TransportKind> {
        match &*self.repr {
            Repr::Transport { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// `true` when the per-request timeout elapsed.
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
    /// server.inject(Fault::Delay(Duration::from_secs(2)), 1);
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "Slow"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert!(err.is_timeout());
    /// # Ok(()) }
    /// ```
    pub fn is_timeout(&self) -> bool {
        self.transport_kind() == Some(TransportKind::Timeout)
    }

    /// `true` when the connection could not be established.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::{Client, Credentials, Domain, RetryPolicy};
    ///
    /// // A port on which nothing listens.
    /// let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    /// let client = Client::builder(format!("http://127.0.0.1:{port}"))
    ///     .credentials(Credentials::api_key("admin", "key"))
    ///     .retry_policy(RetryPolicy::disabled())
    ///     .build()?;
    /// let err = client.model("res.partner").search_count(Domain::all()).send().await.unwrap_err();
    /// assert!(err.is_connect());
    /// # Ok(()) }
    /// ```
    pub fn is_connect(&self) -> bool {
        self.transport_kind() == Some(TransportKind::Connect)
    }

    /// `true` when the credentials were refused ([`ErrorKind::Unauthorized`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Client, Credentials, Domain, Protocol};
    /// # use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, Fault, TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// use odoo_integration_client::test_server::DATABASE;
    ///
    /// let client = Client::builder(server.url())
    ///     .database(DATABASE)
    ///     .credentials(Credentials::password(ADMIN_LOGIN, "not the password"))
    ///     .protocol(Protocol::JsonRpc)
    ///     .build()?;
    /// let err = client.model("res.partner").search_count(Domain::all()).send().await.unwrap_err();
    /// assert!(err.is_auth());
    /// # Ok(()) }
    /// ```
    pub fn is_auth(&self) -> bool {
        self.kind() == ErrorKind::Unauthorized
    }

    /// How long the server asked to wait before the next request.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use std::time::Duration;
    /// use odoo_integration_client::test_server::Fault;
    ///
    /// server.inject(Fault::RateLimited { retry_after: 120 }, 1);
    /// let err = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "X"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    /// # Ok(()) }
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match &*self.repr {
            Repr::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// `true` when the same request may succeed later without change: a
    /// transport failure, a rate limit, a truncated or empty body, a
    /// database serialisation conflict, or an HTTP 5xx reply that names no
    /// exception class this crate knows (a proxy's 502 page, an empty 503,
    /// an unknown class). An exception of a known class is not retryable
    /// whatever its status: JSON-2 answers HTTP 500 to a `ValueError`
    /// ("Invalid field ..."), which fails again however often it is sent.
    /// Whether it is *safe* to repeat depends on the call (a plain `create`
    /// is not idempotent).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::{ErrorKind, test_server::Fault};
    ///
    /// let partners = client.model("res.partner");
    /// let create = || partners.create(&serde_json::json!({"name": "X"})).send();
    /// server.inject(Fault::BadGateway, 1);
    /// assert!(create().await.unwrap_err().is_retryable());
    /// server.inject(
    ///     Fault::Exception {
    ///         name: "builtins.ValueError".into(),
    ///         message: "Invalid field 'x_approved' on model 'res.partner'".into(),
    ///     },
    ///     1,
    /// );
    /// let err = create().await.unwrap_err();
    /// assert_eq!(err.http_status(), Some(500));
    /// assert_eq!(err.kind(), ErrorKind::InvalidRequest);
    /// assert!(!err.is_retryable());
    /// # Ok(()) }
    /// ```
    pub fn is_retryable(&self) -> bool {
        match &*self.repr {
            Repr::Transport { .. } | Repr::RateLimited { .. } => true,
            Repr::Protocol(p) => {
                is_5xx(p.status)
                    || matches!(
                        p.kind,
                        ProtocolErrorKind::Truncated | ProtocolErrorKind::Empty
                    )
            }
            Repr::Server(e) => e.is_transient(),
            _ => false,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::new(Repr::Configuration(message.into()))
    }

    pub(crate) fn server(err: ServerError) -> Self {
        Error::new(Repr::Server(err))
    }

    pub(crate) fn unauthorized(message: impl Into<String>) -> Self {
        Error::new(Repr::Unauthorized {
            message: message.into(),
        })
    }

    pub(crate) fn rate_limited(retry_after: Option<Duration>) -> Self {
        Error::new(Repr::RateLimited { retry_after })
    }

    pub(crate) fn transport(
        kind: TransportKind,
        endpoint: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Error::new(Repr::Transport {
            kind,
            endpoint: endpoint.into(),
            source: Arc::new(source),
        })
    }

    pub(crate) fn decode(
        model: impl Into<String>,
        method: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Error::new(Repr::Decode {
            model: model.into(),
            method: method.into(),
            path: path.into(),
            message: message.into(),
        })
    }

    pub(crate) fn ambiguous(
        model: impl Into<String>,
        field: impl Into<String>,
        ids: Vec<i64>,
    ) -> Self {
        Error::new(Repr::AmbiguousMatch {
            model: model.into(),
            field: field.into(),
            ids,
        })
    }

    pub(crate) fn protocol(
        kind: ProtocolErrorKind,
        endpoint: &str,
        status: Option<u16>,
        detail: impl Into<String>,
        body: &[u8],
    ) -> Self {
        Error::new(Repr::Protocol(ProtocolError {
            kind,
            status,
            endpoint: endpoint.to_owned(),
            detail: detail.into(),
            snippet: snippet(body),
        }))
    }

    /// Removes `secret` from every text the server supplied: a proxy or a
    /// debug handler that echoes the request would otherwise put the
    /// password or API key into `Display` and `Debug`. The secret is also
    /// looked for as it travels escaped in JSON and in XML.
    pub(crate) fn redact(mut self, secret: &str) -> Self {
        let forms = secret_forms(secret);
        if forms.is_empty() {
            return self;
        }
        let clean = |text: &mut String| {
            for form in &forms {
                if text.contains(form.as_str()) {
                    *text = replace_tokens(text, form);
                }
            }
        };
        match &mut *self.repr {
            Repr::Server(e) => {
                clean(&mut e.message);
                clean(&mut e.name);
                if let Some(debug) = &mut e.debug {
                    clean(debug);
                }
                if let Some(FaultCode::String(code)) = &mut e.code {
                    clean(code);
                }
                for argument in &mut e.arguments {
                    redact_value(argument, &clean);
                }
            }
            Repr::Protocol(p) => {
                clean(&mut p.detail);
                clean(&mut p.snippet);
                // The snippet is cut at 200 characters: the cut may fall
                // inside the secret.
                cut_partial_tail(&mut p.snippet, &forms);
            }
            Repr::Decode { message, path, .. } => {
                clean(message);
                clean(path);
            }
            _ => {}
        }
        self
    }

    /// Adds the model and method to a server error that lacks them.
    pub(crate) fn with_call(mut self, model: &str, method: &str) -> Self {
        if let Repr::Server(e) = &mut *self.repr
            && e.model.is_none()
        {
            e.model = Some(model.to_owned());
            e.method = Some(method.to_owned());
        }
        self
    }

    /// Records the endpoint a server error came from, when it lacks one.
    pub(crate) fn at_endpoint(mut self, endpoint: &str) -> Self {
        if let Repr::Server(e) = &mut *self.repr
            && e.endpoint.is_none()
        {
            e.endpoint = Some(format!("/{}", endpoint.trim_start_matches('/')));
        }
        self
    }
}

/// What stands in for a secret removed from a server's text.
const REDACTED: &str = "[redacted]";

/// The secret as it may appear in an echoed body: raw, JSON-escaped and
/// XML-escaped. Secrets of fewer than four characters are not looked for
/// (they would match ordinary text).
fn secret_forms(secret: &str) -> Vec<String> {
    if secret.chars().count() < 4 {
        return Vec::new();
    }
    let mut forms = vec![secret.to_owned()];
    if let Ok(json) = serde_json::to_string(secret) {
        let inner = json[1..json.len() - 1].to_owned();
        if !forms.contains(&inner) {
            forms.push(inner);
        }
    }
    // XML as this crate writes it (`&`, `<`, `>`), and fully escaped.
    let partial = secret
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let full = partial.replace('"', "&quot;").replace('\'', "&apos;");
    for xml in [partial, full] {
        if !forms.contains(&xml) {
            forms.push(xml);
        }
    }
    // Longest first, so a longer escaped form is not half-replaced by a
    // shorter one.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms
}

/// `true` when `c` could continue a word: a secret found with such a
/// character beside it is part of another word (the password `admin` in
/// "administrator"), not the secret.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// `true` when `c` is what an echoed request puts around a value: a quote,
/// a tag's bracket, an escape, a form field's `=` or `&`, a `:`.
fn is_delimiter(c: char) -> bool {
    matches!(c, '"' | '\'' | '`' | '<' | '>' | '\\' | '=' | '&' | ':')
}

/// Secrets shorter than this are only recognised between delimiters, so a
/// weak password such as `admin` is redacted where a request was echoed
/// (`"admin"`, `<string>admin</string>`) but not from "the admin user".
const SHORT_SECRET: usize = 12;

/// `text` with every standalone occurrence of `secret` replaced.
fn replace_tokens(text: &str, secret: &str) -> String {
    let short = secret.chars().count() < SHORT_SECRET;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut before: Option<char> = None;
    while let Some(at) = rest.find(secret) {
        let after = rest[at + secret.len()..].chars().next();
        let prev = rest[..at].chars().next_back().or(before);
        let standalone = if short {
            prev.is_none_or(is_delimiter) && after.is_none_or(is_delimiter)
        } else {
            !prev.is_some_and(is_word) && !after.is_some_and(is_word)
        };
        let end = at + secret.len();
        if standalone {
            out.push_str(&rest[..at]);
            out.push_str(REDACTED);
        } else {
            out.push_str(&rest[..end]);
        }
        before = rest[..end].chars().next_back();
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Redacts the start of a secret that a truncated text ends with.
fn cut_partial_tail(text: &mut String, forms: &[String]) {
    for form in forms {
        let chars: Vec<(usize, char)> = form.char_indices().collect();
        // Prefixes of at least four characters, longest first.
        for n in (4..chars.len()).rev() {
            let prefix = &form[..chars[n].0];
            if let Some(head) = text.strip_suffix(prefix)
                && !head.chars().next_back().is_some_and(is_word)
            {
                let keep = head.len();
                text.truncate(keep);
                text.push_str(REDACTED);
                return;
            }
        }
    }
}

fn redact_value(value: &mut Value, clean: &impl Fn(&mut String)) {
    match value {
        Value::String(s) => clean(s),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_value(v, clean)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_value(v, clean)),
        _ => {}
    }
}

/// A short excerpt of a body for error reports: the first 200 characters with
/// control characters replaced.
fn snippet(body: &[u8]) -> String {
    String::from_utf8_lossy(body)
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_every_exception_name_seen_in_the_fixtures() {
        let cases = [
            ("odoo.exceptions.AccessError", "x", ErrorKind::Forbidden),
            (
                "odoo.exceptions.AccessDenied",
                "Access Denied",
                ErrorKind::Unauthorized,
            ),
            (
                "odoo.exceptions.MissingError",
                "x",
                ErrorKind::MissingRecord,
            ),
            ("odoo.exceptions.ValidationError", "x", ErrorKind::Invalid),
            ("odoo.exceptions.UserError", "x", ErrorKind::UserError),
            (
                "odoo.exceptions.UserError",
                "Object no.such.model doesn't exist",
                ErrorKind::NotFound,
            ),
            ("werkzeug.exceptions.NotFound", "x", ErrorKind::NotFound),
            (
                "werkzeug.exceptions.Unauthorized",
                "x",
                ErrorKind::Unauthorized,
            ),
            (
                "werkzeug.exceptions.UnprocessableEntity",
                "x",
                ErrorKind::InvalidRequest,
            ),
            (
                "werkzeug.exceptions.BadRequest",
                "x",
                ErrorKind::InvalidRequest,
            ),
            ("builtins.ValueError", "x", ErrorKind::InvalidRequest),
            ("builtins.TypeError", "x", ErrorKind::InvalidRequest),
            ("builtins.KeyError", "x", ErrorKind::InvalidRequest),
            (
                "builtins.AttributeError",
                "The method 'res.partner.x' does not exist",
                ErrorKind::NotFound,
            ),
            (
                "builtins.Exception",
                "Method not found: x",
                ErrorKind::NotFound,
            ),
            (
                "odoo.http.SessionExpiredException",
                "x",
                ErrorKind::Unauthorized,
            ),
            ("psycopg2.OperationalError", "x", ErrorKind::Server),
        ];
        for (name, message, kind) in cases {
            assert_eq!(classify(name, message), kind, "{name}: {message}");
        }
    }

    #[test]
    fn redaction_finds_echoed_secrets_and_spares_ordinary_words() {
        let server = |message: &str| {
            Error::server(ServerError::new("builtins.ValueError", message))
                .redact("admin")
                .to_string()
        };
        assert!(server("the admin user").contains("the admin user"));
        assert!(server("ask your administrator").contains("administrator"));
        assert!(!server(r#"{"password": "admin"}"#).contains("\"admin\""));
        assert!(!server("<string>admin</string>").contains(">admin<"));
        assert!(!server("password=admin&db=x").contains("=admin&"));
        let long = "key-0123456789abcdef";
        let shown = Error::server(ServerError::new(
            "x",
            format!("bad key {long}, again {long}."),
        ))
        .redact(long)
        .to_string();
        assert_eq!(shown.matches("[redacted]").count(), 2, "{shown}");
        let mut p = ProtocolError {
            kind: ProtocolErrorKind::Html,
            status: Some(502),
            endpoint: "/jsonrpc".into(),
            detail: String::new(),
            snippet: format!("upstream: \"{}", &long[..10]),
        };
        cut_partial_tail(&mut p.snippet, &secret_forms(long));
        assert!(!p.snippet.contains("key-012345"), "{}", p.snippet);
    }

    fn with_status(name: &str, message: &str, status: Option<u16>) -> Error {
        let mut e = ServerError::new(name, message);
        e.http_status = status;
        Error::server(e)
    }

    #[test]
    fn the_exception_class_decides_before_the_http_status() {
        // JSON-2 answers 500 to an unknown field: a bad request, final.
        let err = with_status(
            "builtins.ValueError",
            "Invalid field 'x_approved' on model 'account.analytic.line'",
            Some(500),
        );
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(!err.is_retryable());
        assert_eq!(err.http_status(), Some(500));
        let err = with_status("odoo.exceptions.AccessError", "no", Some(500));
        assert_eq!(err.kind(), ErrorKind::Forbidden);
        assert!(!err.is_retryable());
        let err = with_status("odoo.exceptions.ValidationError", "no", Some(502));
        assert_eq!(err.kind(), ErrorKind::Invalid);
        assert!(!err.is_retryable());
        // A class this crate does not know, with a 5xx: transient.
        let err = with_status("psycopg2.OperationalError", "server closed", Some(500));
        assert_eq!(err.kind(), ErrorKind::Server);
        assert!(err.is_retryable());
        // The same class over JSON-RPC (always 200): no status to go by.
        assert!(!with_status("psycopg2.OperationalError", "x", None).is_retryable());
        // Serialisation conflicts are transient whatever the status.
        let err = with_status("psycopg2.errors.SerializationFailure", "x", None);
        assert!(err.is_retryable());
        // No class at all: the status decides.
        for status in [500, 502, 503, 504] {
            let page = Error::protocol(
                ProtocolErrorKind::Html,
                "/json/2/res.partner/search",
                Some(status),
                "",
                b"<html>",
            );
            assert!(page.is_retryable(), "{status}");
            assert_eq!(page.endpoint(), Some("/json/2/res.partner/search"));
        }
        let page = Error::protocol(ProtocolErrorKind::Html, "/x", Some(404), "", b"<html>");
        assert!(!page.is_retryable());
    }

    #[test]
    fn an_error_is_one_pointer_and_a_clone_keeps_its_source() {
        use std::error::Error as _;
        fn shareable<T: Send + Sync + Clone + 'static>() {}
        shareable::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<Result<()>>(),
            std::mem::size_of::<usize>()
        );
        let cause = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let err = Error::transport(TransportKind::Other, "/jsonrpc", cause);
        let copy = err.clone();
        for e in [&err, &copy] {
            assert_eq!(
                e.to_string(),
                "transport error (connection) calling /jsonrpc"
            );
            assert_eq!(e.kind(), ErrorKind::Transport);
            assert_eq!(e.transport_kind(), Some(TransportKind::Other));
            assert_eq!(e.endpoint(), Some("/jsonrpc"));
            let source = e.source().expect("the cause");
            assert_eq!(source.to_string(), "reset by peer");
            assert!(source.downcast_ref::<std::io::Error>().is_some());
        }
        let domain = crate::Domain::from_json(&serde_json::json!([["a", "=", ["x", "y"]]]))
            .expect_err("a list is not a value for `=`");
        let err = Error::from(domain.clone());
        assert_eq!(err.kind(), ErrorKind::InvalidDomain);
        let source = err.source().expect("the domain error");
        assert_eq!(source.downcast_ref::<DomainError>(), Some(&domain));
    }

    #[test]
    fn display_is_unchanged_by_the_opaque_type() {
        assert_eq!(
            Error::rate_limited(Some(Duration::from_millis(1500))).to_string(),
            "rate limited, retry after 1.5 s"
        );
        assert_eq!(Error::rate_limited(None).to_string(), "rate limited");
        assert_eq!(
            Error::decode("res.partner", "read", "[17].date", "expected a date").to_string(),
            "res.partner/read: cannot decode the result at `[17].date`: expected a date"
        );
        let err = Error::ambiguous("res.partner", "ref", vec![4, 9]);
        assert_eq!(
            err.to_string(),
            "res.partner: 2 records have the same `ref` (ids [4, 9]); refusing to guess"
        );
        assert_eq!(err.ambiguous_ids(), Some(&[4, 9][..]));
        assert_eq!(err.key_field(), Some("ref"));
        assert_eq!(err.model(), Some("res.partner"));
        assert_eq!(
            Error::unauthorized("no").to_string(),
            "authentication failed: no"
        );
        assert!(Error::unauthorized("no").is_auth());
        assert_eq!(
            Error::config("no database").to_string(),
            "configuration error: no database"
        );
    }

    #[test]
    fn display_never_contains_the_traceback() {
        let mut e = ServerError::new("odoo.exceptions.UserError", "No way");
        e.debug = Some("Traceback (most recent call last): secret-ish frames".into());
        let shown = Error::server(e).to_string();
        assert!(shown.contains("No way"));
        assert!(!shown.contains("Traceback"));
    }
}
