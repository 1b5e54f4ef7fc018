//! Grouped reads: `formatted_read_group` (Odoo 19) and the deprecated
//! `read_group`, computed over `search`, `read` and `fields_get`, so that
//! they see exactly the records and values those see.
//!
//! - `formatted_read_group(domain, groupby, aggregates, having, offset,
//!   limit, order)`: each row has the groupby values (many2one `[id,
//!   name]`, a date by granularity `["2026-09-01", "September 2026"]`),
//!   the aggregates asked for, keyed by their spec (`amount:sum`,
//!   `__count`), and `__extra_domain`, the group's own condition (a date
//!   range for a date granularity).
//! - `read_group(domain, fields, groupby, offset, limit, orderby, lazy)`,
//!   deprecated in 19 and still answered: lazy (the default) groups by the
//!   first groupby only, counts in `<groupby>_count` and passes the rest in
//!   `__context`; not lazy, it groups by all and counts in `__count`.
//!   Aggregates are keyed by field name (a plain numeric field is summed),
//!   a date group is a label (`September 2026`) with its `__range`, and
//!   `__domain` is the call's domain and the group's condition.
//! - The fields Odoo expands (the `stage_id` of leads, tasks and projects)
//!   list every stage, empty ones included, with `__fold` when the stage
//!   model has a `fold` field: in a lazy `read_group`, and in
//!   `formatted_read_group` when the context has `read_group_expand`.
//! - Groups come in groupby order (a many2one by its model's `sequence`,
//!   then id; empty values last) unless `order` says otherwise.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, TimeDelta, Timelike};
use serde_json::{Map, Value, json};

use super::{Caller, R, Raise, Store, compare, compare_op, parse_domain};
use crate::domain::{Domain, DomainTree, Operator};

/// Fields with a `group_expand` in Odoo (their groups include every value
/// of the comodel, empty or not).
const GROUP_EXPAND: &[(&str, &str)] = &[
    ("crm.lead", "stage_id"),
    ("project.task", "stage_id"),
    ("project.project", "stage_id"),
];

const AGGREGATES: &[&str] = &[
    "sum",
    "avg",
    "min",
    "max",
    "count",
    "count_distinct",
    "bool_and",
    "bool_or",
    "array_agg",
    "array_agg_distinct",
];

const NUMBER_GRANULARITIES: &[&str] = &[
    "year_number",
    "quarter_number",
    "month_number",
    "iso_week_number",
    "day_of_year",
    "day_of_month",
    "day_of_week",
    "hour_number",
    "minute_number",
    "second_number",
];

/// What `fields_get` says about a field.
#[derive(Debug, Clone, Default)]
struct FieldInfo {
    ty: String,
    relation: Option<String>,
    aggregator: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum TimeGran {
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

#[derive(Debug, Clone, PartialEq)]
enum Gran {
    Plain,
    Time(TimeGran),
    Number(String),
}

/// One groupby: the key in the answer, the field and how it is cut.
#[derive(Debug, Clone)]
struct GroupBy {
    key: String,
    field: String,
    info: FieldInfo,
    gran: Gran,
}

/// One aggregate: the key in the answer and what it computes (`None`:
/// the record count).
#[derive(Debug, Clone)]
struct Aggregate {
    key: String,
    spec: Option<(String, String)>,
}

/// A group: its values (one per groupby) and the rows it holds.
type Group = (Vec<Value>, Vec<usize>);

/// The rows read, and their groups.
type Grouped = (Vec<Map<String, Value>>, Vec<Group>);

/// A comodel's records in order, and their `fold` if it has one.
type Expansion = (Vec<i64>, Option<BTreeMap<i64, bool>>);

fn value_error(message: impl Into<String>) -> Raise {
    Raise::new("builtins.ValueError", message)
}

fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null | Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Bool(true)) => true,
    }
}

