//! Streams over large record sets: keyset paging by id, and incremental
//! reads by a `(write_date, id)` cursor.
//!
//! Both page by a key, never by offset: a record created or deleted between
//! two pages shifts nothing, so no record is skipped or read twice.

use std::fmt;
use std::marker::PhantomData;

use futures::Stream;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::context::Context;
use crate::domain::Domain;
use crate::error::{Error, ProtocolErrorKind, Result};
use crate::protocol::Call;
use crate::value::Record;

/// The default number of records per page.
pub const DEFAULT_PAGE_SIZE: u64 = 500;

/// Reads every record matching a domain in id order, one page at a time.
/// Created by [`ModelClient::keyset`](crate::ModelClient::keyset) or
/// [`TypedModel::keyset`](crate::TypedModel::keyset).
///
/// Each page asks for `id > last id seen`, ordered by id: records created or
/// deleted while the stream runs never make it skip or repeat a record.
/// Memory holds one page at a time.
///
/// # Example
///
/// ```
/// use futures::TryStreamExt;
/// use odoo_integration_client::Domain;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = odoo_integration_client::test_server::TestServer::start().await?;
/// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
/// let us_customers = Domain::field("customer_rank")
///     .gt(0)
///     .and(Domain::field("country_id.code").eq("US"));
/// let mut partners = client
///     .model("res.partner")
///     .keyset(us_customers)
///     .fields(["name", "email"])
///     .page_size(1000)
///     .into_stream();
/// let mut names = Vec::new();
/// while let Some(row) = partners.try_next().await? {
///     names.push(row["name"].as_str().unwrap_or_default().to_owned());
/// }
/// assert_eq!(names, ["Acme Corporation", "Azure Interior", "The Jackson Group"]);
/// # Ok(()) }
/// ```
#[must_use]
pub struct Keyset<R> {
    client: Client,
    model: String,
    domain: Domain,
    fields: Option<Vec<String>>,
    page_size: u64,
    after: i64,
    context: Option<Context>,
    _row: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for Keyset<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keyset")
            .field("model", &self.model)
            .field("domain", &self.domain)
            .field("fields", &self.fields)
            .field("page_size", &self.page_size)
            .field("after", &self.after)
            .finish()
    }
}

