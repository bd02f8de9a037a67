//! A new user's first steps, mistakes included: each failing command exits
//! with the README's code, says what to do next, and writes nothing.

use std::time::Duration;

use crate::support::device::{publish, server_pki, Auth};
use crate::support::mosquitto::Mosquitto;
use crate::support::{wait_for_port, Env};

/// Every entry of `dir` (names), sorted.
fn entries(env: &Env) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(env.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn changing_a_device_outside_a_project_creates_no_registry() {
    let env = Env::new();
    for args in [
        &["device", "revoke", "sensor-001"][..],
        &["device", "rotate", "sensor-001"],
        &["device", "cert", "sensor-001"],
        &["device", "check"],
    ] {
        let r = env.run(args);
        r.assert_code(2);
        assert!(
            r.stderr.contains("no espmqtt project here"),
            "{args:?}: {}",
            r.stderr
        );
        assert!(
            entries(&env).is_empty(),
            "{args:?} wrote {:?}",
            entries(&env)
        );
    }
}

#[test]
fn changing_an_unknown_device_in_a_new_project_creates_no_registry() {
    let env = Env::new();
    env.init_project("localhost:8883", &["--trust", "insecure"])
        .assert_code(0);
    for args in [
        &["device", "revoke", "sensor-001"][..],
        &["device", "rotate", "sensor-001"],
        &["device", "config", "sensor-001", "--out", "s.bin"],
    ] {
        let r = env.run(args);
        r.assert_code(2);
        assert!(
            r.stderr.contains("no device named \"sensor-001\""),
            "{args:?}: {}",
            r.stderr
        );
        assert_eq!(entries(&env), ["espmqtt.toml"], "{args:?}");
    }
}

fn secret_of(env: &Env, name: &str) -> String {
    let (r, v) = env.run_json(&["device", "show", name, "--show-secrets"]);
    r.assert_code(0);
    v["secret"].as_str().expect("secret shown").to_string()
}

/// README's path: init with the broker's port, devices, `broker export`
/// without `--port`: the exported listener is the port the devices were
/// configured with, a real mosquitto accepts a device's credentials on it,
/// and a revoked device is refused after the next export and reload.
#[test]
fn exported_broker_listens_where_the_devices_connect() {
    if crate::support::mosquitto_bin().is_none() || !crate::support::have("mosquitto_pub") {
        eprintln!("skipping: mosquitto and mosquitto-clients are not installed");
        return;
    }
    let env = Env::new();
    let pki = server_pki(env.path());
    let port = crate::support::free_port();
    let broker = format!("localhost:{port}");
    let ca = pki.ca.to_str().unwrap();
    env.init_project(&broker, &["--trust", "ca", "--ca-file", ca])
        .assert_code(0);
    env.run(&["device", "new", "--prefix", "sensor-", "--count", "3"])
        .assert_code(0);
    let dir = env.path().join("broker");
    let export = [
        "broker",
        "export",
        "--mosquitto",
        dir.to_str().unwrap(),
        "--bind",
        "127.0.0.1",
        "--server-cert",
        pki.cert.to_str().unwrap(),
        "--server-key",
        pki.key.to_str().unwrap(),
    ];
    let r = env.run(&export);
    r.assert_code(0);
    assert!(r.stdout.contains(&format!("port {port}")), "{}", r.stdout);
    let conf = std::fs::read_to_string(dir.join("mosquitto.conf")).unwrap();
    assert!(
        conf.contains(&format!("listener {port} 127.0.0.1")),
        "{conf}"
    );

    let m = Mosquitto::start(env.path(), &format!("include_dir {}", dir.display()), "");
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(
        wait_for_port(addr, Duration::from_secs(5)),
        "the exported listener did not come up:\n{}",
        m.log_text()
    );
    let as_device = |name: &str, secret: &str| {
        let auth = Auth::Password(name.into(), secret.into());
        publish(
            port,
            &pki.ca,
            &auth,
            name,
            &format!("t/{name}/status"),
            "up",
        )
    };
    let (s1, s2) = (secret_of(&env, "sensor-001"), secret_of(&env, "sensor-002"));
    as_device("sensor-001", &s1).assert_code(0);
    as_device("sensor-002", &s2).assert_code(0);

    env.run(&["device", "revoke", "sensor-002"]).assert_code(0);
    env.run(&export).assert_code(0);
    m.reload();
    assert_ne!(
        as_device("sensor-002", &s2).code,
        0,
        "revoked device accepted"
    );
    as_device("sensor-001", &s1).assert_code(0);
}

/// `--out espmqtt.toml` (or any file that is not an earlier output) is
/// refused with exit 2 and the file is left as it was; an earlier output is
/// replaced, and `--force` replaces anything.
#[test]
fn out_files_never_replace_what_they_did_not_write() {
    let env = Env::new();
    env.init_project("localhost:8883", &["--trust", "insecure"])
        .assert_code(0);
    env.run(&["device", "new", "sensor-001"]).assert_code(0);
    let toml = std::fs::read(env.path().join("espmqtt.toml")).unwrap();
    for args in [
        &["device", "config", "sensor-001", "--out", "espmqtt.toml"][..],
        &["device", "export", "--dump", "espmqtt.toml"],
        &["device", "export", "--out", "espmqtt.toml"],
        &[
            "device",
            "export",
            "--out",
            "espmqtt.toml",
            "--format",
            "json",
        ],
    ] {
        let r = env.run(args);
        r.assert_code(2);
        let out = r.all();
        assert!(out.contains("left untouched"), "{args:?}: {out}");
        assert!(out.contains("--force"), "{args:?}: {out}");
        assert_eq!(
            std::fs::read(env.path().join("espmqtt.toml")).unwrap(),
            toml
        );
    }
    // Earlier outputs are replaced as before.
    for args in [
        &["device", "config", "sensor-001", "--out", "s.bin"][..],
        &["device", "export", "--dump", "dump.json"],
        &["device", "export", "--out", "d.csv"],
        &["device", "export", "--out", "d.json", "--format", "json"],
    ] {
        env.run(args).assert_code(0);
        env.run(args).assert_code(0);
    }
    let r = env.run(&[
        "device",
        "config",
        "sensor-001",
        "--out",
        "d.csv",
        "--force",
    ]);
    r.assert_code(0);
    assert!(std::fs::read(env.path().join("d.csv"))
        .unwrap()
        .starts_with(b"EMQC"));
}

/// `broker export --mosquitto /etc/mosquitto` (the broker's own directory)
/// must not replace the broker's mosquitto.conf and password file: exit 2,
/// nothing written; a directory of an earlier export is updated as before.
#[test]
fn broker_export_leaves_the_brokers_own_files_alone() {
    let env = Env::new();
    env.run(&["device", "new", "sensor-001"]).assert_code(0);
    let etc = env.path().join("etc-mosquitto");
    std::fs::create_dir(&etc).unwrap();
    let conf = "pid_file /run/mosquitto/mosquitto.pid\ninclude_dir /etc/mosquitto/conf.d\n";
    std::fs::write(etc.join("mosquitto.conf"), conf).unwrap();
    std::fs::write(etc.join("passwd"), "admin:$7$101$x$y\n").unwrap();
    let dir = etc.to_str().unwrap();
    let r = env.run(&["broker", "export", "--mosquitto", dir]);
    r.assert_code(2);
    assert!(r.stderr.contains("mosquitto.conf, passwd"), "{}", r.stderr);
    assert!(r.stderr.contains("--force"), "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(etc.join("mosquitto.conf")).unwrap(),
        conf
    );
    assert!(!etc.join("acl").exists());

    // A password file alone (mosquitto_passwd's) is not ours either.
    std::fs::remove_file(etc.join("mosquitto.conf")).unwrap();
    env.run(&["broker", "export", "--mosquitto", dir])
        .assert_code(2);
    assert_eq!(
        std::fs::read_to_string(etc.join("passwd")).unwrap(),
        "admin:$7$101$x$y\n"
    );

    // A failing export creates no directory; an earlier export's directory
    // (edited by hand above its header) is updated.
    let r = env.run(&[
        "broker",
        "export",
        "--mosquitto",
        "new",
        "--server-cert",
        "no.crt",
    ]);
    r.assert_code(2);
    assert!(!env.path().join("new").exists());
    env.run(&["broker", "export", "--mosquitto", "out"])
        .assert_code(0);
    let out_conf = env.path().join("out/mosquitto.conf");
    let edited = format!("user root\n{}", std::fs::read_to_string(&out_conf).unwrap());
    std::fs::write(&out_conf, edited).unwrap();
    env.run(&["broker", "export", "--mosquitto", "out"])
        .assert_code(0);
    env.run(&["broker", "export", "--mosquitto", dir, "--force"])
        .assert_code(0);
    assert!(std::fs::read_to_string(etc.join("passwd"))
        .unwrap()
        .starts_with("sensor-001:"));
}

/// A 7-character Wi-Fi password is refused wherever it comes from: the
/// flag, the variable `--wifi-password-env` names (when set at init), the
/// variable at blob time, and a hand-edited espmqtt.toml.
#[test]
fn a_wifi_password_the_device_cannot_use_is_refused_from_every_source() {
    let env = Env::with_vars(vec![("WIFI_PASS".into(), "secret7".into())]);
    let base = ["init", "--broker", "localhost", "--wifi-ssid", "home"];
    let insecure = ["--trust", "insecure"];
    for extra in [
        ["--wifi-password", "secret7"],
        ["--wifi-password-env", "WIFI_PASS"],
    ] {
        let args: Vec<&str> = base
            .iter()
            .chain(&extra)
            .chain(&insecure)
            .copied()
            .collect();
        let r = env.run(&args);
        r.assert_code(2);
        assert!(
            r.stderr.contains("8 to 63 characters (this one has 7)"),
            "{}",
            r.stderr
        );
        assert!(
            !r.all().contains("secret7"),
            "the password was shown: {}",
            r.all()
        );
        assert!(entries(&env).is_empty(), "{:?}", entries(&env));
    }
    // Hand-edited afterwards: the blob is refused, nothing written.
    env.init_project("localhost", &["--trust", "insecure"])
        .assert_code(0);
    env.run(&["device", "new", "sensor-001"]).assert_code(0);
    let toml = env.path().join("espmqtt.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, text.replace("correct-horse", "secret7")).unwrap();
    let r = env.run(&["device", "config", "sensor-001", "--out", "s.bin"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("[wifi] password in espmqtt.toml"),
        "{}",
        r.stderr
    );
    assert!(!env.path().join("s.bin").exists());
}

/// README's quick start: `init --from-broker` with the password in a
/// variable; the proposal names the root and where it came from in words.
#[test]
fn init_from_broker_as_the_quick_start_writes_it() {
    use crate::support::fingerprint::OpensslServer;
    use crate::support::pki::Alg;
    use crate::support::probe::TestPki;
    let env = Env::with_vars(vec![("WIFI_PASS".into(), "correct-horse".into())]);
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let server = OpensslServer::start(&[
        "-cert",
        &pki.cert_file.display().to_string(),
        "-key",
        &pki.key_file.display().to_string(),
        "-cert_chain",
        &pki.ca_file.display().to_string(),
    ]);
    let r = env.run(&[
        "init",
        "--from-broker",
        &server.addr(),
        "--wifi-ssid",
        "home",
        "--wifi-password-env",
        "WIFI_PASS",
    ]);
    r.assert_code(0);
    assert!(
        r.stderr.contains("source: sent by the server"),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains("from sent"), "{}", r.all());
    let toml = std::fs::read_to_string(env.path().join("espmqtt.toml")).unwrap();
    assert!(
        toml.contains("trust = \"ca\"") && !toml.contains("correct-horse"),
        "{toml}"
    );
}

/// A typo in a device name, or a range given to a one-device command:
/// exit 2, and the help says what was probably meant.
#[test]
fn an_unknown_device_name_gets_a_hint() {
    let env = Env::new();
    env.init_project("localhost", &["--trust", "insecure"])
        .assert_code(0);
    env.run(&["device", "new", "--prefix", "sensor-", "--count", "3"])
        .assert_code(0);
    for args in [
        &["device", "show", "sensor-01"][..],
        &["device", "rotate", "sensr-001"],
        &["device", "revoke", "sensor-01"],
        &["device", "config", "sensor-01", "--out", "s.bin"],
    ] {
        let (r, v) = env.run_json(args);
        r.assert_code(2);
        let help = v["help"].as_str().unwrap_or_default();
        assert!(help.contains("did you mean sensor-001?"), "{args:?}: {v}");
    }
    let r = env.run(&["device", "revoke", "sensor-001..sensor-003"]);
    r.assert_code(2);
    assert!(r.stderr.contains("takes one device name"), "{}", r.stderr);
    let (_, v) = env.run_json(&["device", "list"]);
    let active = v["devices"].as_array().unwrap().iter();
    assert!(active.clone().all(|d| d["status"] == "active"), "{v}");
    assert!(!env.path().join("s.bin").exists());
}

/// `device check` in a project before its first device: healthy, 0
/// devices, and no registry is created by checking.
#[test]
fn device_check_before_the_first_device_creates_nothing() {
    let env = Env::new();
    env.init_project("localhost", &["--trust", "insecure"])
        .assert_code(0);
    let (r, v) = env.run_json(&["device", "check"]);
    r.assert_code(0);
    assert_eq!(v["devices"], 0, "{v}");
    assert_eq!(entries(&env), ["espmqtt.toml"]);
    env.run(&["device", "new", "sensor-001"]).assert_code(0);
    let r = env.run(&["device", "check"]);
    r.assert_code(0);
    assert!(r.stdout.contains("healthy, 1 device "), "{}", r.stdout);
}

/// `broker export` run from the wrong directory must not export an empty
/// fleet (the broker would refuse every device at its next reload).
#[test]
fn broker_export_outside_a_project_writes_nothing() {
    let env = Env::new();
    for args in [
        &["broker", "export", "--mosquitto", "out"][..],
        &["broker", "export", "--dynsec", "dynsec.json"],
        &["broker", "export", "--amqtt", "amqtt"],
    ] {
        let (r, v) = env.run_json(args);
        r.assert_code(2);
        assert_eq!(v["type"], "error", "{v}");
        assert!(v["message"]
            .as_str()
            .unwrap()
            .contains("no espmqtt project here"));
        assert!(!r.stderr.contains("warning"), "{}", r.stderr);
        assert!(
            entries(&env).is_empty(),
            "{args:?} wrote {:?}",
            entries(&env)
        );
    }
}

/// `device cert NAME --out FILE` (a file, not a directory): exit 2 before
/// anything is issued; the registry keeps the device's certificate.
#[test]
fn device_cert_out_a_file_issues_nothing() {
    let env = Env::new();
    env.init_project("localhost", &["--trust", "insecure"])
        .assert_code(0);
    env.run(&["ca", "init"]).assert_code(0);
    env.run(&["device", "new", "sensor-001"]).assert_code(0);
    env.run(&["device", "cert", "sensor-001"]).assert_code(0);
    let serial = |env: &Env| {
        let (_, v) = env.run_json(&["device", "show", "sensor-001"]);
        v["certificate"]["serial"].clone()
    };
    let before = serial(&env);
    env.write("notes.txt", "mine\n");
    let r = env.run(&["device", "cert", "sensor-001", "--out", "notes.txt"]);
    r.assert_code(2);
    assert!(r.stderr.contains("--out names a directory"), "{}", r.stderr);
    assert_eq!(serial(&env), before);
    let r = env.run(&["device", "cert", "sensor-001", "--out", "certs"]);
    r.assert_code(0);
    assert!(r.stdout.contains("(the key mode 0600)"), "{}", r.stdout);
    assert_ne!(serial(&env), before);
}

/// The CA file espmqtt.toml names was replaced by something else: the error
/// names the setting and the file, and no blob is written.
#[test]
fn a_broken_ca_file_is_named_in_the_error() {
    let env = Env::new();
    env.write("ca.crt", "not a certificate\n");
    env.init_project("localhost", &["--trust", "insecure"])
        .assert_code(0);
    let toml = env.path().join("espmqtt.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    let text = text.replace(
        "trust = \"insecure\"",
        "trust = \"ca\"\nca_file = \"ca.crt\"",
    );
    std::fs::write(&toml, text).unwrap();
    env.run(&["device", "new", "sensor-001"]).assert_code(0);
    let r = env.run(&["device", "config", "sensor-001", "--out", "s.bin"]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("tls.ca_file ca.crt: not a certificate"),
        "{}",
        r.stderr
    );
    assert!(!env.path().join("s.bin").exists());
}

/// A series whose prefix has a character names cannot have: one message
/// about --prefix, exit 2, nothing created.
#[test]
fn a_bad_series_prefix_is_one_message() {
    let env = Env::new();
    let r = env.run(&[
        "device",
        "new",
        "--prefix",
        "home/sensor-",
        "--count",
        "100",
    ]);
    r.assert_code(2);
    assert!(
        r.stderr.contains("--prefix \"home/sensor-\" contains '/'"),
        "{}",
        r.stderr
    );
    assert_eq!(r.stderr.matches("not allowed").count(), 1, "{}", r.stderr);
    assert!(entries(&env).is_empty(), "{:?}", entries(&env));
}
