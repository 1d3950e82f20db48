//! The client itself: builder and base URL rules, `from_env`, the headers every request
//! carries, the envelope, and every error class from realistic server bodies.

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use docspace_tfa::{Client, ConfirmTicket, Error, ErrorKind, RetryPolicy, USER_AGENT};
use mockito::Matcher;
use serde_json::json;
use support::*;

const METHODS_PATH: &str = "/api/2.0/settings/tfaapp";
const SETUP_PATH: &str = "/api/2.0/settings/tfaapp/setup";
const VALIDATE_PATH: &str = "/api/2.0/settings/tfaapp/validate";

fn setup_value() -> serde_json::Value {
    json!({
        "account": ACCOUNT,
        "manualEntryKey": MANUAL_KEY,
        "qrCodeSetupImageUrl": QR_DATA_URL,
    })
}

fn setup_body() -> String {
    envelope("GET", "settings/tfaapp/setup", setup_value())
}

/// Calls `setup` against a mock answering `status` with `body`, and returns the error.
fn setup_error(status: usize, content_type: &str, body: impl AsRef<[u8]>) -> Error {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", SETUP_PATH)
        .with_status(status)
        .with_header("content-type", content_type)
        .with_body(body)
        .expect(1)
        .create();
    let err = client(&server).tfa().setup().unwrap_err();
    mock.assert();
    err
}

/// Calls `validate` against a mock answering `status` with `body`, and returns the error.
fn validate_error(status: usize, body: &str) -> Error {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("POST", VALIDATE_PATH)
        .match_body(Matcher::Json(json!({"code": "123456", "session": false})))
        .with_status(status)
        .with_header("content-type", JSON)
        .with_body(body)
        .expect(1)
        .create();
    let err = client(&server).tfa().validate("123456").unwrap_err();
    mock.assert();
    err
}

// ---------------------------------------------------------------------------------------------
// Builder and base URL

#[test]
fn base_url_variants_all_reach_api_2_0() {
    let mut server = mockito::Server::new();
    let url = server.url();
    let mock = server
        .mock("GET", METHODS_PATH)
        .match_header("authorization", bearer().as_str())
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", json!([])))
        .expect(5)
        .create();
    for base in [
        url.clone(),
        format!("{url}/"),
        format!("{url}/api/2.0"),
        format!("{url}/api/2.0/"),
        format!("{url}/API/2.0"),
    ] {
        let client = Client::builder()
            .base_url(&base)
            .token(TOKEN)
            .build()
            .unwrap();
        assert_eq!(client.base_url(), url, "normalized from {base}");
        assert!(client.tfa().methods().unwrap().is_empty(), "{base}");
    }
    mock.assert();
}

#[test]
fn base_url_path_prefix_is_kept() {
    let mut server = mockito::Server::new();
    let url = server.url();
    let mock = server
        .mock("GET", "/docspace/api/2.0/settings/tfaapp")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", json!([])))
        .expect(1)
        .create();
    let client = Client::builder()
        .base_url(format!("{url}/docspace/api/2.0/"))
        .token(TOKEN)
        .build()
        .unwrap();
    assert_eq!(client.base_url(), format!("{url}/docspace"));
    client.tfa().methods().unwrap();
    mock.assert();
}

#[test]
fn malformed_base_urls_are_refused_at_build_time() {
    for bad in [
        "",
        "portal.example.com",
        "ftp://portal.example.com",
        "https://",
        "https://portal.example.com/?tenant=1",
        "https://portal.example.com/#/rooms",
        "https://admin:hunter2@portal.example.com",
        "http://portal.example.com",
        "http://10.0.0.5:8092",
    ] {
        let err = Client::builder()
            .base_url(bad)
            .token(TOKEN)
            .build()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        assert_eq!(err.status(), None);
        assert!(err.to_string().contains("base URL"), "{err}");
        assert_no_secrets(&err, &err.to_string(), &["hunter2", TOKEN]);
    }
    let err = Client::builder().token(TOKEN).build().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("base URL"), "{err}");
}

