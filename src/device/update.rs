//! Config updates over MQTT: the message a host publishes on
//! `<topic_prefix>/<client_id>/config` and the acknowledgement a device
//! publishes on `<topic_prefix>/<client_id>/config/ack`.
//!
//! The format (`firmware-template/CONFIG_FORMAT.md`, "Config updates over
//! MQTT"; the operator's view is `docs/OTA.md`):
//!
//! ```text
//! "EMQU" | version 1 | n | client id (n bytes) | N (u32 LE) | L (u16 LE) |
//! config blob (L bytes) | HMAC-SHA256(update key, everything before)
//! ```
//!
//! The device verifies it with the firmware's own C++
//! (`firmware-template/espmqtt/config_update.cpp`); the shared vectors in
//! `tests/data/updates/` hold both sides to the same bytes and the same
//! rejection reasons.
//!
//! API for other modules:
//! - [`encode_message`]: an update message, refusing what the device would
//!   refuse for its size;
//! - [`Ack::parse`]: one acknowledgement line;
//! - [`config_topic`] / [`ack_topic`]: where they travel.

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use crate::error::{Error, Result};

use super::update_key::UpdateKey;

/// First four bytes of every update message.
pub const MAGIC: [u8; 4] = *b"EMQU";
/// The message version this build writes.
pub const VERSION: u8 = 1;
/// Client ids are 1..=128 bytes (the blob's `client_id` limits).
pub const MAX_CLIENT_ID: usize = 128;
/// Bytes of a message around the client id and the blob.
pub const OVERHEAD: usize = 44;
/// The longest message a device accepts: 44 + 128 + 4096.
pub const MAX_MESSAGE_LEN: usize = OVERHEAD + MAX_CLIENT_ID + 4096;
/// The largest blob a device can take over the air: each config slot keeps
/// its last 128 bytes for the slot's state record
/// (`firmware-template/CONFIG_FORMAT.md`); a device answers a bigger blob
/// with `bad_blob:too_large`.
pub const MAX_PUSH_BLOB_LEN: usize = 4096 - 128;
/// A blob is at least its 12-byte header (CONFIG_FORMAT.md).
pub const MIN_BLOB_LEN: usize = 12;
/// Length of the HMAC-SHA256 tag.
pub const MAC_LEN: usize = 32;

/// `<prefix>/<client_id>/config`: where a device's updates are published.
pub fn config_topic(prefix: &str, client_id: &str) -> String {
    format!("{prefix}/{client_id}/config")
}

/// `<prefix>/<client_id>/config/ack`: where the device acknowledges them.
pub fn ack_topic(prefix: &str, client_id: &str) -> String {
    format!("{prefix}/{client_id}/config/ack")
}

/// HMAC-SHA256 of `data` under `key`.
pub fn mac(key: &UpdateKey, data: &[u8]) -> [u8; MAC_LEN] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&key.0)
        .expect("HMAC-SHA256 takes keys of any length");
    m.update(data);
    m.finalize().into_bytes().into()
}

/// The update message carrying `blob` as update number `number` for the
/// device `client_id`, authenticated with the key of the config the device
/// has committed.
///
/// Refused (usage error, exit 2): an empty or over-long client id, number 0,
/// a blob shorter than a header or longer than [`MAX_PUSH_BLOB_LEN`], a
/// message over [`MAX_MESSAGE_LEN`].
pub fn encode_message(
    client_id: &str,
    number: u32,
    blob: &[u8],
    key: &UpdateKey,
) -> Result<Vec<u8>> {
    let id = client_id.as_bytes();
    if id.is_empty() || id.len() > MAX_CLIENT_ID || id.contains(&0) {
        return Err(Error::usage(format!(
            "client id {client_id:?} cannot be carried in an update (1..=128 bytes, no NUL)"
        )));
    }
    if number == 0 {
        return Err(Error::usage(
            "update number 0 is reserved for serial flashing",
        ));
    }
    if blob.len() < MIN_BLOB_LEN {
        return Err(Error::usage(format!(
            "a {}-byte config blob is shorter than its own header",
            blob.len()
        )));
    }
    if blob.len() > MAX_PUSH_BLOB_LEN {
        return Err(Error::usage(format!(
            "the config blob is {} bytes; a device takes at most {MAX_PUSH_BLOB_LEN} over the air",
            blob.len()
        ))
        .with_help(
            "the device keeps a state record next to the config; make the config smaller \
             (fewer trust anchors, `pubkey` or `fingerprint` trust) or flash it over serial",
        ));
    }
    let total = OVERHEAD + id.len() + blob.len();
    if total > MAX_MESSAGE_LEN {
        return Err(Error::usage(format!(
            "the update message would be {total} bytes, more than the {MAX_MESSAGE_LEN} a device accepts"
        )));
    }
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&MAGIC);
    out.push(VERSION);
    out.push(id.len() as u8);
    out.extend_from_slice(id);
    out.extend_from_slice(&number.to_le_bytes());
    out.extend_from_slice(&(blob.len() as u16).to_le_bytes());
    out.extend_from_slice(blob);
    let tag = mac(key, &out);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// The readable fields of a message (no MAC check): for status views and
/// tests. `None` when it is not a well-formed version-1 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageHeader {
    pub client_id: String,
    pub number: u32,
    pub blob_len: usize,
}

