//! `espmqtt trust …`, `espmqtt device push`, `espmqtt device updates` and
//! `device rotate --over-the-air`: config updates over MQTT (`docs/OTA.md`).

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::error::{Error, ExitStatus, Result};
use crate::ops::ota::{self, PushOptions, PushedDevice, TrustSource, WaitFor};
use crate::ops::ota_link::Operator;
use crate::project::ProjectPaths;

use super::Ctx;

// ------------------------------------------------------------------ trust

#[derive(Debug, clap::Subcommand)]
pub enum TrustCommand {
    /// Show the trust the project serves: current, next (staged) and retired.
    #[command(after_help = "Example:\n  espmqtt trust show --format json")]
    Show,
    /// Stage the broker's next certificate (file or staging listener) for the whole fleet.
    Stage(StageArgs),
    /// After the broker switched: make the staged trust current and stop serving the old one.
    Retire(RetireArgs),
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("next").required(true).args(["pem", "from"])))]
#[command(after_help = "\
The next trust is taken in the project's trust mode ([tls] trust): the SHA-1
of the next leaf certificate (fingerprint), its public key (pubkey), or the
next root certificate (ca). Nothing reaches a device until `espmqtt device push`.

Examples:
  espmqtt trust stage --pem next-fullchain.pem
  espmqtt trust stage --from staging.broker.example.com:8884
  espmqtt device push --all")]
