//! Payment status back to the CRM: where the payment of a deal's or a
//! client's posted invoices stands, and what is still owed, as one
//! [`PaymentState`] and one amount, to write to the CRM record.
//!
//! Two sources do the reading, each a [`Source`] for a pipeline from Odoo
//! into the CRM, under a policy that gives `payment_state` and
//! `amount_due` to Odoo (map them to properties of yours in the CRM):
//!
//! - [`ClientPayments`]: per client (`ClientCompany`, the CRM company);
//! - [`DealPayments`]: per deal (`Opportunity`), through the sale orders
//!   the invoices came from (`invoice_origin`) and the deals quote to cash
//!   made them from.
//!
//! Each reads Odoo's invoices changed since its checkpoint, and for every
//! client or deal they touch sums up all its posted customer invoices
//! ([`summarize`]), so a payment on one invoice is reported with the rest.
//!
//! # Example
//!
//! The end-to-end tests `payment_status_reaches_the_crm_deal` and
//! `payment_status_reaches_the_crm_company` (`connectors/tests/it/workflows.rs`)
//! run them between the embedded Odoo and the HubSpot fake:
//!
//! ```no_run
//! # use std::sync::Arc;
//! # async fn demo(crm: Arc<odoo_integration_connectors::hubspot::HubSpotConnector>, odoo: Arc<odoo_integration_connectors::odoo::OdooConnector>, state: Arc<odoo_integration_connectors::MemoryStore>) -> Result<(), Box<dyn std::error::Error>> {
//! use odoo_integration_connectors::{workflows::payments::ClientPayments, Pipeline};
//! use odoo_integration_model::{ClientCompany, Policy};
//! let policy = Policy::from_toml("[client.fields]\npayment_state = \"odoo\"\namount_due = \"odoo\"\n")?;
//! let run = Pipeline::<ClientCompany>::builder("odoo→hubspot/client payments", Arc::new(ClientPayments::new(odoo)), crm, state)
//!     .policy(policy)
//!     .build()?
//!     .run()
//!     .await?;
//! println!("{run}");
//! # Ok(()) }
//! ```

use crate::connector::{Capabilities, Connector, Cursor, Page, Source, SourceChange};
use crate::error::Result;
use crate::odoo::OdooConnector;
use crate::store::SyncState;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use odoo_integration_client::Domain;
use odoo_integration_model::{
    ClientCompany, Currency, Invoice, Money, Opportunity, PaymentState, RemoteId, SystemId,
};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::str::FromStr;
use std::sync::Arc;

/// What a group of invoices says about payment.
///
/// # Example
///
/// See [`summarize`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentSummary {
    /// Where the payment stands.
    pub state: PaymentState,
    /// What is still to be paid; `None` when the invoices owe in several
    /// currencies (nothing is converted here) or say nothing.
    pub due: Option<Money>,
}

/// Whether an invoice is posted: Odoo numbers it then (a draft's name is
/// `/`).
fn posted(invoice: &Invoice) -> bool {
    invoice
        .number
        .as_deref()
        .is_some_and(|n| !n.is_empty() && n != "/")
}

