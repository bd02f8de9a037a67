//! The register file READ_REG / WRITE_REG see: chip magic, eFuse (MAC),
//! UART divider and the SPI0 user-command engine that both esptool and
//! espflash 2.1 drive to read the flash ID (docs/DEVICE.md, "Registers",
//! "Reading the flash ID").

use std::collections::HashMap;

use super::chip::Chip;

/// Chip-detect magic register.
pub const MAGIC_REG: u32 = 0x4000_1000;
/// eFuse words 0–3.
pub const EFUSE0: u32 = 0x3FF0_0050;
pub const EFUSE1: u32 = 0x3FF0_0054;
pub const EFUSE2: u32 = 0x3FF0_0058;
pub const EFUSE3: u32 = 0x3FF0_005C;
/// UART0 clock divider (baud = 52 MHz / div with a 26 MHz crystal).
pub const UART_CLKDIV: u32 = 0x6000_0014;
/// SPI0 registers.
pub const SPI_BASE: u32 = 0x6000_0200;
pub const SPI_CMD: u32 = SPI_BASE;
pub const SPI_ADDR: u32 = SPI_BASE + 0x04;
pub const SPI_USR: u32 = SPI_BASE + 0x1C;
pub const SPI_USR1: u32 = SPI_BASE + 0x20;
pub const SPI_USR2: u32 = SPI_BASE + 0x24;
pub const SPI_W0: u32 = SPI_BASE + 0x40;
/// `SPI_CMD_USR`: start a user command (bit 18, in CMD; espflash polls USR).
pub const SPI_CMD_USR: u32 = 1 << 18;
const SPI_USR_MISO: u32 = 1 << 28;
const SPI_USR_ADDR: u32 = 1 << 30;

/// UART clock with the ESP-07's 26 MHz crystal (APB = 2 × 26 MHz).
pub const UART_CLOCK_HZ: u32 = 52_000_000;

/// eFuse words that make esptool/espflash report `mac` (inverse of esptool
/// `ESP8266ROM.read_mac`, docs/DEVICE.md, "Registers"). The defaults come from
/// a real chip (esptool#293): MAC 5c:cf:7f:c8:cd:8d.
pub fn efuses_for_mac(mac: [u8; 6]) -> [u32; 4] {
    // Keep the rest of the real trace's bits (chip id bits, no ESP8285
    // flags: bit 4 and bit 80 clear → "ESP8266EX").
    let mac0 = 0x00C5_0000 | (mac[5] as u32) << 24;
    let tail = (mac[3] as u32) << 8 | mac[4] as u32;
    let (mac1, mac3) = match [mac[0], mac[1], mac[2]] {
        // Espressif's two legacy OUIs are encoded in mac1 bits 16..24 with
        // mac3 = 0; anything else goes into mac3.
        [0x18, 0xFE, 0x34] => (0x0200_0000 | tail, 0),
        [0xAC, 0xD0, 0x74] => (0x0201_0000 | tail, 0),
        [a, b, c] => (
            0x0200_0000 | tail,
            (a as u32) << 16 | (b as u32) << 8 | c as u32,
        ),
    };
    [mac0, mac1, 0, mac3]
}

/// The SFDP table served to `RDSFDP` (0x5A): a JEDEC header with two
/// parameter headers, the second one carrying the vendor id, like
/// Winbond parts. esptool's XMC check reads byte 0x10 (docs/DEVICE.md,
/// "Reading the flash ID").
fn sfdp_byte(vendor: u8, addr: u32) -> u8 {
    const HDR: [u8; 24] = [
        b'S', b'F', b'D', b'P', 0x05, 0x01, 0x01, 0xFF, // signature, rev 1.5, 2 headers
        0x00, 0x05, 0x01, 0x10, 0x80, 0x00, 0x00, 0xFF, // JEDEC basic table at 0x80
        0x00, 0x00, 0x01, 0x03, 0xC0, 0x00, 0x00, 0xFF, // vendor table at 0xC0
    ];
    match addr {
        0x10 => vendor,
        a if (a as usize) < HDR.len() => HDR[a as usize],
        _ => 0xFF,
    }
}

