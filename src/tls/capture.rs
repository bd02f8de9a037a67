//! Chain capture: connect to a TLS server and record the certificates it
//! presents, whatever their trust state.
//!
//! The point is to report what a device would be shown, so the verifier
//! accepts everything — self-signed, expired, wrong name, unknown CA,
//! garbage — and the handshake signature as well: nothing is sent over this
//! connection, and a signature we cannot verify (RSA-PSS roots, keys ring
//! does not know) must not hide the chain from the user. rustls is driven by
//! hand over a blocking socket so that every read has a deadline and the
//! first bytes the server answers with are kept: when they are not TLS they
//! tell us what the port speaks instead (plain MQTT, HTTP, SSH…).
//!
//! A server that refuses every suite rustls implements (RSA key exchange,
//! CBC or CCM only — legal for an ESP8266, esp8266-tls.md §3.2) is asked
//! again with the device's own TLS 1.2 ClientHello, and the chain is read
//! from its clear-text first flight. Only TLS 1.2 and 1.3 are captured; a
//! TLS 1.0/1.1-only server is reported as such (exit 3).

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

/// Default MQTT-over-TLS port.
pub const DEFAULT_PORT: u16 = 8883;

/// How many bytes of the server's first answer we keep for classification.
const SNIFF_LEN: usize = 512;

/// A parsed `HOST[:PORT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host name or IP literal, without brackets.
    pub host: String,
    pub port: u16,
}

impl Target {
    /// The host as an IP address, when it is a literal.
    pub fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// `host:port`, with brackets around IPv6 literals.
    pub fn display(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Why a target string is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(pub String);

/// Parse `HOST`, `HOST:PORT`, `[V6]`, `[V6]:PORT`, a bare IPv6 literal
/// (`::1`, `fe80::1%eth0`), optionally prefixed with `mqtts://`, `ssl://`
/// or `tls://` (the spellings of mosquitto_pub and MQTT libraries).
pub fn parse_target(input: &str, default_port: u16) -> Result<Target, TargetError> {
    let mut s = input.trim();
    for scheme in ["mqtts://", "ssl://", "tls://", "tcps://"] {
        if s.len() >= scheme.len() && s[..scheme.len()].eq_ignore_ascii_case(scheme) {
            s = &s[scheme.len()..];
            break;
        }
    }
    let s = s.trim_end_matches('/');
    if s.is_empty() {
        return Err(TargetError("the host is empty".into()));
    }
    let parse_port = |p: &str| -> Result<u16, TargetError> {
        match p.parse::<u16>() {
            Ok(0) | Err(_) => Err(TargetError(format!("`{p}` is not a port number (1-65535)"))),
            Ok(n) => Ok(n),
        }
    };
    if let Some(rest) = s.strip_prefix('[') {
        let Some((host, after)) = rest.split_once(']') else {
            return Err(TargetError(format!(
                "`{input}`: missing `]` after the IPv6 address"
            )));
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() && !host.contains('%') {
            return Err(TargetError(format!("`{host}` is not an IPv6 address")));
        }
        let port = match after {
            "" => default_port,
            p => match p.strip_prefix(':') {
                Some(p) => parse_port(p)?,
                None => {
                    return Err(TargetError(format!(
                        "`{input}`: expected `:PORT` after `]`"
                    )))
                }
            },
        };
        return Ok(Target {
            host: host.to_string(),
            port,
        });
    }
    if s.matches(':').count() > 1 {
        // Bare IPv6 literal: every colon belongs to the address.
        if s.parse::<std::net::Ipv6Addr>().is_ok() || s.contains('%') {
            return Ok(Target {
                host: s.to_string(),
                port: default_port,
            });
        }
        return Err(TargetError(format!(
            "`{input}` is neither HOST:PORT nor an IPv6 address (write [ADDR]:PORT)"
        )));
    }
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, parse_port(p)?),
        None => (s, default_port),
    };
    if host.is_empty() {
        return Err(TargetError(format!("`{input}`: the host is empty")));
    }
    if host
        .chars()
        .any(|c| c.is_whitespace() || c == '/' || c == '@')
    {
        return Err(TargetError(format!("`{host}` is not a host name")));
    }
    Ok(Target {
        host: host.to_string(),
        port,
    })
}

/// Which SNI to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sni {
    /// The host, when it is a name (an IP literal sends none, like a device
    /// that connects by address, esp8266-tls.md §2.2).
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
    /// Offer TLS 1.2 only, as the ESP8266 does (BearSSL has no TLS 1.3,
    /// esp8266-tls.md §3.1): a server may present another certificate, or
    /// refuse, when 1.3 is off the table.
    pub tls12_only: bool,
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
    /// The chain came from the server's answer to an ESP8266-style
    /// ClientHello, because it accepts none of the suites rustls implements.
    pub via_device_hello: bool,
}

