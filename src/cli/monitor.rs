//! `espmqtt monitor`: the serial console, with a plain explanation under
//! every line the decoders recognise (ROM boot messages, crash dumps, the
//! firmware's status lines). The decoding lives in `crate::monitor`; this
//! file wires flags to it and renders lines as text or JSON Lines.

use std::time::{Duration, Instant};

use regex::Regex;
use serde::Serialize;

use crate::error::{Error, ExitStatus, Result};
use crate::monitor::{
    self, ConsoleLine, ConsolePort, MonitorEvent, MonitorOptions, Outcome, ReadOutcome, Severity,
};
use crate::serial::console;
use crate::serial::ports;
use crate::serial::PortSpec;

use super::duration::seconds;
use super::output::Style;
use super::Ctx;

const AFTER_HELP: &str = "\
Under each line it recognises, the monitor prints what it means and what to do:
ROM boot messages (reset cause, boot mode: \"the module is in download mode\"),
crash dumps (Exception (N), registers, stack), and the firmware's status lines
(Wi-Fi status codes, BearSSL errors and TLS alerts, MQTT states, NTP, heap).
A sketch of your own gets its `failed, rc=-2` (PubSubClient's examples) and
`SSL error: 62` (getLastSSLError()) lines explained too.

Without --port the only USB serial port is used, as `espmqtt flash` does. On a
serial port (local or rfc2217://), unreadable bytes (the ROM prints at 74880
baud) make the monitor switch between --baud and 74880; over socket:// it says
what it saw. A module that prints nothing for a few seconds gets a hint: one
held in download mode (GPIO0 low) stays silent.

With -q (text) only the line --until matched and the lines decoded as errors
or warnings are printed, each with its explanation.

Exit codes: 0 a line matched --until (or the console closed without --until),
1 --timeout ran out or the console closed before --until matched,
3 the port is missing or cannot be opened.

Examples:
  espmqtt monitor --port /dev/ttyUSB0
  espmqtt monitor --port /dev/ttyUSB0 --reset --baud 74880
  espmqtt monitor --port rfc2217://bench-pi:4001 --reset
  espmqtt monitor --port socket://127.0.0.1:5555 \\
      --until 'espmqtt: mqtt_connected' --timeout 60
  espmqtt monitor --port /dev/ttyUSB0 --format json |
      jq 'select(.severity == \"error\")'";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct MonitorArgs {
    /// Serial device, rfc2217://HOST:PORT (ser2net) or socket://HOST:PORT
    /// (the emulator). Default: the only USB serial port.
    #[arg(
        long,
        env = "ESPMQTT_PORT",
        value_name = "PATH|rfc2217://HOST:PORT|socket://HOST:PORT"
    )]
    pub port: Option<String>,
    /// Baud rate of the firmware's console (Serial.begin in the sketch).
    #[arg(long, default_value_t = 115_200, value_name = "RATE")]
    pub baud: u32,
    /// Print the console only, without explanations (text output).
    #[arg(long)]
    pub raw: bool,
    /// Exit 0 as soon as a console line matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub until: Option<String>,
    /// Exit 1 when this many seconds pass (without --until: stop after that long).
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub timeout: Option<Duration>,
    /// Reset the module into its firmware first (RTS/DTR auto-reset wiring).
    #[arg(long)]
    pub reset: bool,
    /// Never change the baud rate on unreadable bytes.
    #[arg(long)]
    pub no_auto_baud: bool,
}

#[derive(Serialize)]
struct LineEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    line: &'a ConsoleLine,
}

#[derive(Serialize)]
struct BaudEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    baud: u32,
    reason: &'a str,
}

#[derive(Serialize)]
struct EndEvent {
    #[serde(rename = "type")]
    kind: &'static str,
    outcome: Outcome,
    lines: u64,
    elapsed_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    matched: Option<String>,
}

