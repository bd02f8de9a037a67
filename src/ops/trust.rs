//! A broker's chain as the device would see it, and the trust mode it
//! suggests (`espmqtt init --from-broker`).

use crate::error::{Error, Result};
use crate::tls::anchor::{self, Bundle};
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
    /// Certificate to save as `ca_file` (`ca` mode): the chain's root when
    /// it can be identified, else the topmost certificate sent.
    pub anchor_der: Option<Vec<u8>>,
    /// Whether `anchor_der` is a root, and where it was found.
    pub anchor_is_root: bool,
    pub anchor_source: Option<String>,
    pub anchor_subject: Option<String>,
    /// Why this mode, in the user's terms.
    pub reason: String,
    /// What the user must know (e.g. an intermediate is pinned).
    pub warnings: Vec<String>,
}

/// [`propose_trust_with`] looking for the root in the system's store.
pub fn propose_trust(chain: &[Vec<u8>]) -> Result<TrustProposal> {
    propose_trust_with(chain, &[Bundle::system()])
}

/// Self-signed leaf → `pubkey`, because a fingerprint breaks at every
/// renewal while the key usually survives it. CA-issued leaf → `ca` with the
/// chain's root as the anchor, looked up in `bundles` when the broker does
/// not send it (see `src/tls/anchor.rs`); BearSSL accepts a chain as soon as
/// a certificate's issuer matches an anchor. When the root cannot be
/// identified the topmost certificate sent is proposed with a warning; when
/// the broker sent only its own certificate and its issuer is unknown there
/// is no CA to take, and `--ca-file` is left for the user.
pub fn propose_trust_with(chain: &[Vec<u8>], bundles: &[Bundle]) -> Result<TrustProposal> {
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
            anchor_is_root: false,
            anchor_source: None,
            anchor_subject: None,
            reason: "the broker's certificate is self-signed: pin its public key (pubkey). \
                     A fingerprint would break at every certificate renewal, while a renewed \
                     certificate usually keeps the key"
                .into(),
            warnings: Vec::new(),
        });
    }
    let choice = anchor::choose(chain, bundles);
    match choice {
        Some(a) if a.is_root || chain.len() > 1 => Ok(TrustProposal {
            trust: TrustMode::Ca,
            reason: if a.is_root {
                format!(
                    "the broker's certificate is issued by a CA: trust its root ({}; source: {}) \
                     in ca mode, with NTP; it survives certificate renewals",
                    a.subject, a.source
                )
            } else {
                "the broker's certificate is issued by a CA: trust the CA (ca mode, with NTP)"
                    .into()
            },
            anchor_is_root: a.is_root,
            anchor_source: Some(a.source),
            anchor_subject: Some(a.subject),
            anchor_der: Some(a.der),
            warnings: a.warning.into_iter().collect(),
        }),
        _ => Ok(TrustProposal {
            trust: TrustMode::Ca,
            anchor_der: None,
            anchor_is_root: false,
            anchor_source: None,
            anchor_subject: None,
            reason: format!(
                "the broker's certificate is issued by a CA ({}), but the broker did not send \
                 the CA certificate and it is not in the system store: pass --ca-file with it",
                cert.issuer()
            ),
            warnings: Vec::new(),
        }),
    }
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
        let p = propose_trust_with(&chain, &[]).unwrap();
        assert_eq!(p.trust, TrustMode::Ca);
        assert_eq!(p.anchor_der.as_deref(), Some(ca.der().as_ref()));
        assert!(p.anchor_is_root);
        // Only the leaf sent: ca mode, but no anchor to take…
        let p = propose_trust_with(&chain[..1], &[]).unwrap();
        assert_eq!(p.trust, TrustMode::Ca);
        assert!(p.anchor_der.is_none());
        assert!(p.reason.contains("--ca-file"));
        // … unless a bundle has the root.
        let bundle = Bundle {
            origin: "roots.pem".into(),
            certs: vec![ca.der().to_vec()],
        };
        let p = propose_trust_with(&chain[..1], &[bundle]).unwrap();
        assert_eq!(p.anchor_der.as_deref(), Some(ca.der().as_ref()));
        assert_eq!(p.anchor_source.as_deref(), Some("roots.pem"));
        assert!(propose_trust(&[]).is_err());
    }
}
