//! `espmqtt init`: create espmqtt.toml.
//!
//! With flags (or without a terminal) it never prompts: whatever is missing
//! is a usage error that names the missing flags. On a terminal it asks for
//! the values the flags did not give (dialoguer).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::device::blob::{load_public_key, parse_fingerprint, MAX_FINGERPRINTS};
use crate::error::{Error, ExitStatus, Result};
use crate::firmware::Board;
use crate::project::{
    BoardConfig, BrokerConfig, MqttConfig, ProjectConfig, ProjectPaths, TlsConfig, WifiConfig,
};
use crate::tls::TrustMode;

use crate::ops::trust::{fetch_chain, propose_trust};

use super::Ctx;

const AFTER_HELP: &str = "\
Trust modes (how the device checks the broker):
  ca           chain to --ca-file, dates (NTP) and host name; survives renewals
  pubkey       the broker's public key (--pubkey-file); survives renewals that keep the key
  fingerprint  SHA-1 of the broker's certificate (--fingerprint, up to two: current and next);
               breaks at every renewal
  insecure     no check at all

Examples:
  espmqtt init
  espmqtt init --broker broker.example.com:8883 --wifi-ssid Home --wifi-password-env WIFI_PW \\
               --trust ca --ca-file ca.pem --board esp07s
  espmqtt init --broker 192.168.1.10:8883 --wifi-ssid Lab --wifi-password 'secret' \\
               --trust fingerprint --fingerprint 'AB:CD:…' --non-interactive";

#[derive(Debug, Default, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct InitArgs {
    /// Broker the devices connect to (port defaults to 8883).
    #[arg(long, value_name = "HOST:PORT")]
    pub broker: Option<String>,
    /// Wi-Fi network name.
    #[arg(long, value_name = "SSID")]
    pub wifi_ssid: Option<String>,
    /// Wi-Fi password, stored in espmqtt.toml (use '' for an open network).
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
    /// PEM with the trust anchor(s) for `--trust ca`.
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

#[derive(Debug, Serialize)]
struct Report {
    config_file: PathBuf,
    broker: String,
    trust: TrustMode,
    board: String,
    topic_prefix: String,
    wifi_ssid: String,
    /// "file", "env:VAR" or "none" — never the password itself.
    wifi_password: String,
}

/// Split `HOST[:PORT]` (IPv6 as `[addr]:port`); the port defaults to 8883.
pub fn parse_host_port(s: &str) -> Result<(String, u16)> {
    crate::target::parse(s)
        .map(|t| (t.host, t.port))
        .map_err(|e| {
            Error::usage(format!("invalid broker address: {e}"))
                .with_help(crate::target::TargetError::help())
        })
}