pub struct StageArgs {
    /// PEM (or DER) file with the next certificate chain (leaf first), or in ca mode the next root.
    #[arg(long, visible_alias = "file", value_name = "FILE")]
    pub pem: Option<PathBuf>,
    /// A listener that already serves the next certificate (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT")]
    pub from: Option<String>,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Run this after the broker serves the new certificate, then push again so the
devices drop the old trust. Refused (exit 1, nothing changed) while some
device has not committed the staged trust; --force retires anyway.

Examples:
  espmqtt trust retire
  espmqtt device push --all")]
pub struct RetireArgs {
    /// Retire even though some devices have not committed the staged trust.
    #[arg(long)]
    pub force: bool,
}

pub fn run_trust(cmd: TrustCommand, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    match cmd {
        TrustCommand::Show => {
            let reg = crate::device::registry::Registry::open(&paths)?;
            let items: Vec<ota::TrustView> =
                reg.trust()?.iter().map(ota::TrustView::from).collect();
            ctx.emit(&items, |_| {
                if items.is_empty() {
                    return "No trust staged yet: devices get the trust espmqtt.toml names.\n"
                        .into();
                }
                let mut s = String::new();
                for t in &items {
                    s += &format!(
                        "{:<8} {:<11} {}  ({}, {})\n",
                        t.state.as_str(),
                        t.kind.as_str(),
                        t.label,
                        t.source,
                        t.retired_at.as_deref().unwrap_or(&t.created_at)
                    );
                }
                s
            });
            Ok(ExitStatus::Success)
        }
        TrustCommand::Stage(a) => {
            let source = match (a.pem, a.from) {
                (Some(p), _) => TrustSource::Pem(p),
                (None, Some(f)) => {
                    let t = crate::target::parse(&f).map_err(|e| {
                        Error::usage(e.0).with_help(crate::target::TargetError::help())
                    })?;
                    TrustSource::Server {
                        host: t.host,
                        port: t.port,
                    }
                }
                (None, None) => return Err(Error::usage("give --pem FILE or --from HOST:PORT")),
            };
            let r = ota::stage_trust(&paths, &source, &Verbose(ctx))?;
            let labels = || {
                r.staged
                    .iter()
                    .map(|t| format!("{}\n", t.label))
                    .collect::<String>()
            };
            ctx.emit_result(&r, labels, |_| {
                let mut s = match r.outcome.as_str() {
                    "current" if r.mode == "pubkey" => format!(
                        "Nothing to stage: {} has the public key the fleet pins now, so the \
                         devices accept it as it is (the renewal kept the key). The broker can \
                         switch to it.\n",
                        r.source
                    ),
                    "current" => format!(
                        "Nothing to stage: {} is what the fleet trusts now ({} trust).\n\
                         Give the next certificate: the renewal's file (--pem FILE) or a \
                         listener that already serves it (--from HOST:PORT).\n",
                        r.source, r.mode
                    ),
                    "unchanged" => "Nothing new to stage: this trust is staged already. \
                                    Next: `espmqtt device push --all`.\n"
                        .to_string(),
                    _ => "Staged. Next: `espmqtt device push --all` while the broker still \
                          serves the current certificate.\n"
                        .to_string(),
                };
                for t in &r.staged {
                    s += &format!("  next {} {}\n", t.kind.as_str(), t.label);
                }
                s
            });
            Ok(ExitStatus::Success)
        }
        TrustCommand::Retire(a) => {
            let r = ota::retire_trust(&paths, a.force)?;
            let labels = || {
                r.current
                    .iter()
                    .map(|t| format!("{}\n", t.label))
                    .collect::<String>()
            };
            ctx.emit_result(&r, labels, |_| {
                let mut s = String::new();
                for t in &r.retired {
                    s += &format!("retired  {} {}\n", t.kind.as_str(), t.label);
                }
                for t in &r.current {
                    s += &format!("current  {} {}\n", t.kind.as_str(), t.label);
                }
                if !r.not_updated.is_empty() {
                    s += &format!(
                        "{} device(s) had not committed it (retired with --force): {}\n",
                        r.not_updated.len(),
                        r.not_updated.join(", ")
                    );
                }
                s += "Next: `espmqtt device push --all` removes the retired trust from the devices.\n";
                if r.config_names_retired {
                    s += &format!(
                        "espmqtt.toml still names the retired trust: devices get the registry's \
                         trust, but `espmqtt probe` (without --staged-trust) checks what \
                         espmqtt.toml names. Update [tls] to the current {} trust.\n",
                        r.mode
                    );
                }
                s
            });
            Ok(ExitStatus::Success)
        }
    }
}

// ------------------------------------------------------- operator session

/// How the operator reaches the broker (flags override `[operator]`).
#[derive(Debug, Clone, clap::Args)]
pub struct OperatorArgs {
    /// Broker to publish to (default: [operator] broker, else [broker] host:port).
    #[arg(long, value_name = "HOST:PORT")]
    pub broker: Option<String>,
    /// Operator's MQTT username (default: [operator] username).
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// Variable holding the operator's password (default: [operator]
    /// password_env, else ESPMQTT_OPERATOR_PASSWORD).
    #[arg(long, value_name = "VAR")]
    pub password_env: Option<String>,
    /// CA file for the broker's certificate (default: [operator] ca_file, else [tls] ca_file).
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
}

/// The operator's session settings. `connects`: the command will connect
/// (a dry run does not, so it needs no password and asks for none).
fn operator(a: &OperatorArgs, paths: &ProjectPaths, ctx: &Ctx, connects: bool) -> Result<Operator> {
    let config = paths.load_config()?;
    let op = config.operator.clone().unwrap_or_default();
    let spec = a
        .broker
        .clone()
        .or(op.broker.clone())
        .unwrap_or_else(|| format!("{}:{}", config.broker.host, config.broker.port));
    let target = crate::target::parse(&spec)
        .map_err(|e| Error::usage(e.0).with_help(crate::target::TargetError::help()))?;
    let username = a.user.clone().or(op.username.clone());
    let var = a
        .password_env
        .clone()
        .or(op.password_env.clone())
        .unwrap_or_else(|| "ESPMQTT_OPERATOR_PASSWORD".into());
    let password = match (&username, std::env::var(&var)) {
        (None, _) => None,
        _ if !connects => None,
        (Some(_), Ok(p)) if !p.is_empty() => Some(p),
        (Some(u), _) if ctx.interactive => Some(
            dialoguer::Password::new()
                .with_prompt(format!("password of {u} at {target}"))
                .interact()
                .map_err(|e| Error::runtime(format!("cannot read the password: {e}")))?,
        ),
        (Some(u), _) => {
            return Err(Error::usage(format!("no password for the operator {u}: {var} is not set"))
                .with_help("set it (or name another variable with --password-env), or run on a terminal to be asked"))
        }
    };
    let rel = |p: PathBuf| {
        if p.is_absolute() {
            p
        } else {
            paths.root.join(p)
        }
    };
    let ca_file = a.ca_file.clone().or(op.ca_file.clone().map(rel)).or(config
        .tls
        .ca_file
        .clone()
        .map(|p| paths.root.join(p)));
    Ok(Operator {
        target,
        username,
        password,
        ca_file,
        timeout: Duration::from_secs(10),
    })
}

// ------------------------------------------------------------------- push

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WaitArg {
    None,
    Staged,
    Committed,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("which").required(true).args(["devices", "all"])))]
