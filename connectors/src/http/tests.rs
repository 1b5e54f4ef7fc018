//! The HTTP core against wiremock: auth, the 401 refresh, rate limits,
//! error pages, decoding, the body cap, and the single-flight refresh.

#![allow(clippy::unwrap_used)]

use super::auth::Auth;
use super::body::{parse_retry_after, read_capped};
use super::errors::{oauth_error, scrub};
use super::*;
use crate::error::{ConnectorError, ConnectorErrorKind, Result};
use crate::rate_limit::{Quota, RateLimiter};
use async_trait::async_trait;
use odoo_integration_model::SystemId;
use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A vendor whose errors are the shared fallback.
#[derive(Debug)]
struct Plain;

impl Vendor for Plain {
    fn system(&self) -> SystemId {
        SystemId::hubspot()
    }
    fn name(&self) -> &'static str {
        "HubSpot"
    }
    fn error(&self, r: &Refused<'_>) -> ConnectorError {
        let message = format!(
            "{}: HTTP {} with {}",
            r.label,
            r.status,
            describe_body(r.body, "HubSpot")
        );
        error(
            self.system(),
            kind_of_status(r.status),
            message,
            r.retry_after,
        )
    }
}

/// A token flow counting its renewals: grant `n` is the token `t{n}`.
#[derive(Debug, Default)]
struct Counting {
    renewals: AtomicUsize,
    /// Whether the first grant is already expired.
    starts_expired: bool,
}

#[async_trait]
impl TokenFlow for Counting {
    type Grant = (usize, bool);
    async fn load(&self) -> Result<(usize, bool)> {
        Ok((0, self.starts_expired))
    }
    async fn renew(&self, _old: &(usize, bool)) -> Result<(usize, bool)> {
        // Slow enough that concurrent callers pile up behind the lock.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let n = self.renewals.fetch_add(1, Ordering::SeqCst) + 1;
        Ok((n, false))
    }
    fn expired(&self, grant: &(usize, bool)) -> bool {
        grant.1
    }
    fn credential(&self, grant: &(usize, bool), generation: u64) -> Result<Credential> {
        Ok(Credential {
            authorization: Credential::header(
                &SystemId::hubspot(),
                "Bearer",
                &format!("t{}", grant.0),
            )?,
            base: None,
            generation,
        })
    }
}

fn client(server: &MockServer, auth: Arc<dyn Auth>) -> RestClient {
    let http = http_client(Duration::from_secs(10), SystemId::hubspot()).unwrap();
    RestClient::builder(http, &server.uri(), auth, Arc::new(Plain)).build()
}

fn bearer(token: &str) -> Arc<dyn Auth> {
    Arc::new(BearerToken::new(
        SystemId::hubspot(),
        Arc::new(SecretString::from(token.to_owned())),
    ))
}

#[tokio::test]
async fn the_credential_is_sent_as_the_authorization_header() {
    let server = MockServer::start().await;
    Mock::given(path("/bearer"))
        .and(header("authorization", "Bearer pat-123"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": 1})))
        .mount(&server)
        .await;
    // BambooHR: the key as the user, `x` as the password.
    Mock::given(path("/basic"))
        .and(header("authorization", "Basic a2V5LTQ1Njp4"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"ok": 2})))
        .mount(&server)
        .await;
    let got: serde_json::Value = client(&server, bearer("pat-123"))
        .json(Method::GET, "/bearer", None)
        .await
        .unwrap();
    assert_eq!(got["ok"], 1);
    let basic = Arc::new(BasicKey::new(
        SystemId::bamboohr(),
        Arc::new(SecretString::from("key-456".to_owned())),
        "x",
    ));
    let got: serde_json::Value = client(&server, basic)
        .json(Method::GET, "/basic", None)
        .await
        .unwrap();
    assert_eq!(got["ok"], 2);
    assert!(!format!("{:?}", client(&server, bearer("pat-123"))).contains("pat-123"));
}

