//! Canonical entities ⇄ HubSpot objects: which property holds which field,
//! how its text converts, and which associations are references.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::web::decimal;
use chrono::{DateTime, NaiveDate, Utc};
use odoo_integration_model::{ContractLine, Currency, Entity, FieldType, FieldValue, Money};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::str::FromStr;

/// How a HubSpot property's text (every value is a string on the wire)
/// becomes a canonical value, and back.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::{PropertyKind, PropertyMap};
/// let p = PropertyMap::new("amount", "amount")
///     .kind(PropertyKind::Money { currency_property: "deal_currency_code".into() });
/// assert!(matches!(p.kind, PropertyKind::Money { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum PropertyKind {
    /// Text as it is (also enum codes that match the canonical ones).
    #[default]
    Text,
    /// A number (`"1250.50"`) ⇄ an exact decimal.
    Number,
    /// A date or datetime property ⇄ a calendar date; written as midnight
    /// UTC, which is what HubSpot stores for date properties.
    Date,
    /// A datetime property ⇄ a UTC instant.
    DateTime,
    /// `"true"` / `"false"` ⇄ a flag.
    Bool,
    /// An amount ⇄ money, its currency in another property (an ISO code,
    /// e.g. `deal_currency_code`), or the connector's
    /// [`currency`](super::HubSpotConnector::currency) when that is empty.
    Money {
        /// The property with the currency code.
        currency_property: String,
    },
    /// This property is the first name; the two joined with a space are
    /// the canonical full name. Written back split at the first space.
    FullName {
        /// The last-name property (`lastname`).
        last_name_property: String,
    },
    /// Coded values: `(canonical code, HubSpot value)` pairs. A HubSpot
    /// value not listed reads as `otherwise`; a canonical code is written
    /// as the first HubSpot value paired with it.
    Codes {
        /// The pairs.
        pairs: Vec<(String, String)>,
        /// The canonical code of any other HubSpot value.
        otherwise: String,
    },
}

/// A canonical field ⇄ a HubSpot property.
///
/// # Example
///
/// ```
/// let p = odoo_integration_connectors::hubspot::PropertyMap::new("legal_name", "name");
/// assert_eq!(p.hubspot, "name");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyMap {
    /// The canonical field (dotted for nested ones).
    pub canonical: String,
    /// The HubSpot property (custom ones welcome).
    pub hubspot: String,
    /// How the value converts.
    pub kind: PropertyKind,
}

impl PropertyMap {
    /// A map of one text field.
    ///
    /// # Example
    ///
    /// ```
    /// let p = odoo_integration_connectors::hubspot::PropertyMap::new("address.city", "city");
    /// assert_eq!(p.canonical, "address.city");
    /// ```
    pub fn new(canonical: impl Into<String>, hubspot: impl Into<String>) -> Self {
        PropertyMap {
            canonical: canonical.into(),
            hubspot: hubspot.into(),
            kind: PropertyKind::Text,
        }
    }

    /// Sets how the value converts.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::hubspot::{PropertyKind, PropertyMap};
    /// let p = PropertyMap::new("close_date", "closedate").kind(PropertyKind::Date);
    /// assert_eq!(p.kind, PropertyKind::Date);
    /// ```
    #[must_use]
    pub fn kind(mut self, kind: PropertyKind) -> Self {
        self.kind = kind;
        self
    }

    /// Every HubSpot property this field is read from.
    pub(crate) fn sources(&self) -> impl Iterator<Item = &str> {
        let extra = match &self.kind {
            PropertyKind::Money { currency_property } => Some(currency_property.as_str()),
            PropertyKind::FullName { last_name_property } => Some(last_name_property.as_str()),
            _ => None,
        };
        std::iter::once(self.hubspot.as_str()).chain(extra)
    }
}

/// A reference field ⇄ an association (v4) to another object.
///
/// # Example
///
/// ```
/// let a = odoo_integration_connectors::hubspot::AssociationMap::new("client", "companies", "client").primary(1);
/// assert_eq!(a.primary_type_id, Some(1));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationMap {
    /// The canonical reference field (`client`).
    pub canonical: String,
    /// The associated object type (`companies`).
    pub object: String,
    /// The referenced canonical entity (`client`).
    pub entity: String,
    /// HubSpot's type id of the primary association of this pair (1 for
    /// contact → company, 5 for deal → company): when a record has several
    /// associations, the primary one is the reference; otherwise the
    /// lowest id.
    pub primary_type_id: Option<u32>,
}

