//! The project: `espmqtt.toml` (fleet settings) and the `.espmqtt/` state
//! directory next to it (registry, local CA, build outputs).
//!
//! A project is found like cargo finds `Cargo.toml`: `--config PATH` names the
//! file; otherwise the current directory and its parents are searched. Commands
//! that can work without one (`device`, `broker export`) use the current
//! directory as the project root.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tls::TrustMode;

/// File name of the project configuration.
pub const CONFIG_FILE: &str = "espmqtt.toml";
/// Directory (next to the configuration) that holds the project's state.
pub const STATE_DIR: &str = ".espmqtt";

/// Where a project lives on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectPaths {
    /// Directory that contains `espmqtt.toml` (or would).
    pub root: PathBuf,
    /// Path of `espmqtt.toml` (may not exist).
    pub config_file: PathBuf,
    /// `.espmqtt/` next to the configuration.
    pub state_dir: PathBuf,
}

impl ProjectPaths {
    /// Paths rooted at `root` (whether or not a configuration exists there).
    pub fn at(root: &Path) -> Self {
        ProjectPaths {
            root: root.to_path_buf(),
            config_file: root.join(CONFIG_FILE),
            state_dir: root.join(STATE_DIR),
        }
    }

    /// Locate the project: an explicit `--config` path, else the nearest
    /// `espmqtt.toml` in the current directory or a parent, else the current
    /// directory itself.
    pub fn locate(explicit: Option<&Path>) -> Result<Self> {
        if let Some(file) = explicit {
            if !file.is_file() {
                return Err(Error::usage(format!(
                    "--config {}: {}",
                    file.display(),
                    if file.is_dir() {
                        "is a directory"
                    } else {
                        "does not exist"
                    }
                ))
                .with_help(
                    "name an espmqtt.toml file, or create one with `espmqtt init --config PATH`",
                ));
            }
            return Ok(Self::for_file(file));
        }
        let cwd = std::env::current_dir()
            .map_err(|e| Error::runtime(format!("cannot read the current directory: {e}")))?;
        let mut dir = Some(cwd.as_path());
        while let Some(d) = dir {
            if d.join(CONFIG_FILE).is_file() {
                return Ok(Self::at(d));
            }
            dir = d.parent();
        }
        Ok(Self::at(&cwd))
    }

    /// The project whose configuration is (or will be) `file`, whether or
    /// not it exists yet (`espmqtt init --config PATH`).
    pub fn for_file(file: &Path) -> Self {
        let root = match file.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        ProjectPaths {
            state_dir: root.join(STATE_DIR),
            root,
            config_file: file.to_path_buf(),
        }
    }

    /// Path of the registry database.
    pub fn registry_db(&self) -> PathBuf {
        self.state_dir.join("registry.db")
    }

    /// Directory of the local certificate authority.
    pub fn ca_dir(&self) -> PathBuf {
        self.state_dir.join("ca")
    }

    /// Build directory of one board.
    pub fn build_dir(&self, board: &str) -> PathBuf {
        self.state_dir.join("build").join(board)
    }

    /// Whether `espmqtt.toml` exists.
    pub fn has_config(&self) -> bool {
        self.config_file.is_file()
    }

    /// Load `espmqtt.toml`; a missing file is a configuration error that says
    /// to run `espmqtt init`.
    pub fn load_config(&self) -> Result<ProjectConfig> {
        if !self.config_file.exists() {
            return Err(Error::usage(format!(
                "no project configuration at {}",
                self.config_file.display()
            ))
            .with_help("run `espmqtt init` here, or pass --config PATH"));
        }
        let text = crate::files::read_input_text(
            &self.config_file,
            crate::files::MAX_TEXT_INPUT,
            "espmqtt.toml",
        )?;
        ProjectConfig::from_toml(&text).map_err(|e| {
            // `from_toml` says `line L, column C: …`; name the file first.
            Error {
                message: format!("{}:{}", self.config_file.display(), e.message),
                ..e
            }
        })
    }

    /// Create `.espmqtt/` (mode 0700 on Unix) if it does not exist.
    pub fn ensure_state_dir(&self) -> Result<()> {
        crate::files::create_dirs(&self.state_dir, 0o700)?.keep();
        Ok(())
    }
}

