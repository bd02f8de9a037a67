//! Which certificate a device in `ca` mode should pin as its trust anchor.
//!
//! A broker usually sends its certificate and an intermediate CA, not the
//! root. Pinning the top certificate it sends works until the CA issues from
//! another intermediate — Let's Encrypt rotates its intermediates — and then
//! every device stops connecting. So the anchor is the root whenever it can
//! be identified: the root the broker sent, else the issuer of the top
//! certificate found in a bundle the user named (`--ca-file`) or in the
//! system's store (`SSL_CERT_FILE`, else the distribution's bundle). When the
//! root is known only by name (the Mozilla list compiled into espmqtt) or
//! not at all, the top certificate is pinned and the choice carries a
//! warning that says why that breaks and what to pass instead.
//!
//! The issuer is matched by name and, when both certificates carry them, by
//! authority/subject key identifier, so that two generations of a CA with
//! the same name are told apart.

use std::path::PathBuf;

use x509_parser::prelude::*;

/// Bundles the distributions put their root store in, in order of preference.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
];

/// The certificate to pin and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnchorChoice {
    /// DER of the certificate to give `setTrustAnchors`.
    pub der: Vec<u8>,
    /// Its subject, for messages.
    pub subject: String,
    /// Whether it is a self-signed root (survives intermediate rotation).
    pub is_root: bool,
    /// Where it came from: `sent by the server`, or a file.
    pub source: String,
    /// What the user must know when the anchor is not a root.
    pub warning: Option<String>,
}

/// A bundle of candidate issuers and where it came from.
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    pub origin: String,
    pub certs: Vec<Vec<u8>>,
}

impl Bundle {
    /// The system's root store: `SSL_CERT_FILE` when set, else the first
    /// distribution bundle that exists (empty when there is none).
    pub fn system() -> Bundle {
        let mut paths: Vec<PathBuf> = Vec::new();
        if let Some(p) = std::env::var_os("SSL_CERT_FILE").filter(|p| !p.is_empty()) {
            paths.push(PathBuf::from(p));
        }
        paths.extend(SYSTEM_BUNDLES.iter().map(PathBuf::from));
        for p in paths {
            if let Ok(bytes) =
                crate::files::read_input(&p, crate::files::MAX_IMAGE_INPUT, "CA bundle")
            {
                if let Ok(certs) = super::cert::load_certificates(&bytes) {
                    return Bundle {
                        origin: format!("the system store ({})", p.display()),
                        certs,
                    };
                }
            }
        }
        Bundle::default()
    }
}

struct Parsed<'a> {
    der: &'a [u8],
    cert: X509Certificate<'a>,
}

impl Parsed<'_> {
    fn self_signed(&self) -> bool {
        self.cert.subject().as_raw() == self.cert.issuer().as_raw()
            && match (self.aki(), self.ski()) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }
    fn ski(&self) -> Option<Vec<u8>> {
        self.cert
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0.to_vec()),
                _ => None,
            })
    }
    fn aki(&self) -> Option<Vec<u8>> {
        self.cert
            .extensions()
            .iter()
            .find_map(|e| match e.parsed_extension() {
                ParsedExtension::AuthorityKeyIdentifier(a) => {
                    a.key_identifier.as_ref().map(|k| k.0.to_vec())
                }
                _ => None,
            })
    }
    /// Whether `issuer` is this certificate's issuer (name, and key
    /// identifiers when both are present).
    fn issued_by(&self, issuer: &Parsed<'_>) -> bool {
        self.cert.issuer().as_raw() == issuer.cert.subject().as_raw()
            && match (self.aki(), issuer.ski()) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    }
}

fn parse(der: &[u8]) -> Option<Parsed<'_>> {
    X509Certificate::from_der(der)
        .ok()
        .map(|(_, cert)| Parsed { der, cert })
}

/// The content of a DER SEQUENCE (strips tag and length).
fn der_content(raw: &[u8]) -> &[u8] {
    match raw {
        [0x30, l, rest @ ..] if *l < 0x80 => rest,
        [0x30, 0x81, _, rest @ ..] => rest,
        [0x30, 0x82, _, _, rest @ ..] => rest,
        _ => raw,
    }
}

/// Whether the Mozilla root list compiled into espmqtt has a root with the
/// subject `name_raw` (a DER Name).
fn mozilla_knows(name_raw: &[u8]) -> bool {
    let content = der_content(name_raw);
    webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .any(|a| a.subject.as_ref() == content)
}

