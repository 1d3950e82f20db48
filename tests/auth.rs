//! The TFA-aware login: `POST authentication` and `POST authentication/{code}`.

mod support;

use std::time::{Duration, Instant};

use docspace_tfa::{Client, ErrorKind, LoginOutcome, RetryPolicy};
use mockito::{Matcher, Server};
use serde_json::json;
use support::*;

const LOGIN: &str = "/api/2.0/authentication";
const EXPIRES: &str = "2026-06-12T10:20:30.1234567+03:00";
const DUMMY_EXPIRES: &str = "0001-01-01T00:00:00";

/// A mock for an anonymous login call with the exact body the crate must send.
fn login_mock(server: &mut Server, path: &str, body: serde_json::Value) -> mockito::Mock {
    server
        .mock("POST", path)
        .match_header("authorization", Matcher::Missing)
        .match_header("confirm", Matcher::Missing)
        .match_header("accept", "application/json")
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(body))
}

fn login_body() -> serde_json::Value {
    json!({"userName": USER_NAME, "password": PASSWORD, "session": false})
}

fn code_body(code: &str) -> serde_json::Value {
    json!({"userName": USER_NAME, "password": PASSWORD, "code": code, "session": false})
}

#[test]
fn login_without_tfa_is_authenticated() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_header(
            "set-cookie",
            &format!("asc_auth_key={LOGIN_TOKEN}; path=/; secure; httponly"),
        )
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"token": LOGIN_TOKEN, "expires": EXPIRES, "sms": false, "tfa": false}),
        ))
        .expect(1)
        .create();
    // A client with a token still logs in anonymously.
    let outcome = client(&server).auth().login(USER_NAME, PASSWORD).unwrap();
    match &outcome {
        LoginOutcome::Authenticated(session) => {
            assert_eq!(session.token.expose(), LOGIN_TOKEN);
            assert_eq!(session.expires.as_deref(), Some(EXPIRES));
        }
        other => panic!("expected Authenticated, got {other:?}"),
    }
    assert!(!format!("{outcome:?}").contains(LOGIN_TOKEN));
    mock.assert();
}

#[test]
fn login_trims_the_user_name() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"token": LOGIN_TOKEN, "expires": EXPIRES}),
        ))
        .expect(1)
        .create();
    let outcome = anonymous_client(&server)
        .auth()
        .login(&format!("  {USER_NAME}\n"), PASSWORD)
        .unwrap();
    assert!(matches!(outcome, LoginOutcome::Authenticated(_)));
    mock.assert();
}

#[test]
fn login_activation_required_carries_a_complete_ticket_and_the_manual_key() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_header("set-cookie", &confirm_cookie("TfaActivation", CONFIRM_KEY))
        .with_body(envelope(
            "POST",
            "authentication",
            json!({
                "expires": DUMMY_EXPIRES,
                "sms": false,
                "tfa": true,
                "tfaKey": MANUAL_KEY,
                "confirmUrl": activation_url(),
            }),
        ))
        .expect(1)
        .create();
    let outcome = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap();
    let shown = format!("{outcome:?}");
    match outcome {
        LoginOutcome::TfaActivationRequired { ticket, tfa_key } => {
            assert_eq!(ticket.confirm_type(), "TfaActivation");
            assert_eq!(ticket.uid(), USER_ID);
            assert_eq!(ticket.key().expose(), CONFIRM_KEY);
            assert_eq!(ticket.url(), Some(activation_url().as_str()));
            assert!(!ticket.is_tfa_auth());
            assert_eq!(tfa_key.unwrap().expose(), MANUAL_KEY);
        }
        other => panic!("expected TfaActivationRequired, got {other:?}"),
    }
    assert!(!shown.contains(CONFIRM_KEY), "{shown}");
    assert!(!shown.contains(MANUAL_KEY), "{shown}");
    mock.assert();
}

