//! Fidelity to a real portal (`docs/server.md`): errors classified as the server means them, in
//! every culture it speaks; the setup code's account and exact otpauth URI; the
//! `tfaappwithlink` bug recovered from; absent policy lists kept absent; HTML pages named; and
//! the emulator's defaults following the server's source.

mod support;

use docspace_tfa::emulator::{Emulator, NewUser, TicketType};
use docspace_tfa::{ErrorKind, ServerMessage, SetupCode, TfaPolicy, TfaType};
use mockito::Server;
use serde_json::{json, Value};
use support::*;

const METHODS: &str = "/api/2.0/settings/tfaapp";
const POLICY: &str = "/api/2.0/settings/tfaapp";
const WITH_LINK: &str = "/api/2.0/settings/tfaappwithlink";
const CODES: &str = "/api/2.0/settings/tfaappcodes";
const NEW_APP: &str = "/api/2.0/settings/tfaappnewapp";
const LOGIN: &str = "/api/2.0/authentication";

/// The table the crate compiles in, read here as data: every culture, every key.
fn table() -> Value {
    serde_json::from_str(include_str!("../src/messages/server-messages.json")).unwrap()
}

fn ioe_403(message: &str) -> String {
    error_envelope(403, message, Some("System.InvalidOperationException"))
}

/// One call of `GET settings/tfaappcodes` answered with `status` and `body`.
fn codes_error(status: usize, body: &str) -> docspace_tfa::Error {
    let mut server = Server::new();
    let mock = server
        .mock("GET", CODES)
        .with_status(status)
        .with_header("content-type", JSON)
        .with_body(body)
        .expect(1)
        .create();
    let err = client(&server).tfa().backup_codes().unwrap_err();
    mock.assert();
    err
}

#[test]
fn every_text_of_the_table_is_classified_as_the_server_means_it() {
    let table = table();
    let messages = table["messages"].as_object().unwrap();
    assert_eq!(messages.len(), 30, "30 cultures");
    let mut server = Server::new();
    let c = client(&server);
    let mut walked = 0;
    for (culture, texts) in messages {
        for (key, text) in texts.as_object().unwrap() {
            let text = text.as_str().unwrap();
            let refusal = matches!(key.as_str(), "ErrorAccessDenied" | "ErrorUserDisabled");
            let mock = server
                .mock("GET", CODES)
                .with_status(403)
                .with_header("content-type", JSON)
                .with_body(ioe_403(text))
                .expect(1)
                .create();
            let err = c.tfa().backup_codes().unwrap_err();
            mock.assert();
            mock.remove();
            let expected = if refusal {
                ErrorKind::Forbidden
            } else {
                ErrorKind::NotAvailable
            };
            assert_eq!(err.kind(), expected, "{culture} {key}: {text}");
            assert_eq!(err.status(), Some(403));
            assert_eq!(
                err.recognized_message().map(ServerMessage::key),
                Some(key.as_str()),
                "{culture} {key}"
            );
            // The server's message stays in the error, as sent.
            assert_eq!(err.server_message(), Some(text), "{culture} {key}");
            assert!(err.to_string().contains(text), "{err}");
            walked += 1;
        }
    }
    assert_eq!(walked, 120, "4 keys in 30 cultures");
    let literal = table["literal"]["NotAvailable"].as_str().unwrap();
    let err = codes_error(403, &ioe_403(literal));
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(err.recognized_message(), Some(ServerMessage::NotAvailable));
}

#[test]
fn refusals_are_forbidden_in_three_cultures() {
    let mut server = Server::new();
    for (text, other_id) in [
        ("No permissions to perform this action", OTHER_USER_ID),
        (
            "Keine Berechtigung zum Durchführen dieser Aktion",
            OTHER_USER_ID,
        ),
        (
            "Недостаточно прав для выполнения данной операции",
            OTHER_USER_ID,
        ),
        ("この操作を実行するアクセス許可がありません", OTHER_USER_ID),
    ] {
        // `PUT tfaappnewapp` for another member by a caller who is not the owner.
        let mock = server
            .mock("PUT", NEW_APP)
            .match_body(mockito::Matcher::Json(json!({"id": other_id})))
            .with_status(403)
            .with_header("content-type", JSON)
            .with_body(ioe_403(text))
            .expect(1)
            .create();
        let err = client(&server).tfa().unlink_user(other_id).unwrap_err();
        mock.assert();
        mock.remove();
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{text}");
        assert_eq!(err.recognized_message(), Some(ServerMessage::AccessDenied));
    }
    // `PUT tfaapp` naming the owner, in French, with the server's trailing whitespace.
    let mock = server
        .mock("PUT", POLICY)
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(ioe_403("Pas d'autorisation pour effectuer cette action. "))
        .expect(1)
        .create();
    let err = client(&server)
        .tfa()
        .set_policy(&TfaPolicy::new(TfaType::App).mandatory_user(USER_ID))
        .unwrap_err();
    mock.assert();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
}

