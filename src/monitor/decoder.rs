//! The console line decoder: ROM boot messages, the Arduino core's crash
//! dumps, and (through [`super::status`]) the firmware's status lines.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

use super::line::{re, Decoded, LineKind, Severity, ROM_BAUD, STATUS_PREFIX};
use super::seen::Seen;
use super::status::decode_status;
use super::tables;

/// Stateful decoder: the stack block and the register line only make sense
/// after the exception line that precedes them.
#[derive(Debug, Default)]
pub struct LineDecoder {
    in_stack: bool,
    stack_lines: u32,
    last_exception: Option<u32>,
    /// The device and broker earlier status lines named.
    seen: Seen,
}

impl LineDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Decode one line (without its line ending). Never panics.
    pub fn decode_bytes(&mut self, raw: &[u8]) -> (String, Decoded) {
        let text = printable(raw);
        if looks_like_garbage(raw) {
            return (text, garbage(raw));
        }
        let d = self.decode(&text);
        (text, d)
    }

    /// Decode one line of text.
    pub fn decode(&mut self, line: &str) -> Decoded {
        let mut d = self.decode_line(line);
        // A status value may carry any byte (`\xHH`) and reaches the summary
        // and the fix, which the terminal shows: no control sequence there.
        // The JSON fields keep the exact value (serde escapes it).
        for text in std::iter::once(&mut d.summary).chain(d.fix.as_mut()) {
            if text.chars().any(|c| c.is_control() && c != '\t') {
                *text = text
                    .chars()
                    .filter(|c| !c.is_control() || *c == '\t')
                    .collect();
            }
        }
        d
    }

    fn decode_line(&mut self, line: &str) -> Decoded {
        let line = line.trim_end_matches(['\r', '\n']);
        let t = line.trim();
        if let Some(pos) = line.find(STATUS_PREFIX) {
            let mut d = decode_status(&line[pos + STATUS_PREFIX.len()..], &mut self.seen);
            if pos > 0 {
                d.fields
                    .insert("leading_bytes".into(), Value::from(pos as u64));
            }
            return d;
        }
        if self.in_stack {
            if t.starts_with("<<<stack<<<") {
                self.in_stack = false;
                let n = self.stack_lines;
                return Decoded::new(
                    LineKind::StackEnd,
                    Severity::Error,
                    format!("end of the stack dump ({n} lines)"),
                )
                .fix(
                    "copy everything between the two CUT HERE lines into the ESP exception decoder \
                     (EspExceptionDecoder or `decoder.py --elf firmware.elf`) to get file and line numbers",
                )
                .field("stack_lines", n);
            }
            self.stack_lines += 1;
            return decode_stack_line(t);
        }
        if let Some(d) = decode_rom(t) {
            return d;
        }
        if let Some(d) = self.decode_crash(t) {
            return d;
        }
        if let Some(d) = super::sketch::decode_sketch(t) {
            return d;
        }
        Decoded::text()
    }

    fn decode_crash(&mut self, t: &str) -> Option<Decoded> {
        static EXC: OnceLock<Regex> = OnceLock::new();
        static FATAL: OnceLock<Regex> = OnceLock::new();
        static REGS: OnceLock<Regex> = OnceLock::new();
        let exc = re(&EXC, r"^Exception \((\d{1,3})\):");
        let fatal = re(&FATAL, r"^Fatal exception \(?(\d{1,3})\)?\s*\(?(\w*)\)?:?");
        let cause = exc
            .captures(t)
            .or_else(|| fatal.captures(t))
            .and_then(|c| c.get(1))
            .and_then(|m| m.as_str().parse::<u32>().ok());
        if let Some(n) = cause {
            self.last_exception = Some(n);
            let (name, why) = tables::exception_cause(n);
            return Some(
                Decoded::new(
                    LineKind::Exception,
                    Severity::Error,
                    format!("the firmware crashed: exception {n} = {name}: {why}"),
                )
                .fix(
                    "the module restarts after the dump; decode the stack (see below) with the \
                     firmware's .elf to find the line, then fix that code",
                )
                .field("cause", n)
                .field("cause_name", name),
            );
        }
        if t.starts_with("epc1=") || t.contains(" excvaddr=") {
            let regs = re(&REGS, r"(\w+)=0x([0-9a-fA-F]{1,8})");
            let mut d = Decoded::new(
                LineKind::ExceptionRegisters,
                Severity::Error,
                "crash registers: epc1 is the address of the instruction that failed, excvaddr the \
                 memory address it touched",
            );
            let mut excvaddr = None;
            for c in regs.captures_iter(t) {
                let (Some(k), Some(v)) = (c.get(1), c.get(2)) else {
                    continue;
                };
                let Ok(num) = u32::from_str_radix(v.as_str(), 16) else {
                    continue;
                };
                if k.as_str() == "excvaddr" {
                    excvaddr = Some(num);
                }
                d.fields
                    .insert(k.as_str().to_string(), Value::from(format!("0x{num:08x}")));
            }
            if let (Some(addr), Some(28 | 29)) = (excvaddr, self.last_exception) {
                if addr < 0x1000 {
                    d.summary.push_str(&format!(
                        "; excvaddr 0x{addr:08x} is near zero: a field read or written through a null pointer"
                    ));
                    d.fields.insert("null_pointer".into(), Value::Bool(true));
                }
            }
            return Some(d);
        }
        if t.starts_with(">>>stack>>>") {
            self.in_stack = true;
            self.stack_lines = 0;
            return Some(Decoded::new(
                LineKind::StackBegin,
                Severity::Error,
                "stack dump follows: return addresses that locate the crash",
            ));
        }
        if t.contains("CUT HERE FOR EXCEPTION DECODER") {
            return Some(Decoded::new(
                LineKind::Crash,
                Severity::Error,
                "crash report boundary (Arduino core postmortem)",
            ));
        }
        match_prefix(t, CRASH_PREFIX_LINES)
    }
}

