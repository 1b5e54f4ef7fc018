//! The payroll endpoints of [`FakeGusto`](super::FakeGusto): list, show,
//! prepare and update, shaped as Gusto shapes a payroll for its state
//! (processed, calculated or neither).

use super::{Company, errors, json_answer, paged, period, text, with_headers};
use axum::response::Response;
use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::str::FromStr;

/// Whether a stored payroll holds a valid calculation (`calculated_at`
/// set; a processed payroll always does).
pub(super) fn is_calculated(p: &Value) -> bool {
    p["processed"] == true || !p["calculated_at"].is_null()
}

/// `calculated_at` as Gusto writes it, for now.
pub(super) fn timestamp() -> String {
    Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Drops a payroll's calculation, as Gusto's prepare (and an update) do:
/// `calculated_at` and `totals` become null.
fn uncalculate(c: &mut Company, id: &str) {
    if let Some(p) = c.payroll_mut(id) {
        p["calculated_at"] = Value::Null;
        p["totals"] = Value::Null;
    }
}

/// A decimal amount sent as a string or a number (zero if absent or not
/// one).
fn amount(v: &Value) -> Decimal {
    match v {
        Value::String(s) => Decimal::from_str(s.trim()).unwrap_or_default(),
        Value::Number(n) => Decimal::from_str(&n.to_string()).unwrap_or_default(),
        _ => Decimal::ZERO,
    }
}

/// The totals of a calculated payroll: the sums of its compensations'
/// gross and net pay, to the cent.
fn totals(p: &Value) -> Value {
    let comps = p["employee_compensations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sum = |key: &str| -> String {
        let total: Decimal = comps.iter().map(|c| amount(&c[key])).sum();
        format!("{:.2}", total.round_dp(2))
    };
    json!({"gross_pay": sum("gross_pay"), "net_pay": sum("net_pay"), "check_amount": sum("check_amount")})
}

/// Which answer shows a payroll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum View {
    /// `GET …/payrolls/{id}`.
    Get,
    /// The answer of a prepare or an update.
    Prepared,
}

/// Whether an hourly (by `hours`) or fixed (by `amount`) compensation
/// holds more than zero.
fn positive(item: &Value, key: &str) -> bool {
    amount(&item[key]) > Decimal::ZERO
}

/// An employee compensation as Gusto shows it: `gross_pay`, `net_pay` and
/// `check_amount` only once the payroll is processed (null before); an
/// hourly or fixed compensation's `amount` only once it is calculated;
/// `version` only in a prepare's (or an update's) answer; and a processed
/// payroll lists only the hourly and fixed compensations above zero.
fn shape_compensation(comp: &mut Value, processed: bool, calculated: bool, view: View) {
    if !processed {
        for key in ["gross_pay", "net_pay", "check_amount"] {
            comp[key] = Value::Null;
        }
    }
    if view == View::Get
        && let Some(o) = comp.as_object_mut()
    {
        o.remove("version");
    }
    for (list, key) in [
        ("hourly_compensations", "hours"),
        ("fixed_compensations", "amount"),
    ] {
        let Some(items) = comp.get_mut(list).and_then(Value::as_array_mut) else {
            continue;
        };
        if processed {
            items.retain(|i| positive(i, key));
        }
        if !calculated {
            for i in items.iter_mut().filter_map(Value::as_object_mut) {
                i.remove("amount");
            }
        }
    }
}

/// A stored payroll as Gusto shows it: `totals` only while it is
/// calculated, its compensations shaped by [`shape_compensation`].
fn shaped(mut p: Value, view: View) -> Value {
    let processed = p["processed"] == true;
    let calculated = is_calculated(&p);
    p["totals"] = if calculated { totals(&p) } else { Value::Null };
    if let Some(comps) = p
        .get_mut("employee_compensations")
        .and_then(Value::as_array_mut)
    {
        for comp in comps {
            shape_compensation(comp, processed, calculated, view);
        }
    }
    p
}

