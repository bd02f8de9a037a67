//! Integration tests: a demanding user's walk through `espmqtt flash` with
//! mistakes and faults (wrong port, a port that is not an ESP, an image for a
//! bigger flash, a network port closed under the flasher, Ctrl-C in a fleet),
//! against `espmqtt emulate` and plain TCP servers on loopback.

use std::path::Path;

use crate::support::emulator::Emulator;
use crate::support::{free_port, Env};

/// Firmware-like bytes: a v1 header whose size nibble is `size_nibble`.
fn image(len: usize, size_nibble: u8) -> Vec<u8> {
    let mut out = vec![0xE9, 0x01, 0x02, size_nibble << 4, 0, 0, 0, 0];
    let mut x: u32 = 12345;
    while out.len() < len {
        x = x.wrapping_mul(1103515245).wrapping_add(12345);
        out.push((x >> 16) as u8);
    }
    out
}

/// `flash --port PORT --firmware FW`.
fn flash_fw<'a>(port: &'a str, fw: &'a Path) -> Vec<&'a str> {
    vec![
        "flash",
        "--port",
        port,
        "--firmware",
        fw.to_str().expect("a UTF-8 path"),
    ]
}

/// Nothing listening: the reason is in words, without `(os error N)`.
#[test]
fn refused_connection_is_said_in_words() {
    let env = Env::new();
    let fw = env.write("fw.bin", image(4096, 2));
    let port = free_port();
    let url = format!("socket://127.0.0.1:{port}");
    let run = env.run(&["flash", "--port", &url, "--firmware", fw.to_str().unwrap()]);
    run.assert_code(3);
    assert!(!run.stderr.contains("os error"), "{}", run.stderr);
    assert!(
        run.stderr.contains("nothing is listening"),
        "{}",
        run.stderr
    );
}

/// A TCP echo server on `127.0.0.1`: what an adapter with TX joined to RX does.
fn echo_server() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for mut s in l.incoming().flatten() {
            std::thread::spawn(move || {
                let mut r = s.try_clone().expect("clone");
                let _ = std::io::copy(&mut r, &mut s);
            });
        }
    });
    port
}

/// A port that echoes (TX joined to RX) and a module that booted its
/// firmware are each named, with what to change, instead of the generic
/// "not in download mode".
#[test]
fn a_port_that_is_not_the_loader_says_what_it_heard() {
    let env = Env::new();
    let fw = env.write("fw.bin", image(4096, 2));
    let url = format!("socket://127.0.0.1:{}", echo_server());
    let (run, v) = env.run_json(&["flash", "--port", &url, "--firmware", fw.to_str().unwrap()]);
    run.assert_code(3);
    let msg = v["message"].as_str().unwrap_or_default();
    assert!(msg.contains("came straight back"), "{v}");
    assert!(
        v["help"]
            .as_str()
            .unwrap_or_default()
            .contains("TX and RX are joined"),
        "{v}"
    );

    env.write("boot.txt", "hello from the firmware\n");
    let emu = Emulator::start(&env, &["--boot-mode", "flash", "--console", "boot.txt"]);
    let run = env.run(&flash_fw(&emu.url(), &fw));
    run.assert_code(3);
    assert!(run.stderr.contains("boot mode:(3,"), "{}", run.stderr);
    assert!(run.stderr.contains("GPIO0 was high"), "{}", run.stderr);
}

/// A 4 MB image onto a 1 MB module: refused before anything is written, with
/// the header's size named and what to rebuild; nothing reaches the registry.
#[test]
fn an_image_for_a_bigger_flash_is_named_and_nothing_is_written() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--flash-size", "1MB"]);
    let fw = env.write("fw4m.bin", image(2 << 20, 4));
    let (run, v) = env.run_json(&flash_fw(&emu.url(), &fw));
    run.assert_code(2);
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("does not fit"),
        "{v}"
    );
    let help = v["help"].as_str().unwrap_or_default();
    assert!(help.contains("built for a 4MB flash"), "{v}");
    assert!(help.contains("Rebuild it for 1MB"), "{v}");
    assert!(
        emu.wait_disconnected(1, std::time::Duration::from_secs(10)),
        "{:?}",
        emu.events()
    );
    let d = &emu.events_of("disconnected")[0];
    assert_eq!(d["wrote_flash"], false, "{d}");
}

