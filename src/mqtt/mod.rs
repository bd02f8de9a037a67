//! MQTT: the probe's exchange over the device engine's TLS session
//! (rumqttc's MQTT 3.1.1 packets), PubSubClient's view of it, and the
//! end-to-end `probe` orchestration (docs/PROBE.md).

pub mod client;
pub mod probe;
pub mod session;
