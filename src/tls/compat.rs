//! Findings: what the device would run into with this server, in its own
//! terms (BearSSL error number, PubSubClient `state()`), and the fix.
//!
//! [`analyse_flight`] judges the server's answer to the device's own
//! ClientHello (esp8266-tls.md §12 checklist items 2-8); when the server
//! refused that hello, [`explain_refusal`] uses the answer to the wider
//! diagnostic hello to say *why*. Finding ids are stable: scripts match on
//! them.

use serde::{Deserialize, Serialize};

use super::clienthello::{
    group_name, mfln_code_bytes, sigalg_name, suite_name, DeviceHello, Mfln, BASIC_SIGALGS,
    DEVICE_GROUPS, DEVICE_SIGALGS,
};
use super::device_trust::{self, DeviceTrust, KeyInfo, TrustFailure};
use super::handshake::{FlightEnd, HelloExchange};
use super::records::{alert_name, is_dhe_suite, ServerFlight};
use super::TrustMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Fatal,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier (e.g. `tls13_only`, `mfln_not_echoed`).
    pub id: String,
    pub severity: Severity,
    /// What is wrong (or notable), in one or two sentences.
    pub message: String,
    /// What the device would show: `BearSSL error 62`, `rc=-2`, `rc=4`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_error: Option<String>,
    /// The next step.
    pub fix: String,
}

impl Finding {
    pub fn new(
        id: &str,
        severity: Severity,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            id: id.to_string(),
            severity,
            message: message.into(),
            device_error: None,
            fix: fix.into(),
        }
    }
    pub fn device(mut self, e: impl Into<String>) -> Self {
        self.device_error = Some(e.into());
        self
    }
}

/// `BearSSL error N, rc=-2`: the device's view of a failed TLS connect.
pub fn bearssl(n: u16) -> String {
    format!("BearSSL error {n}; PubSubClient rc=-2")
}

/// A fatal alert received from the server: BearSSL records 256 + alert,
/// `getLastSSLError()` returns the bare alert number (§6.1).
pub fn received_alert(alert: u8) -> String {
    format!(
        "BearSSL error {} (received fatal alert {alert} {}; getLastSSLError() returns {alert}); PubSubClient rc=-2",
        256 + alert as u16,
        alert_name(alert)
    )
}

/// TLS-level facts the report shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFacts {
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub cipher_suite_id: Option<u16>,
    pub curve: Option<String>,
    pub signature_algorithm: Option<String>,
    pub mfln_requested: Option<u16>,
    /// Fragment length the server echoed, `None` when not echoed.
    pub mfln_echoed: Option<u16>,
    pub mfln_code_echoed: Option<u8>,
    pub max_record_after_hello: usize,
    pub chain_length: usize,
    pub leaf_sha1: Option<String>,
    pub leaf_key: Option<KeyInfo>,
    pub client_certificate_requested: bool,
    /// `ca` mode: the anchor the device's chain ends at.
    pub trust_anchor: Option<String>,
}

/// Result of judging the device handshake.
#[derive(Debug, Clone, Default)]
pub struct FlightAnalysis {
    pub findings: Vec<Finding>,
    pub facts: TlsFacts,
    /// The device would complete the handshake (as far as a host can tell).
    pub handshake_ok: bool,
    /// The peer did not speak TLS or never answered: exit 3, not 1.
    pub unreachable: bool,
    /// The server refused the hello with this alert (diagnose further).
    pub refused_with_alert: Option<u8>,
    /// The BearSSL error the device would report, for comparison with the oracle.
    pub device_error_code: Option<u16>,
}

