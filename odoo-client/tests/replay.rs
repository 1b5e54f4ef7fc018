//! Conformance of the test server with a real Odoo 19, over every exchange
//! recorded from one (`../shared/fixtures/odoo-19`, outside this repository;
//! `ODOO_FIXTURES` names another directory).
//!
//! Each recorded request is sent to one [`TestServer`] with the demo data,
//! adapted only where the recording cannot be sent as is: the database name,
//! the redacted API keys and session cookies, the ids of records created
//! during the replay, and the `Host`/`Content-Length` headers. The recorded
//! method, path, `Content-Type` and body are kept, wrong ones included.
//!
//! Per exchange it compares the HTTP status; the error class (JSON-RPC
//! `error.data.name`, the JSON-2 body's `name`) or the XML-RPC `faultCode`;
//! the JSON-RPC `error.code` and `error.message`; the type of the result
//! (and a JSON-RPC reply without a `result` key); the keys of an object
//! result and of the first row of a list of objects; for `fields_get` the
//! field names and the attributes of the fields both sides have. Values are
//! not compared: the test server's data is not Odoo's demo database.
//!
//! Every difference is collected and printed as a table. The test fails
//! when an exchange not listed in [`EXCEPTIONS`] differs, unless
//! `REPLAY_REPORT=1`, which prints the table and passes (for work on the
//! server):
//!
//! ```text
//! REPLAY_REPORT=1 cargo test -p odoo-integration-client --features test-server \
//!     --test replay -- --nocapture
//! ```
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use odoo_integration_client::test_server::{
    ADMIN_API_KEY, ADMIN_LOGIN, ADMIN_PASSWORD, DATABASE, DEMO_API_KEY, TestServer,
};
use quick_xml::events::Event;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// Exchanges that cannot conform because they depend on the recording
/// itself (its ids, sessions or timing) in a way the replay cannot
/// reproduce: (file stem, reason).
///
/// The rest of that dependence is reproduced: the ids of records created
/// during the recording are mapped to the ids the test server gives
/// ([`Replay::ids`]), sessions are obtained from the test server as the
/// recording obtained them ([`Sessions`]), and the login cooldown is
/// provoked as the recording provoked it ([`LOGIN_COOLDOWN`]).
const EXCEPTIONS: &[(&str, &str)] = &[(
    "json2_search_read_changed_since_cursor",
    "its cursor, write_date > 2026-11-24 00:00:00, is the recording's clock (the recorded \
     database was created after it, so every record matched); which records the test \
     server's own clock puts after it says nothing about conformance",
)];

/// Record life cycles, in the order they must run. The recording is
/// replayed in its own order (the `Date` of each response, then the
/// JSON-RPC request id), but `Date` has one-second resolution and JSON-2
/// and XML-RPC requests carry no id: within one second, the exchanges
/// listed here run after the others, in this order.
const LIFECYCLES: &[&str] = &[
    "json2_create",
    "json2_create_multi",
    "json2_write",
    "json2_method_returns_none",
    "json2_unlink",
    "xmlrpc_execute_kw_create",
    "xmlrpc_execute_kw_write",
    "xmlrpc_fault_cannot_marshal_none",
    "xmlrpc_execute_kw_unlink",
    "json2_load_create_by_xmlid",
    "json2_load_update_by_xmlid",
    "json2_load_error_row",
    "json2_load_many2one_by_xmlid",
    "json2_ir_model_data_search_read_xmlids",
];

/// Recorded after ten failed logins on `/web/session/authenticate` from the
/// same address; the replay sends those first.
const LOGIN_COOLDOWN: &str = "web_session_authenticate_login_cooldown";
/// Failed logins that put the recorded server in cooldown
/// (`base.login_cooldown_after`).
const FAILED_LOGINS_BEFORE_COOLDOWN: usize = 10;

/// The recorded database.
const RECORDED_DATABASE: &str = "demo";
/// A session id no server issued.
const UNKNOWN_SESSION: &str = "0123456789abcdef0123456789abcdef01234567";

// ------------------------------------------------------------ fixtures

/// One recorded HTTP exchange, as the fixture README documents it.
#[derive(Debug, Deserialize)]
struct Exchange {
    http_method: String,
    endpoint: String,
    request_headers: BTreeMap<String, String>,
    #[serde(default)]
    request_body: Value,
    status: u16,
    response_headers: BTreeMap<String, Value>,
    #[serde(default)]
    response_body: Value,
    request_body_file: Option<String>,
    response_body_file: Option<String>,
}

#[derive(Debug)]
struct Fixture {
    /// The file name without `.json`.
    stem: String,
    exchange: Exchange,
    /// The exact XML-RPC bodies, recorded next to the JSON file.
    request_xml: Option<String>,
    response_xml: Option<String>,
}

