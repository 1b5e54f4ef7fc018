#![allow(clippy::unwrap_used)]
//! The HubSpot connector's contacts, deals, line items and associations,
//! its rate-limit handling and archived polling, against the stateful fake
//! HubSpot (`odoo_integration_fakes::hubspot`).

use odoo_integration_connectors::hubspot::{FieldMap, HubSpotConnector, ObjectMap};
use odoo_integration_connectors::{
    ConnectorErrorKind, Cursor, Operation, Outcome, Quota, RateLimiter, Sink, SinkRecord, Source,
    SourceChange,
};
use odoo_integration_fakes::hubspot::FakeHubSpot;
use odoo_integration_model::{
    CanonicalId, ClientCompany, Contact, ContractLine, Currency, Money, Opportunity,
    OpportunityStage, RemoteId, SystemId,
};
use rust_decimal::Decimal;
use std::time::Duration;

fn connector(fake: &FakeHubSpot) -> HubSpotConnector {
    HubSpotConnector::new(fake.token())
        .unwrap()
        .base_url(&fake.url())
        .settle(Duration::ZERO)
        .limiter(RateLimiter::new(Quota::unlimited()))
}

/// Every change a source has now, page by page.
async fn read_all<E: odoo_integration_model::Entity + Send + Sync + 'static>(
    hs: &HubSpotConnector,
    cursor: Option<Cursor>,
) -> (Vec<SourceChange<E>>, Option<Cursor>)
where
    HubSpotConnector: Source<E>,
{
    let (changes, next) = odoo_integration_connectors::read_to_end::<E>(hs, cursor, 50)
        .await
        .unwrap();
    (changes, Some(next))
}

fn upsert<E>(c: &SourceChange<E>) -> &E {
    match &c.operation {
        Operation::Upsert(e) => e,
        Operation::Delete => panic!("{} is a delete", c.remote_id),
    }
}

fn euros(n: i64) -> Money {
    Money::new(Decimal::from(n), Currency::EUR)
}

/// Contacts come with their name from two properties and their primary
/// company as the client reference, for every contact of every page.
#[tokio::test]
async fn contacts_carry_their_primary_company() {
    let fake = FakeHubSpot::start().await.unwrap();
    let acme = fake.insert("companies", [("name", "Acme")]);
    let other = fake.insert("companies", [("name", "Other")]);
    odoo_integration_client::tls::ensure_crypto_provider().unwrap();
    let http = reqwest::Client::new();
    let mut primary_other = Vec::new();
    for n in 0..120 {
        let props = serde_json::json!({
            "firstname": format!("Ann{n}"),
            "lastname": "Van Damme",
            "email": format!("ann{n}@acme.example"),
        });
        let id = if n % 10 == 0 {
            // Created with Other as its primary company (type 1), and then
            // also associated with Acme, whose id is lower: the primary
            // one is the reference, not the first by id.
            let answer: serde_json::Value = http
                .post(format!("{}/crm/v3/objects/contacts/batch/create", fake.url()))
                .bearer_auth(fake.token())
                .header("content-type", "application/json")
                .body(serde_json::to_vec(&serde_json::json!({"inputs": [{"properties": props, "associations": [
                    {"to": {"id": other}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]}
                ]}]})).unwrap())
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .map(|b| serde_json::from_slice(&b).unwrap())
                .unwrap();
            let id = answer["results"][0]["id"].as_str().unwrap().to_owned();
            primary_other.push(id.clone());
            id
        } else {
            let props: Vec<(String, String)> = props
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            fake.insert("contacts", props)
        };
        fake.associate("contacts", &id, "companies", &acme);
    }
    let loner = fake.insert("contacts", [("firstname", "Solo")]);
    let hs = connector(&fake);
    let (changes, _) = read_all::<Contact>(&hs, None).await;
    assert_eq!(changes.len(), 121);
    for c in &changes {
        let contact = upsert(c);
        let fields = c.fields.as_deref().unwrap();
        assert!(fields.contains(&"client".to_owned()), "{fields:?}");
        if c.remote_id.as_str() == loner {
            assert_eq!(contact.name, "Solo");
            assert!(!c.refs.contains_key("client"), "no company, no reference");
            continue;
        }
        assert!(contact.name.starts_with("Ann") && contact.name.ends_with(" Van Damme"));
        let client = &c.refs["client"];
        assert_eq!(client.entity, "client");
        let expected = if primary_other.contains(&c.remote_id.to_string()) {
            &other
        } else {
            &acme
        };
        assert_eq!(&client.remote_id.as_str(), expected, "{}", c.remote_id);
    }
    // Each association batch read covers a page, not a contact.
    let association_reads = fake.call_count("/crm/v4/associations/contacts/companies/batch/read");
    assert!(
        association_reads <= 3,
        "{association_reads} association reads for 3 pages"
    );
}

