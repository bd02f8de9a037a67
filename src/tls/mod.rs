//! TLS: certificate capture and summaries, fingerprints and pins, the
//! device-identical ClientHello probe, and BearSSL compatibility rules.

pub mod anchor;
pub mod capture;
pub mod cert;
pub mod clienthello;
pub mod compat;
pub mod device_trust;
pub mod emit;
pub mod handshake;
pub mod records;

use serde::{Deserialize, Serialize};

/// How the device authenticates the broker (DESIGN §4.1). One vocabulary for
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
