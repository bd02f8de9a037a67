//! Integration tests: device registry, secrets, client certificates and the
//! mosquitto artefacts, against a real mosquitto on loopback.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::device::{mode, publish, server_pki, Auth, Recorder, ServerPki, Sub};
use crate::support::mosquitto::Mosquitto;
use crate::support::postgres::{both_backends, Backend};
use crate::support::{have, mosquitto_bin, wait_for_port, Env};

both_backends!(
    names_series_duplicates_and_invalid_names,
    secrets_are_strong_and_redacted_everywhere_without_show_secrets,
    broker_export_confines_devices_and_follows_rotation_and_revocation,
    eight_parallel_processes_create_400_devices,
    sigkill_during_creation_leaves_only_whole_devices,
);

fn broker_tools() -> bool {
    let ok = mosquitto_bin().is_some() && have("mosquitto_sub") && have("mosquitto_pub");
    if !ok {
        eprintln!(
            "skipping: mosquitto and mosquitto-clients are not installed (scripts/install-deps)"
        );
    }
    ok
}

fn secret_of(env: &Env, name: &str) -> String {
    let (r, v) = env.run_json(&["device", "show", name, "--show-secrets"]);
    r.assert_code(0);
    v["secret"].as_str().expect("secret shown").to_string()
}

fn names_in_registry(env: &Env) -> Vec<String> {
    let (r, v) = env.run_json(&["device", "list"]);
    r.assert_code(0);
    v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect()
}

