//! Unit tests of the console decoders, including a bounded random-bytes run
//! (parsers of untrusted bytes get random input, `docs/TESTING.md`, "Fuzzing").

use std::time::Duration;

use super::reader::MAX_LINE;
use super::*;

fn dec(line: &str) -> Decoded {
    LineDecoder::new().decode(line)
}

#[test]
fn rom_banner_flash_boot() {
    let d = dec("ets Jan  8 2013,rst cause:2, boot mode:(3,6)");
    assert_eq!(d.kind, LineKind::RomBoot);
    assert_eq!(d.fields["rst_cause"], 2);
    assert_eq!(d.fields["rst_cause_name"], "external reset");
    assert_eq!(d.fields["boot_mode"], serde_json::json!([3, 6]));
    assert_eq!(d.fields["boot_mode_name"], "flash boot");
    assert_eq!(d.fields["download_mode"], false);
}

#[test]
fn rom_banner_download_mode_and_space_variant() {
    let d = dec("ets Jan  8 2014,rst cause 1, boot mode:(1,7)");
    assert_eq!(d.fields["rst_cause_name"], "power-on");
    assert_eq!(d.fields["download_mode"], true);
    assert!(
        d.summary
            .contains("this means the module is in download mode"),
        "{}",
        d.summary
    );
    assert_eq!(d.severity, Severity::Warning);
    let d = dec(" ets Jan  8 2013,rst cause:4, boot mode:(7,0)");
    assert_eq!(d.fields["boot_mode_name"], "sdio");
    assert_eq!(d.fields["rst_cause_name"], "watchdog");
}

#[test]
fn rom_load_and_checksums() {
    let d = dec("load 0x4010f000, len 3424, room 16");
    assert_eq!(d.kind, LineKind::RomLoad);
    assert_eq!(d.fields["len"], 3424);
    assert_eq!(d.fields["room"], 16);
    assert_eq!(d.fields["address"], "0x4010f000");
    assert_eq!(dec("chksum 0x2e").kind, LineKind::RomOther);
    assert_eq!(dec("csum 0x2b").fields["csum"], "0x2b");
    assert_eq!(dec("~ld").kind, LineKind::RomOther);
    assert_eq!(dec("csum err").severity, Severity::Error);
}

#[test]
fn exception_block() {
    let mut d = LineDecoder::new();
    let e = d.decode("Exception (28):");
    assert_eq!(e.kind, LineKind::Exception);
    assert_eq!(e.fields["cause_name"], "LoadProhibited");
    let r = d.decode(
        "epc1=0x40201234 epc2=0x00000000 epc3=0x00000000 excvaddr=0x00000004 depc=0x00000000",
    );
    assert_eq!(r.kind, LineKind::ExceptionRegisters);
    assert_eq!(r.fields["epc1"], "0x40201234");
    assert_eq!(r.fields["null_pointer"], true);
    assert_eq!(d.decode(">>>stack>>>").kind, LineKind::StackBegin);
    let ctx = d.decode("ctx: cont");
    assert_eq!(ctx.kind, LineKind::StackFrame);
    assert_eq!(ctx.fields["ctx"], "cont");
    // Inside the block even a line that looks like a ROM line is a frame.
    assert_eq!(
        d.decode("3ffffe00:  3fffdad0 00000000 3ffee6f0 40201234")
            .kind,
        LineKind::StackFrame
    );
    let end = d.decode("<<<stack<<<");
    assert_eq!(end.kind, LineKind::StackEnd);
    assert_eq!(end.fields["stack_lines"], 2);
    assert_eq!(
        d.decode("ets Jan  8 2013,rst cause:2, boot mode:(3,6)")
            .kind,
        LineKind::RomBoot
    );
}

#[test]
fn sdk_fatal_exception_form() {
    let d = dec("Fatal exception 0(IllegalInstructionCause):");
    assert_eq!(d.fields["cause"], 0);
    assert_eq!(d.fields["cause_name"], "IllegalInstruction");
    for (n, name) in [
        (2, "InstructionFetchError"),
        (3, "LoadStoreError"),
        (6, "IntegerDivideByZero"),
        (9, "LoadStoreAlignment"),
        (29, "StoreProhibited"),
    ] {
        assert_eq!(dec(&format!("Exception ({n}):")).fields["cause_name"], name);
    }
}