impl AssociationMap {
    /// A reference through the associations to `object`.
    ///
    /// # Example
    ///
    /// ```
    /// let a = odoo_integration_connectors::hubspot::AssociationMap::new("client", "companies", "client");
    /// assert!(a.primary_type_id.is_none());
    /// ```
    pub fn new(
        canonical: impl Into<String>,
        object: impl Into<String>,
        entity: impl Into<String>,
    ) -> Self {
        AssociationMap {
            canonical: canonical.into(),
            object: object.into(),
            entity: entity.into(),
            primary_type_id: None,
        }
    }

    /// The primary association's type id.
    ///
    /// # Example
    ///
    /// ```
    /// let a = odoo_integration_connectors::hubspot::AssociationMap::new("client", "companies", "client").primary(5);
    /// assert_eq!(a.primary_type_id, Some(5));
    /// ```
    #[must_use]
    pub fn primary(mut self, type_id: u32) -> Self {
        self.primary_type_id = Some(type_id);
        self
    }
}

/// A rows field (`Opportunity::lines`) ⇄ line items associated with the
/// record: `name` ⇄ description, `quantity`, `price` ⇄ unit price (its
/// currency in `hs_line_item_currency_code`).
///
/// # Example
///
/// ```
/// let l = odoo_integration_connectors::hubspot::LineItemsMap::new("lines");
/// assert_eq!((l.object.as_str(), l.to_parent_type_id), ("line_items", 20));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineItemsMap {
    /// The canonical rows field.
    pub canonical: String,
    /// The line item object type (`line_items`).
    pub object: String,
    /// HubSpot's type id of the line item → parent association (20 for
    /// line item → deal), used when creating line items.
    pub to_parent_type_id: u32,
}

impl LineItemsMap {
    /// Line items of a deal.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::hubspot::LineItemsMap::new("lines").canonical, "lines");
    /// ```
    pub fn new(canonical: impl Into<String>) -> Self {
        LineItemsMap {
            canonical: canonical.into(),
            object: "line_items".into(),
            to_parent_type_id: 20,
        }
    }
}

/// A canonical entity ⇄ a HubSpot object type.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::hubspot::{ObjectMap, PropertyMap};
/// let mut deals = ObjectMap::deals();
/// deals.properties.push(PropertyMap::new("project_ref", "erp_project")); // your custom property
/// assert_eq!(deals.object, "deals");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMap {
    /// The canonical entity (`client`).
    pub entity: String,
    /// The object type in API paths (`companies`).
    pub object: String,
    /// Its name in webhook subscription types (`company`).
    pub event_name: String,
    /// Fields ⇄ properties.
    pub properties: Vec<PropertyMap>,
    /// Reference fields ⇄ associations.
    pub associations: Vec<AssociationMap>,
    /// A rows field ⇄ associated line items.
    pub line_items: Option<LineItemsMap>,
}

impl ObjectMap {
    /// An object map with no fields yet.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::hubspot::{ObjectMap, PropertyMap};
    /// let mut projects = ObjectMap::new("engagement", "p_projects", "p_projects");
    /// projects.properties.push(PropertyMap::new("name", "project_name"));
    /// assert_eq!(projects.entity, "engagement");
    /// ```
    pub fn new(
        entity: impl Into<String>,
        object: impl Into<String>,
        event_name: impl Into<String>,
    ) -> Self {
        ObjectMap {
            entity: entity.into(),
            object: object.into(),
            event_name: event_name.into(),
            properties: Vec::new(),
            associations: Vec::new(),
            line_items: None,
        }
    }

    /// Companies ⇄ clients.
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::hubspot::ObjectMap::companies();
    /// assert!(m.properties.iter().any(|p| p.canonical == "legal_name" && p.hubspot == "name"));
    /// ```
    pub fn companies() -> Self {
        let mut m = ObjectMap::new("client", "companies", "company");
        m.properties = company_properties();
        m
    }

    /// Contacts ⇄ contacts: `firstname` + `lastname` ⇄ name, email, phone,
    /// and the primary company association ⇄ client.
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::hubspot::ObjectMap::contacts();
    /// assert_eq!(m.associations[0].object, "companies");
    /// ```
    pub fn contacts() -> Self {
        let mut m = ObjectMap::new("contact", "contacts", "contact");
        m.properties = vec![
            PropertyMap::new("name", "firstname").kind(PropertyKind::FullName {
                last_name_property: "lastname".into(),
            }),
            PropertyMap::new("email", "email"),
            PropertyMap::new("phone", "phone"),
        ];
        m.associations = vec![AssociationMap::new("client", "companies", "client").primary(1)];
        m
    }

