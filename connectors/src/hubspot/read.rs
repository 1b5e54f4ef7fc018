//! Reading: incremental search, associations, line items, archived
//! records, and webhook events as changes.

use super::maps::{
    LINE_PROPERTIES, ObjectMap, decode, decode_line, parse_instant, set_field, text,
};
use super::{HubSpotConnector, WebhookEvent};
use crate::connector::{Cursor, Page, Reference, Source, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::web::id_text;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use odoo_integration_model::{
    ClientCompany, ContractLine, Entity, FieldType, FieldValue, SystemId,
};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where an incremental read stands: the last modification time handed
/// out and the ids of that millisecond already handed out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
struct SearchCursor {
    /// Milliseconds since the epoch.
    since: i64,
    /// Ids modified at `since` already read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    seen: Vec<String>,
    /// Paging inside one millisecond with more records than a page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    /// With `poll_archived`: the latest archive time already handed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    archived: Option<i64>,
    /// With `poll_archived`: when archived records were last listed
    /// (milliseconds since the epoch, this machine's clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    archived_listed: Option<i64>,
}

/// One object of a search, list or batch read answer.
#[derive(Debug, Deserialize)]
pub(super) struct Found {
    pub(super) id: String,
    #[serde(default)]
    pub(super) properties: Map<String, Value>,
    #[serde(default, rename = "archivedAt")]
    archived_at: Option<String>,
}

/// The objects of an answer's `results`.
pub(super) fn results(answer: &Value, what: &str) -> Result<Vec<Found>> {
    let Some(results) = answer.get("results") else {
        return Ok(Vec::new());
    };
    crate::http::decode_value(&SystemId::hubspot(), "HubSpot", what, "results", results)
}

fn modified_ms(found: &Found, property: &str) -> Result<i64> {
    let raw = found
        .properties
        .get(property)
        .and_then(Value::as_str)
        .unwrap_or_default();
    parse_instant(raw)
        .map(|t| t.timestamp_millis())
        .ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::Protocol,
                format!("record {} has no readable {property}: `{raw}`", found.id),
            )
            .with_system(SystemId::hubspot())
        })
}

fn at_ms(ms: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or_default()
}

