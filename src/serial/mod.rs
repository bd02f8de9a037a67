//! Serial ports, shared by flashing and the monitor: what `--port` names
//! (a device path or `socket://HOST:PORT`), opening it, listing ports with
//! their USB bridge, and picking one when `--port` is absent.
//!
//! * [`transport`] — a port as `Box<dyn serialport::SerialPort>` for the
//!   loader (serial device or TCP socket);
//! * [`console`] — the monitor's read-only view with bounded reads;
//! * [`ports`] — enumeration, bridge names, auto-selection.

pub mod console;
pub mod ports;
pub mod transport;
