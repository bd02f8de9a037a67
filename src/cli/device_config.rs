//! `espmqtt device config NAME --out FILE`: write a device's config blob.
//!
//! The blob combines the fleet settings of `espmqtt.toml` with the device's
//! secrets from the registry (format: `firmware-template/CONFIG_FORMAT.md`).
//! The file can be flashed with `espmqtt flash --config-only` or by hand with
//! esptool at the EEPROM sector. It holds secrets, so it is written through
//! `crate::files` with mode 0600, also when it replaces a wider file.

use std::path::PathBuf;

use serde::Serialize;

use crate::error::{ExitStatus, Result};
use crate::firmware::Board;
use crate::ops::device_blob::blob_for_device;
use crate::project::ProjectPaths;

use super::Ctx;

const AFTER_HELP: &str = "\
The blob holds Wi-Fi credentials and the device's MQTT secrets: the file is
written with mode 0600. An existing config blob is replaced; any other
existing file (espmqtt.toml, say) is left alone and the command exits 2
unless --force. Write it at the Arduino EEPROM sector, flash size - 0x5000.
With -q only the file's path is printed.

Examples:
  espmqtt device config sensor-007 --out sensor-007.bin
  esptool --port /dev/ttyUSB0 write-flash 0xFB000 sensor-007.bin   # ESP-07
  esptool --port /dev/ttyUSB0 write-flash 0x3FB000 sensor-007.bin  # ESP-07S";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct DeviceConfigArgs {
    /// Device name.
    pub name: String,
    /// File to write the blob to.
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace FILE even when it is not a config blob.
    #[arg(long)]
    pub force: bool,
}

/// Refuse to replace an existing `path` that is not one of our own outputs
/// (`ours` judges its first bytes) unless `force`: a slip such as
/// `--out espmqtt.toml` must not destroy the project. A missing file, or a
/// directory (the write reports that), passes.
pub(super) fn check_replace(
    path: &std::path::Path,
    ours: fn(&[u8]) -> bool,
    what: &str,
    force: bool,
) -> Result<()> {
    use std::io::Read;
    let Ok(meta) = std::fs::metadata(path) else {
        return Ok(());
    };
    if force || meta.is_dir() {
        return Ok(());
    }
    let mut head = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let _ = f.take(512).read_to_end(&mut head);
    }
    if meta.len() == 0 || ours(&head) {
        return Ok(());
    }
    Err(crate::error::Error::usage(format!(
        "{} exists and is not {what}; it was left untouched",
        path.display()
    ))
    .with_help("name another file, or pass --force to replace it"))
}

#[derive(Debug, Serialize)]
struct Report {
    device: String,
    out: PathBuf,
    bytes: usize,
    trust_mode: String,
    /// Flash offset of the blob on the configured board.
    offset: u32,
    board: String,
}

pub fn run(args: DeviceConfigArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let config = paths.load_config()?;
    let (_, bytes) = blob_for_device(&paths, &args.name)?;
    if config.tls.trust == crate::tls::TrustMode::Insecure {
        ctx.warn("trust mode `insecure`: this device will accept any broker certificate");
    }
    let board = Board::parse(&config.board.name)?;
    check_replace(
        &args.out,
        |h| h.starts_with(&crate::device::blob::MAGIC),
        "a config blob",
        args.force,
    )?;
    crate::files::write_private(&args.out, &bytes)?;
    ctx.wrote(&args.out, crate::files::PRIVATE);
    let report = Report {
        device: args.name.clone(),
        out: args.out.clone(),
        bytes: bytes.len(),
        trust_mode: config.tls.trust.to_string(),
        offset: board.info().eeprom_offset,
        board: board.to_string(),
    };
    ctx.emit_result(&report, || report.out.display().to_string(), |_| {
        format!(
            "wrote {} ({} bytes, trust {}) for {}\n  flash it at 0x{:X} on {}: espmqtt flash --config-only --device {}",
            report.out.display(),
            report.bytes,
            report.trust_mode,
            report.device,
            report.offset,
            report.board,
            report.device
        )
    });
    Ok(ExitStatus::Success)
}
