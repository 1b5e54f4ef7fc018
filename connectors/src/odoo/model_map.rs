//! Declarative maps between canonical entities and Odoo models, built of
//! the shared [`FieldMap`]s.

use crate::mapping::{Conversion, FieldMap};
use odoo_integration_client::Domain;
use serde_json::{Map, Value};

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
    /// The canonical date that books a record in an accounting period
    /// (an invoice's `date`): a record dated on or before the company's
    /// lock date is held ([`PeriodLocked`](crate::ConnectorErrorKind::PeriodLocked)),
    /// not written. `None`: not an accounting record.
    pub period_date: Option<String>,
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
            period_date: None,
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
    /// assert!(matches!(&lines.conversion, Conversion::Rows { defaults, .. } if defaults["product_id"] == 7));
    /// ```
    pub fn line_default(mut self, canonical: &str, odoo: &str, value: impl Into<Value>) -> Self {
        if let Some(FieldMap {
            conversion: Conversion::Rows { defaults, .. },
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
            .map(|f| f.vendor.as_str())
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
    /// Engagements: `project.project`; the manager is the user whose login
    /// is the manager's email (`user_id`; no such user is an `Invalid`
    /// error for that record).
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
            .field("manager", "user_id", lookup("res.users", "login", false))
    }
    /// Contracts / statements of work: `sale.order` (the header; the
    /// billing model is not an Odoo field) with its lines. A line's product
    /// is found by its internal reference (`default_code`); a line without
    /// one takes the map's line default (`line_default("lines",
    /// "product_id", id)`), and a line without a unit price is priced by
    /// Odoo (the order's price list).
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
            .field("signed_on", "signed_on", DateInDateTime)
            .field(
                "lines",
                "order_line",
                lines(
                    "sale.order.line",
                    vec![
                        FieldMap::new("description", "name", Text),
                        FieldMap::new("quantity", "product_uom_qty", Number),
                        FieldMap::new("unit_price", "price_unit", money(None)),
                        FieldMap::new(
                            "product",
                            "product_id",
                            lookup("product.product", "default_code", false),
                        ),
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
            .field("hours", "unit_amount", Number)
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
    /// Expenses: `hr.expense`, as Odoo 19 has them. The amount is the
    /// total in the company's currency (`total_amount`, whose currency is
    /// `company_currency_id`; what the employee paid in another currency
    /// is `total_amount_currency`). Odoo has no "rebillable" flag: an
    /// expense is re-invoiced when its product (the expense category) has
    /// a re-invoicing policy (`expense_policy` `cost` or `sales_price`),
    /// which Odoo computes as `can_be_reinvoiced`, read here as
    /// `rebillable`; the customer order it is re-invoiced on is
    /// `sale_order_id` (see
    /// [`workflows::timesheets`](crate::workflows::timesheets)). The
    /// approval is the expense's `state`: `approved`, and the later
    /// `posted`, `in_payment` and `paid`, are approved; `refused` is
    /// rejected. Those three are computed by Odoo: read, never written.
    ///
    /// # Example
    ///
    /// ```
    /// let m = odoo_integration_connectors::odoo::ModelMap::expense();
    /// assert_eq!(m.model, "hr.expense");
    /// assert_eq!(m.odoo_field("rebillable"), Some("can_be_reinvoiced"));
    /// ```
    pub fn expense() -> Self {
        use Conversion::*;
        let approval = [
            ("draft", "draft"),
            ("submitted", "submitted"),
            ("approved", "approved"),
            ("approved", "posted"),
            ("approved", "in_payment"),
            ("approved", "paid"),
            ("rejected", "refused"),
        ];
        let mut m = ModelMap::new("expense", "hr.expense")
            .field("employee", "employee_id", reference("employee"))
            .field("date", "date", Date)
            .field("amount", "total_amount", money(Some("company_currency_id")))
            .field("description", "name", Text)
            .read_field("rebillable", "can_be_reinvoiced", Bool)
            .read_field("approval", "state", Conversion::codes(approval));
        m.archive_field = None;
        m
    }
    /// Customer invoices: `account.move` with `move_type` `out_invoice`. The
    /// number, total, payment state and amount due (`amount_residual`) are
    /// computed by Odoo: read, never written.
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
            .read_field(
                "payment_state",
                "payment_state",
                Codes {
                    pairs: [
                        ("not_paid", "not_paid"),
                        ("partial", "partial"),
                        ("in_payment", "in_payment"),
                        ("paid", "paid"),
                        ("reversed", "reversed"),
                        // Paid before accounting was installed.
                        ("paid", "invoicing_legacy"),
                        // Odoo 18+: payment blocked by the accountant.
                        ("not_paid", "blocked"),
                    ]
                    .into_iter()
                    .map(|(c, v)| (c.to_owned(), v.to_owned()))
                    .collect(),
                    otherwise: None,
                },
            )
            .read_field("amount_due", "amount_residual", money(Some("currency_id")))
            .field(
                "lines",
                "invoice_line_ids",
                lines(
                    "account.move.line",
                    vec![
                        FieldMap::new("description", "name", Text),
                        FieldMap::new("quantity", "quantity", Number),
                        FieldMap::new("unit_price", "price_unit", money(None)),
                    ],
                ),
            );
        m.archive_field = None;
        m.period_date = Some("date".into());
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
            .read_field("received_at", "date", InstantInDate);
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
        let mut out: Vec<String> = self
            .fields
            .iter()
            .flat_map(FieldMap::sources)
            .map(str::to_owned)
            .collect();
        if let Some(a) = &self.archive_field {
            out.push(a.clone());
        }
        out.sort();
        out.dedup();
        out
    }
}

fn reference(entity: &str) -> Conversion {
    Conversion::reference(entity)
}

fn lookup(model: &str, key: &str, create: bool) -> Conversion {
    Conversion::lookup(model, key, create)
}

fn lines(model: &str, fields: Vec<FieldMap>) -> Conversion {
    Conversion::rows(model, fields)
}

fn money(currency_field: Option<&str>) -> Conversion {
    Conversion::Money {
        currency_field: currency_field.map(Into::into),
    }
}
