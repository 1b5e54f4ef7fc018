use super::state::{Part, State, impl_stores};
use crate::error::{ConnectorError, Result};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Every store in a directory of JSON files (`checkpoints.json`,
/// `xrefs.json`, `records.json`, `dead_letters.json`).
///
/// Each change rewrites its file atomically: the new content goes to a
/// temporary file, which is flushed to disk (fsync) and renamed over the
/// old one, and the directory is synced. A process killed at any point
/// leaves either the old or the new file. A change whose write fails is
/// undone in memory, so memory never runs ahead of the disk.
///
/// **Cost.** A write replaces the whole file of its part: saving a page of
/// canonical records rewrites every record stored so far. That suits a
/// sync of a few thousand records (a consultancy's clients, contacts and
/// engagements); for tens of thousands, or history that keeps growing,
/// use the SQLite store (feature `sqlite`), which writes only what
/// changed. `benches/pipeline.rs` measures both.
///
/// Meant for one process at a time; use a database-backed store to share
/// state between processes.
///
/// # Example
///
/// ```
/// use connectors::{CheckpointStore, Cursor, FileStore};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let store = FileStore::open(dir.path()).await?;
/// store.save_checkpoint("csv→odoo/client", &Cursor::new("120")).await?;
/// drop(store);
/// let again = FileStore::open(dir.path()).await?;
/// assert_eq!(again.checkpoint("csv→odoo/client").await?, Some(Cursor::new("120")));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct FileStore {
    dir: Arc<PathBuf>,
    state: Arc<Mutex<State>>,
}

impl FileStore {
    /// Opens (creating if needed) the store in `dir`, loading what is there.
    ///
    /// # Errors
    ///
    /// The directory cannot be created or a file cannot be read or parsed
    /// (a damaged file is reported, never silently replaced).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("xrefs.json"), b"{not json")?;
    /// assert!(connectors::FileStore::open(dir.path()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let loaded = tokio::task::spawn_blocking(move || load(dir))
            .await
            .map_err(|e| ConnectorError::store(format!("loading the file store: {e}")))??;
        Ok(FileStore {
            dir: Arc::new(loaded.0),
            state: Arc::new(Mutex::new(loaded.1)),
        })
    }

    /// The directory.
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let store = connectors::FileStore::open(dir.path()).await?;
    /// assert_eq!(store.dir(), dir.path());
    /// # Ok(()) }
    /// ```
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    async fn read<R>(&self, f: impl FnOnce(&State) -> R) -> Result<R> {
        Ok(f(&*self.state.lock().await))
    }

    async fn update<R>(&self, part: Part, f: impl FnOnce(&mut State) -> Result<R>) -> Result<R> {
        // The lock is held across the write so writes land in order.
        let mut state = self.state.lock().await;
        let before = state.to_json(part).map_err(encode_error)?;
        let out = f(&mut state)?;
        let after = state.to_json(part).map_err(encode_error)?;
        if after == before {
            return Ok(out);
        }
        let path = self.dir.join(part.file_name());
        let written = tokio::task::spawn_blocking(move || write_atomically(&path, &after))
            .await
            .map_err(|e| ConnectorError::store(format!("writing the file store: {e}")))
            .and_then(|r| r);
        match written {
            Ok(()) => Ok(out),
            Err(e) => {
                // Undo in memory: the disk still has `before`.
                state.load_json(part, &before).map_err(encode_error)?;
                Err(e)
            }
        }
    }
}

impl_stores!(FileStore);

fn encode_error(e: serde_json::Error) -> ConnectorError {
    ConnectorError::store(format!("encoding the store: {e}")).with_source(e)
}

fn load(dir: PathBuf) -> Result<(PathBuf, State)> {
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "creating", e))?;
    let mut state = State::default();
    for part in Part::ALL {
        let path = dir.join(part.file_name());
        match std::fs::read(&path) {
            Ok(bytes) => state.load_json(part, &bytes).map_err(|e| {
                ConnectorError::store(format!("{} is damaged: {e}", path.display())).with_source(e)
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_error(&path, "reading", e)),
        }
    }
    Ok((dir, state))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("json.tmp");
    let mut file = std::fs::File::create(&tmp).map_err(|e| io_error(&tmp, "creating", e))?;
    file.write_all(bytes)
        .map_err(|e| io_error(&tmp, "writing", e))?;
    file.sync_all().map_err(|e| io_error(&tmp, "syncing", e))?;
    drop(file);
    std::fs::rename(&tmp, path).map_err(|e| io_error(path, "replacing", e))?;
    // Make the rename itself durable (directories cannot be opened for
    // syncing on every platform; a failure there is not an error).
    if let Some(parent) = path.parent()
        && let Ok(dir) = std::fs::File::open(parent)
    {
        let _ = dir.sync_all();
    }
    Ok(())
}

fn io_error(path: &Path, doing: &str, e: std::io::Error) -> ConnectorError {
    ConnectorError::store(format!("{doing} {}: {e}", path.display())).with_source(e)
}
