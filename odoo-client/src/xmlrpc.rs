//! The XML-RPC codec, on quick-xml: calls and responses, both directions.
//!
//! Decoding accepts every value type of the specification (`int`, `i4`,
//! `i8`, `boolean`, `string` and untyped text, `double`,
//! `dateTime.iso8601`, `base64`, `struct`, `array`, `nil`), keeps whitespace
//! inside strings exactly, resolves entity and character references, and
//! turns anything that is not an XML-RPC document (an HTML page, a
//! truncated body) into an error. Encoding writes events through
//! `quick_xml::Writer`; text is escaped, `\r` is written as `&#13;` so that
//! XML line-end normalisation cannot change it, and characters XML 1.0
//! cannot carry are refused.

use std::borrow::Cow;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::NaiveDateTime;
use quick_xml::Reader;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Number, Value};

/// An XML-RPC value.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum XmlRpcValue {
    Int(i64),
    Bool(bool),
    String(String),
    Double(f64),
    DateTime(NaiveDateTime),
    Base64(Vec<u8>),
    Struct(Vec<(String, XmlRpcValue)>),
    Array(Vec<XmlRpcValue>),
    Nil,
}

/// A fault code: an integer, or a string on Odoo's legacy endpoints.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FaultCode {
    Int(i64),
    String(String),
}

/// A decoded `methodResponse`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum MethodResponse<T> {
    Success(T),
    Fault { code: FaultCode, string: String },
}

/// What went wrong while encoding or decoding.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum XmlRpcError {
    #[error("the body is empty")]
    Empty,
    #[error("malformed xml at byte {position}: {message}")]
    Malformed { position: u64, message: String },
    #[error("the document ends before the xml-rpc reply does (at byte {position})")]
    UnexpectedEof { position: u64 },
    #[error("unexpected {found} at byte {position}, expected {expected}")]
    Unexpected {
        position: u64,
        expected: &'static str,
        found: String,
    },
    #[error("invalid <{kind}> value `{text}`")]
    InvalidValue { kind: &'static str, text: String },
    #[error("cannot encode {0}")]
    Unencodable(String),
    #[error("values nest deeper than {limit} levels (at byte {position})")]
    TooDeep { limit: usize, position: u64 },
}

impl XmlRpcError {
    /// `true` when the body stopped in the middle of the document.
    pub(crate) fn is_eof(&self) -> bool {
        matches!(self, XmlRpcError::UnexpectedEof { .. })
    }
}

type Result<T> = std::result::Result<T, XmlRpcError>;

/// How deep arrays and structs may nest in a document we decode (the
/// limit `serde_json` keeps too). Each level costs stack in the recursive
/// decoders; without a bound, a small hostile body aborts the process.
pub(crate) const MAX_DEPTH: usize = 128;

// ------------------------------------------------------------------ encoding

/// Encodes a `methodCall`.
pub(crate) fn encode_call(method: &str, params: &[XmlRpcValue]) -> Result<Vec<u8>> {
    let mut w = Writer::new(Vec::with_capacity(256 + params.len() * 64));
    decl(&mut w)?;
    start(&mut w, "methodCall")?;
    text_element(&mut w, "methodName", method)?;
    start(&mut w, "params")?;
    for p in params {
        start(&mut w, "param")?;
        write_value(&mut w, p)?;
        end(&mut w, "param")?;
    }
    end(&mut w, "params")?;
    end(&mut w, "methodCall")?;
    Ok(w.into_inner())
}

/// Encodes a `methodResponse` (a value or a fault).
pub(crate) fn encode_response(response: &MethodResponse<XmlRpcValue>) -> Result<Vec<u8>> {
    let mut w = Writer::new(Vec::with_capacity(1024));
    decl(&mut w)?;
    start(&mut w, "methodResponse")?;
    match response {
        MethodResponse::Success(value) => {
            start(&mut w, "params")?;
            start(&mut w, "param")?;
            write_value(&mut w, value)?;
            end(&mut w, "param")?;
            end(&mut w, "params")?;
        }
        MethodResponse::Fault { code, string } => {
            let code = match code {
                FaultCode::Int(i) => XmlRpcValue::Int(*i),
                FaultCode::String(s) => XmlRpcValue::String(s.clone()),
            };
            start(&mut w, "fault")?;
            write_value(
                &mut w,
                &XmlRpcValue::Struct(vec![
                    ("faultCode".to_owned(), code),
                    (
                        "faultString".to_owned(),
                        XmlRpcValue::String(string.clone()),
                    ),
                ]),
            )?;
            end(&mut w, "fault")?;
        }
    }
    end(&mut w, "methodResponse")?;
    Ok(w.into_inner())
}

fn io(e: std::io::Error) -> XmlRpcError {
    XmlRpcError::Unencodable(e.to_string())
}

fn decl(w: &mut Writer<Vec<u8>>) -> Result<()> {
    w.write_event(Event::Decl(BytesDecl::new("1.0", None, None)))
        .map_err(io)
}

fn start(w: &mut Writer<Vec<u8>>, tag: &str) -> Result<()> {
    w.write_event(Event::Start(BytesStart::new(tag)))
        .map_err(io)
}

fn end(w: &mut Writer<Vec<u8>>, tag: &str) -> Result<()> {
    w.write_event(Event::End(BytesEnd::new(tag))).map_err(io)
}

fn text_element(w: &mut Writer<Vec<u8>>, tag: &str, text: &str) -> Result<()> {
    start(w, tag)?;
    if !text.is_empty() {
        w.write_event(Event::Text(BytesText::from_escaped(escape(text)?)))
            .map_err(io)?;
    }
    end(w, tag)
}

