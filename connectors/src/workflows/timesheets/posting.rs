//! The flow's invoices in Odoo: what Odoo has of them ([`existing`]),
//! what to write against what is already posted ([`plan`]), and posting
//! ([`post_drafts`]).

use super::{NotPosted, Overbilled, PostedInvoice};
use crate::error::Result;
use crate::odoo::{OdooConnector, convert};
use odoo_integration_client::{Client, Domain};
use odoo_integration_model::{Entity, Invoice, InvoiceLine, RemoteId, SystemId};
use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The system the computed invoices come from: their external ids in
/// Odoo are `sync_timesheets.invoice_…`.
pub(super) const BILLING: &str = "timesheets";

/// A client and a pay period (their ids): one group of invoices.
pub(super) type Group = (RemoteId, RemoteId);

/// The id in the workflow of the first invoice of a client and period:
/// `billing:<client>:<payroll>`.
pub(super) fn first_id(client: &RemoteId, payroll: &RemoteId) -> RemoteId {
    RemoteId::new(format!("billing:{client}:{payroll}"))
}

/// The invoices of one client and period: the first, then the later ones.
fn group_ids(base: &RemoteId, n: usize) -> RemoteId {
    if n <= 1 {
        base.clone()
    } else {
        RemoteId::new(format!("{base}:{n}"))
    }
}

/// A decimal from Odoo's JSON (a number or a string); zero if neither.
fn decimal(v: &Value) -> Decimal {
    let text = match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Decimal::ZERO,
    };
    text.parse()
        .or_else(|_| Decimal::from_scientific(&text))
        .unwrap_or_default()
        .normalize()
}

/// An invoice of the flow as Odoo has it.
#[derive(Debug, Clone)]
pub(super) struct Existing {
    /// Its id in the workflow.
    pub(super) record: RemoteId,
    /// Its id in Odoo.
    pub(super) odoo: i64,
    /// Odoo's `state`: `draft`, `posted` or `cancel`.
    pub(super) state: String,
    /// (description, unit price) → quantity.
    pub(super) lines: BTreeMap<(String, Decimal), Decimal>,
}

impl Existing {
    /// Whether the flow may still write it (and post it).
    pub(super) fn is_draft(&self) -> bool {
        self.state == "draft"
    }
}

/// The invoices Odoo has of these clients and periods, by the id of
/// each group's first, in order.
pub(super) async fn existing(
    client: &Client,
    groups: &BTreeSet<Group>,
) -> Result<BTreeMap<RemoteId, Vec<Existing>>> {
    let system = SystemId::new(BILLING);
    let probe = OdooConnector::external_id(Invoice::NAME, &system, &RemoteId::new("x"))?;
    let names: HashMap<String, i64> = client
        .model("ir.model.data")
        .search_read(
            Domain::field("module").eq(probe.module()) & Domain::field("model").eq("account.move"),
        )
        .fields(["name", "res_id"])
        .send()
        .await
        .map_err(convert)?
        .into_iter()
        .filter_map(|r| {
            Some((
                r.get("name")?.as_str()?.to_owned(),
                r.get("res_id")?.as_i64()?,
            ))
        })
        .collect();
    let mut found: Vec<(RemoteId, RemoteId, i64)> = Vec::new();
    for (client_id, payroll) in groups {
        let base = first_id(client_id, payroll);
        for n in 1.. {
            let record = group_ids(&base, n);
            let xid = OdooConnector::external_id(Invoice::NAME, &system, &record)?;
            let Some(id) = names.get(xid.name()) else {
                break;
            };
            found.push((base.clone(), record, *id));
        }
    }
    let mut out: BTreeMap<RemoteId, Vec<Existing>> = BTreeMap::new();
    if found.is_empty() {
        return Ok(out);
    }
    let moves: HashMap<i64, (String, Vec<i64>)> = client
        .model("account.move")
        .read(found.iter().map(|(.., id)| *id))
        .fields(["state", "invoice_line_ids"])
        .send()
        .await
        .map_err(convert)?
        .into_iter()
        .filter_map(|r| {
            let id = r.get("id")?.as_i64()?;
            let state = r.get("state")?.as_str()?.to_owned();
            let lines = r
                .get("invoice_line_ids")?
                .as_array()?
                .iter()
                .filter_map(Value::as_i64)
                .collect();
            Some((id, (state, lines)))
        })
        .collect();
    let line_ids: Vec<i64> = moves
        .values()
        .flat_map(|(_, l)| l.iter().copied())
        .collect();
    let rows = if line_ids.is_empty() {
        Vec::new()
    } else {
        client
            .model("account.move.line")
            .read(line_ids)
            .fields(["name", "quantity", "price_unit"])
            .send()
            .await
            .map_err(convert)?
    };
    let lines: HashMap<i64, (String, Decimal, Decimal)> = rows
        .into_iter()
        .filter_map(|r| {
            let id = r.get("id")?.as_i64()?;
            let name = r.get("name").and_then(Value::as_str).unwrap_or_default();
            let quantity = decimal(r.get("quantity")?);
            let price = decimal(r.get("price_unit")?);
            Some((id, (name.to_owned(), quantity, price)))
        })
        .collect();
    for (base, record, id) in found {
        // Gone from Odoo (deleted by hand): written again.
        let Some((state, ids)) = moves.get(&id) else {
            continue;
        };
        let mut summed = BTreeMap::new();
        for (name, quantity, price) in ids.iter().filter_map(|l| lines.get(l)) {
            *summed.entry((name.clone(), *price)).or_default() += *quantity;
        }
        out.entry(base).or_default().push(Existing {
            record,
            odoo: id,
            state: state.clone(),
            lines: summed,
        });
    }
    Ok(out)
}

