//! One grammar for durations on the command line (`--timeout`, `--poll`,
//! `--wait-timeout`, …): a number of seconds (`0.5`, `60`, `1e2`) or a number
//! with a unit (`500ms`, `10s`, `2m`, `1h`); finite, not negative, at most a
//! year. Used as a clap value parser, so a bad value is a usage error (exit 2)
//! naming the option — never a panic in `Duration::from_secs_f64`. Options
//! that need a narrower range check it where they are used.

use std::time::Duration;

/// The longest duration any option accepts (one year).
pub const MAX_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// Parse a duration (see the module docs).
pub fn seconds(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let (number, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let shape = || format!("`{s}` is not a duration (e.g. 0.5, 60, 500ms, 2m)");
    let n = number.trim();
    // `inf`, `nan` and `infinity` parse as floats; none is a duration.
    if n.is_empty()
        || n.chars()
            .any(|c| c.is_ascii_alphabetic() && c != 'e' && c != 'E')
    {
        return Err(shape());
    }
    let v: f64 = n.parse().map_err(|_| shape())?;
    let v = v * scale;
    if !v.is_finite() {
        return Err(shape());
    }
    if v < 0.0 {
        return Err(format!("`{s}`: a duration cannot be negative"));
    }
    if v > MAX_SECS {
        return Err(format!(
            "`{s}` is more than a year; the longest accepted is {MAX_SECS:.0} seconds"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

/// [`seconds`] as a number of seconds, for options kept as `f64`.
pub fn seconds_f64(s: &str) -> Result<f64, String> {
    seconds(s).map(|d| d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_and_bad_values() {
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("60"), Ok(Duration::from_secs(60)));
        assert_eq!(seconds("0"), Ok(Duration::ZERO));
        assert_eq!(seconds("1e2"), Ok(Duration::from_secs(100)));
        assert_eq!(seconds("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(seconds("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(seconds("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(seconds_f64(" 1.5 "), Ok(1.5));
        for bad in [
            "nan",
            "NaN",
            "inf",
            "-1",
            "1e300",
            "",
            "soon",
            "1e-400x",
            "infinity",
            "ms",
            "s",
            "1.2.3",
            "99999999999",
            "1e300ms",
            "-0.5s",
        ] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
    }
}
