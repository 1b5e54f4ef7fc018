//! Retries, the concurrency cap, keyset and incremental streams, batched
//! writes and upserts, against wiremock and a small in-memory JSON-2
//! responder.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use odoo_integration_client::domain::DomainTree;
use odoo_integration_client::{
    ChangeCursor, Client, Credentials, Domain, ErrorKind, ExternalId, Protocol, RetryPolicy,
    Upserted,
};
use serde_json::{Map, Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::*;

fn fast_retries() -> RetryPolicy {
    RetryPolicy::new()
        .max_retries(3)
        .min_delay(Duration::from_millis(1))
        .max_delay(Duration::from_millis(5))
        .without_jitter()
}

fn client_with(server: &MockServer, policy: RetryPolicy) -> Client {
    Client::builder(server.uri())
        .database("demo")
        .credentials(Credentials::api_key("admin", API_KEY))
        .protocol(Protocol::Json2)
        .retry_policy(policy)
        .build()
        .unwrap()
}

const PROXY_502: &str = "<html><title>502 Bad Gateway</title></html>";

#[tokio::test]
async fn a_read_is_retried_after_5xx_then_succeeds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(PROXY_502, "text/html"))
        .up_to_n_times(2)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(5)))
        .mount(&server)
        .await;
    let client = client_with(&server, fast_retries());
    let n = client
        .model("res.partner")
        .search_count(Domain::all())
        .send()
        .await
        .unwrap();
    assert_eq!(n, 5);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_429_waits_at_least_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([1, 2])))
        .mount(&server)
        .await;
    // The server's wait is within what the policy accepts to wait for.
    let policy = fast_retries().max_retry_after(Duration::from_secs(5));
    let client = client_with(&server, policy);
    let started = Instant::now();
    let ids = client
        .model("res.partner")
        .search(Domain::all())
        .send()
        .await
        .unwrap();
    assert_eq!(ids, vec![1, 2]);
    // The policy's own delay is 1 ms; the server asked for 1 s.
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_plain_create_is_never_retried_unless_the_caller_opts_in() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(PROXY_502, "text/html"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([41])))
        .mount(&server)
        .await;
    let client = client_with(&server, fast_retries());
    let err = client
        .model("res.partner")
        .create(&json!({"name": "x"}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(502));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    // Opting in retries it.
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(502).set_body_raw(PROXY_502, "text/html"))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([41])))
        .mount(&server)
        .await;
    let id = client
        .model("res.partner")
        .create(&json!({"name": "x"}))
        .allow_retry()
        .send()
        .await
        .unwrap();
    assert_eq!(id, 41);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
}

#[tokio::test]
async fn retries_can_be_turned_off_and_do_not_repeat_permanent_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_raw(PROXY_502, "text/html"))
        .mount(&server)
        .await;
    let client = client_with(&server, RetryPolicy::disabled());
    assert!(
        client
            .model("res.partner")
            .search_count(Domain::all())
            .send()
            .await
            .is_err()
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(fixture("json2", "error_access").template())
        .mount(&server)
        .await;
    let client = client_with(&server, fast_retries());
    let err = client
        .model("res.partner")
        .search_count(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

/// A minimal HTTP/1.1 server on loopback that answers every POST with `7`
/// after a pause, and records how many requests it had in flight at most.
async fn counting_server(pause: Duration) -> (String, Arc<AtomicUsize>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let active = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let peak_out = peak.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (active, peak) = (active.clone(), peak.clone());
            tokio::spawn(async move {
                let mut stream = BufReader::new(stream);
                loop {
                    let mut length = 0usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                            return;
                        }
                        if line == "\r\n" {
                            break;
                        }
                        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                            length = v.trim().parse().unwrap_or(0);
                        }
                    }
                    let mut body = vec![0; length];
                    if stream.read_exact(&mut body).await.is_err() {
                        return;
                    }
                    let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(pause).await;
                    active.fetch_sub(1, Ordering::SeqCst);
                    let reply = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1\r\n\r\n7";
                    if stream.get_mut().write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, peak_out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_holds_at_the_server() {
    let (url, peak) = counting_server(Duration::from_millis(30)).await;
    let client = Client::builder(url)
        .database("demo")
        .credentials(Credentials::api_key("admin", API_KEY))
        .protocol(Protocol::Json2)
        .max_concurrent_requests(3)
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..24)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                c.model("res.partner")
                    .search_count(Domain::all())
                    .send()
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 7);
    }
    let peak = peak.load(Ordering::SeqCst);
    assert!(peak <= 3, "peak {peak}");
    assert!(
        peak >= 2,
        "the test did not run requests in parallel (peak {peak})"
    );
}

