//! Fault injection (`--fault SPEC`, repeatable).
//!
//! Grammar (N counts from 1; counters run over the emulator's whole
//! lifetime, across connections, and each spec fires once):
//!
//! ```text
//! drop-reply:N[@OP]        the Nth reply is not sent (the command still runs)
//! corrupt-reply:N[@OP]     the Nth reply arrives garbled: bit 0 of its last
//!                          payload byte (e.g. the MD5 digest) or, without a
//!                          payload, of its value field is inverted; the
//!                          status stays "ok"
//! stall:N[@OP][:MS]        before the Nth reply the chip stops reading and
//!                          answering for MS milliseconds (default: until the
//!                          host disconnects)
//! bad-checksum:N[@OP]      the Nth data block (MEM_DATA, FLASH_DATA,
//!                          FLASH_DEFL_DATA) arrives with one bit flipped, so
//!                          the chip rejects it with a checksum error
//!                          (ROM 01 07, stub C1)
//! close-after:BYTES        the connection is closed once the chip has
//!                          received BYTES bytes (host → chip, SLIP-encoded)
//! flip-bit:N               after the Nth flash program operation (one
//!                          FLASH_DATA / FLASH_DEFL_DATA block) one bit of the
//!                          written range inverts in flash
//! ```
//!
//! `OP` restricts the count to one command: a hex opcode (`0x11`) or its
//! name (`flash-defl-data`, `spi-flash-md5`, `sync`, …). "Replies" are
//! command responses (each of the 8 SYNC replies counts); OHAI and
//! READ_FLASH data frames are not replies.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::flash::protocol::Opcode;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    DropReply,
    CorruptReply,
    Stall,
    BadChecksum,
    CloseAfter,
    FlipBit,
}

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::DropReply => "drop-reply",
            FaultKind::CorruptReply => "corrupt-reply",
            FaultKind::Stall => "stall",
            FaultKind::BadChecksum => "bad-checksum",
            FaultKind::CloseAfter => "close-after",
            FaultKind::FlipBit => "flip-bit",
        }
    }

    const ALL: [FaultKind; 6] = [
        FaultKind::DropReply,
        FaultKind::CorruptReply,
        FaultKind::Stall,
        FaultKind::BadChecksum,
        FaultKind::CloseAfter,
        FaultKind::FlipBit,
    ];
}

/// One parsed `--fault` argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// Occurrence (1-based) or, for `close-after`, a byte count.
    pub n: u64,
    /// Only count this opcode.
    pub op: Option<u8>,
    /// `stall` duration; `None` = until the host disconnects.
    pub duration: Option<Duration>,
}

impl fmt::Display for FaultSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.name(), self.n)?;
        if let Some(op) = self.op {
            write!(f, "@{op:#04x}")?;
        }
        if let Some(d) = self.duration {
            write!(f, ":{}", d.as_millis())?;
        }
        Ok(())
    }
}

/// Opcode names accepted after `@`.
pub fn opcode_by_name(s: &str) -> Option<u8> {
    let s = s.trim().to_ascii_lowercase().replace('_', "-");
    if let Some(hex) = s.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16).ok();
    }
    use Opcode::*;
    let op = match s.as_str() {
        "flash-begin" => FlashBegin,
        "flash-data" => FlashData,
        "flash-end" => FlashEnd,
        "mem-begin" => MemBegin,
        "mem-end" => MemEnd,
        "mem-data" => MemData,
        "sync" => Sync,
        "write-reg" => WriteReg,
        "read-reg" => ReadReg,
        "spi-set-params" => SpiSetParams,
        "spi-attach" => SpiAttach,
        "change-baudrate" => ChangeBaudrate,
        "flash-defl-begin" => FlashDeflBegin,
        "flash-defl-data" => FlashDeflData,
        "flash-defl-end" => FlashDeflEnd,
        "spi-flash-md5" => SpiFlashMd5,
        "erase-flash" => EraseFlash,
        "erase-region" => EraseRegion,
        "read-flash" => ReadFlash,
        "run-user-code" => RunUserCode,
        _ => return None,
    };
    Some(op as u8)
}

impl FromStr for FaultSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let grammar = "expected KIND:N[@OP][:MS] with KIND one of drop-reply, corrupt-reply, \
                       stall, bad-checksum, close-after, flip-bit (e.g. drop-reply:5, \
                       stall:3@flash-defl-data:2000, close-after:40000)";
        let mut parts = s.split(':');
        let kind_s = parts.next().unwrap_or("").trim();
        let kind = FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == kind_s)
            .ok_or_else(|| format!("unknown fault kind `{kind_s}`: {grammar}"))?;
        let count_s = parts
            .next()
            .ok_or_else(|| format!("`{s}` has no count: {grammar}"))?;
        let (n_s, op_s) = match count_s.split_once('@') {
            Some((n, op)) => (n, Some(op)),
            None => (count_s, None),
        };
        let n: u64 = n_s
            .trim()
            .parse()
            .map_err(|_| format!("`{n_s}` in `{s}` is not a number: {grammar}"))?;
        if n == 0 {
            return Err(format!("`{s}`: counts start at 1"));
        }
        let op = match op_s {
            None => None,
            Some(o) => Some(opcode_by_name(o).ok_or_else(|| {
                format!(
                    "`{o}` in `{s}` is not an opcode (use 0x11 or a name such as flash-defl-data)"
                )
            })?),
        };
        if op.is_some() && matches!(kind, FaultKind::CloseAfter | FaultKind::FlipBit) {
            return Err(format!("`{s}`: {} takes no @OP", kind.name()));
        }
        let duration = match parts.next() {
            None => None,
            Some(ms) if kind == FaultKind::Stall => {
                Some(Duration::from_millis(ms.trim().parse().map_err(|_| {
                    format!("`{ms}` in `{s}` is not a number of milliseconds")
                })?))
            }
            Some(_) => return Err(format!("`{s}`: only stall takes a duration")),
        };
        if parts.next().is_some() {
            return Err(format!("`{s}` has too many fields: {grammar}"));
        }
        Ok(FaultSpec {
            kind,
            n,
            op,
            duration,
        })
    }
}

