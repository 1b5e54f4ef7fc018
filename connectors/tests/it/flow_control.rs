#![allow(clippy::unwrap_used)]
//! Flow control in the pipeline: a `Retry-After` holds back every task.

use async_trait::async_trait;
use odoo_integration_connectors::{
    Capabilities, Connector, ConnectorError, ConnectorErrorKind, Cursor, DeadLetterQueue,
    MemoryStore, Outcome, Page, Pipeline, Sink, SinkRecord, Source, SourceChange,
};
use odoo_integration_model::{ClientCompany, Entity, RemoteId, SystemId};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

/// The test sinks are all a ledger that writes clients.
macro_rules! ledger {
    ($t:ty) => {
        impl Connector for $t {
            fn system(&self) -> SystemId {
                SystemId::new("ledger")
            }
            fn capabilities(&self) -> Capabilities {
                Capabilities::new().writes(["client"])
            }
        }
    };
}

/// A sheet with these rows, all read in one page.
struct Rows<E>(Vec<SourceChange<E>>);
impl<E: Entity + Send + Sync> Connector for Rows<E> {
    fn system(&self) -> SystemId {
        SystemId::new("sheet")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().reads([E::NAME])
    }
}
#[async_trait]
impl<E: Entity + Send + Sync> Source<E> for Rows<E> {
    async fn read(
        &self,
        _: Option<&Cursor>,
        _: usize,
    ) -> odoo_integration_connectors::Result<Page<E>> {
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
ledger!(Throttled);
#[async_trait]
impl Sink<ClientCompany> for Throttled {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
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
            let c = ClientCompany {
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
    let summary = Pipeline::<ClientCompany>::builder(
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

/// Answers every call with a rate limit asking to wait `self.0` seconds.
struct Closed(u64);
ledger!(Closed);
#[async_trait]
impl Sink<ClientCompany> for Closed {
    async fn apply(
        &self,
        _: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        Err(ConnectorError::rate_limited(
            "daily limit reached",
            Some(Duration::from_secs(self.0)),
        ))
    }
}

/// A sink asking for a wait past the limiter's ceiling (a daily quota, or
/// `u64::MAX` seconds, which overflowed the clock and panicked): the run
/// neither panics nor waits, and the records go to the dead-letter queue
/// with the rate limit and the wait it asked for.
#[tokio::test(start_paused = true)]
async fn a_wait_past_the_ceiling_dead_letters_instead_of_blocking_the_run() {
    for secs in [u64::MAX, 1_000_000_000, 86_400] {
        let at = chrono::Utc::now();
        let changes = (0..5)
            .map(|i| {
                let c = ClientCompany {
                    legal_name: format!("Client {i}"),
                    ..Default::default()
                };
                SourceChange::upsert(format!("r{i}"), at, c)
            })
            .collect();
        let state = Arc::new(MemoryStore::new());
        let started = Instant::now();
        let summary = Pipeline::<ClientCompany>::builder(
            "sheet→closed ledger",
            Arc::new(Rows(changes)),
            Arc::new(Closed(secs)),
            state.clone(),
        )
        .attempts(5, Duration::from_millis(100))
        .build()
        .unwrap()
        .run()
        .await
        .unwrap();
        assert_eq!(summary.dead_lettered, 5, "{secs}: {summary:?}");
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{secs}: the run waited {:?}",
            started.elapsed()
        );
        let letters = state.letters("client").await.unwrap();
        assert_eq!(letters.len(), 5);
    }
}

/// Refuses each record the first time it sees it, then accepts it;
/// remembers the names it accepted.
struct SecondTime {
    seen: Mutex<std::collections::HashSet<String>>,
    accepted: Mutex<Vec<String>>,
}
ledger!(SecondTime);
#[async_trait]
impl Sink<ClientCompany> for SecondTime {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        let mut seen = self.seen.lock().unwrap();
        let mut accepted = self.accepted.lock().unwrap();
        Ok(batch
            .into_iter()
            .map(|r| {
                let odoo_integration_connectors::Operation::Upsert(c) = &r.operation else {
                    return Outcome::Deleted(RemoteId::new("x"));
                };
                if seen.insert(r.origin_id.to_string()) {
                    Outcome::Failed(ConnectorError::new(
                        ConnectorErrorKind::Invalid,
                        "not today",
                    ))
                } else {
                    accepted.push(c.legal_name.clone());
                    Outcome::Created(RemoteId::new(format!("L-{}", r.origin_id)))
                }
            })
            .collect())
    }
}

/// A record that failed after the mapping step is replayed as mapped, not
/// mapped twice; one that failed in the mapping step is mapped again.
#[tokio::test]
async fn replay_maps_only_what_was_not_mapped() {
    let at = chrono::Utc::now();
    let named = |name: &str| ClientCompany {
        legal_name: name.into(),
        ..Default::default()
    };
    let changes = vec![
        SourceChange::upsert("a", at, named("Acme")),
        SourceChange::upsert("b", at, named("")),
        SourceChange::upsert("c", at, named("Bad")),
    ];
    let sink = Arc::new(SecondTime {
        seen: Mutex::new(Default::default()),
        accepted: Mutex::new(Vec::new()),
    });
    let state = Arc::new(MemoryStore::new());
    let allow_empty = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let allow = allow_empty.clone();
    let pipeline = Pipeline::<ClientCompany>::builder(
        "sheet→ledger",
        Arc::new(Rows(changes)),
        sink.clone(),
        state.clone(),
    )
    // Not idempotent on purpose: a second pass would show.
    .map(move |c| {
        if let odoo_integration_connectors::Operation::Upsert(client) = &mut c.operation {
            if client.legal_name.is_empty() && !allow.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(ConnectorError::new(ConnectorErrorKind::Mapping, "no name"));
            }
            client.legal_name = format!("{} Ltd", client.legal_name);
        }
        Ok(())
    })
    // "Bad Ltd" needs a website it does not have.
    .validator(odoo_integration_model::Validator::new().with(
        odoo_integration_model::RequiredWhen {
            code: "client.web".into(),
            when: odoo_integration_model::Condition::Equals {
                field: "legal_name".into(),
                value: odoo_integration_model::FieldValue::Text("Bad Ltd".into()),
            },
            required: vec!["website".into()],
            equal: vec![],
        },
    ))
    .build()
    .unwrap();
    let first = pipeline.run().await.unwrap();
    assert_eq!(first.dead_lettered, 3, "{first:?}");
    let letters = state.letters("client").await.unwrap();
    let by_id = |id: &str| letters.iter().find(|l| l.remote_id.as_str() == id).unwrap();
    assert!(by_id("a").mapped, "failed in the sink, after mapping");
    assert_eq!(by_id("a").payload["record"]["legal_name"], "Acme Ltd");
    assert!(!by_id("b").mapped, "failed in the mapping step");
    assert!(by_id("c").mapped, "failed validation, after mapping");
    assert_eq!(by_id("c").payload["record"]["legal_name"], "Bad Ltd");
    assert_eq!(by_id("c").error.kind, ConnectorErrorKind::NotReady);

    allow_empty.store(true, std::sync::atomic::Ordering::SeqCst);
    let replay = pipeline.replay().await.unwrap();
    // b reaches the sink for the first time now, and is refused once more.
    assert_eq!(
        (replay.recovered, replay.dead_lettered),
        (1, 2), // c still fails validation
        "{replay:?}"
    );
    let again = pipeline.replay().await.unwrap();
    assert_eq!(again.recovered, 1, "{again:?}");
    let mut accepted = sink.accepted.lock().unwrap().clone();
    accepted.sort();
    assert_eq!(accepted, vec![" Ltd".to_owned(), "Acme Ltd".to_owned()]);
    let left = state.letters("client").await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(
        left[0].payload["record"]["legal_name"], "Bad Ltd",
        "not mapped twice"
    );
}

/// Accepts everything and counts its calls.
#[derive(Default)]
struct Recorder {
    calls: Mutex<usize>,
}
ledger!(Recorder);
#[async_trait]
impl Sink<ClientCompany> for Recorder {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        *self.calls.lock().unwrap() += 1;
        Ok(batch
            .into_iter()
            .map(|r| {
                let id = RemoteId::new(format!("L-{}", r.origin_id));
                match (&r.operation, &r.target_id) {
                    (odoo_integration_connectors::Operation::Delete, _) => Outcome::Deleted(id),
                    (_, Some(_)) => Outcome::Updated(id),
                    (_, None) => Outcome::Created(id),
                }
            })
            .collect())
    }
}

/// A dry run says what a run would do with each record (create, update
/// which fields, leave, delete, reject) and touches neither the sink nor
/// the stores.
#[tokio::test]
async fn a_dry_run_plans_every_kind_of_change_and_writes_nothing() {
    use odoo_integration_connectors::{PlannedAction, XrefStore};
    let at = chrono::Utc::now();
    let client = |name: &str, web: Option<&str>| ClientCompany {
        legal_name: name.into(),
        website: web.map(Into::into),
        ..Default::default()
    };
    let sink = Arc::new(Recorder::default());
    let state = Arc::new(MemoryStore::new());
    let named = || {
        odoo_integration_model::Validator::new().with(odoo_integration_model::RequiredWhen {
            code: "client.name".into(),
            when: odoo_integration_model::Condition::Always,
            required: vec!["legal_name".into()],
            equal: vec![],
        })
    };
    let before = vec![
        SourceChange::upsert("a", at, client("Acme", None)),
        SourceChange::upsert("b", at, client("Globex", None)),
        SourceChange::upsert("d", at, client("Initech", None)),
    ];
    Pipeline::<ClientCompany>::builder(
        "sheet→ledger",
        Arc::new(Rows(before)),
        sink.clone(),
        state.clone(),
    )
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    let calls_before = *sink.calls.lock().unwrap();

    let later = at + chrono::Duration::minutes(1);
    let now = vec![
        SourceChange::upsert("a", later, client("Acme", Some("https://acme.example"))),
        SourceChange::upsert("b", later, client("Globex", None)),
        SourceChange::upsert("c", later, client("Umbrella", None)),
        SourceChange::upsert("e", later, client("", None)),
        SourceChange::delete("d", later),
    ];
    let plan = Pipeline::<ClientCompany>::builder(
        "sheet→ledger",
        Arc::new(Rows(now)),
        sink.clone(),
        state.clone(),
    )
    .validator(named())
    .dry_run(true)
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    let action = |id: &str| {
        plan.planned
            .iter()
            .find(|p| p.remote_id.as_str() == id)
            .map(|p| p.action.clone())
            .unwrap()
    };
    assert_eq!(
        action("a"),
        PlannedAction::Update {
            fields: vec!["website".into()]
        }
    );
    assert_eq!(action("b"), PlannedAction::Unchanged);
    assert_eq!(action("c"), PlannedAction::Create);
    assert_eq!(action("d"), PlannedAction::Delete);
    assert!(
        matches!(action("e"), PlannedAction::Reject { error } if error.contains("client.name"))
    );
    assert_eq!(plan.planned.len(), 5);
    // Nothing was written anywhere.
    assert_eq!(*sink.calls.lock().unwrap(), calls_before);
    let sheet = SystemId::new("sheet");
    assert_eq!(
        state
            .resolve("client", &sheet, &RemoteId::new("c"))
            .await
            .unwrap(),
        None
    );
    assert!(state.letters("client").await.unwrap().is_empty());
    assert_eq!((plan.created, plan.updated, plan.dead_lettered), (0, 0, 0));
}

/// Refuses one record every time; counts what it was sent.
#[derive(Default)]
struct Refuses {
    sent: Mutex<Vec<String>>,
}
ledger!(Refuses);
#[async_trait]
impl Sink<ClientCompany> for Refuses {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<ClientCompany>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        let mut sent = self.sent.lock().unwrap();
        Ok(batch
            .into_iter()
            .map(|r| {
                sent.push(r.origin_id.to_string());
                if r.origin_id.as_str() == "bad" {
                    Outcome::Failed(ConnectorError::new(
                        ConnectorErrorKind::Invalid,
                        "VAT number refused",
                    ))
                } else {
                    Outcome::Created(RemoteId::new(format!("L-{}", r.origin_id)))
                }
            })
            .collect())
    }
}

