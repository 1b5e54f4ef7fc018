//! One internal call type, encoded by each protocol, and the decoding of
//! replies and errors.

use std::time::Instant;

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use tracing::Instrument;

use crate::client::{Client, Protocol};
use crate::context::Context;
use crate::error::{Error, ErrorKind, FaultCode, ProtocolErrorKind, Result, ServerError};
use crate::transport::{Reply, body_error, unexpected_status};
use crate::xmlrpc::{self, MethodResponse, XmlRpcValue};

/// An RPC service of the legacy protocols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Service {
    Common,
    Object,
}

impl Service {
    fn name(self) -> &'static str {
        match self {
            Service::Common => "common",
            Service::Object => "object",
        }
    }
}

/// A model method call, independent of the protocol.
///
/// `args` are positional arguments with their parameter names when known:
/// JSON-RPC and XML-RPC send them positionally (after `ids`), JSON-2 by name.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) model: String,
    pub(crate) method: String,
    pub(crate) ids: Option<Vec<i64>>,
    pub(crate) args: Vec<(Option<String>, Value)>,
    pub(crate) kwargs: Map<String, Value>,
    pub(crate) context: Option<Context>,
    /// Safe to send again after a transient failure (a read, or a write the
    /// caller made idempotent).
    pub(crate) retry_safe: bool,
}

impl Call {
    pub(crate) fn new(model: String, method: String) -> Self {
        Call {
            model,
            method,
            ids: None,
            args: Vec::new(),
            kwargs: Map::new(),
            context: None,
            retry_safe: false,
        }
    }

    /// Marks the call as safe to repeat.
    pub(crate) fn read_only(mut self) -> Self {
        self.retry_safe = true;
        self
    }

    pub(crate) fn named(mut self, name: &str, value: Value) -> Self {
        self.args.push((Some(name.to_owned()), value));
        self
    }

    pub(crate) fn kwarg(mut self, name: &str, value: Value) -> Self {
        self.kwargs.insert(name.to_owned(), value);
        self
    }

    pub(crate) fn with_ids(mut self, ids: Vec<i64>) -> Self {
        self.ids = Some(ids);
        self
    }

    /// Puts the client's default context under the call's own.
    pub(crate) fn merge_default_context(&mut self, default: &Context) {
        let merged = match &self.context {
            Some(own) => default.merged_with(own),
            None => default.clone(),
        };
        self.context = (!merged.is_empty()).then_some(merged);
    }

    /// Positional arguments for `execute_kw`: ids first, then args.
    fn positional(&self) -> Vec<Value> {
        let mut out = Vec::with_capacity(self.args.len() + 1);
        if let Some(ids) = &self.ids {
            out.push(Value::Array(ids.iter().map(|&i| Value::from(i)).collect()));
        }
        out.extend(self.args.iter().map(|(_, v)| v.clone()));
        out
    }

    /// Keyword arguments for `execute_kw`, with the context.
    fn keywords(&self) -> Map<String, Value> {
        let mut kwargs = self.kwargs.clone();
        if let Some(ctx) = &self.context {
            kwargs.insert("context".to_owned(), ctx.clone().into_value());
        }
        kwargs
    }

    /// The JSON-2 body: every argument by name.
    fn json2_body(&self) -> Result<Map<String, Value>> {
        let mut body = Map::new();
        if let Some(ids) = &self.ids {
            body.insert(
                "ids".to_owned(),
                Value::Array(ids.iter().map(|&i| Value::from(i)).collect()),
            );
        }
        for (index, (name, value)) in self.args.iter().enumerate() {
            let name = name.as_ref().ok_or_else(|| {
                Error::config(format!(
                    "{}/{}: positional argument {index} has no name, and JSON-2 takes named \
                     arguments only (use named_arg)",
                    self.model, self.method
                ))
            })?;
            body.insert(name.clone(), value.clone());
        }
        for (k, v) in &self.kwargs {
            body.insert(k.clone(), v.clone());
        }
        if let Some(ctx) = &self.context {
            body.insert("context".to_owned(), ctx.clone().into_value());
        }
        Ok(body)
    }

