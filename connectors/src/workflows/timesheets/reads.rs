//! What the flow reads besides its connectors' records: Odoo's company
//! currency, the projects rebillable expenses are re-invoiced on; and the
//! canonical ids it keeps in the sync state.

use super::ExpenseLine;
use crate::connector::{Operation, Source, SourceChange, read_to_end};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::odoo::convert;
use crate::store::{Link, SyncState};
use odoo_integration_client::value::Record;
use odoo_integration_client::{Client, Domain};
use odoo_integration_model::{
    ApprovalState, CanonicalId, Currency, Entity, Expense, RemoteId, SystemId,
};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// Every record a source has: its id, values and change (for the
/// references).
pub(super) type Upserts<E> = Vec<(RemoteId, E, SourceChange<E>)>;

/// Every record a source has now: its id, values and change (for the
/// references).
pub(super) async fn upserts<E: Entity>(source: &dyn Source<E>) -> Result<Upserts<E>> {
    let (changes, _) = read_to_end(source, None, 200).await?;
    Ok(changes
        .into_iter()
        .filter_map(|c| match &c.operation {
            Operation::Upsert(e) => Some((c.remote_id.clone(), e.clone(), c)),
            Operation::Delete => None,
        })
        .collect())
}

/// The canonical id these records share: the one any of them already
/// has, else a new one; linked to all of them.
pub(super) async fn identity(
    state: &Arc<dyn SyncState>,
    entity: &str,
    pairs: &[(&SystemId, &RemoteId)],
) -> Result<CanonicalId> {
    let mut known = None;
    for (system, remote) in pairs {
        known = state.resolve(entity, system, remote).await?;
        if known.is_some() {
            break;
        }
    }
    let id = known.unwrap_or_else(CanonicalId::new);
    let links: Vec<Link> = pairs
        .iter()
        .map(|(s, r)| Link::new(entity, id, (*s).clone(), (*r).clone()))
        .collect();
    state.link(&links).await?;
    Ok(id)
}

/// The id of a many2one as read (`[id, name]` or an id).
fn many2one(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Array(a) => a.first().and_then(Value::as_i64),
        other => other.as_i64(),
    }
}

/// Each row's id and the id its many2one `field` names, where it names one.
fn links<'r>(rows: &'r [Record], field: &'r str) -> impl Iterator<Item = (i64, i64)> + 'r {
    rows.iter()
        .filter_map(move |row| Some((row.get("id")?.as_i64()?, many2one(row.get(field))?)))
}

/// The currency of Odoo's companies.
pub(super) async fn company_currency(client: &Client) -> Result<Currency> {
    let rows = client
        .model("res.company")
        .search_read(Domain::all())
        .fields(["currency_id"])
        .send()
        .await
        .map_err(convert)?;
    let codes: BTreeSet<String> = rows
        .iter()
        .filter_map(|r| r.get("currency_id")?.get(1)?.as_str().map(str::to_owned))
        .collect();
    let mut codes = codes.into_iter();
    match (codes.next(), codes.next()) {
        (Some(code), None) => code.parse().map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::Mapping,
                format!("res.company currency_id: {e}"),
            )
        }),
        (first, second) => Err(ConnectorError::new(
            ConnectorErrorKind::Configuration,
            format!(
                "Odoo's companies invoice in {}: say which with `invoice_currency`",
                match (first, second) {
                    (Some(a), Some(b)) => format!("{a}, {b} and maybe more currencies"),
                    _ => "no currency".to_owned(),
                }
            ),
        )
        .with_system(SystemId::odoo())),
    }
}

/// The rebillable expenses, the approved ones with the project they
/// are re-invoiced on: the customer order the expense names
/// (`sale_order_id`) and that order's project (`project_id`), else the
/// project that re-invoices on that order (`reinvoiced_sale_order_id`).
pub(super) async fn expense_lines(
    client: &Client,
    expenses: &Upserts<Expense>,
) -> Result<Vec<ExpenseLine>> {
    let wanted: Vec<i64> = expenses
        .iter()
        .filter(|(_, e, _)| e.rebillable && e.approval == ApprovalState::Approved)
        .filter_map(|(id, ..)| id.as_str().parse().ok())
        .collect();
    let mut order_of: HashMap<i64, i64> = HashMap::new();
    if !wanted.is_empty() {
        let rows = client
            .model("hr.expense")
            .read(wanted)
            .fields(["sale_order_id"])
            .send()
            .await
            .map_err(convert)?;
        order_of.extend(links(&rows, "sale_order_id"));
    }
    let orders: BTreeSet<i64> = order_of.values().copied().collect();
    let mut project_of: HashMap<i64, i64> = HashMap::new();
    if !orders.is_empty() {
        let reinvoicing = client
            .model("project.project")
            .search_read(Domain::field("reinvoiced_sale_order_id").is_in(orders.iter().copied()))
            .fields(["reinvoiced_sale_order_id"])
            .send()
            .await
            .map_err(convert)?;
        project_of.extend(
            links(&reinvoicing, "reinvoiced_sale_order_id")
                .map(|(project, order)| (order, project)),
        );
        // The order's own project, where it names one, comes first.
        let named = client
            .model("sale.order")
            .read(orders.iter().copied())
            .fields(["project_id"])
            .send()
            .await
            .map_err(convert)?;
        project_of.extend(links(&named, "project_id"));
    }
    Ok(expenses
        .iter()
        .filter(|(_, expense, _)| expense.rebillable)
        .map(|(id, expense, _)| {
            let engagement = id
                .as_str()
                .parse::<i64>()
                .ok()
                .and_then(|i| order_of.get(&i))
                .and_then(|o| project_of.get(o))
                .map(|p| RemoteId::new(p.to_string()));
            ExpenseLine {
                id: id.clone(),
                expense: expense.clone(),
                engagement,
            }
        })
        .collect())
}
