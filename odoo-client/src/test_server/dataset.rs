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

/// Gives a record an external id (`module.name`), as Odoo's data files do.
fn xmlid(store: &mut Store, xmlid: &str, model: &str, id: i64) -> Result<(), Raise> {
    let (module, name) = xmlid.split_once('.').unwrap_or(("base", xmlid));
    add(
        store,
        "ir.model.data",
        json!({"module": module, "name": name, "model": model, "res_id": id, "noupdate": true}),
    )?;
    Ok(())
}

/// Every country, in the order (and so with the ids) of Odoo's base data.
const COUNTRIES: &str = include_str!("schema/countries.tsv");

/// The id of a country by its ISO code.
fn country(store: &Store, code: &str) -> Option<i64> {
    store
        .tables
        .get("res.country")?
        .iter()
        .find_map(|(id, row)| {
            (row.get("code").and_then(Value::as_str) == Some(code)).then_some(*id)
        })
}

/// What every Odoo database has before any demo data: a currency, the
/// main company and its partner (id 1), units, journals and an analytic
/// plan.
pub(super) fn base(store: &mut Store) -> Result<(), Raise> {
    for line in COUNTRIES.lines().filter(|l| !l.starts_with('#')) {
        let Some((code, name)) = line.split_once('\t') else {
            continue;
        };
        let id = add(store, "res.country", json!({"name": name, "code": code}))?;
        xmlid(
            store,
            &format!("base.{}", code.to_lowercase()),
            "res.country",
            id,
        )?;
    }
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
    let company = add(
        store,
        "res.company",
        json!({"name": "YourCompany", "partner_id": partner, "currency_id": usd}),
    )?;
    xmlid(store, "base.USD", "res.currency", usd)?;
    xmlid(store, "base.main_partner", "res.partner", partner)?;
    xmlid(store, "base.main_company", "res.company", company)?;
    let unit = add(
        store,
        "uom.uom",
        json!({"name": "Units", "relative_factor": 1.0}),
    )?;
    xmlid(store, "uom.product_uom_unit", "uom.uom", unit)?;
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
    for (name, login, active, user, person) in [
        ("OdooBot", "__system__", false, "user_root", "partner_root"),
        (
            "Administrator",
            "admin",
            true,
            "user_admin",
            "partner_admin",
        ),
        (
            "Default User Template",
            "default",
            false,
            "default_user",
            "template_partner",
        ),
        (
            "Public user",
            "public",
            false,
            "public_user",
            "public_partner",
        ),
        ("Marc Demo", "demo", true, "user_demo", "partner_demo"),
    ] {
        let partner = add(
            store,
            "res.partner",
            json!({"name": name, "parent_id": 1, "active": active}),
        )?;
        let id = add(
            store,
            "res.users",
            json!({"name": name, "login": login, "partner_id": partner, "active": active}),
        )?;
        xmlid(store, &format!("base.{user}"), "res.users", id)?;
        xmlid(store, &format!("base.{person}"), "res.partner", partner)?;
    }
    Ok(())
}

/// A consultancy's data: ten client companies with their people, leads,
/// projects with tasks, a department of consultants, timesheet lines and a
/// sale order.
pub(super) fn seed(store: &mut Store) -> Result<(), Raise> {
    let be = country(store, "BE").unwrap_or_default();
    let us = country(store, "US").unwrap_or_default();
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
    xmlid(store, "base.res_partner_1", "res.partner", acme)?;
    xmlid(store, "base.res_partner_2", "res.partner", gemini)?;
    // Eight more clients with four people each, so that lists page.
    let desk = add(
        store,
        "res.partner.category",
        json!({"name": "Service Desk"}),
    )?;
    for (n, (company, domain, code)) in [
        ("Azure Interior", "azure.example", "US"),
        ("Deco Addict", "deco.example", "BE"),
        ("Lumen Analytics", "example.com", "NL"),
        ("Ready Mat", "readymat.example", "DE"),
        ("The Jackson Group", "example.com", "US"),
        ("Wood Corner", "woodcorner.example", "FR"),
        ("Brightline Retail", "brightline.example", "GB"),
        ("Harbor Logistics", "example.com", "BE"),
    ]
    .into_iter()
    .enumerate()
    {
        let tags = if n % 3 == 0 {
            vec![tag, desk]
        } else {
            vec![tag]
        };
        let id = add(
            store,
            "res.partner",
            json!({"name": company, "is_company": true, "country_id": country(store, code),
                   "email": format!("info@{domain}"), "category_id": [[6, 0, tags]],
                   "customer_rank": 1, "street": format!("{} Main Street", 10 + n), "city": "Springfield"}),
        )?;
        xmlid(
            store,
            &format!("base.res_partner_{}", n + 3),
            "res.partner",
            id,
        )?;
        for person in ["Alex", "Sam", "Robin", "Kim"] {
            let first = company
                .split_whitespace()
                .last()
                .unwrap_or(company)
                .to_lowercase();
            add(
                store,
                "res.partner",
                json!({"name": format!("{person} {company}"), "parent_id": id,
                       "email": format!("{}.{first}@{domain}", person.to_lowercase()),
                       "function": "Buyer"}),
            )?;
        }
    }
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
    // A posted invoice and a draft one.
    let line = |name: &str, quantity: f64, price: f64| json!([0, 0, {"name": name, "product_id": services, "quantity": quantity, "price_unit": price}]);
    let posted = add(
        store,
        "account.move",
        json!({"move_type": "out_invoice", "partner_id": acme, "invoice_date": "2026-11-01",
               "invoice_date_due": "2026-12-01",
               "invoice_line_ids": [line("Data platform, first milestone", 1.0, 24000.0),
                                    line("Senior consultant, days", 5.0, 950.0)]}),
    )?;
    store.post(posted)?;
    add(
        store,
        "account.move",
        json!({"move_type": "out_invoice", "partner_id": gemini,
               "invoice_line_ids": [line("ERP audit, discovery", 2.0, 1200.0)]}),
    )?;
    add(
        store,
        "ir.config_parameter",
        json!({"key": "database.uuid", "value": "00000000-0000-0000-0000-000000000000"}),
    )?;
    Ok(())
}
