//! The SQLite backend of the registry: an embedded database at
//! `.espmqtt/registry.db`, the default.
//!
//! Decisions, and why:
//! - The file is created by us with mode 0600 *before* SQLite writes a byte
//!   (SQLite gives its `-wal`/`-shm` files the database file's mode).
//! - WAL journal, `synchronous=NORMAL`: readers never block the writer, and a
//!   killed process leaves at most its last uncommitted transaction behind,
//!   which SQLite rolls back on the next open.
//! - Every write is one `BEGIN IMMEDIATE` transaction with a busy timeout, so
//!   concurrent `device new` runs and parallel flashers queue instead of
//!   failing; a device (row, credential, cached hash, certificate, event) is
//!   written in one transaction, so only whole devices exist.
//! - Schema versions live in `PRAGMA user_version`; [`MIGRATIONS`] upgrades
//!   an older file in place; a newer file is refused.
//! - A file that is not an SQLite database is refused *before* SQLite opens
//!   it, and never modified.
//! - Old secrets are not kept: a rotation keeps only the dates of the retired
//!   credential. The `$7$` hash of the current secret is cached per iteration
//!   count, so `broker export` of a large fleet does not re-run PBKDF2.
//! - The event log is append-only (triggers refuse UPDATE and DELETE) and
//!   never contains a secret.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::device::broker::{self, PasswordEntry};
use crate::device::ca::IssuedCertificate;
use crate::error::{Error, Result};

use super::{
    actor, now, revoked_device, unknown_device, Created, CredentialHistory, DeviceRecord, Event,
    NewDevice, RegistryBackend, CLAIM_STALE_AFTER, EAGER_HASH_ITERATIONS,
};

/// How long a writer waits for another process's transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Schema migrations; entry `i` upgrades `user_version` i → i+1.
pub const MIGRATIONS: &[&str] = &[
    // 0 → 1
    r#"
CREATE TABLE devices (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    client_id         TEXT NOT NULL UNIQUE,
    username          TEXT NOT NULL UNIQUE,
    created_at        TEXT NOT NULL,
    revoked_at        TEXT,
    mac               TEXT,
    chip_id           TEXT,
    flash_size        INTEGER,
    last_image_sha256 TEXT,
    last_flashed_at   TEXT,
    claimed_by        TEXT,
    claimed_at        TEXT
);
-- Current secret (retired_at NULL) and rotation history (secret NULL).
CREATE TABLE credentials (
    id          INTEGER PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices(id),
    secret      TEXT,
    created_at  TEXT NOT NULL,
    retired_at  TEXT,
    CHECK ((retired_at IS NULL) = (secret IS NOT NULL))
);
CREATE UNIQUE INDEX credentials_one_current ON credentials(device_id) WHERE retired_at IS NULL;
CREATE TABLE password_hashes (
    credential_id INTEGER NOT NULL REFERENCES credentials(id),
    iterations    INTEGER NOT NULL,
    hash          TEXT NOT NULL,
    PRIMARY KEY (credential_id, iterations)
);
CREATE TABLE certificates (
    id          INTEGER PRIMARY KEY,
    device_id   INTEGER NOT NULL REFERENCES devices(id),
    serial      TEXT NOT NULL,
    key_type    TEXT NOT NULL,
    not_before  TEXT NOT NULL,
    not_after   TEXT NOT NULL,
    cert_pem    TEXT NOT NULL,
    key_pem     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX certificates_device ON certificates(device_id);
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    at      TEXT NOT NULL,
    device  TEXT,
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '',
    actor   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_device ON events(device);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;
"#,
];

/// The SQLite registry of one project: one connection.
///
/// `Send` but not `Sync`: a thread that needs the registry opens its own;
/// SQLite serialises their writes.
pub struct SqliteRegistry {
    conn: Connection,
    path: PathBuf,
}

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl SqliteRegistry {
    /// Open (creating it with mode 0600 if missing) the database at `path`,
    /// creating or migrating the schema.
    pub fn open(path: &Path) -> Result<SqliteRegistry> {
        check_or_create_file(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| db_error(path, e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| db_error(path, e))?;
        let reg = SqliteRegistry {
            conn,
            path: path.to_path_buf(),
        };
        reg.configure()?;
        reg.migrate()?;
        Ok(reg)
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: rusqlite::Error) -> Error {
        db_error(&self.path, e)
    }

    fn configure(&self) -> Result<()> {
        // Changing the journal mode of a brand-new file takes an exclusive
        // lock; several processes opening it at once may see SQLITE_BUSY
        // without the busy handler being consulted, so retry here.
        let deadline = std::time::Instant::now() + BUSY_TIMEOUT;
        loop {
            match self
                .conn
                .query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0))
            {
                Ok(_) => break,
                Err(e) if is_busy(&e) && std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(self.err(e)),
            }
        }
        self.conn
            // secure_delete: pages freed by a rotation are zeroed, so a retired
            // secret does not linger in the file's free space.
            .execute_batch(
                "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON;",
            )
            .map_err(|e| self.err(e))
    }

    fn user_version(&self) -> Result<u32> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
            .map_err(|e| self.err(e))
    }

    fn migrate(&self) -> Result<()> {
        let latest = MIGRATIONS.len() as u32;
        let v = self.user_version()?;
        if v == latest {
            return Ok(());
        }
        self.write(|tx| {
            // Re-read under the write lock: another process may have migrated.
            let v: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if v > latest {
                return Ok(Some(v));
            }
            if v == 0 {
                // A version-0 file must be empty; anything else is not ours.
                let n: i64 = tx.query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
                    [],
                    |r| r.get(0),
                )?;
                if n > 0 {
                    return Ok(Some(u32::MAX));
                }
            }
            for (i, m) in MIGRATIONS.iter().enumerate().skip(v as usize) {
                tx.execute_batch(m)?;
                tx.pragma_update(None, "user_version", (i + 1) as u32)?;
            }
            Ok(None)
        })
        .and_then(|r| match r {
            None => Ok(()),
            Some(u32::MAX) => Err(Error::usage(format!(
                "{} is an SQLite database, but not an espmqtt registry",
                self.path.display()
            ))
            .with_help("move the file away; espmqtt creates a new registry on the next run")),
            Some(v) => Err(Error::usage(format!(
                "{} has schema version {v}; this espmqtt knows up to {latest}",
                self.path.display()
            ))
            .with_help("it was written by a newer espmqtt: upgrade espmqtt")),
        })
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction; commit on `Ok`.
    fn write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)
            .map_err(|e| self.err(e))?;
        let out = f(&tx).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }
}