/// The server closing a socket:// port mid-write (ser2net handing the port to
/// another client, a restart) is not blamed on the module's supply; exit 3
/// and nothing recorded.
#[test]
fn a_network_port_closed_mid_write_names_the_server() {
    let env = Env::new();
    let emu = Emulator::start(
        &env,
        &["--baud-model", "off", "--fault", "close-after:20000"],
    );
    let fw = env.write("fw.bin", image(200_000, 2));
    let (run, v) = env.run_json(&flash_fw(&emu.url(), &fw));
    run.assert_code(3);
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("lost the connection"),
        "{v}"
    );
    let help = v["help"].as_str().unwrap_or_default();
    assert!(help.contains("serial server closed the connection"), "{v}");
    assert!(!help.contains("supply (flash writes"), "{v}");
}

fn project(env: &Env, devices: &[&str]) {
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"broker.example.com\"\nport = 8883\n[wifi]\nssid = \"lab\"\npassword = \"wifi-secret-1\"\n\
         [tls]\ntrust = \"fingerprint\"\nfingerprints = [\"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\"]\n\
         [board]\nname = \"esp07\"\n",
    );
    let mut args = vec!["device", "new"];
    args.extend_from_slice(devices);
    env.run(&args).assert_code(0);
}

/// Ctrl-C in the middle of a fleet run: one JSON line says which devices
/// are recorded and which modules were half written, the exit is 130, the
/// half-written device is not recorded, and the next run flashes it.
#[test]
fn ctrl_c_in_a_fleet_reports_what_is_left_and_exits_130() {
    use std::io::BufRead;
    let env = Env::new();
    project(&env, &["sensor-001", "sensor-002"]);
    // Modelled wire time: 400 KB of noise take seconds at 460800 baud.
    let emu = Emulator::start(&env, &["--mac", "5c:cf:7f:00:09:00"]);
    let fw = env.write("fw.bin", image(400_000, 2));
    let url = emu.url();
    let mut child = env
        .cmd()
        .args(["flash", "--format", "json", "--after", "no-reset"])
        .args(["--port", &url, "--port", &url])
        .args(["--devices", "sensor-001..sensor-002", "--firmware"])
        .arg(&fw)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn flash");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let started = line.contains("\"type\":\"started\"");
        seen.push(line);
        if started {
            break;
        }
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let pid = child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status();
    assert!(kill.map(|s| s.success()).unwrap_or(false));
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130), "{seen:#?}");
    let last: serde_json::Value =
        serde_json::from_str(seen.last().expect("a line")).expect("JSON line");
    assert_eq!(last["type"], "interrupted", "{seen:#?}");
    assert_eq!(last["in_progress"][0]["device"], "sensor-001", "{last}");
    for l in &seen {
        serde_json::from_str::<serde_json::Value>(l).expect("every line is JSON");
    }
    let (_, one) = env.run_json(&["device", "show", "sensor-001"]);
    assert!(one["last_flashed_at"].is_null(), "{one}");
}

