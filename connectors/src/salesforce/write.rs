//! Writes: sObject Collections of 200, `allOrNone: false`; update by id,
//! upsert by the sync field, delete; the line items of opportunities
//! replaced as a whole; and the single-record upsert.

use super::SalesforceConnector;
use super::http::{ApiError, percent_encode};
use super::maps::{Fields, LINE_PARENT, LINE_SOBJECT, LineEntries, SObject, raw_text};
use super::soql;
use crate::connector::{Operation, Outcome, Sink, SinkRecord, fill_outcomes};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use odoo_integration_model::{RemoteId, SystemId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::collections::HashMap;

/// sObject Collections take at most 200 records a call.
const CHUNK: usize = 200;

/// One record's result in a collection answer (SaveResult / UpsertResult /
/// DeleteResult).
#[derive(Debug, Deserialize)]
struct SaveResult {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    success: bool,
    #[serde(default)]
    errors: Vec<ApiError>,
    /// Upserts only.
    #[serde(default)]
    created: Option<bool>,
}

impl SaveResult {
    fn error(&self) -> ConnectorError {
        match self.errors.first() {
            Some(first) => {
                let e = first.to_error(400, None);
                if self.errors.len() > 1 {
                    ConnectorError::new(
                        e.kind(),
                        format!("{} (and {} more)", e.message(), self.errors.len() - 1),
                    )
                    .with_system(SystemId::salesforce())
                } else {
                    e
                }
            }
            None => protocol("a record failed without an error".into()),
        }
    }

    fn is_already_deleted(&self) -> bool {
        self.errors.iter().any(|e| e.code == "ENTITY_IS_DELETED")
    }
}

#[derive(Serialize)]
struct CollectionBody<'a> {
    #[serde(rename = "allOrNone")]
    all_or_none: bool,
    records: &'a [&'a Fields],
}

fn protocol(message: String) -> ConnectorError {
    ConnectorError::new(ConnectorErrorKind::Protocol, message).with_system(SystemId::salesforce())
}

/// A copy of an error for each record it stopped.
fn copy(e: &ConnectorError) -> ConnectorError {
    crate::http::error(
        SystemId::salesforce(),
        e.kind(),
        e.message(),
        e.retry_after(),
    )
}

fn raw_json(json: String) -> Box<RawValue> {
    RawValue::from_string(json).unwrap_or_default()
}

/// What to do with one record of a batch.
enum Job {
    Update,
    Upsert,
}

/// The line items to put on one written record.
struct LineJob {
    /// The record's index in the batch.
    index: usize,
    /// The parent's Salesforce id.
    parent: String,
    /// The new lines, without the parent's id.
    lines: Vec<Fields>,
    /// Why the line step failed for this record, once it has.
    failed: Option<ConnectorError>,
}

impl LineJob {
    /// Keeps the first failure of this record's lines.
    fn fail(&mut self, e: &ConnectorError) {
        if self.failed.is_none() {
            self.failed = Some(crate::http::error(
                SystemId::salesforce(),
                e.kind(),
                format!("line items of {}: {}", self.parent, e.message()),
                e.retry_after(),
            ));
        }
    }
}

/// How many emails (or product codes) one query names.
const USER_CHUNK: usize = 100;

impl SalesforceConnector {
    /// The active users of the owners `batch` writes, by lowercase email:
    /// one SOQL query on `User` per 100 emails.
    async fn owner_users<E: SObject>(
        &self,
        batch: &[SinkRecord<E>],
    ) -> Result<HashMap<String, Vec<String>>> {
        let mut emails: Vec<String> = batch
            .iter()
            .filter_map(|r| match &r.operation {
                Operation::Upsert(data) => E::owner(data, r).flatten(),
                Operation::Delete => None,
            })
            .map(|e| e.to_lowercase())
            .collect();
        emails.sort_unstable();
        emails.dedup();
        let mut users: HashMap<String, Vec<String>> = HashMap::new();
        for chunk in emails.chunks(USER_CHUNK) {
            let quoted: Vec<String> = chunk.iter().map(|e| soql::quote(e)).collect();
            let query = format!(
                "SELECT Id, Email FROM User WHERE IsActive = true AND Email IN ({}) ORDER BY Id",
                quoted.join(", ")
            );
            for user in self.query_records(&query, usize::MAX).await? {
                let id = user.id("User")?;
                if let Some(email) = user.text("User", &id, "Email")? {
                    users.entry(email.to_lowercase()).or_default().push(id);
                }
            }
        }
        Ok(users)
    }

