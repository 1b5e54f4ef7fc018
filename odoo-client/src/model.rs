//! Model access: the [`Model`] trait for typed access, [`ModelClient`] for
//! any model by name, and one owned builder per operation, each ending in
//! `.send().await`.

use std::fmt;
use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::bulk::{CreateBatch, ExternalId, UpsertByExternalId, UpsertByKey, WriteBatch, objects};
use crate::client::{Client, Protocol};
use crate::context::Context;
use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::protocol::Call;
use crate::stream::{ChangeCursor, Changes, Keyset};
use crate::value::Record;

/// A Rust type that maps an Odoo model: its name and the fields to read.
///
#[cfg_attr(
    feature = "derive",
    doc = r#"Derive it (feature `derive`, on by default), and `FIELDS` is the
struct's fields under the names serde reads, so none can be forgotten;
see [`derive@crate::Model`] for the rules:

```
use odoo_integration_client::Model;

#[derive(serde::Deserialize, Model)]
#[odoo(model = "res.partner")]
struct Partner {
    id: i64,
    name: String,
    #[serde(rename = "country_id")]
    country: serde_json::Value,
}
assert_eq!(Partner::FIELDS, ["name", "country_id"]);
```
"#
)]
///
/// You can also implement it by hand for your own `Deserialize` struct in
/// two lines, keeping `FIELDS` in step with the struct (a field left out
/// is not sent, and an `Option` reads it as `None`); either way
/// [`Client::typed`] reads rows straight into it.
///
/// # Example
///
/// ```
/// use odoo_integration_client::Model;
/// use odoo_integration_client::value::{Many2One, falsy};
///
/// #[derive(Debug, serde::Deserialize)]
/// struct Partner {
///     id: i64,
///     name: String,
///     #[serde(with = "falsy")]
///     email: Option<String>,
///     #[serde(with = "falsy")]
///     country_id: Option<Many2One>,
/// }
///
/// impl Model for Partner {
///     const NAME: &'static str = "res.partner";
///     const FIELDS: &'static [&'static str] = &["name", "email", "country_id"];
/// }
/// ```
pub trait Model: DeserializeOwned + Send + 'static {
    /// The technical model name, e.g. `res.partner`.
    const NAME: &'static str;
    /// The fields read by default (`id` always comes back).
    const FIELDS: &'static [&'static str];
}

/// Untyped access to one model by name. Created by [`Client::model`].
///
/// # Example
///
/// ```no_run
/// use odoo_integration_client::Domain;
///
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// let partners = client.model("res.partner");
/// let id = partners.create(&serde_json::json!({"name": "Acme"})).send().await?;
/// partners.write([id], &serde_json::json!({"email": "info@acme.example"})).send().await?;
/// let rows = partners.read([id]).fields(["name", "email"]).send().await?;
/// assert_eq!(rows[0]["email"], "info@acme.example");
/// partners.unlink([id]).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ModelClient {
    client: Client,
    name: String,
}

impl ModelClient {
    pub(crate) fn new(client: Client, name: String) -> Self {
        ModelClient { client, name }
    }

