//! Field ownership in action: Salesforce and Odoo both edit the same client,
//! the HRIS and payroll both edit the same employee. The policy in
//! `examples/ownership_policy.toml` decides what applies, what is refused and
//! what is held for review; every applied change lands in the provenance trail.
//!
//! Run with `cargo run --example ownership`.
#![allow(clippy::print_stdout)]

mod common;

use odoo_integration::chrono::{TimeZone, Utc};
use odoo_integration::model::{
    CanonicalRecord, Change, ClientCompany, Employee, FieldValue, MergeOutcome, Policy, SystemId,
    merge,
};

fn report(who: &SystemId, out: &MergeOutcome) {
    println!("change from {who}:");
    for a in &out.applied {
        println!(
            "  applied  {:<16} {:?} -> {:?}",
            a.field,
            a.old.to_string(),
            a.new.to_string()
        );
    }
    for r in &out.refused {
        let owner = r.owner.as_ref().map_or("nobody".into(), |o| o.to_string());
        println!(
            "  refused  {:<16} owner {owner}, attempted {:?} ({})",
            r.field,
            r.attempted.to_string(),
            r.reason
        );
    }
    for h in &out.held {
        println!(
            "  held     {:<16} {:?} -> {:?} awaits review",
            h.field,
            h.current.to_string(),
            h.attempted.to_string()
        );
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_tracing();
    let policy = Policy::from_toml(include_str!("ownership_policy.toml"))?;
    let t = |h| {
        Utc.with_ymd_and_hms(2026, 3, 2, h, 0, 0)
            .single()
            .ok_or("bad time")
    };
    let text = |s: &str| FieldValue::Text(s.into());

    let mut client = CanonicalRecord::new(ClientCompany {
        legal_name: "Acme NV".into(),
        ..Default::default()
    });
    let salesforce = SystemId::salesforce();
    let odoo = SystemId::odoo();

    let from_crm = Change::new("sf-0001", t(9)?)
        .with("industry", text("Retail"))
        .with("legal_name", text("ACME Group"))
        .with("website", text("https://acme.example"))
        .with("address.city", text("Antwerp"));
    report(
        &salesforce,
        &merge(&mut client, &from_crm, &salesforce, &policy)?,
    );

    let from_erp = Change::new("odoo-write-77", t(10)?)
        .with("industry", text("Wholesale"))
        .with("tax_id", text("BE0123456789"))
        .with("billing_terms", text("30 days"))
        .with("website", text("https://www.acme.example"))
        .with("address.city", text("Ghent"));
    report(&odoo, &merge(&mut client, &from_erp, &odoo, &policy)?);

    let mut employee = CanonicalRecord::new(Employee {
        employee_number: "E-104".into(),
        ..Default::default()
    });
    let hris = SystemId::bamboohr();
    let payroll = SystemId::gusto();
    let from_hris = Change::new("bhr-55", t(11)?)
        .with("job_title", text("Senior Consultant"))
        .with("cost_rate", FieldValue::Money("95 EUR".parse()?));
    report(&hris, &merge(&mut employee, &from_hris, &hris, &policy)?);
    let from_payroll = Change::new("gusto-9", t(12)?)
        .with("job_title", text("Consultant"))
        .with("cost_rate", FieldValue::Money("98.50 EUR".parse()?));
    report(
        &payroll,
        &merge(&mut employee, &from_payroll, &payroll, &policy)?,
    );

    println!("\nclient {} now: {:?}", client.id, client.data);
    println!(
        "employee {} now: {:?} (Debug shows no personal data)",
        employee.id, employee.data
    );

    println!("\nprovenance trail of client.website:");
    for p in client.history("website") {
        println!(
            "  {} {} {}: {:?} -> {:?}",
            p.at,
            p.system,
            p.change_id,
            p.old.to_string(),
            p.new.to_string()
        );
    }
    println!(
        "\nfull client trail (JSON, {} entries over {} fields):",
        client.trail().len(),
        client
            .trail()
            .iter()
            .map(|p| &p.field)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    println!(
        "{}",
        odoo_integration::serde_json::to_string_pretty(client.trail())?
    );
    Ok(())
}
