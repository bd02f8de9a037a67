//! Chain capture: connect to a TLS server and record the certificates it
//! presents, whatever their trust state (`fingerprint`, `init
//! --from-broker`).
//!
//! Two clients, one toolbox. By default rustls asks for TLS 1.3 or 1.2 with
//! a verifier that records the chain and accepts everything (self-signed,
//! expired, wrong name, unknown CA) — the point is to report what a device
//! would be shown. `--tls12` (the device's view), and any server rustls
//! cannot talk to (TLS 1.0/1.1 only, RSA key exchange, CBC or CCM only),
//! use the device's own BearSSL engine in `insecure` mode instead
//! ([`super::engine`]): its ClientHello, and the chain read from the bytes
//! it received. Names, records, resolution and the TCP connection come from
//! [`super::names`], [`super::records`] and [`super::net`] like everywhere
//! else. Every wait ends at one deadline.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use super::clienthello::{diagnostic_record, CipherBuild};
use super::engine::{self, DeviceTls, DeviceTrust};
use super::names::{alert_name, suite_name, version_name};
use super::net::{self, secs, FlightEnd, NetError};
use super::records::{classify_bytes, FlightParser, Recognised};
use super::TrustMode;
use crate::target::Target;

/// How many bytes of the server's first answer we keep for classification.
const SNIFF_LEN: usize = 512;

/// How many bytes of each direction we keep for `-vv` (a handshake is a
/// few kilobytes).
const WIRE_LIMIT: usize = 64 * 1024;

/// Which SNI to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sni {
    /// The host, when it is a name (an IP literal sends none).
    Auto,
    /// This name (`--servername`).
    Name(String),
    /// None at all (`--no-sni`).
    Off,
}

/// What to connect to and how.
#[derive(Debug, Clone)]
pub struct CaptureOptions {
    pub target: Target,
    pub sni: Sni,
    pub timeout: Duration,
    /// Ask the way the ESP8266 does (BearSSL's ClientHello, TLS 1.0-1.2): a
    /// server may present another certificate, or refuse, without TLS 1.3.
    pub device_view: bool,
}

/// Milliseconds spent in each phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct PhaseTimes {
    pub resolve_ms: f64,
    pub connect_ms: f64,
    pub handshake_ms: f64,
}

/// The chain and handshake facts.
#[derive(Debug, Clone)]
pub struct Captured {
    /// DER certificates, leaf first, exactly as sent.
    pub chain: Vec<Vec<u8>>,
    /// The address actually connected to.
    pub peer: SocketAddr,
    /// The SNI sent, if any.
    pub servername: Option<String>,
    /// `TLS 1.2` / `TLS 1.3`.
    pub tls_version: Option<String>,
    /// IANA name of the negotiated suite.
    pub cipher_suite: Option<String>,
    /// Set when the server ended the handshake after sending its
    /// certificates (e.g. because it wants a client certificate).
    pub handshake_error: Option<String>,
    pub times: PhaseTimes,
    /// The chain came from the device engine's handshake.
    pub via_device_hello: bool,
    /// The server speaks TLS 1.3 only (no ESP8266 can connect); set when a
    /// TLS 1.3 capture was checked against a TLS 1.2 hello.
    pub tls13_only: bool,
    /// The bytes of the handshake both ways, as sent and received (the
    /// first 64 KiB of each), for `-vv`.
    pub wire: Wire,
}

/// Both directions of a connection, as sent and received.
#[derive(Debug, Clone, Default)]
pub struct Wire {
    pub sent: Vec<u8>,
    pub received: Vec<u8>,
}

impl Wire {
    fn keep(v: &mut Vec<u8>, b: &[u8]) {
        let room = WIRE_LIMIT.saturating_sub(v.len());
        v.extend_from_slice(&b[..b.len().min(room)]);
    }

    /// The server's first bytes (what classification looks at).
    fn sniffed(&self) -> &[u8] {
        &self.received[..self.received.len().min(SNIFF_LEN)]
    }
}

