//! Which webhook events were handled already: the key that makes an event
//! unique, the store that remembers keys, and the in-memory store.

use super::webhook::WebhookEvent;
use crate::error::Result;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What makes one webhook event unique: its event id, subscription type,
/// object id, property name and `occurredAt` together. HubSpot's
/// `eventId` alone is **not** unique: events about other records or
/// other properties can share it. A redelivery of an event (HubSpot retries until it gets
/// a 2xx) has the same key; only its `attemptNumber` differs.
///
/// It serialises (camelCase, like HubSpot's events) so a persistent
/// [`DedupStore`] can keep it as one JSON text or one row.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::{EventKey, WebhookEvent};
/// let events = WebhookEvent::parse_batch(br#"[
///   {"eventId":7,"subscriptionType":"company.deletion","objectId":1,"occurredAt":0},
///   {"eventId":7,"subscriptionType":"company.deletion","objectId":2,"occurredAt":0}]"#)?;
/// assert_ne!(events[0].key(), events[1].key());
/// assert_eq!(EventKey::of(&events[0]).object_id, 1);
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct EventKey {
    /// HubSpot's `eventId`.
    pub event_id: u64,
    /// `company.propertyChange`, `deal.deletion`, …
    pub subscription_type: String,
    /// The record.
    pub object_id: u64,
    /// The property, for a property change.
    pub property_name: Option<String>,
    /// When it happened, in milliseconds since the epoch.
    pub occurred_at: i64,
}

impl EventKey {
    /// The key of `event`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::hubspot::{EventKey, WebhookEvent};
    /// let e = &WebhookEvent::parse_batch(br#"[{"eventId":1,"subscriptionType":"deal.creation","objectId":9,"occurredAt":5}]"#)?[0];
    /// let key = EventKey::of(e);
    /// assert_eq!((key.event_id, key.object_id, key.occurred_at), (1, 9, 5));
    /// assert!(key.property_name.is_none());
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn of(event: &WebhookEvent) -> Self {
        EventKey {
            event_id: event.event_id,
            subscription_type: event.subscription_type.clone(),
            object_id: event.object_id,
            property_name: event.property_name.clone(),
            occurred_at: event.occurred_at,
        }
    }
}

/// Where the keys of handled webhook events are remembered, so an event
/// delivered again is handled once. Plug your own (a database table with
/// a unique index on the key, a Redis set with a TTL) into a
/// [`WebhookReceiver`](super::WebhookReceiver) when the in-memory
/// [`Deduplicator`] is not enough: it forgets everything on restart, is
/// per process (replicas behind a load balancer do not share it) and
/// holds a bounded number of keys.
///
/// Dyn-compatible: the receiver holds an `Arc<dyn DedupStore>`.
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use odoo_integration_connectors::hubspot::{DedupStore, EventKey};
/// use std::collections::HashSet;
/// use std::sync::Mutex;
///
/// /// A set a real store would keep in a database.
/// #[derive(Default)]
/// struct Table(Mutex<HashSet<EventKey>>);
///
/// #[async_trait]
/// impl DedupStore for Table {
///     async fn insert(&self, key: &EventKey) -> odoo_integration_connectors::Result<bool> {
///         Ok(self.0.lock().unwrap().insert(key.clone()))
///     }
///     async fn remove(&self, key: &EventKey) -> odoo_integration_connectors::Result<()> {
///         self.0.lock().unwrap().remove(key);
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait DedupStore: Send + Sync {
    /// Records `key` as seen. Answers `true` when it was not seen before
    /// (the event is new), `false` when it was (a duplicate). Checking
    /// and recording must be one atomic step (an insert that fails on a
    /// unique key), or two receivers could both take an event as new.
    ///
    /// # Errors
    ///
    /// The store cannot be reached or written
    /// ([`ErrorKind::Store`](crate::ConnectorErrorKind::Store)). The receiver then
    /// fails the batch, so it can be answered with a 5xx and redelivered.
    async fn insert(&self, key: &EventKey) -> Result<bool>;

    /// Forgets `key`, so the event is taken as new when it comes again
    /// (its handling failed and HubSpot is to redeliver it). Forgetting a
    /// key that is not there is not an error.
    ///
    /// # Errors
    ///
    /// The store cannot be reached or written.
    async fn remove(&self, key: &EventKey) -> Result<()>;
}

