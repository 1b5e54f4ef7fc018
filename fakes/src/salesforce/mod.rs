//! A stateful fake of the Salesforce endpoints the `salesforce` connector
//! uses, served on `127.0.0.1` by [`FakeSalesforce`].
//!
//! - **OAuth** (`/services/oauth2/token`), on two hosts as Salesforce has
//!   them: the org's My Domain ([`url`](FakeSalesforce::url), also the
//!   instance) and the generic login host
//!   ([`login_url`](FakeSalesforce::login_url), standing for
//!   `login.salesforce.com`). The client-credentials flow, for the clients
//!   you [`allow_client`](FakeSalesforce::allow_client), only on My Domain:
//!   the login host refuses it with `invalid_grant` (`request not
//!   supported on this domain`), as Salesforce does. The JWT bearer flow,
//!   for those you [`allow_jwt`](FakeSalesforce::allow_jwt), on both: the
//!   assertion's claims (`iss`, `sub`, `aud`, `exp`) are checked (`aud` is
//!   `https://login.salesforce.com` or `https://test.salesforce.com`,
//!   whichever host the request goes to), and its RS256 signature against
//!   the public key you give.
//!   Tokens last until [`expire_tokens`](FakeSalesforce::expire_tokens);
//!   then the API answers 401 `INVALID_SESSION_ID`. The token answer's
//!   `instance_url` is the fake's own URL.
//! - **Query** (`/services/data/vXX.X/query?q=`): the SOQL subset the
//!   connector sends: `SELECT` fields and child sub-queries
//!   (`OpportunityLineItems`, `Contacts`, `Opportunities`) `FROM` an
//!   sObject, relationship fields through lookups (`Owner.Email`,
//!   `PricebookEntry.Product2.ProductCode`: `Foo` by `FooId`, `Foo__r` by
//!   `Foo__c`), nested in the answer as Salesforce nests them (the related
//!   record with its `attributes`, or `null` for an empty lookup), `WHERE`
//!   comparisons (`=`, `!=`, `<`, `<=`, `>`, `>=` against
//!   strings, without case as SOQL compares them, date-times, numbers,
//!   `null`) and `field IN (value, …)`,
//!   joined by `AND` / `OR` with parentheses, `ORDER BY` fields, `LIMIT`;
//!   anything else is refused with `MALFORMED_QUERY` (an unknown child
//!   relationship with `INVALID_TYPE`). Answers are paged by
//!   `nextRecordsUrl` at [`set_page_size`](FakeSalesforce::set_page_size)
//!   (default 2,000). A sub-query answer is `null` without children, and
//!   holds at most [`set_child_page_size`](FakeSalesforce::set_child_page_size)
//!   children (default 200) with `done: false` and its own
//!   `nextRecordsUrl`; asking for the parent query's next batch
//!   invalidates the child locators of the batches before it (then
//!   400 `INVALID_QUERY_LOCATOR`), as Salesforce documents for
//!   `queryMore()`. A locator is good for one use.
//! - **Replication**: `sobjects/{type}/updated/` (30 days back) and
//!   `sobjects/{type}/deleted/` (15 days back; `start` is read to the
//!   minute, `latestDateCovered` is the last whole minute), older starts
//!   refused with `INVALID_REPLICATION_DATE`; a getDeleted window of more
//!   than 600,000 deletes
//!   ([`set_deleted_id_limit`](FakeSalesforce::set_deleted_id_limit)) is
//!   refused with `EXCEEDED_ID_LIMIT`. getDeleted calls are counted per
//!   sObject ([`get_deleted_calls`](FakeSalesforce::get_deleted_calls)) so
//!   a test can hold a client to Salesforce's guidance of one call per
//!   object every 5 minutes; like Salesforce, the fake does not refuse
//!   more.
//! - **Writes**: sObject Collections create (`POST`), update (`PATCH`),
//!   upsert by external id (`PATCH composite/sobjects/{type}/{field}`,
//!   with `created`) and delete (`DELETE ?ids=`), 200 records at most;
//!   the single-record upsert `PATCH sobjects/{type}/{field}/{value}`
//!   (201 created, 200 updated, 300 when several records hold the value;
//!   external ids match case-insensitively).
//!   Required fields (`Account.Name`, `Contact.LastName`,
//!   `Opportunity.Name/StageName/CloseDate`,
//!   `OpportunityLineItem.OpportunityId/PricebookEntryId/Quantity`, with
//!   `REQUIRED_FIELD_MISSING`), a line item without `UnitPrice` or
//!   `TotalPrice` or whose opportunity does not exist, and your validation
//!   rules ([`reject`](FakeSalesforce::reject)) fail single records.
//!   Deleting an opportunity deletes its line items, as Salesforce does.
//!   Writing a deleted record fails with `ENTITY_IS_DELETED`.
//! - **Owners**: users (`005…`, [`add_user`](FakeSalesforce::add_user), or
//!   any `User` record with `Email` and `IsActive`). A write that sets a
//!   record's `OwnerId` to an inactive user fails with
//!   `INACTIVE_OWNER_OR_USER`, to an id that is no user with
//!   `INVALID_CROSS_REFERENCE_KEY`.
//! - **Products**: a `PricebookEntry` shows its `Product2`'s
//!   `ProductCode` and `Name`; a line item whose `PricebookEntryId` is a
//!   `PricebookEntry` record of the fake gets the `Product2Id` and
//!   `ProductCode` of the entry's product, as Salesforce derives them;
//!   writing them (or an opportunity's `IsWon` / `IsClosed`) fails with
//!   `INVALID_FIELD_FOR_INSERT_UPDATE`, as they are read-only. Such an
//!   entry must be active and in the opportunity's price book
//!   (`Pricebook2Id`, which an opportunity without one takes from its
//!   first line item's entry), else the line item fails with
//!   `FIELD_INTEGRITY_EXCEPTION`.
//! - **Records** get 18-character ids with their type's key prefix (`001`
//!   Account, `003` Contact, `006` Opportunity, `00k` OpportunityLineItem,
//!   `a00` any other) and `CreatedDate`, `LastModifiedDate` and
//!   `SystemModstamp` in UTC, in whole seconds as Salesforce stamps them
//!   (`2026-11-30T10:00:00.000+0000`), from the fake's clock, which you
//!   can pin ([`set_clock`](FakeSalesforce::set_clock)). A long
//!   transaction is modelled by committing a record late
//!   ([`insert_committed_at`](FakeSalesforce::insert_committed_at),
//!   [`update_committed_at`](FakeSalesforce::update_committed_at)): it
//!   carries a `SystemModstamp` earlier than records already read, as
//!   Salesforce stamps a row when the transaction writes it, not when it
//!   commits. Contact `Name` and Opportunity `IsWon`/`IsClosed` are
//!   derived as Salesforce does (from the stage names `Closed Won` and
//!   `Closed Lost` only).
//! - **Limits**: every answer carries `Sforce-Limit-Info: api-usage=N/L`
//!   ([`set_api_usage`](FakeSalesforce::set_api_usage)); each signed-in
//!   API call counts one, and past the limit the API answers 403
//!   `REQUEST_LIMIT_EXCEEDED`.
//! - **Faults** ([`fail_next`](FakeSalesforce::fail_next)): an HTML page
//!   with a status, 429 with `Retry-After`, `REQUEST_LIMIT_EXCEEDED`, a
//!   JSON body cut short.
//!
//! Field values are kept as the raw JSON sent, so amounts stay exact.
//!
//! # Not modelled
//!
//! Be careful where these matter: the fake is then more lenient than an
//! org.
//!
//! - **OAuth**: the web-server, refresh-token, username-password and
//!   device flows; session timeouts (a token lasts until
//!   [`expire_tokens`](FakeSalesforce::expire_tokens)); IP restrictions
//!   and connected-app policies; token revocation.
//! - **Metadata**: describe calls, field types, lengths (`STRING_TOO_LONG`
//!   is never answered), picklist values (any `StageName` is accepted),
//!   record types, field-level security and read-only fields (any field
//!   name is accepted and stored, even a formula or system field).
//! - **Automation and security**: Apex triggers, flows, workflow and
//!   process builder, assignment and auto-response rules, duplicate and
//!   matching rules, sharing rules, profiles and permission sets (every
//!   record is visible and writable; getDeleted shows every delete,
//!   where Salesforce shows only what the session user can see). Your
//!   [`reject`](FakeSalesforce::reject) rules stand in for validation
//!   rules. Nothing but the fake's own writes changes `SystemModstamp`
//!   (in an org, system jobs such as roll-up recalculation do too).
//! - **Governor limits and sizes**: the daily API request limit is a
//!   counter you set, not a rolling 24-hour window; no concurrent
//!   long-request limit, no limit on open query locators and no locator
//!   expiry (Salesforce drops them after about 15 minutes idle), no
//!   URI-length (414) or request-body size limits, no SOQL length limit,
//!   no getUpdated id limit; the delete log's purge (every two hours
//!   above a size) and recycle-bin emptying are not modelled.
//! - **API**: every API version (`vXX.X`) answers alike (no version
//!   differences, no retired versions); single-record create, read,
//!   update and delete (only the upsert by external id); sObject
//!   Collections with `allOrNone: true`; composite, batch, tree and graph
//!   requests; `queryAll`; the Bulk, Streaming and Pub/Sub APIs (Change
//!   Data Capture); SOQL beyond the subset above (aggregates, functions,
//!   `LIKE`, semi-joins, date literals such as `LAST_N_DAYS`, relationship
//!   fields in `WHERE` or `ORDER BY` (only in `SELECT`), polymorphic
//!   lookups such as `What.Name`, `FOR UPDATE`). `ORDER BY` sorts every
//!   field as text (numbers too); field names are case-sensitive.
//! - **Data**: cascade deletes other than an opportunity's line items
//!   (deleting an account leaves its contacts and opportunities), merges,
//!   undelete, price books beyond the above (a `PricebookEntryId` the
//!   fake does not hold is accepted, unchecked, and its line item has no
//!   `ProductCode`; an entry's currency is not checked against the
//!   opportunity's; the standard price book's own rules are not
//!   modelled) and multi-currency (`CurrencyIsoCode` is stored as
//!   sent). A record created without `OwnerId` gets none (Salesforce
//!   makes the running user its owner); only `OwnerId` writes are
//!   checked (an org also refuses some updates of records an inactive
//!   user owns). Ids are not
//!   real Salesforce ids: digits after the key prefix, without the
//!   case-safe checksum suffix.
//!
//! # Example
//!
//! ```
//! use odoo_integration_fakes::salesforce::FakeSalesforce;
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let sf = FakeSalesforce::start().await?;
//! sf.allow_client("consumer-key", "consumer-secret");
//! let id = sf.insert("Account", serde_json::json!({"Name": "Acme NV"}));
//! assert!(id.starts_with("001") && id.len() == 18);
//! assert_eq!(sf.record("Account", &id).unwrap()["Name"], "Acme NV");
//! # Ok(()) }
//! ```

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