/// Everything that can go wrong while capturing, each with its own message
/// and next step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(
        "{addr} accepted the TCP connection but did not answer the TLS ClientHello within {secs} s"
    )]
    NoAnswer { addr: String, secs: String },
    #[error("{addr} speaks plain MQTT, not TLS (it answered an MQTT CONNECT with CONNACK)")]
    PlainMqtt { addr: String },
    #[error("{addr} speaks HTTP, not MQTT over TLS (it answered `{status}`)")]
    Http { addr: String, status: String },
    #[error("{addr} speaks SSH, not TLS (`{banner}`)")]
    Ssh { addr: String, banner: String },
    #[error("{addr} closed the connection without answering the TLS ClientHello")]
    ClosedSilently { addr: String },
    #[error("{addr} answered with {len} bytes that are not TLS: {preview}")]
    NotTls {
        addr: String,
        len: usize,
        preview: String,
    },
    #[error("{addr} refused the TLS handshake with alert {name} ({code})")]
    Alert {
        addr: String,
        name: String,
        code: u8,
    },
    #[error("{addr}: {}", super::names::tls13_only_message())]
    Tls13Only { addr: String },
    #[error("TLS handshake with {addr} failed: {detail}")]
    Handshake { addr: String, detail: String },
    #[error("{addr} ended the connection during the TLS handshake before sending a certificate")]
    ClosedDuringHandshake { addr: String },
    #[error("{addr} sent no certificate")]
    NoCertificate { addr: String },
    #[error("`{name}` is not a valid DNS name to send as SNI")]
    BadServerName { name: String },
}

impl CaptureError {
    /// The next step for the user.
    pub fn help(&self) -> String {
        match self {
            CaptureError::Net(e) => e.help().into(),
            CaptureError::NoAnswer { .. } => {
                "the port is open but does not speak TLS promptly: check the port, or raise \
                 --timeout for a slow server"
                    .into()
            }
            CaptureError::PlainMqtt { .. } => {
                "this port is a plain (unencrypted) MQTT listener: use the broker's TLS port \
                 (usually 8883), or add a TLS listener (mosquitto: `listener 8883` with \
                 certfile/keyfile)"
                    .into()
            }
            CaptureError::Http { .. } => {
                "this port is a web server: use the broker's MQTT-over-TLS port (usually 8883)"
                    .into()
            }
            CaptureError::Ssh { .. } => {
                "this port is an SSH server: use the broker's TLS port".into()
            }
            CaptureError::ClosedSilently { .. } => {
                "the server hung up on the TLS ClientHello; it may be a plain listener of \
                 another protocol, or a TLS server that rejects this client silently (check \
                 its log); try --servername NAME if it needs SNI"
                    .into()
            }
            CaptureError::NotTls { .. } => {
                "this port speaks some other protocol: use the broker's MQTT-over-TLS port".into()
            }
            CaptureError::Alert { name, .. } => alert_help(name),
            CaptureError::Tls13Only { .. } => super::names::tls13_only_fix().into(),
            CaptureError::Handshake { .. } | CaptureError::ClosedDuringHandshake { .. } => {
                "the server may require options this client does not offer; its log usually \
                 says why"
                    .into()
            }
            CaptureError::BadServerName { .. } => {
                "pass a host name such as broker.example.com (or --no-sni)".into()
            }
            CaptureError::NoCertificate { .. } => {
                "the server uses no certificate (PSK or anonymous TLS?): devices cannot pin it"
                    .into()
            }
        }
    }

    /// A TLS server answered and the device could not connect to it (as
    /// opposed to nothing TLS answering at all).
    pub fn is_incompatible(&self) -> bool {
        matches!(self, CaptureError::Tls13Only { .. })
    }
}

fn alert_help(name: &str) -> String {
    match name {
        "protocol_version" => "the server accepts none of the TLS versions offered; an ESP8266 \
                               speaks TLS 1.0-1.2"
            .into(),
        "handshake_failure" | "insufficient_security" => {
            "no cipher suite or key-exchange group in common; check the server's cipher \
             configuration (`espmqtt probe` says which suite the device needs)"
                .into()
        }
        "unrecognized_name" => {
            "the server does not know the name sent as SNI: pass the name it serves with \
             --servername, or try --no-sni"
                .into()
        }
        "certificate_required" | "bad_certificate" => {
            "the server requires a client certificate before it shows its own".into()
        }
        "access_denied" => "the server refuses this client (an ACL or IP filter?)".into(),
        _ => "check the server's TLS configuration and its log".into(),
    }
}

