//! Integration tests: `espmqtt probe` against real mosquitto brokers (and a
//! rustls TLS front, and misbehaving servers) on loopback, with
//! certificates made at test time; TLS verdicts cross-checked with the
//! BearSSL device oracle (tests/support/bearssl_client.c).

use std::time::{Duration, Instant};

use crate::support::pki::{self, Alg};
use crate::support::probe::{
    oracle, oracle_run, password_file, probe, tls_broker, Misbehaviour, RawServer, RustlsFront,
    TestPki,
};
use crate::support::Env;

macro_rules! need_mosquitto {
    () => {
        if !crate::support::probe::have_mosquitto() {
            eprintln!("skipped: mosquitto is not installed (scripts/install-deps)");
            return;
        }
    };
}

const ACL_OWN_TOPICS: &str = "user dev1\npattern readwrite espmqtt/%c/#\n";

fn auth_broker(
    env: &Env,
    pki: &TestPki,
    acl: &str,
    extra: &str,
) -> crate::support::mosquitto::Mosquitto {
    let pw = password_file(env.path(), "dev1", "s3cret");
    let acl_file = env.write("acl", acl);
    tls_broker(
        env.path(),
        pki,
        &format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n{extra}",
            pw.display(),
            acl_file.display()
        ),
    )
}

fn target(port: u16) -> String {
    format!("localhost:{port}")
}

/// Acceptance 1: every trust mode passes with the right credentials; a wrong
/// password fails naming bad credentials (PubSubClient state 4 or 5).
#[test]
fn ok_in_every_trust_mode_and_wrong_password_fails() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = auth_broker(&env, &pki, ACL_OWN_TOPICS, "");
    let t = target(broker.port);
    let ca = pki.ca_file.display().to_string();
    let pubkey = pki.write_pubkey(env.path()).display().to_string();
    let fp = pki.leaf_sha1();
    let creds = [
        "--username",
        "dev1",
        "--password",
        "s3cret",
        "--client-id",
        "dev-a",
    ];
    let modes: Vec<Vec<&str>> = vec![
        vec!["--trust", "ca", "--ca-file", &ca],
        vec!["--trust", "fingerprint", "--fingerprint", &fp],
        vec!["--trust", "pubkey", "--pubkey-file", &pubkey],
        vec!["--trust", "insecure"],
    ];
    for m in modes {
        let mut args = vec![t.as_str()];
        args.extend(&m);
        args.extend(&creds);
        let (run, r) = probe(&env, &args);
        assert_eq!(r.verdict, "ok", "{m:?}: {:#?}\n{}", r.findings, run.stderr);
        run.assert_code(0);
        assert_eq!(r.device_tls_error, Some(0));
        assert_eq!(r.pubsubclient_state, 0);
        let names: Vec<&str> = r.phases.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            ["resolve", "tcp", "device_handshake", "verification", "mqtt"]
        );
        // fingerprint and insecure modes pass with a warning on verification.
        assert!(
            r.phases
                .iter()
                .all(|p| p.status == "ok" || (p.name == "verification" && p.status == "warn")),
            "{:#?}",
            r.phases
        );
        assert_eq!(r.tls.version.as_deref(), Some("TLS 1.2"));
        assert!(r.total_millis >= r.phases.iter().map(|p| p.millis).max().unwrap_or(0));
        if m[1] == "insecure" {
            r.expect_finding("insecure_mode", "warn");
        }
        if m[1] == "fingerprint" {
            r.expect_finding("fingerprint_renewal", "warn");
        }
    }
    // Text output names the verdict.
    let run = env.run(&[
        "probe",
        &t,
        "--ca-file",
        &ca,
        "--username",
        "dev1",
        "--password",
        "s3cret",
    ]);
    run.assert_code(0);
    assert!(run.stdout.contains("verdict ok"), "{}", run.stdout);

    let (run, r) = probe(
        &env,
        &[
            &t,
            "--ca-file",
            &ca,
            "--username",
            "dev1",
            "--password",
            "wrong",
            "--client-id",
            "dev-a",
        ],
    );
    run.assert_code(1);
    assert_eq!(r.verdict, "fail");
    let f = r.expect_finding("bad_credentials", "fatal");
    let d = f.device_error.as_deref().unwrap_or_default();
    assert!(d.contains("rc=4") || d.contains("rc=5"), "{d}");
    assert_eq!(r.device_tls_error, Some(0));
    assert!(r.pubsubclient_state == 4 || r.pubsubclient_state == 5);
    // mosquitto answers 5 (not authorised) to a wrong password too: the fix
    // puts the password first, then the user and the ACL.
    if r.pubsubclient_state == 5 {
        assert!(
            f.fix.starts_with("most often a wrong or rotated password"),
            "{}",
            f.fix
        );
        let acl = f.fix.find("ACL").expect("the ACL is named");
        assert!(f.fix.find("password").is_some_and(|p| p < acl), "{}", f.fix);
    }
}

