#![allow(clippy::unwrap_used)]
//! The pipeline with the Odoo connector against the in-memory Odoo.

use async_trait::async_trait;
use odoo_integration_client::test_server::{
    ADMIN_API_KEY, ADMIN_LOGIN, DATABASE, Fault, TestServer,
};
use odoo_integration_client::{Credentials, Domain, Protocol, RetryPolicy};
use odoo_integration_connectors::odoo::OdooConnector;
use odoo_integration_connectors::{
    Capabilities, Connector, Cursor, DeadLetterQueue, DeletePolicy, FileStore, MemoryStore,
    Outcome, Page, Pipeline, Reference, Sink, SinkRecord, Source, SourceChange, SyncState,
    XrefStore,
};
use odoo_integration_model::{
    Address, ClientCompany, Condition, Contact, Entity, Policy, RequiredWhen, SystemId, Validator,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A replayable source over a vector: the cursor is the index.
struct VecSource<E> {
    system: SystemId,
    changes: Mutex<Vec<SourceChange<E>>>,
}

impl<E> VecSource<E> {
    fn new(system: &str, changes: Vec<SourceChange<E>>) -> Arc<Self> {
        Arc::new(VecSource {
            system: SystemId::new(system),
            changes: Mutex::new(changes),
        })
    }
}

impl<E: Entity + Send> Connector for VecSource<E> {
    fn system(&self) -> SystemId {
        self.system.clone()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads([E::NAME]).incremental(true)
    }
}

#[async_trait]
impl<E: Entity + Send + Sync> Source<E> for VecSource<E> {
    async fn read(
        &self,
        since: Option<&Cursor>,
        limit: usize,
    ) -> odoo_integration_connectors::Result<Page<E>> {
        let start: usize = since.and_then(|c| c.as_str().parse().ok()).unwrap_or(0);
        let all = self.changes.lock().unwrap();
        let end = (start + limit).min(all.len());
        Ok(Page {
            changes: all[start..end].to_vec(),
            next: Cursor::new(end.to_string()),
            has_more: end < all.len(),
        })
    }
}

fn client_record(i: usize) -> ClientCompany {
    ClientCompany {
        legal_name: format!("Client {i:04}"),
        website: Some(format!("https://client{i}.example")),
        address: Address {
            city: Some("Ghent".into()),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn odoo(server: &TestServer) -> OdooConnector {
    let client = odoo_integration_client::Client::builder(server.url())
        .database(DATABASE)
        .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
        .protocol(Protocol::Json2)
        .timeout(Duration::from_millis(300))
        .retry_policy(RetryPolicy::new().max_retries(2))
        .build()
        .unwrap();
    OdooConnector::new(client)
}

/// The connector with a service product on contract lines: Odoo refuses
/// an order line without a product.
fn selling(server: &TestServer, odoo: OdooConnector) -> OdooConnector {
    let product = server
        .insert(
            "product.product",
            serde_json::json!({"name": "Services", "type": "service"}),
        )
        .unwrap();
    odoo.with_map(
        odoo_integration_connectors::odoo::ModelMap::contract().line_default(
            "lines",
            "product_id",
            product,
        ),
    )
}

fn named_clients() -> Validator<ClientCompany> {
    Validator::new().with(RequiredWhen {
        code: "client.name".into(),
        when: Condition::Always,
        required: vec!["legal_name".into()],
        equal: vec![],
    })
}

fn companies(server: &TestServer) -> Vec<serde_json::Map<String, Value>> {
    server
        .records("res.partner")
        .unwrap()
        .into_iter()
        // Not the firm's own company.
        .filter(|r| {
            r["is_company"] == Value::Bool(true) && r["ref_company_ids"] == serde_json::json!([])
        })
        .collect()
}

fn sync_xids(server: &TestServer, module: &str) -> usize {
    server
        .records("ir.model.data")
        .unwrap()
        .into_iter()
        .filter(|r| r["module"] == module)
        .count()
}

/// 2,000 records, one call in five failing (5xx, 429 with Retry-After, an
/// HTML 502, a dropped connection after Odoo handled the call, a timeout),
/// and on top three write calls in ten losing their reply after Odoo
/// committed them: every valid record lands exactly once and is counted
/// as created, the dead-letter queue holds exactly the invalid ones, and a
/// second pass changes nothing.
#[tokio::test(start_paused = true)]
async fn two_thousand_records_land_exactly_once_through_faults() {
    let server = TestServer::builder().start().await.unwrap();
    let at = chrono::Utc::now();
    let mut changes = Vec::new();
    let mut invalid = BTreeSet::new();
    for i in 0..2000 {
        let mut c = client_record(i);
        if i % 41 == 7 {
            c.legal_name = String::new(); // fails validation
            invalid.insert(format!("crm-{i}"));
        } else if i % 53 == 11 {
            c.address.country = Some("ZZ".into()); // Odoo has no such country
            invalid.insert(format!("crm-{i}"));
        }
        changes.push(SourceChange::upsert(format!("crm-{i}"), at, c));
    }
    let source = VecSource::new("crm", changes);
    let state = Arc::new(MemoryStore::new());
    let faults = [
        Fault::Status(503),
        Fault::RateLimited { retry_after: 1 },
        Fault::BadGateway,
        Fault::DropAfterHandling,
        Fault::Delay(Duration::from_secs(2)),
    ];
    lose_replies(&server, 3_000);
    let injected = 120;
    for i in 0..injected {
        if i % 5 == 0 {
            server.inject(faults[(i / 5) % faults.len()].clone(), 1);
        } else {
            server.inject(Fault::Delay(Duration::ZERO), 1);
        }
    }
    let pipeline = Pipeline::<ClientCompany>::builder(
        "crm→odoo/client",
        source.clone(),
        Arc::new(odoo(&server)),
        state.clone(),
    )
    .validator(named_clients())
    .batch_size(100)
    .concurrency(4)
    .attempts(8, Duration::from_millis(100))
    .build()
    .unwrap();
    let summary = pipeline.run().await.unwrap();
    let served = server.calls().len();
    assert!(
        served >= injected,
        "every injected fault was served ({served} calls, {summary})"
    );

    let valid = 2000 - invalid.len();
    assert_eq!(summary.read, 2000);
    assert_eq!(
        (summary.created, summary.updated, summary.unchanged),
        (valid, 0, 0),
        "{summary}"
    );
    assert_eq!(summary.dead_lettered, invalid.len(), "{summary}");
    let letters: BTreeSet<String> = state
        .letters("client")
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.remote_id.as_str().to_owned())
        .collect();
    assert_eq!(letters, invalid);

    let names: Vec<String> = companies(&server)
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .filter(|n| n.starts_with("Client "))
        .collect();
    let distinct: BTreeSet<&String> = names.iter().collect();
    assert_eq!(
        names.len(),
        valid,
        "one Odoo record per valid source record"
    );
    assert_eq!(distinct.len(), valid, "no duplicates");
    assert_eq!(sync_xids(&server, "sync_crm"), valid);

    // Read everything again (a fresh checkpoint): nothing to write.
    let again = Pipeline::<ClientCompany>::builder(
        "crm→odoo/client (again)",
        source,
        Arc::new(odoo(&server)),
        state.clone(),
    )
    .validator(named_clients())
    .batch_size(100)
    .build()
    .unwrap();
    let second = again.run().await.unwrap();
    assert_eq!((second.created, second.updated), (0, 0), "{second}");
    assert_eq!(second.unchanged, valid);
    assert_eq!(
        companies(&server)
            .iter()
            .filter(|r| r["name"].as_str().unwrap().starts_with("Client "))
            .count(),
        valid
    );
}

/// A sink that reports when its `k`-th batch starts, then carries on.
struct Tripwire<S> {
    inner: S,
    calls: AtomicUsize,
    at: usize,
    fired: tokio::sync::Notify,
}

impl<S: Connector> Connector for Tripwire<S> {
    fn system(&self) -> SystemId {
        self.inner.system()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
}

#[async_trait]
impl<E: Entity + Send + Sync + 'static, S: Sink<E>> Sink<E> for Tripwire<S> {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<E>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        if self.calls.fetch_add(1, Ordering::SeqCst) + 1 == self.at {
            self.fired.notify_one();
        }
        self.inner.apply(batch).await
    }
}

/// Dropping the pipeline in the middle of a sink call, then starting
/// again from the file-backed state: no record lost, none duplicated.
#[tokio::test]
async fn a_run_killed_mid_batch_resumes_without_loss_or_duplicates() {
    let server = TestServer::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let at = chrono::Utc::now();
    let changes: Vec<_> = (0..1000)
        .map(|i| SourceChange::upsert(format!("r{i}"), at, client_record(i)))
        .collect();
    let source = VecSource::new("sheet", changes);
    // Slow Odoo down so the kill lands while batches are in flight.
    server.inject(Fault::Delay(Duration::from_millis(20)), 200);

    let build = |state: Arc<dyn SyncState>, sink: Arc<dyn Sink<ClientCompany>>| {
        Pipeline::<ClientCompany>::builder("sheet→odoo", source.clone(), sink, state)
            // Every record is new to this Odoo: no search for matches, so
            // the kill lands among writes (and the 300 ms client timeout
            // is about them).
            .match_existing(false)
            .batch_size(50)
            .concurrency(3)
            .build()
            .unwrap()
    };
    let tripwire = Arc::new(Tripwire {
        inner: odoo(&server),
        calls: AtomicUsize::new(0),
        at: 7,
        fired: tokio::sync::Notify::new(),
    });
    {
        let state = Arc::new(FileStore::open(dir.path()).await.unwrap());
        let pipeline = build(state, tripwire.clone());
        tokio::select! {
            r = pipeline.run() => panic!("the run should have been killed, it finished: {r:?}"),
            () = tripwire.fired.notified() => {}
        }
        // The run future is dropped here: requests in flight are abandoned.
    }
    let partial = companies(&server).len();
    assert!(partial < 1000, "killed before the end ({partial} written)");

    let state = Arc::new(FileStore::open(dir.path()).await.unwrap());
    let summary = build(state, Arc::new(odoo(&server))).run().await.unwrap();
    assert_eq!(summary.dead_lettered, 0, "{summary}");
    let names: Vec<String> = companies(&server)
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_owned())
        .collect();
    let distinct: BTreeSet<&String> = names.iter().collect();
    assert_eq!(names.len(), 1000);
    assert_eq!(distinct.len(), 1000);
    assert_eq!(sync_xids(&server, "sync_sheet"), 1000);
}

