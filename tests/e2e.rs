//! End-to-end tests: the crate's flows against the embedded DocSpace emulator, over real HTTP.
//!
//! Every flow of `docs/flow.md` (the seed's bearer flow, the confirm-ticket flow, the headless
//! login) and the portal behaviour around them (re-checks, wrong codes, the brute-force lock,
//! backup codes, `TfaAuth` refusals, regeneration, unlinking, policy changes, the 3.7 servers'
//! `403`, framework refusals). Each test starts its own emulator with a frozen clock, and
//! asserts the emulator's request log where the shape of the traffic matters.
#![cfg(feature = "emulator")]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use docspace_tfa::emulator::{Emulator, NewUser, TicketType};
use docspace_tfa::totp::{OtpAuthUri, Totp, TotpKey};
use docspace_tfa::{
    Client, ConfirmTicket, ErrorKind, LoginOutcome, Secret, SetupCode, TfaMethodId, TfaPolicy,
    TfaType,
};

/// The emulator's frozen clock in every test.
const T0: u64 = 1_700_000_000;
const PASSWORD: &str = "correct horse battery staple";
/// A fixed secret for users that start with a linked app.
const SECRET: &[u8] = b"0123456789";

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn portal() -> Emulator {
    Emulator::builder()
        .time(T0)
        .start()
        .expect("emulator starts")
}

/// The code the authenticator app computes from a setup code, at the emulator's time.
fn code_for(setup: &SetupCode, portal: &Emulator) -> Secret {
    let key = setup.totp_key().expect("a valid manual key");
    Totp::docspace().code_at(&key, portal.now())
}

/// An emulator with `user`, an anonymous client of it, and an activation ticket for the user.
fn ticketed(
    user: NewUser,
) -> Result<(Emulator, String, Client, ConfirmTicket), Box<dyn std::error::Error>> {
    let portal = portal();
    let id = portal.add_user(user)?;
    let client = portal.client()?;
    let ticket = portal.ticket(&id, TicketType::TfaActivation)?;
    Ok((portal, id, client, ticket))
}

/// A code that is not the current code of [`SECRET`] at the emulator's time.
fn wrong_code(portal: &Emulator) -> &'static str {
    if fixed_code(portal).expose() == "000000" {
        "111111"
    } else {
        "000000"
    }
}

/// A user with [`SECRET`] and a linked app.
fn linked_user(email: &str) -> NewUser {
    NewUser::new(email, PASSWORD).secret(SECRET).linked()
}

/// Asserts an error's kind and HTTP status.
fn assert_error(err: &docspace_tfa::Error, kind: ErrorKind, status: Option<u16>) {
    assert_eq!((err.kind(), err.status()), (kind, status), "{err}");
}

/// The code of [`SECRET`] at the emulator's time.
fn fixed_code(portal: &Emulator) -> Secret {
    let key = TotpKey::from_bytes(SECRET).expect("key");
    Totp::docspace().code_at(&key, portal.now())
}

/// A client with a user's API key.
fn client_for(portal: &Emulator, user_id: &str) -> Client {
    let key = portal.issue_api_key(user_id).expect("api key");
    portal.client().expect("client").with_token(key)
}

/// A raw request with chosen headers, for what the crate never sends (a ticket with a token,
/// no credential at all, a blank code). Returns the status and the body text.
fn raw(
    portal: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/api/2.0/{path}", portal.base_url());
    let mut response = match method {
        "GET" => {
            let mut r = agent.get(&url);
            for (n, v) in headers {
                r = r.header(*n, *v);
            }
            r.call()
        }
        _ => {
            let mut r = match method {
                "POST" => agent.post(&url),
                _ => agent.put(&url),
            };
            for (n, v) in headers {
                r = r.header(*n, *v);
            }
            r.content_type("application/json")
                .send(body.unwrap_or("").as_bytes())
        }
    }
    .expect("the emulator answers");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    (status, text)
}

/// [`raw`] `GET`.
fn get_raw(portal: &Emulator, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    raw(portal, "GET", path, headers, None)
}

/// [`raw`] `POST` with a JSON `body`.
fn post_raw(portal: &Emulator, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    raw(portal, "POST", path, headers, Some(body))
}

/// The `Confirm` header value of a ticket, key included.
fn confirm_header(ticket: &ConfirmTicket) -> String {
    format!(
        "type={}&uid={}&key={}",
        ticket.confirm_type(),
        ticket.uid(),
        ticket.key().expose()
    )
}

/// Decodes the setup code's QR image with the QR reader directly (not through the SDK), and
/// checks it is drawn as the server's library draws it: a 1-bit greyscale PNG, 4 pixels per
/// module, error correction level Q.
fn decode_qr(setup: &SetupCode) -> String {
    let png_bytes = setup.qr_png().expect("a PNG data URL");
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let mut reader = decoder.read_info().expect("a PNG");
    assert_eq!(reader.info().bit_depth, png::BitDepth::One);
    let mut pixels = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut pixels).expect("a frame");
    let (w, h) = (info.width as usize, info.height as usize);
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    assert_eq!(w % 4, 0, "4 pixels per module");
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    let (meta, text) = grids[0].decode().expect("a readable QR code");
    assert_eq!(meta.ecc_level, 3, "error correction level Q");
    text
}

