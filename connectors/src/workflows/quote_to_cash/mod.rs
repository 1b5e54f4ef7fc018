//! Quote to cash: a deal won in the CRM becomes, in Odoo, a client (linked
//! when Odoo already has it), its contacts, a billable project managed by
//! the deal's owner and a sale order with the deal's line items, once;
//! the order is confirmed if asked, and the project's id and the order's
//! reference are written back to the deal (fields the policy gives Odoo).
//!
//! [`QuoteToCash`] is the whole flow, each step a [`Pipeline`] with its
//! own checkpoint in the state store, so running it again changes nothing:
//!
//! 1. CRM companies → Odoo clients (`res.partner`, matched first).
//! 2. CRM contacts → Odoo contacts, under their client (matched first).
//! 3. CRM deals → Odoo opportunities (`crm.lead`).
//! 4. Won deals → Odoo projects and sale orders, through [`WonDeals`], a
//!    source that turns each won deal into an engagement or a contract.
//! 5. Optionally, the new sale orders are confirmed (`action_confirm`).
//! 6. Odoo → CRM: [`ProjectRefs`] hands each won deal its project's id,
//!    and [`OrderRefs`] its order's reference when the policy gives
//!    `opportunity.order_ref` to Odoo.
//!
//! **Billing.** The deal's billing kind ([`Opportunity::billing`], time
//! and materials when the CRM has none) picks the product of every line
//! that names none ([`QuoteToCash::product`], by internal reference), and
//! with it Odoo's invoicing policy: time and materials invoice the
//! timesheets (`delivered_timesheet`), fixed fees and retainers what was
//! ordered (`ordered_prepaid`), milestones the milestones reached
//! (`delivered_milestones`). [`QuoteToCash::check`] reads the products
//! and refuses, before anything is written, one that is missing, invoiced
//! another way, or that would make Odoo create a second project on
//! confirmation. Without products, give the contract map a default
//! (`ModelMap::contract().line_default("lines", "product_id", id)`).
//!
//! **After confirmation** Odoo keeps an order's lines (it refuses to
//! remove them): line items changed on the deal later are not written
//! over the confirmed order, they wait in the dead-letter queue with
//! Odoo's reason, for someone to amend the order.
//!
//! **Prices.** [`Pricing::Deal`] keeps the deal's unit prices (a line
//! without one is priced by Odoo); [`Pricing::PriceList`] leaves every
//! price to the order's price list (the client's, or the contract map's
//! `default_value("pricelist_id", id)`).
mod deals;
mod refs;
mod terms;

pub use deals::WonDeals;
pub use refs::{OrderRefs, ProjectRefs};
pub use terms::{Pricing, Terms};

use crate::connector::{Sink, Source};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::odoo::OdooConnector;
use crate::pipeline::{Pipeline, RunSummary};
use crate::store::SyncState;
use odoo_integration_client::Domain;
use odoo_integration_model::{
    BillingKind, ClientCompany, Contact, Contract, Engagement, Opportunity, Policy, SystemId,
};
use serde_json::Value;
use std::sync::Arc;

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

/// What each kind of billing needs of its product in Odoo: the service
/// invoicing policy (`service_policy`) and how to set it.
fn wanted_policy(kind: BillingKind) -> (&'static str, &'static str) {
    match kind {
        BillingKind::TimeAndMaterials => ("delivered_timesheet", "Based on Timesheets"),
        BillingKind::Milestones => ("delivered_milestones", "Based on Milestones"),
        // A retainer is billed per period, up front, like a fixed fee.
        _ => ("ordered_prepaid", "Prepaid/Fixed Price"),
    }
}

