//! Errors of the flasher, each with its exit code and a help line.
//!
//! Exit codes follow the README's table (docs/ARCHITECTURE.md, "Output and
//! exit codes"), with one rule for the flasher: anything that means
//! "we lost the module" (no SYNC, timeouts, closed connection) is 3, anything
//! the module or the verification reported against us is 1 — so a failed
//! flash is never exit 0, and a caller (fleet flashing) can tell a wiring
//! problem from a bad write.

use crate::error::Error;

use crate::serial::transport::OpenError;

/// The wiring a bare ESP-07 needs to enter the ROM loader (docs/DEVICE.md,
/// "Module hardware", "Boot modes and reset").
pub const ESP07_WIRING_HELP: &str = "\
the module is not in download mode or not wired for it. A bare ESP-07/07S has no \
auto-reset circuit: connect GPIO0 to GND, GPIO15 to GND (through 10k), EN/CH_PD and \
RST high (10k to 3.3V), adapter TX→RX and RX→TX, common GND, a 3.3V supply of at \
least 250 mA; then pulse RST low (or power-cycle) with GPIO0 held low and run the \
command again. To check, open the port at 74880 baud and reset: the ROM prints \
`ets Jan  8 2013,rst cause:2, boot mode:(1,6)` (or (1,7)) in download mode; \
`boot mode:(3,x)` means GPIO0 was high (normal boot) and `(7,x)`/`waiting for host` \
means GPIO15 is not pulled low.";

/// What a port that never answered SYNC sent instead, for the error's help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    /// Silence: no module, no power, or RX not connected.
    Nothing,
    /// Our SYNC requests came back unchanged: TX and RX are joined, or the
    /// peer is an echo server.
    Echo,
    /// The ROM's boot banner with `boot mode:(3,x)`/`(7,x)`: the module
    /// reset, but not into download mode.
    BootMode(String),
    /// This many bytes that are not loader replies (firmware output, a
    /// wrong baud, another device).
    Noise(usize),
}

