//! The two config slots on a module and their state records, as the firmware
//! reads them (`firmware-template/CONFIG_FORMAT.md`, "Two slots"; the
//! firmware's side is `firmware-template/espmqtt/config_update.cpp`). Used by
//! `flash --read-config` to show both copies and which one the module runs.

use serde::Serialize;

use super::blob::ConfigBlob;

/// Size of one slot (a flash sector).
pub const SLOT_SIZE: usize = 0x1000;
/// Offset of the state record inside a slot.
pub const RECORD_OFFSET: usize = SLOT_SIZE - 128;
/// Slot B sits one sector below slot A.
pub const SLOT_B_BELOW_A: u32 = 0x1000;

const MAGIC: u32 = 0x5351_4d45; // "EMQS"
const UNSET: u32 = 0xffff_ffff;

/// What one slot holds.
#[derive(Debug, Clone, Serialize)]
pub struct Slot {
    pub slot: &'static str,
    pub offset: u32,
    /// `empty`, `bare` (written over serial), `record`, `broken`.
    pub kind: &'static str,
    /// `committed`, `staged`, `rolled_back`, `superseded` (an older or
    /// ignored record), `empty` or `broken`; `active` tells which one runs.
    pub state: &'static str,
    pub active: bool,
    /// Update number (a bare blob: its `config_version`).
    pub update: Option<u32>,
    pub sequence: Option<u32>,
    pub tries: u8,
    pub acknowledged: bool,
    pub length: Option<usize>,
    #[serde(skip)]
    pub blob: Option<ConfigBlob>,
    #[serde(skip)]
    base: Option<(u32, u32)>,
    #[serde(skip)]
    blob_id: Option<(u32, u32)>,
    #[serde(skip)]
    committed: bool,
    #[serde(skip)]
    rolled_back: bool,
}

