//! The monitor's view of a port: bounded reads, the baud rate, a reset into
//! the firmware. Any [`PortSpec`] works — the port is opened by
//! [`super::transport::open`] and reset by [`super::control`], exactly as
//! for flashing. Every read is bounded by a timeout so `--timeout` holds on
//! a silent line.

use std::io;
use std::time::Duration;

use serialport::SerialPort;

use super::control::{self, Lines};
use super::transport::{self, OpenError, PortSpec};

/// Result of one bounded read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// This many bytes arrived.
    Data(usize),
    /// Nothing arrived within the wait.
    Idle,
    /// The other end closed the connection (network ports).
    Eof,
}

/// A console the monitor can read.
pub trait ConsolePort {
    /// Read what is available, waiting at most `wait`.
    fn read_some(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<ReadOutcome>;
    /// Whether [`ConsolePort::set_baud`] reaches the module's UART (not
    /// over `socket://`).
    fn can_set_baud(&self) -> bool;
    fn set_baud(&mut self, baud: u32) -> io::Result<()>;
    /// Reset the module into its firmware ([`control::run_firmware`]).
    /// `Ok(false)` when the port has no lines at all (`socket://`); an
    /// error when it has them but cannot drive them (a pty, an RFC 2217
    /// server in front of one).
    fn reset_to_firmware(&mut self) -> io::Result<bool>;
    /// What this port is, for messages.
    fn describe(&self) -> String;
}

/// A console on any kind of port.
pub struct Console {
    port: Box<dyn SerialPort>,
    spec: PortSpec,
    lines: Lines,
}

/// Open a console at `baud`.
pub fn open(spec: &PortSpec, baud: u32) -> Result<Box<dyn ConsolePort>, OpenError> {
    let port = transport::open(spec, baud)?;
    Ok(Box::new(Console {
        port,
        spec: spec.clone(),
        lines: Lines::for_spec(spec),
    }))
}

impl ConsolePort for Console {
    fn read_some(&mut self, buf: &mut [u8], wait: Duration) -> io::Result<ReadOutcome> {
        // A zero timeout means "block forever" to the OS; never ask for it.
        self.port
            .set_timeout(wait.max(Duration::from_millis(1)))
            .map_err(io::Error::other)?;
        match self.port.read(buf) {
            Ok(0) if self.spec.is_network() => Ok(ReadOutcome::Eof),
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
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::UnexpectedEof
                ) =>
            {
                Ok(ReadOutcome::Eof)
            }
            Err(e) => Err(e),
        }
    }
    fn can_set_baud(&self) -> bool {
        self.spec.carries_baud()
    }
    fn set_baud(&mut self, baud: u32) -> io::Result<()> {
        self.port.set_baud_rate(baud).map_err(io::Error::other)
    }
    fn reset_to_firmware(&mut self) -> io::Result<bool> {
        match &self.lines {
            Lines::Absent => Ok(false),
            Lines::Failed(no) => Err(io::Error::other(no.reason.clone())),
            Lines::Available => match control::run_firmware(self.port.as_mut()) {
                Ok(()) => Ok(true),
                Err(no) => {
                    let e = io::Error::other(no.reason.clone());
                    self.lines = Lines::Failed(no);
                    Err(e)
                }
            },
        }
    }
    fn describe(&self) -> String {
        self.spec.to_string()
    }
}
