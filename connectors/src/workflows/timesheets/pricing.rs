//! Billable hours priced at each engagement's rate card into draft
//! invoices, one per client and pay period: [`price_hours`].

use super::{PayPeriod, PeriodHours, RateCard};
use odoo_integration_model::{
    Currency, Employee, Engagement, Invoice, InvoiceLine, Money, RemoteId,
};
use rust_decimal::Decimal;
use std::collections::BTreeMap;

/// Why billable hours were not priced.
///
/// # Example
///
/// See [`price_hours`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotPriced {
    /// The engagement's contract has no rate for the employee's role.
    NoRate {
        /// The role (the employee's job title; empty when it has none).
        role: String,
    },
    /// The employee is not known.
    UnknownEmployee,
    /// The role's rate is in another currency than the contract's
    /// invoices: never converted.
    RateCurrency {
        /// The rate's currency.
        rate: Currency,
        /// The contract's.
        contract: Currency,
    },
    /// The contract invoices in another currency than the invoices are
    /// written in (Odoo's company currency): never converted.
    InvoiceCurrency {
        /// The contract's currency.
        contract: Currency,
        /// The invoices'.
        invoices: Currency,
    },
    /// Hours × rate does not fit a decimal.
    Overflow,
}

/// Hours that are billable but could not be priced.
///
/// # Example
///
/// See [`price_hours`].
#[derive(Debug, Clone, PartialEq)]
pub struct Unpriced {
    /// The engagement's id.
    pub engagement: RemoteId,
    /// The payroll whose period they are in.
    pub payroll: RemoteId,
    /// The employee's id.
    pub employee: RemoteId,
    /// The hours.
    pub hours: Decimal,
    /// Why.
    pub why: NotPriced,
}

/// An engagement as [`price_hours`] bills it.
///
/// # Example
///
/// See [`price_hours`].
#[derive(Debug, Clone, Copy)]
pub struct Billed<'a> {
    /// The engagement.
    pub engagement: &'a Engagement,
    /// Its contract's rate card, if it has one.
    pub card: Option<&'a RateCard>,
    /// Its client's id (one invoice per client and period); `None` bills
    /// the engagement on its own invoice.
    pub client: Option<&'a RemoteId>,
}

/// Draft invoices of billable hours: one per client and pay period.
///
/// # Example
///
/// See [`price_hours`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Billing {
    /// (client, payroll) → the invoice, dated the period's last day, a
    /// line per engagement and role (the hours of everyone in that role,
    /// at its rate), its `total` the sum of the lines' amounts rounded as
    /// the contract says. Its `client` is left for the caller (the client
    /// as the sync's identities know it). An engagement without a client
    /// is keyed by its own id.
    pub invoices: BTreeMap<(RemoteId, RemoteId), Invoice>,
    /// Billable hours left unpriced.
    pub unpriced: Vec<Unpriced>,
}

impl Billing {
    /// Adds a line to the invoice of `client` and the period, creating it
    /// (dated the period's last day) if need be, and adds `amount` to its
    /// total.
    pub(super) fn add(
        &mut self,
        client: &RemoteId,
        period: &PayPeriod,
        line: InvoiceLine,
        amount: Money,
    ) {
        let invoice = self
            .invoices
            .entry((client.clone(), period.payroll.clone()))
            .or_insert_with(|| Invoice {
                date: Some(period.end),
                ..Default::default()
            });
        invoice.total = Some(match invoice.total {
            Some(t) => t.checked_add(&amount).unwrap_or(t),
            None => amount,
        });
        invoice.lines.push(line);
    }
}

/// A line being summed: hours, rate, description.
type Summing = (Decimal, Money, String);

