#![allow(clippy::unwrap_used)]
//! The Salesforce connector against the stateful fake
//! (`odoo_integration_fakes::salesforce`), and against wiremock where a raw
//! answer is easier to shape.

use async_trait::async_trait;
use chrono::{TimeDelta, Utc};
use odoo_integration_connectors::salesforce::{ConnectedApp, KnownIds, SalesforceConnector};
use odoo_integration_connectors::testkit::{check_sink, check_source};
use odoo_integration_connectors::{
    ConnectorErrorKind, Cursor, Operation, Outcome, Sink, SinkRecord, Source, SourceChange,
};
use odoo_integration_fakes::salesforce::{FakeSalesforce, Fault};
use odoo_integration_model::{
    CanonicalId, ClientCompany, Contact, ContractLine, Currency, Money, Opportunity,
    OpportunityStage, RemoteId, SystemId,
};
use rust_decimal::Decimal;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENT_ID: &str = "3MVG9-test-consumer-key";
const SECRET: &str = "sentinel-client-secret-4242";
const USER: &str = "integration@example.com";
const PRIVATE_KEY: &str = include_str!("../data/salesforce/test_only_private_key.pem");
const PUBLIC_KEY: &str = include_str!("../data/salesforce/test_only_public_key.pem");
const OTHER_KEY: &str = include_str!("../data/salesforce/test_only_other_private_key.pem");

async fn fake() -> FakeSalesforce {
    let sf = FakeSalesforce::start().await.unwrap();
    sf.allow_client(CLIENT_ID, SECRET);
    sf
}

fn connector(fake: &FakeSalesforce) -> SalesforceConnector {
    SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .build()
        .unwrap()
}

fn account(name: &str) -> serde_json::Value {
    json!({"Name": name, "Industry": "Consulting", "BillingCity": "Ghent"})
}

/// Reads everything from `cursor` in pages of `limit`.
async fn read_all<E: odoo_integration_connectors::salesforce::SObject>(
    sf: &SalesforceConnector,
    cursor: Option<Cursor>,
    limit: usize,
) -> (Vec<SourceChange<E>>, Cursor) {
    odoo_integration_connectors::read_to_end::<E>(sf, cursor, limit)
        .await
        .unwrap()
}

fn upsert<E>(origin_id: &str, record: E) -> SinkRecord<E> {
    SinkRecord::new(
        CanonicalId::new(),
        SystemId::odoo(),
        RemoteId::new(origin_id),
        Operation::Upsert(record),
    )
}

fn client(name: &str) -> ClientCompany {
    ClientCompany {
        legal_name: name.into(),
        website: Some(format!("https://{}.example", name.to_lowercase())),
        ..Default::default()
    }
}

// ------------------------------------------------------------------ reads

#[tokio::test]
async fn pages_through_next_records_url_reading_each_account_once() {
    let fake = fake().await;
    fake.set_page_size(200);
    for i in 0..2_500 {
        fake.insert("Account", account(&format!("Company {i:04}")));
    }
    let sf = connector(&fake);
    let (changes, _) = read_all::<ClientCompany>(&sf, None, 1_000).await;
    let mut seen = HashSet::new();
    for c in &changes {
        assert!(!c.operation.is_delete());
        assert!(
            seen.insert(c.remote_id.as_str().to_owned()),
            "{} twice",
            c.remote_id
        );
    }
    assert_eq!(seen.len(), 2_500);
    let Operation::Upsert(first) = &changes[0].operation else {
        panic!()
    };
    assert_eq!(first.legal_name, "Company 0000");
    assert_eq!(first.address.city.as_deref(), Some("Ghent"));
    // Reads of 1,000, 1,000 and 500 at 200 a page: 4 + 4 + 2 pages
    // followed by nextRecordsUrl.
    let more = fake
        .requests()
        .iter()
        .filter(|r| r.contains("/query/01g"))
        .count();
    assert_eq!(more, 10);
}

#[tokio::test]
async fn incremental_reads_keep_ties_on_system_modstamp() {
    let fake = fake().await;
    use chrono::DurationRound;
    // Salesforce stamps whole seconds.
    let t0 = Utc::now().duration_trunc(TimeDelta::seconds(1)).unwrap() - TimeDelta::minutes(5);
    fake.set_clock(Some(t0));
    let ids: Vec<String> = (0..5)
        .map(|i| fake.insert("Account", account(&format!("Tied {i}"))))
        .collect();
    let sf = connector(&fake);
    // Five records share one stamp; pages of two split them.
    let (changes, cursor) = read_all::<ClientCompany>(&sf, None, 2).await;
    let read: Vec<&str> = changes.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(read, ids.iter().map(String::as_str).collect::<Vec<_>>());
    // Nothing changed: nothing new.
    let page = Source::<ClientCompany>::read(&sf, Some(&cursor), 10)
        .await
        .unwrap();
    assert!(page.changes.is_empty(), "{:?}", page.changes);
    // A new record in the same second, and a later change.
    let late = fake.insert("Account", account("Late in the same stamp"));
    fake.set_clock(Some(t0 + TimeDelta::seconds(1)));
    fake.update("Account", &ids[1], json!({"Industry": "Energy"}));
    let (changes, _) = read_all::<ClientCompany>(&sf, Some(cursor), 10).await;
    let read: Vec<&str> = changes.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(read, vec![late.as_str(), ids[1].as_str()]);
    let Operation::Upsert(changed) = &changes[1].operation else {
        panic!()
    };
    assert_eq!(changed.industry.as_deref(), Some("Energy"));
    assert_eq!(changes[1].at, t0 + TimeDelta::seconds(1));
}

#[tokio::test]
async fn a_late_commit_behind_the_cursor_is_read_once() {
    let fake = fake().await;
    let began = Utc::now() - TimeDelta::seconds(90);
    let first: Vec<String> = (0..3)
        .map(|i| fake.insert("Account", account(&format!("Early {i}"))))
        .collect();
    let sf = connector(&fake);
    let (changes, cursor) = read_all::<ClientCompany>(&sf, None, 2).await;
    assert_eq!(changes.len(), 3);
    // A transaction that began 90 s ago commits now: its record carries
    // a stamp behind everything read so far.
    let late = fake.insert_committed_at("Account", account("Late"), began);
    fake.update_committed_at("Account", &first[1], json!({"Industry": "Energy"}), began);
    let (changes, cursor) = read_all::<ClientCompany>(&sf, Some(cursor), 2).await;
    let read: Vec<&str> = changes.iter().map(|c| c.remote_id.as_str()).collect();
    let mut expected = vec![late.as_str(), first[1].as_str()];
    expected.sort();
    assert_eq!(
        read, expected,
        "the late commits, once each, and nothing else"
    );
    let Some(Operation::Upsert(energy)) = changes
        .iter()
        .find(|c| c.remote_id.as_str() == first[1])
        .map(|c| &c.operation)
    else {
        panic!()
    };
    assert_eq!(energy.industry.as_deref(), Some("Energy"));
    // Read again: the overlap is re-read, nothing is emitted twice.
    let (again, _) = read_all::<ClientCompany>(&sf, Some(cursor), 2).await;
    assert!(again.is_empty(), "{again:?}");
}

#[tokio::test]
async fn a_cursor_from_before_the_overlap_resumes_without_repeats() {
    let fake = fake().await;
    fake.insert("Account", account("A"));
    let b = fake.insert("Account", account("B"));
    let stamp = fake.record("Account", &b).unwrap()["SystemModstamp"].clone();
    let at = chrono::DateTime::parse_from_str(stamp.as_str().unwrap(), "%Y-%m-%dT%H:%M:%S%.f%z")
        .unwrap()
        .with_timezone(&Utc);
    // What the connector wrote before it kept an overlap: A and B were
    // handed out.
    let legacy = json!({
        "stamp": at, "id": b, "deletes_from": Utc::now() - TimeDelta::minutes(1),
    });
    let sf = connector(&fake);
    let (changes, cursor) =
        read_all::<ClientCompany>(&sf, Some(Cursor::new(legacy.to_string())), 10).await;
    assert!(changes.is_empty(), "{changes:?}");
    // The next read re-reads the overlap, where A and B are: not again.
    let c = fake.insert("Account", account("C"));
    let (changes, _) = read_all::<ClientCompany>(&sf, Some(cursor), 10).await;
    let read: Vec<&str> = changes.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(read, vec![c.as_str()]);
}

#[tokio::test]
async fn the_overlap_is_configurable() {
    let fake = fake().await;
    fake.insert("Account", account("Early"));
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .overlap(Duration::from_secs(60))
        .build()
        .unwrap();
    let (_, cursor) = read_all::<ClientCompany>(&sf, None, 10).await;
    let now = Utc::now();
    let inside =
        fake.insert_committed_at("Account", account("Inside"), now - TimeDelta::seconds(20));
    // Behind the overlap: the documented price of a shorter one.
    fake.insert_committed_at("Account", account("Outside"), now - TimeDelta::seconds(600));
    let (changes, cursor) = read_all::<ClientCompany>(&sf, Some(cursor), 10).await;
    let read: Vec<&str> = changes.iter().map(|c| c.remote_id.as_str()).collect();
    assert_eq!(read, vec![inside.as_str()]);
    // The cursor keeps only what the overlap can read again.
    let kept: serde_json::Value = serde_json::from_str(cursor.as_str()).unwrap();
    assert_eq!(kept["recent"].as_array().map(Vec::len), Some(2), "{kept}");
}

