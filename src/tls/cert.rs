//! Certificate bytes: loading PEM/DER, the fingerprints and pins a device or a
//! CI script compares, per-certificate summaries, the warnings that matter to
//! an ESP8266 (BearSSL) client, `--expect` parsing and Tasmota's public-key
//! fingerprint.
//!
//! What BearSSL's `setFingerprint` compares is the SHA-1 of the leaf exactly
//! as sent on the wire (docs/DEVICE.md, "Fingerprint rules"), so every hash here is over the
//! DER bytes we received, never a re-encoding.

use serde::{Deserialize, Serialize};
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

/// `AA:BB:CC…`: the one output spelling of a digest (see `src/digest.rs`).
pub fn colon_hex(bytes: &[u8]) -> String {
    crate::digest::display(bytes)
}

/// One line per certificate for `-vv`: its position, subject, issuer and
/// SHA-256.
pub fn trace_line(index: usize, der: &[u8]) -> String {
    let digest = colon_hex(&sha256(der));
    match x509_parser::parse_x509_certificate(der) {
        Ok((_, c)) => format!(
            "certificate #{index}: subject {} · issuer {} · SHA-256 {digest}",
            c.subject(),
            c.issuer()
        ),
        Err(_) => format!(
            "certificate #{index}: {} B that do not parse as X.509 · SHA-256 {digest}",
            der.len()
        ),
    }
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
/// A file that is something else (a key, a CSR, an empty file) is a usage
/// error that says what it holds, never the parser's internals.
pub fn load_certificates(bytes: &[u8]) -> Result<Vec<Vec<u8>>> {
    const HELP: &str = "give a certificate file: PEM (`-----BEGIN CERTIFICATE-----`, e.g. \
                        ca.crt or fullchain.pem) or DER";
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::usage("the file is empty").with_help(HELP));
    }
    let looks_pem = bytes.windows(11).any(|w| w == b"-----BEGIN ");
    if looks_pem {
        let mut reader = std::io::BufReader::new(bytes);
        let mut out = Vec::new();
        for item in rustls_pemfile::certs(&mut reader) {
            let der = item.map_err(|e| Error::usage(format!("malformed PEM: {e}")))?;
            out.push(der.as_ref().to_vec());
        }
        if out.is_empty() {
            return Err(Error::usage(not_a_certificate(&pem_labels(bytes))).with_help(HELP));
        }
        Ok(out)
    } else {
        x509_parser::parse_x509_certificate(bytes).map_err(|_| {
            Error::usage(
                "not a certificate: no PEM block (`-----BEGIN …`) and not a DER certificate",
            )
            .with_help(HELP)
        })?;
        Ok(vec![bytes.to_vec()])
    }
}

/// The labels of the PEM blocks in `bytes` (`PRIVATE KEY`, `PUBLIC KEY`…).
fn pem_labels(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut labels: Vec<String> = text
        .split("-----BEGIN ")
        .skip(1)
        .filter_map(|rest| rest.split_once("-----").map(|(l, _)| l.trim().to_string()))
        .filter(|l| !l.is_empty() && l.len() <= 40)
        .collect();
    labels.dedup();
    labels
}

/// What a PEM file without a certificate holds, in one phrase.
fn not_a_certificate(labels: &[String]) -> String {
    let Some(first) = labels.first() else {
        return "the PEM file holds no CERTIFICATE block".into();
    };
    let what = if first.contains("PRIVATE KEY") {
        "a private key"
    } else if first.contains("PUBLIC KEY") {
        "a public key"
    } else if first.contains("REQUEST") {
        "a certificate signing request"
    } else {
        "no certificate"
    };
    format!("the file holds {what} (`-----BEGIN {first}-----`), not a certificate")
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

/// `AA:BB:CC…` upper case: the spelling `openssl x509 -fingerprint` prints,
/// which is what users compare against. BearSSL's `setFingerprint` string
/// parser accepts either case (docs/DEVICE.md, "Fingerprint rules").
pub fn colon_hex_upper(bytes: &[u8]) -> String {
    colon_hex(bytes).to_ascii_uppercase()
}

/// The public key of a certificate as an SPKI PEM (`BEGIN PUBLIC KEY`): the
/// form `BearSSL::PublicKey` and the core's `tools/cert.py` use
/// (docs/DEVICE.md, "Trust modes and the calls behind them").
pub fn public_key_pem(cert_der: &[u8]) -> Result<String> {
    Ok(to_pem("PUBLIC KEY", &spki_der(cert_der)?))
}

/// The key of a certificate, as far as a device cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `RSA`, `EC`, `Ed25519`, `Ed448`, `DSA` or the algorithm OID.
    pub algorithm: String,
    /// Modulus size for RSA, field size for EC, when known.
    pub bits: Option<u32>,
    /// Named curve for EC keys (`P-256`, `P-384`, `P-521`, or the OID).
    pub curve: Option<String>,
}

