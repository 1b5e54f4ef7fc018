//! Bulk writes: batched create and write with a bound on requests in flight
//! and an outcome per record, and upsert by external id or natural key.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;
use serde_json::Value;

use crate::client::Client;
use crate::domain::Domain;
use crate::error::{Error, ErrorKind, Result};
use crate::protocol::Call;
use crate::value::Record;

/// The default number of records per batched call.
pub const DEFAULT_BATCH_SIZE: usize = 200;

type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

/// Shared knobs of the batched operations.
#[derive(Clone)]
struct BatchOptions {
    batch_size: usize,
    in_flight: usize,
    allow_retry: bool,
    progress: Option<Progress>,
}

impl Default for BatchOptions {
    fn default() -> Self {
        BatchOptions {
            batch_size: DEFAULT_BATCH_SIZE,
            in_flight: 1,
            allow_retry: false,
            progress: None,
        }
    }
}

impl fmt::Debug for BatchOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BatchOptions")
            .field("batch_size", &self.batch_size)
            .field("in_flight", &self.in_flight)
            .field("allow_retry", &self.allow_retry)
            .finish_non_exhaustive()
    }
}

/// The setters shared by the batched operations, each with an example for
/// the builder it is on: `$setup` prepares five records,
/// `$op` makes the builder from them, `$q` ends the `send().await` (`?`
/// where it returns a `Result`), `$method` is the method each call sends.
macro_rules! batch_setters {
    (setup: $setup:literal, op: $op:literal, q: $q:literal, method: $method:literal) => {
        /// Records per call (default [`DEFAULT_BATCH_SIZE`]; at least 1).
        ///
        /// # Example
        ///
        /// ```
        /// # use odoo_integration_client::{ExternalId, Protocol, test_server::TestServer};
        /// # #[tokio::main(flavor = "current_thread")]
        /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
        /// # let server = TestServer::start().await?;
        /// # let client = server.client(Protocol::Json2)?;
        #[doc = $setup]
        #[doc = concat!("let batch = ", $op, ";")]
        #[doc = concat!("let outcomes = batch.batch_size(2).send().await", $q, ";")]
        /// assert!(outcomes.iter().all(|o| o.is_ok()));
        #[doc = concat!("let calls = server.calls().iter().filter(|c| c.method == \"", $method, "\").count();")]
        /// assert_eq!(calls, 3); // 2 + 2 + 1 records
        /// # Ok(()) }
        /// ```
        pub fn batch_size(mut self, size: usize) -> Self {
            self.options.batch_size = size.max(1);
            self
        }

        /// Calls in flight at once (default 1; at least 1). The client's own
        /// cap on concurrent requests still applies.
        ///
        /// # Example
        ///
        /// ```
        /// # use odoo_integration_client::{ExternalId, Protocol, test_server::TestServer};
        /// # #[tokio::main(flavor = "current_thread")]
        /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
        /// # let server = TestServer::start().await?;
        /// # let client = server.client(Protocol::Json2)?;
        /// # use odoo_integration_client::test_server::Fault;
        /// // Slow replies, so that calls overlap.
        /// server.inject(Fault::Delay(std::time::Duration::from_millis(200)), 4);
        #[doc = $setup]
        #[doc = concat!("let batch = ", $op, ";")]
        #[doc = concat!("let outcomes = batch.batch_size(1).in_flight(2).send().await", $q, ";")]
        /// assert!(outcomes.iter().all(|o| o.is_ok()));
        /// assert_eq!(server.peak_concurrency(), 2);
        /// # Ok(()) }
        /// ```
        pub fn in_flight(mut self, calls: usize) -> Self {
            self.options.in_flight = calls.max(1);
            self
        }

        /// Called after each finished call with (records done, total).
        ///
        /// # Example
        ///
        /// ```
        /// # use odoo_integration_client::{ExternalId, Protocol, test_server::TestServer};
        /// # #[tokio::main(flavor = "current_thread")]
        /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
        /// # let server = TestServer::start().await?;
        /// # let client = server.client(Protocol::Json2)?;
        /// use std::sync::{Arc, Mutex};
        ///
        /// let seen = Arc::new(Mutex::new(Vec::new()));
        /// let log = seen.clone();
        /// let progress = move |done: usize, total: usize| log.lock().unwrap().push((done, total));
        #[doc = $setup]
        #[doc = concat!("let batch = ", $op, ";")]
        #[doc = concat!("let outcomes = batch.batch_size(2).on_progress(progress).send().await", $q, ";")]
        /// assert!(outcomes.iter().all(|o| o.is_ok()));
        /// assert_eq!(*seen.lock().unwrap(), [(2, 5), (4, 5), (5, 5)]);
        /// # Ok(()) }
        /// ```
        pub fn on_progress(
            mut self,
            progress: impl Fn(usize, usize) + Send + Sync + 'static,
        ) -> Self {
            self.options.progress = Some(Arc::new(progress));
            self
        }
    };
}

/// Whether a failed call says something about its records (so that halving
/// the batch finds the bad ones), rather than about the connection (where
/// the outcome is unknown and nothing may be resent).
fn blames_records(err: &Error) -> bool {
    matches!(
        err.kind(),
        ErrorKind::Invalid
            | ErrorKind::UserError
            | ErrorKind::InvalidRequest
            | ErrorKind::MissingRecord
            | ErrorKind::Forbidden
    )
}

/// Batched `create`. Created by
/// [`ModelClient::create_batch`](crate::ModelClient::create_batch).
///
/// Records are sent `batch_size` at a time, with up to `in_flight` calls at
/// once. Odoo creates all records of a call or none, so when a call fails
/// because of a record (a validation error, say) the batch is halved until
/// the bad records are isolated: every other record is still created, and
/// each bad one gets its own error. When a call fails for a reason that says
/// nothing about its records (a dropped connection), its records get that
/// error and are not resent: the server may have committed them.
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// let rows = (0..1000).map(|i| serde_json::json!({"name": format!("Lead {i}")}));
/// let outcomes = client
///     .model("crm.lead")
///     .create_batch(rows)
///     .batch_size(200)
///     .in_flight(4)
///     .on_progress(|done, total| eprintln!("{done}/{total}"))
///     .send()
///     .await;
/// let created = outcomes.iter().filter(|o| o.is_ok()).count();
/// assert_eq!(created, 1000);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct CreateBatch {
    client: Client,
    model: String,
    values: Vec<Result<Value>>,
    options: BatchOptions,
}

