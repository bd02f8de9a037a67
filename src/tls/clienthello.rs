//! The ClientHello an ESP8266 running esp8266/Arduino core 3.1.x sends,
//! byte for byte (esp8266-tls.md §3.7), plus a wider "diagnostic" hello used
//! only to explain *why* a server refused the device's one.
//!
//! Sending the device's exact hello matters because servers choose suite,
//! curve, signature algorithm and MFLN from it: any other client (OpenSSL,
//! rustls) would be answered differently and hide the very incompatibility
//! the user is chasing.

use serde::{Deserialize, Serialize};

/// The core's default `suites_P`, in ClientHello order (esp8266-tls.md §3.2).
pub const DEVICE_SUITES: [u16; 45] = [
    0xCCA9, 0xCCA8, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xC0AC, 0xC0AD, 0xC0AE, 0xC0AF, 0xC023, 0xC027,
    0xC024, 0xC028, 0xC009, 0xC013, 0xC00A, 0xC014, 0xC02D, 0xC031, 0xC02E, 0xC032, 0xC025, 0xC029,
    0xC026, 0xC02A, 0xC004, 0xC00E, 0xC005, 0xC00F, 0x009C, 0x009D, 0xC09C, 0xC09D, 0xC0A0, 0xC0A1,
    0x003C, 0x003D, 0x002F, 0x0035, 0xC008, 0xC012, 0xC003, 0xC00D, 0x000A,
];

/// The four suites of a `-DBEARSSL_SSL_BASIC` build (rows marked (B) in §3.2).
pub const BASIC_SUITES: [u16; 4] = [0x003C, 0x003D, 0x002F, 0x0035];

/// signature_algorithms as BearSSL writes them: ECDSA then RSA, each in hash
/// order SHA-256, SHA-224, SHA-384, SHA-512, SHA-1 (§3.4). No PSS, no EdDSA.
pub const DEVICE_SIGALGS: [u16; 10] = [
    0x0403, 0x0303, 0x0503, 0x0603, 0x0203, 0x0401, 0x0301, 0x0501, 0x0601, 0x0201,
];
/// The RSA half only (BASIC builds have no ECDSA, §3.4).
pub const BASIC_SIGALGS: [u16; 5] = [0x0401, 0x0301, 0x0501, 0x0601, 0x0201];

/// supported_groups: x25519 first, then ascending IDs (§3.4).
pub const DEVICE_GROUPS: [u16; 4] = [29, 23, 24, 25];

/// The core's two cipher build options (Arduino menu "SSL Support").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CipherBuild {
    /// All 45 suites (the default menu entry).
    #[default]
    All,
    /// `-DBEARSSL_SSL_BASIC`: four RSA key-exchange CBC suites.
    Basic,
}

impl CipherBuild {
    pub fn suites(self) -> &'static [u16] {
        match self {
            CipherBuild::All => &DEVICE_SUITES,
            CipherBuild::Basic => &BASIC_SUITES,
        }
    }
}

/// Receive/transmit buffer choice on the device and so the MFL it requests
/// (§4.1): `setBufferSizes(n, n)` asks for `n`; `off` keeps 16 KB buffers and
/// sends no max_fragment_length extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mfln {
    #[serde(rename = "512")]
    B512,
    #[serde(rename = "1024")]
    B1024,
    #[serde(rename = "2048")]
    B2048,
    #[serde(rename = "4096")]
    B4096,
    Off,
}

impl Mfln {
    /// Parse `512|1024|2048|4096|off`.
    pub fn parse(s: &str) -> Option<Mfln> {
        match s.trim().to_ascii_lowercase().as_str() {
            "512" => Some(Mfln::B512),
            "1024" => Some(Mfln::B1024),
            "2048" => Some(Mfln::B2048),
            "4096" => Some(Mfln::B4096),
            "off" | "none" | "16384" => Some(Mfln::Off),
            _ => None,
        }
    }
    /// The extension's one-byte code (RFC 6066: 1 = 2^9 … 4 = 2^12).
    pub fn code(self) -> Option<u8> {
        match self {
            Mfln::B512 => Some(1),
            Mfln::B1024 => Some(2),
            Mfln::B2048 => Some(3),
            Mfln::B4096 => Some(4),
            Mfln::Off => None,
        }
    }
    /// Maximum plaintext fragment length in bytes.
    pub fn bytes(self) -> usize {
        match self.code() {
            Some(c) => 1usize << (8 + c),
            None => 16384,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Mfln::B512 => "512",
            Mfln::B1024 => "1024",
            Mfln::B2048 => "2048",
            Mfln::B4096 => "4096",
            Mfln::Off => "off",
        }
    }
}