impl MessageHeader {
    pub fn parse(msg: &[u8]) -> Option<MessageHeader> {
        if msg.len() < OVERHEAD + 1 || msg[0..4] != MAGIC || msg[4] != VERSION {
            return None;
        }
        let n = usize::from(msg[5]);
        if n == 0 || n > MAX_CLIENT_ID || msg.len() < OVERHEAD + n {
            return None;
        }
        let client_id = std::str::from_utf8(&msg[6..6 + n]).ok()?.to_string();
        let number = u32::from_le_bytes(msg[6 + n..10 + n].try_into().ok()?);
        let blob_len = usize::from(u16::from_le_bytes([msg[10 + n], msg[11 + n]]));
        if msg.len() != OVERHEAD + n + blob_len {
            return None;
        }
        Some(MessageHeader {
            client_id,
            number,
            blob_len,
        })
    }
}

/// What a device did with an update.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AckResult {
    /// Verified and written to the spare slot; tried on the next connection.
    Staged,
    /// The broker accepted the device with it; it is the device's config now.
    Committed,
    /// The device could not connect with it and went back to the last
    /// committed config.
    RolledBack,
    /// Refused; nothing changed on the device.
    Rejected,
}

impl AckResult {
    pub fn as_str(self) -> &'static str {
        match self {
            AckResult::Staged => "staged",
            AckResult::Committed => "committed",
            AckResult::RolledBack => "rolled_back",
            AckResult::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> Option<AckResult> {
        Some(match s {
            "staged" => AckResult::Staged,
            "committed" => AckResult::Committed,
            "rolled_back" => AckResult::RolledBack,
            "rejected" => AckResult::Rejected,
            _ => return None,
        })
    }
}

/// One acknowledgement: `{"update":N,"result":"…","reason":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ack {
    pub update: u32,
    pub result: AckResult,
    pub reason: String,
}

impl Ack {
    /// Parse an acknowledgement payload. `None` for anything else (the
    /// payload comes from the network; it is never trusted further).
    pub fn parse(payload: &[u8]) -> Option<Ack> {
        #[derive(serde::Deserialize)]
        struct Raw {
            update: u32,
            result: String,
            #[serde(default)]
            reason: String,
        }
        if payload.len() > 1024 {
            return None;
        }
        let raw: Raw = serde_json::from_slice(payload).ok()?;
        Some(Ack {
            update: raw.update,
            result: AckResult::parse(&raw.result)?,
            reason: raw.reason,
        })
    }

    /// The exact line a device prints (keys in order, no spaces).
    pub fn to_line(&self) -> String {
        format!(
            "{{\"update\":{},\"result\":\"{}\",\"reason\":{}}}",
            self.update,
            self.result.as_str(),
            serde_json::Value::String(self.reason.clone())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> UpdateKey {
        UpdateKey(std::array::from_fn(|i| i as u8))
    }

    #[test]
    fn layout_and_mac() {
        let blob = vec![7u8; 20];
        let m = encode_message("dev", 5, &blob, &key()).unwrap();
        assert_eq!(m.len(), OVERHEAD + 3 + 20);
        assert_eq!(&m[0..4], b"EMQU");
        assert_eq!(m[4], 1);
        assert_eq!(m[5], 3);
        assert_eq!(&m[6..9], b"dev");
        assert_eq!(&m[9..13], &5u32.to_le_bytes());
        assert_eq!(&m[13..15], &20u16.to_le_bytes());
        let body = m.len() - MAC_LEN;
        assert_eq!(&m[body..], &mac(&key(), &m[..body]));
        let h = MessageHeader::parse(&m).unwrap();
        assert_eq!((h.client_id.as_str(), h.number, h.blob_len), ("dev", 5, 20));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        // RFC 4231 test case 2 uses the key "Jefe"; check the primitive with
        // a 32-byte key built from it instead: HMAC pads keys with zeros.
        let mut k = [0u8; 32];
        k[..4].copy_from_slice(b"Jefe");
        let tag = mac(&UpdateKey(k), b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(tag),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn limits_are_refused() {
        let k = key();
        assert!(encode_message("", 1, &[0; 12], &k).is_err());
        assert!(encode_message(&"c".repeat(129), 1, &[0; 12], &k).is_err());
        assert!(encode_message("c", 0, &[0; 12], &k).is_err());
        assert!(encode_message("c", 1, &[0; 11], &k).is_err());
        assert!(encode_message("c", 1, &vec![0; MAX_PUSH_BLOB_LEN + 1], &k).is_err());
        let max = encode_message(&"c".repeat(128), 1, &vec![0; MAX_PUSH_BLOB_LEN], &k).unwrap();
        assert!(max.len() <= MAX_MESSAGE_LEN);
    }

    #[test]
    fn acks_round_trip_and_junk_is_refused() {
        let a = Ack {
            update: 4,
            result: AckResult::Rejected,
            reason: "bad_mac".into(),
        };
        assert_eq!(
            a.to_line(),
            r#"{"update":4,"result":"rejected","reason":"bad_mac"}"#
        );
        assert_eq!(Ack::parse(a.to_line().as_bytes()), Some(a));
        assert_eq!(Ack::parse(b"online"), None);
        assert_eq!(Ack::parse(br#"{"update":1,"result":"eaten"}"#), None);
    }
}
