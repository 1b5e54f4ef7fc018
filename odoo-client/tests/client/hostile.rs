//! Hostile and broken replies through the public API: bodies nested
//! thousands of levels deep, bodies larger than the limit (declared or
//! streamed), and servers asking to wait for a day or for ever. Each one
//! is a typed error returned at once; none crashes the process or holds
//! the caller.

use std::time::Duration;

use odoo_integration_client::{
    Client, Credentials, Domain, ErrorKind, Protocol, ProtocolErrorKind,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

/// A JSON-2 client builder for `url` with the test key.
fn json2(url: impl Into<String>) -> odoo_integration_client::ClientBuilder {
    Client::builder(url)
        .database("demo")
        .credentials(Credentials::api_key("admin", API_KEY))
        .protocol(Protocol::Json2)
}

/// An XML-RPC client whose login succeeds and whose `execute_kw` answers
/// `body`.
async fn xmlrpc_answering(body: Vec<u8>) -> (MockServer, Client) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xmlrpc/2/common"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<?xml version='1.0'?><methodResponse><params><param><value><int>2</int></value></param></params></methodResponse>",
            "text/xml",
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/xmlrpc/2/object"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "text/xml"))
        .mount(&server)
        .await;
    let client = Client::builder(server.uri())
        .database("demo")
        .credentials(Credentials::password("admin", PASSWORD))
        .protocol(Protocol::XmlRpc)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .build()
        .unwrap();
    (server, client)
}

/// `depth` arrays around an int, closed or left open.
fn nested_arrays(depth: usize, closed: bool) -> String {
    let mut s = String::with_capacity(depth * 48);
    for _ in 0..depth {
        s.push_str("<array><data><value>");
    }
    s.push_str("<int>1</int>");
    if closed {
        for _ in 0..depth {
            s.push_str("</value></data></array>");
        }
    }
    s
}

fn xml_success(value: &str) -> Vec<u8> {
    format!(
        "<?xml version='1.0'?><methodResponse><params><param><value>{value}</value></param></params></methodResponse>"
    )
    .into_bytes()
}

/// A `search_read` row whose `name` holds `value`.
fn xml_row(value: &str) -> Vec<u8> {
    xml_success(&format!(
        "<array><data><value><struct><member><name>id</name><value><int>7</int></value></member>\
         <member><name>name</name><value>{value}</value></member></struct></value></data></array>"
    ))
}

fn assert_too_deep(err: &odoo_integration_client::Error, what: &str) {
    assert_eq!(err.kind(), ErrorKind::Protocol, "{what}: {err}");
    assert_eq!(
        protocol_kind(err),
        ProtocolErrorKind::TooDeep,
        "{what}: {err}"
    );
    assert!(
        err.to_string().contains("128"),
        "{what}: names the limit: {err}"
    );
    assert!(!err.is_retryable(), "{what}");
}

