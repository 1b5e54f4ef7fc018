#![allow(clippy::unwrap_used)]
//! The `vendor-fakes` binary: it starts the four fakes, prints where they
//! are and what they accept, and they answer there.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the binary when the test ends, even on a failed assertion.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One `GET` over a raw TCP stream, with a bearer token: the status line.
fn get(url: &str, path: &str, token: &str) -> String {
    let host = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn it_prints_four_urls_that_answer() {
    let child = Command::new(env!("CARGO_BIN_EXE_vendor-fakes"))
        // The environment names a port, the flag overrides it with 0.
        .env("VENDOR_FAKES_HUBSPOT_PORT", "1")
        .args(["--hubspot-port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let lines: Vec<String> = BufReader::new(stdout)
        .lines()
        .take(4)
        .map(Result::unwrap)
        .collect();
    let fields: Vec<Vec<&str>> = lines
        .iter()
        .map(|l| l.split_whitespace().collect())
        .collect();
    let names: Vec<&str> = fields.iter().map(|f| f[0]).collect();
    assert_eq!(names, ["hubspot", "salesforce", "bamboohr", "gusto"]);
    for f in &fields {
        assert!(f[1].starts_with("http://127.0.0.1:"), "{f:?}");
        assert!(!f[1].ends_with(":0"), "{f:?}");
    }
    let token = fields[0][2].strip_prefix("token=").unwrap();
    let hubspot = fields[0][1];
    assert_eq!(
        get(hubspot, "/crm/v3/objects/companies", token),
        "HTTP/1.1 200 OK"
    );
    assert_eq!(
        get(hubspot, "/crm/v3/objects/companies", "wrong"),
        "HTTP/1.1 401 Unauthorized"
    );
    // Gusto's printed access token is one it accepts.
    let gusto = fields[3][1];
    let company = fields[3][2].strip_prefix("company=").unwrap();
    let access = fields[3]
        .iter()
        .find_map(|f| f.strip_prefix("access_token="))
        .unwrap();
    assert_eq!(
        get(gusto, &format!("/v1/companies/{company}/employees"), access),
        "HTTP/1.1 200 OK"
    );
}

#[test]
fn a_bad_flag_is_refused_with_the_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_vendor-fakes"))
        .args(["--hubspot-port", "http"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("`http` is not a port"), "{stderr}");
    assert!(stderr.contains("usage: vendor-fakes"), "{stderr}");
    assert!(out.stdout.is_empty());
}
