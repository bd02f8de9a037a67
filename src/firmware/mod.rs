//! Firmware: render the sketch template for a board and compile it with
//! arduino-cli or PlatformIO (`espmqtt build`; the sketch reads its per-device
//! settings from flash, docs/ARCHITECTURE.md, "Per-device configuration in
//! flash").
//!
//! The sketch (`firmware-template/`) and the builder files (`templates/`) are
//! compiled into the binary, so `espmqtt build` works from any directory and
//! always renders the firmware that matches this version of the blob format.
//! Rendering writes `.espmqtt/build/<board>/`:
//!
//! ```text
//! espmqtt/            the sketch (espmqtt.ino, app.cpp, config_blob.*, config_update.*,
//!                     build_info.h, sketch.yaml)
//! platformio.ini      PlatformIO project (src_dir = espmqtt)
//! firmware.bin        the image, copied from the builder's output
//! build-stamp.json    hash of the inputs of the last successful build
//! build.log           the builder's complete output of the last compile
//! ```
//!
//! API: [`Board`], [`render`], [`builder::build`] (render + compile + size
//! report, skipping the compile when the inputs are unchanged).

pub mod builder;

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};

/// Files of the sketch, embedded at compile time: (file name, contents).
pub const SKETCH_FILES: &[(&str, &str)] = &[
    (
        "espmqtt.ino",
        include_str!("../../firmware-template/espmqtt/espmqtt.ino"),
    ),
    (
        "app.h",
        include_str!("../../firmware-template/espmqtt/app.h"),
    ),
    (
        "app.cpp",
        include_str!("../../firmware-template/espmqtt/app.cpp"),
    ),
    (
        "config_blob.h",
        include_str!("../../firmware-template/espmqtt/config_blob.h"),
    ),
    (
        "config_blob.cpp",
        include_str!("../../firmware-template/espmqtt/config_blob.cpp"),
    ),
    (
        "config_update.h",
        include_str!("../../firmware-template/espmqtt/config_update.h"),
    ),
    (
        "config_update.cpp",
        include_str!("../../firmware-template/espmqtt/config_update.cpp"),
    ),
];

const PLATFORMIO_INI: &str = include_str!("../../templates/platformio.ini.j2");
const SKETCH_YAML: &str = include_str!("../../templates/sketch.yaml.j2");
const BUILD_INFO_H: &str = include_str!("../../templates/build_info.h.j2");

/// Name of the sketch folder inside the build directory.
pub const SKETCH_DIR: &str = "espmqtt";

/// The modules `build` knows (docs/DEVICE.md, "Module hardware", "Flash
/// layout", "Arduino board settings").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Board {
    /// ESP-07: 1 MB flash, ceramic antenna + U.FL.
    Esp07,
    /// ESP-07S: 4 MB flash, U.FL only.
    Esp07s,
}

/// Board facts the templates need.
#[derive(Debug, Clone, Serialize)]
pub struct BoardInfo {
    pub name: &'static str,
    pub description: &'static str,
    /// Flash size in bytes.
    pub flash_size: u32,
    pub flash_size_name: &'static str,
    /// Arduino `eesz` menu value (flash layout).
    pub eesz: &'static str,
    /// PlatformIO board id and linker script of the same layout.
    pub pio_board: &'static str,
    pub ldscript: &'static str,
    /// Where the config blob lives (the Arduino EEPROM sector).
    pub eeprom_offset: u32,
    /// Largest sketch the layout holds (bytes).
    pub max_sketch: u32,
}

impl Board {
    pub fn parse(name: &str) -> Result<Board> {
        match name.to_ascii_lowercase().as_str() {
            "esp07" | "esp-07" => Ok(Board::Esp07),
            "esp07s" | "esp-07s" => Ok(Board::Esp07s),
            other => Err(Error::usage(format!("unknown board {other:?}"))
                .with_help("use esp07 (1 MB flash) or esp07s (4 MB flash)")),
        }
    }

    pub fn as_str(self) -> &'static str {
        self.info().name
    }

    pub fn info(self) -> BoardInfo {
        match self {
            // 1 MB with a 64 KB filesystem: the generic board's default layout (docs/DEVICE.md,
            // "Arduino board settings"), leaving ~470 KB for OTA.
            Board::Esp07 => BoardInfo {
                name: "esp07",
                description: "ESP-07, 1 MB flash",
                flash_size: 0x10_0000,
                flash_size_name: "1MB",
                eesz: "1M64",
                pio_board: "esp07",
                ldscript: "eagle.flash.1m64.ld",
                eeprom_offset: crate::device::blob::eeprom_offset(0x10_0000),
                // (1024 - 64 FS - 20 reserved) KB - 4112 (docs/DEVICE.md, "Flash layout").
                max_sketch: 958_448,
            },
            // 4 MB with a 2 MB filesystem; the sketch area is the same 1 MB.
            Board::Esp07s => BoardInfo {
                name: "esp07s",
                description: "ESP-07S, 4 MB flash",
                flash_size: 0x40_0000,
                flash_size_name: "4MB",
                eesz: "4M2M",
                pio_board: "esp07s",
                ldscript: "eagle.flash.4m2m.ld",
                eeprom_offset: crate::device::blob::eeprom_offset(0x40_0000),
                // 4 MB layouts keep the sketch in the first megabyte, minus
                // eboot and the application header (4112 bytes).
                max_sketch: 1_044_464,
            },
        }
    }

    /// arduino-cli FQBN: Generic ESP8266 Module, 160 MHz (the docs recommend it
    /// for TLS, docs/DEVICE.md, "Arduino board settings"), the board's flash
    /// layout, and the cipher build (`all` unless the project asks for
    /// `basic`).
    pub fn fqbn(self, ciphers: &str) -> String {
        format!(
            "esp8266:esp8266:generic:xtal=160,eesz={},ssl={}",
            self.info().eesz,
            ciphers
        )
    }
}

