//! Running the provisioning: workers over the accounts, one flow per account, every state
//! change in the vault before the next step.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::input::Account;
use super::vault::{Record, Status, Vault};
use crate::auth::LoginOutcome;
use crate::client::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::models::BackupCode;
use crate::secret::Secret;
use crate::totp::TotpKey;

/// How an account ended in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// Linked in this run (or a half-done link finished); the key and codes are in the vault.
    Linked,
    /// Linked by an earlier run (the vault says so): nothing was sent.
    AlreadyProvisioned,
    /// An app is linked with a key the vault does not hold.
    AlreadyLinked,
    /// Two-factor authentication does not apply to the account.
    NotApplicable,
    /// The account could not be provisioned (the vault's `error` says why).
    Failed,
    /// Not started: the run was stopped first.
    NotStarted,
}

impl Outcome {
    /// The name in events and summaries (`linked`, `already_provisioned`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Linked => "linked",
            Outcome::AlreadyProvisioned => "already_provisioned",
            Outcome::AlreadyLinked => "already_linked",
            Outcome::NotApplicable => "not_applicable",
            Outcome::Failed => "failed",
            Outcome::NotStarted => "not_started",
        }
    }

    /// Whether the account ended in a good state: linked now or before.
    pub fn is_success(self) -> bool {
        matches!(self, Outcome::Linked | Outcome::AlreadyProvisioned)
    }
}

/// One account finished: what the callback of [`Provisioner::run`] gets.
#[derive(Debug, Clone)]
pub struct Event {
    /// The account's login name.
    pub email: String,
    /// The input line it came from.
    pub line: usize,
    /// How it ended.
    pub outcome: Outcome,
    /// Why, for anything but a link (never a secret).
    pub error: Option<String>,
}

/// Counts per outcome of a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Linked in this run.
    pub linked: usize,
    /// Linked before: skipped.
    pub already_provisioned: usize,
    /// Linked with a key the vault lacks.
    pub already_linked: usize,
    /// TFA does not apply.
    pub not_applicable: usize,
    /// Failed.
    pub failed: usize,
    /// Not started because the run was stopped.
    pub not_started: usize,
}

impl Summary {
    fn count(&mut self, outcome: Outcome) {
        *match outcome {
            Outcome::Linked => &mut self.linked,
            Outcome::AlreadyProvisioned => &mut self.already_provisioned,
            Outcome::AlreadyLinked => &mut self.already_linked,
            Outcome::NotApplicable => &mut self.not_applicable,
            Outcome::Failed => &mut self.failed,
            Outcome::NotStarted => &mut self.not_started,
        } += 1;
    }

    /// The number of accounts counted.
    pub fn total(&self) -> usize {
        self.linked
            + self.already_provisioned
            + self.already_linked
            + self.not_applicable
            + self.failed
            + self.not_started
    }

    /// Whether every account ended linked (now or before).
    pub fn all_linked(&self) -> bool {
        self.total() == self.linked + self.already_provisioned
    }
}

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

