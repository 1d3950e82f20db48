//! The SMS factor end to end against the emulator: no phone → `setphone` → the outbox → the
//! login with the code; resends and their limit; expiry on the virtual clock; the check limit;
//! backup codes refused; the `phoneNoise` defect on (the default) and off; the outbox over
//! HTTP and the server's error shapes.
#![cfg(feature = "emulator")]

use std::time::Duration;

use docspace_tfa::emulator::{Emulator, NewUser, TicketType};
use docspace_tfa::{Advice, Client, ConfirmTicket, ErrorKind, LoginOutcome, TfaPolicy, TfaType};
use serde_json::Value;

const T0: u64 = 1_700_000_000;
const PASSWORD: &str = "correct horse battery staple";
const USER: &str = "sms@example.com";
/// 9 digits: the server masks it right (`+1234*6789`).
const SHORT: &str = "+123 456 789";
/// 11 digits: the server's mask throws (`phoneNoise` defect).
const LONG: &str = "+1 (234) 567-8901";

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// An SMS portal (frozen clock) with one member, and an anonymous client.
fn sms_portal(defect: bool, user: NewUser) -> (Emulator, String, Client) {
    let portal = Emulator::builder()
        .time(T0)
        .phone_noise_defect(defect)
        .start()
        .expect("emulator starts");
    portal.set_policy(&TfaPolicy::new(TfaType::Sms));
    let id = portal.add_user(user).expect("user added");
    let client = portal.client().expect("client");
    (portal, id, client)
}

fn phone_ticket(client: &Client) -> ConfirmTicket {
    match client.auth().login(USER, PASSWORD).expect("login") {
        LoginOutcome::SmsPhoneRequired { ticket } => ticket,
        other => panic!("expected SmsPhoneRequired, got {other:?}"),
    }
}

fn code(portal: &Emulator, phone: &str) -> String {
    portal
        .last_sms_code(phone)
        .expect("a code was sent")
        .expose()
        .to_owned()
}

/// `GET people/@self` as raw JSON (the crate's `Me` reads only what the TFA flows need).
fn me_json(portal: &Emulator, token: &str) -> Value {
    let mut r = ureq::get(&format!("{}/api/2.0/people/@self", portal.base_url()))
        .header("Authorization", token)
        .call()
        .expect("people/@self");
    let body: Value =
        serde_json::from_str(&r.body_mut().read_to_string().expect("body")).expect("JSON");
    body["response"].clone()
}

fn wrong(code: &str) -> &'static str {
    if code == "999999" {
        "111111"
    } else {
        "999999"
    }
}

#[test]
fn no_phone_then_setphone_outbox_and_login_with_the_code() -> TestResult {
    for defect in [true, false] {
        let (portal, id, client) = sms_portal(defect, NewUser::new(USER, PASSWORD));
        let ticket = phone_ticket(&client);
        assert!(ticket.is_phone_activation() && ticket.encemail().is_some());
        assert!(
            portal.sms_outbox().is_empty(),
            "the login sends nothing yet"
        );
        let key = portal.issue_api_key(&id)?;
        let me = me_json(&portal, key.expose());
        assert!(me.get("mobilePhone").is_none(), "{me}");
        assert_eq!(me["mobilePhoneActivationStatus"], 0);
        // A client with a token of its own still sends the ticket alone.
        let sent = client.with_token(key).auth().set_phone(&ticket, SHORT)?;
        assert_eq!(sent.phone_noise.as_deref(), Some("+1234*6789"));
        assert!(sent.expires.is_some() && !sent.server_mask_failed);
        let outbox = portal.sms_outbox();
        assert_eq!(outbox.len(), 1);
        let sms = &outbox[0];
        assert_eq!((sms.phone.as_str(), sms.sent_at), ("123456789", T0));
        assert_eq!(sms.code.expose().len(), 6);
        assert_eq!(sms.text.expose(), format!("Code: {}", sms.code.expose()));
        assert!(!format!("{sms:?}").contains("123456789"), "{sms:?}");
        let state = portal.user_state(&id).expect("user");
        assert_eq!(
            (state.phone.as_deref(), state.phone_activated),
            (Some("123456789"), false)
        );

        let session =
            client
                .auth()
                .login_with_sms_code(USER, PASSWORD, sms.code.expose(), &sent)?;
        assert!(portal.user_state(&id).expect("user").phone_activated);
        let me = me_json(&portal, session.token.expose());
        assert_eq!(me["mobilePhone"], "123456789");
        assert_eq!(me["mobilePhoneActivationStatus"], 1);
        // The code is spent with its set.
        let again = client
            .auth()
            .login_with_code(USER, PASSWORD, sms.code.expose())
            .unwrap_err();
        assert_eq!(again.kind(), ErrorKind::Unauthorized);

        // Phone activated: the next login sends a code itself.
        let LoginOutcome::SmsCodeSent(sent) = client.auth().login(USER, PASSWORD)? else {
            panic!("expected SmsCodeSent");
        };
        assert_eq!(sent.phone_noise.as_deref(), Some("+1234*6789"));
        assert_eq!(portal.sms_outbox().len(), 2);
        let session = client
            .auth()
            .login_with_code(USER, PASSWORD, &code(&portal, SHORT))?;
        assert_eq!(portal.user_state(&id).expect("user").sessions, 2);
        drop(session);
    }
    Ok(())
}