impl CreateBatch {
    pub(crate) fn new(client: Client, model: String, values: Vec<Result<Value>>) -> Self {
        CreateBatch {
            client,
            model,
            values,
            options: BatchOptions::default(),
        }
    }

    batch_setters!(
        setup: "let rows = (1..=5).map(|i| serde_json::json!({\"name\": format!(\"P{i}\")}));",
        op: "client.model(\"res.partner\").create_batch(rows)",
        q: "",
        method: "create"
    );

    /// Retry calls that fail for a transient reason. Off by default: a
    /// create whose reply was lost may have been committed, and a retry
    /// would duplicate it. Use it only when duplicates are harmless or
    /// prevented server-side.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::test_server::Fault;
    ///
    /// server.inject(Fault::Status(503), 1);
    /// let tags = ["Gold", "Silver"].map(|name| serde_json::json!({"name": name}));
    /// let outcomes = client.model("res.partner.category").create_batch(tags).allow_retry().send().await;
    /// assert!(outcomes.iter().all(Result::is_ok)); // the 503 was retried
    /// # Ok(()) }
    /// ```
    pub fn allow_retry(mut self) -> Self {
        self.options.allow_retry = true;
        self
    }

    /// Sends the batches; one outcome per record, in input order: the new
    /// id, or the error that concerns that record.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = [serde_json::json!({"name": "Gold"}), serde_json::json!({"name": "Silver"})];
    /// let ids = client.model("res.partner.category").create_batch(rows).send().await;
    /// let names: Vec<_> = server
    ///     .records("res.partner.category")?
    ///     .into_iter()
    ///     .map(|r| r["name"].clone())
    ///     .collect();
    /// assert!(ids.iter().all(Result::is_ok));
    /// assert_eq!(names[names.len() - 2..], ["Gold", "Silver"]);
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Vec<Result<i64>> {
        let total = self.values.len();
        let mut outcomes: Vec<Option<Result<i64>>> = (0..total).map(|_| None).collect();
        let mut pending = Vec::new();
        for (index, value) in self.values.into_iter().enumerate() {
            match value {
                Ok(v) => pending.push((index, v)),
                Err(e) => outcomes[index] = Some(Err(e)),
            }
        }
        let client = &self.client;
        let model = &self.model;
        let options = &self.options;
        let chunks: Vec<Vec<(usize, Value)>> = chunked(pending, options.batch_size);
        let mut done = total - chunks.iter().map(Vec::len).sum::<usize>();
        let mut results = futures::stream::iter(chunks)
            .map(|chunk| create_isolating(client, model, chunk, options.allow_retry))
            .buffer_unordered(options.in_flight);
        while let Some(chunk_outcomes) = results.next().await {
            done += chunk_outcomes.len();
            for (index, outcome) in chunk_outcomes {
                outcomes[index] = Some(outcome);
            }
            if let Some(progress) = &options.progress {
                progress(done, total);
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(Error::config("record was not sent"))))
            .collect()
    }
}

fn chunked<T>(items: Vec<T>, size: usize) -> Vec<Vec<T>> {
    let mut chunks = Vec::with_capacity(items.len().div_ceil(size.max(1)));
    let mut current = Vec::with_capacity(size);
    for item in items {
        current.push(item);
        if current.len() == size {
            chunks.push(std::mem::replace(&mut current, Vec::with_capacity(size)));
        }
    }
    if !current.is_empty() {
        chunks.push(current);
    }
    chunks
}

/// Creates a chunk; on an error that blames records, halves it until the
/// bad records are alone.
async fn create_isolating(
    client: &Client,
    model: &str,
    chunk: Vec<(usize, Value)>,
    allow_retry: bool,
) -> Vec<(usize, Result<i64>)> {
    let mut out = Vec::with_capacity(chunk.len());
    let mut stack = vec![chunk];
    while let Some(part) = stack.pop() {
        let values: Vec<Value> = part.iter().map(|(_, v)| v.clone()).collect();
        let mut call = Call::new(model.to_owned(), "create".to_owned())
            .named("vals_list", Value::Array(values));
        call.retry_safe = allow_retry;
        match client.execute::<Vec<i64>>(call).await {
            Ok(ids) if ids.len() == part.len() => {
                out.extend(part.iter().map(|(i, _)| *i).zip(ids.into_iter().map(Ok)));
            }
            Ok(ids) => {
                let err = Error::decode(
                    model,
                    "create",
                    ".",
                    format!("{} ids for {} records", ids.len(), part.len()),
                );
                out.extend(part.iter().map(|(i, _)| (*i, Err(err.clone()))));
            }
            Err(err) if part.len() > 1 && blames_records(&err) => {
                let mut part = part;
                let right = part.split_off(part.len() / 2);
                stack.push(right);
                stack.push(part);
            }
            Err(err) => {
                let mut part = part.into_iter();
                if let Some((first, _)) = part.next() {
                    out.extend(part.map(|(i, _)| (i, Err(err.clone()))));
                    out.push((first, Err(err)));
                }
            }
        }
    }
    out
}

/// Batched `write` of different values to different records. Created by
/// [`ModelClient::write_batch`](crate::ModelClient::write_batch).
///
/// Records that get identical values share one call (`write(ids, vals)`),
/// so setting the same stage on 500 tasks is one request. Calls that fail
/// because of a record are halved until the bad record is alone.
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use serde_json::json;
/// let updates = vec![
///     (1, json!({"allocated_hours": 40.0})),
///     (2, json!({"allocated_hours": 40.0})),
///     (3, json!({"allocated_hours": 16.0})),
/// ];
/// let outcomes = client.model("project.task").write_batch(updates).send().await;
/// assert!(outcomes.iter().all(Result::is_ok));
/// let writes = server.calls().iter().filter(|c| c.method == "write").count();
/// assert_eq!(writes, 2); // tasks 1 and 2 share a call
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct WriteBatch {
    client: Client,
    model: String,
    updates: Vec<(i64, Result<Value>)>,
    options: BatchOptions,
}

