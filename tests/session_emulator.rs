//! The session's life against the embedded emulator, over real HTTP: the library's
//! `is_authenticated`, `logout` and `check_confirm` end to end, the emulator's `GET
//! authentication`, `POST authentication/logout` and `POST authentication/confirm` as the
//! server answers them (raw requests where the library would not send such a request), and
//! the live-confirmed facts of ONLYOFFICE's API tests (`docs/emulator.md`, "The session's life").
#![cfg(feature = "emulator")]

use std::time::Duration;

use docspace_tfa::emulator::{Emulator, NewUser, TicketType};
use docspace_tfa::{Client, ConfirmResult, ErrorKind, LoginOutcome, TfaPolicy, TfaType};
use serde_json::{json, Value};

const T0: u64 = 1_700_000_000;
const PASSWORD: &str = "correct horse battery staple";
const SECRET: &[u8] = b"0123456789";

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn portal() -> Emulator {
    // The app method off until a test switches it on: a login is a session.
    Emulator::builder()
        .time(T0)
        .app_method_enabled(false)
        .start()
        .expect("emulator starts")
}

/// An answer as a raw client sees it.
struct Raw {
    status: u16,
    set_cookies: Vec<String>,
    body: Value,
}

/// Sends a request with exactly these headers (and a JSON body when given).
fn raw(
    portal: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Raw {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/api/2.0/{path}", portal.base_url());
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (n, v) in headers {
        request = request.header(*n, *v);
    }
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    if !text.is_empty() {
        request = request.header("Content-Type", "application/json");
    }
    let mut response = agent
        .run(request.body(text).expect("a valid request"))
        .expect("the emulator answers");
    let set_cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Raw {
        status,
        set_cookies,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// A client of the portal with `token`.
fn with_token(portal: &Emulator, token: &str) -> Client {
    portal.client().expect("client").with_token(token)
}

#[test]
fn get_authentication_is_true_for_a_live_credential_and_200_false_otherwise() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("user@example.com", PASSWORD))?;
    let key = portal.issue_api_key(&id)?;
    let session = portal.open_session(&id)?;
    let cookie = format!("asc_auth_key={}", session.expose());
    let bearer = format!("Bearer {}", key.expose());
    for (headers, expected) in [
        (vec![], false),
        (vec![("Authorization", bearer.as_str())], true),
        (vec![("Authorization", session.expose())], true),
        (vec![("Cookie", cookie.as_str())], true),
        (vec![("Authorization", "Bearer not-a-token")], false),
        (vec![("Cookie", "asc_auth_key=not-a-token")], false),
    ] {
        let answer = raw(&portal, "GET", "authentication", &headers, None);
        assert_eq!(answer.status, 200, "{headers:?}");
        assert_eq!(answer.body["response"], json!(expected), "{headers:?}");
    }
    // The library: the same, through its own credentials.
    assert!(with_token(&portal, key.expose())
        .auth()
        .is_authenticated()?);
    assert!(!portal.client()?.auth().is_authenticated()?);
    Ok(())
}

#[test]
fn logout_ends_only_the_cookies_session_and_answers_200_to_everyone() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("user@example.com", PASSWORD))?;
    let (one, two) = (portal.open_session(&id)?, portal.open_session(&id)?);
    let key = portal.issue_api_key(&id)?;

    // Anonymous: 200, `null` (no `response`), no cookie touched.
    let anonymous = raw(&portal, "POST", "authentication/logout", &[], None);
    assert_eq!((anonymous.status, anonymous.set_cookies.len()), (200, 0));
    assert_eq!(anonymous.body.get("response"), None);
    assert_eq!(anonymous.body["statusCode"], json!(200));

    // The token only in `Authorization`: 200, and the session lives on.
    let header_only = raw(
        &portal,
        "POST",
        "authentication/logout",
        &[("Authorization", one.expose())],
        None,
    );
    assert_eq!(header_only.status, 200);
    assert!(with_token(&portal, one.expose())
        .auth()
        .is_authenticated()?);

    // The cookie: that session ends, the cookie is deleted; the other session and the key live.
    let cookie = format!("asc_auth_key={}", one.expose());
    let ended = raw(
        &portal,
        "POST",
        "authentication/logout",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(ended.status, 200);
    assert!(
        ended
            .set_cookies
            .iter()
            .any(|c| c.starts_with("asc_auth_key=;") && c.contains("1970")),
        "{:?}",
        ended.set_cookies
    );
    assert!(!with_token(&portal, one.expose())
        .auth()
        .is_authenticated()?);
    assert!(with_token(&portal, two.expose())
        .auth()
        .is_authenticated()?);
    assert!(with_token(&portal, key.expose())
        .auth()
        .is_authenticated()?);
    let err = with_token(&portal, one.expose())
        .people()
        .me()
        .expect_err("an ended session");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    Ok(())
}

