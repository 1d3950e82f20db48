//! One batch of accounts and each account's flow, from login to the outcome in the vault.

use std::time::Duration;

use super::{Outcome, Provisioner};
use crate::auth::LoginOutcome;
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::models::BackupCode;
use crate::provision::input::Account;
use crate::provision::vault::{Record, Status};
use crate::secret::Secret;
use crate::totp::TotpKey;

/// `already_linked` without a key in the vault.
const NO_KEY: &str = "an authenticator app is already linked to this account with a key the \
    vault does not hold; the portal owner can unlink it (`docspace-tfa unlink --user ID`) and \
    the next run links a new one";
/// `already_linked` with a key in the vault that does not log in.
const WRONG_KEY: &str = "an authenticator app is linked, but the vault's key for this account \
    does not log in (another key was linked, or this machine's clock is off by more than five \
    minutes)";
/// `not_applicable`: a login without a second factor.
const NO_SECOND_FACTOR: &str = "the portal signs this account in without a second factor (TFA \
    is off, not mandatory for it, or its IP address is trusted): there is no authenticator to \
    link";
/// `not_applicable`: SMS.
const SMS_INSTEAD: &str = "the portal enforces SMS for this account (a phone to activate, or a \
    code sent to its phone), not an authenticator app";
/// A `linked` line without backup codes.
const NO_CODES: &str = "the backup codes could not be listed: list them with `docspace-tfa \
    codes` after a login with the key";

/// Attempts of one account's flow when a failure is passing (network, 5xx, 429).
const ACCOUNT_ATTEMPTS: u32 = 4;

/// How an account ended, and why (for anything but a link).
type Done = (Outcome, Option<String>);

/// Where an account's first step left it.
enum Half {
    /// Finished (any outcome).
    Done(Done),
    /// A key to link is staged in the vault: flush it, then send a code from it.
    KeyStaged { uid: String, key: Secret },
}

impl Provisioner {
    /// A batch: every account's login (and its key staged), one flush, then the codes.
    pub(super) fn provision_batch(
        &self,
        batch: &[Account],
        finish: &(dyn Fn(&Account, Done) + Sync),
    ) {
        let mut keyed = Vec::with_capacity(batch.len());
        for account in batch {
            match self.first_half(account) {
                Some(Ok(Half::Done(done))) => finish(account, done),
                Some(Ok(Half::KeyStaged { uid, key })) => keyed.push((account, uid, key)),
                Some(Err(e)) if !passing(&e) => finish(account, self.fail(account, &e)),
                // A passing failure, or an account the one-by-one flow handles (rotation):
                // that flow, with its retries.
                Some(Err(_)) | None => finish(account, self.provision(account)),
            }
        }
        if keyed.is_empty() {
            return;
        }
        // The keys on disk before any code is sent (and the outcome lines of the last batch).
        if let Err(e) = self.vault.sync() {
            let reason = e.to_string();
            for (account, _, _) in keyed {
                finish(account, (Outcome::Failed, Some(reason.clone())));
            }
            return;
        }
        for (account, uid, key) in keyed {
            match self.second_half(account, &uid, &key) {
                Ok(done) => finish(account, done),
                Err(e) if !passing(&e) => finish(account, self.fail(account, &e)),
                Err(_) => finish(account, self.provision(account)),
            }
        }
    }

    /// The batch's first step for one account: `None` when the account is left to the
    /// one-by-one flow ([`provision`](Self::provision)).
    fn first_half(&self, account: &Account) -> Option<Result<Half>> {
        let latest = self.vault.latest(&account.email);
        let linked = latest.as_ref().is_some_and(|r| r.status == Status::Linked);
        if self.owner.is_some() {
            return None;
        }
        if linked {
            return Some(Ok(Half::Done((Outcome::AlreadyProvisioned, None))));
        }
        let mut rotate_pending = false;
        Some(self.login_and_stage(account, &mut rotate_pending))
    }

