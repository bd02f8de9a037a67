//! Findings: what the device ran into with this broker, in its own terms
//! (BearSSL error, PubSubClient state), why, and the fix.
//!
//! The BearSSL engine decides; this module explains. [`analyse`] reads the
//! bytes tapped from the engine's own connection (the ClientHello BearSSL
//! wrote, the server's answer, the chain) and turns the engine's error into
//! one fatal finding that carries that very error number, plus warnings and
//! notes. Nothing here can make a handshake fail or succeed. Where the
//! flight lets the analysis predict the engine's answer (an MFLN echo of
//! the wrong size, a suite that was not offered) the prediction is compared
//! with the engine's, and a disagreement is reported as an internal
//! inconsistency — a bug, which the tests treat as a failure.
//!
//! Each finding carries its category where it is created: `connection`
//! (DNS, TCP, not TLS), `handshake`, `chain` (certificate verification) or
//! `mqtt`. Finding ids are stable: scripts match on them.

use std::net::SocketAddr;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::cert;
use super::clienthello::{
    diagnostic_record, mfln_code_bytes, CipherBuild, DEVICE_GROUPS, DEVICE_SIGALGS,
};
use super::engine::{DeviceTls, Handshake, Tap, TransportEnd, ERR_IO};
use super::explain::{self, KeyInfo};
use super::names::{
    alert_name, bearssl_error_name, group_name, is_x509_error, key_exchange, pubsubclient_state,
    sigalg_name, suite_name, version_name, KeyExchange,
};
use super::net::{self, FlightEnd};
use super::records::{classify_bytes, FlightParser, Reader, ServerFlight};
use super::TrustMode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Fatal,
}

/// Where a finding belongs (and so which phase it fails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// DNS, TCP, or a peer that does not speak TLS.
    Connection,
    /// The TLS handshake itself (versions, suites, extensions, client
    /// certificate, records).
    Handshake,
    /// The server's certificate chain or key, judged in the trust mode.
    Chain,
    /// The MQTT exchange over the established session.
    Mqtt,
}

/// Where a fix names the broker in a command (`espmqtt fingerprint
/// HOST:PORT --emit arduino`): the analysis does not know the address it was
/// given, so it writes this, and `mqtt::probe` puts the probed target in its
/// place ([`Finding::name_target`]).
pub const TARGET_IN_FIX: &str = "HOST:PORT";

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable identifier (e.g. `tls13_only`, `mfln_not_echoed`).
    pub id: String,
    pub category: Category,
    pub severity: Severity,
    /// What is wrong (or notable), in one or two sentences.
    pub message: String,
    /// What the device shows: `BearSSL error 62 (…); PubSubClient rc=-2 (…)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_error: Option<String>,
    /// The BearSSL error this finding explains (`getLastSSLError()`, with
    /// 256 + alert for a received alert).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearssl_error: Option<i32>,
    /// The PubSubClient `state()` the device ends up in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pubsubclient_state: Option<i32>,
    /// The next step.
    pub fix: String,
}

impl Finding {
    /// Put the probed broker address where the fix says [`TARGET_IN_FIX`].
    pub fn name_target(&mut self, target: &str) {
        if self.fix.contains(TARGET_IN_FIX) {
            self.fix = self.fix.replace(TARGET_IN_FIX, target);
        }
    }

    pub fn new(
        category: Category,
        id: &str,
        severity: Severity,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            id: id.to_string(),
            category,
            severity,
            message: message.into(),
            device_error: None,
            bearssl_error: None,
            pubsubclient_state: None,
            fix: fix.into(),
        }
    }

    /// The device's TLS connect fails with this BearSSL error (rc=-2).
    pub fn tls_error(mut self, code: i32) -> Self {
        self.bearssl_error = Some(code);
        self.pubsubclient_state = Some(-2);
        self.device_error = Some(device_text(Some(code), Some(-2)));
        self
    }

    /// The device ends in this PubSubClient state (TLS error, if any, kept).
    pub fn state(mut self, state: i32) -> Self {
        self.pubsubclient_state = Some(state);
        self.device_error = Some(device_text(self.bearssl_error, Some(state)));
        self
    }

    /// Free text for what the device shows (no numbers known).
    pub fn device(mut self, text: impl Into<String>) -> Self {
        self.device_error = Some(text.into());
        self
    }
}

/// `BearSSL error 62 (BR_ERR_X509_NOT_TRUSTED); PubSubClient rc=-2 (MQTT_CONNECT_FAILED)`.
pub fn device_text(code: Option<i32>, state: Option<i32>) -> String {
    let mut parts = Vec::new();
    if let Some(code) = code {
        if (256..512).contains(&code) {
            let a = (code - 256) as u8;
            parts.push(format!(
                "BearSSL error {code} (received fatal alert {a} {}; getLastSSLError() returns {a})",
                alert_name(a)
            ));
        } else if code == ERR_IO {
            parts.push(format!(
                "BearSSL error {code} (BR_ERR_IO: the connection ended under the engine; the \
                 module's getLastSSLError() shows 0 here)"
            ));
        } else {
            parts.push(format!(
                "BearSSL error {code} ({})",
                bearssl_error_name(code)
            ));
        }
    }
    if let Some(s) = state {
        parts.push(format!("PubSubClient rc={s} ({})", pubsubclient_state(s).0));
    }
    parts.join("; ")
}

/// TLS-level facts the report shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsFacts {
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub cipher_suite_id: Option<u16>,
    pub curve: Option<String>,
    pub signature_algorithm: Option<String>,
    /// The device's TLS versions (`setSSLVersion`).
    pub versions_offered: String,
    /// `setBufferSizes(recv, xmit)`.
    pub buffers: (u16, u16),
    /// SNI the ClientHello carried.
    pub server_name_sent: Option<String>,
    pub mfln_requested: Option<u16>,
    /// Fragment length the server echoed, `None` when not echoed.
    pub mfln_echoed: Option<u16>,
    pub mfln_code_echoed: Option<u8>,
    pub max_record_after_hello: usize,
    pub chain_length: usize,
    pub leaf_sha1: Option<String>,
    pub leaf_key: Option<KeyInfo>,
    pub client_certificate_requested: bool,
    /// Certificates the device sent when asked (0: an empty list).
    pub client_certificates_sent: Option<usize>,
    /// `ca` mode: the anchor the device's chain ends at.
    pub trust_anchor: Option<String>,
    /// `fingerprint` mode: which configured fingerprint was used (1-based).
    pub fingerprint_used: Option<usize>,
    pub handshake_complete: bool,
}