#[command(after_help = "\
Each device gets its whole current config (trust served now, credentials,
settings) as one update, authenticated with its own key, published retained
with QoS 1 on <prefix>/<client-id>/config; a device that is offline gets it
when it connects. Pushing twice publishes nothing new; an interrupted push
(Ctrl-C, exit 130) publishes the same updates again. Exit 1 when a device
rejected or rolled back its update, was busy, or did not answer before
--timeout.

Examples:
  espmqtt device push --all
  espmqtt device push sensor-001 sensor-002 --wait staged
  espmqtt device push sensor-001..sensor-050 --timeout 5m
  espmqtt device push --all --dry-run --format json")]
pub struct PushArgs {
    /// Devices: names, FIRST..LAST ranges, comma lists.
    pub devices: Vec<String>,
    /// Every active device in the registry.
    #[arg(long)]
    pub all: bool,
    /// What to wait for before exiting.
    #[arg(long, value_enum, default_value_t = WaitArg::Committed)]
    pub wait: WaitArg,
    /// How long to wait for the devices' acknowledgements (e.g. 90s, 5m).
    #[arg(long, value_parser = super::duration::seconds, default_value = "60s")]
    pub timeout: Duration,
    /// Also give the devices a new update key.
    #[arg(long)]
    pub rotate_key: bool,
    /// Show what would be published; change nothing (needs no broker and no password).
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub operator: OperatorArgs,
}

fn names(paths: &ProjectPaths, devices: &[String], all: bool) -> Result<Vec<String>> {
    if all {
        let reg = crate::device::registry::Registry::open(paths)?;
        return Ok(reg
            .devices()?
            .into_iter()
            .filter(|d| !d.revoked)
            .map(|d| d.name)
            .collect());
    }
    super::flash_fleet::parse_devices(devices)
}

#[derive(Serialize)]
struct PushView<'a> {
    #[serde(flatten)]
    report: &'a ota::PushReport,
    ok: bool,
}

pub fn run_push(a: PushArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let names = names(&paths, &a.devices, a.all)?;
    let op = operator(&a.operator, &paths, ctx, !a.dry_run)?;
    let opts = PushOptions {
        names,
        wait: match a.wait {
            WaitArg::None => WaitFor::Nothing,
            WaitArg::Staged => WaitFor::Staged,
            WaitArg::Committed => WaitFor::Committed,
        },
        deadline: a.timeout,
        rotate_password: false,
        rotate_key: a.rotate_key,
        dry_run: a.dry_run,
    };
    push_and_report(&paths, &op, &opts, ctx, "")
}

/// `-v`: the steps of an operation on stderr, through the `Ctx` helpers
/// (above the progress bar, if one is drawn).
struct Verbose<'a>(&'a Ctx);

impl ota::Steps for Verbose<'_> {
    fn step(&self, s: ota::Step) {
        match s {
            ota::Step::Timed(what, since) => self.0.timed(&what, since),
            ota::Step::Detail(d) => self.0.detail(d),
            ota::Step::Trace(t) => self.0.trace(t),
        }
    }
}

/// Ctrl-C (or SIGTERM) while a push waits for acknowledgements: the first
/// one ends the wait (the report says what was heard), a second one exits
/// at once with 130.
struct Interrupt {
    flag: Arc<AtomicBool>,
    ids: Mutex<Vec<signal_hook::SigId>>,
}

impl Interrupt {
    fn new() -> Interrupt {
        Interrupt {
            flag: Arc::new(AtomicBool::new(false)),
            ids: Mutex::new(Vec::new()),
        }
    }

