//! Integration tests: `espmqtt emulate` against the reference client
//! (esptool from PyPI over `socket://`, docs/TESTING.md) and against a small
//! in-test client for the fault kinds.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::emulator::Emulator;
use crate::support::{have, Env, Run};

// ------------------------------------------------------------------ esptool

/// esptool 5.x, or `None` (test skipped with a note) when it is missing.
fn esptool() -> Option<Vec<String>> {
    if have("esptool") {
        return Some(vec!["esptool".into()]);
    }
    let ok = Command::new("python3")
        .args(["-m", "esptool", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if ok {
        return Some(vec!["python3".into(), "-m".into(), "esptool".into()]);
    }
    eprintln!("esptool not installed (pip install esptool); skipping");
    None
}

/// Run esptool against the emulator with a hard process timeout (esptool
/// blocks forever waiting for OHAI when nothing comes, docs/DEVICE.md,
/// "Uploading the stub").
fn run_esptool(env: &Env, emu: &Emulator, extra: &[&str], timeout: Duration) -> Run {
    let base = esptool().expect("esptool");
    let mut cmd = Command::new(&base[0]);
    cmd.args(&base[1..])
        .args([
            "--port",
            &emu.url(),
            "--before",
            "no-reset",
            "--after",
            "no-reset",
        ])
        .args(extra)
        .current_dir(env.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn esptool");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + timeout;
    let code = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break -9;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Run {
        code,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    }
}

/// Deterministic pseudo-random bytes (incompressible enough, never an
/// image header).
fn image(len: usize, seed: u32) -> Vec<u8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..len)
        .map(|i| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            // Half the bytes repeat so zlib has something to do.
            if (i / 64) % 2 == 0 {
                (x >> 8) as u8
            } else {
                (i / 64) as u8
            }
        })
        .collect()
}

#[test]
fn esptool_rom_chip_id_read_mac_flash_id() {
    if esptool().is_none() {
        return;
    }
    let env = Env::new();
    let emu = Emulator::start(
        &env,
        &[
            "--baud-model",
            "off",
            "--mac",
            "18:fe:34:a1:b2:c3",
            "--flash-size",
            "4MB",
        ],
    );
    let r = run_esptool(
        &env,
        &emu,
        &["--no-stub", "chip-id"],
        Duration::from_secs(60),
    );
    r.assert_code(0);
    assert!(r.stdout.contains("ESP8266"), "{}", r.all());
    // Chip ID = (efuse0 >> 24) | (efuse1 & 0xFFFFFF) << 8 → 0x00a1b2c3.
    assert!(
        r.stdout.to_lowercase().contains("0x00a1b2c3") || r.stdout.contains("a1b2c3"),
        "{}",
        r.all()
    );

    let r = run_esptool(
        &env,
        &emu,
        &["--no-stub", "read-mac"],
        Duration::from_secs(60),
    );
    r.assert_code(0);
    assert!(
        r.stdout.to_lowercase().contains("18:fe:34:a1:b2:c3"),
        "{}",
        r.all()
    );

    let r = run_esptool(
        &env,
        &emu,
        &["--no-stub", "flash-id"],
        Duration::from_secs(60),
    );
    r.assert_code(0);
    let low = r.stdout.to_lowercase();
    assert!(low.contains("manufacturer: ef"), "{}", r.all());
    assert!(low.contains("device: 4016"), "{}", r.all());
    assert!(r.stdout.contains("4MB"), "{}", r.all());
}

#[test]
fn esptool_rom_write_flash_lands_byte_for_byte() {
    if esptool().is_none() {
        return;
    }
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    // Unaligned size and an offset that exercises the ROM erase-size bug
    // (esptool sends get_erase_size; the model over-erases like the ROM).
    let img = image(0x9000 + 123, 1);
    let path = env.write("img.bin", &img);
    let r = run_esptool(
        &env,
        &emu,
        &["--no-stub", "write-flash", "0x3000", path.to_str().unwrap()],
        Duration::from_secs(120),
    );
    r.assert_code(0);
    assert!(emu.wait_disconnected(1, Duration::from_secs(10)));
    let flash = emu.saved_flash();
    assert_eq!(flash.len(), 0x10_0000);
    assert!(
        flash[0x3000..0x3000 + img.len()] == img[..],
        "written data differs"
    );
    assert!(flash[..0x3000].iter().all(|&b| b == 0xFF));
    assert!(flash[0x3000 + img.len()..].iter().all(|&b| b == 0xFF));
}