impl WriteBatch {
    pub(crate) fn new(client: Client, model: String, updates: Vec<(i64, Result<Value>)>) -> Self {
        WriteBatch {
            client,
            model,
            updates,
            options: BatchOptions::default(),
        }
    }

    batch_setters!(
        setup: "let updates = (1..=5).map(|id| (id, serde_json::json!({\"city\": \"Ghent\"})));",
        op: "client.model(\"res.partner\").write_batch(updates)",
        q: "",
        method: "write"
    );

    /// Retry calls that fail for a transient reason (writing the same values
    /// twice leaves the same record).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::test_server::Fault;
    ///
    /// server.inject(Fault::Status(503), 1);
    /// let outcomes = client
    ///     .model("res.partner")
    ///     .write_batch([(4, serde_json::json!({"city": "Ghent"}))])
    ///     .allow_retry()
    ///     .send()
    ///     .await;
    /// assert!(outcomes[0].is_ok()); // the 503 was retried
    /// # Ok(()) }
    /// ```
    pub fn allow_retry(mut self) -> Self {
        self.options.allow_retry = true;
        self
    }

    /// Sends the writes; one outcome per update, in input order.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let outcomes = client
    ///     .model("res.partner")
    ///     .write_batch([(4, serde_json::json!({"city": "Ghent"})), (999, serde_json::json!({"city": "Ghent"}))])
    ///     .send()
    ///     .await;
    /// assert!(outcomes[0].is_ok());
    /// assert!(outcomes[1].is_err()); // no record 999: only that update fails
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Vec<Result<()>> {
        let total = self.updates.len();
        let mut outcomes: Vec<Option<Result<()>>> = (0..total).map(|_| None).collect();
        // Group identical values (by their canonical JSON text).
        let mut groups: BTreeMap<String, (Value, Vec<(usize, i64)>)> = BTreeMap::new();
        for (index, (id, values)) in self.updates.into_iter().enumerate() {
            match values {
                Ok(v) => {
                    let key = v.to_string();
                    groups
                        .entry(key)
                        .or_insert_with(|| (v, Vec::new()))
                        .1
                        .push((index, id));
                }
                Err(e) => outcomes[index] = Some(Err(e)),
            }
        }
        let mut jobs = Vec::new();
        for (_, (values, members)) in groups {
            for chunk in chunked(members, self.options.batch_size) {
                jobs.push((values.clone(), chunk));
            }
        }
        let client = &self.client;
        let model = &self.model;
        let allow_retry = self.options.allow_retry;
        let mut done = total - jobs.iter().map(|(_, c)| c.len()).sum::<usize>();
        let mut results = futures::stream::iter(jobs)
            .map(|(values, chunk)| write_isolating(client, model, values, chunk, allow_retry))
            .buffer_unordered(self.options.in_flight);
        while let Some(chunk_outcomes) = results.next().await {
            done += chunk_outcomes.len();
            for (index, outcome) in chunk_outcomes {
                outcomes[index] = Some(outcome);
            }
            if let Some(progress) = &self.options.progress {
                progress(done, total);
            }
        }
        outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(Error::config("record was not sent"))))
            .collect()
    }
}

async fn write_isolating(
    client: &Client,
    model: &str,
    values: Value,
    chunk: Vec<(usize, i64)>,
    allow_retry: bool,
) -> Vec<(usize, Result<()>)> {
    let mut out = Vec::with_capacity(chunk.len());
    let mut stack = vec![chunk];
    while let Some(part) = stack.pop() {
        let ids: Vec<i64> = part.iter().map(|(_, id)| *id).collect();
        let mut call = Call::new(model.to_owned(), "write".to_owned())
            .with_ids(ids)
            .named("vals", values.clone());
        call.retry_safe = allow_retry;
        match client.execute::<Value>(call).await {
            Ok(_) => out.extend(part.iter().map(|(i, _)| (*i, Ok(())))),
            Err(err) if part.len() > 1 && blames_records(&err) => {
                let mut part = part;
                let right = part.split_off(part.len() / 2);
                stack.push(right);
                stack.push(part);
            }
            Err(err) => {
                let mut part = part.into_iter();
                if let Some((first, _)) = part.next() {
                    out.extend(part.map(|(i, _)| (i, Err(err.clone()))));
                    out.push((first, Err(err)));
                }
            }
        }
    }
    out
}

/// What an upsert did to a record.
///
/// # Example
///
/// ```
/// use odoo_integration_client::Upserted;
///
/// let u = Upserted::Created(42);
/// assert_eq!(u.id(), 42);
/// assert!(u.is_created());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Upserted {
    /// No record had the key: created, with this id.
    Created(i64),
    /// The record with the key was written.
    Updated(i64),
    /// The record with the key already had these values: nothing written.
    Unchanged(i64),
}

impl Upserted {
    /// The record id.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Upserted;
    ///
    /// assert_eq!(Upserted::Updated(7).id(), 7);
    /// assert_eq!(Upserted::Unchanged(9).id(), 9);
    /// ```
    pub fn id(&self) -> i64 {
        match self {
            Upserted::Created(id) | Upserted::Updated(id) | Upserted::Unchanged(id) => *id,
        }
    }
    /// `true` when the record was created.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::Upserted;
    ///
    /// assert!(Upserted::Created(7).is_created());
    /// assert!(!Upserted::Updated(7).is_created());
    /// ```
    pub fn is_created(&self) -> bool {
        matches!(self, Upserted::Created(_))
    }
}

/// An external id `module.name`, as stored in `ir.model.data`.
///
/// # Example
///
/// ```
/// use odoo_integration_client::ExternalId;
///
/// let x: ExternalId = "sync_crm.account_0017".parse()?;
/// assert_eq!((x.module(), x.name()), ("sync_crm", "account_0017"));
/// assert!("no_dot".parse::<ExternalId>().is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExternalId {
    module: String,
    name: String,
}

