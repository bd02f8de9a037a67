//! The device registry: every device's identity, secret, certificate, flash
//! record and event log, behind one trait ([`RegistryBackend`]) with two
//! backends:
//!
//! - [`sqlite`]: an embedded SQLite database at `.espmqtt/registry.db`, the
//!   default; one station, many processes.
//! - PostgreSQL (`registry = "postgres://…"` in `espmqtt.toml`, or
//!   `ESPMQTT_REGISTRY`): one registry shared by several stations.
//!
//! Both keep the same schema, the same invariants (only whole devices exist;
//! one current secret per active device; the event log is append-only and
//! never holds a secret) and the same behaviour; the integration tests run
//! against both. What a backend must guarantee is written on each method of
//! [`RegistryBackend`]; `docs/REGISTRY.md` explains the choices.
//!
//! Adding an operation: declare it on [`RegistryBackend`] (with the
//! guarantee it gives) and implement it in each backend; callers reach it
//! through [`Registry`], which dereferences to the trait object.

pub mod dump;
pub mod ota;
pub mod postgres;
pub mod sqlite;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::project::ProjectPaths;

use super::broker::PasswordEntry;
use super::ca::IssuedCertificate;
use super::update_key::UpdateKey;
use ota::{Transition, TrustItem, UpdateState};

/// A claim made without a lease (by an older espmqtt) and older than this
/// is considered abandoned.
pub const CLAIM_STALE_AFTER: Duration = Duration::from_secs(30 * 60);
/// How long a flashing claim lasts unless renewed. A flasher renews it every
/// third of this while it works, so a station that dies (power, network,
/// SIGKILL) frees its devices for the others this long after its last sign.
pub const CLAIM_LEASE: Duration = Duration::from_secs(60);
/// PBKDF2 iteration count whose hash is computed when a secret is created.
pub const EAGER_HASH_ITERATIONS: u32 = 101;

/// Schema version this build writes (the same number in every backend).
pub fn schema_version() -> u32 {
    sqlite::MIGRATIONS.len() as u32
}

/// One device as stored, with its current secret and certificate.
///
/// `Debug` redacts the secret and the private key; there is deliberately no
/// `Serialize`, so a secret cannot reach output by accident. Renderers build
/// their own views and include the secret only for `--show-secrets`.
#[derive(Clone)]
pub struct DeviceRecord {
    pub name: String,
    pub client_id: String,
    pub username: String,
    /// The current password (empty for a revoked device: revoking retires it).
    pub secret: String,
    /// When the current secret was created (RFC 3339).
    pub secret_created_at: Option<String>,
    pub created_at: String,
    pub revoked: bool,
    pub revoked_at: Option<String>,
    /// MAC address recorded by the flasher (`aa:bb:cc:dd:ee:ff`).
    pub mac: Option<String>,
    pub chip_id: Option<String>,
    /// Flash size in bytes, as detected by the flasher.
    pub flash_size: Option<u64>,
    pub last_image_sha256: Option<String>,
    pub last_flashed_at: Option<String>,
    /// Current client certificate (PEM), if one was issued.
    pub client_cert_pem: Option<String>,
    /// Its private key (PKCS#8 PEM).
    pub client_key_pem: Option<String>,
    pub cert_serial: Option<String>,
    pub cert_key_type: Option<String>,
    pub cert_not_after: Option<String>,
    /// Worker holding a flashing claim ([`RegistryBackend::claim_next_unflashed`]).
    pub claimed_by: Option<String>,
    /// The key of the config the device has committed (`docs/OTA.md`):
    /// what a serial flash writes, what updates are authenticated with.
    pub update_key: Option<UpdateKey>,
}

impl std::fmt::Debug for DeviceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceRecord")
            .field("name", &self.name)
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("revoked", &self.revoked)
            .field("mac", &self.mac)
            .field("last_flashed_at", &self.last_flashed_at)
            .field("has_cert", &self.client_cert_pem.is_some())
            .finish()
    }
}

