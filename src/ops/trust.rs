//! A broker's chain as the device would see it, and the trust mode it
//! suggests (`espmqtt init --from-broker`).

use crate::error::{Error, Result};
use crate::tls::TrustMode;

/// The broker's chain as a device sees it: the device's own TLS engine
/// (BearSSL has no TLS 1.3), SNI when connecting by name, every certificate
/// accepted because only the chain is wanted here.
pub fn fetch_chain(host: &str, port: u16) -> Result<Vec<Vec<u8>>> {
    use crate::target::Target;
    use crate::tls::capture::{capture, CaptureOptions, Sni};
    let opts = CaptureOptions {
        target: Target {
            host: host.to_string(),
            port,
        },
        sni: Sni::Auto,
        timeout: std::time::Duration::from_secs(10),
        device_view: true,
    };
    capture(&opts)
        .map(|c| c.chain)
        .map_err(|e| Error::unreachable(e.to_string()).with_help(e.help()))
}

/// What `--from-broker` proposes for a captured chain (leaf first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustProposal {
    pub trust: TrustMode,
    /// Certificate to save as `ca_file` (`ca` mode) — the topmost one sent.
    pub anchor_der: Option<Vec<u8>>,
    /// Why this mode, in the user's terms.
    pub reason: String,
}

/// Self-signed leaf → `pubkey`, because a fingerprint breaks at every
/// renewal while the key usually survives it (esp8266-tls.md §11 item 1).
/// CA-issued leaf → `ca` with the chain's topmost certificate as the anchor
/// (BearSSL stops at the first certificate whose issuer matches an anchor,
/// esp8266-tls.md §3.6); when the broker sent only its own certificate there
/// is no CA to take, and `--ca-file` is left for the user.
pub fn propose_trust(chain: &[Vec<u8>]) -> Result<TrustProposal> {
    let leaf = chain
        .first()
        .ok_or_else(|| Error::check_failed("the broker sent no certificate"))?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).map_err(|e| {
        Error::check_failed(format!("the broker's certificate does not parse: {e}"))
    })?;
    let self_signed = cert.subject().as_raw() == cert.issuer().as_raw();
    if self_signed && chain.len() == 1 {
        return Ok(TrustProposal {
            trust: TrustMode::Pubkey,
            anchor_der: None,
            reason: "the broker's certificate is self-signed: pin its public key (pubkey). \
                     A fingerprint would break at every certificate renewal, while a renewed \
                     certificate usually keeps the key"
                .into(),
        });
    }
    if chain.len() == 1 {
        return Ok(TrustProposal {
            trust: TrustMode::Ca,
            anchor_der: None,
            reason: format!(
                "the broker's certificate is issued by a CA ({}), but the broker did not send \
                 the CA certificate: pass --ca-file with it",
                cert.issuer()
            ),
        });
    }
    Ok(TrustProposal {
        trust: TrustMode::Ca,
        anchor_der: chain.last().cloned(),
        reason: "the broker's certificate is issued by a CA: trust the CA (ca mode, with NTP); \
                 it survives certificate renewals"
            .into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposal_self_signed_is_pubkey_and_ca_issued_is_ca() {
        let key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["b.example".into()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let p = propose_trust(&[leaf.der().to_vec()]).unwrap();
        assert_eq!(p.trust, TrustMode::Pubkey);
        assert!(p.reason.contains("fingerprint"));

        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Test Root");
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["b.example".into()])
            .unwrap()
            .signed_by(&leaf_key, &ca, &ca_key)
            .unwrap();
        let chain = vec![leaf.der().to_vec(), ca.der().to_vec()];
        let p = propose_trust(&chain).unwrap();
        assert_eq!(p.trust, TrustMode::Ca);
        assert_eq!(p.anchor_der.as_deref(), Some(ca.der().as_ref()));
        // Only the leaf sent: ca mode, but no anchor to take.
        let p = propose_trust(&chain[..1]).unwrap();
        assert_eq!(p.trust, TrustMode::Ca);
        assert!(p.anchor_der.is_none());
        assert!(p.reason.contains("--ca-file"));
        assert!(propose_trust(&[]).is_err());
    }
}