impl ExternalId {
    /// An external id from its module and name.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when the module is empty or contains a dot,
    /// or the name is empty.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ExternalId;
    ///
    /// let x = ExternalId::new("sync_crm", "account_42")?;
    /// assert_eq!(x.to_string(), "sync_crm.account_42");
    /// assert!(ExternalId::new("bad.module", "x").is_err());
    /// assert!(ExternalId::new("sync_crm", "").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(module: impl Into<String>, name: impl Into<String>) -> Result<Self> {
        let (module, name) = (module.into(), name.into());
        if module.is_empty() || module.contains('.') || name.is_empty() {
            return Err(Error::config(format!(
                "invalid external id `{module}.{name}`: expected `module.name`"
            )));
        }
        Ok(ExternalId { module, name })
    }
    /// The module part.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ExternalId;
    ///
    /// assert_eq!("base.main_company".parse::<ExternalId>()?.module(), "base");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn module(&self) -> &str {
        &self.module
    }
    /// The name part.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::ExternalId;
    ///
    /// // The name may hold dots; the module may not.
    /// assert_eq!("sync.acct.7".parse::<ExternalId>()?.name(), "acct.7");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl std::str::FromStr for ExternalId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let (module, name) = s.split_once('.').ok_or_else(|| {
            Error::config(format!("invalid external id `{s}`: expected `module.name`"))
        })?;
        ExternalId::new(module, name)
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.module, self.name)
    }
}

/// Upsert by external id: for each `(module.name, values)`, write the record
/// the external id points to, or create it and register the external id in
/// `ir.model.data`. Running the same upsert twice leaves one record per
/// external id. Records whose stored values already equal the new ones are
/// not written. Created by
/// [`ModelClient::upsert_by_external_id`](crate::ModelClient::upsert_by_external_id).
///
/// **Exactly once under lost replies.** New records are created with Odoo's
/// `load`, which creates each record, its one2many lines (given as
/// `[0, 0, {..}]` commands, after an optional `[5]`) and its external id in
/// one transaction: if the reply is lost, the record exists *with* its
/// external id, and the next upsert finds it and writes instead of
/// creating. Records without lines are retried here on transient failures
/// (a second `load` updates what the first created); a `load` with lines
/// is not (on an existing record `load` appends lines), and fails with the
/// transport error: send the upsert again, and it writes the lines as a
/// whole. Records are loaded in groups that give the same fields (a field
/// `load` gets empty is set empty, not given its default), and a record
/// whose lines do not all give the same fields is loaded without them,
/// its lines written after (replacing any, so a second try changes
/// nothing), so a line that leaves out its price is priced by Odoo.
/// Values `load` cannot express (x2many commands other than lines and
/// links, nested lines, an empty line) are created with `create`, then
/// registered: that path is not exactly-once when the reply to the
/// `create` is lost, and is logged at debug level.
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use odoo_integration_client::{ExternalId, Upserted};
/// use serde_json::json;
/// let rows = vec![
///     ("sync_crm.acct_1".parse::<ExternalId>()?, json!({"name": "Northwind", "is_company": true})),
///     ("sync_crm.acct_2".parse::<ExternalId>()?, json!({"name": "Contoso", "is_company": true})),
/// ];
/// let outcomes = client.model("res.partner").upsert_by_external_id(rows.clone()).send().await?;
/// assert!(outcomes.iter().all(|o| o.as_ref().is_ok_and(|u| u.is_created())));
/// // Again: the same records, found by their external ids, already up to date.
/// let again = client.model("res.partner").upsert_by_external_id(rows).send().await?;
/// assert!(again.iter().all(|o| matches!(o, Ok(Upserted::Unchanged(_)))));
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct UpsertByExternalId {
    client: Client,
    model: String,
    rows: Vec<(ExternalId, Result<Value>)>,
    options: BatchOptions,
}

impl UpsertByExternalId {
    pub(crate) fn new(
        client: Client,
        model: String,
        rows: Vec<(ExternalId, Result<Value>)>,
    ) -> Self {
        UpsertByExternalId {
            client,
            model,
            rows,
            options: BatchOptions::default(),
        }
    }

    batch_setters!(
        setup: "let rows = (1..=5).map(|i| {\n\
                \x20   let id = ExternalId::new(\"sync\", format!(\"p{i}\")).expect(\"a valid external id\");\n\
                \x20   (id, serde_json::json!({\"name\": format!(\"P{i}\")}))\n\
                });",
        op: "client.model(\"res.partner\").upsert_by_external_id(rows)",
        q: "?",
        method: "load"
    );

    /// Sends the upserts, `batch_size` records per round of calls (an
    /// external-id lookup, a read of the current values, the writes and one
    /// `load`), with up to `in_flight` rounds at once. The inner results
    /// are per record, in input order.
    ///
    /// # Errors
    ///
    /// A call that concerns no single record failed (the external-id
    /// lookup, `fields_get`, a `load` whose reply was lost). Records of
    /// other rounds may have been written: the upsert is idempotent, so
    /// send it again.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::ExternalId;
    ///
    /// let acme = ExternalId::new("crm_sync", "acme")?;
    /// let rows = vec![(acme.clone(), serde_json::json!({"name": "Acme", "is_company": true}))];
    /// let created = client.model("res.partner").upsert_by_external_id(rows).send().await?;
    /// let renamed = vec![(acme, serde_json::json!({"name": "Acme Inc", "is_company": true}))];
    /// let updated = client.model("res.partner").upsert_by_external_id(renamed).send().await?;
    /// assert!(created[0].as_ref().is_ok_and(|u| u.is_created()));
    /// assert!(updated[0].as_ref().is_ok_and(|u| !u.is_created()));
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Vec<Result<Upserted>>> {
        let total = self.rows.len();
        let client = &self.client;
        let model = self.model.as_str();
        let mut outcomes: Vec<Option<Result<Upserted>>> = (0..total).map(|_| None).collect();
        let chunks = chunked(
            self.rows.into_iter().enumerate().collect(),
            self.options.batch_size,
        );
        let mut rounds = futures::stream::iter(chunks)
            .map(
                |chunk: Vec<(usize, (ExternalId, Result<Value>))>| async move {
                    let (indexes, rows): (Vec<usize>, Vec<_>) = chunk.into_iter().unzip();
                    upsert_chunk(client, model, rows)
                        .await
                        .map(|results| indexes.into_iter().zip(results).collect::<Vec<_>>())
                },
            )
            .buffer_unordered(self.options.in_flight);
        let mut done = 0;
        while let Some(round) = rounds.next().await {
            let round = round?;
            done += round.len();
            for (index, outcome) in round {
                outcomes[index] = Some(outcome);
            }
            if let Some(progress) = &self.options.progress {
                progress(done, total);
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.unwrap_or_else(|| Err(Error::config("record was not sent"))))
            .collect())
    }
}

