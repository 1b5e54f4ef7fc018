//! Seeded random bodies through every decode path: the recorded replies,
//! mutated (bytes flipped, inserted, dropped, spliced with markup and
//! extreme numbers), truncated, nested deeply and blown up, decoded as
//! JSON-RPC, JSON-2 and XML-RPC replies into untyped values, rows and
//! typed structs. None may panic; each failure is a typed error.
//!
//! Bounded: a fixed number of bodies from a fixed seed (a few seconds in a
//! debug build), so a failure reproduces. Set `ODOO_FUZZ_ROUNDS` to run
//! longer locally.

use std::panic::{AssertUnwindSafe, catch_unwind};

use odoo_integration_client::codec::{decode_json2, decode_jsonrpc, decode_xmlrpc};
use odoo_integration_client::value::{Many2One, Record, falsy, monetary};
use odoo_integration_client::{Error, ErrorKind};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::support::{fixture, fixture_names};

/// xorshift64*: enough randomness for mutations, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// A typed row with every kind of field helper.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Row {
    id: i64,
    #[serde(default, with = "falsy")]
    name: Option<String>,
    #[serde(default, with = "falsy")]
    partner_id: Option<Many2One>,
    #[serde(default, with = "monetary::option")]
    amount_total: Option<Decimal>,
    #[serde(default, with = "odoo_integration_client::value::datetime::option")]
    write_date: Option<chrono::DateTime<chrono::Utc>>,
    #[serde(default)]
    tag_ids: Vec<i64>,
}

const TOKENS: &[&str] = &[
    "<value>",
    "</value>",
    "<array><data>",
    "</data></array>",
    "<struct>",
    "<member>",
    "<name>",
    "<int>",
    "<i8>99999999999999999999</i8>",
    "<double>1e999</double>",
    "<double>nan</double>",
    "<boolean>7</boolean>",
    "<base64>%%%</base64>",
    "<dateTime.iso8601>99999999T99:99:99</dateTime.iso8601>",
    "&#0;",
    "&#x110000;",
    "&bogus;",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE x [<!ENTITY a \"aaaa\">]>",
    "<?xml version='1.0'?>",
    "<nil/>",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "\\u0000",
    "\\ud800",
    ":",
    ",",
    "1e999999",
    "-0",
    "184467440737095516159",
    "-9223372036854775809",
    "0.0000000000000000000000000000001",
    "null",
    "false",
    "true",
    "\"id\":",
    "\"result\":",
    "\"error\":",
    "\u{feff}",
    "\u{0}",
    "é",
    "\u{10ffff}",
];

fn mutate(rng: &mut Rng, base: &[u8]) -> Vec<u8> {
    let mut body = base.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(body.len() + 1);
        match rng.below(8) {
            0 if !body.is_empty() => {
                let i = rng.below(body.len());
                body[i] ^= 1 << rng.below(8);
            }
            1 => body.insert(at, rng.next() as u8),
            2 if at < body.len() => {
                let end = (at + 1 + rng.below(16)).min(body.len());
                body.drain(at..end);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                body.splice(at..at, token.iter().copied());
            }
            4 => body.truncate(at),
            5 if at < body.len() => {
                let end = (at + rng.below(64)).min(body.len());
                let slice = body[at..end].to_vec();
                body.splice(at..at, slice);
            }
            6 => {
                let (open, depth) = if rng.below(2) == 0 {
                    ("<array><data><value>", 100 + rng.below(3_000))
                } else {
                    ("[", 100 + rng.below(3_000))
                };
                body.splice(at..at, open.repeat(depth).into_bytes());
            }
            _ => {}
        }
    }
    body
}