    fn install(&self) {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut ids) = self.ids.lock() else {
            return;
        };
        if !ids.is_empty() {
            return;
        }
        for sig in [SIGINT, SIGTERM] {
            // The order matters: the exit checks the flag before the first
            // signal sets it.
            let flag = Arc::clone(&self.flag);
            if let Ok(id) = signal_hook::flag::register_conditional_shutdown(sig, 130, flag) {
                ids.push(id);
            }
            if let Ok(id) = signal_hook::flag::register(sig, Arc::clone(&self.flag)) {
                ids.push(id);
            }
        }
    }

    fn hit(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }
}

impl Drop for Interrupt {
    fn drop(&mut self) {
        if let Ok(ids) = self.ids.lock() {
            for id in ids.iter() {
                signal_hook::low_level::unregister(*id);
            }
        }
    }
}

/// The acknowledgement bar on stderr.
struct AckBar<'a> {
    bar: Option<indicatif::ProgressBar>,
    verbose: Verbose<'a>,
    interrupt: Interrupt,
}

impl ota::Steps for AckBar<'_> {
    fn step(&self, s: ota::Step) {
        self.verbose.step(s)
    }
}

impl ota::PushProgress for AckBar<'_> {
    fn published(&self, total: usize) {
        // From here on everything is published and recorded: an
        // interruption only ends the wait.
        self.interrupt.install();
        if let Some(b) = &self.bar {
            b.set_length(total as u64);
            b.set_message("acknowledged");
        }
    }
    fn acknowledged(&self, d: &PushedDevice, settled: usize, _total: usize) {
        if let Some(b) = &self.bar {
            b.set_position(settled as u64);
            b.set_message(format!("{} {}", d.name, d.result));
        }
    }
    fn interrupted(&self) -> bool {
        self.interrupt.hit()
    }
}

/// What to do about a device the push did not bring where it should
/// (docs/OTA.md, "Rejections"); `None` when nothing is to be done.
fn next_step(d: &PushedDevice) -> Option<String> {
    let reason = d.reason.as_str();
    Some(match (d.action.as_str(), d.result.as_str()) {
        ("busy", _) => "an earlier update is staged on the device: wait for its commit or \
                        rollback (`espmqtt device updates --refresh`), then push again"
            .into(),
        (_, "rolled_back") if reason.starts_with("tls") => format!(
            "the new config's trust does not accept the broker ({reason}): check \
             `espmqtt trust show` and `espmqtt probe --staged-trust`, then push again"
        ),
        (_, "rolled_back") if reason.starts_with("mqtt") => format!(
            "the broker refused the new credentials ({reason}): give them to the broker \
             (`espmqtt broker sync` or `broker export` and a reload), then push again"
        ),
        (_, "rolled_back") => format!(
            "the device could not connect with the new config ({reason}) and went back to \
             the old one: push again to retry"
        ),
        (_, "rejected") => match reason {
            "bad_mac" | "no_update_key" => "the device does not hold the key the registry \
                                            has: flash its config once over serial \
                                            (`espmqtt flash --device NAME --config-only`)"
                .into(),
            "replayed" => "push again: a new number is issued".into(),
            _ => format!("refused ({reason}): see docs/OTA.md, \"Rejections\""),
        },
        _ => return None,
    })
}

