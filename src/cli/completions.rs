//! `espmqtt completions SHELL`: shell completion scripts.
//!
//! The same scripts are checked in under `completions/`; a test regenerates
//! them and fails when they drift (`tests/it/cli.rs`). The output is a shell
//! script, so `--format json` is refused rather than ignored.

use clap_complete::Shell;

use crate::error::{Error, ExitStatus, Result};

use super::Ctx;

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  espmqtt completions bash \\
      > ~/.local/share/bash-completion/completions/espmqtt
  espmqtt completions zsh > ~/.zfunc/_espmqtt
  espmqtt completions fish > ~/.config/fish/completions/espmqtt.fish")]
pub struct CompletionsArgs {
    /// Shell to generate the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The completion script for `shell`, as bytes.
pub fn generate(shell: Shell) -> Vec<u8> {
    let mut cmd = super::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut cmd, "espmqtt", &mut out);
    out
}

/// File name under `completions/` for each shell.
pub fn file_name(shell: Shell) -> &'static str {
    match shell {
        Shell::Bash => "espmqtt.bash",
        Shell::Zsh => "_espmqtt",
        Shell::Fish => "espmqtt.fish",
        Shell::PowerShell => "_espmqtt.ps1",
        Shell::Elvish => "espmqtt.elv",
        _ => "espmqtt.unknown",
    }
}

pub fn run(args: CompletionsArgs, ctx: &Ctx) -> Result<ExitStatus> {
    use std::io::Write;
    if ctx.is_json() {
        return Err(Error::usage(
            "`completions` prints a shell script; --format json does not apply",
        )
        .with_help("run it without --format json"));
    }
    let script = generate(args.shell);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&script);
    let _ = out.flush();
    Ok(ExitStatus::Success)
}
