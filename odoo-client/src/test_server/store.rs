//! The in-memory ORM behind the test server: models with typed fields,
//! records, the public model methods and domain evaluation.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::domain::{Domain, DomainTree, Operator};
use crate::value::Command;

mod compute;
mod group;
mod import;
mod rows;
mod web_read;

use rows::{XID_MODEL, XidIndex};

/// The type of a field, as `fields_get` reports it.
///
/// # Example
///
/// ```
/// use odoo_integration_client::test_server::FieldKind;
///
/// assert_eq!(FieldKind::Many2One.as_str(), "many2one");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldKind {
    /// `char`
    Char,
    /// `text`
    Text,
    /// `integer`
    Integer,
    /// `float`
    Float,
    /// `monetary`
    Monetary,
    /// `boolean`
    Boolean,
    /// `date` (`YYYY-MM-DD`)
    Date,
    /// `datetime` (`YYYY-MM-DD HH:MM:SS`, UTC)
    Datetime,
    /// `selection`
    Selection,
    /// `many2one`
    Many2One,
    /// `one2many` (computed from the inverse many2one)
    One2Many,
    /// `many2many`
    Many2Many,
    /// `binary` (base64 text)
    Binary,
    /// `html`
    Html,
    /// `json`
    Json,
    /// `properties`
    Properties,
    /// `properties_definition`
    PropertiesDefinition,
    /// `many2one_reference` (an id in the model another field names)
    Many2OneReference,
}

impl FieldKind {
    /// The type name Odoo uses.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::test_server::FieldKind;
    ///
    /// assert_eq!(FieldKind::Monetary.as_str(), "monetary");
    /// assert_eq!(FieldKind::Many2Many.as_str(), "many2many");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::Char => "char",
            FieldKind::Text => "text",
            FieldKind::Integer => "integer",
            FieldKind::Float => "float",
            FieldKind::Monetary => "monetary",
            FieldKind::Boolean => "boolean",
            FieldKind::Date => "date",
            FieldKind::Datetime => "datetime",
            FieldKind::Selection => "selection",
            FieldKind::Many2One => "many2one",
            FieldKind::One2Many => "one2many",
            FieldKind::Many2Many => "many2many",
            FieldKind::Binary => "binary",
            FieldKind::Html => "html",
            FieldKind::Json => "json",
            FieldKind::Properties => "properties",
            FieldKind::PropertiesDefinition => "properties_definition",
            FieldKind::Many2OneReference => "many2one_reference",
        }
    }

    /// The kind Odoo names `name` (`"many2one"`, ...).
    pub(crate) fn parse(name: &str) -> Option<Self> {
        use FieldKind as K;
        Some(match name {
            "char" => K::Char,
            "text" => K::Text,
            "integer" => K::Integer,
            "float" => K::Float,
            "monetary" => K::Monetary,
            "boolean" => K::Boolean,
            "date" => K::Date,
            "datetime" => K::Datetime,
            "selection" => K::Selection,
            "many2one" => K::Many2One,
            "one2many" => K::One2Many,
            "many2many" => K::Many2Many,
            "binary" => K::Binary,
            "html" => K::Html,
            "json" => K::Json,
            "properties" => K::Properties,
            "properties_definition" => K::PropertiesDefinition,
            "many2one_reference" => K::Many2OneReference,
            _ => return None,
        })
    }

    /// What Odoo reads for a field without a value.
    pub(crate) fn empty(self) -> Value {
        match self {
            FieldKind::Boolean => Value::Bool(false),
            FieldKind::Integer | FieldKind::Many2OneReference => json!(0),
            FieldKind::Float | FieldKind::Monetary => json!(0.0),
            FieldKind::One2Many | FieldKind::Many2Many | FieldKind::Properties => json!([]),
            _ => Value::Bool(false),
        }
    }

    fn relational(self) -> bool {
        matches!(
            self,
            FieldKind::Many2One | FieldKind::One2Many | FieldKind::Many2Many
        )
    }
}

/// One field of a model.
///
/// # Example
///
/// ```
/// use odoo_integration_client::test_server::{Field, FieldKind};
///
/// let f = Field::new("partner_id", FieldKind::Many2One).relation("res.partner").required();
/// assert_eq!(f.name(), "partner_id");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub(crate) name: String,
    pub(crate) kind: FieldKind,
    pub(crate) string: String,
    pub(crate) required: bool,
    pub(crate) relation: Option<String>,
    pub(crate) inverse: Option<String>,
    pub(crate) selection: Vec<(String, String)>,
    pub(crate) readonly: bool,
    pub(crate) store: bool,
    pub(crate) company_dependent: bool,
    pub(crate) translate: bool,
    /// `a.b.c`: the value is read (and written) through the relations.
    pub(crate) related: Option<String>,
    /// Comma-separated groups, one of which a user needs to use the field.
    pub(crate) groups: Option<String>,
    /// Odoo's other `fields_get` attributes (domain, help, digits, ...),
    /// where they differ from the usual; `None` for a field not in Odoo's
    /// schema.
    pub(crate) attributes: Option<Map<String, Value>>,
}

impl Field {
    /// A field of this name and type.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let server = TestServer::builder()
    ///     .model(ModelDef::new("x_tool.entry").field(Field::new("x_hours", FieldKind::Float)))
    ///     .start()
    ///     .await?;
    /// let fields = server.client(Protocol::Json2)?.model("x_tool.entry").fields_get().send().await?;
    /// assert_eq!(fields["x_hours"].field_type, "float");
    /// assert_eq!(fields["x_hours"].string, "X Hours"); // a label from the name
    /// # Ok(()) }
    /// ```
    pub fn new(name: impl Into<String>, kind: FieldKind) -> Self {
        let name = name.into();
        let string = name
            .trim_end_matches("_id")
            .trim_end_matches("_ids")
            .split('_')
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
            .join(" ");
        Field {
            name,
            kind,
            string,
            required: false,
            relation: None,
            inverse: None,
            selection: Vec::new(),
            readonly: false,
            store: true,
            company_dependent: false,
            translate: false,
            related: None,
            groups: None,
            attributes: None,
        }
    }
    /// The related model of a relational field.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let entry = ModelDef::new("x_tool.entry")
    ///     .field(Field::new("name", FieldKind::Char))
    ///     .field(Field::new("partner_id", FieldKind::Many2One).relation("res.partner"));
    /// let server = TestServer::builder().model(entry).start().await?;
    /// let fields = server.client(Protocol::Json2)?.model("x_tool.entry").fields_get().send().await?;
    /// assert_eq!(fields["partner_id"].relation.as_deref(), Some("res.partner"));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn relation(mut self, model: impl Into<String>) -> Self {
        self.relation = Some(model.into());
        self
    }
    /// The many2one on the related model that a one2many reads.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let sheet = ModelDef::new("x_tool.sheet")
    ///     .field(Field::new("name", FieldKind::Char))
    ///     .field(Field::new("line_ids", FieldKind::One2Many).relation("x_tool.line").inverse("sheet_id"));
    /// let line = ModelDef::new("x_tool.line")
    ///     .field(Field::new("name", FieldKind::Char))
    ///     .field(Field::new("sheet_id", FieldKind::Many2One).relation("x_tool.sheet"));
    /// let server = TestServer::builder().model(sheet).model(line).start().await?;
    /// let sheet_id = server.insert("x_tool.sheet", serde_json::json!({"name": "Week 48"}))?;
    /// let line_id = server.insert(
    ///     "x_tool.line",
    ///     serde_json::json!({"name": "Mon", "sheet_id": sheet_id}),
    /// )?;
    /// assert_eq!(server.records("x_tool.sheet")?[0]["line_ids"], serde_json::json!([line_id]));
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn inverse(mut self, field: impl Into<String>) -> Self {
        self.inverse = Some(field.into());
        self
    }
    /// The field must be set on create.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::ErrorKind;
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let entry = ModelDef::new("x_tool.entry").field(Field::new("name", FieldKind::Char).required());
    /// let server = TestServer::builder().model(entry).start().await?;
    /// let client = server.client(Protocol::Json2)?;
    /// let err = client.model("x_tool.entry").create(&serde_json::json!({})).send().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Invalid);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }
    /// The allowed values of a selection, as (value, label).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let state =
    ///     Field::new("state", FieldKind::Selection).selection([("draft", "Draft"), ("done", "Done")]);
    /// let server = TestServer::builder().model(ModelDef::new("x_tool.entry").field(state)).start().await?;
    /// let entries = server.client(Protocol::Json2)?.model("x_tool.entry");
    /// assert!(entries.create(&serde_json::json!({"state": "done"})).send().await.is_ok());
    /// assert!(entries.create(&serde_json::json!({"state": "lost"})).send().await.is_err());
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn selection<I, K, L>(mut self, options: I) -> Self
    where
        I: IntoIterator<Item = (K, L)>,
        K: Into<String>,
        L: Into<String>,
    {
        self.selection = options
            .into_iter()
            .map(|(k, l)| (k.into(), l.into()))
            .collect();
        self
    }
    /// The label shown by `fields_get`.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let hours = Field::new("x_hours", FieldKind::Float).label("Hours Spent");
    /// let server = TestServer::builder().model(ModelDef::new("x_tool.entry").field(hours)).start().await?;
    /// let fields = server.client(Protocol::Json2)?.model("x_tool.entry").fields_get().send().await?;
    /// assert_eq!(fields["x_hours"].string, "Hours Spent");
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.string = label.into();
        self
    }
    /// The field name.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::test_server::{Field, FieldKind};
    ///
    /// assert_eq!(Field::new("x_hours", FieldKind::Float).name(), "x_hours");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// A model: its name, its fields, and which users may use it.
