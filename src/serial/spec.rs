//! What `--port` names: one grammar for `flash`, fleet flashing and
//! `monitor`.
//!
//! * `/dev/ttyUSB0`, `/dev/cu.usbserial-1410`, `COM3` — a local serial device;
//! * `socket://HOST:PORT` — a raw TCP byte stream (pyserial's and esptool's
//!   spelling): no baud rate, no DTR/RTS, the far end owns the line;
//! * `rfc2217://HOST:PORT[?ign_set_control]` — a Telnet COM-PORT-OPTION
//!   server (ser2net `telnet(rfc2217)`, esptool's `esp_rfc2217_server`): baud
//!   rate, framing and DTR/RTS travel to the remote UART. `ign_set_control`
//!   (pyserial's option) does not wait for the server to confirm DTR/RTS
//!   changes.
//!
//! HOST is a name, an IPv4 address or a bracketed IPv6 address
//! (`[::1]:4000`); PORT is 1–65535.

use std::fmt;

/// Where the module's UART is reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PortSpec {
    /// A device path such as `/dev/ttyUSB0` or `COM3`.
    Serial(String),
    /// `socket://HOST:PORT` (stored as `HOST:PORT`).
    Socket(String),
    /// `rfc2217://HOST:PORT` (stored without the scheme).
    Rfc2217(Rfc2217Url),
}

/// The address and options of an `rfc2217://` port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rfc2217Url {
    /// `HOST:PORT`.
    pub addr: String,
    /// Do not wait for the server to confirm DTR/RTS changes.
    pub ign_set_control: bool,
}

/// A `--port` value that cannot be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--port `{value}`: {reason}")]
pub struct SpecError {
    pub value: String,
    pub reason: String,
}

impl SpecError {
    fn new(value: &str, reason: impl Into<String>) -> SpecError {
        SpecError {
            value: value.to_string(),
            reason: reason.into(),
        }
    }
}

impl From<SpecError> for crate::Error {
    fn from(e: SpecError) -> Self {
        crate::Error::usage(e.to_string()).with_help(
            "use a device (/dev/ttyUSB0, COM3), socket://HOST:PORT or rfc2217://HOST:PORT",
        )
    }
}

impl PortSpec {
    /// Parse a `--port` value.
    pub fn parse(s: &str) -> Result<PortSpec, SpecError> {
        let value = s.trim();
        if value.is_empty() {
            return Err(SpecError::new(s, "empty port name"));
        }
        if let Some(rest) = strip_scheme(value, "socket://") {
            let (addr, query) = split_query(rest);
            if let Some(q) = query {
                return Err(SpecError::new(
                    s,
                    format!("socket:// takes no options (found `?{q}`)"),
                ));
            }
            return Ok(PortSpec::Socket(host_port(s, addr)?));
        }
        if let Some(rest) = strip_scheme(value, "rfc2217://") {
            let (addr, query) = split_query(rest);
            let mut url = Rfc2217Url {
                addr: host_port(s, addr)?,
                ign_set_control: false,
            };
            for opt in query.into_iter().flat_map(|q| q.split('&')) {
                match opt {
                    "" => {}
                    "ign_set_control" => url.ign_set_control = true,
                    other => {
                        return Err(SpecError::new(
                            s,
                            format!("unknown rfc2217:// option `{other}` (known: ign_set_control)"),
                        ))
                    }
                }
            }
            return Ok(PortSpec::Rfc2217(url));
        }
        if let Some((scheme, _)) = value.split_once("://") {
            return Err(SpecError::new(
                s,
                format!("unknown scheme `{scheme}://` (known: socket://, rfc2217://)"),
            ));
        }
        Ok(PortSpec::Serial(value.to_string()))
    }

    /// A network port (`socket://` or `rfc2217://`).
    pub fn is_network(&self) -> bool {
        !matches!(self, PortSpec::Serial(_))
    }

    /// A raw TCP socket: no baud rate and no modem lines at all.
    pub fn is_socket(&self) -> bool {
        matches!(self, PortSpec::Socket(_))
    }

