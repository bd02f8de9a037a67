//! Sockets, the wire-time model, modules, saving and the event log.
//!
//! Per connection two threads run: a reader that timestamps every byte as it
//! would arrive on a UART at the current baud (so bytes keep "arriving" while
//! the chip is busy writing flash — what lets a pipelining host win,
//! docs/DEVICE.md, "How the stub differs from the ROM"), and the session thread
//! that feeds frames to the [`Device`] and sends its replies no earlier than
//! the modelled time.
//!
//! Times: a frame is handled at `max(its last byte arrived, chip idle)`;
//! replies leave after the step's `pre` time and take their own wire time;
//! the step's `post` time (stub writes after the ACK) keeps the chip busy
//! for the next command. The stub holds at most two commands (the one it
//! works on and one behind it); a third that completes meanwhile is
//! dropped with a `warning` event, as its receive buffer would overflow.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::chip::{format_mac, mac_plus, Chip};
use super::config::{BootMode, EmulatorConfig};
use super::device::{BootReason, Device, Effect, Mode, Packet, StubFlavour};
use super::faults::Faults;
use super::flash_model::Flash;
use crate::flash::slip::{self, SlipDecoder, SlipEvent};

/// What happened, for the event log (`--format json`: one JSON line each).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Event {
    Connected {
        peer: String,
        module: u32,
        mac: String,
    },
    StubStarted {
        flavour: StubFlavour,
    },
    Baud {
        baud: u32,
    },
    /// The chip reset back into the ROM loader (FLASH_END with reboot).
    Reset,
    UserCode {
        reason: BootReason,
    },
    Fault {
        spec: String,
    },
    Saved {
        path: String,
        bytes: u32,
        module: u32,
    },
    Warning {
        message: String,
    },
    /// The session ended; the flash was saved before this event.
    Disconnected {
        peer: String,
        module: u32,
        reason: String,
        bytes_in: u64,
        bytes_out: u64,
        wrote_flash: bool,
        /// Modelled time of the session by cause (zero with the model off).
        model: ModelTimes,
    },
}

/// Modelled durations of one session, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct ModelTimes {
    /// Host → chip bytes on the wire.
    pub wire_in_ms: f64,
    /// Chip → host bytes on the wire.
    pub wire_out_ms: f64,
    pub erase_ms: f64,
    pub program_ms: f64,
    pub md5_ms: f64,
    /// erase + program: the "modelled flash time" of the benchmarks.
    pub flash_ms: f64,
    pub sectors_erased: u32,
    pub pages_programmed: u32,
}

/// Receives events; must be cheap and thread-safe.
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// Flash of every module on the bench.
struct Bench {
    flashes: Vec<Flash>,
    current: usize,
}

struct Shared {
    cfg: EmulatorConfig,
    bench: Mutex<Bench>,
    faults: Mutex<Faults>,
    generation: AtomicU64,
    /// The emulator is shutting down (SIGTERM/SIGINT).
    stopping: AtomicBool,
    uart: Mutex<()>,
    sink: EventSink,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Check a configuration before serving.
pub fn validate(cfg: &EmulatorConfig) -> Result<(), String> {
    if cfg.flash_size == 0 || !cfg.flash_size.is_multiple_of(0x1000) || cfg.flash_size > 16 << 20 {
        return Err(format!(
            "flash size {:#x} is not a whole number of 4 KiB sectors up to 16 MB",
            cfg.flash_size
        ));
    }
    if let Some(img) = &cfg.image {
        if img.len() > cfg.flash_size as usize {
            return Err(format!(
                "the image ({} bytes) is larger than the flash ({} bytes)",
                img.len(),
                cfg.flash_size
            ));
        }
    }
    if cfg.modules == 0 {
        return Err("--modules must be at least 1".into());
    }
    Ok(())
}

/// Serve connections on `listener` until the process ends.
pub fn serve(listener: TcpListener, cfg: EmulatorConfig, sink: EventSink) -> io::Result<()> {
    serve_until(listener, cfg, sink, &AtomicBool::new(false))
}

/// Serve until `stop` becomes true (e.g. set by a SIGTERM handler); the
/// running session then ends and saves the flash before this returns.
pub fn serve_until(
    listener: TcpListener,
    cfg: EmulatorConfig,
    sink: EventSink,
    stop: &AtomicBool,
) -> io::Result<()> {
    validate(&cfg).map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let first = match &cfg.image {
        Some(img) => Flash::with_image(cfg.flash_size, img)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "image too large"))?,
        None => Flash::blank(cfg.flash_size),
    };
    let shared = Arc::new(Shared {
        faults: Mutex::new(Faults::new(&cfg.faults)),
        bench: Mutex::new(Bench {
            flashes: vec![first],
            current: 0,
        }),
        cfg,
        generation: AtomicU64::new(0),
        stopping: AtomicBool::new(false),
        uart: Mutex::new(()),
        sink,
    });
    // Polling accept so that `stop` is noticed within 50 ms.
    listener.set_nonblocking(true)?;
    loop {
        if stop.load(Ordering::SeqCst) {
            shared.stopping.store(true, Ordering::SeqCst);
            shared.generation.fetch_add(1, Ordering::SeqCst);
            // Wait for the current session to end; it saves on the way out.
            let _uart = lock(&shared.uart);
            return Ok(());
        }
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                (shared.sink)(&Event::Warning {
                    message: format!("accept failed: {e}"),
                });
                thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if let Err(e) = stream.set_nonblocking(false) {
            (shared.sink)(&Event::Warning {
                message: format!("cannot configure the connection: {e}"),
            });
            continue;
        }
        // A new connection is a reset: it preempts the current session.
        let gen = shared.generation.fetch_add(1, Ordering::SeqCst) + 1;
        let sh = shared.clone();
        thread::spawn(move || connection(sh, stream, gen));
    }
}