/// What one run of quote to cash did.
///
/// # Example
///
/// See [`QuoteToCash`].
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Report {
    /// Each step's name and run summary, in order.
    pub steps: Vec<(&'static str, RunSummary)>,
    /// The sale orders confirmed by this run (their references).
    pub confirmed: Vec<String>,
    /// The sale orders Odoo would not confirm, with why.
    pub not_confirmed: Vec<(String, ConnectorError)>,
}

impl Report {
    /// Whether the run changed nothing: every step a no-op and no order
    /// confirmed.
    ///
    /// # Example
    ///
    /// ```
    /// let report = odoo_integration_connectors::workflows::quote_to_cash::Report::default();
    /// assert!(report.is_no_op());
    /// ```
    pub fn is_no_op(&self) -> bool {
        self.confirmed.is_empty() && self.steps.iter().all(|(_, run)| run.is_no_op())
    }
}

/// Quote to cash between a CRM and Odoo: configure, [`check`](Self::check)
/// what Odoo has, [`run`](Self::run). See the [module docs](self).
///
/// # Example
///
/// The end-to-end tests in `connectors/tests/it/workflows.rs` run it
/// between the HubSpot fake and the embedded Odoo; `examples/quote_to_cash.rs`
/// is a thin caller:
///
/// ```no_run
/// # use std::sync::Arc;
/// # async fn demo(crm: Arc<odoo_integration_connectors::hubspot::HubSpotConnector>, odoo: Arc<odoo_integration_connectors::odoo::OdooConnector>) -> Result<(), Box<dyn std::error::Error>> {
/// use odoo_integration_connectors::{workflows::quote_to_cash::QuoteToCash, MemoryStore};
/// use odoo_integration_model::{BillingKind, Policy};
/// let policy = Policy::from_toml("[opportunity.fields]\nproject_ref = \"odoo\"\norder_ref = \"odoo\"\n")?;
/// let flow = QuoteToCash::new(crm, odoo, Arc::new(MemoryStore::new()), policy)
///     .product(BillingKind::TimeAndMaterials, "CONSULTING-TM")
///     .product(BillingKind::FixedFee, "CONSULTING-FIXED")
///     .confirm(true);
/// flow.check().await?; // before anything is written
/// let report = flow.run().await?;
/// for (step, run) in &report.steps {
///     println!("{step}: {run}");
/// }
/// println!("confirmed: {:?}", report.confirmed);
/// # Ok(()) }
/// ```
pub struct QuoteToCash<C> {
    crm: Arc<C>,
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    policy: Policy,
    terms: Terms,
    confirm: bool,
}

impl<C> std::fmt::Debug for QuoteToCash<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuoteToCash")
            .field("terms", &self.terms)
            .field("confirm", &self.confirm)
            .finish_non_exhaustive()
    }
}

impl<C: Crm> QuoteToCash<C> {
    /// Quote to cash from `crm` into `odoo`, its identities and
    /// checkpoints in `state`, under `policy` (which should give
    /// `opportunity.project_ref`, and `order_ref` if the CRM has a field
    /// for it, to Odoo). No products, the deal's prices, orders left as
    /// quotations.
    ///
    /// # Example
    ///
    /// See [`QuoteToCash`].
    pub fn new(
        crm: Arc<C>,
        odoo: Arc<OdooConnector>,
        state: Arc<dyn SyncState>,
        policy: Policy,
    ) -> Self {
        QuoteToCash {
            crm,
            odoo,
            state,
            policy,
            terms: Terms::default(),
            confirm: false,
        }
    }

    /// Bills work of `kind` with the product whose internal reference is
    /// `code` ([`Terms::product`]).
    ///
    /// # Example
    ///
    /// See [`QuoteToCash`].
    pub fn product(mut self, kind: BillingKind, code: impl Into<String>) -> Self {
        self.terms = self.terms.product(kind, code);
        self
    }

    /// Where prices come from ([`Pricing`]).
    ///
    /// # Example
    ///
    /// See [`QuoteToCash`].
    pub fn pricing(mut self, pricing: Pricing) -> Self {
        self.terms = self.terms.pricing(pricing);
        self
    }

    /// Whether the sale orders are confirmed (`action_confirm`) once
    /// written; default no, they stay quotations.
    ///
    /// # Example
    ///
    /// See [`QuoteToCash`].
    pub fn confirm(mut self, yes: bool) -> Self {
        self.confirm = yes;
        self
    }

