//! `espmqtt fingerprint`: the broker's certificate facts, paste-ready, and drift checks for CI.
//!
//! Wiring only: the chain comes from [`crate::tls::capture`] (network) or
//! [`crate::tls::cert::load_certificates`] (`--file`), the facts and warnings
//! from [`crate::tls::cert`], the paste-ready snippets from
//! [`crate::tls::emit`]. One report value feeds both renderers.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, ExitStatus, Result};
use crate::target::{Target, DEFAULT_PORT};
use crate::tls::capture::{self, CaptureError, CaptureOptions, Sni};
use crate::tls::cert::{self, CertSummary, ChainContext, ExpectedValue, Warning};
use crate::tls::emit::{self, EmitFormat};

use super::output::Style;
use super::Ctx;

const AFTER_HELP: &str = "\
The first line of text output is the leaf certificate's SHA-1 in colon form:
the value BearSSL's setFingerprint() compares. Certificates are reported even
when they are self-signed, expired, for another name or from an unknown CA.

Without HOST the broker comes from espmqtt.toml ([broker] host, port,
servername) and, unless --expect is given, [tls] fingerprints are checked:
`espmqtt fingerprint` alone is then a CI drift check. With -q only the
SHA-1 is printed: FP=$(espmqtt fingerprint HOST -q).

Exit codes: 0 ok · 1 --expect mismatch, drift, --min-days not met, or
(with --tls12) a TLS 1.3-only broker no ESP8266 can use · 2 usage ·
3 unreachable (DNS, refused, timeout, TLS alert, not a TLS port).

Examples:
  espmqtt fingerprint broker.example.com            # port 8883
  espmqtt fingerprint mqtts://192.0.2.10 --servername broker.example.com
  espmqtt fingerprint [::1]:8883 --no-sni
  espmqtt fingerprint broker.example.com --tls12    # what an ESP8266 sees
  espmqtt fingerprint broker.example.com --emit arduino > broker_trust.h
  espmqtt fingerprint 192.0.2.10 --emit arduino --ca-file private-root.pem
  espmqtt fingerprint broker.example.com --emit tasmota
  espmqtt fingerprint --file fullchain.pem
  espmqtt fingerprint broker.example.com --expect 'AB:CD:…' --min-days 14";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct FingerprintArgs {
    /// Broker address: HOST, HOST:PORT, mqtts://HOST[:PORT], [IPv6]:PORT or a
    /// bare IPv6 address (default port 8883; default: [broker] in espmqtt.toml).
    #[arg(value_name = "HOST[:PORT]", conflicts_with = "file")]
    pub target: Option<String>,
    /// Send this SNI name while connecting to HOST (connect to an IP, present a name).
    #[arg(long, value_name = "NAME", conflicts_with = "no_sni")]
    pub servername: Option<String>,
    /// Send no SNI: what a device that connects by IP address is shown.
    #[arg(long)]
    pub no_sni: bool,
    /// Ask the way an ESP8266 does, with its own TLS engine (BearSSL, TLS
    /// 1.0-1.2, no TLS 1.3): shows the certificate a device is given.
    #[arg(long, conflicts_with = "file")]
    pub tls12: bool,
    /// Give up after this many seconds (DNS, connect and handshake together).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_timeout)]
    pub timeout: f64,
    /// Read certificates from a PEM (one or many) or DER file instead of the network.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["servername", "no_sni"])]
    pub file: Option<PathBuf>,
    /// Exit 1 unless the leaf has this SHA-1, SHA-256 or pin-sha256 (any usual
    /// spelling). Repeat to accept any of several (current and next).
    #[arg(long, value_name = "VALUE")]
    pub expect: Vec<String>,
    /// Exit 1 when the leaf expires within N days.
    #[arg(long, value_name = "N")]
    pub min_days: Option<u32>,
    /// Warn when the leaf expires within N days.
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub warn_days: u32,
    /// Print paste-ready configuration instead of the summary: C++ for the
    /// ESP8266 Arduino core (all three trust modes) or Tasmota commands.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub emit: Option<EmitFormat>,
    /// With --emit arduino: PEM bundle the chain's root is looked up in
    /// before the system store (a private CA, or the root the server does
    /// not send), so the `ca` block pins the root and not an intermediate.
    #[arg(long, value_name = "FILE", requires = "emit")]
    pub ca_file: Option<PathBuf>,
}

