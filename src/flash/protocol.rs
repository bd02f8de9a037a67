//! ESP8266 ROM / stub serial protocol: opcodes, packet layout, checksum,
//! status bytes (docs/DEVICE.md, "ROM loader protocol", "The flasher stub").
//!
//! Shared by the flasher (which builds requests and parses responses) and
//! the emulator (which does the opposite). Parsers take untrusted bytes and
//! return `None` rather than panic.

/// Request direction byte.
pub const DIR_REQUEST: u8 = 0x00;
/// Response direction byte.
pub const DIR_RESPONSE: u8 = 0x01;
/// Checksum seed (`ESP_CHECKSUM_MAGIC`).
pub const CHECKSUM_SEED: u8 = 0xEF;
/// SYNC payload: `07 07 12 20` + 32 × `55`.
pub const SYNC_PAYLOAD: [u8; 36] = {
    let mut p = [0x55u8; 36];
    p[0] = 0x07;
    p[1] = 0x07;
    p[2] = 0x12;
    p[3] = 0x20;
    p
};
/// Value the ESP8266 ROM puts in its SYNC replies (stubs reply 0).
pub const ROM_SYNC_VALUE: u32 = 0x2012_0707;
/// The stub's greeting after it starts.
pub const STUB_GREETING: &[u8; 4] = b"OHAI";
/// Register holding the chip-detect magic.
pub const CHIP_DETECT_MAGIC_REG: u32 = 0x4000_1000;
/// ESP8266 magic value at [`CHIP_DETECT_MAGIC_REG`].
pub const ESP8266_MAGIC: u32 = 0xFFF0_C101;
/// Flash sector size.
pub const SECTOR_SIZE: u32 = 0x1000;
/// ROM FLASH_DATA block size.
pub const ROM_BLOCK_SIZE: u32 = 0x400;
/// Stub FLASH_DATA / FLASH_DEFL_DATA block size used by espmqtt.
pub const STUB_BLOCK_SIZE: u32 = 0x4000;

/// Command opcodes (docs/DEVICE.md, "Commands").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Opcode {
    FlashBegin = 0x02,
    FlashData = 0x03,
    FlashEnd = 0x04,
    MemBegin = 0x05,
    MemEnd = 0x06,
    MemData = 0x07,
    Sync = 0x08,
    WriteReg = 0x09,
    ReadReg = 0x0A,
    SpiSetParams = 0x0B,
    SpiAttach = 0x0D,
    ChangeBaudrate = 0x0F,
    FlashDeflBegin = 0x10,
    FlashDeflData = 0x11,
    FlashDeflEnd = 0x12,
    SpiFlashMd5 = 0x13,
    EraseFlash = 0xD0,
    EraseRegion = 0xD1,
    ReadFlash = 0xD2,
    RunUserCode = 0xD3,
}

impl Opcode {
    pub fn from_u8(b: u8) -> Option<Opcode> {
        use Opcode::*;
        Some(match b {
            0x02 => FlashBegin,
            0x03 => FlashData,
            0x04 => FlashEnd,
            0x05 => MemBegin,
            0x06 => MemEnd,
            0x07 => MemData,
            0x08 => Sync,
            0x09 => WriteReg,
            0x0A => ReadReg,
            0x0B => SpiSetParams,
            0x0D => SpiAttach,
            0x0F => ChangeBaudrate,
            0x10 => FlashDeflBegin,
            0x11 => FlashDeflData,
            0x12 => FlashDeflEnd,
            0x13 => SpiFlashMd5,
            0xD0 => EraseFlash,
            0xD1 => EraseRegion,
            0xD2 => ReadFlash,
            0xD3 => RunUserCode,
            _ => return None,
        })
    }

    /// Implemented by the ESP8266 ROM loader (the rest are stub-only).
    pub fn in_esp8266_rom(self) -> bool {
        (self as u8) >= 0x02 && (self as u8) <= 0x0A
    }
}

/// ROM error codes (second status byte; docs/DEVICE.md, "Error codes").
pub mod rom_error {
    pub const INVALID_MESSAGE: u8 = 0x05;
    pub const FAILED_TO_ACT: u8 = 0x06;
    pub const INVALID_CRC: u8 = 0x07;
    pub const FLASH_WRITE_ERROR: u8 = 0x08;
    pub const FLASH_READ_ERROR: u8 = 0x09;
    pub const FLASH_READ_LENGTH_ERROR: u8 = 0x0A;
    pub const DEFLATE_ERROR: u8 = 0x0B;
}

/// Legacy stub error codes (sent in the first status byte).
pub mod stub_error {
    pub const BAD_DATA_LEN: u8 = 0xC0;
    pub const BAD_DATA_CHECKSUM: u8 = 0xC1;
    pub const BAD_BLOCKSIZE: u8 = 0xC2;
    pub const INVALID_COMMAND: u8 = 0xC3;
    pub const FAILED_SPI_OP: u8 = 0xC4;
    pub const FAILED_SPI_UNLOCK: u8 = 0xC5;
    pub const NOT_IN_FLASH_MODE: u8 = 0xC6;
    pub const INFLATE_ERROR: u8 = 0xC7;
    pub const NOT_ENOUGH_DATA: u8 = 0xC8;
    pub const TOO_MUCH_DATA: u8 = 0xC9;
    pub const CMD_NOT_IMPLEMENTED: u8 = 0xFF;
}

