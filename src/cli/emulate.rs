//! `espmqtt emulate`: a virtual ESP8266 serial bootloader on a TCP port.
//!
//! Prints the bound address as the first line of stdout (with
//! `--format json`: a JSON object with `"listen"`), then serves until
//! killed. Events (connections, stub start, baud changes, faults, saves)
//! follow as JSON Lines on stdout with `--format json`, or as text on
//! stderr.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::sync::OnceLock;

use serde::Serialize;

use crate::emulator::server::Event;
use crate::emulator::{self, BootMode, Chip, EmulatorConfig, FaultSpec, TimingModel};
use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

const AFTER_HELP: &str = "\
Each TCP connection is the chip reset into download mode (ROM loader, 115200 baud);
the flash contents survive across connections. Point esptool or `espmqtt flash`
at socket://ADDRESS.

Timing model (--baud-model on): 10 bits per byte at the current baud in both
directions; 4 KiB sector erase 30 ms, 64 KiB block erase 150 ms, 256-byte page
program 0.7 ms, MD5 0.25 s/MiB, stub start 50 ms. --baud-model off: no delays.

Faults (--fault, repeatable; N counts from 1 over the emulator's lifetime; each
fires once; @OP limits counting to one opcode, e.g. @0x11 or @flash-defl-data):
  drop-reply:N[@OP]      the Nth reply is not sent (the command still runs)
  corrupt-reply:N[@OP]   the Nth reply's last payload byte (or value) is garbled
  stall:N[@OP][:MS]      stop answering before the Nth reply (for MS ms,
                         default forever)
  bad-checksum:N[@OP]    the Nth data block arrives damaged (checksum error
                         reply)
  close-after:BYTES      close the connection after BYTES received bytes
  flip-bit:N             flip one bit of the flash after the Nth block write

Examples:
  espmqtt emulate --listen 127.0.0.1:0
  espmqtt emulate --listen 127.0.0.1:5555 --flash-size 4MB --save flash.bin
  espmqtt emulate --listen 127.0.0.1:0 --baud-model off \\
      --fault drop-reply:5@flash-defl-data
  espmqtt emulate --boot-mode flash --console boot.txt
      # then: espmqtt monitor --port socket://ADDR
  esptool --port socket://127.0.0.1:5555 --before no-reset --after no-reset \\
      flash-id";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct EmulateArgs {
    /// Address to listen on (port 0 = any free port; the bound address is printed).
    #[arg(long, default_value = "127.0.0.1:0", value_name = "HOST:PORT")]
    pub listen: String,
    /// Flash size (512KB, 1MB, 2MB, 4MB, …; default from --flash-id, else 1MB).
    #[arg(long, value_name = "SIZE")]
    pub flash_size: Option<String>,
    /// JEDEC flash id as RDID returns it (hex, e.g. 1440EF = Winbond 1 MB).
    #[arg(long, value_name = "HEX")]
    pub flash_id: Option<String>,
    /// MAC address of the (first) module.
    #[arg(long, value_name = "AA:BB:CC:DD:EE:FF")]
    pub mac: Option<String>,
    /// Initial flash contents (written at offset 0, rest erased).
    #[arg(long, value_name = "FILE")]
    pub image: Option<PathBuf>,
    /// Save the flash contents here (mode 0600: it holds every password
    /// written) after FLASH_END, MD5, idle, disconnect and on SIGTERM/SIGINT.
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Model wire time at the current baud and flash erase/write time.
    #[arg(long, value_enum, default_value_t = OnOff::On)]
    pub baud_model: OnOff,
    /// Inject a fault (repeatable); grammar below.
    #[arg(long = "fault", value_name = "SPEC")]
    pub faults: Vec<String>,
    /// Chip the ROM reports (esp32 only to test that flashers refuse it).
    #[arg(long, value_enum, default_value_t = Chip::Esp8266)]
    pub chip: Chip,
    /// Never answer SYNC (a module that is not in download mode).
    #[arg(long)]
    pub no_sync: bool,
    /// Modules on the bench: after a connection that wrote flash ends, the
    /// next one meets a fresh blank module with MAC+1 (saved as FILE-2.bin, …).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub modules: u32,
    /// download = ROM loader (GPIO0 low); flash = boot the firmware in flash.
    #[arg(long, value_enum, default_value_t = BootMode::Download)]
    pub boot_mode: BootMode,
    /// Console transcript the firmware "prints" after booting from flash:
    /// the ROM banner (74880 baud) first, then FILE line by line (for
    /// `espmqtt monitor --port socket://…`).
    #[arg(long, value_name = "FILE")]
    pub console: Option<PathBuf>,
}