/// Decodes `body` every way; panics (caught by the caller) are the bug.
fn decode_every_way(body: &[u8]) -> Vec<Result<(), Error>> {
    fn ok<T>(r: Result<T, Error>) -> Result<(), Error> {
        r.map(drop)
    }
    vec![
        ok(decode_jsonrpc::<Value>(body)),
        ok(decode_jsonrpc::<Vec<Record>>(body)),
        ok(decode_jsonrpc::<Vec<Row>>(body)),
        ok(decode_jsonrpc::<i64>(body)),
        ok(decode_json2::<Value>(body)),
        ok(decode_json2::<Vec<Record>>(body)),
        ok(decode_json2::<Vec<Row>>(body)),
        ok(decode_json2::<Vec<i64>>(body)),
        ok(decode_xmlrpc::<Value>(body)),
        ok(decode_xmlrpc::<Vec<Record>>(body)),
        ok(decode_xmlrpc::<Vec<Row>>(body)),
        ok(decode_xmlrpc::<serde::de::IgnoredAny>(body)),
        ok(decode_xmlrpc::<Option<Vec<Option<i64>>>>(body)),
    ]
}

/// The recorded replies of all three protocols.
fn corpus() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for kind in ["json2", "jsonrpc", "xmlrpc-http"] {
        for name in fixture_names(kind, "") {
            if kind == "xmlrpc-http" {
                let path = format!(
                    "{}/tests/fixtures/xmlrpc-http/{name}.json",
                    env!("CARGO_MANIFEST_DIR")
                );
                let v: Value =
                    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                if let Some(r) = v["response"].as_str() {
                    out.push(r.as_bytes().to_vec());
                }
            } else {
                out.push(fixture(kind, &name).body());
            }
        }
    }
    out
}

#[test]
fn mutated_truncated_deep_and_huge_bodies_never_panic() {
    let corpus = corpus();
    assert!(corpus.len() > 50, "the recorded replies are there");
    let rounds: usize = std::env::var("ODOO_FUZZ_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3_000);
    let mut rng = Rng(0x0DD0_5EED_2026_1203);
    let mut bodies: Vec<Vec<u8>> = Vec::with_capacity(rounds + 16);
    for _ in 0..rounds {
        let base = &corpus[rng.below(corpus.len())];
        bodies.push(mutate(&mut rng, base));
    }
    // And the extremes, every time.
    bodies.push(Vec::new());
    bodies.push(b"<".repeat(100_000));
    bodies.push(b"[".repeat(100_000));
    bodies.push(b"{\"a\":".repeat(50_000));
    bodies.push("<array><data><value>".repeat(20_000).into_bytes());
    bodies.push(
        "<struct><member><name>a</name><value>"
            .repeat(20_000)
            .into_bytes(),
    );
    let huge_string = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"{}\"}}",
        "x".repeat(8 << 20)
    );
    bodies.push(huge_string.into_bytes());
    let many_rows = format!(
        "[{}{{\"id\":1}}]",
        "{\"id\":1,\"name\":\"n\"},".repeat(100_000)
    );
    bodies.push(many_rows.into_bytes());

    let mut errors = 0usize;
    for (i, body) in bodies.iter().enumerate() {
        let outcome = catch_unwind(AssertUnwindSafe(|| decode_every_way(body)));
        let results = outcome.unwrap_or_else(|_| {
            panic!(
                "body {i} panicked a decoder: {:?}",
                String::from_utf8_lossy(&body[..body.len().min(300)])
            )
        });
        for r in results {
            if let Err(e) = r {
                errors += 1;
                // A typed error with something to say.
                assert!(
                    matches!(
                        e.kind(),
                        ErrorKind::Protocol
                            | ErrorKind::Decode
                            | ErrorKind::Server
                            | ErrorKind::InvalidRequest
                            | ErrorKind::NotFound
                            | ErrorKind::Forbidden
                            | ErrorKind::Unauthorized
                            | ErrorKind::MissingRecord
                            | ErrorKind::Invalid
                            | ErrorKind::UserError
                            | ErrorKind::RateLimited
                    ),
                    "body {i}: {e:?}"
                );
                assert!(!e.to_string().is_empty());
            }
        }
    }
    assert!(
        errors > bodies.len(),
        "most mutations are refused ({errors})"
    );
}
