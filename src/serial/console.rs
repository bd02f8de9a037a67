//! Where the monitor reads the console from: a serial device (`serialport`)
//! or `socket://HOST:PORT` (a plain TCP stream, as pyserial and esptool
//! spell it; the emulator serves its console replay this way).
//!
//! Deliberately small: the monitor only reads, changes the baud rate and
//! pulses reset. The flashing transport ([`super::transport`]) carries the
//! loader protocol and lives elsewhere. Every read is bounded by a timeout
//! so `--timeout` holds on a silent line.

use std::io::{self, Read};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// Result of one bounded read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes arrived.
    Data(usize),
    /// Nothing arrived within the wait.
    Idle,
    /// The other end closed the connection (socket only).
    Eof,
}

/// A console the monitor can read.
pub trait ConsolePort {
    /// Read what is available, waiting at most `wait`.
    fn read_some(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<ReadOutcome>;
    /// Whether [`ConsolePort::set_baud`] means anything (not over TCP).
    fn can_set_baud(&self) -> bool;
    fn set_baud(&mut self, baud: u32) -> io::Result<()>;
    /// Reset the module into its firmware: GPIO0 high (DTR released), EN
    /// pulsed low with RTS — the esptool/NodeMCU auto-reset wiring
    /// (flashing.md §3.3). `Ok(false)` when the port cannot do it.
    fn reset_to_firmware(&mut self) -> io::Result<bool>;
    /// What this port is, for messages.
    fn describe(&self) -> String;
}

/// Where `--port` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortSpec {
    Socket(String),
    Serial(String),
}

impl PortSpec {
    pub fn parse(s: &str) -> PortSpec {
        match s.strip_prefix("socket://") {
            Some(addr) => PortSpec::Socket(addr.to_string()),
            None => PortSpec::Serial(s.to_string()),
        }
    }
}

/// Why a console could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("serial port {0} does not exist")]
    Missing(String),
    #[error("cannot open serial port {path}: {source}")]
    Serial {
        path: String,
        #[source]
        source: serialport::Error,
    },
    #[error("`{0}` is not HOST:PORT")]
    BadAddress(String),
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: io::Error,
    },
}

impl From<OpenError> for crate::Error {
    fn from(e: OpenError) -> Self {
        let msg = e.to_string();
        match e {
            OpenError::Missing(_) => crate::Error::unreachable(msg).with_help(
                "is the module plugged in? `espmqtt ports` lists the serial ports this machine has",
            ),
            OpenError::Serial { .. } => crate::Error::unreachable(msg).with_help(
                "another program (a monitor, esptool) may hold the port, or you lack permission \
                 (add yourself to the dialout group)",
            ),
            OpenError::BadAddress(_) => crate::Error::usage(msg)
                .with_help("use --port socket://127.0.0.1:PORT for the emulator"),
            OpenError::Connect { .. } => crate::Error::unreachable(msg)
                .with_help("is `espmqtt emulate --boot-mode flash` listening on that address?"),
        }
    }
}

/// Open a console at `baud`.
pub fn open(spec: &PortSpec, baud: u32) -> Result<Box<dyn ConsolePort>, OpenError> {
    match spec {
        PortSpec::Socket(addr) => Ok(Box::new(SocketConsole::connect(addr)?)),
        PortSpec::Serial(path) => Ok(Box::new(SerialConsole::open(path, baud)?)),
    }
}

/// `socket://HOST:PORT`.
pub struct SocketConsole {
    stream: TcpStream,
    addr: String,
}

impl SocketConsole {
    pub fn connect(addr: &str) -> Result<Self, OpenError> {
        let addrs: Vec<_> = addr
            .to_socket_addrs()
            .map_err(|_| OpenError::BadAddress(addr.to_string()))?
            .collect();
        let mut last = io::Error::new(io::ErrorKind::NotFound, "no address");
        for a in addrs {
            match TcpStream::connect_timeout(&a, Duration::from_secs(5)) {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return Ok(SocketConsole {
                        stream,
                        addr: addr.to_string(),
                    });
                }
                Err(e) => last = e,
            }
        }
        Err(OpenError::Connect {
            addr: addr.to_string(),
            source: last,
        })
    }
}

impl ConsolePort for SocketConsole {
    fn read_some(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<ReadOutcome> {
        // A zero timeout means "block forever" to the OS; never ask for it.
        self.stream
            .set_read_timeout(Some(wait.max(Duration::from_millis(1))))?;
        match self.stream.read(buf) {
            Ok(0) => Ok(ReadOutcome::Eof),
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                Ok(ReadOutcome::Idle)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(ReadOutcome::Idle),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
                ) =>
            {
                Ok(ReadOutcome::Eof)
            }
            Err(e) => Err(e),
        }
    }
    fn can_set_baud(&self) -> bool {
        false
    }
    fn set_baud(&mut self, _baud: u32) -> io::Result<()> {
        Ok(())
    }
    fn reset_to_firmware(&mut self) -> io::Result<bool> {
        Ok(false)
    }
    fn describe(&self) -> String {
        format!("socket://{}", self.addr)
    }
}

/// A USB-serial adapter.
pub struct SerialConsole {
    port: Box<dyn serialport::SerialPort>,
    path: String,
}

impl SerialConsole {
    pub fn open(path: &str, baud: u32) -> Result<Self, OpenError> {
        if !std::path::Path::new(path).exists() && !path.to_ascii_uppercase().starts_with("COM") {
            return Err(OpenError::Missing(path.to_string()));
        }
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(200))
            .open()
            .map_err(|source| match source.kind() {
                serialport::ErrorKind::NoDevice => OpenError::Missing(path.to_string()),
                _ => OpenError::Serial {
                    path: path.to_string(),
                    source,
                },
            })?;
        Ok(SerialConsole {
            port,
            path: path.to_string(),
        })
    }
}

impl ConsolePort for SerialConsole {
    fn read_some(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<ReadOutcome> {
        self.port
            .set_timeout(wait.max(Duration::from_millis(1)))
            .map_err(io::Error::other)?;
        match self.port.read(buf) {
            Ok(0) => Ok(ReadOutcome::Idle),
            Ok(n) => Ok(ReadOutcome::Data(n)),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut
                        | io::ErrorKind::WouldBlock
                        | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(ReadOutcome::Idle)
            }
            Err(e) => Err(e),
        }
    }
    fn can_set_baud(&self) -> bool {
        true
    }
    fn set_baud(&mut self, baud: u32) -> io::Result<()> {
        self.port.set_baud_rate(baud).map_err(io::Error::other)
    }
    fn reset_to_firmware(&mut self) -> io::Result<bool> {
        // DTR drives GPIO0, RTS drives EN (both inverted by the usual
        // transistor pair): GPIO0 high, then pulse EN low for 100 ms.
        self.port
            .write_data_terminal_ready(false)
            .map_err(io::Error::other)?;
        self.port
            .write_request_to_send(true)
            .map_err(io::Error::other)?;
        std::thread::sleep(Duration::from_millis(100));
        self.port
            .write_request_to_send(false)
            .map_err(io::Error::other)?;
        Ok(true)
    }
    fn describe(&self) -> String {
        self.path.clone()
    }
}
