//! Broker-side artefacts for the fleet: mosquitto `passwd`, ACL and a TLS
//! listener snippet, plus the file-writing primitives they need.
//!
//! Password lines use mosquitto's `$7$` format (PBKDF2-HMAC-SHA512):
//! `user:$7$<iterations>$<base64 salt>$<base64 hash>` with standard,
//! padded base64 and a 64-byte hash. Checked against mosquitto's own code:
//! mosquitto 2.0 writes 101 iterations (`PW_DEFAULT_ITERATIONS` in
//! `src/password_mosq.h`) with a 12-byte salt, and its broker *rejects* any
//! other salt length when loading the file (`salt_len == 12` in
//! `security_default.c`). mosquitto 2.1 (`libcommon/password_common.c`)
//! writes 1000 iterations with a 64-byte salt and accepts 12 or 64 bytes.
//! So `--mosquitto-version 2.1` writes 2.1's iteration count with a 12-byte
//! salt: the one encoding both versions load, which keeps a 2.1 file usable
//! by a 2.0 broker during an upgrade (and the reverse).
//!
//! Every file is written atomically (temporary file in the same directory,
//! fsync, rename), so a broker reloading on SIGHUP never reads half a file.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};

use base64::Engine;

use crate::error::{Error, Result};

/// Salt length written in `$7$` lines (see the module doc for why 12).
pub const SALT_LEN: usize = 12;
/// PBKDF2-HMAC-SHA512 output length mosquitto expects.
pub const HASH_LEN: usize = 64;

/// Which mosquitto's defaults the password file follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
pub enum MosquittoVersion {
    /// mosquitto 2.0.x: 101 PBKDF2 iterations.
    #[default]
    #[value(name = "2.0")]
    #[serde(rename = "2.0")]
    V2_0,
    /// mosquitto 2.1.x: 1000 PBKDF2 iterations.
    #[value(name = "2.1")]
    #[serde(rename = "2.1")]
    V2_1,
}

impl MosquittoVersion {
    /// PBKDF2 iterations this version's `mosquitto_passwd` writes by default.
    pub fn iterations(self) -> u32 {
        match self {
            MosquittoVersion::V2_0 => 101,
            MosquittoVersion::V2_1 => 1000,
        }
    }
}

/// Hash `password` into a mosquitto `$7$` string (without the `user:`).
pub fn hash_password(password: &str, iterations: u32) -> Result<String> {
    let iters = NonZeroU32::new(iterations)
        .ok_or_else(|| Error::usage("PBKDF2 iteration count must be at least 1"))?;
    let mut salt = [0u8; SALT_LEN];
    getrandom::getrandom(&mut salt).map_err(|e| {
        Error::runtime(format!(
            "the operating system's random generator failed: {e}"
        ))
    })?;
    let mut out = [0u8; HASH_LEN];
    ring::pbkdf2::derive(
        ring::pbkdf2::PBKDF2_HMAC_SHA512,
        iters,
        &salt,
        password.as_bytes(),
        &mut out,
    );
    let b64 = base64::engine::general_purpose::STANDARD;
    Ok(format!(
        "$7${iterations}${}${}",
        b64.encode(salt),
        b64.encode(out)
    ))
}

