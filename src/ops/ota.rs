//! Config updates over MQTT, the operator's side (`docs/OTA.md`): the trust
//! the project serves (stage the next certificate, retire the old one),
//! pushing each device's pending config as an authenticated update, and
//! collecting the devices' acknowledgements into the registry.
//!
//! The message format is `crate::device::update`; the registry keeps the
//! numbers and keys (`crate::device::registry::ota`); the MQTT session is
//! [`super::ota_link`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::device::blob::{build_blob, ConfigBlob, DeviceIdentity, TrustMaterial};
use crate::device::registry::ota::{
    Issued, Transition, TrustItem, TrustKind, TrustSet, TrustState, UpdateState,
};
use crate::device::registry::{now, DeviceRecord, Registry};
use crate::device::update::{self, Ack, AckResult};
use crate::error::{Error, Result};
use crate::project::{ProjectConfig, ProjectPaths};
use crate::tls::cert;
use crate::tls::TrustMode;

use super::ota_link::{Incoming, Link, Operator};

// ---------------------------------------------------------------------------
// The trust the project serves.

/// Where the next trust comes from.
#[derive(Debug, Clone)]
pub enum TrustSource {
    /// A PEM file: the next certificate chain (leaf first), or in `ca` mode
    /// the next root certificate(s).
    Pem(PathBuf),
    /// The chain a broker (a staging listener) presents.
    Server { host: String, port: u16 },
}

/// What `trust stage` did.
#[derive(Debug, Clone, Serialize)]
pub struct StageReport {
    pub mode: String,
    /// The file or listener the certificate came from.
    pub source: String,
    /// `staged`; `unchanged` (already staged); `current` (the certificate
    /// given is trusted now already: nothing to stage).
    pub outcome: String,
    pub staged: Vec<TrustView>,
    pub trust: Vec<TrustView>,
}

/// One piece of trust, for output.
#[derive(Debug, Clone, Serialize)]
pub struct TrustView {
    pub state: TrustState,
    pub kind: TrustKind,
    pub label: String,
    pub source: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

impl From<&TrustItem> for TrustView {
    fn from(t: &TrustItem) -> Self {
        TrustView {
            state: t.state,
            kind: t.kind,
            label: t.label.clone(),
            source: t.source.clone(),
            created_at: t.created_at.clone(),
            retired_at: t.retired_at.clone(),
        }
    }
}

fn kind_for(mode: TrustMode) -> Result<TrustKind> {
    Ok(match mode {
        TrustMode::Fingerprint => TrustKind::Fingerprint,
        TrustMode::Pubkey => TrustKind::Pubkey,
        TrustMode::Ca => TrustKind::Anchor,
        TrustMode::Insecure => {
            return Err(Error::usage(
                "the project uses trust = \"insecure\": there is no trust to roll over",
            )
            .with_help("choose ca, pubkey or fingerprint in espmqtt.toml first"))
        }
    })
}

/// espmqtt.toml names another trust mode than the registry serves.
fn mode_mismatch(configured: TrustMode, served: TrustKind) -> Error {
    Error::usage(format!(
        "espmqtt.toml says trust = \"{}\", but the registry serves {} trust",
        configured.as_str(),
        mode_of(served)
    ))
    .with_help(format!(
        "set [tls] trust = \"{}\" back in espmqtt.toml: the registry's trust (`espmqtt trust \
         show`) is what the fleet holds",
        mode_of(served)
    ))
}

/// The trust mode (`[tls] trust`) a kind of trust item belongs to.
fn mode_of(kind: TrustKind) -> &'static str {
    match kind {
        TrustKind::Fingerprint => "fingerprint",
        TrustKind::Pubkey => "pubkey",
        TrustKind::Anchor => "ca",
    }
}

fn item(state: TrustState, kind: TrustKind, material: &[u8], source: &str, at: &str) -> TrustItem {
    let label = match kind {
        TrustKind::Fingerprint => cert::colon_hex(material),
        TrustKind::Pubkey => format!("key sha256 {}", hex::encode(&cert::sha256(material)[..8])),
        TrustKind::Anchor => {
            let s = cert::summarize(0, material, cert::unix_now());
            format!(
                "{} (sha256 {})",
                s.subject,
                &s.sha256.replace(':', "")[..16]
            )
        }
    };
    TrustItem {
        state,
        kind,
        material: hex::encode(material),
        label,
        source: source.to_string(),
        created_at: at.to_string(),
        retired_at: None,
        chain: None,
    }
}

/// The project's current trust from `espmqtt.toml` (the seed of the
/// registry's trust, before anything was staged).
fn seed_from_config(config: &ProjectConfig, root: &Path, at: &str) -> Result<Vec<TrustItem>> {
    let kind = kind_for(config.tls.trust)?;
    let m = TrustMaterial::resolve(config, root)?;
    let material: Vec<Vec<u8>> = match kind {
        TrustKind::Fingerprint => m.fingerprints.iter().map(|f| f.to_vec()).collect(),
        TrustKind::Pubkey => m.pubkey_der.into_iter().collect(),
        TrustKind::Anchor => m.anchors_der,
    };
    Ok(material
        .iter()
        .map(|b| item(TrustState::Current, kind, b, "espmqtt.toml", at))
        .collect())
}

