//! The one error type the binary sees.
//!
//! Every failure a user can hit is one of four kinds, and each kind has exactly
//! one exit code (DESIGN §5). Domain modules keep their own `thiserror` enums
//! with precise variants and convert into this type with `From`, choosing the
//! kind there; this file never needs to know about them. Each error carries a
//! `help` line: what to do next, in the user's terms.

use std::fmt;

/// Exit codes, documented in the README. Stable: scripts depend on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitStatus {
    /// 0: success.
    Success = 0,
    /// 1: the check ran and failed (incompatible broker, fingerprint mismatch…).
    CheckFailed = 1,
    /// 2: usage or configuration error.
    Usage = 2,
    /// 3: target unreachable (network, TLS never completed, serial port missing…).
    Unreachable = 3,
    /// 4: any other runtime failure (build failed, I/O error…).
    Runtime = 4,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// The category of an [`Error`]; decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    CheckFailed,
    Usage,
    Unreachable,
    Runtime,
}

impl ErrorKind {
    pub fn exit_status(self) -> ExitStatus {
        match self {
            ErrorKind::CheckFailed => ExitStatus::CheckFailed,
            ErrorKind::Usage => ExitStatus::Usage,
            ErrorKind::Unreachable => ExitStatus::Unreachable,
            ErrorKind::Runtime => ExitStatus::Runtime,
        }
    }
}

/// An error with a kind (→ exit code), a message (what happened) and an
/// optional help line (likely cause and next step).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error {
            kind,
            message: message.into(),
            help: None,
        }
    }
    /// Usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Usage, message)
    }
    /// The check ran and failed (exit 1).
    pub fn check_failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::CheckFailed, message)
    }
    /// Target unreachable (exit 3).
    pub fn unreachable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unreachable, message)
    }
    /// Other runtime failure (exit 4).
    pub fn runtime(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Runtime, message)
    }
    /// Attach the "what to do next" line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }
    /// Prefix the message with context ("reading ca.pem: …").
    pub fn context(mut self, ctx: impl fmt::Display) -> Self {
        self.message = format!("{ctx}: {}", self.message);
        self
    }
    pub fn exit_status(&self) -> ExitStatus {
        self.kind.exit_status()
    }
    /// An I/O error on a local file, with the path named.
    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        let kind = match err.kind() {
            std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied => ErrorKind::Usage,
            _ => ErrorKind::Runtime,
        };
        Error::new(kind, format!("{}: {err}", path.display()))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_stable() {
        assert_eq!(ExitStatus::Success.code(), 0);
        assert_eq!(Error::check_failed("x").exit_status().code(), 1);
        assert_eq!(Error::usage("x").exit_status().code(), 2);
        assert_eq!(Error::unreachable("x").exit_status().code(), 3);
        assert_eq!(Error::runtime("x").exit_status().code(), 4);
    }
}
