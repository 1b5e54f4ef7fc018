//! What a contract says about billing time: its billing model (rates per
//! role), the currency it invoices in, and how hours and amounts are
//! rounded.
//!
//! These are workflow types, not fields of the canonical
//! [`Contract`](odoo_integration_model::Contract): no system the SDK syncs
//! holds rounding rules (Odoo's `sale.order` has none, nor do the CRMs),
//! so on the contract they would be fields that no system owns, and the
//! ownership policy could not protect them. The rate card is the firm's
//! own configuration, given to the workflow; its billing model is the
//! canonical [`BillingModel`].

use odoo_integration_model::{BillingModel, Currency, Money, RemoteId};
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

/// Which way a value between two steps goes.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::{Rounding, RoundingMode};
/// use rust_decimal::Decimal;
/// let quarter = |mode| Rounding::new(Decimal::new(25, 2), mode).unwrap();
/// let h = Decimal::new(110, 2); // 1.10 h
/// assert_eq!(quarter(RoundingMode::Up).apply(h), Some(Decimal::new(125, 2)));
/// assert_eq!(quarter(RoundingMode::Down).apply(h), Some(Decimal::ONE));
/// assert_eq!(quarter(RoundingMode::HalfUp).apply(h), Some(Decimal::ONE));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RoundingMode {
    /// Away from zero: any part of a step counts as a step (a started
    /// quarter hour is billed).
    Up,
    /// Toward zero: only whole steps count.
    Down,
    /// To the nearest step, halves away from zero (what Odoo does with
    /// amounts, `HALF-UP`).
    #[default]
    HalfUp,
    /// To the nearest step, halves to the even one (banker's rounding).
    HalfEven,
}

impl RoundingMode {
    fn strategy(self) -> RoundingStrategy {
        match self {
            RoundingMode::Up => RoundingStrategy::AwayFromZero,
            RoundingMode::Down => RoundingStrategy::ToZero,
            RoundingMode::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            RoundingMode::HalfEven => RoundingStrategy::MidpointNearestEven,
        }
    }
}

/// Rounding to a multiple of a step (a quarter hour, a cent) in a
/// [`RoundingMode`]; or none.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::{Rounding, RoundingMode};
/// use rust_decimal::Decimal;
/// assert_eq!(Rounding::cents().apply(Decimal::new(10005, 3)), Some(Decimal::new(1001, 2)));
/// assert_eq!(Rounding::exact().apply(Decimal::new(10005, 3)), Some(Decimal::new(10005, 3)));
/// assert!(Rounding::new(Decimal::ZERO, RoundingMode::Up).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Rounding {
    step: Option<Decimal>,
    mode: RoundingMode,
}

impl Rounding {
    /// Rounding to multiples of `step` in `mode`; `None` unless `step` is
    /// positive.
    ///
    /// # Example
    ///
    /// See [`Rounding`].
    pub fn new(step: Decimal, mode: RoundingMode) -> Option<Self> {
        (step > Decimal::ZERO).then_some(Rounding {
            step: Some(step),
            mode,
        })
    }

    /// No rounding: values are kept exact.
    ///
    /// # Example
    ///
    /// See [`Rounding`].
    pub fn exact() -> Self {
        Rounding::default()
    }

    /// To the cent, halves up: amounts in a currency of two decimals.
    ///
    /// # Example
    ///
    /// See [`Rounding`].
    pub fn cents() -> Self {
        Rounding {
            step: Some(Decimal::new(1, 2)),
            mode: RoundingMode::HalfUp,
        }
    }

    /// The step, if any.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::timesheets::Rounding;
    /// assert_eq!(Rounding::cents().step(), Some(rust_decimal::Decimal::new(1, 2)));
    /// ```
    pub fn step(&self) -> Option<Decimal> {
        self.step
    }

    /// The mode.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::timesheets::{Rounding, RoundingMode};
    /// assert_eq!(Rounding::cents().mode(), RoundingMode::HalfUp);
    /// ```
    pub fn mode(&self) -> RoundingMode {
        self.mode
    }

    /// `value` rounded; `None` if it does not fit a decimal.
    ///
    /// # Example
    ///
    /// See [`Rounding`].
    pub fn apply(&self, value: Decimal) -> Option<Decimal> {
        let Some(step) = self.step else {
            return Some(value);
        };
        let steps = value
            .checked_div(step)?
            .round_dp_with_strategy(0, self.mode.strategy());
        steps.checked_mul(step).map(|d| d.normalize())
    }
}

/// A contract's billing terms for time: the billing model (rates per role
/// for time and materials), the currency its invoices are in, and how
/// each timesheet line's hours and each invoice line's amount are rounded.
///
/// A rate in another currency than the card's is never converted: its
/// hours are reported unpriced
/// ([`NotPriced::RateCurrency`](super::NotPriced::RateCurrency)).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::{RateCard, Rounding, RoundingMode};
/// use odoo_integration_model::{Currency, Money};
/// use rust_decimal::Decimal;
/// let usd = |n: i64| Money::new(Decimal::from(n), Currency::USD);
/// let card = RateCard::time_and_materials(Currency::USD, [("Lead", usd(150)), ("Engineer", usd(120))])
///     .hours(Rounding::new(Decimal::new(25, 2), RoundingMode::Up).unwrap()); // started quarter hours
/// assert_eq!(card.rate("Lead"), Some(usd(150)));
/// assert_eq!(card.amounts, Rounding::cents());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateCard {
    /// How the contract bills (only time and materials prices hours).
    pub billing: BillingModel,
    /// The currency its invoices are in.
    pub currency: Currency,
    /// Each timesheet line's hours, before they are summed. Default: exact.
    pub hours: Rounding,
    /// Each invoice line's amount (hours × rate). Default: to the cent,
    /// halves up.
    pub amounts: Rounding,
}

