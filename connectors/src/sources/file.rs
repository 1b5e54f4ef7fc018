//! Sources over files: JSON Lines, and CSV (feature `csv`).

use crate::{
    Capabilities, Connector, ConnectorError, ConnectorErrorKind, Cursor, Page, Reference, Result,
    Source, SourceChange,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use odoo_integration_model::{Entity, FieldError, FieldValue, Money, SystemId};
use rust_decimal::Decimal;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The longest line a JSON Lines file may have (16 MiB): a file without
/// line breaks is refused rather than read whole into memory.
pub const MAX_LINE: usize = 16 * 1024 * 1024;

/// How a [`FileSource`] treats the file between runs.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::sources::ReadMode;
/// assert_eq!(ReadMode::default(), ReadMode::Snapshot);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadMode {
    /// The file is the data as it is now, replaced or edited between runs
    /// (an export, a spreadsheet). Once read to its end, it is read again
    /// from the start when its size or modification time changes; rows
    /// that did not change then change nothing downstream.
    #[default]
    Snapshot,
    /// The file is a log that only grows. Each run reads what was appended
    /// since the last; a file shorter than the checkpoint is refused
    /// ([`ConnectorErrorKind::Configuration`]). A last line still being written
    /// (no line break, not yet valid JSON) waits for the next run.
    AppendOnly,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    JsonLines,
    #[cfg(feature = "csv")]
    Csv,
}

#[derive(Clone, Debug)]
struct Config {
    system: SystemId,
    path: PathBuf,
    format: Format,
    id: String,
    updated_at: Option<String>,
    deleted: Option<String>,
    refs: BTreeMap<String, String>,
    ignore: BTreeSet<String>,
    mode: ReadMode,
}

/// A [`Source`] over a file of your own records: JSON Lines (one object per
/// line) or CSV (a header row, then one row per record; feature `csv`).
///
/// Each record names its fields by the entity's field names, nested ones
/// dotted in CSV headers (`address.city`) or as nested objects in JSON.
/// Cells are read by the field's type: text, exact decimals (`12.50`, never
/// a float), money (`"12.50 EUR"`), dates (`2026-12-03`), UTC instants (RFC
/// 3339, or Odoo's `2026-12-03 09:30:00` read as UTC) and flags (`true`,
/// `yes`, `1`). An empty cell or `null` clears the field; a field the file
/// does not have is left alone. Besides the fields:
///
/// - the **id** column (default `id`) gives the record's id in the file's
///   system, and must be set on every record;
/// - an **updated-at** column ([`updated_at_field`](Self::updated_at_field))
///   stamps each change; without one, changes carry the file's modification
///   time;
/// - a **deleted** column ([`deleted_field`](Self::deleted_field)) turns a
///   record whose value is true into a delete;
/// - a **reference** column ([`reference`](Self::reference)) holds the id of
///   another record of the same system (a contact's client), resolved by the
///   pipeline.
///
/// A column that is none of these is an error naming it (a misspelt column
/// would otherwise read as empty); [`ignore`](Self::ignore) the ones you
/// mean to skip. A record that cannot be read fails the read with an
/// [`ConnectorErrorKind::Mapping`] error naming the file and line; the checkpoint
/// stays before it, so nothing after it is skipped.
///
/// The cursor is the byte offset of the next record (with the file's size
/// and modification time), so a read resumes where the last stopped, reads
/// at most `limit` records, and a restarted process goes on from its
/// checkpoint. See [`ReadMode`] for what happens when the file changes.
///
/// Reading happens on tokio's blocking pool, a page at a time: the file is
/// never held in memory whole.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::sources::FileSource;
/// use odoo_integration_connectors::Source;
/// use odoo_integration_model::Contact;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = tempfile::tempdir()?;
/// let path = dir.path().join("contacts.jsonl");
/// std::fs::write(&path, concat!(
///     r#"{"id": "c1", "name": "Ann Lee", "email": "ann@acme.example", "client": "acme"}"#, "\n",
///     r#"{"id": "c2", "name": "Bo Chen", "client": "acme", "gone": true}"#, "\n",
/// ))?;
/// let source = FileSource::<Contact>::json_lines("sheet", &path)
///     .reference("client", "client")
///     .deleted_field("gone");
/// let page = source.read(None, 10).await?;
/// assert_eq!(page.changes.len(), 2);
/// assert_eq!(page.changes[0].refs["client"].remote_id.as_str(), "acme");
/// assert!(page.changes[1].operation.is_delete());
/// assert!(!page.has_more);
/// # Ok(()) }
/// ```
pub struct FileSource<E> {
    config: Arc<Config>,
    entity: PhantomData<fn() -> E>,
}

