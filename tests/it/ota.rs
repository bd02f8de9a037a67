//! Integration tests: config updates over MQTT (`docs/OTA.md`): the shared
//! update vectors, the registry's update state, `trust`, `device push` and
//! `device updates` against a real mosquitto and the firmware's own update
//! logic (`firmware-template/host/otaharness.cpp`).

use std::path::{Path, PathBuf};

use espmqtt::device::blob::{ConfigBlob, UpdateKey};
use espmqtt::device::update::{encode_message, mac, MAX_MESSAGE_LEN};
use espmqtt::tls::TrustMode;

use crate::support::emulator::Emulator;
use crate::support::firmware::repo;
use crate::support::mosquitto::Mosquitto;
use crate::support::ota::{otaharness, rotate_over_the_air, secret_of, Device, Model};
use crate::support::pki::{self, Alg};
use crate::support::postgres::{both_backends, Backend};
use crate::support::Env;

/// `tests/data/updates/`.
fn updates_dir() -> PathBuf {
    repo().join("tests/data/updates")
}

/// The committed config of the vectors' device: client id `sensor-001`,
/// update key 00 01 … 1f, config version 3, fingerprint trust.
fn vector_device() -> ConfigBlob {
    ConfigBlob {
        device_name: Some("sensor-001".into()),
        wifi_ssid: "lab".into(),
        wifi_password: Some("wifi-pass".into()),
        broker_host: "broker.example.com".into(),
        client_id: "sensor-001".into(),
        username: Some("sensor-001".into()),
        password: Some("mqtt-pass".into()),
        trust: TrustMode::Fingerprint,
        fingerprints: vec![[0x11; 20]],
        config_version: 3,
        update_key: Some(vector_key()),
        ..ConfigBlob::default()
    }
}

fn vector_key() -> UpdateKey {
    UpdateKey(std::array::from_fn(|i| i as u8))
}

/// The update the `ok` case carries: the next fingerprint staged, number 4.
fn next_config(n: u32) -> ConfigBlob {
    ConfigBlob {
        fingerprints: vec![[0x11; 20], [0x22; 20]],
        config_version: n,
        ..vector_device()
    }
}

fn msg(client: &str, n: u32, blob: &ConfigBlob) -> Vec<u8> {
    encode_message(client, n, &blob.encode().unwrap(), &vector_key()).unwrap()
}

fn ack(n: u32, result: &str, reason: &str) -> String {
    format!("{{\"update\":{n},\"result\":\"{result}\",\"reason\":\"{reason}\"}}\n")
}

/// Every case of the shared vector set: name, message, expected ack line.
/// Each is fed to a device holding `device.bin` and nothing staged.
fn update_vectors() -> Vec<(&'static str, Vec<u8>, String)> {
    let ok = msg("sensor-001", 4, &next_config(4));
    let mut bad_mac = ok.clone();
    *bad_mac.last_mut().unwrap() ^= 0x01;
    let mut bad_format = ok.clone();
    bad_format[3] = b'X';
    let mut bad_length = ok.clone();
    bad_length.pop();
    let mut too_large = ok.clone();
    too_large.resize(MAX_MESSAGE_LEN + 1, 0);
    let mut broken_crc = next_config(4).encode().unwrap();
    broken_crc[8] ^= 0xff;
    let bad_blob = encode_message("sensor-001", 4, &broken_crc, &vector_key()).unwrap();
    let other = ConfigBlob {
        client_id: "sensor-002".into(),
        ..next_config(4)
    };
    let no_key = ConfigBlob {
        update_key: None,
        ..next_config(4)
    };
    let insecure = ConfigBlob {
        trust: TrustMode::Insecure,
        fingerprints: Vec::new(),
        ..next_config(4)
    };
    let zero_fp = ConfigBlob {
        fingerprints: vec![[0; 20]],
        ..next_config(4)
    };
    let new_key = ConfigBlob {
        update_key: Some(UpdateKey([0xa5; 32])),
        ..next_config(7)
    };
    // A message for sensor-002 whose blob also says sensor-002: the
    // device must refuse it on the client id in the message.
    let wrong_client = msg("sensor-002", 4, &other);
    vec![
        ("ok", ok, ack(4, "staged", "")),
        (
            "ok-new-key",
            msg("sensor-001", 7, &new_key),
            ack(7, "staged", ""),
        ),
        ("bad-mac", bad_mac, ack(4, "rejected", "bad_mac")),
        (
            "replayed",
            msg("sensor-001", 2, &next_config(2)),
            ack(2, "rejected", "replayed"),
        ),
        // The committed config delivered again (QoS 1, or the retained
        // message after a reconnect): ignored, no acknowledgement.
        (
            "duplicate",
            msg("sensor-001", 3, &vector_device()),
            String::new(),
        ),
        // The same, MACed with a key the device no longer holds: after a key
        // rotation the broker still holds the rotating update, MACed with
        // the previous key. Recognised before the MAC check: no ack (not
        // bad_mac, which would overwrite the retained `committed`).
        (
            "duplicate-old-key",
            encode_message(
                "sensor-001",
                3,
                &vector_device().encode().unwrap(),
                &UpdateKey([0x5a; 32]),
            )
            .unwrap(),
            String::new(),
        ),
        (
            "wrong-client",
            wrong_client,
            ack(4, "rejected", "wrong_client"),
        ),
        ("bad-format", bad_format, ack(0, "rejected", "bad_format")),
        ("bad-length", bad_length, ack(0, "rejected", "bad_format")),
        ("too-large", too_large, ack(0, "rejected", "too_large")),
        ("bad-blob", bad_blob, ack(4, "rejected", "bad_blob:bad_crc")),
        (
            "blob-client-mismatch",
            msg("sensor-001", 4, &other),
            ack(4, "rejected", "blob_client_mismatch"),
        ),
        (
            "no-update-key-in-blob",
            msg("sensor-001", 4, &no_key),
            ack(4, "rejected", "no_update_key_in_blob"),
        ),
        (
            "no-trust",
            msg("sensor-001", 4, &insecure),
            ack(4, "rejected", "no_trust"),
        ),
        (
            "no-trust-zero-fingerprint",
            msg("sensor-001", 4, &zero_fp),
            ack(4, "rejected", "no_trust"),
        ),
    ]
}

