#![allow(clippy::unwrap_used)]
//! The circuit breaker: a sink that is down, or refuses the credential,
//! stops the pipeline instead of filling the dead-letter queue; the
//! records stay where they are, and the first run after the wait probes
//! and resumes.

use async_trait::async_trait;
use odoo_integration_connectors::{
    Capabilities, CheckpointStore, CircuitBreaker, Connector, ConnectorError, ConnectorErrorKind,
    Cursor, DeadLetterQueue, MemoryStore, Outcome, Page, Pipeline, Sink, SinkRecord, Source,
    SourceChange,
};
use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// `n` clients, read in pages of the pipeline's batch size; counts reads.
struct Sheet {
    n: usize,
    reads: AtomicUsize,
    down: Mutex<Option<ConnectorErrorKind>>,
}

impl Sheet {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Sheet {
            n,
            reads: AtomicUsize::new(0),
            down: Mutex::new(None),
        })
    }
}

impl Connector for Sheet {
    fn system(&self) -> SystemId {
        SystemId::new("sheet")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads(["client"]).incremental(true)
    }
}

#[async_trait]
impl Source<ClientCompany> for Sheet {
    async fn read(
        &self,
        since: Option<&Cursor>,
        limit: usize,
    ) -> odoo_integration_connectors::Result<Page<ClientCompany>> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if let Some(kind) = *self.down.lock().unwrap() {
            return Err(ConnectorError::new(kind, "the sheet is offline"));
        }
        let from: usize = since.map_or(0, |c| c.as_str().parse().unwrap());
        let to = (from + limit).min(self.n);
        let at = chrono::Utc::now();
        let changes = (from..to)
            .map(|i| {
                let client = ClientCompany {
                    legal_name: format!("Client {i}"),
                    ..Default::default()
                };
                SourceChange::upsert(i.to_string(), at, client)
            })
            .collect();
        Ok(Page {
            changes,
            next: Cursor::new(to.to_string()),
            has_more: to < self.n,
        })
    }
}

/// A ledger that writes clients, or fails every call with `down`.
#[derive(Default)]
struct Ledger {
    down: Mutex<Option<ConnectorErrorKind>>,
    calls: AtomicUsize,
    written: Mutex<Vec<String>>,
}

impl Ledger {
    fn set_down(&self, kind: Option<ConnectorErrorKind>) {
        *self.down.lock().unwrap() = kind;
    }
}

impl Connector for Ledger {
    fn system(&self) -> SystemId {
        SystemId::new("ledger")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().writes(["client"])
    }
}

#[async_trait]
impl Sink<ClientCompany> for Ledger {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if let Some(kind) = *self.down.lock().unwrap() {
            return Err(ConnectorError::new(kind, "the ledger said no"));
        }
        let mut written = self.written.lock().unwrap();
        Ok(batch
            .iter()
            .map(|r| {
                written.push(r.origin_id.to_string());
                Outcome::Created(RemoteId::new(format!("L{}", r.origin_id)))
            })
            .collect())
    }
}

fn pipeline(
    sheet: &Arc<Sheet>,
    ledger: &Arc<Ledger>,
    state: &Arc<MemoryStore>,
    breaker: &Arc<CircuitBreaker>,
) -> Pipeline<ClientCompany> {
    Pipeline::<ClientCompany>::builder("sheet→ledger", sheet.clone(), ledger.clone(), state.clone())
        .batch_size(10)
        .concurrency(1)
        .attempts(1, Duration::ZERO)
        .circuit_breaker(breaker.clone())
        .build()
        .unwrap()
}

/// A ledger down for good: after ten failed records the run stops with
/// `CircuitOpen`, nothing in the dead-letter queue and the checkpoint
/// where it was; runs before the wait is over fail at once without calling
/// either system; after the wait the probe fails and the wait doubles;
/// once the ledger is back, the next probe writes every record once.
#[tokio::test(start_paused = true)]
async fn an_outage_stops_the_pipeline_and_it_resumes_after_probing() {
    let (sheet, ledger, state) = (
        Sheet::new(35),
        Arc::new(Ledger::default()),
        Arc::new(MemoryStore::new()),
    );
    let breaker = Arc::new(
        CircuitBreaker::new()
            .threshold(10)
            .waits(Duration::from_secs(30), Duration::from_secs(600)),
    );
    let p = pipeline(&sheet, &ledger, &state, &breaker);
    ledger.set_down(Some(ConnectorErrorKind::Unavailable));

    let err = p.run().await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::CircuitOpen, "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(
        ledger.calls.load(Ordering::SeqCst),
        1,
        "one batch of ten, then stop"
    );
    assert!(
        state.letters("client").await.unwrap().is_empty(),
        "not dead letters"
    );
    assert!(state.checkpoint("sheet→ledger").await.unwrap().is_none());
    assert!(breaker.is_open());

    // While open: no call to either system.
    let (reads, calls) = (
        sheet.reads.load(Ordering::SeqCst),
        ledger.calls.load(Ordering::SeqCst),
    );
    let err = p.run().await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::CircuitOpen);
    assert!(err.retry_after().unwrap() <= Duration::from_secs(30));
    assert_eq!(sheet.reads.load(Ordering::SeqCst), reads);
    assert_eq!(ledger.calls.load(Ordering::SeqCst), calls);

    // The wait is over; the probe fails: open again, twice as long.
    tokio::time::advance(Duration::from_secs(31)).await;
    let err = p.run().await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::CircuitOpen);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(ledger.calls.load(Ordering::SeqCst), calls + 1, "one probe");

    // Back: the next probe goes through, and the run with it.
    ledger.set_down(None);
    tokio::time::advance(Duration::from_secs(61)).await;
    let run = p.run().await.unwrap();
    assert_eq!((run.created, run.dead_lettered), (35, 0), "{run:?}");
    let mut written = ledger.written.lock().unwrap().clone();
    written.sort();
    written.dedup();
    assert_eq!(written.len(), 35, "each once");
    assert!(!breaker.is_open());
    assert!(state.letters("client").await.unwrap().is_empty());
}

