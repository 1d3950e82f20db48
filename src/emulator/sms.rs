//! The SMS factor's endpoints, as the server's source has them (v3.7.2; the 3.8 branch and
//! `develop` are the same): the login's SMS branch (`AuthenticationController.cs:235-255`),
//! `POST authentication/setphone` (`:455-471`, `SmsManager.cs:47-91`), `POST
//! authentication/sendsms` (`:485-509`, `SmsManager.cs:93-121`), the SMS code check of `POST
//! authentication/{code}` (`:135-143`, `SmsManager.cs:123-167`), the `phoneNoise` mask and its
//! defect (`SmsSender.cs:72-97`), and the outbox of the SMS provider stand-in at
//! `GET /_emulator/sms` (not a portal route). Codes and counters are in
//! [`smscodes`](super::smscodes); `docs/emulator.md`, "SMS", has the whole picture.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::clock::iso_datetime;
use super::creds::{auth_cookie, credentials_user, Creds};
use super::http::{json_body, ok, string_field, Answer, Context, Incoming, Outgoing};
use super::refusals::{internal, ip_fault};
use super::smscodes::{CodeCheck, CODE_LIFETIME};
use super::state::State;
use super::tickets::{phone_confirm_url, KeyCheck, PHONE_ACTIVATION, PHONE_AUTH};

/// The route of the outbox, outside `/api/2.0/`.
pub(crate) const OUTBOX_PATH: &str = "/_emulator/sms";

/// "null date" of an answer without `expires` (a non-nullable `DateTime`).
const NULL_DATE: &str = "0001-01-01T00:00:00";

/// The server's texts (English: `Resource.resx`; .NET's own for runtime exceptions).
const EMPTY_PHONE: &str = "Enter mobile phone number";
const PHONE_MUST_ERASE: &str = "To change the number, you need to delete your current phone number";
const TOO_MUCH: &str = "You have sent too many text messages. Please try again later.";
const METHOD_ACCESS: &str = "Attempt to access the method failed.";
const NO_PHONE: &str = "The value cannot be an empty string. (Parameter 'phone')";
const OUT_OF_RANGE: &str = "Index was out of range. Must be non-negative and less than or equal \
to the size of the collection. (Parameter 'startIndex')";
const AUTH_FAILED: &str = "User authentication failed";

/// An exception as the server's handler writes it: `(type, hresult)` with a stack, or none
/// (the `AuthenticationException` family). The error envelope keeps its nulls
/// (`ResponseWrapper.cs:120`, `WriteAsJsonAsync`).
fn server_error(status: u16, message: &str, exception: Option<(&str, i64)>, at: &str) -> Outgoing {
    let mut e = Map::new();
    e.insert("message".into(), json!(message));
    match exception {
        Some((ty, hresult)) => {
            e.insert("type".into(), json!(ty));
            e.insert(
                "stack".into(),
                json!(format!("   at {at} (DocSpace emulator)")),
            );
            e.insert("hresult".into(), json!(hresult));
        }
        None => {
            e.insert("type".into(), Value::Null);
            e.insert("stack".into(), Value::Null);
            e.insert("hresult".into(), json!(0));
        }
    }
    Outgoing {
        status,
        body: super::http::Body::Json(json!({"error": e, "status": 1, "statusCode": status})),
        set_cookies: Vec::new(),
    }
}

/// A plain `System.Exception` (`500`), as `SmsManager` throws its texts.
fn plain(message: &str) -> Outgoing {
    let at = "ASC.Web.Core.Sms.SmsManager.PutAuthCodeAsync(UserInfo user, Boolean again)";
    server_error(500, message, Some(("System.Exception", -2_146_233_088)), at)
}

/// `401 User authentication failed`, the answer for every hidden failure of a code login.
pub(crate) fn auth_failed() -> Outgoing {
    server_error(401, AUTH_FAILED, None, "")
}

/// The masked number (`BuildPhoneNoise`): `+`, the first 4 digits, one `*` per middle digit,
/// then `Append(digits, len - 4, len - 5)`: right for 9 digits, the last digit lost for 8,
/// and for 10 or more an `ArgumentOutOfRangeException` (`400`) with the defect on. A fixed
/// server shows the last 4. Fewer than 8 digits come back unmasked, as on the server.
pub(crate) fn phone_noise(state: &State, phone: &str) -> Result<String, Outgoing> {
    let digits = crate::phone::phone_digits(phone);
    let n = digits.len();
    if digits.is_empty() {
        return Ok(String::new());
    }
    if n < 8 {
        return Ok(digits);
    }
    let mut out = format!("+{}{}", &digits[..4], "*".repeat(n - 8));
    if !state.config.phone_noise_defect {
        out.push_str(&digits[n - 4..]);
    } else if n >= crate::phone::DEFECT_MIN_DIGITS {
        let at =
            "System.Text.StringBuilder.Append(String value, Int32 startIndex, Int32 count)\n   \
                  at ASC.Web.Core.Sms.SmsSender.BuildPhoneNoise(String mobilePhone)";
        let exception = ("System.ArgumentOutOfRangeException", -2_146_233_086);
        return Err(server_error(400, OUT_OF_RANGE, Some(exception), at));
    } else {
        out.push_str(&digits[n - 4..][..n - 5]);
    }
    Ok(out)
}

