//! Integration tests: fleet flashing (`espmqtt flash --port … --port …
//! --devices A..B --wait`) against several `espmqtt emulate --modules N`
//! benches on loopback — a production line where modules are swapped.
//!
//! Each emulator saves every module's flash (`--save fleet-K.bin` →
//! `fleet-K-J.bin`), so the tests read back, module by module, which
//! device's config blob landed where and compare it with the MAC the
//! registry bound.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::emulator::Emulator;
use crate::support::postgres::{both_backends, open_registry, Backend};
use crate::support::Env;
use espmqtt::device::blob::ConfigBlob;

/// Config sector of a 1 MB module (flash_size - 0x5000).
const CONFIG_1MB: usize = 0xFB000;

fn project(env: &Env, devices: usize) -> Vec<String> {
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"broker.example.com\"\nport = 8883\n[wifi]\nssid = \"lab\"\npassword = \"wifi-secret-1\"\n\
         [tls]\ntrust = \"fingerprint\"\nfingerprints = [\"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\"]\n\
         [board]\nname = \"esp07\"\n",
    );
    let names: Vec<String> = (1..=devices).map(|i| format!("sensor-{i:03}")).collect();
    let mut args = vec!["device", "new"];
    args.extend(names.iter().map(String::as_str));
    env.run(&args).assert_code(0);
    names
}

/// Small firmware-like image with a valid v1 header.
fn firmware(len: usize) -> Vec<u8> {
    let mut out = vec![0xE9, 0x01, 0x02, 0x20, 0, 0, 0, 0];
    let mut x: u32 = 0x1234_5678;
    while out.len() < len {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        out.push((x >> 16) as u8);
    }
    out
}

/// MAC of module `j` (0-based) of bench `k` started with `bench_mac(k)`.
fn bench_mac(k: usize) -> String {
    format!("5c:cf:7f:{:02x}:00:00", 0x10 * (k + 1))
}

fn module_mac(k: usize, j: usize) -> String {
    format!("5c:cf:7f:{:02x}:00:{:02x}", 0x10 * (k + 1), j)
}

struct Bench {
    emus: Vec<Emulator>,
    modules: Vec<usize>,
}

impl Bench {
    /// `extra[k]`: more emulate arguments for bench k.
    fn start(env: &Env, modules: &[usize], extra: &[&[&str]]) -> Bench {
        let emus = modules
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let save = format!("fleet-{}.bin", k + 1);
                let mac = bench_mac(k);
                let m = m.to_string();
                let mut args = vec![
                    "--baud-model",
                    "off",
                    "--flash-size",
                    "1MB",
                    "--modules",
                    &m,
                    "--mac",
                    &mac,
                    "--save",
                    &save,
                ];
                args.extend_from_slice(extra.get(k).copied().unwrap_or(&[]));
                Emulator::start(env, &args)
            })
            .collect();
        Bench {
            emus,
            modules: modules.to_vec(),
        }
    }

    fn ports(&self) -> Vec<String> {
        self.emus.iter().map(|e| e.url()).collect()
    }
}

/// Run the fleet command; returns (exit code, JSON lines, stderr).
fn fleet(
    env: &Env,
    ports: &[String],
    range: &str,
    fw: &Path,
) -> (i32, Vec<serde_json::Value>, String) {
    let mut args: Vec<String> = vec!["flash".into()];
    for p in ports {
        args.push("--port".into());
        args.push(p.clone());
    }
    for a in [
        "--devices",
        range,
        "--firmware",
        fw.to_str().unwrap(),
        "--wait",
        "--wait-timeout",
        "20",
        "--poll",
        "0.1",
        "--format",
        "json",
    ] {
        args.push(a.into());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = env.run(&refs);
    let lines = run
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}\n{}", run.all()))
        })
        .collect();
    (run.code, lines, run.stderr)
}

fn of_type<'a>(lines: &'a [serde_json::Value], t: &str) -> Vec<&'a serde_json::Value> {
    lines.iter().filter(|l| l["type"] == t).collect()
}

