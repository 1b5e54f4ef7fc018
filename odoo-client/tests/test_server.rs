//! The in-memory test server, driven by the client over all three
//! protocols: the same calls give the same answers and the same error kinds.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::Duration;

use futures::TryStreamExt;
use odoo_integration_client::test_server::{
    DATABASE, DEMO_API_KEY, DEMO_LOGIN, DEMO_PASSWORD, Fault, TestServer,
};
use odoo_integration_client::value::Command;
use odoo_integration_client::{
    Client, Credentials, Domain, ErrorKind, ExternalId, Protocol, RetryPolicy, Upserted,
};
use serde_json::{Value, json};

const PROTOCOLS: [Protocol; 3] = [Protocol::Json2, Protocol::JsonRpc, Protocol::XmlRpc];

fn fast(server: &TestServer, protocol: Protocol) -> Client {
    let credentials = match protocol {
        Protocol::Json2 => {
            Credentials::api_key("admin", odoo_integration_client::test_server::ADMIN_API_KEY)
        }
        _ => Credentials::password(
            "admin",
            odoo_integration_client::test_server::ADMIN_PASSWORD,
        ),
    };
    Client::builder(server.url())
        .database(DATABASE)
        .credentials(credentials)
        .protocol(protocol)
        .retry_policy(
            RetryPolicy::new()
                .min_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(5)),
        )
        .build()
        .unwrap()
}

#[tokio::test]
async fn crud_and_search_work_the_same_on_every_protocol() {
    let server = TestServer::start().await.unwrap();
    let mut answers = Vec::new();
    for protocol in PROTOCOLS {
        let client = server.client(protocol).unwrap();
        let partners = client.model("res.partner");
        let companies = partners
            .search_read(Domain::field("is_company").eq(true))
            .fields(["name", "country_id", "category_id", "email"])
            .order("name")
            .send()
            .await
            .unwrap();
        let names: Vec<&str> = companies
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        // The firm and its ten clients, by name.
        assert_eq!(names.len(), 11, "{protocol}: {names:?}");
        assert_eq!(
            names[..3],
            ["Acme Corporation", "Azure Interior", "Brightline Retail"],
            "{protocol}"
        );
        assert!(names.contains(&"Northwind Consulting"), "{protocol}");
        assert_eq!(companies[0]["country_id"][1], "United States");

        let id = partners
            .create(&json!({"name": format!("Via {protocol}"), "category_id": [Command::set([1])], "parent_id": companies[0]["id"]}))
            .send()
            .await
            .unwrap();
        partners
            .write([id], &json!({"email": "x@example.com"}))
            .send()
            .await
            .unwrap();
        let row = &partners
            .read([id])
            .fields(["email", "parent_id", "category_id"])
            .send()
            .await
            .unwrap()[0];
        assert_eq!(row["email"], "x@example.com");
        assert_eq!(row["parent_id"][1], "Acme Corporation");
        assert_eq!(row["category_id"], json!([1]));
        partners.unlink([id]).send().await.unwrap();
        assert!(partners.read([id]).send().await.unwrap().is_empty());

        let n = partners.search_count(Domain::all()).send().await.unwrap();
        let fields = partners
            .fields_get()
            .attributes(["type", "relation"])
            .send()
            .await
            .unwrap();
        assert_eq!(fields["parent_id"].relation.as_deref(), Some("res.partner"));
        let found = partners
            .name_search("gemini")
            .limit(5)
            .send()
            .await
            .unwrap();
        answers.push((n, found));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
}

#[tokio::test]
async fn domains_are_evaluated_with_every_kind_of_operator() {
    let server = TestServer::start().await.unwrap();
    let client = server.client(Protocol::Json2).unwrap();
    let partners = client.model("res.partner");
    let names = |rows: Vec<odoo_integration_client::value::Record>| -> Vec<String> {
        let mut v: Vec<String> = rows
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v
    };
    let acme = partners
        .search(Domain::field("name").eq("Acme Corporation"))
        .send()
        .await
        .unwrap()[0];
    let cases = [
        // As in Odoo: records whose parent is Acme or below it...
        (
            Domain::field("parent_id").child_of([acme]),
            vec!["Ada Lind", "Jon Park"],
        ),
        // ...and Acme with its descendants.
        (
            Domain::field("id").child_of([acme]),
            vec!["Acme Corporation", "Ada Lind", "Jon Park"],
        ),
        (
            Domain::field("category_id").any(Domain::field("name").ilike("vip")),
            vec!["Acme Corporation"],
        ),
        (
            Domain::field("parent_id.name").eq_ilike("gemini%"),
            vec!["Eva Maes"],
        ),
        (
            Domain::field("email").eq_like("%@acme.example") & !Domain::field("name").like("Jon"),
            vec!["Acme Corporation", "Ada Lind"],
        ),
        (
            Domain::field("customer_rank").ge(1) & Domain::field("ref").is_in(["GEM", "X"]),
            vec!["Gemini Furniture"],
        ),
        (Domain::field("phone").is_set(), vec!["Ada Lind"]),
    ];
    for (domain, expected) in cases {
        let shown = domain.to_string();
        let rows = partners
            .search_read(domain)
            .fields(["name"])
            .send()
            .await
            .unwrap();
        assert_eq!(names(rows), expected, "{shown}");
    }
    // Archived records only with active_test=false.
    let all = partners.search_count(Domain::all()).send().await.unwrap();
    let with_archived = partners
        .search_count(Domain::all())
        .context(odoo_integration_client::Context::new().active_test(false))
        .send()
        .await
        .unwrap();
    let archived = partners
        .search_count(Domain::field("active").eq(false))
        .context(odoo_integration_client::Context::new().active_test(false))
        .send()
        .await
        .unwrap();
    // The archived client and the partners of the three inactive users.
    assert_eq!(archived, 4);
    assert_eq!(with_archived, all + archived);
}

#[tokio::test]
async fn errors_have_the_same_kind_on_every_protocol() {
    let server = TestServer::start().await.unwrap();
    for protocol in PROTOCOLS {
        let client = fast(&server, protocol);
        let p = client.model("res.partner");
        let kind = |r: odoo_integration_client::Result<()>| r.unwrap_err().kind();
        assert_eq!(
            kind(p.write([999_999], &json!({"name": "x"})).send().await),
            ErrorKind::MissingRecord,
            "{protocol}"
        );
        assert_eq!(
            kind(p.create(&json!({"email": "a@b"})).send().await.map(drop)),
            ErrorKind::Invalid,
            "{protocol}"
        );
        assert_eq!(
            kind(
                p.search_read(Domain::all())
                    .fields(["no_such_field"])
                    .send()
                    .await
                    .map(drop)
            ),
            ErrorKind::InvalidRequest,
            "{protocol}"
        );
        assert_eq!(
            kind(
                client
                    .model("no.such.model")
                    .search(Domain::all())
                    .send()
                    .await
                    .map(drop)
            ),
            ErrorKind::NotFound,
            "{protocol}"
        );
        assert_eq!(
            kind(
                client
                    .call("res.partner", "no_such_method")
                    .send::<Value>()
                    .await
                    .map(drop)
            ),
            ErrorKind::NotFound,
            "{protocol}"
        );
        assert_eq!(
            kind(
                client
                    .call("res.partner", "_private")
                    .send::<Value>()
                    .await
                    .map(drop)
            ),
            ErrorKind::Forbidden,
            "{protocol}"
        );
        // A method returning None works everywhere (XML-RPC's marshalling
        // fault included).
        let id = p
            .search(Domain::field("name").eq("Jon Park"))
            .send()
            .await
            .unwrap()[0];
        client
            .call("res.partner", "action_archive")
            .ids([id])
            .send::<()>()
            .await
            .unwrap();
        client
            .call("res.partner", "action_unarchive")
            .ids([id])
            .send::<()>()
            .await
            .unwrap();

        // The demo user may not read system parameters.
        let demo = Client::builder(server.url())
            .database(DATABASE)
            .credentials(match protocol {
                Protocol::Json2 => Credentials::api_key(DEMO_LOGIN, DEMO_API_KEY),
                _ => Credentials::password(DEMO_LOGIN, DEMO_PASSWORD),
            })
            .protocol(protocol)
            .build()
            .unwrap();
        let err = demo
            .model("ir.config_parameter")
            .search_read(Domain::all())
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{protocol}: {err}");

        // Wrong credentials.
        let wrong = Client::builder(server.url())
            .database(DATABASE)
            .credentials(match protocol {
                Protocol::Json2 => Credentials::api_key("admin", "not-a-key"),
                _ => Credentials::password("admin", "wrong"),
            })
            .protocol(protocol)
            .build()
            .unwrap();
        let err = wrong
            .model("res.partner")
            .search_count(Domain::all())
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized, "{protocol}: {err}");
    }
}

#[tokio::test]
async fn injected_faults_are_retried_or_not_as_the_call_allows() {
    let server = TestServer::start().await.unwrap();
    for protocol in PROTOCOLS {
        let client = fast(&server, protocol);
        client.uid().await.unwrap();
        // Reads: 502 twice, then served.
        server.inject(Fault::BadGateway, 2);
        assert!(
            client
                .model("res.partner")
                .search_count(Domain::all())
                .send()
                .await
                .unwrap()
                > 0,
            "{protocol}"
        );
        // An Odoo exception is not retried.
        server.inject(
            Fault::Exception {
                name: "odoo.exceptions.UserError".into(),
                message: "Nope".into(),
            },
            1,
        );
        let err = client
            .model("res.partner")
            .search_count(Domain::all())
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UserError, "{protocol}");
        assert!(err.to_string().contains("Nope"));
        // A create whose reply is lost is not retried: exactly one record.
        let before = server.records("crm.lead").unwrap().len();
        server.inject(Fault::DropAfterHandling, 1);
        let err = client
            .model("crm.lead")
            .create(&json!({"name": "lost reply"}))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "{protocol}: {err}");
        assert_eq!(
            server.records("crm.lead").unwrap().len(),
            before + 1,
            "{protocol}"
        );
        let lost: Vec<_> = server
            .records("crm.lead")
            .unwrap()
            .into_iter()
            .filter(|r| r["name"] == "lost reply")
            .collect();
        for r in lost {
            server.remove("crm.lead", r["id"].as_i64().unwrap());
        }
    }
    let json2: Vec<_> = server
        .calls()
        .into_iter()
        .filter(|c| c.protocol == "json2")
        .collect();
    assert!(
        json2
            .iter()
            .any(|c| c.model == "crm.lead" && c.method == "create")
    );
}

#[tokio::test]
async fn a_keyset_stream_survives_changes_between_pages() {
    let server = TestServer::start().await.unwrap();
    for i in 0..40 {
        server
            .insert("crm.lead", json!({"name": format!("Lead {i:02}")}))
            .unwrap();
    }
    let client = server.client(Protocol::JsonRpc).unwrap();
    let all: Vec<i64> = client
        .model("crm.lead")
        .search(Domain::all())
        .send()
        .await
        .unwrap();
    let mut pages = client
        .model("crm.lead")
        .keyset(Domain::all())
        .fields(["name"])
        .page_size(10)
        .pages();
    let first = pages.try_next().await.unwrap().unwrap();
    // Between pages: delete a record already read and one not yet read,
    // and create one.
    server.remove("crm.lead", first[0]["id"].as_i64().unwrap());
    let not_yet = all[25];
    server.remove("crm.lead", not_yet);
    let late = server.insert("crm.lead", json!({"name": "late"})).unwrap();
    let mut seen: Vec<i64> = first.iter().map(|r| r["id"].as_i64().unwrap()).collect();
    while let Some(page) = pages.try_next().await.unwrap() {
        seen.extend(page.iter().map(|r| r["id"].as_i64().unwrap()));
    }
    let mut expected: Vec<i64> = all.iter().copied().filter(|&i| i != not_yet).collect();
    expected.push(late);
    expected.sort_unstable();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn upsert_by_external_id_is_idempotent_on_every_protocol() {
    let server = TestServer::start().await.unwrap();
    for protocol in PROTOCOLS {
        let client = server.client(protocol).unwrap();
        let rows = || {
            vec![
                (
                    format!("sync_{protocol}.a").parse::<ExternalId>().unwrap(),
                    json!({"name": format!("A {protocol}"), "ref": "A"}),
                ),
                (
                    format!("sync_{protocol}.b").parse::<ExternalId>().unwrap(),
                    json!({"name": format!("B {protocol}"), "ref": "B"}),
                ),
            ]
        };
        let first = client
            .model("res.partner")
            .upsert_by_external_id(rows())
            .send()
            .await
            .unwrap();
        let second = client
            .model("res.partner")
            .upsert_by_external_id(rows())
            .send()
            .await
            .unwrap();
        for (a, b) in first.iter().zip(&second) {
            let (a, b) = (a.as_ref().unwrap(), b.as_ref().unwrap());
            assert!(a.is_created(), "{protocol}");
            assert_eq!(*b, Upserted::Unchanged(a.id()), "{protocol}");
        }
    }
    // Two external ids per protocol, next to Odoo's own.
    let xmlids = server.records("ir.model.data").unwrap();
    let ours = xmlids
        .iter()
        .filter(|r| r["module"].as_str().is_some_and(|m| m.starts_with("sync_")))
        .count();
    assert_eq!(ours, 6);
}

#[tokio::test]
async fn the_concurrency_cap_holds_at_the_test_server() {
    let server = TestServer::start().await.unwrap();
    let client = Client::builder(server.url())
        .database(DATABASE)
        .credentials(Credentials::api_key(
            "admin",
            odoo_integration_client::test_server::ADMIN_API_KEY,
        ))
        .protocol(Protocol::Json2)
        .max_concurrent_requests(2)
        .build()
        .unwrap();
    server.inject(Fault::Delay(Duration::from_millis(20)), 12);
    let tasks: Vec<_> = (0..12)
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
        t.await.unwrap().unwrap();
    }
    assert!(
        server.peak_concurrency() <= 2,
        "{}",
        server.peak_concurrency()
    );
    assert_eq!(server.peak_concurrency(), 2);
}

