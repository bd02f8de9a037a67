//! `espmqtt broker`: broker-side artefacts for the whole fleet.

use std::path::PathBuf;

use crate::device::broker::{self, ExportSpec, ListenerSpec, MosquittoVersion};
use crate::device::registry::Registry;
use crate::error::{Error, ExitStatus, Result};
use crate::project::ProjectPaths;

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum BrokerCommand {
    /// Write mosquitto's passwd, ACL and a TLS listener snippet for the fleet.
    #[command(after_help = "\
Writes, each atomically (temporary file + rename):
  DIR/passwd          $7$ PBKDF2-SHA512 lines (mode 0600); revoked devices are left out
  DIR/acl             each device reads/writes only <prefix>/<name>/#; --admin gets #
  DIR/mosquitto.conf  a TLS listener with absolute paths; require_certificate +
                      use_identity_as_username when the devices use client certificates
Then reload mosquitto (SIGHUP) to apply them.

Examples:
  espmqtt broker export --mosquitto /etc/mosquitto/espmqtt \\
      --server-cert /etc/ssl/broker.crt --server-key /etc/ssl/broker.key
  espmqtt broker export --mosquitto out/ --mosquitto-version 2.1 --admin ops
  espmqtt broker export --mosquitto out/ --client-certs require --port 8884")]
    Export(ExportArgs),
}

/// When the listener requires client certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClientCerts {
    /// Require them when every exported device has one.
    Auto,
    /// Always require them (identity = certificate CN).
    Require,
    /// Never require them (passwords only).
    Off,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Directory for mosquitto's files (created if missing).
    #[arg(long, value_name = "DIR")]
    pub mosquitto: PathBuf,
    /// Follow this mosquitto version's password hashing defaults (PBKDF2 iterations).
    #[arg(long, value_enum, default_value = "2.0")]
    pub mosquitto_version: MosquittoVersion,
    /// A user allowed to read and write every topic (`#`); its password line is kept across exports.
    #[arg(long, value_name = "USER")]
    pub admin: Option<String>,
    /// Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt").
    #[arg(long)]
    pub topic_prefix: Option<String>,
    /// Listener port.
    #[arg(long, default_value_t = 8883)]
    pub port: u16,
    /// Listener address (default: all interfaces).
    #[arg(long, value_name = "ADDRESS")]
    pub bind: Option<String>,
    /// Broker certificate (chain) PEM.
    #[arg(long, value_name = "FILE")]
    pub server_cert: Option<PathBuf>,
    /// Broker private key PEM.
    #[arg(long, value_name = "FILE")]
    pub server_key: Option<PathBuf>,
    /// CA file for the listener (`cafile`).
    #[arg(long, value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Require client certificates.
    #[arg(long, value_enum, default_value = "auto")]
    pub client_certs: ClientCerts,
}

pub fn run(args: BrokerCommand, ctx: &Ctx) -> Result<ExitStatus> {
    match args {
        BrokerCommand::Export(a) => run_export(a, ctx),
    }
}

fn run_export(a: ExportArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let topic_prefix = match a.topic_prefix {
        Some(p) => p,
        None if paths.has_config() => paths.load_config()?.mqtt.topic_prefix,
        None => "espmqtt".into(),
    };
    let topic_prefix = topic_prefix.trim_end_matches('/').to_string();
    if topic_prefix.is_empty()
        || topic_prefix.contains(['+', '#'])
        || topic_prefix.contains(char::is_whitespace)
    {
        return Err(
            Error::usage(format!("invalid topic prefix {topic_prefix:?}"))
                .with_help("use a non-empty topic without wildcards, e.g. espmqtt or home/sensors"),
        );
    }
    let reg = Registry::open(&paths)?;
    let entries = reg.password_entries(a.mosquitto_version.iterations())?;
    let require = match a.client_certs {
        ClientCerts::Require => true,
        ClientCerts::Off => false,
        ClientCerts::Auto => !entries.is_empty() && entries.iter().all(|e| e.has_cert),
    };
    let device_ca_pem = if require {
        Some(crate::device::ca::load(&paths)?.cert_pem)
    } else {
        None
    };
    let spec = ExportSpec {
        dir: a.mosquitto.clone(),
        version: a.mosquitto_version,
        topic_prefix,
        admin: a.admin.clone(),
        listener: ListenerSpec {
            port: a.port,
            bind: a.bind.clone(),
            server_cert: a.server_cert.clone(),
            server_key: a.server_key.clone(),
            ca: a.ca.clone(),
        },
        require_client_certs: require,
        device_ca_pem,
    };
    let report = broker::export(&spec, &entries)?;
    reg.log_event(
        None,
        "broker-export",
        &format!(
            "{} devices to {} (mosquitto {}, {} iterations)",
            report.devices,
            report.dir.display(),
            match report.mosquitto_version {
                MosquittoVersion::V2_0 => "2.0",
                MosquittoVersion::V2_1 => "2.1",
            },
            report.iterations
        ),
    )?;
    for w in &report.warnings {
        ctx.warn(w);
    }
    ctx.emit(&report, |_| {
        let mut s = format!(
            "Wrote mosquitto files for {} device{} to {}:\n",
            report.devices,
            if report.devices == 1 { "" } else { "s" },
            report.dir.display()
        );
        s.push_str(&format!(
            "  passwd          $7$ PBKDF2-SHA512, {} iterations (mosquitto {}), mode 0600\n",
            report.iterations,
            if report.iterations == 101 {
                "2.0"
            } else {
                "2.1"
            }
        ));
        s.push_str(&format!(
            "  acl             each device: {}/<name>/#{}\n",
            report.topic_prefix,
            report
                .admin
                .as_deref()
                .map(|a| format!("; {a}: #"))
                .unwrap_or_default()
        ));
        s.push_str(&format!(
            "  mosquitto.conf  TLS listener on port {}{}\n",
            a.port,
            if report.require_client_certs {
                ", client certificates required (username = certificate CN)"
            } else {
                ", username + password"
            }
        ));
        s.push_str(
            "Next: include mosquitto.conf in the broker's configuration and reload it (SIGHUP).\n",
        );
        s
    });
    Ok(ExitStatus::Success)
}
