//! Which loader writes a plan: the modelled cost of each path.
//!
//! The flasher stub is fast once it runs, but getting it running costs its
//! upload at the ROM's fixed 115200 baud (about 9.8 KB on the wire, 0.85 s)
//! plus its start and the baud change. The ROM loader writes uncompressed
//! 1 KiB blocks at 115200 but needs nothing uploaded. For a config blob
//! (0.5–4 KiB, `flash --config-only`) the ROM finishes before the stub
//! would even be running; for a firmware image the stub wins by far.
//! [`decide`] prices both on the same model and picks the cheaper.
//!
//! The model is the one `espmqtt emulate --baud-model on` charges
//! (`src/emulator/timing.rs`): 10 bits per byte at the current baud, counted
//! on SLIP-encoded frames; 30 ms per 4 KiB sector erase, 150 ms per aligned
//! 64 KiB block, 0.7 ms per 256-byte page, 0.25 s per MiB of MD5, the stub's
//! greeting 50 ms after MEM_END; plus a turnaround per command for the
//! host's serial driver.
//!
//! The ROM path has two costs the stub path has not, both weighed here:
//!
//! - It erases too much (docs/DEVICE.md, "Erase-size quirk of the ROM"):
//!   an odd number of sectors before the next 64 KiB boundary is rounded up
//!   to an even one, so writing the one EEPROM sector also erases the
//!   sector after it — the RF calibration sector of the Arduino layout
//!   (docs/DEVICE.md, "Flash layout"), which the SDK rebuilds on the next
//!   boot, as after `esptool erase-flash`. `auto` accepts that sector and
//!   no other: when the quirk would reach anything else, the stub writes.
//! - Its proof is weaker: the ROM checks each 1 KiB block against its
//!   8-bit checksum on arrival and reads it back after programming it
//!   (error 0x08, docs/DEVICE.md, "Error codes"), but there is no MD5 of the
//!   whole region. Reports say which proof a region got (`verify`).

use serde::Serialize;

use super::deflate;
use super::layout;
use super::loader::{rom_erase_size, Stub};
use super::protocol::{ROM_BLOCK_SIZE, SECTOR_SIZE, STUB_BLOCK_SIZE};
use super::slip;

/// One range the plan writes.
#[derive(Debug, Clone, Copy)]
pub struct Span<'a> {
    pub offset: u32,
    pub data: &'a [u8],
}

/// ROM loader baud (the ESP8266 ROM cannot change it).
const ROM_BAUD: u32 = 115_200;
const SECTOR_ERASE_S: f64 = 0.030;
const BLOCK_ERASE_S: f64 = 0.150;
const PAGE_PROGRAM_S: f64 = 0.0007;
const MD5_PER_MIB_S: f64 = 0.25;
const STUB_START_S: f64 = 0.050;
/// The host's pause after switching baud (`Loader::change_baud`).
const BAUD_SETTLE_S: f64 = 0.050;
/// Host turnaround per command (USB serial latency, scheduling).
const TURNAROUND_S: f64 = 0.002;
/// A reply without data: 8-byte header, 2 status bytes, 2 delimiters.
const REPLY_BYTES: usize = 12;
/// Regions larger than this are never cheaper through the ROM: 64 KiB is
/// 5.8 s at 115200, several times the stub's fixed cost.
const ROM_CANDIDATE_MAX: usize = 64 * 1024;

/// Which loader writes: `auto` prices both, the others force one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum WritePath {
    /// The cheaper of the two by the model.
    #[default]
    Auto,
    /// The flasher stub: compressed, MD5 of every region on the module.
    Stub,
    /// The ROM loader alone at 115200: each block checked by the ROM.
    Rom,
}

/// The loader that wrote (or will write) the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loader {
    Stub,
    Rom,
}

/// The choice and what it was based on (`path` in the flash report).
#[derive(Debug, Clone, Serialize)]
pub struct PathChoice {
    pub requested: WritePath,
    pub chosen: Loader,
    /// Modelled seconds from "module identified" to "written and verified".
    pub stub_seconds: f64,
    /// `None` when the ROM cannot take the plan (a stub already runs).
    pub rom_seconds: Option<f64>,
    /// Sectors the ROM path erases beyond the plan's regions, as
    /// `0xSTART..0xEND` (the erase-size quirk).
    pub rom_also_erases: Vec<String>,
    pub reason: String,
}