/// Judge the server's answer to the device's ClientHello.
pub fn analyse_flight(
    ex: &HelloExchange,
    hello: &DeviceHello,
    trust: &DeviceTrust,
    client_cert_configured: bool,
) -> FlightAnalysis {
    let mut a = FlightAnalysis::default();
    let f = &ex.flight;
    a.facts.mfln_requested = hello.mfln.code().map(|_| hello.mfln.bytes() as u16);

    // 1. Not TLS at all, or silence.
    match &ex.end {
        FlightEnd::NotTls(first) => {
            a.unreachable = true;
            a.findings.push(
                Finding::new(
                    "not_tls",
                    Severity::Fatal,
                    format!("the server answered the TLS ClientHello with something that is not TLS ({first})"),
                    "check the port: 8883 is MQTT over TLS, 1883 plain MQTT, 443/80 HTTP; point the device at the broker's TLS listener",
                )
                .device(bearssl(9)),
            );
            a.device_error_code = Some(9);
            return a;
        }
        FlightEnd::Malformed(e) => {
            a.unreachable = true;
            a.findings.push(
                Finding::new(
                    "malformed_tls",
                    Severity::Fatal,
                    format!("the server's TLS answer is malformed: {e}"),
                    "check that the port belongs to a TLS server; a proxy or load balancer may be mangling the stream",
                )
                .device(bearssl(14)),
            );
            a.device_error_code = Some(14);
            return a;
        }
        _ => {}
    }

    // 2. An alert before the ServerHello: the server refused the hello.
    if f.server_hello.is_none() {
        if let Some((_, alert)) = f.alert {
            a.refused_with_alert = Some(alert);
            a.device_error_code = Some(256 + alert as u16);
            if alert == 70 {
                a.findings.push(
                    Finding::new(
                        "tls13_only",
                        Severity::Fatal,
                        "the server refuses TLS 1.0-1.2 (alert protocol_version): it only speaks TLS 1.3, which BearSSL does not implement",
                        "allow TLS 1.2 on the broker listener (mosquitto: remove `tls_version tlsv1.3` or set `tls_version tlsv1.2`)",
                    )
                    .device(received_alert(alert)),
                );
            }
            // Other alerts are explained with the diagnostic hello (explain_refusal).
            return a;
        }
        a.unreachable = true;
        let (id, msg, dev) = match &ex.end {
            FlightEnd::Closed { received: 0 } => (
                "closed_without_answer",
                "the server closed the connection without answering the ClientHello (a plain-MQTT listener such as port 1883 does this)".to_string(),
                "BearSSL error 31 (I/O); PubSubClient rc=-2",
            ),
            FlightEnd::Io(e) if ex.received == 0 => (
                "closed_without_answer",
                format!("the server dropped the connection without answering the ClientHello ({e}); a plain-MQTT listener such as port 1883 does this"),
                "BearSSL error 31 (I/O); PubSubClient rc=-2",
            ),
            FlightEnd::Timeout { received: 0 } => (
                "no_answer",
                "the server accepted the TCP connection but never answered the ClientHello".to_string(),
                "no answer within the 15 s handshake timeout; PubSubClient rc=-2",
            ),
            FlightEnd::Io(e) => (
                "connection_error",
                format!("the connection failed during the handshake: {e}"),
                "BearSSL error 31 (I/O); PubSubClient rc=-2",
            ),
            _ => (
                "handshake_incomplete",
                "the server's answer stopped before a complete ServerHello".to_string(),
                "BearSSL error 31 (I/O) or the 15 s handshake timeout; PubSubClient rc=-2",
            ),
        };
        a.findings.push(
            Finding::new(
                id,
                Severity::Fatal,
                msg,
                "check that this is the broker's TLS port (MQTT over TLS is usually 8883) and that nothing (firewall, proxy) swallows the handshake",
            )
            .device(dev),
        );
        return a;
    }
    let Some(sh) = f.server_hello.as_ref() else {
        return a;
    };

    // 3. ServerHello.
    a.facts.version = Some(version_name(sh.version));
    a.facts.cipher_suite = Some(suite_name(sh.cipher_suite));
    a.facts.cipher_suite_id = Some(sh.cipher_suite);
    if sh.is_tls13() || sh.version > 0x0303 {
        a.findings.push(
            Finding::new(
                "tls13_only",
                Severity::Fatal,
                "the server answered with TLS 1.3, which BearSSL does not implement",
                "allow TLS 1.2 on the broker listener",
            )
            .device(bearssl(4)),
        );
        a.device_error_code = Some(4);
        return a;
    }
    if sh.version < 0x0301 {
        a.findings.push(
            Finding::new(
                "ssl3",
                Severity::Fatal,
                "the server chose SSL 3.0",
                "enable TLS 1.2 on the broker",
            )
            .device(bearssl(3)),
        );
        a.device_error_code = Some(3);
        return a;
    }
    if sh.version < 0x0303 {
        a.findings.push(Finding::new(
            "old_tls_version",
            Severity::Warn,
            format!(
                "the server chose {} although the device offers TLS 1.2",
                version_name(sh.version)
            ),
            "enable TLS 1.2 on the broker",
        ));
    }
    if !hello.ciphers.suites().contains(&sh.cipher_suite) {
        a.findings.push(
            Finding::new(
                "suite_not_offered",
                Severity::Fatal,
                format!("the server chose {}, which the device did not offer", suite_name(sh.cipher_suite)),
                "configure the broker to accept one of the device's suites, e.g. ECDHE-RSA-AES128-GCM-SHA256",
            )
            .device(bearssl(16)),
        );
        a.device_error_code = Some(16);
        return a;
    }
    if sh.compression != 0 {
        a.findings.push(
            Finding::new(
                "compression",
                Severity::Fatal,
                "the server chose TLS compression",
                "disable TLS compression on the broker",
            )
            .device(bearssl(17)),
        );
        a.device_error_code = Some(17);
        return a;
    }
    let mut offered_ext = vec![0xff01u16, 0x000b];
    if hello.server_name.is_some() {
        offered_ext.push(0x0000);
    }
    if hello.mfln.code().is_some() {
        offered_ext.push(0x0001);
    }
    if let Some((ty, _)) = sh.extensions.iter().find(|(t, _)| !offered_ext.contains(t)) {
        a.findings.push(
            Finding::new(
                "extra_extension",
                Severity::Fatal,
                format!("the ServerHello carries extension 0x{ty:04x}, which the device did not offer; BearSSL aborts on that"),
                "the server violates TLS; update it",
            )
            .device(bearssl(20)),
        );
        a.device_error_code = Some(20);
        return a;
    }
    if f.hello_shares_record {
        a.findings.push(Finding::new(
            "hello_shares_record",
            Severity::Info,
            "the server packs the ServerHello together with other messages in one record; \
             the core's probeMaxFragmentLength() then returns false even though MFLN works (§4.4)",
            "do not rely on probeMaxFragmentLength() for this broker; use the result of this probe instead",
        ));
    }

    // 4. MFLN (§4.1, §4.3).
    let echoed = sh.extension(0x0001);
    let mut mfln_ok = true;
    if let Some(code) = hello.mfln.code() {
        match echoed {
            None => {
                a.findings.push(Finding::new(
                    "mfln_not_echoed",
                    Severity::Warn,
                    format!(
                        "the server ignores max_fragment_length: it may send records of up to 16 KB, so the device needs a {} B contiguous receive buffer instead of {} B",
                        16384 + 325,
                        hello.mfln.bytes() + 325
                    ),
                    "keep the default receive buffer (setBufferSizes(16384, 512)) for this broker and make sure the heap has a 16.7 KB free block, or use a broker that supports MFLN (mosquitto with OpenSSL >= 1.1.0)",
                ));
            }
            Some(b) if b.len() == 1 && b[0] == code => {
                a.facts.mfln_code_echoed = Some(code);
                a.facts.mfln_echoed = mfln_code_bytes(code).map(|v| v as u16);
            }
            Some(b) => {
                mfln_ok = false;
                a.facts.mfln_code_echoed = b.first().copied();
                a.facts.mfln_echoed = b
                    .first()
                    .and_then(|c| mfln_code_bytes(*c))
                    .map(|v| v as u16);
                a.findings.push(
                    Finding::new(
                        "mfln_mismatch",
                        Severity::Fatal,
                        format!(
                            "the device asked for max_fragment_length code {code} ({} B) and the server answered {:?}",
                            hello.mfln.bytes(),
                            b
                        ),
                        "use a broker that echoes the requested value, or --mfln off (16 KB buffers)",
                    )
                    .device(bearssl(18)),
                );
                a.device_error_code = Some(18);
            }
        }
        if let Some(limit) = a.facts.mfln_echoed {
            // The flight after the ServerHello is already subject to the
            // negotiated limit (RFC 6066 §4); a server that sends bigger
            // records there ignores it for application data too, which the
            // device's reduced buffer cannot take (BR_ERR_TOO_LARGE, §4.3).
            if f.max_record_after_hello > limit as usize {
                mfln_ok = false;
                a.findings.push(
                    Finding::new(
                        "mfln_not_honoured",
                        Severity::Fatal,
                        format!(
                            "the server confirmed max_fragment_length {limit} B but then sent a {} B record",
                            f.max_record_after_hello
                        ),
                        "the broker does not honour MFLN: use 16 KB receive buffers on the device (--mfln off) or fix the broker",
                    )
                    .device(bearssl(6)),
                );
                a.device_error_code.get_or_insert(6);
            }
        }
    } else if echoed.is_some() {
        a.findings.push(
            Finding::new(
                "extra_extension",
                Severity::Fatal,
                "the server echoed max_fragment_length although the device did not ask for it",
                "the server violates RFC 6066; update it",
            )
            .device(bearssl(20)),
        );
        a.device_error_code = Some(20);
        return a;
    }
    a.facts.max_record_after_hello = f.max_record_after_hello;

    // 5. Certificate and key.
    a.facts.chain_length = f.certificates.len();
    if let Some(leaf) = f.certificates.first() {
        a.facts.leaf_sha1 = Some(super::cert::colon_hex(&super::cert::sha1(leaf)));
        a.facts.leaf_key = device_trust::key_info(leaf);
    }
    let mut trust_ok = true;
    if !f.certificate_seen && !f.hello_done {
        return incomplete(a, ex);
    }
    if f.certificate_seen {
        // Key checks that apply in every trust mode (the TLS layer uses the key).
        if let Some(k) = &a.facts.leaf_key {
            if k.kind == "rsa" && k.bits > 4096 {
                trust_ok = false;
                a.findings.push(
                    Finding::new(
                        "rsa_key_too_large",
                        Severity::Fatal,
                        format!(
                            "the server key is RSA-{}; BearSSL handles at most 4096 bits",
                            k.bits
                        ),
                        "use an RSA key of 2048-4096 bits or an EC P-256 key",
                    )
                    .device(bearssl(if trust.mode == TrustMode::Ca {
                        50
                    } else {
                        23
                    })),
                );
                a.device_error_code
                    .get_or_insert(if trust.mode == TrustMode::Ca { 50 } else { 23 });
            }
        }
        if trust_ok {
            match device_trust::verify(&f.certificates, trust) {
                Ok(s) => {
                    a.facts.trust_anchor = s.anchor;
                    // In CA mode x509-minimal hands the leaf's keyUsage to the
                    // TLS layer, which checks it against the suite; the other
                    // engines report KEYX|SIGN (§2.3).
                    if trust.mode == TrustMode::Ca {
                        if let Some((keyx, sign)) = f
                            .certificates
                            .first()
                            .and_then(|l| device_trust::leaf_usages(l))
                        {
                            let needs_sign = is_ecdhe_suite(sh.cipher_suite);
                            let ok = if needs_sign { sign } else { keyx };
                            if !ok {
                                trust_ok = false;
                                a.findings.push(
                                    Finding::new(
                                        "leaf_key_usage",
                                        Severity::Fatal,
                                        format!(
                                            "the server certificate's keyUsage does not allow {} which {} needs",
                                            if needs_sign { "digitalSignature," } else { "keyEncipherment/keyAgreement," },
                                            suite_name(sh.cipher_suite)
                                        ),
                                        "reissue the certificate with keyUsage digitalSignature (ECDHE) and keyEncipherment (RSA key exchange)",
                                    )
                                    .device(bearssl(28)),
                                );
                                a.device_error_code.get_or_insert(28);
                            }
                        }
                    }
                    if trust.mode == TrustMode::Insecure {
                        a.findings.push(Finding::new(
                            "insecure_mode",
                            Severity::Warn,
                            "trust mode `insecure`: the device accepts any certificate, so anyone on the path can impersonate the broker",
                            "use `ca` (survives renewals) or `pubkey` mode",
                        ));
                    }
                    if trust.mode == TrustMode::Fingerprint {
                        a.findings.push(Finding::new(
                            "fingerprint_breaks_on_renewal",
                            Severity::Info,
                            "fingerprint mode pins this exact certificate; the device stops connecting at the next renewal unless the next fingerprint is configured too",
                            "configure the next certificate's fingerprint as the second one before renewing, or use `ca` mode",
                        ));
                    }
                }
                Err(TrustFailure {
                    id,
                    bearssl: n,
                    message,
                    fix,
                }) => {
                    trust_ok = false;
                    let mut fx = Finding::new(id, Severity::Fatal, message, fix).device(bearssl(n));
                    if id == "certificate_expired" || id == "certificate_not_yet_valid" {
                        fx.message.push_str(
                            " (the device also reports this when NTP has not set its clock yet)",
                        );
                    }
                    a.findings.push(fx);
                    a.device_error_code.get_or_insert(n);
                }
            }
        }
    }

    // 6. ServerKeyExchange: curve and signature algorithm (§3.4).
    if let Some(ske) = &f.server_key_exchange {
        if let Some(c) = ske.named_curve {
            a.facts.curve = Some(group_name(c));
            if !DEVICE_GROUPS.contains(&c)
                || hello.ciphers == super::clienthello::CipherBuild::Basic
            {
                a.findings.push(
                    Finding::new(
                        "unsupported_curve",
                        Severity::Fatal,
                        format!("the server uses the ECDHE curve {}, which the device does not support (x25519, P-256, P-384, P-521)", group_name(c)),
                        "allow x25519 or P-256 for key exchange on the broker",
                    )
                    .device(bearssl(26)),
                );
                a.device_error_code.get_or_insert(26);
            }
        }
        if ske.explicit_curve {
            a.findings.push(
                Finding::new(
                    "unsupported_curve",
                    Severity::Fatal,
                    "the server uses explicit (unnamed) curve parameters",
                    "use a named curve",
                )
                .device(bearssl(26)),
            );
            a.device_error_code.get_or_insert(26);
        }
        if let Some(sig) = ske.sig_alg {
            a.facts.signature_algorithm = Some(sigalg_name(sig));
            let allowed: &[u16] = if hello.ciphers == super::clienthello::CipherBuild::Basic {
                &BASIC_SIGALGS
            } else {
                &DEVICE_SIGALGS
            };
            if !allowed.contains(&sig) {
                a.findings.push(
                    Finding::new(
                        "unsupported_signature_algorithm",
                        Severity::Fatal,
                        format!("the server signs its key exchange with {}, which the device did not offer (no RSA-PSS, no EdDSA)", sigalg_name(sig)),
                        "configure the broker's signature algorithms to include rsa_pkcs1_sha256 / ecdsa_secp256r1_sha256",
                    )
                    .device(bearssl(26)),
                );
                a.device_error_code.get_or_insert(26);
            }
        }
    } else if is_dhe_suite(sh.cipher_suite) {
        // Not reachable with the device's hello; kept for completeness.
    }

    // 7. Client certificate (§2.6).
    if let Some(cr) = &f.certificate_request {
        a.facts.client_certificate_requested = true;
        if !client_cert_configured {
            a.findings.push(
                Finding::new(
                    "client_certificate_required",
                    Severity::Fatal,
                    format!(
                        "the server asks for a client certificate (listing {} CA name(s)) and none is configured; the device would send an empty certificate list",
                        cr.ca_names
                    ),
                    "give the device a client certificate signed by the broker's CA (--cert/--key; on the device setClientRSACert or setClientECCert), or set `require_certificate false` on the broker",
                )
                .device("the server aborts the handshake with a fatal alert (typically 40 handshake_failure, or 116 certificate_required); PubSubClient rc=-2"),
            );
        }
    }

    if !f.hello_done {
        return incomplete(a, ex);
    }
    a.handshake_ok =
        trust_ok && mfln_ok && !a.findings.iter().any(|x| x.severity == Severity::Fatal);
    a
}

