//! HTTP transport: sends a body to an endpoint, applies the per-request
//! timeout and turns HTTP-level failures into typed errors.

use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use serde_json::Value;
use tokio::sync::Semaphore;
use url::Url;

use crate::error::{Error, ProtocolErrorKind, Result, TransportKind};

/// The raw reply of a request: status, headers of interest and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: String,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn is_json(&self) -> bool {
        self.content_type.contains("json")
    }
}

#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    base: Url,
    timeout: Duration,
    slots: Semaphore,
    max_body: usize,
}

impl Transport {
    pub(crate) fn new(
        http: reqwest::Client,
        base: Url,
        timeout: Duration,
        max_concurrent: usize,
        max_body: usize,
    ) -> Self {
        Transport {
            http,
            base,
            timeout,
            slots: Semaphore::new(max_concurrent.max(1)),
            max_body,
        }
    }

    pub(crate) fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<Url> {
        self.base
            .join(path)
            .map_err(|e| Error::config(format!("cannot build the url for `{path}`: {e}")))
    }

    /// POSTs `body` to `path` (relative to the base URL).
    pub(crate) async fn post(
        &self,
        path: &str,
        content_type: &'static str,
        headers: HeaderMap,
        body: Vec<u8>,
    ) -> Result<Reply> {
        let request = self
            .http
            .post(self.url(path)?)
            .timeout(self.timeout)
            .header(header::CONTENT_TYPE, content_type)
            .headers(headers)
            .body(body);
        self.send(path, request).await
    }

    /// GETs a plain JSON document (e.g. `/web/version`).
    pub(crate) async fn get_json(&self, path: &str) -> Result<Value> {
        let request = self.http.get(self.url(path)?).timeout(self.timeout);
        let reply = self.send(path, request).await?;
        if reply.status != 200 {
            return Err(unexpected_status(path, &reply));
        }
        serde_json::from_slice(&reply.body).map_err(|e| body_error(path, &reply, &e))
    }

    async fn send(&self, path: &str, request: reqwest::RequestBuilder) -> Result<Reply> {
        // Held until the body is read: the cap counts requests in flight.
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| Error::config("the client was shut down"))?;
        let response = request.send().await.map_err(|e| transport_error(path, e))?;
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(parse_retry_after);
        if status == 429 {
            return Err(Error::rate_limited(retry_after));
        }
        let body = read_capped(response, self.max_body, path, status).await?;
        Ok(Reply {
            status,
            content_type,
            body,
        })
    }
}

/// Reads a body of at most `limit` bytes into one buffer: a declared
/// `Content-Length` over the limit is refused before reading, and a body
/// without one stops being read as soon as it passes the limit. The buffer
/// is sized from `Content-Length` (when it is within the limit), so a
/// large reply is neither reallocated while it grows nor copied after.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    limit: usize,
    path: &str,
    status: u16,
) -> Result<Vec<u8>> {
    let too_large = |seen: u64| {
        Error::protocol(
            ProtocolErrorKind::TooLarge,
            &format!("/{path}"),
            Some(status),
            format!("the body is larger than the limit of {limit} bytes (at least {seen} bytes)"),
            &[],
        )
    };
    let declared = response.content_length();
    if let Some(length) = declared
        && length > limit as u64
    {
        return Err(too_large(length));
    }
    let capacity = declared.map_or(0, |n| n as usize).min(limit);
    let mut body = Vec::with_capacity(capacity);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport_error(path, e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(too_large((body.len() + chunk.len()) as u64));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses `Retry-After`: delay-seconds or an HTTP date.
pub(crate) fn parse_retry_after(value: &HeaderValue) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(secs) = text.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let delta = when.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(delta.to_std().unwrap_or(Duration::ZERO))
}

fn transport_error(path: &str, err: reqwest::Error) -> Error {
    let kind = if err.is_timeout() {
        TransportKind::Timeout
    } else if err.is_connect() {
        TransportKind::Connect
    } else {
        TransportKind::Other
    };
    Error::transport(kind, format!("/{path}"), err.without_url())
}

/// An error for a body that failed to parse as the protocol's format.
pub(crate) fn body_error(path: &str, reply: &Reply, err: &dyn std::fmt::Display) -> Error {
    let endpoint = format!("/{path}");
    let status = Some(reply.status);
    let first = reply.body.iter().find(|b| !b.is_ascii_whitespace());
    let (kind, detail) = match first {
        None => (ProtocolErrorKind::Empty, String::new()),
        Some(b'<') if !reply.content_type.contains("xml") => {
            (ProtocolErrorKind::Html, html_title(&reply.body))
        }
        Some(_) if !reply.is_json() && !reply.content_type.contains("xml") => {
            (ProtocolErrorKind::Html, String::new())
        }
        Some(_) => {
            let text = err.to_string();
            let kind = if text.contains("EOF") || text.contains("unexpected end") {
                ProtocolErrorKind::Truncated
            } else if text.starts_with("recursion limit exceeded") {
                // serde_json's own depth limit (128 levels).
                ProtocolErrorKind::TooDeep
            } else {
                ProtocolErrorKind::Unexpected
            };
            (kind, text)
        }
    };
    Error::protocol(kind, &endpoint, status, detail, &reply.body)
}

/// An error for a status the protocol does not use.
pub(crate) fn unexpected_status(path: &str, reply: &Reply) -> Error {
    let endpoint = format!("/{path}");
    let kind = if reply.body.iter().all(u8::is_ascii_whitespace) {
        ProtocolErrorKind::Empty
    } else if reply.is_json() {
        ProtocolErrorKind::Unexpected
    } else {
        ProtocolErrorKind::Html
    };
    let detail = if kind == ProtocolErrorKind::Html {
        html_title(&reply.body)
    } else {
        String::new()
    };
    Error::protocol(kind, &endpoint, Some(reply.status), detail, &reply.body)
}

/// The `<title>` of an HTML page, if it has one.
fn html_title(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(4096)]);
    let lower = text.to_ascii_lowercase();
    match (lower.find("<title>"), lower.find("</title>")) {
        (Some(start), Some(end)) if end > start + 7 => text[start + 7..end].trim().to_owned(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_in_seconds_and_as_a_date() {
        let v = HeaderValue::from_static("7");
        assert_eq!(parse_retry_after(&v), Some(Duration::from_secs(7)));
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT");
        assert_eq!(parse_retry_after(&past), Some(Duration::ZERO));
        let future = (chrono::Utc::now() + chrono::Duration::seconds(120))
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string();
        let d = parse_retry_after(&HeaderValue::from_str(&future).unwrap()).unwrap();
        assert!(
            d > Duration::from_secs(100) && d <= Duration::from_secs(120),
            "{d:?}"
        );
        assert_eq!(parse_retry_after(&HeaderValue::from_static("soon")), None);
    }

    #[test]
    fn html_title_is_extracted() {
        assert_eq!(
            html_title(b"<html><head><title>502 Bad Gateway</title></head></html>"),
            "502 Bad Gateway"
        );
        assert_eq!(html_title(b"<html>"), "");
    }
}
