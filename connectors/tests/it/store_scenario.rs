#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The scenarios every state store must answer as the memory store does,
//! and the helpers the store tests share (memory, file, SQLite,
//! PostgreSQL). The memory store runs them here; the others in their own
//! modules.

use chrono::{DateTime, TimeZone, Utc};
use odoo_integration_connectors::{
    ConnectorError, ConnectorErrorKind, Cursor, DeadLetter, HeldConflict, HeldFilter, Lease, Link,
    MemoryStore, Resolution, StoredRecord, SyncState,
};
use odoo_integration_model::{CanonicalId, CrossRefs, FieldValue, Money, RemoteId, SystemId};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

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

// ---------------------------------------------------------------------------
// Held conflicts.

/// A conflict of canonical record `n`, first and last held at `seen`, with
/// every optional part filled in so a store that drops one is caught.
pub(crate) fn conflict(
    pipeline: &str,
    entity: &str,
    n: u128,
    field: &str,
    attempted: FieldValue,
    seen: DateTime<Utc>,
) -> HeldConflict {
    let mut c = HeldConflict::new(
        pipeline,
        entity,
        id(n),
        SystemId::hubspot(),
        remote(&format!("r{n}")),
        field,
        FieldValue::Text(format!("current of {n}")),
        attempted,
    );
    c.owner = Some(SystemId::odoo());
    c.current_source = Some(SystemId::odoo());
    c.current_at = Some(at(-100, 7));
    c.change_id = format!("change-{n}-{field}");
    c.attempted_at = seen;
    c.first_seen = seen;
    c.last_seen = seen;
    c
}

fn text(t: &str) -> FieldValue {
    FieldValue::Text(t.to_owned())
}

fn rows(pairs: &[(&str, FieldValue)]) -> FieldValue {
    let row: BTreeMap<String, FieldValue> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect();
    FieldValue::Rows(vec![row.clone(), row])
}