#[test]
fn login_code_required_carries_a_tfa_auth_ticket() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        // Another cookie first, as a portal may send: the key is the one named for the type.
        .with_header(
            "set-cookie",
            "asc_auth_key=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT",
        )
        .with_header("set-cookie", &confirm_cookie("TfaAuth", CONFIRM_KEY))
        .with_body(envelope(
            "POST",
            "authentication",
            json!({
                "expires": DUMMY_EXPIRES,
                "sms": false,
                "tfa": true,
                "confirmUrl": auth_url(),
            }),
        ))
        .expect(1)
        .create();
    let outcome = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap();
    match outcome {
        LoginOutcome::TfaCodeRequired { ticket } => {
            assert!(ticket.is_tfa_auth());
            assert_eq!(ticket.confirm_type(), "TfaAuth");
            assert_eq!(ticket.uid(), USER_ID);
            assert_eq!(ticket.key().expose(), CONFIRM_KEY);
            assert_eq!(ticket.cookie_name(), "asc_confirm_key_TfaAuth");
        }
        other => panic!("expected TfaCodeRequired, got {other:?}"),
    }
    mock.assert();
}

#[test]
fn login_sms_required_carries_url_and_masked_phone() {
    let mut server = Server::new();
    let phone_url = format!("{PORTAL}/confirm/PhoneAuth?type=PhoneAuth&uid={USER_ID}");
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_body(envelope(
            "POST",
            "authentication",
            json!({
                "expires": EXPIRES,
                "sms": true,
                "phoneNoise": "+7 *** *** **12",
                "tfa": false,
                "confirmUrl": phone_url,
            }),
        ))
        .expect(1)
        .create();
    let outcome = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap();
    let LoginOutcome::SmsRequired {
        confirm_url,
        phone_noise,
        expires,
    } = outcome
    else {
        panic!("expected SmsRequired, got {outcome:?}");
    };
    assert_eq!(confirm_url, phone_url);
    assert_eq!(phone_noise.as_deref(), Some("+7 *** *** **12"));
    assert_eq!(expires.as_deref(), Some(EXPIRES));
    mock.assert();
}

#[test]
fn login_outcome_is_decided_from_token_tfa_and_sms_not_expires() {
    // A challenged answer with a real-looking expiry is still a challenge; a token with the
    // dummy expiry is still a session (with no expiry reported).
    let mut server = Server::new();
    let challenged = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_header("set-cookie", &confirm_cookie("TfaAuth", CONFIRM_KEY))
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"expires": EXPIRES, "tfa": true, "sms": false, "confirmUrl": auth_url(),
                   "token": null}),
        ))
        .expect(1)
        .create();
    let c = anonymous_client(&server);
    assert!(matches!(
        c.auth().login(USER_NAME, PASSWORD).unwrap(),
        LoginOutcome::TfaCodeRequired { .. }
    ));
    challenged.assert();
    challenged.remove();

    let token = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"token": LOGIN_TOKEN, "expires": DUMMY_EXPIRES, "tfa": false, "sms": false}),
        ))
        .expect(1)
        .create();
    match c.auth().login(USER_NAME, PASSWORD).unwrap() {
        LoginOutcome::Authenticated(s) => {
            assert_eq!(s.token.expose(), LOGIN_TOKEN);
            assert_eq!(s.expires, None);
        }
        other => panic!("expected Authenticated, got {other:?}"),
    }
    token.assert();
}

#[test]
fn login_wrong_password_is_unauthorized() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_status(401)
        .with_header("content-type", JSON)
        .with_body(authentication_failed())
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.server_message(), Some("User authentication failed"));
    assert_eq!(
        err.to_string(),
        "POST authentication: HTTP 401: User authentication failed"
    );
    assert_no_secrets(&err, &err.to_string(), &[PASSWORD]);
    mock.assert();
}

#[test]
fn login_lock_403_is_rate_limited() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(error_envelope(
            403,
            "The maximum number of login attempts has been exceeded. Please try again later.",
            None,
        ))
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_rate_limited());
    assert_eq!(err.status(), Some(403));
    mock.assert();
}

#[test]
fn login_challenge_without_the_key_cookie_is_a_decode_error() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_body(envelope(
            "POST",
            "authentication",
            json!({
                "expires": DUMMY_EXPIRES,
                "sms": false,
                "tfa": true,
                "tfaKey": MANUAL_KEY,
                "confirmUrl": activation_url(),
            }),
        ))
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.to_string().contains("asc_confirm_key_TfaActivation"),
        "{err}"
    );
    assert_no_secrets(&err, &err.to_string(), &[MANUAL_KEY, PASSWORD]);
    mock.assert();
}

