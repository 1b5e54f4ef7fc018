//! Quote to cash: a deal won in the CRM becomes, in Odoo, a client, its
//! contacts, a project and a sale order with the deal's line items, once;
//! the Odoo project's id is written back to the deal, because the policy
//! lets Odoo own that one field. Running it again changes nothing.
//!
//! ```sh
//! cargo run --example quote_to_cash                 # HubSpot (offline fake)
//! cargo run --example quote_to_cash -- --salesforce # Salesforce (offline fake)
//! ```
//!
//! Offline by default: a stateful fake of the CRM's API on loopback and the
//! embedded Odoo. With `HUBSPOT_TOKEN` (or `SALESFORCE_*`, see
//! [`salesforce`]) and `ODOO_URL` (see `examples/common`) it runs against
//! the real systems and keeps its state in `./.quote-to-cash-state/`. On a
//! real HubSpot, create the deal property `odoo_project_id` and a unique
//! property `integration_sync_id` on companies, contacts and deals first.
//!
//! The flow, each step a [`Pipeline`] with its own checkpoint:
//!
//! 1. CRM companies → Odoo clients (`res.partner`, companies).
//! 2. CRM contacts → Odoo contacts, under their client.
//! 3. CRM deals → Odoo opportunities (`crm.lead`): the deal's record in Odoo.
//! 4. Won deals → Odoo projects (`project.project`) and sale orders
//!    (`sale.order` with the line items), through [`WonDeals`], a source
//!    that turns a won deal into an engagement or a contract.
//! 5. Odoo → CRM: [`ProjectRefs`] reads Odoo's projects and hands each
//!    won deal its project's id; the policy gives that field to Odoo, so
//!    it is the only field written to the deal.
#![allow(clippy::print_stdout, missing_docs)]

mod common;

use common::{BoxError, connect};
use odoo_integration::async_trait;
use odoo_integration::connectors::hubspot::{FieldMap, HubSpotConnector, ObjectMap};
use odoo_integration::connectors::odoo::{ModelMap, OdooConnector};
use odoo_integration::connectors::{
    Capabilities, Connector, Cursor, FileStore, MemoryStore, Operation, Page, Pipeline, Quota,
    RateLimiter, RunSummary, Sink, Source, SourceChange, SyncState, testkit,
};
use odoo_integration::fakes::hubspot::FakeHubSpot;
use odoo_integration::model::{
    ClientCompany, Contact, Contract, Engagement, Entity, Opportunity, OpportunityStage, Policy,
    SystemId,
};
use std::marker::PhantomData;
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

[engagement]
default_owner = "{crm}"
[engagement.fields]
end = "odoo"
billing_terms = "odoo"
tax_treatment = "odoo"

[contract]
default_owner = "{crm}"
"#;

/// What the example needs of a CRM connector.
trait Crm:
    Source<ClientCompany> + Source<Contact> + Source<Opportunity> + Sink<Opportunity> + 'static
{
}
impl<T> Crm for T where
    T: Source<ClientCompany> + Source<Contact> + Source<Opportunity> + Sink<Opportunity> + 'static
{
}

/// Won deals as engagements or contracts: the deal's id stays the record's
/// id, so each deal becomes one project and one sale order, once. Open and
/// lost deals are skipped (a deal lost after it was won keeps its project:
/// that is for people to decide).
struct WonDeals<E> {
    crm: Arc<dyn Source<Opportunity>>,
    convert: fn(&Opportunity) -> (E, &'static [&'static str]),
    _entity: PhantomData<fn() -> E>,
}

impl<E: Entity> Connector for WonDeals<E> {
    fn system(&self) -> SystemId {
        self.crm.system()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads([E::NAME]).incremental(true)
    }
}

#[async_trait]
impl<E: Entity + Send + Sync + 'static> Source<E> for WonDeals<E> {
    async fn read(
        &self,
        since: Option<&Cursor>,
        limit: usize,
    ) -> odoo_integration::connectors::Result<Page<E>> {
        let page = self.crm.read(since, limit).await?;
        let changes = page
            .changes
            .into_iter()
            .filter_map(|deal| {
                let Operation::Upsert(o) = &deal.operation else {
                    return None;
                };
                if o.stage != OpportunityStage::Won {
                    return None;
                }
                let (record, fields) = (self.convert)(o);
                let mut change = SourceChange::upsert(deal.remote_id.as_str(), deal.at, record)
                    .with_fields(fields.iter().copied());
                if let Some(client) = deal.refs.get("client") {
                    change = change.with_ref("client", client.clone());
                }
                Some(change)
            })
            .collect();
        Ok(Page {
            changes,
            next: page.next,
            has_more: page.has_more,
        })
    }
}

