//! Finding records Odoo already holds by natural keys, so a first sync
//! links them instead of creating duplicates.

use super::mapping::from_odoo;
use super::{OdooConnector, convert};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::mapping::Conversion;
use crate::pipeline::{Matcher, SinkMatch};
use async_trait::async_trait;
use odoo_integration_client::Domain;
use odoo_integration_model::{Entity, FieldValue, MatchKey, Normalize, RemoteId};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// Records asked about in one search.
const CHUNK: usize = 100;
/// The most candidates one search may return; more means the keys are too
/// loose to decide on.
const MAX_CANDIDATES: usize = 2000;

/// Finds the Odoo records that may be ones new to a sync, by natural keys:
/// [`OdooConnector`]'s [`Matcher`].
///
/// For each key whose field the entity's [`ModelMap`](super::ModelMap)
/// maps as text, Odoo is searched loosely (`ilike`, so a tax id written
/// `BE 0123.456.789` is found for `BE0123456789`), within the map's
/// domain and among active records, in one `search_read` per 100 records
/// that reads the key fields only; the candidates are then decided on
/// exactly by [`SinkMatch::propose`]: one match is linked, several are
/// held for review, none is created. A match's record holds its key
/// fields only, so its other fields are written under the policy as for
/// a record the sink has never seen. A pipeline whose sink is Odoo uses
/// it by default for clients, contacts and employees
/// ([`PipelineBuilder::match_existing`](crate::PipelineBuilder::match_existing)),
/// with [`match_keys_for`](odoo_integration_model::match_keys_for).
///
/// # Example
///
/// ```
/// # use odoo_integration_client::test_server::TestServer;
/// use odoo_integration_connectors::odoo::OdooConnector;
/// use odoo_integration_connectors::{Matcher, SinkMatch};
/// use odoo_integration_model::{ClientCompany, MatchKey, Normalize};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = TestServer::start().await?;
/// let odoo = OdooConnector::new(server.client(odoo_integration_client::Protocol::Json2)?);
/// let id = server.insert("res.partner", serde_json::json!({"name": "Northwind Traders", "is_company": true, "vat": "GB 123 4567 89"}))?;
/// let by_vat = odoo.matcher::<ClientCompany>(vec![MatchKey::new("tax_id", Normalize::Identifier).decisive()]);
/// let incoming = ClientCompany { legal_name: "Northwind".into(), tax_id: Some("GB123456789".into()), ..Default::default() };
/// match &by_vat.find(&[&incoming]).await?[0] {
///     SinkMatch::One { remote_id, .. } => assert_eq!(remote_id.as_str(), id.to_string()),
///     other => panic!("{other:?}"),
/// }
/// # Ok(()) }
/// ```
pub struct OdooMatcher<E> {
    odoo: OdooConnector,
    keys: Vec<MatchKey>,
    entity: PhantomData<fn() -> E>,
}

impl<E> fmt::Debug for OdooMatcher<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OdooMatcher")
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl OdooConnector {
    /// A [`Matcher`] that finds `E`'s records in this Odoo by `keys`.
    ///
    /// # Example
    ///
    /// See [`OdooMatcher`].
    pub fn matcher<E: Entity>(&self, keys: Vec<MatchKey>) -> OdooMatcher<E> {
        OdooMatcher {
            odoo: self.clone(),
            keys,
            entity: PhantomData,
        }
    }
}

/// The text of a record's field, as written.
fn raw_text<E: Entity>(record: &E, field: &str) -> Option<String> {
    match record.get(field)? {
        FieldValue::Null => None,
        FieldValue::Text(t) => Some(t),
        other => Some(other.to_string()),
    }
    .filter(|t| !t.trim().is_empty())
}

