//! Integration test: a password rotated over the air (`device rotate
//! --over-the-air`, `docs/OTA.md`) and `broker sync --dynsec`
//! (`docs/BROKER.md`, "Over-the-air password rotation and sync") on a real
//! mosquitto 2.0 with its dynamic security plugin. The device is the
//! firmware's update logic (tests/support/ota.rs); its connections are real
//! MQTT connections with the credentials of the config it runs.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::device::{publish, server_pki, Auth};
use crate::support::mosquitto::{dynsec_init, Mosquitto};
use crate::support::ota::{rotate_over_the_air, secret_of, Device};
use crate::support::Env;

const ADMIN_PW: &str = "dynsec-admin-pw-2";
const OPERATOR_PW: &str = "operator-pw-2";
const PREFIX: &str = "fleet";

/// A dynamic-security file with the plugin's admin and an operator that
/// may publish updates to `fleet/+/config` and read the acknowledgements
/// (a client and a role espmqtt does not manage, so `broker sync` leaves
/// them alone).
fn dynsec_file(dir: &Path) -> PathBuf {
    let file = dir.join("dynamic-security.json");
    dynsec_init(&file, "admin", ADMIN_PW);
    let op_file = dir.join("operator.json");
    dynsec_init(&op_file, "operator", OPERATOR_PW);
    let read = |p: &Path| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let mut doc = read(&file);
    let mut op = read(&op_file)["clients"][0].clone();
    op["roles"] = serde_json::json!([{"rolename": "fleet-operator"}]);
    doc["clients"].as_array_mut().unwrap().push(op);
    let acl =
        |t: &str| serde_json::json!({"acltype": t, "topic": format!("{PREFIX}/#"), "allow": true});
    doc["roles"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "rolename": "fleet-operator",
            "acls": [acl("publishClientSend"), acl("publishClientReceive"),
                     acl("subscribePattern"), acl("unsubscribePattern")],
        }));
    std::fs::write(&file, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    file
}

fn write_config(env: &Env, port: u16) {
    env.write(
        "espmqtt.toml",
        format!(
            "[broker]\nhost = \"localhost\"\nport = {port}\n[wifi]\nssid = \"lab\"\npassword = \"wifi-pass\"\n\
             [mqtt]\ntopic_prefix = \"{PREFIX}\"\n[tls]\ntrust = \"ca\"\nca_file = \"broker-ca.crt\"\n\
             [operator]\nusername = \"operator\"\nbroker = \"127.0.0.1:{port}\"\n"
        ),
    );
}

/// `broker sync --dynsec` as the plugin's admin: exit code and the steps.
fn sync(env: &Env, port: u16, ca: &Path) -> (i32, Vec<String>, serde_json::Value) {
    let url = format!("mqtts://admin@127.0.0.1:{port}");
    let out = env
        .cmd()
        .env("ESPMQTT_DYNSEC_PASSWORD", ADMIN_PW)
        .args(["broker", "sync", "--dynsec", &url, "--ca-file"])
        .arg(ca)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let r = crate::support::Run::from(out);
    let v: serde_json::Value = serde_json::from_str(&r.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", r.stdout, r.stderr));
    let steps = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["summary"].as_str().unwrap().to_string())
        .collect();
    (r.code, steps, v)
}

/// The device as a real MQTT client with `password`.
struct Net<'a> {
    port: u16,
    ca: &'a Path,
}