impl<E> Clone for FileSource<E> {
    fn clone(&self) -> Self {
        FileSource {
            config: self.config.clone(),
            entity: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for FileSource<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSource")
            .field("system", &self.config.system)
            .field("path", &self.config.path)
            .field("format", &self.config.format)
            .field("mode", &self.config.mode)
            .finish_non_exhaustive()
    }
}

impl<E> FileSource<E> {
    fn with_format(system: impl Into<SystemId>, path: impl AsRef<Path>, format: Format) -> Self {
        FileSource {
            config: Arc::new(Config {
                system: system.into(),
                path: path.as_ref().to_owned(),
                format,
                id: "id".into(),
                updated_at: None,
                deleted: None,
                refs: BTreeMap::new(),
                ignore: BTreeSet::new(),
                mode: ReadMode::Snapshot,
            }),
            entity: PhantomData,
        }
    }

    /// A source over a JSON Lines file: one JSON object per line, blank
    /// lines skipped.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::sources::FileSource;
    /// let source = FileSource::<odoo_integration_model::ClientCompany>::json_lines("sheet", "clients.jsonl");
    /// assert!(format!("{source:?}").contains("clients.jsonl"));
    /// ```
    pub fn json_lines(system: impl Into<SystemId>, path: impl AsRef<Path>) -> Self {
        FileSource::with_format(system, path, Format::JsonLines)
    }

    /// A source over a CSV file with a header row (RFC 4180: quoted cells
    /// may hold commas, quotes and line breaks).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::sources::FileSource;
    /// use odoo_integration_connectors::Source;
    /// use odoo_integration_model::ClientCompany;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("clients.csv");
    /// std::fs::write(&path, "id,legal_name,address.city\nacme,\"Acme, Inc.\",Ghent\n")?;
    /// let page = FileSource::<ClientCompany>::csv("sheet", &path).read(None, 10).await?;
    /// let client = page.changes[0].operation.record().unwrap();
    /// assert_eq!(client.legal_name, "Acme, Inc.");
    /// assert_eq!(client.address.city.as_deref(), Some("Ghent"));
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "csv")]
    pub fn csv(system: impl Into<SystemId>, path: impl AsRef<Path>) -> Self {
        FileSource::with_format(system, path, Format::Csv)
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// The column holding each record's id (default `id`).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{sources::FileSource, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("accounts.jsonl");
    /// std::fs::write(&path, "{\"account_number\": \"A-7\", \"legal_name\": \"Acme\"}\n")?;
    /// let source = FileSource::<odoo_integration_model::ClientCompany>::json_lines("crm", &path)
    ///     .id_field("account_number");
    /// assert_eq!(source.read(None, 1).await?.changes[0].remote_id.as_str(), "A-7");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn id_field(mut self, column: impl Into<String>) -> Self {
        self.config().id = column.into();
        self
    }

    /// The column stamping each change (RFC 3339, or `YYYY-MM-DD HH:MM:SS`
    /// as UTC). Without it, changes carry the file's modification time.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{sources::FileSource, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("clients.jsonl");
    /// std::fs::write(&path, "{\"id\": 1, \"legal_name\": \"Acme\", \"changed\": \"2026-12-03T09:30:00+01:00\"}\n")?;
    /// let source = FileSource::<odoo_integration_model::ClientCompany>::json_lines("sheet", &path).updated_at_field("changed");
    /// let page = source.read(None, 1).await?;
    /// assert_eq!(page.changes[0].at.to_rfc3339(), "2026-12-03T08:30:00+00:00");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn updated_at_field(mut self, column: impl Into<String>) -> Self {
        self.config().updated_at = Some(column.into());
        self
    }

    /// The column that, when true, makes the record a delete.
    ///
    /// # Example
    ///
    /// See the [type's example](FileSource).
    #[must_use]
    pub fn deleted_field(mut self, column: impl Into<String>) -> Self {
        self.config().deleted = Some(column.into());
        self
    }

    /// `field` holds the id, in this file's system, of an `entity` record:
    /// it becomes a [`Reference`] the pipeline resolves.
    ///
    /// # Example
    ///
    /// See the [type's example](FileSource).
    #[must_use]
    pub fn reference(mut self, field: impl Into<String>, entity: impl Into<String>) -> Self {
        self.config().refs.insert(field.into(), entity.into());
        self
    }

    /// A column to skip (notes, a column for another tool).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::{sources::FileSource, Source};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("clients.jsonl");
    /// std::fs::write(&path, "{\"id\": 1, \"legal_name\": \"Acme\", \"notes\": \"call back\"}\n")?;
    /// let strict = FileSource::<odoo_integration_model::ClientCompany>::json_lines("sheet", &path);
    /// let err = strict.read(None, 1).await.unwrap_err();
    /// assert!(err.message().contains("unknown field `notes`"), "{err}");
    /// let lenient = strict.clone().ignore("notes");
    /// assert_eq!(lenient.read(None, 1).await?.changes.len(), 1);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn ignore(mut self, column: impl Into<String>) -> Self {
        self.config().ignore.insert(column.into());
        self
    }

    /// How the file is treated between runs (default [`ReadMode::Snapshot`]).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::sources::{FileSource, ReadMode};
    /// let log = FileSource::<odoo_integration_model::ClientCompany>::json_lines("app", "events.jsonl").mode(ReadMode::AppendOnly);
    /// assert!(format!("{log:?}").contains("AppendOnly"));
    /// ```
    #[must_use]
    pub fn mode(mut self, mode: ReadMode) -> Self {
        self.config().mode = mode;
        self
    }
}

