//! Helpers for the `probe` tests: a PKI and mosquitto broker per test, the
//! report types (tests deserialise `--format json`), a rustls TLS
//! terminator in front of a plain mosquitto listener (rustls ignores MFLN),
//! misbehaving raw TCP servers, and the BearSSL device oracle
//! (`bearssl_client.c`, compiled here with Debian's libbearssl).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde::Deserialize;

use super::mosquitto::Mosquitto;
use super::pki::{self, Alg, Issued};
use super::{Env, Run};

/// `--format json` of `espmqtt probe`, the parts tests look at.
#[derive(Debug, Deserialize)]
pub struct Report {
    pub r#type: String,
    pub verdict: String,
    pub exit_code: u8,
    pub phases: Vec<Phase>,
    pub findings: Vec<Finding>,
    pub tls: Tls,
    pub device_tls_error: Option<i32>,
    pub pubsubclient_state: i32,
    pub mqtt: Option<serde_json::Value>,
    pub heap: serde_json::Value,
    pub total_millis: u64,
}

#[derive(Debug, Deserialize)]
pub struct Phase {
    pub name: String,
    pub status: String,
    pub millis: u64,
    pub detail: String,
}

#[derive(Debug, Deserialize)]
pub struct Finding {
    pub id: String,
    pub category: String,
    pub severity: String,
    pub message: String,
    pub device_error: Option<String>,
    pub bearssl_error: Option<i32>,
    pub pubsubclient_state: Option<i32>,
    pub fix: String,
}

#[derive(Debug, Deserialize)]
pub struct Tls {
    pub version: Option<String>,
    pub cipher_suite: Option<String>,
    pub mfln_requested: Option<u16>,
    pub mfln_echoed: Option<u16>,
    pub leaf_sha1: Option<String>,
    pub client_certificate_requested: bool,
    pub client_certificates_sent: Option<usize>,
    pub handshake_complete: bool,
}

impl Report {
    pub fn finding(&self, id: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.id == id)
    }
    #[track_caller]
    pub fn expect_finding(&self, id: &str, severity: &str) -> &Finding {
        let f = self
            .finding(id)
            .unwrap_or_else(|| panic!("no finding {id}; findings: {:#?}", self.findings));
        assert_eq!(f.severity, severity, "{f:#?}");
        f
    }
    pub fn fatal_ids(&self) -> Vec<&str> {
        self.findings
            .iter()
            .filter(|f| f.severity == "fatal")
            .map(|f| f.id.as_str())
            .collect()
    }
    pub fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// Every way this report could contradict itself; empty when it does
    /// not. Written independently of espmqtt's own check.
    pub fn contradictions(&self) -> Vec<String> {
        let mut out = Vec::new();
        let fatal: Vec<&Finding> = self
            .findings
            .iter()
            .filter(|f| f.severity == "fatal")
            .collect();
        let failed = |names: &[&str]| {
            self.phases
                .iter()
                .any(|p| names.contains(&p.name.as_str()) && p.status == "fail")
        };
        let want_exit = match self.verdict.as_str() {
            "ok" => 0,
            "fail" => 1,
            "unreachable" => 3,
            v => {
                out.push(format!("unknown verdict {v}"));
                255
            }
        };
        if self.exit_code != want_exit {
            out.push(format!(
                "exit {} for verdict {}",
                self.exit_code, self.verdict
            ));
        }
        if let Some(f) = self.finding("internal_inconsistency") {
            out.push(format!("internal inconsistency: {}", f.message));
        }
        if self.verdict == "ok" {
            if !fatal.is_empty() {
                out.push("ok with fatal findings".into());
            }
            if self.device_tls_error != Some(0) || self.pubsubclient_state != 0 {
                out.push(format!(
                    "ok with device error {:?}, state {}",
                    self.device_tls_error, self.pubsubclient_state
                ));
            }
            if self.phases.iter().any(|p| p.status == "fail") {
                out.push("ok with a failed phase".into());
            }
        } else {
            if fatal.is_empty() {
                out.push(format!("{} without a fatal finding", self.verdict));
            }
            if !self.phases.iter().any(|p| p.status == "fail") {
                out.push(format!("{} without a failed phase", self.verdict));
            }
        }
        match self.device_tls_error {
            None if self.verdict != "unreachable" => {
                out.push("no TLS attempted but not unreachable".into())
            }
            Some(0) => {
                if fatal
                    .iter()
                    .any(|f| f.category == "handshake" || f.category == "chain")
                {
                    out.push("TLS works but a handshake/chain finding is fatal".into());
                }
                if self.phase("mqtt").is_some_and(|p| p.status == "skipped") {
                    out.push("TLS works but MQTT was skipped".into());
                }
            }
            Some(e) => {
                if !fatal.iter().any(|f| f.bearssl_error == Some(e)) {
                    out.push(format!("device error {e} explained by no fatal finding"));
                }
                if self.pubsubclient_state == 0 {
                    out.push(format!("device error {e} but PubSubClient state 0"));
                }
            }
            None => {}
        }
        for f in &fatal {
            if let Some(b) = f.bearssl_error {
                if Some(b) != self.device_tls_error {
                    out.push(format!(
                        "{} says BearSSL {b}, report says {:?}",
                        f.id, self.device_tls_error
                    ));
                }
            }
            if let Some(s) = f.pubsubclient_state {
                if s != self.pubsubclient_state {
                    out.push(format!(
                        "{} says state {s}, report says {}",
                        f.id, self.pubsubclient_state
                    ));
                }
            }
            let phases: &[&str] = match f.category.as_str() {
                "connection" => &["resolve", "tcp", "device_handshake"],
                "handshake" => &["device_handshake"],
                "chain" => &["verification"],
                "mqtt" => &["mqtt"],
                c => {
                    out.push(format!("{}: unknown category {c}", f.id));
                    &[]
                }
            };
            if !failed(phases) {
                out.push(format!(
                    "fatal {} ({}) but its phase did not fail",
                    f.id, f.category
                ));
            }
        }
        out
    }
}

