//! JSON-2 (`/json/2/<model>/<method>`, Odoo 19+): bearer key, database
//! header, named arguments, HTTP status codes.

use odoo_integration_client::{Context, Domain, ErrorKind};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer};

use crate::support::*;

#[tokio::test]
async fn search_read_with_bearer_key_and_database_header() {
    let (_server, client, f) = json2_server("search_read").await;
    let fields: Vec<String> = serde_json::from_value(f.request["fields"].clone()).unwrap();
    let rows = client
        .model("res.partner")
        .search_read(Domain::field("is_company").eq(true))
        .fields(fields)
        .limit(10)
        .order("id")
        .send()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["country_id"], json!([233, "United States"]));
}

#[tokio::test]
async fn search_and_count() {
    let (_server, client, _f) = json2_server("search").await;
    let ids = client
        .model("res.partner")
        .search(Domain::field("is_company").eq(true))
        .limit(5)
        .order("id")
        .send()
        .await
        .unwrap();
    assert_eq!(ids.len(), 5);
    let (_server, client, f) = json2_server("search_count").await;
    let n = client
        .model("res.partner")
        .search_count(Domain::all())
        .send()
        .await
        .unwrap();
    assert_eq!(json!(n), f.response);
}

#[tokio::test]
async fn read_and_missing_read() {
    let (_server, client, _f) = json2_server("read").await;
    let rows = client
        .model("res.partner")
        .read([9, 15])
        .fields(["name", "child_ids", "country_id", "image_128"])
        .send()
        .await
        .unwrap();
    assert_eq!(rows[0]["name"], "Acme Corporation");
    let (_server, client, _f) = json2_server("read_missing_record").await;
    let rows = client
        .model("res.partner")
        .read([999999])
        .fields(["name"])
        .send()
        .await
        .unwrap();
    assert!(rows.is_empty());
}

