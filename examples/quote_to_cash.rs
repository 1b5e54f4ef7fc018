//! Quote to cash: a deal won in the CRM becomes, in Odoo, a client, its
//! contacts, a project managed by the deal's owner and a confirmed sale
//! order with the deal's line items, once; the Odoo project's id and the
//! order's reference are written back to the deal, because the policy lets
//! Odoo own those fields. Running it again changes nothing.
//!
//! ```sh
//! cargo run --example quote_to_cash                 # HubSpot (offline fake)
//! cargo run --example quote_to_cash -- --salesforce # Salesforce (offline fake)
//! ```
//!
//! Offline by default: a stateful fake of the CRM's API on loopback and the
//! embedded Odoo, with a product for time-and-materials work (invoiced on
//! timesheets) and one for fixed fees (prepaid). With `HUBSPOT_TOKEN` (or
//! `SALESFORCE_*`, see [`salesforce`]) and `ODOO_URL` (see
//! `examples/common`) it runs against the real systems and keeps its state
//! in `./.quote-to-cash-state/`. On a real HubSpot, create the deal
//! properties `odoo_project_id`, `odoo_order` and `billing_model` and a
//! unique property `integration_sync_id` on companies, contacts and deals
//! first. On a real Odoo, name your products by internal reference with
//! `ODOO_PRODUCT_TM` and `ODOO_PRODUCT_FIXED` (else every line gets the
//! first service product), and set `QUOTE_TO_CASH_CONFIRM=1` to confirm
//! the orders.
//!
//! The flow is the library's
//! [`workflows::quote_to_cash`](odoo_integration::connectors::workflows::quote_to_cash):
//! configuration, a check of the products before anything is written, then
//! the run; this file only sets up the systems and prints what happened.
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::{BoxError, connect};
use odoo_integration::connectors::hubspot::{FieldMap, HubSpotConnector, ObjectMap};
use odoo_integration::connectors::odoo::{ModelMap, OdooConnector};
use odoo_integration::connectors::workflows::quote_to_cash::{self, QuoteToCash, Report};
use odoo_integration::connectors::{FileStore, MemoryStore, Quota, RateLimiter, SyncState};
use odoo_integration::fakes::hubspot::FakeHubSpot;
use odoo_integration::model::{BillingKind, Policy, SystemId};
use odoo_integration::serde_json::json;
use std::sync::Arc;

/// Who owns what. `{crm}` is the CRM's system id.
const POLICY: &str = r#"
[client]
default_owner = "{crm}"
[client.fields]
tax_id = "odoo"
billing_terms = "odoo"

[contact]
default_owner = "{crm}"

[opportunity]
default_owner = "{crm}"
[opportunity.fields]
project_ref = "odoo"
order_ref = "odoo"

[engagement]
default_owner = "{crm}"
[engagement.fields]
end = "odoo"
billing_terms = "odoo"
tax_treatment = "odoo"

[contract]
default_owner = "{crm}"
"#;

/// How the won deals are billed and whether their orders are confirmed.
struct Billing {
    /// Products by billing kind (internal references); none: the
    /// contract map's line default.
    products: Vec<(BillingKind, String)>,
    confirm: bool,
}

/// Runs the library's quote to cash once.
async fn quote_to_cash<C: quote_to_cash::Crm>(
    crm: Arc<C>,
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    policy: &Policy,
    billing: &Billing,
) -> Result<Report, BoxError> {
    let mut flow = QuoteToCash::new(crm, odoo, state, policy.clone()).confirm(billing.confirm);
    for (kind, code) in &billing.products {
        flow = flow.product(*kind, code.clone());
    }
    Ok(flow.run().await?)
}

fn print_report(title: &str, report: &Report) {
    println!("{title}");
    for (what, run) in &report.steps {
        common::print_run(what, run);
    }
    for order in &report.confirmed {
        println!("  confirmed   {order}");
    }
    for (order, why) in &report.not_confirmed {
        println!("  not confirmed {order}: {why}");
    }
}

