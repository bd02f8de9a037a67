//! `broker sync --dynsec`: bring a running mosquitto (dynamic security
//! plugin) to the registry's state over MQTT, without a file copy or a
//! reload.
//!
//! The plugin's control API: commands are published, batched as
//! `{"commands":[…]}`, to `$CONTROL/dynamic-security/v1`; answers arrive on
//! `$CONTROL/dynamic-security/v1/response` as `{"responses":[…]}`, each
//! carrying the `correlationData` of its command and an `error` when it
//! failed. Every command gets a unique `correlationData` and every answer
//! is checked — `mosquitto_ctrl` exits 0 even when the broker refused a
//! command, so it is not used.
//!
//! Steps come from [`crate::device::dynsec::plan`]: first `listClients` and
//! `listRoles`, then only what differs. A second sync finds nothing to do.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rumqttc::{AsyncClient, Event, EventLoop, Packet, QoS, SubscribeReasonCode};
use serde_json::{json, Value};

use crate::device::dynsec::{self, BrokerState, DynsecDevice, Step};
use crate::error::{Error, Result};
use crate::mqtt::client::{self, Fixes};
use crate::target::Target;

/// What to check when the admin connection fails.
const FIXES: Fixes = Fixes {
    refused: "check the admin user and its password (--password-env)",
    tls: "give the CA of the broker's certificate with --ca-file",
};

/// The plugin's command topic.
pub const CONTROL_TOPIC: &str = "$CONTROL/dynamic-security/v1";
/// Where the plugin answers.
pub const RESPONSE_TOPIC: &str = "$CONTROL/dynamic-security/v1/response";
/// Commands per published batch.
const BATCH: usize = 50;

/// Where and as whom to connect.
pub struct SyncTarget {
    pub target: Target,
    pub username: String,
    pub password: String,
    /// PEM file with the CA that signed the broker's certificate (else the
    /// Mozilla roots).
    pub ca_file: Option<std::path::PathBuf>,
    pub timeout: Duration,
}

impl std::fmt::Debug for SyncTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncTarget")
            .field("target", &self.target)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// Parse `mqtts://USER@HOST[:PORT]` (the user is the plugin's admin).
pub fn parse_url(url: &str) -> Result<(String, Target)> {
    let rest = url
        .split_once("://")
        .map(|(scheme, rest)| (scheme.to_ascii_lowercase(), rest));
    let (scheme, rest) =
        rest.ok_or_else(|| Error::usage(format!("`{url}`: expected mqtts://ADMIN@HOST[:PORT]")))?;
    let Some((user, host)) = rest.rsplit_once('@') else {
        return Err(Error::usage(format!(
            "`{url}` names no user: expected mqtts://ADMIN@HOST[:PORT]"
        ))
        .with_help("the user is the dynamic security admin, e.g. the one `mosquitto_ctrl dynsec init` made"));
    };
    if user.is_empty() || user.contains(':') {
        return Err(Error::usage(format!(
            "`{url}`: give the admin user only (no password in the URL)"
        ))
        .with_help("the password comes from --password-env or a prompt"));
    }
    let target = crate::target::parse(&format!("{scheme}://{host}"))
        .map_err(|e| Error::usage(e.0).with_help(crate::target::TargetError::help()))?;
    Ok((user.to_string(), target))
}

/// What one sync did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SyncReport {
    pub broker: String,
    pub dry_run: bool,
    pub devices: usize,
    /// Steps planned (and, unless `dry_run`, sent).
    pub steps: Vec<Step>,
    /// Usernames held by clients espmqtt does not manage.
    pub conflicts: Vec<String>,
    /// Errors the plugin answered, one per failed command.
    pub errors: Vec<String>,
}

