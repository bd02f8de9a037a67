//! What earlier status lines of the same console said (the device, its
//! broker, its trust mode), so that the fix under a later failure can name
//! them: `espmqtt fingerprint broker.example.com:8883 -q` rather than
//! `HOST`, `--device sensor-007` rather than `NAME`.

/// Facts learnt from `config` and `mqtt_connecting` lines.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `host:port` as `espmqtt fingerprint` / `probe` take it.
    pub broker: Option<String>,
    /// The device name of the config (`device=`).
    pub device: Option<String>,
    /// The trust mode last configured or used.
    pub trust: Option<String>,
}

impl Seen {
    /// Take what a `config` or `mqtt_connecting` line tells: its `host`,
    /// `port`, `device` and `trust` values (`None` when absent).
    pub fn learn(
        &mut self,
        host: Option<&str>,
        port: Option<i64>,
        device: Option<&str>,
        trust: Option<&str>,
    ) {
        if let (Some(host), Some(port)) = (host, port) {
            let target = crate::target::Target {
                host: host.to_string(),
                port: u16::try_from(port).unwrap_or(8883),
            };
            self.broker = Some(target.display());
        }
        if let Some(d) = device.filter(|d| !d.is_empty()) {
            self.device = Some(d.to_string());
        }
        if let Some(t) = trust {
            self.trust = Some(t.to_string());
        }
    }

    fn broker(&self) -> &str {
        self.broker.as_deref().unwrap_or("HOST:PORT")
    }

    fn device(&self) -> &str {
        self.device.as_deref().unwrap_or("NAME")
    }

    /// The fix for BearSSL error 62 in the trust mode the device used
    /// (`trust` from the failing line, else the last one seen).
    pub fn not_trusted_fix(&self, trust: Option<&str>) -> Option<String> {
        let (broker, device) = (self.broker(), self.device());
        match trust.or(self.trust.as_deref())? {
            "fingerprint" => Some(format!(
                "the broker's certificate no longer has the SHA-1 the device compares (it was \
                 renewed, or the device reaches another server): `espmqtt fingerprint {broker} \
                 -q` prints the current one; put it in espmqtt.toml [tls] fingerprints and write \
                 the config (`espmqtt flash --device {device} --config-only`), or move to \
                 `pubkey` or `ca` trust, which survive renewals"
            )),
            "ca" => Some(format!(
                "the broker's chain does not lead to the device's trust anchor: the broker does \
                 not send its intermediate certificate (mosquitto: `certfile` must be the full \
                 chain), or it is issued by another CA than the configured [tls] ca_file; \
                 `espmqtt probe --device {device}` says which"
            )),
            _ => None,
        }
    }

    /// The fix for state -2 with `ssl_error=0`: TLS recorded no error, so
    /// TCP failed or the server closed the connection during the handshake
    /// (the core reports 0 for that too).
    pub fn connect_failed_fix(&self) -> String {
        let probe = match &self.device {
            Some(d) => format!("--device {d}"),
            None => self.broker().to_string(),
        };
        format!(
            "no TLS error was recorded: the TCP connection failed (wrong host or port, broker \
             down, firewall), or the server closed it during the handshake, as a plain-MQTT \
             port (1883) does; `espmqtt probe {probe}` from a computer on the device's network \
             tells which"
        )
    }
}