    /// The model name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn call(&self, method: &str) -> Call {
        Call::new(self.name.clone(), method.to_owned())
    }

    fn read_call(&self, method: &str) -> Call {
        self.call(method).read_only()
    }

    /// Ids of the records matching `domain`.
    pub fn search(&self, domain: impl Into<Domain>) -> Search {
        Search {
            client: self.client.clone(),
            call: self
                .read_call("search")
                .named("domain", domain.into().to_json()),
        }
    }

    /// Rows of the records matching `domain`, as [`Record`]s.
    pub fn search_read(&self, domain: impl Into<Domain>) -> SearchRead<Record> {
        SearchRead::new(
            self.client.clone(),
            self.read_call("search_read"),
            domain.into(),
            None,
        )
    }

    /// Rows of the records with these ids, as [`Record`]s. Ids that no
    /// longer exist are left out (that is what Odoo does).
    pub fn read(&self, ids: impl IntoIterator<Item = i64>) -> Read<Record> {
        Read::new(self.client.clone(), self.read_call("read"), ids, None)
    }

    /// The number of records matching `domain`.
    pub fn search_count(&self, domain: impl Into<Domain>) -> SearchCount {
        SearchCount {
            client: self.client.clone(),
            call: self
                .read_call("search_count")
                .named("domain", domain.into().to_json()),
        }
    }

    /// Creates one record; returns its id.
    pub fn create<V: Serialize + ?Sized>(&self, values: &V) -> Create {
        let values = to_object(values).map(|v| vec![v]);
        Create {
            client: self.client.clone(),
            call: self.call("create"),
            values,
        }
    }

    /// Creates several records in one call; returns their ids in order.
    pub fn create_many<V: Serialize>(&self, values: impl IntoIterator<Item = V>) -> CreateMany {
        let values = values.into_iter().map(|v| to_object(&v)).collect();
        CreateMany {
            inner: Create {
                client: self.client.clone(),
                call: self.call("create"),
                values,
            },
        }
    }

    /// Writes the same values to every record in `ids`.
    pub fn write<V: Serialize + ?Sized>(
        &self,
        ids: impl IntoIterator<Item = i64>,
        values: &V,
    ) -> Write {
        Write {
            client: self.client.clone(),
            call: self.call("write").with_ids(ids.into_iter().collect()),
            values: to_object(values),
        }
    }

    /// Deletes the records in `ids`.
    pub fn unlink(&self, ids: impl IntoIterator<Item = i64>) -> Unlink {
        Unlink {
            client: self.client.clone(),
            call: self.call("unlink").with_ids(ids.into_iter().collect()),
        }
    }

    /// The model's fields and their attributes.
    pub fn fields_get(&self) -> FieldsGet {
        FieldsGet {
            client: self.client.clone(),
            call: self.read_call("fields_get"),
        }
    }

    /// Records whose display name matches `name`, as `(id, display name)`.
    pub fn name_search(&self, name: impl Into<String>) -> NameSearch {
        NameSearch {
            client: self.client.clone(),
            model: self.name.clone(),
            name: name.into(),
            domain: Domain::all(),
            operator: "ilike".to_owned(),
            limit: 100,
            context: None,
        }
    }

    /// Creates many records in batches, with an outcome per record (see
    /// [`CreateBatch`]).
    pub fn create_batch<V: Serialize>(&self, values: impl IntoIterator<Item = V>) -> CreateBatch {
        CreateBatch::new(self.client.clone(), self.name.clone(), objects(values))
    }

    /// Writes different values to different records in batches; records
    /// with identical values share a call (see [`WriteBatch`]).
    pub fn write_batch<V: Serialize>(
        &self,
        updates: impl IntoIterator<Item = (i64, V)>,
    ) -> WriteBatch {
        let updates = updates
            .into_iter()
            .map(|(id, v)| (id, to_object(&v)))
            .collect();
        WriteBatch::new(self.client.clone(), self.name.clone(), updates)
    }

    /// Creates or updates records by external id (`module.name` in
    /// `ir.model.data`); see [`UpsertByExternalId`].
    pub fn upsert_by_external_id<V: Serialize>(
        &self,
        rows: impl IntoIterator<Item = (ExternalId, V)>,
    ) -> UpsertByExternalId {
        let rows = rows.into_iter().map(|(x, v)| (x, to_object(&v))).collect();
        UpsertByExternalId::new(self.client.clone(), self.name.clone(), rows)
    }

    /// Creates or updates the one record whose `key` field has the value in
    /// `values`; see [`UpsertByKey`].
    pub fn upsert_by_key<V: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        values: &V,
    ) -> UpsertByKey {
        UpsertByKey::new(
            self.client.clone(),
            self.name.clone(),
            key.into(),
            to_object(values),
        )
    }

    /// Every record matching `domain`, paged by id (see [`Keyset`]).
    pub fn keyset(&self, domain: impl Into<Domain>) -> Keyset<Record> {
        Keyset::new(self.client.clone(), self.name.clone(), domain.into(), None)
    }

    /// The records matching `domain` written since `cursor`, archived ones
    /// included, oldest first (see [`Changes`]).
    pub fn changes_since(
        &self,
        cursor: ChangeCursor,
        domain: impl Into<Domain>,
    ) -> Changes<Record> {
        Changes::new(
            self.client.clone(),
            self.name.clone(),
            cursor,
            domain.into(),
        )
    }

    /// Grouped totals of the records matching `domain`: one call on every
    /// Odoo version (`formatted_read_group` on 19+, `read_group` before).
    pub fn read_group(&self, domain: impl Into<Domain>) -> ReadGroup {
        ReadGroup {
            client: self.client.clone(),
            model: self.name.clone(),
            domain: domain.into(),
            groupby: Vec::new(),
            aggregates: Vec::new(),
            order: None,
            limit: None,
            offset: None,
            context: None,
        }
    }
}

