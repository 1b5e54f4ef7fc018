#![allow(clippy::unwrap_used)]
//! The runner: leases keep two workers from running a job at once and
//! hand it over when a worker dies; shutdown finishes the page in flight;
//! jobs run in order; failures back off; a circuit breaker's
//! `retry_after` is honoured; bad settings are refused at `build()`.

use async_trait::async_trait;
use odoo_integration_connectors::{
    Capabilities, CheckpointStore, CircuitBreaker, Connector, ConnectorError, ConnectorErrorKind,
    Cursor, Job, LastRun, Lease, LeaseStore, MemoryStore, Outcome, Page, Pipeline, RunReport,
    Runner, Shutdown, Sink, SinkRecord, Source, SourceChange,
};
use odoo_integration_model::{ClientCompany, RemoteId, SystemId};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, Semaphore};

const NAME: &str = "sheet→ledger";

/// `n` clients in pages of the pipeline's batch size; or, with `endless`,
/// one new client on every read. Each read can wait `delay`, and the read
/// after `block_at` (a cursor) can hang for good, once.
struct Sheet {
    n: usize,
    endless: bool,
    delay: Duration,
    block_at: Mutex<Option<String>>,
    blocked: Notify,
    reads: AtomicUsize,
}

impl Sheet {
    fn new(n: usize) -> Arc<Self> {
        Arc::new(Sheet {
            n,
            endless: false,
            delay: Duration::ZERO,
            block_at: Mutex::new(None),
            blocked: Notify::new(),
            reads: AtomicUsize::new(0),
        })
    }

    fn endless() -> Arc<Self> {
        Arc::new(Sheet {
            endless: true,
            ..Arc::into_inner(Sheet::new(0)).unwrap()
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
        let read = self.reads.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        let from: usize = since.map_or(0, |c| c.as_str().parse().unwrap());
        let hang = {
            let mut block = self.block_at.lock().unwrap();
            let hang = block.as_deref() == Some(&from.to_string());
            if hang {
                *block = None;
            }
            hang
        };
        if hang {
            self.blocked.notify_one();
            std::future::pending::<()>().await;
        }
        let to = if self.endless {
            read + 1
        } else {
            (from + limit).min(self.n)
        };
        let from = if self.endless { read } else { from };
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
            has_more: !self.endless && to < self.n,
        })
    }
}

/// Writes clients, keeping every id it was sent (twice is a bug) and the
/// most calls it had in flight at once. A `gate` makes each call wait for
/// a permit; `down` fails every call.
#[derive(Default)]
struct Ledger {
    written: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    most_in_flight: AtomicUsize,
    hold: Duration,
    gate: Option<Arc<Semaphore>>,
    entered: Notify,
    down: AtomicBool,
}

impl Ledger {
    fn written(&self) -> Vec<String> {
        self.written.lock().unwrap().clone()
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
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.most_in_flight.fetch_max(now, Ordering::SeqCst);
        self.entered.notify_one();
        if let Some(gate) = &self.gate {
            gate.acquire().await.unwrap().forget();
        }
        tokio::time::sleep(self.hold).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        if self.down.load(Ordering::SeqCst) {
            return Err(ConnectorError::new(
                ConnectorErrorKind::Unavailable,
                "the ledger is down",
            ));
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
) -> Arc<Pipeline<ClientCompany>> {
    Arc::new(
        Pipeline::<ClientCompany>::builder(NAME, sheet.clone(), ledger.clone(), state.clone())
            .batch_size(2)
            .concurrency(1)
            .attempts(1, Duration::ZERO)
            .build()
            .unwrap(),
    )
}

fn ids(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| i.to_string()).collect()
}

/// Waits (real time) until `done` holds, for at most five seconds.
async fn until(mut done: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("waited five seconds in vain");
}

/// Two workers with one job each, the same pipeline over one store:
/// never in the sink at once, and both get runs over time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_never_run_a_job_at_once_and_both_progress() {
    let state = Arc::new(MemoryStore::new());
    let sheet = Sheet::endless();
    let ledger = Arc::new(Ledger {
        hold: Duration::from_millis(15),
        ..Ledger::default()
    });
    let worker = |id: &str| {
        Runner::builder(state.clone())
            .worker_id(id)
            .job(pipeline(&sheet, &ledger, &state), Duration::from_millis(30))
            .jitter(1.0)
            .lease_ttl(Duration::from_secs(5))
            .build()
            .unwrap()
    };
    let (a, b) = (worker("worker-a"), worker("worker-b"));
    let shutdown = Shutdown::new();
    let runs = [a.clone(), b.clone()].map(|r| {
        let shutdown = shutdown.clone();
        tokio::spawn(async move { r.run(&shutdown).await })
    });
    let runs_of = |r: &Runner| r.status().job(NAME).unwrap().runs;
    until(|| runs_of(&a) >= 10 && runs_of(&b) >= 10).await;
    shutdown.trip();
    for run in runs {
        run.await.unwrap().unwrap();
    }
    assert_eq!(
        ledger.most_in_flight.load(Ordering::SeqCst),
        1,
        "two runs of one job overlapped"
    );
    let skipped =
        a.status().job(NAME).unwrap().skipped_held + b.status().job(NAME).unwrap().skipped_held;
    assert!(
        skipped > 0,
        "with runs of half the interval, some rounds find the lease held"
    );
    let written = ledger.written();
    let mut unique = written.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        written.len(),
        "a record was written twice: {written:?}"
    );
    assert!(
        state.lease(NAME).await.unwrap().is_none(),
        "leases are given back on shutdown"
    );
}

