//! `espmqtt device`: per-device identities and secrets in the registry.
//!
//! Every renderer here redacts secrets unless `--show-secrets` is given
//! (README, the `device` commands); the registry's record type has no
//! `Serialize`, so each view below chooses explicitly what leaves the process.

use std::path::PathBuf;

use serde::Serialize;

use crate::device::ca::{self, KeyKind};
use crate::device::registry::dump::Dump;
use crate::device::registry::{Created, DeviceRecord, Location, NewDevice, Registry};
use crate::error::{Error, ExitStatus, Result};
use crate::project::ProjectPaths;

use super::device_config::check_replace;
use super::Ctx;

/// Shown in place of a secret.
pub const REDACTED: &str = "<redacted>";
/// Devices generated (and committed) per registry transaction.
const BATCH: usize = 64;

#[derive(Debug, clap::Subcommand)]
pub enum DeviceCommand {
    /// Create devices: a name, a secret from the OS random generator, optionally a certificate.
    New(NewArgs),
    /// List devices (no secrets).
    List(ListArgs),
    /// Show one device: identity, flash record, certificate, history.
    Show(ShowArgs),
    /// Give a device a new secret (the old one stops working at the next `broker export`).
    Rotate(RotateArgs),
    /// Revoke a device: its secret and certificate are retired; exports leave it out.
    Revoke(RevokeArgs),
    /// Export the registry for other systems: CSV (default), JSON (--format json), or a whole-registry dump (--dump).
    Export(ExportArgs),
    /// Load a dump (`device export --dump`) into an empty registry of either backend.
    Import(ImportArgs),
    /// Issue a client certificate to a device from the local CA.
    Cert(CertArgs),
    /// Check the registry: SQLite integrity and that every active device is whole.
    #[command(
        after_help = "Exit status 1 when a problem is found.\n\nExample:\n  espmqtt device check --format json"
    )]
    Check,
    /// Write a device's config blob (Wi-Fi, broker, credentials, trust material).
    Config(super::device_config::DeviceConfigArgs),
    /// Push each device's current config over MQTT as an authenticated update; wait for acks.
    Push(super::ota::PushArgs),
    /// Fleet update status: committed, staged and pending update, last ack, last seen.
    Updates(super::ota::UpdatesArgs),
}

pub fn run(args: DeviceCommand, ctx: &Ctx) -> Result<ExitStatus> {
    match args {
        DeviceCommand::Config(a) => super::device_config::run(a, ctx),
        DeviceCommand::Push(a) => super::ota::run_push(a, ctx),
        DeviceCommand::Updates(a) => super::ota::run_updates(a, ctx),
        DeviceCommand::New(a) => run_new(a, ctx),
        DeviceCommand::List(a) => run_list(a, ctx),
        DeviceCommand::Show(a) => run_show(a, ctx),
        DeviceCommand::Rotate(a) => run_rotate(a, ctx),
        DeviceCommand::Revoke(a) => run_revoke(a, ctx),
        DeviceCommand::Export(a) => run_export(a, ctx),
        DeviceCommand::Import(a) => run_import(a, ctx),
        DeviceCommand::Cert(a) => run_cert(a, ctx),
        DeviceCommand::Check => run_check(ctx),
    }
}

fn open(ctx: &Ctx) -> Result<(ProjectPaths, Registry)> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let reg = Registry::open(&paths)?;
    Ok((paths, reg))
}

/// Open the registry to change the existing device `name`: nothing is
/// created when there is no registry yet (the device cannot exist), and a
/// name that is not there says which one was probably meant.
fn open_for_device(ctx: &Ctx, name: &str) -> Result<Registry> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let reg = crate::ops::device_blob::open_for_device(&paths, name)?;
    // An unknown name is refused here, with a hint at what was meant.
    crate::ops::device_blob::find_device(&reg, name)?;
    Ok(reg)
}

/// Open the registry for a command that only reads: nothing is created,
/// and a read-only registry file is fine. `None`: a project (it has an
/// `espmqtt.toml`) without a registry yet. Outside a project, with no
/// registry, a usage error.
fn open_read(ctx: &Ctx) -> Result<Option<Registry>> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    match Location::of_project(&paths)? {
        Location::Sqlite(p) if !p.exists() => {
            if paths.has_config() {
                Ok(None)
            } else {
                Err(crate::ops::device_blob::no_project())
            }
        }
        _ => Registry::open_read_only(&paths).map(Some),
    }
}

// ---------------------------------------------------------------- new

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Names are 1-64 characters of A-Z a-z 0-9 _ -; the name is also the MQTT client id,
the username and the topic level <prefix>/<name>/. An invalid name exits with 2
and nothing is created. A name that already exists is skipped (nothing written
for it) while the others are created; the command then exits 2 — or 0 with
--skip-existing. The JSON report lists `created` and `skipped`.

Numbered series are zero-padded to 3 digits (more when a number needs them),
so series continue with the same width: sensor-001 … sensor-100, then
sensor-101 … ; --width sets another width.

Examples:
  espmqtt device new kitchen garage
  espmqtt device new --prefix sensor- --count 100   # sensor-001 … sensor-100
  espmqtt device new --prefix sensor- --start 101 --count 50
  espmqtt device new --prefix sensor- --count 120 --skip-existing  # 101 … 120
  espmqtt device new door --client-cert             # needs `espmqtt ca init`
  espmqtt device new door --show-secrets --format json")]