/// Typed access to the model `M` maps. Created by [`Client::typed`].
///
/// # Example
///
/// ```no_run
/// use odoo_integration_client::{Domain, Model};
///
/// #[derive(serde::Deserialize)]
/// struct Lead { id: i64, name: String }
/// impl Model for Lead {
///     const NAME: &'static str = "crm.lead";
///     const FIELDS: &'static [&'static str] = &["name"];
/// }
///
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// let leads = client.typed::<Lead>();
/// let open: Vec<Lead> = leads.search_read(Domain::field("active").eq(true)).limit(20).send().await?;
/// # Ok(()) }
/// ```
pub struct TypedModel<M> {
    inner: ModelClient,
    _model: PhantomData<fn() -> M>,
}

impl<M> Clone for TypedModel<M> {
    fn clone(&self) -> Self {
        TypedModel {
            inner: self.inner.clone(),
            _model: PhantomData,
        }
    }
}

impl<M> fmt::Debug for TypedModel<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TypedModel")
            .field("model", &self.inner.name)
            .finish()
    }
}

impl<M: Model> TypedModel<M> {
    pub(crate) fn new(client: Client) -> Self {
        TypedModel {
            inner: ModelClient::new(client, M::NAME.to_owned()),
            _model: PhantomData,
        }
    }

    /// The untyped handle of the same model, for every other operation.
    pub fn untyped(&self) -> &ModelClient {
        &self.inner
    }

    /// Rows matching `domain`, decoded into `M` (fields: `M::FIELDS`).
    pub fn search_read(&self, domain: impl Into<Domain>) -> SearchRead<M> {
        SearchRead::new(
            self.inner.client.clone(),
            self.inner.read_call("search_read"),
            domain.into(),
            Some(fields_of::<M>()),
        )
    }

    /// Rows with these ids, decoded into `M` (fields: `M::FIELDS`).
    pub fn read(&self, ids: impl IntoIterator<Item = i64>) -> Read<M> {
        Read::new(
            self.inner.client.clone(),
            self.inner.read_call("read"),
            ids,
            Some(fields_of::<M>()),
        )
    }

    /// Every record matching `domain`, decoded into `M`, paged by id.
    pub fn keyset(&self, domain: impl Into<Domain>) -> Keyset<M> {
        Keyset::new(
            self.inner.client.clone(),
            self.inner.name.clone(),
            domain.into(),
            Some(fields_of::<M>()),
        )
    }

    /// The records matching `domain` written since `cursor`, decoded into
    /// `M`, oldest first.
    pub fn changes_since(&self, cursor: ChangeCursor, domain: impl Into<Domain>) -> Changes<M> {
        Changes::new(
            self.inner.client.clone(),
            self.inner.name.clone(),
            cursor,
            domain.into(),
        )
        .fields(M::FIELDS.iter().copied())
    }

    /// Ids of the records matching `domain`.
    pub fn search(&self, domain: impl Into<Domain>) -> Search {
        self.inner.search(domain)
    }

    /// The number of records matching `domain`.
    pub fn search_count(&self, domain: impl Into<Domain>) -> SearchCount {
        self.inner.search_count(domain)
    }

    /// Creates one record from any serialisable value.
    pub fn create<V: Serialize + ?Sized>(&self, values: &V) -> Create {
        self.inner.create(values)
    }

    /// Writes values to the records in `ids`.
    pub fn write<V: Serialize + ?Sized>(
        &self,
        ids: impl IntoIterator<Item = i64>,
        values: &V,
    ) -> Write {
        self.inner.write(ids, values)
    }

    /// Deletes the records in `ids`.
    pub fn unlink(&self, ids: impl IntoIterator<Item = i64>) -> Unlink {
        self.inner.unlink(ids)
    }

    /// Creates many records in batches, with an outcome per record (see
    /// [`CreateBatch`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::Model;
    /// # #[derive(serde::Deserialize)] struct Partner { id: i64 }
    /// # impl Model for Partner { const NAME: &'static str = "res.partner"; const FIELDS: &'static [&'static str] = &[]; }
    /// # async fn run(client: odoo_integration_client::Client) {
    /// let names = ["Alpha", "Beta"].map(|n| serde_json::json!({"name": n}));
    /// let ids = client.typed::<Partner>().create_batch(names).batch_size(100).send().await;
    /// # let _ = ids; }
    /// ```
    pub fn create_batch<V: Serialize>(&self, values: impl IntoIterator<Item = V>) -> CreateBatch {
        self.inner.create_batch(values)
    }

