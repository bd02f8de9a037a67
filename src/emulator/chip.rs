//! The chip the emulator claims to be, and the MAC and flash-size values
//! it is configured with.

/// Which chip the ROM claims to be (via the magic register).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Chip {
    Esp8266,
    /// For the "refuse anything but an ESP8266" tests: magic 0x00F01D83
    /// and 4 ROM status bytes; otherwise it behaves like the ESP8266 model.
    Esp32,
}

impl Chip {
    pub fn magic(self) -> u32 {
        match self {
            Chip::Esp8266 => 0xFFF0_C101,
            Chip::Esp32 => 0x00F0_1D83,
        }
    }
}

/// MAC of the real chip whose eFuse words the model reuses (esptool#293).
pub const DEFAULT_MAC: [u8; 6] = [0x5c, 0xcf, 0x7f, 0xc8, 0xcd, 0x8d];

/// `AA:BB:CC:DD:EE:FF` (also `-` separated or bare hex).
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let hex: String = s.chars().filter(|c| !matches!(c, ':' | '-')).collect();
    if hex.len() != 12 {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, b) in mac.iter_mut().enumerate() {
        *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(mac)
}

pub fn format_mac(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// MAC + k (carrying across bytes, within the 24-bit NIC part).
pub fn mac_plus(mac: [u8; 6], k: u32) -> [u8; 6] {
    let nic = u32::from_be_bytes([0, mac[3], mac[4], mac[5]]).wrapping_add(k) & 0xFF_FFFF;
    let b = nic.to_be_bytes();
    [mac[0], mac[1], mac[2], b[1], b[2], b[3]]
}

/// `512KB`, `1MB`, `4MB`, `4M`, `0x100000`, … → bytes.
pub fn parse_flash_size(s: &str) -> Option<u32> {
    let t = s.trim().to_ascii_uppercase();
    if let Some(hex) = t.strip_prefix("0X") {
        return u32::from_str_radix(hex, 16).ok();
    }
    let t = t.trim_end_matches('B');
    let (num, mult) = if let Some(n) = t.strip_suffix('M') {
        (n, 1u32 << 20)
    } else if let Some(n) = t.strip_suffix('K') {
        (n, 1u32 << 10)
    } else {
        (t, 1)
    };
    num.parse::<u32>().ok()?.checked_mul(mult)
}

/// Flash size encoded in an RDID value (`size_id = id >> 16`, esptool
/// `DETECTED_FLASH_SIZES`, docs/DEVICE.md, "Reading the flash ID").
pub fn size_from_flash_id(id: u32) -> Option<u32> {
    let size_id = (id >> 16) & 0xFF;
    match size_id {
        0x12..=0x19 => Some(1 << (size_id - 0x12 + 18)),
        0x32..=0x39 => Some(1 << (size_id - 0x32 + 18)),
        _ => None,
    }
}

/// A Winbond-like RDID value for a flash size (`EF 40 xx`).
pub fn flash_id_for_size(size: u32) -> u32 {
    let log2 = 31 - size.max(1 << 18).leading_zeros();
    0x4000 | 0xEF | ((log2 - 18 + 0x12) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ids() {
        assert_eq!(parse_flash_size("1MB"), Some(0x10_0000));
        assert_eq!(parse_flash_size("4MB"), Some(0x40_0000));
        assert_eq!(parse_flash_size("512KB"), Some(0x8_0000));
        assert_eq!(parse_flash_size("0x100000"), Some(0x10_0000));
        assert_eq!(parse_flash_size("lots"), None);
        assert_eq!(flash_id_for_size(0x10_0000), 0x14_40EF);
        assert_eq!(flash_id_for_size(0x40_0000), 0x16_40EF);
        assert_eq!(size_from_flash_id(0x14_40EF), Some(0x10_0000));
        assert_eq!(size_from_flash_id(0x16_40EF), Some(0x40_0000));
    }

    #[test]
    fn macs() {
        assert_eq!(parse_mac("5C:CF:7F:C8:CD:8D"), Some(DEFAULT_MAC));
        assert_eq!(parse_mac("5ccf7fc8cd8d"), Some(DEFAULT_MAC));
        assert_eq!(parse_mac("5C:CF:7F"), None);
        assert_eq!(parse_mac("zz:cf:7f:c8:cd:8d"), None);
        assert_eq!(mac_plus([1, 2, 3, 0, 0, 0xFF], 1), [1, 2, 3, 0, 1, 0]);
        assert_eq!(format_mac(DEFAULT_MAC), "5c:cf:7f:c8:cd:8d");
    }
}