pub struct NewArgs {
    /// Device names.
    #[arg(required_unless_present = "count", conflicts_with = "count")]
    pub names: Vec<String>,
    /// Name prefix of a numbered series.
    #[arg(long, requires = "count", default_value = "")]
    pub prefix: String,
    /// Create a numbered series of this many devices: PREFIX + number,
    /// zero-padded to 3 digits (or --width).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub count: Option<u32>,
    /// First number of the series (to continue one).
    #[arg(long, default_value_t = 1, requires = "count")]
    pub start: u32,
    /// Zero-pad numbers to this many digits (default 3; a longer number is
    /// never cut).
    #[arg(long, requires = "count", value_parser = clap::value_parser!(u8).range(1..=10))]
    pub width: Option<u8>,
    /// Skip names that already exist and exit 0 (they are reported as skipped).
    #[arg(long)]
    pub skip_existing: bool,
    /// Also issue a client certificate to each device (CN = client id).
    #[arg(long)]
    pub client_cert: bool,
    /// Certificate key: RSA with this many bits instead of EC P-256.
    #[arg(long, value_name = "BITS", requires = "client_cert")]
    pub rsa: Option<u32>,
    /// Certificate validity in days.
    #[arg(long, default_value_t = ca::DEFAULT_DEVICE_DAYS, requires = "client_cert")]
    pub days: u32,
    /// Print the generated secrets.
    #[arg(long)]
    pub show_secrets: bool,
}

/// Default zero-padding of a numbered series (`sensor-001`).
pub const SERIES_WIDTH: usize = 3;

/// Names of a numbered series, zero-padded to `width` (default
/// [`SERIES_WIDTH`]) digits: `--count 8` → 001…008, `--start 6 --count 5` →
/// 006…010, whatever the count, so a series keeps its width when continued.
pub fn series_names(prefix: &str, start: u32, count: u32, width: Option<usize>) -> Vec<String> {
    let width = width.unwrap_or(SERIES_WIDTH);
    (0..count)
        .map(|i| format!("{prefix}{:0width$}", u64::from(start) + u64::from(i)))
        .collect()
}

#[derive(Serialize)]
struct CertView {
    serial: String,
    key_type: String,
    not_after: String,
}

#[derive(Serialize)]
struct CreatedView {
    name: String,
    client_id: String,
    username: String,
    /// `null` unless --show-secrets.
    secret: Option<String>,
    certificate: Option<CertView>,
}

#[derive(Serialize)]
struct NewReport {
    created: Vec<CreatedView>,
    /// Names that already existed (nothing was written for them).
    skipped: Vec<String>,
    /// The same list, under its older name.
    duplicates: Vec<String>,
    /// Some names were created and some skipped.
    partial: bool,
    secrets_shown: bool,
    warnings: Vec<String>,
}

/// The names `device new` was asked for: the NAMES given, or the series
/// PREFIX + number (the prefix checked once).
fn requested_names(args: &NewArgs) -> Result<Vec<String>> {
    Ok(match args.count {
        Some(count) => {
            let last = u64::from(args.start) + u64::from(count) - 1;
            if last > u64::from(u32::MAX) {
                return Err(Error::usage("--start + --count is too large"));
            }
            // One message for the prefix, not one per name of the series.
            if let Some(bad) = args
                .prefix
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
            {
                return Err(Error::usage(format!(
                    "--prefix {:?} contains {bad:?}, which is not allowed in a device name; \
                     nothing was created",
                    args.prefix
                ))
                .with_help("use only A-Z, a-z, 0-9, '_' and '-', e.g. --prefix sensor-"));
            }
            series_names(&args.prefix, args.start, count, args.width.map(usize::from))
        }
        None => args.names.clone(),
    })
}

