#![allow(clippy::unwrap_used)]
//! The HubSpot connector against wiremock servers shaped like HubSpot's
//! CRM v3 API (`../shared/specs/hubspot/companies.v3.json`).

use odoo_integration_connectors::hubspot::HubSpotConnector;
use odoo_integration_connectors::{ConnectorErrorKind, Cursor, Operation, Source};
use odoo_integration_model::ClientCompany;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const TOKEN: &str = "pat-na1-11111111-sentinel-token";

/// HubSpot's company search over a data set: `hs_lastmodifieddate GTE`,
/// ascending, `after` as an offset, and the 10,000-result wall.
struct Companies {
    /// (id, modified ms, name); the order within one millisecond is
    /// HubSpot's business, so it is shuffled here.
    rows: Mutex<Vec<(String, i64, String)>>,
    calls: Mutex<Vec<Value>>,
}

impl Companies {
    fn new(rows: Vec<(String, i64, String)>) -> Self {
        Companies {
            rows: Mutex::new(rows),
            calls: Mutex::new(Vec::new()),
        }
    }
}

impl Respond for Companies {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        self.calls.lock().unwrap().push(body.clone());
        let filter = &body["filterGroups"][0]["filters"][0];
        assert_eq!(filter["propertyName"], "hs_lastmodifieddate");
        assert_eq!(filter["operator"], "GTE");
        let since: i64 = filter["value"].as_str().unwrap().parse().unwrap();
        let limit = body["limit"].as_u64().unwrap() as usize;
        let after: usize = body["after"].as_str().map_or(0, |a| a.parse().unwrap());
        if after + limit > 10_000 {
            return ResponseTemplate::new(400).set_body_json(json!({
                "status": "error",
                "message": "There was a problem with the request.",
                "correlationId": "8a0d4c1e-0000-4000-8000-000000000001",
                "category": "VALIDATION_ERROR"
            }));
        }
        let mut rows: Vec<(String, i64, String)> = self
            .rows
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.1 >= since)
            .cloned()
            .collect();
        // Ascending by time; within a millisecond, descending ids.
        rows.sort_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
        let page: Vec<Value> = rows
            .iter()
            .skip(after)
            .take(limit)
            .map(|(id, ms, name)| {
                json!({
                    "id": id,
                    "properties": {
                        "name": name,
                        "hs_object_id": id,
                        "hs_lastmodifieddate": chrono::DateTime::from_timestamp_millis(*ms).unwrap().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    },
                    "createdAt": "2026-01-05T09:00:00.000Z",
                    "updatedAt": "2026-01-05T09:00:00.000Z",
                    "archived": false
                })
            })
            .collect();
        let mut answer = json!({"total": rows.len(), "results": page});
        if after + limit < rows.len() {
            let next = (after + limit).to_string();
            answer["paging"] = json!({"next": {"after": next, "link": format!("?after={next}")}});
        }
        ResponseTemplate::new(200).set_body_json(answer)
    }
}

fn connector(server: &MockServer) -> HubSpotConnector {
    HubSpotConnector::new(TOKEN)
        .unwrap()
        .base_url(&server.uri())
        .limiter(odoo_integration_connectors::RateLimiter::new(
            odoo_integration_connectors::Quota::unlimited(),
        ))
}

/// Reads everything there is now, page by page, from `cursor`.
async fn read_all(
    hs: &HubSpotConnector,
    cursor: Option<Cursor>,
) -> (Vec<(String, ClientCompany)>, Option<Cursor>) {
    let (changes, next) =
        odoo_integration_connectors::read_to_end::<ClientCompany>(hs, cursor, 100)
            .await
            .unwrap();
    let out = changes
        .into_iter()
        .map(|c| {
            let Operation::Upsert(client) = c.operation else {
                panic!("search never reports deletes")
            };
            (c.remote_id.to_string(), client)
        })
        .collect();
    (out, Some(next))
}

