//! The flows built on the single requests of `src/tfa.rs`: the caller's own confirm ticket,
//! fetched on demand, and the one-call link. This room sits above `tfa.rs` and calls its
//! requests; `tfa.rs` imports nothing from here.
//!
//! [`Tfa::setup`] and [`Tfa::validate`] with only a bearer token ask
//! `GET settings/tfaapp/confirm` for a ticket and send the request with it (and without the
//! token), which is what a real portal requires. [`Tfa::link`] runs the whole linking flow.
//!
//! A server that behaves like the documentation page — it takes the bearer token on setup and
//! validate and may not implement `tfaapp/confirm` — answers that call `404`, `405` or `501`,
//! or with something that is not the confirm data (an HTML page): then the request is sent with
//! the bearer token, as the page shows. The client remembers that answer for
//! [`CONFIRM_MEMO_TTL`] ([`ConfirmMemo`]), so later calls skip the request that failed, until a
//! request sent with the bearer token instead is refused with `401` or `403` (what a real portal
//! answers to one): then the next call asks again.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::confirm::ConfirmTicket;
use crate::error::{Error, ErrorKind, Result};
use crate::input::normalize_code;
use crate::models::{Linked, SetupCode, Validation};
use crate::request::Credential;
use crate::tfa::Tfa;

/// The operation named in errors decided from the confirm data.
const CONFIRM_OP: &str = "GET settings/tfaapp/confirm";

/// The credential for setup or validate when the caller gave no ticket.
enum OwnCredential {
    /// The caller's own ticket, from `tfaapp/confirm`.
    Ticket(ConfirmTicket),
    /// The server has no usable `tfaapp/confirm`: the bearer token, as the documentation shows.
    Bearer,
}

impl OwnCredential {
    fn as_credential(&self) -> Credential<'_> {
        match self {
            OwnCredential::Ticket(t) => Credential::Ticket(t),
            OwnCredential::Bearer => Credential::Bearer,
        }
    }
}

/// How long a client remembers that its server has no usable `tfaapp/confirm`.
pub(crate) const CONFIRM_MEMO_TTL: Duration = Duration::from_secs(300);

/// What a client remembers about its server's `tfaapp/confirm`: when the server last showed it
/// has none. Shared by the client's clones and the clients derived from it (the same portal).
#[derive(Debug, Default)]
pub(crate) struct ConfirmMemo(Mutex<Option<Instant>>);

impl ConfirmMemo {
    /// Whether, at `now`, the server is known to have no usable `tfaapp/confirm`.
    fn knows_missing(&self, now: Instant) -> bool {
        self.lock()
            .is_some_and(|since| now.saturating_duration_since(since) < CONFIRM_MEMO_TTL)
    }

    /// Remembers, from `now`, that the server has no usable `tfaapp/confirm`.
    fn remember_missing(&self, now: Instant) {
        *self.lock() = Some(now);
    }

    /// Forgets it: the next call asks `tfaapp/confirm` again.
    fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        // A poisoned lock still holds a valid `Option<Instant>`.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Whether an error of `tfaapp/confirm` means "this server has no such endpoint" (fall back to
/// the bearer token) rather than a refusal.
fn confirm_missing(e: &Error) -> bool {
    matches!(e.status(), Some(404 | 405 | 501)) || e.kind() == ErrorKind::Decode
}

impl Tfa<'_> {
    /// The caller's own credential for setup or validate: a ticket from `tfaapp/confirm`, or the
    /// bearer token when the server has no usable `tfaapp/confirm`.
    ///
    /// `null` (TFA does not apply) is [`ErrorKind::TfaNotApplicable`]; confirm data without a
    /// key (the SMS method applies) is [`ErrorKind::NotAvailable`]. `later_secret` (the code
    /// of a validate) is kept out of the confirm request's errors too.
    fn own_credential(&self, later_secret: Option<&str>) -> Result<OwnCredential> {
        let memo = self.client.confirm_memo();
        if memo.knows_missing(Instant::now()) {
            return Ok(OwnCredential::Bearer);
        }
        let data = match self.confirm_guarding(later_secret) {
            Ok(Some(data)) => data,
            Ok(None) => {
                return Err(Error::precondition(
                    CONFIRM_OP,
                    ErrorKind::TfaNotApplicable,
                    "two-factor authentication does not apply to this user (TFA is off, not \
                     mandatory for them, or their IP address is trusted)",
                ))
            }
            Err(e) if confirm_missing(&e) => {
                memo.remember_missing(Instant::now());
                return Ok(OwnCredential::Bearer);
            }
            Err(e) => return Err(e),
        };
        if data.cookie_value.as_ref().is_none_or(|k| k.is_empty()) {
            return Err(Error::precondition(
                CONFIRM_OP,
                ErrorKind::NotAvailable,
                "the portal asks this user for an SMS code, not an authenticator app",
            ));
        }
        ConfirmTicket::from_confirm_data(&data)
            .map(OwnCredential::Ticket)
            .map_err(|e| {
                Error::decode(
                    CONFIRM_OP.to_owned(),
                    "confirm data",
                    e.to_string(),
                    String::new(),
                )
            })
    }