mod paging;
mod replication;
use replication::{deleted, updated};

/// A record: each field's raw JSON.
type Rec = BTreeMap<String, Box<RawValue>>;

/// A fault to answer instead of the next API calls.
///
/// # Example
///
/// ```
/// use odoo_integration_fakes::salesforce::Fault;
/// let f = Fault::TooManyRequests { retry_after_secs: 7 };
/// assert_ne!(f, Fault::TruncatedBody);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// An HTML error page with this status, as a proxy or a maintenance
    /// window sends (502, 503).
    HtmlPage(u16),
    /// 429 with `Retry-After`.
    TooManyRequests {
        /// The `Retry-After` seconds.
        retry_after_secs: u64,
    },
    /// 403 `REQUEST_LIMIT_EXCEEDED`: the org's daily calls are spent.
    RequestLimitExceeded,
    /// 200 with a JSON body cut short.
    TruncatedBody,
}

#[derive(Default)]
struct Org {
    clients: HashMap<String, String>,
    jwt: HashMap<String, (String, String)>,
    tokens: HashSet<String>,
    token_requests: usize,
    calls: usize,
    requests: Vec<String>,
    objects: BTreeMap<String, BTreeMap<String, Rec>>,
    deleted: Vec<(String, String, DateTime<Utc>)>,
    next_id: u64,
    page_size: usize,
    /// Open query locators: the rows still to hand out.
    cursors: HashMap<String, paging::Locator>,
    /// Children per sub-query answer before it pages.
    child_page_size: usize,
    api_used: u64,
    api_limit: u64,
    faults: VecDeque<Fault>,
    clock: Option<DateTime<Utc>>,
    rules: Vec<(String, String, String, String)>,
    /// getDeleted calls by sObject.
    deleted_calls: HashMap<String, usize>,
    /// The most ids getDeleted returns before `EXCEEDED_ID_LIMIT`.
    deleted_id_limit: usize,
}

struct Shared {
    org: Mutex<Org>,
    url: String,
}

impl Shared {
    fn org(&self) -> MutexGuard<'_, Org> {
        // A panicking handler cannot leave the data half-written in a way
        // that matters to a fake: keep serving.
        crate::lock(&self.org)
    }
}

/// An in-memory Salesforce org on loopback. See the [module docs](self).
/// Dropping it stops the server.
///
/// # Example
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let sf = odoo_integration_fakes::salesforce::FakeSalesforce::start().await?;
/// assert!(sf.url().starts_with("http://127.0.0.1:"));
/// # Ok(()) }
/// ```
pub struct FakeSalesforce {
    served: crate::Served,
    /// The generic login host: only the token endpoint.
    login: crate::Served,
    shared: Arc<Shared>,
}

impl fmt::Debug for FakeSalesforce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeSalesforce")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

fn key_prefix(sobject: &str) -> &'static str {
    match sobject {
        "Account" => "001",
        "Contact" => "003",
        "Opportunity" => "006",
        "OpportunityLineItem" => "00k",
        "User" => "005",
        "Product2" => "01t",
        "Pricebook2" => "01s",
        "PricebookEntry" => "01u",
        _ => "a00",
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string()
}

fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

fn raw(v: &Value) -> Box<RawValue> {
    RawValue::from_string(v.to_string()).unwrap_or_default()
}

fn raw_str(s: &str) -> Box<RawValue> {
    raw(&Value::String(s.to_owned()))
}

/// A field as text (strings unquoted, other JSON as written), `None` for
/// null or absent.
fn text(rec: &Rec, field: &str) -> Option<String> {
    let r = rec.get(field)?.get();
    if r == "null" {
        return None;
    }
    Some(serde_json::from_str::<String>(r).unwrap_or_else(|_| r.to_owned()))
}

fn whole_seconds(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::seconds(1)).unwrap_or(t)
}

fn minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::minutes(1)).unwrap_or(t)
}

impl Org {
    /// The org's clock, in whole seconds as Salesforce stamps records
    /// (`SystemModstamp` always ends in `.000`).
    fn now(&self) -> DateTime<Utc> {
        whole_seconds(self.clock.unwrap_or_else(Utc::now))
    }

    fn new_id(&mut self, sobject: &str) -> String {
        self.next_id += 1;
        format!("{}{:015}", key_prefix(sobject), self.next_id)
    }

    /// Salesforce's derived fields.
    fn derive(sobject: &str, rec: &mut Rec) {
        match sobject {
            "Contact" => {
                let first = text(rec, "FirstName").unwrap_or_default();
                let last = text(rec, "LastName").unwrap_or_default();
                let name = format!("{first} {last}").trim().to_owned();
                rec.insert("Name".into(), raw_str(&name));
            }
            "Opportunity" => {
                let stage = text(rec, "StageName").unwrap_or_default();
                let won = stage == "Closed Won";
                let closed = won || stage == "Closed Lost";
                rec.insert("IsWon".into(), raw(&Value::Bool(won)));
                rec.insert("IsClosed".into(), raw(&Value::Bool(closed)));
            }
            _ => {}
        }
    }

    /// The record a lookup relationship of `rec` points at (`Owner` by
    /// `OwnerId`, `Foo__r` by `Foo__c`), with its sObject.
    fn related(&self, rec: &Rec, relationship: &str) -> Option<(String, &Rec)> {
        let field = match relationship.strip_suffix("__r") {
            Some(base) => format!("{base}__c"),
            None => format!("{relationship}Id"),
        };
        let id = text(rec, &field)?;
        let sobject = self.type_of(&id)?;
        let target = self.objects.get(&sobject)?.get(&id)?;
        Some((sobject, target))
    }

    /// What Salesforce derives from other records: a line item's
    /// `Product2Id` and `ProductCode`, from its price book entry's product.
    fn derive_related(&self, sobject: &str, rec: &mut Rec) {
        if sobject == "PricebookEntry" {
            // An entry shows its product's code and name.
            let product = self
                .related(rec, "Product2")
                .filter(|(t, _)| t == "Product2")
                .map(|(_, p)| (text(p, "ProductCode"), text(p, "Name")));
            let (code, name) = product.unwrap_or_default();
            rec.insert(
                "ProductCode".into(),
                raw(&code.map_or(Value::Null, Value::String)),
            );
            rec.insert("Name".into(), raw(&name.map_or(Value::Null, Value::String)));
            return;
        }
        if sobject != "OpportunityLineItem" {
            return;
        }
        let product = self
            .related(rec, "PricebookEntry")
            .filter(|(t, _)| t == "PricebookEntry")
            .and_then(|(_, entry)| self.related(entry, "Product2"))
            .filter(|(t, _)| t == "Product2")
            .map(|(_, p)| (text(p, "Id"), text(p, "ProductCode")));
        let (id, code) = product.unwrap_or_default();
        rec.insert(
            "Product2Id".into(),
            raw(&id.map_or(Value::Null, Value::String)),
        );
        rec.insert(
            "ProductCode".into(),
            raw(&code.map_or(Value::Null, Value::String)),
        );
    }

