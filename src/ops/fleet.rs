//! Fleet flashing: one worker thread per port, devices handed out by the
//! registry.
//!
//! Each worker repeats: connect to whatever module is on its port → read
//! its MAC → decide (a new module? bound to another device?) → claim the
//! next unflashed device → write firmware + that device's config blob →
//! verify every region → record the MAC. Decisions, and why:
//!
//! - The module is identified *before* a device is claimed. A port whose
//!   module has not been swapped yet (same MAC as the one it just flashed)
//!   therefore never holds a claim, so the other ports take the remaining
//!   devices instead of one port sitting on a device it cannot flash.
//! - Claims are [`crate::device::registry::RegistryBackend::claim_next_unflashed`]:
//!   one write transaction, so two threads, processes or stations (sharing
//!   a PostgreSQL registry) never get the same device. A claim carries a
//!   lease ([`claim_lease`]) that a heartbeat thread renews while the module
//!   is written; a station that dies mid-flash frees its devices when the
//!   lease lapses, and a station still waiting (`--wait`) takes them over.
//!   A flash whose claim lapsed meanwhile is not recorded.
//! - A flash is recorded only when every region verified (MD5 computed on
//!   the module). A failure releases the claim: the device goes back to the
//!   pool and is retried, up to [`FleetOptions::max_attempts`], then left
//!   unflashed and reported failed. Never recorded as flashed.
//! - "Next module plugged in" has no signal on a serial line (and none on
//!   `socket://`), so `--wait` polls: reconnect (= reset into the loader),
//!   sync, read the MAC, compare. An open or sync failure while waiting just
//!   means "no module in download mode yet".
//! - A module whose MAC is already bound to a device of the registry is
//!   refused unless `rebind`: re-flashing a provisioned module with another
//!   identity would leave two devices claiming one chip.
//! - The session that identified the module is the one that writes it (one
//!   connection per module), mirroring [`super::flasher::flash_module`]
//!   step by step; only the claim happens in between.
//!
//! Library code: events go to a callback, progress to one
//! [`Progress`] per port; nothing is printed here.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::device::registry::{DeviceRecord, Location, Registry, CLAIM_LEASE};
use crate::error::{Error, Result};
use crate::flash::flasher::{self, FlashOptions, Region, RegionReport, Session};
use crate::flash::layout;
use crate::progress::Progress;
use crate::project::ProjectPaths;
use crate::serial::transport::PortSpec;

use super::ota_serial::SerialBlob;

/// What to flash where.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub ports: Vec<PortSpec>,
    /// Device names, in the order they are handed out.
    pub devices: Vec<String>,
    /// Image written at 0x0 on every module; `None` = config blob only.
    pub firmware: Option<Vec<u8>>,
    pub flash: FlashOptions,
    /// Keep each port going: wait for the next module after a flash.
    pub wait: bool,
    /// Flash a module even if its MAC is bound to another device.
    pub rebind: bool,
    /// Pause between two looks at a port while waiting.
    pub poll: Duration,
    /// Give up on a port that showed no new module for this long
    /// (`None` = until the list is done).
    pub idle_timeout: Option<Duration>,
    /// Flash attempts per device before it is left unflashed.
    pub max_attempts: u32,
}

/// One thing that happened on one port, streamed as it happens
/// (`--format json`: one line each, tagged by `type`).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FleetEvent {
    /// A worker started on a port.
    PortStarted { port: String },
    /// The port has no new module: `reason` says what it saw.
    Waiting {
        port: String,
        mac: Option<String>,
        reason: String,
    },
    /// A module was refused (its MAC belongs to another device).
    Refused {
        port: String,
        mac: String,
        bound_to: String,
    },
    /// A device was claimed for the module on `port`.
    Started {
        port: String,
        device: String,
        mac: String,
        attempt: u32,
    },
    /// Written, verified and recorded.
    Flashed {
        port: String,
        device: String,
        mac: String,
        firmware_sha256: Option<String>,
        regions: Vec<RegionReport>,
        warnings: Vec<String>,
        /// MAC was bound to this device before (`rebind`).
        rebound_from: Option<String>,
        seconds: f64,
    },
    /// Not recorded; `retry` says whether the device went back to the pool.
    Failed {
        port: String,
        device: String,
        mac: Option<String>,
        error: String,
        help: Option<String>,
        attempt: u32,
        retry: bool,
    },
    /// The worker of `port` stopped.
    PortDone { port: String, reason: String },
}

