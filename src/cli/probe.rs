//! `espmqtt probe`: the device's view of a broker, end to end, from the host.
//!
//! This file only turns flags, `espmqtt.toml` and the registry into
//! [`crate::mqtt::probe::ProbeOptions`] and renders the report; the work is
//! in `crate::mqtt::probe` and `crate::tls` (docs/PROBE.md).

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{Error, ExitStatus, Result};
use crate::mqtt::probe::{self, PhaseStatus, ProbeOptions, ProbeReport, Verdict};
use crate::mqtt::session::MqttParams;
use crate::tls::analysis::Severity;
use crate::tls::clienthello::{CipherBuild, Mfln};
use crate::tls::engine::{Anchor, ClientIdentity, DeviceTls, DeviceTrust};
use crate::tls::{cert, TrustMode};

use super::output::Style;
use super::Ctx;

const AFTER_HELP: &str = "\
What it does, with the device's own TLS engine (BearSSL, configured like
the ESP8266 core's WiFiClientSecure):
  1. resolve and connect over TCP
  2. the device's handshake: its ClientHello, its verification in the
     chosen trust mode, its buffers (max_fragment_length)
  3. over that session, MQTT 3.1.1 as the firmware does it: CONNECT with
     the device's credentials and last will, SUBSCRIBE <prefix>/<id>/#,
     PUBLISH <prefix>/<id>/probe and receive it back, DISCONNECT

Reports the BearSSL error (device_tls_error) and the PubSubClient state
the device would end in, with the reason and the fix.

Exit codes: 0 the device would connect (verdict ok), 1 it would not
  (verdict fail), 2 usage error, 3 nothing TLS answered (DNS, TCP, or the
  port does not speak TLS).

Examples:
  espmqtt probe --device sensor-001
  espmqtt probe broker.example.com --ca-file ca.pem -u dev1 \\
      --password-env DEV1_PW
  espmqtt probe 192.0.2.10:8883 --trust fingerprint \\
      --fingerprint 'AB:CD:…' --fingerprint 'EF:01:…'
  espmqtt probe mqtts://broker.example.com --trust pubkey \\
      --pubkey-file broker.pub --mfln 1024
  espmqtt probe broker.example.com --cert dev1.crt --key dev1.key \\
      --format json";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct ProbeArgs {
    /// Broker address: HOST, HOST:PORT, mqtts://HOST[:PORT], [IPv6]:PORT
    /// (default port 8883; default: [broker] in espmqtt.toml).
    pub target: Option<String>,
    // Boxed: the flags are many, and `Command` holds every subcommand's args.
    #[command(flatten)]
    pub flags: Box<ProbeFlags>,
}