/// Read the broker's state, plan, and (unless `dry_run`) apply.
pub fn sync(
    t: &SyncTarget,
    devices: &[DynsecDevice],
    prefix: &str,
    dry_run: bool,
) -> Result<SyncReport> {
    let rt = client::runtime()?;
    rt.block_on(async {
        let mut c = Control::connect(t).await?;
        let answers = c
            .run(vec![
                json!({"command": "listClients", "verbose": true, "count": -1, "offset": 0}),
                json!({"command": "listRoles", "verbose": true, "count": -1, "offset": 0}),
            ])
            .await?;
        let mut state = BrokerState::default();
        for a in &answers {
            if let Some(e) = a["error"].as_str() {
                return Err(Error::runtime(format!(
                    "the dynamic security plugin refused {}: {e}",
                    a["command"].as_str().unwrap_or("a command")
                )));
            }
        }
        state.clients = answers[0]["data"]["clients"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        state.roles = answers[1]["data"]["roles"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let (steps, conflicts) = dynsec::plan(&state, devices, prefix);
        let mut errors = Vec::new();
        if !dry_run && !steps.is_empty() {
            let answers = c
                .run(steps.iter().map(|s| s.command.clone()).collect())
                .await?;
            for (s, a) in steps.iter().zip(&answers) {
                if let Some(e) = a["error"].as_str() {
                    errors.push(format!("{}: {e}", s.summary));
                }
            }
        }
        c.disconnect().await;
        Ok(SyncReport {
            broker: t.target.display(),
            dry_run,
            devices: devices.len(),
            steps,
            conflicts,
            errors,
        })
    })
}

/// A connection to the plugin's control topic.
struct Control {
    client: AsyncClient,
    events: EventLoop,
    timeout: Duration,
    next: u64,
    tag: String,
}

impl Control {
    async fn connect(t: &SyncTarget) -> Result<Control> {
        let tag = format!("espmqtt-sync-{}", std::process::id());
        let (client, mut events) = client::HostClient {
            client_id: tag.clone(),
            target: &t.target,
            credentials: Some((t.username.clone(), t.password.clone())),
            ca_file: t.ca_file.as_deref(),
            // listClients of a large fleet is one big message.
            max_packet: 64 << 20,
            capacity: 64,
            timeout: t.timeout,
        }
        .start()?;
        let where_ = t.target.display();
        let deadline = tokio::time::Instant::now() + t.timeout;
        let who = format!("the admin {:?}", t.username);
        client::await_connack(&mut events, &where_, &who, deadline, t.timeout, &FIXES).await?;
        client
            .subscribe(RESPONSE_TOPIC, QoS::AtLeastOnce)
            .await
            .map_err(|e| Error::runtime(format!("{where_}: {e}")))?;
        loop {
            let ev = tokio::time::timeout_at(deadline, events.poll())
                .await
                .map_err(|_| Error::runtime(format!("{where_}: no SUBACK")))?;
            match ev {
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    if ack
                        .return_codes
                        .iter()
                        .any(|c| matches!(c, SubscribeReasonCode::Failure))
                    {
                        return Err(Error::usage(format!(
                            "{where_}: the admin {:?} may not subscribe to {RESPONSE_TOPIC}",
                            t.username
                        ))
                        .with_help("use the dynamic security admin (its role allows $CONTROL/dynamic-security/#)"));
                    }
                    break;
                }
                Ok(_) => {}
                Err(e) => return Err(client::connection_error(&where_, e, &FIXES)),
            }
        }
        Ok(Control {
            client,
            events,
            timeout: t.timeout,
            next: 0,
            tag,
        })
    }

    /// Send `commands` (in batches) and return one answer per command, in
    /// order.
    async fn run(&mut self, commands: Vec<Value>) -> Result<Vec<Value>> {
        let mut answers: HashMap<String, Value> = HashMap::new();
        let mut ids = Vec::with_capacity(commands.len());
        for batch in commands.chunks(BATCH) {
            let mut out = Vec::with_capacity(batch.len());
            let mut want = Vec::new();
            for c in batch {
                self.next += 1;
                let id = format!("{}-{}", self.tag, self.next);
                let mut c = c.clone();
                c["correlationData"] = json!(id);
                out.push(c);
                want.push(id.clone());
                ids.push(id);
            }
            let payload = serde_json::to_vec(&json!({ "commands": out }))
                .map_err(|e| Error::runtime(format!("cannot serialise commands: {e}")))?;
            self.client
                .publish(CONTROL_TOPIC, QoS::AtLeastOnce, false, payload)
                .await
                .map_err(|e| Error::runtime(format!("cannot publish to {CONTROL_TOPIC}: {e}")))?;
            let deadline = Instant::now() + self.timeout;
            while want.iter().any(|id| !answers.contains_key(id)) {
                let left = deadline.saturating_duration_since(Instant::now());
                let ev = tokio::time::timeout(left, self.events.poll())
                    .await
                    .map_err(|_| {
                        Error::runtime(format!(
                        "no answer from the dynamic security plugin within {} s",
                        self.timeout.as_secs()
                    ))
                    .with_help(
                        "check that mosquitto loads mosquitto_dynamic_security.so and that the \
                         admin may publish to $CONTROL/dynamic-security/#",
                    )
                    })?;
                match ev {
                    Ok(Event::Incoming(Packet::Publish(p))) if p.topic == RESPONSE_TOPIC => {
                        let v: Value = serde_json::from_slice(&p.payload).map_err(|e| {
                            Error::runtime(format!(
                                "the plugin answered something that is not JSON: {e}"
                            ))
                        })?;
                        for r in v["responses"].as_array().into_iter().flatten() {
                            if let Some(id) = r["correlationData"].as_str() {
                                answers.insert(id.to_string(), r.clone());
                            }
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        return Err(Error::runtime(format!(
                            "the connection to the broker ended during the sync: {e}"
                        ))
                        .with_help("some steps may have been applied; run the sync again"))
                    }
                }
            }
        }
        Ok(ids
            .into_iter()
            .map(|id| answers.remove(&id).unwrap_or(Value::Null))
            .collect())
    }

    async fn disconnect(mut self) {
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_millis(500), self.events.poll()).await;
    }
}
