//! Opening a port: every kind of [`PortSpec`] becomes one
//! `Box<dyn serialport::SerialPort>`, so the loader and the monitor drive
//! them the same way (and espflash 2.1's `Interface { serial_port }` would
//! accept them too).
//!
//! * a local device: the `serialport` crate;
//! * `socket://HOST:PORT`: [`TcpPort`], pyserial's `socket://` semantics
//!   (`docs/SERIAL.md`): baud, DTR and RTS are accepted and ignored (the far
//!   end — the emulator or a raw serial server — owns the line),
//!   `clear(Input)` drains what is buffered, and a read past the timeout is
//!   `TimedOut`, never `Ok(0)` (espflash's slip-codec takes `Ok(0)` for the
//!   end of the stream);
//! * `rfc2217://HOST:PORT`: [`super::rfc2217::Rfc2217Port`].

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use serialport::{ClearBuffer, DataBits, FlowControl, Parity, SerialPort, StopBits};

pub use super::spec::PortSpec;

/// Why a port could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("permission denied opening {port}")]
    PermissionDenied { port: String },
    #[error("serial port {port} does not exist")]
    NotFound { port: String },
    #[error("serial port {port} is in use by another program")]
    Busy { port: String },
    #[error("cannot open {port}: {reason}")]
    Other { port: String, reason: String },
    #[error("cannot connect to {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("{port}: {reason}")]
    Rfc2217 { port: String, reason: String },
}

impl From<OpenError> for crate::Error {
    fn from(e: OpenError) -> Self {
        let msg = e.to_string();
        match e {
            OpenError::PermissionDenied { .. } => crate::Error::unreachable(msg).with_help(
                "your user may not open serial ports: add it to the `dialout` group \
                 (`sudo usermod -aG dialout $USER`, on Arch `uucp`), then log out and in again",
            ),
            OpenError::NotFound { .. } => crate::Error::unreachable(msg).with_help(
                "is the module plugged in? `espmqtt ports` lists the serial ports this machine has",
            ),
            OpenError::Busy { port } => crate::Error::unreachable(msg).with_help(format!(
                "a second `espmqtt flash` or `espmqtt monitor`, esptool, screen, minicom or the \
                 Arduino serial monitor has it open (`fuser {port}` names the process): close it \
                 and run the command again"
            )),
            OpenError::Other { .. } => crate::Error::unreachable(msg).with_help(
                "another program (a serial monitor, esptool, the Arduino IDE) may hold the port; \
                 close it",
            ),
            OpenError::Connect { .. } => crate::Error::unreachable(msg).with_help(
                "is the serial server (ser2net) or `espmqtt emulate` listening on that address?",
            ),
            OpenError::Rfc2217 { .. } => crate::Error::unreachable(msg).with_help(
                "rfc2217:// needs a Telnet RFC 2217 server (ser2net with \
                 `accepter: telnet(rfc2217),tcp,PORT`); a raw TCP server is socket://",
            ),
        }
    }
}

/// Open a port at `baud`, 8N1, with a short default timeout.
pub fn open(spec: &PortSpec, baud: u32) -> Result<Box<dyn SerialPort>, OpenError> {
    match spec {
        PortSpec::Serial(path) => serialport::new(path.as_str(), baud)
            .timeout(Duration::from_millis(100))
            .flow_control(FlowControl::None)
            .open()
            .map_err(|e| classify_serial_error(path, e)),
        PortSpec::Socket(addr) => TcpPort::connect(addr, baud)
            .map(|p| Box::new(p) as Box<dyn SerialPort>)
            .map_err(|e| OpenError::Connect {
                addr: addr.clone(),
                reason: connect_words(&e),
            }),
        PortSpec::Rfc2217(url) => {
            let stream = connect_tcp(&url.addr).map_err(|e| OpenError::Connect {
                addr: url.addr.clone(),
                reason: connect_words(&e),
            })?;
            super::rfc2217::Rfc2217Port::over(stream, url, baud)
                .map(|p| Box::new(p) as Box<dyn SerialPort>)
                .map_err(|e| OpenError::Rfc2217 {
                    port: spec.to_string(),
                    reason: e.to_string(),
                })
        }
    }
}

