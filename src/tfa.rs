//! The TFA settings endpoints: `/api/2.0/settings/tfaapp…`.
//!
//! Get a handler with [`Client::tfa`]. Each method is one request; which credential it carries
//! is part of its contract:
//!
//! | method | request | credential |
//! |---|---|---|
//! | [`methods`](Tfa::methods) | `GET settings/tfaapp` | bearer token |
//! | [`set_policy`](Tfa::set_policy) | `PUT settings/tfaapp` | bearer token (admin) |
//! | [`set_policy_with_link`](Tfa::set_policy_with_link) | `PUT settings/tfaappwithlink` | bearer token (admin) |
//! | [`confirm`](Tfa::confirm) | `GET settings/tfaapp/confirm` | bearer token |
//! | [`setup`](Tfa::setup) / [`setup_with`](Tfa::setup_with) | `GET settings/tfaapp/confirm`, then `GET settings/tfaapp/setup` / only the latter | bearer token (for the caller's own ticket) / confirm ticket |
//! | [`validate`](Tfa::validate) / [`validate_with`](Tfa::validate_with) | `GET settings/tfaapp/confirm`, then `POST settings/tfaapp/validate` / only the latter | bearer token (for the caller's own ticket) / confirm ticket |
//! | [`link`](Tfa::link) | confirm, setup, validate, `GET settings/tfaappcodes` | bearer token |
//! | [`backup_codes`](Tfa::backup_codes) | `GET settings/tfaappcodes` | bearer token |
//! | [`regenerate_backup_codes`](Tfa::regenerate_backup_codes) | `PUT settings/tfaappnewcodes` | bearer token |
//! | [`unlink_self`](Tfa::unlink_self) / [`unlink_user`](Tfa::unlink_user) | `PUT settings/tfaappnewapp` | bearer token |

use serde::Serialize;
use serde_json::Value;
use ureq::http::Method;

use crate::answer::{Reply, Shape};
use crate::client::Client;
use crate::confirm::ConfirmTicket;
use crate::error::{Error, Result};
use crate::input::normalize_code;
use crate::models::{
    BackupCode, ConfirmData, SetupCode, TfaMethod, TfaMethodId, TfaPolicy, TfaType, Validation,
};
use crate::request::{Credential, ErrorClass, Request};
use crate::secret::Secret;
use crate::text::{confirm_key_cookie, AUTH_COOKIE};
use crate::typed::{self, Decoded};

/// Handler for the TFA settings endpoints; see [`Client::tfa`].
#[derive(Debug, Clone, Copy)]
pub struct Tfa<'c> {
    pub(crate) client: &'c Client,
}

#[derive(Serialize)]
struct ValidateBody<'a> {
    code: &'a str,
    session: bool,
}

#[derive(Serialize)]
struct UnlinkBody<'a> {
    id: &'a str,
}

impl<'c> Tfa<'c> {
    pub(crate) fn new(client: &'c Client) -> Self {
        Tfa { client }
    }

    /// Lists the portal's TFA methods (`GET settings/tfaapp`): at most an `sms` and an `app`
    /// entry, possibly none.
    ///
    /// Any signed-in member may call it. Changes nothing; retried on transient failures.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) without a valid token, and
    /// the transport and decode errors every call can have.
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// for method in client.tfa().methods()? {
    ///     println!("{}: enabled={} available={}", method.id.as_str(), method.enabled, method.available);
    /// }
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn methods(&self) -> Result<Vec<TfaMethod>> {
        self.client
            .send_fast(
                Request::new(Method::GET, "settings/tfaapp", Credential::Bearer),
                typed::list_of_objects,
            )?
            .or_general(|reply| {
                if reply.value.is_null() {
                    return Ok(Vec::new());
                }
                reply.decode("list of TFA methods", Shape::ListOfObjects)
            })
    }

    /// Sets the portal's TFA policy (`PUT settings/tfaapp`). Returns `true` when SMS or the app
    /// method was switched on, `false` when TFA was switched off.
    ///
    /// Owner or admin only. Switching a method on **signs out every session on the portal**,
    /// the caller's included: log in again afterwards. Sent once, never retried.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden) for a caller who is not an admin
    /// (or who names the owner in `mandatory_users` without setting their own
    /// [`caller_id`](TfaPolicy::caller_id)); [`ErrorKind::NotAvailable`](crate::ErrorKind::NotAvailable)
    /// when the plan does not offer the method; [`ErrorKind::BadRequest`](crate::ErrorKind::BadRequest)
    /// for a policy the server cannot read; [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput),
    /// before anything is sent, for a trusted IP the server would break on or ignore, or an id
    /// that is not a GUID ([`TfaPolicy::check`]).
    ///
    /// ```no_run
    /// use docspace_tfa::{TfaPolicy, TfaType};
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let switched_on = client.tfa().set_policy(&TfaPolicy::new(TfaType::App))?;
    /// assert!(switched_on);
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn set_policy(&self, policy: &TfaPolicy) -> Result<bool> {
        policy.check()?;
        let reply = self
            .client
            .send(Request::new(Method::PUT, "settings/tfaapp", Credential::Bearer).json(policy)?)?;
        reply.decode_bool()
    }

