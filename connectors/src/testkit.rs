//! A conformance suite for connectors: run it in your connector's tests,
//! against your fake server, to check the connector keeps the contracts the
//! [`Pipeline`](crate::Pipeline) relies on.
//!
//! - [`check_source`]: it declares the entity; pages respect the limit; the
//!   feed ends; a cursor read twice gives the same changes (replayable);
//!   no record appears twice in a quiescent feed.
//! - [`check_sink`]: it declares the entity; one outcome per record, in
//!   order; an empty batch is fine; applying the same batch twice creates
//!   nothing the second time and keeps the same remote ids (idempotent); a
//!   write of no fields changes nothing.
//!
//! Each returns a [`Report`] listing every violated contract, not just the
//! first.
//!
//! # Example
//!
//! ```
//! use async_trait::async_trait;
//! use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
//! use odoo_integration_connectors::testkit::check_sink;
//! use odoo_integration_connectors::*;
//! use std::collections::HashMap;
//! use std::sync::Mutex;
//!
//! /// A sink keyed by origin id, as a real one keys by an external id.
//! #[derive(Default)]
//! struct Ledger(Mutex<HashMap<String, ClientCompany>>);
//! impl Connector for Ledger {
//!     fn system(&self) -> SystemId { SystemId::new("ledger") }
//!     fn capabilities(&self) -> Capabilities { Capabilities::new().writes(["client"]) }
//! }
//! #[async_trait]
//! impl Sink<ClientCompany> for Ledger {
//!     async fn apply(&self, batch: Vec<SinkRecord<ClientCompany>>) -> odoo_integration_connectors::Result<Vec<Outcome>> {
//!         let mut rows = self.0.lock().unwrap();
//!         Ok(batch.into_iter().map(|r| {
//!             let id = RemoteId::new(r.origin_id.as_str());
//!             match (r.operation, rows.get(r.origin_id.as_str())) {
//!                 (Operation::Upsert(c), Some(old)) if *old == c || r.fields.as_ref().is_some_and(|f| f.is_empty()) => Outcome::Unchanged(id),
//!                 (Operation::Upsert(c), existing) => {
//!                     let created = existing.is_none();
//!                     rows.insert(r.origin_id.as_str().to_owned(), c);
//!                     if created { Outcome::Created(id) } else { Outcome::Updated(id) }
//!                 }
//!                 (Operation::Delete, _) => { rows.remove(r.origin_id.as_str()); Outcome::Deleted(id) }
//!             }
//!         }).collect())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let samples = vec![ClientCompany { legal_name: "Northwind".into(), ..Default::default() }];
//! check_sink(&Ledger::default(), samples).await.assert_ok();
//! # }
//! ```

use crate::connector::{Operation, Outcome, Sink, SinkRecord, Source};
use odoo_integration_model::{CanonicalId, Entity, RemoteId, SystemId};
use std::collections::BTreeSet;
use std::fmt;

/// The contracts a connector broke, if any.
///
/// # Example
///
/// ```
/// let r = odoo_integration_connectors::testkit::Report::default();
/// assert!(r.is_ok());
/// r.assert_ok();
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One line per violated contract.
    pub violations: Vec<String>,
}

impl Report {
    /// Whether every contract held.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::testkit::Report::default().is_ok());
    /// ```
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// Panics with every violation, for use in tests.
    ///
    /// # Panics
    ///
    /// When a contract was violated.
    ///
    /// # Example
    ///
    /// ```should_panic
    /// let r = odoo_integration_connectors::testkit::Report { violations: vec!["a sink lost a record".into()] };
    /// r.assert_ok();
    /// ```
    #[track_caller]
    pub fn assert_ok(&self) {
        assert!(self.is_ok(), "connector conformance failed:\n{self}");
    }

    fn fail(&mut self, violation: impl Into<String>) {
        self.violations.push(violation.into());
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.violations.is_empty() {
            return f.write_str("all contracts hold");
        }
        for v in &self.violations {
            writeln!(f, "- {v}")?;
        }
        Ok(())
    }
}