#[test]
fn long_number_with_the_defect_sends_then_cannot_finish() -> TestResult {
    let (portal, id, client) = sms_portal(true, NewUser::new(USER, PASSWORD));
    let ticket = phone_ticket(&client);
    let sent = client.auth().set_phone(&ticket, LONG)?;
    assert!(sent.server_mask_failed && sent.hits_server_defect());
    assert_eq!(sent.phone_noise.as_deref(), Some("+1234***8901"));
    assert_eq!(
        portal.sms_outbox().len(),
        1,
        "the SMS went out before the 400"
    );
    let right = code(&portal, LONG);
    let err = client
        .auth()
        .login_with_sms_code(USER, PASSWORD, &right, &sent)
        .unwrap_err();
    assert!(err.is_server_defect(), "{err}");
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Unauthorized, Some(401))
    );
    assert!(err.to_string().contains("authenticator app"), "{err}");
    // The explanation is the error's advice too, the end of its message.
    assert_eq!(err.advice(), Some(&Advice::SmsPhoneNoiseDefect));
    assert!(err
        .to_string()
        .ends_with(&format!("; {}", Advice::SmsPhoneNoiseDefect)));
    // What the server did anyway: the phone activated, a session opened and lost.
    let state = portal.user_state(&id).expect("user");
    assert!(state.phone_activated);
    assert_eq!(state.sessions, 1);
    // The login and the resend hit the same defect, and are still "sent".
    let LoginOutcome::SmsCodeSent(again) = client.auth().login(USER, PASSWORD)? else {
        panic!("expected SmsCodeSent");
    };
    assert!(again.server_mask_failed && again.phone_noise.is_none());
    assert!(client.auth().send_sms(USER, PASSWORD)?.server_mask_failed);
    assert_eq!(portal.sms_outbox().len(), 3);
    // A wrong code after the defect is told apart only by what the caller knows.
    let err = client
        .auth()
        .login_with_sms_code(USER, PASSWORD, wrong(&code(&portal, LONG)), &again)
        .unwrap_err();
    assert!(err.is_server_defect());
    Ok(())
}

#[test]
fn long_number_on_a_fixed_server_finishes() -> TestResult {
    let (portal, _, client) = sms_portal(false, NewUser::new(USER, PASSWORD));
    let sent = client.auth().set_phone(&phone_ticket(&client), LONG)?;
    assert_eq!(sent.phone_noise.as_deref(), Some("+1234***8901"));
    assert!(!sent.server_mask_failed && !sent.hits_server_defect());
    let session = client
        .auth()
        .login_with_code(USER, PASSWORD, &code(&portal, LONG))?;
    assert!(!session.token.expose().is_empty());
    Ok(())
}