/// `0xEF` XOR every data byte (not the 16-byte data header).
pub fn checksum(data: &[u8]) -> u8 {
    data.iter().fold(CHECKSUM_SEED, |acc, b| acc ^ b)
}

/// A request packet (before SLIP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub op: u8,
    pub checksum: u32,
    pub data: Vec<u8>,
}

impl Request {
    pub fn new(op: Opcode, data: Vec<u8>) -> Self {
        Request {
            op: op as u8,
            checksum: 0,
            data,
        }
    }

    /// A `*_DATA` request: `len, seq, 0, 0` + payload, checksum over payload.
    pub fn data_block(op: Opcode, seq: u32, payload: &[u8]) -> Self {
        let mut data = Vec::with_capacity(16 + payload.len());
        for w in [payload.len() as u32, seq, 0, 0] {
            data.extend_from_slice(&w.to_le_bytes());
        }
        data.extend_from_slice(payload);
        Request {
            op: op as u8,
            checksum: checksum(payload) as u32,
            data,
        }
    }

    /// Request from little-endian u32 words.
    pub fn words(op: Opcode, words: &[u32]) -> Self {
        let mut data = Vec::with_capacity(words.len() * 4);
        for w in words {
            data.extend_from_slice(&w.to_le_bytes());
        }
        Request::new(op, data)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.data.len());
        out.push(DIR_REQUEST);
        out.push(self.op);
        out.extend_from_slice(&(self.data.len() as u16).to_le_bytes());
        out.extend_from_slice(&self.checksum.to_le_bytes());
        out.extend_from_slice(&self.data);
        out
    }

    /// Parse a request frame; `None` when it is not one.
    pub fn parse(frame: &[u8]) -> Option<Request> {
        if frame.len() < 8 || frame[0] != DIR_REQUEST {
            return None;
        }
        let size = u16::from_le_bytes([frame[2], frame[3]]) as usize;
        let checksum = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
        let data = frame.get(8..8 + size)?.to_vec();
        Some(Request {
            op: frame[1],
            checksum,
            data,
        })
    }

    /// Little-endian u32 word `i` of the data field.
    pub fn word(&self, i: usize) -> Option<u32> {
        let b = self.data.get(i * 4..i * 4 + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
}

/// A response packet (before SLIP).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub op: u8,
    pub value: u32,
    /// Payload without the status bytes.
    pub data: Vec<u8>,
    /// The two status bytes as sent (ROM: `[status, error]`; legacy stub:
    /// `[error-or-0, status]` — see docs/DEVICE.md, "Packets").
    pub status: [u8; 2],
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(10 + self.data.len());
        out.push(DIR_RESPONSE);
        out.push(self.op);
        out.extend_from_slice(&((self.data.len() + 2) as u16).to_le_bytes());
        out.extend_from_slice(&self.value.to_le_bytes());
        out.extend_from_slice(&self.data);
        out.extend_from_slice(&self.status);
        out
    }

    /// Parse a response frame with two trailing status bytes.
    pub fn parse(frame: &[u8]) -> Option<Response> {
        if frame.len() < 10 || frame[0] != DIR_RESPONSE {
            return None;
        }
        let size = u16::from_le_bytes([frame[2], frame[3]]) as usize;
        if size < 2 {
            return None;
        }
        let value = u32::from_le_bytes([frame[4], frame[5], frame[6], frame[7]]);
        let body = frame.get(8..8 + size)?;
        let (data, status) = body.split_at(size - 2);
        Some(Response {
            op: frame[1],
            value,
            data: data.to_vec(),
            status: [status[0], status[1]],
        })
    }

    /// Whether the status bytes report success (both zero).
    pub fn is_ok(&self) -> bool {
        self.status == [0, 0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_matches_esptool() {
        assert_eq!(checksum(&[]), 0xEF);
        assert_eq!(checksum(&[0xEF]), 0);
    }

    #[test]
    fn request_round_trip() {
        let r = Request::data_block(Opcode::FlashData, 3, &[1, 2, 3]);
        let parsed = Request::parse(&r.to_bytes()).unwrap();
        assert_eq!(parsed, r);
        assert_eq!(parsed.word(1), Some(3));
    }

    #[test]
    fn response_real_sync_trace() {
        // 01 08 0200 07071220 0000 from a real ESP8266 (esptool issues 617 and
        // 372; docs/DEVICE.md, "SYNC").
        let frame = [0x01, 0x08, 0x02, 0x00, 0x07, 0x07, 0x12, 0x20, 0x00, 0x00];
        let r = Response::parse(&frame).unwrap();
        assert_eq!(r.value, ROM_SYNC_VALUE);
        assert!(r.is_ok());
        assert_eq!(r.to_bytes(), frame);
    }

    #[test]
    fn short_or_lying_frames_are_rejected() {
        assert!(Response::parse(&[0x01, 0x08, 0xff, 0xff, 0, 0, 0, 0, 0, 0]).is_none());
        assert!(Request::parse(&[0x00, 0x08, 0x10, 0x00, 0, 0, 0, 0]).is_none());
    }
}
