//! A TLS 1.2 record and handshake parser for what a server sends back to a
//! ClientHello: ServerHello, Certificate, ServerKeyExchange,
//! CertificateRequest, ServerHelloDone and alerts (a NewSessionTicket or a
//! CertificateStatus in between is skipped).
//!
//! The bytes come from an arbitrary peer (a broker, an HTTP server, a port
//! that streams noise), so nothing here indexes without checking: every read
//! goes through [`Reader`], which returns `None` past the end, and every
//! length is validated before use. No function in this file panics on any
//! input (the unit tests feed it random bytes).
//!
//! The same parser reads both the answer to a diagnostic ClientHello and the
//! bytes tapped from the device engine's connection; it follows the
//! negotiated version (TLS 1.0/1.1 ServerKeyExchange and CertificateRequest
//! have no signature-algorithm fields) and, after the server's
//! ChangeCipherSpec, only counts the encrypted records.

use super::names::{alert_name, content_type_name, handshake_name, version_name};

/// Record content types.
pub const CT_CHANGE_CIPHER_SPEC: u8 = 20;
pub const CT_ALERT: u8 = 21;
pub const CT_HANDSHAKE: u8 = 22;
pub const CT_APPLICATION_DATA: u8 = 23;

/// Handshake message types.
pub const HS_SERVER_HELLO: u8 = 2;
pub const HS_CERTIFICATE: u8 = 11;
pub const HS_SERVER_KEY_EXCHANGE: u8 = 12;
pub const HS_CERTIFICATE_REQUEST: u8 = 13;
pub const HS_SERVER_HELLO_DONE: u8 = 14;
pub const HS_NEW_SESSION_TICKET: u8 = 4;
pub const HS_CERTIFICATE_STATUS: u8 = 22;

/// Largest record body TLS allows (2^14 plaintext + 2048 expansion).
pub const MAX_RECORD_BODY: usize = 16384 + 2048;

/// Bounds-checked big-endian reader.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }
    pub fn is_empty(&self) -> bool {
        self.remaining() == 0
    }
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let s = self.buf.get(self.pos..end)?;
        self.pos = end;
        Some(s)
    }
    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }
    pub fn u16(&mut self) -> Option<u16> {
        self.bytes(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }
    pub fn u24(&mut self) -> Option<usize> {
        self.bytes(3)
            .map(|b| ((b[0] as usize) << 16) | ((b[1] as usize) << 8) | b[2] as usize)
    }
    pub fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()? as usize;
        self.bytes(n)
    }
    pub fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()? as usize;
        self.bytes(n)
    }
    pub fn vec24(&mut self) -> Option<&'a [u8]> {
        let n = self.u24()?;
        self.bytes(n)
    }
    pub fn rest(&mut self) -> &'a [u8] {
        let s = self.buf.get(self.pos..).unwrap_or(&[]);
        self.pos = self.buf.len();
        s
    }
}

/// Why a byte stream is not (valid) TLS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a TLS record (first bytes {0})")]
    NotTls(String),
    #[error("record of {0} bytes exceeds the TLS maximum")]
    RecordTooLarge(usize),
    #[error("malformed {0} message")]
    Malformed(&'static str),
    #[error("unexpected handshake message type {0}")]
    UnexpectedMessage(u8),
}

/// One record header plus its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub content_type: u8,
    pub version: u16,
    pub body: Vec<u8>,
}

/// Try to take one complete record from the front of `buf`.
/// `Ok(None)` = need more bytes; `Err` = this is not TLS.
pub fn take_record(buf: &[u8]) -> Result<Option<(Record, usize)>, ParseError> {
    if buf.is_empty() {
        return Ok(None);
    }
    let ct = buf[0];
    if !(CT_CHANGE_CIPHER_SPEC..=CT_APPLICATION_DATA).contains(&ct) {
        return Err(ParseError::NotTls(printable_prefix(buf)));
    }
    if buf.len() >= 2 && buf[1] != 3 {
        return Err(ParseError::NotTls(printable_prefix(buf)));
    }
    if buf.len() < 5 {
        return Ok(None);
    }
    let version = u16::from_be_bytes([buf[1], buf[2]]);
    let len = u16::from_be_bytes([buf[3], buf[4]]) as usize;
    if len > MAX_RECORD_BODY {
        return Err(ParseError::RecordTooLarge(len));
    }
    if buf.len() < 5 + len {
        return Ok(None);
    }
    Ok(Some((
        Record {
            content_type: ct,
            version,
            body: buf[5..5 + len].to_vec(),
        },
        5 + len,
    )))
}