/// The trust material devices get now: the registry's current and next
/// trust once anything was staged, else what `espmqtt.toml` names.
pub fn served_trust(config: &ProjectConfig, root: &Path, reg: &Registry) -> Result<TrustMaterial> {
    let items = reg.trust()?;
    let live: Vec<&TrustItem> = items
        .iter()
        .filter(|t| t.state != TrustState::Retired)
        .collect();
    if live.is_empty() || config.tls.trust == TrustMode::Insecure {
        return TrustMaterial::resolve(config, root);
    }
    let kind = kind_for(config.tls.trust)?;
    if let Some(other) = live.iter().find(|t| t.kind != kind) {
        return Err(mode_mismatch(config.tls.trust, other.kind));
    }
    // Current first, then next: the firmware tries fingerprints in order.
    let mut ordered: Vec<Vec<u8>> = Vec::new();
    for state in [TrustState::Current, TrustState::Next] {
        for t in live.iter().filter(|t| t.state == state) {
            let b = t.bytes();
            if !ordered.contains(&b) {
                ordered.push(b);
            }
        }
    }
    let mut m = TrustMaterial::default();
    match kind {
        TrustKind::Fingerprint => {
            for b in ordered {
                m.fingerprints.push(b.as_slice().try_into().map_err(|_| {
                    Error::runtime("the registry holds a fingerprint that is not 20 bytes")
                })?);
            }
        }
        TrustKind::Pubkey => m.pubkey_der = ordered.into_iter().next(),
        TrustKind::Anchor => m.anchors_der = ordered,
    }
    Ok(m)
}

/// Read the next trust's certificates from a file or a broker.
fn next_chain(source: &TrustSource, steps: &dyn Steps) -> Result<(Vec<Vec<u8>>, String)> {
    let t = Instant::now();
    let (chain, src) = read_chain(source)?;
    timed(
        steps,
        format!("read {src}: {} certificate(s)", chain.len()),
        t,
    );
    Ok((chain, src))
}

fn read_chain(source: &TrustSource) -> Result<(Vec<Vec<u8>>, String)> {
    match source {
        TrustSource::Pem(p) => {
            let bytes = crate::files::read_input(p, crate::files::MAX_TEXT_INPUT, "certificate")?;
            let certs = cert::load_certificates(&bytes).map_err(|e| not_a_chain(p, &bytes, e))?;
            if certs.is_empty() {
                return Err(Error::usage(format!(
                    "{} holds no certificate",
                    p.display()
                )));
            }
            Ok((certs, format!("file {}", p.display())))
        }
        TrustSource::Server { host, port } => {
            let chain = super::trust::fetch_chain(host, *port)?;
            if chain.is_empty() {
                return Err(Error::check_failed(format!(
                    "{host}:{port} presented no certificate"
                )));
            }
            Ok((chain, format!("{host}:{port}")))
        }
    }
}

/// Why a file given to `trust stage --pem` is not a certificate chain, and
/// which file to give instead. Nothing of the file is quoted (it may be a
/// private key).
fn not_a_chain(path: &Path, bytes: &[u8], e: Error) -> Error {
    let text = String::from_utf8_lossy(bytes);
    let p = path.display();
    let (message, help) = if text.trim().is_empty() {
        (
            format!("{p} is empty"),
            "give the next certificate: the PEM file of the renewal (certbot: fullchain.pem)",
        )
    } else if text.contains("PRIVATE KEY-----") {
        (
            format!("{p} holds a private key, not a certificate"),
            "give the certificate file (certbot: fullchain.pem, not privkey.pem); the key stays \
             on the broker",
        )
    } else if text.contains("-----BEGIN CERTIFICATE REQUEST-----") {
        (
            format!("{p} is a certificate request (CSR), not a certificate"),
            "give the certificate the CA issued for it (certbot: fullchain.pem)",
        )
    } else if text.contains("-----BEGIN ") {
        (
            format!("{p}: {}", e.message),
            "give the next certificate chain as PEM (-----BEGIN CERTIFICATE-----, leaf first)",
        )
    } else {
        (
            format!("{p} is neither a PEM nor a DER certificate"),
            "give the next certificate chain as PEM (-----BEGIN CERTIFICATE-----, leaf first) \
             or one DER certificate",
        )
    };
    Error::usage(message).with_help(help)
}

/// The next trust items a chain yields in `kind`'s mode.
fn items_from_chain(
    kind: TrustKind,
    chain: &[Vec<u8>],
    source: &str,
    at: &str,
) -> Result<Vec<TrustItem>> {
    let pem: String = chain
        .iter()
        .map(|c| cert::to_pem("CERTIFICATE", c))
        .collect();
    let leaf = &chain[0];
    let mut out = match kind {
        TrustKind::Fingerprint => vec![item(TrustState::Next, kind, &cert::sha1(leaf), source, at)],
        TrustKind::Pubkey => vec![item(
            TrustState::Next,
            kind,
            &cert::spki_der(leaf)?,
            source,
            at,
        )],
        TrustKind::Anchor => {
            // A file: its CA certificates (a root, or an intermediate
            // given on purpose); a server certificate in it is not an
            // anchor (a fullchain.pem given in `ca` mode). A server's
            // chain: its self-signed top, if it sends one.
            let file = source.starts_with("file ");
            let roots: Vec<&Vec<u8>> = if file {
                chain.iter().filter(|c| is_ca(c)).collect()
            } else {
                chain.iter().filter(|c| is_self_signed(c)).collect()
            };
            if roots.is_empty() && file {
                return Err(Error::usage(format!(
                    "{} holds no CA certificate: in `ca` mode the devices trust the root that \
                     issues the broker's certificate, not the certificate itself",
                    source.trim_start_matches("file ")
                ))
                .with_help(
                    "give the next root (or the CA certificate your broker's certificates \
                     chain to) as PEM; `espmqtt fingerprint --file FILE` shows what a file holds",
                ));
            }
            if roots.is_empty() {
                return Err(Error::usage(format!(
                    "{source} does not present its root certificate, which `ca` mode needs as the anchor"
                ))
                .with_help("stage the root from a file: `espmqtt trust stage --pem ROOT.pem`"));
            }
            roots
                .into_iter()
                .map(|c| item(TrustState::Next, kind, c, source, at))
                .collect()
        }
    };
    for i in &mut out {
        i.chain = Some(pem.clone());
    }
    Ok(out)
}

