//! ESP8266 image v1 header: parse, check, and patch the flash parameters
//! (docs/DEVICE.md, "Firmware image format").
//!
//! Patching follows esptool's `_update_image_flash_params`: only at offset 0,
//! only when asked, only when byte 0 is 0xE9 *and* the image parses as a valid
//! v1 image — a random blob that happens to start with 0xE9 is left alone. The
//! checksum covers segment data only, so it stays valid.

/// First byte of every ESP8266 image (v1 header).
pub const IMAGE_MAGIC: u8 = 0xE9;

/// Flash mode (header byte 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashMode {
    Qio = 0,
    Qout = 1,
    Dio = 2,
    Dout = 3,
}

impl FlashMode {
    pub fn from_byte(b: u8) -> Option<FlashMode> {
        Some(match b {
            0 => FlashMode::Qio,
            1 => FlashMode::Qout,
            2 => FlashMode::Dio,
            3 => FlashMode::Dout,
            _ => return None,
        })
    }
}

/// Header flash-size nibble ↔ bytes (`ESP8266ROM.FLASH_SIZES`).
pub fn size_code(bytes: u32) -> Option<u8> {
    Some(match bytes {
        0x40000 => 0x1,
        0x80000 => 0x0,
        0x100000 => 0x2,
        0x200000 => 0x3,
        0x400000 => 0x4,
        0x800000 => 0x8,
        0x1000000 => 0x9,
        _ => return None,
    })
}

pub fn size_from_code(code: u8) -> Option<u32> {
    Some(match code {
        0x0 => 0x80000,
        0x1 => 0x40000,
        0x2 => 0x100000,
        0x3 | 0x5 => 0x200000,
        0x4 | 0x6 => 0x400000,
        0x8 => 0x800000,
        0x9 => 0x1000000,
        _ => return None,
    })
}

/// `1MB`, `4MB`, `512KB`.
pub fn size_label(bytes: u32) -> String {
    if bytes >= 0x100000 && bytes.is_multiple_of(0x100000) {
        format!("{}MB", bytes / 0x100000)
    } else {
        format!("{}KB", bytes / 1024)
    }
}

/// Parse `1MB`, `4M`, `512KB`, `0x100000`.
pub fn parse_size(s: &str) -> Option<u32> {
    let t = s.trim().to_ascii_uppercase();
    if let Some(hex) = t.strip_prefix("0X") {
        return u32::from_str_radix(hex, 16).ok();
    }
    let (num, mult) = if let Some(n) = t.strip_suffix("MB").or_else(|| t.strip_suffix('M')) {
        (n, 1024 * 1024)
    } else if let Some(n) = t.strip_suffix("KB").or_else(|| t.strip_suffix('K')) {
        (n, 1024)
    } else {
        (t.as_str(), 1)
    };
    num.trim().parse::<u32>().ok()?.checked_mul(mult)
}

/// The parsed header of a v1 image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageHeader {
    pub segments: u8,
    pub flash_mode: Option<FlashMode>,
    /// Flash size the header declares, in bytes.
    pub flash_size: Option<u32>,
    pub flash_freq_code: u8,
    pub entry: u32,
    /// Segment table and checksum are consistent (esptool `verify()`).
    pub valid: bool,
}

/// Parse the header; `None` if the file does not start with 0xE9.
pub fn parse_header(image: &[u8]) -> Option<ImageHeader> {
    if image.len() < 8 || image[0] != 0xE9 {
        return None;
    }
    Some(ImageHeader {
        segments: image[1],
        flash_mode: FlashMode::from_byte(image[2]),
        flash_size: size_from_code(image[3] >> 4),
        flash_freq_code: image[3] & 0x0F,
        entry: u32::from_le_bytes([image[4], image[5], image[6], image[7]]),
        valid: verify(image),
    })
}

/// Walk the segments and check the footer checksum (esptool `verify()`).
pub fn verify(image: &[u8]) -> bool {
    if image.len() < 8 || image[0] != 0xE9 || image[1] == 0 || image[1] > 16 {
        return false;
    }
    let mut pos = 8usize;
    let mut sum = 0xEFu8;
    for _ in 0..image[1] {
        let Some(h) = image.get(pos..pos + 8) else {
            return false;
        };
        let size = u32::from_le_bytes([h[4], h[5], h[6], h[7]]) as usize;
        pos += 8;
        let Some(data) = image.get(pos..pos.saturating_add(size)) else {
            return false;
        };
        sum = data.iter().fold(sum, |a, b| a ^ b);
        pos += size;
    }
    // Zero padding up to 15 mod 16, then the checksum byte.
    let csum_pos = pos + (15 - pos % 16);
    image.get(csum_pos) == Some(&sum)
}

/// Rewrite header bytes 2–3 like esptool; returns whether anything changed.
pub fn patch_flash_params(image: &mut [u8], mode: Option<FlashMode>, size: Option<u32>) -> bool {
    if (mode.is_none() && size.is_none()) || !verify(image) {
        return false;
    }
    let before = (image[2], image[3]);
    if let Some(m) = mode {
        image[2] = m as u8;
    }
    if let Some(code) = size.and_then(size_code) {
        image[3] = (code << 4) | (image[3] & 0x0F);
    }
    before != (image[2], image[3])
}

#[cfg(test)]
pub(crate) fn test_image(payload: usize) -> Vec<u8> {
    // One segment at IRAM, then padding and checksum (docs/DEVICE.md,
    // "Firmware image format").
    let data: Vec<u8> = (0..payload).map(|i| (i * 7 % 251) as u8).collect();
    let mut img = vec![0xE9, 1, 2, 0x20, 0x04, 0x00, 0x10, 0x40];
    img.extend_from_slice(&0x4010_0000u32.to_le_bytes());
    img.extend_from_slice(&(payload as u32).to_le_bytes());
    img.extend_from_slice(&data);
    while img.len() % 16 != 15 {
        img.push(0);
    }
    img.push(data.iter().fold(0xEF, |a, b| a ^ b));
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_verifies() {
        let img = test_image(100);
        let h = parse_header(&img).unwrap();
        assert!(h.valid);
        assert_eq!(h.flash_mode, Some(FlashMode::Dio));
        assert_eq!(h.flash_size, Some(0x100000));
    }

    #[test]
    fn patches_only_valid_images() {
        let mut img = test_image(64);
        assert!(patch_flash_params(
            &mut img,
            Some(FlashMode::Dout),
            Some(0x400000)
        ));
        assert_eq!(&img[2..4], &[3, 0x40]);
        assert!(verify(&img));
        let mut blob = vec![0xE9, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        assert!(!patch_flash_params(&mut blob, Some(FlashMode::Dout), None));
        assert_eq!(blob[2], 2);
    }

    #[test]
    fn garbage_never_panics() {
        let mut x = 1u32;
        for n in 0..2000 {
            let v: Vec<u8> = (0..n % 64)
                .map(|_| {
                    x = x.wrapping_mul(1664525).wrapping_add(1013904223);
                    (x >> 24) as u8
                })
                .collect();
            let mut v2 = v.clone();
            if !v2.is_empty() {
                v2[0] = 0xE9;
            }
            let _ = parse_header(&v);
            let _ = parse_header(&v2);
        }
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("1MB"), Some(0x100000));
        assert_eq!(parse_size("4m"), Some(0x400000));
        assert_eq!(parse_size("512KB"), Some(0x80000));
        assert_eq!(size_label(0x400000), "4MB");
    }
}
