//! OAuth 2.0 for Gusto: one company's access and refresh tokens, kept in
//! a user-supplied [`TokenStore`], refreshed single-flight.
//!
//! Gusto's refresh tokens are single use: each refresh answers a new pair
//! and revokes the old refresh token. So a refresh is done by one task at
//! a time (the others wait for it and share its answer), and the new pair
//! is saved to the store, and the save awaited, before the new access
//! token is used: a process that dies right after a refresh has the new
//! refresh token on disk, not only the revoked one.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::http::{Body, Credential, MAX_BODY, TokenFlow, TokenRequest};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use odoo_integration_model::SystemId;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::fmt;
use std::sync::{Arc, Mutex};

/// How long before its expiry an access token is refreshed.
const EXPIRY_MARGIN: TimeDelta = TimeDelta::seconds(60);

/// An access token's lifetime when the token endpoint does not say
/// (Gusto's are two hours).
const DEFAULT_LIFETIME_SECS: i64 = 7200;

/// The longest an access token is trusted, whatever `expires_in` says: a
/// token is refreshed at least daily.
const MAX_LIFETIME: TimeDelta = TimeDelta::days(1);

/// The app's OAuth client id and secret (from Gusto's developer portal).
/// The secret is kept in a `secrecy` type and shown by no `Debug`,
/// `Display`, error or log.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::gusto::AppCredentials;
/// let app = AppCredentials::new("client-id", "client-secret-value");
/// assert!(!format!("{app:?}").contains("client-secret-value"));
/// assert_eq!(app.client_id(), "client-id");
/// ```
#[derive(Clone)]
pub struct AppCredentials {
    client_id: String,
    client_secret: Arc<SecretString>,
}

impl fmt::Debug for AppCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

impl AppCredentials {
    /// The app's client id and client secret.
    ///
    /// # Example
    ///
    /// ```
    /// let app = odoo_integration_connectors::gusto::AppCredentials::new("client-id", "client-secret-4242");
    /// assert_eq!(app.client_id(), "client-id");
    /// assert!(!format!("{app:?}").contains("client-secret-4242"));
    /// ```
    pub fn new(client_id: impl Into<String>, client_secret: impl Into<String>) -> Self {
        AppCredentials {
            client_id: client_id.into(),
            client_secret: Arc::new(SecretString::from(client_secret.into())),
        }
    }

    /// The client id (not a secret).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::gusto::AppCredentials::new("id", "s").client_id(), "id");
    /// ```
    pub fn client_id(&self) -> &str {
        &self.client_id
    }
}

/// One company's OAuth token pair and when the access token expires.
/// `Debug` shows the expiry only.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::gusto::Tokens;
/// let t = Tokens::new("access-123", "refresh-456", chrono::Utc::now() + chrono::TimeDelta::hours(2));
/// assert_eq!(t.expose_refresh_token(), "refresh-456");
/// assert!(!format!("{t:?}").contains("access-123"));
/// ```
#[derive(Clone)]
pub struct Tokens {
    access: Arc<SecretString>,
    refresh: Arc<SecretString>,
    expires_at: DateTime<Utc>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"[redacted]")
            .field("refresh_token", &"[redacted]")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl PartialEq for Tokens {
    fn eq(&self, other: &Self) -> bool {
        self.access.expose_secret() == other.access.expose_secret()
            && self.refresh.expose_secret() == other.refresh.expose_secret()
            && self.expires_at == other.expires_at
    }
}

impl Eq for Tokens {}

impl Tokens {
    /// A token pair, the access token valid until `expires_at`.
    ///
    /// # Example
    ///
    /// ```
    /// let t = odoo_integration_connectors::gusto::Tokens::new("a", "r", chrono::DateTime::UNIX_EPOCH);
    /// assert!(t.is_expired(chrono::Utc::now()));
    /// ```
    pub fn new(
        access_token: impl Into<String>,
        refresh_token: impl Into<String>,
        expires_at: DateTime<Utc>,
    ) -> Self {
        Tokens {
            access: Arc::new(SecretString::from(access_token.into())),
            refresh: Arc::new(SecretString::from(refresh_token.into())),
            expires_at,
        }
    }