/// A worker dies in the middle of a run (its task aborted: no release).
/// While it lived its lease was renewed past the TTL; once dead, the
/// other worker is refused until the TTL lapses, then takes over from the
/// checkpoint, and every record is written once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_workers_lease_lapses_and_the_other_takes_over() {
    let state = Arc::new(MemoryStore::new());
    let sheet = Sheet::new(6);
    *sheet.block_at.lock().unwrap() = Some("2".into());
    let ledger = Arc::new(Ledger::default());
    let ttl = Duration::from_millis(300);
    let worker = |id: &str| {
        Runner::builder(state.clone())
            .worker_id(id)
            .job(pipeline(&sheet, &ledger, &state), Duration::from_millis(20))
            .jitter(0.0)
            .lease_ttl(ttl)
            .build()
            .unwrap()
    };
    let a = worker("worker-a");
    let dying = tokio::spawn({
        let a = a.clone();
        async move { a.run(&Shutdown::new()).await }
    });
    // Page 1 written, then the read of page 2 hangs.
    tokio::time::timeout(Duration::from_secs(5), sheet.blocked.notified())
        .await
        .unwrap();
    tokio::time::sleep(ttl * 2).await;
    assert!(
        state.acquire(NAME, "probe", ttl).await.unwrap().is_none(),
        "a run in flight keeps its lease renewed past the TTL"
    );
    dying.abort();
    assert!(dying.await.unwrap_err().is_cancelled());
    let died = std::time::Instant::now();

    let b = worker("worker-b");
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (b, shutdown) = (b.clone(), shutdown.clone());
        async move { b.run(&shutdown).await }
    });
    until(|| b.status().job(NAME).unwrap().skipped_held > 0).await;
    let status = b.status();
    let job = status.job(NAME).unwrap();
    assert_eq!(job.lease_holder.as_deref(), Some("worker-a"));
    assert!(matches!(&job.last, Some(LastRun::Skipped { holder }) if holder == "worker-a"));
    until(|| ledger.written().len() == 6).await;
    assert!(
        died.elapsed() >= ttl / 2,
        "taken over before the lease could lapse"
    );
    shutdown.trip();
    running.await.unwrap().unwrap();
    assert_eq!(ledger.written(), ids(0..6), "every record written once");
    assert!(b.status().job(NAME).unwrap().runs >= 1);
}

/// Shutdown while a page is in the sink: the page is finished and its
/// checkpoint saved, the next page is not read, the runner returns; the
/// next run resumes after that page and writes nothing twice.
#[tokio::test]
async fn shutdown_finishes_the_page_in_flight_and_saves_its_checkpoint() {
    let state = Arc::new(MemoryStore::new());
    let sheet = Sheet::new(6);
    let gate = Arc::new(Semaphore::new(0));
    let ledger = Arc::new(Ledger {
        gate: Some(gate.clone()),
        ..Ledger::default()
    });
    let runner = Runner::builder(state.clone())
        .job(pipeline(&sheet, &ledger, &state), Duration::from_secs(60))
        .build()
        .unwrap();
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    ledger.entered.notified().await; // page 1 is in the sink
    shutdown.trip();
    tokio::task::yield_now().await;
    gate.add_permits(100);
    running.await.unwrap().unwrap();

    assert_eq!(ledger.written(), ids(0..2));
    assert_eq!(sheet.reads.load(Ordering::SeqCst), 1, "page 2 was not read");
    assert_eq!(
        state.checkpoint(NAME).await.unwrap(),
        Some(Cursor::new("2"))
    );
    let status = runner.status();
    assert!(status.shutting_down);
    let job = status.job(NAME).unwrap();
    assert!(
        matches!(&job.last, Some(LastRun::Stopped(r)) if r.stopped_early && r.summary.as_ref().is_some_and(|s| s.created == 2))
    );
    assert!(job.next_run_at.is_none());
    assert!(
        state.lease(NAME).await.unwrap().is_none(),
        "the lease was given back"
    );

    // The next start resumes after page 1.
    let rest = pipeline(&sheet, &ledger, &state).run().await.unwrap();
    assert_eq!((rest.read, rest.created), (4, 4));
    assert_eq!(ledger.written(), ids(0..6));
}

