//! Start `espmqtt emulate` as a child process for a test.
//!
//! ```ignore
//! let emu = support::emulator::Emulator::start(&env, &["--baud-model", "off"]);
//! let url = emu.url();                        // "socket://127.0.0.1:PORT"
//! /* … run esptool / espmqtt flash against it … */
//! emu.wait_disconnected(Duration::from_secs(10)); // flash saved before this event
//! let flash = std::fs::read(emu.save_path().unwrap()).unwrap();
//! ```
//!
//! The emulator runs with `--listen 127.0.0.1:0 --format json` and, unless
//! the caller passes `--save`, `--save <env dir>/emulator-flash.bin`. The
//! first stdout line carries the bound address; the following JSON lines
//! are events (`connected`, `stub_started`, `baud`, `fault`, `saved`,
//! `reset`, `user_code`, `disconnected`), collected by a background thread
//! and available through [`Emulator::wait_event`] / [`Emulator::events`].
//! The child is killed (SIGKILL) when the value is dropped; call
//! [`Emulator::stop`] first to have it save the flash and exit cleanly.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{Env, KillOnDrop};

/// A running emulator child process.
pub struct Emulator {
    pub child: KillOnDrop,
    pub addr: SocketAddr,
    save: Option<PathBuf>,
    events: Arc<(Mutex<Vec<serde_json::Value>>, Condvar)>,
    stderr: Arc<Mutex<String>>,
}

impl Emulator {
    /// A module that boots its firmware (not download mode) and prints
    /// the console transcript `console` (a path) at every reset.
    pub fn console(env: &Env, console: &Path) -> Emulator {
        let path = console.to_str().expect("a UTF-8 path");
        Emulator::start(env, &["--boot-mode", "flash", "--console", path])
    }

    /// Start `espmqtt emulate --listen 127.0.0.1:0 --format json ARGS…` in
    /// `env`'s directory; panics when it does not report its address within
    /// 30 s.
    pub fn start(env: &Env, args: &[&str]) -> Emulator {
        let mut all: Vec<String> = vec![
            "emulate".into(),
            "--listen".into(),
            "127.0.0.1:0".into(),
            "--format".into(),
            "json".into(),
        ];
        let save = if args.contains(&"--save") {
            args.iter()
                .position(|a| *a == "--save")
                .and_then(|i| args.get(i + 1))
                .map(|p| env.path().join(p))
        } else {
            let p = env.path().join("emulator-flash.bin");
            all.push("--save".into());
            all.push(p.display().to_string());
            Some(p)
        };
        all.extend(args.iter().map(|s| s.to_string()));
        let mut child = env
            .cmd()
            .args(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn espmqtt emulate");
        let stdout = child.stdout.take().expect("stdout");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let child = KillOnDrop(child);

        let stderr = Arc::new(Mutex::new(String::new()));
        {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stderr_pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    stderr
                        .lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }

        let events: Arc<(Mutex<Vec<serde_json::Value>>, Condvar)> = Default::default();
        let (addr_tx, addr_rx) = std::sync::mpsc::channel::<String>();
        {
            let events = events.clone();
            std::thread::spawn(move || {
                let mut first = true;
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                        continue;
                    };
                    if first {
                        first = false;
                        let listen = v["listen"].as_str().unwrap_or_default().to_string();
                        let _ = addr_tx.send(listen);
                        continue;
                    }
                    let (lock, cv) = &*events;
                    lock.lock().unwrap().push(v);
                    cv.notify_all();
                }
            });
        }
        let listen = match addr_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(l) => l,
            Err(_) => panic!(
                "espmqtt emulate did not print its address\nstderr:\n{}",
                stderr.lock().unwrap()
            ),
        };
        let addr: SocketAddr = listen
            .parse()
            .unwrap_or_else(|_| panic!("bad listen address `{listen}`"));
        Emulator {
            child,
            addr,
            save,
            events,
            stderr,
        }
    }

    /// `socket://127.0.0.1:PORT` for esptool / `espmqtt flash --port`.
    pub fn url(&self) -> String {
        format!("socket://{}", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// What the emulator printed on stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// File the flash contents are saved to (module 1).
    pub fn save_path(&self) -> Option<PathBuf> {
        self.save.clone()
    }

    /// The saved flash (module 1); panics when nothing was saved.
    pub fn saved_flash(&self) -> Vec<u8> {
        let p = self.save.as_ref().expect("emulator runs without --save");
        std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()))
    }

    /// All events so far.
    pub fn events(&self) -> Vec<serde_json::Value> {
        self.events.0.lock().unwrap().clone()
    }

    /// Events of one type so far.
    pub fn events_of(&self, kind: &str) -> Vec<serde_json::Value> {
        self.events()
            .into_iter()
            .filter(|e| e["type"] == kind)
            .collect()
    }

    /// Wait until at least `count` events of type `kind` have arrived.
    pub fn wait_events(&self, kind: &str, count: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (lock, cv) = &*self.events;
        let mut guard = lock.lock().unwrap();
        loop {
            if guard.iter().filter(|e| e["type"] == kind).count() >= count {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = cv.wait_timeout(guard, deadline - now).unwrap().0;
        }
    }

    /// Wait for the next event of type `kind` after the ones already seen.
    pub fn wait_event(&self, kind: &str, timeout: Duration) -> Option<serde_json::Value> {
        let seen = self.events_of(kind).len();
        if self.wait_events(kind, seen + 1, timeout) {
            self.events_of(kind).pop()
        } else {
            None
        }
    }

    /// Wait until `count` sessions have ended (the flash is saved before
    /// each `disconnected` event).
    pub fn wait_disconnected(&self, count: usize, timeout: Duration) -> bool {
        self.wait_events("disconnected", count, timeout)
    }

    /// Stop gracefully: SIGTERM, then wait (up to 10 s) for the emulator to
    /// end the session, save the flash and exit. Returns the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let pid = self.child.0.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(st)) = self.child.0.try_wait() {
                return st.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// What the emulator printed on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}
