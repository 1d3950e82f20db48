//! The endpoints: routing, credentials, and what each endpoint answers, as the server's
//! controllers do (`TfaappController`, `AuthenticationController`; `docs/server.md` in the
//! repository). Pure functions of the [`State`] and an [`Incoming`] request; no sockets here.

use std::fmt;
use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::refusals::{
    access_denied, error, internal, not_available, null_reference, refusal, Exception,
};
use super::state::{
    http_date, iso_datetime, CodeFailure, KeyCheck, State, PHONE_ACTIVATION, PHONE_AUTH,
    TFA_ACTIVATION, TFA_AUTH,
};
use crate::error::Result;
use crate::messages::ServerMessage;
use crate::models::TfaType;
use crate::text::{decode_component as decode, AUTH_COOKIE, CONFIRM_COOKIE_PREFIX};
/// The "null date" challenged logins carry in `expires`.
const NULL_DATE: &str = "0001-01-01T00:00:00";
/// The GUID that resolves to no user.
const EMPTY_GUID: &str = "00000000-0000-0000-0000-000000000000";

/// A request as the handlers see it.
pub(crate) struct Incoming<'a> {
    /// Upper-case method.
    pub(crate) method: &'a str,
    /// The path under `/api/2.0/`, without query, as sent (percent-encoded).
    pub(crate) path: &'a str,
    /// The peer's address (for trusted IPs).
    pub(crate) remote_ip: Option<IpAddr>,
    /// The raw body.
    pub(crate) body: &'a [u8],
}

/// An answer's body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Body {
    /// No body at all (framework refusals).
    Empty,
    /// `application/json`.
    Json(Value),
    /// `application/problem+json` (model-binding failures).
    Problem(Value),
}

/// An answer.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Outgoing {
    pub(crate) status: u16,
    pub(crate) body: Body,
    pub(crate) set_cookies: Vec<String>,
}

impl Outgoing {
    fn empty(status: u16) -> Self {
        Outgoing {
            status,
            body: Body::Empty,
            set_cookies: Vec::new(),
        }
    }

    fn cookie(mut self, cookie: String) -> Self {
        self.set_cookies.push(cookie);
        self
    }
}

/// What the handlers need besides the state.
pub(crate) struct Context<'a> {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base_url: &'a str,
    /// The tenant's domain: the issuer of `otpauth://` URIs.
    pub(crate) tenant_domain: &'a str,
}

/// The credentials a request carries. `Debug` leaves the token and key out.
#[derive(Clone, Default)]
pub(crate) struct Creds {
    /// The token from `Authorization` (with or without `Bearer`) or, failing that, the
    /// `asc_auth_key` cookie.
    pub(crate) token: Option<String>,
    pub(crate) has_authorization: bool,
    pub(crate) has_auth_cookie: bool,
    pub(crate) confirm: Option<ConfirmSeen>,
}

/// A `Confirm` header as received.
#[derive(Clone, Default)]
pub(crate) struct ConfirmSeen {
    pub(crate) confirm_type: String,
    pub(crate) uid: String,
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
            .field("confirm", &self.confirm)
            .finish()
    }
}

impl fmt::Debug for ConfirmSeen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfirmSeen")
            .field("confirm_type", &self.confirm_type)
            .field("uid", &self.uid)
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
                key_in_header: header_key.is_some(),
                key_in_cookie: cookie_key.is_some(),
                key: header_key.or(cookie_key),
                confirm_type,
            }
        });
        Creds {
            has_authorization: authorization.is_some(),
            has_auth_cookie: auth_cookie.is_some(),
            token: bearer.filter(|t| !t.is_empty()).or(auth_cookie),
            confirm,
        }
    }
}

/// The endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Login,
    LoginWithCode,
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
}

/// `(template, method, route)` for every endpoint. Paths match case-insensitively, as ASP.NET
/// routes do.
const ROUTES: &[(&str, &str, Route)] = &[
    ("authentication", "POST", Route::Login),
    ("authentication/{code}", "POST", Route::LoginWithCode),
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
];

/// The route template a path matches (`authentication/{code}` for any one segment after
/// `authentication/`), or `None`.
pub(crate) fn template_of(path: &str) -> Option<&'static str> {
    let lower = path.trim_matches('/').to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("authentication/") {
        if !rest.is_empty() && !rest.contains('/') {
            return Some("authentication/{code}");
        }
    }
    ROUTES
        .iter()
        .map(|(t, _, _)| *t)
        .find(|t| *t == lower && !t.contains('{'))
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
    let answer = match route {
        Route::Login => login(state, ctx, req),
        Route::LoginWithCode => login_with_code(state, ctx, req),
        Route::Me => me(state, ctx, req, creds),
        Route::Methods => methods(state, ctx, req, creds),
        Route::SetPolicy => set_policy(state, ctx, req, creds, false),
        Route::SetPolicyWithLink => set_policy(state, ctx, req, creds, true),
        Route::Confirm => confirm(state, ctx, req, creds),
        Route::Setup => setup(state, ctx, req, creds),
        Route::Validate => validate(state, ctx, req, creds),
        Route::Codes => codes(state, ctx, req, creds, false),
        Route::NewCodes => codes(state, ctx, req, creds, true),
        Route::NewApp => new_app(state, ctx, req, creds),
    };
    answer.unwrap_or_else(|refusal| refusal)
}

