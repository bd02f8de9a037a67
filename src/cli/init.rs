//! `espmqtt init`: create espmqtt.toml.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct InitArgs {}

pub fn run(_args: InitArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt init` is not implemented yet"))
}