/// A revoked credential stops the pipeline on the first batch with a
/// clear `Unauthorized` error, and parks nothing.
#[tokio::test(start_paused = true)]
async fn a_revoked_credential_stops_the_pipeline_with_a_clear_error() {
    let (sheet, ledger, state) = (
        Sheet::new(50),
        Arc::new(Ledger::default()),
        Arc::new(MemoryStore::new()),
    );
    let breaker = Arc::new(CircuitBreaker::new());
    let p = pipeline(&sheet, &ledger, &state, &breaker);
    ledger.set_down(Some(ConnectorErrorKind::Unauthorized));

    let err = p.run().await.unwrap_err();
    assert_eq!(err.kind(), ConnectorErrorKind::Unauthorized, "{err}");
    assert!(err.message().contains("credential"), "{err}");
    assert_eq!(ledger.calls.load(Ordering::SeqCst), 1);
    assert!(state.letters("client").await.unwrap().is_empty());
    // Still refused before the wait, without a call.
    assert_eq!(
        p.run().await.unwrap_err().kind(),
        ConnectorErrorKind::Unauthorized
    );
    assert_eq!(ledger.calls.load(Ordering::SeqCst), 1);
}

/// A few failures below the threshold are the records' lot as before:
/// dead letters, and the run goes on; a record written in between starts
/// the count again.
#[tokio::test(start_paused = true)]
async fn failures_below_the_threshold_are_dead_letters() {
    let (sheet, ledger, state) = (
        Sheet::new(10),
        Arc::new(Ledger::default()),
        Arc::new(MemoryStore::new()),
    );
    let breaker = Arc::new(CircuitBreaker::new().threshold(11));
    let p = pipeline(&sheet, &ledger, &state, &breaker);
    ledger.set_down(Some(ConnectorErrorKind::Unavailable));
    let run = p.run().await.unwrap();
    assert_eq!(run.dead_lettered, 10);
    assert!(!breaker.is_open());
}

/// A source down past the retries opens the breaker too: the next run
/// before the wait does not call it.
#[tokio::test(start_paused = true)]
async fn a_source_down_opens_the_breaker() {
    let (sheet, ledger, state) = (
        Sheet::new(5),
        Arc::new(Ledger::default()),
        Arc::new(MemoryStore::new()),
    );
    let breaker = Arc::new(CircuitBreaker::new());
    let p = pipeline(&sheet, &ledger, &state, &breaker);
    *sheet.down.lock().unwrap() = Some(ConnectorErrorKind::Transport);
    assert_eq!(
        p.run().await.unwrap_err().kind(),
        ConnectorErrorKind::Transport
    );
    let reads = sheet.reads.load(Ordering::SeqCst);
    assert_eq!(
        p.run().await.unwrap_err().kind(),
        ConnectorErrorKind::CircuitOpen
    );
    assert_eq!(sheet.reads.load(Ordering::SeqCst), reads);
    *sheet.down.lock().unwrap() = None;
    tokio::time::advance(Duration::from_secs(31)).await;
    assert_eq!(p.run().await.unwrap().created, 5);
}

/// With the feature `metrics`, a run reports its records by outcome, the
/// calls' latency, the lag and the queues, as Prometheus reads them; and
/// the circuit breaker's state.
#[cfg(feature = "metrics")]
#[tokio::test(start_paused = true)]
async fn runs_are_measured() {
    use metrics_exporter_prometheus::PrometheusBuilder;
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _local = metrics::set_default_local_recorder(&recorder);

    let (sheet, ledger, state) = (
        Sheet::new(25),
        Arc::new(Ledger::default()),
        Arc::new(MemoryStore::new()),
    );
    let breaker = Arc::new(CircuitBreaker::new().threshold(10));
    let p = pipeline(&sheet, &ledger, &state, &breaker);
    p.run().await.unwrap();
    p.run().await.unwrap();
    ledger.set_down(Some(ConnectorErrorKind::Unavailable));
    // Nothing new to write: the sink is not called, the breaker stays shut.
    p.run().await.unwrap();
    let text = handle.render();
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in:\n{text}"))
            .to_owned()
    };
    let value = |prefix: &str| -> f64 { line(prefix).rsplit(' ').next().unwrap().parse().unwrap() };
    let records = |outcome: &str| {
        value(&format!(
            "sync_records_total{{pipeline=\"sheet→ledger\",entity=\"client\",outcome=\"{outcome}\"}}"
        ))
    };
    assert_eq!(records("created"), 25.0);
    assert_eq!(records("read"), 25.0);
    assert!(line("sync_call_seconds_count{system=\"ledger\",call=\"write\"}").ends_with(" 3"));
    assert!(text.contains("sync_call_seconds_count{system=\"sheet\",call=\"read\"}"));
    assert_eq!(value("sync_dead_letters{entity=\"client\"}"), 0.0);
    assert_eq!(value("sync_circuit_open{pipeline=\"sheet→ledger\"}"), 0.0);
    assert!(text.contains("sync_lag_seconds{pipeline=\"sheet→ledger\",entity=\"client\"}"));
}
