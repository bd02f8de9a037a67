//! The firmware's status lines (`espmqtt: <event> key=value …`): the
//! grammar and the events are the contract in
//! `firmware-template/STATUS_LINES.md`; the numbers they carry are explained
//! in `docs/DEVICE.md` ("PubSubClient states", "BearSSL error numbers",
//! "Wi-Fi status values"). [`parse_status`] reads a line, `decode_status`
//! explains it: one function per event (or group of related events).

use serde_json::Value;

use super::seen::Seen;
use super::{tables, Decoded, LineKind, Severity};

/// A parsed `espmqtt: <event> key=value …` line (after the prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub event: String,
    /// Pairs in order; values unescaped. `quoted` tells a quoted `"12"` from a bare 12.
    pub pairs: Vec<(String, String, bool)>,
    /// The line did not follow the grammar from this point on.
    pub malformed: bool,
}

impl StatusLine {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, v, _)| v.as_str())
    }
    pub fn int(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(|v| v.parse().ok())
    }
    /// The value of `key` for a summary: `?` when the line lacks it.
    pub fn shown(&self, key: &str) -> &str {
        self.get(key).unwrap_or("?")
    }
}

/// Parse the part after `espmqtt: `. Quoted values: `\"`, `\\`, `\xHH`
/// (bytes, so UTF-8 comes out right); bare values run to the next space.
pub fn parse_status(rest: &str) -> StatusLine {
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() && (b[i].is_ascii_lowercase() || b[i] == b'_' || b[i].is_ascii_digit()) {
        i += 1;
    }
    let event = rest[..i].to_string();
    let mut out = StatusLine {
        event,
        pairs: Vec::new(),
        malformed: false,
    };
    loop {
        while i < b.len() && b[i] == b' ' {
            i += 1;
        }
        if i >= b.len() {
            break;
        }
        let ks = i;
        while i < b.len() && (b[i].is_ascii_lowercase() || b[i] == b'_' || b[i].is_ascii_digit()) {
            i += 1;
        }
        if i == ks || i >= b.len() || b[i] != b'=' {
            out.malformed = true;
            break;
        }
        let key = rest[ks..i].to_string();
        i += 1;
        if i < b.len() && b[i] == b'"' {
            i += 1;
            let mut val: Vec<u8> = Vec::new();
            let mut closed = false;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        closed = true;
                        i += 1;
                        break;
                    }
                    b'\\' if i + 1 < b.len() => match b[i + 1] {
                        b'x' if i + 3 < b.len() => {
                            let hex = std::str::from_utf8(&b[i + 2..i + 4]).ok();
                            match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                                Some(v) => val.push(v),
                                None => val.extend_from_slice(&b[i..i + 4]),
                            }
                            i += 4;
                        }
                        c => {
                            val.push(c);
                            i += 2;
                        }
                    },
                    c => {
                        val.push(c);
                        i += 1;
                    }
                }
            }
            if !closed {
                out.malformed = true;
            }
            out.pairs
                .push((key, String::from_utf8_lossy(&val).into_owned(), true));
            if !closed {
                break;
            }
        } else {
            let vs = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            out.pairs.push((key, rest[vs..i].to_string(), false));
        }
    }
    out
}

/// Keys `firmware-template/STATUS_LINES.md` defines as text: kept as strings even when a value
/// happens to be all digits (a chip id `123456` is hex, an SSID may be `1234`).
const TEXT_KEYS: &[&str] = &[
    "fw",
    "core",
    "reset",
    "chip",
    "reason",
    "detail",
    "sector",
    "device",
    "client_id",
    "host",
    "sni",
    "trust",
    "tls",
    "ssid",
    "ip",
    "bssid",
    "servers",
    "topic",
    "name",
    "action",
    "ssl_text",
];

/// A bare value as JSON: integers (no leading zeros) as numbers, `yes`/`no`
/// as booleans, text keys and everything else as strings.
fn typed(key: &str, v: &str, quoted: bool) -> Value {
    if TEXT_KEYS.contains(&key) {
        return Value::from(v);
    }
    if !quoted {
        let digits = v.strip_prefix('-').unwrap_or(v);
        let canonical = !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && (digits == "0" || !digits.starts_with('0'))
            && digits.len() <= 18;
        if canonical {
            if let Ok(n) = v.parse::<i64>() {
                return Value::from(n);
            }
        }
        match v {
            "yes" => return Value::Bool(true),
            "no" => return Value::Bool(false),
            _ => {}
        }
    }
    Value::from(v)
}

/// Below this free heap a BearSSL handshake tends to fail (OOM at ~21.5 KB,
/// `docs/DEVICE.md`, "Heap cost").
const LOW_HEAP: i64 = 22_000;
/// The handshake needs a contiguous receive buffer plus the x509 context;
/// with 512-byte MFLN buffers about 6 KB is the least that works
/// (`docs/DEVICE.md`, "Heap cost").
const LOW_MAX_BLOCK: i64 = 6_000;