/// Everything that can go wrong while capturing, each with its own message
/// and next step. All of them mean "unreachable" (exit 3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaptureError {
    #[error("cannot resolve {host}: {detail}")]
    Dns { host: String, detail: String },
    #[error("cannot resolve {host} within {secs} s")]
    DnsTimeout { host: String, secs: String },
    #[error("connection refused by {addr}: nothing listens on that port")]
    Refused { addr: String },
    #[error("no TCP connection to {addr} within {secs} s")]
    ConnectTimeout { addr: String, secs: String },
    #[error("cannot connect to {addr}: {detail}")]
    Connect { addr: String, detail: String },
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
    #[error("{addr} does not speak TLS 1.2 or 1.3 ({detail}); it probably offers only TLS 1.1 or older, which this tool (rustls) cannot capture")]
    OldTls { addr: String, detail: String },
    #[error("{addr} refused TLS 1.2 ({detail}): an ESP8266, which speaks TLS 1.0-1.2 only, cannot connect either")]
    NoTls12 { addr: String, detail: String },
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
            CaptureError::Dns { .. } | CaptureError::DnsTimeout { .. } => {
                "check the spelling of the host name and your DNS; an IP address works too \
                 (add --servername NAME to send the name as SNI)"
                    .into()
            }
            CaptureError::Refused { .. } => {
                "check the port (MQTT over TLS is usually 8883, plain MQTT 1883) and that the \
                 broker is running with a TLS listener there"
                    .into()
            }
            CaptureError::ConnectTimeout { .. } => {
                "a firewall may be dropping the packets, or the address is wrong; try a longer \
                 --timeout if the link is slow"
                    .into()
            }
            CaptureError::Connect { .. } => "check the address and your network".into(),
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
            CaptureError::OldTls { .. } => {
                "enable TLS 1.2 on the server (mosquitto: `tls_version tlsv1.2`); the ESP8266 \
                 also works best with TLS 1.2 (esp8266-tls.md §3.1)"
                    .into()
            }
            CaptureError::NoTls12 { .. } => {
                "enable TLS 1.2 on the broker (mosquitto: `tls_version tlsv1.2` allows 1.2 and \
                 newer); drop --tls12 to see the certificate it shows over TLS 1.3"
                    .into()
            }
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
}

fn alert_help(name: &str) -> String {
    match name {
        "protocol_version" => "the server does not accept TLS 1.2 or 1.3; if it only speaks \
                               TLS 1.0/1.1, enable TLS 1.2 (mosquitto: `tls_version tlsv1.2`)"
            .into(),
        "handshake_failure" | "insufficient_security" => {
            "no cipher suite or key-exchange group in common: this client offers TLS 1.3 and \
             TLS 1.2 ECDHE with AES-GCM or ChaCha20 (the ESP8266 needs a TLS 1.2 suite from \
             esp8266-tls.md §3.2 too); check the server's cipher configuration"
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

/// RFC names of the TLS alerts (RFC 8446 §6, RFC 5246 §7.2).
pub fn alert_name(code: u8) -> String {
    let n = match code {
        0 => "close_notify",
        10 => "unexpected_message",
        20 => "bad_record_mac",
        21 => "decryption_failed",
        22 => "record_overflow",
        30 => "decompression_failure",
        40 => "handshake_failure",
        41 => "no_certificate",
        42 => "bad_certificate",
        43 => "unsupported_certificate",
        44 => "certificate_revoked",
        45 => "certificate_expired",
        46 => "certificate_unknown",
        47 => "illegal_parameter",
        48 => "unknown_ca",
        49 => "access_denied",
        50 => "decode_error",
        51 => "decrypt_error",
        60 => "export_restriction",
        70 => "protocol_version",
        71 => "insufficient_security",
        80 => "internal_error",
        86 => "inappropriate_fallback",
        90 => "user_canceled",
        100 => "no_renegotiation",
        109 => "missing_extension",
        110 => "unsupported_extension",
        111 => "certificate_unobtainable",
        112 => "unrecognized_name",
        113 => "bad_certificate_status_response",
        114 => "bad_certificate_hash_value",
        115 => "unknown_psk_identity",
        116 => "certificate_required",
        120 => "no_application_protocol",
        _ => return format!("unknown_alert_{code}"),
    };
    n.to_string()
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

/// Reads from the socket and keeps a copy of the first bytes.
struct Sniffer<'a> {
    sock: &'a TcpStream,
    seen: &'a mut Vec<u8>,
}

impl Read for Sniffer<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (&*self.sock).read(buf)?;
        let room = SNIFF_LEN.saturating_sub(self.seen.len());
        self.seen.extend_from_slice(&buf[..n.min(room)]);
        Ok(n)
    }
}

/// `10`, `1.5`: the timeout as the user wrote it, more or less.
fn secs(d: Duration) -> String {
    let v = (d.as_secs_f64() * 10.0).round() / 10.0;
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Resolve the target, bounded by the deadline (getaddrinfo itself has no
/// timeout, so it runs on a helper thread).
fn resolve(target: &Target, timeout: Duration) -> Result<Vec<SocketAddr>, CaptureError> {
    if let Some(ip) = target.ip() {
        return Ok(vec![SocketAddr::new(ip, target.port)]);
    }
    let host = target.host.clone();
    let port = target.port;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = (host.as_str(), port)
            .to_socket_addrs()
            .map(|it| it.collect::<Vec<_>>());
        let _ = tx.send(r);
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(CaptureError::Dns {
            host: target.host.clone(),
            detail: "no addresses".into(),
        }),
        Ok(Err(e)) => Err(CaptureError::Dns {
            host: target.host.clone(),
            detail: e.to_string(),
        }),
        Err(_) => Err(CaptureError::DnsTimeout {
            host: target.host.clone(),
            secs: secs(timeout),
        }),
    }
}

fn remaining(deadline: Instant) -> Option<Duration> {
    let now = Instant::now();
    if now >= deadline {
        None
    } else {
        Some(deadline - now)
    }
}

/// Open the TCP connection (trying every resolved address in turn).
fn connect(
    addrs: &[SocketAddr],
    deadline: Instant,
    timeout: Duration,
) -> Result<TcpStream, CaptureError> {
    let mut last = None;
    for addr in addrs {
        let Some(left) = remaining(deadline) else {
            break;
        };
        match TcpStream::connect_timeout(addr, left) {
            Ok(s) => return Ok(s),
            Err(e) => {
                let display = addr.to_string();
                last = Some(match e.kind() {
                    io::ErrorKind::ConnectionRefused => CaptureError::Refused { addr: display },
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => {
                        CaptureError::ConnectTimeout {
                            addr: display,
                            secs: secs(timeout),
                        }
                    }
                    _ => CaptureError::Connect {
                        addr: display,
                        detail: e.to_string(),
                    },
                });
            }
        }
    }
    Err(last.unwrap_or_else(|| CaptureError::ConnectTimeout {
        addr: addrs.first().map(|a| a.to_string()).unwrap_or_default(),
        secs: secs(timeout),
    }))
}

fn client_config(
    chain: Arc<Mutex<Option<Vec<Vec<u8>>>>>,
    sni: bool,
    tls12_only: bool,
) -> Result<rustls::ClientConfig, CaptureError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&'static rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| CaptureError::Handshake {
            addr: String::new(),
            detail: format!("TLS configuration: {e}"),
        })?;
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier { chain }))
        .with_no_client_auth();
    config.enable_sni = sni;
    Ok(config)
}

