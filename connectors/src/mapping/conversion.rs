//! How a value converts between a canonical field and a vendor field.

use super::FieldMap;
use serde_json::{Map, Value};

/// How a canonical field's value travels to and from a vendor field.
///
/// Every connector reads and writes the same conversions; only their wire
/// form differs (Odoo writes an empty value as `false` and a date as
/// `2026-05-01`, HubSpot as `""` and `2026-05-01T00:00:00.000Z`). A few
/// are read by one connector only: [`Lookup`](Conversion::Lookup) and
/// [`Rows`](Conversion::Rows) by Odoo's, [`EmploymentStatus`](Conversion::EmploymentStatus)
/// by BambooHR's; another connector reports them as a configuration error.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::mapping::Conversion;
/// let k = Conversion::reference("client");
/// assert!(matches!(k, Conversion::Reference { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Conversion {
    /// Text as it is (also coded values that match the canonical codes).
    /// Empty vendor text reads as no value.
    #[default]
    Text,
    /// A flag.
    Bool,
    /// A number as an exact decimal (hours, quantities). Never a float on
    /// our side.
    Number,
    /// A monetary amount. Its currency is read from `currency_field` (an
    /// ISO code; for Odoo the many2one whose display name is the code),
    /// else from the amount itself (BambooHR's `85.00 USD`), else the
    /// connector's currency. On write the currency is written to
    /// `currency_field` where the vendor takes it (HubSpot, Salesforce;
    /// Odoo keeps a record's currency, so only the amount is sent).
    Money {
        /// The field with the currency, e.g. `currency_id` or
        /// `deal_currency_code`.
        currency_field: Option<String>,
    },
    /// A calendar date.
    Date,
    /// An instant, UTC on the wire.
    DateTime,
    /// A canonical date in a vendor datetime field: written as midnight
    /// UTC, read as its UTC date (`sale.order.signed_on` for a contract's
    /// signing date).
    DateInDateTime,
    /// A canonical instant in a vendor date field: written as its UTC
    /// date, read as midnight UTC (a payment's date).
    InstantInDate,
    /// This field is the first name; joined with a space to the
    /// `last_name_field`, the two are the canonical full name. Written
    /// back split at the first space.
    FullName {
        /// The last-name field (`lastname`, `lastName`).
        last_name_field: String,
    },
    /// Coded values (a picklist, a selection, an enum): `(canonical code,
    /// vendor value)` pairs. A canonical code is written as the first
    /// vendor value paired with it, and one not listed is an error. A
    /// vendor value not listed reads as `otherwise`, or is an error when
    /// there is none; an empty one reads as `otherwise` or no value.
    Codes {
        /// The pairs.
        pairs: Vec<(String, String)>,
        /// The canonical code of any other vendor value.
        otherwise: Option<String>,
    },
    /// A boolean for a coded field: written `true` when the code is one of
    /// `true_for`, read back as `read_true` or `read_false`. An employee's
    /// status is Odoo's `active` (terminated ⇄ archived); a timesheet
    /// line's approval can be a boolean such as Enterprise's `validated`
    /// or a custom `x_approved` (see [`Conversion::approval_flag`]).
    Flag {
        /// The codes written as `true`.
        true_for: Vec<String>,
        /// The code `true` reads as.
        read_true: String,
        /// The code `false` reads as.
        read_false: String,
    },
    /// An employment status from `Active`/`Inactive` text and a
    /// termination date: `Inactive`, or a termination date on or before
    /// today, is terminated (BambooHR's `status`). Read only.
    EmploymentStatus {
        /// The termination date field, e.g. `terminationDate`.
        termination_date_field: String,
    },
    /// Another synced record (an Odoo many2one, a BambooHR supervisor id):
    /// the canonical id ⇄ the vendor's id through the cross-references.
    Reference {
        /// The referenced entity's name.
        entity: String,
    },
    /// An Odoo many2one to a lookup table, matched by a key field (a
    /// country by `code`, a department by `name`). With `create`, a missing
    /// key is created (`{key: value}`), else it is an error.
    Lookup {
        /// The related model.
        model: String,
        /// Its key field.
        key: String,
        /// Create what is missing.
        create: bool,
    },
    /// Child rows (an invoice's or an order's lines, an Odoo one2many) for
    /// a canonical list field. Each child field maps like a top-level one
    /// (plain conversions and references; no lookups); the child's
    /// canonical `id` is the vendor's line id on read. Odoo reads them with
    /// one extra `read` per page and writes them as a whole: the old lines
    /// are removed and the new ones created in the same write (commands 5
    /// and 0), so the lines have one owner, like any field.
    Rows {
        /// The child model, e.g. `account.move.line`.
        model: String,
        /// The child field maps.
        fields: Vec<FieldMap>,
        /// Values written on every new row (a service product, an account).
        defaults: Map<String, Value>,
    },
}

impl Conversion {
    /// Money, in the connector's currency (or the one the amount carries).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::Conversion;
    /// assert_eq!(Conversion::money(), Conversion::Money { currency_field: None });
    /// ```
    pub fn money() -> Self {
        Conversion::Money {
            currency_field: None,
        }
    }

    /// Money with its currency code in `currency_field`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::Conversion;
    /// let m = Conversion::money_in("currency_id");
    /// assert_eq!(m, Conversion::Money { currency_field: Some("currency_id".into()) });
    /// ```
    pub fn money_in(currency_field: impl Into<String>) -> Self {
        Conversion::Money {
            currency_field: Some(currency_field.into()),
        }
    }

