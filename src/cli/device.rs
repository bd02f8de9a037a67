//! `espmqtt device`: per-device identities and secrets in the registry.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum DeviceCommand {
    /// List devices.
    List,
    /// Write a device's config blob (Wi-Fi, broker, credentials, trust material).
    Config(super::device_config::DeviceConfigArgs),
}

pub fn run(args: DeviceCommand, ctx: &Ctx) -> Result<ExitStatus> {
    match args {
        DeviceCommand::Config(a) => super::device_config::run(a, ctx),
        DeviceCommand::List => Err(Error::runtime("`espmqtt device` is not implemented yet")),
    }
}