/// Check `password` against a `$7$` string (as mosquitto does). Malformed
/// strings simply do not verify.
pub fn verify_password(hash: &str, password: &str) -> bool {
    let mut parts = hash.split('$');
    let (Some(""), Some("7"), Some(it), Some(salt), Some(h), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let Some(iters) = it.parse::<u32>().ok().and_then(NonZeroU32::new) else {
        return false;
    };
    let b64 = base64::engine::general_purpose::STANDARD;
    let (Ok(salt), Ok(h)) = (b64.decode(salt), b64.decode(h)) else {
        return false;
    };
    ring::pbkdf2::verify(
        ring::pbkdf2::PBKDF2_HMAC_SHA512,
        iters,
        &salt,
        password.as_bytes(),
        &h,
    )
    .is_ok()
}

/// One account in the password file.
#[derive(Debug, Clone)]
pub struct PasswordEntry {
    pub username: String,
    /// `$7$…` string.
    pub hash: String,
    /// Whether the device also has a client certificate.
    pub has_cert: bool,
}

/// The TLS listener written into `mosquitto.conf`.
#[derive(Debug, Clone)]
pub struct ListenerSpec {
    pub port: u16,
    /// Address to bind (all interfaces when absent).
    pub bind: Option<String>,
    pub server_cert: Option<PathBuf>,
    pub server_key: Option<PathBuf>,
    /// CA file for the listener (`cafile`).
    pub ca: Option<PathBuf>,
}

/// Everything `broker export` needs besides the accounts.
#[derive(Debug, Clone)]
pub struct ExportSpec {
    pub dir: PathBuf,
    pub version: MosquittoVersion,
    pub topic_prefix: String,
    pub admin: Option<String>,
    pub listener: ListenerSpec,
    /// `require_certificate true` + `use_identity_as_username true`.
    pub require_client_certs: bool,
    /// PEM of the local device CA (needed in `cafile` when client
    /// certificates are required).
    pub device_ca_pem: Option<String>,
    /// Replace a `mosquitto.conf`, `acl` or `passwd` in `dir` that an
    /// export did not write.
    pub force: bool,
}

/// What was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportReport {
    pub dir: PathBuf,
    pub passwd: PathBuf,
    pub acl: PathBuf,
    pub conf: PathBuf,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_bundle: Option<PathBuf>,
    pub devices: usize,
    pub mosquitto_version: MosquittoVersion,
    pub iterations: u32,
    pub topic_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    /// Whether the admin's existing password line was carried over.
    pub admin_password_kept: bool,
    pub require_client_certs: bool,
    pub warnings: Vec<String>,
}

/// Render the password file. `kept` are whole lines carried over verbatim
/// (the admin's, which the registry does not know).
pub fn render_passwd(entries: &[PasswordEntry], kept: &[String]) -> String {
    let mut s = String::with_capacity(entries.len() * 130);
    for line in kept {
        s.push_str(line);
        s.push('\n');
    }
    for e in entries {
        s.push_str(&e.username);
        s.push(':');
        s.push_str(&e.hash);
        s.push('\n');
    }
    s
}

/// Render the ACL: each device reads and writes `<prefix>/<username>/#` and
/// nothing else; the admin (if any) gets `#`.
pub fn render_acl(entries: &[PasswordEntry], prefix: &str, admin: Option<&str>) -> String {
    let mut s = String::from(
        "# Generated by `espmqtt broker export`; regenerate instead of editing.\n\
         # Each device may publish and subscribe only under its own prefix.\n\n",
    );
    if let Some(a) = admin {
        s.push_str(&format!("user {a}\ntopic readwrite #\n\n"));
    }
    for e in entries {
        s.push_str(&format!(
            "user {}\ntopic readwrite {prefix}/{}/#\n\n",
            e.username, e.username
        ));
    }
    s
}

/// Render the listener snippet with absolute paths.
pub fn render_conf(spec: &ExportSpec, passwd: &Path, acl: &Path, cafile: Option<&Path>) -> String {
    let l = &spec.listener;
    let mut s = String::new();
    s.push_str(GENERATED);
    s.push_str(": a TLS listener for the fleet.\n");
    s.push_str("# Include it from mosquitto.conf (`include_dir`) or copy it there.\n");
    s.push_str("# ESP8266 devices speak TLS 1.2 only: do not restrict the listener to 1.3.\n\n");
    s.push_str("allow_anonymous false\n");
    s.push_str(&format!("password_file {}\n", passwd.display()));
    s.push_str(&format!("acl_file {}\n\n", acl.display()));
    match &l.bind {
        Some(b) => s.push_str(&format!("listener {} {b}\n", l.port)),
        None => s.push_str(&format!("listener {}\n", l.port)),
    }
    let path_line = |key: &str, p: Option<&Path>, what: &str| match p {
        Some(p) => format!("{key} {}\n", p.display()),
        None => format!(
            "#{key} /path/to/{what}   # pass --{} to fill this in\n",
            key_flag(key)
        ),
    };
    s.push_str(&path_line(
        "certfile",
        l.server_cert.as_deref(),
        "server.crt",
    ));
    s.push_str(&path_line("keyfile", l.server_key.as_deref(), "server.key"));
    if let Some(ca) = cafile {
        s.push_str(&format!("cafile {}\n", ca.display()));
    } else if spec.require_client_certs {
        s.push_str("#cafile /path/to/ca.pem   # pass --ca to fill this in\n");
    }
    if spec.require_client_certs {
        s.push_str("require_certificate true\n");
        // The certificate's CN (= client id = device name) becomes the
        // username, so the ACL above applies unchanged; mosquitto then does
        // not consult password_file for this listener.
        s.push_str("use_identity_as_username true\n");
    }
    s
}

