//! The TLS crypto provider.
//!
//! HTTPS goes through rustls, whose cryptography comes from a *provider*.
//! This crate's features choose one: `ring` (the default: it builds in a
//! fraction of aws-lc-rs's time and needs no C toolchain beyond `cc`) or
//! `aws-lc-rs` (FIPS-capable; it wins when both are on). A provider your
//! application installed itself (`CryptoProvider::install_default`) is
//! used as it is: the client installs its own only when none is.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;

use crate::error::{Error, Result};

/// Makes sure rustls has a process-wide crypto provider, installing the
/// one this crate's features choose when the application installed none,
/// and returns it. Called by [`ClientBuilder::build`](crate::ClientBuilder::build);
/// call it yourself before building a `reqwest::Client` of your own for
/// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client).
///
/// # Errors
///
/// [`ErrorKind::Configuration`](crate::ErrorKind::Configuration) when no provider is installed and both the
/// `ring` and `aws-lc-rs` features are off.
///
/// # Example
///
/// ```
/// let provider = odoo_integration_client::tls::ensure_crypto_provider()?;
/// assert!(!provider.cipher_suites.is_empty());
/// # Ok::<(), odoo_integration_client::Error>(())
/// ```
pub fn ensure_crypto_provider() -> Result<Arc<CryptoProvider>> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Ok(Arc::clone(installed));
    }
    let ours = chosen().ok_or_else(|| {
        Error::config(
            "no TLS crypto provider: enable the `ring` or `aws-lc-rs` feature, or install one \
             with rustls::crypto::CryptoProvider::install_default before building the client",
        )
    })?;
    // Another thread may install one first: then that one is the default.
    let _ = ours.install_default();
    CryptoProvider::get_default()
        .cloned()
        .ok_or_else(|| Error::config("the TLS crypto provider could not be installed"))
}

/// The provider the features choose.
fn chosen() -> Option<CryptoProvider> {
    #[cfg(feature = "aws-lc-rs")]
    return Some(rustls::crypto::aws_lc_rs::default_provider());
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    return Some(rustls::crypto::ring::default_provider());
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    return None;
}