/// What to do with one reply.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplyFault {
    pub drop: bool,
    pub corrupt: bool,
    /// `Some(None)` = stall until disconnect.
    pub stall: Option<Option<Duration>>,
}

/// A fault that fired, for the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fired {
    pub spec: String,
}

#[derive(Debug)]
struct Armed {
    spec: FaultSpec,
    seen: u64,
    fired: bool,
}

/// Counters of all armed faults.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Vec<Armed>,
    rx_bytes: u64,
    /// Faults that fired since the last `take_fired`.
    fired: Vec<Fired>,
}

impl Faults {
    pub fn new(specs: &[FaultSpec]) -> Self {
        Faults {
            armed: specs
                .iter()
                .map(|s| Armed {
                    spec: s.clone(),
                    seen: 0,
                    fired: false,
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Count one matching event for every spec of `kind`; true when one fires.
    fn count(&mut self, kind: FaultKind, op: Option<u8>) -> Option<FaultSpec> {
        let mut hit = None;
        for a in self.armed.iter_mut().filter(|a| a.spec.kind == kind) {
            if a.fired || (a.spec.op.is_some() && a.spec.op != op) {
                continue;
            }
            a.seen += 1;
            if a.seen == a.spec.n {
                a.fired = true;
                self.fired.push(Fired {
                    spec: a.spec.to_string(),
                });
                hit = Some(a.spec.clone());
            }
        }
        hit
    }

    /// A reply to `op` is about to be sent.
    pub fn on_reply(&mut self, op: u8) -> ReplyFault {
        let mut f = ReplyFault::default();
        if self.count(FaultKind::DropReply, Some(op)).is_some() {
            f.drop = true;
        }
        if self.count(FaultKind::CorruptReply, Some(op)).is_some() {
            f.corrupt = true;
        }
        if let Some(s) = self.count(FaultKind::Stall, Some(op)) {
            f.stall = Some(s.duration);
        }
        f
    }

    /// A data block (`op` = MEM_DATA / FLASH_DATA / FLASH_DEFL_DATA) arrived;
    /// true = corrupt it.
    pub fn on_data_block(&mut self, op: u8) -> bool {
        self.count(FaultKind::BadChecksum, Some(op)).is_some()
    }

    /// A flash program operation completed; true = flip a bit.
    pub fn on_flash_write(&mut self) -> bool {
        self.count(FaultKind::FlipBit, None).is_some()
    }

    /// `n` more bytes arrived from the host. Returns how many of them the
    /// chip still takes before the connection must be closed, or `None`
    /// when no close is due.
    pub fn on_rx(&mut self, n: usize) -> Option<usize> {
        let before = self.rx_bytes;
        self.rx_bytes += n as u64;
        let mut cut = None;
        for a in self.armed.iter_mut() {
            if a.spec.kind != FaultKind::CloseAfter || a.fired {
                continue;
            }
            if self.rx_bytes >= a.spec.n {
                a.fired = true;
                self.fired.push(Fired {
                    spec: a.spec.to_string(),
                });
                let keep = a.spec.n.saturating_sub(before) as usize;
                cut = Some(cut.map_or(keep, |c: usize| c.min(keep)));
            }
        }
        if let Some(keep) = cut {
            // Bytes beyond the cut never reached the chip.
            self.rx_bytes = before + keep as u64;
        }
        cut
    }

    pub fn take_fired(&mut self) -> Vec<Fired> {
        std::mem::take(&mut self.fired)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grammar() {
        let s: FaultSpec = "stall:3@flash-defl-data:2000".parse().unwrap();
        assert_eq!(s.kind, FaultKind::Stall);
        assert_eq!(s.n, 3);
        assert_eq!(s.op, Some(0x11));
        assert_eq!(s.duration, Some(Duration::from_millis(2000)));
        assert_eq!(s.to_string(), "stall:3@0x11:2000");
        let d: FaultSpec = "drop-reply:7@0x13".parse().unwrap();
        assert_eq!((d.kind, d.n, d.op), (FaultKind::DropReply, 7, Some(0x13)));
        for bad in [
            "",
            "drop-reply",
            "drop-reply:0",
            "drop-reply:x",
            "nope:1",
            "drop-reply:1@bogus",
            "close-after:5@sync",
            "drop-reply:1:5",
            "stall:1:2:3",
        ] {
            assert!(bad.parse::<FaultSpec>().is_err(), "{bad}");
        }
    }

    #[test]
    fn fires_once_at_n() {
        let mut f = Faults::new(&["drop-reply:2@sync".parse().unwrap()]);
        assert!(!f.on_reply(0x0A).drop);
        assert!(!f.on_reply(0x08).drop);
        assert!(f.on_reply(0x08).drop);
        assert!(!f.on_reply(0x08).drop);
        assert_eq!(f.take_fired().len(), 1);
    }

    #[test]
    fn close_after_cuts_inside_a_chunk() {
        let mut f = Faults::new(&["close-after:10".parse().unwrap()]);
        assert_eq!(f.on_rx(6), None);
        assert_eq!(f.on_rx(6), Some(4));
        assert_eq!(f.on_rx(6), None);
    }
}
