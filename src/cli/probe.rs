//! `espmqtt probe`: the device's view of a broker, end to end, from the host.
//!
//! This file only turns flags into [`crate::mqtt::probe::ProbeOptions`] and
//! renders the report; the work is in `crate::mqtt::probe` and `crate::tls`.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, ExitStatus, Result};
use crate::mqtt::probe::{self, PhaseStatus, ProbeOptions, ProbeReport, Verdict};
use crate::tls::clienthello::{CipherBuild, Mfln};
use crate::tls::compat::Severity;
use crate::tls::device_trust::{self, Anchor, DeviceTrust};
use crate::tls::{cert, TrustMode};

use super::output::Style;
use super::Ctx;

const AFTER_HELP: &str = "\
What it does:
  1. resolve and connect over TCP
  2. send the exact ClientHello of an ESP8266 (core 3.1.x, BearSSL) and parse the answer
  3. verify the server the way the device does in the chosen trust mode
  4. open a TLS 1.2 session with the device's suites and run MQTT 3.1.1:
     CONNECT (keepalive 15 s), SUBSCRIBE <prefix>/<client-id>/#,
     PUBLISH <prefix>/<client-id>/probe and receive it back, DISCONNECT

Exit codes: 0 the device would connect (verdict ok), 1 it would not (verdict fail),
  2 usage error, 3 unreachable (DNS, TCP, or the port does not speak TLS).

Examples:
  espmqtt probe broker.example.com --ca-file ca.pem --username dev1 --password-env DEV1_PW
  espmqtt probe 192.168.1.10:8883 --trust fingerprint --fingerprint 'AB:CD:…' --fingerprint 'EF:01:…'
  espmqtt probe broker.example.com --trust pubkey --pubkey-file broker.pub --mfln 1024
  espmqtt probe broker.example.com --cert dev1.crt --key dev1.key --format json";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct ProbeArgs {
    /// Broker address: HOST, HOST:PORT, [IPv6]:PORT (default port 8883).
    pub target: Option<String>,
    // Boxed: the flags are many, and `Command` holds every subcommand's args.
    #[command(flatten)]
    pub flags: Box<ProbeFlags>,
}

/// The options of `probe` (everything but the target).
#[derive(Debug, clap::Args)]
pub struct ProbeFlags {
    /// Take the settings of a registered device (needs the device registry).
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// MQTT user name.
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// MQTT password (visible in the process list: prefer --password-env).
    #[arg(long, conflicts_with = "password_env")]
    pub password: Option<String>,
    /// Name of an environment variable holding the MQTT password.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// MQTT client id (default: espmqtt-probe-<random>).
    #[arg(long, value_name = "ID")]
    pub client_id: Option<String>,
    /// How the device authenticates the broker [default: espmqtt.toml's, else ca].
    #[arg(long, value_enum)]
    pub trust: Option<TrustMode>,
    /// Trust anchor(s) for `ca` mode, PEM (default: the system roots).
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Leaf SHA-1 for `fingerprint` mode; give it twice for current and next.
    #[arg(long, value_name = "SHA1")]
    pub fingerprint: Vec<String>,
    /// Public key (SPKI PEM, or a certificate) for `pubkey` mode.
    #[arg(long, value_name = "PEM")]
    pub pubkey_file: Option<PathBuf>,
    /// Client certificate (PEM chain) for mutual TLS.
    #[arg(long, value_name = "PEM", requires = "key")]
    pub cert: Option<PathBuf>,
    /// Private key of the client certificate (PEM).
    #[arg(long, value_name = "PEM", requires = "cert")]
    pub key: Option<PathBuf>,
    /// Name the device passes to connect() (SNI and name check); default:
    /// HOST when it is a name, none when HOST is an IP address.
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// Topic prefix: topics are <prefix>/<client-id>/….
    /// [default: espmqtt.toml's, else espmqtt]
    #[arg(long, value_name = "P")]
    pub topic_prefix: Option<String>,
    /// Device buffer size, i.e. the max_fragment_length it requests: 512|1024|2048|4096|off.
    /// [default: espmqtt.toml's, else 512]
    #[arg(long, value_name = "SIZE", value_parser = parse_mfln)]
    pub mfln: Option<Mfln>,
    /// The core's cipher build option.
    /// [default: espmqtt.toml's, else all]
    #[arg(long, value_enum)]
    pub ciphers: Option<CipherBuild>,
    /// Give up after this many seconds (whole probe).
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,
}