pub fn run(mut args: InitArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = match &ctx.config {
        Some(p) => ProjectPaths::locate(Some(p))?,
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

    if let Some(target) = args.from_broker.clone() {
        from_broker(&mut args, &target, &paths.root, ctx)?;
    }
    if ctx.interactive {
        prompt_missing(&mut args)?;
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
    let config = config_from_args(&args, &paths.root)?;
    if config.tls.trust == TrustMode::Insecure {
        ctx.warn("trust mode `insecure`: devices accept any broker certificate, so anyone on the path can impersonate the broker");
    }
    let text = config.to_toml()?;
    let header = "# espmqtt project settings (fleet-wide). Per-device secrets live in .espmqtt/registry.db.\n\
                  # Reference: `espmqtt init --help`.\n\n";
    if let Some(parent) = paths.config_file.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
    }
    std::fs::write(&paths.config_file, format!("{header}{text}"))
        .map_err(|e| Error::io(&paths.config_file, e))?;

    let report = Report {
        config_file: paths.config_file.clone(),
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
    ctx.emit(&report, |_| {
        let mut s = format!(
            "wrote {}\n  broker {} · trust {} · board {} · topics {}/<client-id>/…\n",
            report.config_file.display(),
            report.broker,
            report.trust,
            report.board,
            report.topic_prefix
        );
        if config.wifi.password.is_some() {
            s.push_str("  note: the Wi-Fi password is stored in the file; do not commit it (or use --wifi-password-env)\n");
        }
        s.push_str("next: espmqtt device new NAME, espmqtt build, espmqtt flash --device NAME");
        s
    });
    Ok(ExitStatus::Success)
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
/// is checked now, so a typo fails here rather than at `build`/`flash` time.
fn config_from_args(a: &InitArgs, root: &Path) -> Result<ProjectConfig> {
    let (host, port) = parse_host_port(a.broker.as_deref().unwrap_or_default())?;
    let trust = a.trust.unwrap_or_default();
    let ssid = a.wifi_ssid.clone().unwrap_or_default();
    if ssid.is_empty() || ssid.len() > 32 {
        return Err(Error::usage(format!(
            "the Wi-Fi SSID must be 1 to 32 bytes (got {})",
            ssid.len()
        )));
    }
    if let Some(p) = &a.wifi_password {
        if p.len() > 64 {
            return Err(Error::usage("the Wi-Fi password is longer than 64 bytes"));
        }
    }
    let prefix = a.topic_prefix.clone().unwrap_or_else(|| "espmqtt".into());
    if prefix.is_empty() || prefix.len() > 64 || prefix.contains(['+', '#']) {
        return Err(Error::usage(format!(
            "topic prefix {prefix:?} must be 1 to 64 bytes without MQTT wildcards"
        )));
    }
    let mut tls = TlsConfig {
        trust,
        ..TlsConfig::default()
    };
    let resolve = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            root.join(p)
        }
    };
    match trust {
        TrustMode::Ca => {
            let p = a.ca_file.clone().unwrap_or_default();
            let bytes = std::fs::read(resolve(&p)).map_err(|e| Error::io(&p, e))?;
            crate::tls::cert::load_certificates(&bytes)
                .map_err(|e| e.context(format!("--ca-file {}", p.display())))?;
            tls.ca_file = Some(p);
        }
        TrustMode::Pubkey => {
            let p = a.pubkey_file.clone().unwrap_or_default();
            let bytes = std::fs::read(resolve(&p)).map_err(|e| Error::io(&p, e))?;
            load_public_key(&bytes)
                .map_err(|e| e.context(format!("--pubkey-file {}", p.display())))?;
            tls.pubkey_file = Some(p);
        }
        TrustMode::Fingerprint => {
            if a.fingerprint.len() > MAX_FINGERPRINTS {
                return Err(Error::usage(format!(
                    "{} fingerprints given; the firmware holds two (current and next)",
                    a.fingerprint.len()
                )));
            }
            for f in &a.fingerprint {
                tls.fingerprints
                    .push(crate::tls::cert::colon_hex(&parse_fingerprint(f)?));
            }
        }
        TrustMode::Insecure => {}
    }
    Ok(ProjectConfig {
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
    })
}

/// Ask for whatever the flags did not give (terminal only).
fn prompt_missing(a: &mut InitArgs) -> Result<()> {
    use dialoguer::{Input, Select};
    let io = |e: dialoguer::Error| Error::runtime(format!("prompt failed: {e}"));
    if a.broker.is_none() {
        let v: String = Input::new()
            .with_prompt("Broker host[:port]")
            .validate_with(|s: &String| parse_host_port(s).map(|_| ()).map_err(|e| e.message))
            .interact_text()
            .map_err(io)?;
        a.broker = Some(v);
    }
    if a.wifi_ssid.is_none() {
        let v: String = Input::new()
            .with_prompt("Wi-Fi SSID")
            .interact_text()
            .map_err(io)?;
        a.wifi_ssid = Some(v);
    }
    if a.wifi_password.is_none() && a.wifi_password_env.is_none() {
        let choice = Select::new()
            .with_prompt("Wi-Fi password")
            .items(&[
                "read it from an environment variable (kept out of the file)",
                "store it in espmqtt.toml",
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
                    .interact_text()
                    .map_err(io)?;
                a.wifi_password_env = Some(v);
            }
            1 => {
                // dialoguer is built without its `password` feature, so the
                // value is echoed; the environment-variable choice avoids that.
                let v: String = Input::new()
                    .with_prompt("Wi-Fi password (visible while typing)")
                    .interact_text()
                    .map_err(io)?;
                a.wifi_password = Some(v);
            }
            _ => a.wifi_password = Some(String::new()),
        }
    }
    if a.topic_prefix.is_none() {
        let v: String = Input::new()
            .with_prompt("Topic prefix")
            .default("espmqtt".into())
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
    let ask_path = |prompt: &str| -> Result<PathBuf> {
        let v: String = Input::new()
            .with_prompt(prompt)
            .interact_text()
            .map_err(io)?;
        Ok(PathBuf::from(v))
    };
    match a.trust {
        Some(TrustMode::Ca) if a.ca_file.is_none() => {
            a.ca_file = Some(ask_path("CA certificate file (PEM)")?)
        }
        Some(TrustMode::Pubkey) if a.pubkey_file.is_none() => {
            a.pubkey_file = Some(ask_path("Broker public key or certificate file")?)
        }
        Some(TrustMode::Fingerprint) if a.fingerprint.is_empty() => {
            let v: String = Input::new()
                .with_prompt("Leaf SHA-1 fingerprint")
                .interact_text()
                .map_err(io)?;
            a.fingerprint.push(v);
        }
        _ => {}
    }
    Ok(())
}

/// `--from-broker`: fetch the chain, propose the trust mode and save the
/// material it needs next to espmqtt.toml. Flags given explicitly win.
fn from_broker(a: &mut InitArgs, target: &str, root: &Path, ctx: &Ctx) -> Result<()> {
    let (host, port) = parse_host_port(target)?;
    let chain = fetch_chain(&host, port)?;
    let proposal = propose_trust(&chain)?;
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
        TrustMode::Ca if a.ca_file.is_none() => {
            let Some(anchor) = proposal.anchor_der else {
                return Ok(()); // --ca-file is then reported missing
            };
            let name = PathBuf::from("broker-ca.pem");
            write_material(
                root,
                &name,
                &crate::tls::cert::to_pem("CERTIFICATE", &anchor),
            )?;
            ctx.info(format!(
                "saved the chain's topmost certificate as {} (ca_file)",
                name.display()
            ));
            a.ca_file = Some(name);
        }
        TrustMode::Pubkey if a.pubkey_file.is_none() => {
            let spki = crate::tls::cert::spki_der(&chain[0])?;
            let name = PathBuf::from("broker-pubkey.pem");
            write_material(root, &name, &crate::tls::cert::to_pem("PUBLIC KEY", &spki))?;
            ctx.info(format!(
                "saved the broker's public key as {} (pubkey_file)",
                name.display()
            ));
            a.pubkey_file = Some(name);
        }
        TrustMode::Fingerprint if a.fingerprint.is_empty() => {
            a.fingerprint
                .push(crate::tls::cert::colon_hex(&crate::tls::cert::sha1(
                    &chain[0],
                )));
            ctx.warn(
                "fingerprint mode breaks at every certificate renewal; add the next \
                 certificate's fingerprint with a second --fingerprint before renewing",
            );
        }
        _ => {}
    }
    Ok(())
}

fn write_material(root: &Path, rel: &Path, text: &str) -> Result<()> {
    let path = root.join(rel);
    std::fs::write(&path, text).map_err(|e| Error::io(&path, e))
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
