//! The bodies of the fuzz targets under `fuzz/` (cargo-fuzz), one function
//! per parser of untrusted bytes. `cargo test` replays the committed corpora
//! (`fuzz/corpus/<target>/`) through the same functions on stable, so a crash
//! the fuzzer once found stays a regression test. See docs/TESTING.md,
//! "Fuzzing".
//!
//! Each function takes arbitrary bytes and panics only when a property does
//! not hold (no parser may panic on any input; round trips are exact).

use crate::device::blob::ConfigBlob;
use crate::flash::slip::{self, SlipDecoder, SlipEvent};
use crate::monitor::{self, LineDecoder};
use crate::project::ProjectConfig;
use crate::serial::{rfc2217, telnet};
use crate::tls::{cert, explain, records};

/// A fixed "now" (2026-01-01) so a corpus replays the same way every year.
const NOW: i64 = 1_767_225_600;

/// A target's body.
pub type Target = fn(&[u8]);

/// Every target: its corpus directory name under `fuzz/corpus/` and body.
pub const TARGETS: &[(&str, Target)] = &[
    ("tls_flight", tls_flight),
    ("tls_handshake", tls_handshake),
    ("cert_pem", cert_pem),
    ("cert_der", cert_der),
    ("blob", blob),
    ("slip", slip),
    ("monitor_lines", monitor_lines),
    ("project_toml", project_toml),
    ("rfc2217", rfc2217),
];

/// A server's byte stream: records, the first flight's handshake messages,
/// the certificates in it. Fed whole and in two pieces, with the same result.
pub fn tls_flight(data: &[u8]) {
    let (flight, err) = records::FlightParser::parse_all(data);
    if let Some(e) = &err {
        let _ = e.to_string();
    }
    // Split where the first byte says: the incremental parser must agree.
    if let Some(&cut) = data.first() {
        let cut = usize::from(cut).min(data.len());
        let mut p = records::FlightParser::new();
        let split_err = p.feed(&data[..cut]).and_then(|()| p.feed(&data[cut..]));
        assert_eq!(format!("{:?}", p.flight), format!("{flight:?}"));
        assert_eq!(split_err.err(), err);
    }
    let _ = (flight.version(), flight.suite());
    for (i, der) in flight.certificates.iter().enumerate().take(4) {
        let _ = cert::summarize(i, der, NOW);
    }
    let mut buf = data;
    while let Ok(Some((rec, used))) = records::take_record(buf) {
        assert!(used > 0 && used <= buf.len());
        assert_eq!(rec.body.len() + 5, used);
        buf = &buf[used..];
    }
    if let Some(r) = records::classify_bytes(data) {
        let _ = r.describe();
    }
    let _ = records::printable_prefix(data);
    let _ = records::parse_client_hello_extensions(data);
}

/// One handshake message body; the first byte picks the parser's flags.
pub fn tls_handshake(data: &[u8]) {
    let Some((&flags, body)) = data.split_first() else {
        return;
    };
    let dhe = flags & 1 != 0;
    let tls12 = flags & 2 != 0;
    if let Ok(sh) = records::ServerHello::parse(body) {
        let _ = sh.is_tls13();
        let _ = records::is_dhe_suite(sh.cipher_suite);
    }
    if let Ok(chain) = records::parse_certificate(body) {
        assert!(chain.iter().map(Vec::len).sum::<usize>() <= body.len());
    }
    let _ = records::ServerKeyExchange::parse(body, dhe, tls12);
    let _ = records::CertificateRequest::parse(body, tls12);
    let _ = records::parse_alert(body);
    let mut hs = records::HandshakeAssembler::default();
    let cut = usize::from(flags).min(body.len());
    hs.push(&body[..cut]);
    hs.push(&body[cut..]);
    while let Some((_, msg)) = hs.next_message() {
        assert!(msg.len() <= body.len());
    }
}

fn summarize_all(ders: &[Vec<u8>]) {
    let chain: Vec<_> = ders
        .iter()
        .take(4)
        .enumerate()
        .map(|(i, der)| cert::summarize(i, der, NOW))
        .collect();
    for (s, der) in chain.iter().zip(ders) {
        let _ = s.key.describe();
        let _ = cert::fingerprint_renewal_message(s);
        let _ = cert::leaf_matches_name(s, "broker.example.com");
        let _ = cert::spki_pin_sha256(der);
        let _ = cert::public_key_pem(der);
        let _ = cert::tasmota_fingerprint(der);
        let _ = explain::key_info(der);
    }
    let ctx = cert::ChainContext {
        warn_days: 30,
        server_name: Some("broker.example.com".into()),
    };
    let _ = cert::chain_warnings(&chain, &ctx, NOW);
}

/// A certificate file as `--ca-file` reads it (PEM bundle or DER).
pub fn cert_pem(data: &[u8]) {
    if let Ok(ders) = cert::load_certificates(data) {
        assert!(!ders.is_empty());
        summarize_all(&ders);
    }
}

/// One DER certificate (what a server's Certificate message carries).
pub fn cert_der(data: &[u8]) {
    summarize_all(&[data.to_vec()]);
    let _ = cert::load_certificates(data);
    let _ = explain::spki_key_info(data);
}

