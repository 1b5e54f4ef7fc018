//! What HubSpot adds to the HTTP core: its error shape, and its rate-limit
//! headers.

use crate::error::{ConnectorError, ConnectorErrorKind};
use crate::http::{Refused, Vendor, describe_body, kind_of_status};
use chrono::{DateTime, Days, FixedOffset, Offset, Utc};
use odoo_integration_model::SystemId;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

/// HubSpot's error map and hooks.
#[derive(Debug, Default)]
pub(super) struct HubSpotApi {
    /// The account's offset from UTC, in seconds: HubSpot resets the daily
    /// request limit at midnight there.
    utc_offset: AtomicI32,
}

impl HubSpotApi {
    pub(super) fn set_utc_offset(&self, offset: FixedOffset) {
        self.utc_offset
            .store(offset.local_minus_utc(), Ordering::Relaxed);
    }

    fn utc_offset(&self) -> FixedOffset {
        FixedOffset::east_opt(self.utc_offset.load(Ordering::Relaxed)).unwrap_or_else(|| Utc.fix())
    }
}

/// From `now` to the next midnight at `offset`: when HubSpot's daily limit
/// is reset.
pub(super) fn until_daily_reset(now: DateTime<Utc>, offset: FixedOffset) -> Duration {
    let local = now.with_timezone(&offset);
    let midnight = local
        .date_naive()
        .checked_add_days(Days::new(1))
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .and_then(|t| t.and_local_timezone(offset).single());
    midnight
        .and_then(|m| (m.with_timezone(&Utc) - now).to_std().ok())
        .unwrap_or(Duration::from_secs(24 * 60 * 60))
}

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
        // The daily limit is spent until midnight in the account's time
        // zone; a 429 of the rolling window without `Retry-After` waits
        // for the window.
        let retry_after = if refused.status == 429 && policy(refused.body) == Some(DAILY) {
            Some(until_daily_reset(Utc::now(), self.utc_offset()))
        } else {
            refused
                .retry_after
                .or((refused.status == 429).then(|| window(refused.headers)))
        };
        api_error(refused.status, refused.body, retry_after).with_system(SystemId::hubspot())
    }

    fn observe(&self, status: u16, headers: &HeaderMap) -> Option<Duration> {
        // The window's budget is spent: wait it out rather than be refused
        // (a 429's own wait is the error's).
        (status != 429 && number(headers, "x-hubspot-ratelimit-remaining") == Some(0))
            .then(|| window(headers))
    }
}

/// The `policyName` of the daily request limit.
const DAILY: &str = "DAILY";

/// The rate-limit policy a 429 names (`TEN_SECONDLY_ROLLING`, `SECONDLY`,
/// `DAILY`).
fn policy(body: &[u8]) -> Option<&'static str> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Limited {
        #[serde(default)]
        policy_name: String,
    }
    let limited: Limited = serde_json::from_slice(body).ok()?;
    ["TEN_SECONDLY_ROLLING", "SECONDLY", DAILY]
        .into_iter()
        .find(|p| *p == limited.policy_name)
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_daily_limit_resets_at_midnight_in_the_accounts_time_zone() {
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 4, h, m, 0).unwrap();
        let hours = |h: u64| Duration::from_secs(h * 3600);
        // 22:00 UTC is 17:00 in New York: 7 hours to go there, 2 in UTC.
        let new_york = FixedOffset::west_opt(5 * 3600).unwrap();
        assert_eq!(until_daily_reset(at(22, 0), new_york), hours(7));
        assert_eq!(until_daily_reset(at(22, 0), Utc.fix()), hours(2));
        // 23:30 UTC is already tomorrow in Berlin: 23.5 hours to go there.
        let berlin = FixedOffset::east_opt(3600).unwrap();
        assert_eq!(
            until_daily_reset(at(23, 30), berlin),
            hours(23) + Duration::from_secs(30 * 60)
        );
    }

    #[test]
    fn the_policy_is_read_from_the_429_body() {
        let body = br#"{"status":"error","errorType":"RATE_LIMIT","policyName":"DAILY","category":"RATE_LIMITS"}"#;
        assert_eq!(policy(body), Some(DAILY));
        assert_eq!(policy(b"<html>429</html>"), None);
        assert_eq!(policy(br#"{"policyName":"SOMETHING_NEW"}"#), None);
    }
}
