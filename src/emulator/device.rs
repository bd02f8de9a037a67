//! The emulated chip as a pure state machine: request frame in, replies
//! plus timing out. No I/O and no clocks here — the server (`server.rs`)
//! turns [`Step`]s into bytes on the wire at the right time.
//!
//! Two personalities share one register file and one flash:
//! * **ROM** (docs/DEVICE.md, "ROM loader protocol"): opcodes 0x02–0x0A only,
//!   status `01 xx` on failure, 8 replies to SYNC with a non-zero value,
//!   FLASH_BEGIN erases up front with the over-erase bug, FLASH_DATA writes at
//!   `offset + seq × block_size`.
//! * **Stub** (docs/DEVICE.md, "The flasher stub"; legacy semantics that
//!   espflash 2.1 expects;
//!   esptool 5.x's v2 stub differs only where noted): the error code in the
//!   first status byte, FLASH_BEGIN word 0 = exact byte count (extra data is
//!   silently dropped), just-in-time erase, writes pipelined behind the
//!   acknowledgement, FLASH_DEFL_* with a streaming zlib inflater, MD5,
//!   erase, READ_FLASH with its acknowledgement flow.
//!
//! The stub code the host uploads is never executed: the MEM_END that
//! starts it switches this model into its stub personality.

use std::time::Duration;

use flate2::{Decompress, FlushDecompress, Status};
use md5::{Digest, Md5};

use super::chip::Chip;
use super::flash_model::{rom_erase_sectors, EraseCost, Flash, LazyErase, SECTOR};
use super::registers::Registers;
use super::timing::TimingModel;
use crate::flash::protocol::{
    checksum, rom_error, stub_error, Opcode, Request, DIR_RESPONSE, ROM_SYNC_VALUE, SYNC_PAYLOAD,
};

/// Which uploaded stub is "running" (decided by the text address of the first
/// MEM_BEGIN, docs/DEVICE.md, "The flasher stub"). They differ in the status
/// layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StubFlavour {
    /// esptool-legacy-flasher-stub (esptool ≤ 5.1, espflash 2.1): status
    /// bytes `[error, 1]` on failure.
    Legacy,
    /// esp-flasher-stub (esptool ≥ 5.2 default): the response code
    /// big-endian, `[error, 0]`.
    V2,
}

/// esptool 5.x v2 stub text address (docs/DEVICE.md, "The flasher stub").
const V2_STUB_TEXT: u32 = 0x4010_C500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// ROM serial bootloader (download mode).
    Rom,
    /// A flasher stub is running.
    Stub(StubFlavour),
    /// The chip left the bootloader and runs the firmware in flash.
    UserCode,
}

/// Why the firmware in flash started.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BootReason {
    /// FLASH_END with "run user code" (ROM) or RUN_USER_CODE (stub).
    RunUserCode,
    /// The connection opened with `--boot-mode flash` (power-on / reset
    /// with GPIO0 high).
    PowerOn,
}

/// One SLIP frame the chip sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Unframed payload.
    pub bytes: Vec<u8>,
    /// `Some(op)` for command responses (what reply faults count).
    pub reply_to: Option<u8>,
}

/// Things that happen after the replies of a step are on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Switch the UART (stub CHANGE_BAUDRATE, or 115200 after a reset).
    SetBaud(u32),
    /// Send an unsolicited frame `after` the replies (the stub's OHAI).
    Send { after: Duration, packet: Packet },
    /// The stub started.
    StubStarted(StubFlavour),
    /// The chip reset back into the ROM loader.
    Reset,
    /// The chip runs the firmware in flash from now on.
    RunUserCode,
    /// Persist the flash now (after FLASH_END / MD5).
    Save,
}

/// Result of handling one frame.
#[derive(Debug, Default)]
pub struct Step {
    /// Busy time before the replies can go out (ROM erase/write, MD5, …).
    pub pre: Duration,
    /// Background busy time after replying (the stub writes a block after
    /// acknowledging it, docs/DEVICE.md, "How the stub differs from the ROM");
    /// the next command waits for it.
    pub post: Duration,
    pub replies: Vec<Packet>,
    pub effects: Vec<Effect>,
    /// Flash range programmed by this command (`flip-bit` fault target).
    pub wrote: Option<(u32, u32)>,
}

#[derive(Debug)]
struct RomWrite {
    offset: u32,
    block_size: u32,
}

struct StubWrite {
    cursor: u32,
    remaining: u32,
    erase: LazyErase,
    inflate: Option<Decompress>,
    inflate_done: bool,
}

#[derive(Debug)]
struct MemLoad {
    size: u32,
    received: u32,
}

struct FlashRead {
    next: u32,
    end: u32,
    start: u32,
    packet: u32,
    max_in_flight: u32,
    acked: u32,
    md5: Md5,
}

/// Modelled busy time of one session, by cause (reported in the
/// `disconnected` event so benchmarks can compute their efficiency
/// against the model itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BusyStats {
    pub erase: Duration,
    pub program: Duration,
    pub md5: Duration,
    pub sectors_erased: u32,
    pub pages_programmed: u32,
}

