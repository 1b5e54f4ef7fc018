#![allow(clippy::unwrap_used)]
//! The webhook receiver (feature `webhooks`) served on loopback, fed
//! requests shaped like HubSpot's, Odoo's and the generic endpoint's,
//! with the HubSpot fake and the embedded Odoo as the systems read back.
//!
//! HubSpot signatures are computed here from HubSpot's documented v3
//! recipe (developers.hubspot.com, "Validating requests": base64 of
//! HMAC-SHA256, keyed by the app's client secret, over method + URI +
//! body + `X-HubSpot-Request-Timestamp`; timestamps older than five
//! minutes refused). The recorded request below carries a signature
//! derived independently with Python's `hmac` and `base64`.

use async_trait::async_trait;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use odoo_integration_client::Protocol;
use odoo_integration_client::test_server::TestServer;
use odoo_integration_connectors::hubspot::HubSpotConnector;
use odoo_integration_connectors::odoo::OdooConnector;
use odoo_integration_connectors::webhooks::{PushReceiver, PushTarget, PushWorker};
use odoo_integration_connectors::{
    Capabilities, Connector, Cursor, FetchByIds, MemoryStore, Operation, Outcome, Page, Pipeline,
    Sink, SinkRecord, Source, SourceChange,
};
use odoo_integration_fakes::hubspot::FakeHubSpot;
use odoo_integration_model::{ClientCompany, Contact, Entity, RemoteId, SystemId};
use serde_json::{Value, json};
use sha2::Sha256;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "a1b2c3d4-e5f6-client-secret";
const ODOO_TOKEN: &str = "5d41402abc4b2a76b9719d911017c592";
const GENERIC_SECRET: &str = "generic-shared-secret-0123456789";

// ------------------------------------------------------------- helpers

/// Request headers, by name.
type Headers = Vec<(&'static str, String)>;

/// What a sink was asked to do: (origin id, "upsert" | "delete").
type Writes = Arc<Mutex<Vec<(String, &'static str)>>>;

/// A sink that counts every record it is sent, and answers as an
/// idempotent sink does: created the first time, updated after.
struct Counting {
    writes: Writes,
}

impl Connector for Counting {
    fn system(&self) -> SystemId {
        SystemId::new("warehouse")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().writes(["client", "contact"])
    }
}

#[async_trait]
impl<E: Entity + Send + Sync + 'static> Sink<E> for Counting {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<E>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        let mut writes = self.writes.lock().unwrap();
        Ok(batch
            .iter()
            .map(|r| {
                let id = RemoteId::new(format!("W-{}", r.origin_id.as_str()));
                match (&r.operation, &r.target_id) {
                    (Operation::Delete, _) => {
                        writes.push((r.origin_id.as_str().to_owned(), "delete"));
                        Outcome::Deleted(id)
                    }
                    (_, None) => {
                        writes.push((r.origin_id.as_str().to_owned(), "upsert"));
                        Outcome::Created(id)
                    }
                    (_, Some(_)) => {
                        writes.push((r.origin_id.as_str().to_owned(), "upsert"));
                        Outcome::Updated(id)
                    }
                }
            })
            .collect())
    }
}

fn writes_of(writes: &Writes, id: &str) -> Vec<&'static str> {
    writes
        .lock()
        .unwrap()
        .iter()
        .filter(|(w, _)| w == id)
        .map(|(_, op)| *op)
        .collect()
}

/// Records every targeted read, then reads through the real connector.
struct Recording<S> {
    inner: Arc<S>,
    calls: Arc<Mutex<Vec<Vec<String>>>>,
}

impl<S: Connector> Connector for Recording<S> {
    fn system(&self) -> SystemId {
        self.inner.system()
    }
    fn capabilities(&self) -> Capabilities {
        self.inner.capabilities()
    }
}

