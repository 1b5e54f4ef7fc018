//! Canonical entities ⇄ sObjects.

// The sealed trait's methods take crate-private types on purpose: users
// name `SObject`, never call these.
#![allow(private_interfaces)]

use super::soql::Record;
use super::wire::SalesforceWire;
use crate::connector::{Reference, SinkRecord};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::mapping::{self as shared, Context, ConversionError, FieldMap};
use odoo_integration_model::{
    CanonicalId, ClientCompany, Contact, ContractLine, Currency, Entity, FieldValue, Money,
    Opportunity, OpportunityStage, RemoteId, SystemId,
};
use serde_json::value::RawValue;
use std::collections::BTreeMap;

/// The built-in map of Account fields to [`ClientCompany`] fields (all text).
///
/// # Example
///
/// ```
/// let m = odoo_integration_connectors::salesforce::account_fields();
/// assert!(m.iter().any(|f| f.canonical == "address.city" && f.vendor == "BillingCity"));
/// ```
pub fn account_fields() -> Vec<FieldMap> {
    [
        ("legal_name", "Name"),
        ("industry", "Industry"),
        ("website", "Website"),
        ("address.street", "BillingStreet"),
        ("address.city", "BillingCity"),
        ("address.postal_code", "BillingPostalCode"),
        ("address.country", "BillingCountry"),
    ]
    .into_iter()
    .map(|(c, s)| FieldMap::text(c, s))
    .collect()
}

/// The built-in map of Contact text fields to [`Contact`] fields, besides
/// the name (`Name` read; `FirstName` / `LastName` written) and `AccountId`.
///
/// # Example
///
/// ```
/// let m = odoo_integration_connectors::salesforce::contact_fields();
/// assert!(m.iter().any(|f| f.vendor == "Email"));
/// ```
pub fn contact_fields() -> Vec<FieldMap> {
    [("email", "Email"), ("phone", "Phone")]
        .into_iter()
        .map(|(c, s)| FieldMap::text(c, s))
        .collect()
}

/// The connector's mapping settings.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) accounts: Vec<FieldMap>,
    pub(crate) contacts: Vec<FieldMap>,
    pub(crate) currency: Currency,
    pub(crate) multi_currency: bool,
    pub(crate) stage_open: String,
    pub(crate) stage_won: String,
    pub(crate) stage_lost: String,
    pub(crate) project_field: Option<String>,
    /// More Opportunity fields (custom ones), besides the built-in ones.
    pub(crate) opportunities: Vec<FieldMap>,
    /// The `PricebookEntryId` of every written line item; `None`: lines
    /// are not written.
    pub(crate) line_entry: Option<String>,
    /// Maps of other entities to sObjects, by entity.
    pub(crate) objects: BTreeMap<String, super::ObjectMap>,
}

/// Fields to send, each as raw JSON.
pub(crate) type Fields = BTreeMap<String, Box<RawValue>>;

pub(crate) fn raw_text(text: Option<&str>) -> Box<RawValue> {
    let json = match text {
        Some(t) => serde_json::to_string(t).unwrap_or_else(|_| "null".to_owned()),
        None => "null".to_owned(),
    };
    RawValue::from_string(json).unwrap_or_default()
}

/// JSON `null`: clears a field.
pub(crate) fn null() -> Box<RawValue> {
    Box::<RawValue>::default()
}

fn raw_decimal(d: rust_decimal::Decimal) -> Result<Box<RawValue>> {
    RawValue::from_string(d.normalize().to_string()).map_err(|e| {
        ConnectorError::new(ConnectorErrorKind::Mapping, format!("amount {d}: {e}"))
            .with_system(SystemId::salesforce())
    })
}

fn mapping(message: String) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::Mapping, message).with_system(SystemId::salesforce())
}

pub(super) fn set(entity: &mut impl Entity, field: &str, value: FieldValue) -> Result<()> {
    entity.set(field, value).map_err(|e| {
        ConnectorError::new(ConnectorErrorKind::Configuration, format!("field map: {e}"))
            .with_system(SystemId::salesforce())
    })
}

