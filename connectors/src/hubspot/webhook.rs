//! Webhooks from HubSpot: the v3 request signature, event batches read,
//! and a receiver that does both and drops events already handled.

use super::dedup::{DedupStore, Deduplicator, EventKey};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use odoo_integration_model::SystemId;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Checks the `X-HubSpot-Signature-v3` of a webhook request: an
/// HMAC-SHA256, keyed by the app's client secret, of the method, the URI,
/// the body and the `X-HubSpot-Request-Timestamp`, base64-encoded.
/// A timestamp more than five minutes from `now`, either way, is refused,
/// so a captured request cannot be replayed later than that; within the
/// window it can (see [`WebhookReceiver`]).
/// The comparison takes the same time whatever the signature.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::WebhookVerifier;
/// let v = WebhookVerifier::new("client-secret");
/// let now = chrono::Utc::now();
/// let ts = now.timestamp_millis().to_string();
/// let err = v.verify("POST", "https://hooks.example.com/hubspot", b"[]", &ts, "bm9wZQ==", now).unwrap_err();
/// assert_eq!(err.kind(), odoo_integration_connectors::ConnectorErrorKind::Unauthorized);
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
    /// let v = odoo_integration_connectors::hubspot::WebhookVerifier::new("client-secret");
    /// assert!(!format!("{v:?}").contains("client-secret"));
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
    /// [`ConnectorErrorKind::Unauthorized`] when the timestamp is missing, more
    /// than five minutes before or after `now`, or the signature does not
    /// match (a malformed `uri` is a mismatch, never a panic).
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
            ConnectorError::new(
                ConnectorErrorKind::Unauthorized,
                format!("webhook refused: {why}"),
            )
            .with_system(SystemId::hubspot())
        };
        let sent: i64 = timestamp
            .trim()
            .parse()
            .map_err(|_| refuse("no readable X-HubSpot-Request-Timestamp"))?;
        let age = now.timestamp_millis().saturating_sub(sent);
        let limit = i64::try_from(self.max_age.as_millis()).unwrap_or(i64::MAX);
        if age > limit || age < -limit {
            return Err(refuse(
                "the request timestamp is more than five minutes from now",
            ));
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
/// let events = odoo_integration_connectors::hubspot::WebhookEvent::parse_batch(
///     br#"[{"eventId":1,"subscriptionType":"company.deletion","objectId":981,"occurredAt":1795000000000}]"#)?;
/// assert_eq!(events[0].object_id, 981);
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
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
    /// For a merge (`contact.merge`, …): the record that remains.
    #[serde(default)]
    pub primary_object_id: Option<u64>,
    /// For a merge: the records merged into it, which are gone.
    #[serde(default)]
    pub merged_object_ids: Vec<u64>,
}

impl WebhookEvent {
    /// Reads a webhook request's body (an array of events).
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Protocol`] when it is not such an array.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::hubspot::WebhookEvent::parse_batch(b"{not json").is_err());
    /// ```
    pub fn parse_batch(body: &[u8]) -> Result<Vec<WebhookEvent>> {
        serde_json::from_slice(body).map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::Protocol,
                format!("not a HubSpot webhook batch: {e}"),
            )
            .with_system(SystemId::hubspot())
        })
    }

    /// The key that tells this event from every other ([`EventKey`]).
    ///
    /// # Example
    ///
    /// ```
    /// let e = &odoo_integration_connectors::hubspot::WebhookEvent::parse_batch(
    ///     br#"[{"eventId":1,"subscriptionType":"deal.creation","objectId":9,"occurredAt":5}]"#)?[0];
    /// assert_eq!(e.key().event_id, 1);
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn key(&self) -> EventKey {
        EventKey::of(self)
    }
}

/// How many event keys a [`WebhookReceiver`] remembers when it uses the
/// in-memory [`Deduplicator`].
pub const DEFAULT_DEDUP_CAPACITY: usize = 100_000;

