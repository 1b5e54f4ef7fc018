//! Pipeline benchmarks.
//!
//! - `pipeline_10k`: the per-record cost of the pipeline's own work with
//!   a sink that does nothing, against the baseline of handing the same
//!   records straight to that sink. Divide by 10,000 for the cost per
//!   record. `map_merge_validate` is mapping, identity, ownership merge and
//!   validation (a dry run: nothing stored); the goal is under 5 µs.
//!   `first_sync_in_memory` adds the bookkeeping (linking ids, storing
//!   each canonical record with its provenance trail);
//!   `resync_unchanged_in_memory` syncs the same records again.
//! - `file_store`: writing 100 canonical records per call to the
//!   crash-safe file store (temp file, fsync, rename; the whole records
//!   file each time, so it slows as the file grows) and to the SQLite
//!   store (one transaction, fsync'd), against the in-memory store.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use odoo_integration::async_trait;
use odoo_integration::connectors::{
    Capabilities, Connector, Cursor, FileStore, MemoryStore, Operation, Outcome, Page, Pipeline,
    RecordStore, Sink, SinkRecord, Source, SourceChange, SqliteStore, StoredRecord,
};
use odoo_integration::model::{
    CanonicalId, ClientCompany, Condition, Policy, RequiredWhen, SystemId, Validator,
};
use std::hint::black_box;
use std::sync::Arc;

const N: usize = 10_000;

/// A source that hands out pages prepared beforehand (outside the
/// timing), so the bench measures the pipeline, not the copying of its
/// input.
struct Fixed(std::sync::Mutex<Vec<Vec<SourceChange<ClientCompany>>>>);

impl Fixed {
    fn new(changes: &[SourceChange<ClientCompany>], page: usize) -> Arc<Self> {
        let mut pages: Vec<_> = changes.chunks(page).map(<[_]>::to_vec).collect();
        pages.reverse();
        Arc::new(Fixed(std::sync::Mutex::new(pages)))
    }
}
impl Connector for Fixed {
    fn system(&self) -> SystemId {
        SystemId::new("bench")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["client"])
    }
}
#[async_trait]
impl Source<ClientCompany> for Fixed {
    async fn read(
        &self,
        _: Option<&Cursor>,
        _: usize,
    ) -> odoo_integration::connectors::Result<Page<ClientCompany>> {
        let mut pages = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let changes = pages.pop().unwrap_or_default();
        Ok(Page {
            changes,
            next: Cursor::new(pages.len().to_string()),
            has_more: !pages.is_empty(),
        })
    }
}

struct NoOp;
impl Connector for NoOp {
    fn system(&self) -> SystemId {
        SystemId::new("noop")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().writes(["client"])
    }
}
#[async_trait]
impl Sink<ClientCompany> for NoOp {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration::connectors::Result<Vec<Outcome>> {
        Ok(batch
            .into_iter()
            .map(|r| Outcome::Created(r.origin_id))
            .collect())
    }
}

fn client(i: usize) -> ClientCompany {
    ClientCompany {
        legal_name: format!("Client {i}"),
        website: Some(format!("https://client{i}.example")),
        tax_id: Some(format!("BE{i:010}")),
        industry: Some(["IT", "Retail", "Health"][i % 3].into()),
        ..Default::default()
    }
}

fn changes() -> Vec<SourceChange<ClientCompany>> {
    let at = odoo_integration::chrono::Utc::now();
    (0..N)
        .map(|i| SourceChange::upsert(format!("b{i}"), at, client(i)))
        .collect()
}