/// Escapes `&`, `<`, `>` and `\r`; refuses characters XML 1.0 cannot carry.
fn escape(text: &str) -> Result<Cow<'_, str>> {
    if let Some(bad) = text.chars().find(|&c| !is_xml_char(c)) {
        return Err(XmlRpcError::Unencodable(format!(
            "the character U+{:04X}, which XML 1.0 cannot carry",
            bad as u32
        )));
    }
    let escaped = quick_xml::escape::partial_escape(text);
    Ok(if escaped.contains('\r') {
        Cow::Owned(escaped.replace('\r', "&#13;"))
    } else {
        escaped
    })
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn write_value(w: &mut Writer<Vec<u8>>, value: &XmlRpcValue) -> Result<()> {
    start(w, "value")?;
    match value {
        XmlRpcValue::Int(i) => {
            let tag = if i32::try_from(*i).is_ok() {
                "int"
            } else {
                "i8"
            };
            text_element(w, tag, &i.to_string())?;
        }
        XmlRpcValue::Bool(b) => text_element(w, "boolean", if *b { "1" } else { "0" })?,
        XmlRpcValue::String(s) => text_element(w, "string", s)?,
        XmlRpcValue::Double(f) => {
            if !f.is_finite() {
                return Err(XmlRpcError::Unencodable(format!("the double {f}")));
            }
            text_element(w, "double", &format!("{f:?}"))?;
        }
        XmlRpcValue::DateTime(dt) => text_element(
            w,
            "dateTime.iso8601",
            &dt.format("%Y%m%dT%H:%M:%S").to_string(),
        )?,
        XmlRpcValue::Base64(bytes) => text_element(w, "base64", &STANDARD.encode(bytes))?,
        XmlRpcValue::Struct(members) => {
            start(w, "struct")?;
            for (name, v) in members {
                start(w, "member")?;
                text_element(w, "name", name)?;
                write_value(w, v)?;
                end(w, "member")?;
            }
            end(w, "struct")?;
        }
        XmlRpcValue::Array(items) => {
            start(w, "array")?;
            start(w, "data")?;
            for v in items {
                write_value(w, v)?;
            }
            end(w, "data")?;
            end(w, "array")?;
        }
        XmlRpcValue::Nil => w
            .write_event(Event::Empty(BytesStart::new("nil")))
            .map_err(io)?,
    }
    end(w, "value")
}

impl XmlRpcValue {
    /// The XML-RPC form of a JSON value: integers as `int`, other numbers as
    /// `double`, `null` as `nil`, objects as structs (key order kept).
    pub(crate) fn from_json(value: &Value) -> Self {
        match value {
            Value::Null => XmlRpcValue::Nil,
            Value::Bool(b) => XmlRpcValue::Bool(*b),
            Value::Number(n) => match n.as_i64() {
                Some(i) => XmlRpcValue::Int(i),
                None => XmlRpcValue::Double(n.as_f64().unwrap_or(f64::NAN)),
            },
            Value::String(s) => XmlRpcValue::String(s.clone()),
            Value::Array(items) => XmlRpcValue::Array(items.iter().map(Self::from_json).collect()),
            Value::Object(map) => XmlRpcValue::Struct(
                map.iter()
                    .map(|(k, v)| (k.clone(), Self::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The JSON form: datetimes as Odoo's `"YYYY-MM-DD HH:MM:SS"`, binaries
    /// as base64 text, `nil` as `null`.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn into_json(self) -> Value {
        match self {
            XmlRpcValue::Int(i) => Value::from(i),
            XmlRpcValue::Bool(b) => Value::Bool(b),
            XmlRpcValue::String(s) => Value::String(s),
            XmlRpcValue::Double(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            XmlRpcValue::DateTime(dt) => Value::String(dt.format("%Y-%m-%d %H:%M:%S").to_string()),
            XmlRpcValue::Base64(b) => Value::String(STANDARD.encode(b)),
            XmlRpcValue::Struct(members) => Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, v.into_json()))
                    .collect(),
            ),
            XmlRpcValue::Array(items) => {
                Value::Array(items.into_iter().map(XmlRpcValue::into_json).collect())
            }
            XmlRpcValue::Nil => Value::Null,
        }
    }
}

// ------------------------------------------------------------------ decoding

/// What a decoded value is built into: our own tree, or JSON directly.
trait Build: Sized {
    fn int(i: i64) -> Self;
    fn boolean(b: bool) -> Self;
    fn string(s: String) -> Self;
    fn double(f: f64) -> Self;
    fn datetime(dt: NaiveDateTime) -> Self;
    fn base64(text: &str) -> Result<Self>;
    fn structure(members: Vec<(String, Self)>) -> Self;
    fn array(items: Vec<Self>) -> Self;
    fn nil() -> Self;
}

impl Build for XmlRpcValue {
    fn int(i: i64) -> Self {
        XmlRpcValue::Int(i)
    }
    fn boolean(b: bool) -> Self {
        XmlRpcValue::Bool(b)
    }
    fn string(s: String) -> Self {
        XmlRpcValue::String(s)
    }
    fn double(f: f64) -> Self {
        XmlRpcValue::Double(f)
    }
    fn datetime(dt: NaiveDateTime) -> Self {
        XmlRpcValue::DateTime(dt)
    }
    fn base64(text: &str) -> Result<Self> {
        decode_base64(text).map(XmlRpcValue::Base64)
    }
    fn structure(members: Vec<(String, Self)>) -> Self {
        XmlRpcValue::Struct(members)
    }
    fn array(items: Vec<Self>) -> Self {
        XmlRpcValue::Array(items)
    }
    fn nil() -> Self {
        XmlRpcValue::Nil
    }
}

impl Build for Value {
    fn int(i: i64) -> Self {
        Value::from(i)
    }
    fn boolean(b: bool) -> Self {
        Value::Bool(b)
    }
    fn string(s: String) -> Self {
        Value::String(s)
    }
    fn double(f: f64) -> Self {
        Number::from_f64(f).map_or(Value::Null, Value::Number)
    }
    fn datetime(dt: NaiveDateTime) -> Self {
        Value::String(dt.format("%Y-%m-%d %H:%M:%S").to_string())
    }
    fn base64(text: &str) -> Result<Self> {
        // Validate, then keep the canonical text (Odoo's binary form).
        let bytes = decode_base64(text)?;
        Ok(Value::String(STANDARD.encode(bytes)))
    }
    fn structure(members: Vec<(String, Self)>) -> Self {
        let mut map = Map::new();
        for (k, v) in members {
            map.insert(k, v);
        }
        Value::Object(map)
    }
    fn array(items: Vec<Self>) -> Self {
        Value::Array(items)
    }
    fn nil() -> Self {
        Value::Null
    }
}

fn decode_base64(text: &str) -> Result<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|_| XmlRpcError::InvalidValue {
            kind: "base64",
            text: shorten(text),
        })
}

fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Decodes a `methodCall` into its method name and parameters.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn decode_call(body: &[u8]) -> Result<(String, Vec<XmlRpcValue>)> {
    let mut p = Parser::new(body)?;
    p.expect_start("methodCall")?;
    p.expect_start("methodName")?;
    let method = p.text_until("methodName")?.trim().to_owned();
    let mut params = Vec::new();
    match p.significant()? {
        Event::Start(s) if s.name().as_ref() == "params" => loop {
            match p.significant()? {
                Event::Start(s) if s.name().as_ref() == "param" => {
                    p.expect_start("value")?;
                    params.push(p.value::<XmlRpcValue>()?);
                    p.expect_end("param")?;
                }
                Event::End(e) if e.name().as_ref() == "params" => break,
                other => return Err(p.unexpected("<param> or </params>", &other)),
            }
        },
        Event::Empty(s) if s.name().as_ref() == "params" => {}
        Event::End(e) if e.name().as_ref() == "methodCall" => {
            p.expect_eof()?;
            return Ok((method, params));
        }
        other => return Err(p.unexpected("<params>", &other)),
    }
    p.expect_end("methodCall")?;
    p.expect_eof()?;
    Ok((method, params))
}

/// Decodes a `methodResponse` into our value tree.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn decode_response(body: &[u8]) -> Result<MethodResponse<XmlRpcValue>> {
    decode_response_as(body)
}

/// Decodes a `methodResponse` into JSON through the tree builder (the
/// reference the typed path is tested against).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn decode_response_json(body: &[u8]) -> Result<MethodResponse<Value>> {
    decode_response_as(body)
}

fn decode_response_as<T: Build + FaultParts>(body: &[u8]) -> Result<MethodResponse<T>> {
    let mut p = Parser::new(body)?;
    p.expect_start("methodResponse")?;
    let response = match p.significant()? {
        Event::Start(s) if s.name().as_ref() == "params" => {
            p.expect_start("param")?;
            p.expect_start("value")?;
            let v = p.value::<T>()?;
            p.expect_end("param")?;
            p.expect_end("params")?;
            MethodResponse::Success(v)
        }
        Event::Start(s) if s.name().as_ref() == "fault" => {
            p.expect_start("value")?;
            let v = p.value::<T>()?;
            p.expect_end("fault")?;
            let (code, string) = v.fault_parts().ok_or(XmlRpcError::Unexpected {
                position: p.position(),
                expected: "a fault struct with faultCode and faultString",
                found: "another value".to_owned(),
            })?;
            MethodResponse::Fault { code, string }
        }
        other => return Err(p.unexpected("<params> or <fault>", &other)),
    };
    p.expect_end("methodResponse")?;
    p.expect_eof()?;
    Ok(response)
}

/// Reads faultCode/faultString out of a decoded fault value.
trait FaultParts {
    fn fault_parts(self) -> Option<(FaultCode, String)>;
}

impl FaultParts for XmlRpcValue {
    fn fault_parts(self) -> Option<(FaultCode, String)> {
        let XmlRpcValue::Struct(members) = self else {
            return None;
        };
        let mut code = None;
        let mut string = None;
        for (k, v) in members {
            match (k.as_str(), v) {
                ("faultCode", XmlRpcValue::Int(i)) => code = Some(FaultCode::Int(i)),
                ("faultCode", XmlRpcValue::String(s)) => code = Some(FaultCode::String(s)),
                ("faultString", XmlRpcValue::String(s)) => string = Some(s),
                _ => {}
            }
        }
        Some((code?, string.unwrap_or_default()))
    }
}

impl FaultParts for Value {
    fn fault_parts(self) -> Option<(FaultCode, String)> {
        let code = match self.get("faultCode")? {
            Value::Number(n) => FaultCode::Int(n.as_i64()?),
            Value::String(s) => FaultCode::String(s.clone()),
            _ => return None,
        };
        let string = self
            .get("faultString")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Some((code, string))
    }
}

struct Parser<'a> {
    reader: Reader<&'a [u8]>,
    pending: Option<Event<'a>>,
    /// Arrays and structs open around the current position.
    depth: usize,
}

fn describe(event: &Event<'_>) -> String {
    match event {
        Event::Start(s) => format!("<{}>", s.name().as_ref()),
        Event::End(e) => format!("</{}>", e.name().as_ref()),
        Event::Empty(s) => format!("<{}/>", s.name().as_ref()),
        Event::Text(t) => format!("text {:?}", shorten(t)),
        Event::Eof => "end of document".to_owned(),
        _ => "markup".to_owned(),
    }
}

