//! The two stores a long-running sync needs beyond its data: conflicts held
//! for a person's review, and leases that keep two workers from running the
//! same pipeline at once.

use crate::error::Result;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use odoo_integration_model::{CanonicalId, FieldValue, Held, RemoteId, SystemId};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What a person decided about a held conflict.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::Resolution;
/// use odoo_integration_model::FieldValue;
/// let r = Resolution::Set(FieldValue::Text("ACME SA".into()));
/// assert_ne!(r, Resolution::KeepCurrent);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "take", content = "value", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Resolution {
    /// Take the value the source sent; the next run writes it to the sink.
    AcceptAttempted,
    /// Keep the current value (reject the change); nothing is written.
    KeepCurrent,
    /// Write this value instead of either; the next run writes it.
    Set(FieldValue),
}

/// A field change the ownership policy held for review (strategy `hold`),
/// kept with both values, their sources and times until a person decides
/// and the next run applies the decision.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::HeldConflict;
/// use odoo_integration_model::{CanonicalId, FieldValue, Held, RemoteId, SystemId};
/// let h = HeldConflict::new("hubspot→odoo/client", "client", CanonicalId::new(), SystemId::hubspot(),
///     RemoteId::new("981"), "legal_name", FieldValue::Text("Acme".into()), FieldValue::Text("ACME SA".into()));
/// assert_eq!(h.key, "client/hubspot/981/legal_name");
/// assert!(h.decision.is_none());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct HeldConflict {
    /// `entity/source/remote id/field`: one conflict per field of a source
    /// record; a newer change to it replaces the older.
    pub key: String,
    /// The pipeline that held it, and applies the decision.
    pub pipeline: String,
    /// Entity name.
    pub entity: String,
    /// The canonical record.
    pub id: CanonicalId,
    /// The system that sent the change.
    pub source: SystemId,
    /// The record's id there.
    pub remote_id: RemoteId,
    /// The field.
    pub field: String,
    /// Its owner under the policy.
    pub owner: Option<SystemId>,
    /// The value the sync has (the sink's, as last written).
    pub current: FieldValue,
    /// Which system set the current value, when it is known.
    pub current_source: Option<SystemId>,
    /// When the current value was set, when it is known.
    pub current_at: Option<DateTime<Utc>>,
    /// The value the source sent.
    pub attempted: FieldValue,
    /// The id of the change that sent it.
    pub change_id: String,
    /// When the source changed it.
    pub attempted_at: DateTime<Utc>,
    /// First held.
    pub first_seen: DateTime<Utc>,
    /// Last held (the source sent it again).
    pub last_seen: DateTime<Utc>,
    /// A person's decision, applied by the pipeline's next run.
    pub decision: Option<Resolution>,
}