impl Fixture {
    fn load(path: &Path) -> Fixture {
        let name = path.display();
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
        let exchange: Exchange =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let dir = path.parent().unwrap_or_else(|| Path::new("."));
        let read_beside = |file: &Option<String>| {
            file.as_ref().map(|file| {
                std::fs::read_to_string(dir.join(file))
                    .unwrap_or_else(|e| panic!("{name}: {file}: {e}"))
            })
        };
        Fixture {
            stem: path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_else(|| panic!("{name}: not a UTF-8 file name"))
                .to_owned(),
            request_xml: read_beside(&exchange.request_body_file),
            response_xml: read_beside(&exchange.response_body_file),
            exchange,
        }
    }

    fn protocol(&self) -> Protocol {
        let e = &self.exchange;
        if e.endpoint.starts_with("/xmlrpc") {
            Protocol::XmlRpc
        } else if e.request_body.get("jsonrpc").is_some() {
            Protocol::JsonRpc
        } else {
            Protocol::Json2
        }
    }

    /// When the recorded server answered (second resolution).
    fn recorded_at(&self) -> Option<DateTime<FixedOffset>> {
        let date = header(&self.exchange.response_headers, "Date")?;
        DateTime::parse_from_rfc2822(date).ok()
    }

    fn jsonrpc_id(&self) -> Option<i64> {
        self.exchange.request_body.get("id").and_then(Value::as_i64)
    }

    /// The model method called (`create`, `fields_get`, ...), if any.
    fn odoo_method(&self) -> Option<String> {
        let e = &self.exchange;
        match self.protocol() {
            Protocol::JsonRpc => {
                let params = &e.request_body["params"];
                if e.endpoint.starts_with("/web/dataset/call_kw") {
                    return params["method"].as_str().map(str::to_owned);
                }
                let execute = matches!(params["method"].as_str(), Some("execute_kw" | "execute"));
                (params["service"] == "object" && execute)
                    .then(|| params["args"][4].as_str().map(str::to_owned))
                    .flatten()
            }
            Protocol::Json2 => match e.endpoint.split('/').collect::<Vec<_>>()[..] {
                ["", "json", "2", _model, method] => Some(method.to_owned()),
                _ => None,
            },
            Protocol::XmlRpc => {
                let (method, params) = parse_method_call(self.request_xml.as_deref()?)?;
                matches!(method.as_str(), "execute_kw" | "execute")
                    .then(|| params.get(4)?.as_str().map(str::to_owned))
                    .flatten()
            }
        }
    }

    /// The recorded reply, decoded as ours is.
    fn recorded_reply(&self) -> Reply {
        let e = &self.exchange;
        let body = match (&self.response_xml, &e.response_body) {
            (Some(xml), _) => xml.as_bytes().to_vec(),
            (None, Value::String(raw)) => raw.as_bytes().to_vec(),
            (None, json) => serde_json::to_vec(json)
                .unwrap_or_else(|err| panic!("{}: response_body: {err}", self.stem)),
        };
        let content_type = header(&e.response_headers, "Content-Type").unwrap_or_default();
        Reply::decode(e.status, content_type, &body)
    }
}

/// A header's value, whatever the case of its name (the first, when
/// repeated).
fn header<'a>(headers: &'a BTreeMap<String, Value>, name: &str) -> Option<&'a str> {
    let value = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)?;
    match value {
        Value::Array(values) => values.first()?.as_str(),
        other => other.as_str(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    /// A JSON-RPC envelope: `/jsonrpc`, the `/web/*` JSON routes.
    JsonRpc,
    /// JSON-2 and the other plain HTTP routes (`/web/version`, ...).
    Json2,
    /// `/xmlrpc/2/*` and the legacy `/xmlrpc/*`.
    XmlRpc,
}

/// Where the recording lives when `ODOO_FIXTURES` does not say: next to
/// the repository, not in it.
fn default_fixtures_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.join("../../shared/fixtures/odoo-19")
}

fn load_fixtures(dir: &Path) -> Vec<Fixture> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut fixtures: Vec<Fixture> = entries
        .map(|entry| {
            entry
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .path()
        })
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .map(|path| Fixture::load(&path))
        .collect();
    fixtures.sort_by_cached_key(|f| {
        let at = f.recorded_at();
        let step = LIFECYCLES
            .iter()
            .position(|s| *s == f.stem)
            .map_or(0, |i| i + 1);
        // Undated exchanges were recorded last.
        (at.is_none(), at, f.jsonrpc_id(), step, f.stem.clone())
    });
    fixtures
}

// ------------------------------------------------------------ replies

/// An HTTP reply, reduced to what the replay compares.
#[derive(Debug)]
struct Reply {
    status: u16,
    /// The media type, without parameters (`text/html`).
    media_type: String,
    body: Body,
}

#[derive(Debug)]
enum Body {
    /// A JSON-RPC envelope.
    JsonRpc { id: Value, outcome: RpcOutcome },
    /// Any other JSON: JSON-2 results and errors, `/web/version`, ...
    Json(Value),
    /// An XML-RPC `methodResponse`: the result, or the fault.
    XmlRpc(Result<Value, Fault>),
    /// An HTML page, plain text, or a body that does not parse as its
    /// content type says.
    Other,
}

