//! `espmqtt probe`: the device's view of a broker, end to end, from the host.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct ProbeArgs {
    /// Broker address: HOST, HOST:PORT, [IPv6]:PORT (default port 8883).
    pub target: Option<String>,
}

pub fn run(_args: ProbeArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt probe` is not implemented yet"))
}
