//! Declarative maps between canonical entities and Odoo models.

use crate::connector::Reference;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use odoo_integration_client::Domain;
use odoo_integration_model::{CanonicalId, Currency, Entity, FieldValue, Money, RemoteId};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// How a canonical field's value travels to and from an Odoo field.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::odoo::Conversion;
/// let k = Conversion::Reference { entity: "client".into() };
/// assert!(matches!(k, Conversion::Reference { .. }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Conversion {
    /// char, text, or a selection whose values are the canonical codes.
    Text,
    /// boolean.
    Bool,
    /// float or integer, as an exact decimal (hours, quantities).
    Decimal,
    /// A monetary amount; the currency is read from the many2one
    /// `currency_field` when given (its display name is the ISO code, as in
    /// Odoo's `res.currency`), else the connector's company currency. On
    /// write only the amount is sent.
    Money {
        /// The record's currency field, e.g. `currency_id`.
        currency_field: Option<String>,
    },
    /// date (`YYYY-MM-DD`).
    Date,
    /// datetime (`YYYY-MM-DD HH:MM:SS`, UTC).
    DateTime,
    /// An Odoo date for a canonical instant (midnight UTC).
    DateAsDateTime,
    /// An Odoo datetime for a canonical date (written as midnight UTC,
    /// read as its UTC date): `sale.order.signed_on` for a contract's
    /// signing date.
    DateAsDateTimeField,
    /// A many2one to another synced entity: canonical id ⇄ Odoo id through
    /// the cross-references.
    Reference {
        /// The referenced entity's name.
        entity: String,
    },
    /// A many2one to a lookup table, matched by a key field (a country by
    /// `code`, a department by `name`). With `create`, a missing key is
    /// created (`{key: value}`), else it is an error.
    Lookup {
        /// The related model.
        model: String,
        /// Its key field.
        key: String,
        /// Create what is missing.
        create: bool,
    },
    /// A selection whose values differ from the canonical codes:
    /// `(canonical code, Odoo value)` pairs.
    Selection(Vec<(String, String)>),
    /// A boolean for a coded field: written `true` when the code is one of
    /// `true_for`, read back as `read_true` or `read_false`. An employee's
    /// status is `active` (terminated ⇄ archived); a timesheet line's
    /// approval can be a boolean such as Enterprise's `validated` or a
    /// custom `x_approved` (see [`Conversion::approval_flag`]).
    Flag {
        /// The codes written as `true`.
        true_for: Vec<String>,
        /// The code `true` reads as.
        read_true: String,
        /// The code `false` reads as.
        read_false: String,
    },
    /// A one2many of child rows (an invoice's or an order's lines) for a
    /// canonical list field ([`FieldValue::Rows`]). Each child field maps
    /// like a top-level one (plain kinds and references; no lookups); the
    /// child's canonical `id` is the Odoo line id on read. Read with one
    /// extra `read` per page; written as a whole: the old lines are removed
    /// and the new ones created in the same write (commands 5 and 0), so
    /// the lines have one owner, like any field.
    Lines {
        /// The child model, e.g. `account.move.line`.
        model: String,
        /// The child field maps.
        fields: Vec<FieldMap>,
        /// Values written on every new line (a service product, an
        /// account).
        defaults: Map<String, Value>,
    },
}

impl Conversion {
    /// An approval state from a boolean field: approved ⇄ `true`, anything
    /// else ⇄ `false` (read back as submitted). Odoo Community has no
    /// approval on timesheet lines: add a boolean (`x_approved`, with
    /// Studio or a module) or use Enterprise's `validated`, and map it:
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    /// let timesheets = ModelMap::timesheet_entry().field("approval", "x_approved", Conversion::approval_flag());
    /// assert_eq!(timesheets.odoo_field("approval"), Some("x_approved"));
    /// ```
    pub fn approval_flag() -> Self {
        Conversion::Flag {
            true_for: vec!["approved".into()],
            read_true: "approved".into(),
            read_false: "submitted".into(),
        }
    }

