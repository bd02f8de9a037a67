//! Peers and oracles for the `fingerprint` tests: `openssl s_server` on a
//! free loopback port (killed on drop), tiny TCP listeners that answer in
//! some other protocol, `openssl x509` as the fingerprint oracle, and the
//! JSON report as the tests read it (deserialised).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use super::{free_port, wait_for_port, KillOnDrop};

/// `openssl s_server` serving until dropped.
pub struct OpensslServer {
    pub port: u16,
    _child: KillOnDrop,
}

impl OpensslServer {
    /// Start `openssl s_server -accept HOST:PORT ARGS…` (HOST `127.0.0.1`
    /// or `[::1]`) and wait until it accepts connections.
    pub fn start_on(host: &str, args: &[&str]) -> OpensslServer {
        for _ in 0..5 {
            let port = free_port();
            let child = Command::new("openssl")
                .arg("s_server")
                .arg("-accept")
                .arg(format!("{host}:{port}"))
                .args(args)
                .arg("-quiet")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn openssl s_server");
            let mut child = KillOnDrop(child);
            let ip = host.trim_start_matches('[').trim_end_matches(']');
            let addr: SocketAddr = SocketAddr::new(ip.parse().unwrap(), port);
            // `free_port()` is racy: another test's listener may take the
            // port first, s_server then exits on EADDRINUSE while the port
            // still answers. Only a live s_server counts.
            if wait_for_port(addr, Duration::from_secs(5)) && super::still_running(&mut child) {
                return OpensslServer {
                    port,
                    _child: child,
                };
            }
        }
        panic!("openssl s_server did not start");
    }

    pub fn start(args: &[&str]) -> OpensslServer {
        Self::start_on("127.0.0.1", args)
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// A loopback listener whose every connection gets `reply` (after reading
/// whatever the client sends first), then is closed; `None` = accept and
/// never answer. Runs until the test process ends.
pub fn canned_listener(reply: Option<Vec<u8>>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            match &reply {
                None => held.push(conn),
                Some(bytes) => {
                    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut buf = [0u8; 2048];
                    let _ = conn.read(&mut buf);
                    let _ = conn.write_all(bytes);
                    let _ = conn.flush();
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    });
    port
}

/// `openssl x509 -noout -fingerprint -<alg>` → the value after `=`.
pub fn openssl_fingerprint(cert: &Path, alg: &str) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", &format!("-{alg}"), "-in"])
        .arg(cert)
        .output()
        .expect("openssl x509");
    assert!(out.status.success(), "openssl x509 failed");
    let text = String::from_utf8(out.stdout).unwrap();
    text.trim()
        .split_once('=')
        .map(|(_, v)| v.to_string())
        .expect("openssl fingerprint line")
}

/// The pin pipeline from the issue, run by the shell.
pub fn openssl_pin(cert: &Path) -> String {
    let script = format!(
        "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der \
         | openssl dgst -sha256 -binary | base64",
        cert.display()
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("sh");
    assert!(out.status.success(), "pin pipeline failed");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// `openssl x509 -pubkey -noout` (SPKI PEM).
pub fn openssl_pubkey_pem(cert: &Path) -> String {
    let out = Command::new("openssl")
        .args(["x509", "-pubkey", "-noout", "-in"])
        .arg(cert)
        .output()
        .expect("openssl x509 -pubkey");
    String::from_utf8(out.stdout).unwrap()
}

/// The JSON report, as a consumer reads it.
#[derive(Debug, Deserialize)]
pub struct Report {
    pub source: String,
    pub host: Option<String>,
    pub port: Option<u16>,
    pub address: Option<String>,
    pub servername: Option<String>,
    pub file: Option<String>,
    pub tls_version: Option<String>,
    pub cipher_suite: Option<String>,
    pub chain: Vec<Cert>,
    pub warnings: Vec<Warning>,
    pub expect: Option<Expect>,
    pub min_days: Option<MinDays>,
    pub tasmota_fingerprint: Option<String>,
    pub emitted: Option<String>,
    pub timings: Option<Timings>,
    pub ok: bool,
}

#[derive(Debug, Deserialize)]
pub struct Timings {
    pub resolve_ms: f64,
    pub connect_ms: f64,
    pub handshake_ms: f64,
}

#[derive(Debug, Deserialize)]
pub struct Cert {
    pub index: usize,
    pub subject: String,
    pub issuer: String,
    pub sans: Vec<String>,
    pub not_before: String,
    pub not_after: String,
    pub days_left: i64,
    pub validity_days: i64,
    pub serial: String,
    pub key: Key,
    pub signature_algorithm: String,
    pub is_ca: bool,
    pub self_signed: bool,
    pub sha1: String,
    pub sha256: String,
    pub pin_sha256: Option<String>,
    pub der_len: usize,
    pub parse_error: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Key {
    pub algorithm: String,
    pub bits: Option<u32>,
    pub curve: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Warning {
    pub id: String,
    pub severity: String,
    pub certificate: Option<usize>,
    pub message: String,
}

#[derive(Debug, Deserialize)]
pub struct Expect {
    pub matched: bool,
    pub checks: Vec<ExpectCheck>,
}

#[derive(Debug, Deserialize)]
pub struct ExpectCheck {
    pub input: String,
    pub kind: String,
    pub value: String,
    pub actual: String,
    pub matched: bool,
    pub matches_certificate: Option<usize>,
}

#[derive(Debug, Deserialize)]
pub struct MinDays {
    pub min_days: u32,
    pub days_left: i64,
    pub ok: bool,
}

/// The JSON error object printed with `--format json` on failure.
#[derive(Debug, Deserialize)]
pub struct ErrorDoc {
    #[serde(rename = "type")]
    pub kind_tag: String,
    pub exit_code: u8,
    pub message: String,
    pub help: Option<String>,
}

impl Report {
    pub fn warning_ids(&self) -> Vec<&str> {
        self.warnings.iter().map(|w| w.id.as_str()).collect()
    }
}