fn render_text(ctx: &Ctx, raw: bool, line: &ConsoleLine) -> String {
    let mut out = line.text.clone();
    if raw || line.decoded.summary.is_empty() {
        return out;
    }
    let style = match line.decoded.severity {
        Severity::Error => Style::Red,
        Severity::Warning => Style::Yellow,
        Severity::Ok => Style::Green,
        Severity::Info => Style::Dim,
    };
    let mark = match line.decoded.severity {
        Severity::Error => "error:",
        Severity::Warning => "warning:",
        Severity::Ok => "ok:",
        Severity::Info => "note:",
    };
    out.push_str(&format!(
        "\n    {} {}",
        ctx.paint(mark, style),
        line.decoded.summary
    ));
    if let Some(fix) = &line.decoded.fix {
        out.push_str(&format!("\n    {} {fix}", ctx.paint("fix:", Style::Bold)));
    }
    out
}

#[derive(Serialize)]
struct SilentEvent<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    seconds: f64,
    hint: &'a str,
}

/// After this long without a single byte, say why a module may be silent.
const SILENCE_HINT_AFTER: Duration = Duration::from_secs(5);

const SILENT_HINT: &str = "a module held in download mode (GPIO0 low while it reset) prints \
    only the ROM's boot line at 74880 baud and then waits silently for a flasher: pull GPIO0 \
    high (or release the flash button) and reset it (--reset, or its reset button). Otherwise \
    check the wiring (adapter TX→RX, RX→TX, common GND) and --baud";

pub fn run(args: MonitorArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let plan = Plan::from_args(&args, ctx)?;
    let mut console = open_console(&plan, &args, ctx)?;
    let mut watched = SilenceWatch::new(console.as_mut(), ctx);
    let started = Instant::now();
    let summary = stream(&mut watched, &plan, &args, ctx)?;
    watched.trace_rest();
    let silent = !watched.heard;
    if silent && !watched.hinted {
        watched.hint();
    }
    Ok(conclude(&summary, silent, started.elapsed(), &args, ctx))
}

/// The validated options of one run.
struct Plan {
    spec: PortSpec,
    opts: MonitorOptions,
}

impl Plan {
    fn from_args(args: &MonitorArgs, ctx: &Ctx) -> Result<Plan> {
        let until = match &args.until {
            Some(p) => Some(Regex::new(p).map_err(|e| {
                Error::usage(format!("--until `{p}` is not a regular expression: {e}"))
                    .with_help("example: --until 'espmqtt: mqtt_connected'")
            })?),
            None => None,
        };
        if args.baud == 0 {
            return Err(Error::usage("--baud must be above 0")
                .with_help("the firmware template uses 115200"));
        }
        // Picked exactly as `flash` picks (serial::ports::choose).
        let (spec, picked) = ports::choose(args.port.as_deref())?;
        if let Some(p) = picked {
            ctx.info(format!("using {}", ports::render_line(&p)));
        } else {
            ctx.detail(format!("port {spec} (--port)"));
        }
        // After --reset the ROM prints its banner at 74880 baud: open the
        // port at that rate and let the loop switch to --baud at eboot's `~ld`.
        let initial_baud = (args.reset
            && !args.no_auto_baud
            && args.baud != monitor::ROM_BAUD
            && spec.carries_baud())
        .then_some(monitor::ROM_BAUD);
        ctx.detail(format!(
            "console at {} baud{}; auto-baud {}; --until {}; --timeout {}",
            args.baud,
            match initial_baud {
                Some(b) =>
                    format!(" (opened at {b}, the ROM's rate, until the bootloader hands over)"),
                None => String::new(),
            },
            if args.no_auto_baud { "off" } else { "on" },
            args.until.as_deref().unwrap_or("(none)"),
            args.timeout
                .map(|t| format!("{:.1} s", t.as_secs_f64()))
                .unwrap_or_else(|| "(none)".into())
        ));
        Ok(Plan {
            spec,
            opts: MonitorOptions {
                until,
                timeout: args.timeout,
                baud: args.baud,
                initial_baud,
                auto_baud: !args.no_auto_baud,
                flush_after: Duration::from_millis(500),
            },
        })
    }
}