/// `--emit`: the `ca` anchor is the chain's root, looked up in --ca-file
/// first, then in the system store.
fn render_emit(
    format: EmitFormat,
    report: &FingerprintReport,
    ders: &[Vec<u8>],
    ca_file: Option<&std::path::Path>,
) -> Result<String> {
    use crate::tls::anchor::{self, Bundle};
    let mut bundles = Vec::new();
    if let Some(p) = ca_file {
        let bytes = crate::files::read_input(p, crate::files::MAX_TEXT_INPUT, "CA certificate")?;
        let certs = crate::tls::cert::load_certificates(&bytes)
            .map_err(|e| e.context(format!("--ca-file {}", p.display())))?;
        bundles.push(Bundle {
            origin: format!("--ca-file {}", p.display()),
            certs,
        });
    }
    bundles.push(Bundle::system());
    let anchor = match format {
        EmitFormat::Arduino => anchor::choose(ders, &bundles),
        EmitFormat::Tasmota => None,
    };
    Ok(emit::render_with_anchor(
        format,
        &origin_label(report),
        ders,
        &report.chain,
        anchor.as_ref(),
    ))
}

fn parse_timeout(s: &str) -> std::result::Result<f64, String> {
    let v = super::duration::seconds_f64(s)?;
    if !(v > 0.0 && v <= 3600.0) {
        return Err("the timeout must be more than 0 and at most 3600 seconds".into());
    }
    Ok(v)
}

/// The report (`--format json` prints exactly this).
#[derive(Debug, Serialize)]
pub struct FingerprintReport {
    /// `network` or `file`.
    pub source: &'static str,
    pub host: Option<String>,
    pub port: Option<u16>,
    /// The socket address connected to.
    pub address: Option<String>,
    /// The SNI name sent (null: none).
    pub servername: Option<String>,
    pub file: Option<String>,
    pub tls_version: Option<String>,
    pub cipher_suite: Option<String>,
    /// Leaf first, as the server sent it.
    pub chain: Vec<CertSummary>,
    pub warnings: Vec<Warning>,
    pub expect: Option<ExpectReport>,
    pub min_days: Option<MinDaysReport>,
    /// Tasmota `MqttFingerprint` value of the leaf (RSA keys only).
    pub tasmota_fingerprint: Option<String>,
    /// The `--emit` text, when asked for.
    pub emitted: Option<String>,
    /// Time spent per phase (network only).
    pub timings: Option<capture::PhaseTimes>,
    /// False when a CI check (`--expect`, `--min-days`) failed.
    pub ok: bool,
}

/// Outcome of `--expect` (or of the configured fingerprints).
#[derive(Debug, Serialize)]
pub struct ExpectReport {
    /// `--expect`, or `espmqtt.toml` for the drift check without HOST.
    pub origin: &'static str,
    /// True when any expected value equals the leaf's.
    pub matched: bool,
    pub checks: Vec<ExpectCheck>,
}

/// One `--expect` value.
#[derive(Debug, Serialize)]
pub struct ExpectCheck {
    /// As given on the command line.
    pub input: String,
    /// `sha1`, `sha256` or `pin-sha256`.
    pub kind: &'static str,
    /// Normalised spelling.
    pub value: String,
    /// The leaf's value of the same kind.
    pub actual: String,
    pub matched: bool,
    /// Another certificate of the chain that has this value (a CA's
    /// fingerprint never matches on the device, which hashes the leaf).
    pub matches_certificate: Option<usize>,
}