impl<'a> Parser<'a> {
    fn new(body: &'a [u8]) -> Result<Self> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(XmlRpcError::Empty);
        }
        let mut reader = Reader::from_reader(body);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.expand_empty_elements = false;
        Ok(Parser {
            reader,
            pending: None,
            depth: 0,
        })
    }

    fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    /// Enters an array or a struct, refusing to go deeper than
    /// [`MAX_DEPTH`].
    fn descend(&mut self) -> Result<()> {
        if self.depth >= MAX_DEPTH {
            return Err(XmlRpcError::TooDeep {
                limit: MAX_DEPTH,
                position: self.position(),
            });
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves an array or a struct.
    fn ascend(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn raw(&mut self) -> Result<Event<'a>> {
        if let Some(event) = self.pending.take() {
            return Ok(event);
        }
        match self.reader.read_event() {
            Ok(e) => Ok(e),
            Err(e) => {
                let position = self.reader.error_position();
                // Every syntax error of quick-xml is "the input ended before
                // this construct was closed".
                if matches!(e, quick_xml::Error::Syntax(_)) {
                    return Err(XmlRpcError::UnexpectedEof { position });
                }
                Err(XmlRpcError::Malformed {
                    position,
                    message: e.to_string(),
                })
            }
        }
    }

    /// The next event that is not whitespace, a comment, a declaration or a
    /// processing instruction.
    fn significant(&mut self) -> Result<Event<'a>> {
        loop {
            match self.raw()? {
                Event::Text(t) if t.trim().is_empty() => {}
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
                Event::Eof => {
                    return Err(XmlRpcError::UnexpectedEof {
                        position: self.position(),
                    });
                }
                other => return Ok(other),
            }
        }
    }

    fn unexpected(&self, expected: &'static str, found: &Event<'_>) -> XmlRpcError {
        XmlRpcError::Unexpected {
            position: self.position(),
            expected,
            found: describe(found),
        }
    }

    fn expect_start(&mut self, tag: &'static str) -> Result<()> {
        match self.significant()? {
            Event::Start(s) if s.name().as_ref() == tag => Ok(()),
            other => Err(self.unexpected(tag, &other)),
        }
    }

    fn expect_end(&mut self, tag: &'static str) -> Result<()> {
        match self.significant()? {
            Event::End(e) if e.name().as_ref() == tag => Ok(()),
            other => Err(self.unexpected(tag, &other)),
        }
    }

    fn expect_eof(&mut self) -> Result<()> {
        loop {
            match self.raw()? {
                Event::Eof => return Ok(()),
                Event::Text(t) if t.trim().is_empty() => {}
                Event::Comment(_) | Event::PI(_) => {}
                other => return Err(self.unexpected("the end of the document", &other)),
            }
        }
    }

    /// Text (with references resolved) up to `</tag>`.
    fn text_until(&mut self, tag: &'static str) -> Result<Cow<'a, str>> {
        let mut out: Option<Cow<'a, str>> = None;
        loop {
            match self.raw()? {
                Event::Text(t) => {
                    let piece = self.text_of(t)?;
                    out = Some(match out {
                        None => piece,
                        Some(prev) => Cow::Owned(prev.into_owned() + &piece),
                    });
                }
                Event::CData(c) => {
                    let piece = c.into_inner().into_owned();
                    out = Some(Cow::Owned(
                        out.map(Cow::into_owned).unwrap_or_default() + &piece,
                    ));
                }
                Event::GeneralRef(r) => {
                    let ch = match r.resolve_char_ref() {
                        Ok(Some(c)) => c,
                        Ok(None) => predefined(&r).ok_or_else(|| XmlRpcError::Malformed {
                            position: self.position(),
                            message: format!("unknown entity &{};", &*r),
                        })?,
                        Err(e) => {
                            return Err(XmlRpcError::Malformed {
                                position: self.position(),
                                message: e.to_string(),
                            });
                        }
                    };
                    let mut s = out.map(Cow::into_owned).unwrap_or_default();
                    s.push(ch);
                    out = Some(Cow::Owned(s));
                }
                Event::End(e) if e.name().as_ref() == tag => {
                    return Ok(out.unwrap_or(Cow::Borrowed("")));
                }
                Event::Comment(_) => {}
                Event::Eof => {
                    return Err(XmlRpcError::UnexpectedEof {
                        position: self.position(),
                    });
                }
                other => return Err(self.unexpected("text", &other)),
            }
        }
    }

    fn text_of(&self, t: BytesText<'a>) -> Result<Cow<'a, str>> {
        let normalised = t.xml10_content();
        Ok(normalised)
    }

    /// A value, after its `<value>` start tag, up to and including
    /// `</value>`.
    fn value<T: Build>(&mut self) -> Result<T> {
        let mut leading = String::new();
        loop {
            match self.raw()? {
                Event::Text(t) => leading.push_str(&self.text_of(t)?),
                Event::GeneralRef(_) | Event::CData(_) => {
                    return Err(XmlRpcError::Malformed {
                        position: self.position(),
                        message: "references in untyped values are not supported".to_owned(),
                    });
                }
                Event::End(e) if e.name().as_ref() == "value" => {
                    // Untyped text is a string.
                    return Ok(T::string(leading));
                }
                Event::Start(s) => {
                    if !leading.trim().is_empty() {
                        return Err(
                            self.unexpected("a typed value or text, not both", &Event::Start(s))
                        );
                    }
                    let name = s.name().as_ref().to_owned();
                    let v = self.typed::<T>(&name)?;
                    self.expect_end("value")?;
                    return Ok(v);
                }
                Event::Empty(s) => {
                    let v = match s.name().as_ref() {
                        "nil" => T::nil(),
                        "string" => T::string(String::new()),
                        "array" => T::array(Vec::new()),
                        "struct" => T::structure(Vec::new()),
                        _ => return Err(self.unexpected("a value", &Event::Empty(s))),
                    };
                    self.expect_end("value")?;
                    return Ok(v);
                }
                Event::Comment(_) => {}
                Event::Eof => {
                    return Err(XmlRpcError::UnexpectedEof {
                        position: self.position(),
                    });
                }
                other => return Err(self.unexpected("a value", &other)),
            }
        }
    }

    fn typed<T: Build>(&mut self, name: &str) -> Result<T> {
        Ok(match name {
            "int" | "i4" | "i8" => {
                let text = self.text_until(static_name(name))?;
                let t = text.trim();
                T::int(t.parse().map_err(|_| XmlRpcError::InvalidValue {
                    kind: "int",
                    text: shorten(t),
                })?)
            }
            "boolean" => {
                let text = self.text_until("boolean")?;
                match text.trim() {
                    "1" => T::boolean(true),
                    "0" => T::boolean(false),
                    other => {
                        return Err(XmlRpcError::InvalidValue {
                            kind: "boolean",
                            text: shorten(other),
                        });
                    }
                }
            }
            "string" => T::string(self.text_until("string")?.into_owned()),
            "double" => {
                let text = self.text_until("double")?;
                let t = text.trim();
                T::double(t.parse().map_err(|_| XmlRpcError::InvalidValue {
                    kind: "double",
                    text: shorten(t),
                })?)
            }
            "dateTime.iso8601" => {
                let text = self.text_until("dateTime.iso8601")?;
                let t = text.trim();
                let dt = ["%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y%m%dT%H%M%S"]
                    .iter()
                    .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
                    .ok_or_else(|| XmlRpcError::InvalidValue {
                        kind: "dateTime.iso8601",
                        text: shorten(t),
                    })?;
                T::datetime(dt)
            }
            "base64" => T::base64(&self.text_until("base64")?)?,
            "nil" => {
                self.expect_end("nil")?;
                T::nil()
            }
            "array" => {
                self.descend()?;
                let mut items = Vec::new();
                match self.significant()? {
                    Event::Start(s) if s.name().as_ref() == "data" => loop {
                        match self.significant()? {
                            Event::Start(s) if s.name().as_ref() == "value" => {
                                items.push(self.value::<T>()?)
                            }
                            Event::End(e) if e.name().as_ref() == "data" => break,
                            other => return Err(self.unexpected("<value> or </data>", &other)),
                        }
                    },
                    Event::Empty(s) if s.name().as_ref() == "data" => {}
                    other => return Err(self.unexpected("<data>", &other)),
                }
                self.expect_end("array")?;
                self.ascend();
                T::array(items)
            }
            "struct" => {
                self.descend()?;
                let mut members = Vec::new();
                loop {
                    match self.significant()? {
                        Event::Start(s) if s.name().as_ref() == "member" => {
                            self.expect_start("name")?;
                            let key = self.text_until("name")?.into_owned();
                            self.expect_start("value")?;
                            let v = self.value::<T>()?;
                            self.expect_end("member")?;
                            members.push((key, v));
                        }
                        Event::End(e) if e.name().as_ref() == "struct" => break,
                        other => return Err(self.unexpected("<member> or </struct>", &other)),
                    }
                }
                self.ascend();
                T::structure(members)
            }
            other => {
                return Err(XmlRpcError::Unexpected {
                    position: self.position(),
                    expected: "an xml-rpc type",
                    found: format!("<{other}>"),
                });
            }
        })
    }
}

fn static_name(name: &str) -> &'static str {
    match name {
        "i4" => "i4",
        "i8" => "i8",
        _ => "int",
    }
}

fn predefined(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "apos" => '\'',
        "quot" => '"',
        _ => return None,
    })
}

