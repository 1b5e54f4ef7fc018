//! HRIS → Odoo: BambooHR's employees kept in step with Odoo's
//! `hr.employee`. BambooHR owns the job data (name, department, title,
//! manager, status, dates, cost rate); Odoo owns the work contact (email,
//! phone) and the working schedule, so a change to those in BambooHR is
//! refused and reported, never written over Odoo's.
//!
//! ```sh
//! cargo run --example hris_to_odoo
//! ```
//!
//! Offline by default: a fake BambooHR on loopback and the embedded Odoo.
//! With `BAMBOOHR_COMPANY` and `BAMBOOHR_API_KEY` (and `ODOO_URL` etc., see
//! `examples/common`) it reads your BambooHR and keeps its checkpoint in
//! `./.hris-state/`, so each run only reads what changed since the last
//! (`/employees/changed?since=`), and a run with nothing new writes nothing.
//!
//! Offline it shows four runs: the first creates every employee (the
//! departments are created by name, and a manager is written before the
//! people who report to them, whatever order they arrive in); the second
//! does nothing; then someone is promoted, someone leaves, and someone's
//! work email is changed in BambooHR: the third run updates the first two
//! (the leaver is archived in Odoo with their departure date) and refuses
//! the email, which Odoo owns; the fourth does nothing.
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::{BoxError, connect};
use odoo_integration::connectors::bamboohr::BambooHrConnector;
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::workflows::people;
use odoo_integration::connectors::{FileStore, RunSummary, SyncState};
use odoo_integration::fakes::bamboohr::{Compensation, FakeBambooHr};
use odoo_integration::model::Policy;
use std::sync::Arc;
use std::time::Duration;

/// Who owns what.
const POLICY: &str = r#"
[employee]
default_owner = "bamboohr"

[employee.fields]
work_email = "odoo"
work_phone = "odoo"
work_calendar = "odoo"
"#;

/// A fake BambooHR with a small firm: a director, two managers and their
/// teams, listed reports first.
async fn fake_bamboohr() -> Result<FakeBambooHr, BoxError> {
    let hr = FakeBambooHr::start().await?;
    let person = |number: &str, first: &str, last: &str, department: &str, title: &str| {
        vec![
            ("employeeNumber", number.to_owned()),
            ("firstName", first.to_owned()),
            ("lastName", last.to_owned()),
            (
                "workEmail",
                format!("{}@northwind.example", first.to_lowercase()),
            ),
            ("department", department.to_owned()),
            ("jobTitle", title.to_owned()),
            ("hireDate", "2024-02-01".to_owned()),
        ]
    };
    let director = hr.insert_employee(person("100", "Ines", "Vos", "Management", "Director"));
    let lead = |n, f, l, d, t| {
        let mut p = person(n, f, l, d, t);
        p.push(("supervisorEId", director.clone()));
        hr.insert_employee(p)
    };
    let delivery = lead("110", "Marc", "Janssens", "Delivery", "Delivery Manager");
    let data = lead("120", "Sara", "Claes", "Data", "Head of Data");
    for (n, f, l, d, t, boss) in [
        ("111", "Nina", "Patel", "Delivery", "Consultant", &delivery),
        (
            "112",
            "Tom",
            "Peeters",
            "Delivery",
            "Senior Consultant",
            &delivery,
        ),
        ("121", "Lotte", "Wouters", "Data", "Data Engineer", &data),
    ] {
        let mut p = person(n, f, l, d, t);
        p.push(("supervisorEId", boss.clone()));
        let id = hr.insert_employee(p);
        hr.set_compensation(
            &id,
            [Compensation::new(
                "2024-02-01".parse()?,
                "93600",
                "EUR",
                "Year",
            )],
        );
    }
    // Let the changes age past the connector's settle time.
    hr.advance(Duration::from_secs(10));
    Ok(hr)
}

/// One run: the library's HRIS → Odoo people sync.
async fn sync(
    bamboo: &Arc<BambooHrConnector>,
    odoo: &Arc<OdooConnector>,
    state: &Arc<dyn SyncState>,
    policy: &Policy,
) -> Result<RunSummary, BoxError> {
    Ok(people::hris_to_odoo(bamboo.clone(), odoo.clone(), state.clone(), policy).await?)
}

