//! Integration tests: `espmqtt monitor` against a replayed console over
//! `socket://`: every decoder's explanation and
//! JSON fields, and the `--until` / `--timeout` exit codes.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::support::cmd::Cmd;
use crate::support::emulator::Emulator;
use crate::support::monitor::ConsoleServer;
use crate::support::{espmqtt, Env};
use espmqtt::emulator::console::ConsoleOptions;

fn transcript(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/console")
        .join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(transcript(name)).expect("transcript")
}

fn fast() -> ConsoleOptions {
    ConsoleOptions {
        line_delay: Duration::ZERO,
        ..Default::default()
    }
}

/// One `"type":"line"` object of `monitor --format json`.
#[derive(Debug, Deserialize)]
struct Line {
    n: u64,
    text: String,
    kind: String,
    severity: String,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    fix: Option<String>,
    #[serde(default)]
    fields: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
struct End {
    outcome: String,
    lines: u64,
}

fn parse(stdout: &str) -> (Vec<Line>, Option<End>) {
    let mut lines = Vec::new();
    let mut end = None;
    for l in stdout.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"));
        match v["type"].as_str() {
            Some("line") => lines.push(serde_json::from_value(v).expect("line object")),
            Some("end") => end = Some(serde_json::from_value(v).expect("end object")),
            Some("baud") => {}
            other => panic!("unexpected type {other:?}: {l}"),
        }
    }
    (lines, end)
}

fn status<'a>(lines: &'a [Line], event: &str) -> Vec<&'a Line> {
    lines
        .iter()
        .filter(|l| l.kind == "status" && l.event.as_deref() == Some(event))
        .collect()
}

/// `espmqtt emulate --boot-mode flash --console FILE` (the end-to-end peer).
fn emulator(env: &Env, file: &str) -> Emulator {
    Emulator::console(env, &transcript(file))
}

/// `espmqtt monitor --port PORT`.
fn monitor<'a>(env: &'a Env, port: &str) -> Cmd<'a> {
    espmqtt(env).args(["monitor", "--port", port])
}

/// `espmqtt monitor --port PORT --until PATTERN --timeout 30`.
fn monitor_until<'a>(env: &'a Env, port: &str, until: &str) -> Cmd<'a> {
    monitor(env, port).args(["--until", until, "--timeout", "30"])
}

/// Until the transcripts' last line, JSON Lines, no banner.
fn until_last<'a>(env: &'a Env, port: &str) -> Cmd<'a> {
    monitor_until(env, port, "unprovisioned")
        .json()
        .arg("--quiet")
}

#[test]
fn emulator_replay_decodes_every_decoder() {
    let env = Env::new();
    let emu = emulator(&env, "full.txt");
    let url = emu.url();
    let r = until_last(&env, &url).expect_exit(0);
    // The emulator's ROM log: a new connection is a reset (rst cause 2).
    check_full_transcript(&r.stdout, 2);
}

#[test]
fn console_server_replay_decodes_every_decoder() {
    // Same replay code without the emulator process: pins the library path.
    let server = ConsoleServer::start(read("full.txt"), fast());
    let env = Env::new();
    let url = server.url();
    let r = until_last(&env, &url).expect_exit(0);
    check_full_transcript(&r.stdout, 1);
}

