//! Interactive use on a real terminal: the binary runs on a pseudo-terminal
//! (util-linux `script`), the test types answers after each prompt the way
//! a person would, and reads what the terminal showed.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::fingerprint::OpensslServer;
use crate::support::pki::Alg;
use crate::support::probe::TestPki;
use crate::support::{bin, have, Env};

/// One run of the binary on a pseudo-terminal.
pub struct Pty {
    child: Child,
    stdin: ChildStdin,
    out: Arc<Mutex<Vec<u8>>>,
    seen: usize,
}

impl Pty {
    /// `espmqtt ARGS…` in `env`'s directory on an 80×24 terminal.
    pub fn spawn(env: &Env, args: &[&str]) -> Pty {
        let mut line = format!("stty cols 80 rows 24; exec '{}'", bin().display());
        for a in args {
            line.push_str(&format!(" '{}'", a.replace('\'', "'\\''")));
        }
        let mut c = Command::new("script");
        c.args(["-qfec", &line, "/dev/null"])
            .current_dir(env.path())
            .env("HOME", env.path())
            .env("TERM", "xterm")
            .env_remove("CI")
            .env_remove("NO_COLOR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        crate::support::scrub(&mut c);
        let mut child = c.spawn().expect("spawn script");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        let sink = out.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        Pty {
            child,
            stdin,
            out,
            seen: 0,
        }
    }

    /// Everything the terminal showed so far, escape sequences removed.
    pub fn screen_text(&self) -> String {
        strip_ansi(&String::from_utf8_lossy(&self.out.lock().unwrap()))
    }

    /// Wait until `needle` appears after what was already matched.
    #[track_caller]
    pub fn expect(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let text = self.screen_text();
            if let Some(i) = text.get(self.seen..).and_then(|t| t.find(needle)) {
                self.seen += i + needle.len();
                return;
            }
            if Instant::now() > deadline {
                panic!("never saw {needle:?}; the terminal showed:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Type `keys` (`\r` is Enter, `\x1b[B` the down arrow).
    pub fn send(&mut self, keys: &str) {
        // A person types after the prompt is drawn.
        std::thread::sleep(Duration::from_millis(150));
        self.stdin.write_all(keys.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Wait for the exit code.
    #[track_caller]
    pub fn wait(mut self) -> (i32, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(100));
                return (st.code().unwrap_or(-1), self.screen_text());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!(
                    "still running; the terminal showed:\n{}",
                    self.screen_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Text without CSI / OSC escape sequences and carriage returns.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\x1b' => match chars.next() {
                Some('[') => {
                    for d in chars.by_ref() {
                        if ('@'..='~').contains(&d) {
                            break;
                        }
                    }
                }
                Some(']') => {
                    for d in chars.by_ref() {
                        if d == '\x07' {
                            break;
                        }
                    }
                }
                _ => {}
            },
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Interactive `init` checks each answer as it is given (broker address,
/// SSID, WPA2 password length, topic prefix) and asks again, and in `ca`
/// mode offers to fetch the chain from the broker and pins its root.
#[test]
fn interactive_init_validates_each_answer_and_fetches_the_chain() {
    if !have("script") {
        eprintln!("skipping: util-linux `script` not installed");
        return;
    }
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let server = OpensslServer::start(&[
        "-cert",
        &pki.cert_file.display().to_string(),
        "-key",
        &pki.key_file.display().to_string(),
        "-cert_chain",
        &pki.ca_file.display().to_string(),
    ]);
    let mut t = Pty::spawn(&env, &["init"]);
    t.expect("Broker host[:port]:");
    t.send("127.0.0.1:0\r");
    t.expect("out of range");
    t.send(&format!("localhost:{}\r", server.port));
    t.expect("Wi-Fi SSID:");
    t.send(&format!("{}\r", "s".repeat(33)));
    t.expect("32");
    t.send("home\r");
    t.expect("Wi-Fi password:");
    t.expect("store it in espmqtt.toml");
    t.send("\x1b[B\r");
    t.expect("8 to 63 characters");
    t.send("short\r");
    t.expect("this one has 5");
    t.send("correct-horse\r");
    t.expect("Topic prefix");
    t.send("bad/+\r");
    t.expect("wildcards");
    t.send("ok\r");
    t.expect("Module:");
    t.send("\r");
    t.expect("How should devices check the broker?");
    t.send("\r");
    t.expect("fetch the chain from");
    t.send("\r");
    let (code, screen) = t.wait();
    assert_eq!(code, 0, "{screen}");
    let toml = std::fs::read_to_string(env.path().join("espmqtt.toml")).unwrap();
    assert!(toml.contains("ssid = \"home\""), "{toml}");
    assert!(toml.contains("password = \"correct-horse\""), "{toml}");
    assert!(toml.contains("topic_prefix = \"ok\""), "{toml}");
    assert!(toml.contains(&format!("port = {}", server.port)), "{toml}");
    // The root of the chain is pinned, not the server's certificate.
    let anchor = std::fs::read_to_string(env.path().join("broker-ca.pem")).unwrap();
    let body = |pem: &str| -> String {
        pem.lines()
            .filter(|l| !l.starts_with("-----"))
            .collect::<String>()
    };
    assert_eq!(body(&anchor), body(&pki.ca.cert_pem), "{screen}");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(env.path().join("espmqtt.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// The terminal after `bytes` on an 80-column screen: a small VT100 model
/// (printing with deferred wrap, CR, LF, cursor up/down/column, erase
/// line/display) — enough for indicatif.
pub fn final_screen(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut rows: Vec<Vec<char>> = vec![Vec::new()];
    let (mut r, mut c) = (0usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(ch) = chars.next() {
        match ch {
            '\x1b' => {
                if chars.peek() != Some(&'[') {
                    chars.next();
                    continue;
                }
                chars.next();
                let mut params = String::new();
                let mut cmd = ' ';
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        cmd = d;
                        break;
                    }
                    params.push(d);
                }
                let n: usize = params.trim_start_matches('?').parse().unwrap_or(0);
                match cmd {
                    'A' => r = r.saturating_sub(n.max(1)),
                    'B' => r += n.max(1),
                    'G' => c = n.saturating_sub(1),
                    'K' if n == 2 => rows[r].clear(),
                    'K' => rows[r].truncate(c),
                    'J' => {
                        rows[r].truncate(c);
                        rows.truncate(r + 1);
                    }
                    _ => {}
                }
            }
            '\r' => c = 0,
            '\n' => {
                r += 1;
                c = 0;
            }
            ch => {
                // Deferred wrap, as xterm: the 81st character goes to the
                // start of the next line.
                if c >= 80 {
                    r += 1;
                    c = 0;
                    while rows.len() <= r {
                        rows.push(Vec::new());
                    }
                }
                let row = &mut rows[r];
                while row.len() < c {
                    row.push(' ');
                }
                if c < row.len() {
                    row[c] = ch;
                } else {
                    row.push(ch);
                }
                c += 1;
            }
        }
        while rows.len() <= r {
            rows.push(Vec::new());
        }
    }
    rows.into_iter()
        .map(|l| l.into_iter().collect::<String>().trim_end().to_string())
        .collect()
}

/// A spinner never stays on the screen behind the report or the error:
/// a probe that waits for a silent server shows one, then leaves only the
/// report.
#[test]
fn spinners_leave_no_stale_lines() {
    if !have("script") {
        eprintln!("skipping: util-linux `script` not installed");
        return;
    }
    let env = Env::new();
    let silent = crate::support::fingerprint::canned_listener(None);
    for args in [vec![
        "probe".to_string(),
        format!("127.0.0.1:{silent}"),
        "--timeout".into(),
        "2s".into(),
    ]] {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let t = Pty::spawn(&env, &a);
        let raw = t.out.clone();
        let (code, _) = t.wait();
        assert_eq!(code, 3, "{args:?}");
        let bytes = raw.lock().unwrap().clone();
        let screen = final_screen(&bytes);
        // indicatif's spinners are Braille patterns.
        let braille = |ch: char| ('\u{2800}'..='\u{28ff}').contains(&ch);
        assert!(
            String::from_utf8_lossy(&bytes).chars().any(braille),
            "{args:?}: no spinner was drawn"
        );
        for line in &screen {
            assert!(
                !line.contains(braille),
                "{args:?}: a spinner line stayed: {line:?}\nscreen:\n{}",
                screen.join("\n")
            );
        }
        assert!(
            screen.iter().any(|l| !l.is_empty()),
            "{args:?}: nothing shown"
        );
    }
}

/// `flash` on a terminal: the chip/MAC line comes before the bars, each
/// finished bar stays once as the record of what was written, and the
/// report follows.
#[test]
fn flash_shows_the_module_before_its_bars() {
    if !have("script") {
        eprintln!("skipping: util-linux `script` not installed");
        return;
    }
    let env = Env::new();
    let emu = crate::support::emulator::Emulator::start(&env, &["--baud-model", "off"]);
    // A 64 KiB ESP8266 image: header, one segment, checksum.
    let data: Vec<u8> = (0..65536u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut fw = vec![0xE9, 1, 2, 0x20, 0, 0, 0x10, 0x40, 0, 0, 0x10, 0x40];
    fw.extend((data.len() as u32).to_le_bytes());
    fw.extend(&data);
    while (fw.len() + 1) % 16 != 0 {
        fw.push(0);
    }
    fw.push(data.iter().fold(0xEF, |a, b| a ^ b));
    env.write("fw.bin", fw);
    let t = Pty::spawn(
        &env,
        &["flash", "--port", &emu.url(), "--firmware", "fw.bin"],
    );
    let raw = t.out.clone();
    let (code, text) = t.wait();
    assert_eq!(code, 0, "{text}");
    let screen = final_screen(&raw.lock().unwrap());
    let at = |needle: &str| screen.iter().position(|l| l.contains(needle));
    let module = at("MAC").unwrap_or_else(|| panic!("no MAC line:\n{}", screen.join("\n")));
    let bar = at("firmware [").unwrap_or_else(|| panic!("no bar:\n{}", screen.join("\n")));
    assert!(module < bar, "{}", screen.join("\n"));
    assert_eq!(
        screen.iter().filter(|l| l.contains("firmware [")).count(),
        1,
        "{}",
        screen.join("\n")
    );
    assert!(
        at("written (").is_some_and(|v| v > bar),
        "{}",
        screen.join("\n")
    );
}