    /// Why the org refuses what a write sends (before it is merged into
    /// the record): a read-only field, an owner that is not an active
    /// user.
    fn refuse_sent(&self, sobject: &str, sent: &Rec) -> Option<Value> {
        let read_only: &[&str] = match sobject {
            "OpportunityLineItem" => &["ProductCode", "Product2Id"],
            "Opportunity" => &["IsWon", "IsClosed"],
            _ => &[],
        };
        if let Some(f) = read_only.iter().find(|f| sent.contains_key(**f)) {
            return Some(json!({
                "statusCode": "INVALID_FIELD_FOR_INSERT_UPDATE",
                "message": format!("Unable to create/update fields: {f}. Please check the security settings of this field and verify that it is read/write for your profile or permission set."),
                "fields": [f],
            }));
        }
        let owner = text(sent, "OwnerId")?;
        let user = self.objects.get("User").and_then(|u| u.get(&owner));
        match user {
            None => Some(json!({
                "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                "message": format!("invalid cross reference id: {owner}"),
                "fields": ["OwnerId"],
            })),
            Some(u) if text(u, "IsActive").as_deref() != Some("true") => Some(json!({
                "statusCode": "INACTIVE_OWNER_OR_USER",
                "message": format!(
                    "operation performed with inactive user [{owner}] as owner of {}",
                    sobject.to_lowercase()
                ),
                "fields": [],
            })),
            Some(_) => None,
        }
    }

    /// A record's failure, if the org would refuse it.
    fn validate(&self, sobject: &str, rec: &Rec) -> Option<Value> {
        let required: &[&str] = match sobject {
            "Account" => &["Name"],
            "Contact" => &["LastName"],
            "Opportunity" => &["Name", "StageName", "CloseDate"],
            "OpportunityLineItem" => &["OpportunityId", "PricebookEntryId", "Quantity"],
            _ => &[],
        };
        let missing: Vec<&str> = required
            .iter()
            .copied()
            .filter(|f| text(rec, f).is_none_or(|t| t.trim().is_empty()))
            .collect();
        if !missing.is_empty() {
            return Some(json!({
                "statusCode": "REQUIRED_FIELD_MISSING",
                "message": format!("Required fields are missing: [{}]", missing.join(", ")),
                "fields": missing,
            }));
        }
        if sobject == "OpportunityLineItem" {
            if text(rec, "UnitPrice").is_none() && text(rec, "TotalPrice").is_none() {
                return Some(json!({
                    "statusCode": "FIELD_INTEGRITY_EXCEPTION",
                    "message": "field integrity exception: unknown (must specify either UnitPrice or TotalPrice)",
                    "fields": [],
                }));
            }
            let parent = text(rec, "OpportunityId").unwrap_or_default();
            let Some(opportunity) = self.objects.get("Opportunity").and_then(|o| o.get(&parent))
            else {
                return Some(json!({
                    "statusCode": "INVALID_CROSS_REFERENCE_KEY",
                    "message": format!("invalid cross reference id: {parent}"),
                    "fields": ["OpportunityId"],
                }));
            };
            // An entry the fake holds must be active and in the
            // opportunity's price book (when it has one yet).
            if let Some((_, entry)) = self
                .related(rec, "PricebookEntry")
                .filter(|(t, _)| t == "PricebookEntry")
            {
                let integrity = |why: &str| {
                    Some(json!({
                        "statusCode": "FIELD_INTEGRITY_EXCEPTION",
                        "message": format!("field integrity exception: PricebookEntryId ({why})"),
                        "fields": ["PricebookEntryId"],
                    }))
                };
                if text(entry, "IsActive").as_deref() == Some("false") {
                    return integrity("pricebook entry is inactive");
                }
                let book = text(opportunity, "Pricebook2Id");
                if book.is_some() && book != text(entry, "Pricebook2Id") {
                    return integrity(
                        "pricebook entry is in a different pricebook than the one assigned to the opportunity",
                    );
                }
            }
        }
        for (t, field, value, message) in &self.rules {
            if t == sobject && text(rec, field).as_deref() == Some(value.as_str()) {
                return Some(json!({
                    "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                    "message": message,
                    "fields": [field],
                }));
            }
        }
        None
    }

    /// Creates a record (after validation): its id, or the error.
    fn create(&mut self, sobject: &str, fields: Rec) -> Result<String, Value> {
        let mut rec = fields;
        rec.remove("attributes");
        rec.remove("Id");
        rec.remove("id");
        if let Some(e) = self.refuse_sent(sobject, &rec) {
            return Err(e);
        }
        Self::derive(sobject, &mut rec);
        self.derive_related(sobject, &mut rec);
        if let Some(e) = self.validate(sobject, &rec) {
            return Err(e);
        }
        let id = self.new_id(sobject);
        let now = stamp(self.now());
        if sobject == "OpportunityLineItem" {
            self.assign_pricebook(&rec, &now);
        }
        rec.insert("Id".into(), raw_str(&id));
        rec.insert("CreatedDate".into(), raw_str(&now));
        rec.insert("LastModifiedDate".into(), raw_str(&now));
        rec.insert("SystemModstamp".into(), raw_str(&now));
        self.objects
            .entry(sobject.to_owned())
            .or_default()
            .insert(id.clone(), rec);
        Ok(id)
    }

    /// An opportunity without a price book takes the one of its first
    /// line item's entry, as Salesforce assigns it.
    fn assign_pricebook(&mut self, line: &Rec, now: &str) {
        let book = self
            .related(line, "PricebookEntry")
            .filter(|(t, _)| t == "PricebookEntry")
            .and_then(|(_, entry)| text(entry, "Pricebook2Id"));
        let (Some(book), Some(parent)) = (book, text(line, "OpportunityId")) else {
            return;
        };
        if let Some(opportunity) = self
            .objects
            .get_mut("Opportunity")
            .and_then(|o| o.get_mut(&parent))
            && text(opportunity, "Pricebook2Id").is_none()
        {
            opportunity.insert("Pricebook2Id".into(), raw_str(&book));
            opportunity.insert("SystemModstamp".into(), raw_str(now));
        }
    }

    /// Updates a record's fields: the error, if any.
    fn update(&mut self, sobject: &str, id: &str, fields: Rec) -> Result<(), Value> {
        let now = stamp(self.now());
        let Some(current) = self.objects.get(sobject).and_then(|o| o.get(id)) else {
            return Err(self.missing(id));
        };
        let mut rec = current.clone();
        let sent: Rec = fields
            .into_iter()
            .filter(|(k, _)| !matches!(k.as_str(), "attributes" | "Id" | "id"))
            .collect();
        if let Some(e) = self.refuse_sent(sobject, &sent) {
            return Err(e);
        }
        rec.extend(sent);
        Self::derive(sobject, &mut rec);
        self.derive_related(sobject, &mut rec);
        if let Some(e) = self.validate(sobject, &rec) {
            return Err(e);
        }
        rec.insert("LastModifiedDate".into(), raw_str(&now));
        rec.insert("SystemModstamp".into(), raw_str(&now));
        if let Some(slot) = self.objects.get_mut(sobject).and_then(|o| o.get_mut(id)) {
            *slot = rec;
        }
        Ok(())
    }

    fn missing(&self, id: &str) -> Value {
        if self.deleted.iter().any(|(_, d, _)| d == id) {
            json!({"statusCode": "ENTITY_IS_DELETED", "message": "entity is deleted", "fields": []})
        } else {
            json!({"statusCode": "INVALID_CROSS_REFERENCE_KEY", "message": format!("invalid cross reference id: {id}"), "fields": []})
        }
    }

    fn type_of(&self, id: &str) -> Option<String> {
        self.objects
            .iter()
            .find(|(_, recs)| recs.contains_key(id))
            .map(|(t, _)| t.clone())
    }

    fn delete(&mut self, id: &str) -> Result<(), Value> {
        let Some(sobject) = self.type_of(id) else {
            return Err(self.missing(id));
        };
        if let Some(recs) = self.objects.get_mut(&sobject) {
            recs.remove(id);
        }
        let now = self.now();
        if sobject == "Opportunity" {
            // Its line items go with it.
            let lines = self.holding("OpportunityLineItem", "OpportunityId", id);
            if let Some(recs) = self.objects.get_mut("OpportunityLineItem") {
                for line in &lines {
                    recs.remove(line);
                }
            }
            for line in lines {
                self.deleted.push(("OpportunityLineItem".into(), line, now));
            }
        }
        self.deleted.push((sobject, id.to_owned(), now));
        Ok(())
    }

