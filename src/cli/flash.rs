//! `espmqtt flash`: write firmware and per-device configuration over serial.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct FlashArgs {}

pub fn run(_args: FlashArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt flash` is not implemented yet"))
}
