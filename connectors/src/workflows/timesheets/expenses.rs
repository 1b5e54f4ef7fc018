//! Rebillable expenses on the client's invoice of the period.
//!
//! In Odoo 19 an expense is re-invoiced when its product (the expense
//! category) has a re-invoicing policy (`expense_policy` `cost` or
//! `sales_price`, which Odoo shows as `hr.expense.can_be_reinvoiced`, read
//! as [`Expense::rebillable`](odoo_integration_model::Expense::rebillable))
//! and the expense names the customer's order to re-invoice
//! (`sale_order_id`); the engagement is that order's project. Expenses go
//! on the invoice at cost: the amount the firm paid, in the company's
//! currency (`total_amount`).

use super::{Billed, Billing, PayPeriod};
use odoo_integration_model::{ApprovalState, Currency, Expense, InvoiceLine, Money, RemoteId};

/// An expense as read, with its id and the engagement (and client) it is
/// re-invoiced to, in the system it was read from.
///
/// # Example
///
/// See [`rebill_expenses`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseLine {
    /// The expense's id.
    pub id: RemoteId,
    /// Its values.
    pub expense: Expense,
    /// The engagement it is re-invoiced on.
    pub engagement: Option<RemoteId>,
}

/// Why an expense is not on an invoice.
///
/// # Example
///
/// See [`rebill_expenses`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExpenseLeftOut {
    /// Not approved (its state).
    NotApproved(ApprovalState),
    /// Not to be re-invoiced.
    NotRebillable,
    /// It names no engagement (no order to re-invoice, or an order
    /// without a project).
    NoEngagement,
    /// Its engagement is unknown or not billable.
    NotBillable,
    /// It has no date.
    NoDate,
    /// Its date is in no pay period.
    NoPeriod,
    /// It has no amount.
    NoAmount,
    /// Its amount, or its contract, is in another currency than the
    /// invoices: never converted.
    Currency {
        /// The expense's (or the contract's) currency.
        expense: Currency,
        /// The invoices'.
        invoices: Currency,
    },
}

/// An expense left out, and why.
///
/// # Example
///
/// See [`rebill_expenses`].
#[derive(Debug, Clone, PartialEq)]
pub struct ExpenseSkipped {
    /// The expense's id.
    pub expense: RemoteId,
    /// Why.
    pub why: ExpenseLeftOut,
}

/// Puts approved rebillable expenses of billable engagements on their
/// client's invoice of the period their date is in (in `billing`, created
/// if the period has none yet), a line each: quantity 1 at the amount,
/// described by the expense and its date. Returns those left out, in the
/// order given.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::{rebill_expenses, Billed, Billing, ExpenseLeftOut, ExpenseLine, PayPeriod};
/// use odoo_integration_model::{ApprovalState, Currency, Engagement, Expense, Money, RemoteId};
/// let id = RemoteId::new;
/// let taxi = |n: &str, rebillable| ExpenseLine {
///     id: RemoteId::new(n),
///     expense: Expense {
///         date: "2026-11-03".parse().ok(),
///         amount: "42.50 USD".parse().ok(),
///         description: Some("Taxi to client".into()),
///         rebillable,
///         approval: ApprovalState::Approved,
///         ..Default::default()
///     },
///     engagement: Some(id("acme-data")),
/// };
/// let periods = [PayPeriod::new("nov-1", "2026-11-01".parse()?, "2026-11-15".parse()?)];
/// let work = Engagement { name: "Acme platform".into(), billable: true, ..Default::default() };
/// let acme = id("acme");
/// let mut billing = Billing::default();
/// let skipped = rebill_expenses(
///     &[taxi("1", true), taxi("2", false)],
///     &periods,
///     Currency::USD,
///     |_| Some(Billed { engagement: &work, card: None, client: Some(&acme) }),
///     &mut billing,
/// );
/// let invoice = &billing.invoices[&(id("acme"), id("nov-1"))];
/// assert_eq!(invoice.lines[0].description, "Taxi to client (2026-11-03)");
/// assert_eq!(invoice.lines[0].unit_price, "42.50 USD".parse().ok());
/// assert_eq!(skipped[0].why, ExpenseLeftOut::NotRebillable);
/// # Ok::<(), chrono::ParseError>(())
/// ```
pub fn rebill_expenses<'a>(
    expenses: &[ExpenseLine],
    periods: &[PayPeriod],
    currency: Currency,
    engagement: impl Fn(&RemoteId) -> Option<Billed<'a>>,
    billing: &mut Billing,
) -> Vec<ExpenseSkipped> {
    let mut skipped = Vec::new();
    for line in expenses {
        match place(line, periods, currency, &engagement) {
            Ok((client, period, amount)) => {
                let e = &line.expense;
                let what = e.description.as_deref().unwrap_or("Expense");
                let date = e.date.map(|d| d.to_string()).unwrap_or_default();
                let invoice_line = InvoiceLine {
                    id: format!("expense/{}", line.id),
                    description: format!("{what} ({date})"),
                    quantity: 1.into(),
                    unit_price: Some(amount),
                };
                billing.add(&client, period, invoice_line, amount);
            }
            Err(why) => skipped.push(ExpenseSkipped {
                expense: line.id.clone(),
                why,
            }),
        }
    }
    skipped
}