    /// Records of `sobject` whose `field` holds `value` (case-insensitive,
    /// as external ids are by default).
    fn holding(&self, sobject: &str, field: &str, value: &str) -> Vec<String> {
        self.objects
            .get(sobject)
            .map(|recs| {
                recs.iter()
                    .filter(|(_, r)| text(r, field).is_some_and(|v| v.eq_ignore_ascii_case(value)))
                    .map(|(id, _)| id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl FakeSalesforce {
    /// Starts an empty org on `127.0.0.1` (a free port), page size 2,000
    /// (200 children a sub-query answer), API limit 15,000 a day,
    /// getDeleted limit 600,000 ids.
    ///
    /// # Errors
    ///
    /// The port cannot be bound.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> std::io::Result<()> {
    /// let sf = odoo_integration_fakes::salesforce::FakeSalesforce::start().await?;
    /// assert_eq!(sf.calls(), 0);
    /// # Ok(()) }
    /// ```
    pub async fn start() -> std::io::Result<FakeSalesforce> {
        FakeSalesforce::start_on(crate::LOOPBACK).await
    }

    /// Starts the same on `addr`: a fixed port, say, for a fake you point a
    /// tool at by hand (port 0 picks a free one).
    ///
    /// # Errors
    ///
    /// `addr` cannot be bound (the port is taken, or the address is not
    /// this machine's).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// let sf = FakeSalesforce::start_on("127.0.0.1:0".parse()?).await?;
    /// assert!(sf.url().starts_with("http://127.0.0.1:"));
    /// // A port in use is an error, not a panic.
    /// let port = sf.url().rsplit(':').next().unwrap_or_default().to_owned();
    /// assert!(FakeSalesforce::start_on(format!("127.0.0.1:{port}").parse()?).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn start_on(addr: std::net::SocketAddr) -> std::io::Result<FakeSalesforce> {
        let (listener, addr) = crate::bind(addr).await?;
        let shared = Arc::new(Shared {
            org: Mutex::new(Org {
                page_size: 2000,
                child_page_size: 200,
                api_limit: 15_000,
                deleted_id_limit: 600_000,
                ..Org::default()
            }),
            url: format!("http://{addr}"),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let (login_listener, login_addr) = crate::bind(crate::LOOPBACK).await?;
        let login = Router::new()
            .fallback(login_host)
            .with_state(shared.clone());
        Ok(FakeSalesforce {
            served: crate::Served::new(listener, addr, app),
            login: crate::Served::new(login_listener, login_addr, login),
            shared,
        })
    }

    /// The base URL: the login URL and the instance URL.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// // The login URL and, from the token answer, the instance URL.
    /// assert!(sf.url().starts_with("http://127.0.0.1:"));
    /// # Ok(()) }
    /// ```
    pub fn url(&self) -> String {
        format!("http://{}", self.served.addr())
    }

    /// The generic login host, standing for `https://login.salesforce.com`:
    /// it serves only the token endpoint, and refuses the
    /// client-credentials flow there, as Salesforce does (that flow needs
    /// the org's My Domain, [`url`](Self::url)).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// use odoo_integration_connectors::{ConnectorErrorKind, Source};
    /// let sf = odoo_integration_fakes::salesforce::FakeSalesforce::start().await?;
    /// sf.allow_client("key", "consumer-secret");
    /// assert_ne!(sf.login_url(), sf.url());
    /// let wrong_host = SalesforceConnector::builder(ConnectedApp::client_credentials("key", "consumer-secret"))
    ///     .login_url(sf.login_url())
    ///     .build()?;
    /// let e = Source::<odoo_integration_model::ClientCompany>::read(&wrong_host, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Configuration, "{e}");
    /// # Ok(()) }
    /// ```
    pub fn login_url(&self) -> String {
        format!("http://{}", self.login.addr())
    }

    /// Accepts the client-credentials flow for this consumer key and
    /// secret.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// use odoo_integration_connectors::{ConnectorErrorKind, Source};
    /// let sf = FakeSalesforce::start().await?;
    /// sf.allow_client("consumer-key", "consumer-secret");
    /// let ok = SalesforceConnector::builder(ConnectedApp::client_credentials("consumer-key", "consumer-secret"))
    ///     .login_url(sf.url())
    ///     .build()?;
    /// assert!(Source::<odoo_integration_model::ClientCompany>::read(&ok, None, 10).await.is_ok());
    /// let wrong = SalesforceConnector::builder(ConnectedApp::client_credentials("consumer-key", "guess"))
    ///     .login_url(sf.url())
    ///     .build()?;
    /// let e = Source::<odoo_integration_model::ClientCompany>::read(&wrong, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
    /// # Ok(()) }
    /// ```
    pub fn allow_client(&self, client_id: &str, client_secret: &str) {
        self.shared
            .org()
            .clients
            .insert(client_id.to_owned(), client_secret.to_owned());
    }

    /// Accepts JWT bearer assertions issued by `client_id` for `username`,
    /// signed by the key whose public half is `public_key_pem`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_connectors::salesforce::{ConnectedApp, SalesforceConnector};
    /// use odoo_integration_connectors::Source;
    /// let sf = FakeSalesforce::start().await?;
    /// let public = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../connectors/tests/data/salesforce/test_only_public_key.pem"));
    /// sf.allow_jwt("consumer-key", "integration@example.com", public);
    /// # let private = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../connectors/tests/data/salesforce/test_only_private_key.pem"));
    /// let credentials = ConnectedApp::jwt_bearer("consumer-key", "integration@example.com", private)?;
    /// let conn = SalesforceConnector::builder(credentials).login_url(sf.url()).build()?;
    /// Source::<odoo_integration_model::ClientCompany>::read(&conn, None, 10).await?;
    /// assert_eq!(sf.token_requests(), 1);
    /// # Ok(()) }
    /// ```
    pub fn allow_jwt(&self, client_id: &str, username: &str, public_key_pem: &str) {
        self.shared.org().jwt.insert(
            client_id.to_owned(),
            (username.to_owned(), public_key_pem.to_owned()),
        );
    }

    /// Query answers are paged at `n` records (at least 1).
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
    /// sf.set_page_size(2);
    /// for name in ["A", "B", "C"] {
    ///     sf.insert("Account", serde_json::json!({"Name": name}));
    /// }
    /// let (accounts, _) = odoo_integration_connectors::read_to_end::<ClientCompany>(&conn, None, 100).await?;
    /// assert_eq!(accounts.len(), 3);
    /// assert!(sf.requests().iter().any(|r| r.contains("/query/"))); // a next page
    /// # Ok(()) }
    /// ```
    pub fn set_page_size(&self, n: usize) {
        self.shared.org().page_size = n.max(1);
    }

    /// Sets the org's API usage, as `Sforce-Limit-Info` reports it.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// sf.set_api_usage(14_000, 15_000);
    /// assert_eq!(sf.api_usage(), (14_000, 15_000));
    /// # Ok(()) }
    /// ```
    pub fn set_api_usage(&self, used: u64, limit: u64) {
        let mut org = self.shared.org();
        org.api_used = used;
        org.api_limit = limit;
    }

    /// The org's API usage: `(used, limit)`.
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
    /// let (used, limit) = sf.api_usage();
    /// assert_eq!(used, sf.calls() as u64); // each API call counts
    /// assert_eq!(conn.api_usage(), Some((used, limit)));
    /// # Ok(()) }
    /// ```
    pub fn api_usage(&self) -> (u64, u64) {
        let org = self.shared.org();
        (org.api_used, org.api_limit)
    }

    /// Invalidates every token: the next API call answers 401
    /// `INVALID_SESSION_ID`.
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
    /// sf.expire_tokens();
    /// // The connector is answered 401, signs in again and retries.
    /// Source::<ClientCompany>::read(&conn, None, 10).await?;
    /// assert_eq!(sf.token_requests(), 2);
    /// # Ok(()) }
    /// ```
    pub fn expire_tokens(&self) {
        self.shared.org().tokens.clear();
    }

    /// How many token requests came (granted or not).
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
    /// assert_eq!(sf.token_requests(), 0);
    /// Source::<ClientCompany>::read(&conn, None, 10).await?;
    /// Source::<ClientCompany>::read(&conn, None, 10).await?;
    /// assert_eq!(sf.token_requests(), 1); // the token is cached
    /// # Ok(()) }
    /// ```
    pub fn token_requests(&self) -> usize {
        self.shared.org().token_requests
    }

    /// How many API calls came (token requests aside), faults included.
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
    /// let before = sf.calls();
    /// Source::<ClientCompany>::read(&conn, None, 10).await?;
    /// assert!(sf.calls() > before);
    /// # Ok(()) }
    /// ```
    pub fn calls(&self) -> usize {
        self.shared.org().calls
    }

    /// Each API call so far as `METHOD /path` (without the query).
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
    /// let requests = sf.requests();
    /// assert!(requests.iter().any(|r| r.starts_with("GET ") && r.contains("/query")));
    /// assert!(requests.iter().all(|r| !r.contains('?'))); // without the query
    /// # Ok(()) }
    /// ```
    pub fn requests(&self) -> Vec<String> {
        self.shared.org().requests.clone()
    }

    /// Answers the next `times` API calls with `fault`.
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
    /// use odoo_integration_connectors::ConnectorErrorKind;
    /// use odoo_integration_fakes::salesforce::Fault;
    /// sf.fail_next(Fault::HtmlPage(503), 1);
    /// let e = Source::<ClientCompany>::read(&conn, None, 10).await.unwrap_err();
    /// assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    /// assert!(Source::<ClientCompany>::read(&conn, None, 10).await.is_ok()); // the fault is spent
    /// # Ok(()) }
    /// ```
    pub fn fail_next(&self, fault: Fault, times: usize) {
        let mut org = self.shared.org();
        for _ in 0..times {
            org.faults.push_back(fault.clone());
        }
    }

    /// Pins the clock that stamps records (`None`: the system clock).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// let at = "2026-11-30T10:00:00Z".parse::<chrono::DateTime<chrono::Utc>>()?;
    /// sf.set_clock(Some(at));
    /// let id = sf.insert("Account", serde_json::json!({"Name": "Acme"}));
    /// assert_eq!(sf.record("Account", &id).unwrap()["SystemModstamp"], "2026-11-30T10:00:00.000+0000");
    /// # Ok(()) }
    /// ```
    pub fn set_clock(&self, at: Option<DateTime<Utc>>) {
        self.shared.org().clock = at;
    }

    /// A validation rule: a `sobject` record whose `field` is `value` fails
    /// with `FIELD_CUSTOM_VALIDATION_EXCEPTION` and `message`.
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
    /// # use odoo_integration_connectors::{ConnectorErrorKind, Operation, Outcome, Sink, SinkRecord};
    /// # use odoo_integration_model::{CanonicalId, RemoteId, SystemId};
    /// sf.reject("Account", "Industry", "Tobacco", "We do not sell to this industry");
    /// let smoke = ClientCompany { legal_name: "Smoke Ltd".into(), industry: Some("Tobacco".into()), ..Default::default() };
    /// let record = SinkRecord::new(CanonicalId::new(), SystemId::odoo(), RemoteId::new("1"), Operation::Upsert(smoke));
    /// let outcomes = conn.apply(vec![record]).await?;
    /// assert!(matches!(&outcomes[0], Outcome::Failed(e) if e.kind() == ConnectorErrorKind::Invalid));
    /// assert!(sf.records("Account").is_empty());
    /// # Ok(()) }
    /// ```
    pub fn reject(&self, sobject: &str, field: &str, value: &str, message: &str) {
        self.shared.org().rules.push((
            sobject.to_owned(),
            field.to_owned(),
            value.to_owned(),
            message.to_owned(),
        ));
    }

    /// Seeds a record (no validation), stamped now: its id.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// let id = sf.insert("Contact", serde_json::json!({"FirstName": "Ann", "LastName": "Lee"}));
    /// assert!(id.starts_with("003"));
    /// assert_eq!(sf.record("Contact", &id).unwrap()["Name"], "Ann Lee");
    /// # Ok(()) }
    /// ```
    pub fn insert(&self, sobject: &str, fields: Value) -> String {
        self.seed(sobject, fields, None)
    }

    /// Adds an active user (`IsActive: true`, its email as `Username` and
    /// `Email`) and returns its id (`005…`): an owner records can be
    /// given (`OwnerId`). Deactivate it as an admin would with
    /// [`update`](Self::update) (`{"IsActive": false}`); from then on a
    /// write that makes it a record's owner fails with
    /// `INACTIVE_OWNER_OR_USER`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// let ann = sf.add_user("ann@firm.example");
    /// assert!(ann.starts_with("005"));
    /// assert_eq!(sf.record("User", &ann).unwrap()["IsActive"], true);
    /// # Ok(()) }
    /// ```
    pub fn add_user(&self, email: &str) -> String {
        let last = email.split('@').next().unwrap_or(email);
        self.insert(
            "User",
            json!({"Username": email, "Email": email, "LastName": last, "IsActive": true}),
        )
    }

    /// Seeds a record as a long transaction commits it: stamped `at`
    /// (to the second), which may be earlier than records already
    /// committed and read. Salesforce stamps `SystemModstamp` when the
    /// transaction writes the row, not when it commits, so a reader
    /// can see a record appear behind its high-water mark.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// let first = sf.insert("Account", serde_json::json!({"Name": "Read first"}));
    /// let began = chrono::Utc::now() - chrono::TimeDelta::seconds(90);
    /// let late = sf.insert_committed_at("Account", serde_json::json!({"Name": "Late"}), began);
    /// let stamp = |id: &str| sf.record("Account", id).unwrap()["SystemModstamp"].as_str().unwrap().to_owned();
    /// assert!(stamp(&late) < stamp(&first)); // behind what was already there
    /// assert!(stamp(&late).ends_with(".000+0000"));
    /// # Ok(()) }
    /// ```
    pub fn insert_committed_at(&self, sobject: &str, fields: Value, at: DateTime<Utc>) -> String {
        self.seed(sobject, fields, Some(at))
    }

    fn seed(&self, sobject: &str, fields: Value, at: Option<DateTime<Utc>>) -> String {
        let mut org = self.shared.org();
        let mut rec: Rec = match fields {
            Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), raw(v))).collect(),
            _ => Rec::new(),
        };
        Org::derive(sobject, &mut rec);
        org.derive_related(sobject, &mut rec);
        let id = org.new_id(sobject);
        let now = stamp(at.map_or_else(|| org.now(), whole_seconds));
        rec.insert("Id".into(), raw_str(&id));
        rec.insert("CreatedDate".into(), raw_str(&now));
        rec.insert("LastModifiedDate".into(), raw_str(&now));
        rec.insert("SystemModstamp".into(), raw_str(&now));
        org.objects
            .entry(sobject.to_owned())
            .or_default()
            .insert(id.clone(), rec);
        id
    }

    /// Changes a record's fields as a user would (stamped now, no
    /// validation): whether it exists.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// let id = sf.insert("Account", serde_json::json!({"Name": "Acme"}));
    /// assert!(sf.update("Account", &id, serde_json::json!({"Industry": "Energy"})));
    /// assert_eq!(sf.record("Account", &id).unwrap()["Industry"], "Energy");
    /// assert!(!sf.update("Account", "001000000000000999", serde_json::json!({"Name": "?"})));
    /// # Ok(()) }
    /// ```
    pub fn update(&self, sobject: &str, id: &str, fields: Value) -> bool {
        self.change(sobject, id, fields, None)
    }

    /// Changes a record as a long transaction commits the change: stamped
    /// `at` (to the second), maybe earlier than records already read. See
    /// [`insert_committed_at`](Self::insert_committed_at). Whether the
    /// record exists.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// let at = "2026-11-30T10:00:00.250Z".parse::<chrono::DateTime<chrono::Utc>>()?;
    /// let id = sf.insert("Account", serde_json::json!({"Name": "Acme"}));
    /// assert!(sf.update_committed_at("Account", &id, serde_json::json!({"Industry": "Energy"}), at));
    /// assert_eq!(sf.record("Account", &id).unwrap()["SystemModstamp"], "2026-11-30T10:00:00.000+0000");
    /// # Ok(()) }
    /// ```
    pub fn update_committed_at(
        &self,
        sobject: &str,
        id: &str,
        fields: Value,
        at: DateTime<Utc>,
    ) -> bool {
        self.change(sobject, id, fields, Some(at))
    }

    fn change(&self, sobject: &str, id: &str, fields: Value, at: Option<DateTime<Utc>>) -> bool {
        let mut org = self.shared.org();
        let now = stamp(at.map_or_else(|| org.now(), whole_seconds));
        let Some(mut rec) = org.objects.get(sobject).and_then(|o| o.get(id)).cloned() else {
            return false;
        };
        if let Value::Object(map) = fields {
            for (k, v) in map {
                rec.insert(k, raw(&v));
            }
        }
        Org::derive(sobject, &mut rec);
        org.derive_related(sobject, &mut rec);
        rec.insert("LastModifiedDate".into(), raw_str(&now));
        rec.insert("SystemModstamp".into(), raw_str(&now));
        if let Some(slot) = org.objects.get_mut(sobject).and_then(|o| o.get_mut(id)) {
            *slot = rec;
        }
        true
    }

    /// A record's fields, `None` if there is no such record.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// let id = sf.insert("Account", serde_json::json!({"Name": "Acme"}));
    /// assert_eq!(sf.record("Account", &id).unwrap()["Name"], "Acme");
    /// assert!(sf.record("Account", "001000000000000999").is_none());
    /// # Ok(()) }
    /// ```
    pub fn record(&self, sobject: &str, id: &str) -> Option<Value> {
        let org = self.shared.org();
        let rec = org.objects.get(sobject)?.get(id)?;
        serde_json::to_value(rec).ok()
    }

    /// Every record of `sobject`, by id.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// assert!(sf.records("Opportunity").is_empty());
    /// sf.insert("Opportunity", serde_json::json!({"Name": "Rollout", "StageName": "Prospecting", "CloseDate": "2026-12-31"}));
    /// assert_eq!(sf.records("Opportunity").len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn records(&self, sobject: &str) -> Vec<Value> {
        let org = self.shared.org();
        org.objects
            .get(sobject)
            .map(|recs| {
                recs.values()
                    .filter_map(|r| serde_json::to_value(r).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Deletes a record as a user would (it shows in getDeleted): whether
    /// it existed.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_fakes::salesforce::FakeSalesforce;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sf = FakeSalesforce::start().await?;
    /// let id = sf.insert("Account", serde_json::json!({"Name": "Gone"}));
    /// assert!(sf.delete("Account", &id));
    /// assert!(sf.record("Account", &id).is_none());
    /// assert!(!sf.delete("Account", &id));
    /// # Ok(()) }
    /// ```
    pub fn delete(&self, sobject: &str, id: &str) -> bool {
        let mut org = self.shared.org();
        let exists = org.objects.get(sobject).is_some_and(|o| o.contains_key(id));
        exists && org.delete(id).is_ok()
    }
}

// ---------------------------------------------------------------- serving

fn respond(status: u16, body: String, content_type: &str, usage: (u64, u64)) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [
            ("content-type", content_type.to_owned()),
            (
                "sforce-limit-info",
                format!("api-usage={}/{}", usage.0, usage.1),
            ),
        ],
        body,
    )
        .into_response()
}

fn json_answer(status: u16, body: &Value, usage: (u64, u64)) -> Response {
    respond(
        status,
        body.to_string(),
        "application/json;charset=UTF-8",
        usage,
    )
}

fn api_error(status: u16, code: &str, message: &str, usage: (u64, u64)) -> Response {
    json_answer(
        status,
        &json!([{"message": message, "errorCode": code, "fields": []}]),
        usage,
    )
}

fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let hex = |b: u8| char::from(b).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'+', _, _) if plus_is_space => out.push(b' '),
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                i += 2;
            }
            (b, _, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(text: &str) -> HashMap<String, String> {
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = form(uri.query().unwrap_or(""));
    if path == "/services/oauth2/token" && method == Method::POST {
        return token(&shared, &body, Host::MyDomain);
    }
    let mut org = shared.org();
    org.calls += 1;
    org.requests.push(format!("{method} {path}"));
    let usage = (org.api_used, org.api_limit);
    if let Some(fault) = org.faults.pop_front() {
        return match fault {
            Fault::HtmlPage(status) => respond(
                status,
                format!(
                    "<html><head><title>{status}</title></head><body><h1>Service unavailable</h1></body></html>"
                ),
                "text/html",
                usage,
            ),
            Fault::TooManyRequests { retry_after_secs } => {
                let mut r = api_error(429, "REQUEST_LIMIT_EXCEEDED", "Too many requests", usage);
                if let Ok(v) = retry_after_secs.to_string().parse() {
                    r.headers_mut().insert("retry-after", v);
                }
                r
            }
            Fault::RequestLimitExceeded => api_error(
                403,
                "REQUEST_LIMIT_EXCEEDED",
                "TotalRequests Limit exceeded.",
                usage,
            ),
            Fault::TruncatedBody => respond(
                200,
                r#"{"totalSize":3,"done":true,"records":[{"attributes":{"type":"Acc"#.into(),
                "application/json;charset=UTF-8",
                usage,
            ),
        };
    }
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| org.tokens.contains(t));
    if !authorized {
        return api_error(
            401,
            "INVALID_SESSION_ID",
            "Session expired or invalid",
            usage,
        );
    }
    org.api_used += 1;
    let usage = (org.api_used, org.api_limit);
    if org.api_used > org.api_limit {
        return api_error(
            403,
            "REQUEST_LIMIT_EXCEEDED",
            "TotalRequests Limit exceeded.",
            usage,
        );
    }
    let Some(rest) = path.strip_prefix("/services/data/") else {
        return api_error(
            404,
            "NOT_FOUND",
            "The requested resource does not exist",
            usage,
        );
    };
    let mut segments: Vec<String> = rest.split('/').map(|s| percent_decode(s, false)).collect();
    if segments.last().is_some_and(String::is_empty) {
        segments.pop();
    }
    let version = segments.first().cloned().unwrap_or_default();
    let segs: Vec<&str> = segments.iter().skip(1).map(String::as_str).collect();
    let (status, answer) = match (method.clone(), segs.as_slice()) {
        (Method::GET, ["query"]) => match query.get("q") {
            Some(q) => run_query(&mut org, &version, q),
            None => (400, errors("MALFORMED_QUERY", "no q")),
        },
        (Method::GET, ["query", locator]) => paging::query_more(&mut org, &version, locator),
        (Method::GET, ["sobjects", t, "updated"]) => updated(&org, t, &query),
        (Method::GET, ["sobjects", t, "deleted"]) => deleted(&mut org, t, &query),
        (Method::PATCH, ["sobjects", t, field, value]) => {
            upsert_one(&mut org, &version, t, field, value, &body)
        }
        (Method::POST, ["composite", "sobjects"]) => {
            collection(&mut org, None, &body, Write::Create)
        }
        (Method::PATCH, ["composite", "sobjects"]) => {
            collection(&mut org, None, &body, Write::Update)
        }
        (Method::PATCH, ["composite", "sobjects", t, field]) => {
            collection(&mut org, Some((t, field)), &body, Write::Upsert)
        }
        (Method::DELETE, ["composite", "sobjects"]) => delete_many(&mut org, &query),
        _ => (
            404,
            errors("NOT_FOUND", "The requested resource does not exist"),
        ),
    };
    json_answer(status, &answer, usage)
}

fn errors(code: &str, message: &str) -> Value {
    json!([{"message": message, "errorCode": code, "fields": []}])
}

// ---------------------------------------------------------------- OAuth

/// Which of the fake's hosts a token request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Host {
    /// `login.salesforce.com` (or `test.`).
    Login,
    /// The org's My Domain.
    MyDomain,
}

/// The generic login host: the token endpoint only.
async fn login_host(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    if uri.path() == "/services/oauth2/token" && method == Method::POST {
        return token(&shared, &body, Host::Login);
    }
    let org = shared.org();
    json_answer(
        404,
        &errors("NOT_FOUND", "The requested resource does not exist"),
        (org.api_used, org.api_limit),
    )
}

fn token(shared: &Shared, body: &[u8], host: Host) -> Response {
    let params = form(&String::from_utf8_lossy(body));
    let mut org = shared.org();
    org.token_requests += 1;
    let usage = (org.api_used, org.api_limit);
    let refuse = |error: &str, description: &str| {
        json_answer(
            400,
            &json!({"error": error, "error_description": description}),
            usage,
        )
    };
    let grant = params.get("grant_type").map(String::as_str);
    let granted = match grant {
        Some("client_credentials") if host == Host::Login => {
            return refuse("invalid_grant", "request not supported on this domain");
        }
        Some("client_credentials") => {
            let id = params.get("client_id").cloned().unwrap_or_default();
            let secret = params.get("client_secret").cloned().unwrap_or_default();
            if org.clients.get(&id) == Some(&secret) {
                Ok(())
            } else {
                return refuse("invalid_client", "invalid client credentials");
            }
        }
        Some("urn:ietf:params:oauth:grant-type:jwt-bearer") => {
            let assertion = params.get("assertion").cloned().unwrap_or_default();
            check_assertion(&org, &assertion)
        }
        _ => return refuse("unsupported_grant_type", "grant type not supported"),
    };
    if let Err(why) = granted {
        return refuse("invalid_grant", &why);
    }
    let n = org.token_requests;
    let access = format!(
        "00DFAKE0000000001!AQ{n:06}.{:x}",
        Utc::now().timestamp_micros()
    );
    org.tokens.insert(access.clone());
    json_answer(
        200,
        &json!({
            "access_token": access,
            "instance_url": shared.url,
            "id": format!("{}/id/00D000000000001AAA/005000000000001AAA", shared.url),
            "token_type": "Bearer",
            "issued_at": Utc::now().timestamp_millis().to_string(),
            "signature": "ZmFrZS1zaWduYXR1cmU=",
        }),
        usage,
    )
}

pub(crate) fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            b'=' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn check_assertion(org: &Org, assertion: &str) -> Result<(), String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, _signature] = parts.as_slice() else {
        return Err("invalid assertion".into());
    };
    let decode =
        |part: &str| -> Option<Value> { serde_json::from_slice(&base64url_decode(part)?).ok() };
    let header = decode(header).ok_or("invalid assertion")?;
    let claims = decode(claims).ok_or("invalid assertion")?;
    if header["alg"] != "RS256" {
        return Err("invalid assertion: alg must be RS256".into());
    }
    let iss = claims["iss"].as_str().unwrap_or_default();
    let Some((username, public_pem)) = org.jwt.get(iss) else {
        return Err("invalid_app_access: unknown issuer".into());
    };
    if claims["sub"].as_str() != Some(username.as_str()) {
        return Err("user hasn't approved this consumer".into());
    }
    let aud = claims["aud"].as_str().unwrap_or_default();
    // The login host, never My Domain, even when the request goes there.
    if ![
        "https://login.salesforce.com",
        "https://test.salesforce.com",
    ]
    .contains(&aud)
    {
        return Err("audience is invalid".into());
    }
    let exp = claims["exp"].as_i64().unwrap_or(0);
    if exp <= Utc::now().timestamp() {
        return Err("expired assertion".into());
    }
    verify_signature(assertion, public_pem)
}

