//! Serial flashes and config updates (`docs/OTA.md`, "Serial flashes"):
//! the blob a serial flash writes carries the device's update number, and
//! once the flash verified, the registry records that the device runs it.
//!
//! A blob written into slot A over serial is the device's committed config
//! from its next boot, whatever it ran before
//! (`firmware-template/CONFIG_FORMAT.md`, "Two slots"); the highest number it
//! accepts afterwards is the blob's `config_version`. So the blob carries the
//! highest number the registry ever issued to the device: every update the
//! device may have seen (a retained message still on the broker included) is
//! at or below it, and the next push issues a number above it. Recording the
//! blob's digest, trust and number as the committed config lets the next
//! push decide from what the device really runs.

use crate::device::blob::{build_blob, ConfigBlob, DeviceIdentity};
use crate::device::registry::ota::{SerialWrite, UpdateState};
use crate::device::registry::{DeviceRecord, Registry};
use crate::error::Result;
use crate::tls::cert;

use super::ota::Fleet;

/// A device's config blob for a serial write, numbered, with what the
/// registry records once it is verified on the module.
pub struct SerialBlob {
    pub blob: ConfigBlob,
    /// The encoded blob (what goes into slot A).
    pub bytes: Vec<u8>,
    pub write: SerialWrite,
}

impl std::fmt::Debug for SerialBlob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialBlob")
            .field("len", &self.bytes.len())
            .field("write", &self.write)
            .finish()
    }
}

/// The config blob device `rec` gets over serial now: the fleet's settings
/// and served trust, its credentials and the update key it holds (a key or
/// password being rolled out over the air is not in it: that update stays
/// for the next push), numbered [`UpdateState::serial_number`].
pub fn serial_blob(fleet: &Fleet, reg: &Registry, rec: &DeviceRecord) -> Result<SerialBlob> {
    let state = reg.update_state(&rec.name)?;
    let mut id = DeviceIdentity::from_record(rec)?;
    id.update_key = Some(state.key.clone());
    let mut blob = build_blob(
        &fleet.config,
        fleet.wifi_password.as_deref(),
        &id,
        &fleet.trust,
    )?;
    // The digest is taken without the number, as for a pushed config.
    let digest = hex::encode(cert::sha256(&blob.encode()?));
    blob.config_version = state.serial_number();
    let bytes = blob.encode()?;
    Ok(SerialBlob {
        write: SerialWrite {
            number: blob.config_version,
            digest,
            trust: Some(fleet.trust_set().to_json()),
            key: state.key,
            secret: id.password.clone(),
        },
        blob,
        bytes,
    })
}

/// Record a verified serial write of `w` to device `name`: its committed
/// config, number and trust, and the updates it voids
/// ([`UpdateState::record_serial`]), with an `update-serial` event.
pub fn record_serial(reg: &Registry, name: &str, w: &SerialWrite) -> Result<UpdateState> {
    reg.modify_update(name, &mut |s| Ok(s.record_serial(w)))
}
