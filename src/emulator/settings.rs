//! The policy endpoints, as `TfaappController` answers them: `GET settings/tfaapp` (the
//! methods), `PUT settings/tfaapp` and `PUT settings/tfaappwithlink` (the policy), and `GET
//! settings/tfaapp/confirm` (the caller's own confirm data) (`docs/server.md`, "The settings
//! endpoints").

use std::net::IpAddr;

use serde_json::{json, Value};

use super::creds::{confirm_cookie, signed_in, Creds, CONFIRM_COOKIE_PREFIX};
use super::http::{
    field, guid_field, guid_list_field, json_body, nullable_list_field, ok, problem, Answer,
    Context, Incoming, Outgoing,
};
use super::policy::{MethodSettings, PolicyLists};
use super::refusals::{
    access_denied, error, internal, ip_fault, not_available, null_reference, refusal, Exception,
};
use super::state::State;
use super::tickets::{phone_confirm_url, PHONE_ACTIVATION, PHONE_AUTH, TFA_ACTIVATION, TFA_AUTH};
use crate::error::Result;
use crate::messages::ServerMessage;
use crate::models::TfaType;

/// `GET settings/tfaapp` (`GetTfaSettings`): the titles are the server's `ButtonSmsEnable` and
/// `ButtonTfaAppEnable`; the three lists are omitted while they are `null` (before a policy was
/// first saved, and after the method was switched off).
pub(crate) fn methods(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    signed_in(state, creds)?;
    let entry = |id: &str, title: &str, s: &MethodSettings, available: bool| {
        let mut e = json!({
            "id": id,
            "title": title,
            "enabled": s.enabled && available,
            "available": available,
        });
        if let Some(lists) = &s.lists {
            e["trustedIps"] = json!(lists.trusted_ips);
            e["mandatoryUsers"] = json!(lists.mandatory_users);
            e["mandatoryGroups"] = json!(lists.mandatory_groups);
        }
        e
    };
    let list = json!([
        // `TfaappController.cs:70-111`: both SMS flags need a provider.
        entry(
            "sms",
            "By SMS",
            &state.sms,
            state.config.sms_available && state.config.sms_provider
        ),
        entry(
            "app",
            "By authenticator app",
            &state.app,
            state.config.app_available
        ),
    ]);
    Ok(ok(ctx, req, list))
}

/// Reads `type`: a name (`None`/`Sms`/`App`, any case) or a number (0/1/2; others are None).
fn parse_type(body: &Value) -> std::result::Result<TfaType, Outgoing> {
    match field(body, "type") {
        None | Some(Value::Null) => Ok(TfaType::None),
        Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "none" => Ok(TfaType::None),
            "sms" => Ok(TfaType::Sms),
            "app" => Ok(TfaType::App),
            _ => Err(problem(
                "The JSON value could not be converted to ASC.Web.Api.Models.TfaRequestsDtoType. Path: $.type",
            )),
        },
        Some(Value::Number(n)) => Ok(match n.as_i64() {
            Some(1) => TfaType::Sms,
            Some(2) => TfaType::App,
            _ => TfaType::None,
        }),
        Some(_) => Err(problem(
            "The JSON value could not be converted to ASC.Web.Api.Models.TfaRequestsDtoType. Path: $.type",
        )),
    }
}

impl State {
    /// Switching to the app method or off turns SMS off only when
    /// `IsVisibleAndAvailableSettingsAsync() && GetEnable()` (`TfaappController.cs:246-249,
    /// 261-264`), and the SMS helper's `GetEnable` is `EnableSetting && smsProviderManager.Enabled()`
    /// (`StudioSmsNotificationSettings.cs:70-73`): without a provider the SMS setting stays on,
    /// and logins keep taking the SMS branch.
    pub(crate) fn switch_sms_off_if_provided(&mut self) {
        if self.config.sms_available && self.config.sms_provider {
            self.sms.switch_off();
        }
    }
}

