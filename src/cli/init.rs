//! `espmqtt init`: create espmqtt.toml.
//!
//! With flags (or without a terminal) it never prompts: whatever is missing
//! is a usage error that names the missing flags. On a terminal it asks for
//! the values the flags did not give (dialoguer), and checks each answer as
//! it is given with the same validators the flags go through, so a typo is
//! caught at its question rather than after the last one.
//!
//! Nothing is written until everything is checked: trust material fetched
//! from the broker is held in memory, and the files (material first, then
//! `espmqtt.toml`) are written at the end through `crate::files`.
//! `espmqtt.toml` is 0600 when it holds the Wi-Fi password.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::device::blob::{load_public_key, MAX_FINGERPRINTS};
use crate::error::{Error, ExitStatus, Result};
use crate::firmware::Board;
use crate::project::{
    BoardConfig, BrokerConfig, MqttConfig, ProjectConfig, ProjectPaths, TlsConfig, WifiConfig,
};
use crate::tls::TrustMode;

use crate::ops::trust::{fetch_chain, propose_trust_with};
use crate::tls::anchor::{self, Bundle};

use super::Ctx;

const AFTER_HELP: &str = "\
Trust modes (how the device checks the broker):
  ca           chain to --ca-file, dates (NTP) and host name; survives renewals
  pubkey       the broker's public key (--pubkey-file); survives renewals
               that keep the key
  fingerprint  SHA-1 of the broker's certificate (--fingerprint, up to two:
               current and next); breaks at every renewal
  insecure     no check at all

Examples:
  espmqtt init
  espmqtt init --broker broker.example.com:8883 --wifi-ssid Home \\
               --wifi-password-env WIFI_PW --trust ca --ca-file ca.pem \\
               --board esp07s
  espmqtt init --broker 192.168.1.10:8883 --wifi-ssid Lab \\
               --wifi-password 'correct horse' --trust fingerprint \\
               --fingerprint \"$(espmqtt fingerprint 192.168.1.10 -q)\" \\
               --non-interactive
  espmqtt init --from-broker broker.example.com --wifi-ssid Home \\
               --wifi-password-env WIFI_PW

With --from-broker in ca mode the anchor saved as broker-ca.pem is the chain's
root CA, looked up in the system store (or in --ca-file); pinning an
intermediate instead breaks when the CA rotates it, and is warned about.
With -q only the path of espmqtt.toml is printed.";

/// `Debug` leaves the Wi-Fi password out.
#[derive(Default, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct InitArgs {
    /// Broker the devices connect to (port defaults to 8883).
    #[arg(long, value_name = "HOST:PORT")]
    pub broker: Option<String>,
    /// Wi-Fi network name.
    #[arg(long, value_name = "SSID")]
    pub wifi_ssid: Option<String>,
    /// Wi-Fi password (WPA2: 8 to 63 characters), stored in espmqtt.toml,
    /// which is then mode 0600 (use '' for an open network).
    #[arg(long, value_name = "P", conflicts_with = "wifi_password_env")]
    pub wifi_password: Option<String>,
    /// Environment variable that holds the Wi-Fi password (kept out of the file).
    #[arg(long, value_name = "VAR")]
    pub wifi_password_env: Option<String>,
    /// Topics are <prefix>/<client-id>/status|cmd|heartbeat.
    #[arg(long, value_name = "P")]
    pub topic_prefix: Option<String>,
    /// Module: esp07 (1 MB flash) or esp07s (4 MB flash). Default esp07.
    #[arg(long, value_enum)]
    pub board: Option<Board>,
    /// How devices authenticate the broker.
    #[arg(long, value_enum)]
    pub trust: Option<TrustMode>,
    /// PEM with the trust anchor(s) for `--trust ca` (with --from-broker:
    /// the bundle the broker's root is looked up in first).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Leaf SHA-1 for `--trust fingerprint` (repeat for the next certificate).
    #[arg(long, value_name = "SHA1")]
    pub fingerprint: Vec<String>,
    /// Broker public key (PEM/DER SPKI, or a certificate) for `--trust pubkey`.
    #[arg(long, value_name = "FILE")]
    pub pubkey_file: Option<PathBuf>,
    /// Fetch the broker's chain and propose the trust mode (also sets --broker).
    #[arg(long, value_name = "HOST:PORT")]
    pub from_broker: Option<String>,
    /// Overwrite an existing espmqtt.toml.
    #[arg(long)]
    pub force: bool,
}

