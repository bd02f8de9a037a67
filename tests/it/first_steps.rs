//! A new user's first steps, mistakes included: each failing command exits
//! with the README's code, says what to do next, and writes nothing.

use crate::support::Env;

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