#[derive(Debug)]
struct Fault {
    /// `faultCode`: a number, or a string on the legacy endpoints.
    code: Value,
    /// The last line of `faultString` (the exception, after a traceback).
    last_line: String,
}

impl Fault {
    /// The code for comparison: the number, or the first line of a legacy
    /// string code (`warning -- UserError`, then the message).
    fn class(&self) -> String {
        match &self.code {
            Value::String(s) => format!("{:?}", s.lines().next().unwrap_or_default()),
            other => other.to_string(),
        }
    }
}

#[derive(Debug)]
enum RpcOutcome {
    Result(Value),
    /// No `result` key (a method that returned `None`).
    NoResult,
    Error {
        code: Value,
        message: Value,
        /// `data.name`, the Python class.
        class: Value,
        data: Value,
    },
}

impl Reply {
    fn decode(status: u16, content_type: &str, body: &[u8]) -> Reply {
        let media_type = content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let body = match media_type.as_str() {
            "application/json" => match serde_json::from_slice(body) {
                Ok(json) => Body::from_json(json),
                Err(_) => Body::Other,
            },
            "text/xml" | "application/xml" => parse_method_response(body)
                .map(Body::XmlRpc)
                .unwrap_or(Body::Other),
            _ => Body::Other,
        };
        Reply {
            status,
            media_type,
            body,
        }
    }

    /// The result of a successful call.
    fn result(&self) -> Option<&Value> {
        match &self.body {
            Body::JsonRpc {
                outcome: RpcOutcome::Result(v),
                ..
            }
            | Body::XmlRpc(Ok(v)) => Some(v),
            Body::Json(v) if self.status < 400 => Some(v),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match &self.body {
            Body::JsonRpc { .. } => "JSON-RPC reply".to_owned(),
            Body::Json(_) => "JSON".to_owned(),
            Body::XmlRpc(_) => "XML-RPC reply".to_owned(),
            Body::Other if self.media_type.is_empty() => "body without type".to_owned(),
            Body::Other => format!("{} body", self.media_type),
        }
    }
}

impl Body {
    fn from_json(json: Value) -> Body {
        let Some(envelope) = json.as_object().filter(|o| o.contains_key("jsonrpc")) else {
            return Body::Json(json);
        };
        let id = envelope.get("id").cloned().unwrap_or(Value::Null);
        let outcome = match (envelope.get("error"), envelope.get("result")) {
            (Some(error), _) => RpcOutcome::Error {
                code: error["code"].clone(),
                message: error["message"].clone(),
                class: error["data"]["name"].clone(),
                data: error["data"].clone(),
            },
            (None, Some(result)) => RpcOutcome::Result(result.clone()),
            (None, None) => RpcOutcome::NoResult,
        };
        Body::JsonRpc { id, outcome }
    }
}

impl RpcOutcome {
    fn describe(&self) -> String {
        match self {
            RpcOutcome::Result(v) => format!("result {}", type_name(v)),
            RpcOutcome::NoResult => "no result key".to_owned(),
            RpcOutcome::Error { class, data, .. } => error(class, &data["message"]),
        }
    }
}

// ------------------------------------------------------------ XML-RPC

/// An XML element: its name, its child elements and its text.
#[derive(Debug, Default)]
struct Element {
    name: String,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }
}