impl Heard {
    pub(super) fn of(echoed: bool, total: usize, first: &[u8]) -> Heard {
        if echoed {
            return Heard::Echo;
        }
        if total == 0 {
            return Heard::Nothing;
        }
        let text = String::from_utf8_lossy(first);
        if let Some(i) = text.find("boot mode:(") {
            let rest = &text[i + "boot mode:".len()..];
            if let Some(end) = rest.find(')') {
                let mode = &rest[..=end];
                if !mode.starts_with("(1,") {
                    return Heard::BootMode(mode.to_string());
                }
            }
        }
        Heard::Noise(total)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FlashError {
    #[error(transparent)]
    Open(#[from] OpenError),
    #[error("no answer from the ESP8266 ROM bootloader on {port} ({attempts} connection attempts, {syncs} SYNCs){}{note}", heard_note(heard))]
    NoSync {
        port: String,
        attempts: u32,
        syncs: u32,
        /// What came back instead of a SYNC reply.
        heard: Heard,
        /// `; it cannot reset the module (…)` or empty.
        note: String,
    },
    #[error("no reply to {op} from the module within {ms} ms")]
    Timeout { op: String, ms: u128 },
    #[error("lost the connection to the module: {reason}")]
    Io {
        reason: String,
        /// The port is a network one (socket://, rfc2217://): the server
        /// may have closed it, not the module.
        network: bool,
    },
    #[error("the module rejected {op}: {meaning} (error code 0x{code:02x})")]
    Device {
        op: String,
        code: u8,
        meaning: &'static str,
    },
    #[error("the chip on this port is an {chip} (magic 0x{magic:08x}), not an ESP8266; espmqtt only flashes ESP8266 modules")]
    WrongChip { chip: String, magic: u32 },
    #[error("unrecognised chip (magic register 0x{magic:08x}); expected an ESP8266 (0xfff0c101)")]
    UnknownChip { magic: u32 },
    #[error("the flasher stub did not start: {reason}")]
    Stub { reason: String },
    #[error("reading the SPI flash ID timed out")]
    SpiTimeout,
    #[error("unexpected reply to {op}: {reason}")]
    BadReply { op: String, reason: String },
    #[error("verification failed for {label} at 0x{offset:06x} ({len} bytes): flash MD5 {actual}, expected {expected}")]
    Verify {
        label: String,
        offset: u32,
        len: usize,
        expected: String,
        actual: String,
    },
    #[error("{0}")]
    Plan(String),
    /// A region runs past the end of the module's flash.
    #[error("{message}")]
    DoesNotFit { message: String, help: String },
}

/// `; …` after the NoSync message: what the port sent instead.
fn heard_note(heard: &Heard) -> String {
    match heard {
        Heard::Nothing => String::new(),
        Heard::Echo => "; every request came straight back (an echo, not a module)".into(),
        Heard::BootMode(mode) => {
            format!("; the module printed its ROM banner with boot mode:{mode}, not download mode")
        }
        Heard::Noise(n) => format!("; {n} bytes came back that are not loader replies"),
    }
}

fn no_sync_help(heard: &Heard) -> String {
    match heard {
        Heard::Nothing => ESP07_WIRING_HELP.to_string(),
        Heard::Echo => "what is sent comes back unchanged: the adapter's TX and RX are joined \
             (a loopback jumper, or both wired to the same pin) or the port is not a module \
             (a TCP echo server). Wire adapter TX→module RX and adapter RX→module TX, common GND"
            .to_string(),
        Heard::BootMode(mode) if mode.starts_with("(3,") => format!(
            "boot mode {mode} means GPIO0 was high at reset: the module booted its firmware. Hold \
             GPIO0 at GND (with GPIO15 at GND, EN/CH_PD high), pulse RST low or power-cycle, and \
             run the command again"
        ),
        Heard::BootMode(mode) => format!(
            "boot mode {mode}: GPIO15 or GPIO2 is not at its level (GPIO15 to GND through 10k, \
             GPIO2 high); then hold GPIO0 at GND, pulse RST low or power-cycle, and run the command \
             again"
        ),
        Heard::Noise(_) => format!(
            "something is talking on this port, but not the ROM loader: the module probably runs \
             its firmware (GPIO0 was high at reset; `espmqtt monitor --port PORT` shows what it \
             prints), or the port belongs to another device. {ESP07_WIRING_HELP}"
        ),
    }
}

pub type FlashResult<T> = std::result::Result<T, FlashError>;

impl From<FlashError> for Error {
    fn from(e: FlashError) -> Error {
        let msg = e.to_string();
        match e {
            FlashError::Open(open) => open.into(),
            FlashError::NoSync { heard, .. } => {
                Error::unreachable(msg).with_help(no_sync_help(&heard))
            }
            FlashError::Io { network: true, .. } => Error::unreachable(msg).with_help(
                "the serial server closed the connection: another client may have taken the port \
                 (ser2net serves one at a time; a second `espmqtt flash` on the same port), the \
                 server was restarted, or the module lost power. Make sure nothing else uses the \
                 port and run the command again; regions already written are skipped",
            ),
            FlashError::Timeout { .. } | FlashError::Io { .. } | FlashError::SpiTimeout => {
                Error::unreachable(msg).with_help(
                    "the module stopped answering: check the supply (flash writes draw peaks \
                     above 300 mA), keep the cable short, try a lower --baud (e.g. 115200) and \
                     run the command again; regions already written are skipped",
                )
            }
            FlashError::Stub { .. } => Error::unreachable(msg)
                .with_help("retry; if it persists, try --no-stub (slower ROM path at 115200 baud)"),
            FlashError::Device { .. } | FlashError::BadReply { .. } => Error::check_failed(msg)
                .with_help("run the command again; if it repeats, try --no-stub or a lower --baud"),
            FlashError::WrongChip { .. } | FlashError::UnknownChip { .. } => {
                Error::check_failed(msg).with_help(
                    "use esptool or espflash for ESP32-family chips; for an ESP8266 check that \
                     the right port is selected (`espmqtt ports`)",
                )
            }
            FlashError::Verify { .. } => Error::check_failed(msg).with_help(
                "the flash does not hold what was written: run the command again (with --force); \
                 if it repeats, the flash chip or the supply is faulty",
            ),
            FlashError::Plan(_) => Error::usage(msg),
            FlashError::DoesNotFit { help, .. } => Error::usage(msg).with_help(help),
        }
    }
}

/// Meaning of an error code from the ROM or the stub (docs/DEVICE.md, "Error
/// codes").
pub fn error_meaning(code: u8) -> &'static str {
    match code {
        0x01 => "invalid input parameter",
        0x02 => "out of memory",
        0x03 => "send failed",
        0x04 => "receive failed",
        0x05 => "invalid message format (command not supported)",
        0x06 => "result wrong",
        0x07 => "checksum error",
        0x08 => "flash write error",
        0x09 => "flash read error",
        0x0A => "flash read length error",
        0x0B..=0x0D => "deflate error",
        0x63 => "flash read failed while computing MD5",
        0xC0 => "bad data length",
        0xC1 => "bad data checksum",
        0xC2 => "bad block size",
        0xC3 => "invalid command",
        0xC4 => "SPI operation failed",
        0xC5 => "SPI unlock failed",
        0xC6 => "not in flash mode",
        0xC7 => "inflate error",
        0xC8 => "not enough data",
        0xC9 => "too much data",
        0xFF => "command not implemented",
        _ => "unknown error",
    }
}
