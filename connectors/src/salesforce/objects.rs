//! Any canonical entity ⇄ a standard or custom sObject, through an
//! [`ObjectMap`]: one map entry per field, references included.

// The sealed trait's methods take crate-private types on purpose.
#![allow(private_interfaces)]

use super::maps::{Decoded, Fields, SObject, Settings, lookup, sealed, set};
use super::soql::Record;
use super::wire::SalesforceWire;
use crate::connector::{Reference, SinkRecord};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::mapping::{self as shared, Context, Conversion, FieldMap};
use odoo_integration_model::{
    Assignment, Contract, ContractLine, Employee, Engagement, Entity, Expense, FieldValue, Invoice,
    InvoiceLine, Milestone, PayStatement, Payment, PayrollRun, SystemId, TimeOff, TimesheetEntry,
};

/// A canonical entity mapped to an sObject, standard or custom
/// (`Project__c`): the fields, each a shared [`FieldMap`]. A reference
/// to another synced record is a field with [`Conversion::Reference`]
/// on a lookup field (`Account__c`): read as the referred record's
/// Salesforce id, written as the id the sink has for it.
///
/// # Example
///
/// ```
/// # use odoo_integration_connectors::salesforce::*;
/// # use odoo_integration_fakes::salesforce::FakeSalesforce;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use odoo_integration_connectors::{Source, read_to_end};
/// use odoo_integration_model::Engagement;
/// let org = FakeSalesforce::start().await?;
/// # org.allow_client("k", "s");
/// org.insert("Project__c", serde_json::json!({"Name": "Audit 2027", "Billable__c": true}));
/// let projects = ObjectMap::new("engagement", "Project__c")
///     .field(FieldMap::text("name", "Name"))
///     .field(FieldMap::new("billable", "Billable__c", Conversion::Bool))
///     .field(FieldMap::new("client", "Account__c", Conversion::reference("client")));
/// let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s"))
///     .login_url(org.url())
///     .object_map(projects)
///     .build()?;
/// let (changes, _) = read_to_end::<Engagement>(&sf, None, 100).await?;
/// let engagement = changes[0].operation.record().unwrap();
/// assert_eq!((engagement.name.as_str(), engagement.billable), ("Audit 2027", true));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMap {
    /// The canonical entity (`engagement`).
    pub entity: String,
    /// The sObject's API name (`Project__c`).
    pub sobject: String,
    /// Fields ⇄ sObject fields.
    pub fields: Vec<FieldMap>,
}

impl ObjectMap {
    /// A map of `entity` to `sobject`, with no fields yet.
    ///
    /// # Example
    ///
    /// See [`ObjectMap`].
    pub fn new(entity: impl Into<String>, sobject: impl Into<String>) -> Self {
        ObjectMap {
            entity: entity.into(),
            sobject: sobject.into(),
            fields: Vec::new(),
        }
    }

    /// Adds a field.
    ///
    /// # Example
    ///
    /// See [`ObjectMap`].
    #[must_use]
    pub fn field(mut self, field: FieldMap) -> Self {
        self.fields.push(field);
        self
    }
}

/// The map of `E`, or why there is none.
pub(super) fn map_of<E: Entity>(settings: &Settings) -> Result<&ObjectMap> {
    settings.objects.get(E::NAME).ok_or_else(|| {
        ConnectorError::new(
            ConnectorErrorKind::Configuration,
            format!(
                "no Salesforce object map for {}: give the builder one with `object_map`",
                E::NAME
            ),
        )
        .with_system(SystemId::salesforce())
    })
}

fn select<E: Entity>(settings: &Settings) -> Vec<String> {
    map_of::<E>(settings)
        .map(|m| {
            m.fields
                .iter()
                .flat_map(FieldMap::sources)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

fn decode<E: Entity + Default>(
    record: &Record,
    id: &str,
    settings: &Settings,
) -> Result<Decoded<E>> {
    let map = map_of::<E>(settings)?;
    let mut entity = E::default();
    let mut refs = Vec::new();
    for m in &map.fields {
        let ctx = Context::new(settings.currency);
        let decoded = shared::decode(&SalesforceWire, m, record, ctx).map_err(|e| {
            let kind = ConnectorError::from(e.clone()).kind();
            ConnectorError::new(kind, format!("{} {id}: {e}", map.sobject))
                .with_system(SystemId::salesforce())
        })?;
        match decoded {
            shared::Decoded::Value(value) => set(&mut entity, &m.canonical, value)?,
            shared::Decoded::Reference(entity_name, Some(target)) => {
                refs.push((m.canonical.clone(), Reference::new(entity_name, target)));
            }
            shared::Decoded::Reference(_, None) => {
                set(&mut entity, &m.canonical, FieldValue::Null)?
            }
        }
    }
    Ok(Decoded {
        record: entity,
        refs,
        fields: map.fields.iter().map(|m| m.canonical.clone()).collect(),
    })
}

fn encode<E: Entity>(data: &E, sink: &SinkRecord<E>, settings: &Settings) -> Result<Fields> {
    let map = map_of::<E>(settings)?;
    let mut out = Fields::new();
    for m in map
        .fields
        .iter()
        .filter(|m| !m.read_only && sink.writes(&m.canonical))
    {
        let value = data.get(&m.canonical).unwrap_or(FieldValue::Null);
        if let Conversion::Reference { entity } = &m.conversion {
            let target = match value {
                FieldValue::Id(id) => Some(id),
                FieldValue::Null => None,
                other => {
                    return Err(ConnectorError::new(
                        ConnectorErrorKind::Mapping,
                        format!("{}: {other:?} is not a reference", m.canonical),
                    )
                    .with_system(SystemId::salesforce()));
                }
            };
            lookup(sink, &m.vendor, entity, target, &mut out)?;
            continue;
        }
        shared::encode(&SalesforceWire, m, value, &mut |k, v| {
            out.insert(k.to_owned(), v);
        })
        .map_err(|e| ConnectorError::from(e).with_system(SystemId::salesforce()))?;
    }
    Ok(out)
}

/// Every canonical entity without a built-in map goes through its
/// [`ObjectMap`].
macro_rules! through_object_maps {
    ($($entity:ty),* $(,)?) => {$(
        impl sealed::Mapped for $entity {
            fn sobject(settings: &Settings) -> Option<&str> {
                map_of::<Self>(settings).ok().map(|m| m.sobject.as_str())
            }
            fn select(settings: &Settings) -> Vec<String> {
                select::<Self>(settings)
            }
            fn decode(record: &Record, id: &str, settings: &Settings) -> Result<Decoded<Self>> {
                decode(record, id, settings)
            }
            fn encode(data: &Self, sink: &SinkRecord<Self>, settings: &Settings) -> Result<Fields> {
                encode(data, sink, settings)
            }
        }
        impl SObject for $entity {}
    )*};
}

through_object_maps!(
    Engagement,
    Contract,
    ContractLine,
    Milestone,
    Employee,
    Assignment,
    TimesheetEntry,
    Expense,
    InvoiceLine,
    Invoice,
    Payment,
    PayrollRun,
    PayStatement,
    TimeOff,
);
