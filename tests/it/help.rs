//! Every command's `--help` on an 80-column terminal: no line wider than 80
//! columns, help text that clap would have to re-wrap (and so break an
//! example in two) is refused, and every example line is a command line
//! the real argument parser accepts.
//!
//! The list of commands comes from clap's own command tree, so a new
//! subcommand is covered without touching this file.

use crate::support::{espmqtt, Env};

/// Every command path below the root, nested ones included
/// (`["device"]`, `["device", "new"]`, …).
pub fn command_paths() -> Vec<Vec<String>> {
    fn walk(cmd: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in cmd.get_subcommands() {
            if sub.get_name() == "help" {
                continue;
            }
            let mut p = prefix.to_vec();
            p.push(sub.get_name().to_string());
            out.push(p.clone());
            walk(sub, &p, out);
        }
    }
    let mut out = vec![Vec::new()];
    walk(&espmqtt::cli::command(), &[], &mut out);
    out
}

/// The clap command at `path`.
pub fn find_command(path: &[String]) -> clap::Command {
    let mut cmd = espmqtt::cli::command();
    for name in path {
        cmd = cmd
            .find_subcommand(name)
            .unwrap_or_else(|| panic!("no subcommand {name}"))
            .clone();
    }
    cmd
}

/// Split a shell command line into words: quotes and backslashes as in sh,
/// `$VAR` / `$(…)` replaced by a placeholder word, and the line cut at a
/// comment, a pipe, a redirection or a command separator.
pub fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    cur.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                cur.push(e);
                            }
                        }
                        '$' => {
                            skip_expansion(&mut chars);
                            cur.push_str("VALUE");
                        }
                        _ => cur.push(d),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    cur.push(e);
                }
            }
            '$' => {
                in_word = true;
                skip_expansion(&mut chars);
                cur.push_str("VALUE");
            }
            '#' if !in_word => break,
            '|' | ';' | '>' | '<' | '&' => break,
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    words
}

fn skip_expansion(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.peek() {
        Some('(') | Some('{') => {
            let close = if chars.next() == Some('(') { ')' } else { '}' };
            let mut depth = 1;
            for d in chars.by_ref() {
                if d == '(' || d == '{' {
                    depth += 1;
                } else if d == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
            }
        }
        _ => {
            while chars
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
            {
                chars.next();
            }
        }
    }
}

/// The example command lines in a help text: lines starting with
/// `espmqtt ` (after indentation or a `$ ` prompt), with `\` continuations
/// joined.
pub fn examples(help: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = help.lines();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        let t = t.strip_prefix("$ ").unwrap_or(t);
        if !t.starts_with("espmqtt ") {
            continue;
        }
        let mut full = t.to_string();
        while full.trim_end().ends_with('\\') {
            let cut = full.trim_end().len() - 1;
            full.truncate(cut);
            match lines.next() {
                Some(next) => full.push_str(next),
                None => break,
            }
        }
        out.push(full);
    }
    out
}

#[test]
fn shell_words_handles_quotes_comments_and_expansions() {
    assert_eq!(
        shell_words(r#"espmqtt a 'b c' "d $X e" f\ g # comment"#),
        ["espmqtt", "a", "b c", "d VALUE e", "f g"]
    );
    assert_eq!(
        shell_words("espmqtt x --p \"$(cat f)\" | jq ."),
        ["espmqtt", "x", "--p", "VALUE"]
    );
    assert_eq!(
        examples("Examples:\n  espmqtt a \\\n      --b c   # note\n  $ espmqtt d\ntext espmqtt e"),
        ["espmqtt a       --b c   # note", "espmqtt d"]
    );
}

/// The help text written in the source after (or before) the options.
fn written_help(cmd: &clap::Command) -> String {
    [
        cmd.get_before_long_help().or(cmd.get_before_help()),
        cmd.get_after_long_help().or(cmd.get_after_help()),
    ]
    .into_iter()
    .flatten()
    .map(|t| t.to_string())
    .collect::<Vec<_>>()
    .join("\n")
}

/// Indented lines (examples, tables) fit 80 columns as written: clap
/// re-wraps prose, but a wrapped example is two broken commands.
#[test]
fn written_examples_and_tables_fit_80_columns() {
    let mut bad = Vec::new();
    for path in command_paths() {
        for line in written_help(&find_command(&path)).lines() {
            if line.starts_with(' ') && line.chars().count() > 80 {
                bad.push(format!("espmqtt {}: {line}", path.join(" ")));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "help lines wider than 80 columns:\n{}",
        bad.join("\n")
    );
}

#[test]
fn every_help_fits_80_columns_and_its_examples_parse() {
    let env = Env::new();
    let mut problems = Vec::new();
    let mut parsed = 0;
    for path in command_paths() {
        let name = format!("espmqtt {}", path.join(" "));
        let run = espmqtt(&env)
            .args(&path)
            .arg("--help")
            .env("COLUMNS", "80")
            .env("LINES", "24")
            .expect_exit(0);
        for line in run.stdout.lines() {
            if line.chars().count() > 80 {
                problems.push(format!("{name} --help: line wider than 80: {line}"));
            }
        }
        let written = written_help(&find_command(&path));
        // Each example line is shown as written (not re-wrapped)…
        for line in written.lines() {
            let t = line.trim_start();
            if (t.starts_with("espmqtt ") || t.starts_with("$ espmqtt "))
                && !run.stdout.lines().any(|l| l.trim_end() == line.trim_end())
            {
                problems.push(format!("{name} --help: example re-wrapped: {line}"));
            }
        }
        // … and is a command line the parser accepts.
        for example in examples(&written) {
            let words = shell_words(&example);
            match espmqtt::cli::command().try_get_matches_from(&words) {
                Ok(_) => parsed += 1,
                Err(e) if !e.use_stderr() => parsed += 1, // --help, --version
                Err(e) => problems.push(format!(
                    "{name} --help: example does not parse: {example}\n  {}",
                    e.render().to_string().lines().next().unwrap_or_default()
                )),
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(parsed > 40, "only {parsed} examples found");
}

/// Every command has examples (the README promises `--help` with examples).
#[test]
fn every_runnable_command_has_an_example() {
    let mut missing = Vec::new();
    for path in command_paths() {
        let cmd = find_command(&path);
        if path.is_empty() || cmd.has_subcommands() {
            continue;
        }
        if examples(&written_help(&cmd)).is_empty() {
            missing.push(format!("espmqtt {}", path.join(" ")));
        }
    }
    assert!(missing.is_empty(), "no example in --help: {missing:?}");
}