    fn check_names(&self) -> Result<()> {
        for (what, name) in [("model", &self.model), ("method", &self.method)] {
            let ok = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            if !ok {
                return Err(Error::config(format!("invalid {what} name `{name}`")));
            }
        }
        Ok(())
    }
}

/// Sends a model call with `protocol` and decodes the result.
pub(crate) async fn execute<T: DeserializeOwned>(
    client: &Client,
    protocol: Protocol,
    call: Call,
) -> Result<T> {
    call.check_names()?;
    let span = tracing::info_span!(
        "odoo.call",
        protocol = %protocol,
        model = %call.model,
        method = %call.method,
        duration_ms = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    let started = Instant::now();
    let result = async {
        match protocol {
            Protocol::Json2 => json2(client, &call).await,
            Protocol::JsonRpc => jsonrpc_object(client, &call).await,
            Protocol::XmlRpc => xmlrpc_object(client, &call).await,
            Protocol::Auto => Err(Error::config("protocol not resolved")),
        }
    }
    .instrument(span.clone())
    .await
    .map_err(|e| {
        e.with_call(&call.model, &call.method)
            .redact(client.credentials().secret())
    });
    let elapsed = started.elapsed();
    span.record("duration_ms", elapsed.as_secs_f64() * 1000.0);
    match &result {
        Ok(_) => {
            span.record("outcome", tracing::field::display("ok"));
            span.in_scope(|| tracing::debug!("odoo call succeeded"));
        }
        Err(e) => {
            span.record("outcome", tracing::field::display(e.kind()));
            span.in_scope(|| tracing::debug!(error.kind = %e.kind(), "odoo call failed"));
        }
    }
    result
}

// ---------------------------------------------------------------- JSON-2

async fn json2<T: DeserializeOwned>(client: &Client, call: &Call) -> Result<T> {
    let body = serde_json::to_vec(&call.json2_body()?)
        .map_err(|e| Error::config(format!("cannot encode the arguments: {e}")))?;
    let mut headers = HeaderMap::new();
    let mut auth = HeaderValue::try_from(format!("bearer {}", client.credentials().secret()))
        .map_err(|_| Error::config("the API key contains characters a header cannot carry"))?;
    auth.set_sensitive(true);
    headers.insert(AUTHORIZATION, auth);
    if let Some(db) = client.database() {
        let value = HeaderValue::try_from(db)
            .map_err(|_| Error::config("the database name cannot be sent in a header"))?;
        headers.insert(HeaderName::from_static("x-odoo-database"), value);
    }
    let path = format!("json/2/{}/{}", call.model, call.method);
    let reply = client
        .transport()
        .post(&path, "application/json", headers, body)
        .await?;
    if reply.status == 200 {
        return decode_json_result(
            &path,
            &reply,
            reply.body.as_slice(),
            &call.model,
            &call.method,
        );
    }
    Err(json2_error(&path, &reply))
}

/// The error body JSON-2 (and JSON-RPC's `error.data`) carry.
#[derive(Deserialize)]
struct ExceptionBody {
    name: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    arguments: Vec<Value>,
    #[serde(default)]
    debug: Option<String>,
}

impl ExceptionBody {
    fn into_server_error(self, http_status: Option<u16>, code: Option<FaultCode>) -> ServerError {
        let mut err = ServerError::new(self.name, self.message);
        err.arguments = self.arguments;
        err.debug = self.debug.filter(|d| !d.is_empty());
        err.http_status = http_status;
        err.code = code;
        err
    }
}

fn json2_error(path: &str, reply: &Reply) -> Error {
    json2_error_body(path, reply).at_endpoint(path)
}

fn json2_error_body(path: &str, reply: &Reply) -> Error {
    // Odoo's error body names the exception class, and the class decides
    // the kind (see `classify`): JSON-2 answers 500 to a `ValueError`.
    if reply.is_json()
        && let Ok(body) = serde_json::from_slice::<ExceptionBody>(&reply.body)
    {
        let mut err = body.into_server_error(Some(reply.status), None);
        if reply.status == 401 {
            err.kind = ErrorKind::Unauthorized;
        }
        return Error::server(err);
    }
    // Not an Odoo error body: an HTML page from Odoo's router or a proxy.
    // Only then does the status decide.
    let kind = match reply.status {
        401 => Some(ErrorKind::Unauthorized),
        403 => Some(ErrorKind::Forbidden),
        404 => Some(ErrorKind::NotFound),
        _ => None,
    };
    let page = unexpected_status(path, reply);
    match (kind, page.protocol_error()) {
        (Some(kind), Some(p)) => {
            let message = if p.detail.is_empty() {
                p.snippet.clone()
            } else {
                p.detail.clone()
            };
            let mut err = ServerError::new(format!("http {}", reply.status), message);
            err.kind = kind;
            err.http_status = Some(reply.status);
            Error::server(err)
        }
        _ => page,
    }
}

// ---------------------------------------------------------------- JSON-RPC

#[derive(serde::Serialize)]
struct JsonRpcRequest<P> {
    jsonrpc: &'static str,
    method: &'static str,
    params: P,
    id: u64,
}

#[derive(serde::Serialize)]
struct ServiceParams<'a, A> {
    service: &'a str,
    method: &'a str,
    args: A,
}

