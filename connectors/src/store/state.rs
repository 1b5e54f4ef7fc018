//! The state both built-in stores keep in memory, split in parts so the file
//! store rewrites only the part a call changed.

use super::{DeadLetter, HeldConflict, HeldFilter, Lease, Link, StoredRecord};
use crate::connector::Cursor;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use odoo_integration_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Checkpoints,
    Xrefs,
    Records,
    DeadLetters,
    Held,
    Leases,
}

impl Part {
    pub(crate) const ALL: [Part; 6] = [
        Part::Checkpoints,
        Part::Xrefs,
        Part::Records,
        Part::DeadLetters,
        Part::Held,
        Part::Leases,
    ];

    pub(crate) fn file_name(self) -> &'static str {
        match self {
            Part::Checkpoints => "checkpoints.json",
            Part::Xrefs => "xrefs.json",
            Part::Records => "records.json",
            Part::DeadLetters => "dead_letters.json",
            Part::Held => "held.json",
            Part::Leases => "leases.json",
        }
    }
}

/// Cross-references, indexed both ways. Serialised as the list of links.
#[derive(Debug, Default, Clone)]
pub(crate) struct Xrefs {
    /// entity → system → remote id → canonical id; nested so a lookup
    /// borrows its key instead of building one.
    by_remote: HashMap<String, HashMap<SystemId, HashMap<RemoteId, CanonicalId>>>,
    /// Canonical ids are unique across entities (UUID v7).
    by_id: HashMap<CanonicalId, (String, CrossRefs)>,
}

impl Xrefs {
    fn links(&self) -> Vec<Link> {
        let mut links: Vec<Link> = self
            .by_id
            .iter()
            .flat_map(|(id, (entity, refs))| {
                refs.iter().map(|(system, remote)| {
                    Link::new(entity.clone(), *id, system.clone(), remote.clone())
                })
            })
            .collect();
        links.sort_by(|a, b| (&a.entity, a.id, &a.system).cmp(&(&b.entity, b.id, &b.system)));
        links
    }

    pub(crate) fn remote_ids(&self, entity: &str, system: &SystemId) -> Vec<RemoteId> {
        let mut ids: Vec<RemoteId> = self
            .by_remote
            .get(entity)
            .and_then(|s| s.get(system))
            .map(|ids| ids.keys().cloned().collect())
            .unwrap_or_default();
        ids.sort();
        ids
    }

    pub(crate) fn resolve(
        &self,
        entity: &str,
        system: &SystemId,
        remote: &RemoteId,
    ) -> Option<CanonicalId> {
        self.by_remote
            .get(entity)?
            .get(system)?
            .get(remote)
            .copied()
    }

    pub(crate) fn resolve_many(
        &self,
        entity: &str,
        system: &SystemId,
        remotes: &[RemoteId],
    ) -> Vec<Option<CanonicalId>> {
        let ids = self.by_remote.get(entity).and_then(|s| s.get(system));
        remotes
            .iter()
            .map(|r| ids.and_then(|ids| ids.get(r)).copied())
            .collect()
    }

    pub(crate) fn cross_refs(&self, id: CanonicalId) -> CrossRefs {
        self.by_id
            .get(&id)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    }

    /// Checks every link first, then stores them: all or none.
    pub(crate) fn link(&mut self, links: &[Link]) -> Result<()> {
        let mut pending: HashMap<(&str, &SystemId, &RemoteId), CanonicalId> =
            HashMap::with_capacity(links.len());
        let mut pending_ids: HashMap<(CanonicalId, &SystemId), &RemoteId> =
            HashMap::with_capacity(links.len());
        let mut pending_entities: HashMap<CanonicalId, &str> = HashMap::with_capacity(links.len());
        for l in links {
            let remote_key = (l.entity.as_str(), &l.system, &l.remote_id);
            let owner = pending
                .get(&remote_key)
                .copied()
                .or_else(|| self.resolve(&l.entity, &l.system, &l.remote_id));
            if let Some(owner) = owner.filter(|o| *o != l.id) {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::LinkConflict,
                    format!(
                        "{} {} in {} is already linked to {owner}, not {}",
                        l.entity, l.remote_id, l.system, l.id
                    ),
                ));
            }
            let stored = self.by_id.get(&l.id);
            let entity = pending_entities
                .get(&l.id)
                .copied()
                .or_else(|| stored.map(|(e, _)| e.as_str()));
            if let Some(entity) = entity.filter(|e| *e != l.entity) {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::LinkConflict,
                    format!("{} is a {entity}, not a {}", l.id, l.entity),
                ));
            }
            pending_entities.insert(l.id, l.entity.as_str());
            let existing = pending_ids
                .get(&(l.id, &l.system))
                .copied()
                .or_else(|| stored.and_then(|(_, refs)| refs.get(&l.system)));
            if let Some(existing) = existing.filter(|r| **r != l.remote_id) {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::LinkConflict,
                    format!(
                        "{} {} already has id {existing} in {}, not {}",
                        l.entity, l.id, l.system, l.remote_id
                    ),
                ));
            }
            pending.insert(remote_key, l.id);
            pending_ids.insert((l.id, &l.system), &l.remote_id);
        }
        for l in links {
            if !self.by_remote.contains_key(l.entity.as_str()) {
                self.by_remote.insert(l.entity.clone(), HashMap::new());
            }
            let Some(systems) = self.by_remote.get_mut(l.entity.as_str()) else {
                continue;
            };
            if !systems.contains_key(&l.system) {
                systems.insert(l.system.clone(), HashMap::new());
            }
            let Some(ids) = systems.get_mut(&l.system) else {
                continue;
            };
            if ids.contains_key(&l.remote_id) {
                continue;
            }
            ids.insert(l.remote_id.clone(), l.id);
            self.by_id
                .entry(l.id)
                .or_insert_with(|| (l.entity.clone(), CrossRefs::new()))
                .1
                .insert(l.system.clone(), l.remote_id.clone());
        }
        Ok(())
    }
}