    /// Writes different values to different records in batches (see
    /// [`WriteBatch`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::Model;
    /// # #[derive(serde::Deserialize)] struct Task { id: i64 }
    /// # impl Model for Task { const NAME: &'static str = "project.task"; const FIELDS: &'static [&'static str] = &[]; }
    /// # async fn run(client: odoo_integration_client::Client) {
    /// let done = client
    ///     .typed::<Task>()
    ///     .write_batch([(7, serde_json::json!({"stage_id": 3}))])
    ///     .send()
    ///     .await;
    /// # let _ = done; }
    /// ```
    pub fn write_batch<V: Serialize>(
        &self,
        updates: impl IntoIterator<Item = (i64, V)>,
    ) -> WriteBatch {
        self.inner.write_batch(updates)
    }

    /// Creates or updates records by external id, exactly once even when a
    /// reply is lost (see [`UpsertByExternalId`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{ExternalId, Model};
    /// # #[derive(serde::Deserialize)] struct Partner { id: i64 }
    /// # impl Model for Partner { const NAME: &'static str = "res.partner"; const FIELDS: &'static [&'static str] = &[]; }
    /// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
    /// let rows = vec![("sync_crm.acct_1".parse::<ExternalId>()?, serde_json::json!({"name": "Northwind"}))];
    /// let outcomes = client.typed::<Partner>().upsert_by_external_id(rows).in_flight(2).send().await?;
    /// # let _ = outcomes; Ok(()) }
    /// ```
    pub fn upsert_by_external_id<V: Serialize>(
        &self,
        rows: impl IntoIterator<Item = (ExternalId, V)>,
    ) -> UpsertByExternalId {
        self.inner.upsert_by_external_id(rows)
    }

    /// Creates or updates the one record whose `key` field has the value in
    /// `values` (see [`UpsertByKey`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::Model;
    /// # #[derive(serde::Deserialize)] struct Partner { id: i64 }
    /// # impl Model for Partner { const NAME: &'static str = "res.partner"; const FIELDS: &'static [&'static str] = &[]; }
    /// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
    /// let outcome = client
    ///     .typed::<Partner>()
    ///     .upsert_by_key("ref", &serde_json::json!({"ref": "NW-001", "name": "Northwind"}))
    ///     .send()
    ///     .await?;
    /// # let _ = outcome; Ok(()) }
    /// ```
    pub fn upsert_by_key<V: Serialize + ?Sized>(
        &self,
        key: impl Into<String>,
        values: &V,
    ) -> UpsertByKey {
        self.inner.upsert_by_key(key, values)
    }
}

fn fields_of<M: Model>() -> Vec<String> {
    M::FIELDS.iter().map(|f| (*f).to_owned()).collect()
}

pub(crate) fn to_object<V: Serialize + ?Sized>(values: &V) -> Result<Value> {
    match serde_json::to_value(values) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(other) => Err(Error::config(format!(
            "record values must serialise to a JSON object, not {}",
            json_type(&other)
        ))),
        Err(e) => Err(Error::config(format!(
            "cannot serialise record values: {e}"
        ))),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

macro_rules! context_setter {
    () => {
        /// Context for this call, merged over the client's default context.
        pub fn context(mut self, context: Context) -> Self {
            self.call.context = Some(context);
            self
        }
    };
}

/// `search`: ids matching a domain. Created by [`ModelClient::search`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// use odoo_integration_client::Domain;
/// let ids = client.model("res.partner").search(Domain::field("is_company").eq(true))
///     .order("name").limit(5).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct Search {
    client: Client,
    call: Call,
}

