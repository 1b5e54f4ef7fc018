//! Records and dead letters.

use super::{PostgresStore, db_error};
use crate::error::{ConnectorError, Result};
use crate::store::{DeadLetter, StoredRecord};
use async_trait::async_trait;
use odoo_integration_model::CanonicalId;
use std::collections::HashMap;

/// Decodes a stored letter. The serde error may quote the letter's
/// contents, so only its category and position are kept.
fn decode_letter(key: &str, json: &str) -> Result<DeadLetter> {
    serde_json::from_str(json).map_err(|e| {
        ConnectorError::store(format!(
            "the dead letter {key} does not decode ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

/// Reads a stored record's text, checking it is JSON. The parser's
/// message may quote the text, so only a position is kept.
fn decode_record(entity: &str, id: &str, json: String) -> Result<StoredRecord> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&json) {
        return Err(ConnectorError::store(format!(
            "the stored {entity} {id} is not JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        )));
    }
    StoredRecord::from_json(json)
}

#[async_trait]
impl crate::store::RecordStore for PostgresStore {
    async fn record(&self, entity: &str, id: CanonicalId) -> Result<Option<StoredRecord>> {
        Ok(self
            .records(entity, &[id])
            .await?
            .into_iter()
            .next()
            .flatten())
    }

    async fn records(
        &self,
        entity: &str,
        ids: &[CanonicalId],
    ) -> Result<Vec<Option<StoredRecord>>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let texts: Vec<String> = ids.iter().map(CanonicalId::to_string).collect();
        let client = self.client().await?;
        let doing = || format!("reading {entity} records");
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT r.json FROM unnest($1::text[]) WITH ORDINALITY AS j(value, n)
                 LEFT JOIN {s}.records AS r ON r.entity = $2 AND r.id = j.value
                 ORDER BY j.n",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let rows = client
            .query(&stmt, &[&texts, &entity])
            .await
            .map_err(|e| db_error(doing(), e))?;
        if rows.len() != ids.len() {
            return Err(ConnectorError::store(format!(
                "{}: asked {}, got {} answers",
                doing(),
                ids.len(),
                rows.len()
            )));
        }
        rows.iter()
            .zip(&texts)
            .map(|(r, id)| {
                r.get::<_, Option<String>>(0)
                    .map(|json| decode_record(entity, id, json))
                    .transpose()
            })
            .collect()
    }

    async fn save_records(
        &self,
        entity: &str,
        records: Vec<(CanonicalId, StoredRecord)>,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        // The last of one id wins, as in the built-in stores (one statement
        // may not update a row twice).
        let mut last: HashMap<CanonicalId, usize> = HashMap::with_capacity(records.len());
        for (i, (id, _)) in records.iter().enumerate() {
            last.insert(*id, i);
        }
        let mut ids = Vec::with_capacity(last.len());
        let mut jsons = Vec::with_capacity(last.len());
        for (i, (id, record)) in records.iter().enumerate() {
            if last.get(id) == Some(&i) {
                ids.push(id.to_string());
                jsons.push(record.as_str());
            }
        }
        let client = self.client().await?;
        let doing = || format!("saving {entity} records");
        let stmt = client
            .prepare_cached(&self.sql(
                "INSERT INTO {s}.records (entity, id, json)
                 SELECT $1, j.id, j.json FROM unnest($2::text[], $3::text[]) AS j(id, json)
                 ON CONFLICT (entity, id) DO UPDATE SET json = excluded.json",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        // One statement: all rows or none.
        client
            .execute(&stmt, &[&entity, &ids, &jsons])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(())
    }
}

#[async_trait]
impl crate::store::DeadLetterQueue for PostgresStore {
    async fn put(&self, letter: DeadLetter) -> Result<()> {
        let json = serde_json::to_string(&letter).map_err(|e| {
            ConnectorError::store(format!("encoding the dead letter {}: {e}", letter.key))
                .with_source(e)
        })?;
        let client = self.client().await?;
        let doing = || format!("storing the dead letter {}", letter.key);
        let stmt = client
            .prepare_cached(&self.sql(
                "INSERT INTO {s}.dead_letters (key, entity, first_seen, first_seen_nanos, letter)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (key) DO UPDATE SET
                    entity = excluded.entity,
                    first_seen = excluded.first_seen,
                    first_seen_nanos = excluded.first_seen_nanos,
                    letter = excluded.letter",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let nanos = i32::try_from(letter.first_seen.timestamp_subsec_nanos()).unwrap_or(i32::MAX);
        client
            .execute(
                &stmt,
                &[
                    &letter.key,
                    &letter.entity,
                    &letter.first_seen.timestamp(),
                    &nanos,
                    &json,
                ],
            )
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(())
    }

    async fn letter(&self, key: &str) -> Result<Option<DeadLetter>> {
        let client = self.client().await?;
        let doing = || format!("reading the dead letter {key}");
        let stmt = client
            .prepare_cached(&self.sql("SELECT letter FROM {s}.dead_letters WHERE key = $1"))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .query_opt(&stmt, &[&key])
            .await
            .map_err(|e| db_error(doing(), e))?
            .map(|r| decode_letter(key, r.get(0)))
            .transpose()
    }

    async fn letters(&self, entity: &str) -> Result<Vec<DeadLetter>> {
        let client = self.client().await?;
        let doing = || format!("reading the {entity} dead letters");
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT key, letter FROM {s}.dead_letters WHERE entity = $1
                 ORDER BY first_seen, first_seen_nanos, key",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let rows = client
            .query(&stmt, &[&entity])
            .await
            .map_err(|e| db_error(doing(), e))?;
        rows.iter()
            .map(|r| decode_letter(r.get(0), r.get(1)))
            .collect()
    }

    async fn remove(&self, key: &str) -> Result<()> {
        self.remove_many(&[key.to_owned()]).await.map(|_| ())
    }

    async fn remove_many(&self, keys: &[String]) -> Result<usize> {
        if keys.is_empty() {
            return Ok(0);
        }
        let client = self.client().await?;
        let doing = "removing dead letters";
        let stmt = client
            .prepare_cached(&self.sql("DELETE FROM {s}.dead_letters WHERE key = ANY($1)"))
            .await
            .map_err(|e| db_error(doing, e))?;
        let n = client
            .execute(&stmt, &[&keys])
            .await
            .map_err(|e| db_error(doing, e))?;
        usize::try_from(n).map_err(|_| ConnectorError::store(format!("{doing}: {n} rows")))
    }
}
