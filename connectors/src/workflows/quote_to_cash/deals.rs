//! Won deals as the engagements and contracts they become.

use super::Terms;
use crate::connector::{Capabilities, Connector, Cursor, Operation, Page, Source, SourceChange};
use crate::error::Result;
use async_trait::async_trait;
use odoo_integration_model::{
    Contract, Engagement, Entity, Opportunity, OpportunityStage, SystemId,
};
use std::marker::PhantomData;
use std::sync::Arc;

/// How a won deal becomes a record: the record and the fields it claims.
type Convert<E> = fn(&Opportunity, &Terms) -> (E, Vec<&'static str>);

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
    terms: Terms,
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
    /// deal, starting on its close date, managed by its owner.
    ///
    /// # Example
    ///
    /// See [`WonDeals`].
    pub fn engagements(crm: Arc<dyn Source<Opportunity>>) -> Self {
        WonDeals {
            crm,
            convert: engagement_of,
            terms: Terms::default(),
            entity: PhantomData,
        }
    }
}

impl WonDeals<Contract> {
    /// Won deals as contracts (Odoo sale orders) with the deal's lines
    /// ([`Terms::lines`]), referenced by the deal's name and signed on its
    /// close date.
    ///
    /// # Example
    ///
    /// See [`WonDeals`].
    pub fn contracts(crm: Arc<dyn Source<Opportunity>>, terms: Terms) -> Self {
        WonDeals {
            crm,
            convert: contract_of,
            terms,
            entity: PhantomData,
        }
    }
}

/// A won deal's engagement; its manager only when the deal has an owner
/// (a CRM that does not say leaves Odoo's project manager alone).
fn engagement_of(deal: &Opportunity, _: &Terms) -> (Engagement, Vec<&'static str>) {
    let e = Engagement {
        name: deal.name.clone(),
        billable: true,
        start: deal.close_date,
        manager: deal.owner.clone(),
        ..Default::default()
    };
    let mut fields = vec!["name", "client", "billable", "start"];
    if e.manager.is_some() {
        fields.push("manager");
    }
    (e, fields)
}

/// A won deal's contract.
fn contract_of(deal: &Opportunity, terms: &Terms) -> (Contract, Vec<&'static str>) {
    let c = Contract {
        reference: deal.name.clone(),
        signed_on: deal.close_date,
        lines: terms.lines(deal),
        ..Default::default()
    };
    (c, vec!["reference", "client", "signed_on", "lines"])
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
                let (record, fields) = (self.convert)(o, &self.terms);
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
