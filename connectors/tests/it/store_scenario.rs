#![allow(clippy::unwrap_used, clippy::expect_used)]
//! One scenario every state store must answer as the memory store does,
//! and the helpers the store tests share (SQLite, PostgreSQL).

use chrono::{DateTime, TimeZone, Utc};
use odoo_integration_connectors::{
    ConnectorError, ConnectorErrorKind, Cursor, DeadLetter, Link, StoredRecord, SyncState,
};
use odoo_integration_model::{CanonicalId, CrossRefs, RemoteId, SystemId};
use std::fmt::Debug;

pub(crate) fn id(n: u128) -> CanonicalId {
    CanonicalId::from_u128(n)
}

pub(crate) fn remote(r: &str) -> RemoteId {
    RemoteId::new(r)
}

pub(crate) fn link(entity: &str, n: u128, system: &str, r: &str) -> Link {
    Link::new(entity, id(n), SystemId::new(system), remote(r))
}

pub(crate) fn json(text: &str) -> StoredRecord {
    StoredRecord::from_json(text.to_owned()).unwrap()
}

pub(crate) fn at(secs: i64, nanos: u32) -> DateTime<Utc> {
    Utc.timestamp_opt(1_800_000_000 + secs, nanos).unwrap()
}

pub(crate) fn letter(
    entity: &str,
    r: &str,
    first_seen: DateTime<Utc>,
    attempts: u32,
) -> DeadLetter {
    let error = ConnectorError::new(
        ConnectorErrorKind::Invalid,
        format!("{entity} {r} is invalid"),
    );
    let mut l = DeadLetter::new(
        entity,
        SystemId::hubspot(),
        remote(r),
        serde_json::json!({ "remote_id": r, "name": format!("record {r}") }),
        &error,
    );
    l.first_seen = first_seen;
    l.last_seen = first_seen;
    l.attempts = attempts;
    l
}

/// One answer, as text: the value, or the error's kind and message.
pub(crate) fn show<T: Debug>(r: &odoo_integration_connectors::Result<T>) -> String {
    match r {
        Ok(v) => format!("ok {v:?}"),
        Err(e) => format!("err {} {}", e.kind(), e.message()),
    }
}

pub(crate) fn refs(pairs: &[(&str, &str)]) -> CrossRefs {
    pairs
        .iter()
        .map(|(s, r)| (SystemId::new(*s), remote(r)))
        .collect()
}

pub(crate) fn assert_link_conflict<T: Debug>(r: &odoo_integration_connectors::Result<T>) {
    match r {
        Err(e) => assert_eq!(e.kind(), ConnectorErrorKind::LinkConflict, "{e}"),
        Ok(v) => panic!("expected a link conflict, got {v:?}"),
    }
}

pub(crate) fn assert_store_error<T: Debug>(r: &odoo_integration_connectors::Result<T>) {
    match r {
        Err(e) => assert_eq!(e.kind(), ConnectorErrorKind::Store, "{e}"),
        Ok(v) => panic!("expected a store error, got {v:?}"),
    }
}

