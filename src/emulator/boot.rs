//! What the ESP8266 ROM prints at 74880 baud when it boots from flash
//! (`--boot-mode flash`), computed from the flash contents
//! (docs/DEVICE.md, "Boot modes and reset", "Firmware image format").
//!
//! Modelled: the `ets Jan  8 2013,rst cause:…, boot mode:(3,6)` banner and,
//! for a valid image at offset 0, one `load …, len …, room …` / `tail …` /
//! `chksum 0x..` group per segment and the final `csum 0x..` (or
//! `csum err` when the stored checksum disagrees). The `room`/`tail`
//! arithmetic (the ROM reads flash in 16-byte units) reproduces the real
//! Arduino boot log `load 0x4010f000, len 3460, room 16 / tail 4`,
//! `load 0x3fff20b8, len 40, room 4 / tail 4`. What an erased or foreign
//! flash makes the ROM print is not modelled (only the banner).

use std::fmt::Write;

/// The ROM prints its boot log at this rate with a 26 MHz crystal.
pub const ROM_LOG_BAUD: u32 = 74_880;

/// The ROM's boot messages for `flash`, `rst_cause` as in the banner
/// (1 power-on, 2 reset pin).
pub fn rom_boot_log(flash: &[u8], rst_cause: u8) -> Vec<u8> {
    let mut s = String::new();
    let _ = write!(
        s,
        "\r\n ets Jan  8 2013,rst cause:{rst_cause}, boot mode:(3,6)\r\n\r\n"
    );
    if flash.first() != Some(&0xE9) {
        return s.into_bytes();
    }
    let segments = flash.get(1).copied().unwrap_or(0) as usize;
    let mut pos = 8usize;
    let mut sum: u8 = 0xEF;
    for _ in 0..segments.min(16) {
        let Some(hdr) = flash.get(pos..pos + 8) else {
            return s.into_bytes();
        };
        let addr = u32::from_le_bytes([hdr[0], hdr[1], hdr[2], hdr[3]]);
        let len = u32::from_le_bytes([hdr[4], hdr[5], hdr[6], hdr[7]]) as usize;
        let start = pos + 8;
        let Some(data) = flash.get(start..start.saturating_add(len)) else {
            return s.into_bytes();
        };
        let room = match start % 16 {
            0 => 16,
            r => 16 - r,
        };
        let tail = len.saturating_sub(room) % 16;
        sum = data.iter().fold(sum, |a, b| a ^ b);
        let _ = write!(
            s,
            "load 0x{addr:08x}, len {len}, room {room} \r\ntail {tail}\r\nchksum 0x{sum:02x}\r\n"
        );
        pos = start + len;
    }
    // The checksum byte sits where the file length becomes 15 mod 16.
    let at = pos | 0xF;
    match flash.get(at) {
        Some(&stored) if stored == sum => {
            let _ = write!(s, "csum 0x{stored:02x}\r\n");
        }
        Some(&stored) => {
            let _ = write!(s, "csum 0x{stored:02x}\r\ncsum err\r\nets_main.c \r\n");
        }
        None => {}
    }
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(segs: &[(u32, Vec<u8>)]) -> Vec<u8> {
        let mut v = vec![0xE9, segs.len() as u8, 2, 0x20, 0, 0, 0x10, 0x40];
        let mut sum = 0xEFu8;
        for (addr, data) in segs {
            v.extend_from_slice(&addr.to_le_bytes());
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(data);
            sum = data.iter().fold(sum, |a, b| a ^ b);
        }
        while v.len() % 16 != 15 {
            v.push(0);
        }
        v.push(sum);
        v
    }

    #[test]
    fn matches_the_real_arduino_room_and_tail_numbers() {
        let img = image(&[
            (0x4010_f000, vec![0x11; 3460]),
            (0x3fff_20b8, vec![0x22; 40]),
        ]);
        let log = String::from_utf8(rom_boot_log(&img, 2)).unwrap();
        assert!(log.contains("rst cause:2, boot mode:(3,6)"), "{log}");
        assert!(
            log.contains("load 0x4010f000, len 3460, room 16 \r\ntail 4\r\n"),
            "{log}"
        );
        assert!(
            log.contains("load 0x3fff20b8, len 40, room 4 \r\ntail 4\r\n"),
            "{log}"
        );
        assert!(log.contains("csum 0x"), "{log}");
        assert!(!log.contains("csum err"), "{log}");
    }

    #[test]
    fn corrupt_image_says_csum_err_and_garbage_never_panics() {
        let mut img = image(&[(0x4010_0000, vec![0x33; 100])]);
        img[20] ^= 0x40;
        let log = String::from_utf8(rom_boot_log(&img, 1)).unwrap();
        assert!(log.contains("csum err"), "{log}");
        for n in 0..64 {
            let mut junk = vec![0xE9, 0xFF];
            junk.extend((0..n).map(|i| (i * 37) as u8));
            let _ = rom_boot_log(&junk, 2);
        }
        assert!(rom_boot_log(&[0xFF; 64], 2).ends_with(b"(3,6)\r\n\r\n"));
    }
}