#[test]
fn bearer_flow_in_lenient_mode() -> TestResult {
    let portal = Emulator::builder().time(T0).lenient_bearer(true).start()?;
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let client = client_for(&portal, &id);

    // Step 1 of the documentation's example: setup with the bearer token.
    let setup = client.tfa().setup()?;
    assert_eq!(setup.account, "john.doe@example.com");
    let manual = setup.manual_entry_key.expose();
    assert_eq!(manual.len(), 16, "10 random bytes → 16 base32 characters");
    assert!(manual
        .bytes()
        .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
    assert_eq!(
        Some(setup.manual_entry_key.clone()),
        portal.user_state(&id).and_then(|s| s.manual_entry_key)
    );
    // The QR image is a real QR code of the otpauth URI the portal's format prescribes, with
    // the tenant's domain as its issuer (not the URL's host); the SDK reads it exactly.
    let expected = setup.otpauth_uri_text(portal.base_url())?;
    assert_eq!(decode_qr(&setup), expected.expose());
    assert_eq!(setup.qr_uri()?, expected);
    assert_eq!(
        expected.expose(),
        format!(
            "otpauth://totp/portal.docspace.test:john.doe%40example.com\
             ?secret={manual}&issuer=portal.docspace.test"
        )
    );
    assert_eq!(
        setup.otpauth_uri(portal.base_url())?.issuer,
        "portal.docspace.test"
    );
    let parsed = OtpAuthUri::parse(&decode_qr(&setup))?;
    assert_eq!(parsed.secret, setup.totp_key()?);
    // The same secret until the app is linked.
    assert_eq!(
        client.tfa().setup()?.manual_entry_key,
        setup.manual_entry_key
    );

    // Step 2: the first code.
    let validation = client.tfa().validate(code_for(&setup, &portal).expose())?;
    assert!(validation.first_activation);
    assert!(validation.session_token.is_some());
    let state = portal.user_state(&id).expect("user");
    assert!(state.linked);
    assert_eq!(state.backup_codes.len(), 5);

    let log = portal.requests();
    let validate: Vec<_> = log
        .iter()
        .filter(|r| r.is("POST", "settings/tfaapp/validate"))
        .collect();
    assert_eq!(validate.len(), 1);
    // The portal has `tfaapp/confirm`, so the crate sends its own ticket even here.
    assert!(!validate[0].has_authorization() && validate[0].confirm().is_some());
    assert_eq!(validate[0].body().expect("body")["session"], false);
    assert_eq!(portal.request_count("GET", "settings/tfaapp/setup"), 2);
    assert_eq!(portal.request_count("GET", "settings/tfaapp/confirm"), 3);
    // And the lenient mode takes the documentation's bearer-only request as it is.
    let token = format!("Bearer {}", portal.issue_api_key(&id)?.expose());
    let (status, body) = get_raw(
        &portal,
        "settings/tfaapp/setup",
        &[("Authorization", &token)],
    );
    // The app is linked now: "not available", as 3.5+ servers say it (a 403 whose
    // InvalidOperationException carries the TfaAppNotAvailable text), not a framework refusal.
    assert_eq!(status, 403);
    assert!(
        body.contains("System.InvalidOperationException"),
        "not the server's not-available body: {body}"
    );
    Ok(())
}

#[test]
fn a_real_portal_refuses_the_bearer_token_on_setup_and_validate() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let key = portal.issue_api_key(&id)?;
    let bearer = format!("Bearer {}", key.expose());

    // The documentation page's requests as they are: 403, empty body.
    let (status, body) = get_raw(
        &portal,
        "settings/tfaapp/setup",
        &[("Authorization", &bearer)],
    );
    assert_eq!((status, body.as_str()), (403, ""));
    let (status, body) = post_raw(
        &portal,
        "settings/tfaapp/validate",
        &[("Authorization", &bearer)],
        r#"{"code":"123456","session":false}"#,
    );
    assert_eq!((status, body.as_str()), (403, ""));
    // Nothing at all: 401, empty body.
    let (status, body) = get_raw(&portal, "settings/tfaapp/setup", &[]);
    assert_eq!((status, body.as_str()), (401, ""));
    assert!(!portal.user_state(&id).expect("user").linked);

    // The crate's `setup()` with the same token fetches its own ticket first, and works.
    let client = client_for(&portal, &id);
    portal.clear_requests();
    let setup = client.tfa().setup()?;
    assert_eq!(setup.account, "john.doe@example.com");
    let sent = portal.requests();
    let setup_req = sent
        .iter()
        .find(|r| r.is("GET", "settings/tfaapp/setup"))
        .expect("setup sent");
    assert!(!setup_req.has_authorization() && setup_req.confirm().is_some());
    Ok(())
}

#[test]
fn confirm_ticket_flow() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("jane@example.com", PASSWORD).admin())?;
    let client = client_for(&portal, &id);

    let data = client.tfa().confirm()?.expect("the app method applies");
    assert_eq!(
        data.url,
        format!(
            "{}/confirm/TfaActivation?type=TfaActivation&uid={id}",
            portal.base_url()
        )
    );
    assert_eq!(
        data.cookie_name.as_deref(),
        Some("asc_confirm_key_TfaActivation")
    );
    let ticket = ConfirmTicket::from_confirm_data(&data)?;
    let setup = client.tfa().setup_with(&ticket)?;
    assert_eq!(setup.account, "jane@example.com");
    // The ticket is reusable within its interval; the secret stays the same.
    assert_eq!(
        client.tfa().setup_with(&ticket)?.manual_entry_key,
        setup.manual_entry_key
    );

    let validation = client
        .tfa()
        .validate_with(&ticket, code_for(&setup, &portal).expose())?;
    assert!(validation.first_activation);
    // The session the validation opened works as a bearer token.
    let session = validation.session_token.expect("asc_auth_key");
    let me = client.with_token(session).people().me()?;
    assert_eq!(me.id, id);

    let codes = client.tfa().backup_codes()?;
    assert_eq!(codes.len(), 5);
    for c in &codes {
        assert!(!c.is_used);
        assert_eq!(c.code.expose().len(), 6);
        assert!(c
            .code
            .expose()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
    }

    // Linked now: setup is no longer available (403 `TfaAppNotAvailable`).
    let err = client.tfa().setup_with(&ticket).unwrap_err();
    assert_error(&err, ErrorKind::NotAvailable, Some(403));

    // Ticketed requests carried the ticket, its key in the header, and no Authorization.
    for r in portal.requests().iter().filter(|r| {
        r.is("GET", "settings/tfaapp/setup") || r.is("POST", "settings/tfaapp/validate")
    }) {
        let confirm = r.confirm().expect("a Confirm header");
        assert_eq!(confirm.confirm_type(), "TfaActivation");
        assert_eq!(confirm.uid(), id);
        assert!(confirm.key_in_header());
        assert!(!r.has_authorization() && !r.has_auth_cookie());
    }
    assert_eq!(portal.request_count("POST", "settings/tfaapp/validate"), 1);
    Ok(())
}