/// The products that bill each kind of work, and the Odoo connector with
/// a default product for lines when there are none: offline, two made in
/// the embedded Odoo; else those named by `ODOO_PRODUCT_*`.
async fn billing(
    client: &odoo_integration::odoo::Client,
    offline: bool,
) -> Result<(Billing, OdooConnector), BoxError> {
    let mut products = Vec::new();
    if offline {
        for (kind, code, name, policy) in [
            (
                BillingKind::TimeAndMaterials,
                "CONSULT-TM",
                "Consulting (time and materials)",
                "delivered_timesheet",
            ),
            (
                BillingKind::FixedFee,
                "CONSULT-FIXED",
                "Consulting (fixed fee)",
                "ordered_prepaid",
            ),
        ] {
            client
                .model("product.product")
                .create(
                    &json!({"name": name, "default_code": code, "type": "service",
                                "list_price": 1000.0, "service_policy": policy}),
                )
                .send()
                .await?;
            products.push((kind, code.to_owned()));
        }
    } else {
        for (kind, var) in [
            (BillingKind::TimeAndMaterials, "ODOO_PRODUCT_TM"),
            (BillingKind::FixedFee, "ODOO_PRODUCT_FIXED"),
        ] {
            if let Ok(code) = std::env::var(var) {
                products.push((kind, code));
            }
        }
    }
    let mut odoo = OdooConnector::new(client.clone());
    if products.is_empty() {
        // Odoo wants a product on every order line: contract lines get the
        // first service product that is sold.
        let service = client
            .model("product.product")
            .search(
                odoo_integration::odoo::Domain::field("type")
                    .eq("service")
                    .and(odoo_integration::odoo::Domain::field("sale_ok").eq(true)),
            )
            .limit(1)
            .send()
            .await?
            .first()
            .copied()
            .ok_or("no service product in Odoo to put on order lines: create one")?;
        odoo = odoo.with_map(ModelMap::contract().line_default("lines", "product_id", service));
    }
    let confirm = offline || std::env::var("QUOTE_TO_CASH_CONFIRM").is_ok_and(|v| v == "1");
    Ok((Billing { products, confirm }, odoo))
}

/// Prints the sale order made from a deal, with its lines.
async fn show_order(odoo: &odoo_integration::odoo::Client, deal: &str) -> Result<(), BoxError> {
    use odoo_integration::odoo::Domain;
    let orders = odoo
        .model("sale.order")
        .search_read(Domain::field("client_order_ref").eq(deal))
        .fields(["name", "state"])
        .send()
        .await?;
    for order in &orders {
        let Some(id) = order["id"].as_i64() else {
            continue;
        };
        println!(
            "odoo        sale order {} ({}) for \"{deal}\":",
            order["name"], order["state"]
        );
        let lines = odoo
            .model("sale.order.line")
            .search_read(Domain::field("order_id").eq(id))
            .fields(["name", "product_uom_qty", "price_unit"])
            .send()
            .await?;
        for l in &lines {
            println!(
                "              {} × {} at {}",
                l["product_uom_qty"], l["name"], l["price_unit"]
            );
        }
    }
    Ok(())
}

/// A seeded fake HubSpot: two companies, three contacts, a won deal with
/// two line items and an open one.
async fn fake_hubspot() -> Result<FakeHubSpot, BoxError> {
    let hs = FakeHubSpot::start().await?;
    for object in ["companies", "contacts", "deals"] {
        hs.unique_property(object, "integration_sync_id");
    }
    let northwind = hs.insert(
        "companies",
        [
            ("name", "Northwind Traders"),
            ("website", "https://northwind.example"),
            ("city", "Ghent"),
            ("country", "BE"),
        ],
    );
    let contoso = hs.insert(
        "companies",
        [("name", "Contoso"), ("website", "https://contoso.example")],
    );
    for (first, last, email, company) in [
        ("Ann", "Peeters", "ann@northwind.example", &northwind),
        ("Bram", "De Smet", "bram@northwind.example", &northwind),
        ("Chloé", "Martin", "chloe@contoso.example", &contoso),
    ] {
        let id = hs.insert(
            "contacts",
            [("firstname", first), ("lastname", last), ("email", email)],
        );
        hs.associate("contacts", &id, "companies", company);
    }
    let won = hs.insert(
        "deals",
        [
            ("dealname", "Northwind ERP roll-out"),
            ("dealstage", "closedwon"),
            ("amount", "48000"),
            ("deal_currency_code", "EUR"),
            ("closedate", "2026-11-20T00:00:00.000Z"),
            ("billing_model", "time-and-materials"),
        ],
    );
    hs.associate("deals", &won, "companies", &northwind);
    for (name, quantity, price) in [
        ("Senior consultant (days)", "40", "1000"),
        ("Data migration (fixed)", "1", "8000"),
    ] {
        let line = hs.insert(
            "line_items",
            [
                ("name", name),
                ("quantity", quantity),
                ("price", price),
                ("hs_line_item_currency_code", "EUR"),
            ],
        );
        hs.associate("deals", &won, "line_items", &line);
    }
    let open = hs.insert(
        "deals",
        [
            ("dealname", "Contoso audit"),
            ("dealstage", "qualifiedtobuy"),
            ("amount", "12000"),
        ],
    );
    hs.associate("deals", &open, "companies", &contoso);
    Ok(hs)
}