/// What the analysis of one handshake found.
#[derive(Debug, Clone, Default)]
pub struct Analysis {
    pub findings: Vec<Finding>,
    pub facts: TlsFacts,
    /// Nothing TLS answered (exit 3 rather than 1).
    pub unreachable: bool,
    /// The server refused the ClientHello itself with this alert (worth a
    /// second look with [`diagnose_refusal`]).
    pub refused_hello: Option<u8>,
    /// The analysis disagrees with the engine (a bug in espmqtt).
    pub inconsistencies: Vec<String>,
    /// The server's flight as parsed from the tap.
    pub flight: ServerFlight,
}

/// What the device itself sent, parsed from the tap.
#[derive(Debug, Clone, Default)]
struct ClientFlight {
    /// Extensions of the ClientHello `(type, body)`.
    extensions: Vec<(u16, Vec<u8>)>,
    /// Certificates in the device's Certificate message, if it sent one.
    certificates: Option<usize>,
}

fn client_flight(sent: &[u8]) -> ClientFlight {
    let mut out = ClientFlight::default();
    let mut rest = sent;
    let mut hs = Vec::new();
    while rest.len() >= 5 {
        let len = u16::from_be_bytes([rest[3], rest[4]]) as usize;
        let Some(body) = rest.get(5..5 + len) else {
            break;
        };
        match rest[0] {
            22 => hs.extend_from_slice(body),
            20 => break, // ChangeCipherSpec: the rest is encrypted
            _ => {}
        }
        rest = &rest[5 + len..];
    }
    let mut r = Reader::new(&hs);
    while let (Some(ty), Some(body)) = (r.u8(), r.vec24()) {
        match ty {
            1 => {
                let mut rec = vec![22, 3, 1];
                rec.extend_from_slice(&((body.len() + 4) as u16).to_be_bytes());
                rec.push(1);
                rec.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
                rec.extend_from_slice(body);
                out.extensions =
                    super::records::parse_client_hello_extensions(&rec).unwrap_or_default();
            }
            11 => {
                let n = super::records::parse_certificate(body)
                    .map(|c| c.len())
                    .unwrap_or(0);
                out.certificates = Some(n);
            }
            _ => {}
        }
    }
    out
}

impl ClientFlight {
    fn extension(&self, ty: u16) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(t, _)| *t == ty)
            .map(|(_, b)| b.as_slice())
    }

    fn server_name(&self) -> Option<String> {
        let b = self.extension(0x0000)?;
        let mut r = Reader::new(b);
        let mut list = Reader::new(r.vec16()?);
        list.u8()?;
        Some(String::from_utf8_lossy(list.vec16()?).into_owned())
    }

    fn mfl_code(&self) -> Option<u8> {
        self.extension(0x0001).and_then(|b| b.first().copied())
    }
}

/// Explain one handshake of the device's engine.
pub fn analyse(cfg: &DeviceTls, hs: &Handshake, tap: &Tap) -> Analysis {
    let (flight, parse_error) = FlightParser::parse_all(&tap.received);
    let sent = client_flight(&tap.sent);
    let mut a = Analysis {
        facts: base_facts(cfg, hs, &flight, &sent),
        ..Default::default()
    };
    let code = hs.error;

    // 1. Silence, or something that is not TLS.
    if tap.received.is_empty() {
        a.unreachable = true;
        a.findings.push(silent_peer(&hs.transport, code));
        return finish(a, cfg, hs, &flight);
    }
    if let Some(what) = classify_bytes(&tap.received) {
        a.unreachable = true;
        a.findings.push(
            Finding::new(
                Category::Connection,
                "not_tls",
                Severity::Fatal,
                format!(
                    "the server answered the device's TLS ClientHello with {}",
                    what.describe()
                ),
                "check the port: 8883 is MQTT over TLS, 1883 plain MQTT, 443/80 HTTP; point the \
                 device at the broker's TLS listener",
            )
            .tls_error(code),
        );
        return finish(a, cfg, hs, &flight);
    }

    // 2. No ServerHello: a refusal (alert), or a broken peer.
    if flight.server_hello.is_none() {
        if let Some((_, alert)) = flight.alert {
            a.refused_hello = Some(alert);
            a.findings.push(handshake_refused(alert, code, None));
        } else {
            a.unreachable = true;
            let (id, msg) = match (&parse_error, &hs.transport) {
                (Some(e), _) => (
                    "malformed_tls",
                    format!("the server's TLS answer is malformed: {e}"),
                ),
                (None, TransportEnd::Timeout) => (
                    "handshake_incomplete",
                    "the server's answer stopped before a complete ServerHello".to_string(),
                ),
                _ => (
                    "handshake_incomplete",
                    "the server closed the connection before a complete ServerHello".to_string(),
                ),
            };
            a.findings.push(
                Finding::new(
                    Category::Connection,
                    id,
                    Severity::Fatal,
                    msg,
                    "check that the port belongs to a TLS server; a proxy or load balancer may be \
                     mangling or cutting the stream",
                )
                .tls_error(code),
            );
        }
        return finish(a, cfg, hs, &flight);
    }

    // 3. A ServerHello arrived: TLS answered.
    predictions(&mut a, cfg, hs, &flight, &sent);
    mfln_honoured(&mut a, &flight, &sent);
    if hs.completed {
        notes_on_success(&mut a, cfg, &flight, &sent);
    } else {
        let f = explain_failure(cfg, hs, &flight, &sent, parse_error.is_some());
        if f.id == "handshake_incomplete" {
            a.unreachable = true;
        }
        a.findings.push(f);
    }
    finish(a, cfg, hs, &flight)
}

fn base_facts(cfg: &DeviceTls, hs: &Handshake, f: &ServerFlight, sent: &ClientFlight) -> TlsFacts {
    let mut facts = TlsFacts {
        versions_offered: if cfg.versions.0 == cfg.versions.1 {
            version_name(cfg.versions.0)
        } else {
            format!(
                "{}-{}",
                version_name(cfg.versions.0),
                version_name(cfg.versions.1).trim_start_matches("TLS ")
            )
        },
        buffers: cfg.buffers,
        server_name_sent: sent.server_name(),
        mfln_requested: sent.mfl_code().and_then(mfln_code_bytes).map(|v| v as u16),
        handshake_complete: hs.completed,
        fingerprint_used: hs.fingerprint_index.map(|i| i + 1),
        client_certificates_sent: sent.certificates,
        client_certificate_requested: f.certificate_request.is_some(),
        max_record_after_hello: f.max_record_after_hello,
        chain_length: f.certificates.len(),
        ..Default::default()
    };
    if let Some(sh) = &f.server_hello {
        facts.version = Some(version_name(sh.version));
        facts.cipher_suite = Some(suite_name(sh.cipher_suite));
        facts.cipher_suite_id = Some(sh.cipher_suite);
        if let Some(b) = sh.extension(0x0001) {
            facts.mfln_code_echoed = b.first().copied();
            facts.mfln_echoed = b
                .first()
                .and_then(|c| mfln_code_bytes(*c))
                .map(|v| v as u16);
        }
    }
    if let Some(ske) = &f.server_key_exchange {
        facts.curve = ske.named_curve.map(group_name);
        facts.signature_algorithm = ske.sig_alg.map(sigalg_name);
    }
    if let Some(leaf) = f.certificates.first() {
        facts.leaf_sha1 = Some(cert::colon_hex(&cert::sha1(leaf)));
        facts.leaf_key = explain::key_info(leaf);
    }
    facts
}

