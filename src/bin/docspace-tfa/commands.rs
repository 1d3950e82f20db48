//! The commands: each builds a client, calls the SDK and prints its result. This file parses
//! what the command line gives (the client from the global options, the token, the password,
//! the TOTP key, checks before any request) and dispatches; the commands themselves are in
//! one file per group: [`setup`] (`code`, `setup`, `validate`), [`login`], [`policy`]
//! (`confirm`, `settings`), [`codes`] (`codes`, `unlink`).

mod codes;
mod doctor;
mod login;
mod policy;
mod session;
pub use session::link_carries_key;
pub mod setup;
mod sms;

use std::path::Path;
use std::time::{Duration, Instant};

use docspace_tfa::totp::TotpKey;
use docspace_tfa::{
    normalize_code, Client, ClientBuilder, ErrorKind, Proxy, RetryPolicy, Secret, TfaPolicy,
    TfaType,
};

use crate::args::{Cli, Command, Global, SettingsAction, SmsAction, TypeArg};
use crate::link::{CodeSource, LinkFlow};
use crate::output::{Failure, Out};
use crate::password::password_from_stdin;
use crate::secure_file;
use crate::ticket;

type Result<T> = std::result::Result<T, Failure>;

/// Runs the parsed command line.
pub fn run(cli: Cli, out: &Out) -> Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Code { key, at } => setup::code(out, &key, at),
        Command::Setup { ticket, qr_png } => {
            let ticket = ticket::from_args(&ticket)?;
            check_writable(qr_png.as_deref())?;
            let client = client(&global, ticket.is_none())?;
            setup::setup(out, &client, ticket.as_ref(), qr_png.as_deref())
        }
        Command::Validate { code, ticket } => {
            let code = normalize_code(&code)?;
            let ticket = ticket::from_args(&ticket)?;
            let client = client(&global, ticket.is_none())?;
            setup::validate(out, &client, ticket.as_ref(), &code)
        }
        Command::Login {
            user,
            code,
            totp_key_file,
            password_stdin,
            phone,
        } => {
            let code = code.as_deref().map(normalize_code).transpose()?;
            let sms = phone.as_deref().map(sms::sent_to).transpose()?;
            let key = match code {
                Some(_) => None,
                None => totp_key(totp_key_file.as_deref())?,
            };
            let password = password(password_stdin, &global)?;
            let client = client(&global, false)?;
            match key {
                Some(key) => login::login_with_key(out, &client, &user, password, &key),
                None => login::login(out, &client, &user, password, code.as_deref(), sms),
            }
        }
        Command::Sms {
            action: SmsAction::Phone { phone, ticket },
        } => {
            let phone = sms::checked_phone(&phone)?;
            let ticket = ticket::from_args(&ticket)?.ok_or_else(|| {
                Failure::usage(
                    "sms phone needs the ticket of an sms_phone_required login: --confirm URL \
                     --confirm-key KEY, or --confirm-json FILE|-",
                )
            })?;
            sms::set_phone(out, &client(&global, false)?, &ticket, &phone)
        }
        Command::Sms {
            action:
                SmsAction::Send {
                    user,
                    password_stdin,
                },
        } => {
            let password = password(password_stdin, &global)?;
            sms::send(out, &client(&global, false)?, &user, password)
        }
        Command::Confirm => policy::confirm(out, &client(&global, true)?),
        Command::Settings { action: None } => policy::settings(out, &client(&global, true)?),
        Command::Settings {
            action:
                Some(SettingsAction::Set {
                    tfa_type,
                    trusted_ips,
                    mandatory_users,
                    mandatory_groups,
                    with_link,
                }),
        } => {
            let mandatory_users = trimmed(mandatory_users);
            let mandatory_groups = trimmed(mandatory_groups);
            check_policy_args(&trusted_ips, &mandatory_users, &mandatory_groups)?;
            let mut policy = TfaPolicy::new(match tfa_type {
                TypeArg::None => TfaType::None,
                TypeArg::App => TfaType::App,
                TypeArg::Sms => TfaType::Sms,
            });
            policy.trusted_ips = trusted_ips;
            policy.mandatory_users = mandatory_users;
            policy.mandatory_groups = mandatory_groups;
            policy::set_policy(out, &client(&global, true)?, &policy, with_link)
        }
        Command::Doctor => doctor::doctor(out, &client(&global, true)?),
        Command::Codes { regenerate } => codes::codes(out, &client(&global, true)?, regenerate),
        Command::Unlink { user } => {
            if let Some(id) = &user {
                check_guid("--user", id)?;
            }
            codes::unlink(out, &client(&global, true)?, user.as_deref())
        }
        Command::Status => session::status(out, &client(&global, false)?),
        Command::Logout => session::logout(out, &client(&global, true)?),
        Command::CheckLink { link, confirm_key } => {
            session::check_link(out, &client(&global, false)?, &link, confirm_key.as_deref())
        }
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => crate::emulator::run(args),
        // A token is optional: only `--rotate` needs one (the owner's), checked there.
        Command::Provision(args) => crate::provision::run(out, args, client(&global, false)?),
        #[cfg(feature = "emulator")]
        Command::Demo => crate::demo::run(out),
        Command::Link {
            user,
            confirm_json,
            code,
            auto,
            qr_png,
            password_stdin,
        } => {
            let code = code.as_deref().map(normalize_code).transpose()?;
            check_writable(qr_png.as_deref())?;
            let source = match (code, auto) {
                (Some(c), _) => CodeSource::Given(c),
                (None, true) => CodeSource::Auto,
                (None, false) => CodeSource::Prompt,
            };
            let flow = LinkFlow {
                out,
                source,
                qr_png: qr_png.as_deref(),
                timeout: Duration::from_secs(global.timeout),
            };
            match (user, confirm_json) {
                (Some(user), _) => {
                    let password = password(password_stdin, &global)?;
                    flow.with_login(&client(&global, false)?, &user, password)
                }
                (None, Some(path)) => {
                    let ticket = ticket::from_json_file(&path)?;
                    flow.with_ticket(&client(&global, false)?, &ticket)
                }
                (None, None) => flow.with_token(&client(&global, true)?, None),
            }
        }
    }
}

