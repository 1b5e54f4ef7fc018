//! Quote to cash: a deal won in the CRM becomes, in Odoo, a client (linked
//! when Odoo already has it), its contacts, a billable project and a sale
//! order with the deal's line items, once; the Odoo project's id is
//! written back to the deal (a field the policy gives Odoo).
//!
//! [`run`] is the whole flow, each step a [`Pipeline`] with its own
//! checkpoint in the state store, so running it again changes nothing:
//!
//! 1. CRM companies → Odoo clients (`res.partner`, matched first).
//! 2. CRM contacts → Odoo contacts, under their client (matched first).
//! 3. CRM deals → Odoo opportunities (`crm.lead`).
//! 4. Won deals → Odoo projects and sale orders, through [`WonDeals`], a
//!    source that turns each won deal into an engagement or a contract.
//! 5. Odoo → CRM: [`ProjectRefs`] hands each won deal its project's id.
//!
//! Odoo wants a product on every order line: give the Odoo connector's
//! contract map one (`ModelMap::contract().line_default("lines",
//! "product_id", id)`).

use crate::connector::{
    Capabilities, Connector, Cursor, Operation, Page, Sink, Source, SourceChange,
};
use crate::error::Result;
use crate::odoo::OdooConnector;
use crate::pipeline::{Pipeline, RunSummary};
use crate::store::SyncState;
use async_trait::async_trait;
use odoo_integration_model::{
    ClientCompany, Contact, Contract, Engagement, Entity, Opportunity, OpportunityStage, Policy,
    SystemId,
};
use std::marker::PhantomData;
use std::sync::Arc;

/// How a won deal becomes a record: the record and the fields it claims.
type Convert<E> = fn(&Opportunity) -> (E, &'static [&'static str]);

/// Won deals as engagements or contracts: the deal's id stays the
/// record's id, so each deal becomes one project and one sale order, once.
/// Open and lost deals are skipped (a deal lost after it was won keeps its
/// project: that is for people to decide).
///
/// # Example
///
/// ```
/// # use std::sync::Arc;
/// use odoo_integration_connectors::workflows::quote_to_cash::WonDeals;
/// use odoo_integration_connectors::{Operation, Source, SourceChange, sources::VecSource};
/// use odoo_integration_model::{Opportunity, OpportunityStage, SystemId};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let deal = |name: &str, stage| Opportunity { name: name.into(), stage, ..Default::default() };
/// let crm = Arc::new(VecSource::new(SystemId::hubspot(), vec![
///     SourceChange::upsert("1", chrono::Utc::now(), deal("Won one", OpportunityStage::Won)),
///     SourceChange::upsert("2", chrono::Utc::now(), deal("Open one", OpportunityStage::Open)),
/// ]));
/// let projects = WonDeals::engagements(crm);
/// let page = projects.read(None, 10).await?;
/// assert_eq!(page.changes.len(), 1);
/// assert!(matches!(&page.changes[0].operation, Operation::Upsert(e) if e.name == "Won one" && e.billable));
/// # Ok(()) }
/// ```
pub struct WonDeals<E> {
    crm: Arc<dyn Source<Opportunity>>,
    convert: Convert<E>,
    entity: PhantomData<fn() -> E>,
}

impl<E> std::fmt::Debug for WonDeals<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WonDeals")
            .field("crm", &self.crm.system())
            .finish_non_exhaustive()
    }
}

impl WonDeals<Engagement> {
    /// Won deals as billable engagements (Odoo projects) named after the
    /// deal, starting on its close date.
    ///
    /// # Example
    ///
    /// See [`WonDeals`].
    pub fn engagements(crm: Arc<dyn Source<Opportunity>>) -> Self {
        WonDeals {
            crm,
            convert: engagement_of,
            entity: PhantomData,
        }
    }
}

impl WonDeals<Contract> {
    /// Won deals as contracts (Odoo sale orders) with the deal's lines,
    /// referenced by the deal's name and signed on its close date.
    ///
    /// # Example
    ///
    /// See [`WonDeals`].
    pub fn contracts(crm: Arc<dyn Source<Opportunity>>) -> Self {
        WonDeals {
            crm,
            convert: contract_of,
            entity: PhantomData,
        }
    }
}