#[test]
fn esptool_stub_write_verify_read_back() {
    if esptool().is_none() {
        return;
    }
    let env = Env::new();
    // Baud model on: exercises CHANGE_BAUDRATE over socket:// (esptool sends
    // it; the emulator then throttles at the new rate).
    let emu = Emulator::start(&env, &[]);
    let img = image(64 * 1024, 2);
    let path = env.write("img.bin", &img);
    let p = path.to_str().unwrap();
    let r = run_esptool(
        &env,
        &emu,
        &["--baud", "460800", "write-flash", "-z", "0x10000", p],
        Duration::from_secs(120),
    );
    r.assert_code(0);
    assert!(
        !emu.events_of("stub_started").is_empty(),
        "esptool did not upload its stub"
    );
    assert!(
        emu.events_of("baud").iter().any(|e| e["baud"] == 460800),
        "no CHANGE_BAUDRATE seen: {:?}",
        emu.events()
    );
    let r = run_esptool(
        &env,
        &emu,
        &["--baud", "460800", "verify-flash", "0x10000", p],
        Duration::from_secs(120),
    );
    r.assert_code(0);
    let back = env.path().join("back.bin");
    let r = run_esptool(
        &env,
        &emu,
        &[
            "--baud",
            "460800",
            "read-flash",
            "0x10000",
            "0x10000",
            back.to_str().unwrap(),
        ],
        Duration::from_secs(120),
    );
    r.assert_code(0);
    assert_eq!(std::fs::read(&back).unwrap(), img);
    assert!(emu.wait_disconnected(3, Duration::from_secs(10)));
    let flash = emu.saved_flash();
    assert!(flash[0x10000..0x20000] == img[..]);
    assert!(flash[..0x10000].iter().all(|&b| b == 0xFF));
}

#[test]
fn esptool_verify_detects_a_flipped_bit() {
    if esptool().is_none() {
        return;
    }
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--fault", "flip-bit:2"]);
    let img = image(48 * 1024, 3);
    let path = env.write("img.bin", &img);
    // Uncompressed stub write: 3 blocks of 16 KiB; the 2nd gets a bit flipped,
    // which esptool's own MD5 check after writing must catch.
    let r = run_esptool(
        &env,
        &emu,
        &["write-flash", "-u", "0x0", path.to_str().unwrap()],
        Duration::from_secs(60),
    );
    assert_ne!(
        r.code,
        0,
        "esptool accepted a corrupted write:\n{}",
        r.all()
    );
    assert!(r.all().to_lowercase().contains("md5"), "{}", r.all());
    assert_eq!(emu.events_of("fault").len(), 1);
}

// ----------------------------------------------------- a minimal raw client

/// A tiny host-side client used to observe fault behaviour byte by byte.
struct Raw {
    s: TcpStream,
    dec: espmqtt::flash::slip::SlipDecoder,
    pending: std::collections::VecDeque<Vec<u8>>,
}