/// HubSpot with the deal properties for the project id, the order
/// reference and the billing kind.
fn hubspot(token: &str) -> Result<HubSpotConnector, BoxError> {
    let mut deals = ObjectMap::deals();
    for (field, property) in [
        ("project_ref", "odoo_project_id"),
        ("order_ref", "odoo_order"),
        ("billing", "billing_model"),
    ] {
        deals.properties.push(FieldMap::text(field, property));
    }
    Ok(HubSpotConnector::new(token)?.object_map(deals))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    common::init_tracing();
    let salesforce = std::env::args().any(|a| a == "--salesforce");
    let (client, server) = connect().await?;
    let (billing, odoo) = billing(&client, server.is_some()).await?;
    let odoo = Arc::new(odoo);
    let state: Arc<dyn SyncState> = if server.is_some() {
        Arc::new(MemoryStore::new())
    } else {
        Arc::new(FileStore::open(".quote-to-cash-state").await?)
    };
    if salesforce {
        return salesforce::run(odoo, &client, state, &billing).await;
    }
    let (hs, fake) = match std::env::var("HUBSPOT_TOKEN") {
        Ok(token) => (hubspot(&token)?, None),
        Err(_) => {
            let fake = fake_hubspot().await?;
            println!(
                "crm         no HUBSPOT_TOKEN: started a fake HubSpot at {}",
                fake.url()
            );
            let hs = hubspot(fake.token())?
                .base_url(&fake.url())
                // The fake indexes at once and allows more than HubSpot.
                .settle(std::time::Duration::ZERO)
                .limiter(RateLimiter::new(Quota::per_second(50).burst(50)));
            (hs, Some(fake))
        }
    };
    let crm = Arc::new(hs);
    let policy = Policy::from_toml(&POLICY.replace("{crm}", SystemId::hubspot().as_str()))?;
    let first = quote_to_cash(crm.clone(), odoo.clone(), state.clone(), &policy, &billing).await?;
    print_report("first run: the won deal goes to Odoo", &first);
    show_order(&client, "Northwind ERP roll-out").await?;
    let again = quote_to_cash(crm, odoo, state, &policy, &billing).await?;
    print_report("second run: nothing to do", &again);
    if let Some(fake) = fake {
        let deal = fake
            .records("deals")
            .into_iter()
            .find(|d| d.property("dealstage") == Some("closedwon"));
        let written = |p: &str| deal.as_ref().and_then(|d| d.property(p).map(str::to_owned));
        let (project, order) = (written("odoo_project_id"), written("odoo_order"));
        println!("crm         the won deal now names Odoo project {project:?} and order {order:?}");
        if project.is_none() || order.is_none() || first.confirmed.is_empty() {
            return Err("the order was not confirmed or not written back to the deal".into());
        }
    }
    if !again.is_no_op() {
        return Err("the second run changed something".into());
    }
    Ok(())
}

/// The same flow from Salesforce: Accounts, Contacts, Opportunities with
/// their line items; the project id goes to the custom field
/// `Odoo_Project_Id__c` of the opportunity.
///
/// Real Salesforce: `SALESFORCE_LOGIN_URL` (your My Domain URL),
/// `SALESFORCE_CLIENT_ID` and `SALESFORCE_CLIENT_SECRET` (a connected app
/// with the client-credentials flow), optional `SALESFORCE_CURRENCY` (the
/// org's, default USD). Create `Odoo_Project_Id__c` on Opportunity and the
/// external id field `Integration_Sync_Id__c` on Account, Contact and
/// Opportunity first.
mod salesforce {
    use super::*;
    use odoo_integration::connectors::salesforce::{ConnectedApp, FieldMap, SalesforceConnector};
    use odoo_integration::fakes::salesforce::FakeSalesforce;
    use odoo_integration::serde_json::json;

    const FAKE_ID: &str = "3MVG9-example-consumer-key";
    const FAKE_SECRET: &str = "example-consumer-secret";