fn parse_xml(body: &[u8]) -> Option<Element> {
    let mut reader = quick_xml::Reader::from_reader(body);
    let mut stack = vec![Element::default()];
    loop {
        match reader.read_event().ok()? {
            Event::Start(start) => stack.push(Element {
                name: start.name().as_ref().to_owned(),
                ..Element::default()
            }),
            Event::Empty(empty) => stack.last_mut()?.children.push(Element {
                name: empty.name().as_ref().to_owned(),
                ..Element::default()
            }),
            Event::End(_) => {
                let done = stack.pop()?;
                stack.last_mut()?.children.push(done);
            }
            Event::Text(text) => stack.last_mut()?.text.push_str(&text.xml10_content()),
            Event::CData(data) => stack.last_mut()?.text.push_str(&data.into_inner()),
            Event::GeneralRef(reference) => {
                let ch = match reference.resolve_char_ref().ok()? {
                    Some(ch) => ch,
                    None => match &*reference {
                        "lt" => '<',
                        "gt" => '>',
                        "amp" => '&',
                        "apos" => '\'',
                        "quot" => '"',
                        _ => return None,
                    },
                };
                stack.last_mut()?.text.push(ch);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack.pop().filter(|_| stack.is_empty())?;
    document.children.pop()
}

/// An XML-RPC `<value>` as JSON: struct → object, array → array, int and
/// double → number, boolean → bool, nil → null, anything else → string.
fn xmlrpc_value(value: &Element) -> Value {
    let Some(typed) = value.children.first() else {
        return Value::String(value.text.clone());
    };
    match typed.name.as_str() {
        "int" | "i4" | "i8" => typed
            .text
            .trim()
            .parse::<i64>()
            .map_or(Value::Null, Value::from),
        "double" => typed
            .text
            .trim()
            .parse::<f64>()
            .map_or(Value::Null, Value::from),
        "boolean" => Value::Bool(typed.text.trim() == "1"),
        "nil" => Value::Null,
        "array" => Value::Array(
            typed
                .child("data")
                .map(|data| data.children.iter().map(xmlrpc_value).collect())
                .unwrap_or_default(),
        ),
        "struct" => Value::Object(
            typed
                .children
                .iter()
                .filter_map(|member| {
                    let name = member.child("name")?.text.clone();
                    Some((name, xmlrpc_value(member.child("value")?)))
                })
                .collect(),
        ),
        _ => Value::String(typed.text.clone()),
    }
}

fn xmlrpc_params(parent: &Element) -> Vec<Value> {
    parent
        .child("params")
        .map(|params| {
            params
                .children
                .iter()
                .filter_map(|param| param.child("value").map(xmlrpc_value))
                .collect()
        })
        .unwrap_or_default()
}

/// `methodName` and the parameters of a `methodCall`.
fn parse_method_call(xml: &str) -> Option<(String, Vec<Value>)> {
    let call = parse_xml(xml.as_bytes()).filter(|e| e.name == "methodCall")?;
    Some((call.child("methodName")?.text.clone(), xmlrpc_params(&call)))
}

/// The result of a `methodResponse`, or its fault.
fn parse_method_response(body: &[u8]) -> Option<Result<Value, Fault>> {
    let response = parse_xml(body).filter(|e| e.name == "methodResponse")?;
    if let Some(fault) = response.child("fault") {
        let fault = xmlrpc_value(fault.child("value")?);
        let text = fault["faultString"].as_str().unwrap_or_default();
        return Some(Err(Fault {
            code: fault.get("faultCode")?.clone(),
            last_line: text.trim().lines().last().unwrap_or_default().to_owned(),
        }));
    }
    Some(Ok(xmlrpc_params(&response).into_iter().next()?))
}

// ------------------------------------------------------------ comparison

/// One thing that differs: what, ours, the recording's.
#[derive(Debug)]
struct Difference {
    what: String,
    ours: String,
    recorded: String,
}

/// What differs in one exchange.
#[derive(Debug, Default)]
struct Diffs(Vec<Difference>);

impl Diffs {
    fn differ(&mut self, what: &str, ours: impl Display, recorded: impl Display) {
        self.0.push(Difference {
            what: what.to_owned(),
            ours: ours.to_string(),
            recorded: recorded.to_string(),
        });
    }

    fn check<T: PartialEq + Display>(&mut self, what: &str, ours: T, recorded: T) {
        if ours != recorded {
            self.differ(what, ours, recorded);
        }
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// An error as shown: the class without its module, and the message.
fn error(class: &Value, message: &Value) -> String {
    let class = plain(class);
    let short = class.rsplit('.').next().unwrap_or_default();
    format!("error {short}: {}", plain(message))
}

/// A JSON value as text, strings without quotes.
fn plain(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn keys(map: &Map<String, Value>) -> BTreeSet<&str> {
    map.keys().map(String::as_str).collect()
}

/// Up to three names, then how many more.
fn some_names<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let names: Vec<&str> = names.into_iter().collect();
    if names.is_empty() {
        return "none".to_owned();
    }
    let mut text = names.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    if names.len() > 3 {
        text.push_str(&format!(" +{}", names.len() - 3));
    }
    text
}

/// Keys only ours has (column "ours") and only the recording has (column
/// "recorded").
fn compare_keys(
    what: &str,
    ours: &Map<String, Value>,
    recorded: &Map<String, Value>,
    d: &mut Diffs,
) {
    let (ours, recorded) = (keys(ours), keys(recorded));
    if ours != recorded {
        let extra = some_names(ours.difference(&recorded).copied());
        let missing = some_names(recorded.difference(&ours).copied());
        d.differ(
            what,
            format!("extra: {extra}"),
            format!("missing: {missing}"),
        );
    }
}

/// `fields_get`: the field names, then the attributes of the fields both
/// sides have.
fn compare_fields(ours: &Map<String, Value>, recorded: &Map<String, Value>, d: &mut Diffs) {
    let (our_fields, recorded_fields) = (keys(ours), keys(recorded));
    let extra: Vec<&str> = our_fields.difference(&recorded_fields).copied().collect();
    let missing: Vec<&str> = recorded_fields.difference(&our_fields).copied().collect();
    if !extra.is_empty() || !missing.is_empty() {
        let count = |what: &str, names: &[&str]| match names.len() {
            0 => format!("0 {what}"),
            n => format!("{n} {what}: {}", some_names(names.iter().copied())),
        };
        d.differ(
            "fields_get fields",
            count("extra", &extra),
            count("missing", &missing),
        );
    }
    let (mut fields, mut extra, mut missing) = (0, BTreeSet::new(), BTreeSet::new());
    for name in our_fields.intersection(&recorded_fields) {
        let (Some(ours), Some(recorded)) = (ours[*name].as_object(), recorded[*name].as_object())
        else {
            continue;
        };
        let (ours, recorded) = (keys(ours), keys(recorded));
        if ours != recorded {
            fields += 1;
            extra.extend(ours.difference(&recorded).copied());
            missing.extend(recorded.difference(&ours).copied());
        }
    }
    if fields > 0 {
        d.differ(
            "field attributes",
            format!("extra: {}", some_names(extra)),
            format!("on {fields} fields, missing: {}", some_names(missing)),
        );
    }
}

/// The type of a result; the keys of an object (the fields of
/// `fields_get`); the type and keys of the first row of a list.
fn compare_shape(ours: &Value, recorded: &Value, fields_get: bool, d: &mut Diffs) {
    match (ours, recorded) {
        (Value::Object(a), Value::Object(b)) if fields_get => compare_fields(a, b, d),
        (Value::Object(a), Value::Object(b)) => compare_keys("keys", a, b, d),
        (Value::Array(a), Value::Array(b)) => match (a.first(), b.first()) {
            (Some(Value::Object(x)), Some(Value::Object(y))) => compare_keys("row keys", x, y, d),
            (Some(x), Some(y)) => d.check("row type", type_name(x), type_name(y)),
            (None, Some(y @ (Value::Object(_) | Value::Array(_)))) => {
                d.differ("rows", "0", format!("{} ({}s)", b.len(), type_name(y)))
            }
            _ => {}
        },
        _ => d.check("result type", type_name(ours), type_name(recorded)),
    }
}

fn compare(ours: &Reply, recorded: &Reply, method: Option<&str>) -> Diffs {
    let mut d = Diffs::default();
    let fields_get = method == Some("fields_get");
    d.check("status", ours.status, recorded.status);
    match (&ours.body, &recorded.body) {
        (
            Body::JsonRpc { id, outcome },
            Body::JsonRpc {
                id: recorded_id,
                outcome: recorded_outcome,
            },
        ) => {
            d.check("rpc id", type_name(id), type_name(recorded_id));
            compare_rpc(outcome, recorded_outcome, fields_get, &mut d);
        }
        // JSON-2: an error is a bare {"name", "message", ...} with a 4xx/5xx.
        (Body::Json(a), Body::Json(b)) => match (ours.status >= 400, recorded.status >= 400) {
            (true, true) => {
                check_class(&mut d, &a["name"], &a["message"], &b["name"]);
                if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
                    compare_keys("error keys", a, b, &mut d);
                }
            }
            (false, false) => compare_shape(a, b, fields_get, &mut d),
            (true, false) => d.differ(
                "outcome",
                error(&a["name"], &a["message"]),
                format!("result {}", type_name(b)),
            ),
            (false, true) => d.differ(
                "outcome",
                format!("result {}", type_name(a)),
                error(&b["name"], &b["message"]),
            ),
        },
        (Body::XmlRpc(a), Body::XmlRpc(b)) => match (a, b) {
            (Ok(a), Ok(b)) => compare_shape(a, b, fields_get, &mut d),
            (Err(a), Err(b)) if a.class() != b.class() => d.differ(
                "faultCode",
                format!("{}: {}", a.class(), a.last_line),
                b.class(),
            ),
            (Err(_), Err(_)) => {}
            (Ok(a), Err(b)) => d.differ(
                "outcome",
                format!("result {}", type_name(a)),
                format!("fault {}", b.class()),
            ),
            (Err(a), Ok(b)) => d.differ(
                "outcome",
                format!("fault {}: {}", a.class(), a.last_line),
                format!("result {}", type_name(b)),
            ),
        },
        (Body::Other, Body::Other) => {
            d.check("content type", &ours.media_type, &recorded.media_type)
        }
        _ => d.differ("body", ours.describe(), recorded.describe()),
    }
    d
}

/// The exception classes; ours shown with its message.
fn check_class(d: &mut Diffs, ours: &Value, message: &Value, recorded: &Value) {
    if plain(ours) != plain(recorded) {
        d.differ(
            "error class",
            format!("{}: {}", plain(ours), plain(message)),
            plain(recorded),
        );
    }
}

fn compare_rpc(ours: &RpcOutcome, recorded: &RpcOutcome, fields_get: bool, d: &mut Diffs) {
    match (ours, recorded) {
        (RpcOutcome::Result(a), RpcOutcome::Result(b)) => compare_shape(a, b, fields_get, d),
        (RpcOutcome::NoResult, RpcOutcome::NoResult) => {}
        (
            RpcOutcome::Error {
                code,
                message,
                class,
                data,
            },
            RpcOutcome::Error {
                code: recorded_code,
                message: recorded_message,
                class: recorded_class,
                data: recorded_data,
            },
        ) => {
            check_class(d, class, &data["message"], recorded_class);
            d.check("error.code", plain(code), plain(recorded_code));
            d.check("error.message", plain(message), plain(recorded_message));
            if let (Some(a), Some(b)) = (data.as_object(), recorded_data.as_object()) {
                compare_keys("error.data keys", a, b, d);
            }
        }
        _ => d.differ("outcome", ours.describe(), recorded.describe()),
    }
}

// ------------------------------------------------------------ replay

/// The replayed request.
#[derive(Debug)]
struct Request {
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

/// Which session cookie a request carries in place of `<SESSION_ID>`.
#[derive(Debug, Clone, Copy)]
enum CookieUse {
    /// The session of the last successful `/web/session/authenticate`.
    Live,
    /// The session `/web/session/destroy` ended.
    Destroyed,
    /// A session id the server never issued.
    Unknown,
}

fn cookie_use(stem: &str) -> CookieUse {
    match stem {
        "web_dataset_call_kw_invalid_session" => CookieUse::Unknown,
        "web_dataset_call_kw_after_destroy" => CookieUse::Destroyed,
        _ => CookieUse::Live,
    }
}

#[derive(Debug, Default)]
struct Sessions {
    live: Option<String>,
    destroyed: Option<String>,
}

/// The API keys in place of their redactions.
fn unredact(text: &str) -> String {
    text.replace("<ADMIN_API_KEY>", ADMIN_API_KEY)
        .replace("<DEMO_API_KEY>", DEMO_API_KEY)
}

/// Unredacts strings and maps created ids, everywhere in `value`.
fn adapt_json(value: &mut Value, ids: &BTreeMap<i64, i64>) {
    match value {
        Value::String(s) => *s = unredact(s),
        Value::Number(n) => {
            if let Some(ours) = n.as_i64().and_then(|id| ids.get(&id)) {
                *value = Value::from(*ours);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| adapt_json(v, ids)),
        Value::Object(map) => map.values_mut().for_each(|v| adapt_json(v, ids)),
        Value::Bool(_) | Value::Null => {}
    }
}

/// The recorded body: JSON, or the raw text when it was not JSON.
fn raw_or_json(body: &Value) -> Option<Vec<u8>> {
    match body {
        Value::Null => None,
        Value::String(raw) => Some(raw.as_bytes().to_vec()),
        json => Some(json.to_string().into_bytes()),
    }
}

/// JSON-RPC: the database (first argument of the `common`, `object` and
/// `db` services, `db` of `/web/session/authenticate`), keys and ids in
/// `params`; the envelope's own `id` is kept.
fn adapt_jsonrpc(body: &Value, ids: &BTreeMap<i64, i64>) -> Option<Vec<u8>> {
    let mut body = body.clone();
    if let Some(params) = body.get_mut("params") {
        adapt_json(params, ids);
        let db = if params.get("service").is_some() {
            params.pointer_mut("/args/0")
        } else {
            params.get_mut("db")
        };
        if let Some(db) = db.filter(|db| *db == RECORDED_DATABASE) {
            *db = json!(DATABASE);
        }
    }
    raw_or_json(&body)
}

/// JSON-2 and plain routes: keys and ids in the body (the database is a
/// header).
fn adapt_json2(body: &Value, ids: &BTreeMap<i64, i64>) -> Option<Vec<u8>> {
    let mut body = body.clone();
    adapt_json(&mut body, ids);
    raw_or_json(&body)
}

/// XML-RPC: the database (the first parameter of `execute_kw`, `login`,
/// `authenticate`), keys, and ids in `<int>`s; the rest byte for byte.
fn adapt_xmlrpc(xml: &str, ids: &BTreeMap<i64, i64>) -> Vec<u8> {
    let mut xml = unredact(xml);
    let recorded_db = format!("<string>{RECORDED_DATABASE}</string>");
    if let Some(start) = xml.find("<param>") {
        let end = xml[start..]
            .find("</param>")
            .map_or(xml.len(), |e| start + e);
        if let Some(at) = xml[start..end].find(&recorded_db) {
            xml.replace_range(
                start + at..start + at + recorded_db.len(),
                &format!("<string>{DATABASE}</string>"),
            );
        }
    }
    // One pass, so that an id is never mapped twice.
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml.as_str();
    while let Some(at) = rest.find("<int>") {
        let (before, after) = rest.split_at(at + "<int>".len());
        out.push_str(before);
        let end = after.find("</int>").unwrap_or(after.len());
        let number = &after[..end];
        match number.trim().parse::<i64>().ok().and_then(|n| ids.get(&n)) {
            Some(ours) => out.push_str(&ours.to_string()),
            None => out.push_str(number),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out.into_bytes()
}

/// The recorded headers, but `Host` and `Content-Length` (the client sets
/// them), with the keys, the database and the session cookie replaced.
fn adapt_headers(
    recorded: &BTreeMap<String, String>,
    cookie: Option<&str>,
) -> Vec<(String, String)> {
    recorded
        .iter()
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("host") && !name.eq_ignore_ascii_case("content-length")
        })
        .map(|(name, value)| {
            let value = match name.to_ascii_lowercase().as_str() {
                "x-odoo-database" if value == RECORDED_DATABASE => DATABASE.to_owned(),
                "cookie" => value.replace("<SESSION_ID>", cookie.unwrap_or(UNKNOWN_SESSION)),
                _ => unredact(value),
            };
            (name.clone(), value)
        })
        .collect()
}

/// The ids a `create` or `load` reply gives.
fn created_ids(method: &str, result: &Value) -> Vec<i64> {
    let ids = match method {
        "create" => result,
        "load" => &result["ids"],
        _ => return Vec::new(),
    };
    match ids {
        Value::Array(ids) => ids.iter().filter_map(Value::as_i64).collect(),
        id => id.as_i64().into_iter().collect(),
    }
}

/// Our reply to a request, and the session cookies it set.
struct Answer {
    reply: Reply,
    sessions: Vec<String>,
}

struct Replay {
    http: reqwest::Client,
    url: String,
    sessions: Sessions,
    /// Ids of the records created during the recording → ids the test
    /// server gave the same records.
    ids: BTreeMap<i64, i64>,
}

impl Replay {
    async fn send(&self, method: &str, path: &str, request: Request) -> Result<Answer, String> {
        let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| e.to_string())?;
        let mut builder = self.http.request(method, format!("{}{path}", self.url));
        for (name, value) in request.headers {
            builder = builder.header(name, value);
        }
        if let Some(body) = request.body {
            builder = builder.body(body);
        }
        let response = builder.send().await.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let sessions = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| {
                v.to_str()
                    .ok()?
                    .split(';')
                    .next()?
                    .strip_prefix("session_id=")
            })
            .map(str::to_owned)
            .collect();
        let body = response.bytes().await.map_err(|e| e.to_string())?;
        Ok(Answer {
            reply: Reply::decode(status, &content_type, &body),
            sessions,
        })
    }

    /// `/web/session/authenticate` as `login`: the session it opens.
    async fn authenticate(&self, login: &str, password: &str) -> Result<String, String> {
        let body = json!({
            "jsonrpc": "2.0", "method": "call", "id": 1,
            "params": {"db": DATABASE, "login": login, "password": password},
        });
        let request = Request {
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: Some(body.to_string().into_bytes()),
        };
        let answer = self
            .send("POST", "/web/session/authenticate", request)
            .await?;
        match (answer.reply.result(), answer.sessions.into_iter().next()) {
            (Some(_), Some(session)) => Ok(session),
            _ => Err(format!(
                "/web/session/authenticate: {} {}",
                answer.reply.status,
                answer.reply.describe()
            )),
        }
    }

    /// The session id for `<SESSION_ID>`, logging in as the recording did
    /// when no session is open.
    async fn cookie(&mut self, stem: &str) -> Result<String, String> {
        match cookie_use(stem) {
            CookieUse::Unknown => Ok(UNKNOWN_SESSION.to_owned()),
            CookieUse::Destroyed => self
                .sessions
                .destroyed
                .clone()
                .ok_or_else(|| "no destroyed session".to_owned()),
            CookieUse::Live => {
                if self.sessions.live.is_none() {
                    self.sessions.live =
                        Some(self.authenticate(ADMIN_LOGIN, ADMIN_PASSWORD).await?);
                }
                Ok(self.sessions.live.clone().unwrap_or_default())
            }
        }
    }

    fn adapt(&self, fixture: &Fixture, cookie: Option<&str>) -> Request {
        let e = &fixture.exchange;
        let body = match (fixture.protocol(), &fixture.request_xml) {
            (Protocol::XmlRpc, Some(xml)) => Some(adapt_xmlrpc(xml, &self.ids)),
            (Protocol::XmlRpc, None) => panic!("{}: no request_body_file", fixture.stem),
            (Protocol::JsonRpc, _) => adapt_jsonrpc(&e.request_body, &self.ids),
            (Protocol::Json2, _) => adapt_json2(&e.request_body, &self.ids),
        };
        Request {
            headers: adapt_headers(&e.request_headers, cookie),
            body,
        }
    }

    /// Replays one exchange; what differs.
    async fn exchange(&mut self, fixture: &Fixture) -> Diffs {
        let mut diffs = Diffs::default();
        let e = &fixture.exchange;
        let has_cookie = e.request_headers.iter().any(|(name, value)| {
            name.eq_ignore_ascii_case("cookie") && value.contains("<SESSION_ID>")
        });
        let cookie = if has_cookie {
            match self.cookie(&fixture.stem).await {
                Ok(session) => Some(session),
                Err(why) => {
                    diffs.differ("session", format!("none ({why})"), "a session");
                    None
                }
            }
        } else {
            None
        };
        if fixture.stem == LOGIN_COOLDOWN {
            for _ in 0..FAILED_LOGINS_BEFORE_COOLDOWN {
                // Refused, as intended.
                let _ = self.authenticate(ADMIN_LOGIN, "wrong-password").await;
            }
        }
        let request = self.adapt(fixture, cookie.as_deref());
        let answer = match self.send(&e.http_method, &e.endpoint, request).await {
            Ok(answer) => answer,
            Err(why) => {
                diffs.differ("request", why, "a reply");
                return diffs;
            }
        };
        let recorded = fixture.recorded_reply();
        let method = fixture.odoo_method();
        diffs
            .0
            .extend(compare(&answer.reply, &recorded, method.as_deref()).0);

        if let (Some(method), Some(ours), Some(theirs)) =
            (&method, answer.reply.result(), recorded.result())
        {
            let pairs = created_ids(method, theirs)
                .into_iter()
                .zip(created_ids(method, ours));
            self.ids.extend(pairs);
        }
        match e.endpoint.as_str() {
            "/web/session/authenticate" if answer.reply.result().is_some() => {
                if let Some(session) = answer.sessions.into_iter().next() {
                    self.sessions.live = Some(session);
                }
            }
            "/web/session/destroy" => self.sessions.destroyed = self.sessions.live.take(),
            _ => {}
        }
        diffs
    }
}

// ------------------------------------------------------------ report

/// `text` on one line, at most `width` characters.
fn cell(text: &str, width: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() <= width {
        line
    } else {
        let mut short: String = line.chars().take(width - 1).collect();
        short.push('…');
        short
    }
}

fn print_table(rows: &[(&str, &Difference)]) {
    const WHAT: usize = 17;
    const OURS: usize = 56;
    const RECORDED: usize = 44;
    let fixture = rows.iter().map(|(f, _)| f.len()).max().unwrap_or(7).max(7);
    println!(
        "{:<fixture$}  {:<WHAT$}  {:<OURS$}  recorded",
        "fixture", "what differs", "ours"
    );
    for (name, d) in rows {
        println!(
            "{name:<fixture$}  {:<WHAT$}  {:<OURS$}  {}",
            cell(&d.what, WHAT),
            cell(&d.ours, OURS),
            cell(&d.recorded, RECORDED)
        );
    }
}

#[tokio::test]
async fn every_recorded_exchange_conforms() {
    let named = std::env::var_os("ODOO_FIXTURES").map(PathBuf::from);
    let dir = named.clone().unwrap_or_else(default_fixtures_dir);
    if !dir.is_dir() {
        // A directory named on purpose must be there; the default one is
        // not in a clone without ../shared.
        assert!(
            named.is_none(),
            "ODOO_FIXTURES={} is not a directory",
            dir.display()
        );
        println!(
            "replay: SKIPPED, no recorded Odoo 19 exchanges at {}: they live in ../shared \
             next to the repository, which this clone does not have; set ODOO_FIXTURES \
             to their directory to run this test",
            dir.display()
        );
        return;
    }
    let fixtures = load_fixtures(&dir);
    assert!(
        !fixtures.is_empty(),
        "{}: no *.json exchanges",
        dir.display()
    );
    for (stem, _) in EXCEPTIONS {
        assert!(
            fixtures.iter().any(|f| f.stem == *stem),
            "EXCEPTIONS names {stem}, which is not a fixture"
        );
    }

    odoo_integration_client::tls::ensure_crypto_provider().unwrap();
    let server = TestServer::start().await.unwrap();
    let mut replay = Replay {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap(),
        url: server.url(),
        sessions: Sessions::default(),
        ids: BTreeMap::new(),
    };
    let mut results = Vec::new();
    for fixture in &fixtures {
        results.push((fixture.stem.as_str(), replay.exchange(fixture).await));
    }

    let rows: Vec<_> = results
        .iter()
        .flat_map(|(stem, diffs)| diffs.0.iter().map(move |diff| (*stem, diff)))
        .collect();
    if !rows.is_empty() {
        print_table(&rows);
        let mut kinds = BTreeMap::<&str, usize>::new();
        for (_, d) in &rows {
            *kinds.entry(d.what.as_str()).or_default() += 1;
        }
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!("\ndifferences by kind: {}", kinds.join(", "));
    }
    let is_exception = |stem: &str| EXCEPTIONS.iter().any(|(s, _)| *s == stem);
    let conforming = results.iter().filter(|(_, d)| d.0.is_empty()).count();
    println!(
        "\n{conforming} of {} exchanges conform ({} listed as exceptions)",
        results.len(),
        EXCEPTIONS.len()
    );
    for (stem, reason) in EXCEPTIONS {
        let differs = results.iter().any(|(s, d)| s == stem && !d.0.is_empty());
        let state = if differs { "differs" } else { "conforms" };
        println!("  exception {stem} ({state}): {reason}");
    }
    let failing: Vec<&str> = results
        .iter()
        .filter(|(stem, d)| !d.0.is_empty() && !is_exception(stem))
        .map(|(stem, _)| *stem)
        .collect();
    if std::env::var("REPLAY_REPORT").is_ok_and(|v| v == "1") {
        println!("REPLAY_REPORT=1: reporting only");
        return;
    }
    assert!(
        failing.is_empty(),
        "{} exchanges differ from the recording (table above; REPLAY_REPORT=1 to report \
         without failing): {}",
        failing.len(),
        failing.join(", ")
    );
}
