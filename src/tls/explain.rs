//! Why BearSSL rejected a certificate chain, in the user's terms.
//!
//! The engine has already decided (its error number is the device's); the
//! functions here look at the chain it was shown and say which certificate
//! and which property caused that error, and what to change. They never
//! decide anything themselves: for an error they cannot pin on a property
//! they still describe the error itself.

use serde::{Deserialize, Serialize};
use x509_parser::prelude::*;

use super::cert;
use super::engine::{Anchor, DeviceTls};
use super::names::algorithm_name;
use super::names::{bearssl_error_name, OID_EC, OID_RSA};
use super::TrustMode;

/// An explanation: stable id, message and fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explained {
    pub id: &'static str,
    pub message: String,
    pub fix: String,
}

fn ex(id: &'static str, message: String, fix: impl Into<String>) -> Explained {
    Explained {
        id,
        message,
        fix: fix.into(),
    }
}

/// Key facts of a certificate's public key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// `rsa`, `ec`, or the algorithm name.
    pub kind: String,
    pub bits: usize,
    /// EC curve name.
    pub curve: Option<String>,
}

impl KeyInfo {
    pub fn describe(&self) -> String {
        match (self.kind.as_str(), &self.curve) {
            ("rsa", _) => format!("RSA-{}", self.bits),
            ("ec", Some(c)) => format!("EC {c}"),
            (k, _) => k.to_string(),
        }
    }
    /// A key BearSSL can use in a certificate.
    pub fn device_supported(&self) -> bool {
        match self.kind.as_str() {
            "rsa" => (1017..=4096).contains(&self.bits),
            "ec" => self.bits != 0,
            _ => false,
        }
    }
}

/// Public-key facts of a DER certificate (None if it does not parse).
pub fn key_info(der: &[u8]) -> Option<KeyInfo> {
    let (_, c) = parse_x509_certificate(der).ok()?;
    Some(key_info_of(&c))
}

/// Public-key facts of a SubjectPublicKeyInfo (DER).
pub fn spki_key_info(spki: &[u8]) -> Option<KeyInfo> {
    let (_, k) = SubjectPublicKeyInfo::from_der(spki).ok()?;
    Some(spki_info(&k))
}

fn key_info_of(c: &X509Certificate<'_>) -> KeyInfo {
    spki_info(&c.tbs_certificate.subject_pki)
}

