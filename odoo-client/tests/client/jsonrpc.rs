//! JSON-RPC (`/jsonrpc`): recorded success paths replayed, the request the
//! client sends checked against the recorded one, and every recorded error
//! mapped to its kind.

use chrono::NaiveDate;
use odoo_integration_client::value::{Command, Many2One, falsy};
use odoo_integration_client::{Context, Domain, ErrorKind, Model};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer};

use crate::support::*;

#[derive(Debug, serde::Deserialize)]
struct Partner {
    id: i64,
    name: String,
    is_company: bool,
    #[serde(with = "falsy")]
    parent_id: Option<Many2One>,
    child_ids: Vec<i64>,
    #[serde(with = "falsy")]
    country_id: Option<Many2One>,
    #[serde(with = "falsy")]
    email: Option<String>,
    #[serde(with = "falsy")]
    street2: Option<String>,
}

impl Model for Partner {
    const NAME: &'static str = "res.partner";
    const FIELDS: &'static [&'static str] = &[
        "name",
        "is_company",
        "parent_id",
        "child_ids",
        "country_id",
        "email",
        "street2",
    ];
}

#[tokio::test]
async fn search_read_sends_the_recorded_request_and_decodes_rows() {
    let (_server, client, f) = jsonrpc_server("search_read_res_partner").await;
    let kwargs = &f.request["params"]["args"][6];
    let fields: Vec<String> = serde_json::from_value(kwargs["fields"].clone()).unwrap();
    let rows = client
        .model("res.partner")
        .search_read(Domain::all())
        .fields(fields)
        .order("id")
        .limit(50)
        .send()
        .await
        .unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["name"], "YourCompany");
    assert_eq!(rows[0]["street2"], Value::Bool(false));

    // The same rows decoded into a user's struct.
    let typed: Vec<Partner> = serde_json::from_value(f.response["result"].clone()).unwrap();
    assert_eq!(typed[0].country_id.as_ref().map(|c| c.id), Some(233));
    assert_eq!(typed[0].street2, None);
    assert_eq!(typed[0].email.as_deref(), rows[0]["email"].as_str());
}

#[tokio::test]
async fn typed_read_uses_the_model_fields() {
    let server = MockServer::start().await;
    mount_jsonrpc_login(&server, 1).await;
    let expected = json!({"service": "object", "method": "execute_kw", "args": [
        "demo", 2, "admin", "res.partner", "read", [[9, 15, 3]],
        {"fields": Partner::FIELDS}
    ]});
    let reply = fixture("jsonrpc", "read_res_partner").response;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcParams(expected))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "jsonrpc": "2.0", "id": 1,
            "result": reply["result"].as_array().unwrap().iter().map(|r| {
                let mut r = r.clone();
                r["email"] = json!(false);
                r["street2"] = json!(false);
                r
            }).collect::<Vec<_>>()
        })))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = jsonrpc_client(&server);
    let partners = client
        .typed::<Partner>()
        .read([9, 15, 3])
        .send()
        .await
        .unwrap();
    assert_eq!(partners.len(), 3);
    assert_eq!(partners[0].id, 9);
    assert_eq!(partners[0].name, "Acme Corporation");
    assert!(partners[0].is_company);
    assert!(partners[0].parent_id.is_none());
    assert!(!partners[0].child_ids.is_empty());
}

#[tokio::test]
async fn search_with_prefix_domain_offset_limit_order() {
    let (_server, client, f) = jsonrpc_server("search_res_partner").await;
    let domain = Domain::field("is_company").eq(true) | Domain::field("parent_id").is_not_set();
    let ids = client
        .model("res.partner")
        .search(domain)
        .offset(5)
        .limit(10)
        .order("name asc, id desc")
        .send()
        .await
        .unwrap();
    let expected: Vec<i64> = serde_json::from_value(f.response["result"].clone()).unwrap();
    assert_eq!(ids, expected);
}