impl Search {
    /// Skip this many records. Prefer keyset paging for large sets.
    pub fn offset(mut self, offset: u64) -> Self {
        self.call = self.call.kwarg("offset", offset.into());
        self
    }
    /// Return at most this many ids.
    pub fn limit(mut self, limit: u64) -> Self {
        self.call = self.call.kwarg("limit", limit.into());
        self
    }
    /// Sort order, e.g. `"name asc, id desc"`.
    pub fn order(mut self, order: impl Into<String>) -> Self {
        self.call = self.call.kwarg("order", order.into().into());
        self
    }
    context_setter!();

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`]; an invalid field in the domain is
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest).
    pub async fn send(self) -> Result<Vec<i64>> {
        self.client.execute(self.call).await
    }
}

/// `search_read`: rows matching a domain. Created by
/// [`ModelClient::search_read`] or [`TypedModel::search_read`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// use odoo_integration_client::Domain;
/// let rows = client.model("res.partner")
///     .search_read(Domain::field("customer_rank").gt(0))
///     .fields(["name", "email"])
///     .order("id")
///     .limit(50)
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct SearchRead<R> {
    client: Client,
    call: Call,
    domain: Domain,
    fields: Option<Vec<String>>,
    _row: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for SearchRead<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchRead")
            .field("call", &self.call)
            .field("domain", &self.domain)
            .field("fields", &self.fields)
            .finish()
    }
}

impl<R: DeserializeOwned> SearchRead<R> {
    fn new(client: Client, call: Call, domain: Domain, fields: Option<Vec<String>>) -> Self {
        SearchRead {
            client,
            call,
            domain,
            fields,
            _row: PhantomData,
        }
    }

    /// The fields to read (default: all for untyped rows, `M::FIELDS` for
    /// typed ones). `id` always comes back.
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }
    /// Skip this many records. Prefer keyset paging for large sets.
    pub fn offset(mut self, offset: u64) -> Self {
        self.call = self.call.kwarg("offset", offset.into());
        self
    }
    /// Return at most this many rows.
    pub fn limit(mut self, limit: u64) -> Self {
        self.call = self.call.kwarg("limit", limit.into());
        self
    }
    /// Sort order, e.g. `"write_date asc, id asc"`.
    pub fn order(mut self, order: impl Into<String>) -> Self {
        self.call = self.call.kwarg("order", order.into().into());
        self
    }
    context_setter!();

    /// Decode rows into another type.
    pub fn into_typed<T: DeserializeOwned>(self) -> SearchRead<T> {
        SearchRead {
            client: self.client,
            call: self.call,
            domain: self.domain,
            fields: self.fields,
            _row: PhantomData,
        }
    }

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`]; a row that does not fit `R` is [`Error::Decode`] with
    /// the path of the value (`[17].date_invoice`).
    pub async fn send(self) -> Result<Vec<R>> {
        let mut call = self.call.named("domain", self.domain.to_json());
        if let Some(fields) = self.fields {
            call = call.kwarg("fields", fields.into());
        }
        self.client.execute(call).await
    }
}

/// `read`: rows of given ids. Created by [`ModelClient::read`] or
/// [`TypedModel::read`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// let rows = client.model("res.partner").read([1, 3]).fields(["name"]).send().await?;
/// # Ok(()) }
/// ```
#[must_use]
pub struct Read<R> {
    client: Client,
    call: Call,
    fields: Option<Vec<String>>,
    _row: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for Read<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Read")
            .field("call", &self.call)
            .field("fields", &self.fields)
            .finish()
    }
}

impl<R: DeserializeOwned> Read<R> {
    fn new(
        client: Client,
        call: Call,
        ids: impl IntoIterator<Item = i64>,
        fields: Option<Vec<String>>,
    ) -> Self {
        Read {
            client,
            call: call.with_ids(ids.into_iter().collect()),
            fields,
            _row: PhantomData,
        }
    }

    /// The fields to read.
    pub fn fields<I, S>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.fields = Some(fields.into_iter().map(Into::into).collect());
        self
    }
    context_setter!();

    /// Decode rows into another type.
    pub fn into_typed<T: DeserializeOwned>(self) -> Read<T> {
        Read {
            client: self.client,
            call: self.call,
            fields: self.fields,
            _row: PhantomData,
        }
    }

    /// Sends the call. Ids that no longer exist are absent from the result.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn send(self) -> Result<Vec<R>> {
        let mut call = self.call;
        if let Some(fields) = self.fields {
            call = call.kwarg("fields", fields.into());
        }
        self.client.execute(call).await
    }
}

/// `search_count`. Created by [`ModelClient::search_count`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// let n = client.model("res.partner").search_count(odoo_integration_client::Domain::all()).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct SearchCount {
    client: Client,
    call: Call,
}

impl SearchCount {
    context_setter!();

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn send(self) -> Result<u64> {
        self.client.execute(self.call).await
    }
}