/// Deals: money with its currency, coded stages, dates, the company and
/// the line items, read in batch.
#[tokio::test]
async fn deals_carry_amount_stage_company_and_line_items() {
    let fake = FakeHubSpot::start().await.unwrap();
    let acme = fake.insert("companies", [("name", "Acme")]);
    let won = fake.insert(
        "deals",
        [
            ("dealname", "Roll-out"),
            ("amount", "48000.50"),
            ("deal_currency_code", "EUR"),
            ("dealstage", "closedwon"),
            ("closedate", "2026-11-20T00:00:00.000Z"),
        ],
    );
    fake.associate("deals", &won, "companies", &acme);
    for (name, qty, price) in [
        ("Consulting days", "40", "1000"),
        ("Migration", "1", "8000"),
    ] {
        let line = fake.insert(
            "line_items",
            [
                ("name", name),
                ("quantity", qty),
                ("price", price),
                ("hs_line_item_currency_code", "EUR"),
            ],
        );
        fake.associate("deals", &won, "line_items", &line);
    }
    let open = fake.insert(
        "deals",
        [
            ("dealname", "Audit"),
            ("dealstage", "presentationscheduled"),
            ("amount", "12000"),
        ],
    );
    let broken = fake.insert("deals", [("dealname", "Typo"), ("amount", "twelve")]);
    let hs = connector(&fake).currency(Currency::GBP);
    let (changes, _) = read_all::<Opportunity>(&hs, None).await;
    assert_eq!(changes.len(), 3);
    let by_id = |id: &str| changes.iter().find(|c| c.remote_id.as_str() == id).unwrap();

    let deal = upsert(by_id(&won));
    assert_eq!(deal.stage, OpportunityStage::Won);
    assert_eq!(
        deal.amount,
        Some(Money::new("48000.50".parse().unwrap(), Currency::EUR))
    );
    assert_eq!(
        deal.close_date,
        chrono::NaiveDate::from_ymd_opt(2026, 11, 20)
    );
    assert_eq!(by_id(&won).refs["client"].remote_id.as_str(), acme);
    let lines: Vec<(&str, Decimal, Option<Money>)> = deal
        .lines
        .iter()
        .map(|l| (l.description.as_str(), l.quantity, l.unit_price))
        .collect();
    assert_eq!(
        lines,
        vec![
            ("Consulting days", Decimal::from(40), Some(euros(1000))),
            ("Migration", Decimal::ONE, Some(euros(8000))),
        ]
    );

    // Any other stage is open; no currency code means the account's.
    let audit = upsert(by_id(&open));
    assert_eq!(audit.stage, OpportunityStage::Open);
    assert_eq!(
        audit.amount,
        Some(Money::new(Decimal::from(12000), Currency::GBP))
    );
    assert!(audit.lines.is_empty());

    // An amount HubSpot holds as text that is no number is left out of
    // the change (so it clears nothing); the rest of the deal still syncs.
    let typo = by_id(&broken);
    assert_eq!(upsert(typo).name, "Typo");
    assert!(
        !typo
            .fields
            .as_deref()
            .unwrap()
            .contains(&"amount".to_owned())
    );
}

fn record<E>(origin_id: &str, data: E) -> SinkRecord<E> {
    SinkRecord::new(
        CanonicalId::new(),
        SystemId::odoo(),
        RemoteId::new(origin_id),
        Operation::Upsert(data),
    )
}

/// A contact's client is written as the association, and a changed client
/// moves it: the old association is removed, not left beside the new one.
#[tokio::test]
async fn a_contacts_client_is_written_as_its_association() {
    let fake = FakeHubSpot::start().await.unwrap();
    fake.unique_property("contacts", "integration_sync_id");
    let acme = fake.insert("companies", [("name", "Acme")]);
    let globex = fake.insert("companies", [("name", "Globex")]);
    let hs = connector(&fake);
    let acme_id = CanonicalId::new();
    let globex_id = CanonicalId::new();
    let ann = Contact {
        name: "Ann Van Damme".into(),
        email: Some("ann@acme.example".into()),
        client: Some(acme_id),
        ..Default::default()
    };
    let out = Sink::<Contact>::apply(
        &hs,
        vec![record("7", ann.clone()).with_link(acme_id, RemoteId::new(&acme))],
    )
    .await
    .unwrap();
    let Outcome::Created(id) = &out[0] else {
        panic!("{out:?}")
    };
    let stored = fake.record("contacts", id.as_str()).unwrap();
    assert_eq!(stored.property("firstname"), Some("Ann"));
    assert_eq!(stored.property("lastname"), Some("Van Damme"));
    assert_eq!(stored.property("integration_sync_id"), Some("odoo:7"));
    assert_eq!(
        fake.associations("contacts", id.as_str(), "companies"),
        vec![acme.clone()]
    );

    // Moved to Globex: only the client is written.
    let moved = Contact {
        client: Some(globex_id),
        ..ann.clone()
    };
    let out = Sink::<Contact>::apply(
        &hs,
        vec![
            record("7", moved)
                .with_target(id.clone())
                .only(["client"])
                .with_link(globex_id, RemoteId::new(&globex)),
        ],
    )
    .await
    .unwrap();
    assert!(matches!(&out[0], Outcome::Updated(_)), "{out:?}");
    assert_eq!(
        fake.associations("contacts", id.as_str(), "companies"),
        vec![globex]
    );
    assert_eq!(
        fake.associations("companies", &acme, "contacts"),
        Vec::<String>::new()
    );

    // A client not in HubSpot yet fails the record, and writes nothing.
    let before = fake.records("contacts").len();
    let out = Sink::<Contact>::apply(
        &hs,
        vec![record(
            "8",
            Contact {
                name: "Bo".into(),
                client: Some(CanonicalId::new()),
                ..Default::default()
            },
        )],
    )
    .await
    .unwrap();
    let Outcome::Failed(e) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(e.kind(), ConnectorErrorKind::UnresolvedReference);
    assert_eq!(fake.records("contacts").len(), before);
}

