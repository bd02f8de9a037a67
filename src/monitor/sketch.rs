//! Lines of people's own sketches that carry the two numbers this tool
//! explains: PubSubClient's state as its examples print it (`failed, rc=-2
//! try again in 5 seconds`, from `mqtt_esp8266.ino`) and a BearSSL error as
//! sketches print `getLastSSLError()` (`SSL error: 62`, `BearSSL error 62`).
//! A module that does not run the espmqtt firmware gets the same
//! explanation as its status lines.

use std::sync::OnceLock;

use regex::Regex;

use super::line::{re, Decoded, LineKind, Severity};
use super::tables;

/// Decode a sketch's `rc=N` or SSL error line; `None` for any other line.
pub(super) fn decode_sketch(t: &str) -> Option<Decoded> {
    static RC: OnceLock<Regex> = OnceLock::new();
    static SSL: OnceLock<Regex> = OnceLock::new();
    let rc = re(
        &RC,
        r"(?i)\bfailed,?\s*(?:with\s+)?(?:state\s*|rc\s*=\s*)(-?\d{1,3})\b",
    );
    let ssl = re(
        &SSL,
        r"(?i)\b(?:bearssl|ssl)\s+error\s*(?:code)?\s*[:=]?\s*(-?\d{1,4})\b",
    );
    if let Some(n) = rc
        .captures(t)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse::<i64>().ok())
    {
        let (name, why) = tables::mqtt_state(n);
        let fix = if n == -2 {
            "rc=-2 is the TCP or TLS connection: print `client.getLastSSLError()` in the sketch \
             for the BearSSL error, or run `espmqtt probe HOST:PORT` with the sketch's trust \
             settings: it predicts that error and says why"
                .to_string()
        } else {
            why.to_string()
        };
        return Some(
            Decoded::new(
                LineKind::Sketch,
                Severity::Error,
                format!("the sketch's MQTT connect() failed: PubSubClient state {n} = {name}"),
            )
            .fix(fix)
            .field("state", n)
            .field("state_name", name),
        );
    }
    let code = ssl
        .captures(t)
        .and_then(|c| c.get(1))
        .and_then(|m| m.as_str().parse::<i64>().ok())?;
    // getLastSSLError() strips the alert bit: with the core's alert text
    // the number is a TLS alert (docs/DEVICE.md, "BearSSL error numbers").
    if t.to_ascii_lowercase().contains("fatal alert") {
        let alert = code & 0xff;
        let (aname, awhy) = tables::tls_alert(alert)
            .unwrap_or(("unknown alert", "an alert this table does not know"));
        return Some(
            Decoded::new(
                LineKind::Sketch,
                Severity::Error,
                format!("TLS alert {alert} = {aname} (a TLS alert number, not a BearSSL error)"),
            )
            .fix(awhy)
            .field("tls_alert", alert)
            .field("tls_alert_name", aname),
        );
    }
    if code == 0 {
        return None;
    }
    let (summary, fix) = match tables::bearssl_error(code) {
        Some((name, why)) => (format!("BearSSL error {code} = {name}"), why),
        None => (
            format!("BearSSL error {code} (unknown code)"),
            "run `espmqtt probe HOST:PORT` with the sketch's trust settings: it predicts the \
             error and says why",
        ),
    };
    Some(
        Decoded::new(LineKind::Sketch, Severity::Error, summary)
            .fix(fix)
            .field("ssl_error", code),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_examples_lines_are_explained() {
        let d = decode_sketch("Attempting MQTT connection...failed, rc=-2 try again in 5 seconds")
            .expect("rc line");
        assert_eq!(d.kind, LineKind::Sketch);
        assert!(d.summary.contains("MQTT_CONNECT_FAILED"), "{}", d.summary);
        assert!(d.fix.as_deref().unwrap_or("").contains("getLastSSLError"));
        let d = decode_sketch("failed, rc=5").expect("rc 5");
        assert!(d.summary.contains("MQTT_CONNECT_UNAUTHORIZED"));
        let d = decode_sketch("SSL error: 62").expect("ssl");
        assert!(
            d.summary.contains("BR_ERR_X509_NOT_TRUSTED"),
            "{}",
            d.summary
        );
        let d = decode_sketch("BearSSL error 54").expect("bearssl");
        assert!(d.summary.contains("BR_ERR_X509_EXPIRED"));
        let d = decode_sketch("SSL error 40: SSL received fatal alert - Unknown error code.")
            .expect("alert");
        assert!(d.summary.contains("handshake_failure"), "{}", d.summary);
        for other in [
            "Connecting to Home",
            "rc=-2",
            "SSL error: 0",
            "WiFi connected",
            "error rate 5%",
        ] {
            assert!(decode_sketch(other).is_none(), "{other}");
        }
    }
}
