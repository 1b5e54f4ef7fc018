//! How failures are classified: by Odoo's exception class first, by the
//! HTTP status only when the reply names no class; and how a handle with
//! another retry policy shares its client.

use std::time::Duration;

use odoo_integration_client::{Client, Credentials, Domain, ErrorKind, Protocol, RetryPolicy};
use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const PROXY_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// A JSON-2 client that retries quickly: 3 retries, 1 ms apart.
fn retrying_client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .database("demo")
        .credentials(Credentials::api_key("admin", API_KEY))
        .protocol(Protocol::Json2)
        .retry_policy(
            RetryPolicy::new()
                .max_retries(3)
                .min_delay(Duration::from_millis(1))
                .max_delay(Duration::from_millis(2))
                .without_jitter(),
        )
        .build()
        .unwrap()
}

/// Mounts `reply` for `search_read`, expecting exactly `times` requests.
async fn search_read_answers(server: &MockServer, reply: ResponseTemplate, times: u64) {
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search_read"))
        .respond_with(reply)
        .expect(times)
        .mount(server)
        .await;
    catch_all(server).await;
}

async fn search_read(client: &Client) -> odoo_integration_client::Result<Vec<Value>> {
    client
        .model("res.partner")
        .search_read(Domain::all())
        .fields(["name"])
        .send()
        .await
        .map(|rows| rows.into_iter().map(Value::Object).collect())
}

#[tokio::test]
async fn a_500_value_error_is_an_invalid_request_and_is_sent_once() {
    // Recorded: JSON-2 answers HTTP 500 to an unknown field.
    let f = fixture("json2", "error_invalid_field");
    assert_eq!(f.status, 500);
    let server = MockServer::start().await;
    search_read_answers(&server, f.template(), 1).await;
    let err = search_read(&retrying_client(&server)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{err}");
    assert!(!err.is_retryable());
    assert_eq!(err.http_status(), Some(500));
    let server_error = err.server_error().expect("the exception");
    assert_eq!(server_error.name(), "builtins.ValueError");
    assert!(server_error.message().starts_with("Invalid field"));
    assert_eq!(err.endpoint(), Some("/json/2/res.partner/search_read"));
    assert_eq!(err.model(), Some("res.partner"));
    assert_eq!(err.method(), Some("search_read"));
    // The mock's `expect(1)` checks, when the server drops, that the
    // retrying client did not send it again.
}

#[tokio::test]
async fn a_500_access_error_is_forbidden() {
    // Recorded with 403; an older server or a proxy may say 500: the class
    // decides either way.
    let f = fixture("json2", "error_access");
    let server = MockServer::start().await;
    search_read_answers(
        &server,
        ResponseTemplate::new(500).set_body_raw(f.body(), "application/json"),
        1,
    )
    .await;
    let err = search_read(&retrying_client(&server)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    assert!(!err.is_retryable());
    assert_eq!(err.http_status(), Some(500));
    assert_eq!(
        err.server_error().map(|e| e.name()),
        Some("odoo.exceptions.AccessError")
    );
}

#[tokio::test]
async fn a_502_page_from_a_proxy_is_retried() {
    let server = MockServer::start().await;
    // The first attempt and the 3 retries.
    search_read_answers(
        &server,
        ResponseTemplate::new(502).set_body_raw(PROXY_502, "text/html"),
        4,
    )
    .await;
    let err = search_read(&retrying_client(&server)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Protocol, "{err}");
    assert!(err.is_retryable());
    assert_eq!(err.http_status(), Some(502));
    assert!(err.server_error().is_none());
}

#[tokio::test]
async fn a_5xx_without_a_known_class_is_transient() {
    let unknown_class = serde_json::json!({
        "name": "psycopg2.OperationalError",
        "message": "server closed the connection unexpectedly",
        "arguments": [],
        "context": {},
        "debug": "Traceback (most recent call last): ...",
    });
    for (what, reply) in [
        ("an empty 503", ResponseTemplate::new(503)),
        (
            "a 500 text page",
            ResponseTemplate::new(500).set_body_raw("Internal Server Error", "text/plain"),
        ),
        (
            "an unknown class with 500",
            ResponseTemplate::new(500).set_body_json(&unknown_class),
        ),
    ] {
        let server = MockServer::start().await;
        search_read_answers(&server, reply, 1).await;
        let client = json2_client(&server); // no retries: one request
        let err = search_read(&client).await.unwrap_err();
        assert!(err.is_retryable(), "{what}: {err}");
        assert!(err.http_status().is_some_and(|s| s >= 500), "{what}");
    }
}

#[tokio::test]
async fn a_handle_without_retries_sends_once_while_the_original_retries() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search_read"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let client = retrying_client(&server);
    let once = client.with_retry_policy(RetryPolicy::disabled());
    assert_eq!(once.retry_policy(), &RetryPolicy::disabled());
    assert_eq!(client.retry_policy().retry_limit(), 3);

    let err = search_read(&once).await.unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    assert_eq!(server.received_requests().await.unwrap().len(), 1);

    let err = search_read(&client).await.unwrap_err();
    assert_eq!(err.http_status(), Some(503));
    // The first attempt and 3 retries.
    assert_eq!(server.received_requests().await.unwrap().len(), 1 + 4);
}

#[tokio::test]
async fn a_handle_shares_the_login_of_its_client() {
    // JSON-RPC logs in once per client: a handle made before or after the
    // login uses the same session.
    let server = MockServer::start().await;
    mount_jsonrpc_login(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcService("object", "execute_kw"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "jsonrpc": "2.0", "id": 1, "result": 7
        })))
        .expect(2)
        .mount(&server)
        .await;
    let client = jsonrpc_client(&server);
    let other = client.with_retry_policy(RetryPolicy::new());
    assert_eq!(count(&client).await.unwrap(), 7);
    assert_eq!(count(&other).await.unwrap(), 7);
    assert_eq!(other.uid().await.unwrap(), client.uid().await.unwrap());
    // `mount_jsonrpc_login` expects exactly one login.
}
