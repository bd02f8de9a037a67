//! Integration tests: `espmqtt demo`, the whole job on loopback.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::support::{espmqtt, mosquitto_bin, Env};

#[test]
fn demo_passes_end_to_end() {
    if mosquitto_bin().is_none() {
        eprintln!("skipped: mosquitto is not installed");
        return;
    }
    let env = Env::new();
    let project = env.path().join("demo");
    let run = espmqtt(&env)
        .args(["demo", "--dir"])
        .arg(&project)
        .arg("-vv")
        .json()
        .expect_exit(0);
    // -v: each step timed on stderr; stdout stays one JSON document.
    assert!(run.stderr.contains("demo step 1: "), "{}", run.stderr);
    assert!(run.stderr.contains(" ms"), "{}", run.stderr);
    let report = run.json();
    assert_eq!(report["type"], "demo");
    assert_eq!(report["ok"], true);
    assert_eq!(report["verdict"], "ok");
    let steps = report["steps"].as_array().unwrap();
    assert!(steps.len() >= 10, "{steps:?}");
    assert!(steps.iter().all(|s| s["ok"] == true), "{steps:?}");
    // The registry secret must not leak into the demo's output.
    let db = project.join(".espmqtt/registry.db");
    assert!(db.is_file());
    let shown = espmqtt(&env)
        .current_dir(&project)
        .args(["device", "show", "demo-01", "--show-secrets"])
        .json()
        .expect_exit(0)
        .json();
    let secret = shown
        .pointer("/secret")
        .or_else(|| shown.pointer("/device/secret"))
        .and_then(|s| s.as_str())
        .unwrap_or_default()
        .to_string();
    assert!(!secret.is_empty(), "no secret in {shown}");
    assert!(!run.all().contains(&secret), "demo output leaks the secret");
}

#[test]
fn demo_without_mosquitto_exits_3_with_install_hint() {
    let env = Env::new();
    let stderr = espmqtt(&env)
        .args(["demo", "--mosquitto", "/nonexistent/mosquitto"])
        .expect_exit(3)
        .stderr;
    assert!(stderr.contains("apt-get install mosquitto"), "{stderr}");
}

/// Every file under `dir` (relative path → contents), directories included
/// as empty entries.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(dir).unwrap().to_path_buf();
            if path.is_dir() {
                out.insert(rel, None);
                todo.push(path);
            } else {
                out.insert(rel, Some(std::fs::read(&path).unwrap()));
            }
        }
    }
    out
}

#[test]
fn demo_refuses_a_non_empty_directory_and_writes_nothing() {
    let env = Env::new();
    // An existing project: a broker directory with credentials, a config.
    env.write("project/espmqtt.toml", "[broker]\nhost = \"example.org\"\n");
    env.write("project/broker/passwd", "sensor-001:$7$secret\n");
    env.write(
        "project/broker/acl",
        "user sensor-001\ntopic readwrite x/#\n",
    );
    let project = env.path().join("project");
    let before = snapshot(env.path());
    for json in [false, true] {
        let mut cmd = espmqtt(&env).args(["demo", "--dir"]).arg(&project);
        if json {
            cmd = cmd.json();
        }
        let run = cmd.expect_exit(2);
        assert!(run.all().contains("not empty"), "{}", run.all());
        assert_eq!(snapshot(env.path()), before, "the demo changed files");
    }
    // A file where the directory should be is refused the same way.
    let file = env.write("a-file", "x");
    let before = snapshot(env.path());
    espmqtt(&env)
        .args(["demo", "--dir"])
        .arg(&file)
        .expect_exit(2);
    assert_eq!(snapshot(env.path()), before);
}
