//! Flash one module: the high-level API the CLI and fleet flashing use.
//!
//! [`flash_module`] takes a port, a [`FlashPlan`] (regions as `(offset,
//! bytes)` plus options) and a progress sink, and returns a [`FlashReport`].
//! It is `Send` and owns everything it touches, so fleet flashing runs one
//! call per port on its own thread. The config blob, the registry and the
//! output format are the caller's business: this module only writes bytes
//! and proves they arrived.
//!
//! Sequence (docs/ARCHITECTURE.md, "Data flow: flash"): open → reset/sync →
//! refuse non-ESP8266 → MAC, flash ID → stub → CHANGE_BAUDRATE → per region:
//! MD5 (skip if equal unless `force`) → FLASH_DEFL_* → MD5 verify (one rewrite
//! on mismatch) → reset. `--no-stub`: ROM writes at 115200, then the stub is
//! started only to verify the MD5 of every region — the ROM itself cannot
//! (docs/DEVICE.md, "Commands"), and a flash that is not verified is never
//! reported as a success.

use std::time::{Duration, Instant};

use super::cost::{self, Loader as PathLoader, PathChoice, WritePath};
use super::deflate;
use super::error::{FlashError, FlashResult};
use super::image;
use super::loader::{self, Loader, ModuleInfo, CONNECT_ATTEMPTS};
use super::protocol::SECTOR_SIZE;
use crate::progress::Progress;
use crate::serial::control::Lines;
use crate::serial::transport::{self, PortSpec};

/// Baud the ROM talks at; the stub can go faster.
pub const ROM_BAUD: u32 = 115_200;
/// Default write speed with the stub.
pub const DEFAULT_BAUD: u32 = 460_800;

/// One range of flash to write.
#[derive(Debug, Clone)]
pub struct Region {
    /// `firmware`, `config`, … (progress label and report key).
    pub label: String,
    pub offset: u32,
    pub data: Vec<u8>,
}

/// What to do after writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum After {
    /// Pulse EN through RTS so the new firmware starts.
    HardReset,
    /// Leave the module in the loader.
    NoReset,
}

/// Flash size the header of the image at 0x0 should declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderSize {
    Keep,
    Detect,
    Bytes(u32),
}

/// How to connect and write.
#[derive(Debug, Clone)]
pub struct FlashOptions {
    pub baud: u32,
    pub use_stub: bool,
    pub force: bool,
    pub after: After,
    pub connect_attempts: u32,
    /// Header patch for the image at 0x0 (esptool `--flash-mode`, `--flash-size`).
    pub flash_mode: Option<image::FlashMode>,
    pub flash_size: HeaderSize,
    /// Stub or ROM loader (with `use_stub`; `--no-stub` is the ROM write
    /// verified by the stub's MD5 and ignores this).
    pub path: WritePath,
}

impl Default for FlashOptions {
    fn default() -> Self {
        FlashOptions {
            baud: DEFAULT_BAUD,
            use_stub: true,
            force: false,
            after: After::HardReset,
            connect_attempts: CONNECT_ATTEMPTS,
            flash_mode: None,
            flash_size: HeaderSize::Keep,
            path: WritePath::Auto,
        }
    }
}

/// Regions + options.
#[derive(Debug, Clone, Default)]
pub struct FlashPlan {
    pub regions: Vec<Region>,
    /// A device config blob, written at `flash_size - 0x5000` once the
    /// module's flash size is known (layout.rs).
    pub config: Option<Vec<u8>>,
    pub options: FlashOptions,
}

/// What happened to a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RegionAction {
    Written,
    /// Flash already held these bytes (MD5 equal).
    Skipped,
}