    /// Sets the portal's TFA policy like [`set_policy`](Self::set_policy)
    /// (`PUT settings/tfaappwithlink`), and returns the caller's own confirm URL, or `None`
    /// when the server answers `""` (TFA off) — or when the policy was saved but TFA does not
    /// apply to the caller (see below).
    ///
    /// Owner or admin only; signs out every session like `set_policy`. Sent once.
    ///
    /// **A server bug, recovered from.** When TFA does not apply to the caller (a trusted IP),
    /// the server saves the policy, resets every session, and then fails with a `500`
    /// (`NullReferenceException`) instead of answering `""`. On a `500` this method reads the
    /// policy back (`GET settings/tfaapp`); when the switched-on method and its three lists are
    /// what was sent, the change happened and the answer is `Ok(None)`. Otherwise (or when the
    /// read fails, for example because the call signed out the session it used: an API key
    /// survives it) the `500` is returned.
    ///
    /// # Errors
    ///
    /// As for [`set_policy`](Self::set_policy), and [`ErrorKind::Server`](crate::ErrorKind::Server)
    /// for a `500` that the read-back does not explain.
    pub fn set_policy_with_link(&self, policy: &TfaPolicy) -> Result<Option<String>> {
        policy.check()?;
        let reply = self.client.send(
            Request::new(Method::PUT, "settings/tfaappwithlink", Credential::Bearer)
                .json(policy)?,
        );
        let reply = match reply {
            Ok(reply) => reply,
            Err(e) if e.status() == Some(500) && policy.tfa_type != TfaType::None => {
                return match self.methods() {
                    Ok(methods) if policy_was_saved(policy, &methods) => Ok(None),
                    _ => Err(e),
                };
            }
            Err(e) => return Err(e),
        };
        match &reply.value {
            Value::Null => Ok(None),
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            _ => Err(reply.decode_error("confirm URL string", "not a string".into())),
        }
    }

    /// The caller's confirm data (`GET settings/tfaapp/confirm`): the URL and key of a ticket
    /// for [`setup_with`](Self::setup_with) and [`validate_with`](Self::validate_with), or
    /// `None` when TFA does not apply to the caller.
    ///
    /// Accepts both shapes servers answer: `{url, cookieName, cookieValue}` (newer) and a bare
    /// URL string with the key only in `Set-Cookie` (older); in the second case the key is
    /// taken from the cookie. For the SMS method there is no key (`cookie_value` is `None`).
    /// Any signed-in member may call it; changes nothing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) without a valid token.
    ///
    /// ```no_run
    /// use docspace_tfa::ConfirmTicket;
    /// # let client = docspace_tfa::Client::from_env()?;
    /// if let Some(data) = client.tfa().confirm()? {
    ///     let ticket = ConfirmTicket::from_confirm_data(&data)?;
    ///     let setup = client.tfa().setup_with(&ticket)?;
    /// }
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn confirm(&self) -> Result<Option<ConfirmData>> {
        self.confirm_guarding(None)
    }

    /// [`confirm`](Self::confirm), keeping `later_secret` (the code a validate that follows
    /// will send) out of its errors too.
    pub(crate) fn confirm_guarding(
        &self,
        later_secret: Option<&str>,
    ) -> Result<Option<ConfirmData>> {
        let reply = self.client.send(
            Request::new(Method::GET, "settings/tfaapp/confirm", Credential::Bearer)
                .also_redact(later_secret),
        )?;
        let mut data: ConfirmData = match &reply.value {
            Value::Null => return Ok(None),
            Value::String(url) if url.trim().is_empty() => return Ok(None),
            Value::String(url) => ConfirmData {
                url: url.clone(),
                cookie_name: None,
                cookie_value: None,
            },
            _ => reply.decode("confirm data", Shape::Object)?,
        };
        if data.cookie_value.as_ref().is_none_or(Secret::is_empty) {
            // Older servers: the key comes only as a cookie, the named one or any
            // `asc_confirm_key_*` one.
            let preferred = data.cookie_name.clone().unwrap_or_default();
            if let Some((name, key)) = confirm_key_cookie(reply.set_cookies(), &preferred) {
                data.cookie_name = Some(name);
                data.cookie_value = Some(Secret::new(key));
            }
        }
        Ok(Some(data))
    }