/// A lease store that, once told, answers every renewal "lost" (as when
/// the lease lapsed during a long pause and another worker took it).
struct Losing {
    inner: MemoryStore,
    lose: AtomicBool,
    renewals: AtomicUsize,
}

#[async_trait]
impl LeaseStore for Losing {
    async fn acquire(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> odoo_integration_connectors::Result<Option<Lease>> {
        self.inner.acquire(name, holder, ttl).await
    }
    async fn renew(
        &self,
        lease: &Lease,
        ttl: Duration,
    ) -> odoo_integration_connectors::Result<Option<Lease>> {
        self.renewals.fetch_add(1, Ordering::SeqCst);
        if self.lose.load(Ordering::SeqCst) {
            return Ok(None);
        }
        self.inner.renew(lease, ttl).await
    }
    async fn release(&self, lease: &Lease) -> odoo_integration_connectors::Result<()> {
        self.inner.release(lease).await
    }
    async fn lease(&self, name: &str) -> odoo_integration_connectors::Result<Option<Lease>> {
        self.inner.lease(name).await
    }
}

/// The lease is lost while a page is in the sink: the run finishes that
/// page, saves its checkpoint, reads no further, and reports the loss.
#[tokio::test]
async fn a_run_that_loses_its_lease_stops_at_the_next_page() {
    let state = Arc::new(MemoryStore::new());
    let sheet = Sheet::new(6);
    let gate = Arc::new(Semaphore::new(0));
    let ledger = Arc::new(Ledger {
        gate: Some(gate.clone()),
        ..Ledger::default()
    });
    let leases = Arc::new(Losing {
        inner: MemoryStore::new(),
        lose: AtomicBool::new(false),
        renewals: AtomicUsize::new(0),
    });
    let runner = Runner::builder(leases.clone())
        .job(pipeline(&sheet, &ledger, &state), Duration::from_secs(60))
        .lease_ttl(Duration::from_millis(30))
        .build()
        .unwrap();
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    ledger.entered.notified().await; // page 1 is in the sink
    until(|| leases.renewals.load(Ordering::SeqCst) >= 2).await; // renewed while it waits
    leases.lose.store(true, Ordering::SeqCst);
    let seen = leases.renewals.load(Ordering::SeqCst);
    until(|| leases.renewals.load(Ordering::SeqCst) > seen).await;
    gate.add_permits(100);
    until(|| runner.status().job(NAME).unwrap().last.is_some()).await;

    assert_eq!(ledger.written(), ids(0..2));
    assert_eq!(sheet.reads.load(Ordering::SeqCst), 1, "page 2 was not read");
    assert_eq!(
        state.checkpoint(NAME).await.unwrap(),
        Some(Cursor::new("2"))
    );
    let job = runner.status().job(NAME).unwrap().clone();
    assert!(
        matches!(&job.last, Some(LastRun::LeaseLost(r)) if r.stopped_early),
        "{:?}",
        job.last
    );
    assert!(job.next_run_at.is_some(), "the runner carries on");
    shutdown.trip();
    running.await.unwrap().unwrap();
}

/// A job that logs when it starts and ends.
struct Logged {
    name: &'static str,
    takes: Duration,
    log: Arc<Mutex<Vec<(&'static str, bool)>>>,
}

#[async_trait]
impl Job for Logged {
    fn name(&self) -> &str {
        self.name
    }
    async fn run_once(&self, _stop: &Shutdown) -> odoo_integration_connectors::Result<RunReport> {
        self.log.lock().unwrap().push((self.name, true));
        tokio::time::sleep(self.takes).await;
        self.log.lock().unwrap().push((self.name, false));
        Ok(RunReport::new("logged"))
    }
}

/// Contacts after clients: contacts (the shorter interval) never starts
/// while clients runs, nor twice without a clients round in between.
#[tokio::test(start_paused = true)]
async fn a_job_waits_for_a_round_of_its_prerequisite() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let job = |name, ms| {
        Arc::new(Logged {
            name,
            takes: Duration::from_millis(ms),
            log: log.clone(),
        })
    };
    let runner = Runner::builder(Arc::new(MemoryStore::new()))
        .job(job("contacts", 5), Duration::from_millis(10))
        .job(job("clients", 20), Duration::from_millis(30))
        .after("contacts", "clients")
        .jitter(0.3)
        .build()
        .unwrap();
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    shutdown.trip();
    running.await.unwrap().unwrap();

