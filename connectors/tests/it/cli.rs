#![allow(clippy::unwrap_used)]
//! The operator CLI, `odoo-sync`, run as a process: config errors, secrets,
//! `policy check`, `once` / `dry-run` / `status` / `run` against the
//! HubSpot fake and the embedded Odoo, and the review queues on a file
//! store the test prepares.

use odoo_integration_client::test_server::{
    ADMIN_API_KEY, ADMIN_LOGIN, DATABASE, Fault, TestServer,
};
use odoo_integration_connectors::{
    CheckpointStore, ConnectorError, ConnectorErrorKind, DeadLetter, DeadLetterQueue, FileStore,
    HeldConflict, HeldStore, LeaseStore, Resolution,
};
use odoo_integration_fakes::hubspot::FakeHubSpot;
use odoo_integration_model::{CanonicalId, FieldValue, RemoteId, SystemId};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a run of the binary printed, and how it ended.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// The binary, in `dir`, with only the environment variables given.
fn command(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_odoo-sync"));
    cmd.current_dir(dir)
        .args(args)
        .env_remove("HS_TOKEN")
        .env_remove("ODOO_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn odoo_sync(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
    let out = command(dir, args, env).output().unwrap();
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A config of one hubspot→odoo pipeline for clients, over a file store.
fn config(hubspot: &str, odoo: &str) -> String {
    format!(
        r#"[state]
url = "file:state"

[systems.crm]
kind = "hubspot"
url = "{hubspot}"
token_env = "HS_TOKEN"
settle = "0s"

[systems.erp]
kind = "odoo"
url = "{odoo}"
database = "{DATABASE}"
login = "{ADMIN_LOGIN}"
api_key_env = "ODOO_KEY"
protocol = "json2"

[[pipeline]]
name = "clients"
entity = "client"
from = "crm"
to = "erp"
batch_size = 50
interval = "1h"
"#
    )
}

fn write_config(dir: &Path, text: &str) {
    std::fs::write(dir.join("odoo-sync.toml"), text).unwrap();
}

/// The companies named `Acme...` in Odoo.
fn acme_partners(server: &TestServer) -> Vec<String> {
    server
        .records("res.partner")
        .unwrap()
        .iter()
        .filter_map(|p| {
            p["name"]
                .as_str()
                .filter(|n| n.starts_with("Acme"))
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn config_errors_name_the_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let base = config("http://127.0.0.1:9", "http://127.0.0.1:9");
    let env = [("HS_TOKEN", "t"), ("ODOO_KEY", "k")];

    // An unknown field, on line 25 (after `interval`).
    write_config(dir.path(), &format!("{base}batchsize = 3\n"));
    let out = odoo_sync(dir.path(), &["status"], &env);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("odoo-sync.toml:25:1: unknown field `batchsize`"),
        "{out:?}"
    );

    // An unknown pipeline in `after`.
    write_config(dir.path(), &format!("{base}after = [\"contacts\"]\n"));
    let out = odoo_sync(dir.path(), &["once"], &env);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("odoo-sync.toml:25:10: unknown pipeline `contacts` in `after`"),
        "{out:?}"
    );

    // An unknown system.
    write_config(dir.path(), &base.replace("to = \"erp\"", "to = \"odoo\""));
    let out = odoo_sync(dir.path(), &["once"], &env);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("odoo-sync.toml:22:6: unknown system `odoo` (the config has: crm, erp)"),
        "{out:?}"
    );

    // A field of another kind of system.
    write_config(
        dir.path(),
        &base.replace("settle = \"0s\"", "database = \"crm\""),
    );
    let out = odoo_sync(dir.path(), &["status"], &env);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("odoo-sync.toml:8:12: `database` does not apply to a hubspot system"),
        "{out:?}"
    );

    // A missing environment variable: named, with the line that names it.
    write_config(dir.path(), &base);
    let out = odoo_sync(dir.path(), &["once"], &[("HS_TOKEN", "t")]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("odoo-sync.toml:15:15: system `erp`, `api_key_env`: the environment variable `ODOO_KEY` is not set"),
        "{out:?}"
    );
    // Nothing was opened or written: the store's folder does not exist.
    assert!(!dir.path().join("state").exists());

    // An unknown pipeline named on the command line.
    let out = odoo_sync(dir.path(), &["once", "contacts"], &env);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("no pipeline named `contacts` (the config has: clients)"),
        "{out:?}"
    );

    // A state store URL of no known kind.
    write_config(dir.path(), &base.replace("file:state", "redis://localhost"));
    let out = odoo_sync(dir.path(), &["status"], &env);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("odoo-sync.toml:2:7: the state store URL must start with"),
        "{out:?}"
    );

    // Bad usage is 2 too; --help for every command is 0.
    assert_eq!(odoo_sync(dir.path(), &["frobnicate"], &env).code, 2);
    for args in [
        &["--help"][..],
        &["run", "--help"],
        &["once", "--help"],
        &["dry-run", "--help"],
        &["status", "--help"],
        &["dlq", "purge", "--help"],
        &["held", "set", "--help"],
        &["reconcile", "--help"],
        &["policy", "check", "--help"],
    ] {
        let out = odoo_sync(dir.path(), args, &env);
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        assert!(out.stdout.contains("Usage: odoo-sync"), "{args:?}: {out:?}");
    }
}

