//! What Gusto adds to the HTTP core: its error shapes as typed errors.

use crate::error::{ConnectorError, ConnectorErrorKind};
use crate::http::{Refused, Vendor, describe_body, kind_of_status};
use odoo_integration_model::SystemId;
use serde::Deserialize;
use std::time::Duration;

/// One entry of Gusto's `errors` array; `nested_errors` carry their own.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ApiError {
    #[serde(default)]
    pub(crate) error_key: String,
    #[serde(default)]
    pub(crate) category: String,
    #[serde(default)]
    pub(crate) message: Option<String>,
    #[serde(default)]
    pub(crate) errors: Vec<ApiError>,
}

#[derive(Debug, Deserialize)]
struct ErrorBody {
    errors: Vec<ApiError>,
}

impl ApiError {
    /// The leaves of a nested error, flattened.
    fn leaves(&self) -> Vec<&ApiError> {
        if self.errors.is_empty() {
            vec![self]
        } else {
            self.errors.iter().flat_map(ApiError::leaves).collect()
        }
    }

    fn describe(&self) -> String {
        match &self.message {
            Some(m) if !m.is_empty() => format!("{} {}: {m}", self.category, self.error_key),
            _ => format!("{} {}", self.category, self.error_key),
        }
    }
}

/// A typed error of Gusto's.
pub(crate) fn error(
    kind: ConnectorErrorKind,
    message: impl Into<String>,
    retry_after: Option<Duration>,
) -> ConnectorError {
    crate::http::error(SystemId::gusto(), kind, message, retry_after)
}

/// The kind of a Gusto error category we know.
fn kind_of_category(category: &str) -> Option<ConnectorErrorKind> {
    Some(match category {
        "invalid_resource_version" => ConnectorErrorKind::Conflict,
        "not_found" => ConnectorErrorKind::NotFound,
        "invalid_attribute_value" | "invalid_operation" | "payroll_blocker" | "incorrect_state" => {
            ConnectorErrorKind::Invalid
        }
        "rate_limit_exceeded" => ConnectorErrorKind::RateLimited,
        _ => return None,
    })
}

/// An HTTP error answer of the API (or a proxy's page) as a typed error:
/// the kind by the status (401, 403, 404, 409, 422, 429, 5xx), refined by
/// Gusto's error category where the status says less.
pub(crate) fn api_error(
    label: &str,
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
) -> ConnectorError {
    let by_status = kind_of_status(status);
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body) {
        let leaves: Vec<&ApiError> = parsed.errors.iter().flat_map(ApiError::leaves).collect();
        if let Some(first) = leaves.first() {
            let kind = match by_status {
                // A status that says little: trust the category.
                ConnectorErrorKind::Invalid | ConnectorErrorKind::Protocol => {
                    kind_of_category(&first.category).unwrap_or(by_status)
                }
                k => k,
            };
            let mut message = format!("{label}: HTTP {status}: {}", first.describe());
            if leaves.len() > 1 {
                let rest: Vec<String> = leaves.iter().skip(1).map(|e| e.describe()).collect();
                message.push_str(&format!("; {}", rest.join("; ")));
            }
            return error(kind, message, retry_after);
        }
    }
    error(
        by_status,
        format!(
            "{label}: HTTP {status} with {}",
            describe_body(body, "Gusto")
        ),
        retry_after,
    )
}

pub(crate) use crate::http::percent_encode;

/// The wait of a 429 that names none: Gusto counts per token per rolling
/// minute.
pub(crate) const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// Gusto's error map.
#[derive(Debug)]
pub(crate) struct GustoApi;

impl Vendor for GustoApi {
    fn system(&self) -> SystemId {
        SystemId::gusto()
    }

    fn name(&self) -> &'static str {
        "Gusto"
    }

    fn error(&self, refused: &Refused<'_>) -> ConnectorError {
        api_error(
            refused.label,
            refused.status,
            refused.body,
            refused.retry_after,
        )
    }
}

/// A header as a number (`X-Total-Count`).
pub(crate) fn header_number(headers: &reqwest::header::HeaderMap, name: &str) -> Option<usize> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn categories_and_statuses_become_kinds() {
        let body = br#"{"errors":[{"error_key":"base","category":"invalid_resource_version","message":"out-of-date version"}]}"#;
        assert_eq!(
            api_error("PUT x", 409, body, None).kind(),
            ConnectorErrorKind::Conflict
        );
        let body = br#"{"errors":[{"error_key":"employee_compensations","category":"nested_errors","errors":[{"error_key":"hours","category":"invalid_attribute_value","message":"bad"}]}]}"#;
        let e = api_error("PUT x", 422, body, None);
        assert_eq!(e.kind(), ConnectorErrorKind::Invalid);
        assert!(e.message().contains("hours"), "{e}");
        assert_eq!(
            api_error("GET x", 502, b"<html>Bad gateway</html>", None).kind(),
            ConnectorErrorKind::Unavailable
        );
        assert_eq!(
            api_error("GET x", 200, b"{\"err", None).kind(),
            ConnectorErrorKind::Protocol
        );
        let e = api_error("GET x", 429, b"", Some(Duration::from_secs(4)));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(4)));
    }
}
