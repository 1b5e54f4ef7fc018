//! The Odoo connector as a [`Sink`]: upserts by external id, deletes.

use super::{OdooConnector, convert, locks, xids};
use crate::connector::{Operation, Outcome, Sink, SinkRecord, fill_outcomes};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use odoo_integration_client::{Domain, ExternalId, Upserted};
use odoo_integration_model::{Entity, FieldValue, RemoteId};
use serde_json::{Map, Value};
use std::collections::HashMap;

#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> Sink<E> for OdooConnector {
    /// The [`OdooMatcher`](super::OdooMatcher) by the entity's
    /// [default keys](odoo_integration_model::match_keys_for), when it has
    /// some and a map.
    fn matcher(&self) -> Option<std::sync::Arc<dyn crate::Matcher<E>>> {
        let keys = odoo_integration_model::match_keys_for(E::NAME);
        if keys.is_empty() || self.maps.get(E::NAME).is_none() {
            return None;
        }
        Some(std::sync::Arc::new(self.matcher::<E>(keys)))
    }

    async fn apply(&self, batch: Vec<SinkRecord<E>>) -> Result<Vec<Outcome>> {
        let map = self.map_of::<E>()?;
        if map.read_only {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("{} is read only in Odoo", E::NAME),
            ));
        }
        let mut out: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
        // Ids written by versions before 0.3, renamed before anything is
        // looked up or written under the new ones.
        let legacy: Vec<(ExternalId, ExternalId)> = batch
            .iter()
            .filter_map(|r| {
                let old = xids::legacy_id(E::NAME, &r.origin, &r.origin_id)?;
                Some((
                    old,
                    OdooConnector::external_id(E::NAME, &r.origin, &r.origin_id).ok()?,
                ))
            })
            .collect();
        xids::adopt_legacy(&self.calls, map.model.as_str(), legacy, &self.adopted).await?;
        let mut upserts: Vec<(usize, ExternalId, Map<String, Value>)> = Vec::new();
        let mut deletes: Vec<(usize, ExternalId, Option<i64>)> = Vec::new();
        for (i, record) in batch.iter().enumerate() {
            let xid = match OdooConnector::external_id(E::NAME, &record.origin, &record.origin_id) {
                Ok(x) => x,
                Err(e) => {
                    out[i] = Some(Outcome::Failed(e));
                    continue;
                }
            };
            match &record.operation {
                Operation::Upsert(data) => match self.values(map, record, data).await {
                    Ok(values) => upserts.push((i, xid, values)),
                    Err(e)
                        if e.kind() == ConnectorErrorKind::Transport
                            || e.kind() == ConnectorErrorKind::Unavailable =>
                    {
                        return Err(e);
                    }
                    Err(e) => out[i] = Some(Outcome::Failed(e)),
                },
                Operation::Delete => {
                    let known = record
                        .target_id
                        .as_ref()
                        .and_then(|t| t.as_str().parse().ok());
                    deletes.push((i, xid, known));
                }
            }
        }
        if let Some(field) = &map.period_date
            && !upserts.is_empty()
        {
            // Accounting records dated inside a locked period are held.
            let move_type = map.defaults.get("move_type").and_then(Value::as_str);
            if let Some(lock) =
                locks::latest_lock(&self.calls, &self.lock_fields, move_type).await?
            {
                upserts.retain(|(i, _, _)| {
                    let date = match &batch[*i].operation {
                        Operation::Upsert(data) => match data.get(field) {
                            Some(FieldValue::Date(d)) => Some(d),
                            _ => None,
                        },
                        Operation::Delete => None,
                    };
                    match date {
                        Some(d) if d <= lock.date => {
                            out[*i] = Some(Outcome::Failed(lock.holds(E::NAME, d)));
                            false
                        }
                        _ => true,
                    }
                });
            }
        }
        if !upserts.is_empty() {
            // Records linked to an Odoo record the sync did not create (a
            // first sync's match) get their external id first.
            let binds: Vec<(ExternalId, i64)> = upserts
                .iter()
                .filter_map(|(i, x, _)| {
                    let id = batch[*i].target_id.as_ref()?.as_str().parse().ok()?;
                    Some((x.clone(), id))
                })
                .collect();
            xids::bind(&self.calls, map.model.as_str(), binds, &self.bound).await?;
            let rows: Vec<(ExternalId, Map<String, Value>)> = upserts
                .iter()
                .map(|(_, x, v)| (x.clone(), v.clone()))
                .collect();
            let results = self
                .calls
                .model(map.model.as_str())
                .upsert_by_external_id(rows)
                .send()
                .await
                .map_err(convert)?;
            for ((i, _, _), result) in upserts.iter().zip(results) {
                out[*i] = Some(match result {
                    Ok(Upserted::Created(id)) => Outcome::Created(RemoteId::new(id.to_string())),
                    Ok(Upserted::Updated(id)) => Outcome::Updated(RemoteId::new(id.to_string())),
                    Ok(Upserted::Unchanged(id)) => {
                        Outcome::Unchanged(RemoteId::new(id.to_string()))
                    }
                    Ok(other) => Outcome::Updated(RemoteId::new(other.id().to_string())),
                    Err(e) => Outcome::Failed(convert(e)),
                });
            }
        }
        if !deletes.is_empty() {
            // Find the records of deletes the pipeline has no Odoo id for.
            let missing: Vec<&ExternalId> = deletes
                .iter()
                .filter(|(_, _, id)| id.is_none())
                .map(|(_, x, _)| x)
                .collect();
            let mut by_xid: HashMap<String, i64> = HashMap::new();
            for x in missing {
                let rows = self
                    .calls
                    .model("ir.model.data")
                    .search_read(
                        Domain::field("module").eq(x.module())
                            & Domain::field("name").eq(x.name())
                            & Domain::field("model").eq(map.model.as_str()),
                    )
                    .fields(["res_id"])
                    .send()
                    .await
                    .map_err(convert)?;
                if let Some(id) = rows
                    .first()
                    .and_then(|r| r.get("res_id"))
                    .and_then(Value::as_i64)
                {
                    by_xid.insert(x.to_string(), id);
                }
            }
            let mut ids = Vec::new();
            for (i, x, known) in &deletes {
                match known.or_else(|| by_xid.get(&x.to_string()).copied()) {
                    Some(id) => ids.push((*i, id)),
                    // Never written to Odoo: nothing to delete.
                    None => out[*i] = Some(Outcome::Unchanged(batch[*i].origin_id.clone())),
                }
            }
            self.delete_all(map, &ids, &mut out).await;
        }
        Ok(fill_outcomes(out, "record not sent"))
    }
}
