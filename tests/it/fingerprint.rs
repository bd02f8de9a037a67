//! Integration tests: `espmqtt fingerprint` against real `openssl s_server`
//! instances, a real mosquitto plain listener and small loopback listeners
//! that answer in other protocols. openssl is the oracle for every hash.

use std::path::PathBuf;

use crate::support::cmd::Cmd;
use crate::support::fingerprint::{
    canned_listener, openssl_fingerprint, openssl_pin, openssl_pubkey_pem, ErrorDoc, OpensslServer,
    Report,
};
use crate::support::mosquitto::Mosquitto;
use crate::support::pki::{self, Alg, Issued};
use crate::support::{espmqtt, free_port, have, mosquitto_bin, Env, Run};

/// `espmqtt fingerprint ARGS…` in `env`; finish with `.report()`,
/// `.error_doc()`, `.run()` or `.expect_exit(N)`.
fn fingerprint<'a>(env: &'a Env, args: &[&str]) -> Cmd<'a> {
    espmqtt(env).arg("fingerprint").args(args)
}

/// The JSON documents `fingerprint --format json` prints.
trait FingerprintOutput {
    /// Run with `--format json`; stdout must be the report.
    fn report(self) -> (Run, Report);
    /// Run with `--format json`; stdout must be an error object whose exit
    /// code is the process's.
    fn error_doc(self) -> (Run, ErrorDoc);
}

impl FingerprintOutput for Cmd<'_> {
    #[track_caller]
    fn report(self) -> (Run, Report) {
        let r = self.json().run();
        let rep: Report = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not the report ({e}):\n{}\nstderr:\n{}",
                r.stdout, r.stderr
            )
        });
        (r, rep)
    }

    #[track_caller]
    fn error_doc(self) -> (Run, ErrorDoc) {
        let r = self.json().run();
        let doc: ErrorDoc = serde_json::from_str(&r.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not an error object ({e}):\n{}\nstderr:\n{}",
                r.stdout, r.stderr
            )
        });
        assert_eq!(doc.kind_tag, "error");
        assert_eq!(i32::from(doc.exit_code), r.code);
        (r, doc)
    }
}

/// root → intermediate → leaf, all RSA 2048, written into the env dir.
struct RsaChain {
    root: Issued,
    inter: Issued,
    leaf: Issued,
    root_crt: PathBuf,
    inter_crt: PathBuf,
    leaf_crt: PathBuf,
    leaf_key: PathBuf,
}

fn rsa_chain(env: &Env) -> RsaChain {
    let root = pki::ca("espmqtt test root", Alg::Rsa(2048));
    let inter = pki::intermediate("espmqtt test intermediate", Alg::Rsa(2048), &root);
    let leaf = pki::leaf("localhost", &["localhost"], Alg::Rsa(2048), &inter);
    let (root_crt, _) = root.write(env.path(), "root");
    let (inter_crt, _) = inter.write(env.path(), "inter");
    let (leaf_crt, leaf_key) = leaf.write(env.path(), "leaf");
    RsaChain {
        root,
        inter,
        leaf,
        root_crt,
        inter_crt,
        leaf_crt,
        leaf_key,
    }
}

fn path_str(p: &std::path::Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn rsa_chain_hashes_and_pins_equal_openssl() {
    let env = Env::new();
    let c = rsa_chain(&env);
    // The server sends intermediate and root after the leaf, so every
    // certificate of the chain crosses the wire.
    let bundle = env.write(
        "chain.pem",
        format!("{}{}", c.inter.cert_pem, c.root.cert_pem),
    );
    let server = OpensslServer::start(&[
        "-cert",
        path_str(&c.leaf_crt),
        "-key",
        path_str(&c.leaf_key),
        "-cert_chain",
        path_str(&bundle),
    ]);
    let target = format!("localhost:{}", server.port);
    let (r, rep) = fingerprint(&env, &[&target]).report();
    r.assert_code(0);
    assert_eq!(rep.chain.len(), 3, "{rep:#?}");
    for (cert, file) in rep
        .chain
        .iter()
        .zip([&c.leaf_crt, &c.inter_crt, &c.root_crt])
    {
        assert_eq!(
            cert.sha1,
            openssl_fingerprint(file, "sha1"),
            "#{}",
            cert.index
        );
        assert_eq!(
            cert.sha256,
            openssl_fingerprint(file, "sha256"),
            "#{}",
            cert.index
        );
        assert_eq!(cert.pin_sha256.as_deref(), Some(openssl_pin(file).as_str()));
        assert_eq!(cert.key.algorithm, "RSA");
        assert_eq!(cert.key.bits, Some(2048));
        assert_eq!(cert.signature_algorithm, "sha256WithRSAEncryption");
        assert!(cert.parse_error.is_none());
    }
    assert_eq!(rep.chain[0].subject, "CN=localhost");
    assert_eq!(rep.chain[0].issuer, "CN=espmqtt test intermediate");
    assert_eq!(rep.chain[0].sans, vec!["DNS:localhost".to_string()]);
    assert!(!rep.chain[0].is_ca && rep.chain[1].is_ca && rep.chain[2].self_signed);
    assert_eq!(rep.host.as_deref(), Some("localhost"));
    assert_eq!(rep.port, Some(server.port));
    assert_eq!(rep.servername.as_deref(), Some("localhost"));
    assert_eq!(rep.source, "network");
    assert!(rep
        .tls_version
        .as_deref()
        .is_some_and(|v| v.starts_with("TLS 1.")));
    assert!(rep.cipher_suite.is_some());
    assert!(rep.tasmota_fingerprint.is_some());
    assert!(rep.timings.as_ref().is_some_and(|t| t.handshake_ms >= 0.0));
    // A well-formed chain raises no chain or algorithm warnings.
    for id in rep.warning_ids() {
        assert!(
            !id.starts_with("chain") && !id.contains("unsupported") && id != "name_mismatch",
            "unexpected warning {id}: {:#?}",
            rep.warnings
        );
    }

    // Text: the leaf's SHA-1 in colon form comes first.
    let text = fingerprint(&env, &[&target]).expect_exit(0);
    let first = text.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with(&openssl_fingerprint(&c.leaf_crt, "sha1")),
        "first line: {first}"
    );
    assert!(text.stdout.contains(&rep.chain[2].sha256));
    let _ = (&c.leaf, &c.inter);
}

