//! The directory endpoints a policy check reads: `GET people/{userid}` (a member's profile),
//! `GET group/{id}` (a group), and `GET settings/version/build` (the server's version,
//! anonymous). Read only. The profile's shape is shared with `GET people/@self`
//! ([`profile`]).

use serde_json::{json, Value};

use super::creds::{signed_in, Creds};
use super::http::{ok, Answer, Context, Incoming};
use super::refusals::error;
use super::state::State;
use crate::text::is_guid;

/// `EmployeeFullDto` for the member at `user`, as `caller` may see it — the fields of
/// `GET people/@self` ([`super::login::me`]) and [`add_profile_fields`].
pub(crate) fn profile(state: &State, ctx: &Context<'_>, user: usize, caller: usize) -> Value {
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
        "profileUrl": format!("{}/accounts/people/filter?search={}", ctx.base_url, u.email),
    });
    add_profile_fields(state, user, caller, &mut answer);
    answer
}

/// Adds to a profile its `groups` (`[{id, name, manager}]`) and, for an admin caller while the
/// app method is on, `tfaAppEnabled`: whether the member has an app linked (backup codes
/// exist) (`common/ASC.Api.Core/Model/EmployeeFullDto.cs:440-456`).
pub(crate) fn add_profile_fields(state: &State, user: usize, caller: usize, answer: &mut Value) {
    let u = &state.users[user];
    answer["groups"] = u
        .groups
        .iter()
        .map(|g| {
            let name = state.group(g).map(|g| g.name).unwrap_or_default();
            json!({"id": g, "name": name})
        })
        .collect();
    let caller_is_admin = state.users[caller].is_admin || state.users[caller].is_owner;
    if caller_is_admin && state.app.enabled {
        answer["tfaAppEnabled"] = json!(u.linked);
    }
}

/// `GET people/{userid}` (`products/ASC.People/Server/Api/UserController.cs:1089-1120`): by
/// user name, then by id; a member who does not exist — or was deleted, which `GetUsersAsync`
/// answers as the "lost user" — is a `404` `ItemNotFoundException` "The user could not be
/// found".
pub(crate) fn person(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
    userid: &str,
) -> Answer {
    let caller = signed_in(state, creds)?;
    let found = state.users.iter().position(|u| {
        u.email
            .split('@')
            .next()
            .is_some_and(|name| name.eq_ignore_ascii_case(userid))
    });
    let found = found.or_else(|| state.user_index(userid).filter(|_| is_guid(userid)));
    let Some(user) = found else {
        return Err(not_found("The user could not be found"));
    };
    let answer = profile(state, ctx, user, caller);
    Ok(ok(ctx, req, answer))
}

/// `GET group/{id:guid}` (`products/ASC.People/Server/Api/GroupsController.cs:111-118,
/// 411-420`): a group that does not exist or was removed is a `404` `ItemNotFoundException`
/// "The group could not be found". (A path that is not a GUID matches no route: the router
/// answers an empty `404` before this.)
pub(crate) fn group(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
    id: &str,
) -> Answer {
    signed_in(state, creds)?;
    let Some(group) = state.group(id) else {
        return Err(not_found("The group could not be found"));
    };
    let members = state
        .users
        .iter()
        .filter(|u| u.groups.iter().any(|g| g.eq_ignore_ascii_case(&group.id)))
        .count();
    let answer = json!({
        "name": group.name,
        "category": "00000000-0000-0000-0000-000000000000",
        "id": group.id,
        "isLDAP": false,
        "membersCount": members,
    });
    Ok(ok(ctx, req, answer))
}

/// `GET settings/version/build` (`web/ASC.Web.Api/Api/Settings/VersionController.cs:50-60`,
/// `web/ASC.Web.Api/Core/BuildVersion.cs`): anonymous; `{"docSpace": "<version:number>"}`,
/// with `documentServer` left out (null) as on a portal without a document server.
pub(crate) fn version(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>) -> Answer {
    let answer = json!({"docSpace": state.config.server_version});
    Ok(ok(ctx, req, answer))
}

/// A `404` `ItemNotFoundException` with its text
/// (`common/ASC.Api.Core/Middleware/ResponseWrapper.cs:55-58`).
fn not_found(message: &str) -> super::http::Outgoing {
    let mut out = error(404, message, None);
    if let super::http::Body::Json(v) = &mut out.body {
        v["error"]["type"] = json!("ASC.Common.Web.ItemNotFoundException");
        v["error"]["stack"] = json!("   at ASC.People.Api (DocSpace emulator)");
        v["error"]["hresult"] = json!(-2_146_233_088);
    }
    out
}
