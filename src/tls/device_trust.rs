//! Server authentication exactly as the device's BearSSL performs it, per
//! trust mode (DESIGN §4.1, esp8266-tls.md §2.3-§2.4, §3.4-§3.6).
//!
//! * `fingerprint`: SHA-1 of the first certificate as sent; nothing else.
//! * `pubkey`: the leaf's SubjectPublicKeyInfo must equal the pinned one
//!   (`br_x509_knownkey` ignores the chain; a different key shows up later as
//!   a failed ServerKeyExchange signature).
//! * `ca`: `br_x509_minimal`: the chain must arrive leaf first and in order,
//!   each certificate valid *now*, DN-linked to the next, signed with a
//!   PKCS#1 v1.5 or ECDSA algorithm, carrying RSA 1017-4096 or P-256/384/521
//!   keys, no unknown critical extension, CA=true above the leaf, the leaf's
//!   SAN dNSName (or CN only without SAN) matching the connect name, until a
//!   certificate whose issuer DN is a trust anchor's subject.
//! * `insecure`: nothing.
//!
//! The checks are done in the order BearSSL meets the fields in the DER, so
//! the error number reported is the one the device would report first.

use serde::Serialize;
use x509_parser::prelude::*;

use super::cert;
use super::TrustMode;

/// BearSSL X.509 error numbers (bearssl_x509.h, esp8266-tls.md §6.1).
pub mod err {
    pub const INVALID_VALUE: u16 = 33;
    pub const EMPTY_CHAIN: u16 = 35;
    pub const UNSUPPORTED: u16 = 49;
    pub const LIMIT_EXCEEDED: u16 = 50;
    pub const BAD_SIGNATURE: u16 = 52;
    pub const EXPIRED: u16 = 54;
    pub const DN_MISMATCH: u16 = 55;
    pub const BAD_SERVER_NAME: u16 = 56;
    pub const CRITICAL_EXTENSION: u16 = 57;
    pub const NOT_CA: u16 = 58;
    pub const FORBIDDEN_KEY_USAGE: u16 = 59;
    pub const WEAK_PUBLIC_KEY: u16 = 60;
    pub const NOT_TRUSTED: u16 = 62;
    /// TLS-layer: ServerKeyExchange signature does not verify.
    pub const SSL_BAD_SIGNATURE: u16 = 27;
    /// TLS-layer: the server key does not fit the negotiated suite.
    pub const SSL_WRONG_KEY_USAGE: u16 = 28;
}

/// What the leaf's keyUsage allows, as BearSSL reduces it (`BR_KEYTYPE_KEYX`
/// = keyEncipherment or keyAgreement, `BR_KEYTYPE_SIGN` = digitalSignature);
/// `None` when there is no keyUsage extension (everything allowed).
pub fn leaf_usages(der: &[u8]) -> Option<(bool, bool)> {
    let (_, c) = parse_x509_certificate(der).ok()?;
    let ku = c.key_usage().ok()??;
    Some((
        ku.value.key_encipherment() || ku.value.key_agreement(),
        ku.value.digital_signature(),
    ))
}

/// Algorithm OID of an SPKI.
fn spki_alg(spki: &[u8]) -> Option<String> {
    SubjectPublicKeyInfo::from_der(spki)
        .ok()
        .map(|(_, k)| k.algorithm.algorithm.to_id_string())
}

/// The device's trust configuration.
#[derive(Debug, Clone, Default)]
pub struct DeviceTrust {
    pub mode: TrustMode,
    /// DER trust anchors (`ca` mode).
    pub anchors: Vec<Anchor>,
    /// Leaf SHA-1 values (`fingerprint` mode; current and next).
    pub fingerprints: Vec<[u8; 20]>,
    /// Pinned SPKI DER (`pubkey` mode).
    pub pubkey_spki: Option<Vec<u8>>,
    /// The name given to `connect()`; `None` when connecting by IP (no SNI,
    /// no name check, §2.2).
    pub server_name: Option<String>,
    /// Unix time the device's clock shows (NTP assumed working).
    pub now: i64,
}

/// A trust anchor as `X509List` builds it: DN, key, CA flag (no dates, §2.5).
#[derive(Debug, Clone)]
pub struct Anchor {
    /// DER of the subject Name (outer SEQUENCE included).
    pub subject: Vec<u8>,
    /// SubjectPublicKeyInfo DER.
    pub spki: Vec<u8>,
    pub is_ca: bool,
    /// Human name (subject CN or the like).
    pub label: String,
}

