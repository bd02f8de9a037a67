//! Serial port discovery: USB VID:PID, the bridge chip behind it, and the
//! choice of a port when the user gave none.
//!
//! ESP-07 modules have no USB of their own; they hang off a USB-serial
//! bridge. Naming the bridge (CH340, CP210x, FTDI, …) is what lets a user
//! tell the adapter from the phone charger and the 3D printer.

use serialport::{SerialPortInfo, SerialPortType};

use super::spec::PortSpec;
use crate::error::{Error, Result};

/// One serial port as we show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PortInfo {
    pub name: String,
    /// `usb`, `pci`, `bluetooth`, `unknown`.
    pub kind: String,
    pub vid: Option<String>,
    pub pid: Option<String>,
    /// Bridge chip family when the VID:PID is a known USB-serial bridge.
    pub bridge: Option<String>,
    pub manufacturer: Option<String>,
    pub product: Option<String>,
    pub serial_number: Option<String>,
}

impl PortInfo {
    pub fn is_usb(&self) -> bool {
        self.kind == "usb"
    }
}

/// Known USB-serial bridges by VID (and PID where a vendor makes other things).
pub fn bridge_name(vid: u16, pid: u16) -> Option<&'static str> {
    Some(match (vid, pid) {
        (0x1A86, 0x7523) | (0x1A86, 0x5523) => "CH340",
        (0x1A86, 0x7522) => "CH340K",
        (0x1A86, 0x55D4) => "CH9102",
        (0x1A86, 0x55D3) => "CH343",
        (0x1A86, _) => "WCH (CH34x)",
        (0x10C4, 0xEA60) => "CP2102/CP2104",
        (0x10C4, 0xEA70) => "CP2105",
        (0x10C4, 0xEA71) => "CP2108",
        (0x10C4, _) => "Silicon Labs CP210x",
        (0x0403, 0x6001) => "FTDI FT232R",
        (0x0403, 0x6010) => "FTDI FT2232",
        (0x0403, 0x6011) => "FTDI FT4232",
        (0x0403, 0x6014) => "FTDI FT232H",
        (0x0403, 0x6015) => "FTDI FT-X",
        (0x0403, _) => "FTDI",
        (0x067B, _) => "Prolific PL2303",
        (0x303A, _) => "Espressif USB (not an ESP8266 bridge)",
        _ => return None,
    })
}

pub fn describe(info: &SerialPortInfo) -> PortInfo {
    let mut p = PortInfo {
        name: info.port_name.clone(),
        kind: "unknown".into(),
        vid: None,
        pid: None,
        bridge: None,
        manufacturer: None,
        product: None,
        serial_number: None,
    };
    match &info.port_type {
        SerialPortType::UsbPort(u) => {
            p.kind = "usb".into();
            p.vid = Some(format!("{:04x}", u.vid));
            p.pid = Some(format!("{:04x}", u.pid));
            p.bridge = bridge_name(u.vid, u.pid).map(str::to_string);
            p.manufacturer = u.manufacturer.clone();
            p.product = u.product.clone();
            p.serial_number = u.serial_number.clone();
        }
        SerialPortType::PciPort => p.kind = "pci".into(),
        SerialPortType::BluetoothPort => p.kind = "bluetooth".into(),
        SerialPortType::Unknown => {}
    }
    p
}

/// All serial ports the OS reports, USB first.
pub fn list() -> Result<Vec<PortInfo>, String> {
    let mut ports: Vec<PortInfo> = serialport::available_ports()
        .map_err(|e| e.to_string())?
        .iter()
        .map(describe)
        .collect();
    ports.sort_by(|a, b| b.is_usb().cmp(&a.is_usb()).then(a.name.cmp(&b.name)));
    Ok(ports)
}

/// Outcome of picking a port automatically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoPort {
    One(PortInfo),
    Several(Vec<PortInfo>),
    None,
}

/// The only USB serial port, if there is exactly one.
pub fn auto_select(ports: &[PortInfo]) -> AutoPort {
    let usb: Vec<PortInfo> = ports.iter().filter(|p| p.is_usb()).cloned().collect();
    match usb.len() {
        0 => AutoPort::None,
        1 => AutoPort::One(usb[0].clone()),
        _ => AutoPort::Several(usb),
    }
}

