//! A device's config-update logic for the end-to-end tests: the firmware's
//! own C++ (`firmware-template/host/otaharness.cpp`, compiled here with g++
//! and Debian's libbearssl) when the template has it, else a Rust model of
//! the rules in `firmware-template/CONFIG_FORMAT.md` ("Config updates over
//! MQTT"). Either way the test sees the same three calls: receive a message,
//! report the next connection's outcome, boot.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::thread::JoinHandle;

use espmqtt::device::blob::{ConfigBlob, UpdateKey};
use espmqtt::device::update::{mac, MAC_LEN, MAX_MESSAGE_LEN};
use espmqtt::tls::TrustMode;

use super::firmware::{gxx, repo};
use super::Env;

/// The C++ harness, built once per run; `None` when the template has none.
pub fn otaharness() -> Option<&'static Path> {
    static H: OnceLock<Option<PathBuf>> = OnceLock::new();
    H.get_or_init(|| {
        let t = repo().join("firmware-template");
        let main = t.join("host/otaharness.cpp");
        if !main.exists() {
            return None;
        }
        let mut sources = vec![main];
        for e in std::fs::read_dir(t.join("espmqtt")).unwrap().flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if name.ends_with(".cpp") && name != "app.cpp" {
                sources.push(p);
            }
        }
        let flags = ["-std=c++11", "-g", "-O1"];
        Some(gxx("otaharness", &flags, &sources, &["-lbearssl"], ""))
    })
    .as_deref()
}

/// `device rotate NAME --over-the-air` (JSON) in a thread of its own: it
/// returns once the device acknowledged the rotation's update as staged.
pub fn rotate_over_the_air(env: &Env, name: &str) -> JoinHandle<Output> {
    let mut c = env.cmd();
    c.args([
        "device",
        "rotate",
        name,
        "--over-the-air",
        "--format",
        "json",
    ]);
    std::thread::spawn(move || c.output().unwrap())
}

/// The device's current MQTT password, as `device show --show-secrets`
/// tells it.
pub fn secret_of(env: &Env, name: &str) -> String {
    let (r, v) = env.run_json(&["device", "show", name, "--show-secrets"]);
    r.assert_code(0);
    v["secret"].as_str().expect("secret").to_string()
}

/// One device's update logic and flash.
pub enum Device {
    Cpp {
        bin: PathBuf,
        flash: PathBuf,
        client: String,
    },
    Model(Box<Model>),
}

impl Device {
    /// A device whose flash holds `blob` as its committed config.
    pub fn new(dir: &Path, blob: &[u8]) -> Device {
        let b = ConfigBlob::decode(blob).expect("a valid blob");
        match otaharness() {
            Some(bin) => {
                let flash = dir.join(format!("{}.flash", b.client_id));
                let blob_file = dir.join(format!("{}.blob", b.client_id));
                std::fs::write(&blob_file, blob).unwrap();
                let o = Command::new(bin)
                    .arg(&flash)
                    .arg("init")
                    .arg(&blob_file)
                    .output()
                    .unwrap();
                assert!(o.status.success(), "otaharness init: {o:?}");
                Device::Cpp {
                    bin: bin.to_path_buf(),
                    flash,
                    client: b.client_id.clone(),
                }
            }
            None => Device::Model(Box::new(Model::new(blob))),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Device::Cpp { .. } => "C++ otaharness",
            Device::Model(_) => "Rust model",
        }
    }

    fn run(bin: &Path, flash: &Path, args: &[&std::ffi::OsStr]) -> Option<String> {
        let o = Command::new(bin).arg(flash).args(args).output().unwrap();
        assert!(o.status.success(), "otaharness {args:?}: {o:?}");
        let s = String::from_utf8_lossy(&o.stdout).trim().to_string();
        (!s.is_empty()).then_some(s)
    }

    /// Feed an update message; the ack line, if the device sends one.
    pub fn receive(&mut self, dir: &Path, msg: &[u8]) -> Option<String> {
        match self {
            Device::Cpp { bin, flash, client } => {
                let f = dir.join("incoming.msg");
                std::fs::write(&f, msg).unwrap();
                Self::run(
                    bin,
                    flash,
                    &["receive".as_ref(), client.as_ref(), f.as_os_str()],
                )
            }
            Device::Model(m) => m.receive(msg),
        }
    }

