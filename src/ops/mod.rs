//! Operations: code that strings the lower layers together into one job a
//! command performs (cargo's `ops` is the model). The CLI calls these; the
//! modules below (`device`, `flash`, `serial`, `tls`, `mqtt`, `firmware`,
//! `emulator`) never import from here.
//!
//! * [`fleet`] — fleet flashing: one worker per port, devices claimed from
//!   the registry, blobs built, modules flashed, verified and bound;
//! * [`device_blob`] — a device's config blob from espmqtt.toml + registry;
//! * [`trust`] — fetch a broker's chain and propose a trust mode;
//! * [`demo`] — the demo's steps: a local broker, an emulated module, the
//!   commands a user would run, one report.
//!
//! `docs/ARCHITECTURE.md` ("The operations layer") says what belongs here.

pub mod broker_sync;
pub mod demo;
pub mod device_blob;
pub mod fleet;
pub mod ota;
pub mod ota_link;
pub mod ota_serial;
pub mod trust;
pub mod trust_forecast;