fn finish(mut a: Analysis, cfg: &DeviceTls, hs: &Handshake, flight: &ServerFlight) -> Analysis {
    if hs.completed && cfg.trust.mode == TrustMode::Ca {
        a.facts.trust_anchor = explain::anchor_used(&flight.certificates, cfg);
    }
    if !hs.rejected_anchors.is_empty() {
        a.findings.push(Finding::new(
            Category::Chain,
            "anchor_not_loadable",
            Severity::Warn,
            format!(
                "{} of the {} trust anchor certificate(s) cannot be loaded by BearSSL (X509List \
                 skips them on the device too)",
                hs.rejected_anchors.len(),
                cfg.trust.anchors.len()
            ),
            "use RSA or EC P-256/P-384/P-521 CA certificates as trust anchors",
        ));
    }
    if hs.client_key_rejected {
        a.findings.push(Finding::new(
            Category::Handshake,
            "client_key_not_loadable",
            Severity::Warn,
            "BearSSL cannot decode the client key (RSA or EC keys only, unencrypted); the device \
             connects without its client certificate",
            "issue the device's client certificate with an EC P-256 or RSA key \
             (`espmqtt device cert NAME`)",
        ));
    }
    a.flight = flight.clone();
    a
}

fn silent_peer(transport: &TransportEnd, code: i32) -> Finding {
    let (id, msg) = match transport {
        TransportEnd::Timeout => (
            "no_answer",
            "the server accepted the TCP connection but never answered the ClientHello".to_string(),
        ),
        TransportEnd::Failed(e) => (
            "closed_without_answer",
            format!(
                "the server dropped the connection without answering the ClientHello ({e}); a \
                 plain-MQTT listener such as port 1883 does this"
            ),
        ),
        _ => (
            "closed_without_answer",
            "the server closed the connection without answering the ClientHello (a plain-MQTT \
             listener such as port 1883 does this)"
                .to_string(),
        ),
    };
    Finding::new(
        Category::Connection,
        id,
        Severity::Fatal,
        msg,
        "check that this is the broker's TLS port (MQTT over TLS is usually 8883) and that \
         nothing (firewall, proxy) swallows the handshake",
    )
    .tls_error(code)
}

fn handshake_refused(alert: u8, code: i32, detail: Option<&str>) -> Finding {
    Finding::new(
        Category::Handshake,
        "handshake_refused",
        Severity::Fatal,
        format!(
            "the server refused the device's ClientHello with alert {alert} ({}){}",
            alert_name(alert),
            detail.map(|d| format!("; {d}")).unwrap_or_default()
        ),
        "look at the broker's log for the reason (protocol versions, cipher suites, certificate)",
    )
    .tls_error(code)
}

/// What the flight says the engine must have done; a mismatch is a bug.
fn predictions(
    a: &mut Analysis,
    cfg: &DeviceTls,
    hs: &Handshake,
    f: &ServerFlight,
    sent: &ClientFlight,
) {
    let Some(sh) = &f.server_hello else {
        return;
    };
    let mut predicted: Option<(i32, String)> = None;
    if !cfg.ciphers.suites().contains(&sh.cipher_suite) {
        predicted = Some((
            16,
            format!(
                "the server chose {}, not offered",
                suite_name(sh.cipher_suite)
            ),
        ));
    } else if let Some(b) = sh.extension(0x0001) {
        match sent.mfl_code() {
            Some(c) if b != [c] => {
                predicted = Some((
                    18,
                    format!(
                        "max_fragment_length echoed as {}, requested {c}",
                        mfln_answer(b)
                    ),
                ))
            }
            None => predicted = Some((20, "max_fragment_length echoed but not requested".into())),
            _ => {}
        }
    }
    if let Some((code, why)) = predicted {
        if hs.completed {
            a.inconsistencies.push(format!(
                "the flight shows a fatal condition ({why}, BearSSL error {code}) but the engine \
                 completed the handshake"
            ));
        }
    }
    if is_x509_error(hs.error) && !f.certificate_seen {
        a.inconsistencies.push(format!(
            "the engine reports certificate error {} but no Certificate message was tapped",
            hs.error
        ));
    }
    if (256..512).contains(&hs.error) {
        let alert = (hs.error - 256) as u8;
        if f.alert.is_some_and(|(_, d)| d != alert) {
            a.inconsistencies.push(format!(
                "the engine reports alert {alert} but the tapped plaintext alert is {}",
                f.alert
                    .map(|(_, d)| format!("{} ({d})", alert_name(d)))
                    .unwrap_or_else(|| "none".into())
            ));
        }
    }
}

/// The broker confirmed max_fragment_length and then sent bigger records.
fn mfln_honoured(a: &mut Analysis, f: &ServerFlight, sent: &ClientFlight) {
    let (Some(code), Some(sh)) = (sent.mfl_code(), &f.server_hello) else {
        return;
    };
    let requested = mfln_code_bytes(code).unwrap_or(512);
    // Encrypted records carry up to 320 B of IV, MAC and padding on top.
    let biggest = f
        .max_plain_after_hello
        .max(f.max_encrypted_record.saturating_sub(320));
    if sh.extension(0x0001).is_some() && biggest > requested {
        a.findings.push(Finding::new(
            Category::Handshake,
            "mfln_not_honoured",
            Severity::Warn,
            format!(
                "the broker confirmed max_fragment_length {requested} B but then sent a {} B \
                 record; BearSSL takes oversized records during the handshake, but an encrypted \
                 one that big fails with error 6",
                f.max_plain_after_hello.max(f.max_encrypted_record)
            ),
            "fix the broker's MFLN support, or use 16 KB receive buffers on the device",
        ));
    }
}

