//! The device config blob: the per-device settings the firmware reads from the
//! Arduino EEPROM sector (docs/ARCHITECTURE.md, "Per-device configuration in
//! flash"; format in `firmware-template/CONFIG_FORMAT.md`).
//!
//! One firmware build serves a whole fleet, so everything device-specific
//! travels in this blob. The C++ decoder in `firmware-template/espmqtt/
//! config_blob.cpp` implements the same rules; the two are pinned together by
//! the vectors in `tests/data/blobs/` and by the integration tests that compile
//! `blobdump` with the host `g++`.
//!
//! API for other modules:
//! - [`ConfigBlob::encode`] / [`ConfigBlob::decode`]: bytes ↔ value, with
//!   [`BlobError::code`] naming why a blob was refused (the same code the
//!   firmware prints as `reason=`).
//! - [`ConfigBlob::to_json`] / [`ConfigBlob::to_json_redacted`]: the JSON
//!   object `blobdump` prints, with or without the secrets.
//! - [`build_blob`]: the pure function from `espmqtt.toml` ([`ProjectConfig`]),
//!   a [`DeviceIdentity`] and resolved [`TrustMaterial`] to a [`ConfigBlob`].
//! - [`TrustMaterial::resolve`]: reads `ca_file` / `pubkey_file` / parses
//!   `fingerprints` from the project configuration.
//! - [`eeprom_offset`]: where the blob goes in flash for a flash size.

use std::path::Path;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::project::ProjectConfig;
use crate::tls::TrustMode;

/// First four bytes of every blob.
pub const MAGIC: [u8; 4] = *b"EMQC";
/// The only format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Header: magic, version, length, CRC-32.
pub const HEADER_LEN: usize = 12;
/// The Arduino EEPROM sector is 4 KB; the blob must fit in it.
pub const MAX_BLOB_LEN: usize = 4096;

/// Flash offset of the Arduino EEPROM sector, where the blob lives: the last
/// 20 KB of flash are EEPROM, RF calibration and SDK Wi-Fi settings, and the
/// EEPROM sector is the first of them (docs/DEVICE.md, "Flash layout").
pub fn eeprom_offset(flash_size: u32) -> u32 {
    flash_size.saturating_sub(0x5000)
}

/// Entry type numbers (CONFIG_FORMAT.md, "Entry types").
pub mod entry {
    pub const WIFI_SSID: u8 = 1;
    pub const WIFI_PASSWORD: u8 = 2;
    pub const BROKER_HOST: u8 = 3;
    pub const BROKER_PORT: u8 = 4;
    pub const BROKER_SNI: u8 = 5;
    pub const CLIENT_ID: u8 = 6;
    pub const USERNAME: u8 = 7;
    pub const PASSWORD: u8 = 8;
    pub const TOPIC_PREFIX: u8 = 9;
    pub const TRUST_MODE: u8 = 10;
    pub const FINGERPRINT: u8 = 11;
    pub const PUBKEY: u8 = 12;
    pub const TRUST_ANCHOR: u8 = 13;
    pub const CLIENT_CERT: u8 = 14;
    pub const CLIENT_KEY: u8 = 15;
    pub const TLS_BUFFERS: u8 = 16;
    pub const TLS_VERSIONS: u8 = 17;
    pub const NTP_SERVER: u8 = 18;
    pub const HEARTBEAT: u8 = 19;
    pub const KEEPALIVE: u8 = 20;
    pub const DEVICE_NAME: u8 = 21;
    pub const CONFIG_VERSION: u8 = 22;
    pub const UPDATE_KEY: u8 = 23;
}

pub use super::update_key::{UpdateKey, UPDATE_KEY_LEN};

/// Repeat limits (must match config_blob.h).
pub const MAX_FINGERPRINTS: usize = 2;
pub const MAX_TRUST_ANCHORS: usize = 8;
pub const MAX_CLIENT_CERTS: usize = 4;
pub const MAX_NTP_SERVERS: usize = 3;

/// TLS protocol versions as BearSSL numbers them (`BR_TLS10` … `BR_TLS12`).
pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;