/// A device about to be created: everything computed outside the write
/// transaction (secret, hash, certificate), so the lock is held briefly.
///
/// `Debug` redacts the secret, its hash and the certificate's key.
#[derive(Clone)]
pub struct NewDevice {
    pub name: String,
    pub secret: String,
    /// `$7$` hash of `secret` at [`EAGER_HASH_ITERATIONS`].
    pub hash: String,
    pub certificate: Option<IssuedCertificate>,
    /// Its key for config updates over MQTT, from the CSPRNG.
    pub update_key: UpdateKey,
}

impl std::fmt::Debug for NewDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewDevice")
            .field("name", &self.name)
            .field("secret", &"<redacted>")
            .field("hash", &"<redacted>")
            .field(
                "certificate",
                &self.certificate.as_ref().map(|c| c.serial.as_str()),
            )
            .finish()
    }
}

impl NewDevice {
    /// Validate the name, generate a secret and its hash.
    pub fn generate(name: &str) -> Result<Self> {
        super::secret::validate_name(name)?;
        let secret = super::secret::generate()?;
        let hash = super::broker::hash_password(&secret, EAGER_HASH_ITERATIONS)?;
        Ok(NewDevice {
            name: name.to_string(),
            secret,
            hash,
            certificate: None,
            update_key: UpdateKey::generate()?,
        })
    }
}

/// Outcome of creating one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    Created,
    /// A device with this name already exists; nothing was written for it.
    Duplicate,
}

/// One retired or current credential (dates only; old secrets are not kept).
#[derive(Debug, Clone, serde::Serialize)]
pub struct CredentialHistory {
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// One entry of the event log.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub at: String,
    pub device: Option<String>,
    pub kind: String,
    pub detail: String,
    pub actor: String,
}

/// The operations every registry backend provides, with the guarantees
/// callers rely on. Every write is one transaction: it happens whole or not
/// at all, whatever other processes (or stations) do at the same time.
///
/// `Send` but not necessarily `Sync`: a thread that needs the registry (e.g.
/// one flashing worker per serial port) opens its own; the database
/// serialises their writes.
pub trait RegistryBackend: Send {
    /// Where the registry lives, for messages (a path, or a URL without
    /// password).
    fn location(&self) -> String;

    /// Create devices in one transaction. A name that already exists is
    /// reported as [`Created::Duplicate`] and nothing is written for it; the
    /// others are created, each with its credential, cached hash,
    /// certificate and a `created` event.
    fn create_devices(&self, devices: &[NewDevice]) -> Result<Vec<Created>>;

    /// One device by name, if it exists.
    fn find(&self, name: &str) -> Result<Option<DeviceRecord>>;

    /// One device by name; a usage error (exit 2) if there is none.
    fn device(&self, name: &str) -> Result<DeviceRecord> {
        self.find(name)?.ok_or_else(|| unknown_device(name))
    }

    /// All devices, in creation order.
    fn devices(&self) -> Result<Vec<DeviceRecord>>;

    /// Number of devices (revoked included).
    fn count(&self) -> Result<u64>;

    /// Give `name` a new secret. The old one is forgotten (only its dates
    /// stay). A revoked or unknown device is a usage error.
    fn rotate(&self, name: &str) -> Result<DeviceRecord>;

    /// Revoke `name`: its secret is retired, its certificates are marked
    /// revoked and its claim dropped. Returns `false` if it was already
    /// revoked.
    fn revoke(&self, name: &str) -> Result<bool>;

    /// Store a newly issued certificate for `name`; a previous one is marked
    /// revoked (superseded).
    fn store_certificate(&self, name: &str, cert: &IssuedCertificate) -> Result<()>;

    /// Password-file entries of every active device at `iterations`, from
    /// the hash cache; missing hashes are computed once and cached. Revoked
    /// devices are absent. Read from one consistent snapshot.
    fn password_entries(&self, iterations: u32) -> Result<Vec<PasswordEntry>>;

