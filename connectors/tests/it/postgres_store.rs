#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `PostgresStore` against the built-in stores: the same scenario gives the
//! same answers; state survives a reconnect; a newer schema and another
//! program's schema are refused, a migration-1 schema is upgraded in place;
//! concurrent use, from many tasks and from several stores on one database,
//! loses nothing, and one worker at a time holds a lease; the password
//! never shows.
//!
//! The server: the one the `PG*` variables (or `DATABASE_URL`) point to;
//! when they are unset or point nowhere, a throwaway cluster this binary
//! starts itself (`initdb` + `pg_ctl` in a temporary directory on a free
//! port, as the `postgres` user when running as root) and stops when it
//! exits. Only when both fail do the tests skip, saying why. Each test
//! works in a schema of its own, so they run in parallel.

use odoo_integration_connectors::{
    CheckpointStore, ConnectorError, ConnectorErrorKind, Cursor, DeadLetter, DeadLetterQueue,
    HeldFilter, HeldStore, LeaseStore, Link, MemoryStore, PostgresConfig, PostgresStore,
    RecordStore, Resolution, XrefStore,
};
use odoo_integration_model::{CanonicalId, FieldValue, RemoteId, SystemId};
use std::time::Duration;

use super::store_scenario::*;

// ---------------------------------------------------------------------------
// The server.

/// Where the server is: enough to build the store's config and an admin
/// connection.
#[derive(Clone)]
pub(crate) struct Server {
    host: String,
    port: u16,
    user: String,
    password: Option<String>,
    dbname: String,
}

impl Server {
    fn pg(&self) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .connect_timeout(std::time::Duration::from_secs(5));
        if let Some(p) = &self.password {
            c.password(p);
        }
        c
    }

    /// The `PG*` variables that reach this server, for a child process.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        let mut vars = vec![
            ("PGHOST", self.host.clone()),
            ("PGPORT", self.port.to_string()),
            ("PGUSER", self.user.clone()),
            ("PGDATABASE", self.dbname.clone()),
        ];
        if let Some(p) = &self.password {
            vars.push(("PGPASSWORD", p.clone()));
        }
        vars
    }

    pub(crate) fn config(&self, schema: &str) -> PostgresConfig {
        let mut c = PostgresConfig::new()
            .host(&self.host)
            .port(self.port)
            .user(&self.user)
            .dbname(&self.dbname)
            .pool_size(4);
        if let Some(p) = &self.password {
            c = c.password(p.clone().into());
        }
        c.schema(schema).unwrap()
    }

    async fn admin(&self) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
        let (client, conn) = self.pg().connect(tokio_postgres::NoTls).await?;
        tokio::spawn(conn);
        Ok(client)
    }
}

/// The server the `PG*` variables or `DATABASE_URL` name, if any is set.
fn from_env() -> Option<Server> {
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    if let Some(url) = var("DATABASE_URL") {
        let c: tokio_postgres::Config = url.parse().ok()?;
        let host = match c.get_hosts().first()? {
            tokio_postgres::config::Host::Tcp(h) => h.clone(),
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
        };
        return Some(Server {
            host,
            port: c.get_ports().first().copied().unwrap_or(5432),
            user: c.get_user().unwrap_or("postgres").to_owned(),
            password: c
                .get_password()
                .map(|p| String::from_utf8_lossy(p).into_owned()),
            dbname: c
                .get_dbname()
                .or(c.get_user())
                .unwrap_or("postgres")
                .to_owned(),
        });
    }
    if ["PGHOST", "PGPORT", "PGUSER", "PGDATABASE"]
        .iter()
        .all(|v| var(v).is_none())
    {
        return None;
    }
    let user = var("PGUSER").unwrap_or_else(|| "postgres".to_owned());
    Some(Server {
        host: var("PGHOST").unwrap_or_else(|| "localhost".to_owned()),
        port: var("PGPORT").and_then(|p| p.parse().ok()).unwrap_or(5432),
        dbname: var("PGDATABASE").unwrap_or_else(|| user.clone()),
        user,
        password: var("PGPASSWORD"),
    })
}

