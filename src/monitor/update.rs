//! The firmware's `update` status line (`firmware-template/STATUS_LINES.md`):
//! what happened to a config update pushed over MQTT, and for a rollback or a
//! rejection what to do about it (reasons: `firmware-template/CONFIG_FORMAT.md`,
//! "Config updates over MQTT").

use super::seen::Seen;
use super::{tables, Decoded, Severity};

/// `result`, `number` and `reason` are the line's values (`number` already
/// `?` when missing).
pub(super) fn update(
    result: Option<&str>,
    n: &str,
    reason: Option<&str>,
    seen: &Seen,
    d: &mut Decoded,
) {
    let reason = reason.unwrap_or("");
    match result.unwrap_or("?") {
        "staged" => {
            d.severity = Severity::Info;
            d.summary = format!(
                "config update {n} received and staged; the module reconnects with it and keeps its previous config as the fallback"
            );
        }
        "committed" => {
            d.severity = Severity::Ok;
            d.summary = format!(
                "config update {n} committed: the broker accepted the module with the new config"
            );
        }
        "rolled_back" => {
            d.severity = Severity::Error;
            d.summary = format!(
                "config update {n} rolled back: the module could not connect with it ({reason}); it is back on its previous config"
            );
            d.fix = Some(rollback_fix(reason, seen));
        }
        "duplicate" => {
            d.severity = Severity::Info;
            d.summary = format!(
                "config update {n} delivered again by the broker (retained); it was handled already, nothing changed"
            );
        }
        "rejected" => {
            d.severity = Severity::Warning;
            d.summary = format!("config update {n} rejected: {reason}");
            d.fix = Some(rejection_fix(reason).to_string());
        }
        other => {
            d.summary =
                format!("config update {n}: result \"{other}\" (unknown to this espmqtt version)");
        }
    }
}

fn rollback_fix(reason: &str, seen: &Seen) -> String {
    if let Some(code) = reason
        .strip_prefix("tls:")
        .and_then(|c| c.parse::<i64>().ok())
    {
        let code = code.abs();
        if code == 62 {
            if let Some(fix) = seen.not_trusted_fix(None) {
                return format!(
                    "TLS failed with BearSSL error 62 = BR_ERR_X509_NOT_TRUSTED: {fix}"
                );
            }
        }
        return match tables::bearssl_error(code) {
            Some((name, why)) => format!("TLS failed with BearSSL error {code} = {name}: {why}"),
            None => format!("TLS failed with BearSSL error {code}"),
        };
    }
    if let Some(state) = reason
        .strip_prefix("mqtt:")
        .and_then(|c| c.parse::<i64>().ok())
    {
        let (name, why) = tables::mqtt_state(state);
        return format!("the broker answered state {state} = {name}: {why}");
    }
    match reason {
        "wifi" => "the new Wi-Fi settings did not connect: check the SSID and password of the update".into(),
        "reset" => "the module reset during its last try: look for a crash or watchdog report on the console".into(),
        _ => "fix the config and push it again with a new update number".into(),
    }
}

fn rejection_fix(reason: &str) -> &'static str {
    match reason.split(':').next().unwrap_or("") {
        "too_large" => "the message is larger than the firmware's 4268-byte limit; push a smaller config",
        "bad_format" => "the payload is not an espmqtt update message: only `espmqtt` should publish on the config topic",
        "wrong_client" => "the message was made for another device: check the topic and the device name",
        "no_update_key" => "the device's config has no update key: flash a config with one over serial first",
        "bad_mac" => "the message is not signed with the key of the device's committed config: the registry and the device disagree about the committed update (check the fleet status) or someone else published it",
        "replayed" => "the update number is not newer than one the device already accepted: push again, which uses a new number",
        "bad_blob" => "the firmware's decoder refuses the config in the message: this firmware is older than the espmqtt that built it, or the message was damaged",
        "blob_client_mismatch" => "the config in the message is for another client id",
        "no_update_key_in_blob" => "the new config has no update key and would lock out later updates",
        "no_trust" => "the new config would leave the module without usable trust (insecure, or only all-zero fingerprints)",
        "busy" => "another update is still staged on the device: wait for its committed or rolled_back acknowledgement",
        "flash" => "the module could not write its spare config sector: the flash may be worn or failing",
        _ => "see CONFIG_FORMAT.md, \"Config updates over MQTT\"",
    }
}
