#![allow(clippy::unwrap_used)]
//! Review queues: held conflicts survive an incremental source that never
//! sends them again, a person's decision reaches the sink on the next run
//! (that field only, once), and dead letters can be listed, unparked,
//! replayed one by one and purged.

use async_trait::async_trait;
use odoo_integration_connectors::review::{LetterFilter, Review};
use odoo_integration_connectors::sources::{ReadMode, VecSource};
use odoo_integration_connectors::{
    Capabilities, Connector, ConnectorError, ConnectorErrorKind, HeldFilter, MemoryStore,
    Operation, Outcome, Pipeline, RecordStore, Sink, SinkRecord, SourceChange, SyncState,
};
use odoo_integration_model::{
    CanonicalRecord, ClientCompany, FieldValue, Policy, RemoteId, SystemId,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An incremental feed: each change is read once, after the cursor.
fn feed() -> VecSource<ClientCompany> {
    VecSource::new(SystemId::hubspot(), Vec::new()).mode(ReadMode::AppendOnly)
}

/// HubSpot's change to client `id`.
fn push(feed: &VecSource<ClientCompany>, id: &str, name: &str, industry: &str) {
    let client = ClientCompany {
        legal_name: name.into(),
        industry: Some(industry.into()),
        ..Default::default()
    };
    feed.push(SourceChange::upsert(id, chrono::Utc::now(), client));
}

/// What the sink was asked to write: (target id, fields, legal name).
type Write = (Option<String>, Option<Vec<String>>, String);

/// An ERP keeping what it was sent; clients named "Bad…" are refused.
#[derive(Default)]
struct Erp {
    writes: Mutex<Vec<Write>>,
}

impl Connector for Erp {
    fn system(&self) -> SystemId {
        SystemId::odoo()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().writes(["client"])
    }
}

#[async_trait]
impl Sink<ClientCompany> for Erp {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        let mut writes = self.writes.lock().unwrap();
        Ok(batch
            .into_iter()
            .map(|r| {
                let Operation::Upsert(c) = &r.operation else {
                    return Outcome::Deleted(r.target_id.clone().unwrap());
                };
                if c.legal_name.starts_with("Bad") {
                    return Outcome::Failed(ConnectorError::new(
                        ConnectorErrorKind::Invalid,
                        "the name is refused",
                    ));
                }
                writes.push((
                    r.target_id.as_ref().map(|t| t.as_str().to_owned()),
                    r.fields.clone(),
                    c.legal_name.clone(),
                ));
                match &r.target_id {
                    Some(t) => Outcome::Updated(t.clone()),
                    None => Outcome::Created(RemoteId::new(format!("erp-{}", r.origin_id))),
                }
            })
            .collect())
    }
}

/// The legal name is Odoo's, held for review when HubSpot changes it;
/// the industry is HubSpot's.
fn pipeline(
    feed: &Arc<VecSource<ClientCompany>>,
    erp: &Arc<Erp>,
    state: &Arc<MemoryStore>,
) -> Pipeline<ClientCompany> {
    let policy = Policy::from_toml(
        "[client]\ndefault_owner = \"hubspot\"\n[client.fields]\nlegal_name = { owner = \"odoo\", strategy = \"hold-for-review\" }\n",
    )
    .unwrap();
    Pipeline::builder(
        "hubspot→odoo/client",
        feed.clone(),
        erp.clone(),
        state.clone() as Arc<dyn SyncState>,
    )
    .policy(policy)
    .attempts(1, Duration::ZERO)
    .park_after(2)
    .build()
    .unwrap()
}

async fn stored_name(state: &MemoryStore, id: odoo_integration_model::CanonicalId) -> String {
    let r: CanonicalRecord<ClientCompany> = state
        .record("client", id)
        .await
        .unwrap()
        .unwrap()
        .decode()
        .unwrap();
    r.data.legal_name
}