impl std::fmt::Debug for InitArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitArgs")
            .field("broker", &self.broker)
            .field("wifi_ssid", &self.wifi_ssid)
            .field(
                "wifi_password",
                &self.wifi_password.as_ref().map(|_| "<redacted>"),
            )
            .field("wifi_password_env", &self.wifi_password_env)
            .field("topic_prefix", &self.topic_prefix)
            .field("board", &self.board)
            .field("trust", &self.trust)
            .field("ca_file", &self.ca_file)
            .field("fingerprint", &self.fingerprint)
            .field("pubkey_file", &self.pubkey_file)
            .field("from_broker", &self.from_broker)
            .field("force", &self.force)
            .finish()
    }
}

#[derive(Debug, Serialize)]
struct Report {
    config_file: PathBuf,
    /// Mode of espmqtt.toml (0600 when it holds the Wi-Fi password).
    config_mode: String,
    /// Trust material written next to it (broker-ca.pem, broker-pubkey.pem).
    files_written: Vec<PathBuf>,
    warnings: Vec<String>,
    broker: String,
    trust: TrustMode,
    board: String,
    topic_prefix: String,
    wifi_ssid: String,
    /// "file", "env:VAR" or "none" — never the password itself.
    wifi_password: String,
}

/// Split `HOST[:PORT]` (IPv6 as `[addr]:port`); the port defaults to 8883.
/// A bad port says why (not a number, 0, above 65535).
pub fn parse_host_port(s: &str) -> Result<(String, u16)> {
    crate::target::parse(s)
        .map(|t| (t.host, t.port))
        .map_err(|e| {
            Error::usage(format!("invalid broker address: {e}"))
                .with_help(crate::target::TargetError::help())
        })
}

/// Wi-Fi SSID: 1 to 32 bytes (802.11).
pub fn validate_ssid(s: &str) -> std::result::Result<(), String> {
    if s.is_empty() || s.len() > 32 {
        return Err(format!(
            "a Wi-Fi SSID has 1 to 32 bytes (this one has {})",
            s.len()
        ));
    }
    Ok(())
}

pub use crate::project::validate_wifi_password;

/// MQTT topic prefix: 1 to 64 bytes, no wildcards (`+`, `#`), no `$` at the
/// start (reserved for the broker), no empty topic level.
pub fn validate_topic_prefix(s: &str) -> std::result::Result<(), String> {
    let why = if s.is_empty() || s.len() > 64 {
        format!(
            "a topic prefix has 1 to 64 bytes (this one has {})",
            s.len()
        )
    } else if s.contains(['+', '#']) {
        "a topic prefix cannot contain the MQTT wildcards '+' or '#'".to_string()
    } else if s.starts_with('$') {
        "topics starting with '$' are reserved for the broker ($SYS)".to_string()
    } else if s.split('/').any(str::is_empty) {
        "a topic prefix has no empty level: no '/' at either end, no '//'".to_string()
    } else if s.chars().any(|c| c.is_control()) {
        "a topic prefix cannot contain control characters".to_string()
    } else {
        return Ok(());
    };
    Err(why)
}

/// A PEM/DER file with at least one certificate (`--ca-file`); relative
/// paths are taken from the project root. Returns the certificates.
pub fn validate_ca_file(root: &Path, p: &Path) -> Result<Vec<Vec<u8>>> {
    let bytes = read_material(root, p, "CA certificate")?;
    crate::tls::cert::load_certificates(&bytes)
        .map_err(|e| e.context(format!("--ca-file {}", p.display())))
}

/// A trust material file named by the user, relative to the project root.
fn read_material(root: &Path, p: &Path, what: &str) -> Result<Vec<u8>> {
    crate::files::read_input(&resolve(root, p), crate::files::MAX_TEXT_INPUT, what)
}