/// Acceptance 2 + 10: TLS 1.3-only broker.
#[test]
fn tls13_only_broker_fails_and_oracle_agrees() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(
        env.path(),
        &pki,
        "allow_anonymous true\ntls_version tlsv1.3",
    );
    let (run, r) = probe(
        &env,
        &[
            &target(broker.port),
            "--ca-file",
            &pki.ca_file.display().to_string(),
        ],
    );
    run.assert_code(1);
    r.expect_finding("tls13_only", "fatal");
    assert_eq!(r.device_tls_error, Some(256 + 70));
    assert_ca_oracle_agrees(&pki, broker.port, &r);
}

/// Acceptance 3 + 10: the broker allows only a DHE suite the device lacks.
#[test]
fn no_common_suite_fails_and_oracle_agrees() {
    need_mosquitto!();
    let env = Env::new();
    let ca = pki::ca("espmqtt test CA", Alg::EcP256);
    let server = pki::leaf("localhost", &["localhost"], Alg::Rsa(2048), &ca);
    let pki = TestPki::from_parts(env.path(), ca, server);
    let broker = tls_broker(
        env.path(),
        &pki,
        "allow_anonymous true\ntls_version tlsv1.2\nciphers DHE-RSA-AES128-GCM-SHA256",
    );
    let (run, r) = probe(
        &env,
        &[
            &target(broker.port),
            "--ca-file",
            &pki.ca_file.display().to_string(),
        ],
    );
    run.assert_code(1);
    let f = r.expect_finding("no_common_suite", "fatal");
    assert!(f.message.contains("DHE"), "{}", f.message);
    assert_ca_oracle_agrees(&pki, broker.port, &r);
}

/// Acceptance 4 + 10: `require_certificate true`.
#[test]
fn client_certificate_required() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(
        env.path(),
        &pki,
        "allow_anonymous true\nrequire_certificate true",
    );
    let t = target(broker.port);
    let ca = pki.ca_file.display().to_string();
    let (run, r) = probe(&env, &[&t, "--ca-file", &ca, "--timeout", "5"]);
    run.assert_code(1);
    let f = r.expect_finding("client_certificate_required", "fatal");
    assert!(
        f.device_error
            .as_deref()
            .unwrap_or_default()
            .contains("alert"),
        "{f:#?}"
    );
    assert!(r.tls.client_certificate_requested);

    let client = pki::leaf("dev-a", &[], Alg::EcP256, &pki.ca);
    let (cert, key) = client.write(env.path(), "client");
    let (c, k) = (cert.display().to_string(), key.display().to_string());
    let (run, r2) = probe(
        &env,
        &[
            &t,
            "--ca-file",
            &ca,
            "--cert",
            &c,
            "--key",
            &k,
            "--client-id",
            "dev-a",
        ],
    );
    assert_eq!(r2.verdict, "ok", "{:#?}", r2.findings);
    run.assert_code(0);

    if oracle().is_some() {
        let sni = ["--ta", ca.as_str(), "--sni", "localhost"];
        assert_eq!(
            Some(oracle_run("localhost", broker.port, "ca", &sni)),
            r.device_tls_error
        );
        let mut with = sni.to_vec();
        with.extend(["--cert", c.as_str(), "--key", k.as_str()]);
        assert_eq!(oracle_run("localhost", broker.port, "ca", &with), 0);
    }
}