impl Net<'_> {
    /// A connection that publishes QoS 1: does the broker take `password`?
    fn connects(&self, password: &str) -> bool {
        let auth = Auth::Password("r-1".into(), password.into());
        publish(
            self.port,
            self.ca,
            &auth,
            "r-1",
            &format!("{PREFIX}/r-1/heartbeat"),
            "1",
        )
        .code
            == 0
    }

    /// `tool` (mosquitto_sub or mosquitto_pub) connected as the device
    /// with `password`.
    fn as_device(&self, tool: &str, password: &str) -> Command {
        let mut c = Command::new(tool);
        c.args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(["-V", "mqttv311", "--cafile"])
            .arg(self.ca)
            .args(["-u", "r-1", "-P", password, "-i", "r-1"]);
        c
    }

    /// The retained update on the device's config topic, read as the device.
    fn retained_update(&self, password: &str) -> Option<Vec<u8>> {
        let o = self
            .as_device("mosquitto_sub", password)
            .args(["-t", &format!("{PREFIX}/r-1/config"), "-C", "1", "-W", "3"])
            .args(["-F", "%x"])
            .output()
            .unwrap();
        let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
        (!s.is_empty()).then(|| hex::decode(s).unwrap())
    }

    /// Publish an acknowledgement as the device does (retained, QoS 1).
    fn ack(&self, password: &str, line: &str) {
        let o = self
            .as_device("mosquitto_pub", password)
            .args(["-t", &format!("{PREFIX}/r-1/config/ack"), "-r", "-q", "1"])
            .args(["-m", line])
            .output()
            .unwrap();
        assert!(o.status.success(), "the device's ack was refused: {o:?}");
    }
}

/// Acceptance: a password rotated over the air with the broker's dynamic
/// security plugin. The broker keeps the old password until the device
/// staged the new one; `broker sync` then gives it the new one; the device
/// connects with its staged config and commits; the old password no longer
/// works; a second sync has nothing to do.
#[test]
fn password_rotation_over_the_air_with_dynamic_security() {
    let env = Env::with_vars(vec![(
        "ESPMQTT_OPERATOR_PASSWORD".into(),
        OPERATOR_PW.into(),
    )]);
    let pki = server_pki(env.path());
    write_config(&env, 1);
    env.run(&["device", "new", "r-1"]).assert_code(0);
    let file = dynsec_file(env.path());
    env.run(&["broker", "export", "--dynsec", file.to_str().unwrap()])
        .assert_code(0);
    let m = Mosquitto::start_dynsec(env.path(), &file, &pki.cert, &pki.key);
    write_config(&env, m.port);
    let net = Net {
        port: m.port,
        ca: &pki.ca,
    };
    let blob = env.path().join("r-1.bin");
    env.run(&["device", "config", "r-1", "--out", blob.to_str().unwrap()])
        .assert_code(0);
    let mut device = Device::new(env.path(), &std::fs::read(&blob).unwrap());
    eprintln!("device logic: {}", device.kind());
    let old = secret_of(&env, "r-1");
    assert!(net.connects(&old), "the exported password does not work");
    let (code, steps, v) = sync(&env, m.port, &pki.ca);
    assert_eq!((code, steps.len()), (0, 0), "{v}");

    // The rotation is published; the device, connected with its current
    // password, stages it. The command returns on the staged ack.
    let rotate = rotate_over_the_air(&env, "r-1");
    let msg = (0..20)
        .find_map(|_| net.retained_update(&old))
        .expect("the rotation's update, read by the device");
    assert_eq!(
        secret_of(&env, "r-1"),
        old,
        "current before the device staged"
    );
    let staged = device.receive(env.path(), &msg).expect("an ack");
    assert!(staged.contains("\"staged\""), "{staged}");
    net.ack(&old, &staged);
    let out = rotate.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let new = secret_of(&env, "r-1");
    assert_ne!(
        new, old,
        "staged: the new password is the registry's current one"
    );
    assert_eq!(device.boot().password.as_deref(), Some(new.as_str()));
    // The broker still has the old password until the sync.
    assert!(net.connects(&old) && !net.connects(&new));

    // The sync gives the broker the new password (one password per user:
    // the old one is gone in the same step).
    let (code, steps, v) = sync(&env, m.port, &pki.ca);
    assert_eq!(code, 0, "{v}");
    assert!(
        steps.iter().any(|s| s.contains("password of r-1")),
        "{steps:?}"
    );
    assert!(
        !net.connects(&old),
        "the old password still works after the sync"
    );

    // The device tries its staged config: the broker takes the new password,
    // the device commits and says so over that session.
    let booted = device.boot().password.unwrap();
    let outcome = if net.connects(&booted) {
        "ok"
    } else {
        "fail:mqtt:5"
    };
    assert_eq!(outcome, "ok");
    let committed = device.connect(outcome).expect("a committed ack");
    assert!(committed.contains("\"committed\""), "{committed}");
    net.ack(&booted, &committed);
    let (r, v) = env.run_json(&["device", "updates", "--refresh", "2s"]);
    r.assert_code(0);
    assert_eq!(v[0]["phase"], "committed", "{v}");
    assert!(
        net.retained_update(&new).is_none(),
        "the committed update (with the password) is still retained"
    );
    assert_eq!(secret_of(&env, "r-1"), new);
    assert!(
        !net.connects(&old),
        "the old password works after the commit"
    );
    assert!(net.connects(&new));

    // The commit changed nothing the broker holds: a second sync is a no-op,
    // and so is a push.
    let (code, steps, v) = sync(&env, m.port, &pki.ca);
    assert_eq!((code, steps), (0, Vec::<String>::new()), "{v}");
    let (r, v) = env.run_json(&["device", "push", "r-1", "--wait", "none"]);
    r.assert_code(0);
    assert_eq!(v["devices"][0]["action"], "up_to_date", "{v}");
    // No secret in the event log.
    let r = env.run(&["device", "show", "r-1", "--format", "json"]);
    assert!(!r.all().contains(&new) && !r.all().contains(&old));

    let before = net.retained_update(&new);
    rotation_rolled_back_before_the_sync(
        &env,
        &net,
        &mut device,
        &new,
        (m.port, &pki.ca),
        before.as_ref(),
    );
}