fn key_flag(key: &str) -> &'static str {
    match key {
        "certfile" => "server-cert",
        "keyfile" => "server-key",
        _ => "ca",
    }
}

fn absolute(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(p, e))
}

/// Admin line from an existing password file, to carry over.
fn existing_line(passwd: &Path, user: &str) -> Option<String> {
    let text = std::fs::read_to_string(passwd).ok()?;
    text.lines()
        .find(|l| l.split(':').next() == Some(user) && l.len() > user.len() + 1)
        .map(str::to_string)
}

/// First line of every file an export writes except `passwd`.
const GENERATED: &str = "# Generated by `espmqtt broker export`";

/// The files in `dir` that an export would replace but did not write: a
/// `mosquitto.conf` or `acl` without the export's header line, and a `passwd`
/// in a directory that holds neither file of an earlier export (the
/// broker's own password file, say, in `/etc/mosquitto`).
fn foreign_files(conf: &Path, acl: &Path, passwd: &Path) -> Vec<&'static str> {
    let ours = |p: &Path| {
        std::fs::read_to_string(p)
            .map(|t| t.contains(GENERATED))
            .unwrap_or(false)
    };
    // An empty file has nothing to lose.
    let holds = |p: &Path| std::fs::metadata(p).map(|m| m.len() > 0).unwrap_or(false);
    let mut v = Vec::new();
    for (p, name) in [(conf, "mosquitto.conf"), (acl, "acl")] {
        if holds(p) && !ours(p) {
            v.push(name);
        }
    }
    if holds(passwd) && !ours(conf) && !ours(acl) {
        v.push("passwd");
    }
    v
}