/// Warnings and notes when the device's handshake succeeded.
fn notes_on_success(a: &mut Analysis, cfg: &DeviceTls, f: &ServerFlight, sent: &ClientFlight) {
    let Some(sh) = &f.server_hello else {
        return;
    };
    if sh.version < 0x0303 {
        a.findings.push(Finding::new(
            Category::Handshake,
            "old_tls_version",
            Severity::Warn,
            format!(
                "the broker speaks {} only; the device connects, but TLS 1.0/1.1 are deprecated",
                version_name(sh.version)
            ),
            "enable TLS 1.2 on the broker (mosquitto: tls_version tlsv1.2)",
        ));
    }
    if let Some(code) = sent.mfl_code() {
        let requested = mfln_code_bytes(code).unwrap_or(512);
        if sh.extension(0x0001).is_none() {
            let rx = cfg.buffers.0.clamp(512, 16384) as usize;
            let msg = if rx < 16384 {
                format!(
                    "the broker ignores max_fragment_length {requested}: it may send records of up \
                     to 16 KB, and the device's {} B receive buffer takes records of {rx} B at \
                     most (BearSSL error 6 on a bigger one)",
                    rx + 325
                )
            } else {
                format!(
                    "the broker ignores max_fragment_length {requested}: it may send records of up \
                     to 16 KB, so the device needs its {} B receive buffer as one contiguous block",
                    rx + 325
                )
            };
            a.findings.push(Finding::new(
                Category::Handshake,
                "mfln_not_echoed",
                Severity::Warn,
                msg,
                "keep the receive buffer at 16 KB (setBufferSizes(16384, 512), [tls] mfln = \
                 16384) for this broker, or use a broker that supports MFLN (mosquitto with \
                 OpenSSL 1.1.0 or newer)",
            ));
        }
        if f.hello_shares_record {
            a.findings.push(Finding::new(
                Category::Handshake,
                "hello_shares_record",
                Severity::Info,
                "the broker packs the ServerHello together with other messages in one record; the \
                 core's probeMaxFragmentLength() then returns false even though MFLN works",
                "do not rely on probeMaxFragmentLength() for this broker; use this result instead",
            ));
        }
    }
    if let Some(cr) = &f.certificate_request {
        let _ = cr;
        if cfg.client.is_none() || sent.certificates == Some(0) {
            a.findings.push(Finding::new(
                Category::Handshake,
                "client_certificate_optional",
                Severity::Info,
                "the broker asks for a client certificate; the device sent an empty certificate \
                 list and the broker accepted the connection without one",
                "none needed (give the device a certificate if the broker should authenticate it: \
                 `espmqtt device cert NAME`)",
            ));
        }
    }
    match cfg.trust.mode {
        TrustMode::Insecure => a.findings.push(Finding::new(
            Category::Chain,
            "insecure_mode",
            Severity::Warn,
            "trust mode `insecure`: the device accepts any certificate, so anyone on the path can \
             impersonate the broker",
            "use `ca` (survives renewals) or `pubkey` mode",
        )),
        TrustMode::Fingerprint => {
            if let Some(leaf) = f.certificates.first() {
                let now = cert::unix_now();
                let s = cert::summarize(0, leaf, now);
                a.findings.push(Finding::new(
                    Category::Chain,
                    "fingerprint_renewal",
                    Severity::Warn,
                    cert::fingerprint_renewal_message(&s),
                    if cfg.trust.fingerprints.len() >= 2 {
                        "before each renewal put the next certificate's SHA-1 second; once the \
                         broker serves it, make it the first; or move to `ca` or `pubkey` mode"
                    } else {
                        "configure the next certificate's fingerprint as the second one before \
                         the renewal, or move to `ca` or `pubkey` mode"
                    },
                ));
                if a.facts.fingerprint_used == Some(2) {
                    a.findings.push(second_fingerprint_used(&s.sha1));
                }
            }
        }
        _ => {}
    }
}

/// The device connected with its second fingerprint: the first is stale
/// (typically the certificate was renewed to the one configured second).
fn second_fingerprint_used(current: &str) -> Finding {
    Finding::new(
        Category::Chain,
        "first_fingerprint_stale",
        Severity::Warn,
        "the first configured fingerprint does not match the broker's certificate; the device \
         connects with the second one only after a failed handshake (error 62 with fingerprint \
         #1, then a new connection), at every connection",
        format!(
            "make the current SHA-1 the first fingerprint: `fingerprints = [\"{current}\"]` in \
             espmqtt.toml [tls] (then write the config: `espmqtt flash --device NAME \
             --config-only` or `espmqtt device push NAME`), and add the next certificate's as \
             the second before the next renewal"
        ),
    )
}

/// One fatal finding that explains the engine's error (never another one).
fn explain_failure(
    cfg: &DeviceTls,
    hs: &Handshake,
    f: &ServerFlight,
    sent: &ClientFlight,
    parse_error: bool,
) -> Finding {
    let code = hs.error;
    if is_x509_error(code)
        || (code == 1 && matches!(cfg.trust.mode, TrustMode::Fingerprint | TrustMode::Insecure))
    {
        let e = explain::x509(code, &f.certificates, cfg);
        return Finding::new(Category::Chain, e.id, Severity::Fatal, e.message, e.fix)
            .tls_error(code);
    }
    let suite = f.suite().unwrap_or(0);
    let kx = key_exchange(suite);
    let leaf_spki = f.certificates.first().and_then(|l| cert::spki_der(l).ok());
    let pin_differs = cfg.trust.mode == TrustMode::Pubkey
        && leaf_spki.is_some()
        && leaf_spki != cfg.trust.pubkey_spki;
    if pin_differs && matches!(code, 27 | 28)
        || pin_differs && (256..512).contains(&code) && kx == KeyExchange::Rsa
    {
        return pubkey_mismatch(cfg, leaf_spki.as_deref(), code);
    }
    let leaf_key = f.certificates.first().and_then(|l| explain::key_info(l));
    match code {
        c if (256..512).contains(&c) => alert_after_hello((c - 256) as u8, c, cfg, f, sent),
        3 | 4 | 16 | 17 | 18 | 20 => server_hello_rejected(code, cfg, f, sent),
        23 => Finding::new(
            Category::Chain,
            "rsa_key_too_large",
            Severity::Fatal,
            format!(
                "the server key is {}; BearSSL handles RSA keys of at most 4096 bits",
                leaf_key
                    .as_ref()
                    .map(KeyInfo::describe)
                    .unwrap_or_else(|| "too large".into())
            ),
            "use an RSA key of 2048-4096 bits or an EC P-256 key",
        )
        .tls_error(code),
        26 => invalid_algorithm(code, cfg, f),
        27 => Finding::new(
            Category::Handshake,
            "bad_server_signature",
            Severity::Fatal,
            "the broker's key-exchange signature does not verify with its certificate key",
            "check that the broker's key file belongs to its certificate",
        )
        .tls_error(code),
        28 => wrong_key_usage(code, cfg, f, kx, leaf_key),
        6 => Finding::new(
            Category::Handshake,
            "record_too_large",
            Severity::Fatal,
            format!(
                "the broker sent a {} B record; the device's receive buffer ({} B) takes {} B at \
                 most",
                f.max_record_after_hello.max(f.max_encrypted_record),
                cfg.buffers.0.clamp(512, 16384) as usize + 325,
                cfg.buffers.0.clamp(512, 16384)
            ),
            "use a broker that honours max_fragment_length, or 16 KB receive buffers on the device",
        )
        .tls_error(code),
        ERR_IO => transport_ended(code, hs, f, sent),
        _ => other_error(code, f, parse_error),
    }
}