#[tokio::test]
async fn get_deleted_reports_a_delete_once() {
    let fake = fake().await;
    let ids: Vec<String> = (0..3)
        .map(|i| fake.insert("Account", account(&format!("A{i}"))))
        .collect();
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .deleted_interval(Duration::ZERO)
        .build()
        .unwrap();
    let (_, cursor) = read_all::<ClientCompany>(&sf, None, 100).await;
    assert!(fake.delete("Account", &ids[1]));
    let (changes, cursor) = read_all::<ClientCompany>(&sf, Some(cursor), 100).await;
    assert_eq!(changes.len(), 1);
    assert!(changes[0].operation.is_delete());
    assert_eq!(changes[0].remote_id.as_str(), ids[1]);
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.contains("/sobjects/Account/deleted"))
    );
    // The window's last minute is read again; the delete is not repeated.
    let (again, _) = read_all::<ClientCompany>(&sf, Some(cursor), 100).await;
    assert!(again.is_empty(), "{again:?}");
}

/// The sync's known ids, as a cross-reference store would give them.
struct Known(Mutex<Vec<String>>);

#[async_trait]
impl KnownIds for Known {
    async fn known_ids(&self, entity: &str) -> odoo_integration_connectors::Result<Vec<String>> {
        assert_eq!(entity, "client");
        Ok(self.0.lock().unwrap().clone())
    }
}

#[tokio::test]
async fn past_the_get_deleted_window_a_full_compare_finds_deletes() {
    let fake = fake().await;
    let ids: Vec<String> = (0..4)
        .map(|i| fake.insert("Account", account(&format!("A{i}"))))
        .collect();
    let known = Arc::new(Known(Mutex::new(ids.clone())));
    // A window of nothing: every cursor is older than it.
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .deleted_window(Duration::ZERO)
        .deleted_interval(Duration::ZERO)
        .known_ids(known.clone())
        .build()
        .unwrap();
    let (first, cursor) = read_all::<ClientCompany>(&sf, None, 100).await;
    assert_eq!(first.len(), 4);
    fake.delete("Account", &ids[0]);
    fake.delete("Account", &ids[2]);
    // Pages of one: the compare's deletes are handed out from the cursor.
    let (changes, _) = read_all::<ClientCompany>(&sf, Some(cursor), 1).await;
    let deleted: Vec<&str> = changes
        .iter()
        .filter(|c| c.operation.is_delete())
        .map(|c| c.remote_id.as_str())
        .collect();
    assert_eq!(deleted, vec![ids[0].as_str(), ids[2].as_str()]);
    assert!(!fake.requests().iter().any(|r| r.contains("/deleted")));

    // Without known ids the connector says so instead of losing deletes.
    let blind = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .deleted_window(Duration::ZERO)
        .build()
        .unwrap();
    // The first read looks for deletes too, and cannot.
    let e = Source::<ClientCompany>::read(&blind, None, 100)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
    assert!(e.to_string().contains("known_ids"));
}

#[tokio::test]
async fn get_deleted_runs_at_most_once_per_interval_per_object() {
    let fake = fake().await;
    let gone = fake.insert("Account", account("Gone"));
    let sf = connector(&fake);
    let (_, cursor) = read_all::<ClientCompany>(&sf, None, 10).await;
    read_all::<Contact>(&sf, None, 10).await;
    assert_eq!(fake.get_deleted_calls("Account"), 1);
    assert_eq!(fake.get_deleted_calls("Contact"), 1);
    fake.delete("Account", &gone);
    // Within five minutes: not again, in this run nor in the next one
    // (a new connector resuming from the checkpoint).
    let (changes, cursor) = read_all::<ClientCompany>(&sf, Some(cursor), 10).await;
    assert!(changes.is_empty(), "{changes:?}");
    let next_run = connector(&fake);
    let (changes, cursor) = read_all::<ClientCompany>(&next_run, Some(cursor), 10).await;
    assert!(changes.is_empty(), "{changes:?}");
    assert_eq!(fake.get_deleted_calls("Account"), 1);
    // Once the interval has passed (here, none), the delete comes.
    let eager = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .deleted_interval(Duration::ZERO)
        .build()
        .unwrap();
    let (changes, _) = read_all::<ClientCompany>(&eager, Some(cursor), 10).await;
    assert_eq!(changes.len(), 1);
    assert!(changes[0].operation.is_delete());
    assert_eq!(changes[0].remote_id.as_str(), gone);
    assert_eq!(fake.get_deleted_calls("Account"), 2);
}

#[tokio::test]
async fn exceeded_id_limit_falls_back_to_the_full_compare() {
    let fake = fake().await;
    let ids: Vec<String> = (0..3)
        .map(|i| fake.insert("Account", account(&format!("A{i}"))))
        .collect();
    // More deletes in the window than getDeleted returns.
    fake.set_deleted_id_limit(1);
    fake.delete("Account", &ids[0]);
    fake.delete("Account", &ids[2]);
    let known = Arc::new(Known(Mutex::new(ids.clone())));
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .known_ids(known)
        .build()
        .unwrap();
    let (changes, _) = read_all::<ClientCompany>(&sf, None, 1).await;
    let deleted: Vec<&str> = changes
        .iter()
        .filter(|c| c.operation.is_delete())
        .map(|c| c.remote_id.as_str())
        .collect();
    assert_eq!(deleted, vec![ids[0].as_str(), ids[2].as_str()]);
    assert_eq!(fake.get_deleted_calls("Account"), 1);
    // The compare listed every id.
    assert!(
        fake.requests()
            .iter()
            .filter(|r| r.contains("/query"))
            .count()
            >= 2
    );
}

#[tokio::test]
async fn child_pages_are_read_before_the_parent_query_moves_on() {
    let fake = fake().await;
    // Two opportunities a batch, three lines a sub-query answer: each
    // opportunity's lines page, and the parent query pages too.
    fake.set_page_size(2);
    fake.set_child_page_size(3);
    let deals: Vec<String> = (0..3)
        .map(|d| {
            let deal = fake.insert(
                "Opportunity",
                json!({"Name": format!("Deal {d}"), "StageName": "Prospecting", "CloseDate": "2026-12-31"}),
            );
            for n in 0..7 {
                fake.insert(
                    "OpportunityLineItem",
                    json!({"OpportunityId": deal, "Description": format!("Deal {d} line {n}"),
                           "Quantity": 1, "UnitPrice": 10}),
                );
            }
            deal
        })
        .collect();
    let sf = connector(&fake);
    let (changes, _) = read_all::<Opportunity>(&sf, None, 10).await;
    assert_eq!(changes.len(), 3);
    for (d, change) in changes.iter().enumerate() {
        assert_eq!(change.remote_id.as_str(), deals[d]);
        let Operation::Upsert(deal) = &change.operation else {
            panic!()
        };
        let lines: Vec<&str> = deal.lines.iter().map(|l| l.description.as_str()).collect();
        let expected: Vec<String> = (0..7).map(|n| format!("Deal {d} line {n}")).collect();
        assert_eq!(lines, expected);
    }
}

#[tokio::test]
async fn contacts_and_opportunities_carry_references_lines_and_exact_money() {
    let fake = fake().await;
    let acme = fake.insert("Account", account("Acme"));
    let ann = fake.insert(
        "Contact",
        json!({"FirstName": "Ann", "LastName": "Lee", "Email": "ann@acme.example", "AccountId": acme}),
    );
    let deal = fake.insert(
        "Opportunity",
        json!({"Name": "Acme rollout", "StageName": "Closed Won", "Amount": 12345678901234.57,
               "CloseDate": "2026-12-15", "AccountId": acme}),
    );
    fake.insert(
        "OpportunityLineItem",
        json!({"OpportunityId": deal, "Name": "Consulting day", "Description": "Senior consultant",
               "Quantity": 12.5, "UnitPrice": 1150.10}),
    );
    let lost = fake.insert(
        "Opportunity",
        json!({"Name": "Lost one", "StageName": "Closed Lost", "CloseDate": "2026-01-02"}),
    );
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .org_currency(Currency::EUR)
        .build()
        .unwrap();

    let (contacts, _) = read_all::<Contact>(&sf, None, 100).await;
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].remote_id.as_str(), ann);
    assert_eq!(contacts[0].refs["client"].remote_id.as_str(), acme);
    let Operation::Upsert(c) = &contacts[0].operation else {
        panic!()
    };
    assert_eq!(
        (c.name.as_str(), c.email.as_deref()),
        ("Ann Lee", Some("ann@acme.example"))
    );

    let (deals, _) = read_all::<Opportunity>(&sf, None, 100).await;
    let by_id: HashMap<&str, &SourceChange<Opportunity>> =
        deals.iter().map(|d| (d.remote_id.as_str(), d)).collect();
    let Operation::Upsert(won) = &by_id[deal.as_str()].operation else {
        panic!()
    };
    assert_eq!(won.stage, OpportunityStage::Won);
    assert_eq!(
        won.amount,
        Some(Money::new(
            Decimal::from_str("12345678901234.57").unwrap(),
            Currency::EUR
        ))
    );
    assert_eq!(
        won.close_date,
        chrono::NaiveDate::from_ymd_opt(2026, 12, 15)
    );
    assert_eq!(won.lines.len(), 1);
    assert_eq!(won.lines[0].description, "Senior consultant");
    assert_eq!(won.lines[0].quantity, Decimal::from_str("12.5").unwrap());
    assert_eq!(
        won.lines[0].unit_price,
        Some(Money::new(
            Decimal::from_str("1150.1").unwrap(),
            Currency::EUR
        ))
    );
    assert_eq!(by_id[deal.as_str()].refs["client"].remote_id.as_str(), acme);
    let Operation::Upsert(l) = &by_id[lost.as_str()].operation else {
        panic!()
    };
    assert_eq!(l.stage, OpportunityStage::Lost);
    assert!(by_id[lost.as_str()].refs.is_empty());
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn an_expired_token_is_refreshed_once_and_the_call_retried_once() {
    let fake = fake().await;
    fake.insert("Account", account("Acme"));
    let sf = connector(&fake);
    read_all::<ClientCompany>(&sf, None, 100).await;
    assert_eq!(fake.token_requests(), 1);
    fake.expire_tokens();
    let calls = fake.calls();
    // Eight tasks hit the 401 at once: one token request between them.
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let sf = sf.clone();
            tokio::spawn(async move { Source::<ClientCompany>::read(&sf, None, 100).await })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().changes.len(), 1);
    }
    assert_eq!(fake.token_requests(), 2);
    // Each read is a query and a getDeleted; at most the first call of
    // each task was refused and sent again.
    let sent = fake.calls() - calls;
    assert!((16..=24).contains(&sent), "{sent} calls");

    // A session that stays invalid is retried once, not forever.
    let before = fake.token_requests();
    fake.allow_client(CLIENT_ID, "rotated-secret");
    fake.expire_tokens();
    let e = Source::<ClientCompany>::read(&sf, None, 100)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
    assert_eq!(fake.token_requests(), before + 1);
    assert!(!e.to_string().contains(SECRET));
}