fn run_new(args: NewArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let names = requested_names(&args)?;
    // Check every name before creating anything: a typo in one name must not
    // leave half a command done.
    let mut invalid = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for n in &names {
        if let Err(e) = crate::device::secret::validate_name(n) {
            invalid.push(e.message);
        } else if !seen.insert(n.as_str()) {
            invalid.push(format!("{n:?} is given twice"));
        }
    }
    if !invalid.is_empty() {
        let more = if invalid.len() > 5 {
            format!(" (and {} more)", invalid.len() - 5)
        } else {
            String::new()
        };
        invalid.truncate(5);
        return Err(
            Error::usage(format!("{}{more}; nothing was created", invalid.join("; ")))
                .with_help("use 1-64 characters of A-Z, a-z, 0-9, '_' and '-', each name once"),
        );
    }
    let key_kind = KeyKind::from_rsa_bits(args.rsa)?;
    if args.client_cert && args.days == 0 {
        return Err(Error::usage("--days must be at least 1"));
    }
    let (paths, reg) = open(ctx)?;
    ctx.detail(format!("registry {}", reg.location()));
    let ca = if args.client_cert {
        let ca = ca::load(&paths)?;
        ctx.detail(format!(
            "read the local CA ({}) from {}",
            ca.key_kind.label(),
            paths.ca_dir().display()
        ));
        Some(ca)
    } else {
        None
    };
    let started = std::time::Instant::now();

    let warnings: Vec<String> = ca
        .as_ref()
        .and_then(|ca| ca.outlives_warning(args.days))
        .into_iter()
        .collect();
    for w in &warnings {
        ctx.warn(w);
    }
    let progress = DeviceCounter::new(ctx, names.len() as u64);
    let mut created = Vec::new();
    let mut duplicates = Vec::new();
    let mut done = 0u64;
    for chunk in names.chunks(BATCH) {
        let mut batch = Vec::with_capacity(chunk.len());
        for n in chunk {
            let mut d = NewDevice::generate(n)?;
            if let Some(ca) = &ca {
                d.certificate = Some(ca.issue_device(n, key_kind, args.days)?);
            }
            batch.push(d);
        }
        let outcomes = reg.create_devices(&batch)?;
        for (d, o) in batch.into_iter().zip(outcomes) {
            match o {
                Created::Created => created.push(CreatedView {
                    client_id: d.name.clone(),
                    username: d.name.clone(),
                    secret: args.show_secrets.then(|| d.secret.clone()),
                    certificate: d.certificate.map(|c| CertView {
                        serial: c.serial,
                        key_type: c.key_kind.label(),
                        not_after: c.not_after,
                    }),
                    name: d.name,
                }),
                Created::Duplicate => duplicates.push(d.name),
            }
        }
        done += chunk.len() as u64;
        progress.update(done);
        ctx.trace(format!(
            "batch of {}: {} created, {} already there",
            chunk.len(),
            created.len(),
            duplicates.len()
        ));
    }
    drop(progress);
    ctx.timed(
        &format!(
            "{} secret(s){} generated and stored in {}",
            created.len(),
            if args.client_cert {
                " and client certificate(s)"
            } else {
                ""
            },
            reg.location()
        ),
        started,
    );

    if created.is_empty() && !duplicates.is_empty() && !args.skip_existing {
        return Err(duplicate_error(&duplicates));
    }
    let report = NewReport {
        partial: !created.is_empty() && !duplicates.is_empty(),
        created,
        skipped: duplicates.clone(),
        duplicates: duplicates.clone(),
        secrets_shown: args.show_secrets,
        warnings,
    };
    let names: String = report
        .created
        .iter()
        .map(|d| format!("{}\n", d.name))
        .collect();
    ctx.emit_result(&report, || names, |_| render_new(&report, &reg.location()));
    if duplicates.is_empty() || args.skip_existing {
        Ok(ExitStatus::Success)
    } else {
        let e = duplicate_error(&duplicates);
        if !ctx.is_json() {
            ctx.report_error(&e);
        }
        Ok(ExitStatus::Usage)
    }
}

/// "N/M devices" on stderr while a series is created (a terminal only):
/// counts devices, not bytes, and leaves no line behind.
struct DeviceCounter(Option<indicatif::ProgressBar>);

impl DeviceCounter {
    fn new(ctx: &Ctx, total: u64) -> DeviceCounter {
        if !ctx.progress || total < 2 {
            return DeviceCounter(None);
        }
        let b = indicatif::ProgressBar::with_draw_target(
            Some(total),
            indicatif::ProgressDrawTarget::stderr(),
        );
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "creating devices [{bar:30}] {pos}/{len} devices, ETA {eta}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        DeviceCounter(Some(b))
    }

    fn update(&self, done: u64) {
        if let Some(b) = &self.0 {
            b.set_position(done);
        }
    }
}

impl Drop for DeviceCounter {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}

fn duplicate_error(dups: &[String]) -> Error {
    let shown: Vec<&str> = dups.iter().take(5).map(String::as_str).collect();
    let more = if dups.len() > 5 {
        format!(" and {} more", dups.len() - 5)
    } else {
        String::new()
    };
    Error::usage(format!(
        "{} already exist{}: {}{more}; nothing was written for {}",
        if dups.len() == 1 {
            "a device with this name"
        } else {
            "devices with these names"
        },
        if dups.len() == 1 { "s" } else { "" },
        shown.join(", "),
        if dups.len() == 1 { "it" } else { "them" },
    ))
    .with_help("choose other names, continue a series with --start N, or pass --skip-existing")
}

fn render_new(r: &NewReport, db: &str) -> String {
    let mut s = String::new();
    let n = r.created.len();
    let range = match (r.created.first(), r.created.last()) {
        (Some(a), Some(b)) if n > 1 => format!(" ({} … {})", a.name, b.name),
        (Some(a), _) => format!(" ({})", a.name),
        _ => String::new(),
    };
    s.push_str(&format!(
        "Created {n} device{}{range} in {db}.\n",
        if n == 1 { "" } else { "s" },
    ));
    if r.secrets_shown {
        let w = r
            .created
            .iter()
            .map(|c| c.name.len())
            .max()
            .unwrap_or(4)
            .max(4);
        s.push_str(&format!("{:w$}  SECRET\n", "NAME"));
        for c in &r.created {
            s.push_str(&format!(
                "{:w$}  {}\n",
                c.name,
                c.secret.as_deref().unwrap_or(REDACTED)
            ));
        }
    } else {
        if n <= 20 && n > 1 {
            let names: Vec<&str> = r.created.iter().map(|c| c.name.as_str()).collect();
            s.push_str(&format!("  {}\n", names.join(" ")));
        }
        s.push_str(
            "Secrets are not shown; see them with `espmqtt device show NAME --show-secrets`.\n",
        );
    }
    if !r.skipped.is_empty() {
        let shown: Vec<&str> = r.skipped.iter().take(10).map(String::as_str).collect();
        s.push_str(&format!(
            "Skipped {} existing: {}{}\n",
            r.skipped.len(),
            shown.join(" "),
            if r.skipped.len() > 10 { " …" } else { "" }
        ));
    }
    let certs = r.created.iter().filter(|c| c.certificate.is_some()).count();
    if certs > 0 {
        s.push_str(&format!("Issued {certs} client certificate(s); write them out with `espmqtt device cert NAME --out DIR`.\n"));
    }
    s.push_str("Next: `espmqtt broker export --mosquitto DIR` to update the broker.\n");
    s
}