    /// The `OwnerId` of the owner `email`: its one active user.
    fn owner_id(users: &HashMap<String, Vec<String>>, email: &str) -> Result<String> {
        let fail = |kind, why: String| {
            ConnectorError::new(kind, format!("owner `{email}`: {why}"))
                .with_system(SystemId::salesforce())
        };
        match users.get(&email.to_lowercase()).map(Vec::as_slice) {
            Some([one]) => Ok(one.clone()),
            None | Some([]) => Err(fail(
                ConnectorErrorKind::Invalid,
                "no active Salesforce user has this email (an inactive user cannot own records)"
                    .into(),
            )),
            Some(many) => Err(fail(
                ConnectorErrorKind::Ambiguous,
                format!(
                    "{} active Salesforce users have this email ({}): nothing is guessed",
                    many.len(),
                    many.join(", ")
                ),
            )),
        }
    }

    /// The price book entries of the products the lines of `batch` name:
    /// the configured entry's price book (one query), then its active
    /// entries of those product codes (one query per 100 codes).
    async fn line_entries<E: SObject>(&self, batch: &[SinkRecord<E>]) -> Result<LineEntries> {
        let settings = &self.inner.settings;
        let mut codes: Vec<String> = batch
            .iter()
            .flat_map(|r| match &r.operation {
                Operation::Upsert(data) => E::line_products(data, r, settings),
                Operation::Delete => Vec::new(),
            })
            .map(|c| c.to_lowercase())
            .collect();
        codes.sort_unstable();
        codes.dedup();
        let mut entries = LineEntries::default();
        let Some(entry) = settings.line_entry.as_deref().filter(|_| !codes.is_empty()) else {
            return Ok(entries);
        };
        let query = format!(
            "SELECT Id, Pricebook2Id FROM PricebookEntry WHERE Id = {}",
            soql::quote(entry)
        );
        let found = self.query_records(&query, 1).await?;
        let Some(book) = found
            .first()
            .map(|r| r.text("PricebookEntry", entry, "Pricebook2Id"))
            .transpose()?
            .flatten()
        else {
            return Ok(entries);
        };
        let currency = if settings.multi_currency {
            ", CurrencyIsoCode"
        } else {
            ""
        };
        for chunk in codes.chunks(USER_CHUNK) {
            let quoted: Vec<String> = chunk.iter().map(|c| soql::quote(c)).collect();
            let query = format!(
                "SELECT Id, ProductCode{currency} FROM PricebookEntry WHERE Pricebook2Id = {} AND IsActive = true AND ProductCode IN ({}) ORDER BY Id",
                soql::quote(&book),
                quoted.join(", ")
            );
            for row in self.query_records(&query, usize::MAX).await? {
                let id = row.id("PricebookEntry")?;
                let Some(code) = row.text("PricebookEntry", &id, "ProductCode")? else {
                    continue;
                };
                let currency = row.text("PricebookEntry", &id, "CurrencyIsoCode")?;
                entries
                    .by_code
                    .entry(code.to_lowercase())
                    .or_default()
                    .push((id, currency));
            }
        }
        entries.book = Some(book);
        Ok(entries)
    }

    fn origin_key<E>(record: &SinkRecord<E>) -> String {
        format!("{}:{}", record.origin, record.origin_id)
    }

    /// Sends one collection call and decodes its results.
    async fn collection(
        &self,
        method: reqwest::Method,
        path: &str,
        records: &[&Fields],
    ) -> Result<Vec<SaveResult>> {
        let body = serde_json::to_vec(&CollectionBody {
            all_or_none: false,
            records,
        })
        .map_err(|e| {
            ConnectorError::new(ConnectorErrorKind::Mapping, format!("encoding: {e}"))
                .with_system(SystemId::salesforce())
        })?;
        self.call_json(method, path, Some(body)).await
    }

