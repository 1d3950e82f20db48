//! `docspace-tfa`: the SDK's command-line tool (feature `cli`). See `docs/cli.md`.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

use crate::args::Cli;
use crate::output::{Failure, Out};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage_error(e),
    };
    let out = Out::new(cli.global.json);
    match commands::run(cli, &out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            out.failure(&f);
            ExitCode::from(f.exit)
        }
    }
}

/// Prints a clap error: `--help` and `--version` normally (exit 0), anything else as a usage
/// failure (exit 2), in JSON when `--json` is on the command line.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            ExitCode::from(2)
        } else {
            ExitCode::SUCCESS
        };
    }
    let json = std::env::args_os().any(|a| a == "--json");
    if json {
        let message = e
            .kind()
            .as_str()
            .unwrap_or("invalid command line")
            .to_owned();
        let detail = e
            .render()
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .trim_start_matches("error: ")
            .to_owned();
        let message = if detail.is_empty() { message } else { detail };
        Out::new(true).failure(&Failure::usage(message));
    } else {
        let _ = e.print();
    }
    ExitCode::from(2)
}
