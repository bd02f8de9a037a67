//! Integration tests of the firmware's config-update logic
//! (firmware-template/espmqtt/config_update.cpp, the code the sketch runs),
//! compiled with the host g++ under ASan/UBSan: its own C++ sweeps
//! (tests/support/ota_sweep.cpp: every check, a corruption sweep of update
//! messages, a power-cut sweep over every flash step of stage, commit and
//! rollback), and `otaharness` driven with messages built here in Rust and
//! with the shared vectors in tests/data/updates/.

use std::path::Path;
use std::process::Command;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::support::firmware::{ota_sweep, otaharness, raw_blob, repo, s, SANITIZER_ENV};
use crate::support::Env;

/// Run `otaharness FLASH args…`: (exit code, stdout, stderr). A crash or a
/// sanitizer finding fails the test.
fn harness(flash: &Path, args: &[&str]) -> (i32, String, String) {
    let o = Command::new(otaharness())
        .arg(flash)
        .args(args)
        .envs(SANITIZER_ENV.iter().copied())
        .output()
        .expect("run otaharness");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let code = o.status.code().unwrap_or(-1);
    assert!(
        matches!(code, 0..=2),
        "otaharness {args:?} crashed or tripped a sanitizer ({code}):\n{err}"
    );
    (code, out, err)
}

/// The ack line `otaharness` printed (exit 0 required).
fn ack(flash: &Path, args: &[&str]) -> String {
    let (code, out, err) = harness(flash, args);
    assert_eq!(code, 0, "otaharness {args:?}: {err}");
    out.trim_end().to_string()
}

fn want(n: u32, result: &str, reason: &str) -> String {
    format!("{{\"update\":{n},\"result\":\"{result}\",\"reason\":\"{reason}\"}}")
}

fn key(start: u8) -> Vec<u8> {
    (0..32).map(|i| start.wrapping_add(i)).collect()
}

/// A blob for `client` with trust `trust` (2 fingerprint, 3 insecure), the
/// given config_version and update key (entries 22, 23).
fn blob(client: &str, ssid: &str, trust: u8, cv: u32, update_key: Option<&[u8]>) -> Vec<u8> {
    let mut e = vec![
        (1u8, s(ssid)),
        (3, s("broker.example")),
        (6, s(client)),
        (9, s("espmqtt")),
        (10, vec![trust]),
    ];
    if trust == 2 {
        e.push((11, vec![0x42; 20]));
    }
    e.push((22, cv.to_le_bytes().to_vec()));
    if let Some(k) = update_key {
        e.push((23, k.to_vec()));
    }
    raw_blob(1, &e)
}

/// An update message (CONFIG_FORMAT.md, "Update message").
fn message(client: &str, n: u32, blob: &[u8], key: &[u8]) -> Vec<u8> {
    let mut m = b"EMQU".to_vec();
    m.push(1);
    m.push(client.len() as u8);
    m.extend_from_slice(client.as_bytes());
    m.extend_from_slice(&n.to_le_bytes());
    m.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    m.extend_from_slice(blob);
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(&m);
    m.extend_from_slice(&mac.finalize().into_bytes());
    m
}

/// The C++ module's own tests, under ASan/UBSan: unit checks, the
/// corruption sweep and the power-cut sweep (which reports how many cut
/// points it enumerated).
#[test]
fn update_module_sweeps_pass_under_sanitizers() {
    let o = Command::new(ota_sweep())
        .arg("all")
        .envs(SANITIZER_ENV.iter().copied())
        .output()
        .expect("run ota-sweep");
    let out = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "ota-sweep failed:\n{out}\n{err}");
    let count = |prefix: &str| -> usize {
        let line = out
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no '{prefix}' line:\n{out}"));
        line.split(['(', ' '])
            .filter_map(|w| w.parse().ok())
            .next()
            .unwrap()
    };
    assert!(count("corrupt: ok") > 2000, "{out}");
    assert!(count("junk: ok") >= 1000, "{out}");
    let cuts = count("powercut: ok");
    assert!(cuts >= 150, "only {cuts} cut points:\n{out}");
    eprintln!("{out}");
}