/// Why a blob was refused. [`BlobError::code`] is the stable code shared with
/// the C++ decoder and the firmware's `unprovisioned reason=` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobError {
    #[error("the blob is truncated: {0}")]
    Truncated(String),
    #[error("no config blob (magic is {0}, not EMQC)")]
    BadMagic(String),
    #[error("unsupported config format version {0} (this build reads version 1)")]
    BadVersion(u16),
    #[error("invalid blob length {0} (must be 12..=4096)")]
    BadLength(usize),
    #[error("CRC mismatch (stored {stored:08x}, computed {computed:08x})")]
    BadCrc { stored: u32, computed: u32 },
    #[error("entry at offset {0} runs past the end of the blob")]
    BadEntry(usize),
    #[error("invalid value for {field}: {why}")]
    BadValue { field: &'static str, why: String },
    #[error("{0} appears more than once")]
    Duplicate(&'static str),
    #[error("too many {0} entries")]
    TooMany(&'static str),
    #[error("missing {0}")]
    MissingField(String),
    /// Encoder only: the settings do not fit into the 4 KB sector.
    #[error("the config blob would be {size} bytes, more than the {max}-byte EEPROM sector")]
    TooLarge {
        size: usize,
        max: usize,
        biggest: Vec<(String, usize)>,
    },
}

impl BlobError {
    /// Stable code (CONFIG_FORMAT.md, "Validation and error codes").
    pub fn code(&self) -> &'static str {
        match self {
            BlobError::Truncated(_) => "truncated",
            BlobError::BadMagic(_) => "bad_magic",
            BlobError::BadVersion(_) => "bad_version",
            BlobError::BadLength(_) => "bad_length",
            BlobError::BadCrc { .. } => "bad_crc",
            BlobError::BadEntry(_) => "bad_entry",
            BlobError::BadValue { .. } => "bad_value",
            BlobError::Duplicate(_) => "duplicate",
            BlobError::TooMany(_) => "too_many",
            BlobError::MissingField(_) => "missing_field",
            BlobError::TooLarge { .. } => "too_large",
        }
    }
}

impl From<BlobError> for Error {
    fn from(e: BlobError) -> Self {
        match &e {
            BlobError::TooLarge { biggest, .. } => {
                let parts: Vec<String> = biggest
                    .iter()
                    .map(|(n, s)| format!("{n} {s} B"))
                    .collect();
                Error::usage(e.to_string()).with_help(format!(
                    "largest entries: {}; use `trust = \"pubkey\"` (≈300 B) or `fingerprint` \
                     instead of a CA chain, configure only the root certificate in ca_file, \
                     or drop the client certificate chain's intermediates",
                    parts.join(", ")
                ))
            }
            BlobError::MissingField(_) | BlobError::BadValue { .. } => Error::usage(e.to_string())
                .with_help("check espmqtt.toml and the device's registry entry"),
            _ => Error::check_failed(format!("config blob refused ({}): {e}", e.code()))
                .with_help("the data is not a valid espmqtt config blob; rewrite it with `espmqtt flash --config-only`"),
        }
    }
}

/// The decoded (or to-be-encoded) settings of one device.
///
/// [`ConfigBlob::to_json`] produces exactly the JSON object `blobdump` prints,
/// with binary values as lower-case hex. `Debug` leaves the secrets out.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfigBlob {
    pub device_name: Option<String>,
    pub wifi_ssid: String,
    /// `None`: open network.
    pub wifi_password: Option<String>,
    pub broker_host: String,
    pub broker_port: u16,
    /// SNI / certificate name when it differs from `broker_host`.
    pub broker_sni: Option<String>,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub topic_prefix: String,
    pub trust: TrustMode,
    /// SHA-1 of the broker's leaf certificate DER (current, next).
    pub fingerprints: Vec<[u8; 20]>,
    /// SubjectPublicKeyInfo DER for `pubkey` mode.
    pub pubkey: Option<Vec<u8>>,
    /// Trust anchor certificates (DER) for `ca` mode.
    pub trust_anchors: Vec<Vec<u8>>,
    /// Client certificate chain (DER, leaf first).
    pub client_cert: Vec<Vec<u8>>,
    /// Client private key (DER).
    pub client_key: Option<Vec<u8>>,
    /// `setBufferSizes(rx, tx)` (docs/DEVICE.md, "Buffers and max fragment
    /// length").
    pub tls_rx_buffer: u16,
    pub tls_tx_buffer: u16,
    /// `setSSLVersion(min, max)` as BearSSL numbers (0x0301…0x0303).
    pub tls_min_version: u16,
    pub tls_max_version: u16,
    pub ntp_servers: Vec<String>,
    /// Heartbeat interval in seconds.
    pub heartbeat: u32,
    /// MQTT keepalive in seconds.
    pub keepalive: u16,
    /// The update number that produced this config (0: written over serial).
    pub config_version: u32,
    /// Key for config updates over MQTT (`None`: the device takes none).
    pub update_key: Option<UpdateKey>,
}

/// `<redacted>` for a secret that is set, `None` when it is not.
fn redacted<T>(v: &Option<T>) -> Option<&'static str> {
    v.as_ref().map(|_| "<redacted>")
}

impl std::fmt::Debug for ConfigBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigBlob")
            .field("device_name", &self.device_name)
            .field("wifi_ssid", &self.wifi_ssid)
            .field("wifi_password", &redacted(&self.wifi_password))
            .field("broker_host", &self.broker_host)
            .field("broker_port", &self.broker_port)
            .field("broker_sni", &self.broker_sni)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("topic_prefix", &self.topic_prefix)
            .field("trust", &self.trust)
            .field("fingerprints", &self.fingerprints.len())
            .field("pubkey", &self.pubkey.as_ref().map(Vec::len))
            .field("trust_anchors", &self.trust_anchors.len())
            .field("client_cert", &self.client_cert.len())
            .field("client_key", &redacted(&self.client_key))
            .field("tls_rx_buffer", &self.tls_rx_buffer)
            .field("tls_tx_buffer", &self.tls_tx_buffer)
            .field("tls_min_version", &self.tls_min_version)
            .field("tls_max_version", &self.tls_max_version)
            .field("ntp_servers", &self.ntp_servers)
            .field("heartbeat", &self.heartbeat)
            .field("keepalive", &self.keepalive)
            .finish()
    }
}

impl Default for ConfigBlob {
    fn default() -> Self {
        ConfigBlob {
            device_name: None,
            wifi_ssid: String::new(),
            wifi_password: None,
            broker_host: String::new(),
            broker_port: 8883,
            broker_sni: None,
            client_id: String::new(),
            username: None,
            password: None,
            topic_prefix: "espmqtt".into(),
            trust: TrustMode::Ca,
            fingerprints: Vec::new(),
            pubkey: None,
            trust_anchors: Vec::new(),
            client_cert: Vec::new(),
            client_key: None,
            tls_rx_buffer: 512,
            tls_tx_buffer: 512,
            tls_min_version: TLS10,
            tls_max_version: TLS12,
            ntp_servers: default_ntp(),
            heartbeat: 60,
            keepalive: 15,
            config_version: 0,
            update_key: None,
        }
    }
}

fn default_ntp() -> Vec<String> {
    vec!["pool.ntp.org".into(), "time.nist.gov".into()]
}

/// The JSON shape `blobdump` prints (CONFIG_FORMAT.md, "`blobdump` JSON").
#[derive(Debug, Serialize)]
struct BlobJson<'a> {
    format_version: u16,
    length: usize,
    device_name: &'a Option<String>,
    wifi_ssid: &'a str,
    wifi_password: &'a Option<String>,
    broker_host: &'a str,
    broker_port: u16,
    broker_sni: &'a Option<String>,
    client_id: &'a str,
    username: &'a Option<String>,
    password: &'a Option<String>,
    topic_prefix: &'a str,
    trust_mode: &'static str,
    fingerprints: Vec<String>,
    pubkey: Option<String>,
    trust_anchors: Vec<String>,
    client_cert: Vec<String>,
    client_key: Option<String>,
    tls_rx_buffer: u16,
    tls_tx_buffer: u16,
    tls_min_version: &'static str,
    tls_max_version: &'static str,
    ntp_servers: &'a [String],
    heartbeat: u32,
    keepalive: u16,
    config_version: u32,
    update_key: Option<String>,
}