#[async_trait]
impl<E: Entity + 'static, S: FetchByIds<E>> FetchByIds<E> for Recording<S> {
    async fn fetch_ids(
        &self,
        ids: &[RemoteId],
    ) -> odoo_integration_connectors::Result<Vec<SourceChange<E>>> {
        self.calls
            .lock()
            .unwrap()
            .push(ids.iter().map(|i| i.as_str().to_owned()).collect());
        self.inner.fetch_ids(ids).await
    }
}

/// A pipeline of `E` from `source` to a counting sink, and the target
/// that feeds it, recording its targeted reads.
struct Lane<E: Entity> {
    pipeline: Arc<Pipeline<E>>,
    target: PushTarget,
    writes: Writes,
    calls: Arc<Mutex<Vec<Vec<String>>>>,
}

fn lane<E, S>(name: &str, source: Arc<S>) -> Lane<E>
where
    E: Entity + Default + Send + Sync + 'static,
    S: Source<E> + FetchByIds<E> + 'static,
{
    let writes = Writes::default();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let pipeline = Arc::new(
        Pipeline::<E>::builder(
            name,
            source.clone(),
            Arc::new(Counting {
                writes: writes.clone(),
            }),
            Arc::new(MemoryStore::new()),
        )
        .attempts(1, Duration::ZERO)
        .build()
        .unwrap(),
    );
    let fetch = Arc::new(Recording {
        inner: source,
        calls: calls.clone(),
    });
    Lane {
        target: PushTarget::new(pipeline.clone(), fetch),
        pipeline,
        writes,
        calls,
    }
}

/// Serves `router` on loopback; its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

fn http() -> reqwest::Client {
    // The connectors install the TLS crypto provider reqwest needs.
    let _ = HubSpotConnector::new("pat-na1-provider").unwrap();
    reqwest::Client::new()
}

fn hubspot_connector(fake: &FakeHubSpot) -> Arc<HubSpotConnector> {
    Arc::new(
        HubSpotConnector::new(fake.token())
            .unwrap()
            .base_url(&fake.url())
            .settle(Duration::ZERO),
    )
}

