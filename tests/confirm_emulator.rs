//! The session's life, part two: `POST authentication/confirm` against the embedded emulator,
//! over real HTTP — the library's `check_confirm` per ticket type and key, and the endpoint as
//! the server answers raw requests (the key from the cookie, no key, a `TfaAuth` link checked
//! while signed in). Part one, `tests/session_emulator.rs`, has `GET authentication` and
//! `POST authentication/logout`.
#![cfg(feature = "emulator")]

#[path = "support/raw_emulator.rs"]
mod raw_support;

use std::time::Duration;

use docspace_tfa::emulator::{NewUser, TicketType};
use docspace_tfa::{ConfirmResult, LoginOutcome, TfaPolicy, TfaType};
use raw_support::*;
use serde_json::{json, Value};

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

    // A `first` is part of what the server's keys are signed over: none was, so Invalid.
    assert_eq!(
        check(&format!("{url}&first=x"), &key)?.result,
        ConfirmResult::Invalid
    );
    // A phone link is checked for its e-mail alone: a `uid` beside it changes nothing, and a
    // `uid` without the e-mail names nobody (the key is signed over the e-mail).
    let phone = portal.ticket(&id, TicketType::PhoneActivation)?;
    let phone_url = phone.url().expect("url").to_owned();
    let phone_key = phone.key().expose().to_owned();
    let other = portal.add_user(NewUser::new("other@example.com", PASSWORD))?;
    assert_eq!(check(&phone_url, &phone_key)?.result, ConfirmResult::Ok);
    assert_eq!(
        check(&format!("{phone_url}&uid={other}"), &phone_key)?.result,
        ConfirmResult::Ok
    );
    assert_eq!(
        check(
            &format!("/confirm/PhoneActivation?type=PhoneActivation&uid={id}"),
            &phone_key
        )?
        .result,
        ConfirmResult::Invalid
    );

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
    // A model-validation 400, wrapped in the envelope by the server's result filter
    // (`ResponseWrapper.cs:133-155`; `docs/server.md`, "Ids").
    assert_eq!(bad_email.body["statusCode"], json!(400));
    assert!(
        bad_email.body["response"]["errors"]["Email"].is_array(),
        "{}",
        bad_email.body
    );
    Ok(())
}
