//! Integration tests against amqtt, a second MQTT broker: the exported
//! credentials and ACLs (`broker export --amqtt`) and `probe` over TLS.

use crate::support::amqtt::Amqtt;
use crate::support::device::{mode, publish, server_pki, Auth};
use crate::support::{free_port, have, Env};

fn secret_of(env: &Env, name: &str) -> String {
    let (r, v) = env.run_json(&["device", "show", name, "--show-secrets"]);
    r.assert_code(0);
    v["secret"].as_str().expect("secret").to_string()
}

#[test]
fn amqtt_takes_the_exported_credentials_and_probe_sees_its_acl() {
    if !Amqtt::available() || !have("mosquitto_pub") {
        eprintln!("skipping: amqtt or mosquitto_pub is not installed (scripts/install-deps)");
        return;
    }
    let env = Env::new();
    let pki = server_pki(env.path());
    env.run(&["device", "new", "am-a", "am-b", "am-c"])
        .assert_code(0);
    env.run(&["device", "revoke", "am-c"]).assert_code(0);
    let port = free_port();
    let dir = env.path().join("amqtt");
    let (r, v) = env.run_json(&[
        "broker",
        "export",
        "--amqtt",
        dir.to_str().unwrap(),
        "--port",
        &port.to_string(),
        "--bind",
        "127.0.0.1",
        "--server-cert",
        pki.cert.to_str().unwrap(),
        "--server-key",
        pki.key.to_str().unwrap(),
    ]);
    r.assert_code(0);
    assert_eq!(v["devices"], 2);
    assert_eq!(mode(&dir.join("passwd")), 0o600);
    let passwd = std::fs::read_to_string(dir.join("passwd")).unwrap();
    assert!(!passwd.contains("am-c"), "{passwd}");
    let a = secret_of(&env, "am-a");
    assert!(!passwd.contains(&a));

    let broker = Amqtt::start(&dir.join("amqtt.yaml"), port, &env.path().join("amqtt.log"));
    let pw = |u: &str, p: &str| Auth::Password(u.into(), p.into());
    publish(
        broker.port,
        &pki.ca,
        &pw("am-a", &a),
        "am-a",
        "espmqtt/am-a/t",
        "1",
    )
    .assert_code(0);
    assert_ne!(
        publish(
            broker.port,
            &pki.ca,
            &pw("am-a", "wrong"),
            "am-a",
            "espmqtt/am-a/t",
            "1"
        )
        .code,
        0
    );
    assert_ne!(
        publish(
            broker.port,
            &pki.ca,
            &pw("am-c", "x"),
            "am-c",
            "espmqtt/am-c/t",
            "1"
        )
        .code,
        0,
        "a revoked device has no account"
    );
    // probe, as the device, over TLS: a full round trip in its subtree…
    let addr = format!("localhost:{port}");
    let probe = |extra: &[&str]| {
        let mut args = vec![
            "probe",
            addr.as_str(),
            "--trust",
            "ca",
            "--ca-file",
            pki.ca.to_str().unwrap(),
            "--username",
            "am-a",
            "--password",
            a.as_str(),
            "--client-id",
            "am-a",
            "--timeout",
            "5",
        ];
        args.extend_from_slice(extra);
        env.run_json(&args)
    };
    let (r, v) = probe(&[]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(v["verdict"], "ok");
    // …and the ACL's refusal outside it.
    let (r, v) = probe(&["--topic-prefix", "elsewhere"]);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(v.to_string().contains("elsewhere/am-a"), "{v}");
}
