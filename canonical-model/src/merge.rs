//! Merging incoming changes under an ownership policy, with provenance.

use crate::field::{Entity, FieldError, FieldValue};
use crate::identity::{CanonicalId, SystemId};
use crate::policy::{Policy, Strategy};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A change sent by a system: an id, when it happened there, and new field values.
///
/// # Example
/// ```
/// use odoo_integration_model::{Change, FieldValue};
/// let c = Change::new("sf-evt-1", chrono::Utc::now()).with("industry", FieldValue::Text("Retail".into()));
/// assert_eq!(c.fields.len(), 1);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The sender's id for this change (event id, revision); shared by
    /// every provenance entry the change leaves.
    #[serde(deserialize_with = "crate::identity::shared_str")]
    pub id: Arc<str>,
    /// When the change happened in the source system.
    pub at: DateTime<Utc>,
    /// New values by field name (names are usually an entity's
    /// [`FIELDS`](crate::Entity::FIELDS), borrowed, not copied).
    pub fields: BTreeMap<Cow<'static, str>, FieldValue>,
}

impl Change {
    /// An empty change.
    ///
    /// # Example
    /// ```
    /// assert!(odoo_integration_model::Change::new("1", chrono::Utc::now()).fields.is_empty());
    /// ```
    pub fn new(id: impl Into<String>, at: DateTime<Utc>) -> Self {
        Change {
            id: Arc::from(id.into()),
            at,
            fields: BTreeMap::new(),
        }
    }
    /// Adds a field value.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{Change, FieldValue};
    /// let c = Change::new("1", chrono::Utc::now()).with("billable", FieldValue::Bool(true));
    /// assert_eq!(c.fields["billable"], FieldValue::Bool(true));
    /// ```
    pub fn with(mut self, field: impl Into<Cow<'static, str>>, value: FieldValue) -> Self {
        self.fields.insert(field.into(), value);
        self
    }
}

/// One applied change of one field: the provenance trail's entry.
///
/// # Example
/// ```
/// # use odoo_integration_model::{FieldValue, Provenance, SystemId};
/// let p = Provenance { field: "industry".into(), system: SystemId::salesforce(), at: chrono::Utc::now(),
///     change_id: "e1".into(), old: FieldValue::Null, new: FieldValue::Text("Retail".into()) };
/// assert_eq!(p.system.as_str(), "salesforce");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Provenance {
    /// Field.
    pub field: Cow<'static, str>,
    /// System that sent it.
    pub system: SystemId,
    /// Change time in the source.
    pub at: DateTime<Utc>,
    /// The change's id.
    #[serde(deserialize_with = "crate::identity::shared_str")]
    pub change_id: Arc<str>,
    /// Value before.
    pub old: FieldValue,
    /// Value after.
    pub new: FieldValue,
}

/// A canonical record: id, data and its provenance trail.
///
/// Its ids in other systems are not part of it: they live in one place,
/// the sync's cross-reference store (`XrefStore` in the connectors crate),
/// which the pipeline consults and updates.
///
/// # Example
/// ```
/// use odoo_integration_model::{ClientCompany, CanonicalRecord};
/// let r = CanonicalRecord::new(ClientCompany::default());
/// assert!(r.trail().is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "E: crate::Entity")]
pub struct CanonicalRecord<E> {
    /// Canonical id.
    pub id: CanonicalId,
    /// The entity.
    pub data: E,
    trail: Vec<Provenance>,
    /// When its source reported it deleted and the sink applied it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deleted_at: Option<DateTime<Utc>>,
}

