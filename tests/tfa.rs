//! Every TFA settings endpoint: method, path, headers, exact body, decoded result, and the
//! failures `docs/server.md` lists for it.

mod support;

use docspace_tfa::{ConfirmTicket, ErrorKind, TfaMethodId, TfaPolicy, TfaType};
use mockito::{Matcher, Server};
use serde_json::json;
use support::*;

const METHODS: &str = "/api/2.0/settings/tfaapp";
const WITH_LINK: &str = "/api/2.0/settings/tfaappwithlink";
const CONFIRM: &str = "/api/2.0/settings/tfaapp/confirm";
const SETUP: &str = "/api/2.0/settings/tfaapp/setup";
const VALIDATE: &str = "/api/2.0/settings/tfaapp/validate";
const CODES: &str = "/api/2.0/settings/tfaappcodes";
const NEW_CODES: &str = "/api/2.0/settings/tfaappnewcodes";
const NEW_APP: &str = "/api/2.0/settings/tfaappnewapp";
const SELF: &str = "/api/2.0/people/@self";

const GROUP_ID: &str = "c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e";

/// A mock for a bearer-token call: `Authorization` with [`TOKEN`], `Accept` JSON, no ticket.
fn bearer_mock(server: &mut Server, method: &str, path: &str) -> mockito::Mock {
    server
        .mock(method, path)
        .match_header("authorization", bearer().as_str())
        .match_header("accept", "application/json")
        .match_header("confirm", Matcher::Missing)
}

/// A mock for a ticket call: `Confirm` exactly as given, and **no** `Authorization` or cookie.
fn ticket_mock(server: &mut Server, method: &str, path: &str, confirm: &str) -> mockito::Mock {
    server
        .mock(method, path)
        .match_header("confirm", confirm)
        .match_header("authorization", Matcher::Missing)
        .match_header("cookie", Matcher::Missing)
        .match_header("accept", "application/json")
}

fn activation_ticket() -> ConfirmTicket {
    ConfirmTicket::from_url(&activation_url(), CONFIRM_KEY).unwrap()
}

fn auth_ticket() -> ConfirmTicket {
    ConfirmTicket::from_url(&auth_url(), CONFIRM_KEY).unwrap()
}

fn setup_value() -> serde_json::Value {
    json!({
        "account": ACCOUNT,
        "manualEntryKey": MANUAL_KEY,
        "qrCodeSetupImageUrl": QR_DATA_URL,
    })
}

fn codes_value() -> serde_json::Value {
    json!([
        {"isUsed": true, "code": "Xk3-_q"},
        {"isUsed": false, "code": "9pL2mZ"},
        {"isUsed": false, "code": "a_B7c-"},
        {"isUsed": false, "code": "QwE4rT"},
        {"isUsed": false, "code": "z9Y8x7"},
    ])
}

// ---------------------------------------------------------------------------------------------
// GET settings/tfaapp

#[test]
fn methods_lists_sms_and_app() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", METHODS)
        .match_header("content-type", Matcher::Missing)
        .match_body(Matcher::Exact(String::new()))
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/tfaapp",
            json!([
                {"id": "sms", "title": "SMS", "enabled": false, "available": false,
                 "trustedIps": [], "mandatoryUsers": [], "mandatoryGroups": []},
                {"id": "app", "title": "Authenticator app", "enabled": true, "available": true,
                 "trustedIps": ["192.168.1.0/24", "10.0.0.7"], "mandatoryUsers": [USER_ID],
                 "mandatoryGroups": [GROUP_ID]},
            ]),
        ))
        .expect(1)
        .create();
    let methods = client(&server).tfa().methods().unwrap();
    assert_eq!(methods.len(), 2);
    assert_eq!(methods[0].id, TfaMethodId::Sms);
    assert_eq!(methods[0].title, "SMS");
    assert!(!methods[0].enabled && !methods[0].available);
    assert_eq!(methods[0].trusted_ips, Some(vec![]));
    let app = &methods[1];
    assert_eq!(app.id, TfaMethodId::App);
    assert_eq!(app.id.as_str(), "app");
    assert_eq!(app.title, "Authenticator app");
    assert!(app.enabled && app.available);
    assert_eq!(
        app.trusted_ips.as_deref(),
        Some(&["192.168.1.0/24".to_owned(), "10.0.0.7".to_owned()][..])
    );
    assert_eq!(
        app.mandatory_users.as_deref(),
        Some(&[USER_ID.to_owned()][..])
    );
    assert_eq!(
        app.mandatory_groups.as_deref(),
        Some(&[GROUP_ID.to_owned()][..])
    );
    mock.assert();
}