fn spki_info(spki: &SubjectPublicKeyInfo<'_>) -> KeyInfo {
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
                // Curves BearSSL has no code for (bits 0: unsupported).
                Some("1.3.132.0.10") => ("secp256k1".to_string(), 0),
                Some("1.3.36.3.3.2.8.1.1.7") => ("brainpoolP256r1".to_string(), 0),
                Some("1.3.36.3.3.2.8.1.1.11") => ("brainpoolP384r1".to_string(), 0),
                Some("1.3.36.3.3.2.8.1.1.13") => ("brainpoolP512r1".to_string(), 0),
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

/// What the leaf's keyUsage allows as BearSSL reduces it: (key exchange =
/// keyEncipherment or keyAgreement, signature = digitalSignature); `None`
/// without a keyUsage extension (everything allowed).
pub fn leaf_usages(der: &[u8]) -> Option<(bool, bool)> {
    let (_, c) = parse_x509_certificate(der).ok()?;
    let ku = c.key_usage().ok()??;
    Some((
        ku.value.key_encipherment() || ku.value.key_agreement(),
        ku.value.digital_signature(),
    ))
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

fn which(i: usize, c: &X509Certificate<'_>) -> String {
    if i == 0 {
        "the server certificate".to_string()
    } else {
        format!("chain certificate #{i} ({})", c.tbs_certificate.subject)
    }
}

/// The anchor labels of a `ca` configuration, for messages.
fn anchor_labels(cfg: &DeviceTls) -> String {
    let n = cfg.trust.anchors.len();
    // A root store (the system roots) is not worth listing three of.
    if n > 3
        && cfg
            .trust
            .anchors
            .iter()
            .all(|a| matches!(a, Anchor::Key { .. }))
    {
        return format!("the {n} public roots of webpki-roots, as no --ca-file was given");
    }
    let labels: Vec<String> = cfg
        .trust
        .anchors
        .iter()
        .take(3)
        .map(Anchor::label)
        .collect();
    match n {
        0 => "none".into(),
        n if n > 3 => format!("{} and {} more", labels.join("; "), n - 3),
        _ => labels.join("; "),
    }
}

/// Explain an X.509 error (BearSSL 32-63, or 1 from the core's fingerprint
/// engine on an empty chain) for the chain as served.
pub fn x509(code: i32, chain: &[Vec<u8>], cfg: &DeviceTls) -> Explained {
    let parsed: Vec<Option<X509Certificate<'_>>> = chain
        .iter()
        .map(|d| parse_x509_certificate(d).ok().map(|(_, c)| c))
        .collect();
    let certs: Vec<(usize, &X509Certificate<'_>)> = parsed
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.as_ref().map(|c| (i, c)))
        .collect();
    let specific = match code {
        1 | 35 => Some(ex(
            "empty_chain",
            "the server sent no certificate".into(),
            "configure the broker with a certificate (mosquitto: certfile/keyfile)",
        )),
        33..=47 => Some(ex(
            "certificate_unparsable",
            format!(
                "BearSSL cannot decode the server's certificate chain ({})",
                bearssl_error_name(code)
            ),
            "serve well-formed DER certificates (check the PEM files the broker loads)",
        )),
        49 => unsupported(&certs),
        50 => rsa_size(&certs, true),
        60 => rsa_size(&certs, false),
        52 => Some(ex(
            "bad_certificate_signature",
            "a signature in the chain does not verify with its issuer's key".into(),
            "serve the intermediate that really issued the certificate, and give the device the \
             matching root",
        )),
        54 => dates(&certs, cfg.trust.time),
        55 => Some(out_of_order(&certs)),
        56 => Some(name_mismatch(&certs, cfg)),
        57 => critical_extension(&certs),
        58 => not_ca(&certs),
        59 => ca_key_usage(&certs),
        62 => Some(not_trusted(chain, &certs, cfg)),
        _ => None,
    };
    specific.unwrap_or_else(|| {
        ex(
            "certificate_rejected",
            format!(
                "BearSSL rejects the server's certificate chain: error {code} ({})",
                bearssl_error_name(code)
            ),
            "compare the broker certificate with the device's trust configuration",
        )
    })
}

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

fn unsupported(certs: &[(usize, &X509Certificate<'_>)]) -> Option<Explained> {
    for (i, c) in certs {
        let key = key_info_of(c);
        if key.kind != "rsa" && key.kind != "ec" || key.bits == 0 {
            return Some(ex(
                "unsupported_key_type",
                format!(
                    "{} has a {} key, which BearSSL cannot use (RSA and EC P-256/P-384/P-521 only)",
                    which(*i, c),
                    key.describe()
                ),
                "issue the broker certificate with an RSA (2048-4096 bits) or EC P-256 key",
            ));
        }
        let sig = c.signature_algorithm.algorithm.to_id_string();
        if !sig_alg_supported(&sig) {
            return Some(ex(
                "unsupported_cert_signature",
                format!(
                    "{} is signed with {}, which BearSSL's X.509 engine cannot verify (PKCS#1 v1.5 \
                     RSA and ECDSA with SHA-1/SHA-2 only)",
                    which(*i, c),
                    algorithm_name(&sig)
                ),
                "issue the certificate with an RSA (PKCS#1 v1.5) or ECDSA signature, not RSA-PSS \
                 or Ed25519",
            ));
        }
    }
    None
}

fn rsa_size(certs: &[(usize, &X509Certificate<'_>)], large: bool) -> Option<Explained> {
    for (i, c) in certs {
        let key = key_info_of(c);
        if key.kind != "rsa" {
            continue;
        }
        if large && key.bits > 4096 {
            return Some(ex(
                "rsa_key_too_large",
                format!(
                    "{} has an RSA-{} key; BearSSL handles at most 4096 bits",
                    which(*i, c),
                    key.bits
                ),
                "use an RSA key of 2048-4096 bits or an EC P-256 key",
            ));
        }
        if !large && key.bits < 1017 {
            return Some(ex(
                "rsa_key_too_small",
                format!(
                    "{} has an RSA-{} key; BearSSL's X.509 engine requires at least 1017 bits",
                    which(*i, c),
                    key.bits
                ),
                "use an RSA key of 2048 bits or more",
            ));
        }
    }
    None
}

fn dates(certs: &[(usize, &X509Certificate<'_>)], now: i64) -> Option<Explained> {
    for (i, c) in certs {
        let nb = c.validity().not_before.timestamp();
        let na = c.validity().not_after.timestamp();
        if now < nb || now > na {
            let (id, state) = if now < nb {
                (
                    "certificate_not_yet_valid",
                    format!("not valid yet (for another {})", days_text(nb - now)),
                )
            } else {
                (
                    "certificate_expired",
                    format!("expired ({} ago)", days_text(now - na)),
                )
            };
            return Some(ex(
                id,
                format!(
                    "{} is {state}: valid {} to {}; the device also reports this error when NTP \
                     has not set its clock yet",
                    which(*i, c),
                    cert::rfc3339(nb),
                    cert::rfc3339(na)
                ),
                "renew the certificate; on the device, make sure NTP has set the clock before \
                 connecting (ca mode checks dates)",
            ));
        }
    }
    None
}

/// `3 days`, `1 day`, `5 hours`: a span of seconds, roughly.
fn days_text(secs: i64) -> String {
    match secs / 86_400 {
        0 => match secs / 3600 {
            1 => "1 hour".into(),
            h => format!("{h} hours"),
        },
        1 => "1 day".into(),
        d => format!("{d} days"),
    }
}

fn out_of_order(certs: &[(usize, &X509Certificate<'_>)]) -> Explained {
    let pos = certs.windows(2).find(|w| {
        w[0].1.tbs_certificate.issuer.as_raw() != w[1].1.tbs_certificate.subject.as_raw()
    });
    let detail = match pos {
        Some(w) => format!(
            "{} is not the issuer of the certificate before it (that one is issued by {})",
            which(w[1].0, w[1].1),
            w[0].1.tbs_certificate.issuer
        ),
        None => "the chain is not in issuing order".into(),
    };
    ex(
        "chain_out_of_order",
        format!("{detail}; BearSSL needs the chain leaf first and in order"),
        "serve the chain in order: leaf, then its issuer, then that issuer's issuer (mosquitto: \
         certfile = leaf followed by the intermediates)",
    )
}

fn name_mismatch(certs: &[(usize, &X509Certificate<'_>)], cfg: &DeviceTls) -> Explained {
    let name = cfg.server_name.clone().unwrap_or_default();
    let Some((_, leaf)) = certs.iter().find(|(i, _)| *i == 0) else {
        return ex(
            "name_mismatch",
            format!("the server certificate is not valid for {name:?}"),
            "connect by a name the certificate carries",
        );
    };
    let mut dns = Vec::new();
    let mut ips = Vec::new();
    let mut has_san = false;
    if let Ok(Some(san)) = leaf.subject_alternative_name() {
        has_san = true;
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => dns.push(d.to_string()),
                GeneralName::IPAddress(raw) => ips.push(ip_text(raw)),
                _ => {}
            }
        }
    }
    let cns: Vec<String> = leaf
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_string))
        .collect();
    let is_ip = name.parse::<std::net::IpAddr>().is_ok();
    if is_ip && ips.iter().any(|ip| ip == &name) {
        return ex(
            "name_mismatch_ip_san",
            format!(
                "the device connects to {name:?}: the firmware passes the host string to \
                 connect(), and BearSSL compares it with dNSName SANs only; this certificate \
                 carries {name} as an iPAddress SAN, which BearSSL never matches"
            ),
            format!(
                "reissue the broker certificate with a dNSName SAN {name:?} too, or connect by a \
                 DNS name listed in the certificate ({})",
                if dns.is_empty() {
                    "it lists none".to_string()
                } else {
                    dns.join(", ")
                }
            ),
        );
    }
    if has_san && cns.iter().any(|cn| name_matches(cn, &name)) {
        return ex(
            "name_mismatch",
            format!(
                "the certificate's CN is {name:?} but it has a SAN extension without that name \
                 ({}); BearSSL ignores the CN whenever a SAN extension is present",
                if dns.is_empty() {
                    "no dNSName".to_string()
                } else {
                    dns.join(", ")
                }
            ),
            format!("add a dNSName SAN {name:?} to the broker certificate"),
        );
    }
    let shown = if has_san {
        if dns.is_empty() {
            "no DNS name in its SAN".to_string()
        } else {
            dns.join(", ")
        }
    } else if cns.is_empty() {
        "no name at all".to_string()
    } else {
        format!("CN {} (no SAN extension)", cns.join(", "))
    };
    let fix = match dns.iter().find(|d| !d.starts_with('*')) {
        Some(listed) => format!(
            "connect by a name the certificate lists ({}): with the espmqtt firmware set \
             `servername = \"{listed}\"` in espmqtt.toml [broker], in a sketch connect to \
             \"{listed}\" (either way the device connects by that name, which must resolve \
             to the broker on its network); \
             `--servername {listed}` tries it here. Or reissue the certificate with a SAN \
             dNSName {name:?}",
            dns.join(", ")
        ),
        None => format!(
            "reissue the broker certificate with a SAN dNSName {name:?} (BearSSL reads the CN \
             only when there is no SAN extension)"
        ),
    };
    ex(
        "name_mismatch",
        format!(
            "the server certificate is for {shown}, not for {name:?} (the name the device gives \
             connect()); BearSSL matches SAN dNSName entries only, and the CN only when there is \
             no SAN"
        ),
        fix,
    )
}

fn ip_text(raw: &[u8]) -> String {
    match raw.len() {
        4 => std::net::Ipv4Addr::new(raw[0], raw[1], raw[2], raw[3]).to_string(),
        16 => {
            let mut b = [0u8; 16];
            b.copy_from_slice(raw);
            std::net::Ipv6Addr::from(b).to_string()
        }
        _ => hex::encode(raw),
    }
}

/// Extensions BearSSL decodes, or ignores even when critical.
fn extension_known(oid: &str) -> bool {
    matches!(
        oid,
        "2.5.29.17"
            | "2.5.29.19"
            | "2.5.29.15"
            | "2.5.29.35"
            | "2.5.29.14"
            | "2.5.29.18"
            | "2.5.29.9"
            | "2.5.29.31"
            | "2.5.29.46"
            | "1.3.6.1.5.5.7.1.1"
            | "1.3.6.1.5.5.7.1.11"
            | "2.5.29.32"
    )
}

fn oid_label(oid: &str) -> String {
    match oid {
        "2.5.29.30" => "nameConstraints".into(),
        "2.5.29.36" => "policyConstraints".into(),
        "2.5.29.37" => "extendedKeyUsage".into(),
        "2.5.29.54" => "inhibitAnyPolicy".into(),
        "2.5.29.33" => "policyMappings".into(),
        "2.5.29.32" => "certificatePolicies".into(),
        other => other.to_string(),
    }
}

fn critical_extension(certs: &[(usize, &X509Certificate<'_>)]) -> Option<Explained> {
    for (i, c) in certs {
        for ext in c.extensions() {
            let oid = ext.oid.to_id_string();
            if ext.critical && (!extension_known(&oid) || oid == "2.5.29.32") {
                return Some(ex(
                    "critical_extension",
                    format!(
                        "{} has a critical {} extension, which BearSSL's X.509 engine does not \
                         support",
                        which(*i, c),
                        oid_label(&oid)
                    ),
                    "reissue the certificate without that critical extension (or mark it \
                     non-critical)",
                ));
            }
        }
    }
    None
}

fn not_ca(certs: &[(usize, &X509Certificate<'_>)]) -> Option<Explained> {
    for (i, c) in certs.iter().skip(1) {
        if !c.is_ca() {
            return Some(ex(
                "chain_not_ca",
                format!(
                    "{} is used as an issuer but is not a CA (basicConstraints CA=true missing)",
                    which(*i, c)
                ),
                "serve only the leaf and its real intermediate CA certificates",
            ));
        }
    }
    // Path length: certificate k (a CA) allows at most pathLen CAs below it.
    for (k, (i, c)) in certs.iter().enumerate().skip(1) {
        if let Ok(Some(bc)) = c.basic_constraints() {
            if let Some(limit) = bc.value.path_len_constraint {
                let below = k.saturating_sub(1);
                if below as u32 > limit {
                    return Some(ex(
                        "path_length_exceeded",
                        format!(
                            "{} allows {limit} CA certificate(s) below it (pathLenConstraint), \
                             but the chain has {below}",
                            which(*i, c)
                        ),
                        "issue the intermediate from a CA whose pathLenConstraint allows it, or \
                         sign the server certificate directly with the constrained CA",
                    ));
                }
            }
        }
    }
    Some(ex(
        "chain_not_ca",
        "a certificate used as an issuer is not a CA, or a path length constraint is violated \
         (for instance by the trust anchor's own pathLenConstraint)"
            .into(),
        "check basicConstraints (CA, pathLenConstraint) of the intermediates and the root",
    ))
}

fn ca_key_usage(certs: &[(usize, &X509Certificate<'_>)]) -> Option<Explained> {
    for (i, c) in certs.iter().skip(1) {
        if let Ok(Some(ku)) = c.key_usage() {
            if !ku.value.key_cert_sign() {
                return Some(ex(
                    "ca_key_usage",
                    format!(
                        "{} is used as an issuer but its keyUsage lacks keyCertSign",
                        which(*i, c)
                    ),
                    "serve the real intermediate CA certificate (keyUsage keyCertSign)",
                ));
            }
        }
    }
    None
}

fn not_trusted(
    chain: &[Vec<u8>],
    certs: &[(usize, &X509Certificate<'_>)],
    cfg: &DeviceTls,
) -> Explained {
    match cfg.trust.mode {
        TrustMode::Fingerprint => fingerprint_mismatch(chain, cfg),
        _ => chain_untrusted(certs, cfg),
    }
}

/// `fingerprint` mode: the leaf's SHA-1 is none of the configured ones.
/// The fix is the line to paste, with the value the device must compare.
fn fingerprint_mismatch(chain: &[Vec<u8>], cfg: &DeviceTls) -> Explained {
    let Some(leaf) = chain.first() else {
        return ex(
            "fingerprint_mismatch",
            "the server sent no certificate to compare with the configured fingerprint(s)".into(),
            "configure the broker with a certificate (mosquitto: certfile/keyfile)",
        );
    };
    let got = cert::colon_hex_upper(&cert::sha1(leaf));
    let ca_match = chain
        .iter()
        .skip(1)
        .position(|d| cfg.trust.fingerprints.iter().any(|f| *f == cert::sha1(d)));
    let mut message = format!(
        "the leaf certificate's SHA-1 is {got}, which matches none of the {} configured \
         fingerprint(s)",
        cfg.trust.fingerprints.len()
    );
    if let Some(i) = ca_match {
        message.push_str(&format!(
            "; a configured value is the SHA-1 of chain certificate #{} — the device \
             compares the leaf only",
            i + 1
        ));
    }
    ex(
        "fingerprint_mismatch",
        message,
        format!(
            "give the device the leaf's current SHA-1: in a sketch \
             `client.setFingerprint(\"{got}\");`, with the espmqtt firmware \
             `fingerprints = [\"{got}\"]` in espmqtt.toml [tls], then write the config \
             (`espmqtt flash --device NAME --config-only` or `espmqtt device push NAME`). It \
             changes at every certificate renewal: `pubkey` or `ca` trust survive renewals"
        ),
    )
}

/// `ca` mode: the chain does not link to any trust anchor. Which of the
/// usual three cases it is decides the fix: a self-signed server
/// certificate, a server that sends only its own certificate (the
/// intermediate is missing), or a chain from a CA the device does not hold.
fn chain_untrusted(certs: &[(usize, &X509Certificate<'_>)], cfg: &DeviceTls) -> Explained {
    let anchors: Vec<Vec<u8>> = cfg
        .trust
        .anchors
        .iter()
        .filter_map(Anchor::subject)
        .collect();
    let Some((i, c)) = certs.last() else {
        return ex(
            "chain_untrusted",
            "no certificate of the chain could be read".into(),
            "serve well-formed certificates (check the PEM files the broker loads)",
        );
    };
    let issuer = &c.tbs_certificate.issuer;
    let self_signed = issuer.as_raw() == c.tbs_certificate.subject.as_raw();
    let emit = "`espmqtt fingerprint HOST:PORT --emit arduino` prints the `setTrustAnchors` \
                block";
    let (detail, fix) = if anchors.iter().any(|a| a.as_slice() == issuer.as_raw()) {
        (
            format!(
                "{} is issued by {issuer}, which is a trust anchor, but the signature or the \
                 anchor's key does not match (another certificate with the same name?)",
                which(*i, c)
            ),
            "give the device the current certificate of that CA (--ca-file, [tls] ca_file); an \
             old or re-keyed CA certificate with the same name does not verify the chain"
                .to_string(),
        )
    } else if *i == 0 && self_signed {
        (
            format!(
                "the broker's certificate ({}) is self-signed, and it is not among the device's \
                 trust anchors ({})",
                c.tbs_certificate.subject,
                anchor_labels(cfg)
            ),
            format!(
                "a self-signed certificate is its own root: make this very certificate the \
                 device's trust anchor ({emit} with it; here: --ca-file with that PEM), or pin \
                 it with `fingerprint` or `pubkey` trust; or issue the broker certificate from \
                 a CA of your own and give the device that CA"
            ),
        )
    } else if *i == 0 {
        (
            format!(
                "the broker sends only its own certificate, issued by {issuer}; that issuer is \
                 not among the device's trust anchors ({}), and no intermediate links it to one",
                anchor_labels(cfg)
            ),
            format!(
                "if {issuer} is an intermediate CA, the broker must send it after its own \
                 certificate (mosquitto: `certfile` = the full chain, e.g. certbot's \
                 fullchain.pem, not cert.pem); BearSSL never fetches it. If {issuer} is your \
                 own root CA, give it to the device (--ca-file, [tls] ca_file)"
            ),
        )
    } else {
        (
            format!(
                "the chain ends at {} issued by {issuer}, which is not among the device's trust \
                 anchors ({})",
                c.tbs_certificate.subject,
                anchor_labels(cfg)
            ),
            format!(
                "give the device the root CA {} (--ca-file, [tls] ca_file; {emit}), or serve \
                 the missing intermediate certificates after the server certificate",
                // The root is the last certificate when the server sends
                // it, else that certificate's issuer.
                if self_signed {
                    &c.tbs_certificate.subject
                } else {
                    issuer
                }
            ),
        )
    };
    ex("chain_untrusted", detail, fix)
}

/// The anchor the served chain ends at, when it can be named (for the
/// report's "the device must carry this root" note).
pub fn anchor_used(chain: &[Vec<u8>], cfg: &DeviceTls) -> Option<String> {
    for der in chain {
        let (_, c) = parse_x509_certificate(der).ok()?;
        let issuer = c.tbs_certificate.issuer.as_raw();
        for a in &cfg.trust.anchors {
            if a.subject().as_deref() == Some(issuer) {
                return Some(a.label());
            }
            if a.subject().as_deref() == Some(c.tbs_certificate.subject.as_raw()) {
                if let Anchor::Certificate(d) = a {
                    if d == der {
                        return Some(a.label());
                    }
                }
            }
        }
    }
    None
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

    #[test]
    fn every_code_gets_an_explanation() {
        let cfg = DeviceTls {
            ciphers: Default::default(),
            versions: (0x0301, 0x0303),
            buffers: (512, 512),
            trust: Default::default(),
            client: None,
            server_name: Some("b.example".into()),
        };
        for code in [
            1, 33, 35, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 62,
        ] {
            let e = x509(code, &[], &cfg);
            assert!(!e.message.is_empty() && !e.fix.is_empty(), "{code}");
        }
    }
}