fn unset(v: &Value) -> bool {
    matches!(v, Value::Null | Value::Bool(false))
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A date or datetime as `read` returns it.
fn parse_moment(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
}

/// The start of the period holding `t`, and the start of the next one.
/// Weeks start on Sunday, as for `en_US`.
fn period(t: NaiveDateTime, gran: TimeGran) -> Option<(NaiveDateTime, NaiveDateTime)> {
    let day = t.date();
    let midnight = |d: NaiveDate| d.and_hms_opt(0, 0, 0);
    let span = |start: NaiveDate, months: u32| -> Option<(NaiveDateTime, NaiveDateTime)> {
        Some((
            midnight(start)?,
            midnight(start.checked_add_months(Months::new(months))?)?,
        ))
    };
    match gran {
        TimeGran::Hour => {
            let start = day.and_hms_opt(t.hour(), 0, 0)?;
            Some((start, start.checked_add_signed(TimeDelta::hours(1))?))
        }
        TimeGran::Day => Some((midnight(day)?, midnight(day.succ_opt()?)?)),
        TimeGran::Week => {
            let back = i64::from(day.weekday().num_days_from_sunday());
            let start = day.checked_sub_signed(TimeDelta::days(back))?;
            Some((
                midnight(start)?,
                midnight(start.checked_add_signed(TimeDelta::days(7))?)?,
            ))
        }
        TimeGran::Month => span(day.with_day(1)?, 1),
        TimeGran::Quarter => span(
            NaiveDate::from_ymd_opt(day.year(), (day.month0() / 3) * 3 + 1, 1)?,
            3,
        ),
        TimeGran::Year => span(NaiveDate::from_ymd_opt(day.year(), 1, 1)?, 12),
    }
}

/// Odoo's label of a period (`READ_GROUP_DISPLAY_FORMAT`, `en_US`).
fn label(start: NaiveDateTime, gran: TimeGran) -> String {
    let month = MONTHS[start.month0() as usize];
    let short = &month[..3];
    match gran {
        TimeGran::Hour => {
            let h12 = match start.hour() % 12 {
                0 => 12,
                h => h,
            };
            format!("{h12:02}:00 {:02} {short}", start.day())
        }
        TimeGran::Day => format!("{:02} {short} {}", start.day(), start.year()),
        TimeGran::Week => {
            // US weeks: Sunday first, week 1 holds January 1st.
            let first = start.date();
            let last = first
                .checked_add_signed(TimeDelta::days(6))
                .unwrap_or(first);
            if last.year() > first.year() {
                return format!("W1 {:04}", last.year());
            }
            let jan1 = NaiveDate::from_ymd_opt(first.year(), 1, 1).unwrap_or(first);
            let offset = i64::from(jan1.weekday().num_days_from_sunday());
            let week = (i64::from(first.ordinal0()) + offset) / 7 + 1;
            format!("W{week} {:04}", first.year())
        }
        TimeGran::Month => format!("{month} {}", start.year()),
        TimeGran::Quarter => format!("Q{} {}", start.month0() / 3 + 1, start.year()),
        TimeGran::Year => format!("{}", start.year()),
    }
}

fn number_part(t: NaiveDateTime, part: &str) -> i64 {
    let d = t.date();
    i64::from(match part {
        "year_number" => return i64::from(d.year()),
        "quarter_number" => d.month0() / 3 + 1,
        "month_number" => d.month(),
        "iso_week_number" => d.iso_week().week(),
        "day_of_year" => d.ordinal(),
        "day_of_month" => d.day(),
        "day_of_week" => d.weekday().num_days_from_sunday(),
        "hour_number" => t.hour(),
        "minute_number" => t.minute(),
        _ => t.second(),
    })
}

/// Sorts like PostgreSQL: values in order, empty values last (first when
/// descending, which the caller gets by reversing).
fn order_values(a: &Value, b: &Value, boolean: bool) -> Ordering {
    let null = |v: &Value| v.is_null() || (!boolean && v == &Value::Bool(false));
    match (null(a), null(b)) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => match (a, b) {
            (Value::Array(x), Value::Array(y)) => order_values(
                x.first().unwrap_or(&Value::Null),
                y.first().unwrap_or(&Value::Null),
                false,
            ),
            _ => compare(a, b).unwrap_or(Ordering::Equal),
        },
    }
}

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Bool(false), Value::Number)
}

/// One aggregate over the values of a group's rows.
fn aggregate(func: &str, ty: &str, values: &[Value]) -> Value {
    let boolean = ty == "boolean";
    let present: Vec<&Value> = values
        .iter()
        .filter(|v| !(v.is_null() || (!boolean && **v == Value::Bool(false))))
        .collect();
    let scalar = |v: &Value| match v {
        Value::Array(pair) => pair.first().cloned().unwrap_or(Value::Null),
        v => v.clone(),
    };
    match func {
        "count" => json!(present.len()),
        "count_distinct" => {
            let distinct: BTreeSet<String> =
                present.iter().map(|v| scalar(v).to_string()).collect();
            json!(distinct.len())
        }
        "sum" | "avg" => {
            if present.is_empty() {
                return Value::Bool(false);
            }
            let total: f64 = present.iter().filter_map(|v| v.as_f64()).sum();
            if func == "avg" {
                return number(total / present.len() as f64);
            }
            if present.iter().all(|v| v.is_i64()) {
                json!(present.iter().filter_map(|v| v.as_i64()).sum::<i64>())
            } else {
                number(total)
            }
        }
        "min" | "max" => {
            let mut best: Option<Value> = None;
            for v in present.iter().map(|v| scalar(v)) {
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let o = compare(&v, &b).unwrap_or(Ordering::Equal);
                        let better = if func == "min" {
                            o == Ordering::Less
                        } else {
                            o == Ordering::Greater
                        };
                        if better { v } else { b }
                    }
                });
            }
            best.unwrap_or(Value::Bool(false))
        }
        "bool_and" => json!(values.iter().all(|v| truthy(Some(v)))),
        "bool_or" => json!(values.iter().any(|v| truthy(Some(v)))),
        "array_agg" => Value::Array(
            values
                .iter()
                .map(|v| {
                    if unset(v) && !boolean {
                        Value::Null
                    } else {
                        scalar(v)
                    }
                })
                .collect(),
        ),
        _ => {
            // array_agg_distinct
            let mut seen = BTreeSet::new();
            Value::Array(
                present
                    .iter()
                    .map(|v| scalar(v))
                    .filter(|v| seen.insert(v.to_string()))
                    .collect(),
            )
        }
    }
}

