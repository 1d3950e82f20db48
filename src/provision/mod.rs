//! Provisioning a fleet: link an authenticator app to many accounts in one run, crash-safe and
//! resumable, with every key kept in a vault (feature `totp`).
//!
//! - [`parse_accounts`]: the accounts, from CSV (with a header) or JSON lines: `email` and one
//!   of `password`, `passwordEnv`, `passwordFile`; bad rows with their line numbers.
//! - [`Vault`]: a JSON-lines file, created owner-only, one [`Record`] per state change.
//!   **The key is written and flushed to disk before a code from it is sent** (the code that
//!   links the app), so no account is ever linked with a key the vault lacks.
//! - [`Provisioner`]: workers across accounts over one [`Client`](crate::Client); running it
//!   again skips what is done, finishes what is half-done and retries what failed.
//!
//! Why a half-done account ("key saved, outcome unknown") is finished by logging in with the
//! saved key: the portal derives each user's secret from a per-user salt that it creates once
//! and keeps until the app is unlinked (`web/ASC.Web.Core/Tfa/TfaManager.cs:177-187`,
//! `TfaAppUserSettings.cs:57-69`), so a repeated login (its `tfaKey`) or `setup` returns the
//! same key. Either the code login linked that key (the login asks for a code and the saved
//! key answers it), or it did not (the login asks for activation again and hands out the same
//! key). See `docs/provisioning.md`.

mod input;
mod run;
mod vault;

pub use input::{parse_accounts, Account, Accounts, AccountsFile, AccountsIter, BadRow};
pub use run::{Event, Outcome, Provisioner, Summary};
pub use vault::{Record, Status, Vault};