    /// The access token, for your store to persist (encrypted, ideally).
    ///
    /// # Example
    ///
    /// ```
    /// let t = odoo_integration_connectors::gusto::Tokens::new("a", "r", chrono::Utc::now());
    /// assert_eq!(t.expose_access_token(), "a");
    /// ```
    pub fn expose_access_token(&self) -> &str {
        self.access.expose_secret()
    }

    /// The refresh token, for your store to persist. It is single use:
    /// once refreshed, only the new one works.
    ///
    /// # Example
    ///
    /// ```
    /// let t = odoo_integration_connectors::gusto::Tokens::new("a", "r", chrono::Utc::now());
    /// assert_eq!(t.expose_refresh_token(), "r");
    /// ```
    pub fn expose_refresh_token(&self) -> &str {
        self.refresh.expose_secret()
    }

    /// When the access token expires (UTC).
    ///
    /// # Example
    ///
    /// ```
    /// let at = chrono::Utc::now();
    /// assert_eq!(odoo_integration_connectors::gusto::Tokens::new("a", "r", at).expires_at(), at);
    /// ```
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// Whether the access token is expired at `now`, or will be within a
    /// minute (the connector refreshes it then rather than risk a 401).
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::{TimeDelta, Utc};
    /// let t = odoo_integration_connectors::gusto::Tokens::new("a", "r", Utc::now() + TimeDelta::hours(2));
    /// assert!(!t.is_expired(Utc::now()));
    /// ```
    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        // Checked: an `expires_at` at chrono's lower bound (a store may
        // hold anything) is expired, not an overflow.
        self.expires_at
            .checked_sub_signed(EXPIRY_MARGIN)
            .is_none_or(|refresh_at| refresh_at <= now)
    }
}

/// Where a company's tokens live between runs: your database, a secrets
/// manager. Because Gusto's refresh tokens are single use, the connector
/// calls [`save`](TokenStore::save) with every new pair, and awaits it,
/// before it uses the new access token; a failed save fails the call.
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use odoo_integration_connectors::gusto::{TokenStore, Tokens};
/// use std::sync::Mutex;
///
/// /// Keeps the pair in a file-like slot (a real store would encrypt it).
/// struct Slot(Mutex<Option<Tokens>>);
/// #[async_trait]
/// impl TokenStore for Slot {
///     async fn load(&self) -> odoo_integration_connectors::Result<Option<Tokens>> {
///         Ok(self.0.lock().unwrap().clone())
///     }
///     async fn save(&self, tokens: &Tokens) -> odoo_integration_connectors::Result<()> {
///         *self.0.lock().unwrap() = Some(tokens.clone());
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// The stored pair, `None` if there is none yet.
    ///
    /// # Errors
    ///
    /// The store cannot be read ([`ConnectorErrorKind::Store`](crate::ConnectorErrorKind::Store)).
    async fn load(&self) -> Result<Option<Tokens>>;

    /// Stores a new pair, replacing the old one.
    ///
    /// # Errors
    ///
    /// The pair could not be stored durably: the connector then does not
    /// use it (see the module docs).
    async fn save(&self, tokens: &Tokens) -> Result<()>;

    /// Called just before the connector sends `old`'s refresh token to be
    /// exchanged, which revokes it. A store that records this can tell,
    /// when the reply is lost (Gusto rotated the pair but the new one never
    /// arrived), that the pair it holds is revoked and the app must be
    /// authorised again. The default records nothing.
    ///
    /// # Errors
    ///
    /// The attempt could not be recorded: the refresh is not sent.
    async fn refreshing(&self, old: &Tokens) -> Result<()> {
        let _ = old;
        Ok(())
    }
}

/// A [`TokenStore`] in memory: for tests, and for a process that gets its
/// first pair from elsewhere and does not need to survive a restart.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::gusto::{MemoryTokenStore, Tokens};
/// let store = MemoryTokenStore::new(Tokens::new("a", "r", chrono::Utc::now()));
/// assert_eq!(store.current().map(|t| t.expose_refresh_token().to_owned()).as_deref(), Some("r"));
/// ```
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<Option<Tokens>>,
    saves: Mutex<usize>,
    refreshes: Mutex<usize>,
}

