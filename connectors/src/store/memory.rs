use super::state::{Part, State, impl_stores};
use crate::error::Result;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Every store in memory: for tests and one-shot runs. Cheap to clone;
/// clones share the state.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{CheckpointStore, Cursor, MemoryStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> odoo_integration_connectors::Result<()> {
/// let a = MemoryStore::new();
/// let b = a.clone();
/// a.save_checkpoint("k", &Cursor::new("1")).await?;
/// assert_eq!(b.checkpoint("k").await?, Some(Cursor::new("1")));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
}

impl MemoryStore {
    /// An empty store.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{CheckpointStore, Cursor, MemoryStore};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> odoo_integration_connectors::Result<()> {
    /// let store = MemoryStore::new();
    /// assert_eq!(store.checkpoint("hubspot→odoo/client").await?, None);
    /// store.save_checkpoint("hubspot→odoo/client", &Cursor::new("42")).await?;
    /// assert_eq!(store.clone().checkpoint("hubspot→odoo/client").await?, Some(Cursor::new("42"))); // clones share
    /// # Ok(()) }
    /// ```
    pub fn new() -> Self {
        MemoryStore::default()
    }

    async fn read<R>(&self, f: impl FnOnce(&State) -> R) -> Result<R> {
        Ok(f(&*self.state.lock().await))
    }

    async fn update<R>(&self, _part: Part, f: impl FnOnce(&mut State) -> Result<R>) -> Result<R> {
        f(&mut *self.state.lock().await)
    }
}

impl_stores!(MemoryStore);
