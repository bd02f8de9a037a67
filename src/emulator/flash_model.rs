//! The emulated SPI NOR flash: contents, erase and program semantics.
//!
//! Programming behaves like real NOR flash: a write can only clear bits
//! (`new = old & data`), so a flasher that forgets to erase — or a ROM
//! erase that covers too little — leaves visibly wrong contents that the
//! MD5 check has to catch. Erasing sets whole 4 KiB sectors to `0xFF`.

/// 4 KiB erase sector.
pub const SECTOR: u32 = 0x1000;
/// 64 KiB erase block (16 sectors).
pub const BLOCK: u32 = 0x10000;
/// 256-byte program page.
pub const PAGE: u32 = 0x100;

/// Number of 4 KiB sectors and 64 KiB blocks an erase operation used.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EraseCost {
    pub sectors: u32,
    pub blocks: u32,
}

impl std::ops::AddAssign for EraseCost {
    fn add_assign(&mut self, o: EraseCost) {
        self.sectors += o.sectors;
        self.blocks += o.blocks;
    }
}

/// Flash contents of one emulated module.
#[derive(Debug, Clone)]
pub struct Flash {
    data: Vec<u8>,
}

impl Flash {
    /// An erased (all `0xFF`) flash of `size` bytes.
    pub fn blank(size: u32) -> Self {
        Flash {
            data: vec![0xFF; size as usize],
        }
    }

    /// A flash preloaded with `image` at offset 0, the rest erased.
    /// `None` when the image does not fit.
    pub fn with_image(size: u32, image: &[u8]) -> Option<Self> {
        if image.len() > size as usize {
            return None;
        }
        let mut f = Flash::blank(size);
        f.data[..image.len()].copy_from_slice(image);
        Some(f)
    }

    pub fn size(&self) -> u32 {
        self.data.len() as u32
    }

    pub fn contents(&self) -> &[u8] {
        &self.data
    }

    /// `len` bytes at `addr`, or `None` when the range leaves the flash.
    pub fn read(&self, addr: u32, len: u32) -> Option<&[u8]> {
        let end = (addr as usize).checked_add(len as usize)?;
        self.data.get(addr as usize..end)
    }

    /// Erase whole sectors `[first, first + count)`, using 64 KiB block
    /// erases where a whole aligned block is covered (what the ROM's
    /// `SPIEraseArea` and the stub's `start_next_erase` do). Sectors past
    /// the end of the flash are ignored.
    pub fn erase_sectors(&mut self, first: u32, count: u32) -> EraseCost {
        let total = self.size() / SECTOR;
        let end = first.saturating_add(count).min(total);
        let mut s = first;
        let mut cost = EraseCost::default();
        while s < end {
            let step = if s.is_multiple_of(16) && end - s >= 16 {
                cost.blocks += 1;
                16
            } else {
                cost.sectors += 1;
                1
            };
            let a = (s * SECTOR) as usize;
            let b = ((s + step) * SECTOR) as usize;
            self.data[a..b].fill(0xFF);
            s += step;
        }
        cost
    }

    /// Erase the whole chip.
    pub fn erase_all(&mut self) -> EraseCost {
        self.erase_sectors(0, self.size() / SECTOR)
    }

    /// Program `bytes` at `addr` with NOR semantics (bits only go 1 → 0).
    /// Returns the number of 256-byte pages touched, or `None` when the
    /// range leaves the flash (nothing is written then).
    pub fn program(&mut self, addr: u32, bytes: &[u8]) -> Option<u32> {
        if bytes.is_empty() {
            return Some(0);
        }
        let start = addr as usize;
        let end = start.checked_add(bytes.len())?;
        let dst = self.data.get_mut(start..end)?;
        for (d, s) in dst.iter_mut().zip(bytes) {
            *d &= *s;
        }
        let first_page = addr / PAGE;
        let last_page = (end as u32 - 1) / PAGE;
        Some(last_page - first_page + 1)
    }

    /// Invert one bit (fault injection).
    pub fn flip_bit(&mut self, addr: u32, bit: u8) {
        if let Some(b) = self.data.get_mut(addr as usize) {
            *b ^= 1 << (bit % 8);
        }
    }
}

/// The erase the legacy stub performs just ahead of the data it writes
/// (docs/DEVICE.md, "How the stub differs from the ROM": just in time, 64 KiB
/// blocks when aligned, 4 KiB sectors otherwise).
#[derive(Debug, Clone)]
pub struct LazyErase {
    /// Next sector not yet erased.
    next_sector: u32,
    /// One past the last sector of the region.
    end_sector: u32,
}

impl LazyErase {
    /// The region `[offset, offset + size)` rounded out to whole sectors.
    pub fn new(offset: u32, size: u32) -> Self {
        let first = offset / SECTOR;
        let end = (offset as u64 + size as u64).div_ceil(SECTOR as u64) as u32;
        LazyErase {
            next_sector: first,
            end_sector: end.max(first),
        }
    }