/// Everything `espmqtt fingerprint` reports about one certificate.
///
/// Hashes are over the DER exactly as received (see the module doc); the
/// descriptive fields come from x509-parser and are absent when the
/// certificate does not parse, so a broken certificate is still reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSummary {
    /// Position in the chain as the server sent it (0 = leaf).
    pub index: usize,
    pub subject: String,
    pub issuer: String,
    /// Subject alternative names, `DNS:name` / `IP:addr` / `email:` / `URI:`.
    pub sans: Vec<String>,
    /// RFC 3339, UTC.
    pub not_before: String,
    /// RFC 3339, UTC.
    pub not_after: String,
    /// Whole days until `not_after` (negative once expired).
    pub days_left: i64,
    /// Length of the validity period in days.
    pub validity_days: i64,
    /// Serial number, colon-separated hex.
    pub serial: String,
    pub key: KeyInfo,
    /// Signature algorithm name (`sha256WithRSAEncryption`, `ecdsa-with-SHA256`…).
    pub signature_algorithm: String,
    /// Basic Constraints CA=true.
    pub is_ca: bool,
    /// Subject equals issuer (byte for byte, as BearSSL compares DNs).
    pub self_signed: bool,
    /// SHA-1 of the DER, colon-separated upper case.
    pub sha1: String,
    /// SHA-256 of the DER, colon-separated upper case.
    pub sha256: String,
    /// base64 SHA-256 of the SubjectPublicKeyInfo (`pin-sha256`).
    pub pin_sha256: Option<String>,
    /// Size of the DER in bytes.
    pub der_len: usize,
    /// Why the descriptive fields are empty, when the DER does not parse.
    pub parse_error: Option<String>,
    /// Raw DNs, for chain-order checks; not part of the report.
    #[serde(skip)]
    pub subject_raw: Vec<u8>,
    #[serde(skip)]
    pub issuer_raw: Vec<u8>,
    /// Seconds since the epoch, for date arithmetic; not part of the report.
    #[serde(skip)]
    pub not_after_unix: i64,
    #[serde(skip)]
    pub not_before_unix: i64,
    /// Only dNSName and iPAddress SANs, split, for the name checks.
    #[serde(skip)]
    pub dns_sans: Vec<String>,
    #[serde(skip)]
    pub has_ip_sans: bool,
    #[serde(skip)]
    pub common_name: Option<String>,
}

/// Current time in seconds since the epoch (0 if the clock is before 1970).
pub fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A Unix time as RFC 3339 (`2027-03-03T07:35:25Z`), the spelling every
/// report uses for certificate dates.
pub fn rfc3339(ts: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("@{ts}"))
}

/// Whole days from `now` to `until` (rounded towards minus infinity, so a
/// certificate that expired an hour ago has -1 days left).
fn days_between(now: i64, until: i64) -> i64 {
    (until - now).div_euclid(86_400)
}

/// Bit length of a big-endian unsigned integer (leading zero bytes and bits
/// ignored). x509-parser's own `key_size` assumes a leading zero byte.
fn bit_len(bytes: &[u8]) -> u32 {
    let trimmed = strip_leading_zeros(bytes);
    match trimmed.first() {
        None => 0,
        Some(first) => (trimmed.len() as u32 - 1) * 8 + (8 - first.leading_zeros()),
    }
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
    &bytes[start..]
}

/// Short names of the OIDs a broker certificate uses; anything else is
/// shown dotted.
fn oid_name(oid: &str) -> String {
    let name = match oid {
        "1.2.840.113549.1.1.1" => "rsaEncryption",
        "1.2.840.113549.1.1.4" => "md5WithRSAEncryption",
        "1.2.840.113549.1.1.5" => "sha1WithRSAEncryption",
        "1.2.840.113549.1.1.10" => "rsassaPss",
        "1.2.840.113549.1.1.11" => "sha256WithRSAEncryption",
        "1.2.840.113549.1.1.12" => "sha384WithRSAEncryption",
        "1.2.840.113549.1.1.13" => "sha512WithRSAEncryption",
        "1.2.840.113549.1.1.14" => "sha224WithRSAEncryption",
        "1.2.840.10045.2.1" => "id-ecPublicKey",
        "1.2.840.10045.4.1" => "ecdsa-with-SHA1",
        "1.2.840.10045.4.3.1" => "ecdsa-with-SHA224",
        "1.2.840.10045.4.3.2" => "ecdsa-with-SHA256",
        "1.2.840.10045.4.3.3" => "ecdsa-with-SHA384",
        "1.2.840.10045.4.3.4" => "ecdsa-with-SHA512",
        "1.3.101.112" => "ED25519",
        "1.3.101.113" => "ED448",
        "1.2.840.10040.4.1" => "dsaEncryption",
        "1.2.840.10040.4.3" => "dsa-with-SHA1",
        "2.16.840.1.101.3.4.3.2" => "dsa-with-SHA256",
        "1.2.840.10045.3.1.7" => "P-256",
        "1.3.132.0.34" => "P-384",
        "1.3.132.0.35" => "P-521",
        "1.3.132.0.10" => "secp256k1",
        "1.3.36.3.3.2.8.1.1.7" => "brainpoolP256r1",
        "1.3.36.3.3.2.8.1.1.11" => "brainpoolP384r1",
        "1.3.36.3.3.2.8.1.1.13" => "brainpoolP512r1",
        _ => return oid.to_string(),
    };
    name.to_string()
}

