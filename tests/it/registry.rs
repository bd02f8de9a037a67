//! The registry contract, held to both backends through the library API:
//! the same behaviour from SQLite and PostgreSQL (docs/REGISTRY.md). The
//! process-level tests (8 writers, SIGKILL, fleet claims across stations)
//! are in device.rs and fleet.rs.

use std::time::Duration;

use espmqtt::device::registry::{Created, NewDevice, CLAIM_LEASE};

use crate::support::postgres::{both_backends, open_registry, Backend, PgServer};

both_backends!(
    create_rotate_revoke_and_history,
    a_mac_is_bound_to_one_device,
    claims_are_exclusive_lapse_and_renew,
    the_event_log_is_append_only_in_the_database,
);

fn create_rotate_revoke_and_history(backend: Backend) {
    let env = backend.env();
    let r = open(&env);
    let a = NewDevice::generate("a").unwrap();
    let out = r
        .create_devices(&[a.clone(), NewDevice::generate("a").unwrap()])
        .unwrap();
    assert_eq!(out, vec![Created::Created, Created::Duplicate]);
    let rec = r.device("a").unwrap();
    assert_eq!(rec.secret, a.secret);
    assert!(!format!("{rec:?}").contains(&a.secret));
    let rotated = r.rotate("a").unwrap();
    assert_ne!(rotated.secret, a.secret);
    assert_eq!(r.credential_history("a").unwrap().len(), 2);
    assert!(r.revoke("a").unwrap());
    assert!(!r.revoke("a").unwrap());
    assert!(r.password_entries(101).unwrap().is_empty());
    assert_eq!(r.device("zz").unwrap_err().exit_status().code(), 2);
    assert!(r.check().unwrap().is_empty());
}

fn a_mac_is_bound_to_one_device(backend: Backend) {
    let env = backend.env();
    let r = open(&env);
    r.create_devices(&[
        NewDevice::generate("m1").unwrap(),
        NewDevice::generate("m2").unwrap(),
    ])
    .unwrap();
    r.record_flash("m1", "AA:BB:CC:00:00:01", None, None, None)
        .unwrap();
    // The same chip flashed as m2: the binding moves, never duplicates.
    r.record_flash("m2", "aa:bb:cc:00:00:01", None, None, None)
        .unwrap();
    assert_eq!(r.device("m1").unwrap().mac, None);
    assert_eq!(
        r.device("m2").unwrap().mac.as_deref(),
        Some("aa:bb:cc:00:00:01")
    );
    // And the database itself refuses a second binding.
    let dup = "UPDATE devices SET mac = 'aa:bb:cc:00:00:01' WHERE name = 'm1'";
    assert!(raw_sql(&env, backend, dup).is_err());
}

