//! The login endpoints, as `AuthenticationController` answers them: `POST authentication` (a
//! token, or a TFA or SMS challenge with a confirm ticket), `POST authentication/{code}` (the
//! second step), and `GET people/@self`, the signed-in member (`docs/server.md`, "Login").

use serde_json::json;

use super::clock::iso_datetime;
use super::creds::{auth_cookie, confirm_cookie, signed_in, Creds};
use super::http::{json_body, ok, session_flag, string_field, Answer, Context, Incoming};
use super::refusals::{error, internal, ip_fault, refusal};
use super::state::State;
use super::tickets::{PHONE_ACTIVATION, PHONE_AUTH, TFA_ACTIVATION, TFA_AUTH};
use crate::messages::ServerMessage;

/// The "null date" challenged logins carry in `expires`.
const NULL_DATE: &str = "0001-01-01T00:00:00";

/// `POST authentication`.
pub(crate) fn login(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>) -> Answer {
    let body = json_body(req)?;
    let user_name = string_field(&body, "userName")?;
    let password = string_field(&body, "password")?;
    let session = session_flag(&body);
    let now = state.now();
    let limit = state.config.attempt_limit;
    let counter = state
        .login_attempts
        .entry(user_name.trim().to_ascii_lowercase())
        .or_default();
    if !counter.try_count(limit, now) {
        return Err(error(
            403,
            "Too many login attempts. Please try again later.",
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
    let ip = req.remote_ip;
    // A saved malformed trusted-IP range or CIDR block throws here: a 500 for every login it
    // is reached for (`docs/emulator.md`, "Trusted IPs").
    if let Some(fault) = state.trusted_ip_fault(user, ip) {
        return Err(ip_fault(fault));
    }

    if state.sms_applies(user, ip) {
        let (confirm_type, noise) = match state.users[user].phone.clone() {
            Some(phone) => (PHONE_AUTH, Some(phone_noise(&phone))),
            None => (PHONE_ACTIVATION, None),
        };
        let (url, key) = state
            .ticket_for(ctx.base_url, confirm_type, user)
            .map_err(|e| internal(&e))?;
        let answer = json!({
            "expires": iso_datetime(now + 600),
            "sms": true,
            "phoneNoise": noise,
            "tfa": false,
            "confirmUrl": url,
        });
        return Ok(ok(ctx, req, answer).cookie(confirm_cookie(confirm_type, &key)));
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
        "expires": iso_datetime(now.saturating_add(state.config.session_lifetime)),
        "sms": false,
        "tfa": false,
    });
    let cookie = auth_cookie(state, &token, session);
    Ok(ok(ctx, req, answer).cookie(cookie))
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
    // The same check runs inside this endpoint's try/catch, which answers 401
    // (`AuthenticationController.cs:133-196`).
    if state.trusted_ip_fault(user, req.remote_ip).is_some() {
        return Err(failed());
    }
    // SMS codes are not modelled; a user without the app method has no code to give.
    if state.sms_applies(user, req.remote_ip) || !state.app_applies(user, req.remote_ip) {
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
        "expires": iso_datetime(now.saturating_add(state.config.session_lifetime)),
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
    let u = &state.users[user];
    let mut answer = json!({
        "id": u.id,
        "userName": u.email.split('@').next().unwrap_or_default(),
        "firstName": u.first_name,
        "lastName": u.last_name,
        "displayName": u.display_name(),
        "email": u.email,
        "isOwner": u.is_owner,
        "isAdmin": u.is_admin || u.is_owner,
        "isVisitor": false,
        "isCollaborator": false,
        "isLDAP": false,
        "isSSO": false,
        "status": 1,
        "activationStatus": 1,
        "mobilePhone": u.phone,
        "profileUrl": format!("{}/accounts/people/filter?search={}", ctx.base_url, u.email),
    });
    // `groups` and, for an admin while the app method is on, `tfaAppEnabled`.
    super::directory::add_profile_fields(state, user, user, &mut answer);
    Ok(ok(ctx, req, answer))
}

/// The masked phone number of an SMS challenge: `+7 *** *** **12`-like.
fn phone_noise(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let keep_head = digits.len().min(1);
    let keep_tail = digits.len().saturating_sub(keep_head).min(2);
    let hidden = digits.len() - keep_head - keep_tail;
    let mut out = String::from("+");
    out.extend(&digits[..keep_head]);
    out.push(' ');
    out.push_str(&"*".repeat(hidden));
    out.extend(&digits[digits.len() - keep_tail..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_is_masked() {
        assert_eq!(phone_noise("+7 (912) 345-67-12"), "+7 ********12");
        assert_eq!(phone_noise(""), "+ ");
    }
}
