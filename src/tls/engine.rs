//! The device's own TLS engine on a real connection: BearSSL, configured
//! as the ESP8266 core configures `WiFiClientSecure` (see the
//! `espmqtt-bearssl` crate and docs/PROBE.md), driven by a Rust I/O loop
//! over a `TcpStream` with the run's single deadline.
//!
//! Every byte crosses the loop, so both directions are tapped: the analysis
//! explains the very flight the engine judged. Whatever BearSSL reports is
//! the device's TLS error. [`check`] answers "would this device
//! configuration accept that broker" for several configurations in a row
//! (committed, staged and next trust, for instance).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use espmqtt_bearssl as bearssl;
use x509_parser::prelude::FromDer;

use super::clienthello::CipherBuild;
use super::net::{self, left, NetError};
use super::TrustMode;

pub use bearssl::{ERR_CORE_OOM, ERR_IO};

/// Largest number of bytes kept per tap direction (the analysis needs the
/// handshake and the sizes of the records after it, not megabytes).
const TAP_LIMIT: usize = 256 * 1024;

/// A trust anchor as the device holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// A certificate given to `setTrustAnchors()` (DER).
    Certificate(Vec<u8>),
    /// A root store entry without a certificate: subject DN (DER, with its
    /// SEQUENCE header) and SubjectPublicKeyInfo (DER).
    Key { subject: Vec<u8>, spki: Vec<u8> },
}

impl Anchor {
    /// Subject DN (DER), as BearSSL compares it with issuer names.
    pub fn subject(&self) -> Option<Vec<u8>> {
        match self {
            Anchor::Certificate(der) => x509_parser::parse_x509_certificate(der)
                .ok()
                .map(|(_, c)| c.tbs_certificate.subject.as_raw().to_vec()),
            Anchor::Key { subject, .. } => Some(subject.clone()),
        }
    }

    /// A readable name (the subject).
    pub fn label(&self) -> String {
        self.subject()
            .and_then(|dn| {
                x509_parser::x509::X509Name::from_der(&dn)
                    .ok()
                    .map(|(_, n)| n.to_string())
            })
            .unwrap_or_else(|| "(undecodable certificate)".into())
    }
}

/// How the device authenticates the broker.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceTrust {
    pub mode: TrustMode,
    /// `ca` mode.
    pub anchors: Vec<Anchor>,
    /// `fingerprint` mode: tried in this order, one connection each, as the
    /// firmware does (current, then next).
    pub fingerprints: Vec<[u8; 20]>,
    /// `pubkey` mode: the pinned SubjectPublicKeyInfo (DER).
    pub pubkey_spki: Option<Vec<u8>>,
    /// The device's clock (Unix seconds) for `ca` mode.
    pub time: i64,
}

/// The device's client certificate and key (kept in memory only).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// DER certificates, leaf first.
    pub chain: Vec<Vec<u8>>,
    /// Private key DER (PKCS#1, SEC1 or PKCS#8).
    pub key: Vec<u8>,
}