/// The payment status of a group of invoices (a deal's, a client's),
/// from the posted ones that say theirs; `None` when none do (only drafts).
///
/// Reversed invoices (cancelled by a credit note) count only when every
/// one is reversed. Of the others: all paid is paid; all paid or in
/// payment (paid, the bank not yet reconciled) is in payment; nothing paid
/// is not paid; anything between is partial. What is due is the sum of
/// their amounts due, in their one currency.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::payments::summarize;
/// use odoo_integration_model::{Currency, Invoice, Money, PaymentState};
/// use rust_decimal::Decimal;
/// let eur = |n: i64| Some(Money::new(Decimal::from(n), Currency::EUR));
/// let invoice = |state, due| Invoice { number: Some("INV/2026/00001".into()), payment_state: Some(state), amount_due: due, ..Default::default() };
/// let s = summarize(&[invoice(PaymentState::Paid, eur(0)), invoice(PaymentState::NotPaid, eur(1200))]).unwrap();
/// assert_eq!(s.state, PaymentState::Partial);
/// assert_eq!(s.due, eur(1200));
/// ```
pub fn summarize<'a>(invoices: impl IntoIterator<Item = &'a Invoice>) -> Option<PaymentSummary> {
    let known: Vec<(&Invoice, PaymentState)> = invoices
        .into_iter()
        .filter(|i| posted(i))
        .filter_map(|i| i.payment_state.map(|s| (i, s)))
        .collect();
    if known.is_empty() {
        return None;
    }
    let live: Vec<&(&Invoice, PaymentState)> = known
        .iter()
        .filter(|(_, s)| *s != PaymentState::Reversed)
        .collect();
    if live.is_empty() {
        return Some(PaymentSummary {
            state: PaymentState::Reversed,
            due: None,
        });
    }
    let all = |f: &dyn Fn(PaymentState) -> bool| live.iter().all(|(_, s)| f(*s));
    let state = if all(&|s| s == PaymentState::Paid) {
        PaymentState::Paid
    } else if all(&|s| matches!(s, PaymentState::Paid | PaymentState::InPayment)) {
        PaymentState::InPayment
    } else if all(&|s| s == PaymentState::NotPaid) {
        PaymentState::NotPaid
    } else {
        PaymentState::Partial
    };
    // Another currency (or an overflow) on the way: no one amount is due.
    let due = live
        .iter()
        .filter_map(|(invoice, _)| invoice.amount_due)
        .try_fold(None, |sum: Option<Money>, amount| match sum {
            None => Some(Some(amount)),
            Some(sum) => sum.checked_add(&amount).ok().map(Some),
        })
        .flatten();
    Some(PaymentSummary { state, due })
}

/// A posted customer invoice as read for its payment: its partner, the
/// orders it came from, and the invoice.
struct Posted {
    partner: Option<i64>,
    origins: Vec<String>,
    invoice: Invoice,
}

/// Odoo's posted customer invoices matching `domain`.
async fn posted_invoices(odoo: &OdooConnector, domain: Domain) -> Result<Vec<Posted>> {
    let rows = odoo
        .client()
        .model("account.move")
        .search_read(
            domain
                .and(Domain::field("move_type").eq("out_invoice"))
                .and(Domain::field("state").eq("posted")),
        )
        .fields([
            "name",
            "partner_id",
            "invoice_origin",
            "payment_state",
            "amount_residual",
            "currency_id",
        ])
        .send()
        .await
        .map_err(crate::odoo::convert)?;
    Ok(rows.iter().map(posted_row).collect())
}

fn posted_row(row: &Map<String, Value>) -> Posted {
    let text = |k: &str| row.get(k).and_then(Value::as_str);
    let currency = row
        .get("currency_id")
        .and_then(|c| c.get(1))
        .and_then(Value::as_str)
        .and_then(|code| Currency::from_str(code).ok());
    // Odoo's floats are shortest round-trip decimals: read them as such.
    let residual = row
        .get("amount_residual")
        .and_then(|v| Decimal::from_str(&v.to_string()).ok());
    Posted {
        partner: row.get("partner_id").and_then(crate::odoo::many2one_id),
        origins: text("invoice_origin")
            .map(|o| o.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default(),
        invoice: Invoice {
            number: text("name").map(str::to_owned),
            payment_state: text("payment_state").and_then(|s| s.parse().ok()),
            amount_due: residual.zip(currency).map(|(a, c)| Money::new(a, c)),
            ..Default::default()
        },
    }
}

/// The invoices changed since `since`: their partners and orders, the
/// newest change time, and the page's cursor.
struct Changed {
    partners: BTreeSet<i64>,
    at: DateTime<Utc>,
    next: Cursor,
    has_more: bool,
}

async fn changed(odoo: &OdooConnector, since: Option<&Cursor>, limit: usize) -> Result<Changed> {
    let page = Source::<Invoice>::read(odoo, since, limit).await?;
    let mut partners = BTreeSet::new();
    let mut at = DateTime::<Utc>::MIN_UTC;
    for change in &page.changes {
        at = at.max(change.at);
        if let Some(client) = change.refs.get("client")
            && let Ok(id) = client.remote_id.as_str().parse()
        {
            partners.insert(id);
        }
    }
    Ok(Changed {
        partners,
        at,
        next: page.next,
        has_more: page.has_more,
    })
}

/// Odoo's posted customer invoices as the payment status of their
/// clients: for every client whose invoices changed, all its posted
/// invoices summed up ([`summarize`]) as a `ClientCompany` change naming
/// only `payment_state` and `amount_due`, keyed by the client's Odoo id
/// (the invoice's partner).
///
/// # Example
///
/// See the [module docs](self).
pub struct ClientPayments {
    odoo: Arc<OdooConnector>,
}

impl std::fmt::Debug for ClientPayments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientPayments").finish_non_exhaustive()
    }
}