impl PathChoice {
    /// One line for `-v`.
    pub fn describe(&self) -> String {
        let rom = match self.rom_seconds {
            Some(s) => format!("{s:.2} s"),
            None => "n/a".into(),
        };
        format!(
            "write path: {} (modelled: stub {:.2} s, ROM {rom}); {}",
            match self.chosen {
                Loader::Stub => "flasher stub",
                Loader::Rom => "ROM loader",
            },
            self.stub_seconds,
            self.reason
        )
    }
}

/// What the plan looks like to the model.
pub struct Inputs<'a> {
    pub regions: Vec<Span<'a>>,
    pub flash_size: u32,
    /// Baud the stub would write at.
    pub baud: u32,
    /// The stub already runs (no upload; the ROM is not there to write).
    pub stub_running: bool,
    /// Regions are written even when equal (no MD5 pre-check).
    pub force: bool,
}

/// The modelled stub path alone (for the report, once the streams exist).
pub fn stub_seconds(inp: &Inputs) -> f64 {
    round(stub_cost(inp))
}

/// Price both paths and choose.
pub fn decide(inp: &Inputs, requested: WritePath) -> PathChoice {
    let stub_seconds = stub_cost(inp);
    let big = inp.regions.iter().any(|r| r.data.len() > ROM_CANDIDATE_MAX);
    let rom_seconds = (!inp.stub_running).then(|| rom_cost(inp));
    let extra = rom_over_erase(&inp.regions, inp.flash_size);
    let harmless = extra
        .iter()
        .all(|&(a, b)| a == rf_cal_sector(inp.flash_size) && b == a + SECTOR_SIZE);
    let rom_also_erases = extra
        .iter()
        .map(|(a, b)| format!("0x{a:06x}..0x{b:06x}"))
        .collect();
    let (chosen, reason) = match (requested, rom_seconds) {
        (WritePath::Stub, _) => (Loader::Stub, "--path stub".to_string()),
        (_, None) => (
            Loader::Stub,
            "a flasher stub already runs on the module".to_string(),
        ),
        (WritePath::Rom, Some(_)) => (Loader::Rom, "--path rom".to_string()),
        (WritePath::Auto, Some(_)) if big => (
            Loader::Stub,
            "a region larger than 64 KiB: compressed at full speed".to_string(),
        ),
        (WritePath::Auto, Some(_)) if !harmless => (
            Loader::Stub,
            format!(
                "the ROM's erase quirk would also erase {}",
                extra
                    .iter()
                    .map(|(a, b)| format!("0x{a:06x}..0x{b:06x}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ),
        (WritePath::Auto, Some(rom)) if rom < stub_seconds => (
            Loader::Rom,
            if extra.is_empty() {
                "cheaper than uploading the stub".to_string()
            } else {
                "cheaper than uploading the stub; the ROM also erases the RF calibration \
                 sector, which the SDK rebuilds at the next boot"
                    .to_string()
            },
        ),
        (WritePath::Auto, Some(_)) => (Loader::Stub, "cheaper by the model".to_string()),
    };
    PathChoice {
        requested,
        chosen,
        stub_seconds: round(stub_seconds),
        rom_seconds: rom_seconds.map(round),
        rom_also_erases,
        reason,
    }
}

fn round(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

/// The RF calibration sector of the Arduino layout: right after the EEPROM
/// sector (docs/DEVICE.md, "Flash layout").
fn rf_cal_sector(flash_size: u32) -> u32 {
    layout::config_offset(flash_size) + layout::CONFIG_SECTOR
}

fn wire(bytes: usize, baud: u32) -> f64 {
    bytes as f64 * 10.0 / baud.max(1) as f64
}

fn escapes(data: &[u8]) -> usize {
    data.iter()
        .filter(|&&b| b == slip::END || b == slip::ESC)
        .count()
}

/// A request frame carrying `payload` bytes of command data plus `escaped`
/// escape bytes: 8-byte header, delimiters.
fn request_bytes(payload: usize, escaped: usize) -> usize {
    8 + payload + escaped + 2
}

/// Time for the sectors `first..first+count` to be erased, with whole
/// aligned 64 KiB blocks erased as blocks.
fn erase_time(first: u32, count: u32) -> f64 {
    let (mut s, end, mut t) = (first, first + count, 0.0);
    while s < end {
        if s % 16 == 0 && end - s >= 16 {
            t += BLOCK_ERASE_S;
            s += 16;
        } else {
            t += SECTOR_ERASE_S;
            s += 1;
        }
    }
    t
}

fn pages(len: usize) -> f64 {
    len.div_ceil(256) as f64 * PAGE_PROGRAM_S
}

/// SPI_FLASH_MD5: hashing on the module, 16 request and 16 digest bytes.
fn md5_time(len: usize, baud: u32) -> f64 {
    let bytes = request_bytes(16, 0) + 16 + REPLY_BYTES;
    MD5_PER_MIB_S * len as f64 / (1 << 20) as f64 + TURNAROUND_S + wire(bytes, baud)
}

/// Stub upload, start and baud change, then per region an MD5 pre-check
/// (unless forced), the compressed stream, erase and program, MD5 verify.
fn stub_cost(inp: &Inputs) -> f64 {
    let mut t = 0.0;
    let mut baud = ROM_BAUD;
    if !inp.stub_running {
        if let Ok(stub) = Stub::esp8266() {
            for (_, seg) in &stub.segments {
                t += wire(request_bytes(16, 0) + REPLY_BYTES, ROM_BAUD) + TURNAROUND_S;
                for chunk in seg.chunks(0x1800) {
                    let req = request_bytes(16 + chunk.len(), escapes(chunk));
                    t += wire(req + REPLY_BYTES, ROM_BAUD) + TURNAROUND_S;
                }
            }
            t += wire(request_bytes(8, 0) + 6, ROM_BAUD) + STUB_START_S;
        }
    } else {
        baud = inp.baud;
    }
    if inp.baud != baud {
        t += wire(request_bytes(8, 0) + REPLY_BYTES, baud) + BAUD_SETTLE_S + 2.0 * TURNAROUND_S;
    }
    for r in &inp.regions {
        let len = r.data.len();
        if !inp.force {
            t += md5_time(len.min(SECTOR_SIZE as usize), inp.baud);
        }
        // Small regions are compressed here (cheap, and cached for the
        // write). A large one is compressed while the stub uploads, so it is
        // priced from the cache once there (after the write, for the
        // report), else at its raw size: an upper bound that only matters
        // against a ROM path it beats anyway.
        let z = if len <= ROM_CANDIDATE_MAX {
            Some(deflate::compressed(r.data))
        } else {
            deflate::cached(r.data)
        };
        let (sent, esc) = match z {
            Some(z) => (z.len(), escapes(&z)),
            None => (len, len / 128),
        };
        let blocks = sent.div_ceil(STUB_BLOCK_SIZE as usize).max(1);
        t += wire(sent + esc + blocks * (8 + 16 + 2 + REPLY_BYTES), inp.baud);
        t += (blocks + 2) as f64 * TURNAROUND_S;
        let first = r.offset / SECTOR_SIZE;
        t += erase_time(first, (len as u32).div_ceil(SECTOR_SIZE)) + pages(len);
        t += md5_time(len, inp.baud);
    }
    t
}

/// Per region: FLASH_BEGIN (the over-erase included), then the 1 KiB blocks
/// that are not all 0xFF, each programmed before it is acknowledged.
fn rom_cost(inp: &Inputs) -> f64 {
    let block = ROM_BLOCK_SIZE as usize;
    let mut t = 0.0;
    for r in &inp.regions {
        let (first, count) = rom_erased_sectors(r.offset, r.data.len() as u32);
        t += erase_time(first, count) + wire(request_bytes(16, 0) + REPLY_BYTES, ROM_BAUD);
        t += TURNAROUND_S;
        for chunk in r.data.chunks(block) {
            if chunk.iter().all(|&b| b == 0xFF) {
                continue;
            }
            let req = request_bytes(16 + block, escapes(chunk));
            t += wire(req + REPLY_BYTES, ROM_BAUD) + pages(block) + TURNAROUND_S;
        }
    }
    t
}

/// The sectors the ROM erases for a region written with esptool's corrected
/// erase size: the model of docs/DEVICE.md, "Erase-size quirk of the ROM".
fn rom_erased_sectors(offset: u32, len: u32) -> (u32, u32) {
    let e = rom_erase_size(offset, len).div_ceil(SECTOR_SIZE);
    let s = offset / SECTOR_SIZE;
    let head = 16 - s % 16;
    (s, if e <= head { 2 * e } else { e + head })
}

/// Byte ranges the ROM path erases beyond the regions themselves.
pub fn rom_over_erase(regions: &[Span], flash_size: u32) -> Vec<(u32, u32)> {
    let mut out = Vec::new();
    for r in regions {
        let (first, count) = rom_erased_sectors(r.offset, r.data.len() as u32);
        let written_end = r.offset + (r.data.len() as u32).div_ceil(SECTOR_SIZE) * SECTOR_SIZE;
        let erased_end = ((first + count) * SECTOR_SIZE).min(flash_size);
        if erased_end > written_end {
            out.push((written_end, erased_end));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Region {
        offset: u32,
        data: Vec<u8>,
    }

    fn config(len: usize, flash_size: u32) -> Vec<Region> {
        vec![Region {
            offset: layout::config_offset(flash_size),
            data: (0..len).map(|i| (i * 7 + i / 13) as u8).collect(),
        }]
    }

    fn spans(regions: &[Region]) -> Vec<Span<'_>> {
        regions
            .iter()
            .map(|r| Span {
                offset: r.offset,
                data: &r.data,
            })
            .collect()
    }

    fn inputs(regions: &[Region]) -> Inputs<'_> {
        Inputs {
            regions: spans(regions),
            flash_size: 0x100000,
            baud: 460_800,
            stub_running: false,
            force: false,
        }
    }

    #[test]
    fn config_blob_goes_through_the_rom() {
        for len in [512, 1500, 4096] {
            let r = config(len, 0x100000);
            let c = decide(&inputs(&r), WritePath::Auto);
            assert_eq!(c.chosen, Loader::Rom, "{len}: {c:?}");
            assert!(c.rom_seconds.unwrap() < c.stub_seconds / 2.0, "{c:?}");
            // The quirk's extra sector is the RF calibration sector.
            assert_eq!(c.rom_also_erases, vec!["0x0fc000..0x0fd000"]);
        }
    }

    #[test]
    fn stub_upload_is_most_of_the_stub_path() {
        let r = config(1024, 0x100000);
        let c = decide(&inputs(&r), WritePath::Auto);
        assert!(c.stub_seconds > 0.8 && c.stub_seconds < 1.2, "{c:?}");
    }

    #[test]
    fn firmware_goes_through_the_stub() {
        let fw = vec![Region {
            offset: 0,
            data: vec![0x5A; 300 * 1024],
        }];
        let c = decide(&inputs(&fw), WritePath::Auto);
        assert_eq!(c.chosen, Loader::Stub, "{c:?}");
        // 20 KiB: the ROM would need longer than the stub's upload.
        let fw = vec![Region {
            offset: 0,
            data: (0..20 * 1024).map(|i| (i * 31 % 251) as u8).collect(),
        }];
        assert_eq!(decide(&inputs(&fw), WritePath::Auto).chosen, Loader::Stub);
    }

    #[test]
    fn a_quirk_that_reaches_other_data_keeps_the_stub() {
        // Three sectors at 0x10000: the ROM would erase a fourth.
        let r = vec![Region {
            offset: 0x10000,
            data: vec![1; 3 * 4096],
        }];
        let c = decide(&inputs(&r), WritePath::Auto);
        assert_eq!(c.chosen, Loader::Stub);
        assert!(c.reason.contains("0x013000..0x014000"), "{}", c.reason);
        assert_eq!(decide(&inputs(&r), WritePath::Rom).chosen, Loader::Rom);
    }

    #[test]
    fn forced_and_impossible_choices() {
        let r = config(1024, 0x400000);
        let mut i = inputs(&r);
        i.flash_size = 0x400000;
        assert_eq!(decide(&i, WritePath::Stub).chosen, Loader::Stub);
        i.stub_running = true;
        let c = decide(&i, WritePath::Rom);
        assert_eq!(c.chosen, Loader::Stub);
        assert!(c.rom_seconds.is_none());
    }

    #[test]
    fn over_erase_follows_the_quirk_model() {
        let even = vec![Region {
            offset: 0,
            data: vec![0; 2 * 4096],
        }];
        assert!(rom_over_erase(&spans(&even), 0x100000).is_empty());
        assert_eq!(rom_erased_sectors(0xFB000, 4096), (0xFB, 2));
    }
}