#[test]
fn plain_http_is_loopback_only_unless_opted_in() {
    for ok in [
        "http://127.0.0.1:8092",
        "http://127.8.9.10",
        "http://localhost:8092",
        "http://[::1]:8092",
        "https://portal.example.com",
    ] {
        Client::builder()
            .base_url(ok)
            .token(TOKEN)
            .build()
            .unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    let err = Client::builder()
        .base_url("http://portal.example.com")
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("http://"), "{err}");
    let client = Client::builder()
        .base_url("http://portal.example.com")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://portal.example.com");
}

#[test]
fn token_is_optional_and_blank_means_none() {
    let client = Client::builder()
        .base_url(PORTAL)
        .token("   ")
        .build()
        .unwrap();
    assert!(!client.has_token());
    let client = Client::builder().base_url(PORTAL).build().unwrap();
    assert!(!client.has_token());
    let client = Client::builder()
        .base_url(PORTAL)
        .token(TOKEN)
        .build()
        .unwrap();
    assert!(client.has_token());
}

#[test]
fn bearer_call_without_token_fails_before_sending() {
    let mut server = mockito::Server::new();
    let mock = server.mock("GET", Matcher::Any).expect(0).create();
    let err = anonymous_client(&server).tfa().methods().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("token"), "{err}");
    mock.assert();
}

#[test]
fn client_and_builder_debug_hide_the_token() {
    let builder = Client::builder().base_url(PORTAL).token(TOKEN);
    let shown = format!("{builder:?}");
    assert!(shown.contains(PORTAL), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
    let client = builder.build().unwrap();
    let shown = format!("{client:?} {client:#?}");
    assert!(shown.contains(PORTAL), "{shown}");
    assert!(!shown.contains(TOKEN), "{shown}");
}

#[test]
fn client_is_clone_send_sync_and_clones_share_the_server() {
    fn assert_traits<T: Clone + Send + Sync + 'static>() {}
    assert_traits::<Client>();

    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", METHODS_PATH)
        .match_header("authorization", bearer().as_str())
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", json!([])))
        .expect(4)
        .create();
    let client = client(&server);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let c = client.clone();
            std::thread::spawn(move || c.tfa().methods().map(|m| m.len()))
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap().unwrap(), 0);
    }
    mock.assert();
}

/// `from_env` reads process-wide variables: every case lives in this one test so that no
/// other test races with it.
#[test]
fn from_env_reads_docspace_url_and_token() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", METHODS_PATH)
        .match_header("authorization", bearer().as_str())
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", json!([])))
        .expect(1)
        .create();

    std::env::remove_var("DOCSPACE_URL");
    std::env::remove_var("DOCSPACE_TOKEN");
    let err = Client::from_env().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert!(err.to_string().contains("DOCSPACE_URL"), "{err}");

    std::env::set_var("DOCSPACE_URL", "ftp://portal.example.com");
    assert_eq!(
        Client::from_env().unwrap_err().kind(),
        ErrorKind::InvalidInput
    );

    std::env::set_var("DOCSPACE_URL", format!("{}/api/2.0/", server.url()));
    let client = Client::from_env().unwrap();
    assert!(!client.has_token());
    assert_eq!(client.base_url(), server.url());

    std::env::set_var("DOCSPACE_TOKEN", "");
    assert!(!Client::from_env().unwrap().has_token());

    std::env::set_var("DOCSPACE_TOKEN", TOKEN);
    let client = Client::from_env().unwrap();
    assert!(client.has_token());
    assert!(client.tfa().methods().unwrap().is_empty());
    mock.assert();

    std::env::remove_var("DOCSPACE_URL");
    std::env::remove_var("DOCSPACE_TOKEN");
}

// ---------------------------------------------------------------------------------------------
// Headers

#[test]
fn get_carries_user_agent_accept_and_bearer_and_no_body() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", SETUP_PATH)
        .match_header("user-agent", USER_AGENT)
        .match_header("accept", "application/json")
        .match_header("authorization", bearer().as_str())
        .match_header("content-type", Matcher::Missing)
        .match_header("confirm", Matcher::Missing)
        .match_header("cookie", Matcher::Missing)
        .match_body(Matcher::Exact(String::new()))
        .with_header("content-type", JSON)
        .with_body(setup_body())
        .expect(1)
        .create();
    assert_eq!(
        USER_AGENT,
        format!("docspace-tfa/{}", env!("CARGO_PKG_VERSION"))
    );
    let setup = client(&server).tfa().setup().unwrap();
    assert_eq!(setup.account, ACCOUNT);
    mock.assert();
}