/// Acceptance: the Rust encoder reproduces the shared vectors in
/// tests/data/updates/ byte for byte (the firmware's C++ replays the same
/// files and must answer each with its `.ack` line). Regenerate with
/// `ESPMQTT_REGEN_VECTORS=1 cargo test --test it ota::update_vectors`.
#[test]
fn update_vectors_are_reproduced_byte_for_byte() {
    let dir = updates_dir();
    let device = vector_device().encode().unwrap();
    let cases = update_vectors();
    if std::env::var_os("ESPMQTT_REGEN_VECTORS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("device.bin"), &device).unwrap();
        for (name, m, a) in &cases {
            std::fs::write(dir.join(format!("{name}.msg")), m).unwrap();
            std::fs::write(dir.join(format!("{name}.ack")), a).unwrap();
        }
    }
    assert_eq!(
        std::fs::read(dir.join("device.bin")).expect("tests/data/updates/device.bin"),
        device,
        "device.bin differs from the encoder's output"
    );
    for (name, m, a) in &cases {
        let want = std::fs::read(dir.join(format!("{name}.msg")))
            .unwrap_or_else(|_| panic!("{name}.msg is missing"));
        assert!(want == *m, "{name}.msg differs from the encoder's output");
        let want = std::fs::read_to_string(dir.join(format!("{name}.ack"))).unwrap();
        assert_eq!(&want, a, "{name}.ack");
    }
    // Every file in the directory is a case of this test.
    let n = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "msg"))
        .count();
    assert_eq!(n, cases.len(), "stray .msg files in {}", dir.display());
}

/// The Rust model of the device rules answers every shared vector with its
/// recorded acknowledgement (the C++ side replays the same files in its own
/// test); when the template has the C++ harness, it must agree too.
#[test]
fn update_vectors_are_answered_as_recorded_by_the_device_logic() {
    let env = Env::new();
    let dir = updates_dir();
    let device = std::fs::read(dir.join("device.bin")).unwrap();
    for (name, _, _) in update_vectors() {
        let m = std::fs::read(dir.join(format!("{name}.msg"))).unwrap();
        let want = std::fs::read_to_string(dir.join(format!("{name}.ack"))).unwrap();
        let mut model = Model::new(&device);
        let got = model.receive(&m).map(|l| l + "\n").unwrap_or_default();
        assert_eq!(got, want, "Rust model, case {name}");
        if otaharness().is_some() {
            let mut d = Device::new(env.path(), &device);
            let got = d
                .receive(env.path(), &m)
                .map(|l| l + "\n")
                .unwrap_or_default();
            assert_eq!(got, want, "C++ otaharness, case {name}");
        }
    }
}

// ---------------------------------------------------------------- end to end

// The end-to-end tests run on both registry backends: SQLite, and a real
// PostgreSQL on loopback (tests/support/postgres.rs).
both_backends!(
    push_stage_commit_and_rejections_end_to_end,
    certificate_renewal_story_end_to_end,
    password_rotation_over_the_air,
    a_serial_flash_is_what_the_next_push_decides_from,
    rotate_key_commit_survives_the_redelivered_update,
);

/// A project on a real mosquitto (TLS, anonymous clients on loopback) in
/// fingerprint mode, with devices whose update logic is the firmware's.
struct Bench {
    env: Env,
    ca: PathBuf,
    broker: Mosquitto,
    devices: Vec<(String, Device)>,
}