/// A record that keeps failing counts its attempts across runs and
/// replays, is parked after `park_after` of them, and is not sent again.
#[tokio::test]
async fn a_record_that_keeps_failing_is_parked_and_left_alone() {
    let at = chrono::Utc::now();
    let named = |name: &str| ClientCompany {
        legal_name: name.into(),
        ..Default::default()
    };
    let sink = Arc::new(Refuses::default());
    let state = Arc::new(MemoryStore::new());
    let pipeline = Pipeline::<ClientCompany>::builder(
        "sheet→ledger",
        Arc::new(Rows(vec![
            SourceChange::upsert("good", at, named("Acme")),
            SourceChange::upsert("bad", at, named("Globex")),
        ])),
        sink.clone(),
        state.clone(),
    )
    .park_after(3)
    .build()
    .unwrap();
    let first = pipeline.run().await.unwrap();
    assert_eq!(
        (first.created, first.dead_lettered, first.parked),
        (1, 1, 0)
    );
    let second = pipeline.replay().await.unwrap();
    assert_eq!(
        (second.read, second.dead_lettered, second.parked),
        (1, 1, 0)
    );
    let third = pipeline.replay().await.unwrap();
    assert_eq!((third.read, third.dead_lettered, third.parked), (1, 1, 1));
    let letter = state.letter("client/sheet/bad").await.unwrap().unwrap();
    assert!(letter.parked);
    assert_eq!(letter.attempts, 3);
    assert!(letter.first_seen <= letter.last_seen);
    assert_eq!(letter.error.kind, ConnectorErrorKind::Invalid);
    // Parked: a replay leaves it for a person.
    let sent_before = sink.sent.lock().unwrap().len();
    let fourth = pipeline.replay().await.unwrap();
    assert_eq!((fourth.read, fourth.dead_lettered), (0, 0));
    assert_eq!(sink.sent.lock().unwrap().len(), sent_before);
    let bad_sends = sink
        .sent
        .lock()
        .unwrap()
        .iter()
        .filter(|s| *s == "bad")
        .count();
    assert_eq!(bad_sends, 3);
}