/// Summarise one certificate. Never fails: a DER that does not parse gets
/// its hashes and a `parse_error`.
pub fn summarize(index: usize, der: &[u8], now: i64) -> CertSummary {
    let mut s = CertSummary {
        index,
        subject: String::new(),
        issuer: String::new(),
        sans: Vec::new(),
        not_before: String::new(),
        not_after: String::new(),
        days_left: 0,
        validity_days: 0,
        serial: String::new(),
        key: KeyInfo {
            algorithm: String::new(),
            bits: None,
            curve: None,
        },
        signature_algorithm: String::new(),
        is_ca: false,
        self_signed: false,
        sha1: colon_hex_upper(&sha1(der)),
        sha256: colon_hex_upper(&sha256(der)),
        pin_sha256: None,
        der_len: der.len(),
        parse_error: None,
        subject_raw: Vec::new(),
        issuer_raw: Vec::new(),
        not_after_unix: 0,
        not_before_unix: 0,
        dns_sans: Vec::new(),
        has_ip_sans: false,
        common_name: None,
    };
    let cert = match x509_parser::parse_x509_certificate(der) {
        Ok((_, cert)) => cert,
        Err(e) => {
            s.parse_error = Some(format!("certificate does not parse: {e}"));
            return s;
        }
    };
    use base64::Engine;
    let tbs = &cert.tbs_certificate;
    s.pin_sha256 =
        Some(base64::engine::general_purpose::STANDARD.encode(sha256(tbs.subject_pki.raw)));
    s.subject = tbs.subject.to_string();
    s.issuer = tbs.issuer.to_string();
    s.subject_raw = tbs.subject.as_raw().to_vec();
    s.issuer_raw = tbs.issuer.as_raw().to_vec();
    s.self_signed = s.subject_raw == s.issuer_raw;
    s.common_name = tbs
        .subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_string);
    s.not_before_unix = tbs.validity.not_before.timestamp();
    s.not_after_unix = tbs.validity.not_after.timestamp();
    s.not_before = rfc3339(s.not_before_unix);
    s.not_after = rfc3339(s.not_after_unix);
    s.days_left = days_between(now, s.not_after_unix);
    s.validity_days = (s.not_after_unix - s.not_before_unix).div_euclid(86_400);
    s.serial = colon_hex_upper(tbs.raw_serial());
    s.signature_algorithm = oid_name(&cert.signature_algorithm.algorithm.to_id_string());
    s.is_ca = cert.is_ca();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        use x509_parser::extensions::GeneralName;
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => {
                    s.sans.push(format!("DNS:{d}"));
                    s.dns_sans.push(d.to_string());
                }
                GeneralName::IPAddress(raw) => {
                    s.has_ip_sans = true;
                    s.sans.push(format!("IP:{}", ip_to_string(raw)));
                }
                GeneralName::RFC822Name(e) => s.sans.push(format!("email:{e}")),
                GeneralName::URI(u) => s.sans.push(format!("URI:{u}")),
                GeneralName::DirectoryName(n) => s.sans.push(format!("DirName:{n}")),
                GeneralName::RegisteredID(oid) => s.sans.push(format!("RID:{oid}")),
                GeneralName::OtherName(oid, _) => s.sans.push(format!("othername:{oid}")),
                GeneralName::X400Address(_) => s.sans.push("X400Name".into()),
                GeneralName::EDIPartyName(_) => s.sans.push("EdiPartyName".into()),
            }
        }
    }
    s.key = key_info(&tbs.subject_pki);
    s
}

fn ip_to_string(raw: &[u8]) -> String {
    match raw.len() {
        4 => std::net::Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]).to_string(),
        16 => {
            let mut a = [0u8; 16];
            a.copy_from_slice(raw);
            std::net::Ipv6Addr::from(a).to_string()
        }
        _ => hex::encode(raw),
    }
}

fn key_info(spki: &x509_parser::x509::SubjectPublicKeyInfo) -> KeyInfo {
    use x509_parser::public_key::PublicKey;
    let alg_oid = spki.algorithm.algorithm.to_id_string();
    let mut info = KeyInfo {
        algorithm: oid_name(&alg_oid),
        bits: None,
        curve: None,
    };
    match alg_oid.as_str() {
        "1.2.840.113549.1.1.1" | "1.2.840.113549.1.1.10" => {
            info.algorithm = if alg_oid.ends_with(".10") {
                "RSA-PSS".into()
            } else {
                "RSA".into()
            };
            if let Ok(PublicKey::RSA(rsa)) = spki.parsed() {
                info.bits = Some(bit_len(rsa.modulus));
            }
        }
        "1.2.840.10045.2.1" => {
            info.algorithm = "EC".into();
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|oid| oid_name(&oid.to_id_string()));
            info.bits = match curve.as_deref() {
                Some("P-256") => Some(256),
                Some("P-384") => Some(384),
                Some("P-521") => Some(521),
                _ => None,
            };
            info.curve = curve;
        }
        "1.3.101.112" => {
            info.algorithm = "Ed25519".into();
            info.bits = Some(256);
        }
        "1.3.101.113" => {
            info.algorithm = "Ed448".into();
            info.bits = Some(456);
        }
        "1.2.840.10040.4.1" => info.algorithm = "DSA".into(),
        _ => {}
    }
    info
}

