//! `probe` end to end, as the device does it: resolve → TCP → the device's
//! own BearSSL handshake (configured like the core, see docs/PROBE.md) →
//! MQTT 3.1.1 CONNECT / SUBSCRIBE / PUBLISH over that very session. The
//! engine's error is the device's TLS error; the analysis of the tapped
//! bytes explains it. Each phase is timed; the result is one
//! [`ProbeReport`] that the CLI renders as text or JSON.
//!
//! A single absolute deadline (`--timeout`) bounds the whole run, name
//! resolution included, so a silent or hostile peer cannot make it hang.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::progress::Progress;
use crate::tls::analysis::{
    self, device_text, Analysis, Category, Finding, HeapEstimate, Severity, TlsFacts,
};
use crate::tls::clienthello::{CipherBuild, Mfln};
use crate::tls::engine::{self, ConnectError, DeviceTls};
use crate::tls::names::{bearssl_error_name, pubsubclient_state};
use crate::tls::{cert, net, records, TrustMode};

use super::session::{self, MqttParams, SessionError, SessionOutcome};

/// Records listed per direction with `-vv` (the rest are counted).
const TRACE_RECORDS: usize = 24;

/// Everything a probe needs (already resolved from flags, registry, config).
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    pub host: String,
    pub port: u16,
    pub tls: DeviceTls,
    pub mqtt: MqttParams,
    pub timeout: Duration,
    /// Where the `ca` anchors come from ("ca.pem", "system roots").
    pub anchor_source: Option<String>,
    /// How the client id was chosen (shown with ACL failures).
    pub client_id_source: String,
    /// The registered device probed (`--device`), named in fixes.
    pub device: Option<String>,
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
    /// What the device's `getLastSSLError()` reports: 0 when the TLS
    /// session works, BearSSL's error otherwise; null when no TLS was
    /// attempted (DNS or TCP failed).
    pub device_tls_error: Option<i32>,
    /// The PubSubClient `state()` the device ends in (0 = connected).
    pub pubsubclient_state: i32,
    pub mqtt: Option<SessionOutcome>,
    pub heap: HeapEstimate,
    pub total_millis: u64,
}

impl ProbeReport {
    /// The reasons this report contradicts itself (empty when it does not).
    /// A non-empty answer is a bug in espmqtt; the tests fail on it.
    pub fn inconsistencies(&self) -> Vec<String> {
        let mut out = Vec::new();
        let fatal: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Fatal)
            .collect();
        match self.verdict {
            Verdict::Ok => {
                if !fatal.is_empty() {
                    out.push("verdict ok with fatal findings".into());
                }
                if self.device_tls_error != Some(0) || self.pubsubclient_state != 0 {
                    out.push(format!(
                        "verdict ok with device error {} / state {}",
                        shown(self.device_tls_error),
                        self.pubsubclient_state
                    ));
                }
                if self.phases.iter().any(|p| p.status == PhaseStatus::Fail) {
                    out.push("verdict ok with a failed phase".into());
                }
            }
            Verdict::Fail | Verdict::Unreachable => {
                if fatal.is_empty() {
                    out.push("a failing verdict without a fatal finding".into());
                }
                if !self.phases.iter().any(|p| p.status == PhaseStatus::Fail) {
                    out.push("a failing verdict without a failed phase".into());
                }
            }
        }
        if let Some(code) = self.device_tls_error.filter(|c| *c != 0) {
            if !fatal.iter().any(|f| f.bearssl_error == Some(code)) {
                out.push(format!(
                    "device error {code} is explained by no fatal finding"
                ));
            }
            if self.pubsubclient_state == 0 {
                out.push(format!("device error {code} with PubSubClient state 0"));
            }
        }
        for f in &fatal {
            if let Some(code) = f.bearssl_error {
                if Some(code) != self.device_tls_error {
                    out.push(format!(
                        "finding {} claims BearSSL error {code}, the engine reported {}",
                        f.id,
                        shown(self.device_tls_error)
                    ));
                }
            }
            let phases = phase_of(f.category);
            if !self
                .phases
                .iter()
                .any(|p| phases.contains(&p.name.as_str()) && p.status == PhaseStatus::Fail)
            {
                out.push(format!(
                    "fatal finding {} but none of the phases {} failed",
                    f.id,
                    phases.join(", ")
                ));
            }
        }
        if self.device_tls_error == Some(0)
            && fatal
                .iter()
                .any(|f| matches!(f.category, Category::Handshake | Category::Chain))
        {
            out.push("the TLS session works but a TLS finding is fatal".into());
        }
        if self.verdict == Verdict::Unreachable && self.exit_code != 3
            || self.verdict == Verdict::Fail && self.exit_code != 1
            || self.verdict == Verdict::Ok && self.exit_code != 0
        {
            out.push("exit code and verdict disagree".into());
        }
        out
    }
}