impl Raw {
    fn connect(emu: &Emulator) -> Raw {
        let s = TcpStream::connect(emu.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        Raw {
            s,
            dec: espmqtt::flash::slip::SlipDecoder::new(),
            pending: Default::default(),
        }
    }

    fn send(&mut self, req: &espmqtt::flash::protocol::Request) {
        let _ = self
            .s
            .write_all(&espmqtt::flash::slip::encode(&req.to_bytes()));
    }

    fn send_raw_frame(&mut self, payload: &[u8]) {
        let _ = self.s.write_all(&espmqtt::flash::slip::encode(payload));
    }

    /// Next frame within `timeout`; `Err(true)` = connection closed.
    fn frame(&mut self, timeout: Duration) -> Result<Vec<u8>, bool> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(f) = self.pending.pop_front() {
                return Ok(f);
            }
            if Instant::now() > deadline {
                return Err(false);
            }
            let mut buf = [0u8; 4096];
            match self.s.read(&mut buf) {
                Ok(0) => return Err(true),
                Ok(n) => self.pending.extend(self.dec.feed(&buf[..n])),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return Err(true),
            }
        }
    }

    fn response(&mut self, timeout: Duration) -> Option<espmqtt::flash::protocol::Response> {
        self.frame(timeout)
            .ok()
            .and_then(|f| espmqtt::flash::protocol::Response::parse(&f))
    }

    fn command(
        &mut self,
        req: &espmqtt::flash::protocol::Request,
    ) -> Option<espmqtt::flash::protocol::Response> {
        self.send(req);
        self.response(Duration::from_secs(2))
    }

    fn sync(&mut self) -> usize {
        use espmqtt::flash::protocol::{Opcode, Request, SYNC_PAYLOAD};
        self.send(&Request::new(Opcode::Sync, SYNC_PAYLOAD.to_vec()));
        let mut n = 0;
        while let Some(r) = self.response(Duration::from_millis(300)) {
            assert_eq!(r.op, Opcode::Sync as u8);
            n += 1;
        }
        n
    }

    fn read_reg(&mut self, addr: u32) -> Option<u32> {
        use espmqtt::flash::protocol::{Opcode, Request};
        self.command(&Request::words(Opcode::ReadReg, &[addr]))
            .map(|r| r.value)
    }

    /// Upload a fake stub (one RAM block) and wait for OHAI.
    fn start_stub(&mut self) {
        use espmqtt::flash::protocol::{Opcode, Request};
        let code = vec![0u8; 64];
        let r = self
            .command(&Request::words(
                Opcode::MemBegin,
                &[64, 1, 0x1800, 0x4010_D000],
            ))
            .unwrap();
        assert!(r.is_ok());
        let r = self
            .command(&Request::data_block(Opcode::MemData, 0, &code))
            .unwrap();
        assert!(r.is_ok());
        let r = self
            .command(&Request::words(Opcode::MemEnd, &[0, 0x4010_D004]))
            .unwrap();
        assert!(r.is_ok());
        assert_eq!(self.frame(Duration::from_secs(2)).unwrap(), b"OHAI");
    }
}

#[test]
fn rom_basics_sync_eight_times_magic_and_unknown_opcode() {
    use espmqtt::flash::protocol::{Opcode, Request, ROM_SYNC_VALUE};
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let mut c = Raw::connect(&emu);
    c.send(&Request::new(
        Opcode::Sync,
        espmqtt::flash::protocol::SYNC_PAYLOAD.to_vec(),
    ));
    for _ in 0..8 {
        let r = c.response(Duration::from_secs(2)).unwrap();
        assert_eq!(r.value, ROM_SYNC_VALUE);
        assert!(r.is_ok());
    }
    assert!(c.response(Duration::from_millis(200)).is_none());
    assert_eq!(c.read_reg(0x4000_1000), Some(0xFFF0_C101));
    assert_eq!(c.read_reg(0x6000_0014), Some(452));
    // A stub-only opcode on the ROM: same opcode, status 01 05.
    let r = c
        .command(&Request::words(Opcode::SpiFlashMd5, &[0, 0x1000, 0, 0]))
        .unwrap();
    assert_eq!(r.status, [1, 5]);
    // Checksum error on a data block: 01 07.
    let r = c
        .command(&Request::words(Opcode::FlashBegin, &[0x1000, 1, 0x400, 0]))
        .unwrap();
    assert!(r.is_ok());
    let mut bad = Request::data_block(Opcode::FlashData, 0, &[1u8; 0x400]);
    bad.checksum ^= 0x5A;
    assert_eq!(c.command(&bad).unwrap().status, [1, 7]);
}

#[test]
fn esp32_magic_and_no_sync_modes() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--chip", "esp32"]);
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 8);
    assert_eq!(c.read_reg(0x4000_1000), Some(0x00F0_1D83));

    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--no-sync"]);
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 0);
}

#[test]
fn fault_drop_reply_skips_exactly_one_reply() {
    let env = Env::new();
    let emu = Emulator::start(
        &env,
        &["--baud-model", "off", "--fault", "drop-reply:2@read-reg"],
    );
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 8);
    assert_eq!(c.read_reg(0x4000_1000), Some(0xFFF0_C101));
    assert_eq!(
        c.read_reg(0x4000_1000),
        None,
        "2nd READ_REG reply should be dropped"
    );
    assert_eq!(c.read_reg(0x4000_1000), Some(0xFFF0_C101));
    assert!(emu.wait_events("fault", 1, Duration::from_secs(2)));
}

#[test]
fn fault_corrupt_reply_garbles_the_value() {
    let env = Env::new();
    let emu = Emulator::start(
        &env,
        &["--baud-model", "off", "--fault", "corrupt-reply:1@read-reg"],
    );
    let mut c = Raw::connect(&emu);
    assert_eq!(c.read_reg(0x4000_1000), Some(0xFFF0_C100));
    assert_eq!(c.read_reg(0x4000_1000), Some(0xFFF0_C101));
}

