//! A device's config blob, put together from the project's `espmqtt.toml`
//! (fleet settings, trust material) and the registry (identity, secrets,
//! update key and number).

use crate::device::blob::ConfigBlob;
use crate::device::registry::{Location, Registry};
use crate::error::{Error, Result};
use crate::project::ProjectPaths;

use super::ota_serial::SerialBlob;

/// Outside a project with no registry: the usage error every device command
/// gives.
pub fn no_project() -> Error {
    Error::usage(format!(
        "no espmqtt project here: no {} in this directory or above, and no registry",
        crate::project::CONFIG_FILE
    ))
    .with_help(
        "run this in the project's directory, pass --config PATH, or create the \
         first device with `espmqtt device new NAME`",
    )
}

/// Open the project's registry to act on the existing device `name`,
/// creating nothing: with no registry file yet, no device exists, so the
/// error names `name` (in a project) or says there is no project here.
pub fn open_for_device(paths: &ProjectPaths, name: &str) -> Result<Registry> {
    if let Location::Sqlite(p) = Location::of_project(paths)? {
        if !p.exists() {
            if !paths.has_config() {
                return Err(no_project());
            }
            return Err(crate::device::registry::unknown_device(name));
        }
    }
    Registry::open(paths)
}

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
    let registry = open_for_device(paths, name)?;
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
