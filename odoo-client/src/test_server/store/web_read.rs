//! `web_search_read(domain, specification, offset, limit, order,
//! count_limit)` and `web_read(ids, specification)`: the web client's
//! reads, with a field specification that reads related records in the
//! same call, built on `search`, `read` and `fields_get`.
//!
//! - A many2one is its id (or `false`) unless its spec has `fields`: then
//!   it is a dict of those fields with `id` (`display_name` included when
//!   asked).
//! - A one2many or many2many is a list of ids, or with `fields` a list of
//!   dicts; its spec may have `order` and `limit`.
//! - `web_search_read` answers `{"length": n, "records": [...]}`, `length`
//!   being the count of all matches when the page is full (bounded by
//!   `count_limit`).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::{Caller, R, Raise, Store};

impl Store {
    /// `web_search_read`.
    pub(super) fn web_search_read(
        &mut self,
        caller: Caller,
        model: &str,
        args: &BTreeMap<String, Value>,
        context: &Map<String, Value>,
    ) -> R<Value> {
        let Some(spec) = args.get("specification") else {
            return Err(Raise::new(
                "builtins.TypeError",
                "Base.web_search_read() missing 1 required positional argument: 'specification'",
            ));
        };
        let spec = spec.as_object().cloned().unwrap_or_default();
        let domain = args.get("domain").cloned().unwrap_or(json!([]));
        let mut search = BTreeMap::new();
        search.insert("domain".to_owned(), domain.clone());
        for k in ["offset", "limit", "order"] {
            if let Some(v) = args.get(k).filter(|v| !v.is_null()) {
                search.insert(k.to_owned(), v.clone());
            }
        }
        let ids = self.call(caller, model, "search", None, &search, context)?;
        let ids: Vec<i64> = serde_json::from_value(ids).unwrap_or_default();
        let records = self.web_read(caller, model, &ids, &spec, context)?;
        if records.is_empty() {
            return Ok(json!({"length": 0, "records": []}));
        }
        let offset = args.get("offset").and_then(Value::as_u64).unwrap_or(0) as usize;
        let limit = args
            .get("limit")
            .and_then(Value::as_u64)
            .map(|l| l as usize);
        let count_limit = args
            .get("count_limit")
            .and_then(Value::as_u64)
            .map(|l| l as usize);
        let current = records.len() + offset;
        let limit_reached = limit == Some(records.len());
        let count_limit_reached = count_limit.is_some_and(|c| c <= current);
        let forced = context
            .get("force_search_count")
            .is_some_and(|v| !matches!(v, Value::Null | Value::Bool(false)));
        let length = if limit.is_some_and(|l| l > 0)
            && ((limit_reached && !count_limit_reached) || forced)
        {
            let mut count = BTreeMap::new();
            count.insert("domain".to_owned(), domain);
            if let Some(c) = count_limit {
                count.insert("limit".to_owned(), json!(c));
            }
            let n = self.call(caller, model, "search_count", None, &count, context)?;
            n.as_u64().unwrap_or(0) as usize
        } else {
            current
        };
        Ok(json!({"length": length, "records": records}))
    }

