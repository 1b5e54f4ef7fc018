//! Held conflicts and leases.
//!
//! A lease is one row, taken, renewed and released by single statements
//! whose times are the database's `now()`: every worker, whatever its own
//! clock, sees the same expiry. Taking it is one `INSERT ... ON CONFLICT DO
//! UPDATE ... WHERE` (lapsed, or the same holder's), which PostgreSQL
//! evaluates against the latest row under its lock, so of any number of
//! workers racing, one gets the lease.
//!
//! Held conflicts are JSONB. `hold` reads what is stored and writes the
//! merge in one transaction, holding a transaction-scoped advisory lock on
//! the schema's conflicts (as does `remove_held`), so two workers holding
//! one key at once merge one after the other.

use super::{PostgresStore, db_error};
use crate::error::{ConnectorError, Result};
use crate::store::{HeldConflict, HeldFilter, Lease, Resolution};
use async_trait::async_trait;
use chrono::DateTime;
use std::collections::HashMap;
use std::time::Duration;

/// The longest lease: longer ttls count as this (a hundred thousand
/// years; past it, `now() + ttl` would leave PostgreSQL's range).
const MAX_TTL_MICROS: i64 = 100_000 * 366 * 24 * 3600 * 1_000_000;

/// The expiry column as microseconds since the Unix epoch.
const EXPIRES_MICROS: &str = "(extract(epoch FROM expires_at) * 1000000)::bigint";

/// `ttl` in microseconds, at most [`MAX_TTL_MICROS`].
fn ttl_micros(ttl: Duration) -> i64 {
    i64::try_from(ttl.as_micros()).map_or(MAX_TTL_MICROS, |t| t.min(MAX_TTL_MICROS))
}

/// A token as stored; one no lease has when it does not fit.
fn stored_token(token: u64) -> i64 {
    i64::try_from(token).unwrap_or(-1)
}

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

/// Encodes `value` for a JSONB column. PostgreSQL's text (JSONB strings
/// included) cannot hold the NUL character; a value with one is refused
/// here, before the database, whose error would quote the value.
fn encode<T: serde::Serialize>(value: &T, what: impl Fn() -> String) -> Result<String> {
    let tree = serde_json::to_value(value)
        .map_err(|e| ConnectorError::store(format!("encoding {}: {e}", what())).with_source(e))?;
    if has_nul(&tree) {
        return Err(ConnectorError::store(format!(
            "{} holds a NUL character, which PostgreSQL cannot store",
            what()
        )));
    }
    Ok(tree.to_string())
}

fn has_nul(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

impl PostgresStore {
    /// Takes the schema's held-conflicts lock for the rest of `tx`.
    async fn lock_held(&self, tx: &tokio_postgres::Transaction<'_>, doing: &str) -> Result<()> {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('odoo-integration/held/' || $1))",
            &[&self.inner.config.schema],
        )
        .await
        .map(|_| ())
        .map_err(|e| db_error(doing, e))
    }
}

#[async_trait]
impl crate::store::HeldStore for PostgresStore {
    async fn hold(&self, conflicts: Vec<HeldConflict>) -> Result<()> {
        if conflicts.is_empty() {
            return Ok(());
        }
        let doing = "holding conflicts";
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| db_error(doing, e))?;
        self.lock_held(&tx, doing).await?;

        let asked: Vec<&str> = conflicts.iter().map(|c| c.key.as_str()).collect();
        let rows = tx
            .query(
                &self.sql(
                    "SELECT key, conflict::text FROM {s}.held WHERE key = ANY($1)
                     ORDER BY key FOR UPDATE",
                ),
                &[&asked],
            )
            .await
            .map_err(|e| db_error(doing, e))?;
        let mut merged: HashMap<String, HeldConflict> = HashMap::with_capacity(conflicts.len());
        for row in &rows {
            let key: &str = row.get(0);
            merged.insert(key.to_owned(), decode_conflict(key, row.get(1))?);
        }
        // In the order given: one key twice replaces itself, as in the
        // built-in stores.
        let mut order: Vec<String> = Vec::with_capacity(conflicts.len());
        for c in conflicts {
            let key = c.key.clone();
            let c = match merged.remove(&key) {
                Some(old) => old.again(c),
                None => c,
            };
            if !order.contains(&key) {
                order.push(key.clone());
            }
            merged.insert(key, c);
        }