#[test]
fn fault_stall_delays_then_answers() {
    let env = Env::new();
    let emu = Emulator::start(
        &env,
        &["--baud-model", "off", "--fault", "stall:1@read-reg:1500"],
    );
    let mut c = Raw::connect(&emu);
    use espmqtt::flash::protocol::{Opcode, Request};
    c.send(&Request::words(Opcode::ReadReg, &[0x4000_1000]));
    assert!(
        c.response(Duration::from_millis(700)).is_none(),
        "answered during the stall"
    );
    let r = c
        .response(Duration::from_secs(5))
        .expect("answer after the stall");
    assert_eq!(r.value, 0xFFF0_C101);
}

#[test]
fn fault_close_after_bytes_closes_the_connection() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--fault", "close-after:100"]);
    let mut c = Raw::connect(&emu);
    // SYNC is 46+ bytes on the wire: the first goes through, the third
    // crosses 100 bytes and the chip hangs up.
    assert_eq!(c.sync(), 8);
    assert_eq!(c.sync(), 8);
    use espmqtt::flash::protocol::{Opcode, Request, SYNC_PAYLOAD};
    c.send(&Request::new(Opcode::Sync, SYNC_PAYLOAD.to_vec()));
    assert_eq!(
        c.frame(Duration::from_secs(3)),
        Err(true),
        "connection not closed"
    );
    assert!(emu.wait_disconnected(1, Duration::from_secs(5)));
    let d = &emu.events_of("disconnected")[0];
    assert_eq!(d["bytes_in"], 100, "{d}");
    // The next connection (a reset) works normally: the fault fired once.
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 8);
}

#[test]
fn fault_bad_checksum_rejects_one_block_and_stub_md5_sees_flip_bit() {
    use espmqtt::flash::protocol::{Opcode, Request};
    let env = Env::new();
    let emu = Emulator::start(
        &env,
        &[
            "--baud-model",
            "off",
            "--fault",
            "bad-checksum:1@flash-data",
            "--fault",
            "flip-bit:2",
        ],
    );
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 8);
    c.start_stub();
    let data = image(0x2000, 9);
    let r = c
        .command(&Request::words(Opcode::FlashBegin, &[0x2000, 2, 0x1000, 0]))
        .unwrap();
    assert!(r.is_ok());
    // Block 0: damaged in transit → stub checksum error C1; resend is fine.
    let b0 = Request::data_block(Opcode::FlashData, 0, &data[..0x1000]);
    let r = c.command(&b0).unwrap();
    assert_eq!(r.status[0], 0xC1);
    assert!(c.command(&b0).unwrap().is_ok());
    // Block 1: written, then a bit flips (2nd flash write).
    let b1 = Request::data_block(Opcode::FlashData, 1, &data[0x1000..]);
    assert!(c.command(&b1).unwrap().is_ok());
    assert!(c
        .command(&Request::words(Opcode::FlashEnd, &[1]))
        .unwrap()
        .is_ok());
    let r = c
        .command(&Request::words(Opcode::SpiFlashMd5, &[0, 0x2000, 0, 0]))
        .unwrap();
    assert!(r.is_ok());
    use md5::Digest;
    let want = md5::Md5::digest(&data);
    assert_ne!(r.data, want.to_vec(), "MD5 should reveal the flipped bit");
    assert!(emu.wait_events("fault", 2, Duration::from_secs(2)));
}

#[test]
fn stub_read_flash_flow_and_erase_region() {
    use espmqtt::flash::protocol::{Opcode, Request};
    let env = Env::new();
    let img = image(0x3000, 4);
    let p = env.write("init.bin", &img);
    let emu = Emulator::start(
        &env,
        &["--baud-model", "off", "--image", p.to_str().unwrap()],
    );
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 8);
    c.start_stub();
    // Stub SYNC replies carry value 0.
    c.send(&Request::new(
        Opcode::Sync,
        espmqtt::flash::protocol::SYNC_PAYLOAD.to_vec(),
    ));
    let r = c.response(Duration::from_secs(2)).unwrap();
    assert_eq!(r.value, 0);
    while c.response(Duration::from_millis(200)).is_some() {}

    let r = c
        .command(&Request::words(Opcode::ReadFlash, &[0, 0x3000, 0x1000, 2]))
        .unwrap();
    assert!(r.is_ok());
    let mut got = Vec::new();
    while got.len() < 0x3000 {
        let f = c.frame(Duration::from_secs(2)).unwrap();
        got.extend_from_slice(&f);
        c.send_raw_frame(&(got.len() as u32).to_le_bytes());
    }
    assert_eq!(got, img);
    let digest = c.frame(Duration::from_secs(2)).unwrap();
    use md5::Digest;
    assert_eq!(digest, md5::Md5::digest(&img).to_vec());

    let r = c
        .command(&Request::words(Opcode::EraseRegion, &[0x1000, 0x1000]))
        .unwrap();
    assert!(r.is_ok());
    let r = c
        .command(&Request::words(Opcode::EraseRegion, &[0x1000, 0x800]))
        .unwrap();
    assert_eq!(r.status[0], 0xC0);
    let r = c
        .command(&Request::words(
            Opcode::SpiFlashMd5,
            &[0x1000, 0x1000, 0, 0],
        ))
        .unwrap();
    assert_eq!(r.data, md5::Md5::digest(vec![0xFFu8; 0x1000]).to_vec());
}