/// Acceptance 5: the ACL denies the probe's topics (mosquitto grants the
/// SUBACK and silently drops, so only non-delivery shows it).
#[test]
fn acl_denial_is_detected() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = auth_broker(&env, &pki, "user dev1\ntopic readwrite other/#\n", "");
    let (run, r) = probe(
        &env,
        &[
            &target(broker.port),
            "--ca-file",
            &pki.ca_file.display().to_string(),
            "--username",
            "dev1",
            "--password",
            "s3cret",
            "--timeout",
            "3",
        ],
    );
    run.assert_code(1);
    let ids = r.fatal_ids();
    assert!(
        ids.contains(&"publish_not_delivered") || ids.contains(&"subscription_refused"),
        "{:#?}",
        r.findings
    );
}

/// Two connections with one client id: the broker closes the older one
/// (session takeover, what happens when a device is probed while it is
/// online, or two probes of it run at once). The probe that lost its
/// session says so; the other one passes.
#[test]
fn session_takeover_by_the_same_client_id_is_named() {
    use std::io::{BufRead, BufReader, Read};
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = auth_broker(&env, &pki, ACL_OWN_TOPICS, "");
    let t = target(broker.port);
    let ca = pki.ca_file.display().to_string();
    let same = [
        "--ca-file",
        &ca,
        "--username",
        "dev1",
        "--password",
        "s3cret",
        "--client-id",
        "dev-a",
    ];
    // The first probe publishes where the ACL drops the message, so it
    // waits for it (and says so with -v)...
    let mut first = env.cmd();
    first
        .args([
            "probe",
            &t,
            "--topic-prefix",
            "elsewhere",
            "--timeout",
            "30",
        ])
        .args(same)
        .args(["-v", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = crate::support::KillOnDrop(first.spawn().expect("spawn espmqtt"));
    let stderr = child.0.stderr.take().expect("stderr");
    let mut stdout = child.0.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut said = Vec::new();
    while !said
        .last()
        .is_some_and(|l: &String| l.contains("waiting for it to come back"))
    {
        match rx.recv_timeout(Duration::from_secs(20)) {
            Ok(line) => said.push(line),
            Err(_) => panic!("the first probe never waited for its message: {said:#?}"),
        }
    }
    // ...when a second client with the same id connects.
    let mut args = vec![t.as_str()];
    args.extend(same);
    let (run, second) = probe(&env, &args);
    assert_eq!(
        second.verdict, "ok",
        "{:#?}\n{}",
        second.findings, run.stderr
    );
    let started = Instant::now();
    let mut out = String::new();
    stdout.read_to_string(&mut out).expect("read stdout");
    let _ = child.0.wait();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the first probe ran into its timeout instead of seeing the close"
    );
    let r: serde_json::Value = serde_json::from_str(&out).expect("one JSON report");
    assert_eq!(r["verdict"], "fail", "{r:#}");
    assert_eq!(r["pubsubclient_state"], -3, "{r:#}");
    let findings = r["findings"].as_array().expect("findings");
    let takeover = findings
        .iter()
        .find(|f| f["id"] == "session_takeover")
        .unwrap_or_else(|| panic!("no session_takeover finding: {r:#}"));
    assert_eq!(takeover["severity"], "warn");
    assert!(
        takeover["message"]
            .as_str()
            .is_some_and(|m| m.contains("same client id") && m.contains("\"dev-a\"")),
        "{takeover:#}"
    );
    let fatal = findings
        .iter()
        .find(|f| f["severity"] == "fatal")
        .expect("a fatal finding");
    assert!(
        fatal["fix"]
            .as_str()
            .is_some_and(|f| f.starts_with("make sure no other client uses the client id")),
        "{fatal:#}"
    );
}

/// Acceptance 6 + 10: an Ed25519 server certificate cannot work (ca mode).
#[test]
fn ed25519_certificate_fails_in_ca_mode() {
    need_mosquitto!();
    let env = Env::new();
    let ca = pki::ca("espmqtt test CA", Alg::Ed25519);
    // ring writes Ed25519 keys as PKCS#8 v2, which OpenSSL 3.0 (and so
    // mosquitto) cannot load: make the server key with openssl instead.
    let out = std::process::Command::new("openssl")
        .args(["genpkey", "-algorithm", "ed25519"])
        .output()
        .expect("openssl genpkey");
    let key_pem = String::from_utf8(out.stdout).unwrap();
    let key = rcgen::KeyPair::from_pem(&key_pem).unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert = params.signed_by(&key, &ca.cert, &ca.key).unwrap();
    let server = pki::Issued {
        cert_pem: cert.pem(),
        key_pem,
        cert,
        key,
    };
    let pki = TestPki::from_parts(env.path(), ca, server);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    let ca = pki.ca_file.display().to_string();
    let (run, r) = probe(&env, &[&target(broker.port), "--ca-file", &ca]);
    run.assert_code(1);
    r.expect_finding("unsupported_key_type", "fatal");
    if oracle().is_some() {
        let got = oracle_run(
            "localhost",
            broker.port,
            "ca",
            &["--ta", &ca, "--sni", "localhost"],
        );
        assert_ne!(got, 0, "the device oracle must fail too");
        assert_eq!(
            Some(got),
            r.device_tls_error,
            "oracle vs probe: {:#?}",
            r.findings
        );
    }
}

/// Acceptance 7 + 10: wrong fingerprint fails; the current one as the second
/// fingerprint passes (rotation overlap).
#[test]
fn fingerprint_rotation() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    let t = target(broker.port);
    let wrong = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33";
    let (run, r) = probe(
        &env,
        &[&t, "--trust", "fingerprint", "--fingerprint", wrong],
    );
    run.assert_code(1);
    let f = r.expect_finding("fingerprint_mismatch", "fatal");
    assert!(f
        .device_error
        .as_deref()
        .unwrap_or_default()
        .contains("BearSSL error 62"));
    assert!(
        f.fix.contains(&pki.leaf_sha1()),
        "fix names the right value: {}",
        f.fix
    );
    let current = pki.leaf_sha1();
    let (run, r2) = probe(
        &env,
        &[
            &t,
            "--trust",
            "fingerprint",
            "--fingerprint",
            wrong,
            "--fingerprint",
            &current,
        ],
    );
    assert_eq!(r2.verdict, "ok", "{:#?}", r2.findings);
    run.assert_code(0);
    if oracle().is_some() {
        let hexfp = |s: &str| s.replace(':', "");
        assert_eq!(
            Some(oracle_run(
                "localhost",
                broker.port,
                "fingerprint",
                &["--fp", &hexfp(wrong)]
            )),
            r.device_tls_error
        );
        assert_eq!(
            oracle_run(
                "localhost",
                broker.port,
                "fingerprint",
                &["--fp", &hexfp(wrong), "--fp", &hexfp(&current)]
            ),
            0
        );
    }
}

