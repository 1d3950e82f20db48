//! The session's life, as `AuthenticationController` answers it (`docs/emulator.md`, "The
//! session's life"): `GET authentication` (is the caller signed in), `POST
//! authentication/logout` (ends the cookie's session) and `POST authentication/confirm` (checks
//! a confirm link). Server lines are from `ONLYOFFICE/DocSpace-server` at v3.7.2.

use serde_json::{json, Value};

use super::clock::http_date;
use super::creds::{Creds, AUTH_COOKIE};
use super::http::{field, json_body, ok, string_field, Answer, Body, Context, Incoming, Outgoing};
use super::refusals::{error, Exception};
use super::state::State;
use super::tickets::{KeyCheck, PHONE_ACTIVATION, PHONE_AUTH, TFA_ACTIVATION, TFA_AUTH};

/// The server's `ConfirmType` names, in their declared order: a number in `type` is an index
/// into it (`common/ASC.Core.Common/Users/ConfirmTypeEnum.cs:44-160`, read by
/// `JsonStringEnumConverter`, names case-insensitively, numbers too).
const CONFIRM_TYPES: [&str; 19] = [
    "EmpInvite",
    "LinkInvite",
    "PortalSuspend",
    "PortalContinue",
    "PortalRemove",
    "DnsChange",
    "PortalOwnerChange",
    "Activation",
    "EmailChange",
    "EmailActivation",
    "PasswordChange",
    "ProfileRemove",
    "PhoneActivation",
    "PhoneAuth",
    "Auth",
    "TfaActivation",
    "TfaAuth",
    "Wizard",
    "GuestShareLink",
];

/// `ValidationResult` (`common/ASC.Core.Common/Security/EmailValidationKeyProvider.cs:42-64`).
const OK: u8 = 0;
const INVALID: u8 = 1;
const EXPIRED: u8 = 2;

/// `GET authentication` (`GetIsAuthentificated`, AuthenticationController.cs:89-96,
/// `[AllowAnonymous]`): `true` for a live token or cookie, `200 false` for anyone else (an
/// unknown or ended token included), never `401`.
pub(crate) fn is_authenticated(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let signed_in = creds
        .token
        .as_deref()
        .and_then(|t| state.user_for_token(t))
        .is_some();
    Ok(ok(ctx, req, json!(signed_in)))
}

/// `POST authentication/logout` (`Logout`, AuthenticationController.cs:372-409,
/// `[AllowAnonymous]`, no body read): ends only the session named by the `asc_auth_key`
/// **cookie** (the login event is read from it, :376-377), so a token sent only in
/// `Authorization` stays alive; answers `200` with `null` for every caller, and deletes the
/// cookie when it was sent (`CookiesManager.ClearCookies`, CookiesManager.cs:163-176).
pub(crate) fn logout(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let Some(cookie) = &creds.auth_cookie else {
        return Ok(ok(ctx, req, Value::Null));
    };
    // API keys are no login event: a key in the cookie ends nothing.
    state.sessions.remove(cookie);
    Ok(ok(ctx, req, Value::Null).cookie(clear_auth_cookie()))
}

/// Whether the request's `asc_auth_key` cookie names no live session or key.
pub(crate) fn cookie_is_stale(state: &State, creds: &Creds) -> bool {
    creds
        .auth_cookie
        .as_deref()
        .is_some_and(|c| state.user_for_token(c).is_none())
}

/// `asc_auth_key=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/`: the auth cookie deleted, as
/// `Response.Cookies.Delete` writes it.
pub(crate) fn clear_auth_cookie() -> String {
    format!("{AUTH_COOKIE}=; expires={}; path=/", http_date(0))
}