impl KeyInfo {
    /// `RSA 2048 bits`, `EC P-256`, `Ed25519`.
    pub fn describe(&self) -> String {
        match (&self.curve, self.bits) {
            (Some(c), _) => format!("{} {c}", self.algorithm),
            (None, Some(b)) if self.algorithm.starts_with("RSA") || self.algorithm == "DSA" => {
                format!("{} {b} bits", self.algorithm)
            }
            _ => self.algorithm.clone(),
        }
    }
}

// ---------------------------------------------------------------------------
// Warnings

/// One finding about a chain. `id` is stable (scripts may match on it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub id: String,
    /// `warning` (will break something) or `info` (worth knowing).
    pub severity: String,
    /// Index of the certificate concerned, when there is one.
    pub certificate: Option<usize>,
    pub message: String,
}

impl Warning {
    fn new(id: &str, severity: &str, certificate: Option<usize>, message: String) -> Self {
        Warning {
            id: id.to_string(),
            severity: severity.to_string(),
            certificate,
            message,
        }
    }
}

/// What the chain analysis needs besides the chain.
#[derive(Debug, Clone, Default)]
pub struct ChainContext {
    /// The leaf expires within this many days → `expires_soon`.
    pub warn_days: i64,
    /// The DNS name the device would connect to (checked against the SANs
    /// the way BearSSL does in `ca` mode). None when connecting by IP.
    pub server_name: Option<String>,
}

/// Validity periods at or under this many days are "short-lived": pinning
/// the leaf's fingerprint breaks every few weeks (Let's Encrypt: 90 days).
pub const SHORT_LIVED_DAYS: i64 = 100;

/// The renewal warning of `fingerprint` mode, shared by `fingerprint` and
/// `probe --trust fingerprint`.
pub fn fingerprint_renewal_message(leaf: &CertSummary) -> String {
    if leaf.validity_days <= SHORT_LIVED_DAYS {
        format!(
            "the leaf is valid for only {} days (until {}, {} days left): a `fingerprint` pin \
             breaks at every renewal; prefer `ca` (survives renewals) or `pubkey` (survives \
             renewals that keep the key, e.g. certbot --reuse-key)",
            leaf.validity_days, leaf.not_after, leaf.days_left
        )
    } else {
        format!(
            "a `fingerprint` pin breaks when this certificate is renewed (it is valid until {}, \
             {} days left): configure the next certificate's fingerprint before then, or prefer \
             `ca` or `pubkey`",
            leaf.not_after, leaf.days_left
        )
    }
}

/// Warnings for a chain (leaf first, as sent), from the device's point of
/// view (docs/DEVICE.md, "BearSSL X.509 validation").
pub fn chain_warnings(chain: &[CertSummary], ctx: &ChainContext, now: i64) -> Vec<Warning> {
    let mut w = Vec::new();
    let Some(leaf) = chain.first() else {
        return w;
    };
    for c in chain {
        if let Some(e) = &c.parse_error {
            w.push(Warning::new(
                "unparsable_certificate",
                "warning",
                Some(c.index),
                format!(
                    "certificate #{} does not parse ({e}); its hashes are still shown, \
                     but BearSSL will most likely reject it too",
                    c.index
                ),
            ));
        }
    }
    if leaf.parse_error.is_none() {
        if leaf.not_after_unix < now {
            w.push(Warning::new(
                "expired",
                "warning",
                Some(0),
                format!(
                    "the leaf certificate expired {} ({} days ago): `ca` mode rejects it \
                     (BearSSL error 54); `fingerprint` and `pubkey` modes do not look at dates",
                    leaf.not_after, -leaf.days_left
                ),
            ));
        } else if leaf.not_after_unix < now + ctx.warn_days.saturating_mul(86_400) {
            w.push(Warning::new(
                "expires_soon",
                "warning",
                Some(0),
                format!(
                    "the leaf certificate expires in {} days ({}), within --warn-days {}",
                    leaf.days_left, leaf.not_after, ctx.warn_days
                ),
            ));
        }
        if leaf.not_before_unix > now {
            w.push(Warning::new(
                "not_yet_valid",
                "warning",
                Some(0),
                format!(
                    "the leaf certificate is not valid before {}: `ca` mode rejects it (error 54)",
                    leaf.not_before
                ),
            ));
        }
        if leaf.validity_days <= SHORT_LIVED_DAYS {
            w.push(Warning::new(
                "short_lived",
                "warning",
                Some(0),
                fingerprint_renewal_message(leaf),
            ));
        }
        if leaf.self_signed {
            w.push(Warning::new(
                "self_signed",
                "info",
                Some(0),
                "the leaf is self-signed: devices can trust it with `fingerprint`, `pubkey`, \
                 or `ca` with this very certificate as the trust anchor"
                    .to_string(),
            ));
        }
        if leaf.has_ip_sans && leaf.dns_sans.is_empty() {
            w.push(Warning::new(
                "ip_sans_only",
                "warning",
                Some(0),
                "the leaf has only IP address SANs: BearSSL never matches iPAddress SANs \
                 (dNSName only), so `ca` mode fails with error 56 whatever the device \
                 connects by, its address included (the espmqtt firmware and \
                 connect(\"1.2.3.4\", port) check it as a name); only connect(IPAddress) \
                 skips the name check"
                    .to_string(),
            ));
        }
        if let Some(name) = &ctx.server_name {
            if !leaf_matches_name(leaf, name) {
                w.push(Warning::new(
                    "name_mismatch",
                    "warning",
                    Some(0),
                    format!(
                        "the leaf is not valid for the name {name} (SANs: {}): `ca` mode fails \
                         with BearSSL error 56 when the device connects by that name{}",
                        if leaf.sans.is_empty() {
                            "none".to_string()
                        } else {
                            leaf.sans.join(", ")
                        },
                        match leaf.dns_sans.iter().find(|d| !d.starts_with('*')) {
                            Some(d) if name.parse::<std::net::IpAddr>().is_ok() => format!(
                                " (BearSSL compares dNSName SANs only, never iPAddress ones): \
                                 connect by {d}, e.g. [broker] servername = \"{d}\""
                            ),
                            _ => String::new(),
                        }
                    ),
                ));
            }
        }
    }
    for c in chain.iter().filter(|c| c.parse_error.is_none()) {
        device_algorithm_warnings(c, &mut w);
    }
    chain_order_warnings(chain, &mut w);
    w
}