/// Registers of the emulated chip. Unknown addresses read back what was
/// last written (or 0).
#[derive(Debug, Clone)]
pub struct Registers {
    chip: Chip,
    efuse: [u32; 4],
    flash_id: u32,
    /// Current UART baud (for UART_CLKDIV).
    pub baud: u32,
    mem: HashMap<u32, u32>,
    /// Number of SPI user commands executed (diagnostics).
    pub spi_commands: u32,
}

impl Registers {
    pub fn new(chip: Chip, mac: [u8; 6], flash_id: u32) -> Self {
        Registers {
            chip,
            efuse: efuses_for_mac(mac),
            flash_id,
            baud: 115_200,
            mem: HashMap::new(),
            spi_commands: 0,
        }
    }

    pub fn read(&self, addr: u32) -> u32 {
        match addr {
            MAGIC_REG => self.chip.magic(),
            EFUSE0 => self.efuse[0],
            EFUSE1 => self.efuse[1],
            EFUSE2 => self.efuse[2],
            EFUSE3 => self.efuse[3],
            UART_CLKDIV => UART_CLOCK_HZ.div_ceil(self.baud.max(1)) & 0xFFFFF,
            _ => self.mem.get(&addr).copied().unwrap_or(0),
        }
    }

    /// WRITE_REG semantics: `reg = (reg & !mask) | (value & mask)`.
    /// Writing CMD with `SPI_CMD_USR` runs the user command at once, so the
    /// bit reads back clear (both in CMD, which esptool polls, and USR,
    /// which espflash 2.1 polls — docs/DEVICE.md, "Reading the flash ID").
    pub fn write(&mut self, addr: u32, value: u32, mask: u32, flash: &[u8]) {
        let old = self.read(addr);
        let new = (old & !mask) | (value & mask);
        match addr {
            MAGIC_REG | EFUSE0 | EFUSE1 | EFUSE2 | EFUSE3 | UART_CLKDIV => {}
            SPI_CMD => {
                if new & SPI_CMD_USR != 0 {
                    self.run_spi_command(flash);
                }
                // The controller's built-in commands (bit 28 RDID, bit 27
                // RDSR; bits 18..=31 are all "start" bits) also finish at
                // once, so a poller never waits.
                if new & (1 << 28) != 0 {
                    self.mem.insert(SPI_W0, self.flash_id & 0xFF_FFFF);
                } else if new & (1 << 27) != 0 {
                    self.mem.insert(SPI_W0, 0);
                }
                self.mem.insert(SPI_CMD, new & 0x0003_FFFF);
            }
            SPI_USR => {
                self.mem.insert(SPI_USR, new & !SPI_CMD_USR);
            }
            _ => {
                self.mem.insert(addr, new);
            }
        }
    }