#[test]
fn headless_login_flow() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("bot@example.com", PASSWORD).tfa_mandatory())?;
    let client = portal.client()?;

    let (ticket, tfa_key) = match client.auth().login("bot@example.com", PASSWORD)? {
        LoginOutcome::TfaActivationRequired { ticket, tfa_key } => (ticket, tfa_key),
        other => panic!("expected an activation challenge, got {other:?}"),
    };
    assert_eq!(ticket.confirm_type(), "TfaActivation");
    assert_eq!(ticket.uid(), id);
    let setup = client.tfa().setup_with(&ticket)?;
    assert_eq!(Some(setup.manual_entry_key.clone()), tfa_key);

    let code = code_for(&setup, &portal);
    let session = client
        .auth()
        .login_with_code("bot@example.com", PASSWORD, code.expose())?;
    assert!(session.expires.is_some());
    assert!(portal.user_state(&id).expect("user").linked);

    let signed_in = client.with_token(session.token);
    let codes = signed_in.tfa().backup_codes()?;
    assert_eq!(codes.len(), 5);
    assert!(codes.iter().all(|c| !c.is_used));

    // The code went in the body and in the path.
    let log = portal.requests();
    let with_code: Vec<_> = log
        .iter()
        .filter(|r| r.is("POST", "authentication/{code}"))
        .collect();
    assert_eq!(with_code.len(), 1);
    assert_eq!(
        with_code[0].path(),
        format!("authentication/{}", code.expose())
    );
    let body = with_code[0].body().expect("body");
    assert_eq!(body["code"], code.expose());
    assert_eq!(body["userName"], "bot@example.com");
    assert!(
        !format!("{log:?}").contains(code.expose()),
        "Debug hides codes"
    );
    assert!(
        !format!("{log:?}").contains(PASSWORD),
        "Debug hides passwords"
    );
    Ok(())
}

#[test]
fn login_without_tfa_wrong_password_and_lock() -> TestResult {
    let portal = Emulator::builder()
        .time(T0)
        .app_method_enabled(false)
        .start()?;
    portal.add_user(NewUser::new("plain@example.com", PASSWORD))?;
    let client = portal.client()?;
    match client.auth().login("plain@example.com", PASSWORD)? {
        LoginOutcome::Authenticated(session) => {
            assert_eq!(
                session.expires.as_deref(),
                Some("2023-12-04T22:13:20.0000000+00:00"),
                "20 days after the frozen clock"
            );
            client.with_token(session.token).people().me()?;
        }
        other => panic!("expected a token, got {other:?}"),
    }
    for user in ["plain@example.com", "nobody@example.com"] {
        let err = client.auth().login(user, "wrong").unwrap_err();
        assert_error(&err, ErrorKind::Unauthorized, Some(401));
        assert!(err.server_message().is_some());
    }
    for _ in 0..4 {
        let err = client
            .auth()
            .login("plain@example.com", "wrong")
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
    }
    // Five failures in a minute: locked, even with the right password.
    let err = client
        .auth()
        .login("plain@example.com", PASSWORD)
        .unwrap_err();
    assert_error(&err, ErrorKind::RateLimited, Some(403));
    portal.advance(Duration::from_secs(61));
    assert!(matches!(
        client.auth().login("plain@example.com", PASSWORD)?,
        LoginOutcome::Authenticated(_)
    ));
    Ok(())
}

#[test]
fn sms_login_outcome() -> TestResult {
    let portal = portal();
    portal.set_policy(&TfaPolicy::new(TfaType::Sms));
    portal.add_user(NewUser::new("phone@example.com", PASSWORD).phone("+7 912 345 67 12"))?;
    portal.add_user(NewUser::new("nophone@example.com", PASSWORD))?;
    let client = portal.client()?;
    match client.auth().login("phone@example.com", PASSWORD)? {
        LoginOutcome::SmsCodeSent(sent) => {
            // 11 digits: the server's phoneNoise defect answers 400 after sending.
            assert!(sent.server_mask_failed && sent.phone_noise.is_none());
        }
        other => panic!("expected an SMS challenge, got {other:?}"),
    }
    assert_eq!(portal.sms_outbox().len(), 1);
    match client.auth().login("nophone@example.com", PASSWORD)? {
        LoginOutcome::SmsPhoneRequired { ticket } => {
            assert!(ticket.is_phone_activation());
            assert!(ticket.url().unwrap().contains("/confirm/PhoneActivation?"));
        }
        other => panic!("expected an SMS challenge, got {other:?}"),
    }
    Ok(())
}

