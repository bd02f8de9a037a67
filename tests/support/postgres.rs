//! One real PostgreSQL server for the whole test run, a database per test.
//!
//! Started on first use: `initdb` (as user `postgres` when the tests run as
//! root — initdb refuses root), then `pg_ctl start` on a free loopback port
//! with fsync off. A watchdog shell stops it (`pg_ctl -m immediate stop`)
//! and removes its directory once the test process is gone, since Rust
//! never drops statics.
//!
//! [`Backend`] lets one test body run against both registry backends; the
//! [`both_backends!`] macro makes the two `#[test]` functions.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Duration;

use super::{free_port, Env};

/// The shared server.
pub struct PgServer {
    pub port: u16,
    pub password: String,
    pub dir: PathBuf,
}

static SERVER: OnceLock<PgServer> = OnceLock::new();
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

fn pg_bin(tool: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    for v in versions.iter().rev() {
        let p = v.join("bin").join(tool);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(tool)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// `tool args…`, as user `postgres` when we are root.
fn as_postgres(tool: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(pg_bin(tool));
        c
    } else {
        Command::new(pg_bin(tool))
    }
}

fn run(mut c: Command, what: &str) {
    let out = c
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e} (scripts/install-deps installs postgresql)"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgServer {
    fn start() -> PgServer {
        let dir = PathBuf::from(format!(
            "/tmp/espmqtt-pg-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let password = format!("pw-{}-{}", std::process::id(), free_port());
        let pwfile = dir.join("pwfile");
        std::fs::write(&pwfile, format!("{password}\n")).unwrap();
        let data = dir.join("data");
        if is_root() {
            run(
                {
                    let mut c = Command::new("chown");
                    c.args(["-R", "postgres:postgres"]).arg(&dir);
                    c
                },
                "chown",
            );
        }
        let mut c = as_postgres("initdb");
        c.arg("-D")
            .arg(&data)
            .args([
                "-U",
                "espmqtt",
                "-A",
                "scram-sha-256",
                "--no-sync",
                "-E",
                "UTF8",
            ])
            .arg(format!("--pwfile={}", pwfile.display()));
        run(c, "initdb");
        // The watchdog outlives this process and cleans up after it.
        let stop = format!(
            "{} {} -D '{}' -m immediate stop",
            if is_root() {
                "runuser -u postgres --"
            } else {
                ""
            },
            pg_bin("pg_ctl").display(),
            data.display()
        );
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf '{dir}'",
                pid = std::process::id(),
                dir = dir.display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        for _ in 0..5 {
            let port = free_port();
            let mut c = as_postgres("pg_ctl");
            c.arg("-D")
                .arg(&data)
                .arg("-w")
                .arg("-l")
                .arg(dir.join("log"))
                .arg("-o")
                .arg(format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                     -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
                    dir.display()
                ))
                .arg("start");
            let out = c.stdin(Stdio::null()).output().expect("pg_ctl");
            if out.status.success() {
                return PgServer {
                    port,
                    password,
                    dir,
                };
            }
        }
        panic!(
            "PostgreSQL did not start:\n{}",
            std::fs::read_to_string(dir.join("log")).unwrap_or_default()
        );
    }

    /// The server, started on first use.
    pub fn get() -> &'static PgServer {
        SERVER.get_or_init(PgServer::start)
    }

    /// A new, empty database; its URL without the password.
    pub fn new_database(&self) -> String {
        let name = format!("t{}", NEXT_DB.fetch_add(1, Ordering::SeqCst));
        let mut admin = postgres::Client::connect(
            &format!(
                "host=127.0.0.1 port={} user=espmqtt password={} dbname=postgres connect_timeout=10",
                self.port, self.password
            ),
            postgres::NoTls,
        )
        .expect("connect to the test PostgreSQL");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("CREATE DATABASE");
        format!("postgres://espmqtt@127.0.0.1:{}/{name}", self.port)
    }

    /// `url` with the password, for opening the registry from the test
    /// process itself (the binary gets it from PGPASSWORD).
    pub fn with_password(&self, url: &str) -> String {
        url.replacen("espmqtt@", &format!("espmqtt:{}@", self.password), 1)
    }
}

/// Which registry backend a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// A test environment whose binary uses this backend: for PostgreSQL a
    /// fresh database named by `ESPMQTT_REGISTRY`, the password in
    /// `PGPASSWORD`.
    pub fn env(self) -> Env {
        match self {
            Backend::Sqlite => Env::new(),
            Backend::Postgres => {
                let s = PgServer::get();
                let url = s.new_database();
                Env::with_vars(vec![
                    ("ESPMQTT_REGISTRY".into(), url),
                    ("PGPASSWORD".into(), s.password.clone()),
                ])
            }
        }
    }
}

/// Open the registry the binary uses in `env`, from the test process.
pub fn open_registry(env: &Env) -> espmqtt::device::registry::Registry {
    use espmqtt::device::registry::{Location, Registry};
    match env.vars.iter().find(|(k, _)| k == "ESPMQTT_REGISTRY") {
        None => Registry::open_path(&env.path().join(".espmqtt/registry.db")).expect("registry"),
        Some((_, url)) => {
            let url = PgServer::get().with_password(url);
            let loc = Location::parse(&url, Path::new("."), false).expect("registry URL");
            Registry::open_location(&loc).expect("registry")
        }
    }
}

/// `both_backends!(f, g)`: for each test body `fn f(b: Backend)`, a module
/// `f` with the tests `f::sqlite` and `f::postgres`.
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[test]
                fn sqlite() {
                    super::$name($crate::support::postgres::Backend::Sqlite)
                }
                #[test]
                fn postgres() {
                    super::$name($crate::support::postgres::Backend::Postgres)
                }
            }
        )*
    };
}
pub(crate) use both_backends;

/// Wait a little (used between a SIGKILL and the next look at a server).
pub fn settle() {
    std::thread::sleep(Duration::from_millis(100));
}
