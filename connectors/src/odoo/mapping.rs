//! Canonical records ⇄ Odoo rows through a [`ModelMap`]: Odoo's wire form
//! of the shared conversions, and what only Odoo reads (lookups, one2many
//! lines, many2one references).

use super::model_map::ModelMap;
use crate::connector::Reference;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::mapping::{
    self as shared, Context, Conversion, ConversionError, ConversionErrorKind, Decoded as Field,
    FieldMap, Wire,
};
use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use odoo_integration_model::{CanonicalId, Currency, Entity, FieldValue, RemoteId};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::collections::BTreeMap;

type Converted<T> = std::result::Result<T, ConversionError>;

/// Odoo's wire: `false` for no value (also what an absent field reads
/// as), JSON numbers, dates `YYYY-MM-DD`, datetimes `YYYY-MM-DD HH:MM:SS`
/// in UTC, many2ones `[id, display name]`. A record keeps its currency:
/// only amounts are written.
struct OdooWire;

/// Whether an Odoo value is no value.
fn none(v: Option<&Value>) -> bool {
    matches!(v, None | Some(Value::Bool(false) | Value::Null))
}

impl Wire for OdooWire {
    type Value = Value;
    fn empty(&self) -> Value {
        Value::Bool(false)
    }
    fn text(&self, text: String) -> Value {
        Value::String(text)
    }
    fn number(&self, d: Decimal) -> Converted<Value> {
        // Odoo's wire format for float and monetary fields is a JSON number.
        d.to_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| {
                ConversionError::new(
                    ConversionErrorKind::OutOfRange,
                    format!("{d} is out of range"),
                )
            })
    }
    fn boolean(&self, b: bool) -> Value {
        Value::Bool(b)
    }
    fn date(&self, d: NaiveDate) -> Value {
        Value::String(d.format("%Y-%m-%d").to_string())
    }
    fn datetime(&self, t: DateTime<Utc>) -> Value {
        Value::String(t.format("%Y-%m-%d %H:%M:%S").to_string())
    }
    fn writes_currency(&self) -> bool {
        false
    }
    fn read_text<'a>(&self, v: Option<&'a Value>) -> Converted<Option<Cow<'a, str>>> {
        match v {
            _ if none(v) => Ok(None),
            Some(Value::String(s)) => Ok(Some(Cow::Borrowed(s))),
            _ => Err(unexpected(v)),
        }
    }
    fn read_number(&self, v: Option<&Value>) -> Converted<Option<Decimal>> {
        match v {
            _ if none(v) => Ok(None),
            Some(raw) => decimal(raw).map(Some).ok_or_else(|| unexpected(v)),
            None => Ok(None),
        }
    }
    fn read_bool(&self, v: Option<&Value>) -> Converted<Option<bool>> {
        match v {
            None => Ok(Some(false)),
            Some(raw) => raw.as_bool().map(Some).ok_or_else(|| unexpected(v)),
        }
    }
    fn read_date(&self, v: Option<&Value>) -> Converted<Option<NaiveDate>> {
        match v {
            _ if none(v) => Ok(None),
            Some(raw) => date(raw).map(Some).ok_or_else(|| unexpected(v)),
            None => Ok(None),
        }
    }
    fn read_datetime(&self, v: Option<&Value>) -> Converted<Option<DateTime<Utc>>> {
        let Some(text) = self.read_text(v)? else {
            return Ok(None);
        };
        NaiveDateTime::parse_from_str(&text, "%Y-%m-%d %H:%M:%S")
            .map(|t| Some(Utc.from_utc_datetime(&t)))
            .map_err(|_| unexpected(v))
    }
    fn read_currency(&self, v: Option<&Value>) -> Converted<Option<Currency>> {
        // A many2one to `res.currency`, whose display name is the ISO code.
        Ok(v.and_then(|c| c.get(1))
            .and_then(Value::as_str)
            .and_then(|code| code.parse::<Currency>().ok()))
    }
    fn read_id(&self, v: Option<&Value>) -> Converted<Option<String>> {
        match v {
            _ if none(v) => Ok(None),
            Some(raw) => many2one_id(raw)
                .map(|id| Some(id.to_string()))
                .ok_or_else(|| unexpected(v)),
            None => Ok(None),
        }
    }
}

fn unexpected(v: Option<&Value>) -> ConversionError {
    let found = v.map_or_else(|| "nothing".to_owned(), Value::to_string);
    ConversionError::new(
        ConversionErrorKind::Unreadable,
        format!("unexpected value {found}"),
    )
}

/// A lookup the writer must resolve to an id before sending.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct LookupKey {
    pub(crate) model: String,
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) create: bool,
}

