#![allow(clippy::unwrap_used)]
//! Scale-out: three worker processes share one PostgreSQL state store and
//! sync 20,000 HubSpot companies (the fake, on loopback) into the embedded
//! Odoo, as six shards each under its own lease. One worker is killed
//! (SIGKILL) while it holds leases and writes; the others take its shards
//! over once the leases lapse. Afterwards every company is in Odoo
//! exactly once, and the dead-letter queue holds exactly the records that
//! are truly wrong (no name; a country Odoo does not have).
//!
//! The workers are this test binary again, running the ignored test
//! [`worker`] with the setup in environment variables.

use crate::postgres_store;
use odoo_integration_client::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, DATABASE, TestServer};
use odoo_integration_client::{Credentials, Protocol};
use odoo_integration_connectors::hubspot::HubSpotConnector;
use odoo_integration_connectors::odoo::OdooConnector;
use odoo_integration_connectors::sources::Shard;
use odoo_integration_connectors::{
    DeadLetterQueue, LeaseStore, Pipeline, PostgresConfig, PostgresStore, Quota, RateLimiter,
    Runner, Shutdown, SyncState,
};
use odoo_integration_fakes::hubspot::FakeHubSpot;
use odoo_integration_model::{ClientCompany, Condition, RequiredWhen, Validator};
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RECORDS: usize = 20_000;
const SHARDS: u32 = 6;
const WORKERS: usize = 3;
/// Short, so the test does not wait long for a dead worker's leases.
const LEASE_TTL: Duration = Duration::from_secs(3);

/// The shard pipelines' names.
fn shard_name(k: u32) -> String {
    format!("hubspot→odoo/client#{k}")
}

/// Company `i`; every 997th has no name (the pipeline refuses it), every
/// 1009th a country Odoo does not know (Odoo refuses it).
fn company(i: usize) -> Vec<(&'static str, String)> {
    let mut p = vec![("domain", format!("c{i}.example"))];
    if i % 997 != 3 {
        p.push(("name", format!("Company {i:05}")));
    }
    if i % 1009 == 5 {
        p.push(("country", "ZZ".into()));
    }
    p
}

fn true_rejects() -> usize {
    (0..RECORDS)
        .filter(|i| i % 997 == 3 || i % 1009 == 5)
        .count()
}

/// What a worker needs, from its environment.
struct Setup {
    odoo: String,
    hubspot: String,
    token: String,
    schema: String,
    worker: String,
}

impl Setup {
    fn from_env() -> Option<Setup> {
        let var = |k: &str| std::env::var(k).ok();
        Some(Setup {
            odoo: var("SCALE_OUT_ODOO")?,
            hubspot: var("SCALE_OUT_HUBSPOT")?,
            token: var("SCALE_OUT_TOKEN")?,
            schema: var("SCALE_OUT_SCHEMA")?,
            worker: var("SCALE_OUT_WORKER")?,
        })
    }
}

fn named_clients() -> Validator<ClientCompany> {
    Validator::new().with(RequiredWhen {
        code: "client.name".into(),
        when: Condition::Always,
        required: vec!["legal_name".into()],
        equal: vec![],
    })
}

/// A worker: the six shard pipelines under one runner, until SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a worker process of scale_out::three_workers_share_twenty_thousand_records"]
async fn worker() {
    let setup = Setup::from_env().expect("run by the scale-out test, with its environment");
    let store = PostgresStore::open(
        PostgresConfig::from_env()
            .unwrap()
            .schema(&setup.schema)
            .unwrap()
            .pool_size(4),
    )
    .await
    .unwrap();
    let state: Arc<dyn SyncState> = Arc::new(store.clone());
    let client = odoo_integration_client::Client::builder(setup.odoo.as_str())
        .database(DATABASE)
        .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
        .protocol(Protocol::Json2)
        .build()
        .unwrap();
    let odoo = Arc::new(OdooConnector::new(client));
    let hubspot = Arc::new(
        HubSpotConnector::new(setup.token.as_str())
            .unwrap()
            .base_url(&setup.hubspot)
            .settle(Duration::ZERO)
            .limiter(RateLimiter::new(Quota::unlimited())),
    );
    let mut runner = Runner::builder(Arc::new(store))
        .worker_id(&setup.worker)
        .lease_ttl(LEASE_TTL)
        .max_concurrent(SHARDS as usize);
    for k in 0..SHARDS {
        let shard = Shard::new(hubspot.clone(), k, SHARDS).unwrap();
        let pipeline = Pipeline::<ClientCompany>::builder(
            shard_name(k),
            Arc::new(shard),
            odoo.clone(),
            state.clone(),
        )
        .validator(named_clients())
        .batch_size(100)
        .concurrency(2)
        .build()
        .unwrap();
        runner = runner.job(Arc::new(pipeline), Duration::from_millis(200));
    }
    let runner = runner.build().unwrap();
    let shutdown = Shutdown::on_signals().unwrap();
    runner.run(&shutdown).await.unwrap();
    eprintln!("worker {} stopped: {:?}", setup.worker, runner.status());
}

