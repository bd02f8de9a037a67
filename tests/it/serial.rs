//! Integration tests: `flash`, `monitor` and a fleet run through real
//! serial plumbing — a pty made by socat in front of `espmqtt emulate` (the
//! local tty code path, a port without DTR/RTS) and ser2net serving that pty
//! over RFC 2217 (`rfc2217://`), as a Raspberry Pi on a bench would.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::emulator::Emulator;
use crate::support::serial::{tools_present, PtyBridge, Ser2net};
use crate::support::Env;

/// A valid-looking ESP8266 image: header, then noise and text.
fn image(len: usize) -> Vec<u8> {
    let mut out = vec![0xE9, 0x01, 0x02, 0x20, 0, 0, 0, 0];
    let mut x = 0x2545_F491u32;
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if x.is_multiple_of(3) {
            out.extend_from_slice(b"PubSubClient::connect ");
        } else {
            out.extend_from_slice(&x.to_le_bytes());
        }
    }
    // Bytes the Telnet layer must escape or pass untouched.
    out[100..108].copy_from_slice(&[0xFF, 0xFF, 0x0D, 0x00, 0x0D, 0x0A, 0xFF, 0xF0]);
    out.truncate(len);
    out
}

fn project(env: &Env, devices: &[&str]) {
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"broker.example.com\"\nport = 8883\n[wifi]\nssid = \"lab\"\n\
         password = \"wifi-secret-1\"\n[tls]\ntrust = \"fingerprint\"\n\
         fingerprints = [\"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\"]\n\
         [board]\nname = \"esp07\"\n",
    );
    let mut args = vec!["device", "new"];
    args.extend_from_slice(devices);
    env.run(&args).assert_code(0);
}

fn console(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/console")
        .join(name)
}

#[test]
fn flash_and_read_back_through_a_pty_and_ser2net() {
    if !tools_present() {
        return;
    }
    let env = Env::new();
    project(&env, &["sensor-1"]);
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let pty = PtyBridge::start(&env, "ttyV0", emu.addr);
    let fw = env.write("fw.bin", image(48 * 1024));

    // The real tty code path: a pty has no modem lines (TIOCMBIS: ENOTTY).
    pty.take();
    let run = env.run(&[
        "flash",
        "--port",
        pty.path(),
        "--firmware",
        fw.to_str().unwrap(),
        "--device",
        "sensor-1",
    ]);
    run.assert_code(0);
    assert!(run.stdout.starts_with("ESP8266 on "), "{}", run.stdout);
    assert_eq!(
        run.stderr.matches("cannot drive DTR/RTS").count(),
        1,
        "said once: {}",
        run.stderr
    );
    assert!(run.stderr.contains("ENOTTY"), "{}", run.stderr);

    // The same pty behind ser2net's RFC 2217: read the config back.
    let s2n = Ser2net::start(&env, &pty);
    pty.take();
    let (run, v) = env.run_json(&["flash", "--port", &s2n.url(), "--read-config"]);
    run.assert_code(0);
    assert_eq!(v["config"]["device_name"], "sensor-1");
    assert_eq!(
        run.stderr.matches("cannot drive DTR/RTS").count(),
        0,
        "JSON mode keeps stderr quiet: {}",
        run.stderr
    );

    // Rewriting over RFC 2217: unchanged regions are skipped (MD5 on the
    // module, through the Telnet layer), --force writes them again.
    pty.take();
    let (run, v) = env.run_json(&[
        "flash",
        "--port",
        &s2n.url(),
        "--firmware",
        fw.to_str().unwrap(),
        "--device",
        "sensor-1",
        "--force",
    ]);
    run.assert_code(0);
    assert_eq!(v["verified"], true);
    assert_eq!(v["regions"][0]["action"], "written");
    let warnings = v["warnings"].to_string();
    assert!(warnings.contains("cannot drive DTR/RTS"), "{warnings}");
    drop(pty);
    assert!(emu.wait_disconnected(3, Duration::from_secs(10)));
    let flash = emu.saved_flash();
    let fw_bytes = std::fs::read(&fw).unwrap();
    assert_eq!(&flash[..fw_bytes.len()], &fw_bytes[..]);
}