#[tokio::test]
async fn xmlrpc_values_nested_thousands_deep_are_refused_not_a_stack_overflow() {
    // About 40 KB of unclosed arrays: the body that aborted the process.
    let (_s, client) = xmlrpc_answering(xml_success(&nested_arrays(2_000, false))).await;
    let err = client
        .call("res.partner", "search_read")
        .send::<Value>()
        .await
        .unwrap_err();
    assert_too_deep(&err, "unclosed arrays");

    // Well-formed and closed, 2,000 deep, as a row field: a plain
    // search_read into untyped rows, and into a struct that skips the field.
    let (_s, client) = xmlrpc_answering(xml_row(&nested_arrays(2_000, true))).await;
    let err = client
        .model("res.partner")
        .search_read(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_too_deep(&err, "a row field");

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct OnlyId {
        id: i64,
    }
    impl odoo_integration_client::Model for OnlyId {
        const NAME: &'static str = "res.partner";
        const FIELDS: &'static [&'static str] = &["id"];
    }
    let err = client
        .typed::<OnlyId>()
        .search_read(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_too_deep(&err, "a skipped unknown field");

    // Structs nest the same way.
    let mut structs = String::new();
    for _ in 0..3_000 {
        structs.push_str("<struct><member><name>a</name><value>");
    }
    let (_s, client) = xmlrpc_answering(xml_success(&structs)).await;
    let err = client
        .call("res.partner", "search_read")
        .send::<Value>()
        .await
        .unwrap_err();
    assert_too_deep(&err, "structs");

    // Inside a fault, 4,000 deep.
    let fault = format!(
        "<?xml version='1.0'?><methodResponse><fault><value><struct><member><name>faultCode</name>\
         <value><int>1</int></value></member><member><name>faultString</name><value>{}</value>\
         </member></struct></value></fault></methodResponse>",
        nested_arrays(4_000, false)
    );
    let (_s, client) = xmlrpc_answering(fault.into_bytes()).await;
    let err = count(&client).await.unwrap_err();
    assert_too_deep(&err, "a fault");

    // 100 levels are fine: the limit does not refuse real data.
    let (_s, client) = xmlrpc_answering(xml_row(&nested_arrays(100, true))).await;
    let rows = client
        .model("res.partner")
        .search_read(Domain::all())
        .send()
        .await
        .unwrap();
    assert_eq!(rows[0]["id"], 7);
}

#[tokio::test]
async fn json_values_nested_thousands_deep_are_refused() {
    let deep = format!("{}1{}", "[".repeat(2_000), "]".repeat(2_000));
    let row = format!("[{{\"id\": 7, \"name\": {deep}}}]");
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(row, "application/json"))
        .mount(&server)
        .await;
    let client = json2_client(&server);
    let err = client
        .model("res.partner")
        .search_read(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::TooDeep, "{err}");
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_before_it_is_read() {
    let server = MockServer::start().await;
    let body = format!("[{}1]", "1, ".repeat(400_000)); // 1.2 MB of ids
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body.clone(), "application/json"))
        .mount(&server)
        .await;
    let client = json2(server.uri())
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .max_body_size(1024 * 1024)
        .build()
        .unwrap();
    let err = client
        .model("res.partner")
        .search(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::TooLarge, "{err}");
    assert!(err.to_string().contains("1048576"), "{err}");
    assert!(!err.is_retryable());

    // Under the limit it decodes.
    let roomy = json2(server.uri())
        .max_body_size(2 * 1024 * 1024)
        .build()
        .unwrap();
    let ids = roomy
        .model("res.partner")
        .search(Domain::all())
        .send()
        .await
        .unwrap();
    assert_eq!(ids.len(), 400_001);
}

/// A loopback server that answers every request with a chunked body (no
/// `Content-Length`) of `chunks` chunks of 64 KiB, and counts the chunks it
/// managed to write.
async fn chunked_server(chunks: usize) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let written = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = written.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let counter = counter.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let _ = socket.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
                if socket.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 64 * 1024];
                for _ in 0..chunks {
                    let frame = format!("{:x}\r\n", chunk.len());
                    if socket.write_all(frame.as_bytes()).await.is_err()
                        || socket.write_all(&chunk).await.is_err()
                        || socket.write_all(b"\r\n").await.is_err()
                    {
                        return;
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                let _ = socket.write_all(b"1\r\n1\r\n0\r\n\r\n").await;
            });
        }
    });
    (url, written)
}

#[tokio::test]
async fn a_streamed_body_over_the_limit_stops_being_read() {
    // 4,096 chunks of 64 KiB would be 256 MiB; the limit is 1 MiB.
    let (url, written) = chunked_server(4_096).await;
    let client = json2(url)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .max_body_size(1024 * 1024)
        .build()
        .unwrap();
    let err = count(&client).await.unwrap_err();
    assert_eq!(protocol_kind(&err), ProtocolErrorKind::TooLarge, "{err}");
    // The client hung up long before the end.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let sent = written.load(std::sync::atomic::Ordering::SeqCst);
    assert!(sent < 1_000, "the server wrote {sent} chunks of 64 KiB");

    // A streamed body within the limit is read whole.
    let (url, _) = chunked_server(2).await;
    let client = json2(url).build().unwrap();
    let n = count(&client).await.unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn a_retry_after_past_the_ceiling_fails_at_once_with_the_requested_wait() {
    for (header, secs) in [
        ("86400", 86_400u64),
        ("1000000000", 1_000_000_000),
        ("18446744073709551615", u64::MAX),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", header))
            .expect(1)
            .mount(&server)
            .await;
        let client = json2(server.uri()).build().unwrap();
        let started = std::time::Instant::now();
        let err = count(&client).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::RateLimited, "{header}: {err}");
        assert_eq!(
            err.retry_after(),
            Some(Duration::from_secs(secs)),
            "{header}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{header}: waited {:?}",
            started.elapsed()
        );
    }

    // Within the ceiling, the client waits and retries.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(Value::from(4)))
        .mount(&server)
        .await;
    let client = json2(server.uri())
        .retry_policy(
            odoo_integration_client::RetryPolicy::new().max_retry_after(Duration::from_secs(2)),
        )
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let n = count(&client).await.unwrap();
    assert_eq!(n, 4);
    assert!(started.elapsed() >= Duration::from_secs(1));
}