    /// Updates by id or upserts by the sync field, in chunks of 200.
    async fn write_chunks<E: SObject>(
        &self,
        job: &Job,
        items: Vec<(usize, Fields)>,
        out: &mut [Option<Outcome>],
        sent: &mut bool,
    ) -> Result<()> {
        let sobject = self.sobject::<E>()?;
        let (method, path) = match job {
            Job::Update => (
                reqwest::Method::PATCH,
                self.data_path("/composite/sobjects"),
            ),
            Job::Upsert => (
                reqwest::Method::PATCH,
                self.data_path(&format!(
                    "/composite/sobjects/{}/{}",
                    sobject, self.inner.sync_field
                )),
            ),
        };
        for chunk in items.chunks(CHUNK) {
            let records: Vec<&Fields> = chunk.iter().map(|(_, f)| f).collect();
            let results = match self.collection(method.clone(), &path, &records).await {
                Ok(r) => r,
                Err(e) if !*sent => return Err(e),
                Err(e) => {
                    fail_rest(out, &e);
                    return Ok(());
                }
            };
            *sent = true;
            for ((i, fields), result) in chunk.iter().zip(results.iter()) {
                out[*i] = Some(if result.success {
                    let id = result.id.clone().or_else(|| {
                        fields
                            .get("id")
                            .and_then(|r| serde_json::from_str::<String>(r.get()).ok())
                    });
                    match (id, job, result.created) {
                        (None, _, _) => Outcome::Failed(protocol(
                            "a record was written but Salesforce gave no id".into(),
                        )),
                        (Some(id), Job::Upsert, Some(true)) => Outcome::Created(RemoteId::new(id)),
                        (Some(id), _, _) => Outcome::Updated(RemoteId::new(id)),
                    }
                } else {
                    Outcome::Failed(result.error())
                });
            }
        }
        Ok(())
    }

    /// One collections delete of at most 200 ids.
    async fn delete_call(&self, ids: &[&str]) -> Result<Vec<SaveResult>> {
        let path = self.data_path(&format!(
            "/composite/sobjects?ids={}&allOrNone=false",
            percent_encode(&ids.join(","))
        ));
        self.call_json(reqwest::Method::DELETE, &path, None).await
    }

    async fn delete_chunks(
        &self,
        items: Vec<(usize, String)>,
        out: &mut [Option<Outcome>],
        sent: &mut bool,
    ) -> Result<()> {
        for chunk in items.chunks(CHUNK) {
            let ids: Vec<&str> = chunk.iter().map(|(_, id)| id.as_str()).collect();
            let results: Vec<SaveResult> = match self.delete_call(&ids).await {
                Ok(r) => r,
                Err(e) if !*sent => return Err(e),
                Err(e) => {
                    fail_rest(out, &e);
                    return Ok(());
                }
            };
            *sent = true;
            for ((i, id), result) in chunk.iter().zip(results.iter()) {
                out[*i] = Some(if result.success || result.is_already_deleted() {
                    Outcome::Deleted(RemoteId::new(id.clone()))
                } else {
                    Outcome::Failed(result.error())
                });
            }
        }
        Ok(())
    }