#[test]
fn monitor_through_a_pty_and_ser2net() {
    if !tools_present() {
        return;
    }
    let env = Env::new();
    let transcript = console("full.txt");
    let emu = Emulator::console(&env, &transcript);
    let pty = PtyBridge::start(&env, "ttyV0", emu.addr);
    pty.take();
    let run = env.run(&[
        "monitor",
        "--port",
        pty.path(),
        "--until",
        "unprovisioned",
        "--timeout",
        "30",
    ]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("espmqtt: boot fw=0.1.0"),
        "{}",
        run.stdout
    );

    let s2n = Ser2net::start(&env, &pty);
    pty.take();
    let run = env.run(&[
        "monitor",
        "--port",
        &s2n.url(),
        "--reset",
        "--until",
        "unprovisioned",
        "--timeout",
        "30",
    ]);
    run.assert_code(0);
    assert!(run.stdout.contains("unprovisioned"), "{}", run.stdout);
    // ser2net cannot drive the lines of a pty: said once, then monitored.
    assert_eq!(
        run.stderr.matches("cannot drive DTR/RTS").count(),
        1,
        "{}",
        run.stderr
    );
}

#[test]
fn fleet_through_ser2net_and_a_pty() {
    if !tools_present() {
        return;
    }
    let env = Env::new();
    project(&env, &["f-001", "f-002"]);
    let a = Emulator::start(
        &env,
        &[
            "--baud-model",
            "off",
            "--mac",
            "5c:cf:7f:00:00:01",
            "--save",
            "a.bin",
        ],
    );
    let b = Emulator::start(
        &env,
        &[
            "--baud-model",
            "off",
            "--mac",
            "5c:cf:7f:00:00:02",
            "--save",
            "b.bin",
        ],
    );
    let pty_a = PtyBridge::start(&env, "ttyA", a.addr);
    let pty_b = PtyBridge::start(&env, "ttyB", b.addr);
    let s2n = Ser2net::start(&env, &pty_b);
    let fw = env.write("fw.bin", image(16 * 1024));
    let t0 = Instant::now();
    let run = env.run(&[
        "flash",
        "--port",
        pty_a.path(),
        "--port",
        &s2n.url(),
        "--devices",
        "f-001..f-002",
        "--firmware",
        fw.to_str().unwrap(),
        "--format",
        "json",
    ]);
    run.assert_code(0);
    let lines = run.json_lines();
    let summary = lines.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["flashed"].as_array().unwrap().len(), 2, "{summary}");
    let ports: Vec<String> = lines
        .iter()
        .filter(|l| l["type"] == "flashed")
        .map(|l| l["port"].as_str().unwrap().to_string())
        .collect();
    assert!(
        ports.iter().any(|p| p.starts_with("rfc2217://")),
        "{ports:?}"
    );
    assert!(ports.iter().any(|p| p.ends_with("ttyA")), "{ports:?}");
    assert!(t0.elapsed() < Duration::from_secs(30));
}

#[test]
fn rfc2217_to_a_raw_socket_says_to_use_socket() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let t0 = Instant::now();
    let run = env.run(&[
        "flash",
        "--port",
        &format!("rfc2217://{}", emu.addr),
        "--read-config",
    ]);
    run.assert_code(3);
    assert!(run.stderr.contains("socket://"), "{}", run.stderr);
    assert!(t0.elapsed() < Duration::from_secs(10));
}

#[test]
fn bad_port_urls_are_usage_errors() {
    let env = Env::new();
    for bad in [
        "socket://127.0.0.1",
        "rfc2217://127.0.0.1:0",
        "rfc2217://h:1?timeout=2",
        "telnet://h:23",
    ] {
        let run = env.run(&["flash", "--port", bad, "--read-config"]);
        run.assert_code(2);
        let run = env.run(&["monitor", "--port", bad, "--timeout", "1"]);
        run.assert_code(2);
    }
}