// ------------------------------------------------------- straight into serde

/// Why a typed decode failed: the XML, or the value's shape.
#[derive(Debug)]
pub(crate) enum DeError {
    Xml(XmlRpcError),
    Custom(String),
}

impl std::fmt::Display for DeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeError::Xml(e) => e.fmt(f),
            DeError::Custom(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DeError {}

impl serde::de::Error for DeError {
    fn custom<M: std::fmt::Display>(msg: M) -> Self {
        DeError::Custom(msg.to_string())
    }
}

impl From<XmlRpcError> for DeError {
    fn from(e: XmlRpcError) -> Self {
        DeError::Xml(e)
    }
}

/// A typed decode failure: the XML, or a value at `path` that does not fit.
#[derive(Debug)]
pub(crate) enum TypedError {
    Xml(XmlRpcError),
    Decode { path: String, message: String },
}

impl From<XmlRpcError> for TypedError {
    fn from(e: XmlRpcError) -> Self {
        TypedError::Xml(e)
    }
}

/// Decodes a `methodResponse` straight into `T`, with no intermediate
/// tree: the events drive `T`'s `Deserialize` (the client's path). Faults
/// are decoded as usual.
pub(crate) fn decode_response_typed<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> std::result::Result<MethodResponse<T>, TypedError> {
    let mut p = Parser::new(body)?;
    p.expect_start("methodResponse")?;
    let response = match p.significant()? {
        Event::Start(s) if s.name().as_ref() == "params" => {
            p.expect_start("param")?;
            p.expect_start("value")?;
            let v: T = serde_path_to_error::deserialize(ValueDe { p: &mut p }).map_err(|e| {
                let path = e.path().to_string();
                match e.into_inner() {
                    DeError::Xml(x) => TypedError::Xml(x),
                    DeError::Custom(message) => TypedError::Decode { path, message },
                }
            })?;
            p.expect_end("param")?;
            p.expect_end("params")?;
            MethodResponse::Success(v)
        }
        Event::Start(s) if s.name().as_ref() == "fault" => {
            p.expect_start("value")?;
            let v = p.value::<XmlRpcValue>()?;
            p.expect_end("fault")?;
            let (code, string) = v.fault_parts().ok_or(XmlRpcError::Unexpected {
                position: p.position(),
                expected: "a fault struct with faultCode and faultString",
                found: "another value".to_owned(),
            })?;
            MethodResponse::Fault { code, string }
        }
        other => return Err(p.unexpected("<params> or <fault>", &other).into()),
    };
    p.expect_end("methodResponse")?;
    p.expect_eof()?;
    Ok(response)
}

/// What follows a `<value>` start tag.
enum Opened<'a> {
    /// Untyped text (its `</value>` consumed).
    Text(Cow<'a, str>),
    /// `<type>` opened.
    Typed(String),
    /// `<type/>`.
    Empty(String),
}

impl<'a> Parser<'a> {
    fn open_value(&mut self) -> Result<Opened<'a>> {
        let mut leading: Option<Cow<'a, str>> = None;
        loop {
            match self.raw()? {
                Event::Text(t) => {
                    let piece = self.text_of(t)?;
                    leading = Some(match leading {
                        None => piece,
                        Some(prev) => Cow::Owned(prev.into_owned() + &piece),
                    });
                }
                Event::End(e) if e.name().as_ref() == "value" => {
                    return Ok(Opened::Text(leading.unwrap_or(Cow::Borrowed(""))));
                }
                Event::Start(s) => {
                    if leading.as_ref().is_some_and(|l| !l.trim().is_empty()) {
                        return Err(
                            self.unexpected("a typed value or text, not both", &Event::Start(s))
                        );
                    }
                    return Ok(Opened::Typed(s.name().as_ref().to_owned()));
                }
                Event::Empty(s) => return Ok(Opened::Empty(s.name().as_ref().to_owned())),
                Event::Comment(_) => {}
                Event::Eof => {
                    return Err(XmlRpcError::UnexpectedEof {
                        position: self.position(),
                    });
                }
                other => return Err(self.unexpected("a value", &other)),
            }
        }
    }
}

/// Deserializes one XML-RPC value, positioned just after its `<value>`.
struct ValueDe<'p, 'a> {
    p: &'p mut Parser<'a>,
}

fn visit_cow<'de, V: serde::de::Visitor<'de>>(
    visitor: V,
    text: Cow<'de, str>,
) -> std::result::Result<V::Value, DeError> {
    match text {
        Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
        Cow::Owned(s) => visitor.visit_string(s),
    }
}

