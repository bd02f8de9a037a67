//! `probe` end to end: resolve → TCP → the device's own handshake (raw
//! ClientHello, flight parsed here) → verification as the device does it →
//! a real TLS 1.2 + MQTT 3.1.1 session with the device's credentials.
//! Each phase is timed; the result is one [`ProbeReport`] value that the
//! CLI renders as text or JSON (DESIGN §4.6).
//!
//! A single absolute deadline (`--timeout`) bounds the whole run, so a
//! silent or hostile peer cannot make the probe hang.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::progress::Progress;
use crate::tls::clienthello::{diagnostic_record, CipherBuild, DeviceHello, Mfln};
use crate::tls::compat::{self, Finding, Severity, TlsFacts};
use crate::tls::device_trust::DeviceTrust;
use crate::tls::handshake::{self, FlightEnd};
use crate::tls::TrustMode;

use super::session::{self, SessionError, SessionOutcome, SessionParams};

/// Everything a probe needs (already resolved from flags / registry / config).
pub struct ProbeOptions {
    pub host: String,
    pub port: u16,
    /// Name given to `connect()` on the device (SNI + name check); `None`
    /// when the device connects by IP.
    pub server_name: Option<String>,
    pub trust: DeviceTrust,
    pub ciphers: CipherBuild,
    pub mfln: Mfln,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub topic_prefix: String,
    pub client_auth: Option<(
        Vec<rustls::pki_types::CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    )>,
    pub timeout: Duration,
    /// Name of the trust-anchor source for the report ("ca.pem", "system roots").
    pub anchor_source: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Fail,
    Unreachable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PhaseStatus {
    Ok,
    Warn,
    Fail,
    Skipped,
}

/// One timed phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub status: PhaseStatus,
    pub millis: u64,
    pub detail: String,
}

/// The report of one probe.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ProbeReport {
    pub r#type: String,
    pub target: String,
    pub host: String,
    pub port: u16,
    pub server_name: Option<String>,
    pub trust: TrustMode,
    pub ciphers: CipherBuild,
    pub mfln: Mfln,
    pub client_id: String,
    pub verdict: Verdict,
    pub exit_code: u8,
    pub phases: Vec<Phase>,
    pub findings: Vec<Finding>,
    pub tls: TlsFacts,
    /// The BearSSL error the device would report (0 = connects).
    pub device_tls_error: Option<u16>,
    pub mqtt: Option<SessionOutcome>,
    pub heap: compat::HeapEstimate,
    pub total_millis: u64,
}

