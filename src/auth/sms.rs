//! The SMS factor: `POST authentication/setphone`, `POST authentication/sendsms`, the SMS
//! outcomes of a login, the login with the text message's code, and the server's `phoneNoise`
//! defect (`docs/server.md`, "The SMS factor"; `docs/flow.md`, "The SMS factor").
//!
//! What the server does, from its source (v3.7.2, unchanged on the 3.8 branch and `develop`):
//! `AuthenticationController.cs:235-255` (the login's SMS branch), `:455-471` (`setphone`),
//! `:485-509` (`sendsms`), `:135-143` (the code check); `SmsManager.cs`, `SmsKeyStorage.cs`
//! (6-digit codes, 10 minutes, 5 checks, first code and 5 resends) and `SmsSender.cs:65-97`
//! (the digits-only number and `BuildPhoneNoise`, which throws for 10 or more digits).

use serde::Serialize;
use ureq::http::Method;

use super::{credentials_request, Authentication, LoginOutcome};
use crate::answer::{Reply, Shape};
use crate::confirm::ConfirmTicket;
use crate::error::{Advice, Error, Result};
use crate::input::normalize_phone;
use crate::models::{Session, SmsSent};
use crate::phone::{mask_phone, shown_noise};
use crate::request::{Credential, Request};
use crate::secret::Secret;

/// The exception type of the `phoneNoise` defect's answer.
const DEFECT_TYPE: &str = "System.ArgumentOutOfRangeException";

/// The parameter its message names: "Index was out of range. Must be non-negative and less
/// than or equal to the size of the collection. (Parameter 'startIndex')".
const DEFECT_PARAMETER: &str = "startIndex";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhoneBody<'a> {
    mobile_phone: &'a str,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct SentAnswer {
    #[serde(default)]
    phone_noise: Option<String>,
    #[serde(default)]
    expires: Option<String>,
}

impl Authentication<'_> {
    /// Sets the phone number of a user who has none activated yet (`POST
    /// authentication/setphone`), with the `PhoneActivation` ticket of an SMS login
    /// ([`LoginOutcome::SmsPhoneRequired`]); the server saves it (not activated until a code
    /// is checked) and sends the first code, unless one is still valid.
    ///
    /// The number is normalized as the server does ([`normalize_phone`](crate::normalize_phone))
    /// and sent as digits. The ticket goes in the `Confirm` header and **nothing else**: no
    /// token and no cookie, even when the client has a token (the server would set the phone
    /// of the token's user). Sent once, never retried (a resend is
    /// [`send_sms`](Self::send_sms)).
    ///
    /// For a number of 10 or more digits the server sends the SMS and then answers `400` (its
    /// `phoneNoise` defect): that is a success here, with
    /// [`SmsSent::server_mask_failed`] set and the number masked by the crate.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a number without digits
    /// (nothing is sent); [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) for an
    /// invalid or expired ticket (an hour), [`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden)
    /// for a ticket of another type; [`ErrorKind::Server`](crate::ErrorKind::Server) for the
    /// server's `500`s: a phone already activated ("To change the number, you need to delete
    /// your current phone number"), no SMS provider, too many codes.
    ///
    /// ```no_run
    /// use docspace_tfa::{Client, LoginOutcome};
    ///
    /// let client = Client::builder().base_url("https://portal.example.com").build()?;
    /// if let LoginOutcome::SmsPhoneRequired { ticket } = client.auth().login("bot@example.com", "pw")? {
    ///     let sent = client.auth().set_phone(&ticket, "+1 (234) 567-8901")?;
    ///     println!("code sent to {:?}", sent.phone_noise);
    /// }
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn set_phone(&self, ticket: &ConfirmTicket, phone: &str) -> Result<SmsSent> {
        let digits = normalize_phone(phone)?;
        let sent = self.client.send(
            Request::new(
                Method::POST,
                "authentication/setphone",
                Credential::Ticket(ticket),
            )
            .json(&PhoneBody {
                mobile_phone: &digits,
            })?
            .also_redact(Some(&digits)),
        );
        let mut answer = sent_outcome(sent)?;
        answer.phone_digits = Some(digits.len());
        if answer.phone_noise.is_none() {
            answer.phone_noise = Some(mask_phone(&digits));
        }
        Ok(answer)
    }

    /// Sends a new SMS code to the user's phone (`POST authentication/sendsms`, anonymous with
    /// the credentials): a resend. Older unexpired codes stay valid. The server allows the
    /// first code and 5 resends in a row; the next fails until 10 minutes pass without one.
    /// Sent once, never retried.
    ///
    /// For a number of 10 or more digits the server sends the SMS and then answers `400` (its
    /// `phoneNoise` defect): that is a success here, with [`SmsSent::server_mask_failed`] set
    /// (the number is not known to the client, so [`SmsSent::phone_noise`] is `None`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for empty credentials;
    /// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) for wrong ones;
    /// [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited) for the login lock;
    /// [`ErrorKind::Server`](crate::ErrorKind::Server) when SMS does not apply to the user or
    /// the portal has no provider (`MethodAccessException`) or too many codes were sent
    /// ("You have sent too many text messages. Please try again later.");
    /// [`ErrorKind::BadRequest`](crate::ErrorKind::BadRequest) when the user has no phone.
    pub fn send_sms(&self, user_name: &str, password: impl Into<Secret>) -> Result<SmsSent> {
        let password = password.into();
        let sent = self.client.send(credentials_request(
            "authentication/sendsms",
            user_name,
            &password,
            None,
        )?);
        sent_outcome(sent)
    }

    /// Finishes an SMS login with the text message's code, as
    /// [`login_with_code`](Self::login_with_code) does (`POST authentication/{code}`, the code
    /// in the body with the credentials again), knowing where the code was sent: when `sent`
    /// says the server's `phoneNoise` defect applies ([`SmsSent::hits_server_defect`]: its
    /// mask failed, or the number has 10 or more digits), a `401` is explained as that defect,
    /// since the server gives a right code the same answer as a wrong one there.
    ///
    /// Build `sent` from what [`login`](Self::login), [`set_phone`](Self::set_phone) or
    /// [`send_sms`](Self::send_sms) returned, or with [`SmsSent::for_phone`] from the number.
    /// Backup codes are not accepted for SMS. Never retried.
    ///
    /// # Errors
    ///
    /// As [`login_with_code`](Self::login_with_code); the defect's `401` is
    /// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) with
    /// [`Error::is_server_defect`] and a message that names the ways out (the authenticator
    /// app, or a number of at most 9 digits).
    pub fn login_with_sms_code(
        &self,
        user_name: &str,
        password: impl Into<Secret>,
        code: &str,
        sent: &SmsSent,
    ) -> Result<Session> {
        match self.send_code(user_name, password.into(), code) {
            Err(e) if sent.hits_server_defect() && e.status() == Some(401) => {
                Err(Error::server_defect(e, Advice::SmsPhoneNoiseDefect))
            }
            other => other,
        }
    }
}

