//! Compile a rendered sketch with arduino-cli or PlatformIO, parse the size
//! report, leave `firmware.bin` in the build directory, and skip all of it
//! when nothing that goes into the image changed.
//!
//! The builders are external programs found on `PATH`; the tests replace them
//! with small recording scripts, so everything here goes through argv, the
//! exit status and the files the builder leaves behind.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::{render, Board, RenderOptions, SKETCH_DIR};
use crate::error::{Error, Result};
use crate::progress::Progress;

/// Which builder to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum BuilderChoice {
    /// arduino-cli if installed, else PlatformIO.
    Auto,
    ArduinoCli,
    Platformio,
}

/// A builder found on PATH.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Builder {
    pub kind: BuilderKind,
    pub program: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BuilderKind {
    ArduinoCli,
    Platformio,
}

impl BuilderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BuilderKind::ArduinoCli => "arduino-cli",
            BuilderKind::Platformio => "platformio",
        }
    }
}

/// The exact steps to get a builder (shown when none is installed).
pub const INSTALL_STEPS: &str = "\
install one of them:
  arduino-cli:
    curl -fsSL https://raw.githubusercontent.com/arduino/arduino-cli/master/install.sh | BINDIR=$HOME/.local/bin sh
    arduino-cli core update-index --additional-urls https://arduino.esp8266.com/stable/package_esp8266com_index.json
    arduino-cli core install esp8266:esp8266@3.1.2 --additional-urls https://arduino.esp8266.com/stable/package_esp8266com_index.json
    arduino-cli lib install \"PubSubClient@2.8\"
  PlatformIO:
    python3 -m pip install --user platformio
    (the first `espmqtt build` then downloads the espressif8266 platform and PubSubClient)
then run `espmqtt build` again";

/// Find `program` in `PATH`.
pub fn find_in_path(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.is_file()
            && std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Pick the builder; none installed → exit 4 with [`INSTALL_STEPS`].
pub fn detect(choice: BuilderChoice) -> Result<Builder> {
    let arduino = || {
        find_in_path("arduino-cli").map(|program| Builder {
            kind: BuilderKind::ArduinoCli,
            program,
        })
    };
    let pio = || {
        find_in_path("pio")
            .or_else(|| find_in_path("platformio"))
            .map(|program| Builder {
                kind: BuilderKind::Platformio,
                program,
            })
    };
    let found = match choice {
        BuilderChoice::Auto => arduino().or_else(pio),
        BuilderChoice::ArduinoCli => arduino(),
        BuilderChoice::Platformio => pio(),
    };
    found.ok_or_else(|| {
        let which = match choice {
            BuilderChoice::Auto => "neither arduino-cli nor PlatformIO (pio) is installed",
            BuilderChoice::ArduinoCli => "arduino-cli is not installed (not found on PATH)",
            BuilderChoice::Platformio => "PlatformIO (pio) is not installed (not found on PATH)",
        };
        Error::runtime(format!("cannot build the firmware: {which}")).with_help(INSTALL_STEPS)
    })
}

/// Memory use reported by the builder.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeReport {
    /// Program (flash) bytes used and available.
    pub flash_used: Option<u64>,
    pub flash_max: Option<u64>,
    /// Static RAM bytes used and available.
    pub ram_used: Option<u64>,
    pub ram_max: Option<u64>,
}

/// Parse the size summary of either builder.
///
/// arduino-cli: `Sketch uses N bytes (P%) of program storage space. Maximum is M bytes.`
/// and `Global variables use N bytes (P%) of dynamic memory, … Maximum is M bytes.`;
/// PlatformIO: `RAM:   [==  ]  35.2% (used 28812 bytes from 81920 bytes)` and `Flash: …`.
pub fn parse_size_report(output: &str) -> SizeReport {
    let mut r = SizeReport::default();
    let num = |s: &str| s.replace(',', "").parse::<u64>().ok();
    let arduino_flash =
        regex::Regex::new(r"Sketch uses ([\d,]+) bytes.*?Maximum is ([\d,]+) bytes").ok();
    let arduino_ram =
        regex::Regex::new(r"Global variables use ([\d,]+) bytes.*?Maximum is ([\d,]+) bytes").ok();
    let pio = regex::Regex::new(
        r"(RAM|Flash):\s*\[[^\]]*\]\s*[\d.]+%\s*\(used (\d+) bytes from (\d+) bytes\)",
    )
    .ok();
    for line in output.lines() {
        if let Some(c) = arduino_flash.as_ref().and_then(|re| re.captures(line)) {
            r.flash_used = num(&c[1]);
            r.flash_max = num(&c[2]);
        }
        if let Some(c) = arduino_ram.as_ref().and_then(|re| re.captures(line)) {
            r.ram_used = num(&c[1]);
            r.ram_max = num(&c[2]);
        }
        if let Some(c) = pio.as_ref().and_then(|re| re.captures(line)) {
            if &c[1] == "RAM" {
                r.ram_used = num(&c[2]);
                r.ram_max = num(&c[3]);
            } else {
                r.flash_used = num(&c[2]);
                r.flash_max = num(&c[3]);
            }
        }
    }
    r
}

