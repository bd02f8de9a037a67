//! The operator's MQTT session for config updates (`docs/OTA.md`): publish
//! retained update messages with QoS 1, and listen for the devices'
//! acknowledgements and heartbeats.
//!
//! rumqttc over rustls, as `broker sync` does; the broker's certificate is
//! checked against the CA file given (else the Mozilla roots).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, EventLoop, Packet, QoS, SubscribeReasonCode};

use crate::error::{Error, Result};
use crate::mqtt::client::{self, Fixes};
use crate::target::Target;

/// What to check when the operator connection fails.
const FIXES: Fixes = Fixes {
    refused: "check [operator] username in espmqtt.toml and the password \
              (ESPMQTT_OPERATOR_PASSWORD or --password-env)",
    tls: "give the CA of the broker's certificate with --ca-file or [operator] ca_file",
};

/// Where and as whom the operator connects.
#[derive(Clone)]
pub struct Operator {
    pub target: Target,
    pub username: Option<String>,
    pub password: Option<String>,
    /// PEM file with the CA the broker's certificate chains to.
    pub ca_file: Option<PathBuf>,
    pub timeout: Duration,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("target", &self.target)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// A message that arrived on a subscribed topic.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub topic: String,
    pub payload: Vec<u8>,
}

impl From<rumqttc::Publish> for Incoming {
    fn from(p: rumqttc::Publish) -> Incoming {
        Incoming {
            topic: p.topic,
            payload: p.payload.to_vec(),
        }
    }
}

/// One connected operator session.
pub struct Link {
    rt: tokio::runtime::Runtime,
    client: AsyncClient,
    events: EventLoop,
    where_: String,
    timeout: Duration,
}

impl Link {
    /// Connect and wait for CONNACK.
    pub fn connect(op: &Operator) -> Result<Link> {
        let rt = client::runtime()?;
        let (client, mut events) = client::HostClient {
            client_id: format!("espmqtt-operator-{}", std::process::id()),
            target: &op.target,
            credentials: op
                .username
                .clone()
                .map(|u| (u, op.password.clone().unwrap_or_default())),
            ca_file: op.ca_file.as_deref(),
            max_packet: 1 << 20,
            capacity: 256,
            timeout: op.timeout,
        }
        .start()?;
        let where_ = op.target.display();
        let timeout = op.timeout;
        let who = format!("the operator {:?}", op.username.clone().unwrap_or_default());
        rt.block_on(async {
            let deadline = tokio::time::Instant::now() + timeout;
            client::await_connack(&mut events, &where_, &who, deadline, timeout, &FIXES).await
        })?;
        Ok(Link {
            rt,
            client,
            events,
            where_,
            timeout,
        })
    }

    /// Subscribe (QoS 1) and wait for the SUBACKs; refused filters are an
    /// error naming them. Returns the messages (retained ones, typically)
    /// that arrived meanwhile.
    pub fn subscribe(&mut self, filters: &[String]) -> Result<Vec<Incoming>> {
        let Link {
            rt,
            client,
            events,
            where_,
            timeout,
        } = self;
        rt.block_on(async {
            for f in filters.iter() {
                client
                    .subscribe(f.clone(), QoS::AtLeastOnce)
                    .await
                    .map_err(|e| Error::runtime(format!("{where_}: {e}")))?;
            }
            let deadline = tokio::time::Instant::now() + *timeout;
            let mut acks = 0;
            let mut got = Vec::new();
            while acks < filters.len() {
                let ev = tokio::time::timeout_at(deadline, events.poll())
                    .await
                    .map_err(|_| Error::runtime(format!("{where_}: no SUBACK")))?;
                match ev {
                    Ok(Event::Incoming(Packet::SubAck(a))) => {
                        if a.return_codes
                            .iter()
                            .any(|c| matches!(c, SubscribeReasonCode::Failure))
                        {
                            return Err(Error::usage(format!(
                                "{where_}: the operator may not subscribe to {}",
                                filters.join(", ")
                            ))
                            .with_help(
                                "give the operator's role read access to <prefix>/+/config/ack \
                                 and <prefix>/+/heartbeat (docs/OTA.md, \"The operator\")",
                            ));
                        }
                        acks += 1;
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => got.push(Incoming::from(p)),
                    Ok(_) => {}
                    Err(e) => return Err(client::connection_error(where_, e, &FIXES)),
                }
            }
            Ok(got)
        })
    }

    /// Publish every `(topic, payload)` retained with QoS 1 and wait for
    /// all PUBACKs. Messages that arrive meanwhile are returned.
    pub fn publish_retained(&mut self, messages: &[(String, Vec<u8>)]) -> Result<Vec<Incoming>> {
        let Link {
            rt,
            client,
            events,
            where_,
            timeout,
        } = self;
        rt.block_on(async {
            let mut got = Vec::new();
            let mut sent = 0;
            let mut acked = 0;
            let deadline = tokio::time::Instant::now() + *timeout + Duration::from_secs(1);
            // Queue in chunks so the request channel never blocks the loop.
            while acked < messages.len() {
                while sent < messages.len() && sent - acked < 64 {
                    let (t, p) = &messages[sent];
                    client
                        .publish(t.clone(), QoS::AtLeastOnce, true, p.clone())
                        .await
                        .map_err(|e| Error::runtime(format!("{where_}: {e}")))?;
                    sent += 1;
                }
                let ev = tokio::time::timeout_at(deadline, events.poll())
                    .await
                    .map_err(|_| {
                        Error::unreachable(format!(
                            "{where_}: the broker did not acknowledge {} of {} publications",
                            messages.len() - acked,
                            messages.len()
                        ))
                        .with_help("run the push again: it publishes the same updates")
                    })?;
                match ev {
                    Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
                    Ok(Event::Incoming(Packet::Publish(p))) => got.push(Incoming::from(p)),
                    Ok(_) => {}
                    Err(e) => {
                        return Err(client::connection_error(where_, e, &FIXES)
                            .with_help("run the push again: it continues where it stopped"))
                    }
                }
            }
            Ok(got)
        })
    }

    /// Messages arriving before `until`; returns early, with what came,
    /// once a burst of arrivals pauses for 50 ms.
    pub fn receive(&mut self, until: Instant) -> Result<Vec<Incoming>> {
        let Link {
            rt, events, where_, ..
        } = self;
        rt.block_on(async {
            let mut got = Vec::new();
            loop {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return Ok(got);
                }
                // Once something came, wait only for the rest of its burst.
                let wait = if got.is_empty() {
                    left
                } else {
                    left.min(Duration::from_millis(50))
                };
                match tokio::time::timeout(wait, events.poll()).await {
                    Err(_) => return Ok(got),
                    Ok(Ok(Event::Incoming(Packet::Publish(p)))) => {
                        got.push(Incoming::from(p));
                        if got.len() >= 256 {
                            return Ok(got);
                        }
                    }
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return Err(client::connection_error(where_, e, &FIXES)),
                }
            }
        })
    }

    /// Disconnect cleanly.
    pub fn close(mut self) {
        let Link {
            rt, client, events, ..
        } = &mut self;
        rt.block_on(async {
            let _ = client.disconnect().await;
            let _ = tokio::time::timeout(Duration::from_millis(300), events.poll()).await;
        });
    }
}