/// An optional error number as text ("none" when absent).
fn shown(code: Option<i32>) -> String {
    code.map(|c| c.to_string()).unwrap_or_else(|| "none".into())
}

/// The phases a category's fatal findings fail.
fn phase_of(c: Category) -> &'static [&'static str] {
    match c {
        Category::Connection => &["resolve", "tcp", "device_handshake"],
        Category::Handshake => &["device_handshake"],
        Category::Chain => &["verification"],
        Category::Mqtt => &["mqtt"],
    }
}

/// Run a probe. Errors in the environment (bad flags) are the caller's;
/// everything about the target ends up in the report. `progress` gets each
/// phase with its time ([`Progress::message`]) and the protocol steps
/// ([`Progress::trace`]): TLS records and handshake messages, the version
/// and suite chosen, the certificates, the MQTT packets.
pub fn run(o: ProbeOptions, progress: &dyn Progress) -> ProbeReport {
    let start = Instant::now();
    let deadline = start + o.timeout;
    let mut run = Run {
        phases: Vec::new(),
        findings: Vec::new(),
        facts: TlsFacts::default(),
        device_tls_error: None,
        state: -2,
        mqtt: None,
        unreachable: false,
        log: progress,
    };

    progress.start("connect", None);
    let t = Instant::now();
    let addrs = match net::resolve(&o.host, o.port, deadline) {
        Ok(a) => a,
        Err(e) => {
            run.phase("resolve", PhaseStatus::Fail, t, e.to_string());
            run.findings.push(
                Finding::new(
                    Category::Connection,
                    "dns_failed",
                    Severity::Fatal,
                    format!("{e}"),
                    e.help(),
                )
                .state(-2)
                .device("WiFi.hostByName() fails; PubSubClient rc=-2 (MQTT_CONNECT_FAILED)"),
            );
            run.unreachable = true;
            return finish(o, start, run);
        }
    };
    let shown: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
    run.phase("resolve", PhaseStatus::Ok, t, shown.join(", "));

    progress.start("device handshake", None);
    let t = Instant::now();
    let attempt = match engine::connect(&addrs, &o.tls, deadline) {
        Ok(a) => a,
        Err(ConnectError::Net(e)) => {
            run.phase("tcp", PhaseStatus::Fail, t, e.to_string());
            run.findings.push(
                Finding::new(
                    Category::Connection,
                    "tcp_failed",
                    Severity::Fatal,
                    format!("TCP connection to {}:{} failed: {e}", o.host, o.port),
                    e.help(),
                )
                .state(-2),
            );
            run.unreachable = true;
            return finish(o, start, run);
        }
        Err(ConnectError::Setup(e)) => {
            run.phase("tcp", PhaseStatus::Ok, t, "connected".into());
            run.phase("device_handshake", PhaseStatus::Fail, t, e.to_string());
            let code = match &e {
                engine::SetupError::CoreRefuses { code, .. } => *code,
                _ => 1,
            };
            run.device_tls_error = Some(code);
            run.findings.push(
                Finding::new(
                    Category::Handshake,
                    "device_setup_failed",
                    Severity::Fatal,
                    e.to_string(),
                    "change the device's TLS configuration",
                )
                .tls_error(code),
            );
            return finish(o, start, run);
        }
    };
    let peer = attempt
        .session
        .peer()
        .map(|a| a.to_string())
        .unwrap_or_default();
    run.push(Phase {
        name: "tcp".into(),
        status: PhaseStatus::Ok,
        millis: (t.elapsed().as_millis() as u64).saturating_sub(attempt.handshake.millis),
        detail: format!("connected to {peer}"),
    });
    let hs = attempt.handshake.clone();
    let mut session = attempt.session;
    let mut a = analysis::analyse(&o.tls, &hs, &session.tap);
    trace_handshake(progress, &hs, &session.tap, &a);
    if let Some(alert) = a.refused_hello {
        progress.message(&format!(
            "the server refused the device's ClientHello (alert {} ({alert})); asking it again \
             with a diagnostic ClientHello to learn why",
            crate::tls::names::alert_name(alert)
        ));
        refine_refusal(&mut a, alert, hs.error, &addrs, &o.tls, deadline);
    }
    refine_hangup(&mut a, &addrs, deadline);
    run.device_tls_error = Some(hs.error);
    run.unreachable = a.unreachable;
    run.facts = a.facts.clone();
    for i in &a.inconsistencies {
        run.findings.push(internal_inconsistency(i));
    }
    run.findings.extend(a.findings.clone());
    handshake_phases(&mut run, &o, &hs, &a);

    if hs.completed {
        progress.start("mqtt", None);
        let t = Instant::now();
        let out = session::run(&mut session, &o.mqtt, deadline, progress);
        run.state = out.pubsubclient_state;
        if let Some(SessionError::Tls { code, .. }) = &out.error {
            run.device_tls_error = Some(*code);
        }
        let before = run.findings.len();
        mqtt_findings(&out, &o, &a, &mut run.findings);
        let failed = run.findings[before..]
            .iter()
            .any(|f| f.severity == Severity::Fatal);
        let detail = mqtt_detail(&out);
        run.phase(
            "mqtt",
            if failed {
                PhaseStatus::Fail
            } else {
                PhaseStatus::Ok
            },
            t,
            detail,
        );
        run.mqtt = Some(out);
    } else {
        run.push(Phase {
            name: "mqtt".into(),
            status: PhaseStatus::Skipped,
            millis: 0,
            detail: "the device could not complete the TLS handshake".into(),
        });
    }
    session.close();
    finish(o, start, run)
}

