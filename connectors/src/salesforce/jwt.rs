//! RS256 JSON Web Tokens, signed through the rustls crypto provider (ring
//! or aws-lc-rs, whichever the build uses), so the JWT bearer flow adds no
//! cryptography crate of its own. (The Salesforce fake checks them with a
//! verifier of its own, in the fakes crate.)

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::SignatureScheme;
use rustls::pki_types::PrivateKeyDer;
use rustls::pki_types::pem::PemObject;
use serde::Serialize;

/// Why a key or a token was refused; never quotes the key.
pub(crate) type Refusal = &'static str;

/// Checks that `pem` holds an RSA private key the provider can sign
/// RS256 with (PKCS#8 `PRIVATE KEY` or PKCS#1 `RSA PRIVATE KEY`).
pub(crate) fn check_private_key(pem: &str) -> Result<(), Refusal> {
    signer(pem).map(drop)
}

fn signer(pem: &str) -> Result<Box<dyn rustls::sign::Signer>, Refusal> {
    let provider = crate::http::crypto_provider().map_err(|_| "no TLS crypto provider")?;
    let der =
        PrivateKeyDer::from_pem_slice(pem.as_bytes()).map_err(|_| "not a private key in PEM")?;
    let key = provider
        .key_provider
        .load_private_key(der)
        .map_err(|_| "not a usable private key")?;
    key.choose_scheme(&[SignatureScheme::RSA_PKCS1_SHA256])
        .ok_or("not an RSA key")
}

/// `header.claims.signature`, RS256-signed with the RSA key in `pem`.
pub(crate) fn sign<C: Serialize>(pem: &str, claims: &C) -> Result<String, Refusal> {
    let signer = signer(pem)?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let claims = serde_json::to_vec(claims).map_err(|_| "claims that cannot be encoded")?;
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims));
    let signature = signer
        .sign(signed.as_bytes())
        .map_err(|_| "signing failed")?;
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PRIVATE: &str = include_str!("../../tests/data/salesforce/test_only_private_key.pem");
    const PUBLIC: &str = include_str!("../../tests/data/salesforce/test_only_public_key.pem");
    const OTHER: &str = include_str!("../../tests/data/salesforce/test_only_other_private_key.pem");
    const SIGNED: &str =
        include_str!("../../tests/data/salesforce/test_only_signed_by_test_key.jwt");
    const SIGNED_BY_OTHER: &str =
        include_str!("../../tests/data/salesforce/test_only_signed_by_other_key.jwt");

    #[test]
    fn a_signed_token_is_the_expected_rs256_signature() {
        let token = sign(PRIVATE, &serde_json::json!({"iss": "key", "exp": 1})).unwrap();
        assert_eq!(token.split('.').count(), 3);
        // PKCS#1 v1.5 signatures are deterministic: the same key and claims
        // give the same token, which the fakes' verifier checks against
        // the public key (and refuses signed by OTHER).
        assert_eq!(token, SIGNED.trim());
        let other = sign(OTHER, &serde_json::json!({"iss": "key", "exp": 1})).unwrap();
        assert_eq!(other, SIGNED_BY_OTHER.trim());
        assert_ne!(other, token, "signed by another key");
        assert!(check_private_key("not a key").is_err());
        assert!(check_private_key(PUBLIC).is_err());
        assert!(check_private_key(PRIVATE).is_ok());
    }
}