/// Receives webhook requests: checks the signature ([`WebhookVerifier`]),
/// reads the batch, and hands out only the events not handled before,
/// remembered in a [`DedupStore`]. Default: an in-memory
/// [`Deduplicator`] of [`DEFAULT_DEDUP_CAPACITY`] keys; give it a
/// persistent store with [`dedup_store`](Self::dedup_store).
///
/// **Replays.** Two checks stop a request from being handled twice, and
/// each has limits:
///
/// - The signature covers `X-HubSpot-Request-Timestamp`, and
///   [`WebhookVerifier`] refuses a timestamp more than **five minutes**
///   from `now`, **either way** (late, or ahead of our clock). A request
///   captured and replayed within that window verifies again; so does
///   every retry of HubSpot's own, which is a new request with a new
///   timestamp and signature.
/// - So events are also deduplicated by their [`EventKey`]. The default
///   store, the in-memory [`Deduplicator`], remembers a bounded number of
///   keys (the oldest forgotten first), **forgets them all on restart**
///   and is **per process**: behind a load balancer each replica has its
///   own. Any [`DedupStore`] can take its place (a table with a unique
///   index on the key, shared by every replica).
///
/// An event is remembered when it is handed out. If handling it fails,
/// [`forget`](Self::forget) it and answer HubSpot with a 5xx, so the
/// redelivery is handled again.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::{WebhookReceiver, WebhookVerifier};
/// # use base64::Engine as _;
/// # use hmac::{Hmac, Mac};
/// # fn sign(secret: &str, uri: &str, body: &[u8], ts: &str) -> String {
/// #     let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
/// #     for part in [b"POST".as_slice(), uri.as_bytes(), body, ts.as_bytes()] {
/// #         mac.update(part);
/// #     }
/// #     base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
/// # }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // A request as HubSpot sends it: the body, and the X-HubSpot-Request-Timestamp
/// // and X-HubSpot-Signature-v3 headers.
/// let uri = "https://hooks.example.com/hubspot";
/// let body = br#"[{"eventId":1,"subscriptionType":"deal.creation","objectId":9,"occurredAt":5}]"#;
/// # let ts = chrono::Utc::now().timestamp_millis().to_string();
/// # let sig = sign("client-secret", uri, body, &ts);
/// let receiver = WebhookReceiver::new(WebhookVerifier::new("client-secret"));
/// let events = receiver.receive("POST", uri, body, &ts, &sig, chrono::Utc::now()).await?;
/// assert_eq!(events.len(), 1);
/// // A redelivery: already handled.
/// assert!(receiver.receive("POST", uri, body, &ts, &sig, chrono::Utc::now()).await?.is_empty());
/// // ... handle `events`; on failure forget them, so the redelivery is handled:
/// receiver.forget(&events).await?;
/// assert_eq!(receiver.receive("POST", uri, body, &ts, &sig, chrono::Utc::now()).await?.len(), 1);
/// # Ok(()) }
/// ```
pub struct WebhookReceiver {
    verifier: WebhookVerifier,
    seen: Arc<dyn DedupStore>,
}

impl fmt::Debug for WebhookReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookReceiver")
            .field("verifier", &self.verifier)
            .finish_non_exhaustive()
    }
}

impl WebhookReceiver {
    /// A receiver checking signatures with `verifier`, remembering events
    /// in memory.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::hubspot::{WebhookEvent, WebhookReceiver, WebhookVerifier};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let r = WebhookReceiver::new(WebhookVerifier::new("client-secret"));
    /// let batch = WebhookEvent::parse_batch(
    ///     br#"[{"eventId":1,"subscriptionType":"deal.creation","objectId":9,"occurredAt":5}]"#)?;
    /// assert_eq!(r.fresh(batch.clone()).await?.len(), 1);
    /// assert!(r.fresh(batch).await?.is_empty()); // remembered, in memory
    /// # Ok(()) }
    /// ```
    pub fn new(verifier: WebhookVerifier) -> Self {
        WebhookReceiver {
            verifier,
            seen: Arc::new(Deduplicator::new(DEFAULT_DEDUP_CAPACITY)),
        }
    }

