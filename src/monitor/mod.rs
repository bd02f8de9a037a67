//! Serial console decoding for `espmqtt monitor` (DESIGN §4.3).
//!
//! A module's UART carries three kinds of text that people find hard to read:
//! the ROM's boot messages (printed at 74880 baud right after reset,
//! flashing.md §3.4), the Arduino core's crash dumps (`Exception (N):`, the
//! register line and the `>>>stack>>>` block), and the espmqtt firmware's own
//! status lines (`espmqtt: <event> key=value …`, firmware-template
//! STATUS_LINES.md). [`LineDecoder`] turns each console line into a
//! [`Decoded`] value: what kind of line it is, how bad it is, a one-line
//! explanation, the fix, and the typed fields (for `--format json`).
//!
//! The decoder is fed raw bytes from the wire, so it never panics and never
//! trusts them: unknown lines are plain text, malformed status lines are
//! decoded as far as they go. [`run`] is the read loop shared by the CLI and
//! the tests; it reads through a [`crate::serial::console::ConsolePort`] with timeouts and
//! reports through a callback, so the library never prints.

pub mod tables;

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use crate::serial::console::{ConsolePort, ReadOutcome};

/// Baud rate of the ESP8266 ROM's boot messages with a 26 MHz crystal
/// (flashing.md §3.4).
pub const ROM_BAUD: u32 = 74_880;

/// The firmware template's status-line prefix (STATUS_LINES.md).
pub const STATUS_PREFIX: &str = "espmqtt: ";

/// What a console line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// `ets Jan  8 2013,rst cause:N, boot mode:(X,Y)`.
    RomBoot,
    /// `load 0x40100000, len 1856, room 16`.
    RomLoad,
    /// `tail`, `chksum`, `csum`, `~ld`, eboot version, and the ROM's error lines.
    RomOther,
    /// `Exception (N):` / `Fatal exception N(Name):`.
    Exception,
    /// `epc1=0x… epc2=… excvaddr=… depc=…`.
    ExceptionRegisters,
    /// `>>>stack>>>`.
    StackBegin,
    /// A line inside the stack block (`ctx:`, `sp:`, address words).
    StackFrame,
    /// `<<<stack<<<`.
    StackEnd,
    /// Other crash/reset reports: soft WDT, abort, panic, "CUT HERE".
    Crash,
    /// `espmqtt: <event> …`.
    Status,
    /// Bytes at the wrong baud rate.
    Garbage,
    /// Anything else.
    Text,
}

/// How much a line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Ok,
    Warning,
    Error,
}

/// The decoder's verdict on one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decoded {
    pub kind: LineKind,
    pub severity: Severity,
    /// Status-line event name (`wifi_failed`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// Plain explanation; empty for lines that need none (stack words, text).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Decoded fields (typed key=value pairs, names for numbers).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub fields: Map<String, Value>,
}

impl Decoded {
    fn new(kind: LineKind, severity: Severity, summary: impl Into<String>) -> Self {
        Decoded {
            kind,
            severity,
            event: None,
            summary: summary.into(),
            fix: None,
            fields: Map::new(),
        }
    }
    fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
    fn field(mut self, k: &str, v: impl Into<Value>) -> Self {
        self.fields.insert(k.to_string(), v.into());
        self
    }
    fn text() -> Self {
        Decoded::new(LineKind::Text, Severity::Info, "")
    }
}

/// One console line as the monitor reports it (`"type":"line"` in JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsoleLine {
    /// 1-based line number since the monitor started.
    pub n: u64,
    /// The line, lossily decoded as UTF-8, control characters removed.
    pub text: String,
    #[serde(flatten)]
    pub decoded: Decoded,
}

/// Stateful decoder: the stack block and the register line only make sense
/// after the exception line that precedes them.
#[derive(Debug, Default)]
pub struct LineDecoder {
    in_stack: bool,
    stack_lines: u32,
    last_exception: Option<u32>,
}

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are constants of this file; a typo is caught by the unit
    // tests, so failing to compile one is a programming error, not input.
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("bad regex {pattern}: {e}")))
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
            let mut d = decode_status(&line[pos + STATUS_PREFIX.len()..]);
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

