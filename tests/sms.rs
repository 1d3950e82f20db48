//! The SMS factor against a mock portal: the login's two SMS outcomes, `setphone`, `sendsms`,
//! the login with the SMS code, and the server's `phoneNoise` defect both ways. Bodies are
//! the server's shapes (`AuthenticationTokenDto`; the error envelope of `ResponseWrapper.cs`,
//! with the stack of a controller exception or the nulls of an `AuthenticationException`).

mod support;

use docspace_tfa::{Client, ConfirmTicket, ErrorKind, LoginOutcome, SmsSent};
use mockito::Matcher;
use serde_json::json;
use support::*;

use ErrorKind::*;

const LOGIN: &str = "/api/2.0/authentication";
const SET_PHONE: &str = "/api/2.0/authentication/setphone";
const SEND_SMS: &str = "/api/2.0/authentication/sendsms";
const EXPIRES: &str = "2026-06-12T10:30:30.0000000+00:00";
const ENCEMAIL: &str = "qWv3Rw0T9kfJ2x4dH1r5zA%3D%3D";
/// An 11-digit number, as typed, and its digits.
const LONG_PHONE: &str = "+1 (234) 567-8901";
const LONG_DIGITS: &str = "12345678901";

/// The `PhoneActivation` URL of an SMS login (`CommonLinkUtility.cs:217-265`).
fn phone_url() -> String {
    format!(
        "{PORTAL}/confirm/PhoneActivation?type=PhoneActivation&key={CONFIRM_KEY}&encemail={ENCEMAIL}"
    )
}

fn phone_ticket() -> ConfirmTicket {
    ConfirmTicket::from_url(&phone_url(), "").expect("a phone ticket")
}

/// The `Confirm` header a phone ticket sends: its type, encemail and key.
fn phone_confirm() -> String {
    format!("type=PhoneActivation&encemail={ENCEMAIL}&key={CONFIRM_KEY}")
}

/// The defect's answer: `400`, `ArgumentOutOfRangeException` from `StringBuilder.Append`.
fn defect() -> String {
    json!({"error": {
        "message": "Index was out of range. Must be non-negative and less than or equal to the size of the collection. (Parameter 'startIndex')",
        "type": "System.ArgumentOutOfRangeException",
        "stack": "   at System.Text.StringBuilder.Append(String value, Int32 startIndex, Int32 count)\n   at ASC.Web.Core.Sms.SmsSender.BuildPhoneNoise(String mobilePhone)",
        "hresult": -2146233086
    }, "status": 1, "statusCode": 400})
    .to_string()
}

/// `401 User authentication failed` as `AuthenticationException` writes it (nulls kept).
fn auth_failed_nulls() -> String {
    json!({"error": {"message": "User authentication failed", "type": null, "stack": null,
        "hresult": 0}, "status": 1, "statusCode": 401})
    .to_string()
}

fn credentials() -> serde_json::Value {
    json!({"userName": USER_NAME, "password": PASSWORD, "session": false})
}

fn login() -> Expect {
    post(LOGIN).anonymous().json(credentials())
}

fn send_sms() -> Expect {
    post(SEND_SMS).anonymous().json(credentials())
}

fn code_login(code: &str) -> Expect {
    post(&format!("{LOGIN}/{code}"))
        .anonymous()
        .json(json!({"userName": USER_NAME, "password": PASSWORD, "code": code, "session": false}))
}

fn sent_answer(noise: &str) -> serde_json::Value {
    json!({"expires": EXPIRES, "sms": true, "phoneNoise": noise, "tfa": false})
}

fn long_phone_sent() -> SmsSent {
    SmsSent::for_phone(LONG_PHONE)
}

