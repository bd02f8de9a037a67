//! `espmqtt demo`: the whole job on this machine, as a user would run it.
//!
//! In a temporary project it starts a real mosquitto with a fresh CA and
//! server certificate on a free loopback port, then drives espmqtt's own
//! commands as child processes — `init`, `device new`, `broker export`,
//! `emulate`, `flash --config-only`, `flash --read-config`, `fingerprint`,
//! `probe --device` — printing each step and a summary. Running the real
//! binary (not library calls) means the demo exercises exactly what a user's
//! shell script would, flags and exit codes included.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use crate::error::{Error, ExitStatus, Result};

use super::output::Style;
use super::Ctx;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Needs mosquitto (Debian: apt-get install mosquitto). Everything runs on 127.0.0.1.

Examples:
  espmqtt demo
  espmqtt demo --keep            # keep the temporary project to look around
  espmqtt demo --format json     # one JSON summary for scripts")]
pub struct DemoArgs {
    /// Keep the temporary project directory and print its path.
    #[arg(long)]
    pub keep: bool,
    /// Use this (empty or new) directory instead of a temporary one.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
    /// The mosquitto binary to run (default: /usr/sbin/mosquitto or PATH).
    #[arg(long, value_name = "PATH")]
    pub mosquitto: Option<PathBuf>,
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

struct Demo<'a> {
    ctx: &'a Ctx,
    exe: PathBuf,
    dir: PathBuf,
    steps: Vec<DemoStep>,
    children: Vec<Child>,
}

impl Drop for Demo<'_> {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Demo<'_> {
    fn record(&mut self, step: &str, started: Instant, ok: bool, detail: Option<String>) {
        let millis = started.elapsed().as_millis();
        if !self.ctx.is_json() && !self.ctx.quiet {
            let mark = if ok {
                self.ctx.paint("ok", Style::Green)
            } else {
                self.ctx.paint("FAILED", Style::Red)
            };
            let n = self.steps.len() + 1;
            super::output::out(&format!("[{n:>2}] {step:<58} {mark} ({millis} ms)\n"));
            if let Some(d) = &detail {
                for line in d.lines() {
                    super::output::out(&format!("       {line}\n"));
                }
            }
        }
        self.steps.push(DemoStep {
            step: step.to_string(),
            ok,
            millis,
            detail,
        });
    }

    /// Run `espmqtt ARGS --format json --non-interactive` in the project dir.
    fn espmqtt(&mut self, step: &str, args: &[&str]) -> Result<Value> {
        let started = Instant::now();
        let out = Command::new(&self.exe)
            .args(args)
            .args(["--format", "json", "--non-interactive"])
            .current_dir(&self.dir)
            .env_remove("NO_COLOR")
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::runtime(format!("cannot run {}: {e}", self.exe.display())))?;
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
                let e = String::from_utf8_lossy(&out.stderr);
                e.lines().last().unwrap_or("no output").to_string()
            });
        let detail = format!("espmqtt {} → exit {code}: {message}", args.join(" "));
        self.record(step, started, false, Some(detail.clone()));
        let mut err = Error::new(
            match code {
                1 => crate::ErrorKind::CheckFailed,
                2 => crate::ErrorKind::Usage,
                3 => crate::ErrorKind::Unreachable,
                _ => crate::ErrorKind::Runtime,
            },
            format!("demo step failed: {step}: {message}"),
        );
        if let Some(h) = value.get("help").and_then(Value::as_str) {
            err = err.with_help(h.to_string());
        }
        // A failed probe still has a report worth showing.
        if code == 1 && value.get("verdict").is_some() {
            return Ok(value);
        }
        Err(err)
    }
}

fn find_mosquitto() -> Option<PathBuf> {
    for p in [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ] {
        if Path::new(p).is_file() {
            return Some(PathBuf::from(p));
        }
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("mosquitto"))
            .find(|p| p.is_file())
    })
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
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

fn temp_project_dir() -> Result<PathBuf> {
    let mut rnd = [0u8; 6];
    getrandom::getrandom(&mut rnd)
        .map_err(|e| Error::runtime(format!("no randomness from the OS: {e}")))?;
    let dir = std::env::temp_dir().join(format!("espmqtt-demo-{}", hex::encode(rnd)));
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    Ok(dir)
}

fn write(path: &Path, contents: impl AsRef<[u8]>) -> Result<()> {
    std::fs::write(path, contents).map_err(|e| Error::io(path, e))
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
    write(&dir.join("ca.crt"), ca_cert.pem())?;
    write(&dir.join("server.crt"), cert.pem())?;
    write(&dir.join("server.key"), key.serialize_pem())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(
            dir.join("server.key"),
            std::fs::Permissions::from_mode(0o600),
        );
    }
    Ok(())
}