///
/// Every model gets `id`, `display_name`, `create_date` and `write_date`.
///
/// # Example
///
/// ```
/// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef};
///
/// let m = ModelDef::new("x_timesheet_tool.entry")
///     .field(Field::new("name", FieldKind::Char).required())
///     .field(Field::new("hours", FieldKind::Float));
/// assert_eq!(m.name(), "x_timesheet_tool.entry");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDef {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) fields: BTreeMap<String, Field>,
    pub(crate) rec_name: String,
    admin_only: bool,
}

impl ModelDef {
    /// A model with only the automatic fields.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{ModelDef, TestServer};
    ///
    /// let server = TestServer::builder().model(ModelDef::new("x_tool.empty")).start().await?;
    /// let fields = server.client(Protocol::Json2)?.model("x_tool.empty").fields_get().send().await?;
    /// assert!(fields.contains_key("write_date")); // the automatic fields only
    /// assert!(!fields.contains_key("name"));
    /// # Ok(()) }
    /// ```
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let mut m = ModelDef {
            description: name.clone(),
            name,
            fields: BTreeMap::new(),
            rec_name: "name".to_owned(),
            admin_only: false,
        };
        let users = |name: &str| Field::new(name, FieldKind::Many2One).relation("res.users");
        for mut f in [
            Field::new("id", FieldKind::Integer).label("ID"),
            Field::new("display_name", FieldKind::Char).label("Display Name"),
            Field::new("create_date", FieldKind::Datetime).label("Created on"),
            Field::new("write_date", FieldKind::Datetime).label("Last Updated on"),
            users("create_uid").label("Created by"),
            users("write_uid").label("Last Updated by"),
        ] {
            f.readonly = true;
            f.store = f.name != "display_name";
            m.fields.insert(f.name.clone(), f);
        }
        m
    }
    /// Adds a field.
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let entry = ModelDef::new("x_tool.entry")
    ///     .field(Field::new("name", FieldKind::Char))
    ///     .field(Field::new("x_done", FieldKind::Boolean));
    /// let server = TestServer::builder().model(entry).start().await?;
    /// let id = server.insert("x_tool.entry", serde_json::json!({"name": "Mon", "x_done": true}))?;
    /// assert_eq!(server.records("x_tool.entry")?[0]["id"], id);
    /// assert_eq!(server.records("x_tool.entry")?[0]["x_done"], true);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn field(mut self, field: Field) -> Self {
        self.fields.insert(field.name.clone(), field);
        self
    }
    /// The field that names records (default `name`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::test_server::{Field, FieldKind, ModelDef, TestServer};
    ///
    /// let code = ModelDef::new("x_tool.code").field(Field::new("code", FieldKind::Char)).rec_name("code");
    /// let server = TestServer::builder().model(code).start().await?;
    /// let id = server.insert("x_tool.code", serde_json::json!({"code": "HR-01"}))?;
    /// let found = server.client(Protocol::Json2)?.model("x_tool.code").name_search("hr").send().await?;
    /// assert_eq!(found, [(id, "HR-01".to_owned())]);
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn rec_name(mut self, field: impl Into<String>) -> Self {
        self.rec_name = field.into();
        self
    }
    /// Only administrators may read or write it (others get an
    /// `AccessError`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::{Domain, Protocol};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use odoo_integration_client::{Client, Credentials, ErrorKind};
    /// use odoo_integration_client::test_server::{
    ///     DEMO_API_KEY, DEMO_LOGIN, Field, FieldKind, ModelDef, TestServer,
    /// };
    ///
    /// let secret = ModelDef::new("x_tool.secret").field(Field::new("name", FieldKind::Char)).admin_only();
    /// let server = TestServer::builder().model(secret).start().await?;
    /// let demo = Client::builder(server.url())
    ///     .credentials(Credentials::api_key(DEMO_LOGIN, DEMO_API_KEY))
    ///     .protocol(Protocol::Json2)
    ///     .build()?;
    /// let err = demo.model("x_tool.secret").search_count(Domain::all()).send().await.unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Forbidden);
    /// assert_eq!(
    ///     server
    ///         .client(Protocol::Json2)?
    ///         .model("x_tool.secret")
    ///         .search_count(Domain::all())
    ///         .send()
    ///         .await?,
    ///     0
    /// );
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn admin_only(mut self) -> Self {
        self.admin_only = true;
        self
    }
    /// The model name.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_client::test_server::ModelDef;
    ///
    /// assert_eq!(ModelDef::new("x_tool.entry").name(), "x_tool.entry");
    /// ```
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// An exception the in-memory server raises, rendered per protocol.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Raise {
    pub(crate) name: String,
    pub(crate) message: String,
}

impl Raise {
    pub(crate) fn new(name: impl Into<String>, message: impl Into<String>) -> Self {
        Raise {
            name: name.into(),
            message: message.into(),
        }
    }
    fn missing(model: &str, ids: &[i64], uid: i64) -> Self {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        Raise::new(
            "odoo.exceptions.MissingError",
            format!(
                "Record does not exist or has been deleted.\n(Record: {model}({},), User: {uid})",
                ids.join(", ")
            ),
        )
    }
    fn value_error(message: impl Into<String>) -> Self {
        Raise::new("builtins.ValueError", message)
    }
}

type R<T> = std::result::Result<T, Raise>;

/// Every model and record.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) models: BTreeMap<String, Arc<ModelDef>>,
    /// Records by model and id. Rows change through `insert_row`,
    /// `update_row` and `remove_row` (module `rows`), which keep `xids`
    /// and `journal` up to date.
    pub(crate) tables: BTreeMap<String, BTreeMap<i64, Map<String, Value>>>,
    next_id: BTreeMap<String, i64>,
    clock: u64,
    /// `ir.model.data` by external id and by the record it names.
    xids: XidIndex,
    /// The previous values of the rows the current transaction changed,
    /// to undo them if it fails; `None` outside a transaction.
    journal: Option<Vec<rows::Undo>>,
    /// The numbers `ir.sequence` gave out, by sequence.
    sequences: BTreeMap<String, i64>,
    /// The user the current call runs as (`create_uid`, `write_uid`).
    uid: i64,
}

/// Who is calling, for access checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caller {
    pub(crate) uid: i64,
    pub(crate) admin: bool,
}

/// The group that may change a model's records, for the models only
/// administrators change (as in Odoo's access rules).
fn admin_writes(model: &str) -> Option<&'static str> {
    match model {
        "res.users" => Some("Access Rights"),
        "res.company" | "res.currency" | "res.country" | "account.journal" | "account.tax"
        | "uom.uom" => Some("Role / Administrator"),
        _ => None,
    }
}

/// Groups of the recording's administrator lacks: features not enabled in
/// a stock database (Odoo hides their fields from it).
const NOT_ENABLED: &[&str] = &["project.group_project_stages"];