/// What a decoded record says besides its fields.
pub(crate) struct Decoded<E> {
    pub(crate) record: E,
    pub(crate) refs: Vec<(String, Reference)>,
    pub(crate) fields: Vec<String>,
}

pub(crate) mod sealed {
    use super::*;

    /// How an entity maps to its sObject. Sealed: implemented here for
    /// the entities the connector knows.
    #[allow(unreachable_pub)]
    pub trait Mapped: Entity + Send + Sync + 'static {
        /// The sObject's API name (for an entity mapped by an
        /// [`ObjectMap`](super::super::ObjectMap), the map's; `None`
        /// when it has none).
        fn sobject(settings: &Settings) -> Option<&str>;
        /// Child relationships selected by sub-query.
        const CHILDREN: &'static [&'static str] = &[];
        /// The fields (and sub-queries) to select, besides `Id` and
        /// `SystemModstamp`.
        fn select(settings: &Settings) -> Vec<String>;
        /// A record of the query answer as the entity.
        fn decode(record: &Record, id: &str, settings: &Settings) -> Result<Decoded<Self>>;
        /// The fields to send for `sink` (only those it writes).
        fn encode(data: &Self, sink: &SinkRecord<Self>, settings: &Settings) -> Result<Fields>;
        /// The owner `sink` writes, by email: `None` when the entity has
        /// no owner field or `sink` does not write it, `Some(None)` for
        /// no owner.
        fn owner(_data: &Self, _sink: &SinkRecord<Self>) -> Option<Option<String>> {
            None
        }
        /// The product codes of the lines `sink` writes, whose price book
        /// entries are looked up before [`lines`](Self::lines).
        fn line_products(
            _data: &Self,
            _sink: &SinkRecord<Self>,
            _settings: &Settings,
        ) -> Vec<String> {
            Vec::new()
        }
        /// The child line items that replace the record's own after it is
        /// written (each without its parent's id), or `None` when no lines
        /// are written for `sink`.
        fn lines(
            _data: &Self,
            _sink: &SinkRecord<Self>,
            _settings: &Settings,
            _entries: &LineEntries,
        ) -> Result<Option<Vec<Fields>>> {
            Ok(None)
        }
    }
}

/// An entity the Salesforce connector reads and writes: built in,
/// [`ClientCompany`] (Account), [`Contact`] (Contact) and [`Opportunity`]
/// (Opportunity); every other canonical entity through an
/// [`ObjectMap`](super::ObjectMap) to a standard or custom sObject
/// ([`SalesforceBuilder::object_map`](super::SalesforceBuilder::object_map)).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::salesforce::SObject;
/// fn syncs_with_salesforce<E: SObject>() {}
/// syncs_with_salesforce::<odoo_integration_model::ClientCompany>();
/// syncs_with_salesforce::<odoo_integration_model::Engagement>(); // with an ObjectMap
/// ```
pub trait SObject: sealed::Mapped {}
impl SObject for ClientCompany {}
impl SObject for Contact {}
impl SObject for Opportunity {}

/// Reads the mapped fields of `record` into `entity`.
fn mapped_fields<E: Entity>(
    entity: &mut E,
    record: &Record,
    sobject: &str,
    id: &str,
    map: &[FieldMap],
    settings: &Settings,
) -> Result<()> {
    let fail = |e: ConversionError| {
        let kind = ConnectorError::from(e.clone()).kind();
        ConnectorError::new(kind, format!("{sobject} {id}: {e}"))
            .with_system(SystemId::salesforce())
    };
    for m in map {
        let ctx = Context::new(settings.currency);
        match shared::decode(&SalesforceWire, m, record, ctx).map_err(fail)? {
            shared::Decoded::Value(value) => set(entity, &m.canonical, value)?,
            shared::Decoded::Reference(..) => {
                return Err(mapping(format!(
                    "{sobject} field map `{}`: references are not mapped by field here",
                    m.canonical
                )));
            }
        }
    }
    Ok(())
}

