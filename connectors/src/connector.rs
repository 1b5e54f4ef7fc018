//! The connector traits: a system's identity and capabilities, a source of
//! changes and a sink that applies them.

use crate::error::{ConnectorError, Result};
use crate::rate_limit::Quota;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use odoo_integration_model::{CanonicalId, Entity, RemoteId, SystemId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a connector can do, declared so that a pipeline (and a reader of
/// the code) can check a sync makes sense before it runs.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{Capabilities, Quota};
///
/// let caps = Capabilities::new()
///     .reads(["client", "contact"])
///     .writes(["client"])
///     .incremental(true)
///     .detects_deletes(true)
///     .rate_limit(Quota::per_second(10));
/// assert!(caps.can_read("contact") && !caps.can_write("contact"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Capabilities {
    /// Entity names (as in [`Entity::NAME`]) the connector reads.
    pub reads: Vec<String>,
    /// Entity names the connector writes.
    pub writes: Vec<String>,
    /// Whether reads can start from a cursor (else every read is full).
    pub incremental: bool,
    /// Whether reads report deleted records.
    pub detects_deletes: bool,
    /// The system's request budget, if it has one.
    pub rate_limit: Option<Quota>,
}

impl Capabilities {
    /// Nothing yet.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::Capabilities::new().reads.is_empty());
    /// ```
    pub fn new() -> Self {
        Capabilities::default()
    }
    /// Adds entities it reads.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::Capabilities::new().reads(["employee"]).can_read("employee"));
    /// ```
    pub fn reads<I: IntoIterator<Item = S>, S: Into<String>>(mut self, entities: I) -> Self {
        self.reads.extend(entities.into_iter().map(Into::into));
        self
    }
    /// Adds entities it writes.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::Capabilities::new().writes(["invoice"]).can_write("invoice"));
    /// ```
    pub fn writes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, entities: I) -> Self {
        self.writes.extend(entities.into_iter().map(Into::into));
        self
    }
    /// Whether reads are incremental.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::Capabilities::new().incremental(true).incremental);
    /// ```
    pub fn incremental(mut self, yes: bool) -> Self {
        self.incremental = yes;
        self
    }
    /// Whether deletes are detected.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::Capabilities::new().detects_deletes(true).detects_deletes);
    /// ```
    pub fn detects_deletes(mut self, yes: bool) -> Self {
        self.detects_deletes = yes;
        self
    }
    /// The system's rate limit.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{Capabilities, Quota};
    /// assert!(Capabilities::new().rate_limit(Quota::per_second(5)).rate_limit.is_some());
    /// ```
    pub fn rate_limit(mut self, quota: Quota) -> Self {
        self.rate_limit = Some(quota);
        self
    }
    /// Whether `entity` is read.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!odoo_integration_connectors::Capabilities::new().can_read("client"));
    /// ```
    pub fn can_read(&self, entity: &str) -> bool {
        self.reads.iter().any(|e| e == entity)
    }
    /// Whether `entity` is written.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(!odoo_integration_connectors::Capabilities::new().can_write("client"));
    /// ```
    pub fn can_write(&self, entity: &str) -> bool {
        self.writes.iter().any(|e| e == entity)
    }
}

/// A system we sync with: its name and what it can do.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{Capabilities, Connector};
/// use odoo_integration_model::SystemId;
///
/// struct Timesheets;
/// impl Connector for Timesheets {
///     fn system(&self) -> SystemId { SystemId::new("harvest") }
///     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["timesheet_entry"]) }
/// }
/// assert_eq!(Timesheets.system().as_str(), "harvest");
/// ```
pub trait Connector: Send + Sync {
    /// The system's name, as used in cross-references and policies.
    fn system(&self) -> SystemId;
    /// What the connector can do.
    fn capabilities(&self) -> Capabilities;
}

/// An opaque position in a source's change feed, stored by the checkpoint
/// store between runs. Each connector decides what is inside (a timestamp
/// and id, a page token); the pipeline never looks.
///
/// # Example
///
/// ```
/// let c = odoo_integration_connectors::Cursor::new(r#"{"write_date":"2026-11-24 10:00:00","id":7}"#);
/// assert!(c.as_str().contains("write_date"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Cursor(String);

impl Cursor {
    /// A cursor holding `value`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::Cursor::new("42").as_str(), "42");
    /// ```
    pub fn new(value: impl Into<String>) -> Self {
        Cursor(value.into())
    }
    /// The stored text.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::Cursor::new("p2").as_str(), "p2");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A reference from one record to another, by the source's own id: the
/// pipeline turns it into a canonical id (see [`SourceChange::refs`]).
///
/// # Example
///
/// ```
/// let r = odoo_integration_connectors::Reference::new("client", "0015g00000XyZ");
/// assert_eq!(r.entity, "client");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Reference {
    /// The referenced entity's name.
    pub entity: String,
    /// Its id in the source system.
    pub remote_id: RemoteId,
}

