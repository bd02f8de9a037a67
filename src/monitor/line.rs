//! What a decoded console line is: its kind, severity, explanation and
//! fields, as `espmqtt monitor` reports it.

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Baud rate of the ESP8266 ROM's boot messages with a 26 MHz crystal
/// (docs/DEVICE.md, "Boot modes and reset").
pub const ROM_BAUD: u32 = 74_880;

/// The firmware template's status-line prefix (STATUS_LINES.md).
pub const STATUS_PREFIX: &str = "espmqtt: ";

/// A decoder's regular expression, compiled once.
pub(super) fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    // The patterns are constants of the decoders; a typo is caught by their
    // unit tests, so failing to compile one is a programming error, not input.
    cell.get_or_init(|| Regex::new(pattern).unwrap_or_else(|e| panic!("bad regex {pattern}: {e}")))
}

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
    /// A line of the user's own sketch with a PubSubClient state
    /// (`failed, rc=-2`) or a BearSSL error (`SSL error: 62`).
    Sketch,
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
    pub(super) fn new(kind: LineKind, severity: Severity, summary: impl Into<String>) -> Self {
        Decoded {
            kind,
            severity,
            event: None,
            summary: summary.into(),
            fix: None,
            fields: Map::new(),
        }
    }
    pub(super) fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }
    pub(super) fn field(mut self, k: &str, v: impl Into<Value>) -> Self {
        self.fields.insert(k.to_string(), v.into());
        self
    }
    pub(super) fn text() -> Self {
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
