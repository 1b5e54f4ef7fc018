//! Incremental reads: SOQL by `(SystemModstamp, Id)` with an overlap;
//! deletes are in [`deletes`](super::deletes).

use super::SalesforceConnector;
use super::http::percent_encode;
use super::maps::SObject;
use super::soql::{self, QueryAnswer, Record};
use crate::connector::{Cursor, Page, Source, SourceChange};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use odoo_integration_model::SystemId;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashSet;

/// Where a read stands.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct ReadCursor {
    /// Where the scan resumes: after `(stamp, id)`, or from `stamp` on
    /// (inclusive) when `id` is none (a re-read of the overlap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) stamp: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) id: Option<String>,
    /// The highest `SystemModstamp` handed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) high: Option<DateTime<Utc>>,
    /// `(Id, SystemModstamp)` handed out within the overlap behind
    /// `high`: re-read, they are not handed out again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) recent: Vec<(String, DateTime<Utc>)>,
    /// A cursor from before the overlap was kept: every record up to this
    /// `(SystemModstamp, Id)` was handed out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) seen_upto: Option<(DateTime<Utc>, String)>,
    /// Where the next getDeleted window starts.
    pub(super) deletes_from: DateTime<Utc>,
    /// Ids reported deleted in the minute `deletes_from` is in: Salesforce
    /// ignores the seconds of `start`, so they come again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) deleted_seen: Vec<String>,
    /// Deletes found by a full compare, still to hand out.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) pending: Vec<String>,
    /// When that compare ran: getDeleted resumes from there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) compared_at: Option<DateTime<Utc>>,
    /// getDeleted's deletes still to hand out (its window has moved on).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) deleted_pending: Vec<(String, DateTime<Utc>)>,
    /// When (by this machine's clock) deletes were last looked for:
    /// getDeleted runs at most once per [`deleted_interval`].
    ///
    /// [`deleted_interval`]: super::SalesforceBuilder::deleted_interval
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) deletes_checked: Option<DateTime<Utc>>,
}

/// getUpdated's answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdatedAnswer {
    #[serde(default)]
    ids: Vec<String>,
    #[serde(default)]
    latest_date_covered: Option<String>,
}

pub(super) fn protocol(message: String) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::Protocol, message).with_system(SystemId::salesforce())
}

/// The margin before the first read from which deletes are looked for,
/// for a client clock a little ahead of Salesforce's.
pub(super) const CLOCK_MARGIN: TimeDelta = TimeDelta::minutes(1);

impl SalesforceConnector {
    /// Runs a SOQL query and pages through its `nextRecordsUrl`s until it
    /// is done or `cap` records are in.
    pub(super) async fn query_records(&self, soql: &str, cap: usize) -> Result<Vec<Record>> {
        self.query_with_children(soql, cap, "", &[]).await
    }

    /// The same, paging through each record's `children` sub-query
    /// answers (of `sobject` records) before the next batch: asking for
    /// it invalidates the sub-query locators of the batches before.
    async fn query_with_children(
        &self,
        soql: &str,
        cap: usize,
        sobject: &str,
        children: &[&str],
    ) -> Result<Vec<Record>> {
        let path = self.data_path(&format!("/query?q={}", percent_encode(soql)));
        let mut answer: QueryAnswer = self.call_json(reqwest::Method::GET, &path, None).await?;
        let mut records = Vec::new();
        let mut seen = HashSet::new();
        loop {
            for mut record in std::mem::take(&mut answer.records) {
                if !children.is_empty() {
                    let id = record.id(sobject)?;
                    for relationship in children {
                        self.complete_children(&mut record, sobject, &id, relationship)
                            .await?;
                    }
                }
                records.push(record);
            }
            if answer.done || records.len() >= cap {
                return Ok(records);
            }
            let next = self.next_path(answer.next_records_url.take(), &mut seen)?;
            answer = self.call_json(reqwest::Method::GET, &next, None).await?;
        }
    }

