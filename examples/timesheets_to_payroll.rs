//! Timesheets → payroll and billing: approved hours in Odoo are summed per
//! employee per pay period and written as hours into Gusto's unprocessed
//! payroll, and billable hours become draft customer invoices in Odoo at
//! the contract's rate card, one per client and period, with rebillable
//! expenses on them. Lines not approved are reported, not paid or
//! billed. Running it again changes nothing.
//!
//! ```sh
//! cargo run --example timesheets_to_payroll
//! ```
//!
//! The flow is one library call,
//! [`TimesheetsToPayroll::run`](odoo_integration::connectors::workflows::timesheets::TimesheetsToPayroll);
//! this file is its configuration (the approval, the rate cards, posting)
//! and what it prints.
//!
//! **What "approved" means.** Odoo Community has no approval on timesheet
//! lines (`account.analytic.line`); Enterprise's `timesheet_grid` adds the
//! boolean `validated`. The example picks a
//! [`workflows::Approval`](odoo_integration::connectors::workflows::Approval),
//! which the flow checks against the server before writing anything: the
//! field named by `ODOO_APPROVAL_FIELD` (a custom boolean such as
//! `x_approved`); else Enterprise's `validated` when the server has it;
//! else, on a stock Community server, every line up to
//! `ODOO_APPROVAL_CUTOFF` (a date, default today). Offline, the embedded
//! Odoo is started with a custom `x_approved` and a manager approves three
//! of the four demo lines.
//!
//! **Posting.** Offline, the invoices are posted (Odoo numbers them); on
//! a real Odoo only with `POST_INVOICES=1`, else they stay drafts for a
//! person to check. A posted invoice is never changed: hours approved
//! later go on a new invoice for the same client and period.
//!
//! Offline by default: the embedded Odoo and a fake Gusto on loopback.
//! With `ODOO_URL` (see `examples/common`) and `GUSTO_COMPANY_UUID`,
//! `GUSTO_CLIENT_ID`, `GUSTO_CLIENT_SECRET`, `GUSTO_ACCESS_TOKEN`,
//! `GUSTO_REFRESH_TOKEN` (add `GUSTO_DEMO=1` for Gusto's demo
//! environment) it runs against the real systems. Those tokens live only
//! in memory here: a real deployment gives the connector a `TokenStore`
//! that persists the single-use refresh token.
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::BoxError;
use odoo_integration::connectors::MemoryStore;
use odoo_integration::connectors::gusto::{
    AppCredentials, GustoConnector, MemoryTokenStore, Tokens,
};
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::workflows::Approval;
use odoo_integration::connectors::workflows::timesheets::{
    Posting, RateCard, RateCards, Report, Rounding, RoundingMode, TimesheetsToPayroll,
};
use odoo_integration::fakes::gusto::FakeGusto;
use odoo_integration::model::{Currency, Money};
use odoo_integration::odoo::test_server::{Field, FieldKind, TestServer};
use odoo_integration::rust_decimal::Decimal;
use odoo_integration::serde_json::json;
use std::sync::Arc;

/// The contracts' rate cards, by project name: time and materials at a
/// rate per role (the employee's job title), in US dollars, each
/// timesheet line's hours rounded up to the started quarter hour, amounts
/// to the cent.
fn rate_cards() -> RateCards {
    let usd = |n: i64| Money::new(Decimal::from(n), Currency::USD);
    let card = RateCard::time_and_materials(
        Currency::USD,
        [("Engagement Lead", usd(150)), ("Data Engineer", usd(120))],
    )
    .hours(Rounding::new(Decimal::new(25, 2), RoundingMode::Up).unwrap_or_default())
    .amounts(Rounding::cents());
    RateCards::new().by_name("Acme data platform", card)
}

/// Prints a run's report.
fn print(title: &str, report: &Report) {
    println!("{title}");
    common::print_run("hours", &report.hours);
    common::print_run("invoices", &report.invoices);
    for s in &report.left_out {
        let date = s.date.map(|d| d.to_string()).unwrap_or_default();
        println!(
            "  not paid or billed: line {}, {date}, {} h ({:?})",
            s.line, s.hours, s.why
        );
    }
    for u in &report.unpriced {
        println!(
            "  not priced: {} h of employee {} on project {} ({:?})",
            u.hours, u.employee, u.engagement, u.why
        );
    }
    for e in &report.expenses_left_out {
        println!("  expense {} not re-invoiced ({:?})", e.expense, e.why);
    }
    for (id, invoice) in &report.billed {
        let total = invoice.total.map(|t| t.to_string()).unwrap_or_default();
        println!("  billed {id}: {} lines, {total}", invoice.lines.len());
    }
    for p in &report.posted {
        println!("  posted {} as {} (Odoo id {})", p.record, p.number, p.odoo);
    }
    for n in &report.not_posted {
        println!("  not posted {}: {}", n.record, n.error);
    }
    for o in &report.overbilled {
        println!(
            "  overbilled on {}: {} ({} h posted, {} h now)",
            o.record, o.description, o.posted, o.now
        );
    }
}

