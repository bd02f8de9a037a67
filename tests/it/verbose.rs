//! `-v` and `-vv` on every command of the diagnostics area: they add lines on
//! stderr (`-vv` more than `-v`), never change stdout (text or JSON, apart
//! from measured times), and never show a secret. Against a real mosquitto
//! (`probe --device`), `openssl s_server` (`fingerprint`), a replayed
//! console (`monitor`), and offline (`fingerprint --file`, `device new`,
//! `device cert`).

use regex::Regex;
use serde_json::Value;

use crate::support::emulator::Emulator;
use crate::support::fingerprint::OpensslServer;
use crate::support::monitor::ConsoleServer;
use crate::support::pki::Alg;
use crate::support::probe::{have_mosquitto, tls_broker, TestPki};
use crate::support::{Env, Run};
use espmqtt::emulator::console::ConsoleOptions;

/// Stdout with measured times masked: `12 ms`, `0.4 s`, and the padding
/// before them (the phase table right-aligns its milliseconds).
fn masked_text(s: &str) -> String {
    let times = Regex::new(r"\s*\d+(\.\d+)? (ms|s)\b").expect("regex");
    times.replace_all(s, " <t>").into_owned()
}

/// A JSON value with measured times removed: every key that is or ends in
/// `millis` or `_ms`, and the `timings` object.
fn masked_json(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| {
                    !(k.ends_with("millis") || k.ends_with("_ms") || k.as_str() == "timings")
                })
                .map(|(k, v)| (k.clone(), masked_json(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(masked_json).collect()),
        other => other.clone(),
    }
}

/// Every JSON document on stdout (one, or JSON Lines), masked.
fn documents(run: &Run) -> Vec<Value> {
    let whole: Result<Value, _> = serde_json::from_str(&run.stdout);
    match whole {
        Ok(v) => vec![masked_json(&v)],
        Err(_) => run
            .stdout
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| {
                let v: Value = serde_json::from_str(l)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {l}\n{}", run.stdout));
                masked_json(&v)
            })
            .collect(),
    }
}

fn lines(s: &str) -> usize {
    s.lines().filter(|l| !l.trim().is_empty()).count()
}

/// Runs `args` plain, with `-v` and with `-vv`, in text and in JSON, in
/// `env`: the exit code is `code` every time, stdout is the same (times
/// masked), stderr grows with each level, no run shows `secret`. Returns
/// the stderr of the text runs with `-v` and `-vv`.
fn levels(env: &Env, args: &[&str], code: i32, secret: Option<&str>) -> (String, String) {
    let run = |extra: &[&str], json: bool| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(extra);
        if json {
            a.extend(["--format", "json"]);
        }
        let r = env.run(&a);
        assert_eq!(r.code, code, "espmqtt {}\n{}", a.join(" "), r.all());
        if let Some(s) = secret {
            assert!(
                !r.all().contains(s),
                "espmqtt {} shows the secret:\n{}",
                a.join(" "),
                r.all()
            );
        }
        r
    };
    let (plain, v, vv) = (run(&[], false), run(&["-v"], false), run(&["-vv"], false));
    assert_eq!(
        masked_text(&plain.stdout),
        masked_text(&v.stdout),
        "-v changed stdout"
    );
    assert_eq!(
        masked_text(&plain.stdout),
        masked_text(&vv.stdout),
        "-vv changed stdout"
    );
    assert!(
        lines(&v.stderr) > lines(&plain.stderr),
        "-v adds nothing on stderr:\n{}",
        v.stderr
    );
    assert!(
        lines(&vv.stderr) > lines(&v.stderr),
        "-vv adds nothing to -v:\n-v:\n{}\n-vv:\n{}",
        v.stderr,
        vv.stderr
    );
    let (jplain, jv, jvv) = (run(&[], true), run(&["-v"], true), run(&["-vv"], true));
    let docs = documents(&jplain);
    assert!(!docs.is_empty(), "no JSON on stdout");
    assert_eq!(docs, documents(&jv), "-v changed the JSON");
    assert_eq!(docs, documents(&jvv), "-vv changed the JSON");
    assert!(lines(&jvv.stderr) > lines(&jv.stderr), "{}", jvv.stderr);
    (v.stderr, vv.stderr)
}

fn has(text: &str, wanted: &[&str]) {
    for w in wanted {
        assert!(text.contains(w), "no {w:?} in:\n{text}");
    }
}