const PREFIX: &str = "fleet";

fn fp_hex(der: &[u8]) -> String {
    hex::encode(espmqtt::tls::cert::sha1(der))
}

impl Bench {
    /// The bench on this registry backend (SQLite or a PostgreSQL database
    /// of its own).
    fn on(backend: Backend, names: &[&str]) -> (Bench, pki::Issued, pki::Issued) {
        let env = backend.env();
        let ca = pki::ca("espmqtt OTA test CA", Alg::EcP256);
        let a = pki::leaf("broker A", &["localhost", "127.0.0.1"], Alg::EcP256, &ca);
        let b = pki::leaf("broker B", &["localhost", "127.0.0.1"], Alg::EcP256, &ca);
        let (ca_file, _) = ca.write(env.path(), "broker-ca");
        a.write(env.path(), "a");
        b.write(env.path(), "b");
        let broker = start_broker(env.path(), "a");
        let mut bench = Bench {
            env,
            ca: ca_file,
            broker,
            devices: Vec::new(),
        };
        bench.write_config(&fp_hex(&a.der()));
        let mut args = vec!["device", "new"];
        args.extend(names);
        bench.env.run(&args).assert_code(0);
        for n in names {
            let out = bench.env.path().join(format!("{n}.bin"));
            bench
                .env
                .run(&["device", "config", n, "--out", out.to_str().unwrap()])
                .assert_code(0);
            let blob = std::fs::read(&out).unwrap();
            let d = Device::new(bench.env.path(), &blob);
            bench.devices.push((n.to_string(), d));
        }
        (bench, a, b)
    }

    fn write_config(&self, fingerprint: &str) {
        self.env.write(
            "espmqtt.toml",
            format!(
                "[broker]\nhost = \"127.0.0.1\"\nport = {}\n[wifi]\nssid = \"lab\"\npassword = \"wifi-pass\"\n\
                 [mqtt]\ntopic_prefix = \"{PREFIX}\"\n[tls]\ntrust = \"fingerprint\"\nfingerprints = [\"{fingerprint}\"]\n\
                 [operator]\nca_file = \"broker-ca.crt\"\n",
                self.broker.port
            ),
        );
    }

    fn device(&mut self, name: &str) -> &mut Device {
        &mut self.devices.iter_mut().find(|(n, _)| n == name).unwrap().1
    }

    /// The retained message on `<prefix>/<name>/<leaf>` (None: nothing
    /// retained).
    fn retained(&self, name: &str, leaf: &str) -> Option<Vec<u8>> {
        let o = std::process::Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &self.broker.port.to_string()])
            .arg("--cafile")
            .arg(&self.ca)
            .args([
                "-t",
                &format!("{PREFIX}/{name}/{leaf}"),
                "-C",
                "1",
                "-W",
                "2",
            ])
            .args(["-F", "%x", "-i", &format!("fetch-{name}")])
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
        (!s.is_empty()).then(|| hex::decode(s).unwrap())
    }

    /// The retained update on `name`'s config topic (None: nothing retained).
    fn retained_update(&self, name: &str) -> Option<Vec<u8>> {
        self.retained(name, "config")
    }

    /// The retained acknowledgement on `name`'s config/ack topic.
    fn retained_ack(&self, name: &str) -> Option<String> {
        self.retained(name, "config/ack")
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// Publish the device's acknowledgement, retained, as the firmware does.
    fn publish_ack(&self, name: &str, line: &str) {
        let o = std::process::Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.broker.port.to_string()])
            .arg("--cafile")
            .arg(&self.ca)
            .args([
                "-t",
                &format!("{PREFIX}/{name}/config/ack"),
                "-r",
                "-q",
                "1",
            ])
            .args(["-m", line, "-i", &format!("dev-{name}")])
            .output()
            .unwrap();
        assert!(o.status.success(), "mosquitto_pub: {o:?}");
    }

    /// The device connects: it receives its retained update (if any) and
    /// acknowledges; then its next connection succeeds (`outcome`).
    fn device_connects(&mut self, name: &str, outcome: &str) -> Vec<String> {
        let dir = self.env.path().to_path_buf();
        let mut acks = Vec::new();
        if let Some(m) = self.retained_update(name) {
            if let Some(a) = self.device(name).receive(&dir, &m) {
                self.publish_ack(name, &a);
                acks.push(a);
            }
        }
        for _ in 0..3 {
            if let Some(a) = self.device(name).connect(outcome) {
                self.publish_ack(name, &a);
                acks.push(a);
                break;
            }
        }
        acks
    }

    fn updates(&self) -> serde_json::Value {
        let (r, v) = self.env.run_json(&["device", "updates", "--refresh", "1s"]);
        r.assert_code(0);
        v
    }
}

