//! `espmqtt device config NAME --out FILE`: write a device's config blob.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct DeviceConfigArgs {
    /// Device name.
    pub name: String,
}

pub fn run(_args: DeviceConfigArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime(
        "`espmqtt device config` is not implemented yet",
    ))
}