    /// Gets the setup code with a confirm ticket (`GET settings/tfaapp/setup`, header
    /// `Confirm`, no `Authorization`). The ticket must be of type `TfaActivation`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized) for a wrong or expired key;
    /// [`ErrorKind::NotAvailable`](crate::ErrorKind::NotAvailable) when the app method is off or
    /// the user already linked an app.
    ///
    /// ```no_run
    /// use docspace_tfa::ConfirmTicket;
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let ticket = ConfirmTicket::from_url(
    ///     "https://portal.example.com/confirm/TfaActivation?type=TfaActivation&uid=…",
    ///     "key-from-the-cookie",
    /// )?;
    /// let setup = client.tfa().setup_with(&ticket)?;
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn setup_with(&self, ticket: &ConfirmTicket) -> Result<SetupCode> {
        self.setup_as(Credential::Ticket(ticket))
    }

    pub(crate) fn setup_as(&self, credential: Credential<'_>) -> Result<SetupCode> {
        self.client
            .send_fast(
                Request::new(Method::GET, "settings/tfaapp/setup", credential),
                typed::object,
            )?
            .or_general(|reply| reply.decode("setup code", Shape::Object))
    }

    /// Validates a code with a confirm ticket (`POST settings/tfaapp/validate`, body
    /// `{"code": "…", "session": false}`, header `Confirm`, no `Authorization`).
    ///
    /// The answer says whether this code **completed the first activation**
    /// ([`Validation::first_activation`] is `true`: the app is now linked and backup codes were
    /// generated) or not (`false`: the app was already linked and the code re-checked it — or
    /// the portal's app method is off and the code was not checked at all). `false` does
    /// **not** mean a wrong code: a wrong code is an error. An unused backup code is accepted
    /// in place of an app code, and spent.
    ///
    /// The server also signs the user in; the session token it sets is in
    /// [`Validation::session_token`].
    ///
    /// # Errors
    ///
    /// - [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput): an empty or impossible
    ///   code (nothing is sent);
    /// - [`ErrorKind::InvalidCode`](crate::ErrorKind::InvalidCode): the server rejected the code;
    /// - [`ErrorKind::RateLimited`](crate::ErrorKind::RateLimited): more than the portal's
    ///   attempt limit (5 by default) in a minute; wait a minute;
    /// - [`ErrorKind::Unauthorized`](crate::ErrorKind::Unauthorized): a wrong or expired ticket,
    ///   or a `TfaAuth` ticket sent with a token.
    ///
    /// ```no_run
    /// use docspace_tfa::{ConfirmTicket, ErrorKind};
    /// # let client = docspace_tfa::Client::from_env()?;
    /// # let ticket: ConfirmTicket = unimplemented!();
    /// match client.tfa().validate_with(&ticket, "123 456") {
    ///     Ok(v) if v.first_activation => println!("authenticator linked"),
    ///     Ok(_) => println!("code accepted; the app was already linked"),
    ///     Err(e) if e.kind() == ErrorKind::InvalidCode => println!("wrong code, try again"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn validate_with(&self, ticket: &ConfirmTicket, code: &str) -> Result<Validation> {
        self.validate_as(Credential::Ticket(ticket), code)
    }

    pub(crate) fn validate_as(&self, credential: Credential<'_>, code: &str) -> Result<Validation> {
        let code = normalize_code(code)?;
        let answer = self.client.send_fast(
            Request::new(Method::POST, "settings/tfaapp/validate", credential)
                .json(&ValidateBody {
                    code: &code,
                    session: false,
                })?
                .errors(ErrorClass::Validate),
            typed::boolean,
        )?;
        Ok(match answer {
            Decoded::Fast(first_activation, headers) => Validation {
                first_activation,
                session_token: crate::answer::cookie_in(&headers, AUTH_COOKIE),
            },
            Decoded::General(reply) => Validation {
                first_activation: reply.decode_bool()?,
                session_token: reply.cookie(AUTH_COOKIE),
            },
        })
    }

    /// The caller's backup codes (`GET settings/tfaappcodes`), used ones included.
    ///
    /// A signed-in member with a linked app. Changes nothing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotAvailable`](crate::ErrorKind::NotAvailable) when the app method is off or
    /// no app is linked.
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let unused = client.tfa().backup_codes()?.into_iter().filter(|c| !c.is_used).count();
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn backup_codes(&self) -> Result<Vec<BackupCode>> {
        self.client
            .send_fast(
                Request::new(Method::GET, "settings/tfaappcodes", Credential::Bearer),
                typed::list_of_objects,
            )?
            .or_general(|reply| {
                if reply.value.is_null() {
                    return Ok(Vec::new());
                }
                reply.decode("list of backup codes", Shape::ListOfObjects)
            })
    }