/// `PutAuthCodeAsync(user, again)`: sends a code unless one is kept and `again` is false.
fn put_code(
    state: &mut State,
    user: usize,
    again: bool,
    ip: Option<IpAddr>,
) -> Result<(), Outgoing> {
    // `TfaEnabledForUserAsync` reads the trusted IPs, and throws on a malformed one.
    if let Some(fault) = state.trusted_ip_fault(user, ip) {
        return Err(ip_fault(fault));
    }
    // SM:100-103: SMS not applying, or no provider (SS:47-50).
    if !state.sms_applies(user, ip) || !state.config.sms_provider {
        let at = "ASC.Web.Core.Sms.SmsManager.PutAuthCodeAsync(UserInfo user, Boolean again)";
        let exception = ("System.MethodAccessException", -2_146_233_072);
        return Err(server_error(500, METHOD_ACCESS, Some(exception), at));
    }
    let phone = state.users[user].phone.clone().unwrap_or_default();
    let now = state.now();
    if phone.is_empty() {
        let at = "ASC.Web.Core.Sms.SmsKeyStorage.GenerateKeyAsync(String phone)";
        let exception = ("System.ArgumentException", -2_147_024_809);
        return Err(server_error(400, NO_PHONE, Some(exception), at));
    }
    if !again && state.sms_codes.exists(&phone, now) {
        return Ok(());
    }
    match state.sms_codes.generate_and_send(&phone, now) {
        Ok(true) => Ok(()),
        Ok(false) => Err(plain(TOO_MUCH)),
        Err(e) => Err(internal(&e)),
    }
}

/// The SMS answer: `{expires, sms: true, phoneNoise, tfa: false}` (+ `confirmUrl`).
fn sent(state: &State, phone: &str, confirm_url: Option<String>) -> Result<Value, Outgoing> {
    let mut answer = json!({
        "expires": iso_datetime(state.now() + CODE_LIFETIME),
        "sms": true,
        "phoneNoise": phone_noise(state, phone)?,
        "tfa": false,
    });
    if let Some(url) = confirm_url {
        answer["confirmUrl"] = json!(url);
    }
    Ok(answer)
}

/// The SMS branch of `POST authentication`, for a user the SMS method applies to.
pub(crate) fn login_branch(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    user: usize,
) -> Answer {
    let u = &state.users[user];
    let (email, uid, phone) = (u.email.clone(), u.id.clone(), u.phone.clone());
    let confirm_type = match (&phone, u.phone_activated) {
        (Some(_), true) => PHONE_AUTH,
        _ => PHONE_ACTIVATION,
    };
    let key = state
        .issue_key(confirm_type, &uid)
        .map_err(|e| internal(&e))?;
    let url = phone_confirm_url(ctx.base_url, confirm_type, &key, &email);
    let Some(phone) = phone.filter(|_| confirm_type == PHONE_AUTH) else {
        let answer = json!({"expires": NULL_DATE, "sms": true, "tfa": false, "confirmUrl": url});
        return Ok(ok(ctx, req, answer));
    };
    put_code(state, user, false, req.remote_ip)?;
    Ok(ok(ctx, req, sent(state, &phone, Some(url))?))
}

/// `POST authentication/setphone`: the confirm scheme with role `PhoneActivation`.
pub(crate) fn set_phone(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let user = phone_ticket_user(state, creds)?;
    let body = json_body(req)?;
    let phone = crate::phone::phone_digits(&string_field(&body, "mobilePhone")?);
    if phone.is_empty() {
        return Err(plain(EMPTY_PHONE));
    }
    let u = &mut state.users[user];
    if u.phone.is_some() && u.phone_activated {
        return Err(plain(PHONE_MUST_ERASE));
    }
    u.phone = Some(phone.clone());
    u.phone_activated = false;
    // `TfaEnabledForUserAsync` (the policy, not the provider) decides whether a code goes.
    let (id, groups) = (u.id.clone(), u.groups.clone());
    // A saved malformed trusted IP throws there: a 500 (`docs/emulator.md`, "Trusted IPs").
    match state.sms.applies(&id, &groups, req.remote_ip) {
        Ok(true) => put_code(state, user, false, req.remote_ip)?,
        Ok(false) => {}
        Err(fault) => return Err(ip_fault(fault)),
    }
    Ok(ok(ctx, req, sent(state, &phone, None)?))
}

