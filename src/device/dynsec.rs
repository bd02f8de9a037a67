//! mosquitto's dynamic security plugin (`mosquitto_dynamic_security.so`,
//! mosquitto ≥ 2.0): what the fleet looks like to it, as a file
//! (`broker export --dynsec FILE`) and as the commands that bring a running
//! broker there (`broker sync --dynsec`, `src/ops/broker_sync.rs`).
//!
//! Per active device: one client (username = the device's username), with
//! one role of its own allowing its topic subtree `<prefix>/<client-id>/#`
//! for publish (both directions), subscribe and unsubscribe. A role per
//! device because mosquitto 2.0 does not substitute `%u`/`%c` in dynsec
//! ACLs. Revoked devices get no client in the file; a running broker's
//! client of a revoked device is disabled (mosquitto disconnects it at
//! once).
//!
//! Clients and roles espmqtt manages are marked: clients by their
//! `textname` ([`CLIENT_TEXTNAME`]), roles by their name prefix
//! ([`ROLE_PREFIX`]). Everything else (the admin made by `mosquitto_ctrl
//! dynsec init`, groups, other users) is left alone. A client's
//! `textdescription` names the creation time of the secret it was given
//! ([`credential_mark`]), so a sync knows without reading any password
//! whether the broker has the registry's current secret — and a second
//! sync changes nothing.
//!
//! Password fields of the file follow the plugin's format (checked against
//! mosquitto 2.0's `plugins/dynamic-security/clients.c`): base64 of a
//! 64-byte PBKDF2-HMAC-SHA512 hash, base64 of a 12-byte salt, and the
//! iteration count — the same numbers as a `$7$` line at 101 iterations.

use base64::Engine;
use serde_json::{json, Value};

use crate::error::{Error, Result};

/// `textname` of every client espmqtt manages.
pub const CLIENT_TEXTNAME: &str = "espmqtt device";
/// Name prefix of every role espmqtt manages.
pub const ROLE_PREFIX: &str = "espmqtt-";
/// PBKDF2 iterations of the hashes written into the file (mosquitto 2.0's).
pub const DYNSEC_ITERATIONS: u32 = 101;

/// One device as the broker should see it.
#[derive(Clone)]
pub struct DynsecDevice {
    pub name: String,
    pub username: String,
    pub client_id: String,
    /// The current secret (sync sends it; the broker hashes it).
    pub secret: String,
    /// `$7$` hash of the secret at [`DYNSEC_ITERATIONS`] (for the file).
    pub hash: Option<String>,
    /// When the current secret was created.
    pub secret_created_at: String,
    pub revoked: bool,
}

impl std::fmt::Debug for DynsecDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynsecDevice")
            .field("name", &self.name)
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .field("revoked", &self.revoked)
            .finish()
    }
}

/// The role of one device.
pub fn role_name(username: &str) -> String {
    format!("{ROLE_PREFIX}{username}")
}

/// What a client's `textdescription` says about its secret.
pub fn credential_mark(secret_created_at: &str) -> String {
    format!("espmqtt credential of {secret_created_at}")
}

/// The ACLs of a device's role: its own subtree, every direction.
pub fn role_acls(prefix: &str, client_id: &str) -> Vec<Value> {
    let topic = format!("{prefix}/{client_id}/#");
    [
        "publishClientSend",
        "publishClientReceive",
        "subscribePattern",
        "unsubscribePattern",
    ]
    .iter()
    .map(|t| json!({"acltype": t, "topic": topic, "priority": 0, "allow": true}))
    .collect()
}

/// The plugin's password fields from a `$7$101$salt$hash` string.
fn password_fields(hash: &str) -> Result<(String, String, u32)> {
    let bad = || Error::runtime("a cached password hash is not a $7$ string".to_string());
    let mut parts = hash.split('$');
    let (Some(""), Some("7"), Some(it), Some(salt), Some(h)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(bad());
    };
    let it: u32 = it.parse().map_err(|_| bad())?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let salt_len = b64.decode(salt).map_err(|_| bad())?.len();
    if salt_len != 12 {
        return Err(bad());
    }
    Ok((h.to_string(), salt.to_string(), it))
}

/// Is this client one espmqtt manages?
fn managed_client(c: &Value) -> bool {
    c["textname"].as_str() == Some(CLIENT_TEXTNAME)
}