impl Serialize for Xrefs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.links().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Xrefs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let links = Vec::<Link>::deserialize(d)?;
        let mut x = Xrefs::default();
        x.link(&links).map_err(serde::de::Error::custom)?;
        Ok(x)
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct State {
    pub(crate) checkpoints: BTreeMap<String, Cursor>,
    pub(crate) xrefs: Xrefs,
    pub(crate) records: BTreeMap<String, BTreeMap<CanonicalId, StoredRecord>>,
    pub(crate) dead_letters: BTreeMap<String, DeadLetter>,
    pub(crate) held: BTreeMap<String, HeldConflict>,
    pub(crate) leases: BTreeMap<String, Lease>,
}

impl State {
    pub(crate) fn to_json(&self, part: Part) -> serde_json::Result<Vec<u8>> {
        match part {
            Part::Checkpoints => serde_json::to_vec(&self.checkpoints),
            Part::Xrefs => serde_json::to_vec(&self.xrefs),
            Part::Records => serde_json::to_vec(&self.records),
            Part::DeadLetters => serde_json::to_vec(&self.dead_letters),
            Part::Held => serde_json::to_vec(&self.held),
            Part::Leases => serde_json::to_vec(&self.leases),
        }
    }

    pub(crate) fn load_json(&mut self, part: Part, bytes: &[u8]) -> serde_json::Result<()> {
        match part {
            Part::Checkpoints => self.checkpoints = serde_json::from_slice(bytes)?,
            Part::Xrefs => self.xrefs = serde_json::from_slice(bytes)?,
            Part::Records => self.records = serde_json::from_slice(bytes)?,
            Part::DeadLetters => self.dead_letters = serde_json::from_slice(bytes)?,
            Part::Held => self.held = serde_json::from_slice(bytes)?,
            Part::Leases => self.leases = serde_json::from_slice(bytes)?,
        }
        Ok(())
    }

    pub(crate) fn letters(&self, entity: &str) -> Vec<DeadLetter> {
        let mut out: Vec<DeadLetter> = self
            .dead_letters
            .values()
            .filter(|l| l.entity == entity)
            .cloned()
            .collect();
        out.sort_by_key(|l| l.first_seen);
        out
    }

    pub(crate) fn held(&self, filter: &HeldFilter) -> Vec<HeldConflict> {
        let mut out: Vec<HeldConflict> = self
            .held
            .values()
            .filter(|c| filter.matches(c))
            .cloned()
            .collect();
        out.sort_by(|a, b| (a.first_seen, &a.key).cmp(&(b.first_seen, &b.key)));
        out
    }

    pub(crate) fn hold(&mut self, conflicts: Vec<HeldConflict>) {
        for c in conflicts {
            let c = match self.held.remove(&c.key) {
                Some(old) => old.again(c),
                None => c,
            };
            self.held.insert(c.key.clone(), c);
        }
    }