/// Outcome of `--min-days`.
#[derive(Debug, Serialize)]
pub struct MinDaysReport {
    pub min_days: u32,
    pub days_left: i64,
    pub ok: bool,
}

pub fn run(args: FingerprintArgs, ctx: &Ctx) -> Result<ExitStatus> {
    // Parse --expect first: a typo is a usage error, before any network I/O.
    let mut expected = parse_expect_values(&args.expect, "--expect")?;
    let mut origin = ExpectOrigin::Flag;
    let now = cert::unix_now();
    let mut report = FingerprintReport::new();
    let (ders, name_for_check) = match &args.file {
        Some(path) => (read_file(path, &mut report, ctx)?, None),
        None => {
            let (target, sni, configured) = resolve_target(&args, ctx)?;
            // Config-driven run (no HOST): the fleet's configured fingerprints
            // are the expectation, so `espmqtt fingerprint` alone is a CI drift
            // check (current and next fingerprint).
            if expected.is_empty() && !configured.is_empty() {
                expected = parse_expect_values(&configured, "[tls] fingerprints")?;
                origin = ExpectOrigin::Config;
            }
            let chain = capture_chain(&args, ctx, target, sni, &mut report)?;
            // The name the device checks: the SNI sent, else the host
            // itself, also an IP literal (the firmware passes its host
            // string to connect(), which checks it against dNSName SANs);
            // --no-sni shows a device that calls connect(IPAddress).
            let name = match (&report.servername, args.no_sni) {
                (Some(n), _) => Some(n.clone()),
                (None, false) => report.host.clone(),
                (None, true) => None,
            };
            (chain, name)
        }
    };
    if ders.is_empty() {
        return Err(Error::runtime("no certificate to report"));
    }
    for (i, der) in ders.iter().enumerate() {
        ctx.trace(cert::trace_line(i, der));
    }
    summarize_chain(&mut report, &ders, &args, name_for_check, now);
    check_expectations(&mut report, &expected, origin);
    check_min_days(&mut report, args.min_days, now);
    if let Some(format) = args.emit {
        if let Some(p) = &args.ca_file {
            ctx.detail(format!("reading {} (--ca-file)", p.display()));
        }
        report.emitted = Some(render_emit(
            format,
            &report,
            &ders,
            args.ca_file.as_deref(),
        )?);
    }
    ctx.emit(&report, |ctx| render_text(&report, ctx));
    Ok(if report.ok {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    })
}

impl FingerprintReport {
    fn new() -> Self {
        FingerprintReport {
            source: "network",
            host: None,
            port: None,
            address: None,
            servername: None,
            file: None,
            tls_version: None,
            cipher_suite: None,
            chain: Vec::new(),
            warnings: Vec::new(),
            expect: None,
            min_days: None,
            tasmota_fingerprint: None,
            emitted: None,
            timings: None,
            ok: true,
        }
    }
}

fn read_file(
    path: &std::path::Path,
    report: &mut FingerprintReport,
    ctx: &Ctx,
) -> Result<Vec<Vec<u8>>> {
    report.source = "file";
    report.file = Some(path.display().to_string());
    let t = std::time::Instant::now();
    let bytes = crate::files::read_input(path, crate::files::MAX_TEXT_INPUT, "certificate")?;
    let certs = cert::load_certificates(&bytes).map_err(|e| e.context(path.display()))?;
    ctx.timed(
        &format!(
            "read {} ({} B, {} certificate(s))",
            path.display(),
            bytes.len(),
            certs.len()
        ),
        t,
    );
    Ok(certs)
}