fn incomplete(mut a: FlightAnalysis, ex: &HelloExchange) -> FlightAnalysis {
    a.unreachable = true;
    let how = match &ex.end {
        FlightEnd::Closed { .. } => "the server closed the connection",
        FlightEnd::Timeout { .. } => "the server stopped sending",
        FlightEnd::Io(_) => "the connection failed",
        _ => "the server's flight ended",
    };
    a.findings.push(
        Finding::new(
            "handshake_incomplete",
            Severity::Fatal,
            format!("{how} after the ServerHello, before ServerHelloDone; the handshake cannot complete"),
            "look at the broker's log for the TLS error; a proxy may be cutting the connection",
        )
        .device("BearSSL error 31 (I/O) or a handshake timeout; PubSubClient rc=-2"),
    );
    a.handshake_ok = false;
    a
}

/// ECDHE suites (the server signs; the leaf needs digitalSignature).
fn is_ecdhe_suite(id: u16) -> bool {
    matches!(
        id,
        0xCCA9
            | 0xCCA8
            | 0xC02B
            | 0xC02F
            | 0xC02C
            | 0xC030
            | 0xC0AC
            | 0xC0AD
            | 0xC0AE
            | 0xC0AF
            | 0xC023
            | 0xC027
            | 0xC024
            | 0xC028
            | 0xC009
            | 0xC013
            | 0xC00A
            | 0xC014
            | 0xC008
            | 0xC012
    )
}