fn claims_are_exclusive_lapse_and_renew(backend: Backend) {
    let env = backend.env();
    let (r, r2) = (open(&env), open(&env));
    let names: Vec<String> = (0..3).map(|i| format!("c{i}")).collect();
    let news: Vec<NewDevice> = names
        .iter()
        .map(|n| NewDevice::generate(n).unwrap())
        .collect();
    r.create_devices(&news).unwrap();
    let a = r
        .claim_next_unflashed(&names, "w1", CLAIM_LEASE)
        .unwrap()
        .unwrap();
    let b = r2
        .claim_next_unflashed(&names, "w2", CLAIM_LEASE)
        .unwrap()
        .unwrap();
    assert_ne!(a.name, b.name);
    r.record_flash(
        &a.name,
        "AA:BB:CC:DD:EE:FF",
        Some("0x00aabbcc"),
        Some(1 << 20),
        Some("ab"),
    )
    .unwrap();
    // The flash ends the claim and records the module.
    let rec = r.device(&a.name).unwrap();
    assert_eq!(rec.claimed_by, None);
    assert_eq!(rec.mac.as_deref(), Some("aa:bb:cc:dd:ee:ff"));
    assert_eq!(rec.chip_id.as_deref(), Some("0x00aabbcc"));
    assert_eq!(rec.flash_size, Some(1 << 20));
    assert!(r2.release_claim(&b.name, "w2").unwrap());
    let c = r
        .claim_next_unflashed(&names, "w1", CLAIM_LEASE)
        .unwrap()
        .unwrap();
    assert_eq!(c.name, b.name);

    // A short lease: renewed it holds, lapsed it goes to the next worker.
    let short = Duration::from_millis(300);
    let last = r
        .claim_next_unflashed(&names, "w1", short)
        .unwrap()
        .unwrap();
    assert!(r2
        .claim_next_unflashed(&names, "w2", short)
        .unwrap()
        .is_none());
    assert!(r.renew_claim(&last.name, "w1", CLAIM_LEASE).unwrap());
    std::thread::sleep(Duration::from_millis(400));
    assert!(r2
        .claim_next_unflashed(&names, "w2", short)
        .unwrap()
        .is_none());
    assert!(r.claim_lease_left(&last.name).unwrap().unwrap() > Duration::from_secs(50));
    assert!(r.renew_claim(&last.name, "w1", short).unwrap());
    std::thread::sleep(Duration::from_millis(400));
    let taken = r2.claim_next_unflashed(&names, "w2", CLAIM_LEASE).unwrap();
    assert_eq!(taken.unwrap().claimed_by.as_deref(), Some("w2"));
    // The worker whose lease lapsed cannot renew it any more, nor release it.
    assert!(!r.renew_claim(&last.name, "w1", CLAIM_LEASE).unwrap());
    assert!(!r.release_claim(&last.name, "w1").unwrap());
    // Every device is flashed or claimed: nothing left; unknown names are refused.
    assert!(r
        .claim_next_unflashed(&names, "w3", CLAIM_LEASE)
        .unwrap()
        .is_none());
    let unknown = r.claim_next_unflashed(&["nope".to_string()], "w", CLAIM_LEASE);
    assert_eq!(unknown.unwrap_err().exit_status().code(), 2);
}

fn the_event_log_is_append_only_in_the_database(backend: Backend) {
    let env = backend.env();
    let r = open(&env);
    r.log_event(None, "note", "hello").unwrap();
    for sql in ["DELETE FROM events", "UPDATE events SET detail = 'x'"] {
        assert!(raw_sql(&env, backend, sql).is_err(), "{sql} was allowed");
    }
    if backend == Backend::Postgres {
        // Row triggers do not see TRUNCATE; a statement trigger must.
        assert!(
            raw_sql(&env, backend, "TRUNCATE events").is_err(),
            "TRUNCATE was allowed"
        );
    }
    assert_eq!(r.events(None, 10).unwrap().len(), 1);
}

/// The registry of `env` (for SQLite the project's state directory is
/// made first, as any command would).
fn open(env: &crate::support::Env) -> espmqtt::device::registry::Registry {
    std::fs::create_dir_all(env.path().join(".espmqtt")).unwrap();
    open_registry(env)
}

/// Run one statement on the registry's database, behind the API's back.
fn raw_sql(env: &crate::support::Env, backend: Backend, sql: &str) -> Result<(), String> {
    match backend {
        Backend::Sqlite => {
            let c = rusqlite::Connection::open(env.path().join(".espmqtt/registry.db"))
                .map_err(|e| e.to_string())?;
            c.execute(sql, []).map(|_| ()).map_err(|e| e.to_string())
        }
        Backend::Postgres => {
            let url = env
                .vars
                .iter()
                .find(|(k, _)| k == "ESPMQTT_REGISTRY")
                .map(|(_, v)| PgServer::get().with_password(v))
                .expect("registry URL");
            let mut c =
                postgres::Client::connect(&url, postgres::NoTls).map_err(|e| e.to_string())?;
            c.batch_execute(sql).map_err(|e| e.to_string())
        }
    }
}