#[derive(Deserialize)]
struct JsonRpcEnvelope<'a> {
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(default)]
    error: Option<JsonRpcErrorBody>,
}

#[derive(Deserialize)]
struct JsonRpcErrorBody {
    #[serde(default)]
    code: Option<i64>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    data: Option<ExceptionBody>,
}

async fn jsonrpc_object<T: DeserializeOwned>(client: &Client, call: &Call) -> Result<T> {
    let uid = client.uid().await?;
    let args = (
        client.database_required()?,
        uid,
        client.credentials().secret(),
        &call.model,
        &call.method,
        call.positional(),
        call.keywords(),
    );
    let reply = post_jsonrpc(client, Service::Object.name(), "execute_kw", &args).await?;
    decode_jsonrpc(&reply, Some(call))
}

/// Calls a method of the `common` (or another) service over JSON-RPC.
pub(crate) async fn jsonrpc_service(
    client: &Client,
    service: Service,
    method: &str,
    args: Vec<Value>,
) -> Result<Value> {
    let span = tracing::info_span!(
        "odoo.service",
        protocol = "jsonrpc",
        service = service.name(),
        method
    );
    async {
        let reply = post_jsonrpc(client, service.name(), method, &args).await?;
        decode_jsonrpc(&reply, None)
    }
    .instrument(span)
    .await
    .map_err(|e| e.redact(client.credentials().secret()))
}

async fn post_jsonrpc<A: serde::Serialize>(
    client: &Client,
    service: &str,
    method: &str,
    args: &A,
) -> Result<Reply> {
    let request = JsonRpcRequest {
        jsonrpc: "2.0",
        method: "call",
        params: ServiceParams {
            service,
            method,
            args,
        },
        id: client.next_request_id(),
    };
    let body = serde_json::to_vec(&request)
        .map_err(|e| Error::config(format!("cannot encode the arguments: {e}")))?;
    client
        .transport()
        .post("jsonrpc", "application/json", HeaderMap::new(), body)
        .await
}

/// Decodes a JSON-RPC 200 body (for [`crate::codec`]).
pub(crate) fn decode_jsonrpc_body<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    decode_jsonrpc(&ok_reply(body, "application/json"), None)
}

