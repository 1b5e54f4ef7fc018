//! Checkpoints and cross-references.

use super::{SqliteStore, db_error, json_array, parse_id};
use crate::connector::Cursor;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::store::Link;
use async_trait::async_trait;
use odoo_integration_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::HashMap;

fn conflict(message: String) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::LinkConflict, message)
}

/// [`XrefStore::link`](crate::XrefStore::link): checks every link against
/// the table and the links before it, then stores them, in one
/// transaction. Same checks and messages as the built-in stores, plus one
/// they lack: a canonical id given two entities within the call.
fn link_all(conn: &mut Connection, links: &[Link]) -> Result<()> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| db_error("linking", e))?;
    {
        let mut owner_of = tx
            .prepare_cached(
                "SELECT id FROM xrefs WHERE entity = ?1 AND system = ?2 AND remote_id = ?3",
            )
            .map_err(|e| db_error("linking", e))?;
        let mut entity_of = tx
            .prepare_cached("SELECT entity FROM xrefs WHERE id = ?1 LIMIT 1")
            .map_err(|e| db_error("linking", e))?;
        let mut remote_of = tx
            .prepare_cached("SELECT remote_id FROM xrefs WHERE id = ?1 AND system = ?2")
            .map_err(|e| db_error("linking", e))?;

        let mut pending: HashMap<(&str, &SystemId, &RemoteId), CanonicalId> = HashMap::new();
        let mut pending_ids: HashMap<(CanonicalId, &SystemId), &RemoteId> = HashMap::new();
        let mut pending_entities: HashMap<CanonicalId, &str> = HashMap::new();
        for l in links {
            let id = l.id.to_string();
            let remote_key = (l.entity.as_str(), &l.system, &l.remote_id);
            let owner = match pending.get(&remote_key) {
                Some(owner) => Some(*owner),
                None => owner_of
                    .query_row(
                        params![l.entity, l.system.as_str(), l.remote_id.as_str()],
                        |row| row.get::<_, String>(0),
                    )
                    .optional()
                    .map_err(|e| db_error("linking", e))?
                    .map(|owner| parse_id(&owner))
                    .transpose()?,
            };
            if let Some(owner) = owner.filter(|o| *o != l.id) {
                return Err(conflict(format!(
                    "{} {} in {} is already linked to {owner}, not {}",
                    l.entity, l.remote_id, l.system, l.id
                )));
            }
            let stored_entity: Option<String> = entity_of
                .query_row([&id], |row| row.get(0))
                .optional()
                .map_err(|e| db_error("linking", e))?;
            let entity = stored_entity
                .as_deref()
                .or_else(|| pending_entities.get(&l.id).copied());
            if let Some(entity) = entity.filter(|e| *e != l.entity) {
                return Err(conflict(format!(
                    "{} is a {entity}, not a {}",
                    l.id, l.entity
                )));
            }
            let existing = match pending_ids.get(&(l.id, &l.system)) {
                Some(remote) => Some((*remote).clone()),
                None => remote_of
                    .query_row(params![id, l.system.as_str()], |row| {
                        row.get::<_, String>(0)
                    })
                    .optional()
                    .map_err(|e| db_error("linking", e))?
                    .map(RemoteId::new),
            };
            if let Some(existing) = existing.filter(|r| *r != l.remote_id) {
                return Err(conflict(format!(
                    "{} {} already has id {existing} in {}, not {}",
                    l.entity, l.id, l.system, l.remote_id
                )));
            }
            pending.insert(remote_key, l.id);
            pending_ids.insert((l.id, &l.system), &l.remote_id);
            pending_entities.entry(l.id).or_insert(l.entity.as_str());
        }

        // A link already stored is skipped; anything else conflicting
        // would break a constraint and roll the whole call back.
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO xrefs (entity, system, remote_id, id) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (entity, system, remote_id) DO NOTHING",
            )
            .map_err(|e| db_error("linking", e))?;
        for l in links {
            insert
                .execute(params![
                    l.entity,
                    l.system.as_str(),
                    l.remote_id.as_str(),
                    l.id.to_string()
                ])
                .map_err(|e| {
                    db_error(
                        format_args!("linking {} {} in {}", l.entity, l.remote_id, l.system),
                        e,
                    )
                })?;
        }
    }
    tx.commit().map_err(|e| db_error("linking", e))
}

#[async_trait]
impl crate::store::CheckpointStore for SqliteStore {
    async fn checkpoint(&self, key: &str) -> Result<Option<Cursor>> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("SELECT cursor FROM checkpoints WHERE key = ?1")
                .and_then(|mut q| {
                    q.query_row([&key], |row| row.get::<_, String>(0))
                        .optional()
                })
                .map(|c| c.map(Cursor::new))
                .map_err(|e| db_error(format_args!("reading checkpoint {key}"), e))
        })
        .await
    }

    async fn save_checkpoint(&self, key: &str, cursor: &Cursor) -> Result<()> {
        let key = key.to_owned();
        let cursor = cursor.as_str().to_owned();
        self.call(move |conn| {
            conn.prepare_cached(
                "INSERT INTO checkpoints (key, cursor) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET cursor = excluded.cursor",
            )
            .and_then(|mut q| q.execute([&key, &cursor]))
            .map(|_| ())
            .map_err(|e| db_error(format_args!("saving checkpoint {key}"), e))
        })
        .await
    }
}

