//! The session's life against the embedded emulator, over real HTTP: the library's
//! `is_authenticated` and `logout` end to end, the emulator's `GET authentication` and `POST
//! authentication/logout` as the server answers them (raw requests where the library would not
//! send such a request), the cookie handler's clean-up, and the live-confirmed facts of
//! ONLYOFFICE's API tests (`docs/emulator.md`, "The session's life"). `POST
//! authentication/confirm` is in `tests/confirm_emulator.rs`.
#![cfg(feature = "emulator")]

#[path = "support/raw_emulator.rs"]
mod raw_support;

use docspace_tfa::emulator::NewUser;
use docspace_tfa::{ErrorKind, LoginOutcome, TfaPolicy, TfaType};
use raw_support::*;
use serde_json::json;

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

#[test]
fn a_session_login_carries_the_null_date_in_expires() -> TestResult {
    // `AuthenticationTokenDto.Expires` is a non-nullable `DateTime`, set only without
    // `session` (`AuthenticationController.cs:170-174, 322-328`).
    let portal = portal();
    portal.add_user(NewUser::new("user@example.com", PASSWORD))?;
    for (session, null_date) in [(true, true), (false, false)] {
        let answer = raw(
            &portal,
            "POST",
            "authentication",
            &[],
            Some(json!({"userName": "user@example.com", "password": PASSWORD, "session": session})),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
        let expires = answer.body["response"]["expires"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(
            expires == "0001-01-01T00:00:00",
            null_date,
            "session {session}: {expires}"
        );
        assert!(answer.body["response"]["token"].is_string());
    }
    Ok(())
}
