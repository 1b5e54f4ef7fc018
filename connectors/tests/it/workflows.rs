#![allow(clippy::unwrap_used)]
//! Workflows against the embedded Odoo as a stock Community server has it.

use odoo_integration_client::Protocol;
use odoo_integration_client::test_server::{Field, FieldKind, TestServer};
use odoo_integration_connectors::odoo::OdooConnector;
use odoo_integration_connectors::workflows::Approval;
use odoo_integration_connectors::{ConnectorErrorKind, Operation, read_to_end};
use odoo_integration_model::{ApprovalState, TimesheetEntry};

/// Timesheet lines as a workflow reads them, each judged by `approval`.
async fn lines(server: &TestServer, approval: &Approval) -> Vec<TimesheetEntry> {
    let odoo = OdooConnector::new(server.client(Protocol::Json2).unwrap())
        .with_map(approval.timesheet_map());
    let (changes, _) = read_to_end::<TimesheetEntry>(&odoo, None, 100)
        .await
        .unwrap();
    changes
        .into_iter()
        .filter_map(|c| match c.operation {
            Operation::Upsert(mut line) => {
                approval.judge(&mut line);
                Some(line)
            }
            Operation::Delete => None,
        })
        .collect()
}

/// On a stock Community server (no approval field): a custom field that
/// is not there is refused before anything is read or written, naming the
/// field and the way out; Enterprise's is not detected; approval up to a
/// cutoff reads the demo timesheets and splits them by date.
#[tokio::test]
async fn approval_on_a_stock_community_server() {
    let server = TestServer::builder()
        .with_demo_data()
        .start()
        .await
        .unwrap();
    let odoo = server.client(Protocol::Json2).unwrap();
    assert_eq!(Approval::detect(&odoo).await.unwrap(), None);
    let before = server.calls().len();
    let e = Approval::field("x_approved")
        .check(&odoo)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
    let text = e.to_string();
    for hint in ["has no field `x_approved`", "boolean", "Approval::UpTo"] {
        assert!(text.contains(hint), "{text}");
    }
    let e = Approval::Validated.check(&odoo).await.unwrap_err();
    assert!(e.to_string().contains("Enterprise"), "{e}");
    // Only fields_get was asked: nothing read, nothing written.
    assert!(
        server.calls()[before..]
            .iter()
            .all(|c| c.method == "fields_get")
    );

    let all = lines(&server, &Approval::UpTo(chrono::NaiveDate::MAX)).await;
    assert!(!all.is_empty(), "the demo data has timesheets");
    assert!(all.iter().all(|l| l.approval == ApprovalState::Approved));
    let dates: Vec<_> = all.iter().filter_map(|l| l.date).collect();
    let cutoff = *dates.iter().min().unwrap();
    let split = lines(&server, &Approval::UpTo(cutoff)).await;
    let approved = split
        .iter()
        .filter(|l| l.approval == ApprovalState::Approved)
        .count();
    let at_cutoff = dates.iter().filter(|d| **d <= cutoff).count();
    assert_eq!(approved, at_cutoff);
}

/// A custom boolean that is there is read as the approval.
#[tokio::test]
async fn approval_by_a_custom_field() {
    let server = TestServer::builder()
        .with_demo_data()
        .field(
            "account.analytic.line",
            Field::new("x_approved", FieldKind::Boolean),
        )
        .start()
        .await
        .unwrap();
    let odoo = server.client(Protocol::Json2).unwrap();
    let approval = Approval::field("x_approved");
    approval.check(&odoo).await.unwrap();
    let first = server.records("account.analytic.line").unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    odoo.model("account.analytic.line")
        .write([first], &serde_json::json!({"x_approved": true}))
        .send()
        .await
        .unwrap();
    let read = lines(&server, &approval).await;
    let approved = read
        .iter()
        .filter(|l| l.approval == ApprovalState::Approved)
        .count();
    assert_eq!(approved, 1);
    assert!(read.len() > 1);
}