/// The first bytes of a non-TLS answer, as text when printable (so an HTTP
/// status line or an MQTT packet shows up recognisably in the error).
pub fn printable_prefix(buf: &[u8]) -> String {
    let head = &buf[..buf.len().min(24)];
    if head
        .iter()
        .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\r' || *b == b'\n')
    {
        let s = String::from_utf8_lossy(head);
        format!("{:?}", s.trim_end())
    } else {
        head.iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Reassembles handshake messages that span or share records.
#[derive(Debug, Default)]
pub struct HandshakeAssembler {
    buf: Vec<u8>,
}

impl HandshakeAssembler {
    pub fn push(&mut self, fragment: &[u8]) {
        self.buf.extend_from_slice(fragment);
    }
    /// Next complete message `(type, body)`, if any.
    pub fn next_message(&mut self) -> Option<(u8, Vec<u8>)> {
        if self.buf.len() < 4 {
            return None;
        }
        let ty = self.buf[0];
        let len =
            ((self.buf[1] as usize) << 16) | ((self.buf[2] as usize) << 8) | self.buf[3] as usize;
        if self.buf.len() < 4 + len {
            return None;
        }
        let body = self.buf[4..4 + len].to_vec();
        self.buf.drain(..4 + len);
        Some((ty, body))
    }
    /// Bytes of a message still incomplete.
    pub fn pending(&self) -> usize {
        self.buf.len()
    }
}

/// ServerHello contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerHello {
    pub version: u16,
    pub random: [u8; 32],
    pub session_id: Vec<u8>,
    pub cipher_suite: u16,
    pub compression: u8,
    /// `(type, body)` in the order received.
    pub extensions: Vec<(u16, Vec<u8>)>,
}

/// SHA-256("HelloRetryRequest"): a TLS 1.3 HRR disguised as a ServerHello.
const HRR_RANDOM: [u8; 32] = [
    0xCF, 0x21, 0xAD, 0x74, 0xE5, 0x9A, 0x61, 0x11, 0xBE, 0x1D, 0x8C, 0x02, 0x1E, 0x65, 0xB8, 0x91,
    0xC2, 0xA2, 0x11, 0x16, 0x7A, 0xBB, 0x8C, 0x5E, 0x07, 0x9E, 0x09, 0xE2, 0xC8, 0xA8, 0x33, 0x9C,
];

impl ServerHello {
    pub fn parse(body: &[u8]) -> Result<ServerHello, ParseError> {
        let bad = || ParseError::Malformed("ServerHello");
        let mut r = Reader::new(body);
        let version = r.u16().ok_or_else(bad)?;
        let mut random = [0u8; 32];
        random.copy_from_slice(r.bytes(32).ok_or_else(bad)?);
        let session_id = r.vec8().ok_or_else(bad)?.to_vec();
        let cipher_suite = r.u16().ok_or_else(bad)?;
        let compression = r.u8().ok_or_else(bad)?;
        let mut extensions = Vec::new();
        if !r.is_empty() {
            let mut e = Reader::new(r.vec16().ok_or_else(bad)?);
            while !e.is_empty() {
                let ty = e.u16().ok_or_else(bad)?;
                let b = e.vec16().ok_or_else(bad)?;
                extensions.push((ty, b.to_vec()));
            }
        }
        Ok(ServerHello {
            version,
            random,
            session_id,
            cipher_suite,
            compression,
            extensions,
        })
    }

    pub fn extension(&self, ty: u16) -> Option<&[u8]> {
        self.extensions
            .iter()
            .find(|(t, _)| *t == ty)
            .map(|(_, b)| b.as_slice())
    }

    /// A TLS 1.3 answer (supported_versions = 0x0304, or an HRR).
    pub fn is_tls13(&self) -> bool {
        self.random == HRR_RANDOM
            || self
                .extension(0x002b)
                .is_some_and(|b| b.len() == 2 && b[0] == 3 && b[1] >= 4)
    }
}

/// Certificate message: DER certificates in the order sent.
pub fn parse_certificate(body: &[u8]) -> Result<Vec<Vec<u8>>, ParseError> {
    let bad = || ParseError::Malformed("Certificate");
    let mut r = Reader::new(body);
    let mut list = Reader::new(r.vec24().ok_or_else(bad)?);
    let mut out = Vec::new();
    while !list.is_empty() {
        out.push(list.vec24().ok_or_else(bad)?.to_vec());
    }
    Ok(out)
}

/// The parts of a ServerKeyExchange the device cares about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKeyExchange {
    /// Named curve for ECDHE; `None` for DHE or unparsed forms.
    pub named_curve: Option<u16>,
    /// Explicit-curve ECDHE (curve_type 1 or 2), which BearSSL rejects.
    pub explicit_curve: bool,
    /// TLS 1.2 SignatureAndHashAlgorithm.
    pub sig_alg: Option<u16>,
    /// The signed parameters (for signature verification).
    pub params: Vec<u8>,
    pub signature: Vec<u8>,
}

