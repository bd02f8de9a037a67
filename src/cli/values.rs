//! Value parsers shared by every subcommand, so that one concept has one
//! grammar on the command line.
//!
//! Durations (`--timeout`, `--poll`, `--wait-timeout`, …): a number of
//! seconds (`10`, `2.5`) or a number with a unit (`500ms`, `10s`, `2m`,
//! `1h`). Finite, more than zero, at most a day; `nan`, `inf`, `-1`, `0`
//! and `1e300` are usage errors that say so, never a panic.

use std::time::Duration;

/// Longest duration any option accepts.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);

/// Parse a duration (see the module docs).
pub fn duration(s: &str) -> Result<Duration, String> {
    duration_between(s, Duration::from_millis(1), MAX_DURATION)
}

/// [`duration`] as seconds, for options kept as `f64`.
pub fn seconds(s: &str) -> Result<f64, String> {
    duration(s).map(|d| d.as_secs_f64())
}

/// Parse a duration that must lie in `min..=max`.
pub fn duration_between(s: &str, min: Duration, max: Duration) -> Result<Duration, String> {
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
    let shape = || {
        format!(
            "`{s}` is not a duration: give seconds (10, 2.5) or a number with a unit \
             (500ms, 10s, 2m, 1h)"
        )
    };
    let n = number.trim();
    // Only plain decimal numbers: Rust's float parser also takes `inf`,
    // `nan` and `1e3`, which are no way to write a timeout.
    if n.is_empty() || !n.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(shape());
    }
    let v: f64 = n.parse().map_err(|_| shape())?;
    let secs = v * scale;
    if !secs.is_finite() || secs > max.as_secs_f64() {
        return Err(format!("`{s}` is too long: at most {}", human(max)));
    }
    let d = Duration::from_secs_f64(secs);
    if d < min {
        return Err(format!("`{s}` is too short: at least {}", human(min)));
    }
    Ok(d)
}

/// A duration as people write it: `500ms`, `10s`, `2m`, `24h`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms % 3_600_000 == 0 {
        format!("{}h", ms / 3_600_000)
    } else if ms % 60_000 == 0 {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("2.5"), Ok(Duration::from_millis(2500)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(duration("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(duration(" 3 "), Ok(Duration::from_secs(3)));
        for bad in [
            "",
            "nan",
            "inf",
            "-1",
            "0",
            "0ms",
            "1e300",
            "1e3",
            "99999999999",
            "25h",
            "x",
            "1.2.3",
            "s",
            "ms",
            "١",
        ] {
            assert!(duration(bad).is_err(), "{bad:?}");
        }
        assert_eq!(seconds("1.5"), Ok(1.5));
        assert!(duration("0")
            .unwrap_err()
            .contains("too short: at least 1ms"));
        assert!(duration("25h").unwrap_err().contains("at most 24h"));
    }
}