/// A verifier that records the chain and accepts everything (see the module doc).
#[derive(Debug)]
struct RecordingVerifier {
    chain: Arc<Mutex<Option<Vec<Vec<u8>>>>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = Vec::with_capacity(1 + intermediates.len());
        chain.push(end_entity.as_ref().to_vec());
        chain.extend(intermediates.iter().map(|c| c.as_ref().to_vec()));
        if let Ok(mut slot) = self.chain.lock() {
            *slot = Some(chain);
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Ok(HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        // Everything a server might sign with, so no server is turned away
        // for lack of a common signature scheme.
        vec![
            SignatureScheme::ECDSA_NISTP256_SHA256,
            SignatureScheme::ECDSA_NISTP384_SHA384,
            SignatureScheme::ECDSA_NISTP521_SHA512,
            SignatureScheme::ED25519,
            SignatureScheme::ED448,
            SignatureScheme::RSA_PSS_SHA256,
            SignatureScheme::RSA_PSS_SHA384,
            SignatureScheme::RSA_PSS_SHA512,
            SignatureScheme::RSA_PKCS1_SHA256,
            SignatureScheme::RSA_PKCS1_SHA384,
            SignatureScheme::RSA_PKCS1_SHA512,
            SignatureScheme::ECDSA_SHA1_Legacy,
            SignatureScheme::RSA_PKCS1_SHA1,
        ]
    }
}

/// Reads from and writes to the socket, keeping a copy of the bytes.
struct Sniffer<'a> {
    sock: &'a TcpStream,
    wire: &'a mut Wire,
}

impl Read for Sniffer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&*self.sock).read(buf)?;
        Wire::keep(&mut self.wire.received, &buf[..n]);
        Ok(n)
    }
}

impl Write for Sniffer<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = (&*self.sock).write(buf)?;
        Wire::keep(&mut self.wire.sent, &buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        (&*self.sock).flush()
    }
}

fn rustls_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    chain: Arc<Mutex<Option<Vec<Vec<u8>>>>>,
    sni: bool,
) -> Option<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .ok()?;
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier { chain }))
        .with_no_client_auth();
    config.enable_sni = sni;
    Some(config)
}

/// The SNI to send for these options (only a DNS name is ever sent), or
/// the error for a name that is not one.
fn sni_name(opts: &CaptureOptions) -> Result<Option<String>, CaptureError> {
    match &opts.sni {
        Sni::Off => Ok(None),
        Sni::Name(n) => match ServerName::try_from(n.clone()) {
            Ok(ServerName::DnsName(_)) => Ok(Some(n.clone())),
            Ok(_) => Ok(None),
            Err(_) => Err(CaptureError::BadServerName { name: n.clone() }),
        },
        Sni::Auto => Ok(match ServerName::try_from(opts.target.host.clone()) {
            Ok(ServerName::DnsName(_)) => Some(opts.target.host.clone()),
            _ => None,
        }),
    }
}

/// Does the server complete a TLS 1.3 handshake? (Used to tell a TLS
/// 1.3-only listener from other refusals; bounded by `deadline`.)
pub fn accepts_tls13(addrs: &[SocketAddr], server_name: Option<&str>, deadline: Instant) -> bool {
    let Ok(sock) = net::connect(addrs, deadline) else {
        return false;
    };
    let dns = server_name.and_then(|n| match ServerName::try_from(n.to_string()) {
        Ok(sn @ ServerName::DnsName(_)) => Some(sn),
        _ => None,
    });
    let Some(config) = rustls_config(
        &[&rustls::version::TLS13],
        Arc::new(Mutex::new(None)),
        dns.is_some(),
    ) else {
        return false;
    };
    let peer = sock
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let name = dns.unwrap_or(ServerName::IpAddress(peer.into()));
    let Ok(mut conn) = rustls::ClientConnection::new(Arc::new(config), name) else {
        return false;
    };
    let mut wire = Wire::default();
    let ok = drive_handshake(&mut conn, &sock, &mut wire, deadline).is_ok()
        && conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    let _ = sock.shutdown(std::net::Shutdown::Both);
    ok
}

