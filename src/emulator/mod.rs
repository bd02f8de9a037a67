//! emulator: see DESIGN §3.

pub mod console;