fn check_full_transcript(stdout: &str, first_rst_cause: u64) {
    let (lines, end) = parse(stdout);
    let end = end.expect("end object");
    assert_eq!(end.outcome, "matched");
    assert_eq!(end.lines, lines.last().map(|l| l.n).unwrap_or(0));

    // ROM banner (written by the replay before the transcript) and the reboot after the crash.
    let banners: Vec<&Line> = lines.iter().filter(|l| l.kind == "rom_boot").collect();
    assert_eq!(banners.len(), 2, "{lines:#?}");
    assert_eq!(banners[0].fields["rst_cause"], first_rst_cause);
    let cause_name = if first_rst_cause == 1 {
        "power-on"
    } else {
        "external reset"
    };
    assert_eq!(banners[0].fields["rst_cause_name"], cause_name);
    assert_eq!(banners[0].fields["boot_mode"], serde_json::json!([3, 6]));
    assert_eq!(banners[0].fields["boot_mode_name"], "flash boot");
    assert_eq!(banners[0].fields["download_mode"], false);
    assert_eq!(banners[1].fields["rst_cause_name"], "external reset");
    let load = lines
        .iter()
        .find(|l| l.kind == "rom_load")
        .expect("load line");
    assert_eq!(load.fields["len"], 3424);
    assert_eq!(load.fields["address"], "0x4010f000");
    assert!(lines
        .iter()
        .any(|l| l.text == "~ld" && l.kind == "rom_other"));

    // Exception dump.
    let exc = lines
        .iter()
        .find(|l| l.kind == "exception")
        .expect("exception");
    assert_eq!(exc.fields["cause"], 28);
    assert_eq!(exc.fields["cause_name"], "LoadProhibited");
    assert!(exc.summary.contains("null or dangling pointer"));
    let regs = lines
        .iter()
        .find(|l| l.kind == "exception_registers")
        .expect("registers");
    assert_eq!(regs.fields["epc1"], "0x40206a54");
    assert_eq!(regs.fields["excvaddr"], "0x00000010");
    assert_eq!(regs.fields["null_pointer"], true);
    assert_eq!(lines.iter().filter(|l| l.kind == "stack_begin").count(), 1);
    let frames: Vec<&Line> = lines.iter().filter(|l| l.kind == "stack_frame").collect();
    assert_eq!(frames.len(), 4);
    assert_eq!(frames[0].fields["ctx"], "cont");
    let end_stack = lines
        .iter()
        .find(|l| l.kind == "stack_end")
        .expect("stack end");
    assert_eq!(end_stack.fields["stack_lines"], 4);
    assert!(end_stack
        .fix
        .as_deref()
        .unwrap_or("")
        .contains("exception decoder"));

    // Every firmware status event of STATUS_LINES.md.
    for ev in [
        "boot",
        "config",
        "wifi_connecting",
        "wifi_connected",
        "wifi_failed",
        "wifi_lost",
        "ntp_wait",
        "ntp_synced",
        "ntp_timeout",
        "mqtt_connecting",
        "mqtt_connected",
        "mqtt_failed",
        "mqtt_lost",
        "subscribed",
        "cmd",
        "publish_failed",
        "unprovisioned",
    ] {
        let found = status(&lines, ev);
        assert!(!found.is_empty(), "no {ev} line decoded");
        assert!(
            found.iter().all(|l| !l.summary.is_empty()),
            "{ev} has no explanation"
        );
    }
    let boot = status(&lines, "boot");
    assert_eq!(boot[0].fields["fw"], "0.1.0");
    assert_eq!(boot[0].fields["chip"], "0a1b2c");
    assert_eq!(boot[0].fields["heap"], 51200);
    assert_eq!(boot[0].fields["reset"], "Power On");
    assert_eq!(boot[1].severity, "warning");

    let config = status(&lines, "config")[0];
    assert_eq!(config.fields["client_cert"], false);
    assert_eq!(config.fields["trust"], "ca");
    assert_eq!(config.severity, "ok");

    let ssid = status(&lines, "wifi_connecting")[0];
    assert_eq!(ssid.fields["ssid"], "Home \"Net\"");

    let wf = status(&lines, "wifi_failed")[0];
    assert_eq!(wf.fields["status"], 6);
    assert_eq!(wf.fields["status_name"], "WL_WRONG_PASSWORD");
    assert_eq!(wf.severity, "error");
    assert!(wf.fix.as_deref().unwrap_or("").contains("password"));
    assert_eq!(
        status(&lines, "wifi_lost")[0].fields["status_name"],
        "WL_CONNECTION_LOST"
    );
    assert_eq!(status(&lines, "wifi_connected")[0].fields["rssi"], -61);

    let nt = status(&lines, "ntp_timeout")[0];
    assert!(nt.summary.contains("54"));
    assert!(nt.fix.as_deref().unwrap_or("").contains("UDP port 123"));
    assert_eq!(
        status(&lines, "ntp_synced")[0].fields["epoch"],
        1_764_000_000i64
    );

    let fails = status(&lines, "mqtt_failed");
    assert_eq!(fails.len(), 3);
    assert_eq!(fails[0].fields["state_name"], "MQTT_CONNECT_FAILED");
    assert_eq!(fails[0].fields["ssl_error"], 54);
    assert_eq!(fails[0].fields["ssl_error_name"], "BR_ERR_X509_EXPIRED");
    assert!(fails[0].fix.as_deref().unwrap_or("").contains("NTP"));
    // Alert-number quirk (docs/DEVICE.md, "BearSSL error numbers"): 40 + alert
    // prefix = handshake_failure.
    assert_eq!(fails[1].fields["tls_alert"], 40);
    assert_eq!(fails[1].fields["tls_alert_name"], "handshake_failure");
    assert_eq!(fails[1].fields["tls_alert_direction"], "received");
    assert!(fails[1].fields.get("ssl_error_name").is_none());
    assert_eq!(
        fails[2].fields["state_name"],
        "MQTT_CONNECT_BAD_CREDENTIALS"
    );
    assert!(fails[2].fields.get("ssl_error_name").is_none());
    assert_eq!(
        status(&lines, "mqtt_lost")[0].fields["state_name"],
        "MQTT_CONNECTION_LOST"
    );

    let connecting = status(&lines, "mqtt_connecting");
    assert_eq!(connecting[0].severity, "info");
    assert_eq!(connecting[2].fields["heap"], 19800);
    assert_eq!(
        connecting[2].severity, "warning",
        "low heap before a handshake"
    );
    let connected = status(&lines, "mqtt_connected")[0];
    assert_eq!(connected.fields["mfln"], true);
    assert_eq!(connected.severity, "ok");
    assert_eq!(status(&lines, "subscribed")[0].fields["ok"], true);
    assert_eq!(status(&lines, "cmd")[0].fields["action"], "heartbeat");
    assert_eq!(status(&lines, "publish_failed")[0].fields["len"], 300);

    let unprov = status(&lines, "unprovisioned")[0];
    assert_eq!(unprov.fields["reason"], "bad_crc");
    assert_eq!(unprov.fields["sector"], "0xfb000");
    assert_eq!(unprov.severity, "error");
    assert!(unprov
        .fix
        .as_deref()
        .unwrap_or("")
        .contains("--config-only"));
}

