//! The tables, their versions, and opening a file: create, migrate in
//! place, or refuse.

use super::db_error;
use crate::error::{ConnectorError, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::time::Duration;

/// The schema this version writes and reads, kept in `PRAGMA user_version`:
/// the last migration's.
pub(super) const SCHEMA_VERSION: i64 = 2;

/// How long a call waits for another process's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The migrations, in order: `(version, SQL)`. A new version appends one;
/// none is ever edited (files at every older version exist).
const MIGRATIONS: &[(i64, &str)] = &[(1, V1), (2, V2)];

/// Checkpoints, cross-references, records and dead letters.
const V1: &str = "
CREATE TABLE checkpoints (
    key TEXT NOT NULL PRIMARY KEY,
    cursor TEXT NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE xrefs (
    entity TEXT NOT NULL,
    system TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    id TEXT NOT NULL,
    PRIMARY KEY (entity, system, remote_id),
    UNIQUE (id, system)
) STRICT, WITHOUT ROWID;

CREATE TABLE records (
    entity TEXT NOT NULL,
    id TEXT NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (entity, id)
) STRICT;

CREATE TABLE dead_letters (
    key TEXT NOT NULL PRIMARY KEY,
    entity TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    first_seen_nanos INTEGER NOT NULL,
    letter TEXT NOT NULL
) STRICT;

CREATE INDEX dead_letters_by_entity
    ON dead_letters (entity, first_seen, first_seen_nanos, key);
";

/// Held conflicts and leases. A conflict is its JSON, with the columns a
/// listing filters and sorts on beside it; a lease's expiry is in
/// microseconds since the Unix epoch.
const V2: &str = "
CREATE TABLE held (
    key TEXT NOT NULL PRIMARY KEY,
    pipeline TEXT NOT NULL,
    entity TEXT NOT NULL,
    decided INTEGER NOT NULL,
    first_seen INTEGER NOT NULL,
    first_seen_nanos INTEGER NOT NULL,
    conflict TEXT NOT NULL
) STRICT;

CREATE INDEX held_by_age ON held (first_seen, first_seen_nanos, key);

CREATE TABLE leases (
    name TEXT NOT NULL PRIMARY KEY,
    holder TEXT NOT NULL,
    token INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
";

/// Sets the connection up and checks the schema: creates it in a new file,
/// migrates an older one in place (in the same transaction: all
/// migrations or none), refuses a newer or foreign one.
pub(super) fn init(conn: &mut Connection, name: &str, file: bool) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| db_error(format_args!("opening {name}"), e))?;
    if file {
        // The first read of the file: fails here when it is no database.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(|e| db_error(format_args!("opening {name}"), e))?;
        if !mode.eq_ignore_ascii_case("wal") {
            // Still correct, only without concurrent readers.
            tracing::warn!(
                path = name,
                mode,
                "SQLite store: WAL journal mode unavailable"
            );
        }
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(|e| db_error(format_args!("opening {name}"), e))?;

    // Immediate: two processes creating the same file do it one at a time.
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| db_error(format_args!("opening {name}"), e))?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(|e| db_error(format_args!("reading the schema version of {name}"), e))?;
    match version {
        SCHEMA_VERSION => {}
        v if (0..SCHEMA_VERSION).contains(&v) => {
            if version == 0 {
                let tables: i64 = tx
                    .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
                    .map_err(|e| db_error(format_args!("reading the schema of {name}"), e))?;
                if tables > 0 {
                    return Err(ConnectorError::store(format!(
                        "{name} is a SQLite database but not a sync-state store \
                         (it has tables and no schema version)"
                    )));
                }
            }
            for (to, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > version) {
                tx.execute_batch(sql).map_err(|e| {
                    db_error(format_args!("migrating {name} to schema version {to}"), e)
                })?;
            }
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(|e| db_error(format_args!("setting the schema version of {name}"), e))?;
        }
        v if v > SCHEMA_VERSION => {
            return Err(ConnectorError::store(format!(
                "{name} was written by a newer version of this store (schema version {v}, \
                 this version reads {SCHEMA_VERSION}); upgrade, or use another file"
            )));
        }
        v => {
            return Err(ConnectorError::store(format!(
                "{name} has an unknown schema version {v} (this version reads {SCHEMA_VERSION})"
            )));
        }
    }
    tx.commit()
        .map_err(|e| db_error(format_args!("opening {name}"), e))
}