/// `create` of one record. Created by [`ModelClient::create`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// use odoo_integration_client::value::Command;
/// let id = client.model("res.partner").create(&serde_json::json!({
///     "name": "Acme",
///     "category_id": [Command::set([1, 2])],
/// })).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct Create {
    client: Client,
    call: Call,
    values: Result<Vec<Value>>,
}

impl Create {
    context_setter!();

    /// Allow retries of this call after a transient failure. Only for calls
    /// whose repetition is harmless: by default writes are never retried,
    /// because a dropped connection may hide a commit.
    pub fn allow_retry(mut self) -> Self {
        self.call.retry_safe = true;
        self
    }

    async fn send_all(self) -> Result<Vec<i64>> {
        let values = self.values?;
        // A list of values returns a list of ids on every protocol and
        // version (JSON-2 takes `vals_list` only).
        let call = self.call.named("vals_list", Value::Array(values));
        self.client.execute(call).await
    }

    /// Sends the call; returns the new id.
    ///
    /// # Errors
    ///
    /// See [`Error`]; a missing required field is
    /// [`ErrorKind::Validation`](crate::ErrorKind::Validation).
    pub async fn send(self) -> Result<i64> {
        if self.client.protocol().await? == Protocol::Json2 {
            let (model, method) = (self.call.model.clone(), self.call.method.clone());
            let ids = self.send_all().await?;
            return ids.first().copied().ok_or_else(|| Error::Decode {
                model,
                method,
                path: ".".to_owned(),
                message: "the server returned no id".to_owned(),
            });
        }
        // JSON-RPC and XML-RPC: one dict in, one id out (as Odoo's own
        // clients do).
        let mut values = self.values?;
        let vals = values.pop().unwrap_or_else(|| Value::Object(Map::new()));
        let call = self.call.named("vals_list", vals);
        self.client.execute(call).await
    }
}

/// `create` of several records in one call. Created by
/// [`ModelClient::create_many`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// let ids = client.model("res.partner")
///     .create_many([serde_json::json!({"name": "A"}), serde_json::json!({"name": "B"})])
///     .send().await?;
/// assert_eq!(ids.len(), 2);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct CreateMany {
    inner: Create,
}

impl CreateMany {
    /// Allow retries after a transient failure (see [`Create::allow_retry`]).
    pub fn allow_retry(mut self) -> Self {
        self.inner = self.inner.allow_retry();
        self
    }

    /// Context for this call, merged over the client's default context.
    pub fn context(mut self, context: Context) -> Self {
        self.inner = self.inner.context(context);
        self
    }

    /// Sends the call; returns the new ids in the order of the values.
    ///
    /// # Errors
    ///
    /// See [`Error`]. One invalid record fails the whole call (nothing is
    /// created).
    pub async fn send(self) -> Result<Vec<i64>> {
        self.inner.send_all().await
    }
}

/// `write`. Created by [`ModelClient::write`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// client.model("res.partner").write([7], &serde_json::json!({"phone": "+32 2 555 01 01"})).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct Write {
    client: Client,
    call: Call,
    values: Result<Value>,
}

impl Write {
    context_setter!();