    /// Erase whatever is still unerased below byte address `upto`.
    pub fn erase_until(&mut self, flash: &mut Flash, upto: u32) -> EraseCost {
        let mut cost = EraseCost::default();
        let need_end = upto.div_ceil(SECTOR).min(self.end_sector);
        while self.next_sector < need_end {
            let s = self.next_sector;
            // A block erase when aligned and the region still covers the
            // whole block, exactly like the stub's erase-ahead.
            let step = if s.is_multiple_of(16) && self.end_sector - s >= 16 {
                16
            } else {
                1
            };
            cost += flash.erase_sectors(s, step);
            self.next_sector += step;
        }
        cost
    }
}

/// The ESP8266 ROM's FLASH_BEGIN over-erase (esptool#33, docs/DEVICE.md,
/// "Erase-size quirk of the ROM"):
/// given the erase-size parameter and the offset, the number of sectors the
/// ROM actually erases. With erase parameter e sectors, start sector s and
/// head = 16 − (s mod 16): 2e sectors when e ≤ head, e + head otherwise.
/// (Derived from esptool's `get_erase_size` workaround, which inverts it.)
pub fn rom_erase_sectors(offset: u32, erase_size: u32) -> u32 {
    let e = erase_size.div_ceil(SECTOR);
    let s = offset / SECTOR;
    let head = 16 - (s % 16);
    if e <= head {
        2 * e
    } else {
        e + head
    }
}

/// esptool's / espflash's host-side workaround (`get_erase_size`), used to
/// check the model in tests.
pub fn esptool_erase_size(offset: u32, size: u32) -> u32 {
    let n = size.div_ceil(SECTOR);
    let head = (16 - (offset / SECTOR) % 16).min(n);
    if n < 2 * head {
        n.div_ceil(2) * SECTOR
    } else {
        (n - head) * SECTOR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rom_bug_table_from_device_md() {
        // offset, size, erase parameter, sectors the model erases.
        for (off, size, param, erased) in [
            (0x0, 0x10000, 0x8000, 16),
            (0x0, 300_000, 0x3A000, 74),
            (0x1000, 0x1000, 0x1000, 2),
            (0x3000, 0x5000, 0x3000, 6),
            (0xFC000, 0x4000, 0x2000, 4),
        ] {
            assert_eq!(esptool_erase_size(off, size), param, "{off:#x}+{size:#x}");
            assert_eq!(rom_erase_sectors(off, param), erased, "{off:#x}+{size:#x}");
        }
    }

    #[test]
    fn workaround_always_covers_the_data() {
        for off_sec in 0..40u32 {
            for size in [
                1u32, 0x400, 0x1000, 0x1001, 0x5000, 0x10000, 0x23456, 300_000,
            ] {
                let off = off_sec * SECTOR;
                let need = size.div_ceil(SECTOR);
                let got = rom_erase_sectors(off, esptool_erase_size(off, size));
                assert!(got >= need, "{off:#x}+{size:#x}: {got} < {need}");
            }
        }
    }

    #[test]
    fn nor_program_only_clears_bits() {
        let mut f = Flash::blank(0x2000);
        assert_eq!(f.program(0xFF, &[0x0F, 0xF0]), Some(2));
        assert_eq!(f.program(0x100, &[0xFF]), Some(1));
        assert_eq!(f.read(0xFF, 2), Some(&[0x0F, 0xF0][..]));
        f.program(0xFF, &[0xF1]);
        assert_eq!(f.read(0xFF, 1), Some(&[0x01][..]));
        assert_eq!(f.program(0x1FFF, &[0, 0]), None);
        let cost = f.erase_sectors(0, 1);
        assert_eq!(
            cost,
            EraseCost {
                sectors: 1,
                blocks: 0
            }
        );
        assert_eq!(f.read(0xFF, 1), Some(&[0xFF][..]));
    }

    #[test]
    fn lazy_erase_uses_blocks_when_aligned() {
        let mut f = Flash::with_image(0x40000, &[0u8; 0x40000]).unwrap();
        let mut e = LazyErase::new(0x0F000, 0x12000);
        let c1 = e.erase_until(&mut f, 0x10000);
        assert_eq!(
            c1,
            EraseCost {
                sectors: 1,
                blocks: 0
            }
        );
        let c2 = e.erase_until(&mut f, 0x21000);
        assert_eq!(
            c2,
            EraseCost {
                sectors: 1,
                blocks: 1
            }
        );
        assert!(f.read(0x0F000, 0x12000).unwrap().iter().all(|&b| b == 0xFF));
        assert_eq!(f.read(0x21000, 1), Some(&[0][..]));
    }
}