/// HubSpot's v3 signature (see the module's docs for the source).
fn sign_v3(secret: &str, uri: &str, body: &[u8], timestamp: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    for part in [
        b"POST".as_slice(),
        uri.as_bytes(),
        body,
        timestamp.as_bytes(),
    ] {
        mac.update(part);
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The generic endpoint's signature: hex HMAC-SHA256 of `<ts>.<body>`.
fn sign_generic(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

/// POSTs a HubSpot webhook request signed now (or `age` ago).
async fn post_hubspot(
    client: &reqwest::Client,
    base: &str,
    body: &[u8],
    age: Duration,
) -> reqwest::Response {
    let uri = format!("{base}/hubspot");
    let ts = (chrono::Utc::now().timestamp_millis() - age.as_millis() as i64).to_string();
    client
        .post(&uri)
        .header("content-type", "application/json")
        .header("x-hubspot-request-timestamp", &ts)
        .header("x-hubspot-signature-v3", sign_v3(SECRET, &uri, body, &ts))
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

async fn post_generic(client: &reqwest::Client, base: &str, body: &[u8]) -> reqwest::Response {
    let ts = chrono::Utc::now().timestamp().to_string();
    client
        .post(format!("{base}/events"))
        .header("x-webhook-timestamp", &ts)
        .header(
            "x-webhook-signature",
            sign_generic(GENERIC_SECRET, &ts, body),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap()
}

/// Waits (at most 10 s) until `done`; never asserts a duration.
async fn eventually(what: &str, done: impl Fn() -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while !done() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "timed out waiting for {what}");
}

async fn json_of(response: reqwest::Response) -> Value {
    serde_json::from_slice(&response.bytes().await.unwrap()).unwrap()
}

async fn error_code(response: reqwest::Response) -> String {
    let body = json_of(response).await;
    body["error"].as_str().unwrap_or_default().to_owned()
}

fn creation(object: &str, id: &str, event_id: u64) -> Value {
    json!({
        "eventId": event_id, "subscriptionId": 2001, "portalId": 62515, "appId": 54321,
        "occurredAt": 1_795_000_000_000_i64, "subscriptionType": format!("{object}.creation"),
        "attemptNumber": 0, "objectId": id.parse::<u64>().unwrap(), "changeSource": "CRM"
    })
}

/// Binds first, so the receiver knows the URL HubSpot signs.
async fn served_hubspot(
    build: impl FnOnce(String) -> (axum::Router, PushWorker),
) -> (String, PushWorker) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (router, worker) = build(format!("{base}/hubspot"));
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (base, worker)
}

// --------------------------------------------------------------- HubSpot

#[tokio::test]
async fn a_recorded_hubspot_request_verifies_and_its_records_are_read_by_id() {
    // Recorded at 1795000060000 ms; signature by Python's hmac + base64.
    const BODY: &[u8] = br#"[{"eventId":101,"subscriptionId":12345,"portalId":62515,"appId":54321,"occurredAt":1795000000000,"subscriptionType":"company.propertyChange","attemptNumber":0,"objectId":981,"propertyName":"website","propertyValue":"https://acme.example","changeSource":"CRM"},{"eventId":102,"subscriptionId":12346,"portalId":62515,"appId":54321,"occurredAt":1795000000500,"subscriptionType":"company.deletion","attemptNumber":0,"objectId":982,"changeSource":"CRM"}]"#;
    const TS: &str = "1795000060000";
    const URI: &str = "https://hooks.example.com/hubspot/webhook?portal=62515";
    const SIG: &str = "sANc3ExtgFyiyocatcrH9RuusNkqEqXGjt4+GKXeRsE=";
    assert_eq!(sign_v3(SECRET, URI, BODY, TS), SIG, "the recipe matches");
    let fake = FakeHubSpot::start().await.unwrap();
    let companies = lane::<ClientCompany, _>("hs", hubspot_connector(&fake));
    let recorded_at = chrono::DateTime::from_timestamp_millis(1_795_000_090_000).unwrap();
    let (router, worker) = PushReceiver::builder()
        .hubspot(SECRET, URI)
        .route_hubspot("company", companies.target.clone())
        .clock(move || recorded_at)
        .build()
        .unwrap();
    let base = serve(router).await;
    let response = http()
        .post(format!("{base}/hubspot"))
        .header("x-hubspot-request-timestamp", TS)
        .header("x-hubspot-signature-v3", SIG)
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(response).await["accepted"], 2);
    worker.shutdown().await; // syncs what was accepted, then stops
    assert_eq!(*companies.calls.lock().unwrap(), [vec!["981", "982"]]);
}

#[tokio::test]
async fn bad_expired_or_missing_hubspot_signatures_are_refused_and_nothing_syncs() {
    let fake = FakeHubSpot::start().await.unwrap();
    let id = fake.insert("companies", [("name", "Acme")]);
    let companies = lane::<ClientCompany, _>("hs", hubspot_connector(&fake));
    let target = companies.target.clone();
    let (base, worker) = served_hubspot(|url| {
        PushReceiver::builder()
            .hubspot(SECRET, url)
            .route_hubspot("company", target)
            .window(Duration::from_millis(10))
            .build()
            .unwrap()
    })
    .await;
    let client = http();
    let body = serde_json::to_vec(&json!([creation("company", &id, 1)])).unwrap();
    let uri = format!("{base}/hubspot");
    let now = chrono::Utc::now().timestamp_millis().to_string();
    let six_minutes_ago = (chrono::Utc::now().timestamp_millis() - 360_000).to_string();
    let good = sign_v3(SECRET, &uri, &body, &now);
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let cases: Vec<(&str, Headers, Vec<u8>)> = vec![
        ("no headers", vec![], body.clone()),
        (
            "no timestamp",
            vec![("x-hubspot-signature-v3", good.clone())],
            body.clone(),
        ),
        (
            "no signature",
            vec![("x-hubspot-request-timestamp", now.clone())],
            body.clone(),
        ),
        (
            "another secret",
            vec![
                ("x-hubspot-request-timestamp", now.clone()),
                (
                    "x-hubspot-signature-v3",
                    sign_v3("another-secret", &uri, &body, &now),
                ),
            ],
            body.clone(),
        ),
        (
            "a tampered body",
            vec![
                ("x-hubspot-request-timestamp", now.clone()),
                ("x-hubspot-signature-v3", good.clone()),
            ],
            tampered,
        ),
        (
            "six minutes old",
            vec![
                ("x-hubspot-request-timestamp", six_minutes_ago.clone()),
                (
                    "x-hubspot-signature-v3",
                    sign_v3(SECRET, &uri, &body, &six_minutes_ago),
                ),
            ],
            body.clone(),
        ),
    ];
    for (case, headers, body) in cases {
        let mut request = client.post(&uri).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{case}");
        assert_eq!(error_code(response).await, "unauthorized", "{case}");
    }
    worker.shutdown().await;
    assert!(companies.calls.lock().unwrap().is_empty());
    assert!(companies.writes.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_hubspot_batch_is_one_targeted_read_per_pipeline_with_ids_once() {
    let fake = FakeHubSpot::start().await.unwrap();
    let acme = fake.insert("companies", [("name", "Acme")]);
    let globex = fake.insert("companies", [("name", "Globex")]);
    let ada = fake.insert("contacts", [("firstname", "Ada"), ("lastname", "Lovelace")]);
    let hubspot = hubspot_connector(&fake);
    let companies = lane::<ClientCompany, _>("hs/client", hubspot.clone());
    let contacts = lane::<Contact, _>("hs/contact", hubspot);
    let (c, p) = (companies.target.clone(), contacts.target.clone());
    let (base, worker) = served_hubspot(|url| {
        PushReceiver::builder()
            .hubspot(SECRET, url)
            .route_hubspot("company", c)
            .route_hubspot("contact", p)
            .window(Duration::from_millis(200))
            .build()
            .unwrap()
    })
    .await;
    let change = |property: &str, value: &str, event_id: u64| {
        let mut e = creation("company", &acme, event_id);
        e["subscriptionType"] = json!("company.propertyChange");
        e["propertyName"] = json!(property);
        e["propertyValue"] = json!(value);
        e
    };
    let batch = json!([
        change("name", "Acme Corp", 1),
        change("domain", "acme.example", 2),
        creation("company", &globex, 3),
        creation("contact", &ada, 4),
        // Subscribed, but not synced: skipped, not refused.
        creation("deal", "77", 5),
        // The generic form of a company event.
        {"eventId": 6, "subscriptionType": "object.propertyChange", "objectTypeId": "0-2",
         "objectId": acme.parse::<u64>().unwrap(), "propertyName": "name", "propertyValue": "Acme Corp",
         "occurredAt": 1_795_000_000_100_i64, "attemptNumber": 0},
    ]);
    let response = post_hubspot(
        &http(),
        &base,
        &serde_json::to_vec(&batch).unwrap(),
        Duration::ZERO,
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(json_of(response).await["accepted"], 3);
    eventually("both companies in the sink", || {
        writes_of(&companies.writes, &acme).len() == 1
            && writes_of(&companies.writes, &globex).len() == 1
    })
    .await;
    worker.shutdown().await;
    let mut company_reads = companies.calls.lock().unwrap().clone();
    for ids in &mut company_reads {
        ids.sort();
    }
    let mut expected = vec![acme.clone(), globex.clone()];
    expected.sort();
    assert_eq!(company_reads, [expected]);
    assert_eq!(*contacts.calls.lock().unwrap(), [vec![ada]]);
}

#[tokio::test]
async fn a_pushed_change_and_the_next_poll_write_once() {
    let fake = FakeHubSpot::start().await.unwrap();
    let acme = fake.insert("companies", [("name", "Acme")]);
    let companies = lane::<ClientCompany, _>("hs", hubspot_connector(&fake));
    let target = companies.target.clone();
    let (base, worker) = served_hubspot(|url| {
        PushReceiver::builder()
            .hubspot(SECRET, url)
            .route_hubspot("company", target)
            .window(Duration::from_millis(10))
            .build()
            .unwrap()
    })
    .await;
    let body = serde_json::to_vec(&json!([creation("company", &acme, 1)])).unwrap();
    let response = post_hubspot(&http(), &base, &body, Duration::ZERO).await;
    assert_eq!(response.status(), 200);
    eventually("the pushed company in the sink", || {
        !writes_of(&companies.writes, &acme).is_empty()
    })
    .await;
    worker.shutdown().await;
    // The poll reads the same company: recorded, so nothing is written.
    let polled = companies.pipeline.run().await.unwrap();
    assert_eq!((polled.read, polled.created, polled.updated), (1, 0, 0));
    assert_eq!(writes_of(&companies.writes, &acme), ["upsert"]);
    // A real change after that is written, once, by whichever comes first.
    fake.update("companies", &acme, [("name", "Acme Corp")]);
    let polled = companies.pipeline.run().await.unwrap();
    assert_eq!(polled.updated, 1);
    assert_eq!(writes_of(&companies.writes, &acme), ["upsert", "upsert"]);
}

#[tokio::test]
async fn a_hubspot_deletion_event_is_a_delete_change() {
    let fake = FakeHubSpot::start().await.unwrap();
    let acme = fake.insert("companies", [("name", "Acme")]);
    let companies = lane::<ClientCompany, _>("hs", hubspot_connector(&fake));
    let target = companies.target.clone();
    let (base, worker) = served_hubspot(|url| {
        PushReceiver::builder()
            .hubspot(SECRET, url)
            .route_hubspot("company", target)
            .window(Duration::from_millis(10))
            .build()
            .unwrap()
    })
    .await;
    let client = http();
    let created = serde_json::to_vec(&json!([creation("company", &acme, 1)])).unwrap();
    assert_eq!(
        post_hubspot(&client, &base, &created, Duration::ZERO)
            .await
            .status(),
        200
    );
    eventually("the company created", || {
        writes_of(&companies.writes, &acme) == ["upsert"]
    })
    .await;
    assert!(fake.archive("companies", &acme));
    let mut deleted = creation("company", &acme, 2);
    deleted["subscriptionType"] = json!("company.deletion");
    let deleted = serde_json::to_vec(&json!([deleted])).unwrap();
    assert_eq!(
        post_hubspot(&client, &base, &deleted, Duration::ZERO)
            .await
            .status(),
        200
    );
    eventually("the company deleted", || {
        writes_of(&companies.writes, &acme) == ["upsert", "delete"]
    })
    .await;
    worker.shutdown().await;
}

#[tokio::test]
async fn hubspot_targeted_reads_turn_only_not_found_ids_into_deletes() {
    let fake = FakeHubSpot::start().await.unwrap();
    let acme = fake.insert("companies", [("name", "Acme")]);
    let hubspot = hubspot_connector(&fake);
    let changes: Vec<SourceChange<ClientCompany>> = hubspot
        .fetch_ids(&[
            RemoteId::new("424242"),
            RemoteId::new(acme.clone()),
            RemoteId::new(acme.clone()),
        ])
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert!(changes[0].operation.is_delete());
    assert_eq!(changes[0].remote_id.as_str(), "424242");
    assert!(matches!(&changes[1].operation, Operation::Upsert(c) if c.legal_name == "Acme"));
    // An id that cannot be HubSpot's is refused before any request.
    let calls = fake.calls().len();
    let err = FetchByIds::<ClientCompany>::fetch_ids(hubspot.as_ref(), &[RemoteId::new("acme")])
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        odoo_integration_connectors::ConnectorErrorKind::Invalid
    );
    assert_eq!(fake.calls().len(), calls);
}

// ------------------------------------------------------------------ Odoo

/// The body Odoo 17+'s "Send Webhook Notification" action POSTs:
/// `_action`, `_id`, `_model` and the fields chosen, keys sorted.
fn odoo_notification(id: i64) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "_action": "Send Webhook Notification(#31)",
        "_id": id,
        "_model": "res.partner",
        "id": id,
        "name": "Acme Corporation",
        "write_date": "2026-11-24 10:00:00",
    }))
    .unwrap()
}