    /// Replaces the line items of written opportunities as a whole: their
    /// current `OpportunityLineItem`s are listed (one SOQL query per 200
    /// parents, paged), the new ones created, in collections of 200, and
    /// only then the listed ones deleted. A replay therefore never leaves
    /// two sets, and a failed create never leaves a deal without lines (and
    /// so with a wrong amount). A failure marks only the records it
    /// concerns; a record whose new lines failed keeps its old ones.
    async fn replace_lines(&self, jobs: &mut [LineJob]) {
        // The current lines, each with the job it belongs to.
        let mut old: Vec<(usize, String)> = Vec::new();
        for start in (0..jobs.len()).step_by(CHUNK) {
            let chunk = start..(start + CHUNK).min(jobs.len());
            let parents: Vec<String> = jobs[chunk.clone()]
                .iter()
                .map(|j| soql::quote(&j.parent))
                .collect();
            let query = format!(
                "SELECT Id, {LINE_PARENT} FROM {LINE_SOBJECT} WHERE {LINE_PARENT} IN ({}) ORDER BY Id",
                parents.join(", ")
            );
            let found = self
                .query_records(&query, usize::MAX)
                .await
                .and_then(|rows| {
                    rows.iter()
                        .map(|r| {
                            let id = r.id(LINE_SOBJECT)?;
                            let parent =
                                r.text(LINE_SOBJECT, &id, LINE_PARENT)?.unwrap_or_default();
                            Ok((id, parent))
                        })
                        .collect::<Result<Vec<_>>>()
                });
            match found {
                Ok(rows) => {
                    for (id, parent) in rows {
                        // Ids come back in 18 characters for 15 sent.
                        let job = chunk.clone().find(|&k| {
                            let p = jobs[k].parent.as_str();
                            parent == p || (p.len() == 15 && parent.get(..15) == Some(p))
                        });
                        match job {
                            Some(k) => old.push((k, id)),
                            None => {
                                let e = protocol(format!(
                                    "line item {id} belongs to {parent}, which was not asked for"
                                ));
                                chunk.clone().for_each(|k| jobs[k].fail(&e));
                            }
                        }
                    }
                }
                Err(e) => chunk.clone().for_each(|k| jobs[k].fail(&e)),
            }
        }
        // The new lines of the jobs still standing.
        let mut new: Vec<(usize, Fields)> = Vec::new();
        for (k, job) in jobs.iter_mut().enumerate() {
            if job.failed.is_some() {
                continue;
            }
            let parent = raw_text(Some(&job.parent));
            for mut line in std::mem::take(&mut job.lines) {
                line.insert(LINE_PARENT.into(), parent.clone());
                new.push((k, line));
            }
        }
        let path = self.data_path("/composite/sobjects");
        for chunk in new.chunks(CHUNK) {
            let records: Vec<&Fields> = chunk.iter().map(|(_, f)| f).collect();
            match self
                .collection(reqwest::Method::POST, &path, &records)
                .await
            {
                Ok(results) => {
                    for (n, (k, _)) in chunk.iter().enumerate() {
                        match results.get(n) {
                            Some(r) if r.success => {}
                            Some(r) => jobs[*k].fail(&r.error()),
                            None => jobs[*k].fail(&protocol(
                                "no result for the creation of a line item".into(),
                            )),
                        }
                    }
                }
                Err(e) => chunk.iter().for_each(|(k, _)| jobs[*k].fail(&e)),
            }
        }
        // Only then the old lines, of the jobs whose new lines all stand:
        // a failed create leaves the old set (the record is retried, and
        // its next replacement lists and removes any half-made new set).
        old.retain(|(k, _)| jobs[*k].failed.is_none());
        for chunk in old.chunks(CHUNK) {
            let ids: Vec<&str> = chunk.iter().map(|(_, id)| id.as_str()).collect();
            match self.delete_call(&ids).await {
                Ok(results) => {
                    for (n, (k, id)) in chunk.iter().enumerate() {
                        match results.get(n) {
                            Some(r) if r.success || r.is_already_deleted() => {}
                            Some(r) => jobs[*k].fail(&r.error()),
                            None => jobs[*k].fail(&protocol(format!(
                                "no result for the delete of line item {id}"
                            ))),
                        }
                    }
                }
                Err(e) => chunk.iter().for_each(|(k, _)| jobs[*k].fail(&e)),
            }
        }
    }

