//! The acceptance matrix of `probe` (docs/PROBE.md, "The matrix"): one
//! table of broker setups, each with a real server on loopback —
//! mosquitto's own TLS listener (OpenSSL), OpenSSL through socat in front
//! of a plain mosquitto (TLS 1.0/1.1, small RSA keys), gnutls-serv (other
//! MFLN, alert and client-certificate behaviour), a rustls front — and for
//! each case the BearSSL error and the PubSubClient state the device gets,
//! the exit code, the finding that explains it, and the device oracle
//! (`tests/support/bearssl_client.c`) run against the same server.
//!
//! The cases run on a few threads; [`matrix`] runs the table once per test
//! binary and both tests below read its results: one checks every case's
//! expectations, the other walks every `--format json` report for
//! contradictions between `device_tls_error`, the verdict, the phases and
//! the fatal findings.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::support::mosquitto::Mosquitto;
use crate::support::pki::{self, Alg, Issued};
use crate::support::probe::{
    have_mosquitto, have_tls_servers, oracle, oracle_device, password_file, Misbehaviour,
    RawServer, Report, RustlsFront, ServerProcess, TestPki,
};
use crate::support::{espmqtt, Env};

/// Parallel cases: enough to hide the servers' start-up, few enough for a
/// loaded 2-core machine.
const WORKERS: usize = 4;

/// The MQTT identity the broker knows (password file and ACL below).
const USER: &str = "dev1";
const PASS: &str = "s3cret";
const CLIENT_ID: &str = "dev-a";

/// How the device authenticates the broker.
#[derive(Clone, Debug)]
enum Trust {
    Ca(PathBuf),
    Fingerprint(Vec<String>),
    /// A certificate whose public key is pinned.
    Pubkey(PathBuf),
    Insecure,
}

/// The server of a case.
#[derive(Clone, Debug)]
enum Server {
    /// mosquitto's TLS listener: chain, key, more listener lines.
    Mosquitto {
        chain: PathBuf,
        key: PathBuf,
        extra: String,
    },
    /// socat (OpenSSL) with these address options in front of a plain
    /// mosquitto with password file and ACL.
    OpensslFront {
        chain: PathBuf,
        key: PathBuf,
        opts: String,
    },
    /// gnutls-serv in echo mode (it is not an MQTT broker: the device's
    /// CONNECT comes back instead of a CONNACK).
    Gnutls {
        chain: PathBuf,
        key: PathBuf,
        args: Vec<String>,
    },
    /// rustls terminating TLS in front of a server that closes the
    /// connection after the first bytes (CONNECT).
    ClosesAfterConnect,
    /// rustls terminating TLS in front of an echo server.
    TlsEcho,
    /// rustls terminating TLS (it ignores max_fragment_length) in front
    /// of a plain anonymous mosquitto.
    IgnoresMfln,
    /// A plain (non-TLS) mosquitto listener.
    PlainMqtt,
    /// Nothing listens on the port.
    Refused,
}

/// What a case must produce.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Want {
    /// `device_tls_error` (`None`: no TLS attempted).
    tls: Option<i32>,
    state: i32,
    exit: i32,
    /// A finding that must be there (fatal when the verdict is not ok).
    finding: Option<&'static str>,
    /// More findings that must be there (any severity), and ones that
    /// must not.
    notes: Vec<&'static str>,
    absent: Vec<&'static str>,
    /// The max_fragment_length the server echoed (`Some(None)`: none).
    mfln_echoed: Option<Option<u16>>,
}

#[derive(Clone, Debug)]
struct Case {
    name: &'static str,
    server: Server,
    /// The host the device connects to (and passes to `connect()`).
    host: &'static str,
    trust: Trust,
    client: Option<(PathBuf, PathBuf)>,
    /// MQTT user and password (`None`: anonymous).
    login: Option<(&'static str, &'static str)>,
    /// Flags both `probe` and the oracle take in the same spelling
    /// (`--servername` is `--sni` for the oracle, see [`Case::oracle_args`]).
    flags: Vec<String>,
    timeout: &'static str,
    /// A retained message of this many bytes on the device's topics,
    /// published before the probe (it arrives right after SUBSCRIBE).
    retained: Option<usize>,
    want: Want,
}

impl Case {
    fn new(name: &'static str, server: Server, trust: Trust) -> Case {
        Case {
            name,
            server,
            host: "localhost",
            trust,
            client: None,
            login: Some((USER, PASS)),
            flags: Vec::new(),
            timeout: "5",
            retained: None,
            want: Want {
                tls: Some(0),
                state: 0,
                exit: 0,
                finding: None,
                notes: Vec::new(),
                absent: Vec::new(),
                mfln_echoed: None,
            },
        }
    }
    fn host(mut self, host: &'static str) -> Self {
        self.host = host;
        self
    }
    fn client(mut self, cert: &Path, key: &Path) -> Self {
        self.client = Some((cert.to_path_buf(), key.to_path_buf()));
        self
    }
    fn retained(mut self, bytes: usize) -> Self {
        self.retained = Some(bytes);
        self
    }
    fn login(mut self, login: Option<(&'static str, &'static str)>) -> Self {
        self.login = login;
        self
    }
    fn flag(mut self, name: &str, value: &str) -> Self {
        self.flags.extend([name.to_string(), value.to_string()]);
        self
    }
    fn timeout(mut self, secs: &'static str) -> Self {
        self.timeout = secs;
        self
    }
    /// The device fails the TLS handshake with this BearSSL error.
    fn tls_fails(mut self, code: i32, finding: &'static str) -> Self {
        self.want = Want {
            tls: Some(code),
            state: -2,
            exit: 1,
            finding: Some(finding),
            ..self.want
        };
        self
    }
    /// TLS works; MQTT ends in this state (exit 1 unless it is 0).
    fn mqtt(mut self, state: i32, finding: &'static str) -> Self {
        self.want = Want {
            tls: Some(0),
            state,
            exit: 1,
            finding: Some(finding),
            ..self.want
        };
        self
    }
    /// TLS worked, then the session failed with this BearSSL error.
    fn session_fails(mut self, code: i32, state: i32, finding: &'static str) -> Self {
        self.want = Want {
            tls: Some(code),
            state,
            exit: 1,
            finding: Some(finding),
            ..self.want
        };
        self
    }
    /// These findings must be there too (any severity), those not at all.
    fn notes(mut self, present: &[&'static str], absent: &[&'static str]) -> Self {
        self.want.notes.extend(present);
        self.want.absent.extend(absent);
        self
    }
    /// The server must echo this max_fragment_length (`None`: no echo).
    fn mfln_echo(mut self, echoed: Option<u16>) -> Self {
        self.want.mfln_echoed = Some(echoed);
        self
    }
    /// Everything works, and this finding is among the notes.
    fn ok_with(mut self, finding: &'static str) -> Self {
        self.want.finding = Some(finding);
        self
    }
    fn unreachable(mut self, tls: Option<i32>, finding: &'static str) -> Self {
        self.want = Want {
            tls,
            state: -2,
            exit: 3,
            finding: Some(finding),
            ..self.want
        };
        self
    }

