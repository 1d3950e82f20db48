//! Credentials: what a request carries (`Authorization`, the `asc_auth_key` cookie, the
//! `Confirm` header and the `asc_confirm_key_<type>` cookie), whom it acts for (the signed-in
//! user, or the `confirm` scheme's rules), and the cookies the portal sets (`docs/server.md`,
//! "Login" and "The settings endpoints"; `docs/emulator.md`, "What it models": Credentials).

use std::fmt;

use super::clock::http_date;
use super::http::{json_body, string_field, Incoming, Outgoing};
use super::refusals::{error, refusal};
use super::state::State;
use super::tickets::{decrypt_email, KeyCheck, TFA_ACTIVATION, TFA_AUTH};
use crate::messages::ServerMessage;
// The cookie names and the decoding of query and cookie components are the client's own
// (`crate::text`): one definition for both sides of the wire.
pub(crate) use crate::text::{decode_component as decode, AUTH_COOKIE, CONFIRM_COOKIE_PREFIX};

/// The credentials a request carries. `Debug` leaves the token and key out.
#[derive(Clone, Default)]
pub(crate) struct Creds {
    /// The token from `Authorization` (with or without `Bearer`) or, failing that, the
    /// `asc_auth_key` cookie.
    pub(crate) token: Option<String>,
    pub(crate) has_authorization: bool,
    pub(crate) has_auth_cookie: bool,
    /// The `asc_auth_key` cookie alone: the one session `POST authentication/logout` ends.
    pub(crate) auth_cookie: Option<String>,
    pub(crate) confirm: Option<ConfirmSeen>,
    /// Every `asc_confirm_key_<type>` cookie as `(type, key)`: `POST authentication/confirm`
    /// reads the one of the body's type when the body has no key.
    pub(crate) confirm_cookies: Vec<(String, String)>,
}

/// A `Confirm` header as received.
#[derive(Clone, Default)]
pub(crate) struct ConfirmSeen {
    pub(crate) confirm_type: String,
    pub(crate) uid: String,
    /// The e-mail a phone ticket names its user by: `encemail` decrypted, or a plain `email`
    /// (`EmailValidationKeyModelHelper.cs:57-96` in the server).
    pub(crate) email: String,
    /// The key, from the header or else from the `asc_confirm_key_<type>` cookie.
    pub(crate) key: Option<String>,
    pub(crate) key_in_header: bool,
    pub(crate) key_in_cookie: bool,
}

impl fmt::Debug for Creds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Creds")
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("has_authorization", &self.has_authorization)
            .field("has_auth_cookie", &self.has_auth_cookie)
            .field("auth_cookie", &self.auth_cookie.as_ref().map(|_| "***"))
            .field("confirm", &self.confirm)
            .field(
                "confirm_cookies",
                &self
                    .confirm_cookies
                    .iter()
                    .map(|(t, _)| (t.as_str(), "***"))
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl fmt::Debug for ConfirmSeen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfirmSeen")
            .field("confirm_type", &self.confirm_type)
            .field("uid", &self.uid)
            .field("email", &self.email)
            .field("key", &self.key.as_ref().map(|_| "***"))
            .field("key_in_header", &self.key_in_header)
            .field("key_in_cookie", &self.key_in_cookie)
            .finish()
    }
}