fn start_broker(dir: &Path, stem: &str) -> Mosquitto {
    Mosquitto::start(
        dir,
        "allow_anonymous true",
        &format!(
            "certfile {}\nkeyfile {}",
            dir.join(format!("{stem}.crt")).display(),
            dir.join(format!("{stem}.key")).display()
        ),
    )
}

fn line<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v.as_array()
        .or(v["devices"].as_array())
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing in {v}"))
}

/// Acceptance: `device push` → retained message → the device's update
/// logic → acknowledgement → espmqtt reports staged / committed; a tampered
/// message, a replayed one and one for another device are rejected with the
/// right reasons; an offline device gets the update when it connects;
/// pushing twice publishes nothing new.
fn push_stage_commit_and_rejections_end_to_end(backend: Backend) {
    let (mut b, _, cert_b) = Bench::on(backend, &["sensor-001", "sensor-002", "sensor-003"]);
    eprintln!("device logic: {}", b.devices[0].1.kind());
    // A dry run publishes nothing.
    let (r, v) = b.env.run_json(&["device", "push", "--all", "--dry-run"]);
    r.assert_code(0);
    assert_eq!(line(&v, "sensor-001")["action"], "would_publish", "{v}");
    assert!(b.retained_update("sensor-001").is_none());
    // Stage the next certificate and push it to the whole fleet.
    b.env
        .run(&["trust", "stage", "--pem", "b.crt"])
        .assert_code(0);
    let (r, v) = b
        .env
        .run_json(&["device", "push", "--all", "--wait", "none"]);
    r.assert_code(0);
    assert_eq!(v["published"], 3, "{v}");
    assert_eq!(line(&v, "sensor-001")["action"], "published");
    let n = line(&v, "sensor-001")["update"].as_u64().unwrap() as u32;
    // Pushing again publishes nothing new: the same update, republished.
    let (r, v2) = b
        .env
        .run_json(&["device", "push", "--all", "--wait", "none"]);
    r.assert_code(0);
    assert_eq!(line(&v2, "sensor-001")["action"], "republished");
    assert_eq!(line(&v2, "sensor-001")["update"], n);
    // A push that gives up waiting (the device is offline) leaves its
    // update pending; the next push resumes it under the same number.
    let n3 = line(&v, "sensor-003")["update"].clone();
    let (r, v3) = b.env.run_json(&[
        "device",
        "push",
        "sensor-003",
        "--wait",
        "committed",
        "--timeout",
        "1s",
    ]);
    r.assert_code(1);
    assert_eq!(v3["timed_out"], true, "{v3}");
    assert_eq!(line(&v3, "sensor-003")["action"], "republished", "{v3}");
    assert_eq!(line(&v3, "sensor-003")["update"], n3, "{v3}");

    // sensor-001 stages, then commits on its next connection.
    let dir = b.env.path().to_path_buf();
    let m1 = b.retained_update("sensor-001").expect("a retained update");
    let staged = b.device("sensor-001").receive(&dir, &m1).unwrap();
    assert_eq!(
        staged,
        format!("{{\"update\":{n},\"result\":\"staged\",\"reason\":\"\"}}")
    );
    b.publish_ack("sensor-001", &staged);
    assert_eq!(line(&b.updates(), "sensor-001")["phase"], "staged");
    let committed = b.device("sensor-001").connect("ok").unwrap();
    b.publish_ack("sensor-001", &committed);
    let v = b.updates();
    assert_eq!(line(&v, "sensor-001")["phase"], "committed", "{v}");
    assert_eq!(line(&v, "sensor-001")["committed"], n);
    assert_eq!(line(&v, "sensor-001")["trust_current"], true);
    let fps = b.device("sensor-001").boot().fingerprints;
    assert!(fps.contains(&espmqtt::tls::cert::sha1(&cert_b.der())));

    // A tampered message (one bit of the blob), for sensor-002: bad_mac.
    let mut m2 = b.retained_update("sensor-002").unwrap();
    let mid = m2.len() / 2;
    m2[mid] ^= 0x10;
    let a = b.device("sensor-002").receive(&dir, &m2).unwrap();
    assert!(a.ends_with("\"rejected\",\"reason\":\"bad_mac\"}"), "{a}");
    b.publish_ack("sensor-002", &a);
    let v = b.updates();
    assert_eq!(
        line(&v, "sensor-002")["last_ack"]["reason"],
        "bad_mac",
        "{v}"
    );
    assert_eq!(
        line(&v, "sensor-002")["phase"],
        "serial",
        "a rejected update is not pending"
    );
    // Another device's message: wrong_client.
    let a = b.device("sensor-002").receive(&dir, &m1).unwrap();
    assert!(a.ends_with("\"reason\":\"wrong_client\"}"), "{a}");
    // The registry issues a fresh number after the rejection; it applies.
    let (r, v) = b
        .env
        .run_json(&["device", "push", "sensor-002", "--wait", "none"]);
    r.assert_code(0);
    assert_eq!(line(&v, "sensor-002")["action"], "published");
    let acks = b.device_connects("sensor-002", "ok");
    assert_eq!(acks.len(), 2, "{acks:?}");
    // A replay of sensor-001's older update after a newer one: replayed.
    // sensor-003 has not committed B: retiring A is refused, nothing changes.
    let r = b.env.run(&["trust", "retire"]);
    r.assert_code(1);
    assert!(r.stderr.contains("sensor-003"), "{}", r.stderr);
    b.env.run(&["trust", "retire", "--force"]).assert_code(0);
    let (r, _) = b
        .env
        .run_json(&["device", "push", "sensor-001", "--wait", "none"]);
    r.assert_code(0);
    let acks = b.device_connects("sensor-001", "ok");
    assert!(acks[1].contains("\"committed\""), "{acks:?}");
    let a = b.device("sensor-001").receive(&dir, &m1).unwrap();
    assert!(a.ends_with("\"rejected\",\"reason\":\"replayed\"}"), "{a}");

    // sensor-003 was offline through all of this: the retained update is
    // waiting for it, and a push that waits sees it commit.
    let bin = b.env.path().to_path_buf();
    let waiter = {
        let mut c = b.env.cmd();
        c.args([
            "device",
            "push",
            "sensor-003",
            "--wait",
            "committed",
            "--timeout",
            "30s",
        ])
        .args(["--format", "json"]);
        std::thread::spawn(move || c.output().unwrap())
    };
    std::thread::sleep(std::time::Duration::from_secs(2));
    let acks = b.device_connects("sensor-003", "ok");
    assert_eq!(acks.len(), 2, "{acks:?}");
    let out = waiter.join().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{v}");
    assert_eq!(line(&v, "sensor-003")["result"], "committed", "{v}");
    // Once committed, the retained update is cleared.
    assert!(b.retained_update("sensor-003").is_none());
    let _ = bin;
    // The event log tells the story.
    let r = b
        .env
        .run(&["device", "show", "sensor-002", "--format", "json"]);
    assert!(r.stdout.contains("update-rejected"), "{}", r.stdout);
    assert!(r.stdout.contains("update-committed"), "{}", r.stdout);
}