/// The options of `probe` (everything but the target). Its `Debug` leaves
/// the password out.
#[derive(clap::Args)]
pub struct ProbeFlags {
    /// Take the settings of a registered device (needs the device registry).
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// Check the device's (or, with --all, every device's) committed and staged
    /// trust against the broker and the staged next certificate (docs/OTA.md).
    #[arg(long)]
    pub staged_trust: bool,
    /// With --staged-trust: every active device.
    #[arg(long, requires = "staged_trust", conflicts_with = "device")]
    pub all: bool,
    /// MQTT user name.
    #[arg(long, short = 'u')]
    pub username: Option<String>,
    /// MQTT password (visible in the process list: prefer --password-env).
    #[arg(long, conflicts_with = "password_env")]
    pub password: Option<String>,
    /// Name of an environment variable holding the MQTT password.
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// MQTT client id (default: the device's, for --device or a registered
    /// user name; else the user name; else espmqtt-probe-<random>).
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
    /// The name the device passes to connect(), sent as SNI and checked
    /// against the certificate (default: HOST, also when it is an IP
    /// address, as the firmware does).
    #[arg(long, value_name = "NAME")]
    pub servername: Option<String>,
    /// Topic prefix: topics are <prefix>/<client-id>/….
    /// [default: espmqtt.toml's, else espmqtt]
    #[arg(long, value_name = "P")]
    pub topic_prefix: Option<String>,
    /// Device buffers setBufferSizes(N, N), i.e. the max_fragment_length it
    /// requests: 512|1024|2048|4096|off (16 KB, no request).
    /// [default: espmqtt.toml's, else 512]
    #[arg(long, value_name = "SIZE", value_parser = parse_mfln)]
    pub mfln: Option<Mfln>,
    /// TLS versions the device enables (setSSLVersion): 1.0-1.2, 1.1-1.2, 1.2…
    #[arg(long, value_name = "MIN-MAX", value_parser = parse_versions)]
    pub tls_versions: Option<(u16, u16)>,
    /// The core's cipher build option.
    /// [default: espmqtt.toml's, else all]
    #[arg(long, value_enum)]
    pub ciphers: Option<CipherBuild>,
    /// Give up after this many seconds (whole probe, DNS included).
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = super::duration::seconds_f64)]
    pub timeout: f64,
    /// `setBufferSizes` from espmqtt.toml's [tls] mfln (not a flag).
    #[arg(skip)]
    pub buffers: Option<(u16, u16)>,
    /// The device's client certificate from the registry (not a flag; kept
    /// in memory only).
    #[arg(skip)]
    pub identity: Option<ClientIdentity>,
    /// Where the client id came from (not a flag).
    #[arg(skip)]
    pub client_id_source: Option<String>,
    /// With --device: the trust of the config the device runs, when the
    /// registry knows it (an update or a recorded serial flash), with its
    /// label; it wins over espmqtt.toml's (not a flag).
    #[arg(skip)]
    pub running_trust: Option<(String, DeviceTrust)>,
}

impl std::fmt::Debug for ProbeFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbeFlags")
            .field("device", &self.device)
            .field("staged_trust", &self.staged_trust)
            .field("all", &self.all)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_env", &self.password_env)
            .field("client_id", &self.client_id)
            .field("running_trust", &self.running_trust.as_ref().map(|t| &t.0))
            .field("trust", &self.trust)
            .field("ca_file", &self.ca_file)
            .field("fingerprint", &self.fingerprint)
            .field("pubkey_file", &self.pubkey_file)
            .field("cert", &self.cert)
            .field("key", &self.key)
            .field("servername", &self.servername)
            .field("topic_prefix", &self.topic_prefix)
            .field("mfln", &self.mfln)
            .field("tls_versions", &self.tls_versions)
            .field("ciphers", &self.ciphers)
            .field("timeout", &self.timeout)
            .field("buffers", &self.buffers)
            .field("identity", &self.identity)
            .field("client_id_source", &self.client_id_source)
            .finish()
    }
}

fn parse_mfln(s: &str) -> std::result::Result<Mfln, String> {
    Mfln::parse(s).ok_or_else(|| format!("{s:?} is not one of 512, 1024, 2048, 4096, off"))
}

fn parse_versions(s: &str) -> std::result::Result<(u16, u16), String> {
    let v = |x: &str| match x.trim().trim_start_matches("TLS").trim_start_matches("tls") {
        "1.0" | "10" => Ok(0x0301u16),
        "1.1" | "11" => Ok(0x0302),
        "1.2" | "12" => Ok(0x0303),
        other => Err(format!(
            "{other:?} is not a TLS version the device has (1.0, 1.1, 1.2)"
        )),
    };
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (v(a)?, v(b)?),
        None => (v(s)?, v(s)?),
    };
    if lo > hi {
        return Err(format!("{s:?}: the minimum is above the maximum"));
    }
    Ok((lo, hi))
}

