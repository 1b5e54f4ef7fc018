//! The HubSpot connector (feature `hubspot`): CRM v3 objects over a
//! private-app token or an OAuth access token.
//!
//! **Status.** Companies ⇄ [`Client`] are read incrementally and
//! written; webhook requests are verified ([`WebhookVerifier`]) and their
//! event batches read and deduplicated ([`WebhookEvent`],
//! [`Deduplicator`]) and turned into changes
//! ([`HubSpotConnector::company_changes`]). Contacts, deals, line items
//! and associations are to come.
//!
//! **Writing.** In batches of 100. A record HubSpot already has (the
//! pipeline knows its id) is updated by id (`batch/update`); a new one is
//! upserted by its origin key in a unique property of yours
//! ([`HubSpotConnector::sync_property`]) through `batch/upsert`, so a
//! replayed batch never creates a company twice. Only the fields the
//! policy let through are sent; an empty value clears the property. A
//! partly failed batch (HTTP 207) fails only the records it names. A
//! delete archives (`batch/archive`).
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

mod webhook;

pub use webhook::{Deduplicator, WebhookEvent, WebhookVerifier};

use crate::connector::{
    Capabilities, Connector, Cursor, Operation, Outcome, Page, Sink, SinkRecord, Source,
    SourceChange, fill_outcomes,
};
use crate::error::{ConnectorError, ErrorKind, Result};
use crate::rate_limit::Quota;
use async_trait::async_trait;
use canonical_model::{Client, Entity, FieldValue, RemoteId, SystemId};
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
    sync_property: Arc<str>,
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
            sync_property: Arc::from("integration_sync_id"),
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

    /// The unique-value property that holds a record's origin key
    /// (`system:id`), through which a record new to HubSpot is upserted, so
    /// that a replayed batch updates instead of creating twice. Create it
    /// in HubSpot (single-line text, "require unique values") on each
    /// object you write; default `integration_sync_id`.
    ///
    /// # Example
    ///
    /// ```
    /// let hs = connectors::hubspot::HubSpotConnector::new("t")?.sync_property("odoo_key");
    /// # let _ = hs;
    /// # Ok::<(), connectors::ConnectorError>(())
    /// ```
    #[must_use]
    pub fn sync_property(mut self, name: &str) -> Self {
        self.sync_property = Arc::from(name);
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
        if status.is_success() && bytes.is_empty() {
            return Ok(Value::Null); // 204 No Content
        }
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
            let text = found.properties.get(&m.hubspot).and_then(Value::as_str);
            set_text(&mut client, &m.canonical, text)?;
        }
        Ok(client)
    }
}

/// Sets a field from a HubSpot property value (always text on the wire):
/// empty or absent is no value, except for a field that is plain text
/// (`legal_name`), which stays empty text.
fn set_text(client: &mut Client, field: &str, text: Option<&str>) -> Result<()> {
    let value = match text.filter(|t| !t.is_empty()) {
        Some(t) => FieldValue::Text(t.to_owned()),
        None if matches!(client.get(field), Some(FieldValue::Text(_))) => {
            FieldValue::Text(String::new())
        }
        None => FieldValue::Null,
    };
    client
        .set(field, value)
        .map_err(|e| ConnectorError::new(ErrorKind::Configuration, format!("companies: {e}")))
}

/// The objects of a search or batch read answer.
fn results(answer: &Value, what: &str) -> Result<Vec<Found>> {
    let Some(results) = answer.get("results") else {
        return Ok(Vec::new());
    };
    Vec::<Found>::deserialize(results).map_err(|e| {
        ConnectorError::new(ErrorKind::Protocol, format!("{what}: {e}"))
            .with_system(SystemId::hubspot())
    })
}

/// A batch request's body: `{"inputs": [...]}`.
fn batch_body<'a>(values: impl Iterator<Item = &'a Value>) -> Value {
    json!({ "inputs": values.collect::<Vec<_>>() })
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
            .writes(["client"])
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
        let found = results(&answer, "search results")?;
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

/// A batch answer: the objects written, and the errors of a 207.
#[derive(Debug, Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    results: Vec<Written>,
    #[serde(default)]
    errors: Vec<BatchError>,
}

#[derive(Debug, Deserialize)]
struct Written {
    id: String,
    /// Upsert only: whether it was created.
    #[serde(default)]
    new: Option<bool>,
    #[serde(default)]
    properties: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct BatchError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    category: String,
    /// Which inputs it concerns, by id (`{"ids": [...]}`), when HubSpot says.
    #[serde(default)]
    context: Map<String, Value>,
}

impl BatchError {
    fn ids(&self) -> Vec<String> {
        self.context
            .values()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    }

