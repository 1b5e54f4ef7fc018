//! Fixture loading and wiremock helpers shared by the test modules.

use std::path::PathBuf;

use odoo_integration_client::{Client, Credentials, Protocol};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

/// The admin password of the recorded server (kept as recorded).
pub const PASSWORD: &str = "admin";
/// The API key our fixture files use in place of the recorded one.
pub const API_KEY: &str = "test-admin-api-key";

/// One recorded HTTP exchange, trimmed (see tests/fixtures/README.md).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Fixture {
    pub endpoint: String,
    pub status: u16,
    pub content_type: Option<String>,
    #[serde(default)]
    pub www_authenticate: Option<String>,
    pub request: Value,
    pub response: Value,
}

impl Fixture {
    /// The response body bytes exactly as the server sent them (JSON
    /// re-serialised, text and XML verbatim).
    pub fn body(&self) -> Vec<u8> {
        match &self.response {
            Value::String(text) => text.clone().into_bytes(),
            other => serde_json::to_vec(other).expect("serialise fixture body"),
        }
    }

    pub fn template(&self) -> ResponseTemplate {
        let mut t = ResponseTemplate::new(self.status).set_body_raw(
            self.body(),
            self.content_type.as_deref().unwrap_or("application/json"),
        );
        if let Some(w) = &self.www_authenticate {
            t = t.insert_header("WWW-Authenticate", w.as_str());
        }
        t
    }

    /// JSON-RPC: the `params` of the request (the id differs per client).
    pub fn params(&self) -> Value {
        self.request["params"].clone()
    }
}

pub fn fixture(kind: &str, name: &str) -> Fixture {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        kind,
        &format!("{name}.json"),
    ]
    .iter()
    .collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad fixture {}: {e}", path.display()))
}

/// Every fixture file name (without `.json`) in a folder.
pub fn fixture_names(kind: &str, prefix: &str) -> Vec<String> {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", kind]
        .iter()
        .collect();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("fixture dir")
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .filter(|n| n.starts_with(prefix) && n.ends_with(".json"))
        .map(|n| n.trim_end_matches(".json").to_owned())
        .collect();
    names.sort();
    names
}

/// Matches a JSON-RPC request whose `params` equal the expected ones
/// (JSON object key order ignored; the request id ignored).
pub struct JsonRpcParams(pub Value);

impl Match for JsonRpcParams {
    fn matches(&self, request: &Request) -> bool {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return false;
        };
        body["jsonrpc"] == "2.0" && body["method"] == "call" && body["params"] == self.0
    }
}

/// Matches a JSON-RPC request to `service.method`.
pub struct JsonRpcService(pub &'static str, pub &'static str);

impl Match for JsonRpcService {
    fn matches(&self, request: &Request) -> bool {
        let Ok(body) = serde_json::from_slice::<Value>(&request.body) else {
            return false;
        };
        body["params"]["service"] == self.0 && body["params"]["method"] == self.1
    }
}

/// Mounted last: any request no other mock expected fails the test when the
/// server is dropped, and gets a 599 so the client errors out at once.
pub async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(599).set_body_string("unexpected request"))
        .with_priority(u8::MAX)
        .expect(0)
        .named("catch-all: unexpected request")
        .mount(server)
        .await;
}

/// A JSON-RPC client for the recorded admin user.
pub fn jsonrpc_client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .database("demo")
        .credentials(Credentials::password("admin", PASSWORD))
        .protocol(Protocol::JsonRpc)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .build()
        .expect("client")
}

/// A JSON-2 client for the recorded admin user.
pub fn json2_client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .database("demo")
        .credentials(Credentials::api_key("admin", API_KEY))
        .protocol(Protocol::Json2)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .build()
        .expect("client")
}

/// Mounts `common.authenticate` answering uid 2, checking the request is the
/// recorded one; expects exactly `times` logins.
pub async fn mount_jsonrpc_login(server: &MockServer, times: u64) {
    let f = fixture("jsonrpc", "common_authenticate");
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcParams(f.params()))
        .respond_with(f.template())
        .expect(times)
        .named("common.authenticate")
        .mount(server)
        .await;
}

/// Mounts `common.version` (Odoo 19.0).
pub async fn mount_jsonrpc_version(server: &MockServer) {
    let f = fixture("jsonrpc", "common_version");
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcParams(f.params()))
        .respond_with(f.template())
        .named("common.version")
        .mount(server)
        .await;
}

/// Mounts a JSON-RPC fixture: the client must send exactly its params.
pub async fn mount_jsonrpc_fixture(server: &MockServer, f: &Fixture) {
    Mock::given(method("POST"))
        .and(path(f.endpoint.as_str()))
        .and(JsonRpcParams(f.params()))
        .respond_with(f.template())
        .expect(1)
        .mount(server)
        .await;
}

/// A JSON-RPC server with login mounted and the fixture expected.
pub async fn jsonrpc_server(name: &str) -> (MockServer, Client, Fixture) {
    let server = MockServer::start().await;
    let f = fixture("jsonrpc", name);
    mount_jsonrpc_login(&server, 1).await;
    mount_jsonrpc_fixture(&server, &f).await;
    catch_all(&server).await;
    let client = jsonrpc_client(&server);
    (server, client, f)
}

/// A JSON-2 server expecting exactly the fixture's request (path, headers,
/// body).
pub async fn json2_server(name: &str) -> (MockServer, Client, Fixture) {
    let server = MockServer::start().await;
    let f = fixture("json2", name);
    let mut mock = Mock::given(method("POST"))
        .and(path(f.endpoint.as_str()))
        .and(wiremock::matchers::header(
            "Authorization",
            format!("bearer {API_KEY}").as_str(),
        ))
        .and(wiremock::matchers::header("X-Odoo-Database", "demo"));
    if f.request.is_object() {
        mock = mock.and(wiremock::matchers::body_json(&f.request));
    }
    mock.respond_with(f.template())
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = json2_client(&server);
    (server, client, f)
}

/// Counts partners: the call most failure tests make.
pub async fn count(client: &Client) -> odoo_integration_client::Result<u64> {
    client
        .model("res.partner")
        .search_count(odoo_integration_client::Domain::all())
        .send()
        .await
}

/// The kind of a protocol error (any other error fails the test).
pub fn protocol_kind(
    err: &odoo_integration_client::Error,
) -> odoo_integration_client::ProtocolErrorKind {
    match err.protocol_error() {
        Some(p) => p.kind(),
        None => panic!("expected a protocol error, got {err:?}"),
    }
}
