//! Integration tests: `espmqtt flash` and `espmqtt ports` against
//! `espmqtt emulate` on loopback, cross-checked with esptool where it is
//! installed (docs/TESTING.md, "Real peers and what they check").

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use crate::support::emulator::Emulator;
use crate::support::{have, Env};

/// Firmware-like bytes: a v1 header, then noise mixed with repeated text.
fn image(len: usize, seed: u32) -> Vec<u8> {
    let mut out = vec![0xE9, 0x01, 0x02, 0x20, 0, 0, 0, 0];
    let mut x = seed.wrapping_mul(2654435761).wrapping_add(1);
    while out.len() < len {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        if x >> 31 == 0 {
            for _ in 0..(x >> 24) % 64 + 8 {
                x = x.wrapping_mul(1103515245).wrapping_add(12345);
                out.push((x >> 16) as u8);
            }
        } else {
            out.extend_from_slice(b"mqtt.publish(topic, payload); ");
        }
    }
    out.truncate(len);
    out
}

fn write_image(env: &Env, name: &str, data: impl AsRef<[u8]>) -> PathBuf {
    env.write(name, data)
}

/// `esptool read-flash` through the emulator (stub; the ESP8266 ROM cannot read).
fn esptool_read(env: &Env, url: &str, len: usize) -> Option<Vec<u8>> {
    if !have("esptool") {
        eprintln!("esptool not installed; skipping the esptool cross-check");
        return None;
    }
    let out = env.path().join("readback.bin");
    let st = Command::new("timeout")
        .args([
            "120", "esptool", "--port", url, "--before", "no-reset", "--after", "no-reset",
        ])
        .args(["read-flash", "0", &len.to_string()])
        .arg(&out)
        .output()
        .expect("run esptool");
    assert!(
        st.status.success(),
        "esptool read-flash failed:\n{}\n{}",
        String::from_utf8_lossy(&st.stdout),
        String::from_utf8_lossy(&st.stderr)
    );
    Some(std::fs::read(out).expect("read-flash output"))
}

fn flash_json(env: &Env, args: &[&str]) -> (crate::support::Run, serde_json::Value) {
    let mut a = vec!["flash", "--after", "no-reset"];
    a.extend_from_slice(args);
    env.run_json(&a)
}

fn full_flash_then_skip(no_stub: bool) {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--flash-size", "1MB"]);
    let fw = image(1 << 20, 7);
    let path = write_image(&env, "fw.bin", &fw);
    let url = emu.url();
    let mut args = vec!["--port", url.as_str(), "--firmware", path.to_str().unwrap()];
    if no_stub {
        args.push("--no-stub");
    }
    let (run, v) = flash_json(&env, &args);
    run.assert_code(0);
    assert_eq!(v["verified"], true);
    assert_eq!(v["regions"][0]["action"], "written");
    assert_eq!(v["module"]["chip"], "ESP8266");
    assert_eq!(v["module"]["flash_size"], 1 << 20);
    if let Some(back) = esptool_read(&env, &url, fw.len()) {
        assert!(back == fw, "esptool read-flash differs from the image");
    }
    // Same arguments again (ROM path included): nothing is written.
    let (run, v) = flash_json(&env, &args);
    run.assert_code(0);
    assert_eq!(v["regions"][0]["action"], "skipped", "{v}");
    assert_eq!(v["regions"][0]["sent"], 0);
}

#[test]
fn stub_flash_reads_back_and_second_flash_skips() {
    full_flash_then_skip(false);
}

#[test]
fn rom_flash_reads_back_and_second_flash_skips() {
    full_flash_then_skip(true);
}

#[test]
fn no_sync_exits_3_with_esp07_wiring() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--no-sync"]);
    let fw = write_image(&env, "fw.bin", image(4096, 1));
    let run = env.run(&[
        "flash",
        "--port",
        &emu.url(),
        "--firmware",
        fw.to_str().unwrap(),
    ]);
    run.assert_code(3);
    let all = run.all();
    for needle in ["GPIO0", "GPIO15", "EN", "74880", "boot mode"] {
        assert!(all.contains(needle), "missing `{needle}` in:\n{all}");
    }
}