/// Where module `index` (0-based) is saved.
pub fn save_path(base: &Path, index: usize, modules: u32) -> PathBuf {
    if modules <= 1 {
        return base.to_path_buf();
    }
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}-{}.{}", index + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", index + 1),
    };
    base.with_file_name(name)
}

/// Write atomically (temp file + rename) so readers never see half a
/// flash, mode 0600: the image holds every password written to it.
fn write_atomic(path: &Path, data: &[u8]) -> io::Result<()> {
    crate::files::write_file_atomic(path, data, 0o600).map_err(|e| io::Error::other(e.message))
}

fn connection(shared: Arc<Shared>, stream: TcpStream, gen: u64) {
    let _uart = lock(&shared.uart);
    if shared.generation.load(Ordering::SeqCst) != gen {
        // An even newer connection arrived while we waited.
        let _ = stream.shutdown(Shutdown::Both);
        return;
    }
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "?".into());
    let cfg = &shared.cfg;
    let (index, flash) = {
        let mut b = lock(&shared.bench);
        let i = b.current;
        let f = std::mem::replace(&mut b.flashes[i], Flash::blank(0));
        (i, f)
    };
    let mac = mac_plus(cfg.mac, index as u32);
    let mut device = Device::new(cfg.chip, mac, cfg.flash_id, flash, cfg.timing);
    device.set_no_sync(cfg.no_sync);
    (shared.sink)(&Event::Connected {
        peer: peer.clone(),
        module: index as u32 + 1,
        mac: format_mac(mac),
    });

    let _ = stream.set_nodelay(true);
    let baud = Arc::new(AtomicU32::new(device.baud()));
    let stop = Arc::new(AtomicBool::new(false));
    let closed = Arc::new(AtomicBool::new(false));
    let bytes_in = Arc::new(AtomicU64::new(0));
    let wire_in_ns = Arc::new(AtomicU64::new(0));
    let (tx, rx) = mpsc::channel();
    let reader = match stream.try_clone() {
        Ok(rs) => {
            let r = Reader {
                stream: rs,
                tx,
                baud: baud.clone(),
                stop: stop.clone(),
                closed: closed.clone(),
                bytes_in: bytes_in.clone(),
                wire_in_ns: wire_in_ns.clone(),
                shared: shared.clone(),
            };
            Some(thread::spawn(move || r.run()))
        }
        Err(e) => {
            (shared.sink)(&Event::Warning {
                message: format!("cannot clone the socket: {e}"),
            });
            None
        }
    };

    let now = Instant::now();
    let mut s = Session {
        shared: &shared,
        stream,
        device,
        rx,
        baud,
        closed,
        gen,
        index,
        busy_until: now,
        tx_clock: now,
        bytes_out: 0,
        wire_out: Duration::ZERO,
        last_input: now,
        last_t0: now,
    };
    let reason = if reader.is_some() {
        s.run()
    } else {
        "socket error".to_string()
    };
    stop.store(true, Ordering::SeqCst);
    let _ = s.stream.shutdown(Shutdown::Both);
    if let Some(r) = reader {
        let _ = r.join();
    }
    if s.device.dirty {
        s.save();
    }
    let wrote = s.device.wrote_any;
    let bytes_out = s.bytes_out;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let st = s.device.stats;
    let model = ModelTimes {
        wire_in_ms: wire_in_ns.load(Ordering::SeqCst) as f64 / 1e6,
        wire_out_ms: ms(s.wire_out),
        erase_ms: ms(st.erase),
        program_ms: ms(st.program),
        md5_ms: ms(st.md5),
        flash_ms: ms(st.erase + st.program),
        sectors_erased: st.sectors_erased,
        pages_programmed: st.pages_programmed,
    };
    let flash = std::mem::replace(&mut s.device.flash, Flash::blank(0));
    {
        let mut b = lock(&shared.bench);
        b.flashes[index] = flash;
        // --modules: the next connection after a module was flashed meets
        // a fresh blank module.
        if wrote && (index + 1) < cfg.modules as usize && b.current == index {
            b.flashes.push(Flash::blank(cfg.flash_size));
            b.current = index + 1;
        }
    }
    (shared.sink)(&Event::Disconnected {
        peer,
        module: index as u32 + 1,
        reason,
        bytes_in: bytes_in.load(Ordering::SeqCst),
        bytes_out,
        wrote_flash: wrote,
        model,
    });
}