impl RateCard {
    /// Time and materials at `rates` (role → hourly rate), invoiced in
    /// `currency`, hours exact, amounts to the cent.
    ///
    /// # Example
    ///
    /// See [`RateCard`].
    pub fn time_and_materials<R: Into<String>>(
        currency: Currency,
        rates: impl IntoIterator<Item = (R, Money)>,
    ) -> Self {
        let rates = rates.into_iter().map(|(r, m)| (r.into(), m)).collect();
        RateCard::new(BillingModel::TimeAndMaterials { rates }, currency)
    }

    /// A card for any billing model (fixed fee, retainer and milestones
    /// price no hours, but their rebillable expenses are invoiced).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::timesheets::RateCard;
    /// use odoo_integration_model::{BillingModel, Currency};
    /// let fixed = RateCard::new(BillingModel::FixedFee { total: None, schedule: vec![] }, Currency::EUR);
    /// assert_eq!(fixed.rate("Lead"), None);
    /// ```
    pub fn new(billing: BillingModel, currency: Currency) -> Self {
        RateCard {
            billing,
            currency,
            hours: Rounding::exact(),
            amounts: Rounding::cents(),
        }
    }

    /// How each timesheet line's hours are rounded.
    ///
    /// # Example
    ///
    /// See [`RateCard`].
    #[must_use]
    pub fn hours(mut self, rounding: Rounding) -> Self {
        self.hours = rounding;
        self
    }

    /// How each invoice line's amount is rounded.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::timesheets::{RateCard, Rounding, RoundingMode};
    /// use odoo_integration_model::Currency;
    /// let yen = Rounding::new(1.into(), RoundingMode::HalfEven).unwrap();
    /// let card = RateCard::time_and_materials::<&str>("JPY".parse().unwrap(), []).amounts(yen);
    /// assert_eq!(card.amounts.mode(), RoundingMode::HalfEven);
    /// ```
    #[must_use]
    pub fn amounts(mut self, rounding: Rounding) -> Self {
        self.amounts = rounding;
        self
    }

    /// The hourly rate of `role`, when the contract bills time and
    /// materials and has one.
    ///
    /// # Example
    ///
    /// See [`RateCard`].
    pub fn rate(&self, role: &str) -> Option<Money> {
        match &self.billing {
            BillingModel::TimeAndMaterials { rates } => rates.get(role).copied(),
            _ => None,
        }
    }
}

/// The rate cards of the firm's engagements: by the Odoo project's id, or
/// by its name (the id wins when both match).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::timesheets::{RateCard, RateCards};
/// use odoo_integration_model::{Currency, RemoteId};
/// let card = RateCard::time_and_materials::<&str>(Currency::USD, []);
/// let cards = RateCards::new().by_name("Acme data platform", card.clone());
/// assert_eq!(cards.get(&RemoteId::new("7"), "Acme data platform"), Some(&card));
/// assert_eq!(cards.get(&RemoteId::new("7"), "Internal"), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateCards {
    by_id: BTreeMap<RemoteId, RateCard>,
    by_name: BTreeMap<String, RateCard>,
}

impl RateCards {
    /// No cards: nothing is invoiced.
    ///
    /// # Example
    ///
    /// See [`RateCards`].
    pub fn new() -> Self {
        RateCards::default()
    }

    /// The card of the project with this id.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::timesheets::{RateCard, RateCards};
    /// use odoo_integration_model::{Currency, RemoteId};
    /// let cards = RateCards::new().by_id("7", RateCard::time_and_materials::<&str>(Currency::USD, []));
    /// assert!(cards.get(&RemoteId::new("7"), "any name").is_some());
    /// ```
    #[must_use]
    pub fn by_id(mut self, project: impl Into<String>, card: RateCard) -> Self {
        self.by_id.insert(RemoteId::new(project.into()), card);
        self
    }

    /// The card of the project with this name.
    ///
    /// # Example
    ///
    /// See [`RateCards`].
    #[must_use]
    pub fn by_name(mut self, project: impl Into<String>, card: RateCard) -> Self {
        self.by_name.insert(project.into(), card);
        self
    }

    /// The card of a project, by its id, else its name.
    ///
    /// # Example
    ///
    /// See [`RateCards`].
    pub fn get(&self, id: &RemoteId, name: &str) -> Option<&RateCard> {
        self.by_id.get(id).or_else(|| self.by_name.get(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_round_per_step_and_mode() {
        let q = |mode| Rounding::new(Decimal::new(25, 2), mode).unwrap_or_default();
        let cases = [
            (RoundingMode::Up, 101, 125),
            (RoundingMode::Up, 100, 100),
            (RoundingMode::Down, 124, 100),
            (RoundingMode::HalfUp, 112, 100),
            (RoundingMode::HalfUp, 113, 125),
            (RoundingMode::HalfEven, 1125, 1000), // 4.5 quarters: to the even 4
            (RoundingMode::HalfUp, 1125, 1250),
        ];
        for (mode, hundredths, want) in cases {
            let scale = if hundredths >= 1000 { 3 } else { 2 };
            let value = Decimal::new(hundredths, scale);
            let want = Decimal::new(want, scale);
            assert_eq!(q(mode).apply(value), Some(want), "{mode:?} {value}");
        }
        assert_eq!(
            Rounding::cents().apply(Decimal::new(-10005, 3)),
            Some(Decimal::new(-1001, 2))
        );
        assert_eq!(Rounding::cents().apply(Decimal::MAX), None);
    }
}
