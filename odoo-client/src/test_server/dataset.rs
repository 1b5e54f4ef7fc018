//! The standard models of the test server and its small
//! professional-services dataset.

use serde_json::{Value, json};

use super::store::{Field, FieldKind as K, ModelDef, Raise, Store};

fn f(name: &str, kind: K) -> Field {
    Field::new(name, kind)
}

fn m2o(name: &str, relation: &str) -> Field {
    Field::new(name, K::Many2One).relation(relation)
}

/// The models every test server has, with the fields sync code uses most.
pub(super) fn standard_models() -> Vec<ModelDef> {
    vec![
        ModelDef::new("res.currency").field(f("name", K::Char).required()),
        ModelDef::new("res.country")
            .field(f("name", K::Char).required())
            .field(f("code", K::Char)),
        ModelDef::new("res.partner.category").field(f("name", K::Char).required()),
        ModelDef::new("res.partner.industry").field(f("name", K::Char).required()),
        ModelDef::new("account.payment.term").field(f("name", K::Char).required()),
        ModelDef::new("res.partner")
            .field(f("name", K::Char).required())
            .field(m2o("industry_id", "res.partner.industry"))
            .field(m2o("property_payment_term_id", "account.payment.term"))
            .field(f("is_company", K::Boolean))
            .field(f("active", K::Boolean))
            .field(m2o("parent_id", "res.partner"))
            .field(
                Field::new("child_ids", K::One2Many)
                    .relation("res.partner")
                    .inverse("parent_id"),
            )
            .field(Field::new("category_id", K::Many2Many).relation("res.partner.category"))
            .field(m2o("country_id", "res.country"))
            .field(f("email", K::Char))
            .field(f("phone", K::Char))
            .field(f("street", K::Char))
            .field(f("city", K::Char))
            .field(f("zip", K::Char))
            .field(f("vat", K::Char))
            .field(f("ref", K::Char))
            .field(f("website", K::Char))
            .field(f("comment", K::Text))
            .field(f("credit_limit", K::Float))
            .field(f("customer_rank", K::Integer))
            .field(f("image_128", K::Binary))
            .field(f("type", K::Selection).selection([
                ("contact", "Contact"),
                ("invoice", "Invoice Address"),
                ("delivery", "Delivery Address"),
                ("other", "Other Address"),
            ])),
        ModelDef::new("res.users")
            .field(f("name", K::Char).required())
            .field(f("login", K::Char).required())
            .field(m2o("partner_id", "res.partner")),
        ModelDef::new("ir.model.data")
            .field(f("module", K::Char).required())
            .field(f("name", K::Char).required())
            .field(f("model", K::Char).required())
            .field(f("res_id", K::Integer))
            .field(f("noupdate", K::Boolean))
            .rec_name("name"),
        ModelDef::new("ir.config_parameter")
            .field(f("key", K::Char).required())
            .field(f("value", K::Text))
            .rec_name("key")
            .admin_only(),
        ModelDef::new("crm.stage").field(f("name", K::Char).required()),
        ModelDef::new("crm.lead")
            .field(f("name", K::Char).required())
            .field(f("active", K::Boolean))
            .field(
                f("type", K::Selection)
                    .selection([("lead", "Lead"), ("opportunity", "Opportunity")]),
            )
            .field(m2o("partner_id", "res.partner"))
            .field(m2o("stage_id", "crm.stage"))
            .field(f("expected_revenue", K::Monetary))
            .field(f("probability", K::Float))
            .field(f("date_deadline", K::Date)),
        ModelDef::new("project.project")
            .field(f("name", K::Char).required())
            .field(f("active", K::Boolean))
            .field(m2o("partner_id", "res.partner"))
            .field(f("date_start", K::Date))
            .field(f("date", K::Date))
            .field(f("allow_billable", K::Boolean))
            .field(
                Field::new("task_ids", K::One2Many)
                    .relation("project.task")
                    .inverse("project_id"),
            ),
        ModelDef::new("project.task")
            .field(f("name", K::Char).required())
            .field(f("active", K::Boolean))
            .field(m2o("project_id", "project.project"))
            .field(f("allocated_hours", K::Float))
            .field(f("date_deadline", K::Datetime)),
        ModelDef::new("hr.department")
            .field(f("name", K::Char).required())
            .field(m2o("parent_id", "hr.department")),
        ModelDef::new("hr.job").field(f("name", K::Char).required()),
        ModelDef::new("resource.calendar").field(f("name", K::Char).required()),
        ModelDef::new("hr.employee")
            .field(f("name", K::Char).required())
            .field(f("active", K::Boolean))
            .field(f("work_phone", K::Char))
            .field(m2o("resource_calendar_id", "resource.calendar"))
            .field(f("contract_date_start", K::Date))
            .field(f("departure_date", K::Date))
            .field(m2o("department_id", "hr.department"))
            .field(m2o("job_id", "hr.job"))
            .field(f("job_title", K::Char))
            .field(m2o("parent_id", "hr.employee"))
            .field(m2o("user_id", "res.users"))
            .field(f("work_email", K::Char))
            .field(f("hourly_cost", K::Monetary))
            .field(f("barcode", K::Char))
            .field(f("employee_type", K::Selection).selection([
                ("employee", "Employee"),
                ("contractor", "Contractor"),
                ("freelance", "Freelancer"),
            ])),
        ModelDef::new("account.analytic.line")
            .field(f("name", K::Char).required())
            .field(f("date", K::Date).required())
            .field(f("unit_amount", K::Float))
            .field(f("amount", K::Monetary))
            .field(m2o("employee_id", "hr.employee"))
            .field(m2o("project_id", "project.project"))
            .field(m2o("task_id", "project.task")),
        ModelDef::new("sale.order")
            // Required in Odoo, but a create may leave it out: Odoo numbers
            // the order from a sequence.
            .field(f("name", K::Char))
            .field(m2o("partner_id", "res.partner").required())
            .field(f("date_order", K::Datetime))
            .field(f("state", K::Selection).selection([
                ("draft", "Quotation"),
                ("sent", "Quotation Sent"),
                ("sale", "Sales Order"),
                ("cancel", "Cancelled"),
            ]))
            .field(f("client_order_ref", K::Char))
            .field(f("signed_on", K::Datetime))
            .field(f("amount_total", K::Monetary))
            .field(m2o("currency_id", "res.currency"))
            .field(
                Field::new("order_line", K::One2Many)
                    .relation("sale.order.line")
                    .inverse("order_id"),
            ),
        ModelDef::new("hr.expense")
            .field(f("name", K::Char).required())
            .field(m2o("employee_id", "hr.employee"))
            .field(f("date", K::Date))
            .field(f("total_amount", K::Monetary))
            .field(m2o("currency_id", "res.currency")),
        ModelDef::new("account.move")
            .field(f("name", K::Char))
            .field(f("move_type", K::Selection).selection([
                ("entry", "Journal Entry"),
                ("out_invoice", "Customer Invoice"),
                ("out_refund", "Customer Credit Note"),
                ("in_invoice", "Vendor Bill"),
            ]))
            .field(m2o("partner_id", "res.partner"))
            .field(f("invoice_date", K::Date))
            .field(f("invoice_date_due", K::Date))
            .field(f("amount_total", K::Monetary))
            .field(m2o("currency_id", "res.currency"))
            .field(
                Field::new("invoice_line_ids", K::One2Many)
                    .relation("account.move.line")
                    .inverse("move_id"),
            ),
        ModelDef::new("account.payment")
            .field(f("amount", K::Monetary))
            .field(f("date", K::Date))
            .field(
                f("payment_type", K::Selection)
                    .selection([("inbound", "Receive"), ("outbound", "Send")]),
            )
            .field(m2o("currency_id", "res.currency")),
        ModelDef::new("account.move.line")
            .field(f("name", K::Text))
            .field(m2o("move_id", "account.move").required())
            .field(f("quantity", K::Float))
            .field(f("price_unit", K::Float)),
        ModelDef::new("sale.order.line")
            .field(f("name", K::Text).required())
            .field(m2o("order_id", "sale.order").required())
            .field(f("product_uom_qty", K::Float))
            .field(f("price_unit", K::Float)),
    ]
}