fn verify_signature(assertion: &str, public_pem: &str) -> Result<(), String> {
    crate::rs256::verify(assertion, public_pem).map_err(str::to_owned)
}

// ---------------------------------------------------------------- SOQL

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Open,
    Close,
    Comma,
    Op(String),
    Str(String),
    Word(String),
}

fn tokenize(q: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = q.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::Open);
                i += 1;
            }
            ')' => {
                out.push(Tok::Close);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '=' | '<' | '>' | '!' => {
                let mut op = c.to_string();
                if chars.get(i + 1) == Some(&'=') || (c == '<' && chars.get(i + 1) == Some(&'>')) {
                    op.push(chars[i + 1]);
                    i += 1;
                }
                out.push(Tok::Op(op));
                i += 1;
            }
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string".into()),
                        Some('\\') => {
                            let esc = chars.get(i + 1).copied().ok_or("bad escape")?;
                            s.push(match esc {
                                'n' => '\n',
                                'r' => '\r',
                                't' => '\t',
                                other => other,
                            });
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            _ => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric()
                        || matches!(chars[i], '_' | '.' | ':' | '-' | '+'))
                {
                    i += 1;
                }
                if start == i {
                    return Err(format!("unexpected `{c}`"));
                }
                out.push(Tok::Word(chars[start..i].iter().collect()));
            }
        }
    }
    Ok(out)
}