    /// Execute the SPI user command configured in USR/USR1/USR2/ADDR.
    fn run_spi_command(&mut self, flash: &[u8]) {
        self.spi_commands += 1;
        let usr = self.read(SPI_USR);
        let usr1 = self.read(SPI_USR1);
        let command = self.read(SPI_USR2) & 0xFF;
        let miso_bits = if usr & SPI_USR_MISO != 0 {
            ((usr1 >> 8) & 0x1FF) + 1
        } else {
            0
        };
        // The ESP8266 keeps the address MSB-aligned (esptool shifts it by
        // 32 - addr_len); flash commands here all use 24-bit addresses.
        let addr = if usr & SPI_USR_ADDR != 0 {
            self.read(SPI_ADDR) >> 8
        } else {
            0
        };
        let read_le = |f: &dyn Fn(u32) -> u8| -> u32 {
            let n = miso_bits.div_ceil(8).min(4);
            (0..n).fold(0u32, |acc, i| acc | (f(i) as u32) << (8 * i))
        };
        let result = match command {
            // RDID: manufacturer, memory type, capacity (LE in W0).
            0x9F => Some(self.flash_id & 0xFF_FFFF),
            // RDSFDP
            0x5A => {
                let vendor = (self.flash_id & 0xFF) as u8;
                Some(read_le(&|i| sfdp_byte(vendor, addr + i)))
            }
            // READ (03) / FAST READ (0B): data from the array.
            0x03 | 0x0B => Some(read_le(&|i| {
                flash.get((addr + i) as usize).copied().unwrap_or(0xFF)
            })),
            // RDSR / RDSR2 / RDSR3: not busy, no protection.
            0x05 | 0x35 | 0x15 => Some(0),
            _ => None,
        };
        if let Some(v) = result {
            if miso_bits > 0 {
                let v = if miso_bits < 32 {
                    v & ((1u32 << miso_bits) - 1)
                } else {
                    v
                };
                self.mem.insert(SPI_W0, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac_as_esptool(e: [u32; 4]) -> Option<[u8; 6]> {
        let [mac0, mac1, _, mac3] = e;
        let oui = if mac3 != 0 {
            [(mac3 >> 16) as u8, (mac3 >> 8) as u8, mac3 as u8]
        } else if (mac1 >> 16) & 0xFF == 0 {
            [0x18, 0xFE, 0x34]
        } else if (mac1 >> 16) & 0xFF == 1 {
            [0xAC, 0xD0, 0x74]
        } else {
            return None;
        };
        Some([
            oui[0],
            oui[1],
            oui[2],
            (mac1 >> 8) as u8,
            mac1 as u8,
            (mac0 >> 24) as u8,
        ])
    }

    #[test]
    fn real_trace_efuses() {
        // esptool#293: 0x8dc50000 / 0x0200c8cd / – / 0x005ccf7f.
        let e = efuses_for_mac([0x5c, 0xcf, 0x7f, 0xc8, 0xcd, 0x8d]);
        assert_eq!(e, [0x8dc5_0000, 0x0200_c8cd, 0, 0x005c_cf7f]);
    }

    #[test]
    fn mac_round_trips_through_esptools_decoder() {
        for mac in [
            [0x18, 0xFE, 0x34, 1, 2, 3],
            [0xAC, 0xD0, 0x74, 0xFF, 0xEE, 0xDD],
            [0x02, 0x00, 0x00, 0x00, 0x00, 0x01],
        ] {
            assert_eq!(mac_as_esptool(efuses_for_mac(mac)), Some(mac));
        }
    }

    #[test]
    fn rdid_via_esptools_register_sequence() {
        let mut r = Registers::new(Chip::Esp8266, [0; 6], 0x1440EF);
        let f = [0xFFu8; 16];
        // Observed esptool 5.6 writes (docs/DEVICE.md, "Reading the flash ID").
        r.write(SPI_USR1, 0x1700, !0, &f);
        r.write(SPI_USR, 0x9000_0000, !0, &f);
        r.write(SPI_USR2, 0x7000_009F, !0, &f);
        r.write(SPI_W0, 0, !0, &f);
        r.write(SPI_CMD, SPI_CMD_USR, !0, &f);
        assert_eq!(r.read(SPI_CMD) & SPI_CMD_USR, 0);
        assert_eq!(r.read(SPI_USR) & SPI_CMD_USR, 0);
        assert_eq!(r.read(SPI_W0), 0x1440EF);
        assert_eq!(r.read(UART_CLKDIV), 452);
    }

    #[test]
    fn built_in_rdid_bit_completes_at_once() {
        let mut r = Registers::new(Chip::Esp8266, [0; 6], 0x1640EF);
        r.write(SPI_CMD, 1 << 28, !0, &[]);
        assert_eq!(r.read(SPI_CMD), 0);
        assert_eq!(r.read(SPI_W0), 0x1640EF);
    }

    #[test]
    fn sfdp_signature() {
        let mut r = Registers::new(Chip::Esp8266, [0; 6], 0x1440EF);
        let f = [0xFFu8; 16];
        // RDSFDP at 0, 24-bit address, 8 dummy bits, 32 data bits.
        r.write(SPI_USR1, 31 << 8 | 23 << 26 | 7, !0, &f);
        r.write(SPI_USR, 0xF000_0000, !0, &f);
        r.write(SPI_USR2, 0x7000_005A, !0, &f);
        r.write(SPI_ADDR, 0, !0, &f);
        r.write(SPI_CMD, SPI_CMD_USR, !0, &f);
        assert_eq!(r.read(SPI_W0), 0x5044_4653);
        r.write(SPI_USR1, 7 << 8 | 23 << 26 | 7, !0, &f);
        r.write(SPI_ADDR, 0x10 << 8, !0, &f);
        r.write(SPI_CMD, SPI_CMD_USR, !0, &f);
        assert_eq!(r.read(SPI_W0), 0xEF);
    }
}