/// `espmqtt.toml`: the settings shared by the whole fleet.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Where the device registry lives: `postgres://USER@HOST/DATABASE`
    /// (password from `PGPASSWORD` or `~/.pgpass`, never here) or an SQLite
    /// file path; default `.espmqtt/registry.db`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    pub broker: BrokerConfig,
    #[serde(default)]
    pub wifi: WifiConfig,
    #[serde(default)]
    pub mqtt: MqttConfig,
    #[serde(default)]
    pub tls: TlsConfig,
    #[serde(default)]
    pub board: BoardConfig,
    #[serde(default)]
    pub ntp: NtpConfig,
    /// The MQTT identity `device push` publishes updates with (`docs/OTA.md`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<OperatorConfig>,
}

/// `[operator]`: who publishes config updates. The password never lives
/// here: it comes from the environment variable `password_env` names
/// (default `ESPMQTT_OPERATOR_PASSWORD`) or a prompt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OperatorConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// PEM file with the CA the broker's certificate chains to (default:
    /// `[tls] ca_file`, else the Mozilla roots).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Broker address when the operator reaches it by another name than
    /// the devices (`HOST[:PORT]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub broker: Option<String>,
}

impl ProjectConfig {
    /// Parse `espmqtt.toml`. An error names the line and column
    /// (`3:7: …`, 1-based) where the parser stopped.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| toml_error(text, &e))
    }

    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self)
            .map_err(|e| Error::runtime(format!("cannot serialise configuration: {e}")))
    }
}

/// A TOML error in `espmqtt.toml` as `L:C: message` (1-based line and
/// column where the parser stopped), with the usual help line. Every reader
/// of the file reports through here, so a broken file reads the same
/// whichever command found it.
pub fn toml_error(text: &str, e: &toml::de::Error) -> Error {
    let at = e
        .span()
        .map(|span| {
            let (line, col) = line_col(text, span.start);
            format!("{line}:{col}: ")
        })
        .unwrap_or_default();
    Error::usage(format!("{at}{}", e.message().trim()))
        .with_help("fix the file, or re-create it with `espmqtt init --force`")
}

/// 1-based line and column (in characters) of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, l)| l)
        .chars()
        .count()
        + 1;
    (line, col)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrokerConfig {
    /// Host name the device connects to (sent as SNI and checked in `ca` mode).
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// SNI to send when it differs from `host` (e.g. `host` is an IP).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub servername: Option<String>,
}

impl Default for BrokerConfig {
    fn default() -> Self {
        BrokerConfig {
            host: String::new(),
            port: default_port(),
            servername: None,
        }
    }
}

fn default_port() -> u16 {
    8883
}

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WifiConfig {
    #[serde(default)]
    pub ssid: String,
    /// Plain password (the file should then not be committed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Name of an environment variable holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
}

impl std::fmt::Debug for WifiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WifiConfig")
            .field("ssid", &self.ssid)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("password_env", &self.password_env)
            .finish()
    }
}

impl WifiConfig {
    /// The Wi-Fi password: from `password`, else from `password_env`.
    /// A password shorter than WPA2's 8 characters (but not empty: an open
    /// network) is a usage error: a device given it would never join the
    /// network. (`init` checks the full rule, [`validate_wifi_password`].)
    pub fn resolve_password(&self) -> Result<Option<String>> {
        if let Some(p) = &self.password {
            too_short(p).map_err(|e| {
                Error::usage(format!("[wifi] password in {CONFIG_FILE}: {e}"))
                    .with_help(format!("correct it in {CONFIG_FILE}"))
            })?;
            return Ok(Some(p.clone()));
        }
        if let Some(var) = &self.password_env {
            let p = std::env::var(var).map_err(|_| {
                Error::usage(format!("wifi.password_env names ${var}, which is not set"))
                    .with_help(format!("export {var}=… before running espmqtt"))
            })?;
            too_short(&p).map_err(|e| {
                Error::usage(format!("${var} (wifi.password_env): {e}"))
                    .with_help(format!("export {var} with the network's password"))
            })?;
            return Ok(Some(p));
        }
        Ok(None)
    }
}

/// WPA2's lower bound alone: 1 to 7 characters can never join a network.
fn too_short(s: &str) -> std::result::Result<(), String> {
    let n = s.chars().count();
    if (1..8).contains(&n) {
        return Err(format!(
            "a WPA2 password has 8 to 63 characters (this one has {n}); \
             leave it empty for an open network"
        ));
    }
    Ok(())
}

