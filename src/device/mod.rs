//! Per-device identity: the registry (DESIGN §4.5), secrets, the local CA for
//! client certificates, and the broker-side artefacts made from them.

pub mod blob;
pub mod broker;
pub mod ca;
pub mod registry;
pub mod secret;
