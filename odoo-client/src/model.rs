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
/// ```
/// use odoo_integration_client::Domain;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = odoo_integration_client::test_server::TestServer::start().await?;
/// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// assert_eq!(client.model("res.partner").name(), "res.partner");
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let ids = client.model("res.partner").search(Domain::field("ref").eq("ACME")).send().await?;
    /// assert_eq!(ids, [2]);
    /// # Ok(()) }
    /// ```
    pub fn search(&self, domain: impl Into<Domain>) -> Search {
        Search {
            client: self.client.clone(),
            call: self
                .read_call("search")
                .named("domain", domain.into().to_json()),
        }
    }

    /// Rows of the records matching `domain`, as [`Record`]s.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = client.model("res.partner").search_read(Domain::field("ref").eq("ACME")).send().await?;
    /// assert_eq!(rows[0]["name"], "Acme Corporation");
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = client.model("res.partner").read([2, 999]).send().await?;
    /// assert_eq!(rows.len(), 1); // 999 does not exist
    /// assert_eq!(rows[0]["email"], "info@acme.example");
    /// # Ok(()) }
    /// ```
    pub fn read(&self, ids: impl IntoIterator<Item = i64>) -> Read<Record> {
        Read::new(self.client.clone(), self.read_call("read"), ids, None)
    }

    /// The number of records matching `domain`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let belgian_companies = Domain::field("is_company")
    ///     .eq(true)
    ///     .and(Domain::field("country_id.code").eq("BE"));
    /// let n = client
    ///     .model("res.partner")
    ///     .search_count(belgian_companies)
    ///     .send()
    ///     .await?;
    /// assert_eq!(n, 4); // Northwind Consulting, Gemini Furniture, Deco Addict, Harbor Logistics
    /// # Ok(()) }
    /// ```
    pub fn search_count(&self, domain: impl Into<Domain>) -> SearchCount {
        SearchCount {
            client: self.client.clone(),
            call: self
                .read_call("search_count")
                .named("domain", domain.into().to_json()),
        }
    }

    /// Creates one record; returns its id.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let id = client.model("res.partner").create(&serde_json::json!({"name": "Contoso"})).send().await?;
    /// assert_eq!(server.records("res.partner")?.last().map(|r| r["id"].clone()), Some(id.into()));
    /// # Ok(()) }
    /// ```
    pub fn create<V: Serialize + ?Sized>(&self, values: &V) -> Create {
        let values = to_object(values).map(|v| vec![v]);
        Create {
            client: self.client.clone(),
            call: self.call("create"),
            values,
        }
    }

    /// Creates several records in one call; returns their ids in order.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let ids = client
    ///     .model("res.partner.category")
    ///     .create_many(["Gold", "Silver"].map(|name| serde_json::json!({"name": name})))
    ///     .send()
    ///     .await?;
    /// assert_eq!(ids.len(), 2);
    /// assert!(ids[0] < ids[1]);
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let partners = client.model("res.partner");
    /// partners.write([4, 5], &serde_json::json!({"city": "Denver"})).send().await?;
    /// let rows = partners.read([4, 5]).fields(["city"]).send().await?;
    /// assert!(rows.iter().all(|r| r["city"] == "Denver"));
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let partners = client.model("res.partner");
    /// let id = partners.create(&serde_json::json!({"name": "Temp"})).send().await?;
    /// partners.unlink([id]).send().await?;
    /// assert_eq!(partners.search_count(Domain::field("id").eq(id)).send().await?, 0);
    /// # Ok(()) }
    /// ```
    pub fn unlink(&self, ids: impl IntoIterator<Item = i64>) -> Unlink {
        Unlink {
            client: self.client.clone(),
            call: self.call("unlink").with_ids(ids.into_iter().collect()),
        }
    }

    /// The model's fields and their attributes.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let fields = client.model("project.task").fields_get().send().await?;
    /// assert_eq!(fields["name"].field_type, "char");
    /// assert_eq!(fields["name"].string, "Title");
    /// assert!(fields["name"].required); // a task cannot be saved without a title
    /// # Ok(()) }
    /// ```
    pub fn fields_get(&self) -> FieldsGet {
        FieldsGet {
            client: self.client.clone(),
            call: self.read_call("fields_get"),
        }
    }

    /// Records whose display name matches `name`, as `(id, display name)`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let found = client.model("res.partner").name_search("acme").send().await?;
    /// // The company, and its people by their display names.
    /// assert_eq!(
    ///     found,
    ///     [
    ///         (2, "Acme Corporation".to_owned()),
    ///         (4, "Acme Corporation, Ada Lind".to_owned()),
    ///         (5, "Acme Corporation, Jon Park".to_owned()),
    ///     ]
    /// );
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = [serde_json::json!({"name": "Lead A"}), serde_json::json!({"type": "lead"})];
    /// let outcomes = client.model("crm.lead").create_batch(rows).send().await;
    /// assert!(outcomes[0].is_ok());
    /// assert!(outcomes[1].is_err()); // `name` is required: only this record fails
    /// # Ok(()) }
    /// ```
    pub fn create_batch<V: Serialize>(&self, values: impl IntoIterator<Item = V>) -> CreateBatch {
        CreateBatch::new(self.client.clone(), self.name.clone(), objects(values))
    }

    /// Writes different values to different records in batches; records
    /// with identical values share a call (see [`WriteBatch`]).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let updates = [
    ///     (1, serde_json::json!({"allocated_hours": 30.0})),
    ///     (3, serde_json::json!({"allocated_hours": 8.0})),
    /// ];
    /// let outcomes = client.model("project.task").write_batch(updates).send().await;
    /// assert!(outcomes.iter().all(Result::is_ok));
    /// # Ok(()) }
    /// ```
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
    /// let rows = [(ExternalId::new("sync_crm", "acct_1")?, serde_json::json!({"name": "Contoso"}))];
    /// let first = client.model("res.partner").upsert_by_external_id(rows.clone()).send().await?;
    /// let second = client.model("res.partner").upsert_by_external_id(rows).send().await?;
    /// assert_eq!(first[0].as_ref().map(|u| u.id()).ok(), second[0].as_ref().map(|u| u.id()).ok());
    /// # Ok(()) }
    /// ```
    pub fn upsert_by_external_id<V: Serialize>(
        &self,
        rows: impl IntoIterator<Item = (ExternalId, V)>,
    ) -> UpsertByExternalId {
        let rows = rows.into_iter().map(|(x, v)| (x, to_object(&v))).collect();
        UpsertByExternalId::new(self.client.clone(), self.name.clone(), rows)
    }

    /// Creates or updates the one record whose `key` field has the value in
    /// `values`; see [`UpsertByKey`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let partners = client.model("res.partner");
    /// let created = partners
    ///     .upsert_by_key("ref", &serde_json::json!({"ref": "CTS", "name": "Contoso"}))
    ///     .send()
    ///     .await?;
    /// let updated = partners
    ///     .upsert_by_key(
    ///         "ref",
    ///         &serde_json::json!({"ref": "CTS", "name": "Contoso Ltd"}),
    ///     )
    ///     .send()
    ///     .await?;
    /// assert!(created.is_created());
    /// assert_eq!(updated.id(), created.id());
    /// # Ok(()) }
    /// ```
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
    /// let partners = client.model("res.partner");
    /// let rows: Vec<_> = partners
    ///     .keyset(Domain::all())
    ///     .page_size(2)
    ///     .into_stream()
    ///     .try_collect()
    ///     .await?;
    /// // Every partner, though each request reads only two.
    /// assert_eq!(rows.len() as u64, partners.search_count(Domain::all()).send().await?);
    /// # Ok(()) }
    /// ```
    pub fn keyset(&self, domain: impl Into<Domain>) -> Keyset<Record> {
        Keyset::new(self.client.clone(), self.name.clone(), domain.into(), None)
    }

    /// The records matching `domain` written since `cursor`, archived ones
    /// included, oldest first (see [`Changes`]).
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
    /// let pages: Vec<_> = client
    ///     .model("crm.lead")
    ///     .changes_since(since, Domain::all())
    ///     .pages()
    ///     .try_collect()
    ///     .await?;
    /// assert_eq!(pages.iter().map(|p| p.records.len()).sum::<usize>(), 2);
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let by_task = client
    ///     .model("account.analytic.line")
    ///     .read_group(Domain::all())
    ///     .group_by(["task_id"])
    ///     .aggregate(["unit_amount:sum"])
    ///     .send()
    ///     .await?;
    /// assert_eq!(by_task.len(), 2);
    /// assert_eq!(by_task.iter().map(|g| g.count).sum::<u64>(), 4);
    /// # Ok(()) }
    /// ```
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
/// ```
/// use odoo_integration_client::{Domain, Model};
///
/// #[derive(serde::Deserialize)]
/// struct Lead { id: i64, name: String }
/// impl Model for Lead {
///     const NAME: &'static str = "crm.lead";
///     const FIELDS: &'static [&'static str] = &["name"];
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = odoo_integration_client::test_server::TestServer::start().await?;
/// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
/// let leads = client.typed::<Lead>();
/// let deals: Vec<Lead> = leads
///     .search_read(Domain::field("type").eq("opportunity"))
///     .limit(20)
///     .send()
///     .await?;
/// assert!(deals.iter().any(|lead| lead.name == "Acme: data platform"));
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let partners = client.typed::<Partner>();
    /// assert_eq!(partners.untyped().name(), "res.partner");
    /// # Ok(()) }
    /// ```
    pub fn untyped(&self) -> &ModelClient {
        &self.inner
    }

    /// Rows matching `domain`, decoded into `M` (fields: `M::FIELDS`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let companies: Vec<Partner> = client
    ///     .typed::<Partner>()
    ///     .search_read(Domain::field("is_company").eq(true))
    ///     .order("name")
    ///     .send()
    ///     .await?;
    /// assert_eq!(companies[0].name, "Acme Corporation");
    /// # Ok(()) }
    /// ```
    pub fn search_read(&self, domain: impl Into<Domain>) -> SearchRead<M> {
        SearchRead::new(
            self.inner.client.clone(),
            self.inner.read_call("search_read"),
            domain.into(),
            Some(fields_of::<M>()),
        )
    }

    /// Rows with these ids, decoded into `M` (fields: `M::FIELDS`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows: Vec<Partner> = client.typed::<Partner>().read([3]).send().await?;
    /// assert_eq!(rows[0].name, "Gemini Furniture");
    /// # Ok(()) }
    /// ```
    pub fn read(&self, ids: impl IntoIterator<Item = i64>) -> Read<M> {
        Read::new(
            self.inner.client.clone(),
            self.inner.read_call("read"),
            ids,
            Some(fields_of::<M>()),
        )
    }

    /// Every record matching `domain`, decoded into `M`, paged by id.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    ///
    /// let people: Vec<Partner> = client
    ///     .typed::<Partner>()
    ///     .keyset(Domain::field("parent_id.name").eq("Acme Corporation"))
    ///     .into_stream()
    ///     .try_collect()
    ///     .await?;
    /// let names: Vec<&str> = people.iter().map(|p| p.name.as_str()).collect();
    /// assert_eq!(names, ["Ada Lind", "Jon Park"]);
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use futures::TryStreamExt;
    /// use odoo_integration_client::ChangeCursor;
    ///
    /// let since = ChangeCursor::new("2026-01-01 00:00:00", 0);
    /// let mut pages = client
    ///     .typed::<Partner>()
    ///     .changes_since(since, Domain::field("ref").eq("ACME"))
    ///     .pages();
    /// let page = pages.try_next().await?.expect("one page");
    /// assert_eq!(page.records[0].name, "Acme Corporation");
    /// assert_eq!(page.cursor.id, 2);
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let ids = client.typed::<Partner>().search(Domain::field("parent_id").eq(2)).send().await?;
    /// assert_eq!(ids, [4, 5]);
    /// # Ok(()) }
    /// ```
    pub fn search(&self, domain: impl Into<Domain>) -> Search {
        self.inner.search(domain)
    }

    /// The number of records matching `domain`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// assert_eq!(
    ///     client
    ///         .typed::<Partner>()
    ///         .search_count(Domain::field("parent_id").eq(2))
    ///         .send()
    ///         .await?,
    ///     2
    /// );
    /// # Ok(()) }
    /// ```
    pub fn search_count(&self, domain: impl Into<Domain>) -> SearchCount {
        self.inner.search_count(domain)
    }

    /// Creates one record from any serialisable value.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let partners = client.typed::<Partner>();
    /// let id = partners.create(&serde_json::json!({"name": "Contoso"})).send().await?;
    /// assert_eq!(partners.read([id]).send().await?[0].name, "Contoso");
    /// # Ok(()) }
    /// ```
    pub fn create<V: Serialize + ?Sized>(&self, values: &V) -> Create {
        self.inner.create(values)
    }

    /// Writes values to the records in `ids`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let partners = client.typed::<Partner>();
    /// partners.write([3], &serde_json::json!({"name": "Gemini Furniture NV"})).send().await?;
    /// assert_eq!(partners.read([3]).send().await?[0].name, "Gemini Furniture NV");
    /// # Ok(()) }
    /// ```
    pub fn write<V: Serialize + ?Sized>(
        &self,
        ids: impl IntoIterator<Item = i64>,
        values: &V,
    ) -> Write {
        self.inner.write(ids, values)
    }

    /// Deletes the records in `ids`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Model, Protocol, test_server::TestServer};
    /// # #[derive(Debug, serde::Deserialize)]
    /// # struct Partner { id: i64, name: String }
    /// # impl Model for Partner {
    /// #     const NAME: &'static str = "res.partner";
    /// #     const FIELDS: &'static [&'static str] = &["name"];
    /// # }
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let partners = client.typed::<Partner>();
    /// let id = partners.create(&serde_json::json!({"name": "Temp"})).send().await?;
    /// partners.unlink([id]).send().await?;
    /// assert!(partners.read([id]).send().await?.is_empty());
    /// # Ok(()) }
    /// ```
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
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = odoo_integration_client::test_server::TestServer::start().await?;
    /// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// let names = ["Alpha", "Beta"].map(|n| serde_json::json!({"name": n}));
    /// let ids = client.typed::<Partner>().create_batch(names).batch_size(100).send().await;
    /// assert!(ids.iter().all(Result::is_ok));
    /// assert_eq!(ids.len(), 2);
    /// # Ok(()) }
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
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = odoo_integration_client::test_server::TestServer::start().await?;
    /// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// let done = client
    ///     .typed::<Task>()
    ///     .write_batch([(1, serde_json::json!({"allocated_hours": 30.0})), (2, serde_json::json!({"allocated_hours": 30.0}))])
    ///     .send()
    ///     .await;
    /// assert!(done.iter().all(Result::is_ok));
    /// assert_eq!(server.records("project.task")?[1]["allocated_hours"], 30.0);
    /// # Ok(()) }
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
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = odoo_integration_client::test_server::TestServer::start().await?;
    /// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// let rows = vec![(
    ///     "sync_crm.acct_1".parse::<ExternalId>()?,
    ///     serde_json::json!({"name": "Northwind"}),
    /// )];
    /// let outcomes = client.typed::<Partner>().upsert_by_external_id(rows).in_flight(2).send().await?;
    /// assert!(outcomes[0].as_ref().is_ok_and(|u| u.is_created()));
    /// # Ok(()) }
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
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = odoo_integration_client::test_server::TestServer::start().await?;
    /// # let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// let outcome = client
    ///     .typed::<Partner>()
    ///     .upsert_by_key("ref", &serde_json::json!({"ref": "NW-001", "name": "Northwind"}))
    ///     .send()
    ///     .await?;
    /// assert!(outcome.is_created()); // no partner had the ref yet
    /// # Ok(()) }
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

