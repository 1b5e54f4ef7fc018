#![allow(clippy::unwrap_used)]
//! The HubSpot fake over HTTP, driven by a minimal HTTP/1.1 client on a
//! raw TCP stream (no HTTP client crate is a dependency of the fakes). The
//! HubSpot connector against it is tested in the connectors' tests
//! (`hubspot_objects`).

use odoo_integration_fakes::hubspot::{FakeHubSpot, Fault};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The fake can be shared across tasks.
const _: fn() = || {
    fn shared<T: Send + Sync>() {}
    shared::<FakeHubSpot>();
};

/// One HTTP answer.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{} answered a body that is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes a chunked body; `None` when it breaks off.
fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..end]).ok()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(out);
        }
        if raw.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

/// Sends one request (`Connection: close`) and reads the whole answer.
async fn send(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Result<Reply, String> {
    let host = base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .map_err(|e| e.to_string())?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nAccept: application/json\r\n"
    );
    if let Some(t) = token {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or_default();
    if method != "GET" {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes).await.map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .await
        .map_err(|e| e.to_string())?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no header end")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let rest = &raw[split + 4..];
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let mut reply = Reply {
        status,
        headers,
        body: Vec::new(),
    };
    reply.body = if reply
        .header("transfer-encoding")
        .is_some_and(|v| v.contains("chunked"))
    {
        dechunk(rest).ok_or("the connection broke off mid-body")?
    } else if let Some(n) = reply.header("content-length") {
        let n: usize = n.parse().map_err(|_| "bad content-length")?;
        if rest.len() < n {
            return Err("the connection broke off mid-body".into());
        }
        rest[..n].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(reply)
}

/// A client of one fake.
struct Api<'a>(&'a FakeHubSpot);

impl Api<'_> {
    async fn get(&self, path: &str) -> Reply {
        send(&self.0.url(), "GET", path, Some(self.0.token()), None)
            .await
            .unwrap()
    }
    async fn post(&self, path: &str, body: Value) -> Reply {
        let bytes = serde_json::to_vec(&body).unwrap();
        send(
            &self.0.url(),
            "POST",
            path,
            Some(self.0.token()),
            Some(&bytes),
        )
        .await
        .unwrap()
    }
}

fn ids(answer: &Value) -> Vec<String> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

fn assert_hubspot_error(reply: &Reply, status: u16, category: &str) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    assert_eq!(body["status"], "error");
    assert_eq!(body["category"], category, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    let correlation = body["correlationId"].as_str().unwrap();
    assert_eq!(correlation.len(), 36, "{correlation}");
    assert_eq!(correlation.matches('-').count(), 4, "{correlation}");
}

// ------------------------------------------------------------------- list

/// `GET /crm/v3/objects/companies` pages by `after` through every live
/// company once, shows the properties asked for (unset ones as null), and
/// `archived=true` lists only the archived ones.
#[tokio::test]
async fn list_pages_with_after_and_hides_archived_records() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    let all: Vec<String> = (0..25)
        .map(|i| hs.insert("companies", [("name", format!("Company {i}"))]))
        .collect();
    assert_eq!(all[0], "10001");
    assert!(
        all.windows(2)
            .all(|w| w[0].parse::<u64>().unwrap() < w[1].parse::<u64>().unwrap())
    );

    let first = api
        .get("/crm/v3/objects/companies?limit=10&properties=name,domain")
        .await;
    assert_eq!(first.status, 200);
    let page = first.json();
    assert_eq!(ids(&page), all[..10]);
    let props = &page["results"][0]["properties"];
    assert_eq!(props["name"], "Company 0");
    assert_eq!(props["domain"], Value::Null);
    assert_eq!(props["hs_object_id"], all[0].as_str());
    assert_eq!(props["createdate"], "2026-01-01T00:00:00.000Z");
    assert_eq!(page["results"][0]["archived"], false);

    let mut seen = Vec::new();
    let mut path = "/crm/v3/objects/companies?limit=10".to_owned();
    loop {
        let page = api.get(&path).await.json();
        seen.extend(ids(&page));
        match page["paging"]["next"]["after"].as_str() {
            Some(after) => path = format!("/crm/v3/objects/companies?limit=10&after={after}"),
            None => break,
        }
    }
    assert_eq!(seen, all);
    // limit is capped at 100.
    assert_eq!(
        ids(&api.get("/crm/v3/objects/companies?limit=500").await.json()).len(),
        25
    );

    let archive = api
        .post(
            "/crm/v3/objects/companies/batch/archive",
            json!({"inputs": [{"id": all[3]}, {"id": all[7]}, {"id": "999999"}]}),
        )
        .await;
    assert_eq!(archive.status, 204);
    assert!(archive.body.is_empty());
    let live = api.get("/crm/v3/objects/companies?limit=100").await.json();
    assert_eq!(ids(&live).len(), 23);
    assert!(!ids(&live).contains(&all[3]));
    let archived = api
        .get("/crm/v3/objects/companies?archived=true")
        .await
        .json();
    assert_eq!(ids(&archived), vec![all[3].clone(), all[7].clone()]);
    assert_eq!(archived["results"][0]["archived"], true);
    assert!(archived["results"][0]["archivedAt"].is_string());
    assert!(hs.record("companies", &all[3]).unwrap().archived);

    // One by id; an archived one is not found.
    let one = api
        .get(&format!(
            "/crm/v3/objects/company/{}?properties=name",
            all[1]
        ))
        .await;
    assert_eq!(one.json()["properties"]["name"], "Company 1");
    assert_hubspot_error(
        &api.get(&format!("/crm/v3/objects/companies/{}", all[3]))
            .await,
        404,
        "OBJECT_NOT_FOUND",
    );

    // Batch read: the archived and unknown ids are named in a 207.
    let read = api
        .post(
            "/crm/v3/objects/companies/batch/read",
            json!({"properties": ["name"], "inputs": [{"id": all[0]}, {"id": all[3]}, {"id": "42"}]}),
        )
        .await;
    assert_eq!(read.status, 207);
    let body = read.json();
    assert_eq!(ids(&body), vec![all[0].clone()]);
    assert_eq!(body["errors"][0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(body["errors"][0]["context"]["ids"], json!([all[3], "42"]));
    assert_eq!(body["numErrors"], 1);
}

// ----------------------------------------------------------------- search

fn since_filter(value: Value) -> Value {
    json!({"filterGroups": [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": value}
    ]}]})
}