    /// Whether the baud rate set on this port reaches the module's UART.
    pub fn carries_baud(&self) -> bool {
        !self.is_socket()
    }
}

impl fmt::Display for PortSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PortSpec::Serial(p) => f.write_str(p),
            PortSpec::Socket(a) => write!(f, "socket://{a}"),
            PortSpec::Rfc2217(u) => {
                write!(f, "rfc2217://{}", u.addr)?;
                if u.ign_set_control {
                    f.write_str("?ign_set_control")?;
                }
                Ok(())
            }
        }
    }
}

fn strip_scheme<'a>(s: &'a str, scheme: &str) -> Option<&'a str> {
    let head = s.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme)
        .then(|| &s[scheme.len()..])
}

fn split_query(rest: &str) -> (&str, Option<&str>) {
    match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    }
}

/// Check `HOST:PORT` (a trailing `/` is tolerated, as pyserial does).
fn host_port(original: &str, addr: &str) -> Result<String, SpecError> {
    let addr = addr.trim_end_matches('/');
    let (host, port) = if let Some(rest) = addr.strip_prefix('[') {
        let (h, p) = rest
            .split_once(']')
            .ok_or_else(|| SpecError::new(original, "an IPv6 address needs its closing `]`"))?;
        (h, p.strip_prefix(':'))
    } else {
        match addr.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h, Some(p)),
            Some(_) => {
                return Err(SpecError::new(
                    original,
                    "write an IPv6 address in brackets: [::1]:4000",
                ))
            }
            None => (addr, None),
        }
    };
    if host.is_empty() {
        return Err(SpecError::new(original, "the host is missing (HOST:PORT)"));
    }
    let port =
        port.ok_or_else(|| SpecError::new(original, "the TCP port is missing (HOST:PORT)"))?;
    match port.parse::<u32>() {
        Ok(p) if (1..=65535).contains(&p) => Ok(addr.to_string()),
        _ => Err(SpecError::new(
            original,
            format!("`{port}` is not a TCP port (1-65535)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_kinds_parse() {
        assert_eq!(
            PortSpec::parse("/dev/ttyUSB0").unwrap(),
            PortSpec::Serial("/dev/ttyUSB0".into())
        );
        assert_eq!(
            PortSpec::parse("COM3").unwrap(),
            PortSpec::Serial("COM3".into())
        );
        assert_eq!(
            PortSpec::parse("socket://127.0.0.1:4000/").unwrap(),
            PortSpec::Socket("127.0.0.1:4000".into())
        );
        assert_eq!(
            PortSpec::parse("rfc2217://[::1]:2217?ign_set_control").unwrap(),
            PortSpec::Rfc2217(Rfc2217Url {
                addr: "[::1]:2217".into(),
                ign_set_control: true
            })
        );
        assert_eq!(
            PortSpec::parse("RFC2217://pi.local:4000")
                .unwrap()
                .to_string(),
            "rfc2217://pi.local:4000"
        );
    }

    #[test]
    fn bad_values_say_why() {
        for (bad, why) in [
            ("", "empty"),
            ("socket://127.0.0.1", "port is missing"),
            ("socket://127.0.0.1:0", "not a TCP port"),
            ("socket://127.0.0.1:70000", "not a TCP port"),
            ("socket://:4000", "host is missing"),
            ("rfc2217://::1:4000", "brackets"),
            ("rfc2217://h:1?timeout=3", "unknown rfc2217:// option"),
            ("socket://h:1?logging=debug", "no options"),
            ("telnet://h:23", "unknown scheme"),
        ] {
            let e = PortSpec::parse(bad).unwrap_err();
            assert!(e.to_string().contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn kinds() {
        let s = PortSpec::parse("socket://h:1").unwrap();
        assert!(s.is_network() && s.is_socket() && !s.carries_baud());
        let r = PortSpec::parse("rfc2217://h:1").unwrap();
        assert!(r.is_network() && !r.is_socket() && r.carries_baud());
    }
}
