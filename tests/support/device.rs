//! Helpers for the registry and broker-export tests: server certificates,
//! mosquitto_sub/mosquitto_pub over TLS, and a recorder that collects every
//! output of the binary so a test can prove no secret leaked into it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use super::pki::{self, Alg};
use super::{Env, KillOnDrop, Run};

/// Broker certificate files for a loopback listener.
pub struct ServerPki {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A test CA and a leaf for `localhost` / `127.0.0.1`, written into `dir`.
pub fn server_pki(dir: &Path) -> ServerPki {
    let ca = pki::ca("espmqtt test broker CA", Alg::EcP256);
    let leaf = pki::leaf("localhost", &["localhost", "127.0.0.1"], Alg::EcP256, &ca);
    let (ca_file, _) = ca.write(dir, "broker-ca");
    let (cert, key) = leaf.write(dir, "broker");
    ServerPki {
        ca: ca_file,
        cert,
        key,
    }
}

/// How a client authenticates.
#[derive(Clone, Debug)]
pub enum Auth {
    Password(String, String),
    Cert(PathBuf, PathBuf),
}

fn client_args(cmd: &mut Command, port: u16, cafile: &Path, auth: &Auth, id: &str) {
    cmd.args([
        "-h",
        "127.0.0.1",
        "-p",
        &port.to_string(),
        "-i",
        id,
        "-V",
        "mqttv311",
    ])
    .arg("--cafile")
    .arg(cafile);
    match auth {
        Auth::Password(u, p) => {
            cmd.args(["-u", u, "-P", p]);
        }
        Auth::Cert(c, k) => {
            cmd.arg("--cert").arg(c).arg("--key").arg(k);
        }
    }
}

/// `mosquitto_pub -q 1`: returns the process outcome (exit 0 = PUBACK received).
pub fn publish(port: u16, cafile: &Path, auth: &Auth, id: &str, topic: &str, payload: &str) -> Run {
    let mut c = Command::new("mosquitto_pub");
    client_args(&mut c, port, cafile, auth, id);
    c.args(["-q", "1", "-t", topic, "-m", payload]);
    let out = c
        .stdin(Stdio::null())
        .output()
        .expect("spawn mosquitto_pub");
    Run::from(out)
}

/// A running `mosquitto_sub` that has received its SUBACK.
pub struct Sub {
    _child: KillOnDrop,
    rx: Receiver<String>,
}

impl Sub {
    /// Connect and subscribe (QoS 1); `Err(output)` if the broker refused the
    /// connection or the process ended before subscribing.
    pub fn start(
        port: u16,
        cafile: &Path,
        auth: &Auth,
        id: &str,
        topics: &[&str],
    ) -> Result<Sub, String> {
        // mosquitto_sub block-buffers stdout into a pipe: force line buffering.
        let mut c = Command::new("stdbuf");
        c.args(["-oL", "-eL", "mosquitto_sub"]);
        client_args(&mut c, port, cafile, auth, id);
        c.args(["-d", "-v", "-q", "1", "-W", "20"]);
        for t in topics {
            c.args(["-t", t]);
        }
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn mosquitto_sub");
        let (tx, rx) = channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for l in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = tx.send(l);
            }
        });
        std::thread::spawn(move || {
            for l in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx2.send(format!("stderr: {l}"));
            }
        });
        let child = KillOnDrop(child);
        let mut seen = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            match rx.recv_timeout(Duration::from_millis(200)) {
                Ok(l) => {
                    let done = l.contains("received SUBACK");
                    seen.push(l);
                    if done {
                        // The "Subscribed (mid…)" line follows; not needed.
                        return Ok(Sub { _child: child, rx });
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                Err(_) => return Err(seen.join("\n")),
            }
        }
        Err(format!("no SUBACK within 15 s:\n{}", seen.join("\n")))
    }

    /// The next line of mosquitto_sub's output (stderr lines prefixed
    /// `stderr: `), whatever it is.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.rx.recv_timeout(timeout).ok()
    }

    /// The next application message as `(topic, payload)`.
    pub fn next_message(&self, timeout: Duration) -> Option<(String, String)> {
        let deadline = Instant::now() + timeout;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.rx.recv_timeout(left) {
                Ok(l) => {
                    if l.starts_with("Client ")
                        || l.starts_with("Subscribed")
                        || l.starts_with("stderr:")
                    {
                        continue;
                    }
                    let (t, p) = l.split_once(' ').unwrap_or((l.as_str(), ""));
                    return Some((t.to_string(), p.to_string()));
                }
                Err(_) => return None,
            }
        }
        None
    }
}

/// Runs the binary like [`Env::run`] and keeps every output (except those of
/// runs that asked for secrets) for [`Recorder::assert_no_secrets`].
pub struct Recorder<'a> {
    pub env: &'a Env,
    outputs: std::cell::RefCell<Vec<(String, String)>>,
}

impl<'a> Recorder<'a> {
    pub fn new(env: &'a Env) -> Self {
        Recorder {
            env,
            outputs: Default::default(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        let r = self.env.run(args);
        if !args.contains(&"--show-secrets") {
            self.outputs
                .borrow_mut()
                .push((args.join(" "), format!("{}\n{}", r.stdout, r.stderr)));
        }
        r
    }

    /// Record a file's content as if it were output (exported files).
    pub fn record_file(&self, path: &Path) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        self.outputs
            .borrow_mut()
            .push((format!("file {}", path.display()), text));
    }

    pub fn runs(&self) -> usize {
        self.outputs.borrow().len()
    }

    #[track_caller]
    pub fn assert_no_secrets(&self, secrets: &[String]) {
        assert!(!secrets.is_empty());
        for (what, out) in self.outputs.borrow().iter() {
            for s in secrets {
                assert!(
                    !out.contains(s.as_str()),
                    "a secret appears in the output of `{what}`:\n{out}"
                );
            }
        }
    }
}

/// Mode bits of a file.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}