/// The next rotation is staged, but the broker is not synced in time: the
/// device cannot connect with the staged password, rolls back, and says so
/// with the password it still has. The registry makes that password current
/// again, and the broker, which never lost it, has nothing to change.
fn rotation_rolled_back_before_the_sync(
    env: &Env,
    net: &Net,
    device: &mut Device,
    current: &str,
    (port, ca): (u16, &Path),
    before: Option<&Vec<u8>>,
) {
    let rotate = rotate_over_the_air(env, "r-1");
    // The retained message is the committed update until the rotation's
    // replaces it.
    let msg = (0..20)
        .find_map(|_| net.retained_update(current).filter(|m| Some(m) != before))
        .expect("the rotation's update");
    let staged = device.receive(env.path(), &msg).unwrap();
    net.ack(current, &staged);
    assert_eq!(rotate.join().unwrap().status.code(), Some(0));
    let next = device.boot().password.unwrap();
    assert_ne!(next, current);
    let mut rolled_back = None;
    for _ in 0..3 {
        assert!(
            !net.connects(&next),
            "the broker took a password it was never given"
        );
        rolled_back = device.connect("fail:mqtt:5").or(rolled_back);
    }
    let rolled_back = rolled_back.expect("a rolled_back ack");
    assert!(rolled_back.contains("\"rolled_back\""), "{rolled_back}");
    assert_eq!(device.boot().password.as_deref(), Some(current));
    assert!(net.connects(current));
    net.ack(current, &rolled_back);
    let (r, v) = env.run_json(&["device", "updates", "--refresh", "2s"]);
    r.assert_code(0);
    assert_eq!(v[0]["last_ack"]["result"], "rolled_back", "{v}");
    assert_eq!(
        secret_of(env, "r-1"),
        current,
        "the previous password is current again"
    );
    let (code, steps, v) = sync(env, port, ca);
    assert_eq!((code, steps), (0, Vec::<String>::new()), "{v}");
    assert!(net.connects(current));
}
