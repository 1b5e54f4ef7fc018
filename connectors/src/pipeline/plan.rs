//! Planning: what to do with one change, decided from what the stores
//! know, the ownership policy and the validator, without any I/O.
//!
//! [`plan`] is a pure function: the same change, stored record, policy and
//! validation always give the same [`Plan`]. The executor
//! ([`super::execute`]) asks the stores for what planning needs, once per
//! page, and carries the plans out.

use super::summary::DeletePolicy;
use crate::connector::{Operation, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind};
use odoo_integration_model::{
    CanonicalId, CanonicalRecord, Change, Entity, FieldValue, Held, Policy, Refused, RemoteId,
    SystemId, Validator, merge,
};

/// What the stores know of the record a change is for.
pub(crate) struct Known<E> {
    /// Its canonical id (allocated now when the record is new to the sync).
    pub(crate) id: CanonicalId,
    /// The sink's id of it, when the sink has it.
    pub(crate) target: Option<RemoteId>,
    /// The stored canonical record, when the sync has seen it before.
    pub(crate) current: Option<CanonicalRecord<E>>,
}

/// The rules a plan follows: who sends, the policy, the validator, and
/// what a delete does.
pub(crate) struct Rules<'a, E> {
    pub(crate) source: &'a SystemId,
    pub(crate) policy: &'a Policy,
    pub(crate) validator: &'a Validator<E>,
    pub(crate) deletes: DeletePolicy,
}

/// What to do with one change.
#[derive(Debug)]
pub(crate) enum Decision<E> {
    /// Write the whole record: the sink has none.
    Create(Box<CanonicalRecord<E>>),
    /// Write these fields of the record the sink has.
    Update {
        record: Box<CanonicalRecord<E>>,
        fields: Vec<String>,
    },
    /// Delete (archive) the sink's record; the stored record (marked
    /// deleted) is kept once the sink has done it, so the same delete
    /// reported again changes nothing.
    Delete(Option<Box<CanonicalRecord<E>>>),
    /// Nothing to write.
    Unchanged,
    /// A delete to report, not to apply ([`DeletePolicy::Report`]).
    ReportDelete,
    /// The change cannot go on: to the dead-letter queue.
    Reject(ConnectorError),
}

/// A decision, with the field changes the policy refused or held on the way.
#[derive(Debug)]
pub(crate) struct Plan<E> {
    /// The record's canonical id.
    pub(crate) id: CanonicalId,
    /// The sink's id of the record, when the sink has it.
    pub(crate) target: Option<RemoteId>,
    pub(crate) decision: Decision<E>,
    pub(crate) refused: Vec<Refused>,
    pub(crate) held: Vec<Held>,
    /// The change, kept to file a dead letter should the write fail.
    pub(crate) change: SourceChange<E>,
    /// The change's record was moved (not copied) into the record to
    /// create; a dead letter takes it back from there.
    pub(crate) data_moved: bool,
}

impl<E> Plan<E> {
    fn decided(
        id: CanonicalId,
        target: Option<RemoteId>,
        change: SourceChange<E>,
        decision: Decision<E>,
    ) -> Self {
        Plan {
            id,
            target,
            decision,
            refused: Vec::new(),
            held: Vec::new(),
            change,
            data_moved: false,
        }
    }
}

