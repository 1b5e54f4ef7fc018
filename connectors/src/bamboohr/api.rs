//! What BambooHR adds to the HTTP core: its error header and its two ways
//! of refusing for load.

use crate::error::{ConnectorError, ConnectorErrorKind};
use crate::http::{Refused, Vendor, error, kind_of_status};
use odoo_integration_model::SystemId;
use std::time::Duration;

/// The wait of a rate limit that names none.
pub(super) const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// The headers BambooHR names an error in, the first one present wins.
const MESSAGE_HEADERS: [&str; 2] = ["x-bamboohr-error-message", "x-bamboohr-message"];

/// BambooHR's error map.
#[derive(Debug)]
pub(super) struct BambooHrApi;

impl Vendor for BambooHrApi {
    fn system(&self) -> SystemId {
        SystemId::bamboohr()
    }

    fn name(&self) -> &'static str {
        "BambooHR"
    }

    /// `X-BambooHR-Error-Message`, else `X-BambooHR-Message` (BambooHR
    /// sends one or the other, depending on the endpoint), is the message;
    /// a 429, or a 503 with `Retry-After` (BambooHR's older way of
    /// refusing), is a rate limit carrying the wait asked (60 s if none).
    fn error(&self, refused: &Refused<'_>) -> ConnectorError {
        let headers = refused.headers;
        let server_message = MESSAGE_HEADERS.iter().find_map(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|m| !m.is_empty())
        });
        let html = headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.to_ascii_lowercase().contains("text/html"))
            || refused.body.trim_ascii_start().starts_with(b"<");
        let detail = match (server_message, html) {
            (Some(m), _) => m,
            (None, true) => "an HTML error page",
            (None, false) => "no error message",
        };
        let (label, status) = (refused.label, refused.status);
        let message = format!("{label}: HTTP {status}: {detail}");
        if status == 429 || (status == 503 && refused.retry_after.is_some()) {
            let wait = refused.retry_after.unwrap_or(DEFAULT_WAIT);
            return error(
                SystemId::bamboohr(),
                ConnectorErrorKind::RateLimited,
                message,
                Some(wait),
            );
        }
        error(SystemId::bamboohr(), kind_of_status(status), message, None)
    }
}
