#![allow(clippy::unwrap_used)]
//! Timesheets to payroll and billing as one call, between the embedded
//! Odoo (demo data: Marc, lead, 4 + 3.5 h and Nina, data engineer,
//! 7.25 + 8 h on "Acme data platform" in early November 2026) and the
//! Gusto fake (an open payroll for 1 to 15 November).

use odoo_integration_client::test_server::{Field, FieldKind, TestServer};
use odoo_integration_client::{Domain, ErrorKind, Protocol};
use odoo_integration_connectors::gusto::{
    AppCredentials, GustoConnector, MemoryTokenStore, Tokens,
};
use odoo_integration_connectors::odoo::OdooConnector;
use odoo_integration_connectors::workflows::Approval;
use odoo_integration_connectors::workflows::timesheets::{
    ExpenseLeftOut, LeftOut, NotPriced, Posting, RateCard, RateCards, TimesheetsToPayroll,
};
use odoo_integration_connectors::{MemoryStore, Operation, Source, read_to_end};
use odoo_integration_fakes::gusto::FakeGusto;
use odoo_integration_model::{ApprovalState, Currency, Expense, Money};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::sync::Arc;

const CLIENT_ID: &str = "flow-client";
const CLIENT_SECRET: &str = "flow-secret";

/// The embedded Odoo with a custom approval field, the first three demo
/// lines approved; the ids of the four lines.
async fn odoo() -> (TestServer, Vec<i64>) {
    let server = TestServer::builder()
        .with_demo_data()
        .field(
            "account.analytic.line",
            Field::new("x_approved", FieldKind::Boolean),
        )
        .start()
        .await
        .unwrap();
    let lines: Vec<i64> = server
        .records("account.analytic.line")
        .unwrap()
        .iter()
        .filter_map(|l| l["id"].as_i64())
        .collect();
    assert_eq!(lines.len(), 4, "the demo timesheets");
    approve(&server, &lines[..3], true).await;
    (server, lines)
}

async fn approve(server: &TestServer, lines: &[i64], approved: bool) {
    server
        .client(Protocol::Json2)
        .unwrap()
        .model("account.analytic.line")
        .write(lines.iter().copied(), &json!({"x_approved": approved}))
        .send()
        .await
        .unwrap();
}

/// The Gusto fake with Odoo's two demo people and an open payroll for the
/// first half of November 2026: the fake, the connector, the payroll and
/// the two employees.
async fn gusto() -> (FakeGusto, GustoConnector, String, Vec<String>) {
    let fake = FakeGusto::start().await.unwrap();
    fake.allow_client(CLIENT_ID, CLIENT_SECRET);
    let mut people = Vec::new();
    for (first, last, email, title) in [
        ("Marc", "Demo", "marc@northwind.example", "Engagement Lead"),
        ("Nina", "Patel", "nina@northwind.example", "Data Engineer"),
    ] {
        people.push(fake.add_employee(json!({
            "first_name": first, "last_name": last, "work_email": email,
            "jobs": [{"uuid": format!("job-{first}"), "primary": true, "title": title, "payment_unit": "Hour"}],
        })));
    }
    let open = fake.add_payroll(json!({
        "pay_period": {"start_date": "2026-11-01", "end_date": "2026-11-15"},
        "check_date": "2026-11-20",
    }));
    for uuid in &people {
        fake.add_compensation(
            &open,
            json!({"employee_uuid": uuid, "hourly_compensations": [
                {"name": "Regular Hours", "hours": "0.000", "job_uuid": "job"}]}),
        );
    }
    let pair = fake.grant();
    let tokens = Tokens::new(pair.access_token, pair.refresh_token, pair.expires_at);
    let connector = GustoConnector::builder(
        fake.company_uuid(),
        AppCredentials::new(CLIENT_ID, CLIENT_SECRET),
        Arc::new(MemoryTokenStore::new(tokens)),
    )
    .base_url(fake.url())
    .history_start("2026-10-01".parse().unwrap())
    .policy(TimesheetsToPayroll::<GustoConnector>::default_policy())
    .build()
    .unwrap();
    (fake, connector, open, people)
}

fn usd(n: i64) -> Money {
    Money::new(Decimal::from(n), Currency::USD)
}

