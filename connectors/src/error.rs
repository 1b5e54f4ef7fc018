//! The one error type of every connector and building block.

use odoo_integration_model::SystemId;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// What went wrong, coarsely: enough to decide what to do next.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::ConnectorErrorKind;
///
/// assert!(ConnectorErrorKind::Transport.is_retryable());
/// assert!(!ConnectorErrorKind::Invalid.is_retryable());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConnectorErrorKind {
    /// The network, a timeout, a proxy's error page: the request may not
    /// have reached the system.
    Transport,
    /// The system asked us to slow down (HTTP 429, a request limit).
    RateLimited,
    /// The system is unavailable or failed internally (HTTP 5xx).
    Unavailable,
    /// Credentials refused or expired beyond renewal.
    Unauthorized,
    /// The grant is gone for good (a revoked refresh token): nothing the
    /// connector can do renews it; a person must authorise the app again.
    /// Never retried.
    ReauthorizationNeeded,
    /// The caller may not do this.
    Forbidden,
    /// The record is invalid for the system (a required field, a bad value).
    Invalid,
    /// The record does not exist (any more).
    NotFound,
    /// A concurrent change won; refetch and merge.
    Conflict,
    /// Several records match where one was expected.
    Ambiguous,
    /// A reference to a record the target system does not know yet.
    UnresolvedReference,
    /// Mapping a record between models failed.
    Mapping,
    /// The record fails the pipeline's own validation rules (the
    /// canonical model's `Validator`): it is not ready to send. A record
    /// the target system itself refuses is [`Invalid`](Self::Invalid).
    #[serde(alias = "validation")]
    NotReady,
    /// Two records of a source claim one record of the target (their
    /// cross-references conflict); the record is held in the dead-letter
    /// queue instead of overwriting the other's link.
    LinkConflict,
    /// A source said it had more changes but gave a page that moved
    /// nowhere (the same cursor again, or a cursor it gave before): reading
    /// on would loop forever.
    NoProgress,
    /// The record is dated inside an accounting period the target has
    /// closed (Odoo's lock dates): it is held for a person to review
    /// (re-date it, or reopen the period), never written into another
    /// period.
    PeriodLocked,
    /// A checkpoint, cross-reference or dead-letter store failed.
    Store,
    /// A store is in use by another instance (another process, or another
    /// handle opened in this one) and cannot be opened until it is closed.
    Locked,
    /// A system kept failing (unavailable, unreachable, refusing the
    /// credential or access) past the pipeline's circuit breaker
    /// threshold: the pipeline stopped sending to it, left the records
    /// where they were (not in the dead-letter queue) and probes again
    /// after [`retry_after`](ConnectorError::retry_after).
    CircuitOpen,
    /// The connector or pipeline is misconfigured.
    Configuration,
    /// The system answered something we do not understand.
    Protocol,
}

impl ConnectorErrorKind {
    /// Whether trying again later can succeed.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::ConnectorErrorKind::RateLimited.is_retryable());
    /// ```
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ConnectorErrorKind::Transport
                | ConnectorErrorKind::RateLimited
                | ConnectorErrorKind::Unavailable
                | ConnectorErrorKind::Conflict
                | ConnectorErrorKind::UnresolvedReference
                | ConnectorErrorKind::CircuitOpen
        )
    }

    /// A stable snake-case code, for logs and dead letters.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::ConnectorErrorKind::NotFound.code(), "not_found");
    /// ```
    pub fn code(self) -> &'static str {
        match self {
            ConnectorErrorKind::Transport => "transport",
            ConnectorErrorKind::RateLimited => "rate_limited",
            ConnectorErrorKind::Unavailable => "unavailable",
            ConnectorErrorKind::Unauthorized => "unauthorized",
            ConnectorErrorKind::ReauthorizationNeeded => "reauthorization_needed",
            ConnectorErrorKind::Forbidden => "forbidden",
            ConnectorErrorKind::Invalid => "invalid",
            ConnectorErrorKind::NotFound => "not_found",
            ConnectorErrorKind::Conflict => "conflict",
            ConnectorErrorKind::Ambiguous => "ambiguous",
            ConnectorErrorKind::UnresolvedReference => "unresolved_reference",
            ConnectorErrorKind::Mapping => "mapping",
            ConnectorErrorKind::NotReady => "not_ready",
            ConnectorErrorKind::LinkConflict => "link_conflict",
            ConnectorErrorKind::NoProgress => "no_progress",
            ConnectorErrorKind::PeriodLocked => "period_locked",
            ConnectorErrorKind::Store => "store",
            ConnectorErrorKind::Locked => "locked",
            ConnectorErrorKind::CircuitOpen => "circuit_open",
            ConnectorErrorKind::Configuration => "configuration",
            ConnectorErrorKind::Protocol => "protocol",
        }
    }
}

impl fmt::Display for ConnectorErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An error from a connector, a store or the pipeline.
///
/// Carries its [`ConnectorErrorKind`], the system it came from, a message fit for a
/// log (never a secret), and for rate limits how long to wait.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind};
/// use std::time::Duration;
///
/// let e = ConnectorError::rate_limited("hubspot: ten-second window spent", Some(Duration::from_secs(3)));
/// assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
/// assert!(e.is_retryable());
/// assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
/// ```
///
/// It is `Clone`: one failed call fails every record of its batch, and each
/// record's outcome keeps the same error, its source chain included.
#[derive(Debug, Clone)]
pub struct ConnectorError {
    kind: ConnectorErrorKind,
    system: Option<SystemId>,
    message: String,
    retry_after: Option<Duration>,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl std::error::Error for ConnectorError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

impl fmt::Display for ConnectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.system {
            Some(system) => write!(f, "{system}: {} ({})", self.message, self.kind),
            None => write!(f, "{} ({})", self.message, self.kind),
        }
    }
}