/// 12,000 companies, three per millisecond and a burst of 250 in one:
/// every one is read exactly once though HubSpot's search stops at
/// 10,000 results, and a later change is read on its own.
#[tokio::test]
async fn reads_past_the_ten_thousand_wall_exactly_once() {
    let server = MockServer::start().await;
    let base = 1_795_000_000_000i64;
    let mut rows: Vec<(String, i64, String)> = (0..11_750)
        .map(|i| {
            (
                format!("{}", 10_000 + i),
                base + (i / 3) as i64,
                format!("Company {i}"),
            )
        })
        .collect();
    let burst = base + 5_000;
    rows.extend((0..250).map(|i| (format!("{}", 90_000 + i), burst, format!("Burst {i}"))));
    let companies = std::sync::Arc::new(Companies::new(rows));
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/companies/search"))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ArcResponder(companies.clone()))
        .mount(&server)
        .await;
    let hs = connector(&server);
    let (read, cursor) = read_all(&hs, None).await;
    let mut count: HashMap<&str, usize> = HashMap::new();
    for (id, _) in &read {
        *count.entry(id.as_str()).or_default() += 1;
    }
    assert_eq!(count.len(), 12_000);
    assert!(count.values().all(|n| *n == 1), "a company read twice");
    let (_, acme) = read.iter().find(|(id, _)| id == "10007").unwrap();
    assert_eq!(acme.legal_name, "Company 7");
    // Nothing asked beyond the wall (the fake would have answered 400).
    let calls = companies.calls.lock().unwrap().clone();
    assert!(
        calls.len() < 140,
        "{} searches for 12,000 companies",
        calls.len()
    );
    // The burst was paged through within its millisecond, the rest by
    // starting new searches.
    assert!(
        calls
            .iter()
            .any(|c| c["after"] == "100" || c["after"] == "200")
    );
    assert!(calls.iter().all(|c| {
        c["after"]
            .as_str()
            .is_none_or(|a| a.parse::<usize>().unwrap() < 10_000)
    }));

    // A change after the end comes alone; the rest is not read again.
    companies
        .rows
        .lock()
        .unwrap()
        .push(("20001".into(), base + 9_000, "Late Ltd".into()));
    let (later, _) = read_all(&hs, cursor).await;
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].1.legal_name, "Late Ltd");
}

struct ArcResponder(std::sync::Arc<Companies>);
impl Respond for ArcResponder {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.respond(req)
    }
}

#[tokio::test]
async fn a_429_is_rate_limited_with_its_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "10")
                .set_body_json(json!({
                    "status": "error",
                    "message": "You have reached your ten_secondly_rolling limit.",
                    "errorType": "RATE_LIMIT",
                    "correlationId": "c4f1d2a0-0000-4000-8000-000000000429",
                    "policyName": "TEN_SECONDLY_ROLLING"
                })),
        )
        .mount(&server)
        .await;
    let err = Source::<ClientCompany>::read(&connector(&server), None, 100)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(10)));
    assert!(
        err.to_string()
            .contains("c4f1d2a0-0000-4000-8000-000000000429"),
        "{err}"
    );
}

#[tokio::test]
async fn errors_are_typed_keep_the_correlation_id_and_never_the_token() {
    let cases = [
        (
            401,
            json!({"status": "error", "message": "Authentication credentials not found.",
                   "correlationId": "11111111-0000-4000-8000-000000000401", "category": "INVALID_AUTHENTICATION"}),
            ConnectorErrorKind::Unauthorized,
        ),
        (
            403,
            json!({"status": "error", "message": "This app hasn't been granted all required scopes.",
                   "correlationId": "11111111-0000-4000-8000-000000000403", "category": "MISSING_SCOPES"}),
            ConnectorErrorKind::Forbidden,
        ),
        (
            400,
            json!({"status": "error", "message": "Invalid input JSON on line 1",
                   "correlationId": "11111111-0000-4000-8000-000000000400", "category": "VALIDATION_ERROR"}),
            ConnectorErrorKind::Invalid,
        ),
        (
            502,
            Value::String("<html><body><h1>502 Bad Gateway</h1></body></html>".into()),
            ConnectorErrorKind::Unavailable,
        ),
    ];
    for (status, body, kind) in cases {
        let server = MockServer::start().await;
        let template = match &body {
            Value::String(html) => {
                ResponseTemplate::new(status).set_body_raw(html.clone(), "text/html")
            }
            json => ResponseTemplate::new(status).set_body_json(json),
        };
        Mock::given(method("POST"))
            .respond_with(template)
            .mount(&server)
            .await;
        let hs = connector(&server);
        let err = Source::<ClientCompany>::read(&hs, None, 100)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{status}: {err}");
        if let Some(id) = body.get("correlationId").and_then(Value::as_str) {
            assert!(err.to_string().contains(id), "{err}");
        }
        for shown in [err.to_string(), format!("{err:?}"), format!("{hs:?}")] {
            assert!(!shown.contains(TOKEN), "{shown}");
            assert!(!shown.contains("sentinel"), "{shown}");
        }
    }
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_protocol_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("{\"results\": [", "application/json"),
        )
        .mount(&server)
        .await;
    let err = Source::<ClientCompany>::read(&connector(&server), None, 100)
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Protocol);
}

#[tokio::test]
async fn the_hubspot_source_passes_the_testkit() {
    let server = MockServer::start().await;
    let base = 1_795_000_000_000i64;
    let rows = (0..250)
        .map(|i| {
            (
                format!("{}", 500 + i),
                base + (i / 7) as i64,
                format!("Company {i}"),
            )
        })
        .collect();
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/companies/search"))
        .respond_with(ArcResponder(std::sync::Arc::new(Companies::new(rows))))
        .mount(&server)
        .await;
    odoo_integration_connectors::testkit::check_source::<ClientCompany>(&connector(&server))
        .await
        .assert_ok();
}