/// Acceptance 8 + 10: rustls ignores max_fragment_length.
#[test]
fn rustls_server_does_not_echo_mfln() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    // Plain backend broker; the rustls front terminates TLS.
    let backend =
        crate::support::mosquitto::Mosquitto::start(env.path(), "", "allow_anonymous true");
    let front = RustlsFront::start(&pki, backend.port);
    let ca = pki.ca_file.display().to_string();
    let (run, r) = probe(&env, &[&target(front.port), "--ca-file", &ca]);
    let f = r.expect_finding("mfln_not_echoed", "warn");
    assert!(f.message.contains("837 B"), "{}", f.message);
    assert_eq!(r.tls.mfln_echoed, None);
    assert_eq!(r.verdict, "ok", "{:#?}", r.findings);
    run.assert_code(0);
    if oracle().is_some() {
        assert_eq!(
            oracle_run(
                "localhost",
                front.port,
                "ca",
                &["--ta", &ca, "--sni", "localhost"]
            ),
            0
        );
    }
}

/// Acceptance 9: mosquitto (OpenSSL) echoes every MFL value.
#[test]
fn mosquitto_echoes_mfln_512_to_4096() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    let ca = pki.ca_file.display().to_string();
    for size in ["512", "1024", "2048", "4096"] {
        let (run, r) = probe(
            &env,
            &[&target(broker.port), "--ca-file", &ca, "--mfln", size],
        );
        run.assert_code(0);
        let want: u16 = size.parse().unwrap();
        assert_eq!(r.tls.mfln_requested, Some(want));
        assert_eq!(r.tls.mfln_echoed, Some(want), "{size}: {:#?}", r.findings);
        assert!(r.finding("mfln_not_echoed").is_none());
        assert!(
            r.finding("mfln_not_honoured").is_none(),
            "{:#?}",
            r.findings
        );
    }
    let (_, r) = probe(
        &env,
        &[&target(broker.port), "--ca-file", &ca, "--mfln", "off"],
    );
    assert_eq!(r.tls.mfln_requested, None);
}

