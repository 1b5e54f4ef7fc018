//! The HubSpot connector (feature `hubspot`): CRM v3 objects over a
//! private-app token or an OAuth access token.
//!
//! **Status.** Companies ⇄ [`Client`] are read
//! incrementally; writing, contacts, deals, line items, associations and
//! webhooks are to come (see the crate's issue list).
//!
//! **Reading.** Incremental through the CRM search API by
//! `hs_lastmodifieddate`, oldest first. The search API refuses to page
//! past 10,000 results, so the connector never pages far: each read starts
//! a new search from the last modification time it returned, and skips
//! the records of that same millisecond it already handed out (their ids
//! travel in the cursor). A burst of more records than a page in one
//! millisecond is paged through with `after` inside that millisecond.
//!
//! **Errors.** HubSpot's `{status, message, correlationId, category}`
//! becomes a [`ConnectorError`] of the matching kind; the correlation id is
//! kept in the message for HubSpot's support. A 429 carries the
//! `Retry-After` wait, which the pipeline's limiter applies to every task.
//! The token is a [`SecretString`]: it is in no `Debug`, error or log.

use crate::connector::{Capabilities, Connector, Cursor, Page, Source, SourceChange};
use crate::error::{ConnectorError, ErrorKind, Result};
use crate::rate_limit::Quota;
use async_trait::async_trait;
use canonical_model::{Client, Entity, FieldValue, SystemId};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// HubSpot's production API.
const API: &str = "https://api.hubapi.com";

/// A canonical field ⇄ a HubSpot property (all HubSpot property values
/// are strings on the wire).
///
/// # Example
///
/// ```
/// let p = connectors::hubspot::PropertyMap::new("legal_name", "name");
/// assert_eq!(p.hubspot, "name");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyMap {
    /// The canonical field (dotted for nested ones).
    pub canonical: String,
    /// The HubSpot property (custom ones welcome).
    pub hubspot: String,
}

impl PropertyMap {
    /// A map of one field.
    ///
    /// # Example
    ///
    /// ```
    /// let p = connectors::hubspot::PropertyMap::new("address.city", "city");
    /// assert_eq!(p.canonical, "address.city");
    /// ```
    pub fn new(canonical: impl Into<String>, hubspot: impl Into<String>) -> Self {
        PropertyMap {
            canonical: canonical.into(),
            hubspot: hubspot.into(),
        }
    }
}

/// The built-in map of companies to clients.
///
/// # Example
///
/// ```
/// let m = connectors::hubspot::company_properties();
/// assert!(m.iter().any(|p| p.canonical == "legal_name" && p.hubspot == "name"));
/// ```
pub fn company_properties() -> Vec<PropertyMap> {
    [
        ("legal_name", "name"),
        ("website", "website"),
        ("industry", "industry"),
        ("address.street", "address"),
        ("address.city", "city"),
        ("address.postal_code", "zip"),
        ("address.country", "country"),
    ]
    .into_iter()
    .map(|(c, h)| PropertyMap::new(c, h))
    .collect()
}

/// The HubSpot connector.
///
/// # Example
///
/// ```
/// use connectors::hubspot::HubSpotConnector;
/// let hs = HubSpotConnector::new("pat-na1-secret-token")?;
/// assert!(!format!("{hs:?}").contains("secret-token"));
/// # Ok::<(), connectors::ConnectorError>(())
/// ```
#[derive(Clone)]
pub struct HubSpotConnector {
    http: reqwest::Client,
    base: Arc<str>,
    token: Arc<SecretString>,
    companies: Arc<Vec<PropertyMap>>,
}

impl fmt::Debug for HubSpotConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubSpotConnector")
            .field("base", &self.base)
            .field("token", &"[redacted]")
            .finish_non_exhaustive()
    }
}