/// Does the server complete a TLS 1.3 handshake? (Used to tell a TLS
/// 1.3-only listener from other refusals; bounded by `deadline`.)
pub fn accepts_tls13(addrs: &[SocketAddr], server_name: Option<&str>, deadline: Instant) -> bool {
    let Ok(sock) = crate::tls::net::connect(addrs, deadline) else {
        return false;
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let Ok(builder) = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
    else {
        return false;
    };
    let dns = server_name.and_then(|n| match ServerName::try_from(n.to_string()) {
        Ok(sn @ ServerName::DnsName(_)) => Some(sn),
        _ => None,
    });
    let mut config = builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(RecordingVerifier {
            chain: Arc::new(Mutex::new(None)),
        }))
        .with_no_client_auth();
    config.enable_sni = dns.is_some();
    let peer = sock
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let name = dns.unwrap_or(ServerName::IpAddress(peer.into()));
    let Ok(mut conn) = rustls::ClientConnection::new(Arc::new(config), name) else {
        return false;
    };
    let mut seen = Vec::new();
    let ok = drive_handshake(&mut conn, &sock, &mut seen, deadline).is_ok()
        && conn.protocol_version() == Some(rustls::ProtocolVersion::TLSv1_3);
    let _ = sock.shutdown(std::net::Shutdown::Both);
    ok
}