/// Choose the anchor for a chain as the server sent it (leaf first),
/// looking for its root in `bundles` (in order). `None` for an empty chain.
pub fn choose(chain: &[Vec<u8>], bundles: &[Bundle]) -> Option<AnchorChoice> {
    let top_der = chain.last()?;
    let Some(top) = parse(top_der) else {
        return Some(AnchorChoice {
            der: top_der.clone(),
            subject: "the top certificate (does not parse)".into(),
            is_root: false,
            source: "sent by the server".into(),
            warning: Some(
                "the top certificate the server sends does not parse; pass --ca-file with \
                 the CA's root certificate"
                    .into(),
            ),
        });
    };
    if top.self_signed() {
        return Some(AnchorChoice {
            der: top_der.clone(),
            subject: top.cert.subject().to_string(),
            is_root: true,
            source: "sent by the server".into(),
            warning: None,
        });
    }
    // Climb from the top certificate through the bundles to a root (a few
    // steps at most: a bundle may hold cross-signed intermediates).
    let candidates: Vec<(&str, Parsed<'_>)> = bundles
        .iter()
        .flat_map(|b| {
            b.certs
                .iter()
                .filter_map(move |d| parse(d).map(|p| (b.origin.as_str(), p)))
        })
        .collect();
    let mut current = &top;
    for _ in 0..4 {
        let Some((origin, issuer)) = candidates
            .iter()
            .filter(|(_, c)| current.issued_by(c))
            // A root first, when the bundle has both generations of a name.
            .max_by_key(|(_, c)| c.self_signed())
        else {
            break;
        };
        if issuer.self_signed() {
            return Some(AnchorChoice {
                der: issuer.der.to_vec(),
                subject: issuer.cert.subject().to_string(),
                is_root: true,
                source: origin.to_string(),
                warning: None,
            });
        }
        current = issuer;
    }
    let issuer_name = top.cert.issuer().to_string();
    let subject = top.cert.subject().to_string();
    let rotation = "a device that pins an intermediate stops connecting as soon as the CA \
                    issues the broker's next certificate from another intermediate (Let's \
                    Encrypt rotates them)";
    let warning = if chain.len() == 1 && !top.cert.is_ca() {
        format!(
            "the server sends only its own certificate (issued by {issuer_name}), which is \
             pinned as the anchor and breaks at its renewal; pass --ca-file with the CA's \
             root certificate"
        )
    } else if mozilla_knows(top.cert.issuer().as_raw()) {
        format!(
            "the anchor is the intermediate {subject}: its root ({issuer_name}) is a well-known \
             CA but its certificate is not in this machine's store; {rotation}. Install the \
             ca-certificates package, or pass --ca-file with the root's certificate"
        )
    } else {
        format!(
            "the anchor is the intermediate {subject}: its issuer ({issuer_name}) was not found \
             in the system store or --ca-file; {rotation}. Pass --ca-file with the root \
             certificate"
        )
    };
    Some(AnchorChoice {
        der: top_der.clone(),
        subject,
        is_root: false,
        source: "sent by the server".into(),
        warning: Some(warning),
    })
}

/// Whether any certificate of `chain` is in `anchors` or issued by one of
/// them: a device with these anchors can build a path.
pub fn anchors_chain(chain: &[Vec<u8>], anchors: &[Vec<u8>]) -> bool {
    let anchors: Vec<Parsed<'_>> = anchors.iter().filter_map(|d| parse(d)).collect();
    chain
        .iter()
        .filter_map(|d| parse(d))
        .any(|c| anchors.iter().any(|a| a.der == c.der || c.issued_by(a)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

    struct Pki {
        root: Vec<u8>,
        inter: Vec<u8>,
        leaf: Vec<u8>,
    }

    fn ca(cn: &str) -> CertificateParams {
        let mut p = CertificateParams::new(Vec::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, cn);
        p
    }

    fn pki(root_cn: &str) -> Pki {
        let rk = KeyPair::generate().unwrap();
        let root = ca(root_cn).self_signed(&rk).unwrap();
        let ik = KeyPair::generate().unwrap();
        let mut ip = ca("Test Intermediate R1");
        ip.use_authority_key_identifier_extension = true;
        let inter = ip.signed_by(&ik, &root, &rk).unwrap();
        let lk = KeyPair::generate().unwrap();
        let mut lp = CertificateParams::new(vec!["b.example".into()]).unwrap();
        lp.use_authority_key_identifier_extension = true;
        let leaf = lp.signed_by(&lk, &inter, &ik).unwrap();
        Pki {
            root: root.der().to_vec(),
            inter: inter.der().to_vec(),
            leaf: leaf.der().to_vec(),
        }
    }

    fn bundle(certs: &[&[u8]]) -> Bundle {
        Bundle {
            origin: "test bundle".into(),
            certs: certs.iter().map(|c| c.to_vec()).collect(),
        }
    }

    #[test]
    fn the_root_is_pinned_when_a_bundle_has_it() {
        let p = pki("Test Root X1");
        let other = pki("Test Root X1"); // same name, another key
        let chain = vec![p.leaf.clone(), p.inter.clone()];
        let c = choose(&chain, &[bundle(&[&other.root, &p.root])]).unwrap();
        assert!(c.is_root);
        assert_eq!(c.der, p.root);
        assert_eq!(c.source, "test bundle");
        assert!(c.warning.is_none());
        assert!(anchors_chain(&chain, std::slice::from_ref(&p.root)));
        assert!(!anchors_chain(&chain, std::slice::from_ref(&other.root)));
    }

    #[test]
    fn a_sent_root_is_pinned() {
        let p = pki("Test Root X2");
        let c = choose(&[p.leaf.clone(), p.inter.clone(), p.root.clone()], &[]).unwrap();
        assert!(c.is_root);
        assert_eq!(c.der, p.root);
    }

    #[test]
    fn an_unidentified_root_pins_the_intermediate_with_a_warning() {
        let p = pki("Test Root X3");
        let c = choose(&[p.leaf.clone(), p.inter.clone()], &[]).unwrap();
        assert!(!c.is_root);
        assert_eq!(c.der, p.inter);
        let w = c.warning.unwrap();
        assert!(w.contains("rotates") && w.contains("--ca-file"), "{w}");
        assert!(choose(&[], &[]).is_none());
    }

    #[test]
    fn mozilla_roots_are_known_by_name() {
        let isrg = "ISRG Root X1";
        let known = webpki_roots::TLS_SERVER_ROOTS.iter().any(|a| {
            a.subject
                .as_ref()
                .windows(isrg.len())
                .any(|w| w == isrg.as_bytes())
        });
        assert!(known);
        assert!(!mozilla_knows(b"\x30\x00"));
    }
}