/// A console line recognised by its fixed start alone.
struct PrefixLine {
    prefixes: &'static [&'static str],
    kind: LineKind,
    severity: Severity,
    summary: &'static str,
    fix: &'static str,
}

/// Crash-time lines of the core (postmortem.cpp, umm_malloc).
const CRASH_PREFIX_LINES: &[PrefixLine] = &[
    PrefixLine {
        prefixes: &["Soft WDT reset"],
        kind: LineKind::Crash,
        severity: Severity::Error,
        summary: "software watchdog reset: loop() or a callback ran for about 3 s without \
                  returning or calling yield()/delay()",
        fix: "break long loops with yield(), avoid blocking waits (while(!client.available()))",
    },
    PrefixLine {
        prefixes: &["Abort called", "User exception (panic/abort/assert)"],
        kind: LineKind::Crash,
        severity: Severity::Error,
        summary: "the firmware called abort() or failed an assert (often: out of memory in new, \
                  or an unhandled C++ exception)",
        fix: "decode the stack dump that follows with the firmware's .elf",
    },
    PrefixLine {
        prefixes: &["Panic "],
        kind: LineKind::Crash,
        severity: Severity::Error,
        summary: "the core panicked (an internal check failed)",
        fix: "decode the stack dump that follows with the firmware's .elf",
    },
    PrefixLine {
        prefixes: &["last failed alloc call:"],
        kind: LineKind::Crash,
        severity: Severity::Error,
        summary: "an allocation failed shortly before the crash: the heap ran out",
        fix: "use smaller TLS buffers (mfln = 512) or free memory before connecting",
    },
];

/// ROM lines with a fixed meaning (docs/DEVICE.md, "Boot modes and reset").
const ROM_PREFIX_LINES: &[PrefixLine] = &[
    PrefixLine {
        prefixes: &["flash read err"],
        kind: LineKind::RomOther,
        severity: Severity::Error,
        summary: "the ROM could not read the SPI flash early in boot",
        fix:
            "reflash with --flash-mode dout; check the supply (at least 250 mA) and the flash chip",
    },
    PrefixLine {
        prefixes: &["waiting for host"],
        kind: LineKind::RomOther,
        severity: Severity::Warning,
        summary: "SDIO boot mode: the ROM waits for an SDIO host and will not run the firmware",
        fix: "pull GPIO15 low (10 kΩ to GND) and reset",
    },
];

fn match_prefix(t: &str, table: &[PrefixLine]) -> Option<Decoded> {
    table
        .iter()
        .find(|p| p.prefixes.iter().any(|pre| t.starts_with(pre)))
        .map(|p| Decoded::new(p.kind, p.severity, p.summary).fix(p.fix))
}