impl<R: DeserializeOwned + Send + 'static> Keyset<R> {
    pub(crate) fn new(
        client: Client,
        model: String,
        domain: Domain,
        fields: Option<Vec<String>>,
    ) -> Self {
        Keyset {
            client,
            model,
            domain,
            fields,
            page_size: DEFAULT_PAGE_SIZE,
            after: 0,
            context: None,
            _row: PhantomData,
        }
    }

    /// The fields to read (`id` is always read).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    ///
    /// let rows: Vec<_> = client
    ///     .model("res.partner")
    ///     .keyset(Domain::field("ref").eq("ACME"))
    ///     .fields(["ref"])
    ///     .into_stream()
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(rows[0]["ref"], "ACME");
    /// assert!(!rows[0].contains_key("name"));
    /// # Ok(()) }
    /// ```
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Records per page (default [`DEFAULT_PAGE_SIZE`]; at least 1).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    ///
    /// let clients = ["Acme Corporation", "Gemini Furniture"];
    /// let people = Domain::field("parent_id.name").is_in(clients); // Ada, Jon and Eva
    /// let pages: Vec<_> = client
    ///     .model("res.partner")
    ///     .keyset(people)
    ///     .page_size(2)
    ///     .pages()
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [2, 1]);
    /// # Ok(()) }
    /// ```
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = size.max(1);
        self
    }

    /// Start after this id (to resume a stream that stopped).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    ///
    /// let clients = ["Acme Corporation", "Gemini Furniture"];
    /// let people = Domain::field("parent_id.name").is_in(clients); // Ada (4), Jon (5), Eva (6)
    /// // Resume a stream that stopped after record 4.
    /// let rest: Vec<_> = client
    ///     .model("res.partner")
    ///     .keyset(people)
    ///     .after_id(4)
    ///     .into_stream()
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(rest.iter().map(|r| r["id"].as_i64()).collect::<Vec<_>>(), [Some(5), Some(6)]);
    /// # Ok(()) }
    /// ```
    pub fn after_id(mut self, id: i64) -> Self {
        self.after = id;
        self
    }

    /// Context for every page, merged over the client's default context.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    /// use odoo_integration_client::Context;
    ///
    /// let archived = Context::new().active_test(false);
    /// let partners = client.model("res.partner");
    /// let all: Vec<_> = partners
    ///     .keyset(Domain::all())
    ///     .context(archived)
    ///     .into_stream()
    ///     .try_collect()
    ///     .await?;
    /// let active = partners.search_count(Domain::all()).send().await?;
    /// assert!(all.len() as u64 > active); // the archived partners included
    /// # Ok(()) }
    /// ```
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    async fn page(&self, after: i64) -> Result<Vec<(i64, R)>> {
        let domain = self.domain.clone().and(Domain::field("id").gt(after));
        let mut call = Call::new(self.model.clone(), "search_read".to_owned())
            .read_only()
            .named("domain", domain.to_json())
            .kwarg("order", Value::from("id asc"))
            .kwarg("limit", Value::from(self.page_size));
        if let Some(fields) = &self.fields {
            call = call.kwarg("fields", with_field(fields, "id").into());
        }
        call.context = self.context.clone();
        let rows: Vec<Record> = self.client.execute(call).await?;
        decode_rows(&self.model, rows, |row| {
            row.get("id").and_then(Value::as_i64)
        })
    }

    /// The pages, each a `Vec` of at most `page_size` records.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    ///
    /// let clients = ["Acme Corporation", "Gemini Furniture"];
    /// let people = Domain::field("parent_id.name").is_in(clients); // Ada, Jon and Eva
    /// let mut pages = client.model("res.partner").keyset(people).page_size(2).pages();
    /// assert_eq!(pages.try_next().await?.map(|p| p.len()), Some(2));
    /// assert_eq!(pages.try_next().await?.map(|p| p.len()), Some(1));
    /// assert!(pages.try_next().await?.is_none());
    /// # Ok(()) }
    /// ```
    pub fn pages(self) -> impl Stream<Item = Result<Vec<R>>> + Send + Unpin + 'static {
        let after = self.after;
        Box::pin(futures::stream::try_unfold(
            (self, Some(after)),
            |(this, after)| async move {
                let Some(after) = after else {
                    return Ok(None);
                };
                let page = this.page(after).await?;
                let Some(&(last, _)) = page.last() else {
                    return Ok(None);
                };
                if last <= after {
                    return Err(no_progress(&this.model));
                }
                let full = page.len() as u64 >= this.page_size;
                let rows = page.into_iter().map(|(_, r)| r).collect();
                Ok(Some((rows, (this, full.then_some(last)))))
            },
        ))
    }

    /// The records one by one.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    ///
    /// let mut contacts = client
    ///     .model("res.partner")
    ///     .keyset(Domain::field("parent_id").eq(2))
    ///     .into_stream();
    /// let mut names = Vec::new();
    /// while let Some(row) = contacts.try_next().await? {
    ///     names.push(row["name"].clone());
    /// }
    /// assert_eq!(names, ["Ada Lind", "Jon Park"]);
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> impl Stream<Item = Result<R>> + Send + Unpin + 'static {
        use futures::TryStreamExt;
        self.pages()
            .map_ok(|page| futures::stream::iter(page.into_iter().map(Ok)))
            .try_flatten()
    }
}

/// Where an incremental read stopped: the `write_date` and id of the last
/// record read. Serialisable, so a sync can checkpoint it.
///
/// # Example
///
/// ```
/// use odoo_integration_client::ChangeCursor;
///
/// let cursor = ChangeCursor::new("2026-11-24 00:00:00", 0);
/// let saved = serde_json::to_string(&cursor)?;
/// assert_eq!(serde_json::from_str::<ChangeCursor>(&saved)?, cursor);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChangeCursor {
    /// The `write_date` of the last record read, as Odoo writes it
    /// (`YYYY-MM-DD HH:MM:SS`, UTC).
    pub write_date: String,
    /// The id of the last record read.
    pub id: i64,
}

impl ChangeCursor {
    /// A cursor at `write_date` (Odoo format, UTC) and `id`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ChangeCursor;
    ///
    /// let cursor = ChangeCursor::new("2026-11-24 08:30:00", 42);
    /// assert_eq!((cursor.write_date.as_str(), cursor.id), ("2026-11-24 08:30:00", 42));
    /// ```
    pub fn new(write_date: impl Into<String>, id: i64) -> Self {
        ChangeCursor {
            write_date: write_date.into(),
            id,
        }
    }

