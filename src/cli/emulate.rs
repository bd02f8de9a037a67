//! `espmqtt emulate`: a virtual ESP8266 serial bootloader on a TCP port.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct EmulateArgs {}

pub fn run(_args: EmulateArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt emulate` is not implemented yet"))
}
