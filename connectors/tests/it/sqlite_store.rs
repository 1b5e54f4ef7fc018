#![allow(clippy::unwrap_used, clippy::expect_used)]
//! `SqliteStore` against the built-in stores: the same scenario gives the
//! same answers; state survives a reopen; damaged, foreign and newer files
//! are refused, a version-1 file is migrated in place; concurrent use loses
//! nothing, and of two handles on one file one at a time holds a lease.

use odoo_integration_connectors::{
    CheckpointStore, ConnectorError, ConnectorErrorKind, Cursor, DeadLetter, DeadLetterQueue,
    FileStore, HeldFilter, HeldStore, LeaseStore, Link, MemoryStore, RecordStore, SqliteStore,
    XrefStore,
};
use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
use std::path::Path;

use super::store_scenario::*;

#[tokio::test]
async fn every_method_answers_as_the_memory_store_does() {
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryStore::new();
    let expected = scenario(&memory).await;

    let in_memory = SqliteStore::open_in_memory().unwrap();
    assert_eq!(scenario(&in_memory).await, expected);

    let on_disk = SqliteStore::open(dir.path().join("state.db"))
        .await
        .unwrap();
    assert_eq!(scenario(&on_disk).await, expected);

    let files = FileStore::open(dir.path().join("files")).await.unwrap();
    assert_eq!(scenario(&files).await, expected);

    let left = dump(&memory).await;
    assert_eq!(dump(&in_memory).await, left);
    assert_eq!(dump(&on_disk).await, left);

    let expected = held_scenario(&memory).await;
    assert_eq!(held_scenario(&in_memory).await, expected);
    assert_eq!(held_scenario(&on_disk).await, expected);
    assert_eq!(dump_held(&on_disk).await, dump_held(&memory).await);
}

#[tokio::test]
async fn leases_answer_as_the_memory_store_does() {
    let dir = tempfile::tempdir().unwrap();
    lease_scenario(&SqliteStore::open_in_memory().unwrap()).await;
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).await.unwrap();
    lease_scenario(&store).await;
    // Leases and held conflicts survive a reopen.
    let lease = store.lease("p").await.unwrap().expect("held by w2");
    let held = store.held(&HeldFilter::default()).await.unwrap();
    drop(store);
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(again.lease("p").await.unwrap(), Some(lease.clone()));
    assert_eq!(again.held(&HeldFilter::default()).await.unwrap(), held);
    assert_eq!(
        again
            .acquire("p", "w1", std::time::Duration::from_secs(60))
            .await
            .unwrap(),
        None
    );
}

#[tokio::test]
async fn state_survives_close_and_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let memory = MemoryStore::new();
    scenario(&memory).await;

    let store = SqliteStore::open(&path).await.unwrap();
    scenario(&store).await;
    let before = dump(&store).await;
    assert_eq!(before, dump(&memory).await);
    let clone = store.clone();
    drop(store);
    drop(clone);

    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(again.path(), Some(path.as_path()));
    assert_eq!(dump(&again).await, before);
    // The reopened store enforces the stored links.
    assert_link_conflict(&again.link(&[link("client", 3, "hubspot", "r1")]).await);
    again
        .link(&[link("client", 1, "hubspot", "r1")])
        .await
        .unwrap();
    drop(again);

    // The file is a WAL-mode SQLite database at this version's schema.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SqliteStore::SCHEMA_VERSION);
}

/// The tables of a version-1 file, as the first release wrote them.
const TABLES_V1: [&str; 5] = [
    "checkpoints",
    "dead_letters",
    "dead_letters_by_entity",
    "records",
    "xrefs",
];

fn schema_of(path: &Path) -> (i64, Vec<String>) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let version = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    let mut q = conn
        .prepare("SELECT name FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY name")
        .unwrap();
    let names = q
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<String>, _>>()
        .unwrap();
    (version, names)
}

/// A version-1 file holding the scenario's state: a version-2 file with
/// what version 2 added taken out (version 1 is never edited, so this is
/// what the first release left).
async fn version_1_file(path: &Path) -> String {
    let store = SqliteStore::open(path).await.unwrap();
    scenario(&store).await;
    let before = dump(&store).await;
    drop(store);
    execute(
        path,
        "DROP TABLE held; DROP TABLE leases; PRAGMA user_version = 1;",
    );
    assert_eq!(schema_of(path), (1, TABLES_V1.map(String::from).to_vec()));
    before
}

#[tokio::test]
async fn a_version_1_file_is_migrated_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let before = version_1_file(&path).await;

    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(dump(&store).await, before, "nothing lost");
    let memory = MemoryStore::new();
    assert_eq!(held_scenario(&store).await, held_scenario(&memory).await);
    lease_scenario(&store).await;
    drop(store);
    let (version, tables) = schema_of(&path);
    assert_eq!(version, SqliteStore::SCHEMA_VERSION);
    for t in ["held", "held_by_age", "leases"].iter().chain(&TABLES_V1) {
        assert!(tables.iter().any(|n| n == t), "{t} in {tables:?}");
    }
    // Opening again migrates nothing more.
    let again = SqliteStore::open(&path).await.unwrap();
    assert_eq!(dump(&again).await, before);
    assert_eq!(dump_held(&again).await, dump_held(&memory).await);
}

