//! Running the provisioning: workers over the accounts, one flow per account, every state
//! change in the vault before the next step.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::input::Account;
use super::vault::Vault;
use crate::client::Client;

mod batch;

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
}