fn resolve(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// A file `init` writes next to espmqtt.toml, held until everything is checked.
#[derive(Debug, Clone)]
struct Material {
    /// Relative to the project root (what espmqtt.toml records).
    rel: PathBuf,
    bytes: Vec<u8>,
}

pub fn run(mut args: InitArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = match &ctx.config {
        Some(p) => ProjectPaths::for_file(p),
        None => ProjectPaths::at(
            &std::env::current_dir()
                .map_err(|e| Error::runtime(format!("cannot read the current directory: {e}")))?,
        ),
    };
    if paths.has_config() && !args.force {
        return Err(
            Error::usage(format!("{} already exists", paths.config_file.display()))
                .with_help("edit it, or pass --force to replace it"),
        );
    }
    if !paths.root.is_dir() {
        return Err(Error::runtime(format!(
            "{}: the directory does not exist",
            paths.root.display()
        ))
        .with_help("create it first, or pass another --config PATH"));
    }
    // Flags are checked before anything else (the network included).
    check_given(&args)?;

    let mut material = Vec::new();
    let mut warnings = Vec::new();
    if let Some(target) = args.from_broker.clone() {
        from_broker(
            &mut args,
            &target,
            &paths.root,
            ctx,
            &mut material,
            &mut warnings,
        )?;
    }
    if ctx.interactive {
        prompt_missing(&mut args, &paths.root, ctx, &mut material, &mut warnings)?;
    }
    let missing = missing_flags(&args);
    if !missing.is_empty() {
        return Err(Error::usage(format!(
            "missing {}: {}",
            if missing.len() == 1 { "flag" } else { "flags" },
            missing.join(", ")
        ))
        .with_help(
            "pass them on the command line, or run `espmqtt init` in a terminal to be asked",
        ));
    }
    let config = config_from_args(&args, &paths.root, &material)?;
    if config.tls.trust == TrustMode::Insecure {
        warnings.push(
            "trust mode `insecure`: devices accept any broker certificate, so anyone on the \
             path can impersonate the broker"
                .into(),
        );
    }
    let text = config.to_toml()?;
    let header = "# espmqtt project settings (fleet-wide). Per-device secrets live in .espmqtt/registry.db.\n\
                  # Reference: `espmqtt init --help`.\n\n";
    // Material that would replace a different file needs --force, like
    // espmqtt.toml itself; checked before the first write.
    let mut to_write = Vec::new();
    for m in &material {
        let path = paths.root.join(&m.rel);
        match std::fs::read(&path) {
            Ok(old) if old == m.bytes => {}
            Ok(_) if !args.force => {
                return Err(Error::usage(format!(
                    "{} already exists with other content",
                    path.display()
                ))
                .with_help("pass --force to replace it, or name it with --ca-file/--pubkey-file"))
            }
            _ => to_write.push((path, &m.bytes)),
        }
    }
    let secret_in_file = config.wifi.password.as_ref().is_some_and(|p| !p.is_empty());
    let mode = if secret_in_file {
        crate::files::PRIVATE
    } else {
        crate::files::PUBLIC
    };
    let mut files_written = Vec::new();
    for (path, bytes) in to_write {
        crate::files::write_public(&path, bytes)?;
        ctx.wrote(&path, crate::files::PUBLIC);
        files_written.push(path);
    }
    crate::files::write_file_atomic(
        &paths.config_file,
        format!("{header}{text}").as_bytes(),
        mode,
    )?;
    ctx.wrote(&paths.config_file, mode);
    for w in &warnings {
        ctx.warn(w);
    }

    let report = Report {
        config_file: paths.config_file.clone(),
        config_mode: format!("{mode:04o}"),
        files_written,
        warnings,
        broker: format!("{}:{}", config.broker.host, config.broker.port),
        trust: config.tls.trust,
        board: config.board.name.clone(),
        topic_prefix: config.mqtt.topic_prefix.clone(),
        wifi_ssid: config.wifi.ssid.clone(),
        wifi_password: match (&config.wifi.password, &config.wifi.password_env) {
            (Some(_), _) => "file".into(),
            (None, Some(v)) => format!("env:{v}"),
            (None, None) => "none".into(),
        },
    };
    ctx.emit_result(
        &report,
        || report.config_file.display().to_string(),
        |_| {
            let mut s = format!(
                "wrote {}\n  broker {} · trust {} · board {} · topics {}/<client-id>/…\n",
                report.config_file.display(),
                report.broker,
                report.trust,
                report.board,
                report.topic_prefix
            );
            for f in &report.files_written {
                s.push_str(&format!("  wrote {}\n", f.display()));
            }
            if secret_in_file {
                s.push_str(
                    "  note: the Wi-Fi password is stored in the file (mode 0600); do not \
                     commit it (or use --wifi-password-env)\n",
                );
            }
            s.push_str("next: espmqtt device new NAME, espmqtt build, espmqtt flash --device NAME");
            s
        },
    );
    Ok(ExitStatus::Success)
}

/// The values given as flags, each checked as soon as it is known.
fn check_given(a: &InitArgs) -> Result<()> {
    if let Some(b) = &a.broker {
        parse_host_port(b).map_err(|e| e.context("--broker"))?;
    }
    if let Some(b) = &a.from_broker {
        parse_host_port(b).map_err(|e| e.context("--from-broker"))?;
    }
    let flag = |name: &str, r: std::result::Result<(), String>| {
        r.map_err(|e| Error::usage(format!("{name}: {e}")))
    };
    if let Some(v) = &a.wifi_ssid {
        flag("--wifi-ssid", validate_ssid(v))?;
    }
    if let Some(v) = &a.wifi_password {
        flag("--wifi-password", validate_wifi_password(v))?;
    }
    if let Some(v) = &a.wifi_password_env {
        if v.is_empty() || v.contains(['=', '\0']) {
            return Err(Error::usage(format!(
                "--wifi-password-env: {v:?} is not an environment variable name"
            )));
        }
        // Set now: the devices will get this value, so check it now.
        if let Ok(p) = std::env::var(v) {
            flag(
                &format!("--wifi-password-env: ${v}"),
                validate_wifi_password(&p),
            )?;
        }
    }
    if let Some(v) = &a.topic_prefix {
        flag("--topic-prefix", validate_topic_prefix(v))?;
    }
    if a.fingerprint.len() > MAX_FINGERPRINTS {
        return Err(Error::usage(format!(
            "{} fingerprints given; the firmware holds two (current and next)",
            a.fingerprint.len()
        )));
    }
    for f in &a.fingerprint {
        crate::digest::parse_sha1_for(f, "--fingerprint")?;
    }
    Ok(())
}

/// The flags a non-interactive run still needs, by their command-line names.
fn missing_flags(a: &InitArgs) -> Vec<&'static str> {
    let mut m = Vec::new();
    if a.broker.is_none() {
        m.push("--broker");
    }
    if a.wifi_ssid.is_none() {
        m.push("--wifi-ssid");
    }
    if a.wifi_password.is_none() && a.wifi_password_env.is_none() {
        m.push("--wifi-password or --wifi-password-env");
    }
    match a.trust {
        None => m.push("--trust"),
        Some(TrustMode::Ca) if a.ca_file.is_none() => m.push("--ca-file"),
        Some(TrustMode::Pubkey) if a.pubkey_file.is_none() => m.push("--pubkey-file"),
        Some(TrustMode::Fingerprint) if a.fingerprint.is_empty() => m.push("--fingerprint"),
        _ => {}
    }
    m
}