/// BearSSL's host-name rule (docs/DEVICE.md): dNSName SANs only; the
/// CN only when there is no SAN extension at all; case-insensitive; one
/// leading `*.` wildcard.
pub fn leaf_matches_name(leaf: &CertSummary, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let candidates: Vec<String> = if leaf.sans.is_empty() {
        leaf.common_name.iter().cloned().collect()
    } else {
        leaf.dns_sans.clone()
    };
    candidates.iter().any(|pattern| {
        let pattern = pattern.trim_end_matches('.').to_ascii_lowercase();
        if let Some(rest) = pattern.strip_prefix("*.") {
            match name.split_once('.') {
                Some((first, tail)) => !first.is_empty() && tail == rest,
                None => false,
            }
        } else {
            pattern == name
        }
    })
}

fn device_algorithm_warnings(c: &CertSummary, w: &mut Vec<Warning>) {
    let which = if c.index == 0 {
        "the leaf".to_string()
    } else {
        format!("certificate #{}", c.index)
    };
    match c.key.algorithm.as_str() {
        "RSA" => {
            if let Some(bits) = c.key.bits {
                if bits > 4096 {
                    w.push(Warning::new(
                        "rsa_key_too_large",
                        "warning",
                        Some(c.index),
                        format!(
                            "{which} has an RSA {bits}-bit key: BearSSL on the ESP8266 handles \
                             at most 4096 bits"
                        ),
                    ));
                } else if bits < 1017 && c.index == 0 {
                    w.push(Warning::new(
                        "rsa_key_too_small",
                        "warning",
                        Some(c.index),
                        format!(
                            "{which} has an RSA {bits}-bit key: BearSSL's `ca` mode rejects \
                             keys under 1017 bits (error 60)"
                        ),
                    ));
                }
            }
        }
        "EC" => match c.key.curve.as_deref() {
            Some("P-256") | Some("P-384") | Some("P-521") => {}
            other => w.push(Warning::new(
                "unsupported_curve",
                "warning",
                Some(c.index),
                format!(
                    "{which} uses the curve {}: BearSSL only knows P-256, P-384 and P-521",
                    other.unwrap_or("(unnamed)")
                ),
            )),
        },
        alg => w.push(Warning::new(
            "unsupported_key",
            "warning",
            Some(c.index),
            format!(
                "{which} has a {alg} key: BearSSL on the ESP8266 supports RSA and EC \
                 (P-256/384/521) keys only"
            ),
        )),
    }
    let sig = c.signature_algorithm.as_str();
    let supported = matches!(
        sig,
        "sha1WithRSAEncryption"
            | "sha224WithRSAEncryption"
            | "sha256WithRSAEncryption"
            | "sha384WithRSAEncryption"
            | "sha512WithRSAEncryption"
            | "ecdsa-with-SHA1"
            | "ecdsa-with-SHA224"
            | "ecdsa-with-SHA256"
            | "ecdsa-with-SHA384"
            | "ecdsa-with-SHA512"
    );
    // A self-signed top certificate is the trust anchor itself: its own
    // signature is never checked (anchors are DN + key, docs/DEVICE.md).
    let checked = !(c.self_signed && c.is_ca);
    if !supported && checked {
        w.push(Warning::new(
            "unsupported_signature",
            "warning",
            Some(c.index),
            format!(
                "{which} is signed with {sig}: BearSSL's `ca` mode accepts only RSA PKCS#1 v1.5 \
                 and ECDSA signatures (no RSA-PSS, no Ed25519; error 49)"
            ),
        ));
    }
}