#[test]
fn recheck_of_a_linked_app_is_false() -> TestResult {
    let portal = portal();
    let id = portal.add_user(linked_user("linked@example.com"))?;
    let before = portal.user_state(&id).expect("user").backup_codes;
    let client = portal.client()?;
    let ticket = match client.auth().login("linked@example.com", PASSWORD)? {
        LoginOutcome::TfaCodeRequired { ticket } => ticket,
        other => panic!("expected a code challenge, got {other:?}"),
    };
    assert!(ticket.is_tfa_auth());
    let validation = client
        .tfa()
        .validate_with(&ticket, fixed_code(&portal).expose())?;
    assert!(
        !validation.first_activation,
        "a re-check, not an activation"
    );
    assert!(validation.session_token.is_some());
    let after = portal.user_state(&id).expect("user");
    assert!(after.linked);
    assert_eq!(after.backup_codes, before, "no new backup codes");

    let validate = portal
        .requests()
        .into_iter()
        .find(|r| r.is("POST", "settings/tfaapp/validate"))
        .expect("a validate request");
    let confirm = validate.confirm().expect("ticket");
    assert_eq!(confirm.confirm_type(), "TfaAuth");
    assert!(
        !validate.has_authorization(),
        "TfaAuth travels without a token"
    );
    Ok(())
}

#[test]
fn codes_within_five_minutes_are_accepted() -> TestResult {
    let (_portal, _id, client, ticket) =
        ticketed(NewUser::new("clock@example.com", PASSWORD).secret(SECRET))?;
    let key = TotpKey::from_bytes(SECRET)?;
    let totp = Totp::docspace();
    let too_old = totp.code_at(&key, T0 - 330);
    let err = client
        .tfa()
        .validate_with(&ticket, too_old.expose())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCode);
    let old_but_fine = totp.code_at(&key, T0 - 290);
    assert!(
        client
            .tfa()
            .validate_with(&ticket, old_but_fine.expose())?
            .first_activation
    );
    Ok(())
}

#[test]
fn wrong_code_is_invalid_code() -> TestResult {
    let (portal, id, client, ticket) =
        ticketed(NewUser::new("typo@example.com", PASSWORD).secret(SECRET))?;
    let wrong = wrong_code(&portal);
    let err = client.tfa().validate_with(&ticket, wrong).unwrap_err();
    assert_error(&err, ErrorKind::InvalidCode, Some(400));
    assert_eq!(err.server_message(), Some("Incorrect code"));
    assert!(!portal.user_state(&id).expect("user").linked);
    assert!(!err.to_string().contains(wrong));
    Ok(())
}

#[test]
fn blank_code_is_refused_client_side_and_a_500_on_the_server() -> TestResult {
    let (portal, _id, client, ticket) = ticketed(NewUser::new("blank@example.com", PASSWORD))?;
    let err = client.tfa().validate_with(&ticket, "   ").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(portal.request_count("POST", "settings/tfaapp/validate"), 0);
    // What the server does with one: a plain exception, 500.
    let header = confirm_header(&ticket);
    let (status, body) = post_raw(
        &portal,
        "settings/tfaapp/validate",
        &[("Confirm", &header)],
        r#"{"code": "  ", "session": false}"#,
    );
    assert_eq!(status, 500);
    let body: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(body["error"]["type"], "System.Exception");
    assert_eq!(body["statusCode"], 500);
    Ok(())
}

#[test]
fn brute_force_lock() -> TestResult {
    let (portal, id, client, ticket) =
        ticketed(NewUser::new("guess@example.com", PASSWORD).secret(SECRET))?;
    let right = fixed_code(&portal);
    let wrong = wrong_code(&portal);
    for _ in 0..5 {
        let err = client.tfa().validate_with(&ticket, wrong).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidCode);
    }
    // The sixth try within the minute is locked, even with the right code.
    let err = client
        .tfa()
        .validate_with(&ticket, right.expose())
        .unwrap_err();
    assert_error(&err, ErrorKind::RateLimited, Some(403));
    assert!(
        err.server_message().is_some(),
        "a lock carries an error body"
    );
    assert!(!portal.user_state(&id).expect("user").linked);

    // A minute later the right code links the app.
    portal.advance(Duration::from_secs(61));
    assert!(
        client
            .tfa()
            .validate_with(&ticket, fixed_code(&portal).expose())?
            .first_activation
    );
    let statuses: Vec<u16> = portal
        .requests()
        .iter()
        .filter(|r| r.is("POST", "settings/tfaapp/validate"))
        .map(|r| r.status())
        .collect();
    assert_eq!(statuses, [400, 400, 400, 400, 400, 403, 200]);
    Ok(())
}

#[test]
fn backup_code_is_accepted_once() -> TestResult {
    let portal = portal();
    let id = portal.add_user(linked_user("spare@example.com"))?;
    let backup = portal.user_state(&id).expect("user").backup_codes[2]
        .code
        .clone();
    let client = portal.client()?;
    let ticket = portal.ticket(&id, TicketType::TfaAuth)?;
    let v = client.tfa().validate_with(&ticket, backup.expose())?;
    assert!(!v.first_activation);
    let err = client
        .tfa()
        .validate_with(&ticket, backup.expose())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCode, "spent");
    let state = portal.user_state(&id).expect("user");
    assert_eq!(state.backup_codes.iter().filter(|c| c.is_used).count(), 1);
    assert!(state.backup_codes[2].is_used);

    // Through the login with a code: another backup code, once.
    let other = state.backup_codes[4].code.clone();
    client
        .auth()
        .login_with_code("spare@example.com", PASSWORD, other.expose())?;
    let err = client
        .auth()
        .login_with_code("spare@example.com", PASSWORD, other.expose())
        .unwrap_err();
    assert_error(&err, ErrorKind::Unauthorized, Some(401));
    Ok(())
}

