//! The Odoo connector as a [`Source`]: changes by `write_date` through
//! the client's change feed, and deletes found by comparing ids.

use super::mapping::from_odoo;
use super::{OdooConnector, convert};
use crate::connector::{Cursor, Page, Source, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use chrono::{NaiveDateTime, TimeZone, Utc};
use futures::TryStreamExt;
use odoo_integration_client::{ChangeCursor, Context};
use odoo_integration_model::Entity;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// What the Odoo source keeps between runs: the change-feed position and
/// the ids seen so far (as ranges), to find records that vanished.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SourceCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    changes: Option<ChangeCursor>,
    #[serde(default)]
    known: Vec<(i64, i64)>,
}

#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> Source<E> for OdooConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<E>> {
        let map = self.map_of::<E>()?;
        let mut cursor: SourceCursor = match since {
            Some(c) => serde_json::from_str(c.as_str()).map_err(|e| {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    format!("not an Odoo cursor: {e}"),
                )
            })?,
            None => SourceCursor::default(),
        };
        let start = cursor
            .changes
            .clone()
            .unwrap_or_else(|| ChangeCursor::new("1970-01-01 00:00:00", 0));
        let mut pages = self
            .calls
            .model(map.model.as_str())
            .changes_since(start, map.domain.clone())
            .fields(map.read_fields())
            .page_size(limit.max(1) as u64)
            .pages();
        let page = pages.try_next().await.map_err(convert)?;
        let Some(page) = page.filter(|p| !p.records.is_empty()) else {
            // The feed is exhausted: look for records that vanished.
            let all: BTreeSet<i64> = self
                .calls
                .model(map.model.as_str())
                .search(map.domain.clone())
                .context(Context::new().active_test(false))
                .send()
                .await
                .map_err(convert)?
                .into_iter()
                .collect();
            let now = Utc::now();
            let changes = ranges_iter(&cursor.known)
                .filter(|id| !all.contains(id))
                .map(|id| SourceChange::delete(id.to_string(), now))
                .collect();
            cursor.known = to_ranges(all);
            return Ok(Page {
                changes,
                next: encode_cursor(&cursor)?,
                has_more: false,
            });
        };
        let children = self.child_rows(map, &page.records).await?;
        let lookups = self.lookup_keys(map, &page.records, &children).await?;
        let mut changes = Vec::with_capacity(page.records.len());
        let mut seen: BTreeSet<i64> = ranges_iter(&cursor.known).collect();
        let fields: Vec<String> = map.fields.iter().map(|f| f.canonical.clone()).collect();
        for row in &page.records {
            let id = row.get("id").and_then(Value::as_i64).ok_or_else(|| {
                ConnectorError::new(
                    ConnectorErrorKind::Protocol,
                    format!("{} row without id", map.model),
                )
            })?;
            let at = row
                .get("write_date")
                .and_then(Value::as_str)
                .and_then(|s| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok())
                .map_or_else(Utc::now, |t| Utc.from_utc_datetime(&t));
            let decoded = from_odoo::<E>(map, row, self.currency, &lookups, &children)?;
            if decoded.archived {
                seen.remove(&id);
                changes.push(SourceChange::delete(id.to_string(), at));
                continue;
            }
            seen.insert(id);
            let mut change = SourceChange::upsert(id.to_string(), at, decoded.record)
                .with_fields(fields.iter().cloned());
            change.refs = decoded.refs;
            changes.push(change);
        }
        cursor.changes = Some(page.cursor);
        cursor.known = to_ranges(seen);
        Ok(Page {
            changes,
            next: encode_cursor(&cursor)?,
            has_more: true,
        })
    }
}

fn encode_cursor(c: &SourceCursor) -> Result<Cursor> {
    serde_json::to_string(c).map(Cursor::new).map_err(|e| {
        ConnectorError::new(
            ConnectorErrorKind::Protocol,
            format!("encoding the cursor: {e}"),
        )
    })
}

fn to_ranges(ids: impl IntoIterator<Item = i64>) -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = Vec::new();
    for id in ids {
        match out.last_mut() {
            Some((_, end)) if *end + 1 == id => *end = id,
            _ => out.push((id, id)),
        }
    }
    out
}

fn ranges_iter(ranges: &[(i64, i64)]) -> impl Iterator<Item = i64> + '_ {
    ranges.iter().flat_map(|(a, b)| *a..=*b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_ranges_round_trip_and_compress() {
        let ids = [1, 2, 3, 7, 8, 10];
        let r = to_ranges(ids);
        assert_eq!(r, vec![(1, 3), (7, 8), (10, 10)]);
        assert_eq!(ranges_iter(&r).collect::<Vec<_>>(), ids);
    }
}
