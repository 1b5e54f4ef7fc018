//! What the HTTPS connectors share: reading `Retry-After`, encoding URL
//! components, and describing a body that is not the JSON expected.

use crate::error::{ConnectorError, ConnectorErrorKind};
use odoo_integration_model::SystemId;
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

/// The rustls crypto provider: the application's, or the one this crate's
/// `ring` (default) or `aws-lc-rs` feature chooses, installed as the
/// process default when the application installed none.
pub(crate) fn crypto_provider()
-> Result<std::sync::Arc<rustls::crypto::CryptoProvider>, ConnectorError> {
    use rustls::crypto::CryptoProvider;
    if let Some(installed) = CryptoProvider::get_default() {
        return Ok(std::sync::Arc::clone(installed));
    }
    #[cfg(feature = "aws-lc-rs")]
    let ours = Some(rustls::crypto::aws_lc_rs::default_provider());
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    let ours = Some(rustls::crypto::ring::default_provider());
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    let ours: Option<CryptoProvider> = None;
    let ours = ours.ok_or_else(|| {
        ConnectorError::new(
            ConnectorErrorKind::Configuration,
            "no TLS crypto provider: enable the `ring` or `aws-lc-rs` feature, or install one with \
             rustls::crypto::CryptoProvider::install_default",
        )
    })?;
    // Another thread may install one first: then that one is the default.
    let _ = ours.install_default();
    CryptoProvider::get_default().cloned().ok_or_else(|| {
        ConnectorError::new(
            ConnectorErrorKind::Configuration,
            "the TLS crypto provider could not be installed",
        )
    })
}

/// The HTTP client of a vendor connector: rustls with the crate's crypto
/// provider, our user agent, and a whole-request timeout.
pub(crate) fn http_client(
    timeout: Duration,
    system: SystemId,
) -> Result<reqwest::Client, ConnectorError> {
    crypto_provider().map_err(|e| e.with_system(system.clone()))?;
    reqwest::Client::builder()
        .user_agent(concat!("odoo-integration/", env!("CARGO_PKG_VERSION")))
        .timeout(timeout)
        .build()
        .map_err(|e| {
            ConnectorError::new(
                ConnectorErrorKind::Configuration,
                format!("cannot build the HTTP client: {}", e.without_url()),
            )
            .with_system(system)
        })
}

/// The largest answer body a vendor connector reads: 64 MiB. Vendors page
/// their answers (HubSpot 100 records, Salesforce 2,000, BambooHR's whole
/// report of a few thousand employees is a few MiB); anything bigger is a
/// broken or hostile server, refused before it can exhaust memory.
pub(crate) const MAX_BODY: usize = 64 * 1024 * 1024;

/// Reads an answer's body, at most [`MAX_BODY`] bytes: a declared
/// `Content-Length` over the limit is refused before reading, a streamed
/// body stops being read when it passes it.
#[cfg_attr(
    not(any(
        feature = "hubspot",
        feature = "salesforce",
        feature = "bamboohr",
        feature = "gusto"
    )),
    allow(dead_code)
)]
pub(crate) async fn read_body(
    response: reqwest::Response,
    system: SystemId,
    what: &str,
) -> Result<Vec<u8>, ConnectorError> {
    read_body_capped(response, system, what, MAX_BODY).await
}

pub(crate) async fn read_body_capped(
    mut response: reqwest::Response,
    system: SystemId,
    what: &str,
    limit: usize,
) -> Result<Vec<u8>, ConnectorError> {
    let too_large = |seen: u64| {
        ConnectorError::new(
            ConnectorErrorKind::Protocol,
            format!(
                "{what}: the answer is larger than the limit of {limit} bytes (at least {seen})"
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
                return Err(ConnectorError::new(
                    ConnectorErrorKind::Transport,
                    format!("{what}: reading the answer: {}", e.without_url()),
                )
                .with_system(system));
            }
        }
    }
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
    ConnectorError::new(
        ConnectorErrorKind::Transport,
        format!("{what}: {}", e.without_url()),
    )
    .with_system(system)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Bodies over the limit are refused, declared or streamed; a body
    /// within it is read whole.
    #[tokio::test]
    async fn bodies_over_the_limit_are_refused() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let server = wiremock::MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::path("/big"))
            .respond_with(
                wiremock::ResponseTemplate::new(200)
                    .set_body_raw(vec![b' '; 4096], "application/json"),
            )
            .mount(&server)
            .await;
        let http = http_client(Duration::from_secs(10), SystemId::hubspot()).unwrap();
        let get = |url: String| {
            let http = http.clone();
            async move { http.get(url).send().await.unwrap() }
        };
        let e = read_body_capped(
            get(format!("{}/big", server.uri())).await,
            SystemId::hubspot(),
            "GET /big",
            1024,
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Protocol);
        assert!(e.message().contains("1024"), "{e}");
        let ok = read_body_capped(
            get(format!("{}/big", server.uri())).await,
            SystemId::hubspot(),
            "GET /big",
            8192,
        )
        .await
        .unwrap();
        assert_eq!(ok.len(), 4096);

        // No Content-Length: chunks until the limit passes.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/stream", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                .await;
            for _ in 0..1000 {
                if socket.write_all(b"400\r\n").await.is_err()
                    || socket.write_all(&[b' '; 1024]).await.is_err()
                    || socket.write_all(b"\r\n").await.is_err()
                {
                    return;
                }
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        let e = read_body_capped(get(url).await, SystemId::gusto(), "GET /stream", 10 * 1024)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Protocol, "{e}");
    }

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
