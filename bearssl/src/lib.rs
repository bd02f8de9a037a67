//! BearSSL's TLS client engine, configured the way the ESP8266 Arduino core
//! (3.1.x) configures `BearSSL::WiFiClientSecure`, behind a safe API.
//!
//! The C side (`shim/shim.c`) builds the `br_ssl_client_context` exactly as
//! the core's `_connectSSL()` does: engines per cipher build, the X.509
//! engine of the trust mode (`br_x509_minimal` with trust anchors,
//! `br_x509_knownkey`, or the core's leaf-SHA-1 engine for fingerprints and
//! insecure mode), `setBufferSizes()` buffers, `setSSLVersion()` and the
//! client certificate. This crate exposes the record-level engine: the
//! caller moves bytes between [`Client`] and its transport.
//!
//! BearSSL is linked statically from Debian's `libbearssl-dev` (see
//! `build.rs`). This is the only crate of espmqtt with `unsafe` code.

#![deny(unsafe_op_in_unsafe_fn)]

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_uint};
use std::ptr::NonNull;

mod ffi {
    use std::os::raw::{c_char, c_int, c_uint};

    #[repr(C)]
    pub struct Tls {
        _private: [u8; 0],
    }

    extern "C" {
        pub fn emq_new() -> *mut Tls;
        pub fn emq_free(t: *mut Tls);
        pub fn emq_set_suites(t: *mut Tls, suites: *const u16, count: usize, basic: c_int)
            -> c_int;
        pub fn emq_set_versions(t: *mut Tls, min: c_uint, max: c_uint) -> c_int;
        pub fn emq_set_buffers(t: *mut Tls, recv: usize, xmit: usize) -> c_int;
        pub fn emq_add_anchor(t: *mut Tls, der: *const u8, len: usize) -> c_int;
        #[allow(clippy::too_many_arguments)]
        pub fn emq_add_anchor_rsa(
            t: *mut Tls,
            dn: *const u8,
            dnlen: usize,
            n: *const u8,
            nlen: usize,
            e: *const u8,
            elen: usize,
            ca: c_int,
        ) -> c_int;
        pub fn emq_add_anchor_ec(
            t: *mut Tls,
            dn: *const u8,
            dnlen: usize,
            curve: c_int,
            q: *const u8,
            qlen: usize,
            ca: c_int,
        ) -> c_int;
        pub fn emq_trust_ca(t: *mut Tls, have_time: c_int, days: u32, seconds: u32);
        pub fn emq_trust_knownkey_rsa(
            t: *mut Tls,
            n: *const u8,
            nlen: usize,
            e: *const u8,
            elen: usize,
        ) -> c_int;
        pub fn emq_trust_knownkey_ec(t: *mut Tls, curve: c_int, q: *const u8, qlen: usize)
            -> c_int;
        pub fn emq_trust_fingerprint(t: *mut Tls, fingerprint: *const u8);
        pub fn emq_trust_insecure(t: *mut Tls);
        pub fn emq_add_client_cert(t: *mut Tls, der: *const u8, len: usize) -> c_int;
        pub fn emq_set_client_key(
            t: *mut Tls,
            der: *const u8,
            len: usize,
            usages: c_uint,
            issuer_key_type: c_uint,
        ) -> c_int;
        pub fn emq_start(t: *mut Tls, server_name: *const c_char) -> c_int;
        pub fn emq_state(t: *mut Tls) -> c_uint;
        pub fn emq_last_error(t: *mut Tls) -> c_int;
        pub fn emq_sendrec_buf(t: *mut Tls, len: *mut usize) -> *mut u8;
        pub fn emq_sendrec_ack(t: *mut Tls, len: usize);
        pub fn emq_recvrec_buf(t: *mut Tls, len: *mut usize) -> *mut u8;
        pub fn emq_recvrec_ack(t: *mut Tls, len: usize);
        pub fn emq_sendapp_buf(t: *mut Tls, len: *mut usize) -> *mut u8;
        pub fn emq_sendapp_ack(t: *mut Tls, len: usize);
        pub fn emq_recvapp_buf(t: *mut Tls, len: *mut usize) -> *mut u8;
        pub fn emq_recvapp_ack(t: *mut Tls, len: usize);
        pub fn emq_flush(t: *mut Tls, force: c_int);
        pub fn emq_close(t: *mut Tls);
        pub fn emq_session(t: *mut Tls, version: *mut u16, suite: *mut u16);
        pub fn emq_buffers(t: *mut Tls, in_len: *mut usize, out_len: *mut usize);
    }
}