/// Validate the flags and turn them into the configuration. Trust material
/// is checked now (from memory when `init` is about to write it), so a typo
/// fails here rather than at `build`/`flash` time.
fn config_from_args(a: &InitArgs, root: &Path, material: &[Material]) -> Result<ProjectConfig> {
    check_given(a)?;
    let (host, port) = parse_host_port(a.broker.as_deref().unwrap_or_default())?;
    let trust = a.trust.unwrap_or_default();
    let ssid = a.wifi_ssid.clone().unwrap_or_default();
    validate_ssid(&ssid).map_err(|e| Error::usage(format!("--wifi-ssid: {e}")))?;
    let prefix = a.topic_prefix.clone().unwrap_or_else(|| "espmqtt".into());
    let mut tls = TlsConfig {
        trust,
        ..TlsConfig::default()
    };
    let pending = |p: &Path| {
        material
            .iter()
            .find(|m| m.rel == p)
            .map(|m| m.bytes.clone())
    };
    match trust {
        TrustMode::Ca => {
            let p = a.ca_file.clone().unwrap_or_default();
            match pending(&p) {
                Some(bytes) => {
                    crate::tls::cert::load_certificates(&bytes)?;
                }
                None => {
                    validate_ca_file(root, &p)?;
                }
            }
            tls.ca_file = Some(p);
        }
        TrustMode::Pubkey => {
            let p = a.pubkey_file.clone().unwrap_or_default();
            let bytes = match pending(&p) {
                Some(b) => b,
                None => read_material(root, &p, "public key")?,
            };
            load_public_key(&bytes)
                .map_err(|e| e.context(format!("--pubkey-file {}", p.display())))?;
            tls.pubkey_file = Some(p);
        }
        TrustMode::Fingerprint => {
            for f in &a.fingerprint {
                tls.fingerprints
                    .push(crate::tls::cert::colon_hex(&crate::digest::parse_sha1_for(
                        f,
                        "--fingerprint",
                    )?));
            }
        }
        TrustMode::Insecure => {}
    }
    Ok(ProjectConfig {
        registry: None,
        broker: BrokerConfig {
            host,
            port,
            servername: None,
        },
        wifi: WifiConfig {
            ssid,
            password: a.wifi_password.clone(),
            password_env: a.wifi_password_env.clone(),
        },
        mqtt: MqttConfig {
            topic_prefix: prefix,
            ..MqttConfig::default()
        },
        tls,
        board: BoardConfig {
            name: a.board.unwrap_or(Board::Esp07).to_string(),
        },
        ntp: Default::default(),
        operator: None,
    })
}