impl Anchor {
    /// From a certificate (what `X509List` does with each PEM block).
    pub fn from_cert(der: &[u8]) -> Option<Anchor> {
        let (_, c) = parse_x509_certificate(der).ok()?;
        Some(Anchor {
            subject: c.tbs_certificate.subject.as_raw().to_vec(),
            spki: c.tbs_certificate.subject_pki.raw.to_vec(),
            is_ca: c.is_ca(),
            label: c.tbs_certificate.subject.to_string(),
        })
    }
}

/// The system roots (webpki-roots) as anchors, for `ca` mode without
/// `--ca-file`: the probe then names the one the device must carry.
pub fn system_anchors() -> Vec<Anchor> {
    webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .map(|ta| {
            // webpki stores the Name and SPKI contents without their outer
            // SEQUENCE; BearSSL compares full DER, so re-wrap them.
            let subject = der_sequence(ta.subject.as_ref());
            let spki = der_sequence(ta.subject_public_key_info.as_ref());
            let label = x509_parser::x509::X509Name::from_der(&subject)
                .map(|(_, n)| n.to_string())
                .unwrap_or_else(|_| "system root".into());
            Anchor {
                subject,
                spki,
                is_ca: true,
                label,
            }
        })
        .collect()
}

fn der_sequence(content: &[u8]) -> Vec<u8> {
    let mut v = vec![0x30];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend_from_slice(&[0x81, n as u8]);
    } else {
        v.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

/// Why the device would reject the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrustFailure {
    /// Finding id (stable).
    pub id: &'static str,
    /// BearSSL error number the device reports.
    pub bearssl: u16,
    pub message: String,
    pub fix: String,
}

/// Outcome of a successful verification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TrustSuccess {
    /// `ca` mode: the anchor the chain ended at.
    pub anchor: Option<String>,
    /// `fingerprint` mode: which configured fingerprint matched (0-based).
    pub fingerprint_index: Option<usize>,
    /// Certificates BearSSL looked at before it stopped.
    pub certificates_used: usize,
}

/// Verify a served chain the way the device does.
pub fn verify(chain: &[Vec<u8>], t: &DeviceTrust) -> Result<TrustSuccess, TrustFailure> {
    let Some(leaf) = chain.first() else {
        return Err(TrustFailure {
            id: "empty_chain",
            bearssl: err::EMPTY_CHAIN,
            message: "the server sent no certificate".into(),
            fix: "configure the broker with a certificate (mosquitto: certfile/keyfile)".into(),
        });
    };
    match t.mode {
        TrustMode::Insecure => Ok(TrustSuccess {
            certificates_used: 1,
            ..Default::default()
        }),
        TrustMode::Fingerprint => {
            let got = cert::sha1(leaf);
            match t.fingerprints.iter().position(|f| *f == got) {
                Some(i) => Ok(TrustSuccess {
                    fingerprint_index: Some(i),
                    certificates_used: 1,
                    ..Default::default()
                }),
                None => Err(TrustFailure {
                    id: "fingerprint_mismatch",
                    bearssl: err::NOT_TRUSTED,
                    message: format!(
                        "the leaf certificate's SHA-1 is {}, which matches none of the {} configured fingerprint(s)",
                        cert::colon_hex(&got),
                        t.fingerprints.len()
                    ),
                    fix: format!(
                        "set the device fingerprint to {} (`espmqtt fingerprint HOST` shows it); \
                         only the leaf's SHA-1 is compared, never a CA's",
                        cert::colon_hex(&got)
                    ),
                }),
            }
        }
        TrustMode::Pubkey => {
            let spki = cert::spki_der(leaf).map_err(|e| TrustFailure {
                id: "certificate_unparsable",
                bearssl: err::INVALID_VALUE,
                message: format!("the leaf certificate does not decode: {}", e.message),
                fix: "serve a well-formed X.509 certificate".into(),
            })?;
            match &t.pubkey_spki {
                Some(pin) if *pin == spki => Ok(TrustSuccess {
                    certificates_used: 1,
                    ..Default::default()
                }),
                _ => Err(TrustFailure {
                    id: "pubkey_mismatch",
                    // Same key type: the ServerKeyExchange signature fails
                    // (27); another type: the key cannot serve the suite (28).
                    bearssl: if t.pubkey_spki.as_deref().and_then(spki_alg) == spki_alg(&spki) {
                        err::SSL_BAD_SIGNATURE
                    } else {
                        err::SSL_WRONG_KEY_USAGE
                    },
                    message: "the leaf certificate's public key differs from the pinned key; \
                              the device would reject the server's key-exchange signature"
                        .into(),
                    fix: "pin the broker's current public key (`espmqtt fingerprint HOST` prints it), \
                          or keep the key when renewing the certificate"
                        .into(),
                }),
            }
        }
        TrustMode::Ca => verify_ca(chain, t),
    }
}

