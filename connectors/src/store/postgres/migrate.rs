//! The schema's versions, and bringing a schema to this one: create,
//! migrate in place, or refuse.

use super::{PostgresStore, db_error};
use crate::error::{ConnectorError, Result};

/// The migrations, in order: `(version, what it does, SQL)`. `{s}` is the
/// quoted schema name. A new version appends one; none is ever edited.
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "checkpoints, cross-references, records and dead letters",
        V1,
    ),
    (2, "held conflicts and leases", V2),
];

const V1: &str = r#"
CREATE TABLE {s}.checkpoints (
    key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    cursor TEXT NOT NULL
);
CREATE TABLE {s}.xrefs (
    entity TEXT COLLATE "C" NOT NULL,
    system TEXT COLLATE "C" NOT NULL,
    remote_id TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (entity, system, remote_id),
    UNIQUE (id, system)
);
CREATE TABLE {s}.records (
    entity TEXT COLLATE "C" NOT NULL,
    id TEXT COLLATE "C" NOT NULL,
    json TEXT NOT NULL,
    PRIMARY KEY (entity, id)
);
CREATE TABLE {s}.dead_letters (
    key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    entity TEXT COLLATE "C" NOT NULL,
    first_seen BIGINT NOT NULL,
    first_seen_nanos INTEGER NOT NULL,
    letter TEXT NOT NULL
);
CREATE INDEX dead_letters_by_entity
    ON {s}.dead_letters (entity, first_seen, first_seen_nanos, key);
"#;

/// A held conflict is its JSON, with the columns a listing filters and
/// sorts on beside it. A lease's expiry is by the database's clock.
const V2: &str = r#"
CREATE TABLE {s}.held (
    key TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    pipeline TEXT COLLATE "C" NOT NULL,
    entity TEXT COLLATE "C" NOT NULL,
    decided BOOLEAN NOT NULL,
    first_seen BIGINT NOT NULL,
    first_seen_nanos INTEGER NOT NULL,
    conflict JSONB NOT NULL
);
CREATE INDEX held_by_age ON {s}.held (first_seen, first_seen_nanos, key);
CREATE TABLE {s}.leases (
    name TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    holder TEXT NOT NULL,
    token BIGINT NOT NULL CHECK (token > 0),
    expires_at TIMESTAMPTZ NOT NULL
);
"#;

/// The schema version this crate writes and reads: the last migration's.
pub(super) const SCHEMA_VERSION: i32 = 2;

/// The table that lists the applied migrations.
const MIGRATIONS_TABLE: &str = "sync_state_migrations";

impl PostgresStore {
    /// Creates the schema and applies the missing migrations, under an
    /// advisory lock, in one transaction.
    pub(super) async fn migrate(&self) -> Result<()> {
        let schema = self.inner.config.schema.clone();
        let doing = format!("opening the store in schema {schema}");
        let mut client = self.client().await?;
        let tx = client
            .transaction()
            .await
            .map_err(|e| db_error(&doing, e))?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('odoo-integration/migrate/' || $1))",
            &[&schema],
        )
        .await
        .map_err(|e| db_error(&doing, e))?;
        let has_table = tx
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables
                   WHERE schemaname = $1 AND tablename = $2)",
                &[&schema, &MIGRATIONS_TABLE],
            )
            .await
            .map_err(|e| db_error(&doing, e))?
            .get::<_, bool>(0);
        let current: i32 = if has_table {
            tx.query_one(
                &self.sql("SELECT COALESCE(max(version), 0) FROM {s}.sync_state_migrations"),
                &[],
            )
            .await
            .map_err(|e| db_error(&doing, e))?
            .get(0)
        } else {
            let others: i64 = tx
                .query_one(
                    "SELECT count(*) FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
                    &[&schema],
                )
                .await
                .map_err(|e| db_error(&doing, e))?
                .get(0);
            if others > 0 {
                return Err(ConnectorError::store(format!(
                    "schema {schema} is not a sync-state store: it holds {others} tables or \
                     views of another program and no {MIGRATIONS_TABLE}; choose another schema"
                )));
            }
            tx.batch_execute(&self.sql(
                "CREATE SCHEMA IF NOT EXISTS {s};
                 CREATE TABLE {s}.sync_state_migrations (
                     version INTEGER NOT NULL PRIMARY KEY,
                     description TEXT NOT NULL,
                     applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
                 );",
            ))
            .await
            .map_err(|e| db_error(&doing, e))?;
            0
        };
        if current > SCHEMA_VERSION {
            return Err(ConnectorError::store(format!(
                "schema {schema} was migrated by a newer version of this store (schema version \
                 {current}, this version reads {SCHEMA_VERSION}); upgrade, or use another schema"
            )));
        }
        if current < 0 {
            return Err(ConnectorError::store(format!(
                "schema {schema} has an unknown schema version {current} (this version reads \
                 {SCHEMA_VERSION})"
            )));
        }
        for (version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
            tx.batch_execute(&self.sql(sql))
                .await
                .map_err(|e| db_error(format!("{doing}: migration {version}"), e))?;
            tx.execute(
                &self.sql(
                    "INSERT INTO {s}.sync_state_migrations (version, description) VALUES ($1, $2)",
                ),
                &[version, description],
            )
            .await
            .map_err(|e| db_error(format!("{doing}: migration {version}"), e))?;
        }
        tx.commit().await.map_err(|e| db_error(&doing, e))
    }
}
