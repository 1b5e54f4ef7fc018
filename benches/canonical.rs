//! Canonical-model benchmarks: reconciling two systems' client sets, and
//! merging one change into one record under an ownership policy.
//!
//! The reconciliation group runs at 10k and 100k records a side so the
//! report shows whether it is linear in N.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use odoo_integration::chrono::{TimeZone, Utc};
use odoo_integration::model::{
    CanonicalRecord, Change, ClientCompany, FieldValue, Policy, SystemId, merge, reconcile,
};
use std::hint::black_box;

fn clients(n: usize, variant: usize) -> Vec<(String, ClientCompany)> {
    (0..n)
        .map(|i| {
            // Side B: a few percent renamed, 1% missing, 1% extra.
            let key = if variant == 1 && i % 100 == 0 {
                n + i
            } else {
                i
            };
            let name = if variant == 1 && i % 37 == 0 {
                format!("Client {i} Ltd")
            } else {
                format!("Client {i}")
            };
            let c = ClientCompany {
                legal_name: name,
                industry: Some(["IT", "Retail", "Health"][i % 3].into()),
                website: Some(format!("client{i}.example")),
                tax_id: Some(format!("BE{i:010}")),
                ..Default::default()
            };
            (key.to_string(), c)
        })
        .collect()
}

fn bench_reconcile(c: &mut Criterion) {
    let mut g = c.benchmark_group("reconcile");
    g.sample_size(10);
    for n in [10_000usize, 100_000] {
        let (a, b) = (clients(n, 0), clients(n, 1));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("all_fields", n), &n, |bch, _| {
            bch.iter(|| black_box(reconcile(&a, &b, &[])))
        });
    }
    g.finish();
}

fn bench_merge(c: &mut Criterion) {
    let policy = match Policy::from_toml(
        "[client]\ndefault_owner = \"odoo\"\n[client.fields]\nindustry = \"salesforce\"\n\"address.*\" = { owner = \"odoo\", strategy = \"hold-for-review\" }\n",
    ) {
        Ok(p) => p,
        Err(e) => panic!("policy: {e}"),
    };
    let at = Utc
        .timestamp_opt(1_780_000_000, 0)
        .single()
        .unwrap_or_default();
    let change = Change::new("sf-1", at)
        .with("industry", FieldValue::Text("Retail".into()))
        .with("legal_name", FieldValue::Text("ACME".into()))
        .with("address.city", FieldValue::Text("Ghent".into()));
    let base = CanonicalRecord::new(ClientCompany {
        legal_name: "Acme".into(),
        ..Default::default()
    });
    let sf = SystemId::salesforce();
    let mut g = c.benchmark_group("merge");
    g.throughput(Throughput::Elements(1));
    g.bench_function("one_change_per_record", |bch| {
        bch.iter_batched_ref(
            || base.clone(),
            |rec| black_box(merge(rec, &change, &sf, &policy)),
            criterion::BatchSize::SmallInput,
        )
    });
    // Baseline in the same run: cloning the record alone.
    g.bench_function("clone_record_baseline", |bch| {
        bch.iter(|| black_box(base.clone()))
    });
    g.finish();
}

criterion_group!(benches, bench_reconcile, bench_merge);
criterion_main!(benches);