#[test]
fn stub_truncates_data_beyond_the_announced_size() {
    // espflash 2.1 sends the ROM erase-size workaround to the stub; the
    // legacy stub takes it as the exact byte count (docs/DEVICE.md, "Erase-size
    // quirk of the ROM").
    use espmqtt::flash::protocol::{Opcode, Request};
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 8);
    c.start_stub();
    let data = image(0x800, 5);
    assert!(c
        .command(&Request::words(Opcode::FlashBegin, &[0x400, 2, 0x400, 0]))
        .unwrap()
        .is_ok());
    for (i, chunk) in data.chunks(0x400).enumerate() {
        let r = c
            .command(&Request::data_block(Opcode::FlashData, i as u32, chunk))
            .unwrap();
        assert!(r.is_ok());
    }
    let r = c
        .command(&Request::words(Opcode::SpiFlashMd5, &[0, 0x800, 0, 0]))
        .unwrap();
    let mut want = data[..0x400].to_vec();
    want.extend_from_slice(&[0xFF; 0x400]);
    use md5::Digest;
    assert_eq!(r.data, md5::Md5::digest(&want).to_vec());
}

#[test]
fn modules_advance_after_a_flashed_module_disconnects() {
    use espmqtt::flash::protocol::{Opcode, Request};
    let env = Env::new();
    let emu = Emulator::start(
        &env,
        &[
            "--baud-model",
            "off",
            "--modules",
            "2",
            "--mac",
            "02:00:00:00:00:ff",
            "--save",
            "m.bin",
        ],
    );
    {
        let mut c = Raw::connect(&emu);
        assert_eq!(c.sync(), 8);
        assert!(c
            .command(&Request::words(Opcode::FlashBegin, &[0x400, 1, 0x400, 0]))
            .unwrap()
            .is_ok());
        let r = c
            .command(&Request::data_block(Opcode::FlashData, 0, &[0u8; 0x400]))
            .unwrap();
        assert!(r.is_ok());
    }
    assert!(emu.wait_disconnected(1, Duration::from_secs(5)));
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 8);
    // MAC + 1: efuse0 top byte carries the last MAC byte.
    assert_eq!(c.read_reg(0x3FF0_0050).map(|v| v >> 24), Some(0x00));
    assert_eq!(c.read_reg(0x3FF0_0054).map(|v| v & 0xFFFF), Some(0x0001));
    drop(c);
    assert!(emu.wait_disconnected(2, Duration::from_secs(5)));
    let m1 = std::fs::read(env.path().join("m-1.bin")).unwrap();
    assert!(m1[..0x400].iter().all(|&b| b == 0));
    let conn = emu.events_of("connected");
    assert_eq!(conn[1]["module"], 2);
    assert_eq!(conn[1]["mac"], "02:00:00:00:01:00");
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    env.run(&["emulate", "--fault", "explode:1"]).assert_code(2);
    env.run(&["emulate", "--mac", "nope"]).assert_code(2);
    env.run(&["emulate", "--flash-size", "huge"]).assert_code(2);
}

// ------------------------------------------- espflash 2.1 as a library

/// A `serialport::SerialPort` over TCP, just enough for espflash 2.1
/// (docs/DEVICE.md, "espflash 2.1.0 on the ESP8266": read timeouts as
/// `TimedOut`, `clear(Input)` drains).
struct TcpPort {
    s: TcpStream,
    timeout: Duration,
    baud: u32,
}