/// Acceptance: the renewal story. Broker on certificate A; stage B; push;
/// `probe --staged-trust` (every device's trust, real BearSSL handshakes)
/// predicts success before the switch and flags the device that was
/// offline; switch the broker to B; every device's committed trust accepts
/// B; retire A; push again and the devices hold only B.
fn certificate_renewal_story_end_to_end(backend: Backend) {
    let (mut b, cert_a, cert_b) = Bench::on(backend, &["node-1", "node-2", "node-3"]);
    b.env
        .run(&["trust", "stage", "--pem", "b.crt"])
        .assert_code(0);
    b.env
        .run(&["device", "push", "--all", "--wait", "none"])
        .assert_code(0);
    for n in ["node-1", "node-2"] {
        let acks = b.device_connects(n, "ok");
        assert_eq!(acks.len(), 2, "{n}: {acks:?}");
    }
    b.updates();
    // node-3 is offline: the forecast says it would not survive.
    let (r, v) = b.env.run_json(&["probe", "--staged-trust"]);
    r.assert_code(1);
    assert_eq!(line(&v, "node-1")["survives_switch"], true, "{v}");
    assert_eq!(
        line(&v, "node-1")["committed"]["accepts_current"],
        true,
        "{v}"
    );
    assert_eq!(line(&v, "node-3")["survives_switch"], false, "{v}");
    assert_eq!(
        line(&v, "node-3")["committed"]["accepts_current"],
        true,
        "{v}"
    );
    // It comes back and gets the retained update.
    assert_eq!(b.device_connects("node-3", "ok").len(), 2);
    b.updates();
    let (r, v) = b.env.run_json(&["probe", "--staged-trust"]);
    r.assert_code(0);
    assert_eq!(v["ok"], true, "{v}");

    // The switch: the broker now serves certificate B.
    drop(std::mem::replace(
        &mut b.broker,
        start_broker(b.env.path(), "b"),
    ));
    b.write_config(&fp_hex(&cert_a.der()));
    let fp_b = espmqtt::tls::cert::sha1(&cert_b.der());
    for (n, d) in &b.devices {
        assert!(
            d.boot().fingerprints.contains(&fp_b),
            "{n} does not trust B"
        );
    }
    let (r, v) = b.env.run_json(&["probe", "--staged-trust"]);
    r.assert_code(0);
    for n in ["node-1", "node-2", "node-3"] {
        assert_eq!(line(&v, n)["committed"]["accepts_current"], true, "{v}");
    }
    // `probe --device` probes with the trust the device runs (its committed
    // update, A and B), not espmqtt.toml's (still A only).
    let r = b.env.run(&["probe", "--device", "node-1", "-v"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stderr.contains("committed update"), "{}", r.stderr);
    // Retire A: every device committed B, so nothing is left behind.
    let (r, v) = b.env.run_json(&["trust", "retire"]);
    r.assert_code(0);
    assert_eq!(v["not_updated"], serde_json::json!([]), "{v}");
    b.env
        .run(&["device", "push", "--all", "--wait", "none"])
        .assert_code(0);
    for n in ["node-1", "node-2", "node-3"] {
        assert_eq!(b.device_connects(n, "ok").len(), 2);
        assert_eq!(b.device(n).boot().fingerprints, vec![fp_b], "{n}");
    }
    let (r, v) = b.env.run_json(&["trust", "show"]);
    r.assert_code(0);
    let states: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["retired", "current"], "{v}");
}

