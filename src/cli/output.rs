//! Output context: text or JSON, quiet/verbose, colour, interactivity.
//!
//! Humans and machines are two renderers of one report value (CONVENTIONS 7):
//! a command builds a `Serialize` report and calls [`Ctx::emit`] with a text
//! renderer; with `--format json` exactly one JSON document goes to stdout.
//! Streaming commands call [`Ctx::emit_line`] once per event (JSON Lines, each
//! object carrying a `"type"` field).

use std::io::{IsTerminal, Write};

use serde::Serialize;

use crate::error::{Error, ExitStatus};

use super::GlobalArgs;

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
}

impl Ctx {
    pub fn from_global(g: &GlobalArgs) -> Self {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false");
        let stderr_tty = std::io::stderr().is_terminal();
        let stdout_tty = std::io::stdout().is_terminal();
        Ctx {
            format: g.format,
            quiet: g.quiet,
            verbose: g.verbose,
            color: !g.no_color && !no_color_env && stdout_tty && g.format == Format::Text,
            interactive: !g.non_interactive && !ci && std::io::stdin().is_terminal() && stderr_tty,
            progress: stderr_tty && g.format == Format::Text && !g.quiet,
            config: g.config.clone(),
        }
    }

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
        }
    }

    pub fn is_json(&self) -> bool {
        self.format == Format::Json
    }

    /// Render a report: JSON document, or the text the closure produces.
    pub fn emit<T: Serialize>(&self, report: &T, text: impl FnOnce(&Ctx) -> String) {
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => {
                let s = serde_json::to_string_pretty(report).unwrap_or_else(|e| {
                    format!("{{\"type\":\"error\",\"message\":\"serialisation: {e}\"}}")
                });
                let _ = writeln!(out, "{s}");
            }
            Format::Text => {
                let s = text(self);
                let _ = out.write_all(s.as_bytes());
                if !s.is_empty() && !s.ends_with('\n') {
                    let _ = out.write_all(b"\n");
                }
            }
        }
        let _ = out.flush();
    }

    /// One event of a stream: a JSON line, or a text line (skipped when empty).
    pub fn emit_line<T: Serialize>(&self, event: &T, text: impl FnOnce(&Ctx) -> String) {
        let mut out = std::io::stdout().lock();
        match self.format {
            Format::Json => {
                if let Ok(s) = serde_json::to_string(event) {
                    let _ = writeln!(out, "{s}");
                }
            }
            Format::Text => {
                let s = text(self);
                if !s.is_empty() {
                    let _ = writeln!(out, "{}", s.trim_end_matches('\n'));
                }
            }
        }
        let _ = out.flush();
    }

    /// Informational line on stderr (text mode, not quiet). Never on stdout,
    /// so it cannot corrupt JSON output.
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// Verbose detail on stderr.
    pub fn debug(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 {
            eprintln!("{}", msg.as_ref());
        }
    }

    /// Warning on stderr (text mode). In JSON mode warnings belong in the report.
    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.quiet && !self.is_json() {
            eprintln!("{} {}", self.paint("warning:", Style::Yellow), msg.as_ref());
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
        match self.format {
            Format::Json => {
                let doc = ErrorReport {
                    r#type: "error",
                    kind: err.kind,
                    exit_code: err.exit_status().code(),
                    message: &err.message,
                    help: err.help.as_deref(),
                };
                if let Ok(s) = serde_json::to_string_pretty(&doc) {
                    println!("{s}");
                }
            }
            Format::Text => {
                let color = self.color_stderr();
                let label = if color {
                    "\x1b[1;31merror:\x1b[0m"
                } else {
                    "error:"
                };
                eprintln!("{label} {}", err.message);
                if let Some(h) = &err.help {
                    let hl = if color {
                        "\x1b[1mhelp:\x1b[0m"
                    } else {
                        "help:"
                    };
                    eprintln!("  {hl} {h}");
                }
            }
        }
    }

    fn color_stderr(&self) -> bool {
        let no_color_env = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        !no_color_env && std::io::stderr().is_terminal() && (self.color || !self.is_json())
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Style {
    Bold,
    Red,
    Green,
    Yellow,
    Dim,
}

#[derive(Serialize)]
struct ErrorReport<'a> {
    r#type: &'static str,
    kind: crate::error::ErrorKind,
    exit_code: u8,
    message: &'a str,
    help: Option<&'a str>,
}

/// Convenience for commands whose outcome is pass/fail.
pub fn status_from(ok: bool) -> ExitStatus {
    if ok {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    }
}
