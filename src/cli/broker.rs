//! `espmqtt broker`: broker-side artefacts for the whole fleet.

use std::path::PathBuf;

use crate::device::amqtt::{AmqttAccount, AmqttListener, AmqttReport};
use crate::device::broker::{self, ExportSpec, ListenerSpec, MosquittoVersion};
use crate::device::dynsec::{self, DynsecDevice};
use crate::device::registry::Registry;
use crate::error::{Error, ExitStatus, Result};
use crate::project::ProjectPaths;

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum BrokerCommand {
    /// Write mosquitto's passwd, ACL and a TLS listener snippet for the fleet.
    #[command(override_usage = "\
espmqtt broker export --mosquitto <DIR> [OPTIONS]
       espmqtt broker export --dynsec <FILE> [OPTIONS]
       espmqtt broker export --amqtt <DIR> [OPTIONS]")]
    #[command(after_help = "\
Writes, each atomically (temporary file + rename):
  DIR/passwd          $7$ PBKDF2-SHA512 lines (mode 0600); revoked devices
                      are left out
  DIR/acl             each device reads/writes only <prefix>/<name>/#;
                      --admin gets #
  DIR/mosquitto.conf  a TLS listener with absolute paths; require_certificate
                      + use_identity_as_username when the devices use client
                      certificates
Then reload mosquitto (SIGHUP) to apply them.

Examples:
  espmqtt broker export --mosquitto /etc/mosquitto/espmqtt \\
      --server-cert /etc/ssl/broker.crt --server-key /etc/ssl/broker.key
  espmqtt broker export --mosquitto out/ --mosquitto-version 2.1 --admin ops
  espmqtt broker export --mosquitto out/ --client-certs require --port 8884
  espmqtt broker export --dynsec /var/lib/mosquitto/dynamic-security.json")]
    Export(ExportArgs),
    /// Bring a running mosquitto's dynamic security plugin to the registry's state.
    #[command(after_help = "\
Reads the broker's clients and roles through $CONTROL/dynamic-security/v1 and
sends only what differs: a client and a role (its own <prefix>/<client-id>/#) per
new device, the current password after `device rotate`, disableClient after
`device revoke` (mosquitto disconnects the device at once). Every answer of the
plugin is checked; a second sync does nothing. Clients espmqtt does not manage
(the admin, other users) are never touched.

The admin password comes from the variable named by --password-env
(default ESPMQTT_DYNSEC_PASSWORD), else a prompt on a terminal.

Examples:
  espmqtt broker sync --dynsec mqtts://admin@broker.example.com:8883 --dry-run
  ESPMQTT_DYNSEC_PASSWORD=… espmqtt broker sync \\
      --dynsec mqtts://admin@10.0.0.5 --ca-file ca.crt --format json")]
    Sync(SyncArgs),
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
#[command(group(clap::ArgGroup::new("what").required(true).multiple(true).args(["mosquitto", "dynsec", "amqtt"])))]
pub struct ExportArgs {
    /// Directory for mosquitto's files (created if missing).
    #[arg(long, value_name = "DIR")]
    pub mosquitto: Option<PathBuf>,
    /// Write (or update) a dynamic-security.json for mosquitto's dynamic
    /// security plugin: one client and one role per active device; entries
    /// espmqtt does not manage (the admin) are kept.
    #[arg(long, value_name = "FILE")]
    pub dynsec: Option<PathBuf>,
    /// Directory for amqtt's files: passwd (Argon2id, 0600) and amqtt.yaml
    /// (TLS listener from --port/--bind/--server-cert/--server-key, per-device ACLs).
    #[arg(long, value_name = "DIR")]
    pub amqtt: Option<PathBuf>,
    /// Follow this mosquitto version's password hashing defaults (PBKDF2 iterations).
    #[arg(long, value_enum, default_value = "2.0")]
    pub mosquitto_version: MosquittoVersion,
    /// A user allowed to read and write every topic (`#`); its password line is kept across exports.
    #[arg(long, value_name = "USER")]
    pub admin: Option<String>,
    /// Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt").
    #[arg(long)]
    pub topic_prefix: Option<String>,
    /// Replace a mosquitto.conf, acl or passwd in the --mosquitto directory
    /// that an earlier export did not write.
    #[arg(long)]
    pub force: bool,
    /// Listener port (default: the [broker] port of espmqtt.toml, the one
    /// the devices connect to, else 8883).
    #[arg(long)]
    pub port: Option<u16>,
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
    #[arg(long = "ca-file", alias = "ca", value_name = "FILE")]
    pub ca: Option<PathBuf>,
    /// Require client certificates.
    #[arg(long, value_enum, default_value = "auto")]
    pub client_certs: ClientCerts,
    /// With --client-certs require: export even though some active devices
    /// have no certificate (the broker will refuse them).
    #[arg(long)]
    pub lock_out_devices_without_cert: bool,
    /// Give the secret files (passwd, dynamic-security.json) to this user
    /// (USER or USER:GROUP), e.g. `mosquitto`, which Debian's broker runs
    /// as; needs root. Mode stays 0600.
    #[arg(long, value_name = "USER[:GROUP]")]
    pub owner: Option<String>,
}

/// uid and gid of `USER[:GROUP]` from /etc/passwd and /etc/group.
fn resolve_owner(spec: &str) -> Result<(u32, u32)> {
    let (user, group) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let find = |file: &str, name: &str| -> Option<(u32, u32)> {
        let text = std::fs::read_to_string(file).ok()?;
        text.lines().find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 4 && f[0] == name)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
    };
    let (uid, mut gid) = match user.parse::<u32>() {
        Ok(uid) => (uid, uid),
        Err(_) => find("/etc/passwd", user).ok_or_else(|| {
            Error::usage(format!("--owner: no user {user:?} on this system"))
                .with_help("give an existing user, e.g. --owner mosquitto")
        })?,
    };
    if let Some(g) = group {
        gid = match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => find("/etc/group", g)
                .map(|(gid, _)| gid)
                .ok_or_else(|| Error::usage(format!("--owner: no group {g:?} on this system")))?,
        };
    }
    Ok((uid, gid))
}