/// A value for Odoo, or a lookup to resolve first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OdooValue {
    Plain(Value),
    Lookup(LookupKey),
    /// x2many commands, with the lookups of their lines to resolve first:
    /// (command index, field, lookup).
    Lines(Vec<Value>, Vec<(usize, String, LookupKey)>),
}

/// The values to write for `record`: only `fields` (canonical names; all
/// that have a value when `None`, a record new to Odoo), never read-only
/// ones.
pub(crate) fn to_odoo<E: Entity>(
    map: &ModelMap,
    record: &E,
    fields: Option<&[String]>,
    links: &BTreeMap<CanonicalId, RemoteId>,
) -> Result<BTreeMap<String, OdooValue>> {
    let mut out = BTreeMap::new();
    for f in &map.fields {
        if f.read_only || fields.is_some_and(|only| !only.contains(&f.canonical)) {
            continue;
        }
        let value = record.get(&f.canonical).ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("{} has no field `{}`", E::NAME, f.canonical),
            )
        })?;
        // A record new to Odoo leaves out what it has no value for, so
        // Odoo's defaults (a working schedule, a company) apply.
        if fields.is_none() && value.is_null() {
            continue;
        }
        encode(f, value, links, &mut |k, v| {
            out.insert(k.to_owned(), v);
            Ok(())
        })?;
    }
    Ok(out)
}

/// Writes one field through `out`: references, lookups and lines here,
/// the rest by the shared conversions over Odoo's wire.
fn encode(
    f: &FieldMap,
    value: FieldValue,
    links: &BTreeMap<CanonicalId, RemoteId>,
    out: &mut dyn FnMut(&str, OdooValue) -> Result<()>,
) -> Result<()> {
    let at = |e: ConversionError| {
        let kind = ConnectorError::from(e.clone()).kind();
        ConnectorError::new(kind, format!("{} → {e}", f.canonical))
    };
    let plain = |v: Value| OdooValue::Plain(v);
    match (&f.conversion, value) {
        (Conversion::Reference { .. } | Conversion::Lookup { .. } | Conversion::Rows { .. }, v)
            if v.is_null() =>
        {
            out(&f.vendor, plain(Value::Bool(false)))
        }
        (Conversion::Reference { entity }, FieldValue::Id(id)) => {
            let remote = links.get(&id).ok_or_else(|| {
                ConnectorError::new(
                    ConnectorErrorKind::UnresolvedReference,
                    format!(
                        "{} → {}: {entity} {id} is not in Odoo yet",
                        f.canonical, f.vendor
                    ),
                )
            })?;
            let id: i64 = remote.as_str().parse().map_err(|_| {
                ConnectorError::new(
                    ConnectorErrorKind::Mapping,
                    format!("`{remote}` is not an Odoo id"),
                )
            })?;
            out(&f.vendor, plain(Value::from(id)))
        }
        (Conversion::Lookup { model, key, create }, FieldValue::Text(s)) => out(
            &f.vendor,
            OdooValue::Lookup(LookupKey {
                model: model.clone(),
                key: key.clone(),
                value: s,
                create: *create,
            }),
        ),
        (
            Conversion::Rows {
                fields, defaults, ..
            },
            FieldValue::Rows(rows),
        ) => {
            // Clear, then create: the lines are replaced as a whole.
            let mut commands = vec![serde_json::json!([5, 0, 0])];
            let mut lookups = Vec::new();
            for row in rows {
                let mut values = defaults.clone();
                for child in fields.iter().filter(|c| !c.read_only) {
                    let value = row
                        .get(&child.canonical)
                        .cloned()
                        .unwrap_or(FieldValue::Null);
                    // A line leaves out what it has no value for, so the
                    // map's line defaults (a product) and then Odoo fill it
                    // in (a price from the price list).
                    if value.is_null() {
                        continue;
                    }
                    encode(child, value, links, &mut |k, v| match v {
                        OdooValue::Plain(v) => {
                            values.insert(k.to_owned(), v);
                            Ok(())
                        }
                        OdooValue::Lookup(l) => {
                            lookups.push((commands.len(), k.to_owned(), l));
                            Ok(())
                        }
                        OdooValue::Lines(..) => Err(ConnectorError::new(
                            ConnectorErrorKind::Configuration,
                            format!(
                                "{} → {}: lines within lines are not supported",
                                f.canonical, child.vendor
                            ),
                        )),
                    })?;
                }
                commands.push(serde_json::json!([0, 0, values]));
            }
            if lookups.is_empty() {
                out(&f.vendor, plain(Value::Array(commands)))
            } else {
                out(&f.vendor, OdooValue::Lines(commands, lookups))
            }
        }
        (Conversion::Reference { .. } | Conversion::Lookup { .. } | Conversion::Rows { .. }, v) => {
            Err(ConnectorError::new(
                ConnectorErrorKind::Mapping,
                format!(
                    "{} → {}: cannot write a {} value as {}",
                    f.canonical,
                    f.vendor,
                    v.kind(),
                    f.conversion.name()
                ),
            ))
        }
        (_, value) => {
            let mut failed = Ok(());
            shared::encode(&OdooWire, f, value, &mut |k, v| {
                if failed.is_ok() {
                    failed = out(k, plain(v));
                }
            })
            .map_err(at)?;
            failed
        }
    }
}