enum Input {
    /// A frame and the instant its last byte finished arriving on the wire.
    Frame(Vec<u8>, Instant),
    Closed(String),
}

struct Reader {
    stream: TcpStream,
    tx: Sender<Input>,
    baud: Arc<AtomicU32>,
    stop: Arc<AtomicBool>,
    closed: Arc<AtomicBool>,
    bytes_in: Arc<AtomicU64>,
    wire_in_ns: Arc<AtomicU64>,
    shared: Arc<Shared>,
}

impl Reader {
    fn run(mut self) {
        let why = self.read_loop();
        self.closed.store(true, Ordering::SeqCst);
        let _ = self.tx.send(Input::Closed(why));
    }

    fn read_loop(&mut self) -> String {
        // The timeout only lets the thread notice `stop`.
        let _ = self
            .stream
            .set_read_timeout(Some(Duration::from_millis(50)));
        let timing = self.shared.cfg.timing;
        let mut dec = SlipDecoder::new();
        let mut clock = Instant::now();
        let mut buf = [0u8; 16 * 1024];
        loop {
            if self.stop.load(Ordering::SeqCst) {
                return "session ended".into();
            }
            let n = match self.stream.read(&mut buf) {
                Ok(0) => return "host closed the connection".into(),
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return format!("read error: {e}"),
            };
            let t = Instant::now();
            let cut = lock(&self.shared.faults).on_rx(n);
            let take = cut.unwrap_or(n).min(n);
            self.bytes_in.fetch_add(take as u64, Ordering::SeqCst);
            let baud = self.baud.load(Ordering::SeqCst);
            // Bytes that arrive while earlier ones are still "on the wire"
            // queue behind them.
            let start = clock.max(t);
            for (i, &b) in buf[..take].iter().enumerate() {
                if let Some(SlipEvent::Frame(f)) = dec.push(b) {
                    let done = start + timing.wire(i + 1, baud);
                    if self.tx.send(Input::Frame(f, done)).is_err() {
                        return "session ended".into();
                    }
                }
            }
            let wire = timing.wire(take, baud);
            self.wire_in_ns
                .fetch_add(wire.as_nanos() as u64, Ordering::SeqCst);
            clock = start + wire;
            if cut.is_some() {
                for f in lock(&self.shared.faults).take_fired() {
                    (self.shared.sink)(&Event::Fault { spec: f.spec });
                }
                // The session still handles the frames completed before
                // the cut, then the connection closes.
                return "fault: close-after".into();
            }
        }
    }
}

struct Session<'a> {
    shared: &'a Arc<Shared>,
    stream: TcpStream,
    device: Device,
    rx: Receiver<Input>,
    baud: Arc<AtomicU32>,
    closed: Arc<AtomicBool>,
    gen: u64,
    index: usize,
    busy_until: Instant,
    tx_clock: Instant,
    bytes_out: u64,
    wire_out: Duration,
    last_input: Instant,
    /// When the previous frame started being handled (receive-buffer model).
    last_t0: Instant,
}

/// Control flow out of a handler: keep going or end the session.
type Flow = Result<(), String>;

fn sleep_until(t: Instant) {
    let now = Instant::now();
    if t > now {
        thread::sleep(t - now);
    }
}