/// The engine refused the ServerHello itself (version, suite, compression,
/// max_fragment_length echo, an extension it did not offer).
/// The broker's version `v` (what it chose, or what it picks from a hello
/// that offers up to TLS 1.2) is outside the device's range: below it, the
/// broker must allow TLS 1.2; above it, the device's range must include it.
fn version_out_of_range(v: u16, code: i32, cfg: &DeviceTls) -> Finding {
    let (message, fix) = if v > cfg.versions.1 {
        (
            format!(
                "the broker requires {} or newer; the device enables only {}",
                version_name(v),
                base_versions(cfg)
            ),
            format!(
                "let the device use {0}: setSSLVersion(…, BR_TLS12) in a sketch, the default \
                 range with the espmqtt firmware (here: --tls-versions 1.0-1.2)",
                version_name(v)
            ),
        )
    } else {
        (
            format!(
                "the broker speaks {} at most, below the device's versions ({})",
                version_name(v),
                base_versions(cfg)
            ),
            format!(
                "enable TLS 1.2 on the broker (mosquitto: `tls_version tlsv1.2`), or let the \
                 device accept {} (setSSLVersion(); here --tls-versions)",
                version_name(v)
            ),
        )
    };
    Finding::new(
        Category::Handshake,
        "version_out_of_range",
        Severity::Fatal,
        message,
        fix,
    )
    .tls_error(code)
}

fn server_hello_rejected(
    code: i32,
    cfg: &DeviceTls,
    f: &ServerFlight,
    sent: &ClientFlight,
) -> Finding {
    let suite = f.suite().unwrap_or(0);
    match code {
        3 | 4 => version_out_of_range(f.version().unwrap_or(0), code, cfg),
        16 => Finding::new(
            Category::Handshake,
            "suite_not_offered",
            Severity::Fatal,
            format!(
                "the broker chose {}, which the device did not offer",
                suite_name(suite)
            ),
            "the broker violates TLS; configure it with one of the device's suites",
        )
        .tls_error(code),
        17 => Finding::new(
            Category::Handshake,
            "compression",
            Severity::Fatal,
            "the broker chose TLS compression",
            "disable TLS compression on the broker",
        )
        .tls_error(code),
        18 => Finding::new(
            Category::Handshake,
            "mfln_mismatch",
            Severity::Fatal,
            format!(
                "the device asked for max_fragment_length {} and the broker answered {}",
                sent.mfl_code()
                    .and_then(mfln_code_bytes)
                    .map(|v| format!("{v} B"))
                    .unwrap_or_else(|| "(none)".into()),
                f.server_hello
                    .as_ref()
                    .and_then(|sh| sh.extension(0x0001))
                    .map(mfln_answer)
                    .unwrap_or_else(|| "nothing".into())
            ),
            "use a broker that echoes the requested value, or 16 KB buffers on the device \
             (--mfln off)",
        )
        .tls_error(code),
        _ => Finding::new(
            Category::Handshake,
            "extra_extension",
            Severity::Fatal,
            "the ServerHello carries an extension the device did not offer; BearSSL aborts on that",
            "the broker violates TLS; update it",
        )
        .tls_error(code),
    }
}

/// The connection ended under the waiting engine (`BR_ERR_IO`).
fn transport_ended(code: i32, hs: &Handshake, f: &ServerFlight, sent: &ClientFlight) -> Finding {
    match code {
        ERR_IO if !f.hello_done => Finding::new(
            Category::Handshake,
            "handshake_incomplete",
            Severity::Fatal,
            match hs.transport {
                TransportEnd::Timeout => {
                    "the broker stopped sending after the ServerHello, before \
                                          ServerHelloDone"
                        .to_string()
                }
                _ => "the broker closed the connection after the ServerHello, before \
                      ServerHelloDone"
                    .to_string(),
            },
            "look at the broker's log for the TLS error; a proxy may be cutting the connection",
        )
        .tls_error(code),
        _ => {
            if f.certificate_request.is_some() && sent.certificates.unwrap_or(0) == 0 {
                client_certificate_required(code, None, f)
            } else {
                Finding::new(
                    Category::Handshake,
                    "closed_during_handshake",
                    Severity::Fatal,
                    format!(
                        "the broker {} after the device sent its key exchange, without an alert",
                        if hs.transport == TransportEnd::Timeout {
                            "stopped answering"
                        } else {
                            "closed the connection"
                        }
                    ),
                    "look at the broker's log for the reason",
                )
                .tls_error(code)
            }
        }
    }
}

/// Any other engine error: a malformed flight, or BearSSL's own words.
fn other_error(code: i32, f: &ServerFlight, parse_error: bool) -> Finding {
    let suite = f.suite().unwrap_or(0);
    match code {
        _ if parse_error => Finding::new(
            Category::Handshake,
            "malformed_tls",
            Severity::Fatal,
            format!(
                "the broker's handshake is malformed ({})",
                bearssl_error_name(code)
            ),
            "check that the port belongs to a TLS server; a proxy may be mangling the stream",
        )
        .tls_error(code),
        _ => Finding::new(
            Category::Handshake,
            "tls_error",
            Severity::Fatal,
            format!(
                "BearSSL stopped the handshake with error {code} ({}) after the broker chose {} \
                 with {}",
                bearssl_error_name(code),
                f.version().map(version_name).unwrap_or_default(),
                suite_name(suite)
            ),
            "look at the broker's log and TLS configuration",
        )
        .tls_error(code),
    }
}

fn base_versions(cfg: &DeviceTls) -> String {
    format!(
        "{} to {}",
        version_name(cfg.versions.0),
        version_name(cfg.versions.1)
    )
}

fn pubkey_mismatch(cfg: &DeviceTls, leaf_spki: Option<&[u8]>, code: i32) -> Finding {
    let pinned = cfg
        .trust
        .pubkey_spki
        .as_deref()
        .and_then(explain::spki_key_info)
        .map(|k| k.describe())
        .unwrap_or_else(|| "?".into());
    let served = leaf_spki
        .and_then(explain::spki_key_info)
        .map(|k| k.describe())
        .unwrap_or_else(|| "?".into());
    Finding::new(
        Category::Chain,
        "pubkey_mismatch",
        Severity::Fatal,
        format!(
            "the broker's certificate key ({served}) differs from the pinned key ({pinned}); the \
             device rejects the broker's key exchange"
        ),
        "pin the broker's current public key (`espmqtt fingerprint HOST:PORT --emit arduino` \
         prints it as the `setKnownKey` block; --pubkey-file takes the certificate or that PEM), \
         or keep the key when renewing the certificate (certbot --reuse-key)",
    )
    .tls_error(code)
}

