//! The monitor's read loop: bytes from the port → lines → decoded lines and
//! baud switches for the caller's callback.

use std::time::{Duration, Instant};

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{ConsoleLine, ConsolePort, LineDecoder, LineKind, ReadOutcome, ROM_BAUD};

/// What `run` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct MonitorOptions {
    /// Stop with [`Outcome::Matched`] at the first line matching this.
    pub until: Option<Regex>,
    /// Stop with [`Outcome::TimedOut`] after this long.
    pub timeout: Option<Duration>,
    /// Baud of the firmware's console.
    pub baud: u32,
    /// Rate the port was opened at when it differs from `baud` (74880 to
    /// catch the ROM banner after `--reset`).
    pub initial_baud: Option<u32>,
    /// Switch between `baud` and 74880 when unreadable bytes arrive (serial only).
    pub auto_baud: bool,
    /// Emit a partial line after this much silence (prompts, garbage without newline).
    pub flush_after: Duration,
}

/// Why `run` returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Matched,
    TimedOut,
    /// The other end closed (socket) or the port went away.
    Ended,
    /// The callback asked to stop.
    Stopped,
}

/// Something the loop reports.
#[derive(Debug, Clone)]
pub enum MonitorEvent {
    Line(ConsoleLine),
    /// The port's baud rate was changed; `reason` says what was seen.
    Baud {
        baud: u32,
        reason: String,
    },
}

/// Longest line kept; a longer run without newline is emitted in pieces.
pub(super) const MAX_LINE: usize = 2048;
/// Stop toggling between rates after this many switches: neither rate reads.
const MAX_BAUD_SWITCHES: u32 = 6;
/// Longest single wait for bytes, so the timeout holds on a silent port.
const READ_SLICE: Duration = Duration::from_millis(200);

/// Read the console until the pattern matches, the time runs out, the port
/// closes or `sink` returns false. Every read waits at most 200 ms, so the
/// timeout holds even on a silent port.
pub fn run(
    port: &mut dyn ConsolePort,
    opts: &MonitorOptions,
    sink: &mut dyn FnMut(&MonitorEvent) -> bool,
) -> std::io::Result<Outcome> {
    let deadline = opts.timeout.map(|t| Instant::now() + t);
    let flush_after = if opts.flush_after.is_zero() {
        Duration::from_millis(500)
    } else {
        opts.flush_after
    };
    let mut reader = Reader {
        opts,
        port,
        sink,
        decoder: LineDecoder::new(),
        lines: 0,
        baud: opts.initial_baud.unwrap_or(opts.baud),
        switches: 0,
    };
    let mut pending: Vec<u8> = Vec::new();
    let mut last_data = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        let wait = match deadline {
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return Ok(Outcome::TimedOut);
                }
                (deadline - now).min(READ_SLICE)
            }
            None => READ_SLICE,
        };
        let stop = match reader.port.read_some(&mut buf, wait)? {
            ReadOutcome::Data(count) => {
                last_data = Instant::now();
                pending.extend_from_slice(&buf[..count.min(buf.len())]);
                reader.complete_lines(&mut pending)?
            }
            ReadOutcome::Idle if !pending.is_empty() && last_data.elapsed() >= flush_after => {
                reader.line(&std::mem::take(&mut pending))?
            }
            ReadOutcome::Idle => None,
            ReadOutcome::Eof => {
                let chunk = std::mem::take(&mut pending);
                Some(reader.line(&chunk)?.unwrap_or(Outcome::Ended))
            }
        };
        if let Some(outcome) = stop {
            return Ok(outcome);
        }
    }
}

/// The loop's state between reads.
struct Reader<'a> {
    opts: &'a MonitorOptions,
    port: &'a mut dyn ConsolePort,
    sink: &'a mut dyn FnMut(&MonitorEvent) -> bool,
    decoder: LineDecoder,
    /// Lines reported so far (the next line's number is `lines + 1`).
    lines: u64,
    /// The rate the port is at now.
    baud: u32,
    /// Automatic baud switches so far.
    switches: u32,
}

/// `Some` ends the loop with that outcome.
type Step = std::io::Result<Option<Outcome>>;

impl Reader<'_> {
    /// Report every complete line in `pending` (and an over-long run without
    /// a newline), leaving the unfinished rest there.
    fn complete_lines(&mut self, pending: &mut Vec<u8>) -> Step {
        while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = pending.drain(..=pos).collect();
            if let Some(outcome) = self.line(&line[..line.len() - 1])? {
                return Ok(Some(outcome));
            }
        }
        if pending.len() >= MAX_LINE {
            return self.line(&std::mem::take(pending));
        }
        Ok(None)
    }

    /// Decode and report one console line, then follow the baud rate it
    /// suggests.
    fn line(&mut self, raw: &[u8]) -> Step {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            return Ok(None);
        }
        self.lines += 1;
        let (text, decoded) = self.decoder.decode_bytes(raw);
        let is_garbage = decoded.kind == LineKind::Garbage;
        // eboot's `~ld` is the last thing printed at the ROM's rate; the
        // sketch's Serial.begin() follows at once (`docs/DEVICE.md`, "Boot
        // modes and reset").
        let handover = text == "~ld";
        let line = ConsoleLine {
            n: self.lines,
            text,
            decoded,
        };
        let matched = !is_garbage
            && self
                .opts
                .until
                .as_ref()
                .is_some_and(|r| r.is_match(&line.text));
        if !(self.sink)(&MonitorEvent::Line(line)) {
            return Ok(Some(Outcome::Stopped));
        }
        if matched {
            return Ok(Some(Outcome::Matched));
        }
        if !self.opts.auto_baud || !self.port.can_set_baud() {
            return Ok(None);
        }
        if is_garbage {
            self.toggle_baud()
        } else if handover {
            self.follow_handover()
        } else {
            Ok(None)
        }
    }

    /// Unreadable bytes: try the other of the two rates (firmware ↔ ROM).
    fn toggle_baud(&mut self) -> Step {
        if self.switches >= MAX_BAUD_SWITCHES {
            return Ok(None);
        }
        let next = if self.baud == ROM_BAUD {
            self.opts.baud
        } else {
            ROM_BAUD
        };
        if next == self.baud {
            return Ok(None);
        }
        let reason = format!(
            "unreadable bytes at {} baud; trying {next} ({})",
            self.baud,
            if next == ROM_BAUD {
                "the ROM's boot-message rate"
            } else {
                "the firmware's rate"
            }
        );
        self.switches += 1;
        self.set_baud(next, reason)
    }

    /// eboot's last line at the ROM's rate: the firmware's rate follows.
    fn follow_handover(&mut self) -> Step {
        if self.baud != ROM_BAUD || self.opts.baud == ROM_BAUD {
            return Ok(None);
        }
        let reason = format!(
            "eboot handed over to the firmware; switching to its rate {}",
            self.opts.baud
        );
        self.set_baud(self.opts.baud, reason)
    }

    fn set_baud(&mut self, baud: u32, reason: String) -> Step {
        self.port.set_baud(baud)?;
        self.baud = baud;
        if !(self.sink)(&MonitorEvent::Baud { baud, reason }) {
            return Ok(Some(Outcome::Stopped));
        }
        Ok(None)
    }
}