/// The groups of an internal user without administrator rights (the demo
/// user of Odoo's demo data).
const INTERNAL_USER: &[&str] = &[
    "base.group_user",
    "sales_team.group_sale_salesman",
    "project.group_project_user",
    "project.group_project_milestone",
    "hr_timesheet.group_hr_timesheet_user",
];

impl Caller {
    /// Whether the user belongs to one of a field's groups.
    pub(crate) fn may_use(&self, field: &Field) -> bool {
        let Some(groups) = &field.groups else {
            return true;
        };
        groups.split(',').map(str::trim).any(|g| {
            if self.admin {
                !NOT_ENABLED.contains(&g)
            } else {
                INTERNAL_USER.contains(&g)
            }
        })
    }
}

/// Odoo's refusal to read fields of a group the user is not in.
fn field_access_error(def: &ModelDef, denied: &[&Field], first: &Field, caller: Caller) -> Raise {
    if def.name == "hr.employee" && !caller.admin {
        let names: Vec<String> = denied.iter().map(|f| format!("“{}”", f.name)).collect();
        return Raise::new(
            "odoo.exceptions.AccessError",
            format!(
                "The fields {}, which you are trying to read, are not available for employee public profiles.",
                names.join(", ")
            ),
        );
    }
    let groups = match first.groups.as_deref() {
        Some("project.group_project_stages") => "'Use Stages on Project'".to_owned(),
        Some(g) => g
            .split(',')
            .map(|g| format!("'{}'", g.trim()))
            .collect::<Vec<_>>()
            .join(", "),
        None => String::new(),
    };
    Raise::new(
        "odoo.exceptions.AccessError",
        format!(
            "You do not have enough rights to access the field \"{}\" on {} ({}). Please contact your system administrator.\n\nOperation: read\nUser: {}\nGroups: allowed for groups {groups}",
            first.name, def.description, def.name, caller.uid
        ),
    )
}

impl Store {
    pub(crate) fn register(&mut self, model: ModelDef) {
        self.tables.entry(model.name.clone()).or_default();
        self.models.insert(model.name.clone(), Arc::new(model));
    }

    /// Adds a field to a registered model.
    pub(crate) fn add_field(&mut self, model: &str, field: Field) -> R<()> {
        let def = self
            .models
            .get_mut(model)
            .map(Arc::make_mut)
            .ok_or_else(|| {
                Raise::value_error(format!("cannot add a field to `{model}`: no such model"))
            })?;
        def.fields.insert(field.name.clone(), field);
        Ok(())
    }

    fn now(&mut self) -> String {
        // A deterministic clock: one second per write, from a fixed start,
        // so that (write_date, id) cursors are testable.
        self.clock += 1;
        self.now_text()
    }

