//! `espmqtt ports`: list serial ports and their USB bridge chips.

use crate::error::{Error, ExitStatus, Result};
use crate::serial::ports;

use super::Ctx;

#[derive(Debug, clap::Args)]
#[command(after_help = "\
Examples:
  espmqtt ports
  espmqtt ports --format json

USB ports are listed first with VID:PID and the bridge chip (CH340, CP210x,
FTDI, PL2303). `espmqtt flash` picks the port automatically when exactly one
USB serial port is present.")]
pub struct PortsArgs {
    /// Also list non-USB ports (built-in UARTs, Bluetooth).
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, serde::Serialize)]
struct PortsReport {
    ports: Vec<ports::PortInfo>,
}

pub fn run(args: PortsArgs, ctx: &Ctx) -> Result<ExitStatus> {
    let list = ports::list().map_err(|e| {
        Error::runtime(format!("cannot enumerate serial ports: {e}"))
            .with_help("on Linux, check that /sys/class/tty is readable")
    })?;
    ctx.detail(format!("{} serial port(s) on this system", list.len()));
    for p in list.iter().filter(|p| !args.all && !p.is_usb()) {
        ctx.detail(format!(
            "  {}: not a USB serial port, left out (--all lists it)",
            p.name
        ));
    }
    let shown: Vec<ports::PortInfo> = list
        .into_iter()
        .filter(|p| args.all || p.is_usb())
        .collect();
    let report = PortsReport { ports: shown };
    ctx.emit(&report, |_| {
        if report.ports.is_empty() {
            return "no USB serial ports found: plug in the USB-serial adapter of the \
                    ESP-07 (CH340, CP2102, FT232R); `--all` also lists built-in UARTs"
                .to_string();
        }
        report
            .ports
            .iter()
            .map(ports::render_line)
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(ExitStatus::Success)
}
