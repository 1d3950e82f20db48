//! The TFA rules: a member's secret and what is derived from it (manual entry key,
//! `otpauth://` URI), the code check (TOTP within the window, else an unused backup code, under
//! the attempt limit), backup codes, unlinking (`docs/server.md`, "The settings endpoints" and
//! "The setup code and the otpauth URI"; the server's `TfaManager`).

use super::random::{fill_random, random_backup_code};
use super::state::State;
use crate::error::Result;
use crate::secret::Secret;
use crate::totp::{OtpAuthUri, Totp, TotpKey};

/// Outcome of a failed code check.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CodeFailure {
    /// Empty or blank code (the server throws a plain exception: 500).
    Blank,
    /// Too many attempts in the window (403 with an error body).
    Locked,
    /// Not the app's code and not an unused backup code (400).
    Wrong,
}

impl State {
    /// The user's TOTP secret, generated (10 random bytes, like the portal's) on first need.
    pub(crate) fn ensure_secret(&mut self, user: usize) -> Result<Vec<u8>> {
        if let Some(s) = &self.users[user].secret {
            return Ok(s.clone());
        }
        let mut bytes = vec![0u8; 10];
        fill_random(&mut bytes)?;
        self.users[user].secret = Some(bytes.clone());
        Ok(bytes)
    }

    /// The user's manual entry key (base32 of the secret), generating the secret if needed.
    pub(crate) fn manual_key(&mut self, user: usize) -> Result<Secret> {
        let secret = self.ensure_secret(user)?;
        Ok(TotpKey::from_bytes(&secret)?.to_base32())
    }

    /// The `otpauth://` URI of the user's secret, as `GenerateSetupCode` writes it: issuer and
    /// account escaped with `Uri.EscapeDataString` (which [`OtpAuthUri::to_uri`] does).
    pub(crate) fn otpauth_uri(&mut self, user: usize, issuer: &str) -> Result<Secret> {
        let secret = self.ensure_secret(user)?;
        let key = TotpKey::from_bytes(&secret)?;
        Ok(OtpAuthUri::new(issuer, self.users[user].email.clone(), key).to_uri())
    }

    /// Generates a new set of backup codes for the user, replacing the old set.
    pub(crate) fn new_backup_codes(&mut self, user: usize) -> Result<()> {
        let count = self.config.backup_code_count;
        let len = self.config.backup_code_len;
        let mut codes = Vec::with_capacity(count);
        for _ in 0..count {
            codes.push((random_backup_code(len)?, false));
        }
        self.users[user].backup_codes = codes;
        Ok(())
    }

    /// Checks a code for the user as `TfaManager.ValidateAuthCode` does: blank → error, count
    /// the attempt (refuse when over the limit), then the app's code within the window, then an
    /// unused backup code (spent by the check). A successful check does not count.
    pub(crate) fn check_code(
        &mut self,
        user: usize,
        code: &str,
    ) -> std::result::Result<(), CodeFailure> {
        let code = code.trim();
        if code.is_empty() {
            return Err(CodeFailure::Blank);
        }
        let now = self.now();
        let limit = self.config.attempt_limit;
        if !self.users[user].attempts.try_count(limit, now) {
            return Err(CodeFailure::Locked);
        }
        let totp_ok = match &self.users[user].secret {
            Some(secret) => TotpKey::from_bytes(secret)
                .map(|key| Totp::docspace().verify(&key, code, now, self.config.window_steps))
                .unwrap_or(false),
            None => false,
        };
        let accepted = totp_ok || {
            let u = &mut self.users[user];
            match u
                .backup_codes
                .iter_mut()
                .find(|(c, used)| !*used && c.as_str() == code)
            {
                Some(entry) => {
                    entry.1 = true;
                    true
                }
                None => false,
            }
        };
        if !accepted {
            return Err(CodeFailure::Wrong);
        }
        self.users[user].attempts.forgive(now);
        Ok(())
    }

    /// Unlinks the user's app: the secret and backup codes are discarded.
    pub(crate) fn unlink(&mut self, user: usize) {
        let u = &mut self.users[user];
        u.linked = false;
        u.secret = None;
        u.backup_codes.clear();
    }
}
