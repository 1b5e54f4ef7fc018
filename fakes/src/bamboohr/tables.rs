//! The compensation table, read three ways as BambooHR serves it: one
//! employee's rows (`GET /employees/{id}/tables/compensation`), every
//! employee's rows at once (`GET /employees/all/tables/compensation`:
//! one list, each row naming its `employeeId`; inactive employees
//! included, deleted ones not), and the rows of the employees changed
//! since a time (`GET /employees/changed/tables/compensation?since=`:
//! `{table, employees: {id: {lastChanged, rows}}}`; any change of the
//! employee brings all its rows).
//!
//! Employees hidden from the key
//! ([`FakeBambooHr::hide_employee`](super::FakeBambooHr::hide_employee))
//! are left out of the last two, and refused (403) by the first.
//!
//! A key refused pay ([`FakeBambooHr::forbid_compensation`](super::FakeBambooHr::forbid_compensation))
//! gets 403 from all three.

use super::{Answer, Emp, Store, employee_of, iso, parse_since};
use serde_json::{Map, Value, json};

fn refused(store: &Store) -> Result<(), (u16, String)> {
    if store.forbid_compensation {
        return Err((
            403,
            "You do not have access to the compensation table".into(),
        ));
    }
    Ok(())
}

/// An employee's rows as BambooHR sends them; row ids are unique across
/// the company, as BambooHR's are.
fn rows(id: u64, e: &Emp) -> Vec<Value> {
    e.compensation
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let kind = if c.paid_per.eq_ignore_ascii_case("hour") {
                "Hourly"
            } else {
                "Salary"
            };
            json!({
                "id": (id.saturating_mul(1000).saturating_add(i as u64 + 1)).to_string(),
                "employeeId": id.to_string(),
                "startDate": c.start_date.to_string(),
                "rate": {"currency": c.currency, "value": c.value},
                "type": kind,
                "exempt": null,
                "reason": "",
                "comment": "",
                "paidPer": c.paid_per,
                "paySchedule": null,
                "overtimeRate": null,
            })
        })
        .collect()
}

/// `GET /employees/{id}/tables/compensation`.
pub(super) fn one(store: &Store, id: &str) -> Answer {
    let (n, e) = employee_of(store, id)?;
    refused(store)?;
    if store.invisible.contains(&n) {
        return Err((403, format!("You do not have access to employee {n}")));
    }
    Ok(Value::Array(rows(n, e)))
}

/// `GET /employees/all/tables/compensation`.
pub(super) fn all(store: &Store) -> Answer {
    refused(store)?;
    let all: Vec<Value> = store
        .employees
        .iter()
        .filter(|(id, e)| !e.deleted && !store.invisible.contains(id))
        .flat_map(|(id, e)| rows(*id, e))
        .collect();
    Ok(Value::Array(all))
}

/// `GET /employees/changed/tables/compensation?since=`.
pub(super) fn changed(store: &Store, since: Option<&str>) -> Answer {
    let since = since.ok_or((400, "The since parameter is required".to_owned()))?;
    let since = parse_since(since)
        .ok_or_else(|| (400, format!("`{since}` is not a valid ISO 8601 timestamp")))?;
    refused(store)?;
    let mut employees = Map::new();
    for (id, e) in &store.employees {
        if e.deleted || e.last_changed < since || store.invisible.contains(id) {
            continue;
        }
        employees.insert(
            id.to_string(),
            json!({"lastChanged": iso(e.last_changed), "rows": rows(*id, e)}),
        );
    }
    Ok(json!({"table": "compensation", "employees": employees}))
}