#[tokio::test]
async fn an_odoo_automation_notification_is_read_back_and_lands_in_the_sink() {
    let server = TestServer::start().await.unwrap();
    let odoo = Arc::new(OdooConnector::new(server.client(Protocol::Json2).unwrap()));
    let partners = lane::<ClientCompany, _>("odoo→warehouse/client", odoo);
    let (router, worker) = PushReceiver::builder()
        .odoo_token(ODOO_TOKEN)
        .route_odoo("res.partner", partners.target.clone())
        .window(Duration::from_millis(10))
        .build()
        .unwrap();
    let base = serve(router).await;
    let client = http();
    // A wrong token: refused, nothing read.
    let wrong = client
        .post(format!("{base}/odoo/{}", "0".repeat(32)))
        .body(odoo_notification(2))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let response = client
        .post(format!("{base}/odoo/{ODOO_TOKEN}"))
        .header("content-type", "application/json")
        .body(odoo_notification(2))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    eventually("partner 2 in the sink", || {
        writes_of(&partners.writes, "2") == ["upsert"]
    })
    .await;
    // An unrouted model is the sender's mistake: 400, named.
    let other =
        serde_json::to_vec(&json!({"_action": "x(#1)", "_id": 5, "_model": "sale.order"})).unwrap();
    let unrouted = client
        .post(format!("{base}/odoo/{ODOO_TOKEN}"))
        .body(other)
        .send()
        .await
        .unwrap();
    assert_eq!(unrouted.status(), 400);
    assert_eq!(error_code(unrouted).await, "unrouted");
    worker.shutdown().await;
    assert_eq!(*partners.calls.lock().unwrap(), [vec!["2"]]);
    // The poll after the push writes partner 2 no more.
    partners.pipeline.run().await.unwrap();
    assert_eq!(writes_of(&partners.writes, "2"), ["upsert"]);
}