    /// An employment status as `active`: a terminated employee is
    /// archived, any other status is active (and reads back as active).
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    /// let m = ModelMap::employee();
    /// let status = m.fields.iter().find(|f| f.canonical == "status").unwrap();
    /// assert_eq!((status.odoo.as_str(), &status.kind), ("active", &Conversion::active_unless_terminated()));
    /// ```
    pub fn active_unless_terminated() -> Self {
        Conversion::Flag {
            true_for: vec!["active".into(), "on-leave".into()],
            read_true: "active".into(),
            read_false: "terminated".into(),
        }
    }
}

/// One canonical field ⇄ one Odoo field.
///
/// # Example
///
/// ```
/// use odoo_integration_connectors::odoo::{Conversion, FieldMap};
/// let f = FieldMap::new("tax_id", "vat", Conversion::Text);
/// assert_eq!(f.odoo, "vat");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMap {
    /// The canonical field (dotted for nested ones: `address.city`).
    pub canonical: String,
    /// The Odoo field (custom `x_` fields welcome).
    pub odoo: String,
    /// How values convert.
    pub kind: Conversion,
    /// Read, never written (computed fields such as `amount_total`).
    pub read_only: bool,
}

impl FieldMap {
    /// A read-write field.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, FieldMap};
    /// assert!(!FieldMap::new("name", "name", Conversion::Text).read_only);
    /// ```
    pub fn new(canonical: impl Into<String>, odoo: impl Into<String>, kind: Conversion) -> Self {
        FieldMap {
            canonical: canonical.into(),
            odoo: odoo.into(),
            kind,
            read_only: false,
        }
    }
    /// A field that is read but never written.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, FieldMap};
    /// assert!(FieldMap::read_only("total", "amount_total", Conversion::Money { currency_field: None }).read_only);
    /// ```
    pub fn read_only(
        canonical: impl Into<String>,
        odoo: impl Into<String>,
        kind: Conversion,
    ) -> Self {
        FieldMap {
            read_only: true,
            ..FieldMap::new(canonical, odoo, kind)
        }
    }
}

/// How one canonical entity maps to one Odoo model: the model, the domain
/// that selects its records (companies vs people in `res.partner`), values
/// written on create, and the field maps.
///
/// Start from a built-in map and adjust it:
///
/// ```
/// use odoo_integration_connectors::odoo::{Conversion, ModelMap};
///
/// let clients = ModelMap::client()
///     .field("industry", "x_sector", Conversion::Text)    // a custom field instead of industry_id
///     .without("billing_terms");                         // not synced
/// assert_eq!(clients.odoo_field("industry"), Some("x_sector"));
/// assert_eq!(clients.odoo_field("billing_terms"), None);
/// ```
#[derive(Debug, Clone)]
pub struct ModelMap {
    /// The canonical entity's name.
    pub entity: String,
    /// The Odoo model.
    pub model: String,
    /// Which of the model's records are this entity.
    pub domain: Domain,
    /// Values written when a record is created (e.g. `is_company`).
    pub defaults: Map<String, Value>,
    /// Field maps.
    pub fields: Vec<FieldMap>,
    /// The boolean field that archives (`active`), or none: then a delete
    /// unlinks.
    pub archive_field: Option<String>,
    /// Written by Odoo, never by a sync (payments).
    pub read_only: bool,
}