impl<E: Entity + Send> Connector for FileSource<E> {
    fn system(&self) -> SystemId {
        self.config.system.clone()
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new()
            .reads([E::NAME])
            .incremental(self.config.mode == ReadMode::AppendOnly)
            .detects_deletes(self.config.deleted.is_some())
    }
}

#[async_trait]
impl<E: Entity + Default + Send + Sync + 'static> Source<E> for FileSource<E> {
    async fn read(&self, since: Option<&Cursor>, limit: usize) -> Result<Page<E>> {
        let config = self.config.clone();
        let since = since.map(|c| c.as_str().to_owned());
        let system = config.system.clone();
        tokio::task::spawn_blocking(move || read_page::<E>(&config, since.as_deref(), limit))
            .await
            .map_err(|e| {
                ConnectorError::new(ConnectorErrorKind::Protocol, format!("reading a file: {e}"))
            })?
            .map_err(|e| e.with_system(system))
    }
}

/// Where a read stands: the next record's byte offset and line, and the
/// file's size and modification time when the cursor was made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Position {
    offset: u64,
    line: u64,
    len: u64,
    mtime: i128,
}

impl Position {
    fn cursor(&self) -> Cursor {
        Cursor::new(format!(
            "{}:{}:{}:{}",
            self.offset, self.line, self.len, self.mtime
        ))
    }

    fn parse(text: &str) -> Option<Position> {
        let mut parts = text.split(':');
        let pos = Position {
            offset: parts.next()?.parse().ok()?,
            line: parts.next()?.parse().ok()?,
            len: parts.next()?.parse().ok()?,
            mtime: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(pos)
    }
}

fn config_error(config: &Config, message: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::new(
        ConnectorErrorKind::Configuration,
        format!("{}: {message}", config.path.display()),
    )
}

fn mapping_error(config: &Config, line: u64, message: impl std::fmt::Display) -> ConnectorError {
    ConnectorError::new(
        ConnectorErrorKind::Mapping,
        format!("{}:{line}: {message}", config.path.display()),
    )
}

fn read_page<E: Entity + Default>(
    config: &Config,
    since: Option<&str>,
    limit: usize,
) -> Result<Page<E>> {
    let open =
        |e: std::io::Error| config_error(config, format_args!("cannot read: {e}")).with_source(e);
    let meta = std::fs::metadata(&config.path).map_err(open)?;
    let modified = meta.modified().map_err(open)?;
    let file_time: DateTime<Utc> = modified.into();
    let now = Position {
        offset: 0,
        line: 1,
        len: meta.len(),
        mtime: file_time
            .timestamp_nanos_opt()
            .map_or_else(|| i128::from(file_time.timestamp()), i128::from),
    };
    let start = match since {
        None => None,
        Some(text) => {
            let pos = Position::parse(text).ok_or_else(|| {
                config_error(
                    config,
                    format_args!("`{text}` is not a cursor of a file source"),
                )
            })?;
            let changed = (pos.len, pos.mtime) != (now.len, now.mtime);
            match config.mode {
                ReadMode::Snapshot if changed => None,
                _ if pos.offset > now.len => {
                    return Err(config_error(
                        config,
                        format_args!(
                            "the checkpoint is at byte {} but the file has {}: it was \
                             truncated or replaced; reset the checkpoint to read it again",
                            pos.offset, now.len
                        ),
                    ));
                }
                _ => Some(pos),
            }
        }
    };
    let file = std::fs::File::open(&config.path).map_err(open)?;
    let reader = Reader {
        config,
        file_time,
        now,
    };
    match config.format {
        Format::JsonLines => reader.json_lines(file, start, limit),
        #[cfg(feature = "csv")]
        Format::Csv => reader.csv(file, start, limit),
    }
}

struct Reader<'a> {
    config: &'a Config,
    file_time: DateTime<Utc>,
    now: Position,
}