impl HubSpotConnector {
    /// The associations of `ids` (of `from`) to `to`: for each id that has
    /// any, the associated ids with their type ids, lowest id first.
    pub(super) async fn associated(
        &self,
        from: &str,
        to: &str,
        ids: &[&str],
    ) -> Result<HashMap<String, Vec<(String, Vec<u64>)>>> {
        let mut out: HashMap<String, Vec<(String, Vec<u64>)>> = HashMap::new();
        let path = format!("/crm/v4/associations/{from}/{to}/batch/read");
        // (id, the page to read): an object with more associations than
        // one answer holds is read again from its `paging.next.after`.
        let mut pending: Vec<(String, Option<String>)> =
            ids.iter().map(|id| ((*id).to_owned(), None)).collect();
        while !pending.is_empty() {
            let mut next = Vec::new();
            for chunk in pending.chunks(100) {
                let inputs: Vec<Value> = chunk
                    .iter()
                    .map(|(id, after)| match after {
                        Some(after) => json!({"id": id, "after": after}),
                        None => json!({"id": id}),
                    })
                    .collect();
                // A 207 names the ids without associations: not an error here.
                let answer = self.post(&path, &json!({ "inputs": inputs })).await?;
                for row in answer
                    .get("results")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Some(page) = Self::association_row(row, &mut out) {
                        let asked = chunk.iter().find(|(id, _)| *id == page.0);
                        // The same page again is no progress: stop, loudly.
                        if asked.is_some_and(|(_, after)| after.as_deref() == Some(&page.1)) {
                            return Err(ConnectorError::new(
                                ConnectorErrorKind::NoProgress,
                                format!("POST {path}: {} answered the same page twice", page.0),
                            )
                            .with_system(SystemId::hubspot()));
                        }
                        next.push((page.0, Some(page.1)));
                    }
                }
            }
            pending = next;
        }
        for slot in out.values_mut() {
            slot.sort_by(|a, b| numeric_order(&a.0, &b.0));
            slot.dedup_by(|a, b| a.0 == b.0);
        }
        Ok(out)
    }

    /// Adds one row of an association read to `out`; the object's id and
    /// the `after` of its next page, when it has more.
    fn association_row(
        row: &Value,
        out: &mut HashMap<String, Vec<(String, Vec<u64>)>>,
    ) -> Option<(String, String)> {
        let from_id = row.pointer("/from/id").and_then(id_text)?;
        let slot = out.entry(from_id.clone()).or_default();
        for t in row
            .get("to")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(to_id) = t.get("toObjectId").and_then(id_text) else {
                continue;
            };
            let types = t
                .get("associationTypes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|ty| ty.get("typeId").and_then(Value::as_u64))
                .collect();
            slot.push((to_id, types));
        }
        let after = row.pointer("/paging/next/after").and_then(Value::as_str)?;
        Some((from_id, after.to_owned()))
    }

    /// Reads records of `object` by id, in batches of 100.
    pub(super) async fn batch_read(
        &self,
        object: &str,
        properties: &[&str],
        ids: &[String],
    ) -> Result<Vec<Found>> {
        let path = format!("/crm/v3/objects/{object}/batch/read");
        let mut found = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(100) {
            let body = json!({
                "properties": properties,
                "inputs": chunk.iter().map(|id| json!({"id": id})).collect::<Vec<_>>(),
            });
            found.extend(results(
                &self.post(&path, &body).await?,
                &format!("POST {path}"),
            )?);
        }
        Ok(found)
    }

    /// Turns found records into changes: their properties, references
    /// (associations) and line items, each read in batch for the lot.
    pub(super) async fn decode_found<E: Entity + Default>(
        &self,
        map: &ObjectMap,
        found: &[Found],
    ) -> Result<Vec<SourceChange<E>>> {
        let ids: Vec<&str> = found.iter().map(|f| f.id.as_str()).collect();
        let mut references = Vec::with_capacity(map.associations.len());
        for a in &map.associations {
            let links = self.associated(&map.object, &a.object, &ids).await?;
            references.push((a, links));
        }
        let mut lines: HashMap<String, Vec<ContractLine>> = HashMap::new();
        if let Some(l) = &map.line_items {
            let items = self.associated(&map.object, &l.object, &ids).await?;
            let all: Vec<String> = items.values().flatten().map(|(id, _)| id.clone()).collect();
            let read = self.batch_read(&l.object, &LINE_PROPERTIES, &all).await?;
            let by_id: HashMap<&str, &Found> = read.iter().map(|f| (f.id.as_str(), f)).collect();
            for (parent, children) in &items {
                let rows = children
                    .iter()
                    .filter_map(|(id, _)| by_id.get(id.as_str()))
                    .map(|f| decode_line(&f.id, &f.properties, self.currency))
                    .collect();
                lines.insert(parent.clone(), rows);
            }
        }
        // Owner ids as emails, from one listing of the owners.
        let owners = match &map.owner {
            Some(o) => {
                let mut ids: Vec<&str> = found
                    .iter()
                    .filter_map(|f| text(&f.properties, &o.property))
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                self.owner_emails(&ids).await?
            }
            None => HashMap::new(),
        };
        let mut changes = Vec::with_capacity(found.len());
        let mut pipelines = match &map.stages {
            Some(_) if !found.is_empty() => {
                Some((self.pipelines(&map.object, false).await?, false))
            }
            _ => None,
        };
        for f in found {
            let mut record = E::default();
            let mut fields = Vec::with_capacity(map.properties.len() + 3);
            for m in &map.properties {
                match decode(m, &f.properties, self.currency) {
                    Ok(value) => {
                        set_field(&mut record, &m.canonical, value)?;
                        fields.push(m.canonical.clone());
                    }
                    Err(why) => tracing::warn!(
                        object = %map.object, id = %f.id, field = %m.canonical,
                        "HubSpot value left out: {why}"
                    ),
                }
            }
            if let (Some(s), Some((known, fresh))) = (&map.stages, pipelines.as_mut())
                && let Some(stage) = text(&f.properties, &s.stage_property)
            {
                let pipeline = text(&f.properties, &s.pipeline_property);
                match self
                    .stage_kind(&map.object, known, fresh, pipeline, stage)
                    .await?
                {
                    Some(kind) => s.set(&mut record, &mut fields, kind)?,
                    None => tracing::warn!(
                        object = %map.object, id = %f.id, stage, pipeline,
                        "HubSpot stage left out: not a stage of the pipeline, or closed but neither won nor lost"
                    ),
                }
            }
            if let Some(o) = &map.owner {
                match text(&f.properties, &o.property) {
                    None => {
                        set_field(&mut record, &o.canonical, FieldValue::Null)?;
                        fields.push(o.canonical.clone());
                    }
                    Some(id) => match owners.get(id) {
                        Some(email) => {
                            set_field(&mut record, &o.canonical, FieldValue::Text(email.clone()))?;
                            fields.push(o.canonical.clone());
                        }
                        None => tracing::warn!(
                            object = %map.object, id = %f.id, owner = id,
                            "HubSpot owner left out: no owner, active or archived, has this id"
                        ),
                    },
                }
            }
            if let Some(l) = &map.line_items {
                let rows = lines.remove(&f.id).unwrap_or_default();
                set_field(&mut record, &l.canonical, rows.to_value())?;
                fields.push(l.canonical.clone());
            }
            let at = at_ms(modified_ms(f, map.modified_property())?);
            let mut change = SourceChange::upsert(f.id.clone(), at, record);
            for (a, links) in &references {
                let target = links.get(&f.id).and_then(|targets| {
                    let primary = a.primary_type_id.map(u64::from);
                    targets
                        .iter()
                        .find(|(_, types)| primary.is_some_and(|p| types.contains(&p)))
                        .or(targets.first())
                });
                if let Some((to, _)) = target {
                    change = change.with_ref(a.canonical.clone(), Reference::new(&a.entity, to));
                }
                fields.push(a.canonical.clone());
            }
            changes.push(change.with_fields(fields));
        }
        Ok(changes)
    }

    /// Archived records of `object`, listed whole (the list API with
    /// `archived=true`, paged with `after`), as deletes of those archived
    /// after `mark`; and the new mark. Without a mark, the first look only
    /// sets it.
    async fn archived_since<E>(
        &self,
        object: &str,
        mark: Option<i64>,
    ) -> Result<(Vec<SourceChange<E>>, i64)> {
        let mut after: Option<String> = None;
        let mut deletes = Vec::new();
        let mut latest = mark.unwrap_or(0);
        loop {
            let mut path =
                format!("/crm/v3/objects/{object}?archived=true&limit=100&properties=hs_object_id");
            if let Some(a) = &after {
                path.push_str("&after=");
                path.push_str(a);
            }
            let answer = self.request(Method::GET, &path, None).await?;
            for f in results(&answer, &format!("GET /crm/v3/objects/{object}"))? {
                let Some(when) = f.archived_at.as_deref().and_then(parse_instant) else {
                    continue;
                };
                let ms = when.timestamp_millis();
                if mark.is_some_and(|m| ms > m) {
                    deletes.push(SourceChange::delete(f.id.clone(), when));
                }
                latest = latest.max(ms);
            }
            after = answer
                .pointer("/paging/next/after")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if after.is_none() {
                break;
            }
        }
        Ok((deletes, latest))
    }

    /// Turns a webhook batch into changes of entity `E`, for a pipeline fed
    /// by webhooks instead of (or besides) polling.
    ///
    /// Property changes of one record are combined into one change that
    /// names only the fields they touch (the latest value of each wins), so
    /// nothing else of the record is cleared; a deletion is a delete; a
    /// created, restored or merged record, a changed association, a
    /// change of owner (an id to turn into an email), and a change to a
    /// field made of two properties (a full name, an amount and its
    /// currency) read the record whole (`batch/read`). Events of other
    /// objects and of unmapped properties are skipped.
    ///
    /// # Errors
    ///
    /// `E` has no object map, or reading records failed.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::hubspot::{Deduplicator, WebhookEvent};
    /// let fake = FakeHubSpot::start().await?;
    /// # let hs = HubSpotConnector::new(fake.token())?.base_url(&fake.url());
    /// let deal = fake.insert("deals", [("dealname", "Rollout")]);
    /// // A verified webhook request's body (see `WebhookReceiver`), delivered twice.
    /// let body = format!(r#"[{{"eventId":1,"subscriptionType":"deal.creation","objectId":{deal},"occurredAt":1795000000000}}]"#);
    /// let mut seen = Deduplicator::new(100_000);
    /// let events = seen.fresh(WebhookEvent::parse_batch(body.as_bytes())?);
    /// let deals = hs.changes::<odoo_integration_model::Opportunity>(&events).await?;
    /// assert!(matches!(&deals[0].operation, Operation::Upsert(d) if d.name == "Rollout"));
    /// assert!(seen.fresh(WebhookEvent::parse_batch(body.as_bytes())?).is_empty());
    /// # Ok(()) }
    /// ```
    pub async fn changes<E: Entity + Default>(
        &self,
        events: &[WebhookEvent],
    ) -> Result<Vec<SourceChange<E>>> {
        let map = self.map(E::NAME)?;
        let kind = |e: &WebhookEvent| {
            e.subscription_type
                .strip_prefix(map.event_name.as_str())
                .and_then(|rest| rest.strip_prefix('.'))
                .map(str::to_owned)
        };
        // object id → property → (when, value)
        let mut touched: BTreeMap<u64, BTreeMap<String, (i64, Option<String>)>> = BTreeMap::new();
        let mut deleted: BTreeMap<u64, i64> = BTreeMap::new();
        let mut fetch: BTreeSet<u64> = BTreeSet::new();
        for e in events {
            match kind(e).as_deref() {
                Some("propertyChange") => {
                    let Some(name) = &e.property_name else {
                        continue;
                    };
                    let stages = map.stages.as_ref();
                    if stages.is_some_and(|s| *name == s.pipeline_property) {
                        // A deal moved to another pipeline: its stage too.
                        fetch.insert(e.object_id);
                        continue;
                    }
                    if map.owner.as_ref().is_some_and(|o| *name == o.property) {
                        // An owner id: read whole, the id turned into an email.
                        fetch.insert(e.object_id);
                        continue;
                    }
                    let is_stage = stages.is_some_and(|s| *name == s.stage_property);
                    let Some(m) = map.by_property(name) else {
                        if is_stage {
                            let slot = touched.entry(e.object_id).or_default();
                            if slot.get(name).is_none_or(|(t, _)| *t <= e.occurred_at) {
                                slot.insert(
                                    name.clone(),
                                    (e.occurred_at, e.property_value.clone()),
                                );
                            }
                        }
                        continue;
                    };
                    if m.sources().count() > 1 {
                        fetch.insert(e.object_id);
                        continue;
                    }
                    let slot = touched.entry(e.object_id).or_default();
                    let newer = slot.get(name).is_none_or(|(t, _)| *t <= e.occurred_at);
                    if newer {
                        slot.insert(name.clone(), (e.occurred_at, e.property_value.clone()));
                    }
                }
                // A privacy deletion (GDPR) removes the record for good.
                Some("deletion" | "privacyDeletion") => {
                    deleted.insert(e.object_id, e.occurred_at);
                }
                // The records merged away are gone: deletes; the one that
                // remains is read whole (it took their values).
                Some("merge") => {
                    let primary = e.primary_object_id.unwrap_or(e.object_id);
                    for &gone in e.merged_object_ids.iter().filter(|id| **id != primary) {
                        deleted.insert(gone, e.occurred_at);
                    }
                    fetch.insert(primary);
                }
                Some("creation" | "restore" | "associationChange") => {
                    fetch.insert(e.object_id);
                }
                _ => {}
            }
        }
        let mut changes = Vec::new();
        let mut pipelines = None;
        for (id, props) in touched {
            if deleted.contains_key(&id) || fetch.contains(&id) {
                continue; // the delete, or the whole record, says more
            }
            let mut record = E::default();
            let mut fields = Vec::new();
            let mut at = 0;
            for (property, (when, value)) in props {
                if let Some(s) = map.stages.as_ref().filter(|s| property == s.stage_property) {
                    let kind = match value.as_deref() {
                        Some(stage) => {
                            let (known, fresh) = match &mut pipelines {
                                Some(p) => p,
                                None => pipelines
                                    .insert((self.pipelines(&map.object, false).await?, false)),
                            };
                            self.stage_kind(&map.object, known, fresh, None, stage)
                                .await?
                        }
                        None => None,
                    };
                    match kind {
                        Some(kind) => {
                            s.set(&mut record, &mut fields, kind)?;
                            at = at.max(when);
                        }
                        None => {
                            tracing::warn!(
                                id,
                                "HubSpot webhook stage left out: not a stage of any pipeline"
                            );
                        }
                    }
                    continue;
                }
                let Some(m) = map.by_property(&property) else {
                    continue;
                };
                let mut one = Map::new();
                if let Some(v) = value {
                    one.insert(property.clone(), Value::String(v));
                }
                match decode(m, &one, self.currency) {
                    Ok(v) => {
                        set_field(&mut record, &m.canonical, v)?;
                        fields.push(m.canonical.clone());
                        at = at.max(when);
                    }
                    Err(why) => tracing::warn!(id, "HubSpot webhook value left out: {why}"),
                }
            }
            if !fields.is_empty() {
                changes.push(
                    SourceChange::upsert(id.to_string(), at_ms(at), record).with_fields(fields),
                );
            }
        }
        for (&id, &when) in &deleted {
            changes.push(SourceChange::delete(id.to_string(), at_ms(when)));
        }
        // A record created and deleted in one batch is only deleted.
        let fetch: Vec<String> = fetch
            .difference(&deleted.keys().copied().collect())
            .map(u64::to_string)
            .collect();
        if !fetch.is_empty() {
            let properties = map.read_properties();
            let properties: Vec<&str> = properties.iter().map(String::as_str).collect();
            let found = self.batch_read(&map.object, &properties, &fetch).await?;
            changes.extend(self.decode_found::<E>(map, &found).await?);
        }
        Ok(changes)
    }

    /// [`changes`](Self::changes) of companies.
    ///
    /// # Errors
    ///
    /// Reading the created companies failed.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::hubspot::*;
    /// # use odoo_integration_fakes::hubspot::FakeHubSpot;
    /// # use odoo_integration_connectors::{Operation, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let fake = FakeHubSpot::start().await?;
    /// # let hs = HubSpotConnector::new(fake.token())?.base_url(&fake.url());
    /// let events = WebhookEvent::parse_batch(
    ///     br#"[{"eventId":7,"subscriptionType":"company.deletion","objectId":981,"occurredAt":1795000000000}]"#)?;
    /// let changes = hs.company_changes(&events).await?;
    /// assert!(changes[0].operation.is_delete());
    /// assert_eq!(changes[0].remote_id.as_str(), "981");
    /// # Ok(()) }
    /// ```
    pub async fn company_changes(
        &self,
        events: &[WebhookEvent],
    ) -> Result<Vec<SourceChange<ClientCompany>>> {
        self.changes::<ClientCompany>(events).await
    }
}

