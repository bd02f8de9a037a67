//! `espmqtt build`: render the firmware template and compile it.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{ExitStatus, Result};
use crate::firmware::builder::{self, BuildOptions, BuilderChoice};
use crate::firmware::Board;
use crate::project::{ProjectConfig, ProjectPaths};

use super::Ctx;

const AFTER_HELP: &str = "\
The sketch is rendered into .espmqtt/build/<board>/ and compiled with arduino-cli
(FQBN esp8266:esp8266:generic, 160 MHz, all ciphers, the board's flash layout) or
PlatformIO. Unchanged inputs are not rebuilt. The image is the same for every
device: per-device settings are written separately by `espmqtt flash`.

With -q only the image's path is printed; -v adds the builder, the build
directory and the time taken.

Examples:
  espmqtt build
  espmqtt build --board esp07s --builder platformio --timeout 20m
  espmqtt build --out dist/ --format json
  espmqtt flash --port /dev/ttyUSB0 --firmware \"$(espmqtt build -q)\"";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct BuildArgs {
    /// Module: esp07 (1 MB flash) or esp07s (4 MB). Default: the board name in espmqtt.toml.
    #[arg(long, value_enum)]
    pub board: Option<Board>,
    /// Which toolchain compiles the sketch.
    #[arg(long, value_enum, default_value_t = BuilderChoice::Auto)]
    pub builder: BuilderChoice,
    /// Build directory (default: .espmqtt/build/<board>/).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Stop a builder that runs longer than this (seconds, or 90s, 20m, 1h).
    #[arg(long, value_name = "SECS", default_value = "30m", value_parser = super::duration::seconds)]
    pub timeout: Duration,
}

pub fn run(args: BuildArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    // The firmware is the same for every device; a project file is only
    // needed for the defaults (board, cipher build).
    let config = if paths.has_config() {
        Some(paths.load_config()?)
    } else {
        None
    };
    let board = match (args.board, &config) {
        (Some(b), _) => b,
        (None, Some(c)) => Board::parse(&c.board.name)?,
        (None, None) => Board::Esp07,
    };
    let ciphers = config
        .as_ref()
        .map(|c: &ProjectConfig| c.tls.ciphers.clone())
        .unwrap_or_else(|| "all".into());
    let dir = match args.out {
        Some(d) => d,
        None => {
            paths.ensure_state_dir()?;
            paths.build_dir(board.as_str())
        }
    };
    ctx.detail(format!(
        "building for {board} (ciphers {ciphers}) in {}",
        dir.display()
    ));
    let progress = super::progress::for_ctx(ctx);
    let t = std::time::Instant::now();
    let report = builder::build(
        &BuildOptions {
            board,
            builder: args.builder,
            ciphers,
            dir,
            timeout: args.timeout,
        },
        progress.as_ref(),
    )?;
    drop(progress);
    if report.rebuilt {
        ctx.timed(
            &format!("{} compiled the sketch", report.builder.as_str()),
            t,
        );
        ctx.wrote(&report.firmware, crate::files::PUBLIC);
    } else {
        ctx.detail("inputs unchanged since the last build: nothing compiled");
    }
    ctx.emit_result(
        &report,
        || report.firmware.display().to_string(),
        |_| {
            let mut s = format!(
                "{} {} for {} ({})\n  image: {} ({} bytes)\n",
                if report.rebuilt {
                    "built"
                } else {
                    "up to date:"
                },
                report.builder.as_str(),
                report.board,
                report.fqbn,
                report.firmware.display(),
                report.firmware_bytes
            );
            if let (Some(u), Some(m)) = (report.size.flash_used, report.size.flash_max) {
                s.push_str(&format!("  flash: {u} of {m} bytes\n"));
            }
            if let (Some(u), Some(m)) = (report.size.ram_used, report.size.ram_max) {
                s.push_str(&format!("  RAM:   {u} of {m} bytes (static)\n"));
            }
            s.push_str(&format!(
                "  device config goes at 0x{:X} (espmqtt flash does this)",
                report.config_offset
            ));
            s
        },
    );
    Ok(ExitStatus::Success)
}