#[tokio::test]
async fn jwt_bearer_flow_end_to_end() {
    let fake = fake().await;
    fake.allow_jwt(CLIENT_ID, USER, PUBLIC_KEY);
    fake.insert("Account", account("Acme"));
    let sf = SalesforceConnector::builder(
        ConnectedApp::jwt_bearer(CLIENT_ID, USER, PRIVATE_KEY).unwrap(),
    )
    .login_url(fake.url())
    .build()
    .unwrap();
    let (changes, _) = read_all::<ClientCompany>(&sf, None, 100).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(fake.token_requests(), 1);

    // A key the org does not trust is refused.
    let forged =
        SalesforceConnector::builder(ConnectedApp::jwt_bearer(CLIENT_ID, USER, OTHER_KEY).unwrap())
            .login_url(fake.url())
            .build()
            .unwrap();
    let e = Source::<ClientCompany>::read(&forged, None, 100)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
    assert!(e.to_string().contains("invalid_grant"), "{e}");
    // So is another user.
    let other = SalesforceConnector::builder(
        ConnectedApp::jwt_bearer(CLIENT_ID, "mallory@example.com", PRIVATE_KEY).unwrap(),
    )
    .login_url(fake.url())
    .build()
    .unwrap();
    let e = Source::<ClientCompany>::read(&other, None, 100)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
}

#[tokio::test]
async fn client_credentials_flow_and_a_wrong_secret() {
    let fake = fake().await;
    fake.insert("Account", account("Acme"));
    let (changes, _) = read_all::<ClientCompany>(&connector(&fake), None, 100).await;
    assert_eq!(changes.len(), 1);
    let wrong = SalesforceConnector::builder(ConnectedApp::client_credentials(
        CLIENT_ID,
        "wrong-secret-777",
    ))
    .login_url(fake.url())
    .build()
    .unwrap();
    let e = Source::<ClientCompany>::read(&wrong, None, 100)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
    assert!(e.to_string().contains("invalid_client"));
    assert!(!e.to_string().contains("wrong-secret-777"));
}

#[tokio::test]
async fn secrets_never_reach_debug_or_errors() {
    let creds = ConnectedApp::client_credentials(CLIENT_ID, SECRET);
    assert!(!format!("{creds:?}").contains(SECRET));
    let sf = SalesforceConnector::builder(creds)
        .login_url("https://acme.my.salesforce.com")
        .build()
        .unwrap();
    assert!(!format!("{sf:?}").contains(SECRET));
    let jwt = ConnectedApp::jwt_bearer(CLIENT_ID, USER, PRIVATE_KEY).unwrap();
    let key_body = PRIVATE_KEY.lines().nth(1).unwrap();
    assert!(!format!("{jwt:?}").contains(key_body));
    let sf = SalesforceConnector::builder(jwt).build().unwrap();
    assert!(!format!("{sf:?}").contains(key_body));
    // A bad key is refused without quoting it.
    let e = ConnectedApp::jwt_bearer(
        CLIENT_ID,
        USER,
        "-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END PRIVATE KEY-----",
    )
    .unwrap_err();
    assert!(!e.to_string().contains("c2VjcmV0LWtleS1ib2R5"));
    // The access token is in no error either.
    let fake = fake().await;
    let sf = connector(&fake);
    read_all::<ClientCompany>(&sf, None, 10).await;
    fake.fail_next(Fault::HtmlPage(503), 1);
    let e = Source::<ClientCompany>::read(&sf, None, 10)
        .await
        .unwrap_err();
    assert!(!format!("{e} {e:?}").contains("00DFAKE"));
}

// ------------------------------------------------------------------ limits and faults

#[tokio::test]
async fn too_many_requests_and_request_limit_exceeded_are_rate_limits() {
    let fake = fake().await;
    let sf = connector(&fake);
    fake.fail_next(
        Fault::TooManyRequests {
            retry_after_secs: 7,
        },
        1,
    );
    let e = Source::<ClientCompany>::read(&sf, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(7)));
    fake.fail_next(Fault::RequestLimitExceeded, 1);
    let e = Source::<ClientCompany>::read(&sf, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert!(e.to_string().contains("REQUEST_LIMIT_EXCEEDED"), "{e}");
    // And the org's own limit, spent.
    fake.set_api_usage(15_000, 15_000);
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .usage_threshold(100)
        .build()
        .unwrap();
    let e = Source::<ClientCompany>::read(&sf, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
}

#[tokio::test]
async fn api_usage_is_read_and_the_threshold_keeps_the_last_calls() {
    let fake = fake().await;
    fake.insert("Account", account("Acme"));
    fake.set_api_usage(13_000, 15_000);
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .usage_threshold(90)
        .usage_pause(Duration::from_secs(600))
        .build()
        .unwrap();
    assert_eq!(sf.api_usage(), None);
    let page = Source::<ClientCompany>::read(&sf, None, 10).await.unwrap();
    assert_eq!(sf.api_usage(), Some((13_002, 15_000)));
    // The org gets busy elsewhere: this read's one call (its query;
    // getDeleted waits for its interval) reaches 90 %.
    fake.set_api_usage(13_499, 15_000);
    Source::<ClientCompany>::read(&sf, Some(&page.next), 10)
        .await
        .unwrap();
    let calls = fake.calls();
    let e = Source::<ClientCompany>::read(&sf, Some(&page.next), 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(600)));
    assert_eq!(fake.calls(), calls, "a refused call must not reach the org");
}

#[tokio::test]
async fn html_pages_and_truncated_bodies_are_typed_errors() {
    let fake = fake().await;
    fake.insert("Account", account("Acme"));
    let sf = connector(&fake);
    fake.fail_next(Fault::HtmlPage(502), 1);
    let e = Source::<ClientCompany>::read(&sf, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    assert!(e.to_string().contains("HTML"), "{e}");
    assert!(e.is_retryable());
    fake.fail_next(Fault::TruncatedBody, 1);
    let e = Source::<ClientCompany>::read(&sf, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Protocol);
    // A write hit by a 503 before anything was applied fails as a whole.
    fake.fail_next(Fault::HtmlPage(503), 1);
    let e = Sink::<ClientCompany>::apply(&sf, vec![upsert("1", client("Acme"))])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    // And then all is well again.
    assert_eq!(read_all::<ClientCompany>(&sf, None, 10).await.0.len(), 1);
}

#[tokio::test]
async fn a_next_records_url_to_another_host_is_refused() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/services/oauth2/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "00Dxx!token", "instance_url": server.uri(),
            "id": "https://login.salesforce.com/id/00Dxx/005xx", "token_type": "Bearer",
            "issued_at": "1795000000000", "signature": "c2ln"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/services/data/v62.0/query"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Sforce-Limit-Info", "api-usage=18/15000")
                .set_body_json(json!({
                    "totalSize": 3000, "done": false,
                    "nextRecordsUrl": "https://attacker.example/services/data/v62.0/query/01g-2000",
                    "records": []
                })),
        )
        .mount(&server)
        .await;
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(server.uri())
        .build()
        .unwrap();
    let e = Source::<ClientCompany>::read(&sf, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Protocol);
    assert_eq!(sf.api_usage(), Some((18, 15_000)));
}

// ------------------------------------------------------------------ writes

#[tokio::test]
async fn one_refused_record_fails_alone() {
    let fake = fake().await;
    fake.reject(
        "Account",
        "Industry",
        "Tobacco",
        "We do not sell to this industry",
    );
    let sf = connector(&fake);
    let mut tobacco = client("Smoke");
    tobacco.industry = Some("Tobacco".into());
    let outcomes = Sink::<ClientCompany>::apply(
        &sf,
        vec![
            upsert("1", client("Acme")),
            upsert("2", client("")), // no name
            upsert("3", tobacco),
            upsert("4", client("Globex")),
        ],
    )
    .await
    .unwrap();
    assert!(matches!(outcomes[0], Outcome::Created(_)));
    let Outcome::Failed(e) = &outcomes[1] else {
        panic!("{:?}", outcomes[1])
    };
    assert_eq!(e.kind(), ConnectorErrorKind::Invalid);
    assert!(e.to_string().contains("REQUIRED_FIELD_MISSING"));
    let Outcome::Failed(e) = &outcomes[2] else {
        panic!("{:?}", outcomes[2])
    };
    assert_eq!(e.kind(), ConnectorErrorKind::Invalid);
    assert!(e.to_string().contains("FIELD_CUSTOM_VALIDATION_EXCEPTION"));
    assert!(matches!(outcomes[3], Outcome::Created(_)));
    assert_eq!(fake.records("Account").len(), 2);
    let id = outcomes[0].remote_id().unwrap();
    let acme = fake.record("Account", id.as_str()).unwrap();
    assert_eq!(acme["Name"], "Acme");
    assert_eq!(acme["Integration_Sync_Id__c"], "odoo:1");
}