/// `context` for a builder, with the builder's own example: the body of a
/// doctest that runs against the test server, with `client`, `server`,
/// `Context` and `Domain` in scope.
macro_rules! context_setter {
    ($example:literal) => {
        /// Context for this call, merged over the client's default context.
        ///
        /// # Example
        ///
        /// ```
        /// # use odoo_integration_client::{Context, Domain, Protocol, test_server::TestServer};
        /// # #[tokio::main(flavor = "current_thread")]
        /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
        /// # let server = TestServer::start().await?;
        /// # let client = server.client(Protocol::Json2)?;
        #[doc = $example]
        /// # Ok(()) }
        /// ```
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
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use odoo_integration_client::Domain;
/// let partners = client.model("res.partner");
/// let ids = partners.search(Domain::field("is_company").eq(true))
///     .order("name").limit(5).send().await?;
/// assert_eq!(ids.len(), 5);
/// let first = partners.read([ids[0]]).fields(["name"]).send().await?;
/// assert_eq!(first[0]["name"], "Acme Corporation"); // the first company by name
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let companies = Domain::field("is_company").eq(true);
    /// let partners = client.model("res.partner");
    /// let all = partners.search(companies.clone()).order("id").send().await?;
    /// let rest = partners.search(companies).order("id").offset(1).send().await?;
    /// assert_eq!(rest, all[1..]); // all but the first
    /// # Ok(()) }
    /// ```
    pub fn offset(mut self, offset: u64) -> Self {
        self.call = self.call.kwarg("offset", offset.into());
        self
    }
    /// Return at most this many ids.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let ids = client.model("res.partner").search(Domain::all()).limit(2).send().await?;
    /// assert_eq!(ids.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn limit(mut self, limit: u64) -> Self {
        self.call = self.call.kwarg("limit", limit.into());
        self
    }
    /// Sort order, e.g. `"name asc, id desc"`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let acme_people = Domain::field("parent_id.name").eq("Acme Corporation");
    /// let ids = client.model("res.partner").search(acme_people).order("name desc").send().await?;
    /// assert_eq!(ids, [5, 4]); // Jon Park, Ada Lind
    /// # Ok(()) }
    /// ```
    pub fn order(mut self, order: impl Into<String>) -> Self {
        self.call = self.call.kwarg("order", order.into().into());
        self
    }
    context_setter!(
        "let old = Domain::field(\"name\").eq(\"Old Client (archived)\");\n\
         let partners = client.model(\"res.partner\");\n\
         assert!(partners.search(old.clone()).send().await?.is_empty()); // archived: not found\n\
         let archived = Context::new().active_test(false);\n\
         let ids = partners.search(old).context(archived).send().await?;\n\
         assert_eq!(ids.len(), 1); // found with the archived records"
    );

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`]; an invalid field in the domain is
    /// [`ErrorKind::InvalidRequest`](crate::ErrorKind::InvalidRequest).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let ids: Vec<i64> = client
    ///     .model("res.partner")
    ///     .search(Domain::field("parent_id").eq(3))
    ///     .send()
    ///     .await?;
    /// assert_eq!(ids, [6]);
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Vec<i64>> {
        self.client.execute(self.call).await
    }
}

/// `search_read`: rows matching a domain. Created by
/// [`ModelClient::search_read`] or [`TypedModel::search_read`].
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use odoo_integration_client::Domain;
/// let rows = client.model("res.partner")
///     .search_read(Domain::field("customer_rank").gt(0))
///     .fields(["name", "email"])
///     .order("id")
///     .limit(3)
///     .send()
///     .await?;
/// assert_eq!(rows.len(), 3);
/// assert_eq!(rows[0]["name"], "Acme Corporation");
/// assert_eq!(rows[0]["email"], "info@acme.example");
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = client
    ///     .model("res.partner")
    ///     .search_read(Domain::field("ref").eq("GEM"))
    ///     .fields(["name"])
    ///     .send()
    ///     .await?;
    /// assert_eq!(rows[0]["name"], "Gemini Furniture");
    /// assert!(!rows[0].contains_key("email"));
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
    /// Skip this many records. Prefer keyset paging for large sets.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = client
    ///     .model("res.partner")
    ///     .search_read(Domain::field("parent_id.name").eq("Acme Corporation"))
    ///     .fields(["name"])
    ///     .order("name")
    ///     .offset(1)
    ///     .send()
    ///     .await?;
    /// assert_eq!(rows.len(), 1);
    /// assert_eq!(rows[0]["name"], "Jon Park"); // Ada Lind skipped
    /// # Ok(()) }
    /// ```
    pub fn offset(mut self, offset: u64) -> Self {
        self.call = self.call.kwarg("offset", offset.into());
        self
    }
    /// Return at most this many rows.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = client.model("res.partner").search_read(Domain::all()).limit(3).send().await?;
    /// assert_eq!(rows.len(), 3);
    /// # Ok(()) }
    /// ```
    pub fn limit(mut self, limit: u64) -> Self {
        self.call = self.call.kwarg("limit", limit.into());
        self
    }
    /// Sort order, e.g. `"write_date asc, id asc"`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = client
    ///     .model("res.partner")
    ///     .search_read(Domain::field("is_company").eq(true))
    ///     .order("name")
    ///     .send()
    ///     .await?;
    /// assert_eq!(rows[0]["name"], "Acme Corporation");
    /// # Ok(()) }
    /// ```
    pub fn order(mut self, order: impl Into<String>) -> Self {
        self.call = self.call.kwarg("order", order.into().into());
        self
    }
    context_setter!(
        "let archived = Context::new().active_test(false);\n\
         let companies = Domain::field(\"is_company\").eq(true);\n\
         let rows = client.model(\"res.partner\").search_read(companies).context(archived).send().await?;\n\
         assert!(rows.iter().any(|r| r[\"name\"] == \"Old Client (archived)\"));"
    );

    /// Decode rows into another type.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// #[derive(serde::Deserialize)]
    /// struct Contact { name: String, email: String }
    ///
    /// let contacts: Vec<Contact> = client
    ///     .model("res.partner")
    ///     .search_read(Domain::field("parent_id").eq(2))
    ///     .fields(["name", "email"])
    ///     .into_typed()
    ///     .send()
    ///     .await?;
    /// assert_eq!(contacts[0].email, "ada@acme.example");
    /// assert_eq!(contacts[1].name, "Jon Park");
    /// # Ok(()) }
    /// ```
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
    /// See [`Error`]; a row that does not fit `R` is an [`ErrorKind::Decode`](crate::ErrorKind::Decode) error with
    /// the path of the value (`[17].date_invoice`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let belgian_companies = Domain::field("country_id.code")
    ///     .eq("BE")
    ///     .and(Domain::field("is_company").eq(true));
    /// let rows = client
    ///     .model("res.partner")
    ///     .search_read(belgian_companies)
    ///     .fields(["name"])
    ///     .order("name")
    ///     .send()
    ///     .await?;
    /// let names: Vec<_> = rows.iter().map(|r| r["name"].as_str().unwrap_or_default()).collect();
    /// assert_eq!(
    ///     names,
    ///     ["Deco Addict", "Gemini Furniture", "Harbor Logistics", "Northwind Consulting"]
    /// );
    /// # Ok(()) }
    /// ```
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
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// let rows = client.model("res.partner").read([1, 3]).fields(["name"]).send().await?;
/// assert_eq!(rows[0]["name"], "Northwind Consulting");
/// assert_eq!(rows[1]["name"], "Gemini Furniture");
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = client.model("res.partner").read([2]).fields(["email"]).send().await?;
    /// assert_eq!(rows[0]["email"], "info@acme.example");
    /// assert!(!rows[0].contains_key("phone"));
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
    context_setter!(
        "let english = Context::new().lang(\"en_US\");\n\
         let rows = client.model(\"res.partner\").read([7]).context(english).send().await?;\n\
         assert_eq!(rows[0][\"name\"], \"Old Client (archived)\");"
    );

    /// Decode rows into another type.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::value::{Many2One, falsy};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Contact { name: String, #[serde(with = "falsy")] parent_id: Option<Many2One> }
    ///
    /// let rows: Vec<Contact> = client
    ///     .model("res.partner")
    ///     .read([4])
    ///     .fields(["name", "parent_id"])
    ///     .into_typed()
    ///     .send()
    ///     .await?;
    /// assert_eq!(rows[0].name, "Ada Lind");
    /// assert_eq!(rows[0].parent_id.as_ref().map(Many2One::id), Some(2));
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let rows = client.model("res.partner").read([1, 2]).fields(["name"]).send().await?;
    /// assert_eq!(rows[1]["name"], "Acme Corporation");
    /// # Ok(()) }
    /// ```
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
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// let partners = client.model("res.partner");
/// let n = partners.search_count(Domain::all()).send().await?;
/// // The records `search` finds, archived ones left out.
/// assert_eq!(n, partners.search(Domain::all()).send().await?.len() as u64);
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct SearchCount {
    client: Client,
    call: Call,
}

impl SearchCount {
    context_setter!(
        "let archived = Context::new().active_test(false);\n\
         let partners = client.model(\"res.partner\");\n\
         let all = partners.search_count(Domain::all()).context(archived).send().await?;\n\
         let active = partners.search_count(Domain::all()).send().await?;\n\
         assert!(all > active); // the archived partners counted too"
    );

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let n: u64 = client
    ///     .model("crm.lead")
    ///     .search_count(Domain::field("probability").ge(50))
    ///     .send()
    ///     .await?;
    /// assert_eq!(n, 1);
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<u64> {
        self.client.execute(self.call).await
    }
}

/// `create` of one record. Created by [`ModelClient::create`].
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use odoo_integration_client::value::Command;
/// let id = client.model("res.partner").create(&serde_json::json!({
///     "name": "Acme",
///     "category_id": [Command::set([1, 2])],
/// })).send().await?;
/// let row = &client.model("res.partner").read([id]).fields(["category_id"]).send().await?[0];
/// assert_eq!(row["category_id"], serde_json::json!([1, 2]));
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
    context_setter!(
        "let quiet = Context::new().set(\"tracking_disable\", true);\n\
         let values = serde_json::json!({\"name\": \"Quiet\"});\n\
         let id = client.model(\"res.partner\").create(&values).context(quiet).send().await?;\n\
         assert_eq!(server.records(\"res.partner\")?.last().map(|r| r[\"id\"] == id), Some(true));"
    );

    /// Allow retries of this call after a transient failure. Only for calls
    /// whose repetition is harmless: by default writes are never retried,
    /// because a dropped connection may hide a commit.
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
    /// // The external id makes a second create fail rather than duplicate: safe to retry.
    /// let id = client
    ///     .model("res.partner")
    ///     .create(&serde_json::json!({"name": "Contoso"}))
    ///     .allow_retry()
    ///     .send()
    ///     .await?;
    /// assert!(id > 0);
    /// # Ok(()) }
    /// ```
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
    /// [`ErrorKind::Invalid`](crate::ErrorKind::Invalid).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let id: i64 = client
    ///     .model("crm.stage")
    ///     .create(&serde_json::json!({"name": "Qualified"}))
    ///     .send()
    ///     .await?;
    /// assert_eq!(client.model("crm.stage").read([id]).send().await?[0]["name"], "Qualified");
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<i64> {
        if self.client.protocol().await? == Protocol::Json2 {
            let (model, method) = (self.call.model.clone(), self.call.method.clone());
            let ids = self.send_all().await?;
            return ids
                .first()
                .copied()
                .ok_or_else(|| Error::decode(model, method, ".", "the server returned no id"));
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
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
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
    /// let ids = client
    ///     .model("crm.stage")
    ///     .create_many([serde_json::json!({"name": "Lost"})])
    ///     .allow_retry()
    ///     .send()
    ///     .await?;
    /// assert_eq!(ids.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn allow_retry(mut self) -> Self {
        self.inner = self.inner.allow_retry();
        self
    }

    /// Context for this call, merged over the client's default context.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::Context;
    ///
    /// let ids = client
    ///     .model("res.partner")
    ///     .create_many([serde_json::json!({"name": "Muted"})])
    ///     .context(Context::new().set("tracking_disable", true))
    ///     .send()
    ///     .await?;
    /// assert_eq!(ids.len(), 1);
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let values = (1..=3).map(|i| serde_json::json!({"name": format!("Tag {i}")}));
    /// let ids = client.model("res.partner.category").create_many(values).send().await?;
    /// assert_eq!(ids.len(), 3);
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<Vec<i64>> {
        self.inner.send_all().await
    }
}

/// `write`. Created by [`ModelClient::write`].
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// let partners = client.model("res.partner");
/// partners.write([4], &serde_json::json!({"phone": "+32 2 555 01 01"})).send().await?;
/// assert_eq!(partners.read([4]).fields(["phone"]).send().await?[0]["phone"], "+32 2 555 01 01");
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
    context_setter!(
        "let quiet = Context::new().set(\"tracking_disable\", true);\n\
         let values = serde_json::json!({\"zip\": \"10001\"});\n\
         client.model(\"res.partner\").write([5], &values).context(quiet).send().await?;\n\
         assert_eq!(server.records(\"res.partner\")?[4][\"zip\"], \"10001\");"
    );

    /// Allow retries of this call after a transient failure. Only for calls
    /// whose repetition is harmless: by default writes are never retried,
    /// because a dropped connection may hide a commit.
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
    /// // Writing the same values twice leaves the same record: safe to retry.
    /// client
    ///     .model("res.partner")
    ///     .write([4], &serde_json::json!({"city": "Ghent"}))
    ///     .allow_retry()
    ///     .send()
    ///     .await?;
    /// assert_eq!(server.records("res.partner")?[3]["city"], "Ghent");
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// client.model("crm.lead").write([2], &serde_json::json!({"probability": 40.0})).send().await?;
    /// assert_eq!(
    ///     client
    ///         .model("crm.lead")
    ///         .read([2])
    ///         .fields(["probability"])
    ///         .send()
    ///         .await?[0]["probability"],
    ///     40.0
    /// );
    /// # Ok(()) }
    /// ```
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
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// let partners = client.model("res.partner");
/// let id = partners.create(&serde_json::json!({"name": "Temp"})).send().await?;
/// partners.unlink([id]).send().await?;
/// assert!(partners.read([id]).send().await?.is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct Unlink {
    client: Client,
    call: Call,
}