fn bench_pipeline(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let source = changes();
    let policy = Policy::from_toml(
        "[client]\ndefault_owner = \"odoo\"\n[client.fields]\nwebsite = \"bench\"\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let mut g = c.benchmark_group("pipeline_10k");
    g.sample_size(10);
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("sink_directly_baseline", |b| {
        b.iter_batched(
            || source.clone(),
            |changes| {
                rt.block_on(async {
                    for chunk in changes.chunks(500) {
                        let batch = chunk
                            .iter()
                            .map(|c| {
                                SinkRecord::new(
                                    CanonicalId::new(),
                                    SystemId::new("bench"),
                                    c.remote_id.clone(),
                                    c.operation.clone(),
                                )
                            })
                            .collect();
                        black_box(NoOp.apply(batch).await.ok());
                    }
                })
            },
            BatchSize::LargeInput,
        )
    });
    let build = |name: &str, state: Arc<MemoryStore>, dry_run: bool| {
        Pipeline::<ClientCompany>::builder(name, Fixed::new(&source, 500), Arc::new(NoOp), state)
            .policy(policy.clone())
            .validator(Validator::new().with(RequiredWhen {
                code: "client.name".into(),
                when: Condition::Always,
                required: vec!["legal_name".into()],
                equal: vec![],
            }))
            .map(|c| {
                if let Operation::Upsert(client) = &mut c.operation {
                    client.legal_name = client.legal_name.trim().to_owned();
                }
                Ok(())
            })
            .batch_size(500)
            .dry_run(dry_run)
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    };
    // The goal: mapping + identity + merge + validation, nothing stored.
    g.bench_function("map_merge_validate", |b| {
        b.iter_batched(
            || build("bench", Arc::new(MemoryStore::new()), true),
            |p| {
                let summary = rt.block_on(p.run()).unwrap_or_else(|e| panic!("{e}"));
                (black_box(summary), p)
            },
            BatchSize::PerIteration,
        )
    });
    // All of it, with the in-memory stores: the above plus linking ids,
    // encoding each canonical record with its provenance trail, and the
    // no-op sink's outcomes.
    g.bench_function("first_sync_in_memory", |b| {
        b.iter_batched(
            || build("bench", Arc::new(MemoryStore::new()), false),
            |p| {
                let summary = rt.block_on(p.run()).unwrap_or_else(|e| panic!("{e}"));
                // Returned, so the stores are dropped outside the timing.
                (black_box(summary), p)
            },
            BatchSize::PerIteration,
        )
    });
    // A second sync of the same records: stored records decoded, merged,
    // found unchanged, nothing sent.
    g.bench_function("resync_unchanged_in_memory", |b| {
        b.iter_batched(
            || {
                let state = Arc::new(MemoryStore::new());
                rt.block_on(build("first", state.clone(), false).run())
                    .unwrap_or_else(|e| panic!("{e}"));
                // Another checkpoint key: the second sync reads it all again.
                build("again", state, false)
            },
            |p| {
                let summary = rt.block_on(p.run()).unwrap_or_else(|e| panic!("{e}"));
                (black_box(summary), p)
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn bench_file_store(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("{e}"));
    let batch: Vec<(CanonicalId, StoredRecord)> = (0..100)
        .map(|i| {
            let record = StoredRecord::encode(&client(i)).unwrap_or_else(|e| panic!("{e}"));
            (CanonicalId::new(), record)
        })
        .collect();
    let mut g = c.benchmark_group("file_store");
    g.sample_size(20);
    g.throughput(Throughput::Elements(100));
    let memory = MemoryStore::new();
    g.bench_function("save_100_records_memory_baseline", |b| {
        b.iter(|| {
            rt.block_on(memory.save_records("client", batch.clone()))
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = rt
        .block_on(FileStore::open(dir.path()))
        .unwrap_or_else(|e| panic!("{e}"));
    let sqlite = rt
        .block_on(SqliteStore::open(dir.path().join("state.db")))
        .unwrap_or_else(|e| panic!("{e}"));
    let stores: [(&str, &dyn RecordStore); 2] = [
        ("save_100_records_file", &file),
        ("save_100_records_sqlite", &sqlite),
    ];
    for (name, store) in stores {
        g.bench_function(name, |b| {
            b.iter(|| {
                // New ids each time, so every call really writes.
                let fresh: Vec<_> = batch
                    .iter()
                    .map(|(_, v)| (CanonicalId::new(), v.clone()))
                    .collect();
                rt.block_on(store.save_records("client", fresh))
                    .unwrap_or_else(|e| panic!("{e}"))
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_pipeline, bench_file_store);
criterion_main!(benches);
