//! What the registry keeps for config updates over MQTT (`docs/OTA.md`):
//! per device its update key, the numbers issued, staged and committed, the
//! last acknowledgement; for the project the trust it serves (current,
//! next, retired).
//!
//! The state transitions live here, once, as plain functions on
//! [`UpdateState`]; each backend only loads a row inside its write
//! transaction, calls them, and stores the row and the events they return.

use serde::{Deserialize, Serialize};

use crate::device::update::{Ack, AckResult};
use crate::device::update_key::UpdateKey;
use crate::error::{Error, Result};

/// One device's update state.
///
/// `Debug` shows no key and no secret.
#[derive(Clone, PartialEq, Eq)]
pub struct UpdateState {
    pub name: String,
    pub client_id: String,
    pub revoked: bool,
    /// The key of the config the device has committed: updates are MACed
    /// with it.
    pub key: UpdateKey,
    /// A new key being rolled out (it becomes `key` when the update
    /// carrying it is committed).
    pub next_key: Option<UpdateKey>,
    /// A new MQTT password being rolled out over the air.
    pub next_secret: Option<String>,
    /// The password the device used before `next_secret` was made current
    /// (kept until the device commits, restored if it rolls back).
    pub previous_secret: Option<String>,
    /// The device's current MQTT password (the credential in force).
    pub current_secret: String,
    /// When the current password was created (what `broker sync` marks a
    /// client with, `docs/BROKER.md`); read with it, not stored here.
    pub current_secret_at: Option<String>,
    /// When `previous_secret` was created: restored with it, so a broker
    /// that never lost it is not given it again.
    pub previous_secret_at: Option<String>,
    /// Highest update number ever issued for this device (never reused).
    pub issued: u32,
    /// The update published and not yet committed, rolled back or rejected.
    pub pending: Option<u32>,
    /// SHA-256 (hex) of the config the pending update carries, without its
    /// number: equal digests mean "nothing new to push".
    pub pending_digest: Option<String>,
    pub pending_at: Option<String>,
    /// The pending update, acknowledged as staged by the device.
    pub staged: Option<u32>,
    /// The last update the device committed (0: only serial flashing).
    pub committed: u32,
    pub committed_digest: Option<String>,
    /// The last acknowledgement line and when it arrived.
    pub last_ack: Option<String>,
    pub last_ack_at: Option<String>,
    /// When the device was last heard of (acknowledgement or heartbeat).
    pub last_seen_at: Option<String>,
    /// The trust the pending update carries and the trust of the committed
    /// config ([`TrustSet`] as JSON; `None` for a config written over
    /// serial, which carried the project's current trust of its day).
    pub pending_trust: Option<String>,
    pub committed_trust: Option<String>,
    /// How the committed config reached the device: [`VIA_SERIAL`] (a
    /// serial flash, recorded by [`UpdateState::record_serial`]) or
    /// [`VIA_UPDATE`] (an update it acknowledged); `None` for a row from
    /// before this was recorded.
    pub committed_via: Option<String>,
}

/// [`UpdateState::committed_via`] of a config written over serial.
pub const VIA_SERIAL: &str = "serial";
/// [`UpdateState::committed_via`] of a config committed over the air.
pub const VIA_UPDATE: &str = "update";

/// What a serial flash wrote into slot A, as the registry records it
/// (`docs/OTA.md`, "Serial flashes"). `Debug` shows no key and no secret.
#[derive(Clone, PartialEq, Eq)]
pub struct SerialWrite {
    /// The blob's `config_version`: the device's committed number, and the
    /// floor of what it accepts next.
    pub number: u32,
    /// SHA-256 (hex) of the blob without its number, as
    /// [`UpdateState::pending_digest`].
    pub digest: String,
    /// The blob's trust ([`TrustSet`] as JSON).
    pub trust: Option<String>,
    /// The update key the blob carries.
    pub key: UpdateKey,
    /// The MQTT password the blob carries.
    pub secret: Option<String>,
}