    fn probe_args(&self, port: u16) -> Vec<String> {
        let mut a = vec![format!("{}:{port}", self.host)];
        match &self.trust {
            Trust::Ca(p) => a.extend(["--trust".into(), "ca".into(), "--ca-file".into(), s(p)]),
            Trust::Fingerprint(fps) => {
                a.extend(["--trust".into(), "fingerprint".into()]);
                for f in fps {
                    a.extend(["--fingerprint".into(), f.clone()]);
                }
            }
            Trust::Pubkey(p) => a.extend([
                "--trust".into(),
                "pubkey".into(),
                "--pubkey-file".into(),
                s(p),
            ]),
            Trust::Insecure => a.extend(["--trust".into(), "insecure".into()]),
        }
        if let Some((c, k)) = &self.client {
            a.extend(["--cert".into(), s(c), "--key".into(), s(k)]);
        }
        if let Some((u, p)) = self.login {
            a.extend(["--username".into(), u.into(), "--password".into(), p.into()]);
        }
        a.extend(["--client-id".into(), CLIENT_ID.into()]);
        a.extend(self.flags.iter().cloned());
        a.extend(["--timeout".into(), self.timeout.into()]);
        a
    }

    /// The oracle's mode and options for the same device configuration.
    fn oracle_args(&self) -> (&'static str, Vec<String>) {
        let mut a = Vec::new();
        let mode = match &self.trust {
            Trust::Ca(p) => {
                a.extend(["--ta".into(), s(p)]);
                "ca"
            }
            Trust::Fingerprint(fps) => {
                for f in fps {
                    a.extend(["--fp".into(), f.replace(':', "")]);
                }
                "fingerprint"
            }
            Trust::Pubkey(p) => {
                a.extend(["--knownkey".into(), s(p)]);
                "pubkey"
            }
            Trust::Insecure => "insecure",
        };
        let mut sni = self.host.to_string();
        let mut flags = self.flags.iter();
        while let Some(f) = flags.next() {
            let v = flags.next().cloned().unwrap_or_default();
            match f.as_str() {
                "--servername" => sni = v,
                "--tls-versions" => a.extend(["--versions".into(), v]),
                "--ciphers" if v == "basic" => a.push("--basic".into()),
                "--mfln" => a.extend(["--mfln".into(), v]),
                _ => {}
            }
        }
        a.extend(["--sni".into(), sni]);
        if let Some((c, k)) = &self.client {
            a.extend(["--cert".into(), s(c), "--key".into(), s(k)]);
        }
        a.extend(["--mqtt".into(), CLIENT_ID.into()]);
        if let Some((u, p)) = self.login {
            a.extend(["--user".into(), u.into(), "--pass".into(), p.into()]);
        }
        a.extend(["--timeout".into(), self.timeout.into()]);
        (mode, a)
    }
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Certificates, keys and broker files shared by the cases.
struct Fixture {
    dir: tempfile::TempDir,
    ca: PathBuf,
    /// CA file with a CA that signed nothing here.
    other_ca: PathBuf,
    /// The default server (EC P-256, localhost and 127.0.0.1).
    pki: TestPki,
    passwd: PathBuf,
    acl: PathBuf,
    acl_other_topics: PathBuf,
    /// An OpenSSL configuration at security level 0 (TLS 1.0, RSA-1024),
    /// for the OpenSSL front.
    lowsec: PathBuf,
    client: (PathBuf, PathBuf),
    client_unknown_ca: (PathBuf, PathBuf),
}

impl Fixture {
    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write a chain (PEM, in this order) and key under `stem`.
    fn server(&self, stem: &str, chain: &[&Issued], key: &Issued) -> (PathBuf, PathBuf) {
        let c = self.path().join(format!("{stem}.crt"));
        let k = self.path().join(format!("{stem}.key"));
        let pem: String = chain.iter().map(|i| i.cert_pem.as_str()).collect();
        std::fs::write(&c, pem).unwrap();
        std::fs::write(&k, &key.key_pem).unwrap();
        (c, k)
    }

    /// A leaf of the test CA written under `stem`.
    fn leaf(
        &self,
        stem: &str,
        sans: &[&str],
        alg: Alg,
        tweak: impl FnOnce(&mut rcgen::CertificateParams),
    ) -> (PathBuf, PathBuf) {
        let l = pki::leaf_with("localhost", sans, alg, &self.pki.ca, tweak);
        self.server(stem, &[&l], &l)
    }