#[test]
fn ec_p256_self_signed_equals_openssl() {
    let env = Env::new();
    let cert = pki::self_signed("ec.local", &["ec.local"], Alg::EcP256, |_| {});
    let (crt, key) = cert.write(env.path(), "ec");
    let server = OpensslServer::start(&["-cert", path_str(&crt), "-key", path_str(&key)]);
    let (r, rep) = fingerprint(&env, &[&server.addr()]).report();
    r.assert_code(0);
    assert_eq!(rep.chain.len(), 1);
    let leaf = &rep.chain[0];
    assert_eq!(leaf.sha1, openssl_fingerprint(&crt, "sha1"));
    assert_eq!(leaf.sha256, openssl_fingerprint(&crt, "sha256"));
    assert_eq!(leaf.pin_sha256.as_deref(), Some(openssl_pin(&crt).as_str()));
    assert_eq!(leaf.key.algorithm, "EC");
    assert_eq!(leaf.key.curve.as_deref(), Some("P-256"));
    assert_eq!(leaf.signature_algorithm, "ecdsa-with-SHA256");
    assert!(leaf.self_signed);
    assert!(rep.warning_ids().contains(&"self_signed"));
    // Connected by IP: no SNI, like a device calling connect(IPAddress).
    assert_eq!(rep.servername, None);
    // Tasmota on the ESP8266 has no EC fingerprint.
    assert_eq!(rep.tasmota_fingerprint, None);
}

#[test]
fn expired_self_signed_certificate_is_reported_with_warnings() {
    let env = Env::new();
    let cert = pki::self_signed("old.local", &["old.local"], Alg::EcP256, |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2020, 3, 1);
    });
    let (crt, key) = cert.write(env.path(), "old");
    let server = OpensslServer::start(&["-cert", path_str(&crt), "-key", path_str(&key)]);
    let (r, rep) = fingerprint(&env, &[&server.addr()]).report();
    r.assert_code(0);
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&crt, "sha1"));
    assert!(rep.chain[0].days_left < 0);
    let ids = rep.warning_ids();
    for id in ["expired", "self_signed", "short_lived"] {
        assert!(ids.contains(&id), "missing {id}: {ids:?}");
    }
    // And in text.
    let text = fingerprint(&env, &[&server.addr()]).run();
    assert!(text.stdout.contains("expired"), "{}", text.stdout);
}

#[test]
fn servername_selects_the_sni_certificate() {
    let env = Env::new();
    let one = pki::self_signed("one.example", &["one.example"], Alg::EcP256, |_| {});
    let two = pki::self_signed("two.example", &["two.example"], Alg::EcP256, |_| {});
    let (c1, k1) = one.write(env.path(), "one");
    let (c2, k2) = two.write(env.path(), "two");
    let server = OpensslServer::start(&[
        "-cert",
        path_str(&c1),
        "-key",
        path_str(&k1),
        "-servername",
        "two.example",
        "-cert2",
        path_str(&c2),
        "-key2",
        path_str(&k2),
    ]);
    let addr = server.addr();
    let (r, rep) = fingerprint(&env, &[&addr, "--servername", "two.example"]).report();
    r.assert_code(0);
    assert_eq!(rep.servername.as_deref(), Some("two.example"));
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&c2, "sha1"));
    assert!(!rep.warning_ids().contains(&"name_mismatch"));

    // Without SNI the default certificate comes back.
    let (r, rep) = fingerprint(&env, &[&addr]).report();
    r.assert_code(0);
    assert_eq!(rep.servername, None);
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&c1, "sha1"));

    let local = format!("localhost:{}", server.port);
    let (r, rep) = fingerprint(&env, &[&local, "--no-sni"]).report();
    r.assert_code(0);
    assert_eq!(rep.servername, None);
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&c1, "sha1"));

    // A name the certificate does not cover is flagged for `ca` mode.
    let (_, rep) = fingerprint(&env, &[&addr, "--servername", "nope.example"]).report();
    assert!(
        rep.warning_ids().contains(&"name_mismatch"),
        "{:?}",
        rep.warnings
    );
}