/// `device push --rotate-key`: the update carries a new key and is MACed
/// with the old one. After the commit the retained update is still on the
/// broker and reaches the device again on every reconnect, when it holds
/// the new key: it is recognised as the update it committed (no ack), so the
/// retained acknowledgement keeps saying `committed`; the next push uses the
/// new key.
fn rotate_key_commit_survives_the_redelivered_update(backend: Backend) {
    let (mut b, _, _) = Bench::on(backend, &["k-1"]);
    let old_key = b.device("k-1").boot().update_key.unwrap();
    let (r, v) = b
        .env
        .run_json(&["device", "push", "k-1", "--rotate-key", "--wait", "none"]);
    r.assert_code(0);
    let n = line(&v, "k-1")["update"].as_u64().unwrap() as u32;
    let committed = format!("{{\"update\":{n},\"result\":\"committed\",\"reason\":\"\"}}");
    let acks = b.device_connects("k-1", "ok");
    assert_eq!(
        acks,
        [
            format!("{{\"update\":{n},\"result\":\"staged\",\"reason\":\"\"}}"),
            committed.clone()
        ]
    );
    let new_key = b.device("k-1").boot().update_key.unwrap();
    assert_ne!(new_key, old_key, "the device did not get a new key");
    // Two reconnects of the device: the retained update (old key's MAC) is
    // delivered each time and answered with nothing.
    for _ in 0..2 {
        let m = b
            .retained_update("k-1")
            .expect("the update is still retained");
        assert_eq!(&m[m.len() - 32..], &mac(&old_key, &m[..m.len() - 32])[..]);
        assert_eq!(b.device_connects("k-1", "ok"), Vec::<String>::new());
        assert_eq!(b.retained_ack("k-1").as_deref(), Some(committed.as_str()));
    }
    let v = b.updates();
    assert_eq!(line(&v, "k-1")["phase"], "committed", "{v}");
    assert_eq!(line(&v, "k-1")["committed"], n, "{v}");
    assert_eq!(line(&v, "k-1")["last_ack"]["result"], "committed", "{v}");
    // The registry moved to the new key with the commit: the next update
    // is MACed with it and applies.
    b.env
        .run(&["trust", "stage", "--pem", "b.crt"])
        .assert_code(0);
    let (r, v) = b.env.run_json(&["device", "push", "k-1", "--wait", "none"]);
    r.assert_code(0);
    let n2 = line(&v, "k-1")["update"].as_u64().unwrap() as u32;
    assert!(n2 > n, "{v}");
    let m = b.retained_update("k-1").unwrap();
    assert_eq!(&m[m.len() - 32..], &mac(&new_key, &m[..m.len() - 32])[..]);
    let acks = b.device_connects("k-1", "ok");
    assert_eq!(acks.len(), 2, "{acks:?}");
    assert!(acks[1].contains("\"committed\""), "{acks:?}");
}

/// The update key is in the serial blob and never printed without
/// --show-secrets; existing registries get keys when they are migrated.
#[test]
fn update_key_reaches_the_serial_blob_and_stays_secret() {
    let env = Env::new();
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"b.example\"\n[wifi]\nssid = \"lab\"\n[tls]\ntrust = \"fingerprint\"\n\
         fingerprints = [\"0102030405060708090a0b0c0d0e0f1011121314\"]\n",
    );
    env.run(&["device", "new", "k1"]).assert_code(0);
    let out = env.path().join("k1.bin");
    env.run(&["device", "config", "k1", "--out", out.to_str().unwrap()])
        .assert_code(0);
    let blob = ConfigBlob::decode(&std::fs::read(&out).unwrap()).unwrap();
    let key = blob.update_key.expect("an update key in the serial blob");
    assert_eq!(blob.config_version, 0);
    let hexkey = key.to_hex();
    for args in [
        vec!["device", "show", "k1", "--format", "json"],
        vec!["device", "list", "--format", "json"],
        vec!["device", "updates", "--format", "json"],
        vec!["device", "show", "k1"],
    ] {
        let r = env.run(&args);
        assert!(
            !r.all().contains(&hexkey),
            "{args:?} printed the update key"
        );
    }
    assert!(!format!("{key:?}").contains(&hexkey));
}

