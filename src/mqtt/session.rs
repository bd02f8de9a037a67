//! The MQTT half of `probe`: a real TLS 1.2 session (rustls, ring provider,
//! suites and signature schemes limited to what the device also offers) and
//! an MQTT 3.1.1 exchange with rumqttc that behaves like PubSubClient:
//! CONNECT with keepalive 15 s and clean session, SUBSCRIBE QoS 0 to
//! `<prefix>/<client-id>/#`, PUBLISH QoS 0 to `<prefix>/<client-id>/probe`,
//! wait for it to come back, DISCONNECT (esp8266-tls.md §8).
//!
//! The server certificate was already judged the device's way by the raw
//! handshake; here the verifier only insists that the server presents the
//! same leaf again (so the two halves talk to the same server) and checks
//! the handshake signatures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rumqttc::{
    AsyncClient, ConnectReturnCode, ConnectionError, Event, MqttOptions, Outgoing, Packet, QoS,
    SubscribeReasonCode, TlsConfiguration, Transport,
};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde::{Deserialize, Serialize};

/// The TLS 1.2 suites rustls (ring) implements; all are in the device's list.
pub const RUSTLS_SUITES: [u16; 6] = [0xCCA9, 0xCCA8, 0xC02B, 0xC02F, 0xC02C, 0xC030];

/// Everything the MQTT session needs.
pub struct SessionParams {
    pub host: String,
    pub port: u16,
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub topic_prefix: String,
    pub keepalive: u16,
    /// Client certificate chain and key (mutual TLS).
    pub client_auth: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    /// SHA-1 of the leaf the raw handshake saw (None: accept any).
    pub expected_leaf_sha1: Option<[u8; 20]>,
    /// Suites the device offers (the session uses the intersection).
    pub device_suites: Vec<u16>,
    pub deadline: Instant,
}

/// What happened, step by step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOutcome {
    /// TLS + CONNACK accepted.
    pub connected: bool,
    /// CONNACK return code (0 = accepted).
    pub connack_code: Option<u8>,
    /// SUBACK return codes (0x80 = refused).
    pub suback_codes: Vec<u8>,
    /// The probe message came back.
    pub delivered: bool,
    /// Milliseconds from start to CONNACK / SUBACK / delivery.
    pub connack_ms: Option<u64>,
    pub suback_ms: Option<u64>,
    pub delivery_ms: Option<u64>,
    /// Error that ended the session early.
    pub error: Option<SessionError>,
    pub subscribe_topic: String,
    pub publish_topic: String,
}

/// Why the session ended early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionError {
    /// The server sent a fatal TLS alert.
    TlsAlert { alert: u8, message: String },
    /// rustls could not complete the handshake for another reason.
    Tls { message: String },
    /// The rustls configuration could not be built (e.g. no suite usable).
    Config { message: String },
    /// The TCP connection broke or could not be made.
    Io { message: String },
    /// Nothing arrived in time (which step is in `step`).
    Timeout { step: String },
    /// Anything else rumqttc reported.
    Mqtt { message: String },
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::TlsAlert { message, .. }
            | SessionError::Tls { message }
            | SessionError::Config { message }
            | SessionError::Io { message }
            | SessionError::Mqtt { message } => f.write_str(message),
            SessionError::Timeout { step } => write!(f, "no answer in time ({step})"),
        }
    }
}

