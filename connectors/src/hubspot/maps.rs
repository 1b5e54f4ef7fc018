//! Canonical entities ⇄ HubSpot objects: which property holds which field
//! (a shared [`FieldMap`]), HubSpot's wire form of the values, and which
//! associations are references.

use super::{OwnerMap, StageMap};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::mapping::{self, Context, Conversion, ConversionError, Decoded, FieldMap, Wire};
use crate::web::decimal;
use chrono::{DateTime, NaiveDate, Utc};
use odoo_integration_model::{ContractLine, Currency, Entity, FieldType, FieldValue, Money};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::str::FromStr;

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
/// currency in `hs_line_item_currency_code`), `hs_sku` ⇄ the product's
/// code (a line item made from a product in HubSpot carries the
/// product's SKU).
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
/// use odoo_integration_connectors::hubspot::{FieldMap, ObjectMap};
/// let mut deals = ObjectMap::deals();
/// deals.properties.push(FieldMap::text("project_ref", "erp_project")); // your custom property
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
    pub properties: Vec<FieldMap>,
    /// Reference fields ⇄ associations.
    pub associations: Vec<AssociationMap>,
    /// A rows field ⇄ associated line items.
    pub line_items: Option<LineItemsMap>,
    /// An open/won/lost field ⇄ the record's stage in its pipeline
    /// (deals), told by the pipeline's stage metadata.
    pub stages: Option<StageMap>,
    /// An email field ⇄ the record's owner (`hubspot_owner_id`), through
    /// the owners API.
    pub owner: Option<OwnerMap>,
}

impl ObjectMap {
    /// An object map with no fields yet.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::hubspot::{FieldMap, ObjectMap};
    /// let mut projects = ObjectMap::new("engagement", "p_projects", "p_projects");
    /// projects.properties.push(FieldMap::text("name", "project_name"));
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
            stages: None,
            owner: None,
        }
    }

    /// Companies ⇄ clients.
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::hubspot::ObjectMap::companies();
    /// assert!(m.properties.iter().any(|p| p.canonical == "legal_name" && p.vendor == "name"));
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
            FieldMap::new("name", "firstname", Conversion::full_name("lastname")),
            FieldMap::text("email", "email"),
            FieldMap::text("phone", "phone"),
        ];
        m.associations = vec![AssociationMap::new("client", "companies", "client").primary(1)];
        m
    }

    /// Deals ⇄ opportunities: `dealname`, `amount` with
    /// `deal_currency_code`, the stage (won, lost or open by the deal's
    /// pipeline's stage metadata, see [`StageMap`]; new deals in the
    /// default pipeline), `closedate`, the owner (`hubspot_owner_id`) ⇄
    /// the owner's email (see [`OwnerMap`]), the primary company ⇄
    /// client, line items ⇄ lines (`hs_sku` ⇄ a line's product code). The
    /// ERP project reference (`project_ref`) is not
    /// mapped by default, as it needs a custom property; add one (see
    /// [`ObjectMap`]).
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::hubspot::ObjectMap::deals();
    /// assert!(m.line_items.is_some());
    /// assert_eq!(m.stages.unwrap().pipeline_property, "pipeline");
    /// ```
    pub fn deals() -> Self {
        let mut m = ObjectMap::new("opportunity", "deals", "deal");
        m.properties = vec![
            FieldMap::text("name", "dealname"),
            FieldMap::new(
                "amount",
                "amount",
                Conversion::money_in("deal_currency_code"),
            ),
            FieldMap::new("close_date", "closedate", Conversion::Date),
        ];
        m.associations = vec![AssociationMap::new("client", "companies", "client").primary(5)];
        m.line_items = Some(LineItemsMap::new("lines"));
        m.stages = Some(StageMap::deals());
        m.owner = Some(OwnerMap::deals());
        m
    }

    /// The property that holds when a record last changed, which reads
    /// search by: `lastmodifieddate` on contacts, `hs_lastmodifieddate` on
    /// every other object (contacts have no searchable
    /// `hs_lastmodifieddate`).
    pub(crate) fn modified_property(&self) -> &'static str {
        if self.object == "contacts" {
            "lastmodifieddate"
        } else {
            "hs_lastmodifieddate"
        }
    }

    /// The HubSpot properties to ask for.
    pub(crate) fn read_properties(&self) -> Vec<String> {
        let mut p: Vec<String> = self
            .properties
            .iter()
            .flat_map(FieldMap::sources)
            .map(str::to_owned)
            .collect();
        p.push(self.modified_property().into());
        if let Some(s) = &self.stages {
            p.push(s.stage_property.clone());
            p.push(s.pipeline_property.clone());
        }
        if let Some(o) = &self.owner {
            p.push(o.property.clone());
        }
        p.sort();
        p.dedup();
        p
    }

    /// The map of a HubSpot property, if mapped (as any of its sources).
    pub(crate) fn by_property(&self, property: &str) -> Option<&FieldMap> {
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
/// assert!(m.iter().any(|p| p.canonical == "legal_name" && p.vendor == "name"));
/// ```
pub fn company_properties() -> Vec<FieldMap> {
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
    .map(|(c, h)| FieldMap::text(c, h))
    .collect()
}

/// A property value as text; absent, null and empty are all no value.
pub(crate) fn text<'a>(props: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
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

/// HubSpot's wire: every property value is a string (`""` is no value),
/// numbers printed exactly, dates as midnight UTC and instants as
/// RFC 3339 with milliseconds; read back also from epoch milliseconds.
struct HubSpotWire;

impl Wire for HubSpotWire {
    type Value = Value;
    fn empty(&self) -> Value {
        Value::String(String::new())
    }
    fn text(&self, text: String) -> Value {
        Value::String(text)
    }
    fn number(&self, n: Decimal) -> std::result::Result<Value, ConversionError> {
        Ok(Value::String(n.to_string()))
    }
    fn boolean(&self, b: bool) -> Value {
        Value::String(b.to_string())
    }
    fn date(&self, d: NaiveDate) -> Value {
        Value::String(format!("{}T00:00:00.000Z", d.format("%Y-%m-%d")))
    }
    fn datetime(&self, t: DateTime<Utc>) -> Value {
        Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    }
    fn lenient(&self) -> bool {
        true
    }
    fn read_text<'a>(
        &self,
        v: Option<&'a Value>,
    ) -> std::result::Result<Option<Cow<'a, str>>, ConversionError> {
        Ok(v.and_then(Value::as_str)
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(Cow::Borrowed))
    }
    fn read_number(
        &self,
        v: Option<&Value>,
    ) -> std::result::Result<Option<Decimal>, ConversionError> {
        self.read_parsed(v, "a number", mapping::decode_decimal)
    }
    fn read_bool(&self, v: Option<&Value>) -> std::result::Result<Option<bool>, ConversionError> {
        self.read_parsed(v, "true or false", |t| match t {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        })
    }
    fn read_date(
        &self,
        v: Option<&Value>,
    ) -> std::result::Result<Option<NaiveDate>, ConversionError> {
        self.read_parsed(v, "a date", |t| parse_instant(t).map(|t| t.date_naive()))
    }
    fn read_datetime(
        &self,
        v: Option<&Value>,
    ) -> std::result::Result<Option<DateTime<Utc>>, ConversionError> {
        self.read_parsed(v, "a date and time", parse_instant)
    }
}

