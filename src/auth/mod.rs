//! Login that understands the second factor: `/api/2.0/authentication…`.
//!
//! [`Authentication::login`] answers with a [`LoginOutcome`] the caller must match on: a token, or the
//! second factor the portal demands together with the confirm ticket to continue with.
//! [`Authentication::login_with_code`] finishes a TFA login in one call. The SMS factor
//! (setting the phone, resending the code, finishing with the SMS code, and the server's
//! `phoneNoise` defect) is in `sms.rs`; see `docs/flow.md`, "The SMS factor".
//!
//! ```no_run
//! use docspace_tfa::{Client, LoginOutcome};
//!
//! let client = Client::builder().base_url("https://portal.example.com").build()?;
//! let session = match client.auth().login("bot@example.com", "password")? {
//!     LoginOutcome::Authenticated(session) => session,
//!     LoginOutcome::TfaCodeRequired { .. } => {
//!         client.auth().login_with_code("bot@example.com", "password", "123456")?
//!     }
//!     LoginOutcome::SmsCodeSent(sent) => {
//!         let code = "123456"; // ask the person for the code the SMS brought
//!         client.auth().login_with_sms_code("bot@example.com", "password", code, &sent)?
//!     }
//!     other => panic!("cannot continue headlessly: {other:?}"),
//! };
//! let client = client.with_token(session.token);
//! # Ok::<(), docspace_tfa::Error>(())
//! ```

use percent_encoding::utf8_percent_encode;
use serde::{Deserialize, Serialize};
use ureq::http::Method;

use crate::answer::{Reply, Shape};
use crate::client::Client;
use crate::confirm::ConfirmTicket;
use crate::error::{Error, Result};
use crate::input::normalize_code;
use crate::models::{Session, SmsSent};
use crate::request::{Credential, ErrorClass, Request};
use crate::secret::Secret;
use crate::text::QUERY_VALUE;

mod sms;

/// Handler for the authentication endpoints (logging in, with or without a second factor);
/// see [`Client::auth`].
#[derive(Debug, Clone, Copy)]
pub struct Authentication<'c> {
    /// Read by the session's endpoints in `src/session.rs`.
    pub(crate) client: &'c Client,
}

/// What `POST authentication` answered. Match on it: only
/// [`Authenticated`](LoginOutcome::Authenticated) carries a token.
///
/// `Debug` shows no secret: not the token, the ticket's key, the manual key, nor a `key` in the
/// SMS confirm URL.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// No second factor was needed: here is the session.
    Authenticated(Session),
    /// The portal requires an authenticator app and none is linked yet (or the link expired).
    /// Link one with the ticket: [`Tfa::setup_with`](crate::Tfa::setup_with), then
    /// [`Tfa::validate_with`](crate::Tfa::validate_with) or
    /// [`Authentication::login_with_code`].
    TfaActivationRequired {
        /// A complete `TfaActivation` ticket (URL from `confirmUrl`, key from the
        /// `asc_confirm_key_TfaActivation` cookie).
        ticket: ConfirmTicket,
        /// The manual entry key of the secret to link (`tfaKey`), when the server sent it.
        tfa_key: Option<Secret>,
    },
    /// The portal requires a code from the linked authenticator app: call
    /// [`Authentication::login_with_code`], or [`Tfa::validate_with`](crate::Tfa::validate_with) with the
    /// ticket.
    TfaCodeRequired {
        /// A complete `TfaAuth` ticket.
        ticket: ConfirmTicket,
    },
    /// The portal requires a code by SMS and the user has no activated phone yet (`sms: true`
    /// with a `PhoneActivation` confirm URL). Set the number with
    /// [`Authentication::set_phone`] and this ticket (valid for an hour): the server sends the
    /// first code, then finish with [`Authentication::login_with_sms_code`].
    SmsPhoneRequired {
        /// The `PhoneActivation` ticket: `type`, `key` and `encemail` from the confirm URL.
        ticket: ConfirmTicket,
    },
    /// The portal sent a code by SMS to the user's activated phone (`sms: true` with
    /// `phoneNoise`), or had one still valid. Finish with
    /// [`Authentication::login_with_sms_code`]; resend with [`Authentication::send_sms`].
    ///
    /// When the server's own masking of the number failed (its `phoneNoise` defect for
    /// numbers of 10 or more digits: the SMS was sent, then the answer was a `400`),
    /// [`SmsSent::server_mask_failed`] is set and the masked number is unknown; a login with
    /// the code cannot succeed on such a server (see [`SmsSent`]).
    SmsCodeSent(SmsSent),
}

