//! No secret ever shows: every public type that can hold one is formatted with `{:?}` and
//! `{:#?}`, and every error that can be provoked (many from answers that echo the secrets) with
//! `{}` and `{:?}`; none of the known secret values may appear.

mod support;

use std::time::Duration;

use docspace_tfa::{
    normalize_code, BackupCode, Client, ConfirmData, ConfirmTicket, Error, LoginOutcome,
    RetryPolicy, Secret, SetupCode,
};
use mockito::{Matcher, Server};
use serde_json::json;
use support::{
    activation_url, auth_url, confirm_cookie, envelope, error_envelope, ACCOUNT, CONFIRM_KEY, JSON,
    LOGIN_TOKEN, MANUAL_KEY, PASSWORD, PORTAL, TOKEN, USER_ID, USER_NAME,
};

/// An app code the user typed.
const CODE: &str = "654321";
/// A backup code.
const BACKUP: &str = "k7x9q2zw";
/// The distinctive middle of the QR image's data URL (the image encodes the secret).
const QR_PAYLOAD: &str = "ACtWK6eAAAAAXNSR0IArs4c6QAAAARnQU1BAACx";

fn qr_url() -> String {
    format!("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAMgAAADI{QR_PAYLOAD}")
}

const SECRETS: &[&str] = &[
    TOKEN,
    LOGIN_TOKEN,
    PASSWORD,
    CONFIRM_KEY,
    MANUAL_KEY,
    CODE,
    BACKUP,
    QR_PAYLOAD,
];

/// Asserts that no known secret is in `text`.
fn assert_clean(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what} shows the secret {secret:?}:\n{text}"
        );
    }
}

/// `{:?}` and `{:#?}` of a value.
fn assert_debug_clean<T: std::fmt::Debug>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

/// `{}`, `{:?}` and `{:#?}` of an error, and of its source chain.
fn assert_error_clean(what: &str, err: &Error) {
    assert_clean(what, &err.to_string());
    assert_debug_clean(what, err);
    let mut source = std::error::Error::source(err);
    while let Some(s) = source {
        assert_clean(what, &s.to_string());
        assert_clean(what, &format!("{s:?}"));
        source = s.source();
    }
    if let Some(m) = err.server_message() {
        assert_clean(what, m);
    }
}

