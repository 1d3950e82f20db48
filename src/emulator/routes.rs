//! Routing: the endpoints the emulator serves under `/api/2.0/`, matched case-insensitively
//! as ASP.NET routes are, and the dispatch of a request to its handler. An unknown path is an
//! empty `404`, a known path with another method an empty `405` (`docs/emulator.md`,
//! "What it models": Framework refusals).

use super::creds::Creds;
use super::http::{Context, Incoming, Outgoing};
use super::state::State;
use super::{authenticator, login, session, settings, sms};

/// The endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Login,
    LoginWithCode,
    SetPhone,
    SendSms,
    Me,
    Methods,
    SetPolicy,
    SetPolicyWithLink,
    Confirm,
    Setup,
    Validate,
    Codes,
    NewCodes,
    NewApp,
    IsAuthenticated,
    Logout,
    CheckConfirm,
}

/// `(template, method, route)` for every endpoint. Paths match case-insensitively, as ASP.NET
/// routes do.
const ROUTES: &[(&str, &str, Route)] = &[
    ("authentication", "POST", Route::Login),
    ("authentication/{code}", "POST", Route::LoginWithCode),
    ("authentication/setphone", "POST", Route::SetPhone),
    ("authentication/sendsms", "POST", Route::SendSms),
    ("people/@self", "GET", Route::Me),
    ("settings/tfaapp", "GET", Route::Methods),
    ("settings/tfaapp", "PUT", Route::SetPolicy),
    ("settings/tfaappwithlink", "PUT", Route::SetPolicyWithLink),
    ("settings/tfaapp/confirm", "GET", Route::Confirm),
    ("settings/tfaapp/setup", "GET", Route::Setup),
    ("settings/tfaapp/validate", "POST", Route::Validate),
    ("settings/tfaappcodes", "GET", Route::Codes),
    ("settings/tfaappnewcodes", "PUT", Route::NewCodes),
    ("settings/tfaappnewapp", "PUT", Route::NewApp),
    ("authentication", "GET", Route::IsAuthenticated),
    ("authentication/logout", "POST", Route::Logout),
    ("authentication/confirm", "POST", Route::CheckConfirm),
];

/// The route template a path matches, or `None`: a literal route first (ASP.NET prefers a
/// literal segment to a parameter, so `authentication/logout` is never a code), else
/// `authentication/{code}` for any other one segment after `authentication/`.
pub(crate) fn template_of(path: &str) -> Option<&'static str> {
    let lower = path.trim_matches('/').to_ascii_lowercase();
    // Named routes first: the server's `{code}` route has `Order = 1`, so `setphone` and
    // `sendsms` are never taken for a code (`AuthenticationController.cs:113`).
    let literal = ROUTES
        .iter()
        .map(|(t, _, _)| *t)
        .find(|t| *t == lower && !t.contains('{'));
    if literal.is_some() {
        return literal;
    }
    match lower.strip_prefix("authentication/") {
        Some(rest) if !rest.is_empty() && !rest.contains('/') => Some("authentication/{code}"),
        _ => None,
    }
}

/// Handles one request.
pub(crate) fn handle(
    state: &mut State,
    ctx: &Context<'_>,
    req: &Incoming<'_>,
    creds: &Creds,
) -> Outgoing {
    let Some(template) = template_of(req.path) else {
        return Outgoing::empty(404);
    };
    let Some(route) = ROUTES
        .iter()
        .find(|(t, m, _)| *t == template && *m == req.method)
        .map(|(_, _, r)| *r)
    else {
        return Outgoing::empty(405);
    };
    let stale_cookie = session::cookie_is_stale(state, creds);
    let answer = match route {
        Route::Login => login::login(state, ctx, req),
        Route::LoginWithCode => login::login_with_code(state, ctx, req),
        Route::SetPhone => sms::set_phone(state, ctx, req, creds),
        Route::SendSms => sms::send_sms(state, ctx, req),
        Route::Me => login::me(state, ctx, req, creds),
        Route::Methods => settings::methods(state, ctx, req, creds),
        Route::SetPolicy => settings::set_policy(state, ctx, req, creds, false),
        Route::SetPolicyWithLink => settings::set_policy(state, ctx, req, creds, true),
        Route::Confirm => settings::confirm(state, ctx, req, creds),
        Route::Setup => authenticator::setup(state, ctx, req, creds),
        Route::Validate => authenticator::validate(state, ctx, req, creds),
        Route::Codes => authenticator::codes(state, ctx, req, creds, false),
        Route::NewCodes => authenticator::codes(state, ctx, req, creds, true),
        Route::NewApp => authenticator::new_app(state, ctx, req, creds),
        Route::IsAuthenticated => session::is_authenticated(state, ctx, req, creds),
        Route::Logout => session::logout(state, ctx, req, creds),
        Route::CheckConfirm => session::check_confirm(state, ctx, req, creds),
    };
    let out = answer.unwrap_or_else(|refusal| refusal);
    session::clear_stale_cookie(stale_cookie, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert_eq!(template_of("settings/tfaapp"), Some("settings/tfaapp"));
        assert_eq!(template_of("Settings/TfaApp/"), Some("settings/tfaapp"));
        assert_eq!(
            template_of("authentication/123456"),
            Some("authentication/{code}")
        );
        assert_eq!(
            template_of("authentication/{code}"),
            Some("authentication/{code}")
        );
        assert_eq!(template_of("authentication/1/2"), None);
        assert_eq!(
            template_of("Authentication/SetPhone"),
            Some("authentication/setphone")
        );
        assert_eq!(
            template_of("authentication/sendsms"),
            Some("authentication/sendsms")
        );
        for (path, template) in [
            ("authentication/logout", "authentication/logout"),
            ("Authentication/Logout/", "authentication/logout"),
            ("authentication/confirm", "authentication/confirm"),
            ("authentication", "authentication"),
            ("authentication/logouts", "authentication/{code}"),
        ] {
            assert_eq!(template_of(path), Some(template), "{path}");
        }
        assert_eq!(template_of("settings/nothing"), None);
    }
}
