//! XML-RPC wire tests against wiremock, replaying the recorded exchanges in
//! `tests/fixtures/xmlrpc-http/`. They live inside the crate so that the
//! request the client sends can be compared value by value with the recorded
//! one through the codec (member order and whitespace do not matter; values
//! and types do).
#![allow(clippy::unwrap_used)]

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

use crate::xmlrpc::{XmlRpcValue, decode_call};
use crate::{Client, Credentials, Domain, ErrorKind, Protocol, ProtocolErrorKind};

#[derive(serde::Deserialize)]
struct Exchange {
    endpoint: String,
    status: u16,
    request: String,
    response: String,
}

fn exchange(name: &str) -> Exchange {
    let file = format!(
        "{}/tests/fixtures/xmlrpc-http/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

/// Sorts struct members and gives `execute_kw` its optional kwargs struct,
/// so that two calls compare by meaning.
fn normalise(method: &str, mut params: Vec<XmlRpcValue>) -> (String, Vec<XmlRpcValue>) {
    fn sort(v: &mut XmlRpcValue) {
        match v {
            XmlRpcValue::Struct(members) => {
                members.sort_by(|a, b| a.0.cmp(&b.0));
                members.iter_mut().for_each(|(_, v)| sort(v));
            }
            XmlRpcValue::Array(items) => items.iter_mut().for_each(sort),
            _ => {}
        }
    }
    if method == "execute_kw" && params.len() == 6 {
        params.push(XmlRpcValue::Struct(Vec::new()));
    }
    params.iter_mut().for_each(sort);
    (method.to_owned(), params)
}

struct SameCall(String, Vec<XmlRpcValue>);

impl SameCall {
    fn of(xml: &str) -> Self {
        let (m, p) = decode_call(xml.as_bytes()).unwrap();
        let (m, p) = normalise(&m, p);
        SameCall(m, p)
    }
}

impl Match for SameCall {
    fn matches(&self, request: &Request) -> bool {
        match decode_call(&request.body) {
            Ok((m, p)) => normalise(&m, p) == (self.0.clone(), self.1.clone()),
            Err(_) => false,
        }
    }
}

async fn catch_all(server: &MockServer) {
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(599))
        .with_priority(u8::MAX)
        .expect(0)
        .named("catch-all: unexpected request")
        .mount(server)
        .await;
}

fn reply(x: &Exchange) -> ResponseTemplate {
    ResponseTemplate::new(x.status).set_body_raw(x.response.clone(), "text/xml")
}

/// A server answering the recorded login and expecting exactly the recorded
/// request of `name`.
async fn server_for(name: &str) -> (MockServer, Client) {
    let server = MockServer::start().await;
    let login = exchange("common_authenticate");
    Mock::given(method("POST"))
        .and(path("/xmlrpc/2/common"))
        .and(SameCall::of(&login.request))
        .respond_with(reply(&login))
        .expect(1)
        .mount(&server)
        .await;
    let x = exchange(name);
    Mock::given(method("POST"))
        .and(path(x.endpoint.as_str()))
        .and(SameCall::of(&x.request))
        .respond_with(reply(&x))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = client(&server);
    (server, client)
}

fn client(server: &MockServer) -> Client {
    Client::builder(server.uri())
        .database("demo")
        .credentials(Credentials::password("admin", "admin"))
        .protocol(Protocol::XmlRpc)
        .build()
        .unwrap()
}

#[tokio::test]
async fn version_needs_no_login() {
    let server = MockServer::start().await;
    let x = exchange("common_version");
    Mock::given(method("POST"))
        .and(path("/xmlrpc/2/common"))
        .and(SameCall::of(&x.request))
        .respond_with(reply(&x))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let v = client(&server).server_version().await.unwrap();
    assert_eq!(v.as_str(), "19.0");
}

#[tokio::test]
async fn search_read_decodes_false_many2one_and_doubles() {
    let (_s, client) = server_for("execute_kw_search_read").await;
    let rows = client
        .model("res.partner")
        .search_read(Domain::field("id").is_in([1, 3, 9, 11, 15, 26, 27, 40]))
        .fields([
            "name",
            "is_company",
            "parent_id",
            "child_ids",
            "category_id",
            "country_id",
            "email",
            "phone",
            "street2",
            "lang",
            "tz",
            "credit_limit",
            "partner_latitude",
            "total_invoiced",
            "activity_date_deadline",
            "create_date",
            "active",
            "comment",
        ])
        .order("id")
        .send()
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["name"], "YourCompany");
    assert_eq!(rows[0]["parent_id"], json!(false));
    assert_eq!(rows[0]["country_id"], json!([233, "United States"]));
    assert_eq!(rows[0]["child_ids"], json!([40, 41]));
    assert_eq!(rows[0]["credit_limit"], json!(0.0));
    assert_eq!(rows[0]["create_date"], json!("2026-11-23 08:03:29"));
}