#[derive(Serialize)]
struct Listening {
    #[serde(rename = "type")]
    kind: &'static str,
    listen: String,
    chip: Chip,
    flash_size: u32,
    flash_id: String,
    mac: String,
    baud_model: bool,
    faults: Vec<String>,
    modules: u32,
    save: Option<String>,
}

fn config_from_args(a: &EmulateArgs) -> Result<EmulatorConfig> {
    let flash_id = match &a.flash_id {
        Some(s) => Some(
            u32::from_str_radix(
                s.trim().trim_start_matches("0x").trim_start_matches("0X"),
                16,
            )
            .ok()
            .filter(|v| *v <= 0xFF_FFFF)
            .ok_or_else(|| {
                Error::usage(format!("--flash-id `{s}` is not a 24-bit hex number"))
                    .with_help("example: --flash-id 1640EF (Winbond 4 MB)")
            })?,
        ),
        None => None,
    };
    let flash_size = match &a.flash_size {
        Some(s) => emulator::parse_flash_size(s).ok_or_else(|| {
            Error::usage(format!("--flash-size `{s}` is not a size"))
                .with_help("use 512KB, 1MB, 2MB, 4MB, 8MB or 16MB")
        })?,
        None => flash_id
            .and_then(emulator::size_from_flash_id)
            .unwrap_or(0x10_0000),
    };
    let flash_id = flash_id.unwrap_or_else(|| emulator::flash_id_for_size(flash_size));
    let mac = match &a.mac {
        Some(s) => emulator::parse_mac(s).ok_or_else(|| {
            Error::usage(format!("--mac `{s}` is not a MAC address"))
                .with_help("example: --mac 5c:cf:7f:c8:cd:8d")
        })?,
        None => emulator::DEFAULT_MAC,
    };
    let image = match &a.image {
        Some(p) => Some(crate::files::read_input(
            p,
            crate::files::MAX_IMAGE_INPUT,
            "flash image",
        )?),
        None => None,
    };
    let faults = a
        .faults
        .iter()
        .map(|s| {
            s.parse::<FaultSpec>().map_err(|m| {
                Error::usage(format!("--fault: {m}"))
                    .with_help("see `espmqtt emulate --help` for the fault grammar")
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let cfg = EmulatorConfig {
        chip: a.chip,
        flash_size,
        flash_id,
        mac,
        image,
        save: a.save.clone(),
        timing: match a.baud_model {
            OnOff::On => TimingModel::default(),
            OnOff::Off => TimingModel::off(),
        },
        faults,
        no_sync: a.no_sync,
        boot_mode: a.boot_mode,
        modules: a.modules,
        ..Default::default()
    };
    emulator::server::validate(&cfg).map_err(Error::usage)?;
    Ok(cfg)
}

/// An enum by its JSON name (`run_user_code`), never its Rust debug form.
fn label<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

fn event_text(e: &Event) -> String {
    match e {
        Event::Connected { peer, module, mac } => {
            format!("connection from {peer}: module {module} (MAC {mac}) reset into download mode")
        }
        Event::StubStarted { flavour } => format!("flasher stub running ({})", label(flavour)),
        Event::Baud { baud } => format!("baud rate now {baud}"),
        Event::Reset => "chip reset into the ROM loader".into(),
        Event::UserCode { reason } => format!("running the firmware in flash ({})", label(reason)),
        Event::Fault { spec } => format!("fault injected: {spec}"),
        Event::Saved {
            path,
            bytes,
            module,
        } => format!("module {module}: saved {bytes} bytes of flash to {path}"),
        Event::Warning { message } => format!("warning: {message}"),
        Event::Disconnected {
            peer,
            reason,
            bytes_in,
            bytes_out,
            model,
            ..
        } => format!(
            "{peer} disconnected ({reason}); {bytes_in} bytes in, {bytes_out} out; modelled: \
             wire in {:.2} s, wire out {:.2} s, flash {:.2} s, MD5 {:.2} s",
            model.wire_in_ms / 1e3,
            model.wire_out_ms / 1e3,
            model.flash_ms / 1e3,
            model.md5_ms / 1e3
        ),
    }
}

pub fn run(args: EmulateArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let mut cfg = config_from_args(&args)?;
    if let (Some(p), Some(image)) = (&args.image, &cfg.image) {
        ctx.detail(format!(
            "read the flash image {} ({} B)",
            p.display(),
            image.len()
        ));
    }
    if let Some(p) = &cfg.save {
        let first = emulator::server::save_path(p, 0, cfg.modules);
        check_save_path(&first)?;
        ctx.detail(format!(
            "--save: {} is writable; the flash is saved there (mode {:04o}) after FLASH_END, \
             MD5, idle, disconnect and SIGTERM",
            first.display(),
            crate::files::PRIVATE
        ));
    }
    if let Some(p) = &args.console {
        let transcript =
            crate::files::read_input(p, crate::files::MAX_IMAGE_INPUT, "console transcript")?;
        ctx.detail(format!(
            "read the console transcript {} ({} B)",
            p.display(),
            transcript.len()
        ));
        cfg.firmware = Arc::new(emulator::console::ConsoleReplay::new(
            transcript,
            emulator::console::ConsoleOptions::default(),
        ));
    }
    let listener = TcpListener::bind(&args.listen).map_err(|e| {
        Error::runtime(format!("cannot listen on {}: {e}", args.listen))
            .with_help("pick another port, or 127.0.0.1:0 for any free one")
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::runtime(format!("cannot read the bound address: {e}")))?;
    let hello = Listening {
        kind: "listening",
        listen: addr.to_string(),
        chip: cfg.chip,
        flash_size: cfg.flash_size,
        flash_id: format!("{:06x}", cfg.flash_id),
        mac: emulator::format_mac(cfg.mac),
        baud_model: cfg.timing.enabled,
        faults: cfg.faults.iter().map(|f| f.to_string()).collect(),
        modules: cfg.modules,
        save: cfg.save.as_ref().map(|p| p.display().to_string()),
    };
    // First stdout line: the address (scripts read it with `head -1`).
    ctx.emit_line(&hello, |_| addr.to_string());
    ctx.detail(format!(
        "listening on {addr}: {} in {} mode, flash {} KiB (ID {}), MAC {}, baud model {}, {} \
         module(s){}",
        label(&hello.chip),
        label(&args.boot_mode),
        hello.flash_size / 1024,
        hello.flash_id,
        hello.mac,
        if hello.baud_model { "on" } else { "off" },
        hello.modules,
        if hello.faults.is_empty() {
            String::new()
        } else {
            format!(", faults {}", hello.faults.join(" "))
        }
    ));
    let c = ctx.clone();
    let sink: emulator::server::EventSink = Arc::new(move |e: &Event| {
        if c.is_json() {
            c.emit_line(e, |_| String::new());
            // JSON Lines on stdout; with -v the same events in words on stderr.
            c.detail(event_text(e));
        } else {
            c.info(event_text(e));
        }
        if let Event::Saved { path, .. } = e {
            c.wrote(Path::new(path), crate::files::PRIVATE);
        }
    });
    let stop = stop_flag();
    install_stop_handler(stop);
    emulator::serve_until(listener, cfg, sink, stop)
        .map_err(|e| Error::runtime(format!("emulator stopped: {e}")))?;
    Ok(ExitStatus::Success)
}

/// Set by SIGTERM / SIGINT; the server then ends the session, saves the
/// flash and returns, so `--save` holds everything written.
fn stop_flag() -> &'static Arc<AtomicBool> {
    static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
    STOP.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

#[cfg(unix)]
fn install_stop_handler(stop: &Arc<AtomicBool>) {
    // signal-hook's flag handler only performs an atomic store.
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ = signal_hook::flag::register(sig, Arc::clone(stop));
    }
}

/// Fail at start, not after the first flash, when `--save` cannot be
/// written: create (and remove) a file next to it the way every save does.
fn check_save_path(path: &Path) -> Result<()> {
    let fail = |why: String| {
        Error::runtime(format!("--save {}: {why}", path.display()))
            .with_help("point --save at a file in a writable directory")
    };
    if path.is_dir() {
        return Err(fail("is a directory".into()));
    }
    let name = path
        .file_name()
        .ok_or_else(|| fail("names no file".into()))?
        .to_string_lossy()
        .into_owned();
    let probe = path.with_file_name(format!(".{name}.probe-{}", std::process::id()));
    crate::files::write_file_atomic(&probe, b"", 0o600).map_err(|e| {
        // Name the directory, not the trial file.
        match path.parent().filter(|d| !d.as_os_str().is_empty()) {
            Some(d) if !d.is_dir() => fail(format!("the directory {} does not exist", d.display())),
            _ => fail(
                e.message
                    .replace(&format!("{}: ", probe.display()), "")
                    .replace(&probe.display().to_string(), &path.display().to_string()),
            ),
        }
    })?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(not(unix))]
fn install_stop_handler(_stop: &Arc<AtomicBool>) {}