    /// Record a verified flash of `name`: MAC (stored lower-case), chip id,
    /// flash size, image hash (`None` for a config-only write) and time.
    /// Binding the MAC unbinds it from any other device (one module, one
    /// identity, across the whole registry); clears the device's claim.
    fn record_flash(
        &self,
        name: &str,
        mac: &str,
        chip_id: Option<&str>,
        flash_size: Option<u64>,
        image_sha256: Option<&str>,
    ) -> Result<()>;

    /// Claim the first device of `names` (in that order) that is active,
    /// never flashed and not claimed (or whose claim's lease expired), for
    /// `worker`, with a lease of `lease`; `None` when none is left. The
    /// check and the claim are one transaction, so two workers — threads,
    /// processes or stations — never get the same device. A claim ends with
    /// [`RegistryBackend::record_flash`] or [`RegistryBackend::release_claim`],
    /// or lapses when its lease is not renewed in time
    /// ([`RegistryBackend::renew_claim`]). Unknown names are a usage error.
    fn claim_next_unflashed(
        &self,
        names: &[String],
        worker: &str,
        lease: Duration,
    ) -> Result<Option<DeviceRecord>>;

    /// Extend `worker`'s claim on `name` to `lease` from now. Returns
    /// `false` when the claim is no longer `worker`'s (it lapsed and another
    /// worker took it, or the device was revoked).
    fn renew_claim(&self, name: &str, worker: &str, lease: Duration) -> Result<bool>;

    /// Give up `worker`'s claim on `name`. Returns whether a claim was
    /// released.
    fn release_claim(&self, name: &str, worker: &str) -> Result<bool>;

    /// Time left on the lease of `name`'s claim (`None`: not claimed, or a
    /// claim without lease).
    fn claim_lease_left(&self, name: &str) -> Result<Option<Duration>>;

    /// Append an event. `detail` must never contain a secret.
    fn log_event(&self, device: Option<&str>, kind: &str, detail: &str) -> Result<()>;

    /// Events, oldest first; of one device when `device` is given; at most
    /// `limit` (the most recent ones).
    fn events(&self, device: Option<&str>, limit: usize) -> Result<Vec<Event>>;

    /// Credential history of `name` (dates only), oldest first.
    fn credential_history(&self, name: &str) -> Result<Vec<CredentialHistory>>;

    /// Consistency check: the database's own integrity check where it has
    /// one, plus the registry's invariants. Returns the problems found
    /// (empty = healthy).
    fn check(&self) -> Result<Vec<String>>;

    /// The whole registry, from one consistent snapshot, secrets included.
    fn dump(&self) -> Result<dump::Dump>;

    /// The update state of `name` (`docs/OTA.md`); a usage error when
    /// there is no such device.
    fn update_state(&self, name: &str) -> Result<UpdateState>;

    /// The update states of every device, in creation order, from one
    /// consistent snapshot.
    fn update_states(&self) -> Result<Vec<UpdateState>>;

    /// Change `name`'s update state in one write transaction: `f` sees the
    /// state as read under the write lock and returns the [`Transition`]
    /// to record; the state, the credential change it asks for (a new
    /// current secret, with its cached hash) and its events are written
    /// together. When `f` fails nothing is written.
    fn modify_update(
        &self,
        name: &str,
        f: &mut dyn FnMut(&mut UpdateState) -> Result<Transition>,
    ) -> Result<UpdateState>;

    /// The trust the project serves (current, next) and served (retired),
    /// oldest first.
    fn trust(&self) -> Result<Vec<TrustItem>>;

    /// Change the project's trust in one write transaction: `f` sees the
    /// list as read under the write lock, changes it and returns the
    /// `(kind, detail)` events to log; the list is then stored whole.
    fn modify_trust(
        &self,
        f: &mut dyn FnMut(&mut Vec<TrustItem>) -> Result<ota::TrustEvents>,
    ) -> Result<Vec<TrustItem>>;

    /// Load a dump (checked with [`dump::Dump::parse`]) into this registry
    /// in one transaction. Refused (usage error) unless the registry holds
    /// no device and no event.
    fn load(&self, dump: &dump::Dump) -> Result<()>;
}

