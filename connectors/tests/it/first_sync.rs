#![allow(clippy::unwrap_used)]
//! A first sync into an Odoo that already holds the data: it links what
//! matches instead of duplicating it (HubSpot fake → embedded Odoo).

use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, DATABASE, TestServer};
use odoo_integration_client::{Credentials, Protocol};
use odoo_integration_connectors::hubspot::HubSpotConnector;
use odoo_integration_connectors::odoo::OdooConnector;
use odoo_integration_connectors::{
    ConnectorErrorKind, DeadLetterQueue, MemoryStore, Pipeline, Quota, RateLimiter, XrefStore,
};
use odoo_integration_fakes::hubspot::FakeHubSpot;
use odoo_integration_model::{ClientCompany, Contact, RemoteId, SystemId};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn odoo(server: &TestServer) -> Arc<OdooConnector> {
    let client = odoo_integration_client::Client::builder(server.url())
        .database(DATABASE)
        .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
        .protocol(Protocol::Json2)
        .build()
        .unwrap();
    Arc::new(OdooConnector::new(client))
}

fn hubspot(fake: &FakeHubSpot) -> Arc<HubSpotConnector> {
    Arc::new(
        HubSpotConnector::new(fake.token())
            .unwrap()
            .base_url(&fake.url())
            .settle(Duration::ZERO)
            .limiter(RateLimiter::new(Quota::unlimited())),
    )
}

/// A partner as the test server gives it.
type Row = serde_json::Map<String, Value>;

/// The partners of `server` that are companies, and those that are not
/// (Odoo's own users' partners left out).
fn partners(server: &TestServer) -> (Vec<Row>, Vec<Row>) {
    let all = server.records("res.partner").unwrap();
    let people = all
        .iter()
        .filter(|p| {
            p["is_company"] == false
                && p["email"]
                    .as_str()
                    .is_some_and(|e| e.to_lowercase().contains("northwind"))
        })
        .cloned()
        .collect();
    let companies = all
        .into_iter()
        .filter(|p| {
            p["is_company"] == true && p["name"].as_str().is_some_and(|n| n.contains("Northwind"))
        })
        .collect();
    (companies, people)
}

fn id_of(row: &Row) -> i64 {
    row["id"].as_i64().unwrap()
}

/// Odoo holds Northwind Traders (with its website) and its two contacts;
/// HubSpot holds the same company, written differently, and the same two
/// people. After the first sync Odoo still holds one of each, each linked
/// to its HubSpot record, and the contacts still belong to the company.
#[tokio::test]
async fn a_first_sync_links_what_odoo_already_holds() {
    let server = TestServer::builder().start().await.unwrap();
    let company = server
        .insert(
            "res.partner",
            json!({"name": "Northwind Traders Ltd", "is_company": true, "website": "https://www.northwind.example"}),
        )
        .unwrap();
    for (name, email) in [
        ("Maria Anders", "maria.anders@northwind.example"),
        ("Thomas Hardy", "thomas.hardy@northwind.example"),
    ] {
        server
            .insert(
                "res.partner",
                json!({"name": name, "email": email, "is_company": false, "parent_id": company}),
            )
            .unwrap();
    }

    let crm = FakeHubSpot::start().await.unwrap();
    let hs_company = crm.insert(
        "companies",
        [
            ("name", "Northwind Traders"),
            ("website", "northwind.example"),
        ],
    );
    let mut hs_contacts = Vec::new();
    for (first, last, email) in [
        ("Maria", "Anders", "Maria.Anders@Northwind.example"),
        ("Thomas", "Hardy", "thomas.hardy@northwind.example"),
    ] {
        let id = crm.insert(
            "contacts",
            [("firstname", first), ("lastname", last), ("email", email)],
        );
        crm.associate("contacts", &id, "companies", &hs_company);
        hs_contacts.push(id);
    }

    let store = Arc::new(MemoryStore::new());
    let (source, sink) = (hubspot(&crm), odoo(&server));
    let clients =
        Pipeline::<ClientCompany>::builder("clients", source.clone(), sink.clone(), store.clone())
            .build()
            .unwrap()
            .run()
            .await
            .unwrap();
    assert_eq!((clients.created, clients.updated), (0, 1), "{clients:?}");
    let contacts = Pipeline::<Contact>::builder("contacts", source, sink, store.clone())
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
    assert_eq!(
        (contacts.created, contacts.dead_lettered),
        (0, 0),
        "{contacts:?}"
    );

    let (companies, people) = partners(&server);
    assert_eq!(companies.len(), 1, "{companies:?}");
    assert_eq!(id_of(&companies[0]), company);
    assert_eq!(people.len(), 2, "{people:?}");
    for p in &people {
        assert_eq!(p["parent_id"][0].as_i64(), Some(company), "{p:?}");
    }
    // Each HubSpot record is linked to the Odoo record it matched.
    let linked = |entity: &str, hs: &str| {
        let store = store.clone();
        let (entity, hs) = (entity.to_owned(), hs.to_owned());
        async move {
            let id = store
                .resolve(&entity, &SystemId::hubspot(), &RemoteId::new(hs))
                .await
                .unwrap()
                .unwrap();
            store
                .cross_refs(id)
                .await
                .unwrap()
                .get(&SystemId::odoo())
                .cloned()
        }
    };
    assert_eq!(
        linked("client", &hs_company).await,
        Some(RemoteId::new(company.to_string()))
    );
    let odoo_people: Vec<RemoteId> = people
        .iter()
        .map(|p| RemoteId::new(id_of(p).to_string()))
        .collect();
    for hs in &hs_contacts {
        let odoo_id = linked("contact", hs).await.unwrap();
        assert!(odoo_people.contains(&odoo_id), "{odoo_id}");
    }
}

