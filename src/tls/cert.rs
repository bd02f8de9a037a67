//! Certificate bytes: loading PEM/DER, the fingerprints and pins a device or a
//! CI script compares.
//!
//! What BearSSL's `setFingerprint` compares is the SHA-1 of the leaf exactly
//! as sent on the wire (esp8266-tls.md §2.4), so every hash here is over the
//! DER bytes we received, never a re-encoding.

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// SHA-1 of the DER bytes (what `setFingerprint` compares).
pub fn sha1(der: &[u8]) -> [u8; 20] {
    Sha1::digest(der).into()
}

/// SHA-256 of the DER bytes.
pub fn sha256(der: &[u8]) -> [u8; 32] {
    Sha256::digest(der).into()
}

/// `aa:bb:cc…` lower case (the spelling the core's `tools/cert.py` writes).
pub fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Raw SubjectPublicKeyInfo DER of a certificate.
pub fn spki_der(cert_der: &[u8]) -> Result<Vec<u8>> {
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der)
        .map_err(|e| Error::check_failed(format!("certificate does not parse: {e}")))?;
    Ok(cert.tbs_certificate.subject_pki.raw.to_vec())
}

/// `pin-sha256`: base64 of the SHA-256 of the SPKI DER (HPKP/curl spelling).
pub fn spki_pin_sha256(cert_der: &[u8]) -> Result<String> {
    use base64::Engine;
    let spki = spki_der(cert_der)?;
    Ok(base64::engine::general_purpose::STANDARD.encode(sha256(&spki)))
}

/// Parse one or more certificates from a PEM bundle or a single DER blob.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    let looks_pem = bytes
        .windows(11)
        .any(|w| w == b"-----BEGIN ");
    if looks_pem {
        let mut reader = std::io::BufReader::new(bytes);
        let mut out = Vec::new();
        for item in rustls_pemfile::certs(&mut reader) {
            let der = item.map_err(|e| Error::usage(format!("malformed PEM: {e}")))?;
            out.push(der.as_ref().to_vec());
        }
        if out.is_empty() {
            return Err(Error::usage("the PEM file holds no CERTIFICATE block"));
        }
        Ok(out)
    } else {
        x509_parser::parse_x509_certificate(bytes).map_err(|e| {
            Error::usage(format!("neither PEM nor a DER certificate: {e}"))
        })?;
        Ok(vec![bytes.to_vec()])
    }
}

/// PEM text of a DER certificate.
pub fn to_pem(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut s = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("-----END {label}-----\n"));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_hex_is_lowercase_with_colons() {
        assert_eq!(colon_hex(&[0xAB, 0x01]), "ab:01");
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(load_certificates(b"hello").is_err());
        assert!(load_certificates(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n").is_err());
    }
}