// ---------------------------------------------------------------- list

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  espmqtt device list
  espmqtt device list -q        # the names only, one per line
  espmqtt device list --format json |
      jq '.devices[] | select(.mac == null) | .name'")]
pub struct ListArgs {}

#[derive(Serialize)]
struct DeviceView {
    name: String,
    client_id: String,
    username: String,
    status: &'static str,
    created_at: String,
    revoked_at: Option<String>,
    mac: Option<String>,
    chip_id: Option<String>,
    flash_size: Option<u64>,
    last_image_sha256: Option<String>,
    last_flashed_at: Option<String>,
    certificate: Option<CertView>,
    claimed_by: Option<String>,
}

impl DeviceView {
    fn of(d: &DeviceRecord) -> Self {
        DeviceView {
            name: d.name.clone(),
            client_id: d.client_id.clone(),
            username: d.username.clone(),
            status: if d.revoked { "revoked" } else { "active" },
            created_at: d.created_at.clone(),
            revoked_at: d.revoked_at.clone(),
            mac: d.mac.clone(),
            chip_id: d.chip_id.clone(),
            flash_size: d.flash_size,
            last_image_sha256: d.last_image_sha256.clone(),
            last_flashed_at: d.last_flashed_at.clone(),
            certificate: match (&d.cert_serial, &d.cert_key_type, &d.cert_not_after) {
                (Some(s), Some(k), Some(n)) => Some(CertView {
                    serial: s.clone(),
                    key_type: k.clone(),
                    not_after: n.clone(),
                }),
                _ => None,
            },
            claimed_by: d.claimed_by.clone(),
        }
    }
}

#[derive(Serialize)]
struct ListReport {
    count: usize,
    active: usize,
    devices: Vec<DeviceView>,
}

fn run_list(_args: ListArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let records = match open_read(ctx)? {
        Some(reg) => reg.devices()?,
        None => Vec::new(),
    };
    let devices: Vec<DeviceView> = records.iter().map(DeviceView::of).collect();
    let report = ListReport {
        count: devices.len(),
        active: devices.iter().filter(|d| d.status == "active").count(),
        devices,
    };
    // `-q`: the names, one per line (`for d in $(espmqtt device list -q)`).
    ctx.emit_result(
        &report,
        || {
            report
                .devices
                .iter()
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        },
        |_| render_list(&report),
    );
    Ok(ExitStatus::Success)
}

fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map(Vec::len).unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:w$}", w = widths[i]))
            .collect();
        s.push_str(line.join("  ").trim_end());
        s.push('\n');
    }
    s
}

fn render_list(r: &ListReport) -> String {
    if r.devices.is_empty() {
        return "No devices yet; create some with `espmqtt device new NAME`.\n".into();
    }
    let mut rows = vec![vec![
        "NAME".to_string(),
        "STATUS".into(),
        "MAC".into(),
        "CERTIFICATE".into(),
        "LAST FLASHED".into(),
    ]];
    for d in &r.devices {
        rows.push(vec![
            d.name.clone(),
            d.status.into(),
            d.mac.clone().unwrap_or_else(|| "-".into()),
            d.certificate
                .as_ref()
                .map(|c| {
                    format!(
                        "{} until {}",
                        c.key_type,
                        &c.not_after[..c.not_after.len().min(10)]
                    )
                })
                .unwrap_or_else(|| "-".into()),
            d.last_flashed_at.clone().unwrap_or_else(|| "never".into()),
        ]);
    }
    let mut s = table(&rows);
    s.push_str(&format!("{} devices, {} active\n", r.count, r.active));
    s
}

// ---------------------------------------------------------------- show

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  espmqtt device show sensor-007
  espmqtt device show sensor-007 --show-secrets --format json")]
pub struct ShowArgs {
    /// Device name.
    pub name: String,
    /// Include the secret and the certificate's private key.
    #[arg(long)]
    pub show_secrets: bool,
}

#[derive(Serialize)]
struct ShowReport {
    #[serde(flatten)]
    device: DeviceView,
    /// `null` unless --show-secrets.
    secret: Option<String>,
    secret_created_at: Option<String>,
    certificate_pem: Option<String>,
    /// `null` unless --show-secrets.
    certificate_key_pem: Option<String>,
    credential_history: Vec<crate::device::registry::CredentialHistory>,
    events: Vec<crate::device::registry::Event>,
    secrets_shown: bool,
}