/// A CA certificate: basicConstraints says so, or it is self-signed (an
/// old root without extensions).
fn is_ca(der: &[u8]) -> bool {
    let flagged = x509_parser::parse_x509_certificate(der)
        .ok()
        .and_then(|(_, c)| c.basic_constraints().ok().flatten().map(|b| b.value.ca));
    flagged.unwrap_or_else(|| is_self_signed(der))
}

fn is_self_signed(der: &[u8]) -> bool {
    x509_parser::parse_x509_certificate(der)
        .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
        .unwrap_or(false)
}

/// `trust stage`: record the next certificate's trust next to the current
/// one, so the next push gives every device both.
pub fn stage_trust(
    paths: &ProjectPaths,
    source: &TrustSource,
    steps: &dyn Steps,
) -> Result<StageReport> {
    let config = paths.load_config()?;
    let kind = kind_for(config.tls.trust)?;
    let at = now();
    let (chain, src) = next_chain(source, steps)?;
    let next = items_from_chain(kind, &chain, &src, &at)?;
    for t in &next {
        detail(steps, format!("next {}: {}", t.kind.as_str(), t.label));
    }
    let seed = seed_from_config(&config, &paths.root, &at)?;
    let t = Instant::now();
    let reg = Registry::open(paths)?;
    let mut outcome = "staged";
    let items = reg.modify_trust(&mut |items| {
        if let Some(other) = items
            .iter()
            .find(|t| t.state != TrustState::Retired && t.kind != kind)
        {
            return Err(mode_mismatch(config.tls.trust, other.kind));
        }
        let mut events = Vec::new();
        let before = items.len();
        if !items.iter().any(|t| t.state != TrustState::Retired) {
            items.extend(seed.iter().cloned());
            events.push((
                "trust-current".to_string(),
                format!(
                    "current {} trust from espmqtt.toml: {}",
                    kind.as_str(),
                    labels(&seed)
                ),
            ));
        }
        let live = |s: TrustState, items: &Vec<TrustItem>| -> Vec<String> {
            items
                .iter()
                .filter(|t| t.state == s)
                .map(|t| t.material.clone())
                .collect()
        };
        let current = live(TrustState::Current, items);
        let staged = live(TrustState::Next, items);
        let wanted: Vec<String> = next
            .iter()
            .map(|t| t.material.clone())
            .filter(|m| !current.contains(m))
            .collect();
        if wanted.is_empty() || wanted == staged {
            // Nothing to stage: the certificate given is trusted now already
            // (typically the live listener instead of the staging one), or
            // it is staged. Nothing is recorded, not even the seed.
            outcome = if wanted.is_empty() {
                "current"
            } else {
                "unchanged"
            };
            items.truncate(before);
            return Ok(Vec::new());
        }
        if kind == TrustKind::Pubkey {
            return Err(Error::usage(
                "the next certificate has another public key, and `pubkey` mode pins one key",
            )
            .with_help(
                "renew the certificate with the same key (certbot --reuse-key), or move the \
                 fleet to `fingerprint` or `ca` trust",
            ));
        }
        let cap = if kind == TrustKind::Fingerprint {
            crate::device::blob::MAX_FINGERPRINTS
        } else {
            crate::device::blob::MAX_TRUST_ANCHORS
        };
        if current.len() + wanted.len() > cap {
            return Err(Error::usage(format!(
                "a device holds at most {cap} {}s; {} current + {} next is too many",
                kind.as_str(),
                current.len(),
                wanted.len()
            ))
            .with_help("retire old trust first (`espmqtt trust retire`)"));
        }
        for t in items.iter_mut().filter(|t| t.state == TrustState::Next) {
            t.state = TrustState::Retired;
            t.retired_at = Some(at.clone());
            events.push(("trust-unstaged".into(), format!("replaced: {}", t.label)));
        }
        let new: Vec<TrustItem> = next
            .iter()
            .filter(|t| wanted.contains(&t.material))
            .cloned()
            .collect();
        events.push((
            "trust-staged".into(),
            format!("next {}: {} (from {src})", kind.as_str(), labels(&new)),
        ));
        items.extend(new);
        Ok(events)
    })?;
    timed(
        steps,
        format!("record the trust in the registry ({outcome})"),
        t,
    );
    Ok(StageReport {
        mode: config.tls.trust.as_str().to_string(),
        source: match source {
            TrustSource::Pem(p) => p.display().to_string(),
            TrustSource::Server { host, port } => crate::target::Target {
                host: host.clone(),
                port: *port,
            }
            .display(),
        },
        outcome: outcome.into(),
        staged: items
            .iter()
            .filter(|t| t.state == TrustState::Next)
            .map(TrustView::from)
            .collect(),
        trust: items.iter().map(TrustView::from).collect(),
    })
}

/// Up to `n` names, then how many more (`device updates` lists them all).
fn first_names(names: &[String], n: usize) -> String {
    let mut s = names[..names.len().min(n)].join(", ");
    if names.len() > n {
        s += &format!(" and {} more (`espmqtt device updates`)", names.len() - n);
    }
    s
}