pub(super) fn list_payrolls(c: &Company, query: &HashMap<String, String>) -> Response {
    let list = |key: &str, default: &str| -> Vec<String> {
        query
            .get(key)
            .map_or(default, String::as_str)
            .split(',')
            .map(str::to_owned)
            .collect()
    };
    let statuses = list("processing_statuses", "processed");
    let types = list("payroll_types", "regular");
    let date = |key: &str| {
        query
            .get(key)
            .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
    };
    let start = date("start_date");
    let end = date("end_date").unwrap_or_else(|| Utc::now().date_naive());
    if let Some(s) = start
        && (end - s).num_days() > 366
    {
        return errors(
            422,
            "end_date",
            "invalid_attribute_value",
            "start_date and end_date can't be more than 1 year apart",
        );
    }
    let mut items: Vec<Value> = c
        .payrolls
        .iter()
        .filter(|p| {
            let processed = p["processed"] == true;
            let status_ok = statuses
                .iter()
                .any(|s| (s == "processed" && processed) || (s == "unprocessed" && !processed));
            let off_cycle = p["off_cycle"] == true;
            let type_ok = types
                .iter()
                .any(|t| (t == "regular" && !off_cycle) || (t == "off_cycle" && off_cycle));
            let from_ok = start.is_none_or(|s| period(p, "start_date").is_some_and(|d| d >= s));
            let to_ok = period(p, "end_date").is_some_and(|d| d <= end);
            status_ok && type_ok && from_ok && to_ok
        })
        .map(|p| {
            let mut p = p.clone();
            if let Some(o) = p.as_object_mut() {
                o.remove("employee_compensations");
            }
            p
        })
        .collect();
    items.sort_by_key(|p| period(p, "start_date"));
    let (items, h) = paged(items, query);
    with_headers(json_answer(200, &Value::Array(items)), h)
}

/// `GET …/payrolls/{id}`. Gusto: "If payroll is calculated or processed,
/// will return employee_compensations and totals": one that is neither
/// answers without `employee_compensations`. A reopening scripted with
/// [`FakeGusto::reopen_before_next_get`](super::FakeGusto::reopen_before_next_get)
/// lands first.
pub(super) fn show(c: &mut Company, id: &str, query: &HashMap<String, String>) -> Response {
    if c.reopen.remove(id)
        && let Some(p) = c.payroll_mut(id)
    {
        p["processed"] = json!(false);
        p["processed_date"] = Value::Null;
        p["calculated_at"] = json!(timestamp());
    }
    let Some(p) = c.payrolls.iter().find(|p| p["uuid"] == id).cloned() else {
        return errors(
            404,
            "request",
            "not_found",
            "The requested resource was not found.",
        );
    };
    if !is_calculated(&p) {
        let mut p = shaped(p, View::Get);
        if let Some(o) = p.as_object_mut() {
            o.remove("employee_compensations");
        }
        return json_answer(200, &p);
    }
    show_payroll(p, query, None, View::Get)
}

/// A payroll with a page of its compensations (only `only`'s employees,
/// when given).
pub(super) fn show_payroll(
    mut p: Value,
    query: &HashMap<String, String>,
    only: Option<&[String]>,
    view: View,
) -> Response {
    let comps: Vec<Value> = p["employee_compensations"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|c| only.is_none_or(|o| o.iter().any(|e| c["employee_uuid"] == e.as_str())))
        .collect();
    let (comps, h) = paged(comps, query);
    p["employee_compensations"] = Value::Array(comps);
    with_headers(json_answer(200, &shaped(p, view)), h)
}

pub(super) fn prepare(
    c: &mut Company,
    id: &str,
    query: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    let Some(p) = c.payrolls.iter().find(|p| p["uuid"] == id).cloned() else {
        return errors(
            404,
            "payroll",
            "not_found",
            "The requested resource was not found.",
        );
    };
    if p["processed"] == true {
        return errors(
            422,
            "base",
            "invalid_operation",
            "The payroll has been processed and cannot be prepared for update",
        );
    }
    let only: Option<Vec<String>> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|b| b.get("employee_uuids").cloned())
        .and_then(|v| serde_json::from_value(v).ok());
    // Gusto: "Nullifies `calculated_at` and `totals` if the payroll was
    // previously calculated", and the prepared compensations get new
    // versions (an update must carry the versions this answer gives).
    uncalculate(c, id);
    match only.as_deref() {
        Some(employees) => {
            for e in employees {
                c.bump(id, Some(e));
            }
        }
        None => {
            c.bump(id, None);
        }
    }
    let Some(p) = c.payrolls.iter().find(|p| p["uuid"] == id).cloned() else {
        return errors(
            404,
            "payroll",
            "not_found",
            "The requested resource was not found.",
        );
    };
    show_payroll(p, query, only.as_deref(), View::Prepared)
}