/// Fragment length for an RFC 6066 code, if the code is valid.
pub fn mfln_code_bytes(code: u8) -> Option<usize> {
    (1..=4).contains(&code).then(|| 1usize << (8 + code))
}

/// What varies between devices: the build option, the name passed to
/// `connect()` (SNI; none when connecting by IP) and the buffer choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceHello {
    pub ciphers: CipherBuild,
    pub server_name: Option<String>,
    pub mfln: Mfln,
}

impl DeviceHello {
    /// The complete record (header included) with the given random. BearSSL
    /// puts 4 zero bytes (no time) before 28 random bytes (§3.7); the caller
    /// supplies all 32 so tests can be deterministic.
    pub fn record(&self, random28: [u8; 28]) -> Vec<u8> {
        let mut random = [0u8; 32];
        random[4..].copy_from_slice(&random28);
        let basic = self.ciphers == CipherBuild::Basic;
        let mut ext = Vec::new();
        // Order of write-ClientHello (§3.7): renegotiation_info, SNI, MFL,
        // signature_algorithms, supported_groups, ec_point_formats.
        push_ext(&mut ext, 0xff01, &[0]);
        if let Some(name) = self.server_name.as_deref().filter(|n| !n.is_empty()) {
            push_ext(&mut ext, 0x0000, &sni_body(name));
        }
        if let Some(code) = self.mfln.code() {
            push_ext(&mut ext, 0x0001, &[code]);
        }
        let sigalgs: &[u16] = if basic {
            &BASIC_SIGALGS
        } else {
            &DEVICE_SIGALGS
        };
        push_ext(&mut ext, 0x000d, &u16_list(sigalgs));
        if !basic {
            push_ext(&mut ext, 0x000a, &u16_list(&DEVICE_GROUPS));
            push_ext(&mut ext, 0x000b, &[1, 0]);
        }
        // Record-layer version = version_min, TLS 1.0 (§3.7).
        client_hello_record(0x0301, 0x0303, &random, self.ciphers.suites(), &ext)
    }
}

/// A hello that offers much more than the device (TLS 1.2 only): DHE and
/// every common suite, PSS and EdDSA signatures, more groups. The server's
/// answer to it names what the server actually wanted ("it picked
/// DHE-RSA-AES128-GCM-SHA256", "its certificate is Ed25519") when it refused
/// the device's hello. Never used to judge compatibility.
pub fn diagnostic_record(server_name: Option<&str>, random: [u8; 32]) -> Vec<u8> {
    let mut suites: Vec<u16> = DEVICE_SUITES.to_vec();
    suites.extend_from_slice(&[
        0x009E, 0x009F, 0xCCAA, 0x0067, 0x006B, 0x0033, 0x0039, 0xC0A2, 0xC0A3, 0xC09E, 0xC09F,
        0x0016,
    ]);
    let mut ext = Vec::new();
    push_ext(&mut ext, 0xff01, &[0]);
    if let Some(name) = server_name.filter(|n| !n.is_empty()) {
        push_ext(&mut ext, 0x0000, &sni_body(name));
    }
    let mut sigalgs = DEVICE_SIGALGS.to_vec();
    sigalgs.extend_from_slice(&[
        0x0804, 0x0805, 0x0806, 0x0807, 0x0808, 0x0809, 0x080a, 0x080b,
    ]);
    push_ext(&mut ext, 0x000d, &u16_list(&sigalgs));
    push_ext(
        &mut ext,
        0x000a,
        &u16_list(&[29, 23, 24, 25, 30, 0x0100, 0x0101, 0x0102]),
    );
    push_ext(&mut ext, 0x000b, &[1, 0]);
    client_hello_record(0x0301, 0x0303, &random, &suites, &ext)
}