impl std::fmt::Debug for SerialWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialWrite")
            .field("number", &self.number)
            .field("digest", &self.digest)
            .finish()
    }
}

/// The trust material of one config, as kept with its update.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustSet {
    /// `ca`, `pubkey`, `fingerprint` or `insecure`.
    pub mode: String,
    /// Lower-case hex: fingerprints, the SPKI, or anchor certificates.
    pub material: Vec<String>,
}

impl TrustSet {
    pub fn parse(json: Option<&str>) -> Option<TrustSet> {
        serde_json::from_str(json?).ok()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl std::fmt::Debug for UpdateState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpdateState")
            .field("name", &self.name)
            .field("issued", &self.issued)
            .field("pending", &self.pending)
            .field("staged", &self.staged)
            .field("committed", &self.committed)
            .field("rotating_key", &self.next_key.is_some())
            .field("rotating_secret", &self.next_secret.is_some())
            .finish()
    }
}

/// A change to the device's credential that goes with an update transition.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretChange {
    None,
    /// Make this the device's current secret (the old one is retired).
    Set(String),
    /// Make an earlier secret current again, with the time it was first
    /// created (a rollback): to `broker sync` it is the credential the
    /// broker may still hold.
    Restore {
        secret: String,
        created_at: String,
    },
}

impl SecretChange {
    /// The secret to make current and the creation time to record for it
    /// (`now` for a new one).
    pub fn credential<'a>(&'a self, now: &'a str) -> Option<(&'a str, &'a str)> {
        match self {
            SecretChange::None => None,
            SecretChange::Set(s) => Some((s, now)),
            SecretChange::Restore { secret, created_at } => Some((secret, created_at)),
        }
    }
}

/// What a transition asks the backend to write besides the row.
pub struct Transition {
    /// `(kind, detail)` events; details never hold a secret.
    pub events: Vec<(String, String)>,
    pub secret: SecretChange,
}

impl Transition {
    fn event(kind: &str, detail: String) -> Transition {
        Transition {
            events: vec![(kind.to_string(), detail)],
            secret: SecretChange::None,
        }
    }

    /// Nothing to record besides the state.
    pub fn none() -> Transition {
        Transition::nothing()
    }

    fn nothing() -> Transition {
        Transition {
            events: Vec::new(),
            secret: SecretChange::None,
        }
    }
}

/// The outcome of [`UpdateState::issue`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Issued {
    /// The device already committed this config: nothing to publish.
    UpToDate,
    /// This config is already pending under this number: publish the same
    /// message again (a resumed push), nothing new.
    Pending(u32),
    /// A new update number was issued for it.
    New(u32),
}

impl UpdateState {
    /// Issue an update carrying the config whose digest is `digest` (see
    /// [`UpdateState::pending_digest`]). Idempotent: the same config gets
    /// the same number until it is acknowledged.
    ///
    /// Refused while another update is staged on the device (it would
    /// answer `busy`).
    pub fn issue(
        &mut self,
        digest: &str,
        trust: Option<&str>,
        at: &str,
        summary: &str,
    ) -> Result<(Issued, Transition)> {
        if self.pending_digest.as_deref() == Some(digest) {
            if let Some(n) = self.pending {
                return Ok((Issued::Pending(n), Transition::nothing()));
            }
        }
        if self.pending.is_none() && self.committed_digest.as_deref() == Some(digest) {
            return Ok((Issued::UpToDate, Transition::nothing()));
        }
        if let Some(s) = self.staged {
            return Err(Error::check_failed(format!(
                "{}: update {s} is staged on the device and not committed yet",
                self.name
            ))
            .with_help(
                "the device tries it on its next connection; wait for its acknowledgement \
                 (`espmqtt device updates --refresh`) and push again",
            ));
        }
        let n = self.issued.checked_add(1).ok_or_else(|| {
            Error::runtime(format!("{}: the update numbers are exhausted", self.name))
        })?;
        let superseded = self.pending;
        self.issued = n;
        self.pending = Some(n);
        self.pending_digest = Some(digest.to_string());
        self.pending_at = Some(at.to_string());
        self.pending_trust = trust.map(str::to_string);
        let mut detail = format!("update {n}: {summary}");
        if let Some(old) = superseded {
            detail.push_str(&format!(" (replaces update {old}, never acknowledged)"));
        }
        Ok((Issued::New(n), Transition::event("update-issued", detail)))
    }

