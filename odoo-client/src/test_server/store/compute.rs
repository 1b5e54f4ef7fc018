//! What Odoo works out on its own: values read through relations, computed
//! fields sync code relies on (display names, amounts, commercial
//! partners), sequences, defaults of required fields, and the records a
//! model delegates fields to.

use serde_json::{Map, Value, json};

use super::{Field, FieldKind, ModelDef, R, Raise, Store};

/// Fields through which a model stores part of its values in another
/// record (Odoo's `_inherits` and its kin): creating the record creates
/// that one too, with the values of the fields related through it.
const DELEGATES: &[(&str, &str)] = &[
    ("product.product", "product_tmpl_id"),
    ("res.users", "partner_id"),
    ("res.company", "partner_id"),
    ("hr.employee", "resource_id"),
    ("hr.employee", "version_id"),
    ("project.project", "alias_id"),
];

/// Whether `field` holds the record `model` delegates fields to.
pub(super) fn is_delegate(model: &str, field: &str) -> bool {
    DELEGATES.iter().any(|(m, f)| *m == model && *f == field)
}

/// A product's service invoicing policy, from its invoicing policy and
/// how its service is tracked (`sale_project`'s mapping; a service
/// outside it is prepaid); goods have none.
fn service_policy(kind: Option<&str>, invoice: Option<&str>, track: Option<&str>) -> Value {
    let policy = match (invoice, track) {
        (Some("order"), Some("manual")) => "ordered_prepaid",
        (Some("delivery"), Some("milestones")) => "delivered_milestones",
        (Some("delivery"), Some("timesheet")) => "delivered_timesheet",
        (Some("delivery"), Some("manual")) => "delivered_manual",
        _ if kind == Some("service") => "ordered_prepaid",
        _ => return Value::Bool(false),
    };
    json!(policy)
}

/// The invoicing policy and service tracking a service invoicing policy
/// sets (its inverse), if it is one.
pub(super) fn service_policy_inverse(policy: &str) -> Option<(&'static str, &'static str)> {
    Some(match policy {
        "ordered_prepaid" => ("order", "manual"),
        "delivered_milestones" => ("delivery", "milestones"),
        "delivered_timesheet" => ("delivery", "timesheet"),
        "delivered_manual" => ("delivery", "manual"),
        _ => return None,
    })
}

/// The address fields a contact takes from its company.
const ADDRESS: &[&str] = &["street", "street2", "zip", "city", "state_id", "country_id"];

/// How deep a related path or a parent chain is followed.
const MAX_DEPTH: usize = 16;

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

impl Store {
    /// A field's value as stored: a many2one is an id or `false`, an
    /// x2many a list of ids, an empty field Odoo's empty value.
    pub(crate) fn raw(&self, def: &ModelDef, id: i64, field: &Field) -> Value {
        self.raw_at(def, id, field, 0)
    }

    fn raw_at(&self, def: &ModelDef, id: i64, field: &Field, depth: usize) -> Value {
        if field.name == "id" {
            return json!(id);
        }
        if depth > MAX_DEPTH {
            return field.kind.empty();
        }
        if let Some(v) = self.computed(def, id, field) {
            return v;
        }
        if let Some(path) = &field.related {
            return self.follow(def, id, path, field, depth + 1);
        }
        if field.kind == FieldKind::One2Many {
            return json!(self.children(field, id));
        }
        let Some(row) = self.tables.get(&def.name).and_then(|t| t.get(&id)) else {
            return field.kind.empty();
        };
        match row.get(&field.name) {
            None | Some(Value::Null) => field.kind.empty(),
            Some(Value::String(s)) if s.is_empty() => field.kind.empty(),
            Some(v) => v.clone(),
        }
    }