/// The incremental read the connector does: `hs_lastmodifieddate GTE`
/// (epoch ms or ISO), ascending, paged with `after`, and HubSpot's 400
/// once `after + limit` goes past 10,000 results.
#[tokio::test]
async fn search_by_modification_time_pages_and_stops_at_ten_thousand() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    let all: Vec<String> = (0..10_050)
        .map(|i| hs.insert("companies", [("name", format!("Company {i}"))]))
        .collect();
    // Modified in reverse order of creation for the first ten.
    for id in all[..10].iter().rev() {
        hs.update("companies", id, [("name", format!("Renamed {id}"))]);
    }
    let start = hs.record("companies", &all[20]).unwrap().updated_at;

    for value in [
        json!(start.timestamp_millis().to_string()),
        json!(start.timestamp_millis()),
        json!(start.to_rfc3339()),
    ] {
        let mut body = since_filter(value);
        body["sorts"] = json!([{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}]);
        body["properties"] = json!(["name", "hs_lastmodifieddate"]);
        body["limit"] = json!(100);
        let reply = api
            .post("/crm/v3/objects/companies/search", body.clone())
            .await;
        assert_eq!(reply.status, 200);
        let page = reply.json();
        assert_eq!(page["total"], 10_050 - 20 + 10); // and the renamed ten
        assert_eq!(ids(&page), all[20..120]);
        assert_eq!(page["paging"]["next"]["after"], "100");
        assert_eq!(
            page["results"][0]["properties"]["hs_lastmodifieddate"],
            page["results"][0]["updatedAt"]
        );

        body["after"] = json!("100");
        let next = api
            .post("/crm/v3/objects/companies/search", body)
            .await
            .json();
        assert_eq!(ids(&next), all[120..220]);
    }

    // The renamed ten come last, newest first when descending.
    let body = json!({
        "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "DESCENDING"}],
        "limit": 10,
    });
    let newest = api
        .post("/crm/v3/objects/companies/search", body)
        .await
        .json();
    let expected: Vec<String> = all[..10].to_vec();
    assert_eq!(ids(&newest), expected);

    // Right up to the wall is fine; one past it is refused.
    let mut body = since_filter(json!("0"));
    body["limit"] = json!(200);
    body["after"] = json!("9800");
    let last = api
        .post("/crm/v3/objects/companies/search", body.clone())
        .await;
    assert_eq!(last.status, 200);
    assert_eq!(last.json()["paging"]["next"]["after"], "10000");
    body["after"] = json!("9801");
    assert_hubspot_error(
        &api.post("/crm/v3/objects/companies/search", body.clone())
            .await,
        400,
        "VALIDATION_ERROR",
    );
    body["after"] = json!("10000");
    body["limit"] = json!(1);
    assert_hubspot_error(
        &api.post("/crm/v3/objects/companies/search", body).await,
        400,
        "VALIDATION_ERROR",
    );
    // A limit over 200 is refused too.
    assert_hubspot_error(
        &api.post("/crm/v3/objects/companies/search", json!({"limit": 201}))
            .await,
        400,
        "VALIDATION_ERROR",
    );
}