/// "1.0" / "1.1" / "1.2" for a BearSSL version number.
pub fn tls_version_name(v: u16) -> &'static str {
    match v {
        TLS10 => "1.0",
        TLS11 => "1.1",
        TLS12 => "1.2",
        _ => "?",
    }
}

fn trust_code(t: TrustMode) -> u8 {
    match t {
        TrustMode::Ca => 0,
        TrustMode::Pubkey => 1,
        TrustMode::Fingerprint => 2,
        TrustMode::Insecure => 3,
    }
}

/// String entry limits (bytes without the NUL): (min, max).
fn str_limits(t: u8) -> (usize, usize) {
    match t {
        entry::WIFI_SSID => (1, 32),
        entry::WIFI_PASSWORD => (0, 64),
        entry::BROKER_HOST | entry::BROKER_SNI => (1, 255),
        entry::CLIENT_ID => (1, 128),
        entry::USERNAME => (0, 128),
        entry::PASSWORD => (0, 256),
        entry::TOPIC_PREFIX => (1, 64),
        entry::NTP_SERVER | entry::DEVICE_NAME => (1, 64),
        _ => (0, MAX_BLOB_LEN),
    }
}

fn field_name(t: u8) -> &'static str {
    match t {
        entry::WIFI_SSID => "wifi_ssid",
        entry::WIFI_PASSWORD => "wifi_password",
        entry::BROKER_HOST => "broker_host",
        entry::BROKER_PORT => "broker_port",
        entry::BROKER_SNI => "broker_sni",
        entry::CLIENT_ID => "client_id",
        entry::USERNAME => "username",
        entry::PASSWORD => "password",
        entry::TOPIC_PREFIX => "topic_prefix",
        entry::TRUST_MODE => "trust_mode",
        entry::FINGERPRINT => "fingerprint",
        entry::PUBKEY => "pubkey",
        entry::TRUST_ANCHOR => "trust_anchor",
        entry::CLIENT_CERT => "client_cert",
        entry::CLIENT_KEY => "client_key",
        entry::TLS_BUFFERS => "tls_buffers",
        entry::TLS_VERSIONS => "tls_versions",
        entry::NTP_SERVER => "ntp_server",
        entry::HEARTBEAT => "heartbeat",
        entry::KEEPALIVE => "keepalive",
        entry::DEVICE_NAME => "device_name",
        entry::CONFIG_VERSION => "config_version",
        entry::UPDATE_KEY => "update_key",
        _ => "unknown",
    }
}

fn crc(bytes: &[u8], len: usize) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&bytes[0..8]);
    h.update(&bytes[HEADER_LEN..len]);
    h.finalize()
}

struct Writer {
    out: Vec<u8>,
    /// (entry name, encoded size) for the "what to drop" message.
    sizes: Vec<(String, usize)>,
}

impl Writer {
    fn entry(&mut self, t: u8, value: &[u8]) -> Result<(), BlobError> {
        let len = u16::try_from(value.len()).map_err(|_| BlobError::BadValue {
            field: field_name(t),
            why: format!("{} bytes is too long", value.len()),
        })?;
        self.out.push(t);
        self.out.extend_from_slice(&len.to_le_bytes());
        self.out.extend_from_slice(value);
        self.sizes
            .push((field_name(t).to_string(), value.len() + 3));
        Ok(())
    }

    fn str(&mut self, t: u8, s: &str) -> Result<(), BlobError> {
        check_str(t, s.as_bytes())?;
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.entry(t, &v)
    }

    fn bytes(&mut self, t: u8, b: &[u8]) -> Result<(), BlobError> {
        if b.is_empty() || b.len() > MAX_BLOB_LEN {
            return Err(BlobError::BadValue {
                field: field_name(t),
                why: format!("{} bytes (must be 1..=4096)", b.len()),
            });
        }
        self.entry(t, b)
    }
}

/// Content checks shared by the encoder and the decoder (bytes without NUL).
fn check_str(t: u8, s: &[u8]) -> Result<(), BlobError> {
    let (min, max) = str_limits(t);
    let field = field_name(t);
    if s.contains(&0) {
        return Err(BlobError::BadValue {
            field,
            why: "contains a NUL byte".into(),
        });
    }
    if std::str::from_utf8(s).is_err() {
        return Err(BlobError::BadValue {
            field,
            why: "not valid UTF-8".into(),
        });
    }
    if s.len() < min || s.len() > max {
        return Err(BlobError::BadValue {
            field,
            why: format!("{} bytes (must be {min}..={max})", s.len()),
        });
    }
    Ok(())
}

impl ConfigBlob {
    /// Encode, checking every limit the decoders check. A blob over 4096 bytes
    /// is [`BlobError::TooLarge`] with the biggest entries listed.
    pub fn encode(&self) -> Result<Vec<u8>, BlobError> {
        self.encode_with_version(FORMAT_VERSION)
    }

