//! What HubSpot adds to the HTTP core: its error shape, and its rate-limit
//! headers.

use crate::error::{ConnectorError, ConnectorErrorKind};
use crate::http::{Refused, Vendor, describe_body, kind_of_status};
use odoo_integration_model::SystemId;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use std::time::Duration;

/// HubSpot's error map and hooks.
#[derive(Debug)]
pub(super) struct HubSpotApi;

/// A header as a whole number.
fn number(headers: &HeaderMap, name: &str) -> Option<u64> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
}

/// The rate-limit window (`X-HubSpot-RateLimit-Interval-Milliseconds`),
/// ten seconds when not sent.
fn window(headers: &HeaderMap) -> Duration {
    number(headers, "x-hubspot-ratelimit-interval-milliseconds")
        .map(Duration::from_millis)
        .unwrap_or(Duration::from_secs(10))
}

impl Vendor for HubSpotApi {
    fn system(&self) -> SystemId {
        SystemId::hubspot()
    }

    fn name(&self) -> &'static str {
        "HubSpot"
    }

    fn error(&self, refused: &Refused<'_>) -> ConnectorError {
        // A 429 without `Retry-After` waits for the window.
        let retry_after = refused
            .retry_after
            .or((refused.status == 429).then(|| window(refused.headers)));
        api_error(refused.status, refused.body, retry_after).with_system(SystemId::hubspot())
    }

    fn observe(&self, status: u16, headers: &HeaderMap) -> Option<Duration> {
        // The window's budget is spent: wait it out rather than be refused
        // (a 429's own wait is the error's).
        (status != 429 && number(headers, "x-hubspot-ratelimit-remaining") == Some(0))
            .then(|| window(headers))
    }
}

/// HubSpot's error body.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiError {
    #[serde(default)]
    message: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    correlation_id: String,
}

/// An HTTP error in HubSpot's shape (or a proxy's page) as a typed error.
pub(crate) fn api_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> ConnectorError {
    let parsed: Option<ApiError> = serde_json::from_slice(body).ok();
    let message = match &parsed {
        Some(e) if !e.correlation_id.is_empty() => format!(
            "HTTP {status} {}: {} (correlation id {})",
            e.category, e.message, e.correlation_id
        ),
        Some(e) => format!("HTTP {status} {}: {}", e.category, e.message),
        None => format!("HTTP {status} with {}", describe_body(body, "HubSpot")),
    };
    let category = parsed.as_ref().map_or("", |e| e.category.as_str());
    let kind = match (status, category) {
        (429, _) | (_, "RATE_LIMITS") => ConnectorErrorKind::RateLimited,
        (401, _) | (_, "INVALID_AUTHENTICATION") | (_, "EXPIRED_AUTHENTICATION") => {
            ConnectorErrorKind::Unauthorized
        }
        (403, _) | (_, "MISSING_SCOPES") => ConnectorErrorKind::Forbidden,
        (404, _) | (_, "OBJECT_NOT_FOUND") => ConnectorErrorKind::NotFound,
        (409, _) | (_, "CONFLICT") => ConnectorErrorKind::Conflict,
        (_, "VALIDATION_ERROR") => ConnectorErrorKind::Invalid,
        _ => kind_of_status(status),
    };
    if kind == ConnectorErrorKind::RateLimited {
        return ConnectorError::rate_limited(message, retry_after);
    }
    ConnectorError::new(kind, message)
}