fn engagement(deal: &Opportunity) -> (Engagement, &'static [&'static str]) {
    let e = Engagement {
        name: deal.name.clone(),
        billable: true,
        start: deal.close_date,
        ..Default::default()
    };
    (e, &["name", "client", "billable", "start"])
}

fn contract(deal: &Opportunity) -> (Contract, &'static [&'static str]) {
    let c = Contract {
        reference: deal.name.clone(),
        signed_on: deal.close_date,
        lines: deal.lines.clone(),
        ..Default::default()
    };
    (c, &["reference", "client", "signed_on", "lines"])
}

/// Odoo's projects as the project reference of the deals they came from:
/// project → its engagement → the CRM deal → that deal's opportunity and
/// its record in Odoo. Projects that came from no deal are skipped.
struct ProjectRefs {
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    crm: SystemId,
}

impl Connector for ProjectRefs {
    fn system(&self) -> SystemId {
        SystemId::odoo()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["opportunity"]).incremental(true)
    }
}

#[async_trait]
impl Source<Opportunity> for ProjectRefs {
    async fn read(
        &self,
        since: Option<&Cursor>,
        limit: usize,
    ) -> odoo_integration::connectors::Result<Page<Opportunity>> {
        let page = Source::<Engagement>::read(&*self.odoo, since, limit).await?;
        let odoo = SystemId::odoo();
        let mut changes = Vec::new();
        for project in page.changes {
            if project.operation.is_delete() {
                continue;
            }
            let state = &self.state;
            let Some(engagement) = state
                .resolve("engagement", &odoo, &project.remote_id)
                .await?
            else {
                continue;
            };
            let Some(deal) = state.cross_refs(engagement).await?.remove(&self.crm) else {
                continue;
            };
            let Some(opportunity) = state.resolve("opportunity", &self.crm, &deal).await? else {
                continue;
            };
            let Some(lead) = state.cross_refs(opportunity).await?.remove(&odoo) else {
                continue;
            };
            let refs = Opportunity {
                project_ref: Some(project.remote_id.to_string()),
                ..Default::default()
            };
            changes.push(
                SourceChange::upsert(lead.as_str(), project.at, refs).with_fields(["project_ref"]),
            );
        }
        Ok(Page {
            changes,
            next: page.next,
            has_more: page.has_more,
        })
    }
}

/// Runs the five steps once.
async fn quote_to_cash<C: Crm>(
    crm: Arc<C>,
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    policy: &Policy,
) -> Result<Vec<(&'static str, RunSummary)>, BoxError> {
    let name = crm.system();
    let mut runs = Vec::new();
    macro_rules! step {
        ($label:literal, $entity:ty, $source:expr, $sink:expr) => {
            let run = Pipeline::<$entity>::builder(
                format!("{name}→odoo/{}", $label),
                $source,
                $sink,
                state.clone(),
            )
            .policy(policy.clone())
            .build()?
            .run()
            .await?;
            runs.push(($label, run));
        };
    }
    step!("clients", ClientCompany, crm.clone(), odoo.clone());
    step!("contacts", Contact, crm.clone(), odoo.clone());
    step!("deals", Opportunity, crm.clone(), odoo.clone());
    let deals: Arc<dyn Source<Opportunity>> = crm.clone();
    let projects = Arc::new(WonDeals {
        crm: deals.clone(),
        convert: engagement,
        _entity: PhantomData,
    });
    // The sources written here are checked against what the pipeline
    // relies on (pages within their limit, replayable cursors) first.
    testkit::check_source::<Engagement>(&*projects)
        .await
        .assert_ok();
    step!("projects", Engagement, projects, odoo.clone());
    let orders = Arc::new(WonDeals {
        crm: deals,
        convert: contract,
        _entity: PhantomData,
    });
    testkit::check_source::<Contract>(&*orders)
        .await
        .assert_ok();
    step!("sale orders", Contract, orders, odoo.clone());
    let refs = Arc::new(ProjectRefs {
        odoo: odoo.clone(),
        state: state.clone(),
        crm: name.clone(),
    });
    testkit::check_source::<Opportunity>(&*refs)
        .await
        .assert_ok();
    let back = Pipeline::<Opportunity>::builder(
        format!("odoo→{name}/project_ref"),
        refs,
        crm.clone(),
        state.clone(),
    )
    .policy(policy.clone())
    .build()?
    .run()
    .await?;
    runs.push(("project ids", back));
    Ok(runs)
}