    fn to_error(&self) -> ConnectorError {
        let kind = match self.category.as_str() {
            "OBJECT_NOT_FOUND" => ErrorKind::NotFound,
            "CONFLICT" | "OBJECT_ALREADY_EXISTS" => ErrorKind::Conflict,
            "RATE_LIMITS" => ErrorKind::RateLimited,
            _ => ErrorKind::Invalid,
        };
        ConnectorError::new(kind, format!("{}: {}", self.category, self.message))
            .with_system(SystemId::hubspot())
    }
}

impl HubSpotConnector {
    /// The properties to send for `record`: the mapped fields it carries
    /// (all of them for a new record), as HubSpot's strings.
    fn company_properties(&self, record: &SinkRecord<Client>, data: &Client) -> Map<String, Value> {
        let mut out = Map::new();
        for m in self
            .companies
            .iter()
            .filter(|m| record.writes(&m.canonical))
        {
            let text = match data.get(&m.canonical) {
                Some(FieldValue::Null) | None => String::new(),
                Some(v) => v.to_string(),
            };
            out.insert(m.hubspot.clone(), Value::String(text));
        }
        out
    }

    /// Sends one kind of batch and gives each input's outcome, matching
    /// answers to inputs by `key` (the id, or the sync property).
    async fn write_batch(
        &self,
        path: &str,
        inputs: Vec<(usize, String, Value)>,
        key_of: impl Fn(&Written) -> Option<String>,
        updating: bool,
        out: &mut [Option<Outcome>],
    ) -> Result<()> {
        for chunk in inputs.chunks(100) {
            let body = batch_body(chunk.iter().map(|(_, _, v)| v));
            let answer: BatchAnswer = serde_json::from_value(self.post(path, &body).await?)
                .map_err(|e| {
                    ConnectorError::new(ErrorKind::Protocol, format!("POST {path}: {e}"))
                        .with_system(SystemId::hubspot())
                })?;
            let written: std::collections::HashMap<String, &Written> = answer
                .results
                .iter()
                .filter_map(|w| key_of(w).map(|k| (k, w)))
                .collect();
            for (i, key, _) in chunk {
                out[*i] = Some(match written.get(key) {
                    Some(w) => {
                        let id = RemoteId::new(w.id.clone());
                        match (updating, w.new) {
                            (false, Some(true)) => Outcome::Created(id),
                            _ => Outcome::Updated(id),
                        }
                    }
                    None => {
                        let error = answer
                            .errors
                            .iter()
                            .find(|e| e.ids().iter().any(|id| id == key))
                            .or(answer.errors.first())
                            .map(BatchError::to_error)
                            .unwrap_or_else(|| {
                                ConnectorError::new(
                                    ErrorKind::Protocol,
                                    format!("POST {path}: no result for {key}"),
                                )
                                .with_system(SystemId::hubspot())
                            });
                        Outcome::Failed(error)
                    }
                });
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Sink<Client> for HubSpotConnector {
    async fn apply(&self, batch: Vec<SinkRecord<Client>>) -> Result<Vec<Outcome>> {
        let mut out: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
        let mut updates = Vec::new();
        let mut upserts = Vec::new();
        let mut archives = Vec::new();
        for (i, record) in batch.iter().enumerate() {
            match (&record.operation, &record.target_id) {
                (Operation::Delete, Some(id)) => {
                    archives.push((i, id.to_string(), json!({"id": id.as_str()})));
                }
                // Never written to HubSpot: nothing to archive.
                (Operation::Delete, None) => {
                    out[i] = Some(Outcome::Unchanged(record.origin_id.clone()))
                }
                (Operation::Upsert(data), Some(id)) => {
                    let properties = self.company_properties(record, data);
                    if properties.is_empty() {
                        out[i] = Some(Outcome::Unchanged(id.clone()));
                    } else {
                        updates.push((
                            i,
                            id.to_string(),
                            json!({"id": id.as_str(), "properties": properties}),
                        ));
                    }
                }
                (Operation::Upsert(data), None) => {
                    let key = format!("{}:{}", record.origin, record.origin_id);
                    let mut properties = self.company_properties(record, data);
                    properties.insert(self.sync_property.to_string(), Value::String(key.clone()));
                    upserts.push((
                        i,
                        key.clone(),
                        json!({"idProperty": &*self.sync_property, "id": key, "properties": properties}),
                    ));
                }
            }
        }
        let by_id = |w: &Written| Some(w.id.clone());
        let sync = self.sync_property.clone();
        let by_key = move |w: &Written| {
            w.properties
                .get(&*sync)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        self.write_batch(
            "/crm/v3/objects/companies/batch/update",
            updates,
            by_id,
            true,
            &mut out,
        )
        .await?;
        self.write_batch(
            "/crm/v3/objects/companies/batch/upsert",
            upserts,
            by_key,
            false,
            &mut out,
        )
        .await?;
        for chunk in archives.chunks(100) {
            let body = batch_body(chunk.iter().map(|(_, _, v)| v));
            // 204 No Content: the archive answers no body.
            self.post("/crm/v3/objects/companies/batch/archive", &body)
                .await?;
            for (i, id, _) in chunk {
                out[*i] = Some(Outcome::Deleted(RemoteId::new(id.clone())));
            }
        }
        Ok(fill_outcomes(out, "record not sent"))
    }
}

impl HubSpotConnector {
    /// Turns a webhook batch into changes of companies, for a pipeline fed
    /// by webhooks instead of (or besides) polling.
    ///
    /// Property changes of one company are combined into one change that
    /// names only the fields they touch (the latest value of each wins), so
    /// nothing else of the record is cleared; a deletion is a delete; a
    /// created, restored or merged company is read whole (`batch/read`).
    /// Events of other objects and of unmapped properties are skipped.
    ///
    /// # Errors
    ///
    /// Reading the created companies failed.
    ///
    /// # Example
    ///
    /// ```
    /// # async fn f(hs: connectors::hubspot::HubSpotConnector, body: &[u8]) -> connectors::Result<()> {
    /// use connectors::hubspot::{Deduplicator, WebhookEvent};
    /// let mut seen = Deduplicator::new(100_000);
    /// let events = seen.fresh(WebhookEvent::parse_batch(body)?);
    /// let changes = hs.company_changes(&events).await?;
    /// # let _ = changes; Ok(()) }
    /// ```
    pub async fn company_changes(
        &self,
        events: &[WebhookEvent],
    ) -> Result<Vec<SourceChange<Client>>> {
        use std::collections::{BTreeMap, BTreeSet};
        // object id → property → (when, value)
        let mut touched: BTreeMap<u64, BTreeMap<String, (i64, Option<String>)>> = BTreeMap::new();
        let mut deleted: BTreeMap<u64, i64> = BTreeMap::new();
        let mut fetch: BTreeSet<u64> = BTreeSet::new();
        for e in events {
            match e.subscription_type.as_str() {
                "company.propertyChange" => {
                    let Some(name) = &e.property_name else {
                        continue;
                    };
                    let slot = touched.entry(e.object_id).or_default();
                    let newer = slot.get(name).is_none_or(|(t, _)| *t <= e.occurred_at);
                    if newer {
                        slot.insert(name.clone(), (e.occurred_at, e.property_value.clone()));
                    }
                }
                "company.deletion" => {
                    deleted.insert(e.object_id, e.occurred_at);
                }
                "company.creation" | "company.restore" | "company.merge" => {
                    fetch.insert(e.object_id);
                }
                _ => {}
            }
        }
        let mut changes = Vec::new();
        for (id, props) in touched {
            if deleted.contains_key(&id) || fetch.contains(&id) {
                continue; // the delete, or the whole record, says more
            }
            let mut client = Client::default();
            let mut fields = Vec::new();
            let mut at = 0;
            for (property, (when, value)) in props {
                let Some(m) = self.companies.iter().find(|m| m.hubspot == property) else {
                    continue;
                };
                set_text(&mut client, &m.canonical, value.as_deref())?;
                fields.push(m.canonical.clone());
                at = at.max(when);
            }
            if !fields.is_empty() {
                let when = DateTime::<Utc>::from_timestamp_millis(at).unwrap_or_default();
                changes
                    .push(SourceChange::upsert(id.to_string(), when, client).with_fields(fields));
            }
        }
        for (&id, &when) in &deleted {
            let when = DateTime::<Utc>::from_timestamp_millis(when).unwrap_or_default();
            changes.push(SourceChange::delete(id.to_string(), when));
        }
        // A company created and deleted in one batch is only deleted.
        let fetch: Vec<u64> = fetch
            .difference(&deleted.keys().copied().collect())
            .copied()
            .collect();
        for chunk in fetch.chunks(100) {
            let body = json!({
                "properties": self.properties(),
                "inputs": chunk.iter().map(|id| json!({"id": id.to_string()})).collect::<Vec<_>>(),
            });
            let answer = self
                .post("/crm/v3/objects/companies/batch/read", &body)
                .await?;
            let found = results(&answer, "batch read")?;
            for f in &found {
                let at =
                    DateTime::<Utc>::from_timestamp_millis(modified_ms(f)?).unwrap_or_default();
                changes.push(SourceChange::upsert(
                    f.id.clone(),
                    at,
                    self.decode_company(f)?,
                ));
            }
        }
        Ok(changes)
    }
}