pub fn run(args: DemoArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let mosquitto = match &args.mosquitto {
        Some(p) if p.is_file() => Some(p.clone()),
        Some(_) => None,
        None => find_mosquitto(),
    };
    let mosquitto = mosquitto.ok_or_else(|| {
        Error::unreachable("mosquitto is not installed; the demo needs a local broker")
            .with_help("install it: sudo apt-get install mosquitto (or run scripts/setup)")
    })?;
    let exe = std::env::current_exe()
        .map_err(|e| Error::runtime(format!("cannot find the espmqtt binary: {e}")))?;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
            d.canonicalize().map_err(|e| Error::io(d, e))?
        }
        None => temp_project_dir()?,
    };
    let mut demo = Demo {
        ctx,
        exe,
        dir: dir.clone(),
        steps: Vec::new(),
        children: Vec::new(),
    };
    if !ctx.is_json() && !ctx.quiet {
        super::output::out(&format!("espmqtt demo in {}\n", dir.display()));
    }
    let result = run_steps(&mut demo, &mosquitto);
    let keep = args.keep || args.dir.is_some() || result.is_err();
    let steps = std::mem::take(&mut demo.steps);
    drop(demo);
    let (report, err) = match result {
        Ok(mut r) => {
            r.steps = steps;
            (r, None)
        }
        Err(e) => (
            DemoReport {
                r#type: "demo",
                ok: false,
                project: dir.display().to_string(),
                broker: String::new(),
                fingerprint_sha1: None,
                trust_mode: "ca".into(),
                verdict: None,
                findings: vec![],
                probe_phases: vec![],
                steps,
            },
            Some(e),
        ),
    };
    if !keep {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if let Some(e) = err {
        if ctx.is_json() {
            ctx.emit(&report, |_| String::new());
        }
        return Err(e.with_help(format!(
            "the demo project was kept for inspection: {}",
            dir.display()
        )));
    }
    ctx.emit(&report, |ctx| render_summary(&report, keep, ctx));
    Ok(if report.ok {
        ExitStatus::Success
    } else {
        ExitStatus::CheckFailed
    })
}