/// `device rotate --over-the-air`: the new password travels as an update;
/// the registry makes it current only once the device holds it, and the
/// device's committed config carries it.
fn password_rotation_over_the_air(backend: Backend) {
    let (mut b, _, _) = Bench::on(backend, &["r-1"]);
    let show = |b: &Bench| secret_of(&b.env, "r-1");
    let old = show(&b);
    let waiter = rotate_over_the_air(&b.env, "r-1");
    // The update is published; until the device answers, nothing changes.
    let m = (0..50)
        .find_map(|_| b.retained_update("r-1"))
        .expect("the rotation's update");
    assert_eq!(
        show(&b),
        old,
        "the registry switched before the device staged"
    );
    let dir = b.env.path().to_path_buf();
    let staged = b.device("r-1").receive(&dir, &m).unwrap();
    b.publish_ack("r-1", &staged);
    let out = waiter.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let new = show(&b);
    assert_ne!(new, old, "staged: the new password is current");
    let committed = b.device("r-1").connect("ok").unwrap();
    b.publish_ack("r-1", &committed);
    b.updates();
    assert_eq!(show(&b), new);
    assert_eq!(
        b.device("r-1").boot().password.as_deref(),
        Some(new.as_str())
    );
    let r = b.env.run(&["device", "show", "r-1"]);
    assert!(
        !r.all().contains(&new),
        "a secret was printed without --show-secrets"
    );
}

/// The module's flash after `espmqtt flash --port … --device NAME
/// --config-only` through the emulator, starting from the slots `name`'s
/// update logic holds; the device then runs what was written.
fn serial_flash(b: &mut Bench, name: &str) -> serde_json::Value {
    let image = b.env.path().join(format!("{name}-module.bin"));
    std::fs::write(&image, b.device(name).module_image()).unwrap();
    let mut emu = Emulator::start(
        &b.env,
        &[
            "--baud-model",
            "off",
            "--flash-size",
            "1MB",
            "--image",
            image.to_str().unwrap(),
        ],
    );
    let (r, v) = b.env.run_json(&[
        "flash",
        "--port",
        &emu.url(),
        "--device",
        name,
        "--config-only",
    ]);
    r.assert_code(0);
    assert_eq!(v["registry_updated"], true, "{v}");
    emu.stop();
    let flash = emu.saved_flash();
    b.device(name).load_module_image(&flash);
    v
}

/// A serial flash is the device's committed config (slot A, its number the
/// highest the registry issued): the next push decides from what the
/// device runs. Neither "up to date" when the device runs something else,
/// nor a republished update it already runs; a stale retained update does
/// not override the serial config; numbers stay above anything the device
/// has seen.
fn a_serial_flash_is_what_the_next_push_decides_from(backend: Backend) {
    let (mut b, _, _) = Bench::on(backend, &["s-1"]);
    let set_ssid = |b: &Bench, ssid: &str| {
        let p = b.env.path().join("espmqtt.toml");
        let text = std::fs::read_to_string(&p).unwrap();
        let i = text.find("ssid = ").unwrap();
        let end = i + text[i..].find('\n').unwrap();
        let text = format!("{}ssid = \"{ssid}\"{}", &text[..i], &text[end..]);
        std::fs::write(&p, text).unwrap();
    };
    let push = |b: &Bench| {
        let (r, v) = b.env.run_json(&["device", "push", "s-1", "--wait", "none"]);
        r.assert_code(0);
        line(&v, "s-1").clone()
    };
    // Update 1 over the air, committed.
    set_ssid(&b, "lab-1");
    assert_eq!(push(&b)["update"], 1);
    assert_eq!(b.device_connects("s-1", "ok").len(), 2);
    assert_eq!(line(&b.updates(), "s-1")["phase"], "committed");

    // The config changes and reaches the module over serial.
    set_ssid(&b, "lab-2");
    serial_flash(&mut b, "s-1");
    let booted = b.device("s-1").boot();
    assert_eq!(booted.wifi_ssid, "lab-2");
    assert_eq!(booted.config_version, 1, "the serial blob carries number 1");
    let (r, v) = b.env.run_json(&["device", "updates"]);
    r.assert_code(0);
    let l = line(&v, "s-1");
    assert_eq!(
        (&l["phase"], &l["committed"]),
        (&"serial".into(), &1.into()),
        "{v}"
    );
    // espmqtt.toml goes back to what update 1 carried: the device does not
    // run that any more, so it is pushed again, as update 2.
    set_ssid(&b, "lab-1");
    let l = push(&b);
    assert_eq!(
        (&l["action"], &l["update"]),
        (&"published".into(), &2.into()),
        "{l}"
    );
    assert_eq!(b.device_connects("s-1", "ok").len(), 2);
    assert_eq!(b.device("s-1").boot().wifi_ssid, "lab-1");

    // Update 3 is published while the module is offline; before it comes
    // back, the config changes again and the module is flashed over serial.
    set_ssid(&b, "lab-3");
    assert_eq!(push(&b)["update"], 3);
    set_ssid(&b, "lab-4");
    serial_flash(&mut b, "s-1");
    assert_eq!(b.device("s-1").boot().config_version, 3);
    // The stale retained update 3 is the device's own number now: it is
    // ignored, and the module keeps running its serial config.
    let acks = b.device_connects("s-1", "ok");
    assert!(acks.is_empty(), "{acks:?}");
    assert_eq!(b.device("s-1").boot().wifi_ssid, "lab-4");
    // The device runs what it should: nothing to publish.
    let l = push(&b);
    assert_eq!(l["action"], "up_to_date", "{l}");
    let v = b.updates();
    let l = line(&v, "s-1");
    assert_eq!(
        (&l["phase"], &l["committed"], &l["pending"]),
        (&"serial".into(), &3.into(), &serde_json::Value::Null),
        "{v}"
    );
    // The next change goes out above every number the device has seen.
    set_ssid(&b, "lab-5");
    assert_eq!(push(&b)["update"], 4);
    assert_eq!(b.device_connects("s-1", "ok").len(), 2);
    assert_eq!(b.device("s-1").boot().wifi_ssid, "lab-5");
    let r = b.env.run(&["device", "show", "s-1", "--format", "json"]);
    assert!(r.stdout.contains("update-serial"), "{}", r.stdout);
}