    /// One account, with its passing failures tried again.
    fn provision(&self, account: &Account) -> (Outcome, Option<String>) {
        let latest = self.vault.latest(&account.email);
        let rotate = self.owner.is_some();
        if !rotate && latest.as_ref().is_some_and(|r| r.status == Status::Linked) {
            return (Outcome::AlreadyProvisioned, None);
        }
        let mut rotate_pending =
            rotate && latest.as_ref().is_some_and(|r| r.status == Status::Linked);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.attempt(account, &mut rotate_pending) {
                Ok(done) => return done,
                Err(e) if passing(&e) && attempt < ACCOUNT_ATTEMPTS => {
                    // The server's Retry-After when it gave one (at most a minute).
                    let asked = e.retry_after().map(|d| d.min(Duration::from_secs(60)));
                    std::thread::sleep(asked.unwrap_or(self.retry_pause * attempt));
                }
                Err(e) => return self.fail(account, &e),
            }
        }
    }

    /// Records the account as `failed` and returns it.
    fn fail(&self, account: &Account, e: &Error) -> (Outcome, Option<String>) {
        let reason = e.to_string();
        let mut record = Record::new(&account.email, Status::Failed);
        // Keep the key of a half-done link: the next run still needs it.
        if let Some(prev) = self.vault.latest(&account.email) {
            record.user_id = prev.user_id;
            record.totp_key = prev.totp_key;
        }
        record.error = Some(reason.clone());
        match self.vault.stage(&record) {
            Ok(()) => (Outcome::Failed, Some(reason)),
            Err(w) => (Outcome::Failed, Some(format!("{reason}; {w}"))),
        }
    }

    /// One pass of an account's flow, one by one: the login, the key flushed, the code.
    /// `Err` for a failure to retry or record as `failed`.
    fn attempt(
        &self,
        account: &Account,
        rotate_pending: &mut bool,
    ) -> Result<(Outcome, Option<String>)> {
        match self.login_and_stage(account, rotate_pending)? {
            Half::Done(done) => Ok(done),
            Half::KeyStaged { uid, key } => {
                self.vault.sync()?;
                self.second_half(account, &uid, &key)
            }
        }
    }

    /// The login, and what follows up to the code: a key to link is staged in the vault
    /// (`key_saved`; the caller flushes it before [`second_half`](Self::second_half) sends a
    /// code from it); any other answer is settled here.
    fn login_and_stage(&self, account: &Account, rotate_pending: &mut bool) -> Result<Half> {
        let auth = self.client.auth();
        match auth.login(&account.email, account.password.clone())? {
            LoginOutcome::TfaActivationRequired { ticket, tfa_key } => {
                let uid = ticket.uid().to_owned();
                // The first login answers with the key (`tfaKey`, the per-user key `setup`
                // also returns: AuthenticationController.cs:259-271); ask `setup` only when
                // it did not.
                let key = match tfa_key {
                    Some(key) => key,
                    None => self.client.tfa().setup_with(&ticket)?.manual_entry_key,
                };
                self.stage_key(&account.email, &uid, &key)?;
                *rotate_pending = false;
                Ok(Half::KeyStaged { uid, key })
            }
            LoginOutcome::TfaCodeRequired { ticket } => {
                let uid = ticket.uid().to_owned();
                let held = self.vault.latest(&account.email).and_then(|r| r.totp_key);
                if *rotate_pending {
                    let owner = self.owner.as_ref().ok_or_else(|| {
                        Error::invalid_input("rotation", "no owner client for the rotation")
                    })?;
                    // Before the unlink, flushed: the account is "key saved, outcome unknown"
                    // again, so a run stopped after the unlink (whatever its flags) links it
                    // anew, and one stopped before finds the old key still good.
                    if let Some(prev) = self.vault.latest(&account.email) {
                        let mut rotating = prev;
                        rotating.status = Status::KeySaved;
                        rotating.user_id = Some(uid.clone());
                        rotating.error = Some("rotation: unlinking the old key".to_owned());
                        rotating.updated_at = crate::provision::vault::rfc3339_now();
                        self.vault.append(&rotating)?;
                    }
                    owner.tfa().unlink_user(&uid)?;
                    *rotate_pending = false;
                    // The next pass finds the app unlinked and links a new one.
                    return self.login_and_stage(account, rotate_pending);
                }
                let Some(key_text) = held else {
                    let done = self.settle(account, Some(&uid), Status::AlreadyLinked, NO_KEY)?;
                    return Ok(Half::Done(done));
                };
                let key = TotpKey::from_base32(key_text.expose())?;
                let password = account.password.clone();
                let session = match auth.login_with_totp(&account.email, password, &key) {
                    Ok(s) => s,
                    Err(e) if e.kind() == ErrorKind::Unauthorized => {
                        let status = Status::AlreadyLinked;
                        let done = self.settle(account, Some(&uid), status, WRONG_KEY)?;
                        return Ok(Half::Done(done));
                    }
                    Err(e) => return Err(e),
                };
                // A half-done link (the crash came after the code was sent): finish it.
                let codes = self.list_codes(&self.client.with_token(session.token))?;
                self.record_linked(&account.email, &uid, &key_text, codes.as_deref())?;
                Ok(Half::Done((Outcome::Linked, None)))
            }
            LoginOutcome::Authenticated(_) => Ok(Half::Done(self.settle(
                account,
                None,
                Status::NotApplicable,
                NO_SECOND_FACTOR,
            )?)),
            LoginOutcome::SmsPhoneRequired { .. } | LoginOutcome::SmsCodeSent(_) => Ok(Half::Done(
                self.settle(account, None, Status::NotApplicable, SMS_INSTEAD)?,
            )),
        }
    }

    /// After the key is on disk: the login with a code from it (`POST
    /// authentication/{code}`), which activates the app (the server's first activation makes
    /// the backup codes), then the backup codes with the session it opened.
    fn second_half(
        &self,
        account: &Account,
        uid: &str,
        key: &Secret,
    ) -> Result<(Outcome, Option<String>)> {
        let totp = TotpKey::from_base32(key.expose())?;
        let password = account.password.clone();
        let session = self
            .client
            .auth()
            .login_with_totp(&account.email, password, &totp)?;
        let codes = self.list_codes(&self.client.with_token(session.token))?;
        self.record_linked(&account.email, uid, key, codes.as_deref())?;
        Ok((Outcome::Linked, None))
    }

    /// The key to link, staged as a `key_saved` line (the caller flushes it before a code
    /// from it is sent). A key the latest line already holds as `key_saved` is not written
    /// twice (the portal hands out the same key until the app is unlinked).
    fn stage_key(&self, email: &str, uid: &str, key: &Secret) -> Result<()> {
        // A key that does not decode is refused before anything is written.
        TotpKey::from_base32(key.expose())?;
        let unchanged = self
            .vault
            .latest(email)
            .is_some_and(|r| r.status == Status::KeySaved && r.totp_key.as_ref() == Some(key));
        if !unchanged {
            let mut saved = Record::new(email, Status::KeySaved);
            saved.user_id = Some(uid.to_owned());
            saved.totp_key = Some(key.clone());
            self.vault.stage(&saved)?;
        }
        Ok(())
    }

    /// The backup codes, asked up to three times (a read: safe to repeat). `Ok(None)` when
    /// the portal refuses to list them (the link stands: the `linked` line says so); `Err`
    /// for a passing failure that lasted: the account's flow runs again (the app is linked,
    /// so its login asks for a code, the saved key answers it, and the codes are asked again).
    fn list_codes(&self, signed_in: &Client) -> Result<Option<Vec<BackupCode>>> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match signed_in.tfa().backup_codes() {
                Ok(codes) => return Ok(Some(codes)),
                Err(e) if passing(&e) && attempt < 3 => {
                    std::thread::sleep(self.retry_pause * attempt);
                }
                Err(e) if passing(&e) => return Err(e),
                Err(_) => return Ok(None),
            }
        }
    }

    fn record_linked(
        &self,
        email: &str,
        uid: &str,
        key: &Secret,
        codes: Option<&[BackupCode]>,
    ) -> Result<()> {
        let mut record = Record::new(email, Status::Linked);
        record.user_id = Some(uid.to_owned());
        record.totp_key = Some(key.clone());
        record.backup_codes = codes.map(|c| c.iter().map(|b| b.code.clone()).collect());
        if codes.is_none() {
            record.error = Some(NO_CODES.to_owned());
        }
        // Staged: if it is lost, the next run finds `key_saved`, logs in with the key and
        // lists the codes again.
        self.vault.stage(&record)
    }

    /// Records an outcome that is not a link and returns it.
    fn settle(
        &self,
        account: &Account,
        uid: Option<&str>,
        status: Status,
        why: &str,
    ) -> Result<(Outcome, Option<String>)> {
        let mut record = Record::new(&account.email, status);
        record.user_id = uid.map(str::to_owned);
        record.error = Some(why.to_owned());
        // A saved key is carried on: the latest line always has the newest key the portal may
        // hold.
        if let Some(prev) = self.vault.latest(&account.email) {
            record.totp_key = prev.totp_key;
        }
        self.vault.stage(&record)?;
        let outcome = match status {
            Status::NotApplicable => Outcome::NotApplicable,
            Status::AlreadyLinked => Outcome::AlreadyLinked,
            _ => Outcome::Failed,
        };
        Ok((outcome, Some(why.to_owned())))
    }
}

/// A failure worth running the account's flow again for.
fn passing(e: &Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Server | ErrorKind::RateLimited
    ) || matches!(e.status(), Some(502..=504))
}
