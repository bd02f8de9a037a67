//! "Will my fleet survive the switch?" (`probe --staged-trust`,
//! `docs/OTA.md`): for each device, whether the trust of its committed
//! config and of its staged (or pending) update accepts the broker's
//! current chain — a real handshake with the device's own TLS engine — and
//! whether either accepts the staged *next* certificate, checked offline
//! against the chain `trust stage` recorded.
//!
//! Identical trust is checked once: a fleet that shares its trust costs one
//! handshake per distinct configuration, not one per device.

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

use crate::device::blob::buffers_for_mfln;
use crate::device::registry::ota::{TrustSet, TrustState, VIA_SERIAL};
use crate::device::registry::Registry;
use crate::error::{Error, Result};
use crate::project::ProjectPaths;
use crate::tls::clienthello::CipherBuild;
use crate::tls::engine::{self, Anchor, DeviceTls, DeviceTrust};
use crate::tls::{cert, TrustMode};

/// One configuration's verdicts.
#[derive(Debug, Clone, Serialize)]
pub struct TrustCheck {
    /// `committed update N`, `serial flash`, `staged update N`, `pending update N`.
    pub config: String,
    /// The device's TLS engine completed a handshake with the broker now.
    pub accepts_current: bool,
    /// BearSSL's error when it did not (0 when it did).
    pub tls_error: i32,
    /// Why no handshake ran (network), when none did.
    pub error: Option<String>,
    /// Whether it accepts the staged next certificate (`None`: nothing staged).
    pub accepts_next: Option<bool>,
}

/// One device's forecast.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceForecast {
    pub name: String,
    pub committed: TrustCheck,
    pub staged: Option<TrustCheck>,
    /// Its committed or staged trust accepts the next certificate, and the
    /// one that does also accepts the current broker (it connects today and
    /// after the switch). `None` when nothing is staged.
    pub survives_switch: Option<bool>,
}

impl DeviceForecast {
    /// Its committed config, or the update it staged, connects to the
    /// broker now.
    pub fn connects_now(&self) -> bool {
        self.committed.accepts_current || self.staged.as_ref().is_some_and(|s| s.accepts_current)
    }
}

/// The fleet's forecast.
#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    pub broker: String,
    pub next_staged: bool,
    pub devices: Vec<DeviceForecast>,
    /// Every device connects now, and (when something is staged) survives
    /// the switch.
    pub ok: bool,
}

/// The trust assumed for a config written over serial that the registry
/// holds no record of (written with esptool, or before serial flashes were
/// recorded): the project's current trust (without the staged next).
fn current_only(reg: &Registry, paths: &ProjectPaths) -> Result<TrustSet> {
    let config = paths.load_config()?;
    let items = reg.trust()?;
    if items.iter().any(|t| t.state == TrustState::Current) {
        return Ok(TrustSet {
            mode: config.tls.trust.as_str().to_string(),
            material: items
                .iter()
                .filter(|t| t.state == TrustState::Current)
                .map(|t| t.material.clone())
                .collect(),
        });
    }
    let m = crate::device::blob::TrustMaterial::resolve(&config, &paths.root)?;
    let material = match config.tls.trust {
        TrustMode::Fingerprint => m.fingerprints.iter().map(hex::encode).collect(),
        TrustMode::Pubkey => m.pubkey_der.iter().map(hex::encode).collect(),
        TrustMode::Ca => m.anchors_der.iter().map(hex::encode).collect(),
        TrustMode::Insecure => Vec::new(),
    };
    Ok(TrustSet {
        mode: config.tls.trust.as_str().to_string(),
        material,
    })
}

fn device_trust(set: &TrustSet) -> DeviceTrust {
    let bytes: Vec<Vec<u8>> = set
        .material
        .iter()
        .filter_map(|m| hex::decode(m).ok())
        .collect();
    let mode = match set.mode.as_str() {
        "pubkey" => TrustMode::Pubkey,
        "fingerprint" => TrustMode::Fingerprint,
        "insecure" => TrustMode::Insecure,
        _ => TrustMode::Ca,
    };
    DeviceTrust {
        mode,
        anchors: if mode == TrustMode::Ca {
            bytes.iter().cloned().map(Anchor::Certificate).collect()
        } else {
            Vec::new()
        },
        fingerprints: bytes
            .iter()
            .filter_map(|b| <[u8; 20]>::try_from(b.as_slice()).ok())
            .collect(),
        pubkey_spki: bytes.first().cloned().filter(|_| mode == TrustMode::Pubkey),
        time: cert::unix_now(),
    }
}