/// Decides what to do with one mapped change. `resolve` gives the canonical
/// id of a record a reference names (entity, source id).
pub(crate) fn plan<E: Entity + Default>(
    mut change: SourceChange<E>,
    known: Known<E>,
    resolve: &dyn Fn(&str, &RemoteId) -> Option<CanonicalId>,
    rules: &Rules<'_, E>,
) -> Plan<E> {
    let Known {
        id,
        target,
        current,
    } = known;
    let mut refused = Vec::new();
    let data = match &mut change.operation {
        Operation::Delete => {
            let decision = match rules.deletes {
                _ if target.is_none() && current.is_none() => Decision::Unchanged,
                // Applied already (pushed, then polled): nothing to do.
                _ if current.as_ref().is_some_and(|r| r.deleted_at().is_some()) => {
                    Decision::Unchanged
                }
                DeletePolicy::Ignore => Decision::Unchanged,
                DeletePolicy::Report => Decision::ReportDelete,
                DeletePolicy::Propagate => Decision::Delete(current.map(|mut r| {
                    r.mark_deleted(change.at);
                    Box::new(r)
                })),
            };
            return Plan::decided(id, target, change, decision);
        }
        Operation::Upsert(data) => data,
    };
    macro_rules! reject {
        ($kind:expr, $message:expr) => {{
            let error = ConnectorError::new($kind, $message);
            return Plan::decided(id, target, change, Decision::Reject(error));
        }};
    }
    for (field, reference) in &change.refs {
        let Some(rid) = resolve(&reference.entity, &reference.remote_id) else {
            reject!(
                ConnectorErrorKind::Protocol,
                format!("no identity was allocated for the reference `{field}`")
            );
        };
        if let Err(e) = data.set(field, FieldValue::Id(rid)) {
            reject!(ConnectorErrorKind::Mapping, e.to_string());
        }
    }
    let change_id = super::change_id::change_id(rules.source, &change.remote_id, change.at);
    // Only what differs goes further: equal values change nothing, and
    // comparing the structs spares building their values.
    let fresh = E::default();
    let base = current.as_ref().map_or(&fresh, |r| &r.data);
    // A record new to us has no owner to protect yet: the source seeds it
    // whole, also the parts that have no field name (a contract's billing
    // model). Later changes go through the policy.
    let seeding = current.is_none() && change.fields.is_none();
    let differing: Vec<&'static str> = match &change.fields {
        None if seeding => Vec::new(), // the seed finds them itself
        None => data.changed_fields(base),
        Some(named) => {
            let mut out = Vec::with_capacity(named.len());
            for field in named {
                // The entity's own name for the field, which lives forever.
                let Some(name) = E::FIELDS.iter().find(|f| *f == field) else {
                    reject!(
                        ConnectorErrorKind::Mapping,
                        format!("{} has no field `{field}`", E::NAME)
                    );
                };
                if data.get(name) != base.get(name) {
                    out.push(*name);
                }
            }
            out
        }
    };
    if current.is_none() && rules.policy.restricts_seeding(E::NAME) {
        // Fields the policy lets only their owner seed stay empty.
        for field in E::FIELDS {
            let rule = rules.policy.rule(E::NAME, field);
            let (Some(value), empty) = (data.get(field), fresh.get(field)) else {
                continue;
            };
            if rule.seeds_from(rules.source) || Some(&value) == empty.as_ref() {
                continue;
            }
            if let Err(e) = data.set(field, empty.unwrap_or(FieldValue::Null)) {
                reject!(ConnectorErrorKind::Mapping, e.to_string());
            }
            refused.push(Refused {
                field: (*field).to_owned(),
                owner: rule.owner,
                attempted: value,
                reason: "seeded by its owner only".into(),
            });
        }
    }
    let mut held = Vec::new();
    let mut data_moved = false;
    let (record, applied): (CanonicalRecord<E>, Vec<&'static str>) = match current {
        None if seeding => {
            // Moved, not copied: a dead letter takes it back if need be.
            data_moved = true;
            let record = CanonicalRecord::seed(
                id,
                std::mem::take(data),
                &fresh,
                rules.source,
                change_id.into(),
                change.at,
            );
            // The fields written, needed only to update a record the sink
            // already has (the stored canonical one was lost).
            let applied = match target {
                Some(_) => record
                    .trail()
                    .iter()
                    .filter_map(|p| E::FIELDS.iter().find(|f| **f == p.field).copied())
                    .collect(),
                None => differing,
            };
            (record, applied)
        }
        current => {
            let open = Policy::default();
            let (mut record, policy) = match current {
                Some(r) => (r, rules.policy),
                None => (CanonicalRecord::with_id(id, E::default()), &open),
            };
            // A change to a record deleted before: it is back.
            record.mark_restored();
            let mut incoming = Change::new(change_id, change.at);
            for field in differing {
                if let Some(value) = data.get(field) {
                    incoming = incoming.with(field, value);
                }
            }
            let merged = match merge(&mut record, &incoming, rules.source, policy) {
                Ok(m) => m,
                Err(e) => reject!(ConnectorErrorKind::Mapping, e.to_string()),
            };
            let applied = merged
                .applied
                .iter()
                .filter_map(|p| E::FIELDS.iter().find(|f| **f == p.field).copied())
                .collect();
            refused.extend(merged.refused);
            held.extend(merged.held);
            (record, applied)
        }
    };
    let failures = rules.validator.validate(&record.data);
    let decision = if !failures.is_empty() {
        if data_moved {
            // The letter keeps the change whole.
            change.operation = Operation::Upsert(record.data);
            data_moved = false;
        }
        let detail: Vec<String> = failures
            .iter()
            .map(|f| format!("{} ({})", f.code, f.field))
            .collect();
        Decision::Reject(ConnectorError::new(
            ConnectorErrorKind::NotReady,
            format!("{} is not ready: {}", E::NAME, detail.join(", ")),
        ))
    } else if target.is_none() {
        Decision::Create(Box::new(record))
    } else if applied.is_empty() {
        Decision::Unchanged
    } else {
        let mut fields: Vec<String> = applied.iter().map(|f| (*f).to_owned()).collect();
        fields.dedup();
        Decision::Update {
            record: Box::new(record),
            fields,
        }
    };
    Plan {
        id,
        target,
        decision,
        refused,
        held,
        change,
        data_moved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use odoo_integration_model::{ClientCompany, Condition, RequiredWhen};

    fn at(secs: i64) -> chrono::DateTime<Utc> {
        Utc.timestamp_opt(1_795_000_000 + secs, 0)
            .single()
            .unwrap_or_default()
    }

    fn acme(industry: &str) -> ClientCompany {
        ClientCompany {
            legal_name: "Acme".into(),
            industry: Some(industry.into()),
            ..Default::default()
        }
    }

    fn crm() -> SystemId {
        SystemId::hubspot()
    }

    /// The policy: Odoo owns the legal name, the CRM the industry.
    fn policy() -> Policy {
        Policy::from_toml(
            "[client]\ndefault_owner = \"odoo\"\n[client.fields]\nindustry = \"hubspot\"\n",
        )
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn named() -> Validator<ClientCompany> {
        Validator::new().with(RequiredWhen {
            code: "client.name".into(),
            when: Condition::Always,
            required: vec!["legal_name".into()],
            equal: vec![],
        })
    }

    fn run(
        change: SourceChange<ClientCompany>,
        known: Known<ClientCompany>,
        deletes: DeletePolicy,
    ) -> Plan<ClientCompany> {
        let (source, policy, validator) = (crm(), policy(), named());
        let rules = Rules {
            source: &source,
            policy: &policy,
            validator: &validator,
            deletes,
        };
        plan(change, known, &|_, _| Some(CanonicalId::new()), &rules)
    }

    fn new_record() -> Known<ClientCompany> {
        Known {
            id: CanonicalId::new(),
            target: None,
            current: None,
        }
    }

    /// A record the sync created from the CRM, stored and in the sink.
    fn synced(record: ClientCompany) -> Known<ClientCompany> {
        let id = CanonicalId::new();
        let current = CanonicalRecord::seed(
            id,
            record,
            &ClientCompany::default(),
            &crm(),
            "seed".into(),
            at(0),
        );
        Known {
            id,
            target: Some(RemoteId::new("17")),
            current: Some(current),
        }
    }

    #[test]
    fn a_record_new_to_the_sync_is_created_whole_by_moving_its_data() {
        let p = run(
            SourceChange::upsert("1", at(1), acme("Retail")),
            new_record(),
            DeletePolicy::Propagate,
        );
        let Decision::Create(record) = &p.decision else {
            panic!("{:?}", p.decision)
        };
        assert_eq!(record.data, acme("Retail"));
        assert!(p.data_moved, "the data is moved, not cloned");
        assert!(p.refused.is_empty() && p.held.is_empty());
    }

    #[test]
    fn an_owned_field_changed_by_its_owner_is_an_update_of_that_field() {
        let p = run(
            SourceChange::upsert("1", at(5), acme("Health")),
            synced(acme("Retail")),
            DeletePolicy::Propagate,
        );
        match &p.decision {
            Decision::Update { record, fields } => {
                assert_eq!(fields, &["industry".to_owned()]);
                assert_eq!(record.data.industry.as_deref(), Some("Health"));
            }
            other => panic!("{other:?}"),
        }
        assert!(!p.data_moved);
    }

    #[test]
    fn a_field_owned_elsewhere_is_refused_and_nothing_is_written() {
        let mut renamed = acme("Retail");
        renamed.legal_name = "Acme Holdings".into();
        let p = run(
            SourceChange::upsert("1", at(5), renamed),
            synced(acme("Retail")),
            DeletePolicy::Propagate,
        );
        assert!(
            matches!(p.decision, Decision::Unchanged),
            "{:?}",
            p.decision
        );
        assert_eq!(p.refused.len(), 1);
        assert_eq!(p.refused[0].field, "legal_name");
        assert_eq!(p.refused[0].owner, Some(SystemId::odoo()));
    }

    #[test]
    fn the_same_values_again_are_unchanged() {
        let p = run(
            SourceChange::upsert("1", at(5), acme("Retail")),
            synced(acme("Retail")),
            DeletePolicy::Propagate,
        );
        assert!(
            matches!(p.decision, Decision::Unchanged),
            "{:?}",
            p.decision
        );
    }

    #[test]
    fn an_invalid_record_is_rejected_with_its_data_kept_for_the_letter() {
        let nameless = ClientCompany {
            industry: Some("IT".into()),
            ..Default::default()
        };
        let p = run(
            SourceChange::upsert("1", at(1), nameless.clone()),
            new_record(),
            DeletePolicy::Propagate,
        );
        match &p.decision {
            Decision::Reject(e) => {
                assert_eq!(e.kind(), ConnectorErrorKind::NotReady);
                assert!(e.message().contains("client.name"), "{e}");
            }
            other => panic!("{other:?}"),
        }
        assert!(!p.data_moved);
        assert_eq!(p.change.operation.record(), Some(&nameless));
    }

    #[test]
    fn deletes_follow_the_delete_policy() {
        let delete = || SourceChange::<ClientCompany>::delete("1", at(9));
        let decide = |known, policy| run(delete(), known, policy).decision;
        assert!(matches!(
            decide(synced(acme("IT")), DeletePolicy::Propagate),
            Decision::Delete(Some(_))
        ));
        assert!(matches!(
            decide(synced(acme("IT")), DeletePolicy::Report),
            Decision::ReportDelete
        ));
        assert!(matches!(
            decide(synced(acme("IT")), DeletePolicy::Ignore),
            Decision::Unchanged
        ));
        // A record the sync never wrote: nothing to delete.
        assert!(matches!(
            decide(new_record(), DeletePolicy::Propagate),
            Decision::Unchanged
        ));
    }

    #[test]
    fn a_named_field_the_entity_lacks_is_rejected_as_mapping() {
        let change =
            SourceChange::upsert("1", at(1), acme("IT")).with_fields(["industry", "colour"]);
        let p = run(change, synced(acme("Retail")), DeletePolicy::Propagate);
        match &p.decision {
            Decision::Reject(e) => {
                assert_eq!(e.kind(), ConnectorErrorKind::Mapping);
                assert!(e.message().contains("colour"), "{e}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unresolved_reference_is_rejected() {
        let (source, policy, validator) = (crm(), policy(), named());
        let rules = Rules {
            source: &source,
            policy: &policy,
            validator: &validator,
            deletes: DeletePolicy::Propagate,
        };
        let change = SourceChange::upsert("1", at(1), acme("IT"))
            .with_ref("parent_id", crate::Reference::new("client", "99"));
        let p = plan(change, new_record(), &|_, _| None, &rules);
        assert!(
            matches!(p.decision, Decision::Reject(_)),
            "{:?}",
            p.decision
        );
    }

    #[test]
    fn a_lost_stored_record_with_a_sink_id_updates_the_seeded_fields() {
        let known = Known {
            id: CanonicalId::new(),
            target: Some(RemoteId::new("17")),
            current: None,
        };
        let p = run(
            SourceChange::upsert("1", at(1), acme("IT")),
            known,
            DeletePolicy::Propagate,
        );
        match &p.decision {
            Decision::Update { fields, .. } => {
                assert!(fields.contains(&"legal_name".to_owned()), "{fields:?}");
                assert!(fields.contains(&"industry".to_owned()), "{fields:?}");
            }
            other => panic!("{other:?}"),
        }
    }
}