/// Prices the approved hours of billable engagements billed by time and
/// materials at their rate card's rate for the employee's role (the job
/// title), into draft invoices in `currency`, one per client and pay
/// period with a line per engagement and role. Engagements not billable,
/// unknown, without a card or billed another way (fixed fee, retainer,
/// milestones) are not invoiced here.
///
/// Each timesheet line's hours are rounded by the card
/// ([`RateCard::hours`], from [`PeriodHours::entries`]) before they are
/// summed; each invoice line's amount (hours × rate) by
/// [`RateCard::amounts`]. A card or a rate in another currency than
/// `currency` leaves the hours unpriced ([`NotPriced`]), never converted.
///
/// `engagement` gives an engagement, its rate card and its client by id
/// ([`Billed`]); `person` an employee by id.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::{price_hours, Billed, PayPeriod, PeriodHours, RateCard, Rounding, RoundingMode};
/// use odoo_integration_model::{Currency, Employee, Engagement, Money, RemoteId};
/// use rust_decimal::Decimal;
/// let id = RemoteId::new;
/// let mut hours = PeriodHours::default();
/// hours.by_engagement.insert((id("acme-data"), id("nov-1"), id("ann")), Decimal::new(75, 1)); // 7.5 h
/// hours.by_engagement.insert((id("acme-data"), id("nov-1"), id("bo")), Decimal::new(21, 1)); // 2.1 h
/// let periods = [PayPeriod::new("nov-1", "2026-11-01".parse()?, "2026-11-15".parse()?)];
/// let work = Engagement { name: "Acme platform".into(), billable: true, ..Default::default() };
/// let rate = Money::new(Decimal::from(150), Currency::USD);
/// let card = RateCard::time_and_materials(Currency::USD, [("Lead", rate)])
///     .hours(Rounding::new(Decimal::new(25, 2), RoundingMode::Up).unwrap());
/// let acme = id("acme");
/// let lead = Employee { job_title: Some("Lead".into()), ..Default::default() };
/// let billing = price_hours(
///     &hours,
///     &periods,
///     Currency::USD,
///     |_| Some(Billed { engagement: &work, card: Some(&card), client: Some(&acme) }),
///     |_| Some(&lead),
/// );
/// let invoice = &billing.invoices[&(id("acme"), id("nov-1"))];
/// assert_eq!(invoice.lines.len(), 1, "one line per engagement and role");
/// assert_eq!(invoice.lines[0].quantity, Decimal::new(975, 2)); // 7.5 + 2.25
/// assert_eq!(invoice.lines[0].unit_price, Some(rate));
/// assert_eq!(invoice.total, Some(Money::new(Decimal::new(146250, 2), Currency::USD)));
/// assert_eq!(invoice.date, "2026-11-15".parse().ok());
/// # Ok::<(), chrono::ParseError>(())
/// ```
pub fn price_hours<'a>(
    hours: &PeriodHours,
    periods: &[PayPeriod],
    currency: Currency,
    engagement: impl Fn(&RemoteId) -> Option<Billed<'a>>,
    person: impl Fn(&RemoteId) -> Option<&'a Employee>,
) -> Billing {
    let mut out = Billing::default();
    // (client, payroll) → (engagement, role) → the line; with the card.
    type Group<'c> = BTreeMap<(RemoteId, String), (Summing, &'c RateCard)>;
    let mut grouped: BTreeMap<(RemoteId, RemoteId), Group<'a>> = BTreeMap::new();
    for (key, total) in &hours.by_engagement {
        let (project, payroll, employee) = key;
        let Some(billed) = engagement(project) else {
            continue;
        };
        let (work, Some(card)) = (billed.engagement, billed.card) else {
            continue;
        };
        if !work.billable
            || !matches!(
                card.billing,
                odoo_integration_model::BillingModel::TimeAndMaterials { .. }
            )
        {
            continue;
        }
        let Some(period) = periods.iter().find(|p| p.payroll == *payroll) else {
            continue;
        };
        let unpriced = |why| Unpriced {
            engagement: project.clone(),
            payroll: payroll.clone(),
            employee: employee.clone(),
            hours: *total,
            why,
        };
        if card.currency != currency {
            out.unpriced.push(unpriced(NotPriced::InvoiceCurrency {
                contract: card.currency,
                invoices: currency,
            }));
            continue;
        }
        let Some(who) = person(employee) else {
            out.unpriced.push(unpriced(NotPriced::UnknownEmployee));
            continue;
        };
        let role = who.job_title.clone().unwrap_or_default();
        let Some(rate) = card.rate(&role) else {
            out.unpriced.push(unpriced(NotPriced::NoRate { role }));
            continue;
        };
        if rate.currency() != card.currency {
            out.unpriced.push(unpriced(NotPriced::RateCurrency {
                rate: rate.currency(),
                contract: card.currency,
            }));
            continue;
        }
        // Each line rounded as the contract says, then summed.
        let one = [*total];
        let entries = hours.entries.get(key).map_or(&one[..], Vec::as_slice);
        let Some(billable) = entries.iter().try_fold(Decimal::ZERO, |sum, h| {
            sum.checked_add(card.hours.apply(*h)?)
        }) else {
            out.unpriced.push(unpriced(NotPriced::Overflow));
            continue;
        };
        let client = billed.client.unwrap_or(project).clone();
        let description = format!("{}, {role} ({} to {})", work.name, period.start, period.end);
        let ((sum, ..), _) = grouped
            .entry((client, payroll.clone()))
            .or_default()
            .entry((project.clone(), role))
            .or_insert(((Decimal::ZERO, rate, description), card));
        *sum = sum.checked_add(billable).unwrap_or(Decimal::MAX);
    }
    for ((client, payroll), lines) in grouped {
        let Some(period) = periods.iter().find(|p| p.payroll == payroll) else {
            continue;
        };
        for ((project, role), ((quantity, rate, description), card)) in lines {
            let amount = quantity
                .checked_mul(rate.amount())
                .and_then(|a| card.amounts.apply(a));
            let Some(amount) = amount else {
                out.unpriced.push(Unpriced {
                    engagement: project,
                    payroll: payroll.clone(),
                    employee: RemoteId::new(""),
                    hours: quantity,
                    why: NotPriced::Overflow,
                });
                continue;
            };
            let line = InvoiceLine {
                id: format!("{project}/{role}"),
                description,
                quantity,
                unit_price: Some(rate),
            };
            out.add(&client, period, line, Money::new(amount, rate.currency()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflows::timesheets::tests::{id, line, periods};
    use crate::workflows::timesheets::{Rounding, RoundingMode, approved_hours};

    #[test]
    fn only_billable_time_and_materials_work_is_priced_per_role() {
        let usd = |n: i64| Money::new(Decimal::from(n), Currency::USD);
        let tm = RateCard::time_and_materials(
            Currency::USD,
            [("Lead", usd(150)), ("Engineer", usd(120))],
        );
        let fixed = RateCard::new(
            odoo_integration_model::BillingModel::FixedFee {
                total: Some(usd(10_000)),
                schedule: Vec::new(),
            },
            Currency::USD,
        );
        let euro = RateCard::time_and_materials(
            Currency::EUR,
            [("Lead", Money::new(150.into(), Currency::EUR))],
        );
        let mixed = RateCard::time_and_materials(
            Currency::USD,
            [("Lead", Money::new(150.into(), Currency::GBP))],
        );
        let acme = Engagement {
            name: "Acme".into(),
            billable: true,
            ..Default::default()
        };
        let internal = Engagement {
            name: "Internal".into(),
            billable: false,
            ..Default::default()
        };
        let person = |name: &str, role: Option<&str>| Employee {
            name: name.into(),
            job_title: role.map(Into::into),
            ..Default::default()
        };
        let (ann, bo, cy) = (
            person("Ann", Some("Lead")),
            person("Bo", Some("Engineer")),
            person("Cy", Some("Designer")),
        );
        let mut hours = PeriodHours::default();
        for (project, who, tenths) in [
            ("acme", "ann", 75),
            ("acme", "bo", 725),
            ("acme-2", "bo", 5),
            ("acme", "di", 25),
            ("acme", "cy", 10),
            ("acme", "nobody", 10),
            ("internal", "ann", 10),
            ("fixed", "ann", 10),
            ("euro", "ann", 10),
            ("mixed", "ann", 10),
        ] {
            hours
                .by_engagement
                .insert((id(project), id("p1"), id(who)), Decimal::new(tenths, 1));
        }
        let client = id("acme-corp");
        let billed = |engagement, card| {
            Some(Billed {
                engagement,
                card: Some(card),
                client: Some(&client),
            })
        };
        let billing = price_hours(
            &hours,
            &periods(),
            Currency::USD,
            |e| match e.as_str() {
                "acme" | "acme-2" => billed(&acme, &tm),
                "internal" => billed(&internal, &tm),
                "fixed" => billed(&acme, &fixed),
                "euro" => billed(&acme, &euro),
                "mixed" => billed(&acme, &mixed),
                _ => None,
            },
            |p| match p.as_str() {
                "ann" => Some(&ann),
                "bo" | "di" => Some(&bo),
                "cy" => Some(&cy),
                _ => None,
            },
        );
        assert_eq!(
            billing.invoices.len(),
            1,
            "one per client and period: {:?}",
            billing.invoices
        );
        let invoice = &billing.invoices[&(id("acme-corp"), id("p1"))];
        let lines: Vec<(Decimal, Option<Money>)> = invoice
            .lines
            .iter()
            .map(|l| (l.quantity, l.unit_price))
            .collect();
        // A line per engagement and role (in that order): Bo and Di are
        // both engineers on acme.
        assert_eq!(
            lines,
            [
                (Decimal::from(75), Some(usd(120))),
                (Decimal::new(75, 1), Some(usd(150))),
                (Decimal::new(5, 1), Some(usd(120))),
            ]
        );
        assert!(
            invoice.lines[1]
                .description
                .contains("Acme, Lead (2026-11-01 to 2026-11-15)")
        );
        let why: Vec<&NotPriced> = billing.unpriced.iter().map(|u| &u.why).collect();
        assert_eq!(
            why,
            [
                &NotPriced::NoRate {
                    role: "Designer".into()
                },
                &NotPriced::UnknownEmployee,
                &NotPriced::InvoiceCurrency {
                    contract: Currency::EUR,
                    invoices: Currency::USD
                },
                &NotPriced::RateCurrency {
                    rate: Currency::GBP,
                    contract: Currency::USD
                },
            ]
        );
        // 75 × 120 + 7.5 × 150 + 0.5 × 120, exact.
        assert_eq!(invoice.total, Some(usd(10_185)));
    }

    #[test]
    fn hours_are_rounded_per_line_and_amounts_as_the_contract_says() {
        let rate = Money::new(Decimal::new(12345, 2), Currency::USD); // 123.45
        let card = RateCard::time_and_materials(Currency::USD, [("Lead", rate)])
            .hours(Rounding::new(Decimal::new(25, 2), RoundingMode::Up).unwrap_or_default())
            .amounts(Rounding::new(Decimal::new(1, 2), RoundingMode::Down).unwrap_or_default());
        let lines = [
            line("1", Some("ann"), Some("2026-11-02"), 1, true), // 0.1 h → 0.25
            line("2", Some("ann"), Some("2026-11-03"), 1, true), // 0.1 h → 0.25
            line("3", Some("ann"), Some("2026-11-04"), 20, true), // 2 h stays
        ];
        let hours = approved_hours(&lines, &periods());
        assert_eq!(
            hours.total[&(id("p1"), id("ann"))],
            Decimal::new(22, 1),
            "payroll gets the exact hours"
        );
        let work = Engagement {
            name: "Acme".into(),
            billable: true,
            ..Default::default()
        };
        let lead = Employee {
            job_title: Some("Lead".into()),
            ..Default::default()
        };
        let billing = price_hours(
            &hours,
            &periods(),
            Currency::USD,
            |_| {
                Some(Billed {
                    engagement: &work,
                    card: Some(&card),
                    client: None,
                })
            },
            |_| Some(&lead),
        );
        let invoice = &billing.invoices[&(id("acme"), id("p1"))];
        // Rounded per line, not the sum (2.2 h would round to 2.25).
        assert_eq!(invoice.lines[0].quantity, Decimal::new(25, 1));
        // 2.5 × 123.45 = 308.625, down to the cent.
        assert_eq!(
            invoice.total,
            Some(Money::new(Decimal::new(30862, 2), Currency::USD))
        );
    }
}
