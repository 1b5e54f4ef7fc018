//! Odoo's projects and sale orders as the references of the deals they
//! came from, to write back to the CRM.

use crate::connector::{Capabilities, Connector, Cursor, Page, Source, SourceChange};
use crate::error::Result;
use crate::odoo::OdooConnector;
use crate::store::SyncState;
use async_trait::async_trait;
use odoo_integration_client::Domain;
use odoo_integration_model::{Contract, Engagement, Opportunity, RemoteId, SystemId};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The Odoo opportunity (`crm.lead` id) of the CRM deal an Odoo record
/// of `entity` came from: record → its canonical id → the deal in `crm`
/// → that deal's opportunity → its record in Odoo.
async fn lead_of(
    state: &dyn SyncState,
    crm: &SystemId,
    entity: &str,
    odoo_id: &RemoteId,
) -> Result<Option<RemoteId>> {
    let odoo = SystemId::odoo();
    let Some(record) = state.resolve(entity, &odoo, odoo_id).await? else {
        return Ok(None);
    };
    let Some(deal) = state.cross_refs(record).await?.remove(crm) else {
        return Ok(None);
    };
    let Some(opportunity) = state.resolve("opportunity", crm, &deal).await? else {
        return Ok(None);
    };
    Ok(state.cross_refs(opportunity).await?.remove(&odoo))
}

/// Odoo's projects as the project reference of the deals they came from:
/// project → its engagement → the CRM deal → that deal's opportunity and
/// its record in Odoo. Projects that came from no deal are skipped.
///
/// # Example
///
/// See [`QuoteToCash`](super::QuoteToCash).
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
    /// See [`QuoteToCash`](super::QuoteToCash).
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
        let mut changes = Vec::new();
        for project in page.changes {
            if project.operation.is_delete() {
                continue;
            }
            let state = &*self.state;
            let Some(lead) = lead_of(state, &self.crm, "engagement", &project.remote_id).await?
            else {
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

/// Odoo's sale orders as the order reference (`S00042`) of the deals they
/// came from, as [`ProjectRefs`] does for projects. Orders that came from
/// no deal are skipped.
///
/// # Example
///
/// See [`QuoteToCash`](super::QuoteToCash).
pub struct OrderRefs {
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    crm: SystemId,
}

impl std::fmt::Debug for OrderRefs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrderRefs")
            .field("crm", &self.crm)
            .finish_non_exhaustive()
    }
}

impl OrderRefs {
    /// The order references of `crm`'s deals, from `odoo`'s sale orders
    /// and the identities in `state`.
    ///
    /// # Example
    ///
    /// See [`QuoteToCash`](super::QuoteToCash).
    pub fn new(odoo: Arc<OdooConnector>, state: Arc<dyn SyncState>, crm: SystemId) -> Self {
        OrderRefs { odoo, state, crm }
    }
}

impl Connector for OrderRefs {
    fn system(&self) -> SystemId {
        SystemId::odoo()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["opportunity"]).incremental(true)
    }
}

#[async_trait]
impl Source<Opportunity> for OrderRefs {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<Opportunity>> {
        let page = Source::<Contract>::read(&*self.odoo, since, limit).await?;
        let mut deals = Vec::new();
        for order in page.changes {
            if order.operation.is_delete() {
                continue;
            }
            let state = &*self.state;
            if let Some(lead) = lead_of(state, &self.crm, "contract", &order.remote_id).await? {
                deals.push((order, lead));
            }
        }
        // The orders' references, in one read (an order deleted since is
        // simply not returned).
        let ids: Vec<i64> = deals
            .iter()
            .filter_map(|(o, _)| o.remote_id.as_str().parse().ok())
            .collect();
        let mut names = BTreeMap::new();
        if !ids.is_empty() {
            let rows = self
                .odoo
                .client()
                .model("sale.order")
                .search_read(Domain::field("id").is_in(ids))
                .fields(["name"])
                .send()
                .await
                .map_err(crate::odoo::convert)?;
            for row in rows {
                if let (Some(id), Some(name)) = (
                    row.get("id").and_then(Value::as_i64),
                    row.get("name").and_then(Value::as_str),
                ) {
                    names.insert(id.to_string(), name.to_owned());
                }
            }
        }
        let changes = deals
            .into_iter()
            .filter_map(|(order, lead)| {
                let name = names.get(order.remote_id.as_str())?;
                let refs = Opportunity {
                    order_ref: Some(name.clone()),
                    ..Default::default()
                };
                Some(SourceChange::upsert(lead.as_str(), order.at, refs).with_fields(["order_ref"]))
            })
            .collect();
        Ok(Page {
            changes,
            next: page.next,
            has_more: page.has_more,
        })
    }
}