fn invalid_algorithm(code: i32, cfg: &DeviceTls, f: &ServerFlight) -> Finding {
    if let Some(ske) = &f.server_key_exchange {
        if ske.explicit_curve || ske.named_curve.is_some_and(|c| !DEVICE_GROUPS.contains(&c)) {
            return Finding::new(
                Category::Handshake,
                "unsupported_curve",
                Severity::Fatal,
                format!(
                    "the broker uses the ECDHE curve {}, which the device does not support \
                     (x25519, P-256, P-384, P-521)",
                    ske.named_curve
                        .map(group_name)
                        .unwrap_or_else(|| "with explicit parameters".into())
                ),
                "allow x25519 or P-256 for key exchange on the broker",
            )
            .tls_error(code);
        }
        if let Some(sig) = ske.sig_alg.filter(|s| !DEVICE_SIGALGS.contains(s)) {
            return Finding::new(
                Category::Handshake,
                "unsupported_signature_algorithm",
                Severity::Fatal,
                format!(
                    "the broker signs its key exchange with {}, which the device did not offer \
                     (no RSA-PSS, no EdDSA)",
                    sigalg_name(sig)
                ),
                "configure the broker's signature algorithms to include rsa_pkcs1_sha256 / \
                 ecdsa_secp256r1_sha256",
            )
            .tls_error(code);
        }
    }
    let _ = cfg;
    Finding::new(
        Category::Handshake,
        "unsupported_algorithm",
        Severity::Fatal,
        "the broker uses a key-exchange curve, signature or hash the device does not support",
        "allow x25519/P-256 and PKCS#1 v1.5 or ECDSA signatures on the broker",
    )
    .tls_error(code)
}

fn wrong_key_usage(
    code: i32,
    cfg: &DeviceTls,
    f: &ServerFlight,
    kx: KeyExchange,
    leaf_key: Option<KeyInfo>,
) -> Finding {
    if leaf_key.is_none() && !f.certificates.is_empty() {
        return Finding::new(
            Category::Chain,
            "certificate_unparsable",
            Severity::Fatal,
            format!(
                "the server's certificate does not decode; in {} mode the device does not check                  that, and then has no usable key for {}",
                cfg.trust.mode,
                suite_name(f.suite().unwrap_or(0))
            ),
            "serve a well-formed X.509 certificate",
        )
        .tls_error(code);
    }
    if let Some(k) = leaf_key.as_ref().filter(|k| !k.device_supported()) {
        return Finding::new(
            Category::Chain,
            "unsupported_key_type",
            Severity::Fatal,
            format!(
                "the server certificate has a {} key, which BearSSL cannot use (RSA up to 4096 \
                 bits and EC P-256/P-384/P-521 only)",
                k.describe()
            ),
            "issue the broker certificate with an RSA-2048 or EC P-256 key",
        )
        .tls_error(code);
    }
    let needs_sign = matches!(kx, KeyExchange::EcdheEcdsa | KeyExchange::EcdheRsa);
    if cfg.trust.mode == TrustMode::Ca {
        if let Some((keyx, sign)) = f.certificates.first().and_then(|l| explain::leaf_usages(l)) {
            if (needs_sign && !sign) || (!needs_sign && !keyx) {
                return Finding::new(
                    Category::Chain,
                    "leaf_key_usage",
                    Severity::Fatal,
                    format!(
                        "the server certificate's keyUsage does not allow {}, which {} needs",
                        if needs_sign {
                            "digitalSignature"
                        } else {
                            "keyEncipherment/keyAgreement"
                        },
                        suite_name(f.suite().unwrap_or(0))
                    ),
                    "reissue the certificate with keyUsage digitalSignature (ECDHE suites) and \
                     keyEncipherment (RSA key exchange)",
                )
                .tls_error(code);
            }
        }
    }
    Finding::new(
        Category::Chain,
        "key_not_usable",
        Severity::Fatal,
        format!(
            "the server's {} key cannot serve {}",
            leaf_key
                .map(|k| k.describe())
                .unwrap_or_else(|| "certificate".into()),
            suite_name(f.suite().unwrap_or(0))
        ),
        "check the broker's certificate key against its cipher configuration",
    )
    .tls_error(code)
}

fn client_certificate_required(code: i32, alert: Option<u8>, f: &ServerFlight) -> Finding {
    Finding::new(
        Category::Handshake,
        "client_certificate_required",
        Severity::Fatal,
        format!(
            "the broker requires a client certificate{} and the device has none: it sends an \
             empty certificate list{}",
            f.certificate_request
                .as_ref()
                .map(|cr| format!(" (it lists {} acceptable CA name(s))", cr.ca_names))
                .unwrap_or_default(),
            alert
                .map(|a| format!(
                    ", which the broker answers with alert {a} ({})",
                    alert_name(a)
                ))
                .unwrap_or_default()
        ),
        "give the device a client certificate signed by the broker's CA (`espmqtt device cert \
         NAME`, then flash its config), or set `require_certificate false` on the broker",
    )
    .tls_error(code)
}

fn alert_after_hello(
    alert: u8,
    code: i32,
    cfg: &DeviceTls,
    f: &ServerFlight,
    sent: &ClientFlight,
) -> Finding {
    if f.certificate_request.is_some() {
        match sent.certificates {
            Some(n) if n > 0 && alert == 51 => {
                // decrypt_error right after the device's Certificate and
                // CertificateVerify: the broker could not verify that
                // signature with the certificate's key.
                return Finding::new(
                    Category::Handshake,
                    "client_key_mismatch",
                    Severity::Fatal,
                    "the broker could not verify the device's proof of its client key (alert 51 \
                     decrypt_error after the device's CertificateVerify): the private key does \
                     not belong to the client certificate",
                    "give the device the key of its certificate (`espmqtt device cert NAME` \
                     issues a matching pair); `openssl x509 -noout -pubkey -in CERT` and \
                     `openssl pkey -pubout -in KEY` must print the same public key",
                )
                .tls_error(code);
            }
            Some(n) if n > 0 => {
                let why = match alert {
                    48 => "it does not know the CA that issued the device's certificate",
                    45 => "the device's certificate has expired",
                    44 => "the device's certificate is revoked",
                    42 | 43 | 46 => "it does not accept the device's certificate",
                    _ => "it refuses the device's certificate",
                };
                return Finding::new(
                    Category::Handshake,
                    "client_certificate_rejected",
                    Severity::Fatal,
                    format!(
                        "the broker rejects the device's client certificate: {why} (alert {alert} \
                         {})",
                        alert_name(alert)
                    ),
                    "sign the device certificate with the CA the broker trusts (mosquitto: cafile \
                     of the listener), or give the broker the CA that issued it",
                )
                .tls_error(code);
            }
            _ => return client_certificate_required(code, Some(alert), f),
        }
    }
    let _ = cfg;
    Finding::new(
        Category::Handshake,
        "handshake_aborted",
        Severity::Fatal,
        format!(
            "the broker aborted the handshake with alert {alert} ({}) after choosing {}",
            alert_name(alert),
            suite_name(f.suite().unwrap_or(0))
        ),
        "look at the broker's log for the reason",
    )
    .tls_error(code)
}

