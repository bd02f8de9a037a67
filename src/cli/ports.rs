//! `espmqtt ports`: list serial ports and their USB bridge chips.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct PortsArgs {}

pub fn run(_args: PortsArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt ports` is not implemented yet"))
}