#[test]
fn status_line_grammar() {
    let s = parse_status(r#"wifi_connecting ssid="Home \"Net\" \\ \xc3\xa9" attempt=1"#);
    assert_eq!(s.event, "wifi_connecting");
    assert_eq!(s.get("ssid"), Some("Home \"Net\" \\ é"));
    assert_eq!(s.int("attempt"), Some(1));
    assert!(!s.malformed);
    let s = parse_status("boot reset=\"unterminated");
    assert!(s.malformed);
    let s = parse_status("x =oops");
    assert!(s.malformed);
    let s = parse_status(r#"config device="" chip=0a1b2c"#);
    assert_eq!(s.get("device"), Some(""));
}

/// A status value with an escape sequence (`\x1b[2J` clears the screen)
/// reaches the summary without it; the JSON field keeps the exact value.
#[test]
fn status_values_put_no_control_sequence_on_the_terminal() {
    let d = dec(r#"espmqtt: unprovisioned reason=bad_crc detail="\x1b[2J\x07\x0d\x0afake""#);
    assert!(d.summary.contains("[2Jfake"), "{}", d.summary);
    assert!(!d.summary.chars().any(char::is_control), "{:?}", d.summary);
    assert!(!d.fix.unwrap().chars().any(char::is_control));
    assert_eq!(d.fields["detail"], "\u{1b}[2J\u{7}\r\nfake");
}

#[test]
fn typed_fields() {
    let d = dec(
        "espmqtt: boot fw=0.1.0 core=3.1.2 reset=\"Power On\" chip=000123 flash=1048576 heap=51200",
    );
    assert_eq!(d.event.as_deref(), Some("boot"));
    assert_eq!(d.fields["core"], "3.1.2");
    assert_eq!(d.fields["chip"], "000123");
    assert_eq!(d.fields["flash"], 1048576);
    assert_eq!(d.fields["reset"], "Power On");
    let d = dec("espmqtt: boot chip=123456 heap=100");
    assert_eq!(d.fields["chip"], "123456");
    assert_eq!(d.fields["heap"], 100);
    let d = dec("espmqtt: wifi_connecting ssid=1234 attempt=1");
    assert_eq!(d.fields["ssid"], "1234");
    let d = dec("espmqtt: subscribed topic=a/b/cmd ok=yes");
    assert_eq!(d.fields["ok"], true);
}

#[test]
fn wifi_and_mqtt_codes() {
    let d = dec("espmqtt: wifi_failed status=6 attempt=2 retry_ms=4000");
    assert_eq!(d.fields["status_name"], "WL_WRONG_PASSWORD");
    assert_eq!(d.severity, Severity::Error);
    let d = dec("espmqtt: mqtt_failed state=4 ssl_error=0 ssl_text=\"OK\" attempt=1 retry_ms=5000");
    assert_eq!(d.fields["state_name"], "MQTT_CONNECT_BAD_CREDENTIALS");
    assert!(!d.fields.contains_key("ssl_error_name"));
    let d = dec(
        "espmqtt: mqtt_failed state=-2 ssl_error=54 ssl_text=\"Expired\" attempt=1 retry_ms=5000",
    );
    assert_eq!(d.fields["ssl_error_name"], "BR_ERR_X509_EXPIRED");
    assert!(d.fix.as_deref().unwrap_or("").contains("NTP"));
}

#[test]
fn alert_number_quirk() {
    // docs/DEVICE.md, "BearSSL error numbers": 40 with the alert prefix is
    // handshake_failure, not BR_ERR_X509_EXTRA_ELEMENT.
    let d = dec(
        r#"espmqtt: mqtt_failed state=-2 ssl_error=40 ssl_text="SSL received fatal alert - X.509 extra element" attempt=1 retry_ms=5000"#,
    );
    assert_eq!(d.fields["tls_alert"], 40);
    assert_eq!(d.fields["tls_alert_name"], "handshake_failure");
    assert_eq!(d.fields["tls_alert_direction"], "received");
    assert!(!d.fields.contains_key("ssl_error_name"));
    assert!(d.summary.contains("not BearSSL error 40"));
}

#[test]
fn status_prefix_after_garbage_on_same_line() {
    let d = dec("\u{fffd}\u{fffd}xx espmqtt: ntp_synced epoch=1764000000 waited_ms=812");
    assert_eq!(d.event.as_deref(), Some("ntp_synced"));
    assert_eq!(d.fields["waited_ms"], 812);
}

#[test]
fn garbage_detection() {
    let raw = [0x8c, 0xfe, 0x12, 0x80, b'a', 0xf0, 0x6e, 0x0c, 0xc1];
    let mut d = LineDecoder::new();
    let (_, g) = d.decode_bytes(&raw);
    assert_eq!(g.kind, LineKind::Garbage);
    let (_, t) = d.decode_bytes(b"hello world");
    assert_eq!(t.kind, LineKind::Text);
    assert!(!looks_like_garbage(b"\xe2\x9c\x93 ok fine text"));
}

/// Tiny xorshift so the run is reproducible without a dependency.
struct XorShift(u64);
impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_bytes_never_panic() {
    // Seeds mix pure noise with mutated real lines, which reach deeper code.
    let seeds: &[&[u8]] = &[
        b"ets Jan  8 2013,rst cause:2, boot mode:(3,6)",
        b"load 0x4010f000, len 3424, room 16",
        b"Exception (28):",
        b"epc1=0x40201234 epc2=0x00000000 excvaddr=0x00000004",
        b">>>stack>>>",
        b"espmqtt: mqtt_failed state=-2 ssl_error=40 ssl_text=\"SSL received fatal alert - x\" fp=1 attempt=1 retry_ms=0",
        b"espmqtt: wifi_connecting ssid=\"a\\\"b\\x41\" attempt=1",
    ];
    let iterations: u64 = std::env::var("ESPMQTT_FUZZ_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut d = LineDecoder::new();
    for i in 0..iterations {
        let mut line: Vec<u8> = if i % 2 == 0 {
            let len = (rng.next() % 200) as usize;
            (0..len).map(|_| rng.next() as u8).collect()
        } else {
            seeds[(rng.next() % seeds.len() as u64) as usize].to_vec()
        };
        let flips = rng.next() % 6;
        for _ in 0..flips {
            if line.is_empty() {
                break;
            }
            let pos = (rng.next() % line.len() as u64) as usize;
            match rng.next() % 3 {
                0 => line[pos] = rng.next() as u8,
                1 => line.truncate(pos),
                _ => line.insert(
                    pos,
                    [b'"', b'\\', b'=', b' ', b'x'][(rng.next() % 5) as usize],
                ),
            }
        }
        let (_, decoded) = d.decode_bytes(&line);
        // Every verdict must serialise (it goes out as a JSON line).
        assert!(serde_json::to_string(&decoded).is_ok());
    }
}

/// A serial port double: replays byte chunks, each at the rate it was "sent"
/// at; a chunk read at another rate arrives as noise.
struct FakeSerial {
    chunks: std::collections::VecDeque<(u32, Vec<u8>)>,
    baud: u32,
    switches: Vec<u32>,
}

impl ConsolePort for FakeSerial {
    fn read_some(&mut self, buf: &mut [u8], _wait: Duration) -> std::io::Result<ReadOutcome> {
        let Some((rate, bytes)) = self.chunks.pop_front() else {
            return Ok(ReadOutcome::Eof);
        };
        let data: Vec<u8> = if rate == self.baud {
            bytes
        } else {
            let mut v: Vec<u8> = bytes.iter().map(|b| b.wrapping_mul(37) | 0x80).collect();
            v.push(b'\n');
            v
        };
        let k = data.len().min(buf.len());
        buf[..k].copy_from_slice(&data[..k]);
        if k < data.len() {
            // What did not fit arrives with the next read, already at this rate.
            self.chunks.push_front((self.baud, data[k..].to_vec()));
        }
        Ok(ReadOutcome::Data(k))
    }
    fn can_set_baud(&self) -> bool {
        true
    }
    fn set_baud(&mut self, baud: u32) -> std::io::Result<()> {
        self.baud = baud;
        self.switches.push(baud);
        Ok(())
    }
    fn reset_to_firmware(&mut self) -> std::io::Result<bool> {
        Ok(true)
    }
    fn describe(&self) -> String {
        "fake".into()
    }
}

fn run_fake(chunks: Vec<(u32, &[u8])>, initial: Option<u32>) -> (Vec<MonitorEvent>, Vec<u32>) {
    let mut port = FakeSerial {
        chunks: chunks.into_iter().map(|(r, b)| (r, b.to_vec())).collect(),
        baud: initial.unwrap_or(115_200),
        switches: Vec::new(),
    };
    let opts = MonitorOptions {
        baud: 115_200,
        initial_baud: initial,
        auto_baud: true,
        ..Default::default()
    };
    let mut events = Vec::new();
    let out = run(&mut port, &opts, &mut |e| {
        events.push(e.clone());
        true
    })
    .unwrap();
    assert_eq!(out, Outcome::Ended);
    (events, port.switches)
}

const BANNER: &[u8] = b" ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\nload 0x4010f000, len 3424, room 16\r\n~ld\r\n";
const FW: &[u8] = b"espmqtt: boot fw=0.1.0 heap=51200\r\n";

#[test]
fn garbage_at_115200_switches_to_rom_rate() {
    let (events, switches) = run_fake(vec![(ROM_BAUD, BANNER), (ROM_BAUD, BANNER)], None);
    assert_eq!(switches, [ROM_BAUD, 115_200]);
    assert!(matches!(&events[0], MonitorEvent::Line(l) if l.decoded.kind == LineKind::Garbage));
    assert!(matches!(
        &events[1],
        MonitorEvent::Baud { baud: ROM_BAUD, .. }
    ));
    // After the switch the next banner reads, and `~ld` switches back.
    assert!(events
        .iter()
        .any(|e| matches!(e, MonitorEvent::Line(l) if l.decoded.kind == LineKind::RomBoot)));
    assert!(matches!(
        events.last(),
        Some(MonitorEvent::Baud { baud: 115_200, .. })
    ));
}

#[test]
fn reset_at_rom_rate_reads_banner_then_firmware() {
    let (events, switches) = run_fake(vec![(ROM_BAUD, BANNER), (115_200, FW)], Some(ROM_BAUD));
    assert_eq!(switches, [115_200]);
    let kinds: Vec<LineKind> = events
        .iter()
        .filter_map(|e| match e {
            MonitorEvent::Line(l) => Some(l.decoded.kind),
            _ => None,
        })
        .collect();
    assert_eq!(
        kinds,
        [
            LineKind::RomBoot,
            LineKind::RomLoad,
            LineKind::RomOther,
            LineKind::Status
        ]
    );
}

/// The contract with the firmware (firmware-template/STATUS_LINES.md): every
/// event in its table is one this decoder explains, and its example lines
/// parse cleanly. Skipped while the template is not in the tree.
#[test]
fn status_lines_contract_matches_firmware_doc() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("firmware-template/STATUS_LINES.md");
    let Ok(doc) = std::fs::read_to_string(&path) else {
        eprintln!("{} not present; contract check skipped", path.display());
        return;
    };
    let mut events = 0;
    for row in doc.lines().filter(|l| l.starts_with("| `")) {
        let Some(name) = row.split('`').nth(1) else {
            continue;
        };
        if !name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
            continue;
        }
        events += 1;
        let d = dec(&format!("espmqtt: {name}"));
        assert!(
            !d.summary
                .contains("not an event this espmqtt version knows"),
            "STATUS_LINES.md event `{name}` has no decoder"
        );
    }
    assert!(events >= 17, "found only {events} events in the table");
    let example = doc.split("## Example").nth(1).unwrap_or("");
    for line in example.lines().filter(|l| l.starts_with(STATUS_PREFIX)) {
        let d = dec(line);
        assert!(
            !d.fields.contains_key("malformed"),
            "example does not parse: {line}"
        );
        assert!(
            !d.summary.contains("not an event"),
            "unknown example event: {line}"
        );
    }
}

#[test]
fn line_assembly_does_not_depend_on_read_boundaries() {
    let transcript: &[u8] = include_bytes!("../../tests/data/console/full.txt");
    let whole: Vec<String> = {
        let (events, _) = run_fake(vec![(115_200, transcript)], None);
        events
            .iter()
            .filter_map(|e| match e {
                MonitorEvent::Line(l) => Some(format!("{}|{:?}", l.text, l.decoded.kind)),
                _ => None,
            })
            .collect()
    };
    assert!(whole.len() > 30, "{}", whole.len());
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for _ in 0..20 {
        let mut pieces: Vec<(u32, &[u8])> = Vec::new();
        let mut rest = transcript;
        while !rest.is_empty() {
            let k = (1 + rng.next() % 64) as usize;
            let (a, b) = rest.split_at(k.min(rest.len()));
            pieces.push((115_200, a));
            rest = b;
        }
        let (events, _) = run_fake(pieces, None);
        let split: Vec<String> = events
            .iter()
            .filter_map(|e| match e {
                MonitorEvent::Line(l) => Some(format!("{}|{:?}", l.text, l.decoded.kind)),
                _ => None,
            })
            .collect();
        assert_eq!(split, whole);
    }
}

#[test]
fn endless_line_is_emitted_in_pieces() {
    let long = vec![b'a'; 5000];
    let (events, _) = run_fake(vec![(115_200, &long)], None);
    let lens: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            MonitorEvent::Line(l) => Some(l.text.len()),
            _ => None,
        })
        .collect();
    assert_eq!(lens.iter().sum::<usize>(), 5000);
    assert!(lens.iter().all(|&n| n <= MAX_LINE + 1024));
}

