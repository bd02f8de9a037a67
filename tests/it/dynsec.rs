//! Integration tests: `broker export --dynsec` and `broker sync --dynsec`
//! against a real mosquitto 2.0 with its dynamic security plugin, over TLS.

use std::time::{Duration, Instant};

use crate::support::device::{mode, publish, server_pki, Auth, Sub};
use crate::support::mosquitto::{dynsec_init, dynsec_plugin, Mosquitto};
use crate::support::{have, mosquitto_bin, Env};

const ADMIN_PW: &str = "dynsec-admin-pw-1";

fn tools() -> bool {
    let ok = mosquitto_bin().is_some()
        && dynsec_plugin().is_some()
        && have("mosquitto_ctrl")
        && have("mosquitto_pub");
    if !ok {
        eprintln!("skipping: mosquitto 2 with its dynamic security plugin is not installed");
    }
    ok
}

fn secret_of(env: &Env, name: &str) -> String {
    let (r, v) = env.run_json(&["device", "show", name, "--show-secrets"]);
    r.assert_code(0);
    v["secret"].as_str().expect("secret").to_string()
}

fn sync(env: &Env, port: u16, ca: &std::path::Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let url = format!("mqtts://admin@127.0.0.1:{port}");
    let mut c = env.cmd();
    c.env("ESPMQTT_DYNSEC_PASSWORD", ADMIN_PW).args([
        "broker",
        "sync",
        "--dynsec",
        &url,
        "--ca-file",
        ca.to_str().unwrap(),
        "--format",
        "json",
    ]);
    c.args(extra);
    let r = crate::support::Run::from(c.output().unwrap());
    let v = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
    assert!(
        !r.stdout.contains("secret") || !r.stdout.contains("password\":\""),
        "{}",
        r.stdout
    );
    (r.code, v)
}

