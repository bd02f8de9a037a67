//! `espmqtt flash --port P1 --port P2 … --devices sensor-001..sensor-100`:
//! fleet flashing, one worker per port ([`crate::ops::fleet`]).
//!
//! This file parses the device list, picks the ports (`--port auto` = every
//! USB serial port), draws one progress bar per port on a TTY (indicatif
//! `MultiProgress`), streams one JSON line per event otherwise (each with a
//! `type`), and ends with a summary. Exit status: 0 when every device of the
//! list is flashed (or was already), 1 when some failed or were left over.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{Error, ExitStatus, Result};
use crate::ops::fleet::{self, FleetEvent, FleetOptions, FleetSummary};
use crate::progress::{NoProgress, Progress};
use crate::project::ProjectPaths;
use crate::serial::ports;
use crate::serial::transport::PortSpec;

use super::flash_args::{options, read_firmware, FlashArgs};
use super::Ctx;

/// Expand `--devices` values: `prefix001..prefix100` (or `prefix001..100`),
/// comma lists, single names; duplicates removed, order kept.
pub fn parse_devices(values: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for v in values {
        for item in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let names = match item.split_once("..") {
                Some((a, b)) => expand_range(a, b)?,
                None => vec![item.to_string()],
            };
            for n in names {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
    }
    if out.is_empty() {
        return Err(Error::usage("--devices names no device")
            .with_help("e.g. --devices sensor-001..sensor-100"));
    }
    Ok(out)
}

/// `(prefix, digits)` of a name ending in a number.
fn split_number(s: &str) -> Option<(&str, &str)> {
    let digits = s.len() - s.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == s.len() {
        return None;
    }
    Some((&s[..digits], &s[digits..]))
}

fn expand_range(a: &str, b: &str) -> Result<Vec<String>> {
    let bad = || {
        Error::usage(format!("invalid device range `{a}..{b}`")).with_help(
            "write FIRST..LAST with the same prefix and a number at the end, \
             e.g. sensor-001..sensor-100 or sensor-001..100",
        )
    };
    let (prefix, first) = split_number(a).ok_or_else(bad)?;
    let last = match split_number(b) {
        Some((p, n)) if p == prefix => n,
        Some(("", n)) => n,
        _ => return Err(bad()),
    };
    let width = first.len();
    let lo: u64 = first.parse().map_err(|_| bad())?;
    let hi: u64 = last.parse().map_err(|_| bad())?;
    if hi < lo {
        return Err(bad().context("the range runs backwards"));
    }
    if hi - lo >= 100_000 {
        return Err(Error::usage(format!(
            "the range `{a}..{b}` names {} devices; at most 100000 at once",
            hi - lo + 1
        )));
    }
    Ok((lo..=hi).map(|i| format!("{prefix}{i:0width$}")).collect())
}

/// `--port` values: several paths/URLs, or `auto` = every USB serial port.
fn ports_of(values: &[String], ctx: &Ctx) -> Result<Vec<PortSpec>> {
    let mut out = Vec::new();
    if values.is_empty() || values.iter().any(|p| p == "auto") {
        let usb = ports::all_usb()?;
        if usb.is_empty() {
            return Err(
                Error::unreachable("no USB serial port found for --port auto")
                    .with_help("plug in the USB-serial adapters and check `espmqtt ports`"),
            );
        }
        for p in &usb {
            ctx.info(format!("using {p}"));
        }
        out = usb;
    }
    for v in values.iter().filter(|v| *v != "auto") {
        out.push(PortSpec::parse(v)?);
    }
    Ok(dedup(out))
}

fn dedup(v: Vec<PortSpec>) -> Vec<PortSpec> {
    let mut out: Vec<PortSpec> = Vec::new();
    for p in v {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

/// One port's bar in the `MultiProgress`.
struct PortBar {
    bar: ProgressBar,
}

impl Progress for PortBar {
    fn start(&self, label: &str, total: Option<u64>) {
        match total {
            Some(t) => self.bar.set_length(t),
            None => self.bar.unset_length(),
        }
        self.bar.set_position(0);
        self.bar.set_message(label.to_string());
    }
    fn update(&self, position: u64) {
        self.bar.set_position(position);
    }
    fn message(&self, message: &str) {
        self.bar.set_message(message.to_string());
    }
    fn finish(&self, label: &str) {
        self.bar.set_message(format!("{label} done"));
    }
}

#[derive(serde::Serialize)]
struct SummaryLine<'a> {
    r#type: &'static str,
    ports: Vec<String>,
    devices: usize,
    #[serde(flatten)]
    summary: &'a FleetSummary,
}

pub fn run(args: FlashArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let fa = &args.fleet;
    if fa.devices.is_empty() {
        return Err(Error::usage("several --port values need --devices")
            .with_help("e.g. --devices sensor-001..sensor-100; one port flashes one module"));
    }
    if args.read_config || args.config_only {
        return Err(Error::usage(
            "--devices cannot be combined with --read-config or --config-only",
        ));
    }
    if fa.attempts == 0 {
        return Err(Error::usage("--attempts must be at least 1"));
    }
    let devices = parse_devices(&fa.devices)?;
    let port_specs = ports_of(&args.port, ctx)?;
    let firmware = match &args.firmware {
        Some(p) => Some(read_firmware(p, args.force)?),
        None => None,
    };
    let flash = options(&args)?;
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let opts = FleetOptions {
        ports: port_specs.clone(),
        devices: devices.clone(),
        firmware,
        flash,
        wait: fa.wait,
        rebind: args.rebind,
        poll: fa
            .poll
            .clamp(Duration::from_millis(50), Duration::from_secs(60)),
        idle_timeout: fa.wait_timeout,
        max_attempts: fa.attempts,
    };

    let multi = ctx
        .progress
        .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
    let width = port_specs
        .iter()
        .map(|p| p.to_string().len())
        .max()
        .unwrap_or(8);
    let progress_for = |p: &PortSpec| -> Box<dyn Progress> {
        match &multi {
            Some(m) => {
                let bar = m.add(ProgressBar::no_length());
                bar.set_style(
                    ProgressStyle::with_template(&format!(
                        "{{prefix:<{width}}} [{{bar:25}}] {{bytes:>9}}/{{total_bytes:<9}} {{msg}}"
                    ))
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                bar.set_prefix(p.to_string());
                Box::new(PortBar { bar })
            }
            None => Box::new(NoProgress),
        }
    };
    let out_lock = Mutex::new(());
    let state = Mutex::new(Interrupted {
        r#type: "interrupted",
        ..Interrupted::default()
    });
    let on_event = |e: FleetEvent| {
        let _g = out_lock.lock().unwrap_or_else(|p| p.into_inner());
        state.lock().unwrap_or_else(|p| p.into_inner()).track(&e);
        let print = || ctx.emit_line(&e, |_| render_event(&e, ctx.verbose > 0));
        match &multi {
            Some(m) => m.suspend(print),
            None => print(),
        }
    };
    let summary = std::thread::scope(|scope| {
        let guard = on_interrupt(scope, || {
            let _g = out_lock.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(m) = &multi {
                let _ = m.clear();
            }
            let s = state.lock().unwrap_or_else(|p| p.into_inner());
            ctx.emit_line(&*s, |_| s.render());
        });
        let summary = fleet::run(&paths, &opts, &progress_for, &on_event);
        if let Some(h) = guard {
            h.close();
        }
        summary
    })?;
    if let Some(m) = &multi {
        let _ = m.clear();
    }
    let line = SummaryLine {
        r#type: "summary",
        ports: port_specs.iter().map(|p| p.to_string()).collect(),
        devices: devices.len(),
        summary: &summary,
    };
    ctx.emit_line(&line, |_| render_summary(&line));
    Ok(
        if summary.remaining.is_empty() && summary.failed.is_empty() {
            ExitStatus::Success
        } else {
            ExitStatus::CheckFailed
        },
    )
}

/// What a Ctrl-C leaves: the devices recorded so far and the modules that
/// were being written (half written, not recorded). Printed as one JSON line
/// (`type: interrupted`) or text before exiting 130.
#[derive(Default, serde::Serialize)]
struct Interrupted {
    r#type: &'static str,
    flashed: Vec<String>,
    in_progress: Vec<InProgress>,
}

#[derive(serde::Serialize)]
struct InProgress {
    port: String,
    device: String,
    mac: String,
}

impl Interrupted {
    fn track(&mut self, e: &FleetEvent) {
        match e {
            FleetEvent::Started {
                port, device, mac, ..
            } => {
                self.in_progress.retain(|p| &p.port != port);
                self.in_progress.push(InProgress {
                    port: port.clone(),
                    device: device.clone(),
                    mac: mac.clone(),
                });
            }
            FleetEvent::Flashed { port, device, .. } => {
                self.in_progress.retain(|p| &p.port != port);
                self.flashed.push(device.clone());
            }
            FleetEvent::Failed { port, .. } | FleetEvent::PortDone { port, .. } => {
                self.in_progress.retain(|p| &p.port != port);
            }
            _ => {}
        }
    }

    fn render(&self) -> String {
        let mut out = format!(
            "fleet interrupted: {} device(s) flashed and recorded{}",
            self.flashed.len(),
            if self.in_progress.is_empty() {
                "; no module was being written"
            } else {
                ""
            }
        );
        for p in &self.in_progress {
            out.push_str(&format!(
                "\n  {}: {} was being written to {}: it is half written (the module will not \
                 boot) and not recorded",
                p.port, p.device, p.mac
            ));
        }
        out.push_str(
            "\n  run the same command again to continue: recorded devices are skipped and \
             the unfinished ones are flashed again",
        );
        out
    }
}

/// On Ctrl-C (or SIGTERM) run `report`, then exit 130. The registry needs no
/// cleanup: a device is recorded only after its regions verified, and the
/// claims of this process are released by the next run's preflight.
fn on_interrupt<'s, 'e: 's>(
    scope: &'s std::thread::Scope<'s, 'e>,
    report: impl FnOnce() + Send + 's,
) -> Option<signal_hook::iterator::Handle> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).ok()?;
    let handle = signals.handle();
    scope.spawn(move || {
        if signals.forever().next().is_some() {
            report();
            std::process::exit(130);
        }
    });
    Some(handle)
}