/// The emulated chip.
pub struct Device {
    pub chip: Chip,
    pub mode: Mode,
    pub regs: Registers,
    pub flash: Flash,
    timing: TimingModel,
    no_sync: bool,
    rom_write: Option<RomWrite>,
    stub_write: Option<StubWrite>,
    mem: Option<MemLoad>,
    flavour_hint: Option<StubFlavour>,
    read: Option<FlashRead>,
    /// The ESP8266 ROM leaves stale data in the `value` field of replies other
    /// than READ_REG / SYNC (docs/DEVICE.md, "Packets"); mimic that so hosts
    /// that wrongly check it fail here rather than on hardware.
    leftover: u32,
    /// Flash changed since the last save.
    pub dirty: bool,
    /// Flash was programmed or erased during this connection.
    pub wrote_any: bool,
    pub stats: BusyStats,
}

impl Device {
    pub fn new(chip: Chip, mac: [u8; 6], flash_id: u32, flash: Flash, timing: TimingModel) -> Self {
        Device {
            chip,
            mode: Mode::Rom,
            regs: Registers::new(chip, mac, flash_id),
            flash,
            timing,
            no_sync: false,
            rom_write: None,
            stub_write: None,
            mem: None,
            flavour_hint: None,
            read: None,
            leftover: 0x0084_0D8E,
            dirty: false,
            wrote_any: false,
            stats: BusyStats::default(),
        }
    }

    /// Never answer SYNC (a module that is not in download mode).
    pub fn set_no_sync(&mut self, on: bool) {
        self.no_sync = on;
    }

    pub fn baud(&self) -> u32 {
        self.regs.baud
    }

    pub fn set_baud(&mut self, baud: u32) {
        self.regs.baud = baud;
    }

    /// Back to the ROM loader at 115200, as after a chip reset.
    pub fn reset_to_rom(&mut self) {
        self.mode = Mode::Rom;
        self.rom_write = None;
        self.stub_write = None;
        self.mem = None;
        self.flavour_hint = None;
        self.read = None;
        self.regs.baud = 115_200;
    }

    // ----------------------------------------------------------------- replies

    fn status_ok(&self) -> Vec<u8> {
        match self.chip {
            // ESP32 ROMs send 4 status bytes (docs/DEVICE.md, "Packets").
            Chip::Esp32 if self.mode == Mode::Rom => vec![0, 0, 0, 0],
            _ => vec![0, 0],
        }
    }

    fn status_err(&self, code: u8) -> Vec<u8> {
        match self.mode {
            Mode::Stub(StubFlavour::Legacy) => vec![code, 1],
            Mode::Stub(StubFlavour::V2) => vec![code, 0],
            _ if self.chip == Chip::Esp32 => vec![1, code, 0, 0],
            _ => vec![1, code],
        }
    }

    fn packet(op: u8, value: u32, data: &[u8], status: &[u8]) -> Packet {
        let mut b = Vec::with_capacity(8 + data.len() + status.len());
        b.push(DIR_RESPONSE);
        b.push(op);
        b.extend_from_slice(&((data.len() + status.len()) as u16).to_le_bytes());
        b.extend_from_slice(&value.to_le_bytes());
        b.extend_from_slice(data);
        b.extend_from_slice(status);
        Packet {
            bytes: b,
            reply_to: Some(op),
        }
    }

    fn ok(&self, op: u8) -> Packet {
        Self::packet(op, self.value_field(), &[], &self.status_ok())
    }

    fn ok_value(&self, op: u8, value: u32) -> Packet {
        Self::packet(op, value, &[], &self.status_ok())
    }

    fn ok_data(&self, op: u8, data: &[u8]) -> Packet {
        Self::packet(op, self.value_field(), data, &self.status_ok())
    }

    /// The ROM's answer to a block whose read-back differs (`flip-bit`).
    pub fn read_back_failed(&self, op: u8) -> Packet {
        self.err(op, rom_error::FLASH_WRITE_ERROR)
    }

    fn err(&self, op: u8, code: u8) -> Packet {
        Self::packet(op, self.value_field(), &[], &self.status_err(code))
    }

    fn value_field(&self) -> u32 {
        match self.mode {
            Mode::Rom => self.leftover,
            _ => 0,
        }
    }

    fn in_stub(&self) -> bool {
        matches!(self.mode, Mode::Stub(_))
    }

    /// Error code for a malformed request in the current personality.
    fn bad_len(&self) -> u8 {
        if self.in_stub() {
            stub_error::BAD_DATA_LEN
        } else {
            rom_error::INVALID_MESSAGE
        }
    }

    fn bad_checksum(&self) -> u8 {
        if self.in_stub() {
            stub_error::BAD_DATA_CHECKSUM
        } else {
            rom_error::INVALID_CRC
        }
    }