/// Connect and capture the chain.
pub fn capture(opts: &CaptureOptions) -> Result<Captured, CaptureError> {
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let addrs = resolve(&opts.target, opts.timeout)?;
    let resolved = Instant::now();
    let sock = connect(&addrs, deadline, opts.timeout)?;
    let connected = Instant::now();
    let peer = sock.peer_addr().unwrap_or_else(|_| {
        addrs
            .first()
            .copied()
            .unwrap_or(SocketAddr::from(([0, 0, 0, 0], 0)))
    });
    let addr = opts.target.display();
    let _ = sock.set_nodelay(true);

    // SNI: only a DNS name is ever sent. An IP literal (or --no-sni) sends
    // none, exactly like a device that calls connect(IPAddress)
    // (esp8266-tls.md §2.2); rustls still needs a ServerName, and with
    // enable_sni off the peer's address serves.
    let fallback = ServerName::IpAddress(peer.ip().into());
    let (server_name, sni_sent) = match &opts.sni {
        Sni::Off => (fallback, None),
        Sni::Name(n) => match ServerName::try_from(n.clone()) {
            Ok(sn @ ServerName::DnsName(_)) => (sn, Some(n.clone())),
            Ok(sn) => (sn, None),
            Err(_) => return Err(CaptureError::BadServerName { name: n.clone() }),
        },
        Sni::Auto => match ServerName::try_from(opts.target.host.clone()) {
            Ok(sn @ ServerName::DnsName(_)) => (sn, Some(opts.target.host.clone())),
            _ => (fallback, None),
        },
    };

    let chain_slot = Arc::new(Mutex::new(None));
    let config = client_config(chain_slot.clone(), sni_sent.is_some(), opts.tls12_only)?;
    let mut conn = rustls::ClientConnection::new(Arc::new(config), server_name).map_err(|e| {
        CaptureError::Handshake {
            addr: addr.clone(),
            detail: e.to_string(),
        }
    })?;

    let mut seen = Vec::new();
    let outcome = drive_handshake(&mut conn, &sock, &mut seen, deadline);
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1000.0;
    let times = PhaseTimes {
        resolve_ms: ms(start, resolved),
        connect_ms: ms(resolved, connected),
        handshake_ms: ms(connected, Instant::now()),
    };
    let chain = chain_slot.lock().ok().and_then(|mut s| s.take());
    let tls_version = conn.protocol_version().map(|v| match v {
        rustls::ProtocolVersion::TLSv1_3 => "TLS 1.3".to_string(),
        rustls::ProtocolVersion::TLSv1_2 => "TLS 1.2".to_string(),
        other => format!("{other:?}"),
    });
    let cipher_suite = conn.negotiated_cipher_suite().map(|s| {
        let suite = s.suite();
        suite
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("0x{:04x}", u16::from(suite)))
    });

    match (outcome, chain) {
        (Ok(()), Some(chain)) => {
            conn.send_close_notify();
            let _ = conn.write_tls(&mut &sock);
            Ok(Captured {
                chain,
                peer,
                servername: sni_sent,
                tls_version,
                cipher_suite,
                handshake_error: None,
                times,
                via_device_hello: false,
            })
        }
        (Ok(()), None) => Err(CaptureError::NoCertificate { addr }),
        // The certificates arrived, then the handshake failed (typically a
        // server that requires a client certificate): the chain is what the
        // user asked for, so report it with a note.
        (Err(e), Some(chain)) => Ok(Captured {
            chain,
            peer,
            servername: sni_sent,
            tls_version,
            cipher_suite,
            handshake_error: Some(e.to_string()),
            times,
            via_device_hello: false,
        }),
        (Err(HandshakeFailure::Eof), None) if seen.is_empty() => {
            // A plain MQTT listener hangs up on a ClientHello (mosquitto
            // reads 0x16 as a malformed CONNECT). Ask it in its own language.
            Err(match sniff_plain(&addrs, deadline) {
                Some(e) => e.with_addr(&addr),
                None => CaptureError::ClosedSilently { addr },
            })
        }
        (Err(e), None) => {
            if wants_device_hello(&e) {
                let sni = sni_sent.as_deref();
                if let Ok(flight) = capture_legacy(&addrs, deadline, sni) {
                    // Only TLS 1.2: older versions stay reported as such.
                    if flight.version == 0x0303 {
                        return Ok(Captured {
                            chain: flight.chain,
                            peer,
                            servername: sni_sent,
                            tls_version: Some(version_name(flight.version)),
                            cipher_suite: Some(suite_name(flight.suite)),
                            handshake_error: None,
                            times: PhaseTimes {
                                handshake_ms: ms(connected, Instant::now()),
                                ..times
                            },
                            via_device_hello: true,
                        });
                    }
                }
            }
            Err(classify_failure(e, &seen, &addr, opts))
        }
    }
}