impl Creds {
    /// Reads `Authorization`, `Cookie` and `Confirm`.
    pub(crate) fn from_headers(headers: &[(String, String)]) -> Self {
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let cookies: Vec<(String, String)> = headers
            .iter()
            .filter(|(n, _)| n == "cookie")
            .flat_map(|(_, v)| v.split(';'))
            .filter_map(|pair| {
                let (n, v) = pair.split_once('=')?;
                Some((n.trim().to_owned(), decode(v.trim().trim_matches('"'))))
            })
            .collect();
        let cookie = |name: &str| {
            cookies
                .iter()
                .find(|(n, _)| n == name)
                .or_else(|| cookies.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)))
                .map(|(_, v)| v.clone())
                .filter(|v| !v.is_empty())
        };
        let authorization = header("authorization").map(str::trim);
        let auth_cookie = cookie(AUTH_COOKIE);
        let bearer = authorization.map(|a| match a.split_once(' ') {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim().to_owned(),
            _ => a.to_owned(),
        });
        let confirm = header("confirm").map(|value| {
            let pairs: Vec<(String, String)> = value
                .trim()
                .trim_start_matches('?')
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (decode(k), decode(v))
                })
                .collect();
            let get = |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.trim().to_owned())
                    .filter(|v| !v.is_empty())
            };
            let confirm_type = get("type").unwrap_or_default();
            let header_key = get("key");
            let cookie_key = if confirm_type.is_empty() {
                None
            } else {
                cookie(&format!("{CONFIRM_COOKIE_PREFIX}{confirm_type}"))
            };
            ConfirmSeen {
                uid: get("uid").unwrap_or_default(),
                email: get("encemail")
                    .and_then(|e| decrypt_email(&e))
                    .or_else(|| get("email"))
                    .unwrap_or_default(),
                key_in_header: header_key.is_some(),
                key_in_cookie: cookie_key.is_some(),
                key: header_key.or(cookie_key),
                confirm_type,
            }
        });
        let confirm_cookies = cookies
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(n, v)| {
                let prefix = n.get(..CONFIRM_COOKIE_PREFIX.len())?;
                prefix
                    .eq_ignore_ascii_case(CONFIRM_COOKIE_PREFIX)
                    .then(|| (n[CONFIRM_COOKIE_PREFIX.len()..].to_owned(), v.clone()))
            })
            .collect();
        Creds {
            has_authorization: authorization.is_some(),
            has_auth_cookie: auth_cookie.is_some(),
            token: bearer.filter(|t| !t.is_empty()).or(auth_cookie.clone()),
            auth_cookie,
            confirm,
            confirm_cookies,
        }
    }
}

/// The signed-in user of a request, or an empty-body `401`.
pub(crate) fn signed_in(state: &State, creds: &Creds) -> std::result::Result<usize, Outgoing> {
    creds
        .token
        .as_deref()
        .and_then(|t| state.user_for_token(t))
        .ok_or_else(|| Outgoing::empty(401))
}

/// The user a body's `userName` and `password` name, as `GetUserAsync` finds them (with the
/// login lock, `BruteForceLoginManager`), and refused when disabled: the credentials of `POST
/// authentication` and `POST authentication/sendsms`.
pub(crate) fn credentials_user(
    state: &mut State,
    req: &Incoming<'_>,
) -> std::result::Result<usize, Outgoing> {
    let body = json_body(req)?;
    let user_name = string_field(&body, "userName")?;
    let password = string_field(&body, "password")?;
    let now = state.now();
    let limit = state.config.attempt_limit;
    let counter = state
        .login_attempts
        .entry(user_name.trim().to_ascii_lowercase())
        .or_default();
    if !counter.try_count(limit, now) {
        // `ErrorTooManyLoginAttempts` (Resource.resx:867), without a final full stop, as
        // ONLYOFFICE's live API tests assert it.
        return Err(error(
            403,
            "Too many login attempts. Please try again later",
            None,
        ));
    }
    let user = state
        .user_index_by_email(&user_name)
        .filter(|&u| !password.is_empty() && state.users[u].password.expose() == password)
        .ok_or_else(|| error(401, "User authentication failed", None))?;
    if let Some(c) = state
        .login_attempts
        .get_mut(&user_name.trim().to_ascii_lowercase())
    {
        c.forgive(now);
    }
    if state.users[user].disabled {
        // `AuthenticateMe`: a correct password for an account that is not active.
        return Err(refusal(state, ServerMessage::UserDisabled));
    }
    Ok(user)
}

/// `asc_confirm_key_<type>=<key>; path=/; …`.
pub(crate) fn confirm_cookie(confirm_type: &str, key: &str) -> String {
    format!("{CONFIRM_COOKIE_PREFIX}{confirm_type}={key}; path=/; samesite=lax; httponly")
}

/// Clears `asc_confirm_key_<type>`.
pub(crate) fn clear_confirm_cookie(confirm_type: &str) -> String {
    format!(
        "{CONFIRM_COOKIE_PREFIX}{confirm_type}=; expires={}; path=/; samesite=lax; httponly",
        http_date(0)
    )
}