/// Who a `setphone` acts for (`ConfirmAuthHandler.cs:49-111`): a signed-in caller (the
/// token's user: the handler keeps an authenticated caller); else the user a `uid` in the
/// header names, else the ticket's e-mail names. The key is checked against the e-mail alone,
/// the phone types' keys being signed over `email + type` (`EmailValidationKeyModelHelper.cs:
/// 240-242`), whatever `uid` says. `401` for a missing or bad ticket, `403` for another role.
fn phone_ticket_user(state: &State, creds: &Creds) -> Result<usize, Outgoing> {
    let Some(ticket) = &creds.confirm else {
        return Err(Outgoing::empty(401));
    };
    let is_phone_type = [PHONE_ACTIVATION, PHONE_AUTH]
        .iter()
        .any(|t| t.eq_ignore_ascii_case(&ticket.confirm_type));
    let signer = if is_phone_type {
        state.user_index_by_email(&ticket.email)
    } else {
        state.user_index(&ticket.uid)
    };
    let (Some(signer), Some(key)) = (signer, ticket.key.as_deref()) else {
        return Err(Outgoing::empty(401));
    };
    let signer_id = state.users[signer].id.clone();
    if state.check_key(&ticket.confirm_type, &signer_id, key) != KeyCheck::Ok {
        return Err(Outgoing::empty(401));
    }
    if !ticket.confirm_type.eq_ignore_ascii_case(PHONE_ACTIVATION) {
        return Err(Outgoing::empty(403));
    }
    let token_user = creds.token.as_deref().and_then(|t| state.user_for_token(t));
    let named = if ticket.uid.is_empty() {
        Some(signer)
    } else {
        state.user_index(&ticket.uid)
    };
    token_user.or(named).ok_or_else(|| Outgoing::empty(401))
}

/// `POST authentication/sendsms`: a new code with the credentials.
pub(crate) fn send_sms(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>) -> Answer {
    let user = credentials_user(state, req)?;
    put_code(state, user, true, req.remote_ip)?;
    let phone = state.users[user].phone.clone().unwrap_or_default();
    Ok(ok(ctx, req, sent(state, &phone, None)?))
}

/// The SMS branch of `POST authentication/{code}`: every failure is a `401`; with the
/// defect, a right code for a 10+-digit phone activates it and opens a session, and the
/// answer is still a `401` (the `Set-Cookie` is lost with it).
pub(crate) fn login_with_code(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    user: usize,
    code: &str,
    session: bool,
) -> Answer {
    let phone = state.users[user].phone.clone().unwrap_or_default();
    let now = state.now();
    if state.sms_codes.check(&phone, code, now) != CodeCheck::Ok {
        return Err(auth_failed());
    }
    let token = state.open_session(user).map_err(|e| internal(&e))?;
    state.users[user].phone_activated = true;
    let noise = phone_noise(state, &phone).map_err(|_| auth_failed())?;
    // `Expires` is a non-nullable `DateTime` (`AuthenticationTokenDto.cs:51`): with `session`
    // it is left unset, so the "no date" (AC:172-176).
    let expires = if session {
        NULL_DATE.to_owned()
    } else {
        iso_datetime(now.saturating_add(state.config.session_lifetime))
    };
    let answer = json!({
        "token": token, "expires": expires, "sms": true, "phoneNoise": noise, "tfa": false,
    });
    let cookie = auth_cookie(state, &token, session);
    Ok(ok(ctx, req, answer).cookie(cookie))
}

/// `GET /_emulator/sms`: `{"messages": [{"phone", "code", "text", "sentAt"}]}`, oldest first.
pub(crate) fn outbox(state: &State, method: &str) -> Outgoing {
    if method != "GET" {
        return Outgoing::empty(405);
    }
    let messages: Vec<Value> = state
        .sms_codes
        .outbox()
        .iter()
        .map(|m| {
            json!({
                "phone": m.phone,
                "code": m.code.expose(),
                "text": m.text.expose(),
                "sentAt": m.sent_at,
            })
        })
        .collect();
    Outgoing {
        status: 200,
        body: super::http::Body::Json(json!({ "messages": messages })),
        set_cookies: Vec::new(),
    }
}