impl ServerKeyExchange {
    /// Parse for an ECDHE suite (`dhe = false`) or a DHE suite; `tls12`
    /// when the negotiated version carries a SignatureAndHashAlgorithm.
    pub fn parse(body: &[u8], dhe: bool, tls12: bool) -> Result<ServerKeyExchange, ParseError> {
        let bad = || ParseError::Malformed("ServerKeyExchange");
        let mut r = Reader::new(body);
        let mut named_curve = None;
        let mut explicit_curve = false;
        if dhe {
            r.vec16().ok_or_else(bad)?;
            r.vec16().ok_or_else(bad)?;
            r.vec16().ok_or_else(bad)?;
        } else {
            match r.u8().ok_or_else(bad)? {
                3 => {
                    named_curve = Some(r.u16().ok_or_else(bad)?);
                    r.vec8().ok_or_else(bad)?;
                }
                _ => {
                    explicit_curve = true;
                    return Ok(ServerKeyExchange {
                        named_curve,
                        explicit_curve,
                        sig_alg: None,
                        params: Vec::new(),
                        signature: Vec::new(),
                    });
                }
            }
        }
        let params_len = body.len() - r.remaining();
        let sig_alg = if tls12 {
            Some(r.u16().ok_or_else(bad)?)
        } else {
            None
        };
        let signature = r.vec16().ok_or_else(bad)?.to_vec();
        Ok(ServerKeyExchange {
            named_curve,
            explicit_curve,
            sig_alg,
            params: body.get(..params_len).unwrap_or(&[]).to_vec(),
            signature,
        })
    }
}

/// CertificateRequest (TLS 1.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateRequest {
    pub certificate_types: Vec<u8>,
    pub sig_algs: Vec<u16>,
    /// Number of CA names listed (BearSSL ignores them).
    pub ca_names: usize,
}

impl CertificateRequest {
    /// Parse; `tls12` when the negotiated version lists signature algorithms.
    pub fn parse(body: &[u8], tls12: bool) -> Result<CertificateRequest, ParseError> {
        let bad = || ParseError::Malformed("CertificateRequest");
        let mut r = Reader::new(body);
        let certificate_types = r.vec8().ok_or_else(bad)?.to_vec();
        let mut sig_algs = Vec::new();
        if tls12 {
            let mut s = Reader::new(r.vec16().ok_or_else(bad)?);
            while !s.is_empty() {
                sig_algs.push(s.u16().ok_or_else(bad)?);
            }
        }
        let mut names = Reader::new(r.vec16().ok_or_else(bad)?);
        let mut ca_names = 0;
        while !names.is_empty() {
            names.vec16().ok_or_else(bad)?;
            ca_names += 1;
        }
        Ok(CertificateRequest {
            certificate_types,
            sig_algs,
            ca_names,
        })
    }
}

/// An alert record `(level, description)`.
pub fn parse_alert(body: &[u8]) -> Option<(u8, u8)> {
    let mut r = Reader::new(body);
    Some((r.u8()?, r.u8()?))
}

