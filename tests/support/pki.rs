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
    self_signed(cn, &[], alg, |p| {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained)
    })
}

/// An intermediate CA signed by `issuer`.
pub fn intermediate(cn: &str, alg: Alg, issuer: &Issued) -> Issued {
    intermediate_with(cn, alg, issuer, |_| {})
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
    leaf_with_key(cn, sans, key(alg), issuer, tweak)
}

/// A self-signed certificate (a leaf, unless `tweak` makes it a CA).
pub fn self_signed(
    cn: &str,
    sans: &[&str],
    alg: Alg,
    tweak: impl FnOnce(&mut CertificateParams),
) -> Issued {
    issue(cn, sans, key(alg), None, tweak)
}

/// A certificate for `cn` and `sans` on `key`, after `tweak`, signed by
/// `issuer` (self-signed without one).
fn issue(
    cn: &str,
    sans: &[&str],
    key: KeyPair,
    issuer: Option<&Issued>,
    tweak: impl FnOnce(&mut CertificateParams),
) -> Issued {
    let mut p = params(cn, sans);
    tweak(&mut p);
    let cert = match issuer {
        Some(i) => p.signed_by(&key, &i.cert, &i.key),
        None => p.self_signed(&key),
    }
    .unwrap();
    Issued {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        cert,
        key,
    }
}

/// A leaf on a given key (e.g. a cached RSA key).
pub fn leaf_with_key(
    cn: &str,
    sans: &[&str],
    key: KeyPair,
    issuer: &Issued,
    tweak: impl FnOnce(&mut CertificateParams),
) -> Issued {
    issue(cn, sans, key, Some(issuer), tweak)
}

/// An intermediate CA with parameter tweaks (pathlen, key usage…).
pub fn intermediate_with(
    cn: &str,
    alg: Alg,
    issuer: &Issued,
    tweak: impl FnOnce(&mut CertificateParams),
) -> Issued {
    leaf_with_key(cn, &[], key(alg), issuer, |p| {
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        tweak(p);
    })
}

/// An RSA key of `bits`, generated once and kept under the target
/// directory (`CARGO_TARGET_TMPDIR`) so an 8192-bit key costs its
/// generation time once, not once per test run.
pub fn rsa_key_cached(bits: u32) -> KeyPair {
    let pem = rsa_pem_cached(bits);
    KeyPair::from_pem_and_sign_algo(&pem, &rcgen::PKCS_RSA_SHA256).unwrap()
}

/// The PEM of [`rsa_key_cached`] (PKCS#8), for keys ring cannot hold
/// (RSA-1024).
pub fn rsa_pem_cached(bits: u32) -> String {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-keys");
    let file = dir.join(format!("rsa-{bits}.pem"));
    if let Ok(pem) = std::fs::read_to_string(&file) {
        if pem.contains("PRIVATE KEY") {
            return pem;
        }
    }
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new("openssl")
        .args(["genpkey", "-algorithm", "RSA", "-pkeyopt"])
        .arg(format!("rsa_keygen_bits:{bits}"))
        .output()
        .expect("openssl genpkey");
    assert!(out.status.success(), "openssl genpkey failed");
    let pem = String::from_utf8(out.stdout).unwrap();
    // Written under a unique name, then renamed: parallel tests never
    // read a half-written key.
    let tmp = dir.join(format!("rsa-{bits}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, &pem).unwrap();
    std::fs::rename(&tmp, &file).unwrap();
    pem
}

/// A leaf made entirely with the openssl command line, for keys rcgen's
/// backend cannot hold (P-521, RSA-1024, secp256k1): `key_pem` is the
/// subject's key, `ext` the extension lines (`subjectAltName=…`), signed
/// by the CA in `ca_crt`/`ca_key`. Returns the certificate and key files.
pub fn openssl_leaf(
    dir: &Path,
    stem: &str,
    key_pem: &str,
    cn: &str,
    ext: &str,
    ca_crt: &Path,
    ca_key: &Path,
) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{stem}.key"));
    let csr = dir.join(format!("{stem}.csr"));
    let crt = dir.join(format!("{stem}.crt"));
    let extfile = dir.join(format!("{stem}.ext"));
    std::fs::write(&key, key_pem).unwrap();
    std::fs::write(&extfile, format!("basicConstraints=CA:FALSE\n{ext}\n")).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            out.status.success(),
            "openssl {:?}: {}",
            args,
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let subj = format!("/CN={cn}");
    run(&[
        "req".as_ref(),
        "-new".as_ref(),
        "-key".as_ref(),
        key.as_os_str(),
        "-subj".as_ref(),
        subj.as_ref(),
        "-out".as_ref(),
        csr.as_os_str(),
    ]);
    run(&[
        "x509".as_ref(),
        "-req".as_ref(),
        "-in".as_ref(),
        csr.as_os_str(),
        "-CA".as_ref(),
        ca_crt.as_os_str(),
        "-CAkey".as_ref(),
        ca_key.as_os_str(),
        "-set_serial".as_ref(),
        "4242".as_ref(),
        "-days".as_ref(),
        "30".as_ref(),
        "-sha256".as_ref(),
        "-extfile".as_ref(),
        extfile.as_os_str(),
        "-out".as_ref(),
        crt.as_os_str(),
    ]);
    (crt, key)
}

/// A fresh key from `openssl genpkey ARGS` (PEM).
pub fn openssl_key(args: &[&str]) -> String {
    let out = Command::new("openssl")
        .arg("genpkey")
        .args(args)
        .output()
        .expect("openssl genpkey");
    assert!(out.status.success(), "openssl genpkey {args:?} failed");
    String::from_utf8(out.stdout).unwrap()
}
