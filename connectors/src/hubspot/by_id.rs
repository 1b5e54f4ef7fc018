//! Targeted reads ([`FetchByIds`]): records by id through `batch/read`,
//! decoded as the search pages are, and a delete for each id HubSpot no
//! longer has.

use super::HubSpotConnector;
use super::read::results;
use crate::connector::SourceChange;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::pipeline::targeted::FetchByIds;
use async_trait::async_trait;
use chrono::Utc;
use odoo_integration_model::{Entity, RemoteId, SystemId};
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

/// HubSpot's `batch/read` takes at most 100 inputs.
const BATCH: usize = 100;

/// Reads records by id: `POST /crm/v3/objects/{object}/batch/read` with
/// the object map's properties (archived records are not returned), then
/// the same associations, line items, owners and stages as a search page.
/// An id HubSpot answers `OBJECT_NOT_FOUND` for (deleted, archived, merged
/// away) is a delete. Any other error of a multi-status answer is an error,
/// so a record HubSpot could not read is never taken for a deleted one.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::FetchByIds;
/// use odoo_integration_connectors::hubspot::HubSpotConnector;
/// use odoo_integration_fakes::hubspot::FakeHubSpot;
/// use odoo_integration_model::{ClientCompany, RemoteId};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let fake = FakeHubSpot::start().await?;
/// let acme = fake.insert("companies", [("name", "Acme")]);
/// let hubspot = HubSpotConnector::new(fake.token())?.base_url(&fake.url());
/// let changes: Vec<_> = FetchByIds::<ClientCompany>::fetch_ids(&hubspot, &[RemoteId::new(acme.to_string()), RemoteId::new("999999")]).await?;
/// assert_eq!(changes.len(), 2);
/// assert!(!changes[0].operation.is_delete());
/// assert!(changes[1].operation.is_delete()); // HubSpot has no record 999999
/// # Ok(()) }
/// ```
#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> FetchByIds<E> for HubSpotConnector {
    async fn fetch_ids(&self, ids: &[RemoteId]) -> Result<Vec<SourceChange<E>>> {
        let map = self.map(E::NAME)?;
        let mut asked: Vec<String> = Vec::with_capacity(ids.len());
        let mut unique = BTreeSet::new();
        for id in ids {
            // HubSpot's record ids are numbers: anything else is a wrong
            // route, never a record to delete.
            let Ok(number) = id.as_str().parse::<u64>() else {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Invalid,
                    format!("`{}` is not a HubSpot record id", id.as_str()),
                )
                .with_system(SystemId::hubspot()));
            };
            if unique.insert(number) {
                asked.push(number.to_string());
            }
        }
        let properties = map.read_properties();
        let path = format!("/crm/v3/objects/{}/batch/read", map.object);
        let mut found = Vec::with_capacity(asked.len());
        let mut missing: BTreeSet<String> = BTreeSet::new();
        for chunk in asked.chunks(BATCH) {
            let body = json!({
                "properties": properties,
                "inputs": chunk.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
            });
            let answer = self.post(&path, &body).await?;
            missing.extend(not_found(&answer, &path)?);
            found.extend(results(&answer, &format!("POST {path}"))?);
        }
        let mut upserts: HashMap<String, SourceChange<E>> = self
            .decode_found::<E>(map, &found)
            .await?
            .into_iter()
            .map(|c| (c.remote_id.as_str().to_owned(), c))
            .collect();
        let now = Utc::now();
        let mut changes = Vec::with_capacity(asked.len());
        for id in asked {
            match upserts.remove(&id) {
                Some(change) => changes.push(change),
                None if missing.contains(&id) => changes.push(SourceChange::delete(id, now)),
                None => {
                    return Err(ConnectorError::new(
                        ConnectorErrorKind::Protocol,
                        format!("POST {path}: record {id} is neither in the results nor among the ids not found"),
                    )
                    .with_system(SystemId::hubspot()));
                }
            }
        }
        Ok(changes)
    }
}

/// The ids a `batch/read` answer's `errors` say were not found; any other
/// error is returned as one.
fn not_found(answer: &Value, path: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for error in answer
        .get("errors")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let category = error.get("category").and_then(Value::as_str);
        if category != Some("OBJECT_NOT_FOUND") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(ConnectorError::new(
                ConnectorErrorKind::Protocol,
                format!(
                    "POST {path}: HubSpot could not read some records ({}): {message}",
                    category.unwrap_or("no category")
                ),
            )
            .with_system(SystemId::hubspot()));
        }
        out.extend(
            error
                .pointer("/context/ids")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(crate::web::id_text),
        );
    }
    Ok(out)
}