/// Writes the mapped fields `sink` writes.
fn encode_mapped<E: Entity>(
    data: &E,
    sink: &SinkRecord<E>,
    map: &[FieldMap],
    out: &mut Fields,
) -> Result<()> {
    for m in map
        .iter()
        .filter(|m| !m.read_only && sink.writes(&m.canonical))
    {
        let value = data.get(&m.canonical).unwrap_or(FieldValue::Null);
        shared::encode(&SalesforceWire, m, value, &mut |k, v| {
            out.insert(k.to_owned(), v);
        })
        .map_err(|e| ConnectorError::from(e).with_system(SystemId::salesforce()))?;
    }
    Ok(())
}

/// The sink's Account id of the client `client` refers to.
fn account_id<E>(
    sink: &SinkRecord<E>,
    client: Option<CanonicalId>,
    out: &mut Fields,
) -> Result<()> {
    lookup(sink, "AccountId", "client", client, out)
}

/// Writes the lookup `field` to the record of `entity` that `target`
/// refers to, by the id the sink has for it (`null` for no target); an
/// error when the sink has none yet.
pub(super) fn lookup<E>(
    sink: &SinkRecord<E>,
    field: &str,
    entity: &str,
    target: Option<CanonicalId>,
    out: &mut Fields,
) -> Result<()> {
    let Some(target) = target else {
        out.insert(field.to_owned(), null());
        return Ok(());
    };
    let remote: &RemoteId = sink.links.get(&target).ok_or_else(|| {
        ConnectorError::new(
            ConnectorErrorKind::UnresolvedReference,
            format!("{entity} {target} is not in Salesforce yet"),
        )
        .with_system(SystemId::salesforce())
    })?;
    out.insert(field.to_owned(), raw_text(Some(remote.as_str())));
    Ok(())
}

impl sealed::Mapped for ClientCompany {
    fn sobject(_: &Settings) -> Option<&str> {
        Some("Account")
    }
    fn select(settings: &Settings) -> Vec<String> {
        settings
            .accounts
            .iter()
            .flat_map(FieldMap::sources)
            .map(str::to_owned)
            .collect()
    }
    fn decode(record: &Record, id: &str, settings: &Settings) -> Result<Decoded<Self>> {
        let mut client = ClientCompany::default();
        mapped_fields(
            &mut client,
            record,
            "Account",
            id,
            &settings.accounts,
            settings,
        )?;
        Ok(Decoded {
            record: client,
            refs: Vec::new(),
            fields: settings
                .accounts
                .iter()
                .map(|m| m.canonical.clone())
                .collect(),
        })
    }
    fn encode(data: &Self, sink: &SinkRecord<Self>, settings: &Settings) -> Result<Fields> {
        let mut out = Fields::new();
        encode_mapped(data, sink, &settings.accounts, &mut out)?;
        Ok(out)
    }
}

impl sealed::Mapped for Contact {
    fn sobject(_: &Settings) -> Option<&str> {
        Some("Contact")
    }
    fn select(settings: &Settings) -> Vec<String> {
        let mut f: Vec<String> = ["Name", "FirstName", "LastName", "AccountId"]
            .map(String::from)
            .to_vec();
        f.extend(
            settings
                .contacts
                .iter()
                .flat_map(FieldMap::sources)
                .map(str::to_owned),
        );
        f
    }
    fn decode(record: &Record, id: &str, settings: &Settings) -> Result<Decoded<Self>> {
        let name = match record.text("Contact", id, "Name")? {
            Some(n) => n,
            None => {
                let first = record.text("Contact", id, "FirstName")?.unwrap_or_default();
                let last = record.text("Contact", id, "LastName")?.unwrap_or_default();
                format!("{first} {last}").trim().to_owned()
            }
        };
        let mut contact = Contact {
            name,
            ..Default::default()
        };
        mapped_fields(
            &mut contact,
            record,
            "Contact",
            id,
            &settings.contacts,
            settings,
        )?;
        let mut refs = Vec::new();
        if let Some(account) = record.text("Contact", id, "AccountId")? {
            refs.push(("client".to_owned(), Reference::new("client", account)));
        }
        let mut fields = vec!["name".to_owned(), "client".to_owned()];
        fields.extend(settings.contacts.iter().map(|m| m.canonical.clone()));
        Ok(Decoded {
            record: contact,
            refs,
            fields,
        })
    }
    fn encode(data: &Self, sink: &SinkRecord<Self>, settings: &Settings) -> Result<Fields> {
        let mut out = Fields::new();
        if sink.writes("name") {
            // Salesforce composes `Name`; it is written as its parts.
            let name = data.name.trim();
            let (first, last) = match name.rsplit_once(' ') {
                Some((first, last)) => (Some(first.trim()), last),
                None => (None, name),
            };
            out.insert("FirstName".into(), raw_text(first));
            out.insert("LastName".into(), raw_text(Some(last)));
        }
        encode_mapped(data, sink, &settings.contacts, &mut out)?;
        if sink.writes("client") {
            account_id(sink, data.client, &mut out)?;
        }
        Ok(out)
    }
}