    /// A full name: this field the first name, `last_name_field` the last.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::Conversion;
    /// assert!(matches!(Conversion::full_name("lastName"), Conversion::FullName { .. }));
    /// ```
    pub fn full_name(last_name_field: impl Into<String>) -> Self {
        Conversion::FullName {
            last_name_field: last_name_field.into(),
        }
    }

    /// Coded values, `(canonical code, vendor value)`; any other vendor
    /// value is an error.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::Conversion;
    /// let c = Conversion::codes([("won", "Closed Won"), ("lost", "Closed Lost")]);
    /// assert!(matches!(c, Conversion::Codes { otherwise: None, .. }));
    /// ```
    pub fn codes<C: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (C, V)>,
    ) -> Self {
        Conversion::Codes {
            pairs: pairs
                .into_iter()
                .map(|(c, v)| (c.into(), v.into()))
                .collect(),
            otherwise: None,
        }
    }

    /// Coded values, any other (or empty) vendor value read as `otherwise`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::Conversion;
    /// let c = Conversion::codes_or([("won", "closedwon")], "open");
    /// assert!(matches!(c, Conversion::Codes { otherwise: Some(o), .. } if o == "open"));
    /// ```
    pub fn codes_or<C: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (C, V)>,
        otherwise: impl Into<String>,
    ) -> Self {
        match Conversion::codes(pairs) {
            Conversion::Codes { pairs, .. } => Conversion::Codes {
                pairs,
                otherwise: Some(otherwise.into()),
            },
            other => other,
        }
    }

    /// A reference to another synced entity's record.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::Conversion;
    /// assert_eq!(Conversion::reference("employee"), Conversion::Reference { entity: "employee".into() });
    /// ```
    pub fn reference(entity: impl Into<String>) -> Self {
        Conversion::Reference {
            entity: entity.into(),
        }
    }

    /// An Odoo lookup table, matched by `key` (see [`Conversion::Lookup`]).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::Conversion;
    /// assert!(matches!(Conversion::lookup("res.country", "code", false), Conversion::Lookup { create: false, .. }));
    /// ```
    pub fn lookup(model: impl Into<String>, key: impl Into<String>, create: bool) -> Self {
        Conversion::Lookup {
            model: model.into(),
            key: key.into(),
            create,
        }
    }

    /// Child rows of `model`, each field mapped by `fields`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::{Conversion, FieldMap};
    /// let lines = Conversion::rows("sale.order.line", vec![FieldMap::text("description", "name")]);
    /// assert!(matches!(lines, Conversion::Rows { .. }));
    /// ```
    pub fn rows(model: impl Into<String>, fields: Vec<FieldMap>) -> Self {
        Conversion::Rows {
            model: model.into(),
            fields,
            defaults: Map::new(),
        }
    }

    /// An employment status from `status` text and a termination date
    /// field (see [`Conversion::EmploymentStatus`]).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::mapping::Conversion;
    /// assert!(matches!(Conversion::employment_status("terminationDate"), Conversion::EmploymentStatus { .. }));
    /// ```
    pub fn employment_status(termination_date_field: impl Into<String>) -> Self {
        Conversion::EmploymentStatus {
            termination_date_field: termination_date_field.into(),
        }
    }

    /// An approval state from a boolean field: approved ⇄ `true`, anything
    /// else ⇄ `false` (read back as submitted). Odoo Community has no
    /// approval on timesheet lines: add a boolean (`x_approved`, with
    /// Studio or a module) or use Enterprise's `validated`, and map it:
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    /// let timesheets = ModelMap::timesheet_entry().field("approval", "x_approved", Conversion::approval_flag());
    /// assert_eq!(timesheets.odoo_field("approval"), Some("x_approved"));
    /// ```
    pub fn approval_flag() -> Self {
        Conversion::Flag {
            true_for: vec!["approved".into()],
            read_true: "approved".into(),
            read_false: "submitted".into(),
        }
    }

    /// An employment status as `active`: a terminated employee is
    /// archived, any other status is active (and reads back as active).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    /// let m = ModelMap::employee();
    /// let status = m.fields.iter().find(|f| f.canonical == "status").unwrap();
    /// assert_eq!((status.vendor.as_str(), &status.conversion), ("active", &Conversion::active_unless_terminated()));
    /// ```
    pub fn active_unless_terminated() -> Self {
        Conversion::Flag {
            true_for: vec!["active".into(), "on-leave".into()],
            read_true: "active".into(),
            read_false: "terminated".into(),
        }
    }

    /// A short name for messages.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Conversion::Text => "text",
            Conversion::Bool => "bool",
            Conversion::Number => "number",
            Conversion::Money { .. } => "money",
            Conversion::Date => "date",
            Conversion::DateTime => "datetime",
            Conversion::DateInDateTime => "date in a datetime",
            Conversion::InstantInDate => "instant in a date",
            Conversion::FullName { .. } => "full name",
            Conversion::Codes { .. } => "codes",
            Conversion::Flag { .. } => "flag",
            Conversion::EmploymentStatus { .. } => "employment status",
            Conversion::Reference { .. } => "reference",
            Conversion::Lookup { .. } => "lookup",
            Conversion::Rows { .. } => "rows",
        }
    }
}
