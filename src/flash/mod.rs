//! Flashing: serial/socket transports, the loader protocol, board profiles
//! and flash layout, and the serial monitor decoders (DESIGN §4.3).
//!
//! Layers, bottom up: [`slip`] + [`protocol`] (bytes and packets, shared with
//! the emulator) → [`transport`] (serial port or `socket://`) → [`loader`]
//! (one command at a time, with deadlines) → [`flasher`] (plan in, verified
//! report out; what the CLI and fleet flashing call). [`image`] and
//! [`layout`] know the ESP8266 image header and where things live in flash;
//! [`ports`] lists serial ports and their USB bridges.

pub mod error;
pub mod flasher;
pub mod fleet;
pub mod image;
pub mod layout;
pub mod loader;
pub mod monitor;
pub mod ports;
pub mod protocol;
pub mod slip;
pub mod transport;

pub use error::{FlashError, FlashResult};
pub use flasher::{flash_module, FlashOptions, FlashPlan, FlashReport, Region};