#[tokio::test]
async fn a_replayed_upsert_creates_nothing_and_updates_write_only_allowed_fields() {
    let fake = fake().await;
    let sf = connector(&fake);
    // 450 records: three collection calls (the fake refuses more than 200).
    let batch: Vec<SinkRecord<ClientCompany>> = (0..450)
        .map(|i| upsert(&i.to_string(), client(&format!("C{i}"))))
        .collect();
    let first = Sink::<ClientCompany>::apply(&sf, batch.clone())
        .await
        .unwrap();
    assert!(first.iter().all(|o| matches!(o, Outcome::Created(_))));
    let upserts = fake
        .requests()
        .iter()
        .filter(|r| r.ends_with("/composite/sobjects/Account/Integration_Sync_Id__c"))
        .count();
    assert_eq!(upserts, 3);
    let again = Sink::<ClientCompany>::apply(&sf, batch).await.unwrap();
    for (a, b) in first.iter().zip(&again) {
        assert!(matches!(b, Outcome::Updated(_)), "{b:?}");
        assert_eq!(a.remote_id(), b.remote_id());
    }
    assert_eq!(fake.records("Account").len(), 450);

    // An update by id writes only the fields the policy let through.
    let id = first[0].remote_id().unwrap().clone();
    let mut changed = client("Renamed");
    changed.industry = Some("Energy".into());
    let record = upsert("0", changed)
        .with_target(id.clone())
        .only(["industry"]);
    let out = Sink::<ClientCompany>::apply(&sf, vec![record])
        .await
        .unwrap();
    assert!(matches!(&out[0], Outcome::Updated(r) if *r == id));
    let stored = fake.record("Account", id.as_str()).unwrap();
    assert_eq!(
        (stored["Name"].as_str(), stored["Industry"].as_str()),
        (Some("C0"), Some("Energy"))
    );
}

#[tokio::test]
async fn an_ambiguous_external_id_is_an_error_not_a_guess() {
    let fake = fake().await;
    let a = fake.insert(
        "Account",
        json!({"Name": "Twin A", "Integration_Sync_Id__c": "odoo:7"}),
    );
    let b = fake.insert(
        "Account",
        json!({"Name": "Twin B", "Integration_Sync_Id__c": "odoo:7"}),
    );
    let sf = connector(&fake);
    let record = upsert("7", client("Acme"));
    let e = sf.upsert_one(&record).await.unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Ambiguous);
    let out = Sink::<ClientCompany>::apply(&sf, vec![record])
        .await
        .unwrap();
    let Outcome::Failed(e) = &out[0] else {
        panic!("{:?}", out[0])
    };
    assert_eq!(e.kind(), ConnectorErrorKind::Ambiguous);
    // Neither twin was touched, nothing was created.
    assert_eq!(fake.record("Account", &a).unwrap()["Name"], "Twin A");
    assert_eq!(fake.record("Account", &b).unwrap()["Name"], "Twin B");
    assert_eq!(fake.records("Account").len(), 2);

    // The single upsert creates, then updates.
    let one = upsert("8", client("Solo"));
    let created = sf.upsert_one(&one).await.unwrap();
    assert!(matches!(created, Outcome::Created(_)));
    let updated = sf.upsert_one(&one).await.unwrap();
    assert!(matches!(&updated, Outcome::Updated(id) if Some(id) == created.remote_id()));
}

#[tokio::test]
async fn contacts_and_opportunities_are_written_with_their_account() {
    let fake = fake().await;
    let acme_sf = fake.insert("Account", account("Acme"));
    let acme = CanonicalId::new();
    let sf = connector(&fake);
    let ann = Contact {
        name: "Ann Marie Lee".into(),
        email: Some("ann@acme.example".into()),
        client: Some(acme),
        ..Default::default()
    };
    let out = Sink::<Contact>::apply(
        &sf,
        vec![
            upsert("c1", ann.clone()).with_link(acme, RemoteId::new(acme_sf.clone())),
            upsert("c2", ann), // the account is not in Salesforce yet
        ],
    )
    .await
    .unwrap();
    let stored = fake
        .record("Contact", out[0].remote_id().unwrap().as_str())
        .unwrap();
    assert_eq!(stored["FirstName"], "Ann Marie");
    assert_eq!(stored["LastName"], "Lee");
    assert_eq!(stored["AccountId"], acme_sf.as_str());
    let Outcome::Failed(e) = &out[1] else {
        panic!()
    };
    assert_eq!(e.kind(), ConnectorErrorKind::UnresolvedReference);

    let deal = Opportunity {
        name: "Acme rollout".into(),
        client: Some(acme),
        amount: Some(Money::new(
            Decimal::from_str("25000.50").unwrap(),
            Currency::USD,
        )),
        stage: OpportunityStage::Won,
        close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
        ..Default::default()
    };
    let out = Sink::<Opportunity>::apply(
        &sf,
        vec![upsert("o1", deal).with_link(acme, RemoteId::new(acme_sf.clone()))],
    )
    .await
    .unwrap();
    let id = out[0].remote_id().unwrap();
    let stored = fake.record("Opportunity", id.as_str()).unwrap();
    assert_eq!(stored["StageName"], "Closed Won");
    assert_eq!(stored["IsWon"], true);
    assert_eq!(stored["CloseDate"], "2026-12-01");
    assert_eq!(stored["AccountId"], acme_sf.as_str());
    assert_eq!(stored["Amount"].to_string(), "25000.5");

    // An amount in another currency than the org's is refused, not converted.
    let euro = Opportunity {
        name: "Euro deal".into(),
        amount: Some(Money::new(Decimal::ONE, Currency::EUR)),
        ..Default::default()
    };
    let out = Sink::<Opportunity>::apply(&sf, vec![upsert("o2", euro)])
        .await
        .unwrap();
    let Outcome::Failed(e) = &out[0] else {
        panic!()
    };
    assert_eq!(e.kind(), ConnectorErrorKind::Mapping);
}

#[tokio::test]
async fn deletes_go_in_collections_and_are_idempotent() {
    let fake = fake().await;
    let ids: Vec<String> = (0..3)
        .map(|i| fake.insert("Account", account(&format!("D{i}"))))
        .collect();
    let sf = connector(&fake);
    let delete = |id: &str| {
        SinkRecord::<ClientCompany>::new(
            CanonicalId::new(),
            SystemId::odoo(),
            RemoteId::new("x"),
            Operation::Delete,
        )
        .with_target(RemoteId::new(id))
    };
    let out = Sink::<ClientCompany>::apply(&sf, vec![delete(&ids[0]), delete(&ids[1])])
        .await
        .unwrap();
    assert!(out.iter().all(|o| matches!(o, Outcome::Deleted(_))));
    assert_eq!(fake.records("Account").len(), 1);
    // Deleting again: already deleted counts as deleted.
    let out = Sink::<ClientCompany>::apply(&sf, vec![delete(&ids[0])])
        .await
        .unwrap();
    assert!(matches!(out[0], Outcome::Deleted(_)), "{:?}", out[0]);
}

// ------------------------------------------------------------------ line items

/// The price book entry of a generic service product.
const ENTRY: &str = "01u5g00000AbCdEAAV";

fn with_lines(fake: &FakeSalesforce) -> SalesforceConnector {
    SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .line_pricebook_entry(ENTRY)
        .build()
        .unwrap()
}

fn line(description: &str, quantity: &str, price: &str) -> ContractLine {
    ContractLine {
        id: String::new(),
        description: description.into(),
        quantity: Decimal::from_str(quantity).unwrap(),
        unit_price: Some(Money::new(Decimal::from_str(price).unwrap(), Currency::USD)),
        product: None,
    }
}

fn deal(name: &str, lines: Vec<ContractLine>) -> Opportunity {
    Opportunity {
        name: name.into(),
        stage: OpportunityStage::Open,
        close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
        lines,
        ..Default::default()
    }
}

/// The line items of opportunity `id` in the fake.
fn lines_of(fake: &FakeSalesforce, id: &str) -> Vec<serde_json::Value> {
    fake.records("OpportunityLineItem")
        .into_iter()
        .filter(|l| l["OpportunityId"] == id)
        .collect()
}

#[tokio::test]
async fn lines_are_written_with_a_new_opportunity_and_read_back_exactly() {
    let fake = fake().await;
    let sf = with_lines(&fake);
    let lines = vec![
        line("Senior consultant, days", "12.5", "1150.10"),
        line("Licence", "1", "12345678901234.57"),
        line("Hosting, hours", "0.25", "0.0001"),
    ];
    let out = Sink::<Opportunity>::apply(&sf, vec![upsert("o1", deal("Rollout", lines.clone()))])
        .await
        .unwrap();
    let Outcome::Created(id) = &out[0] else {
        panic!("{:?}", out[0])
    };
    let stored = lines_of(&fake, id.as_str());
    assert_eq!(stored.len(), 3);
    for l in &stored {
        assert_eq!(l["PricebookEntryId"], ENTRY);
    }
    // Sent from the decimal's text, never through f64.
    let prices: HashSet<String> = stored.iter().map(|l| l["UnitPrice"].to_string()).collect();
    assert!(prices.contains("12345678901234.57"), "{prices:?}");
    assert!(prices.contains("0.0001"), "{prices:?}");

    let (read, _) = read_all::<Opportunity>(&sf, None, 100).await;
    assert_eq!(read.len(), 1);
    let Operation::Upsert(back) = &read[0].operation else {
        panic!()
    };
    assert_eq!(back.lines.len(), 3);
    for (sent, got) in lines.iter().zip(&back.lines) {
        assert_eq!(got.description, sent.description);
        assert_eq!(got.quantity, sent.quantity);
        assert_eq!(got.unit_price, sent.unit_price);
        assert!(got.id.starts_with("00k"), "{}", got.id);
    }
}

