//! The one integration-test binary (CONVENTIONS 10): every test runs the real
//! `espmqtt` binary against real peers on loopback.

#[path = "../support/mod.rs"]
mod support;

mod amqtt;
mod cli;
mod demo;
mod device;
mod dynsec;
mod emulator;
mod fingerprint;
mod firmware;
mod flash;
mod fleet;
mod hardening;
mod help;
mod interactive;
mod monitor;
mod probe;
mod serial;
mod sweep;