/// Protocol versions as BearSSL numbers them.
pub const TLS10: u16 = 0x0301;
pub const TLS11: u16 = 0x0302;
pub const TLS12: u16 = 0x0303;

/// BearSSL's key type numbers (`BR_KEYTYPE_*`).
pub const KEYTYPE_RSA: u32 = 1;
pub const KEYTYPE_EC: u32 = 2;
pub const KEYTYPE_KEYX: u32 = 0x10;
pub const KEYTYPE_SIGN: u32 = 0x20;

/// `getLastSSLError()` when the core cannot install the validator (it
/// treats that as out of memory).
pub const ERR_CORE_OOM: i32 = -1000;
/// `BR_ERR_IO`: what BearSSL's own I/O layer records when the transport
/// ends or fails under it.
pub const ERR_IO: i32 = 31;
/// Added to an alert number received from the peer / sent to it.
pub const ERR_RECV_FATAL_ALERT: i32 = 256;
pub const ERR_SEND_FATAL_ALERT: i32 = 512;

/// How the device authenticates the server (one `WiFiClientSecure` setter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trust {
    /// `setTrustAnchors()`: `br_x509_minimal` with these anchors, validating
    /// at `time` (Unix seconds; `None` lets BearSSL read the clock).
    Ca {
        anchors: Vec<Anchor>,
        time: Option<i64>,
    },
    /// `setKnownKey()`: `br_x509_knownkey` with this key.
    KnownKey(PublicKey),
    /// `setFingerprint()`: SHA-1 of the first certificate must be this.
    Fingerprint([u8; 20]),
    /// `setInsecure()`.
    Insecure,
}

/// A trust anchor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Anchor {
    /// A DER certificate, turned into an anchor the way `X509List` does it
    /// (subject DN, key, CA flag from basicConstraints).
    Certificate(Vec<u8>),
    /// An anchor given by its subject DN (DER) and key, e.g. a root store
    /// entry that carries no certificate.
    Key {
        dn: Vec<u8>,
        key: PublicKey,
        ca: bool,
    },
}

/// A public key in the form BearSSL's `PublicKey` holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublicKey {
    /// Modulus and public exponent, big-endian, without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// BearSSL curve id (23 P-256, 24 P-384, 25 P-521) and encoded point.
    Ec { curve: u8, q: Vec<u8> },
}

/// A client certificate chain (DER, leaf first) and its private key (DER:
/// PKCS#1 RSA, SEC1 EC or unencrypted PKCS#8).
#[derive(Clone, PartialEq, Eq)]
pub struct ClientCert {
    pub chain: Vec<Vec<u8>>,
    pub key: Vec<u8>,
    /// `setClientECCert()`'s allowed usages and issuer key type (EC keys only).
    pub ec_usages: u32,
    pub ec_issuer_key_type: u32,
}

impl std::fmt::Debug for ClientCert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCert")
            .field("chain", &self.chain.len())
            .field("key", &"<redacted>")
            .finish()
    }
}

/// Everything `WiFiClientSecure` is told before `connect()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Cipher suites in ClientHello order.
    pub suites: Vec<u16>,
    /// A `-DBEARSSL_SSL_BASIC` build: RSA and AES-CBC engines only, no EC.
    pub basic: bool,
    /// `setSSLVersion(min, max)`.
    pub versions: (u16, u16),
    /// `setBufferSizes(recv, xmit)`.
    pub buffers: (usize, usize),
    pub trust: Trust,
    pub client_cert: Option<ClientCert>,
    /// The name given to `connect()` (SNI and name check); `None` for
    /// `connect(IPAddress)`.
    pub server_name: Option<String>,
}

/// Why an engine could not be set up. The device fails the same way, so
/// most of these are device outcomes, not usage errors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// The C side could not allocate.
    OutOfMemory,
    /// `setCiphers` / `setSSLVersion` would refuse these values.
    BadParameter(&'static str),
    /// The core gives up before sending anything; `code` is what
    /// `getLastSSLError()` then returns (-1000, or 0).
    CoreRefuses { code: i32 },
    /// `br_ssl_client_reset()` failed with this BearSSL error (e.g. a
    /// server name over 255 characters).
    Reset { code: i32 },
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::OutOfMemory => f.write_str("out of memory"),
            SetupError::BadParameter(what) => write!(f, "invalid {what}"),
            SetupError::CoreRefuses { code } => {
                write!(f, "the core refuses this configuration (error {code})")
            }
            SetupError::Reset { code } => write!(f, "the engine does not start (error {code})"),
        }
    }
}

impl std::error::Error for SetupError {}

/// Engine state flags (`BR_SSL_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State(u32);