fn spawn_worker(
    n: usize,
    server: &TestServer,
    fake: &FakeHubSpot,
    pg: &postgres_store::Server,
    schema: &str,
) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "scale_out::worker", "--ignored", "--nocapture"])
        .env_remove("DATABASE_URL")
        .env("SCALE_OUT_ODOO", server.url())
        .env("SCALE_OUT_HUBSPOT", fake.url())
        .env("SCALE_OUT_TOKEN", fake.token())
        .env("SCALE_OUT_SCHEMA", schema)
        .env("SCALE_OUT_WORKER", format!("worker-{n}"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in pg.env() {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Odoo's companies made by the sync (named `Company …`).
fn synced_names(server: &TestServer) -> Vec<String> {
    server
        .records("res.partner")
        .unwrap()
        .into_iter()
        .filter_map(|r| r["name"].as_str().map(str::to_owned))
        .filter(|n| n.starts_with("Company "))
        .collect()
}

/// Waits (polling) until `done`, or panics after `limit` saying `what`.
async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let start = Instant::now();
    while !done().await {
        assert!(start.elapsed() < limit, "gave up waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_workers_share_twenty_thousand_records() {
    let Some((pg, schema)) = postgres_store::fresh("scale_out").await else {
        return;
    };
    let server = TestServer::builder().start().await.unwrap();
    let fake = FakeHubSpot::start().await.unwrap();
    for i in 0..RECORDS {
        fake.insert("companies", company(i));
    }
    let store = PostgresStore::open(pg.config(&schema)).await.unwrap();
    let valid = RECORDS - true_rejects();

    let mut workers: Vec<Child> = (0..WORKERS)
        .map(|n| spawn_worker(n, &server, &fake, &pg, &schema))
        .collect();

    // Worker 0 holds a shard and the sync is under way: kill it.
    let shards: Vec<String> = (0..SHARDS).map(shard_name).collect();
    wait_for(
        "worker 0 to hold a lease while records land",
        Duration::from_secs(300),
        async || {
            let mut holds = false;
            for name in &shards {
                holds |= store
                    .lease(name)
                    .await
                    .unwrap()
                    .is_some_and(|l| l.holder == "worker-0");
            }
            holds && synced_names(&server).len() > 1_000
        },
    )
    .await;
    let mut killed = workers.remove(0);
    killed.kill().unwrap(); // SIGKILL: no shutdown, leases left to lapse
    killed.wait().unwrap();
    let at_kill = synced_names(&server).len();
    assert!(at_kill < valid, "killed mid-sync ({at_kill} of {valid} in)");

    wait_for(
        "every valid record in Odoo",
        Duration::from_secs(900),
        async || synced_names(&server).len() >= valid,
    )
    .await;
    // The rejects are filed on the same pages; wait for the last pages to
    // be recorded.
    wait_for(
        "the true rejects filed",
        Duration::from_secs(120),
        async || store.letters("client").await.unwrap().len() >= true_rejects(),
    )
    .await;

    // Stop the others gracefully (SIGTERM): they finish the page in
    // flight and exit cleanly.
    for w in &workers {
        let status = Command::new("kill")
            .args(["-TERM", &w.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
    for mut w in workers {
        let status = w.wait().unwrap();
        assert!(
            status.success(),
            "a worker stopped on SIGTERM cleanly: {status}"
        );
    }

    // Exactly once: as many companies as valid records, no name twice.
    let names = synced_names(&server);
    let distinct: BTreeSet<&String> = names.iter().collect();
    assert_eq!(distinct.len(), names.len(), "no company twice in Odoo");
    assert_eq!(names.len(), valid, "every valid company in Odoo");
    // The dead-letter queue holds the true rejects, nothing else.
    let letters = store.letters("client").await.unwrap();
    let expected: BTreeSet<String> = (0..RECORDS)
        .filter(|i| i % 997 == 3 || i % 1009 == 5)
        .map(|i| format!("client/hubspot/{}", 10_001 + i))
        .collect();
    let got: BTreeSet<String> = letters.iter().map(|l| l.key.clone()).collect();
    assert_eq!(got, expected, "only the true rejects are dead letters");
    // The killed worker's leases were taken over: every shard finished.
    for name in &shards {
        let cursor = odoo_integration_connectors::CheckpointStore::checkpoint(&store, name)
            .await
            .unwrap();
        assert!(cursor.is_some(), "{name} ran to the end");
    }
}