fn client(server: &Server) -> Client {
    Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn anonymous(server: &Server) -> Client {
    Client::builder()
        .base_url(server.url())
        .retry(RetryPolicy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn ticket() -> ConfirmTicket {
    ConfirmTicket::from_url(&activation_url(), CONFIRM_KEY).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Values

#[test]
fn secret_and_models_hide_their_secrets() {
    assert_debug_clean("Secret", &Secret::new(TOKEN));
    assert_debug_clean("Option<Secret>", &Some(Secret::new(PASSWORD)));
    assert_debug_clean("SetupCode", &SetupCode::new(ACCOUNT, MANUAL_KEY, qr_url()));
    let setup: SetupCode = serde_json::from_value(json!({
        "account": ACCOUNT, "manualEntryKey": MANUAL_KEY, "qrCodeSetupImageUrl": qr_url(),
    }))
    .unwrap();
    assert_debug_clean("SetupCode (decoded)", &setup);
    let codes: Vec<BackupCode> = serde_json::from_value(json!([
        {"isUsed": false, "code": BACKUP}, {"isUsed": true, "code": CODE},
    ]))
    .unwrap();
    assert_debug_clean("Vec<BackupCode>", &codes);
    let data: ConfirmData = serde_json::from_value(json!({
        "url": activation_url(),
        "cookieName": "asc_confirm_key_TfaActivation",
        "cookieValue": CONFIRM_KEY,
    }))
    .unwrap();
    assert_debug_clean("ConfirmData", &data);
}

#[test]
fn confirm_tickets_hide_the_key_however_they_were_built() {
    assert_debug_clean(
        "ConfirmTicket::new",
        &ConfirmTicket::new("TfaAuth", USER_ID, CONFIRM_KEY).unwrap(),
    );
    assert_debug_clean("ConfirmTicket::from_url", &ticket());
    // A confirm URL may carry the key in its query (as e-mailed confirm links do); the ticket
    // takes it from there, and must not show it through the URL either.
    let url_with_key = format!("{}&key={CONFIRM_KEY}", auth_url());
    let t = ConfirmTicket::from_url(&url_with_key, "").unwrap();
    assert_eq!(t.key().expose(), CONFIRM_KEY);
    assert_debug_clean("ConfirmTicket::from_url (key in the query)", &t);
    let t = ConfirmTicket::from_query(&format!("type=TfaAuth&uid={USER_ID}&key={CONFIRM_KEY}"), "")
        .unwrap();
    assert_debug_clean("ConfirmTicket::from_query", &t);
    let data: ConfirmData =
        serde_json::from_value(json!({"url": url_with_key, "cookieValue": CONFIRM_KEY})).unwrap();
    assert_debug_clean("ConfirmData (key in the URL)", &data);
    let t = ConfirmTicket::from_confirm_data(&data).unwrap();
    assert_debug_clean("ConfirmTicket::from_confirm_data", &t);
}

#[test]
fn client_and_builder_hide_the_token() {
    let builder = Client::builder()
        .base_url("https://portal.example.com")
        .token(TOKEN);
    assert_debug_clean("ClientBuilder", &builder);
    let client = builder.build().unwrap();
    assert_debug_clean("Client", &client);
    assert_debug_clean("Client::with_token", &client.with_token(LOGIN_TOKEN));
}

#[test]
fn login_outcomes_validation_and_session_hide_their_secrets() {
    let mut server = Server::new();
    // Authenticated.
    server
        .mock("POST", "/api/2.0/authentication")
        .match_body(Matcher::PartialJson(json!({"userName": "a@example.com"})))
        .with_header("content-type", JSON)
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"token": LOGIN_TOKEN, "expires": "2030-01-01T00:00:00.0000000+00:00"}),
        ))
        .create();
    // Activation required, with the manual key.
    server
        .mock("POST", "/api/2.0/authentication")
        .match_body(Matcher::PartialJson(json!({"userName": "b@example.com"})))
        .with_header("content-type", JSON)
        .with_header("set-cookie", &confirm_cookie("TfaActivation", CONFIRM_KEY))
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"tfa": true, "tfaKey": MANUAL_KEY, "confirmUrl": activation_url(),
                   "expires": "0001-01-01T00:00:00"}),
        ))
        .create();
    // Code required.
    server
        .mock("POST", "/api/2.0/authentication")
        .match_body(Matcher::PartialJson(json!({"userName": "c@example.com"})))
        .with_header("content-type", JSON)
        .with_header("set-cookie", &confirm_cookie("TfaAuth", CONFIRM_KEY))
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"tfa": true, "confirmUrl": auth_url()}),
        ))
        .create();
    // SMS required, with a confirm URL that carries the key.
    server
        .mock("POST", "/api/2.0/authentication")
        .match_body(Matcher::PartialJson(json!({"userName": "d@example.com"})))
        .with_header("content-type", JSON)
        .with_body(envelope(
            "POST",
            "authentication",
            json!({"sms": true, "phoneNoise": "+7 *** *** **12",
                   "confirmUrl": format!("{PORTAL}/confirm/PhoneAuth?type=PhoneAuth&uid={USER_ID}&key={CONFIRM_KEY}")}),
        ))
        .create();
    let client = anonymous(&server);
    let mut kinds = Vec::new();
    for user in ["a", "b", "c", "d"] {
        let outcome = client
            .auth()
            .login(&format!("{user}@example.com"), PASSWORD)
            .unwrap();
        kinds.push(match &outcome {
            LoginOutcome::Authenticated(session) => {
                assert_debug_clean("Session", session);
                "authenticated"
            }
            LoginOutcome::TfaActivationRequired { .. } => "activation",
            LoginOutcome::TfaCodeRequired { .. } => "code",
            LoginOutcome::SmsPhoneRequired { .. } | LoginOutcome::SmsCodeSent(_) => "sms",
            _ => "other",
        });
        assert_debug_clean(&format!("LoginOutcome ({user})"), &outcome);
    }
    assert_eq!(kinds, ["authenticated", "activation", "code", "sms"]);

    // Validation with a session cookie.
    server
        .mock("POST", "/api/2.0/settings/tfaapp/validate")
        .with_header("content-type", JSON)
        .with_header(
            "set-cookie",
            &format!("asc_auth_key={LOGIN_TOKEN}; path=/; httponly"),
        )
        .with_body(envelope("POST", "settings/tfaapp/validate", json!(true)))
        .create();
    let validation = client.tfa().validate_with(&ticket(), CODE).unwrap();
    assert_eq!(
        validation.session_token.as_ref().map(Secret::expose),
        Some(LOGIN_TOKEN)
    );
    assert_debug_clean("Validation", &validation);
}