/// Acceptance 10, more configurations: name mismatch, pubkey mismatch,
/// untrusted CA, expired certificate — probe's BearSSL error equals the
/// oracle's in each.
#[test]
fn oracle_agrees_on_verification_failures() {
    need_mosquitto!();
    if oracle().is_none() {
        eprintln!("skipped: the BearSSL oracle needs gcc and libbearssl-dev");
        return;
    }
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    let port = broker.port;
    let ca = pki.ca_file.display().to_string();
    // Name mismatch: connect by a name the certificate does not carry.
    let (_, r) = probe(
        &env,
        &[
            &format!("127.0.0.1:{port}"),
            "--servername",
            "other.test",
            "--ca-file",
            &ca,
        ],
    );
    r.expect_finding("name_mismatch", "fatal");
    assert_eq!(
        Some(oracle_run(
            "127.0.0.1",
            port,
            "ca",
            &["--ta", &ca, "--sni", "other.test"]
        )),
        r.device_tls_error
    );
    // Connecting by IP: the firmware passes the IP string to connect(), so
    // BearSSL sends it as SNI and compares it with dNSName SANs only; the
    // test certificate carries 127.0.0.1 as an iPAddress SAN: error 56.
    let (run, r) = probe(&env, &[&format!("127.0.0.1:{port}"), "--ca-file", &ca]);
    run.assert_code(1);
    assert_eq!(r.device_tls_error, Some(56));
    r.expect_finding("name_mismatch_ip_san", "fatal");
    assert_eq!(
        Some(oracle_run(
            "127.0.0.1",
            port,
            "ca",
            &["--ta", &ca, "--sni", "127.0.0.1"]
        )),
        r.device_tls_error
    );
    // Untrusted: another CA.
    let other = pki::ca("someone else", Alg::EcP256);
    let (other_file, _) = other.write(env.path(), "other-ca");
    let other_s = other_file.display().to_string();
    let (_, r) = probe(&env, &[&target(port), "--ca-file", &other_s]);
    r.expect_finding("chain_untrusted", "fatal");
    assert_eq!(
        Some(oracle_run(
            "localhost",
            port,
            "ca",
            &["--ta", &other_s, "--sni", "localhost"]
        )),
        r.device_tls_error
    );
    // Pubkey mismatch: pin the CA's key instead of the server's.
    let wrong_pub = env.write("wrong.pub", other.key.public_key_pem());
    let (_, r) = probe(
        &env,
        &[
            &target(port),
            "--trust",
            "pubkey",
            "--pubkey-file",
            &wrong_pub.display().to_string(),
        ],
    );
    r.expect_finding("pubkey_mismatch", "fatal");
    assert_eq!(
        Some(oracle_run(
            "localhost",
            port,
            "pubkey",
            &["--knownkey", &other_s]
        )),
        r.device_tls_error
    );

    // Expired server certificate (ca mode only; fingerprint mode ignores dates).
    let env2 = Env::new();
    let ca2 = pki::ca("espmqtt test CA", Alg::EcP256);
    let expired = pki::leaf_with("localhost", &["localhost"], Alg::EcP256, &ca2, |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let pki2 = TestPki::from_parts(env2.path(), ca2, expired);
    let b2 = tls_broker(env2.path(), &pki2, "allow_anonymous true");
    let ca2s = pki2.ca_file.display().to_string();
    let (_, r) = probe(&env2, &[&target(b2.port), "--ca-file", &ca2s]);
    let f = r.expect_finding("certificate_expired", "fatal");
    assert!(f.message.contains("NTP"));
    assert_eq!(
        Some(oracle_run(
            "localhost",
            b2.port,
            "ca",
            &["--ta", &ca2s, "--sni", "localhost"]
        )),
        r.device_tls_error
    );
    let (run, _) = probe(
        &env2,
        &[
            &target(b2.port),
            "--trust",
            "fingerprint",
            "--fingerprint",
            &pki2.leaf_sha1(),
        ],
    );
    run.assert_code(0);
}

/// keyUsage without digitalSignature on an RSA leaf: ECDHE-RSA needs it,
/// so BearSSL (CA mode) refuses with error 28; fingerprint mode does not care.
#[test]
fn leaf_key_usage_is_checked_in_ca_mode() {
    need_mosquitto!();
    let env = Env::new();
    let ca = pki::ca("espmqtt test CA", Alg::EcP256);
    let server = pki::leaf_with("localhost", &["localhost"], Alg::Rsa(2048), &ca, |p| {
        p.key_usages = vec![rcgen::KeyUsagePurpose::KeyEncipherment];
    });
    let pki = TestPki::from_parts(env.path(), ca, server);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    let ca = pki.ca_file.display().to_string();
    let (_, r) = probe(&env, &[&target(broker.port), "--ca-file", &ca]);
    if oracle().is_some() {
        let got = oracle_run(
            "localhost",
            broker.port,
            "ca",
            &["--ta", &ca, "--sni", "localhost"],
        );
        assert_eq!(
            Some(got),
            r.device_tls_error,
            "oracle vs probe: {:#?}",
            r.findings
        );
    }
    if r.tls
        .cipher_suite
        .as_deref()
        .is_some_and(|s| s.contains("ECDHE"))
    {
        r.expect_finding("leaf_key_usage", "fatal");
    }
    let (run, _) = probe(
        &env,
        &[
            &target(broker.port),
            "--trust",
            "fingerprint",
            "--fingerprint",
            &pki.leaf_sha1(),
        ],
    );
    run.assert_code(0);
}

/// Chain order and completeness with an intermediate CA: BearSSL needs
/// leaf, intermediate in that order (55 when out of order, 62 when the
/// intermediate is missing), and the oracle gets the same numbers.
#[test]
fn chain_order_and_completeness() {
    need_mosquitto!();
    let env = Env::new();
    let root = pki::ca("espmqtt test root", Alg::EcP256);
    let inter = pki::intermediate("espmqtt test intermediate", Alg::EcP256, &root);
    let leaf = pki::leaf("localhost", &["localhost"], Alg::EcP256, &inter);
    let (root_file, _) = root.write(env.path(), "root");
    let (_, key_file) = leaf.write(env.path(), "leaf");
    let root_s = root_file.display().to_string();
    let cases = [
        (
            "good",
            format!("{}{}", leaf.cert_pem, inter.cert_pem),
            None,
            0i32,
        ),
        (
            "out-of-order",
            format!("{}{}{}", leaf.cert_pem, root.cert_pem, inter.cert_pem),
            Some("chain_out_of_order"),
            55,
        ),
        (
            "incomplete",
            leaf.cert_pem.clone(),
            Some("chain_untrusted"),
            62,
        ),
    ];
    for (name, chain, finding, code) in cases {
        let chain_file = env.write(&format!("chain-{name}.pem"), chain);
        let broker = crate::support::mosquitto::Mosquitto::start(
            env.path(),
            "",
            &format!(
                "certfile {}\nkeyfile {}\ncafile {}\nallow_anonymous true\n",
                chain_file.display(),
                key_file.display(),
                root_s
            ),
        );
        let (_, r) = probe(&env, &[&target(broker.port), "--ca-file", &root_s]);
        assert_eq!(r.device_tls_error, Some(code), "{name}: {:#?}", r.findings);
        if let Some(id) = finding {
            r.expect_finding(id, "fatal");
        } else {
            assert_eq!(r.verdict, "ok", "{name}: {:#?}", r.findings);
        }
        if oracle().is_some() {
            let got = oracle_run(
                "localhost",
                broker.port,
                "ca",
                &["--ta", &root_s, "--sni", "localhost"],
            );
            assert_eq!(got, code, "oracle, {name}");
        }
    }
}

/// An unknown critical extension on the leaf: x509-minimal refuses (57).
#[test]
fn unknown_critical_extension_fails_in_ca_mode() {
    need_mosquitto!();
    let env = Env::new();
    let ca = pki::ca("espmqtt test CA", Alg::EcP256);
    let server = pki::leaf_with("localhost", &["localhost"], Alg::EcP256, &ca, |p| {
        let mut ext =
            rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 4, 1, 99999, 1], vec![5, 0]);
        ext.set_criticality(true);
        p.custom_extensions.push(ext);
    });
    let pki = TestPki::from_parts(env.path(), ca, server);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    let ca = pki.ca_file.display().to_string();
    let (run, r) = probe(&env, &[&target(broker.port), "--ca-file", &ca]);
    run.assert_code(1);
    r.expect_finding("critical_extension", "fatal");
    assert_eq!(r.device_tls_error, Some(57));
    if oracle().is_some() {
        assert_eq!(
            oracle_run(
                "localhost",
                broker.port,
                "ca",
                &["--ta", &ca, "--sni", "localhost"]
            ),
            57
        );
    }
}