fn client_hello_record(
    record_version: u16,
    client_version: u16,
    random: &[u8; 32],
    suites: &[u16],
    extensions: &[u8],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&client_version.to_be_bytes());
    body.extend_from_slice(random);
    body.push(0); // empty session_id: a fresh connection never resumes
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]); // compression: null only
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(extensions);

    let mut hs = Vec::with_capacity(body.len() + 4);
    hs.push(1);
    let n = body.len() as u32;
    hs.extend_from_slice(&n.to_be_bytes()[1..]);
    hs.extend_from_slice(&body);

    let mut rec = Vec::with_capacity(hs.len() + 5);
    rec.push(0x16);
    rec.extend_from_slice(&record_version.to_be_bytes());
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

fn push_ext(out: &mut Vec<u8>, ty: u16, body: &[u8]) {
    out.extend_from_slice(&ty.to_be_bytes());
    out.extend_from_slice(&(body.len() as u16).to_be_bytes());
    out.extend_from_slice(body);
}

fn u16_list(items: &[u16]) -> Vec<u8> {
    let mut v = Vec::with_capacity(2 + items.len() * 2);
    v.extend_from_slice(&((items.len() * 2) as u16).to_be_bytes());
    for i in items {
        v.extend_from_slice(&i.to_be_bytes());
    }
    v
}

fn sni_body(name: &str) -> Vec<u8> {
    // BearSSL keeps at most 255 characters (§2.2); longer names fail on the
    // device before anything is sent, which the caller reports separately.
    let name = &name.as_bytes()[..name.len().min(255)];
    let mut v = Vec::with_capacity(name.len() + 5);
    v.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    v.push(0); // host_name
    v.extend_from_slice(&(name.len() as u16).to_be_bytes());
    v.extend_from_slice(name);
    v
}

/// IANA name of a cipher suite (those the device or the diagnostic hello
/// offer, plus TLS 1.3's), or the hex value.
pub fn suite_name(id: u16) -> String {
    let n = match id {
        0xCCA9 => "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        0xCCA8 => "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0xC02B => "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
        0xC02F => "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        0xC02C => "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC030 => "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        0xC0AC => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM",
        0xC0AD => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM",
        0xC0AE => "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8",
        0xC0AF => "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8",
        0xC023 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
        0xC027 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
        0xC024 => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384",
        0xC028 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
        0xC009 => "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA",
        0xC013 => "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
        0xC00A => "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA",
        0xC014 => "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        0xC02D => "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
        0xC031 => "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
        0xC02E => "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384",
        0xC032 => "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384",
        0xC025 => "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
        0xC029 => "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
        0xC026 => "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384",
        0xC02A => "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384",
        0xC004 => "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA",
        0xC00E => "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA",
        0xC005 => "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA",
        0xC00F => "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA",
        0x009C => "TLS_RSA_WITH_AES_128_GCM_SHA256",
        0x009D => "TLS_RSA_WITH_AES_256_GCM_SHA384",
        0xC09C => "TLS_RSA_WITH_AES_128_CCM",
        0xC09D => "TLS_RSA_WITH_AES_256_CCM",
        0xC0A0 => "TLS_RSA_WITH_AES_128_CCM_8",
        0xC0A1 => "TLS_RSA_WITH_AES_256_CCM_8",
        0x003C => "TLS_RSA_WITH_AES_128_CBC_SHA256",
        0x003D => "TLS_RSA_WITH_AES_256_CBC_SHA256",
        0x002F => "TLS_RSA_WITH_AES_128_CBC_SHA",
        0x0035 => "TLS_RSA_WITH_AES_256_CBC_SHA",
        0xC008 => "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA",
        0xC012 => "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA",
        0xC003 => "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA",
        0xC00D => "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA",
        0x000A => "TLS_RSA_WITH_3DES_EDE_CBC_SHA",
        0x009E => "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
        0x009F => "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384",
        0xCCAA => "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
        0x0067 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
        0x006B => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256",
        0x0033 => "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
        0x0039 => "TLS_DHE_RSA_WITH_AES_256_CBC_SHA",
        0xC0A2 => "TLS_DHE_RSA_WITH_AES_128_CCM_8",
        0xC0A3 => "TLS_DHE_RSA_WITH_AES_256_CCM_8",
        0xC09E => "TLS_DHE_RSA_WITH_AES_128_CCM",
        0xC09F => "TLS_DHE_RSA_WITH_AES_256_CCM",
        0x0016 => "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA",
        0x1301 => "TLS_AES_128_GCM_SHA256",
        0x1302 => "TLS_AES_256_GCM_SHA384",
        0x1303 => "TLS_CHACHA20_POLY1305_SHA256",
        _ => return format!("0x{id:04X}"),
    };
    n.to_string()
}