impl State {
    pub fn closed(self) -> bool {
        self.0 & 0x01 != 0
    }
    pub fn sendrec(self) -> bool {
        self.0 & 0x02 != 0
    }
    pub fn recvrec(self) -> bool {
        self.0 & 0x04 != 0
    }
    pub fn sendapp(self) -> bool {
        self.0 & 0x08 != 0
    }
    pub fn recvapp(self) -> bool {
        self.0 & 0x10 != 0
    }
}

/// What the device silently drops while it is being configured, as the
/// core does: an anchor that does not decode is not added to the
/// `X509List`, and a client key `PrivateKey` cannot parse leaves the device
/// without a client certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SetupNotes {
    /// Indexes (into the configured anchors) of anchors left out.
    pub rejected_anchors: Vec<usize>,
    /// The client key did not decode: no client certificate is used.
    pub client_key_rejected: bool,
}

/// One TLS client connection's engine.
pub struct Client {
    raw: NonNull<ffi::Tls>,
    notes: SetupNotes,
}

// The context is plain memory owned by this value; BearSSL keeps no
// thread-local state.
unsafe impl Send for Client {}

impl Drop for Client {
    fn drop(&mut self) {
        // SAFETY: `raw` came from emq_new and is freed exactly once.
        unsafe { ffi::emq_free(self.raw.as_ptr()) }
    }
}

impl Client {
    /// Configure and start an engine; the ClientHello is then waiting in
    /// [`Client::sendrec`].
    pub fn start(cfg: &Config) -> Result<Client, SetupError> {
        // SAFETY: emq_new returns a zeroed context or NULL.
        let raw = NonNull::new(unsafe { ffi::emq_new() }).ok_or(SetupError::OutOfMemory)?;
        let mut c = Client {
            raw,
            notes: SetupNotes::default(),
        };
        let t = c.raw.as_ptr();
        // SAFETY (all calls below): `t` is a live context; every pointer
        // passed is valid for the length given and only read during the
        // call (the C side copies what it keeps).
        unsafe {
            if ffi::emq_set_suites(t, cfg.suites.as_ptr(), cfg.suites.len(), cfg.basic as c_int)
                == 0
            {
                return Err(SetupError::BadParameter("cipher suite list"));
            }
            if ffi::emq_set_versions(t, cfg.versions.0 as c_uint, cfg.versions.1 as c_uint) == 0 {
                return Err(SetupError::BadParameter("TLS version range"));
            }
            if ffi::emq_set_buffers(t, cfg.buffers.0, cfg.buffers.1) == 0 {
                return Err(SetupError::OutOfMemory);
            }
            match &cfg.trust {
                Trust::Ca { anchors, time } => {
                    for (i, a) in anchors.iter().enumerate() {
                        let added = match a {
                            Anchor::Certificate(der) => {
                                ffi::emq_add_anchor(t, der.as_ptr(), der.len())
                            }
                            Anchor::Key { dn, key, ca } => match key {
                                PublicKey::Rsa { n, e } => ffi::emq_add_anchor_rsa(
                                    t,
                                    dn.as_ptr(),
                                    dn.len(),
                                    n.as_ptr(),
                                    n.len(),
                                    e.as_ptr(),
                                    e.len(),
                                    *ca as c_int,
                                ),
                                PublicKey::Ec { curve, q } => ffi::emq_add_anchor_ec(
                                    t,
                                    dn.as_ptr(),
                                    dn.len(),
                                    *curve as c_int,
                                    q.as_ptr(),
                                    q.len(),
                                    *ca as c_int,
                                ),
                            },
                        };
                        if added == 0 {
                            c.notes.rejected_anchors.push(i);
                        }
                    }
                    let (have, days, secs) = match time {
                        Some(now) if *now >= 0 => {
                            // BearSSL counts days from 0000-01-01; 719528
                            // is 1970-01-01 (the core's constant).
                            (1, (*now / 86400 + 719_528) as u32, (*now % 86400) as u32)
                        }
                        _ => (0, 0, 0),
                    };
                    ffi::emq_trust_ca(t, have, days, secs);
                }
                Trust::KnownKey(PublicKey::Rsa { n, e }) => {
                    if ffi::emq_trust_knownkey_rsa(t, n.as_ptr(), n.len(), e.as_ptr(), e.len()) == 0
                    {
                        return Err(SetupError::OutOfMemory);
                    }
                }
                Trust::KnownKey(PublicKey::Ec { curve, q }) => {
                    if ffi::emq_trust_knownkey_ec(t, *curve as c_int, q.as_ptr(), q.len()) == 0 {
                        return Err(SetupError::OutOfMemory);
                    }
                }
                Trust::Fingerprint(fp) => ffi::emq_trust_fingerprint(t, fp.as_ptr()),
                Trust::Insecure => ffi::emq_trust_insecure(t),
            }
            if let Some(cc) = &cfg.client_cert {
                let kind = ffi::emq_set_client_key(
                    t,
                    cc.key.as_ptr(),
                    cc.key.len(),
                    cc.ec_usages as c_uint,
                    cc.ec_issuer_key_type as c_uint,
                );
                if kind == 0 {
                    c.notes.client_key_rejected = true;
                } else {
                    for der in &cc.chain {
                        if ffi::emq_add_client_cert(t, der.as_ptr(), der.len()) == 0 {
                            return Err(SetupError::OutOfMemory);
                        }
                    }
                }
            }
            let name = match &cfg.server_name {
                Some(n) => Some(
                    CString::new(n.as_str())
                        .map_err(|_| SetupError::BadParameter("server name"))?,
                ),
                None => None,
            };
            let name_ptr: *const c_char = name.as_ref().map_or(std::ptr::null(), |n| n.as_ptr());
            match ffi::emq_start(t, name_ptr) {
                1 => Ok(c),
                0 => Err(SetupError::Reset {
                    code: ffi::emq_last_error(t),
                }),
                -1000 => Err(SetupError::CoreRefuses { code: ERR_CORE_OOM }),
                _ => Err(SetupError::CoreRefuses { code: 0 }),
            }
        }
    }