#[test]
fn esp32_is_refused_by_name() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--chip", "esp32"]);
    let fw = write_image(&env, "fw.bin", image(4096, 1));
    let run = env.run(&[
        "flash",
        "--port",
        &emu.url(),
        "--firmware",
        fw.to_str().unwrap(),
    ]);
    run.assert_code(1);
    assert!(run.stderr.contains("ESP32"), "{}", run.stderr);
    assert!(run.stderr.contains("not an ESP8266"), "{}", run.stderr);
}

#[test]
fn header_patch_and_size_warning() {
    let env = Env::new();
    // 4 MB module, image header says 1 MB.
    let emu = Emulator::start(&env, &["--baud-model", "off", "--flash-size", "4MB"]);
    let fw = write_image(&env, "fw.bin", image(8192, 3));
    let (run, v) = flash_json(
        &env,
        &["--port", &emu.url(), "--firmware", fw.to_str().unwrap()],
    );
    run.assert_code(0);
    let w = v["warnings"].to_string();
    assert!(w.contains("1MB") && w.contains("4MB"), "{w}");
}

/// Fault kinds × positions: every run either verifies (and the emulator's
/// flash holds the image) or fails with exit 1 or 3. Never 0 with bad flash.
#[test]
fn faults_never_yield_a_false_success() {
    let fw = image(64 * 1024, 11);
    let mut specs: Vec<String> = Vec::new();
    for n in [1, 4, 9, 14, 20, 27, 35, 44, 52, 60] {
        specs.push(format!("drop-reply:{n}"));
        specs.push(format!("corrupt-reply:{n}"));
    }
    for n in [1, 2, 3, 4] {
        specs.push(format!("drop-reply:{n}@flash-defl-data"));
        specs.push(format!("corrupt-reply:{n}@spi-flash-md5"));
        specs.push(format!("bad-checksum:{n}"));
        specs.push(format!("flip-bit:{n}"));
        specs.push(format!("stall:{n}@flash-defl-data:300"));
    }
    for n in [2, 40] {
        specs.push(format!("stall:{n}"));
    }
    for bytes in [30, 500, 5_000, 12_000, 20_000, 40_000, 60_000] {
        specs.push(format!("close-after:{bytes}"));
    }
    // The ROM path (--no-stub): ROM writes, then stub MD5 verification.
    for n in [1, 3, 20] {
        specs.push(format!("rom drop-reply:{n}@flash-data"));
        specs.push(format!("rom bad-checksum:{n}@flash-data"));
        specs.push(format!("rom flip-bit:{n}"));
        specs.push(format!("rom corrupt-reply:{n}@spi-flash-md5"));
    }
    for bytes in [2_000, 30_000, 70_000] {
        specs.push(format!("rom close-after:{bytes}"));
    }
    let specs = std::sync::Mutex::new(specs);
    let failures = std::sync::Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| loop {
                let Some(spec) = specs.lock().unwrap().pop() else {
                    break;
                };
                if let Some(f) = run_fault(&spec, &fw) {
                    failures.lock().unwrap().push(f);
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn run_fault(spec: &str, fw: &[u8]) -> Option<String> {
    let env = Env::new();
    let (rom, fault) = match spec.strip_prefix("rom ") {
        Some(f) => (true, f),
        None => (false, spec),
    };
    let emu = Emulator::start(&env, &["--baud-model", "off", "--fault", fault]);
    let path = write_image(&env, "fw.bin", fw);
    let url = emu.url();
    let mut args = vec![
        "flash",
        "--port",
        &url,
        "--firmware",
        path.to_str().unwrap(),
        "--after",
        "no-reset",
    ];
    if rom {
        args.push("--no-stub");
    }
    let run = env.run(&args);
    eprintln!("fault {spec}: exit {}", run.code);
    match run.code {
        0 => {
            // The emulator saves its flash before reporting the disconnect.
            emu.wait_disconnected(1, Duration::from_secs(10));
            let saved = std::fs::read(emu.save_path().unwrap()).unwrap_or_default();
            if saved.get(..fw.len()) != Some(fw) {
                return Some(format!("{spec}: exit 0 but flash differs\n{}", run.stderr));
            }
            None
        }
        1 | 3 => None,
        c => Some(format!("{spec}: exit {c}\n{}\n{}", run.stdout, run.stderr)),
    }
}

#[test]
fn nothing_to_write_is_a_usage_error() {
    let env = Env::new();
    env.run(&["flash", "--port", "socket://127.0.0.1:9"])
        .assert_code(2);
}

#[test]
fn ports_json_lists_and_auto_select_explains() {
    let env = Env::new();
    let (run, v) = env.run_json(&["ports"]);
    run.assert_code(0);
    let ports = v["ports"].as_array().expect("ports array");
    if ports.is_empty() {
        let fw = write_image(&env, "fw.bin", image(4096, 1));
        let run = env.run(&["flash", "--firmware", fw.to_str().unwrap()]);
        run.assert_code(3);
        assert!(run.stderr.contains("plug in"), "{}", run.stderr);
    }
}

fn project(env: &Env) {
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"broker.example.com\"\nport = 8883\n[wifi]\nssid = \"lab\"\npassword = \"wifi-secret-1\"\n\
         [tls]\ntrust = \"fingerprint\"\nfingerprints = [\"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\"]\n\
         [board]\nname = \"esp07\"\n",
    );
    env.run(&["device", "new", "sensor-1"]).assert_code(0);
}

/// Issue 6 acceptance 3: `--device X` then `--read-config` gives the registry's config.
#[test]
fn device_config_round_trip_and_registry_record() {
    let env = Env::new();
    project(&env);
    let emu = Emulator::start(&env, &["--baud-model", "off", "--flash-size", "1MB"]);
    let fw = write_image(&env, "fw.bin", image(32 * 1024, 5));
    let url = emu.url();
    let (run, v) = flash_json(
        &env,
        &[
            "--port",
            &url,
            "--firmware",
            fw.to_str().unwrap(),
            "--device",
            "sensor-1",
        ],
    );
    run.assert_code(0);
    assert_eq!(v["registry_updated"], true);
    assert_eq!(v["regions"][1]["label"], "config");
    assert_eq!(v["regions"][1]["offset"], 0xFB000);
    assert!(!run.stdout.contains("wifi-secret-1"));

    let (run, back) = env.run_json(&[
        "flash",
        "--port",
        &url,
        "--read-config",
        "--after",
        "no-reset",
    ]);
    run.assert_code(0);
    assert_eq!(back["config"]["device_name"], "sensor-1");
    assert_eq!(back["config"]["wifi_ssid"], "lab");
    assert_eq!(back["config"]["wifi_password"], "<redacted>");
    assert!(!run.stdout.contains("wifi-secret-1"));

    let (run, full) = env.run_json(&[
        "flash",
        "--port",
        &url,
        "--read-config",
        "--show-secrets",
        "--after",
        "no-reset",
    ]);
    run.assert_code(0);
    assert_eq!(full["config"]["wifi_password"], "wifi-secret-1");
    let (_, dev) = env.run_json(&["device", "show", "sensor-1", "--show-secrets"]);
    let devtext = dev.to_string();
    assert!(
        devtext.contains("5c:cf:7f:c8:cd:8d"),
        "MAC not recorded: {devtext}"
    );
    let secret = full["config"]["password"].as_str().unwrap_or_default();
    assert!(
        !secret.is_empty() && devtext.contains(secret),
        "blob password differs from registry"
    );
}

/// Issue 6 acceptance 4, registry half: a failed flash records nothing.
#[test]
fn failed_flash_leaves_registry_untouched() {
    let env = Env::new();
    project(&env);
    let emu = Emulator::start(
        &env,
        &["--baud-model", "off", "--fault", "close-after:20000"],
    );
    let fw = write_image(&env, "fw.bin", image(64 * 1024, 9));
    let run = env.run(&[
        "flash",
        "--port",
        &emu.url(),
        "--firmware",
        fw.to_str().unwrap(),
        "--device",
        "sensor-1",
    ]);
    assert!(run.code == 1 || run.code == 3, "{}", run.all());
    let (_, dev) = env.run_json(&["device", "show", "sensor-1"]);
    assert!(
        !dev.to_string().contains("5c:cf:7f"),
        "registry changed: {dev}"
    );
}

/// Durations that used to panic in `Duration::from_secs_f64` are usage errors.
#[test]
fn hostile_durations_exit_2() {
    let env = Env::new();
    for args in [
        &["--wait", "--poll", "nan"][..],
        &["--wait", "--poll", "1e300"],
        &["--wait", "--wait-timeout", "1e300"],
        &["--wait", "--poll", "-1"],
    ] {
        let mut a = vec!["flash", "--port", "socket://127.0.0.1:9", "--devices", "a"];
        a.extend_from_slice(args);
        let run = env.run(&a);
        run.assert_code(2);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
    let run = env.run(&[
        "monitor",
        "--port",
        "socket://127.0.0.1:9",
        "--timeout",
        "nan",
    ]);
    run.assert_code(2);
}

/// An ELF file is refused with directions to the .bin; a file without the
/// image header needs --force; a missing file is an I/O error (exit 4).
#[test]
fn firmware_files_are_checked_before_connecting() {
    let env = Env::new();
    let elf = env.write("sketch.ino.elf", b"\x7fELF\x01\x01\x01\0rest of an elf");
    let run = env.run(&[
        "flash",
        "--port",
        "socket://127.0.0.1:9",
        "--firmware",
        elf.to_str().unwrap(),
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("ELF") && run.stderr.contains(".bin"),
        "{}",
        run.stderr
    );
    let raw = env.write("dump.bin", vec![0x55u8; 4096]);
    let run = env.run(&[
        "flash",
        "--port",
        "socket://127.0.0.1:9",
        "--firmware",
        raw.to_str().unwrap(),
    ]);
    run.assert_code(2);
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    let run = env.run(&[
        "flash",
        "--port",
        "socket://127.0.0.1:9",
        "--firmware",
        "missing.bin",
    ]);
    run.assert_code(4);

    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let (run, v) = flash_json(
        &env,
        &[
            "--port",
            &emu.url(),
            "--firmware",
            raw.to_str().unwrap(),
            "--force",
        ],
    );
    run.assert_code(0);
    assert_eq!(v["verified"], true);
}

/// `--config-only --device B` on a module bound to A is refused unless
/// --rebind, as fleet flashing refuses it; the chip line comes first.
#[test]
fn a_bound_module_is_not_rebound_silently() {
    let env = Env::new();
    project(&env);
    env.run(&["device", "new", "sensor-2"]).assert_code(0);
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let url = emu.url();
    let run = env.run(&[
        "flash",
        "--port",
        &url,
        "--device",
        "sensor-1",
        "--config-only",
        "--after",
        "no-reset",
    ]);
    run.assert_code(0);
    assert!(
        run.stdout.starts_with("ESP8266 on socket://"),
        "chip line first: {}",
        run.stdout
    );
    let args = [
        "flash",
        "--port",
        &url,
        "--device",
        "sensor-2",
        "--config-only",
        "--after",
        "no-reset",
    ];
    let run = env.run(&args);
    run.assert_code(2);
    assert!(
        run.stderr.contains("bound to device `sensor-1`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--rebind"), "{}", run.stderr);
    let (_, one) = env.run_json(&["device", "show", "sensor-1"]);
    assert_eq!(one["mac"], "5c:cf:7f:c8:cd:8d", "{one}");

    let mut rebind = args.to_vec();
    rebind.push("--rebind");
    let (run, v) = env.run_json(&rebind);
    run.assert_code(0);
    assert_eq!(v["rebound_from"], "sensor-1");
    let (_, one) = env.run_json(&["device", "show", "sensor-1"]);
    assert!(one["mac"].is_null(), "{one}");
    let (_, two) = env.run_json(&["device", "show", "sensor-2"]);
    assert_eq!(two["mac"], "5c:cf:7f:c8:cd:8d", "{two}");
}

/// `--config-only` is written by the ROM alone (no stub upload) when the
/// model says it is cheaper, says so in JSON and with -v, and the blob reads
/// back; `--path stub` still gives the MD5-verified stub write.
#[test]
fn config_only_takes_the_rom_path_and_reads_back() {
    let env = Env::new();
    project(&env);
    let emu = Emulator::start(&env, &["--baud-model", "off", "--flash-size", "1MB"]);
    let url = emu.url();
    let base = [
        "--port",
        url.as_str(),
        "--device",
        "sensor-1",
        "--config-only",
    ];
    let (run, v) = flash_json(&env, &base);
    run.assert_code(0);
    assert_eq!(v["path"]["chosen"], "rom", "{v}");
    assert_eq!(v["path"]["requested"], "auto", "{v}");
    assert!(
        v["path"]["rom_seconds"].as_f64().unwrap() < v["path"]["stub_seconds"].as_f64().unwrap(),
        "{v}"
    );
    assert_eq!(v["path"]["rom_also_erases"][0], "0x0fc000..0x0fd000", "{v}");
    assert_eq!(v["stub"], false);
    assert_eq!(v["regions"][0]["verify"], "rom-readback", "{v}");
    assert_eq!(v["registry_updated"], true);
    let (run, back) = env.run_json(&[
        "flash",
        "--port",
        &url,
        "--read-config",
        "--after",
        "no-reset",
    ]);
    run.assert_code(0);
    assert_eq!(back["config"]["device_name"], "sensor-1");

    let mut text = vec!["flash", "--after", "no-reset", "-v"];
    text.extend_from_slice(&base);
    let run = env.run(&text);
    run.assert_code(0);
    assert!(
        run.stderr.contains("write path: ROM loader"),
        "{}",
        run.stderr
    );
    assert!(
        run.stdout.contains("verified block by block by the ROM"),
        "{}",
        run.stdout
    );

    let mut stub = base.to_vec();
    stub.extend_from_slice(&["--path", "stub", "--force"]);
    let (run, v) = flash_json(&env, &stub);
    run.assert_code(0);
    assert_eq!(v["path"]["chosen"], "stub", "{v}");
    assert_eq!(v["stub"], true);
    assert_eq!(v["regions"][0]["verify"], "md5", "{v}");
    let run = env.run(&[
        "flash",
        "--port",
        &url,
        "--no-stub",
        "--path",
        "rom",
        "--device",
        "sensor-1",
    ]);
    run.assert_code(2);
}

/// Faults on the ROM-only path: every run either leaves the blob in flash
/// or fails; the ROM's read-back (0x08) catches a bit that did not program.
#[test]
fn config_only_rom_path_faults_never_yield_a_false_success() {
    let mut specs = Vec::new();
    for n in [1, 2] {
        specs.push(format!("bad-checksum:{n}@flash-data"));
        specs.push(format!("drop-reply:{n}@flash-data"));
        specs.push(format!("corrupt-reply:{n}@flash-data"));
        specs.push(format!("flip-bit:{n}"));
        specs.push(format!("drop-reply:{n}@flash-begin"));
        specs.push(format!("stall:{n}@flash-data:300"));
    }
    for bytes in [300, 1_500, 2_500] {
        specs.push(format!("close-after:{bytes}"));
    }
    let mut failures = Vec::new();
    for spec in &specs {
        let env = Env::new();
        project(&env);
        let blob = env.path().join("blob.bin");
        env.run(&[
            "device",
            "config",
            "sensor-1",
            "--out",
            blob.to_str().unwrap(),
        ])
        .assert_code(0);
        let blob = std::fs::read(&blob).unwrap();
        let emu = Emulator::start(&env, &["--baud-model", "off", "--fault", spec]);
        let url = emu.url();
        let (run, v) = flash_json(
            &env,
            &["--port", &url, "--device", "sensor-1", "--config-only"],
        );
        eprintln!("fault {spec}: exit {} {}", run.code, v["path"]["chosen"]);
        match run.code {
            0 => {
                assert_eq!(v["path"]["chosen"], "rom", "{spec}: {v}");
                emu.wait_disconnected(1, Duration::from_secs(10));
                let saved = std::fs::read(emu.save_path().unwrap()).unwrap_or_default();
                if saved.get(0xFB000..0xFB000 + blob.len()) != Some(&blob[..]) {
                    failures.push(format!(
                        "{spec}: exit 0 but the blob differs\n{}",
                        run.stderr
                    ));
                }
            }
            1 | 3 => {}
            c => failures.push(format!("{spec}: exit {c}\n{}", run.stderr)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