fn leaf(field: &str, op: Operator, value: Value) -> R<Domain> {
    Domain::leaf(field, op, value).map_err(|e| value_error(format!("Invalid domain: {e}")))
}

impl Store {
    fn field_infos(
        &mut self,
        caller: Caller,
        model: &str,
        context: &Map<String, Value>,
    ) -> R<BTreeMap<String, FieldInfo>> {
        let mut args = BTreeMap::new();
        args.insert(
            "attributes".to_owned(),
            json!(["type", "relation", "aggregator"]),
        );
        let all = self.call(caller, model, "fields_get", None, &args, context)?;
        Ok(all
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(name, attrs)| {
                        let text =
                            |k: &str| attrs.get(k).and_then(Value::as_str).map(str::to_owned);
                        (
                            name.clone(),
                            FieldInfo {
                                ty: text("type").unwrap_or_default(),
                                relation: text("relation"),
                                aggregator: text("aggregator"),
                            },
                        )
                    })
                    .collect()
            })
            .unwrap_or_default())
    }

    fn parse_groupby(
        model: &str,
        infos: &BTreeMap<String, FieldInfo>,
        spec: &str,
        legacy: bool,
    ) -> R<GroupBy> {
        let (fname, gran) = match spec.split_once(':') {
            Some((f, g)) => (f, Some(g)),
            None => (spec, None),
        };
        let info = infos
            .get(fname)
            .cloned()
            .ok_or_else(|| value_error(format!("Invalid field '{fname}' on model '{model}'")))?;
        let temporal = matches!(info.ty.as_str(), "date" | "datetime");
        let gran = match (temporal, gran) {
            (false, None) => Gran::Plain,
            (false, Some(_)) => {
                return Err(value_error(format!(
                    "Granularity set on a no-datetime field or property: '{spec}'"
                )));
            }
            (true, None) if legacy => Gran::Time(TimeGran::Month),
            (true, None) => {
                return Err(value_error(format!(
                    "Granularity not set on a date(time) field: '{spec}'"
                )));
            }
            (true, Some(g)) => match g {
                "hour" => Gran::Time(TimeGran::Hour),
                "day" => Gran::Time(TimeGran::Day),
                "week" => Gran::Time(TimeGran::Week),
                "month" => Gran::Time(TimeGran::Month),
                "quarter" => Gran::Time(TimeGran::Quarter),
                "year" => Gran::Time(TimeGran::Year),
                g if NUMBER_GRANULARITIES.contains(&g) => Gran::Number(g.to_owned()),
                g => {
                    return Err(value_error(format!(
                        "Granularity specification isn't correct: '{g}'"
                    )));
                }
            },
        };
        Ok(GroupBy {
            key: spec.to_owned(),
            field: fname.to_owned(),
            info,
            gran,
        })
    }

    /// An aggregate spec `field:function`, checked.
    fn parse_aggregate(
        model: &str,
        infos: &BTreeMap<String, FieldInfo>,
        key: &str,
        spec: &str,
    ) -> R<Aggregate> {
        if spec == "__count" {
            return Ok(Aggregate {
                key: key.to_owned(),
                spec: None,
            });
        }
        let (fname, func) = spec.split_once(':').unwrap_or((spec, ""));
        if !infos.contains_key(fname) {
            return Err(value_error(format!(
                "Invalid field '{fname}' on model '{model}' for '{spec}'."
            )));
        }
        if func.is_empty() {
            return Err(value_error(format!(
                "Aggregate method is mandatory for '{fname}'"
            )));
        }
        let func = if func == "recordset" {
            "array_agg"
        } else {
            func
        };
        if !AGGREGATES.contains(&func) {
            return Err(value_error(format!(
                "Invalid aggregate method '{func}' for '{spec}'."
            )));
        }
        Ok(Aggregate {
            key: key.to_owned(),
            spec: Some((fname.to_owned(), func.to_owned())),
        })
    }

    /// The records of `domain` read with `fields`, grouped by `groupby`.
    fn groups(
        &mut self,
        caller: Caller,
        model: &str,
        domain: &Value,
        groupby: &[GroupBy],
        fields: &BTreeSet<String>,
        context: &Map<String, Value>,
    ) -> R<Grouped> {
        let mut args = BTreeMap::new();
        args.insert("domain".to_owned(), domain.clone());
        args.insert("order".to_owned(), json!("id"));
        let ids = self.call(caller, model, "search", None, &args, context)?;
        let ids: Vec<i64> = serde_json::from_value(ids).unwrap_or_default();
        let rows: Vec<Map<String, Value>> = if fields.is_empty() {
            ids.iter()
                .map(|id| json!({"id": id}).as_object().cloned().unwrap_or_default())
                .collect()
        } else {
            let mut args = BTreeMap::new();
            args.insert("fields".to_owned(), json!(fields));
            let read = self.call(caller, model, "read", Some(ids), &args, context)?;
            serde_json::from_value(read).unwrap_or_default()
        };
        if groupby.is_empty() {
            // No groupby: one group of every record, even none.
            return Ok((rows.clone(), vec![(Vec::new(), (0..rows.len()).collect())]));
        }
        let mut groups: Vec<Group> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        for (i, row) in rows.iter().enumerate() {
            let mut keys: Vec<Vec<Value>> = vec![Vec::new()];
            for g in groupby {
                let raw = row.get(&g.field).cloned().unwrap_or(Value::Bool(false));
                let candidates = self.group_values(g, &raw);
                keys = keys
                    .into_iter()
                    .flat_map(|k| {
                        candidates.iter().map(move |c| {
                            let mut k = k.clone();
                            k.push(c.clone());
                            k
                        })
                    })
                    .collect();
            }
            for key in keys {
                let text = Value::Array(key.clone()).to_string();
                match index.get(&text) {
                    Some(&at) => groups[at].1.push(i),
                    None => {
                        index.insert(text, groups.len());
                        groups.push((key, vec![i]));
                    }
                }
            }
        }
        Ok((rows, groups))
    }

    /// The group values a record's value falls in (several for an x2many).
    fn group_values(&self, g: &GroupBy, raw: &Value) -> Vec<Value> {
        match g.info.ty.as_str() {
            "many2many" | "one2many" => {
                let ids: Vec<i64> = raw
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default();
                if ids.is_empty() {
                    return vec![Value::Bool(false)];
                }
                let target = g.info.relation.clone().unwrap_or_default();
                ids.into_iter()
                    .map(|id| json!([id, self.display_name(&target, id)]))
                    .collect()
            }
            "date" | "datetime" => {
                let Some(t) = raw.as_str().and_then(parse_moment) else {
                    return vec![Value::Bool(false)];
                };
                vec![match &g.gran {
                    Gran::Time(gran) => match period(t, *gran) {
                        Some((start, _)) => json!(format_moment(start, &g.info.ty)),
                        None => Value::Bool(false),
                    },
                    Gran::Number(part) => json!(number_part(t, part)),
                    Gran::Plain => raw.clone(),
                }]
            }
            _ => vec![raw.clone()],
        }
    }

    /// Sort keys of the many2one values: the comodel's `sequence`, then id.
    fn sequences(
        &mut self,
        caller: Caller,
        model: &str,
        ids: &[i64],
        context: &Map<String, Value>,
    ) -> BTreeMap<i64, Value> {
        if ids.is_empty() || !self.models.contains_key(model) {
            return BTreeMap::new();
        }
        let has_sequence = self
            .field_infos(caller, model, context)
            .is_ok_and(|f| f.contains_key("sequence"));
        if !has_sequence {
            return BTreeMap::new();
        }
        let mut args = BTreeMap::new();
        args.insert("fields".to_owned(), json!(["sequence"]));
        self.call(caller, model, "read", Some(ids.to_vec()), &args, context)
            .ok()
            .and_then(|v| serde_json::from_value::<Vec<Map<String, Value>>>(v).ok())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|r| Some((r.get("id")?.as_i64()?, r.get("sequence")?.clone())))
            .collect()
    }

    /// Every record of the comodel, in its order, and their `fold` when it
    /// has one.
    fn expansion(
        &mut self,
        caller: Caller,
        comodel: &str,
        context: &Map<String, Value>,
    ) -> R<Expansion> {
        let infos = self.field_infos(caller, comodel, context)?;
        let mut args = BTreeMap::new();
        args.insert("domain".to_owned(), json!([]));
        let found = self.call(caller, comodel, "search", None, &args, context)?;
        let mut ids: Vec<i64> = serde_json::from_value(found).unwrap_or_default();
        let seq = self.sequences(caller, comodel, &ids, context);
        ids.sort_by(|a, b| {
            order_values(
                seq.get(a).unwrap_or(&Value::Null),
                seq.get(b).unwrap_or(&Value::Null),
                false,
            )
            .then(a.cmp(b))
        });
        let fold = if infos.contains_key("fold") {
            let mut args = BTreeMap::new();
            args.insert("fields".to_owned(), json!(["fold"]));
            let rows = self.call(caller, comodel, "read", Some(ids.clone()), &args, context)?;
            let rows: Vec<Map<String, Value>> = serde_json::from_value(rows).unwrap_or_default();
            Some(
                rows.iter()
                    .filter_map(|r| Some((r.get("id")?.as_i64()?, truthy(r.get("fold")))))
                    .collect(),
            )
        } else {
            None
        };
        Ok((ids, fold))
    }

    /// The values of `aggregates` for each group.
    fn aggregate_groups(
        rows: &[Map<String, Value>],
        groups: &[Group],
        aggregates: &[Aggregate],
        infos: &BTreeMap<String, FieldInfo>,
    ) -> Vec<Map<String, Value>> {
        groups
            .iter()
            .map(|(_, members)| {
                let mut out = Map::new();
                for a in aggregates {
                    let v = match &a.spec {
                        None => json!(members.len()),
                        Some((field, func)) => {
                            let values: Vec<Value> = members
                                .iter()
                                .map(|&i| rows[i].get(field).cloned().unwrap_or(Value::Null))
                                .collect();
                            let ty = infos.get(field).map(|f| f.ty.as_str()).unwrap_or("");
                            aggregate(func, ty, &values)
                        }
                    };
                    out.insert(a.key.clone(), v);
                }
                out
            })
            .collect()
    }

    /// Sorts groups (with their aggregates) by `terms`: a groupby index or
    /// an aggregate key, and whether descending.
    fn sort_groups(
        &mut self,
        caller: Caller,
        groupby: &[GroupBy],
        terms: &[(Result<usize, String>, bool)],
        groups: &mut [(Group, Map<String, Value>)],
        context: &Map<String, Value>,
    ) {
        // Many2one values sort by their model's order (sequence, id).
        let mut sequences: BTreeMap<usize, BTreeMap<i64, Value>> = BTreeMap::new();
        for (i, g) in groupby.iter().enumerate() {
            if g.info.ty == "many2one"
                && let Some(target) = g.info.relation.clone()
            {
                let ids: Vec<i64> = groups
                    .iter()
                    .filter_map(|((key, _), _)| key.get(i)?.as_array()?.first()?.as_i64())
                    .collect();
                sequences.insert(i, self.sequences(caller, &target, &ids, context));
            }
        }
        groups.sort_by(|(a, aa), (b, ba)| {
            for (term, desc) in terms {
                let o = match term {
                    Ok(i) => {
                        let (x, y) = (&a.0[*i], &b.0[*i]);
                        let boolean = groupby[*i].info.ty == "boolean";
                        match sequences.get(i) {
                            Some(seq) if !unset(x) && !unset(y) => {
                                let id = |v: &Value| {
                                    v.as_array().and_then(|p| p.first()).and_then(Value::as_i64)
                                };
                                let (ix, iy) = (id(x).unwrap_or(0), id(y).unwrap_or(0));
                                order_values(
                                    seq.get(&ix).unwrap_or(&Value::Null),
                                    seq.get(&iy).unwrap_or(&Value::Null),
                                    false,
                                )
                                .then(ix.cmp(&iy))
                            }
                            _ => order_values(x, y, boolean),
                        }
                    }
                    Err(key) => order_values(
                        aa.get(key).unwrap_or(&Value::Null),
                        ba.get(key).unwrap_or(&Value::Null),
                        false,
                    ),
                };
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    /// The group's own condition for one groupby value, and the value as
    /// `formatted_read_group` shows it.
    fn group_condition(g: &GroupBy, value: &Value) -> R<(Value, Domain)> {
        let f = g.field.as_str();
        if unset(value) && g.info.ty != "boolean" {
            let cond = if matches!(g.info.ty.as_str(), "many2many" | "one2many") {
                leaf(f, Operator::NotAny, json!([]))?
            } else {
                leaf(f, Operator::Eq, Value::Bool(false))?
            };
            return Ok((Value::Bool(false), cond));
        }
        match &g.gran {
            Gran::Time(gran) => {
                let start = value.as_str().and_then(parse_moment);
                let Some((from, to)) = start.and_then(|s| period(s, *gran)) else {
                    return Ok((value.clone(), leaf(f, Operator::Eq, value.clone())?));
                };
                let (from_text, to_text) = (
                    format_moment(from, &g.info.ty),
                    format_moment(to, &g.info.ty),
                );
                let cond = leaf(f, Operator::Ge, json!(from_text))?.and(leaf(
                    f,
                    Operator::Lt,
                    json!(to_text),
                )?);
                Ok((json!([from_text, label(from, *gran)]), cond))
            }
            Gran::Number(part) => Ok((
                value.clone(),
                leaf(&format!("{f}.{part}"), Operator::Eq, value.clone())?,
            )),
            Gran::Plain => {
                let id = match value {
                    Value::Array(pair) => pair.first().cloned().unwrap_or(Value::Bool(false)),
                    v => v.clone(),
                };
                Ok((value.clone(), leaf(f, Operator::Eq, id)?))
            }
        }
    }

    /// `formatted_read_group`.
    pub(super) fn formatted_read_group(
        &mut self,
        caller: Caller,
        model: &str,
        args: &BTreeMap<String, Value>,
        context: &Map<String, Value>,
    ) -> R<Value> {
        let arg = |name: &str| args.get(name).cloned().unwrap_or(Value::Null);
        let infos = self.field_infos(caller, model, context)?;
        let groupby = strings(&arg("groupby"))
            .iter()
            .map(|s| Self::parse_groupby(model, &infos, s, false))
            .collect::<R<Vec<_>>>()?;
        let aggregates = strings(&arg("aggregates"))
            .iter()
            .map(|s| Self::parse_aggregate(model, &infos, s, s))
            .collect::<R<Vec<_>>>()?;
        // Aggregates `order` and `having` use, computed but not shown.
        let having = parse_domain(&arg("having"))?;
        let mut hidden: Vec<Aggregate> = Vec::new();
        for c in having.conditions() {
            if !aggregates.iter().any(|a| a.key == c.field) {
                hidden.push(Self::parse_aggregate(model, &infos, &c.field, &c.field)?);
            }
        }
        let mut terms = Vec::new();
        if let Some(order) = arg("order").as_str().filter(|o| !o.trim().is_empty()) {
            for part in order.split(',') {
                let mut words = part.split_whitespace();
                let Some(term) = words.next() else { continue };
                let desc = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
                if let Some(i) = groupby.iter().position(|g| g.key == term) {
                    terms.push((Ok(i), desc));
                } else {
                    if !aggregates.iter().chain(&hidden).any(|a| a.key == term) {
                        let a = Self::parse_aggregate(model, &infos, term, term).map_err(|_| {
                            value_error(format!(
                                "Order term '{}' is not a valid aggregate nor valid groupby",
                                part.trim()
                            ))
                        })?;
                        hidden.push(a);
                    }
                    terms.push((Err(term.to_owned()), desc));
                }
            }
        } else {
            terms = (0..groupby.len()).map(|i| (Ok(i), false)).collect();
        }
        let mut fields: BTreeSet<String> = groupby.iter().map(|g| g.field.clone()).collect();
        for a in aggregates.iter().chain(&hidden) {
            if let Some((f, _)) = &a.spec {
                fields.insert(f.clone());
            }
        }
        let domain = arg("domain");
        let (rows, groups) = self.groups(caller, model, &domain, &groupby, &fields, context)?;
        let all: Vec<Aggregate> = aggregates.iter().chain(&hidden).cloned().collect();
        let values = Self::aggregate_groups(&rows, &groups, &all, &infos);
        let mut groups: Vec<(Group, Map<String, Value>)> = groups
            .into_iter()
            .zip(values)
            .filter(|(_, v)| having_matches(&having.to_tree(), v))
            .collect();
        self.sort_groups(caller, &groupby, &terms, &mut groups, context);
        let offset = arg("offset").as_u64().unwrap_or(0) as usize;
        let limit = arg("limit").as_u64().map(|l| l as usize);
        let mut groups: Vec<(Group, Map<String, Value>)> = groups
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .collect();
        let mut fold = None;
        if offset == 0
            && limit.is_none_or(|l| groups.len() < l)
            && groupby.len() == 1
            && truthy(context.get("read_group_expand"))
            && GROUP_EXPAND.contains(&(model, groupby[0].field.as_str()))
            && let Some(target) = groupby[0].info.relation.clone()
        {
            let (ids, folds) = self.expansion(caller, &target, context)?;
            let empty =
                Self::aggregate_groups(&rows, &[(Vec::new(), Vec::new())], &aggregates, &infos)
                    .pop()
                    .unwrap_or_default();
            let expanded = expand(groups.clone(), &ids, &target, self, &empty);
            if limit.is_none_or(|l| expanded.len() < l) {
                groups = expanded;
            }
            fold = folds;
        }
        let mut out = Vec::with_capacity(groups.len());
        for ((key, _), values) in groups {
            let mut row = Map::new();
            let mut extra = Vec::new();
            for (g, value) in groupby.iter().zip(&key) {
                let (shown, cond) = Self::group_condition(g, value)?;
                row.insert(g.key.clone(), shown);
                extra.push(cond);
            }
            if let Some(fold) = &fold {
                let id = key
                    .first()
                    .and_then(|v| v.as_array()?.first()?.as_i64())
                    .unwrap_or(0);
                row.insert(
                    "__fold".into(),
                    json!(fold.get(&id).copied().unwrap_or(false)),
                );
            }
            row.insert("__extra_domain".into(), Domain::and_all(extra).to_json());
            for a in &aggregates {
                row.insert(
                    a.key.clone(),
                    values.get(&a.key).cloned().unwrap_or(Value::Null),
                );
            }
            out.push(Value::Object(row));
        }
        Ok(Value::Array(out))
    }

    /// `read_group`, deprecated in Odoo 19 and still answered.
    pub(super) fn legacy_read_group(
        &mut self,
        caller: Caller,
        model: &str,
        args: &BTreeMap<String, Value>,
        context: &Map<String, Value>,
    ) -> R<Value> {
        let arg = |name: &str| args.get(name).cloned().unwrap_or(Value::Null);
        let infos = self.field_infos(caller, model, context)?;
        let all_groupby = strings(&arg("groupby"));
        let lazy = args.get("lazy").is_none_or(|v| truthy(Some(v)));
        let lazy_groupby: Vec<String> = if lazy {
            all_groupby.iter().take(1).cloned().collect()
        } else {
            all_groupby.clone()
        };
        let groupby = lazy_groupby
            .iter()
            .map(|s| Self::parse_groupby(model, &infos, s, true))
            .collect::<R<Vec<_>>>()?;
        let count_key = match groupby.as_slice() {
            [only] if lazy => format!("{}_count", only.key.split(':').next().unwrap_or("")),
            _ => "__count".to_owned(),
        };
        let mut aggregates = vec![Aggregate {
            key: count_key.clone(),
            spec: None,
        }];
        // Aggregators from fields_get when it tells them, else Odoo's
        // defaults (numbers are summed).
        let told = infos.values().any(|f| f.aggregator.is_some());
        for spec in strings(&arg("fields")) {
            if spec == "__count" {
                continue;
            }
            let (name, rest) = spec.split_once(':').unwrap_or((spec.as_str(), ""));
            let ok_name =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
            if !ok_name(name) {
                return Err(value_error(format!(
                    "Invalid field specification '{spec}'."
                )));
            }
            if let Some((func, field)) = rest.split_once('(') {
                // alias:func(field)
                let field = field.trim_end_matches(')');
                aggregates.retain(|a| a.key != name);
                aggregates.push(Self::parse_aggregate(
                    model,
                    &infos,
                    name,
                    &format!("{field}:{func}"),
                )?);
                continue;
            }
            if !rest.is_empty() {
                aggregates.retain(|a| a.key != name);
                aggregates.push(Self::parse_aggregate(model, &infos, name, &spec)?);
                continue;
            }
            let info = infos
                .get(name)
                .ok_or_else(|| value_error(format!("Invalid field '{name}' on model '{model}'")))?;
            let aggregator = if told {
                info.aggregator.clone()
            } else {
                matches!(info.ty.as_str(), "integer" | "float" | "monetary")
                    .then(|| "sum".to_owned())
            };
            if let Some(func) = aggregator
                && name != "id"
                && !lazy_groupby.contains(&spec)
                && !aggregates.iter().any(|a| a.key == name)
            {
                aggregates.push(Aggregate {
                    key: name.to_owned(),
                    spec: Some((name.to_owned(), func)),
                });
            }
        }
        let mut terms = Vec::new();
        if let Some(order) = arg("orderby").as_str().filter(|o| !o.trim().is_empty()) {
            for part in order.split(',') {
                let mut words = part.split_whitespace();
                let Some(term) = words.next() else { continue };
                let desc = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
                if let Some(i) = groupby
                    .iter()
                    .position(|g| g.key == term || g.key.split(':').next() == Some(term))
                {
                    terms.push((Ok(i), desc));
                } else if term == "__count" {
                    terms.push((Err(count_key.clone()), desc));
                } else if aggregates.iter().any(|a| a.key == term) {
                    terms.push((Err(term.to_owned()), desc));
                } else {
                    return Err(value_error(format!(
                        "Order term '{}' is not a valid aggregate nor valid groupby",
                        part.trim()
                    )));
                }
            }
        } else {
            terms = (0..groupby.len()).map(|i| (Ok(i), false)).collect();
        }
        let mut fields: BTreeSet<String> = groupby.iter().map(|g| g.field.clone()).collect();
        for a in &aggregates {
            if let Some((f, _)) = &a.spec {
                fields.insert(f.clone());
            }
        }
        let domain_value = arg("domain");
        let domain = parse_domain(&domain_value)?;
        let (rows, groups) =
            self.groups(caller, model, &domain_value, &groupby, &fields, context)?;
        let values = Self::aggregate_groups(&rows, &groups, &aggregates, &infos);
        let mut groups: Vec<(Group, Map<String, Value>)> = groups.into_iter().zip(values).collect();
        self.sort_groups(caller, &groupby, &terms, &mut groups, context);
        let offset = arg("offset").as_u64().unwrap_or(0) as usize;
        let limit = arg("limit").as_u64().map(|l| l as usize);
        let mut groups: Vec<(Group, Map<String, Value>)> = groups
            .into_iter()
            .skip(offset)
            .take(limit.unwrap_or(usize::MAX))
            .collect();
        let mut fold = None;
        if lazy
            && let Some(first) = groupby.first()
            && GROUP_EXPAND.contains(&(model, first.field.as_str()))
            && let Some(target) = first.info.relation.clone()
        {
            let (ids, folds) = self.expansion(caller, &target, context)?;
            let mut empty = Map::new();
            for a in &aggregates {
                let v = match &a.spec {
                    None => json!(0),
                    Some((_, func)) if func.starts_with("count") => json!(0),
                    Some((_, func)) if func.starts_with("array_agg") => json!([]),
                    Some(_) => Value::Bool(false),
                };
                empty.insert(a.key.clone(), v);
            }
            groups = expand(groups, &ids, &target, self, &empty);
            fold = folds;
        }
        let mut out = Vec::with_capacity(groups.len());
        for ((key, _), values) in groups {
            let mut row = Map::new();
            let mut group_domain = domain.clone();
            let mut ranges = Map::new();
            for (g, value) in groupby.iter().zip(&key) {
                let (shown, cond) = Self::group_condition(g, value)?;
                let shown = match (&g.gran, &shown) {
                    (Gran::Time(_), Value::Array(pair)) => {
                        let from = pair.first().cloned().unwrap_or(Value::Null);
                        let to = cond
                            .conditions()
                            .nth(1)
                            .map(|c| c.value.clone())
                            .unwrap_or(Value::Null);
                        ranges.insert(g.key.clone(), json!({"from": from, "to": to}));
                        pair.get(1).cloned().unwrap_or(Value::Bool(false))
                    }
                    (Gran::Time(_), _) => {
                        ranges.insert(g.key.clone(), Value::Bool(false));
                        shown
                    }
                    _ => shown,
                };
                row.insert(g.key.clone(), shown);
                group_domain = group_domain.and(cond);
            }
            for (k, v) in values {
                row.insert(k, v);
            }
            if let Some(fold) = &fold {
                let id = key
                    .first()
                    .and_then(|v| v.as_array()?.first()?.as_i64())
                    .unwrap_or(0);
                row.insert(
                    "__fold".into(),
                    json!(fold.get(&id).copied().unwrap_or(false)),
                );
            }
            row.insert("__domain".into(), group_domain.to_json());
            if !ranges.is_empty() {
                row.insert("__range".into(), Value::Object(ranges));
            }
            if lazy_groupby.len() < all_groupby.len() {
                row.insert(
                    "__context".into(),
                    json!({"group_by": all_groupby[lazy_groupby.len()..]}),
                );
            }
            out.push(Value::Object(row));
        }
        Ok(Value::Array(out))
    }
}

/// A date or datetime in the server's text format.
fn format_moment(t: NaiveDateTime, ty: &str) -> String {
    if ty == "datetime" {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d").to_string()
    }
}

/// Every comodel record as a group, in the comodel's order, the empty ones
/// with `empty` aggregates; groups of other values (none) follow.
fn expand(
    groups: Vec<(Group, Map<String, Value>)>,
    ids: &[i64],
    comodel: &str,
    store: &Store,
    empty: &Map<String, Value>,
) -> Vec<(Group, Map<String, Value>)> {
    let id_of = |g: &(Group, Map<String, Value>)| {
        g.0.0.first().and_then(|v| v.as_array()?.first()?.as_i64())
    };
    let mut rest: Vec<(Group, Map<String, Value>)> = Vec::new();
    let mut by_id: BTreeMap<i64, (Group, Map<String, Value>)> = BTreeMap::new();
    for g in groups {
        match id_of(&g) {
            Some(id) if ids.contains(&id) => {
                by_id.insert(id, g);
            }
            _ => rest.push(g),
        }
    }
    let mut out: Vec<(Group, Map<String, Value>)> = ids
        .iter()
        .map(|id| {
            by_id.remove(id).unwrap_or_else(|| {
                (
                    (
                        vec![json!([id, store.display_name(comodel, *id)])],
                        Vec::new(),
                    ),
                    empty.clone(),
                )
            })
        })
        .collect();
    out.extend(rest);
    out
}

/// Whether a group's aggregates satisfy `having`.
fn having_matches(tree: &DomainTree, values: &Map<String, Value>) -> bool {
    match tree {
        DomainTree::True => true,
        DomainTree::False => false,
        DomainTree::Not(t) => !having_matches(t, values),
        DomainTree::And(parts) => parts.iter().all(|p| having_matches(p, values)),
        DomainTree::Or(parts) => parts.iter().any(|p| having_matches(p, values)),
        DomainTree::Leaf(c) => compare_op(
            values.get(&c.field).unwrap_or(&Value::Null),
            c.operator,
            &c.value,
        ),
    }
}
