//! Command-line layer: clap definitions (one file per subcommand), rendering
//! of report values as text or JSON, progress bars and prompts.
//!
//! The library below never prints; every subcommand file turns its arguments
//! into library calls and hands a report value to [`output::Ctx`].

mod live;
pub mod output;
pub mod progress;

pub mod broker;
pub mod build;
pub mod ca;
pub mod completions;
pub mod demo;
pub mod device;
pub mod device_config;
pub mod duration;
pub mod emulate;
pub mod fingerprint;
pub mod flash;
pub mod flash_args;
pub mod flash_fleet;
pub mod init;
pub mod monitor;
pub mod ota;
pub mod ports;
pub mod probe;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, ExitStatus, Result};
pub use output::{Ctx, Format};

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  the check ran and failed (incompatible broker, fingerprint mismatch,
     verify mismatch)
  2  usage or configuration error
  3  target unreachable (network, TLS handshake, serial port, download mode)
  4  other runtime failure (build failed, I/O error)

Examples:
  espmqtt fingerprint broker.example.com:8883
  espmqtt fingerprint broker.example.com --expect 'AB:CD:…' --format json
  espmqtt device new --prefix sensor- --count 100
  espmqtt flash --port /dev/ttyUSB0 --device sensor-007";

/// Provision and diagnose ESP8266 modules (ESP-07 / ESP-07S) that talk MQTT over TLS.
#[derive(Debug, Parser)]
#[command(name = "espmqtt", version, about, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted by every subcommand.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Output format: human text, or one JSON document (JSON Lines for streams).
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print only results and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more detail (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Disable colours (also honoured: the NO_COLOR environment variable).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Project configuration file (default: espmqtt.toml here or in a parent).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Never prompt (implied when stdin is not a terminal or CI is set).
    #[arg(long, global = true)]
    pub non_interactive: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show a broker's certificate chain, fingerprints and pins; check them in CI.
    Fingerprint(fingerprint::FingerprintArgs),
    /// Check end to end, from the host, whether a device can connect to a broker.
    Probe(probe::ProbeArgs),
    /// Per-device identities and secrets (registry).
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// Local certificate authority for device client certificates.
    #[command(subcommand)]
    Ca(ca::CaCommand),
    /// Broker-side files for the whole fleet (mosquitto password file, ACL, config).
    #[command(subcommand)]
    Broker(broker::BrokerCommand),
    /// The broker trust the fleet gets over MQTT: stage the next certificate, retire the old.
    #[command(subcommand)]
    Trust(ota::TrustCommand),
    /// Create espmqtt.toml (broker, Wi-Fi, topic prefix, trust mode, board).
    Init(init::InitArgs),
    /// Render the firmware template and compile it with arduino-cli or PlatformIO.
    Build(build::BuildArgs),
    /// Write firmware and/or a device's configuration to a module over serial.
    Flash(flash_args::FlashArgs),
    /// Serial console that explains boot messages, crashes and firmware status lines.
    Monitor(monitor::MonitorArgs),
    /// List serial ports with their USB bridge chip.
    Ports(ports::PortsArgs),
    /// Run a virtual ESP8266 serial bootloader on a TCP port.
    Emulate(emulate::EmulateArgs),
    /// Run the whole job on this machine: local broker, emulator, provision, flash, probe.
    Demo(demo::DemoArgs),
    /// Print a shell completion script.
    Completions(completions::CompletionsArgs),
}

impl Ctx {
    /// The context for this invocation: the global flags, the environment
    /// (`NO_COLOR`, `CI`) and which streams are terminals.
    pub fn from_global(g: &GlobalArgs) -> Self {
        use std::io::IsTerminal;
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        let stderr_tty = std::io::stderr().is_terminal();
        let stdout_tty = std::io::stdout().is_terminal();
        Ctx {
            format: g.format,
            quiet: g.quiet,
            verbose: g.verbose,
            color: !g.no_color && !no_color_env && stdout_tty && g.format == Format::Text,
            interactive: !g.non_interactive && !ci && std::io::stdin().is_terminal() && stderr_tty,
            progress: stderr_tty && g.format == Format::Text && !g.quiet,
            config: g.config.clone(),
            started: std::time::Instant::now(),
        }
    }
}

/// Run the parsed command line. Returns the exit status of a command that
/// completed (possibly "check failed"); errors carry their own status.
pub fn run(cli: Cli) -> Result<ExitStatus> {
    let ctx = Ctx::from_global(&cli.global);
    check_config_flag(&cli)?;
    let started = std::time::Instant::now();
    if ctx.verbose > 0 && uses_project(&cli.command) {
        say_project(cli.global.config.as_deref(), &ctx);
    }
    let outcome = dispatch(cli, &ctx);
    ctx.timed("finished", started);
    outcome
}

/// Commands that read the project (`espmqtt.toml`, the registry, the CA).
fn uses_project(c: &Command) -> bool {
    !matches!(
        c,
        Command::Fingerprint(_)
            | Command::Ports(_)
            | Command::Emulate(_)
            | Command::Demo(_)
            | Command::Completions(_)
            | Command::Init(_)
    )
}

