//! Reconciliation of amounts, not only fields: hours in Odoo against hours
//! sent to payroll per employee per period, billed hours against approved
//! billable hours per client per period, a CRM deal's amount against the
//! Odoo order's total. The report is the field reconciliation's
//! ([`Reconciliation`]): CSV with [`Reconciliation::to_csv`], JSON with
//! serde, and a table with [`table`].

use odoo_integration_model::{FieldValue, Mismatch, Money, Reconciliation};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Compares two sides' quantities (hours) key by key, exactly: keys on
/// one side only are listed as such, different values as a mismatch of
/// `field` (`a` the first side, `b` the second).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::amounts::reconcile_quantities;
/// use rust_decimal::Decimal;
/// use std::collections::BTreeMap;
/// let odoo = BTreeMap::from([("nov-1/ann".to_owned(), Decimal::new(75, 1)), ("nov-1/bo".to_owned(), Decimal::from(8))]);
/// let payroll = BTreeMap::from([("nov-1/ann".to_owned(), Decimal::new(70, 1))]);
/// let r = reconcile_quantities("hours", &odoo, &payroll);
/// assert_eq!(r.mismatched[0].key, "nov-1/ann");
/// assert_eq!(r.only_in_a, ["nov-1/bo"]);
/// assert!(r.to_csv().contains("mismatched,nov-1/ann,hours,7.5,7.0"));
/// ```
pub fn reconcile_quantities(
    field: &str,
    a: &BTreeMap<String, Decimal>,
    b: &BTreeMap<String, Decimal>,
) -> Reconciliation {
    reconcile_by(field, a, b, |d| FieldValue::Decimal(*d))
}

/// Compares two sides' amounts of money key by key: a different amount,
/// or the same number in another currency, is a mismatch.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::amounts::reconcile_money;
/// use odoo_integration_model::{Currency, Money};
/// use rust_decimal::Decimal;
/// use std::collections::BTreeMap;
/// let eur = |n: i64| Money::new(Decimal::from(n), Currency::EUR);
/// let crm = BTreeMap::from([("deal-1".to_owned(), eur(48_000)), ("deal-2".to_owned(), eur(900))]);
/// let odoo = BTreeMap::from([("deal-1".to_owned(), eur(48_000)), ("deal-2".to_owned(), Money::new(Decimal::from(900), Currency::USD))]);
/// let r = reconcile_money("amount", &crm, &odoo);
/// assert_eq!(r.matched, ["deal-1"]);
/// assert_eq!(r.mismatched[0].key, "deal-2");
/// ```
pub fn reconcile_money(
    field: &str,
    a: &BTreeMap<String, Money>,
    b: &BTreeMap<String, Money>,
) -> Reconciliation {
    reconcile_by(field, a, b, |m| FieldValue::Money(*m))
}

fn reconcile_by<V: PartialEq>(
    field: &str,
    a: &BTreeMap<String, V>,
    b: &BTreeMap<String, V>,
    value: impl Fn(&V) -> FieldValue,
) -> Reconciliation {
    let mut r = Reconciliation::default();
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        match (a.get(key), b.get(key)) {
            (Some(x), Some(y)) if x == y => r.matched.push(key.clone()),
            (Some(x), Some(y)) => r.mismatched.push(Mismatch {
                key: key.clone(),
                field: field.to_owned(),
                a: value(x),
                b: value(y),
            }),
            (Some(_), None) => r.only_in_a.push(key.clone()),
            (None, _) => r.only_in_b.push(key.clone()),
        }
    }
    r
}

/// The report as a plain-text table for a terminal: one row per key that
/// is not matched (mismatched, or on one side only), under a header
/// naming the two sides, and a count of the matched keys.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::amounts::{reconcile_quantities, table};
/// use rust_decimal::Decimal;
/// use std::collections::BTreeMap;
/// let odoo = BTreeMap::from([("nov-1/ann".to_owned(), Decimal::new(75, 1))]);
/// let payroll = BTreeMap::from([("nov-1/ann".to_owned(), Decimal::from(7))]);
/// let text = table(&reconcile_quantities("hours", &odoo, &payroll), "odoo", "gusto");
/// assert!(text.contains("nov-1/ann"));
/// assert!(text.contains("7.5"));
/// ```
pub fn table(r: &Reconciliation, a: &str, b: &str) -> String {
    let mut rows: Vec<[String; 4]> =
        vec![["key".into(), "field".into(), a.to_owned(), b.to_owned()]];
    for m in &r.mismatched {
        rows.push([
            m.key.clone(),
            m.field.clone(),
            m.a.to_string(),
            m.b.to_string(),
        ]);
    }
    for k in &r.only_in_a {
        rows.push([k.clone(), String::new(), "present".into(), "missing".into()]);
    }
    for k in &r.only_in_b {
        rows.push([k.clone(), String::new(), "missing".into(), "present".into()]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    let _ = writeln!(out, "{} matched", r.matched.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use odoo_integration_model::Currency;

    #[test]
    fn every_key_is_matched_mismatched_or_on_one_side_and_the_mirror_agrees() {
        let d = |n: i64| Decimal::new(n, 2);
        let a = BTreeMap::from([
            ("k1".to_owned(), d(750)),
            ("k2".to_owned(), d(800)),
            ("k3".to_owned(), d(100)),
        ]);
        let b = BTreeMap::from([
            ("k1".to_owned(), Decimal::new(75, 1)), // 7.5 == 7.50
            ("k2".to_owned(), d(801)),
            ("k4".to_owned(), d(100)),
        ]);
        let r = reconcile_quantities("hours", &a, &b);
        assert_eq!(r.matched, ["k1"]);
        assert_eq!(r.only_in_a, ["k3"]);
        assert_eq!(r.only_in_b, ["k4"]);
        assert_eq!(r.mismatched.len(), 1);
        assert_eq!(r.mismatched[0].a, FieldValue::Decimal(d(800)));
        assert_eq!(reconcile_quantities("hours", &b, &a), r.mirror());
        let json = serde_json::to_value(&r).unwrap_or_default();
        assert_eq!(json["only_in_b"][0], "k4");
        let text = table(&r, "odoo", "gusto");
        assert!(
            text.lines()
                .next()
                .is_some_and(|h| h.contains("odoo") && h.contains("gusto"))
        );
        assert!(text.contains("k3") && text.contains("k4") && text.ends_with("1 matched\n"));
    }

    #[test]
    fn money_differs_by_amount_or_currency_never_by_float_noise() {
        let m = |n: &str, c| Money::new(n.parse().unwrap_or_default(), c);
        let a = BTreeMap::from([
            ("d1".to_owned(), m("0.30", Currency::EUR)),
            ("d2".to_owned(), m("10", Currency::EUR)),
        ]);
        let b = BTreeMap::from([
            ("d1".to_owned(), m("0.3", Currency::EUR)),
            ("d2".to_owned(), m("10", Currency::USD)),
        ]);
        let r = reconcile_money("amount", &a, &b);
        assert_eq!(r.matched, ["d1"]);
        assert_eq!(r.mismatched[0].key, "d2");
    }
}