fn parse_mfln(s: &str) -> std::result::Result<Mfln, String> {
    Mfln::parse(s).ok_or_else(|| format!("{s:?} is not one of 512, 1024, 2048, 4096, off"))
}

pub fn run(mut args: ProbeArgs, ctx: &Ctx) -> Result<ExitStatus> {
    apply_project_defaults(&mut args, ctx)?;
    let opts = options(args)?;
    let progress = super::progress::for_ctx(ctx);
    let report = probe::run(opts, progress.as_ref());
    ctx.emit(&report, |c| render(&report, c));
    Ok(match report.verdict {
        Verdict::Ok => ExitStatus::Success,
        Verdict::Fail => ExitStatus::CheckFailed,
        Verdict::Unreachable => ExitStatus::Unreachable,
    })
}

/// Fill what the flags leave open from `espmqtt.toml` (broker, trust
/// material, MFLN, cipher build, topic prefix) and, with `--device NAME`,
/// the device's identity from the registry. Flags always win.
fn apply_project_defaults(args: &mut ProbeArgs, ctx: &Ctx) -> Result<()> {
    let paths = crate::project::ProjectPaths::locate(ctx.config.as_deref())?;
    let needed = args.flags.device.is_some() || args.target.is_none();
    if !paths.has_config() {
        if args.flags.device.is_some() {
            return Err(Error::usage(format!(
                "--device needs a project: no {} found",
                paths.config_file.display()
            ))
            .with_help("run `espmqtt init`, or pass the broker and credentials as flags"));
        }
        return Ok(());
    }
    if !needed && ctx.config.is_none() {
        // An explicit target without --config: a one-off check, not the project's broker.
        return Ok(());
    }
    let cfg = paths.load_config()?;
    let f = &mut args.flags;
    if args.target.is_none() && !cfg.broker.host.is_empty() {
        args.target = Some(if cfg.broker.host.contains(':') {
            format!("[{}]:{}", cfg.broker.host, cfg.broker.port)
        } else {
            format!("{}:{}", cfg.broker.host, cfg.broker.port)
        });
        if f.servername.is_none() {
            f.servername = cfg.broker.servername.clone();
        }
    }
    let rel = |p: &std::path::Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            paths.root.join(p)
        }
    };
    if f.trust.is_none() {
        f.trust = Some(cfg.tls.trust);
    }
    if f.ca_file.is_none() {
        f.ca_file = cfg.tls.ca_file.as_deref().map(rel);
    }
    if f.pubkey_file.is_none() {
        f.pubkey_file = cfg.tls.pubkey_file.as_deref().map(rel);
    }
    if f.fingerprint.is_empty() {
        f.fingerprint = cfg.tls.fingerprints.clone();
    }
    if f.mfln.is_none() {
        f.mfln = Mfln::parse(&cfg.tls.mfln.to_string());
    }
    if f.ciphers.is_none() {
        f.ciphers = match cfg.tls.ciphers.as_str() {
            "basic" => Some(CipherBuild::Basic),
            _ => Some(CipherBuild::All),
        };
    }
    if f.topic_prefix.is_none() {
        f.topic_prefix = Some(cfg.mqtt.topic_prefix.clone());
    }
    if let Some(name) = f.device.clone() {
        device_identity(&name, &paths, f)?;
    }
    Ok(())
}