/// Time and materials on the demo project, at a rate per role.
fn cards() -> RateCards {
    RateCards::new().by_name(
        "Acme data platform",
        RateCard::time_and_materials(
            Currency::USD,
            [("Engagement Lead", usd(150)), ("Data Engineer", usd(120))],
        ),
    )
}

fn flow(
    server: &TestServer,
    gusto: GustoConnector,
    cards: RateCards,
) -> TimesheetsToPayroll<GustoConnector> {
    let odoo = OdooConnector::new(server.client(Protocol::Json2).unwrap());
    TimesheetsToPayroll::new(
        Arc::new(odoo),
        Arc::new(gusto),
        Arc::new(MemoryStore::new()),
        Approval::field("x_approved"),
        cards,
    )
}

/// The flow's invoices in Odoo (not the demo data's): state, number and
/// lines as (name, quantity, unit price), in id order.
async fn invoices(server: &TestServer) -> Vec<(String, String, Vec<(String, f64, f64)>)> {
    let client = server.client(Protocol::Json2).unwrap();
    let ours: Vec<i64> = client
        .model("ir.model.data")
        .search_read(Domain::field("module").eq("sync_timesheets"))
        .fields(["res_id"])
        .send()
        .await
        .unwrap()
        .iter()
        .filter_map(|r| r["res_id"].as_i64())
        .collect();
    let mut out = Vec::new();
    let mut moves = client
        .model("account.move")
        .read(ours)
        .fields([
            "state",
            "name",
            "invoice_line_ids",
            "invoice_date",
            "partner_id",
        ])
        .send()
        .await
        .unwrap();
    moves.sort_by_key(|m| m["id"].as_i64());
    for m in moves {
        assert_eq!(m["invoice_date"], "2026-11-15", "dated the period's end");
        assert_eq!(m["partner_id"][1], "Acme Corporation", "{m:?}");
        let ids: Vec<i64> = m["invoice_line_ids"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_i64)
            .collect();
        let lines = client
            .model("account.move.line")
            .read(ids)
            .fields(["name", "quantity", "price_unit"])
            .send()
            .await
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().unwrap().to_owned(),
                    l["quantity"].as_f64().unwrap(),
                    l["price_unit"].as_f64().unwrap(),
                )
            })
            .collect();
        out.push((
            m["state"].as_str().unwrap().to_owned(),
            m["name"].as_str().unwrap_or_default().to_owned(),
            lines,
        ));
    }
    out
}

const LEAD: &str = "Acme data platform, Engagement Lead (2026-11-01 to 2026-11-15)";
const ENGINEER: &str = "Acme data platform, Data Engineer (2026-11-01 to 2026-11-15)";

/// Approved hours reach Gusto, billable ones one draft invoice for the
/// client with a line per role; the unapproved line is reported; a second
/// run changes nothing.
#[tokio::test]
async fn hours_are_paid_and_billed_once() {
    let (server, lines) = odoo().await;
    let (fake, gusto, open, people) = gusto().await;
    let flow = flow(&server, gusto, cards());

    let report = flow.run().await.unwrap();
    assert_eq!(report.hours.updated, 2, "{}", report.hours);
    assert_eq!(report.hours.dead_lettered, 0);
    assert_eq!(
        fake.regular_hours(&open, &people[0]).as_deref(),
        Some("7.500")
    );
    assert_eq!(
        fake.regular_hours(&open, &people[1]).as_deref(),
        Some("7.250")
    );
    assert_eq!(report.invoices.created, 1, "{}", report.invoices);
    let left: Vec<(String, &LeftOut)> = report
        .left_out
        .iter()
        .map(|s| (s.line.to_string(), &s.why))
        .collect();
    assert_eq!(
        left,
        [(
            lines[3].to_string(),
            &LeftOut::NotApproved(ApprovalState::Submitted)
        )]
    );
    assert!(report.unpriced.is_empty(), "{:?}", report.unpriced);
    assert_eq!(
        invoices(&server).await,
        [(
            "draft".to_owned(),
            "/".to_owned(),
            vec![
                (ENGINEER.to_owned(), 7.25, 120.0),
                (LEAD.to_owned(), 7.5, 150.0)
            ]
        )]
    );
    let billed = report.billed.values().next().unwrap();
    // 7.25 × 120 + 7.5 × 150 = 870 + 1125
    assert_eq!(billed.total, Some(usd(1_995)));
    assert!(report.posted.is_empty(), "drafts unless asked");

    let again = flow.run().await.unwrap();
    assert!(again.is_no_op(), "{} / {}", again.hours, again.invoices);
    assert_eq!(invoices(&server).await.len(), 1);

    // Nina's 8 h approved later: the draft follows, in place.
    approve(&server, &lines[3..], true).await;
    let later = flow.run().await.unwrap();
    assert_eq!(later.invoices.updated, 1, "{:?}", later.invoices);
    assert_eq!(
        fake.regular_hours(&open, &people[1]).as_deref(),
        Some("15.250")
    );
    assert_eq!(
        invoices(&server).await,
        [(
            "draft".to_owned(),
            "/".to_owned(),
            vec![
                (ENGINEER.to_owned(), 15.25, 120.0),
                (LEAD.to_owned(), 7.5, 150.0)
            ]
        )]
    );
    assert!(flow.run().await.unwrap().is_no_op());
}