fn word(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn parse(sector: &[u8], slot: &'static str, offset: u32) -> Slot {
    let mut s = Slot {
        slot,
        offset,
        kind: "broken",
        state: "broken",
        active: false,
        update: None,
        sequence: None,
        tries: 0,
        acknowledged: false,
        length: None,
        blob: None,
        base: None,
        blob_id: None,
        committed: false,
        rolled_back: false,
    };
    if sector.len() < SLOT_SIZE {
        return s;
    }
    let rec = &sector[RECORD_OFFSET..];
    let len = word(rec, 12) as usize;
    let header_ok = word(rec, 0) == MAGIC
        && crc32fast::hash(&rec[..28]) == word(rec, 28)
        && (12..=RECORD_OFFSET).contains(&len);
    if header_ok {
        s.sequence = Some(word(rec, 4));
        s.update = Some(word(rec, 8));
        s.base = Some((word(rec, 20), word(rec, 24)));
        s.tries = (0..3).filter(|k| word(rec, 32 + 4 * k) != UNSET).count() as u8;
        s.committed = word(rec, 44) != UNSET;
        s.rolled_back = word(rec, 48) != UNSET;
        s.acknowledged = word(rec, 52) != UNSET;
        let crc = crc32fast::hash(&sector[..len]);
        if crc == word(rec, 16) {
            if let Ok(b) = ConfigBlob::decode(&sector[..len]) {
                s.kind = "record";
                s.length = Some(len);
                s.blob_id = Some((len as u32, crc));
                s.blob = Some(b);
            }
        }
        return s;
    }
    let stored = ConfigBlob::stored_length(sector).min(SLOT_SIZE);
    let header_free = rec[..32].iter().all(|&b| b == 0xff) || stored > RECORD_OFFSET;
    if slot == "A" && header_free {
        if let Ok(b) = ConfigBlob::decode(&sector[..stored]) {
            s.kind = "bare";
            s.update = Some(b.config_version);
            s.length = Some(stored);
            s.blob_id = Some((stored as u32, crc32fast::hash(&sector[..stored])));
            s.blob = Some(b);
            return s;
        }
    }
    if sector.iter().all(|&b| b == 0xff) {
        s.kind = "empty";
        s.state = "empty";
    }
    s
}

/// Both slots from the 8 KiB at slot B's offset (slot B, then slot A), with
/// the state each is in and the one the module would run, by the firmware's
/// boot rules. Returns (slots, index of the active slot).
pub fn read_slots(bytes: &[u8], slot_a: u32) -> ([Slot; 2], Option<usize>) {
    let (b_bytes, a_bytes) = bytes.split_at(SLOT_SIZE.min(bytes.len()));
    let mut s = [
        parse(a_bytes, "A", slot_a),
        parse(b_bytes, "B", slot_a - SLOT_B_BELOW_A),
    ];
    for x in s.iter_mut() {
        if x.kind == "record" || x.sequence.is_some() {
            x.state = "superseded";
        }
    }
    let mut committed: Option<usize> = None;
    let mut staged: Option<usize> = None;
    if s[0].kind == "bare" {
        committed = Some(0);
        s[0].state = "committed";
        let follows = s[1].kind == "record" && s[1].base == s[0].blob_id;
        if follows && s[1].committed {
            committed = Some(1);
            s[0].state = "superseded";
        } else if follows && !s[1].rolled_back {
            staged = Some(1);
        }
    } else {
        for i in 0..2 {
            if s[i].kind == "record"
                && s[i].committed
                && committed.is_none_or(|c| s[i].sequence > s[c].sequence)
            {
                committed = Some(i);
            }
        }
        if let Some(c) = committed {
            let o = 1 - c;
            if s[o].kind == "record"
                && !s[o].committed
                && !s[o].rolled_back
                && s[o].sequence > s[c].sequence
            {
                staged = Some(o);
            }
        }
    }
    if let Some(c) = committed {
        s[c].state = "committed";
    }
    for x in s.iter_mut() {
        if x.sequence.is_some() && x.rolled_back {
            x.state = "rolled_back";
        }
    }
    let mut active = committed;
    if let Some(t) = staged {
        s[t].state = "staged";
        if s[t].tries < 3 {
            active = Some(t);
        }
    }
    if let Some(a) = active {
        s[a].active = true;
    }
    (s, active)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::blob::UpdateKey;
    use crate::tls::TrustMode;

    fn blob(ssid: &str, cv: u32) -> Vec<u8> {
        ConfigBlob {
            wifi_ssid: ssid.into(),
            broker_host: "b".into(),
            client_id: "c".into(),
            topic_prefix: "t".into(),
            trust: TrustMode::Insecure,
            config_version: cv,
            update_key: Some(UpdateKey([1; 32])),
            ..ConfigBlob::default()
        }
        .encode()
        .unwrap()
    }

    fn record(sector: &mut [u8], blob: &[u8], seq: u32, n: u32, base: &[u8]) {
        sector[..blob.len()].copy_from_slice(blob);
        let mut h = Vec::new();
        for w in [
            MAGIC,
            seq,
            n,
            blob.len() as u32,
            crc32fast::hash(blob),
            base.len() as u32,
            crc32fast::hash(base),
        ] {
            h.extend_from_slice(&w.to_le_bytes());
        }
        let check = crc32fast::hash(&h);
        h.extend_from_slice(&check.to_le_bytes());
        sector[RECORD_OFFSET..RECORD_OFFSET + 32].copy_from_slice(&h);
    }

    #[test]
    fn bare_staged_committed_and_serial_override() {
        let a = blob("a", 3);
        let b = blob("b", 4);
        let mut img = vec![0xffu8; 2 * SLOT_SIZE];
        img[SLOT_SIZE..SLOT_SIZE + a.len()].copy_from_slice(&a);
        let (s, active) = read_slots(&img, 0xFB000);
        assert_eq!(
            (s[0].kind, s[0].state, active),
            ("bare", "committed", Some(0))
        );
        assert_eq!(s[1].state, "empty");
        assert_eq!(s[1].offset, 0xFA000);
        record(&mut img[..SLOT_SIZE], &b, 1, 4, &a);
        let (s, active) = read_slots(&img, 0xFB000);
        assert_eq!((s[1].state, active), ("staged", Some(1)));
        // Committed after a try.
        img[RECORD_OFFSET + 32..RECORD_OFFSET + 36].fill(0);
        img[RECORD_OFFSET + 44..RECORD_OFFSET + 48].fill(0);
        let (s, active) = read_slots(&img, 0xFB000);
        assert_eq!(
            (s[0].state, s[1].state, active),
            ("superseded", "committed", Some(1))
        );
        assert_eq!(s[1].tries, 1);
        assert_eq!(s[1].update, Some(4));
        // A serial write of slot A wins.
        let c = blob("serial", 0);
        img[SLOT_SIZE..].fill(0xff);
        img[SLOT_SIZE..SLOT_SIZE + c.len()].copy_from_slice(&c);
        let (s, active) = read_slots(&img, 0xFB000);
        assert_eq!(
            (s[0].state, s[1].state, active),
            ("committed", "superseded", Some(0))
        );
        // Rolled back.
        img[SLOT_SIZE..].fill(0xff);
        img[SLOT_SIZE..SLOT_SIZE + a.len()].copy_from_slice(&a);
        img[RECORD_OFFSET + 44..RECORD_OFFSET + 48].fill(0xff);
        let mut fresh = vec![0xffu8; SLOT_SIZE];
        record(&mut fresh, &b, 1, 4, &a);
        img[..SLOT_SIZE].copy_from_slice(&fresh);
        img[RECORD_OFFSET + 48..RECORD_OFFSET + 52].copy_from_slice(&0x0100_003eu32.to_le_bytes());
        let (s, active) = read_slots(&img, 0xFB000);
        assert_eq!(
            (s[0].state, s[1].state, active),
            ("committed", "rolled_back", Some(0))
        );
        // Broken blob behind a good header.
        img[3] ^= 0xff;
        let (s, _) = read_slots(&img, 0xFB000);
        assert_eq!(s[1].kind, "broken");
    }
}
