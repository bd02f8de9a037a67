//! `espmqtt fingerprint`: the broker's certificate facts, paste-ready, and drift checks for CI.

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
pub struct FingerprintArgs {
    /// Broker address: HOST, HOST:PORT, [IPv6]:PORT (default port 8883).
    pub target: Option<String>,
}

pub fn run(_args: FingerprintArgs, _ctx: &Ctx) -> Result<ExitStatus> {
    Err(Error::runtime("`espmqtt fingerprint` is not implemented yet"))
}
