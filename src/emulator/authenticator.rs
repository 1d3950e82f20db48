//! The authenticator app's endpoints, as `TfaappController` answers them: `GET
//! settings/tfaapp/setup` and `POST settings/tfaapp/validate` (guarded by a confirm ticket),
//! the backup codes (`GET settings/tfaappcodes`, `PUT settings/tfaappnewcodes`) and unlinking
//! (`PUT settings/tfaappnewapp`) (`docs/server.md`, "The settings endpoints" and "The setup
//! code and the otpauth URI").

use serde_json::{json, Value};

use super::creds::{
    auth_cookie, clear_confirm_cookie, confirm_cookie, confirm_user, signed_in, Creds,
};
use super::http::{
    guid_field, json_body, ok, session_flag, string_field, Answer, Context, Incoming,
};
use super::refusals::{error, internal, not_available, refusal, Exception};
use super::rules::CodeFailure;
use super::state::State;
use super::tickets::{TFA_ACTIVATION, TFA_AUTH};
use crate::messages::ServerMessage;

/// The GUID that resolves to no user.
const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// `GET settings/tfaapp/setup` (ticket `TfaActivation`).
pub(crate) fn setup(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let (user, _) = confirm_user(state, creds, &[TFA_ACTIVATION])?;
    if !state.app_on() || state.users[user].linked {
        return Err(not_available(state));
    }
    let manual = state.manual_key(user).map_err(|e| internal(&e))?;
    let uri = state
        .otpauth_uri(user, ctx.tenant_domain)
        .map_err(|e| internal(&e))?;
    let image = super::qr::png_data_url(uri.expose()).map_err(|e| internal(&e))?;
    // `GenerateSetupCode` returns the account as it wrote it into the URI:
    // `Uri.EscapeDataString(email)`.
    let answer = json!({
        "account": escape_data_string(&state.users[user].email),
        "manualEntryKey": manual.expose(),
        "qrCodeSetupImageUrl": image,
    });
    Ok(ok(ctx, req, answer))
}

/// `POST settings/tfaapp/validate` (ticket `TfaActivation` or `TfaAuth`).
pub(crate) fn validate(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let (user, ticket_type) = confirm_user(state, creds, &[TFA_ACTIVATION, TFA_AUTH])?;
    let body = json_body(req)?;
    let code = string_field(&body, "code")?;
    let session = session_flag(&body);
    if !state.app_on() {
        // The app method is off: `false`, without looking at the code.
        return Ok(ok(ctx, req, json!(false)));
    }
    match state.check_code(user, &code) {
        Ok(()) => {}
        Err(CodeFailure::Blank) => {
            return Err(error(500, "Enter the code", Some(Exception::Plain)));
        }
        Err(CodeFailure::Locked) => {
            return Err(error(
                403,
                "You have sent too many text messages. Please try again later.",
                None,
            ));
        }
        Err(CodeFailure::Wrong) => {
            return Err(error(400, "Incorrect code", Some(Exception::Argument)));
        }
    }
    let first_activation = !state.users[user].linked;
    if first_activation {
        state.users[user].linked = true;
        state.new_backup_codes(user).map_err(|e| internal(&e))?;
    }
    let token = state.open_session(user).map_err(|e| internal(&e))?;
    let mut answer =
        ok(ctx, req, json!(first_activation)).cookie(auth_cookie(state, &token, session));
    if let Some(t) = ticket_type {
        answer = answer.cookie(clear_confirm_cookie(&t));
    }
    Ok(answer)
}

/// The user's backup codes as the API lists them.
fn code_list(state: &State, user: usize) -> Value {
    Value::Array(
        state.users[user]
            .backup_codes
            .iter()
            .map(|(code, used)| json!({"isUsed": used, "code": code}))
            .collect(),
    )
}

/// `GET settings/tfaappcodes` and `PUT settings/tfaappnewcodes`.
pub(crate) fn codes(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
    regenerate: bool,
) -> Answer {
    let user = signed_in(state, creds)?;
    if !state.app_on() || !state.users[user].linked {
        return Err(not_available(state));
    }
    if regenerate {
        state.new_backup_codes(user).map_err(|e| internal(&e))?;
    }
    Ok(ok(ctx, req, code_list(state, user)))
}

/// `PUT settings/tfaappnewapp` (`UnlinkTfaApp`).
pub(crate) fn new_app(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let caller = signed_in(state, creds)?;
    let body = json_body(req)?;
    // `id` is a `Guid`: `"not-a-guid"` or `""` is a 400 under `$.id`; absent (`{}`) is the
    // empty GUID.
    let id = guid_field(&body, "id")?;
    let id = id.trim();
    // An empty guid counts as "me" but resolves to no user, who has no app to unlink.
    if id.is_empty() || id.eq_ignore_ascii_case(EMPTY_GUID) {
        return Err(not_available(state));
    }
    let target = state.user_index(id);
    if target == Some(caller) {
        if !state.app_on() || !state.users[caller].linked {
            return Err(not_available(state));
        }
        state.unlink(caller);
        let (url, key) = state
            .ticket_for(ctx.base_url, TFA_ACTIVATION, caller)
            .map_err(|e| internal(&e))?;
        return Ok(ok(ctx, req, json!(url)).cookie(confirm_cookie(TFA_ACTIVATION, &key)));
    }
    // Another member: only the owner (who may edit every member).
    if !state.users[caller].is_owner {
        return Err(refusal(state, ServerMessage::AccessDenied));
    }
    let Some(target) = target.filter(|_| state.app_on()) else {
        return Err(not_available(state));
    };
    if !state.users[target].linked {
        return Err(not_available(state));
    }
    state.unlink(target);
    state.reset_sessions_of(target);
    Ok(ok(ctx, req, json!("")))
}

/// .NET's `Uri.EscapeDataString`: RFC 3986's unreserved characters kept, everything else
/// percent-encoded as UTF-8 with upper-case hex.
fn escape_data_string(text: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'.')
        .remove(b'_')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_escaped_as_dotnet_does() {
        assert_eq!(
            escape_data_string("john.doe@example.com"),
            "john.doe%40example.com"
        );
        assert_eq!(
            escape_data_string("user+tag@example.com"),
            "user%2Btag%40example.com"
        );
        assert_eq!(escape_data_string("a b~_-.@Ä"), "a%20b~_-.%40%C3%84");
    }
}