/// `PUT settings/tfaapp` and `PUT settings/tfaappwithlink`.
pub(crate) fn set_policy(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
    with_link: bool,
) -> Answer {
    let caller = signed_in(state, creds)?;
    if !(state.users[caller].is_admin || state.users[caller].is_owner) {
        return Err(access_denied());
    }
    let body = json_body(req)?;
    let tfa_type = parse_type(&body)?;
    // `TfaRequestsDto`: `id` is a `Guid`, the two id lists `List<Guid>`; a malformed one is a
    // model-binding 400 under its JSON path. Trusted IPs are plain strings: any entry is
    // saved (`TfaappController.cs:280-286`).
    let id = guid_field(&body, "id")?;
    let lists = PolicyLists {
        trusted_ips: nullable_list_field(&body, "trustedIps")?,
        mandatory_users: guid_list_field(&body, "mandatoryUsers")?,
        mandatory_groups: guid_list_field(&body, "mandatoryGroups")?,
    };
    // `UpdateTfaSettings`: naming the owner (as `id` or in `mandatoryUsers`) is refused unless
    // the caller is the owner.
    let owner_named = state.users.iter().any(|u| {
        u.is_owner
            && (id.trim().eq_ignore_ascii_case(&u.id)
                || lists
                    .mandatory_users
                    .iter()
                    .any(|m| m.trim().eq_ignore_ascii_case(&u.id)))
    });
    if owner_named && !id.trim().eq_ignore_ascii_case(&state.users[caller].id) {
        return Err(refusal(state, ServerMessage::AccessDenied));
    }
    let switched_on = match tfa_type {
        TfaType::Sms => {
            if !state.config.sms_available {
                return Err(refusal(state, ServerMessage::SmsNotAvailable));
            }
            if !state.config.sms_provider {
                // `TfaappController.cs:215-218`: `new InvalidOperationException()`.
                return Err(error(
                    403,
                    "Operation is not valid due to the current state of the object.",
                    Some(Exception::InvalidOperation),
                ));
            }
            state.sms.save(lists);
            state.app.switch_off();
            true
        }
        TfaType::App => {
            if !state.config.app_available {
                return Err(not_available(state));
            }
            state.app.save(lists);
            state.switch_sms_off_if_provided();
            true
        }
        _ => {
            state.app.switch_off();
            state.switch_sms_off_if_provided();
            false
        }
    };
    if switched_on {
        // Switching a method on signs out every session on the portal, the caller's included.
        state.reset_all_sessions();
    }
    if !with_link {
        return Ok(ok(ctx, req, json!(switched_on)));
    }
    if !switched_on {
        return Ok(ok(ctx, req, json!("")));
    }
    // The policy is saved and the sessions reset; reading the caller's confirm data then
    // throws on a malformed trusted IP (`TfaappController.cs:299-309`).
    if let Some(fault) = state.trusted_ip_fault(caller, req.remote_ip) {
        return Err(ip_fault(fault));
    }
    match own_confirm(state, ctx, caller, req.remote_ip).map_err(|e| internal(&e))? {
        Some((url, Some((confirm_type, key)))) => {
            Ok(ok(ctx, req, json!(url)).cookie(confirm_cookie(&confirm_type, &key)))
        }
        Some((url, None)) => Ok(ok(ctx, req, json!(url))),
        // `UpdateTfaSettingsLink` reads `GetTfaConfirmData().Url`, and the confirm data is
        // `null` when TFA does not apply to the caller: the policy is saved, the sessions are
        // reset, and the answer is a 500.
        None => Err(null_reference()),
    }
}

/// The caller's own confirm URL and, for the app method, `(type, key)`; `None` when TFA does
/// not apply to the caller.
#[allow(clippy::type_complexity)] // a private helper; a struct would only rename the tuple
pub(crate) fn own_confirm(
    state: &mut State,
    ctx: &Context<'_>,
    user: usize,
    ip: Option<IpAddr>,
) -> Result<Option<(String, Option<(String, String)>)>> {
    if state.sms_applies(user, ip) {
        // `TfaappController.cs:151-158`: the phone link (`type`, `key`, `encemail`), no cookie.
        let u = &state.users[user];
        let confirm_type = if u.phone.is_some() && u.phone_activated {
            PHONE_AUTH
        } else {
            PHONE_ACTIVATION
        };
        let (uid, email) = (u.id.clone(), u.email.clone());
        let key = state.issue_key(confirm_type, &uid)?;
        let url = phone_confirm_url(ctx.base_url, confirm_type, &key, &email);
        return Ok(Some((url, None)));
    }
    if state.app_applies(user, ip) {
        let confirm_type = if state.users[user].linked {
            TFA_AUTH
        } else {
            TFA_ACTIVATION
        };
        let (url, key) = state.ticket_for(ctx.base_url, confirm_type, user)?;
        return Ok(Some((url, Some((confirm_type.to_owned(), key)))));
    }
    Ok(None)
}

/// `GET settings/tfaapp/confirm`.
pub(crate) fn confirm(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Answer {
    let user = signed_in(state, creds)?;
    if let Some(fault) = state.trusted_ip_fault(user, req.remote_ip) {
        return Err(ip_fault(fault));
    }
    let own = own_confirm(state, ctx, user, req.remote_ip).map_err(|e| internal(&e))?;
    if state.config.legacy_confirm_url {
        // Older servers: a bare URL string, the key only in `Set-Cookie`.
        return Ok(match own {
            Some((url, Some((confirm_type, key)))) => {
                ok(ctx, req, json!(url)).cookie(confirm_cookie(&confirm_type, &key))
            }
            Some((url, None)) => ok(ctx, req, json!(url)),
            None => ok(ctx, req, json!("")),
        });
    }
    let answer = match own {
        Some((url, Some((confirm_type, key)))) => json!({
            "url": url,
            "cookieName": format!("{CONFIRM_COOKIE_PREFIX}{confirm_type}"),
            "cookieValue": key,
        }),
        Some((url, None)) => json!({ "url": url }),
        None => Value::Null,
    };
    Ok(ok(ctx, req, answer))
}