#[test]
fn text_output_explains_under_each_line() {
    let env = Env::new();
    let emu = emulator(&env, "full.txt");
    let url = emu.url();
    let r = monitor_until(&env, &url, "unprovisioned").expect_exit(0);
    let out = &r.stdout;
    let line_then = |line: &str, expl: &str| {
        let i = out
            .find(line)
            .unwrap_or_else(|| panic!("no `{line}` in:\n{out}"));
        let next = &out[i..];
        let after = next.lines().nth(1).unwrap_or("");
        assert!(
            after.contains(expl),
            "under `{line}` expected `{expl}`, got `{after}`"
        );
    };
    line_then(
        "ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
        "reset cause 2 = external reset",
    );
    line_then("Exception (28):", "LoadProhibited");
    line_then("espmqtt: wifi_failed status=6", "WL_WRONG_PASSWORD");
    line_then("ssl_error=40", "TLS alert 40 = handshake_failure");
    line_then("ssl_error=54", "BR_ERR_X509_EXPIRED");
    line_then(
        "espmqtt: mqtt_failed state=4",
        "MQTT_CONNECT_BAD_CREDENTIALS",
    );
    assert!(out.contains("fix:"));

    let raw = monitor_until(&env, &url, "unprovisioned")
        .args(["--raw"])
        .expect_exit(0);
    assert!(!raw.stdout.contains("fix:"));
    assert!(raw.stdout.contains("espmqtt: wifi_failed status=6"));
}

