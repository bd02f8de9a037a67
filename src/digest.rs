//! Certificate digests (SHA-1, SHA-256) as people type and read them.
//!
//! One grammar for every command that takes a fingerprint (`init
//! --fingerprint`, `[tls] fingerprints` in `espmqtt.toml`, `probe
//! --fingerprint`, `fingerprint --expect`): hex digits in either case, with
//! no separators or with `:`, spaces, tabs or `-` between them, so that what
//! `openssl x509 -fingerprint`, a browser or `espmqtt fingerprint` printed
//! pastes as is. One spelling on output: upper-case hex pairs joined by `:`
//! (the `openssl` spelling), which the core's `setFingerprint(const char*)`
//! parser reads as well (it accepts either case and `:` or space between
//! pairs).

use std::fmt;

/// Why a digest did not parse, in the user's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestError {
    /// Nothing but separators.
    Empty,
    /// A character that is neither a hex digit nor a separator.
    NotHex(char),
    /// An odd number of hex digits.
    OddDigits(usize),
    /// Well-formed hex of the wrong length for what was asked.
    WrongLength { got: usize, want: &'static str },
}

impl fmt::Display for DigestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigestError::Empty => f.write_str("the value is empty"),
            DigestError::NotHex(c) => write!(f, "{c:?} is not a hex digit"),
            DigestError::OddDigits(n) => write!(f, "odd number of hex digits ({n})"),
            DigestError::WrongLength { got, want } => {
                write!(f, "{got} bytes of hex where {want} was expected")
            }
        }
    }
}

impl std::error::Error for DigestError {}

/// Separators accepted between hex digits.
fn is_separator(c: char) -> bool {
    matches!(c, ':' | ' ' | '\t' | '-')
}

/// Parse hex digits with optional separators, any case, into bytes.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, DigestError> {
    let mut digits = Vec::with_capacity(s.len());
    for c in s.trim().chars() {
        if is_separator(c) {
            continue;
        }
        match c.to_digit(16) {
            Some(d) => digits.push(d as u8),
            None => return Err(DigestError::NotHex(c)),
        }
    }
    if digits.is_empty() {
        return Err(DigestError::Empty);
    }
    if digits.len() % 2 != 0 {
        return Err(DigestError::OddDigits(digits.len()));
    }
    Ok(digits.chunks(2).map(|p| p[0] << 4 | p[1]).collect())
}

/// Parse a SHA-1 fingerprint (20 bytes).
pub fn parse_sha1(s: &str) -> Result<[u8; 20], DigestError> {
    let bytes = parse_hex(s)?;
    <[u8; 20]>::try_from(bytes.as_slice()).map_err(|_| DigestError::WrongLength {
        got: bytes.len(),
        want: "a SHA-1 (20 bytes, 40 hex digits)",
    })
}

/// Parse a SHA-256 digest (32 bytes).
pub fn parse_sha256(s: &str) -> Result<[u8; 32], DigestError> {
    let bytes = parse_hex(s)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| DigestError::WrongLength {
        got: bytes.len(),
        want: "a SHA-256 (32 bytes, 64 hex digits)",
    })
}

/// [`parse_sha1`] for a value the user gave (`what` names where: a flag or
/// a configuration key); a usage error that says how to write it.
pub fn parse_sha1_for(s: &str, what: &str) -> crate::Result<[u8; 20]> {
    parse_sha1(s).map_err(|e| {
        crate::Error::usage(format!("{what} {s:?}: {e}")).with_help(
            "give the leaf certificate's SHA-1 as 40 hex digits, with or without ':' or \
             spaces between pairs (as `espmqtt fingerprint HOST` prints it)",
        )
    })
}

/// The output spelling of a digest: `AB:CD:…`.
pub fn display(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02X}"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA1: [u8; 20] = [
        0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67,
        0x89, 0xab, 0xcd, 0xef, 0x01,
    ];

    #[test]
    fn every_usual_spelling_parses() {
        let colons = display(&SHA1);
        assert_eq!(
            colons,
            "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"
        );
        for s in [
            colons.clone(),
            colons.to_lowercase(),
            colons.replace(':', " "),
            colons.replace(':', ""),
            colons.replace(':', "").to_lowercase(),
            colons.replace(':', "-"),
            format!("  {colons}\n"),
        ] {
            assert_eq!(parse_sha1(&s), Ok(SHA1), "{s:?}");
        }
    }

    #[test]
    fn errors_say_why() {
        assert_eq!(parse_sha1(""), Err(DigestError::Empty));
        assert_eq!(parse_sha1("::"), Err(DigestError::Empty));
        assert_eq!(parse_sha1("ab:cg"), Err(DigestError::NotHex('g')));
        assert_eq!(parse_sha1("abc"), Err(DigestError::OddDigits(3)));
        assert!(matches!(
            parse_sha1(&display(&[0u8; 32])),
            Err(DigestError::WrongLength { got: 32, .. })
        ));
        assert!(parse_sha256(&display(&[7u8; 32])).is_ok());
        assert!(parse_sha1("é").is_err());
    }
}
