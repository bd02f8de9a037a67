//! The project's local certificate authority, for device client certificates.
//!
//! `.espmqtt/ca/ca.crt` (public) and `.espmqtt/ca/ca.key` (mode 0600, set
//! when the file is created, before the key is written). EC P-256 by default;
//! RSA on request. Device certificates have CN = client id, EKU clientAuth and
//! a key the ESP8266 core can use: `setClientECCert` for P-256 (BearSSL's EC
//! code covers P-256/384/521) or `setClientRSACert` for RSA-2048. Keys are written as PKCS#8 PEM, which BearSSL's key
//! decoder (`br_skey_decoder`) reads as well as the raw formats.
//!
//! ring signs (EC and RSA) but cannot *generate* RSA keys, so RSA keys come
//! from the RustCrypto `rsa` crate. Only key generation uses it; every
//! signature is made by ring, so that crate's timing-side-channel advisory on
//! RSA decryption (RUSTSEC-2023-0071) does not apply here.

use std::path::PathBuf;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SerialNumber,
};
use time::OffsetDateTime;

use crate::error::{Error, Result};
use crate::project::ProjectPaths;

/// File name of the CA certificate inside the CA directory.
pub const CA_CERT_FILE: &str = "ca.crt";
/// File name of the CA private key inside the CA directory.
pub const CA_KEY_FILE: &str = "ca.key";
/// Default validity of a device certificate, in days.
pub const DEFAULT_DEVICE_DAYS: u32 = 3650;
/// Default validity of the CA, in days (longer than any device certificate it signs).
pub const DEFAULT_CA_DAYS: u32 = 7300;

/// Key algorithm of a CA or device key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// ECDSA on P-256 with SHA-256 (the default: small, fast on the ESP8266).
    EcP256,
    /// RSA with the given modulus size (2048, 3072 or 4096), signed with SHA-256.
    Rsa(u32),
}

impl KeyKind {
    /// From the CLI's `--rsa BITS` option (absent = EC P-256).
    pub fn from_rsa_bits(bits: Option<u32>) -> Result<Self> {
        match bits {
            None => Ok(KeyKind::EcP256),
            Some(b @ (2048 | 3072 | 4096)) => Ok(KeyKind::Rsa(b)),
            Some(b) => Err(Error::usage(format!("RSA key size {b} is not supported"))
                .with_help("use --rsa 2048 (what the ESP8266 handles fastest), 3072 or 4096")),
        }
    }

    /// Short label: `ec-p256`, `rsa-2048`.
    pub fn label(self) -> String {
        match self {
            KeyKind::EcP256 => "ec-p256".into(),
            KeyKind::Rsa(b) => format!("rsa-{b}"),
        }
    }

    /// The BearSSL key type the firmware passes as `cert_issuer_key_type`
    /// to `setClientECCert` when this is the *issuer's* key.
    pub fn bearssl_keytype(self) -> &'static str {
        match self {
            KeyKind::EcP256 => "BR_KEYTYPE_EC",
            KeyKind::Rsa(_) => "BR_KEYTYPE_RSA",
        }
    }
}

/// Generate a key pair of the given kind.
pub fn generate_key(kind: KeyKind) -> Result<KeyPair> {
    match kind {
        KeyKind::EcP256 => KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .map_err(|e| Error::runtime(format!("cannot generate an EC P-256 key: {e}"))),
        KeyKind::Rsa(bits) => {
            use rsa::pkcs8::EncodePrivateKey;
            let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, bits as usize)
                .map_err(|e| Error::runtime(format!("cannot generate an RSA-{bits} key: {e}")))?;
            let der = key
                .to_pkcs8_der()
                .map_err(|e| Error::runtime(format!("cannot encode the RSA key: {e}")))?;
            let pkcs8 = rustls::pki_types::PrivatePkcs8KeyDer::from(der.as_bytes().to_vec());
            KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8, &rcgen::PKCS_RSA_SHA256)
                .map_err(|e| Error::runtime(format!("cannot load the RSA key for signing: {e}")))
        }
    }
}