/// `-v` on `trust stage` and `device push`: the steps with their times on
/// stderr (reading the file, the registry, connecting, publishing, each
/// acknowledgement); `-vv` adds each message; stdout is the same document.
#[test]
fn verbose_push_and_stage_tell_their_steps_on_stderr() {
    let (mut b, _, _) = Bench::on(Backend::Sqlite, &["v-1"]);
    let (r, v) = b.env.run_json(&["trust", "stage", "--pem", "b.crt", "-v"]);
    r.assert_code(0);
    assert_eq!(v["outcome"], "staged", "{v}");
    for want in [
        "read file b.crt: 1 certificate(s): ",
        "registry: ",
        "next fingerprint: ",
        "record the trust in the registry (staged): ",
    ] {
        assert!(r.stderr.contains(want), "{want:?} missing:\n{}", r.stderr);
    }
    // A dry run: the same stdout with and without -v.
    let quiet = b
        .env
        .run(&["device", "push", "--all", "--dry-run", "--format", "json"]);
    let loud = b.env.run(&[
        "device",
        "push",
        "--all",
        "--dry-run",
        "--format",
        "json",
        "-v",
    ]);
    assert_eq!(quiet.stdout, loud.stdout);
    assert_eq!(quiet.stderr, "");
    assert!(
        loud.stderr.contains("v-1: would be update 1"),
        "{}",
        loud.stderr
    );

    // A real push, waiting for the staged acknowledgement.
    let waiter = {
        let mut c = b.env.cmd();
        c.args([
            "device",
            "push",
            "v-1",
            "--wait",
            "staged",
            "--timeout",
            "30s",
            "-vv",
        ])
        .args(["--format", "json"]);
        std::thread::spawn(move || c.output().unwrap())
    };
    let mut acks = Vec::new();
    for _ in 0..50 {
        acks = b.device_connects("v-1", "fail:wifi");
        if !acks.is_empty() {
            break;
        }
    }
    assert!(acks[0].contains("\"staged\""), "{acks:?}");
    let out = waiter.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(line(&v, "v-1")["result"], "staged", "{v}\n{stderr}");
    for want in [
        "v-1: update 1 issued in the registry",
        &format!("connect to 127.0.0.1:{} as (anonymous): ", b.broker.port),
        "subscribe to fleet/+/config/ack, fleet/+/heartbeat: ",
        "PUBLISH fleet/v-1/config: ",
        "publish 1 update(s), every PUBACK received: ",
        "received fleet/v-1/config/ack: {\"update\":1,\"result\":\"staged\"",
        "v-1: update 1 staged after ",
        "wait for acknowledgements (all settled): ",
        "disconnect: ",
    ] {
        assert!(stderr.contains(want), "{want:?} missing:\n{stderr}");
    }
    assert!(
        stderr.lines().filter(|l| l.ends_with(" ms")).count() >= 5,
        "{stderr}"
    );
}
