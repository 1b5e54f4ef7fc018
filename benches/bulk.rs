//! Bulk work against the embedded test server:
//!
//! - importing 10,000 partners: one `create` per record (the baseline) vs
//!   batched `create` vs batched with 4 calls in flight;
//! - reading 100,000 records: a keyset stream (`id > last`) vs offset
//!   paging (the baseline), 1,000 per page;
//! - upserting 500 partners by external id into an empty table (the
//!   baseline) vs into a table of 50,000 upserted partners.
//!
//! Before timing, it checks that a keyset stream's memory stays flat in
//! the number of records: the peak resident size grows by about one page
//! whether 10,000 or 100,000 records are streamed (printed). It then
//! upserts 50,000 partners by external id, 500 per call, and prints the
//! first and last batch times and their ratio: every batch touches 500
//! records, so the last should cost about what the first did (at most
//! 1.5x), however large the tables have grown.
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use odoo_integration::futures::TryStreamExt;
use odoo_integration::odoo::test_server::TestServer;
use odoo_integration::odoo::{Client, Domain, ExternalId, Protocol};
use odoo_integration::serde_json::{Value, json};
use tokio::runtime::Runtime;

const IMPORT: usize = 10_000;
const READ: usize = 100_000;
const PAGE: u64 = 1_000;
const UPSERT: usize = 50_000;
const UPSERT_BATCH: usize = 500;

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

/// Partners `from..from + n` keyed by external ids `bench_sync.p{i}`.
fn keyed_partners(from: usize, n: usize) -> Vec<(ExternalId, Value)> {
    (from..from + n)
        .map(|i| {
            (
                ExternalId::new("bench_sync", format!("p{i}")).unwrap(),
                json!({"name": format!("Partner {i}"), "email": format!("p{i}@example.com")}),
            )
        })
        .collect()
}

/// One upsert call of `rows`; every record must be created.
async fn upsert(client: &Client, rows: Vec<(ExternalId, Value)>) {
    let outcomes = client
        .model("res.partner")
        .upsert_by_external_id(rows)
        .batch_size(UPSERT_BATCH)
        .send()
        .await
        .unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| o.as_ref().is_ok_and(|u| u.is_created()))
    );
}

/// Upserts `UPSERT` partners into a fresh server, one batch per call, and
/// prints how the batch time moves as the tables grow. Returns the server.
fn upsert_growth(rt: &Runtime) -> TestServer {
    let server = rt.block_on(TestServer::builder().start()).unwrap();
    let upserter = client(&server);
    let mut times = Vec::with_capacity(UPSERT / UPSERT_BATCH);
    let started = Instant::now();
    for from in (0..UPSERT).step_by(UPSERT_BATCH) {
        let rows = keyed_partners(from, UPSERT_BATCH);
        let t = Instant::now();
        rt.block_on(upsert(&upserter, rows));
        times.push(t.elapsed());
    }
    let total = started.elapsed();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mean = |ds: &[Duration]| ds.iter().map(|d| ms(*d)).sum::<f64>() / ds.len().max(1) as f64;
    let (first, last) = (times[0], times[times.len() - 1]);
    println!(
        "upsert of {UPSERT} partners by external id, {UPSERT_BATCH} per call: {:.1} s in all",
        total.as_secs_f64()
    );
    for (i, t) in times.iter().enumerate() {
        let n = i + 1;
        if n == 1 || n.is_multiple_of(10) {
            println!(
                "  batch {n:>3} ({:>6} partners before it): {:>7.1} ms",
                i * UPSERT_BATCH,
                ms(*t)
            );
        }
    }
    let ratio = ms(last) / ms(first);
    println!(
        "  first batch {:.1} ms, last batch {:.1} ms: last/first = {ratio:.2} ({})",
        ms(first),
        ms(last),
        if ratio <= 1.5 {
            "at most 1.5x: flat"
        } else {
            "MORE than 1.5x: grows with the table"
        }
    );
    let tail = times.len().saturating_sub(10);
    println!(
        "  mean of the first 10 batches {:.1} ms, of the last 10 {:.1} ms: {:.2}x",
        mean(&times[..10.min(times.len())]),
        mean(&times[tail..]),
        mean(&times[tail..]) / mean(&times[..10.min(times.len())])
    );
    server
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

    // The upsert's batch time as its tables grow (printed, not asserted).
    let grown = upsert_growth(&rt);

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
    drop(large);

    // 500 more partners by external id: into an empty table (the
    // baseline) vs into the 50,000 that `upsert_growth` left.
    let mut upserts = c.benchmark_group("upsert_500_by_external_id");
    upserts
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let mut next = UPSERT;
    upserts.bench_function("into_empty_table_baseline", |b| {
        b.iter_batched(
            || rt.block_on(TestServer::builder().start()).unwrap(),
            |server| rt.block_on(upsert(&client(&server), keyed_partners(0, UPSERT_BATCH))),
            BatchSize::PerIteration,
        )
    });
    let into_grown = client(&grown);
    upserts.bench_function("into_50k_table", |b| {
        b.iter(|| {
            let rows = keyed_partners(next, UPSERT_BATCH);
            next += UPSERT_BATCH;
            rt.block_on(upsert(&into_grown, rows))
        })
    });
    upserts.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