#[test]
fn post_carries_json_content_type_and_exact_body() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("POST", VALIDATE_PATH)
        .match_header("user-agent", USER_AGENT)
        .match_header("accept", "application/json")
        .match_header("content-type", "application/json")
        .match_header("authorization", bearer().as_str())
        .match_body(Matcher::Exact(
            r#"{"code":"123456","session":false}"#.into(),
        ))
        .with_header("content-type", JSON)
        .with_body(envelope("POST", "settings/tfaapp/validate", json!(true)))
        .expect(1)
        .create();
    let v = client(&server).tfa().validate("123456").unwrap();
    assert!(v.first_activation);
    mock.assert();
}

#[test]
fn ticket_request_carries_confirm_and_no_authorization_even_with_a_token() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", SETUP_PATH)
        .match_header("confirm", confirm_header("TfaActivation").as_str())
        .match_header("authorization", Matcher::Missing)
        .match_header("cookie", Matcher::Missing)
        .match_header("user-agent", USER_AGENT)
        .match_header("accept", "application/json")
        .with_header("content-type", JSON)
        .with_body(setup_body())
        .expect(1)
        .create();
    let ticket = ConfirmTicket::from_url(&activation_url(), CONFIRM_KEY).unwrap();
    // The client holds a token; the ticket call must not send it.
    let setup = client(&server).tfa().setup_with(&ticket).unwrap();
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
    mock.assert();
}

#[test]
fn confirm_header_percent_encodes_key_characters() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", SETUP_PATH)
        .match_header(
            "confirm",
            format!("type=TfaActivation&uid={USER_ID}&key=638512.a%2Bb%2Fc%3D%3D%26x").as_str(),
        )
        .with_header("content-type", JSON)
        .with_body(setup_body())
        .expect(1)
        .create();
    let ticket = ConfirmTicket::from_url(&activation_url(), "638512.a+b/c==&x").unwrap();
    anonymous_client(&server).tfa().setup_with(&ticket).unwrap();
    mock.assert();
}

#[test]
fn confirm_url_without_type_or_uid_is_an_error_not_a_panic() {
    for url in [
        format!("{PORTAL}/confirm/TfaActivation"),
        format!("{PORTAL}/confirm/TfaActivation?uid={USER_ID}"),
        format!("{PORTAL}/confirm/TfaActivation?type=TfaActivation"),
        format!("{PORTAL}/confirm/TfaActivation?type=&uid="),
        "?&&=".to_owned(),
    ] {
        let err = ConfirmTicket::from_url(&url, CONFIRM_KEY).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput, "{url}");
        assert_no_secrets(&err, &err.to_string(), &[CONFIRM_KEY]);
    }
    let err = ConfirmTicket::from_url(&activation_url(), "").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    let t = ConfirmTicket::from_query(&format!("type=TfaAuth&uid={USER_ID}&key={CONFIRM_KEY}"), "")
        .unwrap();
    assert!(t.is_tfa_auth());
    assert_eq!(t.key().expose(), CONFIRM_KEY);
    assert!(!format!("{t:?}").contains(CONFIRM_KEY));
}

// ---------------------------------------------------------------------------------------------
// Envelope

#[test]
fn envelope_with_count_links_and_status_is_unwrapped() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", SETUP_PATH)
        .with_header("content-type", JSON)
        .with_body(setup_body())
        .expect(1)
        .create();
    let setup = client(&server).tfa().setup().unwrap();
    assert_eq!(setup.account, ACCOUNT);
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
    assert_eq!(setup.qr_code_setup_image_url.expose(), QR_DATA_URL);
    mock.assert();
}

