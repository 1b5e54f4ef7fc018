//! Writes: sObject Collections of 200, `allOrNone: false`; update by id,
//! upsert by the sync field, delete; and the single-record upsert.

use super::SalesforceConnector;
use super::WithRetry;
use super::http::{ApiError, percent_encode};
use super::maps::{Fields, SObject, raw_text};
use super::soql;
use crate::connector::{Operation, Outcome, Sink, SinkRecord, fill_outcomes};
use crate::error::{ConnectorError, ErrorKind, Result};
use async_trait::async_trait;
use canonical_model::{RemoteId, SystemId};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

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
    ConnectorError::new(ErrorKind::Protocol, message).with_system(SystemId::salesforce())
}

/// A copy of an error for each record it stopped.
fn copy(e: &ConnectorError) -> ConnectorError {
    ConnectorError::new(e.kind(), e.message().to_owned())
        .with_retry(e.retry_after())
        .with_system(SystemId::salesforce())
}

fn raw_json(json: String) -> Box<RawValue> {
    RawValue::from_string(json).unwrap_or_default()
}

/// What to do with one record of a batch.
enum Job {
    Update,
    Upsert,
}

impl SalesforceConnector {
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
            ConnectorError::new(ErrorKind::Mapping, format!("encoding: {e}"))
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
        let (method, path) = match job {
            Job::Update => (
                reqwest::Method::PATCH,
                self.data_path("/composite/sobjects"),
            ),
            Job::Upsert => (
                reqwest::Method::PATCH,
                self.data_path(&format!(
                    "/composite/sobjects/{}/{}",
                    E::SOBJECT,
                    self.inner.sync_field
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

    async fn delete_chunks(
        &self,
        items: Vec<(usize, String)>,
        out: &mut [Option<Outcome>],
        sent: &mut bool,
    ) -> Result<()> {
        for chunk in items.chunks(CHUNK) {
            let ids: Vec<&str> = chunk.iter().map(|(_, id)| id.as_str()).collect();
            let path = self.data_path(&format!(
                "/composite/sobjects?ids={}&allOrNone=false",
                percent_encode(&ids.join(","))
            ));
            let results: Vec<SaveResult> =
                match self.call_json(reqwest::Method::DELETE, &path, None).await {
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

    /// Upserts one record by its origin key in the sync field, with the
    /// single-record resource (`PATCH /sobjects/{type}/{field}/{value}`).
    /// The sink uses collections; this is for one-off writes, and says
    /// plainly when the key matches several records.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Ambiguous`] when several records hold the key (HTTP
    /// 300): nothing is written and no record is picked.
    /// [`ErrorKind::Invalid`] for a delete, and the call's typed errors.
    ///
    /// # Example
    ///
    /// ```no_run
    /// use canonical_model::{CanonicalId, Client, RemoteId, SystemId};
    /// use connectors::{Operation, SinkRecord};
    /// # async fn f(sf: connectors::salesforce::SalesforceConnector) -> connectors::Result<()> {
    /// let acme = Client { legal_name: "Acme NV".into(), ..Default::default() };
    /// let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("42"), Operation::Upsert(acme));
    /// let outcome = sf.upsert_one(&record).await?;
    /// assert!(outcome.is_success());
    /// # Ok(()) }
    /// ```
    pub async fn upsert_one<E: SObject>(&self, record: &SinkRecord<E>) -> Result<Outcome> {
        let Operation::Upsert(data) = &record.operation else {
            return Err(ConnectorError::new(
                ErrorKind::Invalid,
                "upsert_one takes an upsert, not a delete",
            )
            .with_system(SystemId::salesforce()));
        };
        let fields = E::encode(data, record, &self.inner.settings)?;
        let key = Self::origin_key(record);
        let path = self.data_path(&format!(
            "/sobjects/{}/{}/{}",
            E::SOBJECT,
            self.inner.sync_field,
            percent_encode(&key)
        ));
        let body = serde_json::to_vec(&fields).map_err(|e| {
            ConnectorError::new(ErrorKind::Mapping, format!("encoding: {e}"))
                .with_system(SystemId::salesforce())
        })?;
        let (status, bytes) = self.call(reqwest::Method::PATCH, &path, Some(body)).await?;
        if status == 300 {
            let matches = serde_json::from_slice::<Vec<String>>(&bytes).map_or(0, |m| m.len());
            return Err(ConnectorError::new(
                ErrorKind::Ambiguous,
                format!(
                    "{} records of {} hold {} `{key}`: fix the data, nothing was written",
                    if matches > 1 {
                        matches.to_string()
                    } else {
                        "several".into()
                    },
                    E::SOBJECT,
                    self.inner.sync_field
                ),
            )
            .with_system(SystemId::salesforce()));
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            // 204 (older versions): updated; find its id.
            let soql = format!(
                "SELECT Id FROM {} WHERE {} = {}",
                E::SOBJECT,
                self.inner.sync_field,
                soql::quote(&key)
            );
            let found = self.query_records(&soql, 2).await?;
            return match found.as_slice() {
                [one] => Ok(Outcome::Updated(RemoteId::new(one.id(E::SOBJECT)?))),
                _ => Err(protocol(format!(
                    "upserted {key} but found {} records holding it",
                    found.len()
                ))),
            };
        }
        let result: SaveResult = super::decode_json(&format!("PATCH {path}"), &bytes)?;
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
        let mut out: Vec<Option<Outcome>> = batch.iter().map(|_| None).collect();
        let mut updates = Vec::new();
        let mut upserts = Vec::new();
        let mut deletes = Vec::new();
        let attributes = raw_json(format!(r#"{{"type":"{}"}}"#, E::SOBJECT));
        for (i, record) in batch.iter().enumerate() {
            match (&record.operation, &record.target_id) {
                (Operation::Delete, Some(id)) => deletes.push((i, id.to_string())),
                // Never written to Salesforce: nothing to delete.
                (Operation::Delete, None) => {
                    out[i] = Some(Outcome::Unchanged(record.origin_id.clone()));
                }
                (Operation::Upsert(data), target) => {
                    let mut fields = match E::encode(data, record, &self.inner.settings) {
                        Ok(f) => f,
                        Err(e) => {
                            out[i] = Some(Outcome::Failed(e));
                            continue;
                        }
                    };
                    match target {
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
        Ok(fill_outcomes(
            out,
            "Salesforce returned no result for the record",
        ))
    }
}