#[tokio::test]
async fn grouped_reads_total_the_same_on_every_protocol() {
    let server = TestServer::start().await.unwrap();
    for protocol in PROTOCOLS {
        let client = server.client(protocol).unwrap();
        let groups = client
            .model("account.analytic.line")
            .read_group(Domain::field("project_id").is_set())
            .group_by(["employee_id"])
            .aggregate(["unit_amount:sum"])
            .send()
            .await
            .unwrap();
        let mut totals: Vec<(String, f64, u64)> = groups
            .iter()
            .map(|g| {
                (
                    g.keys["employee_id"][1].as_str().unwrap().to_owned(),
                    g.aggregates["unit_amount:sum"].as_f64().unwrap(),
                    g.count,
                )
            })
            .collect();
        totals.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            totals,
            vec![
                ("Marc Demo".to_owned(), 7.5, 2),
                ("Nina Patel".to_owned(), 15.25, 2)
            ],
            "{protocol}"
        );
        // The group's domain selects exactly its records.
        let marc = groups
            .iter()
            .find(|g| g.keys["employee_id"][1] == "Marc Demo")
            .unwrap();
        let domain = Domain::from_json(&marc.domain).unwrap();
        let n = client
            .model("account.analytic.line")
            .search_count(domain)
            .send()
            .await
            .unwrap();
        assert_eq!(n, 2, "{protocol}");
    }
}

/// Timing on tokio's paused clock: no test sleeps for real.
#[tokio::test(start_paused = true)]
async fn retries_wait_as_long_as_asked_on_a_paused_clock() {
    let server = TestServer::start().await.unwrap();
    let client = Client::builder(server.url())
        .database(DATABASE)
        .credentials(Credentials::api_key(
            "admin",
            odoo_integration_client::test_server::ADMIN_API_KEY,
        ))
        .protocol(Protocol::Json2)
        .timeout(Duration::from_secs(3600))
        .retry_policy(
            RetryPolicy::new()
                .max_retries(3)
                .min_delay(Duration::from_secs(1))
                .max_retry_after(Duration::from_secs(120))
                .without_jitter(),
        )
        .build()
        .unwrap();

    // 5xx, 5xx, then served: two backoff delays (1 s, then 2 s).
    server.inject(Fault::BadGateway, 2);
    let started = tokio::time::Instant::now();
    assert!(
        client
            .model("res.partner")
            .search_count(Domain::all())
            .send()
            .await
            .unwrap()
            > 0
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(4),
        "{waited:?}"
    );

    // 429 with Retry-After: 90 s, longer than any backoff delay.
    server.inject(Fault::RateLimited { retry_after: 90 }, 1);
    let started = tokio::time::Instant::now();
    client
        .model("res.partner")
        .search(Domain::all())
        .send()
        .await
        .unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(90),
        "{:?}",
        started.elapsed()
    );

    // Past the policy's ceiling (120 s): not waited for at all.
    server.inject(
        Fault::RateLimited {
            retry_after: 86_400,
        },
        1,
    );
    let started = tokio::time::Instant::now();
    let err = client
        .model("res.partner")
        .search(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(86_400)));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // More failures than retries: the last error comes back after the
    // first attempt and three retries.
    let searches = || {
        server
            .calls()
            .iter()
            .filter(|c| c.method == "search")
            .count()
    };
    let before = searches();
    server.inject(Fault::Status(503), 10);
    let err = client
        .model("res.partner")
        .search(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(searches() - before, 4);
}

#[tokio::test]
async fn a_failing_batch_creates_nothing_and_a_failing_write_changes_nothing() {
    let server = TestServer::start().await.unwrap();
    let client = server.client(Protocol::JsonRpc).unwrap();
    let before = server.records("res.partner").unwrap();
    let err = client
        .model("res.partner")
        .create_many([
            json!({"name": "ok", "child_ids": [[0, 0, {"name": "child"}]]}),
            json!({"email": "no name"}),
        ])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid);
    assert_eq!(server.records("res.partner").unwrap(), before);
    let ids: Vec<i64> = before
        .iter()
        .filter(|r| r["is_company"] == true)
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    let err = client
        .model("res.partner")
        .write(ids.clone(), &json!({"email": "x@y", "country_id": 999}))
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::MissingRecord);
    assert_eq!(server.records("res.partner").unwrap(), before);
}

#[tokio::test]
async fn an_expired_session_is_renewed_once_transparently() {
    let server = TestServer::start().await.unwrap();
    for protocol in [Protocol::JsonRpc, Protocol::XmlRpc] {
        let client = server.client(protocol).unwrap();
        client.uid().await.unwrap();
        let logins = || {
            server
                .calls()
                .iter()
                .filter(|c| c.method == "authenticate")
                .count()
        };
        let before = logins();
        server.inject(
            Fault::Exception {
                name: "odoo.http.SessionExpiredException".into(),
                message: "Session expired".into(),
            },
            1,
        );
        assert!(
            client
                .model("res.partner")
                .search_count(Domain::all())
                .send()
                .await
                .unwrap()
                > 0,
            "{protocol}"
        );
        assert_eq!(logins(), before + 1, "{protocol}: exactly one new login");
        // Refused again after the new login: the error comes back, no loop.
        server.inject(
            Fault::Exception {
                name: "odoo.exceptions.AccessDenied".into(),
                message: "Access Denied".into(),
            },
            2,
        );
        let err = client
            .model("res.partner")
            .search_count(Domain::all())
            .send()
            .await
            .unwrap_err();
        assert!(err.is_auth(), "{protocol}: {err}");
        assert_eq!(logins(), before + 2, "{protocol}");
    }
}

/// Creates go through `load`: a reply lost after Odoo created the records
/// is retried without duplicating them, and a bad row does not stop the
/// good ones.
#[tokio::test]
async fn upsert_creates_survive_a_lost_reply_and_isolate_bad_rows() {
    let server = TestServer::builder().start().await.unwrap();
    let client = server.client(Protocol::JsonRpc).unwrap();
    client.uid().await.unwrap();
    let rows = || {
        vec![
            (
                "sync_x.a".parse::<ExternalId>().unwrap(),
                json!({"name": "Alpha", "is_company": true}),
            ),
            (
                "sync_x.b".parse::<ExternalId>().unwrap(),
                json!({"name": "Beta", "is_company": true}),
            ),
            (
                "sync_x.c".parse::<ExternalId>().unwrap(),
                json!({"name": false, "is_company": true}), // name is required
            ),
        ]
    };
    // The external-id lookup and fields_get pass; the load is handled, then
    // its connection drops.
    let before = server.calls().len();
    let partners = client.model("res.partner");
    let mut faults = 0;
    let outcomes = loop {
        // Queue the drop for the load call (third call of the upsert).
        server.inject(
            odoo_integration_client::test_server::Fault::Delay(std::time::Duration::ZERO),
            2,
        );
        server.inject(
            odoo_integration_client::test_server::Fault::DropAfterHandling,
            1,
        );
        faults += 1;
        match partners.upsert_by_external_id(rows()).send().await {
            Ok(o) => break o,
            Err(e) => assert!(faults < 3, "{e}"),
        }
    };
    assert!(server.calls().len() > before + 3, "the load was sent again");
    assert!(
        outcomes[0].as_ref().is_ok_and(|o| o.is_created()),
        "{outcomes:?}"
    );
    assert!(
        outcomes[1].as_ref().is_ok_and(|o| o.is_created()),
        "{outcomes:?}"
    );
    assert!(outcomes[2].is_err(), "{outcomes:?}");
    let names: Vec<String> = server
        .records("res.partner")
        .unwrap()
        .into_iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names.iter().filter(|n| *n == "Alpha").count(), 1);
    assert_eq!(names.iter().filter(|n| *n == "Beta").count(), 1);
    let xids = server.records("ir.model.data").unwrap();
    assert_eq!(xids.iter().filter(|r| r["module"] == "sync_x").count(), 2);
    // Again: nothing new.
    let again = partners.upsert_by_external_id(rows()).send().await.unwrap();
    assert!(matches!(again[0], Ok(Upserted::Unchanged(_))), "{again:?}");
    assert_eq!(server.records("ir.model.data").unwrap().len(), xids.len());
}

/// A record with lines is created with its lines and its external id in
/// one `load`: when the reply is lost, the next upsert finds the external
/// id and writes the lines as a whole, so there is one order, one external
/// id and one set of lines, on every protocol.
#[tokio::test]
async fn an_order_with_lines_whose_reply_was_lost_exists_once_with_its_lines() {
    for protocol in PROTOCOLS {
        let server = TestServer::start().await.unwrap();
        let client = fast(&server, protocol);
        // Odoo wants a product on every order line.
        let product = server.records("product.product").unwrap()[0]["id"].clone();
        let partner = client
            .model("res.partner")
            .search(Domain::field("is_company").eq(true))
            .limit(1)
            .send()
            .await
            .unwrap()[0];
        let order = || {
            vec![(
                "sync_crm.contract_42".parse::<ExternalId>().unwrap(),
                json!({
                    "partner_id": partner,
                    "client_order_ref": "PO-42",
                    "signed_on": "2026-07-01 09:30:00",
                    "order_line": [[5, 0, 0],
                        [0, 0, {"name": "Discovery", "product_id": product, "product_uom_qty": 2.0, "price_unit": 900.0}],
                        [0, 0, {"name": "Build", "product_id": product, "product_uom_qty": 10.0, "price_unit": 1100.0}]],
                }),
            )]
        };
        let orders = client.model("sale.order");
        server.inject_on("load", Fault::DropAfterHandling, 1);
        let lost = orders.upsert_by_external_id(order()).send().await;
        assert!(lost.is_err(), "{protocol}: the reply was lost: {lost:?}");
        let again = orders.upsert_by_external_id(order()).send().await.unwrap();
        let id = again[0].as_ref().unwrap().id();

        let ours: Vec<_> = server
            .records("sale.order")
            .unwrap()
            .into_iter()
            .filter(|r| r["client_order_ref"] == "PO-42")
            .collect();
        assert_eq!(ours.len(), 1, "{protocol}: one order");
        assert_eq!(ours[0]["id"], id);
        // Loaded in UTC: the time is the one sent, not shifted by the
        // user's time zone (Europe/Brussels).
        assert_eq!(ours[0]["signed_on"], "2026-07-01 09:30:00", "{protocol}");
        let lines: Vec<_> = server
            .records("sale.order.line")
            .unwrap()
            .into_iter()
            .filter(|l| l["order_id"][0] == id)
            .collect();
        let mut names: Vec<&str> = lines.iter().map(|l| l["name"].as_str().unwrap()).collect();
        names.sort();
        assert_eq!(
            names,
            ["Build", "Discovery"],
            "{protocol}: one set of lines"
        );
        let xids: Vec<_> = server
            .records("ir.model.data")
            .unwrap()
            .into_iter()
            .filter(|x| x["module"] == "sync_crm")
            .collect();
        assert_eq!(xids.len(), 1, "{protocol}: one external id");
        assert_eq!(xids[0]["res_id"], id);
    }
}