fn managed_role(r: &Value) -> bool {
    r["rolename"]
        .as_str()
        .is_some_and(|n| n.starts_with(ROLE_PREFIX))
}

/// The dynamic-security file for the fleet. `existing`: the current file,
/// whose other clients, roles, groups and default access are kept; without
/// one, the plugin's defaults. Revoked devices are left out.
pub fn render_file(
    existing: Option<&Value>,
    devices: &[DynsecDevice],
    prefix: &str,
) -> Result<Value> {
    let mut doc = match existing {
        Some(v) if v.is_object() => v.clone(),
        Some(_) => {
            return Err(Error::usage(
                "the existing dynamic-security file is not a JSON object",
            ))
        }
        None => json!({
            "defaultACLAccess": {
                "publishClientSend": false,
                "publishClientReceive": true,
                "subscribe": false,
                "unsubscribe": true
            },
            "clients": [],
            "groups": [],
            "roles": []
        }),
    };
    let keep = |key: &str, managed: fn(&Value) -> bool| -> Vec<Value> {
        doc[key]
            .as_array()
            .map(|a| a.iter().filter(|v| !managed(v)).cloned().collect())
            .unwrap_or_default()
    };
    let mut clients = keep("clients", managed_client);
    let mut roles = keep("roles", managed_role);
    let taken: std::collections::HashSet<String> = clients
        .iter()
        .filter_map(|c| c["username"].as_str().map(String::from))
        .collect();
    for d in devices.iter().filter(|d| !d.revoked) {
        if taken.contains(&d.username) {
            return Err(Error::usage(format!(
                "the dynamic-security file already has a client {:?} that espmqtt does not manage",
                d.username
            ))
            .with_help("rename or remove that client, then export again"));
        }
        let hash = d
            .hash
            .as_deref()
            .ok_or_else(|| Error::runtime(format!("{}: no password hash", d.name)))?;
        let (password, salt, iterations) = password_fields(hash)?;
        let role = role_name(&d.username);
        clients.push(json!({
            "username": d.username,
            "textname": CLIENT_TEXTNAME,
            "textdescription": credential_mark(&d.secret_created_at),
            "roles": [{"rolename": role}],
            "password": password,
            "salt": salt,
            "iterations": iterations,
        }));
        roles.push(json!({
            "rolename": role,
            "textname": format!("espmqtt device {}", d.name),
            "acls": role_acls(prefix, &d.client_id),
        }));
    }
    doc["clients"] = Value::Array(clients);
    doc["roles"] = Value::Array(roles);
    if doc.get("groups").is_none() {
        doc["groups"] = json!([]);
    }
    Ok(doc)
}

/// One step of a sync.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Step {
    /// The device it is for (`None`: a managed client the registry does not know).
    pub device: Option<String>,
    /// What it does, for people.
    pub summary: String,
    /// The plugin command (without `correlationData`). Holds a password for
    /// `createClient`/`setClientPassword`: never printed as is.
    #[serde(skip)]
    pub command: Value,
}

impl Step {
    fn new(device: Option<&str>, summary: String, command: Value) -> Step {
        Step {
            device: device.map(String::from),
            summary,
            command,
        }
    }

    /// The command with any password replaced, for `--dry-run -v` and logs.
    pub fn redacted(&self) -> Value {
        let mut c = self.command.clone();
        if c.get("password").is_some() {
            c["password"] = json!("<redacted>");
        }
        c
    }
}

/// The broker's state as `listClients` and `listRoles` (verbose) report it.
#[derive(Debug, Clone, Default)]
pub struct BrokerState {
    pub clients: Vec<Value>,
    pub roles: Vec<Value>,
}

fn acl_key(a: &Value) -> (String, String, i64, bool) {
    (
        a["acltype"].as_str().unwrap_or_default().to_string(),
        a["topic"].as_str().unwrap_or_default().to_string(),
        a["priority"].as_i64().unwrap_or(0),
        a["allow"].as_bool().unwrap_or(false),
    )
}