/// The end of a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetSummary {
    /// Devices flashed and recorded in this run.
    pub flashed: Vec<String>,
    /// Devices whose every attempt failed (left unflashed).
    pub failed: Vec<String>,
    /// Devices of the list already flashed before this run (or revoked).
    pub skipped: Vec<String>,
    /// Devices still unflashed at the end (not attempted, or failed).
    pub remaining: Vec<String>,
    /// MACs refused because they are bound to another device.
    pub refused: Vec<String>,
    /// Flash attempts that failed (retries included).
    pub failed_attempts: u32,
    pub seconds: f64,
}

/// State shared by the workers of one run.
struct Coordinator {
    devices: Vec<String>,
    attempts: HashMap<String, u32>,
    given_up: HashSet<String>,
    flashed: Vec<String>,
    refused: Vec<String>,
    failed_attempts: u32,
    /// Claims held by workers of this run right now.
    in_flight: usize,
    /// Ports that stopped without ever reaching a module, with the reason.
    unreachable: Vec<String>,
}

impl Coordinator {
    /// Names still worth claiming.
    fn candidates(&self) -> Vec<String> {
        self.devices
            .iter()
            .filter(|d| !self.given_up.contains(*d))
            .cloned()
            .collect()
    }
}

fn lock(m: &Mutex<Coordinator>) -> std::sync::MutexGuard<'_, Coordinator> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Fleet settings computed once: the blob differs per device only in its
/// identity and update number.
struct BlobFactory {
    fleet: super::ota::Fleet,
}

impl BlobFactory {
    fn new(paths: &ProjectPaths) -> Result<BlobFactory> {
        // The trust the project serves: espmqtt.toml's, or the registry's
        // current and staged trust once `trust stage` ran (docs/OTA.md).
        let fleet = super::ota::Fleet::load(paths, &Registry::open(paths)?)?;
        Ok(BlobFactory { fleet })
    }

    /// The device's numbered blob and what the registry records once it is
    /// verified (`docs/OTA.md`, "Serial flashes").
    fn blob(&self, reg: &Registry, rec: &DeviceRecord) -> Result<SerialBlob> {
        let blob = super::ota_serial::serial_blob(&self.fleet, reg, rec)?;
        if blob.bytes.len() > layout::CONFIG_SECTOR as usize {
            return Err(Error::usage(format!(
                "the config blob of `{}` is {} bytes; the EEPROM sector holds {}",
                rec.name,
                blob.bytes.len(),
                layout::CONFIG_SECTOR
            ))
            .with_help("use a shorter certificate chain or the pubkey/fingerprint trust mode"));
        }
        Ok(blob)
    }
}

/// Check the list against the registry before any port is touched:
/// unknown names are a usage error; returns the names already flashed or
/// revoked (skipped).
pub fn preflight(paths: &ProjectPaths, devices: &[String]) -> Result<Vec<String>> {
    let reg = Registry::open(paths)?;
    let mut unknown = Vec::new();
    let mut skipped = Vec::new();
    for n in devices {
        match reg.find(n)? {
            None => unknown.push(n.clone()),
            Some(d) if d.revoked || d.last_flashed_at.is_some() => skipped.push(n.clone()),
            Some(d) => {
                // A claim left by a fleet run that was killed (Ctrl-C) would
                // keep the device out of this run for CLAIM_STALE_AFTER.
                if let Some(w) = d.claimed_by.as_deref().filter(|w| claim_is_dead(w)) {
                    reg.release_claim(n, w)?;
                }
            }
        }
    }
    if !unknown.is_empty() {
        let shown: Vec<&str> = unknown.iter().take(5).map(String::as_str).collect();
        return Err(Error::usage(format!(
            "{} device(s) of --devices are not in the registry: {}{}",
            unknown.len(),
            shown.join(", "),
            if unknown.len() > 5 { ", …" } else { "" }
        ))
        .with_help("create them first: espmqtt device new NAME…"));
    }
    Ok(skipped)
}