impl RegistryBackend for SqliteRegistry {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    fn create_devices(&self, devices: &[NewDevice]) -> Result<Vec<Created>> {
        let at = now();
        let actor = actor();
        self.write(|tx| {
            let mut out = Vec::with_capacity(devices.len());
            let mut ins_dev = tx.prepare_cached(
                "INSERT INTO devices (name, client_id, username, created_at) VALUES (?1, ?1, ?1, ?2)
                 ON CONFLICT DO NOTHING",
            )?;
            let mut ins_cred = tx.prepare_cached(
                "INSERT INTO credentials (device_id, secret, created_at) VALUES (?1, ?2, ?3)",
            )?;
            let mut ins_hash = tx.prepare_cached(
                "INSERT INTO password_hashes (credential_id, iterations, hash) VALUES (?1, ?2, ?3)",
            )?;
            let mut ins_ev = tx.prepare_cached(
                "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for d in devices {
                if ins_dev.execute(params![d.name, at])? == 0 {
                    out.push(Created::Duplicate);
                    continue;
                }
                let dev_id = tx.last_insert_rowid();
                ins_cred.execute(params![dev_id, d.secret, at])?;
                let cred_id = tx.last_insert_rowid();
                ins_hash.execute(params![cred_id, EAGER_HASH_ITERATIONS, d.hash])?;
                let mut detail = String::from("secret generated");
                if let Some(c) = &d.certificate {
                    insert_certificate(tx, dev_id, c, &at)?;
                    detail.push_str(&format!(
                        "; certificate {} ({})",
                        c.serial,
                        c.key_kind.label()
                    ));
                }
                ins_ev.execute(params![at, d.name, "created", detail, actor])?;
                out.push(Created::Created);
            }
            Ok(out)
        })
    }

    fn find(&self, name: &str) -> Result<Option<DeviceRecord>> {
        let sql = format!("{DEVICE_SELECT} WHERE d.name = ?1");
        self.conn
            .query_row(&sql, [name], row_to_device)
            .optional()
            .map_err(|e| self.err(e))
    }