pub fn run(mut args: ProbeArgs, ctx: &Ctx) -> Result<ExitStatus> {
    if args.flags.staged_trust {
        return super::ota::run_forecast(&args.target, &args.flags.device, args.flags.timeout, ctx);
    }
    apply_project_defaults(&mut args, ctx)?;
    let opts = options(args, ctx)?;
    describe_options(&opts, ctx);
    let progress = super::progress::for_ctx(ctx);
    let report = probe::run(opts, progress.as_ref());
    // `-q`: the verdict word alone; the exit code says the same.
    let verdict = serde_json::to_value(report.verdict)
        .ok()
        .and_then(|v| v.as_str().map(|s| format!("{s}\n")))
        .unwrap_or_default();
    ctx.emit_result(&report, || verdict, |c| render(&report, c));
    // Findings the text report leaves out; `--format json` has them all.
    for f in report.findings.iter().filter(|f| !shown_in_text(f)) {
        ctx.detail(format!("info [{}] {}", f.id, f.message));
    }
    Ok(match report.verdict {
        Verdict::Ok => ExitStatus::Success,
        Verdict::Fail => ExitStatus::CheckFailed,
        Verdict::Unreachable => ExitStatus::Unreachable,
    })
}

/// Fill what the flags leave open from `espmqtt.toml` (broker, trust
/// material, buffers, cipher build, topic prefix) and, with `--device NAME`,
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
        // An explicit target without --config: a one-off check, not the
        // project's broker; only the registry may name the client id.
        registered_client_id(&paths, &mut args.flags, ctx)?;
        return Ok(());
    }
    let cfg = paths.load_config()?;
    ctx.detail(format!("read {}", paths.config_file.display()));
    let f = &mut args.flags;
    let explicit_trust = f.trust.is_some()
        || f.ca_file.is_some()
        || f.pubkey_file.is_some()
        || !f.fingerprint.is_empty();
    if args.target.is_none() && !cfg.broker.host.is_empty() {
        // The firmware connects to its connect_name() (app.cpp): the
        // configured server name when there is one — the core resolves the
        // name it sends as SNI — else the host. So does the probe.
        let host = cfg
            .broker
            .servername
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| {
                cfg.broker
                    .host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_string()
            });
        args.target = Some(
            crate::target::Target {
                host,
                port: cfg.broker.port,
            }
            .display(),
        );
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
        // The same buffers the config blob gives the device.
        f.buffers = Some(crate::device::blob::buffers_for_mfln(cfg.tls.mfln));
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
        device_identity(&name, &paths, f, ctx)?;
        if !explicit_trust {
            running_trust(&name, &paths, f, ctx)?;
        }
    } else {
        registered_client_id(&paths, f, ctx)?;
    }
    Ok(())
}

/// The device runs the trust its last update (or recorded serial flash)
/// gave it, which after `trust stage`/`retire` is no longer what
/// espmqtt.toml names (docs/OTA.md): probe as the device is.
fn running_trust(
    name: &str,
    paths: &crate::project::ProjectPaths,
    f: &mut ProbeFlags,
    ctx: &Ctx,
) -> Result<()> {
    let registry = crate::device::registry::Registry::open_read_only(paths)?;
    if let Some((label, trust)) = crate::ops::trust_forecast::running_trust(&registry, name)? {
        ctx.detail(format!(
            "trust: {} from the device's {label} (the registry), not espmqtt.toml",
            trust.mode.as_str()
        ));
        f.trust = Some(trust.mode);
        f.running_trust = Some((label, trust));
    }
    Ok(())
}

/// `--username U` without `--client-id`: the client id of the registered
/// device with that user name, if there is one.
fn registered_client_id(
    paths: &crate::project::ProjectPaths,
    f: &mut ProbeFlags,
    ctx: &Ctx,
) -> Result<()> {
    let (Some(user), None) = (&f.username, &f.client_id) else {
        return Ok(());
    };
    if !paths.registry_db().is_file() {
        return Ok(());
    }
    let registry = crate::device::registry::Registry::open(paths)?;
    ctx.detail(format!(
        "read the registry {} (a device with user name {user:?}?)",
        registry.location()
    ));
    if let Some(dev) = registry
        .devices()?
        .into_iter()
        .find(|d| !d.revoked && &d.username == user)
    {
        f.client_id = Some(dev.client_id.clone());
        f.client_id_source = Some(format!("registered device {}", dev.name));
    }
    Ok(())
}