#[test]
fn library_logout_ends_a_login_and_refuses_an_api_key() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("user@example.com", PASSWORD))?;
    let client = portal.client()?;
    let LoginOutcome::Authenticated(session) = client.auth().login("user@example.com", PASSWORD)?
    else {
        panic!("no TFA on this portal: a login is a session");
    };
    let signed_in = client.with_token(session.token);
    assert!(signed_in.auth().is_authenticated()?);
    let out = signed_in.auth().logout()?;
    assert_eq!(out.sso_logout_url, None);
    assert!(!signed_in.auth().is_authenticated()?);
    assert_eq!(portal.request_count("POST", "authentication/logout"), 1);

    // An API key: refused before anything is sent.
    let key = portal.issue_api_key(&id)?;
    let err = with_token(&portal, key.expose())
        .auth()
        .logout()
        .expect_err("an API key is no session");
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(portal.request_count("POST", "authentication/logout"), 1);
    Ok(())
}

#[test]
fn check_confirm_answers_per_ticket_type_and_key() -> TestResult {
    let portal = portal();
    let id = portal.add_user(
        NewUser::new("user@example.com", PASSWORD)
            .secret(SECRET)
            .linked(),
    )?;
    portal.set_policy(&TfaPolicy::new(TfaType::App));
    let client = portal.client()?;
    let ticket = match client.auth().login("user@example.com", PASSWORD)? {
        LoginOutcome::TfaCodeRequired { ticket } => ticket,
        other => panic!("expected a TFA challenge, got {other:?}"),
    };
    let url = ticket.url().expect("a login ticket has its URL").to_owned();
    let key = ticket.key().expose().to_owned();
    let activation = portal.ticket(&id, TicketType::TfaActivation)?;
    let activation_url = activation.url().expect("url").to_owned();
    let check = |url: &str, key: &str| client.auth().check_confirm(url, Some(key));

    let ok = check(&url, &key)?;
    assert_eq!((ok.result, ok.email), (ConfirmResult::Ok, None));
    for (what, url, key, expected) in [
        (
            "a wrong key",
            url.as_str(),
            "1700000000.ABCDEF",
            ConfirmResult::Invalid,
        ),
        (
            "another type's key",
            url.as_str(),
            activation.key().expose(),
            ConfirmResult::Invalid,
        ),
        (
            "the activation ticket",
            activation_url.as_str(),
            activation.key().expose(),
            ConfirmResult::Ok,
        ),
        (
            "an e-mailed type",
            "/confirm/EmpInvite?type=EmpInvite&email=new%40example.com&emplType=2",
            key.as_str(),
            ConfirmResult::Invalid,
        ),
    ] {
        assert_eq!(check(url, key)?.result, expected, "{what}");
    }
    // An e-mail in the link comes back with Ok.
    let with_email = check(&format!("{url}&email=user%40example.com"), &key)?;
    assert_eq!(with_email.email.as_deref(), Some("user@example.com"));

    // After the key lifetime (1 hour): expired; a key never issued stays invalid.
    portal.advance(Duration::from_secs(3601));
    assert_eq!(check(&url, &key)?.result, ConfirmResult::Expired);
    Ok(())
}

/// `(what, request headers, body, status, result)`.
type ConfirmCase<'a> = (&'a str, Vec<(&'a str, &'a str)>, Value, u16, Value);