impl ModelMap {
    /// An empty map of `entity` to `model`.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    /// let m = ModelMap::new("vendor", "res.partner").field("name", "name", Conversion::Text);
    /// assert_eq!(m.fields.len(), 1);
    /// ```
    pub fn new(entity: impl Into<String>, model: impl Into<String>) -> Self {
        ModelMap {
            entity: entity.into(),
            model: model.into(),
            domain: Domain::all(),
            defaults: Map::new(),
            fields: Vec::new(),
            archive_field: Some("active".into()),
            read_only: false,
        }
    }
    /// Maps (or re-maps) a canonical field.
    ///
    /// # Example
    ///
    /// See [`ModelMap`].
    pub fn field(mut self, canonical: &str, odoo: &str, kind: Conversion) -> Self {
        self.fields.retain(|f| f.canonical != canonical);
        self.fields.push(FieldMap::new(canonical, odoo, kind));
        self
    }
    /// Maps a canonical field that is read but never written.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    /// let m = ModelMap::invoice().read_field("number", "name", Conversion::Text);
    /// assert!(m.fields.iter().any(|f| f.canonical == "number" && f.read_only));
    /// ```
    pub fn read_field(mut self, canonical: &str, odoo: &str, kind: Conversion) -> Self {
        self.fields.retain(|f| f.canonical != canonical);
        self.fields.push(FieldMap::read_only(canonical, odoo, kind));
        self
    }
    /// Stops syncing a canonical field.
    ///
    /// # Example
    ///
    /// See [`ModelMap`].
    pub fn without(mut self, canonical: &str) -> Self {
        self.fields.retain(|f| f.canonical != canonical);
        self
    }
    /// Restricts the records (combined with `&`).
    ///
    /// # Example
    ///
    /// ```
    /// # use odoo_integration_client::test_server::TestServer;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let server = TestServer::start().await?; // the embedded Odoo, with demo data
    /// let client = server.client(odoo_integration_client::Protocol::Json2)?;
    /// use odoo_integration_connectors::odoo::{ModelMap, OdooConnector};
    /// use odoo_integration_connectors::read_to_end;
    /// use odoo_integration_client::Domain;
    /// use odoo_integration_model::Engagement;
    /// let every = OdooConnector::new(client.clone());
    /// let (all, _) = read_to_end::<Engagement>(&every, None, 100).await?;
    /// let m = ModelMap::engagement().domain(Domain::field("name").eq("No such project"));
    /// let narrowed = OdooConnector::new(client).with_map(m);
    /// let (none, _) = read_to_end::<Engagement>(&narrowed, None, 100).await?;
    /// assert!(!all.is_empty() && none.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn domain(mut self, domain: Domain) -> Self {
        self.domain = self.domain.and(domain);
        self
    }
    /// A value written on create.
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::odoo::ModelMap::contact().default_value("lang", "nl_BE");
    /// assert_eq!(m.defaults["lang"], "nl_BE");
    /// ```
    pub fn default_value(mut self, field: &str, value: impl Into<Value>) -> Self {
        self.defaults.insert(field.to_owned(), value.into());
        self
    }
    /// A value written on every new line of the lines field `canonical`
    /// (a service product on sale order lines, an income account on
    /// invoice lines). Does nothing if `canonical` is not a lines field.
    ///
    /// # Example
    ///
    /// ```
    /// use odoo_integration_connectors::odoo::{Conversion, ModelMap};
    /// let m = ModelMap::contract().line_default("lines", "product_id", 7);
    /// let lines = m.fields.iter().find(|f| f.canonical == "lines").unwrap();
    /// assert!(matches!(&lines.kind, Conversion::Lines { defaults, .. } if defaults["product_id"] == 7));
    /// ```
    pub fn line_default(mut self, canonical: &str, odoo: &str, value: impl Into<Value>) -> Self {
        if let Some(FieldMap {
            kind: Conversion::Lines { defaults, .. },
            ..
        }) = self.fields.iter_mut().find(|f| f.canonical == canonical)
        {
            defaults.insert(odoo.to_owned(), value.into());
        }
        self
    }
    /// The Odoo field a canonical field maps to.
    ///
    /// # Example
    ///
    /// See [`ModelMap`].
    pub fn odoo_field(&self, canonical: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.canonical == canonical)
            .map(|f| f.odoo.as_str())
    }

    /// Client organisations: companies in `res.partner`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::client().model, "res.partner");
    /// ```
    pub fn client() -> Self {
        use Conversion::*;
        // Not the firm's own companies (`res.company` partners).
        ModelMap::new("client", "res.partner")
            .domain(
                Domain::field("is_company")
                    .eq(true)
                    .and(Domain::field("ref_company_ids").eq(false)),
            )
            .default_value("is_company", true)
            .field("legal_name", "name", Text)
            .field("website", "website", Text)
            .field("tax_id", "vat", Text)
            .field(
                "industry",
                "industry_id",
                lookup("res.partner.industry", "name", false),
            )
            .field(
                "billing_terms",
                "property_payment_term_id",
                lookup("account.payment.term", "name", false),
            )
            .field("address.street", "street", Text)
            .field("address.city", "city", Text)
            .field("address.postal_code", "zip", Text)
            .field(
                "address.country",
                "country_id",
                lookup("res.country", "code", false),
            )
    }
    /// People at clients: individuals in `res.partner`, `parent_id` their company.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::contact().odoo_field("client"), Some("parent_id"));
    /// ```
    pub fn contact() -> Self {
        use Conversion::*;
        // Not the partners of Odoo's own users.
        ModelMap::new("contact", "res.partner")
            .domain(
                Domain::field("is_company")
                    .eq(false)
                    .and(Domain::field("user_ids").eq(false)),
            )
            .default_value("is_company", false)
            .field("name", "name", Text)
            .field("email", "email", Text)
            .field("phone", "phone", Text)
            .field("client", "parent_id", reference("client"))
    }
    /// Opportunities: `crm.lead` of type opportunity. The stage is not mapped
    /// by default (stages are per database); map it with a
    /// [`Conversion::Lookup`] on `crm.stage` if yours match the codes.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::opportunity().model, "crm.lead");
    /// ```
    pub fn opportunity() -> Self {
        use Conversion::*;
        ModelMap::new("opportunity", "crm.lead")
            .domain(Domain::field("type").eq("opportunity"))
            .default_value("type", "opportunity")
            .field("name", "name", Text)
            .field("client", "partner_id", reference("client"))
            .field(
                "amount",
                "expected_revenue",
                money(Some("company_currency")),
            )
            .field("close_date", "date_deadline", Date)
    }
    /// Engagements: `project.project`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::engagement().odoo_field("billable"), Some("allow_billable"));
    /// ```
    pub fn engagement() -> Self {
        use Conversion::*;
        ModelMap::new("engagement", "project.project")
            .field("name", "name", Text)
            .field("client", "partner_id", reference("client"))
            .field("start", "date_start", Date)
            .field("end", "date", Date)
            .field("billable", "allow_billable", Bool)
    }
    /// Contracts / statements of work: `sale.order` (the header; the
    /// billing model is not an Odoo field).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::contract().model, "sale.order");
    /// ```
    pub fn contract() -> Self {
        use Conversion::*;
        let mut m = ModelMap::new("contract", "sale.order")
            .field("reference", "client_order_ref", Text)
            .field("client", "partner_id", reference("client"))
            .field("signed_on", "signed_on", DateAsDateTimeField)
            .field(
                "lines",
                "order_line",
                lines(
                    "sale.order.line",
                    vec![
                        FieldMap::new("description", "name", Text),
                        FieldMap::new("quantity", "product_uom_qty", Decimal),
                        FieldMap::new("unit_price", "price_unit", money(None)),
                    ],
                ),
            );
        m.archive_field = None;
        m
    }
    /// Timesheet entries: `account.analytic.line` on a project. Community has
    /// no approval field: `approval` is not mapped; see the crate docs.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::timesheet_entry().odoo_field("hours"), Some("unit_amount"));
    /// ```
    pub fn timesheet_entry() -> Self {
        use Conversion::*;
        let mut m = ModelMap::new("timesheet_entry", "account.analytic.line")
            .domain(Domain::field("project_id").ne(false))
            .field("date", "date", Date)
            .field("hours", "unit_amount", Decimal)
            .field("employee", "employee_id", reference("employee"))
            .field("engagement", "project_id", reference("engagement"))
            .field("task", "name", Text);
        m.archive_field = None;
        m
    }
    /// Employees: `hr.employee`; departments are found (or created) by
    /// name, `employee_number` is the badge id (`barcode`), a terminated
    /// employee is archived (`active`) with the termination date as
    /// `departure_date`, the hire date is `contract_date_start` (Odoo 19;
    /// older versions keep it on `hr.contract`: drop the field there), and
    /// the working schedule is found by name (`resource.calendar`).
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::employee().odoo_field("manager"), Some("parent_id"));
    /// ```
    pub fn employee() -> Self {
        use Conversion::*;
        ModelMap::new("employee", "hr.employee")
            .field("employee_number", "barcode", Text)
            .field("name", "name", Text)
            .field("work_email", "work_email", Text)
            .field(
                "department",
                "department_id",
                lookup("hr.department", "name", true),
            )
            .field("job_title", "job_title", Text)
            .field("manager", "parent_id", reference("employee"))
            .field("cost_rate", "hourly_cost", money(None))
            .field("status", "active", Conversion::active_unless_terminated())
            .field("hire_date", "contract_date_start", Date)
            .field("termination_date", "departure_date", Date)
            .field("work_phone", "work_phone", Text)
            .field(
                "work_calendar",
                "resource_calendar_id",
                lookup("resource.calendar", "name", false),
            )
    }
    /// Expenses: `hr.expense`.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::expense().model, "hr.expense");
    /// ```
    pub fn expense() -> Self {
        use Conversion::*;
        let mut m = ModelMap::new("expense", "hr.expense")
            .field("employee", "employee_id", reference("employee"))
            .field("date", "date", Date)
            .field("amount", "total_amount", money(Some("currency_id")))
            .field("description", "name", Text);
        m.archive_field = None;
        m
    }
    /// Customer invoices: `account.move` with `move_type` `out_invoice`. The
    /// number and total are computed by Odoo: read, never written.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::invoice().defaults["move_type"], "out_invoice");
    /// ```
    pub fn invoice() -> Self {
        use Conversion::*;
        let mut m = ModelMap::new("invoice", "account.move")
            .domain(Domain::field("move_type").eq("out_invoice"))
            .default_value("move_type", "out_invoice")
            .read_field("number", "name", Text)
            .field("client", "partner_id", reference("client"))
            .field("date", "invoice_date", Date)
            .field("due", "invoice_date_due", Date)
            .read_field("total", "amount_total", money(Some("currency_id")))
            .field(
                "lines",
                "invoice_line_ids",
                lines(
                    "account.move.line",
                    vec![
                        FieldMap::new("description", "name", Text),
                        FieldMap::new("quantity", "quantity", Decimal),
                        FieldMap::new("unit_price", "price_unit", money(None)),
                    ],
                ),
            );
        m.archive_field = None;
        m
    }
    /// Payments received: `account.payment`, read only.
    ///
    /// # Example
    ///
    /// ```
    /// assert!(odoo_integration_connectors::odoo::ModelMap::payment().read_only);
    /// ```
    pub fn payment() -> Self {
        use Conversion::*;
        let mut m = ModelMap::new("payment", "account.payment")
            .domain(Domain::field("payment_type").eq("inbound"))
            .read_field("amount", "amount", money(Some("currency_id")))
            .read_field("received_at", "date", DateAsDateTime);
        m.archive_field = None;
        m.read_only = true;
        m
    }

    /// Every built-in map.
    ///
    /// # Example
    ///
    /// ```
    /// assert_eq!(odoo_integration_connectors::odoo::ModelMap::defaults().len(), 10);
    /// ```
    pub fn defaults() -> Vec<ModelMap> {
        vec![
            ModelMap::client(),
            ModelMap::contact(),
            ModelMap::opportunity(),
            ModelMap::engagement(),
            ModelMap::contract(),
            ModelMap::timesheet_entry(),
            ModelMap::employee(),
            ModelMap::expense(),
            ModelMap::invoice(),
            ModelMap::payment(),
        ]
    }

    /// The Odoo fields to read.
    pub(crate) fn read_fields(&self) -> Vec<String> {
        let mut out: Vec<String> = self.fields.iter().map(|f| f.odoo.clone()).collect();
        for f in &self.fields {
            if let Conversion::Money {
                currency_field: Some(c),
            } = &f.kind
            {
                out.push(c.clone());
            }
        }
        if let Some(a) = &self.archive_field {
            out.push(a.clone());
        }
        out.sort();
        out.dedup();
        out
    }
}

