//! `espmqtt demo`: the whole job on this machine.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub fn run(_args: DemoArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt demo` is not implemented yet"))
}