#[test]
fn seed_un_enveloped_bodies_are_accepted() {
    // The seed reads `body.response || body`: a portal (or proxy) that answers the bare value
    // must work too.
    let mut server = mockito::Server::new();
    let setup = server
        .mock("GET", SETUP_PATH)
        .with_header("content-type", JSON)
        .with_body(setup_value().to_string())
        .expect(1)
        .create();
    let validate = server
        .mock("POST", VALIDATE_PATH)
        .with_header("content-type", JSON)
        .with_body("true")
        .expect(1)
        .create();
    let client = client(&server);
    let s = client.tfa().setup().unwrap();
    assert_eq!(s.account, ACCOUNT);
    assert_eq!(s.manual_entry_key.expose(), MANUAL_KEY);
    assert!(client.tfa().validate("123456").unwrap().first_activation);
    setup.assert();
    validate.assert();
}

#[test]
fn response_false_is_an_accepted_re_check_not_an_invalid_code() {
    let mut server = mockito::Server::new();
    // The bare `{"response": false}` of the documentation's example, then the full envelope.
    let bare = server
        .mock("POST", VALIDATE_PATH)
        .with_header("content-type", JSON)
        .with_body(r#"{"response": false}"#)
        .expect(1)
        .create();
    let client = client(&server);
    let v = client.tfa().validate("123456").unwrap();
    assert!(!v.first_activation);
    assert_eq!(v.session_token, None);
    bare.assert();
    bare.remove();

    let full = server
        .mock("POST", VALIDATE_PATH)
        .with_header("content-type", JSON)
        .with_body(envelope("POST", "settings/tfaapp/validate", json!(false)))
        .expect(1)
        .create();
    assert!(!client.tfa().validate("654321").unwrap().first_activation);
    full.assert();
}

#[test]
fn envelope_without_response_key_is_null() {
    let mut server = mockito::Server::new();
    let confirm = server
        .mock("GET", "/api/2.0/settings/tfaapp/confirm")
        .with_header("content-type", JSON)
        .with_body(null_envelope("GET", "settings/tfaapp/confirm"))
        .expect(2)
        .create();
    // A value that must be there but is null is a decode error, not a default.
    let setup = server
        .mock("GET", SETUP_PATH)
        .with_header("content-type", JSON)
        .with_body(null_envelope("GET", "settings/tfaapp/setup"))
        .expect(1)
        .create();
    let client = client(&server);
    assert_eq!(client.tfa().confirm().unwrap(), None);
    // `null` confirm data: TFA does not apply, and setup is not even sent.
    let err = client.tfa().setup().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TfaNotApplicable);
    assert!(err.to_string().contains("does not apply"), "{err}");
    let ticket = docspace_tfa::ConfirmTicket::new("TfaActivation", "u-1", "1.k").unwrap();
    let err = client.tfa().setup_with(&ticket).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("setup code"), "{err}");
    confirm.assert();
    setup.assert();
}

// ---------------------------------------------------------------------------------------------
// Error classes

#[test]
fn empty_body_401_is_unauthorized() {
    let err = setup_error(401, "text/plain", "");
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.server_message(), None);
    assert_eq!(
        err.to_string(),
        "GET settings/tfaapp/setup: HTTP 401 (empty body)"
    );
}

#[test]
fn empty_body_403_is_forbidden() {
    let err = setup_error(403, "text/plain", "");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.server_message(), None);
    assert!(err.to_string().contains("(empty body)"), "{err}");
    // On validate too: a framework refusal without a body is not the brute-force lock.
    let err = validate_error(403, "");
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(!err.is_rate_limited());
}

#[test]
fn access_denied_403_is_forbidden_with_message() {
    let err = setup_error(403, JSON, access_denied());
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert_eq!(err.status(), Some(403));
    assert_eq!(err.server_message(), Some("Access denied"));
    assert_eq!(
        err.to_string(),
        "GET settings/tfaapp/setup: HTTP 403: Access denied"
    );
}

#[test]
fn html_502_from_a_proxy_is_a_server_error_with_a_bounded_snippet() {
    let err = setup_error(502, "text/html", NGINX_502);
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(502));
    assert_eq!(err.server_message(), None);
    let shown = err.to_string();
    assert!(shown.contains("HTTP 502"), "{shown}");
    assert!(shown.contains("502 Bad Gateway"), "{shown}");
    assert!(!shown.contains('\n') && !shown.contains('\r'), "{shown}");

    let huge = format!("<html><body>{}</body></html>", "x".repeat(100_000));
    let err = setup_error(504, "text/html", &huge);
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(504));
    assert!(err.to_string().len() < 1_000, "{}", err.to_string().len());
}