/// The steps that bring `state` to the registry's `devices`, in an order
/// the plugin accepts (a role before the client that uses it). Empty when
/// the broker already matches. `conflicts`: usernames taken by a client
/// espmqtt does not manage (reported, never touched).
pub fn plan(
    state: &BrokerState,
    devices: &[DynsecDevice],
    prefix: &str,
) -> (Vec<Step>, Vec<String>) {
    let mut steps = Vec::new();
    let mut conflicts = Vec::new();
    for device in devices {
        let existing = state
            .clients
            .iter()
            .find(|c| c["username"].as_str() == Some(device.username.as_str()));
        if let Some(client) = existing {
            if !managed_client(client) {
                if !device.revoked {
                    conflicts.push(device.username.clone());
                }
                continue;
            }
        }
        if device.revoked {
            steps.extend(revoked_steps(device, existing));
            continue;
        }
        let rolename = role_name(&device.username);
        let role = state
            .roles
            .iter()
            .find(|r| r["rolename"].as_str() == Some(rolename.as_str()));
        steps.extend(role_steps(device, role, &rolename, prefix));
        steps.extend(client_steps(device, existing, &rolename));
    }
    steps.extend(orphan_steps(state, devices));
    (steps, conflicts)
}

/// A revoked device's client is disabled (kept, so it can be re-enabled).
fn revoked_steps(device: &DynsecDevice, existing: Option<&Value>) -> Vec<Step> {
    match existing {
        Some(client) if !client["disabled"].as_bool().unwrap_or(false) => vec![Step::new(
            Some(device.name.as_str()),
            format!("disable client {} (revoked)", device.username),
            json!({"command": "disableClient", "username": device.username}),
        )],
        _ => Vec::new(),
    }
}

/// Create the device's role, or bring its ACLs to exactly the wanted ones.
fn role_steps(
    device: &DynsecDevice,
    role: Option<&Value>,
    rolename: &str,
    prefix: &str,
) -> Vec<Step> {
    let name = Some(device.name.as_str());
    let want_acls = role_acls(prefix, &device.client_id);
    let Some(role) = role else {
        return vec![Step::new(
            name,
            format!("create role {rolename} ({prefix}/{}/#)", device.client_id),
            json!({
                "command": "createRole",
                "rolename": rolename,
                "textname": format!("espmqtt device {}", device.name),
                "acls": want_acls,
            }),
        )];
    };
    let mut steps = Vec::new();
    let have: Vec<Value> = role["acls"].as_array().cloned().unwrap_or_default();
    let have_keys: Vec<_> = have.iter().map(acl_key).collect();
    let want_keys: Vec<_> = want_acls.iter().map(acl_key).collect();
    for (acl, key) in have.iter().zip(&have_keys) {
        if !want_keys.contains(key) {
            steps.push(Step::new(
                name,
                format!("remove {} {} from role {rolename}", key.0, key.1),
                json!({"command": "removeRoleACL", "rolename": rolename,
                       "acltype": acl["acltype"], "topic": acl["topic"]}),
            ));
        }
    }
    for (acl, key) in want_acls.iter().zip(&want_keys) {
        if !have_keys.contains(key) {
            let mut command = acl.clone();
            command["command"] = json!("addRoleACL");
            command["rolename"] = json!(rolename);
            steps.push(Step::new(
                name,
                format!("allow {} {} in role {rolename}", key.0, key.1),
                command,
            ));
        }
    }
    steps
}

/// Create the device's client, or bring its password, role and enabled
/// state up to date.
fn client_steps(device: &DynsecDevice, existing: Option<&Value>, rolename: &str) -> Vec<Step> {
    let name = Some(device.name.as_str());
    let mark = credential_mark(&device.secret_created_at);
    let Some(client) = existing else {
        return vec![Step::new(
            name,
            format!("create client {} with role {rolename}", device.username),
            json!({
                "command": "createClient",
                "username": device.username,
                "password": device.secret,
                "textname": CLIENT_TEXTNAME,
                "textdescription": mark,
                "roles": [{"rolename": rolename}],
            }),
        )];
    };
    let mut steps = Vec::new();
    if client["textdescription"].as_str() != Some(mark.as_str()) {
        steps.push(Step::new(
            name,
            format!("set the current password of {}", device.username),
            json!({"command": "setClientPassword", "username": device.username,
                   "password": device.secret}),
        ));
        steps.push(Step::new(
            name,
            format!(
                "mark {} as holding the secret of {}",
                device.username, device.secret_created_at
            ),
            json!({"command": "modifyClient", "username": device.username,
                   "textdescription": mark}),
        ));
    }
    let has_role = client["roles"]
        .as_array()
        .is_some_and(|rs| rs.iter().any(|r| r["rolename"].as_str() == Some(rolename)));
    if !has_role {
        steps.push(Step::new(
            name,
            format!("give {} its role {rolename}", device.username),
            json!({"command": "addClientRole", "username": device.username, "rolename": rolename}),
        ));
    }
    if client["disabled"].as_bool().unwrap_or(false) {
        steps.push(Step::new(
            name,
            format!("enable client {}", device.username),
            json!({"command": "enableClient", "username": device.username}),
        ));
    }
    steps
}