fn chown(path: &std::path::Path, owner: Option<(u32, u32)>) -> Result<()> {
    if let Some((uid, gid)) = owner {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(|e| {
            Error::io(path, e).with_help("changing the owner needs root (run with sudo)")
        })?;
    }
    Ok(())
}

/// A note when the broker will not be able to read a 0600 file: espmqtt
/// runs as root, Debian's mosquitto drops to user `mosquitto`.
fn owner_note(owner: &Option<String>) -> Option<String> {
    let is_root = std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false);
    let has_mosquitto_user = std::fs::read_to_string("/etc/passwd")
        .map(|t| t.lines().any(|l| l.starts_with("mosquitto:")))
        .unwrap_or(false);
    (owner.is_none() && is_root && has_mosquitto_user).then(|| {
        "the secret files are 0600 and owned by root; a mosquitto that drops to user \
         `mosquitto` (Debian's does) cannot read them: export with --owner mosquitto, or \
         keep `user root` in mosquitto.conf"
            .to_string()
    })
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The broker and its dynamic security admin: mqtts://ADMIN@HOST[:PORT].
    #[arg(long, value_name = "URL")]
    pub dynsec: String,
    /// Variable holding the admin's password.
    #[arg(long, value_name = "VAR", default_value = "ESPMQTT_DYNSEC_PASSWORD")]
    pub password_env: String,
    /// CA of the broker's certificate (PEM); default: the public roots.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Topic prefix (default: [mqtt] topic_prefix of espmqtt.toml, else "espmqtt").
    #[arg(long)]
    pub topic_prefix: Option<String>,
    /// Print the steps; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Seconds to wait for the broker and each answer.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
}