/// A deal's lines become line items associated with it; writing the lines
/// again replaces them, so a replay never leaves two sets.
#[tokio::test]
async fn deal_lines_are_written_as_a_whole() {
    let fake = FakeHubSpot::start().await.unwrap();
    fake.unique_property("deals", "integration_sync_id");
    let hs = connector(&fake);
    let line = |d: &str, q: i64, p: i64| ContractLine {
        id: String::new(),
        description: d.into(),
        quantity: Decimal::from(q),
        unit_price: Some(euros(p)),
        product: None,
    };
    let deal = Opportunity {
        name: "Roll-out".into(),
        stage: OpportunityStage::Won,
        amount: Some(euros(48_000)),
        close_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
        lines: vec![
            line("Consulting days", 40, 1000),
            line("Migration", 1, 8000),
        ],
        ..Default::default()
    };
    let mut first = None;
    for _ in 0..2 {
        // The same batch twice, as a replay after a lost answer would.
        let out = Sink::<Opportunity>::apply(&hs, vec![record("q-1", deal.clone())])
            .await
            .unwrap();
        let id = out[0].remote_id().unwrap().clone();
        assert!(first.get_or_insert(id.clone()) == &id, "one deal");
    }
    let id = first.unwrap();
    let stored = fake.record("deals", id.as_str()).unwrap();
    assert_eq!(stored.property("dealstage"), Some("closedwon"));
    assert_eq!(stored.property("amount"), Some("48000"));
    assert_eq!(stored.property("deal_currency_code"), Some("EUR"));
    assert_eq!(
        stored.property("closedate"),
        Some("2026-12-01T00:00:00.000Z")
    );
    let items = fake.associations("deals", id.as_str(), "line_items");
    assert_eq!(items.len(), 2, "one set of line items after a replay");
    let live: Vec<_> = fake
        .records("line_items")
        .into_iter()
        .filter(|l| !l.archived)
        .collect();
    assert_eq!(live.len(), 2);

    // And they read back as the deal's lines.
    let (changes, _) = read_all::<Opportunity>(&hs, None).await;
    let back = upsert(&changes[0]);
    let described: Vec<_> = back.lines.iter().map(|l| l.description.as_str()).collect();
    assert_eq!(described, ["Consulting days", "Migration"]);
}

/// When HubSpot says the ten-second budget is spent, the connector waits
/// the window out instead of being refused; a 429 it gets anyway is a
/// rate-limited error carrying the wait.
#[tokio::test]
async fn the_ten_second_window_pauses_requests_before_hubspot_refuses() {
    let fake = FakeHubSpot::builder()
        .rate_limit(4, Duration::from_millis(400))
        .start()
        .await
        .unwrap();
    fake.insert("companies", [("name", "Acme")]);
    let hs = connector(&fake);
    for _ in 0..12 {
        Source::<ClientCompany>::read(&hs, None, 10).await.unwrap();
    }
    let refused = fake.calls().iter().filter(|c| c.status == 429).count();
    assert_eq!(
        refused, 0,
        "the remaining-0 header paused the limiter in time"
    );

    // A 429 (another app spent the budget) carries the window as its wait.
    let fake = FakeHubSpot::builder()
        .rate_limit(1, Duration::from_secs(30))
        .retry_after(None)
        .start()
        .await
        .unwrap();
    let other = connector(&fake);
    let _ = Source::<ClientCompany>::read(&other, None, 10).await; // spends it
    let fresh = connector(&fake); // its own limiter, not paused
    let e = Source::<ClientCompany>::read(&fresh, None, 10)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(30)));
}

/// With poll_archived, a read that has caught up hands out the records
/// archived since the last look as deletes (and only those).
#[tokio::test]
async fn archived_records_become_deletes_when_polled() {
    let fake = FakeHubSpot::start().await.unwrap();
    // More archived records than a page of the list, so every look pages
    // through them with `after`.
    for n in 0..150 {
        let old = fake.insert("companies", [("name", format!("Archived long ago {n}"))]);
        fake.archive("companies", &old);
    }
    let keep = fake.insert("companies", [("name", "Acme")]);
    let gone = fake.insert("companies", [("name", "Globex")]);
    let hs = connector(&fake)
        .poll_archived(true)
        .archived_every(Duration::ZERO);
    let (first, cursor) = read_all::<ClientCompany>(&hs, None).await;
    assert_eq!(
        first.len(),
        2,
        "the first look only sets the mark: {first:?}"
    );
    assert!(first.iter().all(|c| !c.operation.is_delete()));

    fake.archive("companies", &gone);
    let lists = |fake: &FakeHubSpot| {
        fake.calls()
            .iter()
            .filter(|c| c.method == "GET" && c.path == "/crm/v3/objects/companies")
            .count()
    };
    let before = lists(&fake);
    let (second, cursor) = read_all::<ClientCompany>(&hs, cursor).await;
    assert_eq!(lists(&fake) - before, 2, "151 archived records: two pages");
    assert_eq!(second.len(), 1, "{second:?}");
    assert!(second[0].operation.is_delete());
    assert_eq!(second[0].remote_id.as_str(), gone);

    let (third, _) = read_all::<ClientCompany>(&hs, cursor).await;
    assert!(third.is_empty(), "a delete is handed out once: {third:?}");
    assert!(fake.record("companies", &keep).is_some_and(|r| !r.archived));
}