    /// Replaces the caller's backup codes with a new set (`PUT settings/tfaappnewcodes`).
    ///
    /// **Not idempotent: every call discards the previous codes.** Store the answer before
    /// doing anything else; a lost answer means the codes are gone. It is sent exactly once,
    /// never retried, even after a network error (call [`backup_codes`](Self::backup_codes) to
    /// see what the server holds).
    ///
    /// # Errors
    ///
    /// As for [`backup_codes`](Self::backup_codes).
    pub fn regenerate_backup_codes(&self) -> Result<Vec<BackupCode>> {
        self.client
            .send_fast(
                Request::new(Method::PUT, "settings/tfaappnewcodes", Credential::Bearer),
                typed::list_of_objects,
            )?
            .or_general(|reply| reply.decode("list of backup codes", Shape::ListOfObjects))
    }

    /// Unlinks the caller's own authenticator app (`PUT settings/tfaappnewapp` with the
    /// caller's own id, learned from `GET people/@self`) and returns the ticket for linking a
    /// new one: the activation URL from the answer and the key from its `Set-Cookie`.
    ///
    /// Two requests: `people/@self`, then the unlink (sent once).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::NotAvailable`](crate::ErrorKind::NotAvailable) when no app is linked;
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) when the answer lacks the URL or the key.
    ///
    /// ```no_run
    /// # let client = docspace_tfa::Client::from_env()?;
    /// let ticket = client.tfa().unlink_self()?;
    /// let setup = client.tfa().setup_with(&ticket)?; // link a new app
    /// # Ok::<(), docspace_tfa::Error>(())
    /// ```
    pub fn unlink_self(&self) -> Result<ConfirmTicket> {
        let me = self.client.people().me()?;
        let reply = self.unlink_request(&me.id)?;
        let url = match &reply.value {
            Value::String(s) if !s.trim().is_empty() => s.clone(),
            _ => {
                return Err(reply.decode_error(
                    "activation URL",
                    "the answer carries no activation URL".into(),
                ))
            }
        };
        ConfirmTicket::from_url_and_cookies(&url, reply.set_cookies())
            .map_err(|e| reply.decode_error("activation ticket", e.to_string()))
    }

    /// Unlinks another member's authenticator app (`PUT settings/tfaappnewapp` with their id).
    /// The member links a new app at their next login.
    ///
    /// The portal owner only. Sent once.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Forbidden`](crate::ErrorKind::Forbidden) for a caller who is not the owner or
    /// an unknown user; [`ErrorKind::NotAvailable`](crate::ErrorKind::NotAvailable) when the member
    /// has no app linked; [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for an empty
    /// id (the server cannot resolve it).
    pub fn unlink_user(&self, user_id: &str) -> Result<()> {
        self.unlink_request(user_id).map(|_| ())
    }

    fn unlink_request(&self, user_id: &str) -> Result<Reply> {
        let id = user_id.trim();
        if id.is_empty() || id.trim_matches(['0', '-']).is_empty() {
            return Err(Error::invalid_input(
                "user id",
                "it is empty; the server resolves no user from it",
            ));
        }
        self.client.send(
            Request::new(Method::PUT, "settings/tfaappnewapp", Credential::Bearer)
                .json(&UnlinkBody { id })?,
        )
    }
}

/// Whether `methods` (read back from `GET settings/tfaapp`) show `policy` saved: its method
/// switched on with the same three lists (in any order; user and group ids in any case).
fn policy_was_saved(policy: &TfaPolicy, methods: &[TfaMethod]) -> bool {
    let id = match policy.tfa_type {
        TfaType::App => TfaMethodId::App,
        TfaType::Sms => TfaMethodId::Sms,
        _ => return false,
    };
    let same = |sent: &[String], read: &Option<Vec<String>>, ignore_case: bool| {
        let norm = |v: &[String]| {
            let mut v: Vec<String> = v
                .iter()
                .map(|s| {
                    let s = s.trim();
                    if ignore_case {
                        s.to_ascii_lowercase()
                    } else {
                        s.to_owned()
                    }
                })
                .collect();
            v.sort();
            v
        };
        // A saved policy always has its lists: absent ones mean it was not saved.
        read.as_deref().is_some_and(|read| norm(sent) == norm(read))
    };
    methods.iter().any(|m| {
        m.id == id
            && m.enabled
            && same(&policy.trusted_ips, &m.trusted_ips, false)
            && same(&policy.mandatory_users, &m.mandatory_users, true)
            && same(&policy.mandatory_groups, &m.mandatory_groups, true)
    })
}