/// Ask for whatever the flags did not give (terminal only). Each answer is
/// checked when it is given; a wrong one is asked again with the reason.
fn prompt_missing(
    a: &mut InitArgs,
    root: &Path,
    ctx: &Ctx,
    material: &mut Vec<Material>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    prompt_broker_and_wifi(a)?;
    prompt_choices(a)?;
    prompt_trust_material(a, root, ctx, material, warnings)
}

fn prompt_failed(e: dialoguer::Error) -> Error {
    Error::runtime(format!("prompt failed: {e}"))
}

/// The broker address, the Wi-Fi network and where its password comes from.
fn prompt_broker_and_wifi(a: &mut InitArgs) -> Result<()> {
    use dialoguer::{Input, Select};
    let io = prompt_failed;
    if a.broker.is_none() {
        let v: String = Input::new()
            .with_prompt("Broker host[:port]")
            .validate_with(|s: &String| {
                parse_host_port(s).map(|_| ()).map_err(|e| match e.help {
                    Some(h) => format!("{} ({h})", e.message),
                    None => e.message,
                })
            })
            .interact_text()
            .map_err(io)?;
        a.broker = Some(v.trim().to_string());
    }
    if a.wifi_ssid.is_none() {
        let v: String = Input::new()
            .with_prompt("Wi-Fi SSID")
            .validate_with(|s: &String| validate_ssid(s))
            .interact_text()
            .map_err(io)?;
        a.wifi_ssid = Some(v);
    }
    if a.wifi_password.is_none() && a.wifi_password_env.is_none() {
        let choice = Select::new()
            .with_prompt("Wi-Fi password")
            .items(&[
                "read it from an environment variable (kept out of the file)",
                "store it in espmqtt.toml (the file is then mode 0600)",
                "open network (no password)",
            ])
            .default(0)
            .interact()
            .map_err(io)?;
        match choice {
            0 => {
                let v: String = Input::new()
                    .with_prompt("Variable name")
                    .default("ESPMQTT_WIFI_PASSWORD".into())
                    .validate_with(|s: &String| {
                        if s.is_empty() || s.contains(['=', '\0']) {
                            Err("not an environment variable name")
                        } else {
                            Ok(())
                        }
                    })
                    .interact_text()
                    .map_err(io)?;
                a.wifi_password_env = Some(v);
            }
            1 => {
                // dialoguer is built without its `password` feature, so the
                // value is echoed; the environment-variable choice avoids that.
                let v: String = Input::new()
                    .with_prompt("Wi-Fi password (8 to 63 characters, visible while typing)")
                    .validate_with(|s: &String| {
                        if s.is_empty() {
                            Err("choose `open network` for a network without a password".into())
                        } else {
                            validate_wifi_password(s)
                        }
                    })
                    .interact_text()
                    .map_err(io)?;
                a.wifi_password = Some(v);
            }
            _ => a.wifi_password = Some(String::new()),
        }
    }
    Ok(())
}