#[tokio::test]
async fn search_count() {
    let (_server, client, _f) = jsonrpc_server("search_count_res_partner").await;
    let n = client
        .model("res.partner")
        .search_count(Domain::field("is_company").eq(true))
        .send()
        .await
        .unwrap();
    assert!(n > 0);
}

#[tokio::test]
async fn read_of_a_missing_id_is_empty_not_an_error() {
    let (_server, client, _f) = jsonrpc_server("read_missing_record").await;
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
async fn create_with_x2many_commands() {
    let (_server, client, _f) = jsonrpc_server("create_res_partner").await;
    let id = client
        .model("res.partner")
        .create(&json!({
            "name": "Fixture Client Ltd",
            "is_company": true,
            "email": "billing@fixture-client.example",
            "country_id": 233,
            "category_id": [Command::set([1])],
            "child_ids": [Command::create(json!({"name": "Jane Fixture", "email": "jane@fixture-client.example"}))],
            "comment": "<p>Created by the fixture recorder</p>",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(id, 76);
}

#[tokio::test]
async fn create_many_returns_ids_in_order() {
    let (_server, client, _f) = jsonrpc_server("create_multi_res_partner").await;
    let ids = client
        .model("res.partner")
        .create_many([
            json!({"name": "Fixture Batch A"}),
            json!({"name": "Fixture Batch B", "parent_id": 76}),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ids.len(), 2);
    assert!(ids[0] < ids[1]);
}

#[tokio::test]
async fn write_with_link_and_unlink_commands_and_false() {
    let (_server, client, _f) = jsonrpc_server("write_res_partner").await;
    #[derive(serde::Serialize)]
    struct Update {
        phone: &'static str,
        website: &'static str,
        // The recorder used Odoo's short forms [4, id] and [3, id].
        category_id: Value,
        #[serde(with = "falsy")]
        street2: Option<String>,
    }
    client
        .model("res.partner")
        .write(
            [76],
            &Update {
                phone: "+1 555 0100",
                website: "https://fixture-client.example",
                category_id: json!([[4, 2], [3, 1]]),
                street2: None,
            },
        )
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn unlink() {
    let (_server, client, _f) = jsonrpc_server("unlink_res_partner").await;
    client
        .model("res.partner")
        .unlink([78, 79])
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_method_returning_none_has_no_result_key() {
    let (_server, client, f) = jsonrpc_server("execute_kw_returns_none").await;
    assert!(f.response.get("result").is_none());
    client
        .call("res.partner", "action_archive")
        .ids([78])
        .send::<()>()
        .await
        .unwrap();
}

#[tokio::test]
async fn fields_get_with_attributes() {
    let (_server, client, _f) = jsonrpc_server("fields_get_res_partner_attributes").await;
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
            "store",
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(fields["country_id"].field_type, "many2one");
    assert_eq!(
        fields["country_id"].relation.as_deref(),
        Some("res.country")
    );
    assert_eq!(fields["name"].relation, None);
    assert!(fields["type"].other.contains_key("selection"));
}

#[tokio::test]
async fn name_search() {
    let (_server, client, _f) = jsonrpc_server("name_search_res_partner").await;
    let found = client
        .model("res.partner")
        .name_search("Gemini")
        .limit(5)
        .send()
        .await
        .unwrap();
    assert!(
        found.iter().any(|(_, name)| name.contains("Gemini")),
        "{found:?}"
    );
}

#[tokio::test]
async fn grouped_read_uses_formatted_read_group_on_19() {
    let (server, client, f) = jsonrpc_server("formatted_read_group_crm_lead").await;
    mount_jsonrpc_version(&server).await;
    let groups = client
        .model("crm.lead")
        .read_group(Domain::all())
        .group_by(["stage_id"])
        .aggregate(["expected_revenue:sum"])
        .send()
        .await
        .unwrap();
    assert_eq!(groups.len(), f.response["result"].as_array().unwrap().len());
    assert_eq!(groups[0].keys["stage_id"], json!([1, "New"]));
    assert_eq!(
        groups[0].aggregates["expected_revenue:sum"],
        json!(115475.0)
    );
    assert_eq!(groups[0].count, 13);
    assert_eq!(groups[0].domain, json!([["stage_id", "=", 1]]));
}

#[tokio::test]
async fn grouped_read_uses_read_group_before_19() {
    let server = MockServer::start().await;
    mount_jsonrpc_login(&server, 1).await;
    let mut version = fixture("jsonrpc", "common_version");
    version.response["result"]["server_version"] = json!("17.0");
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcService("common", "version"))
        .respond_with(version.template())
        .mount(&server)
        .await;
    // read_group(domain, fields, groupby, lazy=False): a row per group with
    // the aggregate under the field name and `__count`.
    let recorded = fixture("jsonrpc", "formatted_read_group_crm_lead");
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcParams(json!({"service": "object", "method": "execute_kw", "args": [
            "demo", 2, "admin", "crm.lead", "read_group",
            [[], ["expected_revenue:sum"], ["stage_id"]], {"lazy": false}
        ]})))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({
            "jsonrpc": "2.0", "id": 3, "result": [
                {"stage_id": [1, "New"], "__count": 13, "expected_revenue": 115475.0, "__domain": [["stage_id", "=", 1]]},
                {"stage_id": [4, "Won"], "__count": 3, "expected_revenue": 23800.0, "__domain": [["stage_id", "=", 4]]}
            ]
        })))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = jsonrpc_client(&server);
    let groups = client
        .model("crm.lead")
        .read_group(Domain::all())
        .group_by(["stage_id"])
        .aggregate(["expected_revenue:sum"])
        .send()
        .await
        .unwrap();
    // Same shape as on 19.
    let modern = &recorded.response["result"][0];
    assert_eq!(groups[0].keys["stage_id"], modern["stage_id"]);
    assert_eq!(
        groups[0].aggregates["expected_revenue:sum"],
        modern["expected_revenue:sum"]
    );
    assert_eq!(groups[0].count, 13);
    assert_eq!(groups[1].domain, json!([["stage_id", "=", 4]]));
}

#[tokio::test]
async fn call_context_is_sent_in_kwargs() {
    let (_server, client, _f) = jsonrpc_server("read_with_context").await;
    let rows = client
        .model("res.partner")
        .search_read(Domain::field("active").eq(false))
        .fields(["name", "active"])
        .limit(5)
        .order("id")
        .context(
            Context::new()
                .lang("en_US")
                .tz("Europe/Brussels")
                .active_test(false),
        )
        .send()
        .await
        .unwrap();
    assert!(rows.iter().all(|r| r["active"] == false));
}

#[tokio::test]
async fn client_default_context_is_merged_under_the_call_context() {
    let server = MockServer::start().await;
    mount_jsonrpc_login(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcParams(json!({"service": "object", "method": "execute_kw", "args": [
            "demo", 2, "admin", "res.partner", "search_count", [[]],
            {"context": {"lang": "fr_FR", "tz": "Europe/Brussels", "allowed_company_ids": [1, 2]}}
        ]})))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(json!({"jsonrpc": "2.0", "id": 1, "result": 7})))
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = odoo_integration_client::Client::builder(server.uri())
        .database("demo")
        .credentials(odoo_integration_client::Credentials::password(
            "admin", PASSWORD,
        ))
        .protocol(odoo_integration_client::Protocol::JsonRpc)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .context(
            Context::new()
                .lang("en_US")
                .tz("Europe/Brussels")
                .allowed_company_ids([1, 2]),
        )
        .build()
        .unwrap();
    let n = client
        .model("res.partner")
        .search_count(Domain::all())
        .context(Context::new().lang("fr_FR"))
        .send()
        .await
        .unwrap();
    assert_eq!(n, 7);
}

#[tokio::test]
async fn complex_domain_operators_serialise_as_recorded() {
    let (_server, client, f) = jsonrpc_server("search_domain_operators").await;
    let kwargs = &f.request["params"]["args"][6];
    let domain = (Domain::field("parent_id").child_of([9])
        | Domain::field("email").eq_ilike("%@example.com"))
        & !Domain::field("id").is_in([1, 2, 3]);
    let mut q = client.model("res.partner").search_read(domain);
    q = q.fields(serde_json::from_value::<Vec<String>>(kwargs["fields"].clone()).unwrap());
    if let Some(order) = kwargs.get("order").and_then(Value::as_str) {
        q = q.order(order);
    }
    if let Some(limit) = kwargs.get("limit").and_then(Value::as_u64) {
        q = q.limit(limit);
    }
    q.send().await.unwrap();
}

#[tokio::test]
async fn any_subdomain_serialises_as_recorded() {
    let (_server, client, _f) = jsonrpc_server("search_domain_any").await;
    let rows = client
        .model("res.partner")
        .search_read(Domain::field("category_id").any(Domain::field("name").ilike("Desk")))
        .fields(["name", "category_id"])
        .limit(10)
        .order("id")
        .send()
        .await
        .unwrap();
    assert!(!rows.is_empty());
}

#[tokio::test]
async fn timesheet_lines_decode_hours_and_amounts_as_decimals() {
    #[derive(Debug, serde::Deserialize)]
    struct TimesheetLine {
        date: NaiveDate,
        #[serde(with = "odoo_integration_client::value::monetary")]
        unit_amount: Decimal,
        #[serde(with = "odoo_integration_client::value::monetary")]
        amount: Decimal,
        #[serde(with = "falsy")]
        employee_id: Option<Many2One>,
        #[serde(with = "falsy")]
        project_id: Option<Many2One>,
    }
    let (_server, client, f) = jsonrpc_server("search_read_account_analytic_line").await;
    let kwargs = &f.request["params"]["args"][6];
    let mut q = client
        .model("account.analytic.line")
        .search_read(Domain::field("project_id").is_set())
        .fields(serde_json::from_value::<Vec<String>>(kwargs["fields"].clone()).unwrap())
        .into_typed::<TimesheetLine>();
    if let Some(order) = kwargs.get("order").and_then(Value::as_str) {
        q = q.order(order);
    }
    if let Some(limit) = kwargs.get("limit").and_then(Value::as_u64) {
        q = q.limit(limit);
    }
    let lines = q.send().await.unwrap();
    let raw = &f.response["result"];
    assert_eq!(lines.len(), raw.as_array().unwrap().len());
    for (line, raw) in lines.iter().zip(raw.as_array().unwrap()) {
        assert_eq!(line.date.to_string(), raw["date"].as_str().unwrap());
        // Exactly the decimal text on the wire, no float noise.
        let hours: Decimal = raw["unit_amount"].to_string().parse().unwrap();
        let amount: Decimal = raw["amount"].to_string().parse().unwrap();
        assert_eq!(line.unit_amount, hours);
        assert_eq!(line.amount, amount);
        assert_eq!(
            line.project_id.as_ref().map(|p| p.id),
            raw["project_id"][0].as_i64()
        );
        assert_eq!(
            line.employee_id.as_ref().map(|e| e.id),
            raw["employee_id"][0].as_i64()
        );
    }
}

#[tokio::test]
async fn server_version_is_read_once() {
    let server = MockServer::start().await;
    let f = fixture("jsonrpc", "common_version");
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcParams(f.params()))
        .respond_with(f.template())
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = jsonrpc_client(&server);
    for _ in 0..3 {
        let v = client.server_version().await.unwrap();
        assert_eq!((v.major(), v.as_str()), (19, "19.0"));
    }
}

#[tokio::test]
async fn exactly_one_login_when_many_tasks_start_at_once() {
    let server = MockServer::start().await;
    mount_jsonrpc_login(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcService("object", "execute_kw"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_json(json!({"jsonrpc": "2.0", "id": 1, "result": 3}))
                .set_delay(std::time::Duration::from_millis(20)),
        )
        .expect(32)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let client = jsonrpc_client(&server);
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move {
                c.model("res.partner")
                    .search_count(Domain::all())
                    .send()
                    .await
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), 3);
    }
    assert_eq!(client.uid().await.unwrap(), 2);
}