/// The config blob read back from flash: a blob that decodes encodes to
/// bytes that decode to the same settings.
pub fn blob(data: &[u8]) {
    let Ok(decoded) = ConfigBlob::decode(data) else {
        return;
    };
    let length = ConfigBlob::stored_length(data);
    let _ = decoded.to_json(length);
    let _ = decoded.to_json_redacted(length);
    let encoded = decoded
        .encode()
        .expect("a blob that decodes must encode again");
    let again = ConfigBlob::decode(&encoded).expect("an encoded blob must decode");
    assert_eq!(again, decoded);
}

/// SLIP from the serial port: noise never panics, and frames survive an
/// encode → decode round trip (several per stream, split where the input has
/// an `0x00`).
pub fn slip(data: &[u8]) {
    let mut d = SlipDecoder::new();
    for &b in data {
        if let Some(SlipEvent::Frame(f)) = d.push(b) {
            assert!(f.len() <= d.max_len);
        }
    }
    let mut small = SlipDecoder::new();
    small.max_len = 8;
    assert!(small.feed(data).iter().all(|f| f.len() <= 8));

    let frames: Vec<&[u8]> = data.split(|&b| b == 0).filter(|f| !f.is_empty()).collect();
    let mut wire = Vec::new();
    for f in &frames {
        slip::encode_into(f, &mut wire);
    }
    assert_eq!(
        wire.iter().filter(|&&b| b == slip::END).count(),
        2 * frames.len()
    );
    let decoded = SlipDecoder::new().feed(&wire);
    assert_eq!(decoded, frames);
}

/// The monitor's console lines: decoded in order by one decoder (it keeps
/// state across a stack dump); nothing printed carries a control character.
pub fn monitor_lines(data: &[u8]) {
    let no_control = |s: &str| !s.chars().any(|c| c.is_control() && c != '\t');
    let mut decoder = LineDecoder::new();
    for raw in data.split(|&b| b == b'\n') {
        let (text, d) = decoder.decode_bytes(raw);
        assert!(no_control(&text), "control character in {text:?}");
        assert!(
            no_control(&d.summary),
            "control character in {:?}",
            d.summary
        );
        if let Some(fix) = &d.fix {
            assert!(no_control(fix), "control character in {fix:?}");
        }
        let _ = serde_json::to_string(&d).expect("a decoded line serialises");
    }
    let text = String::from_utf8_lossy(data);
    let status = monitor::parse_status(&text);
    let _ = status.shown("state");
    let _ = status.int("code");
}

/// `espmqtt.toml`: an accepted file writes back to one that reads the same;
/// a rejected one gets an error message with a position.
pub fn project_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match ProjectConfig::from_toml(text) {
        Ok(cfg) => {
            let written = cfg.to_toml().expect("a parsed config serialises");
            let back = ProjectConfig::from_toml(&written).expect("a written config parses");
            assert_eq!(back, cfg);
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

/// What an RFC 2217 server sends: Telnet commands, option negotiation,
/// COM-PORT-OPTION answers and data. Replies are whole `IAC verb option`
/// commands, at most one per negotiation received; decoding in two pieces
/// gives what decoding at once gives; escaped data comes back unchanged.
pub fn rfc2217(data: &[u8]) {
    let rfc2217::ServerReplay {
        replies,
        data: kept,
        answers,
    } = rfc2217::replay_server_bytes(data);
    assert_eq!(replies.len() % 3, 0);
    for r in replies.chunks(3) {
        assert_eq!(r[0], telnet::IAC);
        assert!((telnet::WILL..=telnet::DONT).contains(&r[1]));
    }
    assert!(answers.iter().all(|(code, _)| (1..=5).contains(code)));

    let mut whole = (Vec::new(), Vec::new());
    telnet::Decoder::new().feed(data, &mut whole.0, &mut whole.1);
    assert_eq!(kept, whole.0);
    let negotiations = whole
        .1
        .iter()
        .filter(|c| matches!(c, telnet::Control::Negotiate { .. }))
        .count();
    assert!(replies.len() / 3 <= negotiations);
    if let Some(&cut) = data.first() {
        let cut = usize::from(cut).min(data.len());
        let mut parts = (Vec::new(), Vec::new());
        let mut d = telnet::Decoder::new();
        d.feed(&data[..cut], &mut parts.0, &mut parts.1);
        d.feed(&data[cut..], &mut parts.0, &mut parts.1);
        assert_eq!(parts, whole);
    }
    let mut escaped = Vec::new();
    telnet::escape_into(data, &mut escaped);
    let mut plain = (Vec::new(), Vec::new());
    telnet::Decoder::new().feed(&escaped, &mut plain.0, &mut plain.1);
    assert_eq!(plain.0, data);
    assert!(plain.1.is_empty());
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// Every file of every committed corpus goes through its target's body:
    /// what the fuzzer once found (or was seeded with) stays a test on stable.
    #[test]
    fn corpora_replay() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
        for (name, body) in super::TARGETS {
            let dir = root.join(name);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .map(|e| e.unwrap().path())
                .collect();
            files.sort();
            assert!(!files.is_empty(), "{}: empty corpus", dir.display());
            for file in files {
                let bytes = std::fs::read(&file).unwrap();
                let outcome = std::panic::catch_unwind(|| body(&bytes));
                assert!(outcome.is_ok(), "{} failed", file.display());
            }
        }
    }

    /// Every target under fuzz/fuzz_targets/ has a body here, and back.
    #[test]
    fn every_target_is_listed() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/fuzz_targets");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|p| Some(p.file_stem()?.to_str()?.to_string()))
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = super::TARGETS.iter().map(|(n, _)| n.to_string()).collect();
        listed.sort();
        assert_eq!(on_disk, listed);
    }
}
