//! The documentation's two calls with just a bearer token, the one-call link, and logging in
//! with a stored TOTP key — against the emulator with its default settings, and against mock
//! servers that behave like the documentation page.

use std::cell::Cell;
use std::time::Duration;

use docspace_tfa::emulator::{Emulator, Fault, NewUser};
use docspace_tfa::totp::{Clock, Totp, TotpKey, SEND_MARGIN_SECONDS};
use docspace_tfa::{Client, ErrorKind, TfaPolicy, TfaType};

type TestResult = Result<(), Box<dyn std::error::Error>>;

/// The start of a 30-second step.
const STEP_START: u64 = 1_700_000_010;
/// A fixed secret for users that start with a linked app.
const SECRET: &[u8] = b"0123456789";
const PASSWORD: &str = "s3cret-pw";

fn client_for(portal: &Emulator, user_id: &str) -> Client {
    let key = portal.issue_api_key(user_id).expect("api key");
    portal.client().expect("client").with_token(key)
}

/// The emulator's code for a setup code's key at its own time.
fn code_at_portal(portal: &Emulator, key: &TotpKey) -> String {
    Totp::docspace()
        .code_at(key, portal.now())
        .expose()
        .to_owned()
}

/// A clock the test controls: `sleep` moves it (and records how long it slept).
struct FakeClock {
    now: Cell<u64>,
    slept: Cell<u64>,
}

impl FakeClock {
    fn at(now: u64) -> FakeClock {
        FakeClock {
            now: Cell::new(now),
            slept: Cell::new(0),
        }
    }
}

impl Clock for FakeClock {
    fn now(&self) -> u64 {
        self.now.get()
    }
    fn sleep(&self, d: Duration) {
        self.slept.set(self.slept.get() + d.as_secs());
        self.now.set(self.now.get() + d.as_secs());
    }
}

// ---------------------------------------------------------------------------------------------
// setup() / validate() with only a bearer token

#[test]
fn the_documentation_calls_work_with_only_a_token_on_the_default_emulator() -> TestResult {
    let portal = Emulator::start()?; // defaults: strict like a real portal
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let client = client_for(&portal, &id);

    let setup = client.tfa().setup()?;
    assert_eq!(setup.account, "john.doe@example.com");
    let code = code_at_portal(&portal, &setup.totp_key()?);
    let validation = client.tfa().validate(&code)?;
    assert!(validation.first_activation);
    assert!(portal.user_state(&id).expect("user").linked);

    // Each call asked for the caller's own ticket and sent it without the token.
    assert_eq!(portal.request_count("GET", "settings/tfaapp/confirm"), 2);
    for r in portal.requests().iter().filter(|r| {
        r.is("GET", "settings/tfaapp/setup") || r.is("POST", "settings/tfaapp/validate")
    }) {
        assert!(!r.has_authorization(), "{r:?}");
        assert!(r.confirm().is_some(), "{r:?}");
    }

    // Linked now: validate re-checks a code with a TfaAuth ticket (false = already linked);
    // setup is refused before it is sent.
    let again = client.tfa().validate(&code)?;
    assert!(!again.first_activation);
    let err = client.tfa().setup().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable, "{err}");
    assert!(err.to_string().contains("already linked"), "{err}");
    assert_eq!(portal.request_count("GET", "settings/tfaapp/setup"), 1);
    Ok(())
}

#[test]
fn tfa_that_does_not_apply_is_its_own_error_kind() -> TestResult {
    let portal = Emulator::builder().app_method_enabled(false).start()?;
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let client = client_for(&portal, &id);
    assert_eq!(client.tfa().confirm()?, None);
    for err in [
        client.tfa().setup().unwrap_err(),
        client.tfa().validate("123456").unwrap_err(),
        client.tfa().link(|_| Ok("123456".into())).unwrap_err(),
    ] {
        assert_eq!(err.kind(), ErrorKind::TfaNotApplicable, "{err}");
        assert_eq!(err.status(), None);
        assert!(err.to_string().starts_with("GET settings/tfaapp/confirm: "));
    }
    assert_eq!(portal.request_count("GET", "settings/tfaapp/setup"), 0);
    assert_eq!(portal.request_count("POST", "settings/tfaapp/validate"), 0);
    Ok(())
}