/// Everything the server sent, in parsed form: its plaintext first flight
/// and, when the stream goes on, the sizes of the records after it.
#[derive(Debug, Clone, Default)]
pub struct ServerFlight {
    pub server_hello: Option<ServerHello>,
    pub certificates: Vec<Vec<u8>>,
    pub certificate_seen: bool,
    pub server_key_exchange: Option<ServerKeyExchange>,
    pub certificate_request: Option<CertificateRequest>,
    pub hello_done: bool,
    /// A plaintext alert `(level, description)`.
    pub alert: Option<(u8, u8)>,
    /// Record versions seen.
    pub record_versions: Vec<u16>,
    /// Largest record body received, and the largest after the ServerHello
    /// record (what max_fragment_length constrains).
    pub max_record: usize,
    pub max_record_after_hello: usize,
    /// The largest plaintext (not yet encrypted) record after the ServerHello.
    pub max_plain_after_hello: usize,
    /// Number of records received.
    pub records: usize,
    /// The ServerHello was not alone in its record (the core's
    /// `probeMaxFragmentLength()` then returns false).
    pub hello_shares_record: bool,
    /// The server switched to encrypted records (its ChangeCipherSpec).
    pub encrypted: bool,
    /// Encrypted records after that, and the largest of them.
    pub encrypted_records: usize,
    pub max_encrypted_record: usize,
}

impl ServerFlight {
    /// The negotiated version, when a ServerHello arrived.
    pub fn version(&self) -> Option<u16> {
        self.server_hello.as_ref().map(|sh| sh.version)
    }

    /// The selected cipher suite, when a ServerHello arrived.
    pub fn suite(&self) -> Option<u16> {
        self.server_hello.as_ref().map(|sh| sh.cipher_suite)
    }
}

/// Incremental parser of what a server sends. Feed bytes as they arrive;
/// [`FlightParser::done`] says when the plaintext first flight is complete
/// (ServerHelloDone, an alert, a ChangeCipherSpec or a TLS 1.3 answer).
/// Records after that are still taken apart, and counted.
#[derive(Debug, Default)]
pub struct FlightParser {
    buf: Vec<u8>,
    hs: HandshakeAssembler,
    pub flight: ServerFlight,
    finished: bool,
}

impl FlightParser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn done(&self) -> bool {
        self.finished
    }

    /// Bytes received so far that are not a complete record yet.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// Add received bytes and parse what is complete.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), ParseError> {
        self.buf.extend_from_slice(data);
        while let Some((rec, used)) = take_record(&self.buf)? {
            self.buf.drain(..used);
            self.on_record(rec)?;
        }
        Ok(())
    }

    /// Parse a whole tapped stream; the error, if any, stopped the parse.
    pub fn parse_all(bytes: &[u8]) -> (ServerFlight, Option<ParseError>) {
        let mut p = FlightParser::new();
        let err = p.feed(bytes).err();
        (p.flight, err)
    }

    fn on_record(&mut self, rec: Record) -> Result<(), ParseError> {
        let f = &mut self.flight;
        f.records += 1;
        if !f.record_versions.contains(&rec.version) {
            f.record_versions.push(rec.version);
        }
        f.max_record = f.max_record.max(rec.body.len());
        let hello_before = f.server_hello.is_some();
        if hello_before {
            f.max_record_after_hello = f.max_record_after_hello.max(rec.body.len());
        }
        if hello_before && !f.encrypted {
            f.max_plain_after_hello = f.max_plain_after_hello.max(rec.body.len());
        }
        if f.encrypted {
            f.encrypted_records += 1;
            f.max_encrypted_record = f.max_encrypted_record.max(rec.body.len());
            return Ok(());
        }
        match rec.content_type {
            CT_ALERT => {
                f.alert = parse_alert(&rec.body);
                if f.alert.is_none() {
                    return Err(ParseError::Malformed("alert"));
                }
                self.finished = true;
            }
            CT_HANDSHAKE => {
                self.hs.push(&rec.body);
                let mut in_this_record = 0;
                while let Some((ty, body)) = self.hs.next_message() {
                    in_this_record += 1;
                    self.on_message(ty, &body)?;
                }
                let f = &mut self.flight;
                if !hello_before
                    && f.server_hello.is_some()
                    && (in_this_record > 1 || self.hs.pending() > 0)
                {
                    f.hello_shares_record = true;
                }
            }
            // The server's ChangeCipherSpec (or a TLS 1.3 server's
            // middlebox-compatibility one): what follows is encrypted.
            CT_CHANGE_CIPHER_SPEC => {
                f.encrypted = true;
                self.finished = true;
            }
            _ => {
                f.encrypted = true;
                f.encrypted_records += 1;
                f.max_encrypted_record = f.max_encrypted_record.max(rec.body.len());
                self.finished = true;
            }
        }
        Ok(())
    }

    fn on_message(&mut self, ty: u8, body: &[u8]) -> Result<(), ParseError> {
        let f = &mut self.flight;
        let tls12 = f.version().is_some_and(|v| v >= 0x0303);
        match ty {
            HS_SERVER_HELLO => {
                let sh = ServerHello::parse(body)?;
                if sh.is_tls13() {
                    self.finished = true;
                    f.encrypted = true;
                }
                f.server_hello = Some(sh);
            }
            HS_CERTIFICATE => {
                f.certificate_seen = true;
                f.certificates = parse_certificate(body)?;
            }
            HS_SERVER_KEY_EXCHANGE => {
                let dhe = f.suite().is_some_and(is_dhe_suite);
                f.server_key_exchange = Some(ServerKeyExchange::parse(body, dhe, tls12)?);
            }
            HS_CERTIFICATE_REQUEST => {
                f.certificate_request = Some(CertificateRequest::parse(body, tls12)?);
            }
            HS_SERVER_HELLO_DONE => {
                f.hello_done = true;
                self.finished = true;
            }
            // HelloRequest (0) may be ignored; CertificateStatus (22) is
            // harmless; a TLS 1.2 server that issues session tickets sends
            // NewSessionTicket (4) in plaintext after the first flight, just
            // before its ChangeCipherSpec. Anything else is a protocol error.
            0 | HS_NEW_SESSION_TICKET | HS_CERTIFICATE_STATUS => {}
            other => return Err(ParseError::UnexpectedMessage(other)),
        }
        Ok(())
    }
}