    /// The value at the end of a related path (`company_id.currency_id`);
    /// through an x2many, its first record, as Odoo does.
    fn follow(&self, def: &ModelDef, id: i64, path: &str, field: &Field, depth: usize) -> Value {
        let (hop, rest) = match path.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (path, None),
        };
        let Some(first) = def.fields.get(hop) else {
            return field.kind.empty();
        };
        let Some(rest) = rest else {
            // A plain alias of another field of the same record.
            return self.raw_at(def, id, first, depth + 1);
        };
        let Some((tdef, tid)) = self.hop(def, id, first) else {
            return field.kind.empty();
        };
        if rest.contains('.') {
            return self.follow(tdef, tid, rest, field, depth + 1);
        }
        match tdef.fields.get(rest) {
            Some(f) => self.raw_at(tdef, tid, f, depth + 1),
            None => field.kind.empty(),
        }
    }

    /// The record a relational field points to (the first one, for an
    /// x2many), if it exists.
    pub(super) fn hop(
        &self,
        def: &ModelDef,
        id: i64,
        field: &Field,
    ) -> Option<(&std::sync::Arc<ModelDef>, i64)> {
        if !field.kind.relational() {
            return None;
        }
        let target = self.models.get(field.relation.as_deref()?)?;
        let tid = match self.raw(def, id, field) {
            Value::Array(ids) => ids.first().and_then(Value::as_i64)?,
            v => v.as_i64()?,
        };
        self.tables
            .get(&target.name)
            .is_some_and(|t| t.contains_key(&tid))
            .then_some((target, tid))
    }

    /// The children of a one2many: the records whose inverse field
    /// points here.
    fn children(&self, field: &Field, id: i64) -> Vec<i64> {
        let (Some(target), Some(inverse)) = (&field.relation, &field.inverse) else {
            return Vec::new();
        };
        self.tables
            .get(target)
            .map(|t| {
                t.iter()
                    .filter(|(_, r)| r.get(inverse).and_then(Value::as_i64) == Some(id))
                    .map(|(k, _)| *k)
                    .collect()
            })
            .unwrap_or_default()
    }

    fn number(&self, model: &str, id: i64, field: &str) -> f64 {
        self.value(model, id, field).as_f64().unwrap_or(0.0)
    }

    fn text(&self, model: &str, id: i64, field: &str) -> Option<String> {
        match self.value(model, id, field) {
            Value::String(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }

    /// A field's stored value by names (`false` if there is none).
    pub(crate) fn value(&self, model: &str, id: i64, field: &str) -> Value {
        let Some(def) = self.models.get(model) else {
            return Value::Bool(false);
        };
        match def.fields.get(field) {
            Some(f) => self.raw(def, id, f),
            None => Value::Bool(false),
        }
    }

    fn line_subtotal(&self, model: &str, id: i64, quantity: &str) -> f64 {
        let discount = self.number(model, id, "discount");
        round2(
            self.number(model, id, "price_unit")
                * self.number(model, id, quantity)
                * (1.0 - discount / 100.0),
        )
    }

    fn lines_total(&self, model: &str, id: i64, lines: &str, quantity: &str) -> f64 {
        let Some(def) = self.models.get(model) else {
            return 0.0;
        };
        let Some(field) = def.fields.get(lines) else {
            return 0.0;
        };
        let target = field.relation.clone().unwrap_or_default();
        let ids: Vec<i64> = self
            .raw(def, id, field)
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_i64).collect())
            .unwrap_or_default();
        round2(
            ids.iter()
                .map(|&l| self.line_subtotal(&target, l, quantity))
                .sum(),
        )
    }

    /// The record at the top of a partner's company: itself if it is a
    /// company or has no parent, else its parent's commercial partner.
    fn commercial_partner(&self, id: i64) -> i64 {
        let mut current = id;
        for _ in 0..MAX_DEPTH {
            let is_company = self.value("res.partner", current, "is_company") == json!(true);
            match self.value("res.partner", current, "parent_id").as_i64() {
                Some(parent) if !is_company => current = parent,
                _ => return current,
            }
        }
        current
    }

    /// The fields the server computes, whatever is stored.
    fn computed(&self, def: &ModelDef, id: i64, field: &Field) -> Option<Value> {
        let model = def.name.as_str();
        Some(match (model, field.name.as_str()) {
            (_, "display_name") => json!(self.display_name(model, id)),
            ("res.partner", "complete_name") => json!(self.display_name(model, id)),
            ("res.partner", "commercial_partner_id") => json!(self.commercial_partner(id)),
            ("res.partner", "commercial_company_name") => {
                let top = self.commercial_partner(id);
                match self.value(model, top, "is_company") {
                    Value::Bool(true) => self.value(model, top, "name"),
                    _ => Value::Bool(false),
                }
            }
            ("res.partner", "company_type") => {
                let company = self.value(model, id, "is_company") == json!(true);
                json!(if company { "company" } else { "person" })
            }
            ("hr.department", "complete_name") => json!(self.display_name(model, id)),
            ("ir.model.data", "complete_name") => json!(format!(
                "{}.{}",
                self.text(model, id, "module").unwrap_or_default(),
                self.text(model, id, "name").unwrap_or_default()
            )),
            ("sale.order.line", "price_subtotal" | "price_total") => {
                json!(self.line_subtotal(model, id, "product_uom_qty"))
            }
            ("account.move.line", "price_subtotal" | "price_total") => {
                json!(self.line_subtotal(model, id, "quantity"))
            }
            ("sale.order.line" | "account.move.line", "price_tax")
            | ("sale.order" | "account.move", "amount_tax" | "amount_tax_signed") => json!(0.0),
            ("sale.order", "amount_untaxed" | "amount_total") => {
                json!(self.lines_total(model, id, "order_line", "product_uom_qty"))
            }
            (
                "account.move",
                "amount_untaxed"
                | "amount_total"
                | "amount_residual"
                | "amount_untaxed_signed"
                | "amount_total_signed"
                | "amount_residual_signed"
                | "amount_total_in_currency_signed",
            ) => {
                let total = self.lines_total(model, id, "invoice_line_ids", "quantity");
                let paid = self.value(model, id, "payment_state") == json!("paid");
                let total = if field.name.starts_with("amount_residual") && paid {
                    0.0
                } else {
                    total
                };
                let negative = matches!(
                    self.value(model, id, "move_type").as_str(),
                    Some("out_refund" | "in_invoice" | "in_receipt")
                );
                json!(if field.name.contains("signed") && negative {
                    -total
                } else {
                    total
                })
            }
            ("product.template", "service_policy") => service_policy(
                self.value(model, id, "type").as_str(),
                self.value(model, id, "invoice_policy").as_str(),
                self.value(model, id, "service_type").as_str(),
            ),
            // `sale_expense`: an expense is re-invoiced when its product
            // (its category) says so, at cost or at the sales price.
            ("hr.expense", "can_be_reinvoiced") => {
                let policy = match self.value(model, id, "product_id").as_i64() {
                    Some(product) => self.value("product.product", product, "expense_policy"),
                    None => Value::Bool(false),
                };
                json!(matches!(policy.as_str(), Some("cost" | "sales_price")))
            }
            ("project.project", "task_count") => {
                let tasks = self.tables.get("project.task").map_or(0, |t| {
                    t.values()
                        .filter(|r| r.get("project_id").and_then(Value::as_i64) == Some(id))
                        .count()
                });
                json!(tasks)
            }
            _ => return None,
        })
    }

    /// The name Odoo shows for a record.
    pub(crate) fn display_name(&self, model: &str, id: i64) -> String {
        let Some(def) = self.models.get(model) else {
            return String::new();
        };
        if !self.tables.get(model).is_some_and(|t| t.contains_key(&id)) {
            return format!("{model},{id}");
        }
        let own = || {
            def.fields
                .get(&def.rec_name)
                .map(|f| self.raw(def, id, f))
                .and_then(|v| v.as_str().map(str::to_owned))
        };
        let named = match model {
            "res.partner" => {
                let name = own();
                let company = self.value(model, id, "is_company") == json!(true);
                match self.value(model, id, "parent_id").as_i64() {
                    Some(parent) if !company => {
                        let top = self.display_name(model, self.commercial_partner(parent));
                        Some(match name {
                            Some(n) => format!("{top}, {n}"),
                            None => top,
                        })
                    }
                    _ => name,
                }
            }
            "hr.department" => {
                let name = own().unwrap_or_default();
                match self.value(model, id, "parent_id").as_i64() {
                    Some(parent) if parent != id => {
                        Some(format!("{} / {name}", self.display_name(model, parent)))
                    }
                    _ => Some(name),
                }
            }
            "sale.order.line" => {
                let order = self
                    .value(model, id, "order_id")
                    .as_i64()
                    .map(|o| self.display_name("sale.order", o));
                let name = own().map(|n| n.lines().next().unwrap_or_default().to_owned());
                match (order, name) {
                    (Some(o), Some(n)) => Some(format!("{o} - {n}")),
                    (o, n) => n.or(o),
                }
            }
            "account.move.line" => own().or_else(|| {
                self.value(model, id, "move_id")
                    .as_i64()
                    .map(|m| self.display_name("account.move", m))
            }),
            "ir.model.data" => own(),
            _ => own(),
        };
        named.unwrap_or_else(|| format!("{model},{id}"))
    }

    /// The next number of a sequence, as Odoo's `ir.sequence` gives it.
    fn next_in(&mut self, sequence: &str) -> i64 {
        let n = self.sequences.entry(sequence.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    fn today(&self) -> String {
        self.now_text()[..10].to_owned()
    }

    fn first_id(&self, model: &str, filter: impl Fn(&Map<String, Value>) -> bool) -> Option<i64> {
        self.tables
            .get(model)?
            .iter()
            .find(|(_, r)| filter(r))
            .map(|(id, _)| *id)
    }

    /// The main company and its currency, where they exist.
    fn company(&self) -> Option<i64> {
        self.first_id("res.company", |_| true)
    }

    /// The date up to which `company`'s books are closed to entries of
    /// `move_type`: the latest of the global and hard lock dates, and the
    /// sales (customer documents) or purchase (vendor bills) lock date.
    /// Tax lock dates are left out: the embedded Odoo computes no taxes.
    pub(super) fn lock_date(&self, company: Option<i64>, move_type: &str) -> Option<String> {
        let company = company.or_else(|| self.company())?;
        let mut fields = vec!["fiscalyear_lock_date", "hard_lock_date"];
        if move_type.starts_with("out_") {
            fields.push("sale_lock_date");
        } else if move_type.starts_with("in_") {
            fields.push("purchase_lock_date");
        }
        fields
            .into_iter()
            .filter_map(|f| self.text("res.company", company, f))
            .max()
    }

    /// Odoo's accounting date of an invoice dated `invoice_date`: that
    /// date, or, inside a locked period, the first day after the lock
    /// (Odoo moves a draft's accounting date out of a closed period
    /// without a word; posting then books it there).
    pub(super) fn accounting_date(
        &self,
        company: Option<i64>,
        move_type: &str,
        invoice_date: &str,
    ) -> String {
        match self.lock_date(company, move_type) {
            Some(lock) if invoice_date <= lock.as_str() => {
                chrono::NaiveDate::parse_from_str(&lock, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.succ_opt())
                    .map_or(lock, |d| d.format("%Y-%m-%d").to_string())
            }
            _ => invoice_date.to_owned(),
        }
    }

    fn company_currency(&self) -> Option<i64> {
        let company = self.company()?;
        self.value("res.company", company, "currency_id")
            .as_i64()
            .or_else(|| self.first_id("res.currency", |_| true))
    }

    /// The value Odoo gives a field a create leaves out, if any.
    fn default_value(
        &self,
        def: &ModelDef,
        field: &Field,
        vals: &Map<String, Value>,
    ) -> Option<Value> {
        let model = def.name.as_str();
        let name = field.name.as_str();
        let given = |k: &str| {
            vals.get(k)
                .filter(|v| !matches!(v, Value::Null | Value::Bool(false)))
        };
        let special = match (model, name) {
            (_, "active") => Some(json!(true)),
            ("sale.order", "partner_invoice_id" | "partner_shipping_id") => given("partner_id")
                .and_then(Value::as_i64)
                .map(|p| json!(p)),
            ("sale.order", "state") | ("account.move", "state") | ("account.payment", "state") => {
                Some(json!("draft"))
            }
            ("account.move", "name") => Some(json!("/")),
            ("account.move", "journal_id") => {
                let kind = match given("move_type").and_then(Value::as_str) {
                    Some(t) if t.starts_with("out_") => "sale",
                    Some(t) if t.starts_with("in_") => "purchase",
                    _ => "general",
                };
                self.first_id("account.journal", |r| r.get("type") == Some(&json!(kind)))
                    .map(|j| json!(j))
            }
            ("account.payment", "journal_id") => self
                .first_id("account.journal", |r| {
                    matches!(r.get("type").and_then(Value::as_str), Some("bank" | "cash"))
                })
                .map(|j| json!(j)),
            ("account.move.line", "currency_id") => given("move_id")
                .and_then(Value::as_i64)
                .map(|m| self.value("account.move", m, "currency_id"))
                .filter(|c| c.as_i64().is_some())
                .or_else(|| self.company_currency().map(|c| json!(c))),
            ("account.analytic.line", "name") => Some(json!("/")),
            ("product.template", "sale_ok" | "purchase_ok") => Some(json!(true)),
            ("product.template", "invoice_policy") => Some(json!("order")),
            ("product.template", "service_type") => Some(json!("manual")),
            // Priced from the product: Odoo's default price list, without
            // rules, gives the sales price (price list rules are not
            // modelled).
            ("sale.order.line", "price_unit") => given("product_id")
                .and_then(Value::as_i64)
                .map(|p| self.value("product.product", p, "list_price"))
                .filter(Value::is_number),
            // Without the "leads" feature, new leads are opportunities.
            ("crm.lead", "type") => Some(json!("opportunity")),
            ("crm.lead" | "project.task" | "sale.order", "user_id") => self
                .tables
                .get("res.users")
                .is_some_and(|t| t.contains_key(&self.uid))
                .then(|| json!(self.uid)),
            ("sale.order.line", "name") => given("product_id")
                .and_then(Value::as_i64)
                .map(|p| json!(self.display_name("product.product", p))),
            ("hr.expense", "employee_id") => self
                .first_id("hr.employee", |r| {
                    r.get("user_id").and_then(Value::as_i64) == Some(self.uid)
                })
                .map(|e| json!(e)),
            ("sale.order.line" | "hr.expense", "product_uom_qty" | "quantity")
            | ("uom.uom", "relative_factor") => Some(json!(1.0)),
            ("res.company", "fiscalyear_last_day") => Some(json!(31)),
            ("project.project", "alias_defaults") => Some(json!("{}")),
            (_, "sequence") if field.kind == FieldKind::Integer => Some(json!(10)),
            _ => None,
        };
        if special.is_some() {
            return special;
        }
        let relation = field.relation.as_deref();
        match field.kind {
            FieldKind::Many2One if relation == Some("res.company") => {
                self.company().map(|c| json!(c))
            }
            FieldKind::Many2One if relation == Some("res.currency") && name == "currency_id" => {
                self.company_currency().map(|c| json!(c))
            }
            _ if !field.required => None,
            FieldKind::Many2One if relation == Some("res.users") => self
                .tables
                .get("res.users")
                .is_some_and(|t| t.contains_key(&self.uid))
                .then(|| json!(self.uid)),
            FieldKind::Many2One => {
                // The first unit, analytic plan or tax group stands for
                // Odoo's default one.
                let target = relation.filter(|t| {
                    matches!(
                        *t,
                        "uom.uom" | "account.analytic.plan" | "account.tax.group"
                    )
                })?;
                self.first_id(target, |_| true).map(|t| json!(t))
            }
            FieldKind::Selection => field.selection.first().map(|(k, _)| json!(k)),
            FieldKind::Date => Some(json!(self.today())),
            FieldKind::Datetime => Some(json!(self.now_text())),
            FieldKind::Integer | FieldKind::Float | FieldKind::Monetary => Some(field.kind.empty()),
            _ => None,
        }
    }

    /// `default_get`: the values a new record would get for these fields
    /// from the defaults Odoo declares (not the company and currency
    /// every record gets, nor zeros).
    pub(super) fn defaults(&self, def: &ModelDef, names: &[String]) -> Map<String, Value> {
        let none = Map::new();
        names
            .iter()
            .filter_map(|n| def.fields.get(n))
            .filter(|f| f.relation.as_deref() != Some("res.company"))
            .filter_map(|f| Some((f.name.clone(), self.default_value(def, f, &none)?)))
            .filter(|(_, v)| !matches!(v, Value::Bool(false)) && v != &json!(0) && v != &json!(0.0))
            .collect()
    }

    /// Fills in what a create leaves out: defaults, sequence numbers and
    /// the delegate records; then checks required fields.
    pub(super) fn complete_create(
        &mut self,
        def: &ModelDef,
        vals: &mut Map<String, Value>,
    ) -> R<()> {
        let is_empty = |v: Option<&Value>| {
            v.is_none_or(|v| matches!(v, Value::Null | Value::Bool(false)) || v == "")
        };
        if def.name == "sale.order"
            && (is_empty(vals.get("name")) || vals.get("name") == Some(&json!("New")))
        {
            let n = self.next_in("sale.order");
            vals.insert("name".into(), json!(format!("S{n:05}")));
        }
        // A contact lives at its company's address (Odoo's address sync),
        // unless it is given one or is an address of its own.
        if def.name == "res.partner"
            && let Some(parent) = vals.get("parent_id").and_then(Value::as_i64)
            && vals
                .get("type")
                .is_none_or(|t| matches!(t, Value::Bool(false)) || t == "contact")
            && !ADDRESS.iter().any(|f| vals.contains_key(*f))
        {
            for f in ADDRESS {
                let v = self.value("res.partner", parent, f);
                if !matches!(v, Value::Bool(false)) {
                    vals.insert((*f).to_owned(), v);
                }
            }
        }
        if def.name == "account.move"
            && is_empty(vals.get("date"))
            && let Some(invoice_date) = vals.get("invoice_date").and_then(Value::as_str)
        {
            let kind = vals
                .get("move_type")
                .and_then(Value::as_str)
                .unwrap_or("entry");
            let company = vals.get("company_id").and_then(Value::as_i64);
            let date = self.accounting_date(company, kind, invoice_date);
            vals.insert("date".into(), json!(date));
        }
        if def.name == "res.partner"
            && let Some(kind) = vals.remove("company_type")
        {
            vals.insert("is_company".into(), json!(kind == "company"));
        }
        let delegated = |f: &Field| {
            f.related.as_deref().is_some_and(|r| {
                DELEGATES
                    .iter()
                    .any(|(m, hop)| *m == def.name && r.split('.').next() == Some(*hop))
            })
        };
        for field in def.fields.values() {
            if (field.related.is_none() || delegated(field))
                && !vals.contains_key(&field.name)
                && let Some(v) = self.default_value(def, field, vals)
            {
                vals.insert(field.name.clone(), v);
            }
        }
        for (model, hop) in DELEGATES {
            if *model != def.name || !is_empty(vals.get(*hop)) {
                continue;
            }
            let Some(field) = def.fields.get(*hop) else {
                continue;
            };
            let target = field.relation.clone().unwrap_or_default();
            let prefix = format!("{hop}.");
            let mut through = Map::new();
            for f in def.fields.values() {
                if let Some(rest) = f.related.as_deref().and_then(|r| r.strip_prefix(&prefix))
                    && !rest.contains('.')
                    && let Some(v) = vals.get(&f.name)
                {
                    through.insert(rest.to_owned(), v.clone());
                }
            }
            let tdef = self.model(&target)?.clone();
            through.retain(|k, _| tdef.fields.contains_key(k));
            let id = self.create_one(&tdef.name, &through, self.caller())?;
            vals.insert((*hop).to_owned(), json!(id));
        }
        for field in def.fields.values().filter(|f| f.required) {
            if field.related.is_some() || !is_empty(vals.get(&field.name)) {
                continue;
            }
            if matches!(
                field.kind,
                FieldKind::Boolean | FieldKind::Integer | FieldKind::Float | FieldKind::Monetary
            ) || field.kind == FieldKind::One2Many
            {
                continue;
            }
            return Err(Raise::new(
                "odoo.exceptions.ValidationError",
                format!(
                    "The operation cannot be completed: Missing required value for the field '{}' ({}).\nModel: '{}' ({})\n- create/update: a mandatory field is not set\n- delete: another model requires the record being deleted. If possible, archive it instead.",
                    field.string, field.name, def.description, def.name
                ),
            ));
        }
        Ok(())
    }

    /// Odoo's business rules on a write, before it is applied.
    pub(super) fn check_rules(&self, def: &ModelDef, id: i64, vals: &Map<String, Value>) -> R<()> {
        if def.name == "res.partner" {
            let now = |k: &str| {
                vals.get(k)
                    .cloned()
                    .unwrap_or_else(|| self.value(&def.name, id, k))
            };
            let contact =
                matches!(now("type"), Value::Bool(false)) || now("type") == json!("contact");
            if contact && now("name").as_str().is_none_or(str::is_empty) {
                return Err(Raise::new(
                    "odoo.exceptions.ValidationError",
                    "The operation cannot be completed: Contacts require a name",
                ));
            }
        }
        if def.name == "sale.order.line" {
            let is_set = |k: &str| match vals.get(k) {
                Some(v) => !matches!(v, Value::Null | Value::Bool(false)),
                None => self.value(&def.name, id, k).as_i64().is_some(),
            };
            let section = match vals.get("display_type") {
                Some(v) => v.is_string(),
                None => self.value(&def.name, id, "display_type").is_string(),
            };
            if !section && !is_set("product_id") {
                return Err(Raise::new(
                    "odoo.exceptions.ValidationError",
                    "Missing required fields on accountable sale order line.",
                ));
            }
        }
        Ok(())
    }

    /// `sale.order.action_confirm`: confirms quotations (draft or sent)
    /// whose every line has a product, as Odoo's
    /// `_confirmation_error_message` demands.
    pub(super) fn confirm_orders(&mut self, def: &ModelDef, ids: &[i64]) -> R<()> {
        let model = def.name.as_str();
        for &id in ids {
            if !matches!(
                self.value(model, id, "state").as_str(),
                Some("draft" | "sent")
            ) {
                return Err(Raise::new(
                    "odoo.exceptions.UserError",
                    "Some orders are not in a state requiring confirmation.",
                ));
            }
            let lines = self.value(model, id, "order_line");
            let unproduct = lines.as_array().into_iter().flatten().any(|l| {
                let l = l.as_i64().unwrap_or_default();
                !self.value("sale.order.line", l, "display_type").is_string()
                    && self
                        .value("sale.order.line", l, "product_id")
                        .as_i64()
                        .is_none()
            });
            if unproduct {
                return Err(Raise::new(
                    "odoo.exceptions.UserError",
                    "A line on these orders missing a product, you cannot confirm it.",
                ));
            }
            let vals = json!({"state": "sale", "date_order": self.now_text()});
            self.write_one(def, id, vals.as_object().unwrap_or(&Map::new()), false)?;
        }
        Ok(())
    }

    /// Refuses to delete lines of confirmed orders, as Odoo's
    /// `_unlink_except_confirmed` does (sections and notes may go).
    pub(super) fn check_line_unlink(&self, lines: &[i64]) -> R<()> {
        let confirmed = lines.iter().any(|&l| {
            let order = self.value("sale.order.line", l, "order_id").as_i64();
            !self.value("sale.order.line", l, "display_type").is_string()
                && order.is_some_and(|o| self.value("sale.order", o, "state") == json!("sale"))
        });
        if confirmed {
            return Err(Raise::new(
                "odoo.exceptions.UserError",
                "Once a sales order is confirmed, you can't remove one of its lines (we need to track if something gets invoiced or delivered).\nSet the quantity to 0 instead.",
            ));
        }
        Ok(())
    }

    /// `account.move.action_post`: numbers and posts draft entries.
    pub(super) fn post_moves(&mut self, def: &ModelDef, ids: &[i64]) -> R<()> {
        for &id in ids {
            let model = def.name.as_str();
            if self.value(model, id, "state") != json!("draft") {
                return Err(Raise::new(
                    "odoo.exceptions.UserError",
                    "Only draft journal entries can be posted.",
                ));
            }
            let kind = self
                .text(model, id, "move_type")
                .unwrap_or_else(|| "entry".into());
            if kind != "entry" && self.value(model, id, "partner_id").as_i64().is_none() {
                return Err(Raise::new(
                    "odoo.exceptions.UserError",
                    "The field 'Customer' is required, please complete it to validate the Customer Invoice.",
                ));
            }
            let lines = self.value(model, id, "invoice_line_ids");
            if kind != "entry" && lines.as_array().is_none_or(Vec::is_empty) {
                return Err(Raise::new(
                    "odoo.exceptions.UserError",
                    "You need to add a line before posting.",
                ));
            }
            let date = self
                .text(model, id, "date")
                .or_else(|| self.text(model, id, "invoice_date"))
                .unwrap_or_else(|| self.today());
            let company = self.value(model, id, "company_id").as_i64();
            if let Some(lock) = self.lock_date(company, &kind)
                && date <= lock
            {
                return Err(Raise::new(
                    "odoo.exceptions.UserError",
                    format!(
                        "You cannot add/modify entries prior to and inclusive of the lock date {lock}."
                    ),
                ));
            }
            let prefix = match kind.as_str() {
                "out_invoice" => "INV",
                "out_refund" => "RINV",
                "in_invoice" => "BILL",
                "in_refund" => "RBILL",
                _ => "MISC",
            };
            let year = &date[..4];
            let n = self.next_in(&format!("{prefix}/{year}"));
            let mut vals = Map::new();
            vals.insert("state".into(), json!("posted"));
            vals.insert("name".into(), json!(format!("{prefix}/{year}/{n:05}")));
            if kind != "entry" {
                vals.insert("payment_state".into(), json!("not_paid"));
                if self.text(model, id, "invoice_date").is_none() {
                    vals.insert("invoice_date".into(), json!(date));
                }
            }
            vals.insert("date".into(), json!(date));
            self.write_one(def, id, &vals, false)?;
        }
        Ok(())
    }
}