#[cfg(feature = "totp")]
#[test]
fn authenticator_types_hide_the_key() {
    use docspace_tfa::totp::{OtpAuthUri, Totp, TotpKey};
    let key = TotpKey::from_base32(MANUAL_KEY).unwrap();
    assert_debug_clean("TotpKey", &key);
    let uri = OtpAuthUri::new("portal.example.com", ACCOUNT, key.clone());
    assert_debug_clean("OtpAuthUri", &uri);
    assert_debug_clean("OtpAuthUri::to_uri", &uri.to_uri());
    let parsed = OtpAuthUri::parse(uri.to_uri().expose()).unwrap();
    assert_debug_clean("OtpAuthUri::parse", &parsed);
    let code = Totp::docspace().code_at(&key, 1_700_000_000);
    let shown = format!("{code:?}");
    assert!(!shown.contains(code.expose()), "{shown}");
    assert_debug_clean("Totp", &Totp::docspace());
}

// ---------------------------------------------------------------------------------------------
// Errors from answers that echo secrets

/// A call that fails.
type Call = Box<dyn Fn(&Client) -> Error>;

/// A mock at `path` answering `status` with `body` (and an optional header).
fn answer(
    server: &mut Server,
    method: &str,
    path: &str,
    status: usize,
    content_type: &str,
    body: impl AsRef<[u8]>,
) -> mockito::Mock {
    server
        .mock(method, path)
        .with_status(status)
        .with_header("content-type", content_type)
        .with_body(body)
        .create()
}