/// Filter operators, OR of groups, typed comparisons, sorts with ties by
/// id, archived records left out.
#[tokio::test]
async fn search_filters_compare_by_type_and_sort_ties_by_id() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    let deal = |name: &str, amount: &str, stage: &str| {
        hs.insert(
            "deals",
            [("dealname", name), ("amount", amount), ("dealstage", stage)],
        )
    };
    let a = deal("Alpha", "900", "closedwon");
    let b = deal("Beta", "10000", "closedwon");
    let c = deal("Gamma", "10000", "appointmentscheduled");
    let d = hs.insert("deals", [("dealname", "Delta")]);
    let e = deal("Epsilon", "50", "closedlost");
    hs.archive("deals", &e);
    let search = |body: Value| {
        let api = &api;
        async move {
            let reply = api.post("/crm/v3/objects/deals/search", body).await;
            assert_eq!(
                reply.status,
                200,
                "{}",
                String::from_utf8_lossy(&reply.body)
            );
            ids(&reply.json())
        }
    };
    let filter = |name: &str, op: &str, value: Value| json!({"filterGroups": [{"filters": [{"propertyName": name, "operator": op, "value": value}]}]});
    // Numbers as numbers: "900" < "10000" though not as text.
    assert_eq!(
        search(filter("amount", "GT", json!(1000))).await,
        vec![b.clone(), c.clone()]
    );
    assert_eq!(
        search(filter("amount", "LTE", json!("900"))).await,
        vec![a.clone()]
    );
    // Text without case.
    assert_eq!(
        search(filter("dealname", "EQ", json!("alpha"))).await,
        vec![a.clone()]
    );
    assert_eq!(
        search(filter("dealstage", "NEQ", json!("closedwon"))).await,
        vec![c.clone(), d.clone()]
    );
    let has = json!({"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "NOT_HAS_PROPERTY"}]}]});
    assert_eq!(search(has).await, vec![d.clone()]);
    let within = json!({"filterGroups": [{"filters": [
        {"propertyName": "dealstage", "operator": "IN", "values": ["closedwon", "closedlost"]},
        {"propertyName": "amount", "operator": "HAS_PROPERTY"},
    ]}]});
    assert_eq!(search(within).await, vec![a.clone(), b.clone()]);
    // OR of groups, AND within.
    let either = json!({"filterGroups": [
        {"filters": [{"propertyName": "dealname", "operator": "EQ", "value": "Delta"}]},
        {"filters": [
            {"propertyName": "amount", "operator": "EQ", "value": "10000"},
            {"propertyName": "dealstage", "operator": "EQ", "value": "appointmentscheduled"},
        ]},
    ]});
    assert_eq!(search(either).await, vec![c.clone(), d.clone()]);
    // Sorted by amount descending: ties by id; unset last.
    let sorted = json!({"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}]});
    assert_eq!(
        search(sorted).await,
        vec![b.clone(), c.clone(), a.clone(), d.clone()]
    );
    // The default answer carries the object's default properties.
    let answer = api
        .post("/crm/v3/objects/deals/search", json!({"query": "gamma"}))
        .await
        .json();
    assert_eq!(answer["total"], 1);
    assert_eq!(
        answer["results"][0]["properties"]["dealstage"],
        "appointmentscheduled"
    );
    assert!(answer.get("paging").is_none());
    // Unknown operators and shapes are 400s, never a crash.
    assert_hubspot_error(
        &api.post(
            "/crm/v3/objects/deals/search",
            filter("amount", "ABOUT", json!(1)),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    );
    assert_hubspot_error(
        &api.post(
            "/crm/v3/objects/deals/search",
            json!({"filterGroups": "all"}),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    );
}

/// A burst in one millisecond: with the tick at zero, several records
/// share a modification time; the clock then moves on as scripted.
#[tokio::test]
async fn the_fake_clock_scripts_bursts_in_one_millisecond() {
    let hs = FakeHubSpot::builder()
        .clock("2026-11-30T10:00:00.000Z".parse().unwrap())
        .start()
        .await
        .unwrap();
    let api = Api(&hs);
    let before = hs.insert("companies", [("name", "Before")]);
    hs.set_tick(Duration::ZERO);
    let burst: Vec<String> = (0..5)
        .map(|i| hs.insert("companies", [("name", format!("Burst {i}"))]))
        .collect();
    hs.set_tick(Duration::from_millis(1));
    hs.advance(Duration::from_secs(1));
    let after = hs.insert("companies", [("name", "After")]);
    let modified =
        |id: &str| hs.record("companies", id).unwrap().properties["hs_lastmodifieddate"].clone();
    assert_eq!(modified(&before), "2026-11-30T10:00:00.000Z");
    assert!(
        burst
            .iter()
            .all(|id| modified(id) == "2026-11-30T10:00:00.001Z")
    );
    assert_eq!(modified(&after), "2026-11-30T10:00:01.001Z");
    let same_ms = json!({"filterGroups": [{"filters": [
        {"propertyName": "hs_lastmodifieddate", "operator": "EQ", "value": "2026-11-30T10:00:00.001Z"}
    ]}], "sorts": [{"propertyName": "hs_lastmodifieddate", "direction": "ASCENDING"}], "limit": 2});
    let page = api
        .post("/crm/v3/objects/companies/search", same_ms)
        .await
        .json();
    assert_eq!(page["total"], 5);
    assert_eq!(ids(&page), burst[..2]);

    // Through the API too, each record written takes the next millisecond.
    let created = api
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": [{"properties": {"name": "X"}}, {"properties": {"name": "Y"}}]}),
        )
        .await
        .json();
    let stamps: Vec<&str> = created["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["createdate"].as_str().unwrap())
        .collect();
    assert_eq!(
        stamps,
        ["2026-11-30T10:00:01.002Z", "2026-11-30T10:00:01.003Z"]
    );
}

// ------------------------------------------------------------------ writes

/// Batch create (201; one input that breaks a rule refuses the whole
/// batch with a 400, nothing written), update (changes only what it is
/// sent; a broken rule refuses it whole, unknown ids answer a 207 and the
/// rest is applied), upsert by a unique property (`new` true then false on
/// replay, 400 for a property that is not unique), and the rules:
/// required, rejected values, unique values (a 409).
#[tokio::test]
async fn batch_writes_apply_whole_or_not_at_all() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    hs.required("companies", "name");
    hs.reject_when("companies", "industry", "NOT_AN_INDUSTRY");

    let created = api
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": [
                {"properties": {"name": "Acme", "domain": "acme.example", "numberofemployees": 40}},
                {"properties": {"domain": "nameless.example"}, "objectWriteTraceId": "t-1"},
                {"properties": {"name": "Globex"}},
            ]}),
        )
        .await;
    assert_hubspot_error(&created, 400, "VALIDATION_ERROR");
    let error = created.json();
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("name is required"),
        "{error}"
    );
    // Nothing of the batch was written, the valid inputs included.
    assert!(hs.records("companies").is_empty());
    let created = api
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": [
                {"properties": {"name": "Acme", "domain": "acme.example", "numberofemployees": 40}},
                {"properties": {"name": "Globex"}},
            ]}),
        )
        .await;
    assert_eq!(created.status, 201);
    let body = created.json();
    assert_eq!(body["status"], "COMPLETE");
    let made = ids(&body);
    assert_eq!(made.len(), 2);
    assert_eq!(body["results"][0]["properties"]["numberofemployees"], "40");
    assert_eq!(hs.records("companies").len(), 2);

    let all_good = api
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": [{"properties": {"name": "Initech"}}]}),
        )
        .await;
    assert_eq!(all_good.status, 201);
    assert!(all_good.json().get("errors").is_none());

    // Update: by id, only what is sent; an empty value clears; a broken
    // rule refuses the whole batch; unknown ids are named, the rest
    // applied.
    let (acme, globex) = (made[0].clone(), made[1].clone());
    let modified = hs.record("companies", &acme).unwrap().updated_at;
    let refused = api
        .post(
            "/crm/v3/objects/companies/batch/update",
            json!({"inputs": [
                {"id": acme, "properties": {"industry": "COMPUTER_SOFTWARE", "domain": ""}},
                {"id": globex, "properties": {"industry": "NOT_AN_INDUSTRY"}},
            ]}),
        )
        .await;
    assert_hubspot_error(&refused, 400, "VALIDATION_ERROR");
    assert_eq!(hs.record("companies", &acme).unwrap().updated_at, modified);
    let updated = api
        .post(
            "/crm/v3/objects/companies/batch/update",
            json!({"inputs": [
                {"id": acme, "properties": {"industry": "COMPUTER_SOFTWARE", "domain": ""}},
                {"id": "123456", "properties": {"name": "Ghost"}},
            ]}),
        )
        .await;
    assert_eq!(updated.status, 207);
    let body = updated.json();
    assert_eq!(ids(&body), vec![acme.clone()]);
    assert_eq!(
        body["results"][0]["properties"]["industry"],
        "COMPUTER_SOFTWARE"
    );
    let errors = body["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["category"], "OBJECT_NOT_FOUND");
    assert_eq!(errors[0]["context"]["ids"], json!(["123456"]));
    let record = hs.record("companies", &acme).unwrap();
    assert_eq!(record.property("name"), Some("Acme"));
    assert_eq!(record.property("domain"), None);
    assert!(record.updated_at > modified);
    assert_eq!(
        hs.record("companies", &globex)
            .unwrap()
            .property("industry"),
        None
    );
    // Writing the same values again changes nothing, not even the time.
    let same = api
        .post(
            "/crm/v3/objects/companies/batch/update",
            json!({"inputs": [{"id": acme, "properties": {"industry": "COMPUTER_SOFTWARE"}}]}),
        )
        .await;
    assert_eq!(same.status, 200);
    assert_eq!(
        hs.record("companies", &acme).unwrap().updated_at,
        record.updated_at
    );
    // Duplicate ids in one batch are refused as a whole.
    assert_hubspot_error(
        &api.post(
            "/crm/v3/objects/companies/batch/update",
            json!({"inputs": [{"id": acme, "properties": {}}, {"id": acme, "properties": {}}]}),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    );

    // Upsert: only by a unique property.
    let upsert = |inputs: Value| {
        let api = &api;
        async move {
            api.post(
                "/crm/v3/objects/companies/batch/upsert",
                json!({"inputs": inputs}),
            )
            .await
        }
    };
    let by_key = |key: &str, name: &str| json!({"idProperty": "integration_sync_id", "id": key, "properties": {"name": name}});
    assert_hubspot_error(
        &upsert(json!([by_key("odoo:1", "Umbrella")])).await,
        400,
        "VALIDATION_ERROR",
    );
    hs.unique_property("companies", "integration_sync_id");
    let first = upsert(json!([
        by_key("odoo:1", "Umbrella"),
        by_key("odoo:2", "Hooli")
    ]))
    .await;
    assert_eq!(first.status, 200);
    let first = first.json();
    assert_eq!(first["results"][0]["new"], true);
    assert_eq!(first["results"][1]["new"], true);
    assert_eq!(
        first["results"][0]["properties"]["integration_sync_id"],
        "odoo:1"
    );
    // A nameless input refuses the batch: Umbrella keeps its name.
    let refused = upsert(json!([
        by_key("odoo:1", "Umbrella Corp"),
        by_key("odoo:2", ""),
        by_key("odoo:3", "Stark"),
    ]))
    .await;
    assert_hubspot_error(&refused, 400, "VALIDATION_ERROR");
    let again = upsert(json!([
        by_key("odoo:1", "Umbrella Corp"),
        by_key("odoo:3", "Stark"),
    ]))
    .await;
    assert_eq!(again.status, 200);
    let again = again.json();
    assert_eq!(again["results"][0]["new"], false);
    assert_eq!(again["results"][0]["id"], first["results"][0]["id"]);
    assert_eq!(again["results"][0]["properties"]["name"], "Umbrella Corp");
    assert_eq!(again["results"][1]["new"], true);
    assert_eq!(
        hs.records("companies")
            .iter()
            .filter(|r| r.property("integration_sync_id").is_some())
            .count(),
        3
    );
    // Unique values stay unique: a second record with the same key is a
    // conflict.
    let clash = api
        .post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": [{"properties": {"name": "Copy", "integration_sync_id": "odoo:1"}}]}),
        )
        .await;
    assert_hubspot_error(&clash, 409, "CONFLICT");
    // Contacts upsert by email out of the box.
    let contact = api
        .post(
            "/crm/v3/objects/contacts/batch/upsert",
            json!({"inputs": [{"idProperty": "email", "id": "jane@acme.example", "properties": {"firstname": "Jane"}}]}),
        )
        .await
        .json();
    assert_eq!(contact["results"][0]["new"], true);
    assert_eq!(
        contact["results"][0]["properties"]["email"],
        "jane@acme.example"
    );
    // Batch update by a unique property.
    let by_email = api
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"idProperty": "email", "id": "jane@acme.example", "properties": {"lastname": "Doe"}}]}),
        )
        .await;
    assert_eq!(by_email.status, 200);
    // More than 100 inputs are refused.
    let many: Vec<Value> = (0..101)
        .map(|_| json!({"properties": {"name": "x"}}))
        .collect();
    assert_hubspot_error(
        &api.post(
            "/crm/v3/objects/companies/batch/create",
            json!({"inputs": many}),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    );
}

