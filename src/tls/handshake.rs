//! Network side of the device handshake: open TCP, send one ClientHello
//! (the device's, or the diagnostic one), read the server's first flight
//! with the records parser, and abort the way `_SendAbort` does (§4.4).
//!
//! Every read is bounded by an absolute deadline so the whole probe ends
//! within `--timeout` no matter how the peer behaves (silent, slow, noisy).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::records::{FlightParser, ParseError, ServerFlight};

/// How reading the first flight ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightEnd {
    /// ServerHelloDone, an alert, or a TLS 1.3 answer arrived.
    Complete,
    /// The peer closed the connection (after `received` bytes).
    Closed { received: usize },
    /// Nothing (more) arrived before the deadline.
    Timeout { received: usize },
    /// The answer is not TLS (plain MQTT, HTTP, noise…).
    NotTls(String),
    /// TLS-looking but malformed.
    Malformed(String),
    /// A socket error (reset…).
    Io(String),
}

/// Result of one hello exchange.
#[derive(Debug, Clone)]
pub struct HelloExchange {
    pub flight: ServerFlight,
    pub end: FlightEnd,
    /// Bytes received in total.
    pub received: usize,
}

/// Resolve `host:port` (IPv4 first, as lwIP on the device does).
pub fn resolve(host: &str, port: u16) -> std::io::Result<Vec<SocketAddr>> {
    let mut addrs: Vec<SocketAddr> = (host, port).to_socket_addrs()?.collect();
    addrs.sort_by_key(|a| !a.is_ipv4());
    Ok(addrs)
}

/// Time left until `deadline`, at least 1 ms (0 would mean "no timeout"
/// to the socket API).
pub fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// TCP connect to the first address that answers, before `deadline`.
pub fn connect(addrs: &[SocketAddr], deadline: Instant) -> std::io::Result<TcpStream> {
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for a in addrs {
        if Instant::now() >= deadline {
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "connection timed out",
            ));
        }
        match TcpStream::connect_timeout(a, left(deadline)) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Send `hello` on a fresh connection and read the first flight.
pub fn exchange(stream: &mut TcpStream, hello: &[u8], deadline: Instant) -> HelloExchange {
    let mut parser = FlightParser::new();
    let mut received = 0usize;
    let _ = stream.set_write_timeout(Some(left(deadline)));
    if let Err(e) = stream.write_all(hello) {
        return HelloExchange {
            flight: parser.flight,
            end: FlightEnd::Io(e.to_string()),
            received,
        };
    }
    let mut buf = vec![0u8; 16 * 1024];
    let end = loop {
        if Instant::now() >= deadline {
            break FlightEnd::Timeout { received };
        }
        if stream.set_read_timeout(Some(left(deadline))).is_err() {
            break FlightEnd::Io("cannot set a read timeout".into());
        }
        match stream.read(&mut buf) {
            Ok(0) => break FlightEnd::Closed { received },
            Ok(n) => {
                received += n;
                match parser.feed(&buf[..n]) {
                    Ok(()) => {
                        if parser.done() {
                            break FlightEnd::Complete;
                        }
                    }
                    Err(ParseError::NotTls(s)) => break FlightEnd::NotTls(s),
                    Err(e) => break FlightEnd::Malformed(e.to_string()),
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break FlightEnd::Timeout { received }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break FlightEnd::Io(e.to_string()),
        }
    };
    // Like `_SendAbort`: user_canceled then close_notify, as warnings, so
    // the broker logs a clean abort rather than a protocol error.
    if matches!(end, FlightEnd::Complete) {
        let _ = stream.write_all(&[21, 3, 3, 0, 2, 1, 90, 21, 3, 3, 0, 2, 1, 0]);
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    HelloExchange {
        flight: parser.flight,
        end,
        received,
    }
}

/// 28 fresh random bytes for the ClientHello random.
pub fn random28() -> [u8; 28] {
    let mut r = [0u8; 28];
    if getrandom::getrandom(&mut r).is_err() {
        // The value only needs to be unpredictable for a real session; this
        // handshake is aborted before any key is derived.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        r[..16].copy_from_slice(&t.to_le_bytes());
    }
    r
}
