//! What a vendor supplies to the core (its error map and hooks), the shared
//! status → kind fallback, and the OAuth token endpoint's errors.

use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use odoo_integration_model::SystemId;
use reqwest::header::HeaderMap;
use serde::Deserialize;
use std::time::Duration;

/// An answer the vendor refused (a status its [`Vendor::accepts`] does
/// not take), as the error map sees it.
#[derive(Debug)]
pub(crate) struct Refused<'a> {
    /// `METHOD /path`, without the query.
    pub(crate) label: &'a str,
    pub(crate) status: u16,
    pub(crate) headers: &'a HeaderMap,
    pub(crate) body: &'a [u8],
    /// The answer's `Retry-After`, read.
    pub(crate) retry_after: Option<Duration>,
}

/// What a vendor adds to the [`RestClient`](super::RestClient): its error
/// map, and hooks around each request.
pub(crate) trait Vendor: Send + Sync + 'static {
    /// The system, for errors.
    fn system(&self) -> SystemId;

    /// The vendor's name in messages ("not the JSON HubSpot sends").
    fn name(&self) -> &'static str;

    /// A refused answer as a typed error. The core pauses the limiter
    /// when the error is rate limited (for its `retry_after`, else the
    /// client's default pause); the vendor decides the kind and the wait.
    fn error(&self, refused: &Refused<'_>) -> ConnectorError;

    /// Whether an answer of `status` is handed back to the caller
    /// (default: 2xx).
    fn accepts(&self, status: u16) -> bool {
        (200..300).contains(&status)
    }

    /// Called once per call before anything is sent; an error refuses
    /// the call (Salesforce's daily budget).
    fn before_call(&self) -> Result<()> {
        Ok(())
    }

    /// Called with every answer's status and headers (a 401 and a refused
    /// answer too); returns a pause the limiter should take, if the
    /// answer asks for one beyond a rate limit's (HubSpot's window spent).
    fn observe(&self, _status: u16, _headers: &HeaderMap) -> Option<Duration> {
        None
    }
}

/// A typed error of `system`; a rate limit carries `retry_after`.
pub(crate) fn error(
    system: SystemId,
    kind: ConnectorErrorKind,
    message: impl Into<String>,
    retry_after: Option<Duration>,
) -> ConnectorError {
    let e = if kind == ConnectorErrorKind::RateLimited {
        ConnectorError::rate_limited(message, retry_after)
    } else {
        ConnectorError::new(kind, message)
    };
    e.with_system(system)
}

/// The kind an HTTP status says, when the vendor's body says nothing more
/// precise: the fallback of every vendor's error map.
pub(crate) fn kind_of_status(status: u16) -> ConnectorErrorKind {
    match status {
        300 => ConnectorErrorKind::Ambiguous,
        400 | 405 | 415 | 422 => ConnectorErrorKind::Invalid,
        401 => ConnectorErrorKind::Unauthorized,
        403 => ConnectorErrorKind::Forbidden,
        404 | 410 => ConnectorErrorKind::NotFound,
        409 | 412 => ConnectorErrorKind::Conflict,
        429 => ConnectorErrorKind::RateLimited,
        500..=599 => ConnectorErrorKind::Unavailable,
        _ => ConnectorErrorKind::Protocol,
    }
}

/// What a body that is not `vendor`'s JSON looks like, for a message
/// (never the body itself: it may echo a request or a secret).
pub(crate) fn describe_body(body: &[u8], vendor: &str) -> String {
    let head = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    match head {
        None => "an empty body".into(),
        Some(b'<') => format!("an HTML page, not {vendor}'s JSON (a proxy or maintenance page?)"),
        Some(b'{' | b'[') => format!("JSON that is cut short or not the shape {vendor} sends"),
        Some(_) => "a body that is not JSON".into(),
    }
}

/// The token endpoint's refusal (`{error, error_description}`, RFC 6749
/// §5.2) as a typed error: the error code, and the description only once
/// [`scrub`]bed of `secrets` and of anything that looks like a token. A
/// body in another shape is described, never quoted.
pub(crate) fn oauth_error(
    system: SystemId,
    vendor: &str,
    label: &str,
    status: u16,
    body: &[u8],
    secrets: &[&str],
) -> ConnectorError {
    #[derive(Deserialize)]
    struct OAuthError {
        error: String,
        #[serde(default)]
        error_description: String,
    }
    let kind = match status {
        500..=599 => ConnectorErrorKind::Unavailable,
        429 => ConnectorErrorKind::RateLimited,
        400..=403 => ConnectorErrorKind::Unauthorized,
        s => kind_of_status(s),
    };
    match serde_json::from_slice::<OAuthError>(body) {
        Ok(e) => {
            let code = scrub(&e.error, secrets);
            let description = scrub(&e.error_description, secrets);
            let message = if description.is_empty() {
                format!("{label}: the token request was refused: {code}")
            } else {
                format!("{label}: the token request was refused: {code}: {description}")
            };
            let kind = match kind {
                ConnectorErrorKind::Unavailable | ConnectorErrorKind::RateLimited => kind,
                _ => ConnectorErrorKind::Unauthorized,
            };
            error(system, kind, message, None)
        }
        Err(_) => error(
            system,
            kind,
            format!(
                "{label}: HTTP {status} with {}",
                describe_body(body, vendor)
            ),
            None,
        ),
    }
}

/// The longest description kept from a token endpoint's error.
const MAX_DESCRIPTION: usize = 200;

/// `text` without anything secret: each of `secrets` (non-empty) is cut
/// out, and so is every word that looks like a token (at least 12
/// characters of a token's alphabet, with letters and digits both, or at
/// least 24 of them), so an OAuth server that echoes a refresh token or a
/// client secret in its description does not put it in our errors and
/// logs. Long text is cut at 200 characters.
pub(crate) fn scrub(text: &str, secrets: &[&str]) -> String {
    let mut text = text.to_owned();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        text = text.replace(secret, "[redacted]");
    }
    let words: Vec<String> = text
        .split_whitespace()
        .map(|word| {
            if word
                .split(['=', ':', ',', ';', '(', ')', '"', '\'', '`'])
                .any(looks_like_a_token)
            {
                "[redacted]".to_owned()
            } else {
                word.to_owned()
            }
        })
        .collect();
    let mut out = words.join(" ");
    if out.chars().count() > MAX_DESCRIPTION {
        out = out.chars().take(MAX_DESCRIPTION).collect::<String>() + "…";
    }
    out
}

fn looks_like_a_token(part: &str) -> bool {
    let part = part.trim_matches(|c: char| matches!(c, '.' | '[' | ']' | '{' | '}'));
    let alphabet =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/');
    if !part.chars().all(alphabet) {
        return false;
    }
    let letters = part.chars().any(|c| c.is_ascii_alphabetic());
    let digits = part.chars().any(|c| c.is_ascii_digit());
    (part.len() >= 12 && letters && digits) || part.len() >= 24
}