#[tokio::test]
async fn create_sends_vals_list_and_returns_the_id() {
    let (_server, client, _f) = json2_server("create").await;
    let id = client
        .model("res.partner")
        .create(&json!({
            "name": "JSON-2 Fixture Partner",
            "email": "json2@fixture.example",
            "category_id": [odoo_integration_client::value::Command::set([1])],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(id, 82);
    let (_server, client, f) = json2_server("create_multi").await;
    let ids = client
        .model("res.partner")
        .create_many([
            json!({"name": "JSON-2 Batch A"}),
            json!({"name": "JSON-2 Batch B", "parent_id": 82}),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(json!(ids), f.response);
}

#[tokio::test]
async fn write_unlink_and_a_method_returning_null() {
    let (_server, client, _f) = json2_server("write").await;
    client
        .model("res.partner")
        // The recorder used Odoo's short form [4, id] of the link command.
        .write(
            [82],
            &json!({"phone": "+1 555 0123", "category_id": [[4, 2]]}),
        )
        .send()
        .await
        .unwrap();
    let (_server, client, _f) = json2_server("unlink").await;
    client
        .model("res.partner")
        .unlink([83, 84, 82])
        .send()
        .await
        .unwrap();
    let (_server, client, f) = json2_server("method_returns_none").await;
    assert_eq!(f.response, Value::Null);
    client
        .call("res.partner", "action_archive")
        .ids([83])
        .send::<()>()
        .await
        .unwrap();
}

#[tokio::test]
async fn fields_get_name_search_and_grouped_read() {
    let (_server, client, _f) = json2_server("fields_get").await;
    let fields = client
        .model("res.partner")
        .fields_get()
        .attributes([
            "string",
            "type",
            "required",
            "readonly",
            "relation",
            "selection",
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(fields["category_id"].field_type, "many2many");

    let (_server, client, _f) = json2_server("name_search").await;
    let found = client
        .model("res.partner")
        .name_search("Deco")
        .limit(5)
        .send()
        .await
        .unwrap();
    assert!(found.is_empty());

    let (_server, client, f) = json2_server("formatted_read_group").await;
    let groups = client
        .model("crm.lead")
        .read_group(Domain::all())
        .group_by(["stage_id"])
        .aggregate(["expected_revenue:sum"])
        .send()
        .await
        .unwrap();
    let recorded: u64 = f
        .response
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["__count"].as_u64().unwrap())
        .sum();
    assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), recorded);
    assert_eq!(groups[0].keys["stage_id"], json!([1, "New"]));
}

#[tokio::test]
async fn context_goes_in_the_body() {
    let (_server, client, _f) = json2_server("with_context").await;
    client
        .model("res.partner")
        .search_read(Domain::field("active").eq(false))
        .fields(["name", "active"])
        .limit(5)
        .context(
            Context::new()
                .lang("en_US")
                .tz("Europe/Brussels")
                .active_test(false),
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn uid_comes_from_context_get() {
    let (_server, client, f) = json2_server("context_get").await;
    assert_eq!(json!(client.uid().await.unwrap()), f.response["uid"]);
}

#[tokio::test]
async fn auto_picks_json2_on_19_with_an_api_key() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/web/version"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(
                json!({"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}),
            ),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/json/2/res.partner/search_count"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!(12)))
        .expect(2)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = odoo_integration_client::Client::builder(server.uri())
        .database("demo")
        .credentials(odoo_integration_client::Credentials::api_key(
            "admin", API_KEY,
        ))
        .build()
        .unwrap();
    for _ in 0..2 {
        assert_eq!(
            client
                .model("res.partner")
                .search_count(Domain::all())
                .send()
                .await
                .unwrap(),
            12
        );
    }
    assert_eq!(
        client.protocol().await.unwrap(),
        odoo_integration_client::Protocol::Json2
    );
}

#[tokio::test]
async fn auto_falls_back_to_jsonrpc_before_19_or_with_a_password() {
    // Odoo 16: no /web/version, JSON-RPC common.version answers 16.0.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/web/version"))
        .respond_with(
            wiremock::ResponseTemplate::new(404).set_body_raw("<html>nope</html>", "text/html"),
        )
        .mount(&server)
        .await;
    let mut version = fixture("jsonrpc", "common_version");
    version.response["result"]["server_version"] = json!("16.0");
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcService("common", "version"))
        .respond_with(version.template())
        .expect(1)
        .mount(&server)
        .await;
    let client = odoo_integration_client::Client::builder(server.uri())
        .database("demo")
        .credentials(odoo_integration_client::Credentials::api_key(
            "admin", API_KEY,
        ))
        .build()
        .unwrap();
    assert_eq!(
        client.protocol().await.unwrap(),
        odoo_integration_client::Protocol::JsonRpc
    );
    assert_eq!(client.server_version().await.unwrap().major(), 16);

    // Odoo 19 with a password: JSON-RPC.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/web/version"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_json(
                json!({"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}),
            ),
        )
        .mount(&server)
        .await;
    let client = odoo_integration_client::Client::builder(server.uri())
        .database("demo")
        .credentials(odoo_integration_client::Credentials::password(
            "admin", PASSWORD,
        ))
        .build()
        .unwrap();
    assert_eq!(
        client.protocol().await.unwrap(),
        odoo_integration_client::Protocol::JsonRpc
    );
}

/// Every recorded JSON-2 error gives the right kind and keeps what the
/// server said.
#[tokio::test]
async fn every_recorded_error_maps_to_its_kind() {
    let expected = [
        ("error_access", ErrorKind::Forbidden),
        ("error_body_not_object", ErrorKind::InvalidRequest),
        (
            "error_cookie_and_database_header_conflict",
            ErrorKind::Forbidden,
        ),
        ("error_get_method", ErrorKind::NotFound),
        ("error_ids_on_model_method", ErrorKind::InvalidRequest),
        ("error_invalid_api_key", ErrorKind::Unauthorized),
        ("error_invalid_domain", ErrorKind::InvalidRequest),
        ("error_invalid_field", ErrorKind::InvalidRequest),
        ("error_malformed_json", ErrorKind::InvalidRequest),
        ("error_missing_argument", ErrorKind::InvalidRequest),
        ("error_missing_authorization", ErrorKind::Unauthorized),
        ("error_missing_record", ErrorKind::MissingRecord),
        ("error_nonexistent_method", ErrorKind::NotFound),
        ("error_nonexistent_model", ErrorKind::NotFound),
        ("error_private_method", ErrorKind::Forbidden),
        ("error_root", ErrorKind::NotFound),
        (
            "error_session_cookie_without_bearer",
            ErrorKind::Unauthorized,
        ),
        ("error_unexpected_argument", ErrorKind::InvalidRequest),
        ("error_user_error", ErrorKind::UserError),
        ("error_validation", ErrorKind::Invalid),
        ("error_validation_sql_constraint", ErrorKind::Invalid),
        ("error_wrong_database", ErrorKind::NotFound),
    ];
    for name in fixture_names("json2", "error_") {
        assert!(
            expected.iter().any(|(n, _)| *n == name),
            "no expectation for fixture {name}"
        );
    }
    for (name, kind) in expected {
        let f = fixture("json2", name);
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path_regex("^/json/2/.*"))
            .respond_with(f.template())
            .mount(&server)
            .await;
        let client = json2_client(&server);
        let err = client
            .call("res.partner", "search")
            .named_arg("domain", json!([]))
            .send::<Value>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
        assert_eq!(err.http_status(), Some(f.status), "{name}");
        if let Some(exc) = f.response.as_object().filter(|o| o.contains_key("name")) {
            let server_err = err
                .server_error()
                .unwrap_or_else(|| panic!("{name}: {err:?}"));
            assert_eq!(server_err.name(), exc["name"].as_str().unwrap(), "{name}");
            assert_eq!(
                server_err.message(),
                exc["message"].as_str().unwrap(),
                "{name}"
            );
            assert!(!err.to_string().contains("Traceback"), "{name}: {err}");
        }
    }
}