    /// Takes or renews `name` for `holder` at `now`: free, lapsed, or its own.
    pub(crate) fn acquire(
        &mut self,
        name: &str,
        holder: &str,
        now: chrono::DateTime<chrono::Utc>,
        ttl: std::time::Duration,
    ) -> Option<Lease> {
        let token = match self.leases.get(name) {
            Some(l) if l.holder == holder && l.expires_at > now => l.token,
            Some(l) if l.expires_at > now => return None,
            Some(l) => l.token.saturating_add(1),
            None => 1,
        };
        let lease = Lease {
            name: name.to_owned(),
            holder: holder.to_owned(),
            token,
            expires_at: super::review::expiry(now, ttl),
        };
        self.leases.insert(name.to_owned(), lease.clone());
        Some(lease)
    }

    /// Gives `lease` up at `now` if it is still the live one. The entry
    /// stays, lapsed, so the next holder's token is bigger: a fencing token
    /// that went back to 1 would let a stale holder's writes pass the fence.
    pub(crate) fn release(&mut self, lease: &Lease, now: chrono::DateTime<chrono::Utc>) {
        if self.holds(lease, now)
            && let Some(l) = self.leases.get_mut(&lease.name)
        {
            l.expires_at = now;
        }
    }

    /// Whether `lease` is still the live one at `now`.
    pub(crate) fn holds(&self, lease: &Lease, now: chrono::DateTime<chrono::Utc>) -> bool {
        self.leases.get(&lease.name).is_some_and(|l| {
            l.holder == lease.holder && l.token == lease.token && l.expires_at > now
        })
    }
}