#[test]
fn tfa_auth_ticket_with_a_token_is_refused() -> TestResult {
    let portal = portal();
    let id = portal.add_user(linked_user("both@example.com"))?;
    let token = portal.issue_api_key(&id)?;
    let ticket = portal.ticket(&id, TicketType::TfaAuth)?;
    let header = confirm_header(&ticket);
    let code = fixed_code(&portal);
    let body = format!(r#"{{"code": "{}", "session": false}}"#, code.expose());
    let bearer = format!("Bearer {}", token.expose());
    let cookie = format!("asc_auth_key={}", token.expose());

    // With Authorization, or with the auth cookie: refused, empty body.
    for auth in [
        ("Authorization", bearer.as_str()),
        ("Cookie", cookie.as_str()),
    ] {
        let (status, text) = post_raw(
            &portal,
            "settings/tfaapp/validate",
            &[("Confirm", &header), auth],
            &body,
        );
        assert_eq!((status, text.as_str()), (401, ""));
    }
    // The crate never sends both: a client that holds a token still sends the ticket alone.
    let client = portal.client()?.with_token(token);
    let v = client.tfa().validate_with(&ticket, code.expose())?;
    assert!(!v.first_activation);
    let last = portal.requests().pop().expect("a request");
    assert!(last.is("POST", "settings/tfaapp/validate"));
    assert!(!last.has_authorization() && !last.has_auth_cookie());
    assert_eq!(last.status(), 200);
    Ok(())
}

#[test]
fn activation_ticket_with_a_token_acts_on_the_token_user() -> TestResult {
    let portal = portal();
    let alice = portal.add_user(NewUser::new("alice@example.com", PASSWORD))?;
    let bob = portal.add_user(NewUser::new("bob@example.com", PASSWORD))?;
    let ticket = portal.ticket(&alice, TicketType::TfaActivation)?;
    let bob_token = portal.issue_api_key(&bob)?;
    let header = confirm_header(&ticket);
    let bearer = format!("Bearer {}", bob_token.expose());
    let (status, body) = get_raw(
        &portal,
        "settings/tfaapp/setup",
        &[("Confirm", &header), ("Authorization", &bearer)],
    );
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body)?;
    // As the server writes it: `Uri.EscapeDataString(email)`; the SDK decodes it.
    assert_eq!(body["response"]["account"], "bob%40example.com");
    Ok(())
}

#[test]
fn confirm_key_from_the_cookie_and_expiry() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("cookie@example.com", PASSWORD))?;
    let ticket = portal.ticket(&id, TicketType::TfaActivation)?;
    let header = format!("type=TfaActivation&uid={id}");
    let cookie = format!("asc_confirm_key_TfaActivation={}", ticket.key().expose());
    let (status, _) = get_raw(
        &portal,
        "settings/tfaapp/setup",
        &[("Confirm", &header), ("Cookie", &cookie)],
    );
    assert_eq!(status, 200);
    let logged = portal.requests().pop().expect("request");
    let confirm = logged.confirm().expect("ticket");
    assert!(confirm.key_in_cookie() && !confirm.key_in_header());

    // A wrong key, a key for another type, and an expired key: 401.
    let client = portal.client()?;
    let wrong = ConfirmTicket::new("TfaActivation", &id, "1700000000.deadbeef")?;
    let err = client.tfa().setup_with(&wrong).unwrap_err();
    assert_error(&err, ErrorKind::Unauthorized, Some(401));
    let other_type = ConfirmTicket::new("TfaAuth", &id, ticket.key().expose())?;
    assert_eq!(
        client.tfa().setup_with(&other_type).unwrap_err().status(),
        Some(401)
    );
    // A valid TfaAuth ticket is the wrong role for setup: 403.
    let auth = portal.ticket(&id, TicketType::TfaAuth)?;
    assert_eq!(
        client.tfa().setup_with(&auth).unwrap_err().status(),
        Some(403)
    );
    portal.advance(Duration::from_secs(3601));
    let err = client.tfa().setup_with(&ticket).unwrap_err();
    assert_error(&err, ErrorKind::Unauthorized, Some(401));
    Ok(())
}

#[test]
fn regenerate_backup_codes() -> TestResult {
    let portal = portal();
    let id = portal.add_user(linked_user("regen@example.com"))?;
    let client = client_for(&portal, &id);
    let old = client.tfa().backup_codes()?;
    assert_eq!(old.len(), 5);
    let new = client.tfa().regenerate_backup_codes()?;
    assert_eq!(new.len(), 5);
    assert!(new.iter().all(|c| !c.is_used));
    assert!(new.iter().all(|n| old.iter().all(|o| o.code != n.code)));
    assert_eq!(client.tfa().backup_codes()?, new);

    // An old code no longer works; a new one does.
    let ticket = portal.ticket(&id, TicketType::TfaAuth)?;
    let err = client
        .tfa()
        .validate_with(&ticket, old[0].code.expose())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCode);
    client.tfa().validate_with(&ticket, new[0].code.expose())?;

    assert_eq!(portal.request_count("PUT", "settings/tfaappnewcodes"), 1);
    Ok(())
}

#[test]
fn codes_are_not_available_without_a_linked_app() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("nolink@example.com", PASSWORD))?;
    let client = client_for(&portal, &id);
    for err in [
        client.tfa().backup_codes().unwrap_err(),
        client.tfa().regenerate_backup_codes().unwrap_err(),
    ] {
        assert_error(&err, ErrorKind::NotAvailable, Some(403));
        assert_eq!(
            err.recognized_message(),
            Some(docspace_tfa::ServerMessage::TfaAppNotAvailable)
        );
    }
    Ok(())
}