/// The line items' relationship and fields.
const LINES: &str = "OpportunityLineItems";

/// The line item sObject.
pub(crate) const LINE_SOBJECT: &str = "OpportunityLineItem";

/// The field of a line item that names its opportunity.
pub(crate) const LINE_PARENT: &str = "OpportunityId";

/// The price book entries of the products a batch's lines name: those
/// active in the configured entry's price book, by lowercase product code.
#[derive(Debug, Default)]
pub(crate) struct LineEntries {
    /// The configured entry's price book, once looked up.
    pub(crate) book: Option<String>,
    /// Lowercase product code → (entry id, its currency when the org has
    /// several).
    pub(crate) by_code: BTreeMap<String, Vec<(String, Option<String>)>>,
}

impl LineEntries {
    /// The entry of product `code` for a line priced in `currency`.
    fn entry(&self, code: &str, currency: Currency, settings: &Settings) -> Result<&str> {
        let fail = |kind, why: String| {
            ConnectorError::new(kind, format!("product `{code}`: {why}"))
                .with_system(SystemId::salesforce())
        };
        let Some(book) = &self.book else {
            return Err(fail(
                ConnectorErrorKind::Configuration,
                "the configured line price book entry was not found, so its price book is not known"
                    .into(),
            ));
        };
        let found: Vec<&str> = self
            .by_code
            .get(&code.to_lowercase())
            .into_iter()
            .flatten()
            .filter(|(_, c)| !settings.multi_currency || c.as_deref() == Some(currency.as_str()))
            .map(|(id, _)| id.as_str())
            .collect();
        match found.as_slice() {
            [one] => Ok(one),
            [] => Err(fail(
                ConnectorErrorKind::Invalid,
                format!("no active price book entry in price book {book} (in {currency})"),
            )),
            many => Err(fail(
                ConnectorErrorKind::Ambiguous,
                format!(
                    "{} active price book entries in price book {book}: {}",
                    many.len(),
                    many.join(", ")
                ),
            )),
        }
    }
}

