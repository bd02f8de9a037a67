//! Integration tests: the config blob in Rust and C++ (host g++, also under
//! ASan/UBSan), the rendered sketch against declaration-only core headers,
//! `espmqtt build` with recording builders, `espmqtt init`.

use std::path::Path;
use std::process::Command;

use espmqtt::device::blob::{
    build_blob, entry, ConfigBlob, DeviceIdentity, TrustMaterial, UpdateKey, TLS12,
};
use espmqtt::project::ProjectConfig;
use espmqtt::tls::TrustMode;

use crate::support::firmware::{
    blobdump, blobdump_asan, dump_with, fake_builders, fix_crc, pinned_key_tool, raw_blob, repo, s,
    vectors_dir, Dump, SANITIZER_ENV,
};
use crate::support::Env;

/// `s` padded with `!` to exactly `n` bytes.
fn pad(s: &str, n: usize) -> String {
    let mut s = s.to_string();
    while s.len() < n {
        s.push('!');
    }
    assert_eq!(s.len(), n);
    s
}

/// Values that break naive quoting and C string handling, at the format's limits.
fn nasty_identity(i: usize) -> (ProjectConfig, String, DeviceIdentity) {
    let mut config = ProjectConfig::from_toml(
        "[broker]\nhost = \"broker.example.com\"\nport = 8883\n[tls]\ntrust = \"fingerprint\"\n\
         fingerprints = [\"ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01\", \
         \"00112233445566778899AABBCCDDEEFF00112233\"]\n",
    )
    .unwrap();
    // SSID: exactly 32 bytes, with a quote, a backslash, %, a space and UTF-8.
    let ssids = [
        "Caf\u{e9} \"Wi\\Fi\" 100% \u{1f4f6}ok!!",
        "x",
        "%s%n%x \\\\ \"\"",
        "\u{20ac}",
    ];
    config.wifi.ssid = ssids[i % ssids.len()].to_string();
    if i == 0 {
        config.wifi.ssid = pad(&config.wifi.ssid, 32);
    }
    // Password: exactly 64 bytes on the first device.
    let passwords = [
        pad(&format!("p\"w\\d % {}", "\u{fc}".repeat(10)), 64),
        String::new(),
        "' OR 1=1; -- \\n".to_string(),
        "\u{1f511} key".to_string(),
    ];
    let wifi_password = passwords[i % passwords.len()].clone();
    config.mqtt.topic_prefix = ["t/\u{e9}", "p".repeat(64).as_str(), "a b", "x%y"][i % 4].into();
    let identity = DeviceIdentity {
        name: format!("dev-{i}"),
        client_id: if i == 0 {
            "c".repeat(128)
        } else {
            format!("client \"{i}\" \\ % \u{e4}")
        },
        username: Some(if i == 0 {
            "u".repeat(128)
        } else {
            format!("user %{i}\\")
        }),
        password: Some(if i == 0 {
            "\"\\%".repeat(85) + "x" // 256 bytes
        } else {
            format!("s3cr\u{e9}t \"{i}\"\t\\")
        }),
        client_cert_der: Vec::new(),
        client_key_der: None,
        update_key: (i % 2 == 1).then_some(UpdateKey([i as u8; 32])),
    };
    (config, wifi_password, identity)
}

fn check_dump_matches(
    json: &serde_json::Value,
    wifi_pw: &str,
    id: &DeviceIdentity,
    cfg: &ProjectConfig,
) {
    assert_eq!(json["wifi_ssid"], cfg.wifi.ssid.as_str());
    assert_eq!(json["wifi_password"], wifi_pw);
    assert_eq!(json["client_id"], id.client_id.as_str());
    assert_eq!(json["username"], id.username.as_deref().unwrap());
    assert_eq!(json["password"], id.password.as_deref().unwrap());
    assert_eq!(json["topic_prefix"], cfg.mqtt.topic_prefix.as_str());
    assert_eq!(json["broker_host"], "broker.example.com");
    assert_eq!(json["broker_port"], 8883);
    assert_eq!(json["trust_mode"], "fingerprint");
    assert_eq!(
        json["fingerprints"],
        serde_json::json!([
            "abcdef0123456789abcdef0123456789abcdef01",
            "00112233445566778899aabbccddeeff00112233"
        ])
    );
    assert_eq!(json["device_name"], id.name.as_str());
}

/// Acceptance 1: blobdump (host g++) prints exactly the values we put in.
#[test]
fn blob_round_trip_with_nasty_values_through_blobdump() {
    let env = Env::new();
    for i in 0..4 {
        let (cfg, pw, id) = nasty_identity(i);
        let trust = TrustMaterial::resolve(&cfg, env.path()).unwrap();
        let blob = build_blob(&cfg, Some(&pw), &id, &trust).unwrap();
        let bytes = blob.encode().unwrap();
        // Rust decoder.
        assert_eq!(ConfigBlob::decode(&bytes).unwrap(), blob);
        // C++ decoder.
        match dump_with(blobdump(), env.path(), &bytes) {
            Dump::Json(j) => {
                check_dump_matches(&j, &pw, &id, &cfg);
                assert_eq!(j, blob.to_json(bytes.len()), "Rust and C++ disagree");
            }
            Dump::Refused(c) => panic!("blobdump refused a valid blob: {c}"),
        }
    }
}

/// Maximum lengths are accepted, one byte more is refused by the encoder.
#[test]
fn blob_length_limits() {
    let base = ConfigBlob {
        wifi_ssid: "s".repeat(32),
        wifi_password: Some("p".repeat(64)),
        broker_host: "h".repeat(255),
        client_id: "c".repeat(128),
        username: Some("u".repeat(128)),
        password: Some("w".repeat(256)),
        topic_prefix: "t".repeat(64),
        trust: TrustMode::Insecure,
        ..ConfigBlob::default()
    };
    base.encode().unwrap();
    let mut b = base.clone();
    b.wifi_ssid.push('s');
    assert_eq!(b.encode().unwrap_err().code(), "bad_value");
    let mut b = base.clone();
    b.password = Some("w".repeat(257));
    assert_eq!(b.encode().unwrap_err().code(), "bad_value");
    let mut b = base.clone();
    b.trust = TrustMode::Ca;
    b.trust_anchors = vec![vec![0x30; 2000]; 2];
    assert_eq!(b.encode().unwrap_err().code(), "too_large");
}