fn run_show(args: ShowArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let Some(reg) = open_read(ctx)? else {
        return Err(
            Error::usage(format!("no device named {:?} in the registry", args.name))
                .with_help("create it with `espmqtt device new NAME`"),
        );
    };
    let d = crate::ops::device_blob::find_device(&reg, &args.name)?;
    let report = ShowReport {
        device: DeviceView::of(&d),
        secret: (args.show_secrets && !d.secret.is_empty()).then(|| d.secret.clone()),
        secret_created_at: d.secret_created_at.clone(),
        certificate_pem: d.client_cert_pem.clone(),
        certificate_key_pem: if args.show_secrets {
            d.client_key_pem.clone()
        } else {
            None
        },
        credential_history: reg.credential_history(&d.name)?,
        events: reg.events(Some(&d.name), 20)?,
        secrets_shown: args.show_secrets,
    };
    ctx.emit(&report, |_| render_show(&report));
    Ok(ExitStatus::Success)
}

fn render_show(r: &ShowReport) -> String {
    let d = &r.device;
    let opt = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    let mut rows = vec![
        vec!["name".to_string(), d.name.clone()],
        vec!["client id".into(), d.client_id.clone()],
        vec!["username".into(), d.username.clone()],
        vec![
            "password".into(),
            match (&r.secret, d.status) {
                (_, "revoked") => "- (revoked)".into(),
                (Some(s), _) => s.clone(),
                (None, _) => format!("{REDACTED} (use --show-secrets)"),
            },
        ],
        vec!["secret since".into(), opt(&r.secret_created_at)],
        vec![
            "status".into(),
            match &d.revoked_at {
                Some(t) => format!("revoked at {t}"),
                None => "active".into(),
            },
        ],
        vec!["created".into(), d.created_at.clone()],
        vec!["MAC".into(), opt(&d.mac)],
        vec!["chip id".into(), opt(&d.chip_id)],
        vec![
            "flash size".into(),
            d.flash_size
                .map(|s| format!("{s} bytes"))
                .unwrap_or_else(|| "-".into()),
        ],
        vec!["last flashed".into(), opt(&d.last_flashed_at)],
        vec!["last image".into(), opt(&d.last_image_sha256)],
        vec![
            "certificate".into(),
            d.certificate
                .as_ref()
                .map(|c| format!("{} serial {} until {}", c.key_type, c.serial, c.not_after))
                .unwrap_or_else(|| "-".into()),
        ],
        vec![
            "rotations".into(),
            r.credential_history.len().saturating_sub(1).to_string(),
        ],
    ];
    if let Some(w) = &d.claimed_by {
        rows.push(vec!["claimed by".into(), w.clone()]);
    }
    let mut s = table(&rows);
    if let Some(k) = &r.certificate_key_pem {
        s.push('\n');
        s.push_str(r.certificate_pem.as_deref().unwrap_or(""));
        s.push_str(k);
    }
    if !r.events.is_empty() {
        s.push_str("\nEvents:\n");
        for e in &r.events {
            s.push_str(&format!("  {}  {:<11} {}\n", e.at, e.kind, e.detail));
        }
    }
    s
}

// ---------------------------------------------------------------- rotate / revoke

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The old secret keeps working until the broker files are exported again:
  espmqtt device rotate sensor-007
  espmqtt broker export --mosquitto /etc/mosquitto/espmqtt
  systemctl reload mosquitto
  espmqtt flash --config-only --device sensor-007
Over the air, without a cable (docs/OTA.md; the broker gets the new password
once the device has staged it):
  espmqtt device rotate sensor-007 --over-the-air --timeout 2m
  espmqtt broker sync --dynsec mqtts://admin@broker.example.com")]
pub struct RotateArgs {
    /// Device name.
    pub name: String,
    /// Print the new secret.
    #[arg(long, conflicts_with = "over_the_air")]
    pub show_secrets: bool,
    /// Deliver the new password as a config update over MQTT; the device keeps
    /// the old one until the broker accepted the new one.
    #[arg(long)]
    pub over_the_air: bool,
    /// With --over-the-air: how long to wait for the device to stage the new
    /// password (e.g. 90s, 5m).
    #[arg(
        long,
        requires = "over_the_air",
        value_parser = super::duration::seconds,
        default_value = "60s",
        value_name = "DURATION"
    )]
    pub timeout: std::time::Duration,
    #[command(flatten)]
    pub operator: super::ota::OperatorArgs,
}

#[derive(Serialize)]
struct RotateReport {
    name: String,
    secret: Option<String>,
    secret_created_at: Option<String>,
    rotations: usize,
    secrets_shown: bool,
}