impl HubSpotConnector {
    /// A connector for HubSpot's API with a private-app token or an OAuth
    /// access token.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Configuration`] when the HTTP client cannot be built.
    ///
    /// # Example
    ///
    /// ```
    /// let hs = connectors::hubspot::HubSpotConnector::new("pat-na1-…")?;
    /// # let _ = hs;
    /// # Ok::<(), connectors::ConnectorError>(())
    /// ```
    pub fn new(token: impl Into<String>) -> Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("connectors/", env!("CARGO_PKG_VERSION")))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| {
                ConnectorError::new(
                    ErrorKind::Configuration,
                    format!("cannot build the HTTP client: {e}"),
                )
            })?;
        Ok(HubSpotConnector {
            http,
            base: Arc::from(API),
            token: Arc::new(SecretString::from(token.into())),
            companies: Arc::new(company_properties()),
        })
    }

    /// Talks to another address (a test server, a proxy).
    ///
    /// # Example
    ///
    /// ```
    /// let hs = connectors::hubspot::HubSpotConnector::new("t")?.base_url("http://127.0.0.1:9");
    /// # let _ = hs;
    /// # Ok::<(), connectors::ConnectorError>(())
    /// ```
    #[must_use]
    pub fn base_url(mut self, url: &str) -> Self {
        self.base = Arc::from(url.trim_end_matches('/'));
        self
    }

    /// Replaces the company ⇄ client property map.
    ///
    /// # Example
    ///
    /// ```
    /// use connectors::hubspot::{company_properties, HubSpotConnector, PropertyMap};
    /// let mut map = company_properties();
    /// map.push(PropertyMap::new("tax_id", "vat_number")); // a custom property
    /// let hs = HubSpotConnector::new("t")?.company_map(map);
    /// # let _ = hs;
    /// # Ok::<(), connectors::ConnectorError>(())
    /// ```
    #[must_use]
    pub fn company_map(mut self, map: Vec<PropertyMap>) -> Self {
        self.companies = Arc::new(map);
        self
    }

    /// POSTs JSON and decodes the JSON answer, or HubSpot's error.
    async fn post(&self, path: &str, body: &Value) -> Result<Value> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| ConnectorError::new(ErrorKind::Mapping, format!("encoding: {e}")))?;
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(self.token.expose_secret())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "application/json")
            .body(bytes)
            .send()
            .await
            .map_err(|e| {
                // reqwest's message names the URL, never the headers.
                ConnectorError::new(ErrorKind::Transport, format!("POST {path}: {e}"))
                    .with_system(SystemId::hubspot())
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await.map_err(|e| {
            ConnectorError::new(ErrorKind::Transport, format!("POST {path}: reading: {e}"))
                .with_system(SystemId::hubspot())
        })?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| {
                ConnectorError::new(
                    ErrorKind::Protocol,
                    format!("POST {path}: not the JSON HubSpot sends: {e}"),
                )
                .with_system(SystemId::hubspot())
            });
        }
        Err(api_error(status.as_u16(), &bytes, retry_after).with_system(SystemId::hubspot()))
    }
}

/// HubSpot's error body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    correlation_id: String,
}

/// An HTTP error in HubSpot's shape (or a proxy's page) as a typed error.
pub(crate) fn api_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> ConnectorError {
    let parsed: Option<ApiError> = serde_json::from_slice(body).ok();
    let message = match &parsed {
        Some(e) if !e.correlation_id.is_empty() => format!(
            "HTTP {status} {}: {} (correlation id {})",
            e.category, e.message, e.correlation_id
        ),
        Some(e) => format!("HTTP {status} {}: {}", e.category, e.message),
        None => format!("HTTP {status} with a body that is not HubSpot's error"),
    };
    let category = parsed.as_ref().map_or("", |e| e.category.as_str());
    let kind = match (status, category) {
        (429, _) | (_, "RATE_LIMITS") => {
            return ConnectorError::rate_limited(message, retry_after);
        }
        (401, _) | (_, "INVALID_AUTHENTICATION") | (_, "EXPIRED_AUTHENTICATION") => {
            ErrorKind::Unauthorized
        }
        (403, _) | (_, "MISSING_SCOPES") => ErrorKind::Forbidden,
        (404, _) | (_, "OBJECT_NOT_FOUND") => ErrorKind::NotFound,
        (409, _) | (_, "CONFLICT") => ErrorKind::Conflict,
        (400 | 422, _) | (_, "VALIDATION_ERROR") => ErrorKind::Invalid,
        (500..=599, _) => ErrorKind::Unavailable,
        _ => ErrorKind::Protocol,
    };
    ConnectorError::new(kind, message)
}

/// Where an incremental read stands: the last modification time handed
/// out and the ids of that millisecond already handed out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct SearchCursor {
    /// Milliseconds since the epoch.
    since: i64,
    /// Ids modified at `since` already read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen: Vec<String>,
    /// Paging inside one millisecond with more records than a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
}

/// One object of a search answer.
#[derive(Debug, Deserialize)]
struct Found {
    id: String,
    #[serde(default)]
    properties: Map<String, Value>,
}

impl HubSpotConnector {
    fn properties(&self) -> Vec<String> {
        let mut p: Vec<String> = self.companies.iter().map(|m| m.hubspot.clone()).collect();
        p.push("hs_lastmodifieddate".into());
        p.sort();
        p.dedup();
        p
    }