impl ClientPayments {
    /// The payment status of `odoo`'s clients.
    ///
    /// # Example
    ///
    /// See the [module docs](self).
    pub fn new(odoo: Arc<OdooConnector>) -> Self {
        ClientPayments { odoo }
    }
}

impl Connector for ClientPayments {
    fn system(&self) -> SystemId {
        SystemId::odoo()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["client"]).incremental(true)
    }
}

#[async_trait]
impl Source<ClientCompany> for ClientPayments {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<ClientCompany>> {
        let changed = changed(&self.odoo, since, limit).await?;
        let mut by_partner: BTreeMap<i64, Vec<Invoice>> = BTreeMap::new();
        if !changed.partners.is_empty() {
            let ids: Vec<i64> = changed.partners.iter().copied().collect();
            for p in posted_invoices(&self.odoo, Domain::field("partner_id").is_in(ids)).await? {
                if let Some(partner) = p.partner {
                    by_partner.entry(partner).or_default().push(p.invoice);
                }
            }
        }
        let changes = by_partner
            .into_iter()
            .filter_map(|(partner, invoices)| {
                let summary = summarize(&invoices)?;
                let status = ClientCompany {
                    payment_state: Some(summary.state),
                    amount_due: summary.due,
                    ..Default::default()
                };
                Some(
                    SourceChange::upsert(partner.to_string(), changed.at, status)
                        .with_fields(["payment_state", "amount_due"]),
                )
            })
            .collect();
        Ok(Page {
            changes,
            next: changed.next,
            has_more: changed.has_more,
        })
    }
}

/// Odoo's posted customer invoices as the payment status of the CRM deals
/// their sale orders came from: invoice → its orders (`invoice_origin`)
/// → the contract → the deal in `crm` → that deal's opportunity and its
/// record in Odoo. For every deal whose invoices changed, all the posted
/// invoices of its orders are summed up ([`summarize`]) as an
/// `Opportunity` change naming only `payment_state` and `amount_due`.
/// Invoices of orders that came from no deal are skipped.
///
/// # Example
///
/// See the [module docs](self).
pub struct DealPayments {
    odoo: Arc<OdooConnector>,
    state: Arc<dyn SyncState>,
    crm: SystemId,
}

impl std::fmt::Debug for DealPayments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DealPayments")
            .field("crm", &self.crm)
            .finish_non_exhaustive()
    }
}

impl DealPayments {
    /// The payment status of `crm`'s deals, from `odoo`'s invoices and the
    /// identities in `state` (as quote to cash leaves them).
    ///
    /// # Example
    ///
    /// See the [module docs](self).
    pub fn new(odoo: Arc<OdooConnector>, state: Arc<dyn SyncState>, crm: SystemId) -> Self {
        DealPayments { odoo, state, crm }
    }

    /// The Odoo opportunity of the deal the sale order `order` came from.
    async fn lead_of(&self, order: i64) -> Result<Option<RemoteId>> {
        let odoo = SystemId::odoo();
        let state = &self.state;
        let Some(contract) = state
            .resolve("contract", &odoo, &RemoteId::new(order.to_string()))
            .await?
        else {
            return Ok(None);
        };
        let Some(deal) = state.cross_refs(contract).await?.remove(&self.crm) else {
            return Ok(None);
        };
        let Some(opportunity) = state.resolve("opportunity", &self.crm, &deal).await? else {
            return Ok(None);
        };
        Ok(state.cross_refs(opportunity).await?.remove(&odoo))
    }
}

impl Connector for DealPayments {
    fn system(&self) -> SystemId {
        SystemId::odoo()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["opportunity"]).incremental(true)
    }
}