    /// A cursor at a point in time: every record written after it is
    /// read.
    ///
    /// # Example
    ///
    /// ```
    /// use chrono::TimeZone;
    /// use odoo_integration_client::ChangeCursor;
    ///
    /// let cursor = ChangeCursor::at(chrono::Utc.with_ymd_and_hms(2026, 11, 24, 8, 30, 0).unwrap());
    /// assert_eq!(cursor, ChangeCursor::new("2026-11-24 08:30:00", 0));
    /// ```
    pub fn at(instant: chrono::DateTime<chrono::Utc>) -> Self {
        ChangeCursor::new(instant.format("%Y-%m-%d %H:%M:%S").to_string(), 0)
    }

    fn domain(&self) -> Domain {
        Domain::field("write_date").gt(self.write_date.as_str())
            | (Domain::field("write_date").eq(self.write_date.as_str())
                & Domain::field("id").gt(self.id))
    }
}

/// One page of an incremental read, with the cursor to resume after it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ChangePage<R> {
    /// The records written since the previous cursor, oldest first.
    pub records: Vec<R>,
    /// The cursor after the last record of this page.
    pub cursor: ChangeCursor,
}

/// Reads the records written since a cursor, oldest first, archived ones
/// included. Created by
/// [`ModelClient::changes_since`](crate::ModelClient::changes_since).
///
/// Pages by `(write_date, id)`: `write_date > t`, or `write_date = t` and
/// `id > last`, ordered by both, so records written in the same second are
/// neither skipped nor repeated.
///
/// # Example
///
/// ```
/// use futures::TryStreamExt;
/// use odoo_integration_client::{ChangeCursor, Domain};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = odoo_integration_client::test_server::TestServer::start().await?;
/// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
/// # let saved = odoo_integration_client::ChangeCursor::new("2000-01-01 00:00:00", 0);
/// let mut pages = client
///     .model("res.partner")
///     .changes_since(saved, Domain::all())
///     .fields(["name"])
///     .pages();
/// let mut seen = 0;
/// while let Some(page) = pages.try_next().await? {
///     seen += page.records.len(); // apply page.records, then store page.cursor
/// }
/// // Every partner, the archived ones included.
/// let archived = odoo_integration_client::Context::new().active_test(false);
/// let all = client.model("res.partner").search_count(Domain::all()).context(archived);
/// assert_eq!(seen as u64, all.send().await?);
/// # Ok(()) }
/// ```
#[must_use]
pub struct Changes<R> {
    client: Client,
    model: String,
    domain: Domain,
    fields: Option<Vec<String>>,
    page_size: u64,
    cursor: ChangeCursor,
    _row: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for Changes<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Changes")
            .field("model", &self.model)
            .field("domain", &self.domain)
            .field("cursor", &self.cursor)
            .field("page_size", &self.page_size)
            .finish()
    }
}