/// Invoices into an Odoo whose books are locked up to 31 October: the one
/// dated inside the locked period is held for review (never written, as
/// Odoo would quietly book it in November), the other goes through.
/// Without the hold (no `period_date`), the embedded Odoo shows what a
/// real one does: the invoice is written and its accounting date moved.
#[tokio::test]
async fn invoices_dated_in_a_locked_period_are_held() {
    use odoo_integration_connectors::odoo::ModelMap;
    use odoo_integration_connectors::sources::VecSource;
    use odoo_integration_connectors::{DeadLetterQueue, MemoryStore, Pipeline, SourceChange};
    use odoo_integration_model::Invoice;
    use std::sync::Arc;

    let server = TestServer::builder().start().await.unwrap();
    let odoo = server.client(Protocol::Json2).unwrap();
    let company = server.records("res.company").unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    odoo.model("res.company")
        .write(
            [company],
            &serde_json::json!({"fiscalyear_lock_date": "2026-10-31"}),
        )
        .send()
        .await
        .unwrap();
    let invoice = |d: u32, m: u32| Invoice {
        date: chrono::NaiveDate::from_ymd_opt(2026, m, d),
        ..Default::default()
    };
    let at = chrono::Utc::now();
    let changes = vec![
        SourceChange::upsert("october", at, invoice(15, 10)),
        SourceChange::upsert("november", at, invoice(15, 11)),
    ];
    let dated = |day: &str| {
        server
            .records("account.move")
            .unwrap()
            .into_iter()
            .filter(|m| m["invoice_date"] == day)
            .collect::<Vec<_>>()
    };

    let state = Arc::new(MemoryStore::new());
    let summary = Pipeline::<Invoice>::builder(
        "billing",
        Arc::new(VecSource::new("billing", changes.clone())),
        Arc::new(OdooConnector::new(odoo.clone())),
        state.clone(),
    )
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(
        (summary.created, summary.dead_lettered),
        (1, 1),
        "{summary:?}"
    );
    let letters = state.letters("invoice").await.unwrap();
    assert_eq!(letters[0].error.kind, ConnectorErrorKind::PeriodLocked);
    assert!(
        letters[0]
            .error
            .message
            .contains("fiscalyear_lock_date 2026-10-31"),
        "{:?}",
        letters[0].error
    );
    assert!(
        dated("2026-10-15").is_empty(),
        "nothing written into the locked period"
    );
    assert_eq!(dated("2026-11-15").len(), 1);

    // Posted, then its period locked: Odoo refuses to change what it books.
    let november = dated("2026-11-15")[0]["id"].as_i64().unwrap();
    let partner = server
        .insert(
            "res.partner",
            serde_json::json!({"name": "Acme", "is_company": true}),
        )
        .unwrap();
    let moves = odoo.model("account.move");
    moves
        .write(
            [november],
            &serde_json::json!({"partner_id": partner, "invoice_line_ids": [[0, 0, {"name": "Work", "quantity": 1, "price_unit": 100}]]}),
        )
        .send()
        .await
        .unwrap();
    let _: serde_json::Value = odoo
        .call("account.move", "action_post")
        .ids([november])
        .send()
        .await
        .unwrap();
    let lock = |day: &'static str| {
        odoo.model("res.company")
            .write([company], &serde_json::json!({"fiscalyear_lock_date": day}))
            .send()
    };
    lock("2026-11-30").await.unwrap();
    let refused = moves
        .write(
            [november],
            &serde_json::json!({"invoice_date": "2026-11-20"}),
        )
        .send()
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("lock date 2026-11-30"),
        "{refused}"
    );
    lock("2026-10-31").await.unwrap();

    // What the hold prevents: the same invoice sent without it.
    let mut unguarded = ModelMap::invoice();
    unguarded.period_date = None;
    let summary = Pipeline::<Invoice>::builder(
        "billing-unguarded",
        Arc::new(VecSource::new("other", changes)),
        Arc::new(OdooConnector::new(odoo).with_map(unguarded)),
        Arc::new(MemoryStore::new()),
    )
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(summary.created, 2, "{summary:?}");
    let moved = dated("2026-10-15");
    assert_eq!(moved.len(), 1);
    assert_eq!(moved[0]["date"], "2026-11-01", "booked after the lock");
}

/// Two invoices posted in Odoo for a client, both from the sale order of
/// one won deal: the embedded Odoo, with the identities quote to cash
/// leaves (client, deal, contract), and a HubSpot fake holding the company
/// and the deal.
#[cfg(feature = "hubspot")]
struct Paying {
    /// Kept running for the test.
    _server: TestServer,
    odoo: std::sync::Arc<OdooConnector>,
    crm: odoo_integration_fakes::hubspot::FakeHubSpot,
    state: std::sync::Arc<odoo_integration_connectors::MemoryStore>,
    company: String,
    deal: String,
    invoices: Vec<i64>,
}

