//! Integration tests: the certificate renewal walked as an operator walks
//! it (`docs/OTA.md`), with the mistakes people make on the way: the wrong
//! file, the live listener instead of the staging one, a wrong operator
//! password, an unreachable broker, a device that never answers, Ctrl-C in
//! the middle of a push, names that do not exist. Each test pins what the
//! command says, its exit code, that JSON stays one document and that a
//! failed command records nothing.
//!
//! The bench: a real mosquitto with TLS on loopback (anonymous devices, an
//! operator with a password), and the firmware's own update logic
//! (`tests/support/ota.rs`) as the devices.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::mosquitto::Mosquitto;
use crate::support::ota::Device;
use crate::support::pki::{self, Alg};
use crate::support::{free_port, Env, Run};
use rcgen::KeyPair;

const PREFIX: &str = "fleet";
const OPERATOR_PW: &str = "operator-secret-pw";

struct Journey {
    env: Env,
    ca: PathBuf,
    broker: Mosquitto,
    devices: Vec<(String, Device)>,
    cert_b: pki::Issued,
}

impl Journey {
    /// Broker on certificate A (B is the renewal, written as `b.crt`), a
    /// fingerprint-mode project pinning A, and `names` as devices whose
    /// flash holds their serial config.
    fn new(names: &[&str]) -> Journey {
        let env = Env::with_vars(vec![(
            "ESPMQTT_OPERATOR_PASSWORD".into(),
            OPERATOR_PW.into(),
        )]);
        let dir = env.path().to_path_buf();
        let ca = pki::ca("journey CA", Alg::EcP256);
        let cert_a = pki::leaf("broker A", &["localhost", "127.0.0.1"], Alg::EcP256, &ca);
        let cert_b = pki::leaf("broker B", &["localhost", "127.0.0.1"], Alg::EcP256, &ca);
        let (ca_file, _) = ca.write(&dir, "broker-ca");
        cert_a.write(&dir, "a");
        cert_b.write(&dir, "b");
        let passwd = dir.join("passwd");
        let o = Command::new("mosquitto_passwd")
            .args(["-c", "-b"])
            .arg(&passwd)
            .args(["espmqtt-operator", OPERATOR_PW])
            .output()
            .expect("mosquitto_passwd (mosquitto)");
        assert!(o.status.success(), "mosquitto_passwd: {o:?}");
        let broker = Mosquitto::start(
            &dir,
            &format!("allow_anonymous true\npassword_file {}", passwd.display()),
            &format!(
                "certfile {}\nkeyfile {}",
                dir.join("a.crt").display(),
                dir.join("a.key").display()
            ),
        );
        env.write(
            "espmqtt.toml",
            format!(
                "[broker]\nhost = \"127.0.0.1\"\nport = {}\n[wifi]\nssid = \"lab\"\npassword = \"wifi-pass\"\n\
                 [mqtt]\ntopic_prefix = \"{PREFIX}\"\n[tls]\ntrust = \"fingerprint\"\nfingerprints = [\"{}\"]\n\
                 [operator]\nusername = \"espmqtt-operator\"\nca_file = \"broker-ca.crt\"\n",
                broker.port,
                hex::encode(espmqtt::tls::cert::sha1(&cert_a.der()))
            ),
        );
        let mut j = Journey {
            env,
            ca: ca_file,
            broker,
            devices: Vec::new(),
            cert_b,
        };
        let mut args = vec!["device", "new"];
        args.extend(names);
        j.env.run(&args).assert_code(0);
        for n in names {
            let out = dir.join(format!("{n}.bin"));
            j.env
                .run(&["device", "config", n, "--out", out.to_str().unwrap()])
                .assert_code(0);
            let d = Device::new(&dir, &std::fs::read(&out).unwrap());
            j.devices.push((n.to_string(), d));
        }
        j
    }

    fn run(&self, args: &[&str]) -> Run {
        self.env.run(args)
    }

    fn json(&self, args: &[&str]) -> (Run, serde_json::Value) {
        self.env.run_json(args)
    }

    fn device(&mut self, name: &str) -> &mut Device {
        &mut self.devices.iter_mut().find(|(n, _)| n == name).unwrap().1
    }

