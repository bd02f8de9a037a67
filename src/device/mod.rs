//! Per-device identity: the registry (docs/REGISTRY.md), secrets, the local CA
//! for client certificates, the broker-side artefacts made from them, and the
//! config blob written to the module.

pub mod amqtt;
pub mod blob;
pub mod broker;
pub mod ca;
pub mod dynsec;
pub mod registry;
pub mod secret;
pub mod slots;
pub mod update;
pub mod update_key;