/// Decodes a JSON-2 200 body (for [`crate::codec`]).
pub(crate) fn decode_json2_body<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    decode_json_result("json/2", &ok_reply(body, "application/json"), body, "", "")
}

/// Decodes an XML-RPC 200 body (for [`crate::codec`]).
pub(crate) fn decode_xmlrpc_body<T: DeserializeOwned>(body: &[u8]) -> Result<T> {
    let reply = ok_reply(body, "text/xml");
    decode_xmlrpc_typed("xmlrpc/2/object", &reply, "", "")
}

fn ok_reply(body: &[u8], content_type: &str) -> Reply {
    Reply {
        status: 200,
        content_type: content_type.to_owned(),
        body: body.to_vec(),
    }
}

fn decode_jsonrpc<T: DeserializeOwned>(reply: &Reply, call: Option<&Call>) -> Result<T> {
    const PATH: &str = "jsonrpc";
    if reply.status != 200 {
        return Err(unexpected_status(PATH, reply));
    }
    let envelope: JsonRpcEnvelope<'_> =
        serde_json::from_slice(&reply.body).map_err(|e| body_error(PATH, reply, &e))?;
    if let Some(error) = envelope.error {
        let code = error.code.map(FaultCode::Int);
        let err = match error.data {
            Some(data) => data.into_server_error(None, code),
            None => {
                let mut e = ServerError::new(error.message.clone(), error.message);
                e.code = code;
                e
            }
        };
        return Err(Error::server(err).at_endpoint(PATH));
    }
    let raw = envelope.result.map_or("null", RawValue::get);
    let (model, method) = call.map_or(("common", "call"), |c| {
        (c.model.as_str(), c.method.as_str())
    });
    decode_json_result(PATH, reply, raw.as_bytes(), model, method)
}

/// Decodes a JSON result into `T`, naming the failing path.
pub(crate) fn decode_json_result<T: DeserializeOwned>(
    path: &str,
    reply: &Reply,
    json: &[u8],
    model: &str,
    method: &str,
) -> Result<T> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            body_error(path, reply, inner)
        } else {
            decode_error(model, method, &e.path().to_string(), inner)
        }
    })?;
    de.end().map_err(|e| body_error(path, reply, &e))?;
    Ok(value)
}

fn decode_error(model: &str, method: &str, path: &str, err: &dyn std::fmt::Display) -> Error {
    Error::decode(model, method, path, err.to_string())
}

// ---------------------------------------------------------------- XML-RPC

async fn xmlrpc_object<T: DeserializeOwned>(client: &Client, call: &Call) -> Result<T> {
    let uid = client.uid().await?;
    let params = vec![
        XmlRpcValue::String(client.database_required()?.to_owned()),
        XmlRpcValue::Int(uid),
        XmlRpcValue::String(client.credentials().secret().to_owned()),
        XmlRpcValue::String(call.model.clone()),
        XmlRpcValue::String(call.method.clone()),
        XmlRpcValue::from_json(&Value::Array(call.positional())),
        XmlRpcValue::from_json(&Value::Object(call.keywords())),
    ];
    let path = format!("xmlrpc/2/{}", Service::Object.name());
    let reply = send_xmlrpc(client, &path, "execute_kw", &params).await?;
    decode_xmlrpc_typed(&path, &reply, &call.model, &call.method)
}

/// Decodes an XML-RPC reply straight into `T` (no intermediate tree).
fn decode_xmlrpc_typed<T: DeserializeOwned>(
    path: &str,
    reply: &Reply,
    model: &str,
    method: &str,
) -> Result<T> {
    if reply.status != 200 {
        return Err(unexpected_status(path, reply));
    }
    match xmlrpc::decode_response_typed::<T>(&reply.body) {
        Ok(MethodResponse::Success(value)) => Ok(value),
        Ok(MethodResponse::Fault { code, string }) => {
            let value = fault_to_result(code, string).map_err(|e| e.at_endpoint(path))?;
            serde_path_to_error::deserialize(value)
                .map_err(|e| decode_error(model, method, &e.path().to_string(), e.inner()))
        }
        Err(xmlrpc::TypedError::Xml(e)) => Err(xml_body_error(path, reply, &e)),
        Err(xmlrpc::TypedError::Decode { path, message }) => {
            Err(Error::decode(model, method, path, message))
        }
    }
}