impl MemoryTokenStore {
    /// A store holding `tokens`.
    ///
    /// # Example
    ///
    /// ```
    /// let s = odoo_integration_connectors::gusto::MemoryTokenStore::new(odoo_integration_connectors::gusto::Tokens::new("a", "r", chrono::Utc::now()));
    /// assert_eq!(s.saves(), 0);
    /// ```
    pub fn new(tokens: Tokens) -> Self {
        MemoryTokenStore {
            tokens: Mutex::new(Some(tokens)),
            saves: Mutex::new(0),
            refreshes: Mutex::new(0),
        }
    }

    /// The pair it holds now.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::gusto::MemoryTokenStore::default().current().is_none());
    /// ```
    pub fn current(&self) -> Option<Tokens> {
        self.tokens.lock().ok().and_then(|t| t.clone())
    }

    /// How many pairs were saved.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::gusto::MemoryTokenStore::default().saves(), 0);
    /// ```
    pub fn saves(&self) -> usize {
        self.saves.lock().map(|s| *s).unwrap_or(0)
    }

    /// How many refreshes were begun ([`TokenStore::refreshing`]); more than
    /// [`saves`](Self::saves) means a refresh's reply was lost or refused.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::gusto::MemoryTokenStore::default().refreshes(), 0);
    /// ```
    pub fn refreshes(&self) -> usize {
        self.refreshes.lock().map(|s| *s).unwrap_or(0)
    }
}

#[async_trait]
impl TokenStore for MemoryTokenStore {
    async fn load(&self) -> Result<Option<Tokens>> {
        Ok(self.current())
    }
    async fn save(&self, tokens: &Tokens) -> Result<()> {
        let mut slot = self
            .tokens
            .lock()
            .map_err(|_| ConnectorError::store("the token store's lock is poisoned"))?;
        *slot = Some(tokens.clone());
        if let Ok(mut n) = self.saves.lock() {
            *n += 1;
        }
        Ok(())
    }
    async fn refreshing(&self, _old: &Tokens) -> Result<()> {
        if let Ok(mut n) = self.refreshes.lock() {
            *n += 1;
        }
        Ok(())
    }
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: String,
    #[serde(default)]
    expires_in: Option<i64>,
}

/// Gusto's refresh-token flow, for the HTTP core's [`OAuth`]: the pair
/// loaded from the store on first use, refreshed when expired (or after a
/// 401), every new pair saved, and the save awaited, before it is used.
///
/// [`OAuth`]: crate::http::OAuth
pub(crate) struct Refresh {
    app: AppCredentials,
    base_url: Arc<str>,
    api_version: Arc<str>,
    http: reqwest::Client,
    store: Arc<dyn TokenStore>,
}

impl fmt::Debug for Refresh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refresh")
            .field("app", &self.app)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn gusto_error(kind: ConnectorErrorKind, message: impl Into<String>) -> ConnectorError {
    ConnectorError::new(kind, message).with_system(SystemId::gusto())
}

impl Refresh {
    pub(crate) fn new(
        app: AppCredentials,
        base_url: Arc<str>,
        api_version: Arc<str>,
        http: reqwest::Client,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        Refresh {
            app,
            base_url,
            api_version,
            http,
            store,
        }
    }
}

#[async_trait]
impl TokenFlow for Refresh {
    type Grant = Tokens;

    async fn load(&self) -> Result<Tokens> {
        self.store.load().await?.ok_or_else(|| {
            gusto_error(
                ConnectorErrorKind::Unauthorized,
                "the token store holds no tokens for this company: authorise the app first",
            )
        })
    }

    /// Exchanges the refresh token for a new pair.
    async fn renew(&self, old: &Tokens) -> Result<Tokens> {
        let body = serde_json::json!({
            "client_id": self.app.client_id,
            "client_secret": self.app.client_secret.expose_secret(),
            "grant_type": "refresh_token",
            "refresh_token": old.refresh.expose_secret(),
        });
        self.store.refreshing(old).await?;
        tracing::debug!("gusto: refreshing the access token");
        let answer: TokenAnswer = TokenRequest {
            system: SystemId::gusto(),
            vendor: "Gusto",
            http: &self.http,
            base: &self.base_url,
            path: "/oauth/token",
            headers: &[("X-Gusto-API-Version", &self.api_version)],
            body: Body::json_bytes(body.to_string().into_bytes()),
            secrets: &[
                self.app.client_secret.expose_secret(),
                old.refresh.expose_secret(),
                old.access.expose_secret(),
            ],
            max_body: MAX_BODY,
        }
        .send()
        .await
        .map_err(|e| {
            // The refresh token is revoked: by this connector's own earlier
            // refresh whose reply was lost, by another process, or by the
            // company. No retry renews it.
            if e.message().contains("invalid_grant") {
                gusto_error(
                    ConnectorErrorKind::ReauthorizationNeeded,
                    format!(
                        "Gusto refused the stored refresh token (revoked: a refresh whose \
                         reply was lost rotates it): authorise the app again for this company ({})",
                        e.message()
                    ),
                )
                .with_source(e)
            } else {
                e
            }
        })?;
        // Our clock, not the answer's `created_at`: a skewed server clock
        // must not make a fresh token look expired.
        let issued = Utc::now();
        Ok(Tokens::new(
            answer.access_token,
            answer.refresh_token,
            expiry(issued, answer.expires_in),
        ))
    }

