//! MQTT: the probe session (rumqttc over a device-shaped rustls TLS 1.2
//! configuration), CONNACK/SUBACK explanations in PubSubClient's terms, and
//! the end-to-end `probe` orchestration (DESIGN §3, §4.6).

pub mod probe;
pub mod session;