/// A deal's webhook events: a stage change is a partial change; an amount
/// change (amount and currency are one field) and an association change
/// read the deal whole.
#[tokio::test]
async fn deal_webhooks_become_opportunity_changes() {
    use odoo_integration_connectors::hubspot::WebhookEvent;
    let fake = FakeHubSpot::start().await.unwrap();
    let acme = fake.insert("companies", [("name", "Acme")]);
    let a = fake.insert("deals", [("dealname", "A"), ("dealstage", "closedwon")]);
    let b = fake.insert(
        "deals",
        [
            ("dealname", "B"),
            ("amount", "10"),
            ("deal_currency_code", "EUR"),
        ],
    );
    fake.associate("deals", &b, "companies", &acme);
    let body = format!(
        r#"[
      {{"eventId":1,"subscriptionType":"deal.propertyChange","objectId":{a},"occurredAt":1795000000000,"propertyName":"dealstage","propertyValue":"closedlost"}},
      {{"eventId":2,"subscriptionType":"deal.propertyChange","objectId":{b},"occurredAt":1795000000100,"propertyName":"amount","propertyValue":"10"}},
      {{"eventId":3,"subscriptionType":"company.propertyChange","objectId":{acme},"occurredAt":1795000000200,"propertyName":"name","propertyValue":"Acme NV"}}
    ]"#
    );
    let events = WebhookEvent::parse_batch(body.as_bytes()).unwrap();
    let changes = connector(&fake)
        .changes::<Opportunity>(&events)
        .await
        .unwrap();
    assert_eq!(changes.len(), 2, "{changes:?}");
    let stage = changes.iter().find(|c| c.remote_id.as_str() == a).unwrap();
    assert_eq!(upsert(stage).stage, OpportunityStage::Lost);
    assert_eq!(stage.fields.as_deref(), Some(&["stage".to_owned()][..]));
    let whole = changes.iter().find(|c| c.remote_id.as_str() == b).unwrap();
    assert_eq!(upsert(whole).amount, Some(euros(10)));
    assert_eq!(whole.refs["client"].remote_id.as_str(), acme);
}

/// The generic source and sink pass the conformance kit for contacts and
/// deals too (companies are checked in `hubspot.rs`).
#[tokio::test]
async fn contacts_and_deals_pass_the_testkit() {
    let fake = FakeHubSpot::start().await.unwrap();
    for object in ["contacts", "deals"] {
        fake.unique_property(object, "integration_sync_id");
    }
    fake.insert("contacts", [("firstname", "Ann"), ("lastname", "Peeters")]);
    fake.insert("deals", [("dealname", "Roll-out")]);
    let hs = connector(&fake);
    odoo_integration_connectors::testkit::check_source::<Contact>(&hs)
        .await
        .assert_ok();
    odoo_integration_connectors::testkit::check_source::<Opportunity>(&hs)
        .await
        .assert_ok();
    let ann = Contact {
        name: "Ann Peeters".into(),
        ..Default::default()
    };
    odoo_integration_connectors::testkit::check_sink::<Contact>(&hs, vec![ann])
        .await
        .assert_ok();
    let deal = Opportunity {
        name: "Roll-out".into(),
        ..Default::default()
    };
    odoo_integration_connectors::testkit::check_sink::<Opportunity>(&hs, vec![deal])
        .await
        .assert_ok();
    // A property the map adds (the ERP project reference) is read and
    // written like the built-in ones.
    let mut deals = ObjectMap::deals();
    deals
        .properties
        .push(FieldMap::text("project_ref", "odoo_project_id"));
    let hs = connector(&fake).object_map(deals);
    let id = fake.insert(
        "deals",
        [("dealname", "With project"), ("odoo_project_id", "42")],
    );
    let (changes, _) = read_all::<Opportunity>(&hs, None).await;
    let with = changes.iter().find(|c| c.remote_id.as_str() == id).unwrap();
    assert_eq!(upsert(with).project_ref.as_deref(), Some("42"));
}

// ------------------------------------- from the fake's own tests

/// The HubSpot connector against the fake with its default limiter and
/// settle time: the incremental read past the 10,000-result wall, and
/// idempotent writes through upsert.
mod wall_and_replays {
    use odoo_integration_connectors::hubspot::HubSpotConnector;
    use odoo_integration_connectors::{Cursor, Operation, Outcome, Sink, SinkRecord, Source};
    use odoo_integration_fakes::hubspot::{FakeHubSpot, Fault};
    use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
    use std::collections::HashMap;
    use std::time::Duration;