/// The CRM may not change the legal name Odoo owns: the change is refused,
/// reported, and never written; the fields it does own go through.
#[tokio::test]
async fn a_field_owned_by_odoo_is_never_overwritten_by_the_crm() {
    let server = TestServer::builder().start().await.unwrap();
    let policy = Policy::from_toml(
        r#"
        [client.fields]
        legal_name = "odoo"
        website = "crm"
        "#,
    )
    .unwrap();
    let t0 = chrono::Utc::now();
    let source = VecSource::new(
        "crm",
        vec![SourceChange::upsert("acme", t0, client_record(1))],
    );
    let state = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::<ClientCompany>::builder(
        "crm→odoo",
        source.clone(),
        Arc::new(odoo(&server)),
        state.clone(),
    )
    .policy(policy)
    .build()
    .unwrap();
    assert_eq!(pipeline.run().await.unwrap().created, 1);

    let mut renamed = client_record(1);
    renamed.legal_name = "ACME (renamed in the CRM)".into();
    renamed.website = Some("https://acme.example".into());
    source.changes.lock().unwrap().push(SourceChange::upsert(
        "acme",
        t0 + chrono::Duration::minutes(5),
        renamed,
    ));
    let summary = pipeline.run().await.unwrap();
    assert_eq!(summary.updated, 1, "{summary}");
    assert_eq!(summary.refused.len(), 1);
    assert_eq!(summary.refused[0].refused.field, "legal_name");
    assert_eq!(summary.refused[0].refused.owner, Some(SystemId::odoo()));

    let partner = companies(&server).into_iter().next().unwrap();
    assert_eq!(partner["name"], "Client 0001", "Odoo's name kept");
    assert_eq!(
        partner["website"], "https://acme.example",
        "the CRM's field written"
    );
    let calls = server.calls();
    let writes = calls
        .iter()
        .filter(|c| c.model == "res.partner" && c.method == "write")
        .count();
    assert_eq!(writes, 1, "one write, for the website only");
}

/// A new record is seeded whole by default, fields owned by Odoo included;
/// under `seed = "owner-only"` those fields stay empty and are reported as
/// refused, and a later change from the CRM still cannot set them.
#[tokio::test]
async fn owner_only_seeding_leaves_the_owners_fields_empty_on_a_new_record() {
    for (seed, want_website) in [("any", true), ("owner-only", false)] {
        let server = TestServer::builder().start().await.unwrap();
        let policy = Policy::from_toml(&format!(
            "[client.fields]\nwebsite = {{ owner = \"odoo\", seed = \"{seed}\" }}\n"
        ))
        .unwrap();
        let t0 = chrono::Utc::now();
        let source = VecSource::new(
            "crm",
            vec![SourceChange::upsert("acme", t0, client_record(1))],
        );
        let pipeline = Pipeline::<ClientCompany>::builder(
            "crm→odoo",
            source.clone(),
            Arc::new(odoo(&server)),
            Arc::new(MemoryStore::new()),
        )
        .policy(policy)
        .build()
        .unwrap();
        let summary = pipeline.run().await.unwrap();
        assert_eq!(summary.created, 1, "{seed}: {summary}");
        let partner = companies(&server).into_iter().next().unwrap();
        assert_eq!(
            partner["name"], "Client 0001",
            "{seed}: unowned name seeded"
        );
        if want_website {
            assert_eq!(partner["website"], "https://client1.example");
            assert!(summary.refused.is_empty(), "{summary}");
        } else {
            assert_eq!(partner["website"], false, "Odoo's field left empty");
            assert_eq!(summary.refused.len(), 1, "{summary}");
            let refused = &summary.refused[0].refused;
            assert_eq!(refused.field, "website");
            assert_eq!(refused.owner, Some(SystemId::odoo()));
            assert_eq!(refused.reason, "seeded by its owner only");
        }
    }
}