/// The core's text prefixes for a fatal alert (WiFiClientSecureBearSSL.cpp
/// `getLastSSLError`); when present, the number is a bare TLS alert
/// (`docs/DEVICE.md`, "BearSSL error numbers", alerts).
const ALERT_RECEIVED_PREFIX: &str = "SSL received fatal alert";
const ALERT_SENT_PREFIX: &str = "SSL sent fatal alert";

/// Decode the part of a status line after `espmqtt: `: the typed fields of
/// every line, then the explanation its event calls for.
pub(super) fn decode_status(rest: &str, seen: &mut Seen) -> Decoded {
    let s = parse_status(rest);
    if matches!(s.event.as_str(), "config" | "mqtt_connecting") {
        seen.learn(
            s.get("host"),
            s.int("port"),
            s.get("device"),
            s.get("trust"),
        );
    }
    let mut d = Decoded::new(LineKind::Status, Severity::Info, "");
    d.event = Some(s.event.clone());
    for (key, value, quoted) in &s.pairs {
        d.fields.insert(key.clone(), typed(key, value, *quoted));
    }
    if s.malformed {
        d.fields.insert("malformed".into(), Value::Bool(true));
    }
    match s.event.as_str() {
        "boot" => boot(&s, &mut d),
        "unprovisioned" => unprovisioned(&s, &mut d),
        "config" => config(&s, &mut d),
        "wifi_connecting" => {
            d.summary = format!(
                "joining Wi-Fi \"{}\" (attempt {})",
                s.shown("ssid"),
                s.shown("attempt")
            );
        }
        "wifi_connected" => wifi_connected(&s, &mut d),
        "wifi_failed" | "wifi_lost" => wifi_failure(&s, &mut d),
        "ntp_wait" | "ntp_synced" | "ntp_timeout" => ntp(&s, &mut d),
        "mqtt_connecting" | "mqtt_connected" => mqtt_progress(&s, &mut d),
        "mqtt_failed" | "mqtt_lost" => decode_mqtt_failure(&s, seen, &mut d),
        "subscribed" | "cmd" | "publish_failed" => messages(&s, &mut d),
        "update" => super::update::update(
            s.get("result"),
            s.shown("number"),
            s.get("reason"),
            seen,
            &mut d,
        ),
        other => {
            d.summary =
                format!("firmware status \"{other}\" (not an event this espmqtt version knows)");
        }
    }
    d
}

fn boot(s: &StatusLine, d: &mut Decoded) {
    let reset = s.shown("reset");
    d.summary = format!(
        "firmware {} started (core {}, chip {}, {} bytes flash, {} bytes free heap); reset reason: {reset}",
        s.shown("fw"),
        s.shown("core"),
        s.shown("chip"),
        s.shown("flash"),
        s.shown("heap")
    );
    let reason = reset.to_ascii_lowercase();
    if reason.contains("exception") || reason.contains("wdt") || reason.contains("watchdog") {
        d.severity = Severity::Warning;
        d.fix = Some(
            "the previous run crashed or hung: look for the exception or watchdog report above"
                .into(),
        );
    }
}

fn unprovisioned(s: &StatusLine, d: &mut Decoded) {
    let reason = s.shown("reason");
    d.severity = Severity::Error;
    d.summary =
        format!(
        "the module has no usable configuration ({reason}: {}{}); it waits and will not connect",
        tables::unprovisioned_reason(reason),
        s.get("detail").map(|x| format!("; {x}")).unwrap_or_default()
    );
    d.fix = Some(match reason {
        "flash_read" => tables::unprovisioned_reason("flash_read").to_string(),
        "bad_version" => "rebuild the firmware with this espmqtt version (`espmqtt build`) or flash a config it understands".into(),
        _ => format!(
            "write the device's configuration: `espmqtt flash --port PORT --device NAME --config-only`{}",
            s.get("sector").map(|x| format!(" (the firmware reads sector {x})")).unwrap_or_default()
        ),
    });
}

fn config(s: &StatusLine, d: &mut Decoded) {
    let trust = s.shown("trust");
    d.severity = Severity::Ok;
    d.summary = format!(
        "configuration loaded for {}: broker {}:{}, trust {trust}, TLS buffers rx {} / tx {}",
        s.get("device")
            .filter(|x| !x.is_empty())
            .unwrap_or("(unnamed device)"),
        s.shown("host"),
        s.shown("port"),
        s.shown("rx"),
        s.shown("tx")
    );
    if trust == "insecure" {
        d.severity = Severity::Warning;
        d.fix = Some(
            "trust insecure accepts any certificate: switch to pubkey or ca trust in espmqtt.toml [tls]".into(),
        );
    }
}