/// Whether `set` accepts `chain` (leaf first) the way BearSSL decides: the
/// leaf's SHA-1 (fingerprint), its key (pubkey), or a certificate of the
/// chain that is an anchor or is issued by one (ca; names compared as
/// BearSSL compares them, signatures and dates are not checked here).
pub fn accepts_chain(set: &TrustSet, chain: &[Vec<u8>]) -> bool {
    let Some(leaf) = chain.first() else {
        return false;
    };
    match set.mode.as_str() {
        "fingerprint" => set.material.contains(&hex::encode(cert::sha1(leaf))),
        "pubkey" => cert::spki_der(leaf).is_ok_and(|k| set.material.contains(&hex::encode(k))),
        "insecure" => true,
        _ => {
            let anchors: Vec<Anchor> = set
                .material
                .iter()
                .filter_map(|m| hex::decode(m).ok())
                .map(Anchor::Certificate)
                .collect();
            let subjects: Vec<Vec<u8>> = anchors.iter().filter_map(Anchor::subject).collect();
            chain.iter().any(|c| {
                set.material.contains(&hex::encode(c))
                    || x509_parser::parse_x509_certificate(c)
                        .map(|(_, x)| subjects.iter().any(|s| s == x.issuer().as_raw()))
                        .unwrap_or(false)
            })
        }
    }
}

