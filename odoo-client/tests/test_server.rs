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
        assert_eq!(
            names,
            [
                "Acme Corporation",
                "Gemini Furniture",
                "Northwind Consulting"
            ],
            "{protocol}"
        );
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
            ErrorKind::Validation,
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
            ErrorKind::AccessDenied,
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
        assert_eq!(err.kind(), ErrorKind::AccessDenied, "{protocol}: {err}");

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
        assert_eq!(err.kind(), ErrorKind::Authentication, "{protocol}: {err}");
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
    let xmlids = server.records("ir.model.data").unwrap();
    assert_eq!(xmlids.len(), 6);
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
    assert_eq!(err.kind(), ErrorKind::Validation);
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