#[test]
fn rom_messages_download_mode_and_crashes() {
    // A module strapped for download mode: banner (1,7), then the ROM lines of rom.txt.
    let opts = ConsoleOptions {
        boot_mode: (1, 7),
        rst_cause: 2,
        ..fast()
    };
    let server = ConsoleServer::start(read("rom.txt"), opts);
    let env = Env::new();
    let url = server.url();
    let r = monitor_until(&env, &url, "^epc1=").json().expect_exit(0);
    let (lines, _) = parse(&r.stdout);
    let banners: Vec<&Line> = lines.iter().filter(|l| l.kind == "rom_boot").collect();
    assert_eq!(banners[0].fields["download_mode"], true);
    assert!(banners[0]
        .summary
        .contains("this means the module is in download mode"));
    assert_eq!(banners[2].fields["rst_cause_name"], "watchdog");
    assert_eq!(banners[3].fields["boot_mode_name"], "sdio");
    assert!(lines
        .iter()
        .any(|l| l.text == "csum err" && l.severity == "error"));
    assert!(lines
        .iter()
        .any(|l| l.text.starts_with("flash read err") && l.severity == "error"));
    assert!(lines
        .iter()
        .any(|l| l.text == "Soft WDT reset" && l.kind == "crash"));
    let names: Vec<&str> = lines
        .iter()
        .filter(|l| l.kind == "exception")
        .filter_map(|l| l.fields["cause_name"].as_str())
        .collect();
    assert_eq!(
        names,
        [
            "IllegalInstruction",
            "LoadStoreAlignment",
            "LoadStoreError",
            "IntegerDivideByZero",
            "StoreProhibited"
        ]
    );
    let regs = lines
        .iter()
        .find(|l| l.kind == "exception_registers")
        .expect("regs");
    assert!(
        regs.fields.get("null_pointer").is_none(),
        "excvaddr is not near zero"
    );
}

#[test]
fn unreadable_bytes_are_reported() {
    let server = ConsoleServer::start(
        read("garbage.txt"),
        ConsoleOptions {
            banner: false,
            ..fast()
        },
    );
    let env = Env::new();
    let url = server.url();
    let r = monitor_until(&env, &url, "espmqtt: boot")
        .json()
        .expect_exit(0);
    let (lines, _) = parse(&r.stdout);
    assert_eq!(lines[0].kind, "garbage");
    assert!(lines[0].summary.contains("74880"));
    assert_eq!(lines[0].fields["hex"], "8cfe128061f06e0cc19e00fc8392");
    assert_eq!(lines.last().map(|l| l.kind.as_str()), Some("status"));
}

#[test]
fn timeout_exits_1_when_nothing_matches() {
    let env = Env::new();
    let emu = emulator(&env, "full.txt");
    let url = emu.url();
    let r = monitor(&env, &url)
        .args(["--until", "this never appears", "--timeout", "1"])
        .json()
        .expect_exit(1);
    let (lines, end) = parse(&r.stdout);
    assert_eq!(end.expect("end").outcome, "timed_out");
    assert!(lines.len() > 40, "the whole transcript was still printed");
}

#[test]
fn closed_console_before_match_exits_1_and_without_until_0() {
    let opts = ConsoleOptions {
        hold_open: false,
        ..fast()
    };
    let server = ConsoleServer::start(read("rom.txt"), opts);
    let env = Env::new();
    let url = server.url();
    monitor_until(&env, &url, "mqtt_connected").expect_exit(1);
    let r = monitor(&env, &url).args(["--timeout", "30"]).expect_exit(0);
    assert!(r.stdout.contains("Soft WDT reset"));
}