#[test]
fn methods_tolerates_unknown_ids_nulls_and_an_empty_list() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", METHODS)
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/tfaapp",
            json!([
                {"id": "passkey", "title": "Passkey", "enabled": false, "available": true,
                 "trustedIps": null, "mandatoryUsers": null, "mandatoryGroups": null,
                 "someNewField": {"x": 1}},
                {"id": "app", "title": "Authenticator app", "enabled": true, "available": true},
            ]),
        ))
        .expect(1)
        .create();
    let c = client(&server);
    let methods = c.tfa().methods().unwrap();
    assert_eq!(methods[0].id, TfaMethodId::Other("passkey".into()));
    assert_eq!(methods[0].id.as_str(), "passkey");
    assert_eq!(
        methods[0].mandatory_users, None,
        "null is absent, not empty"
    );
    assert_eq!(methods[1].id, TfaMethodId::App);
    mock.assert();
    mock.remove();

    let empty = bearer_mock(&mut server, "GET", METHODS)
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", json!([])))
        .expect(1)
        .create();
    assert!(c.tfa().methods().unwrap().is_empty());
    empty.assert();
}

#[test]
fn methods_without_a_valid_token_is_unauthorized() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", METHODS)
        .with_status(401)
        .with_body("")
        .expect(1)
        .create();
    let err = client(&server).tfa().methods().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    mock.assert();
}

// ---------------------------------------------------------------------------------------------
// PUT settings/tfaapp and settings/tfaappwithlink

fn app_policy() -> TfaPolicy {
    TfaPolicy::new(TfaType::App)
        .caller_id(USER_ID)
        .trusted_ip("192.168.1.0/24")
        .mandatory_user(OTHER_USER_ID)
        .mandatory_group(GROUP_ID)
}

fn app_policy_json() -> serde_json::Value {
    json!({
        "type": "App",
        "id": USER_ID,
        "trustedIps": ["192.168.1.0/24"],
        "mandatoryUsers": [OTHER_USER_ID],
        "mandatoryGroups": [GROUP_ID],
    })
}

#[test]
fn set_policy_sends_the_policy_and_reads_switched_on() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", METHODS)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(app_policy_json()))
        .with_header("content-type", JSON)
        .with_body(envelope("PUT", "settings/tfaapp", json!(true)))
        .expect(1)
        .create();
    assert!(client(&server).tfa().set_policy(&app_policy()).unwrap());
    mock.assert();
}

#[test]
fn set_policy_none_serializes_by_name_and_omits_a_missing_id() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", METHODS)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(
            r#"{"type":"None","trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]}"#.into(),
        ))
        .with_header("content-type", JSON)
        .with_body(envelope("PUT", "settings/tfaapp", json!(false)))
        .expect(1)
        .create();
    let switched_on = client(&server)
        .tfa()
        .set_policy(&TfaPolicy::new(TfaType::None))
        .unwrap();
    assert!(!switched_on);
    mock.assert();
}

#[test]
fn set_policy_sms_serializes_by_name() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", METHODS)
        .match_body(Matcher::PartialJson(json!({"type": "Sms"})))
        .with_header("content-type", JSON)
        .with_body(envelope("PUT", "settings/tfaapp", json!(true)))
        .expect(1)
        .create();
    assert!(client(&server)
        .tfa()
        .set_policy(&TfaPolicy::new(TfaType::Sms))
        .unwrap());
    mock.assert();
}