    fn decode_company(&self, found: &Found) -> Result<Client> {
        let mut client = Client::default();
        for m in self.companies.iter() {
            let value = match found.properties.get(&m.hubspot) {
                Some(Value::String(s)) if !s.is_empty() => FieldValue::Text(s.clone()),
                _ => FieldValue::Null,
            };
            // legal_name is text, not optional: an empty one stays empty.
            let value = match (&value, client.get(&m.canonical)) {
                (FieldValue::Null, Some(FieldValue::Text(_))) => FieldValue::Text(String::new()),
                _ => value,
            };
            client.set(&m.canonical, value).map_err(|e| {
                ConnectorError::new(ErrorKind::Configuration, format!("companies: {e}"))
            })?;
        }
        Ok(client)
    }
}

fn modified_ms(found: &Found) -> Result<i64> {
    let raw = found
        .properties
        .get("hs_lastmodifieddate")
        .and_then(Value::as_str)
        .unwrap_or_default();
    // HubSpot writes it as an ISO 8601 instant (search results) or as
    // epoch milliseconds (some older answers).
    raw.parse::<i64>()
        .ok()
        .or_else(|| {
            DateTime::parse_from_rfc3339(raw)
                .ok()
                .map(|t| t.timestamp_millis())
        })
        .ok_or_else(|| {
            ConnectorError::new(
                ErrorKind::Protocol,
                format!(
                    "company {} has no readable hs_lastmodifieddate: `{raw}`",
                    found.id
                ),
            )
            .with_system(SystemId::hubspot())
        })
}

impl Connector for HubSpotConnector {
    fn system(&self) -> SystemId {
        SystemId::hubspot()
    }
    fn capabilities(&self) -> Capabilities {
        // HubSpot's documented burst limit for private apps is 100 (or
        // 190) requests per 10 seconds; search is limited to 5 per second.
        Capabilities::new()
            .reads(["client"])
            .incremental(true)
            .rate_limit(Quota::per_second(4).burst(4))
    }
}

#[async_trait]
impl Source<Client> for HubSpotConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<Client>> {
        let cursor: SearchCursor = match since {
            Some(c) => serde_json::from_str(c.as_str()).map_err(|e| {
                ConnectorError::new(
                    ErrorKind::Configuration,
                    format!("not a HubSpot cursor: {e}"),
                )
            })?,
            None => SearchCursor::default(),
        };
        let limit = limit.clamp(1, 100);
        let mut body = json!({
            "filterGroups": [{"filters": [{
                "propertyName": "hs_lastmodifieddate",
                "operator": "GTE",
                "value": cursor.since.to_string(),
            }]}],
            "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}],
            "properties": self.properties(),
            "limit": limit,
        });
        if let Some(after) = &cursor.after {
            body["after"] = Value::String(after.clone());
        }
        let answer = self.post("/crm/v3/objects/companies/search", &body).await?;
        let found: Vec<Found> = serde_json::from_value(
            answer
                .get("results")
                .cloned()
                .unwrap_or(Value::Array(Vec::new())),
        )
        .map_err(|e| {
            ConnectorError::new(ErrorKind::Protocol, format!("search results: {e}"))
                .with_system(SystemId::hubspot())
        })?;
        let next_after = answer
            .pointer("/paging/next/after")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut changes = Vec::with_capacity(found.len());
        let mut next = cursor.clone();
        next.after = None;
        for f in &found {
            let ms = modified_ms(f)?;
            if ms == cursor.since && cursor.seen.contains(&f.id) {
                continue; // handed out by an earlier read
            }
            let at = DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default();
            changes.push(SourceChange::upsert(
                f.id.clone(),
                at,
                self.decode_company(f)?,
            ));
            if ms > next.since {
                next.since = ms;
                next.seen.clear();
            }
            if ms == next.since {
                next.seen.push(f.id.clone());
            }
        }
        // HubSpot says whether more results follow. A page that ended in
        // the millisecond it started from (a burst of changes in one
        // millisecond) goes on with `after` in the same search; otherwise
        // the next read starts a new search from the last millisecond
        // read, so no search pages far.
        let more = next_after.is_some();
        if next.since == cursor.since {
            next.after = next_after;
        }
        let encoded = serde_json::to_string(&next)
            .map_err(|e| ConnectorError::new(ErrorKind::Protocol, format!("cursor: {e}")))?;
        Ok(Page {
            changes,
            next: Cursor::new(encoded),
            has_more: more,
        })
    }
}