    /// Deals ⇄ opportunities: `dealname`, `amount` with
    /// `deal_currency_code`, `dealstage` (`closedwon` ⇄ won, `closedlost` ⇄
    /// lost, any other stage reads as open and open writes as
    /// `appointmentscheduled`, the default pipeline's first stage),
    /// `closedate`, the primary company ⇄ client, line items ⇄ lines. The
    /// ERP project reference (`project_ref`) is not mapped by default, as
    /// it needs a custom property; add one (see [`ObjectMap`]).
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::hubspot::ObjectMap::deals();
    /// assert!(m.line_items.is_some());
    /// ```
    pub fn deals() -> Self {
        let mut m = ObjectMap::new("opportunity", "deals", "deal");
        let stage = |c: &str, h: &str| (c.to_owned(), h.to_owned());
        m.properties = vec![
            PropertyMap::new("name", "dealname"),
            PropertyMap::new("amount", "amount").kind(PropertyKind::Money {
                currency_property: "deal_currency_code".into(),
            }),
            PropertyMap::new("stage", "dealstage").kind(PropertyKind::Codes {
                pairs: vec![
                    stage("won", "closedwon"),
                    stage("lost", "closedlost"),
                    stage("open", "appointmentscheduled"),
                ],
                otherwise: "open".into(),
            }),
            PropertyMap::new("close_date", "closedate").kind(PropertyKind::Date),
        ];
        m.associations = vec![AssociationMap::new("client", "companies", "client").primary(5)];
        m.line_items = Some(LineItemsMap::new("lines"));
        m
    }

    /// The HubSpot properties to ask for.
    pub(crate) fn read_properties(&self) -> Vec<String> {
        let mut p: Vec<String> = self
            .properties
            .iter()
            .flat_map(PropertyMap::sources)
            .map(str::to_owned)
            .collect();
        p.push("hs_lastmodifieddate".into());
        p.sort();
        p.dedup();
        p
    }

    /// The map of a HubSpot property, if mapped (as any of its sources).
    pub(crate) fn by_property(&self, property: &str) -> Option<&PropertyMap> {
        self.properties
            .iter()
            .find(|m| m.sources().any(|s| s == property))
    }
}

/// The built-in map of companies to clients.
///
/// # Example
///
/// ```
/// let m = odoo_integration_connectors::hubspot::company_properties();
/// assert!(m.iter().any(|p| p.canonical == "legal_name" && p.hubspot == "name"));
/// ```
pub fn company_properties() -> Vec<PropertyMap> {
    [
        ("legal_name", "name"),
        ("website", "website"),
        ("industry", "industry"),
        ("address.street", "address"),
        ("address.city", "city"),
        ("address.postal_code", "zip"),
        ("address.country", "country"),
    ]
    .into_iter()
    .map(|(c, h)| PropertyMap::new(c, h))
    .collect()
}

/// A property value as text; absent, null and empty are all no value.
fn text<'a>(props: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    props
        .get(name)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// A date or instant as HubSpot writes it: ISO 8601 (with or without a