#[test]
fn expect_matches_any_spelling_and_mismatch_exits_1() {
    let env = Env::new();
    let c = rsa_chain(&env);
    let server = OpensslServer::start(&[
        "-cert",
        path_str(&c.leaf_crt),
        "-key",
        path_str(&c.leaf_key),
        "-cert_chain",
        path_str(&c.inter_crt),
    ]);
    let addr = server.addr();
    let sha1 = openssl_fingerprint(&c.leaf_crt, "sha1");
    let sha256 = openssl_fingerprint(&c.leaf_crt, "sha256");
    let pin = openssl_pin(&c.leaf_crt);
    let spellings = [
        sha1.clone(),
        sha1.to_lowercase(),
        sha1.replace(':', ""),
        sha1.replace(':', " ").to_lowercase(),
        format!("SHA1 Fingerprint={sha1}"),
        sha256.clone(),
        sha256.replace(':', "").to_lowercase(),
        pin.clone(),
        format!("pin-sha256=\"{pin}\""),
        format!("sha256//{pin}"),
    ];
    for s in &spellings {
        let (r, rep) = fingerprint(&env, &[&addr, "--expect", s]).report();
        r.assert_code(0);
        let e = rep.expect.expect("expect result");
        assert!(e.matched && e.checks[0].matched, "{s}");
        assert!(rep.ok);
    }
    // Mismatch → 1, with the leaf's actual value in the report.
    let wrong = "00".repeat(20);
    let (r, rep) = fingerprint(&env, &[&addr, "--expect", &wrong]).report();
    r.assert_code(1);
    let e = rep.expect.unwrap();
    assert!(!e.matched && !rep.ok);
    assert_eq!(e.checks[0].kind, "sha1");
    assert_eq!(e.checks[0].actual, sha1);
    // The intermediate's fingerprint is not the leaf's (esp8266/Arduino#7394).
    let inter_sha1 = openssl_fingerprint(&c.inter_crt, "sha1");
    let (r, rep) = fingerprint(&env, &[&addr, "--expect", &inter_sha1]).report();
    r.assert_code(1);
    assert_eq!(rep.expect.unwrap().checks[0].matches_certificate, Some(1));
    let text = fingerprint(&env, &[&addr, "--expect", &inter_sha1]).expect_exit(1);
    assert!(text.stdout.contains("MISMATCH"), "{}", text.stdout);
    // Current or next: any one matching is enough.
    let (r, _) = fingerprint(&env, &[&addr, "--expect", &wrong, "--expect", &sha1]).report();
    r.assert_code(0);
    // A malformed value is a usage error, before any connection.
    fingerprint(&env, &[&addr, "--expect", "abc"]).expect_exit(2);
    fingerprint(&env, &[&addr, "--expect", &"ab".repeat(21)]).expect_exit(2);
    let _ = (&c.root, &c.leaf);
}

#[test]
fn min_days_and_warn_days_use_the_leaf_expiry() {
    let env = Env::new();
    let soon = pki::self_signed("soon.local", &["soon.local"], Alg::EcP256, |p| {
        let now = time::OffsetDateTime::now_utc();
        p.not_before = now - time::Duration::days(1);
        p.not_after = now + time::Duration::days(20) + time::Duration::hours(1);
    });
    let (crt, _) = soon.write(env.path(), "soon");
    let file = path_str(&crt);
    let (r, rep) = fingerprint(&env, &["--file", file]).report();
    r.assert_code(0);
    assert_eq!(rep.chain[0].days_left, 20);
    assert!(rep.warning_ids().contains(&"expires_soon"));
    let (_, rep) = fingerprint(&env, &["--file", file, "--warn-days", "10"]).report();
    assert!(!rep.warning_ids().contains(&"expires_soon"));

    let (r, rep) = fingerprint(&env, &["--file", file, "--min-days", "30"]).report();
    r.assert_code(1);
    let m = rep.min_days.unwrap();
    assert!(!m.ok && m.min_days == 30 && m.days_left == 20);
    let (r, rep) = fingerprint(&env, &["--file", file, "--min-days", "10"]).report();
    r.assert_code(0);
    assert!(rep.min_days.unwrap().ok);
    fingerprint(&env, &["--file", file, "--min-days", "30"]).expect_exit(1);
}

