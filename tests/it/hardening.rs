//! Every input gets a clear answer: hostile values exit 2 with a message
//! instead of a panic, failing commands leave files as they were, secrets
//! end in 0600 files, I/O errors exit 4, every error is valid JSON, and one
//! grammar for a broker address in every command that takes one.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::support::fingerprint::OpensslServer;
use crate::support::pki::{self, Alg};
use crate::support::probe::{have_mosquitto, password_file, probe, tls_broker, TestPki};
use crate::support::{bin, espmqtt, Env, Run};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn set_mode(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// A project with `espmqtt.toml` (insecure trust, so no CA file is needed).
fn project(env: &Env) {
    env.init_project("127.0.0.1:8883", &["--trust", "insecure"])
        .assert_code(0);
}

#[track_caller]
fn assert_clean_failure(run: &Run, code: i32, needle: &str) {
    assert_eq!(run.code, code, "{}", run.all());
    assert!(run.stderr.contains("error:"), "{}", run.all());
    assert!(run.stderr.contains(needle), "{}", run.all());
    assert!(!run.stderr.contains("panicked"), "{}", run.all());
}

/// The inputs that panicked (exit 101) exit 2 with a message, and write
/// nothing: no empty `.espmqtt/ca`, no device half created.
#[test]
fn the_panicking_inputs_exit_2_with_a_message() {
    let env = Env::new();
    let r = env.run(&["ca", "init", "--days", "99999999"]);
    assert_clean_failure(&r, 2, "--days");
    assert_eq!(std::fs::read_dir(env.path()).unwrap().count(), 0);

    project(&env);
    env.run(&["device", "new", "d1"]).assert_code(0);
    let r = env.run(&["device", "cert", "d1", "--days", "99999999"]);
    assert_clean_failure(&r, 2, "");
    assert!(!env.path().join(".espmqtt/ca").exists());
    env.run(&["ca", "init"]).assert_code(0);
    let r = env.run(&["device", "cert", "d1", "--days", "99999999"]);
    assert_clean_failure(&r, 2, "--days");
    let r = env.run(&["device", "new", "x", "--client-cert", "--days", "99999999"]);
    assert_clean_failure(&r, 2, "--days");
    env.run(&["device", "show", "x"]).assert_code(2);
    for days in ["0", "-1", "nan", "1e300", "99999999999999999999"] {
        let r = env.run(&["device", "cert", "d1", "--days", days]);
        assert_eq!(r.code, 2, "--days {days}: {}", r.all());
    }
    for (flag, value) in [
        ("--poll", "nan"),
        ("--poll", "1e300"),
        ("--poll", "0"),
        ("--wait-timeout", "1e300"),
        ("--wait-timeout", "inf"),
    ] {
        let r = env.run(&[
            "flash",
            "--port",
            "socket://127.0.0.1:1",
            "--port",
            "socket://127.0.0.1:2",
            "--devices",
            "d1",
            "--config-only",
            "--wait",
            flag,
            value,
        ]);
        assert_clean_failure(&r, 2, flag);
    }
}

/// A device certificate that would outlive the CA that signs it is issued
/// with a warning that names both dates and the longest sensible --days.
#[test]
fn a_device_certificate_outliving_its_ca_is_warned_about() {
    let env = Env::new();
    project(&env);
    env.run(&["ca", "init", "--days", "100"]).assert_code(0);
    env.run(&["device", "new", "d1"]).assert_code(0);
    let r = env.run(&["device", "cert", "d1", "--days", "365"]);
    r.assert_code(0);
    assert!(r.stderr.contains("warning:"), "{}", r.all());
    assert!(r.stderr.contains("expires"), "{}", r.all());
    let (r, v) = env.run_json(&["device", "cert", "d1", "--days", "365"]);
    r.assert_code(0);
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(1), "{v}");
    let (r, v) = env.run_json(&["device", "cert", "d1", "--days", "30"]);
    r.assert_code(0);
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(0), "{v}");
}