/// Take the device's identity from the registry: client id, username, its
/// current secret and, when it has one, its client certificate and key —
/// only where the flags left them empty, so `--password` etc. still override.
/// The certificate and key stay in memory.
fn device_identity(
    name: &str,
    paths: &crate::project::ProjectPaths,
    f: &mut ProbeFlags,
    ctx: &Ctx,
) -> Result<()> {
    let registry = crate::device::registry::Registry::open(paths)?;
    let dev = registry.device(name)?;
    ctx.detail(format!(
        "read device {name} from the registry {}{}",
        registry.location(),
        if dev.client_cert_pem.is_some() {
            " (with its client certificate and key)"
        } else {
            ""
        }
    ));
    if dev.revoked {
        return Err(Error::usage(format!("device {name} is revoked"))
            .with_help("probe another device, or create a new one with `espmqtt device new`"));
    }
    if f.client_id.is_none() {
        f.client_id = Some(dev.client_id.clone());
        f.client_id_source = Some(format!("device {name}"));
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
        f.identity = Some(identity_from_pem(
            cert.as_bytes(),
            key.as_bytes(),
            &format!("device {name}"),
        )?);
    }
    Ok(())
}

/// A client certificate chain and key from PEM (in memory).
fn identity_from_pem(cert_pem: &[u8], key_pem: &[u8], origin: &str) -> Result<ClientIdentity> {
    let chain = cert::load_certificates(cert_pem).map_err(|e| e.context(origin))?;
    let key = rustls_pemfile::private_key(&mut std::io::BufReader::new(key_pem))
        .map_err(|e| Error::usage(format!("{origin}: {e}")))?
        .ok_or_else(|| Error::usage(format!("{origin}: no private key found")))?;
    Ok(ClientIdentity {
        chain,
        key: key.secret_der().to_vec(),
    })
}

/// Read a certificate or key file; `-v` names it.
fn read(path: &std::path::Path, ctx: &Ctx) -> Result<Vec<u8>> {
    let bytes = crate::files::read_input(path, crate::files::MAX_TEXT_INPUT, "certificate or key")?;
    ctx.detail(format!("read {} ({} B)", path.display(), bytes.len()));
    Ok(bytes)
}

/// `--fingerprint` as people paste it: every spelling `fingerprint --expect`
/// reads (`SHA1 Fingerprint=…` from openssl, a C array from a sketch…). A
/// SHA-256 or a pin is refused with what to give instead: the device's
/// `setFingerprint()` compares the leaf's SHA-1 and nothing else.
fn fingerprint_flag(f: &str) -> Result<[u8; 20]> {
    use crate::tls::cert::ExpectKind;
    let help = "`espmqtt fingerprint HOST -q` prints the leaf's SHA-1 (40 hex digits, any \
                separators)";
    match cert::parse_expected(f) {
        Ok(v) if v.kind == ExpectKind::Sha1 => {
            <[u8; 20]>::try_from(v.bytes.as_slice()).map_err(|_| Error::usage("bad SHA-1"))
        }
        Ok(v) if v.kind == ExpectKind::Sha256 => Err(Error::usage(format!(
            "--fingerprint {f:?} is a SHA-256 fingerprint; the device's setFingerprint() \
             compares the SHA-1 of the leaf certificate"
        ))
        .with_help(help)),
        Ok(_) => Err(Error::usage(format!(
            "--fingerprint {f:?} is a pin-sha256 (a hash of the public key); the device's \
             setFingerprint() compares the SHA-1 of the leaf certificate"
        ))
        .with_help(format!(
            "{help}; to pin the key instead, use --trust pubkey --pubkey-file CERT"
        ))),
        Err(e) => Err(Error::usage(format!(
            "--fingerprint {f:?} is not a SHA-1 fingerprint: {e}"
        ))
        .with_help(help)),
    }
}