/// Open the port and, with --reset, restart the module into its firmware.
/// A port that cannot drive DTR/RTS is said once; the monitor goes on.
fn open_console(plan: &Plan, args: &MonitorArgs, ctx: &Ctx) -> Result<Box<dyn ConsolePort>> {
    let opts = &plan.opts;
    let t = Instant::now();
    let mut console = console::open(&plan.spec, opts.initial_baud.unwrap_or(opts.baud))?;
    ctx.timed(&format!("opened {}", console.describe()), t);
    ctx.info(format!(
        "monitoring {} at {} baud{}",
        console.describe(),
        args.baud,
        if opts.until.is_some() {
            "; waiting for a line matching --until"
        } else {
            ""
        }
    ));
    if args.reset {
        let t = Instant::now();
        let reset = console.reset_to_firmware();
        ctx.timed("reset sequence (DTR/RTS)", t);
        match reset {
            Ok(true) => ctx.info("reset the module (RTS pulse, GPIO0 high)"),
            Ok(false) => ctx.warn(format!(
                "--reset: {} has no reset lines; a new connection resets the emulator",
                console.describe()
            )),
            Err(e) => ctx.warn(format!(
                "--reset: {} cannot drive DTR/RTS ({e}); press the module's reset button",
                console.describe()
            )),
        }
    }
    Ok(console)
}

/// What the read loop saw.
struct Summary {
    outcome: Outcome,
    lines: u64,
    matched: Option<String>,
}

/// Read and render lines until the outcome.
fn stream(
    console: &mut dyn ConsolePort,
    plan: &Plan,
    args: &MonitorArgs,
    ctx: &Ctx,
) -> Result<Summary> {
    let opts = &plan.opts;
    let mut lines = 0u64;
    let mut matched: Option<String> = None;
    let mut said_socket_garbage = false;
    let socket = plan.spec.is_socket();
    let mut sink = |ev: &MonitorEvent| -> bool {
        match ev {
            MonitorEvent::Line(line) => {
                lines = line.n;
                let hit = opts.until.as_ref().is_some_and(|r| r.is_match(&line.text));
                if hit {
                    matched = Some(line.text.clone());
                }
                // -q in text: the result (the line --until matched) and the
                // errors and warnings, each with its explanation.
                let shown = !ctx.quiet
                    || ctx.is_json()
                    || hit
                    || line.decoded.severity >= Severity::Warning;
                if shown {
                    ctx.emit_line(&LineEvent { kind: "line", line }, |c| {
                        render_text(c, args.raw, line)
                    });
                }
                if socket && !said_socket_garbage && line.decoded.kind == monitor::LineKind::Garbage
                {
                    said_socket_garbage = true;
                    ctx.warn("socket:// has no baud rate to switch; the bytes above were sent at another rate");
                }
            }
            MonitorEvent::Baud { .. } if ctx.quiet && !ctx.is_json() => {}
            MonitorEvent::Baud { baud, reason } => {
                ctx.emit_line(
                    &BaudEvent {
                        kind: "baud",
                        baud: *baud,
                        reason,
                    },
                    |c| format!("{} {reason}", c.paint("--- baud:", Style::Bold)),
                );
            }
        }
        true
    };
    let outcome = monitor::run(console, opts, &mut sink).map_err(|e| {
        Error::unreachable(format!("reading {} failed: {e}", plan.spec)).with_help(
            "the adapter was unplugged or the connection dropped; check the cable and run again",
        )
    })?;
    Ok(Summary {
        outcome,
        lines,
        matched,
    })
}