    /// `web_read` of the records `ids` (those that exist), by `spec`.
    pub(super) fn web_read(
        &mut self,
        caller: Caller,
        model: &str,
        ids: &[i64],
        spec: &Map<String, Value>,
        context: &Map<String, Value>,
    ) -> R<Vec<Value>> {
        let names: Vec<&String> = spec.keys().filter(|k| k.as_str() != "id").collect();
        let mut rows: Vec<Map<String, Value>> = if names.is_empty() {
            ids.iter()
                .map(|id| json!({"id": id}).as_object().cloned().unwrap_or_default())
                .collect()
        } else {
            let mut args = BTreeMap::new();
            args.insert("fields".to_owned(), json!(names));
            let read = self.call(caller, model, "read", Some(ids.to_vec()), &args, context)?;
            serde_json::from_value(read).unwrap_or_default()
        };
        if rows.is_empty() || names.is_empty() {
            return Ok(rows.into_iter().map(Value::Object).collect());
        }
        let mut attrs = BTreeMap::new();
        attrs.insert("attributes".to_owned(), json!(["type", "relation"]));
        let infos = self.call(caller, model, "fields_get", None, &attrs, context)?;
        for (name, field_spec) in spec {
            let Some(info) = infos.get(name) else {
                continue;
            };
            let ty = info.get("type").and_then(Value::as_str).unwrap_or_default();
            let target = info
                .get("relation")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let sub = field_spec.get("fields").and_then(Value::as_object);
            match ty {
                "many2one" => {
                    // `read` gives [id, name]: web_read gives the id.
                    for row in &mut rows {
                        let id = row.get(name).and_then(|v| v.as_array()?.first()?.as_i64());
                        row.insert(name.clone(), id.map_or(Value::Bool(false), |i| json!(i)));
                    }
                    let Some(sub) = sub else { continue };
                    let mut related: Vec<i64> =
                        rows.iter().filter_map(|r| r.get(name)?.as_i64()).collect();
                    related.sort_unstable();
                    related.dedup();
                    let mut extra = sub.clone();
                    let with_name = extra.remove("display_name").is_some();
                    let read = self.web_read(caller, &target, &related, &extra, context)?;
                    let mut by_id: BTreeMap<i64, Value> = read
                        .into_iter()
                        .filter_map(|v| Some((v.get("id")?.as_i64()?, v)))
                        .collect();
                    if with_name {
                        for (id, v) in &mut by_id {
                            if let Some(o) = v.as_object_mut() {
                                o.insert(
                                    "display_name".into(),
                                    json!(self.display_name(&target, *id)),
                                );
                            }
                        }
                    }
                    for row in &mut rows {
                        if let Some(id) = row.get(name).and_then(Value::as_i64) {
                            let v = by_id.get(&id).cloned().unwrap_or(json!({"id": id}));
                            row.insert(name.clone(), v);
                        }
                    }
                }
                "one2many" | "many2many" => {
                    let Some(field_spec) = field_spec.as_object().filter(|o| !o.is_empty()) else {
                        continue;
                    };
                    let ids_of = |row: &Map<String, Value>| -> Vec<i64> {
                        row.get(name)
                            .and_then(Value::as_array)
                            .map(|a| a.iter().filter_map(Value::as_i64).collect())
                            .unwrap_or_default()
                    };
                    if let Some(order) = field_spec
                        .get("order")
                        .and_then(Value::as_str)
                        .filter(|o| !o.is_empty())
                    {
                        let all: Vec<i64> = rows.iter().flat_map(ids_of).collect();
                        let mut args = BTreeMap::new();
                        args.insert("domain".to_owned(), json!([["id", "in", all]]));
                        args.insert("order".to_owned(), json!(order));
                        let mut ctx = context.clone();
                        ctx.insert("active_test".into(), json!(false));
                        let sorted = self.call(caller, &target, "search", None, &args, &ctx)?;
                        let sorted: Vec<i64> = serde_json::from_value(sorted).unwrap_or_default();
                        for row in &mut rows {
                            let mine = ids_of(row);
                            let ordered: Vec<i64> = sorted
                                .iter()
                                .copied()
                                .filter(|i| mine.contains(i))
                                .collect();
                            row.insert(name.clone(), json!(ordered));
                        }
                    }
                    let Some(sub) = sub else { continue };
                    let limit = field_spec
                        .get("limit")
                        .and_then(Value::as_u64)
                        .map(|l| l as usize);
                    let mut wanted: Vec<i64> = Vec::new();
                    for row in &rows {
                        for id in ids_of(row).into_iter().take(limit.unwrap_or(usize::MAX)) {
                            if !wanted.contains(&id) {
                                wanted.push(id);
                            }
                        }
                    }
                    let read = self.web_read(caller, &target, &wanted, sub, context)?;
                    let by_id: BTreeMap<i64, Value> = read
                        .into_iter()
                        .filter_map(|v| Some((v.get("id")?.as_i64()?, v)))
                        .collect();
                    for row in &mut rows {
                        let list: Vec<Value> = ids_of(row)
                            .into_iter()
                            .map(|id| by_id.get(&id).cloned().unwrap_or(json!({"id": id})))
                            .collect();
                        row.insert(name.clone(), Value::Array(list));
                    }
                }
                _ => {}
            }
        }
        Ok(rows.into_iter().map(Value::Object).collect())
    }
}