fn wifi_connected(s: &StatusLine, d: &mut Decoded) {
    d.severity = Severity::Ok;
    d.summary = format!(
        "on Wi-Fi: IP {}, signal {} dBm, channel {}",
        s.shown("ip"),
        s.shown("rssi"),
        s.shown("channel")
    );
    if s.int("rssi").is_some_and(|rssi| rssi < -80) {
        d.severity = Severity::Warning;
        d.summary
            .push_str(" (weak: below -80 dBm drops are likely)");
        d.fix = Some("move the module or use an external antenna (ESP-07 IPEX connector)".into());
    }
}

fn wifi_failure(s: &StatusLine, d: &mut Decoded) {
    let status = s.int("status");
    let (name, why) = status
        .map(tables::wifi_status)
        .unwrap_or(("unknown", "no status given"));
    if status.is_some() {
        d.fields.insert("status_name".into(), Value::from(name));
    }
    if s.event == "wifi_failed" {
        d.severity = Severity::Error;
        d.summary = format!(
            "Wi-Fi attempt {} failed: status {} = {name}; retrying in {} ms",
            s.shown("attempt"),
            s.shown("status"),
            s.shown("retry_ms")
        );
    } else {
        d.severity = Severity::Warning;
        d.summary = format!(
            "the Wi-Fi link dropped: status {} = {name}",
            s.shown("status")
        );
    }
    d.fix = Some(why.to_string());
}

fn ntp(s: &StatusLine, d: &mut Decoded) {
    match s.event.as_str() {
        "ntp_wait" => {
            d.summary = format!(
                "waiting for the time from NTP ({}, up to {} ms): ca trust checks certificate dates, so the clock must be set first",
                s.shown("servers"),
                s.shown("timeout_ms")
            );
        }
        "ntp_synced" => {
            d.severity = Severity::Ok;
            d.summary = format!("clock set from NTP after {} ms", s.shown("waited_ms"));
        }
        _ => {
            d.severity = Severity::Error;
            d.summary = format!(
                "no time from NTP after {} ms; the TLS connection will fail with BearSSL error 54 (certificate not valid at the device's time)",
                s.shown("waited_ms")
            );
            d.fix = Some(
                "allow UDP port 123 to the NTP servers, or set [ntp] servers in espmqtt.toml to ones reachable from the device's network".into(),
            );
        }
    }
}

fn mqtt_progress(s: &StatusLine, d: &mut Decoded) {
    if s.event == "mqtt_connecting" {
        d.summary = format!(
            "connecting to {}:{} (trust {}{}, attempt {}); free heap {} bytes, largest block {}",
            s.shown("host"),
            s.shown("port"),
            s.shown("trust"),
            s.get("fp")
                .map(|f| format!(", fingerprint #{f}"))
                .unwrap_or_default(),
            s.shown("attempt"),
            s.shown("heap"),
            s.shown("max_block")
        );
    } else {
        d.severity = Severity::Ok;
        d.summary = format!(
            "MQTT connected to {}:{}{}; free heap {} bytes, largest block {}",
            s.shown("host"),
            s.shown("port"),
            match s.get("mfln") {
                Some("yes") => ", the broker accepted the smaller TLS records (MFLN)",
                Some("no") =>
                    ", the broker did not echo max_fragment_length (large records possible)",
                _ => "",
            },
            s.shown("heap"),
            s.shown("max_block")
        );
    }
    heap_check(s, d);
}

fn messages(s: &StatusLine, d: &mut Decoded) {
    match s.event.as_str() {
        "subscribed" if s.get("ok") == Some("no") => {
            d.severity = Severity::Error;
            d.summary = format!("subscribing to {} failed", s.shown("topic"));
            d.fix = Some("the broker's ACL must allow the device to read its cmd and config topics (`espmqtt broker export`)".into());
        }
        "subscribed" => {
            d.severity = Severity::Ok;
            d.summary = if s.shown("topic").ends_with("/config") {
                format!("listening for config updates on {}", s.shown("topic"))
            } else {
                format!("listening for commands on {}", s.shown("topic"))
            };
        }
        "cmd" => {
            d.summary = format!(
                "command \"{}\" received: {}",
                s.shown("name"),
                s.shown("action")
            );
        }
        _ => {
            d.severity = Severity::Warning;
            d.summary = format!(
                "publishing {} bytes to {} failed: the message is larger than PubSubClient's buffer, or the connection is down",
                s.shown("len"),
                s.shown("topic")
            );
            d.fix = Some(
                "shorten the payload or topic, or check the mqtt_lost line before this one".into(),
            );
        }
    }
}