fn run_rotate(args: RotateArgs, ctx: &Ctx) -> Result<ExitStatus> {
    if args.over_the_air {
        return super::ota::run_rotate_ota(&args.name, &args.operator, args.timeout, ctx);
    }
    let reg = open_for_device(ctx, &args.name)?;
    let d = reg.rotate(&args.name)?;
    let report = RotateReport {
        secret: args.show_secrets.then(|| d.secret.clone()),
        secret_created_at: d.secret_created_at.clone(),
        rotations: reg.credential_history(&d.name)?.len().saturating_sub(1),
        name: d.name,
        secrets_shown: args.show_secrets,
    };
    ctx.emit(&report, |_| {
        format!(
            "{} has a new secret{}.\nNext: `espmqtt broker export` + broker reload (the old secret works until then), \
             and write the new configuration to the device.\n",
            report.name,
            report
                .secret
                .as_deref()
                .map(|s| format!(": {s}"))
                .unwrap_or_else(|| " (not shown; use --show-secrets)".into())
        )
    });
    Ok(ExitStatus::Success)
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  espmqtt device revoke sensor-007
  espmqtt broker export --mosquitto /etc/mosquitto/espmqtt
  systemctl reload mosquitto")]
pub struct RevokeArgs {
    /// Device name.
    pub name: String,
}

#[derive(Serialize)]
struct RevokeReport {
    name: String,
    revoked: bool,
    already_revoked: bool,
}

fn run_revoke(args: RevokeArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let reg = open_for_device(ctx, &args.name)?;
    let newly = reg.revoke(&args.name)?;
    let report = RevokeReport {
        name: args.name,
        revoked: true,
        already_revoked: !newly,
    };
    ctx.emit(&report, |_| {
        if newly {
            format!(
                "{} is revoked: its secret and certificate are retired.\nNext: `espmqtt broker export` + broker reload to lock it out.\n",
                report.name
            )
        } else {
            format!("{} was already revoked.\n", report.name)
        }
    });
    Ok(ExitStatus::Success)
}

// ---------------------------------------------------------------- export

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The text format of this command is CSV; --format json gives JSON.

Examples:
  espmqtt device export > devices.csv
  espmqtt device export --show-secrets --out devices.csv     # file mode 0600
  espmqtt device export --format json --show-secrets |
      jq -r '.devices[] | .name + \" \" + .secret'")]
pub struct ExportArgs {
    /// Include each device's current secret.
    #[arg(long)]
    pub show_secrets: bool,
    /// Write to this file (mode 0600, atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the whole registry (every secret, key, credential date and
    /// event) as one JSON dump to FILE (mode 0600), for `device import`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["out", "show_secrets"])]
    pub dump: Option<PathBuf>,
    /// Replace the --out or --dump file even when it is not an earlier export.
    #[arg(long)]
    pub force: bool,
}

/// An earlier `device export --dump`.
fn is_dump(head: &[u8]) -> bool {
    String::from_utf8_lossy(head).contains("\"espmqtt-registry-dump\"")
}

/// An earlier `device export --out` (CSV or JSON).
fn is_export(head: &[u8]) -> bool {
    let text = String::from_utf8_lossy(head);
    text.starts_with("name,client_id,") || text.trim_start().starts_with("{\n  \"devices\"")
}

#[derive(Serialize)]
struct ExportRow {
    name: String,
    client_id: String,
    username: String,
    /// `null` unless --show-secrets (and for revoked devices).
    secret: Option<String>,
    status: &'static str,
    mac: Option<String>,
    chip_id: Option<String>,
    flash_size: Option<u64>,
    last_flashed_at: Option<String>,
    cert_serial: Option<String>,
    cert_not_after: Option<String>,
}

#[derive(Serialize)]
struct ExportDoc {
    devices: Vec<ExportRow>,
    secrets_shown: bool,
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn render_csv(doc: &ExportDoc) -> String {
    let mut s = String::from(
        "name,client_id,username,password,status,mac,chip_id,flash_size,last_flashed_at,cert_serial,cert_not_after\n",
    );
    for r in &doc.devices {
        let pw = match (&r.secret, r.status) {
            (_, "revoked") => String::new(),
            (Some(p), _) => p.clone(),
            (None, _) => REDACTED.into(),
        };
        let f = [
            r.name.clone(),
            r.client_id.clone(),
            r.username.clone(),
            pw,
            r.status.into(),
            r.mac.clone().unwrap_or_default(),
            r.chip_id.clone().unwrap_or_default(),
            r.flash_size.map(|v| v.to_string()).unwrap_or_default(),
            r.last_flashed_at.clone().unwrap_or_default(),
            r.cert_serial.clone().unwrap_or_default(),
            r.cert_not_after.clone().unwrap_or_default(),
        ];
        let line: Vec<String> = f.iter().map(|x| csv_field(x)).collect();
        s.push_str(&line.join(","));
        s.push('\n');
    }
    s
}

#[derive(Serialize)]
struct ExportFileReport {
    file: PathBuf,
    devices: usize,
    format: &'static str,
    secrets_shown: bool,
}

fn run_export(args: ExportArgs, ctx: &Ctx) -> Result<ExitStatus> {
    if let Some(file) = &args.dump {
        check_replace(file, is_dump, "a registry dump", args.force)?;
    }
    if let Some(file) = &args.out {
        check_replace(file, is_export, "a device export", args.force)?;
    }
    let reg = open_read(ctx)?;
    if let Some(file) = &args.dump {
        let dump = match &reg {
            Some(r) => r.dump()?,
            None => Dump::new(Vec::new(), Vec::new()),
        };
        let mut body = serde_json::to_string_pretty(&dump)
            .map_err(|e| Error::runtime(format!("cannot serialise the dump: {e}")))?;
        body.push('\n');
        crate::files::write_file_atomic(file, body.as_bytes(), 0o600)?;
        let report = DumpReport {
            file: file.clone(),
            registry: reg.as_ref().map(|r| r.location()),
            devices: dump.devices.len(),
            events: dump.events.len(),
            schema_version: dump.schema_version,
        };
        ctx.emit(&report, |_| {
            format!(
                "Wrote the whole registry ({} devices, {} events, secrets included) to {} (mode 0600).\n",
                report.devices,
                report.events,
                file.display()
            )
        });
        return Ok(ExitStatus::Success);
    }
    let devices = match &reg {
        Some(r) => r.devices()?,
        None => Vec::new(),
    };
    let doc = ExportDoc {
        devices: devices
            .iter()
            .map(|d| ExportRow {
                name: d.name.clone(),
                client_id: d.client_id.clone(),
                username: d.username.clone(),
                secret: (args.show_secrets && !d.revoked).then(|| d.secret.clone()),
                status: if d.revoked { "revoked" } else { "active" },
                mac: d.mac.clone(),
                chip_id: d.chip_id.clone(),
                flash_size: d.flash_size,
                last_flashed_at: d.last_flashed_at.clone(),
                cert_serial: d.cert_serial.clone(),
                cert_not_after: d.cert_not_after.clone(),
            })
            .collect(),
        secrets_shown: args.show_secrets,
    };
    match &args.out {
        None => ctx.emit(&doc, |_| render_csv(&doc)),
        Some(file) => {
            let (body, format) = if ctx.is_json() {
                let mut j = serde_json::to_string_pretty(&doc)
                    .map_err(|e| Error::runtime(format!("cannot serialise the export: {e}")))?;
                j.push('\n');
                (j, "json")
            } else {
                (render_csv(&doc), "csv")
            };
            crate::files::write_file_atomic(file, body.as_bytes(), 0o600)?;
            let report = ExportFileReport {
                file: file.clone(),
                devices: doc.devices.len(),
                format,
                secrets_shown: args.show_secrets,
            };
            ctx.emit(&report, |_| {
                format!(
                    "Wrote {} devices ({format}) to {}.\n",
                    report.devices,
                    file.display()
                )
            });
        }
    }
    Ok(ExitStatus::Success)
}

#[derive(Serialize)]
struct DumpReport {
    file: PathBuf,
    registry: Option<String>,
    devices: usize,
    events: usize,
    schema_version: u32,
}

// ---------------------------------------------------------------- import

#[derive(Debug, clap::Args)]
#[command(after_help = "\
The registry it loads into must be empty; the whole file is checked before
anything is written, and loaded in one transaction.

Examples:
  espmqtt device export --dump registry.json
  ESPMQTT_REGISTRY=postgres://espmqtt@db.lab/espmqtt \\
      espmqtt device import registry.json")]
pub struct ImportArgs {
    /// A dump written by `espmqtt device export --dump`.
    pub file: PathBuf,
}

#[derive(Serialize)]
struct ImportReport {
    registry: String,
    devices: usize,
    events: usize,
}

fn run_import(args: ImportArgs, ctx: &Ctx) -> Result<ExitStatus> {
    // A dump holds a few KiB per device; the bound keeps /dev/zero from
    // exhausting memory.
    let text = crate::files::read_input_text(&args.file, 256 << 20, "registry dump")?;
    let dump = Dump::parse(&text).map_err(|e| e.context(args.file.display().to_string()))?;
    let (_, reg) = open(ctx)?;
    reg.load(&dump)?;
    let report = ImportReport {
        registry: reg.location(),
        devices: dump.devices.len(),
        events: dump.events.len(),
    };
    ctx.emit(&report, |_| {
        format!(
            "Loaded {} devices and {} events into {}.\n",
            report.devices, report.events, report.registry
        )
    });
    Ok(ExitStatus::Success)
}

// ---------------------------------------------------------------- check

#[derive(Serialize)]
struct CheckReport {
    registry: String,
    schema_version: u32,
    devices: u64,
    ok: bool,
    problems: Vec<String>,
}

fn run_check(ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let report = match Location::of_project(&paths)? {
        // Nothing to check, and nothing is created: a project whose first
        // device is still to come is healthy; outside a project, say so.
        Location::Sqlite(p) if !p.exists() => {
            if !paths.has_config() {
                return Err(crate::ops::device_blob::no_project());
            }
            CheckReport {
                registry: format!("{} (not created yet)", p.display()),
                schema_version: crate::device::registry::schema_version(),
                devices: 0,
                ok: true,
                problems: Vec::new(),
            }
        }
        _ => {
            let reg = Registry::open(&paths)?;
            let problems = reg.check()?;
            CheckReport {
                registry: reg.location(),
                schema_version: crate::device::registry::schema_version(),
                devices: reg.count()?,
                ok: problems.is_empty(),
                problems,
            }
        }
    };
    ctx.emit(&report, |_| {
        if report.ok {
            format!(
                "{}: healthy, {} device{} (schema version {}).\n",
                report.registry,
                report.devices,
                if report.devices == 1 { "" } else { "s" },
                report.schema_version
            )
        } else {
            let mut s = format!(
                "{}: {} problem(s):\n",
                report.registry,
                report.problems.len()
            );
            for p in &report.problems {
                s.push_str(&format!("  {p}\n"));
            }
            s
        }
    });
    Ok(super::output::status_from(report.ok))
}

// ---------------------------------------------------------------- cert

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Issues a new certificate (CN = client id) from the local CA; a previous one is
superseded. The firmware loads it with setClientECCert (EC) or setClientRSACert (RSA).

Examples:
  espmqtt ca init
  espmqtt device cert sensor-007 --out certs/  # sensor-007.crt, .key (0600)
  espmqtt device cert sensor-007 --rsa 2048 --days 730")]
pub struct CertArgs {
    /// Device name.
    pub name: String,
    /// RSA key with this many bits instead of EC P-256.
    #[arg(long, value_name = "BITS")]
    pub rsa: Option<u32>,
    /// Validity in days.
    #[arg(long, default_value_t = ca::DEFAULT_DEVICE_DAYS)]
    pub days: u32,
    /// Also write NAME.crt, NAME.key (mode 0600) and ca.crt into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Serialize)]
struct CertReport {
    name: String,
    serial: String,
    key_type: String,
    not_before: String,
    not_after: String,
    certificate_pem: String,
    /// What the firmware passes as `cert_issuer_key_type` to `setClientECCert`.
    bearssl_issuer_key_type: &'static str,
    cert_file: Option<PathBuf>,
    key_file: Option<PathBuf>,
    ca_file: Option<PathBuf>,
    warnings: Vec<String>,
}

fn run_cert(args: CertArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let kind = KeyKind::from_rsa_bits(args.rsa)?;
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let reg = crate::ops::device_blob::open_for_device(&paths, &args.name)?;
    let d = crate::ops::device_blob::find_device(&reg, &args.name)?;
    if d.revoked {
        return Err(Error::usage(format!("{} is revoked", d.name))
            .with_help("a revoked device cannot get a certificate; create a new device"));
    }
    let ca = ca::load(&paths)?;
    // --out is checked before anything is issued or stored: a failure there
    // must not leave a new certificate behind.
    if let Some(dir) = &args.out {
        if dir.exists() && !dir.is_dir() {
            return Err(Error::usage(format!(
                "--out {}: is a file; --out names a directory",
                dir.display()
            ))
            .with_help(format!(
                "name a directory: {0}.crt, {0}.key and ca.crt are written into it",
                d.name
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    ctx.detail(format!(
        "read the local CA ({}) from {}",
        ca.key_kind.label(),
        paths.ca_dir().display()
    ));
    let t = std::time::Instant::now();
    let issued = ca.issue_device(&d.client_id, kind, args.days)?;
    ctx.timed(
        &format!(
            "issued a {} certificate for CN {}, serial {}",
            issued.key_kind.label(),
            d.client_id,
            issued.serial
        ),
        t,
    );
    for w in &issued.warnings {
        ctx.warn(w);
    }
    reg.store_certificate(&d.name, &issued)?;
    ctx.detail(format!(
        "stored the certificate and key in the registry {}",
        reg.location()
    ));
    let (mut cert_file, mut key_file, mut ca_file) = (None, None, None);
    if let Some(dir) = &args.out {
        let c = dir.join(format!("{}.crt", d.name));
        let k = dir.join(format!("{}.key", d.name));
        let a = dir.join("ca.crt");
        for (path, bytes, mode) in [
            (&k, issued.key_pem.as_bytes(), crate::files::PRIVATE),
            (&c, issued.cert_pem.as_bytes(), crate::files::PUBLIC),
            (&a, ca.cert_pem.as_bytes(), crate::files::PUBLIC),
        ] {
            crate::files::write_file_atomic(path, bytes, mode)?;
            ctx.wrote(path, mode);
        }
        (cert_file, key_file, ca_file) = (Some(c), Some(k), Some(a));
    }
    let report = CertReport {
        name: d.name.clone(),
        serial: issued.serial.clone(),
        key_type: issued.key_kind.label(),
        not_before: issued.not_before.clone(),
        not_after: issued.not_after.clone(),
        certificate_pem: issued.cert_pem.clone(),
        bearssl_issuer_key_type: ca.key_kind.bearssl_keytype(),
        cert_file,
        key_file,
        ca_file,
        warnings: issued.warnings.clone(),
    };
    ctx.emit(&report, |_| {
        let mut s = format!(
            "Issued a certificate ({}) to {} (CN {}), serial {}, valid until {}.\n",
            report.key_type, report.name, d.client_id, report.serial, report.not_after
        );
        match (&report.cert_file, &report.key_file) {
            (Some(c), Some(k)) => s.push_str(&format!(
                "Wrote {} and {} (the key mode 0600).\n",
                c.display(),
                k.display()
            )),
            _ => s.push_str(
                "The key is in the registry; write both files with --out DIR, or see them with \
                 `espmqtt device show NAME --show-secrets`.\n",
            ),
        }
        s.push_str(&format!(
            "Firmware: {} (issuer key type {}).\n",
            if report.key_type.starts_with("rsa") {
                "client.setClientRSACert(&cert, &key)".to_string()
            } else {
                format!(
                    "client.setClientECCert(&cert, &key, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN, {})",
                    report.bearssl_issuer_key_type
                )
            },
            report.bearssl_issuer_key_type
        ));
        s
    });
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::series_names;

    #[test]
    fn series_are_padded_to_the_width_of_the_count() {
        assert_eq!(series_names("s-", 1, 8, None)[..2], ["s-001", "s-002"]);
        assert_eq!(
            series_names("sensor-", 6, 5, None),
            [
                "sensor-006",
                "sensor-007",
                "sensor-008",
                "sensor-009",
                "sensor-010"
            ]
        );
        assert_eq!(series_names("x", 999, 2, None), ["x999", "x1000"]);
        let n = series_names("sensor-", 1, 100, None);
        assert_eq!(
            (n[0].as_str(), n[99].as_str()),
            ("sensor-001", "sensor-100")
        );
        let n = series_names("sensor-", 101, 50, None);
        assert_eq!(
            (n[0].as_str(), n[49].as_str()),
            ("sensor-101", "sensor-150")
        );
        assert_eq!(series_names("x", 7, 2, Some(4)), ["x0007", "x0008"]);
    }
}
