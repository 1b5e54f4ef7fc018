//! Timesheets → payroll and billing: approved hours in Odoo are summed per
//! employee per pay period and written as hours into Gusto's unprocessed
//! payroll, and billable hours per engagement become draft customer
//! invoices in Odoo at the contract's rates. Lines not approved are
//! reported, not paid or billed. Running it again changes nothing.
//!
//! ```sh
//! cargo run --example timesheets_to_payroll
//! ```
//!
//! **What "approved" means.** Odoo Community has no approval on timesheet
//! lines (`account.analytic.line`); Enterprise's `timesheet_grid` adds the
//! boolean `validated`. The example picks a
//! [`workflows::Approval`](odoo_integration::connectors::workflows::Approval)
//! and checks the server has its field before writing anything: the field
//! named by `ODOO_APPROVAL_FIELD` (a custom boolean such as `x_approved`);
//! else Enterprise's `validated` when the server has it; else, on a stock
//! Community server, every line up to `ODOO_APPROVAL_CUTOFF` (a date,
//! default today). Offline, the embedded Odoo is started with a custom
//! `x_approved` and a manager approves three of the four demo lines.
//!
//! Offline by default: the embedded Odoo and a fake Gusto on loopback.
//! With `ODOO_URL` (see `examples/common`) and `GUSTO_COMPANY_UUID`,
//! `GUSTO_CLIENT_ID`, `GUSTO_CLIENT_SECRET`, `GUSTO_ACCESS_TOKEN`,
//! `GUSTO_REFRESH_TOKEN` (add `GUSTO_DEMO=1` for Gusto's demo
//! environment) it runs against the real systems. Those tokens live only
//! in memory here: a real deployment gives the connector a `TokenStore`
//! that persists the single-use refresh token.
//!
//! The steps:
//! 1. Read Odoo's timesheet lines, employees and projects, and Gusto's
//!    employees and payrolls.
//! 2. Pair Odoo and Gusto employees by employee number or work email
//!    (`workflows::people`; each pair gets one canonical id), and each
//!    payroll its canonical id.
//! 3. Sum approved hours per employee per payroll period: a pipeline from
//!    Odoo's timesheets into Gusto (`Sink<PayStatement>`), which writes
//!    them as Regular Hours with Gusto's version check.
//! 4. Price billable approved hours per engagement and period at the
//!    contract's time-and-materials rates (by role): a pipeline into
//!    Odoo's `account.move` (draft customer invoices, one per engagement
//!    and period, with a line per person).
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::BoxError;
use odoo_integration::connectors::gusto::{
    AppCredentials, GustoConnector, MemoryTokenStore, Tokens,
};
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::sources::VecSource;
use odoo_integration::connectors::workflows::Approval;
use odoo_integration::connectors::workflows::people;
use odoo_integration::connectors::workflows::timesheets::{self, Line, PayPeriod};
use odoo_integration::connectors::{
    Connector, Link, MemoryStore, Operation, Pipeline, RunSummary, Source, SourceChange, SyncState,
    testkit,
};
use odoo_integration::fakes::gusto::FakeGusto;
use odoo_integration::model::{
    BillingModel, CanonicalId, Currency, Employee, Engagement, Entity, Invoice, Money,
    PayStatement, PayrollRun, Policy, RemoteId, SystemId, TimesheetEntry,
};
use odoo_integration::odoo::test_server::{Field, FieldKind, TestServer};
use odoo_integration::rust_decimal::Decimal;
use odoo_integration::serde_json::json;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Timesheets own the hours; Gusto owns what it computes.
const POLICY: &str = r#"
[pay_statement]
default_owner = "gusto"
[pay_statement.fields]
hours = "odoo"
run = "odoo"
employee = "odoo"

[invoice]
default_owner = "odoo"
"#;

/// The contracts, by project name: time and materials at a rate per role
/// (the employee's job title). A real firm keeps these on its contracts
/// (`odoo_integration::model::Contract::billing`).
fn contracts() -> BTreeMap<&'static str, BillingModel> {
    let usd = |n: i64| Money::new(Decimal::from(n), Currency::USD);
    let rates = [("Engagement Lead", usd(150)), ("Data Engineer", usd(120))]
        .into_iter()
        .map(|(role, rate)| (role.to_owned(), rate))
        .collect();
    BTreeMap::from([(
        "Acme data platform",
        BillingModel::TimeAndMaterials { rates },
    )])
}

/// Every record a source has now, with its id and its change (for the
/// references).
async fn upserts<E: Entity>(
    source: &dyn Source<E>,
) -> Result<Vec<(RemoteId, E, SourceChange<E>)>, BoxError> {
    let (changes, _) = odoo_integration::connectors::read_to_end(source, None, 100).await?;
    Ok(changes
        .into_iter()
        .filter_map(|c| match &c.operation {
            Operation::Upsert(e) => Some((c.remote_id.clone(), e.clone(), c)),
            Operation::Delete => None,
        })
        .collect())
}