/// `load` reads datetimes in the user's time zone unless the context says
/// otherwise, as Odoo does: the server is as strict as Odoo here.
#[tokio::test]
async fn load_reads_datetimes_in_the_context_time_zone() {
    let server = TestServer::start().await.unwrap();
    let client = fast(&server, Protocol::Json2);
    let partner = server
        .records("res.partner")
        .unwrap()
        .into_iter()
        .find(|r| r["is_company"] == true)
        .unwrap()["id"]
        .clone();
    let load = |tz: Option<&str>| {
        let mut call = client
            .call("sale.order", "load")
            .named_arg("fields", json!(["id", "partner_id/.id", "signed_on"]))
            .named_arg(
                "data",
                json!([[
                    format!("t.{}", tz.unwrap_or("user")),
                    partner,
                    "2026-01-15 12:00:00"
                ]]),
            );
        if let Some(tz) = tz {
            call = call.context(odoo_integration_client::Context::new().tz(tz));
        }
        call.send::<Value>()
    };
    let user = load(None).await.unwrap();
    let utc = load(Some("UTC")).await.unwrap();
    let read = |id: &Value| {
        let id = id["ids"][0].as_i64().unwrap();
        server
            .records("sale.order")
            .unwrap()
            .into_iter()
            .find(|r| r["id"] == id)
            .unwrap()["signed_on"]
            .clone()
    };
    assert_eq!(
        read(&user),
        "2026-01-15 11:00:00",
        "Brussels is UTC+1 in January"
    );
    assert_eq!(read(&utc), "2026-01-15 12:00:00");
}

/// The typed handle has the bulk operations too, and an upsert by external
/// id goes in rounds of `batch_size`, `in_flight` at a time, reporting
/// progress after each.
#[tokio::test]
async fn typed_bulk_operations_and_upsert_rounds() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Partner {
        id: i64,
        name: String,
    }
    impl odoo_integration_client::Model for Partner {
        const NAME: &'static str = "res.partner";
        const FIELDS: &'static [&'static str] = &["name"];
    }
    let server = TestServer::builder().start().await.unwrap();
    let client = fast(&server, Protocol::Json2);
    let partners = client.typed::<Partner>();

    let created = partners
        .create_batch((0..5).map(|i| json!({"name": format!("Batch {i}")})))
        .batch_size(2)
        .send()
        .await;
    assert!(created.iter().all(Result::is_ok), "{created:?}");
    let ids: Vec<i64> = created.into_iter().map(Result::unwrap).collect();
    let written = partners
        .write_batch(ids.iter().map(|&id| (id, json!({"ref": "B"}))))
        .send()
        .await;
    assert!(written.iter().all(Result::is_ok));
    let keyed = partners
        .upsert_by_key("ref", &json!({"ref": "KEY-1", "name": "Keyed"}))
        .send()
        .await
        .unwrap();
    assert!(keyed.is_created());

    let progress = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = progress.clone();
    let loads_before = server.calls().iter().filter(|c| c.method == "load").count();
    let rows: Vec<(ExternalId, Value)> = (0..25)
        .map(|i| {
            (
                format!("sync_x.p{i}").parse().unwrap(),
                json!({"name": format!("Upserted {i}")}),
            )
        })
        .collect();
    let outcomes = partners
        .upsert_by_external_id(rows.clone())
        .batch_size(10)
        .in_flight(2)
        .on_progress(move |done, total| seen.lock().unwrap().push((done, total)))
        .send()
        .await
        .unwrap();
    assert_eq!(outcomes.len(), 25);
    assert!(
        outcomes
            .iter()
            .all(|o| o.as_ref().is_ok_and(|u| u.is_created()))
    );
    let loads = server.calls().iter().filter(|c| c.method == "load").count() - loads_before;
    assert_eq!(loads, 3, "three rounds of at most ten");
    let mut reported = progress.lock().unwrap().clone();
    reported.sort();
    assert_eq!(reported.last(), Some(&(25, 25)));
    assert_eq!(reported.len(), 3);
    // Again: every record is there, unchanged, in input order.
    let again = partners
        .upsert_by_external_id(rows)
        .batch_size(7)
        .send()
        .await
        .unwrap();
    for (o, first) in again.iter().zip(&outcomes) {
        let o = o.as_ref().unwrap();
        assert!(matches!(o, Upserted::Unchanged(_)), "{o:?}");
        assert_eq!(o.id(), first.as_ref().unwrap().id());
    }
}

