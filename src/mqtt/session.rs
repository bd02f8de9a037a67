//! The MQTT half of `probe`, over the device engine's own TLS session: the
//! CONNECT the firmware sends (clean session, its keepalive, user name and
//! password, last will `<prefix>/<id>/status` = "offline", retained, QoS 0),
//! then SUBSCRIBE `<prefix>/<id>/#`, PUBLISH `<prefix>/<id>/probe` and the
//! wait for it to come back, then DISCONNECT. Packets are rumqttc's MQTT
//! 3.1.1 types, encoded and decoded over the engine's application stream.
//!
//! The outcome includes the PubSubClient `state()` the device would have
//! after `connect()` (see docs/PROBE.md): 0 connected, the CONNACK code
//! when refused, -4 when no CONNACK arrives (the broker closed the
//! connection or stayed silent), -1 when the first packet back is not a
//! CONNACK (not an MQTT broker), -3 when a connected session breaks.

use std::time::{Duration, Instant};

use bytes::BytesMut;
use rumqttc::mqttbytes::v4::{Connect, LastWill, Login, Packet, Publish, Subscribe};
use rumqttc::mqttbytes::QoS;
use serde::{Deserialize, Serialize};

use crate::progress::Progress;
use crate::tls::engine::{AppError, Session, TransportEnd};

/// PubSubClient's socket timeout: how long `connect()` waits for CONNACK.
pub const SOCKET_TIMEOUT: Duration = Duration::from_secs(15);

/// Largest MQTT packet we accept from the broker.
const MAX_PACKET: usize = 64 * 1024;

/// The step of the round trip: the probe's own PUBLISH coming back.
pub const ROUND_TRIP: &str = "the published message";

/// The device's MQTT identity and settings.
#[derive(Clone, PartialEq, Eq)]
pub struct MqttParams {
    pub client_id: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub topic_prefix: String,
    pub keepalive: u16,
}

impl std::fmt::Debug for MqttParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttParams")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("topic_prefix", &self.topic_prefix)
            .field("keepalive", &self.keepalive)
            .finish()
    }
}

impl MqttParams {
    pub fn will_topic(&self) -> String {
        format!("{}/{}/status", self.topic_prefix, self.client_id)
    }
    pub fn subscribe_topic(&self) -> String {
        format!("{}/{}/#", self.topic_prefix, self.client_id)
    }
    pub fn publish_topic(&self) -> String {
        format!("{}/{}/probe", self.topic_prefix, self.client_id)
    }

    /// The CONNECT the firmware sends (`app.cpp`: connect(id, user, pass,
    /// willTopic, 0, true, "offline", true)).
    pub fn connect_packet(&self) -> Connect {
        let mut c = Connect::new(self.client_id.clone());
        c.keep_alive = self.keepalive;
        c.clean_session = true;
        c.last_will = Some(LastWill::new(
            self.will_topic(),
            b"offline".to_vec(),
            QoS::AtMostOnce,
            true,
        ));
        if let Some(u) = &self.username {
            c.login = Some(Login::new(
                u.clone(),
                self.password.clone().unwrap_or_default(),
            ));
        }
        c
    }
}

/// What happened, step by step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionOutcome {
    /// CONNACK accepted.
    pub connected: bool,
    /// CONNACK return code (0 = accepted).
    pub connack_code: Option<u8>,
    /// SUBACK return codes (0x80 = refused).
    pub suback_codes: Vec<u8>,
    /// The probe message came back.
    pub delivered: bool,
    /// Milliseconds from the start of MQTT to CONNACK / SUBACK / delivery.
    pub connack_ms: Option<u64>,
    pub suback_ms: Option<u64>,
    pub delivery_ms: Option<u64>,
    /// What ended the session early.
    pub error: Option<SessionError>,
    pub client_id: String,
    pub will_topic: String,
    pub subscribe_topic: String,
    pub publish_topic: String,
    /// Size of the CONNECT packet (PubSubClient's buffer must hold it).
    pub connect_bytes: usize,
    /// PubSubClient `state()` after `connect()` (and after the exchange).
    pub pubsubclient_state: i32,
}

/// Why the session ended early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SessionError {
    /// The device's engine failed during the exchange (its BearSSL error).
    Tls { step: String, code: i32 },
    /// The broker closed the connection.
    Closed { step: String },
    /// Nothing arrived in time.
    Timeout { step: String },
    /// The broker sent something that is not MQTT 3.1.1.
    Protocol { step: String, message: String },
}