/// Text of a line for display and matching: lossy UTF-8 without control
/// characters (tabs kept), so a stray escape sequence cannot reach the terminal.
pub fn printable(raw: &[u8]) -> String {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    String::from_utf8_lossy(raw)
        .chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .collect()
}

/// Bytes that are mostly outside printable ASCII: text read at the wrong
/// baud rate. Short lines need a higher share to count, so one stray byte
/// after a reset does not hide the next line.
pub fn looks_like_garbage(raw: &[u8]) -> bool {
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    if raw.is_empty() {
        return false;
    }
    let bad = raw
        .iter()
        .filter(|&&b| !(0x20..0x7f).contains(&b) && b != b'\t')
        .count();
    if raw.len() < 4 {
        return bad == raw.len() && raw.iter().any(|&b| b >= 0x80 || b == 0);
    }
    bad * 4 >= raw.len()
}

fn garbage(raw: &[u8]) -> Decoded {
    Decoded::new(
        LineKind::Garbage,
        Severity::Warning,
        format!(
            "{} unreadable bytes: text sent at another baud rate. Right after a reset the ROM prints \
             its boot messages at {ROM_BAUD} baud, which look like this at 115200",
            raw.len()
        ),
    )
    .fix(format!(
        "to read the boot messages run `espmqtt monitor --baud {ROM_BAUD}`; if everything is \
         unreadable, check --baud against the firmware's Serial.begin() rate"
    ))
    .field("bytes", raw.len() as u64)
    // What was actually seen, for a bug report or a guess at the rate.
    .field("hex", hex::encode(&raw[..raw.len().min(32)]))
}

// ---------------------------------------------------------------------------
// ROM boot messages (docs/DEVICE.md, "Boot modes and reset")

fn decode_rom(line: &str) -> Option<Decoded> {
    if let Some(decoded) = decode_rom_banner(line)
        .or_else(|| decode_rom_load(line))
        .or_else(|| decode_rom_checksum(line))
    {
        return Some(decoded);
    }
    if line.contains("csum err") || line.starts_with("ets_main.c") {
        return Some(
            Decoded::new(
                LineKind::RomOther,
                Severity::Error,
                "the ROM rejected the firmware image: its checksum does not match (corrupt or partly written flash)",
            )
            .fix(
                "flash the firmware again (`espmqtt flash --port PORT --firmware FILE` verifies what it writes); if it repeats, \
                 try --flash-mode dout and check the module's 3.3 V supply",
            ),
        );
    }
    if let Some(decoded) = match_prefix(line, ROM_PREFIX_LINES) {
        return Some(decoded);
    }
    if line == "~ld" {
        return Some(Decoded::new(
            LineKind::RomOther,
            Severity::Info,
            "eboot (the Arduino core's second-stage loader) is starting the application",
        ));
    }
    if line.len() == 9 && line.starts_with('v') && line[1..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Some(Decoded::new(
            LineKind::RomOther,
            Severity::Info,
            "eboot version (the Arduino core's second-stage loader)",
        ));
    }
    None
}

/// `ets Jan  8 2013,rst cause:2, boot mode:(3,6)`: why and how the chip
/// started.
fn decode_rom_banner(line: &str) -> Option<Decoded> {
    static BANNER: OnceLock<Regex> = OnceLock::new();
    // `rst cause:2` (most logs) and `rst cause 1` (esptool docs) both occur.
    let banner = re(
        &BANNER,
        r"ets ([A-Z][a-z]{2} +\d{1,2} +\d{4}),\s*rst cause[: ]\s*(\d{1,3}),\s*boot mode:\((\d{1,3}),(\d{1,3})\)",
    );
    if let Some(caps) = banner.captures(line) {
        let num = |i: usize| {
            caps.get(i)
                .and_then(|m| m.as_str().parse::<u32>().ok())
                .unwrap_or(0)
        };
        let (cause, x, y) = (num(2), num(3), num(4));
        let (cause_name, cause_why) = tables::reset_cause(cause);
        let (mode_name, mode_why) = tables::boot_mode(x);
        let download = x & 7 == 1;
        let flash = x & 7 == 3;
        let severity = if !flash || cause == 4 {
            Severity::Warning
        } else {
            Severity::Info
        };
        let mut decoded = Decoded::new(
            LineKind::RomBoot,
            severity,
            format!(
                "ROM boot: reset cause {cause} = {cause_name} ({cause_why}); boot mode ({x},{y}) = \
                 {mode_name}: {mode_why}"
            ),
        )
        .field("rom_date", caps.get(1).map(|m| m.as_str()).unwrap_or(""))
        .field("rst_cause", cause)
        .field("rst_cause_name", cause_name)
        .field("boot_mode", Value::from(vec![x, y]))
        .field("boot_mode_name", mode_name)
        .field("download_mode", download);
        if download {
            decoded.summary.push_str(
                "; this means the module is in download mode: it waits for `espmqtt flash`",
            );
            decoded = decoded.fix(
                "to run the firmware, release GPIO0 (pull-up to 3.3 V) and reset; to flash, run \
                 `espmqtt flash --port PORT` now",
            );
        } else if x & 7 >= 4 {
            decoded = decoded.fix("GPIO15 must be pulled low (10 kΩ to GND) for a flash boot");
        } else if !flash {
            decoded = decoded
                .fix("GPIO2 must be high (floating with its pull-up, or 10 kΩ to 3.3 V) at reset");
        } else if cause == 4 {
            decoded = decoded.fix(
                "the previous run hung; look for a Soft WDT or exception report before this line",
            );
        }
        return Some(decoded);
    }
    None
}