/// Write `passwd`, `acl`, `mosquitto.conf` (and a CA bundle when client
/// certificates are required) into `spec.dir`, each atomically. Files an
/// export did not write are left alone (usage error) unless `spec.force`;
/// nothing is written when an argument is wrong.
pub fn export(spec: &ExportSpec, entries: &[PasswordEntry]) -> Result<ExportReport> {
    let mut warnings = Vec::new();
    let dir = absolute(&spec.dir)?;
    let passwd = dir.join("passwd");
    let acl = dir.join("acl");
    let conf = dir.join("mosquitto.conf");
    let foreign = foreign_files(&conf, &acl, &passwd);
    if !foreign.is_empty() && !spec.force {
        return Err(Error::usage(format!(
            "{} holds {} that `espmqtt broker export` did not write; nothing was written",
            dir.display(),
            foreign.join(", ")
        ))
        .with_help(
            "export into a directory of its own (e.g. /etc/mosquitto/espmqtt) and include \
             its mosquitto.conf from the broker's configuration, or pass --force to replace them",
        ));
    }

    let mut kept = Vec::new();
    let mut admin_password_kept = false;
    if let Some(a) = &spec.admin {
        super::secret::validate_name(a).map_err(|e| e.context("--admin"))?;
        if entries.iter().any(|e| &e.username == a) {
            return Err(Error::usage(format!("--admin {a} is also a device name"))
                .with_help("choose an admin user name that is not a device"));
        }
        match existing_line(&passwd, a) {
            Some(l) => {
                kept.push(l);
                admin_password_kept = true;
            }
            None => warnings.push(format!(
                "{a} has no password yet: run `mosquitto_passwd -b {} {a} PASSWORD` \
                 (later exports keep that line)",
                passwd.display()
            )),
        }
    }

    let mut listener = spec.listener.clone();
    for p in [
        &mut listener.server_cert,
        &mut listener.server_key,
        &mut listener.ca,
    ]
    .into_iter()
    .flatten()
    {
        if !p.is_file() {
            return Err(Error::usage(format!("{} does not exist", p.display()))
                .with_help("pass the path of an existing PEM file"));
        }
        *p = absolute(p)?;
    }
    if listener.server_cert.is_none() || listener.server_key.is_none() {
        warnings.push(
            "no --server-cert/--server-key given: mosquitto.conf has placeholders to fill in"
                .into(),
        );
    }

    // With client certificates, `cafile` must hold the device CA (mosquitto
    // verifies clients against it); a separate --ca is appended to it.
    let mut ca_bundle = None;
    let cafile = if spec.require_client_certs {
        match &spec.device_ca_pem {
            Some(dev_ca) => {
                let mut bundle = dev_ca.trim_end().to_string();
                bundle.push('\n');
                if let Some(extra) = &listener.ca {
                    let text = crate::files::read_input_text(
                        extra,
                        crate::files::MAX_TEXT_INPUT,
                        "CA certificate",
                    )?;
                    if text.trim() != dev_ca.trim() {
                        bundle.push_str(text.trim_end());
                        bundle.push('\n');
                    }
                }
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                let p = dir.join("ca.pem");
                crate::files::write_file_atomic(&p, bundle.as_bytes(), 0o644)?;
                ca_bundle = Some(p.clone());
                Some(p)
            }
            None => listener.ca.clone(),
        }
    } else {
        listener.ca.clone()
    };
    let mut spec2 = spec.clone();
    spec2.listener = listener;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;

    crate::files::write_file_atomic(&passwd, render_passwd(entries, &kept).as_bytes(), 0o600)?;
    crate::files::write_file_atomic(
        &acl,
        render_acl(entries, &spec.topic_prefix, spec.admin.as_deref()).as_bytes(),
        0o600,
    )?;
    crate::files::write_file_atomic(
        &conf,
        render_conf(&spec2, &passwd, &acl, cafile.as_deref()).as_bytes(),
        0o644,
    )?;
    Ok(ExportReport {
        dir,
        passwd,
        acl,
        conf,
        ca_bundle,
        devices: entries.len(),
        mosquitto_version: spec.version,
        iterations: spec.version.iterations(),
        topic_prefix: spec.topic_prefix.clone(),
        admin: spec.admin.clone(),
        admin_password_kept,
        require_client_certs: spec.require_client_certs,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_round_trip_and_format() {
        let h = hash_password("s3cretS3cret", 101).unwrap();
        let parts: Vec<&str> = h.split('$').collect();
        assert_eq!(parts[..3], ["", "7", "101"]);
        assert_eq!(parts[3].len(), 16); // 12 bytes
        assert_eq!(parts[4].len(), 88); // 64 bytes, padded
        assert!(verify_password(&h, "s3cretS3cret"));
        assert!(!verify_password(&h, "s3cretS3cres"));
        assert_ne!(
            h,
            hash_password("s3cretS3cret", 101).unwrap(),
            "salt is random"
        );
        assert!(verify_password(&hash_password("x", 1000).unwrap(), "x"));
    }

    #[test]
    fn verifies_a_line_from_mosquitto_passwd() {
        // Written by mosquitto_passwd 2.0.11 for password "secret".
        let line = "$7$101$5GGFwXXJ6Pz/gm4m$yJibq/v2wXPo8Vo3aHrTFICai5Nw4yRuZkrhZFNiu3qZxMqMQI5U5xdIvjP3cfDh7ayS2QJlTjE67r4g0sqLbQ==";
        assert!(verify_password(line, "secret"));
        assert!(!verify_password(line, "Secret"));
    }

    #[test]
    fn malformed_hashes_do_not_verify_or_panic() {
        for h in [
            "",
            "$7$",
            "$7$0$AA==$AA==",
            "$6$x$y",
            "$7$101$!!$!!",
            "$7$101$AA==$AA==$x",
        ] {
            assert!(!verify_password(h, "x"), "{h}");
        }
    }

    #[test]
    fn acl_confines_each_device() {
        let e = vec![PasswordEntry {
            username: "s-1".into(),
            hash: "$7$".into(),
            has_cert: false,
        }];
        let acl = render_acl(&e, "espmqtt", Some("ops"));
        assert!(acl.contains("user s-1\ntopic readwrite espmqtt/s-1/#\n"));
        assert!(acl.contains("user ops\ntopic readwrite #\n"));
    }
}
