//! `espmqtt monitor`: serial console with explanations.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct MonitorArgs {}

pub fn run(_args: MonitorArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt monitor` is not implemented yet"))
}