/// What proves a region arrived intact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verify {
    /// The MD5 of the region, computed on the module by the stub.
    Md5,
    /// The ROM's checks of every 1 KiB block: its 8-bit checksum on
    /// arrival and its read-back after programming (docs/DEVICE.md, "Error
    /// codes", 0x08). The ROM-only path (`cost.rs`) has no MD5.
    RomReadback,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RegionReport {
    pub label: String,
    pub offset: u32,
    pub size: usize,
    /// Bytes sent on the wire (compressed with the stub), 0 when skipped.
    pub sent: usize,
    pub md5: String,
    pub action: RegionAction,
    pub verified: bool,
    /// How `verified` was established.
    pub verify: Verify,
    pub seconds: f64,
    /// Attempts it took (a region is rewritten once after a failed verify or
    /// a lost reply).
    pub attempts: u32,
    /// Why the first attempt failed, when the region was written again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried_because: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FlashReport {
    pub port: String,
    pub module: ModuleInfo,
    pub stub: bool,
    pub baud: u32,
    pub regions: Vec<RegionReport>,
    /// Every region's flash MD5 equals the plan's.
    pub verified: bool,
    /// The header of the image at 0x0 was patched.
    pub header_patched: bool,
    pub warnings: Vec<String>,
    pub seconds: f64,
    /// SHA-256 of the image written at 0x0 (after header patching).
    pub firmware_sha256: Option<String>,
    /// Time to reset, sync and identify the module.
    pub connect_seconds: f64,
    /// Time to start the stub and change baud (0 on the ROM path).
    pub stub_seconds: f64,
    /// Which loader wrote, and the modelled cost of both (`None` with
    /// `--no-stub`).
    pub path: Option<PathChoice>,
}

/// An open, identified connection to a module.
pub struct Session {
    loader: Loader,
    pub port: String,
    pub info: ModuleInfo,
    pub warnings: Vec<String>,
}

impl Session {
    /// Open the port, get the ROM's attention and read the module's identity.
    pub fn open(
        spec: &PortSpec,
        opts: &FlashOptions,
        progress: &dyn Progress,
    ) -> FlashResult<Session> {
        let port = transport::open(spec, ROM_BAUD)?;
        let mut loader = Loader::new(port, &spec.to_string(), Lines::for_spec(spec));
        progress.message(&format!("connecting to {spec}"));
        let stub_running = loader.connect(opts.connect_attempts, true)?;
        let info = loader.identify()?;
        let warnings = std::mem::take(&mut loader.notes);
        let mut s = Session {
            loader,
            port: spec.to_string(),
            info,
            warnings,
        };
        if stub_running {
            progress.message("flasher stub already running");
        }
        if s.info.flash_size.is_none() {
            s.warnings.push(format!(
                "flash ID 0x{:06x} is not in the size table; assuming 4MB",
                s.info.flash_id
            ));
        }
        Ok(s)
    }

    /// Flash size: detected, else 4 MB (esptool's fallback).
    pub fn flash_size(&self) -> u32 {
        self.info.flash_size.unwrap_or(0x400000)
    }

    /// Start the stub (if not running) and switch to `baud`.
    pub fn start_stub(&mut self, baud: u32, progress: &dyn Progress) -> FlashResult<()> {
        if !self.loader.stub {
            progress.message("uploading flasher stub");
            self.loader.load_stub()?;
        }
        if baud != self.loader.baud {
            progress.message(&format!("switching to {baud} baud"));
            self.loader.change_baud(baud)?;
        }
        Ok(())
    }

    pub fn is_stub(&self) -> bool {
        self.loader.stub
    }

    pub fn baud(&self) -> u32 {
        self.loader.baud
    }

    /// Flash MD5 of a range (stub only).
    pub fn md5(&mut self, offset: u32, len: u32) -> FlashResult<[u8; 16]> {
        self.loader.flash_md5(offset, len)
    }

    /// Read flash (starts the stub if needed).
    pub fn read(&mut self, offset: u32, len: u32, progress: &dyn Progress) -> FlashResult<Vec<u8>> {
        if !self.loader.stub {
            self.start_stub(self.loader.baud, progress)?;
        }
        self.loader.read_flash(offset, len)
    }