/// Builds the client from the global options on top of the library's own reading of
/// `DOCSPACE_URL` and `DOCSPACE_TOKEN` ([`ClientBuilder::from_env`]): `--url` and
/// `--token-file` win over them. `needs_token` makes a missing token a usage error before any
/// request.
fn client(global: &Global, needs_token: bool) -> Result<Client> {
    let mut builder = ClientBuilder::from_env();
    if let Some(url) = &global.url {
        builder = builder.base_url(url.clone());
    }
    if !builder.has_base_url() {
        return Err(Failure::usage(
            "no portal URL: pass --url or set DOCSPACE_URL",
        ));
    }
    // --timeout bounds the whole command: each attempt, the waits between retries, and
    // every call of a command that makes several.
    let timeout = Duration::from_secs(global.timeout);
    builder = builder
        .timeout(timeout)
        .total_timeout(timeout)
        .deadline(Instant::now() + timeout)
        .retry(RetryPolicy::default().max_attempts(global.retries.saturating_add(1)))
        .allow_insecure_http(global.allow_insecure_http);
    if global.no_proxy {
        builder = builder.proxy(Proxy::Direct);
    }
    if let Some(path) = &global.ca_cert {
        builder = builder.add_root_certificates_pem(secure_file::read_ca_cert(path)?);
    } else {
        #[cfg(feature = "platform-verifier")]
        {
            builder = builder.tls_roots(docspace_tfa::TlsRoots::Platform);
        }
    }
    // A blank file means no token, as a blank DOCSPACE_TOKEN does.
    if let Some(path) = &global.token_file {
        builder = builder.token(secure_file::read_token(path)?);
    }
    let client = builder.build().map_err(|e| {
        // The library names its own setting; the tool names its flag.
        if e.kind() == ErrorKind::InvalidInput && e.to_string().contains("plain http://") {
            Failure::usage(
                "invalid base URL: plain http:// is refused for a host that is not loopback, so \
                 the token is not sent in clear text; use https://, or pass \
                 --allow-insecure-http",
            )
        } else {
            Failure::from(e)
        }
    })?;
    if needs_token && !client.has_token() {
        return Err(Failure::usage(
            "no token: set DOCSPACE_TOKEN or pass --token-file PATH",
        ));
    }
    Ok(client)
}