/// Connect and capture the chain.
pub fn capture(opts: &CaptureOptions) -> Result<Captured, CaptureError> {
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let sni = sni_name(opts)?;
    let addrs = net::resolve(&opts.target.host, opts.target.port, deadline)?;
    let resolved = Instant::now();
    if opts.device_view {
        return device_capture(opts, &addrs, sni, start, resolved, deadline);
    }
    let sock = net::connect(&addrs, deadline)?;
    let connected = Instant::now();
    let peer = sock.peer_addr().unwrap_or(addrs[0]);
    let addr = opts.target.display();

    // rustls needs a ServerName even without SNI: the peer's address serves.
    let server_name = match &sni {
        Some(n) => ServerName::try_from(n.clone())
            .map_err(|_| CaptureError::BadServerName { name: n.clone() })?,
        None => ServerName::IpAddress(peer.ip().into()),
    };
    let chain_slot = Arc::new(Mutex::new(None));
    let config = rustls_config(
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        chain_slot.clone(),
        sni.is_some(),
    )
    .ok_or_else(|| CaptureError::Handshake {
        addr: addr.clone(),
        detail: "no TLS configuration".into(),
    })?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), server_name).map_err(|e| {
        CaptureError::Handshake {
            addr: addr.clone(),
            detail: e.to_string(),
        }
    })?;
    let mut wire = Wire::default();
    let outcome = drive_handshake(&mut conn, &sock, &mut wire, deadline);
    let seen = wire.sniffed().to_vec();
    let times = PhaseTimes {
        resolve_ms: ms(start, resolved),
        connect_ms: ms(resolved, connected),
        handshake_ms: ms(connected, Instant::now()),
    };
    let chain = chain_slot.lock().ok().and_then(|mut s| s.take());
    let tls_version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => version_name(0x0304),
        rustls::ProtocolVersion::TLSv1_2 => version_name(0x0303),
        other => version_name(u16::from(other)),
    });
    let cipher_suite = conn
        .negotiated_cipher_suite()
        .map(|s| suite_name(u16::from(s.suite())));
    let captured = |chain, handshake_error| Captured {
        chain,
        peer,
        servername: sni.clone(),
        tls_version: tls_version.clone(),
        cipher_suite: cipher_suite.clone(),
        handshake_error,
        times,
        via_device_hello: false,
        tls13_only: false,
        wire: wire.clone(),
    };
    match (outcome, chain) {
        (Ok(()), Some(chain)) => {
            conn.send_close_notify();
            let _ = conn.write_tls(&mut &sock);
            let mut c = captured(chain, None);
            if conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3) {
                c.tls13_only = refuses_tls12(&addrs, sni.as_deref(), deadline);
            }
            Ok(c)
        }
        (Ok(()), None) => Err(CaptureError::NoCertificate { addr }),
        // The certificates arrived, then the handshake failed (typically a
        // server that requires a client certificate): the chain is what the
        // user asked for, so report it with a note.
        (Err(e), Some(chain)) => Ok(captured(chain, Some(e.to_string()))),
        (Err(HandshakeFailure::Eof), None) if seen.is_empty() => {
            // A plain MQTT listener hangs up on a ClientHello (mosquitto
            // reads 0x16 as a malformed CONNECT). Ask it in its own language.
            Err(match sniff_plain(&addrs, deadline) {
                Some(e) => with_addr(e, &addr),
                None => CaptureError::ClosedSilently { addr },
            })
        }
        (Err(e), None) => {
            if let Some(plain) = classify_bytes(&seen) {
                return Err(with_addr(plain, &addr));
            }
            if wants_device_engine(&e) {
                // TLS 1.0/1.1, RSA key exchange, CBC or CCM only: the device's
                // engine speaks those.
                if let Ok(c) = device_capture(opts, &addrs, sni.clone(), start, resolved, deadline)
                {
                    return Ok(c);
                }
            }
            Err(classify_failure(e, &seen, &addr, opts.timeout))
        }
    }
}

fn ms(a: Instant, b: Instant) -> f64 {
    (b - a).as_secs_f64() * 1000.0
}

