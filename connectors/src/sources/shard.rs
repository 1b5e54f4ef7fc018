//! One sync split in shards, so that several workers share its writes.

use crate::connector::{Capabilities, Connector, Cursor, Page, Source};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use async_trait::async_trait;
use odoo_integration_model::{Entity, RemoteId, SystemId};
use std::fmt;
use std::sync::Arc;

/// Shard `index` of `count` of a source: the changes of the records whose
/// id falls in it, by a hash of the id that is the same in every process
/// and every version (FNV-1a), so a record always lands in one shard.
///
/// A pipeline per shard (each its own name, checkpoint and lease) lets a
/// [`Runner`](crate::Runner) on each of several machines take
/// some of the shards: the writes, where a sync spends its time, are
/// shared; every shard reads the whole source and keeps its part (reads
/// are cheap beside writes, and the source needs nothing special).
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::sources::{Shard, VecSource};
/// use odoo_integration_connectors::{Source};
/// use odoo_integration_model::ClientCompany;
/// use std::sync::Arc;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let at = chrono::Utc::now();
/// let records = (0..100).map(|i| (i.to_string(), ClientCompany { legal_name: format!("Client {i}"), ..Default::default() }));
/// let source: Arc<dyn Source<ClientCompany>> = Arc::new(VecSource::from_records("sheet", at, records));
/// let mut seen = 0;
/// for index in 0..3 {
///     let shard = Shard::new(source.clone(), index, 3)?;
///     let page = shard.read(None, 1000).await?;
///     assert!(page.changes.iter().all(|c| Shard::<ClientCompany>::of(&c.remote_id, 3) == index));
///     seen += page.changes.len();
/// }
/// assert_eq!(seen, 100); // each record in exactly one shard
/// assert!(Shard::new(source, 3, 3).is_err());
/// # Ok(()) }
/// ```
pub struct Shard<E: Entity> {
    source: Arc<dyn Source<E>>,
    index: u32,
    count: u32,
}

impl<E: Entity> fmt::Debug for Shard<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shard")
            .field("system", &self.source.system())
            .field("index", &self.index)
            .field("count", &self.count)
            .finish()
    }
}

impl<E: Entity> Shard<E> {
    /// Shard `index` (from 0) of `count`.
    ///
    /// # Errors
    ///
    /// [`Configuration`](ConnectorErrorKind::Configuration) when `count`
    /// is 0 or `index` is not below it.
    ///
    /// # Example
    ///
    /// See [`Shard`].
    pub fn new(source: Arc<dyn Source<E>>, index: u32, count: u32) -> Result<Self> {
        if index >= count {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("shard {index} of {count} does not exist: shards are 0 to count − 1"),
            ));
        }
        Ok(Shard {
            source,
            index,
            count,
        })
    }

    /// The shard of `id` among `count` (0 when `count` is 0).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::sources::Shard;
    /// use odoo_integration_model::{ClientCompany, RemoteId};
    /// let s = Shard::<ClientCompany>::of(&RemoteId::new("981"), 4);
    /// assert!(s < 4);
    /// assert_eq!(s, Shard::<ClientCompany>::of(&RemoteId::new("981"), 4)); // stable
    /// ```
    pub fn of(id: &RemoteId, count: u32) -> u32 {
        if count == 0 {
            return 0;
        }
        // FNV-1a, 64 bits: fixed by its definition, unlike std's hasher.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in id.as_str().bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        u32::try_from(hash % u64::from(count)).unwrap_or(0)
    }
}

impl<E: Entity> Connector for Shard<E> {
    fn system(&self) -> SystemId {
        self.source.system()
    }
    fn capabilities(&self) -> Capabilities {
        self.source.capabilities()
    }
}

#[async_trait]
impl<E: Entity + Send + Sync + 'static> Source<E> for Shard<E> {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<E>> {
        let mut page = self.source.read(since, limit).await?;
        page.changes
            .retain(|c| Shard::<E>::of(&c.remote_id, self.count) == self.index);
        Ok(page)
    }
}
