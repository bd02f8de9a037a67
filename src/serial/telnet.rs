//! The Telnet framing RFC 2217 rides on (RFC 854 commands, RFC 855 option
//! negotiation and subnegotiation), as a pure byte codec: no sockets here.
//!
//! Data bytes equal to IAC (0xFF) are doubled on the wire; `IAC WILL/WONT/
//! DO/DONT opt` negotiates an option; `IAC SB opt … IAC SE` carries option
//! data (with IAC doubled inside too); any other `IAC cmd` is a two-byte
//! command (NOP, GA, …) that carries nothing for a serial link.

/// Interpret As Command.
pub const IAC: u8 = 255;
pub const DONT: u8 = 254;
pub const DO: u8 = 253;
pub const WONT: u8 = 252;
pub const WILL: u8 = 251;
/// Subnegotiation begin / end.
pub const SB: u8 = 250;
pub const SE: u8 = 240;

/// Options this client knows.
pub const BINARY: u8 = 0;
pub const ECHO: u8 = 1;
pub const SGA: u8 = 3;
pub const COM_PORT_OPTION: u8 = 44;

/// Longest subnegotiation kept (RFC 2217's longest is a signature string).
const MAX_SUBNEG: usize = 512;

/// Something decoded from the server's byte stream, other than data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    /// `IAC verb option` with verb WILL/WONT/DO/DONT.
    Negotiate { verb: u8, option: u8 },
    /// `IAC SB option data… IAC SE`.
    Subnegotiation { option: u8, data: Vec<u8> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Verb(u8),
    SbOption,
    Sb,
    SbIac,
}

/// Incremental decoder: feed it whatever the socket returned.
#[derive(Debug, Clone)]
pub struct Decoder {
    state: State,
    sb_option: u8,
    sb: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    pub fn new() -> Decoder {
        Decoder {
            state: State::Data,
            sb_option: 0,
            sb: Vec::new(),
        }
    }

    /// Decode `input`: data bytes are appended to `data`, everything else
    /// to `controls`, in stream order relative to each other.
    pub fn feed(&mut self, input: &[u8], data: &mut Vec<u8>, controls: &mut Vec<Control>) {
        for &b in input {
            self.state = match self.state {
                State::Data if b == IAC => State::Iac,
                State::Data => {
                    data.push(b);
                    State::Data
                }
                State::Iac => match b {
                    IAC => {
                        data.push(IAC);
                        State::Data
                    }
                    WILL | WONT | DO | DONT => State::Verb(b),
                    SB => State::SbOption,
                    // NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, a stray SE.
                    _ => State::Data,
                },
                State::Verb(verb) => {
                    controls.push(Control::Negotiate { verb, option: b });
                    State::Data
                }
                State::SbOption => {
                    self.sb_option = b;
                    self.sb.clear();
                    State::Sb
                }
                State::Sb if b == IAC => State::SbIac,
                State::Sb => {
                    if self.sb.len() < MAX_SUBNEG {
                        self.sb.push(b);
                    }
                    State::Sb
                }
                State::SbIac => match b {
                    SE => {
                        controls.push(Control::Subnegotiation {
                            option: self.sb_option,
                            data: std::mem::take(&mut self.sb),
                        });
                        State::Data
                    }
                    IAC => {
                        if self.sb.len() < MAX_SUBNEG {
                            self.sb.push(IAC);
                        }
                        State::Sb
                    }
                    // Not allowed inside SB; end it where a lenient peer would.
                    _ => State::Data,
                },
            };
        }
    }
}

/// Append `data` to `out` with every IAC doubled.
pub fn escape_into(data: &[u8], out: &mut Vec<u8>) {
    let extra = data.iter().filter(|&&b| b == IAC).count();
    out.reserve(data.len() + extra);
    for &b in data {
        if b == IAC {
            out.push(IAC);
        }
        out.push(b);
    }
}

/// `IAC verb option`.
pub fn negotiate(verb: u8, option: u8) -> [u8; 3] {
    [IAC, verb, option]
}

/// `IAC SB option payload… IAC SE`, payload escaped.
pub fn subnegotiation(option: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, option];
    escape_into(payload, &mut out);
    out.extend_from_slice(&[IAC, SE]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(chunks: &[&[u8]]) -> (Vec<u8>, Vec<Control>) {
        let mut d = Decoder::new();
        let (mut data, mut ctl) = (Vec::new(), Vec::new());
        for c in chunks {
            d.feed(c, &mut data, &mut ctl);
        }
        (data, ctl)
    }

    #[test]
    fn data_round_trips_through_escaping() {
        let payload: Vec<u8> = (0..=255u8).chain([IAC, IAC, 0x0D, 0x00]).collect();
        let mut wire = Vec::new();
        escape_into(&payload, &mut wire);
        assert_eq!(wire.len(), payload.len() + 3);
        // Split the wire at every position: the decoder keeps its state.
        for cut in 0..wire.len() {
            let (data, ctl) = decode(&[&wire[..cut], &wire[cut..]]);
            assert_eq!(data, payload, "cut at {cut}");
            assert!(ctl.is_empty());
        }
    }

    #[test]
    fn commands_and_subnegotiations_are_separated_from_data() {
        // What ser2net 4 sends on connect, data in between.
        let mut wire = vec![IAC, WILL, SGA, b'a', IAC, DO, COM_PORT_OPTION];
        wire.extend(subnegotiation(COM_PORT_OPTION, &[101, 0, 7, 8, 0]));
        wire.extend([b'b', IAC, 241 /* NOP */, b'c']);
        wire.extend(subnegotiation(COM_PORT_OPTION, &[105, IAC]));
        let (data, ctl) = decode(&[&wire]);
        assert_eq!(data, b"abc");
        assert_eq!(
            ctl,
            vec![
                Control::Negotiate {
                    verb: WILL,
                    option: SGA
                },
                Control::Negotiate {
                    verb: DO,
                    option: COM_PORT_OPTION
                },
                Control::Subnegotiation {
                    option: COM_PORT_OPTION,
                    data: vec![101, 0, 7, 8, 0]
                },
                Control::Subnegotiation {
                    option: COM_PORT_OPTION,
                    data: vec![105, IAC]
                },
            ]
        );
    }

    #[test]
    fn hostile_subnegotiations_stay_bounded() {
        let mut wire = vec![IAC, SB, COM_PORT_OPTION];
        wire.extend(std::iter::repeat(7u8).take(100_000));
        wire.extend([IAC, SE, b'z']);
        let (data, ctl) = decode(&[&wire]);
        assert_eq!(data, b"z");
        match &ctl[0] {
            Control::Subnegotiation { data, .. } => assert_eq!(data.len(), MAX_SUBNEG),
            other => panic!("{other:?}"),
        }
    }
}