#[tokio::test]
async fn rewriting_lines_replaces_them_and_a_replay_leaves_one_set() {
    let fake = fake().await;
    // Pages of 100 so the line query is paged by nextRecordsUrl.
    fake.set_page_size(100);
    let sf = with_lines(&fake);
    let many: Vec<ContractLine> = (0..250)
        .map(|i| line(&format!("Day {i:03}"), "1", "800"))
        .collect();
    let batch = vec![
        upsert("o1", deal("Big", many)),
        upsert("o2", deal("Small", vec![line("Audit", "2", "950.5")])),
        upsert("o3", deal("None yet", vec![])),
    ];
    let first = Sink::<Opportunity>::apply(&sf, batch.clone())
        .await
        .unwrap();
    assert!(
        first.iter().all(|o| matches!(o, Outcome::Created(_))),
        "{first:?}"
    );
    let ids: Vec<String> = first
        .iter()
        .map(|o| o.remote_id().unwrap().as_str().to_owned())
        .collect();
    assert_eq!(lines_of(&fake, &ids[0]).len(), 250);
    assert_eq!(lines_of(&fake, &ids[1]).len(), 1);
    assert_eq!(lines_of(&fake, &ids[2]).len(), 0);
    // 251 lines: two creates of at most 200.
    let creates = |fake: &FakeSalesforce| {
        fake.requests()
            .iter()
            .filter(|r| r.as_str() == "POST /services/data/v62.0/composite/sobjects")
            .count()
    };
    assert_eq!(creates(&fake), 2);

    // The same batch again: the opportunities are updated, and each has
    // exactly one set of lines.
    let before: HashSet<String> = fake
        .records("OpportunityLineItem")
        .iter()
        .map(|l| l["Id"].as_str().unwrap().to_owned())
        .collect();
    let paged_before = fake
        .requests()
        .iter()
        .filter(|r| r.contains("/query/01g"))
        .count();
    let again = Sink::<Opportunity>::apply(&sf, batch).await.unwrap();
    // 251 line items at 100 a page: the IN query was paged twice.
    let paged = fake
        .requests()
        .iter()
        .filter(|r| r.contains("/query/01g"))
        .count();
    assert_eq!(paged - paged_before, 2);
    for (a, b) in first.iter().zip(&again) {
        assert!(matches!(b, Outcome::Updated(_)), "{b:?}");
        assert_eq!(a.remote_id(), b.remote_id());
    }
    assert_eq!(fake.records("Opportunity").len(), 3);
    assert_eq!(lines_of(&fake, &ids[0]).len(), 250);
    assert_eq!(lines_of(&fake, &ids[1]).len(), 1);
    assert_eq!(fake.records("OpportunityLineItem").len(), 251);
    // Replaced, not kept: none of the old line items is left.
    assert!(
        fake.records("OpportunityLineItem")
            .iter()
            .all(|l| !before.contains(l["Id"].as_str().unwrap()))
    );
    // The old lines were found by one IN query (paged), deleted 200 at a time.
    let deletes = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("DELETE "))
        .count();
    assert_eq!(deletes, 2);

    // An update by id of the lines alone: the opportunity's fields are not
    // sent, its lines are replaced.
    let changed = deal("Renamed", vec![line("Workshop", "3", "1200")]);
    let record = upsert("o2", changed)
        .with_target(RemoteId::new(ids[1].clone()))
        .only(["lines"]);
    let patches_before = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("PATCH "))
        .count();
    let out = Sink::<Opportunity>::apply(&sf, vec![record]).await.unwrap();
    assert!(
        matches!(&out[0], Outcome::Updated(r) if r.as_str() == ids[1]),
        "{:?}",
        out[0]
    );
    let now = lines_of(&fake, &ids[1]);
    assert_eq!(now.len(), 1);
    assert_eq!(now[0]["Description"], "Workshop");
    assert_eq!(now[0]["Quantity"].to_string(), "3");
    assert_eq!(
        fake.record("Opportunity", &ids[1]).unwrap()["Name"],
        "Small"
    );
    let patches_after = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("PATCH "))
        .count();
    assert_eq!(patches_before, patches_after);
}

#[tokio::test]
async fn without_the_option_or_the_field_lines_are_not_written() {
    let fake = fake().await;
    let plain = connector(&fake);
    let out = Sink::<Opportunity>::apply(
        &plain,
        vec![upsert(
            "o1",
            deal("Rollout", vec![line("Audit", "1", "100")]),
        )],
    )
    .await
    .unwrap();
    assert!(matches!(out[0], Outcome::Created(_)), "{:?}", out[0]);
    assert!(fake.records("OpportunityLineItem").is_empty());
    assert!(!fake.requests().iter().any(|r| r.contains("/query")));

    // With the option, a policy that keeps `lines` from Salesforce leaves
    // its line items alone.
    let id = out[0].remote_id().unwrap().clone();
    let kept = fake.insert(
        "OpportunityLineItem",
        json!({"OpportunityId": id.as_str(), "PricebookEntryId": ENTRY, "Quantity": 1, "UnitPrice": 5}),
    );
    let sf = with_lines(&fake);
    let record = upsert("o1", deal("Renamed", vec![line("Other", "2", "7")]))
        .with_target(id.clone())
        .only(["name"]);
    let out = Sink::<Opportunity>::apply(&sf, vec![record]).await.unwrap();
    assert!(matches!(out[0], Outcome::Updated(_)), "{:?}", out[0]);
    let left = lines_of(&fake, id.as_str());
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["Id"], kept.as_str());
    assert_eq!(
        fake.record("Opportunity", id.as_str()).unwrap()["Name"],
        "Renamed"
    );
}

