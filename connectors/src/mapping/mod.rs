//! One mapping vocabulary for every connector: a [`FieldMap`] says which
//! vendor field holds a canonical field and, with a [`Conversion`], how
//! the value converts, both ways.
//!
//! The conversions (text, number, money with its currency field, dates and
//! instants, a full name from two fields, coded values, references to other
//! records, child rows) are written once, here. Each connector supplies
//! only its wire encoding where it differs: Odoo's `false` for an empty
//! value and its `[id, name]` many2ones, HubSpot's string-typed properties
//! and millisecond timestamps, Salesforce's JSON fields, BambooHR's date
//! strings and amounts with their currency code.
//!
//! A custom field is one map entry on the connector that owns it:
//!
//! ```
//! use odoo_integration_connectors::mapping::{Conversion, FieldMap};
//!
//! // HubSpot: a custom company property.
//! let tax_id = FieldMap::text("tax_id", "vat_number");
//! // Salesforce: a custom Account field.
//! let tax_id_sf = FieldMap::text("tax_id", "VAT_Number__c");
//! // BambooHR: a custom field alias holding an amount.
//! let bill_rate = FieldMap::new("bill_rate", "customBillRate", Conversion::money());
//! // Odoo: a custom `x_` field on a model.
//! let sector = FieldMap::new("industry", "x_sector", Conversion::Text);
//! assert_eq!(
//!     [&tax_id.vendor, &tax_id_sf.vendor, &bill_rate.vendor, &sector.vendor],
//!     ["vat_number", "VAT_Number__c", "customBillRate", "x_sector"]
//! );
//! ```
//!
//! Each connector's builder takes these maps: `HubSpotConnector::company_map`
//! and `ObjectMap::properties` (HubSpot), `SalesforceBuilder::account_map`
//! and `contact_map` (Salesforce), `BambooHrConnector::field` and `fields`
//! (BambooHR), and `ModelMap::field` (Odoo, whose `ModelMap` also names the
//! model, its domain and defaults). Every vendor module re-exports
//! [`FieldMap`] and [`Conversion`].

mod codec;
mod conversion;
mod error;
#[cfg(test)]
mod tests;

#[cfg_attr(
    not(all(
        feature = "odoo",
        feature = "hubspot",
        feature = "salesforce",
        feature = "bamboohr"
    )),
    allow(unused_imports)
)]
pub(crate) use codec::{Context, Decoded, Fields, Wire, decode, decode_decimal, encode};
pub use conversion::Conversion;
pub use error::{ConversionError, ConversionErrorKind};

/// One canonical field ⇄ one vendor field, and how the value converts.
///
/// `vendor` is the field's name in the vendor's API (an Odoo field, a
/// HubSpot property, a Salesforce API name, a BambooHR field or alias);
/// custom fields are welcome. Some conversions read more than one vendor
/// field (money's currency field, a full name's last-name field): see
/// [`FieldMap::sources`].
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::mapping::{Conversion, FieldMap};
/// let f = FieldMap::new("amount", "amount", Conversion::money_in("deal_currency_code"));
/// assert_eq!(f.sources().collect::<Vec<_>>(), ["amount", "deal_currency_code"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap {
    /// The canonical field (dotted for nested ones: `address.city`).
    pub canonical: String,
    /// The vendor's field.
    pub vendor: String,
    /// How values convert.
    pub conversion: Conversion,
    /// Read, never written (computed fields such as Odoo's `amount_total`).
    pub read_only: bool,
}

impl FieldMap {
    /// A read-write field.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::{Conversion, FieldMap};
    /// let f = FieldMap::new("close_date", "closedate", Conversion::Date);
    /// assert!(!f.read_only);
    /// ```
    pub fn new(
        canonical: impl Into<String>,
        vendor: impl Into<String>,
        conversion: Conversion,
    ) -> Self {
        FieldMap {
            canonical: canonical.into(),
            vendor: vendor.into(),
            conversion,
            read_only: false,
        }
    }

    /// A read-write text field.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::{Conversion, FieldMap};
    /// let f = FieldMap::text("work_phone", "workPhone");
    /// assert_eq!(f.conversion, Conversion::Text);
    /// ```
    pub fn text(canonical: impl Into<String>, vendor: impl Into<String>) -> Self {
        FieldMap::new(canonical, vendor, Conversion::Text)
    }

    /// A field that is read but never written.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::{Conversion, FieldMap};
    /// assert!(FieldMap::read_only("total", "amount_total", Conversion::money()).read_only);
    /// ```
    pub fn read_only(
        canonical: impl Into<String>,
        vendor: impl Into<String>,
        conversion: Conversion,
    ) -> Self {
        FieldMap {
            read_only: true,
            ..FieldMap::new(canonical, vendor, conversion)
        }
    }

    /// Every vendor field the value is read from: `vendor`, then the
    /// currency field of money, the last-name field of a full name, or the
    /// termination date of an employment status.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::{Conversion, FieldMap};
    /// let name = FieldMap::new("name", "firstname", Conversion::full_name("lastname"));
    /// assert_eq!(name.sources().collect::<Vec<_>>(), ["firstname", "lastname"]);
    /// ```
    pub fn sources(&self) -> impl Iterator<Item = &str> {
        let extra = match &self.conversion {
            Conversion::Money {
                currency_field: Some(c),
            } => Some(c.as_str()),
            Conversion::FullName { last_name_field } => Some(last_name_field.as_str()),
            Conversion::EmploymentStatus {
                termination_date_field,
            } => Some(termination_date_field.as_str()),
            _ => None,
        };
        std::iter::once(self.vendor.as_str()).chain(extra)
    }
}