    fn one(&self, p: Packet) -> Step {
        Step {
            replies: vec![p],
            ..Default::default()
        }
    }

    // -------------------------------------------------------------- dispatch

    /// Handle one received SLIP frame.
    pub fn handle(&mut self, frame: &[u8]) -> Step {
        if self.mode == Mode::UserCode {
            // The firmware owns the UART now; the loader protocol is gone.
            return Step::default();
        }
        if let Some(read) = &mut self.read {
            // READ_FLASH acknowledgements are raw 4-byte frames carrying
            // the number of bytes received so far (docs/DEVICE.md, "MD5 and
            // READ_FLASH").
            if frame.len() == 4 {
                let n = u32::from_le_bytes([frame[0], frame[1], frame[2], frame[3]]);
                read.acked = read.acked.max(n.min(read.end - read.start));
                return Step::default();
            }
            // Anything else aborts the transfer (the host gave up).
            self.read = None;
        }
        let Some(req) = Request::parse(frame) else {
            // The ROM silently drops frames that are not requests.
            return Step::default();
        };
        let step = match self.mode {
            Mode::Rom => self.handle_rom(&req),
            Mode::Stub(_) => self.handle_stub(&req),
            Mode::UserCode => Step::default(),
        };
        if self.mode == Mode::Rom && req.op != Opcode::ReadReg as u8 {
            // Stale "value" for the next reply (real ROM behaviour).
            self.leftover = self.leftover.rotate_left(7) ^ 0x0016_400B;
        }
        step
    }

    /// Unsolicited output that is due now (READ_FLASH data and digest).
    pub fn poll_output(&mut self) -> Option<Packet> {
        let read = self.read.as_mut()?;
        let total = read.end - read.start;
        let sent = read.next - read.start;
        if read.next < read.end {
            // A host may acknowledge more than was sent; never underflow.
            let in_flight = sent.saturating_sub(read.acked).div_ceil(read.packet);
            if in_flight >= read.max_in_flight {
                return None;
            }
            let n = read.packet.min(read.end - read.next);
            let data = self.flash.read(read.next, n)?.to_vec();
            read.md5.update(&data);
            read.next += n;
            return Some(Packet {
                bytes: data,
                reply_to: None,
            });
        }
        if read.acked >= total {
            let read = self.read.take()?;
            return Some(Packet {
                bytes: read.md5.finalize().to_vec(),
                reply_to: None,
            });
        }
        None
    }

    /// Whether a READ_FLASH transfer is in progress.
    pub fn streaming(&self) -> bool {
        self.read.is_some()
    }

    fn sync(&mut self, req: &Request) -> Step {
        if self.no_sync {
            return Step::default();
        }
        if req.data.len() != SYNC_PAYLOAD.len() || req.data[..] != SYNC_PAYLOAD[..] {
            return self.one(self.err(req.op, self.bad_len()));
        }
        // One SYNC → 8 identical replies; the ROM's carry a non-zero value
        // (esptool treats all-zero values as "stub already running").
        let value = if self.in_stub() { 0 } else { ROM_SYNC_VALUE };
        let p = self.ok_value(req.op, value);
        Step {
            replies: vec![p; 8],
            ..Default::default()
        }
    }

    fn read_reg(&mut self, req: &Request) -> Step {
        match req.word(0) {
            Some(addr) => {
                let v = self.regs.read(addr);
                self.one(self.ok_value(req.op, v))
            }
            None => self.one(self.err(req.op, self.bad_len())),
        }
    }

    fn write_reg(&mut self, req: &Request) -> Step {
        // ROM: one 16-byte entry; stubs: any number (docs/DEVICE.md, "How the
        // stub differs from the ROM").
        let n = req.data.len() / 16;
        let bad = req.data.is_empty()
            || !req.data.len().is_multiple_of(16)
            || (!self.in_stub() && req.data.len() != 16);
        if bad {
            return self.one(self.err(req.op, self.bad_len()));
        }
        let mut delay = Duration::ZERO;
        for i in 0..n {
            let (Some(addr), Some(value), Some(mask), Some(delay_us)) = (
                req.word(4 * i),
                req.word(4 * i + 1),
                req.word(4 * i + 2),
                req.word(4 * i + 3),
            ) else {
                return self.one(self.err(req.op, self.bad_len()));
            };
            self.regs.write(addr, value, mask, self.flash.contents());
            if self.timing.enabled {
                delay += Duration::from_micros(delay_us as u64);
            }
        }
        Step {
            pre: delay,
            replies: vec![self.ok(req.op)],
            ..Default::default()
        }
    }

