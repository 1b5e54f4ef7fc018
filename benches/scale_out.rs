//! Scale-out benchmark: sync throughput with 1, 2 and 3 worker processes.
//!
//! For each worker count W, a fresh HubSpot fake (on loopback) holds N
//! companies (5,000, or `SCALE_OUT_RECORDS`), a fresh embedded Odoo waits
//! for them, and a fresh schema of one PostgreSQL database holds the
//! state. W worker processes (this binary again, with
//! `SCALE_OUT_ROLE=worker` and the setup in environment variables) each
//! run a `Runner` over the six `sources::Shard` pipelines HubSpot → Odoo,
//! at most ⌈6 / W⌉ shards at a time, so the workers split the shards
//! through their leases. The bench times from spawning the workers until
//! every valid record is in Odoo (a count polled every 250 ms; every
//! 997th company has no name and every 1009th an unknown country, and
//! those are dead letters, not counted), then stops the workers with
//! SIGTERM. It prints workers, records, seconds, records per second and
//! the speed-up against one worker in the same run. There are no
//! assertions on durations.
//!
//! The embedded Odoo runs in the bench process, so every worker's writes
//! land on the same few cores: on a small machine the speed-up is bounded
//! by that process's CPU, not by the workers.
//!
//! PostgreSQL: the server the `PG*` variables or `DATABASE_URL` name;
//! when they are unset or it does not answer, a throwaway cluster
//! (`initdb` + `pg_ctl` on a free port, as the `postgres` user when run as
//! root) that is stopped and deleted when the bench exits. When neither
//! works the bench says why and exits. On a server of your own, each run
//! leaves three small schemas named `bench_scale_out_<pid>_w<W>`.
//!
//! Run it with `cargo bench --bench scale_out`; under `cargo test` it only
//! says it was skipped.
#![allow(clippy::print_stdout, reason = "a bench prints its table")]

use odoo_integration::connectors::hubspot::HubSpotConnector;
use odoo_integration::connectors::odoo::OdooConnector;
use odoo_integration::connectors::sources::Shard;
use odoo_integration::connectors::{
    Pipeline, PostgresConfig, PostgresStore, Quota, RateLimiter, Runner, Shutdown, SyncState,
};
use odoo_integration::fakes::hubspot::FakeHubSpot;
use odoo_integration::model::{ClientCompany, Condition, RequiredWhen, Validator};
use odoo_integration::odoo::test_server::{ADMIN_API_KEY, ADMIN_LOGIN, DATABASE, TestServer};
use odoo_integration::odoo::{Client, Credentials, Domain, Protocol};
use std::error::Error;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

const SHARDS: u32 = 6;
/// The bench gives up when the count in Odoo stands still this long.
const STALL: Duration = Duration::from_secs(120);

fn main() -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    if std::env::var("SCALE_OUT_ROLE").as_deref() == Ok("worker") {
        return rt.block_on(worker());
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale_out: skipped (run it with `cargo bench --bench scale_out`)");
        return Ok(());
    }
    rt.block_on(bench())
}

// ---------------------------------------------------------------------------
// A worker process.

fn var(name: &str) -> Result<String> {
    std::env::var(name).map_err(|_| format!("{name} is not set").into())
}