cases! {
    // POST authentication: the SMS outcomes.
    login_sms_without_phone_is_a_phone_activation_ticket: anonymous_client,
        |c| c.auth().login(USER_NAME, PASSWORD),
        [login().ok(json!({"expires": "0001-01-01T00:00:00", "sms": true, "tfa": false,
            "confirmUrl": phone_url()}))]
        => Checks(|o: LoginOutcome| {
            let LoginOutcome::SmsPhoneRequired { ticket } = &o else { panic!("{o:?}") };
            assert!(ticket.is_phone_activation());
            assert_eq!(ticket.encemail(), Some("qWv3Rw0T9kfJ2x4dH1r5zA=="));
            assert_eq!(ticket.key().expose(), CONFIRM_KEY);
            assert_eq!(ticket.url(), Some(phone_url().as_str()));
            assert!(!format!("{o:?}").contains(CONFIRM_KEY), "{o:?}");
        });
    login_sms_defect_is_a_code_sent: anonymous_client,
        |c| c.auth().login(USER_NAME, PASSWORD),
        [login().answers(400, defect())]
        => Checks(|o: LoginOutcome| {
            let LoginOutcome::SmsCodeSent(sent) = o else { panic!("{o:?}") };
            assert!(sent.server_mask_failed && sent.hits_server_defect());
            assert_eq!((sent.phone_noise, sent.expires, sent.phone_digits), (None, None, None));
        });
    login_other_argument_error_is_not_the_defect: anonymous_client,
        |c| c.auth().login(USER_NAME, PASSWORD),
        [login().answers(400, error_envelope(400,
            "The value cannot be an empty string. (Parameter 'phone')",
            Some("System.ArgumentException")))]
        => fails(BadRequest).status(400);
    login_sms_with_a_phone_auth_url_is_a_code_sent: anonymous_client,
        |c| c.auth().login(USER_NAME, PASSWORD),
        [login().ok(json!({"expires": EXPIRES, "sms": true, "tfa": false,
            "phoneNoise": "12345", "confirmUrl": format!("{PORTAL}/confirm/PhoneAuth?type=PhoneAuth&key=k&encemail=e")}))]
        => Checks(|o: LoginOutcome| {
            let LoginOutcome::SmsCodeSent(sent) = o else { panic!("{o:?}") };
            // The server's "mask" of a 5-digit number is the number: masked again.
            assert_eq!(sent.phone_noise.as_deref(), Some("+***45"));
        });
    login_phone_activation_url_without_key_is_a_decode_error: anonymous_client,
        |c| c.auth().login(USER_NAME, PASSWORD),
        [login().ok(json!({"sms": true, "tfa": false,
            "confirmUrl": format!("{PORTAL}/confirm/PhoneActivation?type=PhoneActivation&encemail=e")}))]
        => fails(Decode).no_status();

    // POST authentication/sendsms.
    send_sms_returns_the_server_mask: anonymous_client, |c| c.auth().send_sms(USER_NAME, PASSWORD),
        [send_sms().ok(sent_answer("+1234*6789"))]
        => Checks(|s: SmsSent| {
            assert_eq!(s.phone_noise.as_deref(), Some("+1234*6789"));
            assert_eq!(s.expires.as_deref(), Some(EXPIRES));
            assert!(!s.server_mask_failed && !s.hits_server_defect());
        });
    send_sms_of_a_fixed_server_is_no_defect: anonymous_client,
        |c| c.auth().send_sms(USER_NAME, PASSWORD),
        [send_sms().ok(sent_answer("+1234***8901"))]
        => Checks(|s: SmsSent| assert!(!s.hits_server_defect(), "{s:?}"));
    send_sms_defect_is_sent: anonymous_client, |c| c.auth().send_sms(USER_NAME, PASSWORD),
        [send_sms().answers(400, defect())]
        => Checks(|s: SmsSent| {
            assert!(s.server_mask_failed && s.hits_server_defect());
            assert_eq!((s.phone_noise, s.expires, s.phone_digits), (None, None, None));
        });
    send_sms_too_many_is_a_server_error: anonymous_client, |c| c.auth().send_sms(USER_NAME, PASSWORD),
        [send_sms().answers(500, error_envelope(500,
            "You have sent too many text messages. Please try again later.",
            Some("System.Exception")))]
        => fails(Server).status(500).contains("too many text messages");
    send_sms_wrong_password_is_unauthorized: anonymous_client, |c| c.auth().send_sms(USER_NAME, PASSWORD),
        [send_sms().answers(401, auth_failed_nulls())]
        => fails(Unauthorized).status(401).message("User authentication failed");
    send_sms_lock_is_rate_limited: anonymous_client, |c| c.auth().send_sms(USER_NAME, PASSWORD),
        [send_sms().answers(403, error_envelope(403,
            "Too many login attempts. Please try again later", None))]
        => fails(RateLimited).status(403);
    send_sms_empty_password_sends_nothing: anonymous_client, |c| c.auth().send_sms(USER_NAME, ""),
        [never("POST")]
        => fails(InvalidInput).no_status();

    // POST authentication/setphone.
    set_phone_empty_number_sends_nothing: client, |c| c.auth().set_phone(&phone_ticket(), " +-() "),
        [never("POST")]
        => fails(InvalidInput).no_status().contains("phone number");
    set_phone_already_activated_is_a_server_error: anonymous_client,
        |c| c.auth().set_phone(&phone_ticket(), "+123456789"),
        [post(SET_PHONE).answers(500, error_envelope(500,
            "To change the number, you need to delete your current phone number",
            Some("System.Exception")))]
        => fails(Server).status(500).contains("delete your current phone number");
    set_phone_expired_ticket_is_unauthorized: anonymous_client,
        |c| c.auth().set_phone(&phone_ticket(), "+123456789"),
        [post(SET_PHONE).empty(401)]
        => fails(Unauthorized).status(401);
    set_phone_error_never_shows_the_number: anonymous_client,
        |c| c.auth().set_phone(&phone_ticket(), LONG_PHONE),
        [post(SET_PHONE).answers(500, error_envelope(500,
            &format!("SMS to {LONG_DIGITS} failed"), Some("System.Exception")))]
        => fails(Server).status(500).hides(&[LONG_DIGITS]);

    // POST authentication/{code} after an SMS.
    sms_code_login_returns_the_session: anonymous_client,
        |c| c.auth().login_with_sms_code(USER_NAME, PASSWORD, "123456", &long_phone_sent()),
        [code_login("123456").ok(json!({"token": LOGIN_TOKEN, "expires": EXPIRES, "sms": true,
            "phoneNoise": "+1234*6789", "tfa": false}))]
        => Checks(|s: docspace_tfa::Session| assert_eq!(s.token.expose(), LOGIN_TOKEN));
    sms_code_login_401_after_the_defect_names_it: anonymous_client,
        |c| c.auth().login_with_sms_code(USER_NAME, PASSWORD, "123456", &long_phone_sent()),
        [code_login("123456").answers(401, auth_failed_nulls())]
        => fails(Unauthorized).status(401).message("User authentication failed")
            .contains("phoneNoise defect").contains("authenticator app")
            .contains("at most 9 digits").hides(&[LONG_DIGITS]);
    sms_code_login_401_without_the_defect_is_a_plain_refusal: anonymous_client,
        |c| c.auth().login_with_sms_code(USER_NAME, PASSWORD, "123456",
            &SmsSent::for_phone("+123456789")),
        [code_login("123456").answers(401, auth_failed_nulls())]
        => fails(Unauthorized).status(401).lacks("defect");
    sms_code_login_lock_is_not_called_the_defect: anonymous_client,
        |c| c.auth().login_with_sms_code(USER_NAME, PASSWORD, "123456", &long_phone_sent()),
        [code_login("123456").answers(403, error_envelope(403,
            "Too many login attempts. Please try again later", None))]
        => fails(RateLimited).status(403).lacks("defect");
}

