//! The session's life, on [`Authentication`]: whether the caller is signed in
//! (`GET authentication`), ending the session (`POST authentication/logout`), and checking a
//! confirm link (`POST authentication/confirm`). `docs/flow.md`, "The session's life", walks
//! through them; `docs/server.md` says what the server does and where.
//!
//! ```no_run
//! use docspace_tfa::Client;
//!
//! let client = Client::builder()
//!     .base_url("https://portal.example.com")
//!     .token("session-token-from-a-login")
//!     .build()?;
//! if client.auth().is_authenticated()? {
//!     client.auth().logout()?; // checks that the session really ended
//! }
//! # Ok::<(), docspace_tfa::Error>(())
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ureq::http::Method;

use crate::answer::Shape;
use crate::auth::Authentication;
use crate::error::{Error, ErrorKind, Result};
use crate::request::{Credential, Request};
use crate::text::{parse_query, query_of, query_param};

/// What `POST authentication/logout` answered, once `GET authentication` confirmed that the
/// session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedOut {
    /// The identity provider's logout URL, for a single-sign-on user whose portal has SAML
    /// single logout configured; `None` otherwise (the server's usual `null`).
    pub sso_logout_url: Option<String>,
}

/// The result of checking a confirm link (`result` of `POST authentication/confirm`, the
/// server's `EmailValidationKeyProvider.ValidationResult`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConfirmResult {
    /// `0`: the link and its key are valid.
    Ok,
    /// `1`: the key does not match the link (or a `TfaAuth` link was checked by a caller who
    /// is signed in: the server always answers `Invalid` then).
    Invalid,
    /// `2`: the key is genuine but its lifetime has passed (1 hour for the TFA, phone and
    /// `Auth` links; 7 days for the e-mailed ones). Ask for a new link.
    Expired,
    /// `3`: the portal's plan has no room for this (an invitation).
    TariffLimit,
    /// `4`: the invited user already exists.
    UserExisted,
    /// `5`: the invited user was removed from the room or portal.
    UserExcluded,
    /// `6`: the portal's storage or user quota refused it.
    QuotaFailed,
    /// A number this crate does not know, kept as the server sent it.
    Unknown(i64),
}

impl ConfirmResult {
    /// The server's number for a result.
    pub fn from_code(code: i64) -> Self {
        match code {
            0 => ConfirmResult::Ok,
            1 => ConfirmResult::Invalid,
            2 => ConfirmResult::Expired,
            3 => ConfirmResult::TariffLimit,
            4 => ConfirmResult::UserExisted,
            5 => ConfirmResult::UserExcluded,
            6 => ConfirmResult::QuotaFailed,
            other => ConfirmResult::Unknown(other),
        }
    }

    /// The server's number (`Ok` is `0`, …; an unknown one as received).
    pub fn code(self) -> i64 {
        match self {
            ConfirmResult::Ok => 0,
            ConfirmResult::Invalid => 1,
            ConfirmResult::Expired => 2,
            ConfirmResult::TariffLimit => 3,
            ConfirmResult::UserExisted => 4,
            ConfirmResult::UserExcluded => 5,
            ConfirmResult::QuotaFailed => 6,
            ConfirmResult::Unknown(code) => code,
        }
    }

    /// A stable `snake_case` name: `ok`, `invalid`, `expired`, `tariff_limit`,
    /// `user_existed`, `user_excluded`, `quota_failed`, or `unknown` (the CLI's `result`).
    ///
    /// ```
    /// use docspace_tfa::ConfirmResult;
    ///
    /// assert_eq!(ConfirmResult::from_code(2).as_str(), "expired");
    /// assert_eq!(ConfirmResult::from_code(42), ConfirmResult::Unknown(42));
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ConfirmResult::Ok => "ok",
            ConfirmResult::Invalid => "invalid",
            ConfirmResult::Expired => "expired",
            ConfirmResult::TariffLimit => "tariff_limit",
            ConfirmResult::UserExisted => "user_existed",
            ConfirmResult::UserExcluded => "user_excluded",
            ConfirmResult::QuotaFailed => "quota_failed",
            ConfirmResult::Unknown(_) => "unknown",
        }
    }
}