/// A won deal's engagement.
fn engagement_of(deal: &Opportunity) -> (Engagement, &'static [&'static str]) {
    let e = Engagement {
        name: deal.name.clone(),
        billable: true,
        start: deal.close_date,
        ..Default::default()
    };
    (e, &["name", "client", "billable", "start"])
}

/// A won deal's contract.
fn contract_of(deal: &Opportunity) -> (Contract, &'static [&'static str]) {
    let c = Contract {
        reference: deal.name.clone(),
        signed_on: deal.close_date,
        lines: deal.lines.clone(),
        ..Default::default()
    };
    (c, &["reference", "client", "signed_on", "lines"])
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
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<E>> {
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

/// Odoo's projects as the project reference of the deals they came from:
/// project → its engagement → the CRM deal → that deal's opportunity and
/// its record in Odoo. Projects that came from no deal are skipped.
///
/// # Example
///
/// See [`run`].
pub struct ProjectRefs {
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    crm: SystemId,
}

impl std::fmt::Debug for ProjectRefs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProjectRefs")
            .field("crm", &self.crm)
            .finish_non_exhaustive()
    }
}

impl ProjectRefs {
    /// The project references of `crm`'s deals, from `odoo`'s projects and
    /// the identities in `state`.
    ///
    /// # Example
    ///
    /// See [`run`].
    pub fn new(odoo: Arc<OdooConnector>, state: Arc<dyn SyncState>, crm: SystemId) -> Self {
        ProjectRefs { odoo, state, crm }
    }
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
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<Opportunity>> {
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

/// What quote to cash needs of a CRM connector: it reads companies,
/// contacts and deals, and writes deals (the project reference).
pub trait Crm:
    Source<ClientCompany> + Source<Contact> + Source<Opportunity> + Sink<Opportunity> + 'static
{
}
impl<T> Crm for T where
    T: Source<ClientCompany> + Source<Contact> + Source<Opportunity> + Sink<Opportunity> + 'static
{
}

/// Runs the five steps once, each a pipeline named `{crm}→odoo/{step}`
/// (and `odoo→{crm}/project_ref`) with its checkpoint in `state`, under
/// `policy` (which should give `opportunity.project_ref` to Odoo): each
/// step's name and run summary, in order.
///
/// # Errors
///
/// A step that fails as a whole (a system down past the retries, a store
/// that fails, a misconfigured pipeline); records that fail alone are in
/// the dead-letter queue and the summaries.
///
/// # Example
///
/// The end-to-end test `quote_to_cash_turns_a_won_deal_into_a_project_and_an_order`
/// (`connectors/tests/it/workflows.rs`) runs it between the HubSpot fake
/// and the embedded Odoo; `examples/quote_to_cash.rs` is a thin caller:
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn demo(crm: Arc<odoo_integration_connectors::hubspot::HubSpotConnector>, odoo: Arc<odoo_integration_connectors::odoo::OdooConnector>) -> Result<(), Box<dyn std::error::Error>> {
/// use odoo_integration_connectors::{workflows::quote_to_cash, MemoryStore};
/// use odoo_integration_model::Policy;
/// let policy = Policy::from_toml("[opportunity.fields]\nproject_ref = \"odoo\"\n")?;
/// for (step, run) in quote_to_cash::run(crm, odoo, Arc::new(MemoryStore::new()), &policy).await? {
///     println!("{step}: {run}");
/// }
/// # Ok(()) }
/// ```
pub async fn run<C: Crm>(
    crm: Arc<C>,
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    policy: &Policy,
) -> Result<Vec<(&'static str, RunSummary)>> {
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
    step!(
        "projects",
        Engagement,
        Arc::new(WonDeals::engagements(deals.clone())),
        odoo.clone()
    );
    step!(
        "sale orders",
        Contract,
        Arc::new(WonDeals::contracts(deals)),
        odoo.clone()
    );
    let refs = Arc::new(ProjectRefs::new(odoo.clone(), state.clone(), name.clone()));
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
