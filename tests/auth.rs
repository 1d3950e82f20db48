//! The TFA-aware login: `POST authentication` and `POST authentication/{code}`.
//!
//! Every login request must go out anonymous (no `Authorization`, `Confirm` or cookie, even
//! from a client that holds a token) with the exact JSON body; `support::expect` checks that
//! and that it was sent exactly once. Failures are a table (`cases!`, one test per row).

mod support;

use std::time::{Duration, Instant};

use docspace_tfa::{Client, ErrorKind, LoginOutcome, RetryPolicy};
use serde_json::json;
use support::*;

const LOGIN: &str = "/api/2.0/authentication";
const EXPIRES: &str = "2026-06-12T10:20:30.1234567+03:00";
const DUMMY_EXPIRES: &str = "0001-01-01T00:00:00";

/// `POST authentication` as the crate must send it: anonymous, with the exact body.
fn login() -> Expect {
    post(LOGIN)
        .anonymous()
        .json(json!({"userName": USER_NAME, "password": PASSWORD, "session": false}))
}

/// `POST authentication/{code}` as the crate must send it: the code in the path and the body.
fn login_code(code: &str) -> Expect {
    post(&format!("{LOGIN}/{code}"))
        .anonymous()
        .json(json!({"userName": USER_NAME, "password": PASSWORD, "code": code, "session": false}))
}

/// The login answer of a challenge (`tfa: true`, no token) with `confirm_url`.
fn challenge(confirm_url: Option<String>, tfa_key: Option<&str>) -> serde_json::Value {
    let mut answer = json!({"expires": DUMMY_EXPIRES, "sms": false, "tfa": true});
    if let Some(url) = confirm_url {
        answer["confirmUrl"] = json!(url);
    }
    if let Some(key) = tfa_key {
        answer["tfaKey"] = json!(key);
    }
    answer
}

use ErrorKind::*;

cases! {
    // POST authentication
    login_wrong_password_is_unauthorized:
        anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD),
        [login().answers(401, authentication_failed())]
        => fails(Unauthorized).status(401).message("User authentication failed")
            .display("POST authentication: HTTP 401: User authentication failed");
    login_lock_403_is_rate_limited: anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD),
        [login().answers(403, error_envelope(403,
            "The maximum number of login attempts has been exceeded. Please try again later.",
            None))]
        => fails(RateLimited).status(403);
    login_challenge_without_the_key_cookie_is_a_decode_error:
        anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD),
        [login().ok(challenge(Some(activation_url()), Some(MANUAL_KEY)))]
        => fails(Decode).contains("asc_confirm_key_TfaActivation");
    login_challenge_without_confirm_url_is_a_decode_error:
        anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD),
        [login().cookie(confirm_cookie("TfaAuth", CONFIRM_KEY)).ok(challenge(None, None))]
        => fails(Decode).contains("confirmUrl");
    login_answer_with_nothing_to_decide_on_is_a_decode_error:
        anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD),
        [login().ok(json!({"expires": DUMMY_EXPIRES, "sms": false, "tfa": false}))]
        => fails(Decode).no_status();
    login_is_sent_once_even_on_503: retrying_client, |c| c.auth().login(USER_NAME, PASSWORD),
        [login().empty(503)] => fails(Server).status(503);

    // POST authentication/{code}
    login_with_a_wrong_code_is_unauthorized:
        anonymous_client, |c| c.auth().login_with_code(USER_NAME, PASSWORD, "000000"),
        [login_code("000000").answers(401, authentication_failed())]
        => fails(Unauthorized).status(401).hides(&["000000"])
            .display(
                "POST authentication/{code}: HTTP 401: User authentication failed; the portal does \
                 not say why a login with a code fails: a wrong or expired code, a wrong password, \
                 or its attempt lock (after too many code checks within a minute, a correct code \
                 fails too, for about a minute); check the code and the password, and after \
                 several tries wait a minute",
            );
    login_with_code_without_a_token_in_the_answer_is_a_decode_error:
        anonymous_client, |c| c.auth().login_with_code(USER_NAME, PASSWORD, "123456"),
        [login_code("123456").cookie(confirm_cookie("TfaAuth", CONFIRM_KEY))
            .ok(json!({"expires": DUMMY_EXPIRES, "tfa": true, "confirmUrl": auth_url()}))]
        => fails(Decode).contains("session token");
    login_with_code_is_sent_once_even_on_503:
        retrying_client, |c| c.auth().login_with_code(USER_NAME, PASSWORD, "123456"),
        [login_code("123456").empty(503)] => fails(Server).status(503);
}

