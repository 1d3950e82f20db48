//! The client itself: builder and base URL rules, `from_env`, the headers every request
//! carries, the envelope, and every error class from realistic server bodies.
//!
//! The error classes are a table (`cases!`, one test per row): the answer of the mock portal
//! to `setup` or `validate`, and the error it must become (`support::expect::Fails`).

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use docspace_tfa::{Client, ConfirmTicket, ErrorKind, RetryPolicy, TfaPolicy, TfaType, USER_AGENT};
use serde_json::json;
use support::*;

const METHODS_PATH: &str = "/api/2.0/settings/tfaapp";
const CONFIRM_PATH: &str = "/api/2.0/settings/tfaapp/confirm";
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

/// The setup envelope cut in the middle of the manual key.
fn truncated_setup_body() -> String {
    let full = setup_body();
    full[..full.find(MANUAL_KEY).unwrap() + 8].to_owned()
}

/// `GET settings/tfaapp/setup` with the bearer token, answered `status` with `body`.
fn setup_answers(status: usize, content_type: &str, body: impl AsRef<[u8]>) -> Expect {
    get(SETUP_PATH)
        .bearer()
        .answers_as(status, content_type, body)
}

/// `GET settings/tfaapp/setup` answered `200` with the envelope around `response`.
fn setup_returns(response: serde_json::Value) -> Expect {
    get(SETUP_PATH).bearer().ok(response)
}

/// `POST settings/tfaapp/validate` of `123456` with the bearer token, answered `status` with
/// the JSON `body`.
fn validate_answers(status: usize, body: impl AsRef<[u8]>) -> Expect {
    post(VALIDATE_PATH)
        .bearer()
        .json(json!({"code": "123456", "session": false}))
        .answers(status, body)
}

/// `GET settings/tfaapp` with the bearer token, answering an empty list.
fn no_methods() -> Expect {
    get(METHODS_PATH).bearer().ok(json!([]))
}

// ---------------------------------------------------------------------------------------------
// Error classes

use ErrorKind::*;