#[test]
fn set_policy_by_a_non_admin_is_forbidden() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", METHODS)
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(access_denied())
        .expect(1)
        .create();
    let err = client(&server).tfa().set_policy(&app_policy()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.server_message(), Some("Access denied"));
    assert_eq!(
        err.to_string(),
        "PUT settings/tfaapp: HTTP 403: Access denied"
    );
    mock.assert();
}

#[test]
fn set_policy_for_an_unavailable_method_is_not_available() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", METHODS)
        .with_status(405)
        .with_header("content-type", JSON)
        .with_body(not_available_405())
        .expect(1)
        .create();
    let err = client(&server).tfa().set_policy(&app_policy()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(err.status(), Some(405));
    mock.assert();
}

#[test]
fn set_policy_is_sent_once_even_on_503() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", METHODS)
        .with_status(503)
        .with_header("content-type", "text/html")
        .with_body("<html><body>Service Unavailable</body></html>")
        .expect(1)
        .create();
    let err = retrying_client(&server)
        .tfa()
        .set_policy(&app_policy())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(503));
    mock.assert();
}

#[test]
fn set_policy_with_link_returns_the_callers_confirm_url() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", WITH_LINK)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(app_policy_json()))
        .with_header("content-type", JSON)
        .with_body(envelope(
            "PUT",
            "settings/tfaappwithlink",
            json!(activation_url()),
        ))
        .expect(1)
        .create();
    let url = client(&server)
        .tfa()
        .set_policy_with_link(&app_policy())
        .unwrap();
    assert_eq!(url.as_deref(), Some(activation_url().as_str()));
    mock.assert();
}

#[test]
fn set_policy_with_link_empty_string_is_none() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", WITH_LINK)
        .match_body(Matcher::PartialJson(json!({"type": "None"})))
        .with_header("content-type", JSON)
        .with_body(envelope("PUT", "settings/tfaappwithlink", json!("")))
        .expect(1)
        .create();
    let url = client(&server)
        .tfa()
        .set_policy_with_link(&TfaPolicy::new(TfaType::None))
        .unwrap();
    assert_eq!(url, None);
    mock.assert();
}

#[test]
fn set_policy_with_link_failures() {
    let mut server = Server::new();
    let denied = bearer_mock(&mut server, "PUT", WITH_LINK)
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(access_denied())
        .expect(1)
        .create();
    let c = client(&server);
    let err = c.tfa().set_policy_with_link(&app_policy()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    denied.assert();
    denied.remove();

    let unavailable = bearer_mock(&mut server, "PUT", WITH_LINK)
        .with_status(405)
        .with_header("content-type", JSON)
        .with_body(not_available_405())
        .expect(1)
        .create();
    let err = c.tfa().set_policy_with_link(&app_policy()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    unavailable.assert();
    unavailable.remove();

    let wrong = bearer_mock(&mut server, "PUT", WITH_LINK)
        .with_header("content-type", JSON)
        .with_body(envelope("PUT", "settings/tfaappwithlink", json!(true)))
        .expect(1)
        .create();
    let err = c.tfa().set_policy_with_link(&app_policy()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    wrong.assert();
}

// ---------------------------------------------------------------------------------------------
// GET settings/tfaapp/confirm

#[test]
fn confirm_object_shape_becomes_a_ticket() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", CONFIRM)
        .match_body(Matcher::Exact(String::new()))
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/tfaapp/confirm",
            json!({
                "url": activation_url(),
                "cookieName": "asc_confirm_key_TfaActivation",
                "cookieValue": CONFIRM_KEY,
            }),
        ))
        .expect(1)
        .create();
    let data = client(&server).tfa().confirm().unwrap().unwrap();
    assert_eq!(data.url, activation_url());
    assert_eq!(
        data.cookie_name.as_deref(),
        Some("asc_confirm_key_TfaActivation")
    );
    assert_eq!(data.cookie_value.as_ref().unwrap().expose(), CONFIRM_KEY);
    assert!(!format!("{data:?}").contains(CONFIRM_KEY));

    let ticket = ConfirmTicket::from_confirm_data(&data).unwrap();
    assert_eq!(ticket.confirm_type(), "TfaActivation");
    assert_eq!(ticket.uid(), USER_ID);
    assert_eq!(ticket.key().expose(), CONFIRM_KEY);
    assert_eq!(ticket.url(), Some(activation_url().as_str()));
    assert_eq!(ticket.cookie_name(), "asc_confirm_key_TfaActivation");
    mock.assert();
}