    fn devices(&self) -> Result<Vec<DeviceRecord>> {
        let sql = format!("{DEVICE_SELECT} ORDER BY d.id");
        let mut st = self.conn.prepare(&sql).map_err(|e| self.err(e))?;
        let rows = st
            .query_map([], row_to_device)
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e));
        rows
    }

    fn count(&self) -> Result<u64> {
        self.conn
            .query_row("SELECT count(*) FROM devices", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    fn rotate(&self, name: &str) -> Result<DeviceRecord> {
        let secret = crate::device::secret::generate()?;
        let hash = broker::hash_password(&secret, EAGER_HASH_ITERATIONS)?;
        let at = now();
        let actor = actor();
        let state = self.write(|tx| {
            let Some((dev_id, revoked)) = device_id_and_revocation(tx, name)? else {
                return Ok(Err(unknown_device(name)));
            };
            if revoked.is_some() {
                return Ok(Err(revoked_device(name, "a new secret")));
            }
            retire_credentials(tx, dev_id, &at)?;
            tx.execute(
                "INSERT INTO credentials (device_id, secret, created_at) VALUES (?1, ?2, ?3)",
                params![dev_id, secret, at],
            )?;
            let cred_id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO password_hashes (credential_id, iterations, hash) VALUES (?1, ?2, ?3)",
                params![cred_id, EAGER_HASH_ITERATIONS, hash],
            )?;
            tx.execute(
                "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, 'rotated', 'new secret; previous one retired', ?3)",
                params![at, name, actor],
            )?;
            Ok(Ok(()))
        })?;
        state?;
        self.device(name)
    }

    fn revoke(&self, name: &str) -> Result<bool> {
        let at = now();
        let actor = actor();
        self.write(|tx| {
            let Some((dev_id, revoked)) = device_id_and_revocation(tx, name)? else {
                return Ok(Err(unknown_device(name)));
            };
            if revoked.is_some() {
                return Ok(Ok(false));
            }
            tx.execute(
                "UPDATE devices SET revoked_at = ?2, claimed_by = NULL, claimed_at = NULL WHERE id = ?1",
                params![dev_id, at],
            )?;
            retire_credentials(tx, dev_id, &at)?;
            tx.execute(
                "UPDATE certificates SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
                params![dev_id, at],
            )?;
            tx.execute(
                "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, 'revoked', 'secret retired; certificates revoked', ?3)",
                params![at, name, actor],
            )?;
            Ok(Ok(true))
        })?
    }

    fn store_certificate(&self, name: &str, cert: &IssuedCertificate) -> Result<()> {
        let at = now();
        let actor = actor();
        self.write(|tx| {
            let Some((dev_id, revoked)) = device_id_and_revocation(tx, name)? else {
                return Ok(Err(unknown_device(name)));
            };
            if revoked.is_some() {
                return Ok(Err(revoked_device(name, "a certificate")));
            }
            tx.execute(
                "UPDATE certificates SET revoked_at = ?2 WHERE device_id = ?1 AND revoked_at IS NULL",
                params![dev_id, at],
            )?;
            insert_certificate(tx, dev_id, cert, &at)?;
            tx.execute(
                "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, 'certificate', ?3, ?4)",
                params![
                    at,
                    name,
                    format!("issued {} ({}), valid until {}", cert.serial, cert.key_kind.label(), cert.not_after),
                    actor
                ],
            )?;
            Ok(Ok(()))
        })?
    }

    fn password_entries(&self, iterations: u32) -> Result<Vec<PasswordEntry>> {
        struct Row {
            cred_id: i64,
            username: String,
            secret: String,
            hash: Option<String>,
            has_cert: bool,
        }
        // One read transaction: a consistent snapshot even while others write.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)
            .map_err(|e| self.err(e))?;
        let rows = {
            let mut st = tx
                .prepare(
                    "SELECT c.id, d.username, c.secret, h.hash,
                            EXISTS (SELECT 1 FROM certificates k WHERE k.device_id = d.id AND k.revoked_at IS NULL)
                     FROM devices d
                     JOIN credentials c ON c.device_id = d.id AND c.retired_at IS NULL
                     LEFT JOIN password_hashes h ON h.credential_id = c.id AND h.iterations = ?1
                     WHERE d.revoked_at IS NULL
                     ORDER BY d.id",
                )
                .map_err(|e| self.err(e))?;
            let rows = st
                .query_map([iterations], |r| {
                    Ok(Row {
                        cred_id: r.get(0)?,
                        username: r.get(1)?,
                        secret: r.get(2)?,
                        hash: r.get(3)?,
                        has_cert: r.get(4)?,
                    })
                })
                .map_err(|e| self.err(e))?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(|e| self.err(e))?;
            rows
        };
        tx.commit().map_err(|e| self.err(e))?;
        let mut fresh = Vec::new();
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let hash = match r.hash {
                Some(h) => h,
                None => {
                    let h = broker::hash_password(&r.secret, iterations)?;
                    fresh.push((r.cred_id, h.clone()));
                    h
                }
            };
            out.push(PasswordEntry {
                username: r.username,
                hash,
                has_cert: r.has_cert,
            });
        }
        if !fresh.is_empty() {
            self.write(|tx| {
                let mut st = tx.prepare_cached(
                    "INSERT OR IGNORE INTO password_hashes (credential_id, iterations, hash)
                     SELECT ?1, ?2, ?3 WHERE EXISTS
                        (SELECT 1 FROM credentials WHERE id = ?1 AND retired_at IS NULL)",
                )?;
                for (id, h) in &fresh {
                    st.execute(params![id, iterations, h])?;
                }
                Ok(())
            })?;
        }
        Ok(out)
    }

    fn record_flash(
        &self,
        name: &str,
        mac: &str,
        chip_id: Option<&str>,
        flash_size: Option<u64>,
        image_sha256: Option<&str>,
    ) -> Result<()> {
        let at = now();
        let actor = actor();
        let mac = mac.to_ascii_lowercase();
        self.write(|tx| {
            let row: Option<(i64, Option<String>)> = tx
                .query_row("SELECT id, mac FROM devices WHERE name = ?1", [name], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            let Some((dev_id, old_mac)) = row else {
                return Ok(Err(unknown_device(name)));
            };
            // A module carries one identity: binding its MAC here unbinds it
            // from any other device (fleet `--rebind`, or a module moved to
            // another name with a single `flash --device`).
            let previous: Vec<String> = {
                let mut stmt = tx.prepare(
                    "SELECT name FROM devices WHERE lower(mac) = ?1 AND id != ?2 ORDER BY name",
                )?;
                let names = stmt
                    .query_map(params![mac, dev_id], |r| r.get(0))?
                    .collect::<rusqlite::Result<Vec<String>>>()?;
                names
            };
            for other in &previous {
                tx.execute("UPDATE devices SET mac = NULL WHERE name = ?1", [other])?;
                tx.execute(
                    "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, 'unbound', ?3, ?4)",
                    params![at, other, format!("module {mac} now belongs to {name}"), actor],
                )?;
            }
            tx.execute(
                "UPDATE devices SET mac = ?2, chip_id = COALESCE(?3, chip_id),
                        flash_size = COALESCE(?4, flash_size),
                        last_image_sha256 = COALESCE(?5, last_image_sha256),
                        last_flashed_at = ?6, claimed_by = NULL, claimed_at = NULL
                 WHERE id = ?1",
                params![dev_id, mac, chip_id, flash_size.map(|s| s as i64), image_sha256, at],
            )?;
            let mut detail = format!("mac {mac}");
            if let Some(h) = image_sha256 {
                detail.push_str(&format!("; image sha256 {h}"));
            } else {
                detail.push_str("; configuration only");
            }
            if let Some(old) = old_mac.filter(|o| o != &mac) {
                detail.push_str(&format!("; MAC changed from {old} (module replaced?)"));
            }
            tx.execute(
                "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, 'flashed', ?3, ?4)",
                params![at, name, detail, actor],
            )?;
            Ok(Ok(()))
        })?
    }

    fn claim_next_unflashed(&self, names: &[String], worker: &str) -> Result<Option<DeviceRecord>> {
        let at = now();
        let stale = time::OffsetDateTime::now_utc()
            - time::Duration::seconds(CLAIM_STALE_AFTER.as_secs() as i64);
        let stale = stale
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let claimed = self.write(|tx| {
            let mut probe = tx.prepare_cached("SELECT 1 FROM devices WHERE name = ?1")?;
            for n in names {
                if !probe.exists([n])? {
                    return Ok(Err(unknown_device(n)));
                }
            }
            let mut claim = tx.prepare_cached(
                "UPDATE devices SET claimed_by = ?2, claimed_at = ?3
                 WHERE name = ?1 AND revoked_at IS NULL AND last_flashed_at IS NULL
                   AND (claimed_by IS NULL OR claimed_at < ?4)",
            )?;
            for n in names {
                if claim.execute(params![n, worker, at, stale])? == 1 {
                    tx.execute(
                        "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, 'claimed', ?3, ?4)",
                        params![at, n, format!("for flashing by {worker}"), actor()],
                    )?;
                    return Ok(Ok(Some(n.clone())));
                }
            }
            Ok(Ok(None))
        })??;
        match claimed {
            Some(n) => self.device(&n).map(Some),
            None => Ok(None),
        }
    }

    fn release_claim(&self, name: &str, worker: &str) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE devices SET claimed_by = NULL, claimed_at = NULL WHERE name = ?1 AND claimed_by = ?2",
                params![name, worker],
            )?;
            Ok(n == 1)
        })
    }

    fn log_event(&self, device: Option<&str>, kind: &str, detail: &str) -> Result<()> {
        let at = now();
        let actor = actor();
        self.write(|tx| {
            tx.execute(
                "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![at, device, kind, detail, actor],
            )?;
            Ok(())
        })
    }

    fn events(&self, device: Option<&str>, limit: usize) -> Result<Vec<Event>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT at, device, kind, detail, actor FROM
                   (SELECT * FROM events WHERE ?1 IS NULL OR device = ?1 ORDER BY id DESC LIMIT ?2)
                 ORDER BY id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map(params![device, limit as i64], |r| {
                Ok(Event {
                    at: r.get(0)?,
                    device: r.get(1)?,
                    kind: r.get(2)?,
                    detail: r.get(3)?,
                    actor: r.get(4)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e));
        rows
    }

    fn credential_history(&self, name: &str) -> Result<Vec<CredentialHistory>> {
        let mut st = self
            .conn
            .prepare(
                "SELECT c.created_at, c.retired_at FROM credentials c JOIN devices d ON d.id = c.device_id
                 WHERE d.name = ?1 ORDER BY c.id",
            )
            .map_err(|e| self.err(e))?;
        let rows = st
            .query_map([name], |r| {
                Ok(CredentialHistory {
                    created_at: r.get(0)?,
                    retired_at: r.get(1)?,
                })
            })
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e));
        rows
    }

    fn check(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let ic: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        if ic != "ok" {
            problems.push(format!("SQLite integrity check: {ic}"));
        }
        let mut st = self
            .conn
            .prepare(
                "SELECT d.name FROM devices d WHERE d.revoked_at IS NULL AND
                   (SELECT count(*) FROM credentials c JOIN password_hashes h ON h.credential_id = c.id
                    WHERE c.device_id = d.id AND c.retired_at IS NULL) < 1",
            )
            .map_err(|e| self.err(e))?;
        let bad = st
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(|e| self.err(e))?;
        for n in bad {
            problems.push(format!("{n}: no current secret"));
        }
        Ok(problems)
    }
}