fn key_kind_of(key: &KeyPair) -> KeyKind {
    if key.algorithm() == &rcgen::PKCS_ECDSA_P256_SHA256 {
        KeyKind::EcP256
    } else {
        // Modulus size from the SPKI: the DER length is a good enough proxy
        // (270 bytes for 2048, 398 for 3072, 526 for 4096).
        let n = key.public_key_der().len();
        KeyKind::Rsa(if n > 500 {
            4096
        } else if n > 380 {
            3072
        } else {
            2048
        })
    }
}

/// The last instant an X.509 certificate can express (GeneralizedTime).
fn latest_not_after() -> OffsetDateTime {
    time::macros::datetime!(9999-12-31 23:59:59 UTC)
}

/// `now + days`, checked: `--days 0` and a validity past the year 9999 (the
/// last date a certificate can carry) are usage errors, never an overflow.
pub fn validity_end(now: OffsetDateTime, days: u32) -> Result<OffsetDateTime> {
    if days == 0 {
        return Err(Error::usage("--days must be at least 1"));
    }
    let latest = latest_not_after();
    let max_days = (latest - now).whole_days().max(1);
    now.checked_add(time::Duration::days(days.into()))
        .filter(|end| *end <= latest)
        .ok_or_else(|| {
            Error::usage(format!(
                "--days {days} ends after the year 9999, the last date a certificate can carry"
            ))
            .with_help(format!("use at most --days {max_days}"))
        })
}

/// A certificate and key issued to a device.
#[derive(Clone)]
pub struct IssuedCertificate {
    pub cert_pem: String,
    pub key_pem: String,
    /// Serial number, lower-case hex.
    pub serial: String,
    pub key_kind: KeyKind,
    /// RFC 3339.
    pub not_before: String,
    /// RFC 3339.
    pub not_after: String,
    /// Things the user should know about this certificate (e.g. it outlives
    /// the CA that signed it).
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for IssuedCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedCertificate")
            .field("serial", &self.serial)
            .field("key_kind", &self.key_kind)
            .field("not_after", &self.not_after)
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// What `ca init` / `ca show` report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaSummary {
    pub subject_cn: String,
    pub key_type: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub not_after: String,
    pub sha256: String,
    /// The value the firmware passes as `cert_issuer_key_type` to `setClientECCert`.
    pub bearssl_issuer_key_type: &'static str,
}

/// The loaded local CA: its certificate as on disk and a signer.
pub struct LocalCa {
    pub cert_pem: String,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub key_kind: KeyKind,
    signer_cert: rcgen::Certificate,
    key: KeyPair,
    not_after: OffsetDateTime,
    summary: CaSummary,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("cert_file", &self.cert_file)
            .field("key_file", &self.key_file)
            .field("key_kind", &self.key_kind)
            .field("summary", &self.summary)
            .field("key", &"<redacted>")
            .finish()
    }
}

fn rfc3339(t: OffsetDateTime) -> String {
    // Certificates carry whole seconds; so does what we report about them.
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn random_serial() -> Result<SerialNumber> {
    let mut b = [0u8; 16];
    getrandom::getrandom(&mut b).map_err(|e| {
        Error::runtime(format!(
            "the operating system's random generator failed: {e}"
        ))
    })?;
    // A positive INTEGER with no leading zero byte, as RFC 5280 §4.1.2.2 asks.
    b[0] = (b[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&b))
}

fn ca_params(cn: &str, not_before: OffsetDateTime, not_after: OffsetDateTime) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = not_before;
    p.not_after = not_after;
    p
}

