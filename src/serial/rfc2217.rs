//! `rfc2217://HOST:PORT`: a serial port on another machine, through a Telnet
//! COM-PORT-OPTION server (RFC 2217; ser2net's `telnet(rfc2217)` accepter,
//! esptool's `esp_rfc2217_server`), as a `serialport::SerialPort` so the
//! loader and the monitor drive it like a local port.
//!
//! Written against RFC 2217 on top of [`super::telnet`] (RFC 854/855); see
//! `docs/SERIAL.md` for why no crate is used. What goes over the network:
//!
//! * at open: BINARY and SGA both ways and COM-PORT-OPTION offered; once the
//!   server agrees, baud rate, 8 data bits, no parity, 1 stop bit and no
//!   flow control are set, and the server's confirmation of each is awaited;
//! * a baud change: one SET-BAUDRATE, confirmed before the call returns (the
//!   loader sends its next command at the new rate right after);
//! * DTR/RTS: one SET-CONTROL each, confirmed within four round trips of
//!   the open's settings (at most 1 s). A server that does not confirm, or
//!   confirms another state (ser2net in front of a pty
//!   cannot drive the lines and stays silent), marks the port as unable to
//!   drive DTR/RTS: every later request fails at once without network
//!   traffic, and the caller says so once (pyserial's `ign_set_control`
//!   skips the confirmation instead; it is accepted as an option).
//!
//! What stays local — this is what keeps the port fast: read timeouts (the
//! loader changes its timeout before every read; pyserial's client
//! renegotiates the whole port each time), and discarding received input
//! (drained from the socket, no PURGE-DATA round trip).

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};

use super::spec::Rfc2217Url;
use super::telnet::{self, Control, BINARY, COM_PORT_OPTION, DO, DONT, SGA, WILL, WONT};

/// Client-to-server COM-PORT-OPTION commands (the server answers code + 100).
const SET_BAUDRATE: u8 = 1;
const SET_DATASIZE: u8 = 2;
const SET_PARITY: u8 = 3;
const SET_STOPSIZE: u8 = 4;
const SET_CONTROL: u8 = 5;
const SERVER_OFFSET: u8 = 100;

/// SET-CONTROL values.
const CONTROL_NO_FLOW: u8 = 1;
const CONTROL_BREAK_ON: u8 = 5;
const CONTROL_BREAK_OFF: u8 = 6;
const CONTROL_DTR_ON: u8 = 8;
const CONTROL_DTR_OFF: u8 = 9;
const CONTROL_RTS_ON: u8 = 11;
const CONTROL_RTS_OFF: u8 = 12;

/// How long the server may take to agree to RFC 2217 and confirm settings.
const NEGOTIATION_TIMEOUT: Duration = Duration::from_secs(3);
/// How long a DTR/RTS change may take to be confirmed, at most. A server
/// that can drive the line confirms as fast as it confirmed the serial
/// settings at open; one that cannot (ser2net in front of a pty) never
/// does, and each flash or monitor run would wait this long for nothing.
/// So the wait is four times the settings' round trip plus 100 ms, within
/// [`CONTROL_TIMEOUT_MIN`, `CONTROL_TIMEOUT`].
const CONTROL_TIMEOUT: Duration = Duration::from_secs(1);
const CONTROL_TIMEOUT_MIN: Duration = Duration::from_millis(150);

/// A serial port behind an RFC 2217 server.
pub struct Rfc2217Port {
    stream: TcpStream,
    url: Rfc2217Url,
    /// Everything the `&self` methods of `SerialPort` (`clear`,
    /// `bytes_to_read`) must reach too.
    st: Mutex<State>,
    timeout: Duration,
    baud: u32,
    data_bits: DataBits,
    parity: Parity,
    stop_bits: StopBits,
    /// The wait for a DTR/RTS confirmation (see [`CONTROL_TIMEOUT`]).
    control_timeout: Duration,
}

struct State {
    decoder: telnet::Decoder,
    /// Received data not yet read.
    data: VecDeque<u8>,
    /// COM-PORT-OPTION answers not yet consumed: (command code, payload).
    answers: Vec<(u8, Vec<u8>)>,
    /// Our side / the server's side of each option: `Some(true)` enabled or
    /// requested, `Some(false)` refused; a reply goes out only when a state
    /// changes, so two peers never loop (RFC 1143).
    ours: [Option<bool>; 256],
    theirs: [Option<bool>; 256],
    /// The server answered our WILL COM-PORT-OPTION with DO.
    com_port: bool,
    /// Set once the server failed to drive DTR/RTS: why.
    no_control: Option<String>,
    scratch: Vec<u8>,
    closed: bool,
}