#[tokio::test]
async fn odoo_targeted_reads_turn_missing_records_into_deletes() {
    let server = TestServer::start().await.unwrap();
    let odoo = OdooConnector::new(server.client(Protocol::Json2).unwrap());
    let changes: Vec<SourceChange<ClientCompany>> = odoo
        .fetch_ids(&[RemoteId::new("999999"), RemoteId::new("2")])
        .await
        .unwrap();
    assert_eq!(changes.len(), 2);
    assert!(changes[0].operation.is_delete());
    assert!(!changes[1].operation.is_delete());
    // Archived in Odoo: a delete too, as the change feed reports it.
    server
        .client(Protocol::Json2)
        .unwrap()
        .model("res.partner")
        .write([2], &json!({"active": false}))
        .send()
        .await
        .unwrap();
    let archived: Vec<SourceChange<ClientCompany>> =
        odoo.fetch_ids(&[RemoteId::new("2")]).await.unwrap();
    assert!(archived[0].operation.is_delete());
    let err = FetchByIds::<ClientCompany>::fetch_ids(&odoo, &[RemoteId::new("-3")])
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        odoo_integration_connectors::ConnectorErrorKind::Invalid
    );
}

// ------------------------------------------------------ generic, limits

/// A source whose targeted reads wait for a gate to open.
struct Gated {
    gate: tokio::sync::Semaphore,
}