/// A TLS alert by its RFC 8446 name (`handshake_failure`), not its Rust name.
fn alert_name(a: &rustls::AlertDescription) -> String {
    let mut out = String::new();
    for (i, c) in format!("{a:?}").chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// Run the session. Never panics; every wait ends at `p.deadline`.
pub fn run(p: SessionParams) -> SessionOutcome {
    let subscribe_topic = format!("{}/{}/#", p.topic_prefix, p.client_id);
    let publish_topic = format!("{}/{}/probe", p.topic_prefix, p.client_id);
    let mut out = SessionOutcome {
        subscribe_topic: subscribe_topic.clone(),
        publish_topic: publish_topic.clone(),
        ..Default::default()
    };
    let config = match client_config(&p) {
        Ok(c) => c,
        Err(message) => {
            out.error = Some(SessionError::Config { message });
            return out;
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            out.error = Some(SessionError::Io {
                message: format!("cannot start the async runtime: {e}"),
            });
            return out;
        }
    };
    rt.block_on(drive(p, config, subscribe_topic, publish_topic, &mut out));
    out
}

async fn drive(
    p: SessionParams,
    config: rustls::ClientConfig,
    subscribe_topic: String,
    publish_topic: String,
    out: &mut SessionOutcome,
) {
    let start = Instant::now();
    let mut opts = MqttOptions::new(p.client_id.clone(), p.host.clone(), p.port);
    opts.set_keep_alive(Duration::from_secs(p.keepalive.max(5) as u64));
    opts.set_clean_session(true);
    if let Some(u) = &p.username {
        opts.set_credentials(u.clone(), p.password.clone().unwrap_or_default());
    }
    opts.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(
        Arc::new(config),
    )));
    let (client, mut ev) = AsyncClient::new(opts, 10);
    let mut net = rumqttc::NetworkOptions::new();
    net.set_connection_timeout(p.deadline.saturating_duration_since(start).as_secs().max(1));
    ev.set_network_options(net);
    let payload: Vec<u8> = {
        let mut r = [0u8; 8];
        let _ = getrandom::getrandom(&mut r);
        format!("espmqtt-probe-{}", hex::encode(r)).into_bytes()
    };
    let deadline = tokio::time::Instant::from_std(p.deadline);
    let mut step = "connect";
    loop {
        let ev = match tokio::time::timeout_at(deadline, ev.poll()).await {
            Err(_) => {
                out.error = Some(SessionError::Timeout { step: step.into() });
                break;
            }
            Ok(r) => r,
        };
        match ev {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                out.connack_code = Some(ack.code as u8);
                out.connack_ms = Some(start.elapsed().as_millis() as u64);
                out.connected = ack.code == ConnectReturnCode::Success;
                if !out.connected {
                    break;
                }
                step = "subscribe";
                if client
                    .try_subscribe(subscribe_topic.clone(), QoS::AtMostOnce)
                    .is_err()
                {
                    out.error = Some(SessionError::Mqtt {
                        message: "could not queue SUBSCRIBE".into(),
                    });
                    break;
                }
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                out.suback_ms = Some(start.elapsed().as_millis() as u64);
                out.suback_codes = ack
                    .return_codes
                    .iter()
                    .map(|c| match c {
                        SubscribeReasonCode::Success(q) => *q as u8,
                        SubscribeReasonCode::Failure => 0x80,
                    })
                    .collect();
                // Publish even when refused: mosquitto grants ACL-denied
                // subscriptions, so only delivery tells the truth.
                step = "delivery";
                if client
                    .try_publish(
                        publish_topic.clone(),
                        QoS::AtMostOnce,
                        false,
                        payload.clone(),
                    )
                    .is_err()
                {
                    out.error = Some(SessionError::Mqtt {
                        message: "could not queue PUBLISH".into(),
                    });
                    break;
                }
                if out.suback_codes.contains(&0x80) {
                    break;
                }
            }
            Ok(Event::Incoming(Packet::Publish(pb))) => {
                if pb.topic == publish_topic && pb.payload.as_ref() == payload.as_slice() {
                    out.delivered = true;
                    out.delivery_ms = Some(start.elapsed().as_millis() as u64);
                    step = "disconnect";
                    let _ = client.try_disconnect();
                }
            }
            Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
            Ok(_) => {}
            Err(ConnectionError::ConnectionRefused(code)) => {
                out.connack_code = Some(code as u8);
                out.connack_ms = Some(start.elapsed().as_millis() as u64);
                break;
            }
            Err(e) => {
                if !(out.delivered && step == "disconnect") {
                    out.error = Some(classify(e, step));
                }
                break;
            }
        }
    }
}

fn classify(e: ConnectionError, step: &str) -> SessionError {
    match e {
        ConnectionError::Tls(t) => {
            let rustls_err = match &t {
                rumqttc::TlsError::TLS(r) => Some(r.clone()),
                rumqttc::TlsError::Io(io) => io
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                    .cloned(),
                _ => None,
            };
            match rustls_err {
                Some(rustls::Error::AlertReceived(a)) => SessionError::TlsAlert {
                    alert: u8::from(a),
                    message: format!(
                        "the server sent the fatal alert {} ({})",
                        alert_name(&a),
                        u8::from(a)
                    ),
                },
                Some(r) => SessionError::Tls {
                    message: r.to_string(),
                },
                None => SessionError::Tls {
                    message: t.to_string(),
                },
            }
        }
        ConnectionError::Io(io) => {
            if let Some(r) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                if let rustls::Error::AlertReceived(a) = r {
                    return SessionError::TlsAlert {
                        alert: u8::from(*a),
                        message: format!(
                            "the server sent the fatal alert {} ({})",
                            alert_name(a),
                            u8::from(*a)
                        ),
                    };
                }
                return SessionError::Tls {
                    message: r.to_string(),
                };
            }
            SessionError::Io {
                message: format!("{io} (during {step})"),
            }
        }
        ConnectionError::NetworkTimeout => SessionError::Timeout { step: step.into() },
        other => SessionError::Mqtt {
            message: format!("{other} (during {step})"),
        },
    }
}

/// The signature schemes the device advertises (esp8266-tls.md §3.4).
fn device_schemes() -> Vec<SignatureScheme> {
    vec![
        SignatureScheme::ECDSA_NISTP256_SHA256,
        SignatureScheme::ECDSA_NISTP384_SHA384,
        SignatureScheme::ECDSA_NISTP521_SHA512,
        SignatureScheme::ECDSA_SHA1_Legacy,
        SignatureScheme::RSA_PKCS1_SHA256,
        SignatureScheme::RSA_PKCS1_SHA384,
        SignatureScheme::RSA_PKCS1_SHA512,
        SignatureScheme::RSA_PKCS1_SHA1,
    ]
}