/// A draft that nothing is billed on any more (its hours taken back
/// before posting) is deleted, and the hours paid go back to zero; then
/// nothing more happens.
#[tokio::test]
async fn a_draft_nothing_is_billed_on_any_more_is_deleted() {
    let (server, lines) = odoo().await;
    let (fake, gusto, open, people) = gusto().await;
    let flow = flow(&server, gusto, cards());
    assert_eq!(flow.run().await.unwrap().invoices.created, 1);
    approve(&server, &lines, false).await;
    let report = flow.run().await.unwrap();
    assert_eq!(report.invoices.deleted, 1, "{}", report.invoices);
    // Nor is anybody paid for them.
    assert_eq!(report.hours.updated, 2, "{}", report.hours);
    for person in &people {
        assert_eq!(fake.regular_hours(&open, person).as_deref(), Some("0.000"));
    }
    assert_eq!(report.left_out.len(), 4);
    assert!(invoices(&server).await.is_empty());
    assert!(flow.run().await.unwrap().invoices.is_no_op());
}

/// What the fake holds of Odoo (since 17.3): a posted invoice's lines
/// are read only, in any period, whatever writes them.
#[tokio::test]
async fn odoo_refuses_changes_to_a_posted_invoice() {
    let server = TestServer::start().await.unwrap();
    let client = server.client(Protocol::Json2).unwrap();
    let posted = client
        .model("account.move")
        .search_read(Domain::field("state").eq("posted"))
        .fields(["id"])
        .send()
        .await
        .unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    let e = client
        .model("account.move")
        .write(
            [posted],
            &json!({"invoice_line_ids": [[0, 0, {"name": "More", "quantity": 1.0, "price_unit": 1.0}]]}),
        )
        .send()
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UserError, "{e}");
    assert!(
        e.to_string().contains(
            "You cannot modify the following readonly fields on a posted move: invoice_line_ids"
        ),
        "{e}"
    );
}

