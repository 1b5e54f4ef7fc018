//! `load(fields, data)`: Odoo's import format, as `BaseModel.load` reads it.
//!
//! - Columns are field paths: `name`, `partner_id/.id` (a database id),
//!   `partner_id/id` (an external id), `partner_id` alone (a name,
//!   matched exactly), `tag_ids/.id` (comma-separated ids), and
//!   `order_line/name`, `order_line/product_id/.id`, ... for the rows of a
//!   one2many.
//! - The `id` column is the record's external id: an existing one makes
//!   the row an update, a new one is registered with the record in the
//!   same transaction.
//! - A row whose only non-empty cells are one2many columns continues the
//!   record above it: each such row is one more child. A child with an
//!   external id (`order_line/id`) that exists is updated in place; any
//!   other child is created (and its external id registered), so loading
//!   the same lines twice onto an existing record without their external
//!   ids appends them again, as Odoo does.
//! - Cells are text. Datetimes are read in the context's `tz` (or the
//!   user's, Europe/Brussels here) and stored in UTC, as Odoo does: send
//!   `tz: UTC` in the context to load UTC values unchanged.
//! - One failing record rolls the whole call back; the answer is then
//!   `{"ids": false, "messages": [...]}` naming each failing record.
//! - External ids are found through the store's index of `ir.model.data`,
//!   and the rollback undoes the rows the call changed (its journal), so a
//!   load costs in proportion to its rows, not to the tables it touches.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Weekday};
use serde_json::{Map, Value, json};

use super::rows::XID_MODEL;
use super::{Caller, Field, FieldKind, ModelDef, R, Raise, Store};

/// A record's cells converted: its external id, its database id, the
/// values to write.
type Converted = (Option<(String, String)>, Option<i64>, Map<String, Value>);

/// One record extracted from the rows: its cells by column path, and its
/// one2many children by field.
#[derive(Debug, Default)]
struct Extracted {
    cells: Vec<(Vec<String>, String)>,
    children: BTreeMap<String, Vec<Extracted>>,
}