/// What `build` did.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BuildReport {
    pub board: String,
    pub builder: BuilderKind,
    pub fqbn: String,
    pub build_dir: PathBuf,
    pub firmware: PathBuf,
    pub firmware_bytes: u64,
    /// False when the inputs were unchanged and the previous image was kept.
    pub rebuilt: bool,
    pub size: SizeReport,
    /// Flash offset where `flash` writes the device config blob.
    pub config_offset: u32,
    /// Hash of the inputs (rendered files + builder + board options).
    pub inputs: String,
}

/// Build settings.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub board: Board,
    pub builder: BuilderChoice,
    pub ciphers: String,
    /// Build directory (`.espmqtt/build/<board>/` by default).
    pub dir: PathBuf,
    /// Give up on a builder that runs longer than this.
    pub timeout: Duration,
}

const STAMP: &str = "build-stamp.json";
const IMAGE: &str = "firmware.bin";
const LOG: &str = "build.log";

/// Render, compile (unless unchanged), and report. Builder missing or failing
/// → exit 4 with the install steps or the builder's error lines.
pub fn build(opts: &BuildOptions, progress: &dyn Progress) -> Result<BuildReport> {
    let rendered = render(&RenderOptions {
        board: opts.board,
        ciphers: opts.ciphers.clone(),
    })?;
    let builder = match detect(opts.builder) {
        Ok(b) => b,
        Err(e) => {
            // Still leave the rendered sketch: it opens in the Arduino IDE.
            let dir = &opts.dir;
            if rendered.write_to(dir).is_ok() {
                let help = e.help.clone().unwrap_or_default();
                return Err(e.with_help(format!(
                    "{help}\n(the rendered sketch is in {}; it also opens in the Arduino IDE)",
                    dir.join(SKETCH_DIR).display()
                )));
            }
            return Err(e);
        }
    };
    let inputs = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(rendered.digest().as_bytes());
        h.update(builder.kind.as_str().as_bytes());
        h.update(builder.program.to_string_lossy().as_bytes());
        h.update(rendered.fqbn.as_bytes());
        hex::encode(h.finalize())
    };
    let dir = &opts.dir;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let image = dir.join(IMAGE);
    let stamp_path = dir.join(STAMP);

    if let Some(prev) = read_stamp(&stamp_path) {
        if prev.inputs == inputs && image.is_file() {
            let firmware_bytes = std::fs::metadata(&image).map(|m| m.len()).unwrap_or(0);
            return Ok(BuildReport {
                rebuilt: false,
                firmware: image,
                firmware_bytes,
                ..prev
            });
        }
    }

    rendered.write_to(dir)?;
    // A stale image must never be mistaken for the result of this build.
    let _ = std::fs::remove_file(&image);
    let _ = std::fs::remove_file(&stamp_path);

    let sketch = dir.join(SKETCH_DIR);
    let out_dir = dir.join("out");
    let mut cmd = Command::new(&builder.program);
    let produced = match builder.kind {
        BuilderKind::ArduinoCli => {
            cmd.arg("compile")
                .arg("--fqbn")
                .arg(&rendered.fqbn)
                .arg("--build-path")
                .arg(dir.join("cache"))
                .arg("--output-dir")
                .arg(&out_dir)
                .arg(&sketch);
            out_dir.join(format!("{SKETCH_DIR}.ino.bin"))
        }
        BuilderKind::Platformio => {
            cmd.arg("run")
                .arg("--project-dir")
                .arg(dir)
                .arg("--environment")
                .arg(opts.board.as_str());
            dir.join(".pio")
                .join("build")
                .join(opts.board.as_str())
                .join(IMAGE)
        }
    };
    progress.start(&format!("compiling with {}", builder.kind.as_str()), None);
    let (status, output) = run_captured(cmd, opts.timeout, &builder)?;
    progress.finish("compiled");
    // Keep the whole log: the error shows only the lines that matter.
    let log_path = dir.join(LOG);
    let _ = std::fs::write(&log_path, &output);
    if !status.success() {
        let shown = if output.trim().is_empty() {
            format!("  (no output; {status})")
        } else {
            error_lines(&output)
        };
        let first = match builder.kind {
            BuilderKind::ArduinoCli => {
                "if the ESP8266 core or PubSubClient is missing: arduino-cli core install \
                 esp8266:esp8266@3.1.2 --additional-urls \
                 https://arduino.esp8266.com/stable/package_esp8266com_index.json; \
                 arduino-cli lib install \"PubSubClient@2.8\". "
            }
            BuilderKind::Platformio => "",
        };
        return Err(
            Error::runtime(format!("{} failed:\n{shown}", builder.kind.as_str()))
                .with_help(format!("{first}Full log: {}", log_path.display())),
        );
    }
    if !produced.is_file() {
        return Err(Error::runtime(format!(
            "{} reported success but wrote no image at {}",
            builder.kind.as_str(),
            produced.display()
        ))
        .with_help(format!(
            "check the builder's version; full log: {}",
            dir.join(LOG).display()
        )));
    }
    let bytes = std::fs::read(&produced).map_err(|e| Error::io(&produced, e))?;
    crate::files::write_public(&image, &bytes)?;
    let firmware_bytes = std::fs::metadata(&image).map(|m| m.len()).unwrap_or(0);
    let report = BuildReport {
        board: opts.board.as_str().to_string(),
        builder: builder.kind,
        fqbn: rendered.fqbn.clone(),
        build_dir: dir.clone(),
        firmware: image,
        firmware_bytes,
        rebuilt: true,
        size: parse_size_report(&output),
        config_offset: opts.board.info().eeprom_offset,
        inputs,
    };
    let stamp = serde_json::to_vec_pretty(&report)
        .map_err(|e| Error::runtime(format!("cannot serialise the build stamp: {e}")))?;
    crate::files::write_public(&stamp_path, &stamp)?;
    Ok(report)
}