/// One round of an upsert by external id.
async fn upsert_chunk(
    client: &Client,
    model: &str,
    rows: Vec<(ExternalId, Result<Value>)>,
) -> Result<Vec<Result<Upserted>>> {
    // 1. Which external ids exist already (one search per module).
    let mut by_module: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (x, _) in &rows {
        by_module.entry(x.module()).or_default().push(x.name());
    }
    let mut existing: HashMap<ExternalId, (i64, i64)> = HashMap::new();
    for (module, names) in by_module {
        let domain = Domain::field("module").eq(module)
            & Domain::field("model").eq(model)
            & Domain::field("name").is_in(names.iter().copied());
        let rows: Vec<Record> = client
            .model("ir.model.data")
            .search_read(domain)
            .fields(["name", "res_id"])
            .send()
            .await?;
        for row in rows {
            let (Some(name), Some(res_id), Some(data_id)) = (
                row.get("name").and_then(Value::as_str),
                row.get("res_id").and_then(Value::as_i64),
                row.get("id").and_then(Value::as_i64),
            ) else {
                continue;
            };
            existing.insert(ExternalId::new(module, name)?, (res_id, data_id));
        }
    }
    // 2. Current values of the existing records, to skip unchanged ones.
    let mut fields: Vec<String> = Vec::new();
    for (_, values) in &rows {
        if let Ok(Value::Object(map)) = values {
            for key in map.keys() {
                if !fields.contains(key) {
                    fields.push(key.clone());
                }
            }
        }
    }
    let ids: Vec<i64> = existing.values().map(|(res_id, _)| *res_id).collect();
    let current: HashMap<i64, Record> = if ids.is_empty() {
        HashMap::new()
    } else {
        client
            .model(model.to_owned())
            .read(ids)
            .fields(fields)
            .send()
            .await?
            .into_iter()
            .filter_map(|row| row.get("id").and_then(Value::as_i64).map(|id| (id, row)))
            .collect()
    };
    // 3. Write what changed, create what is missing (or whose record
    //    was deleted), register the new external ids.
    let mut outcomes: Vec<Option<Result<Upserted>>> = (0..rows.len()).map(|_| None).collect();
    let mut to_create: Vec<(usize, ExternalId, Value, Option<i64>)> = Vec::new();
    let mut to_write: Vec<(usize, i64, Value)> = Vec::new();
    for (index, (xid, values)) in rows.into_iter().enumerate() {
        let values = match values {
            Ok(v) => v,
            Err(e) => {
                outcomes[index] = Some(Err(e));
                continue;
            }
        };
        match existing.get(&xid) {
            Some((res_id, _)) if current.contains_key(res_id) => {
                let stored = &current[res_id];
                if same_values(stored, &values) {
                    outcomes[index] = Some(Ok(Upserted::Unchanged(*res_id)));
                } else {
                    to_write.push((index, *res_id, values));
                }
            }
            // The external id points to a record deleted meanwhile.
            Some((_, data_id)) => to_create.push((index, xid, values, Some(*data_id))),
            None => to_create.push((index, xid, values, None)),
        }
    }
    let writes = WriteBatch::new(
        client.clone(),
        model.to_owned(),
        to_write
            .iter()
            .map(|(_, id, v)| (*id, Ok(v.clone())))
            .collect(),
    )
    .allow_retry()
    .send()
    .await;
    for ((index, id, _), outcome) in to_write.iter().zip(writes) {
        outcomes[*index] = Some(outcome.map(|()| Upserted::Updated(*id)));
    }
    // Creates go through `load`: Odoo creates each record, its lines
    // and its external id in one transaction, so a lost reply never
    // leaves a record without its external id (which a rerun would
    // create again). Rows `load` cannot express (x2many commands other
    // than creating lines or setting links, nested lines, lines
    // without a value) take the two-step path, create then register,
    // which is not exactly-once when the reply to the create is lost.
    let schema = if to_create.is_empty() {
        Schema::default()
    } else {
        Schema::fetch(client, model, to_create.iter().map(|c| &c.2)).await?
    };
    let mut legacy = Vec::new();
    let mut loadable = Vec::new();
    let mut then_lines = Vec::new();
    for (index, xid, values, stale) in to_create {
        match load_plan(&values, model, &schema) {
            LoadPlan::Whole(rows) => loadable.push((index, xid, rows)),
            LoadPlan::HeaderThenLines(rows, lines) => {
                loadable.push((index, xid, rows));
                then_lines.push((index, lines));
            }
            LoadPlan::Neither => {
                tracing::debug!(
                    model = %model,
                    external_id = %xid,
                    "values load cannot express: create, then register the external id"
                );
                legacy.push((index, xid, values, stale))
            }
        }
    }
    for (index, outcome) in load_rows(client, model, loadable).await? {
        outcomes[index] = Some(outcome);
    }
    // Lines `load` cannot give as they are (some leave out what others
    // give, which `load` would set empty instead of leaving to Odoo) are
    // written once the record and its external id exist, replacing any
    // lines, so sending them again after a lost reply changes nothing.
    for (index, lines) in then_lines {
        let Some(Ok(Upserted::Created(id))) = outcomes[index] else {
            continue;
        };
        let written = client
            .model(model.to_owned())
            .write([id], &Value::Object(lines))
            .allow_retry()
            .send()
            .await;
        if let Err(e) = written {
            outcomes[index] = Some(Err(e));
        }
    }
    let created = CreateBatch::new(
        client.clone(),
        model.to_owned(),
        legacy.iter().map(|(_, _, v, _)| Ok(v.clone())).collect(),
    )
    .send()
    .await;
    let mut registrations = Vec::new();
    let mut repoints = Vec::new();
    for ((index, xid, _, stale), outcome) in legacy.into_iter().zip(created) {
        match outcome {
            Ok(id) => {
                match stale {
                    Some(data_id) => {
                        repoints.push((data_id, json_obj([("res_id", Value::from(id))])))
                    }
                    None => registrations.push(json_obj([
                        ("module", Value::from(xid.module())),
                        ("name", Value::from(xid.name())),
                        ("model", Value::from(model)),
                        ("res_id", Value::from(id)),
                        ("noupdate", Value::Bool(true)),
                    ])),
                }
                outcomes[index] = Some(Ok(Upserted::Created(id)));
            }
            Err(e) => outcomes[index] = Some(Err(e)),
        }
    }
    if !registrations.is_empty() {
        client
            .model("ir.model.data")
            .create_many(registrations)
            .allow_retry()
            .send()
            .await?;
    }
    for (data_id, values) in repoints {
        client
            .model("ir.model.data")
            .write([data_id], &values)
            .allow_retry()
            .send()
            .await?;
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Err(Error::config("record was not sent"))))
        .collect())
}

