//! Output context: text or JSON, quiet/verbose, colour, interactivity.
//!
//! Humans and machines are two renderers of one report value: a command
//! builds a `Serialize` report and calls [`Ctx::emit`] with a text renderer;
//! with `--format json` exactly one JSON document goes to stdout. Streaming
//! commands call [`Ctx::emit_line`] once per event (JSON Lines, each object
//! carrying a `"type"` field).
//!
//! How much text a command prints is one rule for every command:
//!
//! | flag | stdout | stderr |
//! |---|---|---|
//! | `-q` | only the result (a path, a fingerprint, a verdict) | errors only |
//! | (none) | the report | notes ([`Ctx::info`]) and warnings |
//! | `-v` | the report | also steps, timings and every file written ([`Ctx::detail`], [`Ctx::wrote`]) |
//! | `-vv` | the report | also protocol-level detail ([`Ctx::trace`]) |
//!
//! Nothing here panics when stdout or stderr is closed (`espmqtt … | head`,
//! `2>&-`): a write that fails is dropped.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use crate::error::{Error, ExitStatus};

/// Write to stdout, ignoring a closed or broken pipe.
pub fn out(s: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(s.as_bytes());
    let _ = o.flush();
}

pub use super::live::err_line;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// What every subcommand needs to know about how to talk to the user.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub format: Format,
    pub quiet: bool,
    pub verbose: u8,
    pub color: bool,
    /// Prompts allowed (stdin and stderr are terminals, not CI, not --non-interactive).
    pub interactive: bool,
    /// Progress bars allowed (stderr is a terminal, text format, not quiet).
    pub progress: bool,
    pub config: Option<std::path::PathBuf>,
    /// When the command started (for `-v` timings).
    pub started: Instant,
}

impl Ctx {
    /// A context for library-level tests and embedding: text, no colour, no prompts.
    pub fn plain() -> Self {
        Ctx {
            format: Format::Text,
            quiet: false,
            verbose: 0,
            color: false,
            interactive: false,
            progress: false,
            config: None,
            started: Instant::now(),
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Render a report: JSON document, or the text the closure produces.
    /// Any progress bar is cleared first, so no stale line is left above it.
    pub fn emit<T: Serialize>(&self, report: &T, text: impl FnOnce(&Ctx) -> String) {
        super::live::clear();
        match self.format {
            Format::Json => out(&format!("{}\n", to_json(report))),
            Format::Text => {
                let mut s = text(self);
                if !s.is_empty() && !s.ends_with('\n') {
                    s.push('\n');
                }
                out(&s);
            }
        }
    }

    /// Render a report whose text form with `-q` is just its result (a
    /// path, a fingerprint): `X=$(espmqtt … -q)` captures exactly that.
    pub fn emit_result<T: Serialize>(
        &self,
        report: &T,
        result: impl FnOnce() -> String,
        text: impl FnOnce(&Ctx) -> String,
    ) {
        if self.quiet && !self.is_json() {
            self.emit(report, |_| result());
        } else {
            self.emit(report, text);
        }
    }

    /// One event of a stream: a JSON line, or a text line (skipped when empty).
    pub fn emit_line<T: Serialize>(&self, event: &T, text: impl FnOnce(&Ctx) -> String) {
        match self.format {
            Format::Json => {
                if let Ok(s) = serde_json::to_string(event) {
                    out(&format!("{s}\n"));
                }
            }
            Format::Text => {
                let s = text(self);
                if !s.is_empty() {
                    out(&format!("{}\n", s.trim_end_matches('\n')));
                }
            }
        }
    }

    /// A note on stderr (not with `-q`). Never on stdout, so it cannot
    /// corrupt JSON output.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            err_line(msg.as_ref());
        }
    }

    /// `-v` detail on stderr: steps, timings, files touched.
    pub fn detail(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 {
            err_line(msg.as_ref());
        }
    }

    /// Older name of [`Ctx::detail`].
    pub fn debug(&self, msg: impl AsRef<str>) {
        self.detail(msg)
    }

    /// `-vv` detail on stderr: protocol-level steps.
    pub fn trace(&self, msg: impl AsRef<str>) {
        if self.verbose > 1 {
            err_line(msg.as_ref());
        }
    }

    /// `-v`: a file was written, with its mode.
    pub fn wrote(&self, path: &Path, mode: u32) {
        self.detail(format!("wrote {} (mode {mode:04o})", path.display()));
    }

    /// `-v`: a step finished, with the time since `since`.
    pub fn timed(&self, what: &str, since: Instant) {
        self.detail(format!(
            "{what}: {:.0} ms",
            since.elapsed().as_secs_f64() * 1000.0
        ));
    }

    /// Warning on stderr (text mode, not `-q`). In JSON mode warnings belong
    /// in the report.
    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.quiet && !self.is_json() {
            err_line(&format!(
                "{} {}",
                self.paint_stderr("warning:", Style::Yellow),
                msg.as_ref()
            ));
        }
    }

    fn paint_stderr(&self, s: &str, style: Style) -> String {
        if self.color_stderr() {
            Ctx {
                color: true,
                ..self.clone()
            }
            .paint(s, style)
        } else {
            s.to_string()
        }
    }

    /// Colour a fragment when colours are on.
    pub fn paint(&self, s: &str, style: Style) -> String {
        if !self.color {
            return s.to_string();
        }
        let code = match style {
            Style::Bold => "1",
            Style::Red => "1;31",
            Style::Green => "1;32",
            Style::Yellow => "1;33",
            Style::Dim => "2",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }

    /// Report an error: JSON object on stdout (`--format json`) or text on stderr.
    pub fn report_error(&self, err: &Error) {
        super::live::clear();
        match self.format {
            Format::Json => out(&format!("{}\n", to_json(&err.report()))),
            Format::Text => {
                err_line(&format!(
                    "{} {}",
                    self.paint_stderr("error:", Style::Red),
                    err.message
                ));
                if let Some(h) = &err.help {
                    err_line(&format!(
                        "  {} {h}",
                        self.paint_stderr("help:", Style::Bold)
                    ));
                }
            }
        }
    }

    fn color_stderr(&self) -> bool {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        !no_color_env && std::io::stderr().is_terminal() && (self.color || !self.is_json())
    }
}

/// Pretty JSON of a report; a report that cannot be serialised becomes a
/// (serialised) error object rather than a broken document.
fn to_json<T: Serialize>(report: &T) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| {
        let err = Error::runtime(format!("cannot serialise the report: {e}"));
        serde_json::to_string_pretty(&err.report()).unwrap_or_default()
    })
}

#[derive(Debug, Clone, Copy)]
pub enum Style {
    Bold,
    Red,
    Green,
    Yellow,
    Dim,
}

/// Convenience for commands whose outcome is pass/fail.
pub fn status_from(ok: bool) -> ExitStatus {
    if ok {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    }
}