    /// A leaf of the test CA on an RSA key of `bits` (cached keys).
    fn rsa_leaf(
        &self,
        stem: &str,
        bits: u32,
        tweak: impl FnOnce(&mut rcgen::CertificateParams),
    ) -> (PathBuf, PathBuf) {
        let key = pki::rsa_key_cached(bits);
        let l = pki::leaf_with_key("localhost", &["localhost"], key, &self.pki.ca, tweak);
        self.server(stem, &[&l], &l)
    }

    /// A leaf made with the openssl command line on `key_pem`.
    fn openssl_leaf(&self, stem: &str, key_pem: &str) -> (PathBuf, PathBuf) {
        let (ca_crt, ca_key) = self.pki.ca.write(self.path(), "ca-for-openssl");
        pki::openssl_leaf(
            self.path(),
            stem,
            key_pem,
            "localhost",
            "subjectAltName=DNS:localhost",
            &ca_crt,
            &ca_key,
        )
    }

    fn mosquitto_auth(&self, acl: &Path) -> String {
        format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n",
            self.passwd.display(),
            acl.display()
        )
    }
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let pki = TestPki::new(dir.path(), Alg::EcP256);
    let other = pki::ca("someone else", Alg::EcP256);
    let (other_ca, _) = other.write(dir.path(), "other-ca");
    let client = pki::leaf("dev-a", &[], Alg::EcP256, &pki.ca);
    let client = client.write(dir.path(), "client");
    let stranger = pki::leaf("dev-a", &[], Alg::EcP256, &other);
    let client_unknown_ca = stranger.write(dir.path(), "client-unknown-ca");
    let passwd = password_file(dir.path(), USER, PASS);
    let acl = dir.path().join("acl");
    std::fs::write(
        &acl,
        format!("user {USER}\npattern readwrite espmqtt/%c/#\n"),
    )
    .unwrap();
    let acl_other_topics = dir.path().join("acl-other");
    std::fs::write(
        &acl_other_topics,
        format!("user {USER}\ntopic readwrite other/#\n"),
    )
    .unwrap();
    let lowsec = dir.path().join("openssl-seclevel0.cnf");
    std::fs::write(
        &lowsec,
        "openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n[ssl_sect]\n\
         system_default = system_default_sect\n[system_default_sect]\n\
         CipherString = DEFAULT:@SECLEVEL=0\nMinProtocol = TLSv1\n",
    )
    .unwrap();
    Fixture {
        lowsec,
        ca: pki.ca_file.clone(),
        dir,
        other_ca,
        pki,
        passwd,
        acl,
        acl_other_topics,
        client,
        client_unknown_ca,
    }
}

/// The table: every group of cases below.
fn cases(fx: &Fixture) -> Vec<Case> {
    let t = Tables::new(fx);
    [
        trust_cases(&t),
        name_cases(&t),
        chain_cases(&t),
        key_cases(&t),
        version_cases(&t),
        client_cases(&t),
        mqtt_cases(&t),
        gnutls_cases(&t),
        unreachable_cases(&t),
    ]
    .concat()
}

/// What the groups of cases share: the fixture, `ca` mode with the test
/// CA, the default server certificate, an RSA-2048 one, and the servers.
struct Tables<'a> {
    fx: &'a Fixture,
    ca: Trust,
    rsa2048: (PathBuf, PathBuf),
}

impl Tables<'_> {
    fn new(fx: &Fixture) -> Tables<'_> {
        Tables {
            fx,
            ca: Trust::Ca(fx.ca.clone()),
            rsa2048: fx.rsa_leaf("rsa2048", 2048, |_| {}),
        }
    }
    /// The default server certificate and key (EC P-256).
    fn pair(&self) -> (PathBuf, PathBuf) {
        (self.fx.pki.cert_file.clone(), self.fx.pki.key_file.clone())
    }
    /// mosquitto with password file and ACL plus `extra` listener lines.
    fn mosq(&self, (chain, key): (PathBuf, PathBuf), extra: &str) -> Server {
        Server::Mosquitto {
            chain,
            key,
            extra: format!("{}{extra}", self.fx.mosquitto_auth(&self.fx.acl)),
        }
    }
    fn default(&self) -> Server {
        self.mosq(self.pair(), "")
    }
}

fn front((chain, key): (PathBuf, PathBuf), opts: &str) -> Server {
    Server::OpensslFront {
        chain,
        key,
        opts: opts.into(),
    }
}

fn gnutls((chain, key): (PathBuf, PathBuf), args: &[&str]) -> Server {
    Server::Gnutls {
        chain,
        key,
        args: args.iter().map(|a| a.to_string()).collect(),
    }
}

/// Each trust mode: ok, and the wrong anchor / fingerprint / key.
fn trust_cases(t: &Tables) -> Vec<Case> {
    let fx = t.fx;
    let right_fp = fx.pki.leaf_sha1();
    let wrong_fp = "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33".to_string();
    vec![
        Case::new("ca ok", t.default(), t.ca.clone()).mfln_echo(Some(512)),
        Case::new(
            "ca wrong anchor",
            t.default(),
            Trust::Ca(fx.other_ca.clone()),
        )
        .tls_fails(62, "chain_untrusted"),
        Case::new(
            "fingerprint ok",
            t.default(),
            Trust::Fingerprint(vec![right_fp.clone()]),
        )
        .ok_with("fingerprint_renewal"),
        Case::new(
            "fingerprint wrong",
            t.default(),
            Trust::Fingerprint(vec![wrong_fp.clone()]),
        )
        .tls_fails(62, "fingerprint_mismatch"),
        Case::new(
            "fingerprint next matches",
            t.default(),
            Trust::Fingerprint(vec![wrong_fp.clone(), right_fp.clone()]),
        )
        .ok_with("first_fingerprint_stale"),
        Case::new(
            "pubkey ok",
            t.default(),
            Trust::Pubkey(fx.pki.cert_file.clone()),
        ),
        // br_x509_knownkey compares nothing: the pinned key simply fails to
        // verify the server's key exchange signature.
        Case::new(
            "pubkey wrong key",
            t.default(),
            Trust::Pubkey(fx.other_ca.clone()),
        )
        .tls_fails(27, "pubkey_mismatch"),
        Case::new("insecure ok", t.default(), Trust::Insecure).ok_with("insecure_mode"),
    ]
}

