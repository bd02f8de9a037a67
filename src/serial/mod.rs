//! Serial ports, one layer for flashing and the monitor: what `--port`
//! names, opening it, resetting the module through DTR/RTS, listing ports
//! and picking one when `--port` is absent.
//!
//! * [`spec`] — the `--port` grammar: a device, `socket://`, `rfc2217://`;
//! * [`transport`] — any of them opened as `Box<dyn serialport::SerialPort>`
//!   (what the loader drives);
//! * [`rfc2217`] + [`telnet`] — the RFC 2217 client (remote ports behind
//!   ser2net);
//! * [`control`] — the DTR/RTS reset sequences and what to say when a port
//!   cannot drive them;
//! * [`console`] — the monitor's read-only view with bounded reads;
//! * [`ports`] — enumeration, bridge names, auto-selection.
//!
//! `docs/SERIAL.md` describes the behaviour of each kind of port.

pub mod console;
pub mod control;
pub mod ports;
pub mod rfc2217;
pub mod spec;
pub mod telnet;
pub mod transport;

pub use spec::PortSpec;