fn chain_order_warnings(chain: &[CertSummary], w: &mut Vec<Warning>) {
    if chain.iter().any(|c| c.parse_error.is_some()) {
        return;
    }
    for pair in chain.windows(2) {
        let (child, parent) = (&pair[0], &pair[1]);
        if child.issuer_raw != parent.subject_raw {
            let elsewhere = chain
                .iter()
                .position(|c| c.subject_raw == child.issuer_raw && c.index != child.index);
            let msg = match elsewhere {
                Some(i) => format!(
                    "the chain is out of order: certificate #{} is issued by #{i}, but #{} \
                     follows it; BearSSL needs leaf first, each certificate followed by its \
                     issuer",
                    child.index, parent.index
                ),
                None => format!(
                    "the chain is broken: certificate #{} ({}) is followed by #{} ({}), which \
                     did not issue it; BearSSL needs leaf first, each certificate followed by \
                     its issuer",
                    child.index, child.subject, parent.index, parent.subject
                ),
            };
            w.push(Warning::new(
                "chain_out_of_order",
                "warning",
                Some(child.index),
                msg,
            ));
            return;
        }
    }
    let Some(top) = chain.last() else { return };
    if top.self_signed {
        return;
    }
    let issuer_is_public_root = webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .any(|ta| der_name_eq(ta.subject.as_ref(), &top.issuer_raw));
    if issuer_is_public_root {
        return;
    }
    if !top.is_ca && chain.len() == 1 {
        w.push(Warning::new(
            "chain_incomplete",
            "info",
            Some(top.index),
            format!(
                "the chain holds only the leaf; its issuer ({}) is not there. That works in \
                 `ca` mode only when that issuer is the device's trust anchor: BearSSL never \
                 fetches missing intermediates",
                top.issuer
            ),
        ));
    } else {
        w.push(Warning::new(
            "chain_incomplete",
            "info",
            Some(top.index),
            format!(
                "the chain ends at {} and its issuer ({}) is not sent: normal when that \
                 issuer is your root CA; if it is an intermediate the server must send it, \
                 because BearSSL never fetches missing certificates",
                top.subject, top.issuer
            ),
        ));
    }
}

/// webpki-roots stores the subject without its outer SEQUENCE header;
/// x509-parser's raw name includes it.
fn der_name_eq(anchor_subject_contents: &[u8], full_name: &[u8]) -> bool {
    strip_der_header(full_name) == Some(anchor_subject_contents)
        || anchor_subject_contents == full_name
}

fn strip_der_header(der: &[u8]) -> Option<&[u8]> {
    let len_byte = *der.get(1)?;
    let (len, hdr) = if len_byte < 0x80 {
        (len_byte as usize, 2)
    } else {
        let n = (len_byte & 0x7f) as usize;
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for i in 0..n {
            len = (len << 8) | *der.get(2 + i)? as usize;
        }
        (len, 2 + n)
    };
    der.get(hdr..hdr.checked_add(len)?)
}

// ---------------------------------------------------------------------------
// --expect: any usual spelling of a SHA-1, SHA-256 or pin-sha256

/// What kind of value `--expect` was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpectKind {
    Sha1,
    Sha256,
    PinSha256,
}

impl ExpectKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ExpectKind::Sha1 => "sha1",
            ExpectKind::Sha256 => "sha256",
            ExpectKind::PinSha256 => "pin-sha256",
        }
    }
}

/// A parsed `--expect` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectedValue {
    pub kind: ExpectKind,
    pub bytes: Vec<u8>,
}

/// Parse a fingerprint or pin in any usual spelling: `AB:CD:…`, `ab cd …`,
/// `abcd…`, `AB-CD-…`, with an optional `sha1:`/`sha256:`/`SHA1 Fingerprint=`
/// label (as openssl prints it), or a base64 SPKI pin with an optional
/// `pin-sha256:`/`sha256//` prefix and quotes (curl / HPKP spellings).
pub fn parse_expected(input: &str) -> std::result::Result<ExpectedValue, String> {
    let mut s = input.trim();
    // Labels people copy along with the value.
    let lower = s.to_ascii_lowercase();
    for prefix in [
        "sha1 fingerprint=",
        "sha256 fingerprint=",
        "sha1:",
        "sha-1:",
        "sha256:",
        "sha-256:",
    ] {
        if lower.starts_with(prefix) {
            s = s[prefix.len()..].trim();
            break;
        }
    }
    let mut pin_label = false;
    let lower = s.to_ascii_lowercase();
    for prefix in ["pin-sha256=", "pin-sha256:", "sha256//"] {
        if lower.starts_with(prefix) {
            s = s[prefix.len()..].trim();
            pin_label = true;
            break;
        }
    }
    let s = s.trim_matches(|c| c == '"' || c == '\'' || c == ';').trim();
    if s.is_empty() {
        return Err("the value is empty".into());
    }
    let from_c_array = (!pin_label).then(|| c_array_hex(s)).flatten();
    let s = from_c_array.as_deref().unwrap_or(s);
    if !pin_label
        && s.chars()
            .all(|c| c.is_ascii_hexdigit() || ":- \t".contains(c))
    {
        let bytes = crate::digest::parse_hex(s).map_err(|e| e.to_string())?;
        return match bytes.len() {
            20 => Ok(ExpectedValue {
                kind: ExpectKind::Sha1,
                bytes,
            }),
            32 => Ok(ExpectedValue {
                kind: ExpectKind::Sha256,
                bytes,
            }),
            n => Err(format!(
                "{n} bytes of hex: a SHA-1 has 20 bytes (40 hex digits), a SHA-256 32 (64)"
            )),
        };
    }
    use base64::Engine;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(s)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
        .map_err(|_| {
            "neither hex (SHA-1/SHA-256, any separators) nor base64 (pin-sha256)".to_string()
        })?;
    if decoded.len() != 32 {
        return Err(format!(
            "base64 of {} bytes: a pin-sha256 is the base64 of 32 bytes",
            decoded.len()
        ));
    }
    Ok(ExpectedValue {
        kind: ExpectKind::PinSha256,
        bytes: decoded,
    })
}