/// HubSpot's company batch writes over a store: upsert by a unique
/// property, update by id, archive. A company without a name is refused
/// the way HubSpot refuses a bad value: the whole batch, with one 400 that
/// does not name the input, and nothing of it written.
#[derive(Default)]
struct Writes {
    rows: Mutex<std::collections::BTreeMap<String, serde_json::Map<String, Value>>>,
    calls: Mutex<Vec<(String, usize)>>,
}

impl Respond for Writes {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let body: Value = serde_json::from_slice(&req.body).unwrap();
        let inputs = body["inputs"].as_array().unwrap().clone();
        let path = req.url.path().to_owned();
        self.calls
            .lock()
            .unwrap()
            .push((path.clone(), inputs.len()));
        let mut rows = self.rows.lock().unwrap();
        if path.ends_with("/batch/archive") {
            for i in &inputs {
                rows.remove(i["id"].as_str().unwrap());
            }
            return ResponseTemplate::new(204);
        }
        if inputs
            .iter()
            .any(|i| i["properties"]["name"].as_str() == Some(""))
        {
            return ResponseTemplate::new(400).set_body_json(json!({
                "status": "error", "category": "VALIDATION_ERROR",
                "message": "Property values were not valid: name is required",
                "correlationId": "5b5e6a57-4b6f-4a55-9d6e-2f8b7f1c0a11"}));
        }
        let (mut results, mut errors) = (Vec::new(), Vec::new());
        for input in inputs {
            let props = input["properties"].as_object().cloned().unwrap_or_default();
            let key = input["id"].as_str().unwrap().to_owned();
            if path.ends_with("/batch/upsert") {
                let prop = input["idProperty"].as_str().unwrap();
                let found = rows
                    .iter()
                    .find(|(_, r)| r.get(prop).and_then(Value::as_str) == Some(key.as_str()))
                    .map(|(id, _)| id.clone());
                let (id, new) = match found {
                    Some(id) => (id, false),
                    None => ((7_000 + rows.len()).to_string(), true),
                };
                let row = rows.entry(id.clone()).or_default();
                row.extend(props);
                results.push(json!({"id": id, "new": new, "properties": row.clone(),
                    "createdAt": "2026-11-30T10:00:00.000Z", "updatedAt": "2026-11-30T10:00:00.000Z", "archived": false}));
            } else {
                match rows.get_mut(&key) {
                    Some(row) => {
                        row.extend(props);
                        results.push(json!({"id": key, "properties": row.clone(),
                            "createdAt": "2026-11-30T10:00:00.000Z", "updatedAt": "2026-11-30T10:00:00.000Z", "archived": false}));
                    }
                    None => errors.push(json!({"status": "error", "category": "OBJECT_NOT_FOUND",
                        "message": "resource not found", "context": {"ids": [key]}})),
                }
            }
        }
        let status = if errors.is_empty() { 200 } else { 207 };
        ResponseTemplate::new(status).set_body_json(json!({
            "status": "COMPLETE", "results": results, "errors": errors, "numErrors": errors.len(),
            "startedAt": "2026-11-30T10:00:00.000Z", "completedAt": "2026-11-30T10:00:01.000Z"
        }))
    }
}

struct ArcWrites(std::sync::Arc<Writes>);
impl Respond for ArcWrites {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.0.respond(req)
    }
}

async fn write_server() -> (MockServer, std::sync::Arc<Writes>) {
    let server = MockServer::start().await;
    let writes = std::sync::Arc::new(Writes::default());
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex(
            r"^/crm/v3/objects/companies/batch/(upsert|update|archive)$",
        ))
        .and(header("authorization", format!("Bearer {TOKEN}").as_str()))
        .respond_with(ArcWrites(writes.clone()))
        .mount(&server)
        .await;
    (server, writes)
}

fn records(n: usize) -> Vec<odoo_integration_connectors::SinkRecord<ClientCompany>> {
    (0..n)
        .map(|i| {
            odoo_integration_connectors::SinkRecord::new(
                odoo_integration_model::CanonicalId::new(),
                odoo_integration_model::SystemId::odoo(),
                odoo_integration_model::RemoteId::new(i.to_string()),
                Operation::Upsert(ClientCompany {
                    legal_name: if i == 3 {
                        String::new()
                    } else {
                        format!("Client {i}")
                    },
                    website: Some(format!("https://c{i}.example")),
                    ..Default::default()
                }),
            )
        })
        .collect()
}