    /// Record an acknowledgement from the device.
    pub fn apply_ack(&mut self, ack: &Ack, at: &str) -> Transition {
        self.last_ack = Some(ack.to_line());
        self.last_ack_at = Some(at.to_string());
        self.last_seen_at = Some(at.to_string());
        let n = ack.update;
        let ours = self.pending == Some(n);
        match ack.result {
            AckResult::Staged if ours && self.staged != Some(n) => {
                self.staged = Some(n);
                let mut t = Transition::event("update-staged", format!("update {n} staged"));
                // docs/BROKER.md, "Over-the-air password rotation and sync":
                // the new password becomes current (and goes to the broker
                // with the next sync) only once the device holds it.
                if let Some(new) = self.next_secret.clone() {
                    if self.previous_secret.is_none() && new != self.current_secret {
                        self.previous_secret = Some(self.current_secret.clone());
                        self.previous_secret_at = self.current_secret_at.replace(at.to_string());
                        self.current_secret = new.clone();
                        t.secret = SecretChange::Set(new);
                        t.events[0].1.push_str(
                            "; its new password is now the current one (sync the broker)",
                        );
                    }
                }
                t
            }
            AckResult::Committed if ours || self.staged == Some(n) => {
                self.committed = n;
                self.committed_digest = self.pending_digest.take();
                self.committed_via = Some(VIA_UPDATE.to_string());
                if let Some(t) = self.pending_trust.take() {
                    self.committed_trust = Some(t);
                }
                if let Some(k) = self.next_key.take() {
                    self.key = k;
                }
                let next = self.next_secret.take();
                // The staged acknowledgement may never have been seen (a
                // retained ack holds only the latest): the device uses the
                // new password now, so it is the current one.
                let secret = match &next {
                    Some(new) if *new != self.current_secret => {
                        self.current_secret = new.clone();
                        self.current_secret_at = Some(at.to_string());
                        SecretChange::Set(new.clone())
                    }
                    _ => SecretChange::None,
                };
                self.previous_secret = None;
                self.previous_secret_at = None;
                self.pending = None;
                self.pending_at = None;
                self.staged = None;
                let mut d = format!("update {n} committed");
                if let SecretChange::Set(_) = secret {
                    d.push_str("; its new password is now the current one (sync the broker)");
                } else if next.is_some() {
                    d.push_str("; the previous password is forgotten");
                }
                let mut t = Transition::event("update-committed", d);
                t.secret = secret;
                t
            }
            AckResult::RolledBack if ours || self.staged == Some(n) => {
                self.pending = None;
                self.pending_digest = None;
                self.pending_at = None;
                self.staged = None;
                let mut t = Transition::event(
                    "update-rolled-back",
                    format!("update {n} rolled back: {}", ack.reason),
                );
                if let Some(old) = self.previous_secret.take() {
                    self.current_secret = old.clone();
                    t.secret = match self.previous_secret_at.take() {
                        Some(created_at) => {
                            self.current_secret_at = Some(created_at.clone());
                            SecretChange::Restore {
                                secret: old,
                                created_at,
                            }
                        }
                        None => {
                            self.current_secret_at = Some(at.to_string());
                            SecretChange::Set(old)
                        }
                    };
                    t.events[0]
                        .1
                        .push_str("; the previous password is current again (sync the broker)");
                }
                t
            }
            AckResult::Rejected if ours => {
                self.pending = None;
                self.pending_digest = None;
                self.pending_at = None;
                Transition::event(
                    "update-rejected",
                    format!("update {n} rejected: {}", ack.reason),
                )
            }
            _ => Transition::nothing(),
        }
    }