/// Export into `dir` and start mosquitto including the exported snippet;
/// returns the broker and the TLS port.
fn export_and_start(
    rec: &Recorder,
    pki: &ServerPki,
    dir: &Path,
    extra: &[&str],
) -> (Mosquitto, u16) {
    let env = rec.env;
    let port = crate::support::free_port();
    let port_s = port.to_string();
    let mut args = vec![
        "broker",
        "export",
        "--mosquitto",
        dir.to_str().unwrap(),
        "--port",
        &port_s,
        "--bind",
        "127.0.0.1",
        "--server-cert",
        pki.cert.to_str().unwrap(),
        "--server-key",
        pki.key.to_str().unwrap(),
        "--ca",
        pki.ca.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    rec.run(&args).assert_code(0);
    let m = Mosquitto::start(env.path(), &format!("include_dir {}", dir.display()), "");
    assert!(
        wait_for_port(
            format!("127.0.0.1:{port}").parse().unwrap(),
            Duration::from_secs(5)
        ),
        "TLS listener did not come up:\n{}",
        m.log_text()
    );
    (m, port)
}

fn re_export(rec: &Recorder, dir: &Path, port: u16, pki: &ServerPki, extra: &[&str]) {
    let port_s = port.to_string();
    let mut args = vec![
        "broker",
        "export",
        "--mosquitto",
        dir.to_str().unwrap(),
        "--port",
        &port_s,
        "--bind",
        "127.0.0.1",
        "--server-cert",
        pki.cert.to_str().unwrap(),
        "--server-key",
        pki.key.to_str().unwrap(),
        "--ca",
        pki.ca.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    rec.run(&args).assert_code(0);
}

fn pw(user: &str, pass: &str) -> Auth {
    Auth::Password(user.into(), pass.into())
}

fn names_series_duplicates_and_invalid_names(backend: Backend) {
    let env = backend.env();
    env.run(&["device", "new", "kitchen", "garage"])
        .assert_code(0);
    env.run(&["device", "new", "--prefix", "s-", "--count", "8"])
        .assert_code(0);
    env.run(&["device", "new", "--prefix", "sensor-", "--count", "100"])
        .assert_code(0);
    env.run(&[
        "device", "new", "--prefix", "sensor-", "--start", "101", "--count", "5",
    ])
    .assert_code(0);
    let names = names_in_registry(&env);
    for n in [
        "kitchen",
        "garage",
        "s-001",
        "s-008",
        "sensor-001",
        "sensor-100",
        "sensor-101",
        "sensor-105",
    ] {
        assert!(names.contains(&n.to_string()), "{n} missing");
    }
    assert!(!names.contains(&"s-1".to_string()));
    let before = names.len();

    // Invalid names: exit 2, nothing created (not even the valid ones).
    for bad in ["a b", "a/b", "x#", "", &"x".repeat(65), "ok-name\u{e9}"] {
        let r = env.run(&["device", "new", "fine-one", bad]);
        r.assert_code(2);
        assert!(r.stderr.contains("error:"), "{}", r.stderr);
    }
    env.run(&["device", "new", "twice", "twice"]).assert_code(2);
    assert_eq!(names_in_registry(&env).len(), before);

    // A duplicate exits 2 and creates nothing for that name; the new one is created.
    let old = secret_of(&env, "kitchen");
    let (r, v) = env.run_json(&["device", "new", "kitchen", "pantry"]);
    r.assert_code(2);
    assert_eq!(v["duplicates"][0], "kitchen");
    assert_eq!(v["created"][0]["name"], "pantry");
    assert_eq!(
        secret_of(&env, "kitchen"),
        old,
        "the existing device was not touched"
    );
    let r = env.run(&["device", "new", "kitchen"]);
    r.assert_code(2);
    assert!(r.stderr.contains("already exists"), "{}", r.stderr);
    assert_eq!(names_in_registry(&env).len(), before + 1);

    // Unknown device: usage error.
    env.run(&["device", "show", "nope"]).assert_code(2);
    env.run(&["device", "rotate", "nope"]).assert_code(2);
    env.run(&["device", "revoke", "nope"]).assert_code(2);
}

fn secrets_are_strong_and_redacted_everywhere_without_show_secrets(backend: Backend) {
    let env = backend.env();
    let rec = Recorder::new(&env);
    rec.run(&["device", "new", "alpha", "beta"]).assert_code(0);
    rec.run(&["device", "new", "gamma", "--format", "json"])
        .assert_code(0);
    rec.run(&["device", "new", "-v", "--prefix", "z-", "--count", "3"])
        .assert_code(0);
    rec.run(&["ca", "init"]).assert_code(0);
    rec.run(&["ca", "show", "--format", "json"]).assert_code(0);
    rec.run(&["device", "new", "delta", "--client-cert"])
        .assert_code(0);
    let certs = env.path().join("certs");
    rec.run(&["device", "cert", "alpha", "--out", certs.to_str().unwrap()])
        .assert_code(0);
    rec.run(&[
        "device", "cert", "beta", "--rsa", "2048", "--format", "json",
    ])
    .assert_code(0);

    let mut secrets: Vec<String> = ["alpha", "beta", "gamma", "delta", "z-001", "z-002", "z-003"]
        .iter()
        .map(|n| secret_of(&env, n))
        .collect();
    for s in &secrets {
        assert!(
            s.len() >= 22 && s.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{s}"
        );
    }
    let mut uniq = secrets.clone();
    uniq.sort();
    uniq.dedup();
    assert_eq!(uniq.len(), secrets.len());
    // Private keys count as secrets too.
    let (_, v) = env.run_json(&["device", "show", "delta", "--show-secrets"]);
    let key = v["certificate_key_pem"].as_str().unwrap().to_string();
    let key_body = key.lines().nth(1).unwrap().to_string();

    for args in [
        vec!["device", "list"],
        vec!["device", "list", "--format", "json"],
        vec!["device", "show", "alpha"],
        vec!["device", "show", "delta", "--format", "json"],
        vec!["device", "show", "beta", "-v"],
        vec!["device", "export"],
        vec!["device", "export", "--format", "json"],
        vec!["device", "rotate", "gamma"],
        vec!["device", "rotate", "z-001", "--format", "json"],
        vec!["device", "revoke", "z-002"],
        vec!["device", "revoke", "z-002", "--format", "json"],
        vec!["device", "rotate", "z-002"],
        vec!["device", "new", "alpha"],
        vec!["device", "new", "alpha", "--format", "json"],
        vec!["broker", "export", "--mosquitto", "out", "--admin", "ops"],
        vec![
            "broker",
            "export",
            "--mosquitto",
            "out21",
            "--mosquitto-version",
            "2.1",
            "--format",
            "json",
        ],
        vec!["device", "export", "--out", "devices.csv"],
    ] {
        rec.run(&args);
    }
    for f in [
        "out/passwd",
        "out/acl",
        "out/mosquitto.conf",
        "out21/passwd",
        "devices.csv",
    ] {
        rec.record_file(&env.path().join(f));
    }
    // New secrets after rotation, and the old ones, are all checked.
    secrets.push(secret_of(&env, "gamma"));
    secrets.push(secret_of(&env, "z-001"));
    secrets.push(key_body);
    rec.assert_no_secrets(&secrets);
    assert!(rec.runs() > 25);

    // --show-secrets does show them, in JSON and CSV.
    let (_, v) = env.run_json(&["device", "export", "--show-secrets"]);
    let alpha = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "alpha")
        .unwrap();
    assert_eq!(alpha["secret"].as_str().unwrap(), secrets[0]);
    let csv = env.run(&["device", "export", "--show-secrets"]);
    assert!(
        csv.stdout
            .contains(&format!("alpha,alpha,alpha,{},active", secrets[0])),
        "{}",
        csv.stdout
    );
    // A revoked device has no secret any more; rotation keeps no old secret.
    let (_, v) = env.run_json(&["device", "show", "z-002", "--show-secrets"]);
    assert!(v["secret"].is_null());
    assert_eq!(v["status"], "revoked");
    let (_, v) = env.run_json(&["device", "show", "gamma", "--show-secrets"]);
    assert_eq!(v["credential_history"].as_array().unwrap().len(), 2);
}

fn broker_export_confines_devices_and_follows_rotation_and_revocation(backend: Backend) {
    if !broker_tools() {
        return;
    }
    let env = backend.env();
    let rec = Recorder::new(&env);
    let pki = server_pki(env.path());
    rec.run(&["device", "new", "dev-a", "dev-b", "dev-c"])
        .assert_code(0);
    let (a, b, c) = (
        secret_of(&env, "dev-a"),
        secret_of(&env, "dev-b"),
        secret_of(&env, "dev-c"),
    );
    let dir = env.path().join("broker");
    let (m, port) = export_and_start(&rec, &pki, &dir, &[]);
    let ca = pki.ca.clone();

    // 1. Every device connects with its own password and gets its own messages.
    for (n, s) in [("dev-a", &a), ("dev-b", &b), ("dev-c", &c)] {
        let sub = Sub::start(port, &ca, &pw(n, s), n, &[&format!("espmqtt/{n}/#")])
            .unwrap_or_else(|e| panic!("{n} could not subscribe: {e}\n{}", m.log_text()));
        publish(
            port,
            &ca,
            &pw(n, s),
            &format!("{n}-pub"),
            &format!("espmqtt/{n}/up"),
            "hello",
        )
        .assert_code(0);
        assert_eq!(
            sub.next_message(Duration::from_secs(10)),
            Some((format!("espmqtt/{n}/up"), "hello".into()))
        );
    }
    // Wrong password: refused.
    let r = publish(port, &ca, &pw("dev-a", &b), "x", "espmqtt/dev-a/up", "no");
    assert_ne!(r.code, 0, "wrong password accepted");
    assert!(Sub::start(
        port,
        &ca,
        &pw("dev-a", "wrong-password-123"),
        "dev-a",
        &["espmqtt/dev-a/#"]
    )
    .is_err());

    // dev-b cannot read dev-a's prefix: subscribed to both, the first message
    // it gets is its own marker, published after dev-a's message was routed.
    let spy = Sub::start(
        port,
        &ca,
        &pw("dev-b", &b),
        "dev-b",
        &["espmqtt/dev-a/#", "espmqtt/dev-b/#"],
    )
    .expect("dev-b subscribes (mosquitto grants the SUBACK)");
    publish(
        port,
        &ca,
        &pw("dev-a", &a),
        "dev-a-pub",
        "espmqtt/dev-a/secret",
        "private",
    )
    .assert_code(0);
    publish(
        port,
        &ca,
        &pw("dev-b", &b),
        "dev-b-pub",
        "espmqtt/dev-b/marker",
        "m",
    )
    .assert_code(0);
    assert_eq!(
        spy.next_message(Duration::from_secs(10)),
        Some(("espmqtt/dev-b/marker".into(), "m".into())),
        "dev-b read dev-a's message"
    );
    // dev-b cannot write into dev-a's prefix: dev-a's subscriber sees only
    // the marker dev-a publishes afterwards.
    let owner = Sub::start(port, &ca, &pw("dev-a", &a), "dev-a", &["espmqtt/dev-a/#"]).unwrap();
    publish(
        port,
        &ca,
        &pw("dev-b", &b),
        "dev-b-pub",
        "espmqtt/dev-a/cmd",
        "evil",
    )
    .assert_code(0);
    publish(
        port,
        &ca,
        &pw("dev-a", &a),
        "dev-a-pub",
        "espmqtt/dev-a/marker",
        "m",
    )
    .assert_code(0);
    assert_eq!(
        owner.next_message(Duration::from_secs(10)),
        Some(("espmqtt/dev-a/marker".into(), "m".into())),
        "dev-b wrote into dev-a's prefix"
    );
    drop((spy, owner));

    // 2. Rotation: after export + reload the old secret is refused, the new accepted.
    rec.run(&["device", "rotate", "dev-a"]).assert_code(0);
    let a2 = secret_of(&env, "dev-a");
    assert_ne!(a, a2);
    re_export(&rec, &dir, port, &pki, &[]);
    m.reload();
    assert_ne!(
        publish(port, &ca, &pw("dev-a", &a), "x", "espmqtt/dev-a/up", "old").code,
        0
    );
    publish(port, &ca, &pw("dev-a", &a2), "x", "espmqtt/dev-a/up", "new").assert_code(0);

    // 3. Revocation: after export + reload the device is refused.
    rec.run(&["device", "revoke", "dev-c"]).assert_code(0);
    re_export(&rec, &dir, port, &pki, &[]);
    assert!(!std::fs::read_to_string(dir.join("passwd"))
        .unwrap()
        .contains("dev-c:"));
    assert!(!std::fs::read_to_string(dir.join("acl"))
        .unwrap()
        .contains("dev-c"));
    m.reload();
    assert_ne!(
        publish(port, &ca, &pw("dev-c", &c), "x", "espmqtt/dev-c/up", "gone").code,
        0
    );
    publish(
        port,
        &ca,
        &pw("dev-b", &b),
        "x",
        "espmqtt/dev-b/up",
        "still here",
    )
    .assert_code(0);

    for f in ["passwd", "acl", "mosquitto.conf"] {
        rec.record_file(&dir.join(f));
    }
    rec.record_file(&m.log);
    rec.assert_no_secrets(&[a, a2, b, c]);
}

#[test]
fn client_certificate_identity_is_its_cn() {
    if !broker_tools() {
        return;
    }
    let env = Env::new();
    let rec = Recorder::new(&env);
    let pki = server_pki(env.path());
    rec.run(&["ca", "init"]).assert_code(0);
    rec.run(&["device", "new", "cert-ec", "--client-cert"])
        .assert_code(0);
    rec.run(&[
        "device",
        "new",
        "cert-rsa",
        "--client-cert",
        "--rsa",
        "2048",
    ])
    .assert_code(0);
    let out = env.path().join("certs");
    for n in ["cert-ec", "cert-rsa"] {
        rec.run(&["device", "cert", n, "--out", out.to_str().unwrap()])
            .assert_code(0);
    }
    // Re-issuing as RSA replaces the EC certificate of cert-rsa with RSA.
    rec.run(&[
        "device",
        "cert",
        "cert-rsa",
        "--rsa",
        "2048",
        "--out",
        out.to_str().unwrap(),
    ])
    .assert_code(0);
    let text = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-text", "-in"])
        .arg(out.join("cert-rsa.crt"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("CN = cert-rsa") || text.contains("CN=cert-rsa"),
        "{text}"
    );
    assert!(
        text.contains("rsaEncryption") && text.contains("2048 bit"),
        "{text}"
    );
    assert!(text.contains("TLS Web Client Authentication"), "{text}");
    assert_eq!(mode(&out.join("cert-ec.key")), 0o600);

    let dir = env.path().join("broker");
    let (m, port) = export_and_start(&rec, &pki, &dir, &[]);
    let conf = std::fs::read_to_string(dir.join("mosquitto.conf")).unwrap();
    assert!(
        conf.contains("require_certificate true") && conf.contains("use_identity_as_username true")
    );
    let ca = pki.ca.clone();
    for n in ["cert-ec", "cert-rsa"] {
        let auth = Auth::Cert(out.join(format!("{n}.crt")), out.join(format!("{n}.key")));
        // The ACL entry is keyed on the username, so delivery under
        // espmqtt/<CN>/ proves mosquitto took the identity from the CN.
        let sub = Sub::start(
            port,
            &ca,
            &auth,
            n,
            &[&format!("espmqtt/{n}/#"), "espmqtt/cert-ec/#"],
        )
        .unwrap_or_else(|e| panic!("{n}: {e}\n{}", m.log_text()));
        publish(
            port,
            &ca,
            &auth,
            &format!("{n}-pub"),
            &format!("espmqtt/{n}/up"),
            "by cert",
        )
        .assert_code(0);
        assert_eq!(
            sub.next_message(Duration::from_secs(10)),
            Some((format!("espmqtt/{n}/up"), "by cert".into()))
        );
    }
    // Without a certificate the listener refuses the client, password or not.
    let s = secret_of(&env, "cert-ec");
    assert_ne!(
        publish(
            port,
            &ca,
            &pw("cert-ec", &s),
            "x",
            "espmqtt/cert-ec/up",
            "no"
        )
        .code,
        0
    );
    // The superseded EC certificate of cert-rsa is gone from the registry.
    let (_, v) = env.run_json(&["device", "show", "cert-rsa"]);
    assert_eq!(v["certificate"]["key_type"], "rsa-2048");
    rec.run(&["device", "show", "cert-rsa"]).assert_code(0);

    // Neither the passwords nor the private keys appear in any output.
    let key_line = |n: &str| {
        let k = std::fs::read_to_string(out.join(format!("{n}.key"))).unwrap();
        k.lines().nth(1).unwrap().to_string()
    };
    let secrets = vec![
        s,
        secret_of(&env, "cert-rsa"),
        key_line("cert-ec"),
        key_line("cert-rsa"),
    ];
    rec.record_file(&dir.join("mosquitto.conf"));
    rec.record_file(&m.log);
    rec.assert_no_secrets(&secrets);
}

#[test]
fn passwd_lines_of_both_versions_verify_in_mosquitto() {
    if !broker_tools() {
        return;
    }
    let env = Env::new();
    let rec = Recorder::new(&env);
    let pki = server_pki(env.path());
    rec.run(&["device", "new", "v-one", "v-two"]).assert_code(0);
    let one = secret_of(&env, "v-one");
    for (version, iterations) in [("2.0", "101"), ("2.1", "1000")] {
        let dir = env.path().join(format!("broker-{version}"));
        let (m, port) = export_and_start(&rec, &pki, &dir, &["--mosquitto-version", version]);
        let passwd = std::fs::read_to_string(dir.join("passwd")).unwrap();
        for line in passwd.lines() {
            let hash = line.split_once(':').unwrap().1;
            let parts: Vec<&str> = hash.split('$').collect();
            assert_eq!(parts[..3], ["", "7", iterations], "{line}");
        }
        publish(
            port,
            &pki.ca,
            &pw("v-one", &one),
            "v-one",
            "espmqtt/v-one/x",
            "ok",
        )
        .assert_code(0);
        assert_ne!(
            publish(
                port,
                &pki.ca,
                &pw("v-one", "nope"),
                "v-one",
                "espmqtt/v-one/x",
                "no"
            )
            .code,
            0
        );
        assert!(
            !m.log_text().contains("Invalid password hash"),
            "{}",
            m.log_text()
        );
    }
    let two = secret_of(&env, "v-two");
    rec.assert_no_secrets(&[one, two]);
}

#[test]
fn admin_line_is_kept_across_exports() {
    if !have("mosquitto_passwd") {
        return;
    }
    let env = Env::new();
    env.run(&["device", "new", "one"]).assert_code(0);
    let dir = env.path().join("b");
    let r = env.run(&["broker", "export", "--mosquitto", "b", "--admin", "ops"]);
    r.assert_code(0);
    assert!(r.stderr.contains("mosquitto_passwd"), "{}", r.stderr);
    let st = std::process::Command::new("mosquitto_passwd")
        .arg("-b")
        .arg(dir.join("passwd"))
        .args(["ops", "opspassword"])
        .output()
        .unwrap();
    assert!(st.status.success());
    let (_, v) = env.run_json(&["broker", "export", "--mosquitto", "b", "--admin", "ops"]);
    assert_eq!(v["admin_password_kept"], true);
    let passwd = std::fs::read_to_string(dir.join("passwd")).unwrap();
    assert!(passwd.lines().any(|l| l.starts_with("ops:$7$")));
    assert!(std::fs::read_to_string(dir.join("acl"))
        .unwrap()
        .contains("user ops\ntopic readwrite #"));
    env.run(&["broker", "export", "--mosquitto", "b", "--admin", "one"])
        .assert_code(2);
}

fn eight_parallel_processes_create_400_devices(backend: Backend) {
    let env = backend.env();
    let children: Vec<_> = (0..8)
        .map(|i| {
            env.cmd()
                .args([
                    "device",
                    "new",
                    "--prefix",
                    &format!("p{i}-"),
                    "--count",
                    "50",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let names = names_in_registry(&env);
    assert_eq!(names.len(), 400);
    let mut u = names.clone();
    u.sort();
    u.dedup();
    assert_eq!(u.len(), 400);
    for i in 0..8 {
        for j in 1..=50 {
            assert!(names.contains(&format!("p{i}-{j:03}")), "p{i}-{j:03} lost");
        }
    }
    let (_, v) = env.run_json(&["device", "export", "--show-secrets"]);
    let mut secrets: Vec<&str> = v["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["secret"].as_str().unwrap())
        .collect();
    secrets.sort();
    secrets.dedup();
    assert_eq!(secrets.len(), 400);
}

fn sigkill_during_creation_leaves_only_whole_devices(backend: Backend) {
    let env = backend.env();
    let mut child = crate::support::KillOnDrop(
        env.cmd()
            .args(["device", "new", "--prefix", "k-", "--count", "10000"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    // Kill as soon as the first batch is committed.
    let db = env.path().join(".espmqtt/registry.db");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "no device was ever committed"
        );
        if backend == Backend::Postgres || db.exists() {
            let (r, v) = env.run_json(&["device", "list"]);
            if r.code == 0 && v["count"].as_u64().unwrap_or(0) > 0 {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.0.kill().unwrap(); // SIGKILL
    let _ = child.0.wait();

    let (r, v) = env.run_json(&["device", "export", "--show-secrets"]);
    r.assert_code(0);
    let devices = v["devices"].as_array().unwrap();
    let n = devices.len();
    assert!(n > 0);
    eprintln!("killed after {n} of 10000 devices");
    for d in devices {
        let s = d["secret"].as_str().unwrap_or("");
        assert!(s.len() >= 22, "{} has no whole secret", d["name"]);
    }
    // Every device has its password line: nothing half-written.
    env.run(&["broker", "export", "--mosquitto", "b"])
        .assert_code(0);
    let passwd = std::fs::read_to_string(env.path().join("b/passwd")).unwrap();
    assert_eq!(passwd.lines().count(), n);
    let (r, v) = env.run_json(&["device", "check"]);
    r.assert_code(0);
    assert_eq!(v["ok"], true);
    assert_eq!(v["devices"].as_u64(), Some(n as u64));
    // The registry keeps working: continue the series.
    env.run(&["device", "new", "after-crash"]).assert_code(0);
}

#[test]
fn a_foreign_registry_file_is_refused_and_left_untouched() {
    let env = Env::new();
    let db: PathBuf = env.write(
        ".espmqtt/registry.db",
        "name,secret\nthis is not a database\n",
    );
    let before = std::fs::read(&db).unwrap();
    let mtime = std::fs::metadata(&db).unwrap().modified().unwrap();
    for args in [
        vec!["device", "list"],
        vec!["device", "new", "x"],
        vec!["broker", "export", "--mosquitto", "b"],
    ] {
        let r = env.run(&args);
        assert!(r.code == 2 || r.code == 4, "{args:?}: {}", r.code);
        assert!(r.stderr.contains("not an espmqtt registry"), "{}", r.stderr);
        assert!(r.stderr.contains("help:"), "{}", r.stderr);
    }
    let (r, v) = env.run_json(&["device", "list"]);
    assert_eq!(r.code, 2);
    assert_eq!(v["type"], "error");
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert_eq!(std::fs::metadata(&db).unwrap().modified().unwrap(), mtime);
    assert!(!env.path().join(".espmqtt/registry.db-wal").exists());
}

#[test]
fn file_modes_of_registry_passwd_and_keys() {
    let env = Env::new();
    env.run(&["ca", "init", "--rsa", "2048"]).assert_code(0);
    env.run(&["device", "new", "m1", "--client-cert"])
        .assert_code(0);
    env.run(&[
        "broker",
        "export",
        "--mosquitto",
        "b",
        "--client-certs",
        "off",
    ])
    .assert_code(0);
    env.run(&["device", "export", "--show-secrets", "--out", "all.csv"])
        .assert_code(0);
    let p = env.path();
    assert_eq!(mode(&p.join(".espmqtt/registry.db")), 0o600);
    assert_eq!(mode(&p.join(".espmqtt")), 0o700);
    assert_eq!(mode(&p.join(".espmqtt/ca/ca.key")), 0o600);
    assert_eq!(mode(&p.join(".espmqtt/ca")), 0o700);
    assert_eq!(mode(&p.join("b/passwd")), 0o600);
    assert_eq!(mode(&p.join("b/acl")), 0o600);
    assert_eq!(mode(&p.join("all.csv")), 0o600);
    if p.join(".espmqtt/registry.db-wal").exists() {
        assert_eq!(mode(&p.join(".espmqtt/registry.db-wal")), 0o600);
    }
    // No temporary files left behind by the atomic writes.
    let leftovers: Vec<_> = std::fs::read_dir(p.join("b"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty());
    // An existing CA is never replaced.
    env.run(&["ca", "init"]).assert_code(2);
    let (_, v) = env.run_json(&["ca", "show"]);
    assert_eq!(v["key_type"], "rsa-2048");
}

/// SQLite → PostgreSQL → SQLite through `device export --dump` and
/// `device import`: the same dump at each step, secrets, certificates,
/// hashes, flash records and events included; the dump files are 0600.
#[test]
fn a_registry_moves_between_backends_losslessly() {
    let sq = Env::new();
    sq.run(&["device", "new", "mv-a", "mv-b", "mv-c"])
        .assert_code(0);
    sq.run(&["device", "rotate", "mv-b"]).assert_code(0);
    sq.run(&["device", "revoke", "mv-c"]).assert_code(0);
    sq.run(&["ca", "init"]).assert_code(0);
    sq.run(&["device", "cert", "mv-a"]).assert_code(0);
    sq.run(&[
        "broker",
        "export",
        "--mosquitto",
        "b",
        "--mosquitto-version",
        "2.1",
    ])
    .assert_code(0);
    crate::support::postgres::open_registry(&sq)
        .record_flash(
            "mv-a",
            "5C:CF:7F:01:02:03",
            Some("010203"),
            Some(1 << 20),
            Some("ab"),
        )
        .unwrap();
    let d1 = sq.path().join("d1.json");
    sq.run(&["device", "export", "--dump", d1.to_str().unwrap()])
        .assert_code(0);
    assert_eq!(mode(&d1), 0o600);

    let pg = Backend::Postgres.env();
    pg.run(&["device", "import", d1.to_str().unwrap()])
        .assert_code(0);
    let d2 = pg.path().join("d2.json");
    pg.run(&["device", "export", "--dump", d2.to_str().unwrap()])
        .assert_code(0);
    assert_eq!(mode(&d2), 0o600);
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    assert_eq!(read(&d1), read(&d2));
    assert_eq!(secret_of(&pg, "mv-b"), secret_of(&sq, "mv-b"));
    let (_, v) = pg.run_json(&["device", "show", "mv-a", "--show-secrets"]);
    assert_eq!(v["mac"], "5c:cf:7f:01:02:03");
    assert!(v["certificate_key_pem"]
        .as_str()
        .unwrap()
        .contains("PRIVATE KEY"));
    // A registry that holds anything is refused, and left as it was.
    let r = pg.run(&["device", "import", d1.to_str().unwrap()]);
    r.assert_code(2);
    assert!(r.stderr.contains("not empty"), "{}", r.stderr);

    let back = Env::new();
    back.run(&["device", "import", d2.to_str().unwrap()])
        .assert_code(0);
    let d3 = back.path().join("d3.json");
    back.run(&["device", "export", "--dump", d3.to_str().unwrap()])
        .assert_code(0);
    assert_eq!(read(&d1), read(&d3));
    let (r, v) = back.run_json(&["device", "check"]);
    r.assert_code(0);
    assert_eq!(v["ok"], true);
    // The revoked device stays out of the broker files after the move.
    back.run(&["broker", "export", "--mosquitto", "b"])
        .assert_code(0);
    let passwd = std::fs::read_to_string(back.path().join("b/passwd")).unwrap();
    assert_eq!(passwd.lines().count(), 2);
    // A damaged dump is refused before anything is written.
    let bad = back.write("bad.json", "{\"format\":\"espmqtt-registry-dump\"");
    let fresh = Env::new();
    fresh
        .run(&["device", "import", bad.to_str().unwrap()])
        .assert_code(2);
    assert!(!fresh.path().join(".espmqtt").exists());
}

/// Read-only commands create nothing: outside a project `device list`
/// exits 2 and leaves the directory empty; `list`, `show` and `export`
/// read a registry the user cannot write.
#[test]
fn read_only_commands_create_nothing_and_need_no_write_access() {
    let env = Env::new();
    for args in [
        &["device", "list"][..],
        &["device", "show", "x"],
        &["device", "export"],
    ] {
        let r = env.run(args);
        r.assert_code(2);
        assert!(r.stderr.contains("no espmqtt project"), "{}", r.stderr);
    }
    assert_eq!(std::fs::read_dir(env.path()).unwrap().count(), 0);
    // A project without devices yet: an empty list.
    env.write("espmqtt.toml", "[broker]\nhost = \"b.example\"\n");
    let (r, v) = env.run_json(&["device", "list"]);
    r.assert_code(0);
    assert_eq!(v["count"], 0);
    assert!(!env.path().join(".espmqtt").exists());

    env.run(&["device", "new", "ro-a", "ro-b"]).assert_code(0);
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    if !is_root || !have("runuser") {
        eprintln!("skipping the other-user half: not root");
        return;
    }
    // Readable by everyone, writable by nobody but root.
    use std::os::unix::fs::PermissionsExt;
    let set = |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m));
    set(env.path(), 0o755).unwrap();
    set(&env.path().join(".espmqtt"), 0o755).unwrap();
    for f in std::fs::read_dir(env.path().join(".espmqtt")).unwrap() {
        set(&f.unwrap().path(), 0o644).unwrap();
    }
    set(&env.path().join("espmqtt.toml"), 0o644).unwrap();
    let before: Vec<_> = std::fs::read_dir(env.path().join(".espmqtt"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    let as_nobody = |args: &[&str]| {
        let mut c = std::process::Command::new("runuser");
        c.args(["-u", "nobody", "--"])
            .arg(crate::support::bin())
            .args(args)
            .current_dir(env.path())
            .env("HOME", env.path())
            .stdin(std::process::Stdio::null());
        crate::support::scrub(&mut c);
        crate::support::Run::from(c.output().unwrap())
    };
    let r = as_nobody(&["device", "list", "--format", "json"]);
    r.assert_code(0);
    assert!(r.stdout.contains("ro-b"), "{}", r.stdout);
    as_nobody(&["device", "show", "ro-a"]).assert_code(0);
    let r = as_nobody(&["device", "export"]);
    r.assert_code(0);
    assert!(r.stdout.contains("ro-a"), "{}", r.stdout);
    // A write needs write access and says so.
    let r = as_nobody(&["device", "new", "ro-c"]);
    assert_eq!(r.code, 2, "{}", r.all());
    let after: Vec<_> = std::fs::read_dir(env.path().join(".espmqtt"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(before, after);
}

/// One width for a series (3 digits unless --width), and a partial
/// success that scripts can read: created and skipped names, exit 2 unless
/// --skip-existing.
#[test]
fn series_keep_their_width_and_partial_success_is_scriptable() {
    let env = Env::new();
    env.run(&["device", "new", "--prefix", "sensor-", "--count", "5"])
        .assert_code(0);
    let (r, v) = env.run_json(&[
        "device", "new", "--prefix", "sensor-", "--count", "5", "--start", "4",
    ]);
    r.assert_code(2);
    let names = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|x| {
                x.as_str()
                    .map(String::from)
                    .unwrap_or_else(|| x["name"].as_str().unwrap().into())
            })
            .collect()
    };
    assert_eq!(names("created"), ["sensor-006", "sensor-007", "sensor-008"]);
    assert_eq!(names("skipped"), ["sensor-004", "sensor-005"]);
    assert_eq!(v["partial"], true);
    let (r, v) = env.run_json(&[
        "device",
        "new",
        "--prefix",
        "sensor-",
        "--count",
        "10",
        "--skip-existing",
    ]);
    r.assert_code(0);
    assert_eq!(v["created"].as_array().unwrap().len(), 2);
    assert_eq!(v["skipped"].as_array().unwrap().len(), 8);
    let r = env.run(&[
        "device", "new", "--prefix", "x-", "--count", "2", "--width", "5",
    ]);
    r.assert_code(0);
    assert!(r.stdout.contains("x-00001"), "{}", r.stdout);
    // All skipped, without --skip-existing: an error, nothing written.
    env.run(&[
        "device", "new", "--prefix", "x-", "--count", "2", "--width", "5",
    ])
    .assert_code(2);
}

/// `--client-certs require` names the devices it would lock out and
/// refuses, unless told to; `--owner` hands the secret files to the
/// broker's user.
#[test]
fn broker_export_refuses_to_lock_out_devices_and_hands_files_to_the_broker_user() {
    let env = Env::new();
    env.run(&["ca", "init"]).assert_code(0);
    env.run(&["device", "new", "with-cert", "--client-cert"])
        .assert_code(0);
    env.run(&["device", "new", "no-cert"]).assert_code(0);
    let r = env.run(&[
        "broker",
        "export",
        "--mosquitto",
        "b",
        "--client-certs",
        "require",
    ]);
    r.assert_code(2);
    assert!(r.stderr.contains("no-cert"), "{}", r.stderr);
    assert!(!r.stderr.contains("with-cert,"), "{}", r.stderr);
    assert!(!env.path().join("b").exists(), "nothing was written");
    env.run(&[
        "broker",
        "export",
        "--mosquitto",
        "b",
        "--client-certs",
        "require",
        "--lock-out-devices-without-cert",
    ])
    .assert_code(0);
    // --ca is still understood, --ca-file is the name.
    let ca = env.write("ca.pem", "");
    let _ = ca;
    let root = std::fs::read_to_string("/etc/passwd")
        .map(|t| t.lines().any(|l| l.starts_with("mosquitto:")))
        .unwrap_or(false)
        && std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
    if !root {
        eprintln!("skipping --owner: not root, or no mosquitto user");
        return;
    }
    let r = env.run(&["broker", "export", "--mosquitto", "c"]);
    r.assert_code(0);
    assert!(r.stderr.contains("--owner mosquitto"), "{}", r.stderr);
    let r = env.run(&[
        "broker",
        "export",
        "--mosquitto",
        "c",
        "--owner",
        "mosquitto",
        "--dynsec",
        "ds.json",
    ]);
    r.assert_code(0);
    use std::os::unix::fs::MetadataExt;
    let uid = |p: &str| std::fs::metadata(env.path().join(p)).unwrap().uid();
    assert_ne!(uid("c/passwd"), 0);
    assert_ne!(uid("ds.json"), 0);
    assert_eq!(mode(&env.path().join("c/passwd")), 0o600);
    env.run(&[
        "broker",
        "export",
        "--mosquitto",
        "c",
        "--owner",
        "no-such-user-x",
    ])
    .assert_code(2);
}
