//! A device's config blob, put together from the project's `espmqtt.toml`
//! (fleet settings, trust material) and the registry (identity, secrets,
//! update key and number).

use crate::device::blob::ConfigBlob;
use crate::device::registry::{DeviceRecord, Location, Registry};
use crate::error::{Error, ErrorKind, Result};
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

/// `registry.device(name)`; when there is no such device, the help names
/// what was probably meant: the closest existing name (a typo such as
/// `sensor-01`), or the commands that take a range (`sensor-001..sensor-020`).
pub fn find_device(registry: &Registry, name: &str) -> Result<DeviceRecord> {
    registry.device(name).map_err(|e| {
        if e.kind != ErrorKind::Usage {
            return e;
        }
        match unknown_name_hint(registry, name) {
            Some(h) => e.with_help(h),
            None => e,
        }
    })
}

fn unknown_name_hint(registry: &Registry, name: &str) -> Option<String> {
    if name.contains("..") {
        return Some(format!(
            "this command takes one device name; a range such as {name} works with \
             `device push` and `flash --devices`"
        ));
    }
    let devices = registry.devices().ok()?;
    if devices.iter().any(|d| d.name == name) {
        return None;
    }
    let (_, best) = devices
        .iter()
        .map(|d| (edit_distance(name, &d.name), &d.name))
        .filter(|(k, _)| *k <= 2)
        .min()?;
    Some(format!(
        "did you mean {best}? (`espmqtt device list` shows them all)"
    ))
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
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
    let record = find_device(&registry, name)?;
    if record.revoked {
        return Err(Error::usage(format!("device {name} is revoked"))
            .with_help("create a new device with `espmqtt device new`, or pick another one"));
    }
    // The trust the project serves: espmqtt.toml's, or the registry's
    // current and staged trust once `trust stage` ran (docs/OTA.md).
    let fleet = super::ota::Fleet::load(paths, &registry)?;
    super::ota_serial::serial_blob(&fleet, &registry, &record)
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn edit_distance_counts_single_character_edits() {
        assert_eq!(edit_distance("sensor-01", "sensor-001"), 1);
        assert_eq!(edit_distance("sensor-001", "sensor-001"), 0);
        assert_eq!(edit_distance("snesor-001", "sensor-001"), 2);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitchen", "garage"), 6);
    }
}
