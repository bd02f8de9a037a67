//! espmqtt: provision and diagnose ESP8266 modules (ESP-07 / ESP-07S) that
//! talk MQTT over TLS.
//!
//! The library does the work and reports through values and callbacks; only
//! [`cli`] prints, draws progress or prompts. Data flows one way:
//! arguments → project configuration/registry → domain operation → report
//! value → renderer.

#![forbid(unsafe_code)]

pub mod cli;
pub mod device;
pub mod digest;
pub mod emulator;
pub mod error;
pub mod files;
pub mod firmware;
pub mod flash;
#[doc(hidden)]
pub mod fuzzing;
pub mod monitor;
pub mod mqtt;
pub mod ops;
pub mod progress;
pub mod project;
pub mod serial;
pub mod target;
pub mod tls;

pub use error::{Error, ErrorKind, ExitStatus, Result};
