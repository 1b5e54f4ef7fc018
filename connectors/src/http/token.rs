//! The OAuth 2.0 token endpoint: one request, its refusal scrubbed, its
//! answer decoded without quoting it.

use super::body::read_capped;
use super::client::Body;
use super::errors::{describe_body, oauth_error};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use odoo_integration_model::SystemId;
use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde::de::DeserializeOwned;

/// A request to a token endpoint.
pub(crate) struct TokenRequest<'a> {
    pub(crate) system: SystemId,
    /// The vendor's name in messages.
    pub(crate) vendor: &'static str,
    pub(crate) http: &'a reqwest::Client,
    /// The endpoint's base URL (no trailing slash) and path.
    pub(crate) base: &'a str,
    pub(crate) path: &'a str,
    /// Extra headers (an API version).
    pub(crate) headers: &'a [(&'static str, &'a str)],
    pub(crate) body: Body,
    /// What the endpoint must never see quoted back in an error: the
    /// client secret, the refresh token.
    pub(crate) secrets: &'a [&'a str],
    pub(crate) max_body: usize,
}

impl TokenRequest<'_> {
    /// Sends the request and decodes the token answer as `T`. A refusal
    /// is [`oauth_error`]; an answer that is not a token is described by
    /// its shape and the path that does not fit, never quoted (it may hold
    /// a token).
    pub(crate) async fn send<T: DeserializeOwned>(self) -> Result<T> {
        let label = format!("POST {}", self.path);
        let (content_type, bytes) = self.body.into_parts();
        let mut request = self
            .http
            .post(format!("{}{}", self.base, self.path))
            .header(CONTENT_TYPE, content_type)
            .header(ACCEPT, "application/json")
            .body(bytes);
        for (name, value) in self.headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.map_err(|e| {
            let e = e.without_url();
            ConnectorError::new(ConnectorErrorKind::Transport, format!("{label}: {e}"))
                .with_system(self.system.clone())
                .with_source(e)
        })?;
        let status = response.status().as_u16();
        let bytes = read_capped(response, &self.system, &label, self.max_body).await?;
        if !(200..300).contains(&status) {
            return Err(oauth_error(
                self.system,
                self.vendor,
                &label,
                status,
                &bytes,
                self.secrets,
            ));
        }
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            ConnectorError::new(
                ConnectorErrorKind::Protocol,
                format!(
                    "{label}: the token endpoint answered {}, not a token (at `{path}`)",
                    describe_body(&bytes, self.vendor)
                ),
            )
            .with_system(self.system.clone())
        })
    }
}