pub fn run(args: BrokerCommand, ctx: &Ctx) -> Result<ExitStatus> {
    match args {
        BrokerCommand::Export(a) => run_export(a, ctx),
        BrokerCommand::Sync(a) => run_sync(a, ctx),
    }
}

/// The topic prefix: the flag, else espmqtt.toml's, else "espmqtt".
/// The registry a broker's credentials come from. Outside a project with
/// no registry this is a usage error, not an empty fleet: exporting or
/// syncing nothing would lock every device out of the broker.
fn open_fleet_registry(paths: &ProjectPaths) -> Result<Registry> {
    if let crate::device::registry::Location::Sqlite(p) =
        crate::device::registry::Location::of_project(paths)?
    {
        if !p.exists() && !paths.has_config() {
            return Err(crate::ops::device_blob::no_project());
        }
    }
    Registry::open(paths)
}

/// The listener port: `--port`, else the port the devices are configured to
/// connect to (`[broker]` of espmqtt.toml), else 8883.
fn listener_port(flag: Option<u16>, paths: &ProjectPaths) -> Result<u16> {
    Ok(match flag {
        Some(p) => p,
        None if paths.has_config() => paths.load_config()?.broker.port,
        None => 8883,
    })
}

fn topic_prefix(flag: Option<String>, paths: &ProjectPaths) -> Result<String> {
    let topic_prefix = match flag {
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
    Ok(topic_prefix)
}

/// Every device as the dynamic security plugin should see it.
fn dynsec_devices(reg: &Registry) -> Result<Vec<DynsecDevice>> {
    let hashes: std::collections::HashMap<String, String> = reg
        .password_entries(dynsec::DYNSEC_ITERATIONS)?
        .into_iter()
        .map(|e| (e.username, e.hash))
        .collect();
    Ok(reg
        .devices()?
        .into_iter()
        .map(|d| DynsecDevice {
            hash: hashes.get(&d.username).cloned(),
            secret_created_at: d.secret_created_at.clone().unwrap_or_default(),
            name: d.name,
            username: d.username,
            client_id: d.client_id,
            secret: d.secret,
            revoked: d.revoked,
        })
        .collect())
}

#[derive(serde::Serialize)]
struct DynsecExportReport {
    file: PathBuf,
    devices: usize,
    revoked_left_out: usize,
    topic_prefix: String,
}

fn export_dynsec(
    file: &std::path::Path,
    reg: &Registry,
    prefix: &str,
) -> Result<DynsecExportReport> {
    // Bounded like every input: --dynsec /dev/zero is an error, not a hang.
    let existing = if file.exists() {
        let t = crate::files::read_input_text(
            file,
            crate::files::MAX_IMAGE_INPUT,
            "dynamic-security.json",
        )?;
        Some(serde_json::from_str::<serde_json::Value>(&t).map_err(|e| {
            Error::usage(format!("{} is not a JSON file: {e}", file.display()))
                .with_help("point --dynsec at mosquitto's dynamic-security.json, or at a new file")
        })?)
    } else {
        None
    };
    let devices = dynsec_devices(reg)?;
    let doc = dynsec::render_file(existing.as_ref(), &devices, prefix)?;
    let mut body = serde_json::to_string_pretty(&doc)
        .map_err(|e| Error::runtime(format!("cannot serialise {}: {e}", file.display())))?;
    body.push('\n');
    crate::files::write_file_atomic(file, body.as_bytes(), 0o600)?;
    Ok(DynsecExportReport {
        file: file.to_path_buf(),
        devices: devices.iter().filter(|d| !d.revoked).count(),
        revoked_left_out: devices.iter().filter(|d| d.revoked).count(),
        topic_prefix: prefix.to_string(),
    })
}

fn run_export(a: ExportArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let topic_prefix = topic_prefix(a.topic_prefix.clone(), &paths)?;
    let port = listener_port(a.port, &paths)?;
    let owner = export_owner(&a)?;
    let reg = open_fleet_registry(&paths)?;
    if let Some(n) = owner_note(&a.owner).filter(|_| a.mosquitto.is_some() || a.dynsec.is_some()) {
        ctx.warn(n);
    }
    let export = Export {
        args: &a,
        paths,
        reg,
        topic_prefix,
        owner,
        port,
    };
    export.check_client_certs()?;
    let amqtt_report = match &a.amqtt {
        Some(dir) => {
            let r = export.amqtt(dir)?;
            if a.mosquitto.is_none() && a.dynsec.is_none() {
                ctx.emit(&r, |_| export.amqtt_text(&r));
                return Ok(ExitStatus::Success);
            }
            Some(r)
        }
        None => None,
    };
    let Some(mosquitto_dir) = a.mosquitto.clone() else {
        let file = a.dynsec.as_deref().unwrap_or(std::path::Path::new(""));
        let report = export.dynsec(file)?;
        ctx.emit(&report, |_| dynsec_text(&report));
        return Ok(ExitStatus::Success);
    };
    let dynsec_report = match &a.dynsec {
        Some(f) => Some(export.dynsec(f)?),
        None => None,
    };
    let report = export.mosquitto(mosquitto_dir)?;
    for w in &report.warnings {
        ctx.warn(w);
    }
    ctx.wrote(&report.passwd, crate::files::PRIVATE);
    ctx.wrote(&report.acl, crate::files::PRIVATE);
    ctx.wrote(&report.conf, crate::files::PUBLIC);
    if let Some(ca) = &report.ca_bundle {
        ctx.wrote(ca, crate::files::PUBLIC);
    }
    // `-q`: the directory alone.
    let dir = format!("{}\n", report.dir.display());
    ctx.emit_result(
        &report,
        || dir,
        |_| mosquitto_text(&report, port, amqtt_report.as_ref(), dynsec_report.as_ref()),
    );
    Ok(ExitStatus::Success)
}

/// `--owner USER[:GROUP]`, refused when only root could hand the files over.
fn export_owner(a: &ExportArgs) -> Result<Option<(u32, u32)>> {
    let owner = a.owner.as_deref().map(resolve_owner).transpose()?;
    if let Some((uid, _)) = owner {
        let me = std::fs::metadata("/proc/self")
            .map(|m| std::os::unix::fs::MetadataExt::uid(&m))
            .unwrap_or(0);
        if me != 0 && me != uid {
            return Err(
                Error::usage("--owner needs root to give files to another user")
                    .with_help("run the export with sudo, or leave --owner out"),
            );
        }
    }
    Ok(owner)
}

/// One `broker export`: what every output format needs.
struct Export<'a> {
    args: &'a ExportArgs,
    paths: ProjectPaths,
    reg: Registry,
    topic_prefix: String,
    owner: Option<(u32, u32)>,
    /// The listener port ([`listener_port`]).
    port: u16,
}

