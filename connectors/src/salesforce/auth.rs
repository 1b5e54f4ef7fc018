//! OAuth 2.0 for Salesforce: the client-credentials flow and the JWT bearer
//! flow, with one cached access token shared by every task.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::http::{Body, Credential, MAX_BODY, TokenFlow, TokenRequest, form_encode};
use async_trait::async_trait;
use odoo_integration_model::SystemId;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// How the connector signs in: an External Client App (or Connected App)
/// with the client-credentials flow, or the JWT bearer flow with the app's
/// certificate key. Secrets are kept in [`SecretString`]s and shown by no
/// `Debug`, `Display` or error.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::salesforce::ConnectedApp;
/// let c = ConnectedApp::client_credentials("3MVG9consumer-key", "consumer-secret-value");
/// assert!(!format!("{c:?}").contains("consumer-secret-value"));
/// ```
#[derive(Clone)]
pub struct ConnectedApp {
    flow: Flow,
}

#[derive(Clone)]
enum Flow {
    ClientCredentials {
        client_id: String,
        client_secret: Arc<SecretString>,
    },
    JwtBearer {
        client_id: String,
        username: String,
        private_key_pem: Arc<SecretString>,
        audience: Option<String>,
    },
}

impl fmt::Debug for ConnectedApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.flow {
            Flow::ClientCredentials { client_id, .. } => f
                .debug_struct("Credentials")
                .field("flow", &"client_credentials")
                .field("client_id", client_id)
                .field("client_secret", &"[redacted]")
                .finish(),
            Flow::JwtBearer { client_id, .. } => f
                .debug_struct("Credentials")
                .field("flow", &"jwt_bearer")
                .field("client_id", client_id)
                .field("private_key", &"[redacted]")
                .finish_non_exhaustive(),
        }
    }
}

/// The JWT audience for a login URL: the login host of a production org or
/// a sandbox, never My Domain.
fn default_audience(login_url: &str) -> &'static str {
    let host = host_of(login_url);
    if host == "test.salesforce.com" || host.ends_with(".sandbox.my.salesforce.com") {
        "https://test.salesforce.com"
    } else {
        "https://login.salesforce.com"
    }
}

/// The host of a URL, lowercased, without port.
pub(super) fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    host.split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}

impl ConnectedApp {
    /// Whether this is the client-credentials flow, which needs My Domain.
    pub(super) fn needs_my_domain(&self) -> bool {
        matches!(self.flow, Flow::ClientCredentials { .. })
    }

    /// The OAuth 2.0 client-credentials flow: the app's consumer key and
    /// secret; Salesforce runs the calls as the app's configured run-as
    /// user. Salesforce serves this flow on the org's My Domain only
    /// (`https://yourcompany.my.salesforce.com`): give it as the
    /// [`login_url`](super::SalesforceBuilder::login_url); `login.` and
    /// `test.salesforce.com` are refused when the connector is built.
    ///
    /// # Example
    ///
    /// ```
    /// let c = odoo_integration_connectors::salesforce::ConnectedApp::client_credentials("key", "consumer-secret-4242");
    /// let shown = format!("{c:?}");
    /// assert!(shown.contains("key") && !shown.contains("consumer-secret-4242"));
    /// ```
    pub fn client_credentials(
        client_id: impl Into<String>,
        client_secret: impl Into<String>,
    ) -> Self {
        ConnectedApp {
            flow: Flow::ClientCredentials {
                client_id: client_id.into(),
                client_secret: Arc::new(SecretString::from(client_secret.into())),
            },
        }
    }

    /// The OAuth 2.0 JWT bearer flow: an assertion signed RS256 with the
    /// private key (PEM, PKCS#1 or PKCS#8) whose certificate is uploaded to
    /// the app, issued by `client_id` (the consumer key) for `username`.
    /// The audience is `https://login.salesforce.com` (for a sandbox,
    /// `https://test.salesforce.com`) even when the token is asked of My
    /// Domain, as Salesforce wants, unless set with
    /// [`audience`](Self::audience).
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Configuration`] when the key is not an RSA private key
    /// in PEM (the message never quotes the key).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::salesforce::ConnectedApp;
    /// let err = ConnectedApp::jwt_bearer("key", "integration@example.com", "not a key").unwrap_err();
    /// assert_eq!(err.kind(), odoo_integration_connectors::ConnectorErrorKind::Configuration);
    /// ```
    pub fn jwt_bearer(
        client_id: impl Into<String>,
        username: impl Into<String>,
        private_key_pem: impl Into<String>,
    ) -> Result<Self> {
        let pem = SecretString::from(private_key_pem.into());
        super::jwt::check_private_key(pem.expose_secret()).map_err(|why| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("the JWT bearer key is not an RSA private key in PEM ({why})"),
            )
            .with_system(SystemId::salesforce())
        })?;
        Ok(ConnectedApp {
            flow: Flow::JwtBearer {
                client_id: client_id.into(),
                username: username.into(),
                private_key_pem: Arc::new(pem),
                audience: None,
            },
        })
    }

    /// The JWT's `aud` claim (JWT bearer flow only; ignored otherwise).
    /// Default: `https://test.salesforce.com` when the login URL is
    /// `test.salesforce.com` or a sandbox's My Domain
    /// (`*.sandbox.my.salesforce.com`), else `https://login.salesforce.com`;
    /// never the My Domain URL, which Salesforce refuses as an audience.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let org = odoo_integration_fakes::salesforce::FakeSalesforce::start().await?;
    /// # let pem = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/salesforce/test_only_private_key.pem"));
    /// # org.allow_jwt("key", "u@example.com", include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/salesforce/test_only_public_key.pem")));
    /// let c = ConnectedApp::jwt_bearer("key", "u@example.com", pem)?
    ///     .audience("https://test.salesforce.com");
    /// let sf = SalesforceConnector::builder(c).login_url(org.url()).build()?;
    /// Source::<odoo_integration_model::ClientCompany>::read(&sf, None, 10).await?;
    /// assert_eq!(org.token_requests(), 1);
    ///
    /// // An audience Salesforce does not know: the assertion is refused.
    /// let c = ConnectedApp::jwt_bearer("key", "u@example.com", pem)?.audience("https://example.com");
    /// let sf = SalesforceConnector::builder(c).login_url(org.url()).build()?;
    /// assert!(Source::<odoo_integration_model::ClientCompany>::read(&sf, None, 10).await.is_err());
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        if let Flow::JwtBearer { audience: a, .. } = &mut self.flow {
            *a = Some(audience.into());
        }
        self
    }
}

