//! The demo's steps: the whole job on this machine, as a user would run it.
//!
//! In a fresh project directory it starts a real mosquitto with a new CA and
//! server certificate on a free loopback port, then drives espmqtt's own
//! commands as child processes — `init`, `device new`, `broker export`,
//! `emulate`, `flash --config-only`, `flash --read-config`, `fingerprint`,
//! `probe --device`. Running the real binary (not library calls) means the
//! demo exercises exactly what a user's shell script would, flags and exit
//! codes included.
//!
//! Everything that can be checked is checked before the first write
//! ([`check`]): the project directory must be new or empty, mosquitto must
//! be there. Each finished step is handed to a callback; nothing is printed
//! here (`cli/demo.rs` renders).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::files::write_file_atomic;

/// Where and with what the demo runs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The espmqtt binary the steps run.
    pub exe: PathBuf,
    /// The project directory: new or empty (see [`check`]).
    pub dir: PathBuf,
    /// The mosquitto binary.
    pub mosquitto: PathBuf,
}

/// One step of the demo, as reported.
#[derive(Debug, Clone, Serialize)]
pub struct DemoStep {
    pub step: String,
    pub ok: bool,
    pub millis: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The demo's report.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub r#type: &'static str,
    pub ok: bool,
    pub project: String,
    pub broker: String,
    pub fingerprint_sha1: Option<String>,
    pub trust_mode: String,
    pub verdict: Option<String>,
    pub findings: Vec<String>,
    /// The probe's phases: name and milliseconds.
    pub probe_phases: Vec<(String, u64)>,
    pub steps: Vec<DemoStep>,
}

impl DemoReport {
    /// The report of a demo that stopped at a failed step.
    pub fn failed(project: &Path, steps: Vec<DemoStep>) -> DemoReport {
        DemoReport {
            r#type: "demo",
            ok: false,
            project: project.display().to_string(),
            broker: String::new(),
            fingerprint_sha1: None,
            trust_mode: "ca".into(),
            verdict: None,
            findings: vec![],
            probe_phases: vec![],
            steps,
        }
    }
}

/// Everything checked before the demo writes anything: the project directory
/// (`None` = a temporary one) and mosquitto (`None` = look in the usual
/// places). Returns the mosquitto binary.
pub fn check(dir: Option<&Path>, mosquitto: Option<&Path>) -> Result<PathBuf> {
    if let Some(dir) = dir {
        check_project_dir(dir)?;
    }
    let found = match mosquitto {
        Some(path) if path.is_file() => Some(path.to_path_buf()),
        Some(_) => None,
        None => find_mosquitto(),
    };
    found.ok_or_else(|| {
        Error::unreachable("mosquitto is not installed; the demo needs a local broker")
            .with_help("install it: sudo apt-get install mosquitto (or run scripts/setup)")
    })
}

/// `--dir` must be new or an empty directory: the demo writes a broker
/// directory, a registry and `espmqtt.toml`, and must never mix them into
/// (or overwrite) an existing project.
fn check_project_dir(dir: &Path) -> Result<()> {
    let refuse = |why: &str| {
        Err(Error::usage(format!("--dir {} {why}", dir.display()))
            .with_help("give a new or empty directory, or leave --dir out for a temporary one"))
    };
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return refuse("is not a directory");
    }
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    if entries.next().is_some() {
        return refuse("is not empty; the demo only runs in a new or empty directory");
    }
    Ok(())
}

fn find_mosquitto() -> Option<PathBuf> {
    for path in [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ] {
        if Path::new(path).is_file() {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("mosquitto"))
            .find(|path| path.is_file())
    })
}