#[test]
fn short_numbers_are_never_shown_whole() -> TestResult {
    // The server's mask gives 7 digits back raw and 8 digits less their last one.
    for (phone, shown) in [("555-0123", "+*****23"), ("5550 1234", "+*****23")] {
        let (portal, _, client) = sms_portal(true, NewUser::new(USER, PASSWORD));
        let sent = client.auth().set_phone(&phone_ticket(&client), phone)?;
        assert_eq!(sent.phone_noise.as_deref(), Some(shown), "{phone}");
        drop(portal);
        // An activated phone: the login and a resend.
        let (portal, _, client) = sms_portal(true, NewUser::new(USER, PASSWORD).phone(phone));
        let LoginOutcome::SmsCodeSent(sent) = client.auth().login(USER, PASSWORD)? else {
            panic!("expected SmsCodeSent");
        };
        assert_eq!(sent.phone_noise.as_deref(), Some(shown), "{phone}");
        let resent = client.auth().send_sms(USER, PASSWORD)?;
        assert_eq!(resent.phone_noise.as_deref(), Some(shown), "{phone}");
        assert!(!format!("{resent:?}").contains("0123"), "{resent:?}");
        drop(portal);
    }
    Ok(())
}

/// `POST authentication/setphone` with exactly this `Confirm` header: the status.
fn raw_setphone(portal: &Emulator, confirm: &str, phone: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    agent
        .post(&format!(
            "{}/api/2.0/authentication/setphone",
            portal.base_url()
        ))
        .header("Confirm", confirm)
        .header("Content-Type", "application/json")
        .send(serde_json::json!({ "mobilePhone": phone }).to_string())
        .expect("the emulator answers")
        .status()
        .as_u16()
}

#[test]
fn a_phone_ticket_is_checked_by_its_email_and_a_uid_picks_the_user() -> TestResult {
    // As the server's confirm handler does: the key is signed over the e-mail alone, and a
    // `uid` in the header names the user the phone is set for.
    let (portal, id, client) = sms_portal(true, NewUser::new(USER, PASSWORD));
    let other = portal.add_user(NewUser::new("other@example.com", PASSWORD))?;
    let ticket = phone_ticket(&client);
    let url = ticket.url().expect("url");
    let query = url.split_once('?').map(|(_, q)| q).expect("a query");
    assert_eq!(
        raw_setphone(&portal, &format!("{query}&uid={other}"), SHORT),
        200
    );
    let state = portal.user_state(&other).expect("user");
    assert_eq!(state.phone.as_deref(), Some("123456789"));
    assert_eq!(portal.user_state(&id).expect("user").phone, None);
    // Without the e-mail the key names nobody, whatever the uid.
    let without_email: String = query
        .split('&')
        .filter(|p| !p.starts_with("encemail="))
        .collect::<Vec<_>>()
        .join("&");
    assert_eq!(
        raw_setphone(&portal, &format!("{without_email}&uid={id}"), SHORT),
        401
    );
    Ok(())
}

#[test]
fn a_code_named_like_a_route_sends_no_sms() -> TestResult {
    let (portal, _, client) = sms_portal(true, NewUser::new(USER, PASSWORD).phone(SHORT));
    for code in ["SendSms", "logout"] {
        let err = client
            .auth()
            .login_with_code(USER, PASSWORD, code)
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unauthorized, "{code}: {err}");
    }
    assert!(portal.sms_outbox().is_empty(), "no resend was asked for");
    Ok(())
}

#[test]
fn resends_keep_older_codes_until_the_limit() -> TestResult {
    let (portal, _, client) = sms_portal(true, NewUser::new(USER, PASSWORD).phone(SHORT));
    assert!(matches!(
        client.auth().login(USER, PASSWORD)?,
        LoginOutcome::SmsCodeSent(_)
    ));
    let first = code(&portal, SHORT);
    // A second login within the code's life sends nothing new.
    client.auth().login(USER, PASSWORD)?;
    assert_eq!(portal.sms_outbox().len(), 1);
    // The first code and 5 resends; the 6th resend is refused.
    for n in 2..=6 {
        client.auth().send_sms(USER, PASSWORD)?;
        assert_eq!(portal.sms_outbox().len(), n);
    }
    let err = client.auth().send_sms(USER, PASSWORD).unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(500)));
    assert!(err.to_string().contains("too many text messages"), "{err}");
    // Every unexpired code of the set is accepted: the first one too.
    client.auth().login_with_code(USER, PASSWORD, &first)?;
    // Ten minutes after the last code, a new set starts.
    portal.advance(Duration::from_secs(601));
    client.auth().send_sms(USER, PASSWORD)?;
    assert_eq!(portal.sms_outbox().len(), 7);
    Ok(())
}