#[test]
fn policy_check_prints_every_mistake() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("good.toml"),
        "[client]\ndefault_owner = \"odoo\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bad.toml"),
        "[client]\nstrategy = \"owner-loses\"\n[client.fields]\nindustri = \"salesforce\"\n",
    )
    .unwrap();
    let out = odoo_sync(dir.path(), &["policy", "check", "good.toml"], &[]);
    assert_eq!(
        (out.code, out.stdout.trim()),
        (0, "good.toml: ok"),
        "{out:?}"
    );
    let out = odoo_sync(dir.path(), &["policy", "check", "bad.toml"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("bad.toml: line 2, column 12: unknown strategy `owner-loses`"),
        "{out:?}"
    );
    assert!(
        out.stderr
            .contains("bad.toml: line 4, column 1: unknown field `industri` of client"),
        "{out:?}"
    );
    // A pipeline's policy file with mistakes is a config error at the line naming it.
    write_config(
        dir.path(),
        &config("http://127.0.0.1:9", "http://127.0.0.1:9")
            .replace("batch_size = 50", "policy = \"bad.toml\""),
    );
    let out = odoo_sync(dir.path(), &["status"], &[]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr
            .contains("odoo-sync.toml:23:10: the policy file has mistakes"),
        "{out:?}"
    );
    assert!(
        out.stderr.contains("unknown field `industri` of client"),
        "{out:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_then_once_syncs_hubspot_into_odoo() {
    let hubspot = FakeHubSpot::start().await.unwrap();
    hubspot.insert(
        "companies",
        [("name", "Acme NV"), ("domain", "acme.example")],
    );
    hubspot.insert("companies", [("name", "Acme Labs")]);
    let odoo = TestServer::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &config(&hubspot.url(), &odoo.url()));
    let env = [("HS_TOKEN", hubspot.token()), ("ODOO_KEY", ADMIN_API_KEY)];

    // A dry run prints the plan and writes nothing: no partner, no checkpoint.
    let out = odoo_sync(dir.path(), &["dry-run"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("clients: read 2; would create 2, update 0"),
        "{out:?}"
    );
    assert_eq!(out.stdout.matches(": create").count(), 2, "{out:?}");
    assert!(acme_partners(&odoo).is_empty());
    let out = odoo_sync(dir.path(), &["status"], &env);
    assert!(out.stdout.contains("checkpoint: none yet"), "{out:?}");
    assert!(
        out.stdout.contains("last run: never"),
        "a dry run is no run: {out:?}"
    );

    // Once: both companies are in Odoo, and the checkpoint is stored.
    let out = odoo_sync(dir.path(), &["once"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("clients: read 2, created 2"), "{out:?}");
    let mut names = acme_partners(&odoo);
    names.sort();
    assert_eq!(names, ["Acme Labs", "Acme NV"]);

    let out = odoo_sync(dir.path(), &["status"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(!out.stdout.contains("checkpoint: none yet"), "{out:?}");
    assert!(out.stdout.contains("last run: 20"), "{out:?}");
    assert!(out.stdout.contains("read 2, created 2"), "{out:?}");
    assert!(out.stdout.contains("  lag: "), "{out:?}");
    assert!(out.stdout.contains("dead letters: 0 (0 parked)"), "{out:?}");
    assert!(out.stdout.contains("lease: free"), "{out:?}");

    // Again: nothing new, nothing duplicated.
    let out = odoo_sync(dir.path(), &["once", "clients"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(acme_partners(&odoo).len(), 2);

    // Reconcile: both sides hold the two companies, paired by name.
    hubspot.insert("companies", [("name", "Acme Northwind Traders Ltd.")]);
    let out = odoo_sync(
        dir.path(),
        &[
            "reconcile",
            "crm",
            "erp",
            "--entity",
            "client",
            "--key",
            "legal_name",
        ],
        &env,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("client: 2 matched, 1 only in crm, 0 only in erp"),
        "{out:?}"
    );
    assert!(
        out.stdout.contains("only in crm: acme northwind traders"),
        "{out:?}"
    );
    let out = odoo_sync(
        dir.path(),
        &[
            "reconcile",
            "crm",
            "erp",
            "--entity",
            "client",
            "--key",
            "colour",
        ],
        &env,
    );
    assert_eq!(out.code, 2, "{out:?}");

    // The token never shows, in any output.
    for args in [&["once"][..], &["dry-run"], &["status"]] {
        let out = odoo_sync(dir.path(), args, &env);
        assert!(!out.all().contains(hubspot.token()), "{args:?}: {out:?}");
        assert!(!out.all().contains(ADMIN_API_KEY), "{args:?}: {out:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_credential_is_reported_without_the_secret() {
    let hubspot = FakeHubSpot::start().await.unwrap();
    hubspot.insert("companies", [("name", "Acme NV")]);
    let odoo = TestServer::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &config(&hubspot.url(), &odoo.url()));
    let wrong = "pat-na1-this-is-the-wrong-secret-4242";
    let out = odoo_sync(
        dir.path(),
        &["once"],
        &[("HS_TOKEN", wrong), ("ODOO_KEY", "wrong-odoo-key-777")],
    );
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("clients: failed"), "{out:?}");
    assert!(!out.all().contains(wrong), "{out:?}");
    assert!(!out.all().contains("wrong-odoo-key-777"), "{out:?}");
    assert!(acme_partners(&odoo).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_held_by_a_live_worker_is_refused_and_nothing_runs() {
    let hubspot = FakeHubSpot::start().await.unwrap();
    hubspot.insert("companies", [("name", "Acme NV")]);
    let odoo = TestServer::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &config(&hubspot.url(), &odoo.url()));
    let env = [("HS_TOKEN", hubspot.token()), ("ODOO_KEY", ADMIN_API_KEY)];
    {
        let store = FileStore::open(dir.path().join("state")).await.unwrap();
        store
            .acquire("clients", "worker-7 on db2", Duration::from_secs(600))
            .await
            .unwrap()
            .unwrap();
    }
    let out = odoo_sync(dir.path(), &["once"], &env);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stdout
            .contains("pipeline `clients` is running elsewhere: leased by worker-7 on db2"),
        "{out:?}"
    );
    assert!(acme_partners(&odoo).is_empty());
    let out = odoo_sync(dir.path(), &["status"], &env);
    assert!(
        out.stdout.contains("lease: worker-7 on db2 until"),
        "{out:?}"
    );
    assert!(out.stdout.contains("checkpoint: none yet"), "{out:?}");

    // A store another process has open is refused, and left as it is.
    let store = FileStore::open(dir.path().join("state")).await.unwrap();
    let out = odoo_sync(dir.path(), &["dlq", "list"], &env);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("another odoo-sync holds the state store"),
        "{out:?}"
    );
    assert!(store.lease("clients").await.unwrap().is_some());
}

/// A dead letter of a client from HubSpot.
fn letter(remote: &str, kind: ConnectorErrorKind) -> DeadLetter {
    DeadLetter::new(
        "client",
        SystemId::hubspot(),
        RemoteId::new(remote),
        serde_json::json!({"remote_id": remote}),
        &ConnectorError::new(kind, format!("record {remote} refused")),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_queues_on_a_prepared_file_store() {
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &config("http://127.0.0.1:9", "http://127.0.0.1:9"),
    );
    let conflict = HeldConflict::new(
        "clients",
        "client",
        CanonicalId::new(),
        SystemId::hubspot(),
        RemoteId::new("981"),
        "legal_name",
        FieldValue::Text("Acme NV".into()),
        FieldValue::Text("ACME SA".into()),
    );
    let other = HeldConflict::new(
        "clients",
        "client",
        CanonicalId::new(),
        SystemId::hubspot(),
        RemoteId::new("982"),
        "website",
        FieldValue::Text("https://a.example".into()),
        FieldValue::Text("https://b.example".into()),
    );
    {
        let store = FileStore::open(dir.path().join("state")).await.unwrap();
        store
            .put(letter("1", ConnectorErrorKind::Invalid))
            .await
            .unwrap();
        store
            .put(letter("2", ConnectorErrorKind::NotFound))
            .await
            .unwrap();
        let mut parked = letter("3", ConnectorErrorKind::Invalid);
        parked.parked = true;
        store.put(parked).await.unwrap();
        store
            .hold(vec![conflict.clone(), other.clone()])
            .await
            .unwrap();
    }
    let run = |args: &[&str]| odoo_sync(dir.path(), args, &[]);

    let out = run(&["dlq", "list"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("3 dead letter(s)"), "{out:?}");
    assert!(
        out.stdout
            .contains("client/hubspot/2  not_found  attempts 1  record 2 refused"),
        "{out:?}"
    );
    let out = run(&["dlq", "list", "--kind", "invalid"]);
    assert!(out.stdout.contains("2 dead letter(s)"), "{out:?}");
    let out = run(&["dlq", "list", "--parked"]);
    assert!(
        out.stdout
            .contains("client/hubspot/3  invalid  attempts 1 parked"),
        "{out:?}"
    );
    assert!(out.stdout.contains("1 dead letter(s)"), "{out:?}");
    let out = run(&["dlq", "list", "--kind", "sideways"]);
    assert_eq!(out.code, 2, "{out:?}");

    let out = run(&["dlq", "show", "client/hubspot/2"]);
    assert_eq!(out.code, 0, "{out:?}");
    let shown: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(shown["remote_id"], "2");
    assert_eq!(shown["error"]["kind"], "not_found");
    assert_eq!(run(&["dlq", "show", "client/hubspot/404"]).code, 1);

    // Purging everything needs --yes; nothing is lost without it.
    let out = run(&["dlq", "purge"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("add --yes"), "{out:?}");
    // A key that does not exist purges nothing, not even the ones that do.
    let out = run(&["dlq", "purge", "client/hubspot/1", "client/hubspot/404"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(run(&["dlq", "list"]).stdout.contains("3 dead letter(s)"));
    let out = run(&["dlq", "purge", "client/hubspot/1"]);
    assert_eq!(
        (out.code, out.stdout.trim()),
        (0, "purged 1 dead letter(s)"),
        "{out:?}"
    );
    let out = run(&["dlq", "purge", "--parked"]);
    assert_eq!(out.stdout.trim(), "purged 1 dead letter(s)", "{out:?}");

    // Status counts what is left.
    let out = run(&["status"]);
    assert!(out.stdout.contains("dead letters: 1 (0 parked)"), "{out:?}");
    assert!(out.stdout.contains("held: 2 waiting, 0 decided"), "{out:?}");

    // Held conflicts: listed, accepted, set.
    let out = run(&["held", "list"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains(&format!(
            "{}  clients  legal_name: current \"Acme NV\" ← \"ACME SA\" from hubspot",
            conflict.key
        )),
        "{out:?}"
    );
    assert!(out.stdout.contains("2 held conflict(s)"), "{out:?}");
    let out = run(&["held", "accept", &conflict.key]);
    assert_eq!(out.code, 0, "{out:?}");
    let out = run(&[
        "held",
        "set",
        &other.key,
        "{\"type\":\"bool\",\"value\":true}",
    ]);
    assert_eq!(out.code, 2, "{out:?}"); // not a text
    let out = run(&["held", "set", &other.key, "https://c.example"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(
        run(&["held", "accept", "client/hubspot/404/legal_name"]).code,
        1
    );
    assert!(run(&["held", "list"]).stdout.contains("0 held conflict(s)"));
    assert!(
        run(&["held", "list", "--all"])
            .stdout
            .contains("2 held conflict(s)")
    );

    let store = FileStore::open(dir.path().join("state")).await.unwrap();
    assert_eq!(
        store
            .held_conflict(&conflict.key)
            .await
            .unwrap()
            .and_then(|c| c.decision),
        Some(Resolution::AcceptAttempted)
    );
    assert_eq!(
        store
            .held_conflict(&other.key)
            .await
            .unwrap()
            .and_then(|c| c.decision),
        Some(Resolution::Set(FieldValue::Text(
            "https://c.example".into()
        )))
    );
    assert_eq!(store.letters("client").await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_is_replayed_through_its_pipeline() {
    let hubspot = FakeHubSpot::start().await.unwrap();
    let id = hubspot.insert("companies", [("name", "Acme NV")]);
    let odoo = TestServer::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &config(&hubspot.url(), &odoo.url()));
    let env = [("HS_TOKEN", hubspot.token()), ("ODOO_KEY", ADMIN_API_KEY)];

    // Odoo refuses the write once: the record is dead-lettered.
    odoo.inject_on(
        "load",
        Fault::Exception {
            name: "odoo.exceptions.ValidationError".into(),
            message: "a test refusal".into(),
        },
        1,
    );
    let out = odoo_sync(dir.path(), &["once"], &env);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("dead-lettered 1"), "{out:?}");
    assert!(acme_partners(&odoo).is_empty());
    let key = format!("client/hubspot/{id}");
    let out = odoo_sync(dir.path(), &["dlq", "list"], &env);
    assert!(out.stdout.contains(&key), "{out:?}");

    // Replay needs keys or --all, and a pipeline that exists.
    assert_eq!(
        odoo_sync(
            dir.path(),
            &["dlq", "replay", "--pipeline", "clients"],
            &env
        )
        .code,
        2
    );
    assert_eq!(
        odoo_sync(
            dir.path(),
            &["dlq", "replay", "--all", "--pipeline", "nope"],
            &env
        )
        .code,
        2
    );
    let out = odoo_sync(
        dir.path(),
        &["dlq", "replay", &key, "--pipeline", "clients"],
        &env,
    );
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("clients: replayed 1, recovered 1, still failing 0"),
        "{out:?}"
    );
    assert_eq!(acme_partners(&odoo), ["Acme NV"]);
    assert!(
        odoo_sync(dir.path(), &["dlq", "list"], &env)
            .stdout
            .contains("0 dead letter(s)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_stops_on_sigterm_with_the_checkpoint_saved() {
    let hubspot = FakeHubSpot::start().await.unwrap();
    hubspot.insert("companies", [("name", "Acme NV")]);
    let odoo = TestServer::builder().start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), &config(&hubspot.url(), &odoo.url()));
    let env = [("HS_TOKEN", hubspot.token()), ("ODOO_KEY", ADMIN_API_KEY)];
    let mut child = command(dir.path(), &["run"], &env)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    // Wait for the first run to end.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    loop {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .unwrap_or_else(|_| {
                let _ = child.kill();
                panic!("no run finished: {seen:?}")
            });
        seen.push(line.clone());
        if line.starts_with("clients: read") {
            assert!(line.contains("created 1"), "{seen:?}");
            break;
        }
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("still running 30 s after SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        seen.push(line);
    }
    assert_eq!(seen.last().map(String::as_str), Some("stopped"), "{seen:?}");
    // The checkpoint is saved and the lease released.
    let store = FileStore::open(dir.path().join("state")).await.unwrap();
    assert!(store.checkpoint("clients").await.unwrap().is_some());
    assert_eq!(acme_partners(&odoo), ["Acme NV"]);
    let lease = store.lease("clients").await.unwrap();
    assert!(
        lease
            .as_ref()
            .is_none_or(|l| l.expires_at <= chrono::Utc::now()),
        "{lease:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_store_of_a_newer_schema_is_refused_and_left_as_it_is() {
    use odoo_integration_connectors::{Cursor, SqliteStore};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state.db");
    {
        let store = SqliteStore::open(&path).await.unwrap();
        store
            .save_checkpoint("clients", &Cursor::new("42"))
            .await
            .unwrap();
        store
            .put(letter("1", ConnectorErrorKind::Invalid))
            .await
            .unwrap();
    }
    write_config(
        dir.path(),
        &config("http://127.0.0.1:9", "http://127.0.0.1:9")
            .replace("file:state", "sqlite:state.db"),
    );
    // The store works through the CLI.
    let out = odoo_sync(dir.path(), &["status"], &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("checkpoint: 42"), "{out:?}");
    assert!(out.stdout.contains("dead letters: 1 (0 parked)"), "{out:?}");

    // A newer program wrote it: every command refuses it, and changes nothing.
    let newer = SqliteStore::SCHEMA_VERSION + 1;
    let set_version = |v: i64| {
        rusqlite::Connection::open(&path)
            .unwrap()
            .execute_batch(&format!("PRAGMA user_version = {v};"))
            .unwrap();
    };
    set_version(newer);
    let before = std::fs::read(&path).unwrap();
    for args in [
        &["status"][..],
        &["dlq", "purge", "--yes"],
        &["held", "list"],
    ] {
        let out = odoo_sync(dir.path(), args, &[]);
        assert_eq!(out.code, 1, "{args:?}: {out:?}");
        assert!(out.stderr.contains("newer"), "{args:?}: {out:?}");
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
    set_version(SqliteStore::SCHEMA_VERSION);
    let store = SqliteStore::open(&path).await.unwrap();
    assert_eq!(
        store.checkpoint("clients").await.unwrap(),
        Some(Cursor::new("42"))
    );
    assert_eq!(store.letters("client").await.unwrap().len(), 1);
}