const DEVICE_SELECT: &str = "
SELECT d.name, d.client_id, d.username, c.secret, c.created_at, d.created_at, d.revoked_at,
       d.mac, d.chip_id, d.flash_size, d.last_image_sha256, d.last_flashed_at,
       k.cert_pem, k.key_pem, k.serial, k.key_type, k.not_after, d.claimed_by
FROM devices d
LEFT JOIN credentials c ON c.device_id = d.id AND c.retired_at IS NULL
LEFT JOIN certificates k ON k.id =
    (SELECT max(id) FROM certificates WHERE device_id = d.id AND revoked_at IS NULL)";

fn row_to_device(r: &rusqlite::Row<'_>) -> rusqlite::Result<DeviceRecord> {
    let revoked_at: Option<String> = r.get(6)?;
    Ok(DeviceRecord {
        name: r.get(0)?,
        client_id: r.get(1)?,
        username: r.get(2)?,
        secret: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
        secret_created_at: r.get(4)?,
        created_at: r.get(5)?,
        revoked: revoked_at.is_some(),
        revoked_at,
        mac: r.get(7)?,
        chip_id: r.get(8)?,
        flash_size: r.get::<_, Option<i64>>(9)?.map(|v| v.max(0) as u64),
        last_image_sha256: r.get(10)?,
        last_flashed_at: r.get(11)?,
        client_cert_pem: r.get(12)?,
        client_key_pem: r.get(13)?,
        cert_serial: r.get(14)?,
        cert_key_type: r.get(15)?,
        cert_not_after: r.get(16)?,
        claimed_by: r.get(17)?,
    })
}