#[test]
fn truncated_and_wrong_shaped_answers_do_not_echo_secrets() {
    let cases: Vec<(&str, &str, String, Call)> = vec![
        (
            "truncated login answer with a token",
            "/api/2.0/authentication",
            format!(r#"{{"response":{{"token":"{LOGIN_TOKEN}","expires":"#),
            Box::new(|c| c.auth().login(USER_NAME, PASSWORD).unwrap_err()),
        ),
        (
            "login answer of the wrong shape, token in an array",
            "/api/2.0/authentication",
            json!({"response": [LOGIN_TOKEN, "2030-01-01"]}).to_string(),
            Box::new(|c| c.auth().login(USER_NAME, PASSWORD).unwrap_err()),
        ),
        (
            "login answer with a token of the wrong type",
            "/api/2.0/authentication",
            json!({"response": {"token": [LOGIN_TOKEN]}}).to_string(),
            Box::new(|c| c.auth().login(USER_NAME, PASSWORD).unwrap_err()),
        ),
        (
            "setup answer of the wrong shape",
            "/api/2.0/settings/tfaapp/setup",
            json!({"response": [ACCOUNT, MANUAL_KEY, qr_url()]}).to_string(),
            Box::new(|c| c.tfa().setup().unwrap_err()),
        ),
        (
            "setup answer missing a field, key under another name",
            "/api/2.0/settings/tfaapp/setup",
            json!({"response": {"account": ACCOUNT, "secret": MANUAL_KEY}}).to_string(),
            Box::new(|c| c.tfa().setup().unwrap_err()),
        ),
        (
            "truncated setup answer",
            "/api/2.0/settings/tfaapp/setup",
            format!(r#"{{"response":{{"account":"{ACCOUNT}","manualEntryKey":"{MANUAL_KEY}"#),
            Box::new(|c| c.tfa().setup().unwrap_err()),
        ),
        (
            "truncated setup answer inside the QR URL",
            "/api/2.0/settings/tfaapp/setup",
            format!(r#"{{"response":{{"qrCodeSetupImageUrl":"{}"#, qr_url()),
            Box::new(|c| c.tfa().setup().unwrap_err()),
        ),
        (
            "backup codes of the wrong shape",
            "/api/2.0/settings/tfaappcodes",
            json!({"response": [BACKUP, CODE]}).to_string(),
            Box::new(|c| c.tfa().backup_codes().unwrap_err()),
        ),
        (
            "truncated backup codes",
            "/api/2.0/settings/tfaappcodes",
            format!(r#"{{"response":[{{"isUsed":false,"code":"{BACKUP}"}},{{"code":"{CODE}"#),
            Box::new(|c| c.tfa().backup_codes().unwrap_err()),
        ),
        (
            "confirm data with a key of the wrong type",
            "/api/2.0/settings/tfaapp/confirm",
            json!({"response": {"url": activation_url(), "cookieValue": [CONFIRM_KEY]}})
                .to_string(),
            Box::new(|c| c.tfa().confirm().unwrap_err()),
        ),
        (
            "validate answering the code back as a number",
            "/api/2.0/settings/tfaapp/validate",
            json!({"response": 654321}).to_string(),
            Box::new(|c| c.tfa().validate(CODE).unwrap_err()),
        ),
        (
            "login answer with the token where a bool belongs (serde quotes the value)",
            "/api/2.0/authentication",
            json!({"response": {"tfa": LOGIN_TOKEN}}).to_string(),
            Box::new(|c| c.auth().login(USER_NAME, PASSWORD).unwrap_err()),
        ),
        (
            "backup codes answered as numbers (not sent by the request, so only the decoder hides them)",
            "/api/2.0/settings/tfaappcodes",
            json!({"response": [{"isUsed": false, "code": 654321}]}).to_string(),
            Box::new(|c| c.tfa().backup_codes().unwrap_err()),
        ),
        (
            "plain-text body echoing the bearer token",
            "/api/2.0/settings/tfaapp",
            format!("Authorization: Bearer {TOKEN} accepted"),
            Box::new(|c| c.tfa().methods().unwrap_err()),
        ),
    ];
    for (what, path, body, call) in cases {
        let mut server = Server::new();
        let method = match path {
            "/api/2.0/authentication" | "/api/2.0/settings/tfaapp/validate" => "POST",
            _ => "GET",
        };
        let mock = answer(&mut server, method, path, 200, JSON, &body);
        let err = call(&client(&server));
        mock.assert();
        assert_eq!(err.kind(), docspace_tfa::ErrorKind::Decode, "{what}: {err}");
        assert_error_clean(what, &err);
    }
}

#[test]
fn error_statuses_that_echo_secrets_do_not_leak_them() {
    let cases: Vec<(&str, &str, usize, String, Call)> = vec![
        (
            "validate 400 echoing the code",
            "/api/2.0/settings/tfaapp/validate",
            400,
            error_envelope(
                400,
                &format!("Incorrect code {CODE}"),
                Some("System.ArgumentException"),
            ),
            Box::new(|c| c.tfa().validate(CODE).unwrap_err()),
        ),
        (
            "validate 400 echoing a backup code",
            "/api/2.0/settings/tfaapp/validate",
            400,
            error_envelope(400, &format!("Code '{BACKUP}' was already used"), None),
            Box::new(|c| c.tfa().validate_with(&ticket(), BACKUP).unwrap_err()),
        ),
        (
            "validate 401 echoing the confirm key",
            "/api/2.0/settings/tfaapp/validate",
            401,
            error_envelope(401, &format!("Invalid confirm key {CONFIRM_KEY}"), None),
            Box::new(|c| c.tfa().validate_with(&ticket(), CODE).unwrap_err()),
        ),
        (
            "setup 401 echoing the token",
            "/api/2.0/settings/tfaapp/setup",
            401,
            error_envelope(401, &format!("The token {TOKEN} has expired"), None),
            Box::new(|c| c.tfa().setup().unwrap_err()),
        ),
        (
            "login 401 echoing the password",
            "/api/2.0/authentication",
            401,
            error_envelope(
                401,
                &format!("User {USER_NAME} with password {PASSWORD} not found"),
                None,
            ),
            Box::new(|c| c.auth().login(USER_NAME, PASSWORD).unwrap_err()),
        ),
        (
            "login with code 401 echoing the code and the password",
            "/api/2.0/authentication/654321",
            401,
            error_envelope(401, &format!("{PASSWORD}/{CODE}: failed"), None),
            Box::new(|c| {
                c.auth()
                    .login_with_code(USER_NAME, PASSWORD, CODE)
                    .unwrap_err()
            }),
        ),
        (
            "500 HTML page echoing the request",
            "/api/2.0/settings/tfaapp/validate",
            500,
            format!(
                "<html><body><pre>POST /api/2.0/settings/tfaapp/validate\nConfirm: type=TfaActivation&amp;key={CONFIRM_KEY}\n{{\"code\":\"{CODE}\"}}</pre></body></html>"
            ),
            Box::new(|c| c.tfa().validate_with(&ticket(), CODE).unwrap_err()),
        ),
        (
            "502 echoing the bearer token in plain text",
            "/api/2.0/settings/tfaappnewcodes",
            502,
            format!("upstream rejected Authorization: Bearer {TOKEN}"),
            Box::new(|c| c.tfa().regenerate_backup_codes().unwrap_err()),
        ),
        (
            "truncated error envelope echoing the password",
            "/api/2.0/authentication",
            403,
            format!(r#"{{"error":{{"message":"locked","password":"{PASSWORD}"#),
            Box::new(|c| c.auth().login(USER_NAME, PASSWORD).unwrap_err()),
        ),
    ];
    for (what, path, status, body, call) in cases {
        let mut server = Server::new();
        let method = if path.contains("tfaappnewcodes") {
            "PUT"
        } else if path.contains("setup") {
            "GET"
        } else {
            "POST"
        };
        let mock = answer(&mut server, method, path, status, JSON, &body);
        let err = call(&client(&server));
        mock.assert();
        assert_eq!(err.status(), Some(status as u16), "{what}: {err}");
        assert_error_clean(what, &err);
    }
}

#[test]
fn a_redirect_echoing_the_code_in_its_location_does_not_leak_it() {
    // An http → https redirect repeats the request path, and `authentication/{code}` has the
    // code in it.
    let mut server = Server::new();
    let mock = server
        .mock("POST", "/api/2.0/authentication/654321")
        .with_status(301)
        .with_header(
            "location",
            &format!("https://portal.example.com/api/2.0/authentication/{CODE}?token={TOKEN}"),
        )
        .create();
    let err = client(&server)
        .auth()
        .login_with_code(USER_NAME, PASSWORD, CODE)
        .unwrap_err();
    mock.assert();
    assert_eq!(err.kind(), docspace_tfa::ErrorKind::Redirect, "{err}");
    assert!(
        err.to_string()
            .contains("https://portal.example.com/api/2.0/authentication/"),
        "the location is still named: {err}"
    );
    assert_error_clean("redirect", &err);
}

#[test]
fn transport_and_input_errors_do_not_show_secrets() {
    // Nothing listens: a transport error for each credential kind.
    let url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let client = Client::builder()
        .base_url(&url)
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    assert_error_clean(
        "refused validate",
        &client.tfa().validate(CODE).unwrap_err(),
    );
    assert_error_clean(
        "refused validate_with",
        &client.tfa().validate_with(&ticket(), BACKUP).unwrap_err(),
    );
    assert_error_clean(
        "refused login_with_code",
        &client
            .auth()
            .login_with_code(USER_NAME, PASSWORD, CODE)
            .unwrap_err(),
    );

    // Refused input.
    for bad in [
        format!("{CODE}!"),
        format!("{BACKUP}'"),
        format!("{BACKUP}{BACKUP}{BACKUP}{BACKUP}{BACKUP}{BACKUP}{BACKUP}{BACKUP}{BACKUP}"),
        format!("{CODE}\u{0}"),
    ] {
        assert_error_clean("normalize_code", &normalize_code(&bad).unwrap_err());
        assert_error_clean(
            "validate with a bad code",
            &client.tfa().validate(&bad).unwrap_err(),
        );
    }
    assert_error_clean(
        "base URL with a password",
        &Client::builder()
            .base_url(format!("https://bot:{PASSWORD}@portal.example.com"))
            .build()
            .unwrap_err(),
    );
    assert_error_clean(
        "ticket without a type",
        &ConfirmTicket::from_url(&format!("{PORTAL}/confirm?uid={USER_ID}"), CONFIRM_KEY)
            .unwrap_err(),
    );
    assert_error_clean(
        "login with an empty user name",
        &client.auth().login(" ", PASSWORD).unwrap_err(),
    );
}

#[cfg(feature = "totp")]
#[test]
fn authenticator_input_errors_do_not_show_secrets() {
    use docspace_tfa::totp::{decode_png_data_url, OtpAuthUri, TotpKey};
    // A key with one wrong character (a `1`, not base32).
    let bad_key = format!("{}1", &MANUAL_KEY[..15]);
    let err = TotpKey::from_base32(&bad_key).unwrap_err();
    assert!(!err.to_string().contains(&bad_key), "{err}");
    assert_error_clean("TotpKey::from_base32", &err);
    for uri in [
        format!("otpauth://hotp/x:{ACCOUNT}?secret={MANUAL_KEY}"),
        format!("otpauth://totp/x?secret={MANUAL_KEY}&digits=99"),
        format!("otpauth://totp/x?secret={MANUAL_KEY}&secret={MANUAL_KEY}"),
        format!("otpauth://totp/x?secret={MANUAL_KEY}&algorithm=SHA256"),
        format!("otpauth://totp/x?secret={MANUAL_KEY}%ff"),
    ] {
        assert_error_clean("OtpAuthUri::parse", &OtpAuthUri::parse(&uri).unwrap_err());
    }
    for url in [
        format!("data:image/gif;base64,{QR_PAYLOAD}"),
        format!("data:image/png;base64,{QR_PAYLOAD}!!"),
        format!("data:image/png;base64,{QR_PAYLOAD}"),
        format!("data:image/png,{QR_PAYLOAD}"),
    ] {
        assert_error_clean(
            "decode_png_data_url",
            &decode_png_data_url(&url).unwrap_err(),
        );
    }
    let setup = SetupCode::new(ACCOUNT, format!("{MANUAL_KEY}0"), qr_url());
    assert_error_clean("SetupCode::totp_key", &setup.totp_key().unwrap_err());
    assert_error_clean("SetupCode::qr_png", &setup.qr_png().unwrap_err());
}

// ---------------------------------------------------------------------------------------------
// Escaped echoes: a hostile server repeats the secret as .NET's JSON writer, a URL, or an
// HTML page would write it.

/// A token, a password and a confirm key with the characters servers escape.
const PLUS_TOKEN: &str = "sk+9f/Qa=Zr&Tq<Wx>8e";
const PLUS_PASSWORD: &str = "pä+ss/wörd&1";
const PLUS_KEY: &str = "638512954712345678.Ab+Cd/Ef=Gh";

/// The forms a server can echo `secret` in.
fn echoed_forms(secret: &str) -> Vec<(&'static str, String)> {
    let dotnet: String = secret
        .chars()
        .map(|c| match c {
            '+' | '<' | '>' | '&' | '\'' | '=' => format!("\\u{:04X}", c as u32),
            '/' => "\\/".to_owned(),
            c if !c.is_ascii() => format!("\\u{:04X}", c as u32),
            c => c.to_string(),
        })
        .collect();
    let lower_percent: String = secret
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02x}")
            }
        })
        .collect();
    let html_numeric: String = secret
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_string()
            } else {
                format!("&#{};", c as u32)
            }
        })
        .collect();
    let html_named: String = secret
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '+' => "&plus;".to_owned(),
            '/' => "&sol;".to_owned(),
            '=' => "&equals;".to_owned(),
            c if !c.is_ascii() => format!("&#x{:x};", c as u32),
            c => c.to_string(),
        })
        .collect();
    vec![
        (".NET JSON escapes", dotnet),
        ("lower-case percent-encoding", lower_percent),
        ("numeric HTML entities", html_numeric),
        ("named HTML entities", html_named),
    ]
}

