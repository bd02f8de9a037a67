//! `espmqtt demo`: the whole job on this machine, as a user would run it.
//! The steps are [`crate::ops::demo`]; this file checks the arguments,
//! prints each step as it finishes and renders the summary.

use std::path::PathBuf;

use crate::error::{Error, ExitStatus, Result};
use crate::ops::demo::{self, DemoOptions, DemoReport, DemoStep};

use super::output::Style;
use super::Ctx;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Needs mosquitto (Debian: apt-get install mosquitto). Everything runs on 127.0.0.1.

Examples:
  espmqtt demo
  espmqtt demo --keep            # keep the temporary project to look around
  espmqtt demo --format json     # one JSON summary for scripts")]
pub struct DemoArgs {
    /// Keep the temporary project directory and print its path.
    #[arg(long)]
    pub keep: bool,
    /// Use this (empty or new) directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The mosquitto binary to run (default: /usr/sbin/mosquitto or PATH).
    #[arg(long, value_name = "PATH")]
    pub mosquitto: Option<PathBuf>,
}

pub fn run(args: DemoArgs, ctx: &Ctx) -> Result<ExitStatus> {
    // Everything that can be checked, before anything is written.
    let mosquitto = demo::check(args.dir.as_deref(), args.mosquitto.as_deref())?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::runtime(format!("cannot find the espmqtt binary: {e}")))?;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
            d.canonicalize().map_err(|e| Error::io(d, e))?
        }
        None => demo::temp_project_dir()?,
    };
    let text = !ctx.is_json() && !ctx.quiet;
    if text {
        super::output::out(&format!("espmqtt demo in {}\n", dir.display()));
    }
    ctx.detail(format!(
        "demo project {}, broker {}, espmqtt {}",
        dir.display(),
        mosquitto.display(),
        exe.display()
    ));
    let opts = DemoOptions {
        exe,
        dir: dir.clone(),
        mosquitto,
    };
    let mut shown = 0;
    let (steps, result) = demo::run(&opts, &mut |step| {
        shown += 1;
        if text {
            print_step(shown, step, ctx);
        }
        // -v: each step timed on stderr (whatever the format); -vv: its detail.
        ctx.detail(format!(
            "demo step {shown}: {}: {} in {} ms",
            step.step,
            if step.ok { "ok" } else { "FAILED" },
            step.millis
        ));
        if let Some(d) = &step.detail {
            for line in d.lines() {
                ctx.trace(format!("  {line}"));
            }
        }
    });
    let keep = args.keep || args.dir.is_some() || result.is_err();
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let report = match result {
        Ok(report) => DemoReport { steps, ..report },
        Err(e) => {
            if ctx.is_json() {
                ctx.emit(&DemoReport::failed(&dir, steps), |_| String::new());
            }
            return Err(e.with_help(format!(
                "the demo project was kept for inspection: {}",
                dir.display()
            )));
        }
    };
    ctx.emit(&report, |ctx| render_summary(&report, keep, ctx));
    Ok(if report.ok {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    })
}

/// `[ n] step …… ok (ms)` and the detail lines under it.
fn print_step(number: usize, step: &DemoStep, ctx: &Ctx) {
    let mark = if step.ok {
        ctx.paint("ok", Style::Green)
    } else {
        ctx.paint("FAILED", Style::Red)
    };
    super::output::out(&format!(
        "[{number:>2}] {:<58} {mark} ({} ms)\n",
        step.step, step.millis
    ));
    if let Some(detail) = &step.detail {
        for line in detail.lines() {
            super::output::out(&format!("       {line}\n"));
        }
    }
}

fn render_summary(r: &DemoReport, kept: bool, ctx: &Ctx) -> String {
    let total: u128 = r.steps.iter().map(|s| s.millis).sum();
    let mut s = String::from("\nSummary\n");
    let row = |k: &str, v: &str| format!("  {k:<22} {v}\n");
    s += &row("broker", &r.broker);
    s += &row("trust mode", &r.trust_mode);
    s += &row(
        "leaf SHA-1",
        r.fingerprint_sha1.as_deref().unwrap_or("(not captured)"),
    );
    s += &row("probe verdict", r.verdict.as_deref().unwrap_or("(none)"));
    s += &row(
        "findings",
        &if r.findings.is_empty() {
            "none".to_string()
        } else {
            r.findings.join(", ")
        },
    );
    if !r.probe_phases.is_empty() {
        let phases: Vec<String> = r
            .probe_phases
            .iter()
            .map(|(n, ms)| format!("{n} {ms} ms"))
            .collect();
        s += &row("probe timings", &phases.join(", "));
    }
    s += &row("steps", &format!("{} in {total} ms", r.steps.len()));
    if kept {
        s += &row("project kept at", &r.project);
    }
    s += &format!(
        "\n{}\n",
        if r.ok {
            ctx.paint("demo passed", Style::Green)
        } else {
            ctx.paint("demo FAILED", Style::Red)
        }
    );
    s
}
