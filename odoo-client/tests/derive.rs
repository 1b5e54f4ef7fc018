//! `#[derive(Model)]`: the names and fields it writes, checked against what
//! serde reads, and a derived struct read through the test server.
#![allow(clippy::unwrap_used, missing_docs, dead_code)]

use odoo_integration_client::Model;
use odoo_integration_client::value::{Many2One, falsy};
use serde::Deserialize;
use serde_json::{Map, Value, json};

#[derive(Debug, Deserialize, Model)]
#[odoo(model = "res.partner")]
struct Partner {
    id: i64,
    name: String,
    #[serde(with = "falsy")]
    email: Option<String>,
    #[serde(rename = "country_id", with = "falsy")]
    country: Option<Many2One>,
    #[serde(skip)]
    selected: bool,
    #[serde(skip_deserializing)]
    score: u32,
    #[serde(rename(serialize = "out", deserialize = "is_company"))]
    company: bool,
    #[serde(rename(serialize = "street_out"), with = "falsy")]
    street: Option<String>,
    /// Filled in by the program after reading, not by Odoo.
    #[odoo(skip)]
    #[serde(default)]
    label: String,
    #[serde(with = "falsy")]
    r#ref: Option<String>,
}

#[test]
fn name_and_fields_follow_the_struct_in_order() {
    assert_eq!(Partner::NAME, "res.partner");
    assert_eq!(
        Partner::FIELDS,
        ["name", "email", "country_id", "is_company", "street", "ref"]
    );
}

#[derive(Debug, Deserialize, Model)]
#[odoo(model = "res.partner")]
struct OnlyId {
    id: i64,
}

#[derive(Debug, Deserialize, Model)]
#[odoo(model = "res.partner")]
struct Nothing {}

#[derive(Debug, Deserialize, Model)]
#[odoo(model = "res.partner")]
struct RenamedId {
    #[serde(rename = "id")]
    key: i64,
    name: String,
}

#[test]
fn id_is_left_out_but_the_list_is_never_empty() {
    // Odoo returns `id` with every record; an empty list would read every
    // field, so a struct that reads nothing else asks for `id` alone.
    assert_eq!(OnlyId::FIELDS, ["id"]);
    assert_eq!(Nothing::FIELDS, ["id"]);
    assert_eq!(RenamedId::FIELDS, ["name"]);
}

#[derive(Debug, Deserialize, Model)]
#[odoo(model = "x_fleet.vehicle")]
struct Row<T> {
    id: i64,
    value: T,
}

fn fields_of<M: Model>() -> &'static [&'static str] {
    M::FIELDS
}

#[test]
fn generic_structs_are_models_for_every_readable_parameter() {
    assert_eq!(fields_of::<Row<String>>(), ["value"]);
    assert_eq!(<Row<Vec<i64>> as Model>::NAME, "x_fleet.vehicle");
}

#[test]
fn the_crate_path_can_be_given() {
    #[derive(Debug, Deserialize, Model)]
    #[odoo(model = "res.users", crate = "::odoo_integration_client")]
    struct Absolute {
        login: String,
    }
    #[derive(Debug, Deserialize, Model)]
    #[odoo(crate = "odoo_integration_client", model = "res.users")]
    struct Relative {
        login: String,
    }
    assert_eq!(Absolute::FIELDS, ["login"]);
    assert_eq!(Relative::NAME, "res.users");
}

// A hand-written impl next to derived ones: the manual way stays open.
#[derive(Debug, Deserialize)]
struct Manual {
    id: i64,
    name: String,
}

impl Model for Manual {
    const NAME: &'static str = "res.partner";
    const FIELDS: &'static [&'static str] = &["name"];
}

#[test]
fn a_hand_written_impl_still_works() {
    assert_eq!(fields_of::<Manual>(), ["name"]);
}

/// Deserialises a record that has exactly `FIELDS` (and `id`), each field
/// required and unknown fields denied: it decodes only if `FIELDS` names
/// precisely what serde reads.
fn decode_exactly<M: Model>() -> M {
    let mut record = Map::new();
    record.insert("id".to_owned(), json!(7));
    for field in M::FIELDS {
        record.insert((*field).to_owned(), json!(field));
    }
    serde_json::from_value(Value::Object(record))
        .unwrap_or_else(|e| panic!("FIELDS {:?} is not what serde reads: {e}", M::FIELDS))
}

macro_rules! rename_all_case {
    ($test:ident, $rule:literal, $expected:expr) => {
        #[test]
        fn $test() {
            #[derive(Debug, Deserialize, Model)]
            #[odoo(model = "res.partner")]
            #[serde(rename_all = $rule, deny_unknown_fields)]
            struct Renamed {
                #[serde(rename = "id")]
                id: i64,
                display_name: String,
                #[serde(rename = "x_studio_code")]
                code: String,
                r#type: String,
                x_studio_2nd_field: String,
            }
            assert_eq!(Renamed::FIELDS, $expected);
            let decoded = decode_exactly::<Renamed>();
            assert_eq!(decoded.code, "x_studio_code");
        }
    };
}