/// State collected along the way.
struct Run<'a> {
    phases: Vec<Phase>,
    findings: Vec<Finding>,
    facts: TlsFacts,
    device_tls_error: Option<i32>,
    state: i32,
    mqtt: Option<SessionOutcome>,
    unreachable: bool,
    log: &'a dyn Progress,
}

impl Run<'_> {
    fn phase(&mut self, name: &str, status: PhaseStatus, t: Instant, detail: String) {
        self.push(Phase {
            name: name.into(),
            status,
            millis: t.elapsed().as_millis() as u64,
            detail,
        });
    }

    /// Record a phase, and say it with `-v`.
    fn push(&mut self, p: Phase) {
        let label = match p.name.as_str() {
            "resolve" => "name resolution",
            "tcp" => "TCP connect",
            "device_handshake" => "TLS handshake (the device's BearSSL engine)",
            "verification" => "certificate verification",
            "mqtt" => "MQTT exchange",
            other => other,
        };
        let status = match p.status {
            PhaseStatus::Ok => "ok",
            PhaseStatus::Warn => "warning",
            PhaseStatus::Fail => "FAILED",
            PhaseStatus::Skipped => "skipped",
        };
        self.log
            .message(&format!("{label}: {status}, {} ms: {}", p.millis, p.detail));
        self.phases.push(p);
    }
}

/// `-v`: the engine's result; `-vv`: every record both ways (types and
/// lengths), what was negotiated and the server's certificates.
fn trace_handshake(log: &dyn Progress, hs: &engine::Handshake, tap: &engine::Tap, a: &Analysis) {
    log.message(&if hs.completed {
        format!(
            "the device's BearSSL engine completed the handshake in {} ms",
            hs.millis
        )
    } else {
        format!(
            "the device's BearSSL engine stopped after {} ms with error {} ({})",
            hs.millis,
            hs.error,
            bearssl_error_name(hs.error)
        )
    });
    for line in records::record_lines(&tap.sent, "TLS ->", TRACE_RECORDS) {
        log.trace(&line);
    }
    for line in records::record_lines(&tap.received, "TLS <-", TRACE_RECORDS) {
        log.trace(&line);
    }
    let f = &a.facts;
    if let (Some(v), Some(s)) = (&f.version, &f.cipher_suite) {
        log.trace(&format!(
            "TLS chosen: {v}, {s}{}{}",
            f.curve
                .as_ref()
                .map(|c| format!(", key exchange group {c}"))
                .unwrap_or_default(),
            match (f.mfln_requested, f.mfln_echoed) {
                (Some(r), Some(e)) => format!(", max_fragment_length {r} requested, {e} echoed"),
                (Some(r), None) => format!(", max_fragment_length {r} requested, not echoed"),
                _ => String::new(),
            }
        ));
    }
    for (i, der) in a.flight.certificates.iter().enumerate() {
        log.trace(&cert::trace_line(i, der));
    }
}

