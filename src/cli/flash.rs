//! `espmqtt flash`: write firmware and per-device configuration over serial.
//!
//! Wires arguments to [`crate::flash::flasher`]; no protocol logic here. The
//! port is chosen by [`crate::serial::ports::choose`] (as for `monitor`),
//! the regions are built here (firmware at 0x0, the device's config blob at
//! `flash_size - 0x5000`), and the registry is updated here — only after
//! every region verified. A module bound to another device is refused
//! unless `--rebind`, the same rule as fleet flashing.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::device::registry::Registry;
use crate::device::slots;
use crate::error::{Error, ExitStatus, Result};
use crate::flash::flasher::{self, FlashOptions, Region, RegionAction, Session};
use crate::flash::image;
use crate::flash::layout;
use crate::flash::loader::ModuleInfo;
use crate::ops::ota_serial::SerialBlob;
use crate::progress::Progress;
use crate::project::ProjectPaths;
use crate::serial::ports;
use crate::serial::transport::PortSpec;

use super::flash_args::{options, read_firmware, FlashArgs};
use super::Ctx;

#[derive(Debug, serde::Serialize)]
struct FlashOutput<'a> {
    #[serde(flatten)]
    report: &'a flasher::FlashReport,
    device: Option<String>,
    registry_updated: bool,
    /// The module's MAC was bound to this other device (`--rebind`).
    #[serde(skip_serializing_if = "Option::is_none")]
    rebound_from: Option<String>,
}

pub fn run(args: FlashArgs, ctx: &Ctx) -> Result<ExitStatus> {
    // Several ports or a device list: fleet flashing (flash_fleet.rs).
    if args.port.len() > 1 || !args.fleet.devices.is_empty() {
        return super::flash_fleet::run(args, ctx);
    }
    if args.rebind && args.device.is_none() {
        return Err(Error::usage("--rebind needs --device NAME (or --devices)")
            .with_help("it moves a module bound to another device to NAME"));
    }
    let opts = options(&args)?;
    if args.read_config {
        let spec = choose_port(args.port.first().map(String::as_str), ctx)?;
        return read_config(&spec, &opts, &args, ctx);
    }

    let firmware = match (&args.firmware, args.config_only) {
        (Some(path), false) => Some(read_firmware(path, args.force)?),
        (None, false) if args.device.is_none() => {
            return Err(Error::usage("nothing to write")
                .with_help("pass --firmware FILE.bin, --device NAME, or both"))
        }
        _ => None,
    };
    // Build the blob before touching the module: an unknown device or a bad
    // espmqtt.toml fails here. Its offset depends on the flash size, known
    // only after connecting.
    let serial = match &args.device {
        Some(name) => Some(config_blob(name, ctx)?),
        None => None,
    };
    let blob = serial.as_ref().map(|s| s.bytes.clone());
    if args.no_stub && args.baud != flasher::DEFAULT_BAUD {
        ctx.warn("--no-stub: the ESP8266 ROM cannot change baud; writing at 115200");
    }
    let spec = choose_port(args.port.first().map(String::as_str), ctx)?;
    let plan = flasher::FlashPlan {
        regions: firmware
            .map(|data| Region {
                label: "firmware".into(),
                offset: 0,
                data,
            })
            .into_iter()
            .collect(),
        config: blob,
        options: opts,
    };
    let (report, rebound_from) = write_module(&spec, plan, &args, ctx)?;
    let firmware_sha256 = report.firmware_sha256.clone();
    let mut registry_updated = false;
    if report.verified {
        if let Some(name) = &args.device {
            record_flash(
                name,
                &report,
                firmware_sha256.as_deref(),
                rebound_from.as_deref(),
                serial.as_ref(),
                ctx,
            )?;
            registry_updated = true;
        }
    }
    // The chosen write path itself was reported as a step (`-v`).
    if let Some(path) = &report.path {
        if path.chosen == crate::flash::cost::Loader::Rom && !path.rom_also_erases.is_empty() {
            ctx.detail(format!(
                "the ROM's erase quirk also erased {} (docs/DEVICE.md)",
                path.rom_also_erases.join(", ")
            ));
        }
    }
    for w in &report.warnings {
        ctx.warn(w);
    }
    let out = FlashOutput {
        report: &report,
        device: args.device.clone(),
        registry_updated,
        rebound_from,
    };
    // `-q`: the result only, one word per region (`written`, `skipped`).
    ctx.emit_result(
        &out,
        || {
            out.report
                .regions
                .iter()
                .map(|g| match g.action {
                    RegionAction::Skipped => format!("{} skipped", g.label),
                    RegionAction::Written => format!("{} written", g.label),
                })
                .collect::<Vec<_>>()
                .join("\n")
        },
        |_| render(&out),
    );
    Ok(ExitStatus::Success)
}