#[tokio::test]
async fn a_refused_line_fails_its_opportunity_with_a_typed_error() {
    let fake = fake().await;
    fake.reject(
        "OpportunityLineItem",
        "Description",
        "Free lunch",
        "There is no such service",
    );
    let sf = with_lines(&fake);
    let mut unpriced = line("Favour", "1", "0");
    unpriced.unit_price = None;
    let mut euro = line("Abroad", "1", "10");
    euro.unit_price = Some(Money::new(Decimal::TEN, Currency::EUR));
    let out = Sink::<Opportunity>::apply(
        &sf,
        vec![
            upsert("o1", deal("Good", vec![line("Audit", "1", "100")])),
            upsert(
                "o2",
                deal(
                    "Bad",
                    vec![line("Audit", "1", "100"), line("Free lunch", "1", "0")],
                ),
            ),
            upsert("o3", deal("Unpriced", vec![unpriced])),
            upsert("o4", deal("Other currency", vec![euro])),
        ],
    )
    .await
    .unwrap();
    assert!(matches!(out[0], Outcome::Created(_)), "{:?}", out[0]);
    let Outcome::Failed(e) = &out[1] else {
        panic!("{:?}", out[1])
    };
    assert_eq!(e.kind(), ConnectorErrorKind::Invalid);
    assert!(
        e.to_string().contains("FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        "{e}"
    );
    assert!(e.to_string().contains("line items of 006"), "{e}");
    // Lines that cannot be written fail their record before anything is
    // sent for it.
    for o in &out[2..] {
        let Outcome::Failed(e) = o else {
            panic!("{o:?}")
        };
        assert_eq!(e.kind(), ConnectorErrorKind::Mapping, "{e}");
    }
    let names: HashSet<String> = fake
        .records("Opportunity")
        .iter()
        .map(|o| o["Name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, HashSet::from(["Good".to_owned(), "Bad".to_owned()]));

    // The refused record, replayed once the rule is fixed in the data:
    // one set of lines, no duplicate opportunity.
    let bad_id = fake
        .records("Opportunity")
        .into_iter()
        .find(|o| o["Name"] == "Bad")
        .unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = Sink::<Opportunity>::apply(
        &sf,
        vec![upsert(
            "o2",
            deal(
                "Bad",
                vec![line("Audit", "1", "100"), line("Lunch", "1", "0")],
            ),
        )],
    )
    .await
    .unwrap();
    assert!(
        matches!(&out[0], Outcome::Updated(r) if r.as_str() == bad_id),
        "{:?}",
        out[0]
    );
    assert_eq!(lines_of(&fake, &bad_id).len(), 2);
}

#[tokio::test]
async fn a_failed_line_call_is_a_typed_error_and_leaves_the_lines() {
    let fake = fake().await;
    let sf = with_lines(&fake);
    let out = Sink::<Opportunity>::apply(
        &sf,
        vec![upsert(
            "o1",
            deal("Rollout", vec![line("Audit", "1", "100")]),
        )],
    )
    .await
    .unwrap();
    let id = out[0].remote_id().unwrap().clone();
    // Lines alone: the first call is the line query, and it meets a
    // maintenance page.
    fake.fail_next(Fault::HtmlPage(503), 1);
    let record = upsert("o1", deal("Rollout", vec![line("Workshop", "1", "9")]))
        .with_target(id.clone())
        .only(["lines"]);
    let out = Sink::<Opportunity>::apply(&sf, vec![record]).await.unwrap();
    let Outcome::Failed(e) = &out[0] else {
        panic!("{:?}", out[0])
    };
    assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    let left = lines_of(&fake, id.as_str());
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["Description"], "Audit");
}

#[tokio::test]
async fn the_fake_refuses_a_line_item_without_a_price_book_entry() {
    let fake = fake().await;
    let opportunity = fake.insert(
        "Opportunity",
        json!({"Name": "Raw", "StageName": "Prospecting", "CloseDate": "2026-01-01"}),
    );
    odoo_integration_client::tls::ensure_crypto_provider().unwrap();
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{}/services/oauth2/token", fake.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}"
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let token: serde_json::Value = serde_json::from_slice(&token).unwrap();
    let results = http
        .post(format!(
            "{}/services/data/v62.0/composite/sobjects",
            fake.url()
        ))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .header("content-type", "application/json")
        .body(
            json!({"allOrNone": false, "records": [
                {"attributes": {"type": "OpportunityLineItem"}, "OpportunityId": opportunity,
                 "Quantity": 1, "UnitPrice": 10},
                {"attributes": {"type": "OpportunityLineItem"}, "OpportunityId": opportunity,
                 "PricebookEntryId": ENTRY, "Quantity": 1, "UnitPrice": 10},
            ]})
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let results: serde_json::Value = serde_json::from_slice(&results).unwrap();
    assert_eq!(results[0]["success"], false);
    assert_eq!(
        results[0]["errors"][0]["statusCode"],
        "REQUIRED_FIELD_MISSING"
    );
    assert_eq!(results[0]["errors"][0]["fields"][0], "PricebookEntryId");
    assert_eq!(results[1]["success"], true);
    // Deleting the opportunity deletes its lines.
    assert!(fake.delete("Opportunity", &opportunity));
    assert!(fake.records("OpportunityLineItem").is_empty());
}

#[test]
fn a_line_price_book_entry_must_be_an_id() {
    let e = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .line_pricebook_entry("Standard Price Book")
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
}

// ------------------------------------------------------------------ getUpdated

#[tokio::test]
async fn updated_ids_returns_exactly_the_ids_changed_in_the_window() {
    use chrono::DurationRound;
    let fake = fake().await;
    let t0 = Utc::now().duration_trunc(TimeDelta::minutes(1)).unwrap() - TimeDelta::hours(2);
    fake.set_clock(Some(t0));
    let before = fake.insert("Account", account("Before the window"));
    let touched = fake.insert("Account", account("Created before, changed in"));
    fake.set_clock(Some(t0 + TimeDelta::minutes(10)));
    let inside = fake.insert("Account", account("Created in the window"));
    assert!(fake.update("Account", &touched, json!({"Industry": "Energy"})));
    // Another type changed in the window is not an Account.
    fake.insert("Contact", json!({"LastName": "Lee"}));
    fake.set_clock(Some(t0 + TimeDelta::minutes(20)));
    let after = fake.insert("Account", account("After the window"));
    let sf = connector(&fake);

    let start = t0 + TimeDelta::minutes(5);
    let end = t0 + TimeDelta::minutes(15);
    let (ids, covered) = sf.updated_ids::<ClientCompany>(start, end).await.unwrap();
    let ids: HashSet<String> = ids.into_iter().collect();
    assert_eq!(ids, HashSet::from([inside.clone(), touched.clone()]));
    assert!(!ids.contains(&before) && !ids.contains(&after));
    assert_eq!(covered, Some(end));
    // The query went to getUpdated with the window.
    assert!(
        fake.requests()
            .iter()
            .any(|r| r.ends_with("/sobjects/Account/updated/")
                || r.ends_with("/sobjects/Account/updated"))
    );

    // A window reaching the present: covered up to the last whole minute.
    let (ids, covered) = sf
        .updated_ids::<ClientCompany>(t0 + TimeDelta::minutes(15), t0 + TimeDelta::hours(1))
        .await
        .unwrap();
    assert_eq!(ids, vec![after]);
    assert_eq!(covered, Some(t0 + TimeDelta::minutes(20)));

    // getUpdated reaches back 30 days: an older start is refused, typed.
    let now = t0 + TimeDelta::minutes(20);
    let e = sf
        .updated_ids::<ClientCompany>(now - TimeDelta::days(31), now)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Invalid);
    assert!(e.to_string().contains("INVALID_REPLICATION_DATE"), "{e}");
}

// ------------------------------------------------------------------ conformance

#[tokio::test]
async fn conformance_for_accounts() {
    let fake = fake().await;
    fake.set_page_size(3);
    for i in 0..7 {
        fake.insert("Account", account(&format!("K{i}")));
    }
    let sf = connector(&fake);
    check_source::<ClientCompany>(&sf).await.assert_ok();
    check_sink::<ClientCompany>(&sf, vec![client("Acme"), client("Globex")])
        .await
        .assert_ok();
}

#[test]
fn the_connector_is_send_and_sync() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<SalesforceConnector>();
}

// ------------------------------------------------------------- field maps

#[tokio::test]
async fn a_custom_field_is_one_map_entry_written_and_read_back() {
    use odoo_integration_connectors::salesforce::{Conversion, FieldMap, account_fields};
    let fake = fake().await;
    let mut map = account_fields();
    map.push(FieldMap::text("tax_id", "VAT_Number__c"));
    // A picklist of the org's own: canonical codes ⇄ picklist values.
    map.retain(|f| f.canonical != "industry");
    map.push(FieldMap::new(
        "industry",
        "Sector__c",
        Conversion::codes([("consulting", "Consulting"), ("software", "Software")]),
    ));
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .account_map(map)
        .build()
        .unwrap();
    let acme = ClientCompany {
        tax_id: Some("BE0123456789".into()),
        industry: Some("software".into()),
        ..client("Acme")
    };
    let outcome = sf.upsert_one(&upsert("42", acme)).await.unwrap();
    let id = outcome.remote_id().unwrap().to_string();
    let stored = fake.record("Account", &id).unwrap();
    assert_eq!(stored["VAT_Number__c"], "BE0123456789");
    assert_eq!(stored["Sector__c"], "Software");

    let (changes, _) = read_all::<ClientCompany>(&sf, None, 10).await;
    let Operation::Upsert(read) = &changes[0].operation else {
        panic!("a delete")
    };
    assert_eq!(read.tax_id.as_deref(), Some("BE0123456789"));
    assert_eq!(read.industry.as_deref(), Some("software"));

    // A code the picklist does not know is a mapping error, not a guess.
    let odd = ClientCompany {
        industry: Some("farming".into()),
        ..client("Odd")
    };
    let err = sf.upsert_one(&upsert("43", odd)).await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Mapping);
}

/// A custom sObject is one object map: an engagement written to
/// `Project__c` (its client as the `Account__c` lookup, by the id the
/// sink has for it), upserted once by the sync field, and read back with
/// its reference; an entity with no map is a configuration error, and the
/// built-in entities cannot be re-mapped this way.
#[tokio::test]
async fn a_custom_object_is_one_map_written_and_read_back() {
    use odoo_integration_connectors::salesforce::{Conversion, FieldMap, ObjectMap};
    use odoo_integration_model::Engagement;
    let org = fake().await;
    let projects = ObjectMap::new("engagement", "Project__c")
        .field(FieldMap::text("name", "Name"))
        .field(FieldMap::new("billable", "Billable__c", Conversion::Bool))
        .field(FieldMap::new("start", "Start_Date__c", Conversion::Date))
        .field(FieldMap::new(
            "client",
            "Account__c",
            Conversion::reference("client"),
        ));
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(org.url())
        .object_map(projects.clone())
        .build()
        .unwrap();
    let caps = odoo_integration_connectors::Connector::capabilities(&sf);
    assert!(caps.can_read("engagement") && caps.can_write("engagement"));

    let account = org.insert("Account", account("Acme"));
    let client = CanonicalId::new();
    let engagement = Engagement {
        name: "Audit 2027".into(),
        client: Some(client),
        billable: true,
        start: chrono::NaiveDate::from_ymd_opt(2027, 1, 4),
        ..Default::default()
    };
    let record = upsert("e1", engagement.clone()).with_link(client, RemoteId::new(&account));
    let first = Sink::<Engagement>::apply(&sf, vec![record.clone()])
        .await
        .unwrap();
    let Outcome::Created(id) = &first[0] else {
        panic!("{first:?}")
    };
    let stored = org.record("Project__c", id.as_str()).unwrap();
    assert_eq!(stored["Name"], "Audit 2027");
    assert_eq!(stored["Account__c"], account.as_str());
    assert_eq!(stored["Billable__c"], true);
    assert_eq!(stored["Start_Date__c"], "2027-01-04");
    // Replayed: found by the sync field, not created again.
    let again = Sink::<Engagement>::apply(&sf, vec![record]).await.unwrap();
    assert!(again[0].is_success(), "{again:?}");
    assert_eq!(org.records("Project__c").len(), 1);

    // Read back, the lookup as a reference to the client.
    let (changes, _) = read_all::<Engagement>(&sf, None, 100).await;
    assert_eq!(changes.len(), 1);
    let change = &changes[0];
    assert_eq!(change.remote_id.as_str(), id.as_str());
    let read = change.operation.record().unwrap();
    assert_eq!(
        (read.name.as_str(), read.billable, read.start),
        ("Audit 2027", true, engagement.start)
    );
    assert_eq!(change.refs["client"].remote_id.as_str(), account.as_str());

    // A reference the sink has no id for is refused, not written empty.
    let unlinked = upsert("e2", engagement);
    let out = Sink::<Engagement>::apply(&sf, vec![unlinked])
        .await
        .unwrap();
    assert!(
        matches!(&out[0], Outcome::Failed(e) if e.kind() == ConnectorErrorKind::UnresolvedReference),
        "{out:?}"
    );

    // No map: a configuration error, before any call.
    let plain = connector(&org);
    let e = Source::<Engagement>::read(&plain, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
    assert!(e.message().contains("object_map"), "{e}");
    // The built-ins keep their own maps.
    let e = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(org.url())
        .object_map(ObjectMap::new("client", "Account").field(FieldMap::text("legal_name", "Name")))
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
}

/// The client-credentials flow needs the org's My Domain: a build with
/// `login.salesforce.com` is refused, and a token request on the login
/// host (which refuses that grant) is a configuration error saying so.
/// The JWT audience stays the login host even when the token is asked of
/// My Domain.
#[tokio::test]
async fn client_credentials_need_my_domain_and_jwt_keeps_the_login_audience() {
    let org = fake().await;
    for login in [
        "https://login.salesforce.com",
        "https://test.salesforce.com/",
    ] {
        let e = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
            .login_url(login)
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
        assert!(e.message().contains("My Domain"), "{e}");
    }
    let wrong_host =
        SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
            .login_url(org.login_url())
            .build()
            .unwrap();
    let e = Source::<ClientCompany>::read(&wrong_host, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Configuration, "{e}");
    assert!(e.message().contains("My Domain"), "{e}");
    assert!(!e.to_string().contains(SECRET));

    org.allow_jwt(CLIENT_ID, USER, PUBLIC_KEY);
    for login in [org.url(), org.login_url()] {
        let jwt = ConnectedApp::jwt_bearer(CLIENT_ID, USER, PRIVATE_KEY).unwrap();
        let sf = SalesforceConnector::builder(jwt)
            .login_url(login)
            .build()
            .unwrap();
        Source::<ClientCompany>::read(&sf, None, 10).await.unwrap();
    }
}

/// New lines are created before the old ones are deleted: when the new
/// lines are refused, the opportunity keeps its old ones (and so its
/// amount) instead of being left without lines.
#[tokio::test]
async fn refused_new_lines_leave_the_old_ones() {
    let fake = fake().await;
    let sf = with_lines(&fake);
    let out = Sink::<Opportunity>::apply(
        &sf,
        vec![upsert(
            "o1",
            deal(
                "Rollout",
                vec![line("Audit", "1", "100"), line("Workshop", "2", "50")],
            ),
        )],
    )
    .await
    .unwrap();
    let id = out[0].remote_id().unwrap().clone();
    fake.reject(
        "OpportunityLineItem",
        "Description",
        "Free lunch",
        "Lines must be billable",
    );
    let record = upsert("o1", deal("Rollout", vec![line("Free lunch", "1", "0")]))
        .with_target(id.clone())
        .only(["lines"]);
    let out = Sink::<Opportunity>::apply(&sf, vec![record]).await.unwrap();
    assert!(matches!(&out[0], Outcome::Failed(_)), "{:?}", out[0]);
    let mut left: Vec<String> = lines_of(&fake, id.as_str())
        .iter()
        .map(|l| l["Description"].as_str().unwrap().to_owned())
        .collect();
    left.sort();
    assert_eq!(left, ["Audit", "Workshop"]);

    // And a replacement that goes through leaves only the new set.
    let record = upsert("o1", deal("Rollout", vec![line("Review", "1", "80")]))
        .with_target(id.clone())
        .only(["lines"]);
    let out = Sink::<Opportunity>::apply(&sf, vec![record]).await.unwrap();
    assert!(out[0].is_success(), "{:?}", out[0]);
    let left = lines_of(&fake, id.as_str());
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["Description"], "Review");
}

