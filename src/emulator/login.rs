//! The login endpoints, as `AuthenticationController` answers them: `POST authentication` (a
//! token, or a TFA or SMS challenge with a confirm ticket), `POST authentication/{code}` (the
//! second step), and `GET people/@self`, the signed-in member (`docs/server.md`, "Login").

use serde_json::json;

use super::clock::iso_datetime;
use super::creds::{auth_cookie, confirm_cookie, credentials_user, signed_in, Creds};
use super::http::{json_body, ok, session_flag, string_field, Answer, Context, Incoming};
use super::refusals::{error, internal, ip_fault, refusal};
use super::sms;
use super::state::State;
use super::tickets::{TFA_ACTIVATION, TFA_AUTH};
use crate::messages::ServerMessage;

/// The "null date" challenged logins carry in `expires`.
const NULL_DATE: &str = "0001-01-01T00:00:00";

/// `POST authentication`.
pub(crate) fn login(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>) -> Answer {
    let session = session_flag(&json_body(req)?);
    let user = credentials_user(state, req)?;
    let now = state.now();
    let ip = req.remote_ip;
    // A saved malformed trusted-IP range or CIDR block throws here: a 500 for every login it
    // is reached for (`docs/emulator.md`, "Trusted IPs").
    if let Some(fault) = state.trusted_ip_fault(user, ip) {
        return Err(ip_fault(fault));
    }

    if state.sms_applies(user, ip) {
        // `AuthenticationController.cs:235-255`: before the app branch.
        return sms::login_branch(state, ctx, req, user);
    }

    if state.app_applies(user, ip) {
        let linked = state.users[user].linked;
        let confirm_type = if linked { TFA_AUTH } else { TFA_ACTIVATION };
        let (url, key) = state
            .ticket_for(ctx.base_url, confirm_type, user)
            .map_err(|e| internal(&e))?;
        let mut answer = json!({
            "expires": NULL_DATE,
            "sms": false,
            "tfa": true,
            "confirmUrl": url,
        });
        if !linked {
            let manual = state.manual_key(user).map_err(|e| internal(&e))?;
            answer["tfaKey"] = json!(manual.expose());
        }
        return Ok(ok(ctx, req, answer).cookie(confirm_cookie(confirm_type, &key)));
    }

    let token = state.open_session(user).map_err(|e| internal(&e))?;
    let answer = json!({
        "token": token,
        "expires": expires_field(state, now, session),
        "sms": false,
        "tfa": false,
    });
    let cookie = auth_cookie(state, &token, session);
    Ok(ok(ctx, req, answer).cookie(cookie))
}

/// A token answer's `expires`: the session's end, or with `session: true` the null date
/// (`AuthenticationTokenDto.Expires` is a non-nullable `DateTime`, set only `if (!session)`:
/// `AuthenticationController.cs:170-174, 322-328`).
fn expires_field(state: &State, now: u64, session: bool) -> String {
    if session {
        NULL_DATE.to_owned()
    } else {
        iso_datetime(now.saturating_add(state.config.session_lifetime))
    }
}

/// `POST authentication/{code}`: the code is read from the body; every failure is a `401`.
pub(crate) fn login_with_code(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>) -> Answer {
    let failed = || error(401, "User authentication failed", None);
    let body = json_body(req)?;
    let user_name = string_field(&body, "userName")?;
    let password = string_field(&body, "password")?;
    let code = string_field(&body, "code")?;
    let session = session_flag(&body);
    let now = state.now();
    let limit = state.config.attempt_limit;
    let login_key = user_name.trim().to_ascii_lowercase();
    if !state
        .login_attempts
        .entry(login_key.clone())
        .or_default()
        .try_count(limit, now)
    {
        return Err(failed());
    }
    let user = state
        .user_index_by_email(&user_name)
        .filter(|&u| !password.is_empty() && state.users[u].password.expose() == password)
        .ok_or_else(failed)?;
    if let Some(c) = state.login_attempts.get_mut(&login_key) {
        c.forgive(now);
    }
    if state.users[user].disabled {
        // `AuthenticateMeFromBodyWithCode` checks the account before the code.
        return Err(refusal(state, ServerMessage::UserDisabled));
    }
    // The trusted-IP check runs inside this endpoint's try/catch, which answers 401
    // (`AuthenticationController.cs:133-196`).
    if state.trusted_ip_fault(user, req.remote_ip).is_some() {
        return Err(failed());
    }
    if state.sms_applies(user, req.remote_ip) {
        // `AuthenticationController.cs:135-143`: the SMS branch first; no backup codes.
        return sms::login_with_code(state, ctx, req, user, &code, session);
    }
    if !state.app_applies(user, req.remote_ip) {
        // "Auth code is not available", hidden as every failure here.
        return Err(failed());
    }
    state.check_code(user, &code).map_err(|_| failed())?;
    if !state.users[user].linked {
        state.users[user].linked = true;
        state.new_backup_codes(user).map_err(|e| internal(&e))?;
    }
    let token = state.open_session(user).map_err(|e| internal(&e))?;
    let answer = json!({
        "token": token,
        "expires": expires_field(state, now, session),
        "sms": false,
        "tfa": true,
    });
    let cookie = auth_cookie(state, &token, session);
    Ok(ok(ctx, req, answer).cookie(cookie))
}

/// `GET people/@self`.
pub(crate) fn me(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let user = signed_in(state, creds)?;
    // The fields of any profile, `groups` and, for an admin while the app method is on,
    // `tfaAppEnabled` (`directory::profile`), and the caller's own phone.
    let mut answer = super::directory::profile(state, ctx, user, user);
    let u = &state.users[user];
    // `EmployeeFullDto.cs:186-192`: 0 NotActivated, 1 Activated.
    answer["mobilePhoneActivationStatus"] =
        json!(i32::from(u.phone.is_some() && u.phone_activated));
    // A success envelope leaves nulls out: no phone, no `mobilePhone`.
    if let Some(phone) = &u.phone {
        answer["mobilePhone"] = json!(phone);
    }
    Ok(ok(ctx, req, answer))
}