/// The records of one direction of a tapped connection, one line each (for
/// `-vv`): content type, record version, length and, while the stream is
/// still plaintext, the handshake messages in it (type and length) or the
/// alert. Types and lengths only, never contents. After `limit` records one
/// line counts the rest; bytes that are not TLS end the list with a line
/// that says so.
pub fn record_lines(bytes: &[u8], arrow: &str, limit: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut hs = HandshakeAssembler::default();
    let mut encrypted = false;
    let (mut count, mut more, mut more_bytes) = (0usize, 0usize, 0usize);
    loop {
        match take_record(rest) {
            Ok(Some((rec, used))) => {
                rest = rest.get(used..).unwrap_or_default();
                count += 1;
                if count > limit {
                    more += 1;
                    more_bytes += rec.body.len();
                } else {
                    out.push(describe_record(&rec, arrow, encrypted, &mut hs));
                }
                if rec.content_type == CT_CHANGE_CIPHER_SPEC {
                    encrypted = true;
                }
            }
            Ok(None) => {
                if !rest.is_empty() {
                    out.push(format!(
                        "{arrow} {} B of a record not received completely",
                        rest.len()
                    ));
                }
                break;
            }
            Err(e) => {
                out.push(format!("{arrow} {} B that are not TLS: {e}", rest.len()));
                break;
            }
        }
    }
    if more > 0 {
        out.push(format!("{arrow} {more} more records ({more_bytes} B)"));
    }
    out
}

fn describe_record(
    rec: &Record,
    arrow: &str,
    encrypted: bool,
    hs: &mut HandshakeAssembler,
) -> String {
    let head = format!(
        "{arrow} {} record, {}, {} B",
        content_type_name(rec.content_type),
        version_name(rec.version),
        rec.body.len()
    );
    if encrypted || rec.content_type == CT_APPLICATION_DATA {
        return format!("{head} (encrypted)");
    }
    match rec.content_type {
        CT_HANDSHAKE => {
            hs.push(&rec.body);
            let mut msgs = Vec::new();
            while let Some((ty, body)) = hs.next_message() {
                msgs.push(format!("{} ({} B)", handshake_name(ty), body.len()));
            }
            if hs.pending() > 0 {
                msgs.push(format!("{} B of a message continued", hs.pending()));
            }
            if msgs.is_empty() {
                head
            } else {
                format!("{head}: {}", msgs.join(", "))
            }
        }
        CT_ALERT => match parse_alert(&rec.body) {
            Some((level, d)) => format!(
                "{head}: {} alert {} ({d})",
                if level == 2 { "fatal" } else { "warning" },
                alert_name(d)
            ),
            None => head,
        },
        _ => head,
    }
}

