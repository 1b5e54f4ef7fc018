//! Targeted reads ([`FetchByIds`]): records by id, decoded as the change
//! feed's pages are, and a delete for each id that is gone, archived, or
//! outside the model map's domain.

use super::mapping::from_odoo;
use super::{OdooConnector, convert};
use crate::connector::SourceChange;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::pipeline::targeted::FetchByIds;
use async_trait::async_trait;
use chrono::{NaiveDateTime, TimeZone, Utc};
use odoo_integration_client::{Context, Domain};
use odoo_integration_model::{Entity, RemoteId, SystemId};
use serde_json::{Map, Value};
use std::collections::{BTreeSet, HashMap};

/// Ids per `search_read`.
const BATCH: usize = 200;

/// Reads records by id: one `search_read` of the map's model for
/// `[("id", "in", ids)]` and the map's domain, archived records included
/// (`active_test: false`), with the map's fields; their children and
/// looked-up keys as a page of the change feed reads them. A record that
/// is archived, deleted, or no longer inside the map's domain is a delete,
/// as the change feed reports it.
///
/// # Example
///
/// ```
/// use odoo_integration_client::{Protocol, test_server::TestServer};
/// use odoo_integration_connectors::FetchByIds;
/// use odoo_integration_connectors::odoo::OdooConnector;
/// use odoo_integration_model::{ClientCompany, RemoteId};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = TestServer::start().await?;
/// let odoo = OdooConnector::new(server.client(Protocol::Json2)?);
/// // Partner 2 is the test server's Acme Corporation; 999 does not exist.
/// let changes: Vec<_> = FetchByIds::<ClientCompany>::fetch_ids(&odoo, &[RemoteId::new("2"), RemoteId::new("999")]).await?;
/// assert!(!changes[0].operation.is_delete());
/// assert!(changes[1].operation.is_delete());
/// # Ok(()) }
/// ```
#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> FetchByIds<E> for OdooConnector {
    async fn fetch_ids(&self, ids: &[RemoteId]) -> Result<Vec<SourceChange<E>>> {
        let map = self.map_of::<E>()?;
        let mut asked: Vec<i64> = Vec::with_capacity(ids.len());
        let mut unique = BTreeSet::new();
        for id in ids {
            // Odoo's ids are positive integers: anything else is a wrong
            // route, never a record to delete.
            match id.as_str().parse::<i64>() {
                Ok(n) if n > 0 => {
                    if unique.insert(n) {
                        asked.push(n);
                    }
                }
                _ => {
                    return Err(ConnectorError::new(
                        ConnectorErrorKind::Invalid,
                        format!("`{}` is not an Odoo record id", id.as_str()),
                    )
                    .with_system(SystemId::odoo()));
                }
            }
        }
        let mut fields = map.read_fields();
        if !fields.iter().any(|f| f == "write_date") {
            fields.push("write_date".to_owned());
        }
        let mut rows: Vec<Map<String, Value>> = Vec::with_capacity(asked.len());
        for chunk in asked.chunks(BATCH) {
            let domain = Domain::field("id")
                .is_in(chunk.iter().copied())
                .and(map.domain.clone());
            rows.extend(
                self.calls
                    .model(map.model.as_str())
                    .search_read(domain)
                    .fields(fields.iter().cloned())
                    .context(Context::new().active_test(false))
                    .send()
                    .await
                    .map_err(convert)?,
            );
        }
        let children = self.child_rows(map, &rows).await?;
        let lookups = self.lookup_keys(map, &rows, &children).await?;
        let canonical: Vec<String> = map.fields.iter().map(|f| f.canonical.clone()).collect();
        let now = Utc::now();
        let mut by_id: HashMap<i64, SourceChange<E>> = HashMap::with_capacity(rows.len());
        for row in &rows {
            let id = row.get("id").and_then(Value::as_i64).ok_or_else(|| {
                ConnectorError::new(
                    ConnectorErrorKind::Protocol,
                    format!("{} row without id", map.model),
                )
                .with_system(SystemId::odoo())
            })?;
            let at = row
                .get("write_date")
                .and_then(Value::as_str)
                .and_then(|s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok())
                .map_or(now, |t| Utc.from_utc_datetime(&t));
            let decoded = from_odoo::<E>(map, row, self.currency, &lookups, &children)?;
            let change = if decoded.archived {
                SourceChange::delete(id.to_string(), at)
            } else {
                let mut change = SourceChange::upsert(id.to_string(), at, decoded.record)
                    .with_fields(canonical.iter().cloned());
                change.refs = decoded.refs;
                change
            };
            by_id.insert(id, change);
        }
        Ok(asked
            .into_iter()
            .map(|id| {
                by_id
                    .remove(&id)
                    .unwrap_or_else(|| SourceChange::delete(id.to_string(), now))
            })
            .collect())
    }
}
