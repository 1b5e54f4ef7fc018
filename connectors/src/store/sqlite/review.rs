//! Held conflicts and leases.
//!
//! Every write that reads first (hold, decide, acquire) is one `BEGIN
//! IMMEDIATE` transaction: it takes the file's write lock before reading,
//! so two handles or processes never both act on what they read. A lease's
//! times are this machine's clock, read once the lock is held; every process
//! sharing the file runs on the machine that holds it.

use super::{SqliteStore, db_error, json_array};
use crate::error::{ConnectorError, Result};
use crate::store::{HeldConflict, HeldFilter, Lease, Resolution};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::time::Duration;

/// Decodes a stored conflict. The serde error may quote the values, so
/// only its category and position are kept.
fn decode_conflict(key: &str, json: &str) -> Result<HeldConflict> {
    serde_json::from_str(json).map_err(|e| {
        ConnectorError::store(format!(
            "the held conflict {key} does not decode ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })
}

fn encode_conflict(c: &HeldConflict) -> Result<String> {
    serde_json::to_string(c).map_err(|e| {
        ConnectorError::store(format!("encoding the held conflict {}: {e}", c.key)).with_source(e)
    })
}

fn stored_conflict(tx: &Transaction<'_>, key: &str) -> Result<Option<HeldConflict>> {
    tx.prepare_cached("SELECT conflict FROM held WHERE key = ?1")
        .and_then(|mut q| q.query_row([key], |row| row.get::<_, String>(0)).optional())
        .map_err(|e| db_error(format_args!("reading the held conflict {key}"), e))?
        .map(|json| decode_conflict(key, &json))
        .transpose()
}

fn store_conflict(tx: &Transaction<'_>, c: &HeldConflict) -> Result<()> {
    let json = encode_conflict(c)?;
    tx.prepare_cached(
        "INSERT INTO held (key, pipeline, entity, decided, first_seen, first_seen_nanos, conflict)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (key) DO UPDATE SET
            pipeline = excluded.pipeline,
            entity = excluded.entity,
            decided = excluded.decided,
            first_seen = excluded.first_seen,
            first_seen_nanos = excluded.first_seen_nanos,
            conflict = excluded.conflict",
    )
    .and_then(|mut q| {
        q.execute(params![
            c.key,
            c.pipeline,
            c.entity,
            c.decision.is_some(),
            c.first_seen.timestamp(),
            c.first_seen.timestamp_subsec_nanos(),
            json
        ])
    })
    .map(|_| ())
    .map_err(|e| db_error(format_args!("storing the held conflict {}", c.key), e))
}

/// `ttl` in microseconds, saturating.
fn micros(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_micros()).unwrap_or(i64::MAX)
}

/// Now, in microseconds since the Unix epoch.
fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

/// `now + ttl`, saturating at the latest time a `DateTime` holds.
fn expiry_micros(now: i64, ttl: Duration) -> i64 {
    now.saturating_add(micros(ttl))
        .min(DateTime::<Utc>::MAX_UTC.timestamp_micros())
}

/// A stored lease row as a [`Lease`].
fn lease_of(name: &str, holder: String, token: i64, expires_at: i64) -> Result<Lease> {
    let token = u64::try_from(token).map_err(|_| {
        ConnectorError::store(format!("the lease {name} has a negative token {token}"))
    })?;
    let expires_at = DateTime::from_timestamp_micros(expires_at).ok_or_else(|| {
        ConnectorError::store(format!(
            "the lease {name} has an expiry out of range ({expires_at} µs)"
        ))
    })?;
    Ok(Lease {
        name: name.to_owned(),
        holder,
        token,
        expires_at,
    })
}

/// [`LeaseStore::acquire`](crate::LeaseStore::acquire) in one immediate
/// transaction: the read and the write under the file's write lock.
fn acquire(
    conn: &mut Connection,
    name: &str,
    holder: &str,
    ttl: Duration,
) -> Result<Option<Lease>> {
    let doing = || format!("acquiring the lease {name}");
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| db_error(doing(), e))?;
    // The clock is read once the lock is held: no other writer between.
    let now = now_micros();
    let stored = tx
        .prepare_cached("SELECT holder, token, expires_at FROM leases WHERE name = ?1")
        .and_then(|mut q| {
            q.query_row([name], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, i64>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            })
            .optional()
        })
        .map_err(|e| db_error(doing(), e))?;
    let token = match stored {
        Some((h, token, expires)) if h == holder && expires > now => token,
        Some((_, _, expires)) if expires > now => return Ok(None),
        Some((_, token, _)) => token.saturating_add(1),
        None => 1,
    };
    let expires = expiry_micros(now, ttl);
    tx.prepare_cached(
        "INSERT INTO leases (name, holder, token, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (name) DO UPDATE SET
            holder = excluded.holder,
            token = excluded.token,
            expires_at = excluded.expires_at",
    )
    .and_then(|mut q| q.execute(params![name, holder, token, expires]))
    .map_err(|e| db_error(doing(), e))?;
    tx.commit().map_err(|e| db_error(doing(), e))?;
    lease_of(name, holder.to_owned(), token, expires).map(Some)
}

#[async_trait]
impl crate::store::HeldStore for SqliteStore {
    async fn hold(&self, conflicts: Vec<HeldConflict>) -> Result<()> {
        if conflicts.is_empty() {
            return Ok(());
        }
        self.call(move |conn| {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| db_error("holding conflicts", e))?;
            for c in conflicts {
                let c = match stored_conflict(&tx, &c.key)? {
                    Some(old) => old.again(c),
                    None => c,
                };
                store_conflict(&tx, &c)?;
            }
            tx.commit().map_err(|e| db_error("holding conflicts", e))
        })
        .await
    }

    async fn held_conflict(&self, key: &str) -> Result<Option<HeldConflict>> {
        let key = key.to_owned();
        self.call(move |conn| {
            conn.prepare_cached("SELECT conflict FROM held WHERE key = ?1")
                .and_then(|mut q| {
                    q.query_row([&key], |row| row.get::<_, String>(0))
                        .optional()
                })
                .map_err(|e| db_error(format_args!("reading the held conflict {key}"), e))?
                .map(|json| decode_conflict(&key, &json))
                .transpose()
        })
        .await
    }

    async fn held(&self, filter: &HeldFilter) -> Result<Vec<HeldConflict>> {
        let filter = filter.clone();
        self.call(move |conn| {
            let mut q = conn
                .prepare_cached(
                    "SELECT key, conflict FROM held
                     WHERE (?1 IS NULL OR entity = ?1)
                       AND (?2 IS NULL OR pipeline = ?2)
                       AND (?3 IS NULL OR decided = ?3)
                     ORDER BY first_seen, first_seen_nanos, key",
                )
                .map_err(|e| db_error("listing held conflicts", e))?;
            let rows = q
                .query_map(
                    params![filter.entity, filter.pipeline, filter.decided],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)),
                )
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
                .map_err(|e| db_error("listing held conflicts", e))?;
            rows.iter()
                .map(|(key, json)| decode_conflict(key, json))
                .collect()
        })
        .await
    }

    async fn decide(&self, key: &str, resolution: Resolution) -> Result<bool> {
        let key = key.to_owned();
        self.call(move |conn| {
            let doing = || format!("deciding the held conflict {key}");
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(|e| db_error(doing(), e))?;
            let Some(mut c) = stored_conflict(&tx, &key)? else {
                return Ok(false);
            };
            c.decision = Some(resolution);
            store_conflict(&tx, &c)?;
            tx.commit().map_err(|e| db_error(doing(), e))?;
            Ok(true)
        })
        .await
    }

    async fn remove_held(&self, keys: &[String]) -> Result<usize> {
        if keys.is_empty() {
            return Ok(0);
        }
        let asked = json_array(keys.iter().map(String::as_str))?;
        self.call(move |conn| {
            conn.prepare_cached("DELETE FROM held WHERE key IN (SELECT value FROM json_each(?1))")
                .and_then(|mut q| q.execute([asked]))
                .map_err(|e| db_error("removing held conflicts", e))
        })
        .await
    }
}

