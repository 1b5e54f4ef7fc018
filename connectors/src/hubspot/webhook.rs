//! Webhooks from HubSpot: the v3 request signature, and event batches
//! read and deduplicated.

use crate::error::{ConnectorError, ErrorKind, Result};
use base64::Engine as _;
use canonical_model::SystemId;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::{HashSet, VecDeque};
use std::fmt;
use std::time::Duration;

/// Checks the `X-HubSpot-Signature-v3` of a webhook request: an
/// HMAC-SHA256, keyed by the app's client secret, of the method, the URI,
/// the body and the `X-HubSpot-Request-Timestamp`, base64-encoded.
/// Requests older than five minutes are refused, so a captured request
/// cannot be replayed later. The comparison takes the same time whatever
/// the signature.
///
/// # Example
///
/// ```
/// use connectors::hubspot::WebhookVerifier;
/// let v = WebhookVerifier::new("client-secret");
/// let now = chrono::Utc::now();
/// let ts = now.timestamp_millis().to_string();
/// let err = v.verify("POST", "https://hooks.example.com/hubspot", b"[]", &ts, "bm9wZQ==", now).unwrap_err();
/// assert_eq!(err.kind(), connectors::ErrorKind::Unauthorized);
/// assert!(!format!("{v:?}").contains("client-secret"));
/// ```
pub struct WebhookVerifier {
    secret: SecretString,
    max_age: Duration,
}

impl fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookVerifier")
            .field("secret", &"[redacted]")
            .field("max_age", &self.max_age)
            .finish()
    }
}

impl WebhookVerifier {
    /// A verifier with the app's client secret.
    ///
    /// # Example
    ///
    /// ```
    /// let _v = connectors::hubspot::WebhookVerifier::new("client-secret");
    /// ```
    pub fn new(client_secret: impl Into<String>) -> Self {
        WebhookVerifier {
            secret: SecretString::from(client_secret.into()),
            max_age: Duration::from_secs(300),
        }
    }

    /// Checks a request. `uri` is the full URL HubSpot called (scheme,
    /// host, path and query, as configured in the app); `timestamp` and
    /// `signature` are the two headers' values; `now` is the current time.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unauthorized`] when the timestamp is missing, more
    /// than five minutes off, or the signature does not match.
    ///
    /// # Example
    ///
    /// See [`WebhookVerifier`].
    pub fn verify(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
        timestamp: &str,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let refuse = |why: &str| {
            ConnectorError::new(ErrorKind::Unauthorized, format!("webhook refused: {why}"))
                .with_system(SystemId::hubspot())
        };
        let sent: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| refuse("no readable X-HubSpot-Request-Timestamp"))?;
        let age = now.timestamp_millis().saturating_sub(sent);
        let limit = i64::try_from(self.max_age.as_millis()).unwrap_or(i64::MAX);
        if age > limit || age < -limit {
            return Err(refuse("the request is more than five minutes old"));
        }
        let expected = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| refuse("the signature is not base64"))?;
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.expose_secret().as_bytes())
            .map_err(|_| refuse("the client secret cannot key an HMAC"))?;
        mac.update(method.as_bytes());
        mac.update(&decode_uri(uri));
        mac.update(body);
        mac.update(timestamp.trim().as_bytes());
        mac.verify_slice(&expected)
            .map_err(|_| refuse("the signature does not match"))
    }
}