/// What `POST authentication/confirm` answered about a confirm link.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfirmCheck {
    /// The result.
    pub result: ConfirmResult,
    /// The e-mail the link was checked for, only when the result is
    /// [`Ok`](ConfirmResult::Ok) and the link named one (`email=` or `encemail=`): the TFA
    /// links (`TfaActivation`, `TfaAuth`) carry a `uid` instead, and come back without it.
    pub email: Option<String>,
}

/// The body of `POST authentication/confirm` (the server's `EmailValidationKeyModel`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ConfirmBody<'a> {
    key: &'a str,
    #[serde(rename = "type")]
    confirm_type: &'a str,
    #[serde(rename = "uiD", skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    enc_email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    empl_type: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    room_id: Option<String>,
}

#[derive(Deserialize)]
struct ConfirmAnswer {
    result: WireResult,
    #[serde(default)]
    email: Option<String>,
}

/// `result` as the server writes it (a number), or by name, as a server with a string-enum
/// converter would.
#[derive(Deserialize)]
#[serde(untagged)]
enum WireResult {
    Code(i64),
    Name(String),
}

impl WireResult {
    fn read(self) -> Option<ConfirmResult> {
        match self {
            WireResult::Code(code) => Some(ConfirmResult::from_code(code)),
            WireResult::Name(name) => {
                let squashed: String = name
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric())
                    .collect::<String>()
                    .to_ascii_lowercase();
                (0..=6)
                    .map(ConfirmResult::from_code)
                    .find(|r| r.as_str().replace('_', "") == squashed)
            }
        }
    }
}

