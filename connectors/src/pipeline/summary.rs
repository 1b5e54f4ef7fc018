//! What a run reports: its counts, refused and held changes, a dry run's plan.

use odoo_integration_model::{Held, Refused, RemoteId};
use serde::{Deserialize, Serialize};
use std::fmt;

/// What the pipeline does with a record the source reports deleted.
///
/// # Example
///
/// ```
/// assert_eq!(odoo_integration_connectors::DeletePolicy::default(), odoo_integration_connectors::DeletePolicy::Propagate);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DeletePolicy {
    /// Ask the sink to delete it (the Odoo connector archives).
    #[default]
    Propagate,
    /// Do not touch the sink; list it in [`RunSummary::deletes_reported`].
    Report,
    /// Do nothing.
    Ignore,
}

/// A field change the ownership policy refused, with the record it was for.
///
/// # Example
///
/// ```
/// use odoo_integration_model::{FieldValue, Refused, RemoteId, SystemId};
/// let r = odoo_integration_connectors::RefusedChange { remote_id: RemoteId::new("7"), refused: Refused {
///     field: "tax_id".into(), owner: Some(SystemId::odoo()), attempted: FieldValue::Null, reason: "not the owner".into() } };
/// assert_eq!(r.refused.field, "tax_id");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedChange {
    /// The source record.
    pub remote_id: RemoteId,
    /// What was refused and why.
    pub refused: Refused,
}

/// A conflict held for review, with the record it was for.
///
/// # Example
///
/// ```
/// use odoo_integration_model::{FieldValue, Held, RemoteId, SystemId};
/// let h = odoo_integration_connectors::HeldChange { remote_id: RemoteId::new("7"), held: Held { field: "legal_name".into(),
///     owner: Some(SystemId::odoo()), source: SystemId::hubspot(), change_id: "c".into(), at: chrono::Utc::now(),
///     current: FieldValue::Null, current_by: None, current_at: None, attempted: FieldValue::Null } };
/// assert_eq!(h.held.source.as_str(), "hubspot");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldChange {
    /// The source record.
    pub remote_id: RemoteId,
    /// The conflict.
    pub held: Held,
}

/// What a dry run would do with one record.
///
/// # Example
///
/// ```
/// let a = odoo_integration_connectors::PlannedAction::Update { fields: vec!["industry".into()] };
/// assert!(matches!(a, odoo_integration_connectors::PlannedAction::Update { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PlannedAction {
    /// Write every field of a record new to the sink.
    Create,
    /// Write these fields.
    Update {
        /// The fields.
        fields: Vec<String>,
    },
    /// Delete (archive) it in the sink.
    Delete,
    /// Nothing to write.
    Unchanged,
    /// It would go to the dead-letter queue.
    Reject {
        /// Why.
        error: String,
    },
}

/// One record of a dry run's plan.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{PlannedAction, PlannedChange};
/// let p = PlannedChange { remote_id: odoo_integration_model::RemoteId::new("1"), action: PlannedAction::Create };
/// assert_eq!(p.action, PlannedAction::Create);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedChange {
    /// The source record.
    pub remote_id: RemoteId,
    /// What would happen.
    pub action: PlannedAction,
}

/// What a run did.
///
/// # Example
///
/// ```
/// let s = odoo_integration_connectors::RunSummary::default();
/// assert_eq!(s.read, 0);
/// assert!(s.is_no_op());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunSummary {
    /// Changes read from the source (or the dead-letter queue, on replay).
    pub read: usize,
    /// Records created in the sink.
    pub created: usize,
    /// Records updated in the sink.
    pub updated: usize,
    /// Records that needed nothing.
    pub unchanged: usize,
    /// Records deleted (archived) in the sink.
    pub deleted: usize,
    /// Deletes reported instead of applied ([`DeletePolicy::Report`]).
    pub deletes_reported: Vec<RemoteId>,
    /// Field changes refused by the ownership policy.
    pub refused: Vec<RefusedChange>,
    /// Conflicts held for review by this run (all of them, this run's and
    /// earlier ones, are in the state store's
    /// [`HeldStore`](crate::HeldStore)).
    pub held: Vec<HeldChange>,
    /// Review decisions applied (held conflicts resolved; see
    /// [`Review`](crate::review::Review)).
    #[serde(default)]
    pub decided: usize,
    /// Records put in (or kept in) the dead-letter queue.
    pub dead_lettered: usize,
    /// Of those, records parked after too many attempts.
    pub parked: usize,
    /// Dead letters applied and removed (on replay, or when a record that
    /// failed before succeeds).
    pub recovered: usize,
    /// The plan, in a dry run (empty otherwise).
    pub planned: Vec<PlannedChange>,
    /// The newest change read (its time in the source): the run's lag is
    /// its end minus this.
    #[serde(default)]
    pub newest_change: Option<chrono::DateTime<chrono::Utc>>,
}

impl RunSummary {
    /// Whether the run wrote nothing and failed nothing.
    ///
    /// # Example
    ///
    /// ```
    /// let mut s = odoo_integration_connectors::RunSummary::default();
    /// s.unchanged = 10;
    /// assert!(s.is_no_op());
    /// ```
    pub fn is_no_op(&self) -> bool {
        self.created == 0 && self.updated == 0 && self.deleted == 0 && self.dead_lettered == 0
    }
}

impl fmt::Display for RunSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "read {}, created {}, updated {}, unchanged {}, deleted {}, refused fields {}, held {}, dead-lettered {}",
            self.read,
            self.created,
            self.updated,
            self.unchanged,
            self.deleted,
            self.refused.len(),
            self.held.len(),
            self.dead_lettered
        )
    }
}