/// The embedded Odoo with the custom approval field, three of the four
/// demo timesheet lines approved.
async fn embedded_odoo() -> Result<(odoo_integration::odoo::Client, TestServer), BoxError> {
    let server = TestServer::builder()
        .with_demo_data()
        .field(
            "account.analytic.line",
            Field::new("x_approved", FieldKind::Boolean),
        )
        .start()
        .await?;
    println!(
        "server      no ODOO_URL: started the embedded Odoo at {}",
        server.url()
    );
    let client = server.client(odoo_integration::odoo::Protocol::Auto)?;
    let lines = server.records("account.analytic.line")?;
    let approved: Vec<i64> = lines
        .iter()
        .take(3)
        .filter_map(|l| l["id"].as_i64())
        .collect();
    client
        .model("account.analytic.line")
        .write(approved, &json!({"x_approved": true}))
        .send()
        .await?;
    // A taxi to the client, re-invoiced at cost (its category says so) on
    // the client's order for the project, approved by the manager.
    let travel = client
        .model("product.product")
        .create(&json!({"name": "Travel", "type": "service", "can_be_expensed": true, "expense_policy": "cost"}))
        .send()
        .await?;
    let id_of = |model: &str, name: Option<&str>| -> Result<i64, BoxError> {
        server
            .records(model)?
            .iter()
            .find(|r| name.is_none_or(|n| r["name"] == n))
            .and_then(|r| r["id"].as_i64())
            .ok_or_else(|| format!("no {model} in the demo data").into())
    };
    let project = id_of("project.project", Some("Acme data platform"))?;
    let order = id_of("sale.order", None)?;
    let marc = id_of("hr.employee", Some("Marc Demo"))?;
    client
        .model("sale.order")
        .write([order], &json!({"project_id": project}))
        .send()
        .await?;
    client
        .model("hr.expense")
        .create(&json!({
            "name": "Taxi to Acme", "employee_id": marc, "product_id": travel, "date": "2026-11-05",
            "total_amount": 42.5, "total_amount_currency": 42.5, "quantity": 1.0,
            "payment_mode": "own_account", "state": "approved", "sale_order_id": order,
        }))
        .send()
        .await?;
    Ok((client, server))
}

/// A fake Gusto with Odoo's two demo people and an open payroll for the
/// first half of November 2026.
async fn fake_gusto() -> Result<(FakeGusto, GustoConnector, String, Vec<String>), BoxError> {
    let fake = FakeGusto::start().await?;
    fake.allow_client("example-client", "example-secret");
    let mut uuids = Vec::new();
    for (first, last, email, title) in [
        ("Marc", "Demo", "marc@northwind.example", "Engagement Lead"),
        ("Nina", "Patel", "nina@northwind.example", "Data Engineer"),
    ] {
        uuids.push(fake.add_employee(json!({
            "first_name": first, "last_name": last, "work_email": email,
            "jobs": [{"uuid": format!("job-{first}"), "primary": true, "title": title, "payment_unit": "Hour"}],
        })));
    }
    let open = fake.add_payroll(json!({
        "pay_period": {"start_date": "2026-11-01", "end_date": "2026-11-15"},
        "check_date": "2026-11-20",
    }));
    for uuid in &uuids {
        fake.add_compensation(
            &open,
            json!({"employee_uuid": uuid, "hourly_compensations": [
                {"name": "Regular Hours", "hours": "0.000", "job_uuid": "job"}]}),
        );
    }
    let pair = fake.grant();
    let store = Arc::new(MemoryTokenStore::new(Tokens::new(
        pair.access_token,
        pair.refresh_token,
        pair.expires_at,
    )));
    let gusto = GustoConnector::builder(
        fake.company_uuid(),
        AppCredentials::new("example-client", "example-secret"),
        store,
    )
    .base_url(fake.url());
    let gusto = gusto
        .history_start("2026-10-01".parse()?)
        .policy(TimesheetsToPayroll::<GustoConnector>::default_policy())
        .build()?;
    Ok((fake, gusto, open, uuids))
}