fn print_runs(title: &str, runs: &[(&str, RunSummary)]) {
    println!("{title}");
    for (what, run) in runs {
        common::print_run(what, run);
    }
}

/// Prints the sale order made from a deal, with its lines.
async fn show_order(odoo: &odoo_integration::odoo::Client, deal: &str) -> Result<(), BoxError> {
    use odoo_integration::odoo::Domain;
    let orders = odoo
        .model("sale.order")
        .search_read(Domain::field("client_order_ref").eq(deal))
        .fields(["name", "partner_id"])
        .send()
        .await?;
    for order in &orders {
        let Some(id) = order["id"].as_i64() else {
            continue;
        };
        println!("odoo        sale order {id} for \"{deal}\":");
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

/// HubSpot with the deal property for the project id.
fn hubspot(token: &str) -> Result<HubSpotConnector, BoxError> {
    let mut deals = ObjectMap::deals();
    deals
        .properties
        .push(FieldMap::text("project_ref", "odoo_project_id"));
    Ok(HubSpotConnector::new(token)?.object_map(deals))
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    common::init_tracing();
    let salesforce = std::env::args().any(|a| a == "--salesforce");
    let (client, server) = connect().await?;
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
    let odoo = Arc::new(
        OdooConnector::new(client.clone()).with_map(ModelMap::contract().line_default(
            "lines",
            "product_id",
            service,
        )),
    );
    let state: Arc<dyn SyncState> = if server.is_some() {
        Arc::new(MemoryStore::new())
    } else {
        Arc::new(FileStore::open(".quote-to-cash-state").await?)
    };
    if salesforce {
        return salesforce::run(odoo, &client, state).await;
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
    let first = quote_to_cash(crm.clone(), odoo.clone(), state.clone(), &policy).await?;
    print_runs("first run: the won deal goes to Odoo", &first);
    show_order(&client, "Northwind ERP roll-out").await?;
    let again = quote_to_cash(crm, odoo, state, &policy).await?;
    print_runs("second run: nothing to do", &again);
    if let Some(fake) = fake {
        let deal = fake
            .records("deals")
            .into_iter()
            .find(|d| d.property("dealstage") == Some("closedwon"));
        let project = deal.as_ref().and_then(|d| d.property("odoo_project_id"));
        println!("crm         the won deal now names Odoo project {project:?}");
        if project.is_none() {
            return Err("the project id was not written back to the deal".into());
        }
    }
    if again.iter().any(|(_, r)| !r.is_no_op()) {
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
    use odoo_integration::connectors::salesforce::{ConnectedApp, SalesforceConnector};
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
        let crm = Arc::new(builder.project_field("Odoo_Project_Id__c").build()?);
        let policy = Policy::from_toml(&POLICY.replace("{crm}", SystemId::salesforce().as_str()))?;
        let first = quote_to_cash(crm.clone(), odoo.clone(), state.clone(), &policy).await?;
        print_runs("first run: the won opportunity goes to Odoo", &first);
        show_order(odoo_client, "Northwind ERP roll-out").await?;
        let again = quote_to_cash(crm, odoo, state, &policy).await?;
        print_runs("second run: nothing to do", &again);
        if let Some(fake) = fake {
            let project = fake
                .records("Opportunity")
                .into_iter()
                .find(|o| o["StageName"] == "Closed Won")
                .and_then(|o| o["Odoo_Project_Id__c"].as_str().map(str::to_owned));
            println!("crm         the won opportunity now names Odoo project {project:?}");
            if project.is_none() {
                return Err("the project id was not written back to the opportunity".into());
            }
        }
        if again.iter().any(|(_, r)| !r.is_no_op()) {
            return Err("the second run changed something".into());
        }
        Ok(())
    }
}