impl Read for TcpPort {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.s
            .set_read_timeout(Some(self.timeout.max(Duration::from_millis(1))))?;
        match self.s.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                Err(std::io::Error::new(std::io::ErrorKind::TimedOut, e))
            }
            r => r,
        }
    }
}

impl Write for TcpPort {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.s.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.s.flush()
    }
}

impl serialport::SerialPort for TcpPort {
    fn name(&self) -> Option<String> {
        Some("tcp".into())
    }
    fn baud_rate(&self) -> serialport::Result<u32> {
        Ok(self.baud)
    }
    fn data_bits(&self) -> serialport::Result<serialport::DataBits> {
        Ok(serialport::DataBits::Eight)
    }
    fn flow_control(&self) -> serialport::Result<serialport::FlowControl> {
        Ok(serialport::FlowControl::None)
    }
    fn parity(&self) -> serialport::Result<serialport::Parity> {
        Ok(serialport::Parity::None)
    }
    fn stop_bits(&self) -> serialport::Result<serialport::StopBits> {
        Ok(serialport::StopBits::One)
    }
    fn timeout(&self) -> Duration {
        self.timeout
    }
    fn set_baud_rate(&mut self, b: u32) -> serialport::Result<()> {
        self.baud = b;
        Ok(())
    }
    fn set_data_bits(&mut self, _: serialport::DataBits) -> serialport::Result<()> {
        Ok(())
    }
    fn set_flow_control(&mut self, _: serialport::FlowControl) -> serialport::Result<()> {
        Ok(())
    }
    fn set_parity(&mut self, _: serialport::Parity) -> serialport::Result<()> {
        Ok(())
    }
    fn set_stop_bits(&mut self, _: serialport::StopBits) -> serialport::Result<()> {
        Ok(())
    }
    fn set_timeout(&mut self, t: Duration) -> serialport::Result<()> {
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
        Ok(0)
    }
    fn bytes_to_write(&self) -> serialport::Result<u32> {
        Ok(0)
    }
    fn clear(&self, which: serialport::ClearBuffer) -> serialport::Result<()> {
        if matches!(
            which,
            serialport::ClearBuffer::Input | serialport::ClearBuffer::All
        ) {
            self.s.set_nonblocking(true)?;
            let mut buf = [0u8; 4096];
            while let Ok(n) = (&self.s).read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            self.s.set_nonblocking(false)?;
        }
        Ok(())
    }
    fn try_clone(&self) -> serialport::Result<Box<dyn serialport::SerialPort>> {
        Ok(Box::new(TcpPort {
            s: self.s.try_clone()?,
            timeout: self.timeout,
            baud: self.baud,
        }))
    }
    fn set_break(&self) -> serialport::Result<()> {
        Ok(())
    }
    fn clear_break(&self) -> serialport::Result<()> {
        Ok(())
    }
}

fn espflash_connect(emu: &Emulator, use_stub: bool) -> espflash::flasher::Flasher {
    let port = TcpPort {
        s: TcpStream::connect(emu.addr).unwrap(),
        timeout: Duration::from_secs(3),
        baud: 115_200,
    };
    let iface = espflash::interface::Interface {
        serial_port: Box::new(port),
    };
    let info = serialport::UsbPortInfo {
        vid: 0,
        pid: 0,
        serial_number: None,
        manufacturer: None,
        product: None,
    };
    espflash::flasher::Flasher::connect(iface, info, Some(460_800), use_stub)
        .unwrap_or_else(|e| panic!("espflash 2.1 could not connect: {e:?}"))
}

#[test]
fn espflash_2_1_rom_path_writes_and_identifies() {
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off", "--flash-size", "4MB"]);
    let img = image(0x5000 + 77, 6);
    {
        let mut f = espflash_connect(&emu, false);
        let info = f.device_info().unwrap();
        assert_eq!(info.mac_address, "5c:cf:7f:c8:cd:8d");
        assert_eq!(info.crystal_frequency, 26);
        assert_eq!(format!("{:?}", info.flash_size), "_4Mb");
        f.write_bin_to_flash(0x2000, &img, None).unwrap();
    }
    assert!(emu.wait_disconnected(1, Duration::from_secs(10)));
    let flash = emu.saved_flash();
    assert!(flash[0x2000..0x2000 + img.len()] == img[..]);
}

