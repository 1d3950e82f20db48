//! Logging in with a stored TOTP key: a service account on a portal that enforces TFA.

use super::clock::{Clock, SystemClock};
use super::code::Totp;
use super::key::TotpKey;
use crate::auth::{check_credentials, Authentication};
use crate::error::Result;
use crate::models::Session;
use crate::secret::Secret;

#[cfg_attr(docsrs, doc(cfg(feature = "totp")))]
impl Authentication<'_> {
    /// Logs in with a user name, password and the account's stored TOTP key
    /// (`POST authentication/{code}`, one request): the code is computed at the moment of the
    /// call, and in the last [`SEND_MARGIN_SECONDS`](super::SEND_MARGIN_SECONDS) seconds of a
    /// 30-second step the call waits for the next step first, so that no code expires in
    /// flight ([`Totp::code_to_send`]). Uses the system clock; see
    /// [`login_with_totp_clock`](Self::login_with_totp_clock) for another.
    ///
    /// For accounts the portal asks for an authenticator code: the key is the manual entry key
    /// of the setup code the account was linked with
    /// ([`Linked::setup`](crate::Linked::setup)). Never retried.
    ///
    /// # Errors
    ///
    /// As for [`login_with_code`](Self::login_with_code): every refusal (a wrong password, a
    /// wrong key, an account without TFA) is [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized).
    ///
    /// ```no_run
    /// use docspace_tfa::totp::TotpKey;
    /// # let client = docspace_tfa::Client::builder().base_url("https://portal.example.com").build()?;
    /// let key = TotpKey::from_base32(&std::env::var("DOCSPACE_TOTP_KEY").unwrap_or_default())?;
    /// let session = client.auth().login_with_totp("bot@example.com", "password", &key)?;
    /// let client = client.with_token(session.token);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn login_with_totp(
        &self,
        user_name: &str,
        password: impl Into<Secret>,
        key: &TotpKey,
    ) -> Result<Session> {
        self.login_with_totp_clock(user_name, password, key, &SystemClock)
    }

    /// [`login_with_totp`](Self::login_with_totp) with the time (and the wait) from `clock`:
    /// for tests, which freeze a clock near the end of a step.
    ///
    /// # Errors
    ///
    /// As for [`login_with_totp`](Self::login_with_totp).
    pub fn login_with_totp_clock(
        &self,
        user_name: &str,
        password: impl Into<Secret>,
        key: &TotpKey,
        clock: &impl Clock,
    ) -> Result<Session> {
        let password = password.into();
        // Refuse empty credentials before waiting for a step.
        check_credentials(user_name, &password)?;
        let code = Totp::docspace().code_to_send(key, clock);
        self.login_with_code(user_name, password, code.expose())
    }
}
