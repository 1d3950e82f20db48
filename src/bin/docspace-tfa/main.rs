//! `docspace-tfa`: the SDK's command-line tool (feature `cli`). See `docs/cli.md`.
// `deny`, not `forbid`: the one exception is `provision`'s SIGINT handler (libc's
// `sigaction`, `write`, `_exit`), allowed on that function alone.
#![deny(unsafe_code)]

mod args;
mod commands;
#[cfg(feature = "emulator")]
mod demo;
#[cfg(feature = "emulator")]
mod emulator;
mod link;
mod output;
mod password;
mod provision;
mod secure_file;
mod suggest;
mod terminal;
mod ticket;

use std::process::ExitCode;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches};

use crate::args::Cli;
use crate::output::{Failure, Out};

fn main() -> ExitCode {
    let json = std::env::args_os().any(|a| a == "--json");
    let parsed = command().try_get_matches().and_then(|m| {
        // Not `from_arg_matches_mut`: it takes the values out, and with them their source.
        Cli::from_arg_matches(&m)
            .map(|cli| (cli, m))
            .map_err(|e| e.format(&mut command()))
    });
    let (mut cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return usage_error(&e, json),
    };
    let out = Out::new(cli.global.json);
    exported_key_yields_to_the_links(&matches, &mut cli);
    let result = confirm_key_needs_confirm(&matches).and_then(|()| commands::run(cli, &out));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            out.failure(&f);
            ExitCode::from(f.exit)
        }
    }
}

/// The command line's definition. `code`, `emulator` and `demo` work offline: their help leaves out
/// the global options that only concern the network (every global option but `--json`).
fn command() -> clap::Command {
    let mut cmd = Cli::command();
    cmd.build();
    for offline in ["code", "emulator", "demo"] {
        if cmd.find_subcommand(offline).is_none() {
            continue; // `emulator` and `demo` without the feature
        }
        cmd = cmd.mut_subcommand(offline, |sub| {
            sub.mut_args(|arg| {
                if arg.is_global_set() && arg.get_id() != "json" {
                    arg.hide(true)
                } else {
                    arg
                }
            })
        });
    }
    cmd
}

/// A `--confirm-key` typed on the command line without `--confirm` is a mistake (the key
/// alone is no ticket). From `DOCSPACE_CONFIRM_KEY` it is not: a shell may export it for
/// several calls, and commands without `--confirm` simply do not use it. clap's `requires`
/// cannot tell the two apart (a value from the environment satisfies and triggers it alike),
/// so the source is checked here.
fn confirm_key_needs_confirm(matches: &ArgMatches) -> Result<(), Failure> {
    let sub = match matches.subcommand() {
        Some(("setup" | "validate", sub)) => sub,
        Some(("sms", sms)) => match sms.subcommand() {
            Some(("phone", sub)) => sub,
            _ => return Ok(()),
        },
        _ => return Ok(()),
    };
    if sub.value_source("confirm_key") == Some(ValueSource::CommandLine)
        && sub.value_source("confirm").is_none()
    {
        return Err(Failure::usage(
            "--confirm-key needs --confirm URL (the confirm URL of the same ticket)",
        ));
    }
    Ok(())
}

/// A key from `DOCSPACE_CONFIRM_KEY` (exported for another ticket, perhaps) does not override
/// the key a link carries itself (phone and e-mailed links do): for `check-link URL`, and for
/// `--confirm URL` of `setup`, `validate` and `sms phone`. A typed `--confirm-key` does. As
/// elsewhere, the variable is used only where the command line leaves the key open.
fn exported_key_yields_to_the_links(matches: &ArgMatches, cli: &mut Cli) {
    use args::{Command, SmsAction};
    let sub = match matches.subcommand() {
        Some(("check-link" | "setup" | "validate", sub)) => sub,
        Some(("sms", sms)) => match sms.subcommand() {
            Some(("phone", sub)) => sub,
            _ => return,
        },
        _ => return,
    };
    if sub.value_source("confirm_key") != Some(ValueSource::EnvVariable) {
        return;
    }
    match &mut cli.command {
        Command::CheckLink { link, confirm_key } if commands::link_carries_key(link) => {
            *confirm_key = None;
        }
        Command::Setup { ticket, .. }
        | Command::Validate { ticket, .. }
        | Command::Sms {
            action: SmsAction::Phone { ticket, .. },
        } if ticket
            .confirm
            .as_deref()
            .is_some_and(commands::link_carries_key) =>
        {
            // An empty key: the ticket takes the one in its URL.
            ticket.confirm_key = Some(String::new());
        }
        _ => {}
    }
}