/// The URI as HubSpot signs it: these escapes (in either case) decoded,
/// everything else, broken escapes and non-ASCII included, byte for
/// byte. Works on bytes, so no input can split a UTF-8 character.
fn decode_uri(uri: &str) -> Vec<u8> {
    const TABLE: [(&[u8; 2], u8); 12] = [
        (b"3A", b':'),
        (b"2F", b'/'),
        (b"3F", b'?'),
        (b"40", b'@'),
        (b"21", b'!'),
        (b"24", b'$'),
        (b"27", b'\''),
        (b"28", b'('),
        (b"29", b')'),
        (b"2A", b'*'),
        (b"2C", b','),
        (b"3B", b';'),
    ];
    let bytes = uri.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%'
            && let Some(hex) = bytes.get(i + 1..i + 3)
            && let Some((_, decoded)) = TABLE
                .iter()
                .find(|(code, _)| hex.eq_ignore_ascii_case(&code[..]))
        {
            out.push(*decoded);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    out
}

/// One event of a webhook batch.
///
/// # Example
///
/// ```
/// let events = connectors::hubspot::WebhookEvent::parse_batch(
///     br#"[{"eventId":1,"subscriptionType":"company.deletion","objectId":981,"occurredAt":1795000000000}]"#)?;
/// assert_eq!(events[0].object_id, 981);
/// # Ok::<(), connectors::ConnectorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebhookEvent {
    /// HubSpot's id of the event (the same on every delivery attempt).
    pub event_id: u64,
    /// `company.creation`, `company.propertyChange`, `company.deletion`,
    /// `deal.propertyChange`, …
    pub subscription_type: String,
    /// The record.
    pub object_id: u64,
    /// When it happened, in milliseconds since the epoch.
    pub occurred_at: i64,
    /// The property, for a property change.
    #[serde(default)]
    pub property_name: Option<String>,
    /// Its new value, for a property change.
    #[serde(default)]
    pub property_value: Option<String>,
    /// Delivery attempt, from 0.
    #[serde(default)]
    pub attempt_number: u32,
}

impl WebhookEvent {
    /// Reads a webhook request's body (an array of events).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Protocol`] when it is not such an array.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(connectors::hubspot::WebhookEvent::parse_batch(b"{not json").is_err());
    /// ```
    pub fn parse_batch(body: &[u8]) -> Result<Vec<WebhookEvent>> {
        serde_json::from_slice(body).map_err(|e| {
            ConnectorError::new(
                ErrorKind::Protocol,
                format!("not a HubSpot webhook batch: {e}"),
            )
            .with_system(SystemId::hubspot())
        })
    }
}

/// Remembers the last `capacity` event ids, so an event HubSpot delivers
/// again (it retries until it gets a 2xx) is handled once.
///
/// # Example
///
/// ```
/// use connectors::hubspot::{Deduplicator, WebhookEvent};
/// let body = br#"[{"eventId":7,"subscriptionType":"company.deletion","objectId":1,"occurredAt":0},
///                  {"eventId":7,"subscriptionType":"company.deletion","objectId":1,"occurredAt":0}]"#;
/// let mut seen = Deduplicator::new(10_000);
/// assert_eq!(seen.fresh(WebhookEvent::parse_batch(body)?).len(), 1);
/// # Ok::<(), connectors::ConnectorError>(())
/// ```
#[derive(Debug)]
pub struct Deduplicator {
    ids: HashSet<u64>,
    order: VecDeque<u64>,
    capacity: usize,
}

impl Deduplicator {
    /// Remembering up to `capacity` ids (the oldest are forgotten first).
    ///
    /// # Example
    ///
    /// ```
    /// let _d = connectors::hubspot::Deduplicator::new(100_000);
    /// ```
    pub fn new(capacity: usize) -> Self {
        Deduplicator {
            ids: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// The events not seen before, in their order.
    ///
    /// # Example
    ///
    /// See [`Deduplicator`].
    pub fn fresh(&mut self, events: Vec<WebhookEvent>) -> Vec<WebhookEvent> {
        let mut out = Vec::with_capacity(events.len());
        for e in events {
            if self.ids.insert(e.event_id) {
                self.order.push_back(e.event_id);
                if self.order.len() > self.capacity
                    && let Some(old) = self.order.pop_front()
                {
                    self.ids.remove(&old);
                }
                out.push(e);
            }
        }
        out
    }
}