/// Connect and capture; the report gets the connection facts and notes.
fn capture_chain(
    args: &FingerprintArgs,
    ctx: &Ctx,
    target: Target,
    config_sni: Option<String>,
    report: &mut FingerprintReport,
) -> Result<Vec<Vec<u8>>> {
    let sni = if args.no_sni {
        Sni::Off
    } else if let Some(n) = args.servername.clone().or(config_sni) {
        Sni::Name(n)
    } else {
        Sni::Auto
    };
    report.host = Some(target.host.clone());
    report.port = Some(target.port);
    let opts = CaptureOptions {
        target,
        sni,
        timeout: Duration::from_secs_f64(args.timeout),
        device_view: args.tls12,
    };
    ctx.detail(format!(
        "connecting to {}{}",
        opts.target.display(),
        match &opts.sni {
            Sni::Off => " without SNI".to_string(),
            Sni::Name(n) => format!(" with SNI {n}"),
            Sni::Auto => String::new(),
        }
    ));
    let captured = capture::capture(&opts).map_err(capture_error)?;
    report.address = Some(captured.peer.to_string());
    report.timings = Some(captured.times);
    say_capture(&captured, ctx);
    report.servername = captured.servername.clone();
    report.tls_version = captured.tls_version.clone();
    report.cipher_suite = captured.cipher_suite.clone();
    if captured.via_device_hello && !args.tls12 {
        report.warnings.push(note(
            "device_hello_only",
            format!(
                "the server accepts nothing this tool's TLS library offers; the chain was read \
                 with the ESP8266's own TLS engine (BearSSL), which negotiated {} {}",
                captured.tls_version.as_deref().unwrap_or("?"),
                captured.cipher_suite.as_deref().unwrap_or("?")
            ),
        ));
    }
    if captured.tls13_only {
        report.warnings.push(Warning {
            id: "tls13_only".into(),
            severity: "warning".into(),
            certificate: None,
            message: format!(
                "{}: no ESP8266 can connect (`espmqtt probe` fails with tls13_only)",
                crate::tls::names::tls13_only_message()
            ),
        });
    }
    if let Some(e) = &captured.handshake_error {
        report.warnings.push(note(
            "handshake_incomplete",
            format!(
                "the server sent its certificates, then ended the handshake ({e}); it probably \
                 requires a client certificate"
            ),
        ));
    }
    Ok(captured.chain)
}

/// `-v`: each phase with its time; `-vv`: every record both ways (types and
/// lengths) and what was negotiated.
fn say_capture(c: &capture::Captured, ctx: &Ctx) {
    let t = &c.times;
    ctx.detail(format!("name resolution: {:.1} ms", t.resolve_ms));
    if !c.via_device_hello {
        ctx.detail(format!("TCP connect to {}: {:.1} ms", c.peer, t.connect_ms));
    }
    ctx.detail(format!(
        "TLS handshake ({}) with {}: {:.1} ms{}",
        if c.via_device_hello {
            "the device's BearSSL engine, TLS 1.0-1.2"
        } else {
            "rustls, TLS 1.2-1.3"
        },
        c.peer,
        t.handshake_ms,
        c.handshake_error
            .as_ref()
            .map(|e| format!(", ended early: {e}"))
            .unwrap_or_default()
    ));
    ctx.trace(format!(
        "SNI sent: {}",
        c.servername.as_deref().unwrap_or("none")
    ));
    for line in crate::tls::records::record_lines(&c.wire.sent, "TLS ->", 24) {
        ctx.trace(line);
    }
    for line in crate::tls::records::record_lines(&c.wire.received, "TLS <-", 24) {
        ctx.trace(line);
    }
    ctx.trace(format!(
        "TLS chosen: {}, {}",
        c.tls_version.as_deref().unwrap_or("(unknown version)"),
        c.cipher_suite.as_deref().unwrap_or("(unknown suite)")
    ));
}

fn note(id: &str, message: String) -> Warning {
    Warning {
        id: id.into(),
        severity: "info".into(),
        certificate: None,
        message,
    }
}