/// An error written to a closed stderr or stdout never panics: the exit
/// code is the command's own.
#[test]
fn errors_on_a_closed_stderr_or_stdout_keep_their_exit_code() {
    let env = Env::new();
    let b = bin().display().to_string();
    let script = format!(
        r#"
        "{b}" fingerprint 127.0.0.1:1 2>&1 | true; echo "a ${{PIPESTATUS[0]}}"
        "{b}" fingerprint 127.0.0.1:1 2>&-; echo "b $?"
        "{b}" fingerprint 127.0.0.1:1 --format json >&-; echo "c $?"
        "{b}" fingerprint 127.0.0.1:1 >&- 2>&-; echo "d $?"
        "{b}" --help | head -c 1 >/dev/null; echo "e ${{PIPESTATUS[0]}}"
        "{b}" completions bash >&-; echo "f $?"
        "{b}" --bogus 2>&-; echo "g $?"
        "#
    );
    let out = Command::new("bash")
        .args(["-c", &script])
        .current_dir(env.path())
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let codes: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        codes,
        ["a 3", "b 3", "c 3", "d 3", "e 0", "f 0", "g 2"],
        "{stderr}"
    );
}

/// Secrets end in 0600 files, whatever the mode of the file they replace.
#[test]
fn a_0644_target_file_ends_0600() {
    let env = Env::new();
    // espmqtt.toml holding a Wi-Fi password, over an existing 0644 file.
    let toml = env.write("espmqtt.toml", "# placeholder\n");
    set_mode(&toml, 0o644);
    env.init_project("127.0.0.1:8883", &["--trust", "insecure", "--force"])
        .assert_code(0);
    assert_eq!(mode(&toml), 0o600);
    env.run(&["device", "new", "d1"]).assert_code(0);
    // A config blob (Wi-Fi and MQTT passwords) over a 0644 file.
    // (An earlier blob: `device config` replaces nothing else without --force.)
    let blob = env.write("d1.bin", "EMQC old");
    set_mode(&blob, 0o644);
    env.run(&["device", "config", "d1", "--out", "d1.bin"])
        .assert_code(0);
    assert_eq!(mode(&blob), 0o600);
    assert_ne!(std::fs::read(&blob).unwrap(), b"EMQC old");
    // The broker's password file over a 0644 one.
    let passwd = env.write("broker/passwd", "");
    set_mode(&passwd, 0o644);
    env.run(&["broker", "export", "--mosquitto", "broker"])
        .assert_code(0);
    assert_eq!(mode(&passwd), 0o600);
    assert_eq!(mode(&env.path().join("broker/acl")), 0o600);
    // A device key written with --out DIR.
    env.run(&["ca", "init"]).assert_code(0);
    let key = env.write("out/d1.key", "");
    set_mode(&key, 0o644);
    let r = env.run(&["device", "cert", "d1", "--out", "out"]);
    if r.code == 0 {
        assert_eq!(mode(&key), 0o600);
    } else {
        // An existing key is never overwritten: refused, and left as it was.
        assert_eq!(r.code, 2, "{}", r.all());
        assert_eq!(mode(&key), 0o644);
    }
    // A full registry dump holds every secret.
    env.write("dump.json", "");
    set_mode(&env.path().join("dump.json"), 0o644);
    env.run(&["device", "export", "--dump", "dump.json"])
        .assert_code(0);
    assert_eq!(mode(&env.path().join("dump.json")), 0o600);
}

/// I/O errors exit 4 and name the path: a missing input file, a directory
/// where a file was expected, permission denied, an output directory that
/// does not exist.
#[test]
fn io_errors_exit_4_and_name_the_path() {
    let env = Env::new();
    project(&env);
    env.run(&["device", "new", "d1"]).assert_code(0);
    let cases: &[(&[&str], &str)] = &[
        (&["fingerprint", "--file", "no-such.pem"], "no-such.pem"),
        (&["fingerprint", "--file", "/etc"], "/etc"),
        (
            &["device", "config", "d1", "--out", "missing-dir/d1.bin"],
            "missing-dir",
        ),
        (
            &["device", "config", "d1", "--out", "/sys/d1.bin"],
            "/sys/d1.bin",
        ),
        (&["device", "config", "d1", "--out", "."], "directory"),
        (
            &[
                "flash",
                "--port",
                "socket://127.0.0.1:1",
                "--firmware",
                "nope.bin",
            ],
            "nope.bin",
        ),
        (&["device", "import", "no-dump.json"], "no-dump.json"),
    ];
    for (args, needle) in cases {
        let r = env.run(args);
        assert_clean_failure(&r, 4, needle);
        let (r, v) = env.run_json(args);
        assert_eq!(r.code, 4, "{args:?}: {}", r.all());
        assert_eq!(v["exit_code"], 4);
        assert_eq!(v["kind"], "runtime");
    }
}

