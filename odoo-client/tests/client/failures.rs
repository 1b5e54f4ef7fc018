//! Failures no fixture shows: proxies, truncated and empty bodies, rate
//! limits, refused connections, timeouts, and replies of the wrong type.
//! Each is a typed error, never a panic.

use std::time::Duration;

use odoo_integration_client::{
    Client, Credentials, Domain, ErrorKind, Protocol, ProtocolErrorKind,
};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const PROXY_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// A JSON-RPC server (login mounted) whose `execute_kw` answers `reply`.
async fn jsonrpc_answering(reply: ResponseTemplate) -> (MockServer, Client) {
    let server = MockServer::start().await;
    mount_jsonrpc_login(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcService("object", "execute_kw"))
        .respond_with(reply)
        .mount(&server)
        .await;
    let client = jsonrpc_client(&server);
    (server, client)
}

async fn json2_answering(reply: ResponseTemplate) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(reply)
        .mount(&server)
        .await;
    let client = json2_client(&server);
    (server, client)
}

#[tokio::test]
async fn an_html_502_from_a_proxy_is_a_retryable_protocol_error() {
    for (name, (_s, client)) in [
        (
            "jsonrpc",
            jsonrpc_answering(ResponseTemplate::new(502).set_body_raw(PROXY_502, "text/html"))
                .await,
        ),
        (
            "json2",
            json2_answering(ResponseTemplate::new(502).set_body_raw(PROXY_502, "text/html")).await,
        ),
    ] {
        let err = count(&client).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol, "{name}: {err}");
        assert_eq!(protocol_kind(&err), ProtocolErrorKind::Html, "{name}");
        assert_eq!(err.http_status(), Some(502), "{name}");
        assert!(err.is_retryable(), "{name}");
        assert!(err.to_string().contains("502 Bad Gateway"), "{name}: {err}");
    }
}

#[tokio::test]
async fn an_html_page_with_status_200_is_a_protocol_error() {
    let (_s, client) = jsonrpc_answering(
        ResponseTemplate::new(200).set_body_raw("<!doctype html><title>Login</title>", "text/html"),
    )
    .await;
    let err = count(&client).await.unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::Html);
}

#[tokio::test]
async fn a_truncated_body_is_a_protocol_error() {
    let body = r#"{"jsonrpc": "2.0", "id": 1, "result": [{"id": 1, "name": "Your"#;
    let (_s, client) =
        jsonrpc_answering(ResponseTemplate::new(200).set_body_raw(body, "application/json")).await;
    let err = client
        .model("res.partner")
        .search_read(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::Truncated, "{err}");

    let (_s, client) =
        json2_answering(ResponseTemplate::new(200).set_body_raw("[1, 2, 3", "application/json"))
            .await;
    let err = client
        .model("res.partner")
        .search(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::Truncated, "{err}");
}

#[tokio::test]
async fn an_empty_body_is_a_protocol_error() {
    let (_s, client) =
        jsonrpc_answering(ResponseTemplate::new(200).set_body_raw("", "application/json")).await;
    let err = count(&client).await.unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::Empty, "{err}");
    let (_s, client) = json2_answering(ResponseTemplate::new(200)).await;
    let err = count(&client).await.unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::Empty, "{err}");
}

#[tokio::test]
async fn json_that_is_not_an_rpc_reply_is_a_protocol_error() {
    let (_s, client) =
        jsonrpc_answering(ResponseTemplate::new(200).set_body_raw("[1, 2]", "application/json"))
            .await;
    let err = count(&client).await.unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::Unexpected, "{err}");
}

#[tokio::test]
async fn a_429_carries_retry_after() {
    let (_s, client) = json2_answering(
        ResponseTemplate::new(429)
            .insert_header("Retry-After", "7")
            .set_body_raw("Too Many Requests", "text/plain"),
    )
    .await;
    let err = count(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable());
    let (_s, client) = jsonrpc_answering(ResponseTemplate::new(429)).await;
    let err = count(&client).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), None);
}

#[tokio::test]
async fn a_bad_api_key_is_an_authentication_error() {
    let f = fixture("json2", "error_invalid_api_key");
    let (_s, client) = json2_answering(f.template()).await;
    let err = count(&client).await.unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.http_status(), Some(401));
    assert!(err.to_string().contains("Invalid apikey"), "{err}");
    assert!(!err.to_string().contains(API_KEY), "{err}");
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    for protocol in [Protocol::Json2, Protocol::JsonRpc, Protocol::XmlRpc] {
        let client = Client::builder(format!("http://127.0.0.1:{port}"))
            .database("demo")
            .credentials(Credentials::api_key("admin", API_KEY))
            .protocol(protocol)
            .retry_policy(odoo_integration_client::RetryPolicy::disabled())
            .build()
            .unwrap();
        let err = count(&client).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "{protocol}: {err}");
        assert!(err.is_connect(), "{protocol}: {err:?}");
        assert!(err.is_retryable());
        assert!(std::error::Error::source(&err).is_some());
    }
}

#[tokio::test]
async fn a_slow_server_hits_the_per_request_timeout() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!(1))
                .set_delay(Duration::from_secs(10)),
        )
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .database("demo")
        .credentials(Credentials::api_key("admin", API_KEY))
        .protocol(Protocol::Json2)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let err = count(&client).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Transport);
}

#[tokio::test]
async fn a_wrong_type_names_the_record_and_field() {
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Strict {
        id: i64,
        email: String,
    }
    let rows = json!([
        {"id": 1, "email": "a@example.com"},
        {"id": 2, "email": false},
    ]);
    let (_s, client) = json2_answering(ResponseTemplate::new(200).set_body_json(rows)).await;
    let err = client
        .model("res.partner")
        .search_read(Domain::all())
        .fields(["email"])
        .into_typed::<Strict>()
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    let shown = err.to_string();
    assert!(shown.contains("res.partner/search_read"), "{shown}");
    assert!(shown.contains("[1].email"), "{shown}");
    assert!(shown.contains("expected a string"), "{shown}");
}

#[tokio::test]
async fn a_malformed_domain_is_rejected_before_any_request() {
    let server = MockServer::start().await;
    catch_all(&server).await;
    let err = Domain::from_json(&json!([["name", "=", ["a", "b"]]])).unwrap_err();
    let err: odoo_integration_client::Error = err.into();
    assert_eq!(err.kind(), ErrorKind::InvalidDomain);
    let _client = json2_client(&server);
    // Nothing was sent: the catch-all expects zero requests.
}