fn render_event(e: &FleetEvent, verbose: bool) -> String {
    match e {
        FleetEvent::PortStarted { port } if verbose => format!("{port}: started"),
        FleetEvent::PortStarted { .. } => String::new(),
        FleetEvent::Waiting { port, reason, .. } => format!("{port}: waiting — {reason}"),
        FleetEvent::Refused {
            port,
            mac,
            bound_to,
        } => format!(
            "{port}: module {mac} refused: it is already bound to {bound_to} \
             (swap the module, or pass --rebind)"
        ),
        FleetEvent::Started {
            port,
            device,
            mac,
            attempt,
        } => {
            if *attempt > 1 {
                format!("{port}: {device} → {mac} (attempt {attempt})")
            } else {
                format!("{port}: {device} → {mac}")
            }
        }
        FleetEvent::Flashed {
            port,
            device,
            mac,
            regions,
            seconds,
            rebound_from,
            ..
        } => {
            let what: Vec<String> = regions
                .iter()
                .map(|r| {
                    format!(
                        "{} {}",
                        r.label,
                        match r.action {
                            crate::flash::flasher::RegionAction::Written => "written",
                            crate::flash::flasher::RegionAction::Skipped => "unchanged",
                        }
                    )
                })
                .collect();
            let rebound = rebound_from
                .as_ref()
                .map(|o| format!(", MAC taken over from {o}"))
                .unwrap_or_default();
            format!(
                "{port}: {device} flashed and verified on {mac} ({}) in {seconds:.1} s{rebound}",
                what.join(", ")
            )
        }
        FleetEvent::Failed {
            port,
            device,
            error,
            help,
            retry,
            ..
        } => {
            let next = if *retry {
                "it goes back to the list and will be retried"
            } else {
                "left unflashed"
            };
            let help = help
                .as_ref()
                .map(|h| format!("\n  hint: {h}"))
                .unwrap_or_default();
            format!("{port}: {device} FAILED, not recorded ({next}): {error}{help}")
        }
        FleetEvent::PortDone { port, reason } => format!("{port}: stopped — {reason}"),
    }
}