/// `probe --device` against mosquitto with the exported password file:
/// `-v` says each phase and its time and the files read, `-vv` the TLS
/// records, the suite, the certificates and the MQTT packets; the device's
/// password never shows.
#[test]
fn probe_device_verbose_levels() {
    if !have_mosquitto() {
        eprintln!("skipped: mosquitto is not installed (scripts/install-deps)");
        return;
    }
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    env.run(&["device", "new", "d1"]).assert_code(0);
    env.run(&["broker", "export", "--mosquitto", "b"])
        .assert_code(0);
    let b = env.path().join("b");
    let broker = tls_broker(
        env.path(),
        &pki,
        &format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n",
            b.join("passwd").display(),
            b.join("acl").display()
        ),
    );
    env.write(
        "espmqtt.toml",
        format!(
            "[broker]\nhost = \"localhost\"\nport = {}\n\n[tls]\ntrust = \"ca\"\nca_file = \"{}\"\n",
            broker.port,
            pki.ca_file.display()
        ),
    );
    let (_, shown) = env.run_json(&["device", "show", "d1", "--show-secrets"]);
    let secret = shown["secret"]
        .as_str()
        .expect("the device's secret")
        .to_string();
    assert!(secret.len() >= 16, "{shown}");

    let (v, vv) = levels(&env, &["probe", "--device", "d1"], 0, Some(&secret));
    has(
        &v,
        &[
            "read ",
            "espmqtt.toml",
            "read device d1 from the registry",
            "TCP connect: ok",
            "TLS handshake (the device's BearSSL engine): ok",
            "CONNACK return code 0",
            "SUBACK 0x00",
            "the message came back after",
            " ms",
            "password set",
        ],
    );
    assert!(!v.contains("TLS <-"), "-v shows records:\n{v}");
    has(
        &vv,
        &[
            "TLS -> handshake record, TLS 1.0",
            "ClientHello (",
            "TLS <- handshake record, TLS 1.2",
            "ServerHello (",
            "Certificate (",
            "TLS chosen: TLS 1.2, TLS_ECDHE_",
            "certificate #0: subject CN=localhost",
            "SHA-256 ",
            "-> MQTT CONNECT, ",
            "<- MQTT CONNACK, 4 B: return code 0",
            "-> MQTT SUBSCRIBE",
            "<- MQTT PUBLISH",
        ],
    );
    // -q is still the verdict alone.
    let q = env.run(&["probe", "--device", "d1", "-q"]);
    q.assert_code(0);
    assert_eq!(q.stdout, "ok\n");
    assert_eq!(q.stderr, "");
}

/// `fingerprint` against `openssl s_server`, with rustls and with the
/// device's engine (`--tls12`), and from a file.
#[test]
fn fingerprint_verbose_levels() {
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let server = OpensslServer::start(&[
        "-cert",
        &pki.cert_file.display().to_string(),
        "-key",
        &pki.key_file.display().to_string(),
    ]);
    let addr = format!("localhost:{}", server.port);
    let (v, vv) = levels(&env, &["fingerprint", &addr], 0, None);
    has(
        &v,
        &[
            "name resolution:",
            "TCP connect to 127.0.0.1:",
            "TLS handshake (rustls",
        ],
    );
    has(
        &vv,
        &[
            "SNI sent: localhost",
            "TLS -> handshake record",
            "ClientHello (",
            "TLS <- handshake record, TLS 1.2",
            "ServerHello (",
            "TLS chosen: TLS 1.3",
            "certificate #0: subject CN=localhost",
        ],
    );
    let (v, vv) = levels(&env, &["fingerprint", &addr, "--tls12"], 0, None);
    has(&v, &["TLS handshake (the device's BearSSL engine"]);
    has(
        &vv,
        &[
            "Certificate (",
            "ServerHelloDone (0 B)",
            "TLS chosen: TLS 1.2",
            "certificate #0",
        ],
    );
    let file = pki.cert_file.display().to_string();
    let (v, vv) = levels(&env, &["fingerprint", "--file", &file], 0, None);
    has(&v, &["read ", "1 certificate(s)"]);
    has(&vv, &["certificate #0: subject CN=localhost", "SHA-256 "]);
}

/// `monitor`: `-v` says the port and its settings, `-vv` every raw line
/// before it is decoded.
#[test]
fn monitor_verbose_levels() {
    let transcript = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/console/full.txt"),
    )
    .expect("transcript");
    let server = ConsoleServer::start(
        transcript,
        ConsoleOptions {
            line_delay: std::time::Duration::ZERO,
            ..Default::default()
        },
    );
    let env = Env::new();
    let url = server.url();
    let args = [
        "monitor",
        "--port",
        &url,
        "--until",
        "unprovisioned",
        "--timeout",
        "30",
    ];
    let (v, vv) = levels(&env, &args, 0, None);
    has(&v, &["port socket://", "console at 115200 baud", "opened "]);
    has(&vv, &["raw: ", "ets Jan  8 2013,rst cause:", "\\r\\n"]);
}