impl<'a> ValueDe<'_, 'a> {
    /// Reads a scalar's text, up to its end tag.
    fn scalar(&mut self, name: &str) -> Result<Cow<'a, str>> {
        let tag = match name {
            "int" => "int",
            "i4" => "i4",
            "i8" => "i8",
            "boolean" => "boolean",
            "string" => "string",
            "double" => "double",
            "dateTime.iso8601" => "dateTime.iso8601",
            "base64" => "base64",
            _ => "value",
        };
        self.p.text_until(tag)
    }

    fn typed_any<V: serde::de::Visitor<'a>>(
        &mut self,
        name: &str,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        match name {
            "int" | "i4" | "i8" => {
                let text = self.scalar(name)?;
                let i: i64 = text.trim().parse().map_err(|_| XmlRpcError::InvalidValue {
                    kind: "int",
                    text: shorten(&text),
                })?;
                visitor.visit_i64(i)
            }
            "boolean" => match self.scalar(name)?.trim() {
                "1" => visitor.visit_bool(true),
                "0" => visitor.visit_bool(false),
                other => Err(XmlRpcError::InvalidValue {
                    kind: "boolean",
                    text: shorten(other),
                }
                .into()),
            },
            "string" => visit_cow(visitor, self.scalar(name)?),
            "double" => {
                let text = self.scalar(name)?;
                let f: f64 = text.trim().parse().map_err(|_| XmlRpcError::InvalidValue {
                    kind: "double",
                    text: shorten(&text),
                })?;
                visitor.visit_f64(f)
            }
            "dateTime.iso8601" | "base64" => {
                // Through the tree decoder's conversions (rare on Odoo).
                let text = self.scalar(name)?;
                let v = if name == "base64" {
                    Value::base64(&text)?
                } else {
                    let t = text.trim();
                    let dt = ["%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y%m%dT%H%M%S"]
                        .iter()
                        .find_map(|f| NaiveDateTime::parse_from_str(t, f).ok())
                        .ok_or_else(|| XmlRpcError::InvalidValue {
                            kind: "dateTime.iso8601",
                            text: shorten(t),
                        })?;
                    <Value as Build>::datetime(dt)
                };
                match v {
                    Value::String(s) => visitor.visit_string(s),
                    _ => visitor.visit_unit(),
                }
            }
            "nil" => {
                self.p.expect_end("nil")?;
                visitor.visit_unit()
            }
            "array" => {
                self.p.descend()?;
                let empty = match self.p.significant()? {
                    Event::Start(s) if s.name().as_ref() == "data" => false,
                    Event::Empty(s) if s.name().as_ref() == "data" => true,
                    other => return Err(self.p.unexpected("<data>", &other).into()),
                };
                let mut seq = SeqDe {
                    p: &mut *self.p,
                    done: empty,
                };
                let v = visitor.visit_seq(&mut seq)?;
                while !seq.done {
                    if serde::de::SeqAccess::next_element::<serde::de::IgnoredAny>(&mut seq)?
                        .is_none()
                    {
                        break;
                    }
                }
                self.p.expect_end("array")?;
                self.p.ascend();
                Ok(v)
            }
            "struct" => {
                self.p.descend()?;
                let mut map = MapDe {
                    p: &mut *self.p,
                    done: false,
                };
                let v = visitor.visit_map(&mut map)?;
                while !map.done {
                    if serde::de::MapAccess::next_key::<serde::de::IgnoredAny>(&mut map)?.is_none()
                    {
                        break;
                    }
                    serde::de::MapAccess::next_value::<serde::de::IgnoredAny>(&mut map)?;
                }
                self.p.ascend();
                Ok(v)
            }
            other => Err(XmlRpcError::Unexpected {
                position: self.p.position(),
                expected: "an xml-rpc type",
                found: format!("<{other}>"),
            }
            .into()),
        }
    }
}

impl<'de> serde::Deserializer<'de> for ValueDe<'_, 'de> {
    type Error = DeError;