/// Create the local CA in `.espmqtt/ca/`. Refuses to replace an existing one:
/// every device certificate it signed would stop being accepted.
pub fn init(paths: &ProjectPaths, kind: KeyKind, days: u32, cn: &str) -> Result<CaSummary> {
    let now = OffsetDateTime::now_utc();
    let not_after = validity_end(now, days)?;
    if cn.trim().is_empty() {
        return Err(Error::usage("--cn must not be empty").with_help("e.g. --cn 'Garden fleet CA'"));
    }
    let dir = paths.ca_dir();
    let cert_file = dir.join(CA_CERT_FILE);
    let key_file = dir.join(CA_KEY_FILE);
    if cert_file.exists() || key_file.exists() {
        return Err(
            Error::usage(format!("a CA already exists in {}", dir.display())).with_help(
                "keep it (device certificates it signed stay valid), or move the directory away \
             and run `espmqtt ca init` again, then re-issue every device certificate",
            ),
        );
    }
    // Everything that can fail for a reason other than the disk happens
    // before the first directory is created.
    let key = generate_key(kind)?;
    let mut params = ca_params(cn, now - time::Duration::hours(1), not_after);
    params.serial_number = Some(random_serial()?);
    let cert = params
        .self_signed(&key)
        .map_err(|e| Error::runtime(format!("cannot sign the CA certificate: {e}")))?;
    let created = crate::files::create_dirs(&dir, 0o700)?;
    // Key first, created 0600 and exclusively, so no other process ever sees
    // a readable key or a certificate without its key.
    crate::files::write_new_private(&key_file, key.serialize_pem().as_bytes())?;
    if let Err(e) = crate::files::write_public(&cert_file, cert.pem().as_bytes()) {
        let _ = std::fs::remove_file(&key_file);
        return Err(e);
    }
    match load(paths) {
        Ok(ca) => {
            created.keep();
            Ok(ca.summary)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&key_file);
            let _ = std::fs::remove_file(&cert_file);
            Err(e)
        }
    }
}

/// Load the local CA; a usage error that says to run `espmqtt ca init` if missing.
pub fn load(paths: &ProjectPaths) -> Result<LocalCa> {
    let dir = paths.ca_dir();
    let cert_file = dir.join(CA_CERT_FILE);
    let key_file = dir.join(CA_KEY_FILE);
    if !cert_file.exists() {
        return Err(Error::usage(format!("no local CA in {}", dir.display()))
            .with_help("run `espmqtt ca init` first (add --rsa 2048 for an RSA CA)"));
    }
    let limit = crate::files::MAX_TEXT_INPUT;
    let cert_pem = crate::files::read_input_text(&cert_file, limit, "CA certificate")?;
    let key_pem = crate::files::read_input_text(&key_file, limit, "CA key")?;
    let bad_cert = |why: String| {
        Error::usage(format!("{}: {why}", cert_file.display()))
            .with_help("restore the file written by `espmqtt ca init`")
    };
    let ders = crate::tls::cert::load_certificates(cert_pem.as_bytes())
        .map_err(|e| bad_cert(e.message))?;
    let der = ders
        .first()
        .ok_or_else(|| bad_cert("no certificate in the file".into()))?;
    let (_, parsed) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| bad_cert(format!("not a valid certificate ({e})")))?;
    let cn = parsed
        .subject()
        .iter_common_name()
        .next()
        .and_then(|a| a.as_str().ok())
        .ok_or_else(|| bad_cert("the CA certificate has no common name".into()))?
        .to_string();
    let not_before = OffsetDateTime::from_unix_timestamp(parsed.validity().not_before.timestamp())
        .map_err(|e| bad_cert(e.to_string()))?;
    let not_after = OffsetDateTime::from_unix_timestamp(parsed.validity().not_after.timestamp())
        .map_err(|e| bad_cert(e.to_string()))?;
    let key = KeyPair::from_pem(&key_pem).map_err(|e| {
        Error::usage(format!(
            "{}: not a usable private key ({e})",
            key_file.display()
        ))
        .with_help("restore the file written by `espmqtt ca init`")
    })?;
    if key.public_key_der() != parsed.public_key().raw {
        return Err(Error::usage(format!(
            "{} does not belong to {}",
            key_file.display(),
            cert_file.display()
        ))
        .with_help("restore the matching pair written by `espmqtt ca init`"));
    }
    // rcgen needs the issuer as a `Certificate`; re-signing the same name and
    // key gives one whose subject and key identifier equal the file's, which
    // is all that children reference (issuer DN, authority key identifier).
    let signer_cert = ca_params(&cn, not_before, not_after)
        .self_signed(&key)
        .map_err(|e| Error::runtime(format!("cannot load the CA for signing: {e}")))?;
    let key_kind = key_kind_of(&key);
    let summary = CaSummary {
        subject_cn: cn,
        key_type: key_kind.label(),
        cert_file: cert_file.clone(),
        key_file: key_file.clone(),
        not_after: rfc3339(not_after),
        sha256: crate::tls::cert::colon_hex(&crate::tls::cert::sha256(der)),
        bearssl_issuer_key_type: key_kind.bearssl_keytype(),
    };
    Ok(LocalCa {
        cert_pem,
        cert_file,
        key_file,
        key_kind,
        signer_cert,
        key,
        not_after,
        summary,
    })
}

