//! Console replay for `espmqtt emulate --boot-mode flash --console FILE`:
//! what a module that boots from flash prints on its UART.
//!
//! A real ESP8266 first prints the ROM's boot banner at 74880 baud
//! (docs/DEVICE.md, "Boot modes and reset": `ets Jan  8 2013,rst cause:N, boot
//! mode:(3,6)`, the `load …`/`chksum` lines, eboot's `~ld`), then the firmware
//! talks at its own rate (115200 for the template). [`serve_console`] sends the
//! same on a plain stream: one banner chunk, then the transcript line by line.
//! Inside the emulator, [`ConsoleReplay`] supplies only the transcript: the
//! emulator writes the ROM log itself from the flash image (`boot.rs`) at 74880
//! and then switches its wire model to 115200. A TCP connection has no baud
//! rate, so both arrive readable.
//!
//! This is the piece `espmqtt monitor` is tested against end to end over
//! `socket://` (`tests/it/monitor.rs`).

use std::io::{self, Read, Write};
use std::time::Duration;

/// How the replay behaves.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// `rst cause:N` in the banner (1 = power-on, 2 = reset pin;
    /// docs/DEVICE.md, "Boot modes and reset").
    pub rst_cause: u8,
    /// `boot mode:(X,Y)`; (3,6) = boot from flash.
    pub boot_mode: (u8, u8),
    /// Pause between transcript lines (0 = send them back to back).
    pub line_delay: Duration,
    /// Send the ROM banner first.
    pub banner: bool,
    /// After the transcript, keep the connection open until the peer closes
    /// it (a quiet module); otherwise close it at once.
    pub hold_open: bool,
}

impl Default for ConsoleOptions {
    fn default() -> Self {
        ConsoleOptions {
            rst_cause: 1,
            boot_mode: (3, 6),
            line_delay: Duration::from_millis(5),
            banner: true,
            hold_open: true,
        }
    }
}

/// UART rate of the ROM banner.
pub const BANNER_BAUD: u32 = 74_880;
/// UART rate of the firmware template's console.
pub const FIRMWARE_BAUD: u32 = 115_200;

/// One piece of console output: bytes, the UART rate they were sent at, and
/// the pause before them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayChunk {
    pub delay: Duration,
    pub baud: u32,
    pub bytes: Vec<u8>,
}

/// The ROM boot banner of an Arduino image booting from flash (the segment
/// figures are those of the core's eboot, esp8266/Arduino#4664).
pub fn boot_banner(opts: &ConsoleOptions) -> Vec<u8> {
    format!(
        "\r\n ets Jan  8 2013,rst cause:{}, boot mode:({},{})\r\n\r\n\
         load 0x4010f000, len 3424, room 16\r\n\
         tail 0\r\n\
         chksum 0x2e\r\n\
         load 0x3fff20b8, len 40, room 0\r\n\
         tail 8\r\n\
         chksum 0x2b\r\n\
         csum 0x2b\r\n\
         v00000000\r\n\
         ~ld\r\n",
        opts.rst_cause, opts.boot_mode.0, opts.boot_mode.1
    )
    .into_bytes()
}

/// The whole replay as chunks: the banner (74880 baud), then each transcript
/// line with `\r\n` endings (the firmware uses `Serial.println`).
pub fn console_chunks(transcript: &[u8], opts: &ConsoleOptions) -> Vec<ReplayChunk> {
    let mut out = Vec::new();
    if opts.banner {
        out.push(ReplayChunk {
            delay: Duration::ZERO,
            baud: BANNER_BAUD,
            bytes: boot_banner(opts),
        });
    }
    let mut first = true;
    for line in transcript.split_inclusive(|&b| b == b'\n') {
        let body = line.strip_suffix(b"\n").unwrap_or(line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        let mut bytes = body.to_vec();
        bytes.extend_from_slice(b"\r\n");
        out.push(ReplayChunk {
            // The firmware starts ~50 ms after eboot hands over.
            delay: if first {
                opts.line_delay.max(Duration::from_millis(50))
            } else {
                opts.line_delay
            },
            baud: FIRMWARE_BAUD,
            bytes,
        });
        first = false;
    }
    out
}

/// Serve one connection: banner, transcript, then keep the line open (as a
/// quiet module would) until the peer closes it. Input from the peer is
/// read and dropped. Returns when the peer closes or a write fails.
pub fn serve_console<S: Read + Write>(
    stream: &mut S,
    transcript: &[u8],
    opts: &ConsoleOptions,
) -> io::Result<()> {
    for chunk in console_chunks(transcript, opts) {
        if !chunk.delay.is_zero() {
            std::thread::sleep(chunk.delay);
        }
        stream.write_all(&chunk.bytes)?;
        stream.flush()?;
    }
    if !opts.hold_open {
        return Ok(());
    }
    let mut sink = [0u8; 256];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                return Ok(())
            }
            Err(e) => return Err(e),
        }
    }
}

/// The replay as the emulator's [`super::Firmware`]: what the chip prints
/// once it leaves the bootloader.
#[derive(Debug, Clone)]
pub struct ConsoleReplay {
    transcript: Vec<u8>,
    opts: ConsoleOptions,
}

impl ConsoleReplay {
    pub fn new(transcript: Vec<u8>, opts: ConsoleOptions) -> Self {
        ConsoleReplay { transcript, opts }
    }
}

impl super::Firmware for ConsoleReplay {
    fn boot(&self, _flash: &[u8], _reason: super::BootReason) -> Vec<super::ConsoleChunk> {
        // The emulator prints the ROM's boot log itself, computed from the
        // flash image (`emulator::boot`), before it asks the firmware; a
        // jump from the loader (FLASH_END "run user code") has none.
        let opts = ConsoleOptions {
            banner: false,
            ..self.opts.clone()
        };
        let mut at = Duration::ZERO;
        console_chunks(&self.transcript, &opts)
            .into_iter()
            .map(|c| {
                at += c.delay;
                super::ConsoleChunk { at, bytes: c.bytes }
            })
            .collect()
    }
    fn baud(&self) -> u32 {
        FIRMWARE_BAUD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banner_then_lines_with_crlf() {
        let chunks = console_chunks(b"one\ntwo\r\nthree", &ConsoleOptions::default());
        assert_eq!(chunks.len(), 4);
        assert_eq!(chunks[0].baud, BANNER_BAUD);
        assert!(String::from_utf8_lossy(&chunks[0].bytes).contains("rst cause:1, boot mode:(3,6)"));
        assert_eq!(chunks[1].bytes, b"one\r\n");
        assert_eq!(chunks[2].bytes, b"two\r\n");
        assert_eq!(chunks[3].bytes, b"three\r\n");
        assert!(chunks[1..].iter().all(|c| c.baud == FIRMWARE_BAUD));
    }

    #[test]
    fn serve_console_writes_everything_then_waits_for_close() {
        struct Pipe {
            out: Vec<u8>,
        }
        impl Read for Pipe {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Ok(0)
            }
        }
        impl Write for Pipe {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                self.out.extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut p = Pipe { out: Vec::new() };
        let opts = ConsoleOptions {
            line_delay: Duration::ZERO,
            ..Default::default()
        };
        serve_console(&mut p, b"espmqtt: boot fw=1\n", &opts).unwrap();
        let s = String::from_utf8_lossy(&p.out);
        assert!(s.contains("~ld\r\n"));
        assert!(s.ends_with("espmqtt: boot fw=1\r\n"));
    }
}