/// The end line (JSON) or message (text), and the exit status.
fn conclude(
    s: &Summary,
    silent: bool,
    elapsed: Duration,
    args: &MonitorArgs,
    ctx: &Ctx,
) -> ExitStatus {
    let lines = s.lines;
    if ctx.is_json() {
        ctx.emit_line(
            &EndEvent {
                kind: "end",
                outcome: s.outcome,
                lines,
                elapsed_ms: elapsed.as_millis() as u64,
                matched: s.matched.clone(),
            },
            |_| String::new(),
        );
    }
    let nothing = if silent {
        " — nothing at all was received"
    } else {
        ""
    };
    match s.outcome {
        Outcome::Matched | Outcome::Stopped => ExitStatus::Success,
        Outcome::TimedOut => {
            let msg = match &args.until {
                Some(p) => format!(
                    "no console line matched `{p}` within {:.1} s ({lines} lines read){nothing}",
                    elapsed.as_secs_f64()
                ),
                None => format!(
                    "--timeout: stopped after {:.1} s ({lines} lines read){nothing}",
                    elapsed.as_secs_f64()
                ),
            };
            if !ctx.is_json() {
                ctx.info(msg);
            }
            ExitStatus::CheckFailed
        }
        Outcome::Ended if args.until.is_some() => {
            if !ctx.is_json() {
                ctx.info(format!(
                    "the console closed before a line matched `{}` ({lines} lines read)",
                    args.until.as_deref().unwrap_or("")
                ));
            }
            ExitStatus::CheckFailed
        }
        Outcome::Ended => {
            ctx.info(format!("the console closed ({lines} lines read)"));
            ExitStatus::Success
        }
    }
}

/// Longest raw line `-vv` shows in one piece.
const RAW_LINE_MAX: usize = 512;

/// A console that notices a module saying nothing at all and says once
/// what that usually means; with `-vv` it also shows every raw line, as
/// received, before it is decoded.
struct SilenceWatch<'a> {
    inner: &'a mut dyn ConsolePort,
    ctx: &'a Ctx,
    since: Instant,
    heard: bool,
    hinted: bool,
    /// The raw bytes of the line being received (`-vv`).
    raw: Vec<u8>,
}

impl<'a> SilenceWatch<'a> {
    fn new(inner: &'a mut dyn ConsolePort, ctx: &'a Ctx) -> Self {
        SilenceWatch {
            inner,
            ctx,
            since: Instant::now(),
            heard: false,
            hinted: false,
            raw: Vec::new(),
        }
    }

    /// `-vv`: the complete raw lines in `bytes`, escaped (`\r`, `\x00`).
    fn trace_raw(&mut self, bytes: &[u8]) {
        if self.ctx.verbose < 2 {
            return;
        }
        for &b in bytes {
            self.raw.push(b);
            if b == b'\n' || self.raw.len() >= RAW_LINE_MAX {
                self.trace_rest();
            }
        }
    }

    /// `-vv`: what is left of a line the console did not end.
    fn trace_rest(&mut self) {
        if !self.raw.is_empty() {
            self.ctx.trace(format!("raw: {}", self.raw.escape_ascii()));
            self.raw.clear();
        }
    }

    fn hint(&mut self) {
        self.hinted = true;
        let secs = self.since.elapsed().as_secs_f64();
        let port = self.inner.describe();
        self.ctx.emit_line(
            &SilentEvent {
                kind: "silent",
                seconds: secs,
                hint: SILENT_HINT,
            },
            |c| {
                format!(
                    "{} nothing received from {port} for {secs:.0} s: {SILENT_HINT}",
                    c.paint("hint:", Style::Yellow)
                )
            },
        );
    }
}

impl ConsolePort for SilenceWatch<'_> {
    fn read_some(&mut self, buf: &mut [u8], wait: Duration) -> std::io::Result<ReadOutcome> {
        let r = self.inner.read_some(buf, wait)?;
        if let ReadOutcome::Data(n) = r {
            self.trace_raw(buf.get(..n).unwrap_or_default());
        }
        if matches!(r, ReadOutcome::Data(n) if n > 0) {
            self.heard = true;
        } else if !self.heard && !self.hinted && self.since.elapsed() >= SILENCE_HINT_AFTER {
            self.hint();
        }
        Ok(r)
    }
    fn can_set_baud(&self) -> bool {
        self.inner.can_set_baud()
    }
    fn set_baud(&mut self, baud: u32) -> std::io::Result<()> {
        self.inner.set_baud(baud)
    }
    fn reset_to_firmware(&mut self) -> std::io::Result<bool> {
        self.inner.reset_to_firmware()
    }
    fn describe(&self) -> String {
        self.inner.describe()
    }
}