impl Unlink {
    context_setter!(
        "let id = server.insert(\"crm.stage\", serde_json::json!({\"name\": \"Obsolete\"}))?;\n\
         let english = Context::new().lang(\"en_US\");\n\
         client.model(\"crm.stage\").unlink([id]).context(english).send().await?;\n\
         assert!(server.records(\"crm.stage\")?.iter().all(|r| r[\"id\"] != id));"
    );

    /// Allow retries of this call after a transient failure. Only for calls
    /// whose repetition is harmless: by default writes are never retried,
    /// because a dropped connection may hide a commit.
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
    /// let id = server.insert("res.partner.category", serde_json::json!({"name": "Obsolete"}))?;
    /// server.inject(Fault::Status(503), 1);
    /// client.model("res.partner.category").unlink([id]).allow_retry().send().await?;
    /// assert!(server.records("res.partner.category")?.iter().all(|r| r["id"] != id));
    /// # Ok(()) }
    /// ```
    pub fn allow_retry(mut self) -> Self {
        self.call.retry_safe = true;
        self
    }

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let id = server.insert("crm.stage", serde_json::json!({"name": "Obsolete"}))?;
    /// client.model("crm.stage").unlink([id]).send().await?;
    /// assert_eq!(client.model("crm.stage").search_count(Domain::all()).send().await?, 2);
    /// # Ok(()) }
    /// ```
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
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// let fields = client.model("res.partner").fields_get()
///     .attributes(["string", "type", "required", "relation"]).send().await?;
/// assert_eq!(fields["country_id"].field_type, "many2one");
/// assert_eq!(fields["country_id"].relation.as_deref(), Some("res.country"));
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let fields = client
    ///     .model("res.partner")
    ///     .fields_get()
    ///     .attributes(["type", "relation"])
    ///     .send()
    ///     .await?;
    /// assert_eq!(fields["parent_id"].relation.as_deref(), Some("res.partner"));
    /// # Ok(()) }
    /// ```
    pub fn attributes<I, S>(mut self, attributes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let attrs: Vec<String> = attributes.into_iter().map(Into::into).collect();
        self.call = self.call.kwarg("attributes", attrs.into());
        self
    }
    context_setter!(
        "let english = Context::new().lang(\"en_US\");\n\
         let fields = client.model(\"res.partner\").fields_get().context(english).send().await?;\n\
         assert_eq!(fields[\"name\"].string, \"Name\");"
    );