/// Dates and names.
fn name_cases(t: &Tables) -> Vec<Case> {
    let fx = t.fx;
    let expired = fx.leaf("expired", &["localhost"], Alg::EcP256, |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let expired_fp = sha1_of(&expired.0);
    vec![
        Case::new("expired", t.mosq(expired.clone(), ""), t.ca.clone())
            .tls_fails(54, "certificate_expired"),
        Case::new(
            "expired, fingerprint mode",
            t.mosq(expired, ""),
            Trust::Fingerprint(vec![expired_fp]),
        ),
        Case::new(
            "not yet valid",
            t.mosq(
                fx.leaf("future", &["localhost"], Alg::EcP256, |p| {
                    p.not_before = rcgen::date_time_ymd(2090, 1, 1);
                    p.not_after = rcgen::date_time_ymd(2091, 1, 1);
                }),
                "",
            ),
            t.ca.clone(),
        )
        .tls_fails(54, "certificate_not_yet_valid"),
        Case::new("name mismatch", t.default(), t.ca.clone())
            .host("127.0.0.1")
            .flag("--servername", "other.test")
            .tls_fails(56, "name_mismatch"),
        Case::new("IP literal, iPAddress SAN", t.default(), t.ca.clone())
            .host("127.0.0.1")
            .tls_fails(56, "name_mismatch_ip_san"),
        Case::new("IP literal, --servername", t.default(), t.ca.clone())
            .host("127.0.0.1")
            .flag("--servername", "localhost"),
        // Without a subjectAltName, BearSSL matches the subject's CN.
        Case::new(
            "CN only",
            t.mosq(fx.leaf("cn-only", &[], Alg::EcP256, |_| {}), ""),
            t.ca.clone(),
        ),
        Case::new(
            "unknown critical extension",
            t.mosq(
                fx.leaf("critical", &["localhost"], Alg::EcP256, |p| {
                    let mut ext = rcgen::CustomExtension::from_oid_content(
                        &[1, 3, 6, 1, 4, 1, 99999, 1],
                        vec![5, 0],
                    );
                    ext.set_criticality(true);
                    p.custom_extensions.push(ext);
                }),
                "",
            ),
            t.ca.clone(),
        )
        .tls_fails(57, "critical_extension"),
    ]
}

/// Chains.
fn chain_cases(t: &Tables) -> Vec<Case> {
    let fx = t.fx;
    let root = &fx.pki.ca;
    let inter = pki::intermediate("matrix intermediate", Alg::EcP256, root);
    let via_inter = pki::leaf("localhost", &["localhost"], Alg::EcP256, &inter);
    let pathlen0 = pki::intermediate_with("pathlen 0", Alg::EcP256, root, |p| {
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    });
    let under_pathlen0 = pki::intermediate("below pathlen 0", Alg::EcP256, &pathlen0);
    let too_deep = pki::leaf("localhost", &["localhost"], Alg::EcP256, &under_pathlen0);
    let no_cert_sign = pki::intermediate_with("no keyCertSign", Alg::EcP256, root, |p| {
        p.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    });
    let under_no_cert_sign = pki::leaf("localhost", &["localhost"], Alg::EcP256, &no_cert_sign);
    vec![
        Case::new(
            "intermediate sent",
            t.mosq(fx.server("inter-ok", &[&via_inter, &inter], &via_inter), ""),
            t.ca.clone(),
        ),
        Case::new(
            "intermediate missing",
            t.mosq(fx.server("inter-missing", &[&via_inter], &via_inter), ""),
            t.ca.clone(),
        )
        .tls_fails(62, "chain_untrusted"),
        Case::new(
            "intermediate misordered",
            t.mosq(
                fx.server("inter-misordered", &[&via_inter, root, &inter], &via_inter),
                "",
            ),
            t.ca.clone(),
        )
        .tls_fails(55, "chain_out_of_order"),
        Case::new(
            "pathlen violated",
            t.mosq(
                fx.server(
                    "pathlen",
                    &[&too_deep, &under_pathlen0, &pathlen0],
                    &too_deep,
                ),
                "",
            ),
            t.ca.clone(),
        )
        .tls_fails(58, "path_length_exceeded"),
        Case::new(
            "CA without keyCertSign",
            t.mosq(
                fx.server(
                    "ca-ku",
                    &[&under_no_cert_sign, &no_cert_sign],
                    &under_no_cert_sign,
                ),
                "",
            ),
            t.ca.clone(),
        )
        .tls_fails(59, "ca_key_usage"),
    ]
}

/// Keys.
fn key_cases(t: &Tables) -> Vec<Case> {
    let fx = t.fx;
    let rsa_ku = |stem: &str| {
        fx.rsa_leaf(stem, 2048, |p| {
            p.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment];
        })
    };
    vec![
        Case::new(
            "key usage vs ECDHE suite",
            t.mosq(rsa_ku("ku-ecdhe"), "ciphers ECDHE-RSA-AES128-GCM-SHA256\n"),
            t.ca.clone(),
        )
        .tls_fails(28, "leaf_key_usage"),
        Case::new(
            "key usage allows RSA key exchange",
            t.mosq(rsa_ku("ku-rsa"), "ciphers AES128-GCM-SHA256\n"),
            t.ca.clone(),
        ),
        Case::new(
            "RSA-1024 leaf",
            front(fx.openssl_leaf("rsa1024", &pki::rsa_pem_cached(1024)), ""),
            t.ca.clone(),
        ),
        Case::new("RSA-2048 leaf", t.mosq(t.rsa2048.clone(), ""), t.ca.clone()),
        Case::new(
            "RSA-4096 leaf",
            t.mosq(fx.rsa_leaf("rsa4096", 4096, |_| {}), ""),
            t.ca.clone(),
        ),
        Case::new(
            "RSA-8192 leaf",
            t.mosq(fx.openssl_leaf("rsa8192", &pki::rsa_pem_cached(8192)), ""),
            t.ca.clone(),
        )
        .tls_fails(50, "rsa_key_too_large"),
        Case::new(
            "P-384 leaf",
            t.mosq(fx.leaf("p384", &["localhost"], Alg::EcP384, |_| {}), ""),
            t.ca.clone(),
        ),
        Case::new(
            "P-521 leaf",
            t.mosq(
                fx.openssl_leaf(
                    "p521",
                    &pki::openssl_key(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521"]),
                ),
                "",
            ),
            t.ca.clone(),
        ),
        Case::new(
            "secp256k1 leaf",
            t.mosq(
                fx.openssl_leaf(
                    "k256",
                    &pki::openssl_key(&[
                        "-algorithm",
                        "EC",
                        "-pkeyopt",
                        "ec_paramgen_curve:secp256k1",
                    ]),
                ),
                "",
            ),
            t.ca.clone(),
        )
        .tls_fails(296, "unsupported_curve"),
        Case::new("Ed25519 leaf", t.mosq(ed25519_leaf(fx), ""), t.ca.clone())
            .tls_fails(296, "unsupported_key_type"),
    ]
}

/// Versions and suites.
fn version_cases(t: &Tables) -> Vec<Case> {
    let old_tls = "openssl-min-proto-version=TLS1";
    vec![
        Case::new(
            "DHE only",
            t.mosq(
                t.rsa2048.clone(),
                "tls_version tlsv1.2\nciphers DHE-RSA-AES128-GCM-SHA256\n",
            ),
            t.ca.clone(),
        )
        .tls_fails(296, "no_common_suite"),
        Case::new(
            "TLS 1.3 only",
            t.mosq(t.pair(), "tls_version tlsv1.3\n"),
            t.ca.clone(),
        )
        .tls_fails(326, "tls13_only"),
        Case::new(
            "TLS 1.0 only",
            front(
                t.pair(),
                &format!("{old_tls},openssl-max-proto-version=TLS1"),
            ),
            t.ca.clone(),
        )
        .ok_with("old_tls_version"),
        Case::new(
            "TLS 1.1 only",
            front(
                t.pair(),
                &format!("{old_tls},openssl-max-proto-version=TLS1.1"),
            ),
            t.ca.clone(),
        )
        .ok_with("old_tls_version"),
        Case::new(
            "TLS 1.0-1.1 broker, device set to 1.2",
            front(
                t.pair(),
                &format!("{old_tls},openssl-max-proto-version=TLS1.1"),
            ),
            t.ca.clone(),
        )
        .flag("--tls-versions", "1.2")
        .tls_fails(3, "version_out_of_range")
        .notes(&[], &["tls13_only"]),
        Case::new(
            "TLS 1.2+ broker, device set to 1.0-1.1",
            t.default(),
            t.ca.clone(),
        )
        .flag("--tls-versions", "1.0-1.1")
        .tls_fails(336, "version_out_of_range"),
        Case::new(
            "CBC only",
            t.mosq(
                t.pair(),
                "tls_version tlsv1.2\nciphers ECDHE-ECDSA-AES128-SHA256\n",
            ),
            t.ca.clone(),
        ),
        Case::new("basic ciphers, EC broker", t.default(), t.ca.clone())
            .flag("--ciphers", "basic")
            .tls_fails(296, "no_common_suite"),
    ]
}

/// Client certificates.
fn client_cases(t: &Tables) -> Vec<Case> {
    let fx = t.fx;
    vec![
        Case::new(
            "client cert required, none",
            t.mosq(t.pair(), "require_certificate true\n"),
            t.ca.clone(),
        )
        .tls_fails(296, "client_certificate_required"),
        Case::new(
            "client cert required, given",
            t.mosq(t.pair(), "require_certificate true\n"),
            t.ca.clone(),
        )
        .client(&fx.client.0, &fx.client.1),
        Case::new(
            "client cert from an unknown CA",
            t.mosq(t.pair(), "require_certificate true\n"),
            t.ca.clone(),
        )
        .client(&fx.client_unknown_ca.0, &fx.client_unknown_ca.1)
        .tls_fails(304, "client_certificate_rejected"),
        // The key of another certificate: the broker cannot verify the
        // device's CertificateVerify (alert 51 decrypt_error).
        Case::new(
            "client cert with another certificate's key",
            t.mosq(t.pair(), "require_certificate true\n"),
            t.ca.clone(),
        )
        .client(&fx.client.0, &fx.client_unknown_ca.1)
        .tls_fails(307, "client_key_mismatch"),
    ]
}

/// MQTT.
fn mqtt_cases(t: &Tables) -> Vec<Case> {
    let fx = t.fx;
    vec![
        Case::new("wrong password", t.default(), t.ca.clone())
            .login(Some((USER, "wrong")))
            .mqtt(5, "bad_credentials"),
        Case::new("unknown user", t.default(), t.ca.clone())
            .login(Some(("nobody", PASS)))
            .mqtt(5, "bad_credentials"),
        Case::new("anonymous, not allowed", t.default(), t.ca.clone())
            .login(None)
            .mqtt(5, "bad_credentials"),
        Case::new(
            "ACL denies the topics",
            t.mosq(t.pair(), "")
                .with_acl(&fx.mosquitto_auth(&fx.acl_other_topics)),
            t.ca.clone(),
        )
        .timeout("2")
        .mqtt(0, "publish_not_delivered"),
        Case::new(
            "broker closes after CONNECT",
            Server::ClosesAfterConnect,
            t.ca.clone(),
        )
        .mqtt(-4, "closed_after_connect"),
        // MFLN negotiated and enforced: mosquitto (OpenSSL) honours 512, so
        // a 2 KB message arrives in pieces; rustls ignores the request and
        // sends one 2 KB record, which BearSSL refuses (error 6).
        Case::new("MFLN honoured, 2 KB message", t.default(), t.ca.clone())
            .retained(2000)
            .mfln_echo(Some(512)),
        Case::new(
            "MFLN ignored, 2 KB message",
            Server::IgnoresMfln,
            t.ca.clone(),
        )
        .login(None)
        .retained(2000)
        .mfln_echo(None)
        .session_fails(6, -3, "record_too_large"),
        Case::new(
            "TLS echo server, not a broker",
            Server::TlsEcho,
            t.ca.clone(),
        )
        .mqtt(-1, "not_mqtt"),
    ]
}

/// gnutls-serv.
fn gnutls_cases(t: &Tables) -> Vec<Case> {
    let fx = t.fx;
    vec![
        // gnutls-serv's echo answers lines, so the CONNECT stays
        // unanswered: TLS works, PubSubClient times out (-4).
        Case::new(
            "gnutls: optional client cert, none",
            gnutls(t.pair(), &[]),
            t.ca.clone(),
        )
        .timeout("2")
        .mqtt(-4, "no_connack")
        .notes(
            &["client_certificate_optional"],
            &["client_certificate_required"],
        ),
        Case::new(
            "gnutls: client cert required, none",
            gnutls(t.pair(), &["--require-client-cert"]),
            t.ca.clone(),
        )
        .tls_fails(306, "client_certificate_required"),
        Case::new(
            "gnutls: client cert required, given",
            gnutls(
                t.pair(),
                &[
                    "--require-client-cert",
                    "--verify-client-cert",
                    "--x509cafile",
                    &s(&fx.ca),
                ],
            ),
            t.ca.clone(),
        )
        .client(&fx.client.0, &fx.client.1)
        .timeout("2")
        .mqtt(-4, "no_connack"),
        Case::new(
            "gnutls: client cert from an unknown CA",
            gnutls(
                t.pair(),
                &[
                    "--require-client-cert",
                    "--verify-client-cert",
                    "--x509cafile",
                    &s(&fx.ca),
                ],
            ),
            t.ca.clone(),
        )
        .client(&fx.client_unknown_ca.0, &fx.client_unknown_ca.1)
        .tls_fails(305, "client_certificate_rejected"),
        Case::new(
            "gnutls: TLS 1.3 only",
            gnutls(t.pair(), &["--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.3"]),
            t.ca.clone(),
        )
        .tls_fails(296, "tls13_only"),
        Case::new(
            "gnutls: TLS 1.0 only",
            gnutls(t.pair(), &["--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.0"]),
            t.ca.clone(),
        )
        .timeout("2")
        .mqtt(-4, "no_connack")
        .notes(&["old_tls_version"], &[]),
        Case::new(
            "gnutls: TLS 1.0 only, device set to 1.2",
            gnutls(t.pair(), &["--priority", "NORMAL:-VERS-ALL:+VERS-TLS1.0"]),
            t.ca.clone(),
        )
        .flag("--tls-versions", "1.2")
        .tls_fails(3, "version_out_of_range")
        .notes(&[], &["tls13_only"]),
        Case::new(
            "gnutls: DHE only",
            gnutls(
                t.rsa2048.clone(),
                &["--priority", "NORMAL:-KX-ALL:+DHE-RSA"],
            ),
            t.ca.clone(),
        )
        .tls_fails(296, "no_common_suite"),
        Case::new("gnutls: MFLN 1024", gnutls(t.pair(), &[]), t.ca.clone())
            .flag("--mfln", "1024")
            .timeout("2")
            .mqtt(-4, "no_connack")
            .mfln_echo(Some(1024)),
        Case::new(
            "gnutls: wrong anchor",
            gnutls(t.pair(), &[]),
            Trust::Ca(fx.other_ca.clone()),
        )
        .tls_fails(62, "chain_untrusted"),
    ]
}

/// Nothing TLS answers: exit 3.
fn unreachable_cases(_: &Tables) -> Vec<Case> {
    vec![
        Case::new("plain MQTT port", Server::PlainMqtt, Trust::Insecure)
            .unreachable(Some(31), "closed_without_answer"),
        Case::new("refused port", Server::Refused, Trust::Insecure).unreachable(None, "tcp_failed"),
    ]
}

impl Server {
    /// The mosquitto case with other authentication lines.
    fn with_acl(self, auth: &str) -> Server {
        match self {
            Server::Mosquitto { chain, key, .. } => Server::Mosquitto {
                chain,
                key,
                extra: auth.to_string(),
            },
            other => other,
        }
    }
}

/// SHA-1 of the first certificate in a PEM file, colon hex.
fn sha1_of(pem_file: &Path) -> String {
    use sha1::Digest;
    let pem = std::fs::read(pem_file).unwrap();
    let der = rustls_pemfile::certs(&mut &pem[..])
        .next()
        .unwrap()
        .unwrap();
    let d = sha1::Sha1::digest(der.as_ref());
    d.iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// An Ed25519 leaf: ring writes Ed25519 keys as PKCS#8 v2, which OpenSSL
/// 3.0 (and so mosquitto) cannot load, so the key comes from openssl.
fn ed25519_leaf(fx: &Fixture) -> (PathBuf, PathBuf) {
    let key_pem = pki::openssl_key(&["-algorithm", "ed25519"]);
    let key = rcgen::KeyPair::from_pem(&key_pem).unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert = params
        .signed_by(&key, &fx.pki.ca.cert, &fx.pki.ca.key)
        .unwrap();
    let leaf = Issued {
        cert_pem: cert.pem(),
        key_pem,
        cert,
        key,
    };
    fx.server("ed25519", &[&leaf], &leaf)
}

/// Whatever keeps a case's server alive.
struct Running {
    port: u16,
    /// A plain MQTT port of the same broker (behind a TLS front).
    plain: Option<u16>,
    _guards: Vec<Box<dyn std::any::Any>>,
}

fn start(server: &Server, fx: &Fixture, dir: &Path) -> Running {
    match server {
        Server::Mosquitto { chain, key, extra } => {
            let m = Mosquitto::start(
                dir,
                "",
                &format!(
                    "certfile {}\nkeyfile {}\ncafile {}\n{extra}",
                    chain.display(),
                    key.display(),
                    fx.ca.display()
                ),
            );
            Running {
                port: m.port,
                plain: None,
                _guards: vec![Box::new(m)],
            }
        }
        Server::OpensslFront { chain, key, opts } => {
            let backend = Mosquitto::start(dir, "", &fx.mosquitto_auth(&fx.acl));
            let front =
                ServerProcess::openssl_front(chain, key, opts, backend.port, Some(&fx.lowsec));
            Running {
                port: front.port,
                plain: Some(backend.port),
                _guards: vec![Box::new(front), Box::new(backend)],
            }
        }
        Server::Gnutls { chain, key, args } => {
            let g = ServerProcess::gnutls(chain, key, args);
            Running {
                port: g.port,
                plain: None,
                _guards: vec![Box::new(g)],
            }
        }
        Server::ClosesAfterConnect | Server::TlsEcho => {
            let backend = RawServer::start(if matches!(server, Server::TlsEcho) {
                Misbehaviour::Echo
            } else {
                Misbehaviour::CloseAfterRead
            });
            let front = RustlsFront::start(&fx.pki, backend.port);
            Running {
                port: front.port,
                plain: Some(backend.port),
                _guards: vec![Box::new(front), Box::new(backend)],
            }
        }
        Server::PlainMqtt => {
            let m = Mosquitto::start(dir, "", "allow_anonymous true");
            Running {
                port: m.port,
                plain: None,
                _guards: vec![Box::new(m)],
            }
        }
        Server::IgnoresMfln => {
            let backend = Mosquitto::start(dir, "", "allow_anonymous true");
            let front = RustlsFront::start(&fx.pki, backend.port);
            Running {
                port: front.port,
                plain: Some(backend.port),
                _guards: vec![Box::new(front), Box::new(backend)],
            }
        }
        Server::Refused => Running {
            port: crate::support::free_port(),
            plain: None,
            _guards: Vec::new(),
        },
    }
}

/// Publish a retained message of `bytes` bytes to `espmqtt/<id>/big`: on
/// the plain port behind a front, else over TLS with the broker's login.
fn publish_retained(server: &Running, fx: &Fixture, bytes: usize) {
    let mut c = std::process::Command::new("mosquitto_pub");
    c.args(["-r", "-q", "1", "-i", CLIENT_ID]);
    match server.plain {
        Some(port) => {
            c.args(["-h", "127.0.0.1", "-p", &port.to_string()]);
        }
        None => {
            c.args(["-h", "localhost", "-p", &server.port.to_string()])
                .arg("--cafile")
                .arg(&fx.ca)
                .args(["-u", USER, "-P", PASS]);
        }
    }
    let topic = format!("espmqtt/{CLIENT_ID}/big");
    let out = c
        .args(["-t", &topic, "-m", &"x".repeat(bytes)])
        .output()
        .expect("mosquitto_pub");
    assert!(
        out.status.success(),
        "mosquitto_pub: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// One case's outcome.
struct Outcome {
    name: &'static str,
    report: Option<Report>,
    /// The report as printed (for the walk over every report).
    json: String,
    exit: i32,
    oracle: Option<(i32, i32)>,
    millis: u128,
    /// Everything that did not match.
    problems: Vec<String>,
}

fn run_case(case: &Case, fx: &Fixture, env: &Env) -> Outcome {
    let t = Instant::now();
    let dir = env
        .path()
        .join(case.name.replace([' ', ',', ':', '/'], "_"));
    std::fs::create_dir_all(&dir).unwrap();
    let server = start(&case.server, fx, &dir);
    if let Some(bytes) = case.retained {
        publish_retained(&server, fx, bytes);
    }
    let run = espmqtt(env)
        .arg("probe")
        .args(case.probe_args(server.port))
        .json()
        .timeout(Duration::from_secs(30))
        .run();
    let mut out = Outcome {
        name: case.name,
        report: None,
        json: run.stdout.clone(),
        exit: run.code,
        oracle: None,
        millis: 0,
        problems: Vec::new(),
    };
    let report: Report = match serde_json::from_str(&run.stdout) {
        Ok(r) => r,
        Err(e) => {
            out.problems.push(format!(
                "not a probe report ({e}): {}\n{}",
                run.stdout, run.stderr
            ));
            return out;
        }
    };
    let w = &case.want;
    let got = (report.device_tls_error, report.pubsubclient_state, run.code);
    if got != (w.tls, w.state, w.exit) {
        out.problems.push(format!(
            "device error / state / exit {got:?}, wanted {:?} (fatal: {:?})",
            (w.tls, w.state, w.exit),
            report.fatal_ids()
        ));
    }
    if let Some(id) = w.finding {
        match report.finding(id) {
            None => out
                .problems
                .push(format!("no finding {id} (fatal: {:?})", report.fatal_ids())),
            Some(f) if w.exit != 0 && f.severity != "fatal" => out
                .problems
                .push(format!("{id} is {}, not fatal", f.severity)),
            Some(_) => {}
        }
    }
    for id in &w.notes {
        if report.finding(id).is_none() {
            out.problems.push(format!("no finding {id}"));
        }
    }
    for id in &w.absent {
        if report.finding(id).is_some() {
            out.problems
                .push(format!("finding {id} should not be there"));
        }
    }
    if let Some(echo) = w.mfln_echoed {
        if report.tls.mfln_echoed != echo {
            out.problems.push(format!(
                "MFLN echo {:?}, wanted {echo:?}",
                report.tls.mfln_echoed
            ));
        }
    }
    if report.exit_code as i32 != run.code {
        out.problems.push(format!(
            "exit {} but report says {}",
            run.code, report.exit_code
        ));
    }
    // The oracle, against the same server, configured the same way.
    if let (Some(tls), Some(_)) = (report.device_tls_error, oracle()) {
        let (mode, args) = case.oracle_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = oracle_device("127.0.0.1", server.port, mode, &args);
        out.oracle = Some((o.tls_error, o.state));
        // The oracle stops after CONNACK: a session that broke later (-3)
        // is beyond it, and up to CONNACK it must have worked.
        let want = if report.pubsubclient_state == -3 {
            (0, 0)
        } else {
            (tls, report.pubsubclient_state)
        };
        if (o.tls_error, o.state) != want {
            out.problems.push(format!(
                "oracle says error {} / state {}, probe {tls} / {}",
                o.tls_error, o.state, report.pubsubclient_state
            ));
        }
    }
    drop(server);
    out.report = Some(report);
    out.millis = t.elapsed().as_millis();
    out
}

/// Run the whole table once per test binary (both tests below share it).
fn matrix() -> &'static [Outcome] {
    static RESULTS: OnceLock<Vec<Outcome>> = OnceLock::new();
    RESULTS.get_or_init(|| {
        let t = Instant::now();
        let fx = fixture();
        let cases = cases(&fx);
        let env = Env::new();
        let next = AtomicUsize::new(0);
        let results = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..WORKERS {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(case) = cases.get(i) else { break };
                    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run_case(case, &fx, &env)
                    }))
                    .unwrap_or_else(|p| Outcome {
                        name: case.name,
                        report: None,
                        json: String::new(),
                        exit: -1,
                        oracle: None,
                        millis: 0,
                        problems: vec![format!("panicked: {}", panic_text(&p))],
                    });
                    results.lock().unwrap().push((i, outcome));
                });
            }
        });
        let mut results = results.into_inner().unwrap();
        results.sort_by_key(|(i, _)| *i);
        let results: Vec<Outcome> = results.into_iter().map(|(_, o)| o).collect();
        eprintln!("{}", table(&results));
        eprintln!("matrix: {} cases in {:?}", results.len(), t.elapsed());
        results
    })
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "?".into())
}