#[test]
fn truncated_json_success_body_is_a_decode_error_without_the_secret() {
    let full = setup_body();
    let cut = &full[..full.find(MANUAL_KEY).unwrap() + 8];
    let err = setup_error(200, JSON, cut);
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert_eq!(err.status(), None);
    let shown = err.to_string();
    assert!(shown.contains("GET settings/tfaapp/setup"), "{shown}");
    assert!(shown.contains("not JSON"), "{shown}");
    assert!(
        shown.contains(ACCOUNT),
        "the snippet shows the body: {shown}"
    );
    assert_no_secrets(&err, &shown, &[&MANUAL_KEY[..8]]);
}

#[test]
fn truncated_json_error_body_keeps_status_and_snippet() {
    let body = incorrect_code();
    let err = validate_error(400, &body[..25]);
    assert_eq!(err.kind(), ErrorKind::InvalidCode);
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.server_message(), None);
    assert!(err.to_string().contains(r#"(body: {"error":"#), "{err}");
}

#[test]
fn non_utf8_body_is_a_decode_error() {
    let err = setup_error(200, JSON, [0xff, 0xfe, b'{', 0xc3, 0x28, b'}']);
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("not UTF-8"), "{err}");
}

#[test]
fn wrong_shape_is_a_decode_error() {
    let err = setup_error(
        200,
        JSON,
        envelope("GET", "settings/tfaapp/setup", json!(true)),
    );
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("setup code"), "{err}");

    let err = setup_error(
        200,
        JSON,
        envelope("GET", "settings/tfaapp/setup", json!(activation_url())),
    );
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("setup code"), "{err}");

    let err = setup_error(
        200,
        JSON,
        envelope(
            "GET",
            "settings/tfaapp/setup",
            json!({"account": ACCOUNT, "qrCodeSetupImageUrl": QR_DATA_URL}),
        ),
    );
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("manualEntryKey"), "{err}");

    // serde would fill a struct from an array by position; the shape check refuses it.
    let err = setup_error(
        200,
        JSON,
        envelope(
            "GET",
            "settings/tfaapp/setup",
            json!([ACCOUNT, MANUAL_KEY, QR_DATA_URL]),
        ),
    );
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("not an object"), "{err}");
    assert!(!err.to_string().contains(MANUAL_KEY), "{err}");

    let mut server = mockito::Server::new();
    let mock = server
        .mock("POST", VALIDATE_PATH)
        .with_header("content-type", JSON)
        .with_body(envelope("POST", "settings/tfaapp/validate", json!("true")))
        .expect(1)
        .create();
    let err = client(&server).tfa().validate("123456").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("bool"), "{err}");
    mock.assert();
}

#[test]
fn html_200_is_a_decode_error() {
    let err = setup_error(
        200,
        "text/html",
        "<!DOCTYPE html><html><head><title>ONLYOFFICE DocSpace</title></head></html>",
    );
    assert_eq!(err.kind(), ErrorKind::Decode);
    assert!(err.to_string().contains("ONLYOFFICE DocSpace"), "{err}");
}

#[test]
fn server_500_keeps_the_message() {
    let err = validate_error(
        500,
        &error_envelope(
            500,
            "Value cannot be null. (Parameter 'code')",
            Some("System.ArgumentNullException"),
        ),
    );
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_eq!(err.status(), Some(500));
    assert_eq!(
        err.server_message(),
        Some("Value cannot be null. (Parameter 'code')")
    );
}

#[test]
fn status_405_is_not_available() {
    let err = setup_error(405, JSON, not_available_405());
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(err.status(), Some(405));
    assert_eq!(
        err.server_message(),
        Some("TFA application settings are not available")
    );
}

#[test]
fn legacy_403_invalid_operation_is_not_available() {
    let err = setup_error(403, JSON, not_available_legacy_403());
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(err.status(), Some(403));
    // The classification does not depend on the (localized) message.
    let err = setup_error(
        403,
        JSON,
        error_envelope(
            403,
            "Настройки приложения TFA недоступны",
            Some("System.InvalidOperationException"),
        ),
    );
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    assert_eq!(
        err.server_message(),
        Some("Настройки приложения TFA недоступны")
    );
}