/// TLS 1.2 only, ring, suites ∩ device suites, groups ∩ device groups.
pub fn client_config(p: &SessionParams) -> Result<rustls::ClientConfig, String> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.retain(|s| {
        matches!(s, rustls::SupportedCipherSuite::Tls12(_))
            && p.device_suites.contains(&u16::from(s.suite()))
    });
    if provider.cipher_suites.is_empty() {
        return Err(
            "none of the device's cipher suites is implemented by rustls (the device build offers only RSA key exchange suites)".into(),
        );
    }
    provider.kx_groups.retain(|g| {
        matches!(
            g.name(),
            rustls::NamedGroup::X25519
                | rustls::NamedGroup::secp256r1
                | rustls::NamedGroup::secp384r1
        )
    });
    let algs = provider.signature_verification_algorithms;
    let provider = Arc::new(provider);
    let verifier = Arc::new(SameLeafVerifier {
        expected: p.expected_leaf_sha1,
        algs,
    });
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS12])
        .map_err(|e| format!("TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut cfg = match &p.client_auth {
        Some((chain, key)) => builder
            .with_client_auth_cert(chain.clone(), key.clone_key())
            .map_err(|e| format!("client certificate/key: {e}"))?,
        None => builder.with_no_client_auth(),
    };
    // The device never sends SNI-less hellos when connecting by name and
    // never offers session tickets or ALPN (§3.7).
    cfg.resumption = rustls::client::Resumption::disabled();
    cfg.enable_sni = true;
    Ok(cfg)
}

#[derive(Debug)]
struct SameLeafVerifier {
    expected: Option<[u8; 20]>,
    algs: rustls::crypto::WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for SameLeafVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(exp) = self.expected {
            if crate::tls::cert::sha1(end_entity.as_ref()) != exp {
                return Err(rustls::Error::General(
                    "the server presented a different certificate than in the device handshake"
                        .into(),
                ));
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algs)
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(
            "TLS 1.3 is not used by the device".into(),
        ))
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        let supported = self.algs.supported_schemes();
        device_schemes()
            .into_iter()
            .filter(|s| supported.contains(s))
            .collect()
    }
}

/// Size of the CONNECT packet PubSubClient would build (MQTT 3.1.1):
/// 5 header bytes reserved + 10 variable header + Σ(2 + len) (§8.4).
pub fn pubsubclient_connect_size(client_id: &str, user: Option<&str>, pass: Option<&str>) -> usize {
    let mut n = 5 + 7 + 1 + 2 + 2 + client_id.len();
    if let Some(u) = user {
        n += 2 + u.len();
        if let Some(p) = pass {
            n += 2 + p.len();
        }
    }
    n
}

/// PubSubClient `state()` for a CONNACK code (§8.6).
pub fn pubsubclient_state(connack: u8) -> (&'static str, &'static str) {
    match connack {
        1 => (
            "MQTT_CONNECT_BAD_PROTOCOL",
            "the broker does not accept MQTT 3.1.1",
        ),
        2 => (
            "MQTT_CONNECT_BAD_CLIENT_ID",
            "the broker refused the client id",
        ),
        3 => ("MQTT_CONNECT_UNAVAILABLE", "the broker is unavailable"),
        4 => (
            "MQTT_CONNECT_BAD_CREDENTIALS",
            "user name or password refused",
        ),
        5 => ("MQTT_CONNECT_UNAUTHORIZED", "the client is not authorised"),
        _ => ("MQTT_CONNECTED", "connected"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connect_size_matches_pubsubclient_arithmetic() {
        // 15 fixed bytes + (2 + 5) for the id: what PubSubClient checks
        // against its 256-byte buffer (esp8266-tls.md §8.4).
        assert_eq!(pubsubclient_connect_size("dev-a", None, None), 22);
        assert_eq!(
            pubsubclient_connect_size("dev-a", Some("u"), Some("pw")),
            22 + 3 + 4
        );
        // A password without a user name is not sent.
        assert_eq!(pubsubclient_connect_size("dev-a", None, Some("pw")), 22);
        let long = "x".repeat(240);
        assert!(pubsubclient_connect_size("dev-a", Some("u"), Some(&long)) > 256);
    }

    #[test]
    fn connack_codes_map_to_pubsubclient_states() {
        assert_eq!(pubsubclient_state(4).0, "MQTT_CONNECT_BAD_CREDENTIALS");
        assert_eq!(pubsubclient_state(5).0, "MQTT_CONNECT_UNAUTHORIZED");
        assert_eq!(pubsubclient_state(1).0, "MQTT_CONNECT_BAD_PROTOCOL");
    }
}