fn summarize_chain(
    report: &mut FingerprintReport,
    ders: &[Vec<u8>],
    args: &FingerprintArgs,
    server_name: Option<String>,
    now: i64,
) {
    report.chain = ders
        .iter()
        .enumerate()
        .map(|(i, der)| cert::summarize(i, der, now))
        .collect();
    let chain_ctx = ChainContext {
        warn_days: i64::from(args.warn_days),
        server_name,
    };
    report
        .warnings
        .extend(cert::chain_warnings(&report.chain, &chain_ctx, now));
    let leaf_der = ders.first().map(Vec::as_slice).unwrap_or_default();
    report.tasmota_fingerprint = cert::tasmota_fingerprint(leaf_der).map(|f| {
        f.iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(" ")
    });
}

fn check_expectations(
    report: &mut FingerprintReport,
    expected: &[(String, ExpectedValue)],
    origin: ExpectOrigin,
) {
    if expected.is_empty() {
        return;
    }
    let leaf = &report.chain[0];
    let checks: Vec<ExpectCheck> = expected
        .iter()
        .map(|(input, v)| ExpectCheck {
            input: input.clone(),
            kind: v.kind.as_str(),
            value: v.canonical(),
            actual: v.actual(leaf),
            matched: v.matches(leaf),
            matches_certificate: report
                .chain
                .iter()
                .skip(1)
                .find(|c| v.matches(c))
                .map(|c| c.index),
        })
        .collect();
    let matched = checks.iter().any(|c| c.matched);
    report.ok &= matched;
    report.expect = Some(ExpectReport {
        origin: origin.as_str(),
        matched,
        checks,
    });
}

fn check_min_days(report: &mut FingerprintReport, min_days: Option<u32>, now: i64) {
    let Some(min) = min_days else {
        return;
    };
    let leaf = &report.chain[0];
    let ok = leaf.parse_error.is_none()
        && leaf.not_after_unix >= now.saturating_add(i64::from(min) * 86_400);
    report.ok &= ok;
    report.min_days = Some(MinDaysReport {
        min_days: min,
        days_left: leaf.days_left,
        ok,
    });
}

/// The drift check of `espmqtt fingerprint` without HOST: the broker's
/// leaf against `[tls] fingerprints`, and what to do when it drifted.
fn render_drift(e: &ExpectReport, r: &FingerprintReport, ctx: &Ctx) -> String {
    let actual = r.chain.first().map(|c| c.sha1.clone()).unwrap_or_default();
    let configured: Vec<&str> = e.checks.iter().map(|c| c.value.as_str()).collect();
    if let Some((i, _)) = e.checks.iter().enumerate().find(|(_, c)| c.matched) {
        let which = if i == 0 { "current" } else { "next" };
        let mut s = format!(
            "{} the broker's leaf matches the {which} fingerprint in espmqtt.toml ([tls] \
             fingerprints)\n",
            ctx.paint("ok:", Style::Green)
        );
        if i > 0 {
            s.push_str(
                "  the broker now serves the certificate configured as next: make it the first \
                 fingerprint once every device connects with it\n",
            );
        }
        return s;
    }
    format!(
        "{} the broker's leaf SHA-1 is {actual}; espmqtt.toml ([tls] fingerprints) has {}\n\
         next: if the broker's certificate was renewed on purpose, put {actual} into [tls] \
         fingerprints (keep the old value as the second one until every device has the new \
         config), then write it to the devices: espmqtt flash --port PORT --device NAME \
         --config-only\n",
        ctx.paint("DRIFT:", Style::Red),
        configured.join(", ")
    )
}

fn origin_label(report: &FingerprintReport) -> String {
    match (&report.host, &report.file) {
        (Some(h), _) => Target {
            host: h.clone(),
            port: report.port.unwrap_or(DEFAULT_PORT),
        }
        .display(),
        (None, Some(f)) => f.clone(),
        _ => String::new(),
    }
}

/// Where the expected values came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ExpectOrigin {
    Flag,
    Config,
}

impl ExpectOrigin {
    fn as_str(self) -> &'static str {
        match self {
            ExpectOrigin::Flag => "--expect",
            ExpectOrigin::Config => "espmqtt.toml",
        }
    }
}