#[test]
fn closed_port_is_unreachable() {
    let env = Env::new();
    let port = free_port();
    let target = format!("127.0.0.1:{port}");
    // --timeout 2 bounds the run; "refused" (not a timeout) shows it was immediate.
    let (r, doc) = fingerprint(&env, &[&target, "--timeout", "2"]).error_doc();
    r.assert_code(3);
    assert!(doc.message.contains("refused"), "{}", doc.message);
    assert!(doc.help.is_some());
    let text = fingerprint(&env, &[&target, "--timeout", "2"]).expect_exit(3);
    assert!(text.stderr.contains("refused") && text.stderr.contains("help:"));
}

#[test]
fn silent_listener_times_out() {
    let env = Env::new();
    let port = canned_listener(None);
    let (r, doc) = fingerprint(&env, &[&format!("127.0.0.1:{port}"), "--timeout", "1"]).error_doc();
    r.assert_code(3);
    assert!(
        doc.message.contains("did not answer") && doc.message.contains("1 s"),
        "{}",
        doc.message
    );
}

#[test]
fn mosquitto_plain_listener_is_named_plain_mqtt() {
    if mosquitto_bin().is_none() {
        eprintln!("skipped: mosquitto is not installed (scripts/setup installs it)");
        return;
    }
    let env = Env::new();
    let broker = Mosquitto::start(env.path(), "", "allow_anonymous true");
    let (r, doc) = fingerprint(&env, &[&broker.addr(), "--timeout", "5"]).error_doc();
    r.assert_code(3);
    assert!(doc.message.contains("plain MQTT"), "{}", doc.message);
}

#[test]
fn connack_reply_is_named_plain_mqtt() {
    let env = Env::new();
    let port = canned_listener(Some(vec![0x20, 0x02, 0x00, 0x05]));
    let (r, doc) = fingerprint(&env, &[&format!("127.0.0.1:{port}")]).error_doc();
    r.assert_code(3);
    assert!(doc.message.contains("plain MQTT"), "{}", doc.message);
}

#[test]
fn http_server_is_named_http() {
    let env = Env::new();
    let port = canned_listener(Some(
        b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    ));
    let (r, doc) = fingerprint(&env, &[&format!("127.0.0.1:{port}")]).error_doc();
    r.assert_code(3);
    assert!(doc.message.contains("HTTP"), "{}", doc.message);
    assert!(doc.message.contains("400 Bad Request"), "{}", doc.message);
}

#[test]
fn random_bytes_get_a_clear_message() {
    let env = Env::new();
    let port = canned_listener(Some(vec![0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02, 0x7f]));
    let (r, doc) = fingerprint(&env, &[&format!("127.0.0.1:{port}")]).error_doc();
    r.assert_code(3);
    assert!(
        doc.message.contains("not TLS") && doc.message.contains("de ad be ef"),
        "{}",
        doc.message
    );
    // Printable garbage is quoted.
    let port = canned_listener(Some(b"+OK POP3 ready\r\n".to_vec()));
    let (r, doc) = fingerprint(&env, &[&format!("127.0.0.1:{port}")]).error_doc();
    r.assert_code(3);
    assert!(doc.message.contains("+OK POP3"), "{}", doc.message);
}

/// A TLS 1.0-only server: rustls cannot talk to it, the ESP8266 can (its
/// BearSSL enables TLS 1.0-1.2), so the chain is read with the device's
/// own engine.
#[test]
fn tls10_only_server_is_fingerprinted_with_the_device_engine() {
    let env = Env::new();
    let cert = pki::self_signed("old-tls.local", &["old-tls.local"], Alg::EcP256, |_| {});
    let (crt, key) = cert.write(env.path(), "t");
    let server = OpensslServer::start(&[
        "-cert",
        path_str(&crt),
        "-key",
        path_str(&key),
        "-tls1",
        "-cipher",
        "DEFAULT@SECLEVEL=0",
    ]);
    let (r, rep) = fingerprint(&env, &[&server.addr()]).report();
    r.assert_code(0);
    assert_eq!(rep.tls_version.as_deref(), Some("TLS 1.0"));
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&crt, "sha1"));
    assert!(rep.warning_ids().contains(&"device_hello_only"));
}