/// Reads one field's value from a record's properties. `Err` names what
/// could not be read; the caller leaves that field out of the change.
pub(crate) fn decode(
    m: &FieldMap,
    props: &Map<String, Value>,
    currency: Currency,
) -> std::result::Result<FieldValue, ConversionError> {
    match mapping::decode(&HubSpotWire, m, props, Context::new(currency))? {
        Decoded::Value(v) => Ok(v),
        Decoded::Reference(..) => Err(ConversionError::new(
            mapping::ConversionErrorKind::Unsupported,
            format!("{}: map references as associations", m.vendor),
        )),
    }
}

/// Writes one field's value as HubSpot properties (two for money and full
/// names). An empty value clears the property.
pub(crate) fn encode(m: &FieldMap, value: FieldValue, out: &mut Map<String, Value>) -> Result<()> {
    mapping::encode(&HubSpotWire, m, value, &mut |k, v| {
        out.insert(k.to_owned(), v);
    })?;
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
        product: text(props, "hs_sku").map(str::to_owned),
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
    if let Some(sku) = line
        .product
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        out.insert("hs_sku".into(), Value::String(sku.to_owned()));
    }
    out
}

/// The line item properties to read.
pub(crate) const LINE_PROPERTIES: [&str; 5] = [
    "name",
    "quantity",
    "price",
    "hs_line_item_currency_code",
    "hs_sku",
];

/// Rows as contract lines.
pub(crate) fn lines_of(value: FieldValue) -> Result<Vec<ContractLine>> {
    Vec::<ContractLine>::from_value(value)
        .map_err(|e| ConnectorError::new(ConnectorErrorKind::Mapping, format!("line items: {e}")))
}