fn real_gusto() -> Option<Result<GustoConnector, BoxError>> {
    let var = |k: &str| std::env::var(k).ok();
    let (Some(company), Some(id), Some(secret), Some(access), Some(refresh)) = (
        var("GUSTO_COMPANY_UUID"),
        var("GUSTO_CLIENT_ID"),
        var("GUSTO_CLIENT_SECRET"),
        var("GUSTO_ACCESS_TOKEN"),
        var("GUSTO_REFRESH_TOKEN"),
    ) else {
        return None;
    };
    let build = || -> Result<GustoConnector, BoxError> {
        // Treated as expired: the first call refreshes and stores the pair.
        let tokens = Tokens::new(access, refresh, odoo_integration::chrono::Utc::now());
        let mut b = GustoConnector::builder(
            company,
            AppCredentials::new(id, secret),
            Arc::new(MemoryTokenStore::new(tokens)),
        )
        .policy(TimesheetsToPayroll::<GustoConnector>::default_policy());
        if var("GUSTO_DEMO").is_some() {
            b = b.demo();
        }
        Ok(b.build()?)
    };
    Some(build())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    common::init_tracing();
    let (client, server) = match std::env::var("ODOO_URL") {
        Ok(_) => (common::connect().await?.0, None),
        Err(_) => {
            let (c, s) = embedded_odoo().await?;
            (c, Some(s))
        }
    };
    let approval = match std::env::var("ODOO_APPROVAL_FIELD") {
        Ok(field) => Approval::field(field),
        Err(_) => match Approval::detect(&client).await? {
            Some(enterprise) => enterprise,
            None if server.is_some() => Approval::field("x_approved"),
            None => Approval::UpTo(match std::env::var("ODOO_APPROVAL_CUTOFF") {
                Ok(date) => date.parse()?,
                Err(_) => odoo_integration::chrono::Utc::now().date_naive(),
            }),
        },
    };
    println!("approval    {approval}");
    let (gusto, fake) = match real_gusto() {
        Some(g) => (g?, None),
        None => {
            let (fake, gusto, open, people) = fake_gusto().await?;
            println!(
                "payroll     no GUSTO_*: started a fake Gusto at {}",
                fake.url()
            );
            (gusto, Some((fake, open, people)))
        }
    };
    let posting = if server.is_some() || std::env::var_os("POST_INVOICES").is_some() {
        Posting::Post
    } else {
        Posting::Draft
    };
    let flow = TimesheetsToPayroll::new(
        Arc::new(OdooConnector::new(client.clone())),
        Arc::new(gusto),
        Arc::new(MemoryStore::new()),
        approval,
        rate_cards(),
    )
    .posting(posting);

    let first = flow.run().await?;
    print("first run", &first);
    let again = flow.run().await?;
    print("second run", &again);

    for (id, invoice) in &first.billed {
        for l in &invoice.lines {
            let price = l.unit_price.map(|p| p.to_string()).unwrap_or_default();
            println!(
                "odoo        {id}: {} × {price} : {}",
                l.quantity, l.description
            );
        }
    }
    if let Some((fake, open, people)) = fake {
        for uuid in &people {
            let name = fake.employee(uuid).map(|e| e["first_name"].to_string());
            let hours = fake.regular_hours(&open, uuid);
            println!(
                "gusto       {} regular hours in the open payroll: {}",
                name.unwrap_or_default(),
                hours.unwrap_or_default()
            );
        }
        // Offline, one demo line is left unapproved, one expense is
        // re-invoiced, and the invoice is posted.
        let offline = server.is_some();
        if first.hours.updated == 0
            || first.invoices.created == 0
            || (offline && (first.left_out.is_empty() || first.posted.is_empty()))
            || (offline && !first.billed.values().any(|i| i.lines.len() == 3))
        {
            return Err("the example did not do what it says".into());
        }
    }
    if !again.is_no_op() {
        return Err("the second run changed something".into());
    }
    if first.hours.dead_lettered + first.invoices.dead_lettered > 0 || !first.not_posted.is_empty()
    {
        return Err("some records failed".into());
    }
    Ok(())
}