#[test]
fn a_disabled_account_is_forbidden_at_login_not_rate_limited() {
    let mut server = Server::new();
    for text in ["User disabled", "Benutzer deaktiviert", "禁用用户"] {
        let mock = server
            .mock("POST", LOGIN)
            .with_status(403)
            .with_header("content-type", JSON)
            .with_body(ioe_403(text))
            .expect(1)
            .create();
        let err = anonymous_client(&server)
            .auth()
            .login(USER_NAME, PASSWORD)
            .unwrap_err();
        mock.assert();
        mock.remove();
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{text}");
        assert_eq!(err.recognized_message(), Some(ServerMessage::UserDisabled));
        assert!(!err.is_rate_limited());
    }
    // The brute-force lock (no type, another text) is still a lock.
    let mock = server
        .mock("POST", LOGIN)
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(error_envelope(403, "Too many login attempts", None))
        .create();
    let err = anonymous_client(&server)
        .auth()
        .login(USER_NAME, PASSWORD)
        .unwrap_err();
    mock.assert();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
}

#[test]
fn not_available_in_three_cultures_and_unknown_texts() {
    for text in [
        "TFA application settings are not available",
        "TFA-Anwendungseinstellungen sind nicht verfügbar",
        "Настройки приложения для аутентификации недоступны",
        "SMS settings are not available",
        "Not available.",
        // `throw new InvalidOperationException()` (SMS provider off): .NET's default text.
        "Operation is not valid due to the current state of the object.",
    ] {
        let err = codes_error(403, &ioe_403(text));
        assert_eq!(err.kind(), ErrorKind::NotAvailable, "{text}");
        assert_eq!(err.server_message(), Some(text));
    }
}

#[test]
fn servers_up_to_3_2_1_answer_500_and_415() {
    for (text, kind) in [
        (
            "TFA application settings are not available",
            ErrorKind::NotAvailable,
        ),
        (
            "Les paramètres SMS ne sont pas accessibles",
            ErrorKind::NotAvailable,
        ),
        (
            "Nastavení aplikace TFA není k dispozici",
            ErrorKind::NotAvailable,
        ),
        (
            "No permissions to perform this action",
            ErrorKind::Forbidden,
        ),
        (
            "Object reference not set to an instance of an object.",
            ErrorKind::Server,
        ),
    ] {
        let err = codes_error(500, &error_envelope(500, text, Some("System.Exception")));
        assert_eq!((err.kind(), err.status()), (kind, Some(500)), "{text}");
    }
    let err = codes_error(
        415,
        &error_envelope(415, "Not available.", Some("System.NotSupportedException")),
    );
    assert_error(&err, ErrorKind::NotAvailable, Some(415));
    // A 405 (listed in the API reference, answered by no released server) stays mapped.
    let err = codes_error(405, &error_envelope(405, "Not available.", None));
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
}

#[test]
fn an_html_error_page_says_what_it_is_and_keeps_the_page_for_debugging() {
    let mut server = Server::new();
    let mock = server
        .mock("GET", METHODS)
        .with_status(502)
        .with_header("content-type", "text/html")
        .with_body(NGINX_502)
        .create();
    let err = client(&server).tfa().methods().unwrap_err();
    mock.assert();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(
        err.to_string(),
        "GET settings/tfaapp: HTTP 502 Bad Gateway: an HTML page from a proxy or gateway, \
         not the portal's JSON"
    );
    assert!(err
        .body_snippet()
        .unwrap()
        .contains("<title>502 Bad Gateway</title>"));
    // Without a content type, by its start; a 404 page points at the base URL.
    let mut server = Server::new();
    server
        .mock("GET", METHODS)
        .with_status(404)
        .with_body("<!DOCTYPE html><html><body>Not Found</body></html>")
        .create();
    let err = client(&server).tfa().methods().unwrap_err();
    assert_eq!(
        err.to_string(),
        "GET settings/tfaapp: HTTP 404 Not Found: an HTML page, not the portal's JSON \
         (check the base URL)"
    );
    // Plain text is still quoted: it is all there is.
    let mut server = Server::new();
    server
        .mock("GET", METHODS)
        .with_status(503)
        .with_body("upstream connect error")
        .create();
    let err = client(&server).tfa().methods().unwrap_err();
    assert!(
        err.to_string()
            .contains("(body: upstream connect error); the portal"),
        "{err}"
    );
}