    fn mem_begin(&mut self, req: &Request) -> Step {
        let (Some(size), Some(_blocks), Some(_block_size), Some(addr)) =
            (req.word(0), req.word(1), req.word(2), req.word(3))
        else {
            return self.one(self.err(req.op, self.bad_len()));
        };
        let end = addr as u64 + size as u64;
        let dram = addr >= 0x3FFE_8000 && end <= 0x4000_0000;
        let iram = addr >= 0x4010_0000 && end <= 0x4011_0000;
        if !(dram || iram) {
            // ROM error 0x0F: invalid RAM binary address.
            return self.one(self.err(req.op, 0x0F));
        }
        if iram && self.flavour_hint.is_none() {
            self.flavour_hint = Some(if addr == V2_STUB_TEXT {
                StubFlavour::V2
            } else {
                StubFlavour::Legacy
            });
        }
        self.mem = Some(MemLoad { size, received: 0 });
        self.one(self.ok(req.op))
    }

    /// Checks shared by the three `*_DATA` commands: header, length and
    /// checksum. Returns the payload or the error code.
    fn data_payload<'a>(&self, req: &'a Request) -> Result<&'a [u8], u8> {
        let len = req.word(0).ok_or(self.bad_len())? as usize;
        let payload = req.data.get(16..).ok_or(self.bad_len())?;
        if payload.len() != len {
            return Err(self.bad_len());
        }
        if req.checksum != checksum(payload) as u32 {
            return Err(self.bad_checksum());
        }
        Ok(payload)
    }

    fn mem_data(&mut self, req: &Request) -> Step {
        let payload = match self.data_payload(req) {
            Ok(p) => p,
            Err(code) => return self.one(self.err(req.op, code)),
        };
        let Some(mem) = &mut self.mem else {
            return self.one(self.err(req.op, self.bad_len()));
        };
        mem.received = mem.received.saturating_add(payload.len() as u32);
        if mem.received > mem.size.saturating_add(4) {
            // More than announced (espflash may pad the last block to 4).
            return self.one(self.err(req.op, 0x0E));
        }
        self.one(self.ok(req.op))
    }

    fn mem_end(&mut self, req: &Request) -> Step {
        let (Some(no_exec), Some(entry)) = (req.word(0), req.word(1)) else {
            return self.one(self.err(req.op, self.bad_len()));
        };
        let mut step = self.one(self.ok(req.op));
        self.mem = None;
        if no_exec == 0 && entry != 0 {
            // The uploaded code is a flasher stub: it greets with OHAI
            // once running (docs/DEVICE.md, "Uploading the stub").
            let flavour = self.flavour_hint.take().unwrap_or(StubFlavour::Legacy);
            self.mode = Mode::Stub(flavour);
            self.rom_write = None;
            step.effects.push(Effect::StubStarted(flavour));
            step.effects.push(Effect::Send {
                after: self.timing.stub_start(),
                packet: Packet {
                    bytes: crate::flash::protocol::STUB_GREETING.to_vec(),
                    reply_to: None,
                },
            });
        }
        step
    }

    fn rom_charge_erase(&mut self, cost: EraseCost) -> Duration {
        let t = self.timing.erase(cost.sectors, cost.blocks);
        self.stats.erase += t;
        self.stats.sectors_erased += cost.sectors + 16 * cost.blocks;
        t
    }

    fn charge_program(&mut self, pages: u32) -> Duration {
        let t = self.timing.program(pages);
        self.stats.program += t;
        self.stats.pages_programmed += pages;
        t
    }

    // ------------------------------------------------------------------- ROM

    fn handle_rom(&mut self, req: &Request) -> Step {
        let Some(op) = Opcode::from_u8(req.op).filter(|o| o.in_esp8266_rom()) else {
            // Not a ROM command (GET_SECURITY_INFO 0x14, stub opcodes…):
            // same opcode, status 01 05 (docs/DEVICE.md, "Chip detection").
            return self.one(self.err(req.op, rom_error::INVALID_MESSAGE));
        };
        match op {
            Opcode::Sync => self.sync(req),
            Opcode::ReadReg => self.read_reg(req),
            Opcode::WriteReg => self.write_reg(req),
            Opcode::MemBegin => self.mem_begin(req),
            Opcode::MemData => self.mem_data(req),
            Opcode::MemEnd => self.mem_end(req),
            Opcode::FlashBegin => self.rom_flash_begin(req),
            Opcode::FlashData => self.rom_flash_data(req),
            Opcode::FlashEnd => self.flash_end(req),
            _ => self.one(self.err(req.op, rom_error::INVALID_MESSAGE)),
        }
    }

    fn rom_flash_begin(&mut self, req: &Request) -> Step {
        let (Some(erase), Some(blocks), Some(block_size), Some(offset)) =
            (req.word(0), req.word(1), req.word(2), req.word(3))
        else {
            return self.one(self.err(req.op, rom_error::INVALID_MESSAGE));
        };
        if erase == 0 && blocks == 0 {
            // FLASH_BEGIN(0, 0) only attaches the SPI flash (docs/DEVICE.md, "Commands").
            self.rom_write = Some(RomWrite { offset, block_size });
            return self.one(self.ok(req.op));
        }
        if offset >= self.flash.size() || block_size == 0 {
            return self.one(self.err(req.op, 0x01));
        }
        // The erase-size bug: the ROM erases more than it was asked to.
        let sectors = rom_erase_sectors(offset, erase);
        let cost = self.flash.erase_sectors(offset / SECTOR, sectors);
        self.dirty = true;
        self.wrote_any = true;
        self.rom_write = Some(RomWrite { offset, block_size });
        Step {
            pre: self.rom_charge_erase(cost),
            replies: vec![self.ok(req.op)],
            ..Default::default()
        }
    }

    fn rom_flash_data(&mut self, req: &Request) -> Step {
        let payload = match self.data_payload(req) {
            Ok(p) => p,
            Err(code) => return self.one(self.err(req.op, code)),
        };
        let Some(w) = &self.rom_write else {
            return self.one(self.err(req.op, rom_error::FAILED_TO_ACT));
        };
        let seq = req.word(1).unwrap_or(0);
        // Address from the sequence number, so a retransmitted block lands
        // where it belongs.
        let addr = w.offset as u64 + seq as u64 * w.block_size as u64;
        let Some(pages) = u32::try_from(addr)
            .ok()
            .and_then(|a| self.flash.program(a, payload))
        else {
            return self.one(self.err(req.op, rom_error::FLASH_WRITE_ERROR));
        };
        // The ROM reads the block back (docs/DEVICE.md, "Error codes",
        // 0x08): programming over bits that were not erased shows here.
        let a = addr as usize;
        if self.flash.contents().get(a..a + payload.len()) != Some(payload) {
            self.dirty = true;
            return self.one(self.err(req.op, rom_error::FLASH_WRITE_ERROR));
        }
        self.dirty = true;
        self.wrote_any = true;
        Step {
            pre: self.charge_program(pages),
            replies: vec![self.ok(req.op)],
            wrote: Some((addr as u32, payload.len() as u32)),
            ..Default::default()
        }
    }

    /// FLASH_END (ROM and stub) and FLASH_DEFL_END (stub).
    fn flash_end(&mut self, req: &Request) -> Step {
        // esptool sends a u32, espflash 2.1 a single byte (docs/DEVICE.md,
        // "espflash 2.1.0 on the ESP8266"); both
        // carry the flag in the first byte.
        let Some(&flag) = req.data.first() else {
            return self.one(self.err(req.op, self.bad_len()));
        };
        if self.in_stub() {
            let remaining = self.stub_write.as_ref().map(|w| w.remaining);
            match remaining {
                None => return self.one(self.err(req.op, stub_error::NOT_IN_FLASH_MODE)),
                Some(r) if r > 0 => return self.one(self.err(req.op, stub_error::NOT_ENOUGH_DATA)),
                Some(_) => self.stub_write = None,
            }
        } else {
            self.rom_write = None;
        }
        let mut step = self.one(self.ok(req.op));
        step.effects.push(Effect::Save);
        if flag == 0 {
            // Reboot. GPIO0 is still strapped low on a module in download
            // mode, so the chip comes back up in the ROM loader.
            step.effects.push(Effect::Reset);
        } else if !self.in_stub() {
            // ROM: "run user code". Stubs keep running (esptool's
            // FLASH_END(reboot=False) after a write).
            step.effects.push(Effect::RunUserCode);
        }
        step
    }

    // ------------------------------------------------------------------ stub

    fn handle_stub(&mut self, req: &Request) -> Step {
        let Some(op) = Opcode::from_u8(req.op) else {
            return self.one(self.err(req.op, stub_error::INVALID_COMMAND));
        };
        match op {
            Opcode::Sync => self.sync(req),
            Opcode::ReadReg => self.read_reg(req),
            Opcode::WriteReg => self.write_reg(req),
            Opcode::MemBegin => self.mem_begin(req),
            Opcode::MemData => self.mem_data(req),
            Opcode::MemEnd => {
                // A stub does not chain-load another one; just acknowledge.
                let mode = self.mode;
                let mut s = self.mem_end(req);
                s.effects.clear();
                self.mode = mode;
                s
            }
            Opcode::SpiSetParams => {
                if req.data.len() == 24 {
                    self.one(self.ok(req.op))
                } else {
                    self.one(self.err(req.op, stub_error::BAD_DATA_LEN))
                }
            }
            Opcode::SpiAttach => {
                if req.data.len() == 4 || req.data.len() == 8 {
                    self.one(self.ok(req.op))
                } else {
                    self.one(self.err(req.op, stub_error::BAD_DATA_LEN))
                }
            }
            Opcode::ChangeBaudrate => self.change_baud(req),
            Opcode::FlashBegin => self.stub_flash_begin(req, false),
            Opcode::FlashDeflBegin => self.stub_flash_begin(req, true),
            Opcode::FlashData => self.stub_flash_data(req, false),
            Opcode::FlashDeflData => self.stub_flash_data(req, true),
            Opcode::FlashEnd | Opcode::FlashDeflEnd => self.flash_end(req),
            Opcode::SpiFlashMd5 => self.md5(req),
            Opcode::EraseFlash => {
                let cost = self.flash.erase_all();
                self.dirty = true;
                self.wrote_any = true;
                Step {
                    pre: self.rom_charge_erase(cost),
                    replies: vec![self.ok(req.op)],
                    ..Default::default()
                }
            }
            Opcode::EraseRegion => self.erase_region(req),
            Opcode::ReadFlash => self.read_flash(req),
            Opcode::RunUserCode => Step {
                // No reply (docs/DEVICE.md, "Leaving the stub").
                effects: vec![Effect::RunUserCode],
                ..Default::default()
            },
        }
    }

    fn change_baud(&mut self, req: &Request) -> Step {
        match req.word(0) {
            Some(new) if req.data.len() == 8 && (300..=5_000_000).contains(&new) => {
                // Reply at the old rate, then switch (docs/DEVICE.md, "Baud change").
                let mut s = self.one(self.ok(req.op));
                s.effects.push(Effect::SetBaud(new));
                s
            }
            _ => self.one(self.err(req.op, stub_error::BAD_DATA_LEN)),
        }
    }

    fn stub_flash_begin(&mut self, req: &Request, deflate: bool) -> Step {
        // 16 bytes, or 20 with esptool 5.x's encrypt flag (docs/DEVICE.md,
        // "How the stub differs from the ROM").
        if req.data.len() != 16 && req.data.len() != 20 {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        }
        let (Some(size), Some(_blocks), Some(block_size), Some(offset)) =
            (req.word(0), req.word(1), req.word(2), req.word(3))
        else {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        };
        if block_size > 0x4000 {
            return self.one(self.err(req.op, stub_error::BAD_BLOCKSIZE));
        }
        if offset as u64 + size as u64 > self.flash.size() as u64 {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        }
        // Word 0 is the exact number of bytes that will be written; the
        // erase covers offset..offset+size rounded to sectors and happens
        // just ahead of the data.
        self.stub_write = Some(StubWrite {
            cursor: offset,
            remaining: size,
            erase: LazyErase::new(offset, size),
            inflate: deflate.then(|| Decompress::new(true)),
            inflate_done: false,
        });
        self.one(self.ok(req.op))
    }

    fn stub_flash_data(&mut self, req: &Request, deflate: bool) -> Step {
        match self.stub_write_block(req, deflate) {
            Ok(step) => step,
            Err(code) => self.one(self.err(req.op, code)),
        }
    }

    fn stub_write_block(&mut self, req: &Request, deflate: bool) -> Result<Step, u8> {
        let payload = self.data_payload(req)?.to_vec();
        let ok = self.ok(req.op);
        let w = self
            .stub_write
            .as_mut()
            .ok_or(stub_error::NOT_IN_FLASH_MODE)?;
        if deflate != w.inflate.is_some() {
            return Err(stub_error::NOT_IN_FLASH_MODE);
        }
        if payload.len() > 0x4000 {
            return Err(stub_error::BAD_BLOCKSIZE);
        }
        let data = match &mut w.inflate {
            None => payload,
            Some(z) => {
                if w.inflate_done {
                    // Only the Adler-32 trailer may follow the end of the
                    // stream (legacy stub: <= 4 bytes, else 0xC9).
                    if payload.len() <= 4 {
                        return Ok(Step {
                            replies: vec![ok],
                            ..Default::default()
                        });
                    }
                    return Err(stub_error::TOO_MUCH_DATA);
                }
                let (out, done) =
                    inflate_all(z, &payload).map_err(|()| stub_error::INFLATE_ERROR)?;
                w.inflate_done = done;
                out
            }
        };
        // Data beyond the announced size is silently dropped (legacy stub,
        // docs/DEVICE.md, "Erase-size quirk of the ROM" — this is what
        // truncates espflash 2.1's stub writes).
        let n = (data.len() as u32).min(w.remaining);
        let addr = w.cursor;
        let cost = w.erase.erase_until(&mut self.flash, addr + n);
        let pages = self.flash.program(addr, &data[..n as usize]).unwrap_or(0);
        w.cursor += n;
        w.remaining -= n;
        if n > 0 || cost != EraseCost::default() {
            self.dirty = true;
            self.wrote_any = true;
        }
        // Acknowledged before writing: the write overlaps the next block.
        let post = self.rom_charge_erase(cost) + self.charge_program(pages);
        Ok(Step {
            post,
            replies: vec![ok],
            wrote: (n > 0).then_some((addr, n)),
            ..Default::default()
        })
    }

    fn md5(&mut self, req: &Request) -> Step {
        let (Some(addr), Some(size)) = (req.word(0), req.word(1)) else {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        };
        let Some(bytes) = self.flash.read(addr, size) else {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        };
        let digest = Md5::digest(bytes);
        let mut s = self.one(self.ok_data(req.op, &digest));
        s.pre = self.timing.md5(size);
        self.stats.md5 += s.pre;
        s.effects.push(Effect::Save);
        s
    }

    fn erase_region(&mut self, req: &Request) -> Step {
        let (Some(offset), Some(size)) = (req.word(0), req.word(1)) else {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        };
        if offset % SECTOR != 0
            || size % SECTOR != 0
            || offset as u64 + size as u64 > self.flash.size() as u64
        {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        }
        let cost = self.flash.erase_sectors(offset / SECTOR, size / SECTOR);
        self.dirty = true;
        self.wrote_any = true;
        Step {
            pre: self.rom_charge_erase(cost),
            replies: vec![self.ok(req.op)],
            ..Default::default()
        }
    }

    fn read_flash(&mut self, req: &Request) -> Step {
        if req.data.len() != 16 {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        }
        let (Some(offset), Some(len), Some(packet), Some(max_in_flight)) =
            (req.word(0), req.word(1), req.word(2), req.word(3))
        else {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        };
        if packet == 0
            || packet > 0x4000
            || max_in_flight == 0
            || self.flash.read(offset, len).is_none()
        {
            return self.one(self.err(req.op, stub_error::BAD_DATA_LEN));
        }
        self.read = Some(FlashRead {
            next: offset,
            end: offset + len,
            start: offset,
            packet,
            max_in_flight,
            acked: 0,
            md5: Md5::new(),
        });
        self.one(self.ok(req.op))
    }
}