// ------------------------------------------------------------ fake JSON-2 Odoo

/// Just enough of Odoo for the bulk tests: JSON-2 `search_read`, `read`,
/// `create`, `write` on any model, with domains evaluated and `id` order,
/// plus a hook run before each `search_read` (to mutate between pages).
#[derive(Clone, Default)]
struct FakeOdoo {
    inner: Arc<Mutex<FakeState>>,
}

/// Runs before a page is served, with the page's index.
type PageHook = Box<dyn FnMut(&mut FakeState, usize) + Send>;

#[derive(Default)]
struct FakeState {
    models: BTreeMap<String, BTreeMap<i64, Map<String, Value>>>,
    next_id: i64,
    calls: Vec<(String, String, usize)>,
    before_page: Option<PageHook>,
    pages_served: usize,
}

impl FakeState {
    fn insert(&mut self, model: &str, mut vals: Map<String, Value>) -> i64 {
        self.next_id += 1;
        let id = self.next_id;
        vals.insert("id".into(), json!(id));
        vals.entry("write_date")
            .or_insert(json!("2026-11-24 10:00:00"));
        self.models
            .entry(model.to_owned())
            .or_default()
            .insert(id, vals);
        id
    }
}

fn matches(tree: &DomainTree, row: &Map<String, Value>) -> bool {
    match tree {
        DomainTree::True => true,
        DomainTree::False => false,
        DomainTree::And(parts) => parts.iter().all(|p| matches(p, row)),
        DomainTree::Or(parts) => parts.iter().any(|p| matches(p, row)),
        DomainTree::Not(p) => !matches(p, row),
        DomainTree::Leaf(c) => {
            let v = row.get(&c.field).cloned().unwrap_or(Value::Bool(false));
            let cmp = |a: &Value, b: &Value| match (a, b) {
                (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()),
                (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
                _ => None,
            };
            match c.operator.as_str() {
                "=" => v == c.value,
                "!=" => v != c.value,
                ">" => cmp(&v, &c.value) == Some(std::cmp::Ordering::Greater),
                "<" => cmp(&v, &c.value) == Some(std::cmp::Ordering::Less),
                "in" => c.value.as_array().is_some_and(|l| l.contains(&v)),
                other => panic!("fake server does not evaluate `{other}`"),
            }
        }
    }
}

impl Respond for FakeOdoo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let segments: Vec<&str> = request.url.path().split('/').collect();
        let (model, method) = (segments[3].to_owned(), segments[4].to_owned());
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let mut state = self.inner.lock().unwrap();
        let size = body
            .get("vals_list")
            .and_then(Value::as_array)
            .map_or(1, Vec::len);
        state.calls.push((model.clone(), method.clone(), size));
        let result = match method.as_str() {
            "search_read" => {
                let page = state.pages_served;
                state.pages_served += 1;
                if let Some(mut hook) = state.before_page.take() {
                    hook(&mut state, page);
                    state.before_page = Some(hook);
                }
                let tree = Domain::from_json(&body["domain"]).unwrap().to_tree();
                let mut rows: Vec<Map<String, Value>> = state
                    .models
                    .get(&model)
                    .map(|m| m.values().filter(|r| matches(&tree, r)).cloned().collect())
                    .unwrap_or_default();
                if body["order"] == "write_date asc, id asc" {
                    rows.sort_by(|a, b| {
                        (a["write_date"].as_str(), a["id"].as_i64())
                            .cmp(&(b["write_date"].as_str(), b["id"].as_i64()))
                    });
                }
                let limit = body["limit"].as_u64().map_or(rows.len(), |l| l as usize);
                json!(rows.into_iter().take(limit).collect::<Vec<_>>())
            }
            "read" => {
                let ids: Vec<i64> = serde_json::from_value(body["ids"].clone()).unwrap();
                let table = state.models.get(&model).cloned().unwrap_or_default();
                json!(
                    ids.iter()
                        .filter_map(|id| table.get(id))
                        .collect::<Vec<_>>()
                )
            }
            "fields_get" => json!({
                "name": {"type": "char", "string": "Name"},
                "ref": {"type": "char", "string": "Reference"},
                "email": {"type": "char", "string": "Email"},
                "parent_id": {"type": "many2one", "string": "Company"},
            }),
            "load" => {
                // Odoo's import: the `id` column is an external id; the
                // record and its registration are created together.
                let fields: Vec<String> = serde_json::from_value(body["fields"].clone()).unwrap();
                let rows: Vec<Vec<String>> = serde_json::from_value(body["data"].clone()).unwrap();
                let mut ids = Vec::new();
                for row in rows {
                    let mut vals = Map::new();
                    let mut xid = String::new();
                    for (f, cell) in fields.iter().zip(row) {
                        match f.as_str() {
                            "id" => xid = cell,
                            f if f.ends_with("/.id") => {
                                vals.insert(
                                    f.trim_end_matches("/.id").into(),
                                    json!(cell.parse::<i64>().unwrap()),
                                );
                            }
                            f => {
                                vals.insert(f.into(), json!(cell));
                            }
                        }
                    }
                    let (module, name) = xid.split_once('.').unwrap();
                    let id = state.insert(&model, vals);
                    let reg = json!({"module": module, "name": name, "model": model, "res_id": id});
                    state.insert("ir.model.data", reg.as_object().unwrap().clone());
                    ids.push(id);
                }
                json!({"ids": ids, "messages": []})
            }
            "create" => {
                let vals_list = body["vals_list"].as_array().unwrap().clone();
                if vals_list.iter().any(|v| v["name"] == "") {
                    return ResponseTemplate::new(422).set_body_json(json!({
                        "name": "odoo.exceptions.ValidationError",
                        "message": "The operation cannot be completed: Contacts require a name",
                        "arguments": ["The operation cannot be completed: Contacts require a name"],
                        "context": {}, "debug": ""
                    }));
                }
                let ids: Vec<i64> = vals_list
                    .into_iter()
                    .map(|v| state.insert(&model, v.as_object().unwrap().clone()))
                    .collect();
                json!(ids)
            }
            "write" => {
                let ids: Vec<i64> = serde_json::from_value(body["ids"].clone()).unwrap();
                let vals = body["vals"].as_object().unwrap().clone();
                let table = state.models.entry(model).or_default();
                for id in ids {
                    if let Some(row) = table.get_mut(&id) {
                        row.extend(vals.clone());
                    }
                }
                json!(true)
            }
            other => panic!("fake server does not implement {other}"),
        };
        ResponseTemplate::new(200).set_body_json(result)
    }
}