/// A new, empty directory under the system's temporary directory.
pub fn temp_project_dir() -> Result<PathBuf> {
    let mut rnd = [0u8; 6];
    getrandom::getrandom(&mut rnd)
        .map_err(|e| Error::runtime(format!("no randomness from the OS: {e}")))?;
    let dir = std::env::temp_dir().join(format!("espmqtt-demo-{}", hex::encode(rnd)));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

/// Run every step in `opts.dir` (which must exist), handing each finished
/// step to `on_step`. Returns the steps taken and the report, or the error
/// of the step that failed. Child processes are stopped before returning.
pub fn run(
    opts: &DemoOptions,
    on_step: &mut dyn FnMut(&DemoStep),
) -> (Vec<DemoStep>, Result<DemoReport>) {
    let mut demo = Demo {
        opts,
        on_step,
        steps: Vec::new(),
        children: Vec::new(),
    };
    let result = demo.all_steps();
    let steps = std::mem::take(&mut demo.steps);
    drop(demo);
    (steps, result)
}

/// The state the steps share.
struct Demo<'a> {
    opts: &'a DemoOptions,
    on_step: &'a mut dyn FnMut(&DemoStep),
    steps: Vec<DemoStep>,
    /// mosquitto and the emulator, killed when the demo ends.
    children: Vec<Child>,
}

impl Drop for Demo<'_> {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// What the broker step leaves for the later ones.
struct Broker {
    dir: PathBuf,
    port: u16,
    pid: u32,
    /// `localhost:PORT`, what the device connects to.
    target: String,
}