/// ROM lines with a fixed meaning (flashing.md §3.4).
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
// ROM boot messages (flashing.md §3.3, §3.4)

fn decode_rom(t: &str) -> Option<Decoded> {
    static BANNER: OnceLock<Regex> = OnceLock::new();
    static LOAD: OnceLock<Regex> = OnceLock::new();
    static CK: OnceLock<Regex> = OnceLock::new();
    // `rst cause:2` (most logs) and `rst cause 1` (esptool docs) both occur.
    let banner = re(
        &BANNER,
        r"ets ([A-Z][a-z]{2} +\d{1,2} +\d{4}),\s*rst cause[: ]\s*(\d{1,3}),\s*boot mode:\((\d{1,3}),(\d{1,3})\)",
    );
    if let Some(c) = banner.captures(t) {
        let num = |i: usize| {
            c.get(i)
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
        let mut d = Decoded::new(
            LineKind::RomBoot,
            severity,
            format!(
                "ROM boot: reset cause {cause} = {cause_name} ({cause_why}); boot mode ({x},{y}) = \
                 {mode_name}: {mode_why}"
            ),
        )
        .field("rom_date", c.get(1).map(|m| m.as_str()).unwrap_or(""))
        .field("rst_cause", cause)
        .field("rst_cause_name", cause_name)
        .field("boot_mode", Value::from(vec![x, y]))
        .field("boot_mode_name", mode_name)
        .field("download_mode", download);
        if download {
            d.summary.push_str(
                "; this means the module is in download mode: it waits for `espmqtt flash`",
            );
            d = d.fix(
                "to run the firmware, release GPIO0 (pull-up to 3.3 V) and reset; to flash, run \
                 `espmqtt flash --port PORT` now",
            );
        } else if x & 7 >= 4 {
            d = d.fix("GPIO15 must be pulled low (10 kΩ to GND) for a flash boot");
        } else if !flash {
            d = d.fix("GPIO2 must be high (floating with its pull-up, or 10 kΩ to 3.3 V) at reset");
        } else if cause == 4 {
            d = d.fix(
                "the previous run hung; look for a Soft WDT or exception report before this line",
            );
        }
        return Some(d);
    }
    let load = re(
        &LOAD,
        r"^load[: ]\s*0x([0-9a-fA-F]{1,8}),\s*len[: ]\s*(\d{1,10})(?:,\s*room[: ]\s*(\d{1,10}))?",
    );
    if let Some(c) = load.captures(t) {
        let addr = c
            .get(1)
            .and_then(|m| u32::from_str_radix(m.as_str(), 16).ok())
            .unwrap_or(0);
        let len = c
            .get(2)
            .and_then(|m| m.as_str().parse::<u64>().ok())
            .unwrap_or(0);
        let region = match addr {
            0x4010_0000..=0x4010_ffff => "IRAM",
            0x3ffe_8000..=0x3fff_ffff => "DRAM",
            _ => "memory",
        };
        let mut d = Decoded::new(
            LineKind::RomLoad,
            Severity::Info,
            format!("the ROM copies a {len}-byte image segment from flash into {region} at 0x{addr:08x}"),
        )
        .field("address", format!("0x{addr:08x}"))
        .field("len", len)
        .field("region", region);
        if let Some(room) = c.get(3).and_then(|m| m.as_str().parse::<u64>().ok()) {
            d = d.field("room", room);
        }
        return Some(d);
    }
    let ck = re(&CK, r"^(tail|chksum|csum)\s+(0x[0-9a-fA-F]{1,8}|\d{1,10})$");
    if let Some(c) = ck.captures(t) {
        let what = c.get(1).map(|m| m.as_str()).unwrap_or("");
        let val = c.get(2).map(|m| m.as_str()).unwrap_or("");
        // Only the final csum is worth a sentence; tail/chksum are fields.
        let summary = match what {
            "csum" => "the ROM's checksum over the whole image; matching the last chksum means flash read correctly",
            _ => "",
        };
        return Some(Decoded::new(LineKind::RomOther, Severity::Info, summary).field(what, val));
    }
    if t.contains("csum err") || t.starts_with("ets_main.c") {
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
    if let Some(d) = match_prefix(t, ROM_PREFIX_LINES) {
        return Some(d);
    }
    if t == "~ld" {
        return Some(Decoded::new(
            LineKind::RomOther,
            Severity::Info,
            "eboot (the Arduino core's second-stage loader) is starting the application",
        ));
    }
    if t.len() == 9 && t.starts_with('v') && t[1..].bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(Decoded::new(
            LineKind::RomOther,
            Severity::Info,
            "eboot version (the Arduino core's second-stage loader)",
        ));
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

// ---------------------------------------------------------------------------
// Firmware status lines (firmware-template STATUS_LINES.md)

/// A parsed `espmqtt: <event> key=value …` line (after the prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub event: String,
    /// Pairs in order; values unescaped. `quoted` tells a quoted `"12"` from a bare 12.
    pub pairs: Vec<(String, String, bool)>,
    /// The line did not follow the grammar from this point on.
    pub malformed: bool,
}

impl StatusLine {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(|v| v.parse().ok())
    }
}

/// Parse the part after `espmqtt: `. Quoted values: `\"`, `\\`, `\xHH`
/// (bytes, so UTF-8 comes out right); bare values run to the next space.
pub fn parse_status(rest: &str) -> StatusLine {
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_lowercase() || b[i] == b'_' || b[i].is_ascii_digit()) {
        i += 1;
    }
    let event = rest[..i].to_string();
    let mut out = StatusLine {
        event,
        pairs: Vec::new(),
        malformed: false,
    };
    loop {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let ks = i;
        while i < b.len() && (b[i].is_ascii_lowercase() || b[i] == b'_' || b[i].is_ascii_digit()) {
            i += 1;
        }
        if i == ks || i >= b.len() || b[i] != b'=' {
            out.malformed = true;
            break;
        }
        let key = rest[ks..i].to_string();
        i += 1;
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut val: Vec<u8> = Vec::new();
            let mut closed = false;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    b'\\' if i + 1 < b.len() => match b[i + 1] {
                        b'x' if i + 3 < b.len() => {
                            let hex = std::str::from_utf8(&b[i + 2..i + 4]).ok();
                            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                                Some(v) => val.push(v),
                                None => val.extend_from_slice(&b[i..i + 4]),
                            }
                            i += 4;
                        }
                        c => {
                            val.push(c);
                            i += 2;
                        }
                    },
                    c => {
                        val.push(c);
                        i += 1;
                    }
                }
            }
            if !closed {
                out.malformed = true;
            }
            out.pairs
                .push((key, String::from_utf8_lossy(&val).into_owned(), true));
            if !closed {
                break;
            }
        } else {
            let vs = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            out.pairs.push((key, rest[vs..i].to_string(), false));
        }
    }
    out
}

