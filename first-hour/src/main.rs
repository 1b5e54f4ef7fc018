//! A first hour with the SDK: partners from HubSpot's companies, upserted
//! into Odoo by external id, typed end to end.
//!
//! ```sh
//! ODOO_URL=https://odoo.example.com ODOO_LOGIN=admin ODOO_API_KEY=... \
//! HUBSPOT_TOKEN=pat-... cargo run
//! ```

use odoo_integration::connectors::hubspot::HubSpotConnector;
use odoo_integration::connectors::{Operation, read_to_end};
use odoo_integration::model::ClientCompany as Company;
use odoo_integration::odoo::value::falsy;
use odoo_integration::odoo::{Client, Domain, ExternalId, Model, Upserted};
use serde::{Deserialize, Serialize};

/// A partner as this program reads and writes it; the derive writes its
/// model name and field list, so no field can be forgotten.
#[derive(Debug, Deserialize, Serialize, Model)]
#[odoo(model = "res.partner")]
struct Partner {
    #[serde(skip_serializing)]
    id: i64,
    name: String,
    #[serde(with = "falsy", default)]
    website: Option<String>,
    is_company: bool,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let odoo = Client::from_env()?;
    let token = std::env::var("HUBSPOT_TOKEN").map_err(|_| "set HUBSPOT_TOKEN")?;
    let hubspot = HubSpotConnector::new(token)?;

    let (changes, _) = read_to_end::<Company>(&hubspot, None, 100).await?;
    let rows = changes
        .into_iter()
        .filter_map(|change| match change.operation {
            Operation::Upsert(company) => Some((change.remote_id, company)),
            Operation::Delete => None,
        });
    let mut upserts = Vec::new();
    for (remote_id, company) in rows {
        let xid: ExternalId = format!("sync_hubspot.company_{remote_id}").parse()?;
        let partner = Partner {
            id: 0,
            name: company.legal_name,
            website: company.website,
            is_company: true,
        };
        upserts.push((xid, partner));
    }
    let partners = odoo.typed::<Partner>();
    let outcomes = partners
        .upsert_by_external_id(upserts)
        .batch_size(100)
        .send()
        .await?;
    let created = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(Upserted::Created(_))))
        .count();
    println!("{created} created, {} in all", outcomes.len());

    for partner in partners
        .search_read(Domain::field("is_company").eq(true))
        .order("id desc")
        .limit(5)
        .send()
        .await?
    {
        println!(
            "{:>6}  {}  {}",
            partner.id,
            partner.name,
            partner.website.unwrap_or_default()
        );
    }
    Ok(())
}