// ------------------------------------------------------------ owners, products

/// A signed-in raw client of the fake: (http, token).
async fn raw_client(fake: &FakeSalesforce) -> (reqwest::Client, String) {
    odoo_integration_client::tls::ensure_crypto_provider().unwrap();
    let http = reqwest::Client::new();
    let token = http
        .post(format!("{}/services/oauth2/token", fake.url()))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=client_credentials&client_id={CLIENT_ID}&client_secret={SECRET}"
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let token: serde_json::Value = serde_json::from_slice(&token).unwrap();
    (http, token["access_token"].as_str().unwrap().to_owned())
}

/// The fake as an org: relationship fields come nested (`Owner.Email` as
/// `"Owner": {"attributes", "Email"}`, `null` without an owner); an
/// inactive owner is refused with `INACTIVE_OWNER_OR_USER`; a line item
/// of a price book entry carries its product's `ProductCode`, which is
/// read-only; SOQL compares text without case.
#[tokio::test]
async fn the_fake_nests_relationship_fields_and_refuses_inactive_owners() {
    let fake = fake().await;
    let ann = fake.add_user("ann@firm.example");
    let bram = fake.add_user("bram@firm.example");
    assert!(fake.update("User", &bram, json!({"IsActive": false})));
    let owned = fake.insert(
        "Opportunity",
        json!({"Name": "Owned", "StageName": "Prospecting", "CloseDate": "2026-01-01", "OwnerId": ann}),
    );
    fake.insert(
        "Opportunity",
        json!({"Name": "Unowned", "StageName": "Prospecting", "CloseDate": "2026-01-01"}),
    );
    let product = fake.insert(
        "Product2",
        json!({"Name": "Consultant day", "ProductCode": "CONS-DAY"}),
    );
    let entry = fake.insert(
        "PricebookEntry",
        json!({"Product2Id": product, "UnitPrice": 1150, "IsActive": true}),
    );
    let (http, token) = raw_client(&fake).await;
    let query = |q: &str| {
        let url = format!("{}/services/data/v62.0/query", fake.url());
        let (http, token) = (http.clone(), token.clone());
        let q = q.to_owned();
        async move {
            let q: String = q
                .bytes()
                .map(|b| match b {
                    b if b.is_ascii_alphanumeric() => char::from(b).to_string(),
                    b => format!("%{b:02X}"),
                })
                .collect();
            let r = http
                .get(format!("{url}?q={q}"))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let body: serde_json::Value =
                serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
            (status, body)
        }
    };
    let (status, answer) =
        query("SELECT Id, Name, Owner.Email, Owner.IsActive FROM Opportunity ORDER BY Name").await;
    assert_eq!(status, 200, "{answer}");
    let owner = &answer["records"][0]["Owner"];
    assert_eq!(owner["attributes"]["type"], "User");
    assert_eq!(owner["Email"], "ann@firm.example");
    assert_eq!(owner["IsActive"], true);
    assert!(answer["records"][0].get("Owner.Email").is_none());
    assert!(answer["records"][1]["Owner"].is_null());
    let (_, users) =
        query("SELECT Id FROM User WHERE IsActive = true AND Email IN ('ANN@firm.example')").await;
    assert_eq!(users["totalSize"], 1, "{users}");

    let write = |records: serde_json::Value| {
        let url = format!("{}/services/data/v62.0/composite/sobjects", fake.url());
        let (http, token) = (http.clone(), token.clone());
        async move {
            let body = http
                .patch(url)
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(json!({"allOrNone": false, "records": records}).to_string())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            serde_json::from_slice::<serde_json::Value>(&body).unwrap()
        }
    };
    let results = write(json!([
        {"attributes": {"type": "Opportunity"}, "id": owned, "OwnerId": bram},
        {"attributes": {"type": "Opportunity"}, "id": owned, "OwnerId": "005000000000999999"},
    ]))
    .await;
    assert_eq!(
        results[0]["errors"][0]["statusCode"], "INACTIVE_OWNER_OR_USER",
        "{results}"
    );
    assert_eq!(
        results[1]["errors"][0]["statusCode"], "INVALID_CROSS_REFERENCE_KEY",
        "{results}"
    );
    assert_eq!(
        fake.record("Opportunity", &owned).unwrap()["OwnerId"],
        ann.as_str()
    );

    let line = fake.insert(
        "OpportunityLineItem",
        json!({"OpportunityId": owned, "PricebookEntryId": entry, "Quantity": 2, "UnitPrice": 1000}),
    );
    assert_eq!(
        fake.record("OpportunityLineItem", &line).unwrap()["ProductCode"],
        "CONS-DAY"
    );
    let (_, lines) = query(&format!(
        "SELECT Id, ProductCode, PricebookEntry.Product2.Name FROM OpportunityLineItem WHERE OpportunityId = '{owned}'"
    ))
    .await;
    assert_eq!(lines["records"][0]["ProductCode"], "CONS-DAY");
    assert_eq!(
        lines["records"][0]["PricebookEntry"]["Product2"]["Name"],
        "Consultant day"
    );
    let results = write(json!([
        {"attributes": {"type": "OpportunityLineItem"}, "id": line, "ProductCode": "OTHER"},
    ]))
    .await;
    assert_eq!(
        results[0]["errors"][0]["statusCode"],
        "INVALID_FIELD_FOR_INSERT_UPDATE"
    );
}

/// An opportunity's owner is read as its user's email (`Owner.Email`),
/// and its lines' product codes from `ProductCode`.
#[tokio::test]
async fn opportunity_owners_and_line_products_are_read() {
    let fake = fake().await;
    let ann = fake.add_user("ann@firm.example");
    let owned = fake.insert(
        "Opportunity",
        json!({"Name": "Owned", "StageName": "Closed Won", "CloseDate": "2026-01-01", "OwnerId": ann}),
    );
    let unowned = fake.insert(
        "Opportunity",
        json!({"Name": "Unowned", "StageName": "Prospecting", "CloseDate": "2026-01-01"}),
    );
    let product = fake.insert(
        "Product2",
        json!({"Name": "Consultant day", "ProductCode": "CONS-DAY"}),
    );
    let entry = fake.insert(
        "PricebookEntry",
        json!({"Product2Id": product, "UnitPrice": 1150}),
    );
    fake.insert(
        "OpportunityLineItem",
        json!({"OpportunityId": owned, "PricebookEntryId": entry, "Quantity": 2, "UnitPrice": 1000, "Description": "Days"}),
    );
    fake.insert(
        "OpportunityLineItem",
        json!({"OpportunityId": owned, "PricebookEntryId": ENTRY, "Quantity": 1, "UnitPrice": 50, "Description": "Travel"}),
    );
    let sf = connector(&fake);
    let (read, _) = read_all::<Opportunity>(&sf, None, 100).await;
    let of = |id: &str| {
        let c = read.iter().find(|c| c.remote_id.as_str() == id).unwrap();
        assert!(c.fields.as_ref().unwrap().iter().any(|f| f == "owner"));
        let Operation::Upsert(o) = &c.operation else {
            panic!()
        };
        o.clone()
    };
    let owned = of(&owned);
    assert_eq!(owned.owner.as_deref(), Some("ann@firm.example"));
    let products: Vec<(&str, Option<&str>)> = owned
        .lines
        .iter()
        .map(|l| (l.description.as_str(), l.product.as_deref()))
        .collect();
    assert_eq!(products, [("Days", Some("CONS-DAY")), ("Travel", None)]);
    assert_eq!(of(&unowned).owner, None);
}

