//! The host side of the ESP8266 serial bootloader protocol: SYNC, registers,
//! chip check, eFuse/MAC, flash ID, stub upload, baud change, compressed
//! writes, MD5, READ_FLASH and the ROM write path.
//!
//! Why our own loader and not espflash 2.1's `Connection`/`Flasher`: we do use
//! espflash's chip table (`Chip::from_magic`, to name an ESP32 we refuse) and
//! the ESP8266 stub it ships (`stub/esp8266.toml`, esptool's legacy stub), and
//! its `Interface` accepts any port of [`crate::serial::transport`]. But its
//! ESP8266 write path is unusable (docs/DEVICE.md, "espflash 2.1.0 on the
//! ESP8266"): no CHANGE_BAUDRATE, 1 KiB uncompressed blocks, the ROM erase-size
//! workaround sent to the stub (which truncates the image), FLASH_END not
//! awaited and no MD5. Its `Connection` alone is not a good base either:
//! `read()` merges SLIP frames into one buffer ("espflash 2.1.0 on the
//! ESP8266") — so the stub's raw READ_FLASH frames and late replies after a
//! stall are mis-parsed —, `sync()` and `command()` check different status
//! bytes (same section), there is no retry, and MEM_END's 50 ms limit with
//! errors not ignored ("Timeouts") fails on a busy host. Every command needed
//! here is a few lines on top of `protocol.rs` + `slip.rs`, so the loader owns
//! the wire; espflash stays the source of the stub and the chip names.
//!
//! Measured on `espmqtt emulate --baud-model on` (scripts/bench-flash, 1 MiB
//! image compressing to 586 KB): this loader writes it in 14.5 s at 460800
//! (esptool `write-flash -z`: 17.1 s). espflash 2.1's ESP8266 path is bound to
//! 115200 and uncompressed, i.e. the ROM path's wire cost — 102 s here for the
//! same image with our `--no-stub` (esptool `--no-stub`: 106 s) — and with its
//! stub it would truncate the image ("Erase-size quirk of the ROM"; pinned by
//! the emulator's espflash tests). Reusing only its `Connection` would save
//! about 150 lines and cost the retry and recovery behaviour the fault tests
//! rely on.
//!
//! Every read has a deadline; nothing here blocks without one.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::time::{Duration, Instant};

use serialport::{ClearBuffer, SerialPort};

use super::error::{error_meaning, FlashError, FlashResult, Heard};
use super::protocol::{
    Opcode, Request, Response, CHIP_DETECT_MAGIC_REG, ESP8266_MAGIC, ROM_BLOCK_SIZE, SECTOR_SIZE,
    STUB_BLOCK_SIZE, STUB_GREETING, SYNC_PAYLOAD,
};
use super::slip::{self, SlipDecoder, SlipEvent};
use crate::serial::control::{self, Lines};

/// Default command timeout (esptool and espflash: 3 s, docs/DEVICE.md,
/// "Timeouts").
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// Connection attempts (reset + 5 SYNCs each), as esptool and espflash.
pub const CONNECT_ATTEMPTS: u32 = 7;
const SYNCS_PER_ATTEMPT: u32 = 5;
/// Wait for the first SYNC reply (esptool 0.1 s, espflash 100 ms).
const SYNC_TIMEOUT: Duration = Duration::from_millis(100);
/// Bytes kept of what a port sent back while connecting.
const HEARD_KEPT: usize = 2048;

/// RAM download block (`ESP_RAM_BLOCK`).
const RAM_BLOCK: usize = 0x1800;

const EFUSE_BASE: u32 = 0x3FF0_0050;
const SPI_BASE: u32 = 0x6000_0200;
const SPI_CMD: u32 = SPI_BASE;
const SPI_USR: u32 = SPI_BASE + 0x1C;
const SPI_USR1: u32 = SPI_BASE + 0x20;
const SPI_USR2: u32 = SPI_BASE + 0x24;
const SPI_W0: u32 = SPI_BASE + 0x40;
const SPI_CMD_USR: u32 = 1 << 18;
const UART_CLKDIV_REG: u32 = 0x6000_0014;

fn op_name(op: u8) -> String {
    match Opcode::from_u8(op) {
        Some(o) => {
            let s = format!("{o:?}");
            // FlashDeflData → FLASH_DEFL_DATA, the names the docs use.
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_uppercase());
            }
            out
        }
        None => format!("command 0x{op:02x}"),
    }
}

/// Time to move `bytes` over the wire at `baud` (8N1 = 10 bits a byte).
pub fn wire_time(bytes: usize, baud: u32) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 10.0 / baud.max(1) as f64)
}