/// Environment variable naming this station in claims (default: the host
/// name). Stations sharing a PostgreSQL registry need distinct names.
pub const STATION_ENV: &str = "ESPMQTT_STATION";
/// Environment variable overriding the claim lease, in seconds.
pub const LEASE_ENV: &str = "ESPMQTT_CLAIM_LEASE";

/// This station's name: `ESPMQTT_STATION`, else the host name.
pub fn station() -> String {
    std::env::var(STATION_ENV)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
                .filter(|h| !h.is_empty())
        })
        .unwrap_or_else(|| "localhost".into())
        .replace(':', "_")
}

/// How long a claim lasts unless renewed: `ESPMQTT_CLAIM_LEASE` seconds,
/// else [`CLAIM_LEASE`].
pub fn claim_lease() -> Result<Duration> {
    match std::env::var(LEASE_ENV) {
        Ok(v) if !v.trim().is_empty() => {
            let secs: f64 = v.trim().parse().map_err(|_| {
                Error::usage(format!("{LEASE_ENV}={v:?} is not a number of seconds"))
            })?;
            if !(0.5..=86_400.0).contains(&secs) {
                return Err(Error::usage(format!(
                    "{LEASE_ENV}={v}: the lease must be between 0.5 and 86400 seconds"
                )));
            }
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Ok(CLAIM_LEASE),
    }
}

/// Worker ids are `fleet:STATION:PID:PORT` (older runs wrote `fleet:PID:PORT`).
/// True when the claim was made on this station by a process that is gone
/// (Linux `/proc`); false when unsure or made elsewhere, leaving the lease
/// in charge.
fn claim_is_dead(worker: &str) -> bool {
    let Some(rest) = worker.strip_prefix("fleet:") else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let first = parts.next().unwrap_or_default();
    let pid = match first.parse::<u32>() {
        Ok(pid) => pid,
        Err(_) if first == station() => match parts.next().and_then(|p| p.parse().ok()) {
            Some(pid) => pid,
            None => return false,
        },
        Err(_) => return false,
    };
    let proc = std::path::Path::new("/proc");
    pid != std::process::id() && proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// Flash the fleet. `progress_for(port)` gives each port its own progress
/// sink; `on_event` receives every [`FleetEvent`] (from several threads).
pub fn run(
    paths: &ProjectPaths,
    opts: &FleetOptions,
    progress_for: &dyn Fn(&PortSpec) -> Box<dyn Progress>,
    on_event: &(dyn Fn(FleetEvent) + Sync),
) -> Result<FleetSummary> {
    let t0 = Instant::now();
    if opts.ports.is_empty() {
        return Err(Error::usage("fleet flashing needs at least one --port"));
    }
    let lease = claim_lease()?;
    let skipped = preflight(paths, &opts.devices)?;
    let factory = BlobFactory::new(paths)?;
    let location = Location::of_project(paths)?;
    let coord = Mutex::new(Coordinator {
        devices: opts.devices.clone(),
        attempts: HashMap::new(),
        given_up: HashSet::new(),
        flashed: Vec::new(),
        refused: Vec::new(),
        failed_attempts: 0,
        in_flight: 0,
        unreachable: Vec::new(),
    });
    // Worker ids name the process too: another process's claims are
    // another process's business (registry claims are per worker).
    let pid = std::process::id();
    let station = station();
    let results: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = opts
            .ports
            .iter()
            .map(|port| {
                let progress = progress_for(port);
                let w = Worker {
                    port: port.clone(),
                    id: format!("fleet:{station}:{pid}:{port}"),
                    location: location.clone(),
                    lease,
                    opts,
                    factory: &factory,
                    coord: &coord,
                    on_event,
                };
                s.spawn(move || w.run(progress.as_ref()))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::runtime("a fleet worker thread panicked")))
            })
            .collect()
    });
    // A worker's own error (registry unreadable…) ends only that port and
    // was reported as its PortDone; it fails the run only when nothing was
    // flashed at all.
    let c = lock(&coord);
    if c.flashed.is_empty() {
        if let Some(Err(e)) = results.into_iter().find(|r| r.is_err()) {
            return Err(e);
        }
        if c.unreachable.len() == opts.ports.len() && c.attempts.is_empty() {
            return Err(Error::unreachable(format!(
                "no module answered on any of the {} port(s): {}",
                opts.ports.len(),
                c.unreachable.join("; ")
            ))
            .with_help(
                "put the modules in download mode (GPIO0 low at reset) and check the ports \
                 with `espmqtt ports`; --wait keeps polling until a module appears",
            ));
        }
    }
    let reg = Registry::open_location(&location)?;
    let mut remaining = Vec::new();
    for n in &opts.devices {
        if let Some(d) = reg.find(n)? {
            if !d.revoked && d.last_flashed_at.is_none() {
                remaining.push(n.clone());
            }
        }
    }
    let mut failed: Vec<String> = c.given_up.iter().cloned().collect();
    // Devices that failed at least once and were never flashed are failed
    // too, even if the run ended before their retry.
    for (n, _) in c.attempts.iter() {
        if remaining.contains(n) && !failed.contains(n) {
            failed.push(n.clone());
        }
    }
    failed.sort();
    Ok(FleetSummary {
        flashed: c.flashed.clone(),
        failed,
        skipped,
        remaining,
        refused: c.refused.clone(),
        failed_attempts: c.failed_attempts,
        seconds: t0.elapsed().as_secs_f64(),
    })
}