#[test]
fn a_server_without_tfaapp_confirm_gets_the_bearer_token() -> TestResult {
    // The documentation's server: bearer token on setup and validate, no `tfaapp/confirm`.
    for status in [404, 405, 501] {
        let portal = Emulator::builder()
            .lenient_bearer(true)
            .fault(Fault::status(status).on("GET", "settings/tfaapp/confirm"))
            .start()?;
        let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
        let client = client_for(&portal, &id);
        let setup = client.tfa().setup()?;
        let validation = client
            .tfa()
            .validate(&code_at_portal(&portal, &setup.totp_key()?))?;
        assert!(validation.first_activation, "{status}");
        let validate = portal
            .requests()
            .into_iter()
            .find(|r| r.is("POST", "settings/tfaapp/validate"))
            .expect("validate sent");
        assert!(validate.has_authorization() && validate.confirm().is_none());
    }
    Ok(())
}

#[test]
fn an_html_page_from_tfaapp_confirm_means_no_such_endpoint() {
    let mut server = mockito::Server::new();
    let confirm = server
        .mock("GET", "/api/2.0/settings/tfaapp/confirm")
        .with_header("content-type", "text/html")
        .with_body("<!doctype html><title>DocSpace</title>")
        .create();
    let setup = server
        .mock("GET", "/api/2.0/settings/tfaapp/setup")
        .match_header("authorization", "Bearer sk-doc-page")
        .match_header("confirm", mockito::Matcher::Missing)
        .with_header("content-type", "application/json")
        .with_body(r#"{"response":{"account":"a@b.c","manualEntryKey":"JBSWY3DPEHPK3PXP","qrCodeSetupImageUrl":""}}"#)
        .create();
    let client = Client::builder()
        .base_url(server.url())
        .token("sk-doc-page")
        .build()
        .unwrap();
    assert_eq!(client.tfa().setup().unwrap().account, "a@b.c");
    confirm.assert();
    setup.assert();
}

#[test]
fn a_refused_confirm_is_not_a_missing_endpoint() -> TestResult {
    let portal = Emulator::builder()
        .lenient_bearer(true)
        .fault(Fault::status(403).on("GET", "settings/tfaapp/confirm"))
        .start()?;
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let err = client_for(&portal, &id).tfa().setup().unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Forbidden, Some(403))
    );
    assert_eq!(portal.request_count("GET", "settings/tfaapp/setup"), 0);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// link()

#[test]
fn link_runs_the_whole_flow_and_returns_the_backup_codes() -> TestResult {
    let portal = Emulator::start()?;
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let client = client_for(&portal, &id);

    let mut shown = None;
    let linked = client.tfa().link(|setup| {
        shown = Some(setup.account.clone());
        Ok(code_at_portal(&portal, &setup.totp_key()?))
    })?;
    assert_eq!(shown.as_deref(), Some("john.doe@example.com"));
    assert!(linked.validation.first_activation);
    let state = portal.user_state(&id).expect("user");
    assert!(state.linked);
    assert_eq!(linked.backup_codes.as_ref(), Some(&state.backup_codes));
    assert_eq!(linked.backup_codes_error, None);
    let codes = linked.backup_codes.clone().expect("listed");
    assert_eq!(codes.len(), 5);
    assert_eq!(
        Some(linked.setup.manual_entry_key.clone()),
        state.manual_entry_key
    );
    // No secret in Debug.
    let debug = format!("{linked:?}");
    assert!(!debug.contains(linked.setup.manual_entry_key.expose()));
    assert!(!debug.contains(codes[0].code.expose()));

    // Linking again: refused from the confirm data (a TfaAuth ticket), nothing else sent.
    portal.clear_requests();
    let err = client
        .tfa()
        .link(|_| panic!("no setup code for a linked user"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable, "{err}");
    assert_eq!(portal.requests().len(), 1);
    Ok(())
}

#[test]
fn a_wrong_code_leaves_the_user_unlinked_and_link_can_be_retried() -> TestResult {
    let portal = Emulator::start()?;
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let client = client_for(&portal, &id);
    let err = client.tfa().link(|_| Ok("000000".into())).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCode, "{err}");
    assert!(!portal.user_state(&id).expect("user").linked);
    // The code source can stop the flow before validate.
    let before = portal.request_count("POST", "settings/tfaapp/validate");
    let err = client
        .tfa()
        .link(|_| Err(docspace_tfa::ConfirmTicket::new("", "", "").unwrap_err()))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(
        portal.request_count("POST", "settings/tfaapp/validate"),
        before
    );
    let linked = client.tfa().link_as_authenticator()?;
    assert_eq!(linked.backup_codes.map(|c| c.len()), Some(5));
    Ok(())
}