#[async_trait]
impl crate::store::LeaseStore for SqliteStore {
    async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>> {
        let (name, holder) = (name.to_owned(), holder.to_owned());
        self.call(move |conn| acquire(conn, &name, &holder, ttl))
            .await
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Option<Lease>> {
        let lease = lease.clone();
        self.call(move |conn| {
            let token = i64::try_from(lease.token).unwrap_or(-1);
            // One statement: SQLite takes the write lock for it.
            let now = now_micros();
            let expires = expiry_micros(now, ttl);
            let changed = conn
                .prepare_cached(
                    "UPDATE leases SET expires_at = ?4
                     WHERE name = ?1 AND holder = ?2 AND token = ?3 AND expires_at > ?5",
                )
                .and_then(|mut q| q.execute(params![lease.name, lease.holder, token, expires, now]))
                .map_err(|e| db_error(format_args!("renewing the lease {}", lease.name), e))?;
            if changed == 0 {
                return Ok(None);
            }
            lease_of(&lease.name, lease.holder, token, expires).map(Some)
        })
        .await
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        let lease = lease.clone();
        self.call(move |conn| {
            let token = i64::try_from(lease.token).unwrap_or(-1);
            // The row stays, lapsed: the next holder's token is bigger.
            conn.prepare_cached(
                "UPDATE leases SET expires_at = ?4
                 WHERE name = ?1 AND holder = ?2 AND token = ?3 AND expires_at > ?4",
            )
            .and_then(|mut q| q.execute(params![lease.name, lease.holder, token, now_micros()]))
            .map(|_| ())
            .map_err(|e| db_error(format_args!("releasing the lease {}", lease.name), e))
        })
        .await
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>> {
        let name = name.to_owned();
        self.call(move |conn| {
            let row = conn
                .prepare_cached(
                    "SELECT holder, token, expires_at FROM leases
                     WHERE name = ?1 AND expires_at > ?2",
                )
                .and_then(|mut q| {
                    q.query_row(params![name, now_micros()], |row| {
                        Ok((
                            row.get::<_, String>(0)?,
                            row.get::<_, i64>(1)?,
                            row.get::<_, i64>(2)?,
                        ))
                    })
                    .optional()
                })
                .map_err(|e| db_error(format_args!("reading the lease {name}"), e))?;
            row.map(|(holder, token, expires)| lease_of(&name, holder, token, expires))
                .transpose()
        })
        .await
    }
}