/// An access token and where to use it.
pub(crate) struct Token {
    access: SecretString,
    instance_url: Arc<str>,
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    instance_url: String,
}

#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
}

/// Signing in to Salesforce, for the HTTP core's [`OAuth`]: one token
/// cached and shared by every task, fetched again (single-flight) when
/// Salesforce refuses it with a 401; there is no refresh token, each fetch
/// is a new sign-in.
///
/// [`OAuth`]: crate::http::OAuth
pub(crate) struct SignIn {
    credentials: ConnectedApp,
    login_url: Arc<str>,
    http: reqwest::Client,
}

impl fmt::Debug for SignIn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignIn")
            .field("credentials", &self.credentials)
            .field("login_url", &self.login_url)
            .finish_non_exhaustive()
    }
}

impl SignIn {
    pub(crate) fn new(
        credentials: ConnectedApp,
        login_url: Arc<str>,
        http: reqwest::Client,
    ) -> Self {
        SignIn {
            credentials,
            login_url,
            http,
        }
    }

    async fn fetch(&self) -> Result<Token> {
        let assertion;
        let (form, secret): (Vec<(&str, &str)>, &str) = match &self.credentials.flow {
            Flow::ClientCredentials {
                client_id,
                client_secret,
            } => (
                vec![
                    ("grant_type", "client_credentials"),
                    ("client_id", client_id),
                    ("client_secret", client_secret.expose_secret()),
                ],
                client_secret.expose_secret(),
            ),
            Flow::JwtBearer {
                client_id,
                username,
                private_key_pem,
                audience,
            } => {
                let claims = Claims {
                    iss: client_id,
                    sub: username,
                    aud: audience
                        .as_deref()
                        .unwrap_or_else(|| default_audience(&self.login_url)),
                    // Salesforce accepts an expiry up to three minutes ahead.
                    exp: chrono::Utc::now().timestamp() + 170,
                };
                assertion =
                    super::jwt::sign(private_key_pem.expose_secret(), &claims).map_err(|why| {
                        ConnectorError::new(
                            ConnectorErrorKind::Configuration,
                            format!("cannot sign the JWT assertion: {why}"),
                        )
                        .with_system(SystemId::salesforce())
                    })?;
                (
                    vec![
                        ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                        ("assertion", assertion.as_str()),
                    ],
                    assertion.as_str(),
                )
            }
        };
        let answer: TokenAnswer = TokenRequest {
            system: SystemId::salesforce(),
            vendor: "Salesforce",
            http: &self.http,
            base: &self.login_url,
            path: "/services/oauth2/token",
            headers: &[],
            body: Body::form(form_encode(&form)),
            secrets: &[secret],
            max_body: MAX_BODY,
        }
        .send()
        .await
        .map_err(|e| {
            if e.message().contains("not supported on this domain") {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    format!(
                        "Salesforce refuses the client-credentials flow on {}: give the org's \
                         My Domain URL (https://yourcompany.my.salesforce.com) as the login URL",
                        self.login_url
                    ),
                )
                .with_system(SystemId::salesforce())
                .with_source(e)
            } else {
                e
            }
        })?;
        tracing::debug!("salesforce: new access token");
        Ok(Token {
            access: SecretString::from(answer.access_token),
            instance_url: Arc::from(answer.instance_url.trim_end_matches('/')),
        })
    }
}

#[async_trait]
impl TokenFlow for SignIn {
    type Grant = Token;

    async fn load(&self) -> Result<Token> {
        self.fetch().await
    }

    async fn renew(&self, _old: &Token) -> Result<Token> {
        self.fetch().await
    }

    /// A token refused with a 401 is dead: when signing in again fails,
    /// the next call signs in from scratch.
    fn keeps_refused_grant(&self) -> bool {
        false
    }

    fn credential(&self, token: &Token, generation: u64) -> Result<Credential> {
        Ok(Credential {
            authorization: Credential::header(
                &SystemId::salesforce(),
                "Bearer",
                token.access.expose_secret(),
            )?,
            base: Some(token.instance_url.clone()),
            generation,
        })
    }
}
