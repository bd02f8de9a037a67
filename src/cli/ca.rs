//! `espmqtt ca`: local certificate authority for device client certificates.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Subcommand)]
pub enum CaCommand {
    /// Create the local CA in .espmqtt/ca/.
    Init,
}

pub fn run(_args: CaCommand, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt ca` is not implemented yet"))
}