/// The cookie handler's clean-up (`common/ASC.Api.Core/Auth/CookieAuthHandler.cs:74-83`): a
/// request whose `asc_auth_key` cookie does not authenticate (an unknown or ended session) has
/// the cookie deleted in its answer, whatever the endpoint — except in an error envelope, which
/// the exception handler writes into a cleared response (`docs/server.md`, "Errors").
/// `stale` is [`cookie_is_stale`] as the request arrived (the handler runs before the endpoint:
/// a session the endpoint itself ends keeps its cookie).
pub(crate) fn clear_stale_cookie(stale: bool, mut out: Outgoing) -> Outgoing {
    let error_envelope = out.status >= 400 && matches!(out.body, Body::Json(_));
    let deleting = out
        .set_cookies
        .iter()
        .any(|c| c.starts_with(&format!("{AUTH_COOKIE}=;")));
    if stale && !error_envelope && !deleting {
        out.set_cookies.push(clear_auth_cookie());
    }
    out
}

/// `POST authentication/confirm` (`CheckConfirm`, AuthenticationController.cs:421-443;
/// `EmailValidationKeyModelHelper.ValidateAsync`, EmailValidationKeyModelHelper.cs:97-343):
///
/// - the key from the body, or else the `asc_confirm_key_<type>` cookie (:424-427); neither
///   is a `400` `ArgumentNullException` (EmailValidationKeyProvider.cs:142-143);
/// - `email` must look like an address (`[EmailAddress]`, a model-validation `400`);
/// - the TFA types are checked against the keys the emulator issued for `(type, uid)`, a
///   `TfaAuth` link is `Invalid` for a caller who is signed in (:251-256); the phone types for
///   the user named by `email` (or `encEmail`) alone, as their keys are signed over the
///   e-mail; a `first` makes any key `Invalid` (the keys issued here are signed without one);
///   the e-mailed types are never issued here: `Invalid`;
/// - the answer is `{result, isAgent: false}`, with the request's `email` when `Ok` (:343;
///   `ConfirmDto.IsAgent` is a plain `bool`, ConfirmDto.cs:67-71).
pub(crate) fn check_confirm(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let body = json_body(req)?;
    let confirm_type = confirm_type(&body)?;
    let email = string_field(&body, "email")?;
    if field(&body, "email").is_some_and(|v| !v.is_null()) && !is_email_address(&email) {
        return Err(validation_problem(
            "Email",
            "The Email field is not a valid e-mail address.",
        ));
    }
    let uid = match field(&body, "uiD") {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) if is_guid(s) => s.trim().to_owned(),
        Some(_) => return Err(validation_problem(
            "$.uiD",
            "The JSON value could not be converted to System.Nullable`1[System.Guid]. Path: $.uiD",
        )),
    };
    let key = string_field(&body, "key")?;
    let key = match (&confirm_type, key.is_empty()) {
        (Some(t), true) => creds
            .confirm_cookies
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(t))
            .map(|(_, k)| k.clone()),
        (_, true) => None,
        (_, false) => Some(key),
    };
    // The data the key is signed over must not be empty (`ThrowIfNullOrEmpty`), then the key
    // must be there (`ThrowIfNull`), EmailValidationKeyProvider.cs:142-143.
    if confirm_type.is_none() && email.is_empty() {
        return Err(error(
            400,
            "The value cannot be an empty string. (Parameter 'email')",
            Some(Exception::Argument),
        ));
    }
    let Some(key) = key else {
        return Err(error(
            400,
            "Value cannot be null. (Parameter 'key')",
            Some(Exception::ArgumentNull),
        ));
    };
    let signed_in = creds
        .token
        .as_deref()
        .and_then(|t| state.user_for_token(t))
        .is_some();
    // `email = … ? DecryptEmail(encEmail) : email` (EmailValidationKeyModelHelper.cs:101).
    let enc_email = string_field(&body, "encEmail")?;
    let email = if email.is_empty() {
        crate::emulator::tickets::decrypt_email(enc_email.trim()).unwrap_or_default()
    } else {
        email
    };
    // The phone types are signed over `email + type + first`, the TFA types over `uiD + type +
    // first` (EmailValidationKeyModelHelper.cs:240-254): a phone link's `uiD` plays no part,
    // and the keys issued here are for an empty `first`.
    let user = match confirm_type.as_deref() {
        Some(PHONE_ACTIVATION | PHONE_AUTH) => state
            .user_index_by_email(&email)
            .map(|u| state.users[u].id.clone()),
        _ => Some(uid),
    };
    let first = string_field(&body, "first")?;
    let result = match (confirm_type.as_deref(), user) {
        (Some(TFA_AUTH), _) if signed_in => INVALID,
        _ if !first.is_empty() => INVALID,
        (Some(t @ (TFA_ACTIVATION | TFA_AUTH | PHONE_ACTIVATION | PHONE_AUTH)), Some(uid))
            if !uid.is_empty() =>
        {
            match state.check_key(t, &uid, &key) {
                KeyCheck::Ok => OK,
                KeyCheck::Invalid => INVALID,
                KeyCheck::Expired => EXPIRED,
            }
        }
        _ => INVALID,
    };
    let mut answer = json!({"result": result, "isAgent": false});
    if result == OK && !email.is_empty() {
        answer["email"] = json!(email);
    }
    Ok(ok(ctx, req, answer))
}

