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

/// One request over a raw TCP stream: the status line and the body.
fn call(url: &str, method: &str, path: &str, headers: &str, body: &str) -> (String, String) {
    let host = url.strip_prefix("http://").unwrap();
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer.lines().next().unwrap_or_default().to_owned();
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A `GET` with a bearer token: the status line and the body.
fn get(url: &str, path: &str, token: &str) -> (String, String) {
    call(
        url,
        "GET",
        path,
        &format!("Authorization: Bearer {token}\r\n"),
        "",
    )
}

fn text<'a>(line: &'a serde_json::Value, vendor: &str, key: &str) -> &'a str {
    line[vendor][key]
        .as_str()
        .unwrap_or_else(|| panic!("{vendor}.{key} missing in {line}"))
}

#[test]
fn it_prints_one_json_line_of_four_fakes_with_demo_data() {
    let child = Command::new(env!("CARGO_BIN_EXE_vendor-fakes"))
        // The environment names a port, the flag overrides it with 0.
        .env("VENDOR_FAKES_HUBSPOT_PORT", "1")
        .args(["--hubspot-port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut running = Running(child);
    let stdout = running.0.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().unwrap().unwrap();
    let line: serde_json::Value = serde_json::from_str(&first).unwrap();
    let shape = [
        ("hubspot", &["url", "token"][..]),
        (
            "salesforce",
            &["login_url", "my_domain_url", "client_id", "client_secret"][..],
        ),
        ("bamboohr", &["url", "company", "api_key"][..]),
        (
            "gusto",
            &[
                "url",
                "client_id",
                "client_secret",
                "access_token",
                "refresh_token",
                "company_uuid",
            ][..],
        ),
    ];
    let vendors: Vec<&String> = line.as_object().unwrap().keys().collect();
    assert_eq!(vendors.len(), 4, "{line}");
    for (vendor, keys) in shape {
        let fields = line[vendor].as_object().unwrap();
        let mut got: Vec<&str> = fields.keys().map(String::as_str).collect();
        let mut want = keys.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{vendor}");
        for key in keys {
            let value = text(&line, vendor, key);
            assert!(!value.is_empty(), "{vendor}.{key}");
            if key.ends_with("url") {
                assert!(value.starts_with("http://127.0.0.1:"), "{vendor}.{key}");
                assert!(!value.ends_with(":0"), "{vendor}.{key}");
            }
        }
    }

    // HubSpot answers with its token, refuses another, and has the demo client.
    let (hubspot, token) = (
        text(&line, "hubspot", "url"),
        text(&line, "hubspot", "token"),
    );
    let (status, body) = get(hubspot, "/crm/v3/objects/companies", token);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("Northwind Traders"), "{body}");
    let (status, _) = get(hubspot, "/crm/v3/objects/companies", "wrong");
    assert_eq!(status, "HTTP/1.1 401 Unauthorized");

    // Salesforce: the printed client signs in at My Domain, not at the login host.
    let grant = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        text(&line, "salesforce", "client_id"),
        text(&line, "salesforce", "client_secret")
    );
    let form = "Content-Type: application/x-www-form-urlencoded\r\n";
    let token_at = |url: &str| call(url, "POST", "/services/oauth2/token", form, &grant);
    let (status, body) = token_at(text(&line, "salesforce", "my_domain_url"));
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    let (status, _) = token_at(text(&line, "salesforce", "login_url"));
    assert_eq!(status, "HTTP/1.1 400 Bad Request");

    // Gusto's printed access token is one it accepts; its employees are the demo's.
    let gusto = text(&line, "gusto", "url");
    let company = text(&line, "gusto", "company_uuid");
    let access = text(&line, "gusto", "access_token");
    let (status, body) = get(gusto, &format!("/v1/companies/{company}/employees"), access);
    assert_eq!(status, "HTTP/1.1 200 OK");
    assert!(body.contains("ann.lee@example.com"), "{body}");
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