    fn t(&self) -> *mut ffi::Tls {
        self.raw.as_ptr()
    }

    /// What was left out while configuring (see [`SetupNotes`]).
    pub fn notes(&self) -> &SetupNotes {
        &self.notes
    }

    pub fn state(&self) -> State {
        // SAFETY: live context.
        State(unsafe { ffi::emq_state(self.t()) } as u32)
    }

    /// `br_ssl_engine_last_error()`: 0, a BearSSL error, or 256/512 plus
    /// an alert number.
    pub fn last_error(&self) -> i32 {
        // SAFETY: live context.
        unsafe { ffi::emq_last_error(self.t()) as i32 }
    }

    /// Record bytes to send, if any.
    pub fn sendrec(&mut self) -> Option<&[u8]> {
        let mut len = 0usize;
        // SAFETY: the engine returns a pointer into its output buffer valid
        // for `len` bytes until the next call on the engine, which the
        // borrow of `self` prevents.
        unsafe {
            let p = ffi::emq_sendrec_buf(self.t(), &mut len);
            (!p.is_null() && len > 0).then(|| std::slice::from_raw_parts(p, len))
        }
    }

    /// Mark `n` bytes of [`Client::sendrec`] as sent.
    pub fn sendrec_ack(&mut self, n: usize) {
        let avail = self.sendrec().map_or(0, <[u8]>::len);
        let n = n.min(avail);
        if n > 0 {
            // SAFETY: 0 < n <= the length the engine offered.
            unsafe { ffi::emq_sendrec_ack(self.t(), n) }
        }
    }

    /// Room for received record bytes, if the engine wants some.
    pub fn recvrec(&mut self) -> Option<&mut [u8]> {
        let mut len = 0usize;
        // SAFETY: as for sendrec, into the input buffer.
        unsafe {
            let p = ffi::emq_recvrec_buf(self.t(), &mut len);
            (!p.is_null() && len > 0).then(|| std::slice::from_raw_parts_mut(p, len))
        }
    }

    /// Mark `n` bytes written into [`Client::recvrec`] as received.
    pub fn recvrec_ack(&mut self, n: usize) {
        let avail = self.recvrec().map_or(0, |b| b.len());
        let n = n.min(avail);
        if n > 0 {
            // SAFETY: 0 < n <= the room the engine offered.
            unsafe { ffi::emq_recvrec_ack(self.t(), n) }
        }
    }

    /// Copy application data into the engine; returns how much it took
    /// (0 when it cannot take any now).
    pub fn write_app(&mut self, data: &[u8]) -> usize {
        let mut len = 0usize;
        // SAFETY: the buffer is valid for `len` bytes; we copy at most that
        // and acknowledge exactly what we copied (never 0).
        unsafe {
            let p = ffi::emq_sendapp_buf(self.t(), &mut len);
            if p.is_null() || len == 0 || data.is_empty() {
                return 0;
            }
            let n = len.min(data.len());
            std::ptr::copy_nonoverlapping(data.as_ptr(), p, n);
            ffi::emq_sendapp_ack(self.t(), n);
            n
        }
    }