fn options(args: ProbeArgs, ctx: &Ctx) -> Result<ProbeOptions> {
    let a = *args.flags;
    let target = args.target.clone().ok_or_else(|| {
        Error::usage("no broker given").with_help("espmqtt probe HOST[:PORT] (or --device NAME)")
    })?;
    let target = crate::target::parse(&target).map_err(|e| {
        Error::usage(format!("invalid broker address: {e}"))
            .with_help(crate::target::TargetError::help())
    })?;
    // The firmware passes its host string to connect() (app.cpp
    // connect_name()): a name or an IP literal, both sent as SNI and
    // checked against the certificate.
    let server_name = a.servername.clone().unwrap_or_else(|| target.host.clone());
    if server_name.len() > 255 {
        return Err(Error::usage(
            "the server name is longer than 255 characters; BearSSL refuses it (BR_ERR_BAD_PARAM, \
             error 1) before connecting",
        ));
    }
    if server_name.is_empty() {
        return Err(Error::usage("--servername must not be empty"));
    }
    if !(0.1..=3600.0).contains(&a.timeout) {
        return Err(Error::usage(
            "--timeout must be between 0.1 and 3600 seconds",
        ));
    }
    let ciphers = a.ciphers.unwrap_or_default();
    let (trust, anchor_source) = trust_options(&a, ctx)?;
    let client = match (&a.cert, &a.key) {
        (Some(c), Some(k)) => Some(identity_from_pem(
            &read(c, ctx)?,
            &read(k, ctx)?,
            &format!("{} / {}", c.display(), k.display()),
        )?),
        _ => a.identity.clone(),
    };
    check_basic_build(ciphers, &trust, client.as_ref())?;
    let password = match (&a.password, &a.password_env) {
        (Some(p), _) => Some(p.clone()),
        (None, Some(var)) => Some(std::env::var(var).map_err(|_| {
            Error::usage(format!("--password-env names ${var}, which is not set"))
                .with_help(format!("export {var}=… before running espmqtt"))
        })?),
        _ => None,
    };
    let (client_id, client_id_source) = match (&a.client_id, &a.username) {
        (Some(id), _) => (
            id.clone(),
            a.client_id_source
                .clone()
                .unwrap_or_else(|| "--client-id".into()),
        ),
        (None, Some(u)) => (
            u.clone(),
            "the user name, as no device is registered with it".into(),
        ),
        (None, None) => {
            let r = crate::tls::net::random_bytes::<3>();
            (
                format!("espmqtt-probe-{}", hex::encode(r)),
                "random, no device or user given".into(),
            )
        }
    };
    if client_id.trim().is_empty()
        || client_id.starts_with(' ')
        || client_id.contains(['/', '#', '+'])
    {
        return Err(Error::usage(
            "the client id must be non-empty and contain no '/', '#' or '+' (it is part of the \
             topics)",
        ));
    }
    let buffers = match (a.mfln, a.buffers) {
        (Some(m), _) => m.buffers(),
        (None, Some(b)) => b,
        (None, None) => Mfln::B512.buffers(),
    };
    Ok(ProbeOptions {
        host: target.host.clone(),
        port: target.port,
        tls: DeviceTls {
            ciphers,
            versions: a.tls_versions.unwrap_or((0x0301, 0x0303)),
            buffers,
            trust,
            client,
            server_name: Some(server_name),
        },
        mqtt: MqttParams {
            client_id,
            username: a.username.clone(),
            password,
            topic_prefix: a.topic_prefix.clone().unwrap_or_else(|| "espmqtt".into()),
            keepalive: 15,
        },
        timeout: Duration::from_secs_f64(a.timeout),
        anchor_source,
        client_id_source,
        device: a.device.clone(),
    })
}