impl State {
    fn new() -> State {
        State {
            decoder: telnet::Decoder::new(),
            data: VecDeque::new(),
            answers: Vec::new(),
            ours: [None; 256],
            theirs: [None; 256],
            com_port: false,
            no_control: None,
            scratch: vec![0u8; 16 * 1024],
            closed: false,
        }
    }

    /// Decode bytes from the server: data to the buffer, COM-PORT answers
    /// filed; returns the negotiation replies to send.
    fn receive(&mut self, input: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        let mut controls = Vec::new();
        self.decoder.feed(input, &mut data, &mut controls);
        self.data.extend(data);
        let mut replies = Vec::new();
        for c in controls {
            if let Some(reply) = self.control(c) {
                replies.extend_from_slice(&reply);
            }
        }
        replies
    }

    /// Answer the server's option negotiation; file COM-PORT answers.
    fn control(&mut self, c: Control) -> Option<[u8; 3]> {
        match c {
            Control::Negotiate { verb, option } => {
                let i = option as usize;
                let (side, on) = match verb {
                    DO => {
                        if option == COM_PORT_OPTION {
                            self.com_port = true;
                        }
                        (
                            &mut self.ours,
                            matches!(option, BINARY | SGA | COM_PORT_OPTION),
                        )
                    }
                    // BINARY and SGA are welcome; ECHO (and anything else)
                    // is refused: an echoing server would send our own
                    // bytes back as if the module had said them.
                    WILL => (&mut self.theirs, matches!(option, BINARY | SGA)),
                    DONT => (&mut self.ours, false),
                    WONT => (&mut self.theirs, false),
                    _ => return None,
                };
                if side[i] != Some(on) {
                    side[i] = Some(on);
                    let reply = match (verb, on) {
                        (DO | DONT, true) => WILL,
                        (DO | DONT, false) => WONT,
                        (_, true) => DO,
                        (_, false) => DONT,
                    };
                    return Some(telnet::negotiate(reply, option));
                }
            }
            Control::Subnegotiation { option, data } => {
                if option != COM_PORT_OPTION {
                    return None;
                }
                if let Some((&code, payload)) = data.split_first() {
                    // Answers to our commands are code + 100; line and modem
                    // state notifications (106, 107) and flow-control
                    // requests (108, 109) carry nothing the loader needs.
                    if (SERVER_OFFSET + SET_BAUDRATE..=SERVER_OFFSET + SET_CONTROL).contains(&code)
                    {
                        self.answers.push((code - SERVER_OFFSET, payload.to_vec()));
                    }
                }
            }
        }
        None
    }
}

/// What the client made of a server's bytes ([`replay_server_bytes`]).
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct ServerReplay {
    /// Negotiation replies it sent.
    pub replies: Vec<u8>,
    /// Data it kept for the reader.
    pub data: Vec<u8>,
    /// COM-PORT answers it filed: (command code, payload).
    pub answers: Vec<(u8, Vec<u8>)>,
}

/// What the client makes of `input` from a server, without a socket. For the
/// fuzz target and its corpus replay (`docs/TESTING.md`, "Fuzzing").
#[doc(hidden)]
pub fn replay_server_bytes(input: &[u8]) -> ServerReplay {
    let mut st = State::new();
    // As after the opening offer in `negotiate`.
    for opt in [BINARY, SGA, COM_PORT_OPTION] {
        st.ours[opt as usize] = Some(true);
    }
    for opt in [BINARY, SGA] {
        st.theirs[opt as usize] = Some(true);
    }
    let replies = st.receive(input);
    ServerReplay {
        replies,
        data: st.data.into_iter().collect(),
        answers: st.answers,
    }
}

fn other(msg: impl Into<String>) -> io::Error {
    io::Error::other(msg.into())
}