impl SessionError {
    pub fn step(&self) -> &str {
        match self {
            SessionError::Tls { step, .. }
            | SessionError::Closed { step }
            | SessionError::Timeout { step }
            | SessionError::Protocol { step, .. } => step,
        }
    }

    /// What the session was waiting for, as the object of "waiting for …":
    /// "CONNACK", "the published message to come back".
    pub fn awaited(&self) -> String {
        awaited(self.step())
    }
}

fn awaited(step: &str) -> String {
    if step == ROUND_TRIP {
        format!("{step} to come back")
    } else {
        step.to_string()
    }
}

impl std::fmt::Display for SessionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SessionError::Tls { step, code } => write!(
                f,
                "the TLS session failed while waiting for {} (BearSSL error {code})",
                awaited(step)
            ),
            SessionError::Closed { step } if step == ROUND_TRIP => write!(
                f,
                "the broker closed the connection before {step} came back"
            ),
            SessionError::Closed { step } => {
                write!(f, "the broker closed the connection before {step}")
            }
            SessionError::Timeout { step } if step == ROUND_TRIP => {
                write!(f, "{step} did not come back within the timeout")
            }
            SessionError::Timeout { step } => write!(f, "no {step} within the timeout"),
            SessionError::Protocol { step, message } => {
                let to = if step == ROUND_TRIP {
                    "the PUBLISH"
                } else {
                    step.as_str()
                };
                write!(
                    f,
                    "the broker's answer to {to} is not MQTT 3.1.1: {message}"
                )
            }
        }
    }
}

fn session_error(step: &str, e: AppError) -> SessionError {
    let step = step.to_string();
    match e {
        AppError::Timeout | AppError::Transport(TransportEnd::Timeout) => {
            SessionError::Timeout { step }
        }
        AppError::Closed { error } if error != 0 => SessionError::Tls { step, code: error },
        AppError::Closed { .. } | AppError::Transport(_) => SessionError::Closed { step },
    }
}

struct Conn<'a> {
    session: &'a mut Session,
    buf: BytesMut,
    log: &'a dyn Progress,
}

