//! The diagnostic commands as a hobbyist meets them: `probe`, `fingerprint`
//! and `monitor` against the broker setups and mistakes people actually
//! have (a self-signed broker, a missing intermediate, a renewed
//! certificate, fingerprints pasted in every spelling, a plain MQTT port,
//! no credentials at all), on loopback. Each test checks that the verdict is
//! the device's (the BearSSL oracle), and that the fix says exactly what to
//! paste or change.

use crate::support::fingerprint::OpensslServer;
use crate::support::pki::{self, Alg};
use crate::support::probe::{oracle_run, probe, tls_broker, Report, TestPki};
use crate::support::Env;

/// `openssl s_server` serving `cert` (PEM) with `key`, and `chain` (PEM,
/// the certificates sent after it; empty for none).
fn serve(env: &Env, stem: &str, cert_pem: &str, key_pem: &str, chain: &str) -> OpensslServer {
    let crt = env.write(&format!("{stem}.crt"), cert_pem);
    let key = env.write(&format!("{stem}.key"), key_pem);
    let mut args = vec![
        "-cert".to_string(),
        crt.display().to_string(),
        "-key".to_string(),
        key.display().to_string(),
    ];
    if !chain.is_empty() {
        let extra = env.write(&format!("{stem}-chain.crt"), chain);
        args.extend(["-cert_chain".to_string(), extra.display().to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    OpensslServer::start(&args)
}

fn target(s: &OpensslServer) -> String {
    format!("localhost:{}", s.port)
}

fn fatal<'a>(r: &'a Report, id: &str) -> &'a crate::support::probe::Finding {
    r.expect_finding(id, "fatal")
}

/// `ca` mode, error 62 in its three usual shapes: the fix names the case
/// (a self-signed broker is its own root; a broker that sends only its own
/// certificate needs its intermediate in `certfile`; a chain from another
/// CA needs that root) and the command that prints the anchor block for
/// this very broker. The oracle agrees on the error.
#[test]
fn untrusted_chains_get_the_fix_of_their_case() {
    let env = Env::new();
    let ca = pki::ca("Diag Root", Alg::EcP256);
    let ca_file = env.write("root.pem", &ca.cert_pem);
    let ca_arg = ca_file.display().to_string();

    // A self-signed broker certificate.
    let own = pki::self_signed("localhost", &["localhost"], Alg::EcP256, |_| {});
    let s = serve(&env, "self", &own.cert_pem, &own.key_pem, "");
    let (run, r) = probe(&env, &[&target(&s), "--ca-file", &ca_arg]);
    run.assert_code(1);
    let f = fatal(&r, "chain_untrusted");
    assert!(f.message.contains("self-signed"), "{}", f.message);
    assert!(f.fix.contains("its own root"), "{}", f.fix);
    assert!(
        f.fix.contains(&format!(
            "espmqtt fingerprint {} --emit arduino",
            target(&s)
        )),
        "{}",
        f.fix
    );
    assert!(!f.fix.contains("intermediate"), "{}", f.fix);
    let oracle = oracle_run(
        "localhost",
        s.port,
        "ca",
        &["--ta", &ca_arg, "--sni", "localhost"],
    );
    assert_eq!(r.device_tls_error, Some(oracle));
    assert_eq!(oracle, 62);

    // The broker sends its certificate without the intermediate.
    let int = pki::intermediate("Diag Int", Alg::EcP256, &ca);
    let leaf = pki::leaf("localhost", &["localhost"], Alg::EcP256, &int);
    let s = serve(&env, "leafonly", &leaf.cert_pem, &leaf.key_pem, "");
    let (run, r) = probe(&env, &[&target(&s), "--ca-file", &ca_arg]);
    run.assert_code(1);
    let f = fatal(&r, "chain_untrusted");
    assert!(
        f.message.contains("only its own certificate"),
        "{}",
        f.message
    );
    assert!(
        f.fix.contains("CN=Diag Int") && f.fix.contains("fullchain.pem"),
        "{}",
        f.fix
    );
    assert_eq!(
        r.device_tls_error,
        Some(oracle_run(
            "localhost",
            s.port,
            "ca",
            &["--ta", &ca_arg, "--sni", "localhost"]
        ))
    );

    // A complete chain from a CA the device does not hold (no --ca-file:
    // the public roots): the fix names the root to give it, and the message
    // does not list three random roots.
    let s = serve(&env, "full", &leaf.cert_pem, &leaf.key_pem, &int.cert_pem);
    let (run, r) = probe(&env, &[&target(&s)]);
    run.assert_code(1);
    let f = fatal(&r, "chain_untrusted");
    assert!(f.message.contains("public roots"), "{}", f.message);
    assert!(!f.message.contains(" and 1"), "{}", f.message);
    assert!(f.fix.contains("root CA CN=Diag Root"), "{}", f.fix);
}

/// `fingerprint` mode after a renewal: the fix is the line to paste, with
/// the leaf's SHA-1 the device compares (what `fingerprint -q` prints).
#[test]
fn fingerprint_mismatch_fix_is_the_line_to_paste() {
    let env = Env::new();
    let ca = pki::ca("Diag Root", Alg::EcP256);
    let old = pki::leaf("localhost", &["localhost"], Alg::EcP256, &ca);
    let new = pki::leaf("localhost", &["localhost"], Alg::EcP256, &ca);
    let s = serve(&env, "new", &new.cert_pem, &new.key_pem, "");
    let current = env.run(&["fingerprint", &target(&s), "-q"]);
    current.assert_code(0);
    let current = current.stdout.trim().to_string();
    let old_file = env.write("old.pem", &old.cert_pem);
    let stale = crate::support::fingerprint::openssl_fingerprint(&old_file, "sha1");
    let (run, r) = probe(
        &env,
        &[
            &target(&s),
            "--trust",
            "fingerprint",
            "--fingerprint",
            &stale,
        ],
    );
    run.assert_code(1);
    assert_eq!(r.device_tls_error, Some(62));
    let f = fatal(&r, "fingerprint_mismatch");
    assert!(
        f.fix
            .contains(&format!("client.setFingerprint(\"{current}\");")),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains(&format!("fingerprints = [\"{current}\"]")),
        "{}",
        f.fix
    );
    assert_eq!(
        oracle_run(
            "localhost",
            s.port,
            "fingerprint",
            &["--fp", &stale.replace(':', ""), "--sni", "localhost"]
        ),
        62
    );

    // The renewed certificate configured second: the device connects, after
    // a failed first handshake each time; the fix puts the current one first.
    let (run, r) = probe(
        &env,
        &[
            &target(&s),
            "--trust",
            "fingerprint",
            "--fingerprint",
            &stale,
            "--fingerprint",
            &current,
        ],
    );
    run.assert_code(1);
    assert_eq!(r.device_tls_error, Some(0));
    let f = r.expect_finding("first_fingerprint_stale", "warn");
    assert!(
        f.fix.contains(&format!("fingerprints = [\"{current}\"]")),
        "{}",
        f.fix
    );

    // A pinned key of another certificate: the fix names the command that
    // prints the key to pin, for this broker.
    let other = pki::leaf("other", &["other"], Alg::EcP256, &ca);
    let other_file = env.write("other.pem", &other.cert_pem);
    let (run, r) = probe(
        &env,
        &[
            &target(&s),
            "--trust",
            "pubkey",
            "--pubkey-file",
            &other_file.display().to_string(),
        ],
    );
    run.assert_code(1);
    let f = fatal(&r, "pubkey_mismatch");
    assert!(
        f.fix.contains(&format!(
            "espmqtt fingerprint {} --emit arduino",
            target(&s)
        )),
        "{}",
        f.fix
    );
}

/// An expired broker certificate: the dates in the finding are in the
/// spelling `fingerprint` prints (RFC 3339), with how long ago it expired.
#[test]
fn expired_certificate_dates_are_readable() {
    let env = Env::new();
    let ca = pki::ca("Diag Root", Alg::EcP256);
    let ca_file = env.write("root.pem", &ca.cert_pem);
    let expired = pki::leaf_with("localhost", &["localhost"], Alg::EcP256, &ca, |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let s = serve(&env, "expired", &expired.cert_pem, &expired.key_pem, "");
    let (run, r) = probe(
        &env,
        &[&target(&s), "--ca-file", &ca_file.display().to_string()],
    );
    run.assert_code(1);
    assert_eq!(r.device_tls_error, Some(54));
    let f = fatal(&r, "certificate_expired");
    assert!(
        f.message
            .contains("valid 2020-01-01T00:00:00Z to 2021-01-01T00:00:00Z"),
        "{}",
        f.message
    );
    assert!(f.message.contains(" days ago)"), "{}", f.message);
    assert!(!f.message.contains("+00:00"), "{}", f.message);
}

/// `--fingerprint` takes the SHA-1 in every spelling people paste: what
/// `openssl x509 -fingerprint` prints (label included), lower case, spaces,
/// the C array of a sketch. A SHA-256 or a pin is refused with exit 2 and a
/// message that says what it is and where the SHA-1 comes from.
#[test]
fn probe_fingerprint_takes_every_pasted_spelling() {
    if !crate::support::probe::have_mosquitto() {
        eprintln!("skipped: mosquitto is not installed (scripts/install-deps)");
        return;
    }
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let broker = tls_broker(env.path(), &pki, "allow_anonymous true");
    let t = format!("localhost:{}", broker.port);
    let sha1 = pki.leaf_sha1();
    let openssl = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha1", "-in"])
        .arg(&pki.cert_file)
        .output()
        .unwrap();
    let openssl = String::from_utf8(openssl.stdout).unwrap();
    for spelling in [
        openssl.trim().to_string(),
        sha1.to_lowercase(),
        sha1.replace(':', " "),
        sha1.replace(':', ""),
        format!("{{0x{}}}", sha1.replace(':', ", 0x")),
    ] {
        let (run, r) = probe(
            &env,
            &[&t, "--trust", "fingerprint", "--fingerprint", &spelling],
        );
        run.assert_code(0);
        assert_eq!(r.verdict, "ok", "{spelling}");
    }
    let sha256 = crate::support::fingerprint::openssl_fingerprint(&pki.cert_file, "sha256");
    let (run, v) = env.run_json(&[
        "probe",
        &t,
        "--trust",
        "fingerprint",
        "--fingerprint",
        &sha256,
    ]);
    run.assert_code(2);
    assert_eq!(v["type"], "error");
    let message = v["message"].as_str().unwrap();
    assert!(message.contains("SHA-256"), "{message}");
    assert!(
        v["help"]
            .as_str()
            .is_some_and(|h| h.contains("espmqtt fingerprint HOST -q")),
        "{v}"
    );
}

/// CONNACK 5 for the three ways people probe: a device whose password was
/// rotated in the registry but not on the broker (the fix names that very
/// device), a user and password typed by hand, and no credentials at all
/// against a broker without anonymous access. No run shows a password.
#[test]
fn refused_credentials_get_the_fix_for_how_they_were_given() {
    if !crate::support::probe::have_mosquitto() {
        eprintln!("skipped: mosquitto is not installed (scripts/install-deps)");
        return;
    }
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    env.run(&["device", "new", "d1"]).assert_code(0);
    env.run(&["broker", "export", "--mosquitto", "b"])
        .assert_code(0);
    let b = env.path().join("b");
    let broker = tls_broker(
        env.path(),
        &pki,
        &format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n",
            b.join("passwd").display(),
            b.join("acl").display()
        ),
    );
    env.write(
        "espmqtt.toml",
        format!(
            "[broker]\nhost = \"localhost\"\nport = {}\n\n[tls]\ntrust = \"ca\"\nca_file = \"{}\"\n",
            broker.port,
            pki.ca_file.display()
        ),
    );
    let (run, _) = probe(&env, &["--device", "d1"]);
    run.assert_code(0);
    env.run(&["device", "rotate", "d1"]).assert_code(0);
    let (_, shown) = env.run_json(&["device", "show", "d1", "--show-secrets"]);
    let secret = shown["secret"].as_str().unwrap().to_string();

    let (run, r) = probe(&env, &["--device", "d1"]);
    run.assert_code(1);
    assert!(!run.all().contains(&secret));
    let f = fatal(&r, "bad_credentials");
    assert!(
        f.fix.contains("espmqtt flash --device d1 --config-only"),
        "{}",
        f.fix
    );

    let t = format!("localhost:{}", broker.port);
    let ca = pki.ca_file.display().to_string();
    let (run, r) = probe(
        &env,
        &[&t, "--ca-file", &ca, "-u", "d1", "--password", "not-it"],
    );
    run.assert_code(1);
    let f = fatal(&r, "bad_credentials");
    assert!(f.fix.contains("--password-env"), "{}", f.fix);
    assert!(!f.fix.contains("--device"), "{}", f.fix);

    let (run, r) = probe(&env, &[&t, "--ca-file", &ca]);
    run.assert_code(1);
    let f = fatal(&r, "bad_credentials");
    assert!(
        f.fix.starts_with("the probe sent no user name"),
        "{}",
        f.fix
    );
    assert_eq!(r.pubsubclient_state, 5);
}

/// The device pointed at mosquitto's plain port (1883-style): the probe
/// says the port speaks plain MQTT, as `fingerprint` does, and how to get a
/// TLS listener; exit 3, the device's error 31 as the oracle sees it.
#[test]
fn plain_mqtt_port_is_named_by_probe() {
    if !crate::support::probe::have_mosquitto() {
        eprintln!("skipped: mosquitto is not installed (scripts/install-deps)");
        return;
    }
    let env = Env::new();
    let broker =
        crate::support::mosquitto::Mosquitto::start(env.path(), "", "allow_anonymous true");
    let (run, r) = probe(&env, &[&broker.addr(), "--trust", "insecure"]);
    run.assert_code(3);
    let f = fatal(&r, "closed_without_answer");
    assert!(f.message.contains("plain MQTT"), "{}", f.message);
    assert!(f.fix.contains("listener 8883"), "{}", f.fix);
    let phase = r.phase("device_handshake").expect("handshake phase");
    assert!(phase.detail.contains("plain MQTT"), "{}", phase.detail);
    assert_eq!(
        r.device_tls_error,
        Some(oracle_run("127.0.0.1", broker.port, "insecure", &[]))
    );
}

/// The wrong file given for a certificate (`--ca-file` or `fingerprint
/// --file` pointing at the key, the public key, a CSR, an empty or a text
/// file): exit 2, a message that says what the file holds, one JSON error
/// document, no parser internals and nothing of the key.
#[test]
fn a_key_or_other_file_given_as_certificate_is_named() {
    let env = Env::new();
    let leaf = pki::self_signed("localhost", &["localhost"], Alg::EcP256, |_| {});
    let (_, key) = leaf.write(env.path(), "server");
    let key_body = leaf.key_pem.lines().nth(1).unwrap().to_string();
    let public = env.write("server.pub", leaf.key.public_key_pem());
    let empty = env.write("empty.pem", "");
    let text = env.write("notes.txt", "user dev1\ntopic readwrite espmqtt/#\n");
    let cases = [
        (key.clone(), "a private key"),
        (public, "a public key"),
        (empty, "empty"),
        (text, "not a certificate"),
    ];
    for (path, says) in &cases {
        let p = path.display().to_string();
        let r = env.run(&["fingerprint", "--file", &p]);
        r.assert_code(2);
        assert!(r.stderr.contains(says), "{p}: {}", r.stderr);
        for bad in ["Der(", "Tag(", "Parsing", &key_body] {
            assert!(!r.all().contains(bad), "{p}: {}", r.all());
        }
    }
    let (r, v) = env.run_json(&[
        "probe",
        "127.0.0.1:1",
        "--ca-file",
        &key.display().to_string(),
    ]);
    r.assert_code(2);
    assert_eq!(v["type"], "error");
    assert!(
        v["message"].as_str().unwrap().contains("a private key"),
        "{v}"
    );
    assert!(!r.all().contains(&key_body));
}

/// Text verdicts and checks read as sentences: a probe that never reached
/// TLS says so (not "BearSSL error -"), and `--min-days` on an expired
/// certificate says how long ago it expired (not "-N days left").
#[test]
fn text_verdicts_read_as_sentences() {
    let env = Env::new();
    let r = env.run(&["probe", "127.0.0.1:1"]);
    r.assert_code(3);
    let last = r.stdout.lines().last().unwrap_or_default();
    assert!(last.contains("no TLS attempted"), "{}", r.stdout);
    assert!(!r.stdout.contains("error -"), "{}", r.stdout);

    let ca = pki::ca("Diag Root", Alg::EcP256);
    let expired = pki::leaf_with("localhost", &["localhost"], Alg::EcP256, &ca, |p| {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    });
    let s = serve(&env, "expired", &expired.cert_pem, &expired.key_pem, "");
    let r = env.run(&["fingerprint", &target(&s), "--min-days", "1"]);
    r.assert_code(1);
    assert!(r.stdout.contains("the leaf expired "), "{}", r.stdout);
    assert!(!r.stdout.contains("has -"), "{}", r.stdout);
}

/// A hobbyist's console, replayed by `espmqtt emulate`: under a BearSSL
/// error 62 the monitor gives the fix of the trust mode the device uses,
/// with the broker and device the earlier lines named (the command to
/// paste, not `HOST`); `ssl_error=0` with state -2 is TCP (or a hang-up),
/// not "ssl_error says whether TLS was the problem"; a rolled-back update
/// with `tls:62` gets the same fix. JSON Lines stay one document per line.
#[test]
fn monitor_fixes_name_the_device_and_broker_seen() {
    let env = Env::new();
    let console = env.write(
        "console.txt",
        "espmqtt: config version=1 length=812 device=sensor-007 client_id=sensor-007 \
         host=broker.example.com port=8883 trust=fingerprint fingerprints=1 anchors=0 \
         client_cert=no rx=512 tx=512 tls=1.0-1.2 slot=A state=committed update=3 updates=yes\n\
         espmqtt: mqtt_connecting host=broker.example.com port=8883 trust=fingerprint fp=1 \
         attempt=1 heap=41000 max_block=38000\n\
         espmqtt: mqtt_failed state=-2 ssl_error=62 ssl_text=\"Chain could not be linked to a \
         trust anchor.\" trust=fingerprint fp=1 attempt=1 retry_ms=5000\n\
         espmqtt: mqtt_failed state=-2 ssl_error=0 trust=fingerprint attempt=2 retry_ms=5000\n\
         espmqtt: config version=1 length=840 device=sensor-007 client_id=sensor-007 \
         host=broker.example.com port=8883 trust=ca fingerprints=0 anchors=1 client_cert=no \
         rx=512 tx=512 tls=1.0-1.2 slot=B state=staged update=4 updates=yes\n\
         espmqtt: mqtt_failed state=-2 ssl_error=62 trust=ca attempt=3 retry_ms=5000\n\
         espmqtt: update result=rolled_back number=4 reason=tls:62\n\
         espmqtt: unprovisioned reason=bad_magic sector=0xfb000\n",
    );
    let emu = crate::support::emulator::Emulator::console(&env, &console);
    let run = crate::support::espmqtt(&env)
        .args(["monitor", "--port", &emu.url(), "--until", "unprovisioned"])
        .args(["--timeout", "30"])
        .json()
        .expect_exit(0);
    let lines = run.json_lines();
    let fix_of = |needle: &str| -> String {
        lines
            .iter()
            .find(|l| l["text"].as_str().is_some_and(|t| t.contains(needle)))
            .and_then(|l| l["fix"].as_str())
            .unwrap_or_else(|| panic!("no line with {needle}: {lines:#?}"))
            .to_string()
    };
    let fp = fix_of("trust=fingerprint fp=1 attempt=1 retry");
    assert!(
        fp.contains("`espmqtt fingerprint broker.example.com:8883 -q`"),
        "{fp}"
    );
    assert!(fp.contains("--device sensor-007 --config-only"), "{fp}");
    assert!(!fp.contains("in ca mode"), "{fp}");
    let tcp = fix_of("ssl_error=0");
    assert!(tcp.contains("no TLS error was recorded"), "{tcp}");
    assert!(tcp.contains("espmqtt probe --device sensor-007"), "{tcp}");
    let ca = fix_of("trust=ca attempt=3");
    assert!(ca.contains("full chain"), "{ca}");
    assert!(!ca.contains("fingerprint"), "{ca}");
    let rollback = fix_of("rolled_back");
    assert!(rollback.contains("full chain"), "{rollback}");
}

/// A module running the PubSubClient example sketch, not the espmqtt
/// firmware: its `failed, rc=-2 try again in 5 seconds` and `SSL error: 62`
/// lines are explained too (kind `sketch`), in text and JSON.
#[test]
fn monitor_explains_a_stock_sketch() {
    let env = Env::new();
    let console = env.write(
        "sketch.txt",
        "WiFi connected\nIP address: 192.168.1.40\n\
         Attempting MQTT connection...failed, rc=-2 try again in 5 seconds\n\
         SSL error: 62\n\
         Attempting MQTT connection...failed, rc=5 try again in 5 seconds\n\
         Attempting MQTT connection...connected\n",
    );
    let emu = crate::support::emulator::Emulator::console(&env, &console);
    let run = crate::support::espmqtt(&env)
        .args([
            "monitor",
            "--port",
            &emu.url(),
            "--until",
            r"\.\.\.connected$",
        ])
        .args(["--timeout", "30"])
        .json()
        .expect_exit(0);
    let lines = run.json_lines();
    let sketch: Vec<_> = lines.iter().filter(|l| l["kind"] == "sketch").collect();
    assert_eq!(sketch.len(), 3, "{lines:#?}");
    assert_eq!(sketch[0]["fields"]["state"], -2);
    assert!(sketch[0]["fix"]
        .as_str()
        .is_some_and(|f| f.contains("getLastSSLError")));
    assert_eq!(sketch[1]["fields"]["ssl_error"], 62);
    assert!(sketch[1]["summary"]
        .as_str()
        .is_some_and(|s| s.contains("BR_ERR_X509_NOT_TRUSTED")));
    assert_eq!(
        sketch[2]["fields"]["state_name"],
        "MQTT_CONNECT_UNAUTHORIZED"
    );
    let plain = lines
        .iter()
        .find(|l| l["text"] == "WiFi connected")
        .expect("plain line");
    assert_eq!(plain["kind"], "text");

    let text = crate::support::espmqtt(&env)
        .args([
            "monitor",
            "--port",
            &emu.url(),
            "--until",
            r"\.\.\.connected$",
        ])
        .args(["--timeout", "30"])
        .expect_exit(0);
    assert!(
        text.stdout
            .contains("PubSubClient state -2 = MQTT_CONNECT_FAILED"),
        "{}",
        text.stdout
    );
}

/// The broker's ACL drops the device's messages (mosquitto grants the
/// SUBACK and delivers nothing): the fix is the ACL lines for this user,
/// prefix and client id, and the message says "within the timeout" once.
#[test]
fn acl_denial_fix_is_the_acl_lines_to_add() {
    if !crate::support::probe::have_mosquitto() {
        eprintln!("skipped: mosquitto is not installed (scripts/install-deps)");
        return;
    }
    let env = Env::new();
    let pki = TestPki::new(env.path(), Alg::EcP256);
    let pw = crate::support::probe::password_file(env.path(), "dev1", "s3cret");
    let acl = env.write("acl", "user dev1\ntopic readwrite espmqtt/dev1/#\n");
    let broker = tls_broker(
        env.path(),
        &pki,
        &format!(
            "allow_anonymous false\npassword_file {}\nacl_file {}\n",
            pw.display(),
            acl.display()
        ),
    );
    let (run, r) = probe(
        &env,
        &[
            &format!("localhost:{}", broker.port),
            "--ca-file",
            &pki.ca_file.display().to_string(),
            "-u",
            "dev1",
            "--password",
            "s3cret",
            "--topic-prefix",
            "sensors",
            "--timeout",
            "3",
        ],
    );
    run.assert_code(1);
    let f = fatal(&r, "publish_not_delivered");
    assert!(
        f.fix
            .contains("`user dev1` then `topic readwrite sensors/dev1/#`"),
        "{}",
        f.fix
    );
    assert!(
        f.fix.contains("pattern readwrite sensors/%c/#"),
        "{}",
        f.fix
    );
    assert_eq!(f.message.matches("timeout").count(), 1, "{}", f.message);
}

/// The device connects by IP to a broker whose certificate names only a
/// DNS name: error 56 (as the oracle), and the fix names that DNS name in
/// the `servername` line to paste; `--servername` with it then gets past
/// the name check.
#[test]
fn name_mismatch_fix_names_the_listed_name() {
    let env = Env::new();
    let ca = pki::ca("Diag Root", Alg::EcP256);
    let ca_file = env.write("root.pem", &ca.cert_pem);
    let ca_arg = ca_file.display().to_string();
    let leaf = pki::leaf(
        "broker.example.com",
        &["broker.example.com"],
        Alg::EcP256,
        &ca,
    );
    let s = serve(&env, "named", &leaf.cert_pem, &leaf.key_pem, "");
    let by_ip = format!("127.0.0.1:{}", s.port);
    let (run, r) = probe(&env, &[&by_ip, "--ca-file", &ca_arg]);
    run.assert_code(1);
    assert_eq!(
        r.device_tls_error,
        Some(oracle_run(
            "127.0.0.1",
            s.port,
            "ca",
            &["--ta", &ca_arg, "--sni", "127.0.0.1"]
        ))
    );
    let f = fatal(&r, "name_mismatch");
    assert!(
        f.fix.contains("`servername = \"broker.example.com\"`"),
        "{}",
        f.fix
    );
    let (_, r) = probe(
        &env,
        &[
            &by_ip,
            "--ca-file",
            &ca_arg,
            "--servername",
            "broker.example.com",
            "--timeout",
            "2",
        ],
    );
    assert_eq!(r.device_tls_error, Some(0));
}

/// `monitor -q` prints only results and errors: the line `--until`
/// matched and the lines decoded as errors or warnings (with their
/// explanation), not every boot note; nothing on stderr. JSON is unchanged.
#[test]
fn monitor_quiet_prints_the_errors_and_the_match() {
    let env = Env::new();
    let console = env.write(
        "console.txt",
        "espmqtt: wifi_connecting ssid=Home attempt=1\n\
         espmqtt: wifi_failed status=6 attempt=1 retry_ms=2000\n\
         espmqtt: wifi_connected ip=192.168.1.40 rssi=-61 channel=6 bssid=aa:bb:cc:dd:ee:ff \
         attempt=2\n\
         espmqtt: mqtt_connected host=b port=8883 mfln=yes heap=30000 max_block=20000\n",
    );
    let emu = crate::support::emulator::Emulator::console(&env, &console);
    let q = crate::support::espmqtt(&env)
        .args(["monitor", "--port", &emu.url(), "--until", "mqtt_connected"])
        .args(["--timeout", "30", "-q"])
        .expect_exit(0);
    assert!(q.stderr.is_empty(), "{}", q.stderr);
    assert!(q.stdout.contains("WL_WRONG_PASSWORD"), "{}", q.stdout);
    assert!(q.stdout.contains("mqtt_connected host=b"), "{}", q.stdout);
    for absent in ["wifi_connecting", "wifi_connected", "rst cause", "note:"] {
        assert!(!q.stdout.contains(absent), "{absent}: {}", q.stdout);
    }
    let all = crate::support::espmqtt(&env)
        .args(["monitor", "--port", &emu.url(), "--until", "mqtt_connected"])
        .args(["--timeout", "30", "-q"])
        .json()
        .expect_exit(0);
    assert!(all.json_lines().len() >= 5, "{}", all.stdout);
}

/// Versions out of the device's range, both ways: a TLS 1.2+ broker and a
/// device set to 1.0-1.1 (the device must include 1.2; "speaks TLS 1.2 at
/// most" would be wrong), and a TLS 1.0-only broker and a device set to 1.2
/// (the broker must allow 1.2). The oracle agrees on the error.
#[test]
fn version_range_fix_points_the_right_way() {
    let env = Env::new();
    let ca = pki::ca("Diag Root", Alg::EcP256);
    let ca_file = env.write("root.pem", &ca.cert_pem);
    let ca_arg = ca_file.display().to_string();
    let leaf = pki::leaf("localhost", &["localhost"], Alg::EcP256, &ca);
    let modern = serve(&env, "modern", &leaf.cert_pem, &leaf.key_pem, "");
    let (run, r) = probe(
        &env,
        &[
            &target(&modern),
            "--ca-file",
            &ca_arg,
            "--tls-versions",
            "1.0-1.1",
        ],
    );
    run.assert_code(1);
    let f = fatal(&r, "version_out_of_range");
    assert!(
        f.message.contains("requires TLS 1.2 or newer"),
        "{}",
        f.message
    );
    assert!(f.fix.contains("BR_TLS12"), "{}", f.fix);
    assert_eq!(
        r.device_tls_error,
        Some(oracle_run(
            "localhost",
            modern.port,
            "ca",
            &[
                "--ta",
                &ca_arg,
                "--sni",
                "localhost",
                "--versions",
                "1.0-1.1"
            ]
        ))
    );

    let crt = env.write("old.crt", &leaf.cert_pem);
    let key = env.write("old.key", &leaf.key_pem);
    let old = OpensslServer::start(&[
        "-cert",
        &crt.display().to_string(),
        "-key",
        &key.display().to_string(),
        "-tls1",
        "-cipher",
        "DEFAULT:@SECLEVEL=0",
    ]);
    let (run, r) = probe(
        &env,
        &[&target(&old), "--ca-file", &ca_arg, "--tls-versions", "1.2"],
    );
    run.assert_code(1);
    let f = fatal(&r, "version_out_of_range");
    assert!(f.message.contains("TLS 1.0 at most"), "{}", f.message);
    assert!(f.fix.contains("tls_version tlsv1.2"), "{}", f.fix);
}

/// `fingerprint` by IP address warns exactly when `probe` (and the
/// device, which passes its host string to connect()) fails the name
/// check: a certificate with the address only as an iPAddress SAN. With
/// --no-sni (a sketch calling connect(IPAddress)) there is no name check.
#[test]
fn fingerprint_by_ip_warns_like_probe_fails() {
    let env = Env::new();
    let ca = pki::ca("Diag Root", Alg::EcP256);
    let ca_file = env.write("root.pem", &ca.cert_pem);
    let leaf = pki::leaf("localhost", &["localhost", "127.0.0.1"], Alg::EcP256, &ca);
    let s = serve(&env, "ipsan", &leaf.cert_pem, &leaf.key_pem, "");
    let by_ip = format!("127.0.0.1:{}", s.port);
    let (run, v) = env.run_json(&["fingerprint", &by_ip]);
    run.assert_code(0);
    let warning = v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["id"] == "name_mismatch")
        .unwrap_or_else(|| panic!("no name_mismatch: {v}"));
    assert!(
        warning["message"]
            .as_str()
            .is_some_and(|m| m.contains("servername = \"localhost\"")),
        "{warning}"
    );
    let (_, r) = probe(&env, &[&by_ip, "--ca-file", &ca_file.display().to_string()]);
    assert_eq!(r.device_tls_error, Some(56));
    let (run, v) = env.run_json(&["fingerprint", &by_ip, "--no-sni"]);
    run.assert_code(0);
    assert!(
        !v["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["id"] == "name_mismatch"),
        "{v}"
    );
}

/// A port that resets the connection on the ClientHello: the finding says
/// so in words, without the operating system's error number, and the tcp
/// phase still names the address connected to.
#[test]
fn a_reset_connection_is_said_in_words() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            // Unread data when the socket closes: the kernel sends RST.
            std::thread::sleep(std::time::Duration::from_millis(150));
            drop(conn);
        }
    });
    let env = Env::new();
    let (run, r) = probe(
        &env,
        &[
            &format!("127.0.0.1:{port}"),
            "--trust",
            "insecure",
            "--timeout",
            "3",
        ],
    );
    run.assert_code(3);
    let f = fatal(&r, "closed_without_answer");
    assert!(!f.message.contains("os error"), "{}", f.message);
    assert!(!run.stdout.contains("os error"), "{}", run.stdout);
    let tcp = r.phase("tcp").expect("tcp phase");
    assert_eq!(tcp.detail, format!("connected to 127.0.0.1:{port}"));
}
