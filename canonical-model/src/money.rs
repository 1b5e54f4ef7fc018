//! Money: an exact decimal amount with an ISO 4217 currency code.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO 4217 currency code: three upper-case ASCII letters, e.g. `EUR`.
///
/// # Example
/// ```
/// use odoo_integration_model::Currency;
/// let eur: Currency = "EUR".parse()?;
/// assert_eq!(eur.as_str(), "EUR");
/// assert!("eur".parse::<Currency>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollar.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::Currency::USD.as_str(), "USD");
    /// ```
    pub const USD: Currency = Currency(*b"USD");
    /// Euro.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::Currency::EUR.to_string(), "EUR");
    /// ```
    pub const EUR: Currency = Currency(*b"EUR");
    /// Pound sterling.
    ///
    /// # Example
    /// ```
    /// assert_eq!(odoo_integration_model::Currency::GBP.as_str(), "GBP");
    /// ```
    pub const GBP: Currency = Currency(*b"GBP");
    /// The code as a string slice.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::Currency;
    /// assert_eq!("USD".parse::<Currency>()?.as_str(), "USD");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_str(&self) -> &str {
        // Only upper-case ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_uppercase()) => {
                Ok(Currency([*a, *b, *c]))
            }
            _ => Err(MoneyError::InvalidCurrency(s.to_owned())),
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.as_str().to_owned()
    }
}

/// An amount of money: an exact [`Decimal`] and its [`Currency`]. Never `f64`.
///
/// # Example
/// ```
/// use odoo_integration_model::Money;
/// use rust_decimal::Decimal;
/// let a = Money::new(Decimal::new(1050, 2), "EUR".parse()?);
/// let b = Money::new(Decimal::new(250, 2), "EUR".parse()?);
/// assert_eq!(a.checked_add(&b)?.amount(), Decimal::new(1300, 2));
/// let usd = Money::new(Decimal::ONE, "USD".parse()?);
/// assert!(a.checked_add(&usd).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: Decimal,
    currency: Currency,
}

impl Money {
    /// Money from an amount and a currency.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::Money;
    /// let m = Money::new(rust_decimal::Decimal::TEN, "GBP".parse()?);
    /// assert_eq!(m.to_string(), "10 GBP");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money { amount, currency }
    }

    /// The amount.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::Money;
    /// assert_eq!(Money::new(rust_decimal::Decimal::ONE, "EUR".parse()?).amount(), rust_decimal::Decimal::ONE);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn amount(&self) -> Decimal {
        self.amount
    }

    /// The currency.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::Money;
    /// assert_eq!(Money::new(rust_decimal::Decimal::ONE, "EUR".parse()?).currency().as_str(), "EUR");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// The sum of two amounts in the same currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] if the currencies differ,
    /// [`MoneyError::Overflow`] if the sum does not fit.
    ///
    /// # Example
    /// ```
    /// # use odoo_integration_model::Money;
    /// let a = Money::new(rust_decimal::Decimal::ONE, "EUR".parse()?);
    /// assert_eq!(a.checked_add(&a)?.amount(), rust_decimal::Decimal::TWO);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn checked_add(&self, other: &Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        let amount = self
            .amount
            .checked_add(other.amount)
            .ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }
}

impl std::str::FromStr for Money {
    type Err = MoneyError;
    /// Parses `"<amount> <CUR>"`, e.g. `"12.50 EUR"`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (amount, cur) = s
            .trim()
            .split_once(' ')
            .ok_or_else(|| MoneyError::InvalidAmount(s.to_owned()))?;
        let amount: Decimal = amount
            .parse()
            .map_err(|_| MoneyError::InvalidAmount(s.to_owned()))?;
        Ok(Money::new(amount, cur.trim().parse()?))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Errors from [`Money`] and [`Currency`].
///
/// # Example
/// ```
/// # use odoo_integration_model::{Currency, MoneyError};
/// assert!(matches!("EURO".parse::<Currency>(), Err(MoneyError::InvalidCurrency(_))));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// Two amounts in different currencies were combined.
    #[error("cannot add {left} to {right}: different currencies")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// Not a three-letter upper-case ISO 4217 code.
    #[error("invalid currency code `{0}`: expected three upper-case letters")]
    InvalidCurrency(String),
    /// Text that is not `"<amount> <CUR>"`.
    #[error("invalid money `{0}`: expected an amount and a currency code")]
    InvalidAmount(String),
    /// The result does not fit in a decimal.
    #[error("amount overflow")]
    Overflow,
}