#[test]
fn client_certificate_demand_still_reports_the_chain() {
    let env = Env::new();
    let cert = pki::self_signed("mtls.local", &["mtls.local"], Alg::EcP256, |_| {});
    let (crt, key) = cert.write(env.path(), "m");
    let server = OpensslServer::start(&[
        "-cert",
        path_str(&crt),
        "-key",
        path_str(&key),
        "-Verify",
        "1",
        "-tls1_2",
    ]);
    let (r, rep) = fingerprint(&env, &[&server.addr()]).report();
    r.assert_code(0);
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&crt, "sha1"));
    assert_eq!(rep.tls_version.as_deref(), Some("TLS 1.2"));
    assert!(
        rep.warning_ids().contains(&"handshake_incomplete"),
        "{:?}",
        rep.warnings
    );
}

#[test]
fn ipv6_literals_work() {
    let env = Env::new();
    let cert = pki::self_signed("v6.local", &["::1"], Alg::EcP256, |_| {});
    let (crt, key) = cert.write(env.path(), "v6");
    let server =
        OpensslServer::start_on("[::1]", &["-cert", path_str(&crt), "-key", path_str(&key)]);
    let (r, rep) = fingerprint(&env, &[&format!("[::1]:{}", server.port)]).report();
    r.assert_code(0);
    assert_eq!(rep.host.as_deref(), Some("::1"));
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&crt, "sha1"));
    assert_eq!(rep.chain[0].sans, vec!["IP:::1".to_string()]);
    assert!(rep.warning_ids().contains(&"ip_sans_only"));
    // A bare literal takes the default port 8883.
    let r = fingerprint(&env, &["::1", "--timeout", "2"]).json().run();
    assert!(r.stdout.contains("8883"), "{}", r.stdout);
}

#[test]
fn file_pem_bundle_and_der() {
    let env = Env::new();
    let c = rsa_chain(&env);
    let bundle = env.write(
        "fullchain.pem",
        format!("{}{}", c.leaf.cert_pem, c.inter.cert_pem),
    );
    let (r, rep) = fingerprint(&env, &["--file", path_str(&bundle)]).report();
    r.assert_code(0);
    assert_eq!(rep.source, "file");
    assert_eq!(rep.file.as_deref(), Some(path_str(&bundle)));
    assert_eq!(rep.chain.len(), 2);
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&c.leaf_crt, "sha1"));
    assert_eq!(
        rep.chain[1].sha256,
        openssl_fingerprint(&c.inter_crt, "sha256")
    );

    let der = env.write("leaf.der", c.leaf.der());
    let (r, rep) = fingerprint(&env, &["--file", path_str(&der)]).report();
    r.assert_code(0);
    assert_eq!(rep.chain.len(), 1);
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&c.leaf_crt, "sha1"));

    // Out of order: leaf, root, intermediate.
    let shuffled = env.write(
        "shuffled.pem",
        format!("{}{}{}", c.leaf.cert_pem, c.root.cert_pem, c.inter.cert_pem),
    );
    let (_, rep) = fingerprint(&env, &["--file", path_str(&shuffled)]).report();
    assert!(
        rep.warning_ids().contains(&"chain_out_of_order"),
        "{:?}",
        rep.warnings
    );

    // Not a certificate: usage error; no such file: I/O error.
    let junk = env.write("junk.pem", "hello");
    fingerprint(&env, &["--file", path_str(&junk)]).expect_exit(2);
    fingerprint(&env, &["--file", "/nonexistent/x.pem"]).expect_exit(4);
    // Neither target nor file nor config.
    fingerprint(&env, &[]).expect_exit(2);
    fingerprint(&env, &["host:notaport"]).expect_exit(2);
}

#[test]
fn device_incompatible_keys_are_flagged() {
    let env = Env::new();
    let ed = pki::self_signed("ed.local", &["ed.local"], Alg::Ed25519, |_| {});
    let (crt, _) = ed.write(env.path(), "ed");
    let (r, rep) = fingerprint(&env, &["--file", path_str(&crt)]).report();
    r.assert_code(0);
    assert_eq!(rep.chain[0].key.algorithm, "Ed25519");
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&crt, "sha1"));
    assert!(
        rep.warning_ids().contains(&"unsupported_key"),
        "{:?}",
        rep.warnings
    );

    let p384 = pki::self_signed("p384.local", &["p384.local"], Alg::EcP384, |_| {});
    let (crt, _) = p384.write(env.path(), "p384");
    let (_, rep) = fingerprint(&env, &["--file", path_str(&crt)]).report();
    assert_eq!(rep.chain[0].key.curve.as_deref(), Some("P-384"));
    assert!(!rep.warning_ids().contains(&"unsupported_curve"));
}