fn insert_certificate(
    tx: &rusqlite::Transaction<'_>,
    dev_id: i64,
    c: &IssuedCertificate,
    at: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO certificates (device_id, serial, key_type, not_before, not_after, cert_pem, key_pem, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            dev_id,
            c.serial,
            c.key_kind.label(),
            c.not_before,
            c.not_after,
            c.cert_pem,
            c.key_pem,
            at
        ],
    )?;
    Ok(())
}

/// Row id and revocation time of device `name`, inside a write transaction.
fn device_id_and_revocation(
    tx: &rusqlite::Transaction<'_>,
    name: &str,
) -> rusqlite::Result<Option<(i64, Option<String>)>> {
    tx.query_row(
        "SELECT id, revoked_at FROM devices WHERE name = ?1",
        [name],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// Forget the current secret of a device (and its cached hashes), keeping
/// the dates.
fn retire_credentials(
    tx: &rusqlite::Transaction<'_>,
    dev_id: i64,
    at: &str,
) -> rusqlite::Result<()> {
    tx.execute(
        "DELETE FROM password_hashes WHERE credential_id IN
            (SELECT id FROM credentials WHERE device_id = ?1 AND retired_at IS NULL)",
        [dev_id],
    )?;
    tx.execute(
        "UPDATE credentials SET secret = NULL, retired_at = ?2 WHERE device_id = ?1 AND retired_at IS NULL",
        params![dev_id, at],
    )?;
    Ok(())
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Refuse a file that is not an SQLite database before SQLite touches it;
/// create a missing one with mode 0600.
fn check_or_create_file(path: &Path) -> Result<()> {
    use std::io::Read;
    match std::fs::symlink_metadata(path) {
        Ok(meta) => {
            if !meta.is_file() {
                return Err(
                    Error::usage(format!("{} is not a regular file", path.display()))
                        .with_help("move it away; espmqtt creates a new registry on the next run"),
                );
            }
            if meta.len() == 0 {
                // Created by a run killed before it wrote the schema.
                return Ok(());
            }
            let mut head = [0u8; 16];
            let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
            let n = f.read(&mut head).map_err(|e| Error::io(path, e))?;
            if n < 16 || &head != SQLITE_MAGIC {
                return Err(Error::usage(format!(
                    "{} is not an espmqtt registry (not an SQLite database); it was left untouched",
                    path.display()
                ))
                .with_help(
                    "restore the registry from a backup, or move the file away to start a new, \
                     empty registry",
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                o.mode(0o600);
            }
            match o.open(path) {
                Ok(_) => Ok(()),
                // Another process created it first: fine.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
                Err(e) => Err(Error::io(path, e)),
            }
        }
        Err(e) => Err(Error::io(path, e)),
    }
}

/// Map an SQLite error to an error a user can act on.
fn db_error(path: &Path, e: rusqlite::Error) -> Error {
    use rusqlite::ErrorCode as C;
    let p = path.display();
    match e.sqlite_error_code() {
        Some(C::NotADatabase) => Error::usage(format!(
            "{p} is not an espmqtt registry (not an SQLite database)"
        ))
        .with_help("restore it from a backup, or move it away to start a new registry"),
        Some(C::DatabaseCorrupt) => Error::runtime(format!("the registry {p} is damaged: {e}"))
            .with_help(
                "restore it from a backup; `sqlite3 registry.db .recover` may save its contents",
            ),
        Some(C::DatabaseBusy | C::DatabaseLocked) => Error::runtime(format!(
            "the registry {p} stayed locked by another process for {} s",
            BUSY_TIMEOUT.as_secs()
        ))
        .with_help("wait for the other espmqtt command to finish, then retry"),
        Some(C::ReadOnly | C::CannotOpen | C::PermissionDenied) => Error::usage(format!(
            "cannot write the registry {p}: {e}"
        ))
        .with_help(
            "check that the file and its directory belong to you and are writable (mode 0600/0700)",
        ),
        Some(C::DiskFull) => Error::runtime(format!("the disk holding {p} is full"))
            .with_help("free some space and retry; the registry is unchanged"),
        _ => Error::runtime(format!("registry {p}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> (tempfile::TempDir, SqliteRegistry) {
        let d = tempfile::tempdir().unwrap();
        let r = SqliteRegistry::open(&d.path().join("registry.db")).unwrap();
        (d, r)
    }

    #[test]
    fn create_find_rotate_revoke() {
        let (_d, r) = temp();
        let a = NewDevice::generate("a").unwrap();
        let out = r
            .create_devices(&[a.clone(), NewDevice::generate("a").unwrap()])
            .unwrap();
        assert_eq!(out, vec![Created::Created, Created::Duplicate]);
        let rec = r.device("a").unwrap();
        assert_eq!(rec.secret, a.secret);
        assert!(!format!("{rec:?}").contains(&a.secret));
        let rotated = r.rotate("a").unwrap();
        assert_ne!(rotated.secret, a.secret);
        assert_eq!(r.credential_history("a").unwrap().len(), 2);
        assert!(r.revoke("a").unwrap());
        assert!(!r.revoke("a").unwrap());
        assert!(r.password_entries(101).unwrap().is_empty());
        assert_eq!(r.device("zz").unwrap_err().exit_status().code(), 2);
        assert!(r.check().unwrap().is_empty());
    }

    #[test]
    fn events_are_append_only() {
        let (_d, r) = temp();
        r.log_event(None, "note", "hello").unwrap();
        assert!(r.conn.execute("DELETE FROM events", []).is_err());
        assert!(r
            .conn
            .execute("UPDATE events SET detail = 'x'", [])
            .is_err());
    }

    #[test]
    fn claims_are_exclusive_and_end_with_a_flash() {
        let (d, r) = temp();
        let names: Vec<String> = (0..3).map(|i| format!("c{i}")).collect();
        let news: Vec<NewDevice> = names
            .iter()
            .map(|n| NewDevice::generate(n).unwrap())
            .collect();
        r.create_devices(&news).unwrap();
        let r2 = SqliteRegistry::open(&d.path().join("registry.db")).unwrap();
        let a = r.claim_next_unflashed(&names, "w1").unwrap().unwrap();
        let b = r2.claim_next_unflashed(&names, "w2").unwrap().unwrap();
        assert_ne!(a.name, b.name);
        r.record_flash(
            &a.name,
            "AA:BB:CC:DD:EE:FF",
            Some("0x00aabbcc"),
            Some(1 << 20),
            Some("ab"),
        )
        .unwrap();
        assert!(r2.release_claim(&b.name, "w2").unwrap());
        let c = r.claim_next_unflashed(&names, "w1").unwrap().unwrap();
        assert_eq!(c.name, b.name);
        let last = r2.claim_next_unflashed(&names, "w2").unwrap().unwrap();
        assert!(r.claim_next_unflashed(&names, "w3").unwrap().is_none());
        assert_ne!(last.name, c.name);
        let rec = r.device(&a.name).unwrap();
        assert_eq!(rec.mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
        assert_eq!(rec.flash_size, Some(1 << 20));
        assert!(r.claim_next_unflashed(&["nope".to_string()], "w").is_err());
    }

    #[test]
    fn hash_cache_is_filled_on_demand() {
        let (_d, r) = temp();
        let a = NewDevice::generate("h").unwrap();
        r.create_devices(std::slice::from_ref(&a)).unwrap();
        let e1 = r.password_entries(1000).unwrap();
        let e2 = r.password_entries(1000).unwrap();
        assert_eq!(e1[0].hash, e2[0].hash);
        assert!(e1[0].hash.starts_with("$7$1000$"));
        assert!(crate::device::broker::verify_password(
            &e1[0].hash,
            &a.secret
        ));
        assert_eq!(r.password_entries(101).unwrap()[0].hash, a.hash);
    }

    #[test]
    fn foreign_file_is_refused_untouched() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("registry.db");
        std::fs::write(&p, "just some text\n").unwrap();
        let e = SqliteRegistry::open(&p).err().unwrap();
        assert_eq!(e.exit_status().code(), 2);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "just some text\n");
    }
}