fn internal_inconsistency(what: &str) -> Finding {
    Finding::new(
        Category::Handshake,
        "internal_inconsistency",
        Severity::Warn,
        format!("espmqtt's analysis disagrees with the BearSSL engine: {what}"),
        "the verdict follows the engine; please report this with the JSON output",
    )
}

/// The server refused the device's hello: ask it again to learn why, and
/// replace the generic finding by the reason.
fn refine_refusal(
    a: &mut Analysis,
    alert: u8,
    code: i32,
    addrs: &[SocketAddr],
    tls: &DeviceTls,
    deadline: Instant,
) {
    let d = analysis::diagnose_refusal(addrs, tls, deadline);
    let better = analysis::explain_refusal(alert, code, &d, tls);
    a.findings.retain(|f| f.id != "handshake_refused");
    a.findings.splice(0..0, better);
}

/// The server hung up on the device's hello without a byte: ask it in
/// plain MQTT (and so HTTP) what it speaks, as `fingerprint` does, and say
/// so. The commonest case: the device points at port 1883.
fn refine_hangup(a: &mut Analysis, addrs: &[SocketAddr], deadline: Instant) {
    let Some(f) = a
        .findings
        .iter_mut()
        .find(|f| f.id == "closed_without_answer")
    else {
        return;
    };
    let Some(what) = crate::tls::capture::sniff_plain(addrs, deadline) else {
        return;
    };
    let speaks = match &what {
        records::Recognised::PlainMqtt => {
            "plain MQTT (it answers an MQTT CONNECT with CONNACK)".to_string()
        }
        other => other.describe(),
    };
    f.message = format!(
        "the server closed the connection without answering the device's TLS ClientHello: \
         this port speaks {speaks}, not TLS"
    );
    f.fix = match what {
        records::Recognised::PlainMqtt => "this is a plain (unencrypted) MQTT listener: point \
            the device at the broker's TLS port (MQTT over TLS is usually 8883, plain MQTT \
            1883), or give the broker a TLS listener (mosquitto: `listener 8883` with \
            `certfile` and `keyfile`)"
            .into(),
        _ => "check the port: point the device at the broker's MQTT-over-TLS listener \
              (usually 8883)"
            .into(),
    };
}

fn handshake_phases(run: &mut Run<'_>, o: &ProbeOptions, hs: &engine::Handshake, a: &Analysis) {
    let fails = |c: Category| {
        a.findings
            .iter()
            .any(|f| f.category == c && f.severity == Severity::Fatal)
    };
    let warns = |c: Category| {
        a.findings
            .iter()
            .any(|f| f.category == c && f.severity == Severity::Warn)
    };
    let f = &a.facts;
    let hs_fail = fails(Category::Handshake) || fails(Category::Connection);
    let detail = match (&f.version, &f.cipher_suite) {
        (Some(v), Some(s)) => format!(
            "{v}, {s}{}{}",
            f.curve
                .as_ref()
                .map(|c| format!(", {c}"))
                .unwrap_or_default(),
            match (f.mfln_requested, f.mfln_echoed) {
                (Some(_), Some(e)) => format!(", MFLN {e} echoed"),
                (Some(_), None) => ", MFLN not echoed".into(),
                _ => String::new(),
            }
        ),
        _ => a
            .findings
            .iter()
            .find(|x| x.severity == Severity::Fatal)
            .map(|x| x.message.clone())
            .unwrap_or_else(|| "no ServerHello".into()),
    };
    run.push(Phase {
        name: "device_handshake".into(),
        status: if hs_fail {
            PhaseStatus::Fail
        } else if warns(Category::Handshake) {
            PhaseStatus::Warn
        } else {
            PhaseStatus::Ok
        },
        millis: hs.millis,
        detail,
    });
    if a.flight.certificate_seen || fails(Category::Chain) {
        let failed = fails(Category::Chain);
        run.push(Phase {
            name: "verification".into(),
            status: if failed {
                PhaseStatus::Fail
            } else if !hs.completed {
                PhaseStatus::Skipped
            } else if warns(Category::Chain) {
                PhaseStatus::Warn
            } else {
                PhaseStatus::Ok
            },
            millis: 0,
            detail: if failed {
                format!("{} mode: rejected", o.tls.trust.mode)
            } else if !hs.completed {
                format!("{} mode: the handshake stopped elsewhere", o.tls.trust.mode)
            } else {
                format!(
                    "{} mode: accepted{}{}",
                    o.tls.trust.mode,
                    f.trust_anchor
                        .as_ref()
                        .map(|x| format!(" (anchor {x})"))
                        .unwrap_or_default(),
                    f.fingerprint_used
                        .map(|i| format!(" (fingerprint #{i})"))
                        .unwrap_or_default()
                )
            },
        });
    }
    if let (TrustMode::Ca, Some(anchor), true) =
        (o.tls.trust.mode, f.trust_anchor.as_ref(), hs.completed)
    {
        run.findings.push(Finding::new(
            Category::Chain,
            "trust_anchor",
            Severity::Info,
            format!(
                "the device must carry the root {anchor} as its trust anchor (from {}), and have \
                 its clock set by NTP",
                o.anchor_source.as_deref().unwrap_or("--ca-file")
            ),
            "put exactly this certificate into the device's trust anchors ([tls] ca_file)",
        ));
    }
}

