//! How a request is signed: a static bearer token, a basic key, or OAuth
//! with a single-flight refresh over a vendor's token flow.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use odoo_integration_model::SystemId;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The credential of one request: its `Authorization` header (marked
/// sensitive: in no `Debug`), the base URL when the credential names one
/// (Salesforce's instance URL), and which grant it came from.
#[derive(Clone)]
pub(crate) struct Credential {
    pub(crate) authorization: HeaderValue,
    pub(crate) base: Option<Arc<str>>,
    /// Which grant this is, so a refresh after a 401 is done once however
    /// many tasks saw the 401.
    pub(crate) generation: u64,
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("authorization", &"[redacted]")
            .field("base", &self.base)
            .field("generation", &self.generation)
            .finish()
    }
}

impl Credential {
    /// `scheme value` as a sensitive header value.
    pub(crate) fn header(system: &SystemId, scheme: &str, value: &str) -> Result<HeaderValue> {
        let mut header = HeaderValue::from_str(&format!("{scheme} {value}")).map_err(|_| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                "the credential holds characters an HTTP header cannot carry",
            )
            .with_system(system.clone())
        })?;
        header.set_sensitive(true);
        Ok(header)
    }
}

/// How the [`RestClient`](super::RestClient) signs a request.
#[async_trait]
pub(crate) trait Auth: Send + Sync + fmt::Debug {
    /// The credential to send now (fetched or refreshed if need be).
    async fn credential(&self) -> Result<Credential>;

    /// After a 401 to `stale`: a new credential, or `None` when this auth
    /// cannot refresh (the 401 is then the answer).
    async fn refresh(&self, _stale: &Credential) -> Result<Option<Credential>> {
        Ok(None)
    }
}

/// A static bearer token (HubSpot's private-app token).
pub(crate) struct BearerToken {
    system: SystemId,
    token: Arc<SecretString>,
}

impl BearerToken {
    pub(crate) fn new(system: SystemId, token: Arc<SecretString>) -> Self {
        BearerToken { system, token }
    }
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BearerToken")
            .field("token", &"[redacted]")
            .finish()
    }
}

#[async_trait]
impl Auth for BearerToken {
    async fn credential(&self) -> Result<Credential> {
        Ok(Credential {
            authorization: Credential::header(&self.system, "Bearer", self.token.expose_secret())?,
            base: None,
            generation: 0,
        })
    }
}

/// HTTP basic auth with an API key as the user and a fixed password
/// (BambooHR: the key, and `x`).
pub(crate) struct BasicKey {
    system: SystemId,
    key: Arc<SecretString>,
    password: &'static str,
}

impl BasicKey {
    pub(crate) fn new(system: SystemId, key: Arc<SecretString>, password: &'static str) -> Self {
        BasicKey {
            system,
            key,
            password,
        }
    }
}

impl fmt::Debug for BasicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BasicKey")
            .field("key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Auth for BasicKey {
    async fn credential(&self) -> Result<Credential> {
        use base64::Engine as _;
        let pair = format!("{}:{}", self.key.expose_secret(), self.password);
        let encoded = SecretString::from(base64::engine::general_purpose::STANDARD.encode(pair));
        Ok(Credential {
            authorization: Credential::header(&self.system, "Basic", encoded.expose_secret())?,
            base: None,
            generation: 0,
        })
    }
}

/// A vendor's OAuth 2.0 flow: how a grant is obtained, renewed and stored.
/// [`OAuth`] caches the grant and refreshes it single-flight.
#[async_trait]
pub(crate) trait TokenFlow: Send + Sync + fmt::Debug + 'static {
    /// A grant: the access token and what the flow needs to renew it.
    type Grant: Send + Sync;

    /// The first grant, when none is cached: from the token store, or a
    /// new sign-in.
    async fn load(&self) -> Result<Self::Grant>;

    /// A new grant in place of `old` (expired, or refused with a 401).
    async fn renew(&self, old: &Self::Grant) -> Result<Self::Grant>;

    /// Stores a new grant durably; awaited before the grant is used. A
    /// grant whose save failed is kept, unused, and saved again first on
    /// the next call. Default: nothing to store.
    async fn save(&self, _grant: &Self::Grant) -> Result<()> {
        Ok(())
    }

    /// When the token endpoint refused to renew `old` (unauthorized): a
    /// newer grant someone else stored, if there is one.
    async fn recover(&self, _old: &Self::Grant) -> Option<Self::Grant> {
        None
    }

    /// Whether `grant` must be renewed before it is used. Default: never
    /// (renewed only after a 401).
    fn expired(&self, _grant: &Self::Grant) -> bool {
        false
    }

    /// Whether a grant whose renewal after a 401 failed is kept (its
    /// refresh token may be the only valid one) or forgotten, so that the
    /// next call signs in again with [`load`](TokenFlow::load).
    fn keeps_refused_grant(&self) -> bool {
        true
    }

    /// The credential `grant` gives, with `generation`.
    fn credential(&self, grant: &Self::Grant, generation: u64) -> Result<Credential>;
}

