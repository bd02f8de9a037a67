//! Certificates made at test time with rcgen (EC, Ed25519) and openssl (RSA,
//! because ring cannot generate RSA keys).

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};

/// A certificate with its key, as PEM, plus the files written for it.
pub struct Issued {
    pub cert: rcgen::Certificate,
    pub key: KeyPair,
    pub cert_pem: String,
    pub key_pem: String,
}

impl Issued {
    pub fn der(&self) -> Vec<u8> {
        self.cert.der().to_vec()
    }
    /// Write `<stem>.crt` and `<stem>.key` into `dir`.
    pub fn write(&self, dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
        let c = dir.join(format!("{stem}.crt"));
        let k = dir.join(format!("{stem}.key"));
        std::fs::write(&c, &self.cert_pem).unwrap();
        std::fs::write(&k, &self.key_pem).unwrap();
        (c, k)
    }
}

/// Key algorithms the tests need.
#[derive(Clone, Copy, Debug)]
pub enum Alg {
    EcP256,
    EcP384,
    Ed25519,
    Rsa(u32),
}

pub fn key(alg: Alg) -> KeyPair {
    match alg {
        Alg::EcP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap(),
        Alg::EcP384 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap(),
        Alg::Ed25519 => KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap(),
        Alg::Rsa(bits) => {
            let out = Command::new("openssl")
                .args(["genpkey", "-algorithm", "RSA", "-pkeyopt"])
                .arg(format!("rsa_keygen_bits:{bits}"))
                .output()
                .expect("openssl genpkey");
            assert!(out.status.success(), "openssl genpkey failed");
            let pem = String::from_utf8(out.stdout).unwrap();
            KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap()
        }
    }
}

fn params(cn: &str, sans: &[&str]) -> CertificateParams {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    for s in sans {
        if let Ok(ip) = s.parse::<std::net::IpAddr>() {
            p.subject_alt_names.push(SanType::IpAddress(ip));
        } else {
            p.subject_alt_names
                .push(SanType::DnsName((*s).try_into().unwrap()));
        }
    }
    p
}

/// A self-signed CA.
pub fn ca(cn: &str, alg: Alg) -> Issued {
    let key = key(alg);
    let mut p = params(cn, &[]);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.self_signed(&key).unwrap();
    finish(cert, key)
}

/// An intermediate CA signed by `issuer`.
pub fn intermediate(cn: &str, alg: Alg, issuer: &Issued) -> Issued {
    let key = key(alg);
    let mut p = params(cn, &[]);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = p.signed_by(&key, &issuer.cert, &issuer.key).unwrap();
    finish(cert, key)
}

/// A leaf (server or client) certificate signed by `issuer`.
pub fn leaf(cn: &str, sans: &[&str], alg: Alg, issuer: &Issued) -> Issued {
    leaf_with(cn, sans, alg, issuer, |_| {})
}

/// A leaf with extra parameter tweaks (validity, extensions…).
pub fn leaf_with(
    cn: &str,
    sans: &[&str],
    alg: Alg,
    issuer: &Issued,
    tweak: impl FnOnce(&mut CertificateParams),
) -> Issued {
    let key = key(alg);
    let mut p = params(cn, sans);
    tweak(&mut p);
    let cert = p.signed_by(&key, &issuer.cert, &issuer.key).unwrap();
    finish(cert, key)
}

/// A self-signed leaf.
pub fn self_signed(
    cn: &str,
    sans: &[&str],
    alg: Alg,
    tweak: impl FnOnce(&mut CertificateParams),
) -> Issued {
    let key = key(alg);
    let mut p = params(cn, sans);
    tweak(&mut p);
    let cert = p.self_signed(&key).unwrap();
    finish(cert, key)
}

fn finish(cert: rcgen::Certificate, key: KeyPair) -> Issued {
    Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert,
        key,
    }
}