#[test]
fn with_link_500_after_saving_is_a_success_without_a_link() {
    let policy = TfaPolicy::new(TfaType::App)
        .trusted_ip("10.0.0.0/8")
        .mandatory_user(USER_ID.to_uppercase());
    let read_back = |ips: Value| {
        envelope(
            "GET",
            "settings/tfaapp",
            json!([
                {"id": "sms", "title": "By SMS", "enabled": false, "available": false},
                {"id": "app", "title": "By authenticator app", "enabled": true, "available": true,
                 "trustedIps": ips, "mandatoryUsers": [USER_ID], "mandatoryGroups": []},
            ]),
        )
    };
    let bug = error_envelope(
        500,
        "Object reference not set to an instance of an object.",
        Some("System.NullReferenceException"),
    );
    for (ips, saved) in [(json!(["10.0.0.0/8"]), true), (json!([]), false)] {
        let mut server = Server::new();
        let put = server
            .mock("PUT", WITH_LINK)
            .with_status(500)
            .with_header("content-type", JSON)
            .with_body(&bug)
            .expect(1)
            .create();
        let get = server
            .mock("GET", METHODS)
            .with_status(200)
            .with_header("content-type", JSON)
            .with_body(read_back(ips))
            .expect(1)
            .create();
        let result = client(&server).tfa().set_policy_with_link(&policy);
        put.assert();
        get.assert();
        if saved {
            assert_eq!(result.unwrap(), None);
        } else {
            let err = result.unwrap_err();
            assert_error(&err, ErrorKind::Server, Some(500));
        }
    }
    // Switching TFA off never hits the bug: a 500 there is not second-guessed.
    let mut server = Server::new();
    server
        .mock("PUT", WITH_LINK)
        .with_status(500)
        .with_body(&bug)
        .create();
    let get = server.mock("GET", METHODS).expect(0).create();
    let err = client(&server)
        .tfa()
        .set_policy_with_link(&TfaPolicy::new(TfaType::None))
        .unwrap_err();
    get.assert();
    assert_eq!(err.kind(), ErrorKind::Server);
}

// ---------------------------------------------------------------------------------------------
// The emulator in its default, source-faithful mode

const T0: u64 = 1_700_000_000;
const PW: &str = "pw-0123456789";

/// A client of `portal` with a new API key of `user_id`.
fn key_client(portal: &Emulator, user_id: &str) -> docspace_tfa::Client {
    portal
        .client()
        .unwrap()
        .with_token(portal.issue_api_key(user_id).unwrap())
}

#[test]
fn emulator_refusals_and_not_available_follow_the_source_in_any_culture() {
    for culture in ["en", "de", "ru", "zh-CN"] {
        let portal = Emulator::builder()
            .time(T0)
            .culture(culture)
            .start()
            .unwrap();
        let owner = portal
            .add_user(NewUser::new("owner@example.com", PW).owner())
            .unwrap();
        let admin = portal
            .add_user(NewUser::new("admin@example.com", PW).admin().linked())
            .unwrap();
        let admin_client = key_client(&portal, &admin);
        // An admin naming the owner: a refusal.
        let err = admin_client
            .tfa()
            .set_policy(&TfaPolicy::new(TfaType::App).mandatory_user(&owner))
            .unwrap_err();
        assert_error(&err, ErrorKind::Forbidden, Some(403));
        assert_eq!(err.recognized_message(), Some(ServerMessage::AccessDenied));
        // An admin unlinking the owner (not the owner themselves): a refusal.
        let err = admin_client.tfa().unlink_user(&owner).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Forbidden, "{culture}: {err}");
        // The owner has no app linked: not available, in the culture.
        let owner_client = key_client(&portal, &owner);
        let err = owner_client.tfa().backup_codes().unwrap_err();
        assert_error(&err, ErrorKind::NotAvailable, Some(403));
        let expected = table()["messages"][culture]["TfaAppNotAvailable"].clone();
        assert_eq!(err.server_message(), expected.as_str(), "{culture}");
    }
    assert_eq!(
        Emulator::builder()
            .culture("xx-YY")
            .start()
            .unwrap_err()
            .kind(),
        ErrorKind::InvalidInput
    );
}

#[test]
fn emulator_refuses_a_disabled_account_at_login() {
    let portal = Emulator::builder()
        .time(T0)
        .culture("pt-BR")
        .start()
        .unwrap();
    portal
        .add_user(NewUser::new("gone@example.com", PW).disabled())
        .unwrap();
    let auth = portal.client().unwrap();
    let err = auth.auth().login("gone@example.com", PW).unwrap_err();
    assert_error(&err, ErrorKind::Forbidden, Some(403));
    assert_eq!(err.server_message(), Some("Usuário desativado"));
    // A wrong password is still a 401: the account's state is not revealed.
    let err = auth.auth().login("gone@example.com", "nope").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
}