impl<R: DeserializeOwned + Send + 'static> Changes<R> {
    pub(crate) fn new(client: Client, model: String, cursor: ChangeCursor, domain: Domain) -> Self {
        Changes {
            client,
            model,
            domain,
            fields: None,
            page_size: DEFAULT_PAGE_SIZE,
            cursor,
            _row: PhantomData,
        }
    }

    /// The fields to read (`id` and `write_date` are always read).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    /// use odoo_integration_client::ChangeCursor;
    ///
    /// let since = ChangeCursor::new("2026-01-01 00:00:00", 0);
    /// let mut pages = client
    ///     .model("crm.stage")
    ///     .changes_since(since, Domain::all())
    ///     .fields(["name"])
    ///     .pages();
    /// let page = pages.try_next().await?.expect("a page");
    /// assert_eq!(page.records[0]["name"], "New");
    /// assert!(page.records[0].contains_key("write_date")); // always read
    /// # Ok(()) }
    /// ```
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }

    /// Records per page (default [`DEFAULT_PAGE_SIZE`]; at least 1).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    /// use odoo_integration_client::ChangeCursor;
    ///
    /// let since = ChangeCursor::new("2026-01-01 00:00:00", 0);
    /// let clients = ["Acme Corporation", "Gemini Furniture"];
    /// let people = Domain::field("parent_id.name").is_in(clients); // Ada, Jon and Eva
    /// let pages: Vec<_> = client
    ///     .model("res.partner")
    ///     .changes_since(since, people)
    ///     .page_size(2)
    ///     .pages()
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(pages.iter().map(|p| p.records.len()).collect::<Vec<_>>(), [2, 1]);
    /// # Ok(()) }
    /// ```
    pub fn page_size(mut self, size: u64) -> Self {
        self.page_size = size.max(1);
        self
    }

    async fn page(&self, cursor: &ChangeCursor) -> Result<Vec<(ChangeCursor, R)>> {
        let domain = self.domain.clone().and(cursor.domain());
        let mut call = Call::new(self.model.clone(), "search_read".to_owned())
            .read_only()
            .named("domain", domain.to_json())
            .kwarg("order", Value::from("write_date asc, id asc"))
            .kwarg("limit", Value::from(self.page_size));
        if let Some(fields) = &self.fields {
            let fields = with_field(&with_field(fields, "id"), "write_date");
            call = call.kwarg("fields", fields.into());
        }
        call.context = Some(Context::new().active_test(false));
        let rows: Vec<Record> = self.client.execute(call).await?;
        decode_rows(&self.model, rows, |row| {
            let id = row.get("id").and_then(Value::as_i64)?;
            let write_date = row.get("write_date").and_then(Value::as_str)?;
            Some(ChangeCursor::new(write_date, id))
        })
    }

    /// The pages, each with the cursor to store once it is applied.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    /// use odoo_integration_client::ChangeCursor;
    ///
    /// let since = ChangeCursor::new("2026-01-01 00:00:00", 0);
    /// let last = client
    ///     .model("crm.lead")
    ///     .changes_since(since, Domain::all())
    ///     .pages()
    ///     .try_fold(None, |_, p| async move { Ok(Some(p.cursor)) })
    ///     .await?;
    /// let cursor = last.expect("two leads changed");
    /// // Nothing written since: an empty read from the saved cursor.
    /// let again: Vec<_> = client
    ///     .model("crm.lead")
    ///     .changes_since(cursor, Domain::all())
    ///     .pages()
    ///     .try_collect()
    ///     .await?;
    /// assert!(again.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn pages(self) -> impl Stream<Item = Result<ChangePage<R>>> + Send + Unpin + 'static {
        let start = self.cursor.clone();
        Box::pin(futures::stream::try_unfold(
            (self, Some(start)),
            |(this, cursor)| async move {
                let Some(cursor) = cursor else {
                    return Ok(None);
                };
                let page = this.page(&cursor).await?;
                let Some((last, _)) = page.last() else {
                    return Ok(None);
                };
                let last = last.clone();
                if (last.write_date.as_str(), last.id) <= (cursor.write_date.as_str(), cursor.id) {
                    return Err(no_progress(&this.model));
                }
                let full = page.len() as u64 >= this.page_size;
                let records = page.into_iter().map(|(_, r)| r).collect();
                let next = full.then(|| last.clone());
                Ok(Some((
                    ChangePage {
                        records,
                        cursor: last,
                    },
                    (this, next),
                )))
            },
        ))
    }
}

fn with_field(fields: &[String], field: &str) -> Vec<String> {
    let mut out = fields.to_vec();
    if !out.iter().any(|f| f == field) {
        out.push(field.to_owned());
    }
    out
}

/// Decodes rows into `R`, keeping each row's key.
fn decode_rows<K, R: DeserializeOwned>(
    model: &str,
    rows: Vec<Record>,
    key: impl Fn(&Record) -> Option<K>,
) -> Result<Vec<(K, R)>> {
    rows.into_iter()
        .enumerate()
        .map(|(index, row)| {
            let k = key(&row).ok_or_else(|| {
                Error::decode(
                    model,
                    "search_read",
                    format!("[{index}]"),
                    "the row has no id or write_date",
                )
            })?;
            let r = serde_path_to_error::deserialize(Value::Object(row)).map_err(|e| {
                Error::decode(
                    model,
                    "search_read",
                    format!("[{index}].{}", e.path()),
                    e.inner().to_string(),
                )
            })?;
            Ok((k, r))
        })
        .collect()
}

fn no_progress(model: &str) -> Error {
    Error::protocol(
        ProtocolErrorKind::Unexpected,
        &format!("{model}/search_read"),
        None,
        "a page did not move past the previous one (is the order honoured?)",
        b"",
    )
}
