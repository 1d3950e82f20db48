//! Refusing, before anything is sent, a policy the portal would choke on:
//! [`TfaPolicy::check`] (trusted IPs through the [`trusted_ip`](crate::trusted_ip) leaf, ids
//! as the server's JSON reader takes a `Guid`). `docs/server.md`, "Trusted IPs" and "Ids".

use crate::error::{Error, Result};
use crate::models::TfaPolicy;
use crate::text::is_guid;
use crate::trusted_ip::check_trusted_ip;

impl TfaPolicy {
    /// Checks the policy as [`Tfa::set_policy`](crate::Tfa::set_policy) does before sending
    /// it: every trusted IP must be an address, range or CIDR block that means what it says
    /// ([`check_trusted_ip`](crate::check_trusted_ip)), and every id a GUID.
    ///
    /// The server saves any trusted-IP entry, and a malformed range or CIDR block then makes
    /// every password login on the portal fail with a `500`; other bad entries are saved and
    /// silently never match. A malformed id is a `400`.
    ///
    /// ```
    /// use docspace_tfa::{ErrorKind, TfaPolicy, TfaType};
    ///
    /// assert!(TfaPolicy::new(TfaType::App).trusted_ip("10.0.0.0/8").check().is_ok());
    /// let err = TfaPolicy::new(TfaType::App).trusted_ip("not-an-ip").check().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("not-an-ip"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) naming the first bad entry
    /// (a trusted IP by its text, an id by its position) and saying why.
    pub fn check(&self) -> Result<()> {
        for entry in &self.trusted_ips {
            let verdict = check_trusted_ip(entry);
            if let Some(reason) = verdict.reason() {
                let shown: String = entry.chars().take(64).collect();
                return Err(Error::invalid_input(
                    "trusted IP",
                    format!("{shown:?}: {reason}"),
                ));
            }
        }
        let ids = [
            ("mandatory user", &self.mandatory_users),
            ("mandatory group", &self.mandatory_groups),
        ];
        for (what, list) in ids {
            if let Some(n) = list.iter().position(|id| !is_guid(id)) {
                return Err(Error::invalid_input(
                    what,
                    format!(
                        "entry {} is not a GUID such as 66faa6e4-f133-11ea-b126-00ffeec8b4ef (the \
                         server answers 400)",
                        n + 1
                    ),
                ));
            }
        }
        if self.id.as_deref().is_some_and(|id| !is_guid(id)) {
            return Err(Error::invalid_input(
                "caller id",
                "it is not a GUID such as 66faa6e4-f133-11ea-b126-00ffeec8b4ef (the server \
                 answers 400)",
            ));
        }
        Ok(())
    }
}