/// The password from `--password-stdin` or `DOCSPACE_PASSWORD`.
fn password(from_stdin: bool, global: &Global) -> Result<Secret> {
    if from_stdin {
        if global
            .token_file
            .as_ref()
            .is_some_and(|p| p.as_os_str() == "-")
        {
            return Err(Failure::usage(
                "--password-stdin and --token-file - cannot both read stdin",
            ));
        }
        return password_from_stdin();
    }
    std::env::var("DOCSPACE_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .map(Secret::new)
        .ok_or_else(|| {
            Failure::usage("no password: set DOCSPACE_PASSWORD or pass --password-stdin")
        })
}

/// Refuses a `--qr-png` path whose folder does not exist, before any request.
pub fn check_writable(path: Option<&Path>) -> Result<()> {
    if let Some(path) = path {
        let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
        if dir.is_some_and(|d| !d.is_dir()) {
            return Err(Failure::usage(format!(
                "cannot write {}: its folder does not exist",
                path.display()
            )));
        }
        if path.is_dir() {
            return Err(Failure::usage(format!("{} is a folder", path.display())));
        }
    }
    Ok(())
}

/// The TOTP key for `login`: from `--totp-key-file`, or else `DOCSPACE_TOTP_KEY`.
fn totp_key(file: Option<&Path>) -> Result<Option<TotpKey>> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            Failure::usage(format!(
                "cannot read the TOTP key file {}: {e}",
                path.display()
            ))
        })?,
        None => match std::env::var("DOCSPACE_TOTP_KEY") {
            Ok(v) if !v.trim().is_empty() => v,
            _ => return Ok(None),
        },
    };
    Ok(Some(TotpKey::from_base32(text.trim())?))
}

/// A member or group id must be a GUID (`66faa6e4-f133-11ea-b126-00ffeec8b4ef`); anything
/// else is refused before a request is sent.
fn check_guid(flag: &str, id: &str) -> Result<()> {
    let groups: Vec<&str> = id.trim().split('-').collect();
    let shape_ok = groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
    if shape_ok {
        Ok(())
    } else {
        Err(Failure::usage(format!(
            "{flag} needs a member id, a GUID such as 66faa6e4-f133-11ea-b126-00ffeec8b4ef \
             (the value is not shown)"
        )))
    }
}

/// Ids as typed, without the spaces around them.
fn trimmed(ids: Vec<String>) -> Vec<String> {
    ids.into_iter().map(|id| id.trim().to_owned()).collect()
}

/// `settings set`: every `--trusted-ip` must be an entry the portal reads as it says (the
/// library's [`check_trusted_ip`](docspace_tfa::check_trusted_ip): a malformed range or CIDR
/// block would break every password login on the portal), every id a GUID; refused before any
/// request, naming the option.
fn check_policy_args(trusted_ips: &[String], users: &[String], groups: &[String]) -> Result<()> {
    for ip in trusted_ips {
        if let Some(reason) = docspace_tfa::check_trusted_ip(ip).reason() {
            let shown: String = ip.chars().take(64).collect();
            return Err(Failure::usage(format!(
                "--trusted-ip {shown:?} is refused: {reason}"
            )));
        }
    }
    for id in users {
        check_guid("--mandatory-user", id)?;
    }
    for id in groups {
        check_guid("--mandatory-group", id)?;
    }
    Ok(())
}