/// A record deleted in the source is archived in Odoo, or only reported.
#[tokio::test]
async fn deletes_archive_in_odoo_or_are_reported() {
    for policy in [DeletePolicy::Propagate, DeletePolicy::Report] {
        let server = TestServer::builder().start().await.unwrap();
        let t0 = chrono::Utc::now();
        let source = VecSource::new(
            "crm",
            vec![SourceChange::upsert("gone", t0, client_record(9))],
        );
        let pipeline = Pipeline::<ClientCompany>::builder(
            "crm→odoo",
            source.clone(),
            Arc::new(odoo(&server)),
            Arc::new(MemoryStore::new()),
        )
        .on_delete(policy)
        .build()
        .unwrap();
        pipeline.run().await.unwrap();
        source
            .changes
            .lock()
            .unwrap()
            .push(SourceChange::delete("gone", t0));
        let summary = pipeline.run().await.unwrap();
        let partner = companies(&server).into_iter().next().unwrap();
        match policy {
            DeletePolicy::Propagate => {
                assert_eq!(summary.deleted, 1);
                assert_eq!(partner["active"], false, "archived");
            }
            _ => {
                assert_eq!(summary.deleted, 0);
                assert_eq!(summary.deletes_reported.len(), 1);
                assert_eq!(partner["active"], true, "untouched");
            }
        }
    }
}