/// Posts a draft invoice; its number.
async fn post(client: &Client, id: i64) -> Result<String> {
    let _: Value = client
        .call("account.move", "action_post")
        .ids([id])
        .send()
        .await
        .map_err(convert)?;
    let row = client
        .model("account.move")
        .read([id])
        .fields(["name"])
        .send()
        .await
        .map_err(convert)?;
    Ok(row
        .first()
        .and_then(|r| r.get("name"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned())
}

/// Posts every draft of these groups that has lines, each once: the ones
/// Odoo numbered, and the ones it refused (a locked period), left in draft.
pub(super) async fn post_drafts(
    client: &Client,
    groups: &BTreeSet<Group>,
) -> Result<(Vec<PostedInvoice>, Vec<NotPosted>)> {
    let (mut posted, mut not_posted) = (Vec::new(), Vec::new());
    let now = existing(client, groups).await?;
    for draft in now.values().flatten().filter(|e| e.is_draft()) {
        if draft.lines.is_empty() {
            continue;
        }
        let (record, odoo) = (draft.record.clone(), RemoteId::new(draft.odoo.to_string()));
        match post(client, draft.odoo).await {
            Ok(number) => posted.push(PostedInvoice {
                record,
                odoo,
                number,
            }),
            Err(error) => not_posted.push(NotPosted {
                record,
                odoo,
                error,
            }),
        }
    }
    Ok((posted, not_posted))
}

/// What to write for one client and period, given the invoices Odoo has
/// of it (`have`, in order) and what the timesheets bill (`wanted`): the
/// id to write and the invoice, if any. Posted (and cancelled) invoices
/// are never written: what they bill is subtracted, the rest goes on the
/// group's draft, or a new one; lines billed beyond what is wanted are
/// reported in `overbilled`. Lines are matched by description and unit
/// price, lines alike together.
pub(super) fn plan(
    base: &RemoteId,
    have: &[Existing],
    wanted: Option<&Invoice>,
    overbilled: &mut Vec<Overbilled>,
) -> (RemoteId, Option<Invoice>) {
    let closed: Vec<&Existing> = have.iter().filter(|e| !e.is_draft()).collect();
    let target = have
        .iter()
        .find(|e| e.is_draft())
        .map_or_else(|| group_ids(base, have.len() + 1), |e| e.record.clone());
    if closed.is_empty() {
        return (target, wanted.cloned());
    }
    let mut billed: BTreeMap<(String, Decimal), Decimal> = BTreeMap::new();
    for e in closed.iter().filter(|e| e.state == "posted") {
        for (key, q) in &e.lines {
            *billed.entry(key.clone()).or_default() += *q;
        }
    }
    let key_of = |l: &InvoiceLine| {
        (
            l.description.clone(),
            l.unit_price
                .map(|m| m.amount().normalize())
                .unwrap_or_default(),
        )
    };
    // Lines alike (same description and price: two taxis of a day at one
    // fare) are matched together against what is posted, in the order
    // first wanted.
    let mut alike: Vec<((String, Decimal), Vec<&InvoiceLine>)> = Vec::new();
    for line in wanted.map(|w| w.lines.as_slice()).unwrap_or_default() {
        let key = key_of(line);
        match alike.iter_mut().find(|(k, _)| *k == key) {
            Some((_, same)) => same.push(line),
            None => alike.push((key, vec![line])),
        }
    }
    let mut report = |description: String, posted: Decimal, now: Decimal| {
        overbilled.push(Overbilled {
            record: base.clone(),
            description,
            posted,
            now,
        });
    };
    let mut lines = Vec::new();
    for (key, same) in alike {
        let already = billed.remove(&key).unwrap_or_default();
        // What posted invoices bill of these lines, not yet matched.
        let mut left = already;
        let mut now = Decimal::ZERO;
        for line in same {
            now = now.checked_add(line.quantity).unwrap_or(Decimal::MAX);
            let covered = line.quantity.min(left);
            left = left.checked_sub(covered).unwrap_or_default();
            let more = line.quantity.checked_sub(covered).unwrap_or_default();
            if more > Decimal::ZERO {
                lines.push(InvoiceLine {
                    quantity: more,
                    ..line.clone()
                });
            }
        }
        if now < already {
            report(key.0, already, now);
        }
    }
    for ((description, _), posted) in billed {
        if posted > Decimal::ZERO {
            report(description, posted, Decimal::ZERO);
        }
    }
    if lines.is_empty() {
        return (target, None);
    }
    let invoice = wanted.map(|w| Invoice {
        lines,
        // The contract's total is of the whole period, not of what is left.
        total: None,
        ..w.clone()
    });
    (target, invoice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use odoo_integration_model::{Currency, Money};

    fn line(description: &str, quantity: i64, price: i64) -> InvoiceLine {
        InvoiceLine {
            id: description.into(),
            description: description.into(),
            quantity: quantity.into(),
            unit_price: Some(Money::new(price.into(), Currency::USD)),
        }
    }

    fn posted(record: &str, state: &str, lines: &[(&str, i64, i64)]) -> Existing {
        Existing {
            record: RemoteId::new(record),
            odoo: 1,
            state: state.into(),
            lines: lines
                .iter()
                .map(|(d, q, p)| ((d.to_string(), Decimal::from(*p)), Decimal::from(*q)))
                .collect(),
        }
    }

    #[test]
    fn posted_invoices_are_never_rewritten_and_the_difference_goes_on_a_new_one() {
        let base = RemoteId::new("billing:acme:p1");
        let wanted = Invoice {
            lines: vec![line("Lead", 10, 150), line("Engineer", 4, 120)],
            total: Some(Money::new(1980.into(), Currency::USD)),
            ..Default::default()
        };
        let mut over = Vec::new();
        // Nothing in Odoo: the whole invoice, under the first id.
        let (id, inv) = plan(&base, &[], Some(&wanted), &mut over);
        assert_eq!(
            (id.as_str(), inv.as_ref()),
            ("billing:acme:p1", Some(&wanted))
        );
        // A draft: rewritten whole, in place.
        let draft = posted("billing:acme:p1", "draft", &[("Lead", 8, 150)]);
        let (id, inv) = plan(&base, &[draft], Some(&wanted), &mut over);
        assert_eq!(
            (id.as_str(), inv.as_ref()),
            ("billing:acme:p1", Some(&wanted))
        );
        // Posted with 8 h of Lead, Engineer 6 h: 2 more h of Lead on `:2`,
        // 2 Engineer hours too many reported.
        let first = posted(
            "billing:acme:p1",
            "posted",
            &[("Lead", 8, 150), ("Engineer", 6, 120)],
        );
        let (id, inv) = plan(
            &base,
            std::slice::from_ref(&first),
            Some(&wanted),
            &mut over,
        );
        assert_eq!(id.as_str(), "billing:acme:p1:2");
        let inv = inv.unwrap();
        assert_eq!(inv.lines, [line("Lead", 2, 150)]);
        assert_eq!(inv.total, None);
        assert_eq!(
            over,
            [Overbilled {
                record: base.clone(),
                description: "Engineer".into(),
                posted: 6.into(),
                now: 4.into()
            }]
        );
        // Everything posted: nothing to write.
        let both = [
            posted(
                "billing:acme:p1",
                "posted",
                &[("Lead", 8, 150), ("Engineer", 4, 120)],
            ),
            posted("billing:acme:p1:2", "posted", &[("Lead", 2, 150)]),
        ];
        over.clear();
        assert_eq!(plan(&base, &both, Some(&wanted), &mut over).1, None);
        assert!(over.is_empty());
        // A cancelled invoice bills nothing: all goes on the next.
        let cancelled = posted("billing:acme:p1", "cancel", &[("Lead", 10, 150)]);
        let (id, inv) = plan(&base, &[cancelled], Some(&wanted), &mut over);
        assert_eq!(id.as_str(), "billing:acme:p1:2");
        assert_eq!(inv.map(|i| i.lines.len()), Some(2));
    }

    /// Two lines alike (two taxis of the same day and fare): what posted
    /// invoices bill of them is matched against both together, not all
    /// against the first; else every run would bill one of them again.
    #[test]
    fn lines_alike_are_matched_together_against_what_is_posted() {
        let base = RemoteId::new("billing:acme:p1");
        let taxis = |n: usize| Invoice {
            lines: vec![line("Taxi (2026-11-05)", 1, 42); n],
            ..Default::default()
        };
        let first = posted("billing:acme:p1", "posted", &[("Taxi (2026-11-05)", 2, 42)]);
        let have = std::slice::from_ref(&first);
        let mut over = Vec::new();
        // Both posted: nothing to write, nothing overbilled.
        assert_eq!(plan(&base, have, Some(&taxis(2)), &mut over).1, None);
        assert!(over.is_empty(), "{over:?}");
        // A third found late: one taxi on `:2`.
        let (id, inv) = plan(&base, have, Some(&taxis(3)), &mut over);
        assert_eq!(id.as_str(), "billing:acme:p1:2");
        assert_eq!(
            inv.map(|i| i.lines),
            Some(vec![line("Taxi (2026-11-05)", 1, 42)])
        );
        assert!(over.is_empty(), "{over:?}");
        // One taken back: reported once, for both together.
        assert_eq!(plan(&base, have, Some(&taxis(1)), &mut over).1, None);
        assert_eq!(
            over,
            [Overbilled {
                record: base.clone(),
                description: "Taxi (2026-11-05)".into(),
                posted: 2.into(),
                now: 1.into()
            }]
        );
    }
}