fn add(store: &mut Store, model: &str, vals: Value) -> Result<i64, Raise> {
    let map = vals.as_object().cloned().unwrap_or_default();
    store.insert(model, &map)
}

/// A consultancy's data: two client companies with contacts, leads,
/// projects with tasks, a department of consultants, timesheet lines and a
/// sale order.
pub(super) fn seed(store: &mut Store) -> Result<(), Raise> {
    let usd = add(store, "res.currency", json!({"name": "USD"}))?;
    let be = add(
        store,
        "res.country",
        json!({"name": "Belgium", "code": "BE"}),
    )?;
    let us = add(
        store,
        "res.country",
        json!({"name": "United States", "code": "US"}),
    )?;
    let vip = add(store, "res.partner.category", json!({"name": "VIP"}))?;
    let services = add(store, "res.partner.category", json!({"name": "Services"}))?;
    let firm = add(
        store,
        "res.partner",
        json!({"name": "Northwind Consulting", "is_company": true, "country_id": be, "email": "hello@northwind.example"}),
    )?;
    let acme = add(
        store,
        "res.partner",
        json!({"name": "Acme Corporation", "is_company": true, "country_id": us, "email": "info@acme.example", "category_id": [[6, 0, [vip, services]]], "customer_rank": 3, "vat": "US12345677", "ref": "ACME"}),
    )?;
    let gemini = add(
        store,
        "res.partner",
        json!({"name": "Gemini Furniture", "is_company": true, "country_id": be, "email": "office@gemini.example", "category_id": [[6, 0, [services]]], "customer_rank": 1, "ref": "GEM"}),
    )?;
    add(
        store,
        "res.partner",
        json!({"name": "Ada Lind", "parent_id": acme, "email": "ada@acme.example", "phone": "+1 555 0101"}),
    )?;
    add(
        store,
        "res.partner",
        json!({"name": "Jon Park", "parent_id": acme, "email": "jon@acme.example"}),
    )?;
    add(
        store,
        "res.partner",
        json!({"name": "Eva Maes", "parent_id": gemini, "email": "eva@gemini.example"}),
    )?;
    let old = add(
        store,
        "res.partner",
        json!({"name": "Old Client (archived)", "is_company": true}),
    )?;
    store
        .tables
        .get_mut("res.partner")
        .and_then(|t| t.get_mut(&old))
        .map(|r| r.insert("active".into(), json!(false)));
    add(
        store,
        "res.users",
        json!({"name": "Administrator", "login": "admin", "partner_id": firm}),
    )?;
    let new = add(store, "crm.stage", json!({"name": "New"}))?;
    let won = add(store, "crm.stage", json!({"name": "Won"}))?;
    add(
        store,
        "crm.lead",
        json!({"name": "Acme: data platform", "type": "opportunity", "partner_id": acme, "stage_id": won, "expected_revenue": 48000.0, "probability": 100.0}),
    )?;
    add(
        store,
        "crm.lead",
        json!({"name": "Gemini: ERP audit", "type": "opportunity", "partner_id": gemini, "stage_id": new, "expected_revenue": 12500.5, "probability": 20.0, "date_deadline": "2026-12-15"}),
    )?;
    let platform = add(
        store,
        "project.project",
        json!({"name": "Acme data platform", "partner_id": acme, "date_start": "2026-10-01", "allow_billable": true}),
    )?;
    let audit = add(
        store,
        "project.project",
        json!({"name": "Internal: training", "partner_id": firm}),
    )?;
    let t1 = add(
        store,
        "project.task",
        json!({"name": "Discovery workshops", "project_id": platform, "allocated_hours": 24.0}),
    )?;
    let t2 = add(
        store,
        "project.task",
        json!({"name": "Ingestion pipeline", "project_id": platform, "allocated_hours": 80.0}),
    )?;
    add(
        store,
        "project.task",
        json!({"name": "Onboarding", "project_id": audit}),
    )?;
    add(
        store,
        "resource.calendar",
        json!({"name": "Standard 40 hours/week"}),
    )?;
    let consulting = add(store, "hr.department", json!({"name": "Consulting"}))?;
    let senior = add(store, "hr.job", json!({"name": "Senior Consultant"}))?;
    let lead = add(
        store,
        "hr.employee",
        json!({"name": "Marc Demo", "department_id": consulting, "job_id": senior, "job_title": "Engagement Lead", "work_email": "marc@northwind.example", "hourly_cost": 85.0, "employee_type": "employee"}),
    )?;
    let dev = add(
        store,
        "hr.employee",
        json!({"name": "Nina Patel", "department_id": consulting, "parent_id": lead, "job_title": "Data Engineer", "work_email": "nina@northwind.example", "hourly_cost": 70.0, "employee_type": "contractor"}),
    )?;
    for (date, employee, task, hours) in [
        ("2026-11-02", lead, t1, 4.0),
        ("2026-11-03", lead, t1, 3.5),
        ("2026-11-03", dev, t2, 7.25),
        ("2026-11-04", dev, t2, 8.0),
    ] {
        let cost = if employee == lead { 85.0 } else { 70.0 };
        add(
            store,
            "account.analytic.line",
            json!({"name": "Consulting", "date": date, "unit_amount": hours, "amount": -(hours * cost), "employee_id": employee, "project_id": platform, "task_id": task}),
        )?;
    }
    add(
        store,
        "sale.order",
        json!({"name": "S00001", "partner_id": acme, "date_order": "2026-10-01 09:00:00", "state": "sale", "amount_total": 48000.0, "currency_id": usd, "order_line": [[0, 0, {"name": "Data platform, fixed fee", "product_uom_qty": 1.0, "price_unit": 48000.0}]]}),
    )?;
    add(
        store,
        "ir.config_parameter",
        json!({"key": "database.uuid", "value": "00000000-0000-0000-0000-000000000000"}),
    )?;
    Ok(())
}