/// The hex digits of a C byte array copied from a sketch — `{0xD4, 0xB1,
/// …}`, the whole `const uint8_t fp[20] = {…};` line, or `0xD4B1…` — when
/// every item is a `0x` number; `None` for anything else.
fn c_array_hex(s: &str) -> Option<String> {
    let inner = match (s.find('{'), s.rfind('}')) {
        (Some(a), Some(b)) if a < b => &s[a + 1..b],
        _ => s,
    };
    let items: Vec<&str> = inner
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = String::new();
    for item in &items {
        let h = item
            .strip_prefix("0x")
            .or_else(|| item.strip_prefix("0X"))?;
        if h.is_empty() || !h.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        match h.len() {
            1 => out.push('0'),
            2 => {}
            // One long number (`0xD4B1…`), not a byte of an array.
            _ if items.len() == 1 => {}
            _ => return None,
        }
        out.push_str(h);
    }
    (!out.is_empty()).then_some(out)
}

impl ExpectedValue {
    /// The value as the report spells it (colon hex upper case, or base64).
    pub fn canonical(&self) -> String {
        match self.kind {
            ExpectKind::PinSha256 => {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(&self.bytes)
            }
            _ => colon_hex_upper(&self.bytes),
        }
    }

    /// Whether a certificate has this value.
    pub fn matches(&self, cert: &CertSummary) -> bool {
        self.canonical()
            == match self.kind {
                ExpectKind::Sha1 => cert.sha1.clone(),
                ExpectKind::Sha256 => cert.sha256.clone(),
                ExpectKind::PinSha256 => cert.pin_sha256.clone().unwrap_or_default(),
            }
    }

    /// The leaf's value of the same kind.
    pub fn actual(&self, cert: &CertSummary) -> String {
        match self.kind {
            ExpectKind::Sha1 => cert.sha1.clone(),
            ExpectKind::Sha256 => cert.sha256.clone(),
            ExpectKind::PinSha256 => cert.pin_sha256.clone().unwrap_or_default(),
        }
    }
}

// ---------------------------------------------------------------------------
// Tasmota's public-key fingerprint

