//! Writing: batch update and upsert, associations, line items, archive.

use super::maps::{AssociationMap, ObjectMap, encode, encode_line, lines_of};
use super::{HubSpotConnector, OwnerMap};
use crate::connector::{Operation, Outcome, Sink, SinkRecord, fill_outcomes};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use odoo_integration_model::{ContractLine, Entity, FieldValue, RemoteId, SystemId};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::collections::HashMap;

/// A batch answer: the objects written, and the errors of a 207.
#[derive(Debug, Deserialize)]
struct BatchAnswer {
    #[serde(default)]
    results: Vec<Written>,
    #[serde(default)]
    errors: Vec<BatchError>,
}

#[derive(Debug, Deserialize)]
struct Written {
    id: String,
    /// Upsert only: whether it was created.
    #[serde(default)]
    new: Option<bool>,
    #[serde(default)]
    properties: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct BatchError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    category: String,
    /// Which inputs it concerns, by id (`{"ids": [...]}`), when HubSpot says.
    #[serde(default)]
    context: Map<String, Value>,
}

impl BatchError {
    fn ids(&self) -> Vec<String> {
        self.context
            .values()
            .filter_map(Value::as_array)
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    }

    fn to_error(&self) -> ConnectorError {
        let kind = match self.category.as_str() {
            "OBJECT_NOT_FOUND" => ConnectorErrorKind::NotFound,
            "CONFLICT" | "OBJECT_ALREADY_EXISTS" => ConnectorErrorKind::Conflict,
            "RATE_LIMITS" => ConnectorErrorKind::RateLimited,
            _ => ConnectorErrorKind::Invalid,
        };
        ConnectorError::new(kind, format!("{}: {}", self.category, self.message))
            .with_system(SystemId::hubspot())
    }
}

/// Whether HubSpot refused a whole batch for what one of its inputs holds
/// (a 400 or a 409): then the inputs are tried apart.
fn refuses_the_batch(e: &ConnectorError) -> bool {
    matches!(
        e.kind(),
        ConnectorErrorKind::Invalid | ConnectorErrorKind::Conflict
    )
}

/// An association to write: with the primary label when the pair has one
/// (v4 `batch/create`), else the default one.
fn association_input(from: &str, to: &str, primary: Option<u32>) -> Value {
    match primary {
        Some(p) => json!({
            "from": {"id": from},
            "to": {"id": to},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": p}],
        }),
        None => json!({"from": {"id": from}, "to": {"id": to}}),
    }
}

/// A batch request's body: `{"inputs": [...]}`.
fn batch_body<'a>(values: impl Iterator<Item = &'a Value>) -> Value {
    json!({ "inputs": values.collect::<Vec<_>>() })
}

/// What a written record still needs after its properties: its
/// references as associations, its lines as line items.
struct Extras {
    /// Per association map: the HubSpot id of the referenced record, or
    /// none to remove the association.
    references: Vec<(usize, Option<RemoteId>)>,
    lines: Option<Vec<ContractLine>>,
}

impl HubSpotConnector {
    /// The properties to send for `record`: the mapped fields it carries
    /// (for a new record, those with a value), as HubSpot's strings.
    fn properties_of<E: Entity>(
        map: &ObjectMap,
        record: &SinkRecord<E>,
        data: &E,
    ) -> Result<Map<String, Value>> {
        let creating = record.target_id.is_none();
        let mut out = Map::new();
        for m in map
            .properties
            .iter()
            .filter(|m| !m.read_only && record.writes(&m.canonical))
        {
            let value = data.get(&m.canonical).unwrap_or(FieldValue::Null);
            if creating && value.is_null() {
                continue;
            }
            encode(m, value, &mut out)?;
        }
        Ok(out)
    }

    /// The owner `record` writes: `None` when it does not write the
    /// owner field, `Some(None)` for no owner, else the email.
    fn owner_written<E: Entity>(o: &OwnerMap, record: &SinkRecord<E>) -> Option<Option<String>> {
        let Operation::Upsert(data) = &record.operation else {
            return None;
        };
        if !record.writes(&o.canonical) {
            return None;
        }
        Some(match data.get(&o.canonical) {
            Some(FieldValue::Text(email)) if !email.trim().is_empty() => {
                Some(email.trim().to_owned())
            }
            _ => None,
        })
    }