/// Remembers the keys ([`EventKey`]) of the last `capacity` events, so an
/// event HubSpot delivers again (it retries until it gets a 2xx) is
/// handled once. The default [`DedupStore`] of a
/// [`WebhookReceiver`](super::WebhookReceiver).
///
/// Its limits: it lives in memory, so it **forgets everything on
/// restart**; it is **per process**, so replicas behind a load balancer
/// each have their own; and past `capacity` keys it forgets the oldest
/// first, so a redelivery that comes after `capacity` newer events is
/// taken as new. Plug a persistent [`DedupStore`] when these matter.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::{Deduplicator, WebhookEvent};
/// let body = br#"[{"eventId":7,"subscriptionType":"company.deletion","objectId":1,"occurredAt":0},
///                  {"eventId":7,"subscriptionType":"company.deletion","objectId":1,"occurredAt":0}]"#;
/// let mut seen = Deduplicator::new(10_000);
/// assert_eq!(seen.fresh(WebhookEvent::parse_batch(body)?).len(), 1);
/// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
/// ```
#[derive(Debug)]
pub struct Deduplicator {
    seen: Mutex<Seen>,
}

#[derive(Debug)]
struct Seen {
    keys: HashSet<EventKey>,
    order: VecDeque<EventKey>,
    capacity: usize,
}

impl Seen {
    fn insert(&mut self, key: &EventKey) -> bool {
        if !self.keys.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key.clone());
        if self.order.len() > self.capacity
            && let Some(old) = self.order.pop_front()
        {
            self.keys.remove(&old);
        }
        true
    }

    fn remove(&mut self, key: &EventKey) {
        if self.keys.remove(key)
            && let Some(at) = self.order.iter().position(|k| k == key)
        {
            self.order.remove(at);
        }
    }
}

impl Deduplicator {
    /// Remembering up to `capacity` keys (at least one; the oldest are
    /// forgotten first).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::hubspot::{Deduplicator, WebhookEvent};
    /// let event = |id: u64| format!(r#"{{"eventId":{id},"subscriptionType":"deal.creation","objectId":9,"occurredAt":5}}"#);
    /// let batch = |ids: &[u64]| {
    ///     let events: Vec<String> = ids.iter().map(|&id| event(id)).collect();
    ///     WebhookEvent::parse_batch(format!("[{}]", events.join(",")).as_bytes())
    /// };
    /// let mut seen = Deduplicator::new(2);
    /// assert_eq!(seen.fresh(batch(&[1, 2])?).len(), 2);
    /// assert!(seen.fresh(batch(&[1, 2])?).is_empty()); // a redelivery
    /// seen.fresh(batch(&[3])?); // the oldest, 1, is forgotten
    /// assert_eq!(seen.fresh(batch(&[1])?).len(), 1);
    /// # Ok::<(), odoo_integration_connectors::ConnectorError>(())
    /// ```
    pub fn new(capacity: usize) -> Self {
        Deduplicator {
            seen: Mutex::new(Seen {
                keys: HashSet::new(),
                order: VecDeque::new(),
                capacity: capacity.max(1),
            }),
        }
    }

    /// The events not seen before, in their order; they are remembered.
    ///
    /// # Example
    ///
    /// See [`Deduplicator`].
    pub fn fresh(&mut self, events: Vec<WebhookEvent>) -> Vec<WebhookEvent> {
        let seen = self.seen.get_mut().unwrap_or_else(PoisonError::into_inner);
        events
            .into_iter()
            .filter(|e| seen.insert(&EventKey::of(e)))
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Seen> {
        // A panic while the set was held leaves it consistent enough: at
        // worst one key is remembered without its place in the order.
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl DedupStore for Deduplicator {
    async fn insert(&self, key: &EventKey) -> Result<bool> {
        Ok(self.lock().insert(key))
    }

    async fn remove(&self, key: &EventKey) -> Result<()> {
        self.lock().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(event_id: u64, object_id: u64) -> EventKey {
        EventKey {
            event_id,
            subscription_type: "company.deletion".into(),
            object_id,
            property_name: None,
            occurred_at: 0,
        }
    }

    #[tokio::test]
    async fn a_removed_key_is_new_again_and_frees_its_place() {
        let d = Deduplicator::new(2);
        assert!(d.insert(&key(1, 1)).await.unwrap());
        assert!(!d.insert(&key(1, 1)).await.unwrap());
        d.remove(&key(1, 1)).await.unwrap();
        d.remove(&key(9, 9)).await.unwrap();
        assert!(d.insert(&key(2, 2)).await.unwrap());
        assert!(d.insert(&key(1, 1)).await.unwrap());
        // Capacity two: 2 and 1 are both still remembered.
        assert!(!d.insert(&key(2, 2)).await.unwrap());
        assert!(!d.insert(&key(1, 1)).await.unwrap());
        assert!(d.insert(&key(3, 3)).await.unwrap());
        assert!(d.insert(&key(2, 2)).await.unwrap(), "2 was the oldest");
    }
}