/// Name of a protocol version.
pub fn version_name(v: u16) -> String {
    match v {
        0x0300 => "SSL 3.0".into(),
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        _ => format!("0x{v:04x}"),
    }
}

/// When the server refused the device's hello with an alert, explain why
/// from its answer to the diagnostic hello (which offers what the device
/// lacks). Returns the findings to add.
pub fn explain_refusal(
    alert: u8,
    diag: Option<&ServerFlight>,
    hello: &DeviceHello,
) -> Vec<Finding> {
    let dev = received_alert(alert);
    let Some(sh) = diag.and_then(|d| d.server_hello.as_ref()) else {
        return vec![Finding::new(
            "handshake_refused",
            Severity::Fatal,
            format!("the server refused the device's ClientHello with alert {alert} ({}) and also refused a much wider TLS 1.2 hello", alert_name(alert)),
            "look at the broker's log for the reason (protocol versions, cipher suites, certificate)",
        )
        .device(dev)];
    };
    let d = diag.cloned().unwrap_or_default();
    let mut out = Vec::new();
    let suite = sh.cipher_suite;
    if !hello.ciphers.suites().contains(&suite) {
        out.push(
            Finding::new(
                "no_common_suite",
                Severity::Fatal,
                format!(
                    "no cipher suite in common: the server refused all {} suites the device offers; offered more, it picks {}{}",
                    hello.ciphers.suites().len(),
                    suite_name(suite),
                    if is_dhe_suite(suite) { " (DHE, which BearSSL does not implement)" } else { "" }
                ),
                "allow a suite the device offers on the broker, e.g. `ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256` (mosquitto listener option)",
            )
            .device(dev.clone()),
        );
    }
    if let Some(leaf) = d.certificates.first() {
        if let Some(k) = device_trust::key_info(leaf) {
            if (k.kind != "rsa" && k.kind != "ec") || (k.kind == "ec" && k.bits == 0) {
                out.push(
                    Finding::new(
                        "unsupported_key_type",
                        Severity::Fatal,
                        format!(
                            "the server certificate's key type is {}{}; BearSSL supports only RSA and EC P-256/384/521 keys, and the device cannot verify its signatures",
                            k.kind,
                            k.curve.map(|c| format!(" ({c})")).unwrap_or_default()
                        ),
                        "issue the broker certificate with an RSA-2048 or EC P-256 key",
                    )
                    .device(dev.clone()),
                );
            }
        }
    }
    if let Some(sig) = d.server_key_exchange.as_ref().and_then(|s| s.sig_alg) {
        if !DEVICE_SIGALGS.contains(&sig) && out.iter().all(|f| f.id != "unsupported_key_type") {
            out.push(
                Finding::new(
                    "unsupported_signature_algorithm",
                    Severity::Fatal,
                    format!(
                        "the server insists on signing with {}, which the device does not support",
                        sigalg_name(sig)
                    ),
                    "allow PKCS#1 v1.5 RSA or ECDSA signatures on the broker",
                )
                .device(dev.clone()),
            );
        }
    }
    if let Some(c) = d.server_key_exchange.as_ref().and_then(|s| s.named_curve) {
        if !DEVICE_GROUPS.contains(&c) {
            out.push(
                Finding::new(
                    "unsupported_curve",
                    Severity::Fatal,
                    format!("the server insists on the ECDHE group {}, which the device does not support", group_name(c)),
                    "allow x25519 or P-256 (mosquitto: `ecdh_curve`/OpenSSL groups)",
                )
                .device(dev.clone()),
            );
        }
    }
    if out.is_empty() {
        out.push(
            Finding::new(
                "handshake_refused",
                Severity::Fatal,
                format!(
                    "the server refused the device's ClientHello with alert {alert} ({}) but accepts a wider one (it picked {})",
                    alert_name(alert),
                    suite_name(suite)
                ),
                "compare the broker's TLS settings with the device's capabilities (suites, curves, signature algorithms)",
            )
            .device(dev),
        );
    }
    out
}

