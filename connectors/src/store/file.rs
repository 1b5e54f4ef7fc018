use super::state::{Part, State, impl_stores};
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use std::fs::{File, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::Mutex;

/// The lock file in a store's directory.
const LOCK_FILE: &str = "LOCK";

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
/// **One instance per directory.** Opening takes an exclusive OS lock
/// (`flock` on Unix, `LockFileEx` on Windows) on a `LOCK` file in the
/// directory, which holds the opener's process id for people to read.
/// A second [`open`](FileStore::open) of the directory, from another
/// process or from this one, fails with [`ConnectorErrorKind::Locked`] while the
/// first store (or any clone of it) is alive, instead of the two
/// overwriting each other's changes. Share one store by cloning it. The
/// lock is released when the last clone is dropped, and by the OS when
/// the process dies, so a crash leaves no lock behind (the `LOCK` file
/// stays; it does not block). Advisory locks may not hold across a
/// network file system; keep the directory on a local disk. To share
/// state between processes, use a database-backed store.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::{CheckpointStore, Cursor, FileStore};
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
    /// Held for as long as any clone lives.
    _lock: Arc<DirLock>,
}

/// The exclusive lock on a store's directory, released on drop.
#[derive(Debug)]
struct DirLock {
    file: File,
}

impl Drop for DirLock {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlocking first says so.
        let _ = self.file.unlock();
    }
}

impl FileStore {
    /// Opens (creating if needed) the store in `dir`, loading what is there.
    ///
    /// # Errors
    ///
    /// [`ConnectorErrorKind::Locked`] when another `FileStore` has the directory
    /// open (see [`FileStore`]); [`ConnectorErrorKind::Store`] when the directory
    /// cannot be created or locked, or a file cannot be read or parsed (a
    /// damaged file is reported, never silently replaced).
    ///
    /// # Example
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("xrefs.json"), b"{not json")?;
    /// assert!(odoo_integration_connectors::FileStore::open(dir.path()).await.is_err());
    /// # Ok(()) }
    /// ```
    pub async fn open(dir: impl AsRef<Path>) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        let loaded = tokio::task::spawn_blocking(move || load(dir))
            .await
            .map_err(|e| ConnectorError::store(format!("loading the file store: {e}")))??;
        Ok(FileStore {
            dir: Arc::new(loaded.dir),
            state: Arc::new(Mutex::new(loaded.state)),
            _lock: Arc::new(loaded.lock),
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
    /// let store = odoo_integration_connectors::FileStore::open(dir.path()).await?;
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

struct Loaded {
    dir: PathBuf,
    state: State,
    lock: DirLock,
}

fn load(dir: PathBuf) -> Result<Loaded> {
    std::fs::create_dir_all(&dir).map_err(|e| io_error(&dir, "creating", e))?;
    // Locked before anything is read, so what is read is not being
    // rewritten by another instance.
    let lock = lock(&dir)?;
    remove_stale_temp_files(&dir);
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
    Ok(Loaded { dir, state, lock })
}

/// Takes the directory's exclusive lock, without waiting.
fn lock(dir: &Path) -> Result<DirLock> {
    let path = dir.join(LOCK_FILE);
    let mut file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| io_error(&path, "opening the lock file", e))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let holder = lock_holder(&mut file)
                .map(|pid| format!(" (process {pid})"))
                .unwrap_or_default();
            return Err(ConnectorError::new(
                ConnectorErrorKind::Locked,
                format!(
                    "the file store in {} is in use by another FileStore{holder}: \
                     open it once and share clones of it",
                    dir.display()
                ),
            ));
        }
        Err(TryLockError::Error(e)) => return Err(io_error(&path, "locking", e)),
    }
    // For people and tools to read; the lock, not this text, is what
    // excludes other instances.
    let pid = format!("{}\n", std::process::id());
    let written = file
        .set_len(0)
        .and_then(|()| file.rewind())
        .and_then(|()| file.write_all(pid.as_bytes()))
        .and_then(|()| file.flush());
    if let Err(e) = written {
        tracing::debug!(error = %e, path = %path.display(), "file store: could not record the pid in the lock file");
    }
    Ok(DirLock { file })
}

/// The process id a lock file names, if it can be read.
fn lock_holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Removes temporary files that a process killed in the middle of a
/// write left behind. Only called with the lock held, so none of them is
/// being written.
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let ours = Part::ALL.iter().any(|part| {
            name.strip_prefix(part.file_name())
                .is_some_and(|rest| rest.starts_with('.') && rest.ends_with(".tmp"))
        });
        if ours && let Err(e) = std::fs::remove_file(entry.path()) {
            tracing::debug!(error = %e, file = %name, "file store: could not remove a stale temp file");
        }
    }
}

/// A temporary file name next to `path` that no other write uses: the
/// process id and a per-process counter.
fn temp_path(path: &Path) -> PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}-{n}.tmp", std::process::id()));
    path.with_file_name(name)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = temp_path(path);
    let written = (|| {
        let mut file = File::create_new(&tmp).map_err(|e| io_error(&tmp, "creating", e))?;
        file.write_all(bytes)
            .map_err(|e| io_error(&tmp, "writing", e))?;
        file.sync_all().map_err(|e| io_error(&tmp, "syncing", e))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| io_error(path, "replacing", e))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
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
