//! Records and dead letters.

use super::{SqliteStore, db_error, json_array};
use crate::error::{ConnectorError, Result};
use crate::store::{DeadLetter, StoredRecord};
use async_trait::async_trait;
use odoo_integration_model::CanonicalId;
use rusqlite::{OptionalExtension, TransactionBehavior, params};

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

#[async_trait]
impl crate::store::RecordStore for SqliteStore {
    async fn record(&self, entity: &str, id: CanonicalId) -> Result<Option<StoredRecord>> {
        let entity = entity.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("SELECT json FROM records WHERE entity = ?1 AND id = ?2")
                .and_then(|mut q| {
                    q.query_row(params![entity, id.to_string()], |row| {
                        row.get::<_, String>(0)
                    })
                    .optional()
                })
                .map_err(|e| db_error(format_args!("reading {entity} {id}"), e))?
                .map(StoredRecord::from_json)
                .transpose()
        })
        .await
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
        let asked = json_array(texts.iter().map(String::as_str))?;
        let (entity, count) = (entity.to_owned(), ids.len());
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT r.json FROM json_each(?1) AS j
                     LEFT JOIN records AS r ON r.entity = ?2 AND r.id = j.value
                     ORDER BY j.key",
                )
                .map_err(|e| db_error(format_args!("reading {entity} records"), e))?;
            let found = q
                .query_map(params![asked, entity], |row| {
                    row.get::<_, Option<String>>(0)
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error(format_args!("reading {entity} records"), e))?;
            if found.len() != count {
                return Err(ConnectorError::store(format!(
                    "reading {entity} records: asked {count}, got {} answers",
                    found.len()
                )));
            }
            found
                .into_iter()
                .map(|json| json.map(StoredRecord::from_json).transpose())
                .collect()
        })
        .await
    }

    async fn save_records(
        &self,
        entity: &str,
        records: Vec<(CanonicalId, StoredRecord)>,
    ) -> Result<()> {
        if records.is_empty() {
            return Ok(());
        }
        let entity = entity.to_owned();
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| db_error(format_args!("saving {entity} records"), e))?;
            {
                let mut upsert = tx
                    .prepare_cached(
                        "INSERT INTO records (entity, id, json) VALUES (?1, ?2, ?3)
                         ON CONFLICT (entity, id) DO UPDATE SET json = excluded.json",
                    )
                    .map_err(|e| db_error(format_args!("saving {entity} records"), e))?;
                for (id, record) in &records {
                    upsert
                        .execute(params![entity, id.to_string(), record.as_str()])
                        .map_err(|e| db_error(format_args!("saving {entity} {id}"), e))?;
                }
            }
            tx.commit()
                .map_err(|e| db_error(format_args!("saving {entity} records"), e))
        })
        .await
    }
}

#[async_trait]
impl crate::store::DeadLetterQueue for SqliteStore {
    async fn put(&self, letter: DeadLetter) -> Result<()> {
        let json = serde_json::to_string(&letter).map_err(|e| {
            ConnectorError::store(format!("encoding the dead letter {}: {e}", letter.key))
                .with_source(e)
        })?;
        self.call(move |conn| {
            conn.prepare_cached(
                "INSERT INTO dead_letters (key, entity, first_seen, first_seen_nanos, letter)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (key) DO UPDATE SET
                    entity = excluded.entity,
                    first_seen = excluded.first_seen,
                    first_seen_nanos = excluded.first_seen_nanos,
                    letter = excluded.letter",
            )
            .and_then(|mut q| {
                q.execute(params![
                    letter.key,
                    letter.entity,
                    letter.first_seen.timestamp(),
                    letter.first_seen.timestamp_subsec_nanos(),
                    json
                ])
            })
            .map(|_| ())
            .map_err(|e| db_error(format_args!("storing the dead letter {}", letter.key), e))
        })
        .await
    }

    async fn letter(&self, key: &str) -> Result<Option<DeadLetter>> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("SELECT letter FROM dead_letters WHERE key = ?1")
                .and_then(|mut q| {
                    q.query_row([&key], |row| row.get::<_, String>(0))
                        .optional()
                })
                .map_err(|e| db_error(format_args!("reading the dead letter {key}"), e))?
                .map(|json| decode_letter(&key, &json))
                .transpose()
        })
        .await
    }

    async fn letters(&self, entity: &str) -> Result<Vec<DeadLetter>> {
        let entity = entity.to_owned();
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT key, letter FROM dead_letters WHERE entity = ?1
                     ORDER BY first_seen, first_seen_nanos, key",
                )
                .map_err(|e| db_error(format_args!("reading the {entity} dead letters"), e))?;
            let rows = q
                .query_map([&entity], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error(format_args!("reading the {entity} dead letters"), e))?;
            rows.iter()
                .map(|(key, json)| decode_letter(key, json))
                .collect()
        })
        .await
    }

    async fn remove(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("DELETE FROM dead_letters WHERE key = ?1")
                .and_then(|mut q| q.execute([&key]))
                .map(|_| ())
                .map_err(|e| db_error(format_args!("removing the dead letter {key}"), e))
        })
        .await
    }

    async fn remove_many(&self, keys: &[String]) -> Result<usize> {
        if keys.is_empty() {
            return Ok(0);
        }
        let asked = json_array(keys.iter().map(String::as_str))?;
        self.call(move |conn| {
            conn.prepare_cached(
                "DELETE FROM dead_letters WHERE key IN (SELECT value FROM json_each(?1))",
            )
            .and_then(|mut q| q.execute([asked]))
            .map_err(|e| db_error("removing dead letters", e))
        })
        .await
    }
}