    /// The associations and lines `record` writes; an error when a
    /// referenced record is not in HubSpot yet.
    fn extras_of<E: Entity>(map: &ObjectMap, record: &SinkRecord<E>, data: &E) -> Result<Extras> {
        let mut references = Vec::new();
        for (n, a) in map.associations.iter().enumerate() {
            if !record.writes(&a.canonical) {
                continue;
            }
            let target = match data.get(&a.canonical) {
                Some(FieldValue::Id(id)) => {
                    Some(record.links.get(&id).cloned().ok_or_else(|| {
                        ConnectorError::new(
                            ConnectorErrorKind::UnresolvedReference,
                            format!("{}: {} {id} is not in HubSpot yet", a.canonical, a.entity),
                        )
                    })?)
                }
                _ => None,
            };
            references.push((n, target));
        }
        let lines = match &map.line_items {
            Some(l) if record.writes(&l.canonical) => Some(lines_of(
                data.get(&l.canonical)
                    .unwrap_or(FieldValue::Rows(Vec::new())),
            )?),
            _ => None,
        };
        Ok(Extras { references, lines })
    }

    /// Sends one kind of batch and gives each input's outcome, matching
    /// answers to inputs by `key` (the id, or the sync property).
    ///
    /// HubSpot applies `batch/update` and `batch/upsert` whole or not at
    /// all: one invalid input refuses the batch with one 400 (or a 409 for
    /// a conflict) that does not say which. Such a batch is halved and the
    /// halves sent again, until the inputs that are refused alone are
    /// found and fail alone; the others are written (each input at most
    /// about 2·log₂(100) times; upserts by key and updates by id are safe
    /// to send again).
    async fn write_batch(
        &self,
        path: &str,
        inputs: Vec<(usize, String, Value)>,
        key_of: impl Fn(&Written) -> Option<String>,
        updating: bool,
        out: &mut [Option<Outcome>],
    ) -> Result<()> {
        for chunk in inputs.chunks(100) {
            // Ranges of `chunk` still to send; the first half first.
            let mut pending: Vec<std::ops::Range<usize>> = Vec::new();
            pending.push(0..chunk.len());
            while let Some(range) = pending.pop() {
                let part = &chunk[range.clone()];
                let body = batch_body(part.iter().map(|(_, _, v)| v));
                let answer: BatchAnswer = match self.post_as(path, &body).await {
                    Ok(answer) => answer,
                    Err(e) if refuses_the_batch(&e) => {
                        if let [(i, _, _)] = part {
                            out[*i] = Some(Outcome::Failed(e));
                        } else {
                            let middle = range.start + part.len() / 2;
                            pending.push(middle..range.end);
                            pending.push(range.start..middle);
                        }
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                Self::outcomes(path, &answer, part, &key_of, updating, out);
            }
        }
        Ok(())
    }

    /// Each input's outcome from a batch answer.
    fn outcomes(
        path: &str,
        answer: &BatchAnswer,
        part: &[(usize, String, Value)],
        key_of: &impl Fn(&Written) -> Option<String>,
        updating: bool,
        out: &mut [Option<Outcome>],
    ) {
        let written: HashMap<String, &Written> = answer
            .results
            .iter()
            .filter_map(|w| key_of(w).map(|k| (k, w)))
            .collect();
        for (i, key, _) in part {
            out[*i] = Some(match written.get(key) {
                Some(w) => {
                    let id = RemoteId::new(w.id.clone());
                    match (updating, w.new) {
                        (false, Some(true)) => Outcome::Created(id),
                        _ => Outcome::Updated(id),
                    }
                }
                None => {
                    let error = answer
                        .errors
                        .iter()
                        .find(|e| e.ids().iter().any(|id| id == key))
                        .or(answer.errors.first())
                        .map(BatchError::to_error)
                        .unwrap_or_else(|| {
                            ConnectorError::new(
                                ConnectorErrorKind::Protocol,
                                format!("POST {path}: no result for {key}"),
                            )
                            .with_system(SystemId::hubspot())
                        });
                    Outcome::Failed(error)
                }
            });
        }
    }

    /// Archives records of `object` by id, 100 per call.
    async fn archive(&self, object: &str, ids: &[String]) -> Result<()> {
        let path = format!("/crm/v3/objects/{object}/batch/archive");
        for chunk in ids.chunks(100) {
            let body =
                json!({"inputs": chunk.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()});
            // 204 No Content: the archive answers no body.
            self.post(&path, &body).await?;
        }
        Ok(())
    }

    /// Makes each record's reference through `a` the one given (or none).
    ///
    /// With a primary type (contact → company, deal → company) the
    /// reference is the primary association: the new target is associated
    /// with the primary label (HubSpot moves it off the old one), and only
    /// the association to the old primary target is removed. Other
    /// associations of the pair, the many-to-many links a user made, are
    /// left alone. Without a primary type the reference is the only
    /// association of the pair, and the others are removed.
    async fn write_associations(
        &self,
        from: &str,
        a: &AssociationMap,
        wanted: &[(String, Option<RemoteId>)],
    ) -> Result<()> {
        let ids: Vec<&str> = wanted.iter().map(|(id, _)| id.as_str()).collect();
        let current = self.associated(from, &a.object, &ids).await?;
        let mut remove = Vec::new();
        let mut add = Vec::new();
        for (id, target) in wanted {
            let now = current.get(id).map(Vec::as_slice).unwrap_or_default();
            let target = target.as_ref().map(RemoteId::as_str);
            let held = |other: &str, types: &[u64]| match a.primary_type_id {
                Some(p) => other != target.unwrap_or_default() && types.contains(&u64::from(p)),
                None => Some(other) != target,
            };
            for (other, _) in now.iter().filter(|(o, types)| held(o, types)) {
                remove.push(json!({"from": {"id": id}, "to": [{"id": other}]}));
            }
            let present = |t: &str| {
                now.iter().any(|(o, types)| {
                    o == t
                        && a.primary_type_id
                            .is_none_or(|p| types.contains(&u64::from(p)))
                })
            };
            if let Some(t) = target.filter(|t| !present(t)) {
                add.push(association_input(id, t, a.primary_type_id));
            }
        }
        let base = format!("/crm/v4/associations/{from}/{}/batch", a.object);
        // The new ones first: a failure never leaves a record without.
        let create = if a.primary_type_id.is_some() {
            "create"
        } else {
            "associate/default"
        };
        for chunk in add.chunks(100) {
            self.post(&format!("{base}/{create}"), &batch_body(chunk.iter()))
                .await?;
        }
        for chunk in remove.chunks(100) {
            self.post(&format!("{base}/archive"), &batch_body(chunk.iter()))
                .await?;
        }
        Ok(())
    }

    /// Replaces each record's line items: the old ones are archived and
    /// the lines created again, associated with the record.
    async fn write_lines(
        &self,
        map: &ObjectMap,
        wanted: &[(String, Vec<ContractLine>)],
    ) -> Result<()> {
        let Some(l) = &map.line_items else {
            return Ok(());
        };
        let ids: Vec<&str> = wanted.iter().map(|(id, _)| id.as_str()).collect();
        let current = self.associated(&map.object, &l.object, &ids).await?;
        let old: Vec<String> = current
            .values()
            .flatten()
            .map(|(id, _)| id.clone())
            .collect();
        self.archive(&l.object, &old).await?;
        let inputs: Vec<Value> = wanted
            .iter()
            .flat_map(|(parent, lines)| {
                lines.iter().map(move |line| {
                    json!({
                        "properties": encode_line(line),
                        "associations": [{
                            "to": {"id": parent},
                            "types": [{
                                "associationCategory": "HUBSPOT_DEFINED",
                                "associationTypeId": l.to_parent_type_id,
                            }],
                        }],
                    })
                })
            })
            .collect();
        let path = format!("/crm/v3/objects/{}/batch/create", l.object);
        for chunk in inputs.chunks(100) {
            self.post(&path, &batch_body(chunk.iter())).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> Sink<E> for HubSpotConnector {
    async fn apply(&self, batch: Vec<SinkRecord<E>>) -> Result<Vec<Outcome>> {
        let map = self.map(E::NAME)?;
        let object = &map.object;
        let mut out: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
        let mut extras: Vec<Option<Extras>> = batch.iter().map(|_| None).collect();
        let mut updates = Vec::new();
        let mut upserts = Vec::new();
        let mut archives = Vec::new();
        let stages = match &map.stages {
            Some(s) => self.stage_writes(object, s, &batch).await?,
            None => None,
        };
        // The owners written, by email: their ids, from one listing.
        let owners = match &map.owner {
            Some(o) => {
                let mut emails: Vec<String> = batch
                    .iter()
                    .filter_map(|r| Self::owner_written(o, r))
                    .flatten()
                    .collect();
                emails.sort_unstable();
                emails.dedup();
                self.owner_ids(&emails).await?
            }
            None => HashMap::new(),
        };
        for (i, record) in batch.iter().enumerate() {
            let data = match (&record.operation, &record.target_id) {
                (Operation::Delete, Some(id)) => {
                    archives.push((i, id.to_string()));
                    continue;
                }
                // Never written to HubSpot: nothing to archive.
                (Operation::Delete, None) => {
                    out[i] = Some(Outcome::Unchanged(record.origin_id.clone()));
                    continue;
                }
                (Operation::Upsert(data), _) => data,
            };
            let prepared = Self::properties_of(map, record, data).and_then(|mut p| {
                if let Some(stages) = &stages {
                    p.extend(stages.properties(record, data)?);
                }
                if let Some(o) = &map.owner {
                    match Self::owner_written(o, record) {
                        None => {}
                        Some(None) if record.target_id.is_none() => {}
                        // No owner: the property cleared.
                        Some(None) => {
                            p.insert(o.property.clone(), Value::String(String::new()));
                        }
                        Some(Some(email)) => {
                            let id = match owners.get(&email.to_lowercase()) {
                                Some(Ok(id)) => id.clone(),
                                Some(Err(e)) => return Err(e.clone()),
                                None => {
                                    return Err(ConnectorError::new(
                                        ConnectorErrorKind::Protocol,
                                        format!("owner `{email}` was not looked up"),
                                    ));
                                }
                            };
                            p.insert(o.property.clone(), Value::String(id));
                        }
                    }
                }
                Ok((p, Self::extras_of(map, record, data)?))
            });
            let (mut properties, extra) = match prepared {
                Ok(p) => p,
                Err(e) => {
                    out[i] = Some(Outcome::Failed(e.with_system(SystemId::hubspot())));
                    continue;
                }
            };
            let more = !extra.references.is_empty() || extra.lines.is_some();
            extras[i] = Some(extra);
            match &record.target_id {
                Some(id) if properties.is_empty() => {
                    out[i] = Some(if more {
                        Outcome::Updated(id.clone())
                    } else {
                        Outcome::Unchanged(id.clone())
                    });
                }
                Some(id) => updates.push((
                    i,
                    id.to_string(),
                    json!({"id": id.as_str(), "properties": properties}),
                )),
                None => {
                    let key = format!("{}:{}", record.origin, record.origin_id);
                    properties.insert(self.sync_property.to_string(), Value::String(key.clone()));
                    upserts.push((
                        i,
                        key.clone(),
                        json!({"idProperty": &*self.sync_property, "id": key, "properties": properties}),
                    ));
                }
            }
        }
        let by_id = |w: &Written| Some(w.id.clone());
        let sync = self.sync_property.clone();
        let by_key = move |w: &Written| {
            w.properties
                .get(&*sync)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        let path = |verb: &str| format!("/crm/v3/objects/{object}/batch/{verb}");
        self.write_batch(&path("update"), updates, by_id, true, &mut out)
            .await?;
        self.write_batch(&path("upsert"), upserts, by_key, false, &mut out)
            .await?;
        // References and lines of the records now written.
        let written = |i: usize| match &out[i] {
            Some(Outcome::Created(id) | Outcome::Updated(id)) => Some(id.to_string()),
            _ => None,
        };
        for (n, a) in map.associations.iter().enumerate() {
            let wanted: Vec<(String, Option<RemoteId>)> = (0..batch.len())
                .filter_map(|i| {
                    let target = extras[i]
                        .as_ref()?
                        .references
                        .iter()
                        .find(|(m, _)| *m == n)?
                        .1
                        .clone();
                    Some((written(i)?, target))
                })
                .collect();
            if !wanted.is_empty() {
                self.write_associations(object, a, &wanted).await?;
            }
        }
        let lines: Vec<(String, Vec<ContractLine>)> = (0..batch.len())
            .filter_map(|i| Some((written(i)?, extras[i].as_mut()?.lines.take()?)))
            .collect();
        if !lines.is_empty() {
            self.write_lines(map, &lines).await?;
        }
        let ids: Vec<String> = archives.iter().map(|(_, id)| id.clone()).collect();
        self.archive(object, &ids).await?;
        for (i, id) in archives {
            out[i] = Some(Outcome::Deleted(RemoteId::new(id)));
        }
        Ok(fill_outcomes(out, "record not sent"))
    }
}