/// `--read-config --device NAME` compares the module's blob with what the
/// registry holds for NAME (field names only, never the secrets): exit 0
/// when it matches, 1 when not.
#[test]
fn read_config_with_device_compares_with_the_registry() {
    let env = Env::new();
    project(&env, &["sensor-001", "sensor-002"]);
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let url = emu.url();
    let write = [
        "flash",
        "--port",
        &url,
        "--device",
        "sensor-001",
        "--config-only",
    ];
    env.run(&write).assert_code(0);
    let read =
        |name: &str| env.run_json(&["flash", "--port", &url, "--read-config", "--device", name]);
    let (run, v) = read("sensor-001");
    run.assert_code(0);
    assert_eq!(v["registry"]["matches"], true, "{v}");
    let (run, v) = read("sensor-002");
    run.assert_code(1);
    assert_eq!(v["registry"]["matches"], false, "{v}");
    let differs = v["registry"]["differs"].to_string();
    assert!(
        differs.contains("password") && differs.contains("client_id"),
        "{v}"
    );
    let (_, shown) = env.run_json(&["device", "show", "sensor-002", "--show-secrets"]);
    let secret = shown["secret"].as_str().unwrap_or("no-secret-shown");
    let text = env.run(&[
        "flash",
        "--port",
        &url,
        "--read-config",
        "--device",
        "sensor-002",
    ]);
    text.assert_code(1);
    assert!(
        text.stdout
            .contains("differs from the registry's config of sensor-002"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains(secret), "{}", text.stdout);
    // Absent fields read as words in text (JSON keeps null).
    assert!(
        text.stdout.contains("broker_sni       (none)"),
        "{}",
        text.stdout
    );
    assert!(!text.stdout.contains(" null\n"), "{}", text.stdout);
}

/// A serial port another program holds (here: an exclusive flock, as a
/// second `espmqtt flash` or esptool takes) is "in use", not "does not
/// exist"; exit 3.
#[test]
fn a_port_held_by_another_program_is_in_use_not_missing() {
    use crate::support::serial::{tools_present, PtyBridge};
    if !tools_present() || !crate::support::have("flock") {
        return;
    }
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let pty = PtyBridge::start(&env, "ttyBusy", emu.addr);
    pty.take();
    let holder = std::process::Command::new("flock")
        .args(["--exclusive", pty.path(), "sleep", "30"])
        .spawn()
        .expect("spawn flock");
    let mut holder = crate::support::KillOnDrop(holder);
    std::thread::sleep(std::time::Duration::from_millis(500));
    let fw = env.write("fw.bin", image(4096, 2));
    let run = env.run(&flash_fw(pty.path(), &fw));
    let _ = holder.0.kill();
    run.assert_code(3);
    assert!(
        run.stderr.contains("is in use by another program"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("fuser"), "{}", run.stderr);
}

/// A region written twice says why the first try failed (a damaged block
/// is not "the verification failed"), in text and JSON.
#[test]
fn a_rewritten_region_says_why() {
    let env = Env::new();
    let fault = [
        "--baud-model",
        "off",
        "--fault",
        "bad-checksum:2@flash-defl-data",
    ];
    let fw = env.write("fw.bin", image(100_000, 2));
    let emu = Emulator::start(&env, &fault);
    let (run, v) = env.run_json(&flash_fw(&emu.url(), &fw));
    run.assert_code(0);
    let region = &v["regions"][0];
    assert_eq!(region["attempts"], 2, "{v}");
    let why = region["retried_because"].as_str().unwrap_or_default();
    assert!(why.contains("bad data checksum"), "{v}");

    let emu = Emulator::start(&env, &fault);
    let run = env.run(&flash_fw(&emu.url(), &fw));
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("the first failed: the module rejected FLASH_DEFL_DATA"),
        "{}",
        run.stdout
    );
}

/// `--port auto` on a single flash picks the only USB serial port, as
/// without --port (and as fleet flashing reads it), instead of looking for
/// a file named `auto`.
#[test]
fn port_auto_means_the_only_usb_port() {
    let env = Env::new();
    let fw = env.write("fw.bin", image(4096, 2));
    let run = env.run(&flash_fw("auto", &fw));
    assert!(
        !run.stderr.contains("port auto does not exist"),
        "{}",
        run.stderr
    );
    let plain = env.run(&["flash", "--firmware", fw.to_str().unwrap()]);
    assert_eq!(run.code, plain.code, "{}\n{}", run.stderr, plain.stderr);
    let first = |s: &str| s.lines().next().unwrap_or_default().to_string();
    assert_eq!(first(&run.stderr), first(&plain.stderr));
}