#[async_trait]
impl crate::store::XrefStore for SqliteStore {
    async fn remote_ids(&self, entity: &str, system: &SystemId) -> Result<Vec<RemoteId>> {
        let (entity, system) = (entity.to_owned(), system.clone());
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT remote_id FROM xrefs WHERE entity = ?1 AND system = ?2
                     ORDER BY remote_id",
                )
                .map_err(|e| db_error(format_args!("listing {entity} ids in {system}"), e))?;
            q.query_map(params![entity, system.as_str()], |row| {
                Ok(RemoteId::new(row.get::<_, String>(0)?))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(|e| db_error(format_args!("listing {entity} ids in {system}"), e))
        })
        .await
    }

    async fn resolve(
        &self,
        entity: &str,
        system: &SystemId,
        remote: &RemoteId,
    ) -> Result<Option<CanonicalId>> {
        let (entity, system, remote) = (entity.to_owned(), system.clone(), remote.clone());
        self.call(move |conn| {
            conn.prepare_cached(
                "SELECT id FROM xrefs WHERE entity = ?1 AND system = ?2 AND remote_id = ?3",
            )
            .and_then(|mut q| {
                q.query_row(params![entity, system.as_str(), remote.as_str()], |row| {
                    row.get::<_, String>(0)
                })
                .optional()
            })
            .map_err(|e| db_error(format_args!("resolving {entity} {remote} in {system}"), e))?
            .map(|id| parse_id(&id))
            .transpose()
        })
        .await
    }

    async fn cross_refs(&self, id: CanonicalId) -> Result<CrossRefs> {
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached("SELECT system, remote_id FROM xrefs WHERE id = ?1")
                .map_err(|e| db_error(format_args!("reading the cross-references of {id}"), e))?;
            q.query_map([id.to_string()], |row| {
                Ok((
                    SystemId::new(row.get::<_, String>(0)?),
                    RemoteId::new(row.get::<_, String>(1)?),
                ))
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<CrossRefs>>())
            .map_err(|e| db_error(format_args!("reading the cross-references of {id}"), e))
        })
        .await
    }

    async fn resolve_many(
        &self,
        entity: &str,
        system: &SystemId,
        remotes: &[RemoteId],
    ) -> Result<Vec<Option<CanonicalId>>> {
        if remotes.is_empty() {
            return Ok(Vec::new());
        }
        let asked = json_array(remotes.iter().map(RemoteId::as_str))?;
        let (entity, system, count) = (entity.to_owned(), system.clone(), remotes.len());
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT x.id FROM json_each(?1) AS j
                     LEFT JOIN xrefs AS x
                       ON x.entity = ?2 AND x.system = ?3 AND x.remote_id = j.value
                     ORDER BY j.key",
                )
                .map_err(|e| db_error(format_args!("resolving {entity} ids in {system}"), e))?;
            let ids = q
                .query_map(params![asked, entity, system.as_str()], |row| {
                    row.get::<_, Option<String>>(0)
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error(format_args!("resolving {entity} ids in {system}"), e))?;
            if ids.len() != count {
                return Err(ConnectorError::store(format!(
                    "resolving {entity} ids in {system}: asked {count}, got {} answers",
                    ids.len()
                )));
            }
            ids.into_iter()
                .map(|id| id.map(|id| parse_id(&id)).transpose())
                .collect()
        })
        .await
    }

    async fn cross_refs_many(&self, ids: &[CanonicalId]) -> Result<Vec<CrossRefs>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = ids.iter().map(CanonicalId::to_string).collect();
        let asked = json_array(texts.iter().map(String::as_str))?;
        let count = ids.len();
        self.call(move |conn| {
            // CROSS JOIN keeps the asked ids as the outer loop, so each is
            // one lookup in the (id, system) index.
            let mut q = conn
                .prepare_cached(
                    "SELECT j.key, x.system, x.remote_id FROM json_each(?1) AS j
                     CROSS JOIN xrefs AS x ON x.id = j.value
                     ORDER BY j.key",
                )
                .map_err(|e| db_error("reading cross-references", e))?;
            let rows = q
                .query_map([asked], |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        SystemId::new(row.get::<_, String>(1)?),
                        RemoteId::new(row.get::<_, String>(2)?),
                    ))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error("reading cross-references", e))?;
            let mut out = vec![CrossRefs::new(); count];
            for (index, system, remote) in rows {
                usize::try_from(index)
                    .ok()
                    .and_then(|i| out.get_mut(i))
                    .ok_or_else(|| {
                        ConnectorError::store(format!(
                            "reading cross-references: answer {index} for {count} ids"
                        ))
                    })?
                    .insert(system, remote);
            }
            Ok(out)
        })
        .await
    }

    async fn link(&self, links: &[Link]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        let links = links.to_vec();
        self.call(move |conn| link_all(conn, &links)).await
    }
}