/// A small valid blob for the per-corruption process runs.
fn small_blob() -> Vec<u8> {
    ConfigBlob {
        wifi_ssid: "ssid".into(),
        broker_host: "b".into(),
        client_id: "c".into(),
        topic_prefix: "t".into(),
        trust: TrustMode::Fingerprint,
        fingerprints: vec![[7; 20]],
        ..ConfigBlob::default()
    }
    .encode()
    .unwrap()
}

/// Hand-made corruptions that keep a valid CRC, so the entry parser itself
/// has to catch them.
fn crafted_bad_blobs() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    let good = vec![
        (entry::WIFI_SSID, s("x")),
        (entry::BROKER_HOST, s("b")),
        (entry::CLIENT_ID, s("c")),
        (entry::TOPIC_PREFIX, s("t")),
        (entry::TRUST_MODE, vec![3]),
    ];
    let with = |extra: Vec<(u8, Vec<u8>)>| {
        let mut e = good.clone();
        e.extend(extra);
        e
    };
    let mut past_end = raw_blob(1, &with(vec![(entry::DEVICE_NAME, s("dev"))]));
    // The last entry's length now points 100 bytes past the end.
    let n = past_end.len();
    past_end[n - 6..n - 4].copy_from_slice(&104u16.to_le_bytes());
    fix_crc(&mut past_end);
    let mut header_past_end = raw_blob(1, &good);
    let l = header_past_end.len() as u16 + 10;
    header_past_end[6..8].copy_from_slice(&l.to_le_bytes());
    let mut too_long = raw_blob(1, &good);
    too_long[6..8].copy_from_slice(&4097u16.to_le_bytes());
    let mut partial_header = raw_blob(1, &good);
    partial_header.extend_from_slice(&[entry::DEVICE_NAME, 5]); // 2 of 3 header bytes
    let l = partial_header.len() as u16;
    partial_header[6..8].copy_from_slice(&l.to_le_bytes());
    fix_crc(&mut partial_header);
    vec![
        ("wrong version", raw_blob(2, &good), "bad_version"),
        ("entry length past the end", past_end, "bad_entry"),
        ("entry header past the end", partial_header, "bad_entry"),
        (
            "header length past the buffer",
            header_past_end,
            "truncated",
        ),
        ("header length over 4096", too_long, "bad_length"),
        (
            "duplicate ssid",
            raw_blob(1, &with(vec![(entry::WIFI_SSID, s("y"))])),
            "duplicate",
        ),
        (
            "three fingerprints",
            raw_blob(
                1,
                &with(vec![
                    (entry::FINGERPRINT, vec![1; 20]),
                    (entry::FINGERPRINT, vec![2; 20]),
                    (entry::FINGERPRINT, vec![3; 20]),
                ]),
            ),
            "too_many",
        ),
        (
            "fingerprint of 19 bytes",
            raw_blob(1, &with(vec![(entry::FINGERPRINT, vec![1; 19])])),
            "bad_value",
        ),
        (
            "string without NUL",
            raw_blob(1, &with(vec![(entry::DEVICE_NAME, b"dev".to_vec())])),
            "bad_value",
        ),
        (
            "NUL inside a string",
            raw_blob(1, &with(vec![(entry::DEVICE_NAME, b"d\0v\0".to_vec())])),
            "bad_value",
        ),
        (
            "invalid UTF-8",
            raw_blob(1, &with(vec![(entry::DEVICE_NAME, vec![0xc3, 0x28, 0])])),
            "bad_value",
        ),
        (
            "overlong UTF-8",
            raw_blob(1, &with(vec![(entry::DEVICE_NAME, vec![0xc0, 0xaf, 0])])),
            "bad_value",
        ),
        (
            "UTF-16 surrogate",
            raw_blob(
                1,
                &with(vec![(entry::DEVICE_NAME, vec![0xed, 0xa0, 0x80, 0])]),
            ),
            "bad_value",
        ),
        (
            "trust mode 4",
            raw_blob(
                1,
                &good[..4]
                    .iter()
                    .cloned()
                    .chain([(entry::TRUST_MODE, vec![4])])
                    .collect::<Vec<_>>(),
            ),
            "bad_value",
        ),
        (
            "port 0",
            raw_blob(1, &with(vec![(entry::BROKER_PORT, vec![0, 0])])),
            "bad_value",
        ),
        (
            "tls buffer 100",
            raw_blob(1, &with(vec![(entry::TLS_BUFFERS, vec![100, 0, 0, 2])])),
            "bad_value",
        ),
        (
            "tls versions reversed",
            raw_blob(1, &with(vec![(entry::TLS_VERSIONS, vec![3, 3, 1, 3])])),
            "bad_value",
        ),
        (
            "update key of 31 bytes",
            raw_blob(1, &with(vec![(entry::UPDATE_KEY, vec![1; 31])])),
            "bad_value",
        ),
        (
            "config version of 2 bytes",
            raw_blob(1, &with(vec![(entry::CONFIG_VERSION, vec![1, 0])])),
            "bad_value",
        ),
        (
            "duplicate update key",
            raw_blob(
                1,
                &with(vec![
                    (entry::UPDATE_KEY, vec![1; 32]),
                    (entry::UPDATE_KEY, vec![2; 32]),
                ]),
            ),
            "duplicate",
        ),
        ("missing ssid", raw_blob(1, &good[1..]), "missing_field"),
        (
            "ca mode without anchor",
            raw_blob(
                1,
                &good[..4]
                    .iter()
                    .cloned()
                    .chain([(entry::TRUST_MODE, vec![0])])
                    .collect::<Vec<_>>(),
            ),
            "missing_field",
        ),
        (
            "client cert without key",
            raw_blob(1, &with(vec![(entry::CLIENT_CERT, vec![0x30; 10])])),
            "missing_field",
        ),
        ("erased flash", vec![0xff; 4096], "bad_magic"),
        ("empty file", Vec::new(), "truncated"),
    ]
}