async fn fake_server(fake: &FakeOdoo) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path_regex("^/json/2/"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    let client = client_with(&server, fast_retries());
    (server, client)
}

#[tokio::test]
async fn a_keyset_stream_neither_skips_nor_repeats_when_records_change_between_pages() {
    let fake = FakeOdoo::default();
    {
        let mut s = fake.inner.lock().unwrap();
        for i in 0..25 {
            s.insert(
                "res.partner",
                json!({"name": format!("P{i}")})
                    .as_object()
                    .unwrap()
                    .clone(),
            );
        }
        // Before the second page: delete a record already read and one not
        // read yet, and create a new one. Offset paging would skip one.
        s.before_page = Some(Box::new(|s: &mut FakeState, page: usize| {
            if page == 1 {
                let table = s.models.get_mut("res.partner").unwrap();
                table.remove(&3);
                table.remove(&20);
                s.insert(
                    "res.partner",
                    json!({"name": "late"}).as_object().unwrap().clone(),
                );
            }
        }));
    }
    let (_server, client) = fake_server(&fake).await;
    let rows: Vec<_> = client
        .model("res.partner")
        .keyset(Domain::all())
        .fields(["name"])
        .page_size(10)
        .into_stream()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    let mut expected: Vec<i64> = (1..=26).filter(|&i| i != 20).collect();
    expected.sort_unstable();
    assert_eq!(
        ids, expected,
        "every record once, in id order, 3 read before its deletion"
    );
    let pages = fake.inner.lock().unwrap().pages_served;
    assert_eq!(pages, 3);
}