#[test]
fn espflash_2_1_stub_path_truncates_like_the_legacy_stub() {
    // Regression pin for espflash 2.1's ESP8266 bug (docs/DEVICE.md, "espflash
    // 2.1.0 on the ESP8266"):
    // it hands the ROM erase-size workaround to the stub, which takes it as
    // the exact byte count. The emulator reproduces the truncation.
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let img = image(0x10000, 7);
    {
        let mut f = espflash_connect(&emu, true);
        f.write_bin_to_flash(0, &img, None).unwrap();
    }
    assert!(emu.wait_disconnected(1, Duration::from_secs(10)));
    assert!(!emu.events_of("stub_started").is_empty());
    let flash = emu.saved_flash();
    // get_erase_size(0, 0x10000) = 0x8000: only half the image lands.
    assert!(flash[..0x8000] == img[..0x8000]);
    assert!(flash[0x8000..0x10000].iter().all(|&b| b == 0xFF));
}

#[test]
fn boot_mode_flash_prints_the_rom_boot_log_and_ignores_sync() {
    // A minimal valid ESP8266 image: one 32-byte IRAM segment.
    let mut img = vec![0xE9, 1, 2, 0x20, 0x00, 0x00, 0x10, 0x40];
    img.extend_from_slice(&0x4010_0000u32.to_le_bytes());
    img.extend_from_slice(&32u32.to_le_bytes());
    img.extend((0..32u8).map(|i| i.wrapping_mul(13)));
    let sum = img[16..48].iter().fold(0xEFu8, |a, b| a ^ b);
    while img.len() % 16 != 15 {
        img.push(0);
    }
    img.push(sum);
    let env = Env::new();
    let p = env.write("fw.bin", &img);
    let emu = Emulator::start(
        &env,
        &["--boot-mode", "flash", "--image", p.to_str().unwrap()],
    );
    let mut s = TcpStream::connect(emu.addr).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !String::from_utf8_lossy(&got).contains("csum 0x") {
        let mut buf = [0u8; 512];
        if let Ok(n) = s.read(&mut buf) {
            got.extend_from_slice(&buf[..n]);
        }
    }
    let log = String::from_utf8_lossy(&got).into_owned();
    assert!(log.contains("rst cause:2, boot mode:(3,6)"), "{log:?}");
    assert!(log.contains("load 0x40100000, len 32, room 16"), "{log:?}");
    assert!(log.contains(&format!("csum 0x{sum:02x}")), "{log:?}");
    // The loader is not running: SYNC goes unanswered.
    use espmqtt::flash::protocol::{Opcode, Request, SYNC_PAYLOAD};
    let _ = s.write_all(&espmqtt::flash::slip::encode(
        &Request::new(Opcode::Sync, SYNC_PAYLOAD.to_vec()).to_bytes(),
    ));
    let mut buf = [0u8; 64];
    assert!(!matches!(s.read(&mut buf), Ok(n) if n > 0));
    assert_eq!(emu.events_of("user_code")[0]["reason"], "power_on");
}