    /// The clock's time, without moving it.
    fn now_text(&self) -> String {
        let base = chrono::DateTime::from_timestamp(1_795_000_000, 0).unwrap_or_default();
        (base + chrono::Duration::seconds(self.clock as i64))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// The user of the current call, with an administrator's rights (for
    /// the records Odoo creates on its own).
    fn caller(&self) -> Caller {
        Caller {
            uid: self.uid,
            admin: true,
        }
    }

    fn model(&self, name: &str) -> R<&Arc<ModelDef>> {
        self.models.get(name).ok_or_else(|| {
            Raise::new(
                "odoo.exceptions.UserError",
                format!("Object {name} doesn't exist"),
            )
        })
    }

    /// Creates records directly (seeding, tests); bypasses access checks.
    pub(crate) fn insert(&mut self, model: &str, vals: &Map<String, Value>) -> R<i64> {
        self.uid = 1;
        self.create_one(
            model,
            vals,
            Caller {
                uid: 1,
                admin: true,
            },
        )
    }

    /// Posts an invoice directly (seeding).
    pub(crate) fn post(&mut self, id: i64) -> R<()> {
        let def = self.model("account.move")?.clone();
        self.uid = 1;
        self.post_moves(&def, &[id])
    }

    /// Writes values directly (seeding); bypasses access checks.
    pub(crate) fn write_stored(&mut self, model: &str, id: i64, vals: Value) -> R<()> {
        let def = self.model(model)?.clone();
        let map = vals.as_object().cloned().unwrap_or_default();
        self.uid = 1;
        self.write_one(&def, id, &map, false)
    }

    pub(crate) fn call(
        &mut self,
        caller: Caller,
        model: &str,
        method: &str,
        ids: Option<Vec<i64>>,
        args: &BTreeMap<String, Value>,
        context: &Map<String, Value>,
    ) -> R<Value> {
        self.uid = caller.uid;
        let def = self.model(model)?.clone();
        if def.admin_only && !caller.admin {
            return Err(Raise::new(
                "odoo.exceptions.AccessError",
                format!(
                    "You are not allowed to access '{model}' ({model}) records.\n\nThis operation is allowed for the following groups:\n\t- Role / Administrator\n\nContact your administrator to request access if necessary."
                ),
            ));
        }
        if !caller.admin
            && matches!(method, "create" | "write" | "unlink" | "load")
            && let Some(group) = admin_writes(&def.name)
            && !(def.name == "res.users"
                && method == "write"
                && ids.as_deref() == Some(&[caller.uid][..]))
        {
            return Err(Raise::new(
                "odoo.exceptions.AccessError",
                format!(
                    "You are not allowed to {} '{}' ({model}) records.\n\nThis operation is allowed for the following groups:\n\t- {group}\n\nContact your administrator to request access if necessary.",
                    match method {
                        "create" | "load" => "create",
                        "unlink" => "delete",
                        _ => "modify",
                    },
                    def.description
                ),
            ));
        }
        if method.starts_with('_') {
            return Err(Raise::new(
                "odoo.exceptions.AccessError",
                format!("Private methods (such as '{model}.{method}') cannot be called remotely."),
            ));
        }
        if let Some(allowed) = parameters(method)
            && let Some(unexpected) = args.keys().find(|k| !allowed.contains(&k.as_str()))
        {
            return Err(Raise::new(
                "builtins.TypeError",
                format!("BaseModel.{method}() got an unexpected keyword argument '{unexpected}'"),
            ));
        }
        let missing: Vec<String> = required(method)
            .iter()
            .filter(|r| !args.contains_key(**r))
            .map(|r| format!("'{r}'"))
            .collect();
        if !missing.is_empty() {
            let list = match missing.as_slice() {
                [one] => one.clone(),
                [a, b] => format!("{a} and {b}"),
                [init @ .., last] => format!("{}, and {last}", init.join(", ")),
                [] => String::new(),
            };
            let (n, s) = (missing.len(), if missing.len() == 1 { "" } else { "s" });
            return Err(Raise::new(
                "builtins.TypeError",
                format!("BaseModel.{method}() missing {n} required positional argument{s}: {list}"),
            ));
        }
        let active_test = context.get("active_test") != Some(&Value::Bool(false));
        let arg = |name: &str| args.get(name).cloned().unwrap_or(Value::Null);
        match method {
            "search" | "search_read" | "search_count" => {
                let domain = parse_domain(&arg("domain"))?;
                let order = arg("order");
                let by_id = matches!(
                    order.as_str().map(str::trim),
                    None | Some("id") | Some("id asc")
                );
                let offset = arg("offset").as_u64().unwrap_or(0) as usize;
                // Like an index: in id order, stop once the page is full.
                let stop = match (by_id, method, arg("limit").as_u64()) {
                    (true, "search" | "search_read", Some(l)) => Some(offset + l as usize),
                    _ => None,
                };
                let mut found = self.search_until(&def, &domain, active_test, stop)?;
                if method == "search_count" {
                    return Ok(json!(found.len()));
                }
                self.order(&def, &mut found, order.as_str())?;
                let limit = arg("limit").as_u64().map(|l| l as usize);
                let found: Vec<i64> = found
                    .into_iter()
                    .skip(offset)
                    .take(limit.unwrap_or(usize::MAX))
                    .collect();
                if method == "search" {
                    return Ok(json!(found));
                }
                self.read(&def, &found, &arg("fields"), caller)
            }
            "read" => {
                let ids = ids.unwrap_or_default();
                let existing: Vec<i64> = ids
                    .into_iter()
                    .filter(|id| self.tables[&def.name].contains_key(id))
                    .collect();
                self.read(&def, &existing, &arg("fields"), caller)
            }
            "create" => {
                let vals = match arg("vals_list") {
                    Value::Array(list) => list,
                    obj @ Value::Object(_) => vec![obj],
                    _ => {
                        return Err(Raise::new(
                            "werkzeug.exceptions.UnprocessableEntity",
                            "missing a required argument: 'vals_list'",
                        ));
                    }
                };
                let single = !matches!(args.get("vals_list"), Some(Value::Array(_)));
                // All or nothing, like one Odoo transaction.
                let created = self.atomically(|store| {
                    let mut created = Vec::with_capacity(vals.len());
                    for v in &vals {
                        let map = v.as_object().ok_or_else(|| {
                            Raise::value_error("create takes dictionaries of values")
                        })?;
                        created.push(store.create_one(&def.name, map, caller)?);
                    }
                    Ok(created)
                })?;
                Ok(if single {
                    json!(created.first())
                } else {
                    json!(created)
                })
            }
            "write" => {
                let ids = ids.unwrap_or_default();
                let Some(vals) = args.get("vals").and_then(Value::as_object) else {
                    return Err(Raise::new(
                        "werkzeug.exceptions.UnprocessableEntity",
                        "missing a required argument: 'vals'",
                    ));
                };
                self.check_exist(&def, &ids, caller)?;
                // All or nothing, like one Odoo transaction; the hierarchy
                // constraints (`_check_parent_id`) run after the write.
                let recursion = match def.name.as_str() {
                    "res.partner" => Some("You cannot create recursive Partner hierarchies."),
                    "hr.department" => Some("You cannot create recursive departments."),
                    _ => None,
                };
                self.atomically(|store| {
                    for id in &ids {
                        store.write_one(&def, *id, vals, false)?;
                    }
                    if vals.contains_key("parent_id")
                        && let Some(message) = recursion
                        && store.has_parent_cycle(&def.name, &ids)
                    {
                        return Err(Raise::new("odoo.exceptions.ValidationError", message));
                    }
                    Ok(())
                })?;
                Ok(Value::Bool(true))
            }
            "unlink" => {
                let ids = ids.unwrap_or_default();
                // res.users._unlink_except_master_data
                if def.name == "res.users" && ids.contains(&1) {
                    return Err(Raise::new(
                        "odoo.exceptions.UserError",
                        "You can not remove the admin user as it is used internally for resources created by Odoo (updates, module installation, ...)",
                    ));
                }
                if def.name == "res.users" && ids.contains(&2) {
                    return Err(Raise::new(
                        "odoo.exceptions.UserError",
                        "You cannot delete the admin user because it is utilized in various places (such as security configurations,...). Instead, archive it.",
                    ));
                }
                self.check_exist(&def, &ids, caller)?;
                if def.name == "sale.order.line" {
                    self.check_line_unlink(&ids)?;
                }
                // External ids of deleted records go with them.
                for id in &ids {
                    self.delete_record(&def.name, *id);
                }
                Ok(Value::Bool(true))
            }
            "fields_get" => Ok(self.fields_get(&def, &arg("attributes"), caller)),
            "name_search" => {
                let name = arg("name").as_str().unwrap_or("").to_lowercase();
                let domain = parse_domain(&arg("domain"))?;
                let limit = arg("limit").as_u64().unwrap_or(100) as usize;
                let found = self.search(&def, &domain, active_test)?;
                let out: Vec<Value> = found
                    .into_iter()
                    .filter_map(|id| {
                        let label = self.display_name(&def.name, id);
                        label
                            .to_lowercase()
                            .contains(&name)
                            .then(|| json!([id, label]))
                    })
                    .take(limit)
                    .collect();
                Ok(Value::Array(out))
            }
            "formatted_read_group" => self.formatted_read_group(caller, &def.name, args, context),
            "read_group" => self.legacy_read_group(caller, &def.name, args, context),
            "web_search_read" => self.web_search_read(caller, &def.name, args, context),
            "web_read" => {
                let spec = arg("specification")
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                let ids = ids.unwrap_or_default();
                Ok(Value::Array(
                    self.web_read(caller, &def.name, &ids, &spec, context)?,
                ))
            }
            "load" => {
                let fields: Vec<String> = serde_json::from_value(arg("fields")).map_err(|_| {
                    Raise::new("builtins.TypeError", "load() takes a list of field names")
                })?;
                let rows: Vec<Vec<Value>> = serde_json::from_value(arg("data"))
                    .map_err(|_| Raise::new("builtins.TypeError", "load() takes a list of rows"))?;
                self.load(&def, &fields, &rows, caller, context)
            }
            "action_archive" | "action_unarchive" => {
                let ids = ids.unwrap_or_default();
                self.check_exist(&def, &ids, caller)?;
                let vals = json!({"active": method == "action_unarchive"});
                for id in &ids {
                    self.write_one(&def, *id, vals.as_object().unwrap_or(&Map::new()), false)?;
                }
                Ok(Value::Null)
            }
            "default_get" => {
                let names: Vec<String> =
                    serde_json::from_value(arg("fields_list")).unwrap_or_default();
                Ok(Value::Object(self.defaults(&def, &names)))
            }
            "action_confirm" if def.name == "sale.order" => {
                let ids = ids.unwrap_or_default();
                self.check_exist(&def, &ids, caller)?;
                self.atomically(|store| store.confirm_orders(&def, &ids))?;
                Ok(Value::Bool(true))
            }
            "action_post" if def.name == "account.move" => {
                let ids = ids.unwrap_or_default();
                self.check_exist(&def, &ids, caller)?;
                self.atomically(|store| store.post_moves(&def, &ids))?;
                Ok(Value::Bool(true))
            }
            "context_get" if def.name == "res.users" => Ok(json!({
                "lang": "en_US", "tz": "Europe/Brussels", "uid": caller.uid
            })),
            _ => Err(Raise::new(
                "builtins.AttributeError",
                format!("The method '{model}.{method}' does not exist"),
            )),
        }
    }

    fn check_exist(&self, def: &ModelDef, ids: &[i64], caller: Caller) -> R<()> {
        let table = &self.tables[&def.name];
        // Odoo stops at the first record it cannot find.
        match ids.iter().find(|id| !table.contains_key(id)) {
            None => Ok(()),
            Some(&missing) => Err(Raise::missing(&def.name, &[missing], caller.uid)),
        }
    }

    /// Odoo's unique index on `ir.model.data (module, name)`: refuses a
    /// row `id` (`None` for a new one) the external id `module.name` when
    /// another row holds it.
    fn check_xid_free(
        &self,
        module: Option<&Value>,
        name: Option<&Value>,
        id: Option<i64>,
    ) -> R<()> {
        let (Some(module), Some(name)) =
            (module.and_then(Value::as_str), name.and_then(Value::as_str))
        else {
            return Ok(());
        };
        match self.xids.find(module, name) {
            Some(holder) if Some(holder) != id => Err(Raise::new(
                "psycopg2.errors.UniqueViolation",
                "duplicate key value violates unique constraint \"ir_model_data_module_name_uniq_index\"",
            )),
            _ => Ok(()),
        }
    }

    fn create_one(&mut self, model: &str, vals: &Map<String, Value>, caller: Caller) -> R<i64> {
        // Before an id is taken (`write_one` checks again).
        if model == XID_MODEL {
            self.check_xid_free(vals.get("module"), vals.get("name"), None)?;
        }
        let def = self.model(model)?.clone();
        let mut vals = vals.clone();
        self.complete_create(&def, &mut vals)?;
        let next = self.next_id.entry(def.name.clone()).or_insert(0);
        *next += 1;
        let id = *next;
        let now = self.now();
        let mut row = Map::new();
        row.insert("id".into(), json!(id));
        row.insert("create_date".into(), json!(now));
        row.insert("create_uid".into(), json!(caller.uid));
        self.insert_row(&def.name, id, row);
        if let Err(e) = self.write_one(&def, id, &vals, true) {
            self.remove_row(&def.name, id);
            return Err(e);
        }
        Ok(id)
    }

    fn write_one(
        &mut self,
        def: &ModelDef,
        id: i64,
        vals: &Map<String, Value>,
        creating: bool,
    ) -> R<()> {
        let mut children: Vec<(String, String, Map<String, Value>)> = Vec::new();
        let mut removed: Vec<(String, i64)> = Vec::new();
        let mut updates: Vec<(String, Value)> = Vec::new();
        let mut through: Vec<(String, String, Value)> = Vec::new();
        for key in vals.keys() {
            if !def.fields.contains_key(key) {
                return Err(Raise::value_error(format!(
                    "Invalid field '{key}' on model '{}'",
                    def.name
                )));
            }
        }
        self.check_rules(def, id, vals)?;
        // A service invoicing policy is written as the invoicing policy
        // and service tracking it stands for (Odoo's inverse).
        if def.name == "product.template"
            && let Some(policy) = vals.get("service_policy").and_then(Value::as_str)
        {
            let Some((invoice, track)) = compute::service_policy_inverse(policy) else {
                return Err(Raise::value_error(format!(
                    "Wrong value for product.template.service_policy: {policy:?}"
                )));
            };
            let mut vals = vals.clone();
            vals.remove("service_policy");
            vals.insert("invoice_policy".into(), json!(invoice));
            vals.insert("service_type".into(), json!(track));
            return self.write_one(def, id, &vals, creating);
        }
        // A posted entry inside a locked period is closed to changes of
        // what it books, as Odoo's `_check_fiscal_lock_dates` refuses them.
        const BOOKED: [&str; 7] = [
            "date",
            "invoice_date",
            "invoice_line_ids",
            "line_ids",
            "partner_id",
            "currency_id",
            "journal_id",
        ];
        if def.name == "account.move"
            && !creating
            && vals.keys().any(|k| BOOKED.contains(&k.as_str()))
            && self.value(&def.name, id, "state") == serde_json::json!("posted")
        {
            let kind = self
                .value(&def.name, id, "move_type")
                .as_str()
                .unwrap_or("entry")
                .to_owned();
            let company = self.value(&def.name, id, "company_id").as_i64();
            let date = self.value(&def.name, id, "date");
            if let (Some(lock), Some(date)) = (self.lock_date(company, &kind), date.as_str())
                && date <= lock.as_str()
            {
                return Err(Raise::new(
                    "odoo.exceptions.UserError",
                    format!(
                        "You cannot add/modify entries prior to and inclusive of the lock date {lock}."
                    ),
                ));
            }
        }
        // Since Odoo 17.3, `account.move.write` refuses the fields that are
        // read only once posted, in any period: a posted entry is changed
        // by resetting it to draft, or by a credit note.
        const READONLY_POSTED: [&str; 9] = [
            "invoice_line_ids",
            "line_ids",
            "invoice_date",
            "date",
            "partner_id",
            "invoice_payment_term_id",
            "currency_id",
            "fiscal_position_id",
            "invoice_cash_rounding_id",
        ];
        if def.name == "account.move"
            && !creating
            && self.value(&def.name, id, "state") == serde_json::json!("posted")
        {
            let named: Vec<&str> = vals
                .keys()
                .map(String::as_str)
                .filter(|k| READONLY_POSTED.contains(k))
                .collect();
            if !named.is_empty() {
                return Err(Raise::new(
                    "odoo.exceptions.UserError",
                    format!(
                        "You cannot modify the following readonly fields on a posted move: {}",
                        named.join(", ")
                    ),
                ));
            }
        }
        // A draft invoice's new date moves its accounting date, out of a
        // locked period if need be, as Odoo's does.
        if def.name == "account.move"
            && !creating
            && !vals.contains_key("date")
            && self.value(&def.name, id, "state") == serde_json::json!("draft")
            && let Some(invoice_date) = vals.get("invoice_date").and_then(Value::as_str)
        {
            let kind = self
                .value(&def.name, id, "move_type")
                .as_str()
                .unwrap_or("entry")
                .to_owned();
            let company = self.value(&def.name, id, "company_id").as_i64();
            let mut vals = vals.clone();
            let date = self.accounting_date(company, &kind, invoice_date);
            vals.insert("date".into(), serde_json::json!(date));
            return self.write_one(def, id, &vals, creating);
        }
        if def.name == XID_MODEL {
            let now = |k: &str| {
                vals.get(k).or_else(|| {
                    self.tables
                        .get(XID_MODEL)
                        .and_then(|t| t.get(&id))
                        .and_then(|r| r.get(k))
                })
            };
            self.check_xid_free(now("module"), now("name"), Some(id))?;
        }
        for (key, value) in vals {
            if matches!(
                key.as_str(),
                "id" | "create_date" | "write_date" | "display_name" | "create_uid" | "write_uid"
            ) {
                continue;
            }
            let Some(field) = def.fields.get(key) else {
                continue;
            };
            if def.name == "res.partner" && key == "company_type" {
                updates.push(("is_company".into(), json!(value == "company")));
                continue;
            }
            if let Some(path) = &field.related {
                // Written where it lives, unless it is read-only there.
                if let Some((hop, rest)) = path.split_once('.')
                    && !field.readonly
                    && !rest.contains('.')
                {
                    through.push((hop.to_owned(), rest.to_owned(), value.clone()));
                }
                continue;
            }
            if !field.store
                && field.readonly
                && field.kind != FieldKind::One2Many
                && !compute::is_delegate(&def.name, key)
            {
                // Computed by Odoo: a value sent for it is dropped.
                continue;
            }
            let stored = match field.kind {
                FieldKind::Many2One => match value {
                    Value::Null | Value::Bool(false) => Value::Bool(false),
                    Value::Number(n) if n.is_i64() => {
                        let target = field.relation.as_deref().unwrap_or_default();
                        let rid = n.as_i64().unwrap_or_default();
                        if !self
                            .tables
                            .get(target)
                            .is_some_and(|t| t.contains_key(&rid))
                        {
                            return Err(Raise::missing(target, &[rid], 1));
                        }
                        json!(rid)
                    }
                    other => {
                        return Err(Raise::value_error(format!(
                            "Wrong value for {}.{key}: {other}",
                            def.name
                        )));
                    }
                },
                FieldKind::Many2Many | FieldKind::One2Many => {
                    let current: Vec<i64> = if creating {
                        Vec::new()
                    } else {
                        self.x2many_ids(def, field, id)
                    };
                    let commands = parse_commands(value)?;
                    let before = current.clone();
                    let mut ids = current;
                    for c in commands {
                        match c {
                            Command::Create(vals) => {
                                if field.kind == FieldKind::One2Many {
                                    children.push((
                                        field.relation.clone().unwrap_or_default(),
                                        field.inverse.clone().unwrap_or_default(),
                                        vals,
                                    ));
                                } else {
                                    let target = field.relation.clone().unwrap_or_default();
                                    let new = self.create_one(&target, &vals, self.caller())?;
                                    ids.push(new);
                                }
                            }
                            Command::Set(set) => ids = set,
                            Command::Link(l) => {
                                if !ids.contains(&l) {
                                    ids.push(l)
                                }
                            }
                            Command::Unlink(u) | Command::Delete(u) => ids.retain(|&i| i != u),
                            Command::Clear => ids.clear(),
                            Command::Update(uid, vals) => {
                                let target = field.relation.clone().unwrap_or_default();
                                let tdef = self.model(&target)?.clone();
                                self.write_one(&tdef, uid, &vals, false)?;
                            }
                        }
                    }
                    if field.kind == FieldKind::One2Many {
                        // Stored on the children's inverse field; a child
                        // taken out of the list is deleted (the inverse is
                        // required, as for order and invoice lines).
                        let target = field.relation.clone().unwrap_or_default();
                        removed.extend(
                            before
                                .into_iter()
                                .filter(|i| !ids.contains(i))
                                .map(|i| (target.clone(), i)),
                        );
                        continue;
                    }
                    json!(ids)
                }
                FieldKind::Integer => match value {
                    Value::Number(n) if n.is_i64() => value.clone(),
                    Value::Bool(false) | Value::Null => json!(0),
                    other => {
                        return Err(Raise::value_error(format!(
                            "invalid integer for {key}: {other}"
                        )));
                    }
                },
                FieldKind::Float | FieldKind::Monetary => match value {
                    Value::Number(_) => value.clone(),
                    Value::Bool(false) | Value::Null => json!(0.0),
                    other => {
                        return Err(Raise::value_error(format!(
                            "invalid number for {key}: {other}"
                        )));
                    }
                },
                FieldKind::Boolean => Value::Bool(value.as_bool().unwrap_or(false)),
                FieldKind::Selection => match value {
                    Value::String(s)
                        if field.selection.is_empty()
                            || field.selection.iter().any(|(k, _)| k == s) =>
                    {
                        value.clone()
                    }
                    Value::Bool(false) | Value::Null => Value::Bool(false),
                    other => {
                        return Err(Raise::value_error(format!(
                            "Wrong value for {}.{key}: {other}",
                            def.name
                        )));
                    }
                },
                _ => match value {
                    Value::Null => Value::Bool(false),
                    other => other.clone(),
                },
            };
            updates.push((key.clone(), stored));
        }
        let now = self.now();
        let uid = self.uid;
        let written = self.update_row(&def.name, id, |row| {
            for (k, v) in updates {
                row.insert(k, v);
            }
            row.insert("write_date".into(), json!(now));
            row.insert("write_uid".into(), json!(uid));
        });
        if !written {
            return Err(Raise::missing(&def.name, &[id], 1));
        }
        for (hop, rest, value) in through {
            let Some(hop_field) = def.fields.get(&hop) else {
                continue;
            };
            if let Some((tdef, tid)) = self.hop(def, id, hop_field) {
                let tdef = tdef.clone();
                let mut one = Map::new();
                one.insert(rest, value);
                self.write_one(&tdef, tid, &one, false)?;
            }
        }
        let taken: Vec<i64> = removed
            .iter()
            .filter(|(t, _)| t == "sale.order.line")
            .map(|(_, c)| *c)
            .collect();
        self.check_line_unlink(&taken)?;
        for (target, child) in removed {
            self.delete_record(&target, child);
        }
        for (target, inverse, mut vals) in children {
            vals.insert(inverse, json!(id));
            self.create_one(&target, &vals, self.caller())?;
        }
        Ok(())
    }

    fn x2many_ids(&self, def: &ModelDef, field: &Field, id: i64) -> Vec<i64> {
        match self.raw(def, id, field) {
            Value::Array(ids) => ids.iter().filter_map(Value::as_i64).collect(),
            _ => Vec::new(),
        }
    }

    /// The value of a field as `read` returns it.
    fn output(&self, def: &ModelDef, id: i64, field: &Field) -> Value {
        let raw = self.raw(def, id, field);
        match field.kind {
            FieldKind::Many2One => match raw.as_i64() {
                Some(rid) => json!([
                    rid,
                    self.display_name(field.relation.as_deref().unwrap_or_default(), rid)
                ]),
                None => Value::Bool(false),
            },
            _ => raw,
        }
    }

    fn read(&self, def: &ModelDef, ids: &[i64], fields: &Value, caller: Caller) -> R<Value> {
        let names: Vec<String> = match fields {
            Value::Array(list) if !list.is_empty() => list
                .iter()
                .map(|f| f.as_str().unwrap_or_default().to_owned())
                .collect(),
            // All the fields the user may read.
            _ => def
                .fields
                .values()
                .filter(|f| caller.may_use(f))
                .map(|f| f.name.clone())
                .collect(),
        };
        let mut chosen = Vec::with_capacity(names.len());
        let mut denied = Vec::new();
        for n in &names {
            let f = def.fields.get(n).ok_or_else(|| {
                Raise::value_error(format!("Invalid field '{n}' on '{}'", def.name))
            })?;
            if !caller.may_use(f) {
                denied.push(f);
            }
            chosen.push(f);
        }
        if let Some(first) = denied.first() {
            return Err(field_access_error(def, &denied, first, caller));
        }
        let rows: Vec<Value> = ids
            .iter()
            .map(|&id| {
                let mut out = Map::new();
                out.insert("id".into(), json!(id));
                for f in &chosen {
                    out.insert(f.name.clone(), self.output(def, id, f));
                }
                Value::Object(out)
            })
            .collect();
        Ok(Value::Array(rows))
    }

    fn fields_get(&self, def: &ModelDef, attributes: &Value, caller: Caller) -> Value {
        let wanted: Option<Vec<&str>> = attributes
            .as_array()
            .filter(|a| !a.is_empty())
            .map(|a| a.iter().filter_map(Value::as_str).collect());
        let mut out = Map::new();
        // Odoo leaves out the fields the user may not use.
        for f in def.fields.values().filter(|f| caller.may_use(f)) {
            let mut attrs = Map::new();
            attrs.insert("name".into(), json!(f.name));
            attrs.insert("type".into(), json!(f.kind.as_str()));
            attrs.insert("string".into(), json!(f.string));
            attrs.insert("required".into(), json!(f.required));
            attrs.insert("readonly".into(), json!(f.readonly));
            attrs.insert("store".into(), json!(f.store));
            attrs.insert("company_dependent".into(), json!(f.company_dependent));
            for (key, value) in [
                ("change_default", json!(false)),
                ("default_export_compatible", json!(false)),
                ("depends", json!([])),
                ("exportable", json!(true)),
                ("groupable", json!(true)),
                ("manual", json!(f.name.starts_with("x_"))),
                ("searchable", json!(true)),
                ("sortable", json!(true)),
            ] {
                attrs.insert(key.into(), value);
            }
            if let Some(r) = &f.relation {
                attrs.insert("relation".into(), json!(r));
            }
            if let Some(r) = &f.inverse {
                attrs.insert("relation_field".into(), json!(r));
            }
            if let Some(r) = &f.related {
                attrs.insert("related".into(), json!(r));
            }
            if let Some(g) = &f.groups {
                attrs.insert("groups".into(), json!(g));
            }
            if f.kind == FieldKind::Selection {
                attrs.insert("selection".into(), json!(f.selection));
            }
            if f.translate {
                attrs.insert("translate".into(), json!(true));
            }
            match &f.attributes {
                Some(recorded) => {
                    attrs.extend(recorded.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                // What Odoo answers for a field defined without options.
                None => {
                    if f.kind.relational() {
                        attrs.insert("allow_hierachy_operators".into(), json!(false));
                        attrs.insert("context".into(), json!({}));
                        attrs.insert("domain".into(), json!([]));
                    }
                    if matches!(f.kind, FieldKind::Char | FieldKind::Text | FieldKind::Html) {
                        attrs.insert("translate".into(), json!(f.translate));
                    }
                    if f.kind == FieldKind::Char {
                        attrs.insert("trim".into(), json!(true));
                    }
                }
            }
            if let Some(w) = &wanted {
                attrs.retain(|k, _| w.contains(&k.as_str()));
            }
            out.insert(f.name.clone(), Value::Object(attrs));
        }
        Value::Object(out)
    }

    fn order(&self, def: &ModelDef, ids: &mut [i64], order: Option<&str>) -> R<()> {
        let spec = order.unwrap_or("id");
        let mut keys: Vec<(String, bool)> = Vec::new();
        for part in spec.split(',') {
            let mut words = part.split_whitespace();
            let Some(field) = words.next() else { continue };
            if !def.fields.contains_key(field) {
                return Err(Raise::value_error(format!(
                    "Invalid field '{field}' on '{}'",
                    def.name
                )));
            }
            let desc = words.next().is_some_and(|w| w.eq_ignore_ascii_case("desc"));
            keys.push((field.to_owned(), desc));
        }
        let table = &self.tables[&def.name];
        ids.sort_by(|a, b| {
            for (field, desc) in &keys {
                let va = table[a].get(field).cloned().unwrap_or(json!(a));
                let vb = table[b].get(field).cloned().unwrap_or(json!(b));
                let va = if field == "id" { json!(a) } else { va };
                let vb = if field == "id" { json!(b) } else { vb };
                let o = compare(&va, &vb).unwrap_or(std::cmp::Ordering::Equal);
                let o = if *desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            a.cmp(b)
        });
        Ok(())
    }

    pub(crate) fn search(&self, def: &ModelDef, domain: &Domain, active_test: bool) -> R<Vec<i64>> {
        self.search_until(def, domain, active_test, None)
    }

    /// Matching ids in id order, stopping after `stop` matches. As an
    /// index would, a top-level `id > n` condition starts the scan after
    /// `n`; a top-level `id =`/`id in` condition, or one on an external id
    /// (see [`XidIndex::candidates`]), replaces the scan with a look-up of
    /// its candidates, each then checked against the whole domain.
    fn search_until(
        &self,
        def: &ModelDef,
        domain: &Domain,
        active_test: bool,
        stop: Option<usize>,
    ) -> R<Vec<i64>> {
        let mentions_active = domain.fields().contains(&"active");
        let tree = domain.to_tree();
        // Every field must exist, whichever rows are looked at.
        check_fields(def, &tree)?;
        let mut conjuncts = Vec::new();
        conjuncts_of(&tree, &mut conjuncts);
        let after = conjuncts
            .iter()
            .filter_map(|t| match t {
                DomainTree::Leaf(c) if c.field == "id" && c.operator == Operator::Gt => {
                    c.value.as_i64()
                }
                _ => None,
            })
            .max()
            .unwrap_or(i64::MIN);
        let skip_archived = active_test && !mentions_active && def.fields.contains_key("active");
        let table = &self.tables[&def.name];
        let rows: Box<dyn Iterator<Item = (&i64, &Map<String, Value>)>> =
            match self.candidates(def, &conjuncts) {
                Some(ids) => Box::new(
                    ids.into_iter()
                        .filter(move |&id| id > after)
                        .filter_map(|id| table.get_key_value(&id)),
                ),
                None => Box::new(table.range(after.saturating_add(1)..)),
            };
        let mut out = Vec::new();
        for (&id, row) in rows {
            if stop.is_some_and(|s| out.len() >= s) {
                break;
            }
            if skip_archived && row.get("active") == Some(&Value::Bool(false)) {
                continue;
            }
            if self.eval(def, id, &tree)? {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// The ids that may match all of `conjuncts`, in id order, when an
    /// index gives them: those a top-level `id =`/`id in` names, or the
    /// external-id index's on `ir.model.data`; the fewer if both do.
    /// `None`: every row is a candidate.
    fn candidates(&self, def: &ModelDef, conjuncts: &[&DomainTree]) -> Option<Vec<i64>> {
        let by_id = conjuncts.iter().find_map(|t| match t {
            DomainTree::Leaf(c) if c.field == "id" => match (c.operator, &c.value) {
                (Operator::Eq, v) => Some(v.as_i64().into_iter().collect::<Vec<i64>>()),
                // A list of anything: only its integers can match an id.
                (Operator::In, Value::Array(items)) => {
                    let mut ids: Vec<i64> = items.iter().filter_map(Value::as_i64).collect();
                    ids.sort_unstable();
                    ids.dedup();
                    Some(ids)
                }
                _ => None,
            },
            _ => None,
        });
        let by_xid = (def.name == XID_MODEL)
            .then(|| self.xids.candidates(conjuncts))
            .flatten();
        match (by_id, by_xid) {
            (Some(a), Some(b)) => Some(if a.len() <= b.len() { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    fn eval(&self, def: &ModelDef, id: i64, tree: &DomainTree) -> R<bool> {
        Ok(match tree {
            DomainTree::True => true,
            DomainTree::False => false,
            DomainTree::Not(t) => !self.eval(def, id, t)?,
            DomainTree::And(parts) => {
                for p in parts {
                    if !self.eval(def, id, p)? {
                        return Ok(false);
                    }
                }
                true
            }
            DomainTree::Or(parts) => {
                for p in parts {
                    if self.eval(def, id, p)? {
                        return Ok(true);
                    }
                }
                false
            }
            DomainTree::Leaf(c) => self.eval_leaf(def, id, &c.field, c.operator, &c.value)?,
        })
    }

    fn eval_leaf(
        &self,
        def: &ModelDef,
        id: i64,
        path: &str,
        op: Operator,
        value: &Value,
    ) -> R<bool> {
        let (head, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let field = def.fields.get(head).ok_or_else(|| {
            Raise::value_error(format!(
                "Invalid field {}.{head} in condition ('{path}', '{op}', {value})",
                def.name
            ))
        })?;
        // Paths and `any` go through the relation.
        if rest.is_some() || matches!(op, Operator::Any | Operator::NotAny) {
            if !field.kind.relational() {
                return Err(Raise::value_error(format!(
                    "{path}: not a relational field"
                )));
            }
            let target = field.relation.clone().unwrap_or_default();
            let tdef = self.model(&target)?;
            let related: Vec<i64> = match field.kind {
                FieldKind::Many2One => self.raw(def, id, field).as_i64().into_iter().collect(),
                _ => self.x2many_ids(def, field, id),
            };
            let matches_related = |store: &Store, rid: i64| -> R<bool> {
                match rest {
                    Some(r) => store.eval_leaf(tdef, rid, r, op, value),
                    None => {
                        let sub = parse_domain(value)?;
                        store.eval(tdef, rid, &sub.to_tree())
                    }
                }
            };
            let mut any = false;
            for rid in related {
                if matches_related(self, rid)? {
                    any = true;
                    break;
                }
            }
            return Ok(if op == Operator::NotAny { !any } else { any });
        }
        if matches!(op, Operator::ChildOf | Operator::ParentOf) {
            let roots: Vec<i64> = match value {
                Value::Array(v) => v.iter().filter_map(Value::as_i64).collect(),
                v => v.as_i64().into_iter().collect(),
            };
            let own: Vec<i64> = if field.kind == FieldKind::Many2One {
                self.raw(def, id, field).as_i64().into_iter().collect()
            } else if head == "id" {
                vec![id]
            } else {
                self.x2many_ids(def, field, id)
            };
            let target = if head == "id" {
                def.name.clone()
            } else {
                field.relation.clone().unwrap_or_default()
            };
            return Ok(own.iter().any(|&x| {
                roots.iter().any(|&root| {
                    if op == Operator::ChildOf {
                        self.is_descendant(&target, x, root)
                    } else {
                        self.is_descendant(&target, root, x)
                    }
                })
            }));
        }
        let current = self.raw(def, id, field);
        // x2many: true when any related id satisfies the condition.
        if let Value::Array(items) = &current {
            if matches!(op, Operator::Eq | Operator::In) && items.is_empty() {
                return Ok(
                    value == &Value::Bool(false) || value.as_array().is_some_and(|a| a.is_empty())
                );
            }
            return Ok(items.iter().any(|item| compare_op(item, op, value)));
        }
        Ok(compare_op(&current, op, value))
    }

    /// Whether following `parent_id` up from any of `ids` comes back to it.
    fn has_parent_cycle(&self, model: &str, ids: &[i64]) -> bool {
        let parent = |n: i64| {
            self.tables
                .get(model)
                .and_then(|t| t.get(&n))
                .and_then(|r| r.get("parent_id"))
                .and_then(|v| v.as_i64().or_else(|| v.as_array()?.first()?.as_i64()))
        };
        ids.iter().any(|&start| {
            let mut seen = std::collections::BTreeSet::new();
            let mut cur = parent(start);
            while let Some(n) = cur {
                if n == start || !seen.insert(n) {
                    return true;
                }
                cur = parent(n);
            }
            false
        })
    }

    fn is_descendant(&self, model: &str, node: i64, ancestor: i64) -> bool {
        let mut seen = 0;
        let mut cur = Some(node);
        while let Some(n) = cur {
            if n == ancestor {
                return true;
            }
            seen += 1;
            if seen > 1000 {
                return false;
            }
            cur = self
                .tables
                .get(model)
                .and_then(|t| t.get(&n))
                .and_then(|r| r.get("parent_id"))
                .and_then(Value::as_i64);
        }
        false
    }
}

/// The parameters a method cannot do without.
fn required(method: &str) -> &'static [&'static str] {
    match method {
        "search" | "search_count" | "formatted_read_group" => &["domain"],
        "create" => &["vals_list"],
        "write" => &["vals"],
        "load" => &["fields", "data"],
        "read_group" => &["domain", "fields", "groupby"],
        "web_search_read" => &["domain", "specification"],
        "web_read" => &["specification"],
        _ => &[],
    }
}

/// The public methods the server implements, for `describe`.
const METHODS: &[&str] = &[
    "action_archive",
    "action_unarchive",
    "create",
    "default_get",
    "fields_get",
    "formatted_read_group",
    "load",
    "name_search",
    "read",
    "read_group",
    "search",
    "search_count",
    "search_read",
    "unlink",
    "web_read",
    "web_search_read",
    "write",
];

impl Store {
    /// What Odoo 19's `api_doc` module answers for a model
    /// (`/doc-bearer/<model>.json`): its fields, as `fields_get` with the
    /// module that defines each (unknown here: `null`), and the public
    /// methods with their parameters.
    pub(crate) fn describe(&self, model: &str, caller: Caller) -> R<Value> {
        let def = self.model(model)?.clone();
        let mut fields = self.fields_get(&def, &Value::Null, caller);
        if let Some(map) = fields.as_object_mut() {
            for attrs in map.values_mut() {
                if let Some(a) = attrs.as_object_mut() {
                    a.insert("module".into(), Value::Null);
                }
            }
        }
        let methods: Map<String, Value> = METHODS
            .iter()
            .map(|m| {
                let params = parameters(m).unwrap_or(&[]);
                let takes_ids = matches!(
                    *m,
                    "action_archive" | "action_unarchive" | "read" | "unlink" | "web_read" | "write"
                );
                let mut names: Vec<&str> = Vec::new();
                if takes_ids {
                    names.push("self");
                }
                names.extend(params.iter().copied());
                let parameters: Map<String, Value> =
                    params.iter().map(|p| ((*p).to_owned(), json!({}))).collect();
                (
                    (*m).to_owned(),
                    json!({"signature": format!("({})", names.join(", ")), "parameters": parameters}),
                )
            })
            .collect();
        Ok(json!({
            "model": def.name,
            "name": def.description,
            "doc": null,
            "fields": fields,
            "methods": methods,
        }))
    }
}

/// The parameter names of the methods the server implements.
fn parameters(method: &str) -> Option<&'static [&'static str]> {
    Some(match method {
        "search" => &["domain", "offset", "limit", "order"],
        "search_read" => &["domain", "fields", "offset", "limit", "order", "load"],
        "search_count" => &["domain", "limit"],
        "read" => &["fields", "load"],
        "create" => &["vals_list"],
        "write" => &["vals"],
        "load" => &["fields", "data"],
        "unlink" | "action_archive" | "action_unarchive" | "action_post" | "action_confirm"
        | "context_get" => &[],
        "default_get" => &["fields_list"],
        "fields_get" => &["allfields", "attributes"],
        "name_search" => &["name", "domain", "args", "operator", "limit"],
        "formatted_read_group" => &[
            "domain",
            "groupby",
            "aggregates",
            "having",
            "offset",
            "limit",
            "order",
        ],
        "read_group" => &[
            "domain", "fields", "groupby", "offset", "limit", "orderby", "lazy",
        ],
        "web_search_read" => &[
            "domain",
            "specification",
            "offset",
            "limit",
            "order",
            "count_limit",
        ],
        "web_read" => &["specification"],
        _ => return None,
    })
}

fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Bool(false), _) => Some(std::cmp::Ordering::Less),
        (_, Value::Bool(false)) => Some(std::cmp::Ordering::Greater),
        _ => None,
    }
}

/// SQL LIKE with `%` and `_`.
fn like(text: &str, pattern: &str, insensitive: bool) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = if insensitive {
        (
            text.to_lowercase().chars().collect(),
            pattern.to_lowercase().chars().collect(),
        )
    } else {
        (text.chars().collect(), pattern.chars().collect())
    };
    // Greedy, going back only to the last `%`: linear in practice and
    // never worse than text × pattern, as PostgreSQL's matcher (a
    // recursive try of every split is exponential in the `%`s).
    let (mut ti, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('%') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(c) if *c == '_' || *c == t[ti] => {
                ti += 1;
                pi += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|c| *c == '%')
}

fn compare_op(current: &Value, op: Operator, value: &Value) -> bool {
    use std::cmp::Ordering::*;
    let text = || match current {
        Value::String(s) => s.clone(),
        Value::Bool(false) | Value::Null => String::new(),
        other => other.to_string(),
    };
    let wanted = || value.as_str().unwrap_or_default().to_owned();
    let unset = |v: &Value| matches!(v, Value::Null | Value::Bool(false));
    match op {
        Operator::Eq => current == value || (unset(current) && unset(value)),
        Operator::Ne => !(current == value || (unset(current) && unset(value))),
        Operator::EqIfSet => unset(value) || current == value,
        Operator::Lt => compare(current, value) == Some(Less),
        Operator::Le => matches!(compare(current, value), Some(Less | Equal)),
        Operator::Gt => compare(current, value) == Some(Greater),
        Operator::Ge => matches!(compare(current, value), Some(Greater | Equal)),
        Operator::Like => like(&text(), &format!("%{}%", wanted()), false),
        Operator::Ilike => like(&text(), &format!("%{}%", wanted()), true),
        Operator::NotLike => !like(&text(), &format!("%{}%", wanted()), false),
        Operator::NotIlike => !like(&text(), &format!("%{}%", wanted()), true),
        Operator::EqLike => like(&text(), &wanted(), false),
        Operator::EqIlike => like(&text(), &wanted(), true),
        Operator::In => value
            .as_array()
            .is_some_and(|l| l.contains(current) || (unset(current) && l.iter().any(unset))),
        Operator::NotIn => !value.as_array().is_some_and(|l| l.contains(current)),
        _ => false,
    }
}

/// The conditions that must all hold for `tree` to: its top-level `AND`
/// parts (nested ones flattened), or `tree` itself.
fn conjuncts_of<'a>(tree: &'a DomainTree, out: &mut Vec<&'a DomainTree>) {
    match tree {
        DomainTree::And(parts) => {
            for p in parts {
                conjuncts_of(p, out);
            }
        }
        t => out.push(t),
    }
}

/// Refuses a domain naming a field the model does not have (the first
/// field of a path; the rest is checked where the path leads).
fn check_fields(def: &ModelDef, tree: &DomainTree) -> R<()> {
    match tree {
        DomainTree::True | DomainTree::False => Ok(()),
        DomainTree::Not(t) => check_fields(def, t),
        DomainTree::And(parts) | DomainTree::Or(parts) => {
            parts.iter().try_for_each(|p| check_fields(def, p))
        }
        DomainTree::Leaf(c) => {
            let head = c.field.split('.').next().unwrap_or_default();
            if def.fields.contains_key(head) {
                Ok(())
            } else {
                Err(Raise::value_error(format!(
                    "Invalid field {}.{head} in condition ('{}', '{}', {})",
                    def.name, c.field, c.operator, c.value
                )))
            }
        }
    }
}

fn parse_domain(value: &Value) -> R<Domain> {
    match value {
        Value::Null => Ok(Domain::all()),
        v => Domain::from_json(v).map_err(|e| Raise::value_error(format!("Invalid domain: {e}"))),
    }
}

fn parse_commands(value: &Value) -> R<Vec<Command>> {
    let Value::Array(items) = value else {
        return match value {
            Value::Bool(false) | Value::Null => Ok(vec![Command::Clear]),
            other => Err(Raise::value_error(format!("invalid x2many value {other}"))),
        };
    };
    // A plain list of ids means "set".
    if items.iter().all(Value::is_i64) {
        return Ok(vec![Command::Set(
            items.iter().filter_map(Value::as_i64).collect(),
        )]);
    }
    items
        .iter()
        .map(|c| {
            serde_json::from_value::<Command>(c.clone())
                .map_err(|e| Raise::value_error(format!("invalid x2many command {c}: {e}")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns() {
        assert!(like("Deco Addict", "%addict%", true));
        assert!(!like("Deco Addict", "%addict%", false));
        assert!(like("a@example.com", "%@example.com", false));
        assert!(like("abc", "a_c", false));
        assert!(!like("abcd", "a_c", false));
        assert!(like("BE 0123.456.789", "%b%e%0%1%2%3%4%5%6%7%8%9%", true));
        assert!(!like("BE 0123.456.78", "%b%e%0%1%2%3%4%5%6%7%8%9%", true));
        assert!(like("aab", "%ab", false), "goes back to the last %");
        assert!(like("", "%%", false));
        assert!(!like("", "_", false));
        // Many `%`s against a long text that almost matches: no blow-up.
        let text = "a".repeat(200);
        let pattern = format!("{}b", "%a".repeat(30));
        assert!(!like(&text, &pattern, false));
    }
}