/// New companies are upserted by their origin key in batches of 100, a
/// replay updates the same companies, a known one is updated by id with
/// only the fields let through, a delete archives, and a company HubSpot
/// refuses fails alone: its batch, refused whole, is halved until it is
/// found, and the other 99 are written.
#[tokio::test]
async fn writes_upsert_by_key_update_by_id_and_never_duplicate() {
    use odoo_integration_connectors::{Outcome, Sink};
    let (server, writes) = write_server().await;
    let hs = connector(&server);
    let batch = records(150);
    let first = Sink::<ClientCompany>::apply(&hs, batch.clone())
        .await
        .unwrap();
    assert_eq!(first.len(), 150);
    assert!(
        matches!(&first[3], Outcome::Failed(e) if e.kind() == ConnectorErrorKind::Invalid && e.to_string().contains("name is required")),
        "{:?}",
        first[3]
    );
    let created: Vec<_> = first
        .iter()
        .filter(|o| matches!(o, Outcome::Created(_)))
        .collect();
    assert_eq!(created.len(), 149);
    // The refused batch of 100 halved, the half with the bad input first,
    // down to it alone (records 0..100: 0..50, 0..25, 0..12, 0..6, 0..3
    // written, 3..6, 3 alone refused, 4..6, 6..12, 12..25, 25..50 and
    // 50..100 written); then the second batch of 50.
    let sizes: Vec<usize> = writes.calls.lock().unwrap().iter().map(|c| c.1).collect();
    assert_eq!(
        sizes,
        [100, 50, 25, 12, 6, 3, 3, 1, 2, 6, 13, 25, 50, 50],
        "{sizes:?}"
    );
    assert_eq!(
        writes.rows.lock().unwrap()[first[0].remote_id().unwrap().as_str()]["integration_sync_id"],
        "odoo:0"
    );

    // Replayed: the same companies, updated, none created.
    let again = Sink::<ClientCompany>::apply(&hs, batch.clone())
        .await
        .unwrap();
    for (a, b) in first.iter().zip(&again) {
        if let Some(id) = a.remote_id() {
            assert!(matches!(b, Outcome::Updated(x) if x == id), "{b:?}");
        }
    }
    assert_eq!(writes.rows.lock().unwrap().len(), 149);

    // Known to HubSpot: only the website goes, by id.
    let id = first[0].remote_id().unwrap().clone();
    let mut change = batch[0].clone().with_target(id.clone()).only(["website"]);
    if let Operation::Upsert(c) = &mut change.operation {
        c.website = Some("https://new.example".into());
        c.legal_name = "Not sent".into();
    }
    let updated = Sink::<ClientCompany>::apply(&hs, vec![change])
        .await
        .unwrap();
    assert!(
        matches!(&updated[..], [Outcome::Updated(x)] if *x == id),
        "{updated:?}"
    );
    let row = writes.rows.lock().unwrap()[id.as_str()].clone();
    assert_eq!(row["website"], "https://new.example");
    assert_eq!(row["name"], "Client 0");

    // Deleted at the source: archived in HubSpot.
    let mut delete = batch[0].clone().with_target(id.clone());
    delete.operation = Operation::Delete;
    let deleted = Sink::<ClientCompany>::apply(&hs, vec![delete])
        .await
        .unwrap();
    assert!(
        matches!(&deleted[..], [Outcome::Deleted(x)] if *x == id),
        "{deleted:?}"
    );
    assert!(!writes.rows.lock().unwrap().contains_key(id.as_str()));
}

#[tokio::test]
async fn the_hubspot_sink_passes_the_testkit() {
    let (server, _) = write_server().await;
    let samples = vec![
        ClientCompany {
            legal_name: "Acme".into(),
            ..Default::default()
        },
        ClientCompany {
            legal_name: "Globex".into(),
            website: Some("https://globex.example".into()),
            ..Default::default()
        },
    ];
    odoo_integration_connectors::testkit::check_sink::<ClientCompany>(&connector(&server), samples)
        .await
        .assert_ok();
}

mod webhooks {
    use async_trait::async_trait;
    use chrono::TimeZone;
    use odoo_integration_connectors::ConnectorErrorKind;
    use odoo_integration_connectors::hubspot::{
        DedupStore, Deduplicator, EventKey, WebhookEvent, WebhookReceiver, WebhookVerifier,
    };
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    // Signatures computed independently (Python's hmac and base64) from
    // HubSpot's v3 recipe: base64(HMAC-SHA256(secret, method + uri + body + timestamp)).
    const SECRET: &str = "a1b2c3d4-e5f6-client-secret";
    const BODY: &[u8] = br#"[{"eventId":101,"subscriptionId":12345,"portalId":62515,"appId":54321,"occurredAt":1795000000000,"subscriptionType":"company.propertyChange","attemptNumber":0,"objectId":981,"propertyName":"website","propertyValue":"https://acme.example","changeSource":"CRM"},{"eventId":102,"subscriptionId":12346,"portalId":62515,"appId":54321,"occurredAt":1795000000500,"subscriptionType":"company.deletion","attemptNumber":0,"objectId":982,"changeSource":"CRM"}]"#;
    const TS: &str = "1795000060000";
    const URI: &str = "https://hooks.example.com/hubspot/webhook?portal=62515";
    const SIG: &str = "sANc3ExtgFyiyocatcrH9RuusNkqEqXGjt4+GKXeRsE=";

