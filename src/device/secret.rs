//! Device secrets (MQTT passwords) and device names.
//!
//! A secret comes from the OS CSPRNG (`getrandom`) and uses only
//! `[A-Za-z0-9]`: it is pasted into C string literals, mosquitto password
//! files, CSV and shell command lines, where quotes, `$`, `:` or `\` would each
//! need a different escaping. 24 characters of a 62-letter alphabet carry
//! 24·log2(62) ≈ 142.9 bits, above the 128 bits the fleet needs.

use crate::error::{Error, Result};

/// Characters a secret is made of.
pub const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
/// Length of a generated secret.
pub const SECRET_LEN: usize = 24;
/// Longest device name accepted.
pub const MAX_NAME_LEN: usize = 64;

/// Entropy of a generated secret, in bits (rounded down).
pub fn secret_bits() -> u32 {
    ((SECRET_LEN as f64) * (ALPHABET.len() as f64).log2()) as u32
}

/// A new secret from the OS CSPRNG.
///
/// Bytes are mapped to the alphabet by rejection sampling: only bytes below
/// 248 (= 4·62) are used, so every character is exactly equally likely (a
/// plain `byte % 62` would favour the first 8 characters).
pub fn generate() -> Result<String> {
    let mut out = String::with_capacity(SECRET_LEN);
    let mut buf = [0u8; 64];
    while out.len() < SECRET_LEN {
        getrandom::getrandom(&mut buf).map_err(|e| {
            Error::runtime(format!(
                "the operating system's random generator failed: {e}"
            ))
            .with_help("this should not happen on a working system; retry, and check /dev/urandom")
        })?;
        for &b in buf.iter() {
            if out.len() == SECRET_LEN {
                break;
            }
            if b < 248 {
                out.push(ALPHABET[(b % 62) as usize] as char);
            }
        }
    }
    Ok(out)
}

/// Whether `s` is a well-formed secret as this module makes them (used to
/// reject a damaged registry row rather than export it).
pub fn is_well_formed(s: &str) -> bool {
    s.len() >= 22 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Check a device name: 1–64 characters of `[A-Za-z0-9_-]`.
///
/// The name becomes the MQTT client id, the username, a path segment of the
/// topic prefix, a mosquitto `passwd`/ACL token and a certificate CN, so it
/// must not contain MQTT wildcards (`+`, `#`), `/`, `:` (the `passwd`
/// separator), whitespace or anything a shell would interpret.
pub fn validate_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Error::usage("a device name must not be empty")
            .with_help("use 1-64 characters of A-Z, a-z, 0-9, '_' and '-'"));
    }
    if name.len() > MAX_NAME_LEN {
        return Err(Error::usage(format!(
            "device name '{}…' is {} characters long; at most {MAX_NAME_LEN} are allowed",
            &name[..name
                .char_indices()
                .nth(20)
                .map(|(i, _)| i)
                .unwrap_or(name.len())],
            name.chars().count()
        ))
        .with_help("use a shorter name (it is also the MQTT client id and username)"));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(Error::usage(format!(
            "device name {name:?} contains {bad:?}, which is not allowed"
        ))
        .with_help(
            "use only A-Z, a-z, 0-9, '_' and '-': the name is also the MQTT client id, \
             username and a topic level",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_alphanumeric_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), SECRET_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert!(is_well_formed(&a));
        assert_ne!(a, b);
        assert!(secret_bits() >= 128);
    }

    #[test]
    fn every_character_of_the_alphabet_appears() {
        let mut seen = [false; 256];
        for _ in 0..200 {
            for b in generate().unwrap().bytes() {
                seen[b as usize] = true;
            }
        }
        assert!(ALPHABET.iter().all(|&c| seen[c as usize]));
    }

    #[test]
    fn names() {
        for ok in ["a", "sensor-001", "A_b-9", &"x".repeat(64)] {
            validate_name(ok).unwrap();
        }
        for bad in [
            "",
            "a b",
            "a/b",
            "a+b",
            "a#",
            "a:b",
            "é",
            &"x".repeat(65),
            "a\n",
        ] {
            let e = validate_name(bad).unwrap_err();
            assert_eq!(e.exit_status().code(), 2, "{bad:?}");
        }
    }
}