#[test]
fn validate_400_is_invalid_code() {
    let err = validate_error(400, &incorrect_code());
    assert_eq!(err.kind(), ErrorKind::InvalidCode);
    assert!(err.is_invalid_code());
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.server_message(), Some("Incorrect code"));
    assert_eq!(
        err.to_string(),
        "POST settings/tfaapp/validate: HTTP 400: Incorrect code"
    );
}

#[test]
fn bad_request_elsewhere_is_not_invalid_code() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("PUT", "/api/2.0/settings/tfaapp")
        .with_status(400)
        .with_header("content-type", JSON)
        .with_body(error_envelope(
            400,
            "The JSON value could not be converted to ASC.Web.Api.Models.TfaRequestsDto.",
            Some("System.ArgumentException"),
        ))
        .expect(1)
        .create();
    let err = client(&server)
        .tfa()
        .set_policy(&docspace_tfa::TfaPolicy::new(docspace_tfa::TfaType::App))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    assert!(!err.is_invalid_code());
    mock.assert();
}

#[test]
fn validate_403_with_body_is_rate_limited() {
    let err = validate_error(403, &brute_force_lock());
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert!(err.is_rate_limited());
    assert_eq!(err.status(), Some(403));
    assert_eq!(
        err.server_message(),
        Some("You have sent too many text messages. Please try again later.")
    );
}

#[test]
fn status_429_is_rate_limited_with_retry_after() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", METHODS_PATH)
        .with_status(429)
        .with_header("retry-after", "120")
        .with_header("content-type", "text/plain")
        .with_body("Too Many Requests")
        .expect(1)
        .create();
    let err = client(&server).tfa().methods().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(120)));
    assert!(err.to_string().contains("Too Many Requests"), "{err}");
    mock.assert();
}

#[test]
fn other_statuses_are_classified() {
    let err = setup_error(404, JSON, error_envelope(404, "Not found", None));
    assert_eq!(err.kind(), ErrorKind::NotFound);
    let err = setup_error(
        402,
        JSON,
        error_envelope(402, "Payment required", Some("System.Exception")),
    );
    assert_eq!(err.kind(), ErrorKind::UnexpectedStatus);
    assert_eq!(err.status(), Some(402));
}

#[test]
fn stalled_server_times_out_within_the_deadline() {
    let (base, connections) = silent_server();
    let client = Client::builder()
        .base_url(&base)
        .token(TOKEN)
        .timeout(Duration::from_millis(250))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.tfa().validate("123456").unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.is_timeout());
    assert_eq!(err.status(), None);
    assert!(took >= Duration::from_millis(200), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_no_secrets(&err, &err.to_string(), &[TOKEN]);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn a_timed_out_read_is_not_retried() {
    // RetryPolicy: "Timeouts are not retried: the deadline is the caller's."
    let (base, connections) = silent_server();
    let client = Client::builder()
        .base_url(&base)
        .token(TOKEN)
        .timeout(Duration::from_millis(200))
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(10)),
        )
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.tfa().methods().unwrap_err();
    let took = started.elapsed();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    // One connection: a retry would have opened a second one.
    assert_eq!(connections.load(Ordering::SeqCst), 1);
}

#[test]
fn refused_connection_is_a_network_error() {
    let client = Client::builder()
        .base_url(refused_url())
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.tfa().methods().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(err.status(), None);
    assert!(
        err.to_string()
            .starts_with("GET settings/tfaapp: network error"),
        "{err}"
    );
}