#[test]
fn login_without_tfa_is_authenticated() {
    // A client with a token still logs in anonymously.
    let outcome = login()
        .cookie(format!(
            "asc_auth_key={LOGIN_TOKEN}; path=/; secure; httponly"
        ))
        .ok(json!({"token": LOGIN_TOKEN, "expires": EXPIRES, "sms": false, "tfa": false}))
        .run(client, |c| c.auth().login(USER_NAME, PASSWORD))
        .unwrap();
    match &outcome {
        LoginOutcome::Authenticated(session) => {
            assert_eq!(session.token.expose(), LOGIN_TOKEN);
            assert_eq!(session.expires.as_deref(), Some(EXPIRES));
        }
        other => panic!("expected Authenticated, got {other:?}"),
    }
    assert!(!format!("{outcome:?}").contains(LOGIN_TOKEN));
}

#[test]
fn a_token_that_cannot_be_a_bearer_token_is_a_decode_error_at_login() {
    // CR/LF (header injection), ESC (terminal escapes), a space, a non-ASCII letter: refused
    // where the answer arrives, not handed out to fail at its first use.
    for bad in [
        "abc\r\nX-Injected: 1",
        "abc\u{1b}[2Jdef",
        "abc def",
        "abcé",
        "abc\n",
    ] {
        for with_code in [false, true] {
            let answer = login_code("123456").ok(json!({"token": bad, "expires": EXPIRES}));
            let plain = login().ok(json!({"token": bad, "expires": EXPIRES}));
            let err = if with_code {
                answer
                    .run(anonymous_client, |c| {
                        c.auth().login_with_code(USER_NAME, PASSWORD, "123456")
                    })
                    .map(|_| ())
                    .unwrap_err()
            } else {
                plain
                    .run(anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD))
                    .map(|_| ())
                    .unwrap_err()
            };
            assert_eq!(err.kind(), ErrorKind::Decode, "{bad:?}: {err}");
            let text = err.to_string();
            assert!(text.contains("bearer token"), "{text}");
            assert!(!text.contains("abc"), "no part of the token: {text}");
        }
    }
}

#[test]
fn login_trims_the_user_name() {
    let outcome = login()
        .ok(json!({"token": LOGIN_TOKEN, "expires": EXPIRES}))
        .run(anonymous_client, |c| {
            c.auth().login(&format!("  {USER_NAME}\n"), PASSWORD)
        })
        .unwrap();
    assert!(matches!(outcome, LoginOutcome::Authenticated(_)));
}

#[test]
fn login_activation_required_carries_a_complete_ticket_and_the_manual_key() {
    let outcome = login()
        .cookie(confirm_cookie("TfaActivation", CONFIRM_KEY))
        .ok(challenge(Some(activation_url()), Some(MANUAL_KEY)))
        .run(anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD))
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
}

#[test]
fn login_code_required_carries_a_tfa_auth_ticket() {
    let outcome = login()
        // Another cookie first, as a portal may send: the key is the one named for the type.
        .cookie("asc_auth_key=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT")
        .cookie(confirm_cookie("TfaAuth", CONFIRM_KEY))
        .ok(challenge(Some(auth_url()), None))
        .run(anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD))
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
}

#[test]
fn login_sms_code_sent_carries_masked_phone_and_expiry() {
    // `AuthenticationController.cs:246-254`: phone activated, a code sent; the PhoneAuth URL
    // is of no use to a client (no endpoint takes that role).
    let phone_url =
        format!("{PORTAL}/confirm/PhoneAuth?type=PhoneAuth&key={CONFIRM_KEY}&encemail=0a1b2c");
    let outcome = login()
        .ok(json!({
            "expires": EXPIRES,
            "sms": true,
            "phoneNoise": "+1234*6789",
            "tfa": false,
            "confirmUrl": phone_url,
        }))
        .run(anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD))
        .unwrap();
    let LoginOutcome::SmsCodeSent(sent) = outcome else {
        panic!("expected SmsCodeSent, got {outcome:?}");
    };
    assert_eq!(sent.phone_noise.as_deref(), Some("+1234*6789"));
    assert_eq!(sent.expires.as_deref(), Some(EXPIRES));
    assert!(!sent.server_mask_failed && !sent.hits_server_defect());
}

#[test]
fn login_outcome_is_decided_from_token_tfa_and_sms_not_expires() {
    // A challenged answer with a real-looking expiry is still a challenge; a token with the
    // dummy expiry is still a session (with no expiry reported).
    let challenged = login()
        .cookie(confirm_cookie("TfaAuth", CONFIRM_KEY))
        .ok(
            json!({"expires": EXPIRES, "tfa": true, "sms": false, "confirmUrl": auth_url(),
                   "token": null}),
        )
        .run(anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD));
    assert!(matches!(
        challenged.unwrap(),
        LoginOutcome::TfaCodeRequired { .. }
    ));

    let token = login()
        .ok(json!({"token": LOGIN_TOKEN, "expires": DUMMY_EXPIRES, "tfa": false, "sms": false}))
        .run(anonymous_client, |c| c.auth().login(USER_NAME, PASSWORD));
    match token.unwrap() {
        LoginOutcome::Authenticated(s) => {
            assert_eq!(s.token.expose(), LOGIN_TOKEN);
            assert_eq!(s.expires, None);
        }
        other => panic!("expected Authenticated, got {other:?}"),
    }
}