/// Run `espmqtt probe ARGS --format json` and parse the report.
pub fn probe(env: &Env, args: &[&str]) -> (Run, Report) {
    let mut a = vec!["probe"];
    a.extend_from_slice(args);
    a.extend(["--format", "json"]);
    let run = env.run(&a);
    let report: Report = serde_json::from_str(&run.stdout).unwrap_or_else(|e| {
        panic!(
            "not a probe report ({e}):\nstdout:\n{}\nstderr:\n{}",
            run.stdout, run.stderr
        )
    });
    assert_eq!(report.r#type, "probe");
    assert_eq!(
        run.code, report.exit_code as i32,
        "exit code and report disagree"
    );
    let wrong = report.contradictions();
    assert!(
        wrong.is_empty(),
        "the report contradicts itself: {wrong:#?}\n{}",
        run.stdout
    );
    (run, report)
}

/// CA + server certificate for `localhost` / 127.0.0.1, written to `dir`.
pub struct TestPki {
    pub ca: Issued,
    pub server: Issued,
    pub ca_file: PathBuf,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

impl TestPki {
    pub fn new(dir: &Path, server_alg: Alg) -> TestPki {
        let ca = pki::ca("espmqtt test CA", Alg::EcP256);
        let server = pki::leaf("localhost", &["localhost", "127.0.0.1"], server_alg, &ca);
        Self::from_parts(dir, ca, server)
    }
    pub fn from_parts(dir: &Path, ca: Issued, server: Issued) -> TestPki {
        let (ca_file, _) = ca.write(dir, "ca");
        let (cert_file, key_file) = server.write(dir, "server");
        TestPki {
            ca,
            server,
            ca_file,
            cert_file,
            key_file,
        }
    }
    /// Leaf SHA-1 as upper-case colon hex (the spelling espmqtt prints).
    pub fn leaf_sha1(&self) -> String {
        use sha1::Digest;
        let d = sha1::Sha1::digest(self.server.der());
        d.iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }
    /// Write the server's public key as SPKI PEM.
    pub fn write_pubkey(&self, dir: &Path) -> PathBuf {
        let p = dir.join("server.pub");
        std::fs::write(&p, self.server.key.public_key_pem()).unwrap();
        p
    }
    /// TLS listener lines for mosquitto.
    pub fn listener(&self) -> String {
        format!(
            "certfile {}\nkeyfile {}\ncafile {}\n",
            self.cert_file.display(),
            self.key_file.display(),
            self.ca_file.display()
        )
    }
}

/// A password file made by `mosquitto_passwd -b -c`.
pub fn password_file(dir: &Path, user: &str, pass: &str) -> PathBuf {
    let p = dir.join("passwd");
    let st = Command::new("mosquitto_passwd")
        .args(["-b", "-c"])
        .arg(&p)
        .args([user, pass])
        .status()
        .expect("mosquitto_passwd");
    assert!(st.success(), "mosquitto_passwd failed");
    p
}

/// mosquitto with a TLS listener plus `extra` listener lines.
pub fn tls_broker(dir: &Path, pki: &TestPki, extra: &str) -> Mosquitto {
    Mosquitto::start(dir, "", &format!("{}{extra}\n", pki.listener()))
}

/// Skip a test (returning early) when mosquitto is missing.
pub fn have_mosquitto() -> bool {
    super::mosquitto_bin().is_some() && super::have("mosquitto_passwd")
}

// ---------------------------------------------------------------------
// rustls TLS terminator (no MFLN support) in front of a plain listener.

pub struct RustlsFront {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RustlsFront {
    /// Terminate TLS with `pki`'s server certificate and forward the
    /// plaintext to 127.0.0.1:`backend`.
    pub fn start(pki: &TestPki, backend: u16) -> RustlsFront {
        use rumqttc::tokio_rustls::rustls;
        let chain = vec![rustls::pki_types::CertificateDer::from(pki.server.der())];
        let key =
            rustls::pki_types::PrivateKeyDer::try_from(pki.server.key.serialize_der()).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS12, &rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .unwrap();
        let acceptor = rumqttc::tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                loop {
                    if stop2.load(Ordering::Relaxed) {
                        break;
                    }
                    let accepted =
                        tokio::time::timeout(Duration::from_millis(50), listener.accept()).await;
                    let Ok(Ok((sock, _))) = accepted else {
                        continue;
                    };
                    let acceptor = acceptor.clone();
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(sock).await else {
                            return;
                        };
                        let Ok(mut back) =
                            tokio::net::TcpStream::connect(("127.0.0.1", backend)).await
                        else {
                            return;
                        };
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut back).await;
                    });
                }
            });
        });
        RustlsFront {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for RustlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------------
// Other TLS servers: gnutls-serv, and OpenSSL (socat) in front of a plain
// mosquitto listener.

/// A server process on a loopback port, killed when dropped.
pub struct ServerProcess {
    pub port: u16,
    child: super::KillOnDrop,
}

impl ServerProcess {
    /// Start `make(port)` on free ports until one stays up (another test
    /// may take the port between `free_port()` and the bind).
    fn start(what: &str, make: impl Fn(u16) -> Command) -> ServerProcess {
        for _ in 0..5 {
            let port = super::free_port();
            let child = make(port)
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {what}: {e}"));
            let mut child = super::KillOnDrop(child);
            let addr = format!("127.0.0.1:{port}").parse().unwrap();
            if super::wait_for_port(addr, Duration::from_secs(5))
                && super::still_running(&mut child)
            {
                return ServerProcess { port, child };
            }
            let _ = child.0.kill();
        }
        panic!("{what} did not start");
    }

    /// `gnutls-serv --echo` with this certificate chain and key, plus
    /// `args` (`--priority …`, `--require-client-cert`, …). gnutls-serv has
    /// no bind option: it listens on every interface, and the tests only
    /// ever connect to 127.0.0.1.
    pub fn gnutls(chain: &Path, key: &Path, args: &[String]) -> ServerProcess {
        ServerProcess::start("gnutls-serv", |port| {
            let mut c = Command::new("gnutls-serv");
            c.args(["--echo", "--quiet", "--port", &port.to_string()])
                .arg("--x509certfile")
                .arg(chain)
                .arg("--x509keyfile")
                .arg(key)
                .args(args);
            c
        })
    }

    /// socat terminating TLS with OpenSSL (`opts`: socat's `openssl-…`
    /// address options, e.g. `openssl-max-proto-version=TLS1.1`) and
    /// forwarding the plaintext to 127.0.0.1:`backend`. `openssl_conf`
    /// becomes `OPENSSL_CONF`: socat loads the certificate before it applies
    /// `cipher=`, so a security level that admits an RSA-1024 certificate
    /// has to come from the configuration file.
    pub fn openssl_front(
        chain: &Path,
        key: &Path,
        opts: &str,
        backend: u16,
        openssl_conf: Option<&Path>,
    ) -> ServerProcess {
        ServerProcess::start("socat", |port| {
            let mut c = Command::new("socat");
            if let Some(conf) = openssl_conf {
                c.env("OPENSSL_CONF", conf);
            }
            c.arg(format!(
                "OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},verify=0{}{opts}",
                chain.display(),
                key.display(),
                if opts.is_empty() { "" } else { "," }
            ))
            .arg(format!("TCP:127.0.0.1:{backend}"));
            c
        })
    }
}

/// Whether gnutls-serv and socat are installed (gnutls-bin, socat).
pub fn have_tls_servers() -> bool {
    super::have("gnutls-serv") && super::have("socat")
}

// ---------------------------------------------------------------------
// Misbehaving servers.

#[derive(Clone, Copy, Debug)]
pub enum Misbehaviour {
    /// Answers every connection with pseudo-random bytes.
    RandomBytes,
    /// Accepts and never sends anything.
    Silent,
    /// An HTTP server.
    Http,
    /// Reads the ClientHello, sends a valid ServerHello, closes.
    CloseAfterServerHello,
    /// Confirms max_fragment_length 512 in the ServerHello, then sends a
    /// 2 KB Certificate record anyway (what vernemq#2481 describes).
    MflnEchoedButBigRecords,
    /// Reads whatever comes first, then closes (behind a TLS front: a
    /// broker that drops the connection after CONNECT).
    CloseAfterRead,
    /// Sends back whatever it reads (behind a TLS front: a TLS server that
    /// is not an MQTT broker).
    Echo,
}

pub struct RawServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RawServer {
    pub fn start(kind: Misbehaviour) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let _ = s.set_nonblocking(false);
                        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                        match kind {
                            Misbehaviour::Silent => held.push(s),
                            Misbehaviour::RandomBytes => {
                                let mut x: u32 = 0x9e37_79b9;
                                let noise: Vec<u8> = (0..4096)
                                    .map(|i| {
                                        x ^= x << 13;
                                        x ^= x >> 17;
                                        x ^= x << 5;
                                        if i == 0 {
                                            0xAB
                                        } else {
                                            x as u8
                                        }
                                    })
                                    .collect();
                                let _ = s.write_all(&noise);
                                held.push(s);
                            }
                            Misbehaviour::Http => {
                                let mut buf = [0u8; 1024];
                                let _ = s.read(&mut buf);
                                let _ = s.write_all(
                                    b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                                );
                            }
                            Misbehaviour::CloseAfterServerHello => {
                                let mut buf = [0u8; 2048];
                                let _ = s.read(&mut buf);
                                let _ = s.write_all(&server_hello_record(false));
                                let _ = s.flush();
                            }
                            Misbehaviour::Echo => {
                                let mut buf = [0u8; 2048];
                                while let Ok(n) = s.read(&mut buf) {
                                    if n == 0 || s.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                            Misbehaviour::CloseAfterRead => {
                                let mut buf = [0u8; 2048];
                                let _ = s.read(&mut buf);
                            }
                            Misbehaviour::MflnEchoedButBigRecords => {
                                let mut buf = [0u8; 2048];
                                let _ = s.read(&mut buf);
                                let mut out = server_hello_record(true);
                                out.extend_from_slice(&big_certificate_record());
                                out.extend_from_slice(&[22, 3, 3, 0, 4, 14, 0, 0, 0]);
                                let _ = s.write_all(&out);
                                let _ = s.flush();
                                held.push(s);
                            }
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(10)),
                }
            }
        });
        RawServer {
            port,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A well-formed TLS 1.2 ServerHello choosing ECDHE-RSA-AES128-GCM-SHA256
/// and echoing renegotiation_info (and max_fragment_length 512 if asked).
pub fn server_hello_record(mfln: bool) -> Vec<u8> {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0x42; 32]);
    body.push(0);
    body.extend_from_slice(&[0xC0, 0x2F, 0]);
    if mfln {
        body.extend_from_slice(&[0, 10, 0xff, 0x01, 0, 1, 0, 0x00, 0x01, 0, 1, 1]);
    } else {
        body.extend_from_slice(&[0, 5, 0xff, 0x01, 0, 1, 0]);
    }
    let mut hs = vec![2, 0, 0, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 3, 0, hs.len() as u8];
    rec.extend_from_slice(&hs);
    rec
}