    fn at(ms: i64) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc.timestamp_millis_opt(ms).unwrap()
    }

    #[test]
    fn a_genuine_request_passes_and_any_change_fails() {
        let v = WebhookVerifier::new(SECRET);
        let now = at(1_795_000_090_000); // 30 s after it was sent
        v.verify("POST", URI, BODY, TS, SIG, now).unwrap();
        let mut tampered = BODY.to_vec();
        tampered[20] ^= 1;
        let bad = [
            v.verify("POST", URI, &tampered, TS, SIG, now),
            v.verify("GET", URI, BODY, TS, SIG, now),
            v.verify(
                "POST",
                "https://hooks.example.com/other",
                BODY,
                TS,
                SIG,
                now,
            ),
            v.verify("POST", URI, BODY, "1795000060001", SIG, now),
            WebhookVerifier::new("another-secret").verify("POST", URI, BODY, TS, SIG, now),
            v.verify("POST", URI, BODY, TS, "not base64!", now),
            v.verify("POST", URI, BODY, "", SIG, now),
        ];
        for r in bad {
            assert_eq!(r.unwrap_err().kind(), ConnectorErrorKind::Unauthorized);
        }
    }

    #[test]
    fn requests_older_than_five_minutes_are_refused() {
        let v = WebhookVerifier::new(SECRET);
        let sent = 1_795_000_060_000;
        assert!(
            v.verify("POST", URI, BODY, TS, SIG, at(sent + 299_000))
                .is_ok()
        );
        let late = v
            .verify("POST", URI, BODY, TS, SIG, at(sent + 301_000))
            .unwrap_err();
        assert!(late.to_string().contains("five minutes"), "{late}");
        assert!(
            v.verify("POST", URI, BODY, TS, SIG, at(sent - 301_000))
                .is_err()
        );
    }

    #[test]
    fn the_five_minutes_hold_either_way() {
        // A sender clock ahead of ours by up to five minutes is tolerated.
        let v = WebhookVerifier::new(SECRET);
        let sent = 1_795_000_060_000;
        assert!(
            v.verify("POST", URI, BODY, TS, SIG, at(sent - 299_000))
                .is_ok()
        );
        assert!(
            v.verify("POST", URI, BODY, TS, SIG, at(sent - 301_000))
                .unwrap_err()
                .to_string()
                .contains("five minutes")
        );
    }

    #[test]
    fn the_uri_is_signed_with_reserved_characters_decoded() {
        // Signed over `?next=/a:b@c`; delivered with them percent-encoded.
        let v = WebhookVerifier::new(SECRET);
        let sig = "BhALkc5eJKbgB0JWULzSrOSSpENz8lwlRmM0RhPdjSQ=";
        let encoded = "https://hooks.example.com/hubspot/webhook?next=%2Fa%3Ab%40c";
        v.verify("POST", encoded, BODY, TS, sig, at(1_795_000_090_000))
            .unwrap();
    }

    /// URIs with a `%` that is not followed by two ASCII characters: a
    /// lone `%`, one hex digit, non-hex, and a multibyte character right
    /// after it. Each is a signature mismatch, never a panic.
    const HOSTILE_URIS: &[&str] = &[
        "https://h.example/p%\u{e9}1",
        "https://h.example/p%\u{e9}",
        "https://h.example/p%1\u{e9}",
        "https://h.example/p%\u{1f600}",
        "https://h.example/p%\u{20ac}3A",
        "%",
        "%a",
        "%zz",
        "%%%",
        "%\u{e9}",
        "\u{e9}%",
        "https://h.example/p%",
        "https://h.example/p%3",
        "https://h.example/p?x=%2",
        "",
    ];

    #[test]
    fn a_uri_with_a_broken_escape_is_a_mismatch_not_a_panic() {
        let v = WebhookVerifier::new(SECRET);
        let now = at(1_795_000_090_000);
        for uri in HOSTILE_URIS {
            let err = v.verify("POST", uri, BODY, TS, SIG, now).unwrap_err();
            assert_eq!(err.kind(), ConnectorErrorKind::Unauthorized, "{uri}");
            assert!(err.message().contains("does not match"), "{uri}: {err}");
        }
    }

    #[test]
    fn a_uri_with_non_ascii_is_signed_as_is_around_the_decoded_escapes() {
        // Computed independently (Python's hmac) over
        // `https://h.example/p%é1?next=/a&q=%`: `%é1` and the trailing `%`
        // are kept, `%2f` (either case) is decoded.
        let v = WebhookVerifier::new(SECRET);
        let sig = "bGVaQPIfdrxJK4nNYW1ihqbLXYlUKfnW1LwpDv4H1BY=";
        let delivered = "https://h.example/p%\u{e9}1?next=%2fa&q=%";
        v.verify("POST", delivered, BODY, TS, sig, at(1_795_000_090_000))
            .unwrap();
    }

    /// A tiny xorshift64, so the run is the same every time without a
    /// dependency.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap()
        }
    }

    #[test]
    fn mutated_uris_never_panic() {
        const PIECES: &[&str] = &[
            "%",
            "%2",
            "%2F",
            "%2f",
            "%3A",
            "%3a",
            "%zz",
            "%\u{e9}",
            "\u{e9}",
            "\u{20ac}",
            "\u{1f600}",
            "a",
            "/",
            "?",
            "=",
            "&",
            "3",
            "F",
        ];
        let v = WebhookVerifier::new(SECRET);
        let now = at(1_795_000_090_000);
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        for round in 0..5_000 {
            let mut uri: String = URI.to_owned();
            for _ in 0..=rng.below(6) {
                let piece = PIECES[rng.below(PIECES.len())];
                // Insert at a char boundary (the URI is a &str).
                let boundaries: Vec<usize> = uri
                    .char_indices()
                    .map(|(i, _)| i)
                    .chain([uri.len()])
                    .collect();
                let at_byte = boundaries[rng.below(boundaries.len())];
                if rng.below(4) == 0 && at_byte < uri.len() {
                    // Or replace the char there.
                    let end = uri[at_byte..]
                        .chars()
                        .next()
                        .map_or(at_byte, |c| at_byte + c.len_utf8());
                    uri.replace_range(at_byte..end, piece);
                } else {
                    uri.insert_str(at_byte, piece);
                }
            }
            let result = v.verify("POST", &uri, BODY, TS, SIG, now);
            if let Err(e) = result {
                assert_eq!(
                    e.kind(),
                    ConnectorErrorKind::Unauthorized,
                    "round {round}: {uri}"
                );
            }
        }
    }

    /// HubSpot's `eventId` is not unique on its own (events about other
    /// records or properties can share it), so only the whole key says
    /// two events are the same.
    const SAME_EVENT_ID: &[u8] = br#"[
        {"eventId":500,"subscriptionType":"company.propertyChange","objectId":1,"occurredAt":1795000000000,"propertyName":"name","propertyValue":"A"},
        {"eventId":500,"subscriptionType":"company.propertyChange","objectId":2,"occurredAt":1795000000000,"propertyName":"name","propertyValue":"B"},
        {"eventId":500,"subscriptionType":"company.propertyChange","objectId":1,"occurredAt":1795000000000,"propertyName":"website","propertyValue":"https://a.example"},
        {"eventId":500,"subscriptionType":"contact.propertyChange","objectId":1,"occurredAt":1795000000000,"propertyName":"name","propertyValue":"A"},
        {"eventId":500,"subscriptionType":"company.propertyChange","objectId":1,"occurredAt":1795000000001,"propertyName":"name","propertyValue":"A2"},
        {"eventId":500,"subscriptionType":"company.propertyChange","objectId":2,"occurredAt":1795000000000,"propertyName":"name","propertyValue":"B"}
    ]"#;

    #[test]
    fn events_sharing_an_event_id_are_all_kept() {
        let events = WebhookEvent::parse_batch(SAME_EVENT_ID).unwrap();
        let mut seen = Deduplicator::new(100);
        let fresh = seen.fresh(events.clone());
        assert_eq!(
            fresh,
            events[..5],
            "only the last, a true duplicate, is dropped"
        );
        assert!(seen.fresh(events).is_empty());
    }

    /// A persistent store stand-in: the set outlives the receivers, as a
    /// database table outlives a process.
    #[derive(Clone, Default)]
    struct SharedSet {
        keys: Arc<Mutex<HashSet<EventKey>>>,
        failing_after: Option<usize>,
    }

    #[async_trait]
    impl DedupStore for SharedSet {
        async fn insert(&self, key: &EventKey) -> odoo_integration_connectors::Result<bool> {
            let mut keys = self.keys.lock().unwrap();
            if self.failing_after.is_some_and(|n| keys.len() >= n) {
                return Err(odoo_integration_connectors::ConnectorError::new(
                    ConnectorErrorKind::Store,
                    "dedup table unreachable",
                ));
            }
            Ok(keys.insert(key.clone()))
        }
        async fn remove(&self, key: &EventKey) -> odoo_integration_connectors::Result<()> {
            self.keys.lock().unwrap().remove(key);
            Ok(())
        }
    }

    const NOW: i64 = 1_795_000_090_000;

    #[tokio::test]
    async fn a_persistent_store_sees_a_replay_after_a_restart() {
        let table = SharedSet::default();
        let receiver =
            WebhookReceiver::new(WebhookVerifier::new(SECRET)).dedup_store(Arc::new(table.clone()));
        let first = receiver
            .receive("POST", URI, BODY, TS, SIG, at(NOW))
            .await
            .unwrap();
        assert_eq!(first.len(), 2);
        assert_eq!(table.keys.lock().unwrap().len(), 2);
        drop(receiver);

        // "Restart": a new receiver on the same table. The captured
        // request, replayed within the five minutes, still verifies...
        let restarted =
            WebhookReceiver::new(WebhookVerifier::new(SECRET)).dedup_store(Arc::new(table.clone()));
        let replayed = restarted
            .receive("POST", URI, BODY, TS, SIG, at(NOW + 60_000))
            .await
            .unwrap();
        assert!(replayed.is_empty(), "both events are duplicates");

        // ...whereas the default in-memory store forgot it with the
        // process: this is the limit a persistent store lifts.
        let in_memory = WebhookReceiver::new(WebhookVerifier::new(SECRET));
        assert_eq!(
            in_memory
                .receive("POST", URI, BODY, TS, SIG, at(NOW + 60_000))
                .await
                .unwrap()
                .len(),
            2
        );
        // A forged request is refused before the store is asked.
        let forged = restarted
            .receive("POST", URI, b"[]", TS, SIG, at(NOW))
            .await
            .unwrap_err();
        assert_eq!(forged.kind(), ConnectorErrorKind::Unauthorized);
    }

    #[tokio::test]
    async fn a_store_keeps_events_that_share_an_event_id() {
        let table = SharedSet::default();
        let receiver =
            WebhookReceiver::new(WebhookVerifier::new(SECRET)).dedup_store(Arc::new(table.clone()));
        let events = WebhookEvent::parse_batch(SAME_EVENT_ID).unwrap();
        let fresh = receiver.fresh(events.clone()).await.unwrap();
        assert_eq!(fresh, events[..5]);
        assert_eq!(fresh[0].event_id, fresh[1].event_id);
        assert_ne!(fresh[0].object_id, fresh[1].object_id);
        assert!(receiver.fresh(events).await.unwrap().is_empty());
        assert_eq!(table.keys.lock().unwrap().len(), 5);
    }

    #[tokio::test]
    async fn forgotten_events_and_failed_batches_are_handled_on_redelivery() {
        let events = WebhookEvent::parse_batch(SAME_EVENT_ID).unwrap();
        // The store fails on the third new key: the batch fails whole and
        // nothing of it stays remembered.
        let table = SharedSet {
            failing_after: Some(2),
            ..SharedSet::default()
        };
        let receiver =
            WebhookReceiver::new(WebhookVerifier::new(SECRET)).dedup_store(Arc::new(table.clone()));
        let err = receiver.fresh(events.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ConnectorErrorKind::Store);
        assert!(table.keys.lock().unwrap().is_empty());

        // Handling failed: forget, and the redelivery is news again.
        let receiver = WebhookReceiver::new(WebhookVerifier::new(SECRET));
        let fresh = receiver.fresh(events.clone()).await.unwrap();
        receiver.forget(&fresh[..2]).await.unwrap();
        assert_eq!(receiver.fresh(events).await.unwrap(), fresh[..2]);
    }

    #[test]
    fn a_batch_is_read_and_redelivered_events_are_handled_once() {
        let events = WebhookEvent::parse_batch(BODY).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].subscription_type, "company.propertyChange");
        assert_eq!(events[0].property_name.as_deref(), Some("website"));
        assert_eq!(events[1].object_id, 982);
        let mut seen = Deduplicator::new(2);
        assert_eq!(seen.fresh(events.clone()).len(), 2);
        assert!(seen.fresh(events.clone()).is_empty(), "a retry is not news");
        // Bounded: old ids are forgotten first.
        let more = br#"[{"eventId":1,"subscriptionType":"x","objectId":1,"occurredAt":0}]"#;
        assert_eq!(
            seen.fresh(WebhookEvent::parse_batch(more).unwrap()).len(),
            1
        );
        assert!(
            seen.fresh(vec![events[1].clone()]).is_empty(),
            "102 is remembered"
        );
        assert_eq!(
            seen.fresh(vec![events[0].clone()]).len(),
            1,
            "101 was forgotten"
        );
        assert_eq!(
            WebhookEvent::parse_batch(b"<html>502</html>")
                .unwrap_err()
                .kind(),
            ConnectorErrorKind::Protocol
        );
    }
}