    /// The next connection attempt's outcome (`ok` or `fail:REASON`).
    pub fn connect(&mut self, outcome: &str) -> Option<String> {
        match self {
            Device::Cpp { bin, flash, .. } => {
                Self::run(bin, flash, &["connect".as_ref(), outcome.as_ref()])
            }
            Device::Model(m) => m.connect(outcome),
        }
    }

    /// The module's whole flash as a 1 MB ESP-07 holds it (what
    /// `espmqtt emulate --image` starts from): slot B at 0xFA000 and slot A
    /// at 0xFB000 as this device has them, everything else erased.
    pub fn module_image(&self) -> Vec<u8> {
        let mut image = vec![0xff; MODULE_FLASH];
        match self {
            Device::Cpp { flash, .. } => {
                let slots = std::fs::read(flash).unwrap();
                image[SLOT_B..SLOT_B + slots.len()].copy_from_slice(&slots);
            }
            Device::Model(m) => {
                let blob = &m.committed.1;
                image[SLOT_A..SLOT_A + blob.len()].copy_from_slice(blob);
            }
        }
        image
    }

    /// The module was written over serial: take both slots back from its
    /// flash (`image`, as [`Device::module_image`] lays it out).
    pub fn load_module_image(&mut self, image: &[u8]) {
        match self {
            Device::Cpp { flash, .. } => {
                std::fs::write(flash, &image[SLOT_B..SLOT_A + 0x1000]).unwrap();
            }
            Device::Model(m) => {
                let blob = ConfigBlob::decode(&image[SLOT_A..SLOT_A + 0x1000])
                    .expect("a valid blob in slot A");
                m.serial_write(blob);
            }
        }
    }

    /// The config the device boots with now.
    pub fn boot(&self) -> ConfigBlob {
        match self {
            Device::Cpp { bin, flash, .. } => {
                let line = Self::run(bin, flash, &["boot".as_ref()]).unwrap();
                let v: serde_json::Value = serde_json::from_str(&line).unwrap();
                let c = &v["config"];
                // Enough of the config for the tests: what they compare.
                ConfigBlob {
                    client_id: c["client_id"].as_str().unwrap_or("").into(),
                    wifi_ssid: c["wifi_ssid"].as_str().unwrap_or("").into(),
                    password: c["password"].as_str().map(str::to_string),
                    config_version: c["config_version"].as_u64().unwrap_or(0) as u32,
                    fingerprints: c["fingerprints"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| hex::decode(f.as_str()?).ok()?.try_into().ok())
                        .collect(),
                    update_key: c["update_key"].as_str().and_then(UpdateKey::from_hex),
                    ..ConfigBlob::default()
                }
            }
            Device::Model(m) => m.config().clone(),
        }
    }
}

/// Flash size of the emulated module and where its two config slots are
/// (CONFIG_FORMAT.md, "Two slots": ESP-07, 1 MB).
const MODULE_FLASH: usize = 0x100000;
const SLOT_B: usize = 0xFA000;
const SLOT_A: usize = 0xFB000;

/// The rules of CONFIG_FORMAT.md in Rust: committed config, staged config,
/// highest accepted number, attempts with the staged config. Each config
/// is kept with the blob bytes it came in.
pub struct Model {
    committed: (ConfigBlob, Vec<u8>),
    staged: Option<(ConfigBlob, Vec<u8>)>,
    highest: u32,
    attempts: u32,
    rolled_back: Option<(u32, Vec<u8>)>,
}

fn ack(n: u32, result: &str, reason: &str) -> Option<String> {
    Some(format!(
        "{{\"update\":{n},\"result\":\"{result}\",\"reason\":\"{reason}\"}}"
    ))
}

impl Model {
    /// A device whose committed config is the blob `committed`.
    pub fn new(committed: &[u8]) -> Model {
        let blob = ConfigBlob::decode(committed).expect("a valid blob");
        Model {
            highest: blob.config_version,
            committed: (blob, committed.to_vec()),
            staged: None,
            attempts: 0,
            rolled_back: None,
        }
    }

    /// A blob written into slot A over serial: it is the committed config
    /// from the next boot; nothing is staged; the highest accepted number
    /// stays what the other slot's record says, or the blob's number if
    /// higher.
    pub fn serial_write(&mut self, blob: ConfigBlob) {
        self.highest = self.highest.max(blob.config_version);
        let bytes = blob.encode().expect("an encodable blob");
        self.committed = (blob, bytes);
        self.staged = None;
        self.rolled_back = None;
        self.attempts = 0;
    }