/// Name of a named group.
pub fn group_name(id: u16) -> String {
    match id {
        23 => "secp256r1".into(),
        24 => "secp384r1".into(),
        25 => "secp521r1".into(),
        29 => "x25519".into(),
        30 => "x448".into(),
        0x0100..=0x0104 => format!(
            "ffdhe{}",
            [2048, 3072, 4096, 6144, 8192][(id - 0x0100) as usize]
        ),
        _ => format!("0x{id:04X}"),
    }
}

/// Name of a TLS 1.2 SignatureAndHashAlgorithm / TLS 1.3 SignatureScheme.
pub fn sigalg_name(id: u16) -> String {
    let n = match id {
        0x0401 => "rsa_pkcs1_sha256",
        0x0501 => "rsa_pkcs1_sha384",
        0x0601 => "rsa_pkcs1_sha512",
        0x0301 => "rsa_pkcs1_sha224",
        0x0201 => "rsa_pkcs1_sha1",
        0x0403 => "ecdsa_secp256r1_sha256",
        0x0503 => "ecdsa_secp384r1_sha384",
        0x0603 => "ecdsa_secp521r1_sha512",
        0x0303 => "ecdsa_sha224",
        0x0203 => "ecdsa_sha1",
        0x0804 => "rsa_pss_rsae_sha256",
        0x0805 => "rsa_pss_rsae_sha384",
        0x0806 => "rsa_pss_rsae_sha512",
        0x0807 => "ed25519",
        0x0808 => "ed448",
        0x0809 => "rsa_pss_pss_sha256",
        0x080a => "rsa_pss_pss_sha384",
        0x080b => "rsa_pss_pss_sha512",
        _ => return format!("0x{id:04X}"),
    };
    n.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_list_is_the_90_bytes_seen_on_the_wire() {
        // esp8266/Arduino#5996: starts cc a9 cc a8 c0 2b c0 2f, ends 00 0a.
        let rec = DeviceHello {
            ciphers: CipherBuild::All,
            server_name: None,
            mfln: Mfln::B512,
        }
        .record([7; 28]);
        let suites_at = 5 + 4 + 2 + 32 + 1;
        assert_eq!(&rec[suites_at..suites_at + 2], &[0, 90]);
        assert_eq!(
            &rec[suites_at + 2..suites_at + 10],
            &[0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x2b, 0xc0, 0x2f]
        );
        assert_eq!(&rec[suites_at + 90..suites_at + 92], &[0x00, 0x0a]);
        assert_eq!(&rec[..3], &[0x16, 0x03, 0x01]);
        assert_eq!(&rec[11..15], &[0, 0, 0, 0]);
    }

    #[test]
    fn extensions_in_bearssl_order() {
        let rec = DeviceHello {
            ciphers: CipherBuild::All,
            server_name: Some("broker.example".into()),
            mfln: Mfln::B1024,
        }
        .record([1; 28]);
        let parsed = crate::tls::records::parse_client_hello_extensions(&rec).unwrap();
        let types: Vec<u16> = parsed.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, vec![0xff01, 0x0000, 0x0001, 0x000d, 0x000a, 0x000b]);
        assert_eq!(parsed[2].1, vec![2]);
    }

    #[test]
    fn basic_build_sends_four_suites_and_no_ec_extensions() {
        let rec = DeviceHello {
            ciphers: CipherBuild::Basic,
            server_name: None,
            mfln: Mfln::Off,
        }
        .record([1; 28]);
        let parsed = crate::tls::records::parse_client_hello_extensions(&rec).unwrap();
        let types: Vec<u16> = parsed.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, vec![0xff01, 0x000d]);
    }
}