fn reference(entity: &str) -> Conversion {
    Conversion::Reference {
        entity: entity.into(),
    }
}

fn lookup(model: &str, key: &str, create: bool) -> Conversion {
    Conversion::Lookup {
        model: model.into(),
        key: key.into(),
        create,
    }
}

fn lines(model: &str, fields: Vec<FieldMap>) -> Conversion {
    Conversion::Lines {
        model: model.into(),
        fields,
        defaults: Map::new(),
    }
}

fn money(currency_field: Option<&str>) -> Conversion {
    Conversion::Money {
        currency_field: currency_field.map(Into::into),
    }
}

/// A lookup the writer must resolve to an id before sending.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct LookupKey {
    pub(crate) model: String,
    pub(crate) key: String,
    pub(crate) value: String,
    pub(crate) create: bool,
}

/// A value for Odoo, or a lookup to resolve first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum OdooValue {
    Plain(Value),
    Lookup(LookupKey),
}

/// The values to write for `record`: only `fields` (canonical names; all
/// that have a value when `None`, a record new to Odoo), never read-only
/// ones.
pub(crate) fn to_odoo<E: Entity>(
    map: &ModelMap,
    record: &E,
    fields: Option<&[String]>,
    links: &BTreeMap<CanonicalId, RemoteId>,
) -> Result<BTreeMap<String, OdooValue>> {
    let mut out = BTreeMap::new();
    for f in &map.fields {
        if f.read_only || fields.is_some_and(|only| !only.contains(&f.canonical)) {
            continue;
        }
        let value = record.get(&f.canonical).ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("{} has no field `{}`", E::NAME, f.canonical),
            )
        })?;
        // A record new to Odoo leaves out what it has no value for, so
        // Odoo's defaults (a working schedule, a company) apply.
        if fields.is_none() && value.is_null() {
            continue;
        }
        out.insert(f.odoo.clone(), encode(f, value, links)?);
    }
    Ok(out)
}