    /// The `config_version` a blob written over serial now carries: the
    /// highest number ever issued, so every update the device may have
    /// seen is at or below it (`docs/OTA.md`, "Serial flashes").
    pub fn serial_number(&self) -> u32 {
        self.issued
    }

    /// Record that a serial flash wrote `w` into slot A and verified it.
    /// The device now runs that blob as its committed config, whatever
    /// it ran before (a bare slot A wins at boot:
    /// `firmware-template/CONFIG_FORMAT.md`, "Two slots"), and accepts only
    /// numbers above `w.number`: an update
    /// issued at or below it is void (the device ignores it as a
    /// duplicate or refuses it as replayed), one issued above it while the
    /// module was being flashed stays pending.
    pub fn record_serial(&mut self, w: &SerialWrite) -> Transition {
        let mut detail = format!("config written over serial as update {}", w.number);
        let void = self.pending.filter(|&p| p <= w.number);
        if let Some(p) = void {
            self.pending = None;
            self.pending_digest = None;
            self.pending_at = None;
            self.pending_trust = None;
            self.staged = None;
            detail.push_str(&format!("; update {p} is void (the device ignores it)"));
        }
        if self.staged.is_some_and(|s| s <= w.number) {
            self.staged = None;
        }
        self.issued = self.issued.max(w.number);
        self.committed = w.number;
        self.committed_via = Some(VIA_SERIAL.to_string());
        self.committed_trust = w.trust.clone();
        // The key the device holds now is the one the blob carried.
        if self.key != w.key {
            self.key = w.key.clone();
            detail.push_str("; the device holds the update key it was flashed with");
        }
        if self.next_key.as_ref() == Some(&w.key) {
            self.next_key = None;
        }
        let carried = w.secret.as_deref();
        if carried == Some(self.current_secret.as_str()) {
            // A rotation the device already staged is complete: it holds
            // the current password now; a rotation not yet staged stays
            // for the next push.
            if self.next_secret.as_deref() == carried {
                self.next_secret = None;
            }
            self.previous_secret_at = None;
            if self.previous_secret.take().is_some() {
                detail.push_str("; the previous password is forgotten");
            }
            self.committed_digest = Some(w.digest.clone());
        } else {
            // The registry's password changed while the module was being
            // flashed: the next push sends the config again.
            self.committed_digest = None;
            detail.push_str("; the password changed meanwhile: the next push sends the config");
        }
        Transition::event("update-serial", detail)
    }

    /// Where the device stands, in one word, for status views: `serial`
    /// while its committed config is one written over serial.
    pub fn phase(&self) -> &'static str {
        if self.revoked {
            "revoked"
        } else if self.staged.is_some() {
            "staged"
        } else if self.pending.is_some() {
            "pending"
        } else if self.committed > 0 && self.committed_via.as_deref() != Some(VIA_SERIAL) {
            "committed"
        } else {
            "serial"
        }
    }
}

/// `(kind, detail)` events to log, as trust changes return them.
pub type TrustEvents = Vec<(String, String)>;

/// What a piece of trust material is: the SHA-1 of a leaf certificate
/// (fingerprint mode), a SubjectPublicKeyInfo (pubkey mode), or a CA
/// certificate (ca mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustKind {
    Fingerprint,
    Pubkey,
    Anchor,
}

impl TrustKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TrustKind::Fingerprint => "fingerprint",
            TrustKind::Pubkey => "pubkey",
            TrustKind::Anchor => "anchor",
        }
    }

    pub fn parse(s: &str) -> Option<TrustKind> {
        Some(match s {
            "fingerprint" => TrustKind::Fingerprint,
            "pubkey" => TrustKind::Pubkey,
            "anchor" => TrustKind::Anchor,
            _ => return None,
        })
    }
}

/// Where a piece of trust stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustState {
    /// What the broker serves now; every device must keep it.
    Current,
    /// Staged for the next switch; pushed to devices with the current one.
    Next,
    /// No longer given to devices.
    Retired,
}