fn push_and_report(
    paths: &ProjectPaths,
    op: &Operator,
    opts: &PushOptions,
    ctx: &Ctx,
    after: &str,
) -> Result<ExitStatus> {
    let bar = (ctx.progress && !opts.dry_run).then(|| {
        let b = indicatif::ProgressBar::new(0).with_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} {msg} ({elapsed})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        b.enable_steady_tick(Duration::from_millis(200));
        // Lines printed meanwhile (-v) go above it.
        super::live::set_live(Some(b.clone()));
        b
    });
    let progress = AckBar {
        bar,
        verbose: Verbose(ctx),
        interrupt: Interrupt::new(),
    };
    let r = ota::push(paths, op, opts, &progress);
    if let Some(b) = &progress.bar {
        b.finish_and_clear();
    }
    let r = r?;
    let ok = r.dry_run
        || (r.devices.iter().all(|d| d.ok(r.wait))
            && !r.devices.iter().any(|d| d.action == "busy"));
    let table = || {
        let mut s = String::new();
        for d in &r.devices {
            let n = d.update.map(|n| format!("update {n}")).unwrap_or_default();
            let result = match d.result.as_str() {
                "none" if r.dry_run || d.update.is_none() || r.wait == WaitFor::Nothing => "-",
                "none" => "no answer",
                other => other,
            };
            let reason = if d.reason.is_empty() {
                String::new()
            } else {
                format!(" ({})", d.reason)
            };
            s += &format!(
                "{:<24} {:<13} {:<11} {result}{reason}\n",
                d.name, d.action, n
            );
        }
        s
    };
    ctx.emit_result(&PushView { report: &r, ok }, table, |_| {
        let mut s = table();
        s += &if r.dry_run {
            format!(
                "dry run: {} would be published, {} up to date; nothing was published or recorded\n",
                r.published, r.up_to_date
            )
        } else {
            format!("{} published, {} up to date\n", r.published, r.up_to_date)
        };
        // Devices with the same next step are named together.
        let mut steps: Vec<(String, Vec<&str>)> = Vec::new();
        for d in &r.devices {
            if let Some(h) = next_step(d) {
                match steps.iter_mut().find(|(x, _)| *x == h) {
                    Some((_, names)) => names.push(&d.name),
                    None => steps.push((h, vec![&d.name])),
                }
            }
        }
        for (h, names) in &steps {
            s += &format!("{}: {h}\n", names.join(", "));
        }
        if r.interrupted {
            s += "Interrupted: the updates stay retained on the broker (devices get them when \
                  they connect) and what was heard is recorded. `espmqtt device updates \
                  --refresh` collects the rest; the same push continues where this one stopped.\n";
        } else if r.timed_out && opts.rotate_password {
            s += "The device did not answer in time: it gets the new password when it \
                  connects. Once `espmqtt device updates --refresh` shows it staged, give the \
                  password to the broker (`espmqtt broker sync --dynsec …`, or `espmqtt broker \
                  export` and a reload); until then the broker keeps the old one.\n";
        } else if r.timed_out {
            s += "Some devices did not answer in time: they get the update when they connect; \
                  check with `espmqtt device updates --refresh`.\n";
        } else if ok && !after.is_empty() {
            s += after;
        }
        s
    });
    if r.interrupted {
        std::process::exit(130);
    }
    Ok(if ok {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    })
}

/// `device rotate NAME --over-the-air`: a new password, delivered as an
/// update; the broker gets it only once the device staged it.
pub fn run_rotate_ota(
    name: &str,
    operator_args: &OperatorArgs,
    timeout: Duration,
    ctx: &Ctx,
) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let op = operator(operator_args, &paths, ctx, true)?;
    let opts = PushOptions {
        names: vec![name.to_string()],
        wait: WaitFor::Staged,
        deadline: timeout,
        rotate_password: true,
        rotate_key: false,
        dry_run: false,
    };
    let after = format!(
        "{name} holds the new password; the registry made it current. Next, right away: give it \
         to the broker (`espmqtt broker sync --dynsec …`, or `espmqtt broker export` and a \
         reload). The device tries it now and goes back to the old one after 3 refused attempts.\n"
    );
    push_and_report(&paths, &op, &opts, ctx, &after)
}

// ---------------------------------------------------------------- updates

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Per device: committed update, staged update, pending update, last
acknowledgement, last seen, and whether its committed config carries the
trust served now (TRUST: current, old, - when unknown). --refresh first
listens to the broker (retained acknowledgements arrive at once) and records
what the devices said.

Examples:
  espmqtt device updates
  espmqtt device updates --refresh
  espmqtt device updates sensor-001..sensor-010 --format json")]
pub struct UpdatesArgs {
    /// Devices (default: all).
    pub devices: Vec<String>,
    /// Listen to the broker this long first (e.g. 3s).
    #[arg(long, value_parser = super::duration::seconds, num_args = 0..=1, default_missing_value = "2s", value_name = "DURATION")]
    pub refresh: Option<Duration>,
    #[command(flatten)]
    pub operator: OperatorArgs,
}