/// A broken proxy or debug handler that echoes the request body back
/// inside its error: the credential must not reach the error.
struct Echo(&'static str);

impl wiremock::Respond for Echo {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        match self.0 {
            "jsonrpc" => {
                if body.contains("\"version\"") {
                    return ResponseTemplate::new(200).set_body_json(
                        json!({"jsonrpc": "2.0", "id": 1, "result": {"server_version": "17.0"}}),
                    );
                }
                ResponseTemplate::new(200).set_body_json(json!({
                    "jsonrpc": "2.0", "id": 1,
                    "error": {"code": 200, "message": format!("Odoo Server Error: {body}"),
                        "data": {"name": "builtins.ValueError", "message": format!("cannot parse {body}"),
                            "arguments": [body.clone(), {"nested": [body.clone()]}],
                            "debug": format!("Traceback ... {body}")}}
                }))
            }
            "xmlrpc" => {
                let escaped = body
                    .replace('&', "&amp;")
                    .replace('<', "&lt;")
                    .replace('>', "&gt;");
                ResponseTemplate::new(200).set_body_raw(
                    format!(
                        "<?xml version='1.0'?><methodResponse><fault><value><struct>\
                         <member><name>faultCode</name><value><int>1</int></value></member>\
                         <member><name>faultString</name><value><string>Traceback\nValueError: {escaped}</string></value></member>\
                         </struct></value></fault></methodResponse>"
                    ),
                    "text/xml",
                )
            }
            // An HTML error page quoting the request it could not pass on.
            _ => ResponseTemplate::new(502).set_body_raw(
                format!("<html><head><title>502</title></head><body>upstream said no to {body}</body></html>"),
                "text/html",
            ),
        }
    }
}

#[tokio::test]
async fn a_server_that_echoes_the_request_never_puts_the_secret_in_an_error() {
    // Quotes, ampersands and angle brackets: the secret travels escaped in
    // JSON and in XML, and must be recognised in every form.
    const TRICKY: &str = "hunter2\"&<pw>-sentinel-0123";
    const KEY: &str = "sk-api-key-sentinel-0123456789";
    for (protocol, echo, credentials) in [
        (
            Protocol::JsonRpc,
            "jsonrpc",
            Credentials::password("admin", TRICKY),
        ),
        (
            Protocol::XmlRpc,
            "xmlrpc",
            Credentials::password("admin", TRICKY),
        ),
        (
            Protocol::JsonRpc,
            "html",
            Credentials::password("admin", TRICKY),
        ),
        (
            Protocol::XmlRpc,
            "html",
            Credentials::password("admin", TRICKY),
        ),
        (Protocol::Json2, "html", Credentials::api_key("admin", KEY)),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(Echo(echo))
            .mount(&server)
            .await;
        let client = Client::builder(server.uri())
            .database("demo")
            .credentials(credentials)
            .protocol(protocol)
            .retry_policy(odoo_integration_client::RetryPolicy::disabled())
            .build()
            .unwrap();
        let err = count(&client).await.unwrap_err();
        let shown = format!(
            "{err} / {err:?} / {:?}",
            err.server_error().map(|s| s.debug())
        );
        for form in [
            TRICKY,
            "hunter2\\\"&<pw>-sentinel-0123",
            "hunter2&quot;&amp;&lt;pw&gt;-sentinel-0123",
            "hunter2\"&amp;&lt;pw&gt;-sentinel-0123",
            "sentinel-0123",
            KEY,
        ] {
            assert!(
                !shown.contains(form),
                "{protocol}/{echo}: the error shows `{form}`: {shown}"
            );
        }
        assert!(
            shown.contains("[redacted]") || echo == "html",
            "{protocol}/{echo}: {shown}"
        );
    }
}
