//! getUpdated and getDeleted: the replication resources.

use super::{FakeSalesforce, Org, errors, minute, parse_time, stamp, text};
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

pub(super) fn deleted(
    org: &mut Org,
    sobject: &str,
    query: &HashMap<String, String>,
) -> (u16, Value) {
    *org.deleted_calls.entry(sobject.to_owned()).or_default() += 1;
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
    if records.len() > org.deleted_id_limit {
        return (
            400,
            errors(
                "EXCEEDED_ID_LIMIT",
                &format!(
                    "more than {} ids deleted in the window: choose start and end dates closer together",
                    org.deleted_id_limit
                ),
            ),
        );
    }
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

impl FakeSalesforce {
    /// How many getDeleted calls (`sobjects/{type}/deleted/`) `sobject`
    /// has had, answered or refused. Salesforce does not refuse frequent
    /// calls; its replication guidance is to call getDeleted for an
    /// object at most once every 5 minutes, which a test checks here.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::Source;
    /// # use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # use odoo_integration_model::ClientCompany;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// # sf.allow_client("k", "s");
    /// # let conn = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s")).login_url(sf.url()).build()?;
    /// // `conn`: a SalesforceConnector signing in to `sf`.
    /// Source::<ClientCompany>::read(&conn, None, 10).await?;
    /// assert_eq!(sf.get_deleted_calls("Account"), 1);
    /// assert_eq!(sf.get_deleted_calls("Contact"), 0);
    /// # Ok(()) }
    /// ```
    pub fn get_deleted_calls(&self, sobject: &str) -> usize {
        self.shared
            .org()
            .deleted_calls
            .get(sobject)
            .copied()
            .unwrap_or(0)
    }

    /// The most ids getDeleted returns: a window holding more is refused
    /// with 400 `EXCEEDED_ID_LIMIT`, as Salesforce refuses one of more
    /// than 600,000 (the default here). Lower it to test the refusal.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::{ConnectorErrorKind, Source};
    /// # use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # use odoo_integration_model::ClientCompany;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// # sf.allow_client("k", "s");
    /// # let conn = SalesforceConnector::builder(ConnectedApp::client_credentials("k", "s")).login_url(sf.url()).build()?;
    /// // `conn`: a SalesforceConnector signing in to `sf`; no known ids
    /// // for a full compare.
    /// sf.set_deleted_id_limit(0);
    /// let gone = sf.insert("Account", serde_json::json!({"Name": "Gone"}));
    /// sf.delete("Account", &gone);
    /// let e = Source::<ClientCompany>::read(&conn, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Configuration); // a full compare needs known ids
    /// # Ok(()) }
    /// ```
    pub fn set_deleted_id_limit(&self, ids: usize) {
        self.shared.org().deleted_id_limit = ids;
    }
}