/// Acceptance 2: truncations, bit flips, wrong version and lengths past the
/// end are refused by both decoders; the C++ one runs under ASan + UBSan.
#[test]
fn corrupt_blobs_are_refused_by_both_decoders_without_crashing() {
    let env = Env::new();
    let asan = blobdump_asan();
    let good = small_blob();
    // Every truncation length.
    for n in 0..good.len() {
        let cut = &good[..n];
        assert_eq!(ConfigBlob::decode(cut).unwrap_err().code(), "truncated");
        match dump_with(asan, env.path(), cut) {
            Dump::Refused(c) => assert_eq!(c, "truncated", "length {n}"),
            Dump::Json(_) => panic!("C++ accepted a blob truncated to {n} bytes"),
        }
    }
    // Every single-bit flip.
    for i in 0..good.len() {
        for bit in 0..8 {
            let mut c = good.clone();
            c[i] ^= 1 << bit;
            let rust = ConfigBlob::decode(&c).unwrap_err().code();
            match dump_with(asan, env.path(), &c) {
                Dump::Refused(code) => assert_eq!(code, rust, "flip {i}.{bit}"),
                Dump::Json(_) => panic!("C++ accepted a blob with bit {i}.{bit} flipped"),
            }
        }
    }
    // Crafted corruptions with valid CRCs.
    for (what, bytes, code) in crafted_bad_blobs() {
        assert_eq!(
            ConfigBlob::decode(&bytes).unwrap_err().code(),
            code,
            "Rust: {what}"
        );
        match dump_with(asan, env.path(), &bytes) {
            Dump::Refused(c) => assert_eq!(c, code, "C++: {what}"),
            Dump::Json(j) => panic!("C++ accepted {what}: {j}"),
        }
    }
}

/// Every single-bit flip of a full-featured blob, in process, for the Rust
/// decoder (the C++ equivalent is the sanitizer run above plus the vectors).
#[test]
fn rust_decoder_refuses_every_bit_flip() {
    let bytes = full_blob().encode().unwrap();
    for i in 0..bytes.len() {
        for bit in 0..8 {
            let mut c = bytes.clone();
            c[i] ^= 1 << bit;
            assert!(ConfigBlob::decode(&c).is_err(), "flip {i}.{bit} accepted");
        }
    }
}

fn full_blob() -> ConfigBlob {
    ConfigBlob {
        device_name: Some("sensor-\u{e9}".into()),
        wifi_ssid: "Home".into(),
        wifi_password: Some("pa ss\"word\\".into()),
        broker_host: "192.0.2.10".into(),
        broker_port: 18883,
        broker_sni: Some("broker.example.com".into()),
        client_id: "sensor-007".into(),
        username: Some("sensor-007".into()),
        password: Some("s3cret%".into()),
        topic_prefix: "fleet/a".into(),
        trust: TrustMode::Ca,
        fingerprints: Vec::new(),
        pubkey: None,
        trust_anchors: vec![(0..200u8).collect(), vec![0x30, 0x82, 0x01]],
        client_cert: vec![vec![0x30; 40]],
        client_key: Some(vec![0x02; 33]),
        tls_rx_buffer: 1024,
        tls_tx_buffer: 1024,
        tls_min_version: TLS12,
        tls_max_version: TLS12,
        ntp_servers: vec!["a.ntp".into(), "b.ntp".into(), "c.ntp".into()],
        heartbeat: 300,
        keepalive: 30,
        config_version: 0,
        update_key: None,
    }
}

/// The canonical test vectors: name, bytes. Kept in `tests/data/blobs/`;
/// regenerate with `ESPMQTT_REGEN_VECTORS=1 cargo test blob_vectors`.
fn vector_set() -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = Vec::new();
    v.push(("full-ca".into(), full_blob().encode().unwrap()));
    v.push(("minimal-fingerprint".into(), small_blob()));
    let pubkey = ConfigBlob {
        wifi_ssid: "\u{1f4f6} \"q\" \\ %".into(),
        wifi_password: None,
        broker_host: "b.example".into(),
        client_id: "c".into(),
        topic_prefix: "t".into(),
        trust: TrustMode::Pubkey,
        pubkey: Some(vec![0x30, 0x59, 0x30, 0x13]),
        ..ConfigBlob::default()
    };
    v.push(("pubkey-open-network".into(), pubkey.encode().unwrap()));
    // Entries 22 and 23 (over-the-air updates, docs/OTA.md).
    let update = ConfigBlob {
        device_name: Some("sensor-001".into()),
        wifi_ssid: "lab".into(),
        wifi_password: Some("wifi-pass".into()),
        broker_host: "broker.example.com".into(),
        client_id: "sensor-001".into(),
        username: Some("sensor-001".into()),
        password: Some("mqtt-pass".into()),
        trust: TrustMode::Fingerprint,
        fingerprints: vec![[0x11; 20], [0x22; 20]],
        config_version: 0x0102_0304,
        update_key: Some(UpdateKey(std::array::from_fn(|i| i as u8))),
        ..ConfigBlob::default()
    };
    v.push(("update-entries".into(), update.encode().unwrap()));
    let mut sector = small_blob();
    sector.resize(4096, 0xff);
    v.push(("sector-with-erased-tail".into(), sector));
    // Forward compatibility: an entry type this version does not know.
    let mut unknown = small_blob();
    unknown.extend_from_slice(&[200, 3, 0, 1, 2, 3]);
    let l = unknown.len() as u16;
    unknown[6..8].copy_from_slice(&l.to_le_bytes());
    fix_crc(&mut unknown);
    v.push(("unknown-entry-skipped".into(), unknown));
    let mut bad_crc = small_blob();
    bad_crc[8] ^= 0xff;
    v.push(("bad-crc".into(), bad_crc));
    v.push(("truncated".into(), small_blob()[..20].to_vec()));
    for (what, bytes, _) in crafted_bad_blobs() {
        if what == "erased flash" || what == "empty file" {
            continue;
        }
        v.push((what.replace(' ', "-").to_lowercase(), bytes));
    }
    v.push(("erased".into(), vec![0xff; 4096]));
    v
}

