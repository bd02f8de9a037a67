//! One grammar for broker addresses, shared by `fingerprint`, `probe` and
//! `init --broker/--from-broker`:
//!
//! * `host`, `host:port`
//! * `mqtts://host[:port]`, `ssl://…`, `tls://…`, `tcps://…` (the spellings
//!   of mosquitto_pub and MQTT client libraries; a trailing `/` is ignored)
//! * `[v6]`, `[v6]:port`, or a bare IPv6 literal (`::1`, `fe80::1%eth0`)
//!
//! The default port is 8883 (MQTT over TLS). Port 0 and ports above 65535
//! are errors, as is `mqtt://` (plain MQTT: the devices speak TLS).

use std::net::IpAddr;

/// Default MQTT-over-TLS port.
pub const DEFAULT_PORT: u16 = 8883;

/// A parsed broker address.
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

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

/// Why a target string is not usable (always a usage error, exit 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TargetError(pub String);

impl TargetError {
    /// The line of help every command prints with it.
    pub fn help() -> &'static str {
        "write HOST, HOST:PORT, mqtts://HOST[:PORT], [IPv6]:PORT or a bare IPv6 address \
         (default port 8883)"
    }
}

const TLS_SCHEMES: [&str; 4] = ["mqtts://", "ssl://", "tls://", "tcps://"];
const PLAIN_SCHEMES: [&str; 3] = ["mqtt://", "tcp://", "ws://"];

/// Parse a broker address (see the module documentation).
pub fn parse(input: &str) -> Result<Target, TargetError> {
    let mut s = input.trim();
    for scheme in PLAIN_SCHEMES {
        if starts_with_ignore_case(s, scheme) {
            return Err(TargetError(format!(
                "`{input}` names a plain (unencrypted) MQTT URL; the devices speak MQTT over \
                 TLS: use mqtts://HOST[:PORT]"
            )));
        }
    }
    for scheme in TLS_SCHEMES {
        if starts_with_ignore_case(s, scheme) {
            s = &s[scheme.len()..];
            break;
        }
    }
    let s = s.trim_end_matches('/');
    if s.is_empty() {
        return Err(TargetError(format!("`{input}`: the host is empty")));
    }
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
            "" => DEFAULT_PORT,
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
        // A bare IPv6 literal: every colon belongs to the address.
        if s.parse::<std::net::Ipv6Addr>().is_ok() || (s.contains('%') && !s.contains(' ')) {
            return Ok(Target {
                host: s.to_string(),
                port: DEFAULT_PORT,
            });
        }
        return Err(TargetError(format!(
            "`{input}` is neither HOST:PORT nor an IPv6 address (write [ADDR]:PORT)"
        )));
    }
    let (host, port) = match s.split_once(':') {
        Some((h, p)) => (h, parse_port(p)?),
        None => (s, DEFAULT_PORT),
    };
    if host.is_empty() {
        return Err(TargetError(format!("`{input}`: the host is empty")));
    }
    if !is_host_name(host) {
        return Err(TargetError(format!("`{host}` is not a host name")));
    }
    Ok(Target {
        host: host.to_string(),
        port,
    })
}

/// A DNS name or IPv4 address as a resolver takes it: labels of letters,
/// digits, `-` and `_` (non-ASCII letters for internationalised names)
/// separated by dots, none empty and none starting or ending with `-` (a
/// leading `-` would also read as an option to whoever sees the name next).
fn is_host_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.chars().count() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
        })
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn parse_port(p: &str) -> Result<u16, TargetError> {
    if p.is_empty() {
        return Err(TargetError(
            "the port after `:` is missing (leave out the `:` for the default 8883)".into(),
        ));
    }
    if !p.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TargetError(format!("`{p}` is not a port number (1-65535)")));
    }
    match p.parse::<u32>() {
        Ok(n) if (1..=65535).contains(&n) => Ok(n as u16),
        _ => Err(TargetError(format!("port `{p}` is out of range (1-65535)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_port_is_named_as_missing() {
        let e = parse("localhost:").unwrap_err();
        assert!(e.to_string().contains("port after `:` is missing"), "{e}");
    }

    fn ok(s: &str) -> (String, u16) {
        let t = parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        (t.host, t.port)
    }

    #[test]
    fn grammar() {
        assert_eq!(ok("broker"), ("broker".into(), 8883));
        assert_eq!(ok("broker:1883"), ("broker".into(), 1883));
        assert_eq!(ok("mqtts://broker"), ("broker".into(), 8883));
        assert_eq!(ok("MQTTS://broker:8884/"), ("broker".into(), 8884));
        assert_eq!(ok("ssl://10.0.0.1:8883"), ("10.0.0.1".into(), 8883));
        assert_eq!(ok("[::1]:9"), ("::1".into(), 9));
        assert_eq!(ok("[::1]"), ("::1".into(), 8883));
        assert_eq!(ok("::1"), ("::1".into(), 8883));
        assert_eq!(ok("fe80::1%eth0"), ("fe80::1%eth0".into(), 8883));
        assert_eq!(ok("my_host.example."), ("my_host.example.".into(), 8883));
        assert_eq!(ok("bücher.example:1"), ("bücher.example".into(), 1));
        for bad in [
            "",
            ":::",
            "h:0",
            "h:65536",
            "h:99999",
            "h:x",
            "h:",
            "[::1",
            "[::1]x",
            "mqtt://h",
            "a b",
            "h:-1",
            ":8883",
            "[nothost]:1",
            "-x",
            "-x:1",
            "a/b:1",
            "host name",
            "a..b",
            "a\"b",
            "a;b:1",
            "-",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} must be refused");
        }
    }
}