/// `asc_auth_key=<token>; …`: a session cookie when `session` is true, else persistent.
pub(crate) fn auth_cookie(state: &State, token: &str, session: bool) -> String {
    if session {
        format!("{AUTH_COOKIE}={token}; path=/; samesite=lax; httponly")
    } else {
        let expires = http_date(state.now().saturating_add(state.config.session_lifetime));
        format!("{AUTH_COOKIE}={token}; expires={expires}; path=/; samesite=lax; httponly")
    }
}

/// Resolves who a confirm-guarded request acts for, as the portal's `confirm` scheme does:
///
/// - a `Confirm` ticket whose type is not allowed here: `403` (authenticated, wrong role);
/// - a wrong or expired key, an unknown user, missing parts: `401`;
/// - a `TfaAuth` ticket on a request that is also authenticated: `401`;
/// - a `TfaActivation` ticket with a valid token: the **token's** user;
/// - no ticket: `401` anonymous, `403` with only a token — unless the lenient mode accepts
///   the token's user.
///
/// Returns the user and the ticket's type (for clearing its cookie).
pub(crate) fn confirm_user(
    state: &State,
    creds: &Creds,
    allowed: &[&str],
) -> std::result::Result<(usize, Option<String>), Outgoing> {
    let token_user = creds.token.as_deref().and_then(|t| state.user_for_token(t));
    let Some(ticket) = &creds.confirm else {
        return match token_user {
            Some(u) if state.config.lenient_bearer => Ok((u, None)),
            Some(_) => Err(Outgoing::empty(403)),
            None => Err(Outgoing::empty(401)),
        };
    };
    let (Some(key), false, false) = (
        ticket.key.as_deref(),
        ticket.confirm_type.is_empty(),
        ticket.uid.is_empty(),
    ) else {
        return Err(Outgoing::empty(401));
    };
    let Some(ticket_user) = state.user_index(&ticket.uid) else {
        return Err(Outgoing::empty(401));
    };
    if state.check_key(&ticket.confirm_type, &ticket.uid, key) != KeyCheck::Ok {
        return Err(Outgoing::empty(401));
    }
    let Some(confirm_type) = allowed
        .iter()
        .find(|t| t.eq_ignore_ascii_case(&ticket.confirm_type))
    else {
        return Err(Outgoing::empty(403));
    };
    if *confirm_type == TFA_AUTH && token_user.is_some() {
        return Err(Outgoing::empty(401));
    }
    let user = match token_user {
        Some(u) if *confirm_type == TFA_ACTIVATION => u,
        _ => ticket_user,
    };
    Ok((user, Some((*confirm_type).to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_ascii_lowercase(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn credentials_are_read_from_every_place() {
        let c = Creds::from_headers(&headers(&[("Authorization", "Bearer sk-1")]));
        assert_eq!(c.token.as_deref(), Some("sk-1"));
        let c = Creds::from_headers(&headers(&[("Authorization", "sk-2")]));
        assert_eq!(c.token.as_deref(), Some("sk-2"));
        let c = Creds::from_headers(&headers(&[("Cookie", "a=b; asc_auth_key=tok")]));
        assert_eq!(c.token.as_deref(), Some("tok"));
        assert!(c.has_auth_cookie && !c.has_authorization);
        let c = Creds::from_headers(&headers(&[
            ("Confirm", "type=TfaAuth&uid=u%2D1"),
            ("Cookie", "asc_confirm_key_TfaAuth=1.ab%2Bc"),
        ]));
        let t = c.confirm.unwrap();
        assert_eq!(
            (t.confirm_type.as_str(), t.uid.as_str()),
            ("TfaAuth", "u-1")
        );
        assert_eq!(t.key.as_deref(), Some("1.ab+c"));
        assert!(t.key_in_cookie && !t.key_in_header);
        let c = Creds::from_headers(&headers(&[("Confirm", "type=TfaActivation&uid=u&key=k")]));
        assert!(c.confirm.unwrap().key_in_header);
    }

    #[test]
    fn credentials_debug_hides_token_and_key() {
        let c = Creds::from_headers(&headers(&[
            ("Authorization", "Bearer sk-secret-token"),
            ("Confirm", "type=TfaAuth&uid=u-1&key=1.secret-key"),
        ]));
        let shown = format!("{c:?} {c:#?}");
        assert!(
            !shown.contains("sk-secret-token") && !shown.contains("secret-key"),
            "{shown}"
        );
        assert!(
            shown.contains("TfaAuth") && shown.contains("u-1"),
            "{shown}"
        );
    }
}