/// An opportunity's owner is written by email as the `OwnerId` of the
/// active user with that email (without case); an email no active user
/// has fails that opportunity alone, naming it, and the others are
/// written; several active users with the email are ambiguous. No owner
/// leaves Salesforce's owner as it is (every record has one).
#[tokio::test]
async fn opportunity_owners_are_written_by_email_as_active_users() {
    let fake = fake().await;
    let ann = fake.add_user("ann@firm.example");
    let bram = fake.add_user("bram@firm.example");
    assert!(fake.update("User", &bram, json!({"IsActive": false})));
    fake.add_user("shared@firm.example");
    fake.add_user("shared@firm.example");
    let sf = connector(&fake);
    let owned_by = |name: &str, owner: Option<&str>| Opportunity {
        owner: owner.map(str::to_owned),
        ..deal(name, Vec::new())
    };
    let out = Sink::<Opportunity>::apply(
        &sf,
        vec![
            upsert("o1", owned_by("Ann's", Some("Ann@Firm.example"))),
            upsert("o2", owned_by("Stranger's", Some("nobody@firm.example"))),
            upsert("o3", owned_by("Bram's", Some("bram@firm.example"))),
            upsert("o4", owned_by("Shared", Some("shared@firm.example"))),
            upsert("o5", owned_by("Nobody's", None)),
        ],
    )
    .await
    .unwrap();
    let Outcome::Created(id) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        fake.record("Opportunity", id.as_str()).unwrap()["OwnerId"],
        ann.as_str()
    );
    for (n, email, kind) in [
        (1, "nobody@firm.example", ConnectorErrorKind::Invalid),
        (2, "bram@firm.example", ConnectorErrorKind::Invalid),
        (3, "shared@firm.example", ConnectorErrorKind::Ambiguous),
    ] {
        let Outcome::Failed(e) = &out[n] else {
            panic!("{:?}", out[n])
        };
        assert_eq!(e.kind(), kind, "{e}");
        assert!(e.to_string().contains(email), "{e}");
    }
    assert!(matches!(out[4], Outcome::Created(_)), "{:?}", out[4]);
    assert_eq!(fake.records("Opportunity").len(), 2);
    // One query (for the users of the batch), whatever its size.
    let queries = fake
        .requests()
        .iter()
        .filter(|r| r.starts_with("GET ") && r.contains("/query"))
        .count();
    assert_eq!(queries, 1, "{:?}", fake.requests());

    // No owner on an update: OwnerId left alone, not cleared.
    let record = upsert("o1", owned_by("Ann's", None)).with_target(id.clone());
    let out = Sink::<Opportunity>::apply(&sf, vec![record]).await.unwrap();
    assert!(out[0].is_success(), "{out:?}");
    assert_eq!(
        fake.record("Opportunity", id.as_str()).unwrap()["OwnerId"],
        ann.as_str()
    );
}

/// A price book of the fake: (book, generic entry, entries by code).
struct Books {
    partner_entry: String,
    generic: String,
    entries: HashMap<&'static str, String>,
}

/// Seeds the standard price book with a generic `SERVICES` entry and
/// `CONS-DAY`, `TRAVEL` and an inactive `OLD`, and a partner price book
/// with its own `CONS-DAY`.
fn price_books(fake: &FakeSalesforce) -> Books {
    let standard = fake.insert(
        "Pricebook2",
        json!({"Name": "Standard Price Book", "IsActive": true}),
    );
    let partner = fake.insert("Pricebook2", json!({"Name": "Partners", "IsActive": true}));
    let mut entries = HashMap::new();
    let mut partner_entry = String::new();
    for (code, active) in [
        ("SERVICES", true),
        ("CONS-DAY", true),
        ("TRAVEL", true),
        ("OLD", false),
    ] {
        let product = fake.insert("Product2", json!({"Name": code, "ProductCode": code}));
        let entry = fake.insert(
            "PricebookEntry",
            json!({"Pricebook2Id": standard, "Product2Id": product, "UnitPrice": 100, "IsActive": active}),
        );
        if code == "CONS-DAY" {
            partner_entry = fake.insert(
                "PricebookEntry",
                json!({"Pricebook2Id": partner, "Product2Id": product, "UnitPrice": 90, "IsActive": true}),
            );
        }
        entries.insert(code, entry);
    }
    Books {
        partner_entry,
        generic: entries["SERVICES"].clone(),
        entries,
    }
}

/// The fake holds line items to their opportunity's price book: the
/// first line's entry gives an opportunity without one its
/// `Pricebook2Id`; an entry of another book, or an inactive one, fails
/// with `FIELD_INTEGRITY_EXCEPTION`.
#[tokio::test]
async fn the_fake_keeps_an_opportunitys_lines_in_its_price_book() {
    let fake = fake().await;
    let books = price_books(&fake);
    let opportunity = fake.insert(
        "Opportunity",
        json!({"Name": "Raw", "StageName": "Prospecting", "CloseDate": "2026-01-01"}),
    );
    let (http, token) = raw_client(&fake).await;
    let line = |entry: &str| {
        json!({"attributes": {"type": "OpportunityLineItem"}, "OpportunityId": opportunity,
               "PricebookEntryId": entry, "Quantity": 1, "UnitPrice": 10})
    };
    let body = json!({"allOrNone": false, "records": [
        line(&books.entries["CONS-DAY"]),
        line(&books.partner_entry),
        line(&books.entries["OLD"]),
    ]});
    let results = http
        .post(format!(
            "{}/services/data/v62.0/composite/sobjects",
            fake.url()
        ))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let results: serde_json::Value = serde_json::from_slice(&results).unwrap();
    assert_eq!(results[0]["success"], true, "{results}");
    let book = fake
        .record("PricebookEntry", &books.entries["CONS-DAY"])
        .unwrap()["Pricebook2Id"]
        .clone();
    assert_eq!(
        fake.record("Opportunity", &opportunity).unwrap()["Pricebook2Id"],
        book
    );
    for n in [1, 2] {
        assert_eq!(
            results[n]["errors"][0]["statusCode"], "FIELD_INTEGRITY_EXCEPTION",
            "{results}"
        );
    }
    let message = results[2]["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("inactive"), "{message}");
}

/// A line with a product code is written on that product's active entry
/// in the configured entry's price book (codes without case); a line
/// without one on the configured entry. A code with no active entry
/// there fails its opportunity before anything is sent, naming the code.
#[tokio::test]
async fn lines_with_a_product_code_are_written_on_that_products_entry() {
    let fake = fake().await;
    let books = price_books(&fake);
    let sf = SalesforceConnector::builder(ConnectedApp::client_credentials(CLIENT_ID, SECRET))
        .login_url(fake.url())
        .line_pricebook_entry(&books.generic)
        .build()
        .unwrap();
    let with_product = |description: &str, product: Option<&str>| ContractLine {
        product: product.map(str::to_owned),
        ..line(description, "2", "100")
    };
    let out = Sink::<Opportunity>::apply(
        &sf,
        vec![
            upsert(
                "o1",
                deal(
                    "Rollout",
                    vec![
                        with_product("Days", Some("CONS-DAY")),
                        with_product("Trips", Some("travel")),
                        with_product("Other", None),
                    ],
                ),
            ),
            upsert(
                "o2",
                deal("Old", vec![with_product("Old thing", Some("OLD"))]),
            ),
            upsert(
                "o3",
                deal("Unknown", vec![with_product("What", Some("NOPE"))]),
            ),
        ],
    )
    .await
    .unwrap();
    let Outcome::Created(id) = &out[0] else {
        panic!("{out:?}")
    };
    let entries: HashMap<String, String> = lines_of(&fake, id.as_str())
        .iter()
        .map(|l| {
            (
                l["Description"].as_str().unwrap().to_owned(),
                l["PricebookEntryId"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(entries["Days"], books.entries["CONS-DAY"]);
    assert_eq!(entries["Trips"], books.entries["TRAVEL"]);
    assert_eq!(entries["Other"], books.generic);
    for (n, code) in [(1, "OLD"), (2, "NOPE")] {
        let Outcome::Failed(e) = &out[n] else {
            panic!("{:?}", out[n])
        };
        assert_eq!(e.kind(), ConnectorErrorKind::Invalid, "{e}");
        assert!(e.to_string().contains(code), "{e}");
    }
    assert_eq!(fake.records("Opportunity").len(), 1);

    let (read, _) = read_all::<Opportunity>(&sf, None, 100).await;
    let Operation::Upsert(back) = &read[0].operation else {
        panic!()
    };
    let products: HashMap<&str, Option<&str>> = back
        .lines
        .iter()
        .map(|l| (l.description.as_str(), l.product.as_deref()))
        .collect();
    assert_eq!(products["Days"], Some("CONS-DAY"));
    assert_eq!(products["Trips"], Some("TRAVEL"));
    assert_eq!(products["Other"], Some("SERVICES"));
}

/// With a configured entry Salesforce does not have, a line naming a
/// product cannot be placed (its price book is unknown): its
/// opportunity fails as misconfigured, and nothing is written.
#[tokio::test]
async fn a_product_line_without_a_known_configured_entry_fails_its_record() {
    let fake = fake().await;
    let sf = with_lines(&fake);
    let mut product_line = line("Days", "1", "100");
    product_line.product = Some("CONS-DAY".into());
    let out =
        Sink::<Opportunity>::apply(&sf, vec![upsert("o1", deal("Rollout", vec![product_line]))])
            .await
            .unwrap();
    let Outcome::Failed(e) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(e.kind(), ConnectorErrorKind::Configuration, "{e}");
    assert!(e.to_string().contains("CONS-DAY"), "{e}");
    assert!(fake.records("Opportunity").is_empty());
}