/// A server refusing the token `t0` and answering `answer` to `t1`.
async fn refusing_t0(answer: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer t0"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    Mock::given(header("authorization", "Bearer t1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(answer))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn a_401_refreshes_once_and_sends_again() {
    let server = refusing_t0(serde_json::json!([1, 2])).await;
    let auth = Arc::new(OAuth::new(Counting::default()));
    let rest = client(&server, auth.clone());
    let got: Vec<u32> = rest.json(Method::GET, "/x", None).await.unwrap();
    assert_eq!(got, [1, 2]);
    assert_eq!(server.received_requests().await.unwrap().len(), 2);
    // The new token is kept: the next call sends it at once.
    let _: Vec<u32> = rest.json(Method::GET, "/x", None).await.unwrap();
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_second_401_is_unauthorized_and_a_static_token_is_not_refreshed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let oauth: Arc<dyn Auth> = Arc::new(OAuth::new(Counting::default()));
    // OAuth: once more after a refresh, no loop; a static token: once.
    for (auth, sent) in [(oauth, 2), (bearer("pat"), 3)] {
        let e = client(&server, auth)
            .send(Method::GET, "/x", None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
        assert_eq!(server.received_requests().await.unwrap().len(), sent);
    }
}

#[tokio::test]
async fn a_429_is_rate_limited_with_its_wait_and_pauses_the_limiter() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "2"))
        .mount(&server)
        .await;
    let limiter = RateLimiter::new(Quota::unlimited());
    let http = http_client(Duration::from_secs(10), SystemId::hubspot()).unwrap();
    let rest = RestClient::builder(http, &server.uri(), bearer("t"), Arc::new(Plain))
        .limiter(limiter.clone())
        .build();
    let e = rest.send(Method::GET, "/x", None).await.unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
    // Not retried here: the pipeline decides.
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
    let waited = tokio::time::timeout(Duration::from_millis(100), limiter.acquire()).await;
    assert!(waited.is_err(), "the limiter holds every task back");

    // A wait past the limiter's ceiling is not taken, but is reported.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "86400"))
        .mount(&server)
        .await;
    let limiter = RateLimiter::new(Quota::unlimited()).with_max_pause(Duration::from_secs(60));
    let http = http_client(Duration::from_secs(10), SystemId::hubspot()).unwrap();
    let rest = RestClient::builder(http, &server.uri(), bearer("t"), Arc::new(Plain))
        .limiter(limiter.clone())
        .build();
    let e = rest.send(Method::GET, "/x", None).await.unwrap_err();
    assert_eq!(e.retry_after(), Some(Duration::from_secs(86_400)));
    let waited = tokio::time::timeout(Duration::from_millis(100), limiter.acquire()).await;
    assert!(waited.is_ok(), "past the ceiling: no pause");
}

#[tokio::test]
async fn an_html_502_is_unavailable_and_described_not_quoted() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(502)
                .set_body_raw("<html>secret-session-cookie</html>", "text/html"),
        )
        .mount(&server)
        .await;
    let e = client(&server, bearer("t"))
        .send(Method::GET, "/crm/v3/objects/contacts?after=9", None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    assert!(e.message().contains("HTML page"), "{e}");
    assert!(
        e.message().starts_with("GET /crm/v3/objects/contacts:"),
        "{e}"
    );
    assert!(!format!("{e} {e:?}").contains("secret-session-cookie"));
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Contacts {
    results: Vec<Contact>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Contact {
    id: String,
    properties: std::collections::BTreeMap<String, String>,
}

#[tokio::test]
async fn a_body_that_does_not_fit_names_the_json_path() {
    let server = MockServer::start().await;
    let contact =
        |id: u32| serde_json::json!({"id": id.to_string(), "properties": {"email": "a@b.c"}});
    let mut results: Vec<_> = (0..3).map(contact).collect();
    results.push(serde_json::json!({"id": "3", "properties": ["not", "a", "map"]}));
    Mock::given(path("/crm/v3/objects/contacts"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"results": results})),
        )
        .mount(&server)
        .await;
    Mock::given(path("/cut"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw("{\"results\": [", "application/json"),
        )
        .mount(&server)
        .await;
    let rest = client(&server, bearer("t"));
    let e = rest
        .json::<Contacts>(Method::GET, "/crm/v3/objects/contacts?limit=4", None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Protocol);
    assert!(
        e.message().starts_with(
            "GET /crm/v3/objects/contacts: not the JSON HubSpot sends at `results[3].properties`: "
        ),
        "{e}"
    );
    let e = rest
        .json::<Contacts>(Method::GET, "/cut", None)
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Protocol);
    assert!(e.message().contains("cut short"), "{e}");
    // A part of an answer, decoded later, names its path below its place.
    let value = serde_json::json!([{"id": 7, "properties": {}}]);
    let e = decode_value::<Vec<Contact>>(
        &SystemId::hubspot(),
        "HubSpot",
        "POST /s",
        "results",
        &value,
    )
    .unwrap_err();
    assert!(e.message().contains("at `results[0].id`"), "{e}");
}