impl Export<'_> {
    /// `--client-certs require` must not silently lock out active devices
    /// that have no certificate.
    fn check_client_certs(&self) -> Result<()> {
        let a = self.args;
        if a.client_certs != ClientCerts::Require || a.mosquitto.is_none() {
            return Ok(());
        }
        let missing: Vec<String> = self
            .reg
            .devices()?
            .into_iter()
            .filter(|d| !d.revoked && d.client_cert_pem.is_none())
            .map(|d| d.name)
            .collect();
        if missing.is_empty() || a.lock_out_devices_without_cert {
            return Ok(());
        }
        let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
        Err(Error::usage(format!(
            "--client-certs require would lock out {} active device(s) without a client certificate: {}{}; nothing was written",
            missing.len(),
            shown.join(", "),
            if missing.len() > 10 { ", …" } else { "" }
        ))
        .with_help(
            "issue them certificates (`espmqtt device cert NAME`), use --client-certs auto, \
             or pass --lock-out-devices-without-cert",
        ))
    }

    /// `--amqtt DIR`: amqtt's password file and configuration.
    fn amqtt(&self, dir: &std::path::Path) -> Result<AmqttReport> {
        let a = self.args;
        let accounts: Vec<AmqttAccount> = self
            .reg
            .devices()?
            .into_iter()
            .filter(|d| !d.revoked)
            .map(|d| AmqttAccount {
                username: d.username,
                client_id: d.client_id,
                secret: d.secret,
            })
            .collect();
        let listener = AmqttListener {
            bind: a.bind.clone().unwrap_or_else(|| "0.0.0.0".into()),
            port: self.port,
            server_cert: a.server_cert.clone(),
            server_key: a.server_key.clone(),
        };
        let r = crate::device::amqtt::export(dir, &accounts, &self.topic_prefix, &listener)?;
        self.reg.log_event(
            None,
            "broker-export",
            &format!("{} devices to {} (amqtt)", r.devices, r.dir.display()),
        )?;
        Ok(r)
    }

    fn amqtt_text(&self, r: &AmqttReport) -> String {
        format!(
            "Wrote amqtt files for {} device{} to {}:\n  passwd      Argon2id, mode 0600\n  \
             amqtt.yaml  {} listener on port {}; each device: {}/<client-id>/#\n\
             Next: amqtt -c {}\n",
            r.devices,
            if r.devices == 1 { "" } else { "s" },
            r.dir.display(),
            if r.tls {
                "TLS"
            } else {
                "plain TCP (no --server-cert)"
            },
            self.port,
            self.topic_prefix,
            r.config.display()
        )
    }

    /// `--dynsec FILE`: mosquitto's dynamic-security file.
    fn dynsec(&self, file: &std::path::Path) -> Result<DynsecExportReport> {
        let report = export_dynsec(file, &self.reg, &self.topic_prefix)?;
        chown(file, self.owner)?;
        if self.args.mosquitto.is_none() {
            self.reg.log_event(
                None,
                "broker-export",
                &format!(
                    "{} devices to {} (dynamic security)",
                    report.devices,
                    file.display()
                ),
            )?;
        }
        Ok(report)
    }

    /// `--mosquitto DIR`: password file, ACL and configuration snippet.
    fn mosquitto(&self, dir: PathBuf) -> Result<broker::ExportReport> {
        let a = self.args;
        let entries = self
            .reg
            .password_entries(a.mosquitto_version.iterations())?;
        let require = match a.client_certs {
            ClientCerts::Require => true,
            ClientCerts::Off => false,
            ClientCerts::Auto => !entries.is_empty() && entries.iter().all(|e| e.has_cert),
        };
        let device_ca_pem = if require {
            Some(crate::device::ca::load(&self.paths)?.cert_pem)
        } else {
            None
        };
        let spec = ExportSpec {
            dir,
            version: a.mosquitto_version,
            topic_prefix: self.topic_prefix.clone(),
            admin: a.admin.clone(),
            listener: ListenerSpec {
                port: self.port,
                bind: a.bind.clone(),
                server_cert: a.server_cert.clone(),
                server_key: a.server_key.clone(),
                ca: a.ca.clone(),
            },
            require_client_certs: require,
            device_ca_pem,
            force: a.force,
        };
        let report = broker::export(&spec, &entries)?;
        // Both files are 0600 and the broker reads both.
        chown(&report.dir.join("passwd"), self.owner)?;
        chown(&report.dir.join("acl"), self.owner)?;
        self.reg.log_event(
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
        Ok(report)
    }
}

