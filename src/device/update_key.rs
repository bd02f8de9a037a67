//! A device's key for config updates over MQTT (`docs/OTA.md`): 32 bytes
//! from the CSPRNG, in the config blob (entry 23) and the registry, never
//! shown by `Debug`.

use crate::error::Error;

/// Length of a device's update key (HMAC-SHA256 key, CONFIG_FORMAT.md).
pub const UPDATE_KEY_LEN: usize = 32;

/// The 32-byte key a device authenticates config updates with. Its `Debug`
/// never shows the bytes; [`UpdateKey::to_hex`] does, for the callers that
/// were asked to (`--show-secrets`, the blob JSON).
#[derive(Clone, PartialEq, Eq)]
pub struct UpdateKey(pub [u8; UPDATE_KEY_LEN]);

impl UpdateKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> crate::error::Result<UpdateKey> {
        let mut k = [0u8; UPDATE_KEY_LEN];
        getrandom::getrandom(&mut k).map_err(|e| {
            Error::runtime(format!("the system random number generator failed: {e}"))
        })?;
        Ok(UpdateKey(k))
    }

    /// 64 lower-case hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parse 64 hex digits (either case).
    pub fn from_hex(s: &str) -> Option<UpdateKey> {
        let v = hex::decode(s.trim()).ok()?;
        <[u8; UPDATE_KEY_LEN]>::try_from(v.as_slice())
            .ok()
            .map(UpdateKey)
    }
}

impl std::fmt::Debug for UpdateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UpdateKey(<redacted>)")
    }
}