/// Heap the TLS connection takes on the device (esp8266-tls.md §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapEstimate {
    pub stack: usize,
    pub receive_buffer: usize,
    pub transmit_buffer: usize,
    pub ssl_context: usize,
    pub x509_context: usize,
    pub total: usize,
    pub typical_free_heap: usize,
    /// Largest contiguous block needed (the receive buffer).
    pub largest_block: usize,
}

/// Estimate from the buffer choice and whether MFLN was negotiated.
pub fn heap_estimate(mfln: Mfln, negotiated: bool, mode: TrustMode) -> HeapEstimate {
    let n = mfln.bytes();
    let recv = if negotiated || mfln == Mfln::Off {
        n
    } else {
        16384
    };
    let receive_buffer = recv + 325;
    let transmit_buffer = n + 85;
    let x509_context = match mode {
        TrustMode::Ca => 3064 + 1124,
        TrustMode::Pubkey => 28,
        TrustMode::Fingerprint | TrustMode::Insecure => 1536,
    };
    let total = 6200 + receive_buffer + transmit_buffer + 3408 + x509_context;
    HeapEstimate {
        stack: 6200,
        receive_buffer,
        transmit_buffer,
        ssl_context: 3408,
        x509_context,
        total,
        typical_free_heap: 40 * 1024,
        largest_block: receive_buffer,
    }
}