#[test]
fn codes_expire_after_ten_minutes() -> TestResult {
    let (portal, _, client) = sms_portal(true, NewUser::new(USER, PASSWORD).phone(SHORT));
    client.auth().login(USER, PASSWORD)?;
    let old = code(&portal, SHORT);
    portal.advance(Duration::from_secs(599));
    client.auth().send_sms(USER, PASSWORD)?;
    portal.advance(Duration::from_secs(2));
    // The set lives on (its latest code is young); the old code has expired, and finding it
    // deletes the whole set, the young code included.
    let err = client
        .auth()
        .login_with_code(USER, PASSWORD, &old)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    let young = code(&portal, SHORT);
    assert!(client
        .auth()
        .login_with_code(USER, PASSWORD, &young)
        .is_err());
    Ok(())
}

#[test]
fn five_wrong_checks_lock_the_phone() -> TestResult {
    let (portal, _, client) = sms_portal(true, NewUser::new(USER, PASSWORD).phone(SHORT));
    client.auth().login(USER, PASSWORD)?;
    let right = code(&portal, SHORT);
    for _ in 0..5 {
        portal.advance(Duration::from_secs(61)); // past the login lock's minute
        assert!(client
            .auth()
            .login_with_code(USER, PASSWORD, wrong(&right))
            .is_err());
    }
    portal.advance(Duration::from_secs(61));
    let err = client
        .auth()
        .login_with_code(USER, PASSWORD, &right)
        .unwrap_err();
    assert_eq!(
        err.kind(),
        ErrorKind::Unauthorized,
        "hidden as every failure"
    );
    Ok(())
}

#[test]
fn backup_codes_are_not_sms_codes() -> TestResult {
    let (portal, id, client) = sms_portal(true, NewUser::new(USER, PASSWORD).phone(SHORT).linked());
    let backup = portal.user_state(&id).expect("user").backup_codes[0]
        .code
        .expose()
        .to_owned();
    client.auth().login(USER, PASSWORD)?;
    let err = client
        .auth()
        .login_with_code(USER, PASSWORD, &backup)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    assert!(!portal.user_state(&id).expect("user").backup_codes[0].is_used);
    Ok(())
}

/// A signed-in member the SMS policy applies to gets the phone link from `tfaapp/confirm`
/// (`TfaappController.cs:151-158`): a ticket for `setphone`, the key in the URL.
#[test]
fn confirm_data_of_an_sms_member_is_a_phone_ticket() -> TestResult {
    let (portal, id, client) = sms_portal(true, NewUser::new(USER, PASSWORD));
    let client = client.with_token(portal.issue_api_key(&id)?);
    let data = client.tfa().confirm()?.expect("SMS applies");
    assert!(data.url.contains("/confirm/PhoneActivation?") && data.cookie_value.is_none());
    let ticket = ConfirmTicket::from_confirm_data(&data)?;
    assert!(ticket.is_phone_activation());
    let sent = client.auth().set_phone(&ticket, SHORT)?;
    assert_eq!(sent.phone_noise.as_deref(), Some("+1234*6789"));
    assert_eq!(portal.sms_outbox().len(), 1);
    Ok(())
}

