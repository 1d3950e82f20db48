//! `link`: the SDK's one-call link ([`Tfa::link`](docspace_tfa::Tfa::link),
//! [`Tfa::link_with`](docspace_tfa::Tfa::link_with)) with the terminal around it, and the
//! login variant for `--user`.

use std::cell::RefCell;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use docspace_tfa::totp::{SystemClock, Totp};
use docspace_tfa::{
    normalize_code, BackupCode, Client, ConfirmTicket, Linked, LoginOutcome, Secret, SetupCode,
};
use serde_json::{json, Value};

use crate::commands::setup::print_setup;
use crate::output::{Failure, Out};

type Result<T> = std::result::Result<T, Failure>;

/// Where `link` gets its code.
pub enum CodeSource {
    Given(String),
    Auto,
    Prompt,
}

/// The `link` command.
pub struct LinkFlow<'a> {
    pub out: &'a Out,
    pub source: CodeSource,
    pub qr_png: Option<&'a Path>,
    /// `--timeout`: it bounds the whole command, except the time a person takes to type a code
    /// at the prompt.
    pub timeout: Duration,
}

/// How long a person may take to type the code at `link`'s prompt, on top of `--timeout`.
const PROMPT_ALLOWANCE: Duration = Duration::from_secs(15 * 60);