#[test]
fn confirm_older_bare_url_shape_takes_the_key_from_set_cookie() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", CONFIRM)
        .with_header("content-type", JSON)
        .with_header(
            "set-cookie",
            "asc_auth_key=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT",
        )
        .with_header(
            "set-cookie",
            &confirm_cookie("TfaAuth", &CONFIRM_KEY.replace('.', "%2E")),
        )
        .with_body(envelope(
            "GET",
            "settings/tfaapp/confirm",
            json!(auth_url()),
        ))
        .expect(1)
        .create();
    let data = client(&server).tfa().confirm().unwrap().unwrap();
    assert_eq!(data.url, auth_url());
    assert_eq!(data.cookie_name.as_deref(), Some("asc_confirm_key_TfaAuth"));
    assert_eq!(data.cookie_value.as_ref().unwrap().expose(), CONFIRM_KEY);
    let ticket = ConfirmTicket::from_confirm_data(&data).unwrap();
    assert!(ticket.is_tfa_auth());
    assert_eq!(ticket.uid(), USER_ID);
    assert_eq!(ticket.key().expose(), CONFIRM_KEY);
    mock.assert();
}

#[test]
fn confirm_null_means_tfa_does_not_apply() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", CONFIRM)
        .with_header("content-type", JSON)
        .with_body(null_envelope("GET", "settings/tfaapp/confirm"))
        .expect(1)
        .create();
    assert_eq!(client(&server).tfa().confirm().unwrap(), None);
    mock.assert();
}

#[test]
fn confirm_sms_shape_has_no_key_and_makes_no_ticket() {
    let mut server = Server::new();
    let phone_url = format!("{PORTAL}/confirm/PhoneActivation?type=PhoneActivation&uid={USER_ID}");
    let mock = bearer_mock(&mut server, "GET", CONFIRM)
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/tfaapp/confirm",
            json!({"url": phone_url}),
        ))
        .expect(1)
        .create();
    let data = client(&server).tfa().confirm().unwrap().unwrap();
    assert_eq!(data.url, phone_url);
    assert_eq!(data.cookie_value, None);
    let err = ConfirmTicket::from_confirm_data(&data).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    mock.assert();
}

#[test]
fn confirm_without_a_valid_token_is_unauthorized() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", CONFIRM)
        .with_status(401)
        .with_body("")
        .expect(1)
        .create();
    let err = client(&server).tfa().confirm().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    mock.assert();
}

// ---------------------------------------------------------------------------------------------
// GET settings/tfaapp/setup

#[test]
fn setup_with_bearer_token_as_the_seed_does() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", SETUP)
        .match_header("content-type", Matcher::Missing)
        .match_body(Matcher::Exact(String::new()))
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp/setup", setup_value()))
        .expect(1)
        .create();
    let setup = client(&server).tfa().setup().unwrap();
    assert_eq!(setup.account, ACCOUNT);
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
    assert_eq!(setup.qr_code_setup_image_url.expose(), QR_DATA_URL);
    let shown = format!("{setup:?}");
    assert!(shown.contains(ACCOUNT), "{shown}");
    assert!(!shown.contains(MANUAL_KEY), "{shown}");
    assert!(!shown.contains("iVBORw0KGgo"), "{shown}");
    mock.assert();
}

#[test]
fn setup_with_ticket_sends_confirm_and_no_authorization() {
    let mut server = Server::new();
    let mock = ticket_mock(&mut server, "GET", SETUP, &confirm_header("TfaActivation"))
        .match_body(Matcher::Exact(String::new()))
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp/setup", setup_value()))
        .expect(1)
        .create();
    // A client that holds a token: the ticket call must still leave it out.
    let setup = client(&server)
        .tfa()
        .setup_with(&activation_ticket())
        .unwrap();
    assert_eq!(setup.account, ACCOUNT);
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
    mock.assert();
}