fn run_steps(demo: &mut Demo, mosquitto: &Path) -> Result<DemoReport> {
    let dir = demo.dir.clone();
    let broker_dir = dir.join("broker");
    std::fs::create_dir_all(&broker_dir).map_err(|e| Error::io(&broker_dir, e))?;

    // 1. PKI
    let t = Instant::now();
    make_pki(&broker_dir)?;
    demo.record(
        "create a CA and a server certificate (EC P-256)",
        t,
        true,
        None,
    );

    // 2. mosquitto on a free port, TLS, passwords + ACL (empty until export).
    let t = Instant::now();
    let port = free_port()?;
    let passwd = broker_dir.join("passwd");
    let acl = broker_dir.join("acl");
    write(&passwd, "")?;
    write(&acl, "")?;
    // `broker export` writes its own `mosquitto.conf` snippet into the same
    // directory; the demo broker's configuration must not be that file.
    let conf = broker_dir.join("demo-broker.conf");
    let user = if is_root() { "user root\n" } else { "" };
    write(
        &conf,
        format!(
            "{user}per_listener_settings false\nallow_anonymous false\npassword_file {}\nacl_file {}\n\
             log_dest file {}\nlistener {port} 127.0.0.1\ncafile {}\ncertfile {}\nkeyfile {}\n",
            passwd.display(),
            acl.display(),
            broker_dir.join("mosquitto.log").display(),
            broker_dir.join("ca.crt").display(),
            broker_dir.join("server.crt").display(),
            broker_dir.join("server.key").display(),
        ),
    )?;
    let child = Command::new(mosquitto)
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::runtime(format!("cannot start mosquitto: {e}")))?;
    let pid = child.id();
    demo.children.push(child);
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    if !wait_for_port(addr, Duration::from_secs(10)) {
        demo.record("start mosquitto (TLS listener)", t, false, None);
        return Err(
            Error::runtime("mosquitto did not start listening").with_help(format!(
                "see {}",
                broker_dir.join("mosquitto.log").display()
            )),
        );
    }
    demo.record(
        &format!("start mosquitto on 127.0.0.1:{port} (TLS, passwords, ACL)"),
        t,
        true,
        None,
    );
    let broker = format!("localhost:{port}");

    // 3. init
    let ca = broker_dir.join("ca.crt");
    let ca_s = ca.display().to_string();
    demo.espmqtt(
        "espmqtt init (non-interactive, trust mode ca)",
        &[
            "init",
            "--broker",
            &broker,
            "--wifi-ssid",
            "demo-wifi",
            "--wifi-password",
            "demo wifi pass",
            "--trust",
            "ca",
            "--ca-file",
            &ca_s,
            "--board",
            "esp07",
        ],
    )?;

    // 4. devices
    demo.espmqtt(
        "espmqtt device new demo-01 demo-02",
        &["device", "new", "demo-01", "demo-02"],
    )?;

    // 5. broker export + reload
    let bd = broker_dir.display().to_string();
    let key = broker_dir.join("server.key").display().to_string();
    let crt = broker_dir.join("server.crt").display().to_string();
    demo.espmqtt(
        "espmqtt broker export --mosquitto broker/",
        &[
            "broker",
            "export",
            "--mosquitto",
            &bd,
            "--server-cert",
            &crt,
            "--server-key",
            &key,
            "--ca",
            &ca_s,
        ],
    )?;
    let t = Instant::now();
    let ok = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    std::thread::sleep(Duration::from_millis(300));
    demo.record("reload mosquitto (SIGHUP)", t, ok, None);

    // 6. emulator
    let t = Instant::now();
    let flash_file = dir.join("module-flash.bin");
    let mut emu = Command::new(&demo.exe)
        .args([
            "emulate",
            "--listen",
            "127.0.0.1:0",
            "--baud-model",
            "off",
            "--save",
        ])
        .arg(&flash_file)
        .current_dir(&dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| Error::runtime(format!("cannot start the emulator: {e}")))?;
    let first_line = emu.stdout.take().and_then(|s| {
        let mut line = String::new();
        BufReader::new(s).read_line(&mut line).ok().map(|_| line)
    });
    demo.children.push(emu);
    let emu_addr = first_line
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| l.trim_start_matches("listening on ").to_string())
        .ok_or_else(|| Error::runtime("the emulator did not print its address"))?;
    demo.record(
        &format!("start the ESP8266 emulator on {emu_addr}"),
        t,
        true,
        None,
    );
    let port_arg = format!("socket://{emu_addr}");

    // 7. flash config, read it back
    demo.espmqtt(
        "espmqtt flash --device demo-01 --config-only",
        &[
            "flash",
            "--port",
            &port_arg,
            "--device",
            "demo-01",
            "--config-only",
        ],
    )?;
    let read_back = demo.espmqtt(
        "espmqtt flash --read-config (read back, redacted)",
        &["flash", "--port", &port_arg, "--read-config"],
    )?;
    let t = Instant::now();
    let text = read_back.to_string();
    let matches = text.contains("demo-01") && text.contains(&format!("{port}"));
    demo.record(
        "config read back names demo-01 and the broker",
        t,
        matches,
        None,
    );
    if !matches {
        return Err(Error::check_failed(
            "the config read back from the module does not match the registry",
        ));
    }

    // 8. fingerprint + probe as the device
    let fp = demo.espmqtt(
        "espmqtt fingerprint (the broker's chain)",
        &["fingerprint", &broker],
    )?;
    let probe = demo.espmqtt(
        "espmqtt probe --device demo-01 (device's view, end to end)",
        &["probe", "--device", "demo-01"],
    )?;
    let verdict = probe
        .get("verdict")
        .and_then(Value::as_str)
        .map(str::to_string);
    let findings = probe
        .get("findings")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|f| {
                    format!(
                        "{} {}",
                        f.get("severity").and_then(Value::as_str).unwrap_or("?"),
                        f.get("id").and_then(Value::as_str).unwrap_or("?")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let probe_phases = probe
        .get("phases")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some((
                        p.get("name")?.as_str()?.to_string(),
                        p.get("millis")?.as_u64()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let sha1 = fp
        .get("chain")
        .and_then(|c| c.get(0))
        .and_then(|c| c.get("sha1"))
        .and_then(Value::as_str)
        .map(str::to_string);
    let ok = verdict.as_deref() == Some("ok") && demo.steps.iter().all(|s| s.ok);
    Ok(DemoReport {
        r#type: "demo",
        ok,
        project: dir.display().to_string(),
        broker,
        fingerprint_sha1: sha1,
        trust_mode: "ca".into(),
        verdict,
        findings,
        probe_phases,
        steps: Vec::new(),
    })
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

fn render_summary(r: &DemoReport, kept: bool, ctx: &Ctx) -> String {
    let total: u128 = r.steps.iter().map(|s| s.millis).sum();
    let mut s = String::from("\nSummary\n");
    let row = |k: &str, v: &str| format!("  {k:<22} {v}\n");
    s += &row("broker", &r.broker);
    s += &row("trust mode", &r.trust_mode);
    s += &row(
        "leaf SHA-1",
        r.fingerprint_sha1.as_deref().unwrap_or("(not captured)"),
    );
    s += &row("probe verdict", r.verdict.as_deref().unwrap_or("(none)"));
    s += &row(
        "findings",
        &if r.findings.is_empty() {
            "none".to_string()
        } else {
            r.findings.join(", ")
        },
    );
    if !r.probe_phases.is_empty() {
        let phases: Vec<String> = r
            .probe_phases
            .iter()
            .map(|(n, ms)| format!("{n} {ms} ms"))
            .collect();
        s += &row("probe timings", &phases.join(", "));
    }
    s += &row("steps", &format!("{} in {total} ms", r.steps.len()));
    if kept {
        s += &row("project kept at", &r.project);
    }
    s += &format!(
        "\n{}\n",
        if r.ok {
            ctx.paint("demo passed", Style::Green)
        } else {
            ctx.paint("demo FAILED", Style::Red)
        }
    );
    s
}