impl Session<'_> {
    fn emit(&self, e: Event) {
        (self.shared.sink)(&e);
    }

    fn superseded(&self) -> bool {
        self.shared.generation.load(Ordering::SeqCst) != self.gen
    }

    fn superseded_reason(&self) -> String {
        if self.shared.stopping.load(Ordering::SeqCst) {
            "the emulator is shutting down".into()
        } else {
            "a new connection reset the chip".into()
        }
    }

    fn run(&mut self) -> String {
        if self.shared.cfg.boot_mode == BootMode::Flash {
            // GPIO0 high: the ROM boots the firmware and never answers.
            if let Err(why) = self.run_user_code(BootReason::PowerOn) {
                return why;
            }
        }
        loop {
            if self.superseded() {
                return self.superseded_reason();
            }
            if self.device.streaming() {
                match self.rx.try_recv() {
                    Ok(input) => {
                        if let Err(why) = self.input(input) {
                            return why;
                        }
                        continue;
                    }
                    Err(TryRecvError::Disconnected) => return "reader ended".into(),
                    Err(TryRecvError::Empty) => {}
                }
                if let Some(p) = self.device.poll_output() {
                    let at = self.busy_until;
                    if let Err(why) = self.send_at(at, &p) {
                        return why;
                    }
                    continue;
                }
            }
            match self.rx.recv_timeout(Duration::from_millis(50)) {
                Ok(input) => {
                    if let Err(why) = self.input(input) {
                        return why;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    // Persist quietly once the host pauses, so a killed
                    // emulator loses at most the last fraction of a second.
                    if self.device.dirty && self.last_input.elapsed() > Duration::from_millis(300) {
                        self.save();
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return "reader ended".into(),
            }
        }
    }

    fn input(&mut self, input: Input) -> Flow {
        let (mut frame, arrived) = match input {
            Input::Frame(f, t) => (f, t),
            Input::Closed(why) => return Err(why),
        };
        self.last_input = Instant::now();
        let faults = &self.shared.faults;
        // bad-checksum: the data block was damaged in transit.
        if frame.len() > 8 + 16
            && frame[0] == 0
            && matches!(frame[1], 0x03 | 0x07 | 0x11)
            && lock(faults).on_data_block(frame[1])
        {
            frame[8 + 16] ^= 0x01;
        }
        let t0 = arrived.max(self.busy_until);
        if matches!(self.device.mode, Mode::Stub(_)) && arrived < self.last_t0 {
            // The stub double-buffers its UART input: one command being
            // processed (a FLASH_DATA block is written after its ACK) and
            // one received behind it. A frame that completes while two are
            // still pending has nowhere to go; the real stub loses it, so a
            // host that pipelines deeper than that must fail here too.
            self.emit(Event::Warning {
                message: "stub receive overflow: a command arrived while two were still \
                          pending; it was dropped"
                    .into(),
            });
            return Ok(());
        }
        self.last_t0 = t0;
        let mut step = self.device.handle(&frame);
        let ready = t0 + step.pre;
        self.busy_until = ready + step.post;
        for e in &step.effects {
            if let Effect::SetBaud(b) = e {
                // The host switches as soon as it has the reply, possibly
                // before this thread returns from writing it: receive at the
                // new rate from now on (the reply itself still goes out at
                // the old one).
                self.baud.store(*b, Ordering::SeqCst);
            }
        }
        if let Some((addr, len)) = step.wrote {
            if lock(faults).on_flash_write() {
                // Flip a bit in the middle of what was just written.
                self.device.flash.flip_bit(addr + len / 2, (addr % 8) as u8);
                self.device.dirty = true;
                self.report_faults();
                if !matches!(self.device.mode, Mode::Stub(_)) {
                    // The ROM reads each block back after programming it
                    // and answers 0x08 on a mismatch (docs/DEVICE.md,
                    // "Error codes"); the stub acknowledges before writing.
                    for p in &mut step.replies {
                        *p = self.device.read_back_failed(p.reply_to.unwrap_or(0));
                    }
                }
            }
        }
        for mut p in step.replies {
            let rf = match p.reply_to {
                Some(op) => lock(faults).on_reply(op),
                None => Default::default(),
            };
            self.report_faults();
            if let Some(stall) = rf.stall {
                self.stall(stall)?;
            }
            if rf.drop {
                continue;
            }
            if rf.corrupt {
                self.corrupt(&mut p);
            }
            self.send_at(ready, &p)?;
        }
        for e in step.effects {
            match e {
                Effect::SetBaud(b) => {
                    self.device.set_baud(b);
                    self.baud.store(b, Ordering::SeqCst);
                    self.emit(Event::Baud { baud: b });
                }
                Effect::Send { after, packet } => {
                    let at = self.tx_clock.max(ready) + after;
                    self.send_at(at, &packet)?;
                }
                Effect::StubStarted(flavour) => self.emit(Event::StubStarted { flavour }),
                Effect::Reset => {
                    self.device.reset_to_rom();
                    self.baud.store(self.device.baud(), Ordering::SeqCst);
                    self.emit(Event::Reset);
                }
                Effect::RunUserCode => self.run_user_code(BootReason::RunUserCode)?,
                Effect::Save => self.save(),
            }
        }
        Ok(())
    }

    fn report_faults(&self) {
        for f in lock(&self.shared.faults).take_fired() {
            self.emit(Event::Fault { spec: f.spec });
        }
    }

    /// Flip bit 0 of the last payload byte (e.g. the MD5 digest) or, for a
    /// reply without payload, of the value field. Status stays "ok".
    fn corrupt(&self, p: &mut Packet) {
        let status_len = if self.device.chip == Chip::Esp32 && self.device.mode == Mode::Rom {
            4
        } else {
            2
        };
        let size = p
            .bytes
            .get(2..4)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
            .unwrap_or(0);
        if size > status_len && p.bytes.len() >= 8 + size {
            p.bytes[8 + size - status_len - 1] ^= 0x01;
        } else if p.bytes.len() > 4 {
            p.bytes[4] ^= 0x01;
        }
    }

    /// Stop answering for `d` (or until the host goes away).
    fn stall(&mut self, d: Option<Duration>) -> Flow {
        let until = d.map(|d| Instant::now() + d);
        loop {
            if self.closed.load(Ordering::SeqCst) {
                return Err("host closed the connection during a stall".into());
            }
            if self.superseded() {
                return Err(self.superseded_reason());
            }
            match until {
                Some(u) if Instant::now() >= u => break,
                _ => thread::sleep(Duration::from_millis(20)),
            }
        }
        let now = Instant::now();
        self.busy_until = self.busy_until.max(now);
        self.tx_clock = self.tx_clock.max(now);
        Ok(())
    }

    /// Send one frame so that its last byte arrives at the modelled time.
    fn send_at(&mut self, ready: Instant, p: &Packet) -> Flow {
        let framed = slip::encode(&p.bytes);
        self.write_wire(ready, &framed)
    }

    fn write_wire(&mut self, ready: Instant, bytes: &[u8]) -> Flow {
        let start = self.tx_clock.max(ready);
        let wire = self.shared.cfg.timing.wire(bytes.len(), self.device.baud());
        self.wire_out += wire;
        let done = start + wire;
        sleep_until(done);
        self.tx_clock = done;
        if self.closed.load(Ordering::SeqCst) {
            return Err("host closed the connection".into());
        }
        self.stream
            .write_all(bytes)
            .map_err(|e| format!("write error: {e}"))?;
        self.bytes_out += bytes.len() as u64;
        Ok(())
    }

    /// The chip leaves the loader: the firmware owns the UART.
    fn run_user_code(&mut self, reason: BootReason) -> Flow {
        self.device.mode = Mode::UserCode;
        let fw = self.shared.cfg.firmware.clone();
        let fw_baud = fw.baud();
        self.baud.store(fw_baud, Ordering::SeqCst);
        self.emit(Event::UserCode { reason });
        if reason == BootReason::PowerOn {
            // A reset with GPIO0 high: the ROM prints its boot log at
            // 74880 baud before the firmware takes over (docs/DEVICE.md,
            // "Boot modes and reset").
            // rst cause 2 = reset pin: a new connection is a reset.
            let log = super::boot::rom_boot_log(self.device.flash.contents(), 2);
            self.device.set_baud(super::boot::ROM_LOG_BAUD);
            let at = Instant::now().max(self.tx_clock);
            self.write_wire(at, &log)?;
        }
        self.device.set_baud(fw_baud);
        let boot = Instant::now().max(self.tx_clock);
        for chunk in fw.boot(self.device.flash.contents(), reason) {
            self.write_wire(boot + chunk.at, &chunk.bytes)?;
        }
        Ok(())
    }

    fn save(&mut self) {
        let Some(base) = &self.shared.cfg.save else {
            self.device.dirty = false;
            return;
        };
        let path = save_path(base, self.index, self.shared.cfg.modules);
        match write_atomic(&path, self.device.flash.contents()) {
            Ok(()) => {
                self.device.dirty = false;
                self.emit(Event::Saved {
                    path: path.display().to_string(),
                    bytes: self.device.flash.size(),
                    module: self.index as u32 + 1,
                });
            }
            Err(e) => self.emit(Event::Warning {
                message: format!("saving the flash to {} failed: {e}", path.display()),
            }),
        }
    }
}