#[test]
fn confirm_endpoint_reads_the_cookie_refuses_no_key_and_tfa_auth_when_signed_in() -> TestResult {
    let portal = portal();
    let id = portal.add_user(
        NewUser::new("user@example.com", PASSWORD)
            .secret(SECRET)
            .linked(),
    )?;
    let ticket = portal.ticket(&id, TicketType::TfaAuth)?;
    let key = ticket.key().expose().to_owned();
    let session = portal.open_session(&id)?;
    let cookie = format!("asc_confirm_key_TfaAuth={key}");
    let body = |extra: Value| {
        let mut b = json!({"type": "TfaAuth", "uiD": id});
        if let (Value::Object(b), Value::Object(extra)) = (&mut b, extra) {
            b.extend(extra);
        }
        b
    };
    let cases: Vec<ConfirmCase> = vec![
        (
            "the key in the body",
            vec![],
            body(json!({"key": key})),
            200,
            json!(0),
        ),
        (
            "the key in the cookie",
            vec![("Cookie", &cookie)],
            body(json!({})),
            200,
            json!(0),
        ),
        (
            "the type as a number",
            vec![],
            body(json!({"key": key, "type": 16})),
            200,
            json!(0),
        ),
        (
            "a signed-in caller",
            vec![("Authorization", session.expose())],
            body(json!({"key": key})),
            200,
            json!(1),
        ),
        (
            "no key, no cookie",
            vec![],
            body(json!({})),
            400,
            Value::Null,
        ),
        (
            "a malformed email",
            vec![],
            body(json!({"key": key, "email": "nobody"})),
            400,
            Value::Null,
        ),
        (
            "a malformed uiD",
            vec![],
            json!({"type": "TfaAuth", "uiD": "not-a-guid", "key": key}),
            400,
            Value::Null,
        ),
        (
            "an unknown type",
            vec![],
            body(json!({"key": key, "type": "NoSuchType"})),
            400,
            Value::Null,
        ),
    ];
    for (what, headers, body, status, result) in cases {
        let answer = raw(
            &portal,
            "POST",
            "authentication/confirm",
            &headers,
            Some(body),
        );
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        if status == 200 {
            assert_eq!(answer.body["response"]["result"], result, "{what}");
            assert_eq!(answer.body["response"]["isAgent"], json!(false), "{what}");
        }
    }
    let no_key = raw(
        &portal,
        "POST",
        "authentication/confirm",
        &[],
        Some(body(json!({}))),
    );
    assert_eq!(
        no_key.body["error"]["type"],
        json!("System.ArgumentNullException")
    );
    let bad_email = raw(
        &portal,
        "POST",
        "authentication/confirm",
        &[],
        Some(body(json!({"key": key, "email": "nobody"}))),
    );
    assert!(
        bad_email.body["errors"]["Email"].is_array(),
        "{}",
        bad_email.body
    );
    Ok(())
}

#[test]
fn new_routes_are_not_codes_and_other_methods_are_405() {
    let portal = portal();
    for (method, path, status) in [
        ("GET", "authentication/logout", 405),
        ("GET", "authentication/confirm", 405),
        ("PUT", "authentication", 405),
        ("POST", "Authentication/Logout", 200),
    ] {
        let answer = raw(&portal, method, path, &[], None);
        assert_eq!(answer.status, status, "{method} {path}");
    }
}