impl ConnectorError {
    /// An error of `kind` with a message.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind};
    /// let e = ConnectorError::new(ConnectorErrorKind::Invalid, "email is not an address");
    /// assert_eq!(e.to_string(), "email is not an address (invalid)");
    /// ```
    pub fn new(kind: ConnectorErrorKind, message: impl Into<String>) -> Self {
        ConnectorError {
            kind,
            system: None,
            message: message.into(),
            retry_after: None,
            source: None,
        }
    }

    /// A rate-limit error, with the wait the system asked for.
    ///
    /// # Example
    ///
    /// ```
    /// let e = odoo_integration_connectors::ConnectorError::rate_limited("slow down", None);
    /// assert!(e.retry_after().is_none());
    /// ```
    pub fn rate_limited(message: impl Into<String>, retry_after: Option<Duration>) -> Self {
        let mut e = ConnectorError::new(ConnectorErrorKind::RateLimited, message);
        e.retry_after = retry_after;
        e
    }

    /// A tripped circuit breaker's error: `message` says why, and the
    /// breaker probes again after `retry_after`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind};
    /// use std::time::Duration;
    /// let e = ConnectorError::circuit_open("odoo down", Duration::from_secs(30));
    /// assert_eq!((e.kind(), e.retry_after()), (ConnectorErrorKind::CircuitOpen, Some(Duration::from_secs(30))));
    /// ```
    pub fn circuit_open(message: impl Into<String>, retry_after: Duration) -> Self {
        let mut e = ConnectorError::new(ConnectorErrorKind::CircuitOpen, message);
        e.retry_after = Some(retry_after);
        e
    }

    /// Names the system the error came from.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind};
    /// use odoo_integration_model::SystemId;
    /// let e = ConnectorError::new(ConnectorErrorKind::NotFound, "no deal 7").with_system(SystemId::hubspot());
    /// assert_eq!(e.to_string(), "hubspot: no deal 7 (not_found)");
    /// ```
    pub fn with_system(mut self, system: SystemId) -> Self {
        self.system = Some(system);
        self
    }

    /// Keeps the underlying error as the source.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind};
    /// let io = std::io::Error::other("disk full");
    /// let e = ConnectorError::new(ConnectorErrorKind::Store, "saving the checkpoint").with_source(io);
    /// assert!(std::error::Error::source(&e).is_some());
    /// ```
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(source));
        self
    }

    /// The kind.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind};
    /// assert_eq!(ConnectorError::new(ConnectorErrorKind::Conflict, "stale version").kind(), ConnectorErrorKind::Conflict);
    /// ```
    pub fn kind(&self) -> ConnectorErrorKind {
        self.kind
    }

    /// The system the error came from, if known.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::ConnectorError::new(odoo_integration_connectors::ConnectorErrorKind::Store, "x").system().is_none());
    /// ```
    pub fn system(&self) -> Option<&SystemId> {
        self.system.as_ref()
    }

    /// The message, without the system and kind.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::ConnectorError::new(odoo_integration_connectors::ConnectorErrorKind::Store, "x").message(), "x");
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }

    /// How long the system asked us to wait, for rate limits.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::ConnectorError::new(odoo_integration_connectors::ConnectorErrorKind::Invalid, "x").retry_after().is_none());
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether trying again later can succeed (see [`ConnectorErrorKind::is_retryable`]).
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!odoo_integration_connectors::ConnectorError::new(odoo_integration_connectors::ConnectorErrorKind::NotReady, "x").is_retryable());
    /// ```
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    pub(crate) fn store(message: impl Into<String>) -> Self {
        ConnectorError::new(ConnectorErrorKind::Store, message)
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = ConnectorError> = std::result::Result<T, E>;

/// A serialisable summary of an error, as kept in the dead-letter queue and
/// in a sink's outcome.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind, ErrorRecord};
/// let r = ErrorRecord::from(&ConnectorError::new(ConnectorErrorKind::Invalid, "name is required"));
/// assert_eq!((r.kind, r.retryable), (ConnectorErrorKind::Invalid, false));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// The kind.
    pub kind: ConnectorErrorKind,
    /// Whether retrying can help.
    pub retryable: bool,
    /// The full message.
    pub message: String,
}

/// A policy file that could not be loaded is a configuration error; the
/// message lists every mistake, one per line, and the [`PolicyError`] stays
/// reachable as the source.
///
/// [`PolicyError`]: odoo_integration_model::PolicyError
///
/// # Example
/// ```
/// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind};
/// use odoo_integration_model::{Policy, PolicyError};
///
/// fn load(src: &str) -> Result<Policy, ConnectorError> {
///     Ok(Policy::from_toml(src)?)
/// }
/// let err = load("[client]\nstrategy = \"first-wins\"\n[clients]\n").unwrap_err();
/// assert_eq!(err.kind(), ConnectorErrorKind::Configuration);
/// assert_eq!(err.message().lines().count(), 3);
/// let policy = std::error::Error::source(&err).and_then(|s| s.downcast_ref::<PolicyError>());
/// assert_eq!(policy.map(|p| p.mistakes().len()), Some(2));
/// ```
impl From<odoo_integration_model::PolicyError> for ConnectorError {
    fn from(e: odoo_integration_model::PolicyError) -> Self {
        let message = format!("the ownership policy has mistakes:\n{e}");
        ConnectorError::new(ConnectorErrorKind::Configuration, message).with_source(e)
    }
}

impl From<&ConnectorError> for ErrorRecord {
    fn from(e: &ConnectorError) -> Self {
        ErrorRecord {
            kind: e.kind,
            retryable: e.is_retryable(),
            message: e.to_string(),
        }
    }
}
