//! Every TFA settings endpoint: method, path, headers, exact body, decoded result, and the
//! failures `docs/server.md` lists for it.
//!
//! Each case names the request the crate must send (`support::expect`: method, path,
//! credential, body; hit exactly once) and the answer; the failures and the plain values are
//! tables (`cases!`, one test per row), the answers with more to check are tests of their own.

mod support;

use docspace_tfa::{ConfirmTicket, ErrorKind, TfaMethodId, TfaPolicy, TfaType};
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

/// `GET people/@self` with the bearer token, answering the profile.
fn me() -> Expect {
    get(SELF).bearer().ok(me_value())
}

/// `PUT settings/tfaappnewapp` for the caller's own id, with the bearer token.
fn unlink_own() -> Expect {
    put(NEW_APP).bearer().json(json!({"id": USER_ID}))
}

/// The `Set-Cookie` of the confirm key of an activation ticket.
fn activation_cookie() -> String {
    confirm_cookie("TfaActivation", CONFIRM_KEY)
}

// ---------------------------------------------------------------------------------------------
// Failures, endpoint by endpoint: the request the crate sends, the portal's answer, the error.

use ErrorKind::*;

cases! {
    // GET settings/tfaapp
    methods_without_a_valid_token_is_unauthorized: client, |c| c.tfa().methods(),
        [get(METHODS).bearer().empty(401)] => fails(Unauthorized).status(401);

    // PUT settings/tfaapp
    set_policy_by_a_non_admin_is_forbidden: client, |c| c.tfa().set_policy(&app_policy()),
        [put(METHODS).bearer().json(app_policy_json()).answers(403, access_denied())]
        => fails(Forbidden).status(403).message("Access denied")
            .display("PUT settings/tfaapp: HTTP 403: Access denied");
    set_policy_for_an_unavailable_method_is_not_available:
        client, |c| c.tfa().set_policy(&app_policy()),
        [put(METHODS).bearer().answers(405, not_available_405())]
        => fails(NotAvailable).status(405);
    set_policy_is_sent_once_even_on_503: retrying_client, |c| c.tfa().set_policy(&app_policy()),
        [put(METHODS).bearer()
            .answers_as(503, "text/html", "<html><body>Service Unavailable</body></html>")]
        => fails(Server).status(503);

    // PUT settings/tfaappwithlink
    set_policy_with_link_by_a_non_admin_is_forbidden:
        client, |c| c.tfa().set_policy_with_link(&app_policy()),
        [put(WITH_LINK).bearer().json(app_policy_json()).answers(403, access_denied())]
        => fails(Forbidden).status(403).message("Access denied");
    set_policy_with_link_for_an_unavailable_method_is_not_available:
        client, |c| c.tfa().set_policy_with_link(&app_policy()),
        [put(WITH_LINK).bearer().answers(405, not_available_405())]
        => fails(NotAvailable).status(405);
    set_policy_with_link_answering_a_bool_is_a_decode_error:
        client, |c| c.tfa().set_policy_with_link(&app_policy()),
        [put(WITH_LINK).bearer().ok(json!(true))] => fails(Decode).no_status();

    // GET settings/tfaapp/confirm
    confirm_without_a_valid_token_is_unauthorized: client, |c| c.tfa().confirm(),
        [get(CONFIRM).bearer().empty(401)] => fails(Unauthorized).status(401);

    // GET settings/tfaapp/setup
    setup_with_a_bad_ticket_is_unauthorized:
        anonymous_client, |c| c.tfa().setup_with(&activation_ticket()),
        [get(SETUP).ticket("TfaActivation").empty(401)] => fails(Unauthorized).status(401);
    setup_when_already_linked_is_not_available:
        anonymous_client, |c| c.tfa().setup_with(&activation_ticket()),
        [get(SETUP).ticket("TfaActivation").answers(405, not_available_405())]
        => fails(NotAvailable).status(405);
    setup_on_an_older_server_answering_403_invalid_operation_is_not_available:
        anonymous_client, |c| c.tfa().setup_with(&activation_ticket()),
        [get(SETUP).ticket("TfaActivation").answers(403, not_available_legacy_403())]
        => fails(NotAvailable).status(403);
    setup_with_a_bearer_token_refused_by_a_real_portal_is_forbidden: client, |c| c.tfa().setup(),
        [get(SETUP).bearer().empty(403)] => fails(Forbidden).status(403).no_message();

    // POST settings/tfaapp/validate
    validate_wrong_code_is_invalid_code:
        anonymous_client, |c| c.tfa().validate_with(&activation_ticket(), "000000"),
        [post(VALIDATE).ticket("TfaActivation").answers(400, incorrect_code())]
        => fails(InvalidCode).status(400).message("Incorrect code").hides(&["000000"]);
    validate_brute_force_lock_is_rate_limited:
        anonymous_client, |c| c.tfa().validate_with(&auth_ticket(), "123456"),
        [post(VALIDATE).ticket("TfaAuth").answers(403, brute_force_lock())]
        => fails(RateLimited).status(403);
    validate_with_a_bad_ticket_is_unauthorized:
        anonymous_client, |c| c.tfa().validate_with(&auth_ticket(), "123456"),
        [post(VALIDATE).ticket("TfaAuth").empty(401)]
        => fails(Unauthorized).status(401).hides(&["123456"]);
    validate_is_sent_once_even_on_503: retrying_client, |c| c.tfa().validate("123456"),
        [post(VALIDATE).bearer().empty(503)] => fails(Server).status(503);

    // GET settings/tfaappcodes and PUT settings/tfaappnewcodes
    backup_codes_without_a_linked_app_is_not_available: client, |c| c.tfa().backup_codes(),
        [get(CODES).bearer().answers(405, not_available_405())]
        => fails(NotAvailable).status(405);
    regenerate_backup_codes_is_sent_exactly_once_even_on_503:
        retrying_client, |c| c.tfa().regenerate_backup_codes(),
        [put(NEW_CODES).bearer().with("retry-after", "0").answers_as(503, "text/html",
            "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")]
        => fails(Server).status(503).contains("503 Service");
    regenerate_backup_codes_without_a_linked_app_is_not_available:
        client, |c| c.tfa().regenerate_backup_codes(),
        [put(NEW_CODES).bearer().no_body().answers(405, not_available_405())]
        => fails(NotAvailable).status(405);

    // GET people/@self, then PUT settings/tfaappnewapp
    unlink_self_without_the_key_cookie_is_a_decode_error: client, |c| c.tfa().unlink_self(),
        [me(), unlink_own().ok(json!(activation_url()))]
        => fails(Decode).contains("asc_confirm_key_TfaActivation");
    unlink_self_without_a_linked_app_is_not_available: client, |c| c.tfa().unlink_self(),
        [me(), unlink_own().answers(405, not_available_405())]
        => fails(NotAvailable).status(405);
    unlink_self_with_a_bad_token_stops_at_people_self: client, |c| c.tfa().unlink_self(),
        [get(SELF).bearer().empty(401), never("PUT")]
        => fails(Unauthorized).status(401).display(
            "GET people/@self: HTTP 401 (empty body); the portal refused the bearer token: check \
             the token (wrong, revoked, expired, or of another portal?)",
        );

    // PUT settings/tfaappnewapp for another member
    unlink_user_by_a_non_owner_is_forbidden: client, |c| c.tfa().unlink_user(OTHER_USER_ID),
        [put(NEW_APP).bearer().json(json!({"id": OTHER_USER_ID})).answers(403, access_denied())]
        => fails(Forbidden).status(403).message("Access denied");
    unlink_user_without_a_linked_app_is_not_available:
        client, |c| c.tfa().unlink_user(OTHER_USER_ID),
        [put(NEW_APP).bearer().answers(405, not_available_405())]
        => fails(NotAvailable).status(405);
    unlink_is_sent_once_even_on_503: retrying_client, |c| c.tfa().unlink_user(OTHER_USER_ID),
        [put(NEW_APP).bearer().empty(503)] => fails(Server).status(503);
}

