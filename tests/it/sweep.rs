//! The "no panic" sweep: every subcommand, every argument that takes a
//! value, a table of hostile values for its kind (number, path, name or
//! address, choice). Each run must end with an exit code of the README's
//! table (0–4), never 101, and print no panic message or backtrace.
//!
//! The arguments come from clap's command tree, so a new flag or a new
//! subcommand is swept without touching this file; [`base`] only supplies
//! a quick, harmless command line to add the hostile value to (unreachable
//! loopback ports, short timeouts), so the value is checked by the command
//! itself and not only by a missing required argument.

use std::any::TypeId;
use std::collections::VecDeque;
use std::io::Read;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::help::{command_paths, find_command};
use crate::support::{Env, Run};

/// Numbers that overflow, are not numbers, or are absurd. The first
/// [`QUICK`] of each table run by default; all of them with
/// `ESPMQTT_SWEEP=full` (docs/TESTING.md).
const NUMBERS: &[&str] = &[
    "nan",
    "1e300",
    "-1",
    "0",
    "18446744073709551616",
    "inf",
    "-inf",
    "99999999",
    "0x10",
    "1.5",
    "",
    " 7",
];

/// Paths that are devices, directories, missing or unusable.
const PATHS: &[&str] = &[
    "/dev/zero",
    "/dev/full",
    "nonexistent-dir/file",
    "/",
    "/dev/null",
    ".",
    "",
    "/proc/self/mem",
    "a\u{1}b",
];

/// Names, addresses and free text.
const NAMES: &[&str] = &[
    "a/b",
    ":::",
    "a\u{1}b\u{7f}",
    "",
    " ",
    "../x",
    "-",
    "[::1",
    "127.0.0.1:0",
    "é☃\u{202e}",
    "%s%n",
    "a\"b'c\\\nd",
    "nonexistent-dir/x",
    "/dev/zero",
    "nan",
];

/// Values per table in a default run (plus a 100 000-character string).
const QUICK: usize = 6;

/// A base command line: groups (`--flag VALUE`, a flag alone, or a
/// positional value) separated by ` ; `.
type Base = Vec<Vec<String>>;

fn line(s: &str) -> Base {
    s.split(" ; ")
        .map(|g| g.split_whitespace().map(str::to_string).collect())
        .collect()
}

