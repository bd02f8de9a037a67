//! Integration tests: `espmqtt demo`, the whole job on loopback.

use crate::support::{mosquitto_bin, Env};

#[test]
fn demo_passes_end_to_end() {
    if mosquitto_bin().is_none() {
        eprintln!("skipped: mosquitto is not installed");
        return;
    }
    let env = Env::new();
    let project = env.path().join("demo");
    let (run, v) = env.run_json(&["demo", "--dir", project.to_str().unwrap()]);
    run.assert_code(0);
    assert_eq!(v["type"], "demo");
    assert_eq!(v["ok"], true);
    assert_eq!(v["verdict"], "ok");
    let steps = v["steps"].as_array().unwrap();
    assert!(steps.len() >= 10, "{steps:?}");
    assert!(steps.iter().all(|s| s["ok"] == true), "{steps:?}");
    // The registry secret must not leak into the demo's output.
    let db = project.join(".espmqtt/registry.db");
    assert!(db.is_file());
    let show = env
        .cmd()
        .current_dir(&project)
        .args([
            "device",
            "show",
            "demo-01",
            "--show-secrets",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let secret = shown
        .pointer("/secret")
        .or_else(|| shown.pointer("/device/secret"))
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_string();
    if !secret.is_empty() {
        assert!(!run.all().contains(&secret), "demo output leaks the secret");
    }
}

#[test]
fn demo_without_mosquitto_exits_3_with_install_hint() {
    let env = Env::new();
    let r = env.run(&["demo", "--mosquitto", "/nonexistent/mosquitto"]);
    r.assert_code(3);
    assert!(
        r.stderr.contains("apt-get install mosquitto"),
        "{}",
        r.stderr
    );
}
