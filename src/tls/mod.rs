//! TLS: the device's own engine (BearSSL, configured like the ESP8266
//! core) on real connections, the analysis that explains its verdicts,
//! certificate capture and summaries, fingerprints and pins. One table of
//! names ([`names`]), one record parser ([`records`]), one resolver
//! ([`net`]) for all of it.

pub mod analysis;
pub mod anchor;
pub mod capture;
pub mod cert;
pub mod clienthello;
pub mod emit;
pub mod engine;
pub mod explain;
pub mod names;
pub mod net;
pub mod records;

use serde::{Deserialize, Serialize};

/// How the device authenticates the broker. One vocabulary for
/// `espmqtt.toml`, the config blob, the firmware and `probe`.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum TrustMode {
    /// `setTrustAnchors` + NTP: chain, dates and name; survives renewals.
    #[default]
    Ca,
    /// `setKnownKey`: SPKI equality; survives renewals that keep the key.
    Pubkey,
    /// `setFingerprint`: SHA-1 of the leaf DER; breaks at every renewal.
    Fingerprint,
    /// `setInsecure`: no check at all.
    Insecure,
}

impl TrustMode {
    pub fn as_str(self) -> &'static str {
        match self {
            TrustMode::Ca => "ca",
            TrustMode::Pubkey => "pubkey",
            TrustMode::Fingerprint => "fingerprint",
            TrustMode::Insecure => "insecure",
        }
    }
}

impl std::fmt::Display for TrustMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