/// A handler's result: the answer, or a refusal that is an answer too.
type Answer = std::result::Result<Outgoing, Outgoing>;

// ---------------------------------------------------------------------------------------------
// Envelopes and errors

/// `{"response": value, "count", "links", "status": 0, "statusCode": 200}`; `response` is
/// omitted when the value is `null`.
fn ok(ctx: &Context<'_>, req: &Incoming<'_>, value: Value) -> Outgoing {
    let count = match &value {
        Value::Array(a) => a.len(),
        Value::Null => 0,
        _ => 1,
    };
    let mut envelope = Map::new();
    if !value.is_null() {
        envelope.insert("response".into(), value);
    }
    envelope.insert("count".into(), json!(count));
    envelope.insert(
        "links".into(),
        json!([{
            "href": format!("{}/api/2.0/{}", ctx.base_url, req.path.trim_matches('/')),
            "action": req.method,
        }]),
    );
    envelope.insert("status".into(), json!(0));
    envelope.insert("statusCode".into(), json!(200));
    Outgoing {
        status: 200,
        body: Body::Json(Value::Object(envelope)),
        set_cookies: Vec::new(),
    }
}

/// A model-binding failure, as ASP.NET answers it (not a DocSpace envelope).
fn problem(detail: &str) -> Outgoing {
    Outgoing {
        status: 400,
        body: Body::Problem(json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.",
            "status": 400,
            "errors": {"$": [detail]},
        })),
        set_cookies: Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// Parses the JSON body; an empty or malformed body is a model-binding `400`.
fn json_body(req: &Incoming<'_>) -> std::result::Result<Value, Outgoing> {
    let text = std::str::from_utf8(req.body).map_err(|_| problem("The body is not UTF-8."))?;
    if text.trim().is_empty() {
        return Err(problem("A non-empty request body is required."));
    }
    serde_json::from_str(text)
        .map_err(|e| problem(&format!("The JSON value could not be converted: {e}")))
}

/// A body field, matched case-insensitively (the server's JSON options do).
fn field<'v>(body: &'v Value, name: &str) -> Option<&'v Value> {
    body.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// A string body field; `null` and absent are `""`; another type is a binding error.
fn string_field(body: &Value, name: &str) -> std::result::Result<String, Outgoing> {
    match field(body, name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(problem(&format!(
            "The JSON value could not be converted to System.String. Path: $.{name}"
        ))),
    }
}

/// A list-of-strings body field; `null` and absent are empty.
fn list_field(body: &Value, name: &str) -> std::result::Result<Vec<String>, Outgoing> {
    match field(body, name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str().map(str::to_owned).ok_or_else(|| {
                    problem(&format!(
                        "The JSON value could not be converted. Path: $.{name}"
                    ))
                })
            })
            .collect(),
        Some(_) => Err(problem(&format!(
            "The JSON value could not be converted. Path: $.{name}"
        ))),
    }
}

