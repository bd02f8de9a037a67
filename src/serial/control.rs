//! DTR/RTS reset sequences, in one place for flashing and the monitor.
//!
//! The usual auto-reset wiring (NodeMCU, most USB adapters made for the
//! ESP8266; `docs/SERIAL.md`): DTR drives GPIO0 and RTS drives EN, both
//! active low through a transistor pair, so `true` pulls the pin to 0 V.
//! A bare ESP-07 on a plain adapter has neither: the lines change and
//! nothing happens, which no host can detect. What the host *can* detect
//! is a port that cannot drive the lines at all — a pty (TIOCMBIS fails
//! with ENOTTY), an RFC 2217 server in front of one, `socket://` — and the
//! functions here report that as [`NoLines`] so the caller says it once
//! and goes on.

use std::fmt;
use std::time::Duration;

use serialport::SerialPort;

/// The port cannot drive DTR/RTS; `reason` says why (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoLines {
    pub reason: String,
}

impl fmt::Display for NoLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

/// What a port can do with its modem lines, as far as is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lines {
    /// `socket://`: no lines by definition (the far end resets the module,
    /// the emulator on every new connection). Nothing is attempted, nothing
    /// is said.
    Absent,
    /// Not tried yet, or they worked.
    Available,
    /// A request failed: never try again on this connection.
    Failed(NoLines),
}

impl Lines {
    /// The starting state for a port of this kind.
    pub fn for_spec(spec: &super::PortSpec) -> Lines {
        if spec.is_socket() {
            Lines::Absent
        } else {
            Lines::Available
        }
    }
}

fn set(port: &mut dyn SerialPort, dtr: Option<bool>, rts: Option<bool>) -> Result<(), NoLines> {
    let fail = |line: &str, e: serialport::Error| {
        let text = e.to_string();
        // ENOTTY from TIOCMBIS: a pty, or a driver without modem lines.
        let reason = if text.contains("Not a typewriter") || text.contains("Inappropriate ioctl") {
            format!("setting {line} failed with ENOTTY: the device has no modem lines (a pty?)")
        } else {
            format!("setting {line} failed: {text}")
        };
        NoLines { reason }
    };
    if let Some(level) = dtr {
        port.write_data_terminal_ready(level)
            .map_err(|e| fail("DTR", e))?;
    }
    if let Some(level) = rts {
        port.write_request_to_send(level)
            .map_err(|e| fail("RTS", e))?;
    }
    Ok(())
}

/// Reset into the ROM serial loader (esptool's ClassicReset): GPIO0 high
/// and EN low, then GPIO0 low and EN high, wait, release GPIO0. `long`
/// waits 550 ms instead of 50 ms before the release (attempts alternate,
/// as esptool does, for modules with slow reset circuits).
pub fn enter_bootloader(port: &mut dyn SerialPort, long: bool) -> Result<(), NoLines> {
    set(port, Some(false), Some(true))?;
    std::thread::sleep(Duration::from_millis(100));
    set(port, Some(true), Some(false))?;
    std::thread::sleep(Duration::from_millis(if long { 550 } else { 50 }));
    set(port, Some(false), None)
}

/// Reset into the firmware (esptool's HardReset, plus GPIO0 released
/// first so the module boots from flash): EN pulsed low for 100 ms.
pub fn run_firmware(port: &mut dyn SerialPort) -> Result<(), NoLines> {
    set(port, Some(false), Some(true))?;
    std::thread::sleep(Duration::from_millis(100));
    set(port, None, Some(false))
}

/// A message for a port that cannot reset the module, naming what the
/// user has to do instead.
pub fn cannot_reset(port: &str, no: &NoLines) -> String {
    format!(
        "{port} cannot drive DTR/RTS ({no}), so espmqtt cannot reset the module: put it in \
         download mode by hand (GPIO0 low while EN/RST goes high) before flashing, and reset \
         it by hand (GPIO0 high) to start the firmware"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pty_cannot_drive_the_lines() {
        // Linux ptys refuse TIOCMBIS with ENOTTY; `socat` makes one without
        // any special privilege, but a unit test must not depend on it.
        // The integration tests (tests/it/serial.rs) cover the real pty.
        let no = NoLines {
            reason: "setting DTR failed: Inappropriate ioctl for device".into(),
        };
        let msg = cannot_reset("/dev/pts/3", &no);
        assert!(msg.contains("/dev/pts/3 cannot drive DTR/RTS"));
        assert!(msg.contains("GPIO0 low"));
    }

    #[test]
    fn sockets_have_no_lines() {
        let s = super::super::PortSpec::parse("socket://127.0.0.1:9").unwrap();
        assert_eq!(Lines::for_spec(&s), Lines::Absent);
        let r = super::super::PortSpec::parse("rfc2217://127.0.0.1:9").unwrap();
        assert_eq!(Lines::for_spec(&r), Lines::Available);
    }
}