#[test]
fn secrets_never_reach_error_messages() {
    // Answers that echo secrets in their (broken) bodies.
    let mut server = mockito::Server::new();
    let login = server
        .mock("POST", "/api/2.0/authentication")
        .with_header("content-type", JSON)
        .with_body(format!(
            r#"{{"response":{{"token":"{LOGIN_TOKEN}","expires":12,"tfaKey":"{MANUAL_KEY}"}},"count":1,"status":0,"statusCode":200}}"#
        ))
        .expect(1)
        .create();
    let codes = server
        .mock("GET", "/api/2.0/settings/tfaappcodes")
        .with_status(500)
        .with_header("content-type", JSON)
        .with_body(r#"{"response":[{"isUsed":false,"code":"Xk3-_q"},{"isUsed":false,"code":"9pL2"#)
        .expect(1)
        .create();
    let validate = server
        .mock("POST", VALIDATE_PATH)
        .with_status(401)
        .with_body("")
        .expect(1)
        .create();
    let code_login = server
        .mock("POST", "/api/2.0/authentication/482913")
        .with_status(401)
        .with_header("content-type", JSON)
        .with_body(authentication_failed())
        .expect(1)
        .create();

    let c = client(&server);
    let secrets = [
        TOKEN,
        LOGIN_TOKEN,
        MANUAL_KEY,
        CONFIRM_KEY,
        PASSWORD,
        "Xk3-_q",
        "9pL2",
        "482913",
    ];

    let err = c.auth().login(USER_NAME, PASSWORD).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Decode);
    // The snippet keeps the JSON's skeleton and blanks every string.
    assert!(err.to_string().contains(r#""token":"…""#), "{err}");
    assert_no_secrets(&err, &err.to_string(), &secrets);

    let err = c.tfa().backup_codes().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Server);
    assert_no_secrets(&err, &err.to_string(), &secrets);

    let ticket = ConfirmTicket::from_url(&auth_url(), CONFIRM_KEY).unwrap();
    let err = c.tfa().validate_with(&ticket, "482913").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert_no_secrets(&err, &err.to_string(), &secrets);

    let err = c
        .auth()
        .login_with_code(USER_NAME, PASSWORD, "482 913")
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(err.to_string().contains("authentication/{code}"), "{err}");
    assert_no_secrets(&err, &err.to_string(), &secrets);

    // A backup code with an impossible character: the message names the character, not the code.
    let err = c.tfa().validate("Xk3-_q!").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_no_secrets(&err, &err.to_string(), &secrets);

    login.assert();
    codes.assert();
    validate.assert();
    code_login.assert();
}

#[test]
fn a_huge_error_message_is_bounded_and_quick() {
    // A megabyte of `"key" ` in `error.message`: the message is quoted at a bounded length,
    // scrubbed in linear time (an earlier scrubber was quadratic here and hung the call).
    let message = "\"key\" ".repeat(200_000);
    let started = Instant::now();
    let err = setup_error(
        400,
        JSON,
        error_envelope(
            400,
            &message,
            Some(&"System.ArgumentException".repeat(1000)),
        ),
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(err.kind(), ErrorKind::BadRequest);
    let shown = err.server_message().unwrap();
    assert!(
        shown.chars().count() <= 201,
        "{} chars",
        shown.chars().count()
    );
    assert!(shown.starts_with("\"key\" \"key\""), "{shown}");
    assert!(
        err.to_string().len() < 1000,
        "{} bytes",
        err.to_string().len()
    );
    assert!(err.error_type().unwrap().chars().count() <= 201);
}

#[test]
fn huge_timeouts_are_cut_to_a_day_instead_of_overflowing() {
    // `Instant + Duration::MAX` panics inside the transport; the builder caps both timeouts.
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", json!([])))
        .expect(1)
        .create();
    let client = Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .timeout(Duration::MAX)
        .connect_timeout(Duration::MAX)
        .retry(
            RetryPolicy::default()
                .max_retry_after(Duration::MAX)
                .max_elapsed(Duration::MAX),
        )
        .build()
        .unwrap();
    assert!(client.tfa().methods().unwrap().is_empty());
    let debug = format!("{client:?}");
    assert!(debug.contains("timeout: 86400s"), "{debug}");
    mock.assert();

    // A `Retry-After` of u64::MAX seconds with no cap: no overflow panic, and no wait past the
    // retry budget (10 s by default): the error at once.
    let limited = server
        .mock("GET", "/api/2.0/people/@self")
        .with_status(429)
        .with_header("retry-after", "18446744073709551615")
        .expect(1)
        .create();
    let client = Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .retry(RetryPolicy::default().max_retry_after(Duration::MAX))
        .build()
        .unwrap();
    let err = client.people().me().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(u64::MAX)));
    limited.assert();
}