/// Contacts refer to clients by the source's ids; the pipeline resolves
/// them to the Odoo companies it created, and a contact whose company is
/// not in Odoo yet waits in the dead-letter queue until a replay.
#[tokio::test]
async fn references_resolve_to_odoo_ids_and_wait_for_their_target() {
    let server = TestServer::builder().start().await.unwrap();
    let state = Arc::new(MemoryStore::new());
    let t0 = chrono::Utc::now();
    let contact = |name: &str, company: &str| {
        SourceChange::upsert(
            name,
            t0,
            Contact {
                name: name.into(),
                ..Default::default()
            },
        )
        .with_ref("client", Reference::new("client", company))
    };
    let contacts = VecSource::new("crm", vec![contact("ann", "acme"), contact("bo", "globex")]);
    let clients = VecSource::new(
        "crm",
        vec![SourceChange::upsert("acme", t0, client_record(1))],
    );
    let odoo = Arc::new(odoo(&server));
    Pipeline::<ClientCompany>::builder(
        "crm→odoo/client",
        clients.clone(),
        odoo.clone(),
        state.clone(),
    )
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    let contacts_pipeline =
        Pipeline::<Contact>::builder("crm→odoo/contact", contacts, odoo.clone(), state.clone())
            .attempts(1, Duration::from_millis(1))
            .build()
            .unwrap();
    let first = contacts_pipeline.run().await.unwrap();
    assert_eq!((first.created, first.dead_lettered), (1, 1), "{first}");
    let letter = &state.letters("contact").await.unwrap()[0];
    assert_eq!(letter.remote_id.as_str(), "bo");
    assert_eq!(
        letter.error.kind,
        odoo_integration_connectors::ConnectorErrorKind::UnresolvedReference
    );

    clients
        .changes
        .lock()
        .unwrap()
        .push(SourceChange::upsert("globex", t0, client_record(2)));
    Pipeline::<ClientCompany>::builder("crm→odoo/client", clients, odoo, state.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    let replay = contacts_pipeline.replay().await.unwrap();
    assert_eq!((replay.created, replay.recovered), (1, 1), "{replay}");
    assert!(state.letters("contact").await.unwrap().is_empty());

    let partners = server.records("res.partner").unwrap();
    let id_of = |name: &str| {
        partners.iter().find(|r| r["name"] == name).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let parent_of = |name: &str| {
        partners.iter().find(|r| r["name"] == name).unwrap()["parent_id"][0]
            .as_i64()
            .unwrap()
    };
    assert_eq!(parent_of("ann"), id_of("Client 0001"));
    assert_eq!(parent_of("bo"), id_of("Client 0002"));
}

/// Odoo as a source: changed records in (write_date, id) order, archived
/// and vanished records as deletes.
#[tokio::test]
async fn odoo_reads_changes_archives_and_vanished_records() {
    let server = TestServer::builder().start().await.unwrap();
    let odoo = odoo(&server);
    let partners = odoo.client().model("res.partner");
    let a = partners
        .create(&serde_json::json!({"name": "Alpha", "is_company": true, "vat": "BE01"}))
        .send()
        .await
        .unwrap();
    let b = partners
        .create(&serde_json::json!({"name": "Beta", "is_company": true}))
        .send()
        .await
        .unwrap();
    partners
        .create(&serde_json::json!({"name": "A person", "is_company": false}))
        .send()
        .await
        .unwrap();

    let read_all = |cursor: Option<Cursor>| {
        let odoo = odoo.clone();
        async move {
            let mut cursor = cursor;
            let mut out = Vec::new();
            loop {
                let page: Page<ClientCompany> =
                    Source::<ClientCompany>::read(&odoo, cursor.as_ref(), 1)
                        .await
                        .unwrap();
                out.extend(page.changes);
                cursor = Some(page.next);
                if !page.has_more {
                    return (out, cursor);
                }
            }
        }
    };
    let (first, cursor) = read_all(None).await;
    let names: Vec<&str> = first
        .iter()
        .map(|c| match &c.operation {
            odoo_integration_connectors::Operation::Upsert(c) => c.legal_name.as_str(),
            odoo_integration_connectors::Operation::Delete => "(deleted)",
        })
        .collect();
    assert_eq!(names, ["Alpha", "Beta"], "companies only, oldest first");
    assert!(
        matches!(&first[0].operation, odoo_integration_connectors::Operation::Upsert(c) if c.tax_id.as_deref() == Some("BE01"))
    );

    partners
        .write([a], &serde_json::json!({"active": false}))
        .send()
        .await
        .unwrap();
    server.remove("res.partner", b);
    let (second, _) = read_all(cursor).await;
    let deleted: BTreeSet<String> = second
        .iter()
        .filter(|c| c.operation.is_delete())
        .map(|c| c.remote_id.as_str().to_owned())
        .collect();
    assert_eq!(deleted, BTreeSet::from([a.to_string(), b.to_string()]));
    assert!(second.iter().all(|c| c.operation.is_delete()));
    let _ = Domain::all();
}

/// The Odoo connector keeps the connector contracts (odoo_integration_connectors::testkit).
#[tokio::test]
async fn the_odoo_connector_passes_the_testkit() {
    let server = TestServer::builder().start().await.unwrap();
    let odoo = odoo(&server);
    let samples = vec![client_record(1), client_record(2), client_record(3)];
    odoo_integration_connectors::testkit::check_sink::<ClientCompany>(&odoo, samples)
        .await
        .assert_ok();
    odoo_integration_connectors::testkit::check_source::<ClientCompany>(&odoo)
        .await
        .assert_ok();
    assert_eq!(companies(&server).len(), 3, "the replay created nothing");
}

/// The testkit catches a sink that is not idempotent.
#[tokio::test]
async fn the_testkit_catches_a_sink_that_creates_on_every_replay() {
    struct Careless(AtomicUsize);
    impl Connector for Careless {
        fn system(&self) -> SystemId {
            SystemId::new("careless")
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new().writes(["client"])
        }
    }
    #[async_trait]
    impl Sink<ClientCompany> for Careless {
        async fn apply(
            &self,
            batch: Vec<SinkRecord<ClientCompany>>,
        ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
            Ok(batch
                .iter()
                .map(|_| {
                    let n = self.0.fetch_add(1, Ordering::SeqCst);
                    Outcome::Created(odoo_integration_model::RemoteId::new(n.to_string()))
                })
                .collect())
        }
    }
    let report = odoo_integration_connectors::testkit::check_sink::<ClientCompany>(
        &Careless(AtomicUsize::new(0)),
        vec![client_record(1)],
    )
    .await;
    assert!(!report.is_ok());
    assert!(report.to_string().contains("created it again"), "{report}");
}

fn lines_of(server: &TestServer, model: &str, parent: &str, id: i64) -> Vec<(String, f64, f64)> {
    let (qty, price) = match model {
        "sale.order.line" => ("product_uom_qty", "price_unit"),
        _ => ("quantity", "price_unit"),
    };
    let mut out: Vec<(String, f64, f64)> = server
        .records(model)
        .unwrap()
        .into_iter()
        .filter(|r| r[parent] == id || r[parent][0] == id)
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r[qty].as_f64().unwrap(),
                r[price].as_f64().unwrap(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Invoice and contract lines travel with their header, are replaced as a
/// whole when they change (never duplicated), and read back from Odoo.
#[tokio::test]
async fn invoice_and_contract_lines_reach_odoo_and_are_replaced_as_a_whole() {
    use odoo_integration_model::{Contract, ContractLine, Currency, Invoice, InvoiceLine, Money};
    use rust_decimal::Decimal;
    let server = TestServer::builder().start().await.unwrap();
    let odoo = Arc::new(selling(&server, odoo(&server)));
    let state = Arc::new(MemoryStore::new());
    let at = chrono::Utc::now();
    let clients = VecSource::new(
        "crm",
        vec![SourceChange::upsert("c1", at, client_record(1))],
    );
    Pipeline::<ClientCompany>::builder("crm→odoo/client", clients, odoo.clone(), state.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    let usd = |n: i64| Some(Money::new(Decimal::from(n), Currency::USD));
    let line = |id: &str, text: &str, qty: i64, price: i64| InvoiceLine {
        id: id.into(),
        description: text.into(),
        quantity: Decimal::from(qty),
        unit_price: usd(price),
    };
    let mut invoice = Invoice {
        date: chrono::NaiveDate::from_ymd_opt(2026, 11, 1),
        lines: vec![
            line("L1", "Discovery workshop", 2, 1200),
            line("L2", "Senior consultant, days", 5, 950),
        ],
        ..Default::default()
    };
    let change = |inv: &Invoice, at| {
        SourceChange::upsert("inv-1", at, inv.clone())
            .with_ref("client", Reference::new("client", "c1"))
    };
    let invoices = VecSource::new("crm", vec![change(&invoice, at)]);
    let p = Pipeline::<Invoice>::builder(
        "crm→odoo/invoice",
        invoices.clone(),
        odoo.clone(),
        state.clone(),
    )
    .build()
    .unwrap();
    let first = p.run().await.unwrap();
    assert_eq!((first.created, first.dead_lettered), (1, 0), "{first:?}");
    let move_id: i64 = state
        .cross_refs(
            state
                .resolve(
                    "invoice",
                    &SystemId::new("crm"),
                    &odoo_integration_model::RemoteId::new("inv-1"),
                )
                .await
                .unwrap()
                .unwrap(),
        )
        .await
        .unwrap()[&SystemId::odoo()]
        .as_str()
        .parse()
        .unwrap();
    assert_eq!(
        lines_of(&server, "account.move.line", "move_id", move_id),
        vec![
            ("Discovery workshop".into(), 2.0, 1200.0),
            ("Senior consultant, days".into(), 5.0, 950.0)
        ]
    );

    // The same invoice again: nothing is written, the lines stay as they are.
    invoices.changes.lock().unwrap().push(change(&invoice, at));
    let same = p.run().await.unwrap();
    assert_eq!((same.unchanged, same.updated), (1, 0), "{same:?}");
    assert_eq!(
        lines_of(&server, "account.move.line", "move_id", move_id).len(),
        2
    );

    // Lines change: one dropped, one changed, one added; Odoo has exactly
    // the new set.
    invoice.lines = vec![
        line("L2", "Senior consultant, days", 6, 950),
        line("L3", "Travel", 1, 300),
    ];
    let later = at + chrono::Duration::minutes(5);
    invoices
        .changes
        .lock()
        .unwrap()
        .push(change(&invoice, later));
    let changed = p.run().await.unwrap();
    assert_eq!(changed.updated, 1, "{changed:?}");
    assert_eq!(
        lines_of(&server, "account.move.line", "move_id", move_id),
        vec![
            ("Senior consultant, days".into(), 6.0, 950.0),
            ("Travel".into(), 1.0, 300.0)
        ]
    );

    // Read back from Odoo: the lines, keyed by their Odoo ids.
    let page = Source::<Invoice>::read(&*odoo, None, 50).await.unwrap();
    let ours = page
        .changes
        .iter()
        .find(|c| c.remote_id.as_str() == move_id.to_string())
        .unwrap();
    let odoo_integration_connectors::Operation::Upsert(read) = &ours.operation else {
        panic!("not an upsert")
    };
    let mut read_lines: Vec<_> = read
        .lines
        .iter()
        .map(|l| (l.description.clone(), l.quantity, l.unit_price))
        .collect();
    read_lines.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        read_lines,
        vec![
            ("Senior consultant, days".into(), Decimal::from(6), usd(950)),
            ("Travel".into(), Decimal::from(1), usd(300))
        ]
    );
    assert!(read.lines.iter().all(|l| l.id.parse::<i64>().is_ok()));

    // A contract: a sale order with its lines and signing date.
    let contract = Contract {
        reference: "SOW-2026-004".into(),
        signed_on: chrono::NaiveDate::from_ymd_opt(2026, 10, 15),
        lines: vec![ContractLine {
            id: "S1".into(),
            description: "Implementation, fixed fee".into(),
            quantity: Decimal::ONE,
            unit_price: usd(18_000),
            product: None,
        }],
        ..Default::default()
    };
    let contracts = VecSource::new(
        "crm",
        vec![
            SourceChange::upsert("sow-4", at, contract)
                .with_ref("client", Reference::new("client", "c1")),
        ],
    );
    let run = Pipeline::<Contract>::builder("crm→odoo/contract", contracts, odoo, state.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(run.created, 1, "{run:?}");
    let order = server
        .records("sale.order")
        .unwrap()
        .into_iter()
        .find(|r| r["client_order_ref"] == "SOW-2026-004")
        .unwrap();
    assert_eq!(order["signed_on"], "2026-10-15 00:00:00");
    assert_eq!(
        lines_of(
            &server,
            "sale.order.line",
            "order_id",
            order["id"].as_i64().unwrap()
        ),
        vec![("Implementation, fixed fee".into(), 1.0, 18000.0)]
    );
}

/// The other built-in maps, each through the pipeline into Odoo and
/// back: opportunity, engagement, employee (department found or created
/// by name, manager, job title), timesheet entry and expense (references
/// to employees and engagements), and payments, which are read only.
#[tokio::test]
async fn every_built_in_map_writes_and_reads_back() {
    use odoo_integration_model::{
        Currency, Employee, Engagement, Expense, Money, Opportunity, Payment, TimesheetEntry,
    };
    use rust_decimal::Decimal;
    let server = TestServer::builder().start().await.unwrap();
    let odoo = Arc::new(odoo(&server));
    let state = Arc::new(MemoryStore::new());
    let at = chrono::Utc::now();
    let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d);
    async fn sync<E: Entity + Default + Send + Sync + 'static>(
        odoo: &Arc<OdooConnector>,
        state: &Arc<MemoryStore>,
        changes: Vec<SourceChange<E>>,
    ) {
        let run = Pipeline::<E>::builder(
            format!("src→odoo/{}", E::NAME),
            VecSource::new("src", changes),
            odoo.clone(),
            state.clone(),
        )
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
        assert_eq!(
            (run.created, run.dead_lettered),
            (run.read, 0),
            "{}: {run:?}",
            E::NAME
        );
    }
    sync(
        &odoo,
        &state,
        vec![SourceChange::upsert("c1", at, client_record(1))],
    )
    .await;
    fn to_client<E>(c: SourceChange<E>) -> SourceChange<E> {
        c.with_ref("client", Reference::new("client", "c1"))
    }
    fn by_employee<E>(c: SourceChange<E>) -> SourceChange<E> {
        c.with_ref("employee", Reference::new("employee", "e2"))
    }
    sync(
        &odoo,
        &state,
        vec![to_client(SourceChange::upsert(
            "o1",
            at,
            Opportunity {
                name: "ERP roll-out".into(),
                amount: Some(Money::new(Decimal::from(48_000), Currency::USD)),
                close_date: day(20),
                ..Default::default()
            },
        ))],
    )
    .await;
    sync(
        &odoo,
        &state,
        vec![to_client(SourceChange::upsert(
            "p1",
            at,
            Engagement {
                name: "ERP roll-out, phase 1".into(),
                start: day(2),
                end: day(27),
                ..Default::default()
            },
        ))],
    )
    .await;
    let person = |n: &str, name: &str| Employee {
        employee_number: n.into(),
        name: name.into(),
        department: Some("Delivery".into()),
        job_title: Some("Consultant".into()),
        ..Default::default()
    };
    // The report refers to her manager, new in the same batch: the
    // pipeline sends the manager first, then the report with the
    // manager's Odoo id.
    let employees = Pipeline::<Employee>::builder(
        "src→odoo/employee",
        VecSource::new(
            "src",
            vec![
                SourceChange::upsert("e1", at, person("E1", "Ana Diaz")),
                SourceChange::upsert("e2", at, person("E2", "Bo Lind"))
                    .with_ref("manager", Reference::new("employee", "e1")),
            ],
        ),
        odoo.clone(),
        state.clone(),
    )
    .build()
    .unwrap();
    let first = employees.run().await.unwrap();
    assert_eq!((first.created, first.dead_lettered), (2, 0), "{first:?}");
    sync(
        &odoo,
        &state,
        vec![
            by_employee(SourceChange::upsert(
                "t1",
                at,
                TimesheetEntry {
                    date: day(3),
                    hours: Decimal::new(75, 1),
                    task: Some("Workshop".into()),
                    ..Default::default()
                },
            ))
            .with_ref("engagement", Reference::new("engagement", "p1")),
        ],
    )
    .await;
    sync(
        &odoo,
        &state,
        vec![by_employee(SourceChange::upsert(
            "x1",
            at,
            Expense {
                date: day(4),
                amount: Some(Money::new(Decimal::new(4250, 2), Currency::USD)),
                description: Some("Train to client".into()),
                ..Default::default()
            },
        ))],
    )
    .await;

    let one = |model: &str, field: &str, value: &str| {
        server
            .records(model)
            .unwrap()
            .into_iter()
            .find(|r| r[field] == value)
            .unwrap_or_else(|| panic!("no {model} with {field} = {value}"))
    };
    let partner = one("res.partner", "name", "Client 0001")["id"].clone();
    let lead = one("crm.lead", "name", "ERP roll-out");
    assert_eq!(
        (lead["type"].clone(), lead["partner_id"][0].clone()),
        ("opportunity".into(), partner.clone())
    );
    assert_eq!(lead["expected_revenue"], 48_000.0);
    let project = one("project.project", "name", "ERP roll-out, phase 1");
    assert_eq!(project["partner_id"][0], partner);
    assert_eq!(project["date_start"], "2026-11-02");
    let ana = one("hr.employee", "barcode", "E1");
    let bo = one("hr.employee", "barcode", "E2");
    assert_eq!(bo["parent_id"][0], ana["id"]);
    assert_eq!(bo["job_title"], "Consultant");
    let delivery = one("hr.department", "name", "Delivery");
    assert_eq!(
        (
            ana["department_id"][0].clone(),
            bo["department_id"][0].clone()
        ),
        (delivery["id"].clone(), delivery["id"].clone())
    );
    let line = one("account.analytic.line", "name", "Workshop");
    assert_eq!(
        (
            line["employee_id"][0].clone(),
            line["project_id"][0].clone()
        ),
        (bo["id"].clone(), project["id"].clone())
    );
    assert_eq!(line["unit_amount"], 7.5);
    let expense = one("hr.expense", "name", "Train to client");
    assert_eq!(expense["employee_id"][0], bo["id"]);
    assert_eq!(expense["total_amount"], 42.5);

    // Read back as a source: the employee comes with her department.
    let page = Source::<Employee>::read(&*odoo, None, 100).await.unwrap();
    let read = page
        .changes
        .iter()
        .find(|c| c.remote_id.as_str().parse::<i64>().ok() == bo["id"].as_i64())
        .unwrap();
    let odoo_integration_connectors::Operation::Upsert(e) = &read.operation else {
        panic!("not an upsert")
    };
    assert_eq!(
        (e.name.as_str(), e.department.as_deref()),
        ("Bo Lind", Some("Delivery"))
    );
    assert_eq!(
        read.refs["manager"].remote_id.as_str(),
        ana["id"].to_string()
    );

    // Payments are Odoo's to write: the sink refuses, the source reads.
    let refused = Sink::<Payment>::apply(
        &*odoo,
        vec![SinkRecord::new(
            odoo_integration_model::CanonicalId::new(),
            SystemId::new("src"),
            odoo_integration_model::RemoteId::new("pay-1"),
            odoo_integration_connectors::Operation::Upsert(Payment::default()),
        )],
    )
    .await
    .unwrap_err();
    assert_eq!(
        refused.kind(),
        odoo_integration_connectors::ConnectorErrorKind::Configuration
    );
    Source::<Payment>::read(&*odoo, None, 100).await.unwrap();
}

/// An employee's dates, phone and working schedule reach `hr.employee`, a
/// termination archives the employee with its departure date, and a
/// timesheet line's approval is read from the boolean the database has
/// (here a custom `x_approved`, as Community needs).
#[tokio::test]
async fn employees_terminate_and_timesheet_approval_is_read_from_a_flag() {
    use odoo_integration_client::test_server::{Field, FieldKind as Kind};
    use odoo_integration_connectors::Operation;
    use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    use odoo_integration_model::{
        ApprovalState, CanonicalId, Employee, EmploymentStatus, RemoteId, TimesheetEntry,
    };
    let server = TestServer::builder()
        .with_demo_data()
        .field(
            "account.analytic.line",
            Field::new("x_approved", Kind::Boolean),
        )
        .start()
        .await
        .unwrap();
    let odoo = odoo(&server).with_map(ModelMap::timesheet_entry().field(
        "approval",
        "x_approved",
        Conversion::approval_flag(),
    ));
    let date = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 3, d);
    let mut eva = Employee {
        employee_number: "E42".into(),
        name: "Eva Maes".into(),
        hire_date: date(2),
        work_phone: Some("+32 9 000 00 00".into()),
        work_calendar: Some("Standard 40 hours/week".into()),
        ..Default::default()
    };
    let record = |e: &Employee| {
        SinkRecord::new(
            CanonicalId::new(),
            SystemId::new("bamboohr"),
            RemoteId::new("42"),
            Operation::Upsert(e.clone()),
        )
    };
    let out = Sink::<Employee>::apply(&odoo, vec![record(&eva)])
        .await
        .unwrap();
    let Outcome::Created(id) = &out[0] else {
        panic!("{out:?}")
    };
    let stored = |server: &TestServer| {
        server
            .records("hr.employee")
            .unwrap()
            .into_iter()
            .find(|r| r["barcode"] == "E42")
            .unwrap()
    };
    let row = stored(&server);
    assert_eq!(row["contract_date_start"], "2026-03-02");
    assert_eq!(row["work_phone"], "+32 9 000 00 00");
    assert_eq!(row["resource_calendar_id"][1], "Standard 40 hours/week");
    assert_eq!(row["active"], true);

    eva.status = EmploymentStatus::Terminated;
    eva.termination_date = date(31);
    let out = Sink::<Employee>::apply(
        &odoo,
        vec![
            record(&eva)
                .with_target(id.clone())
                .only(["status", "termination_date"]),
        ],
    )
    .await
    .unwrap();
    assert!(matches!(&out[0], Outcome::Updated(_)), "{out:?}");
    let row = stored(&server);
    assert_eq!(
        (row["active"].clone(), row["departure_date"].clone()),
        (Value::Bool(false), "2026-03-31".into())
    );

    // Approve one demo timesheet line; the others read as submitted.
    let lines = server.records("account.analytic.line").unwrap();
    let approved = lines[0]["id"].as_i64().unwrap();
    let admin = server.client(Protocol::Json2).unwrap();
    admin
        .model("account.analytic.line")
        .write([approved], &serde_json::json!({"x_approved": true}))
        .send()
        .await
        .unwrap();
    let page = Source::<TimesheetEntry>::read(&odoo, None, 100)
        .await
        .unwrap();
    assert_eq!(page.changes.len(), lines.len());
    for c in &page.changes {
        let Operation::Upsert(t) = &c.operation else {
            panic!("{c:?}")
        };
        let expected = if c.remote_id.as_str() == approved.to_string() {
            ApprovalState::Approved
        } else {
            ApprovalState::Submitted
        };
        assert_eq!(t.approval, expected, "line {}", c.remote_id);
    }
}

/// Queues, for each write method Odoo sees (`load`, `write`, `create`), a
/// pattern in which three calls in ten are handled and then lose their
/// reply.
fn lose_replies(server: &TestServer, calls: usize) {
    for method in ["load", "write", "create"] {
        for i in 0..calls {
            let fault = if i % 10 < 3 {
                Fault::DropAfterHandling
            } else {
                Fault::Delay(Duration::ZERO)
            };
            server.inject_on(method, fault, 1);
        }
    }
}

/// Runs one pipeline of `changes` into Odoo twice: the first run creates
/// every record exactly once, though three write calls in ten lose their
/// reply (and counts each as created, not unchanged); the second changes
/// nothing.
async fn exactly_once<E: Entity + Default + Send + Sync + 'static>(
    odoo: &Arc<OdooConnector>,
    state: &Arc<MemoryStore>,
    changes: Vec<SourceChange<E>>,
) {
    let n = changes.len();
    let source = VecSource::new("src", changes);
    let build = |name: String| {
        Pipeline::<E>::builder(name, source.clone(), odoo.clone(), state.clone())
            .batch_size(10)
            .attempts(12, Duration::from_millis(50))
            .build()
            .unwrap()
    };
    let first = build(format!("src→odoo/{}", E::NAME)).run().await.unwrap();
    assert_eq!(
        (
            first.read,
            first.created,
            first.updated,
            first.unchanged,
            first.dead_lettered
        ),
        (n, n, 0, 0, 0),
        "{}: {first}",
        E::NAME
    );
    // A fresh checkpoint: everything read again, nothing to write.
    let second = build(format!("src→odoo/{} (again)", E::NAME))
        .run()
        .await
        .unwrap();
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (0, 0, n),
        "{}: {second}",
        E::NAME
    );
}