    /// Checks the products against what Odoo has, writing nothing: each
    /// must exist once, be sold, be invoiced as its kind of billing needs,
    /// and not create a project on confirmation (quote to cash makes the
    /// project; Odoo would make a second).
    ///
    /// # Errors
    ///
    /// [`Configuration`](ConnectorErrorKind::Configuration) naming the
    /// product, what is wrong and how to fix it; Odoo's errors.
    ///
    /// # Example
    ///
    /// See [`QuoteToCash`].
    pub async fn check(&self) -> Result<()> {
        if self.terms.products.is_empty() {
            return Ok(());
        }
        let codes: Vec<&str> = self.terms.products.values().map(String::as_str).collect();
        let rows = self
            .odoo
            .client()
            .model("product.product")
            .search_read(Domain::field("default_code").is_in(codes))
            .fields([
                "default_code",
                "service_policy",
                "service_tracking",
                "sale_ok",
            ])
            .send()
            .await
            .map_err(crate::odoo::convert)?;
        let bad = |message: String| {
            Err(
                ConnectorError::new(ConnectorErrorKind::Configuration, message)
                    .with_system(SystemId::odoo()),
            )
        };
        for (&kind, code) in &self.terms.products {
            let (wanted, label) = wanted_policy(kind);
            let kind = kind.as_str();
            let found: Vec<_> = rows
                .iter()
                .filter(|r| r.get("default_code").and_then(Value::as_str) == Some(code))
                .collect();
            let row = match found.as_slice() {
                [row] => row,
                [] => {
                    return bad(format!(
                        "no product with internal reference `{code}` for {kind} work: \
                         create one in Odoo (Sales > Products, Internal Reference) or name another"
                    ));
                }
                _ => {
                    return bad(format!(
                        "several products have the internal reference `{code}`: give {kind} work \
                         a reference only one product has"
                    ));
                }
            };
            let text = |k: &str| row.get(k).and_then(Value::as_str).unwrap_or("none");
            if row.get("sale_ok") == Some(&Value::Bool(false)) {
                return bad(format!(
                    "product `{code}` cannot be sold: tick \"Sales\" on it in Odoo"
                ));
            }
            if text("service_policy") != wanted {
                return bad(format!(
                    "product `{code}` is invoiced `{}`; {kind} work needs `{wanted}`: set its \
                     Invoicing Policy to \"{label}\" in Odoo, or name another product",
                    text("service_policy")
                ));
            }
            if matches!(text("service_tracking"), "project_only" | "task_in_project") {
                return bad(format!(
                    "product `{code}` creates a project when an order is confirmed \
                     (`service_tracking` = `{}`), and quote to cash creates the deal's project \
                     itself: set \"Create on Order\" to Nothing or Task",
                    text("service_tracking")
                ));
            }
        }
        Ok(())
    }