impl Reference {
    /// A reference to `entity` record `remote_id` in the same system.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::Reference::new("employee", "12").remote_id.as_str(), "12");
    /// ```
    pub fn new(entity: impl Into<String>, remote_id: impl Into<String>) -> Self {
        Reference {
            entity: entity.into(),
            remote_id: RemoteId::new(remote_id),
        }
    }
}

/// What happened to a record.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::Operation;
/// let op: Operation<odoo_integration_model::ClientCompany> = Operation::Delete;
/// assert!(op.is_delete());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", content = "record", rename_all = "snake_case")]
pub enum Operation<E> {
    /// Created or changed: the record as it now is.
    Upsert(E),
    /// Deleted, archived or terminated.
    Delete,
}

impl<E> Operation<E> {
    /// Whether this is a delete.
    ///
    /// # Example
    ///
    /// ```
    /// let op = odoo_integration_connectors::Operation::Upsert(odoo_integration_model::ClientCompany::default());
    /// assert!(!op.is_delete());
    /// ```
    pub fn is_delete(&self) -> bool {
        matches!(self, Operation::Delete)
    }

    /// The record of an upsert; `None` for a delete.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::Operation;
    /// use odoo_integration_model::ClientCompany;
    /// let op = Operation::Upsert(ClientCompany { legal_name: "Acme".into(), ..Default::default() });
    /// assert_eq!(op.record().map(|c| c.legal_name.as_str()), Some("Acme"));
    /// assert!(Operation::<ClientCompany>::Delete.record().is_none());
    /// ```
    pub fn record(&self) -> Option<&E> {
        match self {
            Operation::Upsert(record) => Some(record),
            Operation::Delete => None,
        }
    }
}

/// One change read from a source.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{Operation, Reference, SourceChange};
/// use odoo_integration_model::Contact;
///
/// let change = SourceChange::upsert("003A1", chrono::Utc::now(), Contact { name: "Ann".into(), ..Default::default() })
///     .with_ref("client", Reference::new("client", "001B7"));
/// assert_eq!(change.refs["client"].remote_id.as_str(), "001B7");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "E: Entity")]
pub struct SourceChange<E> {
    /// The record's id in the source.
    pub remote_id: RemoteId,
    /// When it changed in the source (its own clock, UTC).
    pub at: DateTime<Utc>,
    /// The change.
    #[serde(flatten)]
    pub operation: Operation<E>,
    /// Reference fields by the source's ids: field name → referenced record.
    /// The pipeline resolves each to a canonical id and sets the field.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refs: BTreeMap<String, Reference>,
    /// The fields this source knows, `None` for every field of `E`. Only
    /// these take part in the merge: a field the source does not have is
    /// never cleared because of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields: Option<Vec<String>>,
}

impl<E> SourceChange<E> {
    /// A created or changed record.
    ///
    /// # Example
    ///
    /// ```
    /// let c = odoo_integration_connectors::SourceChange::upsert("1", chrono::Utc::now(), odoo_integration_model::ClientCompany::default());
    /// assert!(!c.operation.is_delete());
    /// ```
    pub fn upsert(remote_id: impl Into<String>, at: DateTime<Utc>, record: E) -> Self {
        SourceChange {
            remote_id: RemoteId::new(remote_id),
            at,
            operation: Operation::Upsert(record),
            refs: BTreeMap::new(),
            fields: None,
        }
    }
    /// A deleted record.
    ///
    /// # Example
    ///
    /// ```
    /// let c = odoo_integration_connectors::SourceChange::<odoo_integration_model::ClientCompany>::delete("1", chrono::Utc::now());
    /// assert!(c.operation.is_delete());
    /// ```
    pub fn delete(remote_id: impl Into<String>, at: DateTime<Utc>) -> Self {
        SourceChange {
            remote_id: RemoteId::new(remote_id),
            at,
            operation: Operation::Delete,
            refs: BTreeMap::new(),
            fields: None,
        }
    }
    /// Adds a reference field.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{Reference, SourceChange};
    /// let c = SourceChange::upsert("9", chrono::Utc::now(), odoo_integration_model::Engagement::default())
    ///     .with_ref("client", Reference::new("client", "4"));
    /// assert_eq!(c.refs.len(), 1);
    /// ```
    pub fn with_ref(mut self, field: impl Into<String>, reference: Reference) -> Self {
        self.refs.insert(field.into(), reference);
        self
    }
    /// Declares the only fields this source knows.
    ///
    /// # Example
    ///
    /// ```
    /// let c = odoo_integration_connectors::SourceChange::upsert("9", chrono::Utc::now(), odoo_integration_model::ClientCompany::default())
    ///     .with_fields(["legal_name", "website"]);
    /// assert_eq!(c.fields.as_ref().map(Vec::len), Some(2));
    /// ```
    pub fn with_fields<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }
}