/// Every model the Odoo connector writes, with three write calls in ten
/// losing their reply after Odoo committed them: each source record is one
/// Odoo record with one external id, orders and invoices have exactly
/// their lines, the summaries count what was created, and a rerun writes
/// nothing.
#[tokio::test(start_paused = true)]
async fn every_model_is_written_exactly_once_when_replies_are_lost() {
    use odoo_integration_model::{
        Contact, Contract, ContractLine, Currency, Employee, Engagement, Expense, Invoice,
        InvoiceLine, Money, Opportunity, TimesheetEntry,
    };
    use rust_decimal::Decimal;
    const N: usize = 30;
    let server = TestServer::builder().start().await.unwrap();
    let odoo = Arc::new(selling(&server, odoo(&server)));
    let state = Arc::new(MemoryStore::new());
    lose_replies(&server, 2_000);
    let at = chrono::Utc::now();
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 3);
    let usd = |n: i64| Some(Money::new(Decimal::from(n), Currency::USD));
    fn each(prefix: &'static str) -> impl Iterator<Item = (usize, String)> {
        (0..N).map(move |i| (i, format!("{prefix}{i}")))
    }

    exactly_once(
        &odoo,
        &state,
        each("c")
            .map(|(i, id)| SourceChange::upsert(id, at, client_record(i)))
            .collect(),
    )
    .await;
    let of_client = |i: usize| Reference::new("client", format!("c{i}"));
    exactly_once(
        &odoo,
        &state,
        each("k")
            .map(|(i, id)| {
                let c = Contact {
                    name: format!("Contact {i}"),
                    email: Some(format!("k{i}@example.com")),
                    ..Default::default()
                };
                SourceChange::upsert(id, at, c).with_ref("client", of_client(i))
            })
            .collect(),
    )
    .await;
    exactly_once(
        &odoo,
        &state,
        each("o")
            .map(|(i, id)| {
                let o = Opportunity {
                    name: format!("Deal {i}"),
                    amount: usd(1_000 + i as i64),
                    ..Default::default()
                };
                SourceChange::upsert(id, at, o).with_ref("client", of_client(i))
            })
            .collect(),
    )
    .await;
    exactly_once(
        &odoo,
        &state,
        each("p")
            .map(|(i, id)| {
                let p = Engagement {
                    name: format!("Project {i}"),
                    start: day,
                    ..Default::default()
                };
                SourceChange::upsert(id, at, p).with_ref("client", of_client(i))
            })
            .collect(),
    )
    .await;
    let line = |n: usize, what: &str| ContractLine {
        id: format!("L{n}"),
        description: what.into(),
        quantity: Decimal::from(n as i64 + 1),
        unit_price: usd(100),
        product: None,
    };
    exactly_once(
        &odoo,
        &state,
        each("so")
            .map(|(i, id)| {
                let c = Contract {
                    reference: format!("PO-{i}"),
                    signed_on: day,
                    lines: vec![line(0, "Discovery"), line(1, "Build")],
                    ..Default::default()
                };
                SourceChange::upsert(id, at, c).with_ref("client", of_client(i))
            })
            .collect(),
    )
    .await;
    exactly_once(
        &odoo,
        &state,
        each("e")
            .map(|(i, id)| {
                let e = Employee {
                    employee_number: format!("E{i}"),
                    name: format!("Person {i}"),
                    // Created by name the first time it is seen.
                    department: Some(format!("Team {}", i % 3)),
                    ..Default::default()
                };
                SourceChange::upsert(id, at, e)
            })
            .collect(),
    )
    .await;
    let of_employee = |i: usize| Reference::new("employee", format!("e{i}"));
    exactly_once(
        &odoo,
        &state,
        each("t")
            .map(|(i, id)| {
                let t = TimesheetEntry {
                    date: day,
                    hours: Decimal::new(15 + i as i64, 1),
                    task: Some(format!("Task {i}")),
                    ..Default::default()
                };
                SourceChange::upsert(id, at, t)
                    .with_ref("employee", of_employee(i))
                    .with_ref("engagement", Reference::new("engagement", format!("p{i}")))
            })
            .collect(),
    )
    .await;
    exactly_once(
        &odoo,
        &state,
        each("x")
            .map(|(i, id)| {
                let x = Expense {
                    date: day,
                    amount: usd(20 + i as i64),
                    description: Some(format!("Expense {i}")),
                    ..Default::default()
                };
                SourceChange::upsert(id, at, x).with_ref("employee", of_employee(i))
            })
            .collect(),
    )
    .await;
    exactly_once(
        &odoo,
        &state,
        each("inv")
            .map(|(i, id)| {
                let l = |n: usize, what: &str| InvoiceLine {
                    id: format!("IL{n}"),
                    description: what.into(),
                    quantity: Decimal::from(n as i64 + 1),
                    unit_price: usd(250),
                };
                let inv = Invoice {
                    date: day,
                    lines: vec![l(0, "Workshop"), l(1, "Days")],
                    ..Default::default()
                };
                SourceChange::upsert(id, at, inv).with_ref("client", of_client(i))
            })
            .collect(),
    )
    .await;

    let records = |model: &str| server.records(model).unwrap();
    // Not counting Odoo's own company and its users.
    let partners: Vec<_> = records("res.partner")
        .into_iter()
        .filter(|r| r["ref_company_ids"] == serde_json::json!([]))
        .filter(|r| r["user_ids"] == serde_json::json!([]))
        .collect();
    let companies = partners.iter().filter(|r| r["is_company"] == true).count();
    let people = partners.len() - companies;
    for (what, count) in [
        ("companies", companies),
        ("contacts", people),
        ("leads", records("crm.lead").len()),
        ("projects", records("project.project").len()),
        ("orders", records("sale.order").len()),
        ("employees", records("hr.employee").len()),
        ("timesheet lines", records("account.analytic.line").len()),
        ("expenses", records("hr.expense").len()),
        ("invoices", records("account.move").len()),
    ] {
        assert_eq!(count, N, "{what}: one Odoo record per source record");
    }
    assert_eq!(records("hr.department").len(), 3, "one department per name");
    assert_eq!(
        records("sale.order.line").len(),
        2 * N,
        "two lines per order"
    );
    assert_eq!(
        records("account.move.line").len(),
        2 * N,
        "two lines per invoice"
    );
    // One external id per record, each pointing at a record of its model.
    let xids = records("ir.model.data");
    for (entity, model) in [
        ("client", "res.partner"),
        ("contact", "res.partner"),
        ("opportunity", "crm.lead"),
        ("engagement", "project.project"),
        ("contract", "sale.order"),
        ("employee", "hr.employee"),
        ("timesheet_entry", "account.analytic.line"),
        ("expense", "hr.expense"),
        ("invoice", "account.move"),
    ] {
        let ours: Vec<_> = xids
            .iter()
            .filter(|x| {
                x["module"] == "sync_src"
                    && x["name"]
                        .as_str()
                        .unwrap()
                        .starts_with(&format!("{entity}_"))
            })
            .collect();
        assert_eq!(ours.len(), N, "{entity}: one external id per record");
        let targets: BTreeSet<i64> = ours.iter().map(|x| x["res_id"].as_i64().unwrap()).collect();
        assert_eq!(targets.len(), N, "{entity}: distinct records");
        assert!(ours.iter().all(|x| x["model"] == model), "{entity}");
    }
    // Replies were lost on every write kind: the first calls of each
    // method followed the pattern, three in ten dropped.
    let calls = server.calls();
    for method in ["load", "write", "create"] {
        let made = calls.iter().filter(|c| c.method == method).count();
        let dropped = (0..made.min(2_000)).filter(|i| i % 10 < 3).count();
        assert!(
            dropped >= 3,
            "{method}: {made} calls, {dropped} replies lost"
        );
    }
}