#[test]
fn setup_with_a_bad_ticket_is_unauthorized() {
    let mut server = Server::new();
    let mock = ticket_mock(&mut server, "GET", SETUP, &confirm_header("TfaActivation"))
        .with_status(401)
        .with_body("")
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .tfa()
        .setup_with(&activation_ticket())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    assert_no_secrets(&err, &err.to_string(), &[CONFIRM_KEY]);
    mock.assert();
}

#[test]
fn setup_when_already_linked_is_not_available() {
    let mut server = Server::new();
    let mock = ticket_mock(&mut server, "GET", SETUP, &confirm_header("TfaActivation"))
        .with_status(405)
        .with_header("content-type", JSON)
        .with_body(not_available_405())
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .tfa()
        .setup_with(&activation_ticket())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(err.status(), Some(405));
    mock.assert();
}

#[test]
fn setup_on_an_older_server_answering_403_invalid_operation_is_not_available() {
    let mut server = Server::new();
    let mock = ticket_mock(&mut server, "GET", SETUP, &confirm_header("TfaActivation"))
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(not_available_legacy_403())
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .tfa()
        .setup_with(&activation_ticket())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(err.status(), Some(403));
    mock.assert();
}

#[test]
fn setup_with_a_bearer_token_refused_by_a_real_portal_is_forbidden() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", SETUP)
        .with_status(403)
        .with_body("")
        .expect(1)
        .create();
    let err = client(&server).tfa().setup().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    mock.assert();
}

// ---------------------------------------------------------------------------------------------
// POST settings/tfaapp/validate

#[test]
fn validate_with_bearer_first_activation_and_session_cookie() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "POST", VALIDATE)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(
            r#"{"code":"123456","session":false}"#.into(),
        ))
        .with_header("content-type", JSON)
        .with_header(
            "set-cookie",
            &format!("asc_auth_key={LOGIN_TOKEN}; expires=Fri, 12 Jun 2026 10:00:00 GMT; path=/; secure; samesite=none; httponly"),
        )
        .with_header(
            "set-cookie",
            "asc_confirm_key_TfaActivation=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/",
        )
        .with_body(envelope("POST", "settings/tfaapp/validate", json!(true)))
        .expect(1)
        .create();
    // Spaces as authenticator apps show them are removed before sending.
    let v = client(&server).tfa().validate(" 123 456 ").unwrap();
    assert!(v.first_activation);
    assert_eq!(v.session_token.as_ref().unwrap().expose(), LOGIN_TOKEN);
    assert!(!format!("{v:?}").contains(LOGIN_TOKEN));
    mock.assert();
}

#[test]
fn validate_with_tfa_auth_ticket_re_check_is_false() {
    let mut server = Server::new();
    let mock = ticket_mock(&mut server, "POST", VALIDATE, &confirm_header("TfaAuth"))
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(json!({"code": "654321", "session": false})))
        .with_header("content-type", JSON)
        .with_body(envelope("POST", "settings/tfaapp/validate", json!(false)))
        .expect(1)
        .create();
    // The client holds a token: a TfaAuth ticket is refused with one, so it must be left out.
    let v = client(&server)
        .tfa()
        .validate_with(&auth_ticket(), "654321")
        .unwrap();
    assert!(!v.first_activation);
    assert_eq!(v.session_token, None);
    mock.assert();
}

#[test]
fn validate_accepts_a_backup_code() {
    let mut server = Server::new();
    let mock = ticket_mock(&mut server, "POST", VALIDATE, &confirm_header("TfaAuth"))
        .match_body(Matcher::Json(json!({"code": "a_B7c-", "session": false})))
        .with_header("content-type", JSON)
        .with_body(envelope("POST", "settings/tfaapp/validate", json!(false)))
        .expect(1)
        .create();
    let v = anonymous_client(&server)
        .tfa()
        .validate_with(&auth_ticket(), "a_B7c-")
        .unwrap();
    assert!(!v.first_activation);
    mock.assert();
}