impl TrustState {
    pub fn as_str(self) -> &'static str {
        match self {
            TrustState::Current => "current",
            TrustState::Next => "next",
            TrustState::Retired => "retired",
        }
    }

    pub fn parse(s: &str) -> Option<TrustState> {
        Some(match s {
            "current" => TrustState::Current,
            "next" => TrustState::Next,
            "retired" => TrustState::Retired,
            _ => return None,
        })
    }
}

/// One piece of trust the project serves (or served).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustItem {
    pub state: TrustState,
    pub kind: TrustKind,
    /// The material, lower-case hex (20 bytes, an SPKI or a certificate DER).
    pub material: String,
    /// For people: subject and SHA-256, or the fingerprint.
    pub label: String,
    /// Where it came from: `espmqtt.toml`, a file, `HOST:PORT`.
    pub source: String,
    pub created_at: String,
    pub retired_at: Option<String>,
    /// The certificate chain (PEM) it was taken from, when there was one:
    /// `probe` checks the devices' trust against it before the switch.
    #[serde(default)]
    pub chain: Option<String>,
}

impl TrustItem {
    pub fn bytes(&self) -> Vec<u8> {
        hex::decode(&self.material).unwrap_or_default()
    }
}

/// The update state of one device in a dump (secrets included).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DumpUpdate {
    pub key: String,
    pub next_key: Option<String>,
    pub next_secret: Option<String>,
    pub previous_secret: Option<String>,
    pub issued: u32,
    pub pending: Option<u32>,
    pub pending_digest: Option<String>,
    pub pending_at: Option<String>,
    pub staged: Option<u32>,
    pub committed: u32,
    pub committed_digest: Option<String>,
    pub last_ack: Option<String>,
    pub last_ack_at: Option<String>,
    pub last_seen_at: Option<String>,
    #[serde(default)]
    pub pending_trust: Option<String>,
    #[serde(default)]
    pub committed_trust: Option<String>,
    #[serde(default)]
    pub committed_via: Option<String>,
    #[serde(default)]
    pub previous_secret_at: Option<String>,
}

/// The columns of the `updates` table, in the order both backends select
/// and insert them.
pub const UPDATE_COLUMNS: &str = "update_key, next_key, next_secret, previous_secret, issued, \
     pending, pending_digest, pending_at, staged, committed, committed_digest, last_ack, \
     last_ack_at, last_seen_at, pending_trust, committed_trust, committed_via, previous_secret_at";