impl HeldConflict {
    /// A conflict held now, undecided.
    ///
    /// # Example
    ///
    /// See [`HeldConflict`].
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        pipeline: &str,
        entity: &str,
        id: CanonicalId,
        source: SystemId,
        remote_id: RemoteId,
        field: &str,
        current: FieldValue,
        attempted: FieldValue,
    ) -> Self {
        let now = Utc::now();
        HeldConflict {
            key: HeldConflict::key_of(entity, &source, &remote_id, field),
            pipeline: pipeline.to_owned(),
            entity: entity.to_owned(),
            id,
            source,
            remote_id,
            field: field.to_owned(),
            owner: None,
            current,
            current_source: None,
            current_at: None,
            attempted,
            change_id: String::new(),
            attempted_at: now,
            first_seen: now,
            last_seen: now,
            decision: None,
        }
    }

    /// A conflict the policy held in `pipeline` for canonical record `id`
    /// (`remote_id` in the conflict's source).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::HeldConflict;
    /// use odoo_integration_model::{CanonicalId, FieldValue, Held, RemoteId, SystemId};
    /// let held = Held { field: "legal_name".into(), owner: Some(SystemId::odoo()), source: SystemId::hubspot(),
    ///     change_id: "h1".into(), at: chrono::Utc::now(), current: FieldValue::Null, current_by: None,
    ///     current_at: None, attempted: FieldValue::Text("ACME SA".into()) };
    /// let c = HeldConflict::from_held("hubspot→odoo/client", "client", CanonicalId::new(), &RemoteId::new("981"), &held);
    /// assert_eq!(c.key, "client/hubspot/981/legal_name");
    /// assert_eq!(c.owner, Some(SystemId::odoo()));
    /// ```
    pub fn from_held(
        pipeline: &str,
        entity: &str,
        id: CanonicalId,
        remote_id: &RemoteId,
        held: &Held,
    ) -> Self {
        let mut c = HeldConflict::new(
            pipeline,
            entity,
            id,
            held.source.clone(),
            remote_id.clone(),
            &held.field,
            held.current.clone(),
            held.attempted.clone(),
        );
        c.owner.clone_from(&held.owner);
        c.current_source.clone_from(&held.current_by);
        c.current_at = held.current_at;
        c.change_id.clone_from(&held.change_id);
        c.attempted_at = held.at;
        c
    }

    /// The key of a source record's field.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_model::{RemoteId, SystemId};
    /// assert_eq!(odoo_integration_connectors::HeldConflict::key_of("contact", &SystemId::hubspot(), &RemoteId::new("5"), "email"), "contact/hubspot/5/email");
    /// ```
    pub fn key_of(entity: &str, source: &SystemId, remote_id: &RemoteId, field: &str) -> String {
        format!("{entity}/{source}/{remote_id}/{field}")
    }

    /// This conflict held again (the source sent a change to the field
    /// once more): the times and values of `newer`, the first sighting of
    /// `self`, and the decision kept only when it was about the same
    /// attempted value.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{HeldConflict, Resolution};
    /// use odoo_integration_model::{CanonicalId, FieldValue, Held, RemoteId, SystemId};
    /// let held = |v: &str| HeldConflict::new("p", "client", CanonicalId::new(), SystemId::hubspot(),
    ///     RemoteId::new("1"), "legal_name", FieldValue::Null, FieldValue::Text(v.into()));
    /// let mut decided = held("ACME");
    /// decided.decision = Some(Resolution::AcceptAttempted);
    /// assert!(decided.clone().again(held("ACME")).decision.is_some());
    /// assert!(decided.again(held("Acme Corp")).decision.is_none()); // a new value: decide again
    /// ```
    pub fn again(self, newer: HeldConflict) -> HeldConflict {
        let decision = if self.attempted == newer.attempted {
            self.decision
        } else {
            None
        };
        HeldConflict {
            first_seen: self.first_seen.min(newer.first_seen),
            decision,
            ..newer
        }
    }
}

/// Which held conflicts to list.
///
/// # Example
///
/// ```
/// let f = odoo_integration_connectors::HeldFilter::default().entity("client").undecided();
/// assert_eq!(f.entity.as_deref(), Some("client"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HeldFilter {
    /// Only this entity.
    pub entity: Option<String>,
    /// Only this pipeline's.
    pub pipeline: Option<String>,
    /// `Some(true)`: only decided (waiting for the next run);
    /// `Some(false)`: only undecided.
    pub decided: Option<bool>,
}

impl HeldFilter {
    /// Only this entity.
    ///
    /// # Example
    ///
    /// See [`HeldFilter`].
    pub fn entity(mut self, entity: impl Into<String>) -> Self {
        self.entity = Some(entity.into());
        self
    }

    /// Only this pipeline's.
    ///
    /// # Example
    ///
    /// ```
    /// let f = odoo_integration_connectors::HeldFilter::default().pipeline("hubspot→odoo/client");
    /// assert!(f.pipeline.is_some());
    /// ```
    pub fn pipeline(mut self, pipeline: impl Into<String>) -> Self {
        self.pipeline = Some(pipeline.into());
        self
    }

    /// Only those waiting for a person.
    ///
    /// # Example
    ///
    /// See [`HeldFilter`].
    pub fn undecided(mut self) -> Self {
        self.decided = Some(false);
        self
    }

    /// Only those decided, waiting for the next run.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::HeldFilter::default().decided().decided, Some(true));
    /// ```
    pub fn decided(mut self) -> Self {
        self.decided = Some(true);
        self
    }

    /// Whether `c` passes.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{HeldConflict, HeldFilter};
    /// use odoo_integration_model::{CanonicalId, FieldValue, Held, RemoteId, SystemId};
    /// let c = HeldConflict::new("p", "client", CanonicalId::new(), SystemId::hubspot(),
    ///     RemoteId::new("1"), "legal_name", FieldValue::Null, FieldValue::Null);
    /// assert!(HeldFilter::default().entity("client").undecided().matches(&c));
    /// assert!(!HeldFilter::default().entity("contact").matches(&c));
    /// ```
    pub fn matches(&self, c: &HeldConflict) -> bool {
        self.entity.as_ref().is_none_or(|e| *e == c.entity)
            && self.pipeline.as_ref().is_none_or(|p| *p == c.pipeline)
            && self.decided.is_none_or(|d| d == c.decision.is_some())
    }
}

