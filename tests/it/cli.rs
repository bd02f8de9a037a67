//! Integration tests: global CLI behaviour, exit codes, completions.

use crate::support::{Env, Run};

#[test]
fn help_lists_exit_codes() {
    let env = Env::new();
    let r = env.run(&["--help"]);
    r.assert_code(0);
    assert!(r.stdout.contains("Exit codes:"));
}

#[test]
fn unknown_flag_is_usage_error() {
    let env = Env::new();
    env.run(&["--definitely-not-a-flag"]).assert_code(2);
}

#[test]
fn completions_match_checked_in_files() {
    let env = Env::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "espmqtt.bash"),
        ("zsh", "_espmqtt"),
        ("fish", "espmqtt.fish"),
        ("powershell", "_espmqtt.ps1"),
        ("elvish", "espmqtt.elv"),
    ] {
        let r: Run = env.run(&["completions", shell]);
        r.assert_code(0);
        let checked_in = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("completions/{file}: {e}"));
        assert!(
            r.stdout == checked_in,
            "completions/{file} drifted from `espmqtt completions {shell}`: run scripts/update-completions"
        );
    }
}

#[test]
fn bash_completion_is_valid_bash() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/espmqtt.bash");
    let st = std::process::Command::new("bash")
        .arg("-n")
        .arg(&root)
        .status()
        .unwrap();
    assert!(st.success(), "bash -n rejected completions/espmqtt.bash");
}
