//! A source over changes held in memory.

use super::ReadMode;
use crate::{
    Capabilities, Connector, ConnectorError, ConnectorErrorKind, Cursor, Page, Result, Source,
    SourceChange,
};
use async_trait::async_trait;
use odoo_integration_model::{Entity, SystemId};
use std::sync::{Mutex, PoisonError};

/// A [`Source`] over changes in memory: a `Vec`, or anything you can
/// iterate, plus what you [`push`](VecSource::push) later.
///
/// Reads go in order, at most `limit` changes a page; the cursor is the
/// position reached. What happens when the changes change depends on the
/// [`ReadMode`]:
///
/// - [`ReadMode::Snapshot`] (the default): the changes are the data as it
///   is now, rebuilt each run (records computed by the run, a sheet loaded
///   at start). The cursor carries a fingerprint of the ids, times and
///   operations; when they differ, the next read starts again from the
///   first change, and what did not change changes nothing downstream.
/// - [`ReadMode::AppendOnly`]: the changes are a log that only grows; a run
///   reads what was pushed since the last. A checkpoint from a longer log
///   than this one (rebuilt shorter after a restart) is refused with
///   [`ConnectorErrorKind::Configuration`] rather than read from a wrong place.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::sources::{ReadMode, VecSource};
/// use odoo_integration_connectors::{Source, SourceChange};
/// use odoo_integration_model::ClientCompany;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let at = chrono::Utc::now();
/// let source = VecSource::new("sheet", (1..=3).map(|i| {
///     SourceChange::upsert(i.to_string(), at, ClientCompany { legal_name: format!("Client {i}"), ..Default::default() })
/// }))
/// .mode(ReadMode::AppendOnly);
/// let page = source.read(None, 2).await?;
/// assert_eq!(page.changes.len(), 2);
/// assert!(page.has_more);
/// let rest = source.read(Some(&page.next), 2).await?;
/// assert_eq!(rest.changes[0].remote_id.as_str(), "3");
/// assert!(!rest.has_more);
///
/// source.push(SourceChange::delete("1", at));
/// let later = source.read(Some(&rest.next), 2).await?;
/// assert!(later.changes[0].operation.is_delete());
/// # Ok(()) }
/// ```
pub struct VecSource<E> {
    system: SystemId,
    mode: ReadMode,
    changes: Mutex<Vec<SourceChange<E>>>,
}

impl<E> VecSource<E> {
    /// A source for `system` over `changes`, oldest first.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::sources::VecSource;
    /// use odoo_integration_model::ClientCompany;
    /// let source = VecSource::<ClientCompany>::new("sheet", Vec::new());
    /// assert!(source.is_empty());
    /// ```
    pub fn new(
        system: impl Into<SystemId>,
        changes: impl IntoIterator<Item = SourceChange<E>>,
    ) -> Self {
        VecSource {
            system: system.into(),
            mode: ReadMode::Snapshot,
            changes: Mutex::new(changes.into_iter().collect()),
        }
    }

    /// How the changes are treated between reads (default
    /// [`ReadMode::Snapshot`]).
    ///
    /// # Example
    ///
    /// See the [type's example](VecSource).
    #[must_use]
    pub fn mode(mut self, mode: ReadMode) -> Self {
        self.mode = mode;
        self
    }

    /// A source over records as they are now: each an upsert stamped `at`,
    /// keyed by its id in `system`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::sources::VecSource;
    /// use odoo_integration_model::ClientCompany;
    /// let source = VecSource::from_records("sheet", chrono::Utc::now(), [("acme", ClientCompany::default())]);
    /// assert_eq!(source.len(), 1);
    /// ```
    pub fn from_records<I, S>(
        system: impl Into<SystemId>,
        at: chrono::DateTime<chrono::Utc>,
        records: I,
    ) -> Self
    where
        I: IntoIterator<Item = (S, E)>,
        S: Into<String>,
    {
        VecSource::new(
            system,
            records
                .into_iter()
                .map(|(id, record)| SourceChange::upsert(id, at, record)),
        )
    }