#[tokio::test]
async fn changes_since_pages_by_write_date_and_id() {
    let fake = FakeOdoo::default();
    {
        let mut s = fake.inner.lock().unwrap();
        for (i, at) in [
            "2026-11-24 09:00:00",
            "2026-11-24 10:00:00",
            "2026-11-24 10:00:00",
            "2026-11-24 10:00:00",
            "2026-11-24 11:00:00",
        ]
        .iter()
        .enumerate()
        {
            s.insert(
                "res.partner",
                json!({"name": format!("P{i}"), "write_date": at})
                    .as_object()
                    .unwrap()
                    .clone(),
            );
        }
    }
    let (_server, client) = fake_server(&fake).await;
    let start = ChangeCursor::new("2026-11-24 09:30:00", 0);
    let pages: Vec<_> = client
        .model("res.partner")
        .changes_since(start, Domain::all())
        .fields(["name"])
        .page_size(2)
        .pages()
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<Vec<i64>> = pages
        .iter()
        .map(|p| {
            p.records
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect()
        })
        .collect();
    // Three records share 10:00:00; the cursor splits them across pages
    // without losing or repeating one.
    assert_eq!(ids, vec![vec![2, 3], vec![4, 5]]);
    assert_eq!(pages[0].cursor, ChangeCursor::new("2026-11-24 10:00:00", 3));
    assert_eq!(pages[1].cursor, ChangeCursor::new("2026-11-24 11:00:00", 5));
}

#[tokio::test]
async fn a_batched_create_isolates_bad_records_and_reports_each() {
    let fake = FakeOdoo::default();
    let (_server, client) = fake_server(&fake).await;
    let values: Vec<Value> = (0..50)
        .map(|i| {
            if i == 7 || i == 31 {
                json!({"name": ""})
            } else {
                json!({"name": format!("R{i}")})
            }
        })
        .collect();
    let progress = Arc::new(Mutex::new(Vec::new()));
    let seen = progress.clone();
    let outcomes = client
        .model("res.partner")
        .create_batch(values)
        .batch_size(10)
        .in_flight(2)
        .on_progress(move |done, total| seen.lock().unwrap().push((done, total)))
        .send()
        .await;
    assert_eq!(outcomes.len(), 50);
    for (i, o) in outcomes.iter().enumerate() {
        if i == 7 || i == 31 {
            assert_eq!(o.as_ref().unwrap_err().kind(), ErrorKind::Invalid, "{i}");
        } else {
            assert!(o.is_ok(), "{i}: {o:?}");
        }
    }
    let mut ids: Vec<i64> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().copied())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 48);
    assert_eq!(fake.inner.lock().unwrap().models["res.partner"].len(), 48);
    assert_eq!(progress.lock().unwrap().last(), Some(&(50, 50)));
}