/// One record holding a Certificate message with a 2000-byte opaque "certificate".
fn big_certificate_record() -> Vec<u8> {
    let cert = vec![0x30u8; 2000];
    let mut list = vec![0, 0x07, 0xd0];
    list.extend_from_slice(&cert);
    let mut body = vec![0, (list.len() >> 8) as u8, list.len() as u8];
    body.extend_from_slice(&list);
    let mut hs = vec![11, 0, (body.len() >> 8) as u8, body.len() as u8];
    hs.extend_from_slice(&body);
    let mut rec = vec![22, 3, 3, (hs.len() >> 8) as u8, hs.len() as u8];
    rec.extend_from_slice(&hs);
    rec
}

// ---------------------------------------------------------------------
// The BearSSL device oracle.

/// Path of the compiled oracle, or None when gcc or libbearssl is missing.
pub fn oracle() -> Option<&'static Path> {
    static BIN: OnceLock<Option<PathBuf>> = OnceLock::new();
    BIN.get_or_init(|| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/bearssl_client.c");
        let dir = std::env::temp_dir().join(format!("espmqtt-oracle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let bin = dir.join("bearssl_client");
        let out = Command::new("gcc")
            .args(["-O1", "-o"])
            .arg(&bin)
            .arg(&src)
            .arg("-lbearssl")
            .output()
            .ok()?;
        if !out.status.success() {
            eprintln!(
                "oracle does not build: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return None;
        }
        Some(bin)
    })
    .as_deref()
}

/// What the oracle got: 0 = connected, else the BearSSL error number.
pub fn oracle_run(host: &str, port: u16, mode: &str, args: &[&str]) -> i32 {
    oracle_device(host, port, mode, args).tls_error
}

/// The oracle's view of the device: its TLS error and, when `--mqtt ID`
/// is among `args`, the PubSubClient state after CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OracleOutcome {
    pub tls_error: i32,
    pub state: i32,
}