/// A quick, harmless command line per command path (alternatives allowed);
/// the hostile value replaces the base's own group for the same argument.
fn base(path: &str, addr_in_use: &str) -> Vec<Base> {
    match path {
        "fingerprint" | "probe" => vec![line("127.0.0.1:1 ; --timeout 1s")],
        "device new" => vec![line("n1"), line("--prefix s- ; --count 2")],
        "device show" | "device rotate" | "device cert" => vec![line("d1")],
        "device revoke" => vec![line("d2")],
        "device config" => vec![line("d1 ; --out out.bin")],
        "device import" => vec![line("no-such-dump.json")],
        "broker export" => vec![line("--mosquitto bx")],
        "broker sync" => vec![line("--dynsec mqtts://admin@127.0.0.1:1 ; --dry-run")],
        "init" => vec![line(
            "--force ; --broker 127.0.0.1:1 ; --wifi-ssid h ; --wifi-password 12345678 ; \
             --topic-prefix t ; --trust insecure",
        )],
        "flash" => vec![line("--port socket://127.0.0.1:1 ; --firmware fw.bin")],
        "monitor" => vec![line("--port socket://127.0.0.1:1 ; --timeout 1s")],
        "emulate" => vec![line(&format!("--listen {addr_in_use}"))],
        "demo" => vec![line("--mosquitto /nonexistent/mosquitto")],
        "completions" => vec![line("bash")],
        _ => vec![Vec::new()],
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Choice,
    Number,
    Path,
    Name,
}

fn kind_of(arg: &clap::Arg) -> Kind {
    if !arg.get_possible_values().is_empty() {
        return Kind::Choice;
    }
    let t = arg.get_value_parser().type_id();
    let numeric = [
        TypeId::of::<u8>(),
        TypeId::of::<u16>(),
        TypeId::of::<u32>(),
        TypeId::of::<u64>(),
        TypeId::of::<usize>(),
        TypeId::of::<i32>(),
        TypeId::of::<i64>(),
        TypeId::of::<f32>(),
        TypeId::of::<f64>(),
        TypeId::of::<Duration>(),
    ];
    if numeric.iter().any(|n| t == *n) {
        Kind::Number
    } else if t == TypeId::of::<PathBuf>() {
        Kind::Path
    } else {
        Kind::Name
    }
}

fn values_for(kind: Kind) -> Vec<String> {
    let full = std::env::var("ESPMQTT_SWEEP").is_ok_and(|v| v == "full");
    let table: &[&str] = match kind {
        Kind::Choice => &["bogus", ""],
        Kind::Number => NUMBERS,
        Kind::Path => PATHS,
        Kind::Name => NAMES,
    };
    let n = if full || kind == Kind::Choice {
        table.len()
    } else {
        QUICK
    };
    let mut v: Vec<String> = table.iter().take(n).map(|s| s.to_string()).collect();
    if kind != Kind::Choice {
        v.push("x".repeat(100_000));
    }
    v
}

/// The base without its own group for the swept argument (every group of
/// a repeatable flag, every positional group for a positional).
fn without(base: &Base, flag: Option<&str>) -> Vec<String> {
    base.iter()
        .filter(|g| match flag {
            Some(f) => g.first().map(String::as_str) != Some(f),
            None => g.first().is_some_and(|w| w.starts_with('-')),
        })
        .flatten()
        .cloned()
        .collect()
}

struct Case {
    dir: Arc<Env>,
    args: Vec<String>,
    /// May run on (a server, or a valid but long wait): killed, not failed.
    may_run_on: bool,
}

#[test]
fn hostile_values_never_panic() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr_in_use = holder.local_addr().unwrap().to_string();
    let mut cases = VecDeque::new();
    let mut swept_args = 0;
    // Global flags (`--config`, `--format`) are swept on every command.
    let globals: Vec<(String, Kind)> = espmqtt::cli::command()
        .get_arguments()
        .filter(|a| a.is_global_set() && a.get_action().takes_values())
        .filter_map(|a| Some((format!("--{}", a.get_long()?), kind_of(a))))
        .collect();
    assert!(globals.iter().any(|(f, _)| f == "--config"), "{globals:?}");
    for path in command_paths() {
        let cmd = find_command(&path);
        if path.is_empty() || cmd.has_subcommands() {
            continue;
        }
        let env = Arc::new(project_env());
        let key = path.join(" ");
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if matches!(id, "help" | "version") || !arg.get_action().takes_values() {
                continue;
            }
            swept_args += 1;
            let flag = arg.get_long().map(|l| format!("--{l}"));
            for value in values_for(kind_of(arg)) {
                for b in base(&key, &addr_in_use) {
                    let mut args = path.clone();
                    args.extend(without(&b, flag.as_deref()));
                    match &flag {
                        // `--flag=VALUE`: a value starting with `-` stays a value.
                        Some(f) => args.push(format!("{f}={value}")),
                        None => {
                            args.push("--".into());
                            args.push(value.clone());
                        }
                    }
                    let may_run_on = key == "emulate" || value == "99999999";
                    cases.push_back(Case {
                        dir: env.clone(),
                        args,
                        may_run_on,
                    });
                }
            }
        }
        for (flag, kind) in &globals {
            for value in values_for(*kind) {
                let mut args = path.clone();
                args.extend(base(&key, &addr_in_use).swap_remove(0).concat());
                args.push(format!("{flag}={value}"));
                cases.push_back(Case {
                    dir: env.clone(),
                    args,
                    may_run_on: key == "emulate",
                });
            }
        }
    }
    assert!(swept_args > 50, "only {swept_args} arguments found");
    let total = cases.len();
    let started = Instant::now();
    let queue = Arc::new(Mutex::new(cases));
    let failures = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let queue = queue.clone();
            let failures = failures.clone();
            std::thread::spawn(move || loop {
                let Some(case) = queue.lock().unwrap().pop_front() else {
                    return;
                };
                if let Some(f) = run_case(&case) {
                    failures.lock().unwrap().push(f);
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    drop(holder);
    eprintln!("{total} runs in {:.1} s", started.elapsed().as_secs_f64());
    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} of {total} runs failed:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// A project with a device (`d1`, `d2`), a local CA and a firmware file.
fn project_env() -> Env {
    let env = Env::new();
    env.init_project("127.0.0.1:1", &["--trust", "insecure"])
        .assert_code(0);
    env.run(&["device", "new", "d1", "d2"]).assert_code(0);
    env.run(&["ca", "init"]).assert_code(0);
    // A minimal ESP8266 image: header, one 4-byte segment, checksum.
    let mut fw = vec![0xE9, 1, 2, 0x20, 0, 0, 0x10, 0x40];
    fw.extend([0, 0, 0x10, 0x40, 4, 0, 0, 0, 1, 2, 3, 4]);
    while (fw.len() + 1) % 16 != 0 {
        fw.push(0);
    }
    fw.push(0xEF ^ 1 ^ 2 ^ 3 ^ 4);
    env.write("fw.bin", fw);
    env
}

fn run_case(case: &Case) -> Option<String> {
    let mut c = case.dir.cmd();
    c.args(&case.args)
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let shown = format!(
        "espmqtt {:?}",
        case.args.iter().map(|a| shorten(a)).collect::<Vec<_>>()
    );
    let mut child = match c.spawn() {
        Ok(c) => c,
        Err(e) => return Some(format!("{shown}: spawn: {e}")),
    };
    // Drain both pipes while the child runs: an error that echoes a huge
    // value would otherwise fill the pipe and block the child.
    let drain = |mut p: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut b = Vec::new();
            let _ = p.read_to_end(&mut b);
            b
        })
    };
    let out = drain(Box::new(child.stdout.take().unwrap()));
    let err = drain(Box::new(child.stderr.take().unwrap()));
    let limit = if case.may_run_on { 5 } else { 30 };
    let deadline = Instant::now() + Duration::from_secs(limit);
    let mut killed = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                killed = true;
                match child.wait() {
                    Ok(st) => break st,
                    Err(e) => return Some(format!("{shown}: wait: {e}")),
                }
            }
        }
    };
    let run = Run::from(std::process::Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    });
    if killed && !case.may_run_on {
        return Some(format!("{shown}: still running after {limit} s"));
    }
    check(&shown, &run, killed)
}

fn check(shown: &str, run: &Run, killed: bool) -> Option<String> {
    let all = run.all();
    let panicked = all.contains("panicked")
        || all.contains("stack backtrace")
        || all.contains("RUST_BACKTRACE");
    if panicked || (!killed && !(0..=4).contains(&run.code)) {
        return Some(format!(
            "{shown}: exit {}\n{}",
            run.code,
            all.lines().take(12).collect::<Vec<_>>().join("\n")
        ));
    }
    None
}

fn shorten(a: &str) -> String {
    if a.len() > 40 {
        format!(
            "{}…({} bytes)",
            &a[..a.char_indices().nth(20).map_or(a.len(), |(i, _)| i)],
            a.len()
        )
    } else {
        a.to_string()
    }
}
