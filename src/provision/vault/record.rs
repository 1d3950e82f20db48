//! An account's vault line: [`Record`], its [`Status`], and the RFC 3339 stamp it carries.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// Where an account stands, as its latest vault line says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The key was saved and `validate` may or may not have linked it: the next run finds out.
    KeySaved,
    /// The authenticator is linked with the key in this record.
    Linked,
    /// The account's app was linked before, with a key the vault does not hold.
    AlreadyLinked,
    /// Two-factor authentication does not apply to the account (no authenticator to link).
    NotApplicable,
    /// The account could not be provisioned; `error` says why.
    Failed,
}

impl Status {
    /// The name in the vault and in the CLI's output (`key_saved`, `linked`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::KeySaved => "key_saved",
            Status::Linked => "linked",
            Status::AlreadyLinked => "already_linked",
            Status::NotApplicable => "not_applicable",
            Status::Failed => "failed",
        }
    }
}

/// One line of the vault. `Debug` hides the key and the backup codes.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The account's login name.
    pub email: String,
    /// The portal's user id (a GUID), when known.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The state this line records.
    pub status: Status,
    /// The manual entry key (base32) of the authenticator, for `key_saved` and `linked`.
    #[serde(default)]
    pub totp_key: Option<Secret>,
    /// The backup codes, when they could be listed after the link.
    #[serde(default)]
    pub backup_codes: Option<Vec<Secret>>,
    /// Why the account failed or what is left to do (never a secret).
    #[serde(default)]
    pub error: Option<String>,
    /// When the line was written (RFC 3339, UTC).
    pub updated_at: String,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("email", &self.email)
            .field("user_id", &self.user_id)
            .field("status", &self.status)
            .field("totp_key", &self.totp_key.as_ref().map(|_| "***"))
            .field(
                "backup_codes",
                &self
                    .backup_codes
                    .as_ref()
                    .map(|c| format!("{} codes", c.len())),
            )
            .field("error", &self.error)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

impl Record {
    /// A record of `status` for `email`, stamped now.
    pub fn new(email: &str, status: Status) -> Record {
        Record {
            email: email.to_owned(),
            user_id: None,
            status,
            totp_key: None,
            backup_codes: None,
            error: None,
            updated_at: rfc3339_now(),
        }
    }
}

/// The time now as RFC 3339 in UTC with milliseconds, such as `2026-12-03T16:04:05.123Z`.
pub(crate) fn rfc3339_now() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    rfc3339(since.as_secs(), since.subsec_millis())
}

fn rfc3339(secs: u64, millis: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        for (secs, want) in [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400, "2000-02-29T00:00:00.000Z"),
            (1_796_310_245, "2026-12-03T15:04:05.000Z"),
        ] {
            assert_eq!(rfc3339(secs, 0), want);
        }
    }
}