/// `-v`: which project and registry this run reads. Silent about what it
/// cannot resolve: the command itself reports that as its error.
fn say_project(explicit: Option<&std::path::Path>, ctx: &Ctx) {
    let Ok(paths) = crate::project::ProjectPaths::locate(explicit) else {
        return;
    };
    if paths.has_config() {
        ctx.detail(format!("project: {}", paths.config_file.display()));
    }
    match crate::device::registry::Location::of_project(&paths) {
        Ok(crate::device::registry::Location::Sqlite(p)) if !p.exists() => {
            ctx.detail(format!("registry: {} (not created yet)", p.display()));
        }
        Ok(loc) => ctx.detail(format!("registry: {}", loc.describe())),
        Err(_) => {}
    }
}

fn dispatch(cli: Cli, ctx: &Ctx) -> Result<ExitStatus> {
    match cli.command {
        Command::Fingerprint(a) => fingerprint::run(a, ctx),
        Command::Probe(a) => probe::run(a, ctx),
        Command::Device(a) => device::run(a, ctx),
        Command::Ca(a) => ca::run(a, ctx),
        Command::Broker(a) => broker::run(a, ctx),
        Command::Trust(a) => ota::run_trust(a, ctx),
        Command::Init(a) => init::run(a, ctx),
        Command::Build(a) => build::run(a, ctx),
        Command::Flash(a) => flash::run(a, ctx),
        Command::Monitor(a) => monitor::run(a, ctx),
        Command::Ports(a) => ports::run(a, ctx),
        Command::Emulate(a) => emulate::run(a, ctx),
        Command::Demo(a) => demo::run(a, ctx),
        Command::Completions(a) => completions::run(a, ctx),
    }
}

/// `--config PATH` names a file that must exist, whatever the command
/// (only `init`, which creates it, may name a new file).
fn check_config_flag(cli: &Cli) -> Result<()> {
    let Some(p) = &cli.global.config else {
        return Ok(());
    };
    if matches!(cli.command, Command::Init(_)) || p.is_file() {
        return Ok(());
    }
    let what = if p.is_dir() {
        "is a directory"
    } else {
        "does not exist"
    };
    Err(Error::usage(format!("--config {}: {what}", p.display()))
        .with_help("name an espmqtt.toml file, or create one with `espmqtt init --config PATH`"))
}

/// Report a command line clap rejected, in the format asked for: with
/// `--format json` a JSON error object on stdout like every other error
/// (exit 2); `--help`/`--version` print as usual (exit 0).
pub fn report_parse_error(
    e: &clap::Error,
    args: impl IntoIterator<Item = std::ffi::OsString>,
) -> std::process::ExitCode {
    use std::process::ExitCode;
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if !wants_json(args) {
        let _ = e.print();
        return ExitCode::from(ExitStatus::Usage.code());
    }
    let rendered = e.render().to_string();
    let text = rendered.trim().trim_start_matches("error:").trim();
    let (message, rest) = match text.split_once("\n\n") {
        Some((m, r)) => (m.trim(), r.trim()),
        None => (text, ""),
    };
    let help = rest
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let mut err = Error::usage(message);
    if !help.is_empty() {
        err = err.with_help(help);
    }
    let ctx = Ctx {
        format: Format::Json,
        ..Ctx::plain()
    };
    ctx.report_error(&err);
    ExitCode::from(ExitStatus::Usage.code())
}

/// Whether a command line clap could not parse asked for `--format json`
/// (the last `--format` before `--` wins, as in clap).
fn wants_json(args: impl IntoIterator<Item = std::ffi::OsString>) -> bool {
    let args: Vec<String> = args
        .into_iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut json = false;
    let mut i = 0;
    while i < args.len() {
        let a = args[i].as_str();
        if a == "--" {
            break;
        }
        if a == "--format" {
            json = args.get(i + 1).is_some_and(|v| v == "json");
            i += 1;
        } else if let Some(v) = a.strip_prefix("--format=") {
            json = v == "json";
        }
        i += 1;
    }
    json
}

/// The clap command (for completions and tests).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[cfg(test)]
mod tests {
    #[test]
    fn clap_definition_is_consistent() {
        super::command().debug_assert();
    }

    #[test]
    fn json_is_found_in_a_command_line_clap_rejected() {
        let a = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert!(super::wants_json(a(&["espmqtt", "x", "--format", "json"])));
        assert!(super::wants_json(a(&[
            "espmqtt",
            "--format=json",
            "--bogus"
        ])));
        assert!(!super::wants_json(a(&[
            "espmqtt", "--format", "json", "--format", "text"
        ])));
        assert!(!super::wants_json(a(&[
            "espmqtt", "--", "--format", "json"
        ])));
        assert!(!super::wants_json(a(&["espmqtt", "--format"])));
    }
}
