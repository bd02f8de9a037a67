//! A device's config blob, put together from the project's `espmqtt.toml`
//! (fleet settings, trust material) and the registry (identity, secrets).

use crate::device::blob::{build_blob, ConfigBlob, DeviceIdentity};
use crate::device::registry::Registry;
use crate::error::{Error, Result};
use crate::project::ProjectPaths;

/// The config blob of registry device `name` in the project at `paths`:
/// fleet settings from `espmqtt.toml`, secrets from the registry, trust
/// material from the files `[tls]` names. Returns the value and its bytes.
/// A revoked device is refused (its secret is retired; the broker would
/// reject it).
pub fn blob_for_device(paths: &ProjectPaths, name: &str) -> Result<(ConfigBlob, Vec<u8>)> {
    let config = paths.load_config()?;
    let registry = Registry::open(paths)?;
    let record = registry.device(name)?;
    if record.revoked {
        return Err(Error::usage(format!("device {name} is revoked"))
            .with_help("create a new device with `espmqtt device new`, or pick another one"));
    }
    let identity = DeviceIdentity::from_record(&record)?;
    // The trust the project serves: espmqtt.toml's, or the registry's
    // current and staged trust once `trust stage` ran (docs/OTA.md).
    let trust = super::ota::served_trust(&config, &paths.root, &registry)?;
    let wifi_password = config.wifi.resolve_password()?;
    let blob = build_blob(&config, wifi_password.as_deref(), &identity, &trust)?;
    let bytes = blob.encode()?;
    Ok((blob, bytes))
}