#[tokio::test]
async fn held_conflicts_wait_for_a_decision_and_the_next_run_applies_it() {
    let (feed, erp, state) = (
        Arc::new(feed()),
        Arc::new(Erp::default()),
        Arc::new(MemoryStore::new()),
    );
    let p = pipeline(&feed, &erp, &state);
    for (id, name) in [("1", "Acme"), ("2", "Globex"), ("3", "Initech")] {
        push(&feed, id, name, "Retail");
    }
    assert_eq!(p.run().await.unwrap().created, 3);

    // HubSpot renames all three (and changes one's industry): the names
    // are held, the industry goes through.
    push(&feed, "1", "ACME SA", "Retail");
    push(&feed, "2", "Globex Corp", "Retail");
    push(&feed, "3", "Initech Ltd", "Banking");
    let run = p.run().await.unwrap();
    assert_eq!(run.held.len(), 3);
    assert_eq!(run.updated, 1, "only the industry change is written");

    // The feed never sends them again; the conflicts are still there.
    let quiet = p.run().await.unwrap();
    assert_eq!((quiet.read, quiet.held.len()), (0, 0));
    let review = Review::new(state.clone());
    let held = review
        .held(&HeldFilter::default().undecided())
        .await
        .unwrap();
    assert_eq!(held.len(), 3);
    let acme = held.iter().find(|c| c.remote_id.as_str() == "1").unwrap();
    assert_eq!(acme.current, FieldValue::Text("Acme".into()));
    assert_eq!(acme.attempted, FieldValue::Text("ACME SA".into()));
    assert_eq!(acme.owner, Some(SystemId::odoo()));
    assert_eq!(
        acme.current_source,
        Some(SystemId::hubspot()),
        "who seeded it"
    );
    assert!(acme.current_at.is_some());

    // One accepted, one set by hand, one kept.
    let key = |id: &str| format!("client/hubspot/{id}/legal_name");
    review.accept(&key("1")).await.unwrap();
    review
        .set(&key("2"), FieldValue::Text("Globex Corporation".into()))
        .await
        .unwrap();
    review.reject(&key("3")).await.unwrap();
    assert!(review.accept("client/hubspot/9/legal_name").await.is_err());

    let before = erp.writes.lock().unwrap().len();
    let applied = p.run().await.unwrap();
    assert_eq!(applied.decided, 3);
    let writes = erp.writes.lock().unwrap()[before..].to_vec();
    let mut names: Vec<&str> = writes.iter().map(|w| w.2.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["ACME SA", "Globex Corporation"],
        "the kept name is not written"
    );
    for w in &writes {
        assert!(w.0.is_some(), "an update of the ERP's record");
        assert_eq!(
            w.1.as_deref(),
            Some(&["legal_name".to_owned()][..]),
            "that field only"
        );
    }
    assert!(
        review
            .held(&HeldFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    let acme_id = acme.id;
    assert_eq!(stored_name(&state, acme_id).await, "ACME SA");

    // Applied once: the next run writes nothing.
    let again = p.run().await.unwrap();
    assert_eq!((again.decided, again.updated), (0, 0));
    assert_eq!(erp.writes.lock().unwrap().len(), before + 2);
}

#[tokio::test]
async fn a_new_value_for_a_decided_conflict_needs_a_new_decision() {
    let (feed, erp, state) = (
        Arc::new(feed()),
        Arc::new(Erp::default()),
        Arc::new(MemoryStore::new()),
    );
    let p = pipeline(&feed, &erp, &state);
    push(&feed, "1", "Acme", "Retail");
    p.run().await.unwrap();
    push(&feed, "1", "ACME SA", "Retail");
    p.run().await.unwrap();
    let review = Review::new(state.clone());
    review.accept("client/hubspot/1/legal_name").await.unwrap();
    // Before the next run applies it, HubSpot renames it again, and the
    // held conflict now proposes another value: back to undecided.
    push(&feed, "1", "Acme Holdings", "Retail");
    let run = p.run().await.unwrap();
    assert_eq!(run.decided, 1, "the decision taken before is applied first");
    let held = review.held(&HeldFilter::default()).await.unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].attempted, FieldValue::Text("Acme Holdings".into()));
    assert_eq!(held[0].current, FieldValue::Text("ACME SA".into()));
    assert!(held[0].decision.is_none());
}

#[tokio::test]
async fn dead_letters_are_listed_unparked_replayed_one_by_one_and_purged() {
    let (feed, erp, state) = (
        Arc::new(feed()),
        Arc::new(Erp::default()),
        Arc::new(MemoryStore::new()),
    );
    let p = pipeline(&feed, &erp, &state);
    push(&feed, "1", "Bad Acme", "Retail");
    push(&feed, "2", "Bad Globex", "Retail");
    push(&feed, "3", "Initech", "Retail");
    assert_eq!(p.run().await.unwrap().dead_lettered, 2);
    assert_eq!(
        p.replay().await.unwrap().parked,
        2,
        "parked after two attempts"
    );

    let review = Review::new(state.clone());
    let invalid = LetterFilter::default()
        .entity("client")
        .kind(ConnectorErrorKind::Invalid);
    let letters = review.letters(&invalid.clone().parked(true)).await.unwrap();
    assert_eq!(letters.len(), 2);
    assert!(
        review
            .letters(&LetterFilter::default().kind(ConnectorErrorKind::NotFound))
            .await
            .unwrap()
            .is_empty()
    );
    let one = review.letter("client/hubspot/1").await.unwrap().unwrap();
    assert_eq!(one.attempts, 2);
    assert!(one.error.message.contains("refused"));

    // A parked letter is not replayed by `replay`…
    assert_eq!(p.replay().await.unwrap().read, 0);
    // …but replayed when asked for by key; the fixed one goes through.
    let mut fixed = one.clone();
    assert_eq!(fixed.payload["record"]["legal_name"], "Bad Acme");
    fixed.payload["record"]["legal_name"] = serde_json::json!("Acme");
    odoo_integration_connectors::DeadLetterQueue::put(&*state, fixed)
        .await
        .unwrap();
    let replayed = p
        .replay_keys(&["client/hubspot/1".to_owned()])
        .await
        .unwrap();
    assert_eq!((replayed.read, replayed.recovered), (1, 1));
    assert!(erp.writes.lock().unwrap().iter().any(|w| w.2 == "Acme"));

    // Unpark the other: replay tries it again (and it fails again).
    assert_eq!(review.unpark(&invalid).await.unwrap(), 1);
    assert_eq!(
        review
            .letters(&invalid.clone().parked(false))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(p.replay().await.unwrap().dead_lettered, 1);
    // And purge it.
    assert_eq!(review.purge(&invalid).await.unwrap(), 1);
    assert!(
        review
            .letters(&LetterFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}