/// An open registry, whatever its backend. Dereferences to
/// [`RegistryBackend`], so `reg.device(name)` works on either.
pub struct Registry {
    inner: Box<dyn RegistryBackend>,
}

impl std::ops::Deref for Registry {
    type Target = dyn RegistryBackend;
    fn deref(&self) -> &Self::Target {
        self.inner.as_ref()
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("location", &self.inner.location())
            .finish()
    }
}

impl Registry {
    /// Open the project's registry ([`Location::of_project`]), creating it
    /// and its schema on first use, and migrating an older schema.
    ///
    /// Errors: a file that is not an espmqtt registry, or one written by a
    /// newer espmqtt → usage error (exit 2), file untouched; a database
    /// server that cannot be reached → exit 3; I/O and database failures →
    /// runtime error (exit 4) naming the registry.
    pub fn open(paths: &ProjectPaths) -> Result<Registry> {
        let loc = Location::of_project(paths)?;
        if let Location::Sqlite(p) = &loc {
            if p == &paths.registry_db() {
                paths.ensure_state_dir()?;
            }
        }
        Self::open_location(&loc)
    }

    /// Open the project's registry for reading only: nothing is created or
    /// migrated, and a read-only SQLite file is fine. A project without a
    /// registry is a usage error (exit 2).
    pub fn open_read_only(paths: &ProjectPaths) -> Result<Registry> {
        match Location::of_project(paths)? {
            Location::Sqlite(p) => Ok(Registry {
                inner: Box::new(sqlite::SqliteRegistry::open_read_only(&p)?),
            }),
            loc => Self::open_location(&loc),
        }
    }

    /// Open the registry at `loc`.
    pub fn open_location(loc: &Location) -> Result<Registry> {
        match loc {
            Location::Sqlite(p) => Self::open_path(p),
            Location::Postgres(t) => Ok(Registry {
                inner: Box::new(postgres::PgRegistry::open(t)?),
            }),
        }
    }

    /// The SQLite registry at an explicit database path.
    pub fn open_path(path: &Path) -> Result<Registry> {
        Ok(Registry {
            inner: Box::new(sqlite::SqliteRegistry::open(path)?),
        })
    }

    /// A registry from an already opened backend.
    pub fn from_backend(inner: Box<dyn RegistryBackend>) -> Registry {
        Registry { inner }
    }
}

/// Where a registry lives.
#[derive(Debug, Clone)]
pub enum Location {
    /// An SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(Box<postgres::PgTarget>),
}

/// Environment variable naming the registry (overrides `espmqtt.toml`).
pub const REGISTRY_ENV: &str = "ESPMQTT_REGISTRY";

impl Location {
    /// The project's registry: `ESPMQTT_REGISTRY` if set, else the
    /// `registry` key of `espmqtt.toml`, else `.espmqtt/registry.db`.
    pub fn of_project(paths: &ProjectPaths) -> Result<Location> {
        if let Some(v) = std::env::var_os(REGISTRY_ENV).filter(|v| !v.is_empty()) {
            let v = v
                .into_string()
                .map_err(|_| Error::usage(format!("{REGISTRY_ENV} is not valid UTF-8")))?;
            return Self::parse(&v, &paths.root, false)
                .map_err(|e| e.context(REGISTRY_ENV.to_string()));
        }
        if let Some(v) = registry_key(paths)? {
            return Self::parse(&v, &paths.root, true)
                .map_err(|e| e.context(paths.config_file.display().to_string()));
        }
        Ok(Location::Sqlite(paths.registry_db()))
    }