impl std::fmt::Display for Board {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What to render.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub board: Board,
    /// `all` or `basic` (`[tls] ciphers`).
    pub ciphers: String,
}

/// A rendered project: every file relative to the build directory.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub files: Vec<(PathBuf, Vec<u8>)>,
    pub fqbn: String,
}

/// Render the sketch and the builder files in memory.
pub fn render(opts: &RenderOptions) -> Result<Rendered> {
    if opts.ciphers != "all" && opts.ciphers != "basic" {
        return Err(Error::usage(format!(
            "tls.ciphers is {:?}; the core offers `all` or `basic`",
            opts.ciphers
        ))
        .with_help("set ciphers = \"all\" in espmqtt.toml (the most compatible choice)"));
    }
    let fqbn = opts.board.fqbn(&opts.ciphers);
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, src) in [
        ("platformio.ini", PLATFORMIO_INI),
        ("sketch.yaml", SKETCH_YAML),
        ("build_info.h", BUILD_INFO_H),
    ] {
        env.add_template(name, src)
            .map_err(|e| Error::runtime(format!("template {name}: {e}")))?;
    }
    let ctx = minijinja::context! {
        board => opts.board.info(),
        fqbn => &fqbn,
        ciphers => &opts.ciphers,
        version => env!("CARGO_PKG_VERSION"),
    };
    let render = |name: &str| -> Result<Vec<u8>> {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .map(|mut s| {
                if !s.ends_with('\n') {
                    s.push('\n');
                }
                s.into_bytes()
            })
            .map_err(|e| Error::runtime(format!("rendering {name}: {e}")))
    };
    let sketch = Path::new(SKETCH_DIR);
    let mut files: Vec<(PathBuf, Vec<u8>)> = SKETCH_FILES
        .iter()
        .map(|(n, c)| (sketch.join(n), c.as_bytes().to_vec()))
        .collect();
    files.push((sketch.join("build_info.h"), render("build_info.h")?));
    files.push((sketch.join("sketch.yaml"), render("sketch.yaml")?));
    files.push((PathBuf::from("platformio.ini"), render("platformio.ini")?));
    Ok(Rendered { files, fqbn })
}

impl Rendered {
    /// Write the files under `dir`, leaving unchanged files untouched (their
    /// timestamps drive the builders' own incremental compilation).
    pub fn write_to(&self, dir: &Path) -> Result<()> {
        for (rel, bytes) in &self.files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
            if std::fs::read(&path).ok().as_deref() == Some(bytes.as_slice()) {
                continue;
            }
            crate::files::write_public(&path, bytes)?;
        }
        Ok(())
    }

    /// SHA-256 over every file name and content (sorted), for the no-rebuild check.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut files: Vec<&(PathBuf, Vec<u8>)> = self.files.iter().collect();
        files.sort_by(|a, b| a.0.cmp(&b.0));
        let mut h = Sha256::new();
        for (p, c) in files {
            h.update(p.to_string_lossy().as_bytes());
            h.update([0]);
            h.update((c.len() as u64).to_le_bytes());
            h.update(c);
        }
        hex::encode(h.finalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqbn_per_board() {
        assert_eq!(
            Board::Esp07.fqbn("all"),
            "esp8266:esp8266:generic:xtal=160,eesz=1M64,ssl=all"
        );
        assert_eq!(
            Board::Esp07s.fqbn("all"),
            "esp8266:esp8266:generic:xtal=160,eesz=4M2M,ssl=all"
        );
        assert_eq!(Board::Esp07.info().eeprom_offset, 0xFB000);
        assert_eq!(Board::Esp07s.info().eeprom_offset, 0x3FB000);
    }

    #[test]
    fn renders_all_files() {
        let r = render(&RenderOptions {
            board: Board::Esp07s,
            ciphers: "all".into(),
        })
        .unwrap();
        let ini = r
            .files
            .iter()
            .find(|(p, _)| p == Path::new("platformio.ini"))
            .unwrap();
        let ini = String::from_utf8_lossy(&ini.1);
        assert!(ini.contains("board = esp07s"));
        assert!(ini.contains("eagle.flash.4m2m.ld"));
        assert!(!ini.contains("BEARSSL_SSL_BASIC"));
        assert!(r
            .files
            .iter()
            .any(|(p, _)| p == Path::new("espmqtt/sketch.yaml")));
    }
}
