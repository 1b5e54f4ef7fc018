//! Answer bodies: read up to a cap, decoded with the path of what does not
//! fit; `Retry-After`; URL and form encoding.

use super::errors::describe_body;
use crate::error::{ConnectorError, ConnectorErrorKind};
use odoo_integration_model::SystemId;
use serde::de::DeserializeOwned;
use std::time::Duration;

/// The largest answer body a vendor connector reads unless its client is
/// built with another cap: 64 MiB. Vendors page their answers (HubSpot 100
/// records, Salesforce 2,000, BambooHR's whole report of a few thousand
/// employees is a few MiB); anything bigger is a broken or hostile server,
/// refused before it can exhaust memory.
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;

/// Reads an answer's body, at most `limit` bytes: a declared
/// `Content-Length` over the limit is refused before reading, a streamed
/// body stops being read when it passes it.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    system: &SystemId,
    label: &str,
    limit: usize,
) -> Result<Vec<u8>, ConnectorError> {
    let too_large = |seen: u64| {
        ConnectorError::new(
            ConnectorErrorKind::Protocol,
            format!(
                "{label}: the answer is larger than the limit of {limit} bytes (at least {seen})"
            ),
        )
        .with_system(system.clone())
    };
    let declared = response.content_length();
    if let Some(length) = declared
        && length > limit as u64
    {
        return Err(too_large(length));
    }
    let mut body = Vec::with_capacity(declared.map_or(0, |n| n as usize).min(limit));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > limit {
                    return Err(too_large((body.len() + chunk.len()) as u64));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                let e = e.without_url();
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Transport,
                    format!("{label}: reading the answer: {e}"),
                )
                .with_system(system.clone())
                .with_source(e));
            }
        }
    }
}

/// Decodes a JSON answer into `T`. What does not fit is a protocol error
/// naming the request, the vendor and the JSON path ("GET /x: not the JSON
/// HubSpot sends at `results[3].properties`: …"); a body that is not JSON
/// at all is described, never quoted. An empty body reads as `null` (a
/// 204).
pub(crate) fn decode<T: DeserializeOwned>(
    system: &SystemId,
    vendor: &str,
    label: &str,
    bytes: &[u8],
) -> Result<T, ConnectorError> {
    let protocol = |message: String| {
        ConnectorError::new(ConnectorErrorKind::Protocol, message).with_system(system.clone())
    };
    let head = bytes.iter().copied().find(|b| !b.is_ascii_whitespace());
    let described = |e: &dyn std::fmt::Display| {
        protocol(format!(
            "{label}: the answer is {} ({e})",
            describe_body(bytes, vendor)
        ))
    };
    let result = match head {
        None => serde_path_to_error::deserialize(serde_json::Value::Null),
        Some(b'{' | b'[' | b'"' | b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
            let mut de = serde_json::Deserializer::from_slice(bytes);
            match serde_path_to_error::deserialize(&mut de) {
                // Trailing bytes after the value are not JSON either.
                Ok(value) => return de.end().map(|()| value).map_err(|e| described(&e)),
                Err(e) => Err(e),
            }
        }
        Some(_) => {
            return Err(protocol(format!(
                "{label}: the answer is {}",
                describe_body(bytes, vendor)
            )));
        }
    };
    result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_eof() {
            described(&inner)
        } else if path == "." {
            protocol(format!("{label}: not the JSON {vendor} sends: {inner}"))
        } else {
            protocol(format!(
                "{label}: not the JSON {vendor} sends at `{path}`: {inner}"
            ))
        }
    })
}

/// Decodes a JSON value already read (part of an answer) into `T`, naming
/// the path below `at` of what does not fit.
pub(crate) fn decode_value<T: DeserializeOwned>(
    system: &SystemId,
    vendor: &str,
    label: &str,
    at: &str,
    value: &serde_json::Value,
) -> Result<T, ConnectorError> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let path = match (at, path.as_str()) {
            ("", p) => p.to_owned(),
            (a, ".") => a.to_owned(),
            (a, p) if p.starts_with('[') => format!("{a}{p}"),
            (a, p) => format!("{a}.{p}"),
        };
        ConnectorError::new(
            ConnectorErrorKind::Protocol,
            format!(
                "{label}: not the JSON {vendor} sends at `{path}`: {}",
                e.into_inner()
            ),
        )
        .with_system(system.clone())
    })
}

/// `Retry-After`: whole seconds, or an HTTP date (a wait until then).
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// The `Retry-After` of an answer.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after)
}

/// Percent-encodes one URL component (RFC 3986 unreserved kept).
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `application/x-www-form-urlencoded` (also a query string).
pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}
