//! What Salesforce adds to the HTTP core: its error shapes as typed
//! errors, and the `Sforce-Limit-Info` header with the usage threshold.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::http::{Refused, Vendor, describe_body, error, kind_of_status};
use odoo_integration_model::SystemId;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

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
        error(SystemId::salesforce(), kind, message, retry_after)
    }
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
        | "INACTIVE_OWNER_OR_USER"
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

/// An HTTP error answer of the REST API (or a proxy's page) as a typed
/// error.
pub(crate) fn api_error(status: u16, body: &[u8], retry_after: Option<Duration>) -> ConnectorError {
    if let Ok(errors) = serde_json::from_slice::<Vec<ApiError>>(body)
        && let Some(first) = errors.first()
    {
        let mut e = first.to_error(status, retry_after);
        if errors.len() > 1 {
            e = error(
                SystemId::salesforce(),
                e.kind(),
                format!("{} (and {} more)", e.message(), errors.len() - 1),
                retry_after,
            );
        }
        return e;
    }
    if let Ok(single) = serde_json::from_slice::<ApiError>(body)
        && !single.code.is_empty()
    {
        return single.to_error(status, retry_after);
    }
    let what = describe_body(body, "Salesforce");
    error(
        SystemId::salesforce(),
        kind_of_status(status),
        format!("HTTP {status} with {what}"),
        retry_after,
    )
}

/// `Sforce-Limit-Info: api-usage=18/15000` → `(18, 15000)`.
pub(crate) fn parse_limit_info(value: &str) -> Option<(u64, u64)> {
    value.split(',').find_map(|part| {
        let rest = part.trim().strip_prefix("api-usage=")?;
        let (used, limit) = rest.split_once('/')?;
        Some((used.trim().parse().ok()?, limit.trim().parse().ok()?))
    })
}

pub(crate) use crate::http::percent_encode;

/// The org's daily API usage as last reported, and the refusal in force.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    pub(crate) usage: Option<(u64, u64)>,
    refused_until: Option<Instant>,
}

/// Salesforce's error map and hooks: the error array, `Sforce-Limit-Info`
/// read from every answer, and calls refused past the usage threshold.
#[derive(Debug)]
pub(crate) struct SalesforceApi {
    pub(crate) budget: Arc<Mutex<Budget>>,
    pub(crate) threshold_percent: u8,
    pub(crate) pause: Duration,
}

impl SalesforceApi {
    fn over_budget(&self, usage: Option<(u64, u64)>, wait: Duration) -> ConnectorError {
        let (used, limit) = usage.unwrap_or_default();
        ConnectorError::rate_limited(
            format!(
                "the org has used {used} of its {limit} daily API calls, past the {} % kept for others",
                self.threshold_percent
            ),
            Some(wait),
        )
        .with_system(SystemId::salesforce())
    }
}

impl Vendor for SalesforceApi {
    fn system(&self) -> SystemId {
        SystemId::salesforce()
    }

    fn name(&self) -> &'static str {
        "Salesforce"
    }

    fn error(&self, refused: &Refused<'_>) -> ConnectorError {
        let e = api_error(refused.status, refused.body, refused.retry_after);
        error(
            SystemId::salesforce(),
            e.kind(),
            format!("{}: {}", refused.label, e.message()),
            e.retry_after(),
        )
    }

    /// 300: an external id that matches several records, which the caller
    /// reads.
    fn accepts(&self, status: u16) -> bool {
        (200..300).contains(&status) || status == 300
    }

    /// Refuses a call when the org's usage is at the threshold.
    fn before_call(&self) -> Result<()> {
        let Ok(mut budget) = self.budget.lock() else {
            return Ok(());
        };
        let now = Instant::now();
        match budget.refused_until {
            Some(until) if until > now => {
                return Err(self.over_budget(budget.usage, until - now));
            }
            Some(_) => {
                // The pause is over: let one call through to learn the
                // usage again.
                budget.refused_until = None;
                return Ok(());
            }
            None => {}
        }
        if let Some((used, limit)) = budget.usage
            && limit > 0
            && u128::from(used) * 100 >= u128::from(limit) * u128::from(self.threshold_percent)
        {
            budget.refused_until = Some(now + self.pause);
            return Err(self.over_budget(budget.usage, self.pause));
        }
        Ok(())
    }

    fn observe(&self, _status: u16, headers: &HeaderMap) -> Option<Duration> {
        let usage = headers
            .get("sforce-limit-info")
            .and_then(|v| v.to_str().ok())
            .and_then(parse_limit_info);
        if let Some(usage) = usage
            && let Ok(mut budget) = self.budget.lock()
        {
            budget.usage = Some(usage);
        }
        None
    }
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
}