    /// A `nextRecordsUrl`, checked: a path of this API (the token never
    /// goes to another host) that was not followed before (no endless
    /// loop).
    fn next_path(&self, next: Option<String>, seen: &mut HashSet<String>) -> Result<String> {
        let next = next.ok_or_else(|| {
            protocol("a query answer is not done but has no nextRecordsUrl".into())
        })?;
        if !next.starts_with("/services/data/") || next.contains("..") {
            return Err(protocol(format!(
                "nextRecordsUrl `{next}` is not a path of the REST API"
            )));
        }
        if !seen.insert(next.clone()) {
            return Err(protocol(format!(
                "nextRecordsUrl `{next}` came twice: the query makes no progress"
            )));
        }
        Ok(next)
    }

    /// Pages through a child relationship's records when the sub-query
    /// answer is not done.
    async fn complete_children(
        &self,
        record: &mut Record,
        sobject: &str,
        id: &str,
        relationship: &str,
    ) -> Result<()> {
        let Some(mut answer) = record.children(sobject, id, relationship)? else {
            return Ok(());
        };
        if answer.done {
            return Ok(());
        }
        let mut rows = std::mem::take(&mut answer.records);
        let mut seen = HashSet::new();
        while !answer.done {
            let next = self.next_path(answer.next_records_url.take(), &mut seen)?;
            answer = self.call_json(reqwest::Method::GET, &next, None).await?;
            rows.append(&mut answer.records);
        }
        #[derive(Serialize)]
        struct Whole<'a> {
            #[serde(rename = "totalSize")]
            total_size: usize,
            done: bool,
            records: Vec<&'a std::collections::BTreeMap<String, Box<RawValue>>>,
        }
        let whole = Whole {
            total_size: rows.len(),
            done: true,
            records: rows.iter().map(|r| &r.0).collect(),
        };
        let raw = serde_json::to_string(&whole)
            .ok()
            .and_then(|s| RawValue::from_string(s).ok())
            .ok_or_else(|| protocol(format!("{sobject} {id}: cannot keep its {relationship}")))?;
        record.set_raw(relationship, raw);
        Ok(())
    }

    fn changes_soql<E: SObject>(&self, cursor: &ReadCursor, limit: usize) -> Result<String> {
        let sobject = self.sobject::<E>()?;
        let mut fields = vec!["Id".to_owned(), "SystemModstamp".to_owned()];
        fields.extend(E::select(&self.inner.settings));
        let mut soql = format!("SELECT {} FROM {}", fields.join(", "), sobject);
        match (cursor.stamp, &cursor.id) {
            (Some(stamp), Some(id)) => {
                if !soql::is_record_id(id) {
                    return Err(ConnectorError::new(
                        ConnectorErrorKind::Configuration,
                        format!("not a Salesforce cursor: `{id}` is not a record id"),
                    )
                    .with_system(SystemId::salesforce()));
                }
                let t = soql::datetime_literal(stamp);
                soql.push_str(&format!(
                    " WHERE SystemModstamp > {t} OR (SystemModstamp = {t} AND Id > {})",
                    soql::quote(id)
                ));
            }
            (Some(stamp), None) => {
                soql.push_str(&format!(
                    " WHERE SystemModstamp >= {}",
                    soql::datetime_literal(stamp)
                ));
            }
            _ => {}
        }
        soql.push_str(&format!(" ORDER BY SystemModstamp, Id LIMIT {limit}"));
        Ok(soql)
    }

    async fn read_changes<E: SObject>(
        &self,
        since: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page<E>> {
        let sobject = self.sobject::<E>()?;
        let limit = limit.clamp(1, 2000);
        let mut cursor = match since {
            Some(c) => serde_json::from_str::<ReadCursor>(c.as_str()).map_err(|e| {
                ConnectorError::new(
                    ConnectorErrorKind::Configuration,
                    format!("not a Salesforce cursor: {e}"),
                )
                .with_system(SystemId::salesforce())
            })?,
            None => ReadCursor {
                stamp: None,
                id: None,
                high: None,
                recent: Vec::new(),
                seen_upto: None,
                deletes_from: Utc::now() - CLOCK_MARGIN,
                deleted_seen: Vec::new(),
                pending: Vec::new(),
                compared_at: None,
                deleted_pending: Vec::new(),
                deletes_checked: None,
            },
        };
        if cursor.high.is_none()
            && let (Some(stamp), Some(id)) = (cursor.stamp, &cursor.id)
        {
            // A cursor written before the overlap was kept.
            cursor.high = Some(stamp);
            cursor.seen_upto = Some((stamp, id.clone()));
        }
        let mut seen: HashSet<(String, DateTime<Utc>)> = cursor.recent.iter().cloned().collect();
        let mut changes = Vec::with_capacity(limit);
        let caught_up = loop {
            let soql = self.changes_soql::<E>(&cursor, limit)?;
            let records = self
                .query_with_children(&soql, limit, sobject, E::CHILDREN)
                .await?;
            let exhausted = records.len() < limit;
            for record in records {
                if changes.len() >= limit {
                    break;
                }
                let id = record.id(sobject)?;
                let stamp = record
                    .datetime(sobject, &id, "SystemModstamp")?
                    .ok_or_else(|| protocol(format!("{} {id} has no SystemModstamp", sobject)))?;
                cursor.stamp = Some(stamp);
                cursor.id = Some(id.clone());
                let handed_out = seen.contains(&(id.clone(), stamp))
                    || cursor
                        .seen_upto
                        .as_ref()
                        .is_some_and(|(s, i)| (stamp, id.as_str()) <= (*s, i.as_str()));
                if handed_out {
                    continue;
                }
                let decoded = E::decode(&record, &id, &self.inner.settings)?;
                let mut change = SourceChange::upsert(id.clone(), stamp, decoded.record)
                    .with_fields(decoded.fields);
                for (field, reference) in decoded.refs {
                    change = change.with_ref(field, reference);
                }
                changes.push(change);
                seen.insert((id.clone(), stamp));
                cursor.recent.push((id, stamp));
                cursor.high = cursor.high.max(Some(stamp));
            }
            if changes.len() >= limit {
                break false;
            }
            if exhausted {
                break true;
            }
        };
        if let Some(high) = cursor.high {
            // Only what is still inside the overlap can be read again.
            let overlap = TimeDelta::from_std(self.inner.overlap).unwrap_or(TimeDelta::MAX);
            let floor = high
                .checked_sub_signed(overlap)
                .unwrap_or(DateTime::<Utc>::MIN_UTC);
            cursor.recent.retain(|(_, at)| *at >= floor);
            if cursor.seen_upto.as_ref().is_some_and(|(at, _)| *at < floor) {
                cursor.seen_upto = None;
            }
            if caught_up {
                // The next read re-reads the overlap: a long transaction
                // may commit records stamped behind what was read.
                cursor.stamp = Some(floor);
                cursor.id = None;
            }
        }
        let mut has_more = !caught_up;
        if caught_up {
            let room = limit - changes.len();
            let (deletes, more) = self.read_deletes::<E>(&mut cursor, room).await?;
            changes.extend(deletes);
            has_more = more;
        }
        let next = serde_json::to_string(&cursor)
            .map_err(|e| protocol(format!("cannot encode the cursor: {e}")))?;
        Ok(Page {
            changes,
            next: Cursor::new(next),
            has_more,
        })
    }

    /// The ids of `E` records changed between `start` and `end`
    /// (getUpdated, which reaches back 30 days), and the time Salesforce
    /// covered.
    ///
    /// # Errors
    ///
    /// The call failed; [`ConnectorErrorKind::Invalid`] when `start` is too far
    /// back.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s")).login_url(org.url()).build()?;
    /// let acme = org.insert("Account", serde_json::json!({"Name": "Acme NV"}));
    /// let end = chrono::Utc::now() + chrono::TimeDelta::minutes(1);
    /// let (ids, covered) = sf.updated_ids::<odoo_integration_model::ClientCompany>(end - chrono::TimeDelta::days(1), end).await?;
    /// assert_eq!(ids, vec![acme]);
    /// assert!(covered.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn updated_ids<E: SObject>(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<(Vec<String>, Option<DateTime<Utc>>)> {
        let sobject = self.sobject::<E>()?;
        let path = self.data_path(&format!(
            "/sobjects/{}/updated/?start={}&end={}",
            sobject,
            percent_encode(&soql::datetime_param(start)),
            percent_encode(&soql::datetime_param(end)),
        ));
        let answer: UpdatedAnswer = self.call_json(reqwest::Method::GET, &path, None).await?;
        let covered = answer
            .latest_date_covered
            .as_deref()
            .and_then(soql::parse_datetime);
        Ok((answer.ids, covered))
    }
}

#[async_trait]
impl<E: SObject> Source<E> for SalesforceConnector {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<E>> {
        self.read_changes::<E>(since, limit).await
    }
}
