//! A real mosquitto on loopback, started per test.
//!
//! Started as root, mosquitto switches to the `mosquitto` user and then cannot
//! read files in a 0700 temp dir, so every config starts with `user root`
//! The broker is killed when the handle drops.

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

/// Path of mosquitto's dynamic security plugin (Debian's mosquitto 2.0).
pub fn dynsec_plugin() -> Option<PathBuf> {
    [
        "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so",
        "/usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so",
        "/usr/lib/mosquitto_dynamic_security.so",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

/// `mosquitto_ctrl dynsec init FILE admin PASSWORD`: a dynamic-security
/// file with one admin allowed to use the plugin's control topic.
pub fn dynsec_init(file: &Path, admin: &str, password: &str) {
    let out = Command::new("mosquitto_ctrl")
        .args(["dynsec", "init"])
        .arg(file)
        .args([admin, password])
        .stdin(Stdio::null())
        .output()
        .expect("mosquitto_ctrl");
    assert!(
        out.status.success() && file.exists(),
        "mosquitto_ctrl dynsec init: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

impl Mosquitto {
    /// mosquitto with the dynamic security plugin reading `config_file` and
    /// one TLS listener (`cert`, `key`), no anonymous clients.
    pub fn start_dynsec(dir: &Path, config_file: &Path, cert: &Path, key: &Path) -> Mosquitto {
        let plugin = dynsec_plugin().expect("mosquitto's dynamic security plugin");
        Mosquitto::start(
            dir,
            &format!(
                "plugin {}\nplugin_opt_config_file {}",
                plugin.display(),
                config_file.display()
            ),
            &format!(
                "certfile {}\nkeyfile {}\nallow_anonymous false",
                cert.display(),
                key.display()
            ),
        )
    }
}