        let n = order.len();
        let (mut keys, mut pipelines, mut entities, mut decided) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        let (mut secs, mut nanos, mut jsons) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for key in &order {
            let Some(c) = merged.get(key) else {
                continue;
            };
            keys.push(c.key.as_str());
            pipelines.push(c.pipeline.as_str());
            entities.push(c.entity.as_str());
            decided.push(c.decision.is_some());
            secs.push(c.first_seen.timestamp());
            nanos.push(i32::try_from(c.first_seen.timestamp_subsec_nanos()).unwrap_or(i32::MAX));
            jsons.push(encode(c, || format!("the held conflict {}", c.key))?);
        }
        tx.execute(
            &self.sql(
                "INSERT INTO {s}.held
                   (key, pipeline, entity, decided, first_seen, first_seen_nanos, conflict)
                 SELECT k, p, e, d, f, n, c::jsonb
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[], $5::bigint[],
                             $6::int[], $7::text[]) AS j(k, p, e, d, f, n, c)
                 ON CONFLICT (key) DO UPDATE SET
                    pipeline = excluded.pipeline,
                    entity = excluded.entity,
                    decided = excluded.decided,
                    first_seen = excluded.first_seen,
                    first_seen_nanos = excluded.first_seen_nanos,
                    conflict = excluded.conflict",
            ),
            &[
                &keys, &pipelines, &entities, &decided, &secs, &nanos, &jsons,
            ],
        )
        .await
        .map_err(|e| db_error(doing, e))?;
        tx.commit().await.map_err(|e| db_error(doing, e))
    }

    async fn held_conflict(&self, key: &str) -> Result<Option<HeldConflict>> {
        let client = self.client().await?;
        let doing = || format!("reading the held conflict {key}");
        let stmt = client
            .prepare_cached(&self.sql("SELECT conflict::text FROM {s}.held WHERE key = $1"))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .query_opt(&stmt, &[&key])
            .await
            .map_err(|e| db_error(doing(), e))?
            .map(|r| decode_conflict(key, r.get(0)))
            .transpose()
    }

    async fn held(&self, filter: &HeldFilter) -> Result<Vec<HeldConflict>> {
        let client = self.client().await?;
        let doing = "listing held conflicts";
        let stmt = client
            .prepare_cached(&self.sql(
                "SELECT key, conflict::text FROM {s}.held
                 WHERE ($1::text IS NULL OR entity = $1)
                   AND ($2::text IS NULL OR pipeline = $2)
                   AND ($3::bool IS NULL OR decided = $3)
                 ORDER BY first_seen, first_seen_nanos, key",
            ))
            .await
            .map_err(|e| db_error(doing, e))?;
        let rows = client
            .query(&stmt, &[&filter.entity, &filter.pipeline, &filter.decided])
            .await
            .map_err(|e| db_error(doing, e))?;
        rows.iter()
            .map(|r| decode_conflict(r.get(0), r.get(1)))
            .collect()
    }

    async fn decide(&self, key: &str, resolution: Resolution) -> Result<bool> {
        let doing = || format!("deciding the held conflict {key}");
        let json = encode(&resolution, || format!("the decision on {key}"))?;
        let client = self.client().await?;
        // One statement: the row lock orders it with a concurrent hold.
        let stmt = client
            .prepare_cached(&self.sql(
                "UPDATE {s}.held
                 SET decided = true, conflict = jsonb_set(conflict, '{decision}', $2::text::jsonb)
                 WHERE key = $1",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        let n = client
            .execute(&stmt, &[&key, &json])
            .await
            .map_err(|e| db_error(doing(), e))?;
        Ok(n > 0)
    }

    async fn remove_held(&self, keys: &[String]) -> Result<usize> {
        if keys.is_empty() {
            return Ok(0);
        }
        let doing = "removing held conflicts";
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(|e| db_error(doing, e))?;
        self.lock_held(&tx, doing).await?;
        let n = tx
            .execute(
                &self.sql("DELETE FROM {s}.held WHERE key = ANY($1)"),
                &[&keys],
            )
            .await
            .map_err(|e| db_error(doing, e))?;
        tx.commit().await.map_err(|e| db_error(doing, e))?;
        usize::try_from(n).map_err(|_| ConnectorError::store(format!("{doing}: {n} rows")))
    }
}

#[async_trait]
impl crate::store::LeaseStore for PostgresStore {
    async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>> {
        let client = self.client().await?;
        let doing = || format!("acquiring the lease {name}");
        // Taken when free, lapsed, or the holder's own (then renewed, same
        // token); the token grows whenever the lease changes hands or
        // lapsed. Under concurrent takers PostgreSQL re-checks the WHERE
        // against the row the winner left, so one gets it.
        let stmt = client
            .prepare_cached(&self.sql(&format!(
                "INSERT INTO {{s}}.leases AS l (name, holder, token, expires_at)
                 VALUES ($1, $2, 1, now() + $3::bigint * interval '1 microsecond')
                 ON CONFLICT (name) DO UPDATE SET
                    token = CASE WHEN l.holder = excluded.holder AND l.expires_at > now()
                                 THEN l.token ELSE l.token + 1 END,
                    holder = excluded.holder,
                    expires_at = excluded.expires_at
                 WHERE l.expires_at <= now() OR l.holder = excluded.holder
                 RETURNING token, {EXPIRES_MICROS}"
            )))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .query_opt(&stmt, &[&name, &holder, &ttl_micros(ttl)])
            .await
            .map_err(|e| db_error(doing(), e))?
            .map(|r| lease_of(name, holder.to_owned(), r.get(0), r.get(1)))
            .transpose()
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Option<Lease>> {
        let client = self.client().await?;
        let doing = || format!("renewing the lease {}", lease.name);
        let stmt = client
            .prepare_cached(&self.sql(&format!(
                "UPDATE {{s}}.leases
                 SET expires_at = now() + $4::bigint * interval '1 microsecond'
                 WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > now()
                 RETURNING token, {EXPIRES_MICROS}"
            )))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .query_opt(
                &stmt,
                &[
                    &lease.name,
                    &lease.holder,
                    &stored_token(lease.token),
                    &ttl_micros(ttl),
                ],
            )
            .await
            .map_err(|e| db_error(doing(), e))?
            .map(|r| lease_of(&lease.name, lease.holder.clone(), r.get(0), r.get(1)))
            .transpose()
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        let client = self.client().await?;
        let doing = || format!("releasing the lease {}", lease.name);
        // The row stays, lapsed: the next holder's token is bigger.
        let stmt = client
            .prepare_cached(&self.sql(
                "UPDATE {s}.leases SET expires_at = now()
                 WHERE name = $1 AND holder = $2 AND token = $3 AND expires_at > now()",
            ))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .execute(
                &stmt,
                &[&lease.name, &lease.holder, &stored_token(lease.token)],
            )
            .await
            .map(|_| ())
            .map_err(|e| db_error(doing(), e))
    }

    async fn lease(&self, name: &str) -> Result<Option<Lease>> {
        let client = self.client().await?;
        let doing = || format!("reading the lease {name}");
        let stmt = client
            .prepare_cached(&self.sql(&format!(
                "SELECT holder, token, {EXPIRES_MICROS} FROM {{s}}.leases
                 WHERE name = $1 AND expires_at > now()"
            )))
            .await
            .map_err(|e| db_error(doing(), e))?;
        client
            .query_opt(&stmt, &[&name])
            .await
            .map_err(|e| db_error(doing(), e))?
            .map(|r| lease_of(name, r.get(0), r.get(1), r.get(2)))
            .transpose()
    }
}