/// Prints a clap error: `--help` and `--version` as clap does (exit 0), anything else as a
/// usage failure (exit 2) with a message that never repeats a value from the command line
/// (it may be a code, a key or a password typed in the wrong place), in JSON with `--json`.
fn usage_error(e: &clap::Error, json: bool) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(2);
        }
        _ => {}
    }
    let message = sanitized_message(e);
    if json {
        Out::new(true).failure(&Failure::usage(message));
    } else {
        let mut text = format!("error: {message}\n");
        if let Some(usage) = e.get(ContextKind::Usage) {
            // Built from the command's definition alone: no value the user typed.
            text.push_str(&format!("\n{}\n", usage.to_string().trim_end()));
        }
        text.push_str("\nFor more information, try '--help'.");
        eprintln!("{text}");
    }
    ExitCode::from(2)
}

/// The message of a clap error without any value the user typed.
fn sanitized_message(e: &clap::Error) -> String {
    let context = |kind: ContextKind| match e.get(kind) {
        Some(ContextValue::String(s)) => Some(s.clone()),
        Some(other @ (ContextValue::StyledStr(_) | ContextValue::Strings(_))) => {
            Some(other.to_string())
        }
        _ => None,
    };
    let arg = context(ContextKind::InvalidArg);
    match e.kind() {
        ErrorKind::UnknownArgument => match arg {
            Some(a) if is_flag_name(&a) => {
                let mut message = format!("unexpected argument '{a}'");
                if let Some(option) = suggest::option(&a, &std::env::args().collect::<Vec<_>>()) {
                    message.push_str(&format!("; did you mean '{option}'?"));
                }
                message
            }
            Some(a) if suggest::looks_like_half_a_code(&a) => {
                "unexpected argument (not shown: it may be a secret); a code with a space must be \
                 one argument: quote it (\"123 456\") or leave the space out"
                    .to_owned()
            }
            _ => "unexpected argument (not shown: it may be a secret)".to_owned(),
        },
        ErrorKind::InvalidValue if matches!(e.get(ContextKind::InvalidValue), Some(ContextValue::String(v)) if v.is_empty()) => {
            match arg {
                Some(a) => format!("a value is required for '{a}' but none was supplied"),
                None => "a value is required but none was supplied".to_owned(),
            }
        }
        ErrorKind::InvalidValue | ErrorKind::ValueValidation | ErrorKind::TooManyValues => {
            let mut message = match arg {
                Some(a) => format!("invalid value for '{a}' (not shown: it may be a secret)"),
                None => "invalid value (not shown: it may be a secret)".to_owned(),
            };
            if let Some(valid) = context(ContextKind::ValidValue).filter(|v| !v.trim().is_empty()) {
                message.push_str(&format!("; possible values: {valid}"));
            }
            message
        }
        // Never echoed, even when it looks like a word: a password typed in the wrong place
        // is often lower-case letters. The valid names are listed instead.
        ErrorKind::InvalidSubcommand => {
            let typed = context(ContextKind::InvalidSubcommand).unwrap_or_default();
            // Our own command names only: neither message repeats what was typed.
            if let Some(message) = suggest::missing_feature(&typed, cfg!(feature = "emulator")) {
                return message;
            }
            // The commands of the level mistyped: `sms phnoe` lists `phone, send`.
            let (names, near) = suggest::subcommands(&typed, &std::env::args().collect::<Vec<_>>());
            let mut message = format!(
                "unrecognized subcommand (not shown: it may be a secret); commands: {}",
                names.join(", ")
            );
            if let Some(name) = near {
                message.push_str(&format!("; did you mean '{name}'?"));
            }
            message
        }
        // The rest (missing arguments, conflicts, …) name arguments, never values: keep the
        // first paragraph of clap's text, on one line.
        _ => {
            let rendered = e.render().to_string();
            let first: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.trim().is_empty())
                .map(str::trim)
                .collect();
            let joined = first.join(" ");
            let text = joined.strip_prefix("error:").unwrap_or(&joined).trim();
            if text.is_empty() {
                e.kind()
                    .as_str()
                    .unwrap_or("invalid command line")
                    .to_owned()
            } else {
                text.to_owned()
            }
        }
    }
}

/// Whether an unexpected argument is a flag's name (`--frobnicate`, `-x`), safe to repeat;
/// not a value that happens to start with `-` (a backup code may) or a `--flag=value`.
fn is_flag_name(s: &str) -> bool {
    match s.strip_prefix("--") {
        Some(name) => {
            (1..=40).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        }
        None => {
            let mut chars = s.chars();
            chars.next() == Some('-')
                && chars.next().is_some_and(|c| c.is_ascii_alphabetic())
                && chars.next().is_none()
        }
    }
}
