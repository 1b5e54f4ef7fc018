//! Checkpoints and cross-references.

use super::{PostgresStore, db_error, parse_id};
use crate::connector::Cursor;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::store::Link;
use crate::store::state::Xrefs;
use async_trait::async_trait;
use odoo_integration_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use std::collections::HashSet;
use tokio_postgres::error::SqlState;

#[async_trait]
impl crate::store::CheckpointStore for PostgresStore {
    async fn checkpoint(&self, key: &str) -> Result<Option<Cursor>> {
        let client = self.client().await?;
        let doing = || format!("reading checkpoint {key}");
        let stmt = client
            .prepare_cached(&self.sql("SELECT cursor FROM {s}.checkpoints WHERE key = $1"))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let row = client
            .query_opt(&stmt, &[&key])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(row.map(|r| Cursor::new(r.get::<_, String>(0))))
    }

    async fn save_checkpoint(&self, key: &str, cursor: &Cursor) -> Result<()> {
        let client = self.client().await?;
        let doing = || format!("saving checkpoint {key}");
        let stmt = client
            .prepare_cached(&self.sql(
                "INSERT INTO {s}.checkpoints (key, cursor) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET cursor = excluded.cursor",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .execute(&stmt, &[&key, &cursor.as_str()])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(())
    }
}

#[async_trait]
impl crate::store::XrefStore for PostgresStore {
    async fn remote_ids(&self, entity: &str, system: &SystemId) -> Result<Vec<RemoteId>> {
        let client = self.client().await?;
        let doing = || format!("listing {entity} ids in {system}");
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT remote_id FROM {s}.xrefs WHERE entity = $1 AND system = $2
                 ORDER BY remote_id",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let rows = client
            .query(&stmt, &[&entity, &system.as_str()])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(rows
            .iter()
            .map(|r| RemoteId::new(r.get::<_, String>(0)))
            .collect())
    }

    async fn resolve(
        &self,
        entity: &str,
        system: &SystemId,
        remote: &RemoteId,
    ) -> Result<Option<CanonicalId>> {
        Ok(self
            .resolve_many(entity, system, std::slice::from_ref(remote))
            .await?
            .into_iter()
            .next()
            .flatten())
    }

    async fn cross_refs(&self, id: CanonicalId) -> Result<CrossRefs> {
        Ok(self
            .cross_refs_many(&[id])
            .await?
            .into_iter()
            .next()
            .unwrap_or_default())
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
        let asked: Vec<&str> = remotes.iter().map(RemoteId::as_str).collect();
        let client = self.client().await?;
        let doing = || format!("resolving {entity} ids in {system}");
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT x.id FROM unnest($1::text[]) WITH ORDINALITY AS j(value, n)
                 LEFT JOIN {s}.xrefs AS x
                   ON x.entity = $2 AND x.system = $3 AND x.remote_id = j.value
                 ORDER BY j.n",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let rows = client
            .query(&stmt, &[&asked, &entity, &system.as_str()])
            .await
            .map_err(|e| db_error(doing(), e))?;
        if rows.len() != remotes.len() {
            return Err(ConnectorError::store(format!(
                "{}: asked {}, got {} answers",
                doing(),
                remotes.len(),
                rows.len()
            )));
        }
        rows.iter()
            .map(|r| {
                r.get::<_, Option<String>>(0)
                    .map(|id| parse_id(&id))
                    .transpose()
            })
            .collect()
    }

    async fn cross_refs_many(&self, ids: &[CanonicalId]) -> Result<Vec<CrossRefs>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = ids.iter().map(CanonicalId::to_string).collect();
        let client = self.client().await?;
        let doing = "reading cross-references";
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT j.n, x.system, x.remote_id
                 FROM unnest($1::text[]) WITH ORDINALITY AS j(value, n)
                 JOIN {s}.xrefs AS x ON x.id = j.value
                 ORDER BY j.n",
            ))
            .await
            .map_err(|e| db_error(doing, e))?;
        let rows = client
            .query(&stmt, &[&texts])
            .await
            .map_err(|e| db_error(doing, e))?;
        let mut out = vec![CrossRefs::new(); ids.len()];
        for row in rows {
            let n: i64 = row.get(0);
            usize::try_from(n - 1)
                .ok()
                .and_then(|i| out.get_mut(i))
                .ok_or_else(|| {
                    ConnectorError::store(format!("{doing}: answer {n} for {} ids", ids.len()))
                })?
                .insert(
                    SystemId::new(row.get::<_, String>(1)),
                    RemoteId::new(row.get::<_, String>(2)),
                );
        }
        Ok(out)
    }

    async fn link(&self, links: &[Link]) -> Result<()> {
        if links.is_empty() {
            return Ok(());
        }
        let doing = "linking";
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| db_error(doing, e))?;
        // One linker at a time per schema: the checks below and the
        // inserts after them see no other linker's rows appear between.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('odoo-integration/link/' || $1))",
            &[&self.inner.config.schema],
        )
        .await
        .map_err(|e| db_error(doing, e))?;

        // What is stored about these remote ids and canonical ids.
        let mut entities = Vec::with_capacity(links.len());
        let mut systems = Vec::with_capacity(links.len());
        let mut remotes = Vec::with_capacity(links.len());
        let mut ids = Vec::with_capacity(links.len());
        for l in links {
            entities.push(l.entity.as_str());
            systems.push(l.system.as_str());
            remotes.push(l.remote_id.as_str());
            ids.push(l.id.to_string());
        }
        let distinct_ids: Vec<&str> = ids
            .iter()
            .map(String::as_str)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let rows = tx
            .query(
                &self.sql(
                    "SELECT x.entity, x.system, x.remote_id, x.id
                     FROM unnest($1::text[], $2::text[], $3::text[]) AS j(entity, system, remote_id)
                     JOIN {s}.xrefs AS x USING (entity, system, remote_id)
                     UNION
                     SELECT entity, system, remote_id, id FROM {s}.xrefs WHERE id = ANY($4)",
                ),
                &[&entities, &systems, &remotes, &distinct_ids],
            )
            .await
            .map_err(|e| db_error(doing, e))?;
        let mut stored = Vec::with_capacity(rows.len());
        for row in &rows {
            stored.push(Link::new(
                row.get::<_, String>(0),
                parse_id(row.get(3))?,
                SystemId::new(row.get::<_, String>(1)),
                RemoteId::new(row.get::<_, String>(2)),
            ));
        }
        // The built-in stores' checks, over what is stored: the same
        // answers and messages.
        let mut xrefs = Xrefs::default();
        xrefs.link(&stored).map_err(|e| {
            ConnectorError::store(format!(
                "{doing}: the stored cross-references contradict each other: {}",
                e.message()
            ))
        })?;
        xrefs.link(links)?;

        let inserted = tx
            .execute(
                &self.sql(
                    "INSERT INTO {s}.xrefs (entity, system, remote_id, id)
                     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])
                     ON CONFLICT DO NOTHING",
                ),
                &[&entities, &systems, &remotes, &ids],
            )
            .await;
        if let Err(e) = inserted {
            return Err(if e.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                ConnectorError::new(
                    ConnectorErrorKind::LinkConflict,
                    format!("{doing}: another worker linked one of these ids first"),
                )
                .with_source(e)
            } else {
                db_error(doing, e)
            });
        }
        tx.commit().await.map_err(|e| db_error(doing, e))
    }
}