/// `otaharness` against messages built here (Rust HMAC, raw blobs): the
/// whole life of an update and every rejection reason, per the CLI and ack
/// format of CONFIG_FORMAT.md.
#[test]
fn otaharness_stages_commits_rolls_back_and_rejects() {
    let env = Env::new();
    let dir = env.path();
    let k = key(0);
    let device = blob("sensor-001", "home", 2, 3, Some(&k));
    let flash = dir.join("flash.bin");
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let dev = write("device.bin", &device);
    let f = flash.to_str().unwrap();
    assert_eq!(harness(&flash, &["init", &dev]).0, 0);
    assert_eq!(std::fs::metadata(&flash).unwrap().len(), 8192);
    let boot = |expect_slot: &str, expect_state: &str| -> serde_json::Value {
        let line = ack(&flash, &["boot"]);
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["slot"], expect_slot, "{line}");
        assert_eq!(v["state"], expect_state, "{line}");
        v
    };
    let v = boot("A", "committed");
    assert_eq!(v["config"]["config_version"], 3);
    assert_eq!(v["config"]["update_key"], hex::encode(&k));

    let four = blob("sensor-001", "four", 2, 4, Some(&k));
    let rejected = [
        (vec![0u8; 4269], 0, "too_large"),
        (b"EMQX".to_vec(), 0, "bad_format"),
        (message("sensor-002", 4, &four, &k), 4, "wrong_client"),
        (message("sensor-001", 4, &four, &key(9)), 4, "bad_mac"),
        (message("sensor-001", 2, &four, &k), 2, "replayed"),
        (
            message("sensor-001", 4, &four[..four.len() - 1], &k),
            4,
            "bad_blob:truncated",
        ),
        (
            message(
                "sensor-001",
                4,
                &blob("sensor-009", "x", 2, 4, Some(&k)),
                &k,
            ),
            4,
            "blob_client_mismatch",
        ),
        (
            message("sensor-001", 4, &blob("sensor-001", "x", 2, 4, None), &k),
            4,
            "no_update_key_in_blob",
        ),
        (
            message(
                "sensor-001",
                4,
                &blob("sensor-001", "x", 3, 4, Some(&k)),
                &k,
            ),
            4,
            "no_trust",
        ),
    ];
    let before = std::fs::read(&flash).unwrap();
    for (i, (msg, n, reason)) in rejected.iter().enumerate() {
        let m = write(&format!("r{i}.msg"), msg);
        assert_eq!(
            ack(&flash, &["receive", "sensor-001", &m]),
            want(*n, "rejected", reason)
        );
        assert_eq!(
            std::fs::read(&flash).unwrap(),
            before,
            "{reason} wrote flash"
        );
    }
    // Not this device's topic: it never sees the message.
    let m4 = write("m4.msg", &message("sensor-001", 4, &four, &k));
    let (code, out, _) = harness(&flash, &["receive", "sensor-002", &m4]);
    assert_eq!((code, out.as_str()), (0, ""));

    // Staged, busy, tried, committed; the retained copy is answered with its state.
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m4]),
        want(4, "staged", "")
    );
    let m5 = write("m5.msg", &message("sensor-001", 5, &four, &k));
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m5]),
        want(5, "rejected", "busy")
    );
    boot("B", "staged");
    assert_eq!(ack(&flash, &["connect", "ok"]), want(4, "committed", ""));
    let v = boot("B", "committed");
    assert_eq!(v["config"]["wifi_ssid"], "four");
    // The retained copy, delivered again after the reconnect: no ack.
    assert_eq!(ack(&flash, &["receive", "sensor-001", &m4]), "");
    assert_eq!(ack(&flash, &["connect", "ok"]), "");
    // An empty payload (the retained update cleared): nothing.
    let empty_msg = write("empty.msg", b"");
    assert_eq!(ack(&flash, &["receive", "sensor-001", &empty_msg]), "");

    // Key rotation staged into slot A, then three failures: rolled back.
    let k2 = key(0x80);
    let five = blob("sensor-001", "five", 2, 5, Some(&k2));
    let m5 = write("m5b.msg", &message("sensor-001", 5, &five, &k));
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m5]),
        want(5, "staged", "")
    );
    boot("A", "staged");
    assert_eq!(ack(&flash, &["connect", "fail:wifi"]), "");
    assert_eq!(ack(&flash, &["connect", "fail:mqtt:5"]), "");
    assert_eq!(
        ack(&flash, &["connect", "fail:tls:62"]),
        want(5, "rolled_back", "tls:62")
    );
    let v = boot("B", "committed");
    assert_eq!(v["config"]["wifi_ssid"], "four");
    assert_eq!(ack(&flash, &["receive", "sensor-001", &m5]), "");
    // The rotated key never committed: the old one still authenticates.
    let six = blob("sensor-001", "six", 2, 6, Some(&k));
    let m6 = write("m6.msg", &message("sensor-001", 6, &six, &k2));
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m6]),
        want(6, "rejected", "bad_mac")
    );
    let m6 = write("m6.msg", &message("sensor-001", 6, &six, &k));
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m6]),
        want(6, "staged", "")
    );
    // The rolled-back number stays refused after its slot was reused.
    let m5c = write("m5c.msg", &message("sensor-001", 5, &six, &k));
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m5c]),
        want(5, "rejected", "replayed")
    );
    assert_eq!(ack(&flash, &["connect", "ok"]), want(6, "committed", ""));
    boot("A", "committed");

    // Usage and unusable flash.
    assert_eq!(harness(&flash, &["connect", "maybe"]).0, 2);
    assert_eq!(harness(&flash, &["frobnicate"]).0, 2);
    assert_eq!(harness(&flash, &["receive", "sensor-001"]).0, 2);
    let empty = dir.join("empty.bin");
    std::fs::write(&empty, vec![0xffu8; 8192]).unwrap();
    let (code, out, _) = harness(&empty, &["boot"]);
    assert_eq!(code, 1);
    assert!(out.contains("unprovisioned"), "{out}");
    let _ = f;
}