/// What a second look at a refused ClientHello found.
#[derive(Debug, Clone, Default)]
pub struct Diagnosis {
    /// The server's answer to the wide diagnostic hello at TLS 1.2.
    pub wide: Option<ServerFlight>,
    /// The server completes a TLS 1.3 handshake.
    pub tls13: bool,
}

/// Ask the server again, with a hello that offers much more than the
/// device (and, when it refuses that too, with TLS 1.3), to learn why it
/// refused the device. Bounded by `deadline`.
pub fn diagnose_refusal(addrs: &[SocketAddr], cfg: &DeviceTls, deadline: Instant) -> Diagnosis {
    let hello = diagnostic_record(cfg.server_name.as_deref(), 0x0303);
    let wide = net::exchange_hello(addrs, &hello, deadline)
        .filter(|(f, end)| *end == FlightEnd::Complete && f.server_hello.is_some())
        .map(|(f, _)| f);
    let tls13 = wide.is_none()
        && super::capture::accepts_tls13(addrs, cfg.server_name.as_deref(), deadline);
    Diagnosis { wide, tls13 }
}

/// The server refused the wide diagnostic hello too: TLS 1.3 only, an
/// unknown server name, or a refusal with no further clue.
fn refused_everything(alert: u8, code: i32, d: &Diagnosis, cfg: &DeviceTls) -> Vec<Finding> {
    if d.tls13 {
        return vec![Finding::new(
            Category::Handshake,
            "tls13_only",
            Severity::Fatal,
            format!(
                "{} (it refused the device's TLS {} hello with alert {alert} {})",
                super::names::tls13_only_message(),
                if cfg.versions.0 == cfg.versions.1 {
                    version_name(cfg.versions.1)
                        .trim_start_matches("TLS ")
                        .to_string()
                } else {
                    format!(
                        "{}-{}",
                        version_name(cfg.versions.0).trim_start_matches("TLS "),
                        version_name(cfg.versions.1).trim_start_matches("TLS ")
                    )
                },
                alert_name(alert)
            ),
            super::names::tls13_only_fix(),
        )
        .tls_error(code)];
    }
    let detail = if alert == 112 {
        Some(format!(
            "the broker does not know the name {:?} the device sends as SNI",
            cfg.server_name.clone().unwrap_or_default()
        ))
    } else {
        Some("it also refused a much wider TLS 1.2 hello and TLS 1.3".to_string())
    };
    let mut f = handshake_refused(alert, code, detail.as_deref());
    if alert == 112 {
        f.id = "unrecognized_name".into();
        f.fix = "connect by the name the broker serves (probe --servername NAME tries one)".into();
    }
    vec![f]
}

/// Replace the generic refusal finding by the reason found.
pub fn explain_refusal(alert: u8, code: i32, d: &Diagnosis, cfg: &DeviceTls) -> Vec<Finding> {
    let Some(wide) = &d.wide else {
        return refused_everything(alert, code, d, cfg);
    };
    let mut out = Vec::new();
    let suite = wide.suite().unwrap_or(0);
    let device_suites = cfg.ciphers.suites();
    if let Some(v) = wide
        .version()
        .filter(|v| *v < cfg.versions.0 || *v > cfg.versions.1)
    {
        out.push(version_out_of_range(v, code, cfg));
    }
    let leaf_key = wide.certificates.first().and_then(|l| explain::key_info(l));
    if let Some(k) = leaf_key
        .as_ref()
        .filter(|k| !k.device_supported() && k.kind == "ec")
    {
        out.push(
            Finding::new(
                Category::Chain,
                "unsupported_curve",
                Severity::Fatal,
                format!(
                    "the broker's certificate key is on the curve {}, which BearSSL does not \
                     implement (P-256, P-384 and P-521 only); the broker finds no suite the \
                     device can use with it",
                    k.curve.as_deref().unwrap_or("(unnamed)")
                ),
                "issue the broker certificate with an EC P-256 or RSA-2048 key",
            )
            .tls_error(code),
        );
    } else if let Some(k) = leaf_key.as_ref().filter(|k| !k.device_supported()) {
        out.push(
            Finding::new(
                Category::Chain,
                "unsupported_key_type",
                Severity::Fatal,
                format!(
                    "the broker's certificate has a {} key, which BearSSL cannot use (RSA up to \
                     4096 bits and EC P-256/P-384/P-521 only); it refuses every suite the device \
                     offers",
                    k.describe()
                ),
                "issue the broker certificate with an RSA-2048 or EC P-256 key",
            )
            .tls_error(code),
        );
    }
    if out.is_empty() && !device_suites.contains(&suite) {
        out.push(no_common_suite(code, cfg, suite, leaf_key.as_ref()));
    }
    if out.is_empty() {
        if let Some(ske) = &wide.server_key_exchange {
            if let Some(sig) = ske.sig_alg.filter(|s| !DEVICE_SIGALGS.contains(s)) {
                out.push(
                    Finding::new(
                        Category::Handshake,
                        "unsupported_signature_algorithm",
                        Severity::Fatal,
                        format!(
                            "the broker insists on signing with {}, which the device does not \
                             support",
                            sigalg_name(sig)
                        ),
                        "allow PKCS#1 v1.5 RSA or ECDSA signatures on the broker",
                    )
                    .tls_error(code),
                );
            } else if let Some(c) = ske.named_curve.filter(|c| !DEVICE_GROUPS.contains(c)) {
                out.push(
                    Finding::new(
                        Category::Handshake,
                        "unsupported_curve",
                        Severity::Fatal,
                        format!(
                            "the broker insists on the ECDHE group {}, which the device does not \
                             support",
                            group_name(c)
                        ),
                        "allow x25519 or P-256 on the broker (mosquitto: `ecdh_curve`)",
                    )
                    .tls_error(code),
                );
            }
        }
    }
    if out.is_empty() {
        out.push(handshake_refused(
            alert,
            code,
            Some(&format!(
                "offered a wider hello, it picks {}",
                suite_name(suite)
            )),
        ));
    }
    // Exactly one finding carries the engine's error; the rest are context.
    for f in out.iter_mut().skip(1) {
        f.severity = Severity::Warn;
        f.bearssl_error = None;
        f.pubsubclient_state = None;
        f.device_error = None;
    }
    out
}