    /// Sends the call; fields by name.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let fields = client.model("crm.lead").fields_get().send().await?;
    /// assert_eq!(fields["expected_revenue"].field_type, "monetary");
    /// # Ok(()) }
    /// ```
    pub async fn send(self) -> Result<std::collections::BTreeMap<String, FieldInfo>> {
        self.client.execute(self.call).await
    }
}

/// `name_search`. Created by [`ModelClient::name_search`].
///
/// # Example
///
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// let found = client.model("res.partner").name_search("Gemini").limit(5).send().await?;
/// let names: Vec<&str> = found.iter().map(|(_, name)| name.as_str()).collect();
/// // The company and its contact.
/// assert_eq!(names, ["Gemini Furniture", "Gemini Furniture, Eva Maes"]);
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// // Acme's people, without the company itself.
    /// let contacts = Domain::field("parent_id").is_set();
    /// let found = client.model("res.partner").name_search("acme").domain(contacts).send().await?;
    /// assert_eq!(
    ///     found,
    ///     [
    ///         (4, "Acme Corporation, Ada Lind".to_owned()),
    ///         (5, "Acme Corporation, Jon Park".to_owned()),
    ///     ]
    /// );
    /// # Ok(()) }
    /// ```
    pub fn domain(mut self, domain: impl Into<Domain>) -> Self {
        self.domain = domain.into();
        self
    }
    /// The comparison operator (default `ilike`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// // The whole name, in any case; Odoo adds the people of a matching
    /// // company (it searches `child_of` the partners found).
    /// let exact = client
    ///     .model("res.partner")
    ///     .name_search("acme corporation")
    ///     .operator("=ilike")
    ///     .send()
    ///     .await?;
    /// let names: Vec<&str> = exact.iter().map(|(_, name)| name.as_str()).collect();
    /// assert_eq!(
    ///     names,
    ///     ["Acme Corporation", "Acme Corporation, Ada Lind", "Acme Corporation, Jon Park"]
    /// );
    /// # Ok(()) }
    /// ```
    pub fn operator(mut self, operator: impl Into<String>) -> Self {
        self.operator = operator.into();
        self
    }
    /// At most this many results (default 100).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let found = client.model("res.partner").name_search("").limit(2).send().await?;
    /// assert_eq!(found.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = limit;
        self
    }
    /// Context for this call, merged over the client's default context.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::Context;
    ///
    /// let partners = client.model("res.partner");
    /// assert!(partners.name_search("Old Client").send().await?.is_empty()); // archived
    /// let found = partners
    ///     .name_search("Old Client")
    ///     .context(Context::new().active_test(false))
    ///     .send()
    ///     .await?;
    /// assert_eq!(found.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn context(mut self, context: Context) -> Self {
        self.context = Some(context);
        self
    }

    /// Sends the call.
    ///
    /// # Errors
    ///
    /// See [`Error`].
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let found: Vec<(i64, String)> = client.model("hr.employee").name_search("nina").send().await?;
    /// assert_eq!(found[0].1, "Nina Patel");
    /// # Ok(()) }
    /// ```
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
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use odoo_integration_client::Domain;
/// let groups = client.model("crm.lead").read_group(Domain::all())
///     .group_by(["stage_id"]).aggregate(["expected_revenue:sum"]).send().await?;
/// assert_eq!(groups.len(), 2); // "New" and "Won"
/// assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), 2);
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
/// ```
/// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = TestServer::start().await?;
/// # let client = server.client(Protocol::Json2)?;
/// use odoo_integration_client::Domain;
/// let by_month = client.model("account.analytic.line")
///     .read_group(Domain::field("project_id").is_set())
///     .group_by(["date:month"])
///     .aggregate(["unit_amount:sum"])
///     .send().await?;
/// assert_eq!(by_month.len(), 1); // November 2026
/// assert_eq!(by_month[0].count, 4);
/// assert_eq!(by_month[0].aggregates["unit_amount:sum"], 22.75);
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let groups = client
    ///     .model("hr.employee")
    ///     .read_group(Domain::all())
    ///     .group_by(["employee_type"])
    ///     .send()
    ///     .await?;
    /// assert_eq!(groups.len(), 2); // an employee and a contractor
    /// # Ok(()) }
    /// ```
    pub fn group_by<I, S>(mut self, specs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groupby.extend(specs.into_iter().map(Into::into));
        self
    }
    /// Aggregate specs `field:function` (`amount:sum`, `id:count_distinct`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let totals = client
    ///     .model("account.analytic.line")
    ///     .read_group(Domain::all())
    ///     .aggregate(["unit_amount:sum"])
    ///     .send()
    ///     .await?;
    /// assert_eq!(totals[0].aggregates["unit_amount:sum"], 22.75);
    /// # Ok(()) }
    /// ```
    pub fn aggregate<I, S>(mut self, specs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.aggregates.extend(specs.into_iter().map(Into::into));
        self
    }
    /// Order of the groups.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let query = client
    ///     .model("crm.lead")
    ///     .read_group(Domain::all())
    ///     .group_by(["stage_id"])
    ///     .order("stage_id desc");
    /// assert!(format!("{query:?}").contains("stage_id desc"));
    /// let groups = query.send().await?;
    /// assert_eq!(groups.len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn order(mut self, order: impl Into<String>) -> Self {
        self.order = Some(order.into());
        self
    }
    /// At most this many groups.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let query = client.model("crm.lead").read_group(Domain::all()).group_by(["stage_id"]).limit(1);
    /// assert!(format!("{query:?}").contains("limit: Some(1)"));
    /// assert!(query.send().await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn limit(mut self, limit: u64) -> Self {
        self.limit = Some(limit);
        self
    }
    /// Skip this many groups.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let query = client.model("crm.lead").read_group(Domain::all()).group_by(["stage_id"]).offset(1);
    /// assert!(format!("{query:?}").contains("offset: Some(1)"));
    /// assert!(query.send().await.is_ok());
    /// # Ok(()) }
    /// ```
    pub fn offset(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
    /// Context for this call, merged over the client's default context.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// use odoo_integration_client::Context;
    ///
    /// let partners = client.model("res.partner");
    /// let by_kind = || partners.read_group(Domain::all()).group_by(["is_company"]);
    /// let all = by_kind().context(Context::new().active_test(false));
    /// let count: u64 = all.send().await?.iter().map(|g| g.count).sum();
    /// let active: u64 = by_kind().send().await?.iter().map(|g| g.count).sum();
    /// assert!(count > active); // the archived partners included
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol, test_server::TestServer};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let server = TestServer::start().await?;
    /// # let client = server.client(Protocol::Json2)?;
    /// let groups = client
    ///     .model("project.task")
    ///     .read_group(Domain::all())
    ///     .group_by(["project_id"])
    ///     .send()
    ///     .await?;
    /// let counts: Vec<u64> = groups.iter().map(|g| g.count).collect();
    /// assert_eq!(counts.iter().sum::<u64>(), 3);
    /// # Ok(()) }
    /// ```
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