/// Take the device's identity from the registry: client id, username, its
/// current secret and, when it has one, its client certificate and key —
/// only where the flags left them empty, so `--password` etc. still override.
/// The certificate and key are written to `.espmqtt/tmp/` (mode 0600, in a
/// 0700 directory) because the TLS layer reads PEM files.
fn device_identity(
    name: &str,
    paths: &crate::project::ProjectPaths,
    f: &mut ProbeFlags,
) -> Result<()> {
    let registry = crate::device::registry::Registry::open(paths)?;
    let dev = registry.device(name)?;
    if dev.revoked {
        return Err(Error::usage(format!("device {name} is revoked"))
            .with_help("probe another device, or create a new one with `espmqtt device new`"));
    }
    if f.client_id.is_none() {
        f.client_id = Some(dev.client_id.clone());
    }
    if f.username.is_none() {
        f.username = Some(dev.username.clone());
    }
    if f.password.is_none() && f.password_env.is_none() {
        f.password = Some(dev.secret.clone());
    }
    if let (None, None, Some(cert), Some(key)) =
        (&f.cert, &f.key, &dev.client_cert_pem, &dev.client_key_pem)
    {
        let dir = paths.state_dir.join("tmp");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let cert_path = dir.join(format!("{name}.crt"));
        let key_path = dir.join(format!("{name}.key"));
        write_private(&cert_path, cert.as_bytes())?;
        write_private(&key_path, key.as_bytes())?;
        f.cert = Some(cert_path);
        f.key = Some(key_path);
    }
    Ok(())
}

fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut file = opts.open(path).map_err(|e| Error::io(path, e))?;
    file.write_all(bytes).map_err(|e| Error::io(path, e))
}

/// Split HOST[:PORT] / [v6]:PORT.
pub fn split_target(t: &str) -> Result<(String, u16)> {
    let bad = || Error::usage(format!("{t:?} is not HOST, HOST:PORT or [IPv6]:PORT"));
    if let Some(rest) = t.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| bad())?,
            None if after.is_empty() => 8883,
            None => return Err(bad()),
        };
        return Ok((h.to_string(), port));
    }
    if t.matches(':').count() > 1 {
        return Ok((t.to_string(), 8883)); // bare IPv6
    }
    match t.rsplit_once(':') {
        Some((h, p)) => Ok((h.to_string(), p.parse().map_err(|_| bad())?)),
        None if !t.is_empty() => Ok((t.to_string(), 8883)),
        None => Err(bad()),
    }
}

fn read(path: &std::path::Path) -> Result<Vec<u8>> {
    crate::files::read_input(path, crate::files::MAX_TEXT_INPUT, "certificate or key")
}

/// Parse a fingerprint in the one grammar every command accepts (see
/// `src/digest.rs`).
pub fn parse_fingerprint(s: &str) -> Option<[u8; 20]> {
    crate::digest::parse_sha1(s).ok()
}