    /// Copy received application data out of the engine; returns how much.
    pub fn read_app(&mut self, out: &mut [u8]) -> usize {
        let mut len = 0usize;
        // SAFETY: as for write_app, in the other direction.
        unsafe {
            let p = ffi::emq_recvapp_buf(self.t(), &mut len);
            if p.is_null() || len == 0 || out.is_empty() {
                return 0;
            }
            let n = len.min(out.len());
            std::ptr::copy_nonoverlapping(p, out.as_mut_ptr(), n);
            ffi::emq_recvapp_ack(self.t(), n);
            n
        }
    }

    /// Turn buffered application data into a record now.
    pub fn flush(&mut self) {
        // SAFETY: live context.
        unsafe { ffi::emq_flush(self.t(), 0) }
    }

    /// Start the closure (close_notify).
    pub fn close(&mut self) {
        // SAFETY: live context.
        unsafe { ffi::emq_close(self.t()) }
    }

    /// Negotiated `(version, cipher suite)`, zeros before the ServerHello.
    pub fn session(&self) -> (u16, u16) {
        let (mut v, mut s) = (0u16, 0u16);
        // SAFETY: live context, valid out-pointers.
        unsafe { ffi::emq_session(self.t(), &mut v, &mut s) };
        (v, s)
    }

    /// Input and output buffer sizes in bytes (record overheads included).
    pub fn buffer_sizes(&self) -> (usize, usize) {
        let (mut i, mut o) = (0usize, 0usize);
        // SAFETY: live context, valid out-pointers.
        unsafe { ffi::emq_buffers(self.t(), &mut i, &mut o) };
        (i, o)
    }
}

/// The max_fragment_length BearSSL requests for `setBufferSizes(recv,
/// xmit)`: the largest 2^u (u from 14 down to 9) whose record fits both
/// buffers, 2^13 lowered to 2^12; `None` when it is 2^14 (no extension).
pub fn requested_mfl(recv: usize, xmit: usize) -> Option<usize> {
    let clamp = |v: usize| v.clamp(512, 16384);
    let (ilen, olen) = (clamp(recv) + 325, clamp(xmit) + 85);
    let mut u = 14;
    while u > 9 && (olen < (1 << u) + 85 || ilen < (1 << u) + 325) {
        u -= 1;
    }
    if u == 13 {
        u = 12;
    }
    (u != 14).then_some(1 << u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mfl_follows_the_buffers() {
        assert_eq!(requested_mfl(16384, 512), Some(512));
        assert_eq!(requested_mfl(16384, 16384), None);
        assert_eq!(requested_mfl(4096, 4096), Some(4096));
        assert_eq!(requested_mfl(1024, 1024), Some(1024));
        assert_eq!(requested_mfl(4096, 512), Some(512));
        assert_eq!(requested_mfl(8192, 8192), Some(4096));
    }

    #[test]
    fn an_engine_starts_and_offers_a_client_hello() {
        let cfg = Config {
            suites: vec![0xC02F, 0x002F],
            basic: false,
            versions: (TLS10, TLS12),
            buffers: (512, 512),
            trust: Trust::Insecure,
            client_cert: None,
            server_name: Some("broker.example".into()),
        };
        let mut c = Client::start(&cfg).expect("engine starts");
        assert!(c.state().sendrec());
        let hello = c.sendrec().expect("a ClientHello").to_vec();
        assert_eq!(hello[0], 0x16);
        assert_eq!(&hello[1..3], &[3, 1], "record version = version_min");
        assert!(hello.windows(14).any(|w| w == b"broker.example"));
        c.sendrec_ack(hello.len());
        assert!(c.state().recvrec());
        assert_eq!(c.buffer_sizes(), (837, 597));
    }

    #[test]
    fn bad_parameters_are_refused() {
        let mut cfg = Config {
            suites: vec![0xC02F],
            basic: false,
            versions: (TLS12, TLS10),
            buffers: (512, 512),
            trust: Trust::Insecure,
            client_cert: None,
            server_name: None,
        };
        assert!(matches!(
            Client::start(&cfg),
            Err(SetupError::BadParameter(_))
        ));
        cfg.versions = (TLS10, TLS12);
        cfg.trust = Trust::Ca {
            anchors: vec![Anchor::Certificate(vec![0x30, 0x03, 1, 2, 3])],
            time: None,
        };
        let c = Client::start(&cfg).expect("a bad anchor is left out, as X509List does");
        assert_eq!(c.notes().rejected_anchors, vec![0]);
        cfg.trust = Trust::Insecure;
        cfg.server_name = Some("x".repeat(300));
        assert!(matches!(Client::start(&cfg), Err(SetupError::Reset { .. })));
    }
}