fn encode(
    f: &FieldMap,
    value: FieldValue,
    links: &BTreeMap<CanonicalId, RemoteId>,
) -> Result<OdooValue> {
    let plain = |v: Value| Ok(OdooValue::Plain(v));
    let mismatch = |value: &FieldValue| {
        Err(ConnectorError::new(
            ConnectorErrorKind::Mapping,
            format!(
                "{} → {}: cannot write a {} value as {:?}",
                f.canonical,
                f.odoo,
                value.kind(),
                f.kind
            ),
        ))
    };
    if value.is_null() {
        return plain(Value::Bool(false));
    }
    match (&f.kind, value) {
        (Conversion::Text, FieldValue::Text(s)) => plain(Value::String(s)),
        (Conversion::Bool, FieldValue::Bool(b)) => plain(Value::Bool(b)),
        (Conversion::Flag { true_for, .. }, FieldValue::Text(code)) => {
            plain(Value::Bool(true_for.contains(&code)))
        }
        (Conversion::Decimal, FieldValue::Decimal(d)) => plain(number(d, f)?),
        (Conversion::Money { .. }, FieldValue::Money(m)) => plain(number(m.amount(), f)?),
        (Conversion::Date, FieldValue::Date(d)) => {
            plain(Value::String(d.format("%Y-%m-%d").to_string()))
        }
        (Conversion::DateTime, FieldValue::DateTime(t)) => {
            plain(Value::String(t.format("%Y-%m-%d %H:%M:%S").to_string()))
        }
        (Conversion::DateAsDateTime, FieldValue::DateTime(t)) => {
            plain(Value::String(t.format("%Y-%m-%d").to_string()))
        }
        (Conversion::Reference { entity }, FieldValue::Id(id)) => {
            let remote = links.get(&id).ok_or_else(|| {
                ConnectorError::new(
                    ConnectorErrorKind::UnresolvedReference,
                    format!(
                        "{} → {}: {entity} {id} is not in Odoo yet",
                        f.canonical, f.odoo
                    ),
                )
            })?;
            let id: i64 = remote.as_str().parse().map_err(|_| {
                ConnectorError::new(
                    ConnectorErrorKind::Mapping,
                    format!("`{remote}` is not an Odoo id"),
                )
            })?;
            plain(Value::from(id))
        }
        (Conversion::Lookup { model, key, create }, FieldValue::Text(s)) => {
            Ok(OdooValue::Lookup(LookupKey {
                model: model.clone(),
                key: key.clone(),
                value: s,
                create: *create,
            }))
        }
        (Conversion::Selection(pairs), FieldValue::Text(s)) => {
            match pairs.iter().find(|(c, _)| *c == s) {
                Some((_, odoo)) => plain(Value::String(odoo.clone())),
                None => Err(ConnectorError::new(
                    ConnectorErrorKind::Mapping,
                    format!("{} → {}: no Odoo value for `{s}`", f.canonical, f.odoo),
                )),
            }
        }
        (Conversion::DateAsDateTimeField, FieldValue::Date(d)) => {
            plain(Value::String(d.format("%Y-%m-%d 00:00:00").to_string()))
        }
        (
            Conversion::Lines {
                fields, defaults, ..
            },
            FieldValue::Rows(rows),
        ) => {
            // Clear, then create: the lines are replaced as a whole.
            let mut commands = vec![serde_json::json!([5, 0, 0])];
            for row in rows {
                let mut values = defaults.clone();
                for child in fields.iter().filter(|c| !c.read_only) {
                    let value = row
                        .get(&child.canonical)
                        .cloned()
                        .unwrap_or(FieldValue::Null);
                    match encode(child, value, links)? {
                        OdooValue::Plain(v) => {
                            values.insert(child.odoo.clone(), v);
                        }
                        OdooValue::Lookup(_) => {
                            return Err(ConnectorError::new(
                                ConnectorErrorKind::Configuration,
                                format!(
                                    "{} → {}: lookups are not supported in lines",
                                    f.canonical, child.odoo
                                ),
                            ));
                        }
                    }
                }
                commands.push(serde_json::json!([0, 0, values]));
            }
            plain(Value::Array(commands))
        }
        (_, value) => mismatch(&value),
    }
}

