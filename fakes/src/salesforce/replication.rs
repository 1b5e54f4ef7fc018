//! getUpdated and getDeleted: the replication resources.

use super::{Org, errors, minute, parse_time, stamp, text};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;

fn window(
    org: &Org,
    query: &HashMap<String, String>,
    days: i64,
) -> Result<(DateTime<Utc>, DateTime<Utc>), (u16, Value)> {
    let get = |k: &str| query.get(k).and_then(|v| parse_time(v));
    let (Some(start), Some(end)) = (get("start"), get("end")) else {
        return Err((
            400,
            errors(
                "INVALID_REPLICATION_DATE",
                "start and end are required date-times",
            ),
        ));
    };
    if end <= start {
        return Err((
            400,
            errors("INVALID_REPLICATION_DATE", "end must be after start"),
        ));
    }
    if start < org.now() - TimeDelta::days(days) {
        return Err((
            400,
            errors(
                "INVALID_REPLICATION_DATE",
                &format!("startDate must be within the last {days} days"),
            ),
        ));
    }
    Ok((minute(start), end))
}

pub(super) fn updated(org: &Org, sobject: &str, query: &HashMap<String, String>) -> (u16, Value) {
    let (start, end) = match window(org, query, 30) {
        Ok(w) => w,
        Err(e) => return e,
    };
    let ids: Vec<String> = org
        .objects
        .get(sobject)
        .map(|recs| {
            recs.values()
                .filter(|r| {
                    text(r, "SystemModstamp")
                        .and_then(|s| parse_time(&s))
                        .is_some_and(|t| t >= start && t < end)
                })
                .filter_map(|r| text(r, "Id"))
                .collect()
        })
        .unwrap_or_default();
    let covered = minute(end.min(org.now()));
    (
        200,
        json!({"ids": ids, "latestDateCovered": stamp(covered)}),
    )
}

pub(super) fn deleted(org: &Org, sobject: &str, query: &HashMap<String, String>) -> (u16, Value) {
    let (start, end) = match window(org, query, 15) {
        Ok(w) => w,
        Err(e) => return e,
    };
    let records: Vec<Value> = org
        .deleted
        .iter()
        .filter(|(t, _, at)| t == sobject && *at >= start && *at < end)
        .map(|(_, id, at)| json!({"id": id, "deletedDate": stamp(*at)}))
        .collect();
    let now = org.now();
    (
        200,
        json!({
            "deletedRecords": records,
            "earliestDateAvailable": stamp(minute(now - TimeDelta::days(15))),
            "latestDateCovered": stamp(minute(end.min(now))),
        }),
    )
}
