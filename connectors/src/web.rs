//! What the HTTPS connectors share: reading `Retry-After`, encoding URL
//! components, and describing a body that is not the JSON expected.

use crate::error::{ConnectorError, ErrorKind};
use canonical_model::SystemId;
use rust_decimal::Decimal;
use serde_json::Value;
use std::str::FromStr;
use std::time::Duration;

/// A number written as text (`"1250.50"`, `"1.25E+3"`), exactly: from its
/// digits, never through floating point.
pub(crate) fn decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    Decimal::from_str(text)
        .or_else(|_| Decimal::from_scientific(text))
        .ok()
}

/// An id a vendor sends as a string or a number; blank is none.
#[cfg_attr(not(any(feature = "hubspot", feature = "bamboohr")), allow(dead_code))]
pub(crate) fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
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
#[cfg_attr(not(any(feature = "salesforce", feature = "gusto")), allow(dead_code))]
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

/// What a body that is not `vendor`'s JSON looks like, for a message
/// (never the body itself: it may echo a request or a secret).
#[cfg_attr(
    not(any(feature = "hubspot", feature = "salesforce", feature = "gusto")),
    allow(dead_code)
)]
pub(crate) fn describe_body(body: &[u8], vendor: &str) -> String {
    let head = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    match head {
        None => "an empty body".into(),
        Some(b'<') => format!("an HTML page, not {vendor}'s JSON (a proxy or maintenance page?)"),
        Some(b'{' | b'[') => format!("JSON that is cut short or not the shape {vendor} sends"),
        Some(_) => "a body that is not JSON".into(),
    }
}

/// A transport error, without the URL (it may carry a query).
#[cfg_attr(not(any(feature = "salesforce", feature = "gusto")), allow(dead_code))]
pub(crate) fn transport(system: SystemId, what: &str, e: reqwest::Error) -> ConnectorError {
    ConnectorError::new(ErrorKind::Transport, format!("{what}: {}", e.without_url()))
        .with_system(system)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past: no wait"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn bodies_are_described_never_quoted() {
        let page = describe_body(b"<html>secret-token</html>", "Gusto");
        assert!(page.contains("HTML") && !page.contains("secret"));
        assert!(describe_body(b"  ", "Gusto").contains("empty"));
        assert!(describe_body(b"{\"a\":", "Gusto").contains("cut short"));
        assert_eq!(percent_encode("a b/ü"), "a%20b%2F%C3%BC");
        assert_eq!(decimal(" 1.25E+3 "), Some(Decimal::from(1250)));
        assert_eq!(
            decimal("0.1").map(|d| d.to_string()).as_deref(),
            Some("0.1")
        );
        assert_eq!(decimal("twelve"), None);
        assert_eq!(id_text(&Value::from(42)).as_deref(), Some("42"));
        assert_eq!(id_text(&Value::from(" ")), None);
    }
}
