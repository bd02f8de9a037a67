//! A real mosquitto on loopback, started per test.
//!
//! Started as root, mosquitto switches to the `mosquitto` user and then cannot
//! read files in a 0700 temp dir, so every config starts with `user root`
//! (DESIGN §6). The broker is killed when the handle drops.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{free_port, mosquitto_bin, wait_for_port, KillOnDrop};

pub struct Mosquitto {
    pub port: u16,
    pub conf: PathBuf,
    pub log: PathBuf,
    child: KillOnDrop,
}

impl Mosquitto {
    /// Start mosquitto with `listener <port> 127.0.0.1` followed by `body`
    /// (listener-scoped options such as `certfile`, `tls_version`).
    /// `global` goes before the listener (e.g. `per_listener_settings`).
    pub fn start(dir: &Path, global: &str, body: &str) -> Mosquitto {
        let bin = mosquitto_bin().expect("mosquitto is not installed (scripts/setup installs it)");
        for _ in 0..5 {
            let port = free_port();
            let conf = dir.join(format!("mosquitto-{port}.conf"));
            let log = dir.join(format!("mosquitto-{port}.log"));
            let text = format!(
                "user root\nlog_dest file {}\nlog_type all\n{global}\nlistener {port} 127.0.0.1\n{body}\n",
                log.display()
            );
            std::fs::write(&conf, text).unwrap();
            let child = Command::new(&bin)
                .arg("-c")
                .arg(&conf)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn mosquitto");
            let mut child = KillOnDrop(child);
            let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
            // A port taken by another test's listener answers too; only a
            // broker that is still running after binding counts.
            if wait_for_port(addr, Duration::from_secs(5)) && super::still_running(&mut child) {
                return Mosquitto {
                    port,
                    conf,
                    log,
                    child,
                };
            }
            let _ = child.0.kill();
        }
        panic!("mosquitto did not start");
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Ask mosquitto to reload its password file and ACL (SIGHUP).
    pub fn reload(&self) {
        let _ = Command::new("kill")
            .args(["-HUP", &self.child.0.id().to_string()])
            .status();
        std::thread::sleep(Duration::from_millis(300));
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