/// `--ciphers basic`: the four RSA suites; against an EC-only broker that
/// fails, and the oracle fails the same way.
#[test]
fn basic_cipher_build_against_ec_broker() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    let ca = pki.ca_file.display().to_string();
    let (run, r) = probe(
        &env,
        &[&target(broker.port), "--ca-file", &ca, "--ciphers", "basic"],
    );
    run.assert_code(1);
    if oracle().is_some() {
        let got = oracle_run(
            "localhost",
            broker.port,
            "ca",
            &["--ta", &ca, "--sni", "localhost", "--basic"],
        );
        assert_eq!(Some(got), r.device_tls_error, "{:#?}", r.findings);
    }
}

/// A broker restricted to a CBC suite the device offers but rustls lacks:
/// the device connects (oracle agrees), and MQTT runs over that session.
#[test]
fn cbc_only_broker_works_for_the_device() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(
        env.path(),
        &pki,
        "allow_anonymous true\ntls_version tlsv1.2\nciphers ECDHE-ECDSA-AES128-SHA256",
    );
    let ca = pki.ca_file.display().to_string();
    let (run, r) = probe(&env, &[&target(broker.port), "--ca-file", &ca]);
    assert_eq!(
        r.tls.cipher_suite.as_deref(),
        Some("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256")
    );
    assert!(r.finding("mqtt_not_tested").is_none());
    assert_eq!(r.verdict, "ok", "{:#?}", r.findings);
    assert_eq!(r.pubsubclient_state, 0);
    run.assert_code(0);
    if oracle().is_some() {
        assert_eq!(
            oracle_run(
                "localhost",
                broker.port,
                "ca",
                &["--ta", &ca, "--sni", "localhost"]
            ),
            0
        );
    }
}