impl std::fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("chain", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Everything the firmware configures before `connect()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceTls {
    pub ciphers: CipherBuild,
    /// `setSSLVersion(min, max)`, BearSSL numbers (0x0301-0x0303).
    pub versions: (u16, u16),
    /// `setBufferSizes(recv, xmit)`.
    pub buffers: (u16, u16),
    pub trust: DeviceTrust,
    pub client: Option<ClientIdentity>,
    /// The name passed to `connect()` (SNI and name check); `None` models
    /// `connect(IPAddress)`.
    pub server_name: Option<String>,
}

impl DeviceTls {
    /// The max_fragment_length BearSSL requests with these buffers.
    pub fn requested_mfl(&self) -> Option<usize> {
        bearssl::requested_mfl(self.buffers.0 as usize, self.buffers.1 as usize)
    }

    /// The binding's configuration for one connection attempt
    /// (`fingerprint` selects which configured fingerprint to use).
    fn engine_config(&self, fingerprint: usize) -> Result<bearssl::Config, SetupError> {
        let trust = match self.trust.mode {
            TrustMode::Ca => bearssl::Trust::Ca {
                anchors: self
                    .trust
                    .anchors
                    .iter()
                    .filter_map(|a| match a {
                        Anchor::Certificate(der) => Some(bearssl::Anchor::Certificate(der.clone())),
                        Anchor::Key { subject, spki } => {
                            public_key(spki).ok().map(|key| bearssl::Anchor::Key {
                                dn: subject.clone(),
                                key,
                                ca: true,
                            })
                        }
                    })
                    .collect(),
                time: Some(self.trust.time),
            },
            TrustMode::Pubkey => {
                let spki = self
                    .trust
                    .pubkey_spki
                    .as_deref()
                    .ok_or(SetupError::Missing("the pinned public key"))?;
                bearssl::Trust::KnownKey(public_key(spki)?)
            }
            TrustMode::Fingerprint => bearssl::Trust::Fingerprint(
                *self
                    .trust
                    .fingerprints
                    .get(fingerprint)
                    .ok_or(SetupError::Missing("a fingerprint"))?,
            ),
            TrustMode::Insecure => bearssl::Trust::Insecure,
        };
        Ok(bearssl::Config {
            suites: self.ciphers.suites().to_vec(),
            basic: self.ciphers == CipherBuild::Basic,
            versions: self.versions,
            buffers: (self.buffers.0 as usize, self.buffers.1 as usize),
            trust,
            client_cert: self.client.as_ref().map(|c| bearssl::ClientCert {
                chain: c.chain.clone(),
                key: c.key.clone(),
                ec_usages: bearssl::KEYTYPE_KEYX | bearssl::KEYTYPE_SIGN,
                ec_issuer_key_type: bearssl::KEYTYPE_EC,
            }),
            server_name: self.server_name.clone(),
        })
    }
}

/// Why an engine was not started. Most are configurations the device
/// cannot use either; the message says what the device would do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("the configuration lacks {0}")]
    Missing(&'static str),
    #[error("the pinned public key is {0}, which the device's PublicKey cannot hold (RSA or EC P-256/P-384/P-521 only)")]
    UnsupportedKey(String),
    #[error("{0}")]
    Engine(String),
    /// The core gives up in `connect()` before sending anything;
    /// `getLastSSLError()` then returns `code`.
    #[error(
        "the core refuses this combination before connecting (getLastSSLError() {code}): {why}"
    )]
    CoreRefuses { code: i32, why: String },
}

/// A SubjectPublicKeyInfo (DER) as BearSSL's `PublicKey` holds it.
pub fn public_key(spki: &[u8]) -> Result<bearssl::PublicKey, SetupError> {
    use x509_parser::public_key::PublicKey as P;
    let (_, info) = x509_parser::x509::SubjectPublicKeyInfo::from_der(spki)
        .map_err(|_| SetupError::UnsupportedKey("not a SubjectPublicKeyInfo".into()))?;
    let strip = |b: &[u8]| {
        let first = b.iter().position(|x| *x != 0).unwrap_or(b.len());
        b[first..].to_vec()
    };
    match info.parsed() {
        Ok(P::RSA(k)) => Ok(bearssl::PublicKey::Rsa {
            n: strip(k.modulus),
            e: strip(k.exponent),
        }),
        Ok(P::EC(point)) => {
            let curve = info
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            let id = match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => 23,
                Some("1.3.132.0.34") => 24,
                Some("1.3.132.0.35") => 25,
                other => {
                    return Err(SetupError::UnsupportedKey(format!(
                        "an EC key on curve {}",
                        other.unwrap_or("(unnamed)")
                    )))
                }
            };
            Ok(bearssl::PublicKey::Ec {
                curve: id,
                q: point.data().to_vec(),
            })
        }
        _ => Err(SetupError::UnsupportedKey(super::names::algorithm_name(
            &info.algorithm.algorithm.to_id_string(),
        ))),
    }
}

/// How the transport under the engine ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportEnd {
    /// Still open.
    Open,
    /// The peer closed the connection.
    Closed,
    /// The run's deadline passed while waiting for the peer.
    Timeout,
    /// A socket error.
    Failed(String),
}

/// Both directions of one connection, as sent and received.
#[derive(Debug, Clone, Default)]
pub struct Tap {
    pub sent: Vec<u8>,
    pub received: Vec<u8>,
}

impl Tap {
    fn push(v: &mut Vec<u8>, b: &[u8]) {
        let room = TAP_LIMIT.saturating_sub(v.len());
        v.extend_from_slice(&b[..b.len().min(room)]);
    }
}

/// The result of the device's handshake.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// What `getLastSSLError()` reports: 0 when the handshake completed,
    /// BearSSL's error otherwise (256 + alert for a received fatal alert);
    /// [`ERR_IO`] when the transport ended under a still-waiting engine.
    pub error: i32,
    pub completed: bool,
    /// Negotiated version and suite (0 when the ServerHello never came).
    pub version: u16,
    pub suite: u16,
    pub transport: TransportEnd,
    pub millis: u64,
    /// Which fingerprint (0-based) this attempt used, in `fingerprint` mode.
    pub fingerprint_index: Option<usize>,
    /// Anchors the device's `X509List` would have refused (indexes).
    pub rejected_anchors: Vec<usize>,
    /// The client key did not decode, so the device has no client certificate.
    pub client_key_rejected: bool,
}

/// Why application I/O stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppError {
    /// The wait ended at the given deadline.
    Timeout,
    /// The engine closed (its error: 0 after a clean close_notify).
    Closed { error: i32 },
    /// The transport ended or failed.
    Transport(TransportEnd),
}

/// One connection driven by the device's engine.
pub struct Session {
    engine: bearssl::Client,
    sock: TcpStream,
    /// The address connected to, read at connect time (a reset socket no
    /// longer knows it).
    peer: Option<SocketAddr>,
    deadline: Instant,
    pub tap: Tap,
    transport: TransportEnd,
    completed: bool,
}

impl Session {
    /// Set up the engine for `cfg` on a connected socket.
    fn start(
        sock: TcpStream,
        cfg: &bearssl::Config,
        deadline: Instant,
    ) -> Result<Session, SetupError> {
        let engine = start_engine(cfg)?;
        Ok(Session {
            engine,
            peer: sock.peer_addr().ok(),
            sock,
            deadline,
            tap: Tap::default(),
            transport: TransportEnd::Open,
            completed: false,
        })
    }

    /// The device's view of the error right now (see [`Handshake::error`]).
    pub fn error(&self) -> i32 {
        match self.engine.last_error() {
            0 if !self.completed && self.transport != TransportEnd::Open => ERR_IO,
            e => e,
        }
    }

    /// The address connected to.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    pub fn transport(&self) -> &TransportEnd {
        &self.transport
    }

    /// Negotiated `(version, suite)`.
    pub fn parameters(&self) -> (u16, u16) {
        self.engine.session()
    }

    /// Run the engine until `want` holds for its state. Record output goes
    /// first (as in the core's loop); input is read with the deadline.
    fn pump(
        &mut self,
        until: Instant,
        want: impl Fn(bearssl::State) -> bool,
    ) -> Result<(), AppError> {
        let mut idle = 0;
        loop {
            let st = self.engine.state();
            if st.closed() {
                return Err(AppError::Closed {
                    error: self.error(),
                });
            }
            if st.sendrec() {
                self.send_records()?;
                idle = 0;
                continue;
            }
            if want(st) {
                return Ok(());
            }
            if st.recvrec() {
                self.receive(until)?;
                idle = 0;
                continue;
            }
            // Nothing to move: make room by flushing buffered data, once.
            self.engine.flush();
            idle += 1;
            if idle > 2 {
                return Err(AppError::Closed {
                    error: self.error(),
                });
            }
        }
    }

    fn send_records(&mut self) -> Result<(), AppError> {
        let _ = self.sock.set_write_timeout(Some(left(self.deadline)));
        let Some(buf) = self.engine.sendrec() else {
            return Ok(());
        };
        match self.sock.write(buf) {
            Ok(n) if n > 0 => {
                Tap::push(&mut self.tap.sent, &buf[..n]);
                self.engine.sendrec_ack(n);
                Ok(())
            }
            Ok(_) => self.write_failed("the connection accepts no more data".into()),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(()),
            Err(e) if is_timeout(&e) => {
                self.transport = TransportEnd::Timeout;
                Err(AppError::Transport(self.transport.clone()))
            }
            Err(e) => self.write_failed(socket_error(&e)),
        }
    }

    /// The peer stopped reading, usually because it sent an alert and
    /// closed: give the engine whatever arrived so it learns the alert.
    fn write_failed(&mut self, why: String) -> Result<(), AppError> {
        let _ = self
            .sock
            .set_read_timeout(Some(left(self.deadline).min(Duration::from_millis(500))));
        while self.engine.state().recvrec() {
            let Some(buf) = self.engine.recvrec() else {
                break;
            };
            match self.sock.read(buf) {
                Ok(n) if n > 0 => {
                    Tap::push(&mut self.tap.received, &buf[..n]);
                    self.engine.recvrec_ack(n);
                }
                _ => break,
            }
        }
        self.transport = TransportEnd::Failed(why);
        match self.engine.last_error() {
            0 => Err(AppError::Transport(self.transport.clone())),
            error => Err(AppError::Closed { error }),
        }
    }

    fn receive(&mut self, until: Instant) -> Result<(), AppError> {
        let until = until.min(self.deadline);
        if Instant::now() >= until {
            if until >= self.deadline {
                self.transport = TransportEnd::Timeout;
                return Err(AppError::Transport(TransportEnd::Timeout));
            }
            return Err(AppError::Timeout);
        }
        let _ = self.sock.set_read_timeout(Some(left(until)));
        let Some(buf) = self.engine.recvrec() else {
            return Ok(());
        };
        match self.sock.read(buf) {
            Ok(0) => {
                self.transport = TransportEnd::Closed;
                Err(AppError::Transport(TransportEnd::Closed))
            }
            Ok(n) => {
                Tap::push(&mut self.tap.received, &buf[..n]);
                self.engine.recvrec_ack(n);
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(()),
            Err(e) if is_timeout(&e) => {
                if Instant::now() + Duration::from_millis(1) >= self.deadline {
                    self.transport = TransportEnd::Timeout;
                    Err(AppError::Transport(TransportEnd::Timeout))
                } else {
                    Err(AppError::Timeout)
                }
            }
            Err(e) => {
                self.transport = TransportEnd::Failed(socket_error(&e));
                Err(AppError::Transport(self.transport.clone()))
            }
        }
    }

    /// Run the handshake to its end (success, error, transport end or deadline).
    fn handshake(&mut self) -> Handshake {
        let t = Instant::now();
        let r = self.pump(self.deadline, |st| st.sendapp());
        self.completed = r.is_ok();
        if !self.completed && self.transport == TransportEnd::Open {
            self.tap_rest_of_record();
        }
        let (version, suite) = self.engine.session();
        Handshake {
            error: if self.completed { 0 } else { self.error() },
            completed: self.completed,
            version,
            suite,
            transport: self.transport.clone(),
            millis: t.elapsed().as_millis() as u64,
            fingerprint_index: None,
            rejected_anchors: self.engine.notes().rejected_anchors.clone(),
            client_key_rejected: self.engine.notes().client_key_rejected,
        }
    }

    /// BearSSL takes a plaintext record apart while it arrives and may stop
    /// in the middle of one (a wrong extension in the ServerHello, a leaf
    /// it rejects before the rest of the chain came). Read the rest of that
    /// record, which the server has sent already, into the tap only: the
    /// analysis needs the whole message the engine judged.
    fn tap_rest_of_record(&mut self) {
        let until = (Instant::now() + Duration::from_millis(500)).min(self.deadline);
        let mut buf = [0u8; 4096];
        loop {
            let missing = record_remainder(&self.tap.received);
            if missing == 0 || self.tap.received.len() >= TAP_LIMIT || Instant::now() >= until {
                return;
            }
            let _ = self.sock.set_read_timeout(Some(left(until)));
            let want = missing.min(buf.len());
            match self.sock.read(&mut buf[..want]) {
                Ok(n) if n > 0 => Tap::push(&mut self.tap.received, &buf[..n]),
                _ => return,
            }
        }
    }

    /// Send application data (the whole of it) before `until`.
    pub fn write_all(&mut self, mut data: &[u8], until: Instant) -> Result<(), AppError> {
        while !data.is_empty() {
            self.pump(until, |st| st.sendapp())?;
            let n = self.engine.write_app(data);
            data = &data[n..];
            self.engine.flush();
        }
        // Push the records out now.
        self.pump(until, |st| !st.sendrec())
    }

    /// Receive application data, waiting until `until` at most. `Ok(0)`
    /// never happens: the end of the stream is an [`AppError`].
    pub fn read(&mut self, out: &mut [u8], until: Instant) -> Result<usize, AppError> {
        self.pump(until, |st| st.recvapp())?;
        Ok(self.engine.read_app(out))
    }

    /// Close like `stop()` does: close_notify (best effort), then the socket.
    pub fn close(mut self) {
        if self.transport == TransportEnd::Open {
            self.engine.close();
            let until = (Instant::now() + Duration::from_millis(200)).min(self.deadline);
            let _ = self.pump(until, |st| !st.sendrec());
        }
        let _ = self.sock.shutdown(std::net::Shutdown::Both);
    }
}

/// Bytes still missing from the last record of a tapped stream (0 when it
/// ends on a record boundary).
fn record_remainder(stream: &[u8]) -> usize {
    let mut rest = stream;
    loop {
        if rest.is_empty() {
            return 0;
        }
        if rest.len() < 5 {
            return 5 - rest.len();
        }
        let len = 5 + usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if rest.len() < len {
            return len - rest.len();
        }
        rest = &rest[len..];
    }
}

fn start_engine(cfg: &bearssl::Config) -> Result<bearssl::Client, SetupError> {
    bearssl::Client::start(cfg).map_err(|e| match e {
        bearssl::SetupError::CoreRefuses { code } => SetupError::CoreRefuses {
            code,
            why: "this cipher build has no EC support for the configured key".into(),
        },
        other => SetupError::Engine(other.to_string()),
    })
}

/// The device's handshake against recorded server bytes instead of a
/// socket: what the engine sends is only tapped, `server` reaches it in
/// reads of at most `read_size` bytes, and when the bytes run out the
/// transport counts as closed. For the fuzz targets (`crate::fuzzing`),
/// which feed the engine and the analysis arbitrary server answers;
/// [`connect`] is the real thing. Uses the first fingerprint.
#[doc(hidden)]
pub fn handshake_offline(
    cfg: &DeviceTls,
    server: &[u8],
    read_size: usize,
) -> Result<(Handshake, Tap), SetupError> {
    let mut engine = start_engine(&cfg.engine_config(0)?)?;
    let mut tap = Tap::default();
    let mut rest = server;
    let mut transport = TransportEnd::Open;
    let mut idle = 0;
    let completed = loop {
        let st = engine.state();
        if st.closed() {
            break false;
        }
        if st.sendrec() {
            if let Some(buf) = engine.sendrec() {
                let n = buf.len();
                Tap::push(&mut tap.sent, buf);
                engine.sendrec_ack(n);
            }
            idle = 0;
        } else if st.sendapp() {
            break true;
        } else if st.recvrec() {
            if rest.is_empty() {
                transport = TransportEnd::Closed;
                break false;
            }
            let Some(buf) = engine.recvrec() else {
                break false;
            };
            let n = buf.len().min(rest.len()).min(read_size.max(1));
            buf[..n].copy_from_slice(&rest[..n]);
            Tap::push(&mut tap.received, &rest[..n]);
            engine.recvrec_ack(n);
            rest = &rest[n..];
            idle = 0;
        } else {
            engine.flush();
            idle += 1;
            if idle > 2 {
                break false;
            }
        }
    };
    // As `Session::tap_rest_of_record` does on a socket.
    if !completed {
        loop {
            let missing = record_remainder(&tap.received).min(rest.len());
            if missing == 0 || tap.received.len() >= TAP_LIMIT {
                break;
            }
            Tap::push(&mut tap.received, &rest[..missing]);
            rest = &rest[missing..];
        }
    }
    let (version, suite) = engine.session();
    let error = match engine.last_error() {
        _ if completed => 0,
        0 if transport != TransportEnd::Open => ERR_IO,
        e => e,
    };
    let handshake = Handshake {
        error,
        completed,
        version,
        suite,
        transport,
        millis: 0,
        fingerprint_index: (cfg.trust.mode == TrustMode::Fingerprint).then_some(0),
        rejected_anchors: engine.notes().rejected_anchors.clone(),
        client_key_rejected: engine.notes().client_key_rejected,
    };
    Ok((handshake, tap))
}

/// A socket error in words, without the operating system's number: what
/// the reports show after "the server dropped the connection …".
fn socket_error(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::ConnectionReset => "the server reset the connection".into(),
        ErrorKind::ConnectionAborted => "the connection was aborted".into(),
        ErrorKind::BrokenPipe => "the server had closed the connection".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(i) => text[..i].to_string(),
                None => text,
            }
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}

/// One connection attempt: TCP, engine, handshake.
pub struct Attempt {
    pub handshake: Handshake,
    pub session: Session,
}

/// Connect the way the firmware does: in `fingerprint` mode each configured
/// fingerprint in turn, a fresh connection each, moving on only after error
/// 62 (not trusted). Returns the last attempt.
pub fn connect(
    addrs: &[SocketAddr],
    cfg: &DeviceTls,
    deadline: Instant,
) -> Result<Attempt, ConnectError> {
    let tries = if cfg.trust.mode == TrustMode::Fingerprint {
        cfg.trust.fingerprints.len().max(1)
    } else {
        1
    };
    let mut last = None;
    for k in 0..tries {
        let engine_cfg = cfg.engine_config(k).map_err(ConnectError::Setup)?;
        let sock = net::connect(addrs, deadline).map_err(ConnectError::Net)?;
        let mut session =
            Session::start(sock, &engine_cfg, deadline).map_err(ConnectError::Setup)?;
        let mut handshake = session.handshake();
        if cfg.trust.mode == TrustMode::Fingerprint {
            handshake.fingerprint_index = Some(k);
        }
        let again = handshake.error == 62 && k + 1 < tries;
        last = Some(Attempt { handshake, session });
        if !again {
            break;
        }
        if let Some(a) = last.take() {
            a.session.close();
        }
    }
    last.ok_or(ConnectError::Setup(SetupError::Missing(
        "a connection attempt",
    )))
}

/// Why no handshake ran at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error(transparent)]
    Setup(SetupError),
}

/// The engine's verdict on one configuration.
#[derive(Debug, Clone)]
pub struct Verdict {
    pub handshake: Option<Handshake>,
    /// Set when no handshake ran (network or configuration).
    pub error: Option<ConnectError>,
}

impl Verdict {
    /// The configuration would connect.
    pub fn accepted(&self) -> bool {
        self.handshake.as_ref().is_some_and(|h| h.completed)
    }
}

/// Would each of these device configurations complete a TLS handshake with
/// the broker at `host:port`? One resolution, then one handshake per
/// configuration (per fingerprint in `fingerprint` mode), all within
/// `timeout`.
pub fn check(host: &str, port: u16, configs: &[DeviceTls], timeout: Duration) -> Vec<Verdict> {
    let deadline = Instant::now() + timeout;
    let addrs = match net::resolve(host, port, deadline) {
        Ok(a) => a,
        Err(e) => {
            return configs
                .iter()
                .map(|_| Verdict {
                    handshake: None,
                    error: Some(ConnectError::Net(e.clone())),
                })
                .collect()
        }
    };
    configs
        .iter()
        .map(|cfg| match connect(&addrs, cfg, deadline) {
            Ok(a) => {
                let h = a.handshake.clone();
                a.session.close();
                Verdict {
                    handshake: Some(h),
                    error: None,
                }
            }
            Err(e) => Verdict {
                handshake: None,
                error: Some(e),
            },
        })
        .collect()
}