    /// Runs every step once: [`check`](Self::check), then each step a
    /// pipeline named `{crm}→odoo/{step}` (and `odoo→{crm}/project_ref`,
    /// `odoo→{crm}/order_ref`) with its checkpoint in the state store, and
    /// the confirmation of the orders still quotations.
    ///
    /// # Errors
    ///
    /// A failed [`check`](Self::check), before anything is written; a step
    /// that fails as a whole (a system down past the retries, a store that
    /// fails, a misconfigured pipeline). Records that fail alone are in
    /// the dead-letter queue and the summaries; orders Odoo will not
    /// confirm are in [`Report::not_confirmed`].
    ///
    /// # Example
    ///
    /// See [`QuoteToCash`].
    pub async fn run(&self) -> Result<Report> {
        self.check().await?;
        let name = self.crm.system();
        let (crm, odoo, state) = (&self.crm, &self.odoo, &self.state);
        let mut report = Report::default();
        macro_rules! step {
            ($label:literal, $pipeline:expr, $entity:ty, $source:expr, $sink:expr) => {
                let run = Pipeline::<$entity>::builder($pipeline, $source, $sink, state.clone())
                    .policy(self.policy.clone())
                    .build()?
                    .run()
                    .await?;
                report.steps.push(($label, run));
            };
        }
        let to_odoo = |step: &str| format!("{name}→odoo/{step}");
        step!(
            "clients",
            to_odoo("clients"),
            ClientCompany,
            crm.clone(),
            odoo.clone()
        );
        step!(
            "contacts",
            to_odoo("contacts"),
            Contact,
            crm.clone(),
            odoo.clone()
        );
        step!(
            "deals",
            to_odoo("deals"),
            Opportunity,
            crm.clone(),
            odoo.clone()
        );
        let deals: Arc<dyn Source<Opportunity>> = crm.clone();
        let projects = Arc::new(WonDeals::engagements(deals.clone()));
        step!(
            "projects",
            to_odoo("projects"),
            Engagement,
            projects,
            odoo.clone()
        );
        let orders = Arc::new(WonDeals::contracts(deals, self.terms.clone()));
        step!(
            "sale orders",
            to_odoo("sale orders"),
            Contract,
            orders,
            odoo.clone()
        );
        if self.confirm {
            self.confirm_orders(&mut report).await?;
        }
        let back = |field: &str| format!("odoo→{name}/{field}");
        let refs = Arc::new(ProjectRefs::new(odoo.clone(), state.clone(), name.clone()));
        step!(
            "project ids",
            back("project_ref"),
            Opportunity,
            refs,
            crm.clone()
        );
        if self.policy.rule("opportunity", "order_ref").owner == Some(SystemId::odoo()) {
            let refs = Arc::new(OrderRefs::new(odoo.clone(), state.clone(), name.clone()));
            step!(
                "order refs",
                back("order_ref"),
                Opportunity,
                refs,
                crm.clone()
            );
        }
        Ok(report)
    }

    /// Confirms the quotations made from this CRM's won deals. Safe under
    /// a lost reply: an order is confirmed only while it is a quotation,
    /// and one Odoo refuses because it is confirmed already counts as
    /// confirmed.
    async fn confirm_orders(&self, report: &mut Report) -> Result<()> {
        let (odoo, crm) = (SystemId::odoo(), self.crm.system());
        let mut ids = Vec::new();
        for order in self.state.remote_ids("contract", &odoo).await? {
            let Some(contract) = self.state.resolve("contract", &odoo, &order).await? else {
                continue;
            };
            if self.state.cross_refs(contract).await?.contains_key(&crm)
                && let Ok(id) = order.as_str().parse::<i64>()
            {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let orders = self.odoo.client().model("sale.order");
        let quotations = orders
            .search_read(
                Domain::field("id")
                    .is_in(ids)
                    .and(Domain::field("state").is_in(["draft", "sent"])),
            )
            .fields(["name"])
            .send()
            .await
            .map_err(crate::odoo::convert)?;
        for quotation in quotations {
            let (Some(id), Some(name)) = (
                quotation.get("id").and_then(Value::as_i64),
                quotation.get("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            let confirmed = self
                .odoo
                .client()
                .call("sale.order", "action_confirm")
                .ids([id])
                .send::<Value>()
                .await;
            match confirmed {
                Ok(_) => report.confirmed.push(name.to_owned()),
                Err(e) => {
                    // A lost reply to a confirmation that happened: the
                    // order is confirmed, whatever the retry was told.
                    let now = orders
                        .search_count(
                            Domain::field("id")
                                .eq(id)
                                .and(Domain::field("state").eq("sale")),
                        )
                        .send()
                        .await
                        .map_err(crate::odoo::convert)?;
                    if now == 1 {
                        report.confirmed.push(name.to_owned());
                    } else {
                        report
                            .not_confirmed
                            .push((name.to_owned(), crate::odoo::convert(e)));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Runs quote to cash once with no products, the deal's prices and no
/// confirmation: [`QuoteToCash::new`] then [`run`](QuoteToCash::run),
/// each step's name and run summary, in order.
///
/// # Errors
///
/// As [`QuoteToCash::run`].
///
/// # Example
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
    Ok(QuoteToCash::new(crm, odoo, state, policy.clone())
        .run()
        .await?
        .steps)
}