#[test]
fn login_challenge_without_confirm_url_is_a_decode_error() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_header("set-cookie", &confirm_cookie("TfaAuth", CONFIRM_KEY))
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"expires": DUMMY_EXPIRES, "sms": false, "tfa": true}),
        ))
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("confirmUrl"), "{err}");
    mock.assert();
}

#[test]
fn login_answer_with_nothing_to_decide_on_is_a_decode_error() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_header("content-type", JSON)
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"expires": DUMMY_EXPIRES, "sms": false, "tfa": false}),
        ))
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    mock.assert();
}

#[test]
fn login_refuses_empty_credentials_before_sending() {
    let mut server = Server::new();
    let mock = server.mock("POST", Matcher::Any).expect(0).create();
    let c = anonymous_client(&server);
    let err = c.auth().login("  ", PASSWORD).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("user name"), "{err}");
    let err = c.auth().login(USER_NAME, "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("password"), "{err}");
    let err = c
        .auth()
        .login_with_code(USER_NAME, "", "123456")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    mock.assert();
}

#[test]
fn login_is_sent_once_even_on_503() {
    let mut server = Server::new();
    let mock = login_mock(&mut server, LOGIN, login_body())
        .with_status(503)
        .with_body("")
        .expect(1)
        .create();
    let err = retrying_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.kind(), ErrorKind::Server);
    mock.assert();
}

// ---------------------------------------------------------------------------------------------
// POST authentication/{code}

#[test]
fn login_with_code_sends_the_code_in_path_and_body() {
    let mut server = Server::new();
    let mock = login_mock(
        &mut server,
        "/api/2.0/authentication/123456",
        code_body("123456"),
    )
    .with_header("content-type", JSON)
    .with_body(envelope(
        "POST",
        "authentication/123456",
        json!({"token": LOGIN_TOKEN, "expires": EXPIRES, "sms": false, "tfa": true}),
    ))
    .expect(1)
    .create();
    let session = anonymous_client(&server)
        .auth()
        .login_with_code(USER_NAME, PASSWORD, " 123 456 ")
        .unwrap();
    assert_eq!(session.token.expose(), LOGIN_TOKEN);
    assert_eq!(session.expires.as_deref(), Some(EXPIRES));
    assert!(!format!("{session:?}").contains(LOGIN_TOKEN));
    mock.assert();
}

#[test]
fn login_with_a_backup_code() {
    let mut server = Server::new();
    let mock = login_mock(
        &mut server,
        "/api/2.0/authentication/a_B7c-",
        code_body("a_B7c-"),
    )
    .with_header("content-type", JSON)
    .with_body(envelope(
        "POST",
        "authentication/a_B7c-",
        json!({"token": LOGIN_TOKEN, "expires": EXPIRES, "tfa": true}),
    ))
    .expect(1)
    .create();
    let session = anonymous_client(&server)
        .auth()
        .login_with_code(USER_NAME, PASSWORD, "a_B7c-")
        .unwrap();
    assert_eq!(session.token.expose(), LOGIN_TOKEN);
    mock.assert();
}

#[test]
fn login_with_code_rejects_non_codes_before_sending() {
    let mut server = Server::new();
    let mock = server.mock("POST", Matcher::Any).expect(0).create();
    let c = anonymous_client(&server);
    for bad in [
        "",
        "  ",
        "../people",
        "12/34",
        "123456?x=1",
        "12%2F34",
        "１２３４５６",
        "12\t34",
    ] {
        let err = c
            .auth()
            .login_with_code(USER_NAME, PASSWORD, bad)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        assert!(err.to_string().contains("code"), "{err}");
    }
    mock.assert();
}

#[test]
fn login_with_a_wrong_code_is_unauthorized() {
    let mut server = Server::new();
    let mock = login_mock(
        &mut server,
        "/api/2.0/authentication/000000",
        code_body("000000"),
    )
    .with_status(401)
    .with_header("content-type", JSON)
    .with_body(authentication_failed())
    .expect(1)
    .create();
    let err = anonymous_client(&server)
        .auth()
        .login_with_code(USER_NAME, PASSWORD, "000000")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    assert_eq!(
        err.to_string(),
        "POST authentication/{code}: HTTP 401: User authentication failed"
    );
    assert_no_secrets(&err, &err.to_string(), &["000000", PASSWORD]);
    mock.assert();
}