fn no_common_suite(code: i32, cfg: &DeviceTls, suite: u16, leaf_key: Option<&KeyInfo>) -> Finding {
    let dhe = key_exchange(suite) == KeyExchange::Dhe;
    let (message, fix) = match cfg.ciphers {
        CipherBuild::Basic => {
            let ec_leaf = leaf_key.is_some_and(|k| k.kind == "ec");
            (
                format!(
                    "no cipher suite in common: the device's basic cipher build offers only the \
                     four RSA key-exchange suites AES128-SHA256, AES256-SHA256, AES128-SHA and \
                     AES256-SHA, and the broker accepts none of them (offered more, it picks {}{})",
                    suite_name(suite),
                    if ec_leaf {
                        "; its certificate has an EC key, which those suites cannot use"
                    } else {
                        ""
                    }
                ),
                if ec_leaf {
                    "build the firmware with all ciphers (SSL Support: All SSL ciphers, [tls] \
                     ciphers = \"all\"), or give the broker an RSA certificate and allow \
                     AES128-SHA256 on it"
                        .to_string()
                } else {
                    "allow AES128-SHA256 (or AES128-SHA) on the broker (mosquitto: `ciphers \
                     AES128-SHA256:AES128-SHA`), or build the firmware with all ciphers ([tls] \
                     ciphers = \"all\")"
                        .to_string()
                },
            )
        }
        CipherBuild::All => (
            format!(
                "no cipher suite in common: the broker refuses all {} suites the device offers; \
                 offered more, it picks {}{}",
                cfg.ciphers.suites().len(),
                suite_name(suite),
                if dhe {
                    " (DHE, which BearSSL does not implement)"
                } else {
                    ""
                }
            ),
            "allow a suite the device offers on the broker, e.g. `ciphers \
             ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-GCM-SHA256` (mosquitto listener \
             option)"
                .to_string(),
        ),
    };
    Finding::new(
        Category::Handshake,
        "no_common_suite",
        Severity::Fatal,
        message,
        fix,
    )
    .tls_error(code)
}

/// Heap the TLS connection takes on the device.
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

/// Estimate from the device's buffers and trust mode (docs/PROBE.md).
pub fn heap_estimate(buffers: (u16, u16), mode: TrustMode) -> HeapEstimate {
    let receive_buffer = buffers.0.clamp(512, 16384) as usize + 325;
    let transmit_buffer = buffers.1.clamp(512, 16384) as usize + 85;
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
    Finding::new(
        Category::Handshake,
        "heap_estimate",
        if warn { Severity::Warn } else { Severity::Info },
        format!(
            "the TLS connection needs about {} B of heap ({} B second stack, {} B receive buffer \
             as one contiguous block, {} B transmit buffer, {} B SSL context, {} B X.509 context \
             during the handshake) of a typical 40 KB free heap",
            h.total, h.stack, h.receive_buffer, h.transmit_buffer, h.ssl_context, h.x509_context
        ),
        if warn {
            "keep the application's heap use low, or use a broker that honours MFLN so the \
             receive buffer can shrink"
        } else {
            "none needed"
        },
    )
}

/// A max_fragment_length extension body as the broker sent it: the size
/// its code stands for, or the bytes when they are not one code.
fn mfln_answer(body: &[u8]) -> String {
    match body {
        [code] => match mfln_code_bytes(*code) {
            Some(n) => format!("{n} B (code {code})"),
            None => format!("the undefined code {code}"),
        },
        other => format!(
            "{} bytes ({})",
            other.len(),
            other
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_follows_the_buffers() {
        assert_eq!(
            heap_estimate((16384, 512), TrustMode::Ca).receive_buffer,
            16709
        );
        assert_eq!(heap_estimate((512, 512), TrustMode::Ca).receive_buffer, 837);
    }

    #[test]
    fn device_text_names_alerts_and_states() {
        let t = device_text(Some(256 + 48), Some(-2));
        assert!(t.contains("unknown_ca") && t.contains("returns 48") && t.contains("rc=-2"));
        assert!(device_text(Some(62), None).contains("BR_ERR_X509_NOT_TRUSTED"));
    }

    /// BearSSL judged a ServerHello before its record was complete (the
    /// server's bytes reached it one at a time); the analysis then saw no
    /// ServerHello and blamed a closed connection. The tap now holds the
    /// rest of the record, and the finding names the real cause.
    #[test]
    fn error_in_the_middle_of_a_record_is_explained_from_the_whole_record() {
        use super::super::engine::handshake_offline;
        // ServerHello: TLS 1.2, ECDHE-RSA-AES128-GCM, renegotiation_info,
        // max_fragment_length 4096 where the device asked for 512, then
        // ec_point_formats (after the byte BearSSL stops at).
        let ext = [0xff, 0x01, 0, 1, 0, 0, 1, 0, 1, 4, 0, 0x0b, 0, 2, 1, 0];
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0xc0, 0x2f, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut rec = vec![22, 3, 3, 0, body.len() as u8 + 4, 2, 0, 0, body.len() as u8];
        rec.extend_from_slice(&body);
        let cfg = DeviceTls {
            ciphers: CipherBuild::All,
            versions: (0x0301, 0x0303),
            buffers: (512, 512),
            trust: super::super::engine::DeviceTrust {
                mode: TrustMode::Insecure,
                ..Default::default()
            },
            client: None,
            server_name: Some("broker.example".into()),
        };
        let (hs, tap) = handshake_offline(&cfg, &rec, 1).unwrap();
        assert_eq!(hs.error, 18);
        assert_eq!(tap.received, rec);
        let a = analyse(&cfg, &hs, &tap);
        assert!(a.inconsistencies.is_empty(), "{:?}", a.inconsistencies);
        let ids: Vec<&str> = a.findings.iter().map(|f| f.id.as_str()).collect();
        assert!(ids.contains(&"mfln_mismatch"), "{ids:?}");
    }

    #[test]
    fn client_flight_reads_our_hello() {
        // A ClientHello record with SNI "a" and MFL code 1.
        let sni = [0, 4, 0, 0, 1, b'a'];
        let mut ext = vec![0, 0, 0, sni.len() as u8];
        ext.extend_from_slice(&sni);
        ext.extend_from_slice(&[0, 1, 0, 1, 1]);
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 2, 0xc0, 0x2f, 1, 0]);
        body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
        body.extend_from_slice(&ext);
        let mut hs = vec![1, 0];
        hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
        hs.extend_from_slice(&body);
        let mut rec = vec![22, 3, 1];
        rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
        rec.extend_from_slice(&hs);
        let c = client_flight(&rec);
        assert_eq!(c.server_name().as_deref(), Some("a"));
        assert_eq!(c.mfl_code(), Some(1));
    }
}
