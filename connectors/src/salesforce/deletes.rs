//! Deletes: getDeleted at most once per interval, and the full compare
//! past getDeleted's window or its id limit.

use super::SalesforceConnector;
use super::http::percent_encode;
use super::maps::SObject;
use super::read::{CLOCK_MARGIN, ReadCursor};
use super::soql;
use crate::connector::SourceChange;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use odoo_integration_model::SystemId;
use serde::Deserialize;
use std::collections::{BTreeSet, HashSet};

/// getDeleted's answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeletedAnswer {
    #[serde(default)]
    deleted_records: Vec<DeletedRecord>,
    #[serde(default)]
    latest_date_covered: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeletedRecord {
    id: String,
    deleted_date: String,
}

fn minute_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::minutes(1)).unwrap_or(t)
}

/// The refusals of getDeleted that a full compare answers instead: the
/// window is older than Salesforce keeps (`INVALID_REPLICATION_DATE`), or
/// holds more than 600,000 deletes (`EXCEEDED_ID_LIMIT`).
fn compare_instead(e: &ConnectorError) -> bool {
    let message = e.message();
    message.contains("INVALID_REPLICATION_DATE") || message.contains("EXCEEDED_ID_LIMIT")
}

impl SalesforceConnector {
    /// Up to `room` deletes after the cursor, and whether more are waiting.
    pub(super) async fn read_deletes<E: SObject>(
        &self,
        cursor: &mut ReadCursor,
        room: usize,
    ) -> Result<(Vec<SourceChange<E>>, bool)> {
        let sobject = self.sobject::<E>()?;
        let now = Utc::now();
        if cursor.pending.is_empty() && cursor.deleted_pending.is_empty() {
            let interval =
                TimeDelta::from_std(self.inner.deleted_interval).unwrap_or(TimeDelta::MAX);
            let recently = cursor.deletes_checked.is_some_and(|at| {
                let since = now.signed_duration_since(at);
                since >= TimeDelta::zero() && since < interval
            });
            if recently {
                // Salesforce asks for at most one getDeleted per object
                // every few minutes: the deletes come at a later read.
                return Ok((Vec::new(), false));
            }
            cursor.deletes_checked = Some(now);
            let window = TimeDelta::from_std(self.inner.deleted_window).unwrap_or(TimeDelta::MAX);
            let in_window = now.signed_duration_since(cursor.deletes_from) < window;
            let mut compared = !in_window;
            if in_window {
                match self.get_deleted(sobject, cursor.deletes_from, now).await {
                    Ok(answer) => take_window(cursor, answer, now),
                    // Salesforce's own clock says the window is gone, or
                    // the window holds too many deletes to list.
                    Err(e) if compare_instead(&e) => compared = true,
                    Err(e) => return Err(e),
                }
            }
            if compared {
                self.full_compare::<E>(cursor, now).await?;
            }
        }
        let mut out: Vec<SourceChange<E>> = Vec::new();
        let take = cursor.deleted_pending.len().min(room);
        out.extend(
            cursor
                .deleted_pending
                .drain(..take)
                .map(|(id, at)| SourceChange::delete(id, at)),
        );
        let at = cursor.compared_at.unwrap_or(now);
        let take = cursor.pending.len().min(room - out.len());
        out.extend(
            cursor
                .pending
                .drain(..take)
                .map(|id| SourceChange::delete(id, at)),
        );
        if cursor.pending.is_empty() && cursor.compared_at.is_some() {
            cursor.deletes_from = at;
            cursor.deleted_seen.clear();
            cursor.compared_at = None;
        }
        let more = !cursor.pending.is_empty() || !cursor.deleted_pending.is_empty();
        Ok((out, more))
    }

    async fn get_deleted(
        &self,
        sobject: &str,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DeletedAnswer> {
        // Salesforce ignores seconds: end at the next whole minute so the
        // window reaches now.
        let end = minute_floor(now) + TimeDelta::minutes(1);
        let path = self.data_path(&format!(
            "/sobjects/{sobject}/deleted/?start={}&end={}",
            percent_encode(&soql::datetime_param(start)),
            percent_encode(&soql::datetime_param(end)),
        ));
        self.call_json(reqwest::Method::GET, &path, None).await
    }

    /// Every id of `sobject` in Salesforce vs. the ids known: the known
    /// ones missing are deleted.
    async fn full_compare<E: SObject>(
        &self,
        cursor: &mut ReadCursor,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let sobject = self.sobject::<E>()?;
        let known = self.inner.known_ids.as_ref().ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!(
                    "deletes of {} that getDeleted cannot list (past its window, or too many) can only be found by a full compare, which needs `known_ids`",
                    sobject
                ),
            )
            .with_system(SystemId::salesforce())
        })?;
        tracing::info!(
            sobject = sobject,
            "salesforce: getDeleted cannot answer, comparing all ids"
        );
        let started = now - CLOCK_MARGIN;
        let known: BTreeSet<String> = known.known_ids(E::NAME).await?.into_iter().collect();
        let soql = format!("SELECT Id FROM {} ORDER BY Id", sobject);
        let present: HashSet<String> = self
            .query_records(&soql, usize::MAX)
            .await?
            .iter()
            .map(|r| r.id(sobject))
            .collect::<Result<_>>()?;
        cursor.pending = known
            .into_iter()
            .filter(|id| !present.contains(id))
            .collect();
        cursor.compared_at = Some(started);
        Ok(())
    }
}

/// Queues the deletes of a getDeleted window not handed out before, and
/// moves the window on.
fn take_window(cursor: &mut ReadCursor, answer: DeletedAnswer, now: DateTime<Utc>) {
    let mut all: Vec<(DateTime<Utc>, String)> = answer
        .deleted_records
        .into_iter()
        .map(|d| {
            let at = soql::parse_datetime(&d.deleted_date).unwrap_or(now);
            (at, d.id)
        })
        .collect();
    all.sort();
    all.dedup_by(|a, b| a.1 == b.1);
    cursor.deleted_pending.extend(
        all.iter()
            .filter(|(_, id)| !cursor.deleted_seen.contains(id))
            .map(|(at, id)| (id.clone(), *at)),
    );
    let covered = answer
        .latest_date_covered
        .as_deref()
        .and_then(soql::parse_datetime)
        .unwrap_or(now)
        .min(now)
        .max(cursor.deletes_from);
    let floor = minute_floor(covered);
    cursor.deleted_seen = all
        .iter()
        .filter(|(at, _)| *at >= floor)
        .map(|(_, id)| id.clone())
        .collect();
    cursor.deletes_from = covered;
}