#[derive(Debug)]
enum Select {
    Field(String),
    Sub(Query),
}

#[derive(Debug)]
struct Query {
    select: Vec<Select>,
    from: String,
    filter: Option<Cond>,
    order: Vec<String>,
    limit: Option<usize>,
}

#[derive(Debug)]
enum Cond {
    Or(Vec<Cond>),
    And(Vec<Cond>),
    Cmp(String, String, Tok),
    In(String, Vec<Tok>),
}

struct Parser {
    toks: Vec<Tok>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.at)
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.at).cloned();
        self.at += 1;
        t
    }
    fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw)) {
            self.at += 1;
            true
        } else {
            false
        }
    }
    fn word(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Word(w)) => Ok(w),
            other => Err(format!("expected a name, found {other:?}")),
        }
    }

    fn query(&mut self) -> Result<Query, String> {
        if !self.keyword("SELECT") {
            return Err("expected SELECT".into());
        }
        let mut select = Vec::new();
        loop {
            if self.peek() == Some(&Tok::Open) {
                self.at += 1;
                let sub = self.query()?;
                if self.next() != Some(Tok::Close) {
                    return Err("expected `)` after a sub-query".into());
                }
                select.push(Select::Sub(sub));
            } else {
                select.push(Select::Field(self.word()?));
            }
            if self.peek() == Some(&Tok::Comma) {
                self.at += 1;
            } else {
                break;
            }
        }
        if !self.keyword("FROM") {
            return Err("expected FROM".into());
        }
        let from = self.word()?;
        let filter = if self.keyword("WHERE") {
            Some(self.or()?)
        } else {
            None
        };
        let mut order = Vec::new();
        if self.keyword("ORDER") {
            if !self.keyword("BY") {
                return Err("expected BY".into());
            }
            loop {
                order.push(self.word()?);
                self.keyword("ASC");
                if self.peek() == Some(&Tok::Comma) {
                    self.at += 1;
                } else {
                    break;
                }
            }
        }
        let limit = if self.keyword("LIMIT") {
            Some(
                self.word()?
                    .parse()
                    .map_err(|_| "LIMIT takes a number".to_owned())?,
            )
        } else {
            None
        };
        Ok(Query {
            select,
            from,
            filter,
            order,
            limit,
        })
    }

    fn or(&mut self) -> Result<Cond, String> {
        let mut terms = vec![self.and()?];
        while self.keyword("OR") {
            terms.push(self.and()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Cond::Or(terms)
        })
    }

    fn and(&mut self) -> Result<Cond, String> {
        let mut terms = vec![self.atom()?];
        while self.keyword("AND") {
            terms.push(self.atom()?);
        }
        Ok(if terms.len() == 1 {
            terms.remove(0)
        } else {
            Cond::And(terms)
        })
    }

    fn atom(&mut self) -> Result<Cond, String> {
        if self.peek() == Some(&Tok::Open) {
            self.at += 1;
            let c = self.or()?;
            if self.next() != Some(Tok::Close) {
                return Err("expected `)`".into());
            }
            return Ok(c);
        }
        let field = self.word()?;
        if self.keyword("IN") {
            if self.next() != Some(Tok::Open) {
                return Err("expected `(` after IN".into());
            }
            let mut values = Vec::new();
            loop {
                match self.next() {
                    Some(v @ (Tok::Str(_) | Tok::Word(_))) => values.push(v),
                    other => return Err(format!("expected a value in IN, found {other:?}")),
                }
                match self.next() {
                    Some(Tok::Comma) => {}
                    Some(Tok::Close) => break,
                    other => return Err(format!("expected `,` or `)` in IN, found {other:?}")),
                }
            }
            return Ok(Cond::In(field, values));
        }
        let op = match self.next() {
            Some(Tok::Op(op)) => op,
            other => return Err(format!("expected an operator, found {other:?}")),
        };
        let value = self.next().ok_or("expected a value")?;
        Ok(Cond::Cmp(field, op, value))
    }
}