/// Whether `text` still shows `secret` in `form`, or the part of it after its first 3
/// characters (the distinctive rest).
fn shows(text: &str, form: &str) -> bool {
    let skip = form.char_indices().nth(3).map_or(0, |(i, _)| i);
    text.contains(form) || (form.len() - skip >= 6 && text.contains(&form[skip..]))
}

#[test]
fn escaped_echoes_of_token_password_and_key_are_hidden() {
    for (secret, what) in [
        (PLUS_TOKEN, "token"),
        (PLUS_PASSWORD, "password"),
        (PLUS_KEY, "confirm key"),
    ] {
        for (form_name, form) in echoed_forms(secret) {
            for (shape, body, content_type) in [
                (
                    "envelope",
                    error_envelope(401, &format!("Bad {what} {form} given"), None),
                    JSON,
                ),
                (
                    "html page",
                    format!("<html><body><p>Bad {what}: {form}</p></body></html>"),
                    "text/html",
                ),
                // A body cut inside the secret (the server broke off mid-answer).
                (
                    "truncated JSON",
                    {
                        let cut = form.char_indices().nth(form.chars().count() - 3).unwrap().0;
                        format!(r#"{{"error":{{"message":"Bad {what} {}"#, &form[..cut])
                    },
                    JSON,
                ),
            ] {
                let mut server = Server::new();
                let _m = server
                    .mock(
                        match what {
                            "token" => "GET",
                            "password" => "POST",
                            _ => "GET",
                        },
                        Matcher::Any,
                    )
                    .with_status(401)
                    .with_header("content-type", content_type)
                    .with_body(&body)
                    .create();
                let err = match what {
                    "token" => Client::builder()
                        .base_url(server.url())
                        .token(PLUS_TOKEN)
                        .retry(RetryPolicy::none())
                        .build()
                        .unwrap()
                        .tfa()
                        .methods()
                        .unwrap_err(),
                    "password" => anonymous(&server)
                        .auth()
                        .login(USER_NAME, PLUS_PASSWORD)
                        .unwrap_err(),
                    _ => {
                        let ticket = ConfirmTicket::from_url(&activation_url(), PLUS_KEY).unwrap();
                        anonymous(&server).tfa().setup_with(&ticket).unwrap_err()
                    }
                };
                // `Debug` is the short form: the snippet (kept for debugging) is read apart.
                let text = format!("{err} {err:?} {:?}", err.body_snippet());
                let case = format!("{what} as {form_name} in {shape}");
                assert!(!shows(&text, &form), "{case} leaks:\n{text}");
                assert!(!shows(&text, secret), "{case} leaks:\n{text}");
                assert!(text.contains("***"), "{case}: nothing was hidden:\n{text}");
            }
        }
    }
}

#[test]
fn a_secret_cut_by_the_snippet_bound_is_hidden() {
    // An HTML page with the escaped token right where the 200-character snippet ends.
    let form = &echoed_forms(PLUS_TOKEN)[0].1;
    let page = format!(
        "<html><body>{}{form} and more</body></html>",
        "x".repeat(178)
    );
    let mut server = Server::new();
    let _m = server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_status(502)
        .with_header("content-type", "text/html")
        .with_body(&page)
        .create();
    let err = Client::builder()
        .base_url(server.url())
        .token(PLUS_TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
        .tfa()
        .methods()
        .unwrap_err();
    // An HTML page is not quoted in the message; its start is kept for debugging.
    assert!(!err.to_string().contains("sk"), "{err}");
    let text = err.body_snippet().expect("the page's start is kept");
    assert!(text.contains("***…"), "{text}");
    assert!(!text.contains("sk\\u002B9f"), "{text}");
}
