//! emulator: see DESIGN §3.
