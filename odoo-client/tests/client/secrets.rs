//! Secrets never appear in Debug, Display, errors or tracing output.

use std::io::Write;
use std::sync::{Arc, Mutex};

use odoo_integration_client::{Client, Credentials, Domain, Protocol};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::support::*;

const SECRET_PASSWORD: &str = "hunter2-password-sentinel";
const SECRET_KEY: &str = "sk-api-key-sentinel-0123456789";

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn assert_clean(what: &str, text: &str) {
    assert!(
        !text.contains(SECRET_PASSWORD),
        "{what} leaks the password: {text}"
    );
    assert!(
        !text.contains(SECRET_KEY),
        "{what} leaks the API key: {text}"
    );
}

#[tokio::test]
async fn no_secret_in_debug_display_errors_or_traces() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let mut shown = Vec::new();
    let pw = Credentials::password("admin", SECRET_PASSWORD);
    let key = Credentials::api_key("admin", SECRET_KEY);
    shown.push(("password credentials", format!("{pw:?}")));
    shown.push(("api key credentials", format!("{key:?}")));

    // JSON-RPC with a password: a refused login, then a server error.
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(fixture("jsonrpc", "common_authenticate_wrong_password").template())
        .mount(&server)
        .await;
    let builder = Client::builder(server.uri())
        .database("demo")
        .credentials(pw.clone())
        .protocol(Protocol::JsonRpc);
    shown.push(("builder", format!("{builder:?}")));
    let client = builder.build().unwrap();
    let err = client
        .model("res.partner")
        .search_count(Domain::all())
        .send()
        .await
        .unwrap_err();
    shown.push(("auth error display", err.to_string()));
    shown.push(("auth error debug", format!("{err:?}")));
    shown.push(("client", format!("{client:?}")));

    let server = MockServer::start().await;
    mount_xmlrpc_access_denied(&server).await;
    let client = Client::builder(server.uri())
        .database("demo")
        .credentials(pw.clone())
        .protocol(Protocol::XmlRpc)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .build()
        .unwrap();
    let err = client
        .model("res.partner")
        .search_count(Domain::all())
        .send()
        .await
        .unwrap_err();
    shown.push(("xmlrpc error display", err.to_string()));
    shown.push(("xmlrpc error debug", format!("{err:?}")));

    // JSON-2 with a key: 401, a 502 page, a decode error, a success.
    for reply in [
        fixture("json2", "error_invalid_api_key").template(),
        ResponseTemplate::new(502).set_body_raw("<html><title>502</title></html>", "text/html"),
        ResponseTemplate::new(200).set_body_json(json!("not a number")),
        ResponseTemplate::new(200).set_body_json(json!(3)),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(reply)
            .mount(&server)
            .await;
        let client = Client::builder(server.uri())
            .database("demo")
            .credentials(key.clone())
            .protocol(Protocol::Json2)
            .retry_policy(odoo_integration_client::RetryPolicy::disabled())
            .build()
            .unwrap();
        match client
            .model("res.partner")
            .search_count(Domain::all())
            .send()
            .await
        {
            Ok(n) => assert_eq!(n, 3),
            Err(err) => {
                shown.push(("json2 error display", err.to_string()));
                shown.push(("json2 error debug", format!("{err:?}")));
            }
        }
        shown.push(("json2 client", format!("{client:?}")));
    }

    // A configuration error that involves the password.
    let err = Client::builder("http://127.0.0.1:9")
        .credentials(pw)
        .protocol(Protocol::Json2)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .build()
        .unwrap_err();
    shown.push(("config error", format!("{err} {err:?}")));

    for (what, text) in &shown {
        assert_clean(what, text);
    }
    drop(_guard);
    let traces = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert_clean("tracing output", &traces);
    // The spans are there, with what they promise.
    assert!(traces.contains("odoo.call"), "{traces}");
    assert!(traces.contains("model=res.partner"), "{traces}");
    assert!(traces.contains("method=search_count"), "{traces}");
    assert!(traces.contains("protocol=json2"), "{traces}");
    assert!(traces.contains("outcome=ok"), "{traces}");
    assert!(traces.contains("duration_ms="), "{traces}");
}

/// XML-RPC: login accepted, then every call refused with fault 3.
async fn mount_xmlrpc_access_denied(server: &MockServer) {
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/xmlrpc/2/common"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><int>2</int></value>\n</param>\n</params>\n</methodResponse>\n",
            "text/xml",
        ))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(wiremock::matchers::path("/xmlrpc/2/object"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "<?xml version='1.0'?>\n<methodResponse>\n<fault>\n<value><struct>\n<member>\n<name>faultCode</name>\n<value><int>3</int></value>\n</member>\n<member>\n<name>faultString</name>\n<value><string>Access Denied</string></value>\n</member>\n</struct></value>\n</fault>\n</methodResponse>\n",
            "text/xml",
        ))
        .mount(server)
        .await;
}