/// A TLS 1.2 hello (wider than the device's) is refused while TLS 1.3 works.
fn refuses_tls12(addrs: &[SocketAddr], sni: Option<&str>, deadline: Instant) -> bool {
    let hello = diagnostic_record(sni, 0x0303);
    match net::exchange_hello(addrs, &hello, deadline) {
        Some((f, FlightEnd::Complete)) => {
            f.server_hello.is_none() && f.alert.is_some_and(|(_, a)| a == 70)
        }
        _ => false,
    }
}

/// Capture with the device's engine: BearSSL in `insecure` mode with the
/// core's suites and versions, the chain read from what it received.
fn device_capture(
    opts: &CaptureOptions,
    addrs: &[SocketAddr],
    sni: Option<String>,
    start: Instant,
    resolved: Instant,
    deadline: Instant,
) -> Result<Captured, CaptureError> {
    let addr = opts.target.display();
    let cfg = DeviceTls {
        ciphers: CipherBuild::All,
        versions: (0x0301, 0x0303),
        buffers: (16384, 16384),
        trust: DeviceTrust {
            mode: TrustMode::Insecure,
            ..Default::default()
        },
        client: None,
        server_name: sni.clone(),
    };
    let attempt = engine::connect(addrs, &cfg, deadline).map_err(|e| match e {
        engine::ConnectError::Net(n) => CaptureError::Net(n),
        engine::ConnectError::Setup(s) => CaptureError::Handshake {
            addr: addr.clone(),
            detail: s.to_string(),
        },
    })?;
    let connected = start + Duration::from_millis(0);
    let peer = attempt.session.peer().unwrap_or(addrs[0]);
    let hs = attempt.handshake.clone();
    let received = attempt.session.tap.received.clone();
    let wire = Wire {
        sent: attempt.session.tap.sent.clone(),
        received: received.clone(),
    };
    attempt.session.close();
    let (flight, _) = FlightParser::parse_all(&received);
    if flight.certificate_seen && !flight.certificates.is_empty() {
        return Ok(Captured {
            chain: flight.certificates.clone(),
            peer,
            servername: sni,
            tls_version: flight.version().map(version_name),
            cipher_suite: flight.suite().map(suite_name),
            handshake_error: (!hs.completed).then(|| {
                format!(
                    "BearSSL error {} ({})",
                    hs.error,
                    super::names::bearssl_error_name(hs.error)
                )
            }),
            times: PhaseTimes {
                resolve_ms: ms(start, resolved),
                connect_ms: 0.0,
                handshake_ms: ms(resolved.max(connected), Instant::now()),
            },
            via_device_hello: true,
            tls13_only: false,
            wire,
        });
    }
    if received.is_empty() {
        return Err(match hs.transport {
            engine::TransportEnd::Timeout => CaptureError::NoAnswer {
                addr,
                secs: secs(opts.timeout),
            },
            _ => match sniff_plain(addrs, deadline) {
                Some(e) => with_addr(e, &addr),
                None => CaptureError::ClosedSilently { addr },
            },
        });
    }
    if let Some(plain) = classify_bytes(&received) {
        return Err(with_addr(plain, &addr));
    }
    if let (None, Some((_, alert))) = (&flight.server_hello, flight.alert) {
        if alert == 70 && accepts_tls13(addrs, sni.as_deref(), deadline) {
            return Err(CaptureError::Tls13Only { addr });
        }
        return Err(CaptureError::Alert {
            addr,
            name: alert_name(alert),
            code: alert,
        });
    }
    if flight.server_hello.is_some() && !flight.certificate_seen {
        return Err(if flight.hello_done {
            CaptureError::NoCertificate { addr }
        } else {
            CaptureError::ClosedDuringHandshake { addr }
        });
    }
    Err(CaptureError::Handshake {
        addr,
        detail: format!(
            "BearSSL error {} ({})",
            hs.error,
            super::names::bearssl_error_name(hs.error)
        ),
    })
}

/// A refusal that may only mean "nothing rustls implements" (TLS 1.0/1.1,
/// RSA key exchange, CBC, CCM): worth asking again with the device's engine.
fn wants_device_engine(e: &HandshakeFailure) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        e,
        HandshakeFailure::Tls(rustls::Error::AlertReceived(
            A::HandshakeFailure
                | A::InsufficientSecurity
                | A::IllegalParameter
                | A::ProtocolVersion
        )) | HandshakeFailure::Tls(rustls::Error::PeerIncompatible(_))
            | HandshakeFailure::Tls(rustls::Error::PeerMisbehaved(_))
            | HandshakeFailure::Tls(rustls::Error::InvalidMessage(_))
    )
}