/// Managed clients the registry does not know: disabled, not deleted
/// (another registry may own them; deleting is for a person to decide).
fn orphan_steps(state: &BrokerState, devices: &[DynsecDevice]) -> Vec<Step> {
    let mut steps = Vec::new();
    for client in &state.clients {
        let Some(username) = client["username"].as_str() else {
            continue;
        };
        if managed_client(client)
            && !client["disabled"].as_bool().unwrap_or(false)
            && !devices.iter().any(|d| d.username == username)
        {
            steps.push(Step::new(
                None,
                format!("disable client {username} (not in the registry)"),
                json!({"command": "disableClient", "username": username}),
            ));
        }
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(name: &str, revoked: bool) -> DynsecDevice {
        DynsecDevice {
            name: name.into(),
            username: name.into(),
            client_id: name.into(),
            secret: format!("secret-of-{name}"),
            hash: Some(crate::device::broker::hash_password("x", 101).unwrap()),
            secret_created_at: "2026-01-01T00:00:00Z".into(),
            revoked,
        }
    }

    #[test]
    fn the_file_keeps_foreign_entries_and_leaves_revoked_devices_out() {
        let existing = json!({
            "defaultACLAccess": {"publishClientSend": false},
            "clients": [{"username": "admin", "roles": [{"rolename": "admin"}]},
                        {"username": "old", "textname": CLIENT_TEXTNAME}],
            "groups": [], "roles": [{"rolename": "admin", "acls": []},
                                    {"rolename": "espmqtt-old", "acls": []}]
        });
        let doc =
            render_file(Some(&existing), &[dev("a", false), dev("r", true)], "fleet").unwrap();
        let users: Vec<&str> = doc["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["username"].as_str().unwrap())
            .collect();
        assert_eq!(users, ["admin", "a"]);
        let a = &doc["clients"][1];
        assert_eq!(a["iterations"], 101);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(a["password"].as_str().unwrap())
                .unwrap()
                .len(),
            64
        );
        assert!(!doc.to_string().contains("secret-of-"));
        let roles = doc["roles"].as_array().unwrap();
        assert_eq!(roles.len(), 2);
        assert_eq!(roles[1]["acls"][0]["topic"], "fleet/a/#");
    }

    #[test]
    fn a_plan_converges_to_nothing() {
        let devices = [dev("a", false), dev("r", true)];
        let (steps, conflicts) = plan(&BrokerState::default(), &devices, "p");
        assert!(conflicts.is_empty());
        let cmds: Vec<&str> = steps
            .iter()
            .map(|s| s.command["command"].as_str().unwrap())
            .collect();
        assert_eq!(cmds, ["createRole", "createClient"]);
        // What the broker reports after those steps.
        let state = BrokerState {
            clients: vec![
                json!({"username": "a", "textname": CLIENT_TEXTNAME,
                       "textdescription": credential_mark("2026-01-01T00:00:00Z"),
                       "roles": [{"rolename": "espmqtt-a"}]}),
                json!({"username": "admin", "roles": [{"rolename": "admin"}]}),
            ],
            roles: vec![json!({"rolename": "espmqtt-a", "acls": role_acls("p", "a")})],
        };
        assert!(plan(&state, &devices, "p").0.is_empty());
        // A rotation and a revocation.
        let mut rotated = dev("a", false);
        rotated.secret_created_at = "2026-02-01T00:00:00Z".into();
        let (steps, _) = plan(&state, &[rotated], "p");
        assert_eq!(steps[0].command["command"], "setClientPassword");
        assert_eq!(steps[0].redacted()["password"], "<redacted>");
        let (steps, _) = plan(&state, &[dev("a", true)], "p");
        assert_eq!(steps[0].command["command"], "disableClient");
        // A foreign client of the same name is a conflict, never touched.
        let (steps, conflicts) = plan(&state, &[dev("admin", false)], "p");
        assert_eq!(conflicts, ["admin"]);
        assert!(steps.iter().all(|s| s.command["username"] != "admin"));
    }
}
