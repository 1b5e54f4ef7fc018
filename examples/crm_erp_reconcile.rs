//! Reconcile the CRM's companies against Odoo's client partners: which
//! match, which exist on one side only, and which fields disagree. Prints
//! a table and writes the report as CSV and JSON.
//!
//! ```sh
//! cargo run --example crm_erp_reconcile                  # offline
//! cargo run --example crm_erp_reconcile -- --out reports # where the files go
//! ```
//!
//! Offline by default: a fake HubSpot on loopback and the embedded Odoo,
//! each with a few companies. With `HUBSPOT_TOKEN` and `ODOO_URL` (see
//! `examples/common`) it compares the real systems; it only reads.
//!
//! Records are paired by a match key: the legal name with everything but
//! letters and digits removed, upper-cased, so `Acme Corp.` and `ACME
//! CORP` pair. A sync that keeps cross-references would pair them by id
//! instead; this report is for the day before the first sync, or for an
//! audit. Only the fields both systems hold are compared.
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::{BoxError, connect};
use odoo_integration::connectors::hubspot::HubSpotConnector;
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::workflows::{amounts, compare::reconcile_sources};
use odoo_integration::connectors::{Quota, RateLimiter};
use odoo_integration::fakes::hubspot::FakeHubSpot;
use odoo_integration::model::{ClientCompany, MatchKey, Normalize};
use std::path::PathBuf;

/// The fields HubSpot's company map and Odoo's client map both hold.
const COMPARED: [&str; 4] = ["legal_name", "website", "address.city", "address.country"];

/// A fake HubSpot with companies that pair, differ and miss on each side
/// of the embedded Odoo's demo data.
async fn fake_hubspot() -> Result<FakeHubSpot, BoxError> {
    let hs = FakeHubSpot::start().await?;
    hs.insert(
        "companies",
        [("name", "Gemini Furniture"), ("country", "BE")],
    );
    hs.insert(
        "companies",
        [
            ("name", "ACME Corporation"),
            ("website", "https://acme.example"),
            ("city", "Boston"),
            ("country", "US"),
        ],
    );
    hs.insert("companies", [("name", "Initech"), ("country", "US")]);
    Ok(hs)
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    common::init_tracing();
    let args: Vec<String> = std::env::args().collect();
    let out: PathBuf = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .map_or_else(|| PathBuf::from("target/crm_erp_reconcile"), PathBuf::from);

    let (odoo_client, _server) = connect().await?;
    let odoo = OdooConnector::new(odoo_client);
    let (hubspot, _fake) = match std::env::var("HUBSPOT_TOKEN") {
        Ok(token) => (HubSpotConnector::new(token)?, None),
        Err(_) => {
            let fake = fake_hubspot().await?;
            println!(
                "crm         no HUBSPOT_TOKEN: started a fake HubSpot at {}",
                fake.url()
            );
            let hs = HubSpotConnector::new(fake.token())?
                .base_url(&fake.url())
                .settle(std::time::Duration::ZERO)
                .limiter(RateLimiter::new(Quota::per_second(50).burst(50)));
            (hs, Some(fake))
        }
    };

    let key = MatchKey::new("legal_name", Normalize::Identifier);
    let report = reconcile_sources::<ClientCompany>(&hubspot, &odoo, &key, &COMPARED).await?;
    print!("{}", amounts::table(&report, "hubspot", "odoo"));

    std::fs::create_dir_all(&out)?;
    let csv = out.join("companies.csv");
    let json = out.join("companies.json");
    std::fs::write(&csv, report.to_csv())?;
    std::fs::write(
        &json,
        odoo_integration::serde_json::to_string_pretty(&report)?,
    )?;
    println!("\nwrote       {} and {}", csv.display(), json.display());
    println!(
        "summary     {} matched, {} only in HubSpot, {} only in Odoo, {} fields differ",
        report.matched.len(),
        report.only_in_a.len(),
        report.only_in_b.len(),
        report.mismatched.len()
    );
    Ok(())
}