/// Provisions accounts: links an authenticator to each, keeping every key in a [`Vault`].
///
/// For each account: log in with the password. A portal that asks to activate the app sends
/// the key with that answer (`tfaKey`; `setup` is asked only when it does not); the key goes
/// to the vault (`key_saved`) and is flushed to disk **before** a code from it is sent; then
/// the login with that code (`POST authentication/{code}`), which activates the app, the
/// backup codes, and `linked`. A portal that asks for a code from an app already linked is
/// answered with the vault's key when it holds one (a half-done link from a crash: `linked`),
/// and is `already_linked` otherwise. A login without a second factor is `not_applicable`; a
/// refused login `failed`. Passing failures (network, `5xx`, `429`) run the account's flow
/// again, up to four times; every step of it is safe to repeat.
///
/// Workers take accounts in input order, [`batch`](Self::batch) at a time (16), `jobs` at
/// once, sharing one [`Client`] (one keep-alive pool). A worker logs its batch in, stages the
/// keys, flushes the vault once, then sends the codes: one `fdatasync` per batch. Outcome
/// lines are staged and written with the next flush (or at the end of the run): if a crash
/// loses one, the next run finds the account's `key_saved` line and finishes it with the key.
/// [`stop_flag`](Self::stop_flag) stops starting new batches.
///
/// ```no_run
/// use docspace_tfa::provision::{parse_accounts, Provisioner, Vault};
///
/// let client = docspace_tfa::Client::builder().base_url("https://portal.example.com").build()?;
/// let accounts = parse_accounts(&std::fs::read_to_string("accounts.csv").unwrap_or_default());
/// let vault = Vault::open("vault.jsonl")?;
/// let summary = Provisioner::new(client, vault).jobs(4).run(&accounts.accounts, |event| {
///     eprintln!("{}: {}", event.email, event.outcome.as_str());
/// });
/// assert!(summary.all_linked());
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Debug)]
pub struct Provisioner {
    client: Client,
    vault: Vault,
    jobs: usize,
    owner: Option<Client>,
    stop: Arc<AtomicBool>,
    retry_pause: Duration,
    batch: usize,
}

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
    /// A provisioner sending through `client` (its base URL, settings and connection pool) and
    /// keeping the keys in `vault`; one worker. The accounts log in themselves: a token the
    /// client holds is not sent (with one, the portal would act on the token's user).
    pub fn new(client: Client, vault: Vault) -> Provisioner {
        Provisioner {
            client: client.with_token(""),
            vault,
            jobs: 1,
            owner: None,
            stop: Arc::new(AtomicBool::new(false)),
            retry_pause: Duration::from_millis(250),
            batch: 16,
        }
    }

    /// Accounts provisioned at once (at least 1). Each account's own calls stay in order; the
    /// portal's attempt and login locks are per user, so parallelism is across accounts.
    pub fn jobs(mut self, jobs: usize) -> Provisioner {
        self.jobs = jobs.max(1);
        self
    }

    /// Rotate: for accounts the vault holds as linked, unlink the app with `owner` (a client
    /// with the portal owner's token: `PUT settings/tfaappnewapp`) and link again, writing the
    /// new key and codes; the old lines stay as history.
    pub fn rotate_with(mut self, owner: Client) -> Provisioner {
        self.owner = Some(owner);
        self
    }

    /// The pause before a passing failure is tried again (default 250 ms, times the attempt).
    pub fn retry_pause(mut self, pause: Duration) -> Provisioner {
        self.retry_pause = pause;
        self
    }

    /// The flag that stops the run: once set, no new batch is started; the accounts of the
    /// batches in flight finish and are recorded.
    pub fn stop_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// The vault.
    pub fn vault(&self) -> &Vault {
        &self.vault
    }

    /// Accounts a worker takes at a time (at least 1, default 16): it logs them in, writes
    /// their keys, flushes the vault once, then sends their codes. One `fdatasync` per batch
    /// instead of one per account; every key is still on disk before its code is sent.
    pub fn batch(mut self, accounts: usize) -> Provisioner {
        self.batch = accounts.max(1);
        self
    }

    /// Provisions `accounts`, calling `on_event` as each one ends (from the worker threads),
    /// and returns the counts. Accounts not started because of a stop are counted
    /// [`Outcome::NotStarted`] without an event.
    pub fn run<F>(&self, accounts: &[Account], on_event: F) -> Summary
    where
        F: Fn(&Event) + Sync,
    {
        self.run_iter(accounts.iter().cloned(), on_event)
    }

    /// [`run`](Self::run) over accounts as an iterator yields them (such as
    /// [`AccountsFile::accounts`](super::AccountsFile::accounts), which reads them from the
    /// file as they are needed): memory does not grow with the number of accounts. After a
    /// stop, the rest of the iterator is counted as [`Outcome::NotStarted`].
    pub fn run_iter<I, F>(&self, accounts: I, on_event: F) -> Summary
    where
        I: IntoIterator<Item = Account>,
        I::IntoIter: Send,
        F: Fn(&Event) + Sync,
    {
        let queue = std::sync::Mutex::new(accounts.into_iter());
        let summary = std::sync::Mutex::new(Summary::default());
        let finish = |account: &Account, (outcome, error): (Outcome, Option<String>)| {
            summary
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .count(outcome);
            on_event(&Event {
                email: account.email.clone(),
                line: account.line,
                outcome,
                error,
            });
        };
        std::thread::scope(|scope| {
            for _ in 0..self.jobs {
                scope.spawn(|| loop {
                    if self.stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let batch: Vec<Account> = {
                        let mut queue = queue.lock().unwrap_or_else(|p| p.into_inner());
                        queue.by_ref().take(self.batch).collect()
                    };
                    if batch.is_empty() {
                        break;
                    }
                    self.provision_batch(&batch, &finish);
                });
            }
        });
        // The outcome lines staged last.
        let _ = self.vault.sync();
        let mut summary = summary.into_inner().unwrap_or_else(|p| p.into_inner());
        summary.not_started = queue
            .into_inner()
            .unwrap_or_else(|p| p.into_inner())
            .count();
        summary
    }

    /// A batch: every account's login (and its key staged), one flush, then the codes.
    fn provision_batch(&self, batch: &[Account], finish: &(dyn Fn(&Account, Done) + Sync)) {
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
                        rotating.updated_at = super::vault::rfc3339_now();
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
