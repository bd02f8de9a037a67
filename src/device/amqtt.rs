//! Broker files for amqtt (the Python MQTT broker): `broker export --amqtt
//! DIR` writes
//!
//! - `DIR/passwd`: `username:hash` lines, Argon2id in PHC string form — the
//!   format amqtt's `FileAuthPlugin` verifies (its `$6$` SHA-512-crypt
//!   alternative is deprecated there); mode 0600; revoked devices absent;
//! - `DIR/amqtt.yaml`: a TLS listener, that password file, and
//!   `TopicAccessControlListPlugin` ACLs giving each device publish and
//!   subscribe rights on `<prefix>/<client-id>/#` only.
//!
//! Unlike mosquitto's `$7$` hashes these are not cached in the registry:
//! Argon2 is memory-hard by design and computed at each export.

use std::path::{Path, PathBuf};

use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};

use crate::error::{Error, Result};

/// One device account for amqtt.
pub struct AmqttAccount {
    pub username: String,
    pub client_id: String,
    pub secret: String,
}

impl std::fmt::Debug for AmqttAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AmqttAccount")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// Where amqtt listens.
#[derive(Debug, Clone)]
pub struct AmqttListener {
    pub bind: String,
    pub port: u16,
    pub server_cert: Option<PathBuf>,
    pub server_key: Option<PathBuf>,
}

/// What was written.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AmqttReport {
    pub dir: PathBuf,
    pub passwd: PathBuf,
    pub config: PathBuf,
    pub devices: usize,
    pub tls: bool,
}

/// Argon2id PHC string of `password` (argon2 defaults: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::runtime(format!("Argon2 hashing failed: {e}")))
}

fn yaml_str(s: &str) -> String {
    // JSON strings are valid YAML flow scalars.
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn abs(p: &Path) -> Result<PathBuf> {
    std::path::absolute(p).map_err(|e| Error::io(p, e))
}

/// Write `passwd` and `amqtt.yaml` into `dir` (created if missing).
pub fn export(
    dir: &Path,
    accounts: &[AmqttAccount],
    prefix: &str,
    listener: &AmqttListener,
) -> Result<AmqttReport> {
    if listener.server_cert.is_some() != listener.server_key.is_some() {
        return Err(Error::usage(
            "give both --server-cert and --server-key (or neither)",
        ));
    }
    for f in [&listener.server_cert, &listener.server_key]
        .into_iter()
        .flatten()
    {
        if !f.is_file() {
            return Err(Error::usage(format!("{} does not exist", f.display())));
        }
    }
    let mut passwd = String::from("# amqtt password file written by espmqtt (Argon2id)\n");
    let mut acl = String::new();
    for a in accounts {
        passwd.push_str(&format!("{}:{}\n", a.username, hash_password(&a.secret)?));
        acl.push_str(&format!(
            "      {}: [{}]\n",
            yaml_str(&a.username),
            yaml_str(&format!("{prefix}/{}/#", a.client_id))
        ));
    }
    if acl.is_empty() {
        acl.push_str("      {}\n");
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let dir = abs(dir)?;
    let passwd_path = dir.join("passwd");
    let config_path = dir.join("amqtt.yaml");
    let mut conf = format!(
        "# amqtt configuration written by espmqtt: a TLS listener, the fleet's\n\
         # passwords and per-device topic ACLs ({prefix}/<client-id>/#).\n\
         listeners:\n  default:\n    type: tcp\n    bind: {}\n",
        yaml_str(&if listener.bind.contains(':') {
            format!("[{}]:{}", listener.bind, listener.port)
        } else {
            format!("{}:{}", listener.bind, listener.port)
        })
    );
    if let (Some(c), Some(k)) = (&listener.server_cert, &listener.server_key) {
        conf.push_str(&format!(
            "    ssl: true\n    certfile: {}\n    keyfile: {}\n",
            yaml_str(&abs(c)?.display().to_string()),
            yaml_str(&abs(k)?.display().to_string())
        ));
    }
    conf.push_str(&format!(
        "plugins:\n  amqtt.plugins.authentication.FileAuthPlugin:\n    password_file: {}\n\
         \x20 amqtt.plugins.topic_checking.TopicAccessControlListPlugin:\n    publish_acl:\n{acl}    acl:\n{acl}",
        yaml_str(&passwd_path.display().to_string())
    ));
    crate::files::write_file_atomic(&passwd_path, passwd.as_bytes(), 0o600)?;
    crate::files::write_file_atomic(&config_path, conf.as_bytes(), 0o644)?;
    Ok(AmqttReport {
        dir,
        passwd: passwd_path,
        config: config_path,
        devices: accounts.len(),
        tls: listener.server_cert.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHash, PasswordVerifier};

    #[test]
    fn hashes_are_argon2id_phc_strings_that_verify() {
        let h = hash_password("s3cret").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"), "{h}");
        let parsed = PasswordHash::new(&h).unwrap();
        assert!(argon2::Argon2::default()
            .verify_password(b"s3cret", &parsed)
            .is_ok());
    }
}