impl Authentication<'_> {
    /// Whether the client's token is a live session or API key (`GET authentication`).
    ///
    /// Sent with the token when the client has one, anonymously otherwise. A caller who is
    /// not signed in (no token, or a token that was logged out or has expired) gets `false`:
    /// the server answers `200 false`, not `401`.
    ///
    /// # Errors
    ///
    /// Network, server and decode failures only; never for a signed-out caller.
    pub fn is_authenticated(&self) -> Result<bool> {
        let credential = if self.client.has_token() {
            Credential::Bearer
        } else {
            Credential::Anonymous
        };
        self.client
            .send(Request::new(Method::GET, "authentication", credential))?
            .decode_bool()
    }

    /// Ends the client's session (`POST authentication/logout`, no body), then checks with
    /// `GET authentication` that it really ended.
    ///
    /// The server ends only the session named by the `asc_auth_key` **cookie** (a logout
    /// with the token only in `Authorization` answers `200` and leaves the session alive), so
    /// the token is sent as that cookie.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] before anything is sent when the client has no token, or
    /// when the token is an API key (`sk-…`): a key is not a session (revoke it in the
    /// portal's settings instead). [`ErrorKind::Server`] when the portal answered the logout
    /// but `GET authentication` still says the session is signed in.
    pub fn logout(&self) -> Result<LoggedOut> {
        const OPERATION: &str = "POST authentication/logout";
        if !self.client.has_token() {
            return Err(Error::invalid_input(
                "token",
                format!("{OPERATION} needs the session's token; set one on the builder, in DOCSPACE_TOKEN, or log in"),
            ));
        }
        if self.client.token_is_api_key() {
            return Err(Error::invalid_input(
                "token",
                "it is an API key (sk-…), not a session: there is nothing to log out; revoke \
                 the key in the portal's settings (Developer Tools, API keys) instead",
            ));
        }
        let reply = self.client.send(Request::new(
            Method::POST,
            "authentication/logout",
            Credential::Cookie,
        ))?;
        let sso_logout_url = match &reply.value {
            Value::String(url) if !url.trim().is_empty() => Some(url.clone()),
            Value::Null | Value::String(_) => None,
            _ => {
                return Err(reply.decode_error(
                    "logout answer",
                    "the answer is neither null nor a URL string".into(),
                ))
            }
        };
        if self.is_authenticated()? {
            return Err(Error::precondition(
                OPERATION,
                ErrorKind::Server,
                "the portal answered the logout, but GET authentication still says the session \
                 is signed in: it did not end. Try again, or end it in the portal's Active \
                 connections (PUT security/activeconnections/logout/{loginEventId})",
            ));
        }
        Ok(LoggedOut { sso_logout_url })
    }

    /// Checks a confirm link (`POST authentication/confirm`, anonymous): whether its key is
    /// valid, expired or something else, without using it.
    ///
    /// `url` is the link (or only its query): `type` is required, and `uid`, `email`,
    /// `encemail`, `first`, `emplType`, `roomId` are sent when present. The key is `key`, or
    /// else the link's own `key` parameter (e-mailed and phone links carry one; the TFA links
    /// deliver theirs in the `asc_confirm_key_<type>` cookie, so pass it). The key is never
    /// shown in an error.
    ///
    /// ```no_run
    /// use docspace_tfa::{Client, ConfirmResult};
    /// # let client = Client::from_env()?;
    /// let check = client.auth().check_confirm(
    ///     "https://portal.example.com/confirm/TfaAuth?type=TfaAuth&uid=9b5e6c9e-1b9c-4c2e-8f4a-1f6f2b1c0e11",
    ///     Some("1700000000.ABCDEF"),
    /// )?;
    /// if check.result == ConfirmResult::Expired {
    ///     println!("the link expired: log in again for a new one");
    /// }
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] before anything is sent when the link has no `type` or no
    /// key is given; [`ErrorKind::BadRequest`] when the server cannot read the link's fields
    /// (a malformed `email` or `uid`, an unknown `type`).
    pub fn check_confirm(&self, url: &str, key: Option<&str>) -> Result<ConfirmCheck> {
        let query = query_of(url).unwrap_or(url).trim_start_matches('?');
        let pairs = parse_query(query);
        let find = |name: &str| query_param(&pairs, name).filter(|v| !v.trim().is_empty());
        let confirm_type = find("type").ok_or_else(|| {
            Error::invalid_input("confirm URL", "the query has no `type` parameter")
        })?;
        let key = key
            .map(str::to_owned)
            .filter(|k| !k.trim().is_empty())
            .or_else(|| find("key"))
            .ok_or_else(|| {
                Error::invalid_input(
                    "confirm key",
                    format!(
                        "the link has no `key`; pass the key (for a TFA link, the value of the \
                         asc_confirm_key_{confirm_type} cookie)"
                    ),
                )
            })?;
        let empl_type = find("emplType").map(|t| match t.trim().parse::<i64>() {
            Ok(n) => Value::from(n),
            Err(_) => Value::from(t),
        });
        let body = ConfirmBody {
            key: key.trim(),
            confirm_type: confirm_type.trim(),
            uid: find("uid"),
            email: find("email"),
            enc_email: find("encemail"),
            first: find("first"),
            empl_type,
            room_id: find("roomId"),
        };
        let reply = self.client.send(
            Request::new(
                Method::POST,
                "authentication/confirm",
                Credential::Anonymous,
            )
            .also_redact(Some(&key))
            .json(&body)?,
        )?;
        let answer: ConfirmAnswer = reply.decode("confirm result", Shape::Object)?;
        let result = answer.result.read().ok_or_else(|| {
            reply.decode_error("confirm result", "`result` is not a known name".into())
        })?;
        Ok(ConfirmCheck {
            email: answer
                .email
                .filter(|e| result == ConfirmResult::Ok && !e.trim().is_empty()),
            result,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_round_trip_through_their_numbers() {
        for code in -1..9 {
            let result = ConfirmResult::from_code(code);
            assert_eq!(result.code(), code);
            assert_eq!(
                result.as_str() == "unknown",
                !(0..=6).contains(&code),
                "{code}"
            );
        }
    }
}