fn labels(items: &[TrustItem]) -> String {
    items
        .iter()
        .map(|t| t.label.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

/// What `trust retire` did.
#[derive(Debug, Clone, Serialize)]
pub struct RetireReport {
    pub mode: String,
    pub retired: Vec<TrustView>,
    pub current: Vec<TrustView>,
    /// Active devices that had not committed the staged trust (retired
    /// with --force: they will not connect once the broker switched).
    pub not_updated: Vec<String>,
    /// espmqtt.toml still names trust that is now retired (what `probe`
    /// without `--staged-trust` checks).
    pub config_names_retired: bool,
}

/// `trust retire`: the staged trust becomes the current one and the old
/// current trust is no longer given to devices (the next push removes it).
/// Refused (exit 1, nothing changed) while active devices have not
/// committed a config carrying the staged trust, unless `force`.
pub fn retire_trust(paths: &ProjectPaths, force: bool) -> Result<RetireReport> {
    let config = paths.load_config()?;
    let reg = Registry::open(paths)?;
    let at = now();
    let staged: Vec<String> = reg
        .trust()?
        .iter()
        .filter(|t| t.state == TrustState::Next)
        .map(|t| t.material.clone())
        .collect();
    let mut not_updated = Vec::new();
    for s in reg.update_states()? {
        let has = TrustSet::parse(s.committed_trust.as_deref())
            .is_some_and(|set| staged.iter().all(|m| set.material.contains(m)));
        if !s.revoked && !has {
            not_updated.push(s.name);
        }
    }
    if !staged.is_empty() && !not_updated.is_empty() && !force {
        return Err(Error::check_failed(format!(
            "{} device(s) have not committed the staged trust: {}",
            not_updated.len(),
            first_names(&not_updated, 10)
        ))
        .with_help(
            "push and wait for them (`espmqtt device push --all`), or retire anyway with \
             --force: those devices will not connect after the broker switched",
        ));
    }
    let mut retired = Vec::new();
    let items = reg.modify_trust(&mut |items| {
        if !items.iter().any(|t| t.state == TrustState::Next) {
            return Err(Error::usage("no next trust is staged: nothing to retire")
                .with_help("stage the next certificate first: `espmqtt trust stage --pem FILE`"));
        }
        retired.clear();
        for t in items.iter_mut() {
            match t.state {
                TrustState::Current => {
                    t.state = TrustState::Retired;
                    t.retired_at = Some(at.clone());
                    retired.push(t.clone());
                }
                TrustState::Next => t.state = TrustState::Current,
                TrustState::Retired => {}
            }
        }
        let current: Vec<TrustItem> = items
            .iter()
            .filter(|t| t.state == TrustState::Current)
            .cloned()
            .collect();
        Ok(vec![(
            "trust-retired".into(),
            format!(
                "retired {}; current: {}",
                labels(&retired),
                labels(&current)
            ),
        )])
    })?;
    let named: Vec<String> = seed_from_config(&config, &paths.root, &at)
        .map(|items| items.into_iter().map(|t| t.material).collect())
        .unwrap_or_default();
    Ok(RetireReport {
        mode: config.tls.trust.as_str().to_string(),
        config_names_retired: retired.iter().any(|t| named.contains(&t.material)),
        retired: retired.iter().map(TrustView::from).collect(),
        current: items
            .iter()
            .filter(|t| t.state == TrustState::Current)
            .map(TrustView::from)
            .collect(),
        not_updated,
    })
}

// ---------------------------------------------------------------------------
// A device's config, as pushed.

/// Everything a device's config is made of that is the same for the whole
/// fleet: `espmqtt.toml`, the Wi-Fi password, the trust served.
pub struct Fleet {
    pub config: ProjectConfig,
    pub wifi_password: Option<String>,
    pub trust: TrustMaterial,
}

impl Fleet {
    pub fn load(paths: &ProjectPaths, reg: &Registry) -> Result<Fleet> {
        let config = paths.load_config()?;
        let trust = served_trust(&config, &paths.root, reg)?;
        let wifi_password = config.wifi.resolve_password()?;
        Ok(Fleet {
            config,
            wifi_password,
            trust,
        })
    }

    /// The trust a config built now carries.
    pub fn trust_set(&self) -> TrustSet {
        let material = match self.config.tls.trust {
            TrustMode::Fingerprint => self.trust.fingerprints.iter().map(hex::encode).collect(),
            TrustMode::Pubkey => self.trust.pubkey_der.iter().map(hex::encode).collect(),
            TrustMode::Ca => self.trust.anchors_der.iter().map(hex::encode).collect(),
            TrustMode::Insecure => Vec::new(),
        };
        TrustSet {
            mode: self.config.tls.trust.as_str().to_string(),
            material,
        }
    }
}

/// The config device `rec` should hold now, with the password and update
/// key it is being moved to (if any), and its digest (SHA-256 of the blob
/// without an update number).
pub fn desired_config(
    fleet: &Fleet,
    rec: &DeviceRecord,
    next_secret: Option<&str>,
    key: &crate::device::update_key::UpdateKey,
) -> Result<(ConfigBlob, String)> {
    let mut id = DeviceIdentity::from_record(rec)?;
    if let Some(s) = next_secret {
        id.password = Some(s.to_string());
    }
    id.update_key = Some(key.clone());
    let blob = build_blob(
        &fleet.config,
        fleet.wifi_password.as_deref(),
        &id,
        &fleet.trust,
    )?;
    let bytes = blob.encode()?;
    if bytes.len() > update::MAX_PUSH_BLOB_LEN {
        return Err(Error::usage(format!(
            "{}: the config is {} bytes, more than the {} a device takes over the air",
            rec.name,
            bytes.len(),
            update::MAX_PUSH_BLOB_LEN
        ))
        .with_help("make the config smaller (fewer CA certificates), or flash it over serial"));
    }
    Ok((blob, hex::encode(cert::sha256(&bytes))))
}

// ---------------------------------------------------------------------------
// Push and acknowledgements.

/// What the push waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitFor {
    /// Publish and return.
    Nothing,
    /// Until every device has staged its update.
    Staged,
    /// Until every device has committed it.
    Committed,
}

#[derive(Debug, Clone)]
pub struct PushOptions {
    pub names: Vec<String>,
    pub wait: WaitFor,
    /// How long to wait for acknowledgements.
    pub deadline: Duration,
    /// Rotate these devices' MQTT passwords with this push.
    pub rotate_password: bool,
    /// Give these devices a new update key with this push.
    pub rotate_key: bool,
    pub dry_run: bool,
}

/// One device's line in a push report.
#[derive(Debug, Clone, Serialize)]
pub struct PushedDevice {
    pub name: String,
    pub client_id: String,
    /// `up_to_date`, `published` (a new update), `republished` (the same
    /// pending update again), `would_publish` (dry run), `revoked`.
    pub action: String,
    pub update: Option<u32>,
    /// The device's answer: `staged`, `committed`, `rolled_back`,
    /// `rejected`, or `none` when it did not answer in time.
    pub result: String,
    pub reason: String,
}

impl PushedDevice {
    /// Settled for `wait`: nothing more will come or nothing more is wanted.
    fn settled(&self, wait: WaitFor) -> bool {
        match self.result.as_str() {
            "committed" | "rejected" | "rolled_back" => true,
            "staged" => wait == WaitFor::Staged,
            _ => self.update.is_none() || wait == WaitFor::Nothing,
        }
    }

    /// The push did what it should for this device.
    pub fn ok(&self, wait: WaitFor) -> bool {
        match self.result.as_str() {
            "rejected" | "rolled_back" => false,
            "committed" => true,
            "staged" => wait != WaitFor::Committed,
            _ => self.update.is_none() || wait == WaitFor::Nothing,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct PushReport {
    pub broker: String,
    pub wait: WaitFor,
    pub dry_run: bool,
    pub devices: Vec<PushedDevice>,
    pub published: usize,
    pub up_to_date: usize,
    pub timed_out: bool,
    /// The wait was interrupted (Ctrl-C): what was heard until then is in
    /// the report and in the registry; the updates stay retained.
    pub interrupted: bool,
}

/// Progress of a push, for the CLI's bar.
pub trait PushProgress: Steps {
    /// The updates are published; the wait for acknowledgements begins.
    fn published(&self, _total: usize) {}
    fn acknowledged(&self, _device: &PushedDevice, _settled: usize, _total: usize) {}
    /// Stop waiting now (the user interrupted): polled while waiting.
    fn interrupted(&self) -> bool {
        false
    }
}

/// Nothing reported.
pub struct NoPushProgress;
impl Steps for NoPushProgress {}
impl PushProgress for NoPushProgress {}

/// One step of a trust or push operation, for `-v`: the CLI prints it on
/// stderr (nothing here prints).
#[derive(Debug, Clone)]
pub enum Step {
    /// `what` finished; it started at the instant given.
    Timed(String, Instant),
    /// A decision, a file or database touched, an acknowledgement.
    Detail(String),
    /// Protocol level: each message sent or received.
    Trace(String),
}

/// Where the steps of an operation go.
pub trait Steps {
    fn step(&self, _s: Step) {}
}

/// Steps nobody looks at.
pub struct NoSteps;
impl Steps for NoSteps {}

fn timed(steps: &dyn Steps, what: impl Into<String>, since: Instant) {
    steps.step(Step::Timed(what.into(), since));
}

fn detail(steps: &dyn Steps, what: impl Into<String>) {
    steps.step(Step::Detail(what.into()));
}

/// Push every named device's pending config (one update per device whose
/// config changed; the same update again when it is still pending), wait
/// for the acknowledgements as `opts.wait` says, record them.
///
/// Nothing is recorded before the broker accepted the operator: the push
/// first decides from the registry whether it has anything to publish,
/// then connects and takes in what the devices said meanwhile (their
/// retained acknowledgements), and only then numbers the updates, so a
/// push that cannot connect leaves the registry as it was and a device
/// that committed since the last push is not reported `busy`.
pub fn push(
    paths: &ProjectPaths,
    op: &Operator,
    opts: &PushOptions,
    progress: &dyn PushProgress,
) -> Result<PushReport> {
    let t = Instant::now();
    let reg = Registry::open(paths)?;
    let fleet = Fleet::load(paths, &reg)?;
    timed(
        progress,
        "load espmqtt.toml, the registry and the trust served",
        t,
    );
    let prefix = fleet.config.mqtt.topic_prefix.clone();
    let trust_json = fleet.trust_set().to_json();
    let plan = |dry: bool, steps: &dyn Steps| {
        let t = Instant::now();
        let r = plan(&reg, &fleet, &trust_json, opts, dry, steps);
        timed(
            steps,
            format!(
                "build and number the configs of {} device(s)",
                opts.names.len()
            ),
            t,
        );
        r
    };
    // What the registry says now, recording nothing.
    let (lines, _) = plan(true, if opts.dry_run { progress } else { &NoSteps })?;
    let needs_broker = lines
        .iter()
        .any(|l| l.update.is_some() || l.action == "busy");
    if opts.dry_run || !needs_broker {
        return Ok(PushReport::new(op, opts, lines));
    }
    let mut link = connect(op, progress)?;
    let t = Instant::now();
    let filters = listen_filters(&prefix);
    let mut early = link.subscribe(&filters)?;
    // Retained acknowledgements follow the SUBACK at once, in one burst.
    loop {
        let got = link.receive(Instant::now() + RETAINED_BURST)?;
        if got.is_empty() {
            break;
        }
        early.extend(got);
    }
    timed(progress, format!("subscribe to {}", filters.join(", ")), t);
    detail(
        progress,
        format!(
            "{} retained message(s) heard before deciding what to publish",
            early.len()
        ),
    );
    let mut ears = Ears::new(&reg, &prefix, false)?;
    let (early_acks, clear) = ears.record(&early, progress)?;
    ears.clear(&mut link, clear, progress)?;
    let (lines, messages) = plan(false, progress)?;
    let mut report = PushReport::new(op, opts, lines);
    if report.published > 0 {
        deliver(
            &mut link,
            &mut ears,
            &messages,
            early_acks,
            opts,
            &mut report,
            progress,
        )?;
    }
    let t = Instant::now();
    link.close();
    timed(progress, "disconnect", t);
    Ok(report)
}

/// A message to publish retained: topic and payload.
type Message = (String, Vec<u8>);

/// An acknowledgement heard: the client id and what it said.
type Heard = (String, Ack);

/// How long the push listens for the retained acknowledgements that follow
/// a subscription before it decides.
const RETAINED_BURST: Duration = Duration::from_millis(300);

impl PushReport {
    fn new(op: &Operator, opts: &PushOptions, lines: Vec<PushedDevice>) -> PushReport {
        PushReport {
            broker: op.target.display(),
            wait: opts.wait,
            dry_run: opts.dry_run,
            published: lines.iter().filter(|l| l.update.is_some()).count(),
            up_to_date: lines.iter().filter(|l| l.action == "up_to_date").count(),
            devices: lines,
            timed_out: false,
            interrupted: false,
        }
    }
}

/// Connect as the operator. A broker that cannot be reached gets a help
/// line saying that nothing was published or recorded.
fn connect(op: &Operator, steps: &dyn Steps) -> Result<Link> {
    let t = Instant::now();
    let link = Link::connect(op).map_err(|e| {
        if e.help.is_some() {
            return e;
        }
        e.with_help(
            "nothing was published or recorded; check the address (--broker, [operator] broker) \
             and run the same command again once the broker is reachable",
        )
    })?;
    let who = op.username.as_deref().unwrap_or("(anonymous)");
    timed(
        steps,
        format!("connect to {} as {who}", op.target.display()),
        t,
    );
    Ok(link)
}

/// Each named device's line and its update message. `dry`: decided from
/// the registry as it is, nothing recorded, no message built.
fn plan(
    reg: &Registry,
    fleet: &Fleet,
    trust_json: &str,
    opts: &PushOptions,
    dry: bool,
    steps: &dyn Steps,
) -> Result<(Vec<PushedDevice>, Vec<Message>)> {
    let prefix = &fleet.config.mqtt.topic_prefix;
    let mut lines = Vec::new();
    let mut messages = Vec::new();
    for name in &opts.names {
        let rec = reg.device(name)?;
        let mut line = PushedDevice {
            name: rec.name.clone(),
            client_id: rec.client_id.clone(),
            action: "up_to_date".into(),
            update: None,
            result: "none".into(),
            reason: String::new(),
        };
        if rec.revoked {
            line.action = "revoked".into();
            lines.push(line);
            continue;
        }
        let (issued, msg) = match issue_one(reg, fleet, &rec, trust_json, opts, dry) {
            Ok(x) => x,
            // Busy (an update is staged): this device waits, the others go.
            Err(e) if e.kind == crate::error::ErrorKind::CheckFailed => {
                detail(steps, format!("{}: busy, {}", rec.name, e.message));
                line.action = "busy".into();
                line.reason = e.message;
                lines.push(line);
                continue;
            }
            Err(e) => return Err(e),
        };
        detail(steps, format!("{}: {}", rec.name, describe(issued, dry)));
        if let Issued::Pending(n) | Issued::New(n) = issued {
            line.update = Some(n);
            line.action = match (opts.dry_run, issued) {
                (true, _) => "would_publish",
                (false, Issued::New(_)) => "published",
                _ => "republished",
            }
            .into();
            if let Some(m) = msg {
                messages.push((update::config_topic(prefix, &rec.client_id), m));
            }
        }
        lines.push(line);
    }
    Ok((lines, messages))
}

/// What the registry decided for one device, in words.
fn describe(issued: Issued, dry_run: bool) -> String {
    match (issued, dry_run) {
        (Issued::UpToDate, _) => "up to date: it committed this config".into(),
        (Issued::New(n), true) => format!("would be update {n} (dry run: nothing recorded)"),
        (Issued::New(n), false) => format!("update {n} issued in the registry"),
        (Issued::Pending(n), _) => format!("update {n} is still pending: the same message again"),
    }
}

/// Publish the messages, then listen for the acknowledgements until every
/// line is settled for `opts.wait`, the deadline passed or the user
/// interrupted. `early`: the acknowledgements heard before publishing.
fn deliver(
    link: &mut Link,
    ears: &mut Ears,
    messages: &[(String, Vec<u8>)],
    early: Vec<Heard>,
    opts: &PushOptions,
    report: &mut PushReport,
    progress: &dyn PushProgress,
) -> Result<()> {
    for (topic, m) in messages {
        progress.step(Step::Trace(format!(
            "PUBLISH {topic}: {} bytes, retained, QoS 1",
            m.len()
        )));
    }
    let t = Instant::now();
    let during = link.publish_retained(messages)?;
    timed(
        progress,
        format!(
            "publish {} update(s), every PUBACK received",
            messages.len()
        ),
        t,
    );
    progress.published(messages.len());
    ears.since = Instant::now();
    let (mut acks, clear) = ears.record(&during, progress)?;
    let mut heard = early;
    heard.append(&mut acks);
    follow(report, &heard, ears.since, progress);
    ears.clear(link, clear, progress)?;
    let deadline = Instant::now() + opts.deadline;
    let t = Instant::now();
    while opts.wait != WaitFor::Nothing && !report.devices.iter().all(|d| d.settled(opts.wait)) {
        if progress.interrupted() {
            report.interrupted = true;
            break;
        }
        if Instant::now() >= deadline {
            report.timed_out = true;
            break;
        }
        // Short slices, so an interruption is seen at once.
        let got = link.receive(deadline.min(Instant::now() + Duration::from_millis(200)))?;
        let (acks, clear) = ears.record(&got, progress)?;
        follow(report, &acks, ears.since, progress);
        ears.clear(link, clear, progress)?;
    }
    if opts.wait != WaitFor::Nothing {
        let outcome = if report.interrupted {
            "interrupted"
        } else if report.timed_out {
            "deadline passed"
        } else {
            "all settled"
        };
        timed(
            progress,
            format!("wait for acknowledgements ({outcome})"),
            t,
        );
    }
    Ok(())
}

/// The pushed devices' lines follow their acknowledgements (those for the
/// update the push published; older ones are only in the registry).
fn follow(report: &mut PushReport, acks: &[Heard], since: Instant, progress: &dyn PushProgress) {
    for (client, ack) in acks {
        let Some(i) = report.devices.iter().position(|d| &d.client_id == client) else {
            continue;
        };
        let line = &mut report.devices[i];
        if Some(ack.update) != line.update {
            continue;
        }
        line.result = ack.result.as_str().to_string();
        line.reason = ack.reason.clone();
        detail(
            progress,
            format!(
                "{}: update {} {}{} after {:.0} ms (recorded in the registry)",
                line.name,
                ack.update,
                line.result,
                if ack.reason.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", ack.reason)
                },
                since.elapsed().as_secs_f64() * 1000.0
            ),
        );
        let settled = report
            .devices
            .iter()
            .filter(|d| d.update.is_some() && d.settled(report.wait))
            .count();
        progress.acknowledged(&report.devices[i], settled, report.published);
    }
}

/// Issue (or find) the update for one device and build its message.
/// `dry`: decided on a copy of the device's update state, as a real push
/// would decide (a rotation counts as a new update), nothing recorded.
fn issue_one(
    reg: &Registry,
    fleet: &Fleet,
    rec: &DeviceRecord,
    trust_json: &str,
    opts: &PushOptions,
    dry: bool,
) -> Result<(Issued, Option<Vec<u8>>)> {
    let at = now();
    let mut built: Option<(ConfigBlob, crate::device::update_key::UpdateKey)> = None;
    let mut issued = Issued::UpToDate;
    let mut work = |s: &mut UpdateState| -> Result<Transition> {
        let mut summary = format!("{} trust", fleet.config.tls.trust.as_str());
        if opts.rotate_password && s.next_secret.is_none() {
            s.next_secret = Some(crate::device::secret::generate()?);
        }
        if opts.rotate_key && s.next_key.is_none() {
            s.next_key = Some(crate::device::update_key::UpdateKey::generate()?);
        }
        if s.next_secret.is_some() {
            summary.push_str("; new MQTT password");
        }
        if s.next_key.is_some() {
            summary.push_str("; new update key");
        }
        let key = s.next_key.clone().unwrap_or_else(|| s.key.clone());
        let (blob, digest) = desired_config(fleet, rec, s.next_secret.as_deref(), &key)?;
        let (i, t) = s.issue(&digest, Some(trust_json), &at, &summary)?;
        issued = i;
        built = Some((blob, s.key.clone()));
        Ok(t)
    };
    if dry {
        let mut copy = reg.update_state(&rec.name)?;
        work(&mut copy)?;
        return Ok((issued, None));
    }
    reg.modify_update(&rec.name, &mut work)?;
    let msg = match (issued, built) {
        (Issued::New(n) | Issued::Pending(n), Some((mut blob, key))) => {
            blob.config_version = n;
            let bytes = blob.encode()?;
            Some(update::encode_message(&rec.client_id, n, &bytes, &key)?)
        }
        _ => None,
    };
    Ok((issued, msg))
}

/// The topics the operator listens on.
pub fn listen_filters(prefix: &str) -> Vec<String> {
    vec![
        format!("{prefix}/+/config/ack"),
        format!("{prefix}/+/heartbeat"),
    ]
}

/// The client id in `<prefix>/<client_id>/<leaf>`, when `topic` has that
/// shape.
fn client_of<'a>(prefix: &str, topic: &'a str, leaf: &str) -> Option<&'a str> {
    topic
        .strip_prefix(prefix)?
        .strip_prefix('/')?
        .strip_suffix(leaf)?
        .strip_suffix('/')
}

/// What the operator hears on the broker: every device's acknowledgements
/// and heartbeats go into the registry (a push and `device updates
/// --refresh` alike).
struct Ears<'a> {
    reg: &'a Registry,
    prefix: String,
    /// client id → device name, the whole fleet.
    fleet: HashMap<String, String>,
    /// Devices whose heartbeat was recorded in this session.
    seen: std::collections::HashSet<String>,
    /// Config topics cleared in this session, with the committed number.
    cleared: std::collections::HashSet<(String, u32)>,
    /// Also clear the update of a commit the registry already recorded.
    clear_heard_again: bool,
    /// When the updates were published (acknowledgement times count from it).
    since: Instant,
}