impl std::fmt::Debug for LoginOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoginOutcome::Authenticated(session) => {
                f.debug_tuple("Authenticated").field(session).finish()
            }
            LoginOutcome::TfaActivationRequired { ticket, tfa_key } => f
                .debug_struct("TfaActivationRequired")
                .field("ticket", ticket)
                .field("tfa_key", tfa_key)
                .finish(),
            LoginOutcome::TfaCodeRequired { ticket } => f
                .debug_struct("TfaCodeRequired")
                .field("ticket", ticket)
                .finish(),
            LoginOutcome::SmsPhoneRequired { ticket } => f
                .debug_struct("SmsPhoneRequired")
                .field("ticket", ticket)
                .finish(),
            LoginOutcome::SmsCodeSent(sent) => f.debug_tuple("SmsCodeSent").field(sent).finish(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LoginBody<'a> {
    user_name: &'a str,
    password: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'a str>,
    session: bool,
}

/// A request of the login family (`authentication`, `authentication/{code}`,
/// `authentication/sendsms`): anonymous, the credentials (and the code) in the body, the
/// login's error rules. The credentials are checked first: nothing is sent without them.
fn credentials_request(
    path: &'static str,
    user_name: &str,
    password: &Secret,
    code: Option<&str>,
) -> Result<Request<'static>> {
    check_credentials(user_name, password)?;
    Ok(Request::new(Method::POST, path, Credential::Anonymous)
        .json(&LoginBody {
            user_name: user_name.trim(),
            password: password.expose(),
            code,
            session: false,
        })?
        .errors(ErrorClass::Login))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthAnswer {
    #[serde(default)]
    token: Option<Secret>,
    #[serde(default)]
    expires: Option<String>,
    #[serde(default)]
    tfa: Option<bool>,
    #[serde(default)]
    tfa_key: Option<Secret>,
    #[serde(default)]
    sms: Option<bool>,
    #[serde(default)]
    phone_noise: Option<String>,
    #[serde(default)]
    confirm_url: Option<String>,
}

impl<'c> Authentication<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Authentication { client }
    }

    /// Logs in with a user name (e-mail) and password (`POST authentication`, anonymous).
    ///
    /// The outcome is decided from `token`, `tfa` and `sms` in the answer, never from
    /// `expires` (challenged answers carry a dummy `0001-01-01T00:00:00`). For a TFA challenge
    /// the ticket's key is read from the answer's `Set-Cookie`. Sent once, never retried: each
    /// call counts towards the portal's login attempt limit.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty user name or
    /// password; [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) for a wrong user
    /// name or password (unknown users included);
    /// [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited) after too many attempts;
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when a TFA challenge comes without its
    /// confirm URL or key, or an SMS challenge without a usable `PhoneActivation` URL.
    ///
    /// A `400` `System.ArgumentOutOfRangeException` about `startIndex` is the server's
    /// `phoneNoise` defect after it sent the SMS: it is
    /// [`LoginOutcome::SmsCodeSent`] with [`SmsSent::server_mask_failed`], not an error.
    pub fn login(&self, user_name: &str, password: impl Into<Secret>) -> Result<LoginOutcome> {
        let password = password.into();
        let sent = self.client.send(credentials_request(
            "authentication",
            user_name,
            &password,
            None,
        )?);
        match sent {
            Ok(reply) => outcome(&reply),
            Err(e) if sms::is_phone_noise_defect(&e) => {
                Ok(LoginOutcome::SmsCodeSent(SmsSent::mask_failed(None)))
            }
            Err(e) => Err(e),
        }
    }

    /// Finishes a TFA login in one call (`POST authentication/{code}`): checks the code (an
    /// authenticator code or an unused backup code, which is spent; or, on a portal that
    /// enforces SMS, the code of the text message), links the app on first use, and returns
    /// the session. After an SMS was sent, prefer
    /// [`login_with_sms_code`](Self::login_with_sms_code), which explains the server's SMS
    /// defect when it applies.
    ///
    /// The code is normalized and checked before sending
    /// ([`normalize_code`](crate::normalize_code)); it goes in the JSON body, which the server
    /// reads, and percent-encoded in the path, which must be present (a code that names
    /// another route, such as `logout`, goes to `authentication/code` instead: the server
    /// matches those routes first). Never retried.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an impossible code or
    /// empty credentials (nothing is sent); [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized)
    /// for every refusal, a wrong code included (the server wraps them all as `401`).
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let session = client.auth().login_with_code("bot@example.com", "password", "123456")?;
    /// let client = client.with_token(session.token);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn login_with_code(
        &self,
        user_name: &str,
        password: impl Into<Secret>,
        code: &str,
    ) -> Result<Session> {
        self.send_code(user_name, password.into(), code)
    }

    /// `POST authentication/{code}` with the credentials and the code in the body.
    fn send_code(&self, user_name: &str, password: Secret, code: &str) -> Result<Session> {
        let code = normalize_code(code)?;
        let path = format!(
            "authentication/{}",
            utf8_percent_encode(path_segment(&code), QUERY_VALUE)
        );
        let reply = self.client.send(
            credentials_request("authentication/{code}", user_name, &password, Some(&code))?
                .real_path(path),
        )?;
        match outcome(&reply)? {
            LoginOutcome::Authenticated(session) => Ok(session),
            _ => Err(reply.decode_error(
                "session token",
                "the server answered a login with a code without a token".into(),
            )),
        }
    }
}