#[async_trait]
impl Source<Opportunity> for DealPayments {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<Opportunity>> {
        let changed = changed(&self.odoo, since, limit).await?;
        let mut changes = Vec::new();
        if !changed.partners.is_empty() {
            // The changed invoices' clients' posted invoices, by the
            // orders they came from.
            let ids: Vec<i64> = changed.partners.iter().copied().collect();
            let invoices =
                posted_invoices(&self.odoo, Domain::field("partner_id").is_in(ids)).await?;
            let names: BTreeSet<&str> = invoices
                .iter()
                .flat_map(|p| p.origins.iter().map(String::as_str))
                .collect();
            let orders = if names.is_empty() {
                Vec::new()
            } else {
                self.odoo
                    .client()
                    .model("sale.order")
                    .search_read(Domain::field("name").is_in(names.into_iter().collect::<Vec<_>>()))
                    .fields(["name"])
                    .send()
                    .await
                    .map_err(crate::odoo::convert)?
            };
            // Lead → the invoices of every order of its deal.
            let mut by_lead: BTreeMap<RemoteId, Vec<Invoice>> = BTreeMap::new();
            for order in &orders {
                let (Some(id), Some(name)) = (
                    order.get("id").and_then(Value::as_i64),
                    order.get("name").and_then(Value::as_str),
                ) else {
                    continue;
                };
                let Some(lead) = self.lead_of(id).await? else {
                    continue;
                };
                let of_order = invoices
                    .iter()
                    .filter(|p| p.origins.iter().any(|o| o == name))
                    .map(|p| p.invoice.clone());
                by_lead.entry(lead).or_default().extend(of_order);
            }
            for (lead, mut invoices) in by_lead {
                // An invoice of two orders of one deal counts once.
                invoices.sort_by(|a, b| a.number.cmp(&b.number));
                invoices.dedup_by(|a, b| a.number == b.number);
                let Some(summary) = summarize(&invoices) else {
                    continue;
                };
                let status = Opportunity {
                    payment_state: Some(summary.state),
                    amount_due: summary.due,
                    ..Default::default()
                };
                changes.push(
                    SourceChange::upsert(lead.as_str(), changed.at, status)
                        .with_fields(["payment_state", "amount_due"]),
                );
            }
        }
        Ok(Page {
            changes,
            next: changed.next,
            has_more: changed.has_more,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use odoo_integration_model::Currency;
    use rust_decimal::Decimal;

    fn invoice(number: &str, state: Option<PaymentState>, due: Option<(i64, Currency)>) -> Invoice {
        Invoice {
            number: Some(number.into()),
            payment_state: state,
            amount_due: due.map(|(n, c)| Money::new(Decimal::from(n), c)),
            ..Default::default()
        }
    }

    #[test]
    fn states_combine_from_paid_to_not_paid_and_drafts_do_not_count() {
        use PaymentState::*;
        let eur = Currency::EUR;
        let state = |list: &[Invoice]| summarize(list).map(|s| s.state);
        let i = |s| invoice("INV/1", Some(s), Some((0, eur)));
        assert_eq!(state(&[i(Paid), i(Paid)]), Some(Paid));
        assert_eq!(state(&[i(Paid), i(InPayment)]), Some(InPayment));
        assert_eq!(state(&[i(NotPaid), i(NotPaid)]), Some(NotPaid));
        assert_eq!(state(&[i(NotPaid), i(InPayment)]), Some(Partial));
        assert_eq!(state(&[i(Partial)]), Some(Partial));
        assert_eq!(state(&[i(Reversed), i(Paid)]), Some(Paid));
        assert_eq!(state(&[i(Reversed)]), Some(Reversed));
        let draft = invoice("/", Some(NotPaid), Some((500, eur)));
        assert_eq!(state(&[draft.clone(), i(Paid)]), Some(Paid));
        assert_eq!(summarize(&[draft]), None);
        assert_eq!(summarize(&[invoice("INV/2", None, None)]), None);
    }

    #[test]
    fn what_is_due_adds_up_exactly_in_one_currency() {
        use PaymentState::*;
        let due = |list: &[Invoice]| summarize(list).and_then(|s| s.due);
        let a = invoice("INV/1", Some(Partial), Some((700, Currency::EUR)));
        let b = invoice("INV/2", Some(NotPaid), Some((500, Currency::EUR)));
        let usd = invoice("INV/3", Some(NotPaid), Some((10, Currency::USD)));
        let gone = invoice("INV/4", Some(Reversed), Some((999, Currency::EUR)));
        assert_eq!(
            due(&[a.clone(), b.clone(), gone]),
            Some(Money::new(Decimal::from(1200), Currency::EUR))
        );
        assert_eq!(due(&[a, b, usd]), None, "nothing converted");
    }
}