/// Finding for the heap estimate.
pub fn heap_finding(h: &HeapEstimate) -> Finding {
    let warn = h.total > 30 * 1024;
    let f = Finding::new(
        "heap_estimate",
        if warn { Severity::Warn } else { Severity::Info },
        format!(
            "the TLS connection needs about {} B of heap ({} B second stack, {} B receive buffer as one contiguous block, {} B transmit buffer, {} B SSL context, {} B X.509 context during the handshake) of a typical 40 KB free heap",
            h.total, h.stack, h.receive_buffer, h.transmit_buffer, h.ssl_context, h.x509_context
        ),
        if warn {
            "keep the application's heap use low, or use a broker that honours MFLN so the receive buffer can shrink"
        } else {
            "none needed"
        },
    );
    if warn {
        f.device("out of memory in _connectSSL: getLastSSLError() -1000, PubSubClient rc=-2")
    } else {
        f
    }
}

#[cfg(test)]
mod tests {
    use super::super::clienthello::CipherBuild;
    use super::super::records::ServerHello;
    use super::*;

    fn hello() -> DeviceHello {
        DeviceHello {
            ciphers: CipherBuild::All,
            server_name: None,
            mfln: Mfln::B512,
        }
    }

    fn exchange(suite: u16, extensions: Vec<(u16, Vec<u8>)>) -> HelloExchange {
        let flight = ServerFlight {
            server_hello: Some(ServerHello {
                version: 0x0303,
                random: [1; 32],
                session_id: Vec::new(),
                cipher_suite: suite,
                compression: 0,
                extensions,
            }),
            hello_done: true,
            ..Default::default()
        };
        HelloExchange {
            flight,
            end: FlightEnd::Complete,
            received: 100,
        }
    }