#[test]
fn validate_wrong_code_is_invalid_code() {
    let mut server = Server::new();
    let mock = ticket_mock(
        &mut server,
        "POST",
        VALIDATE,
        &confirm_header("TfaActivation"),
    )
    .with_status(400)
    .with_header("content-type", JSON)
    .with_body(incorrect_code())
    .expect(1)
    .create();
    let err = anonymous_client(&server)
        .tfa()
        .validate_with(&activation_ticket(), "000000")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCode);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.server_message(), Some("Incorrect code"));
    mock.assert();
}

#[test]
fn validate_brute_force_lock_is_rate_limited() {
    let mut server = Server::new();
    let mock = ticket_mock(&mut server, "POST", VALIDATE, &confirm_header("TfaAuth"))
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(brute_force_lock())
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .tfa()
        .validate_with(&auth_ticket(), "123456")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.status(), Some(403));
    mock.assert();
}

#[test]
fn validate_with_a_bad_ticket_is_unauthorized() {
    let mut server = Server::new();
    let mock = ticket_mock(&mut server, "POST", VALIDATE, &confirm_header("TfaAuth"))
        .with_status(401)
        .with_body("")
        .expect(1)
        .create();
    let err = anonymous_client(&server)
        .tfa()
        .validate_with(&auth_ticket(), "123456")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    assert_no_secrets(&err, &err.to_string(), &[CONFIRM_KEY, "123456"]);
    mock.assert();
}

#[test]
fn validate_rejects_impossible_codes_before_sending() {
    let mut server = Server::new();
    let mock = server.mock("POST", Matcher::Any).expect(0).create();
    let c = client(&server);
    for bad in [
        "",
        "   ",
        "12 34\t56",
        "12345'",
        "１２３４５６",
        "123456; DROP",
        &"1".repeat(65),
    ] {
        let err = c.tfa().validate(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        assert!(err.to_string().contains("code"), "{err}");
        let err = c.tfa().validate_with(&auth_ticket(), bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
    }
    mock.assert();
}

#[test]
fn validate_is_sent_once_even_on_503() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "POST", VALIDATE)
        .with_status(503)
        .with_body("")
        .expect(1)
        .create();
    let err = retrying_client(&server)
        .tfa()
        .validate("123456")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(503));
    mock.assert();
}

// ---------------------------------------------------------------------------------------------
// GET settings/tfaappcodes and PUT settings/tfaappnewcodes

#[test]
fn backup_codes_are_listed_and_redacted_in_debug() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", CODES)
        .match_header("content-type", Matcher::Missing)
        .match_body(Matcher::Exact(String::new()))
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaappcodes", codes_value()))
        .expect(1)
        .create();
    let codes = client(&server).tfa().backup_codes().unwrap();
    assert_eq!(codes.len(), 5);
    assert!(codes[0].is_used);
    assert_eq!(codes[0].code.expose(), "Xk3-_q");
    assert!(codes[1..].iter().all(|c| !c.is_used));
    assert_eq!(codes[2].code.expose(), "a_B7c-");
    let shown = format!("{codes:?} {codes:#?}");
    for c in ["Xk3-_q", "9pL2mZ", "a_B7c-", "QwE4rT", "z9Y8x7"] {
        assert!(!shown.contains(c), "{shown}");
    }
    mock.assert();
}

#[test]
fn backup_codes_without_a_linked_app_is_not_available() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", CODES)
        .with_status(405)
        .with_header("content-type", JSON)
        .with_body(not_available_405())
        .expect(1)
        .create();
    let err = client(&server).tfa().backup_codes().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(err.status(), Some(405));
    mock.assert();
}

#[test]
fn regenerate_backup_codes_returns_the_new_set() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", NEW_CODES)
        .match_header("content-type", Matcher::Missing)
        .match_body(Matcher::Exact(String::new()))
        .with_header("content-type", JSON)
        .with_body(envelope(
            "PUT",
            "settings/tfaappnewcodes",
            json!([
                {"isUsed": false, "code": "n3W-c0"},
                {"isUsed": false, "code": "d3_s4T"},
            ]),
        ))
        .expect(1)
        .create();
    let codes = client(&server).tfa().regenerate_backup_codes().unwrap();
    let values: Vec<&str> = codes.iter().map(|c| c.code.expose()).collect();
    assert_eq!(values, ["n3W-c0", "d3_s4T"]);
    assert!(codes.iter().all(|c| !c.is_used));
    mock.assert();
}