/// Run the oracle (5 s timeout).
pub fn oracle_device(host: &str, port: u16, mode: &str, args: &[&str]) -> OracleOutcome {
    let bin =
        oracle().expect("the BearSSL oracle needs gcc and libbearssl-dev (scripts/install-deps)");
    let mut cmd = Command::new(bin);
    cmd.args([host, &port.to_string(), mode]).args(args);
    if !args.contains(&"--timeout") {
        cmd.args(["--timeout", "5"]);
    }
    let out = cmd.output().expect("run oracle");
    let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
    parse_oracle_line(&line).unwrap_or_else(|| {
        panic!(
            "oracle said {line:?} (stderr {})",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn parse_oracle_line(line: &str) -> Option<OracleOutcome> {
    if let Some(rest) = line.strip_prefix("connected") {
        let mut state = 0;
        let mut tls_error = 0;
        for word in rest.split_whitespace() {
            if let Some(c) = word.strip_prefix("connack=") {
                state = match c {
                    "closed" | "timeout" => -4,
                    // Not a 4-byte packet: connect() returns false and a
                    // fresh PubSubClient stays MQTT_DISCONNECTED.
                    "other" => -1,
                    n => n.parse().ok()?,
                };
            }
            if let Some(e) = word.strip_prefix("error=") {
                tls_error = e.parse().ok()?;
            }
        }
        return Some(OracleOutcome { tls_error, state });
    }
    let rest = line.strip_prefix("error ")?;
    let tls_error = match rest {
        "timeout" | "tcp" => 31,
        n => n.parse().ok()?,
    };
    Some(OracleOutcome {
        tls_error,
        state: -2,
    })
}