/// The client, period and amount of an expense to re-invoice, or why not.
fn place<'p, 'a>(
    line: &ExpenseLine,
    periods: &'p [PayPeriod],
    currency: Currency,
    engagement: &impl Fn(&RemoteId) -> Option<Billed<'a>>,
) -> Result<(RemoteId, &'p PayPeriod, Money), ExpenseLeftOut> {
    let e = &line.expense;
    if e.approval != ApprovalState::Approved {
        return Err(ExpenseLeftOut::NotApproved(e.approval));
    }
    if !e.rebillable {
        return Err(ExpenseLeftOut::NotRebillable);
    }
    let project = line
        .engagement
        .as_ref()
        .ok_or(ExpenseLeftOut::NoEngagement)?;
    let billed = engagement(project).ok_or(ExpenseLeftOut::NotBillable)?;
    if !billed.engagement.billable {
        return Err(ExpenseLeftOut::NotBillable);
    }
    let date = e.date.ok_or(ExpenseLeftOut::NoDate)?;
    let period = periods
        .iter()
        .find(|p| p.contains(date))
        .ok_or(ExpenseLeftOut::NoPeriod)?;
    let amount = e.amount.ok_or(ExpenseLeftOut::NoAmount)?;
    let contract = billed.card.map_or(currency, |c| c.currency);
    for other in [contract, amount.currency()] {
        if other != currency {
            return Err(ExpenseLeftOut::Currency {
                expense: other,
                invoices: currency,
            });
        }
    }
    let amount = match billed.card {
        Some(card) => card
            .amounts
            .apply(amount.amount())
            .map(|a| Money::new(a, currency))
            .unwrap_or(amount),
        None => amount,
    };
    let client = billed.client.unwrap_or(project).clone();
    Ok((client, period, amount))
}

#[cfg(test)]
mod tests {
    use super::*;
    use odoo_integration_model::Engagement;

    #[test]
    fn each_reason_is_reported_and_only_the_rest_is_billed() {
        fn id(s: &str) -> RemoteId {
            RemoteId::new(s)
        }
        let d = |s: &str| s.parse().ok();
        let base = Expense {
            date: d("2026-11-03"),
            amount: "10 USD".parse().ok(),
            description: Some("Hotel".into()),
            rebillable: true,
            approval: ApprovalState::Approved,
            ..Default::default()
        };
        let with = |n: &str, f: &dyn Fn(&mut ExpenseLine)| {
            let mut l = ExpenseLine {
                id: id(n),
                expense: base.clone(),
                engagement: Some(id("acme")),
            };
            f(&mut l);
            l
        };
        let lines = [
            with("ok", &|_| {}),
            with("draft", &|l| l.expense.approval = ApprovalState::Submitted),
            with("own", &|l| l.expense.rebillable = false),
            with("loose", &|l| l.engagement = None),
            with("internal", &|l| l.engagement = Some(id("internal"))),
            with("unknown", &|l| l.engagement = Some(id("nobody"))),
            with("undated", &|l| l.expense.date = None),
            with("december", &|l| l.expense.date = d("2026-12-01")),
            with("free", &|l| l.expense.amount = None),
            with("euro", &|l| l.expense.amount = "10 EUR".parse().ok()),
        ];
        let periods = [PayPeriod::new(
            "p1",
            d("2026-11-01").unwrap_or_default(),
            d("2026-11-30").unwrap_or_default(),
        )];
        let acme = Engagement {
            billable: true,
            ..Default::default()
        };
        let internal = Engagement::default();
        let client = id("acme-corp");
        let mut billing = Billing::default();
        let skipped = rebill_expenses(
            &lines,
            &periods,
            Currency::USD,
            |e| {
                let engagement = match e.as_str() {
                    "acme" => &acme,
                    "internal" => &internal,
                    _ => return None,
                };
                Some(Billed {
                    engagement,
                    card: None,
                    client: Some(&client),
                })
            },
            &mut billing,
        );
        let why: Vec<(&str, &ExpenseLeftOut)> = skipped
            .iter()
            .map(|s| (s.expense.as_str(), &s.why))
            .collect();
        assert_eq!(
            why,
            [
                (
                    "draft",
                    &ExpenseLeftOut::NotApproved(ApprovalState::Submitted)
                ),
                ("own", &ExpenseLeftOut::NotRebillable),
                ("loose", &ExpenseLeftOut::NoEngagement),
                ("internal", &ExpenseLeftOut::NotBillable),
                ("unknown", &ExpenseLeftOut::NotBillable),
                ("undated", &ExpenseLeftOut::NoDate),
                ("december", &ExpenseLeftOut::NoPeriod),
                ("free", &ExpenseLeftOut::NoAmount),
                (
                    "euro",
                    &ExpenseLeftOut::Currency {
                        expense: Currency::EUR,
                        invoices: Currency::USD
                    }
                ),
            ]
        );
        let invoice = &billing.invoices[&(id("acme-corp"), id("p1"))];
        assert_eq!(invoice.lines.len(), 1);
        assert_eq!(invoice.lines[0].id, "expense/ok");
        assert_eq!(invoice.total, "10 USD".parse().ok());
    }
}
