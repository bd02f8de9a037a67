//! The arguments of `espmqtt flash` (one module, and the fleet options
//! flattened into them) and their validation into [`FlashOptions`]. Kept
//! apart from `flash.rs` and `flash_fleet.rs` so that both read them and
//! neither imports the other's arguments.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::flash::cost::WritePath;
use crate::flash::flasher::{self, After, FlashOptions, HeaderSize};
use crate::flash::image::{self, FlashMode};

use super::duration::seconds;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FlashModeArg {
    Keep,
    Qio,
    Qout,
    Dio,
    Dout,
}

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  espmqtt flash --firmware build/esp07/firmware.bin
  espmqtt flash --port /dev/ttyUSB0 --firmware fw.bin --device sensor-007
  espmqtt flash --port /dev/ttyUSB0 --device sensor-007 --config-only
  espmqtt flash --port /dev/ttyUSB0 --read-config
  espmqtt flash --port socket://127.0.0.1:4000 --firmware fw.bin --format json
  espmqtt flash --port rfc2217://bench-pi:4001 --device sensor-007 --config-only
  espmqtt flash --no-stub --firmware fw.bin     # ROM loader only, 115200 baud
  espmqtt flash --port /dev/ttyUSB0 --port /dev/ttyUSB1 \\
      --devices sensor-001..sensor-100 \\
      --firmware fw.bin --wait                  # a fleet, one worker per port

Without --port the only USB serial port is used. A port on another machine:
rfc2217://HOST:PORT (ser2net `telnet(rfc2217)`), or socket://HOST:PORT for a
raw TCP server. Regions whose contents are already on the module are skipped
(MD5 compare); --force writes them anyway. Every region written is verified
with an MD5 computed on the module.

Bare ESP-07: hold GPIO0 low (to GND), GPIO15 low, EN/CH_PD high, then reset
or power-cycle before running this command.")]
pub struct FlashArgs {
    /// Serial port (`/dev/ttyUSB0`, `COM3`), `rfc2217://HOST:PORT` or
    /// `socket://HOST:PORT`; repeat it (or `auto`) with --devices to flash a
    /// fleet on several ports at once.
    #[arg(long, short = 'p', env = "ESPMQTT_PORT")]
    pub port: Vec<String>,
    /// Baud rate for writing with the flasher stub (the ROM always uses 115200).
    #[arg(long, short = 'b', default_value_t = flasher::DEFAULT_BAUD)]
    pub baud: u32,
    /// Use the ROM loader only: slower (115200, uncompressed), for modules the stub fails on.
    #[arg(long, conflicts_with = "path")]
    pub no_stub: bool,
    /// Which loader writes: auto (the cheaper by the modelled wire and
    /// flash time: the ROM for a config blob, the stub for firmware), stub
    /// (compressed, MD5-verified), rom (115200, each block checked by the ROM).
    #[arg(long, value_enum, default_value_t = WritePath::Auto)]
    pub path: WritePath,
    /// Firmware image (.bin) to write at 0x0.
    #[arg(long, short = 'f', value_name = "FILE.bin")]
    pub firmware: Option<PathBuf>,
    /// Also write this device's config blob (from the registry) at flash_size - 0x5000.
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// Write only the config blob of --device, not the firmware.
    #[arg(long, requires = "device")]
    pub config_only: bool,
    /// Read the config blob back from the module and print it (secrets redacted).
    ///
    /// With --device NAME: also compare it with NAME's config in the registry
    /// (names of the fields that differ; exit 1 when it differs).
    #[arg(long, conflicts_with_all = ["firmware", "config_only"])]
    pub read_config: bool,
    /// Flash mode to put in the image header (esptool --flash-mode).
    #[arg(long, value_enum, default_value_t = FlashModeArg::Keep)]
    pub flash_mode: FlashModeArg,
    /// Flash size to put in the image header: keep, detect, or 1MB/4MB/….
    #[arg(long, default_value = "keep", value_name = "keep|detect|SIZE")]
    pub flash_size: String,
    /// What to do when done.
    #[arg(long, value_enum, default_value_t = After::HardReset)]
    pub after: After,
    /// Write regions even when the module already holds them; write a
    /// firmware file that lacks the ESP8266 image header.
    #[arg(long)]
    pub force: bool,
    /// Flash a module even if its MAC is already bound to another device
    /// (the other device loses the binding).
    #[arg(long)]
    pub rebind: bool,
    /// Show secrets with --read-config.
    #[arg(long)]
    pub show_secrets: bool,
    #[command(flatten)]
    pub fleet: FleetArgs,
}