fn fail(id: &'static str, bearssl: u16, message: String, fix: &str) -> TrustFailure {
    TrustFailure {
        id,
        bearssl,
        message,
        fix: fix.to_string(),
    }
}

const OID_RSA: &str = "1.2.840.113549.1.1.1";
const OID_EC: &str = "1.2.840.10045.2.1";

fn sig_alg_supported(oid: &str) -> bool {
    matches!(
        oid,
        "1.2.840.113549.1.1.5"
            | "1.2.840.113549.1.1.14"
            | "1.2.840.113549.1.1.11"
            | "1.2.840.113549.1.1.12"
            | "1.2.840.113549.1.1.13"
            | "1.2.840.10045.4.1"
            | "1.2.840.10045.4.3.1"
            | "1.2.840.10045.4.3.2"
            | "1.2.840.10045.4.3.3"
            | "1.2.840.10045.4.3.4"
    )
}

/// Readable name of a signature or key algorithm OID.
pub fn algorithm_name(oid: &str) -> String {
    match oid {
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption".into(),
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption".into(),
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption".into(),
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption".into(),
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption".into(),
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption".into(),
        "1.2.840.113549.1.1.10" => "RSASSA-PSS".into(),
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1".into(),
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224".into(),
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256".into(),
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384".into(),
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512".into(),
        "1.3.101.112" => "Ed25519".into(),
        "1.3.101.113" => "Ed448".into(),
        OID_RSA => "RSA".into(),
        OID_EC => "EC".into(),
        other => other.to_string(),
    }
}

/// Key facts of a certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct KeyInfo {
    /// `rsa`, `ec`, or the algorithm name.
    pub kind: String,
    pub bits: usize,
    /// EC curve name.
    pub curve: Option<String>,
}

/// Public-key facts of a DER certificate (None if it does not parse).
pub fn key_info(der: &[u8]) -> Option<KeyInfo> {
    let (_, c) = parse_x509_certificate(der).ok()?;
    Some(key_info_of(&c))
}

fn key_info_of(c: &X509Certificate<'_>) -> KeyInfo {
    let spki = &c.tbs_certificate.subject_pki;
    let oid = spki.algorithm.algorithm.to_id_string();
    match oid.as_str() {
        OID_RSA => KeyInfo {
            kind: "rsa".into(),
            bits: rsa_bits(spki),
            curve: None,
        },
        OID_EC => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let (name, bits) = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => ("P-256".to_string(), 256),
                Some("1.3.132.0.34") => ("P-384".to_string(), 384),
                Some("1.3.132.0.35") => ("P-521".to_string(), 521),
                Some(o) => (o.to_string(), 0),
                None => ("unknown".to_string(), 0),
            };
            KeyInfo {
                kind: "ec".into(),
                bits,
                curve: Some(name),
            }
        }
        other => KeyInfo {
            kind: algorithm_name(other),
            bits: 0,
            curve: None,
        },
    }
}

fn rsa_bits(spki: &SubjectPublicKeyInfo<'_>) -> usize {
    match spki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(k)) => {
            let m = k.modulus;
            let first = m.iter().position(|b| *b != 0).unwrap_or(m.len());
            let m = &m[first..];
            match m.first() {
                Some(b) => (m.len() - 1) * 8 + (8 - b.leading_zeros() as usize),
                None => 0,
            }
        }
        _ => 0,
    }
}

