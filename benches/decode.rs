//! Decoding a 10,000-row `search_read` reply shaped like the `res.partner`
//! rows recorded from Odoo 19:
//!
//! - (a) the JSON-RPC body into `odoo_integration::serde_json::Value` (the baseline);
//! - (b) the same body into a typed user struct through the client's decode
//!   path (`odoo_integration::odoo::codec::decode_jsonrpc`);
//! - (c) the XML-RPC form of the same rows into the same struct.
//!
//! Targets: (b) ≤ 1.3 × (a), (c) ≤ 2 × (b).

#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use odoo_integration::chrono::{DateTime, Utc};
use odoo_integration::odoo::codec;
use odoo_integration::odoo::value::{Many2One, datetime, falsy, monetary};
use odoo_integration::rust_decimal::Decimal;
use odoo_integration::serde_json::{Value, json};

const ROWS: usize = 10_000;

/// A user's struct for the recorded `res.partner` field list.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Partner {
    id: i64,
    name: String,
    #[serde(with = "falsy")]
    display_name: Option<String>,
    is_company: bool,
    #[serde(with = "falsy")]
    company_type: Option<String>,
    #[serde(with = "falsy")]
    parent_id: Option<Many2One>,
    child_ids: Vec<i64>,
    category_id: Vec<i64>,
    #[serde(with = "falsy")]
    user_id: Option<Many2One>,
    #[serde(with = "falsy")]
    country_id: Option<Many2One>,
    #[serde(with = "falsy")]
    street: Option<String>,
    #[serde(with = "falsy")]
    street2: Option<String>,
    #[serde(with = "falsy")]
    city: Option<String>,
    #[serde(with = "falsy")]
    zip: Option<String>,
    #[serde(with = "falsy")]
    email: Option<String>,
    #[serde(with = "falsy")]
    phone: Option<String>,
    #[serde(with = "falsy")]
    vat: Option<String>,
    active: bool,
    #[serde(with = "monetary")]
    credit_limit: Decimal,
    customer_rank: i64,
    #[serde(with = "falsy")]
    comment: Option<String>,
    #[serde(with = "datetime")]
    create_date: DateTime<Utc>,
    #[serde(with = "datetime")]
    write_date: DateTime<Utc>,
}

/// One recorded-looking row; `i` varies ids, names and amounts.
fn row(i: usize) -> Value {
    let company = i.is_multiple_of(4);
    json!({
        "id": i as i64 + 1,
        "name": format!("Partner {i} – Deco Addict"),
        "display_name": format!("Partner {i} – Deco Addict"),
        "is_company": company,
        "company_type": if company { "company" } else { "person" },
        "parent_id": if company { json!(false) } else { json!([i as i64 / 4 * 4 + 1, "Deco Addict"]) },
        "child_ids": if company { json!([i + 2, i + 3, i + 4]) } else { json!([]) },
        "category_id": [7, 6],
        "user_id": false,
        "country_id": [233, "United States"],
        "street": "77 Santa Barbara Rd",
        "street2": false,
        "city": "Pleasant Hill",
        "zip": "94523",
        "email": format!("partner{i}@example.com"),
        "phone": "(603)-996-3829",
        "vat": if company { json!("US12345677") } else { json!(false) },
        "active": true,
        "credit_limit": (i % 1000) as f64 * 12.5,
        "customer_rank": i % 3,
        "comment": false,
        "create_date": "2026-11-23 08:03:29",
        "write_date": "2026-11-23 08:04:45",
    })
}

fn bench(c: &mut Criterion) {
    let rows: Vec<Value> = (0..ROWS).map(row).collect();
    let result = Value::Array(rows);
    let json_body = odoo_integration::serde_json::to_vec(
        &json!({"jsonrpc": "2.0", "id": 42, "result": &result}),
    )
    .unwrap();
    let xml_body = codec::xmlrpc_response(&result).unwrap();

    // The three paths must agree before they are timed.
    let typed: Vec<Partner> = codec::decode_jsonrpc(&json_body).unwrap();
    let from_xml: Vec<Partner> = codec::decode_xmlrpc(&xml_body).unwrap();
    assert_eq!(typed.len(), ROWS);
    assert_eq!(from_xml.len(), ROWS);
    assert_eq!(typed[4].credit_limit, from_xml[4].credit_limit);
    assert_eq!(typed[4].credit_limit, Decimal::new(50, 0));

    let mut group = c.benchmark_group("decode_10k_partners");
    group.sample_size(20);
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("a_jsonrpc_to_value_baseline", |b| {
        b.iter(|| odoo_integration::serde_json::from_slice::<Value>(black_box(&json_body)).unwrap())
    });
    group.bench_function("b_jsonrpc_to_typed_struct", |b| {
        b.iter(|| codec::decode_jsonrpc::<Vec<Partner>>(black_box(&json_body)).unwrap())
    });
    group.bench_function("c_xmlrpc_to_typed_struct", |b| {
        b.iter(|| codec::decode_xmlrpc::<Vec<Partner>>(black_box(&xml_body)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