/// The matrix as a table: case, device error, state, exit, oracle, time.
fn table(results: &[Outcome]) -> String {
    let mut s = format!(
        "{:<44} {:>6} {:>6} {:>4} {:>12} {:>6}\n",
        "case", "error", "state", "exit", "oracle", "ms"
    );
    for o in results {
        let r = o.report.as_ref();
        s.push_str(&format!(
            "{:<44} {:>6} {:>6} {:>4} {:>12} {:>6}{}\n",
            o.name,
            r.and_then(|r| r.device_tls_error)
                .map_or("-".into(), |e| e.to_string()),
            r.map_or("?".into(), |r| r.pubsubclient_state.to_string()),
            o.exit,
            o.oracle.map_or("-".into(), |(e, st)| format!("{e} / {st}")),
            o.millis,
            if o.problems.is_empty() {
                ""
            } else {
                "  MISMATCH"
            }
        ));
    }
    s
}

fn skip() -> bool {
    if !have_mosquitto() || !have_tls_servers() || oracle().is_none() {
        eprintln!(
            "skipped: the matrix needs mosquitto, gnutls-serv, socat, gcc and libbearssl-dev \
             (scripts/install-deps)"
        );
        return true;
    }
    false
}

/// Every case: the device error, the PubSubClient state and the exit code
/// are the expected ones, the explaining finding is there, and the BearSSL
/// oracle gets the same error and state from the same server.
#[test]
fn matrix_cases_match_the_device_and_the_oracle() {
    if skip() {
        return;
    }
    let bad: Vec<String> = matrix()
        .iter()
        .filter(|o| !o.problems.is_empty())
        .map(|o| format!("{}: {}", o.name, o.problems.join("; ")))
        .collect();
    assert!(
        bad.is_empty(),
        "{} cases differ:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Every `--format json` report of the matrix: `device_tls_error`, the
/// verdict, the exit code, the phases and the fatal findings never
/// contradict each other, and no report carries an internal inconsistency
/// between the analysis and the engine.
#[test]
fn matrix_reports_never_contradict_themselves() {
    if skip() {
        return;
    }
    let mut bad = Vec::new();
    let mut walked = 0;
    for o in matrix() {
        let Some(r) = &o.report else { continue };
        walked += 1;
        let wrong = r.contradictions();
        if !wrong.is_empty() {
            bad.push(format!("{}: {wrong:?}\n{}", o.name, o.json));
        }
        // The exit codes keep their meaning.
        let want = match r.verdict.as_str() {
            "ok" => 0,
            "fail" => 1,
            _ => 3,
        };
        if o.exit != want {
            bad.push(format!(
                "{}: verdict {} but exit {}",
                o.name, r.verdict, o.exit
            ));
        }
    }
    assert!(walked > 40, "only {walked} reports");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