/// One page of changes and where to resume.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{Cursor, Page};
/// let p: Page<odoo_integration_model::ClientCompany> = Page { changes: vec![], next: Cursor::new("0"), has_more: false };
/// assert!(p.changes.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Page<E> {
    /// Changes, oldest first.
    pub changes: Vec<SourceChange<E>>,
    /// The cursor to store once these changes are applied.
    pub next: Cursor,
    /// Whether reading on from `next` may return more right away.
    pub has_more: bool,
}

/// A source of changes to entity `E`.
///
/// `read` is called with the stored cursor (`None` on the first run) and
/// returns at most `limit` changes after it. Reading the same cursor twice
/// returns the same changes again (or newer ones): a source is replayable,
/// which is what lets the pipeline be at-least-once.
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use odoo_integration_model::{ClientCompany, SystemId};
/// use odoo_integration_connectors::{Capabilities, Connector, Cursor, Page, Source, SourceChange};
///
/// struct Fixed(Vec<SourceChange<ClientCompany>>);
/// impl Connector for Fixed {
///     fn system(&self) -> SystemId { SystemId::new("csv") }
///     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]).incremental(true) }
/// }
/// #[async_trait]
/// impl Source<ClientCompany> for Fixed {
///     async fn read(&self, since: Option<&Cursor>, limit: usize) -> odoo_integration_connectors::Result<Page<ClientCompany>> {
///         let start: usize = since.map_or(Ok(0), |c| c.as_str().parse()).unwrap_or(0);
///         let end = (start + limit).min(self.0.len());
///         Ok(Page { changes: self.0[start..end].to_vec(), next: Cursor::new(end.to_string()), has_more: end < self.0.len() })
///     }
/// }
/// ```
#[async_trait]
pub trait Source<E: Entity>: Connector {
    /// Up to `limit` changes after `since`, and the cursor after them.
    ///
    /// # Errors
    ///
    /// The system could not be read; [`ConnectorError::is_retryable`] says
    /// whether to try again.
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<E>>;
}

/// A record handed to a sink: the canonical record, where it came from, and
/// what to write.
///
/// # Example
///
/// ```
/// use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
/// use odoo_integration_connectors::{Operation, SinkRecord};
///
/// let r = SinkRecord::new(CanonicalId::new(), SystemId::hubspot(), RemoteId::new("981"), Operation::Upsert(ClientCompany::default()));
/// assert!(r.fields.is_none()); // a new record: write every field
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SinkRecord<E> {
    /// The canonical id.
    pub id: CanonicalId,
    /// The system the change came from.
    pub origin: SystemId,
    /// The record's id in that system: with `origin`, the idempotency key.
    pub origin_id: RemoteId,
    /// The record's id in the sink's system, when the pipeline knows it.
    pub target_id: Option<RemoteId>,
    /// The record or its deletion.
    pub operation: Operation<E>,
    /// The fields to write: `None` for every field (a record new to the
    /// sink), or only those the ownership policy let through. A sink never
    /// writes a field outside this list, so fields owned by another system
    /// are never overwritten.
    pub fields: Option<Vec<String>>,
    /// The sink system's ids of the canonical records this one refers to.
    pub links: BTreeMap<CanonicalId, RemoteId>,
}