    /// Write regions with the stub: skip equal ones, verify each.
    pub fn write_stub(
        &mut self,
        regions: &[Region],
        force: bool,
        progress: &dyn Progress,
    ) -> FlashResult<Vec<RegionReport>> {
        let mut out = Vec::new();
        for r in regions {
            let t0 = Instant::now();
            let expected = loader::md5_of(&r.data);
            if !force && self.already_there(r, &expected)? {
                {
                    progress.message(&format!("{}: already on the module, skipped", r.label));
                    out.push(RegionReport {
                        label: r.label.clone(),
                        offset: r.offset,
                        size: r.data.len(),
                        sent: 0,
                        md5: hex::encode(expected),
                        action: RegionAction::Skipped,
                        verified: true,
                        verify: Verify::Md5,
                        seconds: t0.elapsed().as_secs_f64(),
                        attempts: 0,
                        retried_because: None,
                    });
                    continue;
                }
            }
            let compressed = deflate::compressed(&r.data);
            let mut attempts = 0;
            let mut retried_because = None;
            loop {
                attempts += 1;
                progress.start(&r.label, Some(r.data.len() as u64));
                let result = self
                    .loader
                    .write_deflated(r.offset, &r.data, &compressed, &mut |p| progress.update(p))
                    .and_then(|_| self.verify(r, &expected));
                progress.finish(&r.label);
                match result {
                    Ok(()) => break,
                    // One more try after a verify failure, a device error or a
                    // lost reply — but not after the link itself died.
                    Err(e) if attempts < 2 && retryable(&e) => {
                        progress.message(&format!("{}: {e}; writing it again", r.label));
                        retried_because = Some(e.to_string());
                        self.resync()?;
                    }
                    Err(e) => return Err(e),
                }
            }
            out.push(RegionReport {
                label: r.label.clone(),
                offset: r.offset,
                size: r.data.len(),
                sent: compressed.len(),
                md5: hex::encode(expected),
                action: RegionAction::Written,
                verified: true,
                verify: Verify::Md5,
                seconds: t0.elapsed().as_secs_f64(),
                attempts,
                retried_because,
            });
        }
        Ok(out)
    }

    /// Write regions with the ROM loader, then start the stub and verify.
    ///
    /// Unless `force`, the stub first checks which regions already match
    /// (the ROM has no MD5); if some do not, the stub reboots the chip —
    /// GPIO0 is still strapped low, so it comes back in the ROM loader
    /// (docs/DEVICE.md, "Leaving the stub") — and the ROM writes only those.
    pub fn write_rom(
        &mut self,
        regions: &[Region],
        force: bool,
        progress: &dyn Progress,
    ) -> FlashResult<Vec<RegionReport>> {
        let mut out = Vec::new();
        let mut todo: Vec<&Region> = regions.iter().collect();
        if !force {
            self.start_stub(self.loader.baud, progress)?;
            let mut pending = Vec::new();
            for r in regions {
                let expected = loader::md5_of(&r.data);
                if self.already_there(r, &expected)? {
                    out.push(RegionReport {
                        label: r.label.clone(),
                        offset: r.offset,
                        size: r.data.len(),
                        sent: 0,
                        md5: hex::encode(expected),
                        action: RegionAction::Skipped,
                        verified: true,
                        verify: Verify::Md5,
                        seconds: 0.0,
                        attempts: 0,
                        retried_because: None,
                    });
                } else {
                    pending.push(r);
                }
            }
            if pending.is_empty() {
                return Ok(out);
            }
            progress.message("rebooting into the ROM loader");
            self.loader.reboot_to_rom()?;
            todo = pending;
        }
        let skipped = out.len();
        for r in todo.iter().copied() {
            let mut rep = self.rom_region(r, progress)?;
            rep.verified = false;
            rep.verify = Verify::Md5;
            out.push(rep);
        }
        // The ROM has no MD5 (docs/DEVICE.md, "Commands"): verify through the
        // stub, at the ROM's baud so `--no-stub` still works on links that fail
        // faster.
        progress.message("verifying with the flasher stub");
        self.start_stub(self.loader.baud, progress)?;
        for (r, rep) in todo.iter().copied().zip(out.iter_mut().skip(skipped)) {
            let expected = loader::md5_of(&r.data);
            match self.verify(r, &expected) {
                Ok(()) => {}
                // The stub is running now: let it rewrite what the ROM got wrong.
                Err(e) if retryable(&e) => {
                    progress.message(&format!("{}: {e}; rewriting it with the stub", r.label));
                    rep.retried_because = Some(e.to_string());
                    self.resync()?;
                    let compressed = deflate::compressed(&r.data);
                    progress.start(&r.label, Some(r.data.len() as u64));
                    let result = self
                        .loader
                        .write_deflated(r.offset, &r.data, &compressed, &mut |p| progress.update(p))
                        .and_then(|_| self.verify(r, &expected));
                    progress.finish(&r.label);
                    result?;
                    rep.attempts += 1;
                }
                Err(e) => return Err(e),
            }
            rep.verified = true;
        }
        Ok(out)
    }