/// `setphone` sends the ticket in `Confirm`, the digits in the body, and **no** token or
/// cookie even from a client that has a token; both the server's answer and the defect's are
/// "sent", the defect's with the crate's own mask.
#[test]
fn set_phone_sends_only_the_ticket_and_the_digits() {
    for (typed, digits, answer, want_noise, want_failed) in [
        (
            "+123 456 789",
            "123456789",
            Ok("+1234*6789"),
            "+1234*6789",
            false,
        ),
        (LONG_PHONE, LONG_DIGITS, Err(()), "+1234***8901", true),
    ] {
        let mut server = mockito::Server::new();
        let mock = server
            .mock("POST", SET_PHONE)
            .match_header("confirm", phone_confirm().as_str())
            .match_header("authorization", Matcher::Missing)
            .match_header("cookie", Matcher::Missing)
            .match_header("content-type", "application/json")
            .match_body(Matcher::Json(json!({"mobilePhone": digits})));
        let mock = match answer {
            Ok(noise) => mock
                .with_status(200)
                .with_header("content-type", JSON)
                .with_body(envelope(
                    "POST",
                    "authentication/setphone",
                    sent_answer(noise),
                )),
            Err(()) => mock
                .with_status(400)
                .with_header("content-type", JSON)
                .with_body(defect()),
        }
        .expect(1)
        .create();
        let with_token: Client = client(&server);
        let sent = with_token
            .auth()
            .set_phone(&phone_ticket(), typed)
            .expect("sent");
        mock.assert();
        assert_eq!(sent.phone_noise.as_deref(), Some(want_noise), "{typed}");
        assert_eq!(sent.server_mask_failed, want_failed, "{typed}");
        assert_eq!(sent.phone_digits, Some(digits.len()));
        assert_eq!(sent.hits_server_defect(), digits.len() >= 10);
        assert!(!format!("{sent:?}").contains(digits), "{sent:?}");
    }
}

#[test]
fn phone_numbers_normalize_as_the_server_does() {
    for (typed, digits) in [
        ("+1 (234) 567-8901", Some("12345678901")),
        ("8 800 555-35-35", Some("88005553535")),
        ("tel:+44.20.7946.0958", Some("442079460958")),
        (" 12 ", Some("12")),
        ("", None),
        ("+ - ( )", None),
        ("phone", None),
    ] {
        match (docspace_tfa::normalize_phone(typed), digits) {
            (Ok(d), Some(want)) => assert_eq!(d, want, "{typed}"),
            (Err(e), None) => {
                assert_eq!(e.kind(), InvalidInput, "{typed}");
                assert!(e.to_string().contains("phone number"), "{e}");
            }
            (other, want) => panic!("{typed}: {other:?}, wanted {want:?}"),
        }
    }
    assert_eq!(
        docspace_tfa::normalize_phone(&"7".repeat(100))
            .unwrap()
            .len(),
        64
    );
}