/// Two Odoo companies share the name and nothing tells them apart: the
/// record is held for a person to link, never created.
#[tokio::test]
async fn an_ambiguous_match_is_held_not_created() {
    let server = TestServer::builder().start().await.unwrap();
    for city in ["Leeds", "London"] {
        server
            .insert(
                "res.partner",
                json!({"name": "Northwind Traders", "is_company": true, "city": city}),
            )
            .unwrap();
    }
    let crm = FakeHubSpot::start().await.unwrap();
    crm.insert("companies", [("name", "Northwind Traders")]);
    let store = Arc::new(MemoryStore::new());
    let summary =
        Pipeline::<ClientCompany>::builder("clients", hubspot(&crm), odoo(&server), store.clone())
            .build()
            .unwrap()
            .run()
            .await
            .unwrap();
    assert_eq!(
        (summary.created, summary.dead_lettered),
        (0, 1),
        "{summary:?}"
    );
    let letters = store.letters("client").await.unwrap();
    assert_eq!(letters[0].error.kind, ConnectorErrorKind::Ambiguous);
    assert_eq!(partners(&server).0.len(), 2);
}

/// Matching can be turned off: then the first sync creates.
#[tokio::test]
async fn matching_off_creates() {
    let server = TestServer::builder().start().await.unwrap();
    server
        .insert(
            "res.partner",
            json!({"name": "Northwind Traders", "is_company": true}),
        )
        .unwrap();
    let crm = FakeHubSpot::start().await.unwrap();
    crm.insert("companies", [("name", "Northwind Traders")]);
    let summary = Pipeline::<ClientCompany>::builder(
        "clients",
        hubspot(&crm),
        odoo(&server),
        Arc::new(MemoryStore::new()),
    )
    .match_existing(false)
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(summary.created, 1);
    assert_eq!(partners(&server).0.len(), 2);
}

/// Employees too: Odoo already holds the two consultants (one by work
/// email, one by badge number); the HRIS's first sync links them and
/// creates only the newcomer.
#[cfg(feature = "bamboohr")]
#[tokio::test]
async fn a_first_employee_sync_links_by_work_email_or_number() {
    use odoo_integration_connectors::bamboohr::BambooHrConnector;
    use odoo_integration_fakes::bamboohr::FakeBambooHr;
    use odoo_integration_model::Employee;

    let server = TestServer::builder().start().await.unwrap();
    let ann = server
        .insert(
            "hr.employee",
            json!({"name": "Ann Lee", "work_email": "ann.lee@example.com"}),
        )
        .unwrap();
    let bo = server
        .insert("hr.employee", json!({"name": "Bo Lind", "barcode": "E-2"}))
        .unwrap();
    let hris = FakeBambooHr::start().await.unwrap();
    for (first, last, email, number) in [
        ("Ann", "Lee", "Ann.Lee@example.com", "E-1"),
        ("Bo", "Lind", "bo.lind@example.com", "E-2"),
        ("Cy", "Moss", "cy.moss@example.com", "E-3"),
    ] {
        hris.insert_employee([
            ("firstName", first),
            ("lastName", last),
            ("workEmail", email),
            ("employeeNumber", number),
        ]);
    }
    let source = Arc::new(
        BambooHrConnector::new(hris.company(), hris.api_key())
            .unwrap()
            .base_url(&hris.url())
            .settle(Duration::ZERO)
            .limiter(RateLimiter::new(Quota::unlimited())),
    );
    let summary = Pipeline::<Employee>::builder(
        "people",
        source,
        odoo(&server),
        Arc::new(MemoryStore::new()),
    )
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(
        (summary.created, summary.updated, summary.dead_lettered),
        (1, 2, 0),
        "{summary:?}"
    );
    let employees = server.records("hr.employee").unwrap();
    let named = |n: &str| employees.iter().filter(|e| e["name"] == n).count();
    assert_eq!(
        (named("Ann Lee"), named("Bo Lind"), named("Cy Moss")),
        (1, 1, 1),
        "{employees:?}"
    );
    let id_of_named = |n: &str| employees.iter().find(|e| e["name"] == n).map(id_of);
    assert_eq!(id_of_named("Ann Lee"), Some(ann));
    assert_eq!(id_of_named("Bo Lind"), Some(bo));
}