/// Checks a source of `E` against the contracts the pipeline relies on.
/// The source's data must not change while this runs.
///
/// # Example
///
/// ```
/// use async_trait::async_trait;
/// use odoo_integration_model::{ClientCompany, SystemId};
/// use odoo_integration_connectors::*;
///
/// struct Two;
/// impl Connector for Two {
///     fn system(&self) -> SystemId { SystemId::new("two") }
///     fn capabilities(&self) -> Capabilities { Capabilities::new().reads(["client"]) }
/// }
/// #[async_trait]
/// impl Source<ClientCompany> for Two {
///     async fn read(&self, since: Option<&Cursor>, limit: usize) -> odoo_integration_connectors::Result<Page<ClientCompany>> {
///         let start: usize = since.map_or(0, |c| c.as_str().parse().unwrap_or(0));
///         let end = (start + limit).min(2);
///         let at = chrono::DateTime::UNIX_EPOCH;
///         Ok(Page {
///             changes: (start..end).map(|i| SourceChange::upsert(i.to_string(), at, ClientCompany::default())).collect(),
///             next: Cursor::new(end.to_string()),
///             has_more: end < 2,
///         })
///     }
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// odoo_integration_connectors::testkit::check_source::<ClientCompany>(&Two).await.assert_ok();
/// # }
/// ```
pub async fn check_source<E: Entity>(source: &dyn Source<E>) -> Report {
    let mut report = Report::default();
    if !source.capabilities().can_read(E::NAME) {
        report.fail(format!(
            "capabilities do not declare that it reads {}",
            E::NAME
        ));
    }
    // Walk the feed one change per page.
    let mut cursor = None;
    let mut guard = crate::PageGuard::new(None);
    let mut seen: Vec<(Option<crate::Cursor>, Vec<String>)> = Vec::new();
    let mut upserts = BTreeSet::new();
    for _ in 0..10_000 {
        let page = match source.read(cursor.as_ref(), 1).await {
            Ok(p) => p,
            Err(e) => {
                report.fail(format!("read failed: {e}"));
                return report;
            }
        };
        if page.changes.len() > 1 {
            report.fail(format!(
                "a page of limit 1 held {} changes",
                page.changes.len()
            ));
        }
        for c in &page.changes {
            if !c.operation.is_delete() && !upserts.insert(c.remote_id.as_str().to_owned()) {
                report.fail(format!(
                    "record {} came twice from an unchanged source",
                    c.remote_id
                ));
            }
        }
        seen.push((
            cursor.clone(),
            page.changes
                .iter()
                .map(|c| c.remote_id.as_str().to_owned())
                .collect(),
        ));
        if let Err(stuck) = guard.check(&page) {
            report.fail(stuck.message());
            break;
        }
        if !page.has_more {
            break;
        }
        cursor = Some(page.next);
    }
    if seen.len() >= 10_000 {
        report.fail("the feed did not end after 10,000 pages");
    }
    // Replay: the same cursor gives the same changes.
    for (cursor, ids) in seen.iter().take(5) {
        match source.read(cursor.as_ref(), 1).await {
            Ok(p) => {
                let again: Vec<String> = p
                    .changes
                    .iter()
                    .map(|c| c.remote_id.as_str().to_owned())
                    .collect();
                if &again != ids {
                    report.fail(format!(
                        "reading cursor {cursor:?} again gave {again:?}, not {ids:?}"
                    ));
                }
            }
            Err(e) => report.fail(format!("re-reading a cursor failed: {e}")),
        }
    }
    report
}

/// Checks a sink of `E` with `samples` (at least one valid record the sink
/// accepts). It writes the samples, under a test origin system.
///
/// # Example
///
/// See the [module docs](self).
pub async fn check_sink<E: Entity>(sink: &dyn Sink<E>, samples: Vec<E>) -> Report {
    let mut report = Report::default();
    if !sink.capabilities().can_write(E::NAME) {
        report.fail(format!(
            "capabilities do not declare that it writes {}",
            E::NAME
        ));
    }
    if samples.is_empty() {
        report.fail("check_sink needs at least one sample");
        return report;
    }
    match sink.apply(Vec::new()).await {
        Ok(o) if o.is_empty() => {}
        Ok(o) => report.fail(format!("an empty batch gave {} outcomes", o.len())),
        Err(e) => report.fail(format!("an empty batch failed: {e}")),
    }
    let origin = SystemId::new("testkit");
    let batch: Vec<SinkRecord<E>> = samples
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            SinkRecord::new(
                CanonicalId::new(),
                origin.clone(),
                RemoteId::new(format!("conformance-{i}")),
                Operation::Upsert(e),
            )
        })
        .collect();
    let first = match apply(sink, &batch, "first write", &mut report).await {
        Some(o) => o,
        None => return report,
    };
    let ids: Vec<Option<RemoteId>> = first.iter().map(|o| o.remote_id().cloned()).collect();
    for (i, o) in first.iter().enumerate() {
        if !matches!(
            o,
            Outcome::Created(_) | Outcome::Updated(_) | Outcome::Unchanged(_)
        ) {
            report.fail(format!("first write of sample {i}: {o:?}"));
        }
    }
    let second = match apply(sink, &batch, "replay", &mut report).await {
        Some(o) => o,
        None => return report,
    };
    for (i, o) in second.iter().enumerate() {
        match o {
            Outcome::Created(_) => report.fail(format!("replaying sample {i} created it again")),
            Outcome::Failed(e) => report.fail(format!("replaying sample {i} failed: {e}")),
            _ => {}
        }
        if o.remote_id() != ids[i].as_ref() {
            report.fail(format!(
                "replaying sample {i} gave id {:?}, first {:?}",
                o.remote_id(),
                ids[i]
            ));
        }
    }
    let nothing: Vec<SinkRecord<E>> = batch
        .iter()
        .map(|r| {
            let mut r = r.clone();
            if let Some(id) = ids.first().cloned().flatten() {
                r.target_id = Some(id);
            }
            r.only(Vec::<String>::new())
        })
        .take(1)
        .collect();
    if let Some(o) = apply(sink, &nothing, "a write of no fields", &mut report).await
        && matches!(o.first(), Some(Outcome::Created(_) | Outcome::Failed(_)))
    {
        report.fail(format!("a write of no fields gave {:?}", o.first()));
    }
    report
}

async fn apply<E: Entity>(
    sink: &dyn Sink<E>,
    batch: &[SinkRecord<E>],
    what: &str,
    report: &mut Report,
) -> Option<Vec<Outcome>> {
    match sink.apply(batch.to_vec()).await {
        Ok(o) if o.len() == batch.len() => Some(o),
        Ok(o) => {
            report.fail(format!(
                "{what}: {} outcomes for {} records",
                o.len(),
                batch.len()
            ));
            None
        }
        Err(e) => {
            report.fail(format!("{what} failed: {e}"));
            None
        }
    }
}