/// An HR sink that, like Odoo, needs a manager's own id.
#[derive(Default)]
struct Payroll {
    /// (employee number, manager's id in this system), in writing order.
    written: Mutex<Vec<(String, Option<RemoteId>)>>,
}
impl Connector for Payroll {
    fn system(&self) -> SystemId {
        SystemId::new("payroll")
    }
    fn capabilities(&self) -> Capabilities {
        Capabilities::new().writes(["employee"])
    }
}
#[async_trait]
impl Sink<odoo_integration_model::Employee> for Payroll {
    async fn apply(
        &self,
        batch: Vec<SinkRecord<odoo_integration_model::Employee>>,
    ) -> odoo_integration_connectors::Result<Vec<Outcome>> {
        let mut written = self.written.lock().unwrap();
        Ok(batch
            .into_iter()
            .map(|r| {
                let odoo_integration_connectors::Operation::Upsert(e) = &r.operation else {
                    return Outcome::Unchanged(r.origin_id.clone());
                };
                let manager = match e.manager {
                    None => None,
                    Some(m) => match r.links.get(&m) {
                        Some(id) => Some(id.clone()),
                        None => {
                            return Outcome::Failed(ConnectorError::new(
                                ConnectorErrorKind::UnresolvedReference,
                                "the manager is not here yet",
                            ));
                        }
                    },
                };
                written.push((e.employee_number.clone(), manager));
                Outcome::Created(RemoteId::new(format!("P-{}", e.employee_number)))
            })
            .collect())
    }
}

