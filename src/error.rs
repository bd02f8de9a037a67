//! The one error type the binary sees.
//!
//! Every failure a user can hit is one of four kinds, and each kind has exactly
//! one exit code (the table in `README.md`). Domain modules keep their own `thiserror` enums
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
    ///
    /// Exit 4 ("I/O error" in the README's table) whatever the cause: a
    /// missing file, a permission, a full disk or a directory where a file
    /// was expected all happen while running, after the command line itself
    /// was understood. Only a path the operating system rejects as a path
    /// (`InvalidInput`, e.g. a name too long) is a usage error. The help line
    /// says what to check for the common causes.
    pub fn io(path: &std::path::Path, err: std::io::Error) -> Self {
        use std::io::ErrorKind as K;
        let kind = match err.kind() {
            K::InvalidInput => ErrorKind::Usage,
            _ => ErrorKind::Runtime,
        };
        let help = match err.kind() {
            K::NotFound => Some(match path.parent() {
                Some(dir) if !dir.as_os_str().is_empty() && !dir.exists() => {
                    format!("the directory {} does not exist", dir.display())
                }
                _ => "check the path".to_string(),
            }),
            K::PermissionDenied => {
                Some("check the permissions of the file and its directory".into())
            }
            _ if path.is_dir() => Some("this is a directory; name a file".into()),
            _ => None,
        };
        let e = Error::new(kind, format!("{}: {}", path.display(), io_message(&err)));
        match help {
            Some(h) => e.with_help(h),
            None => e,
        }
    }
}

/// An `io::Error` as a sentence without the `(os error N)` suffix.
fn io_message(err: &std::io::Error) -> String {
    let s = err.to_string();
    match s.rfind(" (os error ") {
        Some(i) if s.ends_with(')') => s[..i].to_string(),
        _ => s,
    }
}

/// The JSON form of an error (`--format json`): one object on stdout.
#[derive(Debug, serde::Serialize)]
pub struct ErrorReport<'a> {
    pub r#type: &'static str,
    pub kind: ErrorKind,
    pub exit_code: u8,
    pub message: &'a str,
    pub help: Option<&'a str>,
}

impl Error {
    /// The serialisable report of this error.
    pub fn report(&self) -> ErrorReport<'_> {
        ErrorReport {
            r#type: "error",
            kind: self.kind,
            exit_code: self.exit_status().code(),
            message: &self.message,
            help: self.help.as_deref(),
        }
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

    #[test]
    fn io_errors_exit_4_and_say_what_to_check() {
        use std::io::{Error as IoError, ErrorKind as K};
        let p = std::path::Path::new("/nonexistent-dir/x.pem");
        let e = Error::io(p, IoError::from(K::NotFound));
        assert_eq!(e.exit_status().code(), 4);
        assert!(e.help.unwrap().contains("/nonexistent-dir"));
        let e = Error::io(p, IoError::from(K::PermissionDenied));
        assert_eq!(e.exit_status().code(), 4);
        let e = Error::io(p, IoError::from_raw_os_error(2));
        assert!(!e.message.contains("os error"), "{}", e.message);
        assert_eq!(
            Error::io(p, IoError::from(K::InvalidInput))
                .exit_status()
                .code(),
            2
        );
    }

    #[test]
    fn an_error_with_quotes_and_newlines_is_valid_json() {
        let e = Error::usage("a \"quoted\"\nmulti-line\tmessage \\ with a backslash")
            .with_help("say \"hi\"\n");
        let s = serde_json::to_string(&e.report()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["message"], e.message.as_str());
        assert_eq!(v["exit_code"], 2);
        assert_eq!(v["kind"], "usage");
    }
}