/// `--emit arduino` is valid C++ and carries exactly openssl's values:
/// compiled with g++ and run, it prints the fingerprint, the SPKI PEM and
/// the trust-anchor PEM.
#[test]
fn emit_arduino_compiles_and_carries_openssl_values() {
    if !have("g++") {
        eprintln!("skipped: g++ is not installed");
        return;
    }
    let env = Env::new();
    let c = rsa_chain(&env);
    let bundle = env.write(
        "fullchain.pem",
        format!("{}{}", c.leaf.cert_pem, c.inter.cert_pem),
    );
    let r = fingerprint(&env, &["--file", path_str(&bundle), "--emit", "arduino"]).expect_exit(0);
    for call in [
        "setFingerprint",
        "setKnownKey",
        "setTrustAnchors",
        "renewal",
    ] {
        assert!(r.stdout.contains(call), "missing {call}:\n{}", r.stdout);
    }
    env.write("trust.h", &r.stdout);
    let main = env.write(
        "main.cpp",
        "#define PROGMEM\n#include <cstdio>\n#include \"trust.h\"\n\
         int main() { std::printf(\"%s\\n@@@\\n%s@@@\\n%s\", broker_fingerprint, \
         broker_pubkey, broker_ca); return 0; }\n",
    );
    let exe = env.path().join("trust");
    let st = std::process::Command::new("g++")
        .arg("-std=c++11")
        .arg("-o")
        .arg(&exe)
        .arg(&main)
        .status()
        .unwrap();
    assert!(st.success(), "g++ rejected the emitted C++:\n{}", r.stdout);
    let out = std::process::Command::new(&exe).output().unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    let mut parts = out.split("@@@\n");
    let fp = parts.next().unwrap().trim();
    assert_eq!(fp.to_uppercase(), openssl_fingerprint(&c.leaf_crt, "sha1"));
    assert_eq!(
        parts.next().unwrap().trim(),
        openssl_pubkey_pem(&c.leaf_crt).trim()
    );
    // The top certificate the server sends is the anchor.
    assert_eq!(parts.next().unwrap().trim(), c.inter.cert_pem.trim());

    let (_, rep) = fingerprint(&env, &["--file", path_str(&bundle), "--emit", "arduino"]).report();
    assert_eq!(rep.emitted.as_deref(), Some(r.stdout.as_str()));
}

/// Tasmota's fingerprint equals what BearSSL itself computes from the same
/// certificate (the algorithm of Tasmota's `WiFiClientSecureLightBearSSL`,
/// run over `br_x509_decoder`'s key), when libbearssl-dev is installed.
#[test]
fn emit_tasmota_matches_bearssl() {
    let env = Env::new();
    let key = pki::key(Alg::Rsa(2048));
    let mut p = rcgen::CertificateParams::new(vec!["t.local".to_string()]).unwrap();
    p.distinguished_name
        .push(rcgen::DnType::CommonName, "t.local");
    let cert = p.self_signed(&key).unwrap();
    let der = env.write("t.der", cert.der());
    let r = fingerprint(&env, &["--file", path_str(&der), "--emit", "tasmota"]).expect_exit(0);
    let line = r
        .stdout
        .lines()
        .find(|l| l.starts_with("MqttFingerprint1 "))
        .unwrap_or_else(|| panic!("no MqttFingerprint1 line:\n{}", r.stdout))
        .trim_start_matches("MqttFingerprint1 ")
        .to_string();
    assert_eq!(line.split(' ').count(), 20);

    if !std::path::Path::new("/usr/include/bearssl.h").exists() || !have("gcc") {
        eprintln!("skipped BearSSL oracle: libbearssl-dev or gcc missing");
        return;
    }
    let src = env.write(
        "tasmota.c",
        r#"#include <bearssl.h>
#include <stdio.h>
static void cb(void *c, const void *d, size_t l) { (void)c; (void)d; (void)l; }
static void up(br_sha1_context *s, const void *p, size_t l) {
  unsigned char b[4] = { l >> 24, l >> 16, l >> 8, l };
  br_sha1_update(s, b, 4); br_sha1_update(s, p, l);
}
int main(int argc, char **argv) {
  unsigned char buf[8192]; FILE *f = fopen(argv[1], "rb");
  size_t n = fread(buf, 1, sizeof buf, f);
  br_x509_decoder_context dc; br_x509_decoder_init(&dc, cb, NULL);
  br_x509_decoder_push(&dc, buf, n);
  br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);
  if (!pk || pk->key_type != BR_KEYTYPE_RSA) return 1;
  br_sha1_context s; br_sha1_init(&s);
  up(&s, "ssh-rsa", 7);
  up(&s, pk->key.rsa.e, pk->key.rsa.elen);
  up(&s, pk->key.rsa.n, pk->key.rsa.nlen);
  unsigned char o[20]; br_sha1_out(&s, o);
  for (int i = 0; i < 20; i++) printf("%02X%s", o[i], i < 19 ? " " : "\n");
  return argc < 2;
}
"#,
    );
    let exe = env.path().join("tasmota");
    let st = std::process::Command::new("gcc")
        .arg("-o")
        .arg(&exe)
        .arg(&src)
        .arg("-lbearssl")
        .status()
        .unwrap();
    assert!(st.success(), "gcc/libbearssl failed");
    let out = std::process::Command::new(&exe).arg(&der).output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), line);
}

