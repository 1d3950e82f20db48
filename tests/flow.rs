//! The headless flow of issue 3, end to end against mocks: login → activation required →
//! setup with the login's ticket → validate with it → login with a code → backup codes with the
//! new token. Every step is one request with exactly the right credential.

mod support;

use docspace_tfa::{Client, LoginOutcome, RetryPolicy};
use mockito::Matcher;
use serde_json::json;
use support::*;

#[test]
fn login_activation_setup_validate_login_with_code_backup_codes() {
    let mut server = mockito::Server::new();
    let session_cookie = "Q2ZDSjhNRzZ0bEJjM1VwSmRXeXd1eXJ3c2ZB,638513818452344721";
    let new_token = LOGIN_TOKEN;

    // 1. POST authentication: anonymous; the answer challenges for activation and sets the key.
    let login = server
        .mock("POST", "/api/2.0/authentication")
        .match_header("authorization", Matcher::Missing)
        .match_header("confirm", Matcher::Missing)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(
            json!({"userName": USER_NAME, "password": PASSWORD, "session": false}),
        ))
        .with_header("content-type", JSON)
        .with_header("set-cookie", &confirm_cookie("TfaActivation", CONFIRM_KEY))
        .with_body(envelope(
            "POST",
            "authentication",
            json!({
                "expires": "0001-01-01T00:00:00",
                "sms": false,
                "tfa": true,
                "tfaKey": MANUAL_KEY,
                "confirmUrl": activation_url(),
            }),
        ))
        .expect(1)
        .create();

    // 2. GET settings/tfaapp/setup with the login's ticket, no token, no cookie.
    let setup = server
        .mock("GET", "/api/2.0/settings/tfaapp/setup")
        .match_header("confirm", confirm_header("TfaActivation").as_str())
        .match_header("authorization", Matcher::Missing)
        .match_header("cookie", Matcher::Missing)
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/tfaapp/setup",
            json!({
                "account": USER_NAME,
                "manualEntryKey": MANUAL_KEY,
                "qrCodeSetupImageUrl": QR_DATA_URL,
            }),
        ))
        .expect(1)
        .create();

    // 3. POST settings/tfaapp/validate with the same ticket: first activation.
    let validate = server
        .mock("POST", "/api/2.0/settings/tfaapp/validate")
        .match_header("confirm", confirm_header("TfaActivation").as_str())
        .match_header("authorization", Matcher::Missing)
        .match_header("cookie", Matcher::Missing)
        .match_body(Matcher::Json(json!({"code": "287082", "session": false})))
        .with_header("content-type", JSON)
        .with_header(
            "set-cookie",
            &format!("asc_auth_key={session_cookie}; path=/; secure; httponly"),
        )
        .with_header(
            "set-cookie",
            "asc_confirm_key_TfaActivation=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/",
        )
        .with_body(envelope("POST", "settings/tfaapp/validate", json!(true)))
        .expect(1)
        .create();

    // 4. POST authentication/{code}: anonymous, code in path and body; answers the token.
    let code_login = server
        .mock("POST", "/api/2.0/authentication/359152")
        .match_header("authorization", Matcher::Missing)
        .match_header("confirm", Matcher::Missing)
        .match_body(Matcher::Json(json!({
            "userName": USER_NAME,
            "password": PASSWORD,
            "code": "359152",
            "session": false,
        })))
        .with_header("content-type", JSON)
        .with_body(envelope(
            "POST",
            "authentication/359152",
            json!({
                "token": new_token,
                "expires": "2026-06-12T10:20:30.0000000+00:00",
                "sms": false,
                "tfa": true,
            }),
        ))
        .expect(1)
        .create();

    // 5. GET settings/tfaappcodes with the new token.
    let codes = server
        .mock("GET", "/api/2.0/settings/tfaappcodes")
        .match_header("authorization", format!("Bearer {new_token}").as_str())
        .match_header("confirm", Matcher::Missing)
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/tfaappcodes",
            json!([
                {"isUsed": false, "code": "Xk3-_q"},
                {"isUsed": false, "code": "9pL2mZ"},
                {"isUsed": false, "code": "a_B7c-"},
                {"isUsed": false, "code": "QwE4rT"},
                {"isUsed": false, "code": "z9Y8x7"},
            ]),
        ))
        .expect(1)
        .create();

    let client = Client::builder()
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert!(!client.has_token());

    let outcome = client.auth().login(USER_NAME, PASSWORD).unwrap();
    let LoginOutcome::TfaActivationRequired { ticket, tfa_key } = outcome else {
        panic!("expected activation to be required, got {outcome:?}");
    };
    assert_eq!(ticket.confirm_type(), "TfaActivation");
    assert_eq!(ticket.uid(), USER_ID);
    assert_eq!(ticket.key().expose(), CONFIRM_KEY);

    let code = client.tfa().setup_with(&ticket).unwrap();
    assert_eq!(code.account, USER_NAME);
    assert_eq!(
        code.manual_entry_key.expose(),
        tfa_key.unwrap().expose(),
        "the login's tfaKey and setup's manual key are the same secret"
    );

    let validation = client.tfa().validate_with(&ticket, "287 082").unwrap();
    assert!(validation.first_activation);
    assert_eq!(
        validation.session_token.as_ref().map(|t| t.expose()),
        Some(session_cookie)
    );

    let session = client
        .auth()
        .login_with_code(USER_NAME, PASSWORD, "359152")
        .unwrap();
    assert_eq!(session.token.expose(), new_token);

    let signed_in = client.with_token(session.token);
    let backup = signed_in.tfa().backup_codes().unwrap();
    assert_eq!(backup.len(), 5);
    assert!(backup.iter().all(|c| !c.is_used));
    assert_eq!(backup[0].code.expose(), "Xk3-_q");

    login.assert();
    setup.assert();
    validate.assert();
    code_login.assert();
    codes.assert();
}