/// One canonical line as an `OpportunityLineItem` (without
/// `OpportunityId`): the price book entry of its product (by code, in
/// `entries`), else the configured one, `Quantity`, `UnitPrice` (exact,
/// in the opportunity's currency) and `Description`.
fn encode_line(
    line: &ContractLine,
    entry: &str,
    currency: Option<Currency>,
    settings: &Settings,
    entries: &LineEntries,
) -> Result<Fields> {
    let what = |m: &str| mapping(format!("line `{}` ({}): {m}", line.id, line.description));
    let Some(price) = &line.unit_price else {
        return Err(what(
            "no unit price: Salesforce needs one for an OpportunityLineItem",
        ));
    };
    match currency {
        Some(c) if price.currency() != c => {
            return Err(what(&format!(
                "the unit price is in {} but the opportunity is in {c}",
                price.currency()
            )));
        }
        _ => {}
    }
    if !settings.multi_currency && price.currency() != settings.currency {
        return Err(what(&format!(
            "the unit price is in {} but the org's currency is {}",
            price.currency(),
            settings.currency
        )));
    }
    let entry = match line
        .product
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(code) => entries
            .entry(code, price.currency(), settings)
            .map_err(|e| {
                ConnectorError::new(
                    e.kind(),
                    format!("line `{}` ({}): {}", line.id, line.description, e.message()),
                )
                .with_system(SystemId::salesforce())
            })?,
        None => entry,
    };
    let mut out = Fields::new();
    out.insert(
        "attributes".into(),
        RawValue::from_string(format!(r#"{{"type":"{LINE_SOBJECT}"}}"#))
            .map_err(|e| what(&e.to_string()))?,
    );
    out.insert("PricebookEntryId".into(), raw_text(Some(entry)));
    out.insert("Quantity".into(), raw_decimal(line.quantity)?);
    out.insert("UnitPrice".into(), raw_decimal(price.amount())?);
    let description = Some(line.description.as_str()).filter(|d| !d.is_empty());
    out.insert("Description".into(), raw_text(description));
    Ok(out)
}

impl sealed::Mapped for Opportunity {
    fn sobject(_: &Settings) -> Option<&str> {
        Some("Opportunity")
    }
    const CHILDREN: &'static [&'static str] = &[LINES];
    fn select(settings: &Settings) -> Vec<String> {
        let mut f: Vec<String> = [
            "Name",
            "StageName",
            "IsWon",
            "IsClosed",
            "Amount",
            "CloseDate",
            "AccountId",
            "Owner.Email",
        ]
        .map(String::from)
        .to_vec();
        if settings.multi_currency {
            f.push("CurrencyIsoCode".into());
        }
        if let Some(p) = &settings.project_field {
            f.push(p.clone());
        }
        f.extend(
            settings
                .opportunities
                .iter()
                .flat_map(FieldMap::sources)
                .map(str::to_owned),
        );
        f.push(format!(
            "(SELECT Id, Name, Description, Quantity, UnitPrice, ProductCode FROM {LINES} ORDER BY Id)"
        ));
        f
    }
    fn decode(record: &Record, id: &str, settings: &Settings) -> Result<Decoded<Self>> {
        const O: &str = "Opportunity";
        let currency = match record.text(O, id, "CurrencyIsoCode")? {
            Some(code) if settings.multi_currency => code.parse::<Currency>().map_err(|_| {
                mapping(format!(
                    "Opportunity {id}: `{code}` is not an ISO 4217 currency"
                ))
            })?,
            _ => settings.currency,
        };
        let won = record.flag(O, id, "IsWon")?.unwrap_or(false);
        let closed = record.flag(O, id, "IsClosed")?.unwrap_or(false);
        let stage = match (closed, won) {
            (_, true) => OpportunityStage::Won,
            (true, false) => OpportunityStage::Lost,
            (false, false) => OpportunityStage::Open,
        };
        let mut lines = Vec::new();
        if let Some(children) = record.children(O, id, LINES)? {
            for line in &children.records {
                let line_id = line.id("OpportunityLineItem")?;
                const L: &str = "OpportunityLineItem";
                let description = match line.text(L, &line_id, "Description")? {
                    Some(d) if !d.is_empty() => d,
                    _ => line.text(L, &line_id, "Name")?.unwrap_or_default(),
                };
                lines.push(ContractLine {
                    quantity: line.decimal(L, &line_id, "Quantity")?.unwrap_or_default(),
                    unit_price: line
                        .decimal(L, &line_id, "UnitPrice")?
                        .map(|p| Money::new(p, currency)),
                    product: line
                        .text(L, &line_id, "ProductCode")?
                        .filter(|c| !c.trim().is_empty()),
                    id: line_id,
                    description,
                });
            }
        }
        let project_ref = match &settings.project_field {
            Some(f) => record.text(O, id, f)?,
            None => None,
        };
        let owner = match record.related(O, id, "Owner")? {
            Some(user) => user.text("User", id, "Email")?,
            None => None,
        };
        let mut opportunity = Opportunity {
            name: record.text(O, id, "Name")?.unwrap_or_default(),
            owner,
            client: None,
            amount: record
                .decimal(O, id, "Amount")?
                .map(|a| Money::new(a, currency)),
            stage,
            close_date: record.date(O, id, "CloseDate")?,
            lines,
            project_ref,
            ..Default::default()
        };
        let mut refs = Vec::new();
        if let Some(account) = record.text(O, id, "AccountId")? {
            refs.push(("client".to_owned(), Reference::new("client", account)));
        }
        let mut fields: Vec<String> = [
            "name",
            "client",
            "amount",
            "stage",
            "close_date",
            "lines",
            "owner",
        ]
        .map(String::from)
        .to_vec();
        if settings.project_field.is_some() {
            fields.push("project_ref".into());
        }
        mapped_fields(
            &mut opportunity,
            record,
            O,
            id,
            &settings.opportunities,
            settings,
        )?;
        fields.extend(settings.opportunities.iter().map(|m| m.canonical.clone()));
        Ok(Decoded {
            record: opportunity,
            refs,
            fields,
        })
    }
    fn encode(data: &Self, sink: &SinkRecord<Self>, settings: &Settings) -> Result<Fields> {
        let mut out = Fields::new();
        if sink.writes("name") {
            out.insert("Name".into(), raw_text(Some(&data.name)));
        }
        if sink.writes("stage") {
            let stage = match data.stage {
                OpportunityStage::Won => &settings.stage_won,
                OpportunityStage::Lost => &settings.stage_lost,
                _ => &settings.stage_open,
            };
            out.insert("StageName".into(), raw_text(Some(stage)));
        }
        if sink.writes("amount") {
            match &data.amount {
                None => {
                    out.insert("Amount".into(), null());
                }
                Some(m) => {
                    if settings.multi_currency {
                        out.insert(
                            "CurrencyIsoCode".into(),
                            raw_text(Some(m.currency().as_str())),
                        );
                    } else if m.currency() != settings.currency {
                        return Err(mapping(format!(
                            "the amount is in {} but the org's currency is {}",
                            m.currency(),
                            settings.currency
                        )));
                    }
                    out.insert("Amount".into(), raw_decimal(m.amount())?);
                }
            }
        }
        if sink.writes("close_date") {
            let date = data.close_date.map(|d| d.format("%Y-%m-%d").to_string());
            out.insert("CloseDate".into(), raw_text(date.as_deref()));
        }
        if sink.writes("client") {
            account_id(sink, data.client, &mut out)?;
        }
        if let Some(field) = &settings.project_field
            && sink.writes("project_ref")
        {
            out.insert(field.clone(), raw_text(data.project_ref.as_deref()));
        }
        encode_mapped(data, sink, &settings.opportunities, &mut out)?;
        // Line items go in their own calls once the opportunity has an id:
        // see `lines` and the module docs.
        Ok(out)
    }
    fn owner(data: &Self, sink: &SinkRecord<Self>) -> Option<Option<String>> {
        sink.writes("owner").then(|| {
            data.owner
                .as_deref()
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(str::to_owned)
        })
    }
    fn line_products(data: &Self, sink: &SinkRecord<Self>, settings: &Settings) -> Vec<String> {
        if settings.line_entry.is_none() || !sink.writes("lines") {
            return Vec::new();
        }
        data.lines
            .iter()
            .filter_map(|l| l.product.as_deref().map(str::trim))
            .filter(|c| !c.is_empty())
            .map(str::to_owned)
            .collect()
    }
    fn lines(
        data: &Self,
        sink: &SinkRecord<Self>,
        settings: &Settings,
        entries: &LineEntries,
    ) -> Result<Option<Vec<Fields>>> {
        let Some(entry) = &settings.line_entry else {
            // Without a price book entry, lines are not written.
            return Ok(None);
        };
        if !sink.writes("lines") {
            return Ok(None);
        }
        // Every line is in the opportunity's currency: its amount's, else
        // the first priced line's (multi-currency), else the org's.
        let currency = match (&data.amount, settings.multi_currency) {
            (Some(m), _) => Some(m.currency()),
            (None, true) => data
                .lines
                .iter()
                .find_map(|l| l.unit_price.as_ref().map(Money::currency)),
            (None, false) => Some(settings.currency),
        };
        data.lines
            .iter()
            .map(|line| encode_line(line, entry, currency, settings, entries))
            .collect::<Result<Vec<_>>>()
            .map(Some)
    }
}