/// A protocol recognised from a server's first bytes when they are not TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognised {
    /// An MQTT CONNACK (a plain-MQTT listener answering our probe CONNECT).
    PlainMqtt,
    /// An HTTP status line.
    Http(String),
    /// An SSH banner.
    Ssh(String),
    /// Something else: its length and a printable preview.
    Other(usize, String),
}

impl Recognised {
    /// One phrase: "plain MQTT", "HTTP (`HTTP/1.1 400 …`)"…
    pub fn describe(&self) -> String {
        match self {
            Recognised::PlainMqtt => "plain MQTT (an MQTT CONNACK)".into(),
            Recognised::Http(status) => format!("HTTP (`{status}`)"),
            Recognised::Ssh(banner) => format!("SSH (`{banner}`)"),
            Recognised::Other(len, preview) => format!("{len} bytes that are not TLS: {preview}"),
        }
    }
}

/// Classify a server's first bytes when they are not a TLS record. `None`
/// means "looks like TLS" (or nothing arrived).
pub fn classify_bytes(seen: &[u8]) -> Option<Recognised> {
    let first = *seen.first()?;
    // TLS record content types 20-24 followed by major version 3.
    if (0x14..=0x18).contains(&first) && seen.get(1).is_none_or(|v| *v == 3) {
        return None;
    }
    // MQTT CONNACK: type 2, remaining length 2 (3.1.1) or more (5.0).
    if first == 0x20 && seen.get(1).is_some_and(|l| *l >= 2) {
        return Some(Recognised::PlainMqtt);
    }
    if seen.starts_with(b"HTTP/") {
        return Some(Recognised::Http(first_line(seen)));
    }
    if seen.starts_with(b"SSH-") {
        return Some(Recognised::Ssh(first_line(seen)));
    }
    Some(Recognised::Other(seen.len(), preview(seen)))
}

fn first_line(bytes: &[u8]) -> String {
    let end = bytes
        .iter()
        .position(|b| *b == b'\r' || *b == b'\n')
        .unwrap_or(bytes.len())
        .min(80);
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// Printable text in quotes, otherwise the first bytes in hex.
fn preview(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(32)];
    let printable = head
        .iter()
        .all(|b| b.is_ascii_graphic() || matches!(*b, b' ' | b'\r' | b'\n' | b'\t'));
    if printable {
        format!("{:?}", String::from_utf8_lossy(head))
    } else {
        let hex: Vec<String> = head.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}{}",
            hex.join(" "),
            if bytes.len() > head.len() { " …" } else { "" }
        )
    }
}

/// DHE suites (which BearSSL does not implement).
pub fn is_dhe_suite(id: u16) -> bool {
    matches!(
        id,
        0x0033
            | 0x0039
            | 0x0067
            | 0x006B
            | 0x009E
            | 0x009F
            | 0xCCAA
            | 0xC09E
            | 0xC09F
            | 0xC0A2
            | 0xC0A3
            | 0x0016
    )
}