cases! {
    empty_body_401_is_unauthorized: client, |c| c.tfa().setup(),
        [setup_answers(401, "text/plain", "")]
        => fails(Unauthorized).status(401).no_message()
            .display("GET settings/tfaapp/setup: HTTP 401 (empty body); the portal refused the \
                      bearer token: check the token (wrong, revoked, expired, or of another portal?)");
    empty_body_403_is_forbidden: client, |c| c.tfa().setup(),
        [setup_answers(403, "text/plain", "")]
        => fails(Forbidden).status(403).no_message().contains("(empty body)");
    // On validate too: a framework refusal without a body is not the brute-force lock.
    empty_body_403_on_validate_is_forbidden_not_the_lock: client, |c| c.tfa().validate("123456"),
        [validate_answers(403, "")] => fails(Forbidden).status(403);
    access_denied_403_is_forbidden_with_message: client, |c| c.tfa().setup(),
        [setup_answers(403, JSON, access_denied())]
        => fails(Forbidden).status(403).message("Access denied")
            .display("GET settings/tfaapp/setup: HTTP 403: Access denied");
    html_502_from_a_proxy_is_a_server_error_with_a_bounded_snippet: client, |c| c.tfa().setup(),
        [setup_answers(502, "text/html", NGINX_502)]
        => fails(Server).status(502).no_message().contains("HTTP 502")
            .contains("502 Bad Gateway").lacks("\n").lacks("\r");
    html_504_of_100_kb_is_a_server_error_bounded_in_display: client, |c| c.tfa().setup(),
        [setup_answers(504, "text/html",
            format!("<html><body>{}</body></html>", "x".repeat(100_000)))]
        => fails(Server).status(504).at_most(999);
    truncated_json_success_body_is_a_decode_error_without_the_secret:
        client, |c| c.tfa().setup(),
        [setup_answers(200, JSON, truncated_setup_body())]
        // The snippet shows the body, but not the start of the manual key.
        => fails(Decode).no_status().contains("GET settings/tfaapp/setup").contains("not JSON")
            .contains(ACCOUNT).hides(&[&MANUAL_KEY[..8]]);
    truncated_json_error_body_keeps_status_and_snippet: client, |c| c.tfa().validate("123456"),
        [validate_answers(400, &incorrect_code()[..25])]
        => fails(InvalidCode).status(400).no_message().contains(r#"(body: {"error":"#);
    non_utf8_body_is_a_decode_error: client, |c| c.tfa().setup(),
        [setup_answers(200, JSON, [0xff, 0xfe, b'{', 0xc3, 0x28, b'}'])]
        => fails(Decode).contains("not UTF-8");
    wrong_shape_bool_is_a_decode_error: client, |c| c.tfa().setup(),
        [setup_returns(json!(true))] => fails(Decode).contains("setup code");
    wrong_shape_string_is_a_decode_error: client, |c| c.tfa().setup(),
        [setup_returns(json!(activation_url()))] => fails(Decode).contains("setup code");
    wrong_shape_without_a_manual_key_is_a_decode_error: client, |c| c.tfa().setup(),
        [setup_returns(json!({"account": ACCOUNT, "qrCodeSetupImageUrl": QR_DATA_URL}))]
        => fails(Decode).contains("manualEntryKey");
    // serde would fill a struct from an array by position; the shape check refuses it.
    wrong_shape_array_is_not_read_by_position: client, |c| c.tfa().setup(),
        [setup_returns(json!([ACCOUNT, MANUAL_KEY, QR_DATA_URL]))]
        => fails(Decode).contains("not an object");
    wrong_shape_string_for_a_bool_is_a_decode_error: client, |c| c.tfa().validate("123456"),
        [post(VALIDATE_PATH).bearer().ok(json!("true"))] => fails(Decode).contains("bool");
    html_200_is_a_decode_error: client, |c| c.tfa().setup(),
        [setup_answers(200, "text/html",
            "<!DOCTYPE html><html><head><title>ONLYOFFICE DocSpace</title></head></html>")]
        => fails(Decode).contains("ONLYOFFICE DocSpace");
    server_500_keeps_the_message: client, |c| c.tfa().validate("123456"),
        [validate_answers(500, error_envelope(500, "Value cannot be null. (Parameter 'code')",
            Some("System.ArgumentNullException")))]
        => fails(Server).status(500).message("Value cannot be null. (Parameter 'code')");
    status_405_is_not_available: client, |c| c.tfa().setup(),
        [setup_answers(405, JSON, not_available_405())]
        => fails(NotAvailable).status(405).message("TFA application settings are not available");
    legacy_403_invalid_operation_is_not_available: client, |c| c.tfa().setup(),
        [setup_answers(403, JSON, not_available_legacy_403())] => fails(NotAvailable).status(403);
    // The classification does not depend on the (localized) message.
    legacy_403_invalid_operation_is_not_available_in_any_language: client, |c| c.tfa().setup(),
        [setup_answers(403, JSON, error_envelope(403, "Настройки приложения TFA недоступны",
            Some("System.InvalidOperationException")))]
        => fails(NotAvailable).status(403).message("Настройки приложения TFA недоступны");
    validate_400_is_invalid_code: client, |c| c.tfa().validate("123456"),
        [validate_answers(400, incorrect_code())]
        => fails(InvalidCode).status(400).message("Incorrect code")
            .display("POST settings/tfaapp/validate: HTTP 400: Incorrect code");
    bad_request_elsewhere_is_not_invalid_code:
        client, |c| c.tfa().set_policy(&TfaPolicy::new(TfaType::App)),
        [put(METHODS_PATH).bearer().answers(400, error_envelope(400,
            "The JSON value could not be converted to ASC.Web.Api.Models.TfaRequestsDto.",
            Some("System.ArgumentException")))]
        => fails(BadRequest).status(400);
    validate_403_with_body_is_rate_limited: client, |c| c.tfa().validate("123456"),
        [validate_answers(403, brute_force_lock())]
        => fails(RateLimited).status(403)
            .message("You have sent too many text messages. Please try again later.");
    status_429_is_rate_limited_with_retry_after: client, |c| c.tfa().methods(),
        [get(METHODS_PATH).bearer().with("retry-after", "120")
            .answers_as(429, "text/plain", "Too Many Requests")]
        => fails(RateLimited).status(429).retry_after(Duration::from_secs(120))
            .contains("Too Many Requests");
    status_404_is_not_found: client, |c| c.tfa().setup(),
        [setup_answers(404, JSON, error_envelope(404, "Not found", None))]
        => fails(NotFound).status(404);
    status_402_is_an_unexpected_status: client, |c| c.tfa().setup(),
        [setup_answers(402, JSON, error_envelope(402, "Payment required", Some("System.Exception")))]
        => fails(UnexpectedStatus).status(402);
}

// ---------------------------------------------------------------------------------------------
// Builder and base URL

#[test]
fn base_url_variants_all_reach_api_2_0() {
    let mut server = mockito::Server::new();
    let url = server.url();
    let mock = no_methods().times(5).mock(&mut server);
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
    let on_a_path = |server: &mockito::Server| {
        let client = Client::builder()
            .base_url(format!("{}/docspace/api/2.0/", server.url()))
            .token(TOKEN)
            .build()
            .unwrap();
        assert_eq!(client.base_url(), format!("{}/docspace", server.url()));
        client
    };
    get("/docspace/api/2.0/settings/tfaapp")
        .bearer()
        .ok(json!([]))
        .run(on_a_path, |c| c.tfa().methods())
        .unwrap();
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
        let refused = fails(InvalidInput).no_status().contains("base URL");
        refused.hides(&["hunter2"]).check_error(err);
    }
    let err = Client::builder().token(TOKEN).build().unwrap_err();
    fails(InvalidInput).contains("base URL").check_error(err);
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
    fails(InvalidInput).contains("http://").check_error(err);
    let client = Client::builder()
        .base_url("http://portal.example.com")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    assert_eq!(client.base_url(), "http://portal.example.com");
}