fn heap_check(s: &StatusLine, d: &mut Decoded) {
    let heap = s.int("heap");
    let block = s.int("max_block");
    if heap.is_some_and(|h| h < LOW_HEAP) && s.event == "mqtt_connecting" {
        d.severity = Severity::Warning;
        d.summary.push_str(
            " — low: BearSSL handshakes tend to run out of memory below about 22 KB free",
        );
        d.fix = Some("use smaller TLS buffers (mfln = 512 in espmqtt.toml [tls]) or free memory before connecting".into());
    } else if block.is_some_and(|b| b < LOW_MAX_BLOCK) {
        d.severity = Severity::Warning;
        d.summary
            .push_str(" — the heap is fragmented: the largest free block is small");
        d.fix = Some(
            "allocate long-lived buffers once at startup; avoid String concatenation in loop()"
                .into(),
        );
    }
}

fn decode_mqtt_failure(s: &StatusLine, seen: &Seen, d: &mut Decoded) {
    let state = s.int("state");
    let (sname, swhy) = state
        .map(tables::mqtt_state)
        .unwrap_or(("unknown", "no state given"));
    d.fields.insert("state_name".into(), Value::from(sname));
    let lost = s.event == "mqtt_lost";
    d.severity = if lost {
        Severity::Warning
    } else {
        Severity::Error
    };
    let ssl = s.int("ssl_error").unwrap_or(0);
    let text = s.get("ssl_text").unwrap_or("");
    // Alert-number quirk (`docs/DEVICE.md`, "BearSSL error numbers"): with the alert prefix the
    // number is a TLS alert, not the BearSSL error of the same value.
    let alert_dir = if text.starts_with(ALERT_RECEIVED_PREFIX) {
        Some("received")
    } else if text.starts_with(ALERT_SENT_PREFIX) {
        Some("sent")
    } else if (256..512).contains(&ssl) {
        Some("received")
    } else if (512..768).contains(&ssl) {
        Some("sent")
    } else {
        None
    };
    let mut tls_part = String::new();
    let mut fix = swhy.to_string();
    if let Some(dir) = alert_dir {
        let alert = ssl & 0xff;
        let (aname, awhy) = tables::tls_alert(alert)
            .unwrap_or(("unknown alert", "an alert this table does not know"));
        d.fields.insert("tls_alert".into(), Value::from(alert));
        d.fields.insert("tls_alert_name".into(), Value::from(aname));
        d.fields
            .insert("tls_alert_direction".into(), Value::from(dir));
        let who = if dir == "received" {
            "the broker sent"
        } else {
            "the module sent"
        };
        tls_part = format!(
            "; TLS alert {alert} = {aname} ({who} it; the number is a TLS alert, not BearSSL error {alert}, whatever ssl_text says)"
        );
        fix = awhy.to_string();
    } else if ssl != 0 {
        match tables::bearssl_error(ssl) {
            Some((name, why)) => {
                d.fields.insert("ssl_error_name".into(), Value::from(name));
                tls_part = format!("; BearSSL error {ssl} = {name}");
                fix = why.to_string();
            }
            None => {
                tls_part = format!("; BearSSL error {ssl} (unknown code)");
            }
        }
        if ssl == 27 && s.get("trust") == Some("pubkey") {
            tls_part.push_str(" (the pinned key does not match)");
            fix = "the pinned key does not match the broker's key: the broker's key changed; stage the new key with a config update, or flash a config with it".into();
        }
        if ssl == 62 {
            if let Some(f) = seen.not_trusted_fix(s.get("trust")) {
                fix = f;
            }
        }
        // The core's known-key check refuses a key of another type (an EC
        // key pinned, an RSA key served) with 28 rather than 27.
        if ssl == 28 && s.get("trust") == Some("pubkey") {
            tls_part.push_str(" (the pinned key does not match: another key type)");
            fix = "the pinned key does not match the broker's key, which is of another type (EC against RSA): the broker's key changed; stage the new key with a config update, or flash a config with it".into();
        }
    }
    if state == Some(-2) && alert_dir.is_none() && s.int("ssl_error") == Some(0) {
        fix = seen.connect_failed_fix();
    }
    let trying_next = s.int("retry_ms") == Some(0) && s.get("fp").is_some();
    d.summary = if lost {
        format!(
            "the MQTT session ended: state {} = {sname}{tls_part}",
            s.get("state").unwrap_or("?")
        )
    } else {
        format!(
            "MQTT connection attempt {} failed: state {} = {sname}{tls_part}{}",
            s.get("attempt").unwrap_or("?"),
            s.get("state").unwrap_or("?"),
            if trying_next {
                "; trying the next fingerprint at once".to_string()
            } else {
                s.get("retry_ms")
                    .map(|r| format!("; retrying in {r} ms"))
                    .unwrap_or_default()
            }
        )
    };
    if trying_next && ssl == 62 {
        // A mismatch on one of several configured fingerprints is expected
        // during a certificate rollover; only the last one failing matters.
        d.severity = Severity::Warning;
    }
    d.fix = Some(fix);
}
