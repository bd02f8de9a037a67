//! Progress reporting from the library to whoever draws it.
//!
//! Library code never prints. Long operations take a `&dyn Progress` and
//! report through it; the CLI draws indicatif bars on a TTY and nothing at
//! all for `--format json` or a pipe (after espflash's `ProgressCallbacks`).

/// Receives progress of long-running work.
pub trait Progress: Send + Sync {
    /// A new phase or region starts; `total` in units (bytes usually) if known.
    fn start(&self, _label: &str, _total: Option<u64>) {}
    /// Absolute position within the current phase.
    fn update(&self, _position: u64) {}
    /// A short status message: a step done, with its timing (shown with `-v`).
    fn message(&self, _message: &str) {}
    /// A protocol-level step: a record, a packet, a certificate (shown with
    /// `-vv`). Never a secret.
    fn trace(&self, _message: &str) {}
    /// The current phase is done.
    fn finish(&self, _label: &str) {}
}

/// Progress sink that discards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}
