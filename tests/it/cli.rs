//! Integration tests: global CLI behaviour, exit codes, completions.

use crate::support::{espmqtt, Env};

#[test]
fn help_lists_exit_codes() {
    let env = Env::new();
    let help = espmqtt(&env).arg("--help").expect_exit(0).stdout;
    assert!(help.contains("Exit codes:"));
}

#[test]
fn unknown_flag_is_usage_error() {
    let env = Env::new();
    espmqtt(&env).arg("--definitely-not-a-flag").expect_exit(2);
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
        let script = espmqtt(&env)
            .args(["completions", shell])
            .expect_exit(0)
            .stdout;
        let checked_in = std::fs::read_to_string(root.join(file))
            .unwrap_or_else(|e| panic!("completions/{file}: {e}"));
        assert!(
            script == checked_in,
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
