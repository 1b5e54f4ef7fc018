//! RS256 JSON Web Tokens, signed and checked through the rustls crypto
//! provider (ring or aws-lc-rs, whichever the build uses), so the JWT
//! bearer flow adds no cryptography crate of its own.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls::SignatureScheme;
use rustls::pki_types::PrivateKeyDer;
#[cfg(feature = "fakes")]
use rustls::pki_types::SubjectPublicKeyInfoDer;
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

/// Checks the RS256 signature of `token` against the RSA public key in
/// `public_pem` (`PUBLIC KEY`, as `openssl rsa -pubout` writes it).
#[cfg(feature = "fakes")]
pub(crate) fn verify(token: &str, public_pem: &str) -> Result<(), Refusal> {
    let provider = crate::http::crypto_provider().map_err(|_| "no TLS crypto provider")?;
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(public_pem.as_bytes())
        .map_err(|_| "the configured public key is not a public key in PEM")?;
    let public_key = subject_public_key(&spki).ok_or("the configured public key is malformed")?;
    let (signed, signature) = token.rsplit_once('.').ok_or("invalid assertion")?;
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "invalid assertion")?;
    let algorithms = provider
        .signature_verification_algorithms
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == SignatureScheme::RSA_PKCS1_SHA256)
        .map(|(_, algorithms)| *algorithms)
        .ok_or("the provider cannot check RS256")?;
    algorithms
        .iter()
        .any(|alg| {
            alg.verify_signature(public_key, signed.as_bytes(), &signature)
                .is_ok()
        })
        .then_some(())
        .ok_or("invalid assertion: bad signature")
}

/// The `subjectPublicKey` bits of a `SubjectPublicKeyInfo`:
/// `SEQUENCE { SEQUENCE { algorithm }, BIT STRING { 0, key } }`.
#[cfg(feature = "fakes")]
fn subject_public_key<'a>(spki: &'a SubjectPublicKeyInfoDer<'_>) -> Option<&'a [u8]> {
    let (body, _) = der(spki.as_ref(), 0x30)?;
    let (_, rest) = der(body, 0x30)?;
    let (bits, _) = der(rest, 0x03)?;
    match bits.split_first() {
        Some((0, key)) => Some(key),
        _ => None,
    }
}

/// One DER element of `tag` at the start of `input`: its content and what
/// follows it.
#[cfg(feature = "fakes")]
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, mut rest) = rest.split_first()?;
    let length = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    (rest.len() >= length).then(|| rest.split_at(length))
}

#[cfg(all(test, feature = "fakes"))]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const PRIVATE: &str = include_str!("../../tests/data/salesforce/test_only_private_key.pem");
    const PUBLIC: &str = include_str!("../../tests/data/salesforce/test_only_public_key.pem");
    const OTHER: &str = include_str!("../../tests/data/salesforce/test_only_other_private_key.pem");

    #[test]
    fn a_signed_token_verifies_and_a_tampered_one_does_not() {
        let token = sign(PRIVATE, &serde_json::json!({"iss": "key", "exp": 1})).unwrap();
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify(&token, PUBLIC), Ok(()));
        let other = sign(OTHER, &serde_json::json!({"iss": "key", "exp": 1})).unwrap();
        assert!(verify(&other, PUBLIC).is_err(), "signed by another key");
        let (head, sig) = token.rsplit_once('.').unwrap();
        let tampered = format!("{}x.{sig}", head);
        assert!(verify(&tampered, PUBLIC).is_err());
        assert!(check_private_key("not a key").is_err());
        assert!(check_private_key(PUBLIC).is_err());
        assert!(check_private_key(PRIVATE).is_ok());
    }

    #[test]
    fn der_reads_lengths_and_refuses_what_does_not_fit() {
        assert_eq!(
            der(&[0x30, 2, 1, 2, 9], 0x30),
            Some((&[1u8, 2][..], &[9u8][..]))
        );
        assert_eq!(der(&[0x30, 0x81, 1, 7], 0x30), Some((&[7u8][..], &[][..])));
        assert_eq!(der(&[0x30, 5, 1], 0x30), None);
        assert_eq!(der(&[0x31, 0], 0x30), None);
        assert_eq!(der(&[0x30, 0x85, 1, 1, 1, 1, 1], 0x30), None);
    }
}