impl<E> SinkRecord<E> {
    /// A record for a sink, writing every field, with no links.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
    /// let r = odoo_integration_connectors::SinkRecord::new(CanonicalId::new(), SystemId::new("csv"), RemoteId::new("1"), odoo_integration_connectors::Operation::<ClientCompany>::Delete);
    /// assert!(r.links.is_empty());
    /// ```
    pub fn new(
        id: CanonicalId,
        origin: SystemId,
        origin_id: RemoteId,
        operation: Operation<E>,
    ) -> Self {
        SinkRecord {
            id,
            origin,
            origin_id,
            target_id: None,
            operation,
            fields: None,
            links: BTreeMap::new(),
        }
    }
    /// Only these fields are to be written.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
    /// # let r = odoo_integration_connectors::SinkRecord::new(CanonicalId::new(), SystemId::new("csv"), RemoteId::new("1"), odoo_integration_connectors::Operation::<ClientCompany>::Delete);
    /// let r = r.only(["industry"]);
    /// assert!(r.writes("industry") && !r.writes("legal_name"));
    /// ```
    pub fn only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, fields: I) -> Self {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }
    /// The sink's id of the record, when known.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
    /// # let r = odoo_integration_connectors::SinkRecord::new(CanonicalId::new(), SystemId::new("csv"), RemoteId::new("1"), odoo_integration_connectors::Operation::<ClientCompany>::Delete);
    /// assert!(r.with_target(RemoteId::new("44")).target_id.is_some());
    /// ```
    pub fn with_target(mut self, id: RemoteId) -> Self {
        self.target_id = Some(id);
        self
    }
    /// Adds the sink's id of a referenced record.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
    /// # let r = odoo_integration_connectors::SinkRecord::new(CanonicalId::new(), SystemId::new("csv"), RemoteId::new("1"), odoo_integration_connectors::Operation::<ClientCompany>::Delete);
    /// let acme = CanonicalId::new();
    /// assert_eq!(r.with_link(acme, RemoteId::new("7")).links.len(), 1);
    /// ```
    pub fn with_link(mut self, id: CanonicalId, remote: RemoteId) -> Self {
        self.links.insert(id, remote);
        self
    }
    /// Whether `field` is to be written.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_model::{CanonicalId, ClientCompany, RemoteId, SystemId};
    /// # let r = odoo_integration_connectors::SinkRecord::new(CanonicalId::new(), SystemId::new("csv"), RemoteId::new("1"), odoo_integration_connectors::Operation::<ClientCompany>::Delete);
    /// assert!(r.writes("anything"));
    /// ```
    pub fn writes(&self, field: &str) -> bool {
        self.fields
            .as_ref()
            .is_none_or(|f| f.iter().any(|x| x == field))
    }
}

/// What a sink did with one record.
///
/// # Example
///
/// ```
/// use odoo_integration_model::RemoteId;
/// use odoo_integration_connectors::Outcome;
/// let o = Outcome::Created(RemoteId::new("42"));
/// assert_eq!(o.remote_id().map(|r| r.as_str()), Some("42"));
/// assert!(o.is_success());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Outcome {
    /// Created, with its id in the sink's system.
    Created(RemoteId),
    /// Existed and was changed.
    Updated(RemoteId),
    /// Existed with these values already: nothing written.
    Unchanged(RemoteId),
    /// Deleted or archived.
    Deleted(RemoteId),
    /// Not applied.
    Failed(ConnectorError),
}

impl Outcome {
    /// The sink's id of the record, unless it failed.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{ConnectorError, ConnectorErrorKind, Outcome};
    /// assert!(Outcome::Failed(ConnectorError::new(ConnectorErrorKind::Invalid, "x")).remote_id().is_none());
    /// ```
    pub fn remote_id(&self) -> Option<&RemoteId> {
        match self {
            Outcome::Created(id)
            | Outcome::Updated(id)
            | Outcome::Unchanged(id)
            | Outcome::Deleted(id) => Some(id),
            Outcome::Failed(_) => None,
        }
    }
    /// Whether the record was applied (or needed nothing).
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::Outcome::Unchanged(odoo_integration_model::RemoteId::new("1")).is_success());
    /// ```
    pub fn is_success(&self) -> bool {
        !matches!(self, Outcome::Failed(_))
    }
}

/// A sink that applies batches of changes to entity `E`.
///
/// `apply` returns exactly one outcome per record, in order. Applying the
/// same batch twice must create nothing new (the second time: updated or
/// unchanged): that is what makes the pipeline's replays safe. The usual
/// way is an idempotency key built from [`SinkRecord::origin`] and
/// [`SinkRecord::origin_id`].
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
/// use odoo_integration_connectors::{Capabilities, Connector, Outcome, Sink, SinkRecord};
///
/// struct Discard;
/// impl Connector for Discard {
///     fn system(&self) -> SystemId { SystemId::new("null") }
///     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
/// }
/// #[async_trait]
/// impl Sink<ClientCompany> for Discard {
///     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> odoo_integration_connectors::Result<Vec<Outcome>> {
///         Ok(batch.iter().map(|r| Outcome::Unchanged(r.origin_id.clone())).collect())
///     }
/// }
/// ```
#[async_trait]
pub trait Sink<E: Entity>: Connector {
    /// Applies a batch: one outcome per record, in order.
    ///
    /// # Errors
    ///
    /// The whole batch failed before any record could be judged (for
    /// example the system is down); nothing is known to be applied.
    async fn apply(&self, batch: Vec<SinkRecord<E>>) -> Result<Vec<Outcome>>;

