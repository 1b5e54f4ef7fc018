//! Salesforce's error shapes as typed errors, the `Sforce-Limit-Info`
//! header, and small encoders.

use crate::error::{ConnectorError, ConnectorErrorKind};
use odoo_integration_model::SystemId;
use serde::Deserialize;
use std::time::Duration;

/// One entry of Salesforce's error array (`errorCode`), or of an sObject
/// Collections result's `errors` (`statusCode`).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ApiError {
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default, alias = "statusCode", rename = "errorCode")]
    pub(crate) code: String,
    #[serde(default)]
    pub(crate) fields: Vec<String>,
}

impl ApiError {
    /// This error as a [`ConnectorError`], its kind by the error code, else
    /// by the HTTP status.
    pub(crate) fn to_error(&self, status: u16, retry_after: Option<Duration>) -> ConnectorError {
        let fields = if self.fields.is_empty() {
            String::new()
        } else {
            format!(" (fields: {})", self.fields.join(", "))
        };
        let message = format!("{}: {}{fields}", self.code, self.message);
        let kind = kind_of_code(&self.code).unwrap_or_else(|| kind_of_status(status));
        error(kind, message, retry_after)
    }
}

fn error(
    kind: ConnectorErrorKind,
    message: String,
    retry_after: Option<Duration>,
) -> ConnectorError {
    let e = if kind == ConnectorErrorKind::RateLimited {
        ConnectorError::rate_limited(message, retry_after)
    } else {
        ConnectorError::new(kind, message)
    };
    e.with_system(SystemId::salesforce())
}

/// The kind of an `errorCode` / `statusCode` we know.
pub(crate) fn kind_of_code(code: &str) -> Option<ConnectorErrorKind> {
    Some(match code {
        "INVALID_SESSION_ID" | "INVALID_AUTH_HEADER" => ConnectorErrorKind::Unauthorized,
        "REQUEST_LIMIT_EXCEEDED" | "TXN_SECURITY_METERING_ERROR" => ConnectorErrorKind::RateLimited,
        "ENTITY_IS_DELETED" | "NOT_FOUND" | "INVALID_CROSS_REFERENCE_KEY" => {
            ConnectorErrorKind::NotFound
        }
        "DUPLICATE_VALUE" | "UNABLE_TO_LOCK_ROW" | "DUPLICATES_DETECTED" => {
            ConnectorErrorKind::Conflict
        }
        // An external id that matches more than one record.
        "DUPLICATE_EXTERNAL_ID" | "MULTIPLE_CHOICES" => ConnectorErrorKind::Ambiguous,
        "FIELD_CUSTOM_VALIDATION_EXCEPTION"
        | "REQUIRED_FIELD_MISSING"
        | "INVALID_FIELD"
        | "INVALID_FIELD_FOR_INSERT_UPDATE"
        | "INVALID_TYPE"
        | "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
        | "STRING_TOO_LONG"
        | "MALFORMED_ID"
        | "MALFORMED_QUERY"
        | "JSON_PARSER_ERROR"
        | "FIELD_INTEGRITY_EXCEPTION"
        | "INVALID_EMAIL_ADDRESS"
        | "NUMBER_OUTSIDE_VALID_RANGE"
        | "EXCEEDED_ID_LIMIT"
        | "INVALID_REPLICATION_DATE" => ConnectorErrorKind::Invalid,
        "INSUFFICIENT_ACCESS"
        | "INSUFFICIENT_ACCESS_OR_READONLY"
        | "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY"
        | "API_DISABLED_FOR_ORG"
        | "API_CURRENTLY_DISABLED" => ConnectorErrorKind::Forbidden,
        "SERVER_UNAVAILABLE" => ConnectorErrorKind::Unavailable,
        _ => return None,
    })
}

fn kind_of_status(status: u16) -> ConnectorErrorKind {
    match status {
        300 => ConnectorErrorKind::Ambiguous,
        400 | 405 | 415 => ConnectorErrorKind::Invalid,
        401 => ConnectorErrorKind::Unauthorized,
        403 => ConnectorErrorKind::Forbidden,
        404 => ConnectorErrorKind::NotFound,
        409 | 412 => ConnectorErrorKind::Conflict,
        429 => ConnectorErrorKind::RateLimited,
        500..=599 => ConnectorErrorKind::Unavailable,
        _ => ConnectorErrorKind::Protocol,
    }
}