#[test]
fn tls_alerts_are_named() {
    let env = Env::new();
    // A fatal handshake_failure alert record, as a server with no cipher
    // suite in common sends it.
    let port = canned_listener(Some(vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]));
    let (r, doc) = fingerprint(&env, &[&format!("127.0.0.1:{port}")]).error_doc();
    r.assert_code(3);
    assert!(
        doc.message.contains("handshake_failure (40)"),
        "{}",
        doc.message
    );
    assert!(doc.help.unwrap_or_default().contains("cipher"));

    let port = canned_listener(Some(vec![0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70]));
    let (r, doc) = fingerprint(&env, &[&format!("127.0.0.1:{port}")]).error_doc();
    r.assert_code(3);
    assert!(doc.message.contains("unrecognized_name"), "{}", doc.message);
}

#[test]
fn broken_tls_records_fail_cleanly() {
    let env = Env::new();
    for reply in [
        // A handshake record holding garbage.
        vec![0x16, 0x03, 0x03, 0x00, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff],
        // A record header announcing more than ever arrives.
        vec![0x16, 0x03, 0x03, 0x40, 0x00, 0x02],
        // Just the first byte of a record.
        vec![0x16],
    ] {
        let port = canned_listener(Some(reply.clone()));
        let (r, doc) =
            fingerprint(&env, &[&format!("127.0.0.1:{port}"), "--timeout", "3"]).error_doc();
        r.assert_code(3);
        assert!(
            !doc.message.is_empty() && doc.help.is_some(),
            "{reply:02x?}"
        );
    }
}

#[test]
fn broker_address_comes_from_the_project_config() {
    let env = Env::new();
    let cert = pki::self_signed("cfg.example", &["cfg.example"], Alg::EcP256, |_| {});
    let (crt, key) = cert.write(env.path(), "cfg");
    let server = OpensslServer::start(&["-cert", path_str(&crt), "-key", path_str(&key)]);
    env.write(
        "espmqtt.toml",
        format!(
            "[broker]\nhost = \"127.0.0.1\"\nport = {}\nservername = \"cfg.example\"\n",
            server.port
        ),
    );
    let (r, rep) = fingerprint(&env, &[]).report();
    r.assert_code(0);
    assert_eq!(rep.port, Some(server.port));
    assert_eq!(rep.servername.as_deref(), Some("cfg.example"));
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&crt, "sha1"));
    assert!(rep.expect.is_none());

    // With [tls] fingerprints configured, the bare command is a drift check.
    let sha1 = openssl_fingerprint(&crt, "sha1");
    let toml = |fps: &str| {
        format!(
            "[broker]\nhost = \"127.0.0.1\"\nport = {}\n\n[tls]\ntrust = \"fingerprint\"\nfingerprints = [{fps}]\n",
            server.port
        )
    };
    env.write(
        "espmqtt.toml",
        toml(&format!("\"{}\", \"{sha1}\"", "ab".repeat(20))),
    );
    let (r, rep) = fingerprint(&env, &[]).report();
    r.assert_code(0);
    assert!(rep.expect.is_some_and(|e| e.matched && e.checks.len() == 2));
    env.write("espmqtt.toml", toml(&format!("\"{}\"", "ab".repeat(20))));
    let (r, rep) = fingerprint(&env, &[]).report();
    r.assert_code(1);
    assert!(!rep.ok);
    // --expect on the command line takes precedence.
    fingerprint(&env, &["--expect", &sha1]).expect_exit(0);

    // A bad SNI name is a usage error, not an unreachable broker.
    fingerprint(&env, &[&server.addr(), "--servername", "not a name"]).expect_exit(2);
}

/// RSA-PSS (signature and key) is what BearSSL's `ca` mode rejects with
/// error 49 (docs/DEVICE.md); openssl makes both.
#[test]
fn rsa_pss_is_flagged() {
    let env = Env::new();
    let d = env.path();
    let sh = |script: &str| {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .current_dir(d)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    sh(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=root \
        -keyout root.key -out root.crt",
    );
    sh("openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out leaf.key");
    sh("openssl req -new -key leaf.key -subj /CN=pss.local -out leaf.csr");
    sh(
        "openssl x509 -req -in leaf.csr -CA root.crt -CAkey root.key -CAcreateserial \
        -days 30 -sha256 -sigopt rsa_padding_mode:pss -out leaf.crt",
    );
    let leaf = d.join("leaf.crt");
    let (r, rep) = fingerprint(&env, &["--file", path_str(&leaf)]).report();
    r.assert_code(0);
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&leaf, "sha1"));
    assert_eq!(rep.chain[0].key.algorithm, "RSA-PSS");
    assert_eq!(rep.chain[0].signature_algorithm, "rsassaPss");
    let ids = rep.warning_ids();
    assert!(ids.contains(&"unsupported_key"), "{ids:?}");
    assert!(ids.contains(&"unsupported_signature"), "{ids:?}");
    // No Tasmota fingerprint for a non-rsaEncryption key.
    assert_eq!(rep.tasmota_fingerprint, None);
}