    /// Encode with an arbitrary format version (test vectors for `bad_version`).
    #[doc(hidden)]
    pub fn encode_with_version(&self, version: u16) -> Result<Vec<u8>, BlobError> {
        self.validate()?;
        let mut w = Writer {
            out: Vec::with_capacity(1024),
            sizes: Vec::new(),
        };
        w.out.extend_from_slice(&MAGIC);
        w.out.extend_from_slice(&version.to_le_bytes());
        w.out.extend_from_slice(&[0; 6]);
        if let Some(n) = &self.device_name {
            w.str(entry::DEVICE_NAME, n)?;
        }
        w.str(entry::WIFI_SSID, &self.wifi_ssid)?;
        if let Some(p) = &self.wifi_password {
            w.str(entry::WIFI_PASSWORD, p)?;
        }
        w.str(entry::BROKER_HOST, &self.broker_host)?;
        w.entry(entry::BROKER_PORT, &self.broker_port.to_le_bytes())?;
        if let Some(s) = &self.broker_sni {
            w.str(entry::BROKER_SNI, s)?;
        }
        w.str(entry::CLIENT_ID, &self.client_id)?;
        if let Some(u) = &self.username {
            w.str(entry::USERNAME, u)?;
        }
        if let Some(p) = &self.password {
            w.str(entry::PASSWORD, p)?;
        }
        w.str(entry::TOPIC_PREFIX, &self.topic_prefix)?;
        w.entry(entry::TRUST_MODE, &[trust_code(self.trust)])?;
        for fp in &self.fingerprints {
            w.entry(entry::FINGERPRINT, fp)?;
        }
        if let Some(k) = &self.pubkey {
            w.bytes(entry::PUBKEY, k)?;
        }
        for a in &self.trust_anchors {
            w.bytes(entry::TRUST_ANCHOR, a)?;
        }
        for c in &self.client_cert {
            w.bytes(entry::CLIENT_CERT, c)?;
        }
        if let Some(k) = &self.client_key {
            w.bytes(entry::CLIENT_KEY, k)?;
        }
        let mut buffers = self.tls_rx_buffer.to_le_bytes().to_vec();
        buffers.extend_from_slice(&self.tls_tx_buffer.to_le_bytes());
        w.entry(entry::TLS_BUFFERS, &buffers)?;
        let mut versions = self.tls_min_version.to_le_bytes().to_vec();
        versions.extend_from_slice(&self.tls_max_version.to_le_bytes());
        w.entry(entry::TLS_VERSIONS, &versions)?;
        for s in &self.ntp_servers {
            w.str(entry::NTP_SERVER, s)?;
        }
        w.entry(entry::HEARTBEAT, &self.heartbeat.to_le_bytes())?;
        w.entry(entry::KEEPALIVE, &self.keepalive.to_le_bytes())?;
        // Absent means 0, so a blob written over serial stays as it was.
        if self.config_version != 0 {
            w.entry(entry::CONFIG_VERSION, &self.config_version.to_le_bytes())?;
        }
        if let Some(k) = &self.update_key {
            w.entry(entry::UPDATE_KEY, &k.0)?;
        }

        let len = w.out.len();
        if len > MAX_BLOB_LEN {
            let mut biggest = w.sizes;
            biggest.sort_by_key(|e| std::cmp::Reverse(e.1));
            biggest.truncate(4);
            return Err(BlobError::TooLarge {
                size: len,
                max: MAX_BLOB_LEN,
                biggest,
            });
        }
        // len ≤ 4096 here, so it fits a u16.
        w.out[6..8].copy_from_slice(&(len as u16).to_le_bytes());
        let c = crc(&w.out, len);
        w.out[8..12].copy_from_slice(&c.to_le_bytes());
        Ok(w.out)
    }

    /// Cross-field rules shared by encoder and decoder.
    fn validate(&self) -> Result<(), BlobError> {
        let bad = |field: &'static str, why: String| BlobError::BadValue { field, why };
        if self.broker_port == 0 {
            return Err(bad("broker_port", "0".into()));
        }
        if self.fingerprints.len() > MAX_FINGERPRINTS {
            return Err(BlobError::TooMany("fingerprint"));
        }
        if self.trust_anchors.len() > MAX_TRUST_ANCHORS {
            return Err(BlobError::TooMany("trust_anchor"));
        }
        if self.client_cert.len() > MAX_CLIENT_CERTS {
            return Err(BlobError::TooMany("client_cert"));
        }
        if self.ntp_servers.len() > MAX_NTP_SERVERS {
            return Err(BlobError::TooMany("ntp_server"));
        }
        for (name, v) in [("rx", self.tls_rx_buffer), ("tx", self.tls_tx_buffer)] {
            if !(512..=16384).contains(&v) {
                return Err(bad(
                    "tls_buffers",
                    format!("{name} {v} (must be 512..=16384)"),
                ));
            }
        }
        let ok_v = |v: u16| (TLS10..=TLS12).contains(&v);
        if !ok_v(self.tls_min_version)
            || !ok_v(self.tls_max_version)
            || self.tls_min_version > self.tls_max_version
        {
            return Err(bad(
                "tls_versions",
                format!(
                    "{:#06x}..{:#06x} (must be 0x0301..=0x0303, min ≤ max)",
                    self.tls_min_version, self.tls_max_version
                ),
            ));
        }
        if self.heartbeat == 0 {
            return Err(bad("heartbeat", "0".into()));
        }
        match self.trust {
            TrustMode::Ca if self.trust_anchors.is_empty() => {
                return Err(BlobError::MissingField(
                    "trust_anchor (required in ca mode)".into(),
                ))
            }
            TrustMode::Pubkey if self.pubkey.is_none() => {
                return Err(BlobError::MissingField(
                    "pubkey (required in pubkey mode)".into(),
                ))
            }
            TrustMode::Fingerprint if self.fingerprints.is_empty() => {
                return Err(BlobError::MissingField(
                    "fingerprint (required in fingerprint mode)".into(),
                ))
            }
            _ => {}
        }
        if self.client_cert.is_empty() != self.client_key.is_none() {
            return Err(BlobError::MissingField(
                "client_cert and client_key must be given together".into(),
            ));
        }
        Ok(())
    }

    /// Decode a blob. `bytes` may be longer than the blob (a whole 4 KB sector
    /// read back from flash); bytes after the header's length are ignored.
    /// Never panics, whatever the input.
    pub fn decode(bytes: &[u8]) -> Result<ConfigBlob, BlobError> {
        if bytes.len() < HEADER_LEN {
            return Err(BlobError::Truncated(format!(
                "{} bytes, the header alone is {HEADER_LEN}",
                bytes.len()
            )));
        }
        if bytes[0..4] != MAGIC {
            return Err(BlobError::BadMagic(hex::encode(&bytes[0..4])));
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != FORMAT_VERSION {
            return Err(BlobError::BadVersion(version));
        }
        let len = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
        if !(HEADER_LEN..=MAX_BLOB_LEN).contains(&len) {
            return Err(BlobError::BadLength(len));
        }
        if bytes.len() < len {
            return Err(BlobError::Truncated(format!(
                "{} bytes, the header says {len}",
                bytes.len()
            )));
        }
        let stored = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]);
        let computed = crc(bytes, len);
        if stored != computed {
            return Err(BlobError::BadCrc { stored, computed });
        }