    /// Allow retries of this call after a transient failure. Only for calls
    /// whose repetition is harmless: by default writes are never retried,
    /// because a dropped connection may hide a commit.
    pub fn allow_retry(mut self) -> Self {
        self.call.retry_safe = true;
        self
    }

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`]; a deleted record is
    /// [`ErrorKind::MissingRecord`](crate::ErrorKind::MissingRecord).
    pub async fn send(self) -> Result<()> {
        let call = self.call.named("vals", self.values?);
        let _: Value = self.client.execute(call).await?;
        Ok(())
    }
}

/// `unlink`. Created by [`ModelClient::unlink`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// client.model("res.partner").unlink([7, 8]).send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct Unlink {
    client: Client,
    call: Call,
}

impl Unlink {
    context_setter!();

    /// Allow retries of this call after a transient failure. Only for calls
    /// whose repetition is harmless: by default writes are never retried,
    /// because a dropped connection may hide a commit.
    pub fn allow_retry(mut self) -> Self {
        self.call.retry_safe = true;
        self
    }

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn send(self) -> Result<()> {
        let _: Value = self.client.execute(self.call).await?;
        Ok(())
    }
}

/// One field as `fields_get` describes it.
///
/// # Example
///
/// ```
/// let info: odoo_integration_client::FieldInfo = serde_json::from_value(serde_json::json!({
///     "type": "many2one", "string": "Country", "relation": "res.country",
///     "required": false, "readonly": false
/// }))?;
/// assert_eq!(info.relation.as_deref(), Some("res.country"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
#[non_exhaustive]
pub struct FieldInfo {
    /// The field type (`char`, `many2one`, `monetary`, ...).
    #[serde(rename = "type")]
    pub field_type: String,
    /// The label.
    #[serde(default)]
    pub string: String,
    /// Whether the field is required.
    #[serde(default)]
    pub required: bool,
    /// Whether the field is read-only.
    #[serde(default)]
    pub readonly: bool,
    /// The related model of relational fields.
    #[serde(default, with = "crate::value::falsy")]
    pub relation: Option<String>,
    /// Whether the field is stored.
    #[serde(default)]
    pub store: Option<bool>,
    /// Every other attribute (`selection`, `help`, `digits`, ...).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// `fields_get`. Created by [`ModelClient::fields_get`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// let fields = client.model("res.partner").fields_get()
///     .attributes(["string", "type", "required", "relation"]).send().await?;
/// println!("country is a {}", fields["country_id"].field_type);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct FieldsGet {
    client: Client,
    call: Call,
}

impl FieldsGet {
    /// Ask only for these attributes (default: all).
    pub fn attributes<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let attrs: Vec<String> = attributes.into_iter().map(Into::into).collect();
        self.call = self.call.kwarg("attributes", attrs.into());
        self
    }
    context_setter!();

    /// Sends the call; fields by name.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn send(self) -> Result<std::collections::BTreeMap<String, FieldInfo>> {
        self.client.execute(self.call).await
    }
}

/// `name_search`. Created by [`ModelClient::name_search`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// for (id, name) in client.model("res.partner").name_search("Gemini").limit(5).send().await? {
///     println!("{id}: {name}");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct NameSearch {
    client: Client,
    model: String,
    name: String,
    domain: Domain,
    operator: String,
    limit: u64,
    context: Option<Context>,
}

impl NameSearch {
    /// Restrict to records matching this domain.
    pub fn domain(mut self, domain: impl Into<Domain>) -> Self {
        self.domain = domain.into();
        self
    }
    /// The comparison operator (default `ilike`).
    pub fn operator(mut self, operator: impl Into<String>) -> Self {
        self.operator = operator.into();
        self
    }
    /// At most this many results (default 100).
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }
    /// Context for this call, merged over the client's default context.
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    pub async fn send(self) -> Result<Vec<(i64, String)>> {
        // The domain parameter is named `args` before Odoo 17 and `domain`
        // after: send it positionally (after `name`) on the legacy
        // protocols, and only when there is one.
        let mut call = Call::new(self.model, "name_search".to_owned()).read_only();
        if self.domain.is_empty() {
            call = call.kwarg("name", self.name.into());
        } else {
            call = call
                .named("name", self.name.into())
                .named("domain", self.domain.to_json());
        }
        if self.operator != "ilike" {
            call = call.kwarg("operator", self.operator.into());
        }
        call = call.kwarg("limit", self.limit.into());
        call.context = self.context;
        self.client.execute(call).await
    }
}

/// One group of a grouped read.
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// use odoo_integration_client::Domain;
/// let groups = client.model("crm.lead").read_group(Domain::all())
///     .group_by(["stage_id"]).aggregate(["expected_revenue:sum"]).send().await?;
/// for g in groups {
///     println!("{}: {} leads, {}", g.keys["stage_id"], g.count, g.aggregates["expected_revenue:sum"]);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Group {
    /// The value of each group-by spec (`"stage_id"` → `[1, "New"]`,
    /// `"date:month"` → `["2026-09-01", "September 2026"]` on 19+).
    pub keys: Record,
    /// Each aggregate by its spec (`"expected_revenue:sum"` → `115475.0`).
    pub aggregates: Record,
    /// The number of records in the group.
    pub count: u64,
    /// The domain that selects the group's records (the query's domain and
    /// the group's condition).
    pub domain: Value,
}

/// A grouped read. Created by [`ModelClient::read_group`].
///
/// # Example
///
/// ```no_run
/// # async fn run(client: odoo_integration_client::Client) -> Result<(), odoo_integration_client::Error> {
/// use odoo_integration_client::Domain;
/// let by_month = client.model("account.analytic.line")
///     .read_group(Domain::field("project_id").is_set())
///     .group_by(["date:month"])
///     .aggregate(["unit_amount:sum"])
///     .send().await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct ReadGroup {
    client: Client,
    model: String,
    domain: Domain,
    groupby: Vec<String>,
    aggregates: Vec<String>,
    order: Option<String>,
    limit: Option<u64>,
    offset: Option<u64>,
    context: Option<Context>,
}