    /// How to find the records this sink already holds, so that a first
    /// sync links them instead of creating duplicates; `None` (the
    /// default) when the sink cannot search for them. The pipeline asks
    /// for it when matching is on
    /// ([`PipelineBuilder::match_existing`](crate::PipelineBuilder::match_existing));
    /// the Odoo connector answers with its
    /// [`OdooMatcher`](crate::odoo::OdooMatcher) for the entities that
    /// have [default match keys](odoo_integration_model::match_keys_for).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_connectors::*;
    /// # use odoo_integration_model::{ClientCompany, SystemId};
    /// # use async_trait::async_trait;
    /// struct Erp;
    /// # impl Connector for Erp { fn system(&self) -> SystemId { SystemId::odoo() }
    /// #   fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) } }
    /// #[async_trait]
    /// impl Sink<ClientCompany> for Erp {
    ///     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> Result<Vec<Outcome>> {
    ///         Ok(batch.iter().map(|r| Outcome::Unchanged(r.origin_id.clone())).collect())
    ///     }
    /// }
    /// assert!(Sink::<ClientCompany>::matcher(&Erp).is_none());
    /// ```
    fn matcher(&self) -> Option<std::sync::Arc<dyn crate::Matcher<E>>> {
        None
    }
}

/// Every change `source` has now after `since`, read page by page (pages
/// of `limit`), and the cursor after the last one: a full read for a
/// reconciliation or an audit, or what a test checks. It stops at the
/// first page that says nothing more follows.
///
/// # Errors
///
/// The first read that fails, or [`ConnectorErrorKind::NoProgress`](crate::ConnectorErrorKind::NoProgress)
/// when the feed stops moving ([`PageGuard`](crate::PageGuard)).
///
/// # Example
///
/// ```
/// # use odoo_integration_fakes::hubspot::FakeHubSpot;
/// # use odoo_integration_connectors::hubspot::HubSpotConnector;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let fake = FakeHubSpot::start().await?;
/// # for name in ["Acme", "Globex", "Initech"] {
/// #     fake.insert("companies", [("name", name)]);
/// # }
/// # let hubspot = HubSpotConnector::new(fake.token())?.base_url(&fake.url()).settle(std::time::Duration::ZERO);
/// // Any source: here HubSpot's companies, two a page.
/// let (changes, cursor) = odoo_integration_connectors::read_to_end::<odoo_integration_model::ClientCompany>(&hubspot, None, 2).await?;
/// assert_eq!(changes.len(), 3);
/// // Resuming from the cursor finds nothing new.
/// let (more, _) = odoo_integration_connectors::read_to_end::<odoo_integration_model::ClientCompany>(&hubspot, Some(cursor), 2).await?;
/// assert!(more.is_empty());
/// # Ok(()) }
/// ```
pub async fn read_to_end<E: Entity>(
    source: &dyn Source<E>,
    since: Option<Cursor>,
    limit: usize,
) -> Result<(Vec<SourceChange<E>>, Cursor)> {
    let mut pages = crate::Pages::new(source, since, limit);
    let mut out = Vec::new();
    while let Some(page) = pages.next_page().await? {
        out.extend(page.changes);
        if !page.has_more {
            return Ok((out, page.next));
        }
    }
    // Unreachable: the last page returns above.
    Err(ConnectorError::new(
        crate::ConnectorErrorKind::Protocol,
        "the source's feed ended without a last page",
    ))
}

/// One outcome per slot; a slot nothing filled fails with `missing`.
pub(crate) fn fill_outcomes(slots: Vec<Option<Outcome>>, missing: &str) -> Vec<Outcome> {
    slots
        .into_iter()
        .map(|o| {
            o.unwrap_or_else(|| {
                Outcome::Failed(crate::ConnectorError::new(
                    crate::ConnectorErrorKind::Protocol,
                    missing.to_owned(),
                ))
            })
        })
        .collect()
}

pub(crate) fn check_outcomes(system: &SystemId, sent: usize, got: &[Outcome]) -> Result<()> {
    if sent == got.len() {
        Ok(())
    } else {
        Err(ConnectorError::new(
            crate::ConnectorErrorKind::Protocol,
            format!(
                "the sink returned {} outcomes for {sent} records",
                got.len()
            ),
        )
        .with_system(system.clone()))
    }
}