    /// `postgres://…` / `postgresql://…`, `sqlite:PATH` or a plain path
    /// (relative to `base`). `from_file`: the value comes from
    /// `espmqtt.toml`, where a password in a URL is refused.
    pub fn parse(spec: &str, base: &Path, from_file: bool) -> Result<Location> {
        let spec = spec.trim();
        if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
            return Ok(Location::Postgres(Box::new(postgres::PgTarget::parse(
                spec, from_file,
            )?)));
        }
        if let Some((scheme, _)) = spec.split_once("://") {
            return Err(
                Error::usage(format!("registry {scheme}://…: unknown kind of registry"))
                    .with_help("use postgres://USER@HOST/DATABASE, or a path to an SQLite file"),
            );
        }
        let path = spec.strip_prefix("sqlite:").unwrap_or(spec);
        if path.is_empty() {
            return Err(Error::usage("the registry location is empty"));
        }
        Ok(Location::Sqlite(base.join(path)))
    }

    /// For messages: a path, or a URL without password.
    pub fn describe(&self) -> String {
        match self {
            Location::Sqlite(p) => p.display().to_string(),
            Location::Postgres(t) => t.location().to_string(),
        }
    }
}

/// The `registry` key of `espmqtt.toml`, read on its own so that device
/// commands work in a project whose other settings are incomplete.
fn registry_key(paths: &ProjectPaths) -> Result<Option<String>> {
    if !paths.config_file.exists() {
        return Ok(None);
    }
    let text = crate::files::read_input_text(
        &paths.config_file,
        crate::files::MAX_TEXT_INPUT,
        "espmqtt.toml",
    )?;
    let table: toml::Table = toml::from_str(&text).map_err(|e| {
        let e = crate::project::toml_error(&text, &e);
        Error {
            message: format!("{}:{}", paths.config_file.display(), e.message),
            ..e
        }
    })?;
    match table.get("registry") {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::usage(format!(
            "{}: `registry` must be a string (postgres://USER@HOST/DATABASE or a file path)",
            paths.config_file.display()
        ))),
    }
}

/// Claims made before this time without a lease are stale (RFC 3339).
pub(crate) fn stale_before() -> String {
    let stale = time::OffsetDateTime::now_utc()
        - time::Duration::seconds(CLAIM_STALE_AFTER.as_secs() as i64);
    stale
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Current time, RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc();
    let t = t
        .replace_nanosecond(t.millisecond() as u32 * 1_000_000)
        .unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// A claim's lease in milliseconds (what `lease_until` adds to now).
pub(crate) fn lease_ms(lease: Duration) -> i64 {
    lease.as_millis().min(i64::MAX as u128) as i64
}

/// The detail of a device's `created` event.
pub(crate) fn created_detail(d: &NewDevice) -> String {
    let mut detail = String::from("secret generated");
    if let Some(c) = &d.certificate {
        detail.push_str(&format!(
            "; certificate {} ({})",
            c.serial,
            c.key_kind.label()
        ));
    }
    detail
}

/// The detail of a `certificate` event.
pub(crate) fn certificate_detail(cert: &IssuedCertificate) -> String {
    format!(
        "issued {} ({}), valid until {}",
        cert.serial,
        cert.key_kind.label(),
        cert.not_after
    )
}

/// The detail of a `flashed` event: the MAC bound (lower-case), the image
/// written (or a config-only write), and the MAC recorded before if it
/// was another.
pub(crate) fn flash_detail(mac: &str, image_sha256: Option<&str>, old_mac: Option<&str>) -> String {
    let mut detail = format!("mac {mac}");
    if let Some(h) = image_sha256 {
        detail.push_str(&format!("; image sha256 {h}"));
    } else {
        detail.push_str("; configuration only");
    }
    if let Some(old) = old_mac.filter(|o| *o != mac) {
        detail.push_str(&format!("; MAC changed from {old} (module replaced?)"));
    }
    detail
}

/// Who is writing, for the event log.
pub(crate) fn actor() -> String {
    format!("pid {}", std::process::id())
}

/// The error for a name that is not in the registry.
pub(crate) fn unknown_device(name: &str) -> Error {
    Error::usage(format!("no device named {name:?} in the registry"))
        .with_help("see `espmqtt device list`, or create it with `espmqtt device new NAME`")
}

/// The error for an operation on a revoked device.
pub(crate) fn revoked_device(name: &str, what: &str) -> Error {
    Error::usage(format!("{name} is revoked")).with_help(format!(
        "a revoked device cannot get {what}; create a new device"
    ))
}