/// `br_x509_minimal` emulation.
fn verify_ca(chain: &[Vec<u8>], t: &DeviceTrust) -> Result<TrustSuccess, TrustFailure> {
    let mut parsed = Vec::with_capacity(chain.len());
    for (i, der) in chain.iter().enumerate() {
        match parse_x509_certificate(der) {
            Ok((_, c)) => parsed.push(c),
            Err(e) => {
                return Err(fail(
                    "certificate_unparsable",
                    err::INVALID_VALUE,
                    format!("certificate #{i} of the chain does not decode: {e}"),
                    "serve well-formed DER certificates",
                ))
            }
        }
    }
    for (i, c) in parsed.iter().enumerate() {
        let what = if i == 0 {
            "the server certificate".to_string()
        } else {
            format!("chain certificate #{i} ({})", c.tbs_certificate.subject)
        };
        // 1. Signature algorithm of this certificate (read first in the TBS).
        let sig_oid = c.signature_algorithm.algorithm.to_id_string();
        if !sig_alg_supported(&sig_oid) {
            return Err(fail(
                "unsupported_cert_signature",
                err::UNSUPPORTED,
                format!(
                    "{what} is signed with {}, which BearSSL's X.509 engine cannot verify (only PKCS#1 v1.5 RSA and ECDSA with SHA-1/SHA-2)",
                    algorithm_name(&sig_oid)
                ),
                "issue the certificate with an RSA (PKCS#1 v1.5) or ECDSA signature; not RSA-PSS or Ed25519",
            ));
        }
        // 2. Validity at the device's time (needs NTP on the device, §2.7).
        let nb = c.validity().not_before.timestamp();
        let na = c.validity().not_after.timestamp();
        if t.now < nb || t.now > na {
            let state = if t.now < nb {
                "not yet valid"
            } else {
                "expired"
            };
            return Err(fail(
                if t.now < nb { "certificate_not_yet_valid" } else { "certificate_expired" },
                err::EXPIRED,
                format!(
                    "{what} is {state} (valid {} to {})",
                    c.validity().not_before,
                    c.validity().not_after
                ),
                "renew the certificate; on the device, make sure NTP has set the clock before connecting (CA mode checks dates)",
            ));
        }
        // 3. Subject DN must be the issuer DN of the previous certificate.
        if i > 0 {
            let prev = &parsed[i - 1];
            if prev.tbs_certificate.issuer.as_raw() != c.tbs_certificate.subject.as_raw() {
                return Err(fail(
                    "chain_out_of_order",
                    err::DN_MISMATCH,
                    format!(
                        "{what} is not the issuer of the certificate before it (expected {}); BearSSL needs the chain leaf first and in order",
                        prev.tbs_certificate.issuer
                    ),
                    "serve the chain in order: leaf, then its issuer, then that issuer's issuer (mosquitto: certfile = leaf followed by intermediates)",
                ));
            }
        }
        // 4. Public key.
        let key = key_info_of(c);
        match key.kind.as_str() {
            "rsa" => {
                if key.bits > 4096 {
                    return Err(fail(
                        "rsa_key_too_large",
                        err::LIMIT_EXCEEDED,
                        format!(
                            "{what} has an RSA-{} key; BearSSL handles at most 4096 bits",
                            key.bits
                        ),
                        "use an RSA key of 2048-4096 bits or an EC P-256 key",
                    ));
                }
                if key.bits < 1017 {
                    return Err(fail(
                        "rsa_key_too_small",
                        err::WEAK_PUBLIC_KEY,
                        format!(
                            "{what} has an RSA-{} key; BearSSL requires at least 1017 bits",
                            key.bits
                        ),
                        "use an RSA key of 2048 bits or more",
                    ));
                }
            }
            "ec" => {
                if key.bits == 0 {
                    return Err(fail(
                        "unsupported_curve",
                        err::UNSUPPORTED,
                        format!(
                            "{what} has an EC key on curve {}; BearSSL certificates may use P-256, P-384 or P-521 only",
                            key.curve.clone().unwrap_or_default()
                        ),
                        "use a P-256 (prime256v1) key",
                    ));
                }
            }
            other => {
                return Err(fail(
                    "unsupported_key_type",
                    err::UNSUPPORTED,
                    format!("{what} has a {other} key, which BearSSL cannot use"),
                    "use an RSA (2048-4096 bits) or EC P-256 key for the broker certificate",
                ));
            }
        }
        // 5. Extensions.
        let mut has_san = false;
        let mut san_names: Vec<String> = Vec::new();
        for ext in c.extensions() {
            let oid = ext.oid.to_id_string();
            match oid.as_str() {
                "2.5.29.17" => {
                    has_san = true;
                    if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
                        for n in &san.general_names {
                            if let GeneralName::DNSName(d) = n {
                                san_names.push(d.to_string());
                            }
                        }
                    }
                }
                // Decoded and enforced, or ignored even when critical (§3.6).
                "2.5.29.19" | "2.5.29.15" | "2.5.29.35" | "2.5.29.14" | "2.5.29.18"
                | "2.5.29.9" | "2.5.29.31" | "2.5.29.46" | "1.3.6.1.5.5.7.1.1"
                | "1.3.6.1.5.5.7.1.11" => {}
                "2.5.29.32" if ext.critical => {
                    // Critical policies pass only when every qualifier is id-qt-cps.
                    let ok = match ext.parsed_extension() {
                        ParsedExtension::CertificatePolicies(p) => {
                            p.iter().all(|pi| match pi.policy_qualifiers.as_ref() {
                                None => true,
                                Some(qs) => qs.iter().all(|q| {
                                    q.policy_qualifier_id.to_id_string() == "1.3.6.1.5.5.7.2.1"
                                }),
                            })
                        }
                        _ => false,
                    };
                    if !ok {
                        return Err(critical(
                            &what,
                            "certificatePolicies with a non-CPS qualifier",
                        ));
                    }
                }
                _ if ext.critical => return Err(critical(&what, &oid_label(&oid))),
                _ => {}
            }
        }
        if i > 0 {
            if let Ok(Some(ku)) = c.key_usage() {
                if !ku.value.key_cert_sign() {
                    return Err(fail(
                        "ca_key_usage",
                        err::FORBIDDEN_KEY_USAGE,
                        format!("{what} is used as an issuer but its keyUsage lacks keyCertSign"),
                        "serve the real intermediate CA certificate (keyUsage keyCertSign)",
                    ));
                }
            }
        }
        if i > 0 && !c.is_ca() {
            return Err(fail(
                "chain_not_ca",
                err::NOT_CA,
                format!("{what} is used as an issuer but is not a CA (basicConstraints CA=true missing)"),
                "serve only the leaf and its real intermediate CA certificates",
            ));
        }
        // 6. Host name at the end of the leaf (only when connecting by name).
        if i == 0 {
            if let Some(name) = t.server_name.as_deref() {
                let candidates: Vec<String> = if has_san {
                    san_names.clone()
                } else {
                    c.subject()
                        .iter_common_name()
                        .filter_map(|cn| cn.as_str().ok().map(str::to_string))
                        .collect()
                };
                if !candidates.iter().any(|p| name_matches(p, name)) {
                    let shown = if candidates.is_empty() {
                        "no DNS name".to_string()
                    } else {
                        candidates.join(", ")
                    };
                    return Err(fail(
                        "name_mismatch",
                        err::BAD_SERVER_NAME,
                        format!(
                            "the server certificate is for {shown}, not for {name:?} (BearSSL matches SAN dNSName entries only — IP SANs never match — and the CN only when there is no SAN)"
                        ),
                        "connect by a name listed in the certificate's SAN, or reissue the certificate with a SAN dNSName for this host",
                    ));
                }
            }
        }
        // 7. Is the issuer a trust anchor? Then verify with the anchor's key.
        let issuer = c.tbs_certificate.issuer.as_raw();
        let direct = t.anchors.iter().find(|a| {
            !a.is_ca
                && a.subject == c.tbs_certificate.subject.as_raw()
                && a.spki == c.tbs_certificate.subject_pki.raw
        });
        if let (0, Some(a)) = (i, direct) {
            return Ok(TrustSuccess {
                anchor: Some(a.label.clone()),
                certificates_used: 1,
                ..Default::default()
            });
        }
        if let Some(a) = t.anchors.iter().find(|a| a.is_ca && a.subject == issuer) {
            if verify_signature(c, &a.spki) == Some(false) {
                return Err(fail(
                    "bad_certificate_signature",
                    err::BAD_SIGNATURE,
                    format!("{what} claims to be issued by {} but its signature does not verify with that anchor's key", a.label),
                    "the CA file holds a different certificate with the same name; use the CA that really issued the broker certificate",
                ));
            }
            return Ok(TrustSuccess {
                anchor: Some(a.label.clone()),
                certificates_used: i + 1,
                ..Default::default()
            });
        }
        // 8. Otherwise the next certificate must be its issuer.
        if let Some(next) = parsed.get(i + 1) {
            if next.tbs_certificate.subject.as_raw() == issuer
                && verify_signature(c, next.tbs_certificate.subject_pki.raw) == Some(false)
            {
                return Err(fail(
                    "bad_certificate_signature",
                    err::BAD_SIGNATURE,
                    format!("the signature on {what} does not verify with its issuer's key"),
                    "serve the correct intermediate certificate",
                ));
            }
        } else {
            let last = &parsed[parsed.len() - 1];
            return Err(fail(
                "chain_untrusted",
                err::NOT_TRUSTED,
                format!(
                    "the chain ends at {} issued by {}, which is not among the device's {} trust anchor(s)",
                    last.tbs_certificate.subject,
                    last.tbs_certificate.issuer,
                    t.anchors.len()
                ),
                "give the device the CA that issued this chain (--ca-file), or serve the missing intermediate certificates",
            ));
        }
    }
    Err(fail(
        "chain_untrusted",
        err::NOT_TRUSTED,
        "no certificate of the chain links to a trust anchor".into(),
        "give the device the CA that issued the broker certificate",
    ))
}

