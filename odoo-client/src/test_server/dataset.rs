//! The standard models of the test server and its small
//! professional-services dataset.

use serde_json::{Value, json};

use super::store::{Field, FieldKind as K, ModelDef, Raise, Store};

/// Odoo 19's standard models (generated from its own `fields_get`, see
/// [`super::schema`]), plus `ir.config_parameter`, which only
/// administrators may use.
pub(super) fn standard_models() -> Vec<ModelDef> {
    let mut models: Vec<ModelDef> = super::schema::standard().values().cloned().collect();
    models.push(
        ModelDef::new("ir.config_parameter")
            .field(Field::new("key", K::Char).required())
            .field(Field::new("value", K::Text))
            .rec_name("key")
            .admin_only(),
    );
    models
}

fn add(store: &mut Store, model: &str, vals: Value) -> Result<i64, Raise> {
    let map = vals.as_object().cloned().unwrap_or_default();
    store.insert(model, &map)
}

/// What every Odoo database has before any demo data: a currency, the
/// main company and its partner (id 1), units, journals and an analytic
/// plan.
pub(super) fn base(store: &mut Store) -> Result<(), Raise> {
    let usd = add(
        store,
        "res.currency",
        json!({"name": "USD", "symbol": "$", "full_name": "United States dollar"}),
    )?;
    add(
        store,
        "res.currency",
        json!({"name": "EUR", "symbol": "€", "full_name": "Euro", "active": false}),
    )?;
    let partner = add(
        store,
        "res.partner",
        json!({"name": "YourCompany", "is_company": true}),
    )?;
    add(
        store,
        "res.company",
        json!({"name": "YourCompany", "partner_id": partner, "currency_id": usd}),
    )?;
    add(
        store,
        "uom.uom",
        json!({"name": "Units", "relative_factor": 1.0}),
    )?;
    add(
        store,
        "uom.uom",
        json!({"name": "Hours", "relative_factor": 1.0}),
    )?;
    for (name, kind, code) in [
        ("Sales", "sale", "INV"),
        ("Purchases", "purchase", "BILL"),
        ("Bank", "bank", "BNK1"),
        ("Cash", "cash", "CSH1"),
        ("Miscellaneous Operations", "general", "MISC"),
    ] {
        add(
            store,
            "account.journal",
            json!({"name": name, "type": kind, "code": code}),
        )?;
    }
    add(store, "account.analytic.plan", json!({"name": "Projects"}))?;
    Ok(())
}

/// The users, ids 1 to 5 as in Odoo's demo database: OdooBot, the
/// administrator, two inactive templates and the demo user. Created after
/// the other data, so that they do not shift its ids.
pub(super) fn users(store: &mut Store) -> Result<(), Raise> {
    for (name, login, active) in [
        ("OdooBot", "__system__", false),
        ("Administrator", "admin", true),
        ("Default User Template", "default", false),
        ("Public user", "public", false),
        ("Marc Demo", "demo", true),
    ] {
        let partner = add(
            store,
            "res.partner",
            json!({"name": name, "parent_id": 1, "active": active}),
        )?;
        add(
            store,
            "res.users",
            json!({"name": name, "login": login, "partner_id": partner, "active": active}),
        )?;
    }
    Ok(())
}

/// A consultancy's data: two client companies with contacts, leads,
/// projects with tasks, a department of consultants, timesheet lines and a
/// sale order.
pub(super) fn seed(store: &mut Store) -> Result<(), Raise> {
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
    let tag = add(store, "res.partner.category", json!({"name": "Services"}))?;
    let firm = 1;
    store.write_stored(
        "res.partner",
        firm,
        json!({"name": "Northwind Consulting", "country_id": be, "email": "hello@northwind.example"}),
    )?;
    let acme = add(
        store,
        "res.partner",
        json!({"name": "Acme Corporation", "is_company": true, "country_id": us, "email": "info@acme.example", "category_id": [[6, 0, [vip, tag]]], "customer_rank": 3, "vat": "US12345677", "ref": "ACME"}),
    )?;
    let gemini = add(
        store,
        "res.partner",
        json!({"name": "Gemini Furniture", "is_company": true, "country_id": be, "email": "office@gemini.example", "category_id": [[6, 0, [tag]]], "customer_rank": 1, "ref": "GEM"}),
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
    let services = add(
        store,
        "product.product",
        json!({"name": "Consulting services", "type": "service", "default_code": "SERVICES", "list_price": 150.0}),
    )?;
    add(
        store,
        "sale.order",
        json!({"partner_id": acme, "date_order": "2026-10-01 09:00:00", "state": "sale", "order_line": [[0, 0, {"name": "Data platform, fixed fee", "product_id": services, "product_uom_qty": 1.0, "price_unit": 48000.0}]]}),
    )?;
    add(
        store,
        "ir.config_parameter",
        json!({"key": "database.uuid", "value": "00000000-0000-0000-0000-000000000000"}),
    )?;
    Ok(())
}