/// Topic prefix, module and trust mode.
fn prompt_choices(a: &mut InitArgs) -> Result<()> {
    use dialoguer::{Input, Select};
    let io = prompt_failed;
    if a.topic_prefix.is_none() {
        let v: String = Input::new()
            .with_prompt("Topic prefix")
            .default("espmqtt".into())
            .validate_with(|s: &String| validate_topic_prefix(s))
            .interact_text()
            .map_err(io)?;
        a.topic_prefix = Some(v);
    }
    if a.board.is_none() {
        let i = Select::new()
            .with_prompt("Module")
            .items(&["ESP-07 (1 MB flash)", "ESP-07S (4 MB flash)"])
            .default(0)
            .interact()
            .map_err(io)?;
        a.board = Some(if i == 0 { Board::Esp07 } else { Board::Esp07s });
    }
    if a.trust.is_none() {
        let modes = [
            TrustMode::Ca,
            TrustMode::Pubkey,
            TrustMode::Fingerprint,
            TrustMode::Insecure,
        ];
        let i = Select::new()
            .with_prompt("How should devices check the broker?")
            .items(&[
                "ca — CA certificate + NTP; survives renewals",
                "pubkey — the broker's public key; survives renewals that keep the key",
                "fingerprint — SHA-1 of the certificate; breaks at every renewal",
                "insecure — no check",
            ])
            .default(0)
            .interact()
            .map_err(io)?;
        a.trust = Some(modes[i]);
    }
    Ok(())
}

/// The file (or fingerprint) the chosen trust mode needs.
fn prompt_trust_material(
    a: &mut InitArgs,
    root: &Path,
    ctx: &Ctx,
    material: &mut Vec<Material>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    use dialoguer::{Input, Select};
    let io = prompt_failed;
    let ask_file = |prompt: &str, check: &dyn Fn(&Path) -> Result<()>| -> Result<PathBuf> {
        let v: String = Input::new()
            .with_prompt(prompt)
            .validate_with(|s: &String| check(Path::new(s.trim())).map_err(|e| e.message))
            .interact_text()
            .map_err(io)?;
        Ok(PathBuf::from(v.trim()))
    };
    match a.trust {
        Some(TrustMode::Ca) if a.ca_file.is_none() => {
            let broker = a.broker.clone().unwrap_or_default();
            let fetch = Select::new()
                .with_prompt("The CA certificate devices trust")
                .items(&[
                    format!("fetch the chain from {broker} and pin its root CA"),
                    "enter the path of a CA certificate file (PEM)".to_string(),
                ])
                .default(0)
                .interact()
                .map_err(io)?
                == 0;
            if fetch {
                match fetch_anchor(&broker, None, ctx) {
                    Ok((m, w)) => {
                        ctx.info(format!("will save the anchor as {}", m.rel.display()));
                        a.ca_file = Some(m.rel.clone());
                        material.push(m);
                        warnings.extend(w);
                    }
                    Err(e) => ctx.warn(format!("{}; enter the file instead", e.message)),
                }
            }
            if a.ca_file.is_none() {
                a.ca_file = Some(ask_file("CA certificate file (PEM)", &|p| {
                    validate_ca_file(root, p).map(|_| ())
                })?);
            }
        }
        Some(TrustMode::Pubkey) if a.pubkey_file.is_none() => {
            a.pubkey_file = Some(ask_file("Broker public key or certificate file", &|p| {
                let bytes = read_material(root, p, "public key")?;
                load_public_key(&bytes).map(|_| ())
            })?)
        }
        Some(TrustMode::Fingerprint) if a.fingerprint.is_empty() => {
            let v: String = Input::new()
                .with_prompt("Leaf SHA-1 fingerprint")
                .validate_with(|s: &String| {
                    crate::digest::parse_sha1(s)
                        .map(|_| ())
                        .map_err(|e| e.to_string())
                })
                .interact_text()
                .map_err(io)?;
            a.fingerprint.push(v);
        }
        _ => {}
    }
    Ok(())
}