/// Wi-Fi password: empty (open network), a WPA2 passphrase of 8 to 63
/// printable ASCII characters, or a raw 64-hex-digit PSK.
pub fn validate_wifi_password(s: &str) -> std::result::Result<(), String> {
    if s.is_empty() {
        return Ok(());
    }
    if s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()) {
        return Ok(());
    }
    if let Some(c) = s.chars().find(|c| !(' '..='~').contains(c)) {
        return Err(format!(
            "a WPA2 password has printable ASCII characters only ({c:?} is not one)"
        ));
    }
    let n = s.chars().count();
    if !(8..=63).contains(&n) {
        return Err(format!(
            "a WPA2 password has 8 to 63 characters (this one has {n}); \
             leave it empty for an open network"
        ));
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MqttConfig {
    /// Topics are `<topic_prefix>/<client-id>/…`.
    #[serde(default = "default_prefix")]
    pub topic_prefix: String,
    /// Keepalive in seconds (PubSubClient default 15).
    #[serde(default = "default_keepalive")]
    pub keepalive: u16,
    /// Heartbeat interval in seconds.
    #[serde(default = "default_heartbeat")]
    pub heartbeat: u32,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            topic_prefix: default_prefix(),
            keepalive: default_keepalive(),
            heartbeat: default_heartbeat(),
        }
    }
}

fn default_prefix() -> String {
    "espmqtt".into()
}
fn default_keepalive() -> u16 {
    15
}
fn default_heartbeat() -> u32 {
    60
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    #[serde(default)]
    pub trust: TrustMode,
    /// PEM file with the trust anchor(s) for `ca` mode (relative to the project root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Up to two leaf SHA-1 fingerprints for `fingerprint` mode (current, next).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fingerprints: Vec<String>,
    /// PEM public key (SPKI) for `pubkey` mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pubkey_file: Option<PathBuf>,
    /// Receive-buffer size the device uses (MFLN request): 512…4096, or 16384.
    #[serde(default = "default_mfln")]
    pub mfln: u16,
    /// The core's cipher build option: `all` or `basic`.
    #[serde(default = "default_ciphers")]
    pub ciphers: String,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            trust: TrustMode::default(),
            ca_file: None,
            fingerprints: Vec::new(),
            pubkey_file: None,
            mfln: default_mfln(),
            ciphers: default_ciphers(),
        }
    }
}

fn default_mfln() -> u16 {
    512
}
fn default_ciphers() -> String {
    "all".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoardConfig {
    /// `esp07` (1 MB flash) or `esp07s` (4 MB flash).
    #[serde(default = "default_board")]
    pub name: String,
}

impl Default for BoardConfig {
    fn default() -> Self {
        BoardConfig {
            name: default_board(),
        }
    }
}

fn default_board() -> String {
    "esp07".into()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NtpConfig {
    #[serde(default = "default_ntp")]
    pub servers: Vec<String>,
}

impl Default for NtpConfig {
    fn default() -> Self {
        NtpConfig {
            servers: default_ntp(),
        }
    }
}

fn default_ntp() -> Vec<String> {
    vec!["pool.ntp.org".into(), "time.nist.gov".into()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_config_gets_defaults() {
        let c = ProjectConfig::from_toml("[broker]\nhost = \"b.example\"\n").unwrap();
        assert_eq!(c.broker.port, 8883);
        assert_eq!(c.mqtt.topic_prefix, "espmqtt");
        assert_eq!(c.tls.trust, TrustMode::Ca);
        assert_eq!(c.tls.mfln, 512);
        let again = ProjectConfig::from_toml(&c.to_toml().unwrap()).unwrap();
        assert_eq!(c, again);
    }

    #[test]
    fn unknown_keys_are_usage_errors() {
        let e = ProjectConfig::from_toml("[broker]\nhost = \"x\"\nbogus = 1\n").unwrap_err();
        assert_eq!(e.exit_status().code(), 2);
        assert!(e.message.starts_with("3:1: "), "{}", e.message);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = ProjectConfig::from_toml("[broker]\nhost = \"x\"\nport = \"é\"\n").unwrap_err();
        assert!(e.message.starts_with("3:8: "), "{}", e.message);
        assert_eq!(line_col("ab\ncdé\nx", 7), (2, 4));
        assert_eq!(line_col("ab\ncdé\nx", 8), (3, 1));
        assert_eq!(line_col("é", 1), (1, 1));
    }

    #[test]
    fn debug_never_shows_the_wifi_password() {
        let w = WifiConfig {
            ssid: "home".into(),
            password: Some("hunter22".into()),
            password_env: None,
        };
        assert!(!format!("{w:?}").contains("hunter22"));
    }
}
