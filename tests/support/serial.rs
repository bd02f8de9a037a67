//! Real serial plumbing in front of `espmqtt emulate`: a pty made by socat,
//! and ser2net serving that pty over RFC 2217.
//!
//! ```ignore
//! let pty = PtyBridge::start(&env, "ttyV0", emu.addr);  // DIR/ttyV0 → emulator
//! pty.take();                                          // wait for a fresh pty
//! env.run(&["flash", "--port", pty.path(), …]);
//! let s2n = Ser2net::start(&env, &pty);                 // rfc2217://127.0.0.1:PORT
//! ```
//!
//! `socat pty,link=DIR/NAME,raw,echo=0,wait-slave tcp:EMU` connects to the
//! emulator only when a program opens the pty, and ends when that program
//! closes it (the pty reports EIO). A thread restarts it each time, so
//! every open of the pty is a new TCP connection: the emulated chip is reset
//! into download mode, exactly as for `socket://`. Between two commands a
//! test calls [`PtyBridge::take`], which waits for the next socat to be up.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{free_port, have, Env, KillOnDrop};

/// Whether socat and ser2net are installed (scripts/install-deps puts them
/// there); tests skip with a message when they are not.
pub fn tools_present() -> bool {
    let ok = have("socat") && (have("ser2net") || Path::new("/usr/sbin/ser2net").exists());
    if !ok {
        eprintln!("socat or ser2net not installed (scripts/install-deps); skipping");
    }
    ok
}

fn ser2net_bin() -> PathBuf {
    if have("ser2net") {
        PathBuf::from("ser2net")
    } else {
        PathBuf::from("/usr/sbin/ser2net")
    }
}

#[derive(Default)]
struct Fresh {
    /// A socat is waiting for its pty to be opened, and no test took it.
    ready: bool,
    spawned: u32,
}

/// A pty whose other end is the emulator.
pub struct PtyBridge {
    link: PathBuf,
    stop: Arc<AtomicBool>,
    child: Arc<Mutex<Option<Child>>>,
    fresh: Arc<(Mutex<Fresh>, Condvar)>,
    thread: Option<JoinHandle<()>>,
}

impl PtyBridge {
    /// Keep a socat pty at `env/NAME` connected to `target` on each open.
    pub fn start(env: &Env, name: &str, target: std::net::SocketAddr) -> PtyBridge {
        let link = env.path().join(name);
        let stop = Arc::new(AtomicBool::new(false));
        let child: Arc<Mutex<Option<Child>>> = Arc::default();
        let fresh: Arc<(Mutex<Fresh>, Condvar)> = Arc::default();
        let thread = {
            let (link, stop, child, fresh) =
                (link.clone(), stop.clone(), child.clone(), fresh.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let _ = std::fs::remove_file(&link);
                    let spawned = Command::new("socat")
                        .args(["-t", "0.05"])
                        .arg(format!(
                            "pty,link={},raw,echo=0,wait-slave,pty-interval=0.01",
                            link.display()
                        ))
                        .arg(format!("tcp:{target}"))
                        .stdin(Stdio::null())
                        .stdout(Stdio::null())
                        .stderr(Stdio::null())
                        .spawn();
                    let Ok(c) = spawned else { return };
                    *child.lock().unwrap() = Some(c);
                    // Ready once the link is there.
                    let t0 = Instant::now();
                    while std::fs::symlink_metadata(&link).is_err()
                        && t0.elapsed() < Duration::from_secs(5)
                    {
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    {
                        let (lock, cv) = &*fresh;
                        let mut f = lock.lock().unwrap();
                        f.ready = true;
                        f.spawned += 1;
                        cv.notify_all();
                    }
                    // Wait for this socat to end (its pty was opened and closed).
                    loop {
                        if stop.load(Ordering::SeqCst) {
                            return;
                        }
                        let done = match child.lock().unwrap().as_mut() {
                            Some(c) => !matches!(c.try_wait(), Ok(None)),
                            None => true,
                        };
                        if done {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    fresh.0.lock().unwrap().ready = false;
                }
            })
        };
        let bridge = PtyBridge {
            link,
            stop,
            child,
            fresh,
            thread: Some(thread),
        };
        bridge.wait_ready();
        bridge
    }

    /// The pty's path (`DIR/NAME`, a symlink to `/dev/pts/N`).
    pub fn path(&self) -> &str {
        self.link.to_str().expect("utf-8 temp path")
    }

    fn wait_ready(&self) {
        let (lock, cv) = &*self.fresh;
        let g = lock.lock().unwrap();
        let (g, t) = cv
            .wait_timeout_while(g, Duration::from_secs(10), |f| !f.ready)
            .unwrap();
        assert!(!t.timed_out() && g.ready, "socat did not make its pty");
    }

    /// Wait until a socat is waiting on the pty that no command used yet,
    /// and mark it used. Call before each command that opens the pty.
    pub fn take(&self) {
        self.wait_ready();
        self.fresh.0.lock().unwrap().ready = false;
    }

    /// How many times socat was started (one per open of the pty).
    pub fn opens(&self) -> u32 {
        self.fresh.0.lock().unwrap().spawned.saturating_sub(1)
    }
}

impl Drop for PtyBridge {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // A socat started between the kill and the stop flag.
        if let Some(mut c) = self.child.lock().unwrap().take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// ser2net 4 serving a pty over RFC 2217 on 127.0.0.1.
pub struct Ser2net {
    pub port: u16,
    _child: KillOnDrop,
}

impl Ser2net {
    /// `ser2net -n -d -u -c FILE` with `accepter: telnet(rfc2217),tcp,127.0.0.1,PORT`
    /// and `connector: serialdev,PTY,115200n81,local` (ser2net.yaml(5)).
    pub fn start(env: &Env, pty: &PtyBridge) -> Ser2net {
        for _ in 0..5 {
            let port = free_port();
            let conf = env.write(
                &format!("ser2net-{port}.yaml"),
                format!(
                    "connection: &bench\n  accepter: telnet(rfc2217),tcp,127.0.0.1,{port}\n  \
                     connector: serialdev,{},115200n81,local\n",
                    pty.path()
                ),
            );
            let child = Command::new(ser2net_bin())
                .args(["-n", "-d", "-u", "-c"])
                .arg(&conf)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn ser2net");
            let mut child = KillOnDrop(child);
            // Watch the listening sockets instead of connecting: a test
            // connection would make ser2net open (and so reset) the pty.
            let t0 = Instant::now();
            while t0.elapsed() < Duration::from_secs(10) {
                if listening(port) {
                    return Ser2net {
                        port,
                        _child: child,
                    };
                }
                if matches!(child.0.try_wait(), Ok(Some(_))) {
                    break; // lost the race for the port: try another
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        panic!("ser2net did not start listening");
    }

    /// `rfc2217://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("rfc2217://127.0.0.1:{}", self.port)
    }
}

/// A TCP socket in LISTEN state on 127.0.0.1:`port` (/proc/net/tcp).
fn listening(port: u16) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/net/tcp") else {
        return false;
    };
    let want = format!("0100007F:{port:04X}");
    table.lines().skip(1).any(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        f.len() > 3 && f[1] == want && f[3] == "0A"
    })
}