/// Acceptance 3: the vectors in tests/data/blobs/ decode identically in Rust
/// and C++, and as recorded.
#[test]
fn blob_vectors_decode_identically_in_rust_and_cpp() {
    let dir = vectors_dir();
    if std::env::var_os("ESPMQTT_REGEN_VECTORS").is_some() {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in vector_set() {
            std::fs::write(dir.join(format!("{name}.bin")), &bytes).unwrap();
            let _ = std::fs::remove_file(dir.join(format!("{name}.json")));
            let _ = std::fs::remove_file(dir.join(format!("{name}.err")));
            match ConfigBlob::decode(&bytes) {
                Ok(b) => std::fs::write(
                    dir.join(format!("{name}.json")),
                    serde_json::to_string_pretty(&b.to_json(ConfigBlob::stored_length(&bytes)))
                        .unwrap()
                        + "\n",
                )
                .unwrap(),
                Err(e) => {
                    std::fs::write(dir.join(format!("{name}.err")), format!("{}\n", e.code()))
                        .unwrap()
                }
            }
        }
    }
    let env = Env::new();
    let mut count = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/data/blobs exists")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    entries.sort();
    for path in entries {
        count += 1;
        let bytes = std::fs::read(&path).unwrap();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let rust = ConfigBlob::decode(&bytes);
        let cpp = dump_with(blobdump(), env.path(), &bytes);
        let json_file = path.with_extension("json");
        let err_file = path.with_extension("err");
        match (rust, cpp) {
            (Ok(b), Dump::Json(j)) => {
                let r = b.to_json(ConfigBlob::stored_length(&bytes));
                assert_eq!(r, j, "{name}: Rust and C++ disagree");
                let want: serde_json::Value = serde_json::from_str(
                    &std::fs::read_to_string(&json_file)
                        .unwrap_or_else(|_| panic!("{name}: decodes but has no .json")),
                )
                .unwrap();
                assert_eq!(j, want, "{name}: differs from the recorded .json");
            }
            (Err(e), Dump::Refused(c)) => {
                assert_eq!(
                    e.code(),
                    c,
                    "{name}: Rust and C++ refuse for different reasons"
                );
                let want = std::fs::read_to_string(&err_file)
                    .unwrap_or_else(|_| panic!("{name}: refused but has no .err"));
                assert_eq!(want.trim(), c, "{name}: differs from the recorded .err");
            }
            (r, c) => panic!("{name}: Rust says {r:?}, C++ says {c:?}"),
        }
    }
    assert!(count >= 20, "only {count} vectors in {}", dir.display());
}

/// Acceptance 4: the rendered sketch passes `g++ -fsyntax-only` against the
/// declaration-only headers in tests/support/arduino/ (our code against the
/// API we rely on; the real core is not involved).
#[test]
fn rendered_sketch_passes_syntax_check_against_declared_core_api() {
    let env = Env::new();
    for board in [
        espmqtt::firmware::Board::Esp07,
        espmqtt::firmware::Board::Esp07s,
    ] {
        let r = espmqtt::firmware::render(&espmqtt::firmware::RenderOptions {
            board,
            ciphers: "all".into(),
        })
        .unwrap();
        let dir = env.path().join(board.as_str());
        r.write_to(&dir).unwrap();
        let sketch = dir.join("espmqtt");
        let headers = repo().join("tests/support/arduino");
        for (file, lang_args) in [
            ("espmqtt.ino", vec!["-x", "c++", "-include", "Arduino.h"]),
            ("app.cpp", vec![]),
            ("config_blob.cpp", vec![]),
            ("config_update.cpp", vec![]),
        ] {
            let o = Command::new("g++")
                .args([
                    "-std=gnu++17",
                    "-fsyntax-only",
                    "-Wall",
                    "-Wextra",
                    "-Werror",
                ])
                .arg(format!("-I{}", headers.display()))
                .arg(format!("-I{}", sketch.display()))
                .args(&lang_args)
                .arg(sketch.join(file))
                .output()
                .unwrap();
            assert!(
                o.status.success(),
                "{file} ({board}) does not pass the syntax check:\n{}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        let info = std::fs::read_to_string(sketch.join("build_info.h")).unwrap();
        assert!(info.contains(&format!("#define ESPMQTT_BOARD \"{board}\"")));
    }
}

fn build_cmd(env: &Env, path: &Path, args: &[&str]) -> crate::support::Run {
    let log = env.path().join("builder.log");
    let out = env
        .cmd()
        .args(args)
        .env("PATH", path)
        .env("FAKE_BUILDER_LOG", &log)
        .output()
        .unwrap();
    crate::support::Run::from(out)
}

fn log_of(env: &Env) -> String {
    std::fs::read_to_string(env.path().join("builder.log")).unwrap_or_default()
}

/// Acceptance 5: arduino-cli gets the right FQBN per board; the image lands
/// in the build directory; the size report is parsed; unchanged inputs are
/// not rebuilt.
#[test]
fn build_with_arduino_cli_passes_fqbn_and_skips_unchanged() {
    let env = Env::new();
    let bin = fake_builders(env.path(), true, true);
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"b.example\"\n[board]\nname = \"esp07\"\n",
    );
    for (board, eesz) in [("esp07", "1M64"), ("esp07s", "4M2M")] {
        let r = build_cmd(&env, &bin, &["build", "--board", board, "--format", "json"]);
        r.assert_code(0);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["builder"], "arduino-cli");
        assert_eq!(v["rebuilt"], true);
        let fqbn = format!("esp8266:esp8266:generic:xtal=160,eesz={eesz},ssl=all");
        assert_eq!(v["fqbn"], fqbn.as_str());
        assert_eq!(v["size"]["flash_used"], 381245);
        assert_eq!(v["size"]["ram_max"], 81920);
        let image = env
            .path()
            .join(format!(".espmqtt/build/{board}/firmware.bin"));
        assert_eq!(
            std::fs::read_to_string(&image).unwrap(),
            format!("fake image for {fqbn}\n")
        );
        assert!(
            log_of(&env).contains(&format!("--fqbn {fqbn}")),
            "{}",
            log_of(&env)
        );
    }
    assert_eq!(log_of(&env).lines().count(), 2);
    // Unchanged inputs: no builder run.
    let r = build_cmd(
        &env,
        &bin,
        &["build", "--board", "esp07", "--format", "json"],
    );
    r.assert_code(0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["rebuilt"], false);
    assert_eq!(
        log_of(&env).lines().count(),
        2,
        "builder ran again:\n{}",
        log_of(&env)
    );
    // A missing image forces a rebuild.
    std::fs::remove_file(env.path().join(".espmqtt/build/esp07/firmware.bin")).unwrap();
    build_cmd(&env, &bin, &["build", "--board", "esp07"]).assert_code(0);
    assert_eq!(log_of(&env).lines().count(), 3);
    // A changed input (the cipher build) forces one too, with the new FQBN.
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"b.example\"\n[tls]\nciphers = \"basic\"\n",
    );
    build_cmd(&env, &bin, &["build", "--board", "esp07"]).assert_code(0);
    let log = log_of(&env);
    assert_eq!(log.lines().count(), 4);
    assert!(log.contains("eesz=1M64,ssl=basic"), "{log}");
}