    fn insecure() -> DeviceTrust {
        DeviceTrust {
            mode: TrustMode::Insecure,
            ..Default::default()
        }
    }

    #[test]
    fn mfln_echoed_with_another_value_is_bearssl_18() {
        let ex = exchange(0xC02F, vec![(0xff01, vec![0]), (0x0001, vec![2])]);
        let a = analyse_flight(&ex, &hello(), &insecure(), false);
        assert_eq!(a.device_error_code, Some(18));
        assert!(a
            .findings
            .iter()
            .any(|f| f.id == "mfln_mismatch" && f.severity == Severity::Fatal));
        assert!(!a.handshake_ok);
    }

    #[test]
    fn suite_not_offered_is_bearssl_16() {
        let ex = exchange(0x009E, vec![]);
        let a = analyse_flight(&ex, &hello(), &insecure(), false);
        assert_eq!(a.device_error_code, Some(16));
    }

    #[test]
    fn unoffered_extension_is_bearssl_20() {
        let ex = exchange(0xC02F, vec![(0x0017, vec![])]);
        let a = analyse_flight(&ex, &hello(), &insecure(), false);
        assert_eq!(a.device_error_code, Some(20));
    }

    #[test]
    fn tls13_server_hello_is_fatal() {
        let ex = exchange(0x1301, vec![(0x002b, vec![3, 4])]);
        let a = analyse_flight(&ex, &hello(), &insecure(), false);
        assert!(a.findings.iter().any(|f| f.id == "tls13_only"));
    }

    #[test]
    fn heap_needs_16k_block_without_mfln() {
        let h = heap_estimate(Mfln::B512, false, TrustMode::Ca);
        assert_eq!(h.receive_buffer, 16709);
        let h = heap_estimate(Mfln::B512, true, TrustMode::Ca);
        assert_eq!(h.receive_buffer, 837);
    }
}