/// The types of the fields `load` needs: the model's, and those of the
/// models its one2many lines are in.
#[derive(Debug, Default)]
struct Schema {
    /// model → field → (type, related model).
    models: HashMap<String, HashMap<String, (String, Option<String>)>>,
}

impl Schema {
    /// `fields_get` of `model`, and of each one2many's model that `rows`
    /// give lines for.
    async fn fetch(
        client: &Client,
        model: &str,
        rows: impl Iterator<Item = &Value>,
    ) -> Result<Self> {
        let mut schema = Schema::default();
        schema.add(client, model).await?;
        let mut children = Vec::new();
        for row in rows {
            let Value::Object(map) = row else { continue };
            for (field, value) in map {
                if let Some((kind, Some(relation))) = schema.field(model, field)
                    && kind == "one2many"
                    && value.as_array().is_some_and(|a| !a.is_empty())
                    && !children.contains(relation)
                {
                    children.push(relation.clone());
                }
            }
        }
        for child in children {
            schema.add(client, &child).await?;
        }
        Ok(schema)
    }

    async fn add(&mut self, client: &Client, model: &str) -> Result<()> {
        let fields = client
            .model(model)
            .fields_get()
            .attributes(["type", "relation"])
            .send()
            .await?;
        self.models.insert(
            model.to_owned(),
            fields
                .into_iter()
                .map(|(name, info)| (name, (info.field_type, info.relation)))
                .collect(),
        );
        Ok(())
    }

    fn field(&self, model: &str, field: &str) -> Option<&(String, Option<String>)> {
        self.models.get(model)?.get(field)
    }
}

/// How a new record is created with its external id.
enum LoadPlan {
    /// `load` creates the record with its lines.
    Whole(Vec<BTreeMap<String, String>>),
    /// `load` creates the record; its lines (the one2many values) are
    /// written after.
    HeaderThenLines(
        Vec<BTreeMap<String, String>>,
        serde_json::Map<String, Value>,
    ),
    /// `load` cannot express a value.
    Neither,
}

/// How to create `values` (see [`LoadPlan`]): whole when every line of a
/// one2many field gives the same fields (a cell `load` gets empty is set
/// empty, not left to Odoo's default or computation), else the record
/// first and its lines after.
fn load_plan(values: &Value, model: &str, schema: &Schema) -> LoadPlan {
    if let Some(rows) = load_rows_of(values, model, schema) {
        return LoadPlan::Whole(rows);
    }
    let Value::Object(map) = values else {
        return LoadPlan::Neither;
    };
    let is_lines = |field: &str| {
        schema
            .field(model, field)
            .is_some_and(|(kind, _)| kind == "one2many")
    };
    let (lines, header): (
        serde_json::Map<String, Value>,
        serde_json::Map<String, Value>,
    ) = map.clone().into_iter().partition(|(f, _)| is_lines(f));
    if lines.is_empty() || lines.values().any(|v| line_values(v).is_none()) {
        return LoadPlan::Neither;
    }
    let lines = lines
        .into_iter()
        .map(|(field, value)| {
            let mut commands = vec![serde_json::json!([5, 0, 0])];
            commands.extend(
                line_values(&value)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|v| serde_json::json!([0, 0, v])),
            );
            (field, Value::Array(commands))
        })
        .collect();
    match load_rows_of(&Value::Object(header), model, schema) {
        Some(rows) => LoadPlan::HeaderThenLines(rows, lines),
        None => LoadPlan::Neither,
    }
}

/// One record as `load` rows: its own cells, then one row per line of its
/// one2many fields (`order_line/name`, ...), which Odoo reads as the
/// record's lines because they carry nothing else. `None` when a value has
/// no import form, or when the lines of a field do not all give the same
/// fields.
fn load_rows_of(
    values: &Value,
    model: &str,
    schema: &Schema,
) -> Option<Vec<BTreeMap<String, String>>> {
    let Value::Object(map) = values else {
        return None;
    };
    let mut main = BTreeMap::new();
    let mut lines = Vec::new();
    for (field, value) in map {
        let (kind, relation) = schema.field(model, field)?;
        if kind == "one2many" {
            let child = relation.as_deref()?;
            let mut columns: Option<Vec<String>> = None;
            for line in line_values(value)? {
                let cells = load_cells(line, child, schema)?;
                // A line without a value would read as a new record.
                if cells.values().all(String::is_empty) {
                    return None;
                }
                let these: Vec<String> = cells.keys().cloned().collect();
                if columns.get_or_insert_with(|| these.clone()) != &these {
                    return None;
                }
                lines.push(
                    cells
                        .into_iter()
                        .map(|(c, v)| (format!("{field}/{c}"), v))
                        .collect(),
                );
            }
            continue;
        }
        let (column, cell) = load_cell(field, kind, value)?;
        main.insert(column, cell);
    }
    let mut rows = vec![main];
    rows.extend(lines);
    Some(rows)
}