/// Connect to `HOST:PORT`, trying each address it resolves to; 5 s per
/// address, as pyserial (`POLL_TIMEOUT`).
pub(crate) fn connect_tcp(addr: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the address did not resolve");
    for sa in addr.to_socket_addrs()? {
        match TcpStream::connect_timeout(&sa, Duration::from_secs(5)) {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Why a TCP connect failed, in words (no `(os error N)`).
fn connect_words(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => {
            "nothing is listening there (connection refused)".into()
        }
        io::ErrorKind::TimedOut => "no answer within 5 s (a firewall, or the host is down)".into(),
        _ => {
            let s = e.to_string();
            let s = match s.rfind(" (os error ") {
                Some(i) if s.ends_with(')') => s[..i].to_string(),
                _ => s,
            };
            match s.strip_prefix("failed to lookup address information: ") {
                Some(why) => format!("the host name does not resolve ({why})"),
                None => s,
            }
        }
    }
}

fn classify_serial_error(path: &str, e: serialport::Error) -> OpenError {
    let text = e.to_string();
    match e.kind() {
        // serialport says NoDevice for a port another process holds (its
        // exclusive flock, or TIOCEXCL's EBUSY) as for one that is gone.
        serialport::ErrorKind::NoDevice
            if text.contains("lock") || std::path::Path::new(path).exists() =>
        {
            OpenError::Busy {
                port: path.to_string(),
            }
        }
        serialport::ErrorKind::NoDevice => OpenError::NotFound {
            port: path.to_string(),
        },
        serialport::ErrorKind::Io(io::ErrorKind::NotFound) => OpenError::NotFound {
            port: path.to_string(),
        },
        serialport::ErrorKind::Io(io::ErrorKind::PermissionDenied) => OpenError::PermissionDenied {
            port: path.to_string(),
        },
        _ if text.contains("ermission denied") => OpenError::PermissionDenied {
            port: path.to_string(),
        },
        _ if text.contains("No such file") => OpenError::NotFound {
            port: path.to_string(),
        },
        _ => OpenError::Other {
            port: path.to_string(),
            reason: text,
        },
    }
}

/// `serialport::SerialPort` over a TCP stream (pyserial `socket://`).
pub struct TcpPort {
    stream: TcpStream,
    addr: String,
    baud: u32,
    timeout: Duration,
}

impl TcpPort {
    pub fn connect(addr: &str, baud: u32) -> io::Result<TcpPort> {
        let stream = connect_tcp(addr)?;
        // Small request/reply packets: Nagle would add 40 ms per command.
        stream.set_nodelay(true)?;
        let timeout = Duration::from_millis(100);
        stream.set_read_timeout(Some(timeout))?;
        stream.set_write_timeout(Some(Duration::from_secs(10)))?;
        Ok(TcpPort {
            stream,
            addr: addr.to_string(),
            baud,
            timeout,
        })
    }
}

impl Read for TcpPort {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.stream.read(buf) {
            Ok(0) if !buf.is_empty() => Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the remote end closed the connection",
            )),
            Ok(n) => Ok(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                Err(io::Error::new(io::ErrorKind::TimedOut, "read timed out"))
            }
            Err(e) => Err(e),
        }
    }
}

