//! The session's life against mock portals answering as the server's source does:
//! `GET authentication` (`true`, or `200 false` for a caller who is not signed in),
//! `POST authentication/logout` (no body, the token as the `asc_auth_key` cookie, then a check
//! that the session ended) and `POST authentication/confirm` (`{result, email?, isAgent}`).
//! Each row is one test (`cases!`); `support::run` checks every request was sent as written.

mod support;

use std::time::Duration;

use docspace_tfa::{Client, ConfirmResult, ErrorKind};
use serde_json::json;
use support::*;

const IS_AUTH: &str = "/api/2.0/authentication";
const LOGOUT: &str = "/api/2.0/authentication/logout";
const CONFIRM: &str = "/api/2.0/authentication/confirm";
/// `LOGIN_TOKEN` as a cookie value: its `,` percent-encoded, its `/` as is.
const LOGIN_TOKEN_COOKIE: &str =
    "pA1vYZkDxaQNgbxy5cdt7J2dV/6m0Cb5mPK0BqVBQfTn3AaL6i9rKJQ2gkYz8Ykq%2C638513818452344721";
/// An encrypted e-mail as a phone-activation link carries it.
const ENC_EMAIL: &str = "aGVsbG8td29ybGQtZW5jcnlwdGVk";

/// A client holding a login's session token (not an API key).
fn session_client(server: &mockito::Server) -> Client {
    Client::builder()
        .base_url(server.url())
        .token(LOGIN_TOKEN)
        .retry(no_retries())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a loopback mockito URL is a valid base URL")
}

/// `GET authentication` with the session token, answering `signed_in`.
fn still_signed_in(signed_in: bool) -> Expect {
    get(IS_AUTH).bearer_of(LOGIN_TOKEN).ok(json!(signed_in))
}

/// `POST authentication/logout` as the crate must send it: the cookie, no body.
fn logout() -> Expect {
    post(LOGOUT).session_cookie(LOGIN_TOKEN_COOKIE).no_body()
}

/// The answer of `POST authentication/confirm` for `result` (and `email` when given).
fn confirm_answer(result: i64, email: Option<&str>) -> serde_json::Value {
    let mut answer = json!({"result": result, "isAgent": false});
    if let Some(e) = email {
        answer["email"] = json!(e);
    }
    answer
}

/// The body a TFA link with `CONFIRM_KEY` sends.
fn tfa_confirm_body(confirm_type: &str) -> serde_json::Value {
    json!({"key": CONFIRM_KEY, "type": confirm_type, "uiD": USER_ID})
}

use ErrorKind::*;

