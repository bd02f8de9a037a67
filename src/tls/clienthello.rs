//! What the device offers, as constants (the core's suite lists, BearSSL's
//! signature algorithms and groups, the buffer choice), and a wider
//! "diagnostic" ClientHello used only to explain *why* a server refused the
//! device. The device's own ClientHello is written by BearSSL itself
//! ([`super::engine`]); nothing here imitates it.

use serde::{Deserialize, Serialize};

/// The core's default `suites_P`, in ClientHello order (docs/PROBE.md).
pub const DEVICE_SUITES: [u16; 45] = [
    0xCCA9, 0xCCA8, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xC0AC, 0xC0AD, 0xC0AE, 0xC0AF, 0xC023, 0xC027,
    0xC024, 0xC028, 0xC009, 0xC013, 0xC00A, 0xC014, 0xC02D, 0xC031, 0xC02E, 0xC032, 0xC025, 0xC029,
    0xC026, 0xC02A, 0xC004, 0xC00E, 0xC005, 0xC00F, 0x009C, 0x009D, 0xC09C, 0xC09D, 0xC0A0, 0xC0A1,
    0x003C, 0x003D, 0x002F, 0x0035, 0xC008, 0xC012, 0xC003, 0xC00D, 0x000A,
];

/// The four suites of a `-DBEARSSL_SSL_BASIC` build, in the same order.
pub const BASIC_SUITES: [u16; 4] = [0x003C, 0x003D, 0x002F, 0x0035];

/// signature_algorithms as BearSSL writes them: ECDSA then RSA, each in hash
/// order SHA-256, SHA-224, SHA-384, SHA-512, SHA-1. No PSS, no EdDSA.
pub const DEVICE_SIGALGS: [u16; 10] = [
    0x0403, 0x0303, 0x0503, 0x0603, 0x0203, 0x0401, 0x0301, 0x0501, 0x0601, 0x0201,
];

/// supported_groups: x25519 first, then ascending IDs.
pub const DEVICE_GROUPS: [u16; 4] = [29, 23, 24, 25];

/// The core's two cipher build options (Arduino menu "SSL Support").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum CipherBuild {
    /// All 45 suites (the default menu entry).
    #[default]
    All,
    /// `-DBEARSSL_SSL_BASIC`: four RSA key-exchange CBC suites, no EC at all.
    Basic,
}

impl CipherBuild {
    pub fn suites(self) -> &'static [u16] {
        match self {
            CipherBuild::All => &DEVICE_SUITES,
            CipherBuild::Basic => &BASIC_SUITES,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CipherBuild::All => "all",
            CipherBuild::Basic => "basic",
        }
    }
}

/// Receive/transmit buffer choice on the device, and so the
/// max_fragment_length it requests: `setBufferSizes(n, n)` asks for `n`;
/// `off` is `setBufferSizes(16384, 16384)`, which sends no extension.
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
            "off" | "none" => Some(Mfln::Off),
            _ => None,
        }
    }
    /// The fragment length BearSSL requests, `None` without the extension.
    pub fn from_request(bytes: Option<usize>) -> Mfln {
        match bytes {
            Some(512) => Mfln::B512,
            Some(1024) => Mfln::B1024,
            Some(2048) => Mfln::B2048,
            Some(4096) => Mfln::B4096,
            _ => Mfln::Off,
        }
    }
    /// `setBufferSizes(recv, xmit)` for this choice.
    pub fn buffers(self) -> (u16, u16) {
        match self {
            Mfln::Off => (16384, 16384),
            m => (m.bytes() as u16, m.bytes() as u16),
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

/// A hello that offers much more than the device, at `client_version`
/// (0x0303 normally; lower to find a server's highest old version): DHE and
/// every common suite, PSS and EdDSA signatures, more groups. The server's
/// answer to it names what the server actually wanted ("it picked
/// DHE-RSA-AES128-GCM-SHA256", "its certificate is Ed25519") when it
/// refused the device's hello. Never used to judge compatibility.
pub fn diagnostic_record(server_name: Option<&str>, client_version: u16) -> Vec<u8> {
    let mut suites: Vec<u16> = DEVICE_SUITES.to_vec();
    suites.extend_from_slice(&[
        0x009E, 0x009F, 0xCCAA, 0x0067, 0x006B, 0x0033, 0x0039, 0xC0A2, 0xC0A3, 0xC09E, 0xC09F,
        0x0016,
    ]);
    let mut ext = Vec::new();
    push_ext(&mut ext, 0xff01, &[0]);
    if let Some(name) = server_name.filter(|n| !n.is_empty() && n.len() <= 255) {
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
        // The device's groups, then x448, secp256k1, the brainpool curves
        // and FFDHE: a server whose certificate is on a curve the device
        // lacks then still answers and shows it.
        &u16_list(&[29, 23, 24, 25, 30, 22, 26, 27, 28, 0x0100, 0x0101, 0x0102]),
    );
    push_ext(&mut ext, 0x000b, &[1, 0]);
    let mut random = super::net::random_bytes::<32>();
    random[..4].fill(0);
    client_hello_record(client_version, &random, &suites, &ext)
}

fn client_hello_record(
    client_version: u16,
    random: &[u8; 32],
    suites: &[u16],
    extensions: &[u8],
) -> Vec<u8> {
    let mut body = Vec::with_capacity(256);
    body.extend_from_slice(&client_version.to_be_bytes());
    body.extend_from_slice(random);
    body.push(0); // no session id
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
    rec.extend_from_slice(&[0x03, 0x01]);
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
    let name = name.as_bytes();
    let mut v = Vec::with_capacity(name.len() + 5);
    v.extend_from_slice(&((name.len() + 3) as u16).to_be_bytes());
    v.push(0); // host_name
    v.extend_from_slice(&(name.len() as u16).to_be_bytes());
    v.extend_from_slice(name);
    v
}

/// The extensions of a ClientHello record `(type, body)`, in order.
pub fn client_hello_extensions(record: &[u8]) -> Option<Vec<(u16, Vec<u8>)>> {
    super::records::parse_client_hello_extensions(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostic_hello_is_well_formed() {
        let rec = diagnostic_record(Some("broker.example"), 0x0303);
        let ext = client_hello_extensions(&rec).unwrap();
        let types: Vec<u16> = ext.iter().map(|(t, _)| *t).collect();
        assert_eq!(types, vec![0xff01, 0x0000, 0x000d, 0x000a, 0x000b]);
        assert_eq!(&rec[9..11], &[3, 3]);
        let old = diagnostic_record(None, 0x0301);
        assert_eq!(&old[9..11], &[3, 1]);
    }

    #[test]
    fn buffers_per_choice() {
        assert_eq!(Mfln::B512.buffers(), (512, 512));
        assert_eq!(Mfln::Off.buffers(), (16384, 16384));
        assert_eq!(Mfln::from_request(Some(2048)), Mfln::B2048);
        assert_eq!(Mfln::from_request(None), Mfln::Off);
    }
}