fn per_mb(secs_per_mb: f64, bytes: usize) -> Duration {
    Duration::from_secs_f64(secs_per_mb * bytes as f64 / 1_048_576.0).max(DEFAULT_TIMEOUT)
}

/// The ROM erase-size workaround (esptool `ESP8266ROM.get_erase_size`,
/// docs/DEVICE.md, "Erase-size quirk of the ROM"): the ROM's SPIEraseArea
/// over-erases, so it is asked for less than needed in a way that makes it
/// erase exactly the right sectors.
pub fn rom_erase_size(offset: u32, size: u32) -> u32 {
    let sectors_per_block = 16u32;
    let num_sectors = size.div_ceil(SECTOR_SIZE);
    let start_sector = offset / SECTOR_SIZE;
    let head_sectors = (sectors_per_block - (start_sector % sectors_per_block)).min(num_sectors);
    if num_sectors < 2 * head_sectors {
        num_sectors.div_ceil(2) * SECTOR_SIZE
    } else {
        (num_sectors - head_sectors) * SECTOR_SIZE
    }
}

/// Flash size in bytes from a JEDEC ID (esptool `DETECTED_FLASH_SIZES`,
/// docs/DEVICE.md, "Reading the flash ID").
pub fn flash_size_from_id(id: u32) -> Option<u32> {
    let size_id = (id >> 16) & 0xFF;
    let mb = |n: u32| Some(n * 1024 * 1024);
    match size_id {
        0x12 | 0x32 => Some(256 * 1024),
        0x13 | 0x33 => Some(512 * 1024),
        0x14 | 0x34 => mb(1),
        0x15 | 0x35 => mb(2),
        0x16 | 0x36 => mb(4),
        0x17 | 0x37 => mb(8),
        0x18 | 0x38 => mb(16),
        _ => None,
    }
}

/// Human name of a chip espflash knows by its magic value.
pub fn chip_name(magic: u32) -> Option<String> {
    use espflash::targets::Chip;
    let chip = Chip::from_magic(magic).ok()?;
    Some(
        match chip {
            Chip::Esp32 => "ESP32",
            Chip::Esp32c2 => "ESP32-C2",
            Chip::Esp32c3 => "ESP32-C3",
            Chip::Esp32c6 => "ESP32-C6",
            Chip::Esp32s2 => "ESP32-S2",
            Chip::Esp32s3 => "ESP32-S3",
            Chip::Esp32h2 => "ESP32-H2",
            Chip::Esp8266 => "ESP8266",
            _ => "ESP32-family chip",
        }
        .to_string(),
    )
}

/// The flasher stub image (text + data segments and entry point).
#[derive(Debug, serde::Deserialize)]
struct StubToml {
    entry: u32,
    text: String,
    text_start: u32,
    data: String,
    data_start: u32,
}

/// esptool's legacy ESP8266 stub as shipped by espflash 2.1.0
/// (`resources/stubs/stub_flasher_8266.toml`, docs/DEVICE.md, "The flasher
/// stub"): loaded at
/// 0x4010D000 / 0x3FFFACA8; accepts 16-byte FLASH_(DEFL_)BEGIN only.
const STUB_ESP8266: &str = include_str!("stub/esp8266.toml");

pub struct Stub {
    pub entry: u32,
    pub segments: Vec<(u32, Vec<u8>)>,
}

impl Stub {
    pub fn esp8266() -> FlashResult<Stub> {
        use base64::Engine as _;
        let bad = |e: String| FlashError::Stub {
            reason: format!("embedded stub image is damaged: {e}"),
        };
        let t: StubToml = toml::from_str(STUB_ESP8266).map_err(|e| bad(e.to_string()))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let text = b64.decode(&t.text).map_err(|e| bad(e.to_string()))?;
        let data = b64.decode(&t.data).map_err(|e| bad(e.to_string()))?;
        Ok(Stub {
            entry: t.entry,
            segments: vec![(t.text_start, text), (t.data_start, data)],
        })
    }
}

/// Facts read from the module.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModuleInfo {
    pub chip: String,
    pub mac: String,
    pub chip_id: u32,
    pub flash_id: u32,
    /// Detected flash size in bytes, `None` when the ID is not in the table.
    pub flash_size: Option<u32>,
    pub crystal_mhz: u32,
}

/// A connection to a module in download mode.
pub struct Loader {
    port: Box<dyn SerialPort>,
    port_name: String,
    /// Whether DTR/RTS can reset the module (`socket://` has no lines).
    lines: Lines,
    /// What the user should hear once (a port that cannot reset the module).
    pub notes: Vec<String>,
    decoder: SlipDecoder,
    frames: VecDeque<Vec<u8>>,
    rx: Vec<u8>,
    /// What came back while connecting ([`Heard`]): the first bytes and how
    /// many, and whether our own SYNC came back unchanged.
    heard: Vec<u8>,
    heard_total: usize,
    echoed: bool,
    /// The flasher stub is running (replies put the error code first).
    pub stub: bool,
    /// Baud currently in use on the line.
    pub baud: u32,
}