#[test]
fn emulator_setup_code_account_and_exact_uri() {
    let portal = Emulator::builder()
        .time(T0)
        .tenant_domain("Docs.Example.ORG")
        .start()
        .unwrap();
    let id = portal
        .add_user(NewUser::new("user+tag@example.com", PW))
        .unwrap();
    let ticket = portal.ticket(&id, TicketType::TfaActivation).unwrap();
    let setup: SetupCode = portal.client().unwrap().tfa().setup_with(&ticket).unwrap();
    assert_eq!(setup.account, "user+tag@example.com", "decoded once");
    let manual = setup.manual_entry_key.expose().to_owned();
    let exact = format!(
        "otpauth://totp/Docs.Example.ORG:user%2Btag%40example.com?secret={manual}\
         &issuer=Docs.Example.ORG"
    );
    assert_eq!(setup.qr_uri().unwrap().expose(), exact);
    assert_eq!(
        setup.otpauth_uri_text(portal.base_url()).unwrap().expose(),
        exact
    );
    let uri = setup.otpauth_uri(portal.base_url()).unwrap();
    assert_eq!(
        (uri.issuer.as_str(), uri.account.as_str()),
        ("Docs.Example.ORG", "user+tag@example.com")
    );
    // Without a readable image, the URI is built from the base URL's host (documented).
    let bare = SetupCode::new(setup.account.clone(), manual.clone(), "");
    assert_eq!(
        bare.otpauth_uri_text(portal.base_url()).unwrap().expose(),
        format!(
            "otpauth://totp/127.0.0.1:user%2Btag%40example.com?secret={manual}&issuer=127.0.0.1"
        )
    );
    assert!(bare.qr_uri().is_err());
    // The default tenant domain is not the URL's host.
    let portal = Emulator::builder().time(T0).start().unwrap();
    assert_eq!(portal.tenant_domain(), "portal.docspace.test");
    assert!(!portal.base_url().contains(portal.tenant_domain()));
}

#[test]
fn emulator_policy_lists_are_absent_until_saved_and_after_switching_off() {
    let portal = Emulator::builder()
        .time(T0)
        .app_method_enabled(false)
        .start()
        .unwrap();
    let owner = portal
        .add_user(NewUser::new("owner@example.com", PW).owner())
        .unwrap();
    let c = key_client(&portal, &owner);
    let methods = c.tfa().methods().unwrap();
    assert_eq!(
        methods.iter().map(|m| m.title.as_str()).collect::<Vec<_>>(),
        ["By SMS", "By authenticator app"]
    );
    assert!(methods.iter().all(|m| m.trusted_ips.is_none()
        && m.mandatory_users.is_none()
        && m.mandatory_groups.is_none()));
    assert!(c.tfa().set_policy(&TfaPolicy::new(TfaType::App)).unwrap());
    let app = c.tfa().methods().unwrap().pop().unwrap();
    assert_eq!(app.trusted_ips, Some(vec![]), "saved: empty, not absent");
    assert!(!c.tfa().set_policy(&TfaPolicy::new(TfaType::None)).unwrap());
    let app = c.tfa().methods().unwrap().pop().unwrap();
    assert_eq!(app.trusted_ips, None, "switched off: absent again");
}

#[test]
fn emulator_with_link_from_a_trusted_ip_saves_then_fails_and_the_sdk_recovers() {
    let portal = Emulator::builder().time(T0).start().unwrap();
    let owner = portal
        .add_user(NewUser::new("owner@example.com", PW).owner())
        .unwrap();
    let c = key_client(&portal, &owner);
    let policy = TfaPolicy::new(TfaType::App).trusted_ip("127.0.0.1");
    assert_eq!(c.tfa().set_policy_with_link(&policy).unwrap(), None);
    assert_eq!(portal.policy().trusted_ips, vec!["127.0.0.1"]);
    assert_eq!(
        portal.user_state(&owner).unwrap().sessions,
        0,
        "sessions reset"
    );
    assert_eq!(portal.request_count("GET", "settings/tfaapp"), 1);
    // The raw answer is the server's 500.
    let raw = ureq::put(format!(
        "{}/api/2.0/settings/tfaappwithlink",
        portal.base_url()
    ))
    .header(
        "Authorization",
        format!("Bearer {}", portal.issue_api_key(&owner).unwrap().expose()),
    )
    .header("Content-Type", "application/json")
    .config()
    .http_status_as_error(false)
    .build()
    .send(r#"{"type": "App", "trustedIps": ["127.0.0.1"]}"#)
    .unwrap();
    assert_eq!(raw.status().as_u16(), 500);
    // A session token is signed out by the very call, so the read-back fails: the 500 stays.
    let session = portal.open_session(&owner).unwrap();
    let c = portal.client().unwrap().with_token(session);
    let err = c.tfa().set_policy_with_link(&policy).unwrap_err();
    assert_error(&err, ErrorKind::Server, Some(500));
    assert_eq!(portal.request_count("GET", "settings/tfaapp"), 2);
}
