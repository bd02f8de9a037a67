//! The `espmqtt` binary: parse, run, map the outcome to an exit code.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match espmqtt::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return espmqtt::cli::report_parse_error(&e, std::env::args_os()),
    };
    let ctx = espmqtt::cli::Ctx::from_global(&cli.global);
    match espmqtt::cli::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(err) => {
            ctx.report_error(&err);
            ExitCode::from(err.exit_status().code())
        }
    }
}