/// A refusal that may only mean "no suite rustls implements" (RSA key
/// exchange, CBC, CCM): worth asking again the way a device does.
fn wants_device_hello(e: &HandshakeFailure) -> bool {
    use rustls::AlertDescription as A;
    matches!(
        e,
        HandshakeFailure::Tls(rustls::Error::AlertReceived(
            A::HandshakeFailure | A::InsufficientSecurity | A::IllegalParameter
        )) | HandshakeFailure::Tls(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::NoCipherSuitesInCommon
        )) | HandshakeFailure::Tls(rustls::Error::PeerMisbehaved(_))
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

fn drive_handshake(
    conn: &mut rustls::ClientConnection,
    sock: &TcpStream,
    seen: &mut Vec<u8>,
    deadline: Instant,
) -> Result<(), HandshakeFailure> {
    loop {
        while conn.wants_write() {
            let Some(left) = remaining(deadline) else {
                return Err(HandshakeFailure::Timeout);
            };
            let _ = sock.set_write_timeout(Some(left));
            match conn.write_tls(&mut &*sock) {
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
        let mut sniffer = Sniffer { sock, seen };
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

/// Turn a failed handshake plus the first bytes the server sent into the
/// most specific explanation we have.
fn classify_failure(
    failure: HandshakeFailure,
    seen: &[u8],
    addr: &str,
    opts: &CaptureOptions,
) -> CaptureError {
    let timeout = opts.timeout;
    // Not a TLS record at all: say what it is instead.
    if let Some(plain) = classify_bytes(seen) {
        return plain.with_addr(addr);
    }
    match failure {
        HandshakeFailure::Timeout if seen.is_empty() => CaptureError::NoAnswer {
            addr: addr.to_string(),
            secs: secs(timeout),
        },
        HandshakeFailure::Timeout => CaptureError::Handshake {
            addr: addr.to_string(),
            detail: format!(
                "the server started the handshake but stopped answering within {} s",
                secs(timeout)
            ),
        },
        HandshakeFailure::Eof => CaptureError::ClosedDuringHandshake {
            addr: addr.to_string(),
        },
        HandshakeFailure::Io(e) => CaptureError::Handshake {
            addr: addr.to_string(),
            detail: e.to_string(),
        },
        HandshakeFailure::Tls(rustls::Error::AlertReceived(a)) => {
            // A TLS 1.0/1.1-only server answers our 1.2/1.3 ClientHello with
            // protocol_version; the help line names that cause.
            let code = u8::from(a);
            if code == 70 && opts.tls12_only {
                return CaptureError::NoTls12 {
                    addr: addr.to_string(),
                    detail: format!("alert {} ({code})", alert_name(code)),
                };
            }
            if code == 70 {
                return CaptureError::OldTls {
                    addr: addr.to_string(),
                    detail: format!("it answered with alert {} ({code})", alert_name(code)),
                };
            }
            CaptureError::Alert {
                addr: addr.to_string(),
                name: alert_name(code),
                code,
            }
        }
        HandshakeFailure::Tls(rustls::Error::PeerIncompatible(
            rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13,
        )) => CaptureError::OldTls {
            addr: addr.to_string(),
            detail: "its ServerHello selects an older version".into(),
        },
        HandshakeFailure::Tls(e) => {
            if let Some(v) = old_tls_server_hello(seen) {
                return CaptureError::OldTls {
                    addr: addr.to_string(),
                    detail: format!("its ServerHello selects version 0x{v:04x}"),
                };
            }
            CaptureError::Handshake {
                addr: addr.to_string(),
                detail: e.to_string(),
            }
        }
    }
}

/// A ServerHello record that selects TLS 1.1 or older.
fn old_tls_server_hello(seen: &[u8]) -> Option<u16> {
    // record: 0x16 ver(2) len(2) | handshake: type 2, len(3), version(2)
    if seen.len() >= 11 && seen[0] == 0x16 && seen[5] == 0x02 {
        let v = u16::from_be_bytes([seen[9], seen[10]]);
        if v < 0x0303 {
            return Some(v);
        }
    }
    None
}

/// A protocol recognised from its first bytes, without the address yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognised {
    PlainMqtt,
    Http(String),
    Ssh(String),
    Other(usize, String),
}

impl Recognised {
    fn with_addr(self, addr: &str) -> CaptureError {
        let addr = addr.to_string();
        match self {
            Recognised::PlainMqtt => CaptureError::PlainMqtt { addr },
            Recognised::Http(status) => CaptureError::Http { addr, status },
            Recognised::Ssh(banner) => CaptureError::Ssh { addr, banner },
            Recognised::Other(len, preview) => CaptureError::NotTls { addr, len, preview },
        }
    }
}

/// Classify a server's first bytes when they are not a TLS record. `None`
/// means "looks like TLS" (or nothing arrived).
pub fn classify_bytes(seen: &[u8]) -> Option<Recognised> {
    let first = *seen.first()?;
    // TLS record content types 20-24 followed by major version 3.
    if (0x14..=0x18).contains(&first) && seen.get(1).map_or(true, |v| *v == 3) {
        return None;
    }
    // MQTT CONNACK: type 2, remaining length 2 (3.1.1) or more (5.0).
    if first == 0x20 && seen.get(1).is_some_and(|l| *l >= 2) {
        return Some(Recognised::PlainMqtt);
    }
    if seen.starts_with(b"HTTP/") {
        let line = first_line(seen);
        return Some(Recognised::Http(line));
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
        .all(|b| b.is_ascii_graphic() || *b == b' ' || *b == b'\r' || *b == b'\n' || *b == b'\t');
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
/// to that is recognised as well). Bounded by the same deadline.
fn sniff_plain(addrs: &[SocketAddr], deadline: Instant) -> Option<Recognised> {
    let left = remaining(deadline)?.min(Duration::from_secs(3));
    let addr = addrs.first()?;
    let mut sock = TcpStream::connect_timeout(addr, left).ok()?;
    let _ = sock.set_nodelay(true);
    let _ = sock.set_write_timeout(Some(left));
    sock.write_all(MQTT_CONNECT).ok()?;
    let stop = Instant::now() + left;
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
    fn targets_parse() {
        let t = |s: &str| parse_target(s, 8883).map(|t| (t.host, t.port));
        assert_eq!(t("example.com"), Ok(("example.com".into(), 8883)));
        assert_eq!(t("example.com:1234"), Ok(("example.com".into(), 1234)));
        assert_eq!(t("[::1]:8884"), Ok(("::1".into(), 8884)));
        assert_eq!(t("[::1]"), Ok(("::1".into(), 8883)));
        assert_eq!(t("::1"), Ok(("::1".into(), 8883)));
        assert_eq!(t("fe80::1:2"), Ok(("fe80::1:2".into(), 8883)));
        assert_eq!(t("mqtts://h:1"), Ok(("h".into(), 1)));
        assert!(t("h:0").is_err());
        assert!(t("h:99999").is_err());
        assert!(t("h:x").is_err());
        assert!(t(":1").is_err());
        assert!(t("").is_err());
        assert!(t("[::1").is_err());
        assert!(t("[nope]:1").is_err());
        assert!(t("a:b:c").is_err());
    }

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
        // Never panics, whatever arrives.
        let mut x: u32 = 12345;
        for len in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (x >> 16) as u8
                })
                .collect();
            let _ = classify_bytes(&bytes);
            let _ = old_tls_server_hello(&bytes);
        }
    }

    #[test]
    fn alert_names_follow_the_rfc() {
        assert_eq!(alert_name(40), "handshake_failure");
        assert_eq!(alert_name(70), "protocol_version");
        assert_eq!(alert_name(112), "unrecognized_name");
        assert_eq!(alert_name(200), "unknown_alert_200");
    }

    fn flight(records: &[(u8, Vec<u8>)]) -> Vec<u8> {
        let mut out = Vec::new();
        for (kind, payload) in records {
            out.extend([*kind, 3, 3]);
            out.extend((payload.len() as u16).to_be_bytes());
            out.extend(payload);
        }
        out
    }

    fn hs(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend(&(body.len() as u32).to_be_bytes()[1..]);
        m.extend(body);
        m
    }

    #[test]
    fn first_flight_yields_the_chain() {
        let mut sh = vec![3, 3];
        sh.extend([0u8; 32]);
        sh.push(0); // session id
        sh.extend([0x00, 0x2f, 0x00]);
        let certs = [vec![1u8, 2, 3], vec![4u8; 300]];
        let mut list: Vec<u8> = Vec::new();
        for c in &certs {
            list.extend(&(c.len() as u32).to_be_bytes()[1..]);
            list.extend(c);
        }
        let mut cert_body = (list.len() as u32).to_be_bytes()[1..].to_vec();
        cert_body.extend(list);
        let mut handshake = hs(2, &sh);
        handshake.extend(hs(11, &cert_body));
        // Split across two records, as servers do.
        let (a, b) = handshake.split_at(40);
        let bytes = flight(&[(22, a.to_vec()), (22, b.to_vec())]);
        let got = parse_first_flight(&bytes).unwrap();
        assert_eq!(got.version, 0x0303);
        assert_eq!(suite_name(got.suite), "TLS_RSA_WITH_AES_128_CBC_SHA");
        assert_eq!(got.chain, certs.to_vec());
        // Every prefix is "incomplete" or an error, never a panic.
        for n in 0..bytes.len() {
            assert!(parse_first_flight(&bytes[..n]).is_err());
        }
        assert_eq!(
            parse_first_flight(&flight(&[(21, vec![2, 40])])),
            Err(FlightError::Alert(40))
        );
    }

    #[test]
    fn first_flight_parser_survives_garbage() {
        let mut x: u64 = 7;
        for len in 0..2000 {
            let mut bytes: Vec<u8> = (0..len % 400)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            if len % 2 == 0 && bytes.len() > 5 {
                bytes[0] = 22;
                bytes[3] = 0;
                bytes[4] = (bytes.len() - 5) as u8;
            }
            let _ = parse_first_flight(&bytes);
        }
    }

    #[test]
    fn device_hello_is_a_well_formed_record() {
        let hello = device_client_hello(Some("broker.example"));
        assert_eq!(&hello[..3], &[0x16, 0x03, 0x01]);
        let len = usize::from(u16::from_be_bytes([hello[3], hello[4]]));
        assert_eq!(len, hello.len() - 5);
        assert_eq!(hello[5], 1);
        // The device's 45 suites, 90 bytes, in order (esp8266-tls.md §3.2).
        let suites_at = 5 + 4 + 2 + 32 + 1;
        assert_eq!(&hello[suites_at..suites_at + 2], &[0, 90]);
        assert_eq!(
            &hello[suites_at + 2..suites_at + 6],
            &[0xcc, 0xa9, 0xcc, 0xa8]
        );
        assert!(hello.windows(14).any(|w| w == b"broker.example"));
    }

    #[test]
    fn mqtt_connect_length_is_consistent() {
        assert_eq!(MQTT_CONNECT[1] as usize, MQTT_CONNECT.len() - 2);
    }
}

// ---------------------------------------------------------------------------
// Fallback for servers that only negotiate suites rustls lacks
//
// A broker configured for ESP8266 clients may allow only RSA key exchange or
// CBC suites (what `setCiphersLessSecure()` asks for, esp8266-tls.md §3.2),
// which rustls does not implement. In TLS 1.2 the Certificate message travels
// in clear, so a ClientHello offering exactly the device's 45 suites and
// reading the server's first flight is enough to capture the chain. Nothing
// after the certificates is needed, and nothing is decrypted.

/// BearSSL's default client suites, in ClientHello order, with IANA names
/// (esp8266-tls.md §3.2).
const DEVICE_SUITES: &[(u16, &str)] = &[
    (0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"),
    (0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
    (0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"),
    (0xC0AC, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"),
    (0xC0AD, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"),
    (0xC0AE, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"),
    (0xC0AF, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"),
    (0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"),
    (0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
    (0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
    (0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"),
    (0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"),
    (0xC031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"),
    (0xC02E, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384"),
    (0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"),
    (0xC025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256"),
    (0xC029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256"),
    (0xC026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384"),
    (0xC02A, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384"),
    (0xC004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA"),
    (0xC00E, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"),
    (0xC005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA"),
    (0xC00F, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA"),
    (0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256"),
    (0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384"),
    (0xC09C, "TLS_RSA_WITH_AES_128_CCM"),
    (0xC09D, "TLS_RSA_WITH_AES_256_CCM"),
    (0xC0A0, "TLS_RSA_WITH_AES_128_CCM_8"),
    (0xC0A1, "TLS_RSA_WITH_AES_256_CCM_8"),
    (0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256"),
    (0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256"),
    (0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA"),
    (0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"),
    (0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    (0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0xC003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA"),
    (0xC00D, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA"),
    (0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
];

/// IANA name of a suite from the device's list, or its hex value.
fn suite_name(id: u16) -> String {
    DEVICE_SUITES
        .iter()
        .find(|(i, _)| *i == id)
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| format!("0x{id:04x}"))
}

/// A TLS 1.2 ClientHello offering the device's suites, groups and
/// signature algorithms (esp8266-tls.md §3.2, §3.4), with SNI when given.
fn device_client_hello(sni: Option<&str>) -> Vec<u8> {
    fn u16be(v: usize) -> [u8; 2] {
        (v as u16).to_be_bytes()
    }
    let mut random = [0u8; 32];
    if getrandom::getrandom(&mut random).is_err() {
        // Only the server's certificate is wanted; a fixed random is harmless.
        random = [0x5a; 32];
    }
    let mut ext = Vec::new();
    if let Some(name) = sni.filter(|n| n.len() <= 255) {
        let n = name.as_bytes();
        ext.extend([0x00, 0x00]);
        ext.extend(u16be(n.len() + 5));
        ext.extend(u16be(n.len() + 3));
        ext.push(0x00);
        ext.extend(u16be(n.len()));
        ext.extend(n);
    }
    // supported_groups: x25519, secp256r1, secp384r1, secp521r1.
    ext.extend([
        0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19,
    ]);
    // ec_point_formats: uncompressed.
    ext.extend([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ECDSA then RSA, SHA-256/224/384/512/1.
    let sigs: [u16; 10] = [
        0x0403, 0x0303, 0x0503, 0x0603, 0x0203, 0x0401, 0x0301, 0x0501, 0x0601, 0x0201,
    ];
    ext.extend([0x00, 0x0d]);
    ext.extend(u16be(sigs.len() * 2 + 2));
    ext.extend(u16be(sigs.len() * 2));
    for s in sigs {
        ext.extend(s.to_be_bytes());
    }

    let mut body = vec![0x03, 0x03];
    body.extend(random);
    body.push(0x00); // no session id
    body.extend(u16be(DEVICE_SUITES.len() * 2));
    for (id, _) in DEVICE_SUITES {
        body.extend(id.to_be_bytes());
    }
    body.extend([0x01, 0x00]); // compression: null
    body.extend(u16be(ext.len()));
    body.extend(ext);

    let mut hs = vec![0x01, 0x00];
    hs.extend(u16be(body.len()));
    hs.extend(body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend(u16be(hs.len()));
    rec.extend(hs);
    rec
}

/// What the server's clear-text first flight says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyFlight {
    pub version: u16,
    pub suite: u16,
    pub chain: Vec<Vec<u8>>,
}

/// Why the first flight did not yield a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightError {
    /// More bytes are needed.
    Incomplete,
    Alert(u8),
    Malformed(&'static str),
}

/// Upper bound on what we buffer from the server (a chain of a few
/// certificates is far below; a hostile peer cannot make us hoard memory).
const MAX_FLIGHT: usize = 256 * 1024;

/// Parse TLS records (clear text, TLS 1.0-1.2) up to the Certificate
/// message. Pure function of the bytes received so far; never panics.
pub fn parse_first_flight(bytes: &[u8]) -> Result<LegacyFlight, FlightError> {
    let mut handshake = Vec::new();
    let mut rest = bytes;
    let mut server_hello: Option<(u16, u16)> = None;
    loop {
        // Parse whatever complete handshake messages we already have.
        let mut hs = handshake.as_slice();
        while hs.len() >= 4 {
            let kind = hs[0];
            let len = (usize::from(hs[1]) << 16) | (usize::from(hs[2]) << 8) | usize::from(hs[3]);
            let Some(msg) = hs.get(4..4 + len) else {
                break;
            };
            match kind {
                2 => {
                    let version = u16::from_be_bytes([
                        *msg.first().ok_or(FlightError::Malformed("ServerHello"))?,
                        *msg.get(1).ok_or(FlightError::Malformed("ServerHello"))?,
                    ]);
                    let sid_len =
                        usize::from(*msg.get(34).ok_or(FlightError::Malformed("ServerHello"))?);
                    let suite = msg
                        .get(35 + sid_len..37 + sid_len)
                        .ok_or(FlightError::Malformed("ServerHello"))?;
                    server_hello = Some((version, u16::from_be_bytes([suite[0], suite[1]])));
                }
                11 => {
                    let (version, suite) = server_hello
                        .ok_or(FlightError::Malformed("Certificate before ServerHello"))?;
                    let total = msg.get(..3).ok_or(FlightError::Malformed("Certificate"))?;
                    let total = (usize::from(total[0]) << 16)
                        | (usize::from(total[1]) << 8)
                        | usize::from(total[2]);
                    let mut list = msg
                        .get(3..3 + total)
                        .ok_or(FlightError::Malformed("Certificate"))?;
                    let mut chain = Vec::new();
                    while !list.is_empty() {
                        let l = list.get(..3).ok_or(FlightError::Malformed("Certificate"))?;
                        let l = (usize::from(l[0]) << 16)
                            | (usize::from(l[1]) << 8)
                            | usize::from(l[2]);
                        let der = list
                            .get(3..3 + l)
                            .ok_or(FlightError::Malformed("Certificate"))?;
                        chain.push(der.to_vec());
                        list = &list[3 + l..];
                    }
                    if chain.is_empty() {
                        return Err(FlightError::Malformed("empty Certificate"));
                    }
                    return Ok(LegacyFlight {
                        version,
                        suite,
                        chain,
                    });
                }
                // ServerHelloDone / ServerKeyExchange before any Certificate:
                // an anonymous or PSK suite, nothing to capture.
                12 | 14 => return Err(FlightError::Malformed("no Certificate message")),
                _ => {}
            }
            hs = &hs[4 + len..];
        }
        // Next record.
        if rest.len() < 5 {
            return Err(FlightError::Incomplete);
        }
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if len > 16384 + 2048 {
            return Err(FlightError::Malformed("oversized record"));
        }
        let Some(payload) = rest.get(5..5 + len) else {
            return Err(FlightError::Incomplete);
        };
        match rest[0] {
            22 => handshake.extend_from_slice(payload),
            21 => {
                return Err(FlightError::Alert(*payload.get(1).unwrap_or(&0)));
            }
            _ => return Err(FlightError::Malformed("unexpected record type")),
        }
        rest = &rest[5 + len..];
    }
}

/// Capture with the device's own ClientHello (see the section comment).
fn capture_legacy(
    addrs: &[SocketAddr],
    deadline: Instant,
    sni: Option<&str>,
) -> Result<LegacyFlight, FlightError> {
    let left = remaining(deadline).ok_or(FlightError::Incomplete)?;
    let addr = addrs.first().ok_or(FlightError::Incomplete)?;
    let mut sock = TcpStream::connect_timeout(addr, left).map_err(|_| FlightError::Incomplete)?;
    let _ = sock.set_nodelay(true);
    let _ = sock.set_write_timeout(Some(left));
    sock.write_all(&device_client_hello(sni))
        .map_err(|_| FlightError::Incomplete)?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        match parse_first_flight(&buf) {
            Err(FlightError::Incomplete) => {}
            other => return other,
        }
        if buf.len() > MAX_FLIGHT {
            return Err(FlightError::Malformed("first flight too large"));
        }
        let left = remaining(deadline).ok_or(FlightError::Incomplete)?;
        let _ = sock.set_read_timeout(Some(left));
        match sock.read(&mut chunk) {
            Ok(0) | Err(_) => return Err(FlightError::Incomplete),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

fn version_name(v: u16) -> String {
    match v {
        0x0301 => "TLS 1.0".into(),
        0x0302 => "TLS 1.1".into(),
        0x0303 => "TLS 1.2".into(),
        0x0304 => "TLS 1.3".into(),
        other => format!("0x{other:04x}"),
    }
}