/// A server answering 4096 spaces, and a client.
async fn spaces_4096() -> (MockServer, reqwest::Client) {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(vec![b' '; 4096], "application/json"))
        .mount(&server)
        .await;
    let http = http_client(Duration::from_secs(10), SystemId::hubspot()).unwrap();
    (server, http)
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused() {
    let (server, http) = spaces_4096().await;
    let small = RestClient::builder(http.clone(), &server.uri(), bearer("t"), Arc::new(Plain))
        .max_body(1024)
        .build();
    let e = small.send(Method::GET, "/big", None).await.unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Protocol);
    assert!(e.message().contains("1024"), "{e}");
    let roomy = RestClient::builder(http, &server.uri(), bearer("t"), Arc::new(Plain)).build();
    assert_eq!(
        roomy
            .send(Method::GET, "/big", None)
            .await
            .unwrap()
            .body
            .len(),
        4096
    );
}

#[tokio::test]
async fn concurrent_calls_on_an_expired_token_refresh_once() {
    let server = MockServer::start().await;
    Mock::given(header("authorization", "Bearer t1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let auth = Arc::new(OAuth::new(Counting {
        starts_expired: true,
        ..Default::default()
    }));
    let rest = client(&server, auth.clone());
    eight_calls_at_once(&rest).await;
    assert_eq!(auth_renewals(&auth), 1);
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        8,
        "no 401 seen"
    );

    // And eight tasks refused with a 401 at once: still one refresh.
    let server = refusing_t0(serde_json::json!({})).await;
    let auth = Arc::new(OAuth::new(Counting::default()));
    let rest = client(&server, auth.clone());
    eight_calls_at_once(&rest).await;
    assert_eq!(auth_renewals(&auth), 1);
}

/// Eight calls at once, all successful.
async fn eight_calls_at_once(rest: &RestClient) {
    let calls = (0..8).map(|_| {
        let rest = rest.clone();
        async move {
            rest.json::<serde_json::Value>(Method::GET, "/x", None)
                .await
        }
    });
    for result in futures::future::join_all(calls).await {
        result.unwrap();
    }
}

fn auth_renewals(auth: &OAuth<Counting>) -> usize {
    auth.flow().renewals.load(Ordering::SeqCst)
}

#[test]
fn oauth_errors_keep_the_code_and_never_a_secret() {
    let e = oauth_error(
        SystemId::gusto(),
        "Gusto",
        "POST /oauth/token",
        400,
        br#"{"error":"invalid_grant","error_description":"revoked"}"#,
        &[],
    );
    assert_eq!(e.kind(), ConnectorErrorKind::Unauthorized);
    assert!(e.message().contains("invalid_grant"));
    assert!(e.message().contains("revoked"));

    // A server that echoes the refresh token, the secret or a JWT.
    let body = br#"{"error":"invalid_grant","error_description":"refresh token rt-Zx81kQ0pLm7vN2bC4dE5 is revoked; client_secret=s3cr3t-value (assertion eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJrZXkifQ.c2ln)"}"#;
    let e = oauth_error(
        SystemId::salesforce(),
        "Salesforce",
        "POST /services/oauth2/token",
        400,
        body,
        &["s3cr3t-value"],
    );
    let shown = format!("{e} {e:?}");
    for secret in [
        "rt-Zx81kQ0pLm7vN2bC4dE5",
        "s3cr3t-value",
        "eyJhbGciOiJSUzI1NiJ9",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(
        shown.contains("invalid_grant") && shown.contains("is revoked"),
        "{shown}"
    );

    // 5xx and 429 keep their kinds; a page is described.
    let e = oauth_error(
        SystemId::gusto(),
        "Gusto",
        "POST /t",
        503,
        b"<html>x</html>",
        &[],
    );
    assert_eq!(e.kind(), ConnectorErrorKind::Unavailable);
    assert!(e.message().contains("HTML"));
    let e = oauth_error(
        SystemId::gusto(),
        "Gusto",
        "POST /t",
        429,
        b"{\"error\":\"slow_down\"}",
        &[],
    );
    assert_eq!(e.kind(), ConnectorErrorKind::RateLimited);
    assert_eq!(scrub("plain words stay", &[]), "plain words stay");
}

/// Bodies over the limit are refused, declared or streamed; a body
/// within it is read whole.
#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (server, http) = spaces_4096().await;
    let get = |url: String| {
        let http = http.clone();
        async move { http.get(url).send().await.unwrap() }
    };
    let big = format!("{}/big", server.uri());
    let e = read_capped(
        get(big.clone()).await,
        &SystemId::hubspot(),
        "GET /big",
        1024,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind(), ConnectorErrorKind::Protocol);
    assert!(e.message().contains("1024"), "{e}");
    let ok = read_capped(get(big).await, &SystemId::hubspot(), "GET /big", 8192)
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
    let e = read_capped(get(url).await, &SystemId::gusto(), "GET /stream", 10 * 1024)
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
    assert_eq!(form_encode(&[("q", "a b&c")]), "q=a%20b%26c");
}
