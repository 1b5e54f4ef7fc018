//! RS256 signature checks for the Salesforce fake's JWT bearer flow,
//! through the rustls crypto provider (an installed default, else ring or
//! aws-lc-rs by this crate's features), so the fakes add no cryptography
//! crate of their own.

use rustls::SignatureScheme;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::SubjectPublicKeyInfoDer;
use rustls::pki_types::pem::PemObject;
use std::sync::Arc;

/// Checks the RS256 signature of `token` (`header.claims.signature`)
/// against the RSA public key in `public_pem` (`PUBLIC KEY`, as
/// `openssl rsa -pubout` writes it). The refusal never quotes the key.
pub(crate) fn verify(token: &str, public_pem: &str) -> Result<(), &'static str> {
    let provider = provider().ok_or("no crypto provider to check the signature with")?;
    let spki = SubjectPublicKeyInfoDer::from_pem_slice(public_pem.as_bytes())
        .map_err(|_| "the configured public key is not a public key in PEM")?;
    let public_key = subject_public_key(&spki).ok_or("the configured public key is malformed")?;
    let (signed, signature) = token.rsplit_once('.').ok_or("invalid assertion")?;
    let signature = crate::salesforce::base64url_decode(signature).ok_or("invalid assertion")?;
    let algorithms = provider
        .signature_verification_algorithms
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == SignatureScheme::RSA_PKCS1_SHA256)
        .map(|(_, algorithms)| *algorithms)
        .ok_or("the crypto provider cannot check RS256")?;
    algorithms
        .iter()
        .any(|alg| {
            alg.verify_signature(public_key, signed.as_bytes(), &signature)
                .is_ok()
        })
        .then_some(())
        .ok_or("invalid assertion: bad signature")
}

/// The process's default provider if one is installed, else ours (not
/// installed: the fakes leave the process's choice to the code under test).
fn provider() -> Option<Arc<CryptoProvider>> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Some(Arc::clone(installed));
    }
    #[cfg(feature = "aws-lc-rs")]
    return Some(Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    return Some(Arc::new(rustls::crypto::ring::default_provider()));
    #[cfg(not(any(feature = "ring", feature = "aws-lc-rs")))]
    None
}

/// The `subjectPublicKey` bits of a `SubjectPublicKeyInfo`:
/// `SEQUENCE { SEQUENCE { algorithm }, BIT STRING { 0, key } }`.
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

#[cfg(test)]
mod tests {
    use super::*;

    // The test keys and tokens are the connectors' (one set for both).
    const PUBLIC: &str =
        include_str!("../../connectors/tests/data/salesforce/test_only_public_key.pem");
    /// `{"exp":1,"iss":"key"}`, RS256-signed with the private half of
    /// `PUBLIC` (the connectors' signer writes exactly this: PKCS#1 v1.5
    /// signatures are deterministic).
    const SIGNED: &str =
        include_str!("../../connectors/tests/data/salesforce/test_only_signed_by_test_key.jwt");
    /// The same claims signed with another key.
    const SIGNED_BY_OTHER: &str =
        include_str!("../../connectors/tests/data/salesforce/test_only_signed_by_other_key.jwt");

    #[test]
    fn a_signed_token_verifies_and_a_tampered_one_does_not() {
        let token = SIGNED.trim();
        assert_eq!(token.split('.').count(), 3);
        assert_eq!(verify(token, PUBLIC), Ok(()));
        assert!(
            verify(SIGNED_BY_OTHER.trim(), PUBLIC).is_err(),
            "signed by another key"
        );
        let (head, sig) = token.rsplit_once('.').unwrap_or_default();
        let tampered = format!("{head}x.{sig}");
        assert!(verify(&tampered, PUBLIC).is_err());
        assert!(verify(token, "not a key").is_err());
        assert!(verify("no-dots", PUBLIC).is_err());
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