    /// Gets the setup code (`GET settings/tfaapp/setup`) for the signed-in caller, with just the
    /// bearer token: first the caller's own ticket (`GET settings/tfaapp/confirm`), then setup
    /// with that ticket, as a real portal requires. Two requests; use
    /// [`setup_with`](Self::setup_with) with a ticket you already hold.
    ///
    /// A server that has no usable `tfaapp/confirm` (it answers `404`, `405` or `501`, or not
    /// with confirm data) gets the setup request with the bearer token instead, as the
    /// documentation page shows. Changes nothing: the same secret comes back until the app is
    /// linked.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::TfaNotApplicable`](crate::ErrorKind::TfaNotApplicable) when TFA does not
    /// apply to the caller (`tfaapp/confirm` answered `null`);
    /// [`ErrorKind::NotAvailable`](crate::ErrorKind::NotAvailable) when the caller already
    /// linked an app, the portal wants SMS, or the app method is off;
    /// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) without a valid token.
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let setup = client.tfa().setup()?;
    /// println!("account: {}", setup.account);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn setup(&self) -> Result<SetupCode> {
        let credential = self.own_credential(None)?;
        if let OwnCredential::Ticket(t) = &credential {
            if t.is_tfa_auth() {
                return Err(already_linked());
            }
        }
        self.checking_fallback(&credential, self.setup_as(credential.as_credential()))
    }

    /// Validates a code (`POST settings/tfaapp/validate`) for the signed-in caller, with just
    /// the bearer token: first the caller's own ticket (`GET settings/tfaapp/confirm`), then
    /// validate with that ticket (and without the token). Falls back to the bearer token on a
    /// server without a usable `tfaapp/confirm`, as [`setup`](Self::setup) does.
    ///
    /// The code is normalized first ([`normalize_code`](crate::normalize_code)); an impossible
    /// code is refused before any request. Never retried: every call spends an attempt.
    ///
    /// # Errors
    ///
    /// As for [`validate_with`](Self::validate_with), and
    /// [`ErrorKind::TfaNotApplicable`](crate::ErrorKind::TfaNotApplicable) when TFA does not
    /// apply to the caller.
    pub fn validate(&self, code: &str) -> Result<Validation> {
        let normalized = normalize_code(code)?;
        // An error of the confirm request must not echo the code either.
        let credential = self.own_credential(Some(&normalized))?;
        self.checking_fallback(
            &credential,
            self.validate_as(credential.as_credential(), code),
        )
    }

    /// The result of a request sent with `credential`; when that was the bearer token instead
    /// of a ticket and the server refused it (`401`, `403`: what a real portal answers to a
    /// bearer token there), forgets that the server has no `tfaapp/confirm`.
    fn checking_fallback<T>(&self, credential: &OwnCredential, result: Result<T>) -> Result<T> {
        if let (OwnCredential::Bearer, Err(e)) = (credential, &result) {
            if matches!(e.status(), Some(401 | 403)) {
                self.client.confirm_memo().forget();
            }
        }
        result
    }

    /// Links an authenticator app to the signed-in caller in one call: gets the caller's
    /// ticket (`GET settings/tfaapp/confirm`), the setup code (`GET settings/tfaapp/setup`),
    /// asks `code_for` for the code the app shows, validates it
    /// (`POST settings/tfaapp/validate`) and lists the new backup codes
    /// (`GET settings/tfaappcodes`).
    ///
    /// Once validate has linked the app, the result is `Ok`: a failure to list the backup codes
    /// leaves [`Linked::backup_codes`](crate::Linked::backup_codes) `None` (with the reason in
    /// [`Linked::backup_codes_error`](crate::Linked::backup_codes_error)) rather than dropping
    /// the setup code, which holds the only copy of the key. Fetch them later with
    /// [`backup_codes`](Self::backup_codes).
    ///
    /// `code_for` gets the setup code: show its QR image
    /// ([`SetupCode::qr_png`](crate::SetupCode::qr_png), feature `totp`) or its manual key to
    /// the person, and return the code their app then shows. An error it returns ends the flow
    /// before validate. With the feature `totp`,
    /// [`link_as_authenticator`](Self::link_as_authenticator) is this call acting as the app.
    ///
    /// Needs a bearer token. On a server without a usable `tfaapp/confirm` (see the module
    /// notes in `docs/flow.md`) setup and validate go with the bearer token instead.
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::TfaNotApplicable`]: TFA does not apply to the caller; nothing to link;
    /// - [`ErrorKind::NotAvailable`]: an app is already linked (the portal offers a `TfaAuth`
    ///   ticket), the portal wants SMS, the app method is off, or the portal accepted the code
    ///   without linking anything (the method was switched off, or another call linked an app
    ///   meanwhile);
    /// - [`ErrorKind::InvalidCode`]: the code was wrong (call `link` again: the secret stays
    ///   the same until the app is linked);
    /// - whatever `code_for` returned, and the errors of each call.
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let linked = client.tfa().link(|setup| {
    ///     println!("add this key to your app: {}", setup.manual_entry_key.expose());
    ///     let mut code = String::new();
    ///     std::io::stdin().read_line(&mut code).ok(); // an empty code is refused unsent
    ///     Ok(code)
    /// })?;
    /// match &linked.backup_codes {
    ///     Some(codes) => println!("linked; {} backup codes", codes.len()),
    ///     None => println!("linked; list the backup codes later with `backup_codes()`"),
    /// }
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn link<F>(&self, code_for: F) -> Result<Linked>
    where
        F: FnOnce(&SetupCode) -> Result<String>,
    {
        let credential = self.own_credential(None)?;
        if let OwnCredential::Ticket(t) = &credential {
            if t.is_tfa_auth() {
                return Err(already_linked());
            }
        }
        self.checking_fallback(
            &credential,
            self.link_as(credential.as_credential(), code_for),
        )
    }

    /// [`link`](Self::link) with a `TfaActivation` ticket you hold (from a TFA-challenged
    /// login, [`unlink_self`](Self::unlink_self) or a confirm URL): setup and validate with the
    /// ticket, then the backup codes with the client's token or, without one, with the session
    /// that validate opened.
    ///
    /// # Errors
    ///
    /// As for [`link`](Self::link); [`ErrorKind::NotAvailable`] for a `TfaAuth` ticket (an app
    /// is linked already), sent nothing.
    pub fn link_with<F>(&self, ticket: &ConfirmTicket, code_for: F) -> Result<Linked>
    where
        F: FnOnce(&SetupCode) -> Result<String>,
    {
        if ticket.is_tfa_auth() {
            return Err(Error::precondition(
                "GET settings/tfaapp/setup",
                ErrorKind::NotAvailable,
                "a TfaAuth ticket: an authenticator app is already linked to this user",
            ));
        }
        self.link_as(Credential::Ticket(ticket), code_for)
    }

    fn link_as<F>(&self, credential: Credential<'_>, code_for: F) -> Result<Linked>
    where
        F: FnOnce(&SetupCode) -> Result<String>,
    {
        let setup = self.setup_as(credential)?;
        let code = code_for(&setup)?;
        let validation = self.validate_as(credential, &code)?;
        if !validation.first_activation {
            return Err(Error::precondition(
                "POST settings/tfaapp/validate",
                ErrorKind::NotAvailable,
                "the portal accepted the code but linked nothing: the authenticator-app method \
                 is off, or an app was linked by another call meanwhile",
            ));
        }
        // The app is linked now, and `setup` holds the only copy of its key: a failure from
        // here on is reported in `Linked`, never instead of it.
        let listed = match (&validation.session_token, self.client.has_token()) {
            (Some(session), false) => self.client.with_token(session.clone()).tfa().backup_codes(),
            _ => self.backup_codes(),
        };
        let (backup_codes, backup_codes_error) = match listed {
            Ok(codes) => (Some(codes), None),
            Err(e) => (None, Some((e.kind(), e.to_string()))),
        };
        Ok(Linked {
            setup,
            validation,
            backup_codes,
            backup_codes_error,
        })
    }
}

/// The portal offered a `TfaAuth` ticket: an app is linked already.
fn already_linked() -> Error {
    Error::precondition(
        CONFIRM_OP,
        ErrorKind::NotAvailable,
        "an authenticator app is already linked to this user",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memo_holds_for_its_time_and_can_be_forgotten() {
        let memo = ConfirmMemo::default();
        let t0 = Instant::now();
        assert!(!memo.knows_missing(t0));
        memo.remember_missing(t0);
        assert!(memo.knows_missing(t0));
        assert!(memo.knows_missing(t0 + CONFIRM_MEMO_TTL - Duration::from_secs(1)));
        assert!(!memo.knows_missing(t0 + CONFIRM_MEMO_TTL));
        memo.forget();
        assert!(!memo.knows_missing(t0));
    }
}