impl LinkFlow<'_> {
    /// The client for a flow that may wait at the prompt: its deadline leaves the person
    /// [`PROMPT_ALLOWANCE`] to type (each request keeps its own timeout).
    fn for_prompt(&self, client: &Client) -> Client {
        match self.source {
            CodeSource::Prompt => {
                client.with_deadline(Instant::now() + self.timeout + PROMPT_ALLOWANCE)
            }
            _ => client.clone(),
        }
    }

    /// The client for the calls after the code was obtained: with a fresh deadline when the
    /// code came from a prompt.
    fn after_code(&self, client: &Client) -> Client {
        match self.source {
            CodeSource::Prompt => client.with_deadline(Instant::now() + self.timeout),
            _ => client.clone(),
        }
    }

    /// With a bearer token: [`Tfa::link`](docspace_tfa::Tfa::link). `session` is the token of a
    /// login that led here, to hand back in the result.
    pub fn with_token(&self, client: &Client, session: Option<&Secret>) -> Result<()> {
        let client = &self.for_prompt(client);
        let stopped = RefCell::new(None);
        let result = client
            .tfa()
            .link(|setup| self.present(client, setup, &stopped));
        let linked = settle(result, stopped)?;
        self.finish(&linked, session)
    }

    /// With a ticket from `--confirm-json`: [`Tfa::link_with`](docspace_tfa::Tfa::link_with).
    /// Without a bearer token, the session validate opened is handed back as `token`.
    pub fn with_ticket(&self, client: &Client, ticket: &ConfirmTicket) -> Result<()> {
        let client = &self.for_prompt(client);
        let stopped = RefCell::new(None);
        let result = client
            .tfa()
            .link_with(ticket, |setup| self.present(client, setup, &stopped));
        let linked = settle(result, stopped)?;
        let session = match client.has_token() {
            true => None,
            false => linked.validation.session_token.clone(),
        };
        self.finish(&linked, session.as_ref())
    }

    /// With a user: login → setup(ticket) → code → authentication/{code} → codes.
    pub fn with_login(&self, client: &Client, user: &str, password: Secret) -> Result<()> {
        match client.auth().login(user, password.clone())? {
            LoginOutcome::TfaActivationRequired { ticket, .. } => {
                let setup = client.tfa().setup_with(&ticket)?;
                self.show(client, &setup)?;
                let code = self.code(&setup)?;
                let client = &self.after_code(client);
                let session = client.auth().login_with_code(user, password, &code)?;
                // The login linked the app: from here on the key and the token are printed
                // whatever happens, as `Tfa::link` returns them.
                let client = client.with_token(session.token.clone());
                match client.tfa().backup_codes() {
                    Ok(codes) => self.print(&setup, Some(&codes), None, Some(&session.token)),
                    Err(e) => {
                        let reason = e.to_string();
                        self.print(&setup, None, Some(&reason), Some(&session.token))
                    }
                }
            }
            LoginOutcome::Authenticated(session) => {
                // TFA is not mandatory for this user: link through the token instead, and
                // hand the token back as the TFA login would.
                let client = client.with_token(session.token.clone());
                self.with_token(&client, Some(&session.token))
            }
            LoginOutcome::TfaCodeRequired { .. } => Err(Failure::not_available(
                "an authenticator app is already linked to this user",
            )),
            LoginOutcome::SmsPhoneRequired { .. } | LoginOutcome::SmsCodeSent(_) => Err(
                Failure::not_available("the portal asks for an SMS code, not an authenticator app"),
            ),
            _ => Err(Failure::not_available(
                "the portal asked for an unknown second factor",
            )),
        }
    }

    /// The SDK's `code_for`: shows the setup code and returns the code. A failure of the tool's
    /// own (a prompt that cannot be read, bad data from the server) is kept in `stopped` and
    /// ends the SDK's flow before validate.
    fn present(
        &self,
        client: &Client,
        setup: &SetupCode,
        stopped: &RefCell<Option<Failure>>,
    ) -> docspace_tfa::Result<String> {
        match self.show(client, setup).and_then(|()| self.code(setup)) {
            Ok(code) => Ok(code),
            Err(f) => {
                *stopped.borrow_mut() = Some(f);
                // Never shown: `settle` reports the kept failure instead.
                normalize_code("")
            }
        }
    }

    fn show(&self, client: &Client, setup: &SetupCode) -> Result<()> {
        if let Some(path) = self.qr_png {
            setup
                .save_qr_png(path)
                .map_err(Failure::from_setup_answer)?;
        }
        if !self.out.json {
            // The same URI `setup` prints: the QR image's exact text, or the built one.
            let uri = setup
                .otpauth_uri_text(client.base_url())
                .map_err(Failure::from_setup_answer)?;
            print_setup(self.out, setup, &uri, self.qr_png);
        } else if matches!(self.source, CodeSource::Prompt) && std::io::stderr().is_terminal() {
            // stdout is reserved for the one JSON document; the person typing the code still
            // needs the key. Only for a person: not into a log file or a CI job's output.
            eprintln!("account: {}", crate::terminal::clean(&setup.account));
            eprintln!(
                "manual key: {}",
                crate::terminal::clean(setup.manual_entry_key.expose())
            );
        }
        Ok(())
    }

    fn code(&self, setup: &SetupCode) -> Result<String> {
        match &self.source {
            CodeSource::Given(c) => Ok(c.clone()),
            CodeSource::Auto => {
                let key = setup.totp_key().map_err(Failure::from_setup_answer)?;
                let code = Totp::docspace().code_to_send(&key, &SystemClock);
                if !self.out.json {
                    self.out.field("code", code.expose());
                }
                Ok(code.expose().to_owned())
            }
            CodeSource::Prompt => prompt_code(),
        }
    }

    fn finish(&self, linked: &Linked, token: Option<&Secret>) -> Result<()> {
        let reason = linked.backup_codes_error.as_ref().map(|(_, m)| m.as_str());
        self.print(&linked.setup, linked.backup_codes.as_deref(), reason, token)
    }

    /// The result of a link that happened. `codes` is `None` when the backup codes could not
    /// be listed afterwards (`reason` says why): the link stands, so the key and the token are
    /// printed all the same, with a warning, and the exit code is 0.
    fn print(
        &self,
        setup: &SetupCode,
        codes: Option<&[BackupCode]>,
        reason: Option<&str>,
        token: Option<&Secret>,
    ) -> Result<()> {
        let backup: Option<Vec<&str>> =
            codes.map(|codes| codes.iter().map(|c| c.code.expose()).collect());
        let warning = match backup {
            Some(_) => None,
            None => Some(format!(
                "the app is linked, but the backup codes could not be listed ({}); list them \
                 with `docspace-tfa codes`",
                reason.unwrap_or("no reason given")
            )),
        };
        if self.out.json {
            let mut value = json!({
                "account": setup.account,
                "manualEntryKey": setup.manual_entry_key.expose(),
                "backupCodes": backup,
            });
            if let Value::Object(map) = &mut value {
                if let Some(t) = token {
                    map.insert("token".into(), Value::String(t.expose().to_owned()));
                }
                if let Some(w) = &warning {
                    map.insert("warning".into(), Value::String(w.clone()));
                }
            }
            self.out.json(&value);
        } else {
            self.out
                .line("linked: the authenticator app is now required at login");
            if let Some(codes) = &backup {
                self.out.field("backup codes", codes.join(" "));
            }
            if let Some(t) = token {
                self.out.field("token", t.expose());
            }
            if let Some(w) = &warning {
                eprintln!("warning: {}", crate::terminal::clean(w));
            }
        }
        Ok(())
    }
}

/// The SDK's result, or the tool's own failure that stopped it.
fn settle(
    result: docspace_tfa::Result<Linked>,
    stopped: RefCell<Option<Failure>>,
) -> Result<Linked> {
    match (result, stopped.into_inner()) {
        (_, Some(failure)) => Err(failure),
        (r, None) => Ok(r?),
    }
}

/// Asks for the code on stderr and reads it from stdin.
fn prompt_code() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!("Code from the authenticator app: ");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| Failure::usage(format!("cannot read the code from stdin: {e}")))?;
    Ok(normalize_code(&line)?)
}