fn parse_expect_values(values: &[String], origin: &str) -> Result<Vec<(String, ExpectedValue)>> {
    values
        .iter()
        .map(|s| {
            cert::parse_expected(s)
                .map(|v| (s.clone(), v))
                .map_err(|e| {
                    Error::usage(format!("{origin} `{s}`: {e}")).with_help(
                        "give a SHA-1 (40 hex digits), a SHA-256 (64) in any spelling, \
                         or a base64 pin-sha256",
                    )
                })
        })
        .collect()
}

/// Target, SNI name and configured fingerprints: HOST[:PORT] from the
/// argument, or `[broker]` and `[tls] fingerprints` from espmqtt.toml.
type ResolvedTarget = (Target, Option<String>, Vec<String>);

fn resolve_target(args: &FingerprintArgs, ctx: &Ctx) -> Result<ResolvedTarget> {
    if let Some(t) = &args.target {
        let target = crate::target::parse(t).map_err(|e| {
            Error::usage(format!("invalid broker address: {e}"))
                .with_help(crate::target::TargetError::help())
        })?;
        return Ok((target, None, Vec::new()));
    }
    let paths = crate::project::ProjectPaths::locate(ctx.config.as_deref())?;
    if paths.has_config() {
        let config = paths.load_config()?;
        ctx.detail(format!("read {}", paths.config_file.display()));
        if !config.broker.host.is_empty() {
            let target = Target {
                host: config
                    .broker
                    .host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string(),
                port: config.broker.port,
            };
            return Ok((
                target,
                config.broker.servername.clone(),
                config.tls.fingerprints.clone(),
            ));
        }
    }
    Err(Error::usage("no broker address given").with_help(
        "pass HOST[:PORT] (e.g. `espmqtt fingerprint broker.example.com:8883`), --file PATH, \
         or set [broker] host in espmqtt.toml",
    ))
}

fn capture_error(e: CaptureError) -> Error {
    let help = e.help();
    match e {
        // The argument itself is wrong: nothing was tried on the network.
        CaptureError::BadServerName { .. } => Error::usage(e.to_string()).with_help(help),
        // A TLS server answered, and no device can talk to it (what `probe`
        // reports with exit 1 too).
        _ if e.is_incompatible() => Error::check_failed(e.to_string()).with_help(help),
        _ => Error::unreachable(e.to_string()).with_help(help),
    }
}