#[test]
fn build_with_platformio_uses_board_layout() {
    let env = Env::new();
    let bin = fake_builders(env.path(), false, true);
    for (board, ld) in [
        ("esp07", "eagle.flash.1m64.ld"),
        ("esp07s", "eagle.flash.4m2m.ld"),
    ] {
        let out = env.path().join(format!("out-{board}"));
        let r = build_cmd(
            &env,
            &bin,
            &[
                "build",
                "--board",
                board,
                "--out",
                out.to_str().unwrap(),
                "--format",
                "json",
            ],
        );
        r.assert_code(0);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        assert_eq!(v["builder"], "platformio");
        assert_eq!(v["size"]["flash_max"], 1044464);
        assert!(out.join("firmware.bin").is_file());
        let log = log_of(&env);
        assert!(log.contains(&format!("--environment {board}")), "{log}");
        assert!(log.contains(&format!("board = {board}\n")), "{log}");
        assert!(
            log.contains(&format!("board_build.ldscript = {ld}")),
            "{log}"
        );
        assert!(log.contains("board_build.f_cpu = 160000000L"), "{log}");
        assert!(log.contains("knolleary/PubSubClient@2.8"), "{log}");
    }
}

#[test]
fn build_without_any_builder_exits_4_with_install_steps() {
    let env = Env::new();
    let empty = env.path().join("emptybin");
    std::fs::create_dir_all(&empty).unwrap();
    let r = build_cmd(&env, &empty, &["build"]);
    r.assert_code(4);
    let all = r.all();
    assert!(
        all.contains("arduino-cli core install esp8266:esp8266"),
        "{all}"
    );
    assert!(
        all.contains("arduino-cli lib install \"PubSubClient@2.8\""),
        "{all}"
    );
    assert!(all.contains("pip install --user platformio"), "{all}");
    // An explicit builder that is missing says which.
    let r = build_cmd(&env, &empty, &["build", "--builder", "platformio"]);
    r.assert_code(4);
    assert!(
        r.all().contains("PlatformIO (pio) is not installed"),
        "{}",
        r.all()
    );
}

