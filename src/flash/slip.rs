//! SLIP framing of the ESP serial bootloader protocol (docs/DEVICE.md,
//! "SLIP framing").
//!
//! Shared by the flasher (host side) and the emulator (device side). The
//! decoder is fed arbitrary bytes from a port and never panics.

/// Frame delimiter.
pub const END: u8 = 0xC0;
/// Escape byte.
pub const ESC: u8 = 0xDB;
/// Escaped END.
pub const ESC_END: u8 = 0xDC;
/// Escaped ESC.
pub const ESC_ESC: u8 = 0xDD;

/// Encode one frame: `C0 <escaped payload> C0`.
pub fn encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + payload.len() / 16 + 2);
    encode_into(payload, &mut out);
    out
}

/// Append one encoded frame to `out`.
pub fn encode_into(payload: &[u8], out: &mut Vec<u8>) {
    out.push(END);
    for &b in payload {
        match b {
            END => out.extend_from_slice(&[ESC, ESC_END]),
            ESC => out.extend_from_slice(&[ESC, ESC_ESC]),
            _ => out.push(b),
        }
    }
    out.push(END);
}

/// What the decoder saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlipEvent {
    /// A complete frame.
    Frame(Vec<u8>),
    /// `DB` followed by something other than `DC`/`DD`; the frame is dropped.
    BadEscape,
    /// Bytes outside a frame (noise, boot messages); reported, not framed.
    Noise(u8),
}

/// Incremental decoder. Bytes outside `C0 … C0` are reported as noise.
#[derive(Debug, Default)]
pub struct SlipDecoder {
    buf: Vec<u8>,
    in_frame: bool,
    escaped: bool,
    broken: bool,
    /// Largest frame accepted; longer frames are dropped (DoS guard).
    pub max_len: usize,
}

impl SlipDecoder {
    pub fn new() -> Self {
        SlipDecoder {
            max_len: 256 * 1024,
            ..Default::default()
        }
    }

    /// Feed one byte; returns an event when one completes.
    pub fn push(&mut self, b: u8) -> Option<SlipEvent> {
        if !self.in_frame {
            if b == END {
                self.in_frame = true;
                self.buf.clear();
                self.escaped = false;
                self.broken = false;
                return None;
            }
            return Some(SlipEvent::Noise(b));
        }
        if b == END {
            if self.buf.is_empty() && !self.broken {
                // `C0 C0`: the end of one frame doubles as the start of the next.
                return None;
            }
            self.in_frame = true;
            self.escaped = false;
            let broken = std::mem::replace(&mut self.broken, false);
            let frame = std::mem::take(&mut self.buf);
            return Some(if broken {
                SlipEvent::BadEscape
            } else {
                SlipEvent::Frame(frame)
            });
        }
        if self.broken {
            return None;
        }
        if self.escaped {
            self.escaped = false;
            match b {
                ESC_END => self.buf.push(END),
                ESC_ESC => self.buf.push(ESC),
                _ => {
                    self.broken = true;
                    self.buf.clear();
                }
            }
        } else if b == ESC {
            self.escaped = true;
        } else {
            self.buf.push(b);
        }
        if self.buf.len() > self.max_len {
            self.broken = true;
            self.buf.clear();
        }
        None
    }

    /// Feed many bytes, collecting completed frames (noise is discarded).
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        bytes
            .iter()
            .filter_map(|&b| match self.push(b) {
                Some(SlipEvent::Frame(f)) => Some(f),
                _ => None,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_escapes() {
        let payload = vec![0x01, END, 0x02, ESC, 0x03, END, ESC];
        let wire = encode(&payload);
        let mut d = SlipDecoder::new();
        assert_eq!(d.feed(&wire), vec![payload]);
    }

    #[test]
    fn back_to_back_frames_and_noise() {
        let mut wire = b"ets Jan  8 2013\r\n".to_vec();
        wire.extend(encode(b"ab"));
        wire.extend(encode(b"cd"));
        let mut d = SlipDecoder::new();
        assert_eq!(d.feed(&wire), vec![b"ab".to_vec(), b"cd".to_vec()]);
    }

    #[test]
    fn bad_escape_drops_only_that_frame() {
        let mut wire = vec![END, 0x01, ESC, 0x00, 0x02, END];
        wire.extend(encode(b"ok"));
        let mut d = SlipDecoder::new();
        assert_eq!(d.feed(&wire), vec![b"ok".to_vec()]);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut d = SlipDecoder::new();
        let mut x: u32 = 12345;
        for _ in 0..100_000 {
            x = x.wrapping_mul(1103515245).wrapping_add(12345);
            let _ = d.push((x >> 16) as u8);
        }
    }
}
