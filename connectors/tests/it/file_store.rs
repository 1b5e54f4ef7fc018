#![allow(clippy::unwrap_used)]
//! The file store against the memory store (the shared scenarios, and
//! state across a reopen), and its lock: one `FileStore` per directory at
//! a time, so two instances never overwrite each other's changes.

use super::store_scenario::*;
use odoo_integration_connectors::{
    CheckpointStore, ConnectorErrorKind, Cursor, FileStore, LeaseStore, MemoryStore,
};

#[tokio::test]
async fn every_method_answers_as_the_memory_store_does() {
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryStore::new();
    let store = FileStore::open(dir.path()).await.unwrap();
    assert_eq!(scenario(&store).await, scenario(&memory).await);
    drop(store);
    let again = FileStore::open(dir.path()).await.unwrap();
    assert_eq!(dump(&again).await, dump(&memory).await);
}

#[tokio::test]
async fn the_file_store_holds_conflicts_and_leases_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let memory = MemoryStore::new();
    let expected = held_scenario(&memory).await;
    let store = FileStore::open(dir.path()).await.unwrap();
    assert_eq!(held_scenario(&store).await, expected);
    lease_scenario(&store).await;
    let lease = store.lease("p").await.unwrap();
    assert!(lease.is_some());
    drop(store);
    let again = FileStore::open(dir.path()).await.unwrap();
    assert_eq!(dump_held(&again).await, dump_held(&memory).await);
    assert_eq!(again.lease("p").await.unwrap(), lease);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_eight_takes_a_lease() {
    let dir = tempfile::tempdir().unwrap();
    one_lease_wins(&[FileStore::open(dir.path()).await.unwrap()], "race").await;
}

#[tokio::test]
async fn a_second_open_is_refused_while_the_first_is_alive() {
    let dir = tempfile::tempdir().unwrap();
    let first = FileStore::open(dir.path()).await.unwrap();
    first.save_checkpoint("a", &Cursor::new("1")).await.unwrap();

    let err = FileStore::open(dir.path()).await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Locked, "{err}");
    let text = err.to_string();
    assert!(text.contains(&dir.path().display().to_string()), "{text}");
    assert!(text.contains("in use"), "{text}");

    // A clone shares the lock: it is held until the last one is dropped.
    let clone = first.clone();
    drop(first);
    assert_eq!(
        FileStore::open(dir.path()).await.unwrap_err().kind(),
        ConnectorErrorKind::Locked
    );
    clone.save_checkpoint("a", &Cursor::new("2")).await.unwrap();
    drop(clone);

    let again = FileStore::open(dir.path()).await.unwrap();
    assert_eq!(again.checkpoint("a").await.unwrap(), Some(Cursor::new("2")));
}

#[tokio::test]
async fn two_directories_are_two_locks() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let _a = FileStore::open(a.path()).await.unwrap();
    let _b = FileStore::open(b.path()).await.unwrap();
}

#[tokio::test]
async fn a_lock_file_left_by_a_crash_does_not_block() {
    let dir = tempfile::tempdir().unwrap();
    // What a killed process leaves: the lock file, with its pid, but no
    // lock held on it (the OS dropped that with the process). And a temp
    // file from a write it did not finish.
    std::fs::write(dir.path().join("LOCK"), b"4194303\n").unwrap();
    std::fs::write(dir.path().join("checkpoints.json.4194303-7.tmp"), b"{").unwrap();
    let store = FileStore::open(dir.path()).await.unwrap();
    store.save_checkpoint("a", &Cursor::new("1")).await.unwrap();
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(left.is_empty(), "stale temp files are removed: {left:?}");
}

#[tokio::test]
async fn concurrent_writes_through_clones_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::open(dir.path()).await.unwrap();
    let tasks = (0..16).map(|i| {
        let s = store.clone();
        tokio::spawn(async move {
            s.save_checkpoint(&format!("k{i}"), &Cursor::new(i.to_string()))
                .await
        })
    });
    for r in futures::future::join_all(tasks).await {
        r.unwrap().unwrap();
    }
    drop(store);
    let again = FileStore::open(dir.path()).await.unwrap();
    for i in 0..16 {
        assert_eq!(
            again.checkpoint(&format!("k{i}")).await.unwrap(),
            Some(Cursor::new(i.to_string()))
        );
    }
}