/// A custom field is one map entry: a custom `x_` field holding coded
/// values is written in Odoo's wire form and read back as the codes.
#[tokio::test]
async fn a_custom_field_is_one_map_entry_written_and_read_back() {
    use odoo_integration_client::test_server::{Field, FieldKind as Kind};
    use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    use odoo_integration_connectors::{Operation, read_to_end};
    use odoo_integration_model::{CanonicalId, RemoteId};
    let server = TestServer::builder()
        .field("res.partner", Field::new("x_sector", Kind::Char))
        .start()
        .await
        .unwrap();
    let sectors = Conversion::codes([("consulting", "cons"), ("software", "soft")]);
    let odoo = odoo(&server).with_map(ModelMap::client().field("industry", "x_sector", sectors));
    let acme = ClientCompany {
        legal_name: "Acme NV".into(),
        industry: Some("software".into()),
        ..Default::default()
    };
    let record = SinkRecord::new(
        CanonicalId::new(),
        SystemId::hubspot(),
        RemoteId::new("981"),
        Operation::Upsert(acme),
    );
    let out = Sink::<ClientCompany>::apply(&odoo, vec![record])
        .await
        .unwrap();
    assert!(out[0].is_success(), "{out:?}");
    let partners = server.records("res.partner").unwrap();
    assert!(
        partners
            .iter()
            .any(|p| p["name"] == "Acme NV" && p["x_sector"] == "soft")
    );
    let (changes, _) = read_to_end::<ClientCompany>(&odoo, None, 100)
        .await
        .unwrap();
    let back = changes
        .iter()
        .find_map(|c| match &c.operation {
            Operation::Upsert(c) if c.legal_name == "Acme NV" => Some(c),
            _ => None,
        })
        .unwrap();
    assert_eq!(back.industry.as_deref(), Some("software"));
}