#[test]
fn build_failure_shows_the_builders_error_lines_and_exits_4() {
    let env = Env::new();
    let bin = fake_builders(env.path(), true, false);
    let log = env.path().join("builder.log");
    let out = env
        .cmd()
        .args(["build", "--board", "esp07"])
        .env("PATH", &bin)
        .env("FAKE_BUILDER_LOG", &log)
        .env("FAKE_BUILDER_FAIL", "1")
        .output()
        .unwrap();
    let r = crate::support::Run::from(out);
    r.assert_code(4);
    assert!(
        r.stderr
            .contains("error: 'WiFiClientSecure' was not declared"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("arduino-cli failed"), "{}", r.stderr);
    assert!(r.stderr.contains("build.log"), "{}", r.stderr);
    let full = std::fs::read_to_string(env.path().join(".espmqtt/build/esp07/build.log")).unwrap();
    assert!(full.contains("Compiling sketch..."), "{full}");
    assert!(!env
        .path()
        .join(".espmqtt/build/esp07/firmware.bin")
        .exists());
}

/// Acceptance 6: no TTY, no flags → exit 2 naming the missing flags.
#[test]
fn init_without_tty_or_flags_names_missing_flags() {
    let env = Env::new();
    let r = env.run(&["init"]);
    r.assert_code(2);
    for flag in ["--broker", "--wifi-ssid", "--wifi-password", "--trust"] {
        assert!(r.stderr.contains(flag), "{flag} not named:\n{}", r.stderr);
    }
    assert!(!env.path().join("espmqtt.toml").exists());
    // Mode-specific material is named too.
    let r = env.run(&[
        "init",
        "--broker",
        "b.example",
        "--wifi-ssid",
        "x",
        "--wifi-password",
        "password1",
        "--trust",
        "ca",
    ]);
    r.assert_code(2);
    assert!(r.stderr.contains("--ca-file"), "{}", r.stderr);
}

#[test]
fn init_with_flags_writes_a_config_that_builds_a_blob() {
    let env = Env::new();
    let r = env.run(&[
        "init",
        "--broker",
        "broker.example.com:8884",
        "--wifi-ssid",
        "Caf\u{e9} \"Net\"",
        "--wifi-password-env",
        "WIFI_PW",
        "--topic-prefix",
        "fleet",
        "--board",
        "esp07s",
        "--trust",
        "fingerprint",
        "--fingerprint",
        "AB CD EF 01 23 45 67 89 AB CD EF 01 23 45 67 89 AB CD EF 01",
        "--format",
        "json",
    ]);
    r.assert_code(0);
    let text = std::fs::read_to_string(env.path().join("espmqtt.toml")).unwrap();
    let cfg = ProjectConfig::from_toml(&text).unwrap();
    assert_eq!(cfg.broker.host, "broker.example.com");
    assert_eq!(cfg.broker.port, 8884);
    assert_eq!(cfg.wifi.ssid, "Caf\u{e9} \"Net\"");
    assert_eq!(cfg.wifi.password_env.as_deref(), Some("WIFI_PW"));
    assert_eq!(cfg.wifi.password, None);
    assert_eq!(cfg.mqtt.topic_prefix, "fleet");
    assert_eq!(cfg.board.name, "esp07s");
    assert_eq!(cfg.tls.trust, TrustMode::Fingerprint);
    assert_eq!(
        cfg.tls.fingerprints,
        vec!["AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"]
    );
    // Refuses to overwrite without --force.
    env.run(&[
        "init",
        "--broker",
        "x",
        "--wifi-ssid",
        "s",
        "--wifi-password",
        "",
        "--trust",
        "insecure",
    ])
    .assert_code(2);
    env.run(&[
        "init",
        "--broker",
        "x",
        "--wifi-ssid",
        "s",
        "--wifi-password",
        "",
        "--trust",
        "insecure",
        "--force",
    ])
    .assert_code(0);
}

#[test]
fn init_checks_trust_material() {
    let env = Env::new();
    env.write("not-a-cert.pem", "hello");
    let r = env.run(&[
        "init",
        "--broker",
        "b",
        "--wifi-ssid",
        "s",
        "--wifi-password",
        "password1",
        "--trust",
        "ca",
        "--ca-file",
        "not-a-cert.pem",
    ]);
    r.assert_code(2);
    let r = env.run(&[
        "init",
        "--broker",
        "b",
        "--wifi-ssid",
        "s",
        "--wifi-password",
        "password1",
        "--trust",
        "fingerprint",
        "--fingerprint",
        "abcd",
    ]);
    r.assert_code(2);
    assert!(r.stderr.contains("20"), "{}", r.stderr);
}

/// Compiles the sketch with a real arduino-cli (ESP8266 core 3.1.x and
/// PubSubClient 2.8 installed) and/or PlatformIO, whichever is present:
/// `cargo test -- --ignored real_builder`.
#[test]
#[ignore]
fn real_builder_compiles_the_sketch() {
    let mut ran = false;
    for (builder, program) in [("arduino-cli", "arduino-cli"), ("platformio", "pio")] {
        if !crate::support::have(program) {
            eprintln!("{program} not installed; skipping {builder}");
            continue;
        }
        ran = true;
        let env = Env::new();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let out = env
            .cmd()
            .args([
                "build",
                "--board",
                "esp07",
                "--builder",
                builder,
                "--format",
                "json",
            ])
            .env("PATH", path)
            .output()
            .unwrap();
        let r = crate::support::Run::from(out);
        r.assert_code(0);
        let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
        let image = std::fs::read(v["firmware"].as_str().unwrap()).unwrap();
        assert_eq!(image[0], 0xe9, "{builder}: not an ESP8266 image");
        assert!(v["size"]["flash_used"].as_u64().unwrap_or(0) > 100_000);
    }
    if !ran {
        eprintln!("no ESP8266 builder installed; nothing compiled");
    }
}

fn pem_der(pem: &str) -> Vec<u8> {
    let mut r = std::io::BufReader::new(pem.as_bytes());
    match rustls_pemfile::read_one(&mut r).unwrap().unwrap() {
        rustls_pemfile::Item::X509Certificate(c) => c.as_ref().to_vec(),
        rustls_pemfile::Item::Pkcs8Key(k) => k.secret_pkcs8_der().to_vec(),
        rustls_pemfile::Item::Sec1Key(k) => k.secret_sec1_der().to_vec(),
        rustls_pemfile::Item::Pkcs1Key(k) => k.secret_pkcs1_der().to_vec(),
        other => panic!("unexpected PEM item {other:?}"),
    }
}

/// Acceptance 1 end to end: what the registry holds (secret, client
/// certificate and key) plus awkward espmqtt.toml values go through
/// `espmqtt device config` and come out of `blobdump` unchanged.
#[test]
fn device_config_round_trip_from_registry_through_blobdump() {
    use crate::support::pki::{self, Alg};
    let env = Env::new();
    let broker_ca = pki::ca("broker root \"\u{e9}\"", Alg::EcP256);
    env.write("broker-ca.pem", &broker_ca.cert_pem);
    let mut cfg = ProjectConfig::from_toml("[broker]\nhost = \"broker.example.com\"\n").unwrap();
    cfg.wifi.ssid = pad("Caf\u{e9} \"Wi\\Fi\" 100% ", 32);
    cfg.wifi.password = Some(pad("p\"w\\d % \u{fc} \u{1f511}", 64));
    cfg.mqtt.topic_prefix = "fleet \"a\" %s \\".into();
    cfg.tls.trust = TrustMode::Ca;
    cfg.tls.ca_file = Some("broker-ca.pem".into());
    env.write("espmqtt.toml", cfg.to_toml().unwrap());
    env.run(&["ca", "init"]).assert_code(0);
    env.run(&["device", "new", "sensor-001", "--client-cert"])
        .assert_code(0);
    env.run(&["device", "new", "plain_2"]).assert_code(0);

    for name in ["sensor-001", "plain_2"] {
        let (_, show) = env.run_json(&["device", "show", name, "--show-secrets"]);
        let out = env.path().join(format!("{name}.bin"));
        env.run(&["device", "config", name, "--out", out.to_str().unwrap()])
            .assert_code(0);
        let bytes = std::fs::read(&out).unwrap();
        let j = match dump_with(blobdump(), env.path(), &bytes) {
            Dump::Json(j) => j,
            Dump::Refused(c) => panic!("blobdump refused {name}: {c}"),
        };
        assert_eq!(j["client_id"], show["client_id"]);
        assert_eq!(j["username"], show["username"]);
        assert_eq!(j["password"], show["secret"]);
        assert!(!show["secret"].as_str().unwrap().is_empty());
        assert_eq!(j["device_name"], name);
        assert_eq!(j["wifi_ssid"], cfg.wifi.ssid.as_str());
        assert_eq!(j["wifi_password"], cfg.wifi.password.as_deref().unwrap());
        assert_eq!(j["topic_prefix"], cfg.mqtt.topic_prefix.as_str());
        assert_eq!(j["trust_mode"], "ca");
        assert_eq!(
            j["trust_anchors"],
            serde_json::json!([hex::encode(broker_ca.der())])
        );
        assert_eq!(show["certificate_pem"].is_string(), name == "sensor-001");
        match show["certificate_pem"].as_str() {
            Some(pem) => {
                assert_eq!(
                    j["client_cert"],
                    serde_json::json!([hex::encode(pem_der(pem))])
                );
                let key = show["certificate_key_pem"].as_str().unwrap();
                assert_eq!(j["client_key"], hex::encode(pem_der(key)));
            }
            None => {
                assert_eq!(j["client_cert"], serde_json::json!([]));
                assert!(j["client_key"].is_null());
            }
        }
        // The file holds secrets: owner-only.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }
    assert!(env
        .run(&["device", "show", "sensor-001"])
        .stdout
        .contains("sensor-001"));
    // Unknown and revoked devices are refused.
    let out = env.path().join("x.bin");
    let r = env.run(&["device", "config", "nope", "--out", out.to_str().unwrap()]);
    assert_ne!(r.code, 0);
    env.run(&["device", "revoke", "plain_2"]).assert_code(0);
    env.run(&[
        "device",
        "config",
        "plain_2",
        "--out",
        out.to_str().unwrap(),
    ])
    .assert_code(2);
}

/// A CA chain that does not fit the 4 KB sector is refused with what to drop.
#[test]
fn device_config_refuses_oversized_blob_with_advice() {
    use crate::support::pki::{self, Alg};
    let env = Env::new();
    // Six RSA-2048 roots (~800 bytes each): beyond the 4096-byte sector.
    let mut pem = String::new();
    for i in 0..6 {
        pem.push_str(&pki::ca(&format!("root {i}"), Alg::Rsa(2048)).cert_pem);
    }
    env.write("big-ca.pem", pem);
    env.write(
        "espmqtt.toml",
        "[broker]\nhost = \"b.example\"\n[wifi]\nssid = \"s\"\npassword = \"password\"\n[tls]\ntrust = \"ca\"\nca_file = \"big-ca.pem\"\n",
    );
    env.run(&["device", "new", "d1"]).assert_code(0);
    let out = env.path().join("d1.bin");
    let r = env.run(&["device", "config", "d1", "--out", out.to_str().unwrap()]);
    r.assert_code(2);
    assert!(r.stderr.contains("4096"), "{}", r.stderr);
    assert!(r.stderr.contains("pubkey"), "{}", r.stderr);
    assert!(!out.exists());
}

/// Random mutations (bit flips, byte overwrites, truncations, insertions) of
/// valid blobs never panic the Rust decoder and never crash the C++ one under
/// the sanitizers; both give the same verdict. The iteration count of the C++
/// half (one process per case) is `ESPMQTT_FUZZ_ITERS` (default 200).
#[test]
fn blob_decoders_survive_random_mutations() {
    let env = Env::new();
    let seeds = [full_blob().encode().unwrap(), small_blob()];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        // xorshift64*: deterministic, so a failure reproduces.
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut mutate = |seed: &[u8]| -> Vec<u8> {
        let mut b = seed.to_vec();
        for _ in 0..1 + next() % 4 {
            let pos = (next() as usize) % b.len().max(1);
            match next() % 5 {
                0 if !b.is_empty() => b[pos] ^= 1 << (next() % 8),
                1 if !b.is_empty() => b[pos] = next() as u8,
                2 => b.truncate(pos),
                3 => b.insert(pos.min(b.len()), next() as u8),
                _ => {
                    // Keep the CRC valid so the entry parser is exercised.
                    if b.len() >= 12 {
                        if !b.is_empty() {
                            b[pos] = next() as u8;
                        }
                        b[0..4].copy_from_slice(b"EMQC");
                        b[4..6].copy_from_slice(&1u16.to_le_bytes());
                        fix_crc(&mut b);
                    }
                }
            }
        }
        b
    };
    for i in 0..20_000 {
        let b = mutate(&seeds[i % 2]);
        let _ = ConfigBlob::decode(&b);
    }
    let iters: usize = std::env::var("ESPMQTT_FUZZ_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    for i in 0..iters {
        let b = mutate(&seeds[i % 2]);
        let rust = ConfigBlob::decode(&b);
        match (rust, dump_with(blobdump_asan(), env.path(), &b)) {
            (Ok(r), Dump::Json(j)) => {
                assert_eq!(r.to_json(ConfigBlob::stored_length(&b)), j, "case {i}")
            }
            (Err(e), Dump::Refused(c)) => assert_eq!(e.code(), c, "case {i}: {}", hex::encode(&b)),
            (r, c) => panic!("case {i}: Rust {r:?} vs C++ {c:?}: {}", hex::encode(&b)),
        }
    }
}

/// `init --from-broker` against a real mosquitto: a self-signed broker gets
/// `pubkey` (with the key saved), a CA-issued chain gets `ca` with the CA
/// saved as ca_file; either way the written project builds a blob.
#[test]
fn init_from_broker_proposes_trust_mode() {
    use crate::support::mosquitto::Mosquitto;
    use crate::support::pki::{self, Alg};
    if crate::support::mosquitto_bin().is_none() {
        eprintln!("mosquitto not installed; skipping");
        return;
    }
    // Self-signed broker → pubkey.
    let env = Env::new();
    let ss = pki::self_signed(
        "localhost",
        &["localhost", "127.0.0.1"],
        Alg::EcP256,
        |_| {},
    );
    let (cert, key) = ss.write(env.path(), "broker");
    let m = Mosquitto::start(
        env.path(),
        "",
        &format!("certfile {}\nkeyfile {}\n", cert.display(), key.display()),
    );
    let r = env.run(&[
        "init",
        "--from-broker",
        &m.addr(),
        "--wifi-ssid",
        "s",
        "--wifi-password",
        "password1",
    ]);
    r.assert_code(0);
    assert!(r.stderr.contains("fingerprint would break"), "{}", r.stderr);
    let cfg = ProjectConfig::from_toml(
        &std::fs::read_to_string(env.path().join("espmqtt.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(cfg.tls.trust, TrustMode::Pubkey);
    assert_eq!(cfg.broker.port, m.port);
    let trust = TrustMaterial::resolve(&cfg, env.path()).unwrap();
    assert_eq!(
        trust.pubkey_der.unwrap(),
        espmqtt::tls::cert::spki_der(&ss.der()).unwrap()
    );

    // CA-issued chain (leaf + CA in certfile) → ca with the CA as anchor.
    let env = Env::new();
    let ca = pki::ca("from-broker test CA", Alg::EcP256);
    let leaf = pki::leaf("localhost", &["localhost", "127.0.0.1"], Alg::EcP256, &ca);
    env.write("chain.pem", format!("{}{}", leaf.cert_pem, ca.cert_pem));
    env.write("leaf.key", &leaf.key_pem);
    let m = Mosquitto::start(
        env.path(),
        "",
        &format!(
            "certfile {}\nkeyfile {}\n",
            env.path().join("chain.pem").display(),
            env.path().join("leaf.key").display()
        ),
    );
    env.run(&[
        "init",
        "--from-broker",
        &m.addr(),
        "--wifi-ssid",
        "s",
        "--wifi-password",
        "password1",
    ])
    .assert_code(0);
    let cfg = ProjectConfig::from_toml(
        &std::fs::read_to_string(env.path().join("espmqtt.toml")).unwrap(),
    )
    .unwrap();
    assert_eq!(cfg.tls.trust, TrustMode::Ca);
    let trust = TrustMaterial::resolve(&cfg, env.path()).unwrap();
    assert_eq!(trust.anchors_der, vec![ca.der()]);
    // Nothing listening → unreachable (exit 3).
    let env = Env::new();
    let port = crate::support::free_port();
    env.run(&[
        "init",
        "--from-broker",
        &format!("127.0.0.1:{port}"),
        "--wifi-ssid",
        "s",
        "--wifi-password",
        "password1",
    ])
    .assert_code(3);
}

/// `pinned-key ARGS` (tests/support/pinned_key.cpp under ASan/UBSan): stdout.
fn pinned_key(args: &[&std::ffi::OsStr]) -> String {
    let o = Command::new(pinned_key_tool())
        .args(args)
        .envs(SANITIZER_ENV.iter().copied())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "pinned-key {args:?}:\n{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The SubjectPublicKeyInfo (DER) of a fresh EC key on `curve`, from openssl.
fn ec_spki(env: &Env, curve: &str) -> Vec<u8> {
    let key = env.path().join(format!("{curve}.key"));
    let pem = crate::support::pki::openssl_key(&[
        "-algorithm",
        "EC",
        "-pkeyopt",
        &format!("ec_paramgen_curve:{curve}"),
    ]);
    std::fs::write(&key, pem).unwrap();
    let o = Command::new("openssl")
        .args(["pkey", "-pubout", "-outform", "DER", "-in"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(o.status.success(), "openssl pkey -pubout: {o:?}");
    o.stdout
}

/// `pubkey` mode with EC keys (docs/DEVICE.md, "pubkey mode: EC keys and the
/// core's key decoder"): the firmware's rewrite of the pinned key, checked
/// against x509-parser. The result is the same key with the point's 0x04
/// doubled, so a decoder that takes the first 0x04 for a tag (the core's
/// BearSSL fork) reads exactly the original point; RSA and Ed25519 keys are
/// left alone; the quirk predicate fires only for a point one byte short on
/// P-256, P-384, P-521; truncated and mutated keys never crash it.
#[test]
fn pinned_ec_key_is_rewritten_for_the_cores_key_decoder() {
    use x509_parser::prelude::FromDer;
    use x509_parser::x509::SubjectPublicKeyInfo;
    let env = Env::new();
    assert!(pinned_key(&["symptom".as_ref()]).starts_with("symptom: ok"));
    for (curve, point_len) in [("P-256", 65), ("P-384", 97), ("P-521", 133)] {
        let der = ec_spki(&env, curve);
        let file = env.path().join(format!("{curve}.der"));
        std::fs::write(&file, &der).unwrap();
        let out = pinned_key(&["fix".as_ref(), file.as_os_str()]);
        let fixed = hex::decode(out.trim()).unwrap_or_else(|_| panic!("{curve}: {out}"));
        assert_eq!(fixed.len(), der.len() + 1, "{curve}");
        let (rest, before) = SubjectPublicKeyInfo::from_der(&der).unwrap();
        assert!(rest.is_empty());
        let (rest, after) = SubjectPublicKeyInfo::from_der(&fixed).unwrap();
        assert!(rest.is_empty(), "{curve}: bytes after the key");
        assert_eq!(after.algorithm, before.algorithm, "{curve}");
        let point = &before.subject_public_key.data;
        assert_eq!(point.len(), point_len);
        assert_eq!(point[0], 0x04);
        let got = &after.subject_public_key.data;
        assert_eq!(got.len(), point_len + 1, "{curve}");
        // The quirky decoder skips one byte as a tag: what remains is the point.
        assert_eq!(&got[0..1], &[0x04], "{curve}");
        assert_eq!(&got[1..], &point[..], "{curve}");
        let sweep = pinned_key(&["sweep".as_ref(), file.as_os_str()]);
        assert!(sweep.starts_with("sweep: ok"), "{curve}: {sweep}");
    }
    for (name, der) in [
        (
            "rsa",
            crate::support::pki::rsa_key_cached(2048).public_key_der(),
        ),
        (
            "ed25519",
            crate::support::pki::key(crate::support::pki::Alg::Ed25519).public_key_der(),
        ),
        ("junk", b"\x30\x03\x02\x01\x04".to_vec()),
    ] {
        let file = env.path().join(format!("{name}.der"));
        std::fs::write(&file, &der).unwrap();
        assert_eq!(
            pinned_key(&["fix".as_ref(), file.as_os_str()]).trim(),
            "-",
            "{name}"
        );
    }
}