fn number(d: Decimal, f: &FieldMap) -> Result<Value> {
    // Odoo's wire format for float and monetary fields is a JSON number.
    d.to_f64()
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| {
            ConnectorError::new(
                ConnectorErrorKind::Mapping,
                format!("{}: {d} is out of range", f.canonical),
            )
        })
}

/// A record read from Odoo, in canonical form.
#[derive(Debug)]
pub(crate) struct Decoded<E> {
    pub(crate) record: E,
    pub(crate) refs: BTreeMap<String, Reference>,
    pub(crate) archived: bool,
}

/// Turns an Odoo row into the canonical entity. `lookups` holds the key of
/// each looked-up record: `(model, id) → key value`.
pub(crate) fn from_odoo<E: Entity + Default>(
    map: &ModelMap,
    row: &Map<String, Value>,
    company_currency: Currency,
    lookups: &BTreeMap<(String, i64), String>,
    children: &BTreeMap<(String, i64), Map<String, Value>>,
) -> Result<Decoded<E>> {
    let mut record = E::default();
    let mut refs = BTreeMap::new();
    for f in &map.fields {
        if let Conversion::Lines { model, fields, .. } = &f.kind {
            let ids = row.get(&f.odoo).and_then(Value::as_array);
            let mut rows = Vec::new();
            for id in ids.into_iter().flatten().filter_map(Value::as_i64) {
                let Some(child) = children.get(&(model.clone(), id)) else {
                    continue; // deleted between the two reads
                };
                let mut out = BTreeMap::new();
                out.insert("id".to_owned(), FieldValue::Text(id.to_string()));
                for c in fields {
                    let raw = child.get(&c.odoo).unwrap_or(&Value::Bool(false));
                    out.insert(
                        c.canonical.clone(),
                        decode(model, c, raw, child, company_currency, lookups)?,
                    );
                }
                rows.push(out);
            }
            record
                .set(&f.canonical, FieldValue::Rows(rows))
                .map_err(|e| {
                    ConnectorError::new(
                        ConnectorErrorKind::Configuration,
                        format!("{}: {e}", map.model),
                    )
                })?;
            continue;
        }
        let raw = row.get(&f.odoo).unwrap_or(&Value::Bool(false));
        if let Conversion::Reference { entity } = &f.kind {
            if let Some(id) = many2one_id(raw) {
                refs.insert(
                    f.canonical.clone(),
                    Reference::new(entity.clone(), id.to_string()),
                );
            } else if !matches!(raw, Value::Bool(false) | Value::Null) {
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Protocol,
                    format!("{}.{}: unexpected value {raw}", map.model, f.odoo),
                ));
            }
            continue;
        }
        let value = decode(&map.model, f, raw, row, company_currency, lookups)?;
        record.set(&f.canonical, value).map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("{}: {e}", map.model),
            )
        })?;
    }
    let archived = map
        .archive_field
        .as_ref()
        .and_then(|a| row.get(a))
        .is_some_and(|v| v == &Value::Bool(false));
    Ok(Decoded {
        record,
        refs,
        archived,
    })
}