/// Fetch the broker's chain and choose the `ca` anchor: the root when it
/// can be identified (in `ca_bundle`, then the system store).
fn fetch_anchor(
    target: &str,
    ca_bundle: Option<Bundle>,
    ctx: &Ctx,
) -> Result<(Material, Vec<String>)> {
    let (host, port) = parse_host_port(target)?;
    let chain = fetch(&host, port, ctx)?;
    let bundles: Vec<Bundle> = ca_bundle.into_iter().chain([Bundle::system()]).collect();
    let proposal = propose_trust_with(&chain, &bundles)?;
    let der = proposal.anchor_der.ok_or_else(|| {
        Error::usage(proposal.reason.clone())
            .with_help("pass --ca-file with the CA's root certificate")
    })?;
    Ok((
        Material {
            rel: PathBuf::from("broker-ca.pem"),
            bytes: crate::tls::cert::to_pem("CERTIFICATE", &der).into_bytes(),
        },
        proposal.warnings,
    ))
}

/// The broker's chain as a device sees it, with `-v`/`-vv` detail.
fn fetch(host: &str, port: u16, ctx: &Ctx) -> Result<Vec<Vec<u8>>> {
    ctx.detail(format!(
        "connecting to {host}:{port} (TLS 1.2, as a device)"
    ));
    let t = Instant::now();
    let chain = fetch_chain(host, port)?;
    ctx.timed(&format!("received {} certificate(s)", chain.len()), t);
    for (i, der) in chain.iter().enumerate() {
        if let Ok((_, c)) = x509_parser::parse_x509_certificate(der) {
            ctx.trace(format!(
                "  #{i} subject {} · issuer {} · SHA-256 {}",
                c.subject(),
                c.issuer(),
                crate::tls::cert::colon_hex(&crate::tls::cert::sha256(der))
            ));
        }
    }
    Ok(chain)
}