    fn connector(hs: &FakeHubSpot) -> HubSpotConnector {
        HubSpotConnector::new(hs.token())
            .unwrap()
            .base_url(&hs.url())
    }

    #[tokio::test]
    async fn the_connector_reads_every_company_once_past_the_wall() {
        let hs = FakeHubSpot::builder()
            .rate_limit(10_000, Duration::from_secs(10))
            .start()
            .await
            .unwrap();
        for i in 0..10_200 {
            if i == 5_000 {
                hs.set_tick(Duration::ZERO);
            }
            if i == 5_250 {
                hs.set_tick(Duration::from_millis(1));
                hs.advance(Duration::from_millis(1));
            }
            hs.insert("companies", [("name", format!("Company {i}"))]);
        }
        let hs_conn = connector(&hs);
        let mut cursor: Option<Cursor> = None;
        let mut count: HashMap<String, usize> = HashMap::new();
        loop {
            let page = Source::<ClientCompany>::read(&hs_conn, cursor.as_ref(), 100)
                .await
                .unwrap();
            for c in page.changes {
                *count.entry(c.remote_id.to_string()).or_default() += 1;
            }
            cursor = Some(page.next);
            if !page.has_more {
                break;
            }
        }
        assert_eq!(count.len(), 10_200);
        assert!(count.values().all(|n| *n == 1));
        assert!(
            hs.calls().iter().all(|c| c.status == 200),
            "a search past the wall"
        );
    }

    #[tokio::test]
    async fn the_connector_upserts_idempotently_and_fails_alone() {
        let hs = FakeHubSpot::start().await.unwrap();
        hs.unique_property("companies", "integration_sync_id");
        hs.required("companies", "name");
        let batch: Vec<SinkRecord<ClientCompany>> = (0..5)
            .map(|i| {
                SinkRecord::new(
                    CanonicalId::new(),
                    SystemId::odoo(),
                    RemoteId::new(i.to_string()),
                    Operation::Upsert(ClientCompany {
                        legal_name: if i == 3 {
                            String::new()
                        } else {
                            format!("Client {i}")
                        },
                        ..Default::default()
                    }),
                )
            })
            .collect();
        let hs_conn = connector(&hs);
        let first = Sink::<ClientCompany>::apply(&hs_conn, batch.clone())
            .await
            .unwrap();
        assert_eq!(
            first
                .iter()
                .filter(|o| matches!(o, Outcome::Created(_)))
                .count(),
            4
        );
        assert!(
            matches!(&first[3], Outcome::Failed(e) if e.to_string().contains("name is required"))
        );
        // A lost answer, then the replay: no duplicates.
        hs.fail_next(Fault::LostAnswer);
        assert!(
            Sink::<ClientCompany>::apply(&hs_conn, batch.clone())
                .await
                .is_err()
        );
        let again = Sink::<ClientCompany>::apply(&hs_conn, batch).await.unwrap();
        assert_eq!(
            again
                .iter()
                .filter(|o| matches!(o, Outcome::Updated(_)))
                .count(),
            4
        );
        assert_eq!(hs.records("companies").len(), 4);
    }
}

/// A custom property is one map entry: written to HubSpot's body in its
/// wire form and read back through the same conversion.
#[tokio::test]
async fn a_custom_property_is_one_map_entry_written_and_read_back() {
    use odoo_integration_connectors::hubspot::{Conversion, company_properties};
    let fake = FakeHubSpot::start().await.unwrap();
    fake.unique_property("companies", "integration_sync_id");
    let mut map = company_properties();
    map.push(FieldMap::text("tax_id", "vat_number"));
    map.retain(|f| f.canonical != "industry");
    map.push(FieldMap::new(
        "industry",
        "erp_sector",
        Conversion::codes([("consulting", "CONS"), ("software", "SOFT")]),
    ));
    let hs = connector(&fake).company_map(map);
    let acme = ClientCompany {
        legal_name: "Acme".into(),
        tax_id: Some("BE0123456789".into()),
        industry: Some("software".into()),
        ..Default::default()
    };
    let out = Sink::<ClientCompany>::apply(&hs, vec![record("9", acme)])
        .await
        .unwrap();
    let Outcome::Created(id) = &out[0] else {
        panic!("{out:?}")
    };
    let stored = fake.record("companies", id.as_str()).unwrap();
    assert_eq!(stored.property("vat_number"), Some("BE0123456789"));
    assert_eq!(stored.property("erp_sector"), Some("SOFT"));
    let (changes, _) = read_all::<ClientCompany>(&hs, None).await;
    let back = changes
        .iter()
        .find(|c| c.remote_id.as_str() == id.as_str())
        .unwrap();
    assert_eq!(upsert(back).tax_id.as_deref(), Some("BE0123456789"));
    assert_eq!(upsert(back).industry.as_deref(), Some("software"));
}