/// Calls a method of the `common` service over XML-RPC.
pub(crate) async fn xmlrpc_service(
    client: &Client,
    service: Service,
    method: &str,
    args: Vec<Value>,
) -> Result<Value> {
    let span = tracing::info_span!(
        "odoo.service",
        protocol = "xmlrpc",
        service = service.name(),
        method
    );
    let params: Vec<XmlRpcValue> = args.iter().map(XmlRpcValue::from_json).collect();
    let path = format!("xmlrpc/2/{}", service.name());
    post_xmlrpc(client, &path, method, &params)
        .instrument(span)
        .await
        .map_err(|e| e.redact(client.credentials().secret()))
}

async fn post_xmlrpc(
    client: &Client,
    path: &str,
    method: &str,
    params: &[XmlRpcValue],
) -> Result<Value> {
    let reply = send_xmlrpc(client, path, method, params).await?;
    decode_xmlrpc_typed(path, &reply, "common", method)
}

async fn send_xmlrpc(
    client: &Client,
    path: &str,
    method: &str,
    params: &[XmlRpcValue],
) -> Result<Reply> {
    let body = xmlrpc::encode_call(method, params)
        .map_err(|e| Error::config(format!("cannot encode the arguments: {e}")))?;
    client
        .transport()
        .post(path, "text/xml", HeaderMap::new(), body)
        .await
}

fn xml_body_error(path: &str, reply: &Reply, err: &xmlrpc::XmlRpcError) -> Error {
    let head: String =
        String::from_utf8_lossy(&reply.body[..reply.body.len().min(512)]).to_ascii_lowercase();
    if head.contains("<html") || head.contains("<!doctype") || !reply.content_type.contains("xml") {
        let mut fake = Reply {
            status: reply.status,
            content_type: "text/html".to_owned(),
            body: Vec::new(),
        };
        fake.body.clone_from(&reply.body);
        return body_error(path, &fake, err);
    }
    let kind = if reply.body.iter().all(u8::is_ascii_whitespace) {
        ProtocolErrorKind::Empty
    } else if matches!(err, xmlrpc::XmlRpcError::TooDeep { .. }) {
        ProtocolErrorKind::TooDeep
    } else if err.is_eof() {
        ProtocolErrorKind::Truncated
    } else {
        ProtocolErrorKind::Unexpected
    };
    Error::protocol(
        kind,
        &format!("/{path}"),
        Some(reply.status),
        err.to_string(),
        &reply.body,
    )
}