/// The values of the lines a one2many value creates: `[0, 0, {..}]`
/// commands, after any `[5]` (nothing to clear on a new record). `None`
/// for any other command.
fn line_values(value: &Value) -> Option<Vec<&Value>> {
    match value {
        Value::Null | Value::Bool(false) => Some(Vec::new()),
        Value::Array(commands) => commands
            .iter()
            .filter(|c| c.get(0).and_then(Value::as_i64) != Some(5))
            .map(|c| match c.as_array().map(Vec::as_slice) {
                Some([code, _, values]) if code.as_i64() == Some(0) && values.is_object() => {
                    Some(values)
                }
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// The `load` columns and cells of a record without lines, or `None` when
/// a value has no import form.
fn load_cells(values: &Value, model: &str, schema: &Schema) -> Option<BTreeMap<String, String>> {
    let Value::Object(map) = values else {
        return None;
    };
    let mut cells = BTreeMap::new();
    for (field, value) in map {
        let (kind, _) = schema.field(model, field)?;
        let (column, cell) = load_cell(field, kind, value)?;
        cells.insert(column, cell);
    }
    Some(cells)
}

/// One field's column and cell.
fn load_cell(field: &str, kind: &str, value: &Value) -> Option<(String, String)> {
    Some(match (kind, value) {
        ("one2many" | "many2one_reference", _) => return None,
        ("boolean", Value::Bool(b)) => (field.to_owned(), if *b { "1" } else { "0" }.to_owned()),
        ("boolean", Value::Null) => (field.to_owned(), "0".to_owned()),
        (_, Value::Null | Value::Bool(false)) => (field.to_owned(), String::new()),
        ("many2one", Value::Number(n)) => (format!("{field}/.id"), n.as_i64()?.to_string()),
        ("many2many", value) => (format!("{field}/.id"), many2many_ids(value)?),
        (_, Value::String(s)) => (field.to_owned(), s.clone()),
        (_, Value::Number(n)) => (field.to_owned(), n.to_string()),
        _ => return None,
    })
}

/// The ids a many2many value on a new record links, comma-separated: a
/// plain id list, `[6, 0, ids]` or `[4, id]` commands.
fn many2many_ids(value: &Value) -> Option<String> {
    let Value::Array(items) = value else {
        return None;
    };
    let mut ids = Vec::new();
    for item in items {
        match item {
            Value::Number(n) => ids.push(n.as_i64()?),
            Value::Array(c) => match c.as_slice() {
                [code, _, Value::Array(set)] if code.as_i64() == Some(6) => {
                    ids.clear();
                    for id in set {
                        ids.push(id.as_i64()?);
                    }
                }
                [code, id, ..] if code.as_i64() == Some(4) => ids.push(id.as_i64()?),
                [code, ..] if code.as_i64() == Some(5) => ids.clear(),
                _ => return None,
            },
            _ => return None,
        }
    }
    Some(ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
}

/// A record for `load`: input index, external id, rows (its own, then its
/// lines).
type LoadRecord = (usize, ExternalId, Vec<BTreeMap<String, String>>);

/// Creates records with their external ids through `load`. When Odoo
/// rejects the call (any record invalid, nothing written), each record is
/// loaded alone so the valid ones land and each invalid one gets its own
/// error.
async fn load_rows(
    client: &Client,
    model: &str,
    rows: Vec<LoadRecord>,
) -> Result<Vec<(usize, Result<Upserted>)>> {
    // One call per set of columns: a record sent with a column it does
    // not give would get that field set empty, not its default.
    let mut groups: BTreeMap<Vec<String>, Vec<LoadRecord>> = BTreeMap::new();
    for record in rows {
        let mut columns: Vec<String> = record.2.iter().flat_map(|r| r.keys().cloned()).collect();
        columns.sort();
        columns.dedup();
        groups.entry(columns).or_default().push(record);
    }
    let mut out = Vec::new();
    for (_, group) in groups {
        out.extend(load_group(client, model, group).await?);
    }
    Ok(out)
}

/// [`load_rows`] for records that give the same columns.
async fn load_group(
    client: &Client,
    model: &str,
    rows: Vec<LoadRecord>,
) -> Result<Vec<(usize, Result<Upserted>)>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    match load_call(client, model, &rows).await? {
        Ok(ids) if ids.len() == rows.len() => {
            for ((index, _, _), id) in rows.iter().zip(ids) {
                out.push((*index, Ok(Upserted::Created(id))));
            }
        }
        Ok(_) | Err(_) if rows.len() > 1 => {
            for row in rows {
                let index = row.0;
                let one = std::slice::from_ref(&row);
                out.push((
                    index,
                    match load_call(client, model, one).await? {
                        Ok(ids) => ids
                            .first()
                            .map(|id| Upserted::Created(*id))
                            .ok_or_else(|| Error::config("load returned no id")),
                        Err(e) => Err(e),
                    },
                ));
            }
        }
        Ok(_) => out.push((rows[0].0, Err(Error::config("load returned no id")))),
        Err(e) => out.push((rows[0].0, Err(e))),
    }
    Ok(out)
}

/// One `load` call: the ids, or the rows' error messages as a validation
/// error. The outer error is the call itself failing.
///
/// Datetimes are sent in UTC, so the call says `tz: UTC` (`load` reads
/// datetimes in the context's time zone, else the user's). Records
/// without lines are safe to send again after a lost reply: the external
/// ids make the second call an update. Lines are not: on a record that
/// exists, `load` appends them again. So a call with lines is not retried
/// here; the caller's next upsert finds the external id and writes the
/// lines as a whole instead.
async fn load_call(client: &Client, model: &str, rows: &[LoadRecord]) -> Result<Result<Vec<i64>>> {
    let mut columns: Vec<&str> = vec!["id"];
    for (_, _, record) in rows {
        for cells in record {
            for c in cells.keys() {
                if !columns.contains(&c.as_str()) {
                    columns.push(c);
                }
            }
        }
    }
    let mut data = Vec::new();
    let mut has_lines = false;
    for (_, xid, record) in rows {
        for (n, cells) in record.iter().enumerate() {
            has_lines |= n > 0;
            data.push(Value::Array(
                columns
                    .iter()
                    .map(|c| match *c {
                        "id" if n == 0 => Value::from(xid.to_string()),
                        c => Value::from(cells.get(c).cloned().unwrap_or_default()),
                    })
                    .collect(),
            ));
        }
    }
    let mut call = Call::new(model.to_owned(), "load".to_owned())
        .named("fields", Value::from(columns))
        .named("data", Value::Array(data));
    call.retry_safe = !has_lines;
    call.context = Some(crate::context::Context::new().tz("UTC"));
    let reply: Value = client.execute(call).await?;
    match reply.get("ids") {
        Some(Value::Array(ids)) => Ok(Ok(ids.iter().filter_map(Value::as_i64).collect())),
        _ => {
            let messages: Vec<&str> = reply
                .get("messages")
                .and_then(Value::as_array)
                .map(|m| {
                    m.iter()
                        .filter_map(|m| m.get("message").and_then(Value::as_str))
                        .collect()
                })
                .unwrap_or_default();
            let message = if messages.is_empty() {
                "load refused the rows".to_owned()
            } else {
                messages.join("; ")
            };
            Ok(Err(Error::server(crate::error::ServerError {
                kind: ErrorKind::Invalid,
                name: "odoo.exceptions.ValidationError".to_owned(),
                message,
                arguments: Vec::new(),
                debug: None,
                http_status: None,
                code: None,
                model: Some(model.to_owned()),
                method: Some("load".to_owned()),
                endpoint: None,
            })))
        }
    }
}

fn json_obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

/// `true` when every value to write equals what is stored (a many2one
/// stored as `[id, name]` equals the id; x2many commands always count as a
/// change).
fn same_values(stored: &Record, new: &Value) -> bool {
    let Value::Object(new) = new else {
        return false;
    };
    new.iter()
        .all(|(key, value)| match (stored.get(key), value) {
            (Some(Value::Array(pair)), Value::Number(id)) if pair.len() == 2 => {
                pair.first().and_then(Value::as_i64) == id.as_i64()
            }
            (Some(Value::Bool(false)), Value::Null) => true,
            (Some(Value::Number(a)), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (Some(stored), value) => stored == value,
            (None, _) => false,
        })
}

/// Upsert by a natural key (a field whose value identifies the record, such
/// as `ref` or `vat`): write the one record that has the key, or create one.
/// Two records with the key are reported as ambiguous, never guessed.
/// Created by [`ModelClient::upsert_by_key`](crate::ModelClient::upsert_by_key).
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use odoo_integration_client::Upserted;
/// use serde_json::json;
/// let outcome = client
///     .model("res.partner")
///     .upsert_by_key("ref", &json!({"ref": "ACME", "name": "Acme Corp."}))
///     .send()
///     .await?;
/// assert!(matches!(outcome, Upserted::Updated(_))); // one partner had the ref
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct UpsertByKey {
    client: Client,
    model: String,
    key: String,
    values: Result<Value>,
}

impl UpsertByKey {
    pub(crate) fn new(client: Client, model: String, key: String, values: Result<Value>) -> Self {
        UpsertByKey {
            client,
            model,
            key,
            values,
        }
    }

    /// Sends the upsert.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when
    /// the values lack the key field;
    /// [`ErrorKind::AmbiguousMatch`](crate::ErrorKind::AmbiguousMatch)
    /// naming the ids ([`Error::ambiguous_ids`]) when several records have
    /// the key; any error of the calls.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::{ErrorKind, Upserted};
    ///
    /// let partners = client.model("res.partner");
    /// let outcome = partners
    ///     .upsert_by_key(
    ///         "ref",
    ///         &serde_json::json!({"ref": "GEM", "name": "Gemini Furniture"}),
    ///     )
    ///     .send()
    ///     .await?;
    /// assert_eq!(outcome, Upserted::Unchanged(3));
    /// let err = partners
    ///     .upsert_by_key("ref", &serde_json::json!({"name": "No key"}))
    ///     .send()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Configuration);
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Upserted> {
        let values = self.values?;
        let key_value = values
            .get(&self.key)
            .filter(|v| !v.is_null() && **v != Value::Bool(false))
            .cloned()
            .ok_or_else(|| {
                Error::config(format!("the values have no `{}` to match on", self.key))
            })?;
        let model = self.client.model(self.model.clone());
        let domain = Domain::leaf(&self.key, crate::domain::Operator::Eq, key_value.clone())?;
        let fields: Vec<String> = values
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        let matches = model
            .search_read(domain)
            .fields(fields)
            .limit(2)
            .send()
            .await?;
        match matches.as_slice() {
            [] => model.create(&values).send().await.map(Upserted::Created),
            [one] => {
                let id = one.get("id").and_then(Value::as_i64).unwrap_or_default();
                if same_values(one, &values) {
                    return Ok(Upserted::Unchanged(id));
                }
                model.write([id], &values).allow_retry().send().await?;
                Ok(Upserted::Updated(id))
            }
            several => Err(Error::ambiguous(
                self.model.clone(),
                self.key.clone(),
                several
                    .iter()
                    .filter_map(|r| r.get("id").and_then(Value::as_i64))
                    .collect(),
            )),
        }
    }
}

/// Turns serialisable values into JSON objects, keeping errors per record.
pub(crate) fn objects<V: Serialize>(values: impl IntoIterator<Item = V>) -> Vec<Result<Value>> {
    values
        .into_iter()
        .map(|v| crate::model::to_object(&v))
        .collect()
}
