//! Review queues: what waits for a person.
//!
//! - **Held conflicts**: a field change the ownership policy holds for
//!   review (strategy `hold`) is kept in the state store with both values,
//!   their sources and times. A person lists them and accepts the
//!   source's value, keeps the current one, or sets another; the
//!   pipeline's next run applies the decision (see [`Pipeline::run`]).
//! - **Dead letters**: records that failed. A person lists them (by
//!   entity, source, error kind, parked or not), inspects one, unparks
//!   them so the next replay tries again, replays them
//!   ([`Pipeline::replay_keys`], [`Pipeline::replay`]), or purges them.
//!
//! [`Review`] is the one handle on both, over any [`SyncState`]; the
//! operator CLI is built on it.
//!
//! [`Pipeline::run`]: crate::Pipeline::run
//! [`Pipeline::replay_keys`]: crate::Pipeline::replay_keys
//! [`Pipeline::replay`]: crate::Pipeline::replay

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::store::{DeadLetter, HeldConflict, HeldFilter, Resolution, SyncState};
use odoo_integration_model::{FieldValue, SystemId};
use std::fmt;
use std::sync::Arc;

/// Which dead letters to list, unpark or purge.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{ConnectorErrorKind, review::LetterFilter};
/// let f = LetterFilter::default().entity("contact").kind(ConnectorErrorKind::Invalid).parked(true);
/// assert_eq!(f.entity.as_deref(), Some("contact"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LetterFilter {
    /// Only this entity. Without one, every built-in entity
    /// ([`odoo_integration_model::entity_names`]); an entity of your own
    /// must be named.
    pub entity: Option<String>,
    /// Only records from this system.
    pub system: Option<SystemId>,
    /// Only letters whose last error is of this kind.
    pub kind: Option<ConnectorErrorKind>,
    /// `Some(true)`: only parked ones; `Some(false)`: only those replay
    /// still tries.
    pub parked: Option<bool>,
}

impl LetterFilter {
    /// Only this entity.
    ///
    /// # Example
    ///
    /// See [`LetterFilter`].
    pub fn entity(mut self, entity: impl Into<String>) -> Self {
        self.entity = Some(entity.into());
        self
    }

    /// Only records from this system.
    ///
    /// # Example
    ///
    /// ```
    /// let f = odoo_integration_connectors::review::LetterFilter::default().system(odoo_integration_model::SystemId::hubspot());
    /// assert!(f.system.is_some());
    /// ```
    pub fn system(mut self, system: SystemId) -> Self {
        self.system = Some(system);
        self
    }

    /// Only this error kind.
    ///
    /// # Example
    ///
    /// See [`LetterFilter`].
    pub fn kind(mut self, kind: ConnectorErrorKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Only parked (`true`) or only unparked (`false`) letters.
    ///
    /// # Example
    ///
    /// See [`LetterFilter`].
    pub fn parked(mut self, parked: bool) -> Self {
        self.parked = Some(parked);
        self
    }

    /// Whether `l` passes.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind, DeadLetter, review::LetterFilter};
    /// use odoo_integration_model::{RemoteId, SystemId};
    /// let l = DeadLetter::new("contact", SystemId::hubspot(), RemoteId::new("5"), serde_json::Value::Null,
    ///     &ConnectorError::new(ConnectorErrorKind::Invalid, "bad email"));
    /// assert!(LetterFilter::default().kind(ConnectorErrorKind::Invalid).parked(false).matches(&l));
    /// assert!(!LetterFilter::default().kind(ConnectorErrorKind::NotFound).matches(&l));
    /// ```
    pub fn matches(&self, l: &DeadLetter) -> bool {
        self.entity.as_ref().is_none_or(|e| *e == l.entity)
            && self.system.as_ref().is_none_or(|s| *s == l.system)
            && self.kind.is_none_or(|k| k == l.error.kind)
            && self.parked.is_none_or(|p| p == l.parked)
    }
}

/// The review queues of one state store: held conflicts and dead letters.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::review::{LetterFilter, Review};
/// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind, DeadLetter, DeadLetterQueue, HeldConflict, HeldFilter, HeldStore, MemoryStore};
/// use odoo_integration_model::{CanonicalId, FieldValue, RemoteId, SystemId};
/// use std::sync::Arc;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let state = Arc::new(MemoryStore::new());
/// // What a pipeline left: a conflict, and a record Odoo refused.
/// let conflict = HeldConflict::new("hubspot→odoo/client", "client", CanonicalId::new(), SystemId::hubspot(),
///     RemoteId::new("981"), "legal_name", FieldValue::Text("Acme".into()), FieldValue::Text("ACME SA".into()));
/// state.hold(vec![conflict.clone()]).await?;
/// state.put(DeadLetter::new("contact", SystemId::hubspot(), RemoteId::new("5"), serde_json::Value::Null,
///     &ConnectorError::new(ConnectorErrorKind::Invalid, "bad email"))).await?;
///
/// let review = Review::new(state.clone());
/// review.accept(&conflict.key).await?; // the next run writes "ACME SA"
/// assert_eq!(review.held(&HeldFilter::default().decided()).await?.len(), 1);
/// let invalid = LetterFilter::default().kind(ConnectorErrorKind::Invalid);
/// assert_eq!(review.letters(&invalid).await?.len(), 1);
/// assert_eq!(review.purge(&invalid).await?, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Review {
    state: Arc<dyn SyncState>,
}