// ---------------------------------------------------------------------------------------------
// Answers that are one value: the request the crate sends and what the call returns.

cases! {
    set_policy_sends_the_policy_and_reads_switched_on:
        client, |c| c.tfa().set_policy(&app_policy()),
        [put(METHODS).bearer().json(app_policy_json()).ok(json!(true))] => Returns(true);
    set_policy_none_serializes_by_name_and_omits_a_missing_id:
        client, |c| c.tfa().set_policy(&TfaPolicy::new(TfaType::None)),
        [put(METHODS).bearer()
            .exact(r#"{"type":"None","trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]}"#)
            .ok(json!(false))]
        => Returns(false);
    set_policy_sms_serializes_by_name:
        client, |c| c.tfa().set_policy(&TfaPolicy::new(TfaType::Sms)),
        [put(METHODS).bearer().partial(json!({"type": "Sms"})).ok(json!(true))] => Returns(true);
    set_policy_with_link_returns_the_callers_confirm_url:
        client, |c| c.tfa().set_policy_with_link(&app_policy()),
        [put(WITH_LINK).bearer().json(app_policy_json()).ok(json!(activation_url()))]
        => Returns(Some(activation_url()));
    set_policy_with_link_empty_string_is_none:
        client, |c| c.tfa().set_policy_with_link(&TfaPolicy::new(TfaType::None)),
        [put(WITH_LINK).bearer().partial(json!({"type": "None"})).ok(json!(""))] => Returns(None);
    confirm_null_means_tfa_does_not_apply: client, |c| c.tfa().confirm(),
        [get(CONFIRM).bearer().ok_null()] => Returns(None);
    unlink_user_sends_their_id_and_returns_nothing:
        client, |c| c.tfa().unlink_user(OTHER_USER_ID),
        [put(NEW_APP).bearer().exact(format!(r#"{{"id":"{OTHER_USER_ID}"}}"#)).ok(json!(""))]
        => Returns(());
}

// ---------------------------------------------------------------------------------------------
// GET settings/tfaapp

#[test]
fn methods_lists_sms_and_app() {
    let methods = get(METHODS)
        .bearer()
        .ok(json!([
            {"id": "sms", "title": "SMS", "enabled": false, "available": false,
             "trustedIps": [], "mandatoryUsers": [], "mandatoryGroups": []},
            {"id": "app", "title": "Authenticator app", "enabled": true, "available": true,
             "trustedIps": ["192.168.1.0/24", "10.0.0.7"], "mandatoryUsers": [USER_ID],
             "mandatoryGroups": [GROUP_ID]},
        ]))
        .run(client, |c| c.tfa().methods())
        .unwrap();
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
}

#[test]
fn methods_tolerates_unknown_ids_nulls_and_an_empty_list() {
    let methods = get(METHODS)
        .bearer()
        .ok(json!([
            {"id": "passkey", "title": "Passkey", "enabled": false, "available": true,
             "trustedIps": null, "mandatoryUsers": null, "mandatoryGroups": null,
             "someNewField": {"x": 1}},
            {"id": "app", "title": "Authenticator app", "enabled": true, "available": true},
        ]))
        .run(client, |c| c.tfa().methods())
        .unwrap();
    assert_eq!(methods[0].id, TfaMethodId::Other("passkey".into()));
    assert_eq!(methods[0].id.as_str(), "passkey");
    assert_eq!(
        methods[0].mandatory_users, None,
        "null is absent, not empty"
    );
    assert_eq!(methods[1].id, TfaMethodId::App);

    let empty = get(METHODS).bearer().ok(json!([]));
    assert!(empty.run(client, |c| c.tfa().methods()).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// GET settings/tfaapp/confirm

#[test]
fn confirm_object_shape_becomes_a_ticket() {
    let data = get(CONFIRM)
        .bearer()
        .ok(json!({
            "url": activation_url(),
            "cookieName": "asc_confirm_key_TfaActivation",
            "cookieValue": CONFIRM_KEY,
        }))
        .run(client, |c| c.tfa().confirm())
        .unwrap()
        .unwrap();
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
}

#[test]
fn confirm_older_bare_url_shape_takes_the_key_from_set_cookie() {
    let data = get(CONFIRM)
        .bearer()
        .cookie("asc_auth_key=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT")
        .cookie(confirm_cookie("TfaAuth", &CONFIRM_KEY.replace('.', "%2E")))
        .ok(json!(auth_url()))
        .run(client, |c| c.tfa().confirm())
        .unwrap()
        .unwrap();
    assert_eq!(data.url, auth_url());
    assert_eq!(data.cookie_name.as_deref(), Some("asc_confirm_key_TfaAuth"));
    assert_eq!(data.cookie_value.as_ref().unwrap().expose(), CONFIRM_KEY);
    let ticket = ConfirmTicket::from_confirm_data(&data).unwrap();
    assert!(ticket.is_tfa_auth());
    assert_eq!(ticket.uid(), USER_ID);
    assert_eq!(ticket.key().expose(), CONFIRM_KEY);
}

#[test]
fn confirm_sms_shape_has_no_key_and_makes_no_ticket() {
    let phone_url = format!("{PORTAL}/confirm/PhoneActivation?type=PhoneActivation&uid={USER_ID}");
    let data = get(CONFIRM)
        .bearer()
        .ok(json!({"url": phone_url}))
        .run(client, |c| c.tfa().confirm())
        .unwrap()
        .unwrap();
    assert_eq!(data.url, phone_url);
    assert_eq!(data.cookie_value, None);
    let err = ConfirmTicket::from_confirm_data(&data).unwrap_err();
    fails(InvalidInput).no_status().check_error(err);
}

// ---------------------------------------------------------------------------------------------
// GET settings/tfaapp/setup

#[test]
fn setup_with_bearer_token_as_the_seed_does() {
    let setup = get(SETUP)
        .bearer()
        .ok(setup_value())
        .run(client, |c| c.tfa().setup())
        .unwrap();
    assert_eq!(setup.account, ACCOUNT);
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
    assert_eq!(setup.qr_code_setup_image_url.expose(), QR_DATA_URL);
    let shown = format!("{setup:?}");
    assert!(shown.contains(ACCOUNT), "{shown}");
    assert!(!shown.contains(MANUAL_KEY), "{shown}");
    assert!(!shown.contains("iVBORw0KGgo"), "{shown}");
}

#[test]
fn setup_with_ticket_sends_confirm_and_no_authorization() {
    // A client that holds a token: the ticket call must still leave it out.
    let setup = get(SETUP)
        .ticket("TfaActivation")
        .ok(setup_value())
        .run(client, |c| c.tfa().setup_with(&activation_ticket()))
        .unwrap();
    assert_eq!(setup.account, ACCOUNT);
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
}

// ---------------------------------------------------------------------------------------------
// POST settings/tfaapp/validate

#[test]
fn validate_with_bearer_first_activation_and_session_cookie() {
    let v = post(VALIDATE)
        .bearer()
        .exact(r#"{"code":"123456","session":false}"#)
        .cookie(format!(
            "asc_auth_key={LOGIN_TOKEN}; expires=Fri, 12 Jun 2026 10:00:00 GMT; path=/; secure; samesite=none; httponly"
        ))
        .cookie("asc_confirm_key_TfaActivation=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/")
        .ok(json!(true))
        // Spaces as authenticator apps show them are removed before sending.
        .run(client, |c| c.tfa().validate(" 123 456 "))
        .unwrap();
    assert!(v.first_activation);
    assert_eq!(v.session_token.as_ref().unwrap().expose(), LOGIN_TOKEN);
    assert!(!format!("{v:?}").contains(LOGIN_TOKEN));
}

#[test]
fn validate_with_tfa_auth_ticket_re_check_is_false() {
    // The client holds a token: a TfaAuth ticket is refused with one, so it must be left out.
    let v = post(VALIDATE)
        .ticket("TfaAuth")
        .json(json!({"code": "654321", "session": false}))
        .ok(json!(false))
        .run(client, |c| c.tfa().validate_with(&auth_ticket(), "654321"))
        .unwrap();
    assert!(!v.first_activation);
    assert_eq!(v.session_token, None);
}

#[test]
fn validate_accepts_a_backup_code() {
    let v = post(VALIDATE)
        .ticket("TfaAuth")
        .json(json!({"code": "a_B7c-", "session": false}))
        .ok(json!(false))
        .run(anonymous_client, |c| {
            c.tfa().validate_with(&auth_ticket(), "a_B7c-")
        })
        .unwrap();
    assert!(!v.first_activation);
}

#[test]
fn validate_rejects_impossible_codes_before_sending() {
    let bad_codes = [
        "",
        "   ",
        "12 34\t56",
        "12345'",
        "１２３４５６",
        "123456; DROP",
        &"1".repeat(65),
    ];
    never("POST")
        .run(client, |c| {
            for bad in bad_codes {
                let refused = fails(InvalidInput).no_status().contains("code");
                refused.check_error(c.tfa().validate(bad).unwrap_err());
                let err = c.tfa().validate_with(&auth_ticket(), bad).unwrap_err();
                fails(InvalidInput).check_error(err);
            }
            Ok(())
        })
        .unwrap();
}

// ---------------------------------------------------------------------------------------------
// GET settings/tfaappcodes and PUT settings/tfaappnewcodes

#[test]
fn backup_codes_are_listed_and_redacted_in_debug() {
    let codes = get(CODES)
        .bearer()
        .ok(codes_value())
        .run(client, |c| c.tfa().backup_codes())
        .unwrap();
    assert_eq!(codes.len(), 5);
    assert!(codes[0].is_used);
    assert_eq!(codes[0].code.expose(), "Xk3-_q");
    assert!(codes[1..].iter().all(|c| !c.is_used));
    assert_eq!(codes[2].code.expose(), "a_B7c-");
    let shown = format!("{codes:?} {codes:#?}");
    for c in ["Xk3-_q", "9pL2mZ", "a_B7c-", "QwE4rT", "z9Y8x7"] {
        assert!(!shown.contains(c), "{shown}");
    }
}

#[test]
fn regenerate_backup_codes_returns_the_new_set() {
    let codes = put(NEW_CODES)
        .bearer()
        .no_body()
        .ok(json!([
            {"isUsed": false, "code": "n3W-c0"},
            {"isUsed": false, "code": "d3_s4T"},
        ]))
        .run(client, |c| c.tfa().regenerate_backup_codes())
        .unwrap();
    let values: Vec<&str> = codes.iter().map(|c| c.code.expose()).collect();
    assert_eq!(values, ["n3W-c0", "d3_s4T"]);
    assert!(codes.iter().all(|c| !c.is_used));
}

// ---------------------------------------------------------------------------------------------
// GET people/@self and PUT settings/tfaappnewapp

#[test]
fn people_me_decodes_the_profile() {
    let me = me().run(client, |c| c.people().me()).unwrap();
    assert_eq!(me.id, USER_ID);
    assert_eq!(me.display_name, "John Doe");
    assert_eq!(me.email, ACCOUNT);
    assert!(!me.is_owner);
    assert!(me.is_admin);
}

#[test]
fn unlink_self_uses_own_id_and_returns_a_ready_ticket() {
    let unlink = put(NEW_APP)
        .bearer()
        .exact(format!(r#"{{"id":"{USER_ID}"}}"#))
        .cookie(activation_cookie())
        .ok(json!(activation_url()));
    let ticket = run(vec![me(), unlink], client, |c| c.tfa().unlink_self()).unwrap();
    assert_eq!(ticket.confirm_type(), "TfaActivation");
    assert_eq!(ticket.uid(), USER_ID);
    assert_eq!(ticket.key().expose(), CONFIRM_KEY);
    assert_eq!(ticket.url(), Some(activation_url().as_str()));
    assert!(!format!("{ticket:?}").contains(CONFIRM_KEY));
}

#[test]
fn unlink_self_ticket_drives_the_next_setup() {
    let expects = vec![
        me(),
        unlink_own()
            .cookie(activation_cookie())
            .ok(json!(activation_url())),
        get(SETUP).ticket("TfaActivation").ok(setup_value()),
    ];
    let setup = run(expects, client, |c| {
        let ticket = c.tfa().unlink_self()?;
        c.tfa().setup_with(&ticket)
    })
    .unwrap();
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
}

#[test]
fn unlink_user_refuses_an_empty_id_before_sending() {
    never("PUT")
        .run(client, |c| {
            for bad in ["", "  ", "00000000-0000-0000-0000-000000000000"] {
                let err = c.tfa().unlink_user(bad).unwrap_err();
                fails(InvalidInput).contains("user id").check_error(err);
            }
            Ok(())
        })
        .unwrap();
}