/// Records computed by this run, as a snapshot source (read whole each
/// run; unchanged ones change nothing), checked by the testkit first.
async fn computed<E: Entity + Send + Sync + 'static>(
    system: SystemId,
    changes: Vec<SourceChange<E>>,
) -> Arc<VecSource<E>> {
    let source = VecSource::new(system, changes);
    testkit::check_source::<E>(&source).await.assert_ok();
    Arc::new(source)
}

/// The canonical id these records share: the one any of them already has,
/// else a new one; linked to all of them.
async fn identity(
    state: &Arc<dyn SyncState>,
    entity: &str,
    pairs: &[(&SystemId, &RemoteId)],
) -> Result<CanonicalId, BoxError> {
    let mut known = None;
    for (system, remote) in pairs {
        known = state.resolve(entity, system, remote).await?;
        if known.is_some() {
            break;
        }
    }
    let id = known.unwrap_or_else(CanonicalId::new);
    let links: Vec<Link> = pairs
        .iter()
        .map(|(s, r)| Link::new(entity, id, (*s).clone(), (*r).clone()))
        .collect();
    state.link(&links).await?;
    Ok(id)
}

struct Systems {
    odoo: Arc<OdooConnector>,
    approval: Approval,
    gusto: Arc<GustoConnector>,
    state: Arc<dyn SyncState>,
    policy: Policy,
}