/// The trust material of the chosen mode, and where the anchors come from.
fn trust_options(a: &ProbeFlags, ctx: &Ctx) -> Result<(DeviceTrust, Option<String>)> {
    if let Some((label, trust)) = &a.running_trust {
        let source = (trust.mode == TrustMode::Ca).then(|| format!("the device's {label}"));
        return Ok((trust.clone(), source));
    }
    let mode = a.trust.unwrap_or_default();
    let mut trust = DeviceTrust {
        mode,
        time: cert::unix_now(),
        ..Default::default()
    };
    let mut anchor_source = None;
    match mode {
        TrustMode::Ca => match &a.ca_file {
            Some(p) => {
                let certs =
                    cert::load_certificates(&read(p, ctx)?).map_err(|e| e.context(p.display()))?;
                trust.anchors = certs.into_iter().map(Anchor::Certificate).collect();
                anchor_source = Some(p.display().to_string());
            }
            None => {
                trust.anchors = system_anchors();
                anchor_source = Some("the system roots (webpki-roots)".into());
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
                trust.fingerprints.push(fingerprint_flag(f)?);
            }
        }
        TrustMode::Pubkey => {
            let p = a.pubkey_file.as_ref().ok_or_else(|| {
                Error::usage("--trust pubkey needs --pubkey-file PEM").with_help(
                    "give the broker's certificate, or the `broker_pubkey` PEM that \
                         `espmqtt fingerprint HOST --emit arduino` prints",
                )
            })?;
            let spki = load_spki(&read(p, ctx)?).map_err(|e| e.context(p.display()))?;
            crate::tls::engine::public_key(&spki).map_err(|e| {
                Error::usage(format!("{}: {e}", p.display()))
                    .with_help("pin an RSA or EC P-256/P-384/P-521 key")
            })?;
            trust.pubkey_spki = Some(spki);
        }
        TrustMode::Insecure => {}
    }
    Ok((trust, anchor_source))
}

/// Combinations the core refuses in `connect()` before any byte is sent.
fn check_basic_build(
    ciphers: CipherBuild,
    trust: &DeviceTrust,
    client: Option<&ClientIdentity>,
) -> Result<()> {
    if ciphers != CipherBuild::Basic {
        return Ok(());
    }
    if trust.mode == TrustMode::Pubkey {
        let ec = trust
            .pubkey_spki
            .as_deref()
            .and_then(crate::tls::explain::spki_key_info)
            .is_some_and(|k| k.kind == "ec");
        if ec {
            return Err(Error::usage(
                "a basic-ciphers build cannot pin an EC key: the core's connect() fails before \
                 sending anything (getLastSSLError() -1000)",
            )
            .with_help("pin an RSA key, or build with all ciphers ([tls] ciphers = \"all\")"));
        }
    }
    if let Some(c) = client {
        let ec = c
            .chain
            .first()
            .and_then(|l| crate::tls::explain::key_info(l))
            .is_some_and(|k| k.kind == "ec");
        if ec {
            return Err(Error::usage(
                "a basic-ciphers build cannot use an EC client certificate: the core's connect() \
                 fails before sending anything",
            )
            .with_help("use an RSA client certificate, or build with all ciphers"));
        }
    }
    Ok(())
}

