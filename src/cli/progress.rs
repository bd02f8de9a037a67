//! indicatif implementation of [`crate::progress::Progress`], drawn on stderr
//! only when [`super::Ctx::progress`] allows it.
//!
//! The bar being drawn is registered with [`super::live`], which prints notes
//! above it and removes it before the report or an error.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::{NoProgress, Progress};

use super::live::{err_line, set_live};
use super::Ctx;

/// A progress bar on stderr.
pub struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
    verbose: bool,
}

impl BarProgress {
    fn new(verbose: bool) -> Self {
        BarProgress {
            bar: Mutex::new(None),
            verbose,
        }
    }
}

impl Progress for BarProgress {
    fn start(&self, label: &str, total: Option<u64>) {
        // The previous bar leaves the screen before the next one draws its
        // first frame; drawn the other way round, the new line lands after
        // the old one and the old one is never cleared.
        if let Ok(mut g) = self.bar.lock() {
            if let Some(old) = g.take() {
                finish(&old);
            }
        }
        set_live(None);
        let bar = match total {
            Some(t) => {
                let b = ProgressBar::with_draw_target(Some(t), ProgressDrawTarget::stderr());
                b.set_style(
                    ProgressStyle::with_template(
                        "{msg:>14} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
                );
                b
            }
            None => {
                let b = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                b.set_style(
                    ProgressStyle::with_template("{spinner} {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                );
                b
            }
        };
        bar.set_message(label.to_string());
        if total.is_none() {
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
        }
        if let Ok(mut g) = self.bar.lock() {
            *g = Some(bar.clone());
        }
        set_live(Some(bar));
    }
    fn update(&self, position: u64) {
        if let Ok(g) = self.bar.lock() {
            if let Some(b) = g.as_ref() {
                b.set_position(position);
            }
        }
    }
    fn message(&self, message: &str) {
        if self.verbose {
            // Printed above the live bar (see `suspend`).
            err_line(message);
        }
    }
    fn finish(&self, _label: &str) {
        if let Ok(mut g) = self.bar.lock() {
            if let Some(b) = g.take() {
                finish(&b);
            }
        }
        set_live(None);
    }
}

impl Drop for BarProgress {
    fn drop(&mut self) {
        if let Ok(mut g) = self.bar.lock() {
            if let Some(b) = g.take() {
                b.finish_and_clear();
            }
        }
        set_live(None);
    }
}

/// A finished spinner disappears; a finished bar (a known amount of work,
/// e.g. bytes written to flash) stays as the record of what was done.
fn finish(b: &ProgressBar) {
    if b.length().is_some() {
        b.finish();
    } else {
        b.finish_and_clear();
    }
}

/// The progress sink for this invocation: bars on a TTY, nothing otherwise.
pub fn for_ctx(ctx: &Ctx) -> Box<dyn Progress> {
    if ctx.progress {
        Box::new(BarProgress::new(ctx.verbose > 0))
    } else {
        Box::new(NoProgress)
    }
}

/// The progress sink of a command whose steps the library reports: bars
/// as [`for_ctx`], and, on a terminal or not, every
/// [`Progress::message`] on stderr with `-v` and every [`Progress::trace`]
/// with `-vv` (above the bar, if one is drawn).
pub fn with_steps(ctx: &Ctx) -> Box<dyn Progress> {
    let bars: Box<dyn Progress> = if ctx.progress {
        Box::new(BarProgress::new(false))
    } else {
        Box::new(NoProgress)
    };
    Box::new(Steps {
        bars,
        verbose: ctx.verbose,
    })
}

struct Steps {
    bars: Box<dyn Progress>,
    verbose: u8,
}

impl Progress for Steps {
    fn start(&self, label: &str, total: Option<u64>) {
        self.bars.start(label, total);
    }
    fn update(&self, position: u64) {
        self.bars.update(position);
    }
    fn message(&self, message: &str) {
        if self.verbose > 0 {
            err_line(message);
        }
    }
    fn trace(&self, message: &str) {
        if self.verbose > 1 {
            err_line(message);
        }
    }
    fn finish(&self, label: &str) {
        self.bars.finish(label);
    }
}