fn mqtt_detail(out: &SessionOutcome) -> String {
    if out.connected && out.delivered {
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
    }
}

fn mqtt_findings(
    out: &SessionOutcome,
    o: &ProbeOptions,
    a: &Analysis,
    findings: &mut Vec<Finding>,
) {
    let who = format!(
        "client id {:?} ({}), user {}",
        out.client_id,
        o.client_id_source,
        o.mqtt
            .username
            .as_deref()
            .map(|u| format!("{u:?}"))
            .unwrap_or_else(|| "none".into())
    );
    if let Some(e @ SessionError::Tls { code, .. }) = &out.error {
        findings.push(session_tls_failed(*code, &e.awaited(), out, o, a));
        return;
    }
    if let Some(code) = out.connack_code.filter(|c| *c != 0) {
        findings.push(connack_refused(code, &who, o));
        return;
    }
    if out.connack_code.is_none() {
        if let Some(e) = &out.error {
            findings.push(no_connack(e, out, &who));
            return;
        }
    }
    if out.connect_bytes > 256 {
        findings.push(Finding::new(
            Category::Mqtt,
            "connect_size",
            Severity::Info,
            format!(
                "the CONNECT packet is {} B; the firmware sizes PubSubClient's buffer for it, a \
                 sketch with the default 256 B buffer would not send it",
                out.connect_bytes
            ),
            "none needed with the espmqtt firmware",
        ));
    }
    if !out.connected {
        return;
    }
    if out.suback_codes.contains(&0x80) {
        findings.push(
            Finding::new(
                Category::Mqtt,
                "subscription_refused",
                Severity::Fatal,
                format!(
                    "the broker refused SUBSCRIBE {} (SUBACK 0x80): its ACL denies the device's \
                     topics; {who}",
                    out.subscribe_topic
                ),
                format!("{} (`espmqtt broker export` writes it)", acl_lines(out, o)),
            )
            .state(0)
            .device(
                "subscribe() returns true anyway (PubSubClient does not check SUBACK); no \
                 message ever arrives",
            ),
        );
    } else if let Some(e) = &out.error {
        let closed = matches!(e, SessionError::Closed { .. });
        if closed {
            findings.push(session_takeover(out));
        }
        let acl_fix = format!(
            "{}; check that the client id is the one the ACL expects",
            acl_lines(out, o)
        );
        findings.push(
            Finding::new(
                Category::Mqtt,
                if out.suback_codes.is_empty() {
                    "no_suback"
                } else {
                    "publish_not_delivered"
                },
                Severity::Fatal,
                if out.suback_codes.is_empty() {
                    format!("{e} after SUBSCRIBE {}; {who}", out.subscribe_topic)
                } else if closed {
                    format!(
                        "the message published to {} did not come back ({e}) although SUBSCRIBE \
                         {} was granted; {who}",
                        out.publish_topic, out.subscribe_topic
                    )
                } else {
                    format!(
                        "the message published to {} did not come back{} although SUBSCRIBE \
                         {} was granted: the broker drops it (mosquitto grants ACL-denied \
                         subscriptions and delivers nothing); {who}",
                        out.publish_topic,
                        match e {
                            SessionError::Timeout { .. } => " within the timeout".to_string(),
                            other => format!(" ({other})"),
                        },
                        out.subscribe_topic
                    )
                },
                if closed {
                    format!(
                        "make sure no other client uses the client id {:?} while probing (see \
                         session_takeover); otherwise {acl_fix}",
                        out.client_id
                    )
                } else {
                    acl_fix
                },
            )
            .state(out.pubsubclient_state)
            .device(format!(
                "publish() returns true, nothing is delivered; {}",
                device_text(None, Some(out.pubsubclient_state))
            )),
        );
    }
}

