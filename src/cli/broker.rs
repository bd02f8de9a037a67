//! `espmqtt broker`: broker-side artefacts for the whole fleet.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum BrokerCommand {
    /// Write broker-side files for the fleet.
    Export,
}

pub fn run(_args: BrokerCommand, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt broker` is not implemented yet"))
}
