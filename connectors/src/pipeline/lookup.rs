//! What planning needs from the stores, asked once per page: identities,
//! the sink's ids, the stored canonical records; and the sink's ids of the
//! records that records to send refer to.

use super::Pipeline;
use super::plan::Known;
use crate::connector::{Operation, SinkRecord, SourceChange};
use crate::error::{ConnectorError, Result};
use crate::store::Link;
use odoo_integration_model::{CanonicalId, CanonicalRecord, Entity, RemoteId};
use std::collections::HashMap;

/// What one page needs from the stores.
pub(super) struct Lookups<E> {
    /// Canonical ids of the page's records and of what they reference, by
    /// entity and the source's id.
    ids: HashMap<String, HashMap<RemoteId, CanonicalId>>,
    /// Ids allocated in this page, to be linked before anything is sent.
    pub(super) new: Vec<Link>,
    /// The sink's id of each canonical record that has one.
    targets: HashMap<CanonicalId, RemoteId>,
    /// The stored canonical records.
    records: HashMap<CanonicalId, CanonicalRecord<E>>,
}

impl<E> Lookups<E> {
    /// The canonical id of the record `remote` of `entity`.
    pub(super) fn id(&self, entity: &str, remote: &RemoteId) -> Option<CanonicalId> {
        self.ids.get(entity).and_then(|m| m.get(remote)).copied()
    }

    /// What is known of the record `remote` of the pipeline's entity; its
    /// stored record is handed over (each record is planned once).
    pub(super) fn take(&mut self, entity: &str, remote: &RemoteId) -> Option<Known<E>> {
        let id = self.id(entity, remote)?;
        Some(Known {
            id,
            target: self.targets.get(&id).cloned(),
            current: self.records.remove(&id),
        })
    }
}

impl<E: Entity + Default + Send + Sync + 'static> Pipeline<E> {
    /// Asks the stores, once per page, for everything planning its changes
    /// needs, and allocates canonical ids for records seen the first time.
    pub(super) async fn look_up(&self, page: &[SourceChange<E>]) -> Result<Lookups<E>> {
        let system = self.source_system.clone();
        let mut wanted: HashMap<&str, Vec<RemoteId>> = HashMap::new();
        wanted.insert(E::NAME, Vec::with_capacity(page.len()));
        for change in page {
            wanted
                .entry(E::NAME)
                .or_default()
                .push(change.remote_id.clone());
            for reference in change.refs.values() {
                wanted
                    .entry(reference.entity.as_str())
                    .or_default()
                    .push(reference.remote_id.clone());
            }
        }
        let mut lookups = Lookups {
            ids: HashMap::new(),
            new: Vec::new(),
            targets: HashMap::new(),
            records: HashMap::new(),
        };
        let mut known = Vec::new();
        for (entity, mut remotes) in wanted {
            remotes.sort_unstable();
            remotes.dedup();
            let found = self.state.resolve_many(entity, &system, &remotes).await?;
            let ids = lookups
                .ids
                .entry(entity.to_owned())
                .or_insert_with(|| HashMap::with_capacity(remotes.len()));
            for (remote, id) in remotes.into_iter().zip(found) {
                let id = match id {
                    Some(id) => {
                        known.push(id);
                        id
                    }
                    None => {
                        let id = CanonicalId::new();
                        lookups
                            .new
                            .push(Link::new(entity, id, system.clone(), remote.clone()));
                        id
                    }
                };
                ids.insert(remote, id);
            }
        }
        if known.is_empty() {
            return Ok(lookups);
        }
        for (id, refs) in known.iter().zip(self.state.cross_refs_many(&known).await?) {
            if let Some(remote) = refs.get(&self.sink_system) {
                lookups.targets.insert(*id, remote.clone());
            }
        }
        // Only this entity's records are read; references need no record.
        let own: Vec<CanonicalId> = page
            .iter()
            .filter_map(|c| lookups.id(E::NAME, &c.remote_id))
            .filter(|id| known.contains(id))
            .collect();
        for (id, stored) in own.iter().zip(self.state.records(E::NAME, &own).await?) {
            if let Some(stored) = stored {
                let record: CanonicalRecord<E> = stored.decode().map_err(|e| {
                    ConnectorError::store(format!(
                        "the stored {} {id} does not decode: {}",
                        E::NAME,
                        e.message()
                    ))
                })?;
                lookups.records.insert(*id, record);
            }
        }
        Ok(lookups)
    }

    /// Fills in the sink's ids of the records that records to send refer
    /// to, asking the store once. True when some reference is still
    /// without a sink id (its record is new, or not written yet).
    pub(super) async fn link_references<'a>(
        &self,
        records: impl Iterator<Item = &'a mut SinkRecord<E>>,
    ) -> Result<bool>
    where
        E: 'a,
    {
        // Each record to send with the canonical ids it refers to.
        let mut referring: Vec<(&mut SinkRecord<E>, Vec<CanonicalId>)> = Vec::new();
        for record in records {
            if let Operation::Upsert(data) = &record.operation {
                let ids: Vec<CanonicalId> = data
                    .references()
                    .into_iter()
                    .map(|(_, id)| id)
                    .filter(|id| !record.links.contains_key(id))
                    .collect();
                if !ids.is_empty() {
                    referring.push((record, ids));
                }
            }
        }
        if referring.is_empty() {
            return Ok(false);
        }
        let mut wanted: Vec<CanonicalId> = referring
            .iter()
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let refs = self.state.cross_refs_many(&wanted).await?;
        let remote: HashMap<CanonicalId, RemoteId> = wanted
            .into_iter()
            .zip(refs)
            .filter_map(|(id, refs)| refs.get(&self.sink_system).map(|r| (id, r.clone())))
            .collect();
        let mut unresolved = false;
        for (record, ids) in referring {
            for id in ids {
                match remote.get(&id) {
                    Some(r) => {
                        record.links.insert(id, r.clone());
                    }
                    None => unresolved = true,
                }
            }
        }
        Ok(unresolved)
    }
}
