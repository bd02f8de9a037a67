//! Board profiles and where things live in flash (docs/DEVICE.md, "Flash
//! layout", "Module hardware").
//!
//! The Arduino core reserves the last 20 KiB: EEPROM at `size - 0x5000`, RF
//! calibration at `size - 0x4000`, SDK Wi-Fi settings from `size - 0x3000`.
//! The per-device config blob lives in the EEPROM sector, so it survives
//! firmware updates and never collides with the sketch.

/// Offset of the config blob (the Arduino EEPROM sector).
pub const fn config_offset(flash_size: u32) -> u32 {
    flash_size - 0x5000
}

/// Size of the config sector.
pub const CONFIG_SECTOR: u32 = 0x1000;

/// A module we know how to flash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Board {
    pub name: &'static str,
    pub flash_size: u32,
    pub description: &'static str,
}

pub const BOARDS: &[Board] = &[
    Board {
        name: "esp07",
        flash_size: 0x100000,
        description: "ESP-07, 1 MB flash (Arduino WifInfo ESP07 entry)",
    },
    Board {
        name: "esp07s",
        flash_size: 0x400000,
        description: "ESP-07S, 4 MB flash (PlatformIO esp07s)",
    },
];

pub fn board(name: &str) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.name.eq_ignore_ascii_case(name))
}

/// The board whose flash size matches a detected size.
pub fn board_for_size(size: u32) -> Option<&'static Board> {
    BOARDS.iter().find(|b| b.flash_size == size)
}

/// Largest firmware that leaves the reserved tail (and so the config sector) intact.
pub const fn max_firmware(flash_size: u32) -> u32 {
    config_offset(flash_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_sector_matches_arduino_flash_map() {
        assert_eq!(config_offset(0x100000), 0xFB000);
        assert_eq!(config_offset(0x400000), 0x3FB000);
        assert_eq!(board("ESP07S").unwrap().flash_size, 0x400000);
        assert_eq!(board_for_size(0x100000).unwrap().name, "esp07");
    }
}