/// Contacts are read by `lastmodifieddate` (a contact search by
/// `hs_lastmodifieddate` finds none): all of them first, then only the
/// one changed since.
#[tokio::test]
async fn contacts_are_read_incrementally_by_their_own_modified_property() {
    let fake = FakeHubSpot::start().await.unwrap();
    let ann = fake.insert("contacts", [("firstname", "Ann"), ("lastname", "Lee")]);
    fake.insert("contacts", [("firstname", "Bob"), ("lastname", "Ray")]);
    let hs = connector(&fake);
    let (all, cursor) = read_all::<Contact>(&hs, None).await;
    assert_eq!(all.len(), 2);
    fake.update("contacts", &ann, [("email", "ann@acme.example")]);
    let (changed, _) = read_all::<Contact>(&hs, cursor).await;
    assert_eq!(changed.len(), 1);
    assert_eq!(changed[0].remote_id.as_str(), ann);
    assert_eq!(
        upsert(&changed[0]).email.as_deref(),
        Some("ann@acme.example")
    );
}

/// HubSpot pages a v4 association read per object: a deal with more
/// line items than a page is read whole, and replacing its lines archives
/// every old item, not only the first page's.
#[tokio::test]
async fn association_reads_follow_their_pages() {
    let fake = FakeHubSpot::start().await.unwrap();
    fake.unique_property("deals", "integration_sync_id");
    fake.set_association_page_size(2);
    let hs = connector(&fake);
    let line = |d: &str| ContractLine {
        id: String::new(),
        description: d.into(),
        quantity: Decimal::ONE,
        unit_price: Some(euros(100)),
        product: None,
    };
    let mut deal = Opportunity {
        name: "Roll-out".into(),
        stage: OpportunityStage::Won,
        lines: ["One", "Two", "Three", "Four", "Five"].map(line).to_vec(),
        ..Default::default()
    };
    let out = Sink::<Opportunity>::apply(&hs, vec![record("q-1", deal.clone())])
        .await
        .unwrap();
    let id = out[0].remote_id().unwrap().clone();
    let (changes, _) = read_all::<Opportunity>(&hs, None).await;
    assert_eq!(upsert(&changes[0]).lines.len(), 5, "every page read");

    deal.lines = vec![line("Only")];
    Sink::<Opportunity>::apply(&hs, vec![record("q-1", deal).with_target(id.clone())])
        .await
        .unwrap();
    let items = fake.associations("deals", id.as_str(), "line_items");
    assert_eq!(items.len(), 1, "no old line item left: {items:?}");
    let live = fake
        .records("line_items")
        .into_iter()
        .filter(|l| !l.archived)
        .count();
    assert_eq!(live, 1);
}

/// Writing a contact's client moves its primary company and removes only
/// the association to the old primary one: the other companies a user
/// linked the contact to stay linked, and the client reads back as the
/// new primary company.
#[tokio::test]
async fn a_changed_client_leaves_other_company_links_alone() {
    let fake = FakeHubSpot::start().await.unwrap();
    fake.unique_property("contacts", "integration_sync_id");
    let acme = fake.insert("companies", [("name", "Acme")]);
    let globex = fake.insert("companies", [("name", "Globex")]);
    let partner = fake.insert("companies", [("name", "Partner firm")]);
    let hs = connector(&fake);
    let (acme_id, globex_id) = (CanonicalId::new(), CanonicalId::new());
    let ann = Contact {
        name: "Ann Lee".into(),
        client: Some(acme_id),
        ..Default::default()
    };
    let out = Sink::<Contact>::apply(
        &hs,
        vec![record("7", ann.clone()).with_link(acme_id, RemoteId::new(&acme))],
    )
    .await
    .unwrap();
    let id = out[0].remote_id().unwrap().clone();
    assert!(
        fake.association_types("contacts", id.as_str(), "companies", &acme)
            .contains(&1)
    );
    // A user links Ann to a partner firm too (unlabeled).
    assert!(fake.associate("contacts", id.as_str(), "companies", &partner));

    let moved = Contact {
        client: Some(globex_id),
        ..ann
    };
    Sink::<Contact>::apply(
        &hs,
        vec![
            record("7", moved)
                .with_target(id.clone())
                .only(["client"])
                .with_link(globex_id, RemoteId::new(&globex)),
        ],
    )
    .await
    .unwrap();
    let mut linked = fake.associations("contacts", id.as_str(), "companies");
    linked.sort();
    let mut expected = vec![globex.clone(), partner.clone()];
    expected.sort();
    assert_eq!(linked, expected, "Acme removed, the partner firm kept");
    assert!(
        fake.association_types("contacts", id.as_str(), "companies", &globex)
            .contains(&1)
    );
    let (changes, _) = read_all::<Contact>(&hs, None).await;
    assert_eq!(changes[0].refs["client"].remote_id.as_str(), globex);
}