impl<'a> Ears<'a> {
    fn new(reg: &'a Registry, prefix: &str, clear_heard_again: bool) -> Result<Ears<'a>> {
        Ok(Ears {
            reg,
            prefix: prefix.to_string(),
            fleet: reg
                .update_states()?
                .into_iter()
                .map(|s| (s.client_id, s.name))
                .collect(),
            seen: Default::default(),
            cleared: Default::default(),
            clear_heard_again,
            since: Instant::now(),
        })
    }

    /// Record what arrived. Returns every acknowledgement (client id, ack)
    /// and the retained updates to clear: those of devices that committed
    /// them, with nothing newer pending (they may carry a password).
    ///
    /// An acknowledgement the registry already holds as the device's last
    /// one is a retained copy delivered again on subscribing: it is not
    /// recorded a second time, so "last ack" and "last seen" keep the time
    /// the device actually spoke.
    fn record(
        &mut self,
        got: &[Incoming],
        steps: &dyn Steps,
    ) -> Result<(Vec<Heard>, Vec<Message>)> {
        let mut acks = Vec::new();
        let mut clear = Vec::new();
        for m in got {
            steps.step(Step::Trace(format!(
                "received {}: {}",
                m.topic,
                String::from_utf8_lossy(&m.payload).trim()
            )));
            let heartbeat = client_of(&self.prefix, &m.topic, "heartbeat");
            let Some(client) = client_of(&self.prefix, &m.topic, "config/ack").or(heartbeat) else {
                continue;
            };
            let Some(name) = self.fleet.get(client).cloned() else {
                continue;
            };
            if heartbeat.is_some() {
                if self.seen.insert(name.clone()) {
                    let at = now();
                    self.reg.modify_update(&name, &mut |s| {
                        s.last_seen_at = Some(at.clone());
                        Ok(Transition::none())
                    })?;
                }
                continue;
            }
            let Some(ack) = Ack::parse(&m.payload) else {
                continue;
            };
            let at = now();
            let line = ack.to_line();
            let mut fresh = false;
            let s = self.reg.modify_update(&name, &mut |s| {
                fresh = s.last_ack.as_deref() != Some(line.as_str());
                Ok(if fresh {
                    s.apply_ack(&ack, &at)
                } else {
                    Transition::none()
                })
            })?;
            // A commit heard again was cleared when it was first heard;
            // `device updates --refresh` clears it again all the same (in
            // case that session ended before it could).
            let topic = update::config_topic(&self.prefix, client);
            if ack.result == AckResult::Committed
                && s.committed == ack.update
                && s.pending.is_none()
                && (fresh || self.clear_heard_again)
                && self.cleared.insert((topic.clone(), ack.update))
            {
                clear.push((topic, Vec::new()));
            }
            acks.push((client.to_string(), ack));
        }
        Ok((acks, clear))
    }

    /// Clear the retained updates of devices that committed them.
    fn clear(
        &self,
        link: &mut Link,
        clear: Vec<(String, Vec<u8>)>,
        steps: &dyn Steps,
    ) -> Result<()> {
        if clear.is_empty() {
            return Ok(());
        }
        let t = Instant::now();
        link.publish_retained(&clear)?;
        timed(
            steps,
            format!("clear {} committed update(s) from the broker", clear.len()),
            t,
        );
        Ok(())
    }
}

/// One device's line in the fleet status view.
#[derive(Debug, Clone, Serialize)]
pub struct StatusLine {
    pub name: String,
    pub phase: String,
    pub committed: u32,
    pub staged: Option<u32>,
    pub pending: Option<u32>,
    pub last_ack: Option<serde_json::Value>,
    pub last_ack_at: Option<String>,
    pub last_seen_at: Option<String>,
    /// The device's committed config carries the trust served now.
    pub trust_current: Option<bool>,
}

/// The fleet's update status (`names`: these devices, each of which must
/// exist), optionally after listening to the broker for `refresh`
/// (retained acknowledgements arrive at once): what the devices said is
/// recorded, and the retained update of a device that committed it is
/// cleared, as a push does.
pub fn status(
    paths: &ProjectPaths,
    names: Option<&[String]>,
    refresh: Option<(&Operator, Duration)>,
    steps: &dyn Steps,
) -> Result<Vec<StatusLine>> {
    let reg = Registry::open(paths)?;
    let config = paths.load_config()?;
    for n in names.unwrap_or_default() {
        reg.device(n)?;
    }
    if let Some((op, listen)) = refresh {
        let prefix = config.mqtt.topic_prefix.clone();
        let mut ears = Ears::new(&reg, &prefix, true)?;
        let mut link = connect(op, steps)?;
        let t = Instant::now();
        let mut got = link.subscribe(&listen_filters(&prefix))?;
        let until = Instant::now() + listen;
        let mut heard = 0;
        loop {
            heard += got.len();
            let (_, clear) = ears.record(&got, steps)?;
            ears.clear(&mut link, clear, steps)?;
            if Instant::now() >= until {
                break;
            }
            got = link.receive(until)?;
        }
        timed(
            steps,
            format!("listen to {} ({heard} message(s))", op.target.display()),
            t,
        );
        link.close();
    }
    let served = served_trust(&config, &paths.root, &reg)
        .ok()
        .map(|t| Fleet {
            config: config.clone(),
            wifi_password: None,
            trust: t,
        })
        .map(|f| f.trust_set());
    let mut out = Vec::new();
    for s in reg.update_states()? {
        if names.is_some_and(|n| !n.contains(&s.name)) {
            continue;
        }
        let committed_trust = TrustSet::parse(s.committed_trust.as_deref());
        out.push(StatusLine {
            name: s.name.clone(),
            phase: s.phase().to_string(),
            committed: s.committed,
            staged: s.staged,
            pending: s.pending,
            last_ack: s
                .last_ack
                .as_deref()
                .and_then(|l| serde_json::from_str(l).ok()),
            last_ack_at: s.last_ack_at.clone(),
            last_seen_at: s.last_seen_at.clone(),
            trust_current: match (&served, committed_trust) {
                (Some(a), Some(b)) => Some(a.material.iter().all(|m| b.material.contains(m))),
                _ => None,
            },
        });
    }
    Ok(out)
}