/// Webhook events become changes: property changes of one company in one
/// change naming only those fields (latest value wins), a deletion a
/// delete, a creation the whole company read back; other objects skipped.
#[tokio::test]
async fn webhook_events_become_company_changes() {
    use odoo_integration_connectors::hubspot::WebhookEvent;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/crm/v3/objects/companies/batch/read"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "status": "COMPLETE",
            "results": [{"id": "983", "properties": {"name": "Initech", "website": "https://initech.example",
                "hs_lastmodifieddate": "2026-11-30T10:00:00.000Z"},
                "createdAt": "2026-11-30T10:00:00.000Z", "updatedAt": "2026-11-30T10:00:00.000Z", "archived": false}],
            "startedAt": "2026-11-30T10:00:00.000Z", "completedAt": "2026-11-30T10:00:00.100Z"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let body = br#"[
      {"eventId":1,"subscriptionType":"company.propertyChange","objectId":981,"occurredAt":1795000000000,"propertyName":"name","propertyValue":"Acme BV"},
      {"eventId":2,"subscriptionType":"company.propertyChange","objectId":981,"occurredAt":1795000000900,"propertyName":"name","propertyValue":"Acme Belgium BV"},
      {"eventId":3,"subscriptionType":"company.propertyChange","objectId":981,"occurredAt":1795000000500,"propertyName":"website","propertyValue":"https://acme.example"},
      {"eventId":4,"subscriptionType":"company.propertyChange","objectId":981,"occurredAt":1795000000600,"propertyName":"hs_analytics_source","propertyValue":"DIRECT"},
      {"eventId":5,"subscriptionType":"company.deletion","objectId":982,"occurredAt":1795000000700},
      {"eventId":6,"subscriptionType":"company.creation","objectId":983,"occurredAt":1795000000800},
      {"eventId":7,"subscriptionType":"deal.propertyChange","objectId":555,"occurredAt":1795000000800,"propertyName":"dealstage","propertyValue":"closedwon"}
    ]"#;
    let events = WebhookEvent::parse_batch(body).unwrap();
    let changes = connector(&server).company_changes(&events).await.unwrap();
    assert_eq!(changes.len(), 3, "{changes:?}");
    let acme = changes
        .iter()
        .find(|c| c.remote_id.as_str() == "981")
        .unwrap();
    let Operation::Upsert(c) = &acme.operation else {
        panic!("not an upsert")
    };
    assert_eq!(c.legal_name, "Acme Belgium BV");
    assert_eq!(c.website.as_deref(), Some("https://acme.example"));
    assert_eq!(
        acme.fields.as_deref(),
        Some(&["legal_name".to_owned(), "website".to_owned()][..])
    );
    assert_eq!(acme.at.timestamp_millis(), 1_795_000_000_900);
    let gone = changes
        .iter()
        .find(|c| c.remote_id.as_str() == "982")
        .unwrap();
    assert!(gone.operation.is_delete());
    let new = changes
        .iter()
        .find(|c| c.remote_id.as_str() == "983")
        .unwrap();
    let Operation::Upsert(c) = &new.operation else {
        panic!("not an upsert")
    };
    assert_eq!(c.legal_name, "Initech");
    // A created company comes whole: every mapped field, and none that
    // HubSpot does not hold (so it never clears the ERP's tax id).
    let fields = new.fields.as_deref().unwrap();
    assert!(fields.iter().any(|f| f == "legal_name") && fields.iter().any(|f| f == "address.city"));
    assert!(!fields.iter().any(|f| f == "tax_id" || f == "billing_terms"));
}

/// A `Retry-After` no one should wait for (a day, 31 years, `u64::MAX`
/// seconds): the call fails at once with the requested wait, nothing
/// panics, and the limiter is not paused, so later calls are not held.
#[tokio::test]
async fn an_absurd_retry_after_fails_the_call_without_pausing_or_panicking() {
    for (header, secs) in [
        ("86400", 86_400u64),
        ("1000000000", 1_000_000_000),
        ("18446744073709551615", u64::MAX),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", header))
            .mount(&server)
            .await;
        let hs = HubSpotConnector::new(TOKEN)
            .unwrap()
            .base_url(&server.uri());
        let err = Source::<ClientCompany>::read(&hs, None, 100)
            .await
            .unwrap_err();
        assert_eq!(
            err.kind(),
            ConnectorErrorKind::RateLimited,
            "{header}: {err}"
        );
        assert_eq!(
            err.retry_after(),
            Some(Duration::from_secs(secs)),
            "{header}"
        );
        let free = tokio::time::timeout(Duration::from_secs(2), hs.rate_limiter().acquire()).await;
        assert!(
            free.is_ok(),
            "{header}: the limiter holds every caller back"
        );
    }
}