    /// Write regions with the ROM loader alone, at 115200: the path
    /// [`cost::decide`] picks for small writes, where uploading the stub
    /// would cost more than the write. Each block is checked by the ROM
    /// ([`Verify::RomReadback`]); nothing is skipped (the ROM has no MD5 to
    /// tell equal regions).
    pub fn write_rom_only(
        &mut self,
        regions: &[Region],
        progress: &dyn Progress,
    ) -> FlashResult<Vec<RegionReport>> {
        regions
            .iter()
            .map(|r| self.rom_region(r, progress))
            .collect()
    }

    /// One region through the ROM: FLASH_BEGIN (erase) and the blocks. A
    /// block the ROM rejects three times (checksum, read-back) or a lost
    /// link to the loader restarts the region once from the erase: a block
    /// that read back wrong cannot be fixed by programming it again.
    fn rom_region(&mut self, r: &Region, progress: &dyn Progress) -> FlashResult<RegionReport> {
        let t0 = Instant::now();
        let mut attempts = 0;
        let mut retried_because = None;
        loop {
            attempts += 1;
            progress.start(&r.label, Some(r.data.len() as u64));
            let result = self
                .loader
                .write_rom(r.offset, &r.data, &mut |p| progress.update(p));
            progress.finish(&r.label);
            match result {
                Ok(sent) => {
                    return Ok(RegionReport {
                        label: r.label.clone(),
                        offset: r.offset,
                        size: r.data.len(),
                        sent,
                        md5: hex::encode(loader::md5_of(&r.data)),
                        action: RegionAction::Written,
                        verified: true,
                        verify: Verify::RomReadback,
                        seconds: t0.elapsed().as_secs_f64(),
                        attempts,
                        retried_because,
                    })
                }
                Err(e) if attempts < 2 && retryable(&e) => {
                    progress.message(&format!("{}: {e}; writing it again", r.label));
                    retried_because = Some(e.to_string());
                    self.resync()?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Does the flash already hold `r`? The first sector is checked first:
    /// when it differs (the usual case for a new image) the MD5 of the whole
    /// region — 0.25 s per MiB on the module — is not needed.
    fn already_there(&mut self, r: &Region, expected: &[u8; 16]) -> FlashResult<bool> {
        let len = r.data.len();
        if len > SECTOR_SIZE as usize {
            let head = &r.data[..SECTOR_SIZE as usize];
            if self.loader.flash_md5(r.offset, SECTOR_SIZE)? != loader::md5_of(head) {
                return Ok(false);
            }
        }
        Ok(&self.loader.flash_md5(r.offset, len as u32)? == expected)
    }

    fn verify(&mut self, r: &Region, expected: &[u8; 16]) -> FlashResult<()> {
        let actual = self.loader.flash_md5(r.offset, r.data.len() as u32)?;
        if &actual != expected {
            return Err(FlashError::Verify {
                label: r.label.clone(),
                offset: r.offset,
                len: r.data.len(),
                expected: hex::encode(expected),
                actual: hex::encode(actual),
            });
        }
        Ok(())
    }

    /// Get back in step after a lost reply: stale bytes out, one SYNC in.
    fn resync(&mut self) -> FlashResult<()> {
        std::thread::sleep(Duration::from_millis(100));
        for _ in 0..5 {
            if self.loader.sync()?.is_some() {
                return Ok(());
            }
        }
        Err(FlashError::Timeout {
            op: "SYNC after an error".into(),
            ms: 500,
        })
    }

    /// Leave the loader as asked. Returns a warning when the module could
    /// not be reset (a port without working DTR/RTS) and nobody was told.
    pub fn finish(mut self, after: After) -> Option<String> {
        match after {
            After::HardReset => self.loader.hard_reset(),
            After::NoReset => None,
        }
    }
}

fn retryable(e: &FlashError) -> bool {
    matches!(
        e,
        FlashError::Verify { .. }
            | FlashError::Device { .. }
            | FlashError::Timeout { .. }
            | FlashError::BadReply { .. }
    )
}

/// A region past the end of the flash, with what to do: an image built for a
/// bigger flash (its header says so) is named as such.
fn does_not_fit(r: &Region, end: u64, flash_size: u32) -> FlashError {
    let have = image::size_label(flash_size);
    let message = format!(
        "{} (0x{:x}..0x{end:x}, {} bytes) does not fit in the module's {have} flash",
        r.label,
        r.offset,
        r.data.len()
    );
    let built_for = (r.offset == 0)
        .then(|| image::parse_header(&r.data))
        .flatten()
        .and_then(|h| h.flash_size)
        .filter(|&s| s > flash_size);
    let help = match built_for {
        Some(s) => format!(
            "the image's header says it was built for a {} flash; this module has {have} \
             (an ESP-07 has 1MB, an ESP-07S 4MB). Rebuild it for {have} (espmqtt.toml \
             [board] name = \"esp07\" for 1MB; Arduino Flash Size / PlatformIO board_build \
             ldscript for {have}) or flash a module with a bigger chip",
            image::size_label(s)
        ),
        None => format!(
            "check that this is the right file (a flash dump or merged image of a bigger \
             module?) and that it was built for a {have} flash"
        ),
    };
    FlashError::DoesNotFit { message, help }
}

/// Check regions against the flash size and the sector grid, and patch the
/// image header at 0x0 if asked. Returns (header patched, warnings).
pub fn prepare_regions(
    regions: &mut [Region],
    flash_size: u32,
    opts: &FlashOptions,
) -> FlashResult<(bool, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut patched = false;
    let mut spans: Vec<(u32, u64, &str)> = Vec::new();
    for r in regions.iter() {
        if r.offset % SECTOR_SIZE != 0 {
            return Err(FlashError::Plan(format!(
                "{} starts at 0x{:x}, which is not on a 4 KiB sector boundary",
                r.label, r.offset
            )));
        }
        let end = r.offset as u64 + r.data.len() as u64;
        if end > flash_size as u64 {
            return Err(does_not_fit(r, end, flash_size));
        }
        spans.push((r.offset, end, &r.label));
    }
    spans.sort();
    for w in spans.windows(2) {
        if w[0].1 > w[1].0 as u64 {
            return Err(FlashError::Plan(format!("{} overlaps {}", w[0].2, w[1].2)));
        }
    }
    for r in regions.iter_mut().filter(|r| r.offset == 0) {
        let Some(h) = image::parse_header(&r.data) else {
            continue;
        };
        let size = match opts.flash_size {
            HeaderSize::Keep => None,
            HeaderSize::Detect => Some(flash_size),
            HeaderSize::Bytes(b) => Some(b),
        };
        if opts.flash_mode.is_some() || size.is_some() {
            if h.valid {
                patched = image::patch_flash_params(&mut r.data, opts.flash_mode, size);
            } else {
                warnings.push(
                    "the image at 0x0 is not a valid ESP8266 v1 image; its header was not patched"
                        .into(),
                );
            }
        }
        let declared = image::parse_header(&r.data).and_then(|h| h.flash_size);
        if let Some(d) = declared {
            if d != flash_size {
                warnings.push(format!(
                    "the image header says {} flash but the module has {} (ESP-07 = 1MB, \
                     ESP-07S = 4MB); the firmware will only use {}. Rebuild for the right \
                     board or pass --flash-size detect",
                    image::size_label(d),
                    image::size_label(flash_size),
                    image::size_label(d.min(flash_size)),
                ));
            }
        }
    }
    Ok((patched, warnings))
}

/// Flash one module from start to finish. `Send`: fleet flashing calls it
/// from one thread per port.
pub fn flash_module(
    spec: &PortSpec,
    plan: FlashPlan,
    progress: &dyn Progress,
) -> FlashResult<FlashReport> {
    let t0 = Instant::now();
    let session = Session::open(spec, &plan.options, progress)?;
    flash_on_session(session, plan, progress, t0)
}

/// The write half of [`flash_module`], on a session that is already open and
/// identified (fleet workers read the module's MAC before they claim a
/// device for it). `t0` is when connecting started, for the report's times.
pub fn flash_on_session(
    mut session: Session,
    mut plan: FlashPlan,
    progress: &dyn Progress,
    t0: Instant,
) -> FlashResult<FlashReport> {
    let opts = plan.options.clone();
    let mut stub_seconds = 0.0;
    let flash_size = session.flash_size();
    if let Some(data) = plan.config.take() {
        let offset = super::layout::config_offset(flash_size);
        // The firmware must end before the EEPROM sector it would otherwise clobber.
        if let Some(fw) = plan
            .regions
            .iter()
            .find(|r| r.offset as u64 + r.data.len() as u64 > offset as u64 && r.offset < offset)
        {
            return Err(FlashError::Plan(format!(
                "{} (0x{:x}..0x{:x}) overlaps the config sector at 0x{offset:x}",
                fw.label,
                fw.offset,
                fw.offset as usize + fw.data.len()
            )));
        }
        plan.regions.push(Region {
            label: "config".into(),
            offset,
            data,
        });
    }
    let (patched, mut warnings) = prepare_regions(&mut plan.regions, flash_size, &opts)?;
    warnings.append(&mut session.warnings);
    let connect_seconds = t0.elapsed().as_secs_f64();
    let mut path = None;
    let inputs = cost::Inputs {
        regions: plan
            .regions
            .iter()
            .map(|r| cost::Span {
                offset: r.offset,
                data: &r.data,
            })
            .collect(),
        flash_size,
        baud: opts.baud,
        stub_running: session.is_stub(),
        force: opts.force,
    };
    let regions = if opts.use_stub {
        let mut choice = cost::decide(&inputs, opts.path);
        progress.message(&choice.describe());
        if choice.chosen == PathLoader::Rom {
            path = Some(choice);
            session.write_rom_only(&plan.regions, progress)?
        } else {
            // Compress while the stub is uploaded at 115200 (deflate.rs).
            for r in &plan.regions {
                deflate::prefetch(&r.data);
            }
            session.start_stub(opts.baud, progress)?;
            stub_seconds = t0.elapsed().as_secs_f64() - connect_seconds;
            let written = session.write_stub(&plan.regions, opts.force, progress)?;
            choice.stub_seconds = cost::stub_seconds(&inputs);
            path = Some(choice);
            written
        }
    } else {
        if opts.baud != ROM_BAUD {
            warnings.push(format!(
                "--no-stub: the ESP8266 ROM cannot change baud; writing at {ROM_BAUD}"
            ));
        }
        session.write_rom(&plan.regions, opts.force, progress)?
    };
    let firmware_sha256 = plan
        .regions
        .iter()
        .find(|r| r.offset == 0)
        .map(|r| hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&r.data)));
    let port = session.port.clone();
    let module = session.info.clone();
    let baud = session.baud();
    let session_stub = opts.use_stub && path.as_ref().is_none_or(|c| c.chosen == PathLoader::Stub);
    warnings.extend(session.finish(opts.after));
    let report = FlashReport {
        firmware_sha256,
        connect_seconds,
        stub_seconds,
        path,
        port,
        module,
        stub: session_stub,
        baud,
        verified: regions.iter().all(|r| r.verified),
        regions,
        header_patched: patched,
        warnings,
        seconds: t0.elapsed().as_secs_f64(),
    };
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn flash_module_is_send() {
        let f = |spec: PortSpec, plan: FlashPlan| {
            std::thread::spawn(move || flash_module(&spec, plan, &crate::progress::NoProgress))
        };
        assert_send(&f);
    }

    #[test]
    fn regions_are_checked() {
        let opts = FlashOptions::default();
        let mut r = vec![Region {
            label: "firmware".into(),
            offset: 0x100,
            data: vec![0; 16],
        }];
        assert!(prepare_regions(&mut r, 0x100000, &opts).is_err());
        let mut r = vec![Region {
            label: "firmware".into(),
            offset: 0,
            data: vec![0; 0x100001],
        }];
        assert!(prepare_regions(&mut r, 0x100000, &opts).is_err());
    }

    #[test]
    fn header_size_mismatch_warns_and_detect_patches() {
        let img = image::test_image(64); // header says 1MB
        let mut r = vec![Region {
            label: "firmware".into(),
            offset: 0,
            data: img.clone(),
        }];
        let (p, w) = prepare_regions(&mut r, 0x400000, &FlashOptions::default()).unwrap();
        assert!(!p);
        assert_eq!(w.len(), 1);
        let opts = FlashOptions {
            flash_size: HeaderSize::Detect,
            ..FlashOptions::default()
        };
        let (p, w) = prepare_regions(&mut r, 0x400000, &opts).unwrap();
        assert!(p && w.is_empty());
        assert_eq!(r[0].data[3] >> 4, 4);
    }
}