/// Connect, say what answered, check the binding, write and verify. Ctrl-C
/// meanwhile says what it leaves behind.
fn write_module(
    spec: &PortSpec,
    plan: flasher::FlashPlan,
    args: &FlashArgs,
    ctx: &Ctx,
) -> Result<(flasher::FlashReport, Option<String>)> {
    let bars = super::progress::for_ctx(ctx);
    let progress = Tracked {
        inner: bars.as_ref(),
        writing: Arc::new(Mutex::new(None)),
    };
    let guard = InterruptGuard::install(progress.writing.clone());
    let t0 = Instant::now();
    let session = Session::open(spec, &plan.options, &progress)?;
    announce(&session.port, &session.info, ctx);
    let rebound_from = match &args.device {
        Some(name) => check_binding(name, &session.info.mac, &session.port, args.rebind, ctx)?,
        None => None,
    };
    let report = flasher::flash_on_session(session, plan, &progress, t0);
    drop(guard);
    Ok((report?, rebound_from))
}

/// `--port`, or the only USB serial port ([`ports::choose`], as `monitor`).
fn choose_port(port: Option<&str>, ctx: &Ctx) -> Result<PortSpec> {
    let (spec, picked) = ports::choose(port)?;
    if let Some(p) = picked {
        ctx.info(format!("using {}", ports::render_line(&p)));
    }
    Ok(spec)
}

/// The chip line, on stdout before any progress bar (text output only:
/// JSON has it in the one report document).
fn announce(port: &str, m: &ModuleInfo, ctx: &Ctx) {
    if ctx.is_json() || ctx.quiet {
        return;
    }
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", module_line(port, m));
    let _ = out.flush();
}

fn module_line(port: &str, m: &ModuleInfo) -> String {
    format!(
        "{} on {port}: MAC {}, flash {} (id {:06x})",
        m.chip,
        m.mac,
        m.flash_size
            .map(image::size_label)
            .unwrap_or_else(|| "unknown".into()),
        m.flash_id,
    )
}

fn render(out: &FlashOutput) -> String {
    let r = out.report;
    let mut s = format!(
        "{} at {} baud\n",
        if r.stub { "stub" } else { "ROM loader" },
        r.baud
    );
    for g in &r.regions {
        let what = match g.action {
            RegionAction::Skipped => "unchanged, skipped".to_string(),
            RegionAction::Written if g.attempts > 1 => format!(
                "written ({} bytes sent) in {:.1} s, verified after {} attempts (the first \
                 failed: {}; the region was written again)",
                g.sent,
                g.seconds,
                g.attempts,
                g.retried_because.as_deref().unwrap_or("no reason recorded")
            ),
            RegionAction::Written => format!(
                "written ({} bytes sent) in {:.1} s, verified{}",
                g.sent,
                g.seconds,
                match g.verify {
                    flasher::Verify::Md5 => "",
                    flasher::Verify::RomReadback => " block by block by the ROM",
                }
            ),
        };
        s.push_str(&format!(
            "  {:<9} 0x{:06x}  {:>8} bytes  {what}\n",
            g.label, g.offset, g.size
        ));
    }
    if out.registry_updated {
        if let Some(d) = &out.device {
            s.push_str(&format!("registry: recorded flash of {d}\n"));
            if let Some(o) = &out.rebound_from {
                s.push_str(&format!(
                    "registry: the module was bound to {o}; now to {d}\n"
                ));
            }
        }
    }
    s.push_str(&format!("done in {:.1} s", r.seconds));
    s
}

/// Refuse to give a module bound to another device a new identity unless
/// `--rebind` (fleet flashing refuses the same). Returns the device the
/// module is taken from.
fn check_binding(
    name: &str,
    mac: &str,
    port: &str,
    rebind: bool,
    ctx: &Ctx,
) -> Result<Option<String>> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let other = Registry::open(&paths)?
        .devices()?
        .into_iter()
        .find(|d| {
            d.name != name
                && d.mac
                    .as_deref()
                    .is_some_and(|m| m.eq_ignore_ascii_case(mac))
        })
        .map(|d| d.name);
    match other {
        Some(o) if !rebind => Err(Error::usage(format!(
            "the module on {port} (MAC {mac}) is bound to device `{o}`; nothing was written"
        ))
        .with_help(format!(
            "to give it `{name}`'s identity pass --rebind (`{o}` then has no module); to \
             rotate `{o}`'s credentials use --device {o}"
        ))),
        other => Ok(other),
    }
}