/// Implements the four store traits for a type with
/// `async fn read<R>(&self, f: impl FnOnce(&State) -> R) -> Result<R>` and
/// `async fn update<R>(&self, part, f: impl FnOnce(&mut State) -> Result<R>) -> Result<R>`.
macro_rules! impl_stores {
    ($t:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::CheckpointStore for $t {
            async fn checkpoint(&self, key: &str) -> $crate::Result<Option<$crate::Cursor>> {
                self.read(|s| s.checkpoints.get(key).cloned()).await
            }
            async fn save_checkpoint(
                &self,
                key: &str,
                cursor: &$crate::Cursor,
            ) -> $crate::Result<()> {
                self.update($crate::store::state::Part::Checkpoints, |s| {
                    s.checkpoints.insert(key.to_owned(), cursor.clone());
                    Ok(())
                })
                .await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::XrefStore for $t {
            async fn resolve(
                &self,
                entity: &str,
                system: &odoo_integration_model::SystemId,
                remote: &odoo_integration_model::RemoteId,
            ) -> $crate::Result<Option<odoo_integration_model::CanonicalId>> {
                self.read(|s| s.xrefs.resolve(entity, system, remote)).await
            }
            async fn cross_refs(
                &self,
                id: odoo_integration_model::CanonicalId,
            ) -> $crate::Result<odoo_integration_model::CrossRefs> {
                self.read(|s| s.xrefs.cross_refs(id)).await
            }
            async fn resolve_many(
                &self,
                entity: &str,
                system: &odoo_integration_model::SystemId,
                remotes: &[odoo_integration_model::RemoteId],
            ) -> $crate::Result<Vec<Option<odoo_integration_model::CanonicalId>>> {
                self.read(|s| s.xrefs.resolve_many(entity, system, remotes))
                    .await
            }
            async fn cross_refs_many(
                &self,
                ids: &[odoo_integration_model::CanonicalId],
            ) -> $crate::Result<Vec<odoo_integration_model::CrossRefs>> {
                self.read(|s| ids.iter().map(|id| s.xrefs.cross_refs(*id)).collect())
                    .await
            }
            async fn link(&self, links: &[$crate::store::Link]) -> $crate::Result<()> {
                self.update($crate::store::state::Part::Xrefs, |s| s.xrefs.link(links))
                    .await
            }
            async fn remote_ids(
                &self,
                entity: &str,
                system: &odoo_integration_model::SystemId,
            ) -> $crate::Result<Vec<odoo_integration_model::RemoteId>> {
                self.read(|s| s.xrefs.remote_ids(entity, system)).await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::RecordStore for $t {
            async fn record(
                &self,
                entity: &str,
                id: odoo_integration_model::CanonicalId,
            ) -> $crate::Result<Option<$crate::StoredRecord>> {
                self.read(|s| s.records.get(entity).and_then(|r| r.get(&id)).cloned())
                    .await
            }
            async fn records(
                &self,
                entity: &str,
                ids: &[odoo_integration_model::CanonicalId],
            ) -> $crate::Result<Vec<Option<$crate::StoredRecord>>> {
                self.read(|s| {
                    let stored = s.records.get(entity);
                    ids.iter()
                        .map(|id| stored.and_then(|r| r.get(id)).cloned())
                        .collect()
                })
                .await
            }
            async fn save_records(
                &self,
                entity: &str,
                records: Vec<(odoo_integration_model::CanonicalId, $crate::StoredRecord)>,
            ) -> $crate::Result<()> {
                self.update($crate::store::state::Part::Records, |s| {
                    s.records
                        .entry(entity.to_owned())
                        .or_default()
                        .extend(records);
                    Ok(())
                })
                .await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::DeadLetterQueue for $t {
            async fn put(&self, letter: $crate::store::DeadLetter) -> $crate::Result<()> {
                self.update($crate::store::state::Part::DeadLetters, |s| {
                    s.dead_letters.insert(letter.key.clone(), letter);
                    Ok(())
                })
                .await
            }
            async fn letter(&self, key: &str) -> $crate::Result<Option<$crate::store::DeadLetter>> {
                self.read(|s| s.dead_letters.get(key).cloned()).await
            }
            async fn letters(
                &self,
                entity: &str,
            ) -> $crate::Result<Vec<$crate::store::DeadLetter>> {
                self.read(|s| s.letters(entity)).await
            }
            async fn remove(&self, key: &str) -> $crate::Result<()> {
                self.update($crate::store::state::Part::DeadLetters, |s| {
                    s.dead_letters.remove(key);
                    Ok(())
                })
                .await
            }
            async fn remove_many(&self, keys: &[String]) -> $crate::Result<usize> {
                if self
                    .read(|s| keys.iter().all(|k| !s.dead_letters.contains_key(k)))
                    .await?
                {
                    return Ok(0);
                }
                self.update($crate::store::state::Part::DeadLetters, |s| {
                    Ok(keys
                        .iter()
                        .filter(|k| s.dead_letters.remove(k.as_str()).is_some())
                        .count())
                })
                .await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::HeldStore for $t {
            async fn hold(
                &self,
                conflicts: Vec<$crate::store::HeldConflict>,
            ) -> $crate::Result<()> {
                if conflicts.is_empty() {
                    return Ok(());
                }
                self.update($crate::store::state::Part::Held, |s| {
                    s.hold(conflicts);
                    Ok(())
                })
                .await
            }
            async fn held_conflict(
                &self,
                key: &str,
            ) -> $crate::Result<Option<$crate::store::HeldConflict>> {
                self.read(|s| s.held.get(key).cloned()).await
            }
            async fn held(
                &self,
                filter: &$crate::store::HeldFilter,
            ) -> $crate::Result<Vec<$crate::store::HeldConflict>> {
                self.read(|s| s.held(filter)).await
            }
            async fn decide(
                &self,
                key: &str,
                resolution: $crate::store::Resolution,
            ) -> $crate::Result<bool> {
                self.update($crate::store::state::Part::Held, |s| {
                    Ok(match s.held.get_mut(key) {
                        Some(c) => {
                            c.decision = Some(resolution);
                            true
                        }
                        None => false,
                    })
                })
                .await
            }
            async fn remove_held(&self, keys: &[String]) -> $crate::Result<usize> {
                if self
                    .read(|s| keys.iter().all(|k| !s.held.contains_key(k)))
                    .await?
                {
                    return Ok(0);
                }
                self.update($crate::store::state::Part::Held, |s| {
                    Ok(keys
                        .iter()
                        .filter(|k| s.held.remove(k.as_str()).is_some())
                        .count())
                })
                .await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::LeaseStore for $t {
            async fn acquire(
                &self,
                name: &str,
                holder: &str,
                ttl: std::time::Duration,
            ) -> $crate::Result<Option<$crate::store::Lease>> {
                self.update($crate::store::state::Part::Leases, |s| {
                    Ok(s.acquire(name, holder, chrono::Utc::now(), ttl))
                })
                .await
            }
            async fn renew(
                &self,
                lease: &$crate::store::Lease,
                ttl: std::time::Duration,
            ) -> $crate::Result<Option<$crate::store::Lease>> {
                self.update($crate::store::state::Part::Leases, |s| {
                    let now = chrono::Utc::now();
                    Ok(if s.holds(lease, now) {
                        s.acquire(&lease.name, &lease.holder, now, ttl)
                    } else {
                        None
                    })
                })
                .await
            }
            async fn release(&self, lease: &$crate::store::Lease) -> $crate::Result<()> {
                self.update($crate::store::state::Part::Leases, |s| {
                    s.release(lease, chrono::Utc::now());
                    Ok(())
                })
                .await
            }
            async fn lease(&self, name: &str) -> $crate::Result<Option<$crate::store::Lease>> {
                let now = chrono::Utc::now();
                self.read(|s| s.leases.get(name).filter(|l| l.expires_at > now).cloned())
                    .await
            }
        }
    };
}
pub(crate) use impl_stores;