/// An error whose message holds quotes, backslashes and newlines is still
/// one valid JSON document (parse errors too).
#[test]
fn an_error_containing_quotes_and_newlines_is_valid_json() {
    let env = Env::new();
    project(&env);
    let nasty = "a\"b\\c\nd\te'f";
    let long = "x\"\n".repeat(100);
    let cases: Vec<Vec<&str>> = vec![
        vec!["device", "new", nasty],
        vec!["device", "show", nasty],
        vec!["fingerprint", nasty],
        vec!["probe", nasty],
        vec!["fingerprint", "--file", nasty],
        vec!["fingerprint", &long],
        vec!["device", "new", "--bogus", nasty],
        vec!["--bogus\"\n"],
        vec!["flash", "--port", nasty, "--read-config"],
    ];
    for args in cases {
        let (r, v) = env.run_json(&args);
        assert!((2..=4).contains(&r.code), "{args:?}: {}", r.all());
        assert_eq!(v["type"], "error", "{args:?}");
        assert_eq!(v["exit_code"], r.code);
        assert!(v["message"].is_string(), "{v}");
        // Exactly one document on stdout.
        let n = serde_json::Deserializer::from_str(&r.stdout)
            .into_iter::<serde_json::Value>()
            .count();
        assert_eq!(n, 1, "{}", r.stdout);
    }
}

/// The broker address grammar, one table for every command that takes an
/// address: `fingerprint HOST`, `probe HOST` and `init --broker HOST`.
/// `Some((host, port))`: accepted and understood so; `None`: exit 2.
const TARGETS: &[(&str, Option<(&str, u16)>)] = &[
    ("127.0.0.1:1", Some(("127.0.0.1", 1))),
    ("localhost:2", Some(("localhost", 2))),
    ("mqtts://127.0.0.1:3", Some(("127.0.0.1", 3))),
    ("ssl://127.0.0.1:4", Some(("127.0.0.1", 4))),
    ("mqtts://127.0.0.1:5/", Some(("127.0.0.1", 5))),
    ("[::1]:6", Some(("::1", 6))),
    ("mqtts://[::1]:7", Some(("::1", 7))),
    ("LOCALHOST:8", Some(("LOCALHOST", 8))),
    ("127.0.0.1:0", None),
    ("127.0.0.1:65536", None),
    ("127.0.0.1:99999999999", None),
    ("127.0.0.1:-1", None),
    ("127.0.0.1:abc", None),
    ("127.0.0.1:", None),
    (":::", None),
    ("[::1", None),
    ("[::1]:", None),
    ("a..b:1", None),
    ("-x:1", None),
    ("", None),
    (" ", None),
    ("http://127.0.0.1:1", None),
    ("mqtt://127.0.0.1:1", None),
    ("mqtts://", None),
    ("host name:1", None),
    ("a/b:1", None),
    ("-x", None),
];