rename_all_case!(
    rename_all_lowercase,
    "lowercase",
    [
        "display_name",
        "x_studio_code",
        "type",
        "x_studio_2nd_field"
    ]
);
rename_all_case!(
    rename_all_uppercase,
    "UPPERCASE",
    [
        "DISPLAY_NAME",
        "x_studio_code",
        "TYPE",
        "X_STUDIO_2ND_FIELD"
    ]
);
rename_all_case!(
    rename_all_pascal,
    "PascalCase",
    ["DisplayName", "x_studio_code", "Type", "XStudio2ndField"]
);
rename_all_case!(
    rename_all_camel,
    "camelCase",
    ["displayName", "x_studio_code", "type", "xStudio2ndField"]
);
rename_all_case!(
    rename_all_snake,
    "snake_case",
    [
        "display_name",
        "x_studio_code",
        "type",
        "x_studio_2nd_field"
    ]
);
rename_all_case!(
    rename_all_screaming_snake,
    "SCREAMING_SNAKE_CASE",
    [
        "DISPLAY_NAME",
        "x_studio_code",
        "TYPE",
        "X_STUDIO_2ND_FIELD"
    ]
);
rename_all_case!(
    rename_all_kebab,
    "kebab-case",
    [
        "display-name",
        "x_studio_code",
        "type",
        "x-studio-2nd-field"
    ]
);
rename_all_case!(
    rename_all_screaming_kebab,
    "SCREAMING-KEBAB-CASE",
    [
        "DISPLAY-NAME",
        "x_studio_code",
        "TYPE",
        "X-STUDIO-2ND-FIELD"
    ]
);

#[test]
fn rename_all_for_deserialising_only() {
    #[derive(Debug, Deserialize, Model)]
    #[odoo(model = "res.partner")]
    #[serde(rename_all(serialize = "UPPERCASE", deserialize = "camelCase"))]
    struct Half {
        id: i64,
        display_name: String,
    }
    assert_eq!(Half::FIELDS, ["displayName"]);
    decode_exactly::<Half>();
}

#[test]
fn the_derived_fields_are_what_serde_reads() {
    #[derive(Debug, Deserialize, Model)]
    #[odoo(model = "res.partner")]
    #[serde(deny_unknown_fields)]
    struct Strict {
        id: i64,
        name: String,
        #[serde(rename = "country_id")]
        country: String,
        #[serde(rename(deserialize = "is_company"))]
        company: String,
        #[serde(skip)]
        local: u8,
        r#ref: String,
    }
    let decoded = decode_exactly::<Strict>();
    assert_eq!(decoded.country, "country_id");
    assert_eq!(decoded.r#ref, "ref");
}

#[cfg(feature = "test-server")]
mod end_to_end {
    use super::Partner;
    use futures::TryStreamExt;
    use odoo_integration_client::test_server::TestServer;
    use odoo_integration_client::{Domain, Model, Protocol};

    /// The same partners, with `email` and `country_id` left out of a
    /// hand-written `FIELDS`: it decodes, and both read as `None`.
    #[derive(Debug, serde::Deserialize)]
    struct Forgetful {
        id: i64,
        name: String,
        #[serde(default, with = "odoo_integration_client::value::falsy")]
        email: Option<String>,
    }
    impl Model for Forgetful {
        const NAME: &'static str = "res.partner";
        const FIELDS: &'static [&'static str] = &["name"];
    }

    #[tokio::test]
    async fn a_derived_struct_reads_every_field_it_has_on_every_protocol() {
        let server = TestServer::start().await.unwrap();
        for protocol in [Protocol::Json2, Protocol::JsonRpc, Protocol::XmlRpc] {
            let client = server.client(protocol).unwrap();
            let partners = client.typed::<Partner>();
            let companies = partners
                .search_read(Domain::field("is_company").eq(true))
                .order("name")
                .send()
                .await
                .unwrap();
            let names: Vec<&str> = companies.iter().map(|p| p.name.as_str()).collect();
            assert_eq!(names.len(), 11, "{protocol}: {names:?}");
            assert_eq!(
                names[..3],
                ["Acme Corporation", "Azure Interior", "Brightline Retail"],
                "{protocol}"
            );
            assert!(companies.iter().all(|p| p.company), "{protocol}");
            assert!(companies.iter().all(|p| p.label.is_empty()));
            let acme = &companies[0];
            assert_eq!(
                acme.country.as_ref().and_then(|c| c.name.as_deref()),
                Some("United States"),
                "{protocol}"
            );
            assert_eq!(acme.r#ref.as_deref(), Some("ACME"), "{protocol}");
            let email = acme.email.clone();
            assert!(email.is_some(), "{protocol}: {acme:?}");

            // The same record by id, and through the keyset stream.
            let again = partners.read([acme.id]).send().await.unwrap();
            assert_eq!(again[0].email, email);
            let streamed: Vec<Partner> = partners
                .keyset(Domain::field("is_company").eq(true))
                .into_stream()
                .try_collect()
                .await
                .unwrap();
            assert_eq!(streamed.len(), companies.len(), "{protocol}");

            // What the derive prevents: a field forgotten in a hand-written
            // FIELDS reads as None without a word.
            let forgetful = client
                .typed::<Forgetful>()
                .read([acme.id])
                .send()
                .await
                .unwrap();
            assert_eq!(forgetful[0].id, acme.id);
            assert_eq!(forgetful[0].name, acme.name);
            assert_eq!(forgetful[0].email, None);
        }
    }

    #[tokio::test]
    async fn the_call_asks_for_the_derived_fields() {
        #[derive(Debug, serde::Deserialize, Model)]
        #[odoo(model = "res.partner")]
        struct Typo {
            id: i64,
            #[serde(rename = "nmae")]
            name: String,
        }
        // A name Odoo does not have is Odoo's error, not a silent None.
        let server = TestServer::start().await.unwrap();
        let client = server.client(Protocol::Json2).unwrap();
        let err = client
            .typed::<Typo>()
            .search_read(Domain::all())
            .send()
            .await
            .unwrap_err();
        assert!(err.to_string().contains("nmae"), "{err}");
    }
}