impl Conn<'_> {
    fn send(&mut self, p: Packet, step: &str, until: Instant) -> Result<(), SessionError> {
        let mut out = BytesMut::new();
        p.write(&mut out, MAX_PACKET)
            .map_err(|e| SessionError::Protocol {
                step: step.into(),
                message: format!("cannot encode: {e}"),
            })?;
        self.log.trace(&format!(
            "-> MQTT {}, {} B{}",
            packet_name(&p),
            out.len(),
            packet_summary(&p)
        ));
        self.session
            .write_all(&out, until)
            .map_err(|e| session_error(step, e))
    }

    fn next(&mut self, step: &str, until: Instant) -> Result<Packet, SessionError> {
        let mut chunk = [0u8; 4096];
        loop {
            let before = self.buf.len();
            match Packet::read(&mut self.buf, MAX_PACKET) {
                Ok(p) => {
                    self.log.trace(&format!(
                        "<- MQTT {}, {} B{}",
                        packet_name(&p),
                        before.saturating_sub(self.buf.len()),
                        packet_summary(&p)
                    ));
                    return Ok(p);
                }
                Err(rumqttc::mqttbytes::Error::InsufficientBytes(_)) => {}
                Err(e) => {
                    return Err(SessionError::Protocol {
                        step: step.into(),
                        message: format!("{e}"),
                    })
                }
            }
            let n = self
                .session
                .read(&mut chunk, until)
                .map_err(|e| session_error(step, e))?;
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

/// Run the exchange over an established session, within `deadline`. Each
/// step goes to `log` with its time ([`Progress::message`]), each packet
/// with its type and size ([`Progress::trace`]; never the password).
pub fn run(
    session: &mut Session,
    p: &MqttParams,
    deadline: Instant,
    log: &dyn Progress,
) -> SessionOutcome {
    let start = Instant::now();
    let ms = || start.elapsed().as_millis() as u64;
    let connect = p.connect_packet();
    let mut out = SessionOutcome {
        client_id: p.client_id.clone(),
        will_topic: p.will_topic(),
        subscribe_topic: p.subscribe_topic(),
        publish_topic: p.publish_topic(),
        connect_bytes: connect.size(),
        pubsubclient_state: -4,
        ..Default::default()
    };
    let mut c = Conn {
        session,
        buf: BytesMut::new(),
        log,
    };
    let failed = |e: &SessionError| log.message(&format!("MQTT: {e} ({} ms)", ms()));

    // CONNECT / CONNACK, within PubSubClient's socket timeout.
    let connack_until = deadline.min(Instant::now() + SOCKET_TIMEOUT);
    if let Err(e) = c.send(Packet::Connect(connect), "CONNACK", connack_until) {
        failed(&e);
        out.error = Some(e);
        return out;
    }
    match c.next("CONNACK", connack_until) {
        Ok(Packet::ConnAck(ack)) => {
            let code = ack.code as u8;
            out.connack_code = Some(code);
            out.connack_ms = Some(ms());
            out.pubsubclient_state = code as i32;
            out.connected = code == 0;
            log.message(&format!(
                "MQTT CONNECT as {:?}: CONNACK return code {code} ({}) after {} ms",
                p.client_id,
                if code == 0 { "accepted" } else { "refused" },
                ms()
            ));
        }
        // PubSubClient takes whatever packet comes first as the answer and
        // only looks at it when it is 4 bytes long; otherwise connect()
        // returns false without setting a state (a fresh client stays at
        // -1, MQTT_DISCONNECTED).
        Ok(other) => {
            out.pubsubclient_state = -1;
            let e = SessionError::Protocol {
                step: "CONNACK".into(),
                message: format!("expected CONNACK, got {}", packet_name(&other)),
            };
            failed(&e);
            out.error = Some(e);
            return out;
        }
        Err(e) => {
            if matches!(e, SessionError::Protocol { .. }) {
                out.pubsubclient_state = -1;
            }
            failed(&e);
            out.error = Some(e);
            return out;
        }
    }
    if !out.connected {
        return out;
    }
    let connected = subscribe(&mut c, &mut out, deadline, &ms)
        .and_then(|()| round_trip(&mut c, &mut out, deadline, &ms));
    if let Err(e) = connected {
        failed(&e);
        return broken(out, e);
    }
    let _ = c.send(
        Packet::Disconnect,
        "DISCONNECT",
        deadline.min(Instant::now() + Duration::from_millis(500)),
    );
    out
}

/// SUBSCRIBE `<prefix>/<id>/#` and wait for its SUBACK.
fn subscribe(
    c: &mut Conn<'_>,
    out: &mut SessionOutcome,
    deadline: Instant,
    ms: &dyn Fn() -> u64,
) -> Result<(), SessionError> {
    let mut sub = Subscribe::new(out.subscribe_topic.clone(), QoS::AtMostOnce);
    sub.pkid = 1;
    c.send(Packet::Subscribe(sub), "SUBACK", deadline)?;
    loop {
        match c.next("SUBACK", deadline)? {
            Packet::SubAck(ack) if ack.pkid == 1 => {
                out.suback_codes = ack
                    .return_codes
                    .iter()
                    .map(|r| match r {
                        rumqttc::mqttbytes::v4::SubscribeReasonCode::Success(q) => *q as u8,
                        rumqttc::mqttbytes::v4::SubscribeReasonCode::Failure => 0x80,
                    })
                    .collect();
                out.suback_ms = Some(ms());
                c.log.message(&format!(
                    "MQTT SUBSCRIBE {}: SUBACK {} after {} ms",
                    out.subscribe_topic,
                    out.suback_codes
                        .iter()
                        .map(|c| format!("0x{c:02x}"))
                        .collect::<Vec<_>>()
                        .join(", "),
                    ms()
                ));
                return Ok(());
            }
            _ => continue, // retained messages may arrive first
        }
    }
}

/// PUBLISH `<prefix>/<id>/probe` and wait for it to come back.
fn round_trip(
    c: &mut Conn<'_>,
    out: &mut SessionOutcome,
    deadline: Instant,
    ms: &dyn Fn() -> u64,
) -> Result<(), SessionError> {
    let token = hex::encode(crate::tls::net::random_bytes::<6>());
    let payload = format!("espmqtt probe {token}");
    let publish = Publish::new(
        out.publish_topic.clone(),
        QoS::AtMostOnce,
        payload.clone().into_bytes(),
    );
    c.send(Packet::Publish(publish), ROUND_TRIP, deadline)?;
    c.log.message(&format!(
        "MQTT PUBLISH {} sent after {} ms; waiting for it to come back",
        out.publish_topic,
        ms()
    ));
    loop {
        match c.next(ROUND_TRIP, deadline)? {
            Packet::Publish(m)
                if m.topic == out.publish_topic && m.payload == payload.as_bytes() =>
            {
                out.delivered = true;
                out.delivery_ms = Some(ms());
                c.log.message(&format!(
                    "MQTT round trip: the message came back after {} ms",
                    ms()
                ));
                return Ok(());
            }
            _ => continue,
        }
    }
}

/// A connected session that ended early: PubSubClient notices the lost
/// connection (-3) unless only the wait ran out.
fn broken(mut out: SessionOutcome, e: SessionError) -> SessionOutcome {
    if !matches!(e, SessionError::Timeout { .. }) {
        out.pubsubclient_state = -3;
    }
    out.error = Some(e);
    out
}

/// What `-vv` shows of a packet: identifiers, topics, flags and sizes;
/// whether a password is set, never the password; no payload.
fn packet_summary(p: &Packet) -> String {
    match p {
        Packet::Connect(c) => format!(
            ": MQTT 3.1.1, client id {:?}, {}, keepalive {} s, clean session {}{}",
            c.client_id,
            match &c.login {
                Some(l) if l.password.is_empty() => format!("user {:?}, no password", l.username),
                Some(l) => format!("user {:?}, password set", l.username),
                None => "no user name".into(),
            },
            c.keep_alive,
            c.clean_session,
            c.last_will
                .as_ref()
                .map(|w| format!(
                    ", will {:?} ({} B{})",
                    w.topic,
                    w.message.len(),
                    if w.retain { ", retained" } else { "" }
                ))
                .unwrap_or_default()
        ),
        Packet::ConnAck(a) => format!(": return code {}", a.code as u8),
        Packet::Subscribe(s) => format!(
            ": packet id {}, {}",
            s.pkid,
            s.filters
                .iter()
                .map(|f| format!("{:?} QoS {}", f.path, f.qos as u8))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Packet::SubAck(a) => format!(
            ": packet id {}, {} return code(s)",
            a.pkid,
            a.return_codes.len()
        ),
        Packet::Publish(m) => format!(
            ": {:?}, QoS {}{}, {} B payload",
            m.topic,
            m.qos as u8,
            if m.retain { ", retained" } else { "" },
            m.payload.len()
        ),
        _ => String::new(),
    }
}

fn packet_name(p: &Packet) -> &'static str {
    match p {
        Packet::Connect(_) => "CONNECT",
        Packet::ConnAck(_) => "CONNACK",
        Packet::Publish(_) => "PUBLISH",
        Packet::PubAck(_) => "PUBACK",
        Packet::PubRec(_) => "PUBREC",
        Packet::PubRel(_) => "PUBREL",
        Packet::PubComp(_) => "PUBCOMP",
        Packet::Subscribe(_) => "SUBSCRIBE",
        Packet::SubAck(_) => "SUBACK",
        Packet::Unsubscribe(_) => "UNSUBSCRIBE",
        Packet::UnsubAck(_) => "UNSUBACK",
        Packet::PingReq => "PINGREQ",
        Packet::PingResp => "PINGRESP",
        Packet::Disconnect => "DISCONNECT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_read_as_sentences() {
        let round = |e: fn(String) -> SessionError| e(ROUND_TRIP.into()).to_string();
        assert_eq!(
            round(|step| SessionError::Timeout { step }),
            "the published message did not come back within the timeout"
        );
        assert_eq!(
            round(|step| SessionError::Closed { step }),
            "the broker closed the connection before the published message came back"
        );
        assert_eq!(
            round(|step| SessionError::Tls { step, code: 6 }),
            "the TLS session failed while waiting for the published message to come back \
             (BearSSL error 6)"
        );
        let e = SessionError::Timeout {
            step: "CONNACK".into(),
        };
        assert_eq!(e.to_string(), "no CONNACK within the timeout");
    }

    #[test]
    fn connect_is_the_firmware_s() {
        let p = MqttParams {
            client_id: "dev-a".into(),
            username: Some("u".into()),
            password: Some("pw".into()),
            topic_prefix: "espmqtt".into(),
            keepalive: 15,
        };
        let c = p.connect_packet();
        let mut b = BytesMut::new();
        Packet::Connect(c.clone()).write(&mut b, 4096).unwrap();
        // flags: user, password, will retain, will, clean session.
        assert_eq!(b[9], 0x80 | 0x40 | 0x20 | 0x04 | 0x02);
        assert_eq!(u16::from_be_bytes([b[10], b[11]]), 15);
        assert_eq!(c.last_will.unwrap().topic, "espmqtt/dev-a/status");
        assert!(!format!("{p:?}").contains("pw"));
    }
}