#[tokio::test]
async fn api_key_works_as_the_password() {
    let server = MockServer::start().await;
    let f = fixture("jsonrpc", "common_authenticate_api_key");
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .and(JsonRpcParams(f.params()))
        .respond_with(f.template())
        .expect(1)
        .mount(&server)
        .await;
    catch_all(&server).await;
    let key = f.params()["args"][2].as_str().unwrap().to_owned();
    let client = odoo_integration_client::Client::builder(server.uri())
        .database("demo")
        .credentials(odoo_integration_client::Credentials::api_key("admin", key))
        .protocol(odoo_integration_client::Protocol::JsonRpc)
        .retry_policy(odoo_integration_client::RetryPolicy::disabled())
        .build()
        .unwrap();
    assert_eq!(client.uid().await.unwrap(), 2);
}

#[tokio::test]
async fn a_refused_login_is_an_authentication_error() {
    let server = MockServer::start().await;
    let f = fixture("jsonrpc", "common_authenticate_wrong_password");
    Mock::given(method("POST"))
        .and(path("/jsonrpc"))
        .respond_with(f.template())
        .expect(1)
        .mount(&server)
        .await;
    let client = jsonrpc_client(&server);
    let err = client
        .model("res.partner")
        .search_count(Domain::all())
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(err.to_string().contains("admin"), "{err}");
}

