//! The progress bar being drawn, known process-wide, so that output can be
//! printed above it ([`suspend`], [`err_line`]) and the bar removed before a
//! report or an error ([`clear`]): a spinner never leaves a stale line behind
//! the report, whichever path the command takes.

use std::io::Write;
use std::sync::Mutex;

use indicatif::ProgressBar;

/// The bar currently drawn, if any (indicatif bars are cheap handles).
static LIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn live() -> Option<ProgressBar> {
    LIVE.lock().ok().and_then(|g| g.clone())
}

pub(super) fn set_live(bar: Option<ProgressBar>) {
    if let Ok(mut g) = LIVE.lock() {
        *g = bar;
    }
}

/// Run `f` (which writes to stderr) with the live bar hidden, then redraw it.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match live() {
        Some(b) if !b.is_finished() => b.suspend(f),
        _ => f(),
    }
}

/// Remove the live bar from the terminal (before a report or an error).
pub fn clear() {
    if let Some(b) = live() {
        if !b.is_finished() {
            b.finish_and_clear();
        }
    }
    set_live(None);
}

/// Write one line to stderr above any progress bar, ignoring a closed or
/// broken pipe.
pub fn err_line(s: &str) {
    suspend(|| {
        let mut e = std::io::stderr().lock();
        let _ = e.write_all(s.as_bytes());
        let _ = e.write_all(b"\n");
        let _ = e.flush();
    });
}