impl Reader<'_> {
    fn json_lines<E: Entity + Default>(
        &self,
        file: std::fs::File,
        start: Option<Position>,
        limit: usize,
    ) -> Result<Page<E>> {
        let config = self.config;
        let io = |e: std::io::Error| {
            config_error(config, format_args!("cannot read: {e}")).with_source(e)
        };
        let mut pos = Position {
            len: self.now.len,
            mtime: self.now.mtime,
            ..start.unwrap_or(self.now)
        };
        let mut file = file;
        file.seek(SeekFrom::Start(pos.offset)).map_err(io)?;
        let mut reader = BufReader::new(file);
        let mut changes = Vec::new();
        let mut buf = Vec::new();
        while changes.len() < limit {
            buf.clear();
            let read = (&mut reader)
                .take(MAX_LINE as u64 + 1)
                .read_until(b'\n', &mut buf)
                .map_err(io)?;
            if read == 0 {
                break;
            }
            if buf.len() > MAX_LINE {
                return Err(mapping_error(
                    config,
                    pos.line,
                    format_args!("a line longer than {MAX_LINE} bytes"),
                ));
            }
            let complete = buf.ends_with(b"\n");
            let text = std::str::from_utf8(&buf)
                .map_err(|_| mapping_error(config, pos.line, "not UTF-8"))?;
            if text.trim().is_empty() {
                pos.offset += read as u64;
                pos.line += u64::from(complete);
                continue;
            }
            let object = match serde_json::from_str::<Map<String, Value>>(text) {
                Ok(o) => o,
                // A log's last line may still be being written.
                Err(_) if !complete && config.mode == ReadMode::AppendOnly => break,
                Err(e) => {
                    return Err(mapping_error(
                        config,
                        pos.line,
                        format_args!("not a JSON object: {e}"),
                    ));
                }
            };
            let mut cells = Vec::with_capacity(object.len());
            flatten("", &object, &mut cells);
            changes.push(
                self.change::<E>(cells.into_iter().map(|(k, v)| (k, Cell::Json(v))), pos.line)?,
            );
            pos.offset += read as u64;
            pos.line += 1;
        }
        Ok(Page {
            changes,
            next: pos.cursor(),
            has_more: pos.offset < self.now.len,
        })
    }

    #[cfg(feature = "csv")]
    fn csv<E: Entity + Default>(
        &self,
        file: std::fs::File,
        start: Option<Position>,
        limit: usize,
    ) -> Result<Page<E>> {
        let config = self.config;
        let csv_error = |e: csv::Error| {
            let line = e.position().map_or(0, csv::Position::line);
            mapping_error(config, line, &e).with_source(e)
        };
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(file);
        let headers = rdr.headers().map_err(csv_error)?.clone();
        let columns: Vec<String> = headers.iter().map(str::to_owned).collect();
        self.check_columns::<E>(&columns)?;
        let mut pos = match start {
            Some(p) if p.offset > rdr.position().byte() => p,
            _ => Position {
                offset: rdr.position().byte(),
                line: rdr.position().line(),
                ..self.now
            },
        };
        pos.len = self.now.len;
        pos.mtime = self.now.mtime;
        let mut seek = csv::Position::new();
        seek.set_byte(pos.offset).set_line(pos.line);
        rdr.seek(seek).map_err(csv_error)?;
        let mut changes = Vec::new();
        let mut record = csv::StringRecord::new();
        while changes.len() < limit {
            let line = rdr.position().line();
            if !rdr.read_record(&mut record).map_err(csv_error)? {
                break;
            }
            if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
                // A blank line.
            } else {
                let cells = columns
                    .iter()
                    .map(String::as_str)
                    .zip(record.iter())
                    .map(|(k, v)| (k.to_owned(), Cell::Text(v)));
                changes.push(self.change::<E>(cells, line)?);
            }
            pos.offset = rdr.position().byte();
            pos.line = rdr.position().line();
        }
        Ok(Page {
            changes,
            next: pos.cursor(),
            has_more: pos.offset < self.now.len,
        })
    }

    /// Every header must be a field, a reference, one of the special
    /// columns, or ignored; all the strangers are named at once.
    #[cfg(feature = "csv")]
    fn check_columns<E: Entity>(&self, columns: &[String]) -> Result<()> {
        let unknown: Vec<&str> = columns
            .iter()
            .map(String::as_str)
            .filter(|c| self.role::<E>(c).is_none())
            .collect();
        if !unknown.is_empty() {
            return Err(config_error(
                self.config,
                format_args!(
                    "unknown column{} `{}` for {} (ignore a column with .ignore(...))",
                    if unknown.len() == 1 { "" } else { "s" },
                    unknown.join("`, `"),
                    E::NAME
                ),
            ));
        }
        if !columns.contains(&self.config.id) {
            return Err(config_error(
                self.config,
                format_args!("no `{}` column for the records' ids", self.config.id),
            ));
        }
        Ok(())
    }

    fn role<E: Entity>(&self, key: &str) -> Option<Role> {
        let c = self.config;
        if key == c.id {
            Some(Role::Id)
        } else if c.updated_at.as_deref() == Some(key) {
            Some(Role::UpdatedAt)
        } else if c.deleted.as_deref() == Some(key) {
            Some(Role::Deleted)
        } else if c.ignore.contains(key) {
            Some(Role::Ignored)
        } else if let Some(entity) = c.refs.get(key) {
            Some(Role::Reference(entity.clone()))
        } else if E::FIELDS.contains(&key) {
            Some(Role::Field)
        } else {
            None
        }
    }

    fn change<'v, E: Entity + Default>(
        &self,
        cells: impl Iterator<Item = (String, Cell<'v>)>,
        line: u64,
    ) -> Result<SourceChange<E>> {
        let config = self.config;
        let err = |m: String| mapping_error(config, line, m);
        let mut record = E::default();
        let mut id = None;
        let mut at = self.file_time;
        let mut deleted = false;
        let mut refs = Vec::new();
        let mut fields = Vec::new();
        for (key, cell) in cells {
            let group = format!("{key}.");
            if matches!(cell, Cell::Json(Value::Null))
                && E::FIELDS.iter().any(|f| f.starts_with(&group))
            {
                // `"address": null`: no address fields given.
                continue;
            }
            let role = self.role::<E>(&key).ok_or_else(|| {
                err(format!(
                    "unknown field `{key}` of {} (ignore it with .ignore(\"{key}\"))",
                    E::NAME
                ))
            })?;
            match role {
                Role::Ignored => {}
                Role::Id => match cell.text() {
                    Some(t) if !t.trim().is_empty() => id = Some(t.trim().to_owned()),
                    _ => return Err(err(format!("the id `{key}` is empty"))),
                },
                Role::UpdatedAt => {
                    if let Some(t) = cell.text().filter(|t| !t.trim().is_empty()) {
                        at = parse_instant(&t)
                            .ok_or_else(|| err(format!("`{key}`: `{t}` is not a date and time")))?;
                    }
                }
                Role::Deleted => {
                    deleted = match cell.to_value() {
                        Ok(FieldValue::Null) => false,
                        Ok(v) => parse_bool(&v)
                            .ok_or_else(|| err(format!("`{key}`: `{v}` is not true or false")))?,
                        Err(m) => return Err(err(format!("`{key}`: {m}"))),
                    }
                }
                Role::Reference(entity) => {
                    fields.push(key.clone());
                    if let Some(t) = cell.text().filter(|t| !t.trim().is_empty()) {
                        refs.push((key, Reference::new(entity, t.trim())));
                    }
                }
                Role::Field => {
                    let value = cell.to_value().map_err(|m| err(format!("`{key}`: {m}")))?;
                    set_field(&mut record, &key, value)
                        .map_err(|m| err(format!("`{key}`: {m}")))?;
                    fields.push(key);
                }
            }
        }
        let Some(id) = id else {
            return Err(err(format!(
                "no `{}`: every record needs its id",
                config.id
            )));
        };
        if deleted {
            return Ok(SourceChange::delete(id, at));
        }
        let mut change = SourceChange::upsert(id, at, record).with_fields(fields);
        for (field, reference) in refs {
            change = change.with_ref(field, reference);
        }
        Ok(change)
    }
}