    fn mosquitto(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        c.args(["-h", "127.0.0.1", "-p", &self.broker.port.to_string()])
            .arg("--cafile")
            .arg(&self.ca);
        c
    }

    /// The retained message on `<prefix>/<name>/<leaf>`, if any.
    fn retained(&self, name: &str, leaf: &str) -> Option<Vec<u8>> {
        let o = self
            .mosquitto("mosquitto_sub")
            .args(["-t", &format!("{PREFIX}/{name}/{leaf}")])
            .args(["-C", "1", "-W", "2", "-F", "%x"])
            .args(["-i", &format!("fetch-{name}")])
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
        (!s.is_empty()).then(|| hex::decode(s).unwrap())
    }

    fn publish_ack(&self, name: &str, line: &str) {
        let o = self
            .mosquitto("mosquitto_pub")
            .args(["-t", &format!("{PREFIX}/{name}/config/ack")])
            .args(["-r", "-q", "1", "-m", line])
            .args(["-i", &format!("dev-{name}")])
            .output()
            .unwrap();
        assert!(o.status.success(), "mosquitto_pub: {o:?}");
    }

    /// The device connects: its retained update, if any, is applied and
    /// acknowledged; then its next connections end with `outcome`.
    fn device_connects(&mut self, name: &str, outcome: &str) -> Vec<String> {
        let dir = self.env.path().to_path_buf();
        let mut acks = Vec::new();
        if let Some(m) = self.retained(name, "config") {
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

    /// `device updates --format json` (no broker).
    fn updates(&self) -> serde_json::Value {
        let (r, v) = self.json(&["device", "updates"]);
        r.assert_code(0);
        v
    }

    /// `espmqtt ARGS --format json` in the background.
    fn spawn(&self, args: &[&str]) -> std::process::Child {
        self.env
            .cmd()
            .args(args)
            .args(["--format", "json"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Wait until `name`'s update is retained on the broker.
    fn wait_for_update(&self, name: &str) -> Vec<u8> {
        let until = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(m) = self.retained(name, "config") {
                return m;
            }
            assert!(Instant::now() < until, "no update for {name} was published");
        }
    }
}

fn line<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v.as_array()
        .or(v["devices"].as_array())
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing in {v}"))
}

fn output_json(o: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// The registry holds no trust and no update for any device.
fn nothing_recorded(j: &Journey, names: &[&str]) {
    let (r, v) = j.json(&["trust", "show"]);
    r.assert_code(0);
    assert_eq!(v, serde_json::json!([]), "trust was recorded");
    let v = j.updates();
    for n in names {
        assert_eq!(line(&v, n)["phase"], "serial", "{v}");
        assert_eq!(line(&v, n)["pending"], serde_json::Value::Null, "{v}");
    }
}

/// `trust stage` given the wrong file: a private key, a certificate
/// request, an empty file, something else. Each says what the file is and
/// which file to give (exit 2); the key is never echoed; nothing is
/// recorded. `--file` is accepted like `fingerprint --file`. Staging the
/// certificate the fleet already trusts (the live listener instead of the
/// staging one) says so and records nothing, not even the current trust.
#[test]
fn trust_stage_names_the_wrong_file_and_records_nothing() {
    let j = Journey::new(&["s-1"]);
    let key_pem = std::fs::read_to_string(j.env.path().join("b.key")).unwrap();
    let body: String = key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    j.env.write(
        "next.csr",
        "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
    );
    j.env.write("empty.pem", "");
    j.env.write("notes.txt", "renew before June\n");
    for (file, says, help) in [
        (
            "b.key",
            "holds a private key, not a certificate",
            "fullchain.pem",
        ),
        (
            "next.csr",
            "certificate request (CSR)",
            "the certificate the CA issued",
        ),
        ("empty.pem", "is empty", "the PEM file of the renewal"),
        (
            "notes.txt",
            "neither a PEM nor a DER certificate",
            "-----BEGIN CERTIFICATE-----",
        ),
    ] {
        let (r, v) = j.json(&["trust", "stage", "--file", file]);
        r.assert_code(2);
        assert_eq!(v["type"], "error", "{v}");
        assert!(v["message"].as_str().unwrap().contains(says), "{file}: {v}");
        assert!(v["help"].as_str().unwrap().contains(help), "{file}: {v}");
        let r = j.run(&["trust", "stage", "--pem", file]);
        r.assert_code(2);
        assert!(!r.all().contains(&body[..40]), "the key was echoed");
    }
    // Neither --pem nor --from: the usage names both.
    let r = j.run(&["trust", "stage"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("--pem") && r.stderr.contains("--from"),
        "{}",
        r.stderr
    );
    // The certificate the broker serves now, from the file and from the
    // live listener.
    let (r, v) = j.json(&["trust", "stage", "--pem", "a.crt"]);
    r.assert_code(0);
    assert_eq!(v["outcome"], "current", "{v}");
    let r = j.run(&["trust", "stage", "--from", &j.broker.addr()]);
    r.assert_code(0);
    assert!(
        r.stdout
            .contains("is what the fleet trusts now (fingerprint trust)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("--from HOST:PORT"), "{}", r.stdout);
    nothing_recorded(&j, &["s-1"]);
    // The right file, with -q: the staged fingerprint alone.
    let r = j.run(&["trust", "stage", "--file", "b.crt", "-q"]);
    r.assert_code(0);
    let fp_b = espmqtt::tls::cert::colon_hex(&espmqtt::tls::cert::sha1(&j.cert_b.der()));
    assert_eq!(r.stdout, format!("{fp_b}\n"));
    let r = j.run(&["trust", "stage", "--file", "b.crt"]);
    r.assert_code(0);
    assert!(r.stdout.contains("staged already"), "{}", r.stdout);
}

/// A push that cannot reach the broker as the operator (wrong password,
/// nothing listening) fails with the README's exit code and leaves the
/// registry as it was: no update numbered, no device shown `pending`. A
/// dry run needs no password. `push` without devices names `--all`.
#[test]
fn a_push_that_cannot_connect_records_nothing() {
    let j = Journey::new(&["p-1", "p-2"]);
    let mut c = j.env.cmd();
    c.args(["device", "push", "--all", "--password-env", "WRONG_PW"])
        .args(["--format", "json"])
        .env("WRONG_PW", "not-the-password");
    let r = Run::from(c.output().unwrap());
    r.assert_code(2);
    let v = r.json();
    assert!(
        v["message"].as_str().unwrap().contains("not authorised"),
        "{v}"
    );
    assert!(!r.all().contains("not-the-password"));
    nothing_recorded(&j, &["p-1", "p-2"]);
    let closed = free_port().to_string();
    let (r, v) = j.json(&[
        "device",
        "push",
        "--all",
        "--broker",
        &format!("127.0.0.1:{closed}"),
    ]);
    r.assert_code(3);
    assert!(
        v["help"]
            .as_str()
            .unwrap()
            .contains("nothing was published or recorded"),
        "{v}"
    );
    nothing_recorded(&j, &["p-1", "p-2"]);
    // A dry run, without any password.
    let mut c = j.env.cmd();
    c.args(["device", "push", "--all", "--dry-run"])
        .env_remove("ESPMQTT_OPERATOR_PASSWORD");
    let r = Run::from(c.output().unwrap());
    r.assert_code(0);
    assert!(r.stdout.contains("would_publish"), "{}", r.stdout);
    assert!(r.stdout.contains("2 would be published"), "{}", r.stdout);
    assert!(
        r.stdout.contains("nothing was published or recorded"),
        "{}",
        r.stdout
    );
    nothing_recorded(&j, &["p-1", "p-2"]);
    let r = j.run(&["device", "push"]);
    r.assert_code(2);
    assert!(r.stderr.contains("--all"), "{}", r.stderr);
    // Names that do not exist: exit 2, for push, updates and the forecast.
    for args in [
        vec!["device", "push", "p-1..p-3", "--dry-run"],
        vec!["device", "updates", "p-9"],
        vec!["probe", "--staged-trust", "--device", "p-9"],
    ] {
        let (r, v) = j.json(&args);
        r.assert_code(2);
        assert!(
            v["message"].as_str().unwrap().contains("no device named"),
            "{args:?}: {v}"
        );
    }
}

/// Ctrl-C while a push waits: the wait ends, stdout is one JSON document
/// saying `interrupted` with what was heard (one device committed, one
/// never answered), exit 130; the registry kept the commit; running the
/// same push again publishes the same update for the silent device.
#[test]
fn ctrl_c_ends_the_wait_with_one_report() {
    let mut j = Journey::new(&["c-1", "c-2"]);
    j.run(&["trust", "stage", "--pem", "b.crt"]).assert_code(0);
    let child = j.spawn(&["device", "push", "--all", "--timeout", "60s"]);
    j.wait_for_update("c-2");
    let acks = j.device_connects("c-1", "ok");
    assert_eq!(acks.len(), 2, "{acks:?}");
    // Until the push heard the commit, then Ctrl-C.
    let until = Instant::now() + Duration::from_secs(20);
    while line(&j.updates(), "c-1")["phase"] != "committed" {
        assert!(Instant::now() < until, "the push never recorded the commit");
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    let started = Instant::now();
    Command::new("kill").args(["-INT", &pid]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the push did not stop"
    );
    assert_eq!(out.status.code(), Some(130), "{out:?}");
    let v = output_json(&out);
    assert_eq!(v["interrupted"], true, "{v}");
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(line(&v, "c-1")["result"], "committed", "{v}");
    assert_eq!(line(&v, "c-2")["result"], "none", "{v}");
    let n = line(&v, "c-2")["update"].clone();
    assert_eq!(line(&j.updates(), "c-2")["phase"], "pending");
    let (r, v) = j.json(&["device", "push", "--all", "--wait", "none"]);
    r.assert_code(0);
    assert_eq!(line(&v, "c-2")["action"], "republished", "{v}");
    assert_eq!(line(&v, "c-2")["update"], n, "{v}");
    assert_eq!(line(&v, "c-1")["action"], "up_to_date", "{v}");
}

/// A device rotated over the air commits after `rotate` returned (it waits
/// for `staged` only). The next push hears the retained commit before it
/// decides: the device is not `busy`, and its key rotation goes out (a
/// dry run counts the rotation too). Retained acknowledgements heard again
/// are not the device speaking: "last seen" stays when nothing new came.
#[test]
fn the_next_push_hears_what_the_devices_said_since() {
    let mut j = Journey::new(&["r-1"]);
    let child = j.spawn(&["device", "rotate", "r-1", "--over-the-air"]);
    j.wait_for_update("r-1");
    let acks = j.device_connects("r-1", "ok");
    assert_eq!(acks.len(), 2, "{acks:?}");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(line(&output_json(&out), "r-1")["result"], "staged");
    let (r, v) = j.json(&["device", "push", "r-1", "--rotate-key", "--dry-run"]);
    r.assert_code(0);
    // The registry still says staged (nobody listened since): busy.
    assert_eq!(line(&v, "r-1")["action"], "busy", "{v}");
    let (r, v) = j.json(&["device", "push", "r-1", "--rotate-key", "--wait", "none"]);
    r.assert_code(0);
    assert_eq!(line(&v, "r-1")["action"], "published", "{v}");
    let acks = j.device_connects("r-1", "ok");
    assert!(acks.last().unwrap().contains("committed"), "{acks:?}");
    let seen = |j: &Journey| {
        let (r, v) = j.json(&["device", "updates", "--refresh", "1s"]);
        r.assert_code(0);
        line(&v, "r-1")["last_seen_at"].clone()
    };
    let first = seen(&j);
    assert_ne!(first, serde_json::Value::Null);
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(
        seen(&j),
        first,
        "a retained ack counted as the device speaking"
    );
    let (r, v) = j.json(&["device", "push", "r-1", "--rotate-key", "--dry-run"]);
    r.assert_code(0);
    assert_eq!(line(&v, "r-1")["action"], "would_publish", "{v}");
    // -q: the device lines alone; --wait none: no answer was awaited.
    let r = j.run(&[
        "device",
        "push",
        "r-1",
        "-q",
        "--wait",
        "none",
        "--rotate-key",
    ]);
    r.assert_code(0);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(r.stdout.starts_with("r-1 "), "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with(" -"), "{}", r.stdout);
}

/// `probe --staged-trust`: names the devices that would not survive the
/// switch; `-q` prints the verdict word; a broker that is not there is
/// exit 3 with one JSON error, not a table of failures.
#[test]
fn the_forecast_names_the_stranded_devices() {
    let mut j = Journey::new(&["f-1", "f-2"]);
    j.run(&["trust", "stage", "--pem", "b.crt"]).assert_code(0);
    j.run(&["device", "push", "--all", "--wait", "none"])
        .assert_code(0);
    assert_eq!(j.device_connects("f-1", "ok").len(), 2);
    j.run(&["device", "updates", "--refresh", "1s"])
        .assert_code(0);
    let r = j.run(&["probe", "--staged-trust"]);
    r.assert_code(1);
    assert!(
        r.stdout.contains("Would not survive the switch: f-2."),
        "{}",
        r.stdout
    );
    let r = j.run(&["probe", "--staged-trust", "-q"]);
    r.assert_code(1);
    assert_eq!(r.stdout, "fail\n");
    let r = j.run(&["probe", "--staged-trust", "--device", "f-1", "-q"]);
    r.assert_code(0);
    assert_eq!(r.stdout, "ok\n");
    let closed = format!("127.0.0.1:{}", free_port());
    let (r, v) = j.json(&["probe", "--staged-trust", &closed]);
    r.assert_code(3);
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(v["kind"], "unreachable", "{v}");
    // Retiring before f-2 committed: refused, named; with --force the text
    // says that espmqtt.toml still pins the retired certificate.
    let r = j.run(&["trust", "retire"]);
    r.assert_code(1);
    assert!(r.stderr.contains("f-2"), "{}", r.stderr);
    let r = j.run(&["trust", "retire", "--force"]);
    r.assert_code(0);
    assert!(
        r.stdout
            .contains("espmqtt.toml still names the retired trust"),
        "{}",
        r.stdout
    );
}

/// A device that rolls back and one that never answers: exit 1, and the
/// text says what to do about each (the rollback's reason, the deadline).
#[test]
fn a_failed_push_says_what_to_do_next() {
    let mut j = Journey::new(&["n-1", "n-2"]);
    j.run(&["trust", "stage", "--pem", "b.crt"]).assert_code(0);
    let mut c = j.env.cmd();
    c.args(["device", "push", "--all", "--timeout", "4s"]);
    let child = c
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    j.wait_for_update("n-1");
    let acks = j.device_connects("n-1", "fail:tls:62");
    assert!(acks.last().unwrap().contains("rolled_back"), "{acks:?}");
    let out = Run::from(child.wait_with_output().unwrap());
    out.assert_code(1);
    assert!(
        out.stdout
            .contains("n-1: the new config's trust does not accept the broker (tls:62)"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("no answer"), "{}", out.stdout);
    assert!(
        out.stdout.contains("did not answer in time"),
        "{}",
        out.stdout
    );
}

/// `ca` mode: a server certificate (or a fullchain.pem, leaf first) is not
/// an anchor: only its CA certificates are staged, and a file with none is
/// refused with what to give. `pubkey` mode: a renewal on the same key has
/// nothing to stage, and the text says the devices accept it as it is.
#[test]
fn trust_stage_takes_what_ca_and_pubkey_modes_need() {
    let env = Env::new();
    let dir = env.path();
    let ca = pki::ca("journey CA", Alg::EcP256);
    let next_ca = pki::ca("journey CA 2", Alg::EcP256);
    let leaf = pki::leaf("broker", &["localhost"], Alg::EcP256, &next_ca);
    ca.write(dir, "ca");
    leaf.write(dir, "leaf");
    env.write(
        "fullchain.pem",
        format!("{}{}", leaf.cert_pem, next_ca.cert_pem),
    );
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"broker.example\"\n[wifi]\nssid = \"lab\"\n\
         [tls]\ntrust = \"ca\"\nca_file = \"ca.crt\"\n",
    );
    env.run(&["device", "new", "m-1"]).assert_code(0);
    let (r, v) = env.run_json(&["trust", "stage", "--pem", "leaf.crt"]);
    r.assert_code(2);
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("holds no CA certificate"),
        "{v}"
    );
    let (r, v) = env.run_json(&["trust", "show"]);
    r.assert_code(0);
    assert_eq!(v, serde_json::json!([]));
    let (r, v) = env.run_json(&["trust", "stage", "--pem", "fullchain.pem"]);
    r.assert_code(0);
    let staged = v["staged"].as_array().unwrap();
    assert_eq!(staged.len(), 1, "{v}");
    assert!(
        staged[0]["label"]
            .as_str()
            .unwrap()
            .contains("journey CA 2"),
        "{v}"
    );

    // espmqtt.toml switched to another mode while the registry serves
    // anchors: stage and the forecast refuse, nothing is mixed in.
    let before = env.run_json(&["trust", "show"]).1;
    let fp = hex::encode(espmqtt::tls::cert::sha1(&leaf.der()));
    env.write(
        "espmqtt.toml",
        format!(
            "[broker]\nhost = \"broker.example\"\n[wifi]\nssid = \"lab\"\n\
             [tls]\ntrust = \"fingerprint\"\nfingerprints = [\"{fp}\"]\n"
        ),
    );
    for args in [
        vec!["trust", "stage", "--pem", "leaf.crt"],
        vec!["probe", "--staged-trust"],
    ] {
        let (r, v) = env.run_json(&args);
        r.assert_code(2);
        assert!(
            v["message"]
                .as_str()
                .unwrap()
                .contains("the registry serves ca trust"),
            "{args:?}: {v}"
        );
    }
    assert_eq!(env.run_json(&["trust", "show"]).1, before);

    // pubkey: the renewal kept the key.
    let env = Env::new();
    let dir = env.path();
    let a = pki::leaf("broker a", &["localhost"], Alg::EcP256, &ca);
    let same_key = KeyPair::from_pem(&a.key_pem).unwrap();
    let renewed = pki::leaf_with_key("broker a renewed", &["localhost"], same_key, &ca, |_| {});
    a.write(dir, "a");
    renewed.write(dir, "renewed");
    let o = Command::new("openssl")
        .args(["x509", "-in", "a.crt", "-pubkey", "-noout", "-out", "a.pub"])
        .current_dir(dir)
        .output()
        .expect("openssl");
    assert!(o.status.success(), "{o:?}");
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"broker.example\"\n[wifi]\nssid = \"lab\"\n\
         [tls]\ntrust = \"pubkey\"\npubkey_file = \"a.pub\"\n",
    );
    let r = env.run(&["trust", "stage", "--pem", "renewed.crt"]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("has the public key the fleet pins now"),
        "{}",
        r.stdout
    );
}

/// Retiring while a large fleet has not committed: refused (exit 1), the
/// message names the first ten and counts the rest, nothing changes.
#[test]
fn retire_before_the_fleet_committed_is_refused_briefly() {
    let env = Env::new();
    let ca = pki::ca("journey CA", Alg::EcP256);
    let next = pki::leaf("broker", &["localhost"], Alg::EcP256, &ca);
    next.write(env.path(), "next");
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"broker.example\"\n[wifi]\nssid = \"lab\"\n[tls]\n\
         trust = \"fingerprint\"\nfingerprints = [\"0102030405060708090a0b0c0d0e0f1011121314\"]\n",
    );
    env.run(&["device", "new", "--prefix", "x-", "--count", "14"])
        .assert_code(0);
    env.run(&["trust", "stage", "--pem", "next.crt"])
        .assert_code(0);
    let before = env.run_json(&["trust", "show"]).1;
    let (r, v) = env.run_json(&["trust", "retire"]);
    r.assert_code(1);
    let m = v["message"].as_str().unwrap();
    assert!(m.starts_with("14 device(s)"), "{m}");
    assert!(m.contains("x-010 and 4 more"), "{m}");
    assert!(!m.contains("x-011"), "{m}");
    assert_eq!(env.run_json(&["trust", "show"]).1, before);
}

/// `device rotate --over-the-air --timeout`: a device that does not answer
/// in time leaves the rotation pending, and the command says when to sync
/// the broker; without --over-the-air, --timeout is refused.
#[test]
fn rotate_over_the_air_waits_as_long_as_asked() {
    let j = Journey::new(&["t-1"]);
    let started = Instant::now();
    let r = j.run(&[
        "device",
        "rotate",
        "t-1",
        "--over-the-air",
        "--timeout",
        "1s",
    ]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "--timeout 1s was not honoured"
    );
    assert_ne!(r.code, 0, "{}", r.all());
    assert_ne!(r.code, 101, "{}", r.all());
    assert!(r.all().contains("sync"), "{}", r.all());
    j.run(&["device", "rotate", "t-1", "--timeout", "1s"])
        .assert_code(2);
}