impl Store {
    /// Odoo's `load`: creates or updates one record per group of rows.
    pub(in crate::test_server) fn load(
        &mut self,
        def: &ModelDef,
        fields: &[String],
        rows: &[Vec<Value>],
        caller: Caller,
        context: &Map<String, Value>,
    ) -> R<Value> {
        let paths: Vec<Vec<String>> = fields
            .iter()
            .map(|f| f.split('/').map(str::to_owned).collect())
            .collect();
        let text_rows: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                (0..paths.len())
                    .map(|i| cell_text(row.get(i).unwrap_or(&Value::Null)))
                    .collect()
            })
            .collect();
        let tz = Tz::of(context);
        let mut ids = Vec::new();
        let mut messages = Vec::new();
        let spans = match self.extract(def, &paths, &text_rows) {
            Ok(spans) => spans,
            Err(e) => {
                return Ok(json!({
                    "ids": false,
                    "messages": [{"type": "error", "message": e.message, "record": 0,
                                  "rows": {"from": 0, "to": 0}}],
                    "nextrow": 0,
                }));
            }
        };
        // One transaction: every change is journaled, to be undone if a
        // record fails.
        let savepoint = self.savepoint();
        for (index, (from, to, record)) in spans.into_iter().enumerate() {
            match self.load_record(def, record, tz, caller) {
                Ok(id) => ids.push(id),
                Err(e) => messages.push(json!({
                    "type": "error",
                    "message": e.message,
                    "record": index,
                    "rows": {"from": from, "to": to},
                })),
            }
        }
        if messages.is_empty() {
            self.release(savepoint);
            Ok(json!({"ids": ids, "messages": [], "nextrow": 0}))
        } else {
            self.rollback(savepoint);
            Ok(json!({"ids": false, "messages": messages, "nextrow": 0}))
        }
    }

    /// Groups rows into records (`BaseModel._extract_records`): a record's
    /// row, then the rows that carry only one2many cells.
    fn extract(
        &self,
        def: &ModelDef,
        paths: &[Vec<String>],
        rows: &[Vec<String>],
    ) -> R<Vec<(usize, usize, Extracted)>> {
        let mut o2m = Vec::with_capacity(paths.len());
        for path in paths {
            let head = path.first().map(String::as_str).unwrap_or_default();
            let is_o2m = match head {
                "id" | ".id" => false,
                _ => {
                    let field = def.fields.get(head).ok_or_else(|| {
                        Raise::value_error(format!(
                            "Invalid field '{head}' on model '{}'",
                            def.name
                        ))
                    })?;
                    field.kind == FieldKind::One2Many
                }
            };
            o2m.push(is_o2m);
        }
        let only_o2m = |row: &[String]| {
            row.iter().zip(&o2m).any(|(c, o)| *o && !c.is_empty())
                && !row.iter().zip(&o2m).any(|(c, o)| !*o && !c.is_empty())
        };
        let mut out = Vec::new();
        let mut index = 0;
        while index < rows.len() {
            let mut end = index + 1;
            while end < rows.len() && only_o2m(&rows[end]) {
                end += 1;
            }
            let span = &rows[index..end];
            let mut record = Extracted::default();
            for (col, path) in paths.iter().enumerate() {
                if !o2m[col] {
                    record.cells.push((path.clone(), span[0][col].clone()));
                }
            }
            let mut o2m_fields: Vec<&str> = paths
                .iter()
                .zip(&o2m)
                .filter(|(_, o)| **o)
                .map(|(p, _)| p[0].as_str())
                .collect();
            o2m_fields.dedup();
            for name in o2m_fields {
                let field = &def.fields[name];
                let target = self.model(field.relation.as_deref().unwrap_or_default())?;
                let cols: Vec<usize> = (0..paths.len()).filter(|&c| paths[c][0] == name).collect();
                let sub_paths: Vec<Vec<String>> = cols
                    .iter()
                    .map(|&c| {
                        let rest = paths[c][1..].to_vec();
                        if rest.is_empty() {
                            vec!["id".to_owned()]
                        } else {
                            rest
                        }
                    })
                    .collect();
                let sub_rows: Vec<Vec<String>> = span
                    .iter()
                    .map(|row| cols.iter().map(|&c| row[c].clone()).collect::<Vec<_>>())
                    .filter(|cells: &Vec<String>| cells.iter().any(|c| !c.is_empty()))
                    .collect();
                let children = self
                    .extract(target, &sub_paths, &sub_rows)?
                    .into_iter()
                    .map(|(_, _, child)| child)
                    .collect();
                record.children.insert(name.to_owned(), children);
            }
            out.push((index, end - 1, record));
            index = end;
        }
        Ok(out)
    }

    /// Creates or updates one extracted record; returns its id.
    fn load_record(&mut self, def: &ModelDef, record: Extracted, tz: Tz, caller: Caller) -> R<i64> {
        let (xid, db_id, vals) = self.convert(def, &record.cells, tz)?;
        let existing = match (db_id, &xid) {
            (Some(id), _) => {
                if !self.tables[&def.name].contains_key(&id) {
                    return Err(Raise::value_error(format!(
                        "No matching record found for database id '{id}' in field 'ID'"
                    )));
                }
                Some(id)
            }
            (None, Some((module, name))) => self
                .xid_target(module, name)
                .filter(|(model, id, _)| {
                    model == &def.name && self.tables[&def.name].contains_key(id)
                })
                .map(|(_, id, _)| id),
            (None, None) => None,
        };
        let id = match existing {
            Some(id) => {
                self.write_one(def, id, &vals, false)?;
                id
            }
            None => {
                // An empty cell is `False`, as in Odoo (defaults apply only
                // to columns the load does not name).
                let id = self.create_one(&def.name, &vals, caller)?;
                if let Some((module, name)) = &xid {
                    self.register_xid(module, name, &def.name, id)?;
                }
                id
            }
        };
        for (name, children) in record.children {
            let field = def.fields[&name].clone();
            let target = self
                .model(field.relation.as_deref().unwrap_or_default())?
                .clone();
            let inverse = field.inverse.clone().unwrap_or_default();
            for child in children {
                let (child_xid, child_id, mut child_vals) =
                    self.convert(&target, &child.cells, tz)?;
                let known = child_id.or_else(|| {
                    child_xid.as_ref().and_then(|(m, n)| {
                        self.xid_target(m, n)
                            .filter(|(model, cid, _)| {
                                model == &target.name && self.tables[&target.name].contains_key(cid)
                            })
                            .map(|(_, cid, _)| cid)
                    })
                });
                child_vals.insert(inverse.clone(), json!(id));
                match known {
                    Some(cid) => self.write_one(&target, cid, &child_vals, false)?,
                    None => {
                        let cid = self.create_one(&target.name, &child_vals, caller)?;
                        if let Some((m, n)) = &child_xid {
                            self.register_xid(m, n, &target.name, cid)?;
                        }
                    }
                }
            }
        }
        Ok(id)
    }

    /// The external id, database id and write values of a record's cells.
    fn convert(&self, def: &ModelDef, cells: &[(Vec<String>, String)], tz: Tz) -> R<Converted> {
        let mut xid = None;
        let mut db_id = None;
        let mut vals = Map::new();
        for (path, text) in cells {
            let head = path[0].as_str();
            let sub = path.get(1).map(String::as_str);
            if head == "id" && path.len() == 1 {
                if !text.is_empty() {
                    xid = Some(split_xid(text));
                }
                continue;
            }
            if head == ".id" {
                if !text.is_empty() {
                    db_id = Some(text.parse::<i64>().map_err(|_| {
                        Raise::value_error(format!(
                            "Invalid database id '{text}' for the field 'ID'"
                        ))
                    })?);
                }
                continue;
            }
            let field = &def.fields[head];
            let value = if text.is_empty() {
                Value::Bool(false)
            } else {
                match field.kind {
                    FieldKind::Many2One => json!(self.reference(field, sub, text)?),
                    FieldKind::Many2Many => {
                        let mut ids = Vec::new();
                        for part in text.split(',') {
                            ids.push(self.reference(field, sub, part.trim())?);
                        }
                        json!([[6, 0, ids]])
                    }
                    _ => scalar(field, text, tz)?,
                }
            };
            vals.insert(head.to_owned(), value);
        }
        Ok((xid, db_id, vals))
    }

    /// The id a relational cell names: `.id` a database id, `id` an
    /// external id, nothing a name.
    fn reference(&self, field: &Field, sub: Option<&str>, text: &str) -> R<i64> {
        let target = field.relation.as_deref().unwrap_or_default();
        let not_found = |kind: &str| {
            Raise::value_error(format!(
                "No matching record found for {kind} '{text}' in field '{}'",
                field.string
            ))
        };
        let exists = |id: i64| self.tables.get(target).is_some_and(|t| t.contains_key(&id));
        match sub {
            Some(".id") => text
                .parse::<i64>()
                .ok()
                .filter(|&id| exists(id))
                .ok_or_else(|| not_found("database id")),
            Some("id") => {
                let (module, name) = split_xid(text);
                self.xid_target(&module, &name)
                    .filter(|(model, id, _)| model == target && exists(*id))
                    .map(|(_, id, _)| id)
                    .ok_or_else(|| not_found("external id"))
            }
            None => {
                let def = self.model(target)?;
                self.tables[target]
                    .iter()
                    .find(|(_, row)| row.get(&def.rec_name).and_then(Value::as_str) == Some(text))
                    .map(|(id, _)| *id)
                    .ok_or_else(|| not_found("name"))
            }
            Some(other) => Err(Raise::new(
                "builtins.Exception",
                format!("Unknown sub-field '{other}'"),
            )),
        }
    }

    /// `(model, res_id, data id)` of an external id, from the index.
    pub(in crate::test_server) fn xid_target(
        &self,
        module: &str,
        name: &str,
    ) -> Option<(String, i64, i64)> {
        let data_id = self.xids.find(module, name)?;
        let row = self.tables.get(XID_MODEL)?.get(&data_id)?;
        Some((
            row.get("model")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            row.get("res_id").and_then(Value::as_i64).unwrap_or(0),
            data_id,
        ))
    }

    /// Registers (or re-points) an external id.
    fn register_xid(&mut self, module: &str, name: &str, model: &str, res_id: i64) -> R<()> {
        match self.xids.find(module, name) {
            Some(data_id) => {
                self.update_row(XID_MODEL, data_id, |row| {
                    row.insert("model".into(), json!(model));
                    row.insert("res_id".into(), json!(res_id));
                });
                Ok(())
            }
            None => {
                let mut reg = Map::new();
                reg.insert("module".into(), json!(module));
                reg.insert("name".into(), json!(name));
                reg.insert("model".into(), json!(model));
                reg.insert("res_id".into(), json!(res_id));
                reg.insert("noupdate".into(), json!(false));
                self.create_one(XID_MODEL, &reg, self.caller()).map(|_| ())
            }
        }
    }
}