/// An HTTP error answer of the REST API (or a proxy's page) as a typed
/// error.
pub(crate) fn api_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> ConnectorError {
    if let Ok(errors) = serde_json::from_slice::<Vec<ApiError>>(body)
        && let Some(first) = errors.first()
    {
        let mut e = first.to_error(status, retry_after);
        if errors.len() > 1 {
            e = ConnectorError::new(
                e.kind(),
                format!("{} (and {} more)", e.message(), errors.len() - 1),
            )
            .with_system(SystemId::salesforce());
            if e.kind() == ConnectorErrorKind::RateLimited {
                e = error(
                    ConnectorErrorKind::RateLimited,
                    e.message().to_owned(),
                    retry_after,
                );
            }
        }
        return e;
    }
    if let Ok(single) = serde_json::from_slice::<ApiError>(body)
        && !single.code.is_empty()
    {
        return single.to_error(status, retry_after);
    }
    let what = describe_body(body);
    error(
        kind_of_status(status),
        format!("HTTP {status} with {what}"),
        retry_after,
    )
}

/// What a body that is not Salesforce's JSON looks like, for a message
/// (never the body itself: it may echo a request).
pub(crate) fn describe_body(body: &[u8]) -> String {
    crate::web::describe_body(body, "Salesforce")
}

/// The token endpoint's error (`{error, error_description}`) as a typed
/// error.
pub(crate) fn oauth_error(status: u16, body: &[u8]) -> ConnectorError {
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
        #[serde(default)]
        error_description: String,
    }
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(e) => {
            let kind = match status {
                500..=599 => ConnectorErrorKind::Unavailable,
                429 => ConnectorErrorKind::RateLimited,
                _ => ConnectorErrorKind::Unauthorized,
            };
            error(
                kind,
                format!(
                    "the token request was refused: {}: {}",
                    e.error, e.error_description
                ),
                None,
            )
        }
        Err(_) => {
            let kind = match status {
                400..=403 => ConnectorErrorKind::Unauthorized,
                s => kind_of_status(s),
            };
            error(
                kind,
                format!("token request: HTTP {status} with {}", describe_body(body)),
                None,
            )
        }
    }
}

/// A transport error, without the URL (it may carry a query).
pub(crate) fn transport(what: &str, e: reqwest::Error) -> ConnectorError {
    crate::web::transport(SystemId::salesforce(), what, e)
}

/// `Sforce-Limit-Info: api-usage=18/15000` → `(18, 15000)`.
pub(crate) fn parse_limit_info(value: &str) -> Option<(u64, u64)> {
    value.split(',').find_map(|part| {
        let rest = part.trim().strip_prefix("api-usage=")?;
        let (used, limit) = rest.split_once('/')?;
        Some((used.trim().parse().ok()?, limit.trim().parse().ok()?))
    })
}

pub(crate) use crate::web::{percent_encode, retry_after};

/// `application/x-www-form-urlencoded` (also a query string).
pub(crate) fn form_encode(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn limit_info_is_parsed() {
        assert_eq!(parse_limit_info("api-usage=18/15000"), Some((18, 15000)));
        assert_eq!(
            parse_limit_info("per-app-api-usage=1/10(appName=x), api-usage=7/100"),
            Some((7, 100))
        );
        assert_eq!(parse_limit_info("nonsense"), None);
    }

    #[test]
    fn error_codes_become_kinds() {
        let body =
            br#"[{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}]"#;
        assert_eq!(
            api_error(401, body, None).kind(),
            ConnectorErrorKind::Unauthorized
        );
        let body = br#"[{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]"#;
        let e = api_error(403, body, Some(Duration::from_secs(9)));
        assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(9)));
        assert_eq!(
            api_error(502, b"<html>Bad gateway</html>", None).kind(),
            ConnectorErrorKind::Unavailable
        );
        assert_eq!(
            api_error(400, b"[{\"mess", None).kind(),
            ConnectorErrorKind::Invalid
        );
    }

    #[test]
    fn form_encoding_escapes() {
        assert_eq!(form_encode(&[("q", "a b&c")]), "q=a%20b%26c");
    }
}