fn compare(rec: &Rec, field: &str, op: &str, lit: &Tok) -> bool {
    let value = text(rec, field);
    let ordering = match (lit, &value) {
        (Tok::Word(w), v) if w.eq_ignore_ascii_case("null") => {
            return match op {
                "=" => v.is_none(),
                "!=" | "<>" => v.is_some(),
                _ => false,
            };
        }
        (_, None) => return op == "!=" || op == "<>",
        // SOQL compares text without case.
        (Tok::Str(s), Some(v)) => v.to_lowercase().cmp(&s.to_lowercase()),
        (Tok::Word(w), Some(v)) => match (parse_time(w), parse_time(v)) {
            (Some(lit), Some(v)) => v.cmp(&lit),
            _ => match (w.parse::<f64>(), v.parse::<f64>()) {
                (Ok(lit), Ok(v)) => v.partial_cmp(&lit).unwrap_or(std::cmp::Ordering::Equal),
                _ => v.to_ascii_lowercase().cmp(&w.to_ascii_lowercase()),
            },
        },
        _ => return false,
    };
    use std::cmp::Ordering::*;
    match op {
        "=" => ordering == Equal,
        "!=" | "<>" => ordering != Equal,
        "<" => ordering == Less,
        "<=" => ordering != Greater,
        ">" => ordering == Greater,
        ">=" => ordering != Less,
        _ => false,
    }
}

fn matches(rec: &Rec, cond: &Cond) -> bool {
    match cond {
        Cond::Or(terms) => terms.iter().any(|c| matches(rec, c)),
        Cond::And(terms) => terms.iter().all(|c| matches(rec, c)),
        Cond::Cmp(field, op, lit) => compare(rec, field, op, lit),
        Cond::In(field, values) => values.iter().any(|lit| compare(rec, field, "=", lit)),
    }
}

/// A child relationship: the child sObject and its field pointing up.
fn relationship(parent: &str, name: &str) -> Option<(&'static str, &'static str)> {
    match (parent, name) {
        ("Opportunity", "OpportunityLineItems") => Some(("OpportunityLineItem", "OpportunityId")),
        ("Account", "Contacts") => Some(("Contact", "AccountId")),
        ("Account", "Opportunities") => Some(("Opportunity", "AccountId")),
        _ => None,
    }
}