        let mut b = ConfigBlob {
            ntp_servers: Vec::new(),
            ..ConfigBlob::default()
        };
        let mut seen = [false; 256];
        let mut trust: Option<TrustMode> = None;
        let mut pos = HEADER_LEN;
        while pos < len {
            if pos + 3 > len {
                return Err(BlobError::BadEntry(pos));
            }
            let t = bytes[pos];
            let vlen = usize::from(u16::from_le_bytes([bytes[pos + 1], bytes[pos + 2]]));
            let start = pos + 3;
            if start + vlen > len {
                return Err(BlobError::BadEntry(pos));
            }
            let v = &bytes[start..start + vlen];
            pos = start + vlen;

            let field = field_name(t);
            let repeatable = matches!(
                t,
                entry::FINGERPRINT | entry::TRUST_ANCHOR | entry::CLIENT_CERT | entry::NTP_SERVER
            );
            if field == "unknown" {
                continue; // forward compatibility: skip unknown types
            }
            if !repeatable {
                if seen[usize::from(t)] {
                    return Err(BlobError::Duplicate(field));
                }
                seen[usize::from(t)] = true;
            }
            let bad = |why: &str| BlobError::BadValue {
                field,
                why: why.to_string(),
            };
            let get_str = || -> Result<String, BlobError> {
                match v.split_last() {
                    Some((0, body)) => {
                        check_str(t, body)?;
                        // check_str verified UTF-8.
                        Ok(String::from_utf8_lossy(body).into_owned())
                    }
                    _ => Err(bad("not NUL-terminated")),
                }
            };
            let get_bin = || -> Result<Vec<u8>, BlobError> {
                if v.is_empty() {
                    Err(bad("empty"))
                } else {
                    Ok(v.to_vec())
                }
            };
            match t {
                entry::WIFI_SSID => b.wifi_ssid = get_str()?,
                entry::WIFI_PASSWORD => b.wifi_password = Some(get_str()?),
                entry::BROKER_HOST => b.broker_host = get_str()?,
                entry::BROKER_SNI => b.broker_sni = Some(get_str()?),
                entry::CLIENT_ID => b.client_id = get_str()?,
                entry::USERNAME => b.username = Some(get_str()?),
                entry::PASSWORD => b.password = Some(get_str()?),
                entry::TOPIC_PREFIX => b.topic_prefix = get_str()?,
                entry::DEVICE_NAME => b.device_name = Some(get_str()?),
                entry::NTP_SERVER => {
                    if b.ntp_servers.len() >= MAX_NTP_SERVERS {
                        return Err(BlobError::TooMany(field));
                    }
                    b.ntp_servers.push(get_str()?);
                }
                entry::BROKER_PORT => {
                    let [lo, hi] = <[u8; 2]>::try_from(v).map_err(|_| bad("size is not 2"))?;
                    let p = u16::from_le_bytes([lo, hi]);
                    if p == 0 {
                        return Err(bad("port 0"));
                    }
                    b.broker_port = p;
                }
                entry::TRUST_MODE => {
                    trust = Some(match v {
                        [0] => TrustMode::Ca,
                        [1] => TrustMode::Pubkey,
                        [2] => TrustMode::Fingerprint,
                        [3] => TrustMode::Insecure,
                        _ => return Err(bad("not one of 0..=3 in one byte")),
                    })
                }
                entry::FINGERPRINT => {
                    let fp = <[u8; 20]>::try_from(v).map_err(|_| bad("size is not 20"))?;
                    if b.fingerprints.len() >= MAX_FINGERPRINTS {
                        return Err(BlobError::TooMany(field));
                    }
                    b.fingerprints.push(fp);
                }
                entry::PUBKEY => b.pubkey = Some(get_bin()?),
                entry::TRUST_ANCHOR => {
                    let der = get_bin()?;
                    if b.trust_anchors.len() >= MAX_TRUST_ANCHORS {
                        return Err(BlobError::TooMany(field));
                    }
                    b.trust_anchors.push(der);
                }
                entry::CLIENT_CERT => {
                    let der = get_bin()?;
                    if b.client_cert.len() >= MAX_CLIENT_CERTS {
                        return Err(BlobError::TooMany(field));
                    }
                    b.client_cert.push(der);
                }
                entry::CLIENT_KEY => b.client_key = Some(get_bin()?),
                entry::TLS_BUFFERS => {
                    let a = <[u8; 4]>::try_from(v).map_err(|_| bad("size is not 4"))?;
                    let rx = u16::from_le_bytes([a[0], a[1]]);
                    let tx = u16::from_le_bytes([a[2], a[3]]);
                    if !(512..=16384).contains(&rx) || !(512..=16384).contains(&tx) {
                        return Err(bad("buffer sizes must be 512..=16384"));
                    }
                    b.tls_rx_buffer = rx;
                    b.tls_tx_buffer = tx;
                }
                entry::TLS_VERSIONS => {
                    let a = <[u8; 4]>::try_from(v).map_err(|_| bad("size is not 4"))?;
                    let min = u16::from_le_bytes([a[0], a[1]]);
                    let max = u16::from_le_bytes([a[2], a[3]]);
                    let ok = |x: u16| (TLS10..=TLS12).contains(&x);
                    if !ok(min) || !ok(max) || min > max {
                        return Err(bad("versions must be 0x0301..=0x0303 with min ≤ max"));
                    }
                    b.tls_min_version = min;
                    b.tls_max_version = max;
                }
                entry::HEARTBEAT => {
                    let a = <[u8; 4]>::try_from(v).map_err(|_| bad("size is not 4"))?;
                    let h = u32::from_le_bytes(a);
                    if h == 0 {
                        return Err(bad("0 seconds"));
                    }
                    b.heartbeat = h;
                }
                entry::KEEPALIVE => {
                    let a = <[u8; 2]>::try_from(v).map_err(|_| bad("size is not 2"))?;
                    b.keepalive = u16::from_le_bytes(a);
                }
                entry::CONFIG_VERSION => {
                    let a = <[u8; 4]>::try_from(v).map_err(|_| bad("size is not 4"))?;
                    b.config_version = u32::from_le_bytes(a);
                }
                entry::UPDATE_KEY => {
                    let k =
                        <[u8; UPDATE_KEY_LEN]>::try_from(v).map_err(|_| bad("size is not 32"))?;
                    b.update_key = Some(UpdateKey(k));
                }
                _ => {}
            }
        }
        for (t, name) in [
            (entry::WIFI_SSID, "wifi_ssid"),
            (entry::BROKER_HOST, "broker_host"),
            (entry::CLIENT_ID, "client_id"),
            (entry::TOPIC_PREFIX, "topic_prefix"),
            (entry::TRUST_MODE, "trust_mode"),
        ] {
            if !seen[usize::from(t)] {
                return Err(BlobError::MissingField(name.into()));
            }
        }
        if let Some(t) = trust {
            b.trust = t;
        }
        if b.ntp_servers.is_empty() {
            b.ntp_servers = default_ntp();
        }
        b.validate()?;
        Ok(b)
    }

    /// The JSON object `blobdump` prints for this blob (secrets included).
    /// `length` is the encoded length; pass the decoded blob's byte length.
    pub fn to_json(&self, length: usize) -> serde_json::Value {
        let j = BlobJson {
            format_version: FORMAT_VERSION,
            length,
            device_name: &self.device_name,
            wifi_ssid: &self.wifi_ssid,
            wifi_password: &self.wifi_password,
            broker_host: &self.broker_host,
            broker_port: self.broker_port,
            broker_sni: &self.broker_sni,
            client_id: &self.client_id,
            username: &self.username,
            password: &self.password,
            topic_prefix: &self.topic_prefix,
            trust_mode: self.trust.as_str(),
            fingerprints: self.fingerprints.iter().map(hex::encode).collect(),
            pubkey: self.pubkey.as_ref().map(hex::encode),
            trust_anchors: self.trust_anchors.iter().map(hex::encode).collect(),
            client_cert: self.client_cert.iter().map(hex::encode).collect(),
            client_key: self.client_key.as_ref().map(hex::encode),
            tls_rx_buffer: self.tls_rx_buffer,
            tls_tx_buffer: self.tls_tx_buffer,
            tls_min_version: tls_version_name(self.tls_min_version),
            tls_max_version: tls_version_name(self.tls_max_version),
            ntp_servers: &self.ntp_servers,
            heartbeat: self.heartbeat,
            keepalive: self.keepalive,
            config_version: self.config_version,
            update_key: self.update_key.as_ref().map(UpdateKey::to_hex),
        };
        serde_json::to_value(j).unwrap_or(serde_json::Value::Null)
    }

    /// [`ConfigBlob::to_json`] with the secrets (Wi-Fi password, MQTT
    /// password, client key, update key) replaced by `"<redacted>"`: for
    /// `flash --read-config` and anything else printed without
    /// `--show-secrets`.
    pub fn to_json_redacted(&self, length: usize) -> serde_json::Value {
        let mut v = self.to_json(length);
        for key in ["wifi_password", "password", "client_key", "update_key"] {
            if let Some(slot) = v.get_mut(key) {
                if !slot.is_null() {
                    *slot = serde_json::Value::String("<redacted>".into());
                }
            }
        }
        v
    }

    /// Length of the encoded blob as stored in its header (0 if too short).
    pub fn stored_length(bytes: &[u8]) -> usize {
        if bytes.len() < 8 {
            return 0;
        }
        usize::from(u16::from_le_bytes([bytes[6], bytes[7]]))
    }
}