/// Conflicts held for review, persisted so an incremental source that never
/// sends the change again does not lose it.
///
/// The pipeline [`hold`](Self::hold)s what its policy holds; a person (or
/// the operator CLI) lists them and [`decide`](Self::decide)s; the
/// pipeline's next run applies the decisions and
/// [`remove_held`](Self::remove_held)s them.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{HeldConflict, HeldFilter, HeldStore, MemoryStore, Resolution};
/// use odoo_integration_model::{CanonicalId, FieldValue, Held, RemoteId, SystemId};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let store = MemoryStore::new();
/// let c = HeldConflict::new("hubspot→odoo/client", "client", CanonicalId::new(), SystemId::hubspot(),
///     RemoteId::new("981"), "legal_name", FieldValue::Text("Acme".into()), FieldValue::Text("ACME SA".into()));
/// store.hold(vec![c.clone()]).await?;
/// assert_eq!(store.held(&HeldFilter::default().undecided()).await?.len(), 1);
/// assert!(store.decide(&c.key, Resolution::AcceptAttempted).await?);
/// assert_eq!(store.held(&HeldFilter::default().decided()).await?.len(), 1);
/// assert_eq!(store.remove_held(&[c.key.clone()]).await?, 1);
/// assert!(store.held_conflict(&c.key).await?.is_none());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait HeldStore: Send + Sync {
    /// Stores conflicts, all or none. One already held under the same key
    /// is replaced as [`HeldConflict::again`] says (its first sighting
    /// kept, its decision kept only for the same attempted value).
    ///
    /// # Errors
    ///
    /// The store could not be written; nothing changed.
    async fn hold(&self, conflicts: Vec<HeldConflict>) -> Result<()>;
    /// The conflict with this key.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn held_conflict(&self, key: &str) -> Result<Option<HeldConflict>>;
    /// The conflicts `filter` passes, oldest first.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn held(&self, filter: &HeldFilter) -> Result<Vec<HeldConflict>>;
    /// Records a decision; `false` when no conflict has this key.
    ///
    /// # Errors
    ///
    /// The store could not be written.
    async fn decide(&self, key: &str, resolution: Resolution) -> Result<bool>;
    /// Removes conflicts (applied, or dropped by a person) and says how
    /// many there were.
    ///
    /// # Errors
    ///
    /// The store could not be written.
    async fn remove_held(&self, keys: &[String]) -> Result<usize>;
}

/// The right to run a pipeline, held by one worker until it expires.
///
/// # Example
///
/// ```
/// let l = odoo_integration_connectors::Lease { name: "hubspot→odoo/client".into(), holder: "worker-1".into(),
///     token: 1, expires_at: chrono::Utc::now() };
/// assert_eq!(l.holder, "worker-1");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// What is leased (a pipeline's name).
    pub name: String,
    /// Who holds it: a worker's id, unique per process.
    pub holder: String,
    /// Grows by one each time the lease changes hands: a fencing token.
    pub token: u64,
    /// When it lapses unless renewed, by the store's clock.
    pub expires_at: DateTime<Utc>,
}

/// Leases by name, so that of many workers (tasks, processes, machines
/// sharing the store) one at a time runs a pipeline, and a worker that dies
/// gives its pipelines up when its leases expire.
///
/// Times are the store's: a database's clock for the shared stores, so
/// workers on machines with skewed clocks agree.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{LeaseStore, MemoryStore};
/// use std::time::Duration;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let store = MemoryStore::new();
/// let ttl = Duration::from_secs(30);
/// let lease = store.acquire("p", "worker-1", ttl).await?.expect("free");
/// assert!(store.acquire("p", "worker-2", ttl).await?.is_none()); // held by a live worker
/// assert!(store.renew(&lease, ttl).await?.is_some());
/// store.release(&lease).await?;
/// assert!(store.acquire("p", "worker-2", ttl).await?.is_some());
/// # Ok(()) }
/// ```
#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes the lease when it is free, expired, or already `holder`'s
    /// (then renewed); `None` when another holder's lease is live.
    ///
    /// # Errors
    ///
    /// The store could not be read or written.
    async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>>;
    /// Extends a lease still live; `None` when it was lost (it expired,
    /// whether or not another worker took it since), and the holder must
    /// stop.
    ///
    /// # Errors
    ///
    /// The store could not be read or written.
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Option<Lease>>;
    /// Gives a lease up (a lease no longer held is left alone).
    ///
    /// # Errors
    ///
    /// The store could not be written.
    async fn release(&self, lease: &Lease) -> Result<()>;
    /// The live lease on `name`, if any.
    ///
    /// # Errors
    ///
    /// The store could not be read.
    async fn lease(&self, name: &str) -> Result<Option<Lease>>;
}

/// A lease's expiry `ttl` after `now`, saturating.
pub(crate) fn expiry(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}