#[test]
fn unlink_self_and_relink() -> TestResult {
    let portal = portal();
    let id = portal.add_user(linked_user("self@example.com"))?;
    let client = client_for(&portal, &id);
    let ticket = client.tfa().unlink_self()?;
    assert_eq!(ticket.confirm_type(), "TfaActivation");
    assert_eq!(ticket.uid(), id);
    let state = portal.user_state(&id).expect("user");
    assert!(!state.linked && state.backup_codes.is_empty() && state.manual_entry_key.is_none());

    // people/@self, then the unlink with the caller's own id.
    let log = portal.requests();
    let calls: Vec<(&str, &str)> = log.iter().map(|r| (r.method(), r.path())).collect();
    assert_eq!(
        calls,
        [("GET", "people/@self"), ("PUT", "settings/tfaappnewapp")]
    );
    assert_eq!(log[1].body().expect("body")["id"], id.as_str());

    // The returned ticket links a new app, with a new secret.
    let setup = client.tfa().setup_with(&ticket)?;
    assert_ne!(setup.totp_key()?.as_bytes(), SECRET);
    let v = client
        .tfa()
        .validate_with(&ticket, code_for(&setup, &portal).expose())?;
    assert!(v.first_activation);

    // Nothing linked any more for a second unlink… after unlinking again.
    client.tfa().unlink_self()?;
    let err = client.tfa().unlink_self().unwrap_err();
    assert_error(&err, ErrorKind::NotAvailable, Some(403));
    // An empty id is refused client-side; the server refuses the empty guid too.
    assert_eq!(
        client.tfa().unlink_user("").unwrap_err().kind(),
        ErrorKind::InvalidInput
    );
    let token = portal.issue_api_key(&id)?;
    let bearer = format!("Bearer {}", token.expose());
    let (status, _) = raw(
        &portal,
        "PUT",
        "settings/tfaappnewapp",
        &[("Authorization", &bearer)],
        Some(r#"{"id": "00000000-0000-0000-0000-000000000000"}"#),
    );
    assert_eq!(status, 403);
    Ok(())
}

#[test]
fn unlink_another_member_is_for_the_owner_only() -> TestResult {
    let portal = portal();
    let owner = portal.add_user(NewUser::new("owner@example.com", PASSWORD).owner())?;
    let admin = portal.add_user(NewUser::new("admin@example.com", PASSWORD).admin())?;
    let member = portal.add_user(linked_user("member@example.com"))?;
    let member_session = portal.open_session(&member)?;

    let err = client_for(&portal, &admin)
        .tfa()
        .unlink_user(&member)
        .unwrap_err();
    assert_error(&err, ErrorKind::Forbidden, Some(403));
    assert!(portal.user_state(&member).expect("member").linked);

    let owner_client = client_for(&portal, &owner);
    owner_client.tfa().unlink_user(&member)?;
    let state = portal.user_state(&member).expect("member");
    assert!(!state.linked);
    assert_eq!(state.sessions, 0, "the member signs in again");
    let err = portal
        .client()?
        .with_token(member_session)
        .people()
        .me()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);

    // Nothing left to unlink: "not available". An unknown member: the owner may edit anyone,
    // and nobody has an app there: "not available" too (`UnlinkTfaApp`).
    let err = owner_client.tfa().unlink_user(&member).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable);
    let err = owner_client
        .tfa()
        .unlink_user("3f1e2d3c-0000-4000-8000-000000000000")
        .unwrap_err();
    assert_error(&err, ErrorKind::NotAvailable, Some(403));
    assert_eq!(portal.request_count("PUT", "settings/tfaappnewapp"), 4);
    Ok(())
}

#[test]
fn policy_changes() -> TestResult {
    let portal = Emulator::builder()
        .time(T0)
        .app_method_enabled(false)
        .start()?;
    let owner = portal.add_user(NewUser::new("owner@example.com", PASSWORD).owner())?;
    let admin = portal.add_user(NewUser::new("admin@example.com", PASSWORD).admin())?;
    let member = portal.add_user(NewUser::new("member@example.com", PASSWORD))?;
    let client = portal.client()?;

    // The admin signs in (no TFA yet) and switches the app method on.
    let session = match client.auth().login("admin@example.com", PASSWORD)? {
        LoginOutcome::Authenticated(s) => s,
        other => panic!("expected a token, got {other:?}"),
    };
    let admin_client = client.with_token(session.token);
    let admin_key = client_for(&portal, &admin);
    let policy = TfaPolicy::new(TfaType::App)
        .trusted_ip("10.0.0.0/8")
        .mandatory_user(&member);
    assert!(admin_client.tfa().set_policy(&policy)?);
    let put = portal.requests().pop().expect("request");
    assert!(put.is("PUT", "settings/tfaapp"));
    assert_eq!(
        put.body().expect("body"),
        &serde_json::json!({
            "type": "App", "trustedIps": ["10.0.0.0/8"], "mandatoryUsers": [member],
            "mandatoryGroups": []
        })
    );

    // Every session was reset, the caller's included; API keys live on.
    let err = admin_client.tfa().methods().unwrap_err();
    assert_error(&err, ErrorKind::Unauthorized, Some(401));
    let methods = admin_key.tfa().methods()?;
    let app = methods
        .iter()
        .find(|m| m.id == TfaMethodId::App)
        .expect("app entry");
    assert!(app.enabled && app.available);
    assert_eq!(
        app.trusted_ips.as_deref(),
        Some(&["10.0.0.0/8".to_owned()][..])
    );
    assert_eq!(
        app.mandatory_users.as_deref(),
        Some(std::slice::from_ref(&member))
    );
    assert_eq!(portal.policy().tfa_type, TfaType::App);

    // With the link: the caller's own confirm URL.
    let url = admin_key
        .tfa()
        .set_policy_with_link(&TfaPolicy::new(TfaType::App))?
        .expect("a confirm URL");
    assert!(url.contains(&format!(
        "/confirm/TfaActivation?type=TfaActivation&uid={admin}"
    )));

    // Not an admin: 403.
    let err = client_for(&portal, &member)
        .tfa()
        .set_policy(&TfaPolicy::new(TfaType::None))
        .unwrap_err();
    assert_error(&err, ErrorKind::Forbidden, Some(403));
    // Naming the owner as mandatory takes the caller's own id as `id`.
    let owner_client = client_for(&portal, &owner);
    let naming_owner = TfaPolicy::new(TfaType::App).mandatory_user(&owner);
    let err = owner_client.tfa().set_policy(&naming_owner).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    assert!(owner_client
        .tfa()
        .set_policy(&naming_owner.clone().caller_id(&owner))?);

    // Switching TFA off answers false; validate then answers false without checking the code.
    assert!(!owner_client
        .tfa()
        .set_policy(&TfaPolicy::new(TfaType::None))?);
    assert_eq!(portal.policy().tfa_type, TfaType::None);
    let ticket = portal.ticket(&member, TicketType::TfaActivation)?;
    let v = client.tfa().validate_with(&ticket, "000000")?;
    assert!(!v.first_activation);
    assert!(v.session_token.is_none());
    assert!(!portal.user_state(&member).expect("member").linked);
    // And confirm has nothing for the caller.
    assert_eq!(owner_client.tfa().confirm()?, None);
    Ok(())
}