fn report(title: &str, run: &RunSummary) {
    println!("{title}");
    common::print_run("employees", run);
}

/// Prints Odoo's employees, archived ones included.
async fn show(odoo: &odoo_integration::odoo::Client) -> Result<(), BoxError> {
    use odoo_integration::odoo::{Context, Domain};
    let rows = odoo
        .model("hr.employee")
        .search_read(Domain::field("barcode").is_set())
        .context(Context::new().active_test(false))
        .fields([
            "name",
            "job_title",
            "department_id",
            "parent_id",
            "active",
            "departure_date",
        ])
        .order("barcode")
        .send()
        .await?;
    for r in rows {
        let name = |v: &odoo_integration::serde_json::Value| {
            v.get(1).and_then(|n| n.as_str()).unwrap_or("-").to_owned()
        };
        let left = match r["departure_date"].as_str() {
            Some(d) if r["active"] == false => format!("  (left {d}, archived)"),
            _ => String::new(),
        };
        println!(
            "  {:<16} {:<20} {:<12} reports to {}{left}",
            r["name"].as_str().unwrap_or("?"),
            r["job_title"].as_str().unwrap_or("-"),
            name(&r["department_id"]),
            name(&r["parent_id"]),
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    common::init_tracing();
    let (client, server) = connect().await?;
    let odoo = Arc::new(OdooConnector::new(client.clone()));
    let policy = Policy::from_toml(POLICY)?;
    let temp = tempfile::tempdir()?;
    let (bamboo, fake) = match (
        std::env::var("BAMBOOHR_COMPANY"),
        std::env::var("BAMBOOHR_API_KEY"),
    ) {
        (Ok(company), Ok(key)) => (BambooHrConnector::new(company, key)?, None),
        _ => {
            let fake = fake_bamboohr().await?;
            println!(
                "hris        no BAMBOOHR_*: started a fake BambooHR at {}",
                fake.url()
            );
            let b = BambooHrConnector::new(fake.company(), fake.api_key())?.base_url(&fake.url());
            (b, Some(fake))
        }
    };
    let bamboo = Arc::new(bamboo);
    // Offline, state lives in a temporary directory; against real systems
    // it is kept, so the changed-since checkpoint carries over.
    let dir = if server.is_some() || fake.is_some() {
        temp.path().to_path_buf()
    } else {
        ".hris-state".into()
    };
    let state: Arc<dyn SyncState> = Arc::new(FileStore::open(&dir).await?);

    let first = sync(&bamboo, &odoo, &state, &policy).await?;
    report(
        "first run: every employee, managers before their reports",
        &first,
    );
    let second = sync(&bamboo, &odoo, &state, &policy).await?;
    report("second run: nothing changed since the checkpoint", &second);
    let Some(hr) = fake else {
        show(&client).await?;
        return Ok(());
    };
    if !second.is_no_op() || first.dead_lettered > 0 {
        return Err("the first run left something behind, or the second changed something".into());
    }

    // A promotion, a leaver, and an email changed in BambooHR.
    let by_number = |n: &str| {
        (1..=6).map(|i| i.to_string()).find(|id| {
            hr.employee(id)
                .is_some_and(|e| e.field("employeeNumber") == Some(n))
        })
    };
    let (Some(nina), Some(tom), Some(lotte)) =
        (by_number("111"), by_number("112"), by_number("121"))
    else {
        return Err("the fake lost an employee".into());
    };
    hr.update_employee(&nina, [("jobTitle", "Senior Consultant")]);
    hr.terminate(&tom, "2026-11-27".parse()?);
    hr.update_employee(&lotte, [("workEmail", "lotte.w@gmail.example")]);
    hr.advance(Duration::from_secs(10));

    let third = sync(&bamboo, &odoo, &state, &policy).await?;
    report(
        "third run: a promotion, a leaver, and an email Odoo owns",
        &third,
    );
    let fourth = sync(&bamboo, &odoo, &state, &policy).await?;
    report("fourth run: nothing new", &fourth);
    println!("odoo        hr.employee now:");
    show(&client).await?;
    if third.updated != 2 || third.refused.len() != 1 || !fourth.is_no_op() {
        return Err("the third or fourth run did not do what the example says".into());
    }
    Ok(())
}