/// HubSpot's daily limit: once the day's requests are spent the 429
/// names `policyName: DAILY`, and the error asks to wait until midnight in
/// the account's time zone, not for the ten-second window.
#[tokio::test]
async fn the_daily_limit_waits_for_midnight_in_the_accounts_time_zone() {
    let fake = FakeHubSpot::builder().daily_limit(2).start().await.unwrap();
    fake.insert("companies", [("name", "Acme")]);
    let tokyo = chrono::FixedOffset::east_opt(9 * 3600).unwrap();
    let hs = connector(&fake).account_utc_offset(tokyo);
    Source::<ClientCompany>::read(&hs, None, 10).await.unwrap();
    // Reads spend the rest of the day's two requests.
    let mut refused = None;
    for _ in 0..3 {
        if let Err(e) = Source::<ClientCompany>::read(&hs, None, 10).await {
            refused = Some(e);
            break;
        }
    }
    let e = refused.expect("the daily limit refuses a read");
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited, "{e}");
    let now = chrono::Utc::now().with_timezone(&tokyo);
    let midnight = (now.date_naive() + chrono::Days::new(1))
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_local_timezone(tokyo)
        .unwrap();
    let expected = (midnight - now).to_std().unwrap();
    let wait = e.retry_after().expect("the wait until the reset");
    let off = wait.abs_diff(expected);
    assert!(off < Duration::from_secs(60), "{wait:?} vs {expected:?}");
    assert!(e.to_string().contains("daily"), "{e}");
}

/// A merge webhook: the records merged away become deletes and the one
/// that remains is read whole; a privacy deletion is a delete.
#[tokio::test]
async fn merged_and_privacy_deleted_contacts_become_deletes() {
    use odoo_integration_connectors::hubspot::WebhookEvent;
    let fake = FakeHubSpot::start().await.unwrap();
    let kept = fake.insert("contacts", [("firstname", "Ann"), ("lastname", "Lee")]);
    let merged = fake.insert("contacts", [("firstname", "Ann"), ("lastname", "L.")]);
    let erased = fake.insert("contacts", [("firstname", "Bo"), ("lastname", "Ray")]);
    // HubSpot archives the merged record.
    fake.archive("contacts", &merged);
    let body = format!(
        r#"[
      {{"eventId":1,"subscriptionType":"contact.merge","objectId":{kept},"occurredAt":1795000000000,
        "primaryObjectId":{kept},"mergedObjectIds":[{merged}],"newObjectId":{kept},"numberOfPropertiesMoved":2}},
      {{"eventId":2,"subscriptionType":"contact.privacyDeletion","objectId":{erased},"occurredAt":1795000000100}}
    ]"#
    );
    let events = WebhookEvent::parse_batch(body.as_bytes()).unwrap();
    let changes = connector(&fake).changes::<Contact>(&events).await.unwrap();
    let of = |id: &str| changes.iter().find(|c| c.remote_id.as_str() == id);
    assert!(of(&merged).unwrap().operation.is_delete(), "{changes:?}");
    assert!(of(&erased).unwrap().operation.is_delete(), "{changes:?}");
    assert_eq!(upsert(of(&kept).unwrap()).name, "Ann Lee");
    assert_eq!(changes.len(), 3, "{changes:?}");
}

// ------------------------------------------------------------ owners, SKUs

/// A deal's owner (`hubspot_owner_id`) is read as the owner's email,
/// from one listing of the owners for every deal of every page, not a
/// request per deal; a deal owned by an archived owner still reads its
/// email (from the archived listing); an unowned deal has none.
#[tokio::test]
async fn deal_owners_are_read_as_emails_from_one_owner_listing() {
    use odoo_integration_connectors::hubspot::WebhookEvent;
    let fake = FakeHubSpot::start().await.unwrap();
    let ann = fake.add_owner("ann@firm.example", "Ann", "Peeters");
    let bram = fake.add_owner("bram@firm.example", "Bram", "De Smet");
    let chloe = fake.add_owner("chloe@firm.example", "Chloé", "Martin");
    for n in 0..120 {
        let owner = if n % 2 == 0 { &ann } else { &chloe };
        fake.insert(
            "deals",
            [
                ("dealname", format!("Deal {n}")),
                ("hubspot_owner_id", owner.clone()),
            ],
        );
    }
    let left = fake.insert(
        "deals",
        [("dealname", "Left"), ("hubspot_owner_id", bram.as_str())],
    );
    fake.archive_owner(&bram);
    let unowned = fake.insert("deals", [("dealname", "Unowned")]);
    let hs = connector(&fake);
    let (changes, cursor) = read_all::<Opportunity>(&hs, None).await;
    assert_eq!(changes.len(), 122);
    let owner_of = |id: &str| {
        let c = changes.iter().find(|c| c.remote_id.as_str() == id).unwrap();
        assert!(c.fields.as_ref().unwrap().iter().any(|f| f == "owner"));
        upsert(c).owner.clone()
    };
    assert_eq!(owner_of(&left).as_deref(), Some("bram@firm.example"));
    assert_eq!(owner_of(&unowned), None);
    let by_ann = changes
        .iter()
        .filter(|c| upsert(c).owner.as_deref() == Some("ann@firm.example"))
        .count();
    assert_eq!(by_ann, 60);
    // Three pages of deals, and no owner read one by one: the active
    // owners listed once; for Bram's id, not among them, listed again (an
    // owner added since?) and the archived ones once.
    assert_eq!(fake.call_count("/crm/v3/owners"), 3);
    assert!(
        fake.calls()
            .iter()
            .all(|c| !c.path.starts_with("/crm/v3/owners/"))
    );

    // Later reads use what was listed.
    fake.insert(
        "deals",
        [("dealname", "New"), ("hubspot_owner_id", ann.as_str())],
    );
    let (more, _) = read_all::<Opportunity>(&hs, cursor).await;
    assert_eq!(upsert(&more[0]).owner.as_deref(), Some("ann@firm.example"));
    assert_eq!(fake.call_count("/crm/v3/owners"), 3);

    // A webhook's owner change reads the deal whole, owner included.
    let dana = fake.add_owner("dana@firm.example", "Dana", "Smits");
    fake.update("deals", &unowned, [("hubspot_owner_id", dana.as_str())]);
    let body = format!(
        r#"[{{"eventId":9,"subscriptionType":"deal.propertyChange","objectId":{unowned},"occurredAt":1795000000000,"propertyName":"hubspot_owner_id","propertyValue":"{dana}"}}]"#
    );
    let events = WebhookEvent::parse_batch(body.as_bytes()).unwrap();
    let changed = hs.changes::<Opportunity>(&events).await.unwrap();
    assert_eq!(changed.len(), 1);
    assert_eq!(
        upsert(&changed[0]).owner.as_deref(),
        Some("dana@firm.example")
    );
}

