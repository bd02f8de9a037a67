//! Test helpers for the firmware area: the host builds of the C++ config
//! decoder (`blobdump`, plain and with sanitizers), raw blob construction for
//! corrupt vectors, and recording stand-ins for `arduino-cli` / `pio`.
//!
//! The fake builders exist because no ESP8266 toolchain is installed on CI
//! machines; they check the arguments `espmqtt build` passes and leave an
//! image where the real tools would. The real toolchain is exercised by an
//! `#[ignore]` test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Repository root (where `firmware-template/` lives).
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/data/blobs/`.
pub fn vectors_dir() -> PathBuf {
    repo().join("tests/data/blobs")
}

/// A host program from the firmware's C++, built with g++ into
/// `CARGO_TARGET_TMPDIR/name`: `flags`, the firmware's headers, `sources`,
/// then `libs`. A failed build panics with g++'s errors (and `needs`, what
/// the build depends on).
pub fn gxx(name: &str, flags: &[&str], sources: &[PathBuf], libs: &[&str], needs: &str) -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let include = repo().join("firmware-template/espmqtt");
    let o = Command::new("g++")
        .args(flags)
        .arg(format!("-I{}", include.display()))
        .args(sources)
        .args(libs)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run g++");
    assert!(
        o.status.success(),
        "g++ failed to build {name}{needs}:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// What the firmware's host programs are built with, besides `extra`.
const STRICT: &[&str] = &["-std=c++11", "-Wall", "-Wextra", "-Werror", "-g"];

fn compile_blobdump(name: &str, extra: &[&str]) -> PathBuf {
    let t = repo().join("firmware-template");
    gxx(
        name,
        &[STRICT, extra].concat(),
        &[
            t.join("host/blobdump.cpp"),
            t.join("espmqtt/config_blob.cpp"),
        ],
        &[],
        "",
    )
}

const SANITIZE: &[&str] = &[
    "-fsanitize=address,undefined",
    "-fno-sanitize-recover=all",
    "-fno-omit-frame-pointer",
];

/// A host program from the firmware's update module: `main` (relative to
/// the repository) plus config_update.cpp and config_blob.cpp, linked with
/// Debian's libbearssl for HMAC-SHA256.
fn compile_update_tool(name: &str, main: &str, extra: &[&str]) -> PathBuf {
    let t = repo().join("firmware-template");
    gxx(
        name,
        &[STRICT, &["-O1"], extra].concat(),
        &[
            repo().join(main),
            t.join("espmqtt/config_update.cpp"),
            t.join("espmqtt/config_blob.cpp"),
        ],
        &["-lbearssl"],
        " (needs libbearssl-dev)",
    )
}

/// `otaharness` (firmware-template/host/otaharness.cpp) under ASan/UBSan,
/// once per run.
pub fn otaharness() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        compile_update_tool(
            "otaharness-asan",
            "firmware-template/host/otaharness.cpp",
            SANITIZE,
        )
    })
}

/// The C++ tests of the update module (tests/support/ota_sweep.cpp) under
/// ASan/UBSan.
pub fn ota_sweep() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| compile_update_tool("ota-sweep", "tests/support/ota_sweep.cpp", SANITIZE))
}

/// The tests of the pinned-key rewrite (tests/support/pinned_key.cpp) under
/// ASan/UBSan.
pub fn pinned_key_tool() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| compile_update_tool("pinned-key", "tests/support/pinned_key.cpp", SANITIZE))
}

/// Environment that makes any sanitizer finding a distinct, non-zero exit.
pub const SANITIZER_ENV: &[(&str, &str)] = &[
    (
        "ASAN_OPTIONS",
        "detect_leaks=0:abort_on_error=0:exitcode=66",
    ),
    (
        "UBSAN_OPTIONS",
        "print_stacktrace=1:halt_on_error=1:exitcode=67",
    ),
];

/// `blobdump` built exactly as the README says (`g++ -std=c++11 …`), once per run.
pub fn blobdump() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| compile_blobdump("blobdump", &[]))
}

/// `blobdump` under AddressSanitizer + UndefinedBehaviorSanitizer; any
/// finding aborts the process (non-zero, not 1) instead of continuing.
pub fn blobdump_asan() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        compile_blobdump(
            "blobdump-asan",
            &[
                "-fsanitize=address,undefined",
                "-fno-sanitize-recover=all",
                "-fno-omit-frame-pointer",
            ],
        )
    })
}

/// Outcome of one blobdump run.
#[derive(Debug)]
pub enum Dump {
    /// Printed JSON.
    Json(serde_json::Value),
    /// Refused with this code (exit 1, `blobdump: <code>: …` on stderr).
    Refused(String),
}

/// Run `bin` on `bytes`; panics on a crash, a sanitizer report or any exit
/// other than 0 / 1.
pub fn dump_with(bin: &Path, dir: &Path, bytes: &[u8]) -> Dump {
    let f = dir.join("blob.bin");
    std::fs::write(&f, bytes).unwrap();
    let o = Command::new(bin)
        .arg(&f)
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=0:abort_on_error=0:exitcode=66",
        )
        .env(
            "UBSAN_OPTIONS",
            "print_stacktrace=1:halt_on_error=1:exitcode=67",
        )
        .output()
        .expect("run blobdump");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    match o.status.code() {
        Some(0) => Dump::Json(
            serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("blobdump printed invalid JSON ({e}):\n{stdout}")),
        ),
        Some(1) => {
            let code = stderr
                .strip_prefix("blobdump: ")
                .and_then(|s| s.split(':').next())
                .unwrap_or_else(|| panic!("unexpected stderr: {stderr}"))
                .to_string();
            Dump::Refused(code)
        }
        other => panic!("blobdump crashed or was stopped by a sanitizer ({other:?}):\n{stderr}"),
    }
}

/// A blob with arbitrary header version and entries, with a correct length
/// and CRC: for vectors the encoder would refuse to write.
pub fn raw_blob(version: u16, entries: &[(u8, Vec<u8>)]) -> Vec<u8> {
    let mut b = b"EMQC".to_vec();
    b.extend_from_slice(&version.to_le_bytes());
    b.extend_from_slice(&[0; 6]);
    for (t, v) in entries {
        b.push(*t);
        b.extend_from_slice(&(v.len() as u16).to_le_bytes());
        b.extend_from_slice(v);
    }
    let len = b.len() as u16;
    b[6..8].copy_from_slice(&len.to_le_bytes());
    fix_crc(&mut b);
    b
}

/// Recompute the CRC over the header's length (clamped to the buffer).
pub fn fix_crc(b: &mut [u8]) {
    if b.len() < 12 {
        return;
    }
    let len = usize::from(u16::from_le_bytes([b[6], b[7]])).clamp(12, b.len());
    let mut h = crc32fast::Hasher::new();
    h.update(&b[0..8]);
    h.update(&b[12..len]);
    let c = h.finalize();
    b[8..12].copy_from_slice(&c.to_le_bytes());
}

/// A NUL-terminated string entry value.
pub fn s(v: &str) -> Vec<u8> {
    let mut b = v.as_bytes().to_vec();
    b.push(0);
    b
}

const FAKE_ARDUINO_CLI: &str = r#"#!/bin/sh
# Recording stand-in for arduino-cli (tests only).
PATH=/usr/bin:/bin
printf '%s\n' "$*" >> "$FAKE_BUILDER_LOG"
[ "$1" = "compile" ] || { echo "fake arduino-cli: expected 'compile', got '$1'" >&2; exit 90; }
shift
fqbn=""; out=""; sketch=""
while [ $# -gt 0 ]; do
  case "$1" in
    --fqbn) fqbn="$2"; shift 2 ;;
    --output-dir) out="$2"; shift 2 ;;
    --build-path) shift 2 ;;
    --*) echo "fake arduino-cli: unknown option $1" >&2; exit 91 ;;
    *) sketch="$1"; shift ;;
  esac
done
[ -n "$fqbn" ] || { echo "Error: no --fqbn" >&2; exit 92; }
[ -n "$out" ] || { echo "Error: no --output-dir" >&2; exit 93; }
[ -f "$sketch/espmqtt.ino" ] || { echo "Error: no sketch at $sketch" >&2; exit 94; }
[ -f "$sketch/sketch.yaml" ] || { echo "Error: no sketch.yaml at $sketch" >&2; exit 95; }
if [ -n "$FAKE_BUILDER_FAIL" ]; then
  echo "Compiling sketch..."
  echo "$sketch/app.cpp:42:5: error: 'WiFiClientSecure' was not declared in this scope" >&2
  echo "Error during build: exit status 1" >&2
  exit 1
fi
mkdir -p "$out"
printf 'fake image for %s\n' "$fqbn" > "$out/espmqtt.ino.bin"
echo "Sketch uses 381245 bytes (39%) of program storage space. Maximum is 958448 bytes."
echo "Global variables use 31112 bytes (37%) of dynamic memory, leaving 50808 bytes for local variables. Maximum is 81920 bytes."
"#;

const FAKE_PIO: &str = r#"#!/bin/sh
# Recording stand-in for PlatformIO's pio (tests only).
PATH=/usr/bin:/bin
printf '%s\n' "$*" >> "$FAKE_BUILDER_LOG"
[ "$1" = "run" ] || { echo "fake pio: expected 'run', got '$1'" >&2; exit 90; }
shift
dir=""; envname=""
while [ $# -gt 0 ]; do
  case "$1" in
    --project-dir|-d) dir="$2"; shift 2 ;;
    --environment|-e) envname="$2"; shift 2 ;;
    *) echo "fake pio: unknown argument $1" >&2; exit 91 ;;
  esac
done
ini="$dir/platformio.ini"
[ -f "$ini" ] || { echo "Error: no platformio.ini in $dir" >&2; exit 92; }
grep -q "^\[env:$envname\]" "$ini" || { echo "Error: no [env:$envname] in $ini" >&2; exit 93; }
cat "$ini" >> "$FAKE_BUILDER_LOG"
if [ -n "$FAKE_BUILDER_FAIL" ]; then
  echo "src/app.cpp:42:5: error: expected ';' before '}' token" >&2
  echo "*** [.pio/build/$envname/src/app.cpp.o] Error 1" >&2
  exit 1
fi
mkdir -p "$dir/.pio/build/$envname"
printf 'fake pio image for %s\n' "$envname" > "$dir/.pio/build/$envname/firmware.bin"
echo "RAM:   [====      ]  38.0% (used 31112 bytes from 81920 bytes)"
echo "Flash: [====      ]  36.5% (used 381245 bytes from 1044464 bytes)"
"#;

/// A directory with fake `arduino-cli` and/or `pio`; returns its path.
pub fn fake_builders(dir: &Path, arduino: bool, pio: bool) -> PathBuf {
    let bin = dir.join("fakebin");
    std::fs::create_dir_all(&bin).unwrap();
    let write = |name: &str, body: &str| {
        let p = bin.join(name);
        std::fs::write(&p, body).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    };
    if arduino {
        write("arduino-cli", FAKE_ARDUINO_CLI);
    }
    if pio {
        write("pio", FAKE_PIO);
    }
    bin
}