#[test]
fn tls12_shows_what_a_device_negotiates() {
    let env = Env::new();
    let cert = pki::self_signed("v12.local", &["v12.local"], Alg::EcP256, |_| {});
    let (crt, key) = cert.write(env.path(), "v12");
    let both = OpensslServer::start(&["-cert", path_str(&crt), "-key", path_str(&key)]);
    let (r, rep) = fingerprint(&env, &[&both.addr(), "--tls12"]).report();
    r.assert_code(0);
    assert_eq!(rep.tls_version.as_deref(), Some("TLS 1.2"));
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&crt, "sha1"));
    assert!(rep
        .cipher_suite
        .unwrap_or_default()
        .starts_with("TLS_ECDHE_ECDSA"));

    // A TLS 1.3-only broker: no ESP8266 can connect, and we say so the
    // way `probe` does (exit 1, the same words).
    let only13 =
        OpensslServer::start(&["-cert", path_str(&crt), "-key", path_str(&key), "-tls1_3"]);
    let (r, doc) = fingerprint(&env, &[&only13.addr(), "--tls12"]).error_doc();
    r.assert_code(1);
    assert!(doc.message.contains("only TLS 1.3"), "{}", doc.message);
    let (r, rep) = fingerprint(&env, &[&only13.addr()]).report();
    r.assert_code(0);
    assert_eq!(rep.tls_version.as_deref(), Some("TLS 1.3"));
    assert!(
        rep.warning_ids().contains(&"tls13_only"),
        "{:?}",
        rep.warnings
    );
    // A broker with TLS 1.2 as well gets no such warning.
    let (_, rep) = fingerprint(&env, &[&both.addr()]).report();
    assert!(!rep.warning_ids().contains(&"tls13_only"));
}

/// Random server answers, some dressed as TLS records so they reach the
/// rustls parser: every run ends with exit 3 and a message, never a panic
/// (exit 101). `FINGERPRINT_FUZZ_RUNS=N` runs more.
#[test]
fn random_server_answers_never_panic() {
    let runs: usize = std::env::var("FINGERPRINT_FUZZ_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let env = Env::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..runs {
        let len = (next() % 300) as usize + 1;
        let mut reply: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        match i % 3 {
            // A handshake record header with a plausible length.
            0 => {
                let body = (len as u16).saturating_sub(5);
                reply.splice(
                    ..5.min(reply.len()),
                    [0x16, 0x03, 0x03, (body >> 8) as u8, body as u8],
                );
            }
            // A ServerHello-looking start.
            1 => {
                reply.splice(..6.min(reply.len()), [0x16, 0x03, 0x01, 0x00, 0x40, 0x02]);
            }
            _ => {}
        }
        let port = canned_listener(Some(reply.clone()));
        let r = fingerprint(&env, &[&format!("127.0.0.1:{port}"), "--timeout", "2"]).run();
        assert_eq!(r.code, 3, "reply {reply:02x?}\n{}", r.stderr);
        assert!(r.stderr.contains("error:"), "{}", r.stderr);
    }
}

/// A broker that allows only RSA key exchange and CBC (what
/// `setCiphersLessSecure()` asks for) has no suite in common with rustls;
/// the chain is still read, from its answer to the device's ClientHello.
#[test]
fn legacy_suites_only_server_is_still_fingerprinted() {
    let env = Env::new();
    let c = rsa_chain(&env);
    let server = OpensslServer::start(&[
        "-cert",
        path_str(&c.leaf_crt),
        "-key",
        path_str(&c.leaf_key),
        "-cert_chain",
        path_str(&c.inter_crt),
        "-tls1_2",
        "-cipher",
        "AES128-SHA256",
    ]);
    let target = format!("localhost:{}", server.port);
    let (r, rep) = fingerprint(&env, &[&target]).report();
    r.assert_code(0);
    assert_eq!(rep.tls_version.as_deref(), Some("TLS 1.2"));
    assert_eq!(
        rep.cipher_suite.as_deref(),
        Some("TLS_RSA_WITH_AES_128_CBC_SHA256")
    );
    assert_eq!(rep.servername.as_deref(), Some("localhost"));
    assert_eq!(rep.chain.len(), 2);
    assert_eq!(rep.chain[0].sha1, openssl_fingerprint(&c.leaf_crt, "sha1"));
    assert_eq!(
        rep.chain[1].sha256,
        openssl_fingerprint(&c.inter_crt, "sha256")
    );
    assert!(
        rep.warning_ids().contains(&"device_hello_only"),
        "{:?}",
        rep.warnings
    );
}
