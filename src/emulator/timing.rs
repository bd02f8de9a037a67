//! The emulator's time model: how long the wire and the SPI flash take.
//!
//! The emulator exists to make flashing performance measurable without
//! hardware (`scripts/bench-flash`, docs/TESTING.md "Benchmarks"), so every delay a real ESP-07
//! imposes is modelled explicitly and documented here:
//!
//! * **Wire:** 10 bits per byte (8N1) at the current baud, in both directions,
//!   counted on the SLIP-encoded bytes. The ROM always runs at 115200 (the
//!   ESP8266 ROM has no CHANGE_BAUDRATE, docs/DEVICE.md, "Commands"); the stub
//!   switches after replying to CHANGE_BAUDRATE ("Baud change").
//! * **SPI flash:** datasheet typical values of a Winbond W25Q80DV/W25Q32 class
//!   part, the flash found on ESP-07/07S modules (docs/DEVICE.md, "Reading
//!   the flash ID"):
//!   4 KiB sector erase 30 ms, 64 KiB block erase 150 ms (used for aligned
//!   whole blocks, like the ROM's `SPIEraseArea` and the stub's
//!   `start_next_erase`), 256-byte page program 0.7 ms.
//! * **MD5:** 0.25 s per MiB hashed (flash read plus MD5 on an 80 MHz core).
//! * **Stub start:** OHAI 50 ms after the MEM_END reply (a real ESP8266 took
//!   54 ms, esptool#620; docs/DEVICE.md, "Uploading the stub").
//! * Inflating FLASH_DEFL_DATA and RAM writes are not charged.
//!
//! With `--baud-model off` every duration is zero (fast functional tests).

use std::time::Duration;

/// Durations the emulator charges. `Default` = the documented model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimingModel {
    /// Throttle the wire and charge flash time at all.
    pub enabled: bool,
    pub sector_erase: Duration,
    pub block_erase: Duration,
    pub page_program: Duration,
    /// MD5 cost per MiB hashed.
    pub md5_per_mib: Duration,
    /// Delay between the MEM_END reply and the stub's OHAI.
    pub stub_start: Duration,
}

impl Default for TimingModel {
    fn default() -> Self {
        TimingModel {
            enabled: true,
            sector_erase: Duration::from_millis(30),
            block_erase: Duration::from_millis(150),
            page_program: Duration::from_micros(700),
            md5_per_mib: Duration::from_millis(250),
            stub_start: Duration::from_millis(50),
        }
    }
}

impl TimingModel {
    /// The model with every delay switched off (`--baud-model off`).
    pub fn off() -> Self {
        TimingModel {
            enabled: false,
            ..Default::default()
        }
    }

    /// Time `bytes` take on the wire at `baud` (10 bits a byte).
    pub fn wire(&self, bytes: usize, baud: u32) -> Duration {
        if !self.enabled || baud == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos((bytes as u64) * 10 * 1_000_000_000 / baud as u64)
    }

    /// Time to erase `sectors` 4 KiB sectors and `blocks` 64 KiB blocks.
    pub fn erase(&self, sectors: u32, blocks: u32) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        self.sector_erase * sectors + self.block_erase * blocks
    }

    /// Time to program `pages` 256-byte pages.
    pub fn program(&self, pages: u32) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        self.page_program * pages
    }

    /// Time to hash `bytes` of flash.
    pub fn md5(&self, bytes: u32) -> Duration {
        if !self.enabled {
            return Duration::ZERO;
        }
        Duration::from_nanos(self.md5_per_mib.as_nanos() as u64 * bytes as u64 / (1 << 20))
    }

    pub fn stub_start(&self) -> Duration {
        if self.enabled {
            self.stub_start
        } else {
            Duration::ZERO
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_time_is_ten_bits_a_byte() {
        let t = TimingModel::default();
        // 11520 bytes at 115200 baud = 1 s.
        assert_eq!(t.wire(11_520, 115_200), Duration::from_secs(1));
        assert_eq!(TimingModel::off().wire(11_520, 115_200), Duration::ZERO);
    }

    #[test]
    fn one_mib_of_flash_time() {
        let t = TimingModel::default();
        // 16 block erases + 4096 pages.
        let total = t.erase(0, 16) + t.program(4096);
        assert_eq!(
            total,
            Duration::from_millis(2400) + Duration::from_micros(2_867_200)
        );
    }
}
