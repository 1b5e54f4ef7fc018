//! The review queues' side of a run: decisions on held conflicts applied
//! before the source is read, and dead letters replayed on request.

use super::plan::{Decision, Plan};
use super::{Pipeline, RunSummary};
use crate::connector::SourceChange;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::store::{DeadLetter, HeldConflict, HeldFilter, Resolution};
use chrono::Utc;
use odoo_integration_model::{CanonicalRecord, Change, Entity, Policy, SystemId, merge};
use std::collections::HashMap;

/// The provenance of a value a person set ([`Resolution::Set`]).
pub(crate) fn reviewer() -> SystemId {
    SystemId::new("review")
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Applies the decisions people took on this pipeline's held
    /// conflicts: an accepted or set value is written to the sink (those
    /// fields only) and to the canonical record, with a provenance entry
    /// (the source's, or `review` for a set value); a kept value is
    /// dropped. A conflict leaves the store once its decision is applied;
    /// one whose write failed stays decided for the next run.
    pub(super) async fn apply_decisions(&self, summary: &mut RunSummary) -> Result<()> {
        let filter = HeldFilter::default().pipeline(&self.name).decided();
        let decided = self.state.held(&filter).await?;
        if decided.is_empty() {
            return Ok(());
        }
        let mut done: Vec<String> = Vec::new();
        // Per record, its conflicts: one write per record.
        let mut by_record: HashMap<_, Vec<HeldConflict>> = HashMap::new();
        for c in decided {
            match c.decision {
                Some(Resolution::KeepCurrent) | None => done.push(c.key),
                Some(_) => by_record.entry(c.id).or_default().push(c),
            }
        }
        let ids: Vec<_> = by_record.keys().copied().collect();
        let stored = self.state.records(E::NAME, &ids).await?;
        let refs = self.state.cross_refs_many(&ids).await?;
        let mut plans = Vec::with_capacity(ids.len());
        let mut keys_of = HashMap::with_capacity(ids.len());
        for ((id, stored), refs) in ids.into_iter().zip(stored).zip(refs) {
            let conflicts = by_record.remove(&id).unwrap_or_default();
            let Some(stored) = stored else {
                // The record is gone from the sync's store: nothing to
                // apply the value to.
                tracing::warn!(pipeline = %self.name, %id, "a decided conflict's record is not stored; dropped");
                done.extend(conflicts.into_iter().map(|c| c.key));
                continue;
            };
            let mut record: CanonicalRecord<E> = stored.decode()?;
            let mut fields = Vec::new();
            let mut keys = Vec::new();
            for c in conflicts {
                let (value, by) = match &c.decision {
                    Some(Resolution::Set(v)) => (v.clone(), reviewer()),
                    _ => (c.attempted.clone(), c.source.clone()),
                };
                let change = Change::new(format!("review:{}", c.key), Utc::now())
                    .with(c.field.clone(), value);
                // No owners: a decision overrides the policy, once.
                match merge(&mut record, &change, &by, &Policy::default()) {
                    Ok(_) => {
                        fields.push(c.field.clone());
                        keys.push(c.key);
                    }
                    Err(e) => {
                        // A value the field cannot take: back to a person.
                        tracing::warn!(pipeline = %self.name, key = %c.key, error = %e, "a review decision does not fit its field; undecided again");
                        let mut undecided = c;
                        undecided.decision = None;
                        self.state.hold(vec![undecided]).await?;
                    }
                }
            }
            if fields.is_empty() {
                continue;
            }
            let Some(target) = refs.get(&self.sink_system).cloned() else {
                tracing::warn!(pipeline = %self.name, %id, "a decided conflict's record is not in the sink yet; kept for the next run");
                continue;
            };
            let Some(remote_id) = refs.get(&self.source_system).cloned() else {
                continue;
            };
            let change = SourceChange::upsert(remote_id.as_str(), Utc::now(), record.data.clone());
            keys_of.insert(id, keys);
            plans.push(Plan {
                id,
                target: Some(target),
                decision: Decision::Update {
                    record: Box::new(record),
                    fields,
                },
                refused: Vec::new(),
                held: Vec::new(),
                change,
                data_moved: false,
            });
        }
        for id in self.send(plans, Vec::new(), summary).await? {
            if let Some(keys) = keys_of.remove(&id) {
                done.extend(keys);
            }
        }
        summary.decided += self.state.remove_held(&done).await?;
        Ok(())
    }

    /// Replays the dead letters with these keys, parked or not (a person
    /// asked for them), as [`replay`](Self::replay) does; keys of another
    /// entity or source, or of no letter, are skipped.
    ///
    /// # Errors
    ///
    /// A store failed.
    ///
    /// # Example
    ///
    /// See [`crate::review::Review`].
    pub async fn replay_keys(&self, keys: &[String]) -> Result<RunSummary> {
        let mut letters = Vec::with_capacity(keys.len());
        for key in keys {
            if let Some(l) = self.state.letter(key).await? {
                letters.push(l);
            }
        }
        self.replay_letters(letters, true).await
    }

    /// Replays `letters` of this pipeline's entity and source; parked ones
    /// only when `parked`.
    pub(super) async fn replay_letters(
        &self,
        letters: Vec<DeadLetter>,
        parked: bool,
    ) -> Result<RunSummary> {
        let system = self.source_system.clone();
        let mut summary = RunSummary::default();
        let mut changes = Vec::new();
        for letter in letters {
            if (letter.parked && !parked) || letter.system != system || letter.entity != E::NAME {
                continue;
            }
            match serde_json::from_value::<SourceChange<E>>(letter.payload.clone()) {
                Ok(change) => changes.push((letter.mapped, change)),
                Err(e) => {
                    let error = ConnectorError::new(
                        ConnectorErrorKind::Mapping,
                        format!("the stored change no longer decodes: {e}"),
                    );
                    let mut parked = letter.clone();
                    parked.error = (&error).into();
                    parked.parked = true;
                    self.state.put(parked).await?;
                    summary.parked += 1;
                }
            }
        }
        summary.read = changes.len();
        // Those not yet mapped, then those that were.
        let (done, todo): (Vec<_>, Vec<_>) = changes.into_iter().partition(|(m, _)| *m);
        for (mapped, group) in [(false, todo), (true, done)] {
            let mut group = group.into_iter().map(|(_, c)| c).peekable();
            while group.peek().is_some() {
                let chunk: Vec<SourceChange<E>> = group.by_ref().take(self.batch_size).collect();
                self.process(chunk, mapped, &mut summary).await?;
            }
        }
        tracing::info!(pipeline = %self.name, %summary, "dead letters replayed");
        Ok(summary)
    }
}