#[test]
fn a_failure_after_the_activation_keeps_the_key() -> TestResult {
    // The portal links the app, then fails to list the backup codes: the account is linked and
    // the setup code holds the only copy of its key, so `link` returns it.
    let portal = Emulator::start()?;
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    portal.add_fault(Fault::status(500).on("GET", "settings/tfaappcodes"));
    let client = client_for(&portal, &id);
    let linked = client.tfa().link_as_authenticator()?;
    let state = portal.user_state(&id).expect("user");
    assert!(state.linked);
    assert_eq!(
        Some(linked.setup.manual_entry_key.clone()),
        state.manual_entry_key
    );
    assert_eq!(linked.backup_codes, None);
    let (kind, message) = linked.backup_codes_error.clone().expect("the reason");
    assert_eq!(kind, ErrorKind::Server, "{message}");
    assert!(message.contains("settings/tfaappcodes"), "{message}");
    assert!(!message.contains(linked.setup.manual_entry_key.expose()));
    assert!(!format!("{linked:?}").contains(linked.setup.manual_entry_key.expose()));
    // Fetched later, as the documentation says.
    portal.clear_faults();
    assert_eq!(client.tfa().backup_codes()?, state.backup_codes);
    Ok(())
}

#[test]
fn link_fails_when_the_portal_accepts_the_code_without_linking() -> TestResult {
    // The app method is switched off between confirm and validate: validate answers `false`.
    let portal = Emulator::start()?;
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let client = client_for(&portal, &id);
    let err = client
        .tfa()
        .link(|setup| {
            let code = code_at_portal(&portal, &setup.totp_key()?);
            portal.set_policy(&TfaPolicy::new(TfaType::None));
            Ok(code)
        })
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotAvailable, "{err}");
    assert!(err.to_string().contains("linked nothing"), "{err}");
    assert!(!portal.user_state(&id).expect("user").linked);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Login with a stored key

/// A user linked with [`SECRET`] on an emulator whose clock is frozen at `now` and which
/// accepts only the current step's code.
fn strict_portal(now: u64) -> (Emulator, TotpKey) {
    let portal = Emulator::builder()
        .time(now)
        .code_window(0)
        .start()
        .expect("emulator");
    portal
        .add_user(
            NewUser::new("bot@example.com", PASSWORD)
                .secret(SECRET)
                .linked(),
        )
        .expect("user");
    (portal, TotpKey::from_bytes(SECRET).expect("key"))
}

#[test]
fn login_with_a_key_near_the_end_of_a_step_waits_for_the_next_one() -> TestResult {
    // The client computes at 1 s before the step ends; the request arrives 2 s later.
    let computed_at = STEP_START + 29;
    let (portal, key) = strict_portal(computed_at + 2);
    let client = portal.client()?;

    // What a naive client sends: this step's code, expired on arrival.
    let naive = Totp::docspace().code_at(&key, computed_at);
    let err = client
        .auth()
        .login_with_code("bot@example.com", PASSWORD, naive.expose())
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);

    let clock = FakeClock::at(computed_at);
    let session = client
        .auth()
        .login_with_totp_clock("bot@example.com", PASSWORD, &key, &clock)?;
    assert!(!session.token.expose().is_empty());
    assert_eq!(clock.slept.get(), 1, "waited for the next step");
    assert_eq!(portal.request_count("POST", "authentication/{code}"), 2);
    Ok(())
}

#[test]
fn login_with_a_key_early_in_a_step_does_not_wait() -> TestResult {
    let now = STEP_START + 30 - SEND_MARGIN_SECONDS; // exactly the margin left
    let (portal, key) = strict_portal(now);
    let clock = FakeClock::at(now);
    let session =
        portal
            .client()?
            .auth()
            .login_with_totp_clock("bot@example.com", PASSWORD, &key, &clock)?;
    assert!(!session.token.expose().is_empty());
    assert_eq!(clock.slept.get(), 0);
    // A wrong key is refused like a wrong code (401), and empty credentials are not sent.
    let wrong = TotpKey::from_bytes(b"9876543210")?;
    let err = portal
        .client()?
        .auth()
        .login_with_totp_clock("bot@example.com", PASSWORD, &wrong, &clock)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized);
    let err = portal
        .client()?
        .auth()
        .login_with_totp("bot@example.com", "", &key)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidInput);
    assert_eq!(portal.request_count("POST", "authentication/{code}"), 2);
    Ok(())
}

#[test]
fn login_with_a_key_on_the_system_clock() -> TestResult {
    let portal = Emulator::start()?;
    let id = portal.add_user(NewUser::new("bot@example.com", PASSWORD))?;
    let linked = client_for(&portal, &id).tfa().link_as_authenticator()?;
    let key = linked.setup.totp_key()?;
    let session = portal
        .client()?
        .auth()
        .login_with_totp("bot@example.com", PASSWORD, &key)?;
    let client = portal.client()?.with_token(session.token);
    assert_eq!(client.tfa().backup_codes()?.len(), 5);
    Ok(())
}