fn critical(what: &str, ext: &str) -> TrustFailure {
    fail(
        "critical_extension",
        err::CRITICAL_EXTENSION,
        format!(
            "{what} has a critical {ext} extension, which BearSSL's X.509 engine does not support"
        ),
        "reissue the certificate without that critical extension (or mark it non-critical)",
    )
}

fn oid_label(oid: &str) -> String {
    match oid {
        "2.5.29.30" => "nameConstraints".into(),
        "2.5.29.36" => "policyConstraints".into(),
        "2.5.29.37" => "extendedKeyUsage".into(),
        "2.5.29.54" => "inhibitAnyPolicy".into(),
        "2.5.29.33" => "policyMappings".into(),
        other => other.to_string(),
    }
}

/// BearSSL host-name matching: case-insensitive, one leading `*.` wildcard
/// matching exactly one label.
pub fn name_matches(pattern: &str, name: &str) -> bool {
    let p = pattern.trim_end_matches('.').to_ascii_lowercase();
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    if let Some(rest) = p.strip_prefix("*.") {
        match n.split_once('.') {
            Some((first, tail)) => !first.is_empty() && tail == rest,
            None => false,
        }
    } else {
        p == n
    }
}

/// Verify `c`'s signature with the issuer's SPKI. `None` when ring cannot
/// check this combination (e.g. P-521): then it is not held against it.
fn verify_signature(c: &X509Certificate<'_>, issuer_spki_der: &[u8]) -> Option<bool> {
    use ring::signature as s;
    let (_, spki) = SubjectPublicKeyInfo::from_der(issuer_spki_der).ok()?;
    let key_oid = spki.algorithm.algorithm.to_id_string();
    let sig_oid = c.signature_algorithm.algorithm.to_id_string();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| o.to_id_string());
    let alg: &'static dyn s::VerificationAlgorithm =
        match (key_oid.as_str(), sig_oid.as_str(), curve.as_deref()) {
            (OID_RSA, "1.2.840.113549.1.1.5", _) => {
                &s::RSA_PKCS1_1024_8192_SHA1_FOR_LEGACY_USE_ONLY
            }
            (OID_RSA, "1.2.840.113549.1.1.11", _) => {
                &s::RSA_PKCS1_1024_8192_SHA256_FOR_LEGACY_USE_ONLY
            }
            (OID_RSA, "1.2.840.113549.1.1.12", _) => &s::RSA_PKCS1_2048_8192_SHA384,
            (OID_RSA, "1.2.840.113549.1.1.13", _) => {
                &s::RSA_PKCS1_1024_8192_SHA512_FOR_LEGACY_USE_ONLY
            }
            (OID_EC, "1.2.840.10045.4.3.2", Some("1.2.840.10045.3.1.7")) => {
                &s::ECDSA_P256_SHA256_ASN1
            }
            (OID_EC, "1.2.840.10045.4.3.3", Some("1.2.840.10045.3.1.7")) => {
                &s::ECDSA_P256_SHA384_ASN1
            }
            (OID_EC, "1.2.840.10045.4.3.2", Some("1.3.132.0.34")) => &s::ECDSA_P384_SHA256_ASN1,
            (OID_EC, "1.2.840.10045.4.3.3", Some("1.3.132.0.34")) => &s::ECDSA_P384_SHA384_ASN1,
            _ => return None,
        };
    let key = s::UnparsedPublicKey::new(alg, spki.subject_public_key.data.as_ref());
    Some(
        key.verify(c.tbs_certificate.as_ref(), c.signature_value.data.as_ref())
            .is_ok(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matches_one_label() {
        assert!(name_matches("*.example.com", "mqtt.example.com"));
        assert!(!name_matches("*.example.com", "a.b.example.com"));
        assert!(!name_matches("*.example.com", "example.com"));
        assert!(name_matches("Broker.Example.com", "broker.example.COM"));
    }
}