fn options(args: ProbeArgs) -> Result<ProbeOptions> {
    let a = *args.flags;
    let target = args.target.clone().ok_or_else(|| {
        Error::usage("no broker given").with_help("espmqtt probe HOST[:PORT] (or --device NAME)")
    })?;
    let (host, port) = split_target(&target)?;
    let host_is_ip = host.parse::<std::net::IpAddr>().is_ok();
    let server_name = a
        .servername
        .clone()
        .or(if host_is_ip { None } else { Some(host.clone()) });
    if server_name.as_ref().is_some_and(|n| n.len() > 255) {
        return Err(Error::usage(
            "the server name is longer than 255 characters; BearSSL fails with BR_ERR_BAD_PARAM",
        ));
    }
    if !(0.1..=3600.0).contains(&a.timeout) {
        return Err(Error::usage(
            "--timeout must be between 0.1 and 3600 seconds",
        ));
    }
    let trust_mode = a.trust.unwrap_or_default();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    let mut trust = DeviceTrust {
        mode: trust_mode,
        server_name: server_name.clone(),
        now,
        ..Default::default()
    };
    let mut anchor_source = None;
    match trust_mode {
        TrustMode::Ca => match &a.ca_file {
            Some(p) => {
                let certs =
                    cert::load_certificates(&read(p)?).map_err(|e| e.context(p.display()))?;
                trust.anchors = certs.iter().filter_map(|c| Anchor::from_cert(c)).collect();
                anchor_source = Some(p.display().to_string());
            }
            None => {
                trust.anchors = device_trust::system_anchors();
                anchor_source = Some("system roots (webpki-roots)".into());
            }
        },
        TrustMode::Fingerprint => {
            if a.fingerprint.is_empty() {
                return Err(Error::usage("--trust fingerprint needs --fingerprint SHA1")
                    .with_help("`espmqtt fingerprint HOST` prints the value to use"));
            }
            if a.fingerprint.len() > 2 {
                return Err(Error::usage("at most two fingerprints (current and next)"));
            }
            for f in &a.fingerprint {
                trust.fingerprints.push(parse_fingerprint(f).ok_or_else(|| {
                    Error::usage(format!(
                        "{f:?} is not a SHA-1 fingerprint the device accepts"
                    ))
                    .with_help(
                        "20 hex byte pairs, optionally separated by ':' or ' ' (e.g. AB:CD:…)",
                    )
                })?);
            }
        }
        TrustMode::Pubkey => {
            let p = a.pubkey_file.as_ref().ok_or_else(|| {
                Error::usage("--trust pubkey needs --pubkey-file PEM")
                    .with_help("`espmqtt fingerprint HOST` prints the broker's public key")
            })?;
            trust.pubkey_spki = Some(load_spki(&read(p)?).map_err(|e| e.context(p.display()))?);
        }
        TrustMode::Insecure => {}
    }
    let password = match (&a.password, &a.password_env) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(var)) => Some(std::env::var(var).map_err(|_| {
            Error::usage(format!("--password-env names ${var}, which is not set"))
                .with_help(format!("export {var}=… before running espmqtt"))
        })?),
        _ => None,
    };
    let client_auth = match (&a.cert, &a.key) {
        (Some(c), Some(k)) => {
            let chain: Vec<_> = cert::load_certificates(&read(c)?)
                .map_err(|e| e.context(c.display()))?
                .into_iter()
                .map(rustls::pki_types::CertificateDer::from)
                .collect();
            let key_bytes = read(k)?;
            let key =
                rustls_pemfile::private_key(&mut std::io::BufReader::new(key_bytes.as_slice()))
                    .map_err(|e| Error::usage(format!("{}: {e}", k.display())))?
                    .ok_or_else(|| {
                        Error::usage(format!("{}: no private key found", k.display()))
                    })?;
            Some((chain, key))
        }
        _ => None,
    };
    let client_id = a.client_id.clone().unwrap_or_else(|| {
        let mut r = [0u8; 3];
        let _ = getrandom::getrandom(&mut r);
        format!("espmqtt-probe-{}", hex::encode(r))
    });
    if client_id.trim().is_empty()
        || client_id.starts_with(' ')
        || client_id.contains(['/', '#', '+'])
    {
        return Err(Error::usage("the client id must be non-empty and contain no '/', '#' or '+' (it is part of the topics)"));
    }
    Ok(ProbeOptions {
        host,
        port,
        server_name,
        trust,
        ciphers: a.ciphers.unwrap_or_default(),
        mfln: a.mfln.unwrap_or(Mfln::B512),
        client_id,
        username: a.username,
        password,
        topic_prefix: a.topic_prefix.unwrap_or_else(|| "espmqtt".into()),
        client_auth,
        timeout: Duration::from_secs_f64(a.timeout),
        anchor_source,
    })
}