/// An `ilike` pattern that finds at least every value `key` normalises to
/// `normal`: the value's parts joined by `%`, so the separators Odoo may
/// hold between them (spaces, dots, a legal form) do not hide it.
fn loose_pattern(key: &MatchKey, normal: &str) -> String {
    match key.normalize() {
        Normalize::Identifier => normal
            .chars()
            .map(String::from)
            .collect::<Vec<_>>()
            .join("%"),
        Normalize::Name => normal.split_whitespace().collect::<Vec<_>>().join("%"),
        _ => normal.to_owned(),
    }
}

impl<E> OdooMatcher<E> {
    /// The Odoo field of each key the map holds as plain text.
    fn fields(&self, map: &super::ModelMap) -> Vec<(&MatchKey, String)> {
        self.keys
            .iter()
            .filter_map(|k| {
                let f = map.fields.iter().find(|f| f.canonical == k.field())?;
                matches!(f.conversion, Conversion::Text).then(|| (k, f.vendor.clone()))
            })
            .collect()
    }
}

#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> Matcher<E> for OdooMatcher<E> {
    async fn find(&self, records: &[&E]) -> Result<Vec<SinkMatch<E>>> {
        let map = self.odoo.map_of::<E>()?;
        let fields = self.fields(map);
        // Candidates are read with their key fields only: one call per
        // chunk, and what decides is all there.
        let mut keys_map = map.clone();
        keys_map
            .fields
            .retain(|f| fields.iter().any(|(k, _)| k.field() == f.canonical));
        let mut out = Vec::with_capacity(records.len());
        for chunk in records.chunks(CHUNK) {
            let mut clauses = Vec::new();
            for record in chunk {
                for (key, field) in &fields {
                    let Some(normal) = key.value_of(*record) else {
                        continue;
                    };
                    let clause = match key.normalize() {
                        Normalize::Exact => match raw_text(*record, key.field()) {
                            Some(raw) => Domain::field(field.as_str()).eq(raw),
                            None => continue,
                        },
                        _ => Domain::field(field.as_str()).ilike(loose_pattern(key, &normal)),
                    };
                    clauses.push(clause);
                }
            }
            if clauses.is_empty() {
                out.extend(chunk.iter().map(|_| SinkMatch::None));
                continue;
            }
            let rows = self
                .odoo
                .calls
                .model(map.model.as_str())
                .search_read(map.domain.clone().and(Domain::or_all(clauses)))
                .fields(keys_map.read_fields())
                .limit(MAX_CANDIDATES as u64 + 1)
                .send()
                .await
                .map_err(convert)?;
            if rows.len() > MAX_CANDIDATES {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Invalid,
                    format!(
                        "more than {MAX_CANDIDATES} {} records of Odoo share a key with {} {} records: the match keys are too loose to decide on (give stricter ones, or turn matching off with PipelineBuilder::match_existing(false))",
                        map.model,
                        chunk.len(),
                        E::NAME
                    ),
                ));
            }
            let mut candidates = Vec::with_capacity(rows.len());
            for row in &rows {
                let Some(id) = row.get("id").and_then(Value::as_i64) else {
                    continue;
                };
                let decoded = from_odoo::<E>(
                    &keys_map,
                    row,
                    self.odoo.currency,
                    &BTreeMap::new(),
                    &BTreeMap::new(),
                )?;
                candidates.push((RemoteId::new(id.to_string()), decoded.record));
            }
            for record in chunk {
                out.push(SinkMatch::propose(*record, candidates.clone(), &self.keys));
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_patterns_find_what_the_normal_form_stands_for() {
        let vat = MatchKey::new("tax_id", Normalize::Identifier);
        assert_eq!(loose_pattern(&vat, "BE01"), "B%E%0%1");
        let name = MatchKey::new("legal_name", Normalize::Name);
        assert_eq!(
            loose_pattern(&name, "northwind traders"),
            "northwind%traders"
        );
        let web = MatchKey::new("website", Normalize::WebDomain);
        assert_eq!(
            loose_pattern(&web, "northwind.example"),
            "northwind.example"
        );
    }
}