    /// Remembers events in `store` instead of in memory. Default: an
    /// in-memory [`Deduplicator`] of [`DEFAULT_DEDUP_CAPACITY`] keys.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::hubspot::{Deduplicator, WebhookEvent, WebhookReceiver, WebhookVerifier};
    /// use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// // Two receivers (say two replicas) sharing one store.
    /// let shared = Arc::new(Deduplicator::new(1_000_000));
    /// let a = WebhookReceiver::new(WebhookVerifier::new("client-secret")).dedup_store(shared.clone());
    /// let b = WebhookReceiver::new(WebhookVerifier::new("client-secret")).dedup_store(shared);
    /// let batch = WebhookEvent::parse_batch(
    ///     br#"[{"eventId":1,"subscriptionType":"deal.creation","objectId":9,"occurredAt":5}]"#)?;
    /// assert_eq!(a.fresh(batch.clone()).await?.len(), 1);
    /// assert!(b.fresh(batch).await?.is_empty()); // handled by the other
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn dedup_store(mut self, store: Arc<dyn DedupStore>) -> Self {
        self.seen = store;
        self
    }

    /// Checks a request ([`WebhookVerifier::verify`], same arguments),
    /// reads its batch, and answers the events not handled before, in
    /// their order.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Unauthorized`] when the request does not verify,
    /// [`ConnectorErrorKind::Protocol`] when the body is not a batch, and the
    /// store's error when it fails (no event of the batch is remembered
    /// then).
    ///
    /// # Example
    ///
    /// See [`WebhookReceiver`].
    pub async fn receive(
        &self,
        method: &str,
        uri: &str,
        body: &[u8],
        timestamp: &str,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<WebhookEvent>> {
        self.verifier
            .verify(method, uri, body, timestamp, signature, now)?;
        self.fresh(WebhookEvent::parse_batch(body)?).await
    }

    /// The events not handled before, in their order; they are
    /// remembered. For events you verified and read yourself.
    ///
    /// # Errors
    ///
    /// The store failed; the events of this call it had remembered are
    /// forgotten again, as far as the store lets.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::hubspot::{WebhookEvent, WebhookReceiver, WebhookVerifier};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let r = WebhookReceiver::new(WebhookVerifier::new("client-secret"));
    /// let batch = WebhookEvent::parse_batch(
    ///     br#"[{"eventId":1,"subscriptionType":"deal.creation","objectId":9,"occurredAt":5}]"#)?;
    /// assert_eq!(r.fresh(batch.clone()).await?.len(), 1);
    /// assert!(r.fresh(batch).await?.is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn fresh(&self, events: Vec<WebhookEvent>) -> Result<Vec<WebhookEvent>> {
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            match self.seen.insert(&event.key()).await {
                Ok(true) => out.push(event),
                Ok(false) => {}
                Err(e) => {
                    // Undo this call's marks, so the redelivery of the
                    // batch is handled whole.
                    if let Err(undo) = self.forget(&out).await {
                        tracing::warn!(
                            error = %undo,
                            "hubspot webhooks: events remembered before a store failure could not be forgotten"
                        );
                    }
                    return Err(e);
                }
            }
        }
        Ok(out)
    }

    /// Forgets `events`, so they are handled again when HubSpot
    /// redelivers them (after their handling failed).
    ///
    /// # Errors
    ///
    /// The store failed.
    ///
    /// # Example
    ///
    /// See [`WebhookReceiver`].
    pub async fn forget(&self, events: &[WebhookEvent]) -> Result<()> {
        for event in events {
            self.seen.remove(&event.key()).await?;
        }
        Ok(())
    }
}
