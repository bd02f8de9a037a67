//! `espmqtt device`: per-device identities and secrets in the registry.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum DeviceCommand {
    /// List devices.
    List,
}

pub fn run(_args: DeviceCommand, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt device` is not implemented yet"))
}