    /// Upserts one record by its origin key in the sync field, with the
    /// single-record resource (`PATCH /sobjects/{type}/{field}/{value}`).
    /// The sink uses collections; this is for one-off writes, and says
    /// plainly when the key matches several records.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Ambiguous`] when several records hold the key (HTTP
    /// 300): nothing is written and no record is picked.
    /// [`ConnectorErrorKind::Invalid`] for a delete, and the call's typed errors.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
    /// use odoo_integration_connectors::{ConnectorErrorKind, Operation, Outcome, SinkRecord};
    /// # use odoo_integration_connectors::salesforce::*;
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let org = FakeSalesforce::start().await?;
    /// # org.allow_client("k", "s");
    /// # let sf = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s")).login_url(org.url()).build()?;
    /// let acme = ClientCompany { legal_name: "Acme NV".into(), ..Default::default() };
    /// let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("42"), Operation::Upsert(acme));
    /// let outcome = sf.upsert_one(&record).await?;
    /// assert!(matches!(outcome, Outcome::Created(_)));
    ///
    /// // Two records holding the same key: nothing is written, nothing guessed.
    /// org.insert("Account", serde_json::json!({"Name": "Copy", "Integration_Sync_Id__c": "odoo:42"}));
    /// let e = sf.upsert_one(&record).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Ambiguous);
    /// # Ok(()) }
    /// ```
    pub async fn upsert_one<E: SObject>(&self, record: &SinkRecord<E>) -> Result<Outcome> {
        let sobject = self.sobject::<E>()?;
        let Operation::Upsert(data) = &record.operation else {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Invalid,
                "upsert_one takes an upsert, not a delete",
            )
            .with_system(SystemId::salesforce()));
        };
        let fields = E::encode(data, record, &self.inner.settings)?;
        let key = Self::origin_key(record);
        let path = self.data_path(&format!(
            "/sobjects/{}/{}/{}",
            sobject,
            self.inner.sync_field,
            percent_encode(&key)
        ));
        let body = serde_json::to_vec(&fields).map_err(|e| {
            ConnectorError::new(ConnectorErrorKind::Mapping, format!("encoding: {e}"))
                .with_system(SystemId::salesforce())
        })?;
        let (status, bytes) = self.call(reqwest::Method::PATCH, &path, Some(body)).await?;
        if status == 300 {
            let matches = serde_json::from_slice::<Vec<String>>(&bytes).map_or(0, |m| m.len());
            return Err(ConnectorError::new(
                ConnectorErrorKind::Ambiguous,
                format!(
                    "{} records of {} hold {} `{key}`: fix the data, nothing was written",
                    if matches > 1 {
                        matches.to_string()
                    } else {
                        "several".into()
                    },
                    sobject,
                    self.inner.sync_field
                ),
            )
            .with_system(SystemId::salesforce()));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            // 204 (older versions): updated; find its id.
            let soql = format!(
                "SELECT Id FROM {} WHERE {} = {}",
                sobject,
                self.inner.sync_field,
                soql::quote(&key)
            );
            let found = self.query_records(&soql, 2).await?;
            return match found.as_slice() {
                [one] => Ok(Outcome::Updated(RemoteId::new(one.id(sobject)?))),
                _ => Err(protocol(format!(
                    "upserted {key} but found {} records holding it",
                    found.len()
                ))),
            };
        }
        let result: SaveResult = self.decode_json(&format!("PATCH {path}"), &bytes)?;
        let Some(id) = result.id.clone() else {
            return Err(protocol("an upsert answer without an id".into()));
        };
        Ok(match (status, result.created) {
            (201, _) | (_, Some(true)) => Outcome::Created(RemoteId::new(id)),
            _ => Outcome::Updated(RemoteId::new(id)),
        })
    }
}

/// Fails every record not yet judged with `e` (a call failed after others
/// had been applied: what was applied is kept).
fn fail_rest(out: &mut [Option<Outcome>], e: &ConnectorError) {
    for slot in out.iter_mut().filter(|s| s.is_none()) {
        *slot = Some(Outcome::Failed(copy(e)));
    }
}