/// Run a probe. Errors in the environment (bad flags) are the caller's;
/// everything about the target ends up in the report.
pub fn run(o: ProbeOptions, progress: &dyn Progress) -> ProbeReport {
    let start = Instant::now();
    let deadline = start + o.timeout;
    let mut phases = Vec::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut facts = TlsFacts::default();
    let mut unreachable = false;
    let mut mqtt = None;
    let target = format!("{}:{}", o.host, o.port);

    let hello = DeviceHello {
        ciphers: o.ciphers,
        server_name: o.server_name.clone(),
        mfln: o.mfln,
    };

    // Phase 1: resolve + TCP.
    progress.start("connect", None);
    let t = Instant::now();
    let addrs = match handshake::resolve(&o.host, o.port) {
        Ok(a) if !a.is_empty() => a,
        Ok(_) | Err(_) => {
            phases.push(phase(
                "resolve",
                PhaseStatus::Fail,
                t,
                format!("cannot resolve {:?}", o.host),
            ));
            findings.push(
                Finding::new(
                    "dns_failed",
                    Severity::Fatal,
                    format!("the name {:?} does not resolve", o.host),
                    "check the broker host name (and the device's DNS server)",
                )
                .device("PubSubClient rc=-2 (WiFi.hostByName fails)"),
            );
            return finish(o, target, start, phases, findings, facts, None, None, true);
        }
    };
    phases.push(phase(
        "resolve",
        PhaseStatus::Ok,
        t,
        addrs
            .iter()
            .map(|a| a.ip().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    ));
    let t = Instant::now();
    let mut stream = match handshake::connect(&addrs, deadline) {
        Ok(s) => s,
        Err(e) => {
            phases.push(phase("tcp", PhaseStatus::Fail, t, e.to_string()));
            findings.push(
                Finding::new(
                    "tcp_failed",
                    Severity::Fatal,
                    format!("TCP connection to {target} failed: {e}"),
                    "check that the broker runs and listens on this port, and that no firewall blocks it",
                )
                .device("PubSubClient rc=-2"),
            );
            return finish(o, target, start, phases, findings, facts, None, None, true);
        }
    };
    phases.push(phase(
        "tcp",
        PhaseStatus::Ok,
        t,
        format!(
            "connected to {}",
            stream
                .peer_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        ),
    ));

    // Phase 2: the device's handshake.
    progress.start("device handshake", None);
    let t = Instant::now();
    let ex = handshake::exchange(&mut stream, &hello.record(handshake::random28()), deadline);
    drop(stream);
    let client_cert = o.client_auth.is_some();
    let mut analysis = compat::analyse_flight(&ex, &hello, &o.trust, client_cert);
    if let Some(alert) = analysis.refused_with_alert {
        if alert != 70 {
            // Ask again with a wide hello to learn what the server wanted.
            let diag = handshake::connect(&addrs, deadline).ok().map(|mut s| {
                let r = handshake::random28();
                let mut rnd = [0u8; 32];
                rnd[4..].copy_from_slice(&r);
                handshake::exchange(
                    &mut s,
                    &diagnostic_record(o.server_name.as_deref(), rnd),
                    deadline,
                )
            });
            let flight = diag
                .as_ref()
                .filter(|d| d.end == FlightEnd::Complete)
                .map(|d| &d.flight);
            analysis
                .findings
                .extend(compat::explain_refusal(alert, flight, &hello));
        }
    }
    facts = analysis.facts.clone();
    let mut device_tls_error = analysis.device_error_code;
    unreachable |= analysis.unreachable;
    let hs_detail = match (&facts.version, &facts.cipher_suite) {
        (Some(v), Some(s)) => format!(
            "{v}, {s}{}{}",
            facts
                .curve
                .as_ref()
                .map(|c| format!(", {c}"))
                .unwrap_or_default(),
            match (facts.mfln_requested, facts.mfln_echoed) {
                (Some(_), Some(e)) => format!(", MFLN {e} echoed"),
                (Some(_), None) => ", MFLN not echoed".into(),
                _ => String::new(),
            }
        ),
        _ => describe_end(&ex.end),
    };
    // Split: handshake facts vs verification (the trust findings).
    let trust_ids = [
        "fingerprint_mismatch",
        "pubkey_mismatch",
        "chain_untrusted",
        "chain_out_of_order",
        "chain_not_ca",
        "certificate_expired",
        "certificate_not_yet_valid",
        "name_mismatch",
        "critical_extension",
        "unsupported_cert_signature",
        "unsupported_key_type",
        "rsa_key_too_small",
        "bad_certificate_signature",
        "certificate_unparsable",
        "empty_chain",
    ];
    let trust_failed = analysis
        .findings
        .iter()
        .any(|f| trust_ids.contains(&f.id.as_str()));
    let hs_failed = unreachable
        || analysis.refused_with_alert.is_some()
        || analysis
            .findings
            .iter()
            .any(|f| f.severity == Severity::Fatal && !trust_ids.contains(&f.id.as_str()));
    phases.push(phase(
        "device_handshake",
        if hs_failed {
            PhaseStatus::Fail
        } else {
            PhaseStatus::Ok
        },
        t,
        hs_detail,
    ));
    if ex.flight.certificate_seen {
        phases.push(Phase {
            name: "verification".into(),
            status: if trust_failed {
                PhaseStatus::Fail
            } else {
                PhaseStatus::Ok
            },
            millis: 0,
            detail: if trust_failed {
                format!("{} mode: rejected", o.trust.mode)
            } else {
                format!(
                    "{} mode: accepted{}",
                    o.trust.mode,
                    facts
                        .trust_anchor
                        .as_ref()
                        .map(|a| format!(" (anchor {a})"))
                        .unwrap_or_default()
                )
            },
        });
    }
    findings.extend(analysis.findings);
    if let (TrustMode::Ca, Some(anchor)) = (o.trust.mode, facts.trust_anchor.as_ref()) {
        findings.push(Finding::new(
            "trust_anchor",
            Severity::Info,
            format!(
                "the device must carry the root {anchor} as its trust anchor (from {}), and have its clock set by NTP",
                o.anchor_source.as_deref().unwrap_or("--ca-file")
            ),
            "put exactly this certificate into the sketch's X509List (setTrustAnchors)",
        ));
    }
    if analysis.handshake_ok {
        // 0 = the device's handshake completes (the oracle's "connected").
        device_tls_error = device_tls_error.or(Some(0));
    }

    // Phase 4: TLS session + MQTT, when the device's handshake can work or
    // the only problem is the client certificate (then confirm it).
    let run_mqtt = !unreachable && (analysis.handshake_ok || only_client_cert(&findings));
    let connect_size = session::pubsubclient_connect_size(
        &o.client_id,
        o.username.as_deref(),
        o.password.as_deref(),
    );
    if connect_size > 256 {
        findings.push(
            Finding::new(
                "connect_too_large",
                Severity::Warn,
                format!("the CONNECT packet is {connect_size} B; PubSubClient's default buffer is 256 B and connect() then returns false without sending anything"),
                "shorten the client id / user name / password, or call mqtt.setBufferSize() with a larger size in the sketch",
            )
            .device("connect() returns false, state() unchanged (-1)"),
        );
    }
    if run_mqtt {
        progress.start("mqtt", None);
        let t = Instant::now();
        let out = session::run(SessionParams {
            host: o.host.clone(),
            port: o.port,
            client_id: o.client_id.clone(),
            username: o.username.clone(),
            password: o.password.clone(),
            topic_prefix: o.topic_prefix.clone(),
            keepalive: 15,
            client_auth: o
                .client_auth
                .as_ref()
                .map(|(c, k)| (c.clone(), k.clone_key())),
            expected_leaf_sha1: ex
                .flight
                .certificates
                .first()
                .map(|c| crate::tls::cert::sha1(c)),
            device_suites: o.ciphers.suites().to_vec(),
            deadline,
        });
        mqtt_findings(&out, &o, &facts, &mut findings, &mut device_tls_error);
        let ok = out.connected && out.delivered;
        let detail = if ok {
            format!(
                "CONNECT accepted, SUBSCRIBE {} granted, PUBLISH {} received back",
                out.subscribe_topic, out.publish_topic
            )
        } else if let Some(c) = out.connack_code.filter(|c| *c != 0) {
            format!("CONNACK refused with code {c}")
        } else if let Some(e) = &out.error {
            e.to_string()
        } else {
            "message not delivered".into()
        };
        phases.push(phase(
            "mqtt",
            if ok {
                PhaseStatus::Ok
            } else {
                PhaseStatus::Fail
            },
            t,
            detail,
        ));
        mqtt = Some(out);
    } else {
        phases.push(Phase {
            name: "mqtt".into(),
            status: PhaseStatus::Skipped,
            millis: 0,
            detail: "the device could not complete the TLS handshake".into(),
        });
    }
    finish(
        o,
        target,
        start,
        phases,
        findings,
        facts,
        device_tls_error,
        mqtt,
        unreachable,
    )
}

fn only_client_cert(findings: &[Finding]) -> bool {
    let fatal: Vec<_> = findings
        .iter()
        .filter(|f| f.severity == Severity::Fatal)
        .collect();
    !fatal.is_empty() && fatal.iter().all(|f| f.id == "client_certificate_required")
}

fn mqtt_findings(
    out: &SessionOutcome,
    o: &ProbeOptions,
    facts: &TlsFacts,
    findings: &mut Vec<Finding>,
    device_tls_error: &mut Option<u16>,
) {
    // Client certificate: the session (without one) tells whether the
    // server really insists.
    if let Some(i) = findings
        .iter()
        .position(|f| f.id == "client_certificate_required")
    {
        match &out.error {
            Some(SessionError::TlsAlert { alert, .. }) => {
                findings[i].device_error = Some(compat::received_alert(*alert));
                *device_tls_error = Some(256 + *alert as u16);
            }
            _ if out.connack_code.is_some() => {
                findings[i].severity = Severity::Warn;
                findings[i].message =
                    "the server asks for a client certificate but accepts connections without one"
                        .into();
                *device_tls_error = Some(0);
            }
            _ => {}
        }
    }
    match &out.error {
        Some(SessionError::Config { message }) => findings.push(Finding::new(
            "mqtt_not_tested",
            Severity::Warn,
            format!("the MQTT part could not be tested: {message}"),
            "the TLS verdict above still holds; test MQTT with the device itself",
        )),
        // The device's handshake worked with a suite rustls does not
        // implement (CBC, CCM, RSA key exchange): the session cannot be
        // reproduced here, which says nothing about the device.
        Some(SessionError::TlsAlert { alert: 40, .. })
            if facts
                .cipher_suite_id
                .is_some_and(|s| !session::RUSTLS_SUITES.contains(&s)) =>
        {
            findings.push(Finding::new(
                "mqtt_not_tested",
                Severity::Warn,
                format!(
                    "the broker chose {} for the device, which the host's TLS library cannot speak, so the MQTT part was not tested",
                    facts.cipher_suite.as_deref().unwrap_or("a suite")
                ),
                "the TLS verdict above still holds; allow an ECDHE-*-AES-GCM or CHACHA20 suite on the broker to test MQTT from the host",
            ));
        }
        Some(SessionError::TlsAlert { alert, message })
            if !findings
                .iter()
                .any(|f| f.id == "client_certificate_required") =>
        {
            findings.push(
                Finding::new(
                    "tls_session_refused",
                    Severity::Fatal,
                    format!("the TLS session with the device's parameters failed: {message}"),
                    "look at the broker's log for the reason",
                )
                .device(compat::received_alert(*alert)),
            );
        }
        Some(SessionError::Tls { message }) => findings.push(
            Finding::new(
                "tls_session_failed",
                Severity::Fatal,
                format!("the TLS session failed: {message}"),
                "look at the broker's log for the reason",
            )
            .device("PubSubClient rc=-2"),
        ),
        Some(SessionError::Io { message }) | Some(SessionError::Mqtt { message })
            if out.connack_code.is_none() =>
        {
            findings.push(
                Finding::new(
                    "mqtt_connect_failed",
                    Severity::Fatal,
                    format!("the MQTT connection failed before CONNACK: {message}"),
                    "look at the broker's log; the broker may close connections it does not accept",
                )
                .device("PubSubClient rc=-4 (no CONNACK within the socket timeout) or rc=-2"),
            )
        }
        Some(SessionError::Timeout { step }) if step == "connect" => findings.push(
            Finding::new(
                "no_connack",
                Severity::Fatal,
                format!("no CONNACK within --timeout ({}s)", o.timeout.as_secs()),
                "check the broker's log and load",
            )
            .device("PubSubClient rc=-4 (MQTT_CONNECTION_TIMEOUT)"),
        ),
        _ => {}
    }
    if let Some(code) = out.connack_code.filter(|c| *c != 0) {
        let (name, what) = session::pubsubclient_state(code);
        let fix = match code {
            4 => "check the device's user name and password against the broker's password file (mosquitto_passwd)",
            5 => "allow this user / client id on the broker (or configure credentials when the broker needs them)",
            2 => "use a client id the broker accepts (1-23 characters [0-9a-zA-Z] is always allowed)",
            _ => "check the broker's log",
        };
        findings.push(
            Finding::new(
                if code == 4 || code == 5 {
                    "bad_credentials"
                } else {
                    "connack_refused"
                },
                Severity::Fatal,
                format!("the broker refused CONNECT with return code {code}: {what}"),
                fix,
            )
            .device(format!("PubSubClient rc={code} ({name})")),
        );
        return;
    }
    if out.connected {
        if out.suback_codes.contains(&0x80) {
            findings.push(
                Finding::new(
                    "subscription_refused",
                    Severity::Fatal,
                    format!("the broker refused SUBSCRIBE {} (SUBACK 0x80): the ACL denies the device's topics", out.subscribe_topic),
                    "allow `readwrite <prefix>/<client-id>/#` for this user in the broker's ACL",
                )
                .device("subscribe() returns true anyway (PubSubClient does not check SUBACK); no message ever arrives"),
            );
        } else if !out.delivered && out.suback_codes.is_empty() {
            findings.push(Finding::new(
                "no_suback",
                Severity::Fatal,
                format!("no SUBACK for {} within the timeout", out.subscribe_topic),
                "check the broker's log",
            ));
        } else if !out.delivered {
            findings.push(
                Finding::new(
                    "publish_not_delivered",
                    Severity::Fatal,
                    format!(
                        "the message published to {} did not come back within the timeout although SUBSCRIBE {} was granted: the broker drops it (mosquitto grants ACL-denied subscriptions and delivers nothing)",
                        out.publish_topic, out.subscribe_topic
                    ),
                    "allow `readwrite <prefix>/<client-id>/#` (or `pattern readwrite <prefix>/%c/#`) for this user in the broker's ACL",
                )
                .device("publish() returns true, nothing is delivered; no error on the device"),
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn finish(
    o: ProbeOptions,
    target: String,
    start: Instant,
    phases: Vec<Phase>,
    mut findings: Vec<Finding>,
    facts: TlsFacts,
    device_tls_error: Option<u16>,
    mqtt: Option<SessionOutcome>,
    unreachable: bool,
) -> ProbeReport {
    let negotiated = facts.mfln_echoed.is_some();
    let heap = compat::heap_estimate(o.mfln, negotiated, o.trust.mode);
    if !unreachable {
        findings.push(compat::heap_finding(&heap));
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let verdict = if unreachable {
        Verdict::Unreachable
    } else if findings.iter().any(|f| f.severity == Severity::Fatal) {
        Verdict::Fail
    } else {
        Verdict::Ok
    };
    let exit_code = match verdict {
        Verdict::Ok => 0,
        Verdict::Fail => 1,
        Verdict::Unreachable => 3,
    };
    ProbeReport {
        r#type: "probe".into(),
        target,
        host: o.host,
        port: o.port,
        server_name: o.server_name,
        trust: o.trust.mode,
        ciphers: o.ciphers,
        mfln: o.mfln,
        client_id: o.client_id,
        verdict,
        exit_code,
        phases,
        findings,
        tls: facts,
        device_tls_error,
        mqtt,
        heap,
        total_millis: start.elapsed().as_millis() as u64,
    }
}

fn phase(name: &str, status: PhaseStatus, t: Instant, detail: String) -> Phase {
    Phase {
        name: name.into(),
        status,
        millis: t.elapsed().as_millis() as u64,
        detail,
    }
}

fn describe_end(end: &FlightEnd) -> String {
    match end {
        FlightEnd::Complete => "server refused the hello".into(),
        FlightEnd::Closed { received } => format!("connection closed after {received} B"),
        FlightEnd::Timeout { received } => format!("timed out after {received} B"),
        FlightEnd::NotTls(s) => format!("not TLS: {s}"),
        FlightEnd::Malformed(s) => format!("malformed TLS: {s}"),
        FlightEnd::Io(s) => format!("I/O error: {s}"),
    }
}