/// The `session` flag of login and validate bodies.
fn session_flag(body: &Value) -> bool {
    field(body, "session")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The signed-in user of a request, or an empty-body `401`.
fn signed_in(state: &State, creds: &Creds) -> std::result::Result<usize, Outgoing> {
    creds
        .token
        .as_deref()
        .and_then(|t| state.user_for_token(t))
        .ok_or_else(|| Outgoing::empty(401))
}

/// `{base}/confirm/{type}?type={type}&uid={uid}`.
fn confirm_url(ctx: &Context<'_>, confirm_type: &str, uid: &str) -> String {
    format!(
        "{}/confirm/{confirm_type}?type={confirm_type}&uid={uid}",
        ctx.base_url
    )
}

/// `asc_confirm_key_<type>=<key>; path=/; …`.
fn confirm_cookie(confirm_type: &str, key: &str) -> String {
    format!("{CONFIRM_COOKIE_PREFIX}{confirm_type}={key}; path=/; samesite=lax; httponly")
}

/// Clears `asc_confirm_key_<type>`.
fn clear_confirm_cookie(confirm_type: &str) -> String {
    format!(
        "{CONFIRM_COOKIE_PREFIX}{confirm_type}=; expires={}; path=/; samesite=lax; httponly",
        http_date(0)
    )
}

/// `asc_auth_key=<token>; …`: a session cookie when `session` is true, else persistent.
fn auth_cookie(state: &State, token: &str, session: bool) -> String {
    if session {
        format!("{AUTH_COOKIE}={token}; path=/; samesite=lax; httponly")
    } else {
        let expires = http_date(state.now().saturating_add(state.config.session_lifetime));
        format!("{AUTH_COOKIE}={token}; expires={expires}; path=/; samesite=lax; httponly")
    }
}

/// Issues a key for `(type, user)` and returns `(url, key)`.
fn ticket_for(
    state: &mut State,
    ctx: &Context<'_>,
    confirm_type: &str,
    user: usize,
) -> Result<(String, String)> {
    let uid = state.users[user].id.clone();
    let key = state.issue_key(confirm_type, &uid)?;
    Ok((confirm_url(ctx, confirm_type, &uid), key))
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
fn confirm_user(
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

// ---------------------------------------------------------------------------------------------
// Authentication

/// `POST authentication`.
fn login(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>) -> Answer {
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

    if state.sms_applies(user, ip) {
        let (confirm_type, noise) = match state.users[user].phone.clone() {
            Some(phone) => (PHONE_AUTH, Some(phone_noise(&phone))),
            None => (PHONE_ACTIVATION, None),
        };
        let (url, key) = ticket_for(state, ctx, confirm_type, user).map_err(|e| internal(&e))?;
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
        let (url, key) = ticket_for(state, ctx, confirm_type, user).map_err(|e| internal(&e))?;
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
fn login_with_code(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>) -> Answer {
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
fn me(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>, creds: &Creds) -> Answer {
    let user = signed_in(state, creds)?;
    let u = &state.users[user];
    let answer = json!({
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
    Ok(ok(ctx, req, answer))
}

// ---------------------------------------------------------------------------------------------
// The TFA settings

/// `GET settings/tfaapp` (`GetTfaSettings`): the titles are the server's `ButtonSmsEnable` and
/// `ButtonTfaAppEnable`; the three lists are omitted while they are `null` (before a policy was
/// first saved, and after the method was switched off).
fn methods(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>, creds: &Creds) -> Answer {
    signed_in(state, creds)?;
    let entry = |id: &str, title: &str, s: &super::state::MethodSettings, available: bool| {
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
        entry("sms", "By SMS", &state.sms, state.config.sms_available),
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

/// `PUT settings/tfaapp` and `PUT settings/tfaappwithlink`.
fn set_policy(
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
    let id = string_field(&body, "id")?;
    let lists = super::state::PolicyLists {
        trusted_ips: list_field(&body, "trustedIps")?,
        mandatory_users: list_field(&body, "mandatoryUsers")?,
        mandatory_groups: list_field(&body, "mandatoryGroups")?,
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
            state.sms.save(lists);
            state.app.switch_off();
            true
        }
        TfaType::App => {
            if !state.config.app_available {
                return Err(not_available(state));
            }
            state.app.save(lists);
            state.sms.switch_off();
            true
        }
        _ => {
            state.app.switch_off();
            state.sms.switch_off();
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
fn own_confirm(
    state: &mut State,
    ctx: &Context<'_>,
    user: usize,
    ip: Option<IpAddr>,
) -> Result<Option<(String, Option<(String, String)>)>> {
    if state.sms_applies(user, ip) {
        let confirm_type = if state.users[user].phone.is_some() {
            PHONE_AUTH
        } else {
            PHONE_ACTIVATION
        };
        let uid = state.users[user].id.clone();
        return Ok(Some((confirm_url(ctx, confirm_type, &uid), None)));
    }
    if state.app_applies(user, ip) {
        let confirm_type = if state.users[user].linked {
            TFA_AUTH
        } else {
            TFA_ACTIVATION
        };
        let (url, key) = ticket_for(state, ctx, confirm_type, user)?;
        return Ok(Some((url, Some((confirm_type.to_owned(), key)))));
    }
    Ok(None)
}

/// `GET settings/tfaapp/confirm`.
fn confirm(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>, creds: &Creds) -> Answer {
    let user = signed_in(state, creds)?;
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

/// `GET settings/tfaapp/setup` (ticket `TfaActivation`).
fn setup(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>, creds: &Creds) -> Answer {
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
fn validate(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>, creds: &Creds) -> Answer {
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
fn codes(
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
fn new_app(state: &mut State, ctx: &Context<'_>, req: &Incoming<'_>, creds: &Creds) -> Answer {
    let caller = signed_in(state, creds)?;
    let body = json_body(req)?;
    let id = string_field(&body, "id")?;
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
        let (url, key) =
            ticket_for(state, ctx, TFA_ACTIVATION, caller).map_err(|e| internal(&e))?;
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
        assert_eq!(template_of("settings/nothing"), None);
    }

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

    #[test]
    fn phone_is_masked() {
        assert_eq!(phone_noise("+7 (912) 345-67-12"), "+7 ********12");
        assert_eq!(phone_noise(""), "+ ");
    }
}