/// Inflate one chunk of a zlib stream. Returns the output and whether the
/// stream ended.
fn inflate_all(z: &mut Decompress, input: &[u8]) -> Result<(Vec<u8>, bool), ()> {
    let mut out = Vec::with_capacity(input.len() * 4 + 1024);
    let mut pos = 0usize;
    loop {
        if out.capacity() - out.len() < 32 * 1024 {
            out.reserve(64 * 1024);
        }
        let before_in = z.total_in();
        let before_out = z.total_out();
        let status = z
            .decompress_vec(&input[pos..], &mut out, FlushDecompress::None)
            .map_err(|_| ())?;
        pos += (z.total_in() - before_in) as usize;
        let progressed = z.total_in() != before_in || z.total_out() != before_out;
        match status {
            Status::StreamEnd => return Ok((out, true)),
            _ if pos >= input.len() && out.len() < out.capacity() => return Ok((out, false)),
            _ if !progressed => return Ok((out, false)),
            _ => {}
        }
        if out.len() > 64 * 1024 * 1024 {
            // A zip bomb cannot be a flash image.
            return Err(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> Device {
        Device::new(
            Chip::Esp8266,
            [1, 2, 3, 4, 5, 6],
            0x1440EF,
            Flash::blank(0x10_0000),
            TimingModel::off(),
        )
    }

    /// Arbitrary frames — random opcodes, sizes and words, including
    /// plausible-looking requests — never panic in either personality
    /// (docs/TESTING.md, "Fuzzing").
    #[test]
    fn arbitrary_frames_never_panic() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let interesting = [
            0u32,
            1,
            4,
            16,
            0x400,
            0x1000,
            0x4000,
            0xFFFF_FFFF,
            0x10_0000,
            0xFF000,
        ];
        for round in 0..4000 {
            let mut d = dev();
            if round % 2 == 1 {
                d.mode = Mode::Stub(StubFlavour::Legacy);
            }
            for _ in 0..20 {
                let op = match rnd() % 3 {
                    0 => (rnd() % 256) as u8,
                    _ => [
                        0x02u8, 0x03, 0x04, 0x05, 0x06, 0x07, 0x09, 0x0A, 0x0F, 0x10, 0x11, 0x12,
                        0x13, 0xD0, 0xD1, 0xD2,
                    ][(rnd() % 16) as usize],
                };
                let words = (rnd() % 7) as usize;
                let mut data = Vec::new();
                for _ in 0..words {
                    let w = if rnd() % 2 == 0 {
                        interesting[(rnd() % interesting.len() as u64) as usize]
                    } else {
                        rnd() as u32
                    };
                    data.extend_from_slice(&w.to_le_bytes());
                }
                for _ in 0..(rnd() % 40) {
                    data.push(rnd() as u8);
                }
                let mut frame = vec![0, op];
                let size = if rnd() % 8 == 0 {
                    rnd() as u16
                } else {
                    data.len() as u16
                };
                frame.extend_from_slice(&size.to_le_bytes());
                frame.extend_from_slice(&(rnd() as u32 % 300).to_le_bytes());
                frame.extend_from_slice(&data);
                if rnd() % 10 == 0 {
                    frame = (0..(rnd() % 12)).map(|_| rnd() as u8).collect();
                }
                let _ = d.handle(&frame);
                for _ in 0..3 {
                    let _ = d.poll_output();
                }
            }
        }
    }

    #[test]
    fn rom_write_with_the_workaround_lands_exactly() {
        let mut d = dev();
        let data: Vec<u8> = (0..0x1800u32).map(|i| (i * 7) as u8).collect();
        let erase = super::super::flash_model::esptool_erase_size(0x1000, 0x1800);
        let s =
            d.handle(&Request::words(Opcode::FlashBegin, &[erase, 6, 0x400, 0x1000]).to_bytes());
        assert_eq!(&s.replies[0].bytes[8..], &[0, 0]);
        for (i, c) in data.chunks(0x400).enumerate() {
            let s = d.handle(&Request::data_block(Opcode::FlashData, i as u32, c).to_bytes());
            assert_eq!(&s.replies[0].bytes[8..], &[0, 0]);
        }
        assert_eq!(d.flash.read(0x1000, 0x1800).unwrap(), &data[..]);
    }

    #[test]
    fn rom_erase_bug_destroys_neighbouring_data_without_the_workaround() {
        let mut d = dev();
        // Something already at 0x2000 …
        d.flash.program(0x2000, &[0x00; 16]);
        // … and a 1-sector write at 0x1000 asking for a 1-sector erase.
        d.handle(&Request::words(Opcode::FlashBegin, &[0x1000, 4, 0x400, 0x1000]).to_bytes());
        assert_eq!(d.flash.read(0x2000, 1), Some(&[0xFF][..]));
    }

    #[test]
    fn stub_inflates_a_stream_split_anywhere() {
        use std::io::Write;
        let data: Vec<u8> = (0..100_000u32)
            .map(|i| (i % 251) as u8 ^ (i / 1000) as u8)
            .collect();
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&data).unwrap();
        let comp = z.finish().unwrap();
        let mut d = dev();
        d.mode = Mode::Stub(StubFlavour::Legacy);
        let n = comp.len().div_ceil(0x4000) as u32;
        let begin = Request::words(
            Opcode::FlashDeflBegin,
            &[data.len() as u32, n, 0x4000, 0x20000, 0],
        );
        assert_eq!(&d.handle(&begin.to_bytes()).replies[0].bytes[8..], &[0, 0]);
        for (i, c) in comp.chunks(0x1234).enumerate() {
            let s = d.handle(&Request::data_block(Opcode::FlashDeflData, i as u32, c).to_bytes());
            assert_eq!(&s.replies[0].bytes[8..], &[0, 0], "block {i}");
        }
        let s = d.handle(&Request::words(Opcode::FlashDeflEnd, &[1]).to_bytes());
        assert_eq!(&s.replies[0].bytes[8..], &[0, 0]);
        assert_eq!(d.flash.read(0x20000, data.len() as u32).unwrap(), &data[..]);
    }

    #[test]
    fn stub_flash_end_before_all_data_is_c8() {
        let mut d = dev();
        d.mode = Mode::Stub(StubFlavour::V2);
        d.handle(&Request::words(Opcode::FlashBegin, &[0x800, 2, 0x400, 0]).to_bytes());
        d.handle(&Request::data_block(Opcode::FlashData, 0, &[0u8; 0x400]).to_bytes());
        let s = d.handle(&Request::words(Opcode::FlashEnd, &[1]).to_bytes());
        assert_eq!(&s.replies[0].bytes[8..], &[0xC8, 0]);
    }

    #[test]
    fn run_user_code_sends_nothing_and_the_loader_goes_quiet() {
        let mut d = dev();
        d.mode = Mode::Stub(StubFlavour::Legacy);
        let s = d.handle(&Request::new(Opcode::RunUserCode, vec![]).to_bytes());
        assert!(s.replies.is_empty());
        assert_eq!(s.effects, vec![Effect::RunUserCode]);
    }

    #[test]
    fn esp32_rom_has_four_status_bytes_and_its_magic() {
        let mut d = Device::new(
            Chip::Esp32,
            [0; 6],
            0x1440EF,
            Flash::blank(0x1000),
            TimingModel::off(),
        );
        let s = d.handle(&Request::words(Opcode::ReadReg, &[0x4000_1000]).to_bytes());
        let b = &s.replies[0].bytes;
        assert_eq!(u32::from_le_bytes([b[4], b[5], b[6], b[7]]), 0x00F0_1D83);
        assert_eq!(&b[8..], &[0, 0, 0, 0]);
        let s = d.handle(&Request::new(Opcode::SpiFlashMd5, vec![0; 16]).to_bytes());
        assert_eq!(&s.replies[0].bytes[8..], &[1, 5, 0, 0]);
    }

    #[test]
    fn change_baudrate_replies_first_then_switches() {
        let mut d = dev();
        d.mode = Mode::Stub(StubFlavour::Legacy);
        let s = d.handle(&Request::words(Opcode::ChangeBaudrate, &[921_600, 115_200]).to_bytes());
        assert_eq!(s.replies.len(), 1);
        assert_eq!(s.effects, vec![Effect::SetBaud(921_600)]);
        // The ROM has no CHANGE_BAUDRATE (docs/DEVICE.md, "Commands").
        let mut r = dev();
        let s = r.handle(&Request::words(Opcode::ChangeBaudrate, &[921_600, 0]).to_bytes());
        assert_eq!(&s.replies[0].bytes[8..], &[1, 5]);
    }
}