/// `device push --rotate-key` as the device sees it: update 4 carries a new
/// key and is MACed with the old one. After the commit the broker delivers
/// the retained update again (same session, and after every reconnect):
/// the device, now holding the new key, recognises it as the update it
/// committed (status line `duplicate`, no ack, nothing written) instead of
/// answering `bad_mac` over the retained `committed`. Nothing else gets past
/// without the new key.
#[test]
fn otaharness_rotated_key_redelivery_is_a_duplicate() {
    let env = Env::new();
    let dir = env.path();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let (k, k2) = (key(0), key(0x80));
    let flash = dir.join("flash.bin");
    let base = blob("sensor-001", "home", 2, 3, Some(&k));
    let dev = write("device.bin", &base);
    assert_eq!(harness(&flash, &["init", &dev]).0, 0);
    let four = blob("sensor-001", "four", 2, 4, Some(&k2));
    let m4 = write("m4.msg", &message("sensor-001", 4, &four, &k));
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m4]),
        want(4, "staged", "")
    );
    assert_eq!(ack(&flash, &["connect", "ok"]), want(4, "committed", ""));
    let v: serde_json::Value = serde_json::from_str(&ack(&flash, &["boot"])).unwrap();
    assert_eq!(v["state"], "committed");
    assert_eq!(v["config"]["update_key"], hex::encode(&k2));

    let duplicate = |m: &str, n: u32| {
        let before = std::fs::read(&flash).unwrap();
        let (code, out, err) = harness(&flash, &["receive", "sensor-001", m]);
        assert_eq!((code, out.as_str()), (0, ""), "{m}: {err}");
        assert!(
            err.contains(&format!("update result=duplicate number={n}")),
            "{m}: {err}"
        );
        assert_eq!(std::fs::read(&flash).unwrap(), before, "{m} wrote flash");
    };
    // The retained update, twice (two reconnects).
    duplicate(&m4, 4);
    duplicate(&m4, 4);
    // Same number and blob, a MAC of zeros: still only a duplicate.
    let mut zero_mac = message("sensor-001", 4, &four, &k);
    let l = zero_mac.len();
    zero_mac[l - 32..].fill(0);
    duplicate(&write("zero-mac.msg", &zero_mac), 4);
    // Anything else under the old key is bad_mac, with no write.
    let before = std::fs::read(&flash).unwrap();
    let other = blob("sensor-001", "fout", 2, 4, Some(&k2));
    let five = blob("sensor-001", "five", 2, 5, Some(&k2));
    for (name, msg, n) in [
        ("other-blob", message("sensor-001", 4, &other, &k), 4),
        ("next", message("sensor-001", 5, &five, &k), 5),
        ("base", message("sensor-001", 3, &base, &k), 3),
    ] {
        let m = write(&format!("{name}.msg"), &msg);
        assert_eq!(
            ack(&flash, &["receive", "sensor-001", &m]),
            want(n, "rejected", "bad_mac"),
            "{name}"
        );
        assert_eq!(std::fs::read(&flash).unwrap(), before, "{name} wrote flash");
    }
    // The next update under the new key applies; then it is the one
    // recognised, and update 4 (no longer committed nor latest) is not.
    let m5 = write("m5.msg", &message("sensor-001", 5, &five, &k2));
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m5]),
        want(5, "staged", "")
    );
    assert_eq!(ack(&flash, &["connect", "ok"]), want(5, "committed", ""));
    duplicate(&m5, 5);
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m4]),
        want(4, "rejected", "bad_mac")
    );
}