    fn deserialize_any<V: serde::de::Visitor<'de>>(
        mut self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        match self.p.open_value()? {
            Opened::Text(text) => visit_cow(visitor, text),
            Opened::Empty(name) => {
                let v = match name.as_str() {
                    "nil" => visitor.visit_unit::<DeError>()?,
                    "string" => visitor.visit_borrowed_str::<DeError>("")?,
                    "array" => visitor.visit_seq(SeqDe {
                        p: &mut *self.p,
                        done: true,
                    })?,
                    "struct" => visitor.visit_map(MapDe {
                        p: &mut *self.p,
                        done: true,
                    })?,
                    other => {
                        return Err(XmlRpcError::Unexpected {
                            position: self.p.position(),
                            expected: "a value",
                            found: format!("<{other}/>"),
                        }
                        .into());
                    }
                };
                self.p.expect_end("value")?;
                Ok(v)
            }
            Opened::Typed(name) => {
                let v = self.typed_any(&name, visitor)?;
                self.p.expect_end("value")?;
                Ok(v)
            }
        }
    }

    fn deserialize_option<V: serde::de::Visitor<'de>>(
        self,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        let event = self.p.significant()?;
        match &event {
            Event::Empty(s) if s.name().as_ref() == "nil" => {
                self.p.expect_end("value")?;
                visitor.visit_none()
            }
            Event::Start(s) if s.name().as_ref() == "nil" => {
                self.p.expect_end("nil")?;
                self.p.expect_end("value")?;
                visitor.visit_none()
            }
            _ => {
                self.p.pending = Some(event);
                visitor.visit_some(self)
            }
        }
    }

    fn deserialize_newtype_struct<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: serde::de::Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> std::result::Result<V::Value, DeError> {
        // Selections arrive as strings: unit variants.
        let text = match self.p.open_value()? {
            Opened::Text(text) => text,
            Opened::Typed(name) if name == "string" => {
                let text = self.p.text_until("string")?;
                self.p.expect_end("value")?;
                text
            }
            _ => return Err(DeError::Custom("expected a string for an enum".to_owned())),
        };
        visitor.visit_enum(serde::de::value::CowStrDeserializer::<DeError>::new(text))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

struct SeqDe<'p, 'a> {
    p: &'p mut Parser<'a>,
    done: bool,
}

impl<'de> serde::de::SeqAccess<'de> for SeqDe<'_, 'de> {
    type Error = DeError;

    fn next_element_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> std::result::Result<Option<S::Value>, DeError> {
        if self.done {
            return Ok(None);
        }
        match self.p.significant()? {
            Event::Start(s) if s.name().as_ref() == "value" => {
                seed.deserialize(ValueDe { p: &mut *self.p }).map(Some)
            }
            Event::End(e) if e.name().as_ref() == "data" => {
                self.done = true;
                Ok(None)
            }
            other => Err(self.p.unexpected("<value> or </data>", &other).into()),
        }
    }
}

struct MapDe<'p, 'a> {
    p: &'p mut Parser<'a>,
    done: bool,
}

impl<'de> serde::de::MapAccess<'de> for MapDe<'_, 'de> {
    type Error = DeError;

    fn next_key_seed<K: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> std::result::Result<Option<K::Value>, DeError> {
        if self.done {
            return Ok(None);
        }
        match self.p.significant()? {
            Event::Start(s) if s.name().as_ref() == "member" => {
                self.p.expect_start("name")?;
                let key = self.p.text_until("name")?;
                seed.deserialize(serde::de::value::CowStrDeserializer::<DeError>::new(key))
                    .map(Some)
            }
            Event::End(e) if e.name().as_ref() == "struct" => {
                self.done = true;
                Ok(None)
            }
            other => Err(self.p.unexpected("<member> or </struct>", &other).into()),
        }
    }

    fn next_value_seed<S: serde::de::DeserializeSeed<'de>>(
        &mut self,
        seed: S,
    ) -> std::result::Result<S::Value, DeError> {
        self.p.expect_start("value")?;
        let v = seed.deserialize(ValueDe { p: &mut *self.p })?;
        self.p.expect_end("member")?;
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn exchange(name: &str) -> (String, String) {
        let file = format!(
            "{}/tests/fixtures/xmlrpc-http/{name}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
        (
            v["request"].as_str().unwrap().to_owned(),
            v["response"].as_str().unwrap().to_owned(),
        )
    }

    #[test]
    fn decodes_search_read_rows_with_every_odoo_shape() {
        let (_, response) = exchange("execute_kw_search_read");
        let MethodResponse::Success(Value::Array(rows)) =
            decode_response_json(response.as_bytes()).unwrap()
        else {
            panic!("not a list");
        };
        assert_eq!(rows[0]["name"], "YourCompany");
        assert_eq!(rows[0]["is_company"], true);
        assert_eq!(rows[0]["parent_id"], false);
        assert_eq!(
            rows[0]["country_id"],
            serde_json::json!([233, "United States"])
        );
        assert_eq!(rows[0]["credit_limit"], serde_json::json!(0.0));
        // The tree decoder agrees with the JSON fast path.
        let MethodResponse::Success(tree) = decode_response(response.as_bytes()).unwrap() else {
            panic!("not a success");
        };
        assert_eq!(tree.into_json(), Value::Array(rows));
    }

    #[test]
    fn decodes_faults_with_int_and_string_codes() {
        let (_, r) = exchange("fault_missing_record");
        match decode_response(r.as_bytes()).unwrap() {
            MethodResponse::Fault { code, string } => {
                assert_eq!(code, FaultCode::Int(2));
                assert!(string.starts_with(
                    "Record does not exist or has been deleted.\n(Record: res.partner(999999,)"
                ));
            }
            other => panic!("{other:?}"),
        }
        let (_, r) = exchange("legacy_fault_string_code");
        match decode_response_json(r.as_bytes()).unwrap() {
            MethodResponse::Fault {
                code: FaultCode::String(s),
                string,
            } => {
                assert!(s.starts_with("warning -- UserError\n\nYou cannot delete the admin user"));
                assert_eq!(string, "");
            }
            other => panic!("{other:?}"),
        }
        let (_, r) = exchange("fault_invalid_field");
        let MethodResponse::Fault { string, .. } = decode_response(r.as_bytes()).unwrap() else {
            panic!()
        };
        assert!(string.starts_with("Traceback (most recent call last):\n"));
        assert!(
            string
                .trim_end()
                .ends_with("ValueError: Invalid field 'no_such_field' on 'res.partner'")
        );
    }

    #[test]
    fn decodes_requests_with_nil_and_datetime() {
        let (request, _) = exchange("execute_kw_nil_param");
        let (method, params) = decode_call(request.as_bytes()).unwrap();
        assert_eq!(method, "execute_kw");
        assert_eq!(params[4], XmlRpcValue::String("search".into()));
        let XmlRpcValue::Struct(kwargs) = &params[6] else {
            panic!()
        };
        assert!(kwargs.contains(&("limit".to_owned(), XmlRpcValue::Nil)));
        let (request, _) = exchange("execute_kw_datetime_param");
        let (_, params) = decode_call(request.as_bytes()).unwrap();
        let expected =
            NaiveDateTime::parse_from_str("2000-01-01 00:00:00", "%Y-%m-%d %H:%M:%S").unwrap();
        assert_eq!(
            params[5],
            XmlRpcValue::Array(vec![XmlRpcValue::Array(vec![XmlRpcValue::Array(vec![
                XmlRpcValue::String("create_date".into()),
                XmlRpcValue::String(">=".into()),
                XmlRpcValue::DateTime(expected),
            ])])])
        );
    }

    #[test]
    fn encodes_calls_the_server_reads_back_the_same() {
        let (request, _) = exchange("execute_kw_search_read");
        let (method, params) = decode_call(request.as_bytes()).unwrap();
        let ours = encode_call(&method, &params).unwrap();
        assert_eq!(decode_call(&ours).unwrap(), (method, params));
    }

    #[test]
    fn base64_strings_and_base64_values() {
        let (_, r) = exchange("execute_kw_binary");
        let MethodResponse::Success(Value::Array(rows)) =
            decode_response_json(r.as_bytes()).unwrap()
        else {
            panic!()
        };
        let image = rows[0]["image_128"].as_str().unwrap();
        assert!(STANDARD.decode(image).is_ok());
        let body = b"<methodResponse><params><param><value><base64>aGVs\nbG8=</base64></value></param></params></methodResponse>";
        assert_eq!(
            decode_response(body).unwrap(),
            MethodResponse::Success(XmlRpcValue::Base64(b"hello".to_vec()))
        );
    }

    #[test]
    fn untyped_and_empty_values_are_strings() {
        let body = b"<methodResponse><params><param><value>  plain text </value></param></params></methodResponse>";
        assert_eq!(
            decode_response(body).unwrap(),
            MethodResponse::Success(XmlRpcValue::String("  plain text ".into()))
        );
        for body in [
            &b"<methodResponse><params><param><value></value></param></params></methodResponse>"[..],
            b"<methodResponse><params><param><value><string/></value></param></params></methodResponse>",
            b"<methodResponse><params><param><value><string></string></value></param></params></methodResponse>",
        ] {
            assert_eq!(decode_response(body).unwrap(), MethodResponse::Success(XmlRpcValue::String(String::new())));
        }
    }

    #[test]
    fn what_is_not_xml_rpc_is_an_error_not_a_panic() {
        let (_, ok) = exchange("execute_kw_search_read");
        let cases: Vec<&[u8]> = vec![
            b"",
            b"   ",
            b"<html><head><title>502 Bad Gateway</title></head></html>",
            b"<!DOCTYPE html><html><body>Odoo</body></html>",
            b"not xml at all",
            b"<methodResponse><params><param><value><int>x</int></value></param></params></methodResponse>",
            b"<methodResponse><params><param><value><boolean>2</boolean></value></param></params></methodResponse>",
            b"<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>trailing",
            &ok.as_bytes()[..ok.len() / 3],
        ];
        for body in cases {
            assert!(
                decode_response(body).is_err(),
                "{}",
                String::from_utf8_lossy(body)
            );
            assert!(decode_response_json(body).is_err());
        }
        for cut in [30, 50, 200, ok.len() / 2] {
            let err = decode_response_json(&ok.as_bytes()[..ok.len() - cut]).unwrap_err();
            assert!(err.is_eof(), "cut {cut}: {err:?}");
        }
    }

    #[test]
    fn unencodable_values_are_refused() {
        assert!(encode_call("m", &[XmlRpcValue::Double(f64::NAN)]).is_err());
        assert!(encode_call("m", &[XmlRpcValue::String("a\u{1}b".into())]).is_err());
    }

    fn arb_value() -> impl Strategy<Value = XmlRpcValue> {
        let text = || {
            proptest::string::string_regex("[ -~\\t\\n\\r\u{e9}\u{4e2d}\u{1f600}&<>\"']{0,12}")
                .unwrap()
        };
        let leaf = prop_oneof![
            any::<i64>().prop_map(XmlRpcValue::Int),
            any::<bool>().prop_map(XmlRpcValue::Bool),
            text().prop_map(XmlRpcValue::String),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(XmlRpcValue::Double),
            (0i64..4_102_444_800).prop_map(|s| XmlRpcValue::DateTime(
                chrono::DateTime::from_timestamp(s, 0)
                    .unwrap_or_default()
                    .naive_utc()
            )),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(XmlRpcValue::Base64),
            Just(XmlRpcValue::Nil),
        ];
        leaf.prop_recursive(4, 48, 6, move |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(XmlRpcValue::Array),
                proptest::collection::vec((text(), inner), 0..6).prop_map(XmlRpcValue::Struct),
            ]
        })
    }

    #[test]
    fn typed_decoding_reads_rows_and_names_the_failing_path() {
        #[derive(Debug, serde::Deserialize)]
        struct Row {
            id: i64,
            name: String,
            #[serde(with = "crate::value::falsy")]
            parent_id: Option<crate::value::Many2One>,
            country_id: crate::value::Many2One,
            #[serde(with = "crate::value::monetary")]
            credit_limit: rust_decimal::Decimal,
            #[serde(with = "crate::value::falsy")]
            tz: Option<String>,
        }
        let (_, r) = exchange("execute_kw_search_read");
        let MethodResponse::Success(rows) =
            decode_response_typed::<Vec<Row>>(r.as_bytes()).unwrap()
        else {
            panic!()
        };
        assert_eq!((rows[0].id, rows[0].name.as_str()), (1, "YourCompany"));
        assert_eq!(rows[0].country_id.id, 233);
        assert!(rows[0].parent_id.is_none() && rows[0].tz.is_none());
        assert_eq!(rows[0].credit_limit, rust_decimal::Decimal::ZERO);

        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Strict {
            tz: String,
        }
        match decode_response_typed::<Vec<Strict>>(r.as_bytes()) {
            Err(TypedError::Decode { path, message }) => {
                assert_eq!(path, "[0].tz");
                assert!(message.contains("expected a string"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            decode_response_typed::<Vec<Row>>(&r.as_bytes()[..r.len() - 40]),
            Err(TypedError::Xml(e)) if e.is_eof()
        ));
    }

    #[test]
    fn typed_decoding_handles_nil_options_and_selection_enums() {
        #[derive(Debug, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        enum State {
            Draft,
            Posted,
        }
        #[derive(Debug, PartialEq, serde::Deserialize)]
        struct Row {
            state: State,
            note: Option<String>,
            limit: Option<i64>,
        }
        let body = encode_response(&MethodResponse::Success(XmlRpcValue::Struct(vec![
            ("state".into(), XmlRpcValue::String("posted".into())),
            ("note".into(), XmlRpcValue::Nil),
            ("limit".into(), XmlRpcValue::Int(5)),
            (
                "ignored".into(),
                XmlRpcValue::Array(vec![XmlRpcValue::Nil, XmlRpcValue::Struct(vec![])]),
            ),
        ])))
        .unwrap();
        let MethodResponse::Success(row) = decode_response_typed::<Row>(&body).unwrap() else {
            panic!()
        };
        assert_eq!(
            row,
            Row {
                state: State::Posted,
                note: None,
                limit: Some(5)
            }
        );
    }

    proptest! {
        #[test]
        fn typed_decoding_agrees_with_the_tree(v in arb_value()) {
            let body = encode_response(&MethodResponse::Success(v)).unwrap();
            let typed = decode_response_typed::<Value>(&body).unwrap();
            prop_assert_eq!(typed, decode_response_json(&body).unwrap());
        }

        #[test]
        fn calls_round_trip(method in "[a-z_.]{1,20}", params in proptest::collection::vec(arb_value(), 0..5)) {
            let body = encode_call(&method, &params).unwrap();
            prop_assert_eq!(decode_call(&body).unwrap(), (method, params));
        }

        #[test]
        fn responses_round_trip(v in arb_value(), code in any::<i64>(), fault in "[ -~\\n]{0,30}") {
            let body = encode_response(&MethodResponse::Success(v.clone())).unwrap();
            prop_assert_eq!(decode_response(&body).unwrap(), MethodResponse::Success(v.clone()));
            prop_assert_eq!(decode_response_json(&body).unwrap(), MethodResponse::Success(v.into_json()));
            let f = MethodResponse::Fault { code: FaultCode::Int(code), string: fault };
            let body = encode_response(&f).unwrap();
            prop_assert_eq!(decode_response(&body).unwrap(), f);
        }

        #[test]
        fn truncated_bodies_never_panic(v in arb_value(), cut in 0usize..2000) {
            let body = encode_response(&MethodResponse::Success(v)).unwrap();
            let cut = cut.min(body.len().saturating_sub(1));
            let _ = decode_response(&body[..cut]);
            let _ = decode_response_json(&body[..cut]);
        }
    }
}