#[test]
fn one_target_grammar_for_fingerprint_probe_and_init() {
    let env = Env::new();
    let mut wrong = Vec::new();
    for (input, want) in TARGETS {
        for cmd in ["fingerprint", "probe"] {
            // `--` so that a target starting with `-` is a target.
            let r = espmqtt(&env)
                .args([cmd, "--timeout", "2s", "--format", "json", "--", input])
                .run();
            let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_default();
            match want {
                None if r.code != 2 => wrong.push(format!("{cmd} {input:?}: exit {}", r.code)),
                Some((_, port)) if r.code == 2 => {
                    wrong.push(format!("{cmd} {input:?}: exit 2 ({})", v["message"]))
                }
                Some((_, port)) if !r.stdout.contains(&format!(":{port}")) => wrong.push(format!(
                    "{cmd} {input:?}: port {port} not named: {}",
                    r.stdout
                )),
                _ => {}
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let r = espmqtt(&env)
            .current_dir(dir.path())
            .args([
                "init",
                "--wifi-ssid",
                "home",
                "--wifi-password",
                "correct-horse",
                "--topic-prefix",
                "t",
                "--trust",
                "insecure",
                "--broker",
                input,
            ])
            .run();
        match want {
            None if r.code != 2 => wrong.push(format!("init --broker {input:?}: exit {}", r.code)),
            None => {
                if dir.path().join("espmqtt.toml").exists() {
                    wrong.push(format!("init --broker {input:?}: wrote espmqtt.toml"));
                }
            }
            Some((host, port)) => {
                let text =
                    std::fs::read_to_string(dir.path().join("espmqtt.toml")).unwrap_or_default();
                let cfg: toml::Table = text.parse().unwrap_or_default();
                let b = &cfg.get("broker").cloned().unwrap_or(toml::Value::from(0));
                let got = (
                    b.get("host").and_then(|h| h.as_str()).unwrap_or_default(),
                    b.get("port").and_then(|p| p.as_integer()).unwrap_or(-1),
                );
                if r.code != 0 || got != (host, i64::from(*port)) {
                    wrong.push(format!(
                        "init --broker {input:?}: exit {}, stored {got:?}: {}",
                        r.code, r.stderr
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// `probe --device` keeps the device's key and certificate in memory:
/// nothing under `.espmqtt/tmp` afterwards, and six parallel probes of one
/// device (same client id, so the broker hands the session from one to the
/// next) each present the certificate and report, none fails on files.
#[test]
fn probe_device_leaves_no_file_under_espmqtt_tmp() {
    if !have_mosquitto() {
        eprintln!("skipping: mosquitto not installed");
        return;
    }
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    env.run(&["ca", "init"]).assert_code(0);
    // The broker trusts the local CA for client certificates and requires one.
    let mut cas = std::fs::read_to_string(&pki.ca_file).unwrap();
    cas.push_str(&std::fs::read_to_string(env.path().join(".espmqtt/ca/ca.crt")).unwrap());
    let cafile = env.write("cas.pem", cas);
    let broker = crate::support::mosquitto::Mosquitto::start(
        env.path(),
        "",
        &format!(
            "certfile {}\nkeyfile {}\ncafile {}\nrequire_certificate true\n\
             use_identity_as_username true\nallow_anonymous true\n",
            pki.cert_file.display(),
            pki.key_file.display(),
            cafile.display()
        ),
    );
    env.init_project(
        &format!("localhost:{}", broker.port),
        &[
            "--trust",
            "ca",
            "--ca-file",
            &pki.ca_file.display().to_string(),
        ],
    )
    .assert_code(0);
    env.run(&["device", "new", "d1", "--client-cert"])
        .assert_code(0);
    let (run, _) = probe(&env, &["--device", "d1"]);
    run.assert_code(0);
    let children: Vec<_> = (0..6)
        .map(|_| {
            let mut c = env.cmd();
            c.args(["probe", "--device", "d1", "--format", "json"]);
            c.stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            c.spawn().unwrap()
        })
        .collect();
    for c in children {
        let r = Run::from(c.wait_with_output().unwrap());
        assert!(r.code == 0 || r.code == 1, "{}", r.all());
        let v = r.json();
        let verification = v["phases"]
            .as_array()
            .and_then(|p| p.iter().find(|p| p["name"] == "verification"))
            .cloned()
            .unwrap_or_default();
        assert_eq!(verification["status"], "ok", "{}", r.stdout);
    }
    let tmp = env.path().join(".espmqtt/tmp");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left behind: {left:?}");
    // A device without a certificate: the fix names the command that issues one.
    env.run(&["device", "new", "d2"]).assert_code(0);
    let (run, r) = probe(&env, &["--device", "d2"]);
    run.assert_code(1);
    let f = r.expect_finding("client_certificate_required", "fatal");
    assert!(f.fix.contains("espmqtt device cert"), "{}", f.fix);
}

/// `probe --username` without `--client-id` connects as the user name
/// (what the exported ACLs expect); a delivery the ACL refuses names the
/// client id and the topics used.
#[test]
fn probe_client_id_defaults_to_the_user_and_acl_failures_name_it() {
    if !have_mosquitto() {
        eprintln!("skipping: mosquitto not installed");
        return;
    }
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let pw = password_file(env.path(), "dev1", "s3cret");
    let acl = env.write("acl", "user dev1\ntopic readwrite espmqtt/dev1/#\n");
    let broker = tls_broker(
        env.path(),
        &pki,
        &format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n",
            pw.display(),
            acl.display()
        ),
    );
    let t = format!("localhost:{}", broker.port);
    let ca = pki.ca_file.display().to_string();
    let base = [
        t.as_str(),
        "--ca-file",
        &ca,
        "-u",
        "dev1",
        "--password",
        "s3cret",
    ];
    let (run, r) = probe(&env, &base);
    run.assert_code(0);
    assert_eq!(r.verdict, "ok");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["client_id"], "dev1");
    // Another client id: its topics are not the user's.
    let mut args = base.to_vec();
    args.extend(["--client-id", "other", "--timeout", "2s"]);
    let (run, r) = probe(&env, &args);
    run.assert_code(1);
    let f = r
        .findings
        .iter()
        .find(|f| f.severity == "fatal")
        .expect("a fatal finding");
    let text = format!("{} {}", f.message, f.fix);
    assert!(text.contains("\"other\""), "{text}");
    assert!(text.contains("espmqtt/other/"), "{text}");
}

/// The drift check (`espmqtt fingerprint` in a project pinning
/// fingerprints) says what drifted and what to do, and does not talk about
/// an `--expect` nobody gave.
#[test]
fn fingerprint_drift_check_says_what_to_do_next() {
    let env = Env::new();
    let cert = pki::self_signed("drift.example", &["drift.example"], Alg::EcP256, |_| {});
    let (crt, key) = cert.write(env.path(), "drift");
    let server = OpensslServer::start(&[
        "-cert",
        &crt.display().to_string(),
        "-key",
        &key.display().to_string(),
    ]);
    env.write(
        "espmqtt.toml",
        format!(
            "[broker]\nhost = \"127.0.0.1\"\nport = {}\n\n[tls]\ntrust = \"fingerprint\"\nfingerprints = [\"{}\"]\n",
            server.port,
            "ab".repeat(20)
        ),
    );
    let r = env.run(&["fingerprint"]);
    r.assert_code(1);
    assert!(!r.all().contains("--expect"), "{}", r.all());
    assert!(r.stdout.contains("espmqtt.toml"), "{}", r.stdout);
    assert!(r.stdout.contains("--config-only"), "{}", r.stdout);
    // With --expect the mismatch is about --expect.
    let r = env.run(&["fingerprint", "--expect", &"cd".repeat(20)]);
    r.assert_code(1);
    assert!(r.all().contains("--expect"), "{}", r.all());
}

/// `espmqtt.toml` errors name the file, line and column, in every command
/// that reads it (device commands too).
#[test]
fn espmqtt_toml_errors_name_line_and_column() {
    let env = Env::new();
    env.write("espmqtt.toml", "[broker]\nhost = \"x\nport = 1\n");
    for args in [
        &["device", "list"][..],
        &["device", "new", "d1"],
        &["fingerprint"],
        &["probe"],
        &["broker", "export", "--mosquitto", "b"],
        &["build"],
    ] {
        let r = env.run(args);
        assert_clean_failure(&r, 2, "espmqtt.toml:2:");
    }
    env.write("espmqtt.toml", "[broker]\nhost = \"x\"\nport = 99999\n");
    let r = env.run(&["fingerprint"]);
    assert_clean_failure(&r, 2, "espmqtt.toml:3:");
    assert!(!env.path().join(".espmqtt").exists());
}

/// `--config PATH` naming a missing file is an error in every command that
/// runs (only `init` may create it).
#[test]
fn config_naming_a_missing_file_is_an_error_everywhere() {
    let env = Env::new();
    for path in crate::help::command_paths() {
        let cmd = crate::help::find_command(&path);
        if path.is_empty() || cmd.has_subcommands() || path == ["init"] {
            continue;
        }
        let r = espmqtt(&env)
            .args(["--config", "missing/espmqtt.toml"])
            .args(&path)
            .run();
        // A command whose required arguments are missing stops at clap;
        // the others must stop at --config.
        assert_eq!(r.code, 2, "{path:?}: {}", r.all());
        if !r.stderr.contains("required") {
            assert!(r.stderr.contains("--config"), "{path:?}: {}", r.stderr);
        }
    }
    assert_eq!(std::fs::read_dir(env.path()).unwrap().count(), 0);
}

/// `broker export --owner mosquitto` gives the broker every file it reads:
/// a stock mosquitto that drops to user `mosquitto` starts with them.
#[test]
fn broker_export_owner_lets_a_dropping_mosquitto_read_its_files() {
    let Some(mosq) = crate::support::mosquitto_bin() else {
        eprintln!("skipping: mosquitto not installed");
        return;
    };
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let has_user = std::fs::read_to_string("/etc/passwd")
        .map(|t| t.lines().any(|l| l.starts_with("mosquitto:")))
        .unwrap_or(false);
    if !is_root || !has_user {
        eprintln!("skipping: needs root and a mosquitto user");
        return;
    }
    // A directory the mosquitto user can traverse.
    let dir = tempfile::Builder::new()
        .prefix("espmqtt-owner")
        .tempdir_in("/tmp")
        .unwrap();
    set_mode(dir.path(), 0o755);
    let env = Env::new();
    set_mode(env.path(), 0o755);
    project(&env);
    env.run(&["device", "new", "d1"]).assert_code(0);
    let out = dir.path().join("broker");
    let port = crate::support::free_port();
    env.run(&[
        "broker",
        "export",
        "--mosquitto",
        &out.display().to_string(),
        "--owner",
        "mosquitto",
        "--client-certs",
        "off",
    ])
    .assert_code(0);
    // The snippet's files, a plain listener (no server key to hand over).
    let conf = dir.path().join("m.conf");
    std::fs::write(
        &conf,
        format!(
            "user mosquitto\nallow_anonymous false\npassword_file {0}/passwd\nacl_file {0}/acl\nlistener {port} 127.0.0.1\n",
            out.display()
        ),
    )
    .unwrap();
    let child = Command::new(mosq)
        .arg("-c")
        .arg(&conf)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = crate::support::KillOnDrop(child);
    let addr = format!("127.0.0.1:{port}").parse().unwrap();
    let up = crate::support::wait_for_port(addr, std::time::Duration::from_secs(5))
        && crate::support::still_running(&mut child);
    assert!(up, "mosquitto could not read the exported files");
}

/// `flash --read-config` shows the blob's certificates as subject, issuer,
/// validity and SHA-256; the DER hex only with `-v`; JSON has both.
#[test]
fn read_config_summarises_certificates() {
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    env.init_project(
        "localhost:8883",
        &[
            "--trust",
            "ca",
            "--ca-file",
            &pki.ca_file.display().to_string(),
        ],
    )
    .assert_code(0);
    env.run(&["ca", "init"]).assert_code(0);
    env.run(&["device", "new", "d1", "--client-cert"])
        .assert_code(0);
    let emu = crate::support::emulator::Emulator::start(&env, &["--baud-model", "off"]);
    let url = emu.url();
    env.run(&["flash", "--port", &url, "--device", "d1", "--config-only"])
        .assert_code(0);
    let r = env.run(&["flash", "--port", &url, "--read-config"]);
    r.assert_code(0);
    assert!(
        r.stdout.contains("subject  CN=espmqtt test CA"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("subject  CN=d1"), "{}", r.stdout);
    assert!(r.stdout.contains("SHA-256  "), "{}", r.stdout);
    assert!(r.stdout.contains("days left"), "{}", r.stdout);
    // DER starts with 30 82 (SEQUENCE, two length bytes).
    assert!(!r.stdout.contains("\"3082"), "{}", r.stdout);
    assert!(!r.stdout.contains("correct-horse"), "{}", r.stdout);
    let r = env.run(&["flash", "--port", &url, "--read-config", "-v"]);
    r.assert_code(0);
    assert!(r.stdout.contains("\"3082"), "{}", r.stdout);
    let (r, v) = env.run_json(&["flash", "--port", &url, "--read-config"]);
    r.assert_code(0);
    let ta = &v["certificates"]["trust_anchors"][0];
    assert_eq!(ta["subject"], "CN=espmqtt test CA");
    assert!(ta["sha256"].as_str().is_some_and(|h| h.len() == 95), "{ta}");
    assert_eq!(v["certificates"]["client_cert"][0]["subject"], "CN=d1");
    assert!(v["config"]["trust_anchors"][0]
        .as_str()
        .is_some_and(|h| h.starts_with("3082")));
}

/// `-q` prints only the result (`X=$(espmqtt … -q)` captures just that, and
/// nothing lands on stderr); `-v` adds the files touched, with their mode.
#[test]
fn quiet_prints_only_the_result_and_verbose_the_files_touched() {
    let env = Env::new();
    let q = |args: &[&str]| {
        let mut a = args.to_vec();
        a.push("-q");
        let r = env.run(&a);
        assert!(r.stderr.is_empty(), "{args:?} -q: {}", r.stderr);
        r
    };
    let r = q(&[
        "init",
        "--broker",
        "127.0.0.1:8883",
        "--wifi-ssid",
        "home",
        "--wifi-password",
        "correct-horse",
        "--topic-prefix",
        "t",
        "--trust",
        "insecure",
    ]);
    r.assert_code(0);
    assert!(
        r.stdout.trim_end().ends_with("espmqtt.toml"),
        "{}",
        r.stdout
    );
    assert_eq!(r.stdout.lines().count(), 1);
    let r = q(&["device", "new", "qa", "qb"]);
    r.assert_code(0);
    assert_eq!(r.stdout, "qa\nqb\n");
    let r = q(&["device", "config", "qa", "--out", "qa.bin"]);
    r.assert_code(0);
    assert_eq!(r.stdout.trim_end(), "qa.bin");
    let r = q(&["broker", "export", "--mosquitto", "b"]);
    r.assert_code(0);
    assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
    assert!(r.stdout.trim_end().ends_with('b'), "{}", r.stdout);
    let r = q(&["probe", "127.0.0.1:1"]);
    r.assert_code(3);
    assert_eq!(r.stdout, "unreachable\n");
    let cert = pki::self_signed("q.example", &["q.example"], Alg::EcP256, |_| {});
    let (crt, key) = cert.write(env.path(), "q");
    let server = OpensslServer::start(&[
        "-cert",
        &crt.display().to_string(),
        "-key",
        &key.display().to_string(),
    ]);
    let r = q(&["fingerprint", &server.addr()]);
    r.assert_code(0);
    let fp = r.stdout.trim_end();
    assert_eq!(fp.len(), 59, "{fp}");
    assert_eq!(fp.matches(':').count(), 19, "{fp}");

    // -v: every file written, with its mode.
    let r = env.run(&["broker", "export", "--mosquitto", "b", "-v"]);
    r.assert_code(0);
    assert!(r.stderr.contains("passwd (mode 0600)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("mosquitto.conf (mode 0644)"),
        "{}",
        r.stderr
    );
    let r = env.run(&["device", "config", "qa", "--out", "qa.bin", "-v"]);
    r.assert_code(0);
    assert!(r.stderr.contains("qa.bin (mode 0600)"), "{}", r.stderr);
    let r = env.run(&["fingerprint", &server.addr(), "-v"]);
    r.assert_code(0);
    assert!(r.stderr.contains("TLS handshake"), "{}", r.stderr);
}

/// `ca` trust pins the root when it can be found (system store, --ca-file),
/// and warns when only an intermediate is available: `fingerprint --emit
/// arduino` and `init --from-broker` alike.
#[test]
fn ca_trust_pins_the_root_or_warns_about_the_intermediate() {
    let env = Env::new();
    let root = pki::ca("hardening root", Alg::EcP256);
    let inter = pki::intermediate("hardening intermediate", Alg::EcP256, &root);
    let leaf = pki::leaf("localhost", &["localhost"], Alg::EcP256, &inter);
    let (root_crt, _) = root.write(env.path(), "root");
    let (inter_crt, _) = inter.write(env.path(), "inter");
    let (leaf_crt, leaf_key) = leaf.write(env.path(), "leaf");
    let p = |x: &Path| x.display().to_string();
    // The server sends leaf + intermediate, never the root.
    let server = OpensslServer::start(&[
        "-cert",
        &p(&leaf_crt),
        "-key",
        &p(&leaf_key),
        "-cert_chain",
        &p(&inter_crt),
    ]);
    let addr = format!("localhost:{}", server.port);
    let root_line = root.cert_pem.lines().nth(1).unwrap().to_string();
    let r = env.run(&["fingerprint", &addr, "--emit", "arduino"]);
    r.assert_code(0);
    assert!(r.stdout.contains("intermediate"), "{}", r.stdout);
    assert!(r.stdout.contains("--ca-file"), "{}", r.stdout);
    let r = env.run(&[
        "fingerprint",
        &addr,
        "--emit",
        "arduino",
        "--ca-file",
        &p(&root_crt),
    ]);
    r.assert_code(0);
    assert!(
        r.stdout.contains(&root_line),
        "root not pinned:\n{}",
        r.stdout
    );
    assert!(!r.stdout.contains("NOT a root"), "{}", r.stdout);

    let init = |dir: &Path, extra: &[&str]| {
        let mut a = vec![
            "init",
            "--from-broker",
            &addr,
            "--wifi-ssid",
            "h",
            "--wifi-password",
            "12345678",
            "--topic-prefix",
            "t",
            "--trust",
            "ca",
        ];
        a.extend_from_slice(extra);
        espmqtt(&env).current_dir(dir).args(a).run()
    };
    let d1 = tempfile::tempdir().unwrap();
    let r = init(d1.path(), &[]);
    r.assert_code(0);
    assert!(r.stderr.contains("intermediate"), "{}", r.stderr);
    let d2 = tempfile::tempdir().unwrap();
    let r = init(d2.path(), &["--ca-file", &p(&root_crt)]);
    r.assert_code(0);
    assert!(!r.stderr.contains("warning"), "{}", r.stderr);
    let toml = std::fs::read_to_string(d2.path().join("espmqtt.toml")).unwrap();
    assert!(toml.contains("root.crt"), "{toml}");
}

/// An ESP8266 image (header, one segment of `len` bytes, checksum).
fn esp_image(len: usize) -> Vec<u8> {
    // Pseudo-random (xorshift), so it does not compress away.
    let mut x: u32 = 0x9E37_79B9;
    let data: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect();
    let mut fw = vec![0xE9, 1, 2, 0x20, 0, 0, 0x10, 0x40, 0, 0, 0x10, 0x40];
    fw.extend((data.len() as u32).to_le_bytes());
    fw.extend(&data);
    while (fw.len() + 1) % 16 != 0 {
        fw.push(0);
    }
    fw.push(data.iter().fold(0xEF, |a, b| a ^ b));
    fw
}

/// `flash` says in its text output when a region verified only after a
/// rewrite, and on Ctrl-C that the firmware is half written.
#[test]
fn flash_reports_retried_verification_and_an_interrupted_write() {
    use crate::support::emulator::Emulator;
    let env = Env::new();
    env.write("fw.bin", esp_image(256 * 1024));
    let emu = Emulator::start(&env, &["--baud-model", "off", "--fault", "flip-bit:2"]);
    let r = env.run(&["flash", "--port", &emu.url(), "--firmware", "fw.bin"]);
    r.assert_code(0);
    assert!(r.stdout.contains("after 2 attempts"), "{}", r.stdout);

    // The timing model makes the write take seconds: time for a Ctrl-C.
    let slow = Emulator::start(&env, &["--baud-model", "on"]);
    let mut c = env.cmd();
    c.args(["flash", "--port", &slow.url(), "--firmware", "fw.bin"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    // 256 KiB at 460800 baud is about 6 s on the wire: 2.5 s is mid-write.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let r = Run::from(child.wait_with_output().unwrap());
    assert_eq!(r.code, 130, "{}", r.all());
    assert!(r.all().contains("half written"), "{}", r.all());
}
