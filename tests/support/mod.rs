//! Shared test helpers: running the binary in a scrubbed environment, free
//! ports, waiting for listeners, and child processes that die with the test.
//!
//! Every test gets its own temporary directory and an environment without
//! the variables espmqtt reads (`docs/TESTING.md`). [`cmd::espmqtt`] builds
//! one run of the binary.

#![allow(dead_code)]

pub use cmd::espmqtt;

pub mod amqtt;
pub mod cmd;
pub mod device;
pub mod emulator;
pub mod fingerprint;
pub mod firmware;
pub mod monitor;
pub mod mosquitto;
pub mod ota;
pub mod pki;
pub mod postgres;
pub mod probe;
pub mod serial;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Path of the built `espmqtt` binary.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_espmqtt"))
}

/// A per-test working directory plus a command builder for the binary.
pub struct Env {
    pub dir: tempfile::TempDir,
    /// Variables set for every run of the binary (after scrubbing).
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn new() -> Self {
        Env {
            dir: tempfile::tempdir().expect("tempdir"),
            vars: Vec::new(),
        }
    }

    /// An environment whose runs also get `vars`.
    pub fn with_vars(vars: Vec<(String, String)>) -> Self {
        Env { vars, ..Env::new() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `espmqtt ARGS…` in this directory with a scrubbed environment.
    pub fn cmd(&self) -> Command {
        let mut c = Command::new(bin());
        c.current_dir(self.dir.path());
        scrub(&mut c);
        c.env("HOME", self.dir.path());
        c.envs(self.vars.iter().map(|(k, v)| (k, v)));
        c.stdin(Stdio::null());
        c
    }

    /// Run and collect the output.
    pub fn run(&self, args: &[&str]) -> Run {
        let out = self.cmd().args(args).output().expect("spawn espmqtt");
        Run::from(out)
    }

    /// `espmqtt init` with the tests' usual Wi-Fi and topic prefix (`t`):
    /// broker `broker`, then `trust` (`--trust MODE` and its options).
    pub fn init_project(&self, broker: &str, trust: &[&str]) -> Run {
        let mut a = vec![
            "init",
            "--broker",
            broker,
            "--wifi-ssid",
            "home",
            "--wifi-password",
            "correct-horse",
            "--topic-prefix",
            "t",
        ];
        a.extend_from_slice(trust);
        self.run(&a)
    }

    /// Run with `--format json` appended and parse stdout.
    pub fn run_json(&self, args: &[&str]) -> (Run, serde_json::Value) {
        let mut a: Vec<&str> = args.to_vec();
        a.extend(["--format", "json"]);
        let r = self.run(&a);
        let v = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                r.stdout, r.stderr
            )
        });
        (r, v)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let p = self.dir.path().join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, contents).unwrap();
        p
    }
}

/// Remove the variables that change espmqtt's behaviour.
pub fn scrub(c: &mut Command) {
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy().to_string();
        if k.starts_with("ESPMQTT") || k == "NO_COLOR" || k == "CI" || k.starts_with("SSL_") {
            c.env_remove(&k);
        }
    }
}

/// Outcome of one run of the binary.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        );
        self
    }

    /// stdout as one JSON document.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// stdout as JSON Lines (streaming commands).
    #[track_caller]
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| {
                    panic!(
                        "a stdout line is not JSON ({e}): {line}\nstderr:\n{}",
                        self.stderr
                    )
                })
            })
            .collect()
    }
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

/// A free TCP port on 127.0.0.1 (racy by nature; good enough on loopback).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Wait until something accepts connections on `addr`.
pub fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A child process killed when dropped.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Whether a server child is still alive a moment after its port answered
/// (a server that lost the `free_port()` race exits on EADDRINUSE while
/// another test's listener answers on that port).
pub fn still_running(child: &mut KillOnDrop) -> bool {
    std::thread::sleep(Duration::from_millis(100));
    matches!(child.0.try_wait(), Ok(None))
}

/// Whether an external program is on PATH.
pub fn have(program: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Path of a Debian-packaged mosquitto binary (it lives in /usr/sbin).
pub fn mosquitto_bin() -> Option<PathBuf> {
    for p in ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    None
}