#[test]
fn login_refuses_empty_credentials_before_sending() {
    never("POST")
        .run(anonymous_client, |c| {
            let err = c.auth().login("  ", PASSWORD).unwrap_err();
            fails(InvalidInput).contains("user name").check_error(err);
            let err = c.auth().login(USER_NAME, "").unwrap_err();
            fails(InvalidInput).contains("password").check_error(err);
            let err = c.auth().login_with_code(USER_NAME, "", "123456");
            fails(InvalidInput).check_error(err.unwrap_err());
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// POST authentication/{code}

#[test]
fn login_with_code_sends_the_code_in_path_and_body() {
    let session = login_code("123456")
        .ok(json!({"token": LOGIN_TOKEN, "expires": EXPIRES, "sms": false, "tfa": true}))
        .run(anonymous_client, |c| {
            c.auth().login_with_code(USER_NAME, PASSWORD, " 123 456 ")
        })
        .unwrap();
    assert_eq!(session.token.expose(), LOGIN_TOKEN);
    assert_eq!(session.expires.as_deref(), Some(EXPIRES));
    assert!(!format!("{session:?}").contains(LOGIN_TOKEN));
}

#[test]
fn a_code_named_like_another_route_is_not_sent_to_it() {
    // The server matches `logout`, `confirm`, `setphone` and `sendsms` (any case) before
    // `{code}`, and reads the code from the body only: such a code goes to a neutral segment.
    for code in ["logout", "SendSms", "CONFIRM", "setphone"] {
        let session = post(&format!("{LOGIN}/code"))
            .anonymous()
            .json(json!({"userName": USER_NAME, "password": PASSWORD, "code": code, "session": false}))
            .ok(json!({"token": LOGIN_TOKEN, "expires": EXPIRES, "tfa": true}))
            .run(anonymous_client, |c| {
                c.auth().login_with_code(USER_NAME, PASSWORD, code)
            })
            .unwrap();
        assert_eq!(session.token.expose(), LOGIN_TOKEN, "{code}");
    }
}

#[test]
fn login_with_a_backup_code() {
    let session = login_code("a_B7c-")
        .ok(json!({"token": LOGIN_TOKEN, "expires": EXPIRES, "tfa": true}))
        .run(anonymous_client, |c| {
            c.auth().login_with_code(USER_NAME, PASSWORD, "a_B7c-")
        })
        .unwrap();
    assert_eq!(session.token.expose(), LOGIN_TOKEN);
}

#[test]
fn login_with_code_rejects_non_codes_before_sending() {
    let bad_codes = [
        "",
        "  ",
        "../people",
        "12/34",
        "123456?x=1",
        "12%2F34",
        "１２３４５６",
        "12\t34",
    ];
    never("POST")
        .run(anonymous_client, |c| {
            for bad in bad_codes {
                let err = c.auth().login_with_code(USER_NAME, PASSWORD, bad);
                fails(InvalidInput)
                    .contains("code")
                    .check_error(err.unwrap_err());
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Continuing with the token

#[test]
fn with_token_continues_on_the_same_portal_with_the_new_token() {
    let expects = vec![
        post("/docspace/api/2.0/authentication")
            .anonymous()
            .json(json!({"userName": USER_NAME, "password": PASSWORD, "session": false}))
            .ok(json!({"token": LOGIN_TOKEN, "expires": EXPIRES})),
        get("/docspace/api/2.0/people/@self")
            .bearer_of(LOGIN_TOKEN)
            .ok(json!({"id": USER_ID, "displayName": "Bot", "email": USER_NAME})),
    ];
    let on_a_path = |server: &mockito::Server| {
        Client::builder()
            .base_url(format!("{}/docspace/api/2.0/", server.url()))
            .retry(RetryPolicy::none())
            .build()
            .unwrap()
    };
    run(expects, on_a_path, |anonymous| {
        let LoginOutcome::Authenticated(session) = anonymous.auth().login(USER_NAME, PASSWORD)?
        else {
            panic!("expected a session");
        };
        let signed_in = anonymous.with_token(session.token);
        assert!(signed_in.has_token());
        assert!(!anonymous.has_token(), "the original client is unchanged");
        assert_eq!(signed_in.base_url(), anonymous.base_url());
        assert!(!format!("{signed_in:?}").contains(LOGIN_TOKEN));
        let user = signed_in.people().me()?;
        assert_eq!(user.id, USER_ID);
        Ok(())
    })
    .unwrap();
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
    fails(Timeout).no_status().check_error(err);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(
        connections.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "no retry: the derived client keeps RetryPolicy::none()"
    );
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