// ------------------------------------------------------------ associations

/// Associations are stored both ways with HubSpot's default type ids,
/// from `batch/create` and `associate/default`; they are read, archived,
/// and dropped with an archived record.
#[tokio::test]
async fn associations_are_stored_both_ways_with_default_types() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    let acme = hs.insert("companies", [("name", "Acme")]);
    let globex = hs.insert("companies", [("name", "Globex")]);
    let jane = hs.insert("contacts", [("email", "jane@acme.example")]);
    let joe = hs.insert("contacts", [("email", "joe@acme.example")]);

    // A deal created with its company (unlabeled and primary) and contact.
    let created = api
        .post(
            "/crm/v3/objects/deals/batch/create",
            json!({"inputs": [{
                "properties": {"dealname": "Rollout"},
                "associations": [
                    {"to": {"id": acme}, "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}
                    ]},
                    {"to": {"id": jane}, "types": [
                        {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 3}
                    ]},
                ],
            }]}),
        )
        .await;
    assert_eq!(created.status, 201);
    let deal = ids(&created.json())[0].clone();
    assert_eq!(
        hs.association_types("deals", &deal, "companies", &acme),
        vec![5, 341]
    );
    assert_eq!(
        hs.association_types("companies", &acme, "deals", &deal),
        vec![6, 342]
    );
    assert_eq!(
        hs.associations("contacts", &jane, "deals"),
        vec![deal.clone()]
    );
    assert_eq!(
        hs.association_types("contacts", &jane, "deals", &deal),
        vec![4]
    );

    // A type that does not start at deals, or a missing target, refuses
    // the batch.
    let bad = api
        .post(
            "/crm/v3/objects/deals/batch/create",
            json!({"inputs": [
                {"properties": {"dealname": "Wrong"}, "associations": [{"to": {"id": acme}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]},
                {"properties": {"dealname": "Gone"}, "associations": [{"to": {"id": "999999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 341}]}]},
            ]}),
        )
        .await;
    assert_hubspot_error(&bad, 400, "VALIDATION_ERROR");
    assert_eq!(hs.records("deals").len(), 1);

    // Default associations, v4.
    let linked = api
        .post(
            "/crm/v4/associations/contacts/companies/batch/associate/default",
            json!({"inputs": [
                {"from": {"id": jane}, "to": {"id": acme}},
                {"from": {"id": joe}, "to": {"id": acme}},
            ]}),
        )
        .await;
    assert_eq!(linked.status, 200);
    let body = linked.json();
    assert_eq!(body["status"], "COMPLETE");
    assert_eq!(
        body["results"][0]["associationSpec"]["associationTypeId"],
        279
    );
    assert_eq!(
        body["results"][1]["associationSpec"]["associationTypeId"],
        280
    );
    assert_eq!(
        hs.associations("companies", &acme, "contacts"),
        vec![jane.clone(), joe.clone()]
    );

    // Read both ways; a company without contacts is named in a 207.
    let read = api
        .post(
            "/crm/v4/associations/company/contact/batch/read",
            json!({"inputs": [{"id": acme}, {"id": globex}]}),
        )
        .await;
    assert_eq!(read.status, 207);
    let body = read.json();
    assert_eq!(body["results"][0]["from"]["id"], acme.as_str());
    let to = body["results"][0]["to"].as_array().unwrap();
    assert_eq!(to.len(), 2);
    assert_eq!(to[0]["toObjectId"], jane.as_str());
    assert_eq!(
        to[0]["associationTypes"],
        json!([{"category": "HUBSPOT_DEFINED", "typeId": 280, "label": null}])
    );
    assert_eq!(
        body["errors"][0]["context"]["fromObjectId"],
        json!([globex])
    );
    let back = api
        .post(
            "/crm/v4/associations/deals/companies/batch/read",
            json!({"inputs": [{"id": deal}]}),
        )
        .await;
    assert_eq!(back.status, 200);
    assert_eq!(
        back.json()["results"][0]["to"][0]["associationTypes"],
        json!([
            {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": "Primary"},
            {"category": "HUBSPOT_DEFINED", "typeId": 341, "label": null},
        ])
    );

    // Archive one association: gone both ways.
    let removed = api
        .post(
            "/crm/v4/associations/contacts/companies/batch/archive",
            json!({"inputs": [{"from": {"id": joe}, "to": [{"id": acme}]}]}),
        )
        .await;
    assert_eq!(removed.status, 204);
    assert_eq!(
        hs.associations("companies", &acme, "contacts"),
        vec![jane.clone()]
    );
    assert!(hs.associations("contacts", &joe, "companies").is_empty());

    // Deals and line items: 19 and 20.
    let item = hs.insert("line_items", [("name", "Workshop"), ("quantity", "2")]);
    assert!(hs.associate("line_items", &item, "deals", &deal));
    assert_eq!(
        hs.association_types("deals", &deal, "line_items", &item),
        vec![19]
    );
    assert_eq!(
        hs.association_types("line_items", &item, "deals", &deal),
        vec![20]
    );

    // Archiving a record drops its associations.
    hs.archive("companies", &acme);
    assert!(hs.associations("contacts", &jane, "companies").is_empty());
    assert!(hs.associations("deals", &deal, "companies").is_empty());
    assert_eq!(hs.associations("deals", &deal, "contacts"), vec![jane]);
}

// ---------------------------------------------------- limits, auth, faults

/// Every answer carries the budget; once spent, 429 `RATE_LIMITS` with
/// remaining 0 and no `Retry-After` unless configured; the rolling window
/// then frees the budget.
#[tokio::test]
async fn the_rate_limit_budget_is_reported_and_enforced() {
    let hs = FakeHubSpot::builder()
        .rate_limit(3, Duration::from_millis(400))
        .start()
        .await
        .unwrap();
    let api = Api(&hs);
    let mut remaining = Vec::new();
    for _ in 0..3 {
        let r = api.get("/crm/v3/objects/companies").await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("x-hubspot-ratelimit-max"), Some("3"));
        assert_eq!(
            r.header("x-hubspot-ratelimit-interval-milliseconds"),
            Some("400")
        );
        remaining.push(
            r.header("x-hubspot-ratelimit-remaining")
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(remaining, ["2", "1", "0"]);
    let refused = api
        .post("/crm/v3/objects/companies/search", json!({}))
        .await;
    assert_hubspot_error(&refused, 429, "RATE_LIMITS");
    assert_eq!(refused.json()["policyName"], "TEN_SECONDLY_ROLLING");
    assert_eq!(refused.header("x-hubspot-ratelimit-remaining"), Some("0"));
    assert_eq!(refused.header("retry-after"), None);
    tokio::time::sleep(Duration::from_millis(450)).await;
    let again = api.get("/crm/v3/objects/companies").await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("x-hubspot-ratelimit-remaining"), Some("2"));

    // The defaults, and a configured Retry-After.
    let hs = FakeHubSpot::builder()
        .rate_limit(1, Duration::from_secs(10))
        .retry_after(Some(Duration::from_millis(1500)))
        .start()
        .await
        .unwrap();
    let api = Api(&hs);
    assert_eq!(api.get("/crm/v3/objects/deals").await.status, 200);
    let refused = api.get("/crm/v3/objects/deals").await;
    assert_eq!(refused.status, 429);
    assert_eq!(refused.header("retry-after"), Some("2"));
    let defaults = FakeHubSpot::start().await.unwrap();
    let r = Api(&defaults).get("/crm/v3/objects/deals").await;
    assert_eq!(r.header("x-hubspot-ratelimit-max"), Some("190"));
    assert_eq!(r.header("x-hubspot-ratelimit-remaining"), Some("189"));
    assert_eq!(
        r.header("x-hubspot-ratelimit-interval-milliseconds"),
        Some("10000")
    );
}

/// The window runs on tokio's clock: under `tokio::time::pause` a test
/// moves it on without waiting ten seconds.
#[tokio::test(start_paused = true)]
async fn the_rate_limit_window_follows_tokio_time() {
    let hs = FakeHubSpot::builder()
        .rate_limit(2, Duration::from_secs(10))
        .start()
        .await
        .unwrap();
    let api = Api(&hs);
    assert_eq!(api.get("/crm/v3/objects/companies").await.status, 200);
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(api.get("/crm/v3/objects/companies").await.status, 200);
    assert_eq!(api.get("/crm/v3/objects/companies").await.status, 429);
    // The first request leaves the window, the second is still in it.
    tokio::time::advance(Duration::from_secs(4)).await;
    let r = api.get("/crm/v3/objects/companies").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-hubspot-ratelimit-remaining"), Some("0"));
}

/// A missing or wrong token is HubSpot's 401, spends no budget and is
/// logged; bad JSON and unknown routes are HubSpot-shaped errors.
#[tokio::test]
async fn auth_failures_and_bad_requests_are_hubspot_errors() {
    let hs = FakeHubSpot::builder()
        .token("pat-na1-right")
        .start()
        .await
        .unwrap();
    let path = "/crm/v3/objects/companies?limit=1";
    let missing = send(&hs.url(), "GET", path, None, None).await.unwrap();
    assert_hubspot_error(&missing, 401, "INVALID_AUTHENTICATION");
    let wrong = send(&hs.url(), "GET", path, Some("pat-na1-wrong"), None)
        .await
        .unwrap();
    assert_hubspot_error(&wrong, 401, "INVALID_AUTHENTICATION");
    assert_eq!(wrong.header("x-hubspot-ratelimit-remaining"), Some("190"));
    assert_ne!(
        missing.json()["correlationId"],
        wrong.json()["correlationId"]
    );
    let right = send(&hs.url(), "GET", path, Some("pat-na1-right"), None)
        .await
        .unwrap();
    assert_eq!(right.status, 200);
    let statuses: Vec<u16> = hs.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [401, 401, 200]);
    assert_eq!(hs.call_count("/crm/v3/objects/companies"), 3);

    let api = Api(&hs);
    let bad_json = send(
        &hs.url(),
        "POST",
        "/crm/v3/objects/companies/batch/create",
        Some(hs.token()),
        Some(b"{\"inputs\": ["),
    )
    .await
    .unwrap();
    assert_hubspot_error(&bad_json, 400, "VALIDATION_ERROR");
    assert!(
        bad_json.json()["message"]
            .as_str()
            .unwrap()
            .contains("Invalid input JSON")
    );
    assert_hubspot_error(
        &api.post(
            "/crm/v3/objects/companies/batch/update",
            json!({"inputs": [{"properties": {}}]}),
        )
        .await,
        400,
        "VALIDATION_ERROR",
    );
    let acme = hs.insert("companies", [("name", "Acme")]);
    let nested = api
        .post(
            "/crm/v3/objects/companies/batch/update",
            json!({"inputs": [{"id": acme, "properties": {"name": {"nested": 1}}}]}),
        )
        .await;
    assert_hubspot_error(&nested, 400, "VALIDATION_ERROR");
    assert_hubspot_error(
        &api.get("/crm/v3/objects/companies?limit=ten").await,
        400,
        "VALIDATION_ERROR",
    );
    assert_hubspot_error(&api.get("/crm/v2/owners").await, 404, "OBJECT_NOT_FOUND");
}

/// Faults: an error page and a 429 are answered without handling; a lost,
/// truncated or dropped answer comes after the write took effect, so a
/// replayed upsert finds the record instead of creating it twice.
#[tokio::test]
async fn faults_break_answers_but_not_the_store() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    hs.unique_property("companies", "integration_sync_id");
    let upsert = json!({"inputs": [{"idProperty": "integration_sync_id", "id": "odoo:7", "properties": {"name": "Acme"}}]});

    hs.fail_next(Fault::Status(503));
    let page = api.get("/crm/v3/objects/companies").await;
    assert_eq!(page.status, 503);
    assert_eq!(page.header("content-type"), Some("text/html"));
    assert!(String::from_utf8_lossy(&page.body).contains("503 Service Unavailable"));

    hs.fail_next(Fault::RateLimited {
        retry_after: Some(Duration::from_secs(3)),
    });
    let limited = api
        .post("/crm/v3/objects/companies/batch/upsert", upsert.clone())
        .await;
    assert_hubspot_error(&limited, 429, "RATE_LIMITS");
    assert_eq!(limited.header("retry-after"), Some("3"));
    assert_eq!(limited.header("x-hubspot-ratelimit-remaining"), Some("0"));
    assert!(
        hs.records("companies").is_empty(),
        "handled despite the fault"
    );

    hs.fail_next(Fault::LostAnswer);
    let lost = api
        .post("/crm/v3/objects/companies/batch/upsert", upsert.clone())
        .await;
    assert_eq!(lost.status, 502);
    assert_eq!(hs.records("companies").len(), 1, "the write took effect");
    let replay = api
        .post("/crm/v3/objects/companies/batch/upsert", upsert.clone())
        .await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.json()["results"][0]["new"], false);
    assert_eq!(hs.records("companies").len(), 1);

    hs.fail_next(Fault::Truncated);
    let cut = api.get("/crm/v3/objects/companies").await;
    assert_eq!(cut.status, 200);
    assert!(serde_json::from_slice::<Value>(&cut.body).is_err());
    assert!(!cut.body.is_empty());

    hs.fail_next(Fault::Disconnect);
    let bytes =
        serde_json::to_vec(&json!({"inputs": [{"properties": {"name": "Globex"}}]})).unwrap();
    let dropped = send(
        &hs.url(),
        "POST",
        "/crm/v3/objects/companies/batch/create",
        Some(hs.token()),
        Some(&bytes),
    )
    .await;
    assert!(dropped.is_err(), "{dropped:?}");
    assert_eq!(hs.records("companies").len(), 2, "the create took effect");

    hs.fail_next(Fault::Delay(Duration::from_millis(50)));
    let started = std::time::Instant::now();
    assert_eq!(api.get("/crm/v3/objects/companies").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(50));

    // Faults are used once each, in order; then all is well.
    assert_eq!(api.get("/crm/v3/objects/companies").await.status, 200);
    let statuses: Vec<u16> = hs.calls().iter().map(|c| c.status).collect();
    assert_eq!(statuses, [503, 429, 502, 200, 200, 200, 200, 200]);
}

/// Contacts keep their modification time in `lastmodifieddate`, as
/// HubSpot's do: a contact search on `hs_lastmodifieddate` finds nothing,
/// and answers carry `lastmodifieddate`.
#[tokio::test]
async fn contacts_are_searched_by_lastmodifieddate_only() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    let ann = hs.insert("contacts", [("firstname", "Ann")]);
    hs.insert("companies", [("name", "Acme")]);
    let search = |property: &str| {
        json!({"filterGroups": [{"filters": [
            {"propertyName": property, "operator": "GTE", "value": "0"}
        ]}], "sorts": [{"propertyName": property, "direction": "ASCENDING"}]})
    };
    let wrong = api
        .post(
            "/crm/v3/objects/contacts/search",
            search("hs_lastmodifieddate"),
        )
        .await;
    assert_eq!(wrong.status, 200);
    assert_eq!(wrong.json()["total"], 0);
    let right = api
        .post(
            "/crm/v3/objects/contacts/search",
            search("lastmodifieddate"),
        )
        .await
        .json();
    assert_eq!(ids(&right), std::slice::from_ref(&ann));
    let props = &right["results"][0]["properties"];
    assert!(props["lastmodifieddate"].is_string(), "{props}");
    assert!(props.get("hs_lastmodifieddate").is_none(), "{props}");
    // Companies the other way round.
    let companies = api
        .post(
            "/crm/v3/objects/companies/search",
            search("hs_lastmodifieddate"),
        )
        .await
        .json();
    assert_eq!(companies["total"], 1);
}

// ----------------------------------------------------------------- owners

/// `GET /crm/v3/owners` lists the active owners, paged with `after`;
/// `archived=true` lists only the archived ones (`userId` null); one owner
/// is read by id; and `hubspot_owner_id` takes only an active owner's id.
#[tokio::test]
async fn owners_are_listed_read_and_the_only_values_of_hubspot_owner_id() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    let ann = hs.add_owner("ann@firm.example", "Ann", "Peeters");
    let bram = hs.add_owner("bram@firm.example", "Bram", "De Smet");
    let chloe = hs.add_owner("chloe@firm.example", "Chloé", "Martin");
    assert!(hs.archive_owner(&bram));

    let page = api.get("/crm/v3/owners?limit=1").await;
    assert_eq!(page.status, 200);
    let body = page.json();
    assert_eq!(ids(&body), vec![ann.clone()]);
    assert_eq!(body["results"][0]["email"], "ann@firm.example");
    assert_eq!(body["results"][0]["archived"], false);
    assert!(body["results"][0]["userId"].is_number());
    let after = body["paging"]["next"]["after"].as_str().unwrap().to_owned();
    let page = api
        .get(&format!("/crm/v3/owners?limit=1&after={after}"))
        .await
        .json();
    assert_eq!(ids(&page), vec![chloe.clone()]);
    assert!(page.get("paging").is_none(), "{page}");

    let archived = api.get("/crm/v3/owners?archived=true").await.json();
    assert_eq!(ids(&archived), vec![bram.clone()]);
    assert!(archived["results"][0]["userId"].is_null());
    assert!(archived["results"][0]["userIdIncludingInactive"].is_number());
    let by_email = api
        .get("/crm/v3/owners?email=CHLOE@firm.example")
        .await
        .json();
    assert_eq!(ids(&by_email), vec![chloe.clone()]);

    let one = api.get(&format!("/crm/v3/owners/{ann}")).await;
    assert_eq!(one.json()["lastName"], "Peeters");
    // An archived owner is read only with archived=true.
    assert_hubspot_error(
        &api.get(&format!("/crm/v3/owners/{bram}")).await,
        404,
        "OBJECT_NOT_FOUND",
    );
    let gone = api
        .get(&format!("/crm/v3/owners/{bram}?archived=true"))
        .await;
    assert_eq!(gone.json()["email"], "bram@firm.example");

    // Writes: an active owner's id only; a refused input refuses the batch.
    for refused in ["123", bram.as_str()] {
        let r = api
            .post(
                "/crm/v3/objects/deals/batch/create",
                json!({"inputs": [
                    {"properties": {"dealname": "Fine", "hubspot_owner_id": ann}},
                    {"properties": {"dealname": "Bad owner", "hubspot_owner_id": refused}},
                ]}),
            )
            .await;
        assert_hubspot_error(&r, 400, "VALIDATION_ERROR");
        let message = r.json()["message"].as_str().unwrap().to_owned();
        assert!(message.contains("INVALID_OPTION"), "{message}");
        assert!(message.contains("hubspot_owner_id"), "{message}");
    }
    assert!(hs.records("deals").is_empty());
    let ok = api
        .post(
            "/crm/v3/objects/deals/batch/create",
            json!({"inputs": [{"properties": {"dealname": "Fine", "hubspot_owner_id": ann}}]}),
        )
        .await;
    assert_eq!(ok.status, 201);
    let deal = ids(&ok.json())[0].clone();
    // Clearing the owner is allowed.
    let cleared = api
        .post(
            "/crm/v3/objects/deals/batch/update",
            json!({"inputs": [{"id": deal, "properties": {"hubspot_owner_id": ""}}]}),
        )
        .await;
    assert_eq!(cleared.status, 200);
    assert_eq!(
        hs.record("deals", &deal)
            .unwrap()
            .property("hubspot_owner_id"),
        None
    );
}

/// A line item created from a product takes the product's name, price
/// and SKU unless the input gives its own.
#[tokio::test]
async fn line_items_made_from_a_product_copy_its_sku() {
    let hs = FakeHubSpot::start().await.unwrap();
    let api = Api(&hs);
    let product = hs.insert(
        "products",
        [
            ("name", "Consultant day"),
            ("price", "1150"),
            ("hs_sku", "CONS-DAY"),
        ],
    );
    let made = api
        .post(
            "/crm/v3/objects/line_items/batch/create",
            json!({"inputs": [
                {"properties": {"hs_product_id": product, "quantity": "3"}},
                {"properties": {"hs_product_id": product, "quantity": "1", "price": "990"}},
            ]}),
        )
        .await;
    assert_eq!(made.status, 201);
    let made = ids(&made.json());
    let first = hs.record("line_items", &made[0]).unwrap();
    assert_eq!(first.property("hs_sku"), Some("CONS-DAY"));
    assert_eq!(first.property("name"), Some("Consultant day"));
    assert_eq!(first.property("price"), Some("1150"));
    let second = hs.record("line_items", &made[1]).unwrap();
    assert_eq!(second.property("price"), Some("990"));
    assert_eq!(second.property("hs_sku"), Some("CONS-DAY"));
}
