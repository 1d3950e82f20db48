//! The commands: each builds a client, calls the SDK and prints its result.

use std::path::Path;
use std::time::{Duration, Instant};

use docspace_tfa::totp::{Totp, TotpKey};
use docspace_tfa::{
    normalize_code, BackupCode, Client, ClientBuilder, ConfirmTicket, ErrorKind, LoginOutcome,
    Proxy, RetryPolicy, Secret, SetupCode, TfaPolicy, TfaType,
};
use serde_json::{json, Value};

use crate::args::{Cli, Command, Global, SettingsAction, TypeArg};
use crate::link::{CodeSource, LinkFlow};
use crate::output::{Failure, Out};
use crate::secure_file;
use crate::terminal::{clean, password_from_stdin};
use crate::ticket;

type Result<T> = std::result::Result<T, Failure>;

/// Runs the parsed command line.
pub fn run(cli: Cli, out: &Out) -> Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Code { key, at } => code(out, &key, at),
        Command::Setup { ticket, qr_png } => {
            let ticket = ticket::from_args(&ticket)?;
            check_writable(qr_png.as_deref())?;
            let client = client(&global, ticket.is_none())?;
            setup(out, &client, ticket.as_ref(), qr_png.as_deref())
        }
        Command::Validate { code, ticket } => {
            let code = normalize_code(&code)?;
            let ticket = ticket::from_args(&ticket)?;
            let client = client(&global, ticket.is_none())?;
            validate(out, &client, ticket.as_ref(), &code)
        }
        Command::Login {
            user,
            code,
            totp_key_file,
            password_stdin,
        } => {
            let code = code.as_deref().map(normalize_code).transpose()?;
            let key = match code {
                Some(_) => None,
                None => totp_key(totp_key_file.as_deref())?,
            };
            let password = password(password_stdin, &global)?;
            let client = client(&global, false)?;
            match key {
                Some(key) => login_with_key(out, &client, &user, password, &key),
                None => login(out, &client, &user, password, code.as_deref()),
            }
        }
        Command::Confirm => confirm(out, &client(&global, true)?),
        Command::Settings { action: None } => settings(out, &client(&global, true)?),
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
            let mut policy = TfaPolicy::new(match tfa_type {
                TypeArg::None => TfaType::None,
                TypeArg::App => TfaType::App,
                TypeArg::Sms => TfaType::Sms,
            });
            policy.trusted_ips = trusted_ips;
            policy.mandatory_users = mandatory_users;
            policy.mandatory_groups = mandatory_groups;
            set_policy(out, &client(&global, true)?, &policy, with_link)
        }
        Command::Codes { regenerate } => codes(out, &client(&global, true)?, regenerate),
        Command::Unlink { user } => {
            if let Some(id) = &user {
                check_guid("--user", id)?;
            }
            unlink(out, &client(&global, true)?, user.as_deref())
        }
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => crate::emulator::run(args),
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

fn code(out: &Out, key: &str, at: Option<u64>) -> Result<()> {
    let key = TotpKey::from_base32(key)?;
    let totp = Totp::docspace();
    let now = at.unwrap_or_else(docspace_tfa::totp::unix_now);
    let code = totp.code_at(&key, now);
    let left = totp.seconds_left(now);
    if out.json {
        out.json(&json!({"code": code.expose(), "validForSeconds": left}));
    } else {
        out.line(code.expose());
    }
    Ok(())
}

fn setup(
    out: &Out,
    client: &Client,
    ticket: Option<&ConfirmTicket>,
    qr_png: Option<&Path>,
) -> Result<()> {
    let setup = match ticket {
        Some(t) => client.tfa().setup_with(t)?,
        None => client.tfa().setup()?,
    };
    // The QR image's own text, byte for byte; built from the base URL only when the image
    // cannot be read.
    let uri = setup
        .otpauth_uri_text(client.base_url())
        .map_err(Failure::from_server)?;
    if let Some(path) = qr_png {
        setup.save_qr_png(path).map_err(Failure::from_server)?;
    }
    if out.json {
        out.json(&json!({
            "account": setup.account,
            "manualEntryKey": setup.manual_entry_key.expose(),
            "qrCodeSetupImageUrl": setup.qr_code_setup_image_url.expose(),
            "otpauthUri": uri.expose(),
        }));
        return Ok(());
    }
    print_setup(out, &setup, &uri, qr_png);
    Ok(())
}