impl Write for TcpPort {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

fn unsupported<T>(what: &str) -> serialport::Result<T> {
    Err(serialport::Error::new(
        serialport::ErrorKind::Unknown,
        format!("{what} is not available on a socket:// port"),
    ))
}

impl SerialPort for TcpPort {
    fn name(&self) -> Option<String> {
        Some(format!("socket://{}", self.addr))
    }
    fn baud_rate(&self) -> serialport::Result<u32> {
        Ok(self.baud)
    }
    fn data_bits(&self) -> serialport::Result<DataBits> {
        Ok(DataBits::Eight)
    }
    fn flow_control(&self) -> serialport::Result<FlowControl> {
        Ok(FlowControl::None)
    }
    fn parity(&self) -> serialport::Result<Parity> {
        Ok(Parity::None)
    }
    fn stop_bits(&self) -> serialport::Result<StopBits> {
        Ok(StopBits::One)
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn set_baud_rate(&mut self, baud_rate: u32) -> serialport::Result<()> {
        // Stored only, like pyserial: the far end changes its own line speed.
        self.baud = baud_rate;
        Ok(())
    }
    fn set_data_bits(&mut self, _: DataBits) -> serialport::Result<()> {
        Ok(())
    }
    fn set_flow_control(&mut self, _: FlowControl) -> serialport::Result<()> {
        Ok(())
    }
    fn set_parity(&mut self, _: Parity) -> serialport::Result<()> {
        Ok(())
    }
    fn set_stop_bits(&mut self, _: StopBits) -> serialport::Result<()> {
        Ok(())
    }
    fn set_timeout(&mut self, timeout: Duration) -> serialport::Result<()> {
        // A zero read timeout means "block forever" to the OS; never allow it.
        let t = timeout.max(Duration::from_millis(1));
        self.stream.set_read_timeout(Some(t))?;
        self.timeout = t;
        Ok(())
    }
    fn write_request_to_send(&mut self, _: bool) -> serialport::Result<()> {
        Ok(())
    }
    fn write_data_terminal_ready(&mut self, _: bool) -> serialport::Result<()> {
        Ok(())
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
        let mut buf = [0u8; 4096];
        self.stream.set_nonblocking(true)?;
        let n = self.stream.peek(&mut buf);
        self.stream.set_nonblocking(false)?;
        match n {
            Ok(n) => Ok(n as u32),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(e) => Err(e.into()),
        }
    }
    fn bytes_to_write(&self) -> serialport::Result<u32> {
        Ok(0)
    }
    fn clear(&self, buffer_to_clear: ClearBuffer) -> serialport::Result<()> {
        if matches!(buffer_to_clear, ClearBuffer::Output) {
            return Ok(());
        }
        self.stream.set_nonblocking(true)?;
        let mut buf = [0u8; 4096];
        let mut s = &self.stream;
        let result = loop {
            match s.read(&mut buf) {
                Ok(0) => break Ok(()),
                Ok(_) => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        self.stream.set_nonblocking(false)?;
        result.map_err(Into::into)
    }
    fn try_clone(&self) -> serialport::Result<Box<dyn SerialPort>> {
        Ok(Box::new(TcpPort {
            stream: self.stream.try_clone()?,
            addr: self.addr.clone(),
            baud: self.baud,
            timeout: self.timeout,
        }))
    }
    fn set_break(&self) -> serialport::Result<()> {
        unsupported("BREAK")
    }
    fn clear_break(&self) -> serialport::Result<()> {
        unsupported("BREAK")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn tcp_port_times_out_and_reports_close() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap().to_string();
        let mut p = TcpPort::connect(&addr, 115200).unwrap();
        let (mut server, _) = l.accept().unwrap();
        p.set_timeout(Duration::from_millis(20)).unwrap();
        let mut b = [0u8; 4];
        assert_eq!(p.read(&mut b).unwrap_err().kind(), io::ErrorKind::TimedOut);
        server.write_all(b"abc").unwrap();
        std::thread::sleep(Duration::from_millis(20));
        p.clear(ClearBuffer::Input).unwrap();
        assert_eq!(p.read(&mut b).unwrap_err().kind(), io::ErrorKind::TimedOut);
        drop(server);
        std::thread::sleep(Duration::from_millis(20));
        assert_ne!(p.read(&mut b).unwrap_err().kind(), io::ErrorKind::TimedOut);
    }
}