/// The chains `trust stage` recorded for the next trust.
fn next_chains(reg: &Registry) -> Result<Vec<Vec<Vec<u8>>>> {
    let mut out: Vec<Vec<Vec<u8>>> = Vec::new();
    for t in reg.trust()? {
        if t.state != TrustState::Next {
            continue;
        }
        if let Some(pem) = &t.chain {
            if let Ok(c) = cert::load_certificates(pem.as_bytes()) {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
    }
    Ok(out)
}

/// No handshake ran at all because the broker is not there: exit 3, which
/// says nothing about the devices' trust.
fn unreachable(verdicts: &[engine::Verdict]) -> Option<Error> {
    let errors: Vec<_> = verdicts
        .iter()
        .map(|v| v.error.as_ref())
        .collect::<Option<_>>()?;
    let Some(engine::ConnectError::Net(n)) = errors.first() else {
        return None;
    };
    Some(Error::unreachable(n.to_string()).with_help(format!(
        "{}; the forecast needs the broker the devices connect to now (give it as HOST:PORT \
         after --staged-trust when it is not [broker] in espmqtt.toml)",
        n.help()
    )))
}

/// The trust of the config `name` runs now, as the registry knows it: its
/// committed update's, or what a recorded serial flash wrote; `None` when
/// the registry holds no record (the device runs what espmqtt.toml says).
/// Returns a label for messages (`committed update 4`, `serial flash`).
pub fn running_trust(reg: &Registry, name: &str) -> Result<Option<(String, DeviceTrust)>> {
    let Some(s) = reg.update_states()?.into_iter().find(|s| s.name == name) else {
        return Ok(None);
    };
    let Some(set) = TrustSet::parse(s.committed_trust.as_deref()) else {
        return Ok(None);
    };
    let label = if s.committed_via.as_deref() == Some(VIA_SERIAL) {
        "serial flash".to_string()
    } else if s.committed > 0 {
        format!("committed update {}", s.committed)
    } else {
        return Ok(None);
    };
    Ok(Some((label, device_trust(&set))))
}

/// Forecast for `names` (all active devices when `None`) against the
/// broker at `host:port`.
pub fn forecast(
    paths: &ProjectPaths,
    names: Option<&[String]>,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<Forecast> {
    let reg = Registry::open(paths)?;
    let config = paths.load_config()?;
    for n in names.unwrap_or_default() {
        reg.device(n)?;
    }
    // espmqtt.toml and the registry must agree on the trust mode, or the
    // forecast would judge one mode's material with the other's rules.
    super::ota::served_trust(&config, &paths.root, &reg)?;
    let serial = current_only(&reg, paths)?;
    let next_chains = next_chains(&reg)?;
    let next_staged = !next_chains.is_empty();
    let base = DeviceTls {
        ciphers: if config.tls.ciphers.eq_ignore_ascii_case("basic") {
            CipherBuild::Basic
        } else {
            CipherBuild::All
        },
        versions: (crate::device::blob::TLS10, crate::device::blob::TLS12),
        buffers: buffers_for_mfln(config.tls.mfln),
        trust: DeviceTrust::default(),
        client: None,
        server_name: Some(
            config
                .broker
                .servername
                .clone()
                .unwrap_or_else(|| config.broker.host.clone()),
        ),
    };
    // Per device: (label, set) of its committed config and of its update;
    // distinct sets are checked once.
    type Labelled = (String, TrustSet);
    let mut plan: Vec<(String, Labelled, Option<Labelled>)> = Vec::new();
    for s in reg.update_states()? {
        if s.revoked || names.is_some_and(|n| !n.contains(&s.name)) {
            continue;
        }
        let committed = match TrustSet::parse(s.committed_trust.as_deref()) {
            // A serial flash recorded what it wrote (docs/OTA.md, "Serial flashes").
            Some(t) if s.committed_via.as_deref() == Some(VIA_SERIAL) => {
                ("serial flash".to_string(), t)
            }
            Some(t) if s.committed > 0 => (format!("committed update {}", s.committed), t),
            _ => ("serial flash".to_string(), serial.clone()),
        };
        let staged = match (s.pending, TrustSet::parse(s.pending_trust.as_deref())) {
            (Some(n), Some(t)) => Some((
                if s.staged == Some(n) {
                    format!("staged update {n}")
                } else {
                    format!("pending update {n}")
                },
                t,
            )),
            _ => None,
        };
        plan.push((s.name.clone(), committed, staged));
    }
    let mut distinct: Vec<TrustSet> = Vec::new();
    for (_, c, s) in &plan {
        for set in std::iter::once(&c.1).chain(s.as_ref().map(|x| &x.1)) {
            if !distinct.contains(set) {
                distinct.push(set.clone());
            }
        }
    }
    let configs: Vec<DeviceTls> = distinct
        .iter()
        .map(|set| DeviceTls {
            trust: device_trust(set),
            ..base.clone()
        })
        .collect();
    let verdicts = engine::check(host, port, &configs, timeout);
    if let Some(e) = unreachable(&verdicts) {
        return Err(e);
    }
    let by_set: HashMap<String, &engine::Verdict> = distinct
        .iter()
        .map(TrustSet::to_json)
        .zip(verdicts.iter())
        .collect();
    let check = |label: &str, set: &TrustSet| -> TrustCheck {
        let v = by_set.get(&set.to_json());
        TrustCheck {
            config: label.to_string(),
            accepts_current: v.is_some_and(|v| v.accepted()),
            tls_error: v
                .and_then(|v| v.handshake.as_ref())
                .map(|h| h.error)
                .unwrap_or(0),
            error: v.and_then(|v| v.error.as_ref()).map(|e| e.to_string()),
            accepts_next: next_staged.then(|| next_chains.iter().all(|c| accepts_chain(set, c))),
        }
    };
    let mut devices = Vec::new();
    for (name, (cl, cs), staged) in &plan {
        let committed = check(cl, cs);
        let staged = staged.as_ref().map(|(l, s)| check(l, s));
        let survives = next_staged.then(|| {
            // A pending update the device has not staged yet is not held.
            std::iter::once(&committed)
                .chain(staged.as_ref().filter(|c| c.config.starts_with("staged")))
                .any(|c| c.accepts_current && c.accepts_next == Some(true))
        });
        devices.push(DeviceForecast {
            name: name.clone(),
            committed,
            staged,
            survives_switch: survives,
        });
    }
    let ok = devices
        .iter()
        .all(|d| d.connects_now() && d.survives_switch != Some(false));
    Ok(Forecast {
        broker: format!("{host}:{port}"),
        next_staged,
        devices,
        ok,
    })
}