#[tokio::test]
async fn identical_write_values_share_one_call() {
    let fake = FakeOdoo::default();
    {
        let mut s = fake.inner.lock().unwrap();
        for _ in 0..5 {
            s.insert("project.task", Map::new());
        }
    }
    let (_server, client) = fake_server(&fake).await;
    let outcomes = client
        .model("project.task")
        .write_batch([
            (1, json!({"stage_id": 3})),
            (2, json!({"stage_id": 3})),
            (3, json!({"stage_id": 4})),
            (4, json!({"stage_id": 3})),
        ])
        .send()
        .await;
    assert!(outcomes.iter().all(Result::is_ok));
    let state = fake.inner.lock().unwrap();
    let writes = state.calls.iter().filter(|(_, m, _)| m == "write").count();
    assert_eq!(writes, 2);
    assert_eq!(state.models["project.task"][&4]["stage_id"], json!(3));
    assert_eq!(state.models["project.task"][&3]["stage_id"], json!(4));
}

#[tokio::test]
async fn upsert_by_external_id_twice_leaves_one_record_each() {
    let fake = FakeOdoo::default();
    let (_server, client) = fake_server(&fake).await;
    let rows = || {
        vec![
            (
                "sync_crm.acct_1".parse::<ExternalId>().unwrap(),
                json!({"name": "Northwind", "ref": "NW-001"}),
            ),
            (
                "sync_crm.acct_2".parse::<ExternalId>().unwrap(),
                json!({"name": "Contoso", "ref": "CT-002"}),
            ),
        ]
    };
    let first = client
        .model("res.partner")
        .upsert_by_external_id(rows())
        .send()
        .await
        .unwrap();
    assert!(
        first
            .iter()
            .all(|o| o.as_ref().is_ok_and(Upserted::is_created)),
        "{first:?}"
    );
    let second = client
        .model("res.partner")
        .upsert_by_external_id(rows())
        .send()
        .await
        .unwrap();
    let ids = |v: &[odoo_integration_client::Result<Upserted>]| {
        v.iter()
            .map(|o| o.as_ref().unwrap().id())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&second), ids(&first));
    assert!(
        second
            .iter()
            .all(|o| matches!(o, Ok(Upserted::Unchanged(_)))),
        "{second:?}"
    );
    // A changed value is written, not created again.
    let mut changed = rows();
    changed[0].1 = json!({"name": "Northwind Advisory", "ref": "NW-001"});
    let third = client
        .model("res.partner")
        .upsert_by_external_id(changed)
        .send()
        .await
        .unwrap();
    assert!(matches!(third[0], Ok(Upserted::Updated(id)) if id == first[0].as_ref().unwrap().id()));
    let state = fake.inner.lock().unwrap();
    assert_eq!(state.models["res.partner"].len(), 2);
    assert_eq!(state.models["ir.model.data"].len(), 2);
}

#[tokio::test]
async fn upsert_by_key_reports_ambiguity_instead_of_guessing() {
    let fake = FakeOdoo::default();
    {
        let mut s = fake.inner.lock().unwrap();
        s.insert(
            "res.partner",
            json!({"name": "A", "ref": "DUP"})
                .as_object()
                .unwrap()
                .clone(),
        );
        s.insert(
            "res.partner",
            json!({"name": "B", "ref": "DUP"})
                .as_object()
                .unwrap()
                .clone(),
        );
    }
    let (_server, client) = fake_server(&fake).await;
    let err = client
        .model("res.partner")
        .upsert_by_key("ref", &json!({"ref": "DUP", "name": "C"}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AmbiguousMatch);
    assert!(err.to_string().contains("[1, 2]"), "{err}");
    let created = client
        .model("res.partner")
        .upsert_by_key("ref", &json!({"ref": "NEW", "name": "C"}))
        .send()
        .await
        .unwrap();
    assert!(created.is_created());
    let again = client
        .model("res.partner")
        .upsert_by_key("ref", &json!({"ref": "NEW", "name": "C"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again, Upserted::Unchanged(created.id()));
    assert_eq!(fake.inner.lock().unwrap().models["res.partner"].len(), 3);
}