/// Extensions of a ClientHello record (for tests and the test servers).
pub fn parse_client_hello_extensions(record: &[u8]) -> Option<Vec<(u16, Vec<u8>)>> {
    let mut r = Reader::new(record);
    r.bytes(5)?;
    if r.u8()? != 1 {
        return None;
    }
    let mut b = Reader::new(r.vec24()?);
    b.u16()?;
    b.bytes(32)?;
    b.vec8()?;
    b.vec16()?;
    b.vec8()?;
    let mut e = Reader::new(b.vec16()?);
    let mut out = Vec::new();
    while !e.is_empty() {
        let t = e.u16()?;
        out.push((t, e.vec16()?.to_vec()));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xorshift(seed: &mut u64) -> u64 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        *seed
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        for i in 0..20_000 {
            let len = (xorshift(&mut seed) % 300) as usize;
            let mut v: Vec<u8> = (0..len).map(|_| xorshift(&mut seed) as u8).collect();
            // Make a share of the inputs look like TLS so the deeper parsers run.
            if i % 2 == 0 && v.len() > 9 {
                v[0] = 22;
                v[1] = 3;
                v[2] = 3;
                let l = (v.len() - 5) as u16;
                v[3..5].copy_from_slice(&l.to_be_bytes());
                v[5] = [2, 11, 12, 13, 14][i % 5];
            }
            let mut p = FlightParser::new();
            let _ = p.feed(&v);
            let _ = ServerHello::parse(&v);
            let _ = parse_certificate(&v);
            let _ = ServerKeyExchange::parse(&v, i % 3 == 0, i % 2 == 0);
            let _ = CertificateRequest::parse(&v, i % 2 == 0);
            let _ = classify_bytes(&v);
            let _ = record_lines(&v, "<-", 8);
            let _ = parse_client_hello_extensions(&v);
        }
    }

    #[test]
    fn http_is_not_tls() {
        let err = take_record(b"HTTP/1.1 400 Bad Request\r\n").unwrap_err();
        assert!(matches!(err, ParseError::NotTls(s) if s.contains("HTTP/1.1")));
    }

    /// A TLS 1.2 record of `ct` holding `body`.
    fn record(ct: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![ct, 3, 3];
        v.extend_from_slice(&(body.len() as u16).to_be_bytes());
        v.extend_from_slice(body);
        v
    }

    /// A handshake message of type `ty`.
    fn message(ty: u8, body: &[u8]) -> Vec<u8> {
        let n = body.len();
        let mut v = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
        v.extend_from_slice(body);
        v
    }

    fn server_hello() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7u8; 32]);
        b.push(0); // no session id
        b.extend_from_slice(&0xC02Fu16.to_be_bytes());
        b.push(0);
        b
    }

    /// A TLS 1.2 server that issues session tickets sends NewSessionTicket
    /// in plaintext after ServerHelloDone, then its ChangeCipherSpec and
    /// encrypted Finished: the parser skips the ticket and goes on counting.
    #[test]
    fn new_session_ticket_is_skipped() {
        let mut ticket = 7200u32.to_be_bytes().to_vec();
        ticket.extend_from_slice(&[0, 4, 1, 2, 3, 4]);
        let mut stream = Vec::new();
        stream.extend(record(22, &message(2, &server_hello())));
        stream.extend(record(22, &message(11, &[0, 0, 0])));
        stream.extend(record(22, &message(14, &[])));
        stream.extend(record(22, &message(4, &ticket)));
        stream.extend(record(20, &[1]));
        stream.extend(record(22, &[0x55; 40]));
        stream.extend(record(23, &[0x66; 300]));
        let (flight, err) = FlightParser::parse_all(&stream);
        assert_eq!(err, None);
        assert!(flight.hello_done && flight.certificate_seen && flight.encrypted);
        assert_eq!(flight.suite(), Some(0xC02F));
        assert_eq!(flight.records, 7);
        assert_eq!(flight.encrypted_records, 2);
        assert_eq!(flight.max_encrypted_record, 300);
        // Fed one byte at a time, the same.
        let mut p = FlightParser::new();
        for b in &stream {
            p.feed(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(format!("{:?}", p.flight), format!("{flight:?}"));

        let lines = record_lines(&stream, "<-", 100);
        assert_eq!(lines.len(), 7, "{lines:#?}");
        assert_eq!(
            lines[0],
            "<- handshake record, TLS 1.2, 42 B: ServerHello (38 B)"
        );
        assert!(
            lines[3].ends_with("NewSessionTicket (10 B)"),
            "{}",
            lines[3]
        );
        assert!(lines[5].ends_with("(encrypted)"), "{}", lines[5]);
        assert_eq!(record_lines(&stream, "<-", 2).len(), 3);
    }

    #[test]
    fn record_lines_name_alerts_and_garbage() {
        let lines = record_lines(&[21, 3, 3, 0, 2, 2, 40], "<-", 10);
        assert_eq!(
            lines,
            ["<- alert record, TLS 1.2, 2 B: fatal alert handshake_failure (40)"]
        );
        let lines = record_lines(b"HTTP/1.1 400 Bad Request\r\n", "<-", 10);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].contains("not TLS"), "{lines:?}");
        assert!(record_lines(&[], "->", 10).is_empty());
        assert_eq!(
            record_lines(&[22, 3, 1, 0, 9, 1], "->", 10),
            ["-> 6 B of a record not received completely"]
        );
    }

    #[test]
    fn alert_finishes_flight() {
        let mut p = FlightParser::new();
        p.feed(&[21, 3, 3, 0, 2, 2, 70]).unwrap();
        assert!(p.done());
        assert_eq!(p.flight.alert, Some((2, 70)));
    }
}