/// A cell as text: strings as they are, numbers written out, empty for
/// `false` and `null`.
fn cell_text(cell: &Value) -> String {
    match cell {
        Value::String(s) => s.clone(),
        Value::Null | Value::Bool(false) => String::new(),
        other => other.to_string(),
    }
}

/// `module.name`; a bare name belongs to `__import__`.
fn split_xid(text: &str) -> (String, String) {
    match text.split_once('.') {
        Some((module, name)) => (module.to_owned(), name.to_owned()),
        None => ("__import__".to_owned(), text.to_owned()),
    }
}

/// A non-relational cell converted by the field's type.
fn scalar(field: &Field, text: &str, tz: Tz) -> R<Value> {
    let bad = |what: &str| {
        Raise::value_error(format!(
            "'{text}' does not seem to be {what} for field '{}'",
            field.string
        ))
    };
    Ok(match field.kind {
        FieldKind::Integer => json!(text.trim().parse::<i64>().map_err(|_| bad("an integer"))?),
        FieldKind::Float | FieldKind::Monetary => {
            json!(text.trim().parse::<f64>().map_err(|_| bad("a number"))?)
        }
        FieldKind::Boolean => match text.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Value::Bool(true),
            "0" | "false" | "no" | "" => Value::Bool(false),
            _ => {
                return Err(Raise::value_error(format!(
                    "Unknown value '{text}' for boolean field '{}'",
                    field.string
                )));
            }
        },
        FieldKind::Date => {
            let d = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map_err(|_| bad("a valid date"))?;
            json!(d.format("%Y-%m-%d").to_string())
        }
        FieldKind::Datetime => {
            let local = NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S")
                .map_err(|_| bad("a valid datetime"))?;
            let utc = local - tz.offset_at_local(local);
            json!(utc.format("%Y-%m-%d %H:%M:%S").to_string())
        }
        FieldKind::Selection => {
            let found = field
                .selection
                .iter()
                .find(|(value, label)| {
                    value.eq_ignore_ascii_case(text) || label.eq_ignore_ascii_case(text)
                })
                .map(|(value, _)| value.clone());
            match found {
                Some(v) => json!(v),
                None if field.selection.is_empty() => json!(text),
                None => {
                    return Err(Raise::value_error(format!(
                        "Value '{text}' not found in selection field '{}'",
                        field.string
                    )));
                }
            }
        }
        _ => json!(text),
    })
}