/// Whether an error is the server's `phoneNoise` defect: `400`
/// `System.ArgumentOutOfRangeException` about `startIndex`, which `setphone`, `sendsms` and
/// the login answer after the SMS was sent (`SmsSender.cs:95`).
pub(crate) fn is_phone_noise_defect(e: &Error) -> bool {
    e.status() == Some(400)
        && e.error_type() == Some(DEFECT_TYPE)
        && e.server_message()
            .is_some_and(|m| m.contains(DEFECT_PARAMETER))
}

/// `setphone`'s and `sendsms`'s answer: sent, or sent despite the defect.
fn sent_outcome(sent: Result<Reply>) -> Result<SmsSent> {
    match sent {
        Ok(reply) => {
            let answer: SentAnswer = reply.decode("SMS answer", Shape::Object)?;
            let phone_noise = server_noise(answer.phone_noise);
            Ok(SmsSent {
                server_masked: phone_noise.is_some(),
                phone_noise,
                expires: real_date(answer.expires),
                server_mask_failed: false,
                phone_digits: None,
            })
        }
        Err(e) if is_phone_noise_defect(&e) => Ok(SmsSent::mask_failed(None)),
        Err(e) => Err(e),
    }
}

/// The SMS outcomes of a login answer with `sms: true`.
pub(crate) fn outcome(
    reply: &Reply,
    confirm_url: Option<String>,
    phone_noise: Option<String>,
    expires: Option<String>,
) -> Result<LoginOutcome> {
    let phone_noise = server_noise(phone_noise);
    let activation = confirm_url
        .as_deref()
        .filter(|u| u.contains("PhoneActivation"));
    match (activation, phone_noise) {
        (Some(url), None) => {
            let ticket = ConfirmTicket::from_url(url, "")
                .map_err(|e| reply.decode_error("SMS challenge", e.to_string()))?;
            if !ticket.is_phone_activation() {
                return Err(reply.decode_error(
                    "SMS challenge",
                    "the confirm URL is not of type PhoneActivation".into(),
                ));
            }
            Ok(LoginOutcome::SmsPhoneRequired { ticket })
        }
        (_, phone_noise) => Ok(LoginOutcome::SmsCodeSent(SmsSent {
            server_masked: phone_noise.is_some(),
            phone_noise,
            expires: real_date(expires),
            server_mask_failed: false,
            phone_digits: None,
        })),
    }
}

/// The server's `phoneNoise`, unless empty, never a whole number nor anything but a mask: the
/// server shows fewer than 8 digits unmasked ([`shown_noise`]).
fn server_noise(noise: Option<String>) -> Option<String> {
    noise.and_then(|n| shown_noise(&n))
}

/// `expires` unless it is the server's "no date" (`0001-01-01T00:00:00`).
fn real_date(expires: Option<String>) -> Option<String> {
    expires.filter(|e| !e.trim().is_empty() && !e.starts_with("0001-01-01"))
}

impl SmsSent {
    /// Sent, but the server's mask failed (its `phoneNoise` defect); `phone` when known.
    pub(crate) fn mask_failed(phone: Option<&str>) -> Self {
        SmsSent {
            phone_noise: phone.map(mask_phone),
            expires: None,
            server_mask_failed: true,
            phone_digits: phone.map(|p| crate::phone::phone_digits(p).len()),
            server_masked: false,
        }
    }
}