/// Offline: `device new` says where the secrets went and how long it took;
/// `device cert --out` every file written, with its mode.
#[test]
fn device_new_and_cert_verbose_levels() {
    // Three runs of `device new` need three registries: one env per level,
    // stdout compared with the directory masked.
    let run = |level: &[&str]| {
        let env = Env::new();
        let mut a = vec!["device", "new", "s1", "s2"];
        a.extend_from_slice(level);
        let r = env.run(&a);
        r.assert_code(0);
        let dir = env.path().display().to_string();
        (r.stdout.replace(&dir, "<dir>"), r.stderr)
    };
    let (plain, _) = run(&[]);
    let (out_v, v) = run(&["-v"]);
    let (out_vv, vv) = run(&["-vv"]);
    assert_eq!(plain, out_v);
    assert_eq!(plain, out_vv);
    has(
        &v,
        &["registry ", "2 secret(s) generated and stored in", " ms"],
    );
    has(&vv, &["batch of 2: 2 created"]);
    assert!(lines(&vv) > lines(&v));

    let env = Env::new();
    env.run(&["ca", "init"]).assert_code(0);
    env.run(&["device", "new", "c1"]).assert_code(0);
    let r = env.run(&["device", "cert", "c1", "--out", "certs", "-v"]);
    r.assert_code(0);
    has(
        &r.stderr,
        &[
            "read the local CA",
            "issued a ",
            "c1.key (mode 0600)",
            "c1.crt (mode 0644)",
            "ca.crt (mode 0644)",
        ],
    );
    let quiet = env.run(&["device", "cert", "c1", "--out", "certs"]);
    quiet.assert_code(0);
    assert!(!quiet.stderr.contains("(mode 0600)"), "{}", quiet.stderr);
    let (run, v) = env.run_json(&["device", "cert", "c1", "-vv"]);
    run.assert_code(0);
    assert_eq!(v["name"], "c1");
    assert!(run.stderr.contains("issued a "), "{}", run.stderr);
}

/// `emulate -v`: the listener and where the flash is saved, on stderr (its
/// stdout stays the JSON Lines the tools read); each connection in words.
#[test]
fn emulate_verbose_says_listener_and_save() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--save", "flash.bin", "-v"]);
    let _ = std::net::TcpStream::connect(("127.0.0.1", emu.port()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let wanted = [
        "listening on 127.0.0.1:",
        "--save: ",
        "flash.bin is writable",
        "connection from",
    ];
    loop {
        let text = emu.stderr_text();
        if wanted.iter().all(|w| text.contains(w)) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "emulate -v did not say {wanted:?}:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// `flash -v` with stderr not a terminal (no bars drawn): the steps (write
/// path, stub, baud) still show; without `-v` they do not; stdout is the
/// same report.
#[test]
fn flash_verbose_steps_without_a_terminal() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--flash-size", "1MB"]);
    let mut fw = vec![0xE9, 0x01, 0x02, 0x20, 0, 0, 0, 0];
    fw.extend((0..40_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8));
    env.write("fw.bin", &fw);
    let url = emu.url();
    let flash = |extra: &[&str]| {
        let mut a = vec![
            "flash",
            "--after",
            "no-reset",
            "--port",
            url.as_str(),
            "--firmware",
            "fw.bin",
            "--force",
        ];
        a.extend_from_slice(extra);
        let r = env.run(&a);
        r.assert_code(0);
        r
    };
    let plain = flash(&[]);
    assert!(!plain.stderr.contains("write path"), "{}", plain.stderr);
    let v = flash(&["-v"]);
    has(&v.stderr, &["write path: ", "uploading flasher stub"]);
    // `-q`: the result only (no chip line, no loader line).
    let q = flash(&["-q"]);
    assert_eq!(q.stdout.trim(), "firmware written", "{}", q.all());
    assert_eq!(
        masked_text(&plain.stdout).lines().count(),
        masked_text(&v.stdout).lines().count(),
        "-v changed stdout:\n{}\n{}",
        plain.stdout,
        v.stdout
    );
}

/// Every command honours `-v`: the project and registry a project command
/// reads, and the time it took, on stderr; stdout unchanged.
#[test]
fn every_project_command_says_what_it_read() {
    let env = Env::new();
    env.init_project("127.0.0.1:8883", &["--trust", "insecure"])
        .assert_code(0);
    env.run(&["device", "new", "d1", "d2"]).assert_code(0);
    for args in [
        &["device", "list"][..],
        &["device", "show", "d1"],
        &["device", "export"],
        &["device", "updates"],
        &["trust", "show"],
    ] {
        let plain = env.run(args);
        let mut a = args.to_vec();
        a.push("-v");
        let v = env.run(&a);
        assert_eq!(plain.code, v.code, "{}", v.all());
        assert_eq!(
            plain.stdout,
            v.stdout,
            "espmqtt {}: -v changed stdout",
            a.join(" ")
        );
        has(&v.stderr, &["project: ", "registry: ", "finished: "]);
        assert!(!plain.stderr.contains("registry: "), "{}", plain.stderr);
    }
    // `-q`: the names only, ready for a shell loop.
    let q = env.run(&["device", "list", "-q"]);
    q.assert_code(0);
    assert_eq!(q.stdout, "d1\nd2\n");
    let v = env.run(&["ports", "--format", "json", "-v"]);
    has(&v.stderr, &["serial port(s) on this system", "finished: "]);
}
