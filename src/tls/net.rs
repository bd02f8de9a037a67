//! The network under every TLS exchange: name resolution and TCP connect,
//! both bounded by one absolute deadline, and the raw exchange of a single
//! ClientHello used to ask a server what it would have wanted.
//!
//! `getaddrinfo` has no timeout of its own, so it runs on a helper thread
//! and the caller stops waiting at the deadline.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::records::{FlightParser, ParseError, ServerFlight};

/// Why the network part failed (each with its own next step).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
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
}

impl NetError {
    /// The next step for the user.
    pub fn help(&self) -> &'static str {
        match self {
            NetError::Dns { .. } | NetError::DnsTimeout { .. } => {
                "check the spelling of the host name and your DNS; an IP address works too \
                 (add --servername NAME to send the name as SNI)"
            }
            NetError::Refused { .. } => {
                "check the port (MQTT over TLS is usually 8883, plain MQTT 1883) and that the \
                 broker is running with a TLS listener there"
            }
            NetError::ConnectTimeout { .. } => {
                "a firewall may be dropping the packets, or the address is wrong; try a longer \
                 --timeout if the link is slow"
            }
            NetError::Connect { .. } => "check the address and your network",
        }
    }

    /// Resolution (as opposed to connection) failed.
    pub fn is_dns(&self) -> bool {
        matches!(self, NetError::Dns { .. } | NetError::DnsTimeout { .. })
    }
}

/// `10`, `1.5`: a duration as a user writes seconds.
pub fn secs(d: Duration) -> String {
    let v = (d.as_secs_f64() * 10.0).round() / 10.0;
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Time left until `deadline`, at least 1 ms (0 would mean "no timeout" to
/// the socket API).
pub fn left(deadline: Instant) -> Duration {
    deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1))
}

/// Resolve `host:port` before `deadline`, IPv4 addresses first (the device's
/// lwIP resolves IPv4). An IP literal is used as is.
pub fn resolve(host: &str, port: u16, deadline: Instant) -> Result<Vec<SocketAddr>, NetError> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let timeout = deadline.saturating_duration_since(Instant::now());
    let name = host.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = (name.as_str(), port)
            .to_socket_addrs()
            .map(|it| it.collect::<Vec<_>>());
        let _ = tx.send(r);
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(mut addrs)) if !addrs.is_empty() => {
            addrs.sort_by_key(|a| !a.is_ipv4());
            Ok(addrs)
        }
        Ok(Ok(_)) => Err(NetError::Dns {
            host: host.to_string(),
            detail: "no addresses".into(),
        }),
        Ok(Err(e)) => Err(NetError::Dns {
            host: host.to_string(),
            detail: e.to_string(),
        }),
        Err(_) => Err(NetError::DnsTimeout {
            host: host.to_string(),
            secs: secs(timeout),
        }),
    }
}

/// TCP connect to the first address that answers, before `deadline`.
pub fn connect(addrs: &[SocketAddr], deadline: Instant) -> Result<TcpStream, NetError> {
    let total = deadline.saturating_duration_since(Instant::now());
    let mut last = None;
    for addr in addrs {
        if Instant::now() >= deadline {
            break;
        }
        match TcpStream::connect_timeout(addr, left(deadline)) {
            Ok(s) => {
                let _ = s.set_nodelay(true);
                return Ok(s);
            }
            Err(e) => {
                let a = addr.to_string();
                last = Some(match e.kind() {
                    std::io::ErrorKind::ConnectionRefused => NetError::Refused { addr: a },
                    std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                        NetError::ConnectTimeout {
                            addr: a,
                            secs: secs(total),
                        }
                    }
                    _ => NetError::Connect {
                        addr: a,
                        detail: e.to_string(),
                    },
                });
            }
        }
    }
    Err(last.unwrap_or_else(|| NetError::ConnectTimeout {
        addr: addrs.first().map(|a| a.to_string()).unwrap_or_default(),
        secs: secs(total),
    }))
}

/// How reading a server's first flight ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlightEnd {
    /// ServerHelloDone, an alert, or a TLS 1.3 answer arrived.
    Complete,
    /// The peer closed the connection.
    Closed,
    /// Nothing (more) arrived before the deadline.
    Timeout,
    /// The answer is not TLS, or is malformed TLS.
    Invalid(String),
    /// A socket error (reset…).
    Io(String),
}

/// Send one raw ClientHello record on a fresh connection and read the
/// server's plaintext first flight, then abort politely (user_canceled,
/// close_notify). Used only to learn what a server wanted after it refused
/// the device; never to judge the device's own handshake.
pub fn exchange_hello(
    addrs: &[SocketAddr],
    hello: &[u8],
    deadline: Instant,
) -> Option<(ServerFlight, FlightEnd)> {
    let mut stream = connect(addrs, deadline).ok()?;
    let mut parser = FlightParser::new();
    let _ = stream.set_write_timeout(Some(left(deadline)));
    if stream.write_all(hello).is_err() {
        return None;
    }
    let mut buf = vec![0u8; 16 * 1024];
    let end = loop {
        if Instant::now() >= deadline {
            break FlightEnd::Timeout;
        }
        if stream.set_read_timeout(Some(left(deadline))).is_err() {
            break FlightEnd::Io("cannot set a read timeout".into());
        }
        match stream.read(&mut buf) {
            Ok(0) => break FlightEnd::Closed,
            Ok(n) => match parser.feed(&buf[..n]) {
                Ok(()) if parser.done() => break FlightEnd::Complete,
                Ok(()) => {}
                Err(ParseError::NotTls(s)) => break FlightEnd::Invalid(s),
                Err(e) => break FlightEnd::Invalid(e.to_string()),
            },
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                break FlightEnd::Timeout
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break FlightEnd::Io(e.to_string()),
        }
    };
    if end == FlightEnd::Complete {
        let _ = stream.write_all(&[21, 3, 3, 0, 2, 1, 90, 21, 3, 3, 0, 2, 1, 0]);
    }
    let _ = stream.shutdown(std::net::Shutdown::Both);
    Some((parser.flight, end))
}

/// `n` fresh random bytes (for ClientHello randoms).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut r = [0u8; N];
    if getrandom::getrandom(&mut r).is_err() {
        // Only diagnostic hellos use this, and they are aborted before any
        // key is derived: a time-based value is good enough.
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
            .to_le_bytes();
        for (i, b) in r.iter_mut().enumerate() {
            *b = t[i % t.len()];
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_resolve_without_dns_and_names_obey_the_deadline() {
        let d = Instant::now() + Duration::from_secs(5);
        assert_eq!(
            resolve("127.0.0.1", 1, d).unwrap(),
            vec!["127.0.0.1:1".parse().unwrap()]
        );
        assert_eq!(resolve("::1", 2, d).unwrap()[0].port(), 2);
        // A deadline in the past gives up at once.
        let past = Instant::now();
        match resolve("name.invalid", 1, past) {
            Err(NetError::DnsTimeout { .. }) | Err(NetError::Dns { .. }) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn secs_reads_like_the_flag() {
        assert_eq!(secs(Duration::from_secs(10)), "10");
        assert_eq!(secs(Duration::from_millis(1500)), "1.5");
    }
}