fn run(cmd: &mut std::process::Command) -> Result<String, String> {
    let shown = format!("{cmd:?}");
    let out = cmd.output().map_err(|e| format!("{shown}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{shown}: {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// The directory holding `pg_ctl` and `initdb`.
fn pg_bin() -> Option<std::path::PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .find(|d| d.join("pg_ctl").is_file() && d.join("initdb").is_file())
    });
    on_path.or_else(|| {
        let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| Some(e.ok()?.path().join("bin")))
            .filter(|d| d.join("pg_ctl").is_file() && d.join("initdb").is_file())
            .collect();
        dirs.sort();
        dirs.pop()
    })
}

/// Starts a throwaway cluster on a free port; a watchdog stops it and
/// deletes its directory once this process is gone.
fn start_server() -> Result<Server, String> {
    let bin = pg_bin().ok_or("no pg_ctl/initdb on PATH or in /usr/lib/postgresql/*/bin")?;
    let root = run(std::process::Command::new("id").arg("-u"))?.trim() == "0";
    // initdb refuses root: run the server as `postgres` (Debian's package
    // makes it), else `nobody`.
    let owner = if !root {
        None
    } else if run(std::process::Command::new("id").arg("postgres")).is_ok() {
        Some("postgres")
    } else {
        Some("nobody")
    };
    let as_owner = |program: &std::path::Path| {
        let mut cmd = match owner {
            Some(user) => {
                let mut c = std::process::Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => std::process::Command::new(program),
        };
        cmd.env_remove("PGHOST").env_remove("PGPORT");
        cmd
    };
    let dir = std::env::temp_dir().join(format!(
        "odoo-it-pg-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    ));
    std::fs::create_dir(&dir).map_err(|e| format!("creating {}: {e}", dir.display()))?;
    if let Some(user) = owner {
        run(std::process::Command::new("chown").arg(user).arg(&dir))?;
    }
    let data = dir.join("data");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("finding a free port: {e}"))?
        .port();
    run(as_owner(&bin.join("initdb")).arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "--auth=trust",
        "-E",
        "UTF8",
        "--no-sync",
    ]))?;
    let pg_ctl = bin.join("pg_ctl");
    run(as_owner(&pg_ctl)
        .arg("-D")
        .arg(&data)
        .arg("-l")
        .arg(dir.join("log"))
        .args(["-w", "-t", "60", "-o"])
        .arg(format!(
            "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=200",
            dir.display()
        ))
        .arg("start"))?;
    // The watchdog: when this process ends, stop the server, delete it all.
    let runas = owner
        .map(|u| format!("runuser -u {u} -- "))
        .unwrap_or_default();
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {runas}'{pg_ctl}' -D '{data}' stop -m immediate >/dev/null 2>&1; rm -rf '{dir}'",
        pid = std::process::id(),
        pg_ctl = pg_ctl.display(),
        data = data.display(),
        dir = dir.display(),
    );
    std::process::Command::new("sh")
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the watchdog: {e}"))?;
    Ok(Server {
        host: "127.0.0.1".to_owned(),
        port,
        user: "postgres".to_owned(),
        password: None,
        dbname: "postgres".to_owned(),
    })
}

/// The server for every test of this binary, found or started once; `Err`
/// says why there is none.
async fn server() -> Result<Server, String> {
    static SERVER: tokio::sync::OnceCell<Result<Server, String>> =
        tokio::sync::OnceCell::const_new();
    SERVER
        .get_or_init(|| async {
            let mut why = String::new();
            if let Some(s) = from_env() {
                match s.admin().await {
                    Ok(_) => return Ok(s),
                    Err(e) => {
                        why = format!(
                            "the PG* variables / DATABASE_URL point to {}:{}, which answered: {e}; ",
                            s.host, s.port
                        );
                    }
                }
            }
            let started = tokio::task::spawn_blocking(start_server).await.unwrap();
            match started {
                Ok(s) => match s.admin().await {
                    Ok(_) => Ok(s),
                    Err(e) => Err(format!("{why}the throwaway server started but: {e}")),
                },
                Err(e) => Err(format!("{why}no throwaway server either: {e}")),
            }
        })
        .await
        .clone()
}