/// [`UPDATE_COLUMNS`], each as a column of the table aliased `alias`.
pub fn update_columns_of(alias: &str) -> String {
    UPDATE_COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement that writes one device's `updates` row whole, whether it
/// exists or not: `device_id` then [`UPDATE_COLUMNS`] are the parameters
/// 1 to 19, written `{mark}N` (`?` for SQLite, `$` for PostgreSQL; both
/// take this `ON CONFLICT … DO UPDATE`).
pub fn upsert_update_sql(mark: char) -> String {
    let columns: Vec<&str> = UPDATE_COLUMNS.split(',').map(str::trim).collect();
    let values: Vec<String> = (1..=columns.len() + 1)
        .map(|i| format!("{mark}{i}"))
        .collect();
    let set: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    format!(
        "INSERT INTO updates (device_id, {UPDATE_COLUMNS}) VALUES ({})
         ON CONFLICT (device_id) DO UPDATE SET {}",
        values.join(", "),
        set.join(", ")
    )
}

impl DumpUpdate {
    /// A fresh row: a new key, nothing issued.
    pub fn fresh() -> Result<DumpUpdate> {
        Ok(DumpUpdate {
            key: UpdateKey::generate()?.to_hex(),
            next_key: None,
            next_secret: None,
            previous_secret: None,
            issued: 0,
            pending: None,
            pending_digest: None,
            pending_at: None,
            staged: None,
            committed: 0,
            committed_digest: None,
            last_ack: None,
            last_ack_at: None,
            last_seen_at: None,
            pending_trust: None,
            committed_trust: None,
            committed_via: None,
            previous_secret_at: None,
        })
    }

    /// The row with the device's identity and current secret (and when it
    /// was created), as a state.
    pub fn into_state(
        self,
        name: String,
        client_id: String,
        revoked: bool,
        current_secret: (String, Option<String>),
    ) -> UpdateState {
        let (current_secret, current_secret_at) = current_secret;
        let key = |s: &str| UpdateKey::from_hex(s);
        UpdateState {
            name,
            client_id,
            revoked,
            key: key(&self.key).unwrap_or(UpdateKey([0; 32])),
            next_key: self.next_key.as_deref().and_then(key),
            next_secret: self.next_secret,
            previous_secret: self.previous_secret,
            current_secret,
            current_secret_at,
            previous_secret_at: self.previous_secret_at,
            issued: self.issued,
            pending: self.pending,
            pending_digest: self.pending_digest,
            pending_at: self.pending_at,
            staged: self.staged,
            committed: self.committed,
            committed_digest: self.committed_digest,
            last_ack: self.last_ack,
            last_ack_at: self.last_ack_at,
            last_seen_at: self.last_seen_at,
            pending_trust: self.pending_trust,
            committed_trust: self.committed_trust,
            committed_via: self.committed_via,
        }
    }

    pub fn from_state(s: &UpdateState) -> DumpUpdate {
        DumpUpdate {
            key: s.key.to_hex(),
            next_key: s.next_key.as_ref().map(UpdateKey::to_hex),
            next_secret: s.next_secret.clone(),
            previous_secret: s.previous_secret.clone(),
            issued: s.issued,
            pending: s.pending,
            pending_digest: s.pending_digest.clone(),
            pending_at: s.pending_at.clone(),
            staged: s.staged,
            committed: s.committed,
            committed_digest: s.committed_digest.clone(),
            last_ack: s.last_ack.clone(),
            last_ack_at: s.last_ack_at.clone(),
            last_seen_at: s.last_seen_at.clone(),
            pending_trust: s.pending_trust.clone(),
            committed_trust: s.committed_trust.clone(),
            committed_via: s.committed_via.clone(),
            previous_secret_at: s.previous_secret_at.clone(),
        }
    }
}

impl std::fmt::Debug for DumpUpdate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DumpUpdate")
            .field("issued", &self.issued)
            .field("committed", &self.committed)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state() -> UpdateState {
        DumpUpdate::fresh().unwrap().into_state(
            "d".into(),
            "d".into(),
            false,
            ("old".into(), Some("t0".into())),
        )
    }

    fn ack(n: u32, r: AckResult) -> Ack {
        Ack {
            update: n,
            result: r,
            reason: String::new(),
        }
    }

    #[test]
    fn issue_is_idempotent_until_acknowledged() {
        let mut s = state();
        assert_eq!(s.issue("a", None, "t", "x").unwrap().0, Issued::New(1));
        assert_eq!(s.issue("a", None, "t", "x").unwrap().0, Issued::Pending(1));
        s.apply_ack(&ack(1, AckResult::Staged), "t");
        assert!(s.issue("b", None, "t", "x").is_err(), "busy while staged");
        s.apply_ack(&ack(1, AckResult::Committed), "t");
        assert_eq!(s.issue("a", None, "t", "x").unwrap().0, Issued::UpToDate);
        assert_eq!(s.issue("b", None, "t", "x").unwrap().0, Issued::New(2));
        s.apply_ack(&ack(2, AckResult::Rejected), "t");
        assert_eq!(s.issue("b", None, "t", "x").unwrap().0, Issued::New(3));
    }

    #[test]
    fn a_rotated_password_is_current_from_staged_and_restored_on_rollback() {
        let mut s = state();
        s.next_secret = Some("new".into());
        s.issue("a", None, "t", "x").unwrap();
        let t = s.apply_ack(&ack(1, AckResult::Staged), "t");
        assert!(t.secret == SecretChange::Set("new".into()));
        let t = s.apply_ack(&ack(1, AckResult::RolledBack), "t");
        assert_eq!(
            t.secret.credential("now"),
            Some(("old", "t0")),
            "first created at t0"
        );
        assert_eq!(s.next_secret.as_deref(), Some("new"), "retried next push");
        s.issue("a", None, "t", "x").unwrap();
        s.apply_ack(&ack(2, AckResult::Staged), "t");
        let t = s.apply_ack(&ack(2, AckResult::Committed), "t");
        assert!(t.secret == SecretChange::None);
        assert_eq!(s.current_secret, "new");
        assert!(s.previous_secret.is_none() && s.next_secret.is_none());
        assert!(!format!("{s:?}").contains("new"));
    }

    fn serial(s: &UpdateState, digest: &str) -> SerialWrite {
        SerialWrite {
            number: s.serial_number(),
            digest: digest.into(),
            trust: Some("{}".into()),
            key: s.key.clone(),
            secret: Some(s.current_secret.clone()),
        }
    }

    #[test]
    fn a_serial_flash_is_the_committed_config_and_voids_older_updates() {
        let mut s = state();
        // Nothing issued yet: number 0, as before updates existed.
        assert_eq!(s.serial_number(), 0);
        s.record_serial(&serial(&s, "s0"));
        assert_eq!((s.committed, s.phase()), (0, "serial"));
        assert_eq!(s.issue("s0", None, "t", "x").unwrap().0, Issued::UpToDate);
        // Update 1 committed, update 2 published and never answered.
        s.issue("a", None, "t", "x").unwrap();
        s.apply_ack(&ack(1, AckResult::Committed), "t");
        assert_eq!(s.phase(), "committed");
        assert_eq!(s.issue("b", None, "t", "x").unwrap().0, Issued::New(2));
        // A serial flash of config "b" carries number 2: the device runs
        // it and ignores the retained update 2 as its own.
        let w = serial(&s, "b");
        assert_eq!(w.number, 2);
        let t = s.record_serial(&w);
        assert!(t.events[0].1.contains("update 2 is void"), "{:?}", t.events);
        assert_eq!((s.committed, s.pending, s.phase()), (2, None, "serial"));
        assert_eq!(s.issue("b", None, "t", "x").unwrap().0, Issued::UpToDate);
        // What the registry believed committed (over the air) is no longer
        // what the device runs: "a" is pushed again, above every number seen.
        assert_eq!(s.issue("a", None, "t", "x").unwrap().0, Issued::New(3));
        // An update issued while the module was being flashed stays.
        let mut w = serial(&s, "c");
        w.number = 2;
        s.record_serial(&w);
        assert_eq!((s.committed, s.pending, s.issued), (2, Some(3), 3));
    }

    #[test]
    fn a_serial_flash_completes_a_staged_password_rotation() {
        let mut s = state();
        s.next_secret = Some("new".into());
        s.issue("a", None, "t", "x").unwrap();
        s.apply_ack(&ack(1, AckResult::Staged), "t");
        assert_eq!(s.current_secret, "new");
        s.record_serial(&serial(&s, "a"));
        assert!(s.next_secret.is_none() && s.previous_secret.is_none());
        assert_eq!((s.staged, s.pending, s.committed), (None, None, 1));
        // A rotation not yet staged stays for the next push.
        s.next_secret = Some("newer".into());
        s.issue("b", None, "t", "x").unwrap();
        s.record_serial(&serial(&s, "c"));
        assert_eq!(s.next_secret.as_deref(), Some("newer"));
        assert_eq!(s.issue("b", None, "t", "x").unwrap().0, Issued::New(3));
        // The registry's password changed while flashing: nothing counts as
        // up to date.
        let mut w = serial(&s, "d");
        w.secret = Some("other".into());
        s.record_serial(&w);
        assert_eq!(s.committed_digest, None);
    }
}