/// How the handshake loop ended badly.
#[derive(Debug)]
enum HandshakeFailure {
    Eof,
    Timeout,
    Io(io::Error),
    Tls(rustls::Error),
}

impl std::fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HandshakeFailure::Eof => f.write_str("the server closed the connection"),
            HandshakeFailure::Timeout => f.write_str("the server stopped answering"),
            HandshakeFailure::Io(e) => write!(f, "{e}"),
            HandshakeFailure::Tls(rustls::Error::AlertReceived(a)) => {
                let code = u8::from(*a);
                write!(f, "the server sent alert {} ({code})", alert_name(code))
            }
            HandshakeFailure::Tls(e) => write!(f, "{e}"),
        }
    }
}

fn remaining(deadline: Instant) -> Option<Duration> {
    let now = Instant::now();
    (now < deadline).then(|| deadline - now)
}

fn drive_handshake(
    conn: &mut rustls::ClientConnection,
    sock: &TcpStream,
    wire: &mut Wire,
    deadline: Instant,
) -> Result<(), HandshakeFailure> {
    loop {
        while conn.wants_write() {
            let Some(left) = remaining(deadline) else {
                return Err(HandshakeFailure::Timeout);
            };
            let _ = sock.set_write_timeout(Some(left));
            match conn.write_tls(&mut Sniffer {
                sock,
                wire: &mut *wire,
            }) {
                Ok(_) => {}
                Err(e) if is_timeout(&e) => return Err(HandshakeFailure::Timeout),
                // The peer may have closed already; what it said (if
                // anything) is still worth reading.
                Err(e) if is_reset(&e) => break,
                Err(e) => return Err(HandshakeFailure::Io(e)),
            }
        }
        if !conn.is_handshaking() {
            return Ok(());
        }
        let Some(left) = remaining(deadline) else {
            return Err(HandshakeFailure::Timeout);
        };
        let _ = sock.set_read_timeout(Some(left));
        let mut sniffer = Sniffer {
            sock,
            wire: &mut *wire,
        };
        match conn.read_tls(&mut sniffer) {
            Ok(0) => {
                // Whatever arrived before the close may still hold an alert.
                if let Err(e) = conn.process_new_packets() {
                    let _ = conn.write_tls(&mut &*sock);
                    return Err(HandshakeFailure::Tls(e));
                }
                return Err(HandshakeFailure::Eof);
            }
            Ok(_) => {}
            Err(e) if is_timeout(&e) => return Err(HandshakeFailure::Timeout),
            Err(e) if is_reset(&e) => {
                if let Err(e) = conn.process_new_packets() {
                    return Err(HandshakeFailure::Tls(e));
                }
                return Err(HandshakeFailure::Eof);
            }
            Err(e) => return Err(HandshakeFailure::Io(e)),
        }
        if let Err(e) = conn.process_new_packets() {
            // Tell the server (best effort), then report.
            let _ = conn.write_tls(&mut &*sock);
            return Err(HandshakeFailure::Tls(e));
        }
    }
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
    )
}

/// Turn a failed handshake into the most specific explanation we have.
fn classify_failure(
    failure: HandshakeFailure,
    seen: &[u8],
    addr: &str,
    timeout: Duration,
) -> CaptureError {
    let addr = addr.to_string();
    match failure {
        HandshakeFailure::Timeout if seen.is_empty() => CaptureError::NoAnswer {
            addr,
            secs: secs(timeout),
        },
        HandshakeFailure::Timeout => CaptureError::Handshake {
            addr,
            detail: format!(
                "the server started the handshake but stopped answering within {} s",
                secs(timeout)
            ),
        },
        HandshakeFailure::Eof => CaptureError::ClosedDuringHandshake { addr },
        HandshakeFailure::Io(e) => CaptureError::Handshake {
            addr,
            detail: e.to_string(),
        },
        HandshakeFailure::Tls(rustls::Error::AlertReceived(a)) => {
            let code = u8::from(a);
            CaptureError::Alert {
                addr,
                name: alert_name(code),
                code,
            }
        }
        HandshakeFailure::Tls(e) => CaptureError::Handshake {
            addr,
            detail: e.to_string(),
        },
    }
}