#[test]
fn live_confirmed_facts_of_onlyoffices_api_tests() -> TestResult {
    let portal = portal();
    let owner = portal.add_user(NewUser::new("owner@example.com", PASSWORD).owner())?;
    let member = portal.add_user(NewUser::new("member@example.com", PASSWORD))?;
    portal.add_user(NewUser::new("other@example.com", PASSWORD))?;
    let client = portal.client()?;

    // Login lock: five wrong passwords (401 each), then the right one: 403, no final stop;
    // another account is unaffected.
    for _ in 0..5 {
        let err = client
            .auth()
            .login("member@example.com", "wrong")
            .expect_err("a wrong password");
        assert_eq!(err.server_message(), Some("User authentication failed"));
    }
    let locked = client
        .auth()
        .login("member@example.com", PASSWORD)
        .expect_err("locked");
    assert_eq!(
        (locked.kind(), locked.status()),
        (ErrorKind::RateLimited, Some(403))
    );
    assert_eq!(
        locked.server_message(),
        Some("Too many login attempts. Please try again later")
    );
    assert!(matches!(
        client.auth().login("other@example.com", PASSWORD)?,
        LoginOutcome::Authenticated(_)
    ));

    // Backup codes while the app method is off: 403, not 405.
    let owner_key = portal.issue_api_key(&owner)?;
    let as_owner = with_token(&portal, owner_key.expose());
    for err in [
        as_owner.tfa().backup_codes().expect_err("app off"),
        as_owner
            .tfa()
            .regenerate_backup_codes()
            .expect_err("app off"),
    ] {
        assert_eq!(
            (err.kind(), err.status()),
            (ErrorKind::NotAvailable, Some(403))
        );
    }

    // Enabling the app method ends the caller's own session at once.
    let owner_session = portal.open_session(&owner)?;
    let owner_signed_in = with_token(&portal, owner_session.expose());
    assert!(owner_signed_in
        .tfa()
        .set_policy(&TfaPolicy::new(TfaType::App))?);
    assert!(!owner_signed_in.auth().is_authenticated()?);

    // The owner unlinking a member's app ends the member's sessions.
    let linked = portal.add_user(
        NewUser::new("linked@example.com", PASSWORD)
            .secret(SECRET)
            .linked(),
    )?;
    let linked_session = portal.open_session(&linked)?;
    as_owner.tfa().unlink_user(&linked)?;
    assert!(!with_token(&portal, linked_session.expose())
        .auth()
        .is_authenticated()?);
    let _ = member;
    Ok(())
}

#[test]
fn a_stale_auth_cookie_is_deleted_in_the_answer_unless_it_is_an_error_envelope() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("user@example.com", PASSWORD).admin())?;
    let live = portal.open_session(&id)?;
    let live_cookie = format!("asc_auth_key={}", live.expose());
    let deletes = |r: &Raw| {
        r.set_cookies
            .iter()
            .filter(|c| c.starts_with("asc_auth_key=;"))
            .count()
    };
    // (what, method, path, cookie, status, deletions)
    for (what, method, path, cookie, status, deletions) in [
        (
            "a live cookie",
            "GET",
            "authentication",
            live_cookie.as_str(),
            200,
            0,
        ),
        (
            "a stale cookie, GET authentication",
            "GET",
            "authentication",
            "asc_auth_key=gone",
            200,
            1,
        ),
        (
            "a stale cookie, an empty 401",
            "GET",
            "people/@self",
            "asc_auth_key=gone",
            401,
            1,
        ),
        (
            "a stale cookie, logout: one deletion",
            "POST",
            "authentication/logout",
            "asc_auth_key=gone",
            200,
            1,
        ),
        ("no auth cookie", "GET", "authentication", "other=1", 200, 0),
    ] {
        let r = raw(&portal, method, path, &[("Cookie", cookie)], None);
        assert_eq!(
            (r.status, deletes(&r)),
            (status, deletions),
            "{what}: {:?}",
            r.set_cookies
        );
    }
    // An error envelope is written into a cleared response: no Set-Cookie survives.
    let r = raw(
        &portal,
        "POST",
        "authentication",
        &[("Cookie", "asc_auth_key=gone")],
        Some(json!({"userName": "user@example.com", "password": "wrong"})),
    );
    assert_eq!((r.status, deletes(&r)), (401, 0));
    // A session the endpoint itself ends (switching a method on) keeps its cookie here.
    let policy = raw(
        &portal,
        "PUT",
        "settings/tfaapp",
        &[("Cookie", &live_cookie)],
        Some(json!({"type": "App"})),
    );
    assert_eq!((policy.status, deletes(&policy)), (200, 0));
    Ok(())
}