/// Progress that remembers which region is being written, for Ctrl-C.
struct Tracked<'a> {
    inner: &'a dyn Progress,
    writing: Arc<Mutex<Option<String>>>,
}

impl Progress for Tracked<'_> {
    fn start(&self, label: &str, total: Option<u64>) {
        if let Ok(mut w) = self.writing.lock() {
            *w = Some(label.to_string());
        }
        self.inner.start(label, total);
    }
    fn update(&self, position: u64) {
        self.inner.update(position);
    }
    fn message(&self, message: &str) {
        self.inner.message(message);
    }
    fn finish(&self, label: &str) {
        if let Ok(mut w) = self.writing.lock() {
            *w = None;
        }
        self.inner.finish(label);
    }
}

/// While installed, Ctrl-C (and SIGTERM) print what the interruption left
/// on the module, then exit 130. Nothing reaches the registry before every
/// region verified, so exiting at any point leaves it as it was.
struct InterruptGuard {
    handle: Option<signal_hook::iterator::Handle>,
}

impl InterruptGuard {
    fn install(writing: Arc<Mutex<Option<String>>>) -> InterruptGuard {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
            return InterruptGuard { handle: None };
        };
        let handle = signals.handle();
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                let label = writing.lock().ok().and_then(|w| w.clone());
                super::output::err_line(&format!("\n{}", interrupted_message(label.as_deref())));
                std::process::exit(130);
            }
        });
        InterruptGuard {
            handle: Some(handle),
        }
    }
}

impl Drop for InterruptGuard {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.close();
        }
    }
}

fn interrupted_message(writing: Option<&str>) -> String {
    match writing {
        Some("firmware") => "interrupted while writing the firmware: it is half written, so \
             the module will not boot until it is flashed again. Run the same command again \
             (sectors already written are not sent twice when they match)"
            .into(),
        Some("config") => "interrupted while writing the config blob: it is half written and \
             the firmware will reject it (bad CRC). Run the same command again"
            .into(),
        Some(other) => format!(
            "interrupted while writing {other}: it is half written. Run the same command again"
        ),
        None => "interrupted; no region was being written, the module is as it was (the \
                 registry was not changed)"
            .into(),
    }
}

fn read_config(
    spec: &PortSpec,
    opts: &FlashOptions,
    args: &FlashArgs,
    ctx: &Ctx,
) -> Result<ExitStatus> {
    // With --device: what the registry would write, to compare (built
    // before connecting, so an unknown device fails fast).
    let expected = match &args.device {
        Some(name) => Some((name.as_str(), config_blob(name, ctx)?)),
        None => None,
    };
    let progress = super::progress::for_ctx(ctx);
    let mut session = Session::open(spec, opts, progress.as_ref())?;
    // Both config slots: B (one sector below) then A (CONFIG_FORMAT.md, "Two slots").
    let offset = layout::config_offset(session.flash_size());
    let bytes = session.read(
        offset - slots::SLOT_B_BELOW_A,
        2 * layout::CONFIG_SECTOR,
        progress.as_ref(),
    )?;
    let mut warnings = std::mem::take(&mut session.warnings);
    warnings.extend(session.finish(opts.after));
    for w in &warnings {
        ctx.warn(w);
    }
    show_config(&bytes, offset, args.show_secrets, expected, ctx)
}

/// `--read-config --device NAME`: does the module hold NAME's config as the
/// registry builds it now? Field names only (never values: secrets);
/// `config_version` and `length` are left out (an update number is not a
/// difference of content).
#[derive(serde::Serialize)]
struct RegistryCompare {
    device: String,
    matches: bool,
    differs: Vec<String>,
}