/// One Odoo value in canonical form (references and lines are handled by
/// the caller).
fn decode(
    model: &str,
    f: &FieldMap,
    raw: &Value,
    row: &Map<String, Value>,
    company_currency: Currency,
    lookups: &BTreeMap<(String, i64), String>,
) -> Result<FieldValue> {
    let bad = || {
        ConnectorError::new(
            ConnectorErrorKind::Protocol,
            format!("{model}.{}: unexpected value {raw}", f.odoo),
        )
    };
    let boolean = matches!(f.kind, Conversion::Bool | Conversion::Flag { .. });
    if matches!(raw, Value::Bool(false) | Value::Null) && !boolean {
        return Ok(FieldValue::Null);
    }
    Ok(match &f.kind {
        Conversion::Text => FieldValue::Text(raw.as_str().ok_or_else(bad)?.to_owned()),
        Conversion::Bool => FieldValue::Bool(raw.as_bool().ok_or_else(bad)?),
        Conversion::Flag {
            read_true,
            read_false,
            ..
        } => {
            let yes = raw.as_bool().unwrap_or(false);
            FieldValue::Text(if yes { read_true } else { read_false }.clone())
        }
        Conversion::Decimal => FieldValue::Decimal(decimal(raw).ok_or_else(bad)?),
        Conversion::Money { currency_field } => {
            let currency = currency_field
                .as_ref()
                .and_then(|c| row.get(c))
                .and_then(|c| c.get(1))
                .and_then(Value::as_str)
                .and_then(|code| code.parse::<Currency>().ok())
                .unwrap_or(company_currency);
            FieldValue::Money(Money::new(decimal(raw).ok_or_else(bad)?, currency))
        }
        Conversion::Date => FieldValue::Date(date(raw).ok_or_else(bad)?),
        Conversion::DateTime => {
            let t =
                NaiveDateTime::parse_from_str(raw.as_str().ok_or_else(bad)?, "%Y-%m-%d %H:%M:%S")
                    .map_err(|_| bad())?;
            FieldValue::DateTime(Utc.from_utc_datetime(&t))
        }
        Conversion::DateAsDateTime => {
            let d = date(raw).ok_or_else(bad)?;
            FieldValue::DateTime(Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)))
        }
        Conversion::DateAsDateTimeField => FieldValue::Date(date(raw).ok_or_else(bad)?),
        Conversion::Lookup { model, .. } => {
            let id = many2one_id(raw).ok_or_else(bad)?;
            match lookups.get(&(model.clone(), id)) {
                Some(key) => FieldValue::Text(key.clone()),
                None => FieldValue::Null,
            }
        }
        Conversion::Selection(pairs) => {
            let s = raw.as_str().ok_or_else(bad)?;
            match pairs.iter().find(|(_, o)| o == s) {
                Some((c, _)) => FieldValue::Text(c.clone()),
                None => return Err(bad()),
            }
        }
        Conversion::Reference { .. } | Conversion::Lines { .. } => {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("{model}.{}: not supported inside lines", f.odoo),
            ));
        }
    })
}

pub(crate) fn many2one_id(v: &Value) -> Option<i64> {
    match v {
        Value::Array(pair) => pair.first().and_then(Value::as_i64),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => Some(Decimal::from(i)),
            // Odoo floats are shortest round-trip decimals; read them as such.
            None => n
                .to_string()
                .parse()
                .ok()
                .or_else(|| n.as_f64().and_then(Decimal::from_f64)),
        },
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn date(v: &Value) -> Option<NaiveDate> {
    let s = v.as_str()?;
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}