impl<E: Entity> CanonicalRecord<E> {
    /// A record with a fresh id.
    ///
    /// # Example
    /// ```
    /// let r = odoo_integration_model::CanonicalRecord::new(odoo_integration_model::Employee::default());
    /// assert!(r.trail().is_empty());
    /// ```
    pub fn new(data: E) -> Self {
        CanonicalRecord::with_id(CanonicalId::new(), data)
    }
    /// A record with a given id.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::{CanonicalId, ClientCompany, CanonicalRecord};
    /// let id = CanonicalId::from_u128(1);
    /// assert_eq!(CanonicalRecord::with_id(id, ClientCompany::default()).id, id);
    /// ```
    pub fn with_id(id: CanonicalId, data: E) -> Self {
        CanonicalRecord {
            id,
            data,
            trail: Vec::new(),
            deleted_at: None,
        }
    }
    /// A record first seen in `source`: `data` as it came, with a trail
    /// entry for every field that differs from `base` (usually
    /// `E::default()`). What a [`merge`] into `base` with no owners would
    /// give, without building a [`Change`].
    ///
    /// # Example
    /// ```
    /// use odoo_integration_model::{CanonicalId, ClientCompany, CanonicalRecord, SystemId};
    /// let data = ClientCompany { legal_name: "Acme".into(), ..Default::default() };
    /// let r = CanonicalRecord::seed(CanonicalId::new(), data, &ClientCompany::default(), &SystemId::hubspot(), "hs-1".into(), chrono::Utc::now());
    /// assert_eq!(r.data.legal_name, "Acme");
    /// assert_eq!(r.trail().len(), 1);
    /// assert_eq!(r.history("legal_name").count(), 1);
    /// ```
    pub fn seed(
        id: CanonicalId,
        data: E,
        base: &E,
        source: &SystemId,
        change_id: Arc<str>,
        at: DateTime<Utc>,
    ) -> Self {
        let trail = data
            .changed_fields(base)
            .into_iter()
            .map(|field| Provenance {
                field: Cow::Borrowed(field),
                system: source.clone(),
                at,
                change_id: change_id.clone(),
                old: base.get(field).unwrap_or(FieldValue::Null),
                new: data.get(field).unwrap_or(FieldValue::Null),
            })
            .collect();
        CanonicalRecord {
            id,
            data,
            trail,
            deleted_at: None,
        }
    }
    /// The whole provenance trail, oldest first.
    ///
    /// # Example
    /// ```
    /// assert!(odoo_integration_model::CanonicalRecord::new(odoo_integration_model::ClientCompany::default()).trail().is_empty());
    /// ```
    pub fn trail(&self) -> &[Provenance] {
        &self.trail
    }

    /// When the record's deletion was applied, if it was: a delete
    /// reported again (a pushed event, then the next poll) is then
    /// nothing to do.
    ///
    /// # Example
    /// ```
    /// let mut r = odoo_integration_model::CanonicalRecord::new(odoo_integration_model::ClientCompany::default());
    /// assert!(r.deleted_at().is_none());
    /// let at = chrono::Utc::now();
    /// r.mark_deleted(at);
    /// assert_eq!(r.deleted_at(), Some(at));
    /// r.mark_restored();
    /// assert!(r.deleted_at().is_none());
    /// ```
    pub fn deleted_at(&self) -> Option<DateTime<Utc>> {
        self.deleted_at
    }

    /// Marks the record deleted at `at`.
    ///
    /// # Example
    /// See [`deleted_at`](Self::deleted_at).
    pub fn mark_deleted(&mut self, at: DateTime<Utc>) {
        self.deleted_at = Some(at);
    }

    /// Clears the deletion mark: the record came back.
    ///
    /// # Example
    /// See [`deleted_at`](Self::deleted_at).
    pub fn mark_restored(&mut self) {
        self.deleted_at = None;
    }
    /// The trail of one field, oldest first.
    ///
    /// # Example
    /// ```
    /// let r = odoo_integration_model::CanonicalRecord::new(odoo_integration_model::ClientCompany::default());
    /// assert_eq!(r.history("industry").count(), 0);
    /// ```
    pub fn history<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Provenance> + 'a {
        self.trail.iter().filter(move |p| p.field == field)
    }
}

/// A change refused because the sender does not own the field.
///
/// # Example
/// ```
/// # use odoo_integration_model::{FieldValue, Refused, SystemId};
/// let r = Refused { field: "tax_id".into(), owner: Some(SystemId::odoo()), attempted: FieldValue::Null, reason: "not the owner".into() };
/// assert_eq!(r.field, "tax_id");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refused {
    /// Field.
    pub field: String,
    /// Its owner.
    pub owner: Option<SystemId>,
    /// The value the sender tried to write.
    pub attempted: FieldValue,
    /// Why: `not the owner` or `older than the current value`.
    pub reason: String,
}

/// A conflict held for review.
///
/// # Example
/// ```
/// # use odoo_integration_model::{FieldValue, Held, SystemId};
/// let h = Held { field: "legal_name".into(), owner: Some(SystemId::odoo()), source: SystemId::hubspot(),
///     change_id: "h1".into(), at: chrono::Utc::now(), current: FieldValue::Null, current_by: None,
///     current_at: None, attempted: FieldValue::Null };
/// assert_eq!(h.source.as_str(), "hubspot");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// Field.
    pub field: String,
    /// Its owner.
    pub owner: Option<SystemId>,
    /// Sender.
    pub source: SystemId,
    /// The change's id.
    pub change_id: String,
    /// When the sender changed it.
    pub at: DateTime<Utc>,
    /// Current value.
    pub current: FieldValue,
    /// The system that set the current value, when the trail says.
    #[serde(default)]
    pub current_by: Option<SystemId>,
    /// When the current value was set, when the trail says.
    #[serde(default)]
    pub current_at: Option<DateTime<Utc>>,
    /// Proposed value.
    pub attempted: FieldValue,
}

