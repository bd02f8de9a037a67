//! Flashing: serial/socket transports, the loader protocol, board profiles
//! and flash layout, and the serial monitor decoders (DESIGN §4.3).

pub mod monitor;
pub mod protocol;
pub mod slip;