/// A deal's owner is written by email as the owner's id (emails match
/// without case); an email no active owner has fails that deal alone
/// with a typed error naming it, and the others are written.
#[tokio::test]
async fn deal_owners_are_written_by_email_and_an_unknown_one_fails_its_deal() {
    let fake = FakeHubSpot::start().await.unwrap();
    fake.unique_property("deals", "integration_sync_id");
    let ann = fake.add_owner("ann@firm.example", "Ann", "Peeters");
    let bram = fake.add_owner("bram@firm.example", "Bram", "De Smet");
    fake.archive_owner(&bram);
    let hs = connector(&fake);
    let deal = |name: &str, owner: Option<&str>| Opportunity {
        name: name.into(),
        owner: owner.map(str::to_owned),
        ..Default::default()
    };
    let out = Sink::<Opportunity>::apply(
        &hs,
        vec![
            record("d-1", deal("Owned", Some("Ann@Firm.example"))),
            record("d-2", deal("Stranger", Some("nobody@firm.example"))),
            record("d-3", deal("Left", Some("bram@firm.example"))),
            record("d-4", deal("Unowned", None)),
        ],
    )
    .await
    .unwrap();
    let Outcome::Created(owned) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(
        fake.record("deals", owned.as_str())
            .unwrap()
            .property("hubspot_owner_id"),
        Some(ann.as_str())
    );
    for (n, email) in [(1, "nobody@firm.example"), (2, "bram@firm.example")] {
        let Outcome::Failed(e) = &out[n] else {
            panic!("{:?}", out[n])
        };
        assert_eq!(e.kind(), ConnectorErrorKind::Invalid, "{e}");
        assert!(e.to_string().contains(email), "{e}");
    }
    assert!(out[3].is_success(), "{:?}", out[3]);
    assert_eq!(fake.records("deals").len(), 2);

    // Clearing the owner of a deal HubSpot has clears the property.
    let mut clear = record("d-1", deal("Owned", None));
    clear.target_id = Some(owned.clone());
    let out = Sink::<Opportunity>::apply(&hs, vec![clear]).await.unwrap();
    assert!(out[0].is_success(), "{out:?}");
    assert_eq!(
        fake.record("deals", owned.as_str())
            .unwrap()
            .property("hubspot_owner_id"),
        None
    );
}

/// A line's product code is the line item's `hs_sku`: written with the
/// line and read back.
#[tokio::test]
async fn line_product_codes_are_line_item_skus() {
    let fake = FakeHubSpot::start().await.unwrap();
    fake.unique_property("deals", "integration_sync_id");
    let hs = connector(&fake);
    let line = |d: &str, sku: Option<&str>| ContractLine {
        id: String::new(),
        description: d.into(),
        quantity: Decimal::ONE,
        unit_price: Some(euros(100)),
        product: sku.map(str::to_owned),
    };
    let deal = Opportunity {
        name: "Roll-out".into(),
        lines: vec![
            line("Consulting day", Some("CONS-DAY")),
            line("Travel", None),
        ],
        ..Default::default()
    };
    let out = Sink::<Opportunity>::apply(&hs, vec![record("q-1", deal)])
        .await
        .unwrap();
    let id = out[0].remote_id().unwrap().clone();
    let items = fake.associations("deals", id.as_str(), "line_items");
    let skus: Vec<Option<String>> = items
        .iter()
        .map(|i| {
            fake.record("line_items", i)
                .unwrap()
                .property("hs_sku")
                .map(str::to_owned)
        })
        .collect();
    assert!(skus.contains(&Some("CONS-DAY".into())), "{skus:?}");
    assert!(skus.contains(&None), "{skus:?}");
    let (changes, _) = read_all::<Opportunity>(&hs, None).await;
    let back = upsert(&changes[0]);
    let products: Vec<(&str, Option<&str>)> = back
        .lines
        .iter()
        .map(|l| (l.description.as_str(), l.product.as_deref()))
        .collect();
    assert_eq!(
        products,
        [("Consulting day", Some("CONS-DAY")), ("Travel", None)]
    );
}