fn dynsec_text(report: &DynsecExportReport) -> String {
    format!(
        "Wrote {} client{} and role{} ({}/<client-id>/#) to {} (mode 0600); {} revoked device(s) left out.\n\
         Next: start mosquitto with this file as the plugin's config (plugin_opt_config_file); \
         for a running broker use `espmqtt broker sync --dynsec mqtts://ADMIN@HOST`.\n",
        report.devices,
        if report.devices == 1 { "" } else { "s" },
        if report.devices == 1 { "" } else { "s" },
        report.topic_prefix,
        report.file.display(),
        report.revoked_left_out
    )
}

fn mosquitto_text(
    report: &broker::ExportReport,
    port: u16,
    amqtt: Option<&AmqttReport>,
    dynsec: Option<&DynsecExportReport>,
) -> String {
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
        port,
        if report.require_client_certs {
            ", client certificates required (username = certificate CN)"
        } else {
            ", username + password"
        }
    ));
    if let Some(r) = amqtt {
        s.push_str(&format!(
            "  {}  amqtt passwd (Argon2id) and amqtt.yaml for {} devices\n",
            r.dir.display(),
            r.devices
        ));
    }
    if let Some(d) = dynsec {
        s.push_str(&format!(
            "  {}  dynamic security: {} clients and roles, mode 0600\n",
            d.file.display(),
            d.devices
        ));
    }
    s.push_str(
        "Next: include mosquitto.conf in the broker's configuration and reload it (SIGHUP).\n",
    );
    s
}