/// The ACL lines (mosquitto's syntax) that give the probed client its
/// topics, with this probe's user, prefix and client id filled in.
fn acl_lines(out: &SessionOutcome, o: &ProbeOptions) -> String {
    let prefix = &o.mqtt.topic_prefix;
    let user = o
        .mqtt
        .username
        .as_deref()
        .map(|u| format!("`user {u}` then "))
        .unwrap_or_default();
    format!(
        "allow the device's topics in the broker's ACL: {user}`topic readwrite {}` (or, for \
         every device, `pattern readwrite {prefix}/%c/#`)",
        out.subscribe_topic
    )
}

/// The broker closed a connection it had accepted, in the middle of the
/// exchange: what a broker does to the older connection when another
/// client connects with the same client id (MQTT 3.1.1 §3.1.4: it
/// disconnects the existing client, without a word to it).
fn session_takeover(out: &SessionOutcome) -> Finding {
    Finding::new(
        Category::Mqtt,
        "session_takeover",
        Severity::Warn,
        format!(
            "the broker closed the connection after accepting CONNECT as {:?}, most likely \
             because another client connected with the same client id — the real device, or \
             another probe of it running at the same time: the broker then disconnects the \
             older connection (session takeover)",
            out.client_id
        ),
        "probe while the device is off or disconnected, run the probes of one device one after \
         another, or probe with another --client-id that the broker's ACL allows (mosquitto's \
         log says `Client <id> already connected, closing old connection` when this happens)",
    )
    .state(out.pubsubclient_state)
    .device(
        "the device and a probe with its client id keep taking the session from each other: \
         each one's PubSubClient sees the connection drop (rc=-3) and reconnects",
    )
}

/// The device's engine failed during the MQTT exchange (its BearSSL error).
fn session_tls_failed(
    code: i32,
    step: &str,
    out: &SessionOutcome,
    o: &ProbeOptions,
    a: &Analysis,
) -> Finding {
    let record = a
        .flight
        .max_encrypted_record
        .max(a.flight.max_record_after_hello);
    let (id, msg, fix) = if code == 6 {
        (
            "record_too_large",
            format!(
                "while waiting for {step} the broker sent a record bigger than the device's \
             receive buffer ({} B); the broker {} max_fragment_length",
                o.tls.buffers.0.clamp(512, 16384) as usize + 325,
                if a.facts.mfln_echoed.is_some() {
                    "confirmed but does not honour"
                } else {
                    "ignores"
                }
            ),
            "use 16 KB receive buffers on the device ([tls] mfln = 16384), or a broker that \
         honours max_fragment_length",
        )
    } else {
        (
            "tls_session_failed",
            format!("the TLS session failed while waiting for {step} (largest record {record} B)"),
            "look at the broker's log",
        )
    };
    Finding::new(Category::Mqtt, id, Severity::Fatal, msg, fix)
        .tls_error(code)
        .state(out.pubsubclient_state)
}

/// The broker refused CONNECT (PubSubClient's state is the CONNACK code).
fn connack_refused(code: u8, who: &str, o: &ProbeOptions) -> Finding {
    let (name, what) = pubsubclient_state(code as i32);
    let fix = match code {
        4 | 5 => credentials_fix(code, o),
        2 => "use a client id the broker accepts".to_string(),
        _ => "check the broker's log".to_string(),
    };
    Finding::new(
        Category::Mqtt,
        if code == 4 || code == 5 {
            "bad_credentials"
        } else {
            "connack_refused"
        },
        Severity::Fatal,
        format!("the broker refused CONNECT with return code {code} ({name}: {what}); {who}"),
        fix,
    )
    .state(code as i32)
}