#[tokio::test]
async fn a_failed_migration_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let before = version_1_file(&path).await;
    // Something in the way of migration 2, which fails half-way.
    execute(&path, "CREATE TABLE leases (x INTEGER);");
    let r = SqliteStore::open(&path).await;
    assert_store_error(&r);
    let message = r.unwrap_err().message().to_owned();
    assert!(message.contains("schema version 2"), "{message}");
    let (version, tables) = schema_of(&path);
    assert_eq!(version, 1, "still version 1");
    assert!(!tables.iter().any(|t| t == "held"), "{tables:?}");

    execute(&path, "DROP TABLE leases;");
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(dump(&store).await, before);
}

#[tokio::test]
async fn clones_share_one_database() {
    let store = SqliteStore::open_in_memory().unwrap();
    let clone = store.clone();
    store.link(&[link("client", 1, "odoo", "7")]).await.unwrap();
    assert_eq!(
        clone
            .resolve("client", &SystemId::odoo(), &remote("7"))
            .await
            .unwrap(),
        Some(id(1))
    );
    assert_eq!(SqliteStore::open_in_memory().unwrap().path(), None);
    // Two in-memory stores are separate.
    let other = SqliteStore::open_in_memory().unwrap();
    assert_eq!(
        other
            .resolve("client", &SystemId::odoo(), &remote("7"))
            .await
            .unwrap(),
        None
    );
}

/// Stricter than the built-in stores, as `XrefStore::link` promises: a
/// canonical id given two entities within one call is refused.
#[tokio::test]
async fn an_id_under_two_entities_in_one_call_is_refused() {
    let sqlite = SqliteStore::open_in_memory().unwrap();
    let memory = MemoryStore::new();
    let stores: [&dyn XrefStore; 2] = [&sqlite, &memory];
    for store in stores {
        let r = store
            .link(&[
                link("client", 1, "hubspot", "h1"),
                link("contact", 1, "odoo", "o1"),
            ])
            .await;
        assert_link_conflict(&r);
        assert_eq!(
            r.unwrap_err().message(),
            format!("{} is a client, not a contact", id(1))
        );
        assert!(store.cross_refs(id(1)).await.unwrap().is_empty());
        assert_eq!(
            store
                .resolve("client", &SystemId::hubspot(), &remote("h1"))
                .await
                .unwrap(),
            None
        );
    }
}

fn execute(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[tokio::test]
async fn a_failed_write_stores_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).await.unwrap();
    // Another connection makes SQLite refuse one particular row.
    execute(
        &path,
        &format!(
            "CREATE TRIGGER refuse_record BEFORE INSERT ON records WHEN NEW.id = '{}'
               BEGIN SELECT RAISE(ABORT, 'refused'); END;
             CREATE TRIGGER refuse_link BEFORE INSERT ON xrefs WHEN NEW.remote_id = 'bad'
               BEGIN SELECT RAISE(ABORT, 'refused'); END;",
            id(2)
        ),
    );

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
async fn a_file_that_is_no_database_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.db");
    std::fs::write(&text, "these are notes, not a database\n".repeat(200)).unwrap();
    let r = SqliteStore::open(&text).await;
    assert_store_error(&r);
    assert!(r.unwrap_err().message().contains("notes.db"));
    // Refused, not overwritten.
    assert!(
        std::fs::read_to_string(&text)
            .unwrap()
            .starts_with("these are notes")
    );

    // A store whose header was overwritten.
    let damaged = dir.path().join("damaged.db");
    let store = SqliteStore::open(&damaged).await.unwrap();
    store.save_checkpoint("k", &Cursor::new("1")).await.unwrap();
    drop(store);
    let mut bytes = std::fs::read(&damaged).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    bytes[..16].copy_from_slice(b"garbage garbage!");
    std::fs::write(&damaged, &bytes).unwrap();
    assert_store_error(&SqliteStore::open(&damaged).await);

    // A directory, and a file in a missing directory.
    assert_store_error(&SqliteStore::open(dir.path()).await);
    assert_store_error(&SqliteStore::open(dir.path().join("missing/state.db")).await);
}

#[tokio::test]
async fn damaged_pages_give_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let records: Vec<_> = (0..200)
        .map(|n| {
            (
                id(n),
                json(&format!(r#"{{"n":{n},"pad":"{}"}}"#, "x".repeat(300))),
            )
        })
        .collect();
    store.save_records("client", records).await.unwrap();
    drop(store);
    // Everything past the first page (the schema) becomes noise.
    let mut bytes = std::fs::read(&path).unwrap();
    assert!(bytes.len() > 8192);
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i % 251) as u8;
    }
    std::fs::write(&path, &bytes).unwrap();

    match SqliteStore::open(&path).await {
        Err(e) => assert_eq!(e.kind(), ConnectorErrorKind::Store),
        Ok(store) => {
            let ids: Vec<_> = (0..200).map(id).collect();
            let r = store.records("client", &ids).await;
            assert_store_error(&r);
            // The store keeps answering, with errors.
            assert_store_error(&store.record("client", id(5)).await);
        }
    }
}