/// Posting: each invoice posted once; hours approved after posting go on
/// a second invoice for the client and period (posted too), never onto
/// the posted one; hours taken back after posting are reported, nothing
/// written; every rerun changes nothing.
#[tokio::test]
async fn posted_invoices_are_never_changed_and_late_hours_go_on_a_new_one() {
    let (server, lines) = odoo().await;
    let (_fake, gusto, _, _) = gusto().await;
    let flow = flow(&server, gusto, cards()).posting(Posting::Post);

    let first = flow.run().await.unwrap();
    assert_eq!(first.posted.len(), 1, "{:?}", first.not_posted);
    assert!(first.posted[0].number.starts_with("INV/2026/"));
    let odoo = invoices(&server).await;
    assert_eq!(odoo.len(), 1);
    assert_eq!(odoo[0].0, "posted");
    assert!(flow.run().await.unwrap().is_no_op());

    // Nina's 8 h of 4 November approved after the invoice was posted.
    approve(&server, &lines[3..], true).await;
    let late = flow.run().await.unwrap();
    assert_eq!(late.invoices.dead_lettered, 0, "{}", late.invoices);
    assert_eq!(late.invoices.created, 1, "{}", late.invoices);
    assert_eq!(late.posted.len(), 1);
    assert!(late.posted[0].record.as_str().ends_with(":2"));
    let odoo = invoices(&server).await;
    assert_eq!(
        odoo[0].2,
        [
            (ENGINEER.to_owned(), 7.25, 120.0),
            (LEAD.to_owned(), 7.5, 150.0)
        ],
        "the posted invoice as it was"
    );
    assert_eq!(odoo[1].0, "posted");
    assert_eq!(odoo[1].2, [(ENGINEER.to_owned(), 8.0, 120.0)]);
    assert!(flow.run().await.unwrap().is_no_op());

    // Marc's 4 h of 2 November taken back: reported, nothing written.
    approve(&server, &lines[..1], false).await;
    let back = flow.run().await.unwrap();
    assert!(back.invoices.is_no_op(), "{}", back.invoices);
    assert!(back.posted.is_empty());
    assert_eq!(back.overbilled.len(), 1, "{:?}", back.overbilled);
    assert_eq!(back.overbilled[0].description, LEAD);
    assert_eq!(back.overbilled[0].posted, Decimal::new(75, 1));
    assert_eq!(back.overbilled[0].now, Decimal::new(35, 1));
    assert_eq!(invoices(&server).await.len(), 2);
}

/// A draft dated inside a period locked after it was written is not
/// posted: Odoo's refusal is reported, the draft left as it is.
#[tokio::test]
async fn a_draft_in_a_locked_period_is_reported_not_posted() {
    let (server, _) = odoo().await;
    let (_fake, gusto, _, _) = gusto().await;
    let odoo = Arc::new(OdooConnector::new(server.client(Protocol::Json2).unwrap()));
    let state = Arc::new(MemoryStore::new());
    let (gusto, approval) = (Arc::new(gusto), Approval::field("x_approved"));
    let drafts = TimesheetsToPayroll::new(
        odoo.clone(),
        gusto.clone(),
        state.clone(),
        approval.clone(),
        cards(),
    );
    assert_eq!(drafts.run().await.unwrap().invoices.created, 1);
    server
        .client(Protocol::Json2)
        .unwrap()
        .model("res.company")
        .write([1], &json!({"sale_lock_date": "2026-11-30"}))
        .send()
        .await
        .unwrap();
    let posting =
        TimesheetsToPayroll::new(odoo, gusto, state, approval, cards()).posting(Posting::Post);
    let report = posting.run().await.unwrap();
    assert!(report.posted.is_empty());
    assert_eq!(report.not_posted.len(), 1);
    assert!(
        report.not_posted[0].error.to_string().contains("lock date"),
        "{}",
        report.not_posted[0].error
    );
    assert_eq!(invoices(&server).await[0].0, "draft");
}

/// A contract in another currency than Odoo's invoices is reported,
/// never converted: nothing is invoiced.
#[tokio::test]
async fn a_contract_in_another_currency_is_reported_not_converted() {
    let (server, _) = odoo().await;
    let (_fake, gusto, _, _) = gusto().await;
    let eur = |n: i64| Money::new(Decimal::from(n), Currency::EUR);
    let cards = RateCards::new().by_name(
        "Acme data platform",
        RateCard::time_and_materials(
            Currency::EUR,
            [("Engagement Lead", eur(140)), ("Data Engineer", eur(110))],
        ),
    );
    let report = flow(&server, gusto, cards).run().await.unwrap();
    assert_eq!(report.invoices.created, 0);
    assert_eq!(report.unpriced.len(), 2);
    assert!(report.unpriced.iter().all(|u| u.why
        == NotPriced::InvoiceCurrency {
            contract: Currency::EUR,
            invoices: Currency::USD
        }));
    assert!(invoices(&server).await.is_empty());
}