pub(super) fn update(c: &mut Company, id: &str, body: &[u8]) -> Response {
    if c.payrolls.iter().all(|p| p["uuid"] != id) {
        return errors(
            404,
            "payroll",
            "not_found",
            "The requested resource was not found.",
        );
    }
    // A scripted concurrent edit lands first.
    if let Some(edit) = c.edits.get_mut(id).and_then(VecDeque::pop_front) {
        for (employee, hours) in &edit {
            c.set_hours(id, employee, hours);
        }
        c.bump(id, None);
    }
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return errors(
            400,
            "base",
            "invalid_attribute_value",
            "The body is not JSON",
        );
    };
    let Some(wanted) = request["employee_compensations"].as_array().cloned() else {
        return errors(
            422,
            "employee_compensations",
            "invalid_attribute_value",
            "employee_compensations is required",
        );
    };
    if wanted.len() > 100 {
        return errors(
            422,
            "employee_compensations",
            "invalid_attribute_value",
            "A maximum of 100 employee_compensations can be updated at a time",
        );
    }
    let Some(p) = c.payrolls.iter().find(|p| p["uuid"] == id).cloned() else {
        return errors(
            404,
            "payroll",
            "not_found",
            "The requested resource was not found.",
        );
    };
    if p["processed"] == true {
        return errors(
            422,
            "base",
            "invalid_operation",
            "The payroll has been processed and can no longer be updated",
        );
    }
    let current = p["employee_compensations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // Check everything before changing anything.
    for w in &wanted {
        let employee = text(w, "employee_uuid");
        let Some(comp) = current
            .iter()
            .find(|c| c["employee_uuid"] == employee.as_str())
        else {
            return json_answer(
                422,
                &json!({"errors": [{"error_key": "employee_compensations", "category": "nested_errors",
                    "metadata": {"employee_uuid": employee},
                    "errors": [{"error_key": "employee_uuid", "category": "not_found", "message": "Employee is not on this payroll"}]}]}),
            );
        };
        if w["version"] != comp["version"] {
            return errors(
                409,
                "base",
                "invalid_resource_version",
                "You are attempting to update a resource using an out-of-date version.",
            );
        }
    }
    let mut changed = Vec::new();
    for w in &wanted {
        let employee = text(w, "employee_uuid");
        let version = c.new_version();
        let Some(comps) = c
            .payroll_mut(id)
            .and_then(|p| p["employee_compensations"].as_array_mut())
        else {
            break;
        };
        let Some(comp) = comps
            .iter_mut()
            .find(|c| c["employee_uuid"] == employee.as_str())
        else {
            continue;
        };
        for h in w["hourly_compensations"].as_array().into_iter().flatten() {
            let name = text(h, "name");
            let job = h.get("job_uuid").and_then(Value::as_str);
            let Some(list) = comp["hourly_compensations"].as_array_mut() else {
                continue;
            };
            let slot = list.iter_mut().find(|x| {
                x["name"] == name.as_str()
                    && job.is_none_or(|j| {
                        x.get("job_uuid")
                            .and_then(Value::as_str)
                            .is_none_or(|xj| xj == j)
                    })
            });
            match slot {
                Some(x) => x["hours"] = h["hours"].clone(),
                None => list.push(h.clone()),
            }
        }
        comp["version"] = json!(version);
        changed.push(comp.clone());
    }
    // New hours invalidate a calculation.
    uncalculate(c, id);
    let mut answer = p;
    answer["calculated_at"] = Value::Null;
    answer["totals"] = Value::Null;
    if let Some(o) = answer.as_object_mut() {
        o.insert("employee_compensations".into(), Value::Array(changed));
    }
    json_answer(200, &shaped(answer, View::Prepared))
}