#[test]
fn config_update_lines() {
    let d = dec("espmqtt: update result=staged number=4");
    assert_eq!(d.event.as_deref(), Some("update"));
    assert_eq!(d.fields["number"], 4);
    assert!(
        d.summary.contains("update 4") && d.summary.contains("staged"),
        "{}",
        d.summary
    );
    let d = dec("espmqtt: update result=committed number=4");
    assert_eq!(d.severity, Severity::Ok);
    let d = dec("espmqtt: update result=duplicate number=4");
    assert!(d.summary.contains("handled already"), "{}", d.summary);
    let d = dec("espmqtt: update result=rolled_back number=5 reason=tls:62");
    assert_eq!(d.severity, Severity::Error);
    assert!(
        d.fix
            .as_deref()
            .unwrap()
            .contains("BR_ERR_X509_NOT_TRUSTED"),
        "{:?}",
        d.fix
    );
    let d = dec("espmqtt: update result=rolled_back number=5 reason=mqtt:5");
    assert!(
        d.fix.as_deref().unwrap().contains("password"),
        "{:?}",
        d.fix
    );
    let d = dec("espmqtt: update result=rolled_back number=5 reason=wifi");
    assert!(d.fix.as_deref().unwrap().contains("Wi-Fi"), "{:?}", d.fix);
    let d = dec("espmqtt: update result=rejected number=6 reason=bad_mac");
    assert_eq!(d.severity, Severity::Warning);
    assert!(d.fix.as_deref().unwrap().contains("key"), "{:?}", d.fix);
    let d = dec("espmqtt: update result=rejected number=6 reason=bad_blob:bad_crc");
    assert!(d.fix.as_deref().unwrap().contains("decoder"), "{:?}", d.fix);
    let d = dec("espmqtt: subscribed topic=espmqtt/s/config ok=yes");
    assert!(d.summary.contains("config updates"), "{}", d.summary);
}

