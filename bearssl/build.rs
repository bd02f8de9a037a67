//! Compile the configuration shim and link BearSSL statically.
//!
//! Debian's `libbearssl-dev` ships `/usr/include/bearssl*.h` and a static
//! `libbearssl.a` but no pkg-config file, so the archive is looked up in the
//! usual library directories (multiarch first). `BEARSSL_INCLUDE_DIR` and
//! `BEARSSL_LIB_DIR` override the search. The archive is linked statically:
//! the `espmqtt` binary then runs on machines without `libbearssl0`.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=shim/shim.c");
    println!("cargo:rerun-if-env-changed=BEARSSL_INCLUDE_DIR");
    println!("cargo:rerun-if-env-changed=BEARSSL_LIB_DIR");

    let include = std::env::var_os("BEARSSL_INCLUDE_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            ["/usr/include", "/usr/local/include"]
                .iter()
                .map(PathBuf::from)
                .find(|d| d.join("bearssl.h").is_file())
        });
    let Some(include) = include else {
        fail("bearssl.h not found");
    };
    let lib_dir = std::env::var_os("BEARSSL_LIB_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            library_dirs()
                .into_iter()
                .find(|d| d.join("libbearssl.a").is_file())
        });
    let Some(lib_dir) = lib_dir else {
        fail("libbearssl.a not found");
    };
    println!(
        "cargo:rerun-if-changed={}",
        lib_dir.join("libbearssl.a").display()
    );

    cc::Build::new()
        .file("shim/shim.c")
        .include(&include)
        .warnings(true)
        .flag_if_supported("-Wno-unused-parameter")
        .compile("espmqtt_bearssl_shim");

    println!("cargo:rustc-link-search=native={}", lib_dir.display());
    println!("cargo:rustc-link-lib=static=bearssl");
}

/// Candidate directories for `libbearssl.a`, most specific first.
fn library_dirs() -> Vec<PathBuf> {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let multiarch = match arch.as_str() {
        "arm" => "arm-linux-gnueabihf".to_string(),
        "x86" => "i386-linux-gnu".to_string(),
        a => format!("{a}-linux-{}", if env.is_empty() { "gnu" } else { &env }),
    };
    let mut dirs = vec![Path::new("/usr/lib").join(&multiarch)];
    for d in ["/usr/lib64", "/usr/lib", "/usr/local/lib"] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

fn fail(what: &str) -> ! {
    panic!(
        "{what}: espmqtt links BearSSL statically from the libbearssl-dev package \
         (run scripts/install-deps, or `apt-get install libbearssl-dev`); set \
         BEARSSL_INCLUDE_DIR / BEARSSL_LIB_DIR for another location"
    );
}