fn read_stamp(path: &Path) -> Option<BuildReport> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Run the builder with stdout and stderr captured (interleaved in reading
/// order per stream), killing it after `timeout`.
fn run_captured(
    mut cmd: Command,
    timeout: Duration,
    builder: &Builder,
) -> Result<(std::process::ExitStatus, String)> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| {
        Error::runtime(format!("cannot run {}: {e}", builder.program.display()))
            .with_help(INSTALL_STEPS)
    })?;
    let reader = |s: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut s) = s {
                let _ = s.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = reader(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = reader(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if start.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::runtime(format!(
                    "{} did not finish within {} s and was stopped",
                    builder.kind.as_str(),
                    timeout.as_secs()
                ))
                .with_help(
                    "a first build downloads toolchains; try again, or build once by hand",
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(Error::runtime(format!("waiting for the builder: {e}"))),
        }
    };
    let mut text = String::from_utf8_lossy(&out.join().unwrap_or_default()).into_owned();
    text.push_str(&String::from_utf8_lossy(&err.join().unwrap_or_default()));
    Ok((status, text))
}

/// The lines of a failed build worth showing: compiler errors and the
/// builder's own error messages, else the last lines of output.
pub fn error_lines(output: &str) -> String {
    let picked: Vec<&str> = output
        .lines()
        .filter(|l| {
            let lower = l.to_ascii_lowercase();
            lower.contains("error") || lower.contains("fatal") || lower.contains("not found")
        })
        .take(40)
        .collect();
    let lines: Vec<&str> = if picked.is_empty() {
        let all: Vec<&str> = output.lines().collect();
        all[all.len().saturating_sub(20)..].to_vec()
    } else {
        picked
    };
    lines
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_arduino_cli_sizes() {
        let out = "Sketch uses 381,245 bytes (39%) of program storage space. Maximum is 958,448 bytes.\n\
                   Global variables use 31,112 bytes (37%) of dynamic memory, leaving 50808 bytes for local variables. Maximum is 81920 bytes.\n";
        let r = parse_size_report(out);
        assert_eq!(r.flash_used, Some(381245));
        assert_eq!(r.flash_max, Some(958448));
        assert_eq!(r.ram_used, Some(31112));
        assert_eq!(r.ram_max, Some(81920));
    }

    #[test]
    fn parses_platformio_sizes() {
        let out = "RAM:   [====      ]  38.0% (used 31112 bytes from 81920 bytes)\n\
                   Flash: [====      ]  36.5% (used 381245 bytes from 1044464 bytes)\n";
        let r = parse_size_report(out);
        assert_eq!(r.flash_used, Some(381245));
        assert_eq!(r.flash_max, Some(1044464));
        assert_eq!(r.ram_used, Some(31112));
    }

    #[test]
    fn error_lines_prefers_errors() {
        let s = error_lines("a\nb\napp.cpp:3: error: x\nc\n");
        assert_eq!(s, "  app.cpp:3: error: x");
    }
}