#[test]
fn setphone_refusals() -> TestResult {
    let (portal, id, client) = sms_portal(true, NewUser::new(USER, PASSWORD));
    // A ticket of another role: 403.
    let tfa = portal.ticket(&id, TicketType::TfaActivation)?;
    let err = client.auth().set_phone(&tfa, SHORT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden);
    // An expired ticket (an hour): 401.
    let ticket = phone_ticket(&client);
    portal.advance(Duration::from_secs(3601));
    let err = client.auth().set_phone(&ticket, SHORT).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    // A minted ticket works like the login's; once activated, the number cannot be replaced.
    let ticket = portal.ticket(&id, TicketType::PhoneActivation)?;
    assert!(ticket.is_phone_activation() && ticket.uid().is_empty());
    let sent = client.auth().set_phone(&ticket, SHORT)?;
    client
        .auth()
        .login_with_sms_code(USER, PASSWORD, &code(&portal, SHORT), &sent)?;
    let err = client.auth().set_phone(&ticket, "+987654321").unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(500)));
    assert!(
        err.to_string().contains("delete your current phone number"),
        "{err}"
    );
    Ok(())
}

/// `sendsms` refusals as the server words them: no phone (`400`), SMS not applying (`500`
/// `MethodAccessException`), wrong password (`401`); nothing is sent.
#[test]
fn sendsms_refusals() -> TestResult {
    let (portal, _, client) = sms_portal(true, NewUser::new(USER, PASSWORD));
    let err = client.auth().send_sms(USER, PASSWORD).unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::BadRequest, Some(400))
    );
    assert_eq!(err.error_type(), Some("System.ArgumentException"));
    let err = client.auth().send_sms(USER, "wrong").unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Unauthorized, Some(401))
    );
    portal.set_policy(&TfaPolicy::new(TfaType::App));
    let err = client.auth().send_sms(USER, PASSWORD).unwrap_err();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(500)));
    assert_eq!(err.error_type(), Some("System.MethodAccessException"));
    assert!(portal.sms_outbox().is_empty());
    Ok(())
}

/// `GET /_emulator/sms`, the route a test in any language reads codes from; the server's
/// error shapes on the wire.
#[test]
fn outbox_over_http_and_error_shapes() -> TestResult {
    let (portal, _, client) = sms_portal(true, NewUser::new(USER, PASSWORD).phone(LONG));
    let sent = client.auth().login(USER, PASSWORD)?;
    assert!(matches!(sent, LoginOutcome::SmsCodeSent(ref s) if s.server_mask_failed));
    let url = portal.sms_outbox_url();
    assert_eq!(url, format!("{}/_emulator/sms", portal.base_url()));
    let agent = ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .build(),
    );
    let mut r = agent.get(&url).call()?;
    assert_eq!(r.status(), 200);
    let body: Value = serde_json::from_str(&r.body_mut().read_to_string()?)?;
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    let code = m["code"].as_str().expect("code").to_owned();
    assert_eq!(m["phone"], "12345678901");
    assert_eq!(m["text"], format!("Code: {code}"));
    assert_eq!(m["sentAt"], T0);
    assert_eq!(agent.post(&url).send_empty()?.status(), 405);

    let api = |path: &str| format!("{}/api/2.0/{path}", portal.base_url());
    let creds = serde_json::json!({"userName": USER, "password": PASSWORD, "code": code});
    // The defect: 400 ArgumentOutOfRangeException with its stack.
    let post = |path: &str| {
        agent
            .post(&api(path))
            .header("Content-Type", "application/json")
            .send(creds.to_string())
    };
    let mut r = post("authentication")?;
    assert_eq!(r.status(), 400);
    let e: Value = serde_json::from_str(&r.body_mut().read_to_string()?)?;
    assert_eq!(e["error"]["type"], "System.ArgumentOutOfRangeException");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with("(Parameter 'startIndex')"));
    assert!(e["error"]["stack"].is_string() && e["error"]["hresult"] == -2146233086i64);
    // The right code with the defect: 401, nulls kept, no cookie.
    let mut r = post("authentication/x")?;
    assert_eq!(r.status(), 401);
    assert!(r.headers().get("set-cookie").is_none());
    let e: Value = serde_json::from_str(&r.body_mut().read_to_string()?)?;
    assert_eq!(
        e,
        serde_json::json!({"error": {"message": "User authentication failed", "type": null,
            "stack": null, "hresult": 0}, "status": 1, "statusCode": 401})
    );
    Ok(())
}