cases! {
    // GET authentication
    signed_in_token_is_authenticated: client, |c| c.auth().is_authenticated(),
        [get(IS_AUTH).bearer().ok(json!(true))] => Returns(true);
    no_token_asks_anonymously_and_gets_false: anonymous_client, |c| c.auth().is_authenticated(),
        [get(IS_AUTH).anonymous().ok(json!(false))] => Returns(false);
    ended_session_is_200_false_not_an_error: session_client, |c| c.auth().is_authenticated(),
        [still_signed_in(false)] => Returns(false);
    is_authenticated_of_another_shape_is_a_decode_error: client, |c| c.auth().is_authenticated(),
        [get(IS_AUTH).bearer().ok(json!("yes"))] => fails(Decode);

    // POST authentication/logout
    logout_sends_the_cookie_and_checks_the_session_ended: session_client, |c| c.auth().logout(),
        [logout().ok_null(), still_signed_in(false)]
        => Checks(|out: docspace_tfa::LoggedOut| assert_eq!(out.sso_logout_url, None));
    logout_of_an_sso_user_returns_the_idp_logout_url: session_client, |c| c.auth().logout(),
        [logout().ok(json!("https://sso.example.com/sso/slo?data=abc")), still_signed_in(false)]
        => Checks(|out: docspace_tfa::LoggedOut| assert_eq!(
            out.sso_logout_url.as_deref(), Some("https://sso.example.com/sso/slo?data=abc")));
    logout_whose_session_survived_says_so: session_client, |c| c.auth().logout(),
        [logout().ok_null(), still_signed_in(true)]
        => fails(Server).no_status().contains("still says the session is signed in")
            .contains("POST authentication/logout");
    logout_with_an_api_key_is_refused_before_sending: client, |c| c.auth().logout(),
        [never("POST")] => fails(InvalidInput).contains("API key").contains("revoke");
    logout_without_a_token_is_refused_before_sending: anonymous_client, |c| c.auth().logout(),
        [never("POST")] => fails(InvalidInput).contains("needs the session's token");
    logout_answering_an_object_is_a_decode_error: session_client, |c| c.auth().logout(),
        [logout().ok(json!({"url": 1}))] => fails(Decode);

    // POST authentication/confirm
    confirm_of_a_tfa_link_sends_type_uid_and_the_given_key: anonymous_client,
        |c| c.auth().check_confirm(&auth_url(), Some(CONFIRM_KEY)),
        [post(CONFIRM).anonymous().json(tfa_confirm_body("TfaAuth")).ok(confirm_answer(0, None))]
        => Checks(|check: docspace_tfa::ConfirmCheck| {
            assert_eq!((check.result, check.email), (ConfirmResult::Ok, None));
        });
    confirm_of_a_phone_link_uses_its_own_key_and_encemail: anonymous_client,
        |c| c.auth().check_confirm(
            &format!("{PORTAL}/confirm/PhoneActivation?type=PhoneActivation&key={CONFIRM_KEY}&encemail={ENC_EMAIL}"),
            None),
        [post(CONFIRM).anonymous()
            .json(json!({"key": CONFIRM_KEY, "type": "PhoneActivation", "encEmail": ENC_EMAIL}))
            .ok(confirm_answer(0, Some(USER_NAME)))]
        => Checks(|check: docspace_tfa::ConfirmCheck| {
            assert_eq!(check.result, ConfirmResult::Ok);
            assert_eq!(check.email.as_deref(), Some(USER_NAME));
        });
    confirm_of_an_invitation_sends_its_fields: anonymous_client,
        |c| c.auth().check_confirm(
            &format!("/confirm/LinkInvite?type=LinkInvite&key={CONFIRM_KEY}&emplType=2&email=new%40example.com&roomId=42"),
            None),
        [post(CONFIRM).anonymous()
            .json(json!({"key": CONFIRM_KEY, "type": "LinkInvite", "emplType": 2,
                "email": "new@example.com", "roomId": "42"}))
            .ok(json!({"result": 4, "roomId": "42", "title": "Room", "isAgent": false}))]
        => Checks(|check: docspace_tfa::ConfirmCheck| {
            assert_eq!((check.result, check.email), (ConfirmResult::UserExisted, None));
        });
    confirm_result_by_name_is_read_too: anonymous_client,
        |c| c.auth().check_confirm(&auth_url(), Some(CONFIRM_KEY)),
        [post(CONFIRM).anonymous().json(tfa_confirm_body("TfaAuth"))
            .ok(json!({"result": "Tariff limit", "isAgent": false}))]
        => Checks(|check: docspace_tfa::ConfirmCheck| {
            assert_eq!(check.result, ConfirmResult::TariffLimit);
        });
    confirm_result_of_an_unknown_name_is_a_decode_error: anonymous_client,
        |c| c.auth().check_confirm(&auth_url(), Some(CONFIRM_KEY)),
        [post(CONFIRM).anonymous().json(tfa_confirm_body("TfaAuth"))
            .ok(json!({"result": "Maybe", "isAgent": false}))]
        => fails(Decode);
    confirm_answer_without_a_result_is_a_decode_error: anonymous_client,
        |c| c.auth().check_confirm(&auth_url(), Some(CONFIRM_KEY)),
        [post(CONFIRM).anonymous().json(tfa_confirm_body("TfaAuth")).ok(json!({"isAgent": false}))]
        => fails(Decode);
    confirm_without_a_type_is_refused_before_sending: anonymous_client,
        |c| c.auth().check_confirm(&format!("{PORTAL}/confirm?uid={USER_ID}"), Some(CONFIRM_KEY)),
        [never("POST")] => fails(InvalidInput).contains("`type`");
    confirm_without_a_key_names_the_cookie_to_read: anonymous_client,
        |c| c.auth().check_confirm(&auth_url(), None),
        [never("POST")] => fails(InvalidInput).contains("asc_confirm_key_TfaAuth");
    confirm_that_cannot_be_read_is_a_bad_request: anonymous_client,
        |c| c.auth().check_confirm(&format!("{}&email=not-an-address", auth_url()), Some(CONFIRM_KEY)),
        [post(CONFIRM).anonymous().answers_as(400, "application/problem+json", json!({
            "type": "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            "title": "One or more validation errors occurred.", "status": 400,
            "errors": {"Email": ["The Email field is not a valid e-mail address."]}}).to_string())]
        => fails(BadRequest).status(400);
    confirm_error_never_shows_the_key: anonymous_client,
        |c| c.auth().check_confirm(&auth_url(), Some(CONFIRM_KEY)),
        [post(CONFIRM).anonymous().answers(500, error_envelope(500,
            &format!("key {CONFIRM_KEY} broke"), Some("System.Exception")))]
        => fails(ErrorKind::Server).status(500).hides(&[CONFIRM_KEY]);
}

/// Every result number, known or not, is kept; `email` only with `Ok`.
#[test]
fn confirm_results_are_read_as_the_server_numbers_them() {
    let table = [
        (0, ConfirmResult::Ok, "ok", Some(USER_NAME)),
        (1, ConfirmResult::Invalid, "invalid", None),
        (2, ConfirmResult::Expired, "expired", None),
        (3, ConfirmResult::TariffLimit, "tariff_limit", None),
        (4, ConfirmResult::UserExisted, "user_existed", None),
        (5, ConfirmResult::UserExcluded, "user_excluded", None),
        (6, ConfirmResult::QuotaFailed, "quota_failed", None),
        (9, ConfirmResult::Unknown(9), "unknown", None),
    ];
    for (code, result, name, email) in table {
        // A server that (wrongly) sent the e-mail with another result: it is not kept.
        let check = run(
            vec![post(CONFIRM)
                .anonymous()
                .json(tfa_confirm_body("TfaActivation"))
                .ok(confirm_answer(code, Some(USER_NAME)))],
            anonymous_client,
            |c| c.auth().check_confirm(&activation_url(), Some(CONFIRM_KEY)),
        )
        .unwrap_or_else(|e| panic!("{code}: {e}"));
        assert_eq!(check.result, result, "{code}");
        assert_eq!((check.result.as_str(), check.result.code()), (name, code));
        assert_eq!(check.email.as_deref(), email, "{code}");
    }
}