#[test]
fn token_is_optional_and_blank_means_none() {
    let with = |token: Option<&str>| {
        let builder = Client::builder().base_url(PORTAL);
        let builder = match token {
            Some(t) => builder.token(t),
            None => builder,
        };
        builder.build().unwrap().has_token()
    };
    assert!(!with(Some("   ")));
    assert!(!with(None));
    assert!(with(Some(TOKEN)));
}

#[test]
fn bearer_call_without_token_fails_before_sending() {
    let err = never("GET")
        .run(anonymous_client, |c| c.tfa().methods())
        .unwrap_err();
    fails(InvalidInput).contains("token").check_error(err);
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

    let lengths: Vec<usize> = no_methods()
        .times(4)
        .run(client, |client| {
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let c = client.clone();
                    std::thread::spawn(move || c.tfa().methods().map(|m| m.len()))
                })
                .collect();
            threads.into_iter().map(|t| t.join().unwrap()).collect()
        })
        .unwrap();
    assert_eq!(lengths, [0, 0, 0, 0]);
}

/// `from_env` reads process-wide variables: every case lives in this one test so that no
/// other test races with it.
#[test]
fn from_env_reads_docspace_url_and_token() {
    let mut server = mockito::Server::new();
    let mock = no_methods().mock(&mut server);

    std::env::remove_var("DOCSPACE_URL");
    std::env::remove_var("DOCSPACE_TOKEN");
    let err = Client::from_env().unwrap_err();
    fails(InvalidInput)
        .contains("DOCSPACE_URL")
        .check_error(err);

    std::env::set_var("DOCSPACE_URL", "ftp://portal.example.com");
    fails(InvalidInput).check_error(Client::from_env().unwrap_err());

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
    assert_eq!(
        USER_AGENT,
        format!("docspace-tfa/{}", env!("CARGO_PKG_VERSION"))
    );
    // `get` checks no body and no Content-Type; `bearer` the token and no Confirm.
    let setup = get(SETUP_PATH)
        .bearer()
        .header("user-agent", USER_AGENT)
        .header("accept", "application/json")
        .ok(setup_value())
        .run(client, |c| c.tfa().setup())
        .unwrap();
    assert_eq!(setup.account, ACCOUNT);
}