/// MFLN confirmed but not honoured: a record after the ServerHello is
/// bigger than the negotiated 512 bytes. BearSSL takes oversized plaintext
/// records in pieces, so this is a warning; the handshake then fails on the
/// server's garbage certificate, with whatever error BearSSL reports.
#[test]
fn mfln_echoed_but_records_too_large_is_reported() {
    let env = Env::new();
    let s = RawServer::start(Misbehaviour::MflnEchoedButBigRecords);
    let (run, r) = probe(
        &env,
        &[
            &format!("127.0.0.1:{}", s.port),
            "--trust",
            "insecure",
            "--timeout",
            "3",
        ],
    );
    run.assert_code(1);
    assert_eq!(r.tls.mfln_echoed, Some(512));
    assert_ne!(r.device_tls_error, Some(0));
}

// ---------------------------------------------------------------------
// Robustness: wrong kinds of servers. Each gives a clear error, exit 3,
// and the probe ends within --timeout + 1 s.

fn robust(env: &Env, port: u16, want_id: &str) {
    let t0 = Instant::now();
    let (run, r) = probe(
        env,
        &[
            &format!("127.0.0.1:{port}"),
            "--trust",
            "insecure",
            "--timeout",
            "2",
        ],
    );
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    run.assert_code(3);
    assert_eq!(r.verdict, "unreachable");
    let f = r.expect_finding(want_id, "fatal");
    assert!(!f.fix.is_empty());
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[test]
fn plain_mqtt_port_is_a_clear_error() {
    need_mosquitto!();
    let env = Env::new();
    let broker =
        crate::support::mosquitto::Mosquitto::start(env.path(), "", "allow_anonymous true");
    let t0 = Instant::now();
    let (run, r) = probe(
        &env,
        &[&broker.addr(), "--trust", "insecure", "--timeout", "2"],
    );
    assert!(t0.elapsed() < Duration::from_secs(3));
    run.assert_code(3);
    let ids: Vec<&str> = r.findings.iter().map(|f| f.id.as_str()).collect();
    assert!(
        ids.contains(&"closed_without_answer") || ids.contains(&"not_tls"),
        "{:#?}",
        r.findings
    );
}

#[test]
fn http_port_is_a_clear_error() {
    let env = Env::new();
    let s = RawServer::start(Misbehaviour::Http);
    robust(&env, s.port, "not_tls");
}

#[test]
fn random_bytes_are_a_clear_error() {
    let env = Env::new();
    let s = RawServer::start(Misbehaviour::RandomBytes);
    robust(&env, s.port, "not_tls");
}

#[test]
fn silent_server_times_out() {
    let env = Env::new();
    let s = RawServer::start(Misbehaviour::Silent);
    robust(&env, s.port, "no_answer");
}

#[test]
fn close_after_server_hello_is_a_clear_error() {
    let env = Env::new();
    let s = RawServer::start(Misbehaviour::CloseAfterServerHello);
    robust(&env, s.port, "handshake_incomplete");
}

#[test]
fn refused_port_is_unreachable() {
    let env = Env::new();
    let port = crate::support::free_port();
    let (run, r) = probe(
        &env,
        &[
            &format!("127.0.0.1:{port}"),
            "--trust",
            "insecure",
            "--timeout",
            "2",
        ],
    );
    run.assert_code(3);
    r.expect_finding("tcp_failed", "fatal");
}

/// Without a target, the broker, trust material and MFLN come from
/// espmqtt.toml; a `--device` the registry does not know is a usage error
/// that names it (a known one is probed end to end in `demo`'s test).
#[test]
fn project_config_supplies_the_broker() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    env.write(
        "espmqtt.toml",
        format!(
            "[broker]\nhost = \"localhost\"\nport = {}\n\n[tls]\ntrust = \"ca\"\nca_file = \"ca.crt\"\nmfln = 1024\n",
            broker.port
        ),
    );
    let (run, r) = probe(&env, &[]);
    assert_eq!(r.verdict, "ok", "{:#?}", r.findings);
    run.assert_code(0);
    assert_eq!(r.tls.mfln_echoed, Some(1024));
    let run = env.run(&["probe", "--device", "sensor-001"]);
    run.assert_code(2);
    assert!(run.stderr.contains("sensor-001"), "{}", run.stderr);
}

