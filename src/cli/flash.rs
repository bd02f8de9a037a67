//! `espmqtt flash`: write firmware and per-device configuration over serial.
//!
//! Wires arguments to [`crate::flash::flasher`]; no protocol logic here. The
//! port is chosen here (auto-select the only USB serial port), the regions
//! are built here (firmware at 0x0, the device's config blob at
//! `flash_size - 0x5000`), and the registry is updated here — only after
//! every region verified.

use crate::device::registry::Registry;
use crate::error::{Error, ExitStatus, Result};
use crate::flash::flasher::{self, FlashOptions, Region, RegionAction, Session};
use crate::flash::image;
use crate::flash::layout;
use crate::project::ProjectPaths;
use crate::serial::ports::{self, AutoPort};
use crate::serial::transport::PortSpec;

use super::flash_args::{options, FlashArgs};
use super::Ctx;

#[derive(Debug, serde::Serialize)]
struct FlashOutput<'a> {
    #[serde(flatten)]
    report: &'a flasher::FlashReport,
    device: Option<String>,
    registry_updated: bool,
}

pub fn run(args: FlashArgs, ctx: &Ctx) -> Result<ExitStatus> {
    // Several ports or a device list: fleet flashing (flash_fleet.rs).
    if args.port.len() > 1 || !args.fleet.devices.is_empty() {
        return super::flash_fleet::run(args, ctx);
    }
    let opts = options(&args)?;
    if args.read_config {
        let spec = choose_port(args.port.first().map(String::as_str), ctx)?;
        return read_config(&spec, &opts, &args, ctx);
    }

    let firmware = match (&args.firmware, args.config_only) {
        (Some(path), false) => Some(crate::files::read_input(
            path,
            crate::files::MAX_IMAGE_INPUT,
            "firmware image",
        )?),
        (None, false) if args.device.is_none() => {
            return Err(Error::usage("nothing to write")
                .with_help("pass --firmware FILE.bin, --device NAME, or both"))
        }
        _ => None,
    };
    if let Some(fw) = &firmware {
        if fw.is_empty() {
            return Err(Error::usage("the firmware file is empty"));
        }
    }

    // Build the blob before touching the module: an unknown device or a bad
    // espmqtt.toml fails here. Its offset depends on the flash size, known
    // only after connecting.
    let blob = match &args.device {
        Some(name) => Some(config_blob(name, ctx)?),
        None => None,
    };
    if args.no_stub && args.baud != flasher::DEFAULT_BAUD {
        ctx.warn("--no-stub: the ESP8266 ROM cannot change baud; writing at 115200");
    }
    let spec = choose_port(args.port.first().map(String::as_str), ctx)?;
    let progress = super::progress::for_ctx(ctx);
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
    let report = flasher::flash_module(&spec, plan, progress.as_ref())?;
    let firmware_sha256 = report.firmware_sha256.clone();
    let mut registry_updated = false;
    if report.verified {
        if let Some(name) = &args.device {
            record_flash(name, &report, firmware_sha256.as_deref(), ctx)?;
            registry_updated = true;
        }
    }
    for w in &report.warnings {
        ctx.warn(w);
    }
    let out = FlashOutput {
        report: &report,
        device: args.device.clone(),
        registry_updated,
    };
    ctx.emit(&out, |_| render(&out));
    Ok(ExitStatus::Success)
}