impl RegistryCompare {
    fn of(
        name: &str,
        on_module: &crate::device::blob::ConfigBlob,
        module_len: usize,
        expected: &SerialBlob,
    ) -> RegistryCompare {
        let a = on_module.to_json(module_len);
        let b = expected.blob.to_json(expected.bytes.len());
        let empty = serde_json::Map::new();
        let (a, b) = (
            a.as_object().unwrap_or(&empty),
            b.as_object().unwrap_or(&empty),
        );
        let mut differs: Vec<String> = a
            .keys()
            .chain(b.keys())
            .filter(|k| !matches!(k.as_str(), "config_version" | "length"))
            .filter(|k| a.get(*k) != b.get(*k))
            .cloned()
            .collect();
        differs.sort();
        differs.dedup();
        RegistryCompare {
            device: name.to_string(),
            matches: differs.is_empty(),
            differs,
        }
    }

    fn render(&self) -> String {
        if self.matches {
            format!("matches the registry's config of {}", self.device)
        } else {
            format!(
                "differs from the registry's config of {} in: {} (write it with `espmqtt flash \
                 --device {} --config-only`)",
                self.device,
                self.differs.join(", "),
                self.device
            )
        }
    }
}

// Config blob and registry: the blob is built by
// `crate::ops::device_blob::blob_for_device`, exactly as `espmqtt device
// config` does; the registry records a flash only after every region verified.

fn config_blob(name: &str, ctx: &Ctx) -> Result<SerialBlob> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let blob = crate::ops::device_blob::serial_blob_for_device(&paths, name)?;
    if blob.bytes.len() > layout::CONFIG_SECTOR as usize {
        return Err(Error::usage(format!(
            "the config blob of `{name}` is {} bytes; the EEPROM sector holds {}",
            blob.bytes.len(),
            layout::CONFIG_SECTOR
        ))
        .with_help("use a shorter certificate chain or the pubkey/fingerprint trust mode"));
    }
    ctx.detail(format!(
        "config blob of {name}: {} bytes, update number {}",
        blob.bytes.len(),
        blob.write.number
    ));
    Ok(blob)
}

/// After every region verified: the flash and the MAC binding, then what
/// the device runs now for config updates (`docs/OTA.md`, "Serial
/// flashes").
fn record_flash(
    name: &str,
    report: &flasher::FlashReport,
    firmware_sha256: Option<&str>,
    rebound_from: Option<&str>,
    serial: Option<&SerialBlob>,
    ctx: &Ctx,
) -> Result<()> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let m = &report.module;
    let registry = Registry::open(&paths)?;
    if let Some(other) = rebound_from {
        let _ = registry.log_event(
            Some(name),
            "rebound",
            &format!("mac {} was bound to {other}", m.mac),
        );
    }
    registry
        .record_flash(
            name,
            &m.mac,
            Some(&format!("{:06x}", m.chip_id)),
            m.flash_size.map(u64::from),
            firmware_sha256,
        )
        .map_err(|e| {
            e.context(
                "the module was flashed and verified, but recording it in the registry failed",
            )
        })?;
    if let Some(s) = serial {
        crate::ops::ota_serial::record_serial(&registry, name, &s.write).map_err(|e| {
            e.context(
                "the module was flashed and verified, but recording its config for updates \
                 failed (the next `device push` may publish it again)",
            )
        })?;
        ctx.detail(format!(
            "registry: {name} runs its serial config as update {}",
            s.write.number
        ));
    }
    Ok(())
}