/// Odoo 19's expenses: re-invoiced by their product's policy, approved by
/// their state, at their company-currency total; the order they name
/// gives the project.
async fn expenses(server: &TestServer) -> [i64; 4] {
    let client = server.client(Protocol::Json2).unwrap();
    let product = |name: &'static str, policy: &'static str| {
        let client = client.clone();
        async move {
            client
                .model("product.product")
                .create(&json!({"name": name, "type": "service", "can_be_expensed": true, "expense_policy": policy}))
                .send()
                .await
                .unwrap()
        }
    };
    let travel = product("Travel (re-invoiced at cost)", "cost").await;
    let meals = product("Meals (not re-invoiced)", "no").await;
    let platform = server
        .records("project.project")
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Acme data platform")
        .and_then(|p| p["id"].as_i64())
        .unwrap();
    let order = server.records("sale.order").unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    client
        .model("sale.order")
        .write([order], &json!({"project_id": platform}))
        .send()
        .await
        .unwrap();
    let marc = server.records("hr.employee").unwrap()[0]["id"]
        .as_i64()
        .unwrap();
    let mut ids = [0; 4];
    for (i, (name, product, state, amount)) in [
        ("Taxi to Acme", travel, "approved", 42.5),
        ("Team lunch", meals, "approved", 80.0),
        ("Train to Acme", travel, "submitted", 120.0),
        ("Hotel in Antwerp", travel, "paid", 210.0),
    ]
    .into_iter()
    .enumerate()
    {
        ids[i] = client
            .model("hr.expense")
            .create(&json!({
                "name": name, "employee_id": marc, "product_id": product, "date": "2026-11-05",
                "total_amount": amount, "total_amount_currency": amount, "quantity": 1.0,
                "payment_mode": "own_account", "state": state, "sale_order_id": order,
            }))
            .send()
            .await
            .unwrap();
    }
    ids
}

/// Read as Odoo 19 has them: rebillable by the product's policy
/// (`can_be_reinvoiced`), approved by state, the amount in the company's
/// currency.
#[tokio::test]
async fn expenses_are_read_as_odoo_19_has_them() {
    let (server, _) = odoo().await;
    let [taxi, lunch, train, hotel] = expenses(&server).await;
    let odoo = OdooConnector::new(server.client(Protocol::Json2).unwrap());
    let (changes, _) = read_to_end::<Expense>(&odoo as &dyn Source<Expense>, None, 100)
        .await
        .unwrap();
    let read = |id: i64| {
        changes
            .iter()
            .find(|c| c.remote_id.as_str() == id.to_string())
            .and_then(|c| match &c.operation {
                Operation::Upsert(e) => Some(e.clone()),
                Operation::Delete => None,
            })
            .unwrap()
    };
    let t = read(taxi);
    assert!(t.rebillable);
    assert_eq!(t.approval, ApprovalState::Approved);
    assert_eq!(
        t.amount,
        Some(Money::new(Decimal::new(425, 1), Currency::USD))
    );
    assert!(!read(lunch).rebillable);
    assert_eq!(read(train).approval, ApprovalState::Submitted);
    assert_eq!(
        read(hotel).approval,
        ApprovalState::Approved,
        "paid is past approved"
    );
}

/// Approved rebillable expenses of the period go on the client's invoice
/// at cost, a line each; a rebillable one not approved is reported; one
/// that is not rebillable is the firm's own.
#[tokio::test]
async fn rebillable_expenses_go_on_the_clients_invoice() {
    let (server, _) = odoo().await;
    let [_, _, train, _] = expenses(&server).await;
    let (_fake, gusto, _, _) = gusto().await;
    let flow = flow(&server, gusto, cards());
    let report = flow.run().await.unwrap();
    let odoo = invoices(&server).await;
    assert_eq!(odoo.len(), 1);
    assert_eq!(
        odoo[0].2,
        [
            (ENGINEER.to_owned(), 7.25, 120.0),
            (LEAD.to_owned(), 7.5, 150.0),
            ("Taxi to Acme (2026-11-05)".to_owned(), 1.0, 42.5),
            ("Hotel in Antwerp (2026-11-05)".to_owned(), 1.0, 210.0),
        ]
    );
    let left: Vec<(String, &ExpenseLeftOut)> = report
        .expenses_left_out
        .iter()
        .map(|s| (s.expense.to_string(), &s.why))
        .collect();
    assert_eq!(
        left,
        [(
            train.to_string(),
            &ExpenseLeftOut::NotApproved(ApprovalState::Submitted)
        )]
    );
    assert_eq!(
        report.billed.values().next().unwrap().total,
        Some(Money::new(Decimal::new(22475, 1), Currency::USD))
    );
    assert!(flow.run().await.unwrap().is_no_op());
}