/// The per-device half of a blob: what the registry holds for one device.
/// Built by the caller from `crate::device::registry::DeviceRecord` (PEM → DER
/// conversion: [`DeviceIdentity::from_pem`]) or directly in tests.
/// `Debug` leaves the password and the key out.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DeviceIdentity {
    pub name: String,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Client certificate chain, DER, leaf first (empty: no mutual TLS).
    pub client_cert_der: Vec<Vec<u8>>,
    /// Client private key, DER.
    pub client_key_der: Option<Vec<u8>>,
    /// Key for config updates over MQTT (`docs/OTA.md`).
    pub update_key: Option<UpdateKey>,
}

impl std::fmt::Debug for DeviceIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceIdentity")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &redacted(&self.password))
            .field("client_cert_der", &self.client_cert_der.len())
            .field("client_key_der", &redacted(&self.client_key_der))
            .finish()
    }
}

impl DeviceIdentity {
    /// Identity from registry fields, converting optional PEM certificate and
    /// key to the DER the firmware's `X509List` / `PrivateKey` take.
    pub fn from_pem(
        name: &str,
        client_id: &str,
        username: Option<&str>,
        password: Option<&str>,
        cert_pem: Option<&str>,
        key_pem: Option<&str>,
    ) -> Result<Self> {
        let client_cert_der = match cert_pem {
            Some(p) => crate::tls::cert::load_certificates(p.as_bytes())
                .map_err(|e| e.context(format!("client certificate of {name}")))?,
            None => Vec::new(),
        };
        let client_key_der = match key_pem {
            Some(p) => Some(
                private_key_der(p.as_bytes())
                    .map_err(|e| e.context(format!("client key of {name}")))?,
            ),
            None => None,
        };
        Ok(DeviceIdentity {
            name: name.to_string(),
            client_id: client_id.to_string(),
            username: username.map(str::to_string),
            password: password.map(str::to_string),
            client_cert_der,
            client_key_der,
            update_key: None,
        })
    }
}

