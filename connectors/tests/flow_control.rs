#![allow(clippy::unwrap_used)]
//! Flow control in the pipeline: a `Retry-After` holds back every task.

use async_trait::async_trait;
use canonical_model::{Client, RemoteId, SystemId};
use connectors::{
    Capabilities, Connector, ConnectorError, Cursor, MemoryStore, Outcome, Page, Pipeline, Sink,
    SinkRecord, Source, SourceChange,
};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

struct Rows(Vec<SourceChange<Client>>);
impl Connector for Rows {
    fn system(&self) -> SystemId {
        SystemId::new("sheet")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["client"])
    }
}
#[async_trait]
impl Source<Client> for Rows {
    async fn read(&self, _: Option<&Cursor>, _: usize) -> connectors::Result<Page<Client>> {
        Ok(Page {
            changes: self.0.clone(),
            next: Cursor::new("end"),
            has_more: false,
        })
    }
}

/// Takes a second per call; its first call answers 429 with a 30-second
/// `Retry-After`. Declares no rate limit of its own.
struct Throttled {
    start: Instant,
    calls: Mutex<Vec<(Duration, usize)>>,
    written: Mutex<Vec<String>>,
}
impl Connector for Throttled {
    fn system(&self) -> SystemId {
        SystemId::new("ledger")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().writes(["client"])
    }
}
#[async_trait]
impl Sink<Client> for Throttled {
    async fn apply(&self, batch: Vec<SinkRecord<Client>>) -> connectors::Result<Vec<Outcome>> {
        let first = {
            let mut calls = self.calls.lock().unwrap();
            calls.push((self.start.elapsed(), batch.len()));
            calls.len() == 1
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        if first {
            return Err(ConnectorError::rate_limited(
                "429 Too Many Requests",
                Some(Duration::from_secs(30)),
            ));
        }
        let mut written = self.written.lock().unwrap();
        Ok(batch
            .into_iter()
            .map(|r| {
                written.push(r.origin_id.to_string());
                Outcome::Created(RemoteId::new(format!("L-{}", r.origin_id)))
            })
            .collect())
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_holds_back_every_task_of_the_pipeline() {
    let at = chrono::Utc::now();
    let changes = (0..80)
        .map(|i| {
            let c = Client {
                legal_name: format!("Client {i}"),
                ..Default::default()
            };
            SourceChange::upsert(format!("r{i}"), at, c)
        })
        .collect();
    let sink = Arc::new(Throttled {
        start: Instant::now(),
        calls: Mutex::new(Vec::new()),
        written: Mutex::new(Vec::new()),
    });
    let summary = Pipeline::<Client>::builder(
        "sheet→ledger",
        Arc::new(Rows(changes)),
        sink.clone(),
        Arc::new(MemoryStore::new()),
    )
    .batch_size(10)
    .concurrency(4)
    .attempts(3, Duration::from_millis(100))
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!(
        (summary.created, summary.dead_lettered),
        (80, 0),
        "{summary:?}"
    );
    let mut written = sink.written.lock().unwrap().clone();
    written.sort();
    written.dedup();
    assert_eq!(written.len(), 80, "every record written once");

    let calls = sink.calls.lock().unwrap().clone();
    // Four batches went out at once; the first got the 429 a second later.
    let at_start: Vec<_> = calls.iter().filter(|(t, _)| t.is_zero()).collect();
    assert_eq!(at_start.len(), 4, "{calls:?}");
    // Every later call, the retry included, waited for the Retry-After
    // (30 s after the 429 arrived at 1 s), though the other three tasks
    // were free from 1 s on.
    let later: Vec<_> = calls.iter().filter(|(t, _)| !t.is_zero()).collect();
    assert_eq!(later.len(), 5, "four more batches and one retry: {calls:?}");
    assert!(
        later.iter().all(|(t, _)| *t >= Duration::from_secs(31)),
        "{calls:?}"
    );
}