    /// Appends a change; the next read after the end of the log returns it.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{sources::VecSource, SourceChange};
    /// use odoo_integration_model::ClientCompany;
    /// let source = VecSource::<ClientCompany>::new("sheet", Vec::new());
    /// source.push(SourceChange::delete("7", chrono::Utc::now()));
    /// assert_eq!(source.len(), 1);
    /// ```
    pub fn push(&self, change: SourceChange<E>) {
        self.log().push(change);
    }

    /// Appends several changes, in order.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{sources::VecSource, SourceChange};
    /// use odoo_integration_model::ClientCompany;
    /// let source = VecSource::<ClientCompany>::new("sheet", Vec::new());
    /// let at = chrono::Utc::now();
    /// source.extend([SourceChange::delete("1", at), SourceChange::delete("2", at)]);
    /// assert_eq!(source.len(), 2);
    /// ```
    pub fn extend(&self, changes: impl IntoIterator<Item = SourceChange<E>>) {
        self.log().extend(changes);
    }

    /// How many changes the log holds.
    ///
    /// # Example
    ///
    /// ```
    /// let source = odoo_integration_connectors::sources::VecSource::<odoo_integration_model::ClientCompany>::new("sheet", Vec::new());
    /// assert_eq!(source.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.log().len()
    }

    /// Whether the log is empty.
    ///
    /// # Example
    ///
    /// ```
    /// let source = odoo_integration_connectors::sources::VecSource::<odoo_integration_model::ClientCompany>::new("sheet", Vec::new());
    /// assert!(source.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.log().is_empty()
    }

    fn log(&self) -> std::sync::MutexGuard<'_, Vec<SourceChange<E>>> {
        // The log is only ever appended to: a panic elsewhere while it was
        // held cannot have left it half-written.
        self.changes.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<E> std::fmt::Debug for VecSource<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The changes hold people's data: their count only.
        f.debug_struct("VecSource")
            .field("system", &self.system)
            .field("mode", &self.mode)
            .field("changes", &self.len())
            .finish()
    }
}

impl<E: Entity + Send> Connector for VecSource<E> {
    fn system(&self) -> SystemId {
        self.system.clone()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .reads([E::NAME])
            .incremental(self.mode == ReadMode::AppendOnly)
            .detects_deletes(true)
    }
}

#[async_trait]
impl<E: Entity + Send + Sync> Source<E> for VecSource<E> {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<E>> {
        let log = self.log();
        let print = match self.mode {
            ReadMode::Snapshot => fingerprint(&log),
            ReadMode::AppendOnly => 0,
        };
        let start = match since {
            None => 0,
            Some(c) => {
                let (at, seen) = c
                    .as_str()
                    .split_once(':')
                    .and_then(|(a, p)| {
                        Some((a.parse::<usize>().ok()?, u64::from_str_radix(p, 16).ok()?))
                    })
                    .ok_or_else(|| {
                        ConnectorError::new(
                            ConnectorErrorKind::Configuration,
                            format!("`{}` is not a cursor of an in-memory source", c.as_str()),
                        )
                    })?;
                match self.mode {
                    ReadMode::Snapshot if seen != print => 0,
                    _ if at > log.len() => {
                        return Err(ConnectorError::new(
                            ConnectorErrorKind::Configuration,
                            format!(
                                "the checkpoint is at change {at} but the log holds {}: \
                                 it was rebuilt shorter; reset the checkpoint to read it again",
                                log.len()
                            ),
                        )
                        .with_system(self.system.clone()));
                    }
                    _ => at,
                }
            }
        };
        let end = start.saturating_add(limit).min(log.len());
        Ok(Page {
            changes: log[start..end].to_vec(),
            next: Cursor::new(format!("{end}:{print:x}")),
            has_more: end < log.len(),
        })
    }
}

/// FNV-1a over each change's id, time and operation: what makes a snapshot
/// a different one. Stable across builds, since it is stored in cursors.
fn fingerprint<E>(changes: &[SourceChange<E>]) -> u64 {
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    eat(&(changes.len() as u64).to_le_bytes());
    for c in changes {
        eat(c.remote_id.as_str().as_bytes());
        eat(&[0xff, u8::from(c.operation.is_delete())]);
        eat(&c.at.timestamp().to_le_bytes());
        eat(&c.at.timestamp_subsec_nanos().to_le_bytes());
    }
    hash
}
