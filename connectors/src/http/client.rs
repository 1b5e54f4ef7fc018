//! The [`RestClient`]: the one send loop of the vendor connectors.

use super::auth::{Auth, Credential};
use super::body::{MAX_BODY, decode, read_capped, retry_after};
use super::errors::{Refused, Vendor};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::rate_limit::RateLimiter;
use odoo_integration_model::SystemId;
use reqwest::Method;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde::de::DeserializeOwned;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// A request body and its content type.
#[derive(Debug, Clone)]
pub(crate) struct Body {
    bytes: Vec<u8>,
    content_type: &'static str,
}

impl Body {
    /// JSON already encoded.
    pub(crate) fn json_bytes(bytes: Vec<u8>) -> Self {
        Body {
            bytes,
            content_type: "application/json",
        }
    }

    /// The content type and the bytes.
    pub(crate) fn into_parts(self) -> (&'static str, Vec<u8>) {
        (self.content_type, self.bytes)
    }

    /// A form, `application/x-www-form-urlencoded`.
    pub(crate) fn form(text: String) -> Self {
        Body {
            bytes: text.into_bytes(),
            content_type: "application/x-www-form-urlencoded",
        }
    }
}

/// An answer the vendor accepts: its status, headers and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// A vendor's REST client: cheap to clone; clones share the HTTP client,
/// the auth (and its cached token) and the limiter.
#[derive(Clone)]
pub(crate) struct RestClient {
    http: reqwest::Client,
    base: Arc<str>,
    auth: Arc<dyn Auth>,
    vendor: Arc<dyn Vendor>,
    limiter: Option<RateLimiter>,
    default_pause: Option<Duration>,
    headers: HeaderMap,
    max_body: usize,
}

impl fmt::Debug for RestClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestClient")
            .field("base", &self.base)
            .field("auth", &self.auth)
            .field("max_body", &self.max_body)
            .finish_non_exhaustive()
    }
}

/// Builds a [`RestClient`].
pub(crate) struct RestClientBuilder {
    client: RestClient,
}

impl RestClientBuilder {
    /// Paces every request (each attempt) through `limiter`, and pauses it
    /// when the vendor asks to slow down. Default: none.
    pub(crate) fn limiter(mut self, limiter: RateLimiter) -> Self {
        self.client.limiter = Some(limiter);
        self
    }

    /// The pause taken on a rate limit that names no wait. Default: none.
    pub(crate) fn default_pause(mut self, wait: Duration) -> Self {
        self.client.default_pause = Some(wait);
        self
    }

    /// A header every request carries (an API version).
    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Result<Self> {
        let value = HeaderValue::from_str(value).map_err(|_| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("`{value}` cannot be sent as the header {name}"),
            )
            .with_system(self.client.vendor.system())
        })?;
        self.client
            .headers
            .insert(HeaderName::from_static(name), value);
        Ok(self)
    }

    /// The largest answer body read, in bytes. Default: [`MAX_BODY`]
    /// (64 MiB).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn max_body(mut self, bytes: usize) -> Self {
        self.client.max_body = bytes;
        self
    }

    pub(crate) fn build(self) -> RestClient {
        self.client
    }
}

impl RestClient {
    /// A client sending to `base` (no trailing slash) with `http`, signed
    /// by `auth`, its answers judged by `vendor`.
    pub(crate) fn builder(
        http: reqwest::Client,
        base: &str,
        auth: Arc<dyn Auth>,
        vendor: Arc<dyn Vendor>,
    ) -> RestClientBuilder {
        RestClientBuilder {
            client: RestClient {
                http,
                base: Arc::from(base.trim_end_matches('/')),
                auth,
                vendor,
                limiter: None,
                default_pause: None,
                headers: HeaderMap::new(),
                max_body: MAX_BODY,
            },
        }
    }

    /// Sends to another base URL.
    pub(crate) fn set_base(&mut self, base: &str) {
        self.base = Arc::from(base.trim_end_matches('/'));
    }

    /// The base URL.
    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The same client, paced through another limiter.
    pub(crate) fn with_limiter(mut self, limiter: RateLimiter) -> Self {
        self.limiter = Some(limiter);
        self
    }

    /// `METHOD /path`, without the query (it may carry ids and dates, and
    /// makes a poor label).
    pub(crate) fn label(method: &Method, path: &str) -> String {
        format!("{method} {}", path.split('?').next().unwrap_or(path))
    }