/// Odoo 16, 17 and 18 have no JSON-2: `/json/2` is their 404 page, they
/// report their own version, and `Protocol::Auto` talks JSON-RPC to them.
#[tokio::test]
async fn older_releases_have_no_json2_and_auto_falls_back_to_json_rpc() {
    use odoo_integration_client::test_server::OdooVersion;
    for (version, text) in [
        (OdooVersion::V16, "16.0"),
        (OdooVersion::V17, "17.0"),
        (OdooVersion::V18, "18.0"),
    ] {
        let server = TestServer::builder()
            .version(version)
            .with_demo_data()
            .start()
            .await
            .unwrap();
        let auto = server.client(Protocol::Auto).unwrap();
        assert_eq!(auto.server_version().await.unwrap().as_str(), text);
        let n = auto
            .model("res.partner")
            .search_count(Domain::all())
            .send()
            .await
            .unwrap();
        assert!(n > 0);
        assert_eq!(server.calls().last().map(|c| c.protocol), Some("jsonrpc"));

        let http = http();
        let raw = http
            .post(format!("{}/json/2/res.partner/search_count", server.url()))
            .header("content-type", "application/json")
            .body(json!({"domain": []}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(raw.status().as_u16(), 404, "{text}");
        assert!(raw.text().await.unwrap().contains("Error 404"));
        let json2 = server.client(Protocol::Json2).unwrap();
        assert!(
            json2
                .model("res.partner")
                .search_count(Domain::all())
                .send()
                .await
                .is_err(),
            "{text}: JSON-2 forced on a server without it fails"
        );

        let info: Value = serde_json::from_str(
            &http
                .post(format!("{}/web/webclient/version_info", server.url()))
                .header("content-type", "application/json")
                .body(
                    json!({"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}).to_string(),
                )
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        )
        .unwrap();
        assert_eq!(info["result"]["server_version"], text);
        assert_eq!(info["result"]["server_version_info"][0], version.major());
    }
    let latest = TestServer::start().await.unwrap();
    let auto = latest.client(Protocol::Auto).unwrap();
    auto.model("res.partner")
        .search_count(Domain::all())
        .send()
        .await
        .unwrap();
    assert_eq!(latest.calls().last().map(|c| c.protocol), Some("json2"));
}

fn http() -> reqwest::Client {
    odoo_integration_client::tls::ensure_crypto_provider().unwrap();
    reqwest::Client::new()
}

/// The `db` service over JSON-RPC and XML-RPC, `/web/database/list`, an
/// unknown route's HTML 404 and a JSON route called without JSON's content
/// type (415), as the recorded Odoo 19 answers them.
#[tokio::test]
async fn the_db_service_and_the_web_routes_answer_as_odoo_does() {
    let server = TestServer::start().await.unwrap();
    let http = http();
    let call = |url: String, content_type: &'static str, body: String| {
        let http = http.clone();
        async move {
            let r = http
                .post(url)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let rpc = |method: &str, args: Value| {
        json!({"jsonrpc": "2.0", "method": "call", "id": 7,
               "params": {"service": "db", "method": method, "args": args}})
        .to_string()
    };
    let url = server.url();
    for (method, args, want) in [
        ("list", json!([]), json!([DATABASE])),
        ("server_version", json!([]), json!("19.0")),
        ("db_exist", json!([DATABASE]), json!(true)),
        ("db_exist", json!(["nope"]), json!(false)),
    ] {
        let (status, body) = call(
            format!("{url}/jsonrpc"),
            "application/json",
            rpc(method, args),
        )
        .await;
        assert_eq!(status, 200);
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["result"], want, "db.{method}");
    }
    let (_, langs) = call(
        format!("{url}/jsonrpc"),
        "application/json",
        rpc("list_lang", json!([])),
    )
    .await;
    let langs: Value = serde_json::from_str(&langs).unwrap();
    assert!(
        langs["result"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l[0] == "en_US")
    );

    // XML-RPC: the same service at /xmlrpc/2/db.
    let (status, xml) = call(
        format!("{url}/xmlrpc/2/db"),
        "text/xml",
        "<?xml version=\"1.0\"?><methodCall><methodName>list</methodName><params></params></methodCall>".into(),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        xml.contains(&format!("<string>{DATABASE}</string>")),
        "{xml}"
    );

    let (status, body) = call(
        format!("{url}/web/database/list"),
        "application/json",
        json!({"jsonrpc": "2.0", "method": "call", "params": {}, "id": 93}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (body["id"].clone(), body["result"].clone()),
        (json!(93), json!([DATABASE]))
    );

    let (status, page) = call(
        format!("{url}/jsonrpc/nope"),
        "application/json",
        rpc("list", json!([])),
    )
    .await;
    assert_eq!(status, 404);
    assert!(
        page.contains("<title>Odoo</title>") && page.contains("Error 404"),
        "{page}"
    );

    let (status, page) = call(
        format!("{url}/jsonrpc"),
        "text/plain",
        rpc("list", json!([])),
    )
    .await;
    assert_eq!(status, 415);
    assert!(page.contains("415 Unsupported Media Type"), "{page}");
}

// ------------------------------------------------------------------ endpoints
//
// The web client's routes, the legacy XML-RPC route, malformed envelopes,
// Odoo's business-rule errors and grouped reads, each as a real Odoo 19
// answers it (the expected values are those of the recorded exchanges).

/// A raw HTTP answer: status, `Set-Cookie` values, body as JSON (or the
/// text as a JSON string).
struct Answer {
    status: u16,
    cookies: Vec<String>,
    content_type: String,
    body: Value,
}

async fn send_raw(request: reqwest::RequestBuilder) -> Answer {
    let r = request.send().await.unwrap();
    let status = r.status().as_u16();
    let cookies = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let content_type = r
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let text = r.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Answer {
        status,
        cookies,
        content_type,
        body,
    }
}

/// POSTs a JSON-RPC envelope (`params`, id 7) to `path`, with a session
/// cookie when given.
async fn web_post(server: &TestServer, path: &str, params: Value, sid: Option<&str>) -> Answer {
    let mut request = http()
        .post(format!("{}{path}", server.url()))
        .header("content-type", "application/json")
        .body(json!({"jsonrpc": "2.0", "method": "call", "params": params, "id": 7}).to_string());
    if let Some(sid) = sid {
        request = request.header("cookie", format!("session_id={sid}"));
    }
    send_raw(request).await
}

/// The session id a `Set-Cookie: session_id=...` sets.
fn session_id(cookie: &str) -> String {
    cookie
        .strip_prefix("session_id=")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

fn assert_session_expired(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 200, "{what}");
    assert_eq!(answer.body["id"], Value::Null, "{what}: {}", answer.body);
    assert_eq!(answer.body["error"]["code"], 100, "{what}");
    assert_eq!(
        answer.body["error"]["message"], "Odoo Session Expired",
        "{what}"
    );
    assert_eq!(
        answer.body["error"]["data"]["name"], "odoo.http.SessionExpiredException",
        "{what}"
    );
    assert_eq!(
        answer.body["error"]["data"]["message"], "Session expired",
        "{what}"
    );
    assert!(answer.body.get("result").is_none(), "{what}");
}

fn assert_odoo_error(answer: &Answer, name: &str, message: &str) {
    assert_eq!(answer.status, 200, "{}", answer.body);
    let error = &answer.body["error"];
    assert_eq!(error["code"], 0, "{}", answer.body);
    assert_eq!(error["message"], "Odoo Server Error");
    assert_eq!(error["data"]["name"], name, "{}", answer.body);
    assert_eq!(error["data"]["message"], message, "{}", answer.body);
    assert_eq!(error["data"]["arguments"], json!([message]));
    assert_eq!(error["data"]["context"], json!({}));
}

/// `/web/session/authenticate`, `get_session_info`, `destroy` and
/// `/web/dataset/call_kw` with the session cookie, as recorded
/// (`web_session_*.json`, `web_dataset_call_kw_*.json`).
#[tokio::test]
async fn web_sessions_log_in_call_and_expire_as_odoo_does() {
    let server = TestServer::start().await.unwrap();
    let login =
        |db: &str, password: &str| json!({"db": db, "login": "admin", "password": password});

    // Wrong password: AccessDenied without a traceback, and no cookie.
    let wrong = web_post(
        &server,
        "/web/session/authenticate",
        login(DATABASE, "wrong-password"),
        None,
    )
    .await;
    assert_odoo_error(&wrong, "odoo.exceptions.AccessDenied", "Access Denied");
    assert_eq!(
        wrong.body["error"]["data"]["debug"],
        "odoo.exceptions.AccessDenied: Access Denied\n"
    );
    assert_eq!(wrong.body["id"], 7);
    assert!(wrong.cookies.is_empty(), "{:?}", wrong.cookies);
    // The API key is no password for an interactive login.
    let key = web_post(
        &server,
        "/web/session/authenticate",
        login(
            DATABASE,
            odoo_integration_client::test_server::ADMIN_API_KEY,
        ),
        None,
    )
    .await;
    assert_odoo_error(&key, "odoo.exceptions.AccessDenied", "Access Denied");
    // Wrong database: AccessError.
    let nodb = web_post(
        &server,
        "/web/session/authenticate",
        login("no_such_db", "admin"),
        None,
    )
    .await;
    assert_odoo_error(&nodb, "odoo.exceptions.AccessError", "Database not found.");
    // A missing parameter is the controller's TypeError.
    let missing = web_post(
        &server,
        "/web/session/authenticate",
        json!({"db": DATABASE, "login": "admin"}),
        None,
    )
    .await;
    assert_odoo_error(
        &missing,
        "builtins.TypeError",
        "Session.authenticate() missing 1 required positional argument: 'password'",
    );

    // Success: the session info, and the cookie twice.
    let ok = web_post(
        &server,
        "/web/session/authenticate",
        login(DATABASE, "admin"),
        None,
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.content_type, "application/json; charset=utf-8");
    let info = &ok.body["result"];
    assert_eq!(ok.body["id"], 7);
    assert_eq!(info["uid"], 2);
    assert_eq!(info["is_admin"], true);
    assert_eq!(info["is_system"], true);
    assert_eq!(info["db"], DATABASE);
    assert_eq!(info["username"], "admin");
    assert_eq!(info["server_version"], "19.0");
    assert_eq!(
        info["server_version_info"],
        json!([19, 0, 0, "final", 0, ""])
    );
    assert_eq!(
        info["user_context"],
        json!({"lang": "en_US", "tz": "Europe/Brussels", "uid": 2})
    );
    for key in [
        "is_public",
        "is_internal_user",
        "registry_hash",
        "user_settings",
        "support_url",
        "name",
        "partner_id",
        "partner_display_name",
        "web.base.url",
        "currencies",
        "user_companies",
        "view_info",
        "storeData",
    ] {
        assert!(
            info.get(key).is_some(),
            "session info without {key}: {info}"
        );
    }
    assert_eq!(ok.cookies.len(), 2, "{:?}", ok.cookies);
    assert_eq!(ok.cookies[0], ok.cookies[1]);
    assert!(ok.cookies[0].starts_with("session_id="));
    assert!(ok.cookies[0].contains("Max-Age=604800; HttpOnly; Path=/"));
    let sid = session_id(&ok.cookies[0]);
    assert!(!format!("{server:?}").contains(&sid));

    // get_session_info with the cookie: the same info, the cookie again.
    let again = web_post(
        &server,
        "/web/session/get_session_info",
        json!({}),
        Some(&sid),
    )
    .await;
    assert_eq!(again.body["result"]["uid"], 2);
    assert_eq!(again.cookies.len(), 1);
    assert_eq!(session_id(&again.cookies[0]), sid);

    // call_kw, with and without the model/method path.
    let rows = web_post(
        &server,
        "/web/dataset/call_kw/res.partner/search_read",
        json!({"model": "res.partner", "method": "search_read",
               "args": [[["is_company", "=", true]]],
               "kwargs": {"fields": ["name", "country_id"], "limit": 2, "order": "id", "context": {"lang": "en_US"}}}),
        Some(&sid),
    )
    .await;
    assert_eq!(rows.status, 200);
    let rows = rows.body["result"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].as_object().unwrap().keys().collect::<Vec<_>>(),
        ["country_id", "id", "name"]
    );
    let count = web_post(
        &server,
        "/web/dataset/call_kw",
        json!({"model": "res.partner", "method": "search_count", "args": [[["is_company", "=", true]]], "kwargs": {}}),
        Some(&sid),
    )
    .await;
    assert_eq!(count.body["result"], 11);
    assert_eq!(
        server
            .calls()
            .last()
            .map(|c| (c.protocol, c.model.clone(), c.method.clone())),
        Some(("web", "res.partner".to_owned(), "search_count".to_owned()))
    );

    // web_search_read: {"length", "records"} with related records read.
    let page = web_post(
        &server,
        "/web/dataset/call_kw/res.partner/web_search_read",
        json!({"model": "res.partner", "method": "web_search_read", "args": [],
               "kwargs": {"domain": [["is_company", "=", true]],
                          "specification": {"name": {},
                                            "country_id": {"fields": {"display_name": {}, "code": {}}},
                                            "category_id": {"fields": {"display_name": {}}},
                                            "parent_id": {}},
                          "limit": 2, "order": "id"}}),
        Some(&sid),
    )
    .await;
    let page = &page.body["result"];
    assert_eq!(page["length"], 11, "{page}"); // the firm and its ten clients
    let records = page["records"].as_array().unwrap();
    assert_eq!(records.len(), 2);
    let acme = records
        .iter()
        .find(|r| r["name"] == "Acme Corporation")
        .unwrap();
    assert_eq!(
        acme["country_id"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["code", "display_name", "id"]
    );
    assert_eq!(acme["country_id"]["display_name"], "United States");
    assert_eq!(acme["country_id"]["code"], "US");
    let tags = acme["category_id"].as_array().unwrap();
    assert!(!tags.is_empty());
    assert!(
        tags.iter()
            .all(|t| t["id"].is_i64() && t["display_name"].is_string())
    );
    // A many2one without `fields` is its id (or false).
    assert_eq!(acme["parent_id"], false);

    // Errors over call_kw: as execute_kw's, with the request's id.
    let ada = web_post(
        &server,
        "/web/dataset/call_kw",
        json!({"model": "res.partner", "method": "search", "args": [[["name", "=", "Ada Lind"]]], "kwargs": {}}),
        Some(&sid),
    )
    .await
    .body["result"][0]
        .as_i64()
        .unwrap();
    let loop_ = web_post(
        &server,
        "/web/dataset/call_kw/res.partner/write",
        json!({"model": "res.partner", "method": "write", "args": [[ada], {"parent_id": ada}], "kwargs": {}}),
        Some(&sid),
    )
    .await;
    assert_odoo_error(
        &loop_,
        "odoo.exceptions.ValidationError",
        "You cannot create recursive Partner hierarchies.",
    );
    assert_eq!(loop_.body["id"], 7);
    let gone = web_post(
        &server,
        "/web/dataset/call_kw/res.partner/write",
        json!({"model": "res.partner", "method": "write", "args": [[999_999], {"name": "x"}], "kwargs": {}}),
        Some(&sid),
    )
    .await;
    assert_odoo_error(
        &gone,
        "odoo.exceptions.MissingError",
        "Record does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)",
    );
    let unknown = web_post(
        &server,
        "/web/dataset/call_kw",
        json!({"model": "no.such.model", "method": "search", "args": [[]], "kwargs": {}}),
        Some(&sid),
    )
    .await;
    assert_odoo_error(&unknown, "builtins.KeyError", "no.such.model");
    let no_kwargs = web_post(
        &server,
        "/web/dataset/call_kw",
        json!({"model": "res.partner", "method": "search", "args": [[]]}),
        Some(&sid),
    )
    .await;
    assert_odoo_error(
        &no_kwargs,
        "builtins.TypeError",
        "DataSet.call_kw() missing 1 required positional argument: 'kwargs'",
    );

    // Without a session, with an unknown one: Session Expired, id null,
    // before the request is even read.
    let search =
        json!({"model": "res.partner", "method": "search", "args": [[]], "kwargs": {"limit": 1}});
    let none = web_post(
        &server,
        "/web/dataset/call_kw/res.partner/search",
        search.clone(),
        None,
    )
    .await;
    assert_session_expired(&none, "no session");
    let bogus = web_post(
        &server,
        "/web/dataset/call_kw/res.partner/search",
        search.clone(),
        Some("0123abcd"),
    )
    .await;
    assert_session_expired(&bogus, "unknown session");
    let unread = send_raw(
        http()
            .post(format!("{}/web/dataset/call_kw", server.url()))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_session_expired(&unread, "no session, bad body");
    let info = web_post(&server, "/web/session/get_session_info", json!({}), None).await;
    assert_session_expired(&info, "get_session_info without a session");

    // destroy: no result key; the cookie is replaced; the session is gone.
    let out = web_post(&server, "/web/session/destroy", json!({}), Some(&sid)).await;
    assert_eq!(out.body, json!({"jsonrpc": "2.0", "id": 7}));
    assert!(
        out.cookies
            .iter()
            .any(|c| c.starts_with("cids=;") && c.contains("Max-Age=0"))
    );
    let renewed = out
        .cookies
        .iter()
        .find(|c| c.starts_with("session_id="))
        .unwrap();
    assert_ne!(session_id(renewed), sid);
    let after = web_post(
        &server,
        "/web/dataset/call_kw/res.partner/search",
        search,
        Some(&sid),
    )
    .await;
    assert_session_expired(&after, "after destroy");
}

/// JSON-2 with a session cookie: only with a browser's `Sec-Fetch-*`
/// headers, and never with another database's header.
#[tokio::test]
async fn json2_takes_a_session_cookie_only_as_odoo_does() {
    let server = TestServer::start().await.unwrap();
    let ok = web_post(
        &server,
        "/web/session/authenticate",
        json!({"db": DATABASE, "login": "admin", "password": "admin"}),
        None,
    )
    .await;
    let sid = session_id(&ok.cookies[0]);
    let url = format!("{}/json/2/res.partner/search_count", server.url());
    let call = || {
        http()
            .post(&url)
            .header("content-type", "application/json")
            .header("cookie", format!("session_id={sid}"))
            .body(r#"{"domain": []}"#)
    };
    let bare = send_raw(call()).await;
    assert_eq!(bare.status, 401);
    assert_eq!(bare.body["name"], "werkzeug.exceptions.Unauthorized");
    assert_eq!(
        bare.body["message"],
        "Missing \"Authorization\" or Sec-headers for interactive usage."
    );
    assert_eq!(
        bare.body["arguments"],
        json!([
            "Missing \"Authorization\" or Sec-headers for interactive usage.",
            401
        ])
    );
    let browser = send_raw(
        call()
            .header("sec-fetch-dest", "document")
            .header("sec-fetch-mode", "navigate")
            .header("sec-fetch-site", "same-origin")
            .header("sec-fetch-user", "?1"),
    )
    .await;
    assert_eq!(browser.status, 200, "{}", browser.body);
    assert!(
        browser.body.as_u64().is_some_and(|n| n > 0),
        "{}",
        browser.body
    );
    let conflict = send_raw(call().header("x-odoo-database", "other_db").header(
        "authorization",
        format!(
            "bearer {}",
            odoo_integration_client::test_server::ADMIN_API_KEY
        ),
    ))
    .await;
    assert_eq!(conflict.status, 403);
    assert!(conflict.content_type.starts_with("text/html"));
    assert!(
        conflict
            .body
            .as_str()
            .unwrap()
            .contains("Cannot use both the session_id cookie and the x-odoo-database header.")
    );
}

/// The JSON-2 answers to requests that are not a model call
/// (`json2_error_*.json`).
#[tokio::test]
async fn json2_refuses_what_odoo_refuses() {
    let server = TestServer::start().await.unwrap();
    let key = format!(
        "bearer {}",
        odoo_integration_client::test_server::ADMIN_API_KEY
    );
    let post = |path: &str, body: &str| {
        http()
            .post(format!("{}{path}", server.url()))
            .header("content-type", "application/json")
            .header("authorization", key.clone())
            .body(body.to_owned())
    };
    let did_you_mean = "Did you mean POST /json/2/<model>/<method>?";
    for (what, answer) in [
        (
            "GET",
            send_raw(
                http()
                    .get(format!("{}/json/2/res.partner/search_read", server.url()))
                    .header("authorization", key.clone()),
            )
            .await,
        ),
        ("root", send_raw(post("/json/2", "{}")).await),
        (
            "deeper",
            send_raw(post("/json/2/res.partner/search/x", "{}")).await,
        ),
    ] {
        assert_eq!(answer.status, 404, "{what}");
        assert_eq!(
            answer.body["name"], "werkzeug.exceptions.NotFound",
            "{what}"
        );
        assert_eq!(answer.body["message"], did_you_mean, "{what}");
        assert_eq!(
            answer.body["arguments"],
            json!([did_you_mean, 404]),
            "{what}"
        );
    }
    // A body that is not an object is ignored: the domain is missing.
    let array = send_raw(post(
        "/json/2/res.partner/search",
        r#"[[["is_company", "=", true]]]"#,
    ))
    .await;
    assert_eq!(array.status, 422);
    assert_eq!(
        array.body["name"],
        "werkzeug.exceptions.UnprocessableEntity"
    );
    assert_eq!(
        array.body["message"],
        "missing a required argument: 'domain'"
    );
    assert_eq!(
        array.body["arguments"],
        json!(["missing a required argument: 'domain'", 422])
    );
    // ids on a model method.
    let ids = send_raw(post(
        "/json/2/res.partner/create",
        r#"{"ids": [1], "vals_list": [{"name": "x"}]}"#,
    ))
    .await;
    assert_eq!(ids.status, 422);
    assert_eq!(
        ids.body["message"],
        "cannot call res.partner.create with ids"
    );
    // A database that does not exist: werkzeug's page, no JSON.
    let nodb = send_raw(
        post("/json/2/res.partner/search_count", r#"{"domain": []}"#)
            .header("x-odoo-database", "no_such_db"),
    )
    .await;
    assert_eq!(nodb.status, 404);
    assert!(nodb.content_type.starts_with("text/html"));
    assert!(
        nodb.body
            .as_str()
            .unwrap()
            .contains("No database is selected")
    );
    // No key.
    let anonymous = send_raw(
        http()
            .post(format!("{}/json/2/res.partner/search_count", server.url()))
            .header("content-type", "application/json")
            .body(r#"{"domain": []}"#),
    )
    .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(
        anonymous.body["arguments"],
        json!([
            "User not authenticated, use an API Key with a Bearer Authorization header.",
            401
        ])
    );
    // web_search_read is a model method like any.
    let page = send_raw(post(
        "/json/2/res.partner/web_search_read",
        r#"{"domain": [["is_company", "=", true]], "specification": {"name": {}}, "limit": 1}"#,
    ))
    .await;
    assert_eq!(page.status, 200);
    // The firm and its ten clients.
    assert_eq!(page.body["length"], 11);
    assert_eq!(
        page.body["records"][0].as_object().unwrap().len(),
        2,
        "{}",
        page.body
    );
    // /json/version is /web/version.
    let version = send_raw(http().get(format!("{}/json/version", server.url()))).await;
    assert_eq!(
        version.body,
        json!({"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"})
    );
    assert!(version.cookies[0].starts_with("session_id="));
}

/// The faultCode and faultString of an XML-RPC answer: `("int", "2")`,
/// `("string", "AccessDenied")`, ...
fn fault(xml: &str) -> Option<(String, String, String)> {
    let value = |name: &str| -> Option<(String, String)> {
        let at = xml.find(&format!("<name>{name}</name>"))?;
        let rest = &xml[at..];
        let open = rest.find("<value><")? + "<value><".len();
        let tag_end = open + rest[open..].find('>')?;
        let tag = &rest[open..tag_end];
        let close = rest.find(&format!("</{tag}>"))?;
        let text = rest[tag_end + 1..close]
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
        Some((tag.to_owned(), text))
    };
    let (code_type, code) = value("faultCode")?;
    let (_, string) = value("faultString").unwrap_or_default();
    Some((code_type, code, string))
}

fn xml_call(method: &str, params: &[&str]) -> String {
    let params: String = params
        .iter()
        .map(|p| format!("<param><value>{p}</value></param>"))
        .collect();
    format!(
        "<?xml version=\"1.0\"?><methodCall><methodName>{method}</methodName><params>{params}</params></methodCall>"
    )
}

async fn xml_post(server: &TestServer, path: &str, body: String) -> String {
    let r = http()
        .post(format!("{}{path}", server.url()))
        .header("content-type", "text/xml")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.text().await.unwrap()
}

/// The legacy `/xmlrpc/<service>` route: string fault codes
/// (`xmlrpc_legacy_*.json`); `/xmlrpc/2` keeps int ones.
#[tokio::test]
async fn legacy_xmlrpc_faults_have_string_codes() {
    let server = TestServer::start().await.unwrap();
    let db = format!("<string>{DATABASE}</string>");
    let execute = |uid: &str, password: &str, model: &str, method: &str, args: &str| {
        xml_call(
            "execute_kw",
            &[
                &db,
                &format!("<int>{uid}</int>"),
                &format!("<string>{password}</string>"),
                &format!("<string>{model}</string>"),
                &format!("<string>{method}</string>"),
                args,
            ],
        )
    };
    let admin_unlink = execute(
        "2",
        "admin",
        "res.users",
        "unlink",
        "<array><data><value><array><data><value><int>2</int></value></data></array></value></data></array>",
    );
    let admin_message = "You cannot delete the admin user because it is utilized in various places (such as security configurations,...). Instead, archive it.";
    assert_eq!(
        fault(&xml_post(&server, "/xmlrpc/object", admin_unlink.clone()).await),
        Some((
            "string".into(),
            format!("warning -- UserError\n\n{admin_message}"),
            String::new()
        ))
    );
    assert_eq!(
        fault(&xml_post(&server, "/xmlrpc/2/object", admin_unlink).await),
        Some(("int".into(), "2".into(), admin_message.into()))
    );
    let empty_search = "<array><data><value><array><data></data></array></value></data></array>";
    let denied = execute("2", "wrong-password", "res.partner", "search", empty_search);
    assert_eq!(
        fault(&xml_post(&server, "/xmlrpc/object", denied.clone()).await),
        Some((
            "string".into(),
            "AccessDenied".into(),
            "Access Denied".into()
        ))
    );
    assert_eq!(
        fault(&xml_post(&server, "/xmlrpc/2/object", denied).await),
        Some(("int".into(), "3".into(), "Access Denied".into()))
    );
    let missing = execute(
        "2",
        "admin",
        "res.partner",
        "write",
        "<array><data><value><array><data><value><int>999999</int></value></data></array></value><value><struct><member><name>name</name><value><string>x</string></value></member></struct></value></data></array>",
    );
    assert_eq!(
        fault(&xml_post(&server, "/xmlrpc/object", missing).await),
        Some((
            "string".into(),
            "warning -- MissingError\n\nRecord does not exist or has been deleted.\n(Record: res.partner(999999,), User: 2)".into(),
            String::new()
        ))
    );
    let private = execute("2", "admin", "res.partner", "_private_thing", empty_search);
    assert_eq!(
        fault(&xml_post(&server, "/xmlrpc/object", private).await),
        Some((
            "string".into(),
            "warning -- AccessError\n\nPrivate methods (such as 'res.partner._private_thing') cannot be called remotely.".into(),
            String::new()
        ))
    );
    // Any other exception: its message as the code, the traceback as the
    // string.
    let (kind, code, traceback) = fault(
        &xml_post(
            &server,
            "/xmlrpc/object",
            execute("2", "admin", "res.partner", "no_such_method", empty_search),
        )
        .await,
    )
    .unwrap();
    assert_eq!(kind, "string");
    assert_eq!(
        code,
        "The method 'res.partner.no_such_method' does not exist"
    );
    assert!(
        traceback.starts_with("Traceback (most recent call last):"),
        "{traceback}"
    );
    let (kind, _, traceback) = fault(
        &xml_post(
            &server,
            "/xmlrpc/object",
            "<?xml version='1.0'?><methodCall><methodName>execute_kw</methodName><params>".into(),
        )
        .await,
    )
    .unwrap();
    assert_eq!(kind, "string");
    assert!(traceback.contains("ExpatError"), "{traceback}");
    // Calls that work answer as on /xmlrpc/2.
    let version = xml_post(&server, "/xmlrpc/common", xml_call("version", &[])).await;
    assert!(version.contains("<string>19.0</string>"), "{version}");
    assert!(fault(&version).is_none());
}

/// `POST /jsonrpc` with envelopes Odoo's controller refuses
/// (`jsonrpc_error_missing_params.json`, `jsonrpc_error_invalid_json.json`).
#[tokio::test]
async fn malformed_json_rpc_envelopes_get_odoos_errors() {
    let server = TestServer::start().await.unwrap();
    let rpc = |params: Value| web_post(&server, "/jsonrpc", params, None);
    assert_odoo_error(
        &rpc(json!({"service": "common", "method": "version"})).await,
        "builtins.TypeError",
        "JSONRPC.jsonrpc() missing 1 required positional argument: 'args'",
    );
    let nothing = rpc(json!({})).await;
    assert_odoo_error(
        &nothing,
        "builtins.TypeError",
        "JSONRPC.jsonrpc() missing 3 required positional arguments: 'service', 'method', and 'args'",
    );
    assert_eq!(nothing.body["id"], 7);
    assert_odoo_error(
        &rpc(json!(5)).await,
        "builtins.TypeError",
        "'int' object is not iterable",
    );
    // Extra parameters are ignored.
    let extra = rpc(json!({"service": "common", "method": "version", "args": [], "x": 1})).await;
    assert_eq!(extra.body["result"]["server_version"], "19.0");
    for (body, text) in [
        (
            "{\"jsonrpc\": \"2.0\", \"method\": \"call\", \"params\": {",
            "Invalid JSON data",
        ),
        ("[1, 2]", "Invalid JSON-RPC data"),
    ] {
        let answer = send_raw(
            http()
                .post(format!("{}/jsonrpc", server.url()))
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
        assert_eq!(answer.status, 400);
        assert_eq!(answer.body, json!(text));
        assert!(answer.content_type.starts_with("text/html"));
    }
    // The services check their arguments as Python does.
    let call = |service: &str, method: &str, args: Value| {
        rpc(json!({"service": service, "method": method, "args": args}))
    };
    assert_odoo_error(
        &call("common", "version", json!([1])).await,
        "builtins.TypeError",
        "exp_version() takes 0 positional arguments but 1 was given",
    );
    assert_odoo_error(
        &call("common", "login", json!([DATABASE, "admin"])).await,
        "builtins.TypeError",
        "exp_login() missing 1 required positional argument: 'password'",
    );
    assert_eq!(
        call("common", "about", json!([true])).await.body["result"],
        json!(["See http://openerp.com", "19.0"])
    );
    assert_odoo_error(
        &call("object", "execute_kw", json!([DATABASE, 2, "admin"])).await,
        "builtins.ValueError",
        "not enough values to unpack (expected at least 5, got 3)",
    );
    assert_odoo_error(
        &call(
            "object",
            "execute_kw",
            json!([DATABASE, "x", "admin", "res.partner", "search", [[]]]),
        )
        .await,
        "builtins.ValueError",
        "invalid literal for int() with base 10: 'x'",
    );
    assert_odoo_error(
        &call(
            "object",
            "no_such",
            json!([DATABASE, 2, "admin", "res.partner", "search"]),
        )
        .await,
        "builtins.NameError",
        "Method not available no_such",
    );
    assert_odoo_error(
        &call("db", "no_such", json!([])).await,
        "builtins.KeyError",
        "Method not found: no_such",
    );
    assert_odoo_error(
        &call(
            "object",
            "execute_kw",
            json!(["no_such_db", 2, "admin", "res.partner", "search", [[]]]),
        )
        .await,
        "psycopg2.OperationalError",
        "connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  database \"no_such_db\" does not exist\n",
    );
    // object.execute: positional arguments, no keywords.
    let positional = call(
        "object",
        "execute",
        json!([
            DATABASE,
            2,
            "admin",
            "res.partner",
            "search_count",
            [["is_company", "=", true]]
        ]),
    )
    .await;
    assert_eq!(positional.body["result"], 11);
    // A method called without its required argument.
    assert_odoo_error(
        &call(
            "object",
            "execute_kw",
            json!([DATABASE, 2, "admin", "res.partner", "search", []]),
        )
        .await,
        "builtins.TypeError",
        "BaseModel.search() missing 1 required positional argument: 'domain'",
    );
}

/// A uid without a user (`jsonrpc_error_wrong_uid.json`): MissingError on
/// `res.users(99,)`, over JSON-RPC and XML-RPC (fault 2); a wrong password
/// stays AccessDenied.
#[tokio::test]
async fn a_wrong_uid_is_a_missing_error_on_every_protocol() {
    let server = TestServer::start().await.unwrap();
    let message = "Record does not exist or has been deleted.\n(Record: res.users(99,), User: 99)";
    let rpc = web_post(
        &server,
        "/jsonrpc",
        json!({"service": "object", "method": "execute_kw",
               "args": [DATABASE, 99, "admin", "res.partner", "search", [[]], {}]}),
        None,
    )
    .await;
    assert_odoo_error(&rpc, "odoo.exceptions.MissingError", message);
    let xml = xml_post(
        &server,
        "/xmlrpc/2/object",
        xml_call(
            "execute_kw",
            &[
                &format!("<string>{DATABASE}</string>"),
                "<int>99</int>",
                "<string>admin</string>",
                "<string>res.partner</string>",
                "<string>search</string>",
                "<array><data><value><array><data></data></array></value></data></array>",
            ],
        ),
    )
    .await;
    assert_eq!(
        fault(&xml),
        Some(("int".into(), "2".into(), message.into()))
    );
    let wrong = web_post(
        &server,
        "/jsonrpc",
        json!({"service": "object", "method": "execute_kw",
               "args": [DATABASE, 2, "wrong", "res.partner", "search", [[]], {}]}),
        None,
    )
    .await;
    assert_odoo_error(&wrong, "odoo.exceptions.AccessDenied", "Access Denied");
    assert_eq!(
        wrong.body["error"]["data"]["debug"],
        "odoo.exceptions.AccessDenied: Access Denied\n"
    );
}

/// Odoo's business rules: the admin user cannot be deleted (UserError),
/// a partner cannot be its own ancestor (ValidationError), the demo user
/// cannot modify users (AccessError); each with its protocol's status or
/// fault code (`*_error_user_error`, `*_error_validation`,
/// `xmlrpc_fault_*`, `jsonrpc_error_access_write`).
#[tokio::test]
async fn business_rule_errors_have_each_protocols_shape() {
    let server = TestServer::start().await.unwrap();
    let admin_message = "You cannot delete the admin user because it is utilized in various places (such as security configurations,...). Instead, archive it.";
    let recursion = "You cannot create recursive Partner hierarchies.";
    let client = server.client(Protocol::JsonRpc).unwrap();
    let partners = client.model("res.partner");
    let id_of = |name: &'static str| {
        let partners = partners.clone();
        async move {
            partners
                .search(Domain::field("name").eq(name))
                .send()
                .await
                .unwrap()[0]
        }
    };
    let acme = id_of("Acme Corporation").await;
    let ada = id_of("Ada Lind").await;

    // Over the client, on every protocol: the error kinds.
    for protocol in PROTOCOLS {
        let client = fast(&server, protocol);
        let err = client
            .call("res.users", "unlink")
            .ids([2])
            .send::<Value>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UserError, "{protocol}: {err}");
        assert!(
            err.to_string().contains("You cannot delete the admin user"),
            "{err}"
        );
        for (id, parent) in [(ada, ada), (acme, ada)] {
            let err = client
                .model("res.partner")
                .write([id], &json!({"parent_id": parent}))
                .send()
                .await
                .unwrap_err();
            // XML-RPC's fault 2 is the whole UserError family.
            let kind = match protocol {
                Protocol::XmlRpc => ErrorKind::UserError,
                _ => ErrorKind::Invalid,
            };
            assert_eq!(err.kind(), kind, "{protocol}: {err}");
            assert!(err.to_string().contains(recursion), "{err}");
        }
    }
    // Nothing was written.
    let rows = partners
        .read([acme, ada])
        .fields(["parent_id"])
        .send()
        .await
        .unwrap();
    assert_eq!(rows[0]["parent_id"], false);
    assert_eq!(rows[1]["parent_id"][0], acme);

    // The wire shapes.
    let jsonrpc = |model: &str, method: &str, args: Value| {
        web_post(
            &server,
            "/jsonrpc",
            json!({"service": "object", "method": "execute_kw",
                   "args": [DATABASE, 2, "admin", model, method, args, {}]}),
            None,
        )
    };
    assert_odoo_error(
        &jsonrpc("res.users", "unlink", json!([[2]])).await,
        "odoo.exceptions.UserError",
        admin_message,
    );
    assert_odoo_error(
        &jsonrpc("res.partner", "write", json!([[ada], {"parent_id": ada}])).await,
        "odoo.exceptions.ValidationError",
        recursion,
    );
    let json2 = |path: &str, body: Value| {
        send_raw(
            http()
                .post(format!("{}/json/2/{path}", server.url()))
                .header("content-type", "application/json")
                .header(
                    "authorization",
                    format!(
                        "bearer {}",
                        odoo_integration_client::test_server::ADMIN_API_KEY
                    ),
                )
                .body(body.to_string()),
        )
    };
    let user_error = json2("res.users/unlink", json!({"ids": [2]})).await;
    assert_eq!(user_error.status, 422);
    assert_eq!(user_error.body["name"], "odoo.exceptions.UserError");
    assert_eq!(user_error.body["message"], admin_message);
    assert_eq!(user_error.body["arguments"], json!([admin_message]));
    let validation = json2(
        "res.partner/write",
        json!({"ids": [ada], "vals": {"parent_id": ada}}),
    )
    .await;
    assert_eq!(validation.status, 422);
    assert_eq!(validation.body["name"], "odoo.exceptions.ValidationError");
    assert_eq!(validation.body["message"], recursion);
    let xml = xml_post(
        &server,
        "/xmlrpc/2/object",
        xml_call(
            "execute_kw",
            &[
                &format!("<string>{DATABASE}</string>"),
                "<int>2</int>",
                "<string>admin</string>",
                "<string>res.partner</string>",
                "<string>write</string>",
                &format!(
                    "<array><data><value><array><data><value><int>{ada}</int></value></data></array></value><value><struct><member><name>parent_id</name><value><int>{ada}</int></value></member></struct></value></data></array>"
                ),
            ],
        ),
    )
    .await;
    assert_eq!(
        fault(&xml),
        Some(("int".into(), "2".into(), recursion.into()))
    );

    // The demo user may not modify another user.
    let demo = web_post(
        &server,
        "/jsonrpc",
        json!({"service": "object", "method": "execute_kw",
               "args": [DATABASE, 5, DEMO_PASSWORD, "res.users", "write", [[2], {"name": "x"}], {}]}),
        None,
    )
    .await;
    assert_odoo_error(
        &demo,
        "odoo.exceptions.AccessError",
        "You are not allowed to modify 'User' (res.users) records.\n\nThis operation is allowed for the following groups:\n\t- Access Rights\n\nContact your administrator to request access if necessary.",
    );
    // Deleting records that are gone names the first of them.
    let gone = jsonrpc("res.partner", "unlink", json!([[999_998, 999_999]])).await;
    assert_odoo_error(
        &gone,
        "odoo.exceptions.MissingError",
        "Record does not exist or has been deleted.\n(Record: res.partner(999998,), User: 2)",
    );
}

/// `read_group` in its deprecated form (`jsonrpc_read_group_deprecated`,
/// `json2_read_group_deprecated`): lazy by default, `<groupby>_count`,
/// the aggregate by field name, `__fold` for stages, `__domain`.
#[tokio::test]
async fn read_group_answers_in_its_deprecated_shape() {
    use odoo_integration_client::test_server::{Field, FieldKind};
    let server = TestServer::builder()
        .with_demo_data()
        // Odoo's stages can be folded.
        .field("crm.stage", Field::new("fold", FieldKind::Boolean))
        .start()
        .await
        .unwrap();
    let jsonrpc = |model: &str, method: &str, args: Value, kwargs: Value| {
        web_post(
            &server,
            "/jsonrpc",
            json!({"service": "object", "method": "execute_kw",
                   "args": [DATABASE, 2, "admin", model, method, args, kwargs]}),
            None,
        )
    };
    let keys = |row: &Value| -> Vec<String> { row.as_object().unwrap().keys().cloned().collect() };
    let lazy = jsonrpc(
        "crm.lead",
        "read_group",
        json!([[], ["expected_revenue:sum"], ["stage_id"]]),
        json!({"lazy": true}),
    )
    .await;
    let rows = lazy.body["result"].as_array().unwrap().clone();
    assert!(!rows.is_empty(), "{}", lazy.body);
    for row in &rows {
        assert_eq!(
            keys(row),
            [
                "__domain",
                "__fold",
                "expected_revenue",
                "stage_id",
                "stage_id_count"
            ],
            "{row}"
        );
        let stage = row["stage_id"][0].as_i64().unwrap();
        assert!(row["stage_id"][1].is_string());
        assert_eq!(row["__domain"], json!([["stage_id", "=", stage]]));
        assert_eq!(row["__fold"], false);
    }
    let total: f64 = rows
        .iter()
        .map(|r| r["expected_revenue"].as_f64().unwrap())
        .sum();
    assert_eq!(total, 48_000.0 + 12_500.5);
    // JSON-2: the same rows (lazy is the default).
    let json2 = send_raw(
        http()
            .post(format!("{}/json/2/crm.lead/read_group", server.url()))
            .header("content-type", "application/json")
            .header(
                "authorization",
                format!(
                    "bearer {}",
                    odoo_integration_client::test_server::ADMIN_API_KEY
                ),
            )
            .body(r#"{"domain": [], "fields": ["expected_revenue:sum"], "groupby": ["stage_id"]}"#),
    )
    .await;
    assert_eq!(json2.status, 200);
    assert_eq!(json2.body, json!(rows));

    // A stage with no lead is listed too, folded if the stage says so.
    server
        .insert("crm.stage", json!({"name": "Lost", "fold": true}))
        .unwrap();
    let expanded = jsonrpc(
        "crm.lead",
        "read_group",
        json!([[], ["expected_revenue:sum"], ["stage_id"]]),
        json!({}),
    )
    .await;
    let lost = expanded.body["result"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["stage_id"][1] == "Lost")
        .cloned()
        .unwrap();
    assert_eq!(lost["stage_id_count"], 0);
    assert_eq!(lost["expected_revenue"], false);
    assert_eq!(lost["__fold"], true);

    // Lazy with two groupbys: the rest in __context.
    let two = jsonrpc(
        "crm.lead",
        "read_group",
        json!([
            [["probability", ">", 0]],
            ["expected_revenue"],
            ["stage_id", "type"]
        ]),
        json!({}),
    )
    .await;
    let row = &two.body["result"][0];
    assert_eq!(row["__context"], json!({"group_by": ["type"]}));
    let stage = row["stage_id"][0].clone();
    assert_eq!(
        row["__domain"],
        json!(["&", ["probability", ">", 0], ["stage_id", "=", stage]])
    );
    // Not lazy: __count, every groupby, no __fold; dates are labels with
    // their range.
    let eager = jsonrpc(
        "account.analytic.line",
        "read_group",
        json!([[], ["unit_amount"], ["date:month", "employee_id"]]),
        json!({"lazy": false}),
    )
    .await;
    let rows = eager.body["result"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(
            keys(row),
            [
                "__count",
                "__domain",
                "__range",
                "date:month",
                "employee_id",
                "unit_amount"
            ]
        );
        let label = row["date:month"].as_str().unwrap();
        let from = row["__range"]["date:month"]["from"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(from.ends_with("-01"), "{row}");
        assert_eq!(row["__domain"][2], json!(["date", ">=", from]), "{row}");
        assert!(
            label.ends_with(&from[..4]) && !label.contains('-'),
            "{label}"
        );
    }
    // A groupby that is no field.
    assert_odoo_error(
        &jsonrpc(
            "crm.lead",
            "read_group",
            json!([[], [], ["nope"]]),
            json!({}),
        )
        .await,
        "builtins.ValueError",
        "Invalid field 'nope' on model 'crm.lead'",
    );
}

/// `formatted_read_group` (`*_formatted_read_group*.json`): values by
/// groupby spec, a date granularity as `[start, label]`, `__extra_domain`,
/// aggregates by spec.
#[tokio::test]
async fn formatted_read_group_formats_dates_and_extra_domains() {
    let server = TestServer::start().await.unwrap();
    for protocol in PROTOCOLS {
        let client = fast(&server, protocol);
        let months: Vec<Value> = client
            .call("account.analytic.line", "formatted_read_group")
            .named_arg("domain", json!([["project_id", "!=", false]]))
            .kwarg("groupby", json!(["date:month"]))
            .kwarg(
                "aggregates",
                json!(["unit_amount:sum", "amount:sum", "__count"]),
            )
            .send()
            .await
            .unwrap();
        assert!(!months.is_empty());
        for row in &months {
            let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
            assert_eq!(
                keys,
                [
                    "__count",
                    "__extra_domain",
                    "amount:sum",
                    "date:month",
                    "unit_amount:sum"
                ],
                "{protocol}"
            );
            let start = row["date:month"][0].as_str().unwrap();
            assert!(start.ends_with("-01"), "{row}");
            let label = row["date:month"][1].as_str().unwrap();
            assert!(
                ["September", "October", "November", "December"]
                    .iter()
                    .any(|m| label.starts_with(m)),
                "{label}"
            );
            assert_eq!(row["__extra_domain"][0], "&");
            assert_eq!(row["__extra_domain"][1], json!(["date", ">=", start]));
            assert_eq!(row["__extra_domain"][2][1], "<");
        }
        let stages: Vec<Value> = client
            .call("crm.lead", "formatted_read_group")
            .named_arg("domain", json!([]))
            .kwarg("groupby", json!(["stage_id"]))
            .kwarg("aggregates", json!(["expected_revenue:sum"]))
            .send()
            .await
            .unwrap();
        for row in &stages {
            // __count only when asked; no __fold without read_group_expand.
            let keys: Vec<&String> = row.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["__extra_domain", "expected_revenue:sum", "stage_id"]);
            assert_eq!(
                row["__extra_domain"],
                json!([["stage_id", "=", row["stage_id"][0]]])
            );
        }
        let err = client
            .call("crm.lead", "formatted_read_group")
            .named_arg("domain", json!([]))
            .kwarg("groupby", json!(["date_deadline"]))
            .send::<Value>()
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Granularity not set on a date(time) field"),
            "{protocol}: {err}"
        );
    }
}

/// Ten failed interactive logins in a row put the address on Odoo's
/// cooldown: even the right password is refused, while the RPC logins
/// (which Odoo does not rate-limit) still work.
#[tokio::test]
async fn too_many_failed_web_logins_start_odoos_cooldown() {
    let server = TestServer::start().await.unwrap();
    let login = |password: &str| json!({"db": DATABASE, "login": "admin", "password": password});
    for _ in 0..9 {
        let wrong = web_post(&server, "/web/session/authenticate", login("nope"), None).await;
        assert_odoo_error(&wrong, "odoo.exceptions.AccessDenied", "Access Denied");
    }
    // Nine failures: a success still logs in, and starts the count again.
    let ok = web_post(&server, "/web/session/authenticate", login("admin"), None).await;
    assert!(ok.body.get("result").is_some(), "{}", ok.body);
    for _ in 0..10 {
        web_post(&server, "/web/session/authenticate", login("nope"), None).await;
    }
    let refused = web_post(&server, "/web/session/authenticate", login("admin"), None).await;
    assert_odoo_error(
        &refused,
        "odoo.exceptions.AccessDenied",
        "Too many login failures, please wait a bit before trying again.",
    );
    assert!(refused.cookies.is_empty());
    // JSON-RPC logins are not subject to it.
    let uid = server
        .client(Protocol::JsonRpc)
        .unwrap()
        .uid()
        .await
        .unwrap();
    assert_eq!(uid, 2);
}

/// Odoo 19's `api_doc` endpoint describes a model to an API key holder.
#[tokio::test]
async fn doc_bearer_describes_a_model_as_odoo_19_does() {
    let server = TestServer::start().await.unwrap();
    let get = |key: &str| {
        http()
            .get(format!(
                "{}/doc-bearer/res.partner.category.json",
                server.url()
            ))
            .header("authorization", format!("bearer {key}"))
            .header("x-odoo-database", DATABASE)
    };
    let doc = send_raw(get(odoo_integration_client::test_server::ADMIN_API_KEY)).await;
    assert_eq!(doc.status, 200);
    let keys: Vec<&String> = doc.body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["doc", "fields", "methods", "model", "name"]);
    assert_eq!(doc.body["name"], "Partner Tags");
    assert_eq!(doc.body["fields"]["name"]["required"], true);
    assert!(doc.body["fields"]["name"].get("module").is_some());
    assert!(doc.body["methods"]["search_read"]["signature"].is_string());
    let refused = send_raw(get("not-a-key")).await;
    assert_eq!(refused.status, 401);
}

/// A new contact takes its company's address, as Odoo syncs it; one given
/// an address of its own keeps it.
#[tokio::test]
async fn a_contact_lives_at_its_companys_address() {
    let server = TestServer::start().await.unwrap();
    let partners = server.client(Protocol::Json2).unwrap().model("res.partner");
    let acme = partners
        .search(Domain::field("name").eq("Acme Corporation"))
        .send()
        .await
        .unwrap()[0];
    let person = partners
        .create(&json!({"name": "Lee Chen", "parent_id": acme}))
        .send()
        .await
        .unwrap();
    let away = partners
        .create(&json!({"name": "Ola Berg", "parent_id": acme, "city": "Oslo"}))
        .send()
        .await
        .unwrap();
    let rows = partners
        .read([person, away])
        .fields([
            "country_id",
            "city",
            "display_name",
            "commercial_partner_id",
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(rows[0]["country_id"][1], "United States");
    assert_eq!(rows[0]["display_name"], "Acme Corporation, Lee Chen");
    assert_eq!(rows[0]["commercial_partner_id"][0], acme);
    assert_eq!(rows[1]["city"], "Oslo");
    assert_eq!(rows[1]["country_id"], false);
}

/// The external ids of module `idx` that `domain` finds, as (name, res_id).
async fn idx_external_ids(client: &Client, domain: Domain) -> Vec<(String, i64)> {
    let rows = client
        .model("ir.model.data")
        .search_read(Domain::field("module").eq("idx") & domain)
        .fields(["name", "res_id"])
        .send()
        .await
        .unwrap();
    let mut out: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["res_id"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Upserts partners `idx.<name>` named `P <name>`; the outcomes in order.
async fn upsert_idx(client: &Client, names: &[&str]) -> Vec<Upserted> {
    let rows = names.iter().map(|n| {
        (
            ExternalId::new("idx", *n).unwrap(),
            json!({"name": format!("P {n}")}),
        )
    });
    client
        .model("res.partner")
        .upsert_by_external_id(rows)
        .send()
        .await
        .unwrap()
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

/// The server finds external ids through an index of `ir.model.data` (by
/// module and name, and by record), kept exact through every change: an
/// upsert, a record's unlink (its external ids go with it), a failed
/// `load` (rolled back, records and external ids alike), and writes,
/// creates and deletes of `ir.model.data` rows themselves.
#[tokio::test]
async fn the_external_id_index_follows_every_change() {
    let server = TestServer::start().await.unwrap();
    let client = fast(&server, Protocol::Json2);
    let partners = client.model("res.partner");
    let data = client.model("ir.model.data");
    let all = Domain::all;
    let named = |n: &str| Domain::field("name").eq(n);

    // An upsert registers one external id per record.
    let first = upsert_idx(&client, &["a", "b", "c", "d", "g"]).await;
    assert!(first.iter().all(Upserted::is_created));
    let id: std::collections::BTreeMap<&str, i64> = ["a", "b", "c", "d", "g"]
        .into_iter()
        .zip(first.iter().map(Upserted::id))
        .collect();
    assert_eq!(
        idx_external_ids(&client, named("b")).await,
        [("b".to_owned(), id["b"])]
    );
    assert_eq!(
        idx_external_ids(&client, Domain::field("name").is_in(["a", "c", "zz"])).await,
        [("a".to_owned(), id["a"]), ("c".to_owned(), id["c"])]
    );

    // Unlinking records drops their external ids; the others stay.
    partners.unlink([id["a"], id["b"]]).send().await.unwrap();
    let left = idx_external_ids(&client, all()).await;
    assert_eq!(
        left,
        [
            ("c".to_owned(), id["c"]),
            ("d".to_owned(), id["d"]),
            ("g".to_owned(), id["g"]),
        ]
    );
    assert!(idx_external_ids(&client, named("a")).await.is_empty());

    // A record removed behind Odoo's back leaves its external id behind.
    server.remove("res.partner", id["g"]);
    assert_eq!(idx_external_ids(&client, all()).await, left);

    // A load that fails on its last record rolls everything back: the
    // record it created and its external id, the rename of `c`, and the
    // re-pointing of `g` to a new record.
    let failed: Value = client
        .call("res.partner", "load")
        .named_arg("fields", json!(["id", "name"]))
        .named_arg(
            "data",
            json!([
                ["idx.e", "P e"],
                ["idx.c", "C renamed"],
                ["idx.g", "P g again"],
                ["idx.f", ""]
            ]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(failed["ids"], false, "{failed}");
    assert_eq!(failed["messages"][0]["record"], 3, "{failed}");
    assert_eq!(idx_external_ids(&client, all()).await, left);
    let names: Vec<Value> = server
        .records("res.partner")
        .unwrap()
        .into_iter()
        .map(|r| r["name"].clone())
        .collect();
    assert!(names.contains(&json!("P c")));
    assert!(!names.contains(&json!("C renamed")) && !names.contains(&json!("P e")));

    // The next upsert finds `c` and `d` again and creates only what is
    // missing: no duplicate records, no duplicate external ids.
    let again = upsert_idx(&client, &["a", "c", "d", "e"]).await;
    assert!(again[0].is_created() && again[3].is_created());
    assert_eq!(again[1], Upserted::Unchanged(id["c"]));
    assert_eq!(again[2], Upserted::Unchanged(id["d"]));
    let xids = idx_external_ids(&client, all()).await;
    assert_eq!(xids.len(), 5, "{xids:?}");
    let stored = server.records("res.partner").unwrap();
    for name in ["P a", "P c", "P d", "P e"] {
        let count = stored.iter().filter(|r| r["name"] == name).count();
        assert_eq!(count, 1, "{name}");
    }

    // Renaming an external id directly: found under its new name only.
    let data_id = |name: &str| {
        let data = data.clone();
        let name = name.to_owned();
        async move {
            data.search(Domain::field("module").eq("idx") & Domain::field("name").eq(name))
                .send()
                .await
                .unwrap()
        }
    };
    let d = data_id("d").await;
    assert_eq!(d.len(), 1);
    data.write(d.clone(), &json!({"name": "d2"}))
        .send()
        .await
        .unwrap();
    assert!(data_id("d").await.is_empty());
    assert_eq!(data_id("d2").await, d);
    assert_eq!(
        upsert_idx(&client, &["d2"]).await[0].id(),
        id["d"],
        "the renamed external id still names the record"
    );
    // (module, name) stays unique, on a write as on a create.
    let c = data_id("c").await;
    assert!(
        data.write(c.clone(), &json!({"name": "d2"}))
            .send()
            .await
            .is_err()
    );
    assert!(
        data.create(
            &json!({"module": "idx", "name": "c", "model": "res.partner", "res_id": id["c"]})
        )
        .send()
        .await
        .is_err()
    );
    assert_eq!(data_id("c").await, c);

    // Deleting external ids directly: the records stay, and an upsert no
    // longer finds them (it creates new ones).
    data.unlink(c).send().await.unwrap();
    server.remove("ir.model.data", d[0]);
    assert!(data_id("c").await.is_empty() && data_id("d2").await.is_empty());
    let third = upsert_idx(&client, &["c", "d2"]).await;
    assert!(third.iter().all(Upserted::is_created));
    assert!(third[0].id() != id["c"] && third[1].id() != id["d"]);
    let names: Vec<String> = idx_external_ids(&client, all())
        .await
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, ["a", "c", "d2", "e", "g"]);
}

/// Records a call creates, its lines and external ids included, name the
/// caller as their creator.
#[tokio::test]
async fn records_name_the_user_who_created_them() {
    let server = TestServer::start().await.unwrap();
    let demo = Client::builder(server.url())
        .database(DATABASE)
        .credentials(odoo_integration_client::Credentials::api_key(
            DEMO_LOGIN,
            DEMO_API_KEY,
        ))
        .protocol(Protocol::Json2)
        .build()
        .unwrap();
    let outcome = demo
        .model("res.partner")
        .upsert_by_external_id(vec![(
            "sync_demo.p1".parse::<ExternalId>().unwrap(),
            json!({"name": "Made by demo", "is_company": true,
                   "child_ids": [[0, 0, {"name": "Their person"}]]}),
        )])
        .send()
        .await
        .unwrap();
    let id = outcome[0].as_ref().unwrap().id();
    let partners = server.records("res.partner").unwrap();
    let made: Vec<_> = partners
        .iter()
        .filter(|r| r["id"] == id || r["parent_id"][0] == id)
        .collect();
    assert_eq!(made.len(), 2);
    for r in made {
        assert_eq!(r["create_uid"][0], 5, "{r:?}");
        assert_eq!(r["write_uid"][0], 5, "{r:?}");
    }
    let xid = server
        .records("ir.model.data")
        .unwrap()
        .into_iter()
        .find(|r| r["module"] == "sync_demo")
        .unwrap();
    assert_eq!(xid["create_uid"][0], 5);
}

/// What Odoo numbers and totals on its own: a sale order without a name
/// gets the next `S` number and its amounts from its lines; an invoice is
/// "/" until `action_post` numbers it, and amounts sent for computed
/// fields are not kept.
#[tokio::test]
async fn orders_and_invoices_are_numbered_and_totalled_from_their_lines() {
    let server = TestServer::start().await.unwrap();
    let client = server.client(Protocol::JsonRpc).unwrap();
    let product = server.records("product.product").unwrap()[0]["id"].clone();
    let acme = client
        .model("res.partner")
        .search(Domain::field("name").eq("Acme Corporation"))
        .send()
        .await
        .unwrap()[0];
    let orders = client.model("sale.order");
    let order = orders
        .create(&json!({"partner_id": acme, "amount_total": 1.0, "order_line": [
            [0, 0, {"name": "Build", "product_id": product, "product_uom_qty": 3.0, "price_unit": 1000.0}],
            [0, 0, {"name": "Review", "product_id": product, "product_uom_qty": 2.0, "price_unit": 250.0, "discount": 10.0}],
        ]}))
        .send()
        .await
        .unwrap();
    let row = &orders
        .read([order])
        .fields([
            "name",
            "amount_untaxed",
            "amount_total",
            "partner_invoice_id",
        ])
        .send()
        .await
        .unwrap()[0];
    // The demo data holds S00001.
    assert_eq!(row["name"], "S00002");
    assert_eq!(row["amount_untaxed"], 3450.0);
    assert_eq!(row["amount_total"], 3450.0);
    assert_eq!(row["partner_invoice_id"][0], acme);
    // A line without a product is refused, as in Odoo.
    let err = orders
        .write(
            [order],
            &json!({"order_line": [[0, 0, {"name": "Loose", "price_unit": 1.0}]]}),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Invalid, "{err}");

    let moves = client.model("account.move");
    let invoice = moves
        .create(&json!({"move_type": "out_invoice", "partner_id": acme, "invoice_date": "2027-01-05",
                        "invoice_line_ids": [[0, 0, {"name": "Build", "product_id": product, "quantity": 2.0, "price_unit": 600.0}]]}))
        .send()
        .await
        .unwrap();
    let read = |fields: &'static [&'static str]| {
        let moves = moves.clone();
        async move {
            moves
                .read([invoice])
                .fields(fields.iter().copied())
                .send()
                .await
                .unwrap()
                .remove(0)
        }
    };
    let draft = read(&["name", "state", "amount_total", "journal_id"]).await;
    assert_eq!(draft["name"], "/");
    assert_eq!(draft["state"], "draft");
    assert_eq!(draft["amount_total"], 1200.0);
    assert_eq!(draft["journal_id"][1], "Sales");
    let _: Value = client
        .call("account.move", "action_post")
        .ids([invoice])
        .send()
        .await
        .unwrap();
    let posted = read(&["name", "state", "payment_state", "amount_residual"]).await;
    assert_eq!(posted["name"], "INV/2027/00001");
    assert_eq!(posted["state"], "posted");
    assert_eq!(posted["payment_state"], "not_paid");
    assert_eq!(posted["amount_residual"], 1200.0);
    // Posting twice is Odoo's UserError.
    let again = client
        .call("account.move", "action_post")
        .ids([invoice])
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(again.kind(), ErrorKind::UserError, "{again}");
}

/// Quotations as Odoo handles them: a line without a price takes its
/// product's sales price; `action_confirm` confirms a quotation once
/// (again is Odoo's UserError); a confirmed order's lines cannot be
/// removed; and a product's service invoicing policy reads (and writes)
/// as its invoicing policy and service tracking.
#[tokio::test]
async fn quotations_are_priced_confirmed_once_and_keep_their_lines() {
    let server = TestServer::start().await.unwrap();
    let client = server.client(Protocol::Json2).unwrap();
    let products = client.model("product.product");
    let hours = products
        .create(
            &json!({"name": "Consulting hours", "type": "service", "default_code": "TM",
                        "list_price": 140.0, "service_policy": "delivered_timesheet"}),
        )
        .send()
        .await
        .unwrap();
    let policy = products
        .read([hours])
        .fields(["service_policy", "invoice_policy", "service_type"])
        .send()
        .await
        .unwrap()
        .remove(0);
    assert_eq!(policy["service_policy"], "delivered_timesheet");
    assert_eq!(policy["invoice_policy"], "delivery");
    assert_eq!(policy["service_type"], "timesheet");
    let plain = products
        .create(&json!({"name": "Workshop", "type": "service"}))
        .send()
        .await
        .unwrap();
    let plain = products
        .read([plain])
        .fields(["service_policy"])
        .send()
        .await
        .unwrap()
        .remove(0);
    assert_eq!(plain["service_policy"], "ordered_prepaid", "Odoo's default");

    let acme = server.records("res.partner").unwrap()[1]["id"].clone();
    let orders = client.model("sale.order");
    let order = orders
        .create(&json!({"partner_id": acme, "order_line": [
            [0, 0, {"name": "Build", "product_id": hours, "product_uom_qty": 10.0}],
            [0, 0, {"name": "Extra", "product_id": hours, "product_uom_qty": 1.0, "price_unit": 99.0}],
        ]}))
        .send()
        .await
        .unwrap();
    let lines = client
        .model("sale.order.line")
        .search_read(Domain::field("order_id").eq(order))
        .fields(["price_unit"])
        .send()
        .await
        .unwrap();
    let prices: Vec<&Value> = lines.iter().map(|l| &l["price_unit"]).collect();
    assert_eq!(prices, [&json!(140.0), &json!(99.0)]);

    let confirm = || client.call("sale.order", "action_confirm").ids([order]);
    let _: Value = confirm().send().await.unwrap();
    let row = orders
        .read([order])
        .fields(["state"])
        .send()
        .await
        .unwrap()
        .remove(0);
    assert_eq!(row["state"], "sale");
    let again = confirm().send::<Value>().await.unwrap_err();
    assert_eq!(again.kind(), ErrorKind::UserError, "{again}");
    assert!(
        again
            .to_string()
            .contains("not in a state requiring confirmation")
    );

    // Replacing the lines of a confirmed order is refused, and nothing
    // changes.
    let err = orders
        .write(
            [order],
            &json!({"order_line": [[5, 0, 0], [0, 0, {"name": "New", "product_id": hours}]]}),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UserError, "{err}");
    assert!(
        err.to_string().contains("Set the quantity to 0 instead"),
        "{err}"
    );
    let line = lines[0]["id"].as_i64().unwrap();
    let err = client
        .model("sale.order.line")
        .unlink([line])
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::UserError, "{err}");
    let kept = client
        .model("sale.order.line")
        .search_count(Domain::field("order_id").eq(order))
        .send()
        .await
        .unwrap();
    assert_eq!(kept, 2);

    // A quotation with a line that has no product cannot be confirmed.
    let loose = orders
        .create(&json!({"partner_id": acme, "order_line": [
            [0, 0, {"name": "Notes", "display_type": "line_note"}],
        ]}))
        .send()
        .await
        .unwrap();
    let _: Value = client
        .call("sale.order", "action_confirm")
        .ids([loose])
        .send()
        .await
        .unwrap();
}

/// Upserted records get what they leave out from Odoo, as a `create` would:
/// a record that does not give a field next to one that does keeps the
/// field's default (not the empty value `load` gives an empty cell), and
/// a line that leaves out its price is priced from its product while its
/// neighbour keeps the price it gives. Sending the same upsert again, even
/// after a lost reply to the lines, changes nothing.
#[tokio::test]
async fn upserts_leave_to_odoo_what_they_do_not_give() {
    let server = TestServer::builder().start().await.unwrap();
    let client = server.client(Protocol::Json2).unwrap();
    let product = client
        .model("product.product")
        .create(&json!({"name": "Hours", "type": "service", "list_price": 140.0}))
        .send()
        .await
        .unwrap();
    let partner = client
        .model("res.partner")
        .create(&json!({"name": "Contoso", "is_company": true}))
        .send()
        .await
        .unwrap();
    let rows = || {
        vec![
            (
                "sync.given".parse::<ExternalId>().unwrap(),
                json!({"partner_id": partner, "user_id": 1, "client_order_ref": "A"}),
            ),
            (
                "sync.left".parse::<ExternalId>().unwrap(),
                json!({"partner_id": partner, "client_order_ref": "B", "order_line": [
                    [5, 0, 0],
                    [0, 0, {"name": "Priced by Odoo", "product_id": product, "product_uom_qty": 2.0}],
                    [0, 0, {"name": "Priced here", "product_id": product, "product_uom_qty": 1.0, "price_unit": 99.0}],
                ]}),
            ),
        ]
    };
    // The lines are written after their order: lose that reply once.
    server.inject_on("write", Fault::DropAfterHandling, 1);
    let orders = client.model("sale.order");
    let first = orders.upsert_by_external_id(rows()).send().await.unwrap();
    assert!(first[0].as_ref().unwrap().is_created());
    let left = match &first[1] {
        Ok(done) => done.id(),
        // The lost reply: the order exists with its external id; the next
        // upsert writes its lines as a whole.
        Err(_) => {
            let again = orders.upsert_by_external_id(rows()).send().await.unwrap();
            again[1].as_ref().unwrap().id()
        }
    };
    let given = first[0].as_ref().unwrap().id();
    let read = orders
        .read([given, left])
        .fields(["user_id"])
        .send()
        .await
        .unwrap();
    assert_eq!(read[0]["user_id"][0], 1);
    assert_eq!(
        read[1]["user_id"][0], 2,
        "the default salesperson, the caller"
    );
    let lines = client
        .model("sale.order.line")
        .search_read(Domain::field("order_id").eq(left))
        .fields(["name", "price_unit"])
        .send()
        .await
        .unwrap();
    let prices: Vec<(&str, f64)> = lines
        .iter()
        .map(|l| {
            (
                l["name"].as_str().unwrap(),
                l["price_unit"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(prices, [("Priced by Odoo", 140.0), ("Priced here", 99.0)]);

    // Lines given as commands are written again as a whole (they cannot
    // be compared), never added twice.
    let last = orders.upsert_by_external_id(rows()).send().await.unwrap();
    assert_eq!(last[1].as_ref().unwrap().id(), left);
    assert_eq!(server.records("sale.order").unwrap().len(), 2);
    let lines = server.records("sale.order.line").unwrap();
    let prices: Vec<f64> = lines
        .iter()
        .map(|l| l["price_unit"].as_f64().unwrap())
        .collect();
    assert_eq!(prices, [140.0, 99.0]);
}
