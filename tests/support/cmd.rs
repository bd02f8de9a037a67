//! A builder for one run of the binary, so tests say what differs and not
//! the whole argument list (in the spirit of cargo's test support crate and
//! ripgrep's `rgtest!`):
//!
//! ```ignore
//! let env = Env::new();
//! let report = espmqtt(&env).args(["device", "list"]).json().expect_exit(0).json();
//! let err = espmqtt(&env).args(["probe", ":::"]).expect_exit(2).stderr;
//! ```
//!
//! Everything runs in the test's directory with the scrubbed environment of
//! [`Env::cmd`]; a failed expectation prints the command line, stdout and
//! stderr.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::{Env, Run};

/// Start a command line for `espmqtt` in `env`.
pub fn espmqtt(env: &Env) -> Cmd<'_> {
    Cmd {
        env,
        args: Vec::new(),
        vars: Vec::new(),
        dir: None,
        stdin: None,
        json: false,
        timeout: Duration::from_secs(60),
    }
}

/// One command line, built up and then run with [`Cmd::run`] or
/// [`Cmd::expect_exit`].
pub struct Cmd<'a> {
    env: &'a Env,
    args: Vec<OsString>,
    vars: Vec<(OsString, OsString)>,
    dir: Option<PathBuf>,
    stdin: Option<Vec<u8>>,
    json: bool,
    timeout: Duration,
}

impl Cmd<'_> {
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Append `--format json` (parse the result with [`Run::json`] or
    /// [`Run::json_lines`]).
    pub fn json(mut self) -> Self {
        self.json = true;
        self
    }

    /// Set an environment variable for this run.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.vars.push((key.into(), value.into()));
        self
    }

    /// Run in this directory instead of the test's own.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Feed these bytes on stdin (default: /dev/null).
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Kill the process and fail the test after this long (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The command line as a person would type it (for failure messages).
    pub fn display(&self) -> String {
        let mut words = vec!["espmqtt".to_string()];
        words.extend(self.all_args().iter().map(|a| {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains([' ', '"', '\'']) {
                format!("{a:?}")
            } else {
                a.into_owned()
            }
        }));
        words.join(" ")
    }

    fn all_args(&self) -> Vec<OsString> {
        let mut all = self.args.clone();
        if self.json {
            all.extend(["--format".into(), "json".into()]);
        }
        all
    }

    /// Run to completion (or the timeout) and collect the output.
    #[track_caller]
    pub fn run(self) -> Run {
        let mut command = self.env.cmd();
        command.args(self.all_args());
        for (key, value) in &self.vars {
            command.env(key, value);
        }
        if let Some(dir) = &self.dir {
            command.current_dir(dir);
        }
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        if self.stdin.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = command.spawn().expect("spawn espmqtt");
        if let Some(bytes) = &self.stdin {
            let mut pipe = child.stdin.take().expect("stdin pipe");
            // A command that does not read stdin closes it: not an error here.
            let _ = pipe.write_all(bytes);
        }
        let stdout = drain(child.stdout.take().expect("stdout pipe"));
        let stderr = drain(child.stderr.take().expect("stderr pipe"));
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for espmqtt") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{}` ran longer than {:?}", self.display(), self.timeout);
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let output = Output {
            status,
            stdout: stdout.join().expect("stdout reader"),
            stderr: stderr.join().expect("stderr reader"),
        };
        Run::from(output)
    }

    /// Run and require this exit code.
    #[track_caller]
    pub fn expect_exit(self, code: i32) -> Run {
        let cmdline = self.display();
        let run = self.run();
        assert_eq!(
            run.code, code,
            "`{cmdline}` exited {} (wanted {code})\nstdout:\n{}\nstderr:\n{}",
            run.code, run.stdout, run.stderr
        );
        run
    }
}

/// Read a pipe to its end on a thread (so a full pipe never blocks the child).
fn drain(mut pipe: impl Read + Send + 'static) -> JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}