/// DER of the first private key in a PEM text (PKCS#8, PKCS#1 RSA or SEC1 EC).
fn private_key_der(pem: &[u8]) -> Result<Vec<u8>> {
    let mut reader = std::io::BufReader::new(pem);
    match rustls_pemfile::private_key(&mut reader) {
        Ok(Some(k)) => Ok(k.secret_der().to_vec()),
        Ok(None) => Err(Error::usage("no PRIVATE KEY block found")),
        Err(e) => Err(Error::usage(format!("malformed PEM private key: {e}"))),
    }
}

/// Broker authentication material resolved from `[tls]` of `espmqtt.toml`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustMaterial {
    /// Trust anchors (DER) for `ca` mode.
    pub anchors_der: Vec<Vec<u8>>,
    /// SubjectPublicKeyInfo DER for `pubkey` mode.
    pub pubkey_der: Option<Vec<u8>>,
    /// Leaf SHA-1 fingerprints for `fingerprint` mode (current, next).
    pub fingerprints: Vec<[u8; 20]>,
}

/// Parse a SHA-1 fingerprint in the one grammar every command accepts
/// (see `src/digest.rs`).
pub fn parse_fingerprint(s: &str) -> Result<[u8; 20]> {
    crate::digest::parse_sha1_for(s, "fingerprint")
}

/// SubjectPublicKeyInfo DER from a PEM/DER public key or a certificate.
pub fn load_public_key(bytes: &[u8]) -> Result<Vec<u8>> {
    let text = String::from_utf8_lossy(bytes);
    if text.contains("-----BEGIN PUBLIC KEY-----") {
        let mut reader = std::io::BufReader::new(bytes);
        for item in rustls_pemfile::read_all(&mut reader) {
            if let Ok(rustls_pemfile::Item::SubjectPublicKeyInfo(spki)) = item {
                return Ok(spki.as_ref().to_vec());
            }
        }
        return Err(Error::usage("malformed PUBLIC KEY block"));
    }
    if text.contains("-----BEGIN CERTIFICATE-----") {
        let certs = crate::tls::cert::load_certificates(bytes)?;
        let first = certs
            .first()
            .ok_or_else(|| Error::usage("no certificate in the file"))?;
        return crate::tls::cert::spki_der(first);
    }
    // Raw DER: a certificate or an SPKI.
    if let Ok(spki) = crate::tls::cert::spki_der(bytes) {
        return Ok(spki);
    }
    if is_spki_der(bytes) {
        return Ok(bytes.to_vec());
    }
    Err(Error::usage(
        "neither a PEM/DER public key (SubjectPublicKeyInfo) nor a certificate",
    ))
}

/// Whether `bytes` is exactly one DER SubjectPublicKeyInfo.
fn is_spki_der(bytes: &[u8]) -> bool {
    use x509_parser::prelude::FromDer;
    matches!(
        x509_parser::x509::SubjectPublicKeyInfo::from_der(bytes),
        Ok((rest, _)) if rest.is_empty()
    )
}

impl TrustMaterial {
    /// Read the material the configured trust mode needs; relative paths are
    /// relative to the project root. Only the current mode's material is
    /// required (and loaded).
    pub fn resolve(config: &ProjectConfig, root: &Path) -> Result<Self> {
        let tls = &config.tls;
        let mut m = TrustMaterial::default();
        let read = |p: &Path, what: &str| -> Result<Vec<u8>> {
            let full = if p.is_absolute() {
                p.to_path_buf()
            } else {
                root.join(p)
            };
            crate::files::read_input(&full, crate::files::MAX_TEXT_INPUT, "trust material")
                .map_err(|e| e.context(format!("reading tls.{what}")))
        };
        match tls.trust {
            TrustMode::Ca => {
                let p = tls.ca_file.as_ref().ok_or_else(|| {
                    Error::usage("trust mode `ca` needs tls.ca_file in espmqtt.toml").with_help(
                        "set ca_file to the PEM of the root CA that signed the broker's chain",
                    )
                })?;
                m.anchors_der = crate::tls::cert::load_certificates(&read(p, "ca_file")?)
                    .map_err(|e| e.context(format!("tls.ca_file {}", p.display())))?;
            }
            TrustMode::Pubkey => {
                let p = tls.pubkey_file.as_ref().ok_or_else(|| {
                    Error::usage("trust mode `pubkey` needs tls.pubkey_file in espmqtt.toml")
                        .with_help("`espmqtt fingerprint HOST` prints the broker's public key")
                })?;
                m.pubkey_der = Some(
                    load_public_key(&read(p, "pubkey_file")?)
                        .map_err(|e| e.context(format!("tls.pubkey_file {}", p.display())))?,
                );
            }
            TrustMode::Fingerprint => {
                if tls.fingerprints.is_empty() || tls.fingerprints.len() > MAX_FINGERPRINTS {
                    return Err(Error::usage(format!(
                        "trust mode `fingerprint` needs one or two tls.fingerprints (found {})",
                        tls.fingerprints.len()
                    ))
                    .with_help("`espmqtt fingerprint HOST` prints the SHA-1 to use"));
                }
                for f in &tls.fingerprints {
                    m.fingerprints.push(parse_fingerprint(f)?);
                }
            }
            TrustMode::Insecure => {}
        }
        Ok(m)
    }
}

/// `setBufferSizes` arguments for a configured MFLN value (docs/DEVICE.md,
/// "Buffers and max fragment length"): equal buffers request that fragment
/// length; 16384 keeps the core's default (16384, 512).
pub fn buffers_for_mfln(mfln: u16) -> (u16, u16) {
    if mfln >= 16384 {
        (16384, 512)
    } else {
        let v = mfln.clamp(512, 4096);
        (v, v)
    }
}