/// One pass: pairs identities, then syncs hours and invoices.
async fn run(s: &Systems) -> Result<(RunSummary, RunSummary, Vec<String>), BoxError> {
    let (odoo_sys, gusto_sys) = (SystemId::odoo(), s.gusto.system());

    // 1. Read.
    let mut lines = upserts::<TimesheetEntry>(&*s.odoo).await?;
    for (_, line, _) in &mut lines {
        s.approval.judge(line);
    }
    let odoo_people = upserts::<Employee>(&*s.odoo).await?;
    let projects = upserts::<Engagement>(&*s.odoo).await?;
    let gusto_people = upserts::<Employee>(&*s.gusto).await?;
    let runs = upserts::<PayrollRun>(&*s.gusto).await?;

    // 2. Identities: employees paired by employee number or work email,
    //    payrolls by their uuid.
    let strip = |list: &[(RemoteId, Employee, SourceChange<Employee>)]| {
        list.iter()
            .map(|(id, e, _)| (id.clone(), e.clone()))
            .collect::<Vec<_>>()
    };
    let pairing = people::pair_employees(&strip(&odoo_people), &strip(&gusto_people));
    let mut people: HashMap<RemoteId, (CanonicalId, Employee)> = HashMap::new();
    for (odoo_id, person, _) in &odoo_people {
        let mut pairs = vec![(&odoo_sys, odoo_id)];
        if let Some(pair) = pairing.pairs.iter().find(|p| p.left == *odoo_id) {
            pairs.push((&gusto_sys, &pair.right));
        }
        let id = identity(&s.state, "employee", &pairs).await?;
        people.insert(odoo_id.clone(), (id, person.clone()));
    }
    let mut periods = Vec::new();
    for (uuid, run, _) in &runs {
        if let (Some(start), Some(end)) = (run.period_start, run.period_end) {
            let id = identity(&s.state, "payroll_run", &[(&gusto_sys, uuid)]).await?;
            periods.push((uuid.clone(), id, start, end));
        }
    }
    let pay_periods: Vec<PayPeriod> = periods
        .iter()
        .map(|(uuid, _, start, end)| PayPeriod::new(uuid.as_str(), *start, *end))
        .collect();

    // 3. Approved hours per employee per payroll (the lines judged by the
    //    approval chosen), and those left out.
    let judged: Vec<Line> = lines
        .iter()
        .filter_map(|(_, line, change)| {
            let mut l = Line::from_change(change)?;
            l.entry = line.clone();
            Some(l)
        })
        .collect();
    let hours = timesheets::approved_hours(&judged, &pay_periods);
    let mut unapproved = Vec::new();
    for skipped in &hours.skipped {
        let who = skipped
            .employee
            .as_ref()
            .and_then(|e| people.get(e))
            .map_or("?", |(_, p)| p.name.as_str());
        let date = skipped.date.map(|d| d.to_string()).unwrap_or_default();
        unapproved.push(format!(
            "line {}: {who}, {date}, {} h ({:?})",
            skipped.line, skipped.hours, skipped.why
        ));
    }
    let mut statements = Vec::new();
    for ((payroll, employee), total) in &hours.total {
        let (Some((_, run, ..)), Some((person, _))) = (
            periods.iter().find(|(p, ..)| p == payroll),
            people.get(employee),
        ) else {
            continue;
        };
        let statement = PayStatement {
            run: Some(*run),
            employee: Some(*person),
            hours: Some(*total),
            ..Default::default()
        };
        let at = odoo_integration::chrono::Utc::now();
        statements.push(
            SourceChange::upsert(format!("hours:{payroll}:{employee}"), at, statement)
                .with_fields(["run", "employee", "hours"]),
        );
    }
    let payroll = Pipeline::<PayStatement>::builder(
        "odoo→gusto/hours",
        // Computed by this run: their ids come from what they sum (payroll
        // and employee), so a rerun finds the same records unchanged.
        computed(odoo_sys.clone(), statements).await,
        s.gusto.clone(),
        s.state.clone(),
    )
    .policy(s.policy.clone())
    .build()?
    .run()
    .await?;

    // 4. Billable hours per engagement and period, at the contract's rates.
    let contracts = contracts();
    let billing = timesheets::price_hours(
        &hours,
        &pay_periods,
        |project| {
            let (_, engagement, change) = projects.iter().find(|(id, ..)| id == project)?;
            Some(timesheets::Billed {
                engagement,
                billing: contracts.get(engagement.name.as_str()),
                // Odoo's partner of the project: one invoice per client.
                client: change.refs.get("client").map(|r| &r.remote_id),
            })
        },
        |employee| people.get(employee).map(|(_, p)| p),
    );
    for u in &billing.unpriced {
        unapproved.push(format!(
            "{} h of {} on {}: not priced ({:?})",
            u.hours, u.employee, u.engagement, u.why
        ));
    }
    let mut invoices = billing.invoices;
    let clients: Vec<&RemoteId> = projects
        .iter()
        .filter_map(|(_, _, c)| c.refs.get("client").map(|r| &r.remote_id))
        .collect();
    for ((client, _), invoice) in &mut invoices {
        // The client, as the sync's identities know it (an invoice of a
        // project without a client is keyed by the project).
        if clients.contains(&client) {
            invoice.client = Some(identity(&s.state, "client", &[(&odoo_sys, client)]).await?);
        }
    }
    let at = odoo_integration::chrono::Utc::now();
    let changes = invoices
        .into_iter()
        .map(|((client, payroll), invoice)| {
            SourceChange::upsert(format!("billing:{client}:{payroll}"), at, invoice)
                .with_fields(["client", "date", "lines"])
        })
        .collect();
    let billing = Pipeline::<Invoice>::builder(
        "timesheets→odoo/invoices",
        computed(SystemId::new("timesheets"), changes).await,
        s.odoo.clone(),
        s.state.clone(),
    )
    .policy(s.policy.clone())
    .build()?
    .run()
    .await?;
    Ok((payroll, billing, unapproved))
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
        .policy(Policy::from_toml(POLICY)?)
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
        .policy(Policy::from_toml(POLICY)?);
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
    // Before anything is written: does the server have what it needs?
    approval.check(&client).await?;
    println!("approval    {approval}");
    let odoo = Arc::new(OdooConnector::new(client.clone()).with_map(approval.timesheet_map()));
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
    let systems = Systems {
        odoo,
        approval,
        gusto: Arc::new(gusto),
        state: Arc::new(MemoryStore::new()),
        policy: Policy::from_toml(POLICY)?,
    };

    let (payroll, billing, unapproved) = run(&systems).await?;
    println!("first run");
    common::print_run("hours", &payroll);
    common::print_run("invoices", &billing);
    for u in &unapproved {
        println!("  not paid or billed: {u}");
    }
    let (payroll_again, billing_again, _) = run(&systems).await?;
    println!("second run");
    common::print_run("hours", &payroll_again);
    common::print_run("invoices", &billing_again);

    let invoices = client
        .model("account.move")
        .search_read(odoo_integration::odoo::Domain::field("move_type").eq("out_invoice"))
        .fields(["partner_id", "invoice_date"])
        .send()
        .await?;
    for inv in &invoices {
        println!(
            "odoo        invoice {} (draft) for {} dated {}",
            inv["id"], inv["partner_id"][1], inv["invoice_date"]
        );
        let lines = client
            .model("account.move.line")
            .search_read(
                odoo_integration::odoo::Domain::field("move_id")
                    .eq(inv["id"].as_i64().unwrap_or(0)),
            )
            .fields(["name", "quantity", "price_unit"])
            .send()
            .await?;
        for l in &lines {
            println!(
                "              {} h × {} : {}",
                l["quantity"], l["price_unit"], l["name"]
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
        // Offline, one demo line is left unapproved; on a server that pays
        // every line up to a cutoff, there may be none.
        let none_held = server.is_some() && unapproved.is_empty();
        if payroll.updated == 0 || billing.created == 0 || none_held {
            return Err("the example did not do what it says".into());
        }
    }
    if !payroll_again.is_no_op() || !billing_again.is_no_op() {
        return Err("the second run changed something".into());
    }
    if payroll.dead_lettered + billing.dead_lettered > 0 {
        return Err("some records failed".into());
    }
    Ok(())
}
