//! The HTTP core every vendor connector (HubSpot, Salesforce, BambooHR,
//! Gusto) sends its requests through: one [`RestClient`] that
//!
//! - waits its turn at the connector's [`RateLimiter`](crate::RateLimiter),
//! - adds the credential of an [`Auth`](auth::Auth): a static bearer token
//!   ([`BearerToken`]), a basic key ([`BasicKey`]), or OAuth with a
//!   single-flight refresh and a token store ([`OAuth`] over a vendor's
//!   [`TokenFlow`]),
//! - on a 401, refreshes the credential once (only an auth that can
//!   refresh) and sends the request once more,
//! - reads the answer's body up to a cap (64 MiB unless set otherwise),
//! - maps a refused answer to a typed error with the vendor's
//!   [`Vendor::error`] (the shared [`kind_of_status`] as the fallback),
//!   and pauses the limiter for a rate limit's `Retry-After` (up to the
//!   limiter's ceiling),
//! - decodes a 2xx answer, naming the JSON path of what does not fit.
//!
//! It does **not** retry transient failures (429, 5xx, the network): it
//! returns the typed error, with the wait the system asked for, and the
//! pipeline (the one retry layer) decides. The only request sent twice is
//! the one refused with a 401 when the credential could be refreshed.
//!
//! Vendor hooks ([`Vendor`]) read what a vendor sends beside the answer
//! (HubSpot's rate-limit headers, Salesforce's `Sforce-Limit-Info`) and may
//! refuse a call before it is sent (Salesforce's usage threshold).

// Each vendor uses part of the core: a build with only some vendors
// leaves the rest unused.
#![cfg_attr(
    not(all(
        feature = "hubspot",
        feature = "salesforce",
        feature = "bamboohr",
        feature = "gusto"
    )),
    allow(dead_code, unused_imports)
)]

mod auth;
mod body;
mod client;
mod errors;
#[cfg(test)]
mod tests;
mod token;

pub(crate) use auth::{BasicKey, BearerToken, Credential, OAuth, TokenFlow};
pub(crate) use body::{MAX_BODY, decode_value, form_encode, percent_encode};
pub(crate) use client::{Body, RestClient, http_client};
pub(crate) use errors::{Refused, Vendor, describe_body, error, kind_of_status};

#[cfg(feature = "salesforce")]
pub(crate) use client::crypto_provider;
pub(crate) use token::TokenRequest;