/// With `[broker] servername`, the firmware connects to that name
/// (app.cpp `connect_name()`: the core resolves the name it sends as SNI),
/// not to `host`: so does `probe`. Nothing listens on 127.0.0.2.
#[test]
fn configured_server_name_is_where_the_device_connects() {
    need_mosquitto!();
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    env.write(
        "espmqtt.toml",
        format!(
            "[broker]\nhost = \"127.0.0.2\"\nport = {}\nservername = \"localhost\"\n\n[tls]\ntrust = \"ca\"\nca_file = \"ca.crt\"\n",
            broker.port
        ),
    );
    let (run, r) = probe(&env, &[]);
    assert_eq!(r.verdict, "ok", "{:#?}", r.findings);
    run.assert_code(0);
    assert_eq!(r.device_tls_error, Some(0));
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    env.run(&["probe"]).assert_code(2);
    env.run(&["probe", "localhost", "--trust", "fingerprint"])
        .assert_code(2);
    env.run(&[
        "probe",
        "localhost",
        "--trust",
        "fingerprint",
        "--fingerprint",
        "zz",
    ])
    .assert_code(2);
    env.run(&["probe", "localhost", "--mfln", "300"])
        .assert_code(2);
    env.run(&["probe", "localhost", "--password-env", "ESPMQTT_NOPE_UNSET"])
        .assert_code(2);
    let r = env.run(&["probe", "--help"]);
    r.assert_code(0);
    assert!(r.stdout.contains("Examples"));
}

/// The BearSSL oracle, in `ca` mode with the test CA and SNI `localhost`,
/// gets the same TLS result as probe predicted (skipped without the oracle).
#[track_caller]
fn assert_ca_oracle_agrees(pki: &TestPki, port: u16, r: &crate::support::probe::Report) {
    if oracle().is_some() {
        let ca = pki.ca_file.display().to_string();
        let got = oracle_run(
            "localhost",
            port,
            "ca",
            &["--ta", &ca, "--sni", "localhost"],
        );
        assert_eq!(Some(got), r.device_tls_error, "oracle vs probe");
    }
}