#[test]
fn regenerate_backup_codes_is_sent_exactly_once_even_on_503() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", NEW_CODES)
        .with_status(503)
        .with_header("retry-after", "0")
        .with_header("content-type", "text/html")
        .with_body("<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
        .expect(1)
        .create();
    let err = retrying_client(&server)
        .tfa()
        .regenerate_backup_codes()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(503));
    assert!(err.to_string().contains("503 Service"), "{err}");
    mock.assert();
}

#[test]
fn regenerate_backup_codes_without_a_linked_app_is_not_available() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", NEW_CODES)
        .with_status(405)
        .with_header("content-type", JSON)
        .with_body(not_available_405())
        .expect(1)
        .create();
    let err = client(&server).tfa().regenerate_backup_codes().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    mock.assert();
}

// ---------------------------------------------------------------------------------------------
// GET people/@self and PUT settings/tfaappnewapp

fn me_value() -> serde_json::Value {
    json!({
        "id": USER_ID,
        "displayName": "John Doe",
        "email": ACCOUNT,
        "firstName": "John",
        "lastName": "Doe",
        "userName": "john.doe",
        "isOwner": false,
        "isAdmin": true,
        "isVisitor": false,
        "activationStatus": 1,
        "status": 1,
        "avatar": "/static/images/default_user_photo_size_82-82.png",
        "profileUrl": format!("{PORTAL}/accounts/view/john.doe"),
        "groups": null,
    })
}

#[test]
fn people_me_decodes_the_profile() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "GET", SELF)
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me_value()))
        .expect(1)
        .create();
    let me = client(&server).people().me().unwrap();
    assert_eq!(me.id, USER_ID);
    assert_eq!(me.display_name, "John Doe");
    assert_eq!(me.email, ACCOUNT);
    assert!(!me.is_owner);
    assert!(me.is_admin);
    mock.assert();
}

#[test]
fn unlink_self_uses_own_id_and_returns_a_ready_ticket() {
    let mut server = Server::new();
    let me = bearer_mock(&mut server, "GET", SELF)
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me_value()))
        .expect(1)
        .create();
    let unlink = bearer_mock(&mut server, "PUT", NEW_APP)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(format!(r#"{{"id":"{USER_ID}"}}"#)))
        .with_header("content-type", JSON)
        .with_header("set-cookie", &confirm_cookie("TfaActivation", CONFIRM_KEY))
        .with_body(envelope(
            "PUT",
            "settings/tfaappnewapp",
            json!(activation_url()),
        ))
        .expect(1)
        .create();
    let ticket = client(&server).tfa().unlink_self().unwrap();
    assert_eq!(ticket.confirm_type(), "TfaActivation");
    assert_eq!(ticket.uid(), USER_ID);
    assert_eq!(ticket.key().expose(), CONFIRM_KEY);
    assert_eq!(ticket.url(), Some(activation_url().as_str()));
    assert!(!format!("{ticket:?}").contains(CONFIRM_KEY));
    me.assert();
    unlink.assert();
}

#[test]
fn unlink_self_ticket_drives_the_next_setup() {
    let mut server = Server::new();
    let _me = bearer_mock(&mut server, "GET", SELF)
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me_value()))
        .create();
    let _unlink = bearer_mock(&mut server, "PUT", NEW_APP)
        .with_header("content-type", JSON)
        .with_header("set-cookie", &confirm_cookie("TfaActivation", CONFIRM_KEY))
        .with_body(envelope(
            "PUT",
            "settings/tfaappnewapp",
            json!(activation_url()),
        ))
        .create();
    let setup = ticket_mock(&mut server, "GET", SETUP, &confirm_header("TfaActivation"))
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp/setup", setup_value()))
        .expect(1)
        .create();
    let c = client(&server);
    let ticket = c.tfa().unlink_self().unwrap();
    assert_eq!(
        c.tfa()
            .setup_with(&ticket)
            .unwrap()
            .manual_entry_key
            .expose(),
        MANUAL_KEY
    );
    setup.assert();
}

