//! Serial console decoding for `espmqtt monitor` (docs/ARCHITECTURE.md,
//! "Data flow: monitor").
//!
//! A module's UART carries three kinds of text that people find hard to read:
//! the ROM's boot messages (printed at 74880 baud right after reset,
//! docs/DEVICE.md, "Boot modes and reset"), the Arduino core's crash dumps
//! (`Exception (N):`, the register line and the `>>>stack>>>` block), and the
//! espmqtt firmware's own status lines (`espmqtt: <event> key=value …`,
//! firmware-template STATUS_LINES.md). [`LineDecoder`] turns each console line
//! into a [`Decoded`] value: what kind of line it is, how bad it is, a one-line
//! explanation, the fix, and the typed fields (for `--format json`).
//!
//! The decoder is fed raw bytes from the wire, so it never panics and never
//! trusts them: unknown lines are plain text, malformed status lines are
//! decoded as far as they go. [`run`] is the read loop shared by the CLI and
//! the tests; it reads through a [`crate::serial::console::ConsolePort`] with timeouts and
//! reports through a callback, so the library never prints.

mod decoder;
mod line;
mod reader;
mod seen;
mod sketch;
mod status;
pub mod tables;
mod update;

pub use crate::serial::console::{ConsolePort, ReadOutcome};
pub use decoder::{looks_like_garbage, printable, LineDecoder};
pub use line::{ConsoleLine, Decoded, LineKind, Severity, ROM_BAUD, STATUS_PREFIX};
pub use reader::{run, MonitorEvent, MonitorOptions, Outcome};
pub use status::{parse_status, StatusLine};

#[cfg(test)]
mod tests;