    async fn fake() -> Result<FakeSalesforce, BoxError> {
        let sf = FakeSalesforce::start().await?;
        sf.allow_client(FAKE_ID, FAKE_SECRET);
        let northwind = sf.insert(
            "Account",
            json!({"Name": "Northwind Traders", "Website": "https://northwind.example",
                   "BillingCity": "Ghent", "BillingCountry": "BE"}),
        );
        let contoso = sf.insert("Account", json!({"Name": "Contoso"}));
        for (first, last, email, account) in [
            ("Ann", "Peeters", "ann@northwind.example", &northwind),
            ("Bram", "De Smet", "bram@northwind.example", &northwind),
            ("Chloé", "Martin", "chloe@contoso.example", &contoso),
        ] {
            sf.insert(
                "Contact",
                json!({"FirstName": first, "LastName": last, "Email": email, "AccountId": account}),
            );
        }
        let won = sf.insert(
            "Opportunity",
            json!({"Name": "Northwind ERP roll-out", "StageName": "Closed Won", "Amount": 48000,
                   "CloseDate": "2026-11-20", "AccountId": northwind}),
        );
        for (name, quantity, price) in [
            ("Senior consultant (days)", 40, 1000),
            ("Data migration (fixed)", 1, 8000),
        ] {
            sf.insert(
                "OpportunityLineItem",
                json!({"OpportunityId": won, "Name": name, "Quantity": quantity, "UnitPrice": price}),
            );
        }
        sf.insert(
            "Opportunity",
            json!({"Name": "Contoso audit", "StageName": "Qualification", "Amount": 12000,
                   "CloseDate": "2027-01-15", "AccountId": contoso}),
        );
        Ok(sf)
    }

    pub(super) async fn run(
        odoo: Arc<OdooConnector>,
        odoo_client: &odoo_integration::odoo::Client,
        state: Arc<dyn SyncState>,
        billing: &Billing,
    ) -> Result<(), BoxError> {
        let env = |k: &str| std::env::var(k).ok();
        let (builder, fake) = match (
            env("SALESFORCE_LOGIN_URL"),
            env("SALESFORCE_CLIENT_ID"),
            env("SALESFORCE_CLIENT_SECRET"),
        ) {
            (Some(url), Some(id), Some(secret)) => {
                let currency = env("SALESFORCE_CURRENCY").unwrap_or_else(|| "USD".into());
                let b = SalesforceConnector::builder(ConnectedApp::client_credentials(id, secret))
                    .login_url(url)
                    .org_currency(currency.parse()?);
                (b, None)
            }
            _ => {
                let fake = fake().await?;
                println!(
                    "crm         no SALESFORCE_*: started a fake Salesforce at {}",
                    fake.url()
                );
                let b = SalesforceConnector::builder(ConnectedApp::client_credentials(
                    FAKE_ID,
                    FAKE_SECRET,
                ))
                .login_url(fake.url())
                .org_currency(odoo_integration::model::Currency::EUR);
                (b, Some(fake))
            }
        };
        let crm = Arc::new(
            builder
                .project_field("Odoo_Project_Id__c")
                .opportunity_fields(vec![FieldMap::text("order_ref", "Odoo_Order__c")])
                .build()?,
        );
        let policy = Policy::from_toml(&POLICY.replace("{crm}", SystemId::salesforce().as_str()))?;
        let first =
            quote_to_cash(crm.clone(), odoo.clone(), state.clone(), &policy, billing).await?;
        print_report("first run: the won opportunity goes to Odoo", &first);
        show_order(odoo_client, "Northwind ERP roll-out").await?;
        let again = quote_to_cash(crm, odoo, state, &policy, billing).await?;
        print_report("second run: nothing to do", &again);
        if let Some(fake) = fake {
            let won = fake
                .records("Opportunity")
                .into_iter()
                .find(|o| o["StageName"] == "Closed Won");
            let written = |f: &str| won.as_ref().and_then(|o| o[f].as_str().map(str::to_owned));
            let (project, order) = (written("Odoo_Project_Id__c"), written("Odoo_Order__c"));
            println!(
                "crm         the won opportunity now names Odoo project {project:?} and order {order:?}"
            );
            if project.is_none() || order.is_none() {
                return Err("the project or order was not written back to the opportunity".into());
            }
        }
        if !again.is_no_op() {
            return Err("the second run changed something".into());
        }
        Ok(())
    }
}