/// Orders ids numerically when both are numbers (HubSpot's are).
fn numeric_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> Source<E> for HubSpotConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<E>> {
        let map = self.map(E::NAME)?;
        let cursor: SearchCursor = match since {
            Some(c) => serde_json::from_str(c.as_str()).map_err(|e| {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    format!("not a HubSpot cursor: {e}"),
                )
            })?,
            None => SearchCursor::default(),
        };
        let limit = limit.clamp(1, 100);
        // Contacts keep it in `lastmodifieddate`: a search on
        // `hs_lastmodifieddate` finds no contact at all.
        let modified = map.modified_property();
        let mut filters = vec![json!({
            "propertyName": modified,
            "operator": "GTE",
            "value": cursor.since.to_string(),
        })];
        if !self.settle.is_zero() {
            let settled = Utc::now() - self.settle;
            filters.push(json!({
                "propertyName": modified,
                "operator": "LT",
                "value": settled.timestamp_millis().to_string(),
            }));
        }
        let mut body = json!({
            "filterGroups": [{"filters": filters}],
            "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
            "properties": map.read_properties(),
            "limit": limit,
        });
        if let Some(after) = &cursor.after {
            body["after"] = Value::String(after.clone());
        }
        let path = format!("/crm/v3/objects/{}/search", map.object);
        let answer = self.post(&path, &body).await?;
        let found = results(&answer, &format!("POST {path}"))?;
        let next_after = answer
            .pointer("/paging/next/after")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let mut fresh = Vec::with_capacity(found.len());
        let mut next = cursor.clone();
        next.after = None;
        for f in found {
            let ms = modified_ms(&f, map.modified_property())?;
            if ms == cursor.since && cursor.seen.contains(&f.id) {
                continue; // handed out by an earlier read
            }
            if ms > next.since {
                next.since = ms;
                next.seen.clear();
            }
            if ms == next.since {
                next.seen.push(f.id.clone());
            }
            fresh.push(f);
        }
        let mut changes = self.decode_found::<E>(map, &fresh).await?;
        // HubSpot says whether more results follow. A page that ended in
        // the millisecond it started from (a burst of changes in one
        // millisecond) goes on with `after` in the same search; otherwise
        // the next read starts a new search from the last millisecond
        // read, so no search pages far.
        let more = next_after.is_some();
        if next.since == cursor.since {
            next.after = next_after;
        }
        // Listing every archived record is costly: at most once per
        // `archived_every`, on a read that has caught up.
        let now = Utc::now().timestamp_millis();
        let due = cursor.archived_listed.is_none_or(|last| {
            let every = i64::try_from(self.archived_every.as_millis()).unwrap_or(i64::MAX);
            now.saturating_sub(last) >= every
        });
        if !more && self.poll_archived && due {
            let (deletes, mark) = self.archived_since(&map.object, cursor.archived).await?;
            changes.extend(deletes);
            next.archived = Some(mark);
            next.archived_listed = Some(now);
        }
        let encoded = serde_json::to_string(&next).map_err(|e| {
            ConnectorError::new(ConnectorErrorKind::Protocol, format!("cursor: {e}"))
        })?;
        Ok(Page {
            changes,
            next: Cursor::new(encoded),
            has_more: more,
        })
    }
}
