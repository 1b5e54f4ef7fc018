//! Bulk work against the embedded test server:
//!
//! - importing 10,000 partners: one `create` per record (the baseline) vs
//!   batched `create` vs batched with 4 calls in flight;
//! - reading 100,000 records: a keyset stream (`id > last`) vs offset
//!   paging (the baseline), 1,000 per page.
//!
//! Before timing, it checks that a keyset stream's memory stays flat in
//! the number of records: the peak resident size grows by about one page
//! whether 10,000 or 100,000 records are streamed (printed).
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use odoo_integration::futures::TryStreamExt;
use odoo_integration::odoo::test_server::TestServer;
use odoo_integration::odoo::{Client, Domain, Protocol};
use odoo_integration::serde_json::{Value, json};
use tokio::runtime::Runtime;

const IMPORT: usize = 10_000;
const READ: usize = 100_000;
const PAGE: u64 = 1_000;

fn partners(n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| json!({"name": format!("Partner {i}"), "email": format!("p{i}@example.com"), "is_company": i.is_multiple_of(5)}))
        .collect()
}

fn client(server: &TestServer) -> Client {
    server.client(Protocol::Json2).unwrap()
}

async fn one_call_per_record(client: &Client, rows: Vec<Value>) {
    let partners = client.model("res.partner");
    for row in rows {
        partners.create(&row).send().await.unwrap();
    }
}

async fn batched(client: &Client, rows: Vec<Value>, in_flight: usize) {
    let outcomes = client
        .model("res.partner")
        .create_batch(rows)
        .batch_size(500)
        .in_flight(in_flight)
        .send()
        .await;
    assert!(outcomes.iter().all(Result::is_ok));
}

async fn read_keyset(client: &Client) -> usize {
    let stream = client
        .model("crm.lead")
        .keyset(Domain::all())
        .fields(["name"])
        .page_size(PAGE)
        .into_stream();
    stream
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await
        .unwrap()
}

async fn read_offset(client: &Client) -> usize {
    let mut offset = 0;
    let mut n = 0;
    loop {
        let page = client
            .model("crm.lead")
            .search_read(Domain::all())
            .fields(["name"])
            .order("id")
            .offset(offset)
            .limit(PAGE)
            .send()
            .await
            .unwrap();
        n += page.len();
        if (page.len() as u64) < PAGE {
            return n;
        }
        offset += PAGE;
    }
}

/// Peak resident set size of this process, in kB (Linux).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn seeded(rt: &Runtime, n: usize) -> TestServer {
    rt.block_on(async {
        let server = TestServer::builder().start().await.unwrap();
        for i in 0..n {
            server
                .insert("crm.lead", json!({"name": format!("Lead {i}")}))
                .unwrap();
        }
        server
    })
}

fn bench(c: &mut Criterion) {
    let rt = Runtime::new().unwrap();

    // Memory: stream 10k then 100k records and compare the growth of the
    // peak resident size (the servers are filled before measuring).
    let small = seeded(&rt, READ / 10);
    let large = seeded(&rt, READ);
    for (label, server) in [("10,000", &small), ("100,000", &large)] {
        let before = peak_rss_kb();
        let n = rt.block_on(read_keyset(&client(server)));
        let after = peak_rss_kb();
        if let (Some(b), Some(a)) = (before, after) {
            println!(
                "keyset stream of {label} records ({n} read): peak RSS grew by {} kB",
                a.saturating_sub(b)
            );
        }
    }
    drop(small);

    let mut import = c.benchmark_group("import_10k_partners");
    import
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    import.bench_function("one_call_per_record_baseline", |b| {
        b.iter_batched(
            || {
                (
                    rt.block_on(TestServer::builder().start()).unwrap(),
                    partners(IMPORT),
                )
            },
            |(server, rows)| rt.block_on(one_call_per_record(&client(&server), rows)),
            BatchSize::PerIteration,
        )
    });
    import.bench_function("batched_500", |b| {
        b.iter_batched(
            || {
                (
                    rt.block_on(TestServer::builder().start()).unwrap(),
                    partners(IMPORT),
                )
            },
            |(server, rows)| rt.block_on(batched(&client(&server), rows, 1)),
            BatchSize::PerIteration,
        )
    });
    import.bench_function("batched_500_4_in_flight", |b| {
        b.iter_batched(
            || {
                (
                    rt.block_on(TestServer::builder().start()).unwrap(),
                    partners(IMPORT),
                )
            },
            |(server, rows)| rt.block_on(batched(&client(&server), rows, 4)),
            BatchSize::PerIteration,
        )
    });
    import.finish();

    let reader = client(&large);
    assert_eq!(rt.block_on(read_keyset(&reader)), READ);
    assert_eq!(rt.block_on(read_offset(&reader)), READ);
    let mut read = c.benchmark_group("read_100k_records");
    read.sample_size(10)
        .measurement_time(Duration::from_secs(20));
    read.bench_function("offset_paging_baseline", |b| {
        b.iter(|| rt.block_on(read_offset(&reader)))
    });
    read.bench_function("keyset_stream", |b| {
        b.iter(|| rt.block_on(read_keyset(&reader)))
    });
    read.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