fn run_sync(a: SyncArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let (username, target) = crate::ops::broker_sync::parse_url(&a.dynsec)?;
    if a.timeout == 0 || a.timeout > 3600 {
        return Err(Error::usage("--timeout must be between 1 and 3600 seconds"));
    }
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let prefix = topic_prefix(a.topic_prefix.clone(), &paths)?;
    let password = match std::env::var(&a.password_env) {
        Ok(p) if !p.is_empty() => p,
        _ if ctx.interactive => dialoguer::Password::new()
            .with_prompt(format!("password of {username} at {target}"))
            .interact()
            .map_err(|e| Error::runtime(format!("cannot read the password: {e}")))?,
        _ => {
            return Err(Error::usage(format!(
                "no password for {username}: {} is not set",
                a.password_env
            ))
            .with_help("set it (or name another variable with --password-env), or run on a terminal to be asked"))
        }
    };
    let reg = open_fleet_registry(&paths)?;
    let devices = dynsec_devices(&reg)?;
    let t = crate::ops::broker_sync::SyncTarget {
        target,
        username,
        password,
        ca_file: a.ca_file.clone(),
        timeout: std::time::Duration::from_secs(a.timeout),
    };
    let report = crate::ops::broker_sync::sync(&t, &devices, &prefix, a.dry_run)?;
    if !a.dry_run && !report.steps.is_empty() {
        reg.log_event(
            None,
            "broker-sync",
            &format!(
                "{} step(s) to {} (dynamic security), {} error(s)",
                report.steps.len(),
                report.broker,
                report.errors.len()
            ),
        )?;
    }
    for c in &report.conflicts {
        ctx.warn(format!(
            "the broker has a client {c:?} that espmqtt does not manage; that device was left alone"
        ));
    }
    ctx.emit(&report, |_| {
        let mut s = String::new();
        if report.steps.is_empty() {
            s.push_str(&format!(
                "{} already matches the registry ({} devices); nothing to do.\n",
                report.broker, report.devices
            ));
        } else {
            s.push_str(&format!(
                "{} {} step(s) on {}:\n",
                if report.dry_run { "Would run" } else { "Ran" },
                report.steps.len(),
                report.broker
            ));
            for st in &report.steps {
                s.push_str(&format!("  {}\n", st.summary));
            }
        }
        for e in &report.errors {
            s.push_str(&format!("error: {e}\n"));
        }
        s
    });
    if !report.errors.is_empty() {
        return Ok(ExitStatus::Runtime);
    }
    if !report.conflicts.is_empty() {
        return Ok(ExitStatus::CheckFailed);
    }
    Ok(ExitStatus::Success)
}
