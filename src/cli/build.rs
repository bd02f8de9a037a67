//! `espmqtt build`: render the firmware template and compile it.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct BuildArgs {}

pub fn run(_args: BuildArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt build` is not implemented yet"))
}