/// A record read from Odoo, in canonical form.
#[derive(Debug)]
pub(crate) struct Decoded<E> {
    pub(crate) record: E,
    pub(crate) refs: BTreeMap<String, Reference>,
    pub(crate) archived: bool,
}

/// Turns an Odoo row into the canonical entity. `lookups` holds the key of
/// each looked-up record: `(model, id) → key value`.
pub(crate) fn from_odoo<E: Entity + Default>(
    map: &ModelMap,
    row: &Map<String, Value>,
    company_currency: Currency,
    lookups: &BTreeMap<(String, i64), String>,
    children: &BTreeMap<(String, i64), Map<String, Value>>,
) -> Result<Decoded<E>> {
    let mut record = E::default();
    let mut refs = BTreeMap::new();
    let set = |record: &mut E, field: &str, value: FieldValue| {
        record.set(field, value).map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("{}: {e}", map.model),
            )
        })
    };
    for f in &map.fields {
        if let Conversion::Rows { model, fields, .. } = &f.conversion {
            let ids = row.get(&f.vendor).and_then(Value::as_array);
            let mut rows = Vec::new();
            for id in ids.into_iter().flatten().filter_map(Value::as_i64) {
                let Some(child) = children.get(&(model.clone(), id)) else {
                    continue; // deleted between the two reads
                };
                let mut out = BTreeMap::new();
                out.insert("id".to_owned(), FieldValue::Text(id.to_string()));
                for c in fields {
                    let value = match decode(model, c, child, company_currency, lookups)? {
                        Field::Value(v) => v,
                        Field::Reference(..) => {
                            return Err(ConnectorError::new(
                                ConnectorErrorKind::Configuration,
                                format!("{model}.{}: not supported inside lines", c.vendor),
                            ));
                        }
                    };
                    out.insert(c.canonical.clone(), value);
                }
                rows.push(out);
            }
            set(&mut record, &f.canonical, FieldValue::Rows(rows))?;
            continue;
        }
        match decode(&map.model, f, row, company_currency, lookups)? {
            Field::Value(value) => set(&mut record, &f.canonical, value)?,
            Field::Reference(entity, Some(id)) => {
                refs.insert(f.canonical.clone(), Reference::new(entity, id));
            }
            Field::Reference(_, None) => {}
        }
    }
    let archived = map
        .archive_field
        .as_ref()
        .and_then(|a| row.get(a))
        .is_some_and(|v| v == &Value::Bool(false));
    Ok(Decoded {
        record,
        refs,
        archived,
    })
}

/// One Odoo value in canonical form: lookups here, lines by the caller,
/// the rest by the shared conversions over Odoo's wire.
fn decode(
    model: &str,
    f: &FieldMap,
    row: &Map<String, Value>,
    company_currency: Currency,
    lookups: &BTreeMap<(String, i64), String>,
) -> Result<Field> {
    let bad = |e: ConversionError| {
        let kind = ConnectorError::from(e.clone()).kind();
        ConnectorError::new(kind, format!("{model}.{e}"))
    };
    match &f.conversion {
        Conversion::Lookup { model: related, .. } => {
            let raw = row.get(&f.vendor);
            if none(raw) {
                return Ok(Field::Value(FieldValue::Null));
            }
            let id = raw
                .and_then(many2one_id)
                .ok_or_else(|| bad(unexpected(raw).at(&f.vendor)))?;
            Ok(Field::Value(match lookups.get(&(related.clone(), id)) {
                Some(key) => FieldValue::Text(key.clone()),
                None => FieldValue::Null,
            }))
        }
        Conversion::Rows { .. } => Err(ConnectorError::new(
            ConnectorErrorKind::Configuration,
            format!("{model}.{}: not supported inside lines", f.vendor),
        )),
        _ => shared::decode(&OdooWire, f, row, Context::new(company_currency)).map_err(bad),
    }
}

pub(crate) fn many2one_id(v: &Value) -> Option<i64> {
    match v {
        Value::Array(pair) => pair.first().and_then(Value::as_i64),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(Decimal::from(i)),
            // Odoo floats are shortest round-trip decimals; read them as such.
            None => n
                .to_string()
                .parse()
                .ok()
                .or_else(|| n.as_f64().and_then(Decimal::from_f64)),
        },
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn date(v: &Value) -> Option<NaiveDate> {
    let s = v.as_str()?;
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}
