//! A tour of the Odoo client.
//!
//! ```sh
//! cargo run --example odoo_tour
//! ```
//!
//! With no `ODOO_URL` it starts the embedded in-memory Odoo and tours it.
//! To tour a real Odoo 16–19 instead (it creates records and deletes them
//! again at the end; use a test database):
//!
//! ```sh
//! ODOO_URL=https://odoo.example.com ODOO_DB=test ODOO_LOGIN=admin \
//!   ODOO_API_KEY=... cargo run --example odoo_tour
//! ```
//!
//! `ODOO_PASSWORD` can replace `ODOO_API_KEY`; `ODOO_PROTOCOL` (`json2`,
//! `jsonrpc`, `xmlrpc`, `auto`) picks the protocol (default `auto`).
#![allow(clippy::print_stdout, missing_docs)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use odoo_integration::futures::TryStreamExt;
use odoo_integration::odoo::value::{Many2One, falsy};
use odoo_integration::odoo::{Domain, ExternalId, Model};
use odoo_integration::serde_json::json;

mod common;
use common::{BoxError, connect};

/// A company as the tour reads it. `#[derive(Model)]` writes the model's
/// name and the fields to read (`name`, `email`, `country_id`: `id` always
/// comes back) from the struct, so none can be forgotten.
#[derive(Debug, serde::Deserialize, Model)]
#[odoo(model = "res.partner")]
struct Company {
    id: i64,
    name: String,
    #[serde(with = "falsy")]
    email: Option<String>,
    #[serde(rename = "country_id", with = "falsy")]
    country: Option<Many2One>,
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    common::init_tracing();
    // Keep the embedded server alive for the whole tour.
    let (client, _server) = connect().await?;

    // 1. Who is there, and which protocol did Auto pick.
    let version = client.server_version().await?;
    let protocol = client.protocol().await?;
    println!("server      Odoo {version}, speaking {protocol}");
    let uid = client.uid().await?;
    println!("login       uid {uid}");

    // 2. What a partner looks like.
    let partners = client.model("res.partner");
    let fields = partners
        .fields_get()
        .attributes(["type", "string", "relation"])
        .send()
        .await?;
    let relational: Vec<&str> = fields
        .iter()
        .filter(|(_, f)| f.relation.is_some())
        .map(|(name, _)| name.as_str())
        .take(5)
        .collect();
    println!(
        "fields_get  res.partner has {} fields; relations include {}",
        fields.len(),
        relational.join(", ")
    );

    // 3. A domain search, decoded into a struct.
    let companies = client
        .typed::<Company>()
        .search_read(Domain::field("is_company").eq(true) & Domain::field("email").is_set())
        .order("name")
        .limit(5)
        .send()
        .await?;
    println!(
        "search      companies with an email (read: {}):",
        Company::FIELDS.join(", ")
    );
    for c in &companies {
        let country = c.country.as_ref().and_then(|c| c.name.as_deref());
        println!(
            "              #{} {} <{}> {}",
            c.id,
            c.name,
            c.email.as_deref().unwrap_or_default(),
            country.unwrap_or("-")
        );
    }

    // 4. Every partner, one page at a time, by id (never by offset).
    let mut stream = partners
        .keyset(Domain::all())
        .fields(["name"])
        .page_size(200)
        .into_stream();
    let mut count = 0;
    while stream.try_next().await?.is_some() {
        count += 1;
    }
    println!("keyset      streamed {count} partners");

    // 5. Upsert by external id, twice: one record per id.
    let rows = || {
        vec![
            (
                "odoo_tour.client_a".parse::<ExternalId>(),
                json!({"name": "Tour Client A", "is_company": true}),
            ),
            (
                "odoo_tour.client_b".parse::<ExternalId>(),
                json!({"name": "Tour Client B", "is_company": true}),
            ),
        ]
    };
    let mut upserted = Vec::new();
    for round in 1..=2 {
        let batch: Vec<_> = rows()
            .into_iter()
            .map(|(x, v)| x.map(|x| (x, v)))
            .collect::<Result<_, _>>()?;
        let outcomes = partners.upsert_by_external_id(batch).send().await?;
        let described: Vec<String> = outcomes
            .iter()
            .map(|o| match o {
                Ok(u) => format!("{u:?}"),
                Err(e) => format!("error: {e}"),
            })
            .collect();
        println!("upsert #{round}   {}", described.join(", "));
        upserted = outcomes
            .into_iter()
            .filter_map(Result::ok)
            .map(|u| u.id())
            .collect();
    }

    // 6. A thousand leads in batches, four calls in flight.
    let started = Instant::now();
    let last_shown = AtomicUsize::new(0);
    let outcomes = client
        .model("crm.lead")
        .create_batch((0..1000).map(|i| {
            let kind = if i % 4 == 0 { "opportunity" } else { "lead" };
            json!({"name": format!("Tour lead {i:04}"), "type": kind, "expected_revenue": 1000 + i})
        }))
        .batch_size(100)
        .in_flight(4)
        .on_progress(move |done, total| {
            if done == total || done - last_shown.load(Ordering::Relaxed) >= 250 {
                last_shown.store(done, Ordering::Relaxed);
                println!("batch       {done}/{total}");
            }
        })
        .send()
        .await;
    let lead_ids: Vec<i64> = outcomes
        .iter()
        .filter_map(|o| o.as_ref().ok().copied())
        .collect();
    println!(
        "batch       created {} leads in {} ms ({} failed)",
        lead_ids.len(),
        started.elapsed().as_millis(),
        outcomes.len() - lead_ids.len()
    );

    // 7. A grouped read (formatted_read_group on 19+, read_group before).
    let groups = client
        .model("crm.lead")
        .read_group(Domain::field("id").is_in(lead_ids.iter().copied()))
        .group_by(["type"])
        .aggregate(["expected_revenue:sum"])
        .send()
        .await?;
    for g in &groups {
        println!(
            "group       type={} count={} expected_revenue={}",
            g.keys["type"], g.count, g.aggregates["expected_revenue:sum"]
        );
    }

    // 8. Clean up what the tour created.
    for chunk in lead_ids.chunks(500) {
        client
            .model("crm.lead")
            .unlink(chunk.iter().copied())
            .send()
            .await?;
    }
    partners.unlink(upserted.iter().copied()).send().await?;
    println!(
        "cleanup     removed {} leads and {} partners",
        lead_ids.len(),
        upserted.len()
    );
    Ok(())
}