/// Held conflicts: hold, list with filters (oldest first), decide, held
/// again (same value keeps the decision, another clears it; the first
/// sighting stays), remove. Returns the transcript of answers.
pub(crate) async fn held_scenario(store: &dyn SyncState) -> Vec<String> {
    let mut t = Vec::new();
    let all = HeldFilter::default();
    let r = store.held(&all).await;
    assert!(r.as_ref().unwrap().is_empty());
    t.push(show(&r));
    let r = store.hold(Vec::new()).await;
    r.as_ref().unwrap();
    t.push(show(&r));

    // Values of every shape, which a JSON column must give back as they were.
    let a = conflict("p1", "client", 1, "legal_name", text("ACME SA"), at(20, 0));
    let b = conflict(
        "p2",
        "client",
        2,
        "rate",
        FieldValue::Decimal(Decimal::new(1500, 2)),
        at(10, 500),
    );
    let c = conflict(
        "p1",
        "contact",
        3,
        "lines",
        rows(&[
            ("hours", FieldValue::Decimal(Decimal::new(75, 1))),
            ("note", text("é \" \\ \u{1F600}")),
        ]),
        at(10, 500),
    );
    let d = conflict(
        "p1",
        "client",
        4,
        "since",
        FieldValue::DateTime(at(0, 123_456_789)),
        at(10, 499),
    );
    let r = store
        .hold(vec![a.clone(), b.clone(), c.clone(), d.clone()])
        .await;
    r.as_ref().unwrap();
    t.push(show(&r));

    // Oldest first; ties by key (b's before c's).
    let r = store.held(&all).await;
    assert_eq!(
        r.as_ref().unwrap(),
        &vec![d.clone(), b.clone(), c.clone(), a.clone()]
    );
    t.push(show(&r));
    let filters = [
        (all.clone().entity("client"), vec![&d, &b, &a]),
        (all.clone().pipeline("p1"), vec![&d, &c, &a]),
        (all.clone().entity("client").pipeline("p1"), vec![&d, &a]),
        (all.clone().entity("invoice"), vec![]),
        (all.clone().undecided(), vec![&d, &b, &c, &a]),
        (all.clone().decided(), vec![]),
    ];
    for (filter, expected) in &filters {
        let r = store.held(filter).await;
        let expected: Vec<HeldConflict> = expected.iter().map(|c| (*c).clone()).collect();
        assert_eq!(r.as_ref().unwrap(), &expected, "{filter:?}");
        t.push(show(&r));
    }
    let r = store.held_conflict(&a.key).await;
    assert_eq!(r.as_ref().unwrap(), &Some(a.clone()));
    t.push(show(&r));
    let r = store.held_conflict("client/hubspot/none/legal_name").await;
    assert_eq!(r.as_ref().unwrap(), &None);
    t.push(show(&r));

    // Decisions; the last one counts. A decision on an unknown key is
    // `false` and stores nothing.
    let money = FieldValue::Money(Money::new(Decimal::new(120_050, 2), "EUR".parse().unwrap()));
    for (key, resolution, found) in [
        (&a.key, Resolution::AcceptAttempted, true),
        (&b.key, Resolution::KeepCurrent, true),
        (&b.key, Resolution::Set(money.clone()), true),
        (
            &"client/hubspot/none/x".to_owned(),
            Resolution::KeepCurrent,
            false,
        ),
    ] {
        let r = store.decide(key, resolution).await;
        assert_eq!(r.as_ref().unwrap(), &found, "{key}");
        t.push(show(&r));
    }
    let r = store.held_conflict("client/hubspot/none/x").await;
    assert_eq!(r.as_ref().unwrap(), &None);
    t.push(show(&r));
    let mut a1 = a.clone();
    a1.decision = Some(Resolution::AcceptAttempted);
    let mut b1 = b.clone();
    b1.decision = Some(Resolution::Set(money.clone()));
    let r = store.held(&all.clone().decided()).await;
    assert_eq!(r.as_ref().unwrap(), &vec![b1.clone(), a1.clone()]);
    t.push(show(&r));
    let r = store.held(&all.clone().undecided()).await;
    assert_eq!(r.as_ref().unwrap(), &vec![d.clone(), c.clone()]);
    t.push(show(&r));
    let r = store.held(&all.clone().decided().entity("contact")).await;
    assert!(r.as_ref().unwrap().is_empty());
    t.push(show(&r));
    let r = store.held(&all.clone().decided().pipeline("p2")).await;
    assert_eq!(r.as_ref().unwrap(), &vec![b1.clone()]);
    t.push(show(&r));

    // Held again: the same attempted value keeps the decision, another
    // clears it; the first sighting stays, even when the newer one says
    // it was earlier (the earlier wins); the rest is the newer's.
    let mut a2 = conflict("p1", "client", 1, "legal_name", text("ACME SA"), at(30, 0));
    a2.current = text("ACME");
    a2.change_id = "change-again".to_owned();
    let b2 = conflict(
        "p2",
        "client",
        2,
        "rate",
        FieldValue::Decimal(Decimal::new(1600, 2)),
        at(40, 0),
    );
    let c2 = conflict("p3", "contact", 3, "lines", FieldValue::Null, at(5, 0));
    let r = store.hold(vec![a2.clone(), b2.clone(), c2.clone()]).await;
    r.as_ref().unwrap();
    t.push(show(&r));
    let a3 = a1.clone().again(a2.clone());
    let b3 = b1.clone().again(b2.clone());
    let c3 = c.clone().again(c2.clone());
    assert_eq!(a3.decision, Some(Resolution::AcceptAttempted));
    assert_eq!((a3.first_seen, a3.last_seen), (at(20, 0), at(30, 0)));
    assert_eq!(b3.decision, None);
    assert_eq!((c3.first_seen, c3.pipeline.as_str()), (at(5, 0), "p3"));
    for expected in [&a3, &b3, &c3] {
        let r = store.held_conflict(&expected.key).await;
        assert_eq!(r.as_ref().unwrap().as_ref(), Some(expected));
        t.push(show(&r));
    }
    let r = store.held(&all).await;
    assert_eq!(
        r.as_ref().unwrap(),
        &vec![c3.clone(), d.clone(), b3.clone(), a3.clone()]
    );
    t.push(show(&r));

    // One key twice in one call: each replaces the one before, in order.
    assert!(store.decide(&d.key, Resolution::KeepCurrent).await.unwrap());
    let mut d1 = d.clone();
    d1.decision = Some(Resolution::KeepCurrent);
    let d2 = conflict(
        "p1",
        "client",
        4,
        "since",
        FieldValue::DateTime(at(0, 123_456_789)),
        at(50, 1),
    );
    let d3 = conflict(
        "p1",
        "client",
        4,
        "since",
        FieldValue::Bool(true),
        at(60, 2),
    );
    let kept = d1.clone().again(d2.clone());
    assert_eq!(kept.decision, Some(Resolution::KeepCurrent));
    store.hold(vec![d2.clone()]).await.unwrap();
    assert_eq!(
        store.held_conflict(&d.key).await.unwrap(),
        Some(kept.clone())
    );
    let r = store.hold(vec![d2.clone(), d3.clone()]).await;
    r.as_ref().unwrap();
    t.push(show(&r));
    let d4 = kept.again(d2.clone()).again(d3.clone());
    assert_eq!(d4.decision, None);
    let r = store.held_conflict(&d.key).await;
    assert_eq!(r.as_ref().unwrap(), &Some(d4.clone()));
    t.push(show(&r));

    // Removing counts what was there.
    let keys = [
        a.key.clone(),
        "nope".to_owned(),
        a.key.clone(),
        b.key.clone(),
    ];
    let r = store.remove_held(&keys).await;
    assert_eq!(r.as_ref().unwrap(), &2);
    t.push(show(&r));
    let r = store.remove_held(&keys).await;
    assert_eq!(r.as_ref().unwrap(), &0);
    t.push(show(&r));
    let r = store.remove_held(&[]).await;
    assert_eq!(r.as_ref().unwrap(), &0);
    t.push(show(&r));
    let r = store.decide(&a.key, Resolution::KeepCurrent).await;
    assert_eq!(r.as_ref().unwrap(), &false);
    t.push(show(&r));
    let r = store.held(&all).await;
    assert_eq!(r.as_ref().unwrap(), &vec![c3.clone(), d4.clone()]);
    t.push(show(&r));
    t
}

