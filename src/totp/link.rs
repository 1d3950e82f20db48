//! Linking as the authenticator app: [`Tfa::link`] with the code computed from the setup
//! code's key, for service accounts and tests.

use super::clock::SystemClock;
use super::code::Totp;
use crate::error::Result;
use crate::models::Linked;
use crate::tfa::Tfa;

#[cfg_attr(docsrs, doc(cfg(feature = "totp")))]
impl Tfa<'_> {
    /// [`link`](Tfa::link), acting as the authenticator app: the code is computed from the
    /// setup code's key with [`Totp::code_to_send`] (the
    /// system clock; near the end of a step it waits for the next one). For service accounts
    /// and tests; keep [`Linked::setup`]'s key if the account must log in later
    /// ([`Authentication::login_with_totp`](crate::Authentication::login_with_totp)).
    ///
    /// # Errors
    ///
    /// As for [`link`](Tfa::link); [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the portal's manual key
    /// is not base32.
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let linked = client.tfa().link_as_authenticator()?;
    /// let key = linked.setup.manual_entry_key; // store it with the backup codes
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn link_as_authenticator(&self) -> Result<Linked> {
        self.link(|setup| {
            let key = setup.totp_key()?;
            Ok(Totp::docspace()
                .code_to_send(&key, &SystemClock)
                .expose()
                .to_owned())
        })
    }
}