/// The records a query selects, projected, in order.
fn select(
    org: &Org,
    version: &str,
    q: &Query,
    parent: Option<(&str, &str)>,
) -> Result<Vec<Box<RawValue>>, String> {
    let sobject = q.from.as_str();
    let empty = BTreeMap::new();
    let mut rows: Vec<&Rec> = org
        .objects
        .get(sobject)
        .unwrap_or(&empty)
        .values()
        .filter(|r| parent.is_none_or(|(field, id)| text(r, field).as_deref() == Some(id)))
        .filter(|r| q.filter.as_ref().is_none_or(|c| matches(r, c)))
        .collect();
    rows.sort_by(|a, b| {
        q.order
            .iter()
            .map(|f| text(a, f).cmp(&text(b, f)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    if let Some(n) = q.limit {
        rows.truncate(n);
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id = text(r, "Id").unwrap_or_default();
        let mut row: Rec = BTreeMap::new();
        row.insert(
            "attributes".into(),
            raw(&json!({"type": sobject, "url": format!("/services/data/{version}/sobjects/{sobject}/{id}")})),
        );
        // Relationship fields (`Owner.Email`), nested as Salesforce
        // answers them: `"Owner": {"attributes": …, "Email": …}`, or
        // `"Owner": null` when the lookup is empty.
        let mut related = serde_json::Map::new();
        for s in &q.select {
            match s {
                Select::Field(f) if f.contains('.') => {
                    let path: Vec<&str> = f.split('.').collect();
                    project(org, version, r, &path, &mut related);
                }
                Select::Field(f) => {
                    row.insert(f.clone(), r.get(f).cloned().unwrap_or_default());
                }
                Select::Sub(sub) => {
                    let (child, up) = relationship(sobject, &sub.from)
                        .ok_or_else(|| format!("no relationship {} on {sobject}", sub.from))?;
                    let child_q = Query {
                        select: sub
                            .select
                            .iter()
                            .map(|s| match s {
                                Select::Field(f) => Select::Field(f.clone()),
                                Select::Sub(_) => Select::Field("Id".into()),
                            })
                            .collect(),
                        from: child.to_owned(),
                        filter: None,
                        order: sub.order.clone(),
                        limit: sub.limit,
                    };
                    let children = select(org, version, &child_q, Some((up, &id)))?;
                    let value = if children.is_empty() {
                        RawValue::from_string("null".into()).unwrap_or_default()
                    } else {
                        raw(
                            &json!({"totalSize": children.len(), "done": true, "records": children}),
                        )
                    };
                    row.insert(sub.from.clone(), value);
                }
            }
        }
        for (name, value) in related {
            row.insert(name, raw(&value));
        }
        out.push(raw(&serde_json::to_value(&row).unwrap_or(Value::Null)));
    }
    Ok(out)
}

/// Puts the field at the end of a relationship `path` of `rec` into
/// `out`, nesting each relationship's record (with its `attributes`) as
/// Salesforce does; an empty lookup is `null`.
fn project(
    org: &Org,
    version: &str,
    rec: &Rec,
    path: &[&str],
    out: &mut serde_json::Map<String, Value>,
) {
    let [name, rest @ ..] = path else {
        return;
    };
    if rest.is_empty() {
        let value = rec
            .get(*name)
            .and_then(|r| serde_json::from_str(r.get()).ok())
            .unwrap_or(Value::Null);
        out.insert((*name).to_owned(), value);
        return;
    }
    let slot = out.entry((*name).to_owned()).or_insert(Value::Null);
    let Some((sobject, target)) = org.related(rec, name) else {
        return;
    };
    if !slot.is_object() {
        let id = text(target, "Id").unwrap_or_default();
        *slot = json!({"attributes": {
            "type": sobject,
            "url": format!("/services/data/{version}/sobjects/{sobject}/{id}"),
        }});
    }
    if let Value::Object(m) = slot {
        project(org, version, target, rest, m);
    }
}

fn run_query(org: &mut Org, version: &str, q: &str) -> (u16, Value) {
    let parsed = tokenize(q).and_then(|toks| {
        let mut p = Parser { toks, at: 0 };
        let query = p.query()?;
        if p.at < p.toks.len() {
            return Err(format!("unexpected {:?}", p.toks[p.at]));
        }
        Ok(query)
    });
    let query = match parsed {
        Ok(q) => q,
        Err(e) => return (400, errors("MALFORMED_QUERY", &e)),
    };
    match select(org, version, &query, None) {
        Ok(rows) => {
            let total = rows.len();
            (200, paging::first_page(org, version, rows, total))
        }
        Err(e) => (400, errors("INVALID_TYPE", &e)),
    }
}

// ---------------------------------------------------------------- writes

#[derive(Clone, Copy)]
enum Write {
    Create,
    Update,
    Upsert,
}

#[derive(serde::Deserialize)]
struct Body {
    #[serde(rename = "allOrNone", default)]
    all_or_none: bool,
    #[serde(default)]
    records: Vec<Rec>,
}

fn result(id: Option<&str>, outcome: Result<Option<bool>, Value>) -> Value {
    match outcome {
        Ok(created) => {
            let mut v = json!({"id": id, "success": true, "errors": []});
            if let Some(c) = created {
                v["created"] = Value::Bool(c);
            }
            v
        }
        Err(e) => json!({"id": id, "success": false, "errors": [e]}),
    }
}

fn collection(
    org: &mut Org,
    target: Option<(&str, &str)>,
    body: &[u8],
    write: Write,
) -> (u16, Value) {
    let body: Body = match serde_json::from_slice(body) {
        Ok(b) => b,
        Err(e) => return (400, errors("JSON_PARSER_ERROR", &e.to_string())),
    };
    if body.records.len() > 200 {
        return (
            400,
            errors(
                "EXCEEDED_ID_LIMIT",
                "record limit reached. cannot submit more than 200 records into this call",
            ),
        );
    }
    if body.all_or_none {
        return (
            400,
            errors("INVALID_FIELD", "this fake only answers allOrNone: false"),
        );
    }
    let mut out = Vec::with_capacity(body.records.len());
    for rec in body.records {
        let sobject = rec
            .get("attributes")
            .and_then(|a| serde_json::from_str::<Value>(a.get()).ok())
            .and_then(|a| a["type"].as_str().map(str::to_owned));
        let Some(sobject) = sobject else {
            out.push(result(None, Err(json!({"statusCode": "INVALID_TYPE", "message": "attributes.type is required", "fields": []}))));
            continue;
        };
        match write {
            Write::Create => {
                let r = org.create(&sobject, rec);
                out.push(match r {
                    Ok(id) => result(Some(&id), Ok(None)),
                    Err(e) => result(None, Err(e)),
                });
            }
            Write::Update => {
                let id = text(&rec, "id")
                    .or_else(|| text(&rec, "Id"))
                    .unwrap_or_default();
                let r = org.update(&sobject, &id, rec);
                out.push(result(Some(&id), r.map(|()| None)));
            }
            Write::Upsert => {
                let Some((t, field)) = target else {
                    continue;
                };
                if sobject != t {
                    out.push(result(None, Err(json!({"statusCode": "INVALID_TYPE", "message": "records must be of the type in the URI", "fields": []}))));
                    continue;
                }
                let value = text(&rec, field).unwrap_or_default();
                let holders = org.holding(t, field, &value);
                out.push(match holders.as_slice() {
                    _ if value.is_empty() => result(None, Err(json!({"statusCode": "REQUIRED_FIELD_MISSING", "message": format!("{field} is required for an upsert"), "fields": [field]}))),
                    [] => match org.create(t, rec) {
                        Ok(id) => result(Some(&id), Ok(Some(true))),
                        Err(e) => result(None, Err(e)),
                    },
                    [one] => {
                        let one = one.clone();
                        let r = org.update(t, &one, rec);
                        result(Some(&one), r.map(|()| Some(false)))
                    }
                    _ => result(None, Err(json!({"statusCode": "DUPLICATE_EXTERNAL_ID", "message": format!("Duplicate external id specified: {value}"), "fields": [field]}))),
                });
            }
        }
    }
    (200, Value::Array(out))
}

fn upsert_one(
    org: &mut Org,
    version: &str,
    sobject: &str,
    field: &str,
    value: &str,
    body: &[u8],
) -> (u16, Value) {
    let mut rec: Rec = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(e) => return (400, errors("JSON_PARSER_ERROR", &e.to_string())),
    };
    let holders = org.holding(sobject, field, value);
    let single = |e: Value| {
        let code = e["statusCode"]
            .as_str()
            .unwrap_or("UNKNOWN_EXCEPTION")
            .to_owned();
        json!([{"message": e["message"], "errorCode": code, "fields": e["fields"]}])
    };
    match holders.as_slice() {
        [] => {
            rec.insert(field.to_owned(), raw_str(value));
            match org.create(sobject, rec) {
                Ok(id) => (
                    201,
                    json!({"id": id, "success": true, "errors": [], "created": true}),
                ),
                Err(e) => (400, single(e)),
            }
        }
        [one] => {
            let one = one.clone();
            match org.update(sobject, &one, rec) {
                Ok(()) => (
                    200,
                    json!({"id": one, "success": true, "errors": [], "created": false}),
                ),
                Err(e) => (400, single(e)),
            }
        }
        many => (
            300,
            Value::Array(
                many.iter()
                    .map(|id| {
                        Value::String(format!("/services/data/{version}/sobjects/{sobject}/{id}"))
                    })
                    .collect(),
            ),
        ),
    }
}

fn delete_many(org: &mut Org, query: &HashMap<String, String>) -> (u16, Value) {
    let ids: Vec<String> = query
        .get("ids")
        .map(|s| {
            s.split(',')
                .filter(|i| !i.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if ids.len() > 200 {
        return (
            400,
            errors(
                "EXCEEDED_ID_LIMIT",
                "cannot delete more than 200 records in one call",
            ),
        );
    }
    let out = ids
        .iter()
        .map(|id| result(Some(id), org.delete(id).map(|()| None)))
        .collect();
    (200, Value::Array(out))
}