/// `load 0x4010f000, len 1384, room 16`: a segment the ROM copies to RAM.
fn decode_rom_load(line: &str) -> Option<Decoded> {
    static LOAD: OnceLock<Regex> = OnceLock::new();
    let load = re(
        &LOAD,
        r"^load[: ]\s*0x([0-9a-fA-F]{1,8}),\s*len[: ]\s*(\d{1,10})(?:,\s*room[: ]\s*(\d{1,10}))?",
    );
    if let Some(caps) = load.captures(line) {
        let addr = caps
            .get(1)
            .and_then(|m| u32::from_str_radix(m.as_str(), 16).ok())
            .unwrap_or(0);
        let len = caps
            .get(2)
            .and_then(|m| m.as_str().parse::<u64>().ok())
            .unwrap_or(0);
        let region = match addr {
            0x4010_0000..=0x4010_ffff => "IRAM",
            0x3ffe_8000..=0x3fff_ffff => "DRAM",
            _ => "memory",
        };
        let mut decoded = Decoded::new(
            LineKind::RomLoad,
            Severity::Info,
            format!("the ROM copies a {len}-byte image segment from flash into {region} at 0x{addr:08x}"),
        )
        .field("address", format!("0x{addr:08x}"))
        .field("len", len)
        .field("region", region);
        if let Some(room) = caps.get(3).and_then(|m| m.as_str().parse::<u64>().ok()) {
            decoded = decoded.field("room", room);
        }
        return Some(decoded);
    }
    None
}

/// `tail 8`, `chksum 0x..`, `csum 0x..`: the ROM's image checksums.
fn decode_rom_checksum(line: &str) -> Option<Decoded> {
    static CK: OnceLock<Regex> = OnceLock::new();
    let ck = re(&CK, r"^(tail|chksum|csum)\s+(0x[0-9a-fA-F]{1,8}|\d{1,10})$");
    if let Some(caps) = ck.captures(line) {
        let what = caps.get(1).map(|m| m.as_str()).unwrap_or("");
        let val = caps.get(2).map(|m| m.as_str()).unwrap_or("");
        // Only the final csum is worth a sentence; tail/chksum are fields.
        let summary = match what {
            "csum" => "the ROM's checksum over the whole image; matching the last chksum means flash read correctly",
            _ => "",
        };
        return Some(Decoded::new(LineKind::RomOther, Severity::Info, summary).field(what, val));
    }
    None
}

fn decode_stack_line(t: &str) -> Decoded {
    let mut d = Decoded::new(LineKind::StackFrame, Severity::Info, "");
    if let Some(ctx) = t.strip_prefix("ctx:") {
        let ctx = ctx.trim();
        let what = match ctx {
            "cont" => "the crash happened in setup()/loop() (the sketch's own code)",
            "sys" => "the crash happened in system context: a Wi-Fi/TCP callback or an SDK task",
            "bearssl" => "the crash happened on the BearSSL stack during TLS",
            _ => "crash context",
        };
        d.summary = what.to_string();
        d.fields.insert("ctx".into(), Value::from(ctx));
    }
    d
}