/// The six shard pipelines under one runner, until SIGTERM.
async fn worker() -> Result<()> {
    let workers: usize = var("SCALE_OUT_WORKERS")?.parse()?;
    let config = PostgresConfig::from_env()?
        .schema(&var("SCALE_OUT_SCHEMA")?)?
        .pool_size(4);
    let store = PostgresStore::open(config).await?;
    let state: Arc<dyn SyncState> = Arc::new(store.clone());
    let client = Client::builder(var("SCALE_OUT_ODOO")?.as_str())
        .database(DATABASE)
        .credentials(Credentials::api_key(ADMIN_LOGIN, ADMIN_API_KEY))
        .protocol(Protocol::Json2)
        .build()?;
    let odoo = Arc::new(OdooConnector::new(client));
    let hubspot = Arc::new(
        HubSpotConnector::new(var("SCALE_OUT_TOKEN")?.as_str())?
            .base_url(&var("SCALE_OUT_HUBSPOT")?)
            .settle(Duration::ZERO)
            .limiter(RateLimiter::new(Quota::unlimited())),
    );
    let mut runner = Runner::builder(Arc::new(store))
        .worker_id(&var("SCALE_OUT_WORKER")?)
        .lease_ttl(Duration::from_secs(3))
        .max_concurrent((SHARDS as usize).div_ceil(workers));
    for k in 0..SHARDS {
        let shard = Shard::new(hubspot.clone(), k, SHARDS)?;
        let pipeline = Pipeline::<ClientCompany>::builder(
            format!("hubspot→odoo/client#{k}"),
            Arc::new(shard),
            odoo.clone(),
            state.clone(),
        )
        .validator(Validator::new().with(RequiredWhen {
            code: "client.name".into(),
            when: Condition::Always,
            required: vec!["legal_name".into()],
            equal: vec![],
        }))
        .batch_size(200)
        .concurrency(2)
        // Odoo starts empty: no first-sync searches by name.
        .match_existing(false)
        .build()?;
        runner = runner.job(Arc::new(pipeline), Duration::from_millis(200));
    }
    runner.build()?.run(&Shutdown::on_signals()?).await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The bench.

/// Company `i`: every 997th has no name, every 1009th a country Odoo does
/// not know; both end as dead letters.
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

fn is_reject(i: usize) -> bool {
    i % 997 == 3 || i % 1009 == 5
}

async fn bench() -> Result<()> {
    let total: usize = match std::env::var("SCALE_OUT_RECORDS") {
        Ok(n) => n
            .parse()
            .map_err(|e| format!("SCALE_OUT_RECORDS {n:?}: {e}"))?,
        Err(_) => 5_000,
    };
    let valid = (0..total).filter(|i| !is_reject(*i)).count();
    let schema = |w: usize| format!("bench_scale_out_{}_w{w}", std::process::id());
    let pg = match postgres(&schema(1)).await {
        Ok(pg) => pg,
        Err(why) => {
            println!("scale_out: skipped, no PostgreSQL: {why}");
            return Ok(());
        }
    };
    println!(
        "scale_out: {total} HubSpot companies ({valid} valid), 6 shards, PostgreSQL store, \
         embedded Odoo"
    );
    let mut rows: Vec<(usize, f64)> = Vec::new();
    for w in 1..=3 {
        let seconds = run(w, total, valid, &pg, &schema(w)).await?;
        rows.push((w, seconds));
    }
    println!();
    println!(
        "{:>7} {:>8} {:>9} {:>10} {:>8}",
        "workers", "records", "seconds", "records/s", "speed-up"
    );
    let base = valid as f64 / rows[0].1;
    for (w, seconds) in rows {
        let rate = valid as f64 / seconds;
        println!(
            "{w:>7} {valid:>8} {seconds:>9.2} {rate:>10.1} {:>7.2}x",
            rate / base
        );
    }
    println!(
        "\nnote: the embedded Odoo runs in this bench process, so on a small machine the \
         speed-up is bounded by its CPU ({} cores here)",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    Ok(())
}

/// One run with `w` workers: the seconds until `valid` records are in Odoo.
async fn run(w: usize, total: usize, valid: usize, pg: &Pg, schema: &str) -> Result<f64> {
    let fake = FakeHubSpot::start().await?;
    for i in 0..total {
        fake.insert("companies", company(i));
    }
    let server = TestServer::builder().start().await?;
    let odoo = server.client(Protocol::Json2)?;
    // Made here, so the workers do not race to create the tables.
    PostgresStore::open(pg.config()?.schema(schema)?.pool_size(1)).await?;

    let started = Instant::now();
    let mut workers = Workers(Vec::new());
    for n in 0..w {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.env("SCALE_OUT_ROLE", "worker")
            .env("SCALE_OUT_WORKERS", w.to_string())
            .env("SCALE_OUT_WORKER", format!("worker-{n}"))
            .env("SCALE_OUT_SCHEMA", schema)
            .env("SCALE_OUT_ODOO", server.url())
            .env("SCALE_OUT_HUBSPOT", fake.url())
            .env("SCALE_OUT_TOKEN", fake.token())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(port) = pg.port {
            cmd.env_remove("DATABASE_URL")
                .env_remove("PGPASSWORD")
                .env("PGHOST", "127.0.0.1")
                .env("PGPORT", port.to_string())
                .env("PGUSER", "postgres")
                .env("PGDATABASE", "postgres");
        }
        workers.0.push(cmd.spawn()?);
    }

    let (mut last, mut moved) = (0, Instant::now());
    loop {
        let n = odoo
            .model("res.partner")
            .search_count(Domain::field("name").eq_like("Company %"))
            .send()
            .await?;
        if n >= valid as u64 {
            break;
        }
        if n != last {
            (last, moved) = (n, Instant::now());
        } else if moved.elapsed() > STALL {
            return Err(format!("{w} workers: stuck at {n} of {valid} records").into());
        }
        for child in &mut workers.0 {
            if let Some(status) = child.try_wait()? {
                return Err(format!("{w} workers: a worker exited early: {status}").into());
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    eprintln!("scale_out: {w} worker(s): {valid} records in {seconds:.2} s");

    for child in &workers.0 {
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()?;
    }
    for child in &mut workers.0 {
        child.wait()?;
    }
    Ok(seconds)
}

/// Kills the workers left when a run fails.
struct Workers(Vec<Child>);

impl Drop for Workers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if let Ok(None) = child.try_wait() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

// ---------------------------------------------------------------------------
// PostgreSQL.

/// The server: the environment's (`port` is `None`) or a throwaway cluster
/// on 127.0.0.1:`port`.
struct Pg {
    port: Option<u16>,
}

impl Pg {
    fn config(&self) -> Result<PostgresConfig> {
        Ok(match self.port {
            None => PostgresConfig::from_env()?,
            Some(port) => PostgresConfig::new()
                .host("127.0.0.1")
                .port(port)
                .user("postgres")
                .dbname("postgres"),
        })
    }

    /// Whether the server answers (by making the first run's schema).
    async fn reach(&self, schema: &str) -> std::result::Result<(), String> {
        let config = self.config().map_err(|e| e.to_string())?;
        let config = config.schema(schema).map_err(|e| e.to_string())?;
        PostgresStore::open(config.pool_size(1))
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// The environment's server if it is named and answers, else a throwaway
/// cluster; `Err` says why there is neither.
async fn postgres(schema: &str) -> std::result::Result<Pg, String> {
    let named = ["DATABASE_URL", "PGHOST", "PGPORT", "PGUSER", "PGDATABASE"]
        .iter()
        .any(|v| std::env::var(v).is_ok_and(|s| !s.is_empty()));
    let mut why = String::new();
    if named {
        let pg = Pg { port: None };
        match pg.reach(schema).await {
            Ok(()) => return Ok(pg),
            Err(e) => why = format!("the PG* variables' server: {e}; "),
        }
    }
    let pg = tokio::task::spawn_blocking(start_cluster)
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("{why}no throwaway cluster: {e}"))?;
    pg.reach(schema)
        .await
        .map_err(|e| format!("{why}the throwaway cluster: {e}"))?;
    Ok(pg)
}

/// `initdb` + `pg_ctl start` in a temporary directory on a free port (as
/// `postgres` when root: initdb refuses root); a watchdog shell stops the
/// server and deletes the directory once this process is gone.
fn start_cluster() -> std::result::Result<Pg, String> {
    let has_tools = |d: &std::path::Path| d.join("pg_ctl").is_file() && d.join("initdb").is_file();
    let path = std::env::var_os("PATH").unwrap_or_default();
    let bin = std::env::split_paths(&path)
        .find(|d| has_tools(d))
        .or_else(|| {
            let mut dirs: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
                .ok()?
                .filter_map(|e| Some(e.ok()?.path().join("bin")))
                .filter(|d| has_tools(d))
                .collect();
            dirs.sort();
            dirs.pop()
        })
        .ok_or("no pg_ctl and initdb on PATH or in /usr/lib/postgresql/*/bin")?;
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .map_err(|e| e.to_string())?;
    let runas = if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        "runuser -u postgres -- "
    } else {
        ""
    };
    let dir = std::env::temp_dir().join(format!("bench-scale-out-pg-{}", std::process::id()));
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| format!("a free port: {e}"))?
        .port();
    let (d, b) = (dir.display(), bin.display());
    // First, so the directory goes even when the start fails.
    let watchdog = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; \
         {runas}'{b}/pg_ctl' -D '{d}/data' stop -m immediate >/dev/null 2>&1; rm -rf '{d}'",
        pid = std::process::id(),
    );
    Command::new("sh")
        .args(["-c", &watchdog])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the watchdog: {e}"))?;
    let script = format!(
        "set -e; [ -z '{runas}' ] || chown postgres '{d}'; \
         {runas}'{b}/initdb' -D '{d}/data' -U postgres --auth=trust -E UTF8 --no-sync >/dev/null; \
         {runas}'{b}/pg_ctl' -D '{d}/data' -l '{d}/log' -w -t 60 \
           -o '-c listen_addresses=127.0.0.1 -p {port} -k {d} -c fsync=off -c max_connections=100' \
           start >/dev/null"
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .env_remove("PGHOST")
        .env_remove("PGPORT")
        .output()
        .map_err(|e| format!("sh: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "initdb/pg_ctl in {d}: {}: {}",
            out.status,
            stderr.trim()
        ));
    }
    Ok(Pg { port: Some(port) })
}