/// SPKI DER from a `PUBLIC KEY` PEM, a certificate, or raw DER.
fn load_spki(bytes: &[u8]) -> Result<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        for item in rustls_pemfile::read_all(&mut std::io::BufReader::new(bytes)) {
            if let Ok(rustls_pemfile::Item::SubjectPublicKeyInfo(spki)) = item {
                return Ok(spki.as_ref().to_vec());
            }
        }
        return Err(Error::usage("the PUBLIC KEY block does not decode"));
    }
    if text.contains("-----BEGIN CERTIFICATE-----") {
        let certs = cert::load_certificates(bytes)?;
        return certs
            .first()
            .ok_or_else(|| Error::usage("no certificate"))
            .and_then(|c| cert::spki_der(c).map_err(|e| Error::usage(e.message)));
    }
    use x509_parser::prelude::FromDer;
    if x509_parser::x509::SubjectPublicKeyInfo::from_der(bytes).is_ok() {
        return Ok(bytes.to_vec());
    }
    cert::spki_der(bytes).map_err(|_| {
        Error::usage("not a public key (PEM `PUBLIC KEY`), a certificate, or SPKI DER")
    })
}

fn render(r: &ProbeReport, c: &Ctx) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "probe {} as an ESP8266 (trust {}, ciphers {}, MFLN {}, client id {})\n\n",
        r.target,
        r.trust,
        match r.ciphers {
            CipherBuild::All => "all",
            CipherBuild::Basic => "basic",
        },
        r.mfln.as_str(),
        r.client_id
    ));
    for p in &r.phases {
        let mark = match p.status {
            PhaseStatus::Ok => c.paint("ok  ", Style::Green),
            PhaseStatus::Warn => c.paint("warn", Style::Yellow),
            PhaseStatus::Fail => c.paint("FAIL", Style::Red),
            PhaseStatus::Skipped => c.paint("skip", Style::Dim),
        };
        s.push_str(&format!(
            "  {mark} {:<17} {:>6} ms  {}\n",
            p.name, p.millis, p.detail
        ));
    }
    let shown: Vec<_> = r
        .findings
        .iter()
        .filter(|f| {
            f.severity != Severity::Info
                || c.verbose > 0
                || f.id == "heap_estimate"
                || f.id == "trust_anchor"
        })
        .collect();
    if !shown.is_empty() {
        s.push('\n');
    }
    for f in shown {
        let sev = match f.severity {
            Severity::Fatal => c.paint("fatal", Style::Red),
            Severity::Warn => c.paint("warn ", Style::Yellow),
            Severity::Info => c.paint("info ", Style::Dim),
        };
        s.push_str(&format!("  {sev} [{}] {}\n", f.id, f.message));
        if let Some(d) = &f.device_error {
            s.push_str(&format!("        device: {d}\n"));
        }
        if f.fix != "none needed" {
            s.push_str(&format!("        fix:    {}\n", f.fix));
        }
    }
    let v = match r.verdict {
        Verdict::Ok => c.paint(
            "ok: the device would connect, subscribe and receive",
            Style::Green,
        ),
        Verdict::Fail => c.paint(
            "fail: the device would not work with this broker",
            Style::Red,
        ),
        Verdict::Unreachable => c.paint("unreachable: no TLS server answered", Style::Red),
    };
    s.push_str(&format!("\nverdict {v} ({} ms)\n", r.total_millis));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_parser_follows_the_core() {
        let hex = "f2aad7b4c5e60718293a4b5c6d7e8f9001122334";
        assert!(parse_fingerprint(hex).is_some());
        let colons = "f2:aa:d7:b4:c5:e6:07:18:29:3a:4b:5c:6d:7e:8f:90:01:12:23:34";
        assert_eq!(parse_fingerprint(colons), parse_fingerprint(hex));
        assert!(parse_fingerprint(&colons.to_uppercase().replace(':', " ")).is_some());
        assert!(parse_fingerprint(&format!("x{colons}")).is_none());
        assert!(parse_fingerprint(&hex[..38]).is_none());
        assert!(parse_fingerprint(&format!("{hex}00")).is_none());
    }

    #[test]
    fn targets() {
        assert_eq!(split_target("h").unwrap(), ("h".into(), 8883));
        assert_eq!(split_target("h:1").unwrap(), ("h".into(), 1));
        assert_eq!(split_target("[::1]:9").unwrap(), ("::1".into(), 9));
        assert!(split_target("h:x").is_err());
    }
}