/// One retry layer: the pipeline's. With Odoo down, a record is sent once
/// plus the pipeline's retries, not (client attempts) × (pipeline
/// attempts), though the client given to the connector has a retry policy
/// of its own.
#[tokio::test]
async fn a_failing_odoo_call_is_sent_as_often_as_the_pipelines_policy_allows() {
    let server = TestServer::start().await.unwrap();
    let odoo = odoo(&server); // its client retries twice on its own
    assert_eq!(odoo.client().retry_policy().retry_limit(), 2);
    let source = VecSource::new(
        "hubspot",
        vec![SourceChange::upsert(
            "1",
            chrono::Utc::now(),
            client_record(1),
        )],
    );
    let state = Arc::new(MemoryStore::new());
    let pipeline =
        Pipeline::<ClientCompany>::builder("down", source, Arc::new(odoo), state.clone())
            // This counts the writes: no search for an existing record first.
            .match_existing(false)
            .retry(
                RetryPolicy::new()
                    .max_retries(3)
                    .min_delay(Duration::from_millis(1))
                    .without_jitter(),
            )
            .build()
            .unwrap();
    server.inject(Fault::Status(503), 1_000);
    let before = server.calls().len();
    let summary = pipeline.run().await.unwrap();
    let sent = server.calls().len() - before;
    assert_eq!(summary.dead_lettered, 1, "{summary}");
    // Every attempt fails at its first call: 1 + 3 retries.
    assert_eq!(sent, 4, "{:?}", &server.calls()[before..]);
    let letters = state.letters("client").await.unwrap();
    assert_eq!(letters[0].error.kind.to_string(), "unavailable");
}