#[test]
fn login_with_code_without_a_token_in_the_answer_is_a_decode_error() {
    let mut server = Server::new();
    let mock = login_mock(
        &mut server,
        "/api/2.0/authentication/123456",
        code_body("123456"),
    )
    .with_header("content-type", JSON)
    .with_header("set-cookie", &confirm_cookie("TfaAuth", CONFIRM_KEY))
    .with_body(envelope(
        "POST",
        "authentication/123456",
        json!({"expires": DUMMY_EXPIRES, "tfa": true, "confirmUrl": auth_url()}),
    ))
    .expect(1)
    .create();
    let err = anonymous_client(&server)
        .auth()
        .login_with_code(USER_NAME, PASSWORD, "123456")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("session token"), "{err}");
    mock.assert();
}

#[test]
fn login_with_code_is_sent_once_even_on_503() {
    let mut server = Server::new();
    let mock = login_mock(
        &mut server,
        "/api/2.0/authentication/123456",
        code_body("123456"),
    )
    .with_status(503)
    .with_body("")
    .expect(1)
    .create();
    let err = retrying_client(&server)
        .auth()
        .login_with_code(USER_NAME, PASSWORD, "123456")
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    mock.assert();
}

// ---------------------------------------------------------------------------------------------
// Continuing with the token

#[test]
fn with_token_continues_on_the_same_portal_with_the_new_token() {
    let mut server = Server::new();
    let login = login_mock(
        &mut server,
        "/docspace/api/2.0/authentication",
        login_body(),
    )
    .with_header("content-type", JSON)
    .with_body(envelope(
        "POST",
        "authentication",
        json!({"token": LOGIN_TOKEN, "expires": EXPIRES}),
    ))
    .expect(1)
    .create();
    let me = server
        .mock("GET", "/docspace/api/2.0/people/@self")
        .match_header("authorization", format!("Bearer {LOGIN_TOKEN}").as_str())
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "people/@self",
            json!({"id": USER_ID, "displayName": "Bot", "email": USER_NAME}),
        ))
        .expect(1)
        .create();

    let anonymous = Client::builder()
        .base_url(format!("{}/docspace/api/2.0/", server.url()))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let LoginOutcome::Authenticated(session) = anonymous.auth().login(USER_NAME, PASSWORD).unwrap()
    else {
        panic!("expected a session");
    };
    let signed_in = anonymous.with_token(session.token);
    assert!(signed_in.has_token());
    assert!(!anonymous.has_token(), "the original client is unchanged");
    assert_eq!(signed_in.base_url(), anonymous.base_url());
    assert!(!format!("{signed_in:?}").contains(LOGIN_TOKEN));
    let user = signed_in.people().me().unwrap();
    assert_eq!(user.id, USER_ID);
    login.assert();
    me.assert();
}

#[test]
fn with_token_keeps_the_timeout_and_retry_settings() {
    let (base, connections) = silent_server();
    let original = Client::builder()
        .base_url(&base)
        .timeout(Duration::from_millis(200))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let derived = original.with_token(LOGIN_TOKEN);
    let started = Instant::now();
    let err = derived.tfa().methods().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "no retry: the derived client keeps RetryPolicy::none()"
    );
    assert_no_secrets(&err, &err.to_string(), &[LOGIN_TOKEN]);
}

#[test]
fn with_token_shares_the_connection_pool() {
    let body = envelope("GET", "settings/tfaapp", json!([]));
    let (base, connections, requests) = keep_alive_server(body);
    let original = Client::builder()
        .base_url(&base)
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let derived = original.with_token(LOGIN_TOKEN);
    for _ in 0..3 {
        assert!(original.tfa().methods().unwrap().is_empty());
        assert!(derived.tfa().methods().unwrap().is_empty());
    }
    assert_eq!(requests.load(std::sync::atomic::Ordering::SeqCst), 6);
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "both clients reuse one keep-alive connection"
    );
}
