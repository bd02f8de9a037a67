//! A virtual ESP8266 in download mode on a TCP port (`espmqtt emulate`,
//! docs/ARCHITECTURE.md, "The emulator"): the CI dry-run target and the test
//! bench of `flash`.
//!
//! Each TCP connection is one session on the chip's UART, starting from a
//! reset into the ROM loader (ROM state, 115200 baud, flash contents kept).
//! A newer connection preempts an older one, as a reset would.
//!
//! Layout:
//! * [`chip`] — the chip kind, MAC and flash-size helpers;
//! * [`config`] — what the emulator models, the pluggable [`Firmware`];
//! * [`boot`] — the ROM's 74880-baud boot log for `--boot-mode flash`;
//! * [`console`] — `--console FILE`: the firmware's console output replayed;
//! * [`device`] — the chip as a pure state machine (ROM + stub personalities);
//! * [`registers`] — magic, eFuse/MAC, UART divider, SPI flash-ID engine;
//! * [`flash_model`] — NOR flash contents, erase/program, the ROM erase bug;
//! * [`timing`] — the documented time model (wire, erase, program, MD5);
//! * [`faults`] — `--fault` grammar and counters;
//! * [`server`] — sockets, wire throttling, modules, saving, events.
//!
//! What runs once the chip leaves the bootloader is pluggable through
//! [`Firmware`] (a console replay can implement it).

pub mod boot;
pub mod chip;
pub mod config;
pub mod console;
pub mod device;
pub mod faults;
pub mod flash_model;
pub mod registers;
pub mod server;
pub mod timing;

pub use chip::{
    flash_id_for_size, format_mac, mac_plus, parse_flash_size, parse_mac, size_from_flash_id, Chip,
    DEFAULT_MAC,
};
pub use config::{BootMode, ConsoleChunk, EmulatorConfig, Firmware, SilentFirmware};
pub use device::{BootReason, StubFlavour};
pub use faults::FaultSpec;
pub use server::{serve, serve_until};
pub use timing::TimingModel;