/// The time zone a load reads datetimes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tz {
    Utc,
    /// Central European Time with EU summer time: the demo users' zone.
    Brussels,
}

impl Tz {
    /// The context's `tz`, else the user's (every user here is in
    /// Brussels, as `context_get` says); an unknown zone falls back to the
    /// user's, as in Odoo.
    fn of(context: &Map<String, Value>) -> Tz {
        match context.get("tz").and_then(Value::as_str) {
            Some("UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "Universal" | "Zulu") => Tz::Utc,
            _ => Tz::Brussels,
        }
    }

    /// The offset from UTC of a local wall-clock time.
    fn offset_at_local(self, local: NaiveDateTime) -> TimeDelta {
        match self {
            Tz::Utc => TimeDelta::zero(),
            Tz::Brussels => {
                // Summer time from the last Sunday of March, 01:00 UTC, to
                // the last Sunday of October, 01:00 UTC.
                let year = local.year();
                let starts = last_sunday(year, 3).and_hms_opt(1, 0, 0);
                let ends = last_sunday(year, 10).and_hms_opt(1, 0, 0);
                let as_utc = local - TimeDelta::hours(1);
                match (starts, ends) {
                    (Some(s), Some(e)) if as_utc >= s && as_utc < e => TimeDelta::hours(2),
                    _ => TimeDelta::hours(1),
                }
            }
        }
    }
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    };
    let mut day = next.and_then(|d| d.pred_opt()).unwrap_or_default();
    while day.weekday() != Weekday::Sun {
        day = day.pred_opt().unwrap_or(day);
    }
    day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brussels_is_one_hour_ahead_in_winter_and_two_in_summer() {
        let at =
            |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap_or_default();
        assert_eq!(
            Tz::Brussels.offset_at_local(at("2026-01-15 09:00:00")),
            TimeDelta::hours(1)
        );
        assert_eq!(
            Tz::Brussels.offset_at_local(at("2026-07-15 09:00:00")),
            TimeDelta::hours(2)
        );
        assert_eq!(
            Tz::Utc.offset_at_local(at("2026-07-15 09:00:00")),
            TimeDelta::zero()
        );
        assert_eq!(
            last_sunday(2026, 3),
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap_or_default()
        );
        assert_eq!(
            last_sunday(2026, 10),
            NaiveDate::from_ymd_opt(2026, 10, 25).unwrap_or_default()
        );
    }
}