/// A fresh schema name for one test.
fn schema_name(test: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "it_{test}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The server and a fresh schema for `test`, or `None` (after saying why)
/// when no server can be had.
pub(crate) async fn fresh(test: &str) -> Option<(Server, String)> {
    match server().await {
        Ok(s) => Some((s, schema_name(test))),
        Err(why) => {
            eprintln!("SKIPPED {test}: no PostgreSQL server: {why}");
            None
        }
    }
}

async fn sql(server: &Server, sql: &str) {
    server
        .admin()
        .await
        .unwrap()
        .batch_execute(sql)
        .await
        .unwrap();
}

// ---------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn every_method_answers_as_the_memory_store_does() {
    let Some((server, schema)) = fresh("same_answers").await else {
        return;
    };
    let memory = MemoryStore::new();
    let expected = scenario(&memory).await;
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    assert_eq!(store.schema(), schema);
    assert_eq!(scenario(&store).await, expected);
    assert_eq!(dump(&store).await, dump(&memory).await);

    let expected = held_scenario(&memory).await;
    assert_eq!(held_scenario(&store).await, expected);
    assert_eq!(dump_held(&store).await, dump_held(&memory).await);
}

#[tokio::test]
async fn leases_answer_as_the_memory_store_does() {
    let Some((server, schema)) = fresh("leases").await else {
        return;
    };
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    lease_scenario(&store).await;
    // What the scenario left, seen by a store opened afresh.
    let lease = store.lease("p").await.unwrap().expect("held by w2");
    let again = PostgresStore::open(server.config(&schema)).await.unwrap();
    assert_eq!(again.lease("p").await.unwrap(), Some(lease));
    assert_eq!(
        again
            .acquire("p", "w1", Duration::from_secs(60))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn state_survives_reconnect() {
    let Some((server, schema)) = fresh("reconnect").await else {
        return;
    };
    let memory = MemoryStore::new();
    scenario(&memory).await;
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    scenario(&store).await;
    let before = dump(&store).await;
    assert_eq!(before, dump(&memory).await);
    let clone = store.clone();
    drop(store);
    drop(clone);

    let again = PostgresStore::open(server.config(&schema)).await.unwrap();
    assert_eq!(dump(&again).await, before);
    // The reconnected store enforces the stored links.
    assert_link_conflict(&again.link(&[link("client", 3, "hubspot", "r1")]).await);
    again
        .link(&[link("client", 1, "hubspot", "r1")])
        .await
        .unwrap();

    // Each migration is recorded once, however often the store is opened.
    let rows = server
        .admin()
        .await
        .unwrap()
        .query(
            &format!("SELECT version FROM \"{schema}\".sync_state_migrations"),
            &[],
        )
        .await
        .unwrap();
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        versions,
        (1..=PostgresStore::SCHEMA_VERSION).collect::<Vec<_>>()
    );
}

/// The tables (and indexes) of `schema`, sorted, and its migrations.
async fn tables_of(server: &Server, schema: &str) -> (Vec<String>, Vec<i32>) {
    let admin = server.admin().await.unwrap();
    let names = admin
        .query(
            "SELECT c.relname::text FROM pg_catalog.pg_class c
               JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'i') ORDER BY 1",
            &[&schema],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let versions = admin
        .query(
            &format!("SELECT version FROM \"{schema}\".sync_state_migrations ORDER BY 1"),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    (names, versions)
}

/// What migration 1 created (it is never edited).
const TABLES_V1: [&str; 11] = [
    "checkpoints",
    "checkpoints_pkey",
    "dead_letters",
    "dead_letters_by_entity",
    "dead_letters_pkey",
    "records",
    "records_pkey",
    "sync_state_migrations",
    "sync_state_migrations_pkey",
    "xrefs",
    "xrefs_id_system_key",
];

/// A schema at migration 1 holding the scenario's state, as the first
/// release left it: this version's, with what migration 2 added taken
/// out. Returns the dump of its state.
async fn migration_1_schema(server: &Server, schema: &str) -> String {
    let store = PostgresStore::open(server.config(schema)).await.unwrap();
    scenario(&store).await;
    let before = dump(&store).await;
    drop(store);
    sql(
        server,
        &format!(
            r#"DROP TABLE "{schema}".held; DROP TABLE "{schema}".leases;
               DELETE FROM "{schema}".sync_state_migrations WHERE version = 2;"#
        ),
    )
    .await;
    let (mut tables, versions) = tables_of(server, schema).await;
    tables.retain(|t| t != "xrefs_pkey");
    assert_eq!(tables, TABLES_V1.map(String::from).to_vec());
    assert_eq!(versions, vec![1]);
    before
}

#[tokio::test]
async fn a_migration_1_schema_is_upgraded_in_place() {
    let Some((server, schema)) = fresh("upgrade").await else {
        return;
    };
    let before = migration_1_schema(&server, &schema).await;

    // Two workers of the new version start at once: one migrates.
    let (first, second) = tokio::join!(
        PostgresStore::open(server.config(&schema)),
        PostgresStore::open(server.config(&schema))
    );
    let (store, second) = (first.unwrap(), second.unwrap());
    assert_eq!(dump(&store).await, before, "nothing lost");
    assert_eq!(dump(&second).await, before);
    let (tables, versions) = tables_of(&server, &schema).await;
    assert_eq!(versions, vec![1, 2]);
    for t in ["held", "held_by_age", "held_pkey", "leases", "leases_pkey"]
        .iter()
        .chain(&TABLES_V1)
    {
        assert!(tables.iter().any(|n| n == t), "{t} in {tables:?}");
    }
    // The new stores work on the upgraded schema, and the old data still
    // enforces its links.
    let memory = MemoryStore::new();
    assert_eq!(held_scenario(&store).await, held_scenario(&memory).await);
    lease_scenario(&store).await;
    assert_link_conflict(&store.link(&[link("client", 3, "hubspot", "r1")]).await);
}

#[tokio::test]
async fn a_failed_migration_changes_nothing() {
    let Some((server, schema)) = fresh("failed_migration").await else {
        return;
    };
    let before = migration_1_schema(&server, &schema).await;
    // Something in the way of migration 2's second table.
    sql(
        &server,
        &format!(r#"CREATE TABLE "{schema}".leases (x INTEGER);"#),
    )
    .await;
    let r = PostgresStore::open(server.config(&schema)).await;
    assert_store_error(&r);
    let message = r.unwrap_err().message().to_owned();
    assert!(message.contains("migration 2"), "{message}");
    let (tables, versions) = tables_of(&server, &schema).await;
    assert_eq!(versions, vec![1], "still at migration 1");
    assert!(!tables.iter().any(|t| t == "held"), "{tables:?}");

    sql(&server, &format!(r#"DROP TABLE "{schema}".leases;"#)).await;
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    assert_eq!(dump(&store).await, before);
}

#[tokio::test]
async fn clones_share_and_schemas_are_separate() {
    let Some((server, schema)) = fresh("separate").await else {
        return;
    };
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    let clone = store.clone();
    store.link(&[link("client", 1, "odoo", "7")]).await.unwrap();
    assert_eq!(
        clone
            .resolve("client", &SystemId::odoo(), &remote("7"))
            .await
            .unwrap(),
        Some(id(1))
    );
    let other = PostgresStore::open(server.config(&schema_name("separate")))
        .await
        .unwrap();
    assert_eq!(
        other
            .resolve("client", &SystemId::odoo(), &remote("7"))
            .await
            .unwrap(),
        None
    );
    // Another schema may link the same remote id to another record.
    other.link(&[link("client", 2, "odoo", "7")]).await.unwrap();
}

#[tokio::test]
async fn a_failed_write_stores_nothing() {
    let Some((server, schema)) = fresh("failed_write").await else {
        return;
    };
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    // The database refuses one particular row.
    sql(
        &server,
        &format!(
            r#"CREATE FUNCTION "{schema}".refuse_record() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.id = '{bad}' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER refuse_record BEFORE INSERT ON "{schema}".records
               FOR EACH ROW EXECUTE FUNCTION "{schema}".refuse_record();
             CREATE FUNCTION "{schema}".refuse_link() RETURNS trigger LANGUAGE plpgsql AS $$
               BEGIN IF NEW.remote_id = 'bad' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$;
             CREATE TRIGGER refuse_link BEFORE INSERT ON "{schema}".xrefs
               FOR EACH ROW EXECUTE FUNCTION "{schema}".refuse_link();"#,
            bad = id(2)
        ),
    )
    .await;

    let r = store
        .save_records(
            "client",
            vec![
                (id(1), json("{}")),
                (id(2), json("{}")),
                (id(3), json("{}")),
            ],
        )
        .await;
    assert_store_error(&r);
    assert_eq!(
        store
            .records("client", &[id(1), id(2), id(3)])
            .await
            .unwrap(),
        vec![None, None, None]
    );
    let r = store
        .link(&[
            link("client", 1, "odoo", "good"),
            link("client", 2, "odoo", "bad"),
        ])
        .await;
    assert_store_error(&r);
    assert!(store.cross_refs(id(1)).await.unwrap().is_empty());

    // The store still works after a failed transaction.
    store
        .save_records("client", vec![(id(1), json("{}"))])
        .await
        .unwrap();
    store
        .link(&[link("client", 1, "odoo", "good")])
        .await
        .unwrap();
    assert_eq!(
        store.record("client", id(1)).await.unwrap(),
        Some(json("{}"))
    );
}

#[tokio::test]
async fn another_programs_schema_is_refused() {
    let Some((server, schema)) = fresh("foreign").await else {
        return;
    };
    sql(
        &server,
        &format!(
            r#"CREATE SCHEMA "{schema}";
               CREATE TABLE "{schema}".invoices (n INTEGER);
               INSERT INTO "{schema}".invoices VALUES (1);"#
        ),
    )
    .await;
    let r = PostgresStore::open(server.config(&schema)).await;
    assert_store_error(&r);
    let message = r.unwrap_err().message().to_owned();
    assert!(message.contains("not a sync-state store"), "{message}");
    assert!(message.contains(&schema), "{message}");
    let tables: i64 = server
        .admin()
        .await
        .unwrap()
        .query_one(
            "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = $1",
            &[&schema],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "nothing was created in it");
}

#[tokio::test]
async fn a_newer_schema_version_is_refused() {
    let Some((server, schema)) = fresh("newer").await else {
        return;
    };
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    store.save_checkpoint("k", &Cursor::new("1")).await.unwrap();
    drop(store);

    let table = format!("\"{schema}\".sync_state_migrations");
    let newer = PostgresStore::SCHEMA_VERSION + 1;
    sql(
        &server,
        &format!("INSERT INTO {table} (version, description) VALUES ({newer}, 'from the future')"),
    )
    .await;
    let r = PostgresStore::open(server.config(&schema)).await;
    assert_store_error(&r);
    let message = r.unwrap_err().message().to_owned();
    assert!(message.contains("newer"), "{message}");
    assert!(
        message.contains(&format!("schema version {newer}")),
        "{message}"
    );

    // Back at this version it opens, data intact.
    sql(
        &server,
        &format!("DELETE FROM {table} WHERE version = {newer}"),
    )
    .await;
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    assert_eq!(store.checkpoint("k").await.unwrap(), Some(Cursor::new("1")));
}

fn chain(e: &ConnectorError) -> String {
    let mut text = format!("{e} {e:?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(" / {s} {s:?}"));
        source = s.source();
    }
    text
}

#[tokio::test]
async fn the_password_never_shows() {
    let secret = "Pw-SECRET-4711";
    // Parsing: a URL that does not parse is not repeated.
    let e = PostgresConfig::from_url(&format!("postgres://sync:{secret}@localhost:nope/state"))
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Store);
    assert!(!chain(&e).contains(secret), "{}", chain(&e));
    // Debug of a config, by URL and by builder.
    let by_url =
        PostgresConfig::from_url(&format!("postgres://sync:{secret}@db.internal:5433/state"))
            .unwrap();
    let by_builder = PostgresConfig::new().password(secret.to_owned().into());
    for c in [&by_url, &by_builder] {
        let shown = format!("{c:?}");
        assert!(!shown.contains(secret), "{shown}");
        assert!(shown.contains("[redacted]"), "{shown}");
    }
    assert!(format!("{by_url:?}").contains("db.internal"));
    // A bad schema name is bad input, not a panic.
    assert_eq!(
        PostgresConfig::new().schema("Bad-Name").unwrap_err().kind(),
        ConnectorErrorKind::Invalid
    );
    assert!(PostgresConfig::new().schema(&"x".repeat(64)).is_err());

    // Connecting to a port where nothing listens: an error without it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let e = PostgresStore::connect(&format!(
        "postgres://sync:{secret}@127.0.0.1:{port}/state?connect_timeout=2"
    ))
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Store);
    assert!(!chain(&e).contains(secret), "{}", chain(&e));

    // A live store's Debug, and a refused login's error.
    let Some((server, schema)) = fresh("password").await else {
        return;
    };
    let store =
        PostgresStore::open(server.config(&schema).password(secret.to_owned().into())).await;
    match store {
        Ok(store) => {
            // A trusting server lets any password in.
            let shown = format!("{store:?}");
            assert!(!shown.contains(secret), "{shown}");
            assert!(shown.contains(&schema), "{shown}");
        }
        Err(e) => assert!(!chain(&e).contains(secret), "{}", chain(&e)),
    }
}

#[tokio::test]
async fn errors_never_quote_record_contents() {
    let Some((server, schema)) = fresh("privacy").await else {
        return;
    };
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    let l = letter("client", "9", at(0, 0), 1);
    store.put(l.clone()).await.unwrap();
    store
        .save_records(
            "client",
            vec![(id(1), json(r#"{"secret":"SECRET-RECORD"}"#))],
        )
        .await
        .unwrap();
    sql(
        &server,
        &format!(
            r#"UPDATE "{schema}".dead_letters
                 SET letter = replace(letter, '"attempts":1', '"attempts":"SECRET-LETTER"');
               UPDATE "{schema}".records SET json = '{{"secret": "SECRET-RECORD"' WHERE id = '{}';"#,
            id(1)
        ),
    )
    .await;
    for r in [
        store.letters("client").await.map(|_| ()),
        store.letter(&l.key).await.map(|_| ()),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Store);
        let text = chain(&e);
        assert!(text.contains(&l.key), "{text}");
        assert!(!text.contains("SECRET"), "{text}");
    }
    for r in [
        store.record("client", id(1)).await.map(|_| ()),
        store.records("client", &[id(1)]).await.map(|_| ()),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Store);
        assert!(!chain(&e).contains("SECRET"), "{}", chain(&e));
    }
}

#[tokio::test]
async fn large_batches_are_one_query_each() {
    let Some((server, schema)) = fresh("batches").await else {
        return;
    };
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    let n: u128 = 20_000;
    let links: Vec<Link> = (0..n)
        .map(|i| link("client", i, "odoo", &i.to_string()))
        .collect();
    store.link(&links).await.unwrap();
    store
        .save_records(
            "client",
            (0..n)
                .step_by(2)
                .map(|i| (id(i), json(&i.to_string())))
                .collect(),
        )
        .await
        .unwrap();
    let remotes: Vec<RemoteId> = (0..n + 5).map(|i| remote(&i.to_string())).collect();
    let found = store
        .resolve_many("client", &SystemId::odoo(), &remotes)
        .await
        .unwrap();
    assert_eq!(found.len(), remotes.len());
    assert!(
        found[..n as usize]
            .iter()
            .enumerate()
            .all(|(i, f)| *f == Some(id(i as u128)))
    );
    assert!(found[n as usize..].iter().all(Option::is_none));
    let ids: Vec<CanonicalId> = (0..n).map(id).collect();
    let xrefs = store.cross_refs_many(&ids).await.unwrap();
    assert!(
        xrefs
            .iter()
            .enumerate()
            .all(|(i, x)| x == &refs(&[("odoo", &i.to_string())]))
    );
    let records = store.records("client", &ids).await.unwrap();
    assert!(
        records
            .iter()
            .enumerate()
            .all(|(i, r)| r.is_some() == (i % 2 == 0))
    );
    // The ids come back sorted bytewise, whatever the database's collation.
    let mut sorted: Vec<RemoteId> = (0..n).map(|i| remote(&i.to_string())).collect();
    sorted.sort();
    assert_eq!(
        store.remote_ids("client", &SystemId::odoo()).await.unwrap(),
        sorted
    );
    for i in 0..100 {
        store
            .put(letter("client", &i.to_string(), at(0, 0), 1))
            .await
            .unwrap();
    }
    let mut keys: Vec<String> = (0..n)
        .map(|i| DeadLetter::key_of("client", &SystemId::hubspot(), &remote(&i.to_string())))
        .collect();
    keys.push(keys[0].clone());
    assert_eq!(store.remove_many(&keys).await.unwrap(), 100);
    assert!(store.letters("client").await.unwrap().is_empty());
}

/// Eight tasks claim one remote id at once, across `stores`: exactly one
/// wins, the others get a link conflict.
async fn one_claim_wins(stores: &[PostgresStore], base: u128) {
    let handles: Vec<_> = (0..8u128)
        .map(|t| {
            let store = stores[(t as usize) % stores.len()].clone();
            tokio::spawn(async move {
                let r = store
                    .link(&[
                        link("client", base + t, "odoo", &format!("mine-{base}-{t}")),
                        link("client", base + t, "salesforce", &format!("shared-{base}")),
                    ])
                    .await;
                (t, r)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for h in handles {
        let (t, r) = h.await.unwrap();
        match r {
            Ok(()) => winners.push(t),
            Err(e) => assert_eq!(e.kind(), ConnectorErrorKind::LinkConflict, "{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    let store = &stores[0];
    assert_eq!(
        store
            .resolve(
                "client",
                &SystemId::salesforce(),
                &remote(&format!("shared-{base}"))
            )
            .await
            .unwrap(),
        Some(id(base + winners[0]))
    );
    // The losers stored nothing, not even their own odoo link.
    for t in (0..8u128).filter(|t| *t != winners[0]) {
        assert!(store.cross_refs(id(base + t)).await.unwrap().is_empty());
    }
}

/// Eight workers give one canonical id eight entities at once, each in its
/// own system (so no unique index can catch it): exactly one wins.
async fn one_entity_wins(stores: &[PostgresStore], n: u128) {
    let handles: Vec<_> = (0..8u128)
        .map(|t| {
            let store = stores[(t as usize) % stores.len()].clone();
            tokio::spawn(async move {
                let r = store
                    .link(&[link(&format!("entity{t}"), n, &format!("system{t}"), "r")])
                    .await;
                (t, r)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for h in handles {
        let (t, r) = h.await.unwrap();
        match r {
            Ok(()) => winners.push(t),
            Err(e) => assert_eq!(e.kind(), ConnectorErrorKind::LinkConflict, "{e}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(stores[0].cross_refs(id(n)).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_tasks_at_once_lose_nothing() {
    let Some((server, schema)) = fresh("eight_tasks").await else {
        return;
    };
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    let (tasks, each) = (8, 25);
    write_concurrently(std::slice::from_ref(&store), tasks, each).await;
    check_all_written(&store, tasks, each).await;
    one_claim_wins(std::slice::from_ref(&store), 90_000).await;
    one_entity_wins(std::slice::from_ref(&store), 95_000).await;
    for round in 0..5 {
        one_lease_wins(std::slice::from_ref(&store), &format!("race-{round}")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_database_lose_nothing() {
    let Some((server, schema)) = fresh("two_stores").await else {
        return;
    };
    // Opened at once: the schema is created and migrated once.
    let (first, second) = tokio::join!(
        PostgresStore::open(server.config(&schema)),
        PostgresStore::open(server.config(&schema))
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    let (tasks, each) = (8, 15);
    write_concurrently(&[first.clone(), second.clone()], tasks, each).await;
    check_all_written(&first, tasks, each).await;
    check_all_written(&second, tasks, each).await;
    one_claim_wins(&[first.clone(), second.clone()], 80_000).await;
    one_entity_wins(&[first.clone(), second.clone()], 85_000).await;
    for round in 0..5 {
        one_lease_wins(&[first.clone(), second.clone()], &format!("race-{round}")).await;
    }
    // Each sees the other's lease; the token grows across stores.
    let ttl = Duration::from_secs(60);
    let a = first.acquire("p", "w1", ttl).await.unwrap().unwrap();
    assert_eq!(second.lease("p").await.unwrap(), Some(a.clone()));
    assert_eq!(second.acquire("p", "w2", ttl).await.unwrap(), None);
    first.release(&a).await.unwrap();
    let b = second.acquire("p", "w2", ttl).await.unwrap().unwrap();
    assert!(b.token > a.token);
    assert_eq!(first.renew(&a, ttl).await.unwrap(), None);
    assert_eq!(first.lease("p").await.unwrap(), Some(b));
    drop((first, second));
    let again = PostgresStore::open(server.config(&schema)).await.unwrap();
    check_all_written(&again, tasks, each).await;
}

/// Eight workers hold one conflict at once, each having seen it at another
/// time, across `stores`: they merge one after the other, so the first
/// sighting is the earliest of all and the last value is one of theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn workers_holding_one_conflict_at_once_merge() {
    let Some((server, schema)) = fresh("hold_race").await else {
        return;
    };
    let stores = [
        PostgresStore::open(server.config(&schema)).await.unwrap(),
        PostgresStore::open(server.config(&schema)).await.unwrap(),
    ];
    for round in 0..3i64 {
        let handles: Vec<_> = (0..8i64)
            .map(|t| {
                let store = stores[(t as usize) % 2].clone();
                tokio::spawn(async move {
                    let seen = at(round * 100 + 10 - t, 0);
                    store
                        .hold(vec![conflict(
                            "p",
                            "client",
                            round as u128,
                            "legal_name",
                            FieldValue::Text(format!("value {t}")),
                            seen,
                        )])
                        .await
                })
            })
            .collect();
        for h in handles {
            h.await.unwrap().unwrap();
        }
        let key = conflict(
            "p",
            "client",
            round as u128,
            "legal_name",
            FieldValue::Null,
            at(0, 0),
        )
        .key;
        let held = stores[0].held_conflict(&key).await.unwrap().unwrap();
        assert_eq!(held.first_seen, at(round * 100 + 3, 0), "round {round}");
    }
}

/// A conflict the database cannot store (PostgreSQL text holds no NUL)
/// is a store error, and the conflicts held with it are not stored.
#[tokio::test]
async fn a_hold_that_fails_stores_nothing() {
    let Some((server, schema)) = fresh("hold_fails").await else {
        return;
    };
    let store = PostgresStore::open(server.config(&schema)).await.unwrap();
    let good = conflict(
        "p",
        "client",
        1,
        "legal_name",
        FieldValue::Text("ok".into()),
        at(0, 0),
    );
    store.hold(vec![good.clone()]).await.unwrap();
    assert!(
        store
            .decide(&good.key, Resolution::AcceptAttempted)
            .await
            .unwrap()
    );
    let changed = conflict(
        "p",
        "client",
        1,
        "legal_name",
        FieldValue::Text("new".into()),
        at(1, 0),
    );
    let bad = conflict(
        "p",
        "client",
        2,
        "legal_name",
        FieldValue::Text("nul \0 here".into()),
        at(1, 0),
    );
    let r = store.hold(vec![changed, bad.clone()]).await;
    assert_store_error(&r);
    let e = r.unwrap_err();
    assert!(e.message().contains(&bad.key), "{e}");
    assert!(
        !chain(&e).contains("here"),
        "the value is not quoted: {}",
        chain(&e)
    );
    // A decision the database cannot store, likewise.
    let r = store
        .decide(
            &good.key,
            Resolution::Set(FieldValue::Text("nul \0 here".into())),
        )
        .await;
    assert_store_error(&r);
    assert!(!chain(&r.unwrap_err()).contains("here"));
    let mut decided = good.clone();
    decided.decision = Some(Resolution::AcceptAttempted);
    assert_eq!(
        store.held(&HeldFilter::default()).await.unwrap(),
        vec![decided],
        "the first conflict is as it was, the second absent"
    );
    // The store still works after the failed transaction.
    store
        .remove_held(std::slice::from_ref(&good.key))
        .await
        .unwrap();
    assert!(store.held(&HeldFilter::default()).await.unwrap().is_empty());
}