/// What to do about CONNACK 4 or 5, for the credentials this probe used:
/// none at all, a registered device's, or a user name and password given
/// on the command line. mosquitto answers 5 to a wrong password too.
fn credentials_fix(code: u8, o: &ProbeOptions) -> String {
    let rest = "otherwise the user is unknown to the broker, or its ACL refuses this client id \
                or the last will topic";
    if o.mqtt.username.is_none() {
        return "the probe sent no user name and password, and the broker refuses anonymous \
             clients: probe with the device's credentials (`--device NAME`, or `-u USER \
             --password-env VAR`)"
            .to_string();
    }
    let first = if code == 5 {
        "most often a wrong or rotated password (mosquitto answers 5 to a wrong password too)"
    } else {
        "the user name or password is wrong"
    };
    match &o.device {
        Some(dev) => format!(
            "{first}: flash the device's current credentials (`espmqtt flash --device {dev} \
             --config-only`), or export the broker's password file again (`espmqtt broker \
             export --mosquitto DIR`) and reload the broker; {rest}"
        ),
        None => format!(
            "{first}: check the password given (--password / --password-env) against the \
             broker's password file (`mosquitto_passwd -b FILE USER PASSWORD` sets it; reload \
             the broker after); {rest}"
        ),
    }
}

/// No CONNACK: a first packet that is not one, or the connection ended
/// or stayed silent.
fn no_connack(e: &SessionError, out: &SessionOutcome, who: &str) -> Finding {
    if matches!(e, SessionError::Protocol { .. }) {
        return Finding::new(
            Category::Mqtt,
            "not_mqtt",
            Severity::Fatal,
            format!(
                "{e}: the server completes the device's TLS handshake but is not an MQTT \
                 broker; {who}"
            ),
            "point the device at the broker's MQTT over TLS listener (a TLS front must \
             forward to the broker)",
        )
        .state(out.pubsubclient_state)
        .device(format!(
            "connect() returns false without setting a state; {}",
            device_text(None, Some(out.pubsubclient_state))
        ));
    }
    Finding::new(
        Category::Mqtt,
        if matches!(e, SessionError::Closed { .. }) {
            "closed_after_connect"
        } else {
            "no_connack"
        },
        Severity::Fatal,
        format!(
            "{e}: the device's connect() waits its 15 s socket timeout and gives up; \
                 {who}"
        ),
        "look at the broker's log: it drops connections it does not accept (client \
             id, credentials, or a plugin)",
    )
    .state(out.pubsubclient_state)
}

fn finish(o: ProbeOptions, start: Instant, mut run: Run<'_>) -> ProbeReport {
    let heap = analysis::heap_estimate(o.tls.buffers, o.tls.trust.mode);
    if !run.unreachable && run.device_tls_error.is_some() {
        run.findings.push(analysis::heap_finding(&heap));
    }
    run.findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let fatal = run.findings.iter().any(|f| f.severity == Severity::Fatal);
    let verdict = if run.unreachable {
        Verdict::Unreachable
    } else if fatal || run.device_tls_error != Some(0) || run.state != 0 {
        Verdict::Fail
    } else {
        Verdict::Ok
    };
    let exit_code = match verdict {
        Verdict::Ok => 0,
        Verdict::Fail => 1,
        Verdict::Unreachable => 3,
    };
    let target = crate::target::Target {
        host: o.host.clone(),
        port: o.port,
    }
    .display();
    for f in &mut run.findings {
        f.name_target(&target);
    }
    let mut report = ProbeReport {
        r#type: "probe".into(),
        target,
        host: o.host,
        port: o.port,
        server_name: o.tls.server_name.clone(),
        trust: o.tls.trust.mode,
        ciphers: o.tls.ciphers,
        mfln: Mfln::from_request(o.tls.requested_mfl()),
        client_id: o.mqtt.client_id.clone(),
        verdict,
        exit_code,
        phases: run.phases,
        findings: run.findings,
        tls: run.facts,
        device_tls_error: run.device_tls_error,
        pubsubclient_state: run.state,
        mqtt: run.mqtt,
        heap,
        total_millis: start.elapsed().as_millis() as u64,
    };
    for what in report.inconsistencies() {
        report.findings.push(internal_inconsistency(&what));
    }
    report
}