fn render_summary(l: &SummaryLine) -> String {
    let s = l.summary;
    let mut out = format!(
        "fleet: {} flashed, {} failed, {} skipped (already flashed), {} left, {} module(s) refused — {} device(s) on {} port(s) in {:.1} s",
        s.flashed.len(),
        s.failed.len(),
        s.skipped.len(),
        s.remaining.len(),
        s.refused.len(),
        l.devices,
        l.ports.len(),
        s.seconds
    );
    if !s.failed.is_empty() {
        out.push_str(&format!("\n  failed: {}", s.failed.join(", ")));
    }
    if !s.remaining.is_empty() {
        let shown: Vec<&str> = s.remaining.iter().take(10).map(String::as_str).collect();
        out.push_str(&format!(
            "\n  not flashed yet: {}{} — run the same command again to continue",
            shown.join(", "),
            if s.remaining.len() > 10 { ", …" } else { "" }
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(v: &[&str]) -> Result<Vec<String>> {
        parse_devices(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn ranges_keep_width_and_order() {
        let v = p(&["sensor-001..sensor-003"]).unwrap();
        assert_eq!(v, ["sensor-001", "sensor-002", "sensor-003"]);
        let v = p(&["s-8..10"]).unwrap();
        assert_eq!(v, ["s-8", "s-9", "s-10"]);
        let v = p(&["a,b", "sensor-099..sensor-100", "a"]).unwrap();
        assert_eq!(v, ["a", "b", "sensor-099", "sensor-100"]);
        assert_eq!(p(&["sensor-1..sensor-100"]).unwrap().len(), 100);
    }

    #[test]
    fn bad_ranges_are_usage_errors() {
        for bad in [
            "sensor-003..sensor-001",
            "a..b",
            "sensor-001..other-003",
            "x1..x999999999",
            "",
            "1..99999999999999999999999",
        ] {
            let e = p(&[bad]).unwrap_err();
            assert_eq!(e.kind, crate::error::ErrorKind::Usage, "{bad}: {e:?}");
        }
    }
}