#[test]
fn the_app_method_unavailable_now_and_on_servers_up_to_3_2_1() -> TestResult {
    for (legacy, status) in [(false, 403), (true, 500)] {
        let portal = Emulator::builder()
            .time(T0)
            .legacy_errors(legacy)
            .app_available(false)
            .start()?;
        let owner = portal.add_user(NewUser::new("owner@example.com", PASSWORD).owner())?;
        let client = client_for(&portal, &owner);
        let err = client
            .tfa()
            .set_policy(&TfaPolicy::new(TfaType::App))
            .unwrap_err();
        assert_error(&err, ErrorKind::NotAvailable, Some(status));
        let ticket = portal.ticket(&owner, TicketType::TfaActivation)?;
        let err = client.tfa().setup_with(&ticket).unwrap_err();
        assert_error(&err, ErrorKind::NotAvailable, Some(status));
        let err = client.tfa().backup_codes().unwrap_err();
        assert_error(&err, ErrorKind::NotAvailable, Some(status));
        assert_eq!(
            err.server_message(),
            Some("TFA application settings are not available")
        );
    }
    // Already linked, on a server up to 3.2.1.
    let portal = Emulator::builder().time(T0).legacy_errors(true).start()?;
    let id = portal.add_user(NewUser::new("old@example.com", PASSWORD).linked())?;
    let ticket = portal.ticket(&id, TicketType::TfaActivation)?;
    let err = portal.client()?.tfa().setup_with(&ticket).unwrap_err();
    assert_error(&err, ErrorKind::NotAvailable, Some(500));
    Ok(())
}

#[test]
fn missing_or_wrong_token_is_an_empty_401() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("who@example.com", PASSWORD))?;
    let (status, body) = get_raw(&portal, "people/@self", &[]);
    assert_eq!((status, body.as_str()), (401, ""));
    let err = portal
        .client()?
        .with_token("sk-not-a-key")
        .people()
        .me()
        .unwrap_err();
    assert_error(&err, ErrorKind::Unauthorized, Some(401));
    assert_eq!(err.server_message(), None);
    // The bare token and the auth cookie work like the bearer header.
    let key = portal.issue_api_key(&id)?;
    for header in [
        ("Authorization", key.expose().to_owned()),
        ("Cookie", format!("asc_auth_key={}", key.expose())),
    ] {
        let (status, body) = get_raw(&portal, "people/@self", &[(header.0, &header.1)]);
        assert_eq!(status, 200);
        let body: serde_json::Value = serde_json::from_str(&body)?;
        assert_eq!(body["response"]["id"], id.as_str());
        assert_eq!(body["response"]["email"], "who@example.com");
        assert_eq!(body["count"], 1);
        assert_eq!(body["statusCode"], 200);
        assert_eq!(body["links"][0]["action"], "GET");
    }
    // Unknown paths and methods: empty 404 and 405.
    assert_eq!(
        get_raw(&portal, "settings/nothing", &[]),
        (404, String::new())
    );
    assert_eq!(
        get_raw(&portal, "settings/tfaappnewcodes", &[]),
        (405, String::new())
    );
    Ok(())
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("ka@example.com", PASSWORD))?;
    let key = portal.issue_api_key(&id)?;
    let addr = portal.base_url().trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    for _ in 0..3 {
        write!(
            stream,
            "GET /api/2.0/people/@self HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\r\n",
            key.expose()
        )?;
        // Read one response: head, then Content-Length bytes.
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte)?;
            head.push(byte[0]);
        }
        let head = String::from_utf8(head)?;
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        let length: usize = head
            .lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .expect("Content-Length");
        let mut body = vec![0; length];
        stream.read_exact(&mut body)?;
        assert!(String::from_utf8(body)?.contains("ka@example.com"));
    }
    assert_eq!(portal.request_count("GET", "people/@self"), 3);
    Ok(())
}

#[test]
fn stop_closes_the_port_promptly() -> TestResult {
    let portal = portal();
    let client = portal.client()?;
    let base = portal.base_url().to_owned();
    let started = Instant::now();
    portal.stop();
    // 10× headroom (docs/reliability.md, "Timing in tests"): stop takes milliseconds.
    assert!(started.elapsed() < Duration::from_secs(10));
    let err = client.with_token("sk-x").people().me().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err} ({base})");
    Ok(())
}

/// The `connect_authenticator` example's binary, which `cargo test` builds with the tests
/// (`target/<profile>/examples/`, beside `deps/` where this test runs from).
fn example_binary() -> Option<std::path::PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let profile_dir = exe.parent()?.parent()?;
    let path = profile_dir.join("examples").join(format!(
        "connect_authenticator{}",
        std::env::consts::EXE_SUFFIX
    ));
    path.exists().then_some(path)
}

