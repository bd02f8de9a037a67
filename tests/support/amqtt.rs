//! amqtt (the Python MQTT broker, PyPI) on loopback: a second, independent
//! broker implementation, so nothing espmqtt exports or checks is
//! accidentally mosquitto-specific. Killed when the handle drops.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{wait_for_port, KillOnDrop};

pub struct Amqtt {
    pub port: u16,
    _child: KillOnDrop,
}

impl Amqtt {
    /// Whether the `amqtt` command is installed.
    pub fn available() -> bool {
        super::have("amqtt")
    }

    /// Run `amqtt -c CONFIG` (a config that listens on 127.0.0.1:`port`)
    /// and wait until it accepts connections (Python starts slowly).
    pub fn start(config: &Path, port: u16, log: &Path) -> Amqtt {
        let log = std::fs::File::create(log).expect("amqtt log");
        let child = Command::new("amqtt")
            .arg("-c")
            .arg(config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn amqtt");
        let mut child = KillOnDrop(child);
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        assert!(
            wait_for_port(addr, Duration::from_secs(30)) && super::still_running(&mut child),
            "amqtt did not start on port {port}"
        );
        Amqtt {
            port,
            _child: child,
        }
    }
}
