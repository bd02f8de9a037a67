//! One grammar for durations on the command line: a number of seconds
//! (`0.5`, `60`, `1e2`), finite, not negative, at most a year. Used as a
//! clap value parser, so a bad value is a usage error (exit 2) naming the
//! option — never a panic in `Duration::from_secs_f64`.

use std::time::Duration;

/// The longest duration any option accepts (one year).
pub const MAX_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// Parse a number of seconds.
pub fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("`{s}` is not a number of seconds (e.g. 0.5, 60)"))?;
    if !v.is_finite() {
        return Err(format!("`{s}` is not a number of seconds (e.g. 0.5, 60)"));
    }
    if v < 0.0 {
        return Err(format!("`{s}`: a duration cannot be negative"));
    }
    if v > MAX_SECS {
        return Err(format!(
            "`{s}` seconds is more than a year; the longest accepted is {MAX_SECS:.0}"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_values() {
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("60"), Ok(Duration::from_secs(60)));
        assert_eq!(seconds("0"), Ok(Duration::ZERO));
        for bad in ["nan", "NaN", "inf", "-1", "1e300", "", "soon", "1e-400x"] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }
}