#[test]
fn post_carries_json_content_type_and_exact_body() {
    let v = post(VALIDATE_PATH)
        .bearer()
        .header("user-agent", USER_AGENT)
        .exact(r#"{"code":"123456","session":false}"#)
        .ok(json!(true))
        .run(client, |c| c.tfa().validate("123456"))
        .unwrap();
    assert!(v.first_activation);
}

#[test]
fn ticket_request_carries_confirm_and_no_authorization_even_with_a_token() {
    let ticket = ConfirmTicket::from_url(&activation_url(), CONFIRM_KEY).unwrap();
    // The client holds a token; the ticket call must not send it (nor a cookie).
    let setup = get(SETUP_PATH)
        .ticket("TfaActivation")
        .header("user-agent", USER_AGENT)
        .ok(setup_value())
        .run(client, |c| c.tfa().setup_with(&ticket))
        .unwrap();
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
}

#[test]
fn confirm_header_percent_encodes_key_characters() {
    let ticket = ConfirmTicket::from_url(&activation_url(), "638512.a+b/c==&x").unwrap();
    get(SETUP_PATH)
        .header(
            "confirm",
            format!("type=TfaActivation&uid={USER_ID}&key=638512.a%2Bb%2Fc%3D%3D%26x"),
        )
        .ok(setup_value())
        .run(anonymous_client, |c| c.tfa().setup_with(&ticket))
        .unwrap();
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
        fails(InvalidInput).no_status().check_error(err);
    }
    let err = ConfirmTicket::from_url(&activation_url(), "").unwrap_err();
    fails(InvalidInput).check_error(err);
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
    let setup = get(SETUP_PATH)
        .answers(200, setup_body())
        .run(client, |c| c.tfa().setup())
        .unwrap();
    assert_eq!(setup.account, ACCOUNT);
    assert_eq!(setup.manual_entry_key.expose(), MANUAL_KEY);
    assert_eq!(setup.qr_code_setup_image_url.expose(), QR_DATA_URL);
}

#[test]
fn seed_un_enveloped_bodies_are_accepted() {
    // The seed reads `body.response || body`: a portal (or proxy) that answers the bare value
    // must work too.
    let expects = vec![
        get(SETUP_PATH).answers(200, setup_value().to_string()),
        post(VALIDATE_PATH).answers(200, "true"),
    ];
    run(expects, client, |c| {
        let s = c.tfa().setup()?;
        assert_eq!(s.account, ACCOUNT);
        assert_eq!(s.manual_entry_key.expose(), MANUAL_KEY);
        assert!(c.tfa().validate("123456")?.first_activation);
        Ok(())
    })
    .unwrap();
}