impl ReadGroup {
    /// Group-by specs: a field, or a date field with a granularity
    /// (`date:month`).
    pub fn group_by<I, S>(mut self, specs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groupby.extend(specs.into_iter().map(Into::into));
        self
    }
    /// Aggregate specs `field:function` (`amount:sum`, `id:count_distinct`).
    pub fn aggregate<I, S>(mut self, specs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.aggregates.extend(specs.into_iter().map(Into::into));
        self
    }
    /// Order of the groups.
    pub fn order(mut self, order: impl Into<String>) -> Self {
        self.order = Some(order.into());
        self
    }
    /// At most this many groups.
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Skip this many groups.
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
    /// Context for this call, merged over the client's default context.
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Sends the call (`formatted_read_group` on Odoo 19+, `read_group`
    /// before) and returns the groups in one shape.
    ///
    /// # Errors
    ///
    /// See [`Error`]; an aggregate spec without `:function` is a
    /// configuration error on Odoo before 19.
    pub async fn send(self) -> Result<Vec<Group>> {
        let modern = match self.client.protocol().await? {
            Protocol::Json2 => true,
            _ => self.client.server_version().await?.major() >= 19,
        };
        let groupby: Value = self.groupby.clone().into();
        let mut call = if modern {
            let mut aggregates = self.aggregates.clone();
            aggregates.push("__count".to_owned());
            Call::new(self.model.clone(), "formatted_read_group".to_owned())
                .read_only()
                .named("domain", self.domain.to_json())
                .kwarg("groupby", groupby)
                .kwarg("aggregates", aggregates.into())
        } else {
            let mut fields = Vec::with_capacity(self.aggregates.len());
            for spec in &self.aggregates {
                if !spec.contains(':') {
                    return Err(Error::config(format!(
                        "aggregate `{spec}` needs a function (`{spec}:sum`)"
                    )));
                }
                fields.push(Value::from(spec.as_str()));
            }
            Call::new(self.model.clone(), "read_group".to_owned())
                .read_only()
                .named("domain", self.domain.to_json())
                .named("fields", fields.into())
                .named("groupby", groupby)
                .kwarg("lazy", false.into())
        };
        if let Some(order) = &self.order {
            let key = if modern { "order" } else { "orderby" };
            call = call.kwarg(key, order.as_str().into());
        }
        if let Some(limit) = self.limit {
            call = call.kwarg("limit", limit.into());
        }
        if let Some(offset) = self.offset {
            call = call.kwarg("offset", offset.into());
        }
        call.context = self.context.clone();
        let rows: Vec<Record> = self.client.execute(call).await?;
        rows.into_iter()
            .map(|row| self.normalise(row, modern))
            .collect()
    }

    fn normalise(&self, mut row: Record, modern: bool) -> Result<Group> {
        let mut keys = Map::new();
        for spec in &self.groupby {
            keys.insert(spec.clone(), row.remove(spec).unwrap_or(Value::Bool(false)));
        }
        let mut aggregates = Map::new();
        for spec in &self.aggregates {
            let key = if modern {
                spec.as_str()
            } else {
                spec.split(':').next().unwrap_or(spec)
            };
            aggregates.insert(spec.clone(), row.remove(key).unwrap_or(Value::Null));
        }
        // `__count`, or `<groupby>_count` from a lazy read_group.
        let lazy_count = self.groupby.first().map(|g| format!("{g}_count"));
        let count = row
            .get("__count")
            .or_else(|| lazy_count.as_deref().and_then(|k| row.get(k)))
            .and_then(Value::as_u64)
            .unwrap_or(0);
        let domain = if modern {
            let extra = row
                .remove("__extra_domain")
                .unwrap_or(Value::Array(Vec::new()));
            match Domain::from_json(&extra) {
                Ok(extra) => self.domain.clone().and(extra).to_json(),
                Err(_) => extra,
            }
        } else {
            row.remove("__domain").unwrap_or(Value::Array(Vec::new()))
        };
        Ok(Group {
            keys,
            aggregates,
            count,
            domain,
        })
    }
}