/// What [`merge`] did.
///
/// # Example
/// ```
/// let o = odoo_integration_model::MergeOutcome::default();
/// assert!(o.applied.is_empty() && o.refused.is_empty() && o.held.is_empty());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MergeOutcome {
    /// Applied changes (also appended to the record's trail).
    pub applied: Vec<Provenance>,
    /// Refused changes.
    pub refused: Vec<Refused>,
    /// Conflicts held for review.
    pub held: Vec<Held>,
    /// Fields whose value already equalled the incoming one.
    pub unchanged: Vec<Cow<'static, str>>,
}

/// Merges a change from `source` into `record` under `policy`.
///
/// Per field: the owner's change, or a change to an unowned field, applies;
/// a non-owner's change is refused (owner wins), applied only if newer than
/// the field's last applied change (latest wins), or held (hold for review).
/// A value equal to the current one changes nothing, so replaying a change is
/// harmless. The record is untouched if any field is unknown or mistyped.
///
/// # Errors
/// [`FieldError`] for an unknown field or a value of the wrong kind.
///
/// # Example
/// ```
/// use odoo_integration_model::{merge, Change, ClientCompany, FieldValue, Policy, CanonicalRecord, SystemId};
/// let policy = Policy::from_toml("[client.fields]\nindustry = \"salesforce\"\nlegal_name = \"odoo\"\n")?;
/// let mut rec = CanonicalRecord::new(ClientCompany::default());
/// let change = Change::new("e1", chrono::Utc::now())
///     .with("industry", FieldValue::Text("Retail".into()))
///     .with("legal_name", FieldValue::Text("ACME".into()));
/// let out = merge(&mut rec, &change, &SystemId::salesforce(), &policy)?;
/// assert_eq!(out.applied.len(), 1);
/// assert_eq!(out.refused[0].field, "legal_name");
/// assert_eq!(rec.data.industry.as_deref(), Some("Retail"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn merge<E: Entity>(
    record: &mut CanonicalRecord<E>,
    change: &Change,
    source: &SystemId,
    policy: &Policy,
) -> Result<MergeOutcome, FieldError> {
    // Set every field on a copy first, so a bad change leaves the record
    // untouched; when every field applies (a new record, the owner's
    // change) the copy becomes the data.
    let mut probe = record.data.clone();
    for (field, value) in &change.fields {
        probe.set(field, value.clone())?;
    }
    let mut out = MergeOutcome {
        applied: Vec::with_capacity(change.fields.len()),
        ..MergeOutcome::default()
    };
    let mut all_applied = true;
    for (field, value) in &change.fields {
        let current = record.data.get(field).unwrap_or(FieldValue::Null);
        if &current == value {
            out.unchanged.push(field.clone());
            continue;
        }
        let rule = policy.rule(E::NAME, field);
        let owns = rule.owner.as_ref().is_none_or(|o| o == source);
        let apply = if owns {
            true
        } else {
            match rule.strategy {
                Strategy::OwnerWins => {
                    out.refused.push(Refused {
                        field: field.to_string(),
                        owner: rule.owner.clone(),
                        attempted: value.clone(),
                        reason: "not the owner".into(),
                    });
                    false
                }
                Strategy::LatestWins => {
                    let last = record.history(field).map(|p| p.at).max();
                    if last.is_none_or(|t| change.at > t) {
                        true
                    } else {
                        out.refused.push(Refused {
                            field: field.to_string(),
                            owner: rule.owner.clone(),
                            attempted: value.clone(),
                            reason: "older than the current value".into(),
                        });
                        false
                    }
                }
                Strategy::HoldForReview => {
                    let last = record.history(field).max_by_key(|p| p.at);
                    out.held.push(Held {
                        field: field.to_string(),
                        owner: rule.owner.clone(),
                        source: source.clone(),
                        change_id: change.id.to_string(),
                        at: change.at,
                        current: current.clone(),
                        current_by: last.map(|p| p.system.clone()),
                        current_at: last.map(|p| p.at),
                        attempted: value.clone(),
                    });
                    false
                }
            }
        };
        if apply {
            out.applied.push(Provenance {
                field: field.clone(),
                system: source.clone(),
                at: change.at,
                change_id: change.id.clone(),
                old: current,
                new: value.clone(),
            });
        } else {
            all_applied = false;
        }
    }
    if all_applied {
        record.data = probe;
    } else {
        for p in &out.applied {
            record.data.set(&p.field, p.new.clone())?;
        }
    }
    record.trail.extend(out.applied.iter().cloned());
    Ok(out)
}