impl Connector for Gated {
    fn system(&self) -> SystemId {
        SystemId::new("crm")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["client"])
    }
}

#[async_trait]
impl Source<ClientCompany> for Gated {
    async fn read(
        &self,
        _: Option<&Cursor>,
        _: usize,
    ) -> odoo_integration_connectors::Result<Page<ClientCompany>> {
        Ok(Page {
            changes: Vec::new(),
            next: Cursor::new("0"),
            has_more: false,
        })
    }
}

#[async_trait]
impl FetchByIds<ClientCompany> for Gated {
    async fn fetch_ids(
        &self,
        ids: &[RemoteId],
    ) -> odoo_integration_connectors::Result<Vec<SourceChange<ClientCompany>>> {
        let _pass = self.gate.acquire().await.unwrap();
        // A bug in someone's source, to show the worker outlives it.
        assert!(
            ids.iter().all(|id| id.as_str() != "boom"),
            "a broken source"
        );
        Ok(ids
            .iter()
            .map(|id| {
                let client = ClientCompany {
                    legal_name: format!("Client {}", id.as_str()),
                    ..Default::default()
                };
                SourceChange::upsert(id.as_str(), chrono::Utc::now(), client)
            })
            .collect())
    }
}

#[tokio::test]
async fn generic_events_are_signed_checked_and_synced() {
    let crm = Arc::new(Gated {
        gate: tokio::sync::Semaphore::new(100),
    });
    let clients = lane::<ClientCompany, _>("crm→warehouse", crm);
    let (router, worker) = PushReceiver::builder()
        .generic_secret(GENERIC_SECRET)
        .route_generic("client", clients.target.clone())
        .window(Duration::from_millis(10))
        .build()
        .unwrap();
    let base = serve(router).await;
    let client = http();
    let body = br#"{"entity":"client","ids":["A-1", 7]}"#;
    let ok = post_generic(&client, &base, body).await;
    assert_eq!(ok.status(), 200);
    eventually("both clients in the sink", || {
        clients.writes.lock().unwrap().len() == 2
    })
    .await;
    // Unsigned, or signed for another body: 401.
    let unsigned = client
        .post(format!("{base}/events"))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    let ts = chrono::Utc::now().timestamp().to_string();
    let swapped = client
        .post(format!("{base}/events"))
        .header("x-webhook-timestamp", &ts)
        .header(
            "x-webhook-signature",
            sign_generic(GENERIC_SECRET, &ts, b"{}"),
        )
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(swapped.status(), 401);
    // Signed but malformed, or for an entity nobody routes: 400, typed.
    let malformed = post_generic(&client, &base, br#"{"entity":"client","ids":"A-1"}"#).await;
    assert_eq!(malformed.status(), 400);
    assert_eq!(error_code(malformed).await, "malformed");
    let unrouted = post_generic(&client, &base, br#"{"entity":"invoice","ids":["1"]}"#).await;
    assert_eq!(unrouted.status(), 400);
    assert_eq!(error_code(unrouted).await, "unrouted");
    worker.shutdown().await;
    // One read of both ids (in the worker's order: sorted).
    assert_eq!(*clients.calls.lock().unwrap(), [vec!["7", "A-1"]]);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_are_refused_before_the_queue() {
    let fake = FakeHubSpot::start().await.unwrap();
    let companies = lane::<ClientCompany, _>("hs", hubspot_connector(&fake));
    let target = companies.target.clone();
    let (base, worker) = served_hubspot(|url| {
        PushReceiver::builder()
            .hubspot(SECRET, url)
            .route_hubspot("company", target)
            .odoo_token(ODOO_TOKEN)
            .body_limit(4 * 1024)
            .window(Duration::from_millis(10))
            .build()
            .unwrap()
    })
    .await;
    let client = http();
    for body in [
        &br#"{"subscriptionType":"company.creation","objectId":1}"#[..],
        b"[{\"objectId\":1}]",
        b"not json",
    ] {
        let response = post_hubspot(&client, &base, body, Duration::ZERO).await;
        assert_eq!(response.status(), 400, "{}", String::from_utf8_lossy(body));
        assert_eq!(error_code(response).await, "malformed");
    }
    let odoo_bad = client
        .post(format!("{base}/odoo/{ODOO_TOKEN}"))
        .body(r#"{"_id": 2}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(odoo_bad.status(), 400);
    assert_eq!(error_code(odoo_bad).await, "malformed");
    let huge = vec![b' '; 8 * 1024];
    let too_big = post_hubspot(&client, &base, &huge, Duration::ZERO).await;
    assert_eq!(too_big.status(), 413);
    worker.shutdown().await;
    assert!(companies.calls.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_full_queue_answers_503_with_retry_after_and_loses_nothing_accepted() {
    let crm = Arc::new(Gated {
        gate: tokio::sync::Semaphore::new(0),
    });
    let clients = lane::<ClientCompany, _>("crm→warehouse", crm.clone());
    let (router, worker) = PushReceiver::builder()
        .generic_secret(GENERIC_SECRET)
        .route_generic("client", clients.target.clone())
        .queue_capacity(1)
        .window(Duration::from_millis(10))
        .build()
        .unwrap();
    let base = serve(router).await;
    let client = http();
    // The first request is taken by the worker, whose read then waits.
    let first = post_generic(&client, &base, br#"{"entity":"client","ids":["1"]}"#).await;
    assert_eq!(first.status(), 200);
    eventually("the worker reading", || {
        clients.calls.lock().unwrap().len() == 1
    })
    .await;
    // The second fills the queue; the third finds it full.
    let second = post_generic(&client, &base, br#"{"entity":"client","ids":["2"]}"#).await;
    assert_eq!(second.status(), 200);
    let third = post_generic(&client, &base, br#"{"entity":"client","ids":["3"]}"#).await;
    assert_eq!(third.status(), 503);
    assert_eq!(
        third
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("5")
    );
    assert_eq!(error_code(third).await, "busy");
    // The source answers again: everything accepted is synced.
    crm.gate.add_permits(100);
    eventually("both accepted clients in the sink", || {
        clients.writes.lock().unwrap().len() == 2
    })
    .await;
    worker.shutdown().await;
    let calls = clients.calls.lock().unwrap().clone();
    assert_eq!(calls, [vec!["1"], vec!["2"]]);
}

#[tokio::test]
async fn a_pipeline_that_panics_does_not_stop_the_worker() {
    let crm = Arc::new(Gated {
        gate: tokio::sync::Semaphore::new(100),
    });
    let clients = lane::<ClientCompany, _>("crm→warehouse", crm);
    let (router, worker) = PushReceiver::builder()
        .generic_secret(GENERIC_SECRET)
        .route_generic("client", clients.target.clone())
        .window(Duration::from_millis(10))
        .build()
        .unwrap();
    let base = serve(router).await;
    let client = http();
    let boom = post_generic(&client, &base, br#"{"entity":"client","ids":["boom"]}"#).await;
    assert_eq!(boom.status(), 200);
    eventually("the broken read", || {
        clients.calls.lock().unwrap().len() == 1
    })
    .await;
    let next = post_generic(&client, &base, br#"{"entity":"client","ids":["1"]}"#).await;
    assert_eq!(next.status(), 200);
    eventually("the next client in the sink", || {
        writes_of(&clients.writes, "1") == ["upsert"]
    })
    .await;
    worker.shutdown().await;
}

#[tokio::test]
async fn dropping_the_worker_handle_leaves_the_worker_running() {
    let crm = Arc::new(Gated {
        gate: tokio::sync::Semaphore::new(100),
    });
    let clients = lane::<ClientCompany, _>("crm→warehouse", crm);
    let (router, worker) = PushReceiver::builder()
        .generic_secret(GENERIC_SECRET)
        .route_generic("client", clients.target.clone())
        .window(Duration::from_millis(10))
        .build()
        .unwrap();
    drop(worker);
    let base = serve(router).await;
    let response = post_generic(&http(), &base, br#"{"entity":"client","ids":["1"]}"#).await;
    assert_eq!(response.status(), 200);
    eventually("the client in the sink", || {
        writes_of(&clients.writes, "1") == ["upsert"]
    })
    .await;
}

#[tokio::test]
async fn a_receiver_without_endpoints_or_with_weak_secrets_is_refused() {
    assert!(PushReceiver::builder().build().is_err());
    assert!(PushReceiver::builder().odoo_token("short").build().is_err());
    assert!(
        PushReceiver::builder()
            .generic_secret(GENERIC_SECRET)
            .queue_capacity(0)
            .build()
            .is_err()
    );
}