/// The human-readable setup: account, key, URI, where the PNG went, and a terminal QR code.
pub fn print_setup(out: &Out, setup: &SetupCode, uri: &Secret, qr_png: Option<&Path>) {
    out.field("account", &setup.account);
    out.field("manual key", setup.manual_entry_key.expose());
    out.field("otpauth URI", uri.expose());
    if let Some(path) = qr_png {
        out.field("QR image", path.display().to_string());
    }
    if out.interactive() {
        if let Some(qr) = terminal_qr(uri.expose()) {
            out.line(qr);
        }
    }
}

/// The otpauth URI as a QR code in Unicode half blocks, for a terminal.
fn terminal_qr(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

fn validate(out: &Out, client: &Client, ticket: Option<&ConfirmTicket>, code: &str) -> Result<()> {
    let v = match ticket {
        Some(t) => client.tfa().validate_with(t, code)?,
        None => client.tfa().validate(code)?,
    };
    if out.json {
        out.json(&json!({"valid": true, "firstActivation": v.first_activation}));
    } else if v.first_activation {
        out.line("valid: the authenticator app is now linked");
    } else {
        out.line("valid: the app was already linked (or the app method is off)");
    }
    Ok(())
}

fn login(
    out: &Out,
    client: &Client,
    user: &str,
    password: Secret,
    code: Option<&str>,
) -> Result<()> {
    let outcome = match code {
        Some(code) => {
            LoginOutcome::Authenticated(client.auth().login_with_code(user, password, code)?)
        }
        None => client.auth().login(user, password)?,
    };
    let value = match &outcome {
        LoginOutcome::Authenticated(s) => json!({
            "status": "authenticated",
            "token": s.token.expose(),
            "expires": s.expires,
        }),
        LoginOutcome::TfaActivationRequired { ticket, tfa_key } => json!({
            "status": "tfa_activation_required",
            "confirmUrl": ticket.url(),
            "confirmKey": ticket.key().expose(),
            "tfaKey": tfa_key.as_ref().map(Secret::expose),
        }),
        LoginOutcome::TfaCodeRequired { ticket } => json!({
            "status": "tfa_code_required",
            "confirmUrl": ticket.url(),
            "confirmKey": ticket.key().expose(),
        }),
        LoginOutcome::SmsRequired {
            confirm_url,
            phone_noise,
            ..
        } => json!({
            "status": "sms_required",
            "confirmUrl": confirm_url,
            "phoneNoise": phone_noise,
        }),
        _ => {
            return Err(Failure::usage(
                "the server answered a login outcome this tool does not know",
            ))
        }
    };
    if out.json {
        out.json(&value);
    } else {
        print_object(out, &value);
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

/// `login` with a stored key: the code computed at the call, never in a step's last seconds.
fn login_with_key(
    out: &Out,
    client: &Client,
    user: &str,
    password: Secret,
    key: &TotpKey,
) -> Result<()> {
    let session = client.auth().login_with_totp(user, password, key)?;
    let value = json!({
        "status": "authenticated",
        "token": session.token.expose(),
        "expires": session.expires,
    });
    if out.json {
        out.json(&value);
    } else {
        print_object(out, &value);
    }
    Ok(())
}

/// Prints a flat JSON object as `key: value` lines (nulls skipped).
fn print_object(out: &Out, value: &Value) {
    if let Value::Object(map) = value {
        for (k, v) in map {
            match v {
                Value::Null => {}
                Value::String(s) => out.field(k, s),
                other => out.field(k, other.to_string()),
            }
        }
    }
}

fn confirm(out: &Out, client: &Client) -> Result<()> {
    let data = client.tfa().confirm()?;
    let value = match &data {
        // `confirmUrl`/`confirmKey` as in `login`'s output; `url`, `cookieName` and
        // `cookieValue` (the server's names) stay as aliases.
        Some(d) => json!({
            "confirmUrl": d.url,
            "confirmKey": d.cookie_value.as_ref().map(Secret::expose),
            "url": d.url,
            "cookieName": d.cookie_name,
            "cookieValue": d.cookie_value.as_ref().map(Secret::expose),
        }),
        None => Value::Null,
    };
    if out.json {
        out.json(&value);
    } else if let Some(d) = &data {
        out.field("confirmUrl", &d.url);
        if let Some(key) = &d.cookie_value {
            out.field("confirmKey", key.expose());
        }
    } else {
        out.line("TFA does not apply to this user");
    }
    Ok(())
}

fn settings(out: &Out, client: &Client) -> Result<()> {
    let methods = client.tfa().methods()?;
    if out.json {
        out.json(&serde_json::to_value(&methods).unwrap_or(Value::Null));
        return Ok(());
    }
    if methods.is_empty() {
        out.line("no TFA methods on this portal");
    }
    for m in &methods {
        out.line(format!(
            "{:<4} enabled={:<5} available={:<5} {}",
            clean(m.id.as_str()),
            m.enabled,
            m.available,
            clean(&m.title)
        ));
        // Exactly what the server sent: a list it omitted is not shown, an empty one is.
        for (label, list) in [
            ("trusted IPs", &m.trusted_ips),
            ("mandatory users", &m.mandatory_users),
            ("mandatory groups", &m.mandatory_groups),
        ] {
            if let Some(list) = list {
                out.line(format!("     {label}: {}", clean(&list.join(", "))));
            }
        }
    }
    Ok(())
}

fn set_policy(out: &Out, client: &Client, policy: &TfaPolicy, with_link: bool) -> Result<()> {
    if with_link {
        let url = client.tfa().set_policy_with_link(policy)?;
        if out.json {
            // `""` as the server answers it: nothing for the caller to confirm (TFA off, or
            // the policy saved while TFA does not apply to the caller).
            out.json(&json!({"url": url.as_deref().unwrap_or_default()}));
        } else {
            match url {
                Some(u) => out.field("confirm URL", u),
                None => out.line("policy set; nothing for the caller to confirm"),
            }
        }
    } else {
        let enabled = client.tfa().set_policy(policy)?;
        if out.json {
            out.json(&json!({"enabled": enabled}));
        } else if enabled {
            out.line("policy set: TFA is on (every session on the portal was signed out)");
        } else {
            out.line("policy set: TFA is off");
        }
    }
    Ok(())
}

fn codes_json(codes: &[BackupCode]) -> Value {
    Value::Array(
        codes
            .iter()
            .map(|c| json!({"isUsed": c.is_used, "code": c.code.expose()}))
            .collect(),
    )
}

fn codes(out: &Out, client: &Client, regenerate: bool) -> Result<()> {
    let codes = if regenerate {
        client.tfa().regenerate_backup_codes()?
    } else {
        client.tfa().backup_codes()?
    };
    if out.json {
        out.json(&codes_json(&codes));
    } else {
        for c in &codes {
            out.line(format!(
                "{}{}",
                clean(c.code.expose()),
                if c.is_used { "  (used)" } else { "" }
            ));
        }
    }
    Ok(())
}

fn unlink(out: &Out, client: &Client, user: Option<&str>) -> Result<()> {
    let url = match user {
        Some(id) => {
            client.tfa().unlink_user(id)?;
            String::new()
        }
        None => client
            .tfa()
            .unlink_self()?
            .url()
            .unwrap_or_default()
            .to_owned(),
    };
    if out.json {
        out.json(&json!({"url": url}));
    } else if url.is_empty() {
        out.line("unlinked: the member links a new app at the next login");
    } else {
        out.field("unlinked; link a new app at", url);
    }
    Ok(())
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