/// The routes beside `authentication/{code}` that the server matches first (its `{code}`
/// route has `Order = 1`, `AuthenticationController.cs:113`; routing ignores letter case).
const LITERAL_ROUTES: [&str; 4] = ["logout", "confirm", "setphone", "sendsms"];

/// The path segment for `code`: the code itself, except a code that is a literal route's name
/// (a backup code may be `logout`, and `login --code SendSms` would send an SMS), for which a
/// segment that names no route is sent. The server reads the code from the body only.
fn path_segment(code: &str) -> &str {
    if LITERAL_ROUTES.iter().any(|r| r.eq_ignore_ascii_case(code)) {
        "code"
    } else {
        code
    }
}

pub(crate) fn check_credentials(user_name: &str, password: &Secret) -> Result<()> {
    if user_name.trim().is_empty() {
        return Err(Error::invalid_input("user name", "it is empty"));
    }
    if password.is_empty() {
        return Err(Error::invalid_input("password", "it is empty"));
    }
    Ok(())
}

/// Decides the outcome of a login answer.
pub(crate) fn outcome(reply: &Reply) -> Result<LoginOutcome> {
    let answer: AuthAnswer = reply.decode("login answer", Shape::Object)?;
    if let Some(token) = answer.token.filter(|t| !t.expose().trim().is_empty()) {
        // A token that could not travel in an `Authorization` header is refused here, where it
        // arrives, rather than handed out and refused at its first use.
        if !token.expose().bytes().all(|b| b.is_ascii_graphic()) {
            return Err(reply.decode_error(
                "session token",
                "it holds a character a bearer token cannot have (only visible ASCII: no \
                 spaces, control or non-ASCII characters)"
                    .into(),
            ));
        }
        return Ok(LoginOutcome::Authenticated(Session {
            token,
            expires: answer.expires.filter(|e| !e.starts_with("0001-01-01")),
        }));
    }
    let confirm_url = answer.confirm_url.filter(|u| !u.trim().is_empty());
    if answer.tfa == Some(true) {
        let url = confirm_url.ok_or_else(|| {
            reply.decode_error("TFA challenge", "the answer has no confirmUrl".into())
        })?;
        let ticket = ConfirmTicket::from_url_and_cookies(&url, reply.set_cookies())
            .map_err(|e| reply.decode_error("TFA challenge", e.to_string()))?;
        let tfa_key = answer.tfa_key.filter(|k| !k.expose().trim().is_empty());
        if ticket.is_tfa_auth() {
            return Ok(LoginOutcome::TfaCodeRequired { ticket });
        }
        return Ok(LoginOutcome::TfaActivationRequired { ticket, tfa_key });
    }
    if answer.sms == Some(true) {
        return sms::outcome(reply, confirm_url, answer.phone_noise, answer.expires);
    }
    Err(reply.decode_error(
        "login answer",
        "it has neither a token nor a TFA or SMS challenge".into(),
    ))
}