pub fn run_updates(a: UpdatesArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let names = if a.devices.is_empty() {
        None
    } else {
        Some(super::flash_fleet::parse_devices(&a.devices)?)
    };
    let op = match a.refresh {
        Some(_) => Some(operator(&a.operator, &paths, ctx, true)?),
        None => None,
    };
    let lines = ota::status(
        &paths,
        names.as_deref(),
        op.as_ref().zip(a.refresh),
        &Verbose(ctx),
    )?;
    ctx.emit(&lines, |_| {
        let mut s = format!(
            "{:<24} {:<10} {:>9} {:>6} {:>7} {:<7}  {:<40} {}\n",
            "DEVICE", "PHASE", "COMMITTED", "STAGED", "PENDING", "TRUST", "LAST ACK", "LAST SEEN"
        );
        for l in &lines {
            let opt = |v: Option<u32>| v.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
            let ack = l
                .last_ack
                .as_ref()
                .map(|v| {
                    format!(
                        "{} {}{}",
                        v["update"],
                        v["result"].as_str().unwrap_or(""),
                        v["reason"]
                            .as_str()
                            .filter(|r| !r.is_empty())
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    )
                })
                .unwrap_or_else(|| "-".into());
            let trust = match l.trust_current {
                Some(true) => "current",
                Some(false) => "old",
                None => "-",
            };
            s += &format!(
                "{:<24} {:<10} {:>9} {:>6} {:>7} {:<7}  {:<40} {}\n",
                l.name,
                l.phase,
                l.committed,
                opt(l.staged),
                opt(l.pending),
                trust,
                ack,
                l.last_seen_at.as_deref().unwrap_or("-")
            );
        }
        s
    });
    Ok(ExitStatus::Success)
}

// --------------------------------------------------- probe --staged-trust

/// `probe --staged-trust [--device NAME | --all] [TARGET]`: will the fleet
/// survive the switch to the staged certificate?
pub fn run_forecast(
    target: &Option<String>,
    device: &Option<String>,
    timeout: f64,
    ctx: &Ctx,
) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let config = paths.load_config()?;
    let spec = target
        .clone()
        .unwrap_or_else(|| format!("{}:{}", config.broker.host, config.broker.port));
    let t = crate::target::parse(&spec)
        .map_err(|e| Error::usage(e.0).with_help(crate::target::TargetError::help()))?;
    let names = device.as_ref().map(|d| vec![d.clone()]);
    let f = crate::ops::trust_forecast::forecast(
        &paths,
        names.as_deref(),
        &t.host,
        t.port,
        Duration::from_secs_f64(timeout.clamp(0.1, 3600.0)),
    )?;
    let yes = |b: bool| if b { "yes" } else { "NO" };
    // `-q`: the verdict word, as `probe -q` prints it.
    let verdict = || if f.ok { "ok\n" } else { "fail\n" }.to_string();
    ctx.emit_result(&f, verdict, |_| {
        let mut s = format!(
            "{:<24} {:<22} {:<8} {:<8}\n",
            "DEVICE", "CONFIG", "BROKER", "NEXT"
        );
        for d in &f.devices {
            for c in std::iter::once(&d.committed).chain(d.staged.as_ref()) {
                let now = if c.accepts_current {
                    "yes".to_string()
                } else {
                    format!(
                        "NO ({}, {})",
                        c.tls_error,
                        crate::tls::names::bearssl_error_name(c.tls_error)
                    )
                };
                s += &format!(
                    "{:<24} {:<22} {:<8} {:<8}\n",
                    d.name,
                    c.config,
                    now,
                    c.accepts_next.map(yes).unwrap_or("-")
                );
            }
        }
        let failing = |pick: &dyn Fn(&crate::ops::trust_forecast::DeviceForecast) -> bool| {
            f.devices
                .iter()
                .filter(|d| pick(d))
                .map(|d| d.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let offline = failing(&|d| !d.connects_now());
        let stranded = failing(&|d| d.survives_switch == Some(false));
        if f.devices.is_empty() {
            s += "No active device to check.\n";
        } else if f.ok {
            s += if f.next_staged {
                "Every device connects now and will accept the staged certificate.\n"
            } else {
                "No next certificate staged; every device connects now.\n"
            };
        }
        if !offline.is_empty() {
            s += &format!(
                "Would not connect now: {offline} (`espmqtt probe --device NAME` says why).\n"
            );
        }
        if !stranded.is_empty() {
            s += &format!(
                "Would not survive the switch: {stranded}. Push (`espmqtt device push --all`) \
                 and wait for them to commit before switching the broker.\n"
            );
        }
        s
    });
    Ok(if f.ok {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    })
}