/// Build a device's blob from the fleet settings, the device's identity and
/// the resolved trust material. Pure: no files, no registry, no environment
/// (the Wi-Fi password is passed in already resolved).
pub fn build_blob(
    config: &ProjectConfig,
    wifi_password: Option<&str>,
    device: &DeviceIdentity,
    trust: &TrustMaterial,
) -> Result<ConfigBlob, BlobError> {
    let (rx, tx) = buffers_for_mfln(config.tls.mfln);
    let sni = config
        .broker
        .servername
        .clone()
        .filter(|s| s != &config.broker.host);
    let blob = ConfigBlob {
        device_name: (!device.name.is_empty()).then(|| device.name.clone()),
        wifi_ssid: config.wifi.ssid.clone(),
        wifi_password: wifi_password.map(str::to_string),
        broker_host: config.broker.host.clone(),
        broker_port: config.broker.port,
        broker_sni: sni,
        client_id: device.client_id.clone(),
        username: device.username.clone(),
        password: device.password.clone(),
        topic_prefix: config.mqtt.topic_prefix.clone(),
        trust: config.tls.trust,
        fingerprints: if config.tls.trust == TrustMode::Fingerprint {
            trust.fingerprints.clone()
        } else {
            Vec::new()
        },
        pubkey: if config.tls.trust == TrustMode::Pubkey {
            trust.pubkey_der.clone()
        } else {
            None
        },
        trust_anchors: if config.tls.trust == TrustMode::Ca {
            trust.anchors_der.clone()
        } else {
            Vec::new()
        },
        client_cert: device.client_cert_der.clone(),
        client_key: device.client_key_der.clone(),
        tls_rx_buffer: rx,
        tls_tx_buffer: tx,
        tls_min_version: TLS10,
        tls_max_version: TLS12,
        ntp_servers: config
            .ntp
            .servers
            .iter()
            .take(MAX_NTP_SERVERS)
            .cloned()
            .collect(),
        heartbeat: config.mqtt.heartbeat,
        keepalive: config.mqtt.keepalive,
        config_version: 0,
        update_key: device.update_key.clone(),
    };
    // Encode once so every limit (and the 4 KB ceiling) is checked here.
    blob.encode()?;
    Ok(blob)
}

impl DeviceIdentity {
    /// The identity of a registry record (username and password are the
    /// registry's; certificate and key are converted from PEM to DER).
    pub fn from_record(rec: &crate::device::registry::DeviceRecord) -> Result<Self> {
        let mut id = DeviceIdentity::from_pem(
            &rec.name,
            &rec.client_id,
            Some(&rec.username),
            Some(&rec.secret),
            rec.client_cert_pem.as_deref(),
            rec.client_key_pem.as_deref(),
        )?;
        id.update_key = rec.update_key.clone();
        Ok(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_leaves_every_secret_out() {
        let blob = ConfigBlob {
            wifi_password: Some("wifi-secret-1".into()),
            password: Some("mqtt-secret-2".into()),
            client_key: Some(b"key-secret-3".to_vec()),
            ..ConfigBlob::default()
        };
        let id = DeviceIdentity {
            name: "d".into(),
            password: Some("mqtt-secret-2".into()),
            client_key_der: Some(b"key-secret-3".to_vec()),
            ..DeviceIdentity::default()
        };
        for text in [format!("{blob:?}"), format!("{blob:#?}"), format!("{id:?}")] {
            for secret in [
                "wifi-secret-1",
                "mqtt-secret-2",
                "key-secret-3",
                "107, 101, 121",
            ] {
                assert!(!text.contains(secret), "{text}");
            }
            assert!(text.contains("<redacted>"), "{text}");
        }
    }

    fn sample() -> ConfigBlob {
        ConfigBlob {
            device_name: Some("sensor-007".into()),
            wifi_ssid: "Home \"Net\" \\ 100% ü".into(),
            wifi_password: Some("p w\"\\%ü".into()),
            broker_host: "broker.example.com".into(),
            client_id: "sensor-007".into(),
            username: Some("sensor-007".into()),
            password: Some("s3cr%t\"".into()),
            trust: TrustMode::Fingerprint,
            fingerprints: vec![[0xab; 20], [0x01; 20]],
            ..ConfigBlob::default()
        }
    }

    #[test]
    fn round_trip() {
        let b = sample();
        let bytes = b.encode().unwrap();
        assert_eq!(&bytes[0..4], b"EMQC");
        assert_eq!(ConfigBlob::decode(&bytes).unwrap(), b);
        // A whole erased-tail sector decodes the same.
        let mut sector = bytes.clone();
        sector.resize(4096, 0xff);
        assert_eq!(ConfigBlob::decode(&sector).unwrap(), b);
    }

    #[test]
    fn every_truncation_and_bit_flip_is_refused() {
        let bytes = sample().encode().unwrap();
        for n in 0..bytes.len() {
            assert_eq!(
                ConfigBlob::decode(&bytes[..n]).unwrap_err().code(),
                "truncated"
            );
        }
        for i in 0..bytes.len() {
            for bit in 0..8 {
                let mut c = bytes.clone();
                c[i] ^= 1 << bit;
                assert!(ConfigBlob::decode(&c).is_err(), "flip {i}.{bit} accepted");
            }
        }
    }

    #[test]
    fn redacted_json_hides_secrets() {
        let b = sample();
        let j = b.to_json_redacted(100);
        assert_eq!(j["wifi_password"], "<redacted>");
        assert_eq!(j["password"], "<redacted>");
        assert!(j["client_key"].is_null());
        assert_eq!(j["client_id"], "sensor-007");
        assert!(!j.to_string().contains("s3cr"));
    }

    #[test]
    fn erased_flash_is_bad_magic() {
        assert_eq!(
            ConfigBlob::decode(&[0xff; 4096]).unwrap_err().code(),
            "bad_magic"
        );
    }

    #[test]
    fn too_large_names_the_biggest_entries() {
        let mut b = sample();
        b.trust = TrustMode::Ca;
        b.fingerprints.clear();
        b.trust_anchors = vec![vec![0x30; 1500]; 3];
        let e = b.encode().unwrap_err();
        assert_eq!(e.code(), "too_large");
        let err: Error = e.into();
        assert!(err.help.unwrap().contains("trust_anchor"));
    }

    #[test]
    fn fingerprint_spellings() {
        let colon = format!("{}ab", "ab:".repeat(19));
        assert_eq!(parse_fingerprint(&colon).unwrap(), [0xab; 20]);
        assert_eq!(parse_fingerprint(&"AB ".repeat(20)).unwrap(), [0xab; 20]);
        assert!(parse_fingerprint("abcd").is_err());
    }
}