impl fmt::Debug for Review {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Review").finish_non_exhaustive()
    }
}

impl Review {
    /// The review queues of `state`.
    ///
    /// # Example
    ///
    /// See [`Review`].
    pub fn new(state: Arc<dyn SyncState>) -> Self {
        Review { state }
    }

    /// The held conflicts `filter` passes, oldest first.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    ///
    /// # Example
    ///
    /// See [`Review`].
    pub async fn held(&self, filter: &HeldFilter) -> Result<Vec<HeldConflict>> {
        self.state.held(filter).await
    }

    /// Takes the source's value: the pipeline's next run writes it.
    ///
    /// # Errors
    ///
    /// [`NotFound`](ConnectorErrorKind::NotFound) when no conflict has this
    /// key; the store failed.
    ///
    /// # Example
    ///
    /// See [`Review`].
    pub async fn accept(&self, key: &str) -> Result<()> {
        self.decide(key, Resolution::AcceptAttempted).await
    }

    /// Keeps the current value (rejects the change); the next run drops
    /// the conflict.
    ///
    /// # Errors
    ///
    /// As [`accept`](Self::accept).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::{review::Review, HeldConflict, HeldStore, MemoryStore, Resolution};
    /// # use odoo_integration_model::{CanonicalId, FieldValue, RemoteId, SystemId};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// # let state = std::sync::Arc::new(MemoryStore::new());
    /// # let c = HeldConflict::new("p", "client", CanonicalId::new(), SystemId::hubspot(), RemoteId::new("1"), "legal_name", FieldValue::Null, FieldValue::Null);
    /// # state.hold(vec![c.clone()]).await?;
    /// let review = Review::new(state.clone());
    /// review.reject(&c.key).await?;
    /// assert_eq!(state.held_conflict(&c.key).await?.and_then(|c| c.decision), Some(Resolution::KeepCurrent));
    /// assert!(review.reject("client/hubspot/404/legal_name").await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn reject(&self, key: &str) -> Result<()> {
        self.decide(key, Resolution::KeepCurrent).await
    }

    /// Writes `value` instead of either side. It must be of the field's
    /// kind (that of the values in conflict) or empty.
    ///
    /// # Errors
    ///
    /// [`Invalid`](ConnectorErrorKind::Invalid) for a value of another
    /// kind; as [`accept`](Self::accept) otherwise.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::{review::Review, HeldConflict, HeldStore, MemoryStore};
    /// # use odoo_integration_model::{CanonicalId, FieldValue, RemoteId, SystemId};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// # let state = std::sync::Arc::new(MemoryStore::new());
    /// # let c = HeldConflict::new("p", "client", CanonicalId::new(), SystemId::hubspot(), RemoteId::new("1"), "legal_name",
    /// #     FieldValue::Text("Acme".into()), FieldValue::Text("ACME".into()));
    /// # state.hold(vec![c.clone()]).await?;
    /// let review = Review::new(state);
    /// review.set(&c.key, FieldValue::Text("Acme SA".into())).await?;
    /// assert!(review.set(&c.key, FieldValue::Bool(true)).await.is_err()); // not a text
    /// # Ok(()) }
    /// ```
    pub async fn set(&self, key: &str, value: FieldValue) -> Result<()> {
        let conflict = self.conflict(key).await?;
        let kinds: Vec<&str> = [&conflict.current, &conflict.attempted]
            .into_iter()
            .filter(|v| !v.is_null())
            .map(FieldValue::kind)
            .collect();
        if !value.is_null() && !kinds.is_empty() && !kinds.contains(&value.kind()) {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Invalid,
                format!(
                    "{} takes a {}, not a {}",
                    conflict.field,
                    kinds[0],
                    value.kind()
                ),
            ));
        }
        self.decide(key, Resolution::Set(value)).await
    }

    async fn conflict(&self, key: &str) -> Result<HeldConflict> {
        self.state.held_conflict(key).await?.ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::NotFound,
                format!("no held conflict `{key}`"),
            )
        })
    }

    async fn decide(&self, key: &str, resolution: Resolution) -> Result<()> {
        if self.state.decide(key, resolution).await? {
            Ok(())
        } else {
            Err(ConnectorError::new(
                ConnectorErrorKind::NotFound,
                format!("no held conflict `{key}`"),
            ))
        }
    }

    /// The dead letters `filter` passes, oldest first.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    ///
    /// # Example
    ///
    /// See [`Review`].
    pub async fn letters(&self, filter: &LetterFilter) -> Result<Vec<DeadLetter>> {
        let entities: Vec<&str> = match &filter.entity {
            Some(e) => vec![e.as_str()],
            None => odoo_integration_model::entity_names().to_vec(),
        };
        let mut out = Vec::new();
        for entity in entities {
            out.extend(
                self.state
                    .letters(entity)
                    .await?
                    .into_iter()
                    .filter(|l| filter.matches(l)),
            );
        }
        out.sort_by(|a, b| (a.first_seen, &a.key).cmp(&(b.first_seen, &b.key)));
        Ok(out)
    }

    /// One dead letter, whole (its payload, its last error, its attempts).
    ///
    /// # Errors
    ///
    /// The store could not be read.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::review::Review;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let review = Review::new(std::sync::Arc::new(odoo_integration_connectors::MemoryStore::new()));
    /// assert!(review.letter("contact/hubspot/5").await?.is_none());
    /// # Ok(()) }
    /// ```
    pub async fn letter(&self, key: &str) -> Result<Option<DeadLetter>> {
        self.state.letter(key).await
    }

    /// Unparks the parked letters `filter` passes, so the next replay
    /// tries them again (their attempts start over), and says how many.
    ///
    /// # Errors
    ///
    /// A store failed; those unparked so far stay unparked.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::{review::{LetterFilter, Review}, ConnectorError, ConnectorErrorKind, DeadLetter, DeadLetterQueue, MemoryStore};
    /// # use odoo_integration_model::{RemoteId, SystemId};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let state = std::sync::Arc::new(MemoryStore::new());
    /// let mut l = DeadLetter::new("contact", SystemId::hubspot(), RemoteId::new("5"), serde_json::Value::Null,
    ///     &ConnectorError::new(ConnectorErrorKind::Unavailable, "down"));
    /// l.parked = true;
    /// state.put(l).await?;
    /// let review = Review::new(state);
    /// assert_eq!(review.unpark(&LetterFilter::default().entity("contact")).await?, 1);
    /// assert_eq!(review.letters(&LetterFilter::default().parked(true)).await?.len(), 0);
    /// # Ok(()) }
    /// ```
    pub async fn unpark(&self, filter: &LetterFilter) -> Result<usize> {
        let mut n = 0;
        for mut l in self.letters(filter).await? {
            if !l.parked {
                continue;
            }
            l.parked = false;
            l.attempts = 0;
            self.state.put(l).await?;
            n += 1;
        }
        Ok(n)
    }

    /// Removes the letters `filter` passes (the records are given up) and
    /// says how many.
    ///
    /// # Errors
    ///
    /// The store could not be written.
    ///
    /// # Example
    ///
    /// See [`Review`].
    pub async fn purge(&self, filter: &LetterFilter) -> Result<usize> {
        let keys: Vec<String> = self
            .letters(filter)
            .await?
            .into_iter()
            .map(|l| l.key)
            .collect();
        self.state.remove_many(&keys).await
    }
}