fn render(out: &FlashOutput) -> String {
    let r = out.report;
    let m = &r.module;
    let mut s = format!(
        "{} on {}: MAC {}, flash {} (id {:06x}), {} at {} baud\n",
        m.chip,
        r.port,
        m.mac,
        m.flash_size
            .map(image::size_label)
            .unwrap_or_else(|| "unknown".into()),
        m.flash_id,
        if r.stub { "stub" } else { "ROM loader" },
        r.baud
    );
    for g in &r.regions {
        let what = match g.action {
            RegionAction::Skipped => "unchanged, skipped".to_string(),
            RegionAction::Written => format!(
                "written ({} bytes sent) in {:.1} s, verified",
                g.sent, g.seconds
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
        }
    }
    s.push_str(&format!("done in {:.1} s", r.seconds));
    s
}

/// `--port`, or the only USB serial port.
fn choose_port(port: Option<&str>, ctx: &Ctx) -> Result<PortSpec> {
    if let Some(p) = port {
        return Ok(PortSpec::parse(p));
    }
    let list = ports::list().map_err(|e| {
        Error::unreachable(format!("cannot enumerate serial ports: {e}"))
            .with_help("pass the port explicitly with --port /dev/ttyUSB0")
    })?;
    match ports::auto_select(&list) {
        AutoPort::One(p) => {
            ctx.info(format!("using {}", ports::render_line(&p)));
            Ok(PortSpec::Serial(p.name))
        }
        AutoPort::Several(v) => {
            let lines: Vec<String> = v
                .iter()
                .map(|p| format!("  {}", ports::render_line(p)))
                .collect();
            Err(Error::usage(format!(
                "several USB serial ports are present:\n{}",
                lines.join("\n")
            ))
            .with_help("choose one with --port (or set ESPMQTT_PORT)"))
        }
        AutoPort::None => Err(Error::unreachable("no USB serial port found").with_help(
            "plug in the USB-serial adapter (CH340, CP2102 or FT232R, set to 3.3 V) wired to \
             the ESP-07: adapter TX→RX, RX→TX, GND→GND; then run `espmqtt ports` to check it \
             appears. For a remote or emulated module use --port socket://HOST:PORT",
        )),
    }
}

fn read_config(
    spec: &PortSpec,
    opts: &FlashOptions,
    args: &FlashArgs,
    ctx: &Ctx,
) -> Result<ExitStatus> {
    let progress = super::progress::for_ctx(ctx);
    let mut session = Session::open(spec, opts, progress.as_ref())?;
    let offset = layout::config_offset(session.flash_size());
    let bytes = session.read(offset, layout::CONFIG_SECTOR, progress.as_ref())?;
    session.finish(opts.after);
    show_config(&bytes, offset, args.show_secrets, ctx)
}

// Config blob and registry (DESIGN §4.2, §4.5): the blob is built from
// espmqtt.toml + the registry record, exactly as `espmqtt device config`
// does; the registry records a flash only after every region verified.

fn config_blob(name: &str, ctx: &Ctx) -> Result<Vec<u8>> {
    use crate::device::blob::{build_blob, DeviceIdentity, TrustMaterial};
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let config = paths.load_config()?;
    let d = Registry::open(&paths)?.device(name)?;
    if d.revoked {
        return Err(Error::usage(format!("device `{name}` is revoked"))
            .with_help("create a new device with `espmqtt device new`"));
    }
    let identity = DeviceIdentity::from_pem(
        &d.name,
        &d.client_id,
        Some(d.username.as_str()).filter(|u| !u.is_empty()),
        Some(d.secret.as_str()).filter(|p| !p.is_empty()),
        d.client_cert_pem.as_deref(),
        d.client_key_pem.as_deref(),
    )?;
    let trust = TrustMaterial::resolve(&config, &paths.root)?;
    let wifi_password = config.wifi.resolve_password()?;
    let blob = build_blob(&config, wifi_password.as_deref(), &identity, &trust)?.encode()?;
    if blob.len() > layout::CONFIG_SECTOR as usize {
        return Err(Error::usage(format!(
            "the config blob of `{name}` is {} bytes; the EEPROM sector holds {}",
            blob.len(),
            layout::CONFIG_SECTOR
        ))
        .with_help("use a shorter certificate chain or the pubkey/fingerprint trust mode"));
    }
    Ok(blob)
}

fn record_flash(
    name: &str,
    report: &flasher::FlashReport,
    firmware_sha256: Option<&str>,
    ctx: &Ctx,
) -> Result<()> {
    let paths = ProjectPaths::locate(ctx.config.as_deref())?;
    let m = &report.module;
    Registry::open(&paths)?
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
        })
}

fn show_config(bytes: &[u8], offset: u32, show_secrets: bool, ctx: &Ctx) -> Result<ExitStatus> {
    use crate::device::blob::ConfigBlob;
    if bytes.iter().all(|&b| b == 0xFF) {
        return Err(Error::check_failed(format!(
            "no config blob on the module (the sector at 0x{offset:x} is erased)"
        ))
        .with_help("write one with `espmqtt flash --device NAME --config-only`"));
    }
    let len = ConfigBlob::stored_length(bytes).min(bytes.len());
    let blob = ConfigBlob::decode(&bytes[..len]).map_err(|e| {
        Error::check_failed(format!(
            "the config sector at 0x{offset:x} holds no valid blob: {e}"
        ))
        .with_help("rewrite it with `espmqtt flash --device NAME --config-only`")
    })?;
    let config = if show_secrets {
        blob.to_json(len)
    } else {
        blob.to_json_redacted(len)
    };
    #[derive(serde::Serialize)]
    struct ReadConfig {
        offset: u32,
        config: serde_json::Value,
    }
    let r = ReadConfig { offset, config };
    ctx.emit(&r, |_| {
        let mut s = format!("config blob at 0x{offset:x} ({len} bytes)\n");
        if let Some(map) = r.config.as_object() {
            for (k, v) in map {
                let v = match v {
                    serde_json::Value::String(t) => t.clone(),
                    other => other.to_string(),
                };
                s.push_str(&format!("  {k:<16} {v}\n"));
            }
        }
        s
    });
    Ok(ExitStatus::Success)
}