#[tokio::test]
async fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    execute(
        &path,
        "CREATE TABLE invoices (n INTEGER); INSERT INTO invoices VALUES (1);",
    );
    let r = SqliteStore::open(&path).await;
    assert_store_error(&r);
    assert!(r.unwrap_err().message().contains("not a sync-state store"));
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tables, 1, "nothing was created in it");
}

#[tokio::test]
async fn a_newer_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).await.unwrap();
    store.save_checkpoint("k", &Cursor::new("1")).await.unwrap();
    drop(store);

    let newer = SqliteStore::SCHEMA_VERSION + 1;
    execute(&path, &format!("PRAGMA user_version = {newer};"));
    let r = SqliteStore::open(&path).await;
    assert_store_error(&r);
    let message = r.unwrap_err().message().to_owned();
    assert!(message.contains("newer"), "{message}");
    assert!(
        message.contains(&format!("schema version {newer}")),
        "{message}"
    );

    execute(&path, "PRAGMA user_version = -1;");
    assert_store_error(&SqliteStore::open(&path).await);

    // Back at this version it opens, data intact.
    execute(
        &path,
        &format!("PRAGMA user_version = {};", SqliteStore::SCHEMA_VERSION),
    );
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(store.checkpoint("k").await.unwrap(), Some(Cursor::new("1")));
}

#[tokio::test]
async fn errors_never_quote_record_contents() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let l = letter("client", "9", at(0, 0), 1);
    store.put(l.clone()).await.unwrap();
    store
        .save_records(
            "client",
            vec![(id(1), json(r#"{"secret":"SECRET-RECORD"}"#))],
        )
        .await
        .unwrap();
    execute(
        &path,
        &format!(
            "UPDATE dead_letters SET letter = json_set(letter, '$.attempts', 'SECRET-LETTER');
             UPDATE records SET json = '{{\"secret\": \"SECRET-RECORD\"' WHERE id = '{}';",
            id(1)
        ),
    );

    fn chain(e: &ConnectorError) -> String {
        let mut text = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            text.push_str(&format!(" / {s}"));
            source = s.source();
        }
        text
    }
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
async fn batches_beyond_sqlites_parameter_limit_work() {
    // More ids than SQLite allows parameters in one statement (32766): the
    // batch methods pass them as one JSON array.
    let store = SqliteStore::open_in_memory().unwrap();
    let n: u128 = 40_000;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_tasks_at_once_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("state.db"))
        .await
        .unwrap();
    let (tasks, each) = (8, 25);
    write_concurrently(std::slice::from_ref(&store), tasks, each).await;
    check_all_written(&store, tasks, each).await;

    // Eight tasks claim one remote id at once: exactly one wins.
    let handles: Vec<_> = (0..8u128)
        .map(|t| {
            let store = store.clone();
            tokio::spawn(async move {
                let r = store
                    .link(&[link("client", 90_000 + t, "salesforce", "shared")])
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
            Err(e) => assert_eq!(e.kind(), ConnectorErrorKind::LinkConflict),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(
        store
            .resolve("client", &SystemId::salesforce(), &remote("shared"))
            .await
            .unwrap(),
        Some(id(90_000 + winners[0]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_handles_on_one_file_wait_for_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    // Two connections, as two processes would have.
    let first = SqliteStore::open(&path).await.unwrap();
    let second = SqliteStore::open(&path).await.unwrap();
    let (tasks, each) = (8, 15);
    write_concurrently(&[first.clone(), second.clone()], tasks, each).await;
    check_all_written(&first, tasks, each).await;
    check_all_written(&second, tasks, each).await;
    drop((first, second));
    let again = SqliteStore::open(&path).await.unwrap();
    check_all_written(&again, tasks, each).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_two_handles_on_one_file_one_holds_a_lease() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    let first = SqliteStore::open(&path).await.unwrap();
    let second = SqliteStore::open(&path).await.unwrap();
    let ttl = std::time::Duration::from_secs(60);
    for round in 0..5 {
        one_lease_wins(&[first.clone(), second.clone()], &format!("race-{round}")).await;
    }
    // Each sees the other's lease, and the token grows across handles.
    let a = first.acquire("p", "w1", ttl).await.unwrap().unwrap();
    assert_eq!(second.lease("p").await.unwrap(), Some(a.clone()));
    assert_eq!(second.acquire("p", "w2", ttl).await.unwrap(), None);
    first.release(&a).await.unwrap();
    let b = second.acquire("p", "w2", ttl).await.unwrap().unwrap();
    assert!(b.token > a.token);
    assert_eq!(first.renew(&a, ttl).await.unwrap(), None);
    assert_eq!(first.lease("p").await.unwrap(), Some(b));
}