fn render_text(r: &FingerprintReport, ctx: &Ctx) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if let Some(text) = &r.emitted {
        return text.clone();
    }
    let Some(leaf) = r.chain.first() else {
        return out;
    };
    if ctx.quiet {
        // Quiet: only the result, so `FP=$(espmqtt fingerprint HOST -q)`
        // captures the SHA-1; the checks speak through the exit code.
        return format!("{}\n", leaf.sha1);
    }
    // First line: the value people paste into setFingerprint().
    let _ = writeln!(
        out,
        "{}  {}",
        ctx.paint(&leaf.sha1, Style::Bold),
        ctx.paint(
            "(leaf SHA-1: the value setFingerprint() compares)",
            Style::Dim
        )
    );
    out.push('\n');
    match (&r.host, &r.file) {
        (Some(host), _) => {
            let target = Target {
                host: host.clone(),
                port: r.port.unwrap_or(DEFAULT_PORT),
            };
            let _ = writeln!(
                out,
                "{}  address {}  SNI {}  {}  {}",
                target.display(),
                r.address.as_deref().unwrap_or("?"),
                r.servername.as_deref().unwrap_or("(none)"),
                r.tls_version.as_deref().unwrap_or("?"),
                r.cipher_suite.as_deref().unwrap_or("?"),
            );
        }
        (None, Some(file)) => {
            let _ = writeln!(out, "file {file}");
        }
        _ => {}
    }
    let n = r.chain.len();
    let _ = writeln!(
        out,
        "{n} certificate{} (leaf first, as sent)",
        if n == 1 { "" } else { "s" }
    );
    for c in &r.chain {
        out.push('\n');
        let role = if c.index == 0 {
            "leaf"
        } else if c.self_signed {
            "root"
        } else if c.is_ca {
            "intermediate"
        } else {
            "certificate"
        };
        let _ = writeln!(
            out,
            "{}",
            ctx.paint(&format!("#{} {role}", c.index), Style::Bold)
        );
        if let Some(e) = &c.parse_error {
            let _ = writeln!(out, "  {:<12}{e}", "error");
        } else {
            let _ = writeln!(out, "  {:<12}{}", "subject", c.subject);
            let _ = writeln!(out, "  {:<12}{}", "issuer", c.issuer);
            if !c.sans.is_empty() {
                let _ = writeln!(out, "  {:<12}{}", "SANs", c.sans.join(", "));
            }
            let left = if c.days_left < 0 {
                ctx.paint(&format!("expired {} days ago", -c.days_left), Style::Red)
            } else {
                format!("{} days left", c.days_left)
            };
            let _ = writeln!(
                out,
                "  {:<12}{} → {} ({left})",
                "valid", c.not_before, c.not_after
            );
            let _ = writeln!(out, "  {:<12}{}", "serial", c.serial);
            let _ = writeln!(out, "  {:<12}{}", "key", c.key.describe());
            let _ = writeln!(out, "  {:<12}{}", "signature", c.signature_algorithm);
        }
        let _ = writeln!(out, "  {:<12}{}", "SHA-1", c.sha1);
        let _ = writeln!(out, "  {:<12}{}", "SHA-256", c.sha256);
        if let Some(pin) = &c.pin_sha256 {
            let _ = writeln!(out, "  {:<12}{pin}", "pin-sha256");
        }
    }
    if let Some(t) = &r.tasmota_fingerprint {
        let _ = writeln!(out, "\nTasmota MqttFingerprint (public key): {t}");
    }
    if !r.warnings.is_empty() {
        out.push('\n');
        for w in &r.warnings {
            let label = if w.severity == "warning" {
                ctx.paint("warning:", Style::Yellow)
            } else {
                ctx.paint("note:", Style::Dim)
            };
            let _ = writeln!(out, "{label} {}", w.message);
        }
    }
    if r.expect.is_some() || r.min_days.is_some() {
        out.push('\n');
        out.push_str(&render_checks(r, ctx));
    }
    out
}

/// The `--expect` (or drift check) and `--min-days` verdict lines.
fn render_checks(r: &FingerprintReport, ctx: &Ctx) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    match &r.expect {
        Some(e) if e.origin == ExpectOrigin::Config.as_str() => {
            out.push_str(&render_drift(e, r, ctx))
        }
        Some(e) => {
            for c in &e.checks {
                if c.matched {
                    let _ = writeln!(
                        out,
                        "{} --expect {} {} matches the leaf",
                        ctx.paint("ok:", Style::Green),
                        c.kind,
                        c.value
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{} --expect {} {}: the leaf has {}",
                        ctx.paint("MISMATCH:", Style::Red),
                        c.kind,
                        c.value,
                        c.actual
                    );
                    if let Some(i) = c.matches_certificate {
                        let _ = writeln!(
                            out,
                            "  the expected value belongs to certificate #{i}, not the leaf: \
                             a device compares the leaf only"
                        );
                    }
                }
            }
        }
        None => {}
    }
    if let Some(m) = &r.min_days {
        let _ = writeln!(
            out,
            "{} --min-days {}: {}",
            if m.ok {
                ctx.paint("ok:", Style::Green)
            } else {
                ctx.paint("FAILED:", Style::Red)
            },
            m.min_days,
            if m.days_left < 0 {
                format!("the leaf expired {} days ago", -m.days_left)
            } else {
                format!("the leaf has {} days left", m.days_left)
            }
        );
    }
    out
}
