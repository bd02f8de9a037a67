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

use super::dump::{Dump, DumpCertificate, DumpCredential, DumpDevice};
use super::ota::{DumpUpdate, Transition, TrustItem, TrustKind, TrustState, UpdateState};
use super::{
    actor, certificate_detail, created_detail, flash_detail, lease_ms, now, revoked_device,
    unknown_device, Created, CredentialHistory, DeviceRecord, Event, NewDevice, RegistryBackend,
    EAGER_HASH_ITERATIONS,
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
    // 1 → 2: claim leases (milliseconds since the epoch); one module, one
    // device (MACs are stored lower-case; a duplicate left by an older
    // espmqtt stays with the newest device).
    r#"
ALTER TABLE devices ADD COLUMN lease_until INTEGER;
UPDATE devices SET mac = lower(mac) WHERE mac IS NOT NULL;
UPDATE devices SET mac = NULL WHERE mac IS NOT NULL AND id NOT IN
    (SELECT max(id) FROM devices WHERE mac IS NOT NULL GROUP BY mac);
CREATE UNIQUE INDEX devices_mac ON devices(mac) WHERE mac IS NOT NULL;
"#,
    // 2 → 3: config updates over MQTT (docs/OTA.md). Existing devices get
    // their update key from the CSPRNG right after this step
    // (`fill_update_keys`), in the same transaction.
    r#"
CREATE TABLE updates (
    device_id        INTEGER PRIMARY KEY REFERENCES devices(id),
    update_key       TEXT NOT NULL,
    next_key         TEXT,
    next_secret      TEXT,
    previous_secret  TEXT,
    issued           INTEGER NOT NULL DEFAULT 0,
    pending          INTEGER,
    pending_digest   TEXT,
    pending_at       TEXT,
    staged           INTEGER,
    committed        INTEGER NOT NULL DEFAULT 0,
    committed_digest TEXT,
    last_ack         TEXT,
    last_ack_at      TEXT,
    last_seen_at     TEXT,
    pending_trust    TEXT,
    committed_trust  TEXT
);
CREATE TABLE trust (
    id          INTEGER PRIMARY KEY,
    state       TEXT NOT NULL CHECK (state IN ('current', 'next', 'retired')),
    kind        TEXT NOT NULL CHECK (kind IN ('fingerprint', 'pubkey', 'anchor')),
    material    TEXT NOT NULL,
    label       TEXT NOT NULL,
    source      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    retired_at  TEXT,
    chain       TEXT
);
"#,
    // 3 → 4: how the committed config reached the device ('serial' or
    // 'update'; docs/OTA.md, "Serial flashes").
    r#"
ALTER TABLE updates ADD COLUMN committed_via TEXT;
"#,
    // 4 → 5: when the password kept for a rollback was created, so a
    // rollback restores it with its date (docs/BROKER.md).
    r#"
ALTER TABLE updates ADD COLUMN previous_secret_at TEXT;
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

    /// Open an existing database for reading only: nothing is created,
    /// migrated or written (a read-only file or directory is fine). A
    /// missing file is a usage error.
    pub fn open_read_only(path: &Path) -> Result<SqliteRegistry> {
        let missing = || {
            Error::usage(format!("no registry at {}", path.display())).with_help(
                "run this in a project directory (or pass --config), or create devices \
                 with `espmqtt device new NAME`",
            )
        };
        match std::fs::metadata(path) {
            Ok(m) if m.is_file() && m.len() == 0 => return Err(missing()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
            Err(e) => return Err(Error::io(path, e)),
        }
        check_or_create_file(path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = match Connection::open_with_flags(path, flags) {
            Ok(c) => c,
            Err(e) => return Err(db_error(path, e)),
        };
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| db_error(path, e))?;
        let reg = SqliteRegistry {
            conn,
            path: path.to_path_buf(),
        };
        // A WAL database in a directory we cannot write may refuse even a
        // reader (no -shm can be made): read it as an immutable snapshot.
        let reg = match reg.user_version() {
            Ok(v) => {
                reg.check_version(v)?;
                reg
            }
            Err(_) => {
                let uri = format!("file:{}?immutable=1", path.display());
                let conn = Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .map_err(|e| db_error(path, e))?;
                let reg = SqliteRegistry {
                    conn,
                    path: path.to_path_buf(),
                };
                let v = reg.user_version()?;
                reg.check_version(v)?;
                reg
            }
        };
        Ok(reg)
    }

    /// Refuse a schema this build cannot read (newer, or not a registry).
    fn check_version(&self, v: u32) -> Result<()> {
        let latest = MIGRATIONS.len() as u32;
        if v > latest {
            return Err(Error::usage(format!(
                "{} has schema version {v}; this espmqtt knows up to {latest}",
                self.path.display()
            ))
            .with_help("it was written by a newer espmqtt: upgrade espmqtt"));
        }
        if v == 0 {
            return Err(Error::usage(format!(
                "{} is not an espmqtt registry (no schema)",
                self.path.display()
            )));
        }
        Ok(())
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
            fill_update_keys(tx)?;
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
                tx.execute(
                    "INSERT INTO updates (device_id, update_key) VALUES (?1, ?2)",
                    params![dev_id, d.update_key.to_hex()],
                )?;
                ins_cred.execute(params![dev_id, d.secret, at])?;
                let cred_id = tx.last_insert_rowid();
                ins_hash.execute(params![cred_id, EAGER_HASH_ITERATIONS, d.hash])?;
                if let Some(c) = &d.certificate {
                    insert_certificate(tx, dev_id, c, &at)?;
                }
                ins_ev.execute(params![at, d.name, "created", created_detail(d), actor])?;
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
            replace_credential(tx, dev_id, (&secret, &at), &hash, &at)?;
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
                "UPDATE devices SET revoked_at = ?2, claimed_by = NULL, claimed_at = NULL, lease_until = NULL WHERE id = ?1",
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
                params![at, name, certificate_detail(cert), actor],
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
                    "SELECT name FROM devices WHERE mac = ?1 AND id != ?2 ORDER BY name",
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
                        last_flashed_at = ?6, claimed_by = NULL, claimed_at = NULL, lease_until = NULL
                 WHERE id = ?1",
                params![dev_id, mac, chip_id, flash_size.map(|s| s as i64), image_sha256, at],
            )?;
            let detail = flash_detail(&mac, image_sha256, old_mac.as_deref());
            tx.execute(
                "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, 'flashed', ?3, ?4)",
                params![at, name, detail, actor],
            )?;
            Ok(Ok(()))
        })?
    }

    fn claim_next_unflashed(
        &self,
        names: &[String],
        worker: &str,
        lease: Duration,
    ) -> Result<Option<DeviceRecord>> {
        let at = now();
        let stale = super::stale_before();
        let now_ms = now_ms();
        let until = now_ms.saturating_add(lease_ms(lease));
        let claimed = self.write(|tx| {
            let mut probe = tx.prepare_cached("SELECT 1 FROM devices WHERE name = ?1")?;
            for n in names {
                if !probe.exists([n])? {
                    return Ok(Err(unknown_device(n)));
                }
            }
            let mut claim = tx.prepare_cached(
                "UPDATE devices SET claimed_by = ?2, claimed_at = ?3, lease_until = ?5
                 WHERE name = ?1 AND revoked_at IS NULL AND last_flashed_at IS NULL
                   AND (claimed_by IS NULL
                        OR (lease_until IS NULL AND claimed_at < ?4)
                        OR lease_until < ?6)",
            )?;
            for n in names {
                if claim.execute(params![n, worker, at, stale, until, now_ms])? == 1 {
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

    fn renew_claim(&self, name: &str, worker: &str, lease: Duration) -> Result<bool> {
        let until = now_ms().saturating_add(lease_ms(lease));
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE devices SET lease_until = ?3 WHERE name = ?1 AND claimed_by = ?2",
                params![name, worker, until],
            )?;
            Ok(n == 1)
        })
    }

    fn release_claim(&self, name: &str, worker: &str) -> Result<bool> {
        self.write(|tx| {
            let n = tx.execute(
                "UPDATE devices SET claimed_by = NULL, claimed_at = NULL, lease_until = NULL
                 WHERE name = ?1 AND claimed_by = ?2",
                params![name, worker],
            )?;
            Ok(n == 1)
        })
    }

    fn claim_lease_left(&self, name: &str) -> Result<Option<Duration>> {
        let until: Option<Option<i64>> = self
            .conn
            .query_row(
                "SELECT lease_until FROM devices WHERE name = ?1 AND claimed_by IS NOT NULL",
                [name],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(until
            .flatten()
            .map(|u| Duration::from_millis(u.saturating_sub(now_ms()).max(0) as u64)))
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

    fn dump(&self) -> Result<Dump> {
        // One read transaction: a consistent snapshot even while others write.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)
            .map_err(|e| self.err(e))?;
        let dump = (|| -> rusqlite::Result<Dump> {
            let mut devices = Vec::new();
            let mut st = tx.prepare(
                "SELECT id, name, client_id, username, created_at, revoked_at, mac, chip_id, flash_size,
                        last_image_sha256, last_flashed_at FROM devices ORDER BY id",
            )?;
            let mut creds = tx.prepare(
                "SELECT id, secret, created_at, retired_at FROM credentials WHERE device_id = ?1 ORDER BY id",
            )?;
            let mut hashes = tx.prepare(
                "SELECT iterations, hash FROM password_hashes WHERE credential_id = ?1 ORDER BY iterations",
            )?;
            let mut certs = tx.prepare(
                "SELECT serial, key_type, not_before, not_after, cert_pem, key_pem, created_at, revoked_at
                 FROM certificates WHERE device_id = ?1 ORDER BY id",
            )?;
            let rows = st
                .query_map([], |d| {
                    Ok((
                        d.get::<_, i64>(0)?,
                        DumpDevice {
                            name: d.get(1)?,
                            client_id: d.get(2)?,
                            username: d.get(3)?,
                            created_at: d.get(4)?,
                            revoked_at: d.get(5)?,
                            mac: d.get(6)?,
                            chip_id: d.get(7)?,
                            flash_size: d.get::<_, Option<i64>>(8)?.map(|v| v.max(0) as u64),
                            last_image_sha256: d.get(9)?,
                            last_flashed_at: d.get(10)?,
                            credentials: Vec::new(),
                            certificates: Vec::new(),
                            update: None,
                        },
                    ))
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            for (id, mut dev) in rows {
                let cs = creds
                    .query_map([id], |c| {
                        Ok((
                            c.get::<_, i64>(0)?,
                            DumpCredential {
                                secret: c.get(1)?,
                                created_at: c.get(2)?,
                                retired_at: c.get(3)?,
                                hashes: Vec::new(),
                            },
                        ))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                for (cid, mut c) in cs {
                    c.hashes = hashes
                        .query_map([cid], |h| Ok((h.get::<_, u32>(0)?, h.get::<_, String>(1)?)))?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    dev.credentials.push(c);
                }
                dev.certificates = certs
                    .query_map([id], |k| {
                        Ok(DumpCertificate {
                            serial: k.get(0)?,
                            key_type: k.get(1)?,
                            not_before: k.get(2)?,
                            not_after: k.get(3)?,
                            cert_pem: k.get(4)?,
                            key_pem: k.get(5)?,
                            created_at: k.get(6)?,
                            revoked_at: k.get(7)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                dev.update = tx
                    .query_row(
                        &format!(
                            "SELECT {} FROM updates WHERE device_id = ?1",
                            super::ota::UPDATE_COLUMNS
                        ),
                        [id],
                        |r| update_row(r, 0),
                    )
                    .optional()?;
                devices.push(dev);
            }
            let events = tx
                .prepare("SELECT at, device, kind, detail, actor FROM events ORDER BY id")?
                .query_map([], |r| {
                    Ok(Event {
                        at: r.get(0)?,
                        device: r.get(1)?,
                        kind: r.get(2)?,
                        detail: r.get(3)?,
                        actor: r.get(4)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let mut dump = Dump::new(devices, events);
            dump.trust = read_trust(&tx)?;
            Ok(dump)
        })()
        .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(dump)
    }

    fn update_state(&self, name: &str) -> Result<UpdateState> {
        read_update(&self.conn, Some(name))
            .map_err(|e| self.err(e))?
            .pop()
            .ok_or_else(|| unknown_device(name))
    }

    fn update_states(&self) -> Result<Vec<UpdateState>> {
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, TransactionBehavior::Deferred)
            .map_err(|e| self.err(e))?;
        let out = read_update(&tx, None).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(out)
    }

    fn modify_update(
        &self,
        name: &str,
        f: &mut dyn FnMut(&mut UpdateState) -> Result<Transition>,
    ) -> Result<UpdateState> {
        let at = now();
        let actor = actor();
        self.write(|tx| {
            fill_update_keys(tx)?;
            let Some(mut state) = read_update(tx, Some(name))?.pop() else {
                return Ok(Err(unknown_device(name)));
            };
            let t = match f(&mut state) {
                Ok(t) => t,
                Err(e) => return Ok(Err(e)),
            };
            let dev_id: i64 =
                tx.query_row("SELECT id FROM devices WHERE name = ?1", [name], |r| r.get(0))?;
            write_update(tx, dev_id, &DumpUpdate::from_state(&state))?;
            if let Some((secret, created_at)) = t.secret.credential(&at) {
                let hash = match broker::hash_password(secret, EAGER_HASH_ITERATIONS) {
                    Ok(h) => h,
                    Err(e) => return Ok(Err(e)),
                };
                replace_credential(tx, dev_id, (secret, created_at), &hash, &at)?;
            }
            for (kind, detail) in &t.events {
                tx.execute(
                    "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![at, name, kind, detail, actor],
                )?;
            }
            Ok(Ok(state))
        })?
    }

    fn trust(&self) -> Result<Vec<TrustItem>> {
        read_trust(&self.conn).map_err(|e| self.err(e))
    }

    fn modify_trust(
        &self,
        f: &mut dyn FnMut(&mut Vec<TrustItem>) -> Result<super::ota::TrustEvents>,
    ) -> Result<Vec<TrustItem>> {
        let at = now();
        let actor = actor();
        self.write(|tx| {
            let mut items = read_trust(tx)?;
            let events = match f(&mut items) {
                Ok(e) => e,
                Err(e) => return Ok(Err(e)),
            };
            write_trust(tx, &items)?;
            for (kind, detail) in &events {
                tx.execute(
                    "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, NULL, ?2, ?3, ?4)",
                    params![at, kind, detail, actor],
                )?;
            }
            Ok(Ok(items))
        })?
    }

    fn load(&self, dump: &Dump) -> Result<()> {
        self.write(|tx| {
            let n: i64 = tx.query_row(
                "SELECT (SELECT count(*) FROM devices) + (SELECT count(*) FROM events)",
                [],
                |r| r.get(0),
            )?;
            if n > 0 {
                return Ok(Err(super::dump::not_empty(&self.location())));
            }
            for d in &dump.devices {
                tx.execute(
                    "INSERT INTO devices (name, client_id, username, created_at, revoked_at, mac, chip_id,
                                          flash_size, last_image_sha256, last_flashed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                    params![
                        d.name,
                        d.client_id,
                        d.username,
                        d.created_at,
                        d.revoked_at,
                        d.mac,
                        d.chip_id,
                        d.flash_size.map(|s| s.min(i64::MAX as u64) as i64),
                        d.last_image_sha256,
                        d.last_flashed_at
                    ],
                )?;
                let id = tx.last_insert_rowid();
                if let Some(u) = &d.update {
                    write_update(tx, id, u)?;
                }
                for c in &d.credentials {
                    tx.execute(
                        "INSERT INTO credentials (device_id, secret, created_at, retired_at) VALUES (?1, ?2, ?3, ?4)",
                        params![id, c.secret, c.created_at, c.retired_at],
                    )?;
                    let cid = tx.last_insert_rowid();
                    for (it, h) in &c.hashes {
                        tx.execute(
                            "INSERT INTO password_hashes (credential_id, iterations, hash) VALUES (?1, ?2, ?3)",
                            params![cid, it, h],
                        )?;
                    }
                }
                for k in &d.certificates {
                    tx.execute(
                        "INSERT INTO certificates (device_id, serial, key_type, not_before, not_after, cert_pem,
                                                   key_pem, created_at, revoked_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                        params![
                            id,
                            k.serial,
                            k.key_type,
                            k.not_before,
                            k.not_after,
                            k.cert_pem,
                            k.key_pem,
                            k.created_at,
                            k.revoked_at
                        ],
                    )?;
                }
            }
            let mut ev = tx.prepare_cached(
                "INSERT INTO events (at, device, kind, detail, actor) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for e in &dump.events {
                ev.execute(params![e.at, e.device, e.kind, e.detail, e.actor])?;
            }
            fill_update_keys(tx)?;
            write_trust(tx, &dump.trust)?;
            Ok(Ok(()))
        })?
    }
}

/// Local time in milliseconds since the epoch (leases; one host).
fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis().min(i64::MAX as u128) as i64)
        .unwrap_or(0)
}

const DEVICE_SELECT: &str = "
SELECT d.name, d.client_id, d.username, c.secret, c.created_at, d.created_at, d.revoked_at,
       d.mac, d.chip_id, d.flash_size, d.last_image_sha256, d.last_flashed_at,
       k.cert_pem, k.key_pem, k.serial, k.key_type, k.not_after, d.claimed_by, u.update_key
FROM devices d
LEFT JOIN updates u ON u.device_id = d.id
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
        update_key: r
            .get::<_, Option<String>>(18)?
            .and_then(|k| crate::device::update_key::UpdateKey::from_hex(&k)),
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

/// Make `secret` (created at `created_at`, with its hash at
/// [`EAGER_HASH_ITERATIONS`]) the current credential of a device, retiring
/// the one before at `at`.
fn replace_credential(
    tx: &rusqlite::Transaction<'_>,
    dev_id: i64,
    (secret, created_at): (&str, &str),
    hash: &str,
    at: &str,
) -> rusqlite::Result<()> {
    retire_credentials(tx, dev_id, at)?;
    tx.execute(
        "INSERT INTO credentials (device_id, secret, created_at) VALUES (?1, ?2, ?3)",
        params![dev_id, secret, created_at],
    )?;
    let cred_id = tx.last_insert_rowid();
    tx.execute(
        "INSERT INTO password_hashes (credential_id, iterations, hash) VALUES (?1, ?2, ?3)",
        params![cred_id, EAGER_HASH_ITERATIONS, hash],
    )?;
    Ok(())
}

/// Give every device without an update key one from the CSPRNG (devices
/// made before config updates existed, or loaded from an older dump).
fn fill_update_keys(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let ids: Vec<i64> = tx
        .prepare("SELECT id FROM devices WHERE id NOT IN (SELECT device_id FROM updates)")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in ids {
        let key = crate::device::update_key::UpdateKey::generate()
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
        tx.execute(
            "INSERT INTO updates (device_id, update_key) VALUES (?1, ?2)",
            params![id, key.to_hex()],
        )?;
    }
    Ok(())
}

/// Update states of one device (`name`) or of all, in creation order.
fn read_update(conn: &Connection, name: Option<&str>) -> rusqlite::Result<Vec<UpdateState>> {
    let sql = format!(
        "SELECT d.name, d.client_id, d.revoked_at IS NOT NULL, c.secret, c.created_at, {}
         FROM devices d JOIN updates u ON u.device_id = d.id
         LEFT JOIN credentials c ON c.device_id = d.id AND c.retired_at IS NULL
         WHERE ?1 IS NULL OR d.name = ?1 ORDER BY d.id",
        super::ota::update_columns_of("u")
    );
    let mut st = conn.prepare(&sql)?;
    let rows = st
        .query_map([name], |r| {
            let u = update_row(r, 5)?;
            Ok(u.into_state(
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                (
                    r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                    r.get(4)?,
                ),
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>();
    rows
}

/// The `updates` columns ([`super::ota::UPDATE_COLUMNS`]) starting at `at`.
fn update_row(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<DumpUpdate> {
    Ok(DumpUpdate {
        key: r.get(at)?,
        next_key: r.get(at + 1)?,
        next_secret: r.get(at + 2)?,
        previous_secret: r.get(at + 3)?,
        issued: r.get(at + 4)?,
        pending: r.get(at + 5)?,
        pending_digest: r.get(at + 6)?,
        pending_at: r.get(at + 7)?,
        staged: r.get(at + 8)?,
        committed: r.get(at + 9)?,
        committed_digest: r.get(at + 10)?,
        last_ack: r.get(at + 11)?,
        last_ack_at: r.get(at + 12)?,
        last_seen_at: r.get(at + 13)?,
        pending_trust: r.get(at + 14)?,
        committed_trust: r.get(at + 15)?,
        committed_via: r.get(at + 16)?,
        previous_secret_at: r.get(at + 17)?,
    })
}

/// Write device `dev_id`'s `updates` row whole (inserted, or replaced).
fn write_update(
    tx: &rusqlite::Transaction<'_>,
    dev_id: i64,
    u: &DumpUpdate,
) -> rusqlite::Result<()> {
    tx.execute(
        &super::ota::upsert_update_sql('?'),
        params![
            dev_id,
            u.key,
            u.next_key,
            u.next_secret,
            u.previous_secret,
            u.issued,
            u.pending,
            u.pending_digest,
            u.pending_at,
            u.staged,
            u.committed,
            u.committed_digest,
            u.last_ack,
            u.last_ack_at,
            u.last_seen_at,
            u.pending_trust,
            u.committed_trust,
            u.committed_via,
            u.previous_secret_at
        ],
    )?;
    Ok(())
}

fn read_trust(conn: &Connection) -> rusqlite::Result<Vec<TrustItem>> {
    let mut st = conn.prepare(
        "SELECT state, kind, material, label, source, created_at, retired_at, chain FROM trust ORDER BY id",
    )?;
    let rows = st
        .query_map([], |r| {
            let state: String = r.get(0)?;
            let kind: String = r.get(1)?;
            Ok(TrustItem {
                state: TrustState::parse(&state).unwrap_or(TrustState::Retired),
                kind: TrustKind::parse(&kind).unwrap_or(TrustKind::Fingerprint),
                material: r.get(2)?,
                label: r.get(3)?,
                source: r.get(4)?,
                created_at: r.get(5)?,
                retired_at: r.get(6)?,
                chain: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>();
    rows
}

fn write_trust(tx: &rusqlite::Transaction<'_>, items: &[TrustItem]) -> rusqlite::Result<()> {
    tx.execute("DELETE FROM trust", [])?;
    for t in items {
        tx.execute(
            "INSERT INTO trust (state, kind, material, label, source, created_at, retired_at, chain)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                t.state.as_str(),
                t.kind.as_str(),
                t.material,
                t.label,
                t.source,
                t.created_at,
                t.retired_at,
                t.chain
            ],
        )?;
    }
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
    fn migration_3_gives_existing_devices_an_update_key() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("registry.db");
        {
            // A registry as schema 2 left it, with one device.
            let c = Connection::open(&p).unwrap();
            for m in &MIGRATIONS[..2] {
                c.execute_batch(m).unwrap();
            }
            c.pragma_update(None, "user_version", 2u32).unwrap();
            c.execute(
                "INSERT INTO devices (name, client_id, username, created_at) VALUES ('old', 'old', 'old', 't')",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO credentials (device_id, secret, created_at) VALUES (1, 's', 't')",
                [],
            )
            .unwrap();
        }
        let r = SqliteRegistry::open(&p).unwrap();
        let k1 = r
            .device("old")
            .unwrap()
            .update_key
            .expect("a key after migration");
        assert_ne!(k1.0, [0; 32]);
        r.create_devices(&[NewDevice::generate("new").unwrap()])
            .unwrap();
        let k2 = r.device("new").unwrap().update_key.unwrap();
        assert_ne!(k1, k2);
        let s = r.update_state("old").unwrap();
        assert_eq!((s.issued, s.committed, s.pending), (0, 0, None));
        // The dump carries the key; loading it elsewhere keeps it.
        let dump = r.dump().unwrap();
        let (_d2, r2) = temp();
        r2.load(&dump).unwrap();
        assert_eq!(r2.device("old").unwrap().update_key, Some(k1));
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