/// Every recorded JSON-RPC error, answered to a model call, gives the right
/// kind, and keeps the exception name, message and traceback.
#[tokio::test]
async fn every_recorded_error_maps_to_its_kind() {
    let expected = [
        ("error_access", ErrorKind::Forbidden),
        ("error_access_field", ErrorKind::Forbidden),
        ("error_access_field_groups", ErrorKind::Forbidden),
        ("error_access_write", ErrorKind::Forbidden),
        ("error_common_unknown_method", ErrorKind::NotFound),
        ("error_invalid_domain_field", ErrorKind::InvalidRequest),
        ("error_invalid_domain_operator", ErrorKind::InvalidRequest),
        ("error_invalid_field", ErrorKind::InvalidRequest),
        ("error_invalid_json", ErrorKind::Protocol),
        ("error_missing_params", ErrorKind::InvalidRequest),
        ("error_missing_record", ErrorKind::MissingRecord),
        ("error_nonexistent_method", ErrorKind::NotFound),
        ("error_nonexistent_model", ErrorKind::NotFound),
        ("error_private_method", ErrorKind::Forbidden),
        ("error_route_not_found", ErrorKind::Protocol),
        ("error_unexpected_kwarg", ErrorKind::InvalidRequest),
        ("error_unknown_service", ErrorKind::InvalidRequest),
        ("error_user_error", ErrorKind::UserError),
        ("error_validation", ErrorKind::Invalid),
        ("error_validation_required_field", ErrorKind::Invalid),
        ("error_validation_sql_constraint", ErrorKind::Invalid),
        ("error_wrong_content_type", ErrorKind::Protocol),
        ("error_wrong_database", ErrorKind::Server),
        ("error_wrong_password", ErrorKind::Unauthorized),
        ("error_wrong_uid", ErrorKind::MissingRecord),
        ("web_dataset_call_kw_no_session", ErrorKind::Unauthorized),
    ];
    let names = fixture_names("jsonrpc", "error_");
    for name in &names {
        assert!(
            expected.iter().any(|(n, _)| n == name),
            "no expectation for fixture {name}"
        );
    }
    for (name, kind) in expected {
        let f = fixture("jsonrpc", name);
        let server = MockServer::start().await;
        mount_jsonrpc_login(&server, 1).await;
        Mock::given(method("POST"))
            .and(path("/jsonrpc"))
            .and(JsonRpcService("object", "execute_kw"))
            .respond_with(f.template())
            .mount(&server)
            .await;
        let client = jsonrpc_client(&server);
        let err = client
            .call("res.partner", "search")
            .named_arg("domain", json!([]))
            .send::<Value>()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), kind, "{name}: {err}");
        if let Some(data) = f.response.get("error").and_then(|e| e.get("data")) {
            let server_err = err
                .server_error()
                .unwrap_or_else(|| panic!("{name}: {err:?}"));
            assert_eq!(server_err.name(), data["name"].as_str().unwrap(), "{name}");
            assert_eq!(
                server_err.message(),
                data["message"].as_str().unwrap(),
                "{name}"
            );
            assert_eq!(
                server_err.arguments(),
                data["arguments"].as_array().unwrap().as_slice(),
                "{name}"
            );
            if let Some(tb) = data["debug"]
                .as_str()
                .filter(|d| d.starts_with("Traceback"))
            {
                assert_eq!(server_err.debug(), Some(tb), "{name}");
                assert!(!err.to_string().contains("Traceback"), "{name}: {err}");
            }
            assert_eq!(server_err.model(), Some("res.partner"));
        } else {
            assert_eq!(err.http_status(), Some(f.status), "{name}");
        }
    }
}