#[tokio::test]
async fn search_count_read_and_fields_get() {
    let (_s, client) = server_for("execute_kw_search").await;
    let ids = client
        .model("res.partner")
        .search(Domain::field("is_company").eq(true))
        .limit(5)
        .order("id")
        .send()
        .await
        .unwrap();
    assert_eq!(ids.len(), 5);

    let (_s, client) = server_for("execute_kw_search_count").await;
    assert!(
        client
            .model("res.partner")
            .search_count(Domain::all())
            .send()
            .await
            .unwrap()
            > 0
    );

    let (_s, client) = server_for("execute_kw_read").await;
    let rows = client
        .model("res.partner")
        .read([9])
        .fields(["name", "child_ids", "country_id", "write_date"])
        .send()
        .await
        .unwrap();
    assert_eq!(rows[0]["id"], 9);

    let (_s, client) = server_for("execute_kw_fields_get").await;
    let fields = client
        .model("res.partner")
        .fields_get()
        .attributes(["string", "type", "relation", "required"])
        .send()
        .await
        .unwrap();
    assert_eq!(
        fields["country_id"].relation.as_deref(),
        Some("res.country")
    );
}

#[tokio::test]
async fn binary_fields_arrive_as_base64_strings() {
    let (_s, client) = server_for("execute_kw_binary").await;
    #[derive(serde::Deserialize)]
    struct WithImage {
        #[serde(with = "crate::value::binary::option")]
        image_128: Option<Vec<u8>>,
    }
    let rows = client
        .typed_rows::<WithImage>("res.partner", [3], &["name", "image_128"])
        .await;
    let image = rows[0].image_128.as_ref().unwrap();
    assert!(
        image.starts_with(b"\x89PNG") || image.starts_with(b"<svg") || image.starts_with(b"<?xml")
    );
}

