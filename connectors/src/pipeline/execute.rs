//! Execution: carrying out the plans of one page. Every side effect of a
//! run happens here or in the modules this one calls: the stores are asked
//! once per page, identities linked before anything is sent, records sent
//! in waves and batches, outcomes recorded, failures filed as dead letters.

use super::letters::Letter;
use super::plan::{Decision, Plan, Rules, plan};
use super::{HeldChange, Pipeline, PlannedAction, PlannedChange, RefusedChange, RunSummary};
use crate::connector::{Operation, Outcome, SinkRecord, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::store::{DeadLetter, HeldConflict, Link, StoredRecord};
use futures::StreamExt;
use odoo_integration_model::{CanonicalId, CanonicalRecord, Entity, RemoteId};
use std::collections::{HashMap, HashSet};

/// A record on its way to the sink, with what is kept beside it.
pub(super) struct Outgoing<E> {
    /// What the sink is sent. Its data is moved out on the first send; a
    /// retry sends a copy of the canonical record's data.
    pub(super) record: SinkRecord<E>,
    /// The canonical record to store once the sink has it: for a delete,
    /// marked deleted (`None`: a delete of a record never stored).
    pub(super) canonical: Option<Box<CanonicalRecord<E>>>,
    /// To file a dead letter, should the sink fail it.
    letter: Letter<E>,
    /// The letter's change gave its data to the canonical record.
    data_moved: bool,
    /// Whether the record has been sent once.
    sent: bool,
}

/// Records on their way to the sink, boxed so that moving them between
/// waves and batches moves a pointer.
type Lot<E> = Vec<Box<Outgoing<E>>>;

/// A change refused before it reached the sink, with its reason: boxed,
/// as a result's error should be small.
type Rejected<E> = Box<(Letter<E>, ConnectorError)>;

impl<E: Entity + Clone> Outgoing<E> {
    /// The record to send: moved out the first time, copied after.
    pub(super) fn next_send(&mut self) -> SinkRecord<E> {
        let operation = if self.sent {
            match &self.canonical {
                Some(c) if c.deleted_at().is_none() => Operation::Upsert(c.data.clone()),
                _ => Operation::Delete,
            }
        } else {
            self.sent = true;
            std::mem::replace(&mut self.record.operation, Operation::Delete)
        };
        let r = &self.record;
        let mut out = SinkRecord::new(r.id, r.origin.clone(), r.origin_id.clone(), operation);
        out.target_id.clone_from(&r.target_id);
        out.fields.clone_from(&r.fields);
        out.links.clone_from(&r.links);
        out
    }

    /// The dead letter for a failed send, the change whole again.
    fn into_letter(self) -> Letter<E> {
        let mut letter = self.letter;
        if self.data_moved
            && let (Some(record), Some(change)) = (self.canonical, &mut letter.change)
        {
            change.operation = Operation::Upsert(record.data);
        }
        letter
    }
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Plans, applies and records one batch of changes. `already_mapped`:
    /// the changes have been through the mapping step (dead letters that
    /// failed after it).
    pub(super) async fn process(
        &self,
        changes: Vec<SourceChange<E>>,
        already_mapped: bool,
        summary: &mut RunSummary,
    ) -> Result<()> {
        let mut rejected: Vec<(Letter<E>, ConnectorError)> = Vec::new();
        let mut mapped = Vec::with_capacity(changes.len());
        for change in last_of_each(changes, summary) {
            match self.map_change(change, already_mapped) {
                Ok(change) => mapped.push(change),
                Err(reject) => rejected.push(*reject),
            }
        }
        let mut lookups = self.look_up(&mapped).await?;
        let rules = Rules {
            source: &self.source_system,
            policy: &self.policy,
            validator: &self.validator,
            deletes: self.deletes,
        };
        let mut knowns = Vec::with_capacity(mapped.len());
        for change in &mapped {
            knowns.push(lookups.take(E::NAME, &change.remote_id));
        }
        let held = self.match_new(&mapped, &mut knowns).await?;
        let resolve = |entity: &str, remote: &RemoteId| lookups.id(entity, remote);
        let mut plans = Vec::with_capacity(mapped.len());
        for ((change, known), held) in mapped.into_iter().zip(knowns).zip(held) {
            if let Some(ambiguous) = held {
                rejected.push((Letter::of(change, true), ambiguous));
                continue;
            }
            let Some(known) = known else {
                // Unreachable: look_up gave every record of the page an id.
                let error =
                    ConnectorError::new(ConnectorErrorKind::Protocol, "no identity was allocated");
                rejected.push((Letter::of(change, true), error));
                continue;
            };
            let p = plan(change, known, &resolve, &rules);
            let remote_id = &p.change.remote_id;
            summary
                .refused
                .extend(p.refused.iter().map(|refused| RefusedChange {
                    remote_id: remote_id.clone(),
                    refused: refused.clone(),
                }));
            summary.held.extend(p.held.iter().map(|held| HeldChange {
                remote_id: remote_id.clone(),
                held: held.clone(),
            }));
            if matches!(p.decision, Decision::ReportDelete) {
                summary.deletes_reported.push(remote_id.clone());
            }
            plans.push(p);
        }
        if self.dry_run {
            summary
                .planned
                .extend(rejected.into_iter().map(|(letter, error)| PlannedChange {
                    remote_id: letter.remote_id,
                    action: PlannedAction::Reject {
                        error: error.to_string(),
                    },
                }));
            summary.planned.extend(plans.into_iter().map(planned));
            return Ok(());
        }
        // Held before anything is sent: the source may never send them
        // again, and the checkpoint moves past this page.
        let conflicts: Vec<HeldConflict> = plans
            .iter()
            .flat_map(|p| {
                p.held.iter().map(|h| {
                    HeldConflict::from_held(&self.name, E::NAME, p.id, &p.change.remote_id, h)
                })
            })
            .collect();
        self.state.hold(conflicts).await?;
        // New identities first: a rerun must find the same canonical ids.
        if !lookups.new.is_empty() {
            self.state.link(&lookups.new).await?;
        }
        self.send(plans, rejected, summary).await.map(|_| ())
    }

    /// Sends what `plans` say to the sink, in waves and batches, records
    /// the outcomes, and files what failed (`rejected` too) as dead
    /// letters. Returns the canonical ids written.
    pub(super) async fn send(
        &self,
        plans: Vec<Plan<E>>,
        mut rejected: Vec<(Letter<E>, ConnectorError)>,
        summary: &mut RunSummary,
    ) -> Result<Vec<CanonicalId>> {
        let mut to_send: Lot<E> = Vec::new();
        for p in plans {
            match self.outgoing(p) {
                Ok(Some(out)) => to_send.push(Box::new(out)),
                Ok(None) => summary.unchanged += 1,
                Err(reject) => rejected.push(*reject),
            }
        }
        let mut unresolved = self
            .link_references(to_send.iter_mut().map(|o| &mut o.record))
            .await?;
        let mut written_ids = Vec::new();
        let mut records = Vec::new();
        let mut recovered = Vec::new();
        // What the sink did: records through, and those it failed.
        let mut written = 0;
        let mut failed_sends: Vec<(Letter<E>, ConnectorError)> = Vec::new();
        // Records that refer to records of this page not yet in the sink
        // (an employee and their manager, new together) go in a later
        // wave, once the sink has given the referred ones their ids.
        let mut waiting = to_send;
        while !waiting.is_empty() {
            // Only a reference still without a sink id can wait for a
            // record of this page; usually there is none, and all go.
            let (wave, later) = if unresolved {
                next_wave(waiting)
            } else {
                (waiting, Vec::new())
            };
            waiting = later;
            let results: Vec<_> =
                futures::stream::iter(chunked(wave, self.batch_size).map(|mut chunk| async move {
                    let outcomes = self.apply(&mut chunk).await;
                    (chunk, outcomes)
                }))
                .buffer_unordered(self.concurrency)
                .collect()
                .await;
            let mut links = Vec::new();
            for (chunk, outcomes) in results {
                for (out, outcome) in chunk.into_iter().zip(outcomes) {
                    if let Outcome::Failed(error) = outcome {
                        failed_sends.push((out.into_letter(), error));
                        continue;
                    }
                    written += 1;
                    written_ids.push(out.record.id);
                    match &outcome {
                        Outcome::Created(_) => summary.created += 1,
                        Outcome::Updated(_) => summary.updated += 1,
                        Outcome::Unchanged(_) => summary.unchanged += 1,
                        Outcome::Deleted(_) => summary.deleted += 1,
                        Outcome::Failed(_) => {}
                    }
                    if let Some(remote) = outcome.remote_id() {
                        links.push(Link::new(
                            E::NAME,
                            out.record.id,
                            self.sink_system.clone(),
                            remote.clone(),
                        ));
                    }
                    if let Some(c) = &out.canonical {
                        records.push((c.id, StoredRecord::encode(c)?));
                    }
                    recovered.push(DeadLetter::key_of(
                        E::NAME,
                        &self.source_system,
                        &out.letter.remote_id,
                    ));
                }
            }
            self.record_links(links, &mut rejected).await?;
            if !waiting.is_empty() {
                unresolved = self
                    .link_references(waiting.iter_mut().map(|o| &mut o.record))
                    .await?;
            }
        }
        if !records.is_empty() {
            self.state.save_records(E::NAME, records).await?;
        }
        summary.recovered += self.state.remove_many(&recovered).await?;
        let errors: Vec<&ConnectorError> = failed_sends.iter().map(|(_, e)| e).collect();
        let tripped = self.breaker.record(written, &errors);
        for (letter, error) in rejected {
            self.dead_letter(letter, &error, summary).await?;
        }
        if let Some(stop) = tripped {
            // The system's failures stay where they are: the checkpoint
            // does not move past this page, so the next run reads them
            // again. The records' own failures are dead letters.
            for (letter, error) in failed_sends {
                if !super::breaker::system_failure(&error) {
                    self.dead_letter(letter, &error, summary).await?;
                }
            }
            return Err(stop);
        }
        for (letter, error) in failed_sends {
            self.dead_letter(letter, &error, summary).await?;
        }
        Ok(written_ids)
    }

    /// Runs the mapping step (unless the change has been through it). A
    /// change that fails it is dead-lettered as the step left it, to be
    /// mapped again on replay: mapping steps must be idempotent.
    fn map_change(
        &self,
        mut change: SourceChange<E>,
        mapped: bool,
    ) -> std::result::Result<SourceChange<E>, Rejected<E>> {
        let Some(map) = self.mapper.as_ref().filter(|_| !mapped) else {
            return Ok(change);
        };
        match map(&mut change) {
            Ok(()) => Ok(change),
            Err(error) => Err(Box::new((Letter::of(change, false), error))),
        }
    }

    /// What a plan sends: `None` when there is nothing to send, the
    /// rejection when the plan is one.
    fn outgoing(&self, p: Plan<E>) -> std::result::Result<Option<Outgoing<E>>, Rejected<E>> {
        let Plan {
            id,
            target,
            decision,
            change,
            data_moved,
            ..
        } = p;
        let (operation, canonical, fields) = match decision {
            Decision::Unchanged | Decision::ReportDelete => return Ok(None),
            Decision::Reject(error) => return Err(Box::new((Letter::of(change, true), error))),
            // The record marked deleted, stored once the sink has done it.
            Decision::Delete(record) => (Operation::Delete, record, None),
            // The one copy of the data on the way: the canonical record
            // stays, to be stored once the sink has it.
            Decision::Create(record) => {
                (Operation::Upsert(record.data.clone()), Some(record), None)
            }
            Decision::Update { record, fields } => (
                Operation::Upsert(record.data.clone()),
                Some(record),
                Some(fields),
            ),
        };
        let letter = Letter::of(change, true);
        let mut record = SinkRecord::new(
            id,
            self.source_system.clone(),
            letter.remote_id.clone(),
            operation,
        );
        record.fields = fields;
        record.target_id = target;
        Ok(Some(Outgoing {
            record,
            canonical,
            letter,
            data_moved,
            sent: false,
        }))
    }
}

/// The same record twice in a page: its last change stands, the earlier
/// ones count as unchanged.
fn last_of_each<E>(
    changes: Vec<SourceChange<E>>,
    summary: &mut RunSummary,
) -> impl Iterator<Item = SourceChange<E>> {
    let mut last: HashMap<&RemoteId, usize> = HashMap::with_capacity(changes.len());
    for (i, c) in changes.iter().enumerate() {
        last.insert(&c.remote_id, i);
    }
    let keep: Vec<bool> = (0..changes.len())
        .map(|i| last.get(&changes[i].remote_id) == Some(&i))
        .collect();
    drop(last);
    summary.unchanged += keep.iter().filter(|k| !**k).count();
    changes
        .into_iter()
        .zip(keep)
        .filter_map(|(change, keep)| keep.then_some(change))
}

/// What a dry run reports for a plan.
fn planned<E>(p: Plan<E>) -> PlannedChange {
    let action = match p.decision {
        Decision::Create(_) => PlannedAction::Create,
        Decision::Update { fields, .. } => PlannedAction::Update { fields },
        Decision::Delete(_) => PlannedAction::Delete,
        Decision::Unchanged | Decision::ReportDelete => PlannedAction::Unchanged,
        Decision::Reject(error) => PlannedAction::Reject {
            error: error.to_string(),
        },
    };
    PlannedChange {
        remote_id: p.change.remote_id,
        action,
    }
}

/// Splits records to send into those that can go now and those that
/// refer to a record of the same lot the sink has no id for yet (it is
/// new, and in the lot). When none can go (a cycle), all go, and the
/// sink reports the unresolved references.
fn next_wave<E: Entity>(records: Lot<E>) -> (Lot<E>, Lot<E>) {
    let in_lot: HashSet<CanonicalId> = records.iter().map(|o| o.record.id).collect();
    let waits = |r: &SinkRecord<E>| match &r.operation {
        Operation::Upsert(data) => data
            .references()
            .into_iter()
            .any(|(_, id)| id != r.id && in_lot.contains(&id) && !r.links.contains_key(&id)),
        Operation::Delete => false,
    };
    let (later, now): (Vec<_>, Vec<_>) = records.into_iter().partition(|o| waits(&o.record));
    if now.is_empty() {
        (later, Vec::new())
    } else {
        (now, later)
    }
}

/// `items` in chunks of `size`.
fn chunked<T>(items: Vec<T>, size: usize) -> impl Iterator<Item = Vec<T>> {
    let mut it = items.into_iter().peekable();
    std::iter::from_fn(move || {
        it.peek()?;
        Some(it.by_ref().take(size).collect())
    })
}