/// time) or epoch milliseconds.
pub(crate) fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    if let Ok(ms) = raw.parse::<i64>() {
        return DateTime::<Utc>::from_timestamp_millis(ms);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Reads one field's value from a record's properties. `Err` names what
/// could not be read; the caller leaves that field out of the change.
pub(crate) fn decode(
    m: &PropertyMap,
    props: &Map<String, Value>,
    currency: Currency,
) -> std::result::Result<FieldValue, String> {
    let raw = text(props, &m.hubspot);
    let bad = |what: &str| format!("{} `{}` is not {what}", m.hubspot, raw.unwrap_or_default());
    Ok(match (&m.kind, raw) {
        (PropertyKind::FullName { last_name_property }, first) => {
            let name = [first, text(props, last_name_property)]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            FieldValue::Text(name)
        }
        (PropertyKind::Codes { otherwise, .. }, None) => FieldValue::Text(otherwise.clone()),
        (_, None) => FieldValue::Null,
        (PropertyKind::Text, Some(t)) => FieldValue::Text(t.to_owned()),
        (PropertyKind::Number, Some(t)) => {
            FieldValue::Decimal(decimal(t).ok_or_else(|| bad("a number"))?)
        }
        (PropertyKind::Bool, Some(t)) => match t {
            "true" => FieldValue::Bool(true),
            "false" => FieldValue::Bool(false),
            _ => return Err(bad("true or false")),
        },
        (PropertyKind::Date, Some(t)) => {
            FieldValue::Date(parse_instant(t).ok_or_else(|| bad("a date"))?.date_naive())
        }
        (PropertyKind::DateTime, Some(t)) => {
            FieldValue::DateTime(parse_instant(t).ok_or_else(|| bad("a date and time"))?)
        }
        (PropertyKind::Money { currency_property }, Some(t)) => {
            let amount = decimal(t).ok_or_else(|| bad("an amount"))?;
            let currency = match text(props, currency_property) {
                Some(code) => Currency::from_str(code)
                    .map_err(|_| format!("{currency_property} `{code}` is not a currency"))?,
                None => currency,
            };
            FieldValue::Money(Money::new(amount, currency))
        }
        (PropertyKind::Codes { pairs, otherwise }, Some(t)) => {
            let code = pairs
                .iter()
                .find(|(_, h)| h == t)
                .map_or(otherwise.as_str(), |(c, _)| c.as_str());
            FieldValue::Text(code.to_owned())
        }
    })
}

/// Writes one field's value as HubSpot properties (two for money and full
/// names). An empty value clears the property.
pub(crate) fn encode(
    m: &PropertyMap,
    value: &FieldValue,
    out: &mut Map<String, Value>,
) -> Result<()> {
    let s = |t: String| Value::String(t);
    match (&m.kind, value) {
        (_, FieldValue::Null) => {
            for p in m.sources() {
                out.insert(p.to_owned(), s(String::new()));
            }
        }
        (PropertyKind::FullName { last_name_property }, FieldValue::Text(name)) => {
            let name = name.trim();
            let (first, last) = name.split_once(char::is_whitespace).unwrap_or((name, ""));
            out.insert(m.hubspot.clone(), s(first.to_owned()));
            out.insert(last_name_property.clone(), s(last.trim().to_owned()));
        }
        (PropertyKind::Money { currency_property }, FieldValue::Money(money)) => {
            out.insert(m.hubspot.clone(), s(money.amount().to_string()));
            out.insert(
                currency_property.clone(),
                s(money.currency().as_str().to_owned()),
            );
        }
        (PropertyKind::Date, FieldValue::Date(d)) => {
            out.insert(
                m.hubspot.clone(),
                s(format!("{}T00:00:00.000Z", d.format("%Y-%m-%d"))),
            );
        }
        (PropertyKind::DateTime, FieldValue::DateTime(t)) => {
            out.insert(
                m.hubspot.clone(),
                s(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)),
            );
        }
        (PropertyKind::Codes { pairs, .. }, FieldValue::Text(code)) => {
            let value = pairs.iter().find(|(c, _)| c == code).ok_or_else(|| {
                ConnectorError::new(
                    ConnectorErrorKind::Mapping,
                    format!("{}: no HubSpot value for `{code}`", m.hubspot),
                )
            })?;
            out.insert(m.hubspot.clone(), s(value.1.clone()));
        }
        (_, v) => {
            out.insert(m.hubspot.clone(), s(v.to_string()));
        }
    }
    Ok(())
}

/// Sets a decoded value on a record.
pub(crate) fn set_field<E: Entity>(record: &mut E, field: &str, value: FieldValue) -> Result<()> {
    record.set(field, value).map_err(|e| {
        ConnectorError::new(
            ConnectorErrorKind::Configuration,
            format!("{}: {e}", E::NAME),
        )
    })
}

/// A line item as a contract line.
pub(crate) fn decode_line(
    id: &str,
    props: &Map<String, Value>,
    currency: Currency,
) -> ContractLine {
    let currency = text(props, "hs_line_item_currency_code")
        .and_then(|c| Currency::from_str(c).ok())
        .unwrap_or(currency);
    ContractLine {
        id: id.to_owned(),
        description: text(props, "name").unwrap_or_default().to_owned(),
        quantity: text(props, "quantity")
            .and_then(decimal)
            .unwrap_or(Decimal::ONE),
        unit_price: text(props, "price")
            .and_then(decimal)
            .map(|p| Money::new(p, currency)),
    }
}

/// The properties of a new line item.
pub(crate) fn encode_line(line: &ContractLine) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("name".into(), Value::String(line.description.clone()));
    out.insert("quantity".into(), Value::String(line.quantity.to_string()));
    if let Some(price) = &line.unit_price {
        out.insert("price".into(), Value::String(price.amount().to_string()));
        out.insert(
            "hs_line_item_currency_code".into(),
            Value::String(price.currency().as_str().to_owned()),
        );
    }
    out
}

/// The line item properties to read.
pub(crate) const LINE_PROPERTIES: [&str; 4] =
    ["name", "quantity", "price", "hs_line_item_currency_code"];

/// Rows as contract lines.
pub(crate) fn lines_of(value: FieldValue) -> Result<Vec<ContractLine>> {
    Vec::<ContractLine>::from_value(value)
        .map_err(|e| ConnectorError::new(ConnectorErrorKind::Mapping, format!("line items: {e}")))
}