/// The config blob saved on one module, waiting for the emulator to save
/// it (it writes the file when the connection ends).
fn saved_blob(path: &Path) -> Option<ConfigBlob> {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Ok(bytes) = std::fs::read(path) {
            if bytes.len() > CONFIG_1MB {
                let sector = &bytes[CONFIG_1MB..];
                let len = ConfigBlob::stored_length(sector).min(sector.len());
                if let Ok(b) = ConfigBlob::decode(&sector[..len]) {
                    return Some(b);
                }
            }
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn saved_file(env: &Env, k: usize, j: usize) -> PathBuf {
    env.path().join(format!("fleet-{}-{}.bin", k + 1, j + 1))
}

/// Registry view: device → bound MAC, and "flashed" events per device.
fn registry(env: &Env) -> (HashMap<String, Option<String>>, HashMap<String, usize>) {
    let reg = open_registry(env);
    let macs = reg
        .devices()
        .expect("devices")
        .into_iter()
        .map(|d| (d.name, d.mac))
        .collect();
    let mut flashed = HashMap::new();
    for e in reg.events(None, 100_000).expect("events") {
        if e.kind == "flashed" {
            *flashed.entry(e.device.unwrap_or_default()).or_insert(0) += 1;
        }
    }
    (macs, flashed)
}

/// Issue 7 acceptance 3, first half: 4 benches × 5 modules, 20 devices,
/// 4 ports, --wait → all 20 flashed and verified, 20 distinct MACs, each
/// config on the module its MAC says, nothing flashed twice.
#[test]
fn four_ports_twenty_devices_each_config_on_its_module() {
    let env = Env::new();
    let names = project(&env, 20);
    let fw = env.write("fw.bin", firmware(8 * 1024));
    let bench = Bench::start(&env, &[5, 5, 5, 5], &[]);
    let (code, lines, stderr) = fleet(&env, &bench.ports(), "sensor-001..sensor-020", &fw);
    assert_eq!(code, 0, "{lines:#?}\n{stderr}");

    let summary = of_type(&lines, "summary");
    assert_eq!(summary.len(), 1, "{lines:#?}");
    let s = summary[0];
    assert_eq!(s["flashed"].as_array().map(Vec::len), Some(20), "{s}");
    assert_eq!(s["failed"].as_array().map(Vec::len), Some(0), "{s}");
    assert_eq!(s["remaining"].as_array().map(Vec::len), Some(0), "{s}");

    let flashed = of_type(&lines, "flashed");
    assert_eq!(flashed.len(), 20);
    let devices: HashSet<&str> = flashed
        .iter()
        .filter_map(|l| l["device"].as_str())
        .collect();
    let macs: HashSet<&str> = flashed.iter().filter_map(|l| l["mac"].as_str()).collect();
    assert_eq!(devices.len(), 20, "a device was flashed twice");
    assert_eq!(macs.len(), 20, "a module was flashed twice");
    for l in &flashed {
        for r in l["regions"].as_array().unwrap() {
            assert_eq!(r["verified"], true, "{l}");
        }
    }
    assert!(of_type(&lines, "failed").is_empty(), "{lines:#?}");
    // No secret in the stream.
    assert!(!lines
        .iter()
        .any(|l| l.to_string().contains("wifi-secret-1")));

    let (bound, events) = registry(&env);
    let bound_macs: HashSet<String> = names
        .iter()
        .map(|n| bound[n].clone().unwrap_or_else(|| panic!("{n} has no MAC")))
        .collect();
    assert_eq!(bound_macs.len(), 20, "20 distinct MACs bound");
    for n in &names {
        assert_eq!(
            events.get(n),
            Some(&1),
            "{n} flashed {:?} times",
            events.get(n)
        );
    }

    assert_eq!(check_modules(&env, &bench, &fw), 20);
}

/// Every saved module that holds a config blob holds the firmware too and
/// is the module whose MAC the registry bound to that blob's device; a
/// module without a valid blob (a flash cut short) is bound to nothing; no
/// device is on two modules. Returns the number of provisioned modules.
fn check_modules(env: &Env, bench: &Bench, fw: &Path) -> usize {
    let (bound, _) = registry(env);
    let by_mac: HashMap<String, String> = bound
        .iter()
        .filter_map(|(n, m)| m.clone().map(|m| (m, n.clone())))
        .collect();
    let image = std::fs::read(fw).unwrap();
    let mut seen = HashSet::new();
    for (k, &m) in bench.modules.iter().enumerate() {
        for j in 0..m {
            let path = saved_file(env, k, j);
            let mac = module_mac(k, j);
            let Some(blob) = saved_blob(&path) else {
                assert!(
                    !by_mac.contains_key(&mac),
                    "{mac} bound but holds no config"
                );
                continue;
            };
            let dev = by_mac
                .get(&mac)
                .unwrap_or_else(|| panic!("module {mac} holds a config but is not bound"));
            assert_eq!(blob.device_name.as_deref(), Some(dev.as_str()), "{mac}");
            assert_eq!(&blob.client_id, dev);
            assert!(seen.insert(dev.clone()), "{dev} on two modules");
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(&bytes[..image.len()], &image[..], "firmware on {mac}");
        }
    }
    seen.len()
}

/// Issue 7 acceptance 3, second half: one bench drops the connection in
/// the middle of a module → that device is reported failed and retried;
/// the broken module's MAC is never bound; everything recorded verified.
#[test]
fn a_fault_mid_flash_is_reported_retried_and_never_recorded() {
    let env = Env::new();
    let names = project(&env, 20);
    let fw = env.write("fw.bin", firmware(8 * 1024));
    // Bench 2 has one spare module for the one the fault ruins; the cut
    // falls in its second module's write (the first takes ~12 KB on the
    // wire: stub upload + compressed image + blob).
    let bench = Bench::start(
        &env,
        &[5, 6, 5, 5],
        &[&[], &["--fault", "close-after:20000"], &[], &[]],
    );
    let (code, lines, stderr) = fleet(&env, &bench.ports(), "sensor-001..sensor-020", &fw);

    let failed = of_type(&lines, "failed");
    assert_eq!(failed.len(), 1, "{lines:#?}\n{stderr}");
    let f = failed[0];
    assert_eq!(f["retry"], true, "{f}");
    let bad_dev = f["device"].as_str().unwrap().to_string();
    let bad_mac = f["mac"].as_str().unwrap().to_string();
    assert!(bad_mac.starts_with("5c:cf:7f:20:"), "fault on bench 2: {f}");

    let (bound, events) = registry(&env);
    // The failed attempt was not recorded: if the module that failed is
    // bound at all, it is to a device flashed on it later (a retry on the
    // same module), and check_modules proves its flash holds that device.
    let later: Vec<_> = of_type(&lines, "flashed")
        .into_iter()
        .filter(|l| l["mac"] == bad_mac.as_str())
        .collect();
    for (n, m) in &bound {
        if m.as_deref() == Some(bad_mac.as_str()) {
            assert!(
                later.iter().any(|l| l["device"] == n.as_str()),
                "{n} on {bad_mac}"
            );
        }
    }
    assert_eq!(check_modules(&env, &bench, &fw), 20);
    // Retried and flashed exactly once.
    assert_eq!(code, 0, "{lines:#?}\n{stderr}");
    assert_eq!(events.get(&bad_dev), Some(&1));
    let starts: Vec<_> = of_type(&lines, "started")
        .into_iter()
        .filter(|l| l["device"] == bad_dev.as_str())
        .collect();
    assert_eq!(starts.len(), 2, "{starts:#?}");
    assert_eq!(starts[1]["attempt"], 2);
    let macs: HashSet<String> = names.iter().filter_map(|n| bound[n].clone()).collect();
    assert_eq!(macs.len(), 20);
    let s = of_type(&lines, "summary")[0];
    assert_eq!(s["flashed"].as_array().map(Vec::len), Some(20), "{s}");
    assert_eq!(s["failed_attempts"], 1, "{s}");
    // The flashed events of the run match the registry one to one.
    for l in of_type(&lines, "flashed") {
        let d = l["device"].as_str().unwrap();
        assert_eq!(bound[d].as_deref(), l["mac"].as_str(), "{l}");
    }
}

/// A module already bound to another device is refused without --rebind;
/// with no --wait each port flashes at most one module and stops.
#[test]
fn bound_module_is_refused_unless_rebind() {
    let env = Env::new();
    project(&env, 2);
    let fw = env.write("fw.bin", firmware(4 * 1024));
    let bench = Bench::start(&env, &[1], &[]);
    let url = bench.emus[0].url();
    let fwp = fw.to_str().unwrap();
    // The same port twice is one worker.
    let run = env.run(&[
        "flash",
        "--port",
        &url,
        "--port",
        &url,
        "--devices",
        "sensor-001",
        "--firmware",
        fwp,
    ]);
    run.assert_code(0);
    assert_eq!(
        run.stdout.matches(" flashed and verified ").count(),
        1,
        "{}",
        run.all()
    );
    let run = env.run(&[
        "flash",
        "--port",
        &url,
        "--devices",
        "sensor-002",
        "--firmware",
        fwp,
        "--format",
        "json",
    ]);
    run.assert_code(1);
    assert!(run.stdout.contains("\"type\":\"refused\""), "{}", run.all());
    assert!(run.stdout.contains("sensor-001"), "{}", run.all());
    let run = env.run(&[
        "flash",
        "--port",
        &url,
        "--devices",
        "sensor-002",
        "--firmware",
        fwp,
        "--rebind",
    ]);
    run.assert_code(0);
    assert!(
        run.stdout.contains("taken over from sensor-001"),
        "{}",
        run.all()
    );
    // The module now belongs to sensor-002 alone.
    let (_, old) = env.run_json(&["device", "show", "sensor-001"]);
    let (_, new) = env.run_json(&["device", "show", "sensor-002"]);
    assert!(old["mac"].is_null(), "sensor-001 still bound: {old}");
    assert!(new["mac"].is_string(), "sensor-002 not bound: {new}");
}

#[test]
fn unknown_devices_and_bad_ranges_are_usage_errors() {
    let env = Env::new();
    project(&env, 2);
    let fw = env.write("fw.bin", firmware(1024));
    let fwp = fw.to_str().unwrap();
    let run = env.run(&[
        "flash",
        "--port",
        "socket://127.0.0.1:9",
        "--devices",
        "sensor-001..sensor-003",
        "--firmware",
        fwp,
    ]);
    run.assert_code(2);
    assert!(run.stderr.contains("sensor-003"), "{}", run.all());
    let run = env.run(&[
        "flash",
        "--port",
        "socket://127.0.0.1:9",
        "--devices",
        "sensor-002..sensor-001",
        "--firmware",
        fwp,
    ]);
    run.assert_code(2);
    // Nothing listening on any port: unreachable, and nothing claimed stays behind.
    let free = crate::support::free_port();
    let run = env.run(&[
        "flash",
        "--port",
        &format!("socket://127.0.0.1:{free}"),
        "--devices",
        "sensor-001,sensor-002",
        "--firmware",
        fwp,
    ]);
    run.assert_code(3);
    let (bound, events) = registry(&env);
    assert!(bound.values().all(Option::is_none) && events.is_empty());
}

both_backends!(
    two_processes_never_get_the_same_device,
    a_station_killed_mid_flash_hands_its_device_over_after_the_lease,
);

/// Two processes on the same device list (one port each) share the work
/// through the registry: every device flashed once, no device on two
/// modules, both stop when the list is done.
fn two_processes_never_get_the_same_device(backend: Backend) {
    let env = backend.env();
    let names = project(&env, 6);
    let fw = env.write("fw.bin", firmware(8 * 1024));
    let bench = Bench::start(&env, &[3, 3], &[]);
    let spawn = |url: String| {
        env.cmd()
            .args([
                "flash",
                "--port",
                &url,
                "--devices",
                "sensor-001..sensor-006",
                "--firmware",
                fw.to_str().unwrap(),
                "--wait",
                "--wait-timeout",
                "20",
                "--poll",
                "0.1",
                "--format",
                "json",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn espmqtt flash")
    };
    let a = spawn(bench.emus[0].url());
    let b = spawn(bench.emus[1].url());
    let mut flashed = Vec::new();
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        for l in stdout.lines() {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON line");
            if v["type"] == "flashed" {
                flashed.push(v["device"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    flashed.sort();
    assert_eq!(flashed, names, "each device flashed exactly once");
    let (_, events) = registry(&env);
    for n in &names {
        assert_eq!(events.get(n), Some(&1), "{n}");
    }
    assert_eq!(check_modules(&env, &bench, &fw), 6);
}

/// A module that stops answering in the middle of the image (`stall`):
/// reported failed, the device retried on the next module, the stalled
/// module bound to nothing.
#[test]
fn a_stalled_module_is_failed_and_left_unbound() {
    let env = Env::new();
    let names = project(&env, 2);
    // Large enough for the stub path (flash/cost.rs): 8 KiB would go through
    // the ROM, which has no FLASH_DEFL_DATA to stall in.
    let fw = env.write("fw.bin", firmware(96 * 1024));
    let bench = Bench::start(&env, &[3], &[&["--fault", "stall:3@flash-defl-data"]]);
    let range = format!("{}..{}", names[0], names[1]);
    let (code, lines, stderr) = fleet(&env, &bench.ports(), &range, &fw);
    assert_eq!(code, 0, "{lines:#?}\n{stderr}");
    let failed = of_type(&lines, "failed");
    assert_eq!(failed.len(), 1, "{lines:#?}");
    assert_eq!(failed[0]["retry"], true);
    let stalled = failed[0]["mac"].as_str().unwrap();
    let (bound, _) = registry(&env);
    assert!(
        bound.values().all(|m| m.as_deref() != Some(stalled)),
        "{bound:?}"
    );
    assert_eq!(check_modules(&env, &bench, &fw), 2);
}

/// Two stations on one registry (simulated: two processes with their own
/// station names and benches). Station A is SIGKILLed in the middle of a
/// flash; its claim stays until the lease (2 s here) lapses, then station
/// B, still waiting, takes the device over. Every device is flashed once,
/// the abandoned one on one of B's modules.
fn a_station_killed_mid_flash_hands_its_device_over_after_the_lease(backend: Backend) {
    use std::io::BufRead;
    let env = backend.env();
    let names = project(&env, 3);
    let fw = env.write("fw.bin", firmware(8 * 1024));
    // A's module stops answering in the middle of the image.
    let bench_a = Bench::start(&env, &[1], &[&["--fault", "stall:3@flash-defl-data"]]);
    let bench_b = Bench {
        emus: vec![crate::support::emulator::Emulator::start(
            &env,
            &[
                "--baud-model",
                "off",
                "--flash-size",
                "1MB",
                "--modules",
                "3",
                "--mac",
                &bench_mac(1),
                "--save",
                "fleet-2.bin",
            ],
        )],
        modules: vec![3],
    };
    let station = |name: &str, url: String| {
        let mut c = env.cmd();
        c.env("ESPMQTT_STATION", name)
            .env("ESPMQTT_CLAIM_LEASE", "2")
            .args([
                "flash",
                "--port",
                &url,
                "--devices",
                "sensor-001..sensor-003",
                "--firmware",
                fw.to_str().unwrap(),
                "--wait",
                "--wait-timeout",
                "20",
                "--poll",
                "0.1",
                "--format",
                "json",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        c
    };
    let mut a = crate::support::KillOnDrop(
        station("station-a", bench_a.emus[0].url())
            .spawn()
            .expect("spawn station A"),
    );
    let lines = std::io::BufReader::new(a.0.stdout.take().unwrap());
    let mut taken = None;
    for l in lines.lines().map_while(Result::ok) {
        let v: serde_json::Value = serde_json::from_str(&l).expect("JSON line");
        if v["type"] == "started" {
            taken = v["device"].as_str().map(String::from);
            break;
        }
    }
    let taken = taken.expect("station A started a flash");
    a.0.kill().unwrap(); // SIGKILL, mid-flash
    let _ = a.0.wait();
    let killed_at = Instant::now();
    let d = open_registry(&env).device(&taken).unwrap();
    assert!(
        d.claimed_by
            .as_deref()
            .is_some_and(|w| w.starts_with("fleet:station-a:")),
        "{d:?}"
    );
    assert!(d.last_flashed_at.is_none());

    let out = station("station-b", bench_b.emus[0].url())
        .output()
        .expect("station B");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut flashed: Vec<String> = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "flashed")
        .map(|v| v["device"].as_str().unwrap_or_default().to_string())
        .collect();
    flashed.sort();
    assert_eq!(flashed, names, "station B flashed every device\n{stdout}");
    // The abandoned device waited for its lease.
    assert!(killed_at.elapsed() >= Duration::from_millis(1500));
    let reg = open_registry(&env);
    let claims: Vec<String> = reg
        .events(Some(&taken), 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "claimed")
        .map(|e| e.detail)
        .collect();
    assert_eq!(claims.len(), 2, "{claims:?}");
    assert!(claims[0].contains("fleet:station-a:"), "{claims:?}");
    assert!(claims[1].contains("fleet:station-b:"), "{claims:?}");
    let (bound, events) = registry(&env);
    for n in &names {
        assert_eq!(events.get(n), Some(&1), "{n}");
    }
    let mac = bound[&taken].clone().expect("bound");
    assert!(
        mac.starts_with("5c:cf:7f:20:"),
        "{mac} is one of B's modules"
    );
}
