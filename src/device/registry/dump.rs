//! A whole registry as one JSON document: `espmqtt device export --dump`
//! writes it, `espmqtt device import` loads it into an empty registry of
//! either backend. Lossless: every device, every credential (current secret
//! and the dates of retired ones), cached hashes, certificates with their
//! keys, flash records and the event log, in order. Claims are not carried
//! over (they belong to running flashers).
//!
//! It holds every secret: it is only ever written to a file of mode 0600,
//! and `Debug` shows no secret.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

use super::Event;

/// Value of the `format` field.
pub const FORMAT: &str = "espmqtt-registry-dump";

/// The whole registry.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Dump {
    pub format: String,
    /// Schema version of the registry it was taken from.
    pub schema_version: u32,
    pub devices: Vec<DumpDevice>,
    pub events: Vec<Event>,
    /// The trust the project serves and served (`docs/OTA.md`).
    #[serde(default)]
    pub trust: Vec<super::ota::TrustItem>,
}

impl std::fmt::Debug for Dump {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dump")
            .field("schema_version", &self.schema_version)
            .field("devices", &self.devices.len())
            .field("events", &self.events.len())
            .finish()
    }
}

/// One device with its whole history.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DumpDevice {
    pub name: String,
    pub client_id: String,
    pub username: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub mac: Option<String>,
    pub chip_id: Option<String>,
    pub flash_size: Option<u64>,
    pub last_image_sha256: Option<String>,
    pub last_flashed_at: Option<String>,
    /// Oldest first; the current one has a secret and no `retired_at`.
    pub credentials: Vec<DumpCredential>,
    /// Oldest first.
    pub certificates: Vec<DumpCertificate>,
    /// Config updates over MQTT: key, numbers, last acknowledgement. A
    /// dump from before updates existed has none; loading gives the device
    /// a fresh key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update: Option<super::ota::DumpUpdate>,
}

/// A credential: the current one carries its secret, retired ones only dates.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DumpCredential {
    pub secret: Option<String>,
    pub created_at: String,
    pub retired_at: Option<String>,
    /// Cached `$7$` hashes by PBKDF2 iteration count.
    pub hashes: Vec<(u32, String)>,
}

/// A client certificate and its private key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DumpCertificate {
    pub serial: String,
    pub key_type: String,
    pub not_before: String,
    pub not_after: String,
    pub cert_pem: String,
    pub key_pem: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

impl Event {
    fn check(&self) -> Result<()> {
        if self.kind.is_empty() {
            return Err(Error::usage("an event of the dump has no kind"));
        }
        Ok(())
    }
}

impl Dump {
    pub fn new(devices: Vec<DumpDevice>, events: Vec<Event>) -> Dump {
        Dump {
            format: FORMAT.into(),
            schema_version: super::schema_version(),
            devices,
            events,
            trust: Vec::new(),
        }
    }

    /// Parse and check a dump before anything is written: the format, a
    /// schema this build knows, unique names, valid names, at most one
    /// current secret per device and one for each active device.
    pub fn parse(text: &str) -> Result<Dump> {
        let d: Dump = serde_json::from_str(text).map_err(|e| {
            Error::usage(format!("not an espmqtt registry dump: {e}"))
                .with_help("make one with `espmqtt device export --dump FILE`")
        })?;
        if d.format != FORMAT {
            return Err(Error::usage(format!(
                "not an espmqtt registry dump (format {:?})",
                d.format
            )));
        }
        if d.schema_version > super::schema_version() {
            return Err(Error::usage(format!(
                "the dump has schema version {}; this espmqtt knows up to {}",
                d.schema_version,
                super::schema_version()
            ))
            .with_help("it was written by a newer espmqtt: upgrade espmqtt"));
        }
        let mut seen = std::collections::HashSet::new();
        let mut macs = std::collections::HashSet::new();
        for dev in &d.devices {
            crate::device::secret::validate_name(&dev.name)?;
            if !seen.insert(dev.name.as_str()) {
                return Err(Error::usage(format!(
                    "the dump holds device {:?} twice",
                    dev.name
                )));
            }
            if let Some(m) = &dev.mac {
                if !macs.insert(m.to_ascii_lowercase()) {
                    return Err(Error::usage(format!(
                        "the dump binds module {m} to two devices"
                    )));
                }
            }
            let current = dev
                .credentials
                .iter()
                .filter(|c| c.retired_at.is_none())
                .count();
            for c in &dev.credentials {
                if c.retired_at.is_none() != c.secret.is_some() {
                    return Err(Error::usage(format!(
                        "device {:?}: a credential must have either a secret or a retirement date",
                        dev.name
                    )));
                }
            }
            if current > 1 || (current == 0 && dev.revoked_at.is_none()) {
                return Err(Error::usage(format!(
                    "device {:?} needs exactly one current secret in the dump",
                    dev.name
                )));
            }
        }
        for e in &d.events {
            e.check()?;
        }
        Ok(d)
    }
}

/// The error for loading into a registry that already holds something.
pub(crate) fn not_empty(location: &str) -> Error {
    Error::usage(format!(
        "the registry {location} is not empty; a dump is only loaded into an empty registry"
    ))
    .with_help("point ESPMQTT_REGISTRY (or `registry` in espmqtt.toml) at a new, empty registry")
}