impl Loader {
    pub fn new(port: Box<dyn SerialPort>, port_name: &str, lines: Lines) -> Loader {
        let baud = port.baud_rate().unwrap_or(115_200);
        Loader {
            port,
            port_name: port_name.to_string(),
            lines,
            notes: Vec::new(),
            decoder: SlipDecoder::new(),
            frames: VecDeque::new(),
            rx: vec![0u8; 8192],
            heard: Vec::new(),
            heard_total: 0,
            echoed: false,
            stub: false,
            baud,
        }
    }

    fn io_err(&self, e: io::Error) -> FlashError {
        FlashError::Io {
            reason: format!("{}: {e}", self.port_name),
            network: self.port_name.starts_with("socket://")
                || self.port_name.starts_with("rfc2217://"),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> FlashResult<()> {
        let r = self.port.write_all(bytes).and_then(|_| self.port.flush());
        r.map_err(|e| self.io_err(e))
    }

    fn send(&mut self, req: &Request) -> FlashResult<()> {
        let wire = slip::encode(&req.to_bytes());
        self.write_all(&wire)
    }

    /// Drop everything received so far (stale replies after a timeout, the
    /// remaining SYNC replies, boot noise). Both tools do this before every
    /// command (docs/DEVICE.md, "espflash 2.1.0 on the ESP8266").
    pub fn discard_input(&mut self) -> FlashResult<()> {
        self.frames.clear();
        self.decoder = SlipDecoder::new();
        self.port
            .clear(ClearBuffer::Input)
            .map_err(|e| self.io_err(e.into()))
    }

    /// Next complete SLIP frame, or `None` at the deadline.
    fn read_frame(&mut self, deadline: Instant) -> FlashResult<Option<Vec<u8>>> {
        loop {
            if let Some(f) = self.frames.pop_front() {
                return Ok(Some(f));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            let left = (deadline - now).max(Duration::from_millis(1));
            self.port
                .set_timeout(left)
                .map_err(|e| self.io_err(e.into()))?;
            match self.port.read(&mut self.rx) {
                Ok(0) => continue,
                Ok(n) => {
                    self.heard_total += n;
                    if self.heard.len() < HEARD_KEPT {
                        let take = n.min(HEARD_KEPT - self.heard.len());
                        self.heard.extend_from_slice(&self.rx[..take]);
                    }
                    for i in 0..n {
                        if let Some(SlipEvent::Frame(f)) = self.decoder.push(self.rx[i]) {
                            self.frames.push_back(f);
                        }
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut
                            | io::ErrorKind::WouldBlock
                            | io::ErrorKind::Interrupted
                    ) =>
                {
                    continue
                }
                Err(e) => return Err(self.io_err(e)),
            }
        }
    }

    fn check(&self, r: Response) -> FlashResult<Response> {
        if r.is_ok() {
            return Ok(r);
        }
        // ROM: [status=1, error]; legacy stub: [error, status] (docs/DEVICE.md,
        // "Packets").
        let [a, b] = r.status;
        let code = if self.stub {
            if a != 0 {
                a
            } else {
                b
            }
        } else if b != 0 {
            b
        } else {
            a
        };
        Err(FlashError::Device {
            op: op_name(r.op),
            code,
            meaning: error_meaning(code),
        })
    }

    fn await_reply(&mut self, op: u8, timeout: Duration) -> FlashResult<Response> {
        let deadline = Instant::now() + timeout;
        loop {
            match self.read_frame(deadline)? {
                None => {
                    return Err(FlashError::Timeout {
                        op: op_name(op),
                        ms: timeout.as_millis(),
                    })
                }
                Some(f) => {
                    if let Some(r) = Response::parse(&f) {
                        if r.op == op {
                            return self.check(r);
                        }
                    }
                }
            }
        }
    }

    /// Send a command and wait for its reply. Not retried: use this for
    /// commands that change state (data blocks, begin/end).
    pub fn command(&mut self, req: &Request, timeout: Duration) -> FlashResult<Response> {
        self.discard_input()?;
        self.send(req)?;
        // The reply cannot arrive before the request has crossed the wire.
        let wire = wire_time(req.data.len() + 16, self.baud);
        self.await_reply(req.op, timeout + wire)
    }

    /// A command without side effects: retried on timeouts and garbled
    /// replies (esptool retries reads the same way).
    pub fn command_idempotent(
        &mut self,
        req: &Request,
        timeout: Duration,
    ) -> FlashResult<Response> {
        let mut last = None;
        for _ in 0..3 {
            match self.command(req, timeout) {
                Ok(r) => return Ok(r),
                Err(e @ (FlashError::Timeout { .. } | FlashError::Device { .. })) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(FlashError::Timeout {
            op: op_name(req.op),
            ms: timeout.as_millis(),
        }))
    }

    /// One SYNC; `Some(value)` of the first reply when the loader answered. The
    /// ROM answers each SYNC 8 times (docs/DEVICE.md, "SYNC"); the extra
    /// replies are drained.
    pub fn sync(&mut self) -> FlashResult<Option<u32>> {
        self.discard_input()?;
        self.send(&Request::new(Opcode::Sync, SYNC_PAYLOAD.to_vec()))?;
        let deadline = Instant::now() + SYNC_TIMEOUT + wire_time(60, self.baud);
        let mut value = None;
        while let Some(f) = self.read_frame(deadline)? {
            // Our own request (direction 0x00) coming back: TX joined to RX.
            if f.first() == Some(&0) && f.get(1) == Some(&(Opcode::Sync as u8)) {
                self.echoed = true;
            }
            if let Some(r) = Response::parse(&f) {
                if r.op == Opcode::Sync as u8 {
                    value = Some(r.value);
                    break;
                }
            }
        }
        if value.is_some() {
            // Drain the other 7 replies: until 30 ms of silence, at most 300 ms.
            let end = Instant::now() + Duration::from_millis(300);
            loop {
                let d = (Instant::now() + Duration::from_millis(30)).min(end);
                if self.read_frame(d)?.is_none() {
                    break;
                }
            }
        }
        Ok(value)
    }

    /// Reset into the bootloader (where DTR/RTS exist) and sync. Returns
    /// whether a stub was already running (SYNC value 0, docs/DEVICE.md,
    /// "SYNC").
    pub fn connect(&mut self, attempts: u32, reset: bool) -> FlashResult<bool> {
        self.heard.clear();
        self.heard_total = 0;
        self.echoed = false;
        for attempt in 0..attempts {
            if reset {
                // Alternate short and long reset delays as esptool does.
                self.reset_into_loader(attempt % 2 == 1);
            }
            for _ in 0..SYNCS_PER_ATTEMPT {
                if let Some(value) = self.sync()? {
                    let stub = value == 0;
                    self.stub = stub;
                    return Ok(stub);
                }
            }
        }
        Err(FlashError::NoSync {
            port: self.port_name.clone(),
            attempts,
            syncs: attempts * SYNCS_PER_ATTEMPT,
            heard: Heard::of(self.echoed, self.heard_total, &self.heard),
            note: match &self.lines {
                Lines::Failed(no) => format!("; it cannot reset the module ({no})"),
                _ => String::new(),
            },
        })
    }

    /// Reset into the ROM loader through DTR/RTS
    /// ([`control::enter_bootloader`]). A port that cannot drive the lines
    /// is noted once and not asked again; adapters without the auto-reset
    /// transistors (a bare ESP-07) change the lines to no effect, which no
    /// host can see.
    fn reset_into_loader(&mut self, long: bool) {
        if self.lines != Lines::Available {
            return;
        }
        if let Err(no) = control::enter_bootloader(self.port.as_mut(), long) {
            self.notes.push(control::cannot_reset(&self.port_name, &no));
            self.lines = Lines::Failed(no);
        }
    }

    /// Restart the module into its firmware ([`control::run_firmware`]).
    /// Returns what to tell the user when the port could not do it and
    /// nobody was told yet.
    pub fn hard_reset(&mut self) -> Option<String> {
        if self.lines != Lines::Available {
            return None;
        }
        match control::run_firmware(self.port.as_mut()) {
            Ok(()) => None,
            Err(no) => {
                let msg = format!(
                    "--after hard-reset: {} cannot drive DTR/RTS ({no}); reset the module by \
                     hand (GPIO0 high) to start the new firmware",
                    self.port_name
                );
                self.lines = Lines::Failed(no);
                Some(msg)
            }
        }
    }

    pub fn read_reg(&mut self, addr: u32) -> FlashResult<u32> {
        let r =
            self.command_idempotent(&Request::words(Opcode::ReadReg, &[addr]), DEFAULT_TIMEOUT)?;
        Ok(r.value)
    }

    pub fn write_reg(&mut self, addr: u32, value: u32) -> FlashResult<()> {
        let req = Request::words(Opcode::WriteReg, &[addr, value, 0xFFFF_FFFF, 0]);
        self.command_idempotent(&req, DEFAULT_TIMEOUT)?;
        Ok(())
    }

    /// Refuse anything but an ESP8266, naming what was found.
    pub fn check_chip(&mut self) -> FlashResult<()> {
        let mut magic = self.read_reg(CHIP_DETECT_MAGIC_REG)?;
        if magic != ESP8266_MAGIC {
            // Confirm before refusing: one garbled reply is not a verdict.
            magic = self.agreed(|l| l.read_reg(CHIP_DETECT_MAGIC_REG))?;
        }
        if magic == ESP8266_MAGIC {
            return Ok(());
        }
        Err(match chip_name(magic) {
            Some(chip) => FlashError::WrongChip { chip, magic },
            None => FlashError::UnknownChip { magic },
        })
    }

    /// MAC, chip ID and crystal from the eFuses and the UART divider
    /// (docs/DEVICE.md, "Registers").
    pub fn read_identity(&mut self) -> FlashResult<(String, u32, u32)> {
        let mut e = [0u32; 4];
        for (i, w) in e.iter_mut().enumerate() {
            *w = self.read_reg(EFUSE_BASE + 4 * i as u32)?;
        }
        let oui = if e[3] != 0 {
            [(e[3] >> 16) as u8, (e[3] >> 8) as u8, e[3] as u8]
        } else {
            match (e[1] >> 16) & 0xFF {
                0 => [0x18, 0xFE, 0x34],
                1 => [0xAC, 0xD0, 0x74],
                other => {
                    return Err(FlashError::BadReply {
                        op: "READ_REG (eFuse)".into(),
                        reason: format!("unknown MAC OUI selector {other}"),
                    })
                }
            }
        };
        let mac = [
            oui[0],
            oui[1],
            oui[2],
            (e[1] >> 8) as u8,
            e[1] as u8,
            (e[0] >> 24) as u8,
        ];
        let mac = mac
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":");
        let chip_id = (e[0] >> 24) | ((e[1] & 0x00FF_FFFF) << 8);
        let div = self.read_reg(UART_CLKDIV_REG)? & 0xFFFFF;
        let est = (self.port.baud_rate().unwrap_or(115_200) as u64 * div as u64) / 1_000_000 / 2;
        let crystal = if est > 33 { 40 } else { 26 };
        Ok((mac, chip_id, crystal))
    }

    /// JEDEC ID through the SPI user-command registers (esptool's ESP8266
    /// sequence, docs/DEVICE.md, "Reading the flash ID"). On the ROM,
    /// FLASH_BEGIN(0,0) attaches the flash first.
    pub fn flash_id(&mut self) -> FlashResult<u32> {
        if !self.stub {
            let req = Request::words(Opcode::FlashBegin, &[0, 0, ROM_BLOCK_SIZE, 0]);
            // Size 0: nothing is erased, so repeating it is harmless.
            self.command_idempotent(&req, DEFAULT_TIMEOUT)?;
        }
        let old_usr = self.read_reg(SPI_USR)?;
        let old_usr2 = self.read_reg(SPI_USR2)?;
        self.write_reg(SPI_USR1, (24 - 1) << 8)?;
        self.write_reg(SPI_USR, (1 << 31) | (1 << 28))?;
        self.write_reg(SPI_USR2, (7 << 28) | 0x9F)?;
        self.write_reg(SPI_W0, 0)?;
        self.write_reg(SPI_CMD, SPI_CMD_USR)?;
        let mut done = false;
        for _ in 0..10 {
            if self.read_reg(SPI_CMD)? & SPI_CMD_USR == 0 {
                done = true;
                break;
            }
        }
        if !done {
            return Err(FlashError::SpiTimeout);
        }
        let id = self.read_reg(SPI_W0)? & 0x00FF_FFFF;
        self.write_reg(SPI_USR, old_usr)?;
        self.write_reg(SPI_USR2, old_usr2)?;
        Ok(id)
    }

    /// Upload the stub to RAM, start it and wait for `OHAI` (docs/DEVICE.md,
    /// "Uploading the stub"). A failed
    /// upload (lost reply, checksum error) is restarted from MEM_BEGIN once;
    /// if the stub did start and only its greeting was lost, a SYNC answered
    /// with value 0 says so.
    pub fn load_stub(&mut self) -> FlashResult<()> {
        match self.load_stub_once() {
            Ok(()) => Ok(()),
            Err(
                e @ (FlashError::Timeout { .. }
                | FlashError::Device { .. }
                | FlashError::Stub { .. }),
            ) => {
                std::thread::sleep(Duration::from_millis(100));
                for _ in 0..5 {
                    match self.sync()? {
                        Some(0) => {
                            self.stub = true;
                            return Ok(());
                        }
                        Some(_) => return self.load_stub_once(),
                        None => {}
                    }
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }

    fn load_stub_once(&mut self) -> FlashResult<()> {
        let stub = Stub::esp8266()?;
        for (addr, bytes) in &stub.segments {
            let blocks = bytes.len().div_ceil(RAM_BLOCK) as u32;
            let req = Request::words(
                Opcode::MemBegin,
                &[bytes.len() as u32, blocks, RAM_BLOCK as u32, *addr],
            );
            self.command(&req, DEFAULT_TIMEOUT)?;
            for (seq, chunk) in bytes.chunks(RAM_BLOCK).enumerate() {
                let req = Request::data_block(Opcode::MemData, seq as u32, chunk);
                self.command(&req, DEFAULT_TIMEOUT)?;
            }
        }
        self.discard_input()?;
        self.send(&Request::words(Opcode::MemEnd, &[0, stub.entry]))?;
        // The MEM_END reply may be lost when the stub takes over the UART;
        // esptool ignores it (docs/DEVICE.md, "Uploading the stub"). What
        // counts is the greeting.
        let deadline = Instant::now() + Duration::from_secs(2);
        while let Some(f) = self.read_frame(deadline)? {
            if f.as_slice() == STUB_GREETING {
                self.stub = true;
                return Ok(());
            }
        }
        Err(FlashError::Stub {
            reason: "no OHAI greeting within 2 s after starting it".into(),
        })
    }

    /// Leave the stub through a reboot: FLASH_BEGIN(0,0) then FLASH_END(0)
    /// (esptool's soft reset with a stub, docs/DEVICE.md, "Leaving the stub").
    /// With GPIO0 held
    /// low the ROM loader comes back; with an auto-reset circuit the
    /// DTR/RTS sequence of [`Loader::connect`] puts it there.
    pub fn reboot_to_rom(&mut self) -> FlashResult<()> {
        let begin = Request::words(Opcode::FlashBegin, &[0, 0, STUB_BLOCK_SIZE, 0]);
        self.command_idempotent(&begin, DEFAULT_TIMEOUT)?;
        self.discard_input()?;
        self.send(&Request::words(Opcode::FlashEnd, &[0]))?;
        // The reply may not make it out before the reset; it is not needed.
        let _ = self.await_reply(Opcode::FlashEnd as u8, Duration::from_millis(300));
        std::thread::sleep(Duration::from_millis(100));
        self.stub = false;
        let _ = self.port.set_baud_rate(115_200);
        self.baud = 115_200;
        if self.connect(CONNECT_ATTEMPTS, true)? {
            return Err(FlashError::Stub {
                reason: "the flasher stub kept running after the reboot request".into(),
            });
        }
        Ok(())
    }

    /// Switch the stub and the port to `baud` (docs/DEVICE.md, "Baud change":
    /// the stub replies first).
    pub fn change_baud(&mut self, baud: u32) -> FlashResult<()> {
        let old = self.baud;
        let req = Request::words(Opcode::ChangeBaudrate, &[baud, old]);
        if let Err(e) = self.command(&req, DEFAULT_TIMEOUT) {
            // Lost reply: the stub may or may not have switched. Find out
            // which speed it answers at, and ask again if it stayed.
            if !matches!(e, FlashError::Timeout { .. }) {
                return Err(e);
            }
            for speed in [baud, old] {
                let _ = self.port.set_baud_rate(speed);
                self.baud = speed;
                if self.sync()?.is_some() {
                    if speed == baud {
                        return Ok(());
                    }
                    self.command(&req, DEFAULT_TIMEOUT)?;
                    break;
                }
            }
            if self.baud != old {
                return Err(e);
            }
        }
        self.port
            .set_baud_rate(baud)
            .map_err(|e| self.io_err(e.into()))?;
        self.baud = baud;
        std::thread::sleep(Duration::from_millis(50));
        self.discard_input()?;
        // A dead link at the new speed shows up here, not halfway through a write.
        self.read_reg(CHIP_DETECT_MAGIC_REG).map_err(|e| match e {
            FlashError::Timeout { .. } => FlashError::Timeout {
                op: format!("the first command at {baud} baud (try a lower --baud)"),
                ms: DEFAULT_TIMEOUT.as_millis(),
            },
            other => other,
        })?;
        Ok(())
    }

    /// MD5 of a flash range computed by the stub (docs/DEVICE.md, "MD5 and
    /// READ_FLASH").
    pub fn flash_md5(&mut self, offset: u32, len: u32) -> FlashResult<[u8; 16]> {
        let req = Request::words(Opcode::SpiFlashMd5, &[offset, len, 0, 0]);
        let r = self.command_idempotent(&req, per_mb(8.0, len as usize))?;
        let digest: Option<[u8; 16]> = match r.data.len() {
            16 => r.data.as_slice().try_into().ok(),
            32 => std::str::from_utf8(&r.data)
                .ok()
                .and_then(|s| hex::decode(s).ok())
                .and_then(|v| v.as_slice().try_into().ok()),
            _ => None,
        };
        digest.ok_or_else(|| FlashError::BadReply {
            op: "SPI_FLASH_MD5".into(),
            reason: format!("{} bytes of digest", r.data.len()),
        })
    }

    /// Write `data` at `offset` with the stub: `compressed` is its zlib
    /// stream (`deflate.rs`), sent as FLASH_DEFL_* in 16 KiB blocks; the
    /// closing FLASH_DEFL_END surfaces the last block's error (the stub acknowledges a block before writing it,
    /// docs/DEVICE.md, "How the stub differs from the ROM"). `on_progress` gets
    /// uncompressed bytes done.
    pub fn write_deflated(
        &mut self,
        offset: u32,
        data: &[u8],
        compressed: &[u8],
        on_progress: &mut dyn FnMut(u64),
    ) -> FlashResult<()> {
        let block = STUB_BLOCK_SIZE as usize;
        let blocks = compressed.len().div_ceil(block).max(1) as u32;
        // 16-byte FLASH_DEFL_BEGIN: the legacy stub espflash ships rejects 20
        // (docs/DEVICE.md, "How the stub differs from the ROM").
        // Word 0 is the exact byte count for a stub — not the ROM erase size.
        let req = Request::words(
            Opcode::FlashDeflBegin,
            &[data.len() as u32, blocks, STUB_BLOCK_SIZE, offset],
        );
        self.command(&req, per_mb(40.0, data.len()))?;
        let per_block_out = data.len() / blocks as usize + 1;
        let mut done = 0usize;
        for (seq, chunk) in compressed.chunks(block).enumerate() {
            let req = Request::data_block(Opcode::FlashDeflData, seq as u32, chunk);
            self.command(&req, per_mb(40.0, per_block_out * 2))?;
            done += chunk.len();
            on_progress((done as u64 * data.len() as u64) / compressed.len().max(1) as u64);
        }
        self.command(
            &Request::words(Opcode::FlashDeflEnd, &[1]),
            per_mb(40.0, per_block_out * 2),
        )?;
        Ok(())
    }

    /// Write with the ROM loader: FLASH_BEGIN with the erase-size workaround, 1
    /// KiB FLASH_DATA blocks padded with 0xFF (docs/DEVICE.md, "Checksum").
    /// Trailing blocks that are all 0xFF are not sent: FLASH_BEGIN already
    /// erased them. No FLASH_END — it would make the ROM leave the loader
    /// (docs/DEVICE.md, "Commands"). Returns the block bytes sent.
    pub fn write_rom(
        &mut self,
        offset: u32,
        data: &[u8],
        on_progress: &mut dyn FnMut(u64),
    ) -> FlashResult<usize> {
        let block = ROM_BLOCK_SIZE as usize;
        let total_blocks = data.len().div_ceil(block);
        let used = data
            .chunks(block)
            .rposition(|c| c.iter().any(|&b| b != 0xFF))
            .map_or(0, |i| i + 1);
        let erase = rom_erase_size(offset, data.len() as u32);
        let req = Request::words(
            Opcode::FlashBegin,
            &[erase, total_blocks as u32, ROM_BLOCK_SIZE, offset],
        );
        self.command(&req, per_mb(40.0, data.len()))?;
        for (seq, chunk) in data.chunks(block).take(used).enumerate() {
            let mut padded = chunk.to_vec();
            padded.resize(block, 0xFF);
            let req = Request::data_block(Opcode::FlashData, seq as u32, &padded);
            // Up to 3 attempts per block, as esptool (WRITE_BLOCK_ATTEMPTS):
            // the ROM places a block by its sequence number, and programming
            // the same bytes twice leaves NOR flash unchanged.
            let mut attempt = 0;
            loop {
                attempt += 1;
                match self.command(&req, per_mb(40.0, block * 4)) {
                    Ok(_) => break,
                    Err(FlashError::Timeout { .. } | FlashError::Device { .. }) if attempt < 3 => {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Err(e) => return Err(e),
                }
            }
            on_progress(((seq + 1) * block).min(data.len()) as u64);
        }
        on_progress(data.len() as u64);
        Ok(used * block)
    }

    /// READ_FLASH with the stub's acknowledgement flow (docs/DEVICE.md, "MD5
    /// and READ_FLASH"); checks the closing MD5.
    pub fn read_flash(&mut self, offset: u32, len: u32) -> FlashResult<Vec<u8>> {
        const PACKET: u32 = 0x1000;
        let req = Request::words(Opcode::ReadFlash, &[offset, len, PACKET, 64]);
        self.command(&req, DEFAULT_TIMEOUT)?;
        let mut out = Vec::with_capacity(len as usize);
        while out.len() < len as usize {
            let deadline = Instant::now() + DEFAULT_TIMEOUT + wire_time(PACKET as usize, self.baud);
            let frame = self.read_frame(deadline)?.ok_or(FlashError::Timeout {
                op: "READ_FLASH data".into(),
                ms: DEFAULT_TIMEOUT.as_millis(),
            })?;
            if frame.len() > PACKET as usize || out.len() + frame.len() > len as usize {
                return Err(FlashError::BadReply {
                    op: "READ_FLASH".into(),
                    reason: format!("data frame of {} bytes", frame.len()),
                });
            }
            out.extend_from_slice(&frame);
            let ack = slip::encode(&(out.len() as u32).to_le_bytes());
            self.write_all(&ack)?;
        }
        let deadline = Instant::now() + DEFAULT_TIMEOUT;
        let digest = self.read_frame(deadline)?.ok_or(FlashError::Timeout {
            op: "READ_FLASH digest".into(),
            ms: DEFAULT_TIMEOUT.as_millis(),
        })?;
        let actual = md5_of(&out);
        if digest.as_slice() != actual.as_slice() {
            return Err(FlashError::BadReply {
                op: "READ_FLASH".into(),
                reason: "the data does not match the MD5 the stub sent".into(),
            });
        }
        Ok(out)
    }

    /// Read the identity of the module after a successful sync.
    ///
    /// Each fact is read until two reads agree: a garbled reply (whose status
    /// still says "ok") must not put a wrong MAC in the registry or a wrong
    /// flash size under the config blob.
    pub fn identify(&mut self) -> FlashResult<ModuleInfo> {
        self.check_chip()?;
        let (mac, chip_id, crystal_mhz) = self.agreed(|l| l.read_identity())?;
        let flash_id = self.agreed(|l| l.flash_id())?;
        Ok(ModuleInfo {
            chip: "ESP8266".into(),
            mac,
            chip_id,
            flash_id,
            flash_size: flash_size_from_id(flash_id),
            crystal_mhz,
        })
    }
}

impl Loader {
    /// Repeat a read until two consecutive results agree (at most 4 reads).
    fn agreed<T: PartialEq>(
        &mut self,
        mut read: impl FnMut(&mut Loader) -> FlashResult<T>,
    ) -> FlashResult<T> {
        let mut prev = read(self)?;
        for _ in 0..3 {
            let next = read(self)?;
            if next == prev {
                return Ok(next);
            }
            prev = next;
        }
        Err(FlashError::BadReply {
            op: "READ_REG".into(),
            reason: "the module returned different values for the same register".into(),
        })
    }
}

pub fn md5_of(data: &[u8]) -> [u8; 16] {
    use md5::{Digest, Md5};
    Md5::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erase_size_matches_esptool_table() {
        // docs/DEVICE.md, "Erase-size quirk of the ROM" (worked examples).
        assert_eq!(rom_erase_size(0, 0x10000), 0x8000);
        assert_eq!(rom_erase_size(0, 300000), 0x3A000);
        assert_eq!(rom_erase_size(0x1000, 0x1000), 0x1000);
        assert_eq!(rom_erase_size(0x3000, 0x5000), 0x3000);
        assert_eq!(rom_erase_size(0xFC000, 0x4000), 0x2000);
    }

    #[test]
    fn flash_sizes_from_ids() {
        assert_eq!(flash_size_from_id(0x1440EF), Some(0x100000));
        assert_eq!(flash_size_from_id(0x1640EF), Some(0x400000));
        assert_eq!(flash_size_from_id(0xFFFFFF), None);
    }

    #[test]
    fn chip_names_from_magic() {
        assert_eq!(chip_name(0x00f0_1d83).as_deref(), Some("ESP32"));
        assert_eq!(chip_name(ESP8266_MAGIC).as_deref(), Some("ESP8266"));
        assert_eq!(chip_name(0x1234_5678), None);
    }

    #[test]
    fn embedded_stub_decodes() {
        let s = Stub::esp8266().unwrap();
        assert_eq!(s.entry, 0x4010_D004);
        assert_eq!(s.segments[0].0, 0x4010_D000);
        assert!(s.segments[0].1.len() > 8000);
    }

    #[test]
    fn op_names_read_like_the_docs() {
        assert_eq!(op_name(0x11), "FLASH_DEFL_DATA");
        assert_eq!(op_name(0x77), "command 0x77");
    }
}