impl Demo<'_> {
    fn all_steps(&mut self) -> Result<DemoReport> {
        let broker_dir = self.opts.dir.join("broker");
        std::fs::create_dir_all(&broker_dir).map_err(|e| Error::io(&broker_dir, e))?;
        let started = Instant::now();
        make_pki(&broker_dir)?;
        self.record(
            "create a CA and a server certificate (EC P-256)",
            started,
            true,
            None,
        );
        let broker = self.start_broker(broker_dir)?;
        self.provision(&broker)?;
        let port_arg = self.start_emulator()?;
        self.flash_and_read_back(&broker, &port_arg)?;
        self.fingerprint_and_probe(broker)
    }

    fn record(&mut self, step: &str, started: Instant, ok: bool, detail: Option<String>) {
        let step = DemoStep {
            step: step.to_string(),
            ok,
            millis: started.elapsed().as_millis(),
            detail,
        };
        (self.on_step)(&step);
        self.steps.push(step);
    }

    /// mosquitto on a free loopback port: TLS, a password file and an ACL
    /// (empty until `broker export` fills them).
    fn start_broker(&mut self, dir: PathBuf) -> Result<Broker> {
        let started = Instant::now();
        let port = free_port()?;
        let passwd = dir.join("passwd");
        let acl = dir.join("acl");
        write_file_atomic(&passwd, b"", 0o600)?;
        write_file_atomic(&acl, b"", 0o644)?;
        // `broker export` writes its own `mosquitto.conf` snippet into the
        // same directory; the demo broker's configuration must not be that file.
        let conf = dir.join("demo-broker.conf");
        let user = if is_root() { "user root\n" } else { "" };
        let text = format!(
            "{user}per_listener_settings false\nallow_anonymous false\npassword_file {}\nacl_file {}\n\
             log_dest file {}\nlistener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n",
            passwd.display(),
            acl.display(),
            dir.join("mosquitto.log").display(),
            dir.join("ca.crt").display(),
            dir.join("server.crt").display(),
            dir.join("server.key").display(),
        );
        write_file_atomic(&conf, text.as_bytes(), 0o644)?;
        let child = Command::new(&self.opts.mosquitto)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::runtime(format!("cannot start mosquitto: {e}")))?;
        let pid = child.id();
        self.children.push(child);
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        if !wait_for_port(addr, Duration::from_secs(10)) {
            self.record("start mosquitto (TLS listener)", started, false, None);
            return Err(Error::runtime("mosquitto did not start listening")
                .with_help(format!("see {}", dir.join("mosquitto.log").display())));
        }
        self.record(
            &format!("start mosquitto on 127.0.0.1:{port} (TLS, passwords, ACL)"),
            started,
            true,
            None,
        );
        Ok(Broker {
            dir,
            port,
            pid,
            target: format!("localhost:{port}"),
        })
    }

    /// `init`, two devices, `broker export`, and a broker reload.
    fn provision(&mut self, broker: &Broker) -> Result<()> {
        let path = |name: &str| broker.dir.join(name).display().to_string();
        let ca = path("ca.crt");
        self.espmqtt(
            "espmqtt init (non-interactive, trust mode ca)",
            &[
                "init",
                "--broker",
                &broker.target,
                "--wifi-ssid",
                "demo-wifi",
                "--wifi-password",
                "demo wifi pass",
                "--trust",
                "ca",
                "--ca-file",
                &ca,
                "--board",
                "esp07",
            ],
        )?;
        self.espmqtt(
            "espmqtt device new demo-01 demo-02",
            &["device", "new", "demo-01", "demo-02"],
        )?;
        self.espmqtt(
            "espmqtt broker export --mosquitto broker/",
            &[
                "broker",
                "export",
                "--mosquitto",
                &broker.dir.display().to_string(),
                "--server-cert",
                &path("server.crt"),
                "--server-key",
                &path("server.key"),
                "--ca",
                &ca,
            ],
        )?;
        let started = Instant::now();
        let ok = Command::new("kill")
            .args(["-HUP", &broker.pid.to_string()])
            .status()
            .map(|status| status.success())
            .unwrap_or(false);
        std::thread::sleep(Duration::from_millis(300));
        self.record("reload mosquitto (SIGHUP)", started, ok, None);
        Ok(())
    }

    /// `espmqtt emulate` on a free port; returns its `socket://` URL.
    fn start_emulator(&mut self) -> Result<String> {
        let started = Instant::now();
        let flash_file = self.opts.dir.join("module-flash.bin");
        let mut emulator = Command::new(&self.opts.exe)
            .args([
                "emulate",
                "--listen",
                "127.0.0.1:0",
                "--baud-model",
                "off",
                "--save",
            ])
            .arg(&flash_file)
            .current_dir(&self.opts.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| Error::runtime(format!("cannot start the emulator: {e}")))?;
        let first_line = emulator.stdout.take().and_then(|out| {
            let mut line = String::new();
            BufReader::new(out).read_line(&mut line).ok().map(|_| line)
        });
        self.children.push(emulator);
        let address = first_line
            .as_deref()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| line.trim_start_matches("listening on ").to_string())
            .ok_or_else(|| Error::runtime("the emulator did not print its address"))?;
        self.record(
            &format!("start the ESP8266 emulator on {address}"),
            started,
            true,
            None,
        );
        Ok(format!("socket://{address}"))
    }

    /// Write demo-01's config blob into the emulated module and read it back.
    fn flash_and_read_back(&mut self, broker: &Broker, port_arg: &str) -> Result<()> {
        self.espmqtt(
            "espmqtt flash --device demo-01 --config-only",
            &[
                "flash",
                "--port",
                port_arg,
                "--device",
                "demo-01",
                "--config-only",
            ],
        )?;
        let read_back = self.espmqtt(
            "espmqtt flash --read-config (read back, redacted)",
            &["flash", "--port", port_arg, "--read-config"],
        )?;
        let started = Instant::now();
        let text = read_back.to_string();
        let matches = text.contains("demo-01") && text.contains(&broker.port.to_string());
        self.record(
            "config read back names demo-01 and the broker",
            started,
            matches,
            None,
        );
        if !matches {
            return Err(Error::check_failed(
                "the config read back from the module does not match the registry",
            ));
        }
        Ok(())
    }

    /// `fingerprint` and `probe --device demo-01`, and the report.
    fn fingerprint_and_probe(&mut self, broker: Broker) -> Result<DemoReport> {
        let fingerprint = self.espmqtt(
            "espmqtt fingerprint (the broker's chain)",
            &["fingerprint", &broker.target],
        )?;
        let probe = self.espmqtt(
            "espmqtt probe --device demo-01 (device's view, end to end)",
            &["probe", "--device", "demo-01"],
        )?;
        let verdict = probe
            .get("verdict")
            .and_then(Value::as_str)
            .map(str::to_string);
        let ok = verdict.as_deref() == Some("ok") && self.steps.iter().all(|s| s.ok);
        Ok(DemoReport {
            r#type: "demo",
            ok,
            project: self.opts.dir.display().to_string(),
            broker: broker.target,
            fingerprint_sha1: fingerprint
                .pointer("/chain/0/sha1")
                .and_then(Value::as_str)
                .map(str::to_string),
            trust_mode: "ca".into(),
            verdict,
            findings: findings(&probe),
            probe_phases: probe_phases(&probe),
            steps: Vec::new(),
        })
    }

    /// Run `espmqtt ARGS --format json --non-interactive` in the project
    /// directory and record it as one step.
    fn espmqtt(&mut self, step: &str, args: &[&str]) -> Result<Value> {
        let started = Instant::now();
        let out = Command::new(&self.opts.exe)
            .args(args)
            .args(["--format", "json", "--non-interactive"])
            .current_dir(&self.opts.dir)
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::runtime(format!("cannot run {}: {e}", self.opts.exe.display())))?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        let value: Value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
        let code = out.status.code().unwrap_or(4);
        if code == 0 {
            self.record(step, started, true, None);
            return Ok(value);
        }
        let message = value
            .get("message")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| {
                let stderr = String::from_utf8_lossy(&out.stderr);
                stderr.lines().last().unwrap_or("no output").to_string()
            });
        let detail = format!("espmqtt {} → exit {code}: {message}", args.join(" "));
        self.record(step, started, false, Some(detail));
        // A failed probe still has a report worth showing.
        if code == 1 && value.get("verdict").is_some() {
            return Ok(value);
        }
        let kind = match code {
            1 => ErrorKind::CheckFailed,
            2 => ErrorKind::Usage,
            3 => ErrorKind::Unreachable,
            _ => ErrorKind::Runtime,
        };
        let mut err = Error::new(kind, format!("demo step failed: {step}: {message}"));
        if let Some(help) = value.get("help").and_then(Value::as_str) {
            err = err.with_help(help.to_string());
        }
        Err(err)
    }
}