#[test]
fn response_false_is_an_accepted_re_check_not_an_invalid_code() {
    // The bare `{"response": false}` of the documentation's example, then the full envelope.
    let v = post(VALIDATE_PATH)
        .answers(200, r#"{"response": false}"#)
        .run(client, |c| c.tfa().validate("123456"))
        .unwrap();
    assert!(!v.first_activation);
    assert_eq!(v.session_token, None);

    let v = post(VALIDATE_PATH)
        .ok(json!(false))
        .run(client, |c| c.tfa().validate("654321"))
        .unwrap();
    assert!(!v.first_activation);
}

#[test]
fn envelope_without_response_key_is_null() {
    let expects = vec![
        get(CONFIRM_PATH).ok_null().times(2),
        // A value that must be there but is null is a decode error, not a default.
        get(SETUP_PATH).ok_null(),
    ];
    run(expects, client, |client| {
        assert_eq!(client.tfa().confirm()?, None);
        // `null` confirm data: TFA does not apply, and setup is not even sent.
        let err = client.tfa().setup().unwrap_err();
        fails(TfaNotApplicable)
            .contains("does not apply")
            .check_error(err);
        let ticket = ConfirmTicket::new("TfaActivation", "u-1", "1.k")?;
        let err = client.tfa().setup_with(&ticket).unwrap_err();
        fails(Decode).contains("setup code").check_error(err);
        Ok(())
    })
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// Transport failures, secrets, bounds

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
    fails(Timeout)
        .no_status()
        .contains("timed out")
        .check_error(err);
    assert!(took >= Duration::from_millis(200), "{took:?}");
    // 10× headroom over the 250 ms deadline; the silent server never answers at all.
    assert!(took < Duration::from_millis(2500), "{took:?}");
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
    fails(Timeout).check_error(err);
    // 10× headroom over the 200 ms deadline; the retry itself is counted below.
    assert!(took < Duration::from_secs(2), "{took:?}");
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
    let err = fails(Network).no_status().check_error(err);
    assert!(
        err.to_string()
            .starts_with("GET settings/tfaapp: network error"),
        "{err}"
    );
}

#[test]
fn secrets_never_reach_error_messages() {
    // Answers that echo secrets in their (broken) bodies.
    let expects = vec![
        post("/api/2.0/authentication").answers(200, format!(
            r#"{{"response":{{"token":"{LOGIN_TOKEN}","expires":12,"tfaKey":"{MANUAL_KEY}"}},"count":1,"status":0,"statusCode":200}}"#
        )),
        get("/api/2.0/settings/tfaappcodes").answers(
            500,
            r#"{"response":[{"isUsed":false,"code":"Xk3-_q"},{"isUsed":false,"code":"9pL2"#,
        ),
        post(VALIDATE_PATH).empty(401),
        post("/api/2.0/authentication/482913").answers(401, authentication_failed()),
    ];
    // Beside support's SECRETS (TOKEN, LOGIN_TOKEN, MANUAL_KEY, CONFIRM_KEY, PASSWORD).
    let codes = ["Xk3-_q", "9pL2", "482913"];
    run(expects, client, |c| {
        let err = c.auth().login(USER_NAME, PASSWORD).unwrap_err();
        // The snippet keeps the JSON's skeleton and blanks every string.
        let skeleton = fails(Decode).contains(r#""token":"…""#);
        skeleton.hides(&codes).check_error(err);

        let err = c.tfa().backup_codes().unwrap_err();
        fails(Server).hides(&codes).check_error(err);

        let ticket = ConfirmTicket::from_url(&auth_url(), CONFIRM_KEY)?;
        let err = c.tfa().validate_with(&ticket, "482913").unwrap_err();
        fails(Unauthorized).hides(&codes).check_error(err);

        let err = c.auth().login_with_code(USER_NAME, PASSWORD, "482 913");
        let path_only = fails(Unauthorized).contains("authentication/{code}");
        path_only.hides(&codes).check_error(err.unwrap_err());

        // A backup code with an impossible character: the message names the character, not
        // the code.
        let err = c.tfa().validate("Xk3-_q!").unwrap_err();
        fails(InvalidInput).hides(&codes).check_error(err);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_huge_error_message_is_bounded_and_quick() {
    // A megabyte of `"key" ` in `error.message`: the message is quoted at a bounded length,
    // scrubbed in linear time (an earlier scrubber was quadratic here and hung the call).
    let message = "\"key\" ".repeat(200_000);
    let body = error_envelope(
        400,
        &message,
        Some(&"System.ArgumentException".repeat(1000)),
    );
    let started = Instant::now();
    let err = setup_answers(400, JSON, body)
        .run(client, |c| c.tfa().setup())
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let err = fails(BadRequest).at_most(999).check_error(err);
    let shown = err.server_message().unwrap();
    assert!(
        shown.chars().count() <= 201,
        "{} chars",
        shown.chars().count()
    );
    assert!(shown.starts_with("\"key\" \"key\""), "{shown}");
    assert!(err.error_type().unwrap().chars().count() <= 201);
}

#[test]
fn huge_timeouts_are_cut_to_a_day_instead_of_overflowing() {
    // `Instant + Duration::MAX` panics inside the transport; the builder caps both timeouts.
    let capped = |server: &mockito::Server| {
        Client::builder()
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
            .unwrap()
    };
    no_methods()
        .run(capped, |client| {
            assert!(client.tfa().methods()?.is_empty());
            let debug = format!("{client:?}");
            assert!(debug.contains("timeout: 86400s"), "{debug}");
            Ok(())
        })
        .unwrap();

    // A `Retry-After` of u64::MAX seconds with no cap: no overflow panic, and no wait past the
    // retry budget (10 s by default): the error at once.
    let uncapped = |server: &mockito::Server| {
        Client::builder()
            .base_url(server.url())
            .token(TOKEN)
            .retry(RetryPolicy::default().max_retry_after(Duration::MAX))
            .build()
            .unwrap()
    };
    let err = get("/api/2.0/people/@self")
        .with("retry-after", "18446744073709551615")
        .empty(429)
        .run(uncapped, |c| c.people().me())
        .unwrap_err();
    fails(RateLimited)
        .retry_after(Duration::from_secs(u64::MAX))
        .check_error(err);
}