#[test]
fn pinned_key_mismatch_and_rotated_password_hints() {
    let d = dec("espmqtt: mqtt_failed state=-2 ssl_error=27 ssl_text=\"x\" trust=pubkey attempt=1 retry_ms=2000");
    assert!(
        d.summary.contains("pinned key does not match"),
        "{}",
        d.summary
    );
    assert!(
        d.fix
            .as_deref()
            .unwrap()
            .starts_with("the pinned key does not match"),
        "{:?}",
        d.fix
    );
    // A pinned key of another type than the broker's: 28 on the core.
    let d = dec("espmqtt: mqtt_failed state=-2 ssl_error=28 ssl_text=\"x\" trust=pubkey attempt=1 retry_ms=2000");
    assert!(d.summary.contains("another key type"), "{}", d.summary);
    assert!(
        d.fix
            .as_deref()
            .unwrap()
            .starts_with("the pinned key does not match"),
        "{:?}",
        d.fix
    );
    // Without the trust key (older firmware) the hint still names it first.
    let d = dec("espmqtt: mqtt_failed state=-2 ssl_error=27 attempt=1 retry_ms=2000");
    assert!(
        d.fix
            .as_deref()
            .unwrap()
            .contains("pinned key does not match"),
        "{:?}",
        d.fix
    );
    let d = dec("espmqtt: mqtt_failed state=5 ssl_error=0 attempt=1 retry_ms=2000");
    let fix = d.fix.unwrap();
    assert!(
        fix.starts_with("most often a wrong or rotated password"),
        "{fix}"
    );
    assert!(
        fix.find("password").unwrap() < fix.find("ACL").unwrap(),
        "{fix}"
    );
}
