//! The state both built-in stores keep in memory, split in parts so the file
//! store rewrites only the part a call changed.

use super::{DeadLetter, Link};
use crate::connector::Cursor;
use crate::error::{ConnectorError, ErrorKind, Result};
use canonical_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Part {
    Checkpoints,
    Xrefs,
    Records,
    DeadLetters,
}

impl Part {
    pub(crate) const ALL: [Part; 4] = [
        Part::Checkpoints,
        Part::Xrefs,
        Part::Records,
        Part::DeadLetters,
    ];

    pub(crate) fn file_name(self) -> &'static str {
        match self {
            Part::Checkpoints => "checkpoints.json",
            Part::Xrefs => "xrefs.json",
            Part::Records => "records.json",
            Part::DeadLetters => "dead_letters.json",
        }
    }
}

/// Cross-references, indexed both ways. Serialised as the list of links.
#[derive(Debug, Default, Clone)]
pub(crate) struct Xrefs {
    by_remote: HashMap<(String, SystemId, RemoteId), CanonicalId>,
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

    pub(crate) fn resolve(
        &self,
        entity: &str,
        system: &SystemId,
        remote: &RemoteId,
    ) -> Option<CanonicalId> {
        self.by_remote
            .get(&(entity.to_owned(), system.clone(), remote.clone()))
            .copied()
    }

    pub(crate) fn cross_refs(&self, id: CanonicalId) -> CrossRefs {
        self.by_id
            .get(&id)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    }

    /// Checks every link first, then stores them: all or none.
    pub(crate) fn link(&mut self, links: &[Link]) -> Result<()> {
        let mut pending: HashMap<(String, SystemId, RemoteId), CanonicalId> = HashMap::new();
        let mut pending_ids: HashMap<(String, CanonicalId, SystemId), RemoteId> = HashMap::new();
        for l in links {
            let remote_key = (l.entity.clone(), l.system.clone(), l.remote_id.clone());
            let owner = pending
                .get(&remote_key)
                .or_else(|| self.by_remote.get(&remote_key));
            if let Some(owner) = owner.filter(|o| **o != l.id) {
                return Err(ConnectorError::new(
                    ErrorKind::Store,
                    format!(
                        "{} {} in {} is already linked to {owner}, not {}",
                        l.entity, l.remote_id, l.system, l.id
                    ),
                ));
            }
            let id_key = (l.entity.clone(), l.id, l.system.clone());
            if let Some((entity, _)) = self.by_id.get(&l.id).filter(|(e, _)| *e != l.entity) {
                return Err(ConnectorError::new(
                    ErrorKind::Store,
                    format!("{} is a {entity}, not a {}", l.id, l.entity),
                ));
            }
            let existing = pending_ids.get(&id_key).cloned().or_else(|| {
                self.by_id
                    .get(&l.id)
                    .and_then(|(_, refs)| refs.get(&l.system).cloned())
            });
            if let Some(existing) = existing.filter(|r| *r != l.remote_id) {
                return Err(ConnectorError::new(
                    ErrorKind::Store,
                    format!(
                        "{} {} already has id {existing} in {}, not {}",
                        l.entity, l.id, l.system, l.remote_id
                    ),
                ));
            }
            pending.insert(remote_key, l.id);
            pending_ids.insert(id_key, l.remote_id.clone());
        }
        for l in links {
            self.by_remote.insert(
                (l.entity.clone(), l.system.clone(), l.remote_id.clone()),
                l.id,
            );
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
    pub(crate) records: BTreeMap<String, BTreeMap<CanonicalId, serde_json::Value>>,
    pub(crate) dead_letters: BTreeMap<String, DeadLetter>,
}

impl State {
    pub(crate) fn to_json(&self, part: Part) -> serde_json::Result<Vec<u8>> {
        match part {
            Part::Checkpoints => serde_json::to_vec(&self.checkpoints),
            Part::Xrefs => serde_json::to_vec(&self.xrefs),
            Part::Records => serde_json::to_vec(&self.records),
            Part::DeadLetters => serde_json::to_vec(&self.dead_letters),
        }
    }

    pub(crate) fn load_json(&mut self, part: Part, bytes: &[u8]) -> serde_json::Result<()> {
        match part {
            Part::Checkpoints => self.checkpoints = serde_json::from_slice(bytes)?,
            Part::Xrefs => self.xrefs = serde_json::from_slice(bytes)?,
            Part::Records => self.records = serde_json::from_slice(bytes)?,
            Part::DeadLetters => self.dead_letters = serde_json::from_slice(bytes)?,
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
                system: &canonical_model::SystemId,
                remote: &canonical_model::RemoteId,
            ) -> $crate::Result<Option<canonical_model::CanonicalId>> {
                self.read(|s| s.xrefs.resolve(entity, system, remote)).await
            }
            async fn cross_refs(
                &self,
                id: canonical_model::CanonicalId,
            ) -> $crate::Result<canonical_model::CrossRefs> {
                self.read(|s| s.xrefs.cross_refs(id)).await
            }
            async fn link(&self, links: &[$crate::store::Link]) -> $crate::Result<()> {
                self.update($crate::store::state::Part::Xrefs, |s| s.xrefs.link(links))
                    .await
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::RecordStore for $t {
            async fn record(
                &self,
                entity: &str,
                id: canonical_model::CanonicalId,
            ) -> $crate::Result<Option<serde_json::Value>> {
                self.read(|s| s.records.get(entity).and_then(|r| r.get(&id)).cloned())
                    .await
            }
            async fn save_records(
                &self,
                entity: &str,
                records: Vec<(canonical_model::CanonicalId, serde_json::Value)>,
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
        }
    };
}
pub(crate) use impl_stores;
