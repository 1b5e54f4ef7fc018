//! Payment status back to the CRM: where the payment of a deal's (or a
//! client's) posted invoices stands, and what is still owed, as one
//! [`PaymentState`] and one amount, to write to the CRM record.
//!
//! Read the invoices from Odoo (its invoice map reads `payment_state` and
//! `amount_residual`), group them by deal or client, [`summarize`] each
//! group, and send the result as an [`Opportunity`](odoo_integration_model::Opportunity)
//! change naming only `payment_state` and `amount_due` through a pipeline
//! into the CRM, with a policy that gives those fields to Odoo. Map them
//! to a property of yours in the CRM (see the test
//! `payment_status_reaches_the_crm_deal`).

use odoo_integration_model::{Invoice, Money, PaymentState};

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
