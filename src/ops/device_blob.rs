//! A device's config blob, put together from the project's `espmqtt.toml`
//! (fleet settings, trust material) and the registry (identity, secrets,
//! update key and number).

use crate::device::blob::ConfigBlob;
use crate::device::registry::Registry;
use crate::error::{Error, Result};
use crate::project::ProjectPaths;

use super::ota_serial::SerialBlob;

/// The config blob of registry device `name` in the project at `paths`:
/// fleet settings from `espmqtt.toml`, secrets from the registry, trust
/// material from the files `[tls]` names. Returns the value and its bytes.
/// A revoked device is refused (its secret is retired; the broker would
/// reject it).
pub fn blob_for_device(paths: &ProjectPaths, name: &str) -> Result<(ConfigBlob, Vec<u8>)> {
    let s = serial_blob_for_device(paths, name)?;
    Ok((s.blob, s.bytes))
}

/// [`blob_for_device`] with what a serial flash records in the registry
/// once the blob is verified on the module
/// ([`super::ota_serial::record_serial`]).
pub fn serial_blob_for_device(paths: &ProjectPaths, name: &str) -> Result<SerialBlob> {
    let registry = Registry::open(paths)?;
    let record = registry.device(name)?;
    if record.revoked {
        return Err(Error::usage(format!("device {name} is revoked"))
            .with_help("create a new device with `espmqtt device new`, or pick another one"));
    }
    // The trust the project serves: espmqtt.toml's, or the registry's
    // current and staged trust once `trust stage` ran (docs/OTA.md).
    let fleet = super::ota::Fleet::load(paths, &registry)?;
    super::ota_serial::serial_blob(&fleet, &registry, &record)
}