struct Worker<'a> {
    port: PortSpec,
    id: String,
    location: Location,
    /// Lease of every claim; renewed every third of it while flashing.
    lease: Duration,
    opts: &'a FleetOptions,
    factory: &'a BlobFactory,
    coord: &'a Mutex<Coordinator>,
    on_event: &'a (dyn Fn(FleetEvent) + Sync),
}

/// What the worker saw on its port.
enum Look {
    /// Nothing to do now; `reason` for the Waiting event, `mac` if known.
    Wait { mac: Option<String>, reason: String },
    /// A new module, claimed device flashed or failed.
    Done,
    /// The list is finished.
    Finished,
}

impl Worker<'_> {
    fn emit(&self, e: FleetEvent) {
        (self.on_event)(e)
    }

    fn run(&self, progress: &dyn Progress) -> Result<()> {
        let port = self.port.to_string();
        self.emit(FleetEvent::PortStarted { port: port.clone() });
        let reg = match Registry::open_location(&self.location) {
            Ok(r) => r,
            Err(e) => {
                self.emit(FleetEvent::PortDone {
                    port,
                    reason: format!("registry: {}", e.message),
                });
                return Err(e);
            }
        };
        let mut last_mac: Option<String> = None;
        let mut last_wait: Option<String> = None;
        let mut idle_since = Instant::now();
        let mut reached = false;
        let reason = loop {
            if self.list_done(&reg)? {
                break "the device list is done".to_string();
            }
            match self.look(&reg, &mut last_mac, progress) {
                Ok(Look::Finished) => break "the device list is done".to_string(),
                Ok(Look::Done) => {
                    reached = true;
                    last_wait = None;
                    idle_since = Instant::now();
                    if !self.opts.wait {
                        break "one module flashed (no --wait)".to_string();
                    }
                }
                Ok(Look::Wait { mac, reason }) => {
                    reached |= mac.is_some();
                    let stop_unreached = |why: String| {
                        if !reached {
                            lock(self.coord).unreachable.push(format!("{port}: {why}"));
                        }
                        why
                    };
                    if !self.opts.wait {
                        let reason = stop_unreached(reason.clone());
                        break format!("no module to flash: {reason}");
                    }
                    // One Waiting event per distinct situation, not per poll.
                    if last_wait.as_deref() != Some(reason.as_str()) {
                        self.emit(FleetEvent::Waiting {
                            port: port.clone(),
                            mac,
                            reason: reason.clone(),
                        });
                        last_wait = Some(reason);
                    }
                    if let Some(t) = self.opts.idle_timeout {
                        if idle_since.elapsed() >= t {
                            break stop_unreached(format!(
                                "no new module for {} s (--wait-timeout)",
                                t.as_secs_f64()
                            ));
                        }
                    }
                    std::thread::sleep(self.opts.poll);
                }
                Err(e) => {
                    self.emit(FleetEvent::PortDone {
                        port,
                        reason: format!("registry: {}", e.message),
                    });
                    return Err(e);
                }
            }
        };
        self.emit(FleetEvent::PortDone { port, reason });
        Ok(())
    }

    /// True when no device is left to claim and no worker of this run holds
    /// a claim that could still come back (a failure releases it). With
    /// `--wait`, a device claimed by another process or station is not
    /// done either: its claim may lapse (the other died) and come to us.
    fn list_done(&self, reg: &Registry) -> Result<bool> {
        let (candidates, in_flight) = {
            let c = lock(self.coord);
            (c.candidates(), c.in_flight)
        };
        if in_flight > 0 {
            return Ok(false);
        }
        for n in &candidates {
            if let Some(d) = reg.find(n)? {
                if !d.revoked
                    && d.last_flashed_at.is_none()
                    && (d.claimed_by.is_none() || self.opts.wait)
                {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// One look at the port: identify the module, claim a device for it,
    /// flash and record it. Err only for registry failures (the port cannot
    /// go on without the registry).
    fn look(
        &self,
        reg: &Registry,
        last_mac: &mut Option<String>,
        progress: &dyn Progress,
    ) -> Result<Look> {
        let module = match self.identify(reg, last_mac, progress)? {
            Identified::Module(module) => *module,
            Identified::Not(look) => return Ok(look),
        };
        let Some((device, attempt)) = self.claim(reg)? else {
            let mac = module.mac.clone();
            drop(module);
            if lock(self.coord).in_flight == 0 && self.list_done(reg)? {
                return Ok(Look::Finished);
            }
            return Ok(Look::Wait {
                mac: Some(mac),
                reason: "no device free right now (others are being flashed)".into(),
            });
        };
        let job = Job {
            module,
            device,
            attempt,
            started: Instant::now(),
        };
        self.emit(FleetEvent::Started {
            port: self.port.to_string(),
            device: job.device.name.clone(),
            mac: job.module.mac.clone(),
            attempt,
        });
        self.flash_job(reg, job, last_mac, progress)?;
        Ok(Look::Done)
    }

    /// Connect to the port and decide whether its module is one to flash:
    /// a new MAC, not bound to another device (unless `rebind`).
    fn identify(
        &self,
        reg: &Registry,
        last_mac: &mut Option<String>,
        progress: &dyn Progress,
    ) -> Result<Identified> {
        let session = match Session::open(&self.port, &self.opts.flash, progress) {
            Ok(session) => session,
            Err(e) => {
                return Ok(Identified::Not(Look::Wait {
                    mac: None,
                    reason: format!("no module in download mode: {e}"),
                }))
            }
        };
        let mac = session.info.mac.to_ascii_lowercase();
        if last_mac.as_deref() == Some(mac.as_str()) {
            return Ok(Identified::Not(Look::Wait {
                mac: Some(mac),
                reason: "module not swapped yet (same MAC as the last one)".into(),
            }));
        }
        let bound = bound_to(reg, &mac)?;
        if let Some(other) = bound.as_ref().filter(|_| !self.opts.rebind) {
            {
                let mut coord = lock(self.coord);
                if !coord.refused.contains(&mac) {
                    coord.refused.push(mac.clone());
                }
            }
            self.emit(FleetEvent::Refused {
                port: self.port.to_string(),
                mac: mac.clone(),
                bound_to: other.clone(),
            });
            // Treat it as the module on the port: wait for a swap.
            *last_mac = Some(mac.clone());
            return Ok(Identified::Not(Look::Wait {
                mac: Some(mac),
                reason: format!("module already bound to {other}; swap it (or --rebind)"),
            }));
        }
        Ok(Identified::Module(Box::new(Module {
            session,
            mac,
            bound,
        })))
    }

    /// Claim the next unflashed device and count the attempt. The claim is
    /// made under the coordinator lock so `in_flight` and the claim move
    /// together (`list_done` of another thread never sees neither).
    fn claim(&self, reg: &Registry) -> Result<Option<(DeviceRecord, u32)>> {
        let mut coord = lock(self.coord);
        let names = coord.candidates();
        if names.is_empty() {
            return Ok(None);
        }
        let Some(device) = reg.claim_next_unflashed(&names, &self.id, self.lease)? else {
            return Ok(None);
        };
        coord.in_flight += 1;
        let attempts = coord.attempts.entry(device.name.clone()).or_insert(0);
        *attempts += 1;
        let attempt = *attempts;
        Ok(Some((device, attempt)))
    }

    /// Build the device's blob, write and verify it, record the flash; then
    /// report success or release the claim.
    fn flash_job(
        &self,
        reg: &Registry,
        job: Job,
        last_mac: &mut Option<String>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let Job {
            module,
            device,
            attempt,
            started,
        } = job;
        let Module {
            session,
            mac,
            bound,
        } = module;
        let info = session.info.clone();
        let outcome = self
            .factory
            .blob(reg, &device)
            .map_err(Failure::Permanent)
            .and_then(|blob| {
                let SerialBlob { bytes, write: serial, .. } = blob;
                let heartbeat = Heartbeat::start(&self.location, &device.name, &self.id, self.lease);
                let written = self
                    .write(session, bytes, progress)
                    .map_err(|e| Failure::Retry(e.into()));
                let kept = heartbeat.stop();
                let written = written?;
                if !kept {
                    // Another worker may have taken the device after our
                    // lease lapsed: recording would bind two modules.
                    return Err(Failure::Permanent(Error::runtime(format!(
                        "the claim on {} lapsed while flashing (lease {} s); the module was \
                         written but is not recorded",
                        device.name,
                        self.lease.as_secs_f64()
                    ))
                    .with_help("flash this module again; a longer ESPMQTT_CLAIM_LEASE avoids this on a slow registry link")));
                }
                Ok((written, serial))
            })
            .and_then(|(mut written, serial)| {
                reg.record_flash(
                    &device.name,
                    &mac,
                    Some(&format!("{:06x}", info.chip_id)),
                    info.flash_size.map(u64::from),
                    written.firmware_sha256.as_deref(),
                )
                .map_err(|e| {
                    Failure::Permanent(e.context(
                        "the module was flashed and verified, but recording it in the registry failed",
                    ))
                })?;
                // The module is flashed and bound either way: a failure here
                // only means the next push may publish its config again.
                if let Err(e) = super::ota_serial::record_serial(reg, &device.name, &serial) {
                    written.warnings.push(format!(
                        "recording the config {} runs for updates failed: {}",
                        device.name, e.message
                    ));
                }
                Ok(written)
            });
        match outcome {
            Ok(written) => {
                if let Some(other) = &bound {
                    let _ = reg.log_event(
                        Some(&device.name),
                        "rebound",
                        &format!("mac {mac} was bound to {other}"),
                    );
                }
                {
                    let mut coord = lock(self.coord);
                    coord.in_flight -= 1;
                    coord.flashed.push(device.name.clone());
                }
                *last_mac = Some(mac.clone());
                self.emit(FleetEvent::Flashed {
                    port: self.port.to_string(),
                    device: device.name,
                    mac,
                    firmware_sha256: written.firmware_sha256,
                    regions: written.regions,
                    warnings: written.warnings,
                    rebound_from: bound,
                    seconds: started.elapsed().as_secs_f64(),
                });
                Ok(())
            }
            Err(failure) => self.give_back(reg, &device.name, mac, attempt, failure),
        }
    }

    /// A failed attempt: release the claim first, then count, so a retry by
    /// another port finds the device free.
    fn give_back(
        &self,
        reg: &Registry,
        device: &str,
        mac: String,
        attempt: u32,
        failure: Failure,
    ) -> Result<()> {
        let released = reg.release_claim(device, &self.id);
        let (permanent, error) = match failure {
            Failure::Permanent(e) => (true, e),
            Failure::Retry(e) => (false, e),
        };
        let retry = {
            let mut coord = lock(self.coord);
            coord.in_flight -= 1;
            coord.failed_attempts += 1;
            let retry = !permanent && attempt < self.opts.max_attempts;
            if !retry {
                coord.given_up.insert(device.to_string());
            }
            retry
        };
        self.emit(FleetEvent::Failed {
            port: self.port.to_string(),
            device: device.to_string(),
            mac: Some(mac),
            error: error.message.clone(),
            help: error.help.clone(),
            attempt,
            retry,
        });
        released.map(|_| ())
    }

    /// Write firmware + blob on the open session and verify
    /// ([`flasher::flash_on_session`], the same steps as a single `flash`).
    fn write(
        &self,
        session: Session,
        blob: Vec<u8>,
        progress: &dyn Progress,
    ) -> crate::flash::FlashResult<Written> {
        let regions = self
            .opts
            .firmware
            .iter()
            .map(|fw| Region {
                label: "firmware".into(),
                offset: 0,
                data: fw.clone(),
            })
            .collect();
        let plan = flasher::FlashPlan {
            regions,
            config: Some(blob),
            options: self.opts.flash.clone(),
        };
        let report = flasher::flash_on_session(session, plan, progress, Instant::now())?;
        if let Some(r) = report.regions.iter().find(|r| !r.verified) {
            // write_* return Err on a failed verify; this is belt and braces
            // so an unverified region can never be recorded.
            return Err(crate::flash::FlashError::Plan(format!(
                "{} at 0x{:x} was not verified",
                r.label, r.offset
            )));
        }
        Ok(Written {
            regions: report.regions,
            warnings: report.warnings,
            firmware_sha256: report.firmware_sha256,
        })
    }
}

/// A module on a port that is to be flashed.
struct Module {
    /// The loader session that identified it; the same one writes it.
    session: Session,
    /// Lower-case MAC.
    mac: String,
    /// The device the MAC was bound to before (only with `rebind`).
    bound: Option<String>,
}

/// What [`Worker::identify`] found.
enum Identified {
    Module(Box<Module>),
    Not(Look),
}

/// A claimed device and the module it goes onto.
struct Job {
    module: Module,
    device: DeviceRecord,
    attempt: u32,
    started: Instant,
}

/// What [`Worker::write`] wrote and verified.
struct Written {
    regions: Vec<RegionReport>,
    warnings: Vec<String>,
    firmware_sha256: Option<String>,
}

/// Renews a claim's lease from its own thread (and its own registry
/// connection) while the worker flashes.
struct Heartbeat {
    stop: std::sync::mpsc::Sender<()>,
    handle: std::thread::JoinHandle<bool>,
}

impl Heartbeat {
    fn start(location: &Location, device: &str, worker: &str, lease: Duration) -> Heartbeat {
        let (stop, rx) = std::sync::mpsc::channel::<()>();
        let (location, device, worker) = (location.clone(), device.to_string(), worker.to_string());
        let handle = std::thread::spawn(move || {
            let mut reg: Option<Registry> = None;
            loop {
                match rx.recv_timeout(lease / 3) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    _ => return true,
                }
                if reg.is_none() {
                    reg = Registry::open_location(&location).ok();
                }
                // A failed renewal (registry unreachable for a moment) is
                // retried at the next beat; a claim taken by another worker
                // is final.
                if let Some(r) = &reg {
                    match r.renew_claim(&device, &worker, lease) {
                        Ok(true) => {}
                        Ok(false) => return false,
                        Err(_) => reg = None,
                    }
                }
            }
        });
        Heartbeat { stop, handle }
    }

    /// Stop renewing; true when the claim was held throughout.
    fn stop(self) -> bool {
        let _ = self.stop.send(());
        self.handle.join().unwrap_or(false)
    }
}

enum Failure {
    /// Retrying cannot help (bad blob, registry write).
    Permanent(Error),
    /// The link or the module failed; another module/port may succeed.
    Retry(Error),
}

/// The device a MAC is bound to, if any.
fn bound_to(reg: &Registry, mac: &str) -> Result<Option<String>> {
    Ok(reg
        .devices()?
        .into_iter()
        .find(|d| d.mac.as_deref().map(str::to_ascii_lowercase).as_deref() == Some(mac))
        .map(|d| d.name))
}