/// Keys STATUS_LINES.md defines as text: kept as strings even when a value
/// happens to be all digits (a chip id `123456` is hex, an SSID may be `1234`).
const TEXT_KEYS: &[&str] = &[
    "fw",
    "core",
    "reset",
    "chip",
    "reason",
    "detail",
    "sector",
    "device",
    "client_id",
    "host",
    "sni",
    "trust",
    "tls",
    "ssid",
    "ip",
    "bssid",
    "servers",
    "topic",
    "name",
    "action",
    "ssl_text",
];

/// A bare value as JSON: integers (no leading zeros) as numbers, `yes`/`no`
/// as booleans, text keys and everything else as strings.
fn typed(key: &str, v: &str, quoted: bool) -> Value {
    if TEXT_KEYS.contains(&key) {
        return Value::from(v);
    }
    if !quoted {
        let digits = v.strip_prefix('-').unwrap_or(v);
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && digits.len() <= 18;
        if canonical {
            if let Ok(n) = v.parse::<i64>() {
                return Value::from(n);
            }
        }
        match v {
            "yes" => return Value::Bool(true),
            "no" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::from(v)
}

/// Below this free heap a BearSSL handshake tends to fail (OOM at ~21.5 KB,
/// esp8266-tls.md §11 item 2).
const LOW_HEAP: i64 = 22_000;
/// The handshake needs a contiguous receive buffer plus the x509 context;
/// with 512-byte MFLN buffers about 6 KB is the least that works (§5).
const LOW_MAX_BLOCK: i64 = 6_000;

/// The core's text prefixes for a fatal alert (WiFiClientSecureBearSSL.cpp
/// `getLastSSLError`); when present, the number is a bare TLS alert
/// (esp8266-tls.md §6.1, alert-number quirk).
const ALERT_RECEIVED_PREFIX: &str = "SSL received fatal alert";
const ALERT_SENT_PREFIX: &str = "SSL sent fatal alert";

fn decode_status(rest: &str) -> Decoded {
    let s = parse_status(rest);
    let mut d = Decoded::new(LineKind::Status, Severity::Info, "");
    d.event = Some(s.event.clone());
    for (k, v, q) in &s.pairs {
        d.fields.insert(k.clone(), typed(k, v, *q));
    }
    if s.malformed {
        d.fields.insert("malformed".into(), Value::Bool(true));
    }
    let get = |k: &str| s.get(k).unwrap_or("?").to_string();
    match s.event.as_str() {
        "boot" => {
            let reset = get("reset");
            d.summary = format!(
                "firmware {} started (core {}, chip {}, {} bytes flash, {} bytes free heap); reset reason: {reset}",
                get("fw"),
                get("core"),
                get("chip"),
                get("flash"),
                get("heap")
            );
            let r = reset.to_ascii_lowercase();
            if r.contains("exception") || r.contains("wdt") || r.contains("watchdog") {
                d.severity = Severity::Warning;
                d.fix = Some(
                    "the previous run crashed or hung: look for the exception or watchdog report above".into(),
                );
            }
        }
        "unprovisioned" => {
            let reason = get("reason");
            d.severity = Severity::Error;
            d.summary = format!(
                "the module has no usable configuration ({reason}: {}{}); it waits and will not connect",
                tables::unprovisioned_reason(&reason),
                s.get("detail").map(|x| format!("; {x}")).unwrap_or_default()
            );
            d.fix = Some(match reason.as_str() {
                "flash_read" => tables::unprovisioned_reason("flash_read").to_string(),
                "bad_version" => "rebuild the firmware with this espmqtt version (`espmqtt build`) or flash a config it understands".into(),
                _ => format!(
                    "write the device's configuration: `espmqtt flash --port PORT --device NAME --config-only`{}",
                    s.get("sector").map(|x| format!(" (the firmware reads sector {x})")).unwrap_or_default()
                ),
            });
        }
        "config" => {
            let trust = get("trust");
            d.severity = Severity::Ok;
            d.summary = format!(
                "configuration loaded for {}: broker {}:{}, trust {trust}, TLS buffers rx {} / tx {}",
                s.get("device").filter(|x| !x.is_empty()).unwrap_or("(unnamed device)"),
                get("host"),
                get("port"),
                get("rx"),
                get("tx")
            );
            if trust == "insecure" {
                d.severity = Severity::Warning;
                d.fix = Some(
                    "trust insecure accepts any certificate: switch to pubkey or ca trust in espmqtt.toml [tls]".into(),
                );
            }
        }
        "wifi_connecting" => {
            d.summary = format!(
                "joining Wi-Fi \"{}\" (attempt {})",
                get("ssid"),
                get("attempt")
            );
        }
        "wifi_connected" => {
            d.severity = Severity::Ok;
            d.summary = format!(
                "on Wi-Fi: IP {}, signal {} dBm, channel {}",
                get("ip"),
                get("rssi"),
                get("channel")
            );
            if let Some(rssi) = s.int("rssi") {
                if rssi < -80 {
                    d.severity = Severity::Warning;
                    d.summary
                        .push_str(" (weak: below -80 dBm drops are likely)");
                    d.fix = Some(
                        "move the module or use an external antenna (ESP-07 IPEX connector)".into(),
                    );
                }
            }
        }
        "wifi_failed" | "wifi_lost" => {
            let status = s.int("status");
            let (name, why) = status
                .map(tables::wifi_status)
                .unwrap_or(("unknown", "no status given"));
            if status.is_some() {
                d.fields.insert("status_name".into(), Value::from(name));
            }
            if s.event == "wifi_failed" {
                d.severity = Severity::Error;
                d.summary = format!(
                    "Wi-Fi attempt {} failed: status {} = {name}; retrying in {} ms",
                    get("attempt"),
                    get("status"),
                    get("retry_ms")
                );
            } else {
                d.severity = Severity::Warning;
                d.summary = format!("the Wi-Fi link dropped: status {} = {name}", get("status"));
            }
            d.fix = Some(why.to_string());
        }
        "ntp_wait" => {
            d.summary = format!(
                "waiting for the time from NTP ({}, up to {} ms): ca trust checks certificate dates, so the clock must be set first",
                get("servers"),
                get("timeout_ms")
            );
        }
        "ntp_synced" => {
            d.severity = Severity::Ok;
            d.summary = format!("clock set from NTP after {} ms", get("waited_ms"));
        }
        "ntp_timeout" => {
            d.severity = Severity::Error;
            d.summary = format!(
                "no time from NTP after {} ms; the TLS connection will fail with BearSSL error 54 (certificate not valid at the device's time)",
                get("waited_ms")
            );
            d.fix = Some(
                "allow UDP port 123 to the NTP servers, or set [ntp] servers in espmqtt.toml to ones reachable from the device's network".into(),
            );
        }
        "mqtt_connecting" => {
            d.summary = format!(
                "connecting to {}:{} (trust {}{}, attempt {}); free heap {} bytes, largest block {}",
                get("host"),
                get("port"),
                get("trust"),
                s.get("fp").map(|f| format!(", fingerprint #{f}")).unwrap_or_default(),
                get("attempt"),
                get("heap"),
                get("max_block")
            );
            heap_check(&s, &mut d);
        }
        "mqtt_connected" => {
            d.severity = Severity::Ok;
            d.summary = format!(
                "MQTT connected to {}:{}{}; free heap {} bytes, largest block {}",
                get("host"),
                get("port"),
                match s.get("mfln") {
                    Some("yes") => ", the broker accepted the smaller TLS records (MFLN)",
                    Some("no") =>
                        ", the broker did not echo max_fragment_length (large records possible)",
                    _ => "",
                },
                get("heap"),
                get("max_block")
            );
            heap_check(&s, &mut d);
        }
        "mqtt_failed" | "mqtt_lost" => decode_mqtt_failure(&s, &mut d),
        "subscribed" => {
            if s.get("ok") == Some("no") {
                d.severity = Severity::Error;
                d.summary = format!("subscribing to {} failed", get("topic"));
                d.fix = Some("the broker's ACL must allow the device to read its cmd topic (`espmqtt broker export`)".into());
            } else {
                d.severity = Severity::Ok;
                d.summary = format!("listening for commands on {}", get("topic"));
            }
        }
        "cmd" => {
            d.summary = format!("command \"{}\" received: {}", get("name"), get("action"));
        }
        "publish_failed" => {
            d.severity = Severity::Warning;
            d.summary = format!(
                "publishing {} bytes to {} failed: the message is larger than PubSubClient's buffer, or the connection is down",
                get("len"),
                get("topic")
            );
            d.fix = Some(
                "shorten the payload or topic, or check the mqtt_lost line before this one".into(),
            );
        }
        other => {
            d.summary =
                format!("firmware status \"{other}\" (not an event this espmqtt version knows)");
        }
    }
    d
}

fn heap_check(s: &StatusLine, d: &mut Decoded) {
    let heap = s.int("heap");
    let block = s.int("max_block");
    if heap.is_some_and(|h| h < LOW_HEAP) && s.event == "mqtt_connecting" {
        d.severity = Severity::Warning;
        d.summary.push_str(
            " — low: BearSSL handshakes tend to run out of memory below about 22 KB free",
        );
        d.fix = Some("use smaller TLS buffers (mfln = 512 in espmqtt.toml [tls]) or free memory before connecting".into());
    } else if block.is_some_and(|b| b < LOW_MAX_BLOCK) {
        d.severity = Severity::Warning;
        d.summary
            .push_str(" — the heap is fragmented: the largest free block is small");
        d.fix = Some(
            "allocate long-lived buffers once at startup; avoid String concatenation in loop()"
                .into(),
        );
    }
}

fn decode_mqtt_failure(s: &StatusLine, d: &mut Decoded) {
    let state = s.int("state");
    let (sname, swhy) = state
        .map(tables::mqtt_state)
        .unwrap_or(("unknown", "no state given"));
    d.fields.insert("state_name".into(), Value::from(sname));
    let lost = s.event == "mqtt_lost";
    d.severity = if lost {
        Severity::Warning
    } else {
        Severity::Error
    };
    let ssl = s.int("ssl_error").unwrap_or(0);
    let text = s.get("ssl_text").unwrap_or("");
    // Alert-number quirk (esp8266-tls.md §6.1): with the alert prefix the
    // number is a TLS alert, not the BearSSL error of the same value.
    let alert_dir = if text.starts_with(ALERT_RECEIVED_PREFIX) {
        Some("received")
    } else if text.starts_with(ALERT_SENT_PREFIX) {
        Some("sent")
    } else if (256..512).contains(&ssl) {
        Some("received")
    } else if (512..768).contains(&ssl) {
        Some("sent")
    } else {
        None
    };
    let mut tls_part = String::new();
    let mut fix = swhy.to_string();
    if let Some(dir) = alert_dir {
        let alert = ssl & 0xff;
        let (aname, awhy) = tables::tls_alert(alert)
            .unwrap_or(("unknown alert", "an alert this table does not know"));
        d.fields.insert("tls_alert".into(), Value::from(alert));
        d.fields.insert("tls_alert_name".into(), Value::from(aname));
        d.fields
            .insert("tls_alert_direction".into(), Value::from(dir));
        let who = if dir == "received" {
            "the broker sent"
        } else {
            "the module sent"
        };
        tls_part = format!(
            "; TLS alert {alert} = {aname} ({who} it; the number is a TLS alert, not BearSSL error {alert}, whatever ssl_text says)"
        );
        fix = awhy.to_string();
    } else if ssl != 0 {
        match tables::bearssl_error(ssl) {
            Some((name, why)) => {
                d.fields.insert("ssl_error_name".into(), Value::from(name));
                tls_part = format!("; BearSSL error {ssl} = {name}");
                fix = why.to_string();
            }
            None => {
                tls_part = format!("; BearSSL error {ssl} (unknown code)");
            }
        }
    }
    let trying_next = s.int("retry_ms") == Some(0) && s.get("fp").is_some();
    d.summary = if lost {
        format!(
            "the MQTT session ended: state {} = {sname}{tls_part}",
            s.get("state").unwrap_or("?")
        )
    } else {
        format!(
            "MQTT connection attempt {} failed: state {} = {sname}{tls_part}{}",
            s.get("attempt").unwrap_or("?"),
            s.get("state").unwrap_or("?"),
            if trying_next {
                "; trying the next fingerprint at once".to_string()
            } else {
                s.get("retry_ms")
                    .map(|r| format!("; retrying in {r} ms"))
                    .unwrap_or_default()
            }
        )
    };
    if trying_next && ssl == 62 {
        // A mismatch on one of several configured fingerprints is expected
        // during a certificate rollover; only the last one failing matters.
        d.severity = Severity::Warning;
    }
    d.fix = Some(fix);
}

// ---------------------------------------------------------------------------
// The read loop

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
const MAX_LINE: usize = 2048;
/// Stop toggling between rates after this many switches: neither rate reads.
const MAX_BAUD_SWITCHES: u32 = 6;

/// Read the console until the pattern matches, the time runs out, the port
/// closes or `sink` returns false. Every read waits at most 200 ms, so the
/// timeout holds even on a silent port.
pub fn run(
    port: &mut dyn ConsolePort,
    opts: &MonitorOptions,
    sink: &mut dyn FnMut(&MonitorEvent) -> bool,
) -> std::io::Result<Outcome> {
    let start = Instant::now();
    let deadline = opts.timeout.map(|t| start + t);
    let mut decoder = LineDecoder::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut last_data = Instant::now();
    let mut n: u64 = 0;
    let mut current_baud = opts.initial_baud.unwrap_or(opts.baud);
    let mut switches = 0u32;
    let mut buf = [0u8; 1024];
    let flush_after = if opts.flush_after.is_zero() {
        Duration::from_millis(500)
    } else {
        opts.flush_after
    };

    // Returns Some(outcome) when the loop must stop.
    let mut handle_line = |raw: &[u8],
                           n: &mut u64,
                           port: &mut dyn ConsolePort,
                           current_baud: &mut u32,
                           switches: &mut u32,
                           sink: &mut dyn FnMut(&MonitorEvent) -> bool|
     -> std::io::Result<Option<Outcome>> {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() {
            return Ok(None);
        }
        *n += 1;
        let (text, decoded) = decoder.decode_bytes(raw);
        let is_garbage = decoded.kind == LineKind::Garbage;
        // eboot's `~ld` is the last thing printed at the ROM's rate; the
        // sketch's Serial.begin() follows at once (flashing.md §3.4).
        let handover = text == "~ld";
        let line = ConsoleLine {
            n: *n,
            text,
            decoded,
        };
        let matched = !is_garbage && opts.until.as_ref().is_some_and(|r| r.is_match(&line.text));
        if !sink(&MonitorEvent::Line(line)) {
            return Ok(Some(Outcome::Stopped));
        }
        if matched {
            return Ok(Some(Outcome::Matched));
        }
        if is_garbage && opts.auto_baud && port.can_set_baud() && *switches < MAX_BAUD_SWITCHES {
            let next = if *current_baud == ROM_BAUD {
                opts.baud
            } else {
                ROM_BAUD
            };
            if next != *current_baud {
                port.set_baud(next)?;
                let reason = format!(
                    "unreadable bytes at {} baud; trying {next} ({})",
                    *current_baud,
                    if next == ROM_BAUD {
                        "the ROM's boot-message rate"
                    } else {
                        "the firmware's rate"
                    }
                );
                *current_baud = next;
                *switches += 1;
                if !sink(&MonitorEvent::Baud { baud: next, reason }) {
                    return Ok(Some(Outcome::Stopped));
                }
            }
        } else if handover
            && opts.auto_baud
            && port.can_set_baud()
            && *current_baud == ROM_BAUD
            && opts.baud != ROM_BAUD
        {
            port.set_baud(opts.baud)?;
            *current_baud = opts.baud;
            let reason = format!(
                "eboot handed over to the firmware; switching to its rate {}",
                opts.baud
            );
            if !sink(&MonitorEvent::Baud {
                baud: opts.baud,
                reason,
            }) {
                return Ok(Some(Outcome::Stopped));
            }
        }
        Ok(None)
    };

    // Hand one console line to `handle_line`; a decided outcome ends the run.
    macro_rules! emit {
        ($line:expr) => {
            if let Some(o) = handle_line(
                $line,
                &mut n,
                &mut *port,
                &mut current_baud,
                &mut switches,
                &mut *sink,
            )? {
                return Ok(o);
            }
        };
    }

    loop {
        let wait = match deadline {
            Some(d) => {
                let now = Instant::now();
                if now >= d {
                    return Ok(Outcome::TimedOut);
                }
                (d - now).min(Duration::from_millis(200))
            }
            None => Duration::from_millis(200),
        };
        match port.read_some(&mut buf, wait)? {
            ReadOutcome::Data(k) => {
                last_data = Instant::now();
                pending.extend_from_slice(&buf[..k.min(buf.len())]);
                while let Some(pos) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=pos).collect();
                    let body = &line[..line.len() - 1];
                    emit!(body);
                }
                if pending.len() >= MAX_LINE {
                    let chunk: Vec<u8> = std::mem::take(&mut pending);
                    emit!(&chunk);
                }
            }
            ReadOutcome::Idle => {
                if !pending.is_empty() && last_data.elapsed() >= flush_after {
                    let chunk: Vec<u8> = std::mem::take(&mut pending);
                    emit!(&chunk);
                }
            }
            ReadOutcome::Eof => {
                if !pending.is_empty() {
                    let chunk: Vec<u8> = std::mem::take(&mut pending);
                    emit!(&chunk);
                }
                return Ok(Outcome::Ended);
            }
        }
    }
}

#[cfg(test)]
mod tests;