/// Turns an XML-RPC fault into an error (or, for the one fault that means
/// "the method succeeded and returned None", into `null`).
fn fault_to_result(code: xmlrpc::FaultCode, string: String) -> Result<Value> {
    let err = match code {
        xmlrpc::FaultCode::Int(code) => {
            let (name, message, debug) = match code {
                2 => {
                    // Fault 2 covers the UserError family without naming
                    // the class; recognise what the message gives away.
                    let name = if string.starts_with("Record does not exist") {
                        "odoo.exceptions.MissingError"
                    } else if string.starts_with("The operation cannot be completed") {
                        // Required fields and SQL constraints.
                        "odoo.exceptions.ValidationError"
                    } else {
                        "odoo.exceptions.UserError"
                    };
                    (name.to_owned(), string, None)
                }
                3 => ("odoo.exceptions.AccessDenied".to_owned(), string, None),
                4 => ("odoo.exceptions.AccessError".to_owned(), string, None),
                _ => {
                    let (name, message) = last_exception(&string);
                    if name == "builtins.TypeError"
                        && message.starts_with("cannot marshal None unless allow_none")
                    {
                        // The method ran (and its transaction committed); only
                        // marshalling its `None` result failed.
                        return Ok(Value::Null);
                    }
                    (name, message, Some(string))
                }
            };
            let mut err = ServerError::new(name, message);
            err.debug = debug;
            err.code = Some(FaultCode::Int(code));
            err
        }
        xmlrpc::FaultCode::String(code) => {
            // Legacy /xmlrpc/ endpoints: "warning -- UserError\n\n<message>"
            // or a bare exception name such as "AccessDenied".
            let (name, message) = match code.split_once(" -- ") {
                Some((_, rest)) => {
                    let (class, message) = rest.split_once("\n\n").unwrap_or((rest, ""));
                    (
                        format!("odoo.exceptions.{}", class.trim()),
                        message.to_owned(),
                    )
                }
                None if !code.contains(char::is_whitespace) => {
                    (format!("odoo.exceptions.{code}"), code.clone())
                }
                None => last_exception(&code),
            };
            let mut err = ServerError::new(name, message);
            if !string.is_empty() {
                err.debug = Some(string);
            }
            err.code = Some(FaultCode::String(code));
            err
        }
    };
    Err(Error::server(err))
}

/// The exception class and message of a Python traceback's last line
/// (`ValueError: Invalid field ...`, `odoo.exceptions.UserError: ...`).
fn last_exception(traceback: &str) -> (String, String) {
    let line = traceback
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with(' ') && !l.starts_with('\t'))
        .unwrap_or("");
    match line.split_once(": ") {
        Some((class, message))
            if !class.is_empty()
                && class
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.') =>
        {
            let class = if class.contains('.') {
                class.to_owned()
            } else {
                format!("builtins.{class}")
            };
            (class, message.to_owned())
        }
        _ => ("builtins.Exception".to_owned(), line.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_exception_reads_the_final_line_of_a_traceback() {
        let tb = "Traceback (most recent call last):\n  File \"x.py\", line 1\n    raise\nValueError: Invalid field 'x' on 'res.partner'\n";
        assert_eq!(
            last_exception(tb),
            (
                "builtins.ValueError".to_owned(),
                "Invalid field 'x' on 'res.partner'".to_owned()
            )
        );
        let tb = "Traceback:\n  File\npsycopg2.OperationalError: connection failed\n\n";
        assert_eq!(last_exception(tb).0, "psycopg2.OperationalError");
    }

    #[test]
    fn json2_body_names_every_argument() {
        let mut call = Call::new("res.partner".into(), "write".into())
            .with_ids(vec![7])
            .named("vals", serde_json::json!({"name": "x"}));
        call.merge_default_context(&Context::new().lang("en_US"));
        let body = Value::Object(call.json2_body().unwrap());
        assert_eq!(
            body,
            serde_json::json!({"ids": [7], "vals": {"name": "x"}, "context": {"lang": "en_US"}})
        );
        assert_eq!(
            call.positional(),
            vec![serde_json::json!([7]), serde_json::json!({"name": "x"})]
        );
    }

    #[test]
    fn unnamed_positional_arguments_are_refused_on_json2() {
        let mut call = Call::new("res.partner".into(), "x".into());
        call.args.push((None, Value::from(1)));
        let err = call.json2_body().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Configuration);
    }

    #[test]
    fn model_and_method_names_are_checked() {
        assert!(
            Call::new("res.partner".into(), "search".into())
                .check_names()
                .is_ok()
        );
        assert!(
            Call::new("res/partner".into(), "x".into())
                .check_names()
                .is_err()
        );
        assert!(
            Call::new("res.partner".into(), "a?b".into())
                .check_names()
                .is_err()
        );
        assert!(Call::new(String::new(), "x".into()).check_names().is_err());
    }
}