    pub fn config(&self) -> &ConfigBlob {
        &self.staged.as_ref().unwrap_or(&self.committed).0
    }

    /// `number` and `blob` are exactly an update the device handled: its
    /// committed config, the staged one, or the one it just rolled back.
    fn holds(&self, number: u32, blob: &[u8]) -> bool {
        let held = |n: u32, b: &[u8]| n == number && b == blob;
        held(self.committed.0.config_version, &self.committed.1)
            || self
                .staged
                .as_ref()
                .is_some_and(|(c, b)| held(c.config_version, b))
            || self.rolled_back.as_ref().is_some_and(|(n, b)| held(*n, b))
    }

    pub fn receive(&mut self, m: &[u8]) -> Option<String> {
        if m.is_empty() {
            return None;
        }
        if m.len() > MAX_MESSAGE_LEN {
            return ack(0, "rejected", "too_large");
        }
        if m.len() < 45 || &m[0..4] != b"EMQU" || m[4] != 1 {
            return ack(0, "rejected", "bad_format");
        }
        let n = m[5] as usize;
        if n == 0 || n > 128 || m.len() < 44 + n {
            return ack(0, "rejected", "bad_format");
        }
        let l = u16::from_le_bytes([m[10 + n], m[11 + n]]) as usize;
        if m.len() != 44 + n + l || !(12..=4096).contains(&l) {
            return ack(0, "rejected", "bad_format");
        }
        let number = u32::from_le_bytes(m[6 + n..10 + n].try_into().unwrap());
        if m[6..6 + n] != *self.committed.0.client_id.as_bytes() {
            return ack(number, "rejected", "wrong_client");
        }
        let Some(key) = &self.committed.0.update_key else {
            return ack(number, "rejected", "no_update_key");
        };
        // The update it handled, delivered again byte for byte: no answer
        // whatever the MAC (after a key rotation it is the previous key's).
        let raw = &m[12 + n..12 + n + l];
        if self.holds(number, raw) {
            return None;
        }
        let body = m.len() - MAC_LEN;
        if mac(key, &m[..body]) != m[body..] {
            return ack(number, "rejected", "bad_mac");
        }
        // A redelivery of what it holds (or of what it just rolled back):
        // no answer, so the retained acknowledgement stays as it is.
        let current = self.config().config_version;
        if number == current || self.rolled_back.as_ref().is_some_and(|(r, _)| *r == number) {
            return None;
        }
        if number <= self.highest {
            return ack(number, "rejected", "replayed");
        }
        if l > espmqtt::device::update::MAX_PUSH_BLOB_LEN {
            return ack(number, "rejected", "bad_blob:too_large");
        }
        let blob = match ConfigBlob::decode(raw) {
            Ok(b) => b,
            Err(e) => return ack(number, "rejected", &format!("bad_blob:{}", e.code())),
        };
        if blob.client_id != self.committed.0.client_id {
            return ack(number, "rejected", "blob_client_mismatch");
        }
        if blob.update_key.is_none() {
            return ack(number, "rejected", "no_update_key_in_blob");
        }
        let no_trust = (blob.trust == TrustMode::Insecure
            && self.committed.0.trust != TrustMode::Insecure)
            || (blob.trust == TrustMode::Fingerprint
                && blob.fingerprints.iter().all(|f| f == &[0; 20]));
        if no_trust {
            return ack(number, "rejected", "no_trust");
        }
        if self.staged.is_some() {
            return ack(number, "rejected", "busy");
        }
        self.highest = number;
        self.staged = Some((blob, raw.to_vec()));
        self.attempts = 0;
        ack(number, "staged", "")
    }

    pub fn connect(&mut self, outcome: &str) -> Option<String> {
        let staged = self.staged.as_ref()?;
        let n = staged.0.config_version;
        if outcome == "ok" {
            self.committed = self.staged.take().unwrap();
            return ack(n, "committed", "");
        }
        self.attempts += 1;
        if self.attempts >= 3 {
            let (_, raw) = self.staged.take().unwrap();
            self.rolled_back = Some((n, raw));
            return ack(
                n,
                "rolled_back",
                outcome.strip_prefix("fail:").unwrap_or(outcome),
            );
        }
        None
    }
}