    let log = log.lock().unwrap().clone();
    assert_eq!(log[0], ("clients", true), "clients first: {log:?}");
    let (mut clients_running, mut clients_ended, mut seen_at_last_start) = (false, 0, None);
    for (name, start) in &log {
        match (*name, *start) {
            ("clients", s) => {
                clients_running = s;
                clients_ended += usize::from(!s);
            }
            ("contacts", true) => {
                assert!(
                    !clients_running,
                    "contacts started while clients ran: {log:?}"
                );
                assert!(
                    seen_at_last_start.is_none_or(|seen| clients_ended > seen),
                    "contacts ran twice in one clients round: {log:?}"
                );
                seen_at_last_start = Some(clients_ended);
            }
            _ => {}
        }
    }
    let contacts = log.iter().filter(|(n, s)| *n == "contacts" && *s).count();
    assert!(
        contacts >= 15,
        "contacts kept pace with clients: {contacts} runs"
    );
}

/// Who ran what, and whether it started (or ended).
type WhoRan = Arc<Mutex<Vec<(&'static str, &'static str, bool)>>>;

/// A job that logs, with its worker's name, when it starts and ends.
struct Tagged {
    worker: &'static str,
    name: &'static str,
    log: WhoRan,
}

#[async_trait]
impl Job for Tagged {
    fn name(&self) -> &str {
        self.name
    }
    async fn run_once(&self, _stop: &Shutdown) -> odoo_integration_connectors::Result<RunReport> {
        self.log
            .lock()
            .unwrap()
            .push((self.worker, self.name, true));
        tokio::time::sleep(Duration::from_millis(15)).await;
        self.log
            .lock()
            .unwrap()
            .push((self.worker, self.name, false));
        Ok(RunReport::new("logged"))
    }
}

/// Two workers, each with clients and contacts (contacts after clients),
/// sharing one store: contacts on one worker and clients on the other
/// never run at the same time, and both jobs keep running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ordered_jobs_never_overlap_across_workers() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::new(MemoryStore::new());
    let worker = |id: &'static str| {
        let job = |name| {
            Arc::new(Tagged {
                worker: id,
                name,
                log: log.clone(),
            })
        };
        Runner::builder(store.clone())
            .worker_id(id)
            .job(job("clients"), Duration::from_millis(10))
            .job(job("contacts"), Duration::from_millis(10))
            .after("contacts", "clients")
            .jitter(0.5)
            .build()
            .unwrap()
    };
    let shutdown = Shutdown::new();
    let handles: Vec<_> = [worker("a"), worker("b")]
        .into_iter()
        .map(|runner| {
            let shutdown = shutdown.clone();
            tokio::spawn(async move { runner.run(&shutdown).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shutdown.trip();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    let log = log.lock().unwrap().clone();
    // What runs where, as the log goes.
    let mut running: Vec<(&str, &str)> = Vec::new();
    for (worker, name, start) in &log {
        if *start {
            let clash = running.iter().find(|(w, n)| w != worker && n != name);
            assert!(
                clash.is_none(),
                "{name} started on {worker} while {clash:?} ran: {log:?}"
            );
            running.push((worker, name));
        } else {
            running.retain(|r| *r != (*worker, *name));
        }
    }
    for name in ["clients", "contacts"] {
        let runs = log.iter().filter(|(_, n, s)| *n == name && *s).count();
        assert!(runs >= 5, "{name} kept running: {runs} runs");
    }
}

/// A pipeline whose breaker opens (retry_after 30 s): the runner's next
/// run is the breaker's probe at 30 s, not the 1 s interval or back-off;
/// the probe finds the ledger back and writes everything once.
#[tokio::test(start_paused = true)]
async fn a_circuit_open_error_defers_the_next_run_to_its_retry_after() {
    let state = Arc::new(MemoryStore::new());
    let sheet = Sheet::new(4);
    let ledger = Arc::new(Ledger::default());
    ledger.down.store(true, Ordering::SeqCst);
    let breaker = Arc::new(
        CircuitBreaker::new()
            .threshold(1)
            .waits(Duration::from_secs(30), Duration::from_secs(600)),
    );
    let pipeline =
        Pipeline::<ClientCompany>::builder(NAME, sheet.clone(), ledger.clone(), state.clone())
            .batch_size(2)
            .attempts(1, Duration::ZERO)
            .circuit_breaker(breaker)
            .build()
            .unwrap();
    let runner = Runner::builder(state.clone())
        .job(Arc::new(pipeline), Duration::from_secs(1))
        .jitter(0.0)
        .max_backoff(Duration::from_secs(2))
        .build()
        .unwrap();
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    tokio::time::sleep(Duration::from_secs(29)).await;
    let status = runner.status();
    let job = status.job(NAME).unwrap();
    assert_eq!(job.runs, 1, "no polling while the breaker is open");
    assert!(
        matches!(&job.last, Some(LastRun::Failed(e)) if e.kind() == ConnectorErrorKind::CircuitOpen)
    );
    assert_eq!(ledger.written(), Vec::<String>::new());

    ledger.down.store(false, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(2)).await; // 31 s
    let job = runner.status().job(NAME).unwrap().clone();
    assert_eq!(job.runs, 2, "the probe ran at the retry_after");
    assert!(
        matches!(&job.last, Some(LastRun::Finished(_))),
        "{:?}",
        job.last
    );
    assert_eq!(job.failures_in_row, 0);
    assert_eq!(ledger.written(), ids(0..4));
    shutdown.trip();
    running.await.unwrap().unwrap();
}

/// Always fails, counting its runs.
struct Failing(AtomicUsize);

#[async_trait]
impl Job for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    async fn run_once(&self, _stop: &Shutdown) -> odoo_integration_connectors::Result<RunReport> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Err(ConnectorError::new(
            ConnectorErrorKind::Invalid,
            "the export is malformed",
        ))
    }
}

/// A failing job doubles its wait (2, 4, 8, 8 s...), not every second.
#[tokio::test(start_paused = true)]
async fn a_failing_job_backs_off() {
    let job = Arc::new(Failing(AtomicUsize::new(0)));
    let runner = Runner::builder(Arc::new(MemoryStore::new()))
        .job(job.clone(), Duration::from_secs(1))
        .jitter(0.0)
        .max_backoff(Duration::from_secs(8))
        .build()
        .unwrap();
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    // Runs at 0, 2, 6, 14, 22, 30.
    tokio::time::sleep(Duration::from_millis(30_500)).await;
    shutdown.trip();
    running.await.unwrap().unwrap();
    assert_eq!(job.0.load(Ordering::SeqCst), 6);
    let status = runner.status();
    let j = status.job("failing").unwrap();
    assert_eq!((j.runs, j.failures_in_row), (6, 6));
    assert!(matches!(&j.last, Some(LastRun::Failed(e)) if e.kind() == ConnectorErrorKind::Invalid));
}

/// Panics on every run.
struct Panicking;

#[async_trait]
impl Job for Panicking {
    fn name(&self) -> &str {
        "panicking"
    }
    async fn run_once(&self, _stop: &Shutdown) -> odoo_integration_connectors::Result<RunReport> {
        panic!("index out of bounds")
    }
}

/// A job that panics is a failed run (backed off), its lease given back;
/// the runner and its other jobs carry on.
#[tokio::test]
async fn a_panicking_job_is_a_failed_run() {
    let state = Arc::new(MemoryStore::new());
    let log = Arc::new(Mutex::new(Vec::new()));
    let runner = Runner::builder(state.clone())
        .job(Arc::new(Panicking), Duration::from_millis(10))
        .job(
            Arc::new(Logged {
                name: "clients",
                takes: Duration::ZERO,
                log: log.clone(),
            }),
            Duration::from_millis(10),
        )
        .build()
        .unwrap();
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    until(|| runner.status().job("panicking").unwrap().runs >= 2 && log.lock().unwrap().len() >= 6)
        .await;
    shutdown.trip();
    running.await.unwrap().unwrap();
    assert!(
        state.lease("panicking").await.unwrap().is_none(),
        "its lease was given back"
    );
    let status = runner.status();
    let j = status.job("panicking").unwrap();
    assert!(
        matches!(&j.last, Some(LastRun::Failed(e)) if e.message().contains("index out of bounds")),
        "{:?}",
        j.last
    );
    assert_eq!(j.failures_in_row, u32::try_from(j.runs).unwrap());
}

/// A lease held by a live worker: the job is skipped, counted, never run.
#[tokio::test]
async fn a_lease_held_elsewhere_skips_the_round() {
    let state = Arc::new(MemoryStore::new());
    let held = state
        .acquire("failing", "worker-z", Duration::from_secs(60))
        .await
        .unwrap();
    assert!(held.is_some());
    let job = Arc::new(Failing(AtomicUsize::new(0)));
    let runner = Runner::builder(state.clone())
        .job(job.clone(), Duration::from_millis(10))
        .build()
        .unwrap();
    let shutdown = Shutdown::new();
    let running = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    until(|| runner.status().job("failing").unwrap().skipped_held >= 3).await;
    shutdown.trip();
    running.await.unwrap().unwrap();
    assert_eq!(job.0.load(Ordering::SeqCst), 0);
    let status = runner.status();
    let j = status.job("failing").unwrap();
    assert_eq!((j.runs, j.lease_holder.as_deref()), (0, Some("worker-z")));
    assert!(status.to_string().contains("lease held by worker-z"));
}

/// Bad settings are typed errors at `build()`; one runner runs once.
#[tokio::test]
async fn bad_settings_are_refused() {
    let store = Arc::new(MemoryStore::new());
    let minute = Duration::from_secs(60);
    let job = |name: &'static str| -> Arc<dyn Job> {
        Arc::new(Logged {
            name,
            takes: Duration::ZERO,
            log: Arc::default(),
        })
    };
    let two = || {
        Runner::builder(store.clone())
            .job(job("clients"), minute)
            .job(job("contacts"), minute)
    };
    let refused = |b: odoo_integration_connectors::RunnerBuilder| {
        let e = b.build().unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Configuration);
        e.message().to_owned()
    };
    assert!(refused(two().after("contacts", "accounts")).contains("`accounts`"));
    assert!(refused(two().after("invoices", "clients")).contains("`invoices`"));
    assert!(
        refused(
            two()
                .after("contacts", "clients")
                .after("clients", "contacts")
        )
        .contains("cycle")
    );
    assert!(refused(two().after("clients", "clients")).contains("cycle"));
    assert!(refused(two().job(job("clients"), minute)).contains("two jobs are named `clients`"));
    assert!(refused(Runner::builder(store.clone())).contains("no jobs"));
    assert!(refused(two().job(job("zero"), Duration::ZERO)).contains("zero"));
    assert!(refused(two().max_concurrent(0)).contains("max_concurrent"));
    assert!(refused(two().lease_ttl(Duration::ZERO)).contains("TTL"));
    assert!(refused(two().lease_ttl(Duration::from_millis(9))).contains("busy loop"));
    assert!(refused(two().jitter(1.5)).contains("jitter"));
    assert!(refused(two().jitter(f64::NAN)).contains("jitter"));
    assert!(refused(two().worker_id(" ")).contains("worker id"));

    let runner = two().after("contacts", "clients").build().unwrap();
    let shutdown = Shutdown::new();
    let first = tokio::spawn({
        let (runner, shutdown) = (runner.clone(), shutdown.clone());
        async move { runner.run(&shutdown).await }
    });
    until(|| runner.status().job("contacts").unwrap().runs > 0).await;
    let again = runner.run(&shutdown).await.unwrap_err();
    assert_eq!(again.kind(), ConnectorErrorKind::Configuration);
    shutdown.trip();
    first.await.unwrap().unwrap();
    // Two runners built without a worker id never share one.
    assert_ne!(
        two().build().unwrap().status().worker,
        two().build().unwrap().status().worker
    );
}

/// SIGTERM trips the shutdown from `on_signals`.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_trips_the_shutdown() {
    let shutdown = Shutdown::on_signals().unwrap();
    assert!(!shutdown.is_tripped());
    let status = std::process::Command::new("kill")
        .args(["-TERM", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    tokio::time::timeout(Duration::from_secs(5), shutdown.tripped())
        .await
        .unwrap();
}

#[test]
fn runner_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Runner>();
    check::<Shutdown>();
    check::<odoo_integration_connectors::RunnerStatus>();
}