/// The port a command uses: `--port` when given, else the only USB serial
/// port (`flash`, `flash --read-config` and `monitor` all pick this way).
/// The second value is the port that was picked automatically, for a
/// "using …" line.
pub fn choose(port: Option<&str>) -> Result<(PortSpec, Option<PortInfo>)> {
    // `--port auto` (as fleet flashing takes it) = the only USB serial port.
    if let Some(p) = port.filter(|p| *p != "auto") {
        return Ok((PortSpec::parse(p)?, None));
    }
    let list = list().map_err(|e| {
        Error::unreachable(format!("cannot enumerate serial ports: {e}"))
            .with_help("pass the port explicitly with --port /dev/ttyUSB0")
    })?;
    match auto_select(&list) {
        AutoPort::One(p) => Ok((PortSpec::Serial(p.name.clone()), Some(p))),
        AutoPort::Several(v) => {
            let lines: Vec<String> = v.iter().map(|p| format!("  {}", render_line(p))).collect();
            Err(Error::usage(format!(
                "several USB serial ports are present:\n{}",
                lines.join("\n")
            ))
            .with_help("choose one with --port (or set ESPMQTT_PORT)"))
        }
        AutoPort::None => Err(Error::unreachable("no USB serial port found").with_help(
            "plug in the USB-serial adapter (CH340, CP2102 or FT232R, set to 3.3 V) wired to \
             the ESP-07: adapter TX→RX, RX→TX, GND→GND; then run `espmqtt ports` to check it \
             appears. For a remote or emulated module use --port socket://HOST:PORT or \
             rfc2217://HOST:PORT",
        )),
    }
}

/// Every USB serial port (`flash --port auto` in fleet mode).
pub fn all_usb() -> Result<Vec<PortSpec>> {
    let list = list().map_err(|e| {
        Error::unreachable(format!("cannot enumerate serial ports: {e}"))
            .with_help("name the ports with --port /dev/ttyUSB0 --port /dev/ttyUSB1 …")
    })?;
    Ok(list
        .iter()
        .filter(|p| p.is_usb())
        .map(|p| PortSpec::Serial(p.name.clone()))
        .collect())
}

/// One line per port for text output.
pub fn render_line(p: &PortInfo) -> String {
    let mut s = p.name.clone();
    if let (Some(v), Some(pid)) = (&p.vid, &p.pid) {
        s.push_str(&format!("  {v}:{pid}"));
    } else {
        s.push_str(&format!("  ({})", p.kind));
    }
    if let Some(b) = &p.bridge {
        s.push_str(&format!("  {b}"));
    }
    let extra: Vec<&str> = [&p.manufacturer, &p.product]
        .iter()
        .filter_map(|x| x.as_deref())
        .collect();
    if !extra.is_empty() {
        s.push_str(&format!("  ({})", extra.join(" ")));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usb(name: &str, vid: u16, pid: u16) -> PortInfo {
        describe(&SerialPortInfo {
            port_name: name.into(),
            port_type: SerialPortType::UsbPort(serialport::UsbPortInfo {
                vid,
                pid,
                serial_number: None,
                manufacturer: None,
                product: None,
            }),
        })
    }

    #[test]
    fn bridges_are_named() {
        assert_eq!(
            usb("/dev/ttyUSB0", 0x1a86, 0x7523).bridge.as_deref(),
            Some("CH340")
        );
        assert_eq!(
            usb("/dev/ttyUSB0", 0x10c4, 0xea60).bridge.as_deref(),
            Some("CP2102/CP2104")
        );
        assert_eq!(
            usb("/dev/ttyUSB0", 0x0403, 0x6001).bridge.as_deref(),
            Some("FTDI FT232R")
        );
        assert_eq!(usb("/dev/ttyUSB0", 0x1234, 0x5678).bridge, None);
        assert!(render_line(&usb("/dev/ttyUSB0", 0x1a86, 0x7523)).contains("1a86:7523  CH340"));
    }

    #[test]
    fn auto_select_rules() {
        let pci = describe(&SerialPortInfo {
            port_name: "/dev/ttyS0".into(),
            port_type: SerialPortType::PciPort,
        });
        assert_eq!(auto_select(std::slice::from_ref(&pci)), AutoPort::None);
        let a = usb("/dev/ttyUSB0", 0x1a86, 0x7523);
        assert_eq!(
            auto_select(&[pci.clone(), a.clone()]),
            AutoPort::One(a.clone())
        );
        let b = usb("/dev/ttyUSB1", 0x10c4, 0xea60);
        assert!(matches!(auto_select(&[a, pci, b]), AutoPort::Several(v) if v.len() == 2));
    }
}