enum Role {
    Id,
    UpdatedAt,
    Deleted,
    Ignored,
    Reference(String),
    Field,
}

/// One cell as the file has it.
enum Cell<'a> {
    Json(&'a Value),
    #[cfg_attr(not(feature = "csv"), allow(dead_code))]
    Text(&'a str),
}

impl Cell<'_> {
    fn text(&self) -> Option<String> {
        match self {
            Cell::Text(t) => Some((*t).to_owned()),
            Cell::Json(Value::String(s)) => Some(s.clone()),
            Cell::Json(Value::Number(n)) => Some(n.to_string()),
            Cell::Json(_) => None,
        }
    }

    /// The value before it meets the field: text, a flag, an exact number,
    /// or empty.
    fn to_value(&self) -> std::result::Result<FieldValue, String> {
        Ok(match self {
            Cell::Text("") => FieldValue::Null,
            Cell::Text(t) => FieldValue::Text((*t).to_owned()),
            Cell::Json(Value::Null) => FieldValue::Null,
            Cell::Json(Value::Bool(b)) => FieldValue::Bool(*b),
            // Read from its text, so 0.1 stays exactly 0.1.
            Cell::Json(Value::Number(n)) => FieldValue::Decimal(
                n.to_string()
                    .parse::<Decimal>()
                    .or_else(|_| Decimal::from_scientific(&n.to_string()))
                    .map_err(|_| format!("{n} is not an exact decimal"))?,
            ),
            Cell::Json(Value::String(s)) => FieldValue::Text(s.clone()),
            Cell::Json(Value::Array(_)) => {
                return Err("lists (rows) cannot be read from a file source".into());
            }
            Cell::Json(Value::Object(_)) => return Err("an object where a value belongs".into()),
        })
    }
}