fn with_addr(r: Recognised, addr: &str) -> CaptureError {
    let addr = addr.to_string();
    match r {
        Recognised::PlainMqtt => CaptureError::PlainMqtt { addr },
        Recognised::Http(status) => CaptureError::Http { addr, status },
        Recognised::Ssh(banner) => CaptureError::Ssh { addr, banner },
        Recognised::Other(len, preview) => CaptureError::NotTls { addr, len, preview },
    }
}

/// An MQTT 3.1.1 CONNECT: clean session, keep-alive 10 s, client id
/// `espmqtt-fingerprint` (the broker answers CONNACK even when it then
/// refuses the client, which is all we need to know).
const MQTT_CONNECT: &[u8] = &[
    0x10, 0x1f, // CONNECT, remaining length 31
    0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
    0x04, // level 4 = 3.1.1
    0x02, // clean session
    0x00, 0x0a, // keep-alive
    0x00, 0x13, b'e', b's', b'p', b'm', b'q', b't', b't', b'-', b'f', b'i', b'n', b'g', b'e', b'r',
    b'p', b'r', b'i', b'n', b't',
];

/// Second opinion after a silent hang-up: speak MQTT (then HTTP's answer
/// to that is recognised as well). Bounded by the same deadline. `probe`
/// asks it too when the device's ClientHello got no answer.
pub fn sniff_plain(addrs: &[SocketAddr], deadline: Instant) -> Option<Recognised> {
    let stop = deadline.min(Instant::now() + Duration::from_secs(3));
    let mut sock = net::connect(addrs, stop).ok()?;
    let _ = sock.set_write_timeout(Some(net::left(stop)));
    sock.write_all(MQTT_CONNECT).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 256];
    while buf.len() < 4 {
        let left = remaining(stop)?;
        let _ = sock.set_read_timeout(Some(left));
        match sock.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => break,
        }
    }
    if buf.first() == Some(&0x20) {
        // Polite goodbye: DISCONNECT.
        let _ = sock.write_all(&[0xe0, 0x00]);
        return Some(Recognised::PlainMqtt);
    }
    match classify_bytes(&buf) {
        Some(Recognised::PlainMqtt) => Some(Recognised::PlainMqtt),
        Some(r @ (Recognised::Http(_) | Recognised::Ssh(_))) => Some(r),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_classified() {
        assert_eq!(classify_bytes(b""), None);
        assert_eq!(classify_bytes(&[0x16, 3, 3, 0, 10]), None);
        assert_eq!(classify_bytes(&[0x15, 3, 3, 0, 2, 2, 40]), None);
        assert_eq!(
            classify_bytes(&[0x20, 2, 0, 0]),
            Some(Recognised::PlainMqtt)
        );
        assert!(matches!(
            classify_bytes(b"HTTP/1.1 400 Bad Request\r\n\r\n"),
            Some(Recognised::Http(s)) if s == "HTTP/1.1 400 Bad Request"
        ));
        assert!(matches!(
            classify_bytes(b"SSH-2.0-OpenSSH\r\n"),
            Some(Recognised::Ssh(_))
        ));
        assert!(matches!(
            classify_bytes(&[0xff, 0, 1]),
            Some(Recognised::Other(3, _))
        ));
    }

    #[test]
    fn sni_only_for_names() {
        let opts = |host: &str, sni: Sni| CaptureOptions {
            target: Target {
                host: host.into(),
                port: 8883,
            },
            sni,
            timeout: Duration::from_secs(1),
            device_view: false,
        };
        assert_eq!(
            sni_name(&opts("b.example", Sni::Auto)).unwrap().as_deref(),
            Some("b.example")
        );
        assert_eq!(sni_name(&opts("10.0.0.1", Sni::Auto)).unwrap(), None);
        assert_eq!(sni_name(&opts("b.example", Sni::Off)).unwrap(), None);
        assert!(sni_name(&opts("b", Sni::Name("not a name".into()))).is_err());
    }

    #[test]
    fn mqtt_connect_length_is_consistent() {
        assert_eq!(MQTT_CONNECT[1] as usize, MQTT_CONNECT.len() - 2);
    }
}