/// `bytes`: slot B then slot A; `offset`: slot A. Shows the config the module
/// runs and the state of both slots.
fn show_config(
    bytes: &[u8],
    offset: u32,
    show_secrets: bool,
    expected: Option<(&str, SerialBlob)>,
    ctx: &Ctx,
) -> Result<ExitStatus> {
    use crate::device::blob::ConfigBlob;
    let (slots, active) = slots::read_slots(bytes, offset);
    let Some(blob) = active.and_then(|i| slots[i].blob.as_ref()) else {
        // Nothing usable: say what is wrong with slot A, where a serial write goes.
        let a = &bytes[bytes.len().saturating_sub(layout::CONFIG_SECTOR as usize)..];
        if a.iter().all(|&b| b == 0xFF) {
            return Err(Error::check_failed(format!(
                "no config blob on the module (the sector at 0x{offset:x} is erased)"
            ))
            .with_help("write one with `espmqtt flash --device NAME --config-only`"));
        }
        let len = ConfigBlob::stored_length(a).min(a.len());
        let why = match ConfigBlob::decode(&a[..len]) {
            Err(e) => e.to_string(),
            Ok(_) => "its state record is damaged".into(),
        };
        return Err(Error::check_failed(format!(
            "the config sector at 0x{offset:x} holds no valid blob: {why}"
        ))
        .with_help("rewrite it with `espmqtt flash --device NAME --config-only`"));
    };
    let slot = &slots[active.unwrap_or(0)];
    let len = slot.length.unwrap_or(0);
    let config = if show_secrets {
        blob.to_json(len)
    } else {
        blob.to_json_redacted(len)
    };
    #[derive(serde::Serialize)]
    struct ReadConfig<'a> {
        offset: u32,
        slot: &'static str,
        config: serde_json::Value,
        slots: &'a [slots::Slot],
        /// The certificates in the blob, summarised (`config` has the DER).
        certificates: BlobCertificates,
        /// With --device: the comparison with the registry.
        #[serde(skip_serializing_if = "Option::is_none")]
        registry: Option<RegistryCompare>,
    }
    let certificates = BlobCertificates::of(blob);
    let registry = expected.map(|(name, e)| RegistryCompare::of(name, blob, len, &e));
    let r = ReadConfig {
        offset: slot.offset,
        slot: slot.slot,
        config,
        slots: &slots,
        certificates,
        registry,
    };
    ctx.emit(&r, |c| {
        let mut s = String::new();
        for x in r.slots.iter() {
            s.push_str(&format!(
                "slot {} at 0x{:x}: {}{}{}\n",
                x.slot,
                x.offset,
                x.state,
                x.update
                    .map(|n| format!(", update {n}"))
                    .unwrap_or_default(),
                if x.active { " (running)" } else { "" }
            ));
        }
        s.push_str(&format!("config blob at 0x{:x} ({len} bytes)\n", r.offset));
        if let Some(map) = r.config.as_object() {
            for (k, v) in map {
                let summaries = match k.as_str() {
                    "trust_anchors" => Some(&r.certificates.trust_anchors),
                    "client_cert" => Some(&r.certificates.client_cert),
                    _ => None,
                };
                // Certificates as people read them; the DER hex only with -v.
                if let Some(list) = summaries.filter(|_| c.verbose == 0) {
                    s.push_str(&render_certificates(k, list));
                    continue;
                }
                let v = match v {
                    serde_json::Value::String(t) => t.clone(),
                    // An absent field, as people read it (JSON keeps null).
                    serde_json::Value::Null => "(none)".to_string(),
                    other => other.to_string(),
                };
                s.push_str(&format!("  {k:<16} {v}\n"));
            }
        }
        if let Some(cmp) = &r.registry {
            s.push_str(&cmp.render());
        }
        s
    });
    Ok(match &r.registry {
        Some(cmp) if !cmp.matches => ExitStatus::CheckFailed,
        _ => ExitStatus::Success,
    })
}

/// Summaries of the certificates a config blob carries.
#[derive(serde::Serialize)]
struct BlobCertificates {
    trust_anchors: Vec<crate::tls::cert::CertSummary>,
    client_cert: Vec<crate::tls::cert::CertSummary>,
}

impl BlobCertificates {
    fn of(blob: &crate::device::blob::ConfigBlob) -> Self {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let summarize = |ders: &[Vec<u8>]| {
            ders.iter()
                .enumerate()
                .map(|(i, der)| crate::tls::cert::summarize(i, der, now))
                .collect()
        };
        BlobCertificates {
            trust_anchors: summarize(&blob.trust_anchors),
            client_cert: summarize(&blob.client_cert),
        }
    }
}

/// `trust_anchors` / `client_cert` of `--read-config` in text: subject,
/// issuer, validity and SHA-256 per certificate.
fn render_certificates(key: &str, list: &[crate::tls::cert::CertSummary]) -> String {
    if list.is_empty() {
        return format!("  {key:<16} none\n");
    }
    let mut s = format!(
        "  {key:<16} {} certificate{}\n",
        list.len(),
        if list.len() == 1 { "" } else { "s" }
    );
    for c in list {
        if let Some(e) = &c.parse_error {
            s.push_str(&format!("    #{} does not parse: {e}\n", c.index));
        } else {
            s.push_str(&format!("    #{} subject  {}\n", c.index, c.subject));
            s.push_str(&format!("       issuer   {}\n", c.issuer));
            let left = if c.days_left < 0 {
                format!("expired {} days ago", -c.days_left)
            } else {
                format!("{} days left", c.days_left)
            };
            s.push_str(&format!(
                "       valid    {} → {} ({left})\n",
                c.not_before, c.not_after
            ));
        }
        s.push_str(&format!("       SHA-256  {}\n", c.sha256));
    }
    s
}