/// Runs the example with the given environment and stdin; returns (success, stdout, stderr).
fn run_example(env: &[(&str, &str)], stdin: &str) -> Option<(bool, String, String)> {
    use std::process::{Command, Stdio};
    let Some(binary) = example_binary() else {
        eprintln!("connect_authenticator is not built (run the whole `cargo test`); skipped");
        return None;
    };
    let mut command = Command::new(binary);
    command
        .env_remove("DOCSPACE_URL")
        .env_remove("DOCSPACE_TOKEN")
        .env_remove("DOCSPACE_QR_PNG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().expect("the example starts");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("the example ends");
    Some((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[test]
fn the_example_runs_the_whole_job_against_its_own_emulator() {
    let started = Instant::now();
    let qr = std::env::temp_dir().join(format!("e2e-example-{}.png", std::process::id()));
    let qr_text = qr.to_string_lossy().into_owned();
    let Some((ok, stdout, stderr)) = run_example(&[("DOCSPACE_QR_PNG", &qr_text)], "") else {
        return;
    };
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    for expected in [
        "built-in DocSpace emulator",
        "account:    john.doe@example.com",
        "manual key: ",
        &format!("saved to {qr_text}"),
        "computed like the app would: ",
        "first activation",
        "1 of them validations",
    ] {
        assert!(
            stdout.contains(expected),
            "{expected:?} missing in:\n{stdout}"
        );
    }
    let png = std::fs::read(&qr).expect("the QR image was saved");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let _ = std::fs::remove_file(&qr);
}

#[test]
fn the_example_removes_its_default_qr_file_after_an_emulator_run() {
    // The default path is in the temporary directory (TMPDIR): a fresh one, to look into.
    let tmp = std::env::temp_dir().join(format!("e2e-example-tmp-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("a temporary directory");
    let tmp_text = tmp.to_string_lossy().into_owned();
    let Some((ok, stdout, stderr)) = run_example(&[("TMPDIR", &tmp_text)], "") else {
        return;
    };
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    let qr = tmp.join("docspace-tfa-setup-qr.png");
    assert!(
        stdout.contains(&format!("saved to {}", qr.display())),
        "{stdout}"
    );
    assert!(stdout.contains("removed "), "{stdout}");
    let left: Vec<_> = std::fs::read_dir(&tmp)
        .expect("read the directory")
        .map(|e| e.map(|e| e.file_name()))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
    let _ = std::fs::remove_dir(&tmp);
}

#[test]
fn the_example_links_an_app_on_a_configured_portal_with_the_code_from_stdin() -> TestResult {
    let portal = portal();
    let id = portal.add_user(NewUser::new("person@example.com", PASSWORD).secret(SECRET))?;
    let token = portal.issue_api_key(&id)?;
    let qr = std::env::temp_dir().join(format!("e2e-example-real-{}.png", std::process::id()));
    let qr_text = qr.to_string_lossy().into_owned();
    let code = format!("{}\n", fixed_code(&portal).expose());
    let env = [
        ("DOCSPACE_URL", portal.base_url()),
        ("DOCSPACE_TOKEN", token.expose()),
        ("DOCSPACE_QR_PNG", qr_text.as_str()),
    ];
    let Some((ok, stdout, stderr)) = run_example(&env, &code) else {
        return Ok(());
    };
    assert!(ok, "stdout:\n{stdout}\nstderr:\n{stderr}");
    assert!(stdout.contains("enter the 6-digit code"));
    assert!(stdout.contains("first activation"));
    assert!(portal.user_state(&id).expect("user").linked);
    let calls: Vec<String> = portal
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method(), r.path()))
        .collect();
    assert_eq!(
        calls,
        [
            "GET settings/tfaapp/confirm",
            "GET settings/tfaapp/setup",
            "POST settings/tfaapp/validate",
            "GET settings/tfaappcodes",
        ]
    );
    let _ = std::fs::remove_file(&qr);

    // A wrong code: a clear error and a non-zero exit, no panic.
    let portal = Emulator::builder().time(T0).start()?;
    let id = portal.add_user(NewUser::new("person@example.com", PASSWORD).secret(SECRET))?;
    let token = portal.issue_api_key(&id)?;
    let wrong = format!(
        "{}
",
        wrong_code(&portal)
    );
    let env = [
        ("DOCSPACE_URL", portal.base_url()),
        ("DOCSPACE_TOKEN", token.expose()),
        ("DOCSPACE_QR_PNG", qr_text.as_str()),
    ];
    let (ok, _, stderr) = run_example(&env, &wrong).expect("built");
    assert!(!ok);
    assert!(stderr.contains("rejected the code"), "{stderr}");
    assert!(!stderr.contains("panicked"));
    let _ = std::fs::remove_file(&qr);
    Ok(())
}

#[test]
fn older_servers_answer_confirm_with_a_bare_url_and_the_key_in_a_cookie() -> TestResult {
    let portal = Emulator::builder()
        .time(T0)
        .legacy_confirm_url(true)
        .start()?;
    let id = portal.add_user(NewUser::new("old@example.com", PASSWORD))?;
    let client = client_for(&portal, &id);
    let data = client.tfa().confirm()?.expect("confirm data");
    assert_eq!(
        data.cookie_name.as_deref(),
        Some("asc_confirm_key_TfaActivation")
    );
    let ticket = ConfirmTicket::from_confirm_data(&data)?;
    let setup = client.tfa().setup_with(&ticket)?;
    assert!(
        client
            .tfa()
            .validate_with(&ticket, code_for(&setup, &portal).expose())?
            .first_activation
    );
    Ok(())
}