    async fn save(&self, tokens: &Tokens) -> Result<()> {
        self.store.save(tokens).await.map_err(|e| {
            gusto_error(
                ConnectorErrorKind::Store,
                format!(
                    "the refreshed tokens could not be saved, so they are not used yet \
                     (the old refresh token is revoked; the save is tried again on the next call): {}",
                    e.message()
                ),
            )
            .with_source(e)
        })
    }

    /// Perhaps another process refreshed and stored a new pair (which
    /// revoked ours): adopt it if it is newer.
    async fn recover(&self, old: &Tokens) -> Option<Tokens> {
        match self.store.load().await {
            Ok(Some(stored))
                if stored.expose_refresh_token() != old.expose_refresh_token()
                    && !stored.is_expired(Utc::now()) =>
            {
                tracing::debug!("gusto: refresh refused; using the stored pair");
                Some(stored)
            }
            _ => None,
        }
    }

    fn expired(&self, tokens: &Tokens) -> bool {
        tokens.is_expired(Utc::now())
    }

    fn credential(&self, tokens: &Tokens, generation: u64) -> Result<Credential> {
        Ok(Credential {
            authorization: Credential::header(
                &SystemId::gusto(),
                "Bearer",
                tokens.access.expose_secret(),
            )?,
            base: None,
            generation,
        })
    }
}

/// When a token issued at `issued` with the token endpoint's `expires_in`
/// expires. A missing `expires_in` is Gusto's documented two hours; a
/// negative one is already expired; one longer than [`MAX_LIFETIME`] is
/// trusted for that long only, so a wild answer (`i64::MAX` seconds) can
/// neither overflow the date arithmetic nor keep a token cached forever.
fn expiry(issued: DateTime<Utc>, expires_in: Option<i64>) -> DateTime<Utc> {
    let seconds = expires_in
        .unwrap_or(DEFAULT_LIFETIME_SECS)
        .clamp(0, MAX_LIFETIME.num_seconds());
    TimeDelta::try_seconds(seconds)
        .and_then(|lifetime| issued.checked_add_signed(lifetime))
        .unwrap_or(issued)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_expires_in_gives_an_expiry_within_a_day() {
        let now = Utc::now();
        for (expires_in, want) in [
            (None, TimeDelta::hours(2)),
            (Some(60), TimeDelta::minutes(1)),
            (Some(0), TimeDelta::zero()),
            (Some(-5), TimeDelta::zero()),
            (Some(i64::MIN), TimeDelta::zero()),
            (Some(86_400), TimeDelta::days(1)),
            (Some(10_000_000_000_000), TimeDelta::days(1)),
            (Some(i64::MAX), TimeDelta::days(1)),
        ] {
            assert_eq!(expiry(now, expires_in), now + want, "{expires_in:?}");
        }
        // Near the end of chrono's range: no overflow, the token is
        // simply treated as expired.
        assert_eq!(
            expiry(DateTime::<Utc>::MAX_UTC, Some(3600)),
            DateTime::<Utc>::MAX_UTC
        );
    }

    #[test]
    fn is_expired_does_not_overflow_at_the_ends_of_time() {
        let min = Tokens::new("a", "r", DateTime::<Utc>::MIN_UTC);
        assert!(min.is_expired(Utc::now()));
        let max = Tokens::new("a", "r", DateTime::<Utc>::MAX_UTC);
        assert!(!max.is_expired(Utc::now()));
    }
}