impl Rfc2217Port {
    /// Negotiate on a connected stream; the line is set to `baud` 8N1.
    pub fn over(stream: TcpStream, url: &Rfc2217Url, baud: u32) -> io::Result<Rfc2217Port> {
        stream.set_nodelay(true)?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        let port = Rfc2217Port {
            stream,
            url: url.clone(),
            st: Mutex::new(State::new()),
            timeout: Duration::from_millis(100),
            baud,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
            control_timeout: CONTROL_TIMEOUT,
        };
        let mut port = port;
        let rtt = port.negotiate(baud).map_err(|e| match e.kind() {
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => other(format!(
                "{} closed the connection during RFC 2217 negotiation (the server could not \
                 open its serial device, or another client holds it)",
                url.addr
            )),
            _ => e,
        })?;
        port.control_timeout =
            (rtt * 4 + Duration::from_millis(100)).clamp(CONTROL_TIMEOUT_MIN, CONTROL_TIMEOUT);
        Ok(port)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Agree on RFC 2217 and set the line; returns how long the server
    /// took to confirm the settings.
    fn negotiate(&self, baud: u32) -> io::Result<Duration> {
        let mut st = self.state();
        let mut hello = Vec::new();
        for (verb, opt) in [
            (WILL, BINARY),
            (DO, BINARY),
            (WILL, SGA),
            (DO, SGA),
            (WILL, COM_PORT_OPTION),
        ] {
            hello.extend_from_slice(&telnet::negotiate(verb, opt));
            match verb {
                WILL => st.ours[opt as usize] = Some(true),
                _ => st.theirs[opt as usize] = Some(true),
            }
        }
        self.send_raw(&hello)?;
        let deadline = Instant::now() + NEGOTIATION_TIMEOUT;
        let addr = &self.url.addr;
        // The server accepts COM-PORT-OPTION with DO (or refuses with DONT).
        while !st.com_port {
            if st.ours[COM_PORT_OPTION as usize] == Some(false) {
                return Err(other(format!(
                    "{addr} refused RFC 2217 (COM-PORT-OPTION); for a raw TCP serial \
                     server use socket://{addr}"
                )));
            }
            if !self.pump(&mut st, deadline)? {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "no RFC 2217 negotiation from {addr} within {} s; is it a Telnet \
                         RFC 2217 server (ser2net `telnet(rfc2217)`)? For a raw TCP port \
                         use socket://{addr}",
                        NEGOTIATION_TIMEOUT.as_secs(),
                    ),
                ));
            }
        }
        let mut settings = Vec::new();
        for (code, payload) in [
            (SET_BAUDRATE, baud.to_be_bytes().to_vec()),
            (SET_DATASIZE, vec![8]),
            (SET_PARITY, vec![1]),
            (SET_STOPSIZE, vec![1]),
            (SET_CONTROL, vec![CONTROL_NO_FLOW]),
        ] {
            let mut p = vec![code];
            p.extend(payload);
            settings.extend(telnet::subnegotiation(COM_PORT_OPTION, &p));
        }
        let sent = Instant::now();
        self.send_raw(&settings)?;
        for code in [SET_BAUDRATE, SET_DATASIZE, SET_PARITY, SET_STOPSIZE] {
            if self
                .await_answer(&mut st, code, deadline, |_| true)?
                .is_none()
            {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "{addr} did not confirm the serial settings within {} s",
                        NEGOTIATION_TIMEOUT.as_secs()
                    ),
                ));
            }
        }
        Ok(sent.elapsed())
    }

    fn send_raw(&self, bytes: &[u8]) -> io::Result<()> {
        (&self.stream).write_all(bytes)
    }

    fn send_command(&self, code: u8, payload: &[u8]) -> io::Result<()> {
        let mut p = Vec::with_capacity(payload.len() + 1);
        p.push(code);
        p.extend_from_slice(payload);
        self.send_raw(&telnet::subnegotiation(COM_PORT_OPTION, &p))
    }

    /// Read once from the socket (waiting until `deadline` at most) and
    /// decode. `Ok(false)` when nothing arrived in time.
    fn pump(&self, st: &mut State, deadline: Instant) -> io::Result<bool> {
        if st.closed {
            return Err(closed_error());
        }
        let now = Instant::now();
        if now >= deadline {
            return Ok(false);
        }
        // A zero timeout means "block forever" to the OS; never ask for it.
        let wait = (deadline - now).max(Duration::from_millis(1));
        self.stream.set_read_timeout(Some(wait))?;
        let n = match (&self.stream).read(&mut st.scratch) {
            Ok(0) => {
                st.closed = true;
                return Err(closed_error());
            }
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) =>
            {
                return Ok(false)
            }
            Err(e) => return Err(e),
        };
        self.absorb(st, n)?;
        Ok(true)
    }

    /// Decode `st.scratch[..n]`: data to the buffer, controls handled, the
    /// negotiation replies sent.
    fn absorb(&self, st: &mut State, n: usize) -> io::Result<()> {
        let scratch = std::mem::take(&mut st.scratch);
        let replies = st.receive(&scratch[..n]);
        st.scratch = scratch;
        if replies.is_empty() {
            return Ok(());
        }
        self.send_raw(&replies)
    }

    /// Wait for the server's answer to `code` whose payload `accept`s.
    fn await_answer(
        &self,
        st: &mut State,
        code: u8,
        deadline: Instant,
        accept: impl Fn(&[u8]) -> bool,
    ) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = st.answers.iter().position(|(c, p)| *c == code && accept(p)) {
                return Ok(Some(st.answers.remove(i).1));
            }
            if !self.pump(st, deadline)? {
                return Ok(None);
            }
        }
    }

    /// Set a modem line and wait for the server to confirm it.
    fn set_line(&mut self, name: &str, on: bool, values: (u8, u8)) -> serialport::Result<()> {
        let mut st = self.state();
        if let Some(why) = &st.no_control {
            return Err(unsupported(why));
        }
        let value = if on { values.0 } else { values.1 };
        st.answers.retain(|(c, _)| *c != SET_CONTROL);
        self.send_command(SET_CONTROL, &[value])?;
        if self.url.ign_set_control {
            return Ok(());
        }
        // Answers for this line only (request, on, off): a late answer about
        // flow control or the other line is not a verdict on this one.
        let family = [values.0 - 1, values.0, values.1];
        let deadline = Instant::now() + self.control_timeout;
        let answer = self.await_answer(&mut st, SET_CONTROL, deadline, |p| {
            p.first().is_some_and(|v| family.contains(v))
        })?;
        let why = match answer.as_deref() {
            Some([v]) if *v == value => return Ok(()),
            Some(_) => format!("the server cannot set {name} (it answered with another state)"),
            None => format!(
                "the server did not confirm {name} within {} ms",
                self.control_timeout.as_millis()
            ),
        };
        st.no_control = Some(why.clone());
        Err(unsupported(&why))
    }

    fn set_setting(&mut self, code: u8, payload: &[u8], what: &str) -> serialport::Result<()> {
        let mut st = self.state();
        st.answers.retain(|(c, _)| *c != code);
        self.send_command(code, payload)?;
        let deadline = Instant::now() + NEGOTIATION_TIMEOUT;
        let addr = &self.url.addr;
        match self.await_answer(&mut st, code, deadline, |_| true)? {
            Some(p) if p == payload => Ok(()),
            Some(p) => Err(serialport::Error::new(
                serialport::ErrorKind::InvalidInput,
                format!(
                    "{addr} set {what} to {} instead of {}",
                    setting_value(&p),
                    setting_value(payload)
                ),
            )),
            None => Err(serialport::Error::new(
                serialport::ErrorKind::Io(io::ErrorKind::TimedOut),
                format!("{addr} did not confirm {what}"),
            )),
        }
    }

    /// Decode whatever is already waiting in the socket, without blocking.
    fn drain_socket(&self, st: &mut State) -> io::Result<()> {
        self.stream.set_nonblocking(true)?;
        let result = loop {
            match (&self.stream).read(&mut st.scratch) {
                Ok(0) => {
                    st.closed = true;
                    break Ok(());
                }
                Ok(n) => {
                    if let Err(e) = self.absorb(st, n) {
                        break Err(e);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => break Err(e),
            }
        };
        self.stream.set_nonblocking(false)?;
        result
    }
}

fn closed_error() -> io::Error {
    io::Error::new(
        io::ErrorKind::ConnectionAborted,
        "the RFC 2217 server closed the connection",
    )
}

fn unsupported(why: &str) -> serialport::Error {
    serialport::Error::new(serialport::ErrorKind::Unknown, why.to_string())
}

impl Read for Rfc2217Port {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let deadline = Instant::now() + self.timeout;
        let mut st = self.state();
        while st.data.is_empty() {
            if !self.pump(&mut st, deadline)? && Instant::now() >= deadline {
                return Err(io::Error::new(io::ErrorKind::TimedOut, "read timed out"));
            }
        }
        let n = buf.len().min(st.data.len());
        for (slot, b) in buf.iter_mut().zip(st.data.drain(..n)) {
            *slot = b;
        }
        Ok(n)
    }
}