    /// Sends one call: `path` (with its query) under the base URL (or the
    /// credential's). Refreshes the credential once on a 401, when the
    /// auth can. Returns an answer the vendor accepts; every other answer
    /// is the vendor's typed error. Nothing transient is retried here.
    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<Answer> {
        let label = Self::label(&method, path);
        let system = self.vendor.system();
        self.vendor.before_call()?;
        let mut credential = self.auth.credential().await?;
        let mut refreshed = false;
        loop {
            if let Some(limiter) = &self.limiter {
                limiter.acquire().await;
            }
            let response = self
                .attempt(&method, path, body.as_ref(), &credential)
                .await;
            let response = response.map_err(|e| {
                let e = e.without_url();
                ConnectorError::new(ConnectorErrorKind::Transport, format!("{label}: {e}"))
                    .with_system(system.clone())
                    .with_source(e)
            })?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            if let Some(wait) = self.vendor.observe(status, &headers) {
                self.pause(wait);
            }
            let bytes = read_capped(response, &system, &label, self.max_body).await?;
            if status == 401
                && !refreshed
                && let Some(fresh) = self.auth.refresh(&credential).await?
            {
                tracing::debug!(%system, call = %label, "credential refused, sending again with a new one");
                credential = fresh;
                refreshed = true;
                continue;
            }
            if self.vendor.accepts(status) {
                return Ok(Answer {
                    status,
                    headers,
                    body: bytes,
                });
            }
            let refused = Refused {
                label: &label,
                status,
                headers: &headers,
                body: &bytes,
                retry_after: retry_after(&headers),
            };
            let e = self.vendor.error(&refused);
            if e.kind() == ConnectorErrorKind::RateLimited
                && let Some(wait) = e.retry_after().or(self.default_pause)
            {
                self.pause(wait);
            }
            return Err(e);
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        body: Option<&Body>,
        credential: &Credential,
    ) -> reqwest::Result<reqwest::Response> {
        let base = credential.base.as_deref().unwrap_or(&self.base);
        let mut request = self
            .http
            .request(method.clone(), format!("{base}{path}"))
            .headers(self.headers.clone())
            .header(AUTHORIZATION, credential.authorization.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = body {
            request = request
                .header(CONTENT_TYPE, body.content_type)
                .body(body.bytes.clone());
        }
        request.send().await
    }

    /// Holds back every task at the limiter for `wait`; a wait past the
    /// limiter's ceiling is not taken (the error carries it).
    fn pause(&self, wait: Duration) {
        if let Some(limiter) = &self.limiter
            && let Err(refused) = limiter.pause_for(wait)
        {
            tracing::warn!(system = %self.vendor.system(), %refused, "pause not taken");
        }
    }

    /// `value` as a JSON body for `METHOD path`; a value that cannot be
    /// encoded is a mapping error.
    pub(crate) fn encode<T: serde::Serialize>(
        &self,
        method: &Method,
        path: &str,
        value: &T,
    ) -> Result<Body> {
        serde_json::to_vec(value)
            .map(Body::json_bytes)
            .map_err(|e| {
                ConnectorError::new(
                    ConnectorErrorKind::Mapping,
                    format!("{}: encoding: {e}", Self::label(method, path)),
                )
                .with_system(self.vendor.system())
            })
    }

    /// [`send`](Self::send), then the answer decoded as `T`.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Body>,
    ) -> Result<T> {
        let label = Self::label(&method, path);
        let answer = self.send(method, path, body).await?;
        self.decode(&label, &answer.body)
    }

    /// An answer's body decoded as `T`, naming the JSON path of what does
    /// not fit.
    pub(crate) fn decode<T: DeserializeOwned>(&self, label: &str, bytes: &[u8]) -> Result<T> {
        decode(&self.vendor.system(), self.vendor.name(), label, bytes)
    }
}

/// The rustls crypto provider: the application's, or the one this crate's
/// `ring` (default) or `aws-lc-rs` feature chooses, installed as the
/// process default when the application installed none.
pub(crate) fn crypto_provider() -> Result<Arc<rustls::crypto::CryptoProvider>> {
    use rustls::crypto::CryptoProvider;
    if let Some(installed) = CryptoProvider::get_default() {
        return Ok(Arc::clone(installed));
    }
    #[cfg(feature = "aws-lc-rs")]
    let ours = Some(rustls::crypto::aws_lc_rs::default_provider());
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let ours = Some(rustls::crypto::ring::default_provider());
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    let ours: Option<CryptoProvider> = None;
    let ours = ours.ok_or_else(|| {
        ConnectorError::new(
            ConnectorErrorKind::Configuration,
            "no TLS crypto provider: enable the `ring` or `aws-lc-rs` feature, or install one with \
             rustls::crypto::CryptoProvider::install_default",
        )
    })?;
    // Another thread may install one first: then that one is the default.
    let _ = ours.install_default();
    CryptoProvider::get_default().cloned().ok_or_else(|| {
        ConnectorError::new(
            ConnectorErrorKind::Configuration,
            "the TLS crypto provider could not be installed",
        )
    })
}

/// The HTTP client of a vendor connector: rustls with the crate's crypto
/// provider, our user agent, and a whole-request timeout.
pub(crate) fn http_client(timeout: Duration, system: SystemId) -> Result<reqwest::Client> {
    crypto_provider().map_err(|e| e.with_system(system.clone()))?;
    reqwest::Client::builder()
        .user_agent(concat!("odoo-integration/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .build()
        .map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("cannot build the HTTP client: {}", e.without_url()),
            )
            .with_system(system)
        })
}