/// The shared vectors written by the Rust encoder (tests/data/updates/):
/// each CASE.msg fed to a device holding device.bin gives CASE.ack.
#[test]
fn shared_update_vectors_replay_through_otaharness() {
    let dir = repo().join("tests/data/updates");
    let device = dir.join("device.bin");
    if !device.exists() {
        eprintln!("{} not present yet; nothing to replay", dir.display());
        return;
    }
    let env = Env::new();
    let flash = env.path().join("flash.bin");
    let mut cases: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "msg"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "only {} cases", cases.len());
    for msg in &cases {
        let name = msg.file_stem().unwrap().to_string_lossy().to_string();
        let expected = std::fs::read_to_string(msg.with_extension("ack"))
            .unwrap_or_else(|_| panic!("{name}: no .ack"));
        assert_eq!(harness(&flash, &["init", device.to_str().unwrap()]).0, 0);
        let got = ack(&flash, &["receive", "sensor-001", msg.to_str().unwrap()]);
        assert_eq!(got, expected.trim_end(), "{name}");
    }
}

/// `flash --read-config` on an emulated 1 MB module whose two slots went
/// through otaharness: update 4 committed in slot B, update 5 staged in
/// slot A. Both copies are shown with their state; the running one is the
/// staged config, secrets redacted.
#[test]
fn read_config_shows_both_slots() {
    use crate::support::emulator::Emulator;
    let env = Env::new();
    let dir = env.path();
    let k = key(0);
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_str().unwrap().to_string()
    };
    let flash = dir.join("slots.bin");
    let dev = write("device.bin", &blob("sensor-001", "home", 2, 3, Some(&k)));
    assert_eq!(harness(&flash, &["init", &dev]).0, 0);
    let m4 = write(
        "m4.msg",
        &message(
            "sensor-001",
            4,
            &blob("sensor-001", "four", 2, 4, Some(&k)),
            &k,
        ),
    );
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m4]),
        want(4, "staged", "")
    );
    assert_eq!(ack(&flash, &["connect", "ok"]), want(4, "committed", ""));
    let m5 = write(
        "m5.msg",
        &message(
            "sensor-001",
            5,
            &blob("sensor-001", "five", 2, 5, Some(&k)),
            &k,
        ),
    );
    assert_eq!(
        ack(&flash, &["receive", "sensor-001", &m5]),
        want(5, "staged", "")
    );

    let mut image = vec![0xffu8; 0x100000];
    image[0xFA000..0xFC000].copy_from_slice(&std::fs::read(&flash).unwrap());
    let img = write("image.bin", &image);
    let emu = Emulator::start(
        &env,
        &[
            "--baud-model",
            "off",
            "--flash-size",
            "1MB",
            "--image",
            &img,
        ],
    );
    let (run, v) = env.run_json(&[
        "flash",
        "--port",
        &emu.url(),
        "--read-config",
        "--after",
        "no-reset",
    ]);
    run.assert_code(0);
    assert_eq!(v["slot"], "A", "{v}");
    assert_eq!(v["offset"], 0xFB000);
    assert_eq!(v["config"]["wifi_ssid"], "five");
    assert_eq!(v["config"]["config_version"], 5);
    assert_eq!(v["config"]["update_key"], "<redacted>");
    let slots = v["slots"].as_array().unwrap();
    assert_eq!(slots[0]["slot"], "A");
    assert_eq!(slots[0]["state"], "staged");
    assert_eq!(slots[0]["active"], true);
    assert_eq!(slots[0]["update"], 5);
    assert_eq!(slots[1]["slot"], "B");
    assert_eq!(slots[1]["offset"], 0xFA000);
    assert_eq!(slots[1]["state"], "committed");
    assert_eq!(slots[1]["update"], 4);
    assert_eq!(slots[1]["tries"], 1);
    assert!(!run.stdout.contains(&hex::encode(&k)));
    // Text form names both.
    let r = env.run(&[
        "flash",
        "--port",
        &emu.url(),
        "--read-config",
        "--after",
        "no-reset",
    ]);
    r.assert_code(0);
    assert!(
        r.stdout
            .contains("slot A at 0xfb000: staged, update 5 (running)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("slot B at 0xfa000: committed, update 4"),
        "{}",
        r.stdout
    );
}