/// Tasmota's `MqttFingerprint` value (v2) for a certificate: SHA-1 over the
/// u32-big-endian-length-prefixed `ssh-rsa`, RSA exponent, RSA modulus, the
/// integers without leading zero bytes as BearSSL's decoder yields them
/// (Tasmota `WiFiClientSecureLightBearSSL.cpp`
/// `pubkeyfingerprint_pubkey_fingerprint`). Only RSA keys are fingerprinted
/// on the ESP8266; other keys give `None` (Tasmota stores all zeros).
pub fn tasmota_fingerprint(cert_der: &[u8]) -> Option<[u8; 20]> {
    use x509_parser::public_key::PublicKey;
    let (_, cert) = x509_parser::parse_x509_certificate(cert_der).ok()?;
    let spki = &cert.tbs_certificate.subject_pki;
    if spki.algorithm.algorithm.to_id_string() != "1.2.840.113549.1.1.1" {
        return None;
    }
    let Ok(PublicKey::RSA(rsa)) = spki.parsed() else {
        return None;
    };
    let mut h = Sha1::new();
    for part in [
        b"ssh-rsa".as_slice(),
        strip_leading_zeros(rsa.exponent),
        strip_leading_zeros(rsa.modulus),
    ] {
        h.update((part.len() as u32).to_be_bytes());
        h.update(part);
    }
    Some(h.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colon_hex_is_uppercase_with_colons() {
        assert_eq!(colon_hex(&[0xAB, 0x01]), "AB:01");
    }

    #[test]
    fn garbage_is_not_a_certificate() {
        assert!(load_certificates(b"hello").is_err());
        let key = load_certificates(
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQA=\n-----END PRIVATE KEY-----\n",
        )
        .unwrap_err()
        .to_string();
        assert!(key.contains("a private key"), "{key}");
        assert!(!key.contains("MC4CAQA"), "{key}");
        let empty = load_certificates(b" \n").unwrap_err().to_string();
        assert!(empty.contains("empty"), "{empty}");
        let der = load_certificates(&[0x30, 0x03, 0x04, 0x01, 0x00])
            .unwrap_err()
            .to_string();
        assert!(!der.contains("Der(") && !der.contains("Tag("), "{der}");
        assert!(
            load_certificates(b"-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n")
                .is_err()
        );
    }

    fn sample_cert(alg: &'static rcgen::SignatureAlgorithm, sans: &[&str]) -> Vec<u8> {
        let key = rcgen::KeyPair::generate_for(alg).unwrap();
        let params =
            rcgen::CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn expected_values_in_every_usual_spelling() {
        let sha1 = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01";
        for s in [
            sha1.to_string(),
            sha1.to_lowercase(),
            sha1.replace(':', ""),
            sha1.replace(':', " "),
            sha1.replace(':', "-"),
            format!("SHA1 Fingerprint={sha1}"),
            format!("  sha1:{}  ", sha1.replace(':', "")),
            format!("{{0x{}}}", sha1.replace(':', ", 0x")),
            format!(
                "const uint8_t fingerprint[20] = {{0x{}}};",
                sha1.replace(':', ",0x").to_lowercase()
            ),
            format!("0x{}", sha1.replace(':', "")),
        ] {
            let v = parse_expected(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(v.kind, ExpectKind::Sha1);
            assert_eq!(v.canonical(), sha1);
        }
        let sha256 = "00".repeat(31) + "ff";
        let v = parse_expected(&sha256).unwrap();
        assert_eq!(v.kind, ExpectKind::Sha256);
        let pin = "VdvEBU5rOGwL6+DOQw0CgMjZbA+/9R1PK1thpMM+mV4=";
        for s in [
            pin.to_string(),
            pin.trim_end_matches('=').to_string(),
            format!("pin-sha256=\"{pin}\""),
            format!("sha256//{pin}"),
        ] {
            let v = parse_expected(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(v.kind, ExpectKind::PinSha256);
            assert_eq!(v.canonical(), pin);
        }
        for bad in [
            "",
            "abc",
            "ab:cd",
            &"ab".repeat(21),
            "not base64 at all!",
            "QUJD",
            "{0xAB, 0xCDEF}",
            "{0x}",
            "{}",
        ] {
            assert!(parse_expected(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn bit_lengths_ignore_leading_zeros() {
        assert_eq!(bit_len(&[0x00, 0x80, 0x00]), 16);
        assert_eq!(bit_len(&[0x01]), 1);
        assert_eq!(bit_len(&[0x00, 0x00]), 0);
        assert_eq!(bit_len(&[]), 0);
    }

    #[test]
    fn host_names_match_like_bearssl() {
        let der = sample_cert(&rcgen::PKCS_ECDSA_P256_SHA256, &["*.example.com", "a.test"]);
        let leaf = summarize(0, &der, unix_now());
        assert!(leaf_matches_name(&leaf, "x.example.com"));
        assert!(leaf_matches_name(&leaf, "X.Example.COM"));
        assert!(!leaf_matches_name(&leaf, "example.com"));
        assert!(!leaf_matches_name(&leaf, "a.b.example.com"));
        assert!(leaf_matches_name(&leaf, "a.test"));
        assert!(!leaf_matches_name(&leaf, "b.test"));
    }

    #[test]
    fn summaries_of_generated_certificates() {
        let now = unix_now();
        let ec = summarize(0, &sample_cert(&rcgen::PKCS_ECDSA_P384_SHA384, &["h"]), now);
        assert_eq!(ec.key.describe(), "EC P-384");
        assert_eq!(ec.signature_algorithm, "ecdsa-with-SHA384");
        assert!(ec.self_signed && ec.parse_error.is_none());
        let ed = sample_cert(&rcgen::PKCS_ED25519, &["h"]);
        let s = summarize(0, &ed, now);
        assert_eq!(s.key.algorithm, "Ed25519");
        let w = chain_warnings(&[s], &ChainContext::default(), now);
        assert!(w.iter().any(|w| w.id == "unsupported_key"));
        assert_eq!(tasmota_fingerprint(&ed), None);
    }

    /// Truncated and bit-flipped certificates: every function that sees
    /// server bytes returns, none panics.
    #[test]
    fn mangled_certificates_never_panic() {
        let der = sample_cert(&rcgen::PKCS_ECDSA_P256_SHA256, &["m.test", "10.0.0.1"]);
        let now = unix_now();
        let ctx = ChainContext {
            warn_days: 30,
            server_name: Some("m.test".into()),
        };
        let mut inputs: Vec<Vec<u8>> = (0..der.len()).map(|n| der[..n].to_vec()).collect();
        for i in 0..der.len() {
            for bit in [0x01u8, 0x80, 0xff] {
                let mut d = der.clone();
                d[i] ^= bit;
                inputs.push(d);
            }
        }
        for d in &inputs {
            let s = summarize(0, d, now);
            let chain = [s.clone(), summarize(1, d, now)];
            let _ = chain_warnings(&chain, &ctx, now);
            let _ = tasmota_fingerprint(d);
            let _ = spki_pin_sha256(d);
            let _ = load_certificates(d);
            let _ = strip_der_header(d);
        }
    }
}