/// Ids written before 0.3 (`row-1` and `row_1` both as `client_row_1`)
/// are adopted: the record Odoo holds under the old id is updated, not
/// created again; the other id that shared it gets a record of its own;
/// and the old id is gone.
#[tokio::test]
async fn external_ids_of_earlier_versions_are_adopted_not_duplicated() {
    let server = TestServer::start().await.unwrap();
    let old = server
        .insert(
            "res.partner",
            serde_json::json!({"name": "Client 0001", "is_company": true}),
        )
        .unwrap();
    server
        .insert(
            "ir.model.data",
            serde_json::json!({
                "module": "sync_csv", "name": "client_row_1",
                "model": "res.partner", "res_id": old, "noupdate": true,
            }),
        )
        .unwrap();
    let before = companies(&server).len();
    let record = |id: &str, i| {
        SinkRecord::new(
            odoo_integration_model::CanonicalId::new(),
            SystemId::new("csv"),
            odoo_integration_model::RemoteId::new(id),
            odoo_integration_connectors::Operation::Upsert(client_record(i)),
        )
    };
    let out =
        Sink::<ClientCompany>::apply(&odoo(&server), vec![record("row-1", 1), record("row_1", 2)])
            .await
            .unwrap();
    assert!(
        matches!(&out[0], Outcome::Updated(id) | Outcome::Unchanged(id) if id.as_str() == old.to_string()),
        "{out:?}"
    );
    assert!(matches!(&out[1], Outcome::Created(_)), "{out:?}");
    assert_eq!(companies(&server).len(), before + 1);
    let names: BTreeSet<String> = server
        .records("ir.model.data")
        .unwrap()
        .into_iter()
        .filter(|r| r["module"] == "sync_csv")
        .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from(["client_row_2d1".to_owned(), "client_row__1".to_owned()])
    );
    // Again: nothing new.
    let again =
        Sink::<ClientCompany>::apply(&odoo(&server), vec![record("row-1", 1), record("row_1", 2)])
            .await
            .unwrap();
    assert!(
        again.iter().all(|o| !matches!(o, Outcome::Created(_))),
        "{again:?}"
    );
    assert_eq!(companies(&server).len(), before + 1);
}