#[cfg(feature = "hubspot")]
impl Paying {
    async fn start() -> Self {
        use odoo_integration_connectors::{Link, MemoryStore, XrefStore};
        use odoo_integration_fakes::hubspot::FakeHubSpot;
        use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
        use serde_json::json;
        use std::sync::Arc;

        let server = TestServer::builder().start().await.unwrap();
        let odoo = server.client(Protocol::Json2).unwrap();
        let partner = server
            .insert(
                "res.partner",
                json!({"name": "Northwind Traders", "is_company": true}),
            )
            .unwrap();
        let lead = server
            .insert(
                "crm.lead",
                json!({"name": "Northwind roll-out", "partner_id": partner}),
            )
            .unwrap();
        let product = server
            .insert(
                "product.product",
                json!({"name": "Consulting", "type": "service"}),
            )
            .unwrap();
        let order = odoo
            .model("sale.order")
            .create(&json!({"partner_id": partner, "order_line": [[0, 0, {"product_id": product, "price_unit": 6000.0}]]}))
            .send()
            .await
            .unwrap();
        let name = odoo
            .model("sale.order")
            .read([order])
            .fields(["name"])
            .send()
            .await
            .unwrap()[0]["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let mut invoices = Vec::new();
        for (what, price) in [("Discovery", 1200), ("Build", 4800)] {
            let id = odoo
                .model("account.move")
                .create(&json!({
                    "move_type": "out_invoice",
                    "partner_id": partner,
                    "invoice_origin": name,
                    "invoice_date": "2026-11-30",
                    "invoice_line_ids": [[0, 0, {"name": what, "quantity": 1, "price_unit": price}]],
                }))
                .send()
                .await
                .unwrap();
            let _: serde_json::Value = odoo
                .call("account.move", "action_post")
                .ids([id])
                .send()
                .await
                .unwrap();
            invoices.push(id);
        }
        let crm = FakeHubSpot::start().await.unwrap();
        let company = crm.insert("companies", [("name", "Northwind Traders")]);
        let deal = crm.insert(
            "deals",
            [
                ("dealname", "Northwind roll-out"),
                ("dealstage", "closedwon"),
            ],
        );
        let state = Arc::new(MemoryStore::new());
        let (hubspot, odoo_sys) = (SystemId::hubspot(), SystemId::odoo());
        let (client_id, deal_id, contract_id) =
            (CanonicalId::new(), CanonicalId::new(), CanonicalId::new());
        let id = |s: &dyn ToString| RemoteId::new(s.to_string());
        state
            .link(&[
                Link::new("client", client_id, hubspot.clone(), id(&company)),
                Link::new("client", client_id, odoo_sys.clone(), id(&partner)),
                Link::new("opportunity", deal_id, hubspot.clone(), id(&deal)),
                Link::new("opportunity", deal_id, odoo_sys.clone(), id(&lead)),
                Link::new("contract", contract_id, hubspot, id(&deal)),
                Link::new("contract", contract_id, odoo_sys, id(&order)),
            ])
            .await
            .unwrap();
        Paying {
            _server: server,
            odoo: Arc::new(OdooConnector::new(odoo)),
            crm,
            state,
            company,
            deal,
            invoices,
        }
    }

    /// The CRM's properties for the payment status.
    fn maps() -> Vec<odoo_integration_connectors::hubspot::FieldMap> {
        use odoo_integration_connectors::hubspot::{Conversion, FieldMap};
        vec![
            FieldMap::text("payment_state", "erp_payment_state"),
            FieldMap::new(
                "amount_due",
                "erp_amount_due",
                Conversion::money_in("erp_amount_due_currency"),
            ),
        ]
    }

    fn hubspot(&self) -> std::sync::Arc<odoo_integration_connectors::hubspot::HubSpotConnector> {
        use odoo_integration_connectors::hubspot::{HubSpotConnector, ObjectMap};
        use odoo_integration_connectors::{Quota, RateLimiter};
        let mut deals = ObjectMap::deals();
        deals.properties.extend(Self::maps());
        let mut companies = ObjectMap::companies();
        companies.properties.extend(Self::maps());
        std::sync::Arc::new(
            HubSpotConnector::new(self.crm.token())
                .unwrap()
                .base_url(&self.crm.url())
                .limiter(RateLimiter::new(Quota::unlimited()))
                .object_map(deals)
                .object_map(companies),
        )
    }

    async fn pay_the_rest(&self) {
        self.odoo
            .client()
            .model("account.move")
            .write(
                [self.invoices[0]],
                &serde_json::json!({"payment_state": "paid"}),
            )
            .send()
            .await
            .unwrap();
    }

    fn properties(
        &self,
        object: &str,
        id: &str,
    ) -> (Option<String>, Option<rust_decimal::Decimal>) {
        let stored = self.crm.record(object, id).unwrap();
        (
            stored.property("erp_payment_state").map(str::to_owned),
            stored
                .property("erp_amount_due")
                .and_then(|d| d.parse().ok()),
        )
    }
}

/// Posted invoices' payment state and amount due, read from Odoo,
/// summarised per deal through the order they came from and written to
/// the HubSpot deal's own properties (fields the policy gives Odoo); the
/// deal's other properties are left as they are. A later payment is
/// reported with the rest.
#[cfg(feature = "hubspot")]
#[tokio::test]
async fn payment_status_reaches_the_crm_deal() {
    use odoo_integration_connectors::Pipeline;
    use odoo_integration_connectors::workflows::payments::DealPayments;
    use odoo_integration_model::{Opportunity, Policy, SystemId};
    use rust_decimal::Decimal;
    use std::sync::Arc;

    let paying = Paying::start().await;
    paying
        .odoo
        .client()
        .model("account.move")
        .write(
            [paying.invoices[1]],
            &serde_json::json!({"payment_state": "paid"}),
        )
        .send()
        .await
        .unwrap();
    let policy = Policy::from_toml(
        "[opportunity.fields]\npayment_state = \"odoo\"\namount_due = \"odoo\"\n",
    )
    .unwrap();
    let source = Arc::new(DealPayments::new(
        paying.odoo.clone(),
        paying.state.clone(),
        SystemId::hubspot(),
    ));
    let run = || async {
        Pipeline::<Opportunity>::builder(
            "odoo→hubspot/deal payments",
            source.clone(),
            paying.hubspot(),
            paying.state.clone(),
        )
        .policy(policy.clone())
        .build()
        .unwrap()
        .run()
        .await
    };
    let first = run().await.unwrap();
    assert_eq!((first.updated, first.dead_lettered), (1, 0), "{first:?}");
    assert_eq!(
        paying.properties("deals", &paying.deal),
        (Some("partial".into()), Some(Decimal::from(1200)))
    );
    let stored = paying.crm.record("deals", &paying.deal).unwrap();
    assert_eq!(stored.property("erp_amount_due_currency"), Some("USD"));
    assert_eq!(stored.property("dealname"), Some("Northwind roll-out"));
    assert_eq!(stored.property("dealstage"), Some("closedwon"));

    paying.pay_the_rest().await;
    let second = run().await.unwrap();
    assert_eq!(second.updated, 1, "{second:?}");
    assert_eq!(
        paying.properties("deals", &paying.deal),
        (Some("paid".into()), Some(Decimal::ZERO))
    );
    assert!(run().await.unwrap().is_no_op());
}

/// The same per client: the HubSpot company gets where its invoices stand
/// and what it still owes.
#[cfg(feature = "hubspot")]
#[tokio::test]
async fn payment_status_reaches_the_crm_company() {
    use odoo_integration_connectors::Pipeline;
    use odoo_integration_connectors::workflows::payments::ClientPayments;
    use odoo_integration_model::{ClientCompany, Policy};
    use rust_decimal::Decimal;
    use std::sync::Arc;

    let paying = Paying::start().await;
    let policy =
        Policy::from_toml("[client.fields]\npayment_state = \"odoo\"\namount_due = \"odoo\"\n")
            .unwrap();
    let source = Arc::new(ClientPayments::new(paying.odoo.clone()));
    let run = || async {
        Pipeline::<ClientCompany>::builder(
            "odoo→hubspot/client payments",
            source.clone(),
            paying.hubspot(),
            paying.state.clone(),
        )
        .policy(policy.clone())
        .build()
        .unwrap()
        .run()
        .await
    };
    let first = run().await.unwrap();
    assert_eq!((first.updated, first.dead_lettered), (1, 0), "{first:?}");
    assert_eq!(
        paying.properties("companies", &paying.company),
        (Some("not_paid".into()), Some(Decimal::from(6000)))
    );
    let stored = paying.crm.record("companies", &paying.company).unwrap();
    assert_eq!(stored.property("name"), Some("Northwind Traders"));

    paying.pay_the_rest().await;
    let second = run().await.unwrap();
    assert_eq!(second.updated, 1, "{second:?}");
    assert_eq!(
        paying.properties("companies", &paying.company),
        (Some("partial".into()), Some(Decimal::from(4800)))
    );
}

/// Quote to cash, end to end: a deal won in HubSpot becomes in Odoo the
/// client Odoo already had (linked, not duplicated), its contacts, one
/// billable project and one sale order with the deal's lines; the
/// project's id is written back to the deal; a second run changes nothing.
#[cfg(feature = "hubspot")]
#[tokio::test]
async fn quote_to_cash_turns_a_won_deal_into_a_project_and_an_order() {
    use odoo_integration_connectors::hubspot::{FieldMap, HubSpotConnector, ObjectMap};
    use odoo_integration_connectors::odoo::ModelMap;
    use odoo_integration_connectors::workflows::quote_to_cash;
    use odoo_integration_connectors::{MemoryStore, Quota, RateLimiter};
    use odoo_integration_fakes::hubspot::FakeHubSpot;
    use odoo_integration_model::Policy;
    use serde_json::json;
    use std::sync::Arc;

    let server = TestServer::builder().start().await.unwrap();
    let held = server
        .insert(
            "res.partner",
            json!({"name": "Northwind Traders", "is_company": true, "website": "https://northwind.example"}),
        )
        .unwrap();
    let service = server
        .insert(
            "product.product",
            json!({"name": "Consulting", "type": "service"}),
        )
        .unwrap();
    let odoo = Arc::new(
        OdooConnector::new(server.client(Protocol::Json2).unwrap())
            .with_map(ModelMap::contract().line_default("lines", "product_id", service)),
    );

    let crm = FakeHubSpot::start().await.unwrap();
    for object in ["companies", "contacts", "deals"] {
        crm.unique_property(object, "integration_sync_id");
    }
    let northwind = crm.insert(
        "companies",
        [
            ("name", "Northwind Traders"),
            ("website", "northwind.example"),
        ],
    );
    for (first, last, email) in [
        ("Ann", "Peeters", "ann@northwind.example"),
        ("Bram", "De Smet", "bram@northwind.example"),
    ] {
        let id = crm.insert(
            "contacts",
            [("firstname", first), ("lastname", last), ("email", email)],
        );
        crm.associate("contacts", &id, "companies", &northwind);
    }
    let won = crm.insert(
        "deals",
        [
            ("dealname", "Northwind ERP roll-out"),
            ("dealstage", "closedwon"),
            ("closedate", "2026-11-20T00:00:00.000Z"),
        ],
    );
    crm.associate("deals", &won, "companies", &northwind);
    for (name, quantity, price) in [
        ("Senior consultant (days)", "40", "1000"),
        ("Migration", "1", "8000"),
    ] {
        let line = crm.insert(
            "line_items",
            [("name", name), ("quantity", quantity), ("price", price)],
        );
        crm.associate("deals", &won, "line_items", &line);
    }
    let open = crm.insert(
        "deals",
        [
            ("dealname", "Contoso audit"),
            ("dealstage", "qualifiedtobuy"),
        ],
    );
    let mut deals = ObjectMap::deals();
    deals
        .properties
        .push(FieldMap::text("project_ref", "odoo_project_id"));
    let hubspot = Arc::new(
        HubSpotConnector::new(crm.token())
            .unwrap()
            .base_url(&crm.url())
            .settle(std::time::Duration::ZERO)
            .limiter(RateLimiter::new(Quota::unlimited()))
            .object_map(deals),
    );
    let policy = Policy::from_toml(
        "[client]\ndefault_owner = \"hubspot\"\n[opportunity]\ndefault_owner = \"hubspot\"\n[opportunity.fields]\nproject_ref = \"odoo\"\n",
    )
    .unwrap();
    let state = Arc::new(MemoryStore::new());

    let first = quote_to_cash::run(hubspot.clone(), odoo.clone(), state.clone(), &policy)
        .await
        .unwrap();
    for (step, run) in &first {
        assert_eq!(run.dead_lettered, 0, "{step}: {run:?}");
    }
    let count =
        |model: &str, keep: &dyn Fn(&serde_json::Map<String, serde_json::Value>) -> bool| {
            server
                .records(model)
                .unwrap()
                .iter()
                .filter(|r| keep(r))
                .count()
        };
    assert_eq!(
        count("res.partner", &|p| p["name"] == "Northwind Traders"),
        1,
        "linked, not duplicated"
    );
    assert_eq!(
        count("res.partner", &|p| p["parent_id"][0].as_i64() == Some(held)),
        2,
        "the contacts, under the client Odoo had"
    );
    let projects: Vec<_> = server
        .records("project.project")
        .unwrap()
        .into_iter()
        .filter(|p| p["name"] == "Northwind ERP roll-out")
        .collect();
    assert_eq!(projects.len(), 1, "one project, for the won deal only");
    assert_eq!(projects[0]["allow_billable"], true);
    let orders: Vec<_> = server
        .records("sale.order")
        .unwrap()
        .into_iter()
        .filter(|o| o["client_order_ref"] == "Northwind ERP roll-out")
        .collect();
    assert_eq!(orders.len(), 1);
    assert_eq!(orders[0]["partner_id"][0].as_i64(), Some(held));
    assert_eq!(orders[0]["order_line"].as_array().map(Vec::len), Some(2));
    let project_id = projects[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(
        crm.record("deals", &won)
            .unwrap()
            .property("odoo_project_id"),
        Some(project_id.as_str())
    );
    assert_eq!(
        crm.record("deals", &open)
            .unwrap()
            .property("odoo_project_id"),
        None
    );

    let again = quote_to_cash::run(hubspot, odoo, state, &policy)
        .await
        .unwrap();
    for (step, run) in &again {
        assert_eq!(
            (run.created, run.updated, run.dead_lettered),
            (0, 0, 0),
            "{step}: {run:?}"
        );
    }
}

/// People, HRIS → Odoo through `people::hris_to_odoo`: the department is
/// created once by name, a manager listed after her report is still her
/// manager, the job title comes along; a leaver is archived in Odoo with
/// the departure date; rehired in the HRIS, the same Odoo employee is
/// unarchived (not a second one created) and the departure date cleared.
#[cfg(feature = "bamboohr")]
#[tokio::test]
async fn a_rehire_unarchives_the_same_odoo_employee() {
    use odoo_integration_connectors::bamboohr::BambooHrConnector;
    use odoo_integration_connectors::workflows::people;
    use odoo_integration_connectors::{MemoryStore, Quota, RateLimiter};
    use odoo_integration_fakes::bamboohr::FakeBambooHr;
    use odoo_integration_model::Policy;
    use std::sync::Arc;
    use std::time::Duration;

    let server = TestServer::builder().start().await.unwrap();
    let odoo = Arc::new(OdooConnector::new(server.client(Protocol::Json2).unwrap()));
    let hris = FakeBambooHr::start().await.unwrap();
    // Ann is listed before the manager she reports to.
    let ann = hris.insert_employee([
        ("employeeNumber", "E-1"),
        ("firstName", "Ann"),
        ("lastName", "Lee"),
        ("workEmail", "ann.lee@example.com"),
        ("department", "Data"),
        ("jobTitle", "Data Engineer"),
    ]);
    let bo = hris.insert_employee([
        ("employeeNumber", "E-2"),
        ("firstName", "Bo"),
        ("lastName", "Lind"),
        ("workEmail", "bo.lind@example.com"),
        ("department", "Data"),
        ("jobTitle", "Head of Data"),
    ]);
    assert!(hris.update_employee(&ann, [("supervisorEId", bo.as_str())]));
    let bamboo = Arc::new(
        BambooHrConnector::new(hris.company(), hris.api_key())
            .unwrap()
            .base_url(&hris.url())
            .settle(Duration::ZERO)
            .limiter(RateLimiter::new(Quota::unlimited())),
    );
    let state = Arc::new(MemoryStore::new());
    let sync = || async {
        people::hris_to_odoo(
            bamboo.clone(),
            odoo.clone(),
            state.clone(),
            &Policy::default(),
        )
        .await
        .unwrap()
    };
    let anns = || {
        server
            .records("hr.employee")
            .unwrap()
            .into_iter()
            .filter(|e| e["name"] == "Ann Lee")
            .collect::<Vec<_>>()
    };
    let first = sync().await;
    assert_eq!((first.created, first.dead_lettered), (2, 0), "{first:?}");
    assert_eq!(anns().len(), 1);
    assert_eq!(anns()[0]["active"], true);
    assert_eq!(anns()[0]["job_title"], "Data Engineer");
    let departments = server.records("hr.department").unwrap();
    assert_eq!(
        departments.len(),
        1,
        "created once, by name: {departments:?}"
    );
    assert_eq!(anns()[0]["department_id"][0], departments[0]["id"]);
    let bos: Vec<_> = server
        .records("hr.employee")
        .unwrap()
        .into_iter()
        .filter(|e| e["name"] == "Bo Lind")
        .collect();
    assert_eq!(anns()[0]["parent_id"][0], bos[0]["id"], "her manager");
    assert!(sync().await.is_no_op(), "nothing changed");

    hris.advance(Duration::from_secs(3600));
    assert!(hris.terminate(&ann, chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()));
    let left = sync().await;
    assert_eq!(left.dead_lettered, 0, "{left:?}");
    assert_eq!(anns().len(), 1);
    assert_eq!(anns()[0]["active"], false, "archived");
    assert_eq!(anns()[0]["departure_date"], "2026-11-30");

    hris.advance(Duration::from_secs(3600));
    assert!(hris.update_employee(
        &ann,
        [("status", "Active"), ("terminationDate", "0000-00-00")]
    ));
    let back = sync().await;
    assert_eq!(back.dead_lettered, 0, "{back:?}");
    let now = anns();
    assert_eq!(now.len(), 1, "the same employee, not a second one: {now:?}");
    assert_eq!(now[0]["active"], true, "unarchived");
    assert_eq!(now[0]["departure_date"], false);
}

/// Quote to cash with billing: each won deal's lines get the product of
/// its billing kind (time and materials invoiced on timesheets, a fixed
/// fee prepaid), a line without a price is priced by Odoo, a deal without
/// line items is sold at its amount; the project is managed by the deal's
/// owner (HubSpot's owner, by email, an Odoo user's login); the orders are confirmed once, even when Odoo's reply to a
/// confirmation is lost; the order references go back to the deals. A
/// product invoiced the wrong way stops the run before anything is
/// written.
#[tokio::test]
async fn quote_to_cash_bills_by_kind_confirms_once_and_writes_the_order_back() {
    use odoo_integration_client::test_server::Fault;
    use odoo_integration_connectors::hubspot::{FieldMap, HubSpotConnector, ObjectMap};
    use odoo_integration_connectors::workflows::quote_to_cash::QuoteToCash;
    use odoo_integration_connectors::{MemoryStore, Quota, RateLimiter};
    use odoo_integration_fakes::hubspot::FakeHubSpot;
    use odoo_integration_model::{BillingKind, Policy};
    use serde_json::json;
    use std::sync::Arc;

    let server = TestServer::builder().start().await.unwrap();
    let products = server
        .client(Protocol::Json2)
        .unwrap()
        .model("product.product");
    let product = |code: &'static str, policy: &'static str, tracking: &'static str, price: f64| {
        let products = products.clone();
        async move {
            products
                .create(&json!({"name": code, "default_code": code, "type": "service", "list_price": price,
                                "service_policy": policy, "service_tracking": tracking}))
                .send()
                .await
                .unwrap()
        }
    };
    let hours = product("CONSULT-TM", "delivered_timesheet", "no", 140.0).await;
    let fixed = product("CONSULT-FIXED", "ordered_prepaid", "no", 0.0).await;
    product("PROJECT-MAKER", "ordered_prepaid", "project_only", 0.0).await;
    let partner = server
        .insert("res.partner", json!({"name": "Marta Lind"}))
        .unwrap();
    let marta = server
        .insert(
            "res.users",
            json!({"name": "Marta Lind", "login": "marta@northwind.example", "partner_id": partner}),
        )
        .unwrap();
    let odoo = Arc::new(OdooConnector::new(server.client(Protocol::Json2).unwrap()));

    let crm = FakeHubSpot::start().await.unwrap();
    for object in ["companies", "contacts", "deals"] {
        crm.unique_property(object, "integration_sync_id");
    }
    let client = crm.insert(
        "companies",
        [("name", "Contoso"), ("website", "contoso.example")],
    );
    let owner = crm.add_owner("marta@northwind.example", "Marta", "Lind");
    let tm = crm.insert(
        "deals",
        [
            ("dealname", "Contoso data platform"),
            ("dealstage", "closedwon"),
            ("closedate", "2026-11-20T00:00:00.000Z"),
            ("billing_model", "time-and-materials"),
            ("hubspot_owner_id", owner.as_str()),
        ],
    );
    crm.associate("deals", &tm, "companies", &client);
    let line = crm.insert(
        "line_items",
        [("name", "Senior consultant (hours)"), ("quantity", "80")],
    );
    crm.associate("deals", &tm, "line_items", &line);
    let audit = crm.insert(
        "deals",
        [
            ("dealname", "Contoso audit"),
            ("dealstage", "closedwon"),
            ("amount", "12000"),
            ("closedate", "2026-11-21T00:00:00.000Z"),
            ("billing_model", "fixed-fee"),
        ],
    );
    crm.associate("deals", &audit, "companies", &client);
    let mut deals = ObjectMap::deals();
    for (field, property) in [
        ("project_ref", "odoo_project_id"),
        ("order_ref", "odoo_order"),
        ("billing", "billing_model"),
    ] {
        deals.properties.push(FieldMap::text(field, property));
    }
    let hubspot = Arc::new(
        HubSpotConnector::new(crm.token())
            .unwrap()
            .base_url(&crm.url())
            .settle(std::time::Duration::ZERO)
            .limiter(RateLimiter::new(Quota::unlimited()))
            .object_map(deals),
    );
    let policy = Policy::from_toml(
        "[client]\ndefault_owner = \"hubspot\"\n[opportunity]\ndefault_owner = \"hubspot\"\n[opportunity.fields]\nproject_ref = \"odoo\"\norder_ref = \"odoo\"\n",
    )
    .unwrap();
    let state = Arc::new(MemoryStore::new());
    let flow = |tm: &str, fixed: &str| {
        QuoteToCash::new(hubspot.clone(), odoo.clone(), state.clone(), policy.clone())
            .product(BillingKind::TimeAndMaterials, tm)
            .product(BillingKind::FixedFee, fixed)
            .confirm(true)
    };

    // Products invoiced the wrong way, or making their own projects, stop
    // the run before anything is written.
    for (tm, fixed, says) in [
        (
            "CONSULT-FIXED",
            "CONSULT-FIXED",
            "needs `delivered_timesheet`",
        ),
        ("CONSULT-TM", "PROJECT-MAKER", "creates a project"),
        (
            "CONSULT-TM",
            "NO-SUCH",
            "no product with internal reference `NO-SUCH`",
        ),
    ] {
        let err = flow(tm, fixed).run().await.unwrap_err();
        assert_eq!(err.kind(), ConnectorErrorKind::Configuration, "{err}");
        assert!(err.to_string().contains(says), "{err}");
    }
    assert!(server.records("crm.lead").unwrap().is_empty());
    assert!(server.records("project.project").unwrap().is_empty());

    // The first confirmation's reply is lost: the order is confirmed all
    // the same, and counted once.
    server.inject_on("action_confirm", Fault::DropAfterHandling, 1);
    let first = flow("CONSULT-TM", "CONSULT-FIXED").run().await.unwrap();
    for (step, run) in &first.steps {
        assert_eq!(run.dead_lettered, 0, "{step}: {run:?}");
    }
    assert!(first.not_confirmed.is_empty(), "{:?}", first.not_confirmed);
    let orders = server.records("sale.order").unwrap();
    assert_eq!(orders.len(), 2);
    let mut confirmed = first.confirmed.clone();
    confirmed.sort();
    let mut names: Vec<String> = orders
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    assert_eq!(confirmed, names, "each order confirmed, once");
    assert!(orders.iter().all(|o| o["state"] == "sale"), "{orders:?}");

    let lines = server.records("sale.order.line").unwrap();
    let order_of = |deal: &str| {
        orders
            .iter()
            .find(|o| o["client_order_ref"] == deal)
            .unwrap()
            .clone()
    };
    let lines_of = |deal: &str| -> Vec<(i64, f64, f64)> {
        let order = order_of(deal)["id"].as_i64();
        lines
            .iter()
            .filter(|l| l["order_id"][0].as_i64() == order)
            .map(|l| {
                (
                    l["product_id"][0].as_i64().unwrap(),
                    l["product_uom_qty"].as_f64().unwrap(),
                    l["price_unit"].as_f64().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(
        lines_of("Contoso data platform"),
        [(hours, 80.0, 140.0)],
        "the timesheet product, priced by Odoo"
    );
    assert_eq!(
        lines_of("Contoso audit"),
        [(fixed, 1.0, 12000.0)],
        "one line at the deal's amount"
    );
    let projects = server.records("project.project").unwrap();
    let platform = projects
        .iter()
        .find(|p| p["name"] == "Contoso data platform")
        .unwrap();
    assert_eq!(
        platform["user_id"][0].as_i64(),
        Some(marta),
        "the deal's owner"
    );
    for deal in [&tm, &audit] {
        let record = crm.record("deals", deal).unwrap();
        let name = record.property("dealname").unwrap().to_owned();
        assert_eq!(
            record.property("odoo_order"),
            order_of(&name)["name"].as_str(),
            "{name}"
        );
    }

    let again = flow("CONSULT-TM", "CONSULT-FIXED").run().await.unwrap();
    assert!(again.is_no_op(), "{again:?}");
    assert_eq!(server.records("sale.order").unwrap().len(), 2);

    // A line item added to the deal after its order was confirmed: Odoo
    // keeps a confirmed order's lines, so the change waits in the
    // dead-letter queue with Odoo's reason, and the order is untouched.
    crm.advance(std::time::Duration::from_secs(60));
    let extra = crm.insert(
        "line_items",
        [("name", "Extra workshop"), ("quantity", "8")],
    );
    crm.associate("deals", &tm, "line_items", &extra);
    crm.update("deals", &tm, [("description", "extended")]);
    let changed = flow("CONSULT-TM", "CONSULT-FIXED").run().await.unwrap();
    let (_, orders_run) = changed
        .steps
        .iter()
        .find(|(step, _)| *step == "sale orders")
        .unwrap();
    assert_eq!(orders_run.dead_lettered, 1, "{orders_run:?}");
    let letters = odoo_integration_connectors::DeadLetterQueue::letters(&*state, "contract")
        .await
        .unwrap();
    assert!(
        letters[0].error.message.contains("Set the quantity to 0"),
        "{letters:?}"
    );
    assert_eq!(lines_of("Contoso data platform").len(), 1);
    assert_eq!(server.records("sale.order.line").unwrap().len(), 2);
}
