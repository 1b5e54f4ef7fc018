//! Odoo client errors as connector errors.

use crate::error::{ConnectorError, ConnectorErrorKind};
use odoo_integration_model::SystemId;

/// An odoo-integration-client error as a connector error, classified by the
/// client's kind (which Odoo's exception class decides before the HTTP
/// status: a `ValueError` answered with HTTP 500 is `Invalid`, not
/// `Unavailable`), with the client's error kept as the `source()`. What the
/// client finds transient (a proxy's 5xx page, a 5xx naming no known class,
/// a cut-off body) is `Unavailable`: the pipeline's writes are idempotent.
pub(crate) fn convert(e: odoo_integration_client::Error) -> ConnectorError {
    use odoo_integration_client::ErrorKind as K;
    let kind = match e.kind() {
        K::RateLimited => ConnectorErrorKind::RateLimited,
        K::Transport => ConnectorErrorKind::Transport,
        K::Unauthorized => ConnectorErrorKind::Unauthorized,
        K::Forbidden => ConnectorErrorKind::Forbidden,
        K::Invalid | K::UserError | K::InvalidRequest | K::InvalidDomain => {
            ConnectorErrorKind::Invalid
        }
        K::MissingRecord | K::NotFound => ConnectorErrorKind::NotFound,
        K::AmbiguousMatch => ConnectorErrorKind::Ambiguous,
        K::Configuration => ConnectorErrorKind::Configuration,
        _ if e.is_retryable() => ConnectorErrorKind::Unavailable,
        _ => ConnectorErrorKind::Protocol,
    };
    let converted = if kind == ConnectorErrorKind::RateLimited {
        let after = e.retry_after().filter(|d| !d.is_zero());
        ConnectorError::rate_limited(e.to_string(), after)
    } else {
        ConnectorError::new(kind, e.to_string())
    };
    converted.with_system(SystemId::odoo()).with_source(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn odoo_errors_are_classified_by_class_and_keep_their_source() {
        use odoo_integration_client::test_server::{Fault, TestServer};
        use odoo_integration_client::{Domain, Protocol, RetryPolicy};
        let server = TestServer::start().await.unwrap();
        let client = server
            .client(Protocol::Json2)
            .unwrap()
            .with_retry_policy(RetryPolicy::disabled());
        let raise = |name: &str| Fault::Exception {
            name: name.into(),
            message: "Invalid field 'x_approved' on model 'account.analytic.line'".into(),
        };
        let cases = [
            (raise("builtins.ValueError"), ConnectorErrorKind::Invalid),
            (
                raise("odoo.exceptions.AccessError"),
                ConnectorErrorKind::Forbidden,
            ),
            (Fault::BadGateway, ConnectorErrorKind::Unavailable),
            (
                Fault::RateLimited { retry_after: 3 },
                ConnectorErrorKind::RateLimited,
            ),
        ];
        for (fault, kind) in cases {
            server.inject(fault, 1);
            let err = client
                .model("res.partner")
                .search_count(Domain::all())
                .send()
                .await
                .unwrap_err();
            let status = err.http_status();
            let converted = convert(err);
            assert_eq!(converted.kind(), kind, "{converted}");
            assert_eq!(converted.system(), Some(&SystemId::odoo()));
            let source = std::error::Error::source(&converted)
                .and_then(|s| s.downcast_ref::<odoo_integration_client::Error>())
                .expect("the odoo error is the source");
            assert_eq!(source.http_status(), status);
            assert_eq!(converted.message(), source.to_string());
            if kind == ConnectorErrorKind::Invalid {
                // JSON-2 answers 500 to a ValueError: still final.
                assert_eq!(status, Some(500));
                assert!(!converted.is_retryable());
                let exception = source.server_error().expect("the exception");
                assert_eq!(exception.name(), "builtins.ValueError");
                assert!(exception.message().contains("x_approved"));
            }
            if kind == ConnectorErrorKind::RateLimited {
                assert_eq!(
                    converted.retry_after(),
                    Some(std::time::Duration::from_secs(3))
                );
            }
        }
    }
}
