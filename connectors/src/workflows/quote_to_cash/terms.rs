//! What turns a won deal's lines into order lines.

use odoo_integration_model::{BillingKind, ContractLine, Opportunity};
use std::collections::BTreeMap;

/// Where the prices of a won deal's order come from.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::workflows::quote_to_cash::Pricing;
/// assert_eq!(Pricing::default(), Pricing::Deal);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pricing {
    /// The deal's unit prices; a line without one is priced by Odoo.
    #[default]
    Deal,
    /// Every line priced by the order's price list in Odoo.
    PriceList,
}

/// What turns a won deal's lines into order lines: the product per
/// billing kind (internal references) and where prices come from.
#[derive(Debug, Clone, Default)]
pub struct Terms {
    pub(super) products: BTreeMap<BillingKind, String>,
    pricing: Pricing,
}

impl Terms {
    /// No products, the deal's prices.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::quote_to_cash::{Pricing, Terms};
    /// use odoo_integration_model::BillingKind;
    /// let terms = Terms::new().product(BillingKind::FixedFee, "FIXED").pricing(Pricing::PriceList);
    /// assert_eq!(terms.product_for(BillingKind::FixedFee), Some("FIXED"));
    /// assert_eq!(terms.product_for(BillingKind::Retainer), None);
    /// ```
    pub fn new() -> Self {
        Terms::default()
    }

    /// Bills work of `kind` with the product whose internal reference
    /// (`default_code`) is `code`.
    ///
    /// # Example
    ///
    /// See [`Terms::new`].
    pub fn product(mut self, kind: BillingKind, code: impl Into<String>) -> Self {
        self.products.insert(kind, code.into());
        self
    }

    /// Where prices come from.
    ///
    /// # Example
    ///
    /// See [`Terms::new`].
    pub fn pricing(mut self, pricing: Pricing) -> Self {
        self.pricing = pricing;
        self
    }

    /// The product code that bills work of `kind`, if one is set.
    ///
    /// # Example
    ///
    /// See [`Terms::new`].
    pub fn product_for(&self, kind: BillingKind) -> Option<&str> {
        self.products.get(&kind).map(String::as_str)
    }

    /// A won deal's order lines: its line items (a deal without any is
    /// sold as one line, its name at its amount), each with the product
    /// of the deal's billing kind unless it names its own, priced as
    /// [`Pricing`] says.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::workflows::quote_to_cash::Terms;
    /// use odoo_integration_model::{BillingKind, Opportunity};
    /// let deal = Opportunity {
    ///     name: "Audit".into(),
    ///     amount: "12000 EUR".parse().ok(),
    ///     billing: Some(BillingKind::FixedFee),
    ///     ..Default::default()
    /// };
    /// let lines = Terms::new().product(BillingKind::FixedFee, "FIXED").lines(&deal);
    /// assert_eq!(lines.len(), 1);
    /// assert_eq!(lines[0].product.as_deref(), Some("FIXED"));
    /// assert_eq!(lines[0].unit_price, deal.amount);
    /// ```
    pub fn lines(&self, deal: &Opportunity) -> Vec<ContractLine> {
        let mut lines = deal.lines.clone();
        if lines.is_empty()
            && let Some(amount) = deal.amount
        {
            lines.push(ContractLine {
                description: deal.name.clone(),
                quantity: rust_decimal::Decimal::ONE,
                unit_price: Some(amount),
                ..Default::default()
            });
        }
        let product = self.product_for(deal.billing.unwrap_or_default());
        for line in &mut lines {
            if line.product.is_none() {
                line.product = product.map(str::to_owned);
            }
            if self.pricing == Pricing::PriceList {
                line.unit_price = None;
            }
        }
        lines
    }
}
