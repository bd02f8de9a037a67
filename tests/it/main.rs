//! The one integration-test binary (docs/TESTING.md): every test runs the real
//! `espmqtt` binary against real peers on loopback.

#[path = "../support/mod.rs"]
mod support;

mod amqtt;
mod cli;
mod demo;
mod device;
mod diag_journey;
mod dynsec;
mod emulator;
mod fingerprint;
mod firmware;
mod first_steps;
mod flash;
mod flash_journey;
mod fleet;
mod hardening;
mod help;
mod house;
mod interactive;
mod monitor;
mod ota;
mod ota_dynsec;
mod ota_firmware;
mod ota_journey;
mod probe;
mod probe_matrix;
mod registry;
mod serial;
mod sweep;
mod verbose;