struct Cached<G> {
    grant: G,
    generation: u64,
    /// Whether the store holds this grant.
    saved: bool,
}

/// OAuth 2.0 over a [`TokenFlow`]: one grant cached and shared by every
/// task; a renewal (expired, or after a 401) is single-flight: the lock is
/// held across the token request and the save that follows, so however
/// many tasks need a new token, one request is sent and the others share
/// its answer.
pub(crate) struct OAuth<F: TokenFlow> {
    flow: F,
    current: tokio::sync::Mutex<Option<Cached<F::Grant>>>,
    generation: AtomicU64,
}

impl<F: TokenFlow> fmt::Debug for OAuth<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("flow", &self.flow)
            .finish_non_exhaustive()
    }
}

impl<F: TokenFlow> OAuth<F> {
    pub(crate) fn new(flow: F) -> Self {
        OAuth {
            flow,
            current: tokio::sync::Mutex::new(None),
            generation: AtomicU64::new(0),
        }
    }

    /// The flow.
    #[cfg(test)]
    pub(crate) fn flow(&self) -> &F {
        &self.flow
    }

    fn next_generation(&self) -> u64 {
        self.generation.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// The cached grant made usable (saved, fresh), renewed when `force`.
    async fn usable(&self, slot: &mut Option<Cached<F::Grant>>, force: bool) -> Result<Credential> {
        let cached = match slot.as_mut() {
            Some(cached) => cached,
            None => {
                let grant = self.flow.load().await?;
                slot.insert(Cached {
                    grant,
                    generation: self.next_generation(),
                    saved: true,
                })
            }
        };
        if !cached.saved {
            // The last renewal's grant was not stored: store it now, or
            // fail again without using it.
            self.flow.save(&cached.grant).await?;
            cached.saved = true;
        }
        if force || self.flow.expired(&cached.grant) {
            match self.flow.renew(&cached.grant).await {
                Ok(fresh) => {
                    cached.grant = fresh;
                    cached.generation = self.next_generation();
                    cached.saved = false;
                    self.flow.save(&cached.grant).await?;
                    cached.saved = true;
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        ConnectorErrorKind::Unauthorized
                            | ConnectorErrorKind::ReauthorizationNeeded
                    ) =>
                {
                    match self.flow.recover(&cached.grant).await {
                        Some(stored) => {
                            cached.grant = stored;
                            cached.generation = self.next_generation();
                        }
                        None => {
                            if force && !self.flow.keeps_refused_grant() {
                                *slot = None;
                            }
                            return Err(e);
                        }
                    }
                }
                Err(e) => {
                    if force && !self.flow.keeps_refused_grant() {
                        *slot = None;
                    }
                    return Err(e);
                }
            }
        }
        self.flow.credential(&cached.grant, cached.generation)
    }
}

#[async_trait]
impl<F: TokenFlow> Auth for OAuth<F> {
    async fn credential(&self) -> Result<Credential> {
        let mut slot = self.current.lock().await;
        self.usable(&mut slot, false).await
    }

    async fn refresh(&self, stale: &Credential) -> Result<Option<Credential>> {
        let mut slot = self.current.lock().await;
        // Renew only the grant that was refused, and only once it is
        // stored; another task may have renewed it already.
        let force = slot
            .as_ref()
            .is_some_and(|c| c.generation == stale.generation && c.saved);
        self.usable(&mut slot, force).await.map(Some)
    }
}