/// The body's `type`: a `ConfirmType` name (any case), its number, or absent. A number
/// outside the enum is accepted by the converter and matches no case (`None` here, as it
/// checks like an e-mailed type); an unknown name is a binding `400`.
fn confirm_type(body: &Value) -> std::result::Result<Option<String>, Outgoing> {
    let unknown = || {
        validation_problem(
            "$.type",
            "The JSON value could not be converted to System.Nullable`1[ASC.Web.Core.Users.ConfirmType]. Path: $.type",
        )
    };
    match field(body, "type") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(name)) => CONFIRM_TYPES
            .iter()
            .find(|t| t.eq_ignore_ascii_case(name.trim()))
            .map(|t| Some((*t).to_owned()))
            .ok_or_else(unknown),
        Some(Value::Number(n)) => Ok(n
            .as_u64()
            .and_then(|i| usize::try_from(i).ok())
            .and_then(|i| CONFIRM_TYPES.get(i))
            .map(|t| (*t).to_owned())),
        Some(_) => Err(unknown()),
    }
}

/// .NET's `EmailAddressAttribute`: exactly one `@`, neither first nor last.
fn is_email_address(s: &str) -> bool {
    let at = s.find('@');
    at.is_some_and(|i| i > 0 && i + 1 < s.len() && s.rfind('@') == Some(i))
}

/// A GUID as `Guid.Parse` reads it in its usual form (`8-4-4-4-12` hex digits).
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.trim().split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// A model-validation `400` (`application/problem+json`) with the problem under `key`, wrapped
/// in the envelope by the router as the server's result filter wraps it.
fn validation_problem(key: &str, message: &str) -> Outgoing {
    super::http::problem_at(key, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_addresses_as_dotnet_checks_them() {
        for (email, valid) in [
            ("user@example.com", true),
            ("a@b", true),
            ("", false),
            ("user", false),
            ("@example.com", false),
            ("user@", false),
            ("a@b@c", false),
        ] {
            assert_eq!(is_email_address(email), valid, "{email:?}");
        }
    }

    #[test]
    fn encemail_is_read_as_the_phone_links_write_it() {
        for (enc, email) in [
            ("626f74406578616d706c652e636f6d", Some("bot@example.com")),
            ("", None),
            ("abc", None),
            ("zz", None),
        ] {
            assert_eq!(
                crate::emulator::tickets::decrypt_email(enc.trim()).as_deref(),
                email,
                "{enc:?}"
            );
        }
    }

    #[test]
    fn confirm_types_by_name_and_number() {
        for (value, expected) in [
            (json!("TfaAuth"), Some("TfaAuth")),
            (json!("tfaactivation"), Some("TfaActivation")),
            (json!(12), Some("PhoneActivation")),
            (json!(16), Some("TfaAuth")),
            (json!(99), None),
            (Value::Null, None),
        ] {
            let parsed = confirm_type(&json!({ "type": value })).unwrap();
            assert_eq!(parsed.as_deref(), expected, "{value}");
        }
        assert!(confirm_type(&json!({"type": "NoSuchType"})).is_err());
    }
}