#[async_trait]
impl<E: SObject> Sink<E> for SalesforceConnector {
    async fn apply(&self, batch: Vec<SinkRecord<E>>) -> Result<Vec<Outcome>> {
        let sobject = self.sobject::<E>()?;
        let mut out: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
        let mut updates = Vec::new();
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        // The line items to replace once their record is written.
        let mut lines: Vec<Option<Vec<Fields>>> = batch.iter().map(|_| None).collect();
        let attributes = raw_json(format!(r#"{{"type":"{}"}}"#, sobject));
        let owners = self.owner_users(&batch).await?;
        let entries = self.line_entries(&batch).await?;
        for (i, record) in batch.iter().enumerate() {
            match (&record.operation, &record.target_id) {
                (Operation::Delete, Some(id)) => deletes.push((i, id.to_string())),
                // Never written to Salesforce: nothing to delete.
                (Operation::Delete, None) => {
                    out[i] = Some(Outcome::Unchanged(record.origin_id.clone()));
                }
                (Operation::Upsert(data), target) => {
                    let settings = &self.inner.settings;
                    let encoded = E::encode(data, record, settings)
                        .and_then(|mut f| {
                            // An owner by email: its active user. No owner
                            // leaves Salesforce's (every record has one).
                            if let Some(Some(email)) = E::owner(data, record) {
                                let id = Self::owner_id(&owners, &email)?;
                                f.insert("OwnerId".into(), raw_text(Some(&id)));
                            }
                            Ok(f)
                        })
                        .and_then(|f| Ok((f, E::lines(data, record, settings, &entries)?)));
                    let (mut fields, new_lines) = match encoded {
                        Ok(f) => f,
                        Err(e) => {
                            out[i] = Some(Outcome::Failed(e));
                            continue;
                        }
                    };
                    let has_lines = new_lines.is_some();
                    lines[i] = new_lines;
                    match target {
                        // Nothing but its lines to write: the lines are the
                        // update.
                        Some(id) if fields.is_empty() && has_lines => {
                            out[i] = Some(Outcome::Updated(id.clone()));
                        }
                        Some(id) if fields.is_empty() => {
                            out[i] = Some(Outcome::Unchanged(id.clone()));
                        }
                        Some(id) => {
                            fields.insert("attributes".into(), attributes.clone());
                            fields.insert("id".into(), raw_text(Some(id.as_str())));
                            updates.push((i, fields));
                        }
                        None => {
                            fields.insert("attributes".into(), attributes.clone());
                            fields.insert(
                                self.inner.sync_field.clone(),
                                raw_text(Some(&Self::origin_key(record))),
                            );
                            upserts.push((i, fields));
                        }
                    }
                }
            }
        }
        let mut sent = false;
        self.write_chunks::<E>(&Job::Update, updates, &mut out, &mut sent)
            .await?;
        self.write_chunks::<E>(&Job::Upsert, upserts, &mut out, &mut sent)
            .await?;
        self.delete_chunks(deletes, &mut out, &mut sent).await?;
        // Line items, for the records written: they need their parent's id.
        let mut jobs: Vec<LineJob> = Vec::new();
        for (index, new_lines) in lines.into_iter().enumerate() {
            let Some(new_lines) = new_lines else { continue };
            let parent = match &out[index] {
                Some(Outcome::Created(id) | Outcome::Updated(id)) => id.as_str().to_owned(),
                _ => continue,
            };
            if jobs.iter().any(|j| j.parent == parent) {
                // Two records of one batch on one parent would leave two
                // sets of lines.
                out[index] = Some(Outcome::Failed(
                    ConnectorError::new(
                        ConnectorErrorKind::Conflict,
                        format!(
                            "{} {parent} is written twice in one batch: its line items were written once",
                            sobject
                        ),
                    )
                    .with_system(SystemId::salesforce()),
                ));
                continue;
            }
            jobs.push(LineJob {
                index,
                parent,
                lines: new_lines,
                failed: None,
            });
        }
        if !jobs.is_empty() {
            self.replace_lines(&mut jobs).await;
            for job in jobs {
                if let Some(e) = job.failed {
                    out[job.index] = Some(Outcome::Failed(e));
                }
            }
        }
        Ok(fill_outcomes(
            out,
            "Salesforce returned no result for the record",
        ))
    }
}
