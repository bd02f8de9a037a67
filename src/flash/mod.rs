//! Flashing: the loader protocol, board profiles and flash layout
//! (docs/ARCHITECTURE.md, "Data flow: flash").
//!
//! Layers, bottom up: [`slip`] + [`protocol`] (bytes and packets, shared with
//! the emulator) → [`crate::serial`] (serial port or `socket://`) →
//! [`loader`] (one command at a time, with deadlines) → [`flasher`] (plan in,
//! verified report out; what the CLI and fleet flashing call). [`image`] and
//! [`layout`] know the ESP8266 image header and where things live in flash.

pub mod cost;
pub mod deflate;
pub mod error;
pub mod flasher;
pub mod image;
pub mod layout;
pub mod loader;
pub mod protocol;
pub mod slip;

pub use error::{FlashError, FlashResult};
pub use flasher::{flash_module, FlashOptions, FlashPlan, FlashReport, Region};