/// A JSON object's leaves under dotted names; an empty or null object
/// stands for nothing.
fn flatten<'v>(prefix: &str, object: &'v Map<String, Value>, out: &mut Vec<(String, &'v Value)>) {
    for (key, value) in object {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) => flatten(&name, inner, out),
            _ => out.push((name, value)),
        }
    }
}

/// Sets a field, reading the cell as the field's type when it is not text.
fn set_field<E: Entity>(
    record: &mut E,
    field: &str,
    value: FieldValue,
) -> std::result::Result<(), String> {
    let expected = match record.set(field, value.clone()) {
        Ok(()) => return Ok(()),
        Err(FieldError::WrongType { expected, .. }) => expected,
        Err(e) => return Err(e.to_string()),
    };
    let typed = convert(&value, expected)?;
    record.set(field, typed).map_err(|e| e.to_string())
}

fn convert(value: &FieldValue, expected: &str) -> std::result::Result<FieldValue, String> {
    let text = match value {
        FieldValue::Null if expected == "text" => return Ok(FieldValue::Text(String::new())),
        FieldValue::Null => return Err(format!("a {expected} is required")),
        FieldValue::Text(t) => t.trim().to_owned(),
        other => other.to_string(),
    };
    let bad = || format!("`{text}` is not a {expected}");
    Ok(match expected {
        "text" => FieldValue::Text(text),
        "decimal" => FieldValue::Decimal(
            text.parse::<Decimal>()
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(|_| bad())?,
        ),
        "bool" => FieldValue::Bool(parse_bool(value).ok_or_else(bad)?),
        "money" => FieldValue::Money(
            text.parse::<Money>()
                .map_err(|e| format!("{}: {e}", bad()))?,
        ),
        "date" => {
            FieldValue::Date(NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| bad())?)
        }
        "datetime" => FieldValue::DateTime(parse_instant(&text).ok_or_else(bad)?),
        "id" => {
            return Err(
                "refers to another record: declare the column with .reference(field, entity)"
                    .into(),
            );
        }
        other => return Err(format!("a {other} cannot be read from a file cell")),
    })
}

fn parse_bool(value: &FieldValue) -> Option<bool> {
    match value {
        FieldValue::Bool(b) => Some(*b),
        FieldValue::Decimal(d) if d.is_zero() => Some(false),
        FieldValue::Decimal(d) if *d == Decimal::ONE => Some(true),
        FieldValue::Text(t) => match t.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "y" | "1" => Some(true),
            "false" | "no" | "n" | "0" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// RFC 3339 in any offset, or Odoo's `YYYY-MM-DD HH:MM:SS` as UTC.
fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S")
                .ok()
                .map(|t| t.and_utc())
        })
}