/// `--from-broker`: fetch the chain, propose the trust mode and hold the
/// material it needs (written next to espmqtt.toml at the end). Flags given
/// explicitly win.
fn from_broker(
    a: &mut InitArgs,
    target: &str,
    root: &Path,
    ctx: &Ctx,
    material: &mut Vec<Material>,
    warnings: &mut Vec<String>,
) -> Result<()> {
    let (host, port) = parse_host_port(target)?;
    // A --ca-file given with --from-broker is checked now, and is where the
    // broker's root is looked up first.
    let user_bundle = match &a.ca_file {
        Some(p) => Some((p.clone(), validate_ca_file(root, p)?)),
        None => None,
    };
    let chain = fetch(&host, port, ctx)?;
    let mut bundles: Vec<Bundle> = user_bundle
        .iter()
        .map(|(p, certs)| Bundle {
            origin: format!("--ca-file {}", p.display()),
            certs: certs.clone(),
        })
        .collect();
    bundles.push(Bundle::system());
    let proposal = propose_trust_with(&chain, &bundles)?;
    if a.broker.is_none() {
        a.broker = Some(if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        });
    }
    let trust = *a.trust.get_or_insert(proposal.trust);
    ctx.info(format!(
        "{target}: {} certificate(s); proposing trust `{}`: {}",
        chain.len(),
        proposal.trust,
        proposal.reason
    ));
    match trust {
        TrustMode::Ca => match &user_bundle {
            Some((p, certs)) => {
                if !anchor::anchors_chain(&chain, certs) {
                    warnings.push(format!(
                        "no certificate in --ca-file {} issued the broker's chain: devices \
                         will refuse the broker (BearSSL error 56, X509_NOT_TRUSTED)",
                        p.display()
                    ));
                }
            }
            None => {
                let Some(anchor) = proposal.anchor_der else {
                    return Ok(()); // --ca-file is then reported missing
                };
                let rel = PathBuf::from("broker-ca.pem");
                ctx.info(format!(
                    "will save {} as {} (ca_file)",
                    match (&proposal.anchor_subject, proposal.anchor_is_root) {
                        (Some(s), true) => format!("the root CA {s}"),
                        (Some(s), false) => format!("the chain's topmost certificate {s}"),
                        _ => "the anchor".to_string(),
                    },
                    rel.display()
                ));
                material.push(Material {
                    rel: rel.clone(),
                    bytes: crate::tls::cert::to_pem("CERTIFICATE", &anchor).into_bytes(),
                });
                warnings.extend(proposal.warnings);
                a.ca_file = Some(rel);
            }
        },
        TrustMode::Pubkey if a.pubkey_file.is_none() => {
            let spki = crate::tls::cert::spki_der(&chain[0])?;
            let rel = PathBuf::from("broker-pubkey.pem");
            ctx.info(format!(
                "will save the broker's public key as {} (pubkey_file)",
                rel.display()
            ));
            material.push(Material {
                rel: rel.clone(),
                bytes: crate::tls::cert::to_pem("PUBLIC KEY", &spki).into_bytes(),
            });
            a.pubkey_file = Some(rel);
        }
        TrustMode::Fingerprint if a.fingerprint.is_empty() => {
            a.fingerprint
                .push(crate::tls::cert::colon_hex(&crate::tls::cert::sha1(
                    &chain[0],
                )));
            warnings.push(
                "fingerprint mode breaks at every certificate renewal; add the next \
                 certificate's fingerprint with a second --fingerprint before renewing"
                    .into(),
            );
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_port_forms() {
        assert_eq!(
            parse_host_port("b.example").unwrap(),
            ("b.example".into(), 8883)
        );
        assert_eq!(
            parse_host_port("b.example:1883").unwrap(),
            ("b.example".into(), 1883)
        );
        assert_eq!(parse_host_port("[::1]:8884").unwrap(), ("::1".into(), 8884));
        assert!(parse_host_port("b.example:x").is_err());
        assert!(parse_host_port(":8883").is_err());
        for bad in ["b.example:0", "b.example:70000", "b.example:", "[::1]:abc"] {
            let e = parse_host_port(bad).unwrap_err();
            assert!(
                e.message.contains(bad.rsplit(':').next().unwrap()),
                "{bad}: {}",
                e.message
            );
            assert_eq!(e.exit_status().code(), 2);
        }
        assert!(parse_host_port("b example").is_err());
        assert!(parse_host_port("[]:1").is_err());
    }

    #[test]
    fn debug_leaves_the_wifi_password_out() {
        let a = InitArgs {
            wifi_password: Some("wifi-secret-9".into()),
            ..InitArgs::default()
        };
        let text = format!("{a:?}");
        assert!(!text.contains("wifi-secret-9"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
    }

    #[test]
    fn answers_are_validated_one_by_one() {
        assert!(validate_ssid("home").is_ok());
        assert!(validate_ssid("").is_err());
        assert!(validate_ssid(&"x".repeat(33)).is_err());
        assert!(validate_wifi_password("").is_ok());
        assert!(validate_wifi_password("12345678").is_ok());
        assert!(validate_wifi_password(&"x".repeat(63)).is_ok());
        assert!(validate_wifi_password(&"ab".repeat(32)).is_ok()); // raw PSK
        let e = validate_wifi_password("short").unwrap_err();
        assert!(e.contains("8 to 63") && e.contains("has 5"), "{e}");
        assert!(validate_wifi_password(&"x".repeat(64)).is_err());
        assert!(validate_wifi_password("naïve-password").is_err());
        assert!(validate_topic_prefix("espmqtt").is_ok());
        assert!(validate_topic_prefix("home/garden").is_ok());
        for bad in [
            "",
            "a/#",
            "a+b",
            "$SYS",
            "/a",
            "a/",
            "a//b",
            &"x".repeat(65),
        ] {
            assert!(validate_topic_prefix(bad).is_err(), "{bad:?}");
        }
        let d = std::env::temp_dir();
        let e = validate_ca_file(&d, Path::new("no-such-ca-file.pem")).unwrap_err();
        assert_eq!(e.exit_status().code(), 4);
    }

    #[test]
    fn missing_flags_are_named() {
        let m = missing_flags(&InitArgs::default());
        assert_eq!(
            m,
            vec![
                "--broker",
                "--wifi-ssid",
                "--wifi-password or --wifi-password-env",
                "--trust"
            ]
        );
    }
}