impl LocalCa {
    /// What `ca show` prints.
    pub fn summary(&self) -> &CaSummary {
        &self.summary
    }

    /// The warning for a device certificate valid `days` from now that would
    /// outlive this CA (`None` when it does not).
    pub fn outlives_warning(&self, days: u32) -> Option<String> {
        let end = validity_end(OffsetDateTime::now_utc(), days).ok()?;
        (end > self.not_after).then(|| {
            format!(
                "--days {days} makes the device certificate valid until {}, but the local CA \
                 that signs it expires on {}: from then on brokers reject the device. Pass \
                 --days {} at most, or plan to re-issue device certificates under a new CA \
                 before that date",
                rfc3339(end).get(..10).unwrap_or_default(),
                rfc3339(self.not_after).get(..10).unwrap_or_default(),
                (self.not_after - OffsetDateTime::now_utc())
                    .whole_days()
                    .max(1)
            )
        })
    }

    /// When the CA certificate expires.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Issue a client certificate: CN = `client_id`, EKU clientAuth, valid
    /// from an hour ago (device clocks set by NTP may lag) for `days` days.
    pub fn issue_device(
        &self,
        client_id: &str,
        kind: KeyKind,
        days: u32,
    ) -> Result<IssuedCertificate> {
        let now = OffsetDateTime::now_utc();
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let not_after = validity_end(now, days)?;
        let warnings = self.outlives_warning(days).into_iter().collect();
        let key = generate_key(kind)?;
        let not_before = now - time::Duration::hours(1);
        let mut p = CertificateParams::default();
        p.distinguished_name = rcgen::DistinguishedName::new();
        p.distinguished_name.push(DnType::CommonName, client_id);
        p.is_ca = IsCa::ExplicitNoCa;
        p.key_usages = match kind {
            KeyKind::EcP256 => vec![KeyUsagePurpose::DigitalSignature],
            // RSA client auth signs CertificateVerify; keyEncipherment kept
            // for peers that still expect it on RSA certificates.
            KeyKind::Rsa(_) => vec![
                KeyUsagePurpose::DigitalSignature,
                KeyUsagePurpose::KeyEncipherment,
            ],
        };
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.use_authority_key_identifier_extension = true;
        p.not_before = not_before;
        p.not_after = not_after;
        let serial = random_serial()?;
        let serial_hex = hex::encode(serial.to_bytes());
        p.serial_number = Some(serial);
        let cert = p
            .signed_by(&key, &self.signer_cert, &self.key)
            .map_err(|e| {
                Error::runtime(format!("cannot sign the certificate for {client_id}: {e}"))
            })?;
        Ok(IssuedCertificate {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            serial: serial_hex,
            key_kind: kind,
            not_before: rfc3339(not_before),
            not_after: rfc3339(not_after),
            warnings,
        })
    }
}
