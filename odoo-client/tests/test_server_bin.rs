#![allow(clippy::unwrap_used)]
//! The `odoo-test-server` binary: one JSON line, then an Odoo to talk to.

use odoo_integration_client::{Client, Credentials, Domain, Protocol};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_binary_prints_where_it_listens_and_serves_every_protocol() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_odoo-test-server"))
        .args(["--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let info: serde_json::Value = serde_json::from_str(&line).unwrap();
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{line}");
    assert!(!url.ends_with(":0"), "the port it really listens on");

    for (protocol, credentials) in [
        (
            Protocol::Json2,
            Credentials::api_key(
                info["login"].as_str().unwrap(),
                info["api_key"].as_str().unwrap(),
            ),
        ),
        (
            Protocol::XmlRpc,
            Credentials::password(
                info["login"].as_str().unwrap(),
                info["password"].as_str().unwrap(),
            ),
        ),
    ] {
        let client = Client::builder(url)
            .database(info["database"].as_str().unwrap())
            .credentials(credentials)
            .protocol(protocol)
            .build()
            .unwrap();
        let companies = client
            .model("res.partner")
            .search_count(Domain::field("is_company").eq(true))
            .send()
            .await
            .unwrap();
        assert!(companies > 0, "{protocol:?}: the demo data is there");
    }
    drop(child);
}

#[test]
fn a_bad_port_is_refused_with_usage_and_exit_code_2() {
    let out = Command::new(env!("CARGO_BIN_EXE_odoo-test-server"))
        .args(["--port", "eighty"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("`eighty` is not a port"), "{err}");
    assert!(err.contains("usage: odoo-test-server"), "{err}");
    assert!(out.stdout.is_empty());
}