fn commands(v: &serde_json::Value) -> Vec<String> {
    v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["summary"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_broker_learns_new_rotated_and_revoked_devices_live() {
    if !tools() {
        return;
    }
    let env = Env::new();
    let pki = server_pki(env.path());
    env.run(&["device", "new", "ds-a", "ds-b", "ds-c"])
        .assert_code(0);
    env.run(&["device", "revoke", "ds-c"]).assert_code(0);
    let file = env.path().join("dynamic-security.json");
    dynsec_init(&file, "admin", ADMIN_PW);
    // The export keeps the admin, adds a client and a role per active device.
    let (r, v) = env.run_json(&["broker", "export", "--dynsec", file.to_str().unwrap()]);
    r.assert_code(0);
    assert_eq!(v["devices"], 2);
    assert_eq!(mode(&file), 0o600);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let users: Vec<&str> = doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["username"].as_str().unwrap())
        .collect();
    assert_eq!(users, ["admin", "ds-a", "ds-b"]);
    assert!(doc["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["rolename"] == "espmqtt-ds-a" && r["acls"][0]["topic"] == "espmqtt/ds-a/#"));

    let m = Mosquitto::start_dynsec(env.path(), &file, &pki.cert, &pki.key);
    let (a, b) = (secret_of(&env, "ds-a"), secret_of(&env, "ds-b"));
    let pw = |u: &str, p: &str| Auth::Password(u.into(), p.into());
    // The exported hashes work as they are.
    publish(
        m.port,
        &pki.ca,
        &pw("ds-a", &a),
        "ds-a",
        "espmqtt/ds-a/t",
        "1",
    )
    .assert_code(0);
    // Right after an export, a sync has nothing to do.
    let (code, v) = sync(&env, m.port, &pki.ca, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(commands(&v), Vec::<String>::new());

    // Changes in the registry: a new device, a rotation, a revocation of a
    // device that is connected right now.
    env.run(&["device", "new", "ds-d"]).assert_code(0);
    env.run(&["device", "rotate", "ds-b"]).assert_code(0);
    let sub = Sub::start(
        m.port,
        &pki.ca,
        &pw("ds-a", &a),
        "ds-a",
        &["espmqtt/ds-a/#"],
    )
    .expect("ds-a subscribes");
    env.run(&["device", "revoke", "ds-a"]).assert_code(0);
    let (code, v) = sync(&env, m.port, &pki.ca, &["--dry-run"]);
    assert_eq!(code, 0, "{v}");
    let planned = commands(&v);
    assert!(
        planned.iter().any(|s| s.contains("create client ds-d")),
        "{planned:?}"
    );
    assert!(
        planned.iter().any(|s| s.contains("password of ds-b")),
        "{planned:?}"
    );
    assert!(
        planned.iter().any(|s| s.contains("disable client ds-a")),
        "{planned:?}"
    );
    // A dry run changes nothing.
    let d = secret_of(&env, "ds-d");
    assert_ne!(
        publish(
            m.port,
            &pki.ca,
            &pw("ds-d", &d),
            "ds-d",
            "espmqtt/ds-d/t",
            "1"
        )
        .code,
        0
    );

    let t0 = Instant::now();
    let (code, v) = sync(&env, m.port, &pki.ca, &[]);
    let synced = t0.elapsed();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["errors"].as_array().unwrap().len(), 0, "{v}");
    // The revoked device is disconnected at once, and refused when it
    // comes back (CONNACK 5, not authorised).
    let mut kicked = None;
    let mut refused = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !refused {
        if let Some(l) = sub.next_line(Duration::from_millis(100)) {
            if kicked.is_none() && l.contains("sending CONNECT") {
                kicked = Some(t0.elapsed());
            }
            refused |= l.contains("CONNACK (5)") || l.contains("not authori");
        }
    }
    assert!(refused, "ds-a was not refused after its revocation");
    let log = m.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("ds-a") && l.contains("disconnect")),
        "{log}"
    );
    // mosquitto_sub reconnects one second after losing its connection, so
    // the kick came at most a second after the sync returned (about 0.1 s
    // into the sync here, typically).
    let kicked = kicked.expect("ds-a lost its connection");
    let bound = synced + Duration::from_secs(2);
    assert!(
        kicked < bound,
        "reconnect after {kicked:?}: the kick came more than a second after the sync \
         ({synced:?})"
    );
    assert_ne!(
        publish(
            m.port,
            &pki.ca,
            &pw("ds-a", &a),
            "ds-a2",
            "espmqtt/ds-a/t",
            "1"
        )
        .code,
        0
    );
    // The rotated password works, the old one is refused.
    let b2 = secret_of(&env, "ds-b");
    assert_ne!(b, b2);
    publish(
        m.port,
        &pki.ca,
        &pw("ds-b", &b2),
        "ds-b",
        "espmqtt/ds-b/t",
        "1",
    )
    .assert_code(0);
    assert_ne!(
        publish(
            m.port,
            &pki.ca,
            &pw("ds-b", &b),
            "ds-b",
            "espmqtt/ds-b/t",
            "1"
        )
        .code,
        0
    );
    // The new device works.
    publish(
        m.port,
        &pki.ca,
        &pw("ds-d", &d),
        "ds-d",
        "espmqtt/ds-d/t",
        "1",
    )
    .assert_code(0);
    // A second sync is a no-op.
    let (code, v) = sync(&env, m.port, &pki.ca, &[]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(commands(&v), Vec::<String>::new());

    // The ACL denial is what probe reports for a device outside its subtree.
    let addr = format!("localhost:{}", m.port);
    let (r, v) = env.run_json(&[
        "probe",
        &addr,
        "--trust",
        "ca",
        "--ca-file",
        pki.ca.to_str().unwrap(),
        "--username",
        "ds-d",
        "--password",
        &d,
        "--client-id",
        "ds-d",
        "--topic-prefix",
        "elsewhere",
        "--timeout",
        "3",
    ]);
    assert_eq!(r.code, 1, "{}", r.all());
    let text = v.to_string();
    assert!(text.contains("elsewhere/ds-d"), "{text}");
    let (r, _) = env.run_json(&[
        "probe",
        &addr,
        "--trust",
        "ca",
        "--ca-file",
        pki.ca.to_str().unwrap(),
        "--username",
        "ds-d",
        "--password",
        &d,
        "--client-id",
        "ds-d",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
}

#[test]
fn sync_reports_a_wrong_admin_password_and_unknown_urls() {
    if !tools() {
        return;
    }
    let env = Env::new();
    let pki = server_pki(env.path());
    env.run(&["device", "new", "ds-x"]).assert_code(0);
    let file = env.path().join("ds.json");
    dynsec_init(&file, "admin", ADMIN_PW);
    let m = Mosquitto::start_dynsec(env.path(), &file, &pki.cert, &pki.key);
    let url = format!("mqtts://admin@127.0.0.1:{}", m.port);
    let mut c = env.cmd();
    c.env("ESPMQTT_DYNSEC_PASSWORD", "wrong").args([
        "broker",
        "sync",
        "--dynsec",
        &url,
        "--ca-file",
        pki.ca.to_str().unwrap(),
    ]);
    let r = crate::support::Run::from(c.output().unwrap());
    assert_eq!(r.code, 2, "{}", r.all());
    // No password at all, not on a terminal: a usage error, no prompt.
    env.run(&["broker", "sync", "--dynsec", &url])
        .assert_code(2);
    for bad in [
        "mqtts://127.0.0.1:1",
        "mqtt://admin@127.0.0.1",
        "mqtts://admin:pw@h",
    ] {
        let mut c = env.cmd();
        c.env("ESPMQTT_DYNSEC_PASSWORD", "x")
            .args(["broker", "sync", "--dynsec", bad]);
        let r = crate::support::Run::from(c.output().unwrap());
        assert_eq!(r.code, 2, "{bad}: {}", r.all());
    }
}