/// Fleet options of `espmqtt flash` (flattened into its arguments).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FleetArgs {
    /// Devices to flash, in order: `sensor-001..sensor-100`, `a,b,c`, or
    /// repeated. Each port takes the next device not yet flashed.
    #[arg(long, value_name = "RANGE|LIST", conflicts_with_all = ["device", "read_config", "config_only"])]
    pub devices: Vec<String>,
    /// After each module, wait for the next one on the same port (production
    /// line); stop when the list is done.
    #[arg(long, requires = "devices")]
    pub wait: bool,
    /// With --wait: stop a port that shows no new module for SECS.
    #[arg(long, value_name = "SECS", requires = "wait", value_parser = seconds)]
    pub wait_timeout: Option<Duration>,
    /// With --wait: seconds between two looks at a port.
    #[arg(long, value_name = "SECS", default_value = "0.5", requires = "wait", value_parser = seconds)]
    pub poll: Duration,
    /// Attempts per device before it is left unflashed.
    #[arg(long, value_name = "N", default_value_t = 2, requires = "devices")]
    pub attempts: u32,
}

/// The flasher's options from the command line (validated).
pub fn options(args: &FlashArgs) -> Result<FlashOptions> {
    let flash_size = match args.flash_size.to_ascii_lowercase().as_str() {
        "keep" => HeaderSize::Keep,
        "detect" => HeaderSize::Detect,
        other => {
            let b = image::parse_size(other)
                .filter(|b| image::size_code(*b).is_some())
                .ok_or_else(|| {
                    Error::usage(format!("invalid --flash-size `{}`", args.flash_size))
                        .with_help("use keep, detect, 256KB, 512KB, 1MB, 2MB, 4MB, 8MB or 16MB")
                })?;
            HeaderSize::Bytes(b)
        }
    };
    let flash_mode = match args.flash_mode {
        FlashModeArg::Keep => None,
        FlashModeArg::Qio => Some(FlashMode::Qio),
        FlashModeArg::Qout => Some(FlashMode::Qout),
        FlashModeArg::Dio => Some(FlashMode::Dio),
        FlashModeArg::Dout => Some(FlashMode::Dout),
    };
    if !(9600..=3_000_000).contains(&args.baud) {
        return Err(
            Error::usage(format!("--baud {} is out of range", args.baud))
                .with_help("typical values: 115200, 230400, 460800, 921600"),
        );
    }
    Ok(FlashOptions {
        baud: if args.no_stub {
            flasher::ROM_BAUD
        } else {
            args.baud
        },
        use_stub: !args.no_stub,
        force: args.force,
        after: args.after,
        flash_mode,
        flash_size,
        path: args.path,
        ..FlashOptions::default()
    })
}

/// Read the firmware image at `path` and check that it is one: an ESP8266
/// image starts with 0xE9. An ELF file (what the linker writes next to the
/// .bin) is always refused with directions; any other file only with
/// `--force` (a raw flash dump, say). A file that cannot be read is an I/O
/// error (exit 4).
pub fn read_firmware(path: &Path, force: bool) -> Result<Vec<u8>> {
    let data = crate::files::read_input(path, crate::files::MAX_IMAGE_INPUT, "firmware image")?;
    if data.is_empty() {
        return Err(Error::usage(format!(
            "the firmware file {} is empty",
            path.display()
        )));
    }
    if data.starts_with(b"\x7fELF") {
        return Err(Error::usage(format!(
            "{} is an ELF file (the linker's output), not a flash image",
            path.display()
        ))
        .with_help(
            "flash the .bin built next to it: `espmqtt build` leaves \
             .espmqtt/build/BOARD/firmware.bin, arduino-cli writes SKETCH.ino.bin into its \
             --output-dir, PlatformIO .pio/build/ENV/firmware.bin; or convert the ELF with \
             `esptool --chip esp8266 elf2image FILE.elf`",
        ));
    }
    if data[0] != image::IMAGE_MAGIC && !force {
        return Err(Error::usage(format!(
            "{} does not start with the ESP8266 image header (first byte 0x{:02x}, expected \
             0xe9): the module would not boot it",
            path.display(),
            data[0]
        ))
        .with_help("pass --force to write it at 0x0 anyway (e.g. a full flash dump)"));
    }
    Ok(data)
}
