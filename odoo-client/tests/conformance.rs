//! Conformance of the test server with a real Odoo 19: the requests
//! recorded from Odoo (tests/fixtures/, trimmed copies of the recordings)
//! are sent to the test server, adapted only to its database and keys, and
//! its replies must have the recorded shape: HTTP status, JSON-RPC error
//! code and message, exception class, the keys of error bodies and of rows,
//! XML-RPC fault codes.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::BTreeSet;
use std::path::PathBuf;

use odoo_integration_client::test_server::{ADMIN_API_KEY, DATABASE, DEMO_API_KEY, TestServer};
use serde_json::Value;

fn fixture(kind: &str, name: &str) -> Value {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        kind,
        &format!("{name}.json"),
    ]
    .iter()
    .collect();
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Same type; objects with the same keys; lists of objects whose first
/// elements have the same keys.
fn same_shape(ours: &Value, recorded: &Value, what: &str) {
    assert_eq!(kind(ours), kind(recorded), "{what}: {ours} vs {recorded}");
    match (ours, recorded) {
        (Value::Object(_), Value::Object(_)) => assert_eq!(keys(ours), keys(recorded), "{what}"),
        (Value::Array(a), Value::Array(b)) => {
            if let (Some(x @ Value::Object(_)), Some(y @ Value::Object(_))) = (a.first(), b.first())
            {
                assert_eq!(keys(x), keys(y), "{what}: row keys");
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn jsonrpc_replies_have_the_recorded_shape() {
    let server = TestServer::start().await.unwrap();
    odoo_integration_client::tls::ensure_crypto_provider().unwrap();
    let http = reqwest::Client::new();
    for name in [
        "common_version",
        "common_authenticate",
        "common_authenticate_wrong_password",
        "search_count_res_partner",
        "search_res_partner",
        "read_missing_record",
        "error_access",
        "error_common_unknown_method",
        "error_invalid_domain_operator",
        "error_invalid_field",
        "error_missing_record",
        "error_nonexistent_method",
        "error_nonexistent_model",
        "error_private_method",
        "error_unknown_service",
        "error_validation_sql_constraint",
        "error_wrong_password",
        "error_unexpected_kwarg",
    ] {
        let f = fixture("jsonrpc", name);
        let mut request = f["request"].clone();
        if request["params"]["args"][0] == "demo" {
            request["params"]["args"][0] = Value::from(DATABASE);
        }
        let reply = http
            .post(format!("{}/jsonrpc", server.url()))
            .header("Content-Type", "application/json")
            .body(request.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(
            reply.status().as_u16(),
            f["status"].as_u64().unwrap() as u16,
            "{name}"
        );
        let ours: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        let recorded = &f["response"];
        assert_eq!(keys(&ours), keys(recorded), "{name}: {ours}");
        if let Some(err) = recorded.get("error") {
            assert_eq!(ours["error"]["code"], err["code"], "{name}");
            assert_eq!(ours["error"]["message"], err["message"], "{name}");
            assert_eq!(keys(&ours["error"]["data"]), keys(&err["data"]), "{name}");
            assert_eq!(
                ours["error"]["data"]["name"], err["data"]["name"],
                "{name}: {}",
                ours["error"]["data"]["message"]
            );
        } else {
            same_shape(&ours["result"], &recorded["result"], name);
        }
    }
}

#[tokio::test]
async fn json2_replies_have_the_recorded_shape() {
    let server = TestServer::start().await.unwrap();
    odoo_integration_client::tls::ensure_crypto_provider().unwrap();
    let http = reqwest::Client::new();
    for name in [
        "search",
        "search_count",
        "read_missing_record",
        "error_access",
        "error_invalid_api_key",
        "error_missing_authorization",
        "error_missing_record",
        "error_nonexistent_model",
        "error_nonexistent_method",
        "error_private_method",
        "error_invalid_field",
        "error_invalid_domain",
        "error_wrong_database",
        "error_validation_sql_constraint",
        "error_missing_argument",
        "error_unexpected_argument",
    ] {
        let f = fixture("json2", name);
        let mut request = http.post(format!(
            "{}{}",
            server.url(),
            f["endpoint"].as_str().unwrap()
        ));
        for (header, value) in f["request_headers"].as_object().into_iter().flatten() {
            let value = value.as_str().unwrap();
            let value = match header.as_str() {
                "Authorization" => value
                    .replace("test-admin-api-key", ADMIN_API_KEY)
                    .replace("test-demo-api-key", DEMO_API_KEY),
                "X-Odoo-Database" if value == "demo" => DATABASE.to_owned(),
                _ => value.to_owned(),
            };
            request = request.header(header.as_str(), value);
        }
        let body = match &f["request"] {
            Value::String(raw) => raw.clone(),
            other => other.to_string(),
        };
        let reply = request.body(body).send().await.unwrap();
        let status = reply.status().as_u16();
        let is_html = reply
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.contains("html"));
        assert_eq!(status, f["status"].as_u64().unwrap() as u16, "{name}");
        let recorded = &f["response"];
        if recorded.is_string() {
            assert!(is_html, "{name}: the server answered an HTML page");
            continue;
        }
        let ours: Value = serde_json::from_slice(&reply.bytes().await.unwrap()).unwrap();
        if status >= 400 {
            assert_eq!(keys(&ours), keys(recorded), "{name}");
            assert_eq!(
                ours["name"], recorded["name"],
                "{name}: {}",
                ours["message"]
            );
        } else {
            same_shape(&ours, recorded, name);
        }
    }
}

#[tokio::test]
async fn xmlrpc_replies_have_the_recorded_shape() {
    let server = TestServer::start().await.unwrap();
    odoo_integration_client::tls::ensure_crypto_provider().unwrap();
    let http = reqwest::Client::new();
    for name in [
        "common_version",
        "common_authenticate",
        "common_login_wrong_password",
        "execute_kw_search_count",
        "fault_access_denied",
        "fault_access_error",
        "fault_invalid_field",
        "fault_missing_record",
        "fault_nonexistent_method",
        "fault_nonexistent_model",
        "fault_private_method",
        "fault_malformed_request",
    ] {
        let f = fixture("xmlrpc-http", name);
        let request = f["request"].as_str().unwrap().replacen(
            "<string>demo</string>",
            &format!("<string>{DATABASE}</string>"),
            1,
        );
        let reply = http
            .post(format!(
                "{}{}",
                server.url(),
                f["endpoint"].as_str().unwrap()
            ))
            .header("Content-Type", "text/xml")
            .body(request)
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status().as_u16(), 200, "{name}");
        let ours = reply.text().await.unwrap();
        let recorded = f["response"].as_str().unwrap();
        let fault_code = |xml: &str| -> Option<String> {
            let at = xml.find("<name>faultCode</name>")?;
            let rest = &xml[at..];
            let start = rest.find("<int>")? + 5;
            let end = rest.find("</int>")?;
            Some(rest[start..end].to_owned())
        };
        assert_eq!(fault_code(&ours), fault_code(recorded), "{name}: {ours}");
        assert_eq!(
            ours.contains("<fault>"),
            recorded.contains("<fault>"),
            "{name}"
        );
    }
}