/// `severity id` of each probe finding.
fn findings(probe: &Value) -> Vec<String> {
    let Some(list) = probe.get("findings").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|finding| {
            format!(
                "{} {}",
                finding
                    .get("severity")
                    .and_then(Value::as_str)
                    .unwrap_or("?"),
                finding.get("id").and_then(Value::as_str).unwrap_or("?")
            )
        })
        .collect()
}

/// The probe's phases as (name, milliseconds).
fn probe_phases(probe: &Value) -> Vec<(String, u64)> {
    let Some(list) = probe.get("phases").and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|phase| {
            Some((
                phase.get("name")?.as_str()?.to_string(),
                phase.get("millis")?.as_u64()?,
            ))
        })
        .collect()
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|e| Error::runtime(format!("no free loopback port: {e}")))
}

fn wait_for_port(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// A CA and a server certificate for `localhost` / 127.0.0.1 (EC P-256,
/// which the ESP8266 verifies fastest).
fn make_pki(dir: &Path) -> Result<()> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let err = |e: rcgen::Error| Error::runtime(format!("certificate generation failed: {e}"));
    let ca_key = KeyPair::generate().map_err(err)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.distinguished_name
        .push(DnType::CommonName, "espmqtt demo CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).map_err(err)?;
    let key = KeyPair::generate().map_err(err)?;
    let mut leaf = CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
    leaf.distinguished_name
        .push(DnType::CommonName, "localhost");
    leaf.subject_alt_names
        .push(SanType::IpAddress(std::net::IpAddr::from([127, 0, 0, 1])));
    let cert = leaf.signed_by(&key, &ca_cert, &ca_key).map_err(err)?;
    write_file_atomic(&dir.join("ca.crt"), ca_cert.pem().as_bytes(), 0o644)?;
    write_file_atomic(&dir.join("server.crt"), cert.pem().as_bytes(), 0o644)?;
    write_file_atomic(
        &dir.join("server.key"),
        key.serialize_pem().as_bytes(),
        0o600,
    )?;
    Ok(())
}

fn is_root() -> bool {
    #[cfg(unix)]
    {
        std::fs::metadata("/proc/self")
            .map(|m| {
                use std::os::unix::fs::MetadataExt;
                m.uid() == 0
            })
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        false
    }
}