/// The system roots (webpki-roots) as anchors, for `ca` mode without
/// `--ca-file`: the probe then names the one the device must carry.
fn system_anchors() -> Vec<Anchor> {
    webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .map(|ta| Anchor::Key {
            // webpki stores the Name and SPKI contents without their outer
            // SEQUENCE; BearSSL compares full DER, so re-wrap them.
            subject: der_sequence(ta.subject.as_ref()),
            spki: der_sequence(ta.subject_public_key_info.as_ref()),
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

/// `-v`: what the device will do, before it does it (never the password).
fn describe_options(o: &ProbeOptions, ctx: &Ctx) {
    let t = &o.tls;
    ctx.detail(format!(
        "probe {}:{} as the device: trust {}{}, ciphers {}, {} to {}, buffers {}/{}, server \
         name {}",
        o.host,
        o.port,
        t.trust.mode,
        o.anchor_source
            .as_deref()
            .filter(|_| t.trust.mode == TrustMode::Ca)
            .map(|s| format!(" ({} anchor(s) from {s})", t.trust.anchors.len()))
            .unwrap_or_default(),
        t.ciphers.as_str(),
        crate::tls::names::version_name(t.versions.0),
        crate::tls::names::version_name(t.versions.1),
        t.buffers.0,
        t.buffers.1,
        t.server_name.as_deref().unwrap_or("(none)")
    ));
    ctx.detail(format!(
        "MQTT as client id {:?} ({}), {}, password {}{}",
        o.mqtt.client_id,
        o.client_id_source,
        o.mqtt
            .username
            .as_deref()
            .map(|u| format!("user {u:?}"))
            .unwrap_or_else(|| "no user name".into()),
        if o.mqtt.password.is_some() {
            "set"
        } else {
            "none"
        },
        if t.client.is_some() {
            ", with a client certificate"
        } else {
            ""
        }
    ));
}

/// Findings the text report always shows: all but the informational ones,
/// and of those the two a user acts on.
fn shown_in_text(f: &crate::tls::analysis::Finding) -> bool {
    f.severity != Severity::Info || f.id == "heap_estimate" || f.id == "trust_anchor"
}

fn render(r: &ProbeReport, c: &Ctx) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "probe {} as an ESP8266 (trust {}, ciphers {}, MFLN {}, client id {})\n\n",
        r.target,
        r.trust,
        r.ciphers.as_str(),
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
    let shown: Vec<_> = r.findings.iter().filter(|f| shown_in_text(f)).collect();
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
    s.push_str(&format!(
        "\nverdict {v} ({}, PubSubClient state {}, {} ms)\n",
        r.device_tls_error
            .map(|e| format!("BearSSL error {e}"))
            .unwrap_or_else(|| "no TLS attempted".into()),
        r.pubsubclient_state,
        r.total_millis
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_parser_follows_the_core() {
        let ok = |s: &str| fingerprint_flag(s).ok();
        let hex = "f2aad7b4c5e60718293a4b5c6d7e8f9001122334";
        assert!(ok(hex).is_some());
        let colons = "f2:aa:d7:b4:c5:e6:07:18:29:3a:4b:5c:6d:7e:8f:90:01:12:23:34";
        assert_eq!(ok(colons), ok(hex));
        assert!(ok(&colons.to_uppercase().replace(':', " ")).is_some());
        assert_eq!(ok(&format!("SHA1 Fingerprint={colons}")), ok(hex));
        assert_eq!(
            ok(&format!("{{0x{}}}", colons.replace(':', ", 0x"))),
            ok(hex)
        );
        assert!(ok(&format!("x{colons}")).is_none());
        assert!(ok(&hex[..38]).is_none());
        assert!(ok(&format!("{hex}00")).is_none());
        let sha256 = fingerprint_flag(&"ab".repeat(32)).unwrap_err();
        assert!(sha256.to_string().contains("SHA-256"), "{sha256}");
    }

    #[test]
    fn debug_leaves_the_password_out() {
        use clap::Parser;
        #[derive(Parser)]
        struct Probe {
            #[command(flatten)]
            flags: ProbeFlags,
        }
        let p = Probe::try_parse_from(["probe", "-u", "dev1", "--password", "pw-hunter-7"])
            .expect("parses");
        let text = format!("{:?}", p.flags);
        assert!(!text.contains("pw-hunter-7"), "{text}");
        assert!(
            text.contains("<redacted>") && text.contains("dev1"),
            "{text}"
        );
    }

    #[test]
    fn version_ranges() {
        assert_eq!(parse_versions("1.0-1.2").unwrap(), (0x0301, 0x0303));
        assert_eq!(parse_versions("1.2").unwrap(), (0x0303, 0x0303));
        assert_eq!(parse_versions("TLS1.1-TLS1.2").unwrap(), (0x0302, 0x0303));
        assert!(parse_versions("1.3").is_err());
        assert!(parse_versions("1.2-1.0").is_err());
    }
}