impl Client {
    async fn typed_rows<T: serde::de::DeserializeOwned>(
        &self,
        model: &str,
        ids: impl IntoIterator<Item = i64>,
        fields: &[&str],
    ) -> Vec<T> {
        self.model(model)
            .read(ids)
            .fields(fields.iter().copied())
            .into_typed::<T>()
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn create_write_unlink() {
    let (_s, client) = server_for("execute_kw_create").await;
    let id = client
        .model("res.partner")
        .create(&json!({
            "name": "XML-RPC Fixture Partner",
            "email": "xmlrpc@fixture.example",
            "category_id": [crate::value::Command::set([1, 2])],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(id, 81);
    let (_s, client) = server_for("execute_kw_write").await;
    client
        .model("res.partner")
        .write([81], &json!({"phone": "+1 555 0199", "street2": false}))
        .send()
        .await
        .unwrap();
    let (_s, client) = server_for("execute_kw_unlink").await;
    client
        .model("res.partner")
        .unlink([81])
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_null_argument_is_sent_as_nil() {
    let (_s, client) = server_for("execute_kw_nil_param").await;
    let ids: Vec<i64> = client
        .call("res.partner", "search")
        .named_arg("domain", Domain::field("is_company").eq(true).to_json())
        .kwarg("limit", Value::Null)
        .kwarg("order", "id")
        .send()
        .await
        .unwrap();
    assert!(!ids.is_empty());
}

#[tokio::test]
async fn a_method_returning_none_succeeds_despite_the_marshalling_fault() {
    let (_s, client) = server_for("fault_cannot_marshal_none").await;
    client
        .call("res.partner", "action_archive")
        .ids([81])
        .send::<()>()
        .await
        .unwrap();
}

#[tokio::test]
async fn every_recorded_fault_maps_to_its_kind() {
    let cases = [
        (
            "fault_access_denied",
            ErrorKind::Unauthorized,
            "odoo.exceptions.AccessDenied",
        ),
        (
            "fault_access_error",
            ErrorKind::Forbidden,
            "odoo.exceptions.AccessError",
        ),
        (
            "fault_invalid_field",
            ErrorKind::InvalidRequest,
            "builtins.ValueError",
        ),
        (
            "fault_malformed_request",
            ErrorKind::Server,
            "xml.parsers.expat.ExpatError",
        ),
        (
            "fault_missing_record",
            ErrorKind::MissingRecord,
            "odoo.exceptions.MissingError",
        ),
        (
            "fault_nonexistent_method",
            ErrorKind::NotFound,
            "builtins.AttributeError",
        ),
        (
            "fault_nonexistent_model",
            ErrorKind::NotFound,
            "odoo.exceptions.UserError",
        ),
        (
            "fault_private_method",
            ErrorKind::Forbidden,
            "odoo.exceptions.AccessError",
        ),
        (
            "fault_user_error",
            ErrorKind::UserError,
            "odoo.exceptions.UserError",
        ),
        (
            "fault_validation",
            ErrorKind::UserError,
            "odoo.exceptions.UserError",
        ),
        (
            "fault_wrong_database",
            ErrorKind::Server,
            "psycopg2.OperationalError",
        ),
        (
            "legacy_fault_access_denied",
            ErrorKind::Unauthorized,
            "odoo.exceptions.AccessDenied",
        ),
        (
            "legacy_fault_string_code",
            ErrorKind::UserError,
            "odoo.exceptions.UserError",
        ),
    ];
    for (name, kind, exception) in cases {
        let x = exchange(name);
        let server = MockServer::start().await;
        let login = exchange("common_authenticate");
        Mock::given(method("POST"))
            .and(path("/xmlrpc/2/common"))
            .respond_with(reply(&login))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/xmlrpc/2/object"))
            .respond_with(reply(&x))
            .mount(&server)
            .await;
        let err = client(&server)
            .call("res.partner", "search")
            .named_arg("domain", json!([]))
            .send::<Value>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
        let server_err = err.server_error().unwrap();
        assert_eq!(server_err.name(), exception, "{name}");
        assert!(!server_err.message().is_empty(), "{name}");
        assert!(!err.to_string().contains("Traceback"), "{name}: {err}");
        if x.response.contains("Traceback") {
            assert!(
                server_err.debug().unwrap().starts_with("Traceback"),
                "{name}"
            );
        }
    }
}

#[tokio::test]
async fn broken_xml_replies_are_protocol_errors() {
    let ok = exchange("execute_kw_search").response;
    let cases = [
        (
            ResponseTemplate::new(502)
                .set_body_raw("<html><title>502 Bad Gateway</title></html>", "text/html"),
            ProtocolErrorKind::Html,
        ),
        (
            ResponseTemplate::new(200).set_body_raw(
                "<!DOCTYPE html><html><title>Odoo</title></html>",
                "text/html",
            ),
            ProtocolErrorKind::Html,
        ),
        (
            ResponseTemplate::new(200).set_body_raw(ok[..ok.len() / 2].to_owned(), "text/xml"),
            ProtocolErrorKind::Truncated,
        ),
        (
            ResponseTemplate::new(200).set_body_raw("", "text/xml"),
            ProtocolErrorKind::Empty,
        ),
    ];
    for (template, kind) in cases {
        let server = MockServer::start().await;
        let login = exchange("common_authenticate");
        Mock::given(method("POST"))
            .and(path("/xmlrpc/2/common"))
            .respond_with(reply(&login))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/xmlrpc/2/object"))
            .respond_with(template)
            .mount(&server)
            .await;
        let err = client(&server)
            .model("res.partner")
            .search(Domain::all())
            .send()
            .await
            .unwrap_err();
        match err.protocol_error() {
            Some(p) => assert_eq!(p.kind(), kind, "{err}"),
            None => panic!("expected {kind:?}, got {err:?}"),
        }
    }
}

#[tokio::test]
async fn a_refused_login_is_an_authentication_error() {
    let server = MockServer::start().await;
    let x = exchange("common_login_wrong_password");
    Mock::given(method("POST"))
        .and(path("/xmlrpc/2/common"))
        .respond_with(reply(&x))
        .mount(&server)
        .await;
    let err = client(&server).uid().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}