#[test]
fn unlink_self_without_the_key_cookie_is_a_decode_error() {
    let mut server = Server::new();
    let me = bearer_mock(&mut server, "GET", SELF)
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me_value()))
        .expect(1)
        .create();
    let unlink = bearer_mock(&mut server, "PUT", NEW_APP)
        .with_header("content-type", JSON)
        .with_body(envelope(
            "PUT",
            "settings/tfaappnewapp",
            json!(activation_url()),
        ))
        .expect(1)
        .create();
    let err = client(&server).tfa().unlink_self().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(
        err.to_string().contains("asc_confirm_key_TfaActivation"),
        "{err}"
    );
    me.assert();
    unlink.assert();
}

#[test]
fn unlink_self_without_a_linked_app_is_not_available() {
    let mut server = Server::new();
    let me = bearer_mock(&mut server, "GET", SELF)
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me_value()))
        .expect(1)
        .create();
    let unlink = bearer_mock(&mut server, "PUT", NEW_APP)
        .match_body(Matcher::Json(json!({"id": USER_ID})))
        .with_status(405)
        .with_header("content-type", JSON)
        .with_body(not_available_405())
        .expect(1)
        .create();
    let err = client(&server).tfa().unlink_self().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(err.status(), Some(405));
    me.assert();
    unlink.assert();
}

#[test]
fn unlink_self_with_a_bad_token_stops_at_people_self() {
    let mut server = Server::new();
    let me = bearer_mock(&mut server, "GET", SELF)
        .with_status(401)
        .with_body("")
        .expect(1)
        .create();
    let unlink = server.mock("PUT", NEW_APP).expect(0).create();
    let err = client(&server).tfa().unlink_self().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.to_string(), "GET people/@self: HTTP 401 (empty body)");
    me.assert();
    unlink.assert();
}

#[test]
fn unlink_user_sends_their_id_and_returns_nothing() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", NEW_APP)
        .match_header("content-type", "application/json")
        .match_body(Matcher::Exact(format!(r#"{{"id":"{OTHER_USER_ID}"}}"#)))
        .with_header("content-type", JSON)
        .with_body(envelope("PUT", "settings/tfaappnewapp", json!("")))
        .expect(1)
        .create();
    client(&server).tfa().unlink_user(OTHER_USER_ID).unwrap();
    mock.assert();
}

#[test]
fn unlink_user_by_a_non_owner_is_forbidden() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", NEW_APP)
        .match_body(Matcher::Json(json!({"id": OTHER_USER_ID})))
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(access_denied())
        .expect(1)
        .create();
    let err = client(&server)
        .tfa()
        .unlink_user(OTHER_USER_ID)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(err.server_message(), Some("Access denied"));
    mock.assert();
}

#[test]
fn unlink_user_without_a_linked_app_is_not_available() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", NEW_APP)
        .with_status(405)
        .with_header("content-type", JSON)
        .with_body(not_available_405())
        .expect(1)
        .create();
    let err = client(&server)
        .tfa()
        .unlink_user(OTHER_USER_ID)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    mock.assert();
}

#[test]
fn unlink_user_refuses_an_empty_id_before_sending() {
    let mut server = Server::new();
    let mock = server.mock("PUT", Matcher::Any).expect(0).create();
    let c = client(&server);
    for bad in ["", "  ", "00000000-0000-0000-0000-000000000000"] {
        let err = c.tfa().unlink_user(bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad:?}");
        assert!(err.to_string().contains("user id"), "{err}");
    }
    mock.assert();
}

#[test]
fn unlink_is_sent_once_even_on_503() {
    let mut server = Server::new();
    let mock = bearer_mock(&mut server, "PUT", NEW_APP)
        .with_status(503)
        .with_body("")
        .expect(1)
        .create();
    let err = retrying_client(&server)
        .tfa()
        .unlink_user(OTHER_USER_ID)
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    mock.assert();
}