/// What the held scenario leaves behind, read back.
pub(crate) async fn dump_held(store: &dyn SyncState) -> String {
    show(&store.held(&HeldFilter::default()).await)
}

// ---------------------------------------------------------------------------
// Leases.

/// Leases: free, taken, refused to another holder while live, renewed by
/// its holder (same token), released, expired and taken by another (bigger
/// token), lost (renew is `None`, release leaves the new holder alone).
pub(crate) async fn lease_scenario(store: &dyn SyncState) {
    let long = Duration::from_secs(60);
    let short = Duration::from_millis(100);
    let lapse = Duration::from_millis(400);
    let pause = || tokio::time::sleep(Duration::from_millis(20));

    assert_eq!(store.lease("p").await.unwrap(), None);
    let a = store.acquire("p", "w1", long).await.unwrap().expect("free");
    assert_eq!(
        (a.name.as_str(), a.holder.as_str(), a.token),
        ("p", "w1", 1)
    );
    assert_eq!(store.lease("p").await.unwrap(), Some(a.clone()));
    assert_eq!(store.acquire("p", "w2", long).await.unwrap(), None);
    assert_eq!(store.lease("p").await.unwrap(), Some(a.clone()));

    // Its holder takes it again: renewed, same token, later expiry.
    pause().await;
    let a2 = store
        .acquire("p", "w1", long)
        .await
        .unwrap()
        .expect("its own");
    assert_eq!((a2.holder.as_str(), a2.token), ("w1", a.token));
    assert!(a2.expires_at > a.expires_at, "{a2:?} after {a:?}");
    pause().await;
    let a3 = store.renew(&a2, long).await.unwrap().expect("still held");
    assert_eq!((a3.holder.as_str(), a3.token), ("w1", a.token));
    assert!(a3.expires_at > a2.expires_at, "{a3:?} after {a2:?}");
    assert_eq!(store.lease("p").await.unwrap(), Some(a3.clone()));
    // A renewal by another holder, or of another token, is not one.
    let mut theirs = a3.clone();
    theirs.holder = "w2".to_owned();
    assert_eq!(store.renew(&theirs, long).await.unwrap(), None);
    let mut older = a3.clone();
    older.token += 1;
    assert_eq!(store.renew(&older, long).await.unwrap(), None);
    store.release(&theirs).await.unwrap();
    store.release(&older).await.unwrap();
    assert_eq!(store.lease("p").await.unwrap(), Some(a3.clone()));

    // Names are separate.
    let q = store.acquire("q", "w2", long).await.unwrap().expect("free");
    assert_eq!(q.token, 1);

    // Released: free at once, and the next holder's token is bigger (a
    // fencing token never goes back, or a stale holder's writes would pass
    // the next one's fence).
    store.release(&a3).await.unwrap();
    assert_eq!(store.lease("p").await.unwrap(), None);
    let b = store
        .acquire("p", "w2", long)
        .await
        .unwrap()
        .expect("released");
    assert!(b.token > a3.token, "{b:?} after {a3:?}");
    // The lost lease: renewing it fails, releasing it leaves w2 alone.
    assert_eq!(store.renew(&a3, long).await.unwrap(), None);
    store.release(&a3).await.unwrap();
    assert_eq!(store.lease("p").await.unwrap(), Some(b.clone()));
    assert_eq!(store.acquire("p", "w1", long).await.unwrap(), None);
    assert_eq!(store.lease("q").await.unwrap(), Some(q.clone()));

    // Expiry, by a real (short) wait.
    let e = store
        .acquire("e", "w1", short)
        .await
        .unwrap()
        .expect("free");
    tokio::time::sleep(lapse).await;
    assert_eq!(store.lease("e").await.unwrap(), None, "expired");
    // A lapsed lease cannot be renewed, even before anyone takes it.
    assert_eq!(store.renew(&e, long).await.unwrap(), None);
    let f = store
        .acquire("e", "w2", long)
        .await
        .unwrap()
        .expect("expired");
    assert!(f.token > e.token, "{f:?} after {e:?}");
    assert_eq!(store.renew(&e, long).await.unwrap(), None);
    store.release(&e).await.unwrap();
    assert_eq!(store.lease("e").await.unwrap(), Some(f.clone()));
    assert_eq!(store.acquire("e", "w1", long).await.unwrap(), None);

    // A holder taking its own lapsed lease gets a new token: another
    // worker may have held it between.
    let s = store
        .acquire("s", "w1", short)
        .await
        .unwrap()
        .expect("free");
    tokio::time::sleep(lapse).await;
    let s2 = store
        .acquire("s", "w1", long)
        .await
        .unwrap()
        .expect("lapsed");
    assert!(s2.token > s.token, "{s2:?} after {s:?}");

    // A zero ttl takes nothing lasting; an enormous one is no error.
    let z = store
        .acquire("z", "w1", Duration::ZERO)
        .await
        .unwrap()
        .expect("free");
    assert_eq!(store.lease("z").await.unwrap(), None);
    let z2 = store
        .acquire("z", "w2", long)
        .await
        .unwrap()
        .expect("lapsed");
    assert!(z2.token > z.token);
    let forever = store
        .acquire("forever", "w1", Duration::MAX)
        .await
        .unwrap()
        .expect("free");
    assert!(forever.expires_at > b.expires_at, "{forever:?}");
    assert_eq!(store.acquire("forever", "w2", long).await.unwrap(), None);
    let renewed = store.renew(&forever, Duration::MAX).await.unwrap();
    assert_eq!(renewed.map(|l| l.token), Some(forever.token));
    assert_eq!(
        store.lease("forever").await.unwrap().map(|l| l.holder),
        Some("w1".to_owned())
    );
}