#[tokio::test]
async fn invoices_decode_selections_into_user_enums_and_amounts_exactly() {
    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum MoveType {
        OutInvoice,
        OutRefund,
        InInvoice,
    }
    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum PaymentState {
        NotPaid,
        InPayment,
        Paid,
        Partial,
        Reversed,
    }
    #[derive(Debug, serde::Deserialize)]
    struct Invoice {
        name: String,
        move_type: MoveType,
        state: String,
        payment_state: PaymentState,
        #[serde(with = "falsy")]
        invoice_date: Option<NaiveDate>,
        #[serde(with = "odoo_integration_client::value::monetary")]
        amount_total: Decimal,
        #[serde(with = "odoo_integration_client::value::monetary")]
        amount_tax: Decimal,
        #[serde(with = "falsy")]
        currency_id: Option<Many2One>,
    }
    let (_server, client, f) = jsonrpc_server("search_read_account_move").await;
    let kwargs = &f.request["params"]["args"][6];
    let invoices = client
        .model("account.move")
        .search_read(Domain::field("move_type").is_in(["out_invoice", "out_refund", "in_invoice"]))
        .fields(serde_json::from_value::<Vec<String>>(kwargs["fields"].clone()).unwrap())
        .order("id")
        .limit(30)
        .into_typed::<Invoice>()
        .send()
        .await
        .unwrap();
    let raw = f.response["result"].as_array().unwrap();
    assert_eq!(invoices.len(), raw.len());
    assert_eq!(invoices[0].move_type, MoveType::OutInvoice);
    assert_eq!(invoices[0].payment_state, PaymentState::NotPaid);
    assert_eq!(invoices[0].state, "posted");
    assert_eq!(invoices[1].name, raw[1]["name"].as_str().unwrap());
    // 46250.0 on the wire is exactly 46250; 4500.0 exactly 4500.
    assert_eq!(
        invoices[1].amount_total,
        raw[1]["amount_total"]
            .to_string()
            .parse::<Decimal>()
            .unwrap()
    );
    assert_eq!(
        invoices[1].amount_tax,
        raw[1]["amount_tax"].to_string().parse::<Decimal>().unwrap()
    );
    assert_eq!(
        invoices[1].invoice_date.map(|d| d.to_string()).as_deref(),
        raw[1]["invoice_date"].as_str()
    );
    assert_eq!(
        invoices[1]
            .currency_id
            .as_ref()
            .and_then(|c| c.name.as_deref()),
        Some("USD")
    );
}