#[test]
fn missing_serial_port_exits_3() {
    let env = Env::new();
    let r = monitor(&env, "/dev/ttyDOESNOTEXIST0")
        .args(["--timeout", "1"])
        .expect_exit(3);
    assert!(r.stderr.contains("does not exist"), "{}", r.stderr);
    let v = monitor(&env, "/dev/ttyDOESNOTEXIST0")
        .json()
        .expect_exit(3)
        .json();
    assert_eq!(v["type"], "error");
}

#[test]
fn refused_socket_exits_3_and_bad_regex_exits_2() {
    let env = Env::new();
    let port = crate::support::free_port();
    monitor(&env, &format!("socket://127.0.0.1:{port}"))
        .args(["--timeout", "1"])
        .expect_exit(3);
    monitor(&env, "socket://127.0.0.1:1")
        .args(["--until", "(unclosed"])
        .expect_exit(2);
}

/// A minimal ESP8266 v1 image (`docs/DEVICE.md`, "Firmware image format"): header, segments, padding
/// to 15 mod 16, checksum byte.
fn esp_image(segs: &[(u32, Vec<u8>)]) -> Vec<u8> {
    let mut v = vec![0xE9, segs.len() as u8, 2, 0x20, 0, 0, 0x10, 0x40];
    let mut sum = 0xEFu8;
    for (addr, data) in segs {
        v.extend_from_slice(&addr.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(data);
        sum = data.iter().fold(sum, |a, b| a ^ b);
    }
    while v.len() % 16 != 15 {
        v.push(0);
    }
    v.push(sum);
    v
}

#[test]
fn emulator_rom_log_from_the_flash_image_is_decoded() {
    let env = Env::new();
    let good = esp_image(&[
        (0x4010_f000, vec![0x11; 3460]),
        (0x3fff_20b8, vec![0x22; 40]),
    ]);
    let mut bad = good.clone();
    bad[40] ^= 0x40;
    env.write("good.bin", &good);
    env.write("bad.bin", &bad);
    let console = transcript("full.txt");
    let console = console.to_str().expect("utf-8 path");

    let emu = Emulator::start(
        &env,
        &[
            "--boot-mode",
            "flash",
            "--image",
            "good.bin",
            "--console",
            console,
        ],
    );
    let url = emu.url();
    let r = monitor_until(&env, &url, "espmqtt: boot")
        .json()
        .expect_exit(0);
    let (lines, _) = parse(&r.stdout);
    let loads: Vec<&Line> = lines.iter().filter(|l| l.kind == "rom_load").collect();
    assert_eq!(loads.len(), 2, "{lines:#?}");
    assert_eq!(loads[0].fields["len"], 3460);
    assert_eq!(loads[0].fields["room"], 16);
    assert_eq!(loads[1].fields["region"], "DRAM");
    let csum = lines
        .iter()
        .find(|l| l.text.starts_with("csum"))
        .expect("csum line");
    assert_eq!(csum.severity, "info");
    assert!(
        lines.iter().all(|l| l.severity != "error"),
        "a good image boots cleanly"
    );
    drop(emu);

    let emu = Emulator::start(&env, &["--boot-mode", "flash", "--image", "bad.bin"]);
    let url = emu.url();
    let r = monitor_until(&env, &url, "csum err").json().expect_exit(0);
    let (lines, _) = parse(&r.stdout);
    let err = lines
        .iter()
        .find(|l| l.text == "csum err")
        .expect("csum err");
    assert_eq!(err.severity, "error");
    assert!(err.summary.contains("checksum does not match"));
}

/// A module in download mode prints nothing: the monitor says why.
#[test]
fn a_silent_module_gets_the_gpio0_hint() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let run = env.run(&["monitor", "--port", &emu.url(), "--timeout", "1"]);
    run.assert_code(1);
    assert!(run.all().contains("GPIO0"), "{}", run.all());
    let run = env.run(&[
        "monitor",
        "--port",
        &emu.url(),
        "--timeout",
        "1",
        "--format",
        "json",
    ]);
    run.assert_code(1);
    assert!(
        run.json_lines().iter().any(|l| l["type"] == "silent"),
        "{}",
        run.stdout
    );
}