/// Eight holders race for one lease across `stores` (task `t` on
/// `stores[t % len]`): exactly one gets it, and every store sees it.
pub(crate) async fn one_lease_wins<S: SyncState + Clone + 'static>(stores: &[S], name: &str) {
    let handles: Vec<_> = (0..8usize)
        .map(|t| {
            let store = stores[t % stores.len()].clone();
            let name = name.to_owned();
            tokio::spawn(async move {
                store
                    .acquire(&name, &format!("worker-{t}"), Duration::from_secs(60))
                    .await
            })
        })
        .collect();
    let mut winners: Vec<Lease> = Vec::new();
    for h in handles {
        if let Some(lease) = h.await.unwrap().unwrap() {
            winners.push(lease);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    for store in stores {
        assert_eq!(store.lease(name).await.unwrap().as_ref(), winners.first());
    }
}

// ---------------------------------------------------------------------------
// The memory store (the others run the scenarios in their modules).

#[tokio::test]
async fn the_memory_store_holds_conflicts_and_leases() {
    let store = MemoryStore::new();
    held_scenario(&store).await;
    lease_scenario(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_of_eight_takes_a_lease_of_the_memory_store() {
    one_lease_wins(&[MemoryStore::new()], "race").await;
}

/// The writes of task `t`, item `i`.
pub(crate) async fn write_one(
    store: &dyn SyncState,
    t: u128,
    i: u128,
) -> odoo_integration_connectors::Result<()> {
    let n = t * 1000 + i;
    store
        .link(&[
            link("client", n, "hubspot", &format!("h{n}")),
            link("client", n, "odoo", &format!("o{n}")),
        ])
        .await?;
    store
        .save_records("client", vec![(id(n), json(&format!(r#"{{"n":{n}}}"#)))])
        .await?;
    store
        .put(letter("client", &format!("h{n}"), at(n as i64, 0), 1))
        .await?;
    store
        .save_checkpoint(&format!("task-{t}"), &Cursor::new(i.to_string()))
        .await
}

/// Checks that every write of `write_concurrently` is there.
pub(crate) async fn check_all_written(store: &dyn SyncState, tasks: u128, each: u128) {
    let all: Vec<u128> = (0..tasks)
        .flat_map(|t| (0..each).map(move |i| t * 1000 + i))
        .collect();
    let remotes: Vec<RemoteId> = all.iter().map(|n| remote(&format!("h{n}"))).collect();
    let found = store
        .resolve_many("client", &SystemId::hubspot(), &remotes)
        .await
        .unwrap();
    assert_eq!(found, all.iter().map(|n| Some(id(*n))).collect::<Vec<_>>());
    let ids: Vec<CanonicalId> = all.iter().map(|n| id(*n)).collect();
    for (n, x) in all.iter().zip(store.cross_refs_many(&ids).await.unwrap()) {
        assert_eq!(
            x,
            refs(&[("hubspot", &format!("h{n}")), ("odoo", &format!("o{n}"))])
        );
    }
    for (n, r) in all.iter().zip(store.records("client", &ids).await.unwrap()) {
        assert_eq!(r, Some(json(&format!(r#"{{"n":{n}}}"#))));
    }
    let letters = store.letters("client").await.unwrap();
    assert_eq!(letters.len(), all.len());
    assert!(
        letters
            .windows(2)
            .all(|w| w[0].first_seen <= w[1].first_seen)
    );
    for t in 0..tasks {
        assert_eq!(
            store.checkpoint(&format!("task-{t}")).await.unwrap(),
            Some(Cursor::new((each - 1).to_string()))
        );
    }
}

/// `tasks` tasks at once, task `t` on `stores[t % len]`, each writing
/// `each` records through `write_one`.
pub(crate) async fn write_concurrently<S: SyncState + Clone + 'static>(
    stores: &[S],
    tasks: u128,
    each: u128,
) {
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let store = stores[(t as usize) % stores.len()].clone();
            tokio::spawn(async move {
                for i in 0..each {
                    write_one(&store, t, i).await?;
                }
                Ok::<_, ConnectorError>(())
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap().unwrap();
    }
}
