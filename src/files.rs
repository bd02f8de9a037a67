//! Writing files safely. Every file espmqtt writes that holds a secret, a
//! key, a configuration, trust material or an export goes through here:
//!
//! 1. a temporary file is created in the target's own directory with the
//!    final mode (set before the first byte is written, whatever the umask),
//! 2. the bytes are written and fsynced,
//! 3. the temporary file is renamed over the target (readers see the old
//!    file or the new one, never half of one; an existing 0644 file that is
//!    replaced by a 0600 one ends 0600),
//! 4. the directory is fsynced, so the rename survives a crash.
//!
//! A target that exists and is not a regular file (a character device such
//! as `/dev/stdout`, a FIFO) is written through instead of replaced; a
//! symbolic link is followed, so the file it points to is replaced and the
//! link stays. A failure removes the temporary file and leaves the target as
//! it was.
//!
//! Files the user names as input are read through [`read_input`], which
//! bounds the size: `/dev/zero`, `/dev/full` or a multi-gigabyte file given
//! by mistake is an error that says so, not an exhausted memory.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Mode of files that hold secrets or private keys.
pub const PRIVATE: u32 = 0o600;
/// Mode of public files (certificates, public keys, non-secret settings).
pub const PUBLIC: u32 = 0o644;

/// Write `bytes` to `path` atomically with `mode` (see the module docs).
pub fn write_file_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let path = resolve_target(path)?;
    if let Ok(meta) = std::fs::metadata(&path) {
        if meta.is_dir() {
            return Err(
                Error::runtime(format!("{}: is a directory", path.display()))
                    .with_help("name a file to write, not a directory"),
            );
        }
        if !meta.is_file() {
            return write_through(&path, bytes);
        }
    }
    let (dir, tmp) = temp_name(&path)?;
    let result = (|| {
        let mut f = open_new(&tmp, mode).map_err(|e| retarget(e, &tmp, &path))?;
        f.write_all(bytes).map_err(|e| Error::io(&path, e))?;
        f.sync_all().map_err(|e| Error::io(&path, e))?;
        drop(f);
        std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        sync_dir(&dir);
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// [`write_file_atomic`] with mode 0600: secrets, keys, configurations that
/// hold a password.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file_atomic(path, bytes, PRIVATE)
}

/// [`write_file_atomic`] with mode 0644: certificates, public keys.
pub fn write_public(path: &Path, bytes: &[u8]) -> Result<()> {
    write_file_atomic(path, bytes, PUBLIC)
}

/// Create `path` with mode 0600 and `bytes`, failing if it already exists
/// (private keys are never overwritten). Written to a temporary file first
/// and linked into place, so the key appears whole or not at all.
pub fn write_new_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let (dir, tmp) = temp_name(path)?;
    let result = (|| {
        let mut f = open_new(&tmp, PRIVATE).map_err(|e| retarget(e, &tmp, path))?;
        f.write_all(bytes).map_err(|e| Error::io(path, e))?;
        f.sync_all().map_err(|e| Error::io(path, e))?;
        drop(f);
        // link(2) refuses an existing target, where rename would replace it.
        std::fs::hard_link(&tmp, path).map_err(|e| Error::io(path, e))?;
        sync_dir(&dir);
        Ok(())
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Largest certificate, key or configuration file read (a full system CA
/// bundle is about 250 KiB).
pub const MAX_TEXT_INPUT: u64 = 4 << 20;
/// Largest binary image read (the ESP8266's largest flash).
pub const MAX_IMAGE_INPUT: u64 = 16 << 20;

/// Read a file the user named, refusing a directory and anything longer
/// than `limit` bytes (`what` says what was expected, for the message).
pub fn read_input(path: &Path, limit: u64, what: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    if path.is_dir() {
        return Err(
            Error::runtime(format!("{}: is a directory", path.display()))
                .with_help(format!("name the {what} file, not a directory")),
        );
    }
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = Vec::new();
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(Error::usage(format!(
            "{}: larger than {} MiB, which is no {what}",
            path.display(),
            limit >> 20
        ))
        .with_help(format!("name the {what} file")));
    }
    Ok(buf)
}

/// [`read_input`] for text: invalid UTF-8 is an error that names the file.
pub fn read_input_text(path: &Path, limit: u64, what: &str) -> Result<String> {
    let bytes = read_input(path, limit, what)?;
    String::from_utf8(bytes).map_err(|e| {
        Error::usage(format!(
            "{}: not text (invalid UTF-8 at byte {})",
            path.display(),
            e.utf8_error().valid_up_to()
        ))
        .with_help(format!("name the {what} file"))
    })
}

/// Directories created by [`create_dirs`], removed again (if still empty)
/// when the guard is dropped without [`CreatedDirs::keep`]: a command that
/// fails after creating its directories leaves nothing behind.
#[derive(Debug, Default)]
#[must_use = "the directories are removed when the guard is dropped"]
pub struct CreatedDirs {
    created: Vec<PathBuf>,
}

impl CreatedDirs {
    /// The command succeeded: keep the directories.
    pub fn keep(mut self) {
        self.created.clear();
    }
}

impl Drop for CreatedDirs {
    fn drop(&mut self) {
        for d in self.created.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// Create `dir` and its missing parents; the directories created get `mode`
/// (set at creation, so they are never more open than that).
pub fn create_dirs(dir: &Path, mode: u32) -> Result<CreatedDirs> {
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d {
        if p.as_os_str().is_empty() || p.exists() {
            break;
        }
        missing.push(p.to_path_buf());
        d = p.parent();
    }
    let mut guard = CreatedDirs::default();
    for p in missing.into_iter().rev() {
        let mut b = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(mode);
        }
        match b.create(&p) {
            Ok(()) => {
                set_mode(&p, mode)?;
                guard.created.push(p);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && p.is_dir() => {}
            Err(e) => return Err(Error::io(&p, e)),
        }
    }
    #[cfg(not(unix))]
    let _ = mode;
    Ok(guard)
}

/// Set a file or directory's mode (Unix only; a no-op elsewhere).
pub fn set_mode(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io(path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Follow a symbolic link at `path` (a dangling one is an error).
fn resolve_target(path: &Path) -> Result<PathBuf> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|e| Error::io(path, e))
        }
        _ => Ok(path.to_path_buf()),
    }
}

fn write_through(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    f.write_all(bytes).map_err(|e| Error::io(path, e))?;
    f.flush().map_err(|e| Error::io(path, e))
}

/// The target's directory and a fresh temporary name in it.
fn temp_name(path: &Path) -> Result<(PathBuf, PathBuf)> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| {
            Error::usage(format!("{}: not a file name", path.display()))
                .with_help("name a file to write")
        })?;
    // Keep the temporary name within NAME_MAX when the target's is long.
    let short: String = name.chars().take(64).collect();
    let mut rnd = [0u8; 6];
    getrandom::getrandom(&mut rnd).map_err(|e| {
        Error::runtime(format!(
            "the operating system's random generator failed: {e}"
        ))
    })?;
    let tmp = dir.join(format!(
        ".{short}.tmp-{}-{}",
        std::process::id(),
        hex::encode(rnd)
    ));
    Ok((dir, tmp))
}

/// An error creating the temporary file is reported against the target.
fn retarget(e: Error, tmp: &Path, target: &Path) -> Error {
    Error {
        message: e
            .message
            .replace(&tmp.display().to_string(), &target.display().to_string()),
        ..e
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

fn open_new(path: &Path, mode: u32) -> Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(mode);
    }
    let f = o.open(path).map_err(|e| Error::io(path, e))?;
    // The umask may have removed bits from `mode`, never added any: set it
    // exactly (0644 under a 077 umask), still before the first byte.
    if let Err(e) = set_mode(path, mode) {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(f)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn replacing_a_public_file_with_a_private_one_ends_private() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("blob.bin");
        std::fs::write(&p, b"old").unwrap();
        set_mode(&p, 0o644).unwrap();
        write_private(&p, b"secret").unwrap();
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read(&p).unwrap(), b"secret");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_symlink_is_followed_and_kept() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real.toml");
        std::fs::write(&real, b"a").unwrap();
        let link = d.path().join("link.toml");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        write_public(&link, b"b").unwrap();
        assert!(std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"b");
    }

    #[test]
    fn failures_name_the_target_and_leave_nothing() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("missing/x.bin");
        let e = write_private(&p, b"x").unwrap_err();
        assert_eq!(e.exit_status().code(), 4);
        assert!(e.message.contains("missing/x.bin"), "{}", e.message);
        let e = write_private(d.path(), b"x").unwrap_err();
        assert_eq!(e.exit_status().code(), 4);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 0);
    }

    #[test]
    fn new_private_files_are_never_replaced() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("ca.key");
        write_new_private(&p, b"k1").unwrap();
        assert!(write_new_private(&p, b"k2").is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"k1");
        assert_eq!(mode(&p), 0o600);
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn endless_inputs_are_refused() {
        let e = read_input(Path::new("/dev/zero"), 1 << 20, "certificate").unwrap_err();
        assert_eq!(e.exit_status().code(), 2);
        assert!(e.message.contains("larger than 1 MiB"), "{}", e.message);
        let d = tempfile::tempdir().unwrap();
        assert_eq!(
            read_input(d.path(), 10, "x")
                .unwrap_err()
                .exit_status()
                .code(),
            4
        );
        let p = d.path().join("a.txt");
        std::fs::write(&p, b"\xffabc").unwrap();
        assert!(read_input_text(&p, 10, "x").is_err());
    }

    #[test]
    fn created_dirs_go_away_unless_kept() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("a/b/c");
        drop(create_dirs(&deep, 0o700).unwrap());
        assert!(!d.path().join("a").exists());
        create_dirs(&deep, 0o700).unwrap().keep();
        assert!(deep.is_dir());
        assert_eq!(mode(&d.path().join("a")), 0o700);
    }
}