impl Write for Rfc2217Port {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut wire = Vec::with_capacity(buf.len() + 8);
        telnet::escape_into(buf, &mut wire);
        self.send_raw(&wire)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        (&self.stream).flush()
    }
}

impl SerialPort for Rfc2217Port {
    fn name(&self) -> Option<String> {
        Some(format!("rfc2217://{}", self.url.addr))
    }
    fn baud_rate(&self) -> serialport::Result<u32> {
        Ok(self.baud)
    }
    fn data_bits(&self) -> serialport::Result<DataBits> {
        Ok(self.data_bits)
    }
    fn flow_control(&self) -> serialport::Result<FlowControl> {
        Ok(FlowControl::None)
    }
    fn parity(&self) -> serialport::Result<Parity> {
        Ok(self.parity)
    }
    fn stop_bits(&self) -> serialport::Result<StopBits> {
        Ok(self.stop_bits)
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn set_baud_rate(&mut self, baud_rate: u32) -> serialport::Result<()> {
        if baud_rate == self.baud {
            return Ok(());
        }
        self.set_setting(SET_BAUDRATE, &baud_rate.to_be_bytes(), "the baud rate")?;
        self.baud = baud_rate;
        Ok(())
    }
    fn set_data_bits(&mut self, bits: DataBits) -> serialport::Result<()> {
        if bits == self.data_bits {
            return Ok(());
        }
        let v = match bits {
            DataBits::Five => 5,
            DataBits::Six => 6,
            DataBits::Seven => 7,
            DataBits::Eight => 8,
        };
        self.set_setting(SET_DATASIZE, &[v], "the data bits")?;
        self.data_bits = bits;
        Ok(())
    }
    fn set_flow_control(&mut self, flow: FlowControl) -> serialport::Result<()> {
        match flow {
            FlowControl::None => Ok(()),
            _ => Err(unsupported("flow control is not used on rfc2217:// ports")),
        }
    }
    fn set_parity(&mut self, parity: Parity) -> serialport::Result<()> {
        if parity == self.parity {
            return Ok(());
        }
        let v = match parity {
            Parity::None => 1,
            Parity::Odd => 2,
            Parity::Even => 3,
        };
        self.set_setting(SET_PARITY, &[v], "the parity")?;
        self.parity = parity;
        Ok(())
    }
    fn set_stop_bits(&mut self, stop: StopBits) -> serialport::Result<()> {
        if stop == self.stop_bits {
            return Ok(());
        }
        let v = match stop {
            StopBits::One => 1,
            StopBits::Two => 2,
        };
        self.set_setting(SET_STOPSIZE, &[v], "the stop bits")?;
        self.stop_bits = stop;
        Ok(())
    }
    fn set_timeout(&mut self, timeout: Duration) -> serialport::Result<()> {
        // Local only: nothing goes to the server.
        self.timeout = timeout;
        Ok(())
    }
    fn write_request_to_send(&mut self, level: bool) -> serialport::Result<()> {
        self.set_line("RTS", level, (CONTROL_RTS_ON, CONTROL_RTS_OFF))
    }
    fn write_data_terminal_ready(&mut self, level: bool) -> serialport::Result<()> {
        self.set_line("DTR", level, (CONTROL_DTR_ON, CONTROL_DTR_OFF))
    }
    fn read_clear_to_send(&mut self) -> serialport::Result<bool> {
        Ok(true)
    }
    fn read_data_set_ready(&mut self) -> serialport::Result<bool> {
        Ok(true)
    }
    fn read_ring_indicator(&mut self) -> serialport::Result<bool> {
        Ok(false)
    }
    fn read_carrier_detect(&mut self) -> serialport::Result<bool> {
        Ok(true)
    }
    fn bytes_to_read(&self) -> serialport::Result<u32> {
        let mut st = self.state();
        self.drain_socket(&mut st)?;
        Ok(st.data.len() as u32)
    }
    fn bytes_to_write(&self) -> serialport::Result<u32> {
        Ok(0)
    }
    fn clear(&self, buffer_to_clear: ClearBuffer) -> serialport::Result<()> {
        if matches!(buffer_to_clear, ClearBuffer::Output) {
            return Ok(());
        }
        // Drop what arrived so far, locally: a PURGE-DATA round trip before
        // every loader command would cost more than the command.
        let mut st = self.state();
        self.drain_socket(&mut st)?;
        st.data.clear();
        Ok(())
    }
    fn try_clone(&self) -> serialport::Result<Box<dyn SerialPort>> {
        Err(unsupported("an rfc2217:// port cannot be shared"))
    }
    fn set_break(&self) -> serialport::Result<()> {
        self.send_command(SET_CONTROL, &[CONTROL_BREAK_ON])
            .map_err(Into::into)
    }
    fn clear_break(&self) -> serialport::Result<()> {
        self.send_command(SET_CONTROL, &[CONTROL_BREAK_OFF])
            .map_err(Into::into)
    }
}

/// A COM-PORT-OPTION value as a person reads it: the number its bytes
/// hold (a baud rate is four bytes, a data size or parity one), or the
/// bytes in hex.
fn setting_value(bytes: &[u8]) -> String {
    match bytes {
        [a] => a.to_string(),
        [a, b, c, d] => u32::from_be_bytes([*a, *b, *c, *d]).to_string(),
        other => other
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}
