//! `espmqtt monitor`: the serial console, with a plain explanation under
//! every line the decoders recognise (ROM boot messages, crash dumps, the
//! firmware's status lines). The decoding lives in `crate::monitor`; this
//! file wires flags to it and renders lines as text or JSON Lines.

use std::time::{Duration, Instant};

use regex::Regex;
use serde::Serialize;

use crate::error::{Error, ExitStatus, Result};
use crate::monitor::{self, ConsoleLine, MonitorEvent, MonitorOptions, Outcome, Severity};
use crate::serial::console::{self as port, PortSpec};

use super::output::Style;
use super::Ctx;

const AFTER_HELP: &str = "\
Under each line it recognises, the monitor prints what it means and what to do:
ROM boot messages (reset cause, boot mode: \"the module is in download mode\"),
crash dumps (Exception (N), registers, stack), and the firmware's status lines
(Wi-Fi status codes, BearSSL errors and TLS alerts, MQTT states, NTP, heap).

On a serial port, unreadable bytes (the ROM prints at 74880 baud) make the
monitor switch between --baud and 74880; over socket:// it says what it saw.

Exit codes: 0 a line matched --until (or the console closed without --until),
1 --timeout ran out or the console closed before --until matched,
3 the port is missing or cannot be opened.

Examples:
  espmqtt monitor --port /dev/ttyUSB0
  espmqtt monitor --port /dev/ttyUSB0 --reset --baud 74880
  espmqtt monitor --port socket://127.0.0.1:5555 --until 'espmqtt: mqtt_connected' --timeout 60
  espmqtt monitor --port /dev/ttyUSB0 --format json | jq 'select(.severity == \"error\")'";

#[derive(Debug, clap::Args)]
#[command(after_help = AFTER_HELP)]
pub struct MonitorArgs {
    /// Serial device, or socket://HOST:PORT (the emulator). Default: the only USB serial port.
    #[arg(long, env = "ESPMQTT_PORT", value_name = "PATH|socket://HOST:PORT")]
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
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
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

fn default_port() -> Result<String> {
    let ports = serialport::available_ports().unwrap_or_default();
    let usb: Vec<String> = ports
        .into_iter()
        .filter(|p| matches!(p.port_type, serialport::SerialPortType::UsbPort(_)))
        .map(|p| p.port_name)
        .collect();
    match usb.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::unreachable("no USB serial port found").with_help(
            "plug in the module's USB-serial adapter, or give --port PATH (socket://HOST:PORT for the emulator)",
        )),
        many => Err(Error::usage(format!(
            "several serial ports found ({}); which one?",
            many.join(", ")
        ))
        .with_help("give --port PATH; `espmqtt ports` shows which chip is behind each")),
    }
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

pub fn run(args: MonitorArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let until = match &args.until {
        Some(p) => Some(Regex::new(p).map_err(|e| {
            Error::usage(format!("--until `{p}` is not a regular expression: {e}"))
                .with_help("example: --until 'espmqtt: mqtt_connected'")
        })?),
        None => None,
    };
    let timeout = match args.timeout {
        Some(s) if (0.0..1e9).contains(&s) => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            return Err(
                Error::usage(format!("--timeout {s} is not a number of seconds"))
                    .with_help("example: --timeout 60"),
            )
        }
        None => None,
    };
    if args.baud == 0 {
        return Err(
            Error::usage("--baud must be above 0").with_help("the firmware template uses 115200")
        );
    }
    let port_name = match &args.port {
        Some(p) => p.clone(),
        None => default_port()?,
    };
    let spec = PortSpec::parse(&port_name);
    // After --reset the ROM prints its banner at 74880 baud: open the port
    // at that rate and let the loop switch to --baud at eboot's `~ld`.
    let initial_baud = (args.reset
        && !args.no_auto_baud
        && args.baud != monitor::ROM_BAUD
        && matches!(spec, PortSpec::Serial(_)))
    .then_some(monitor::ROM_BAUD);
    let mut console = port::open(&spec, initial_baud.unwrap_or(args.baud))?;
    ctx.info(format!(
        "monitoring {} at {} baud{}",
        console.describe(),
        args.baud,
        if until.is_some() {
            "; waiting for a line matching --until"
        } else {
            ""
        }
    ));
    if args.reset {
        match console.reset_to_firmware() {
            Ok(true) => ctx.info("reset the module (RTS pulse, GPIO0 high)"),
            Ok(false) => ctx.warn(format!(
                "--reset: {} has no reset lines; a new connection resets the emulator",
                console.describe()
            )),
            Err(e) => {
                return Err(Error::unreachable(format!(
                    "resetting through {port_name} failed: {e}"
                ))
                .with_help(
                    "the adapter may lack RTS/DTR; press the module's reset button instead",
                ))
            }
        }
    }
    let opts = MonitorOptions {
        until,
        timeout,
        baud: args.baud,
        initial_baud,
        auto_baud: !args.no_auto_baud,
        flush_after: Duration::from_millis(500),
    };
    let started = Instant::now();
    let mut lines = 0u64;
    let mut matched: Option<String> = None;
    let mut said_socket_garbage = false;
    let socket = matches!(spec, PortSpec::Socket(_));
    let mut sink = |ev: &MonitorEvent| -> bool {
        match ev {
            MonitorEvent::Line(line) => {
                lines = line.n;
                if opts.until.as_ref().is_some_and(|r| r.is_match(&line.text)) {
                    matched = Some(line.text.clone());
                }
                ctx.emit_line(&LineEvent { kind: "line", line }, |c| {
                    render_text(c, args.raw, line)
                });
                if socket && !said_socket_garbage && line.decoded.kind == monitor::LineKind::Garbage
                {
                    said_socket_garbage = true;
                    ctx.warn("socket:// has no baud rate to switch; the bytes above were sent at another rate");
                }
            }
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
    let outcome = monitor::run(console.as_mut(), &opts, &mut sink).map_err(|e| {
        Error::unreachable(format!("reading {port_name} failed: {e}")).with_help(
            "the adapter was unplugged or the connection dropped; check the cable and run again",
        )
    })?;
    let elapsed = started.elapsed();
    let has_until = opts.until.is_some();
    if ctx.is_json() {
        ctx.emit_line(
            &EndEvent {
                kind: "end",
                outcome,
                lines,
                elapsed_ms: elapsed.as_millis() as u64,
                matched: matched.clone(),
            },
            |_| String::new(),
        );
    }
    match outcome {
        Outcome::Matched | Outcome::Stopped => Ok(ExitStatus::Success),
        Outcome::TimedOut => {
            let msg = match &args.until {
                Some(p) => format!(
                    "no console line matched `{p}` within {:.1} s ({lines} lines read)",
                    elapsed.as_secs_f64()
                ),
                None => format!(
                    "--timeout: stopped after {:.1} s ({lines} lines read)",
                    elapsed.as_secs_f64()
                ),
            };
            if !ctx.is_json() {
                ctx.info(msg);
            }
            Ok(ExitStatus::CheckFailed)
        }
        Outcome::Ended if has_until => {
            if !ctx.is_json() {
                ctx.info(format!(
                    "the console closed before a line matched `{}` ({lines} lines read)",
                    args.until.as_deref().unwrap_or("")
                ));
            }
            Ok(ExitStatus::CheckFailed)
        }
        Outcome::Ended => {
            ctx.info(format!("the console closed ({lines} lines read)"));
            Ok(ExitStatus::Success)
        }
    }
}