/// Runs every trait method, including the error cases, asserting what any
/// correct store must answer, and returns the transcript of answers.
pub(crate) async fn scenario(store: &dyn SyncState) -> Vec<String> {
    let mut t = Vec::new();
    let hubspot = SystemId::hubspot();

    // Checkpoints.
    let r = store.checkpoint("a").await;
    assert_eq!(r.as_ref().unwrap(), &None);
    t.push(show(&r));
    store.save_checkpoint("a", &Cursor::new("1")).await.unwrap();
    store.save_checkpoint("a", &Cursor::new("2")).await.unwrap();
    store.save_checkpoint("b", &Cursor::new("x")).await.unwrap();
    for key in ["a", "b", "c"] {
        let r = store.checkpoint(key).await;
        t.push(show(&r));
    }
    assert_eq!(store.checkpoint("a").await.unwrap(), Some(Cursor::new("2")));

    // Links: fresh, then identical again (a no-op).
    let first = [
        link("client", 1, "hubspot", "r1"),
        link("client", 1, "odoo", "o1"),
        link("client", 2, "hubspot", "r2"),
    ];
    let r = store.link(&first).await;
    r.as_ref().unwrap();
    t.push(show(&r));
    let r = store.link(&first[..1]).await;
    r.as_ref().unwrap();
    t.push(show(&r));
    let r = store.link(&[]).await;
    r.as_ref().unwrap();
    t.push(show(&r));

    // The same remote id in another entity is another record.
    let r = store.link(&[link("contact", 8, "hubspot", "r1")]).await;
    r.as_ref().unwrap();
    t.push(show(&r));
    // The same link twice in one call is fine.
    let r = store
        .link(&[
            link("client", 7, "gusto", "g7"),
            link("client", 7, "gusto", "g7"),
        ])
        .await;
    r.as_ref().unwrap();
    t.push(show(&r));

    // Conflicts with what is stored; nothing of the call is stored.
    let conflicts: Vec<Vec<Link>> = vec![
        // r1 is client 1's, not 3's; the good link before it is dropped.
        vec![
            link("client", 4, "salesforce", "s4"),
            link("client", 3, "hubspot", "r1"),
        ],
        // client 1 already has r1 in hubspot.
        vec![link("client", 1, "hubspot", "r9")],
        // 1 is a client, not a contact.
        vec![link("contact", 1, "salesforce", "c1")],
        // Conflicts inside one call: one remote id, two canonical ids...
        vec![
            link("client", 5, "hubspot", "r5"),
            link("client", 6, "hubspot", "r5"),
        ],
        // ...and one canonical id, two ids in one system.
        vec![
            link("client", 5, "hubspot", "r5"),
            link("client", 5, "hubspot", "r6"),
        ],
    ];
    for links in &conflicts {
        let r = store.link(links).await;
        assert_link_conflict(&r);
        t.push(show(&r));
    }
    for (entity, system, r) in [
        ("client", "salesforce", "s4"),
        ("client", "hubspot", "r9"),
        ("contact", "salesforce", "c1"),
        ("client", "hubspot", "r5"),
        ("client", "hubspot", "r6"),
    ] {
        let r = store
            .resolve(entity, &SystemId::new(system), &remote(r))
            .await;
        assert_eq!(r.as_ref().unwrap(), &None, "{entity} {system} stored");
        t.push(show(&r));
    }
    for n in [3, 4, 5, 6] {
        let r = store.cross_refs(id(n)).await;
        assert!(r.as_ref().unwrap().is_empty());
        t.push(show(&r));
    }

    // Lookups.
    let r = store.resolve("client", &hubspot, &remote("r1")).await;
    assert_eq!(r.as_ref().unwrap(), &Some(id(1)));
    t.push(show(&r));
    let r = store.resolve("contact", &hubspot, &remote("r1")).await;
    assert_eq!(r.as_ref().unwrap(), &Some(id(8)));
    t.push(show(&r));
    let r = store
        .resolve("client", &SystemId::odoo(), &remote("r1"))
        .await;
    assert_eq!(r.as_ref().unwrap(), &None);
    t.push(show(&r));
    let r = store.cross_refs(id(1)).await;
    assert_eq!(
        r.as_ref().unwrap(),
        &refs(&[("hubspot", "r1"), ("odoo", "o1")])
    );
    t.push(show(&r));
    let r = store.cross_refs(id(7)).await;
    assert_eq!(r.as_ref().unwrap(), &refs(&[("gusto", "g7")]));
    t.push(show(&r));
    let asked = [remote("r2"), remote("missing"), remote("r1"), remote("r2")];
    let r = store.resolve_many("client", &hubspot, &asked).await;
    assert_eq!(
        r.as_ref().unwrap(),
        &vec![Some(id(2)), None, Some(id(1)), Some(id(2))]
    );
    t.push(show(&r));
    let r = store.resolve_many("nothing", &hubspot, &asked).await;
    assert_eq!(r.as_ref().unwrap(), &vec![None; 4]);
    t.push(show(&r));
    let r = store.resolve_many("client", &hubspot, &[]).await;
    assert!(r.as_ref().unwrap().is_empty());
    t.push(show(&r));
    let r = store.cross_refs_many(&[id(2), id(99), id(1), id(2)]).await;
    assert_eq!(
        r.as_ref().unwrap(),
        &vec![
            refs(&[("hubspot", "r2")]),
            CrossRefs::new(),
            refs(&[("hubspot", "r1"), ("odoo", "o1")]),
            refs(&[("hubspot", "r2")]),
        ]
    );
    t.push(show(&r));
    let r = store.cross_refs_many(&[]).await;
    assert!(r.as_ref().unwrap().is_empty());
    t.push(show(&r));

    // Records: the last of one id in a call wins; saving replaces.
    let r = store.record("client", id(1)).await;
    assert_eq!(r.as_ref().unwrap(), &None);
    t.push(show(&r));
    store
        .save_records(
            "client",
            vec![
                (id(1), json(r#"{"n":1}"#)),
                (id(2), json(r#"{"n":2}"#)),
                (id(1), json(r#"{"n":3}"#)),
            ],
        )
        .await
        .unwrap();
    store
        .save_records("client", vec![(id(2), json(r#"{"n": 4, "s": "é"}"#))])
        .await
        .unwrap();
    store.save_records("client", Vec::new()).await.unwrap();
    let r = store.record("client", id(1)).await;
    assert_eq!(r.as_ref().unwrap(), &Some(json(r#"{"n":3}"#)));
    t.push(show(&r));
    let r = store
        .records("client", &[id(2), id(99), id(1), id(2)])
        .await;
    assert_eq!(
        r.as_ref().unwrap(),
        &vec![
            Some(json(r#"{"n": 4, "s": "é"}"#)),
            None,
            Some(json(r#"{"n":3}"#)),
            Some(json(r#"{"n": 4, "s": "é"}"#)),
        ]
    );
    t.push(show(&r));
    let r = store.records("contact", &[id(1)]).await;
    assert_eq!(r.as_ref().unwrap(), &vec![None]);
    t.push(show(&r));
    let r = store.records("client", &[]).await;
    assert!(r.as_ref().unwrap().is_empty());
    t.push(show(&r));

    // Dead letters: oldest first by first_seen, ties by key.
    let r = store.letters("client").await;
    assert!(r.as_ref().unwrap().is_empty());
    t.push(show(&r));
    let a = letter("client", "1", at(2, 0), 1);
    let b = letter("client", "2", at(1, 500), 1);
    let c = letter("contact", "3", at(0, 0), 1);
    let d = letter("client", "0", at(1, 500), 1);
    let e = letter("client", "4", at(1, 499), 1);
    for l in [&a, &b, &c, &d, &e] {
        store.put(l.clone()).await.unwrap();
    }
    let r = store.letters("client").await;
    assert_eq!(
        r.as_ref().unwrap(),
        &vec![e.clone(), d.clone(), b.clone(), a.clone()]
    );
    t.push(show(&r));
    let r = store.letter(&a.key).await;
    assert_eq!(r.as_ref().unwrap(), &Some(a.clone()));
    t.push(show(&r));
    let r = store.letter("client/hubspot/none").await;
    assert_eq!(r.as_ref().unwrap(), &None);
    t.push(show(&r));
    // Replacing by key moves it.
    let a2 = letter("client", "1", at(-1, 7), 2);
    store.put(a2.clone()).await.unwrap();
    let r = store.letters("client").await;
    assert_eq!(
        r.as_ref().unwrap(),
        &vec![a2.clone(), e.clone(), d.clone(), b.clone()]
    );
    t.push(show(&r));
    let r = store.remove("client/hubspot/none").await;
    r.as_ref().unwrap();
    t.push(show(&r));
    let r = store.remove(&b.key).await;
    r.as_ref().unwrap();
    t.push(show(&r));
    let r = store.letter(&b.key).await;
    assert_eq!(r.as_ref().unwrap(), &None);
    t.push(show(&r));
    let keys = [
        a.key.clone(),
        "nope".to_owned(),
        a.key.clone(),
        d.key.clone(),
    ];
    let r = store.remove_many(&keys).await;
    assert_eq!(r.as_ref().unwrap(), &2);
    t.push(show(&r));
    let r = store.remove_many(&keys).await;
    assert_eq!(r.as_ref().unwrap(), &0);
    t.push(show(&r));
    let r = store.remove_many(&[]).await;
    assert_eq!(r.as_ref().unwrap(), &0);
    t.push(show(&r));
    let r = store.letters("client").await;
    assert_eq!(r.as_ref().unwrap(), &vec![e.clone()]);
    t.push(show(&r));
    let r = store.letters("contact").await;
    assert_eq!(r.as_ref().unwrap(), &vec![c.clone()]);
    t.push(show(&r));
    t
}

/// Everything the scenario leaves behind, read back.
pub(crate) async fn dump(store: &dyn SyncState) -> String {
    let mut out = Vec::new();
    for key in ["a", "b", "c"] {
        out.push(show(&store.checkpoint(key).await));
    }
    for (entity, r) in [("client", "r1"), ("client", "r2"), ("contact", "r1")] {
        out.push(show(
            &store
                .resolve(entity, &SystemId::hubspot(), &remote(r))
                .await,
        ));
    }
    for (entity, system) in [
        ("client", "hubspot"),
        ("contact", "hubspot"),
        ("client", "odoo"),
    ] {
        out.push(show(
            &store.remote_ids(entity, &SystemId::new(system)).await,
        ));
    }
    let ids: Vec<CanonicalId> = (0..10).map(id).collect();
    out.push(show(&store.cross_refs_many(&ids).await));
    out.push(show(&store.records("client", &ids).await));
    out.push(show(&store.letters("client").await));
    out.push(show(&store.letters("contact").await));
    out.join("\n")
}