/// Records that refer to records new in the same page are sent after
/// them, level by level (a report after their manager, after theirs), in
/// one run; a cycle cannot be ordered and waits in the dead-letter queue.
#[tokio::test]
async fn references_within_a_page_are_written_in_order() {
    use odoo_integration_connectors::Reference;
    use odoo_integration_model::Employee;
    let at = chrono::Utc::now();
    let person = |n: &str| Employee {
        employee_number: n.into(),
        name: format!("Person {n}"),
        ..Default::default()
    };
    let reports_to = |n: &str, m: &str| {
        SourceChange::upsert(n, at, person(n)).with_ref("manager", Reference::new("employee", m))
    };
    // The chain arrives upside down: the report first, the top last.
    let changes = vec![
        reports_to("c", "b"),
        reports_to("b", "a"),
        SourceChange::upsert("a", at, person("a")),
        reports_to("x", "y"),
        reports_to("y", "x"),
    ];
    let sink = Arc::new(Payroll::default());
    let state = Arc::new(MemoryStore::new());
    let run = Pipeline::<Employee>::builder(
        "hris→payroll",
        Arc::new(Rows(changes)),
        sink.clone(),
        state.clone(),
    )
    .build()
    .unwrap()
    .run()
    .await
    .unwrap();
    assert_eq!((run.created, run.dead_lettered), (3, 2), "{run:?}");
    let written = sink.written.lock().unwrap().clone();
    let p = |n: &str| Some(RemoteId::new(format!("P-{n}")));
    assert_eq!(
        written,
        vec![
            ("a".into(), None),
            ("b".into(), p("a")),
            ("c".into(), p("b"))
        ]
    );
    let letters = state.letters("employee").await.unwrap();
    let mut waiting: Vec<&str> = letters.iter().map(|l| l.remote_id.as_str()).collect();
    waiting.sort_unstable();
    assert_eq!(waiting, ["x", "y"]);
}