#[test]
fn text_mode_prints_the_bare_address_first() {
    let env = Env::new();
    let mut child = crate::support::KillOnDrop(
        env.cmd()
            .args(["emulate", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut out = child.0.stdout.take().unwrap();
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    while out.read(&mut b).map(|n| n == 1).unwrap_or(false) && b[0] != b'\n' {
        line.push(b[0]);
    }
    let addr: std::net::SocketAddr = String::from_utf8(line).unwrap().parse().unwrap();
    assert!(crate::support::wait_for_port(addr, Duration::from_secs(5)));
}

#[test]
fn stall_forever_until_a_new_connection_resets_the_chip() {
    let env = Env::new();
    let emu = Emulator::start(
        &env,
        &["--baud-model", "off", "--fault", "stall:2@read-reg"],
    );
    let mut a = Raw::connect(&emu);
    assert_eq!(a.read_reg(0x4000_1000), Some(0xFFF0_C101));
    assert_eq!(a.read_reg(0x4000_1000), None, "the stalled chip answered");
    // A new connection is a reset: it preempts the stalled session, whose
    // socket the emulator closes, and the chip answers again.
    let mut b = Raw::connect(&emu);
    assert_eq!(b.sync(), 8);
    assert_eq!(b.read_reg(0x4000_1000), Some(0xFFF0_C101));
    assert_eq!(a.frame(Duration::from_secs(3)), Err(true));
    assert!(emu.wait_disconnected(1, Duration::from_secs(5)));
    let d = &emu.events_of("disconnected")[0];
    assert!(d["reason"].as_str().unwrap().contains("reset"), "{d}");
}

#[test]
fn stub_drops_a_third_command_pipelined_behind_a_long_write() {
    use espmqtt::flash::protocol::{Opcode, Request};
    use std::io::Write as _;
    let env = Env::new();
    let emu = Emulator::start(&env, &[]); // timing model on
    let mut c = Raw::connect(&emu);
    assert_eq!(c.sync(), 8);
    c.start_stub();
    // 192 KiB of zeros: a few hundred compressed bytes that take ~1 s of
    // modelled erase + program time once inflated.
    let plain = vec![0u8; 192 * 1024];
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&plain).unwrap();
    let comp = z.finish().unwrap();
    let third = comp.len().div_ceil(3);
    let r = c
        .command(&Request::words(
            Opcode::FlashDeflBegin,
            &[plain.len() as u32, 3, 0x4000, 0, 0],
        ))
        .unwrap();
    assert!(r.is_ok());
    for (i, chunk) in comp.chunks(third).enumerate() {
        c.send(&Request::data_block(Opcode::FlashDeflData, i as u32, chunk));
    }
    let mut acks = 0;
    while let Some(r) = c.response(Duration::from_secs(3)) {
        assert!(r.is_ok());
        acks += 1;
    }
    assert_eq!(acks, 2, "the third pipelined block should be lost");
    assert!(emu.wait_events("warning", 1, Duration::from_secs(2)));
}

#[test]
fn sigterm_saves_the_flash_and_exits_0() {
    use espmqtt::flash::protocol::{Opcode, Request};
    let env = Env::new();
    let mut emu = Emulator::start(&env, &["--baud-model", "off"]);
    let mut c = Raw::connect(&emu);
    assert!(c
        .command(&Request::words(
            Opcode::FlashBegin,
            &[0x1000, 1, 0x400, 0x8000]
        ))
        .unwrap()
        .is_ok());
    let r = c
        .command(&Request::data_block(Opcode::FlashData, 0, &[0x42; 0x400]))
        .unwrap();
    assert!(r.is_ok());
    // The host is still connected and idle-save has not run yet.
    assert_eq!(emu.stop(), Some(0), "emulator did not exit 0 on SIGTERM");
    let flash = emu.saved_flash();
    assert!(flash[0x8000..0x8400].iter().all(|&b| b == 0x42));
    assert!(emu.wait_disconnected(1, Duration::from_secs(2)));
    let d = &emu.events_of("disconnected")[0];
    assert!(
        d["reason"].as_str().unwrap().contains("shutting down"),
        "{d}"
    );
}

#[test]
fn esptool_legacy_stub_write_and_verify() {
    // esptool's v1 (legacy) stub: loaded at 0x4010D000 like espflash's.
    if esptool().is_none() {
        return;
    }
    let env = Env::new();
    let emu = Emulator::start(&env, &["--baud-model", "off"]);
    let img = image(40 * 1024, 8);
    let path = env.write("img.bin", &img);
    let p = path.to_str().unwrap();
    for cmd in ["write-flash", "verify-flash"] {
        let mut args = vec!["--stub-version", "1", cmd];
        if cmd == "write-flash" {
            args.push("-z");
        }
        args.extend(["0x4000", p]);
        run_esptool(&env, &emu, &args, Duration::from_secs(60)).assert_code(0);
    }
    assert_eq!(emu.events_of("stub_started")[0]["flavour"], "legacy");
    assert!(emu.wait_disconnected(2, Duration::from_secs(10)));
    assert!(emu.saved_flash()[0x4000..0x4000 + img.len()] == img[..]);
}

/// `--save` holds every password written: 0600, and an unwritable path is
/// an error at start (exit 4), not a warning after the flash.
#[test]
fn save_file_is_private_and_checked_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let run = env.run(&[
        "emulate",
        "--listen",
        "127.0.0.1:0",
        "--save",
        "no-such-dir/flash.bin",
    ]);
    run.assert_code(4);
    assert!(run.stderr.contains("--save"), "{}", run.stderr);

    let emu = Emulator::start(&env, &["--baud-model", "off", "--save", "flash.bin"]);
    let fw = env.write("fw.bin", {
        let mut v = vec![0xE9u8, 1, 2, 0x20, 0, 0, 0, 0];
        v.resize(4096, 0x5A);
        v
    });
    env.run(&[
        "flash",
        "--port",
        &emu.url(),
        "--firmware",
        fw.to_str().unwrap(),
    ])
    .assert_code(0);
    assert!(emu.wait_disconnected(1, Duration::from_secs(10)));
    let mode = std::fs::metadata(env.path().join("flash.bin"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
}
