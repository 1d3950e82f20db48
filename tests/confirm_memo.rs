//! A client remembers that its server has no `tfaapp/confirm`: the token-only `setup()` and
//! `validate()` ask for the caller's ticket once, and on a server that answers `404`, `405`,
//! `501` or not with confirm data, later calls go straight to the bearer-token request — until a
//! bearer-token request is refused with `401` or `403`, which is what a real portal answers;
//! then the next call asks again. See docs/flow.md.

use docspace_tfa::emulator::{Emulator, Fault, NewUser};
use docspace_tfa::totp::{Totp, TotpKey};
use docspace_tfa::{Client, ErrorKind, RetryPolicy};
use serde_json::json;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const PASSWORD: &str = "s3cret-pw";

fn code_at_portal(portal: &Emulator, key: &TotpKey) -> String {
    Totp::docspace()
        .code_at(key, portal.now())
        .expose()
        .to_owned()
}

#[test]
fn a_server_without_tfaapp_confirm_is_asked_once_per_client() -> TestResult {
    for status in [404, 405, 501] {
        // The documentation page's server: bearer token on setup and validate, no confirm.
        let portal = Emulator::builder()
            .lenient_bearer(true)
            .fault(Fault::status(status).on("GET", "settings/tfaapp/confirm"))
            .start()?;
        let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
        let key = portal.issue_api_key(&id)?;
        let client = portal.client()?.with_token(key);

        let setup = client.tfa().setup()?;
        let again = client.tfa().setup()?;
        assert_eq!(setup, again);
        // A clone and a client derived from it share what was learned (the same portal).
        let clone = client.clone();
        let validation = clone
            .tfa()
            .validate(&code_at_portal(&portal, &setup.totp_key()?))?;
        assert!(validation.first_activation, "{status}");
        assert_eq!(
            portal.request_count("GET", "settings/tfaapp/confirm"),
            1,
            "{status}: the failed confirm request is not repeated"
        );
        assert_eq!(portal.request_count("GET", "settings/tfaapp/setup"), 2);
        assert_eq!(portal.request_count("POST", "settings/tfaapp/validate"), 1);

        // A new client knows nothing yet.
        let fresh = portal.client()?.with_token(portal.issue_api_key(&id)?);
        let err = fresh.tfa().validate("000000").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidCode, "{err}");
        assert_eq!(portal.request_count("GET", "settings/tfaapp/confirm"), 2);
    }
    Ok(())
}

#[test]
fn a_portal_with_tfaapp_confirm_is_asked_every_time() -> TestResult {
    let portal = Emulator::start()?;
    let id = portal.add_user(NewUser::new("john.doe@example.com", PASSWORD))?;
    let client = portal.client()?.with_token(portal.issue_api_key(&id)?);
    let setup = client.tfa().setup()?;
    client.tfa().setup()?;
    let validation = client
        .tfa()
        .validate(&code_at_portal(&portal, &setup.totp_key()?))?;
    assert!(validation.first_activation);
    // Each call fetched a fresh ticket: nothing is remembered about a confirm that works.
    assert_eq!(portal.request_count("GET", "settings/tfaapp/confirm"), 3);
    Ok(())
}

#[test]
fn a_refused_bearer_request_makes_the_client_ask_for_a_ticket_again() {
    // A real portal behind a proxy that once answered 404 for `tfaapp/confirm`: the bearer
    // request that follows is refused (403) and the client stops skipping the confirm request.
    let mut server = mockito::Server::new();
    let confirm_missing = server
        .mock("GET", "/api/2.0/settings/tfaapp/confirm")
        .with_status(404)
        .expect(1)
        .create();
    let refused = server
        .mock("POST", "/api/2.0/settings/tfaapp/validate")
        .match_header("authorization", "Bearer sk-memo")
        .with_status(403)
        .with_header("content-type", "application/json")
        .with_body(
            json!({"error": {"message": "Access denied", "type": "System.Security.SecurityException"}, "status": 1, "statusCode": 403})
                .to_string(),
        )
        .expect(1)
        .create();
    let client = Client::builder()
        .base_url(server.url())
        .token("sk-memo")
        .retry(RetryPolicy::none())
        .build()
        .expect("client");

    // First call: confirm 404, then the bearer request, refused: the memo is dropped.
    let err = client.tfa().validate("123456").unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Forbidden, "{err}");
    confirm_missing.assert();
    confirm_missing.remove();

    // The portal's confirm works now: the next call asks for it again and uses the ticket.
    let confirm = server
        .mock("GET", "/api/2.0/settings/tfaapp/confirm")
        .with_header("content-type", "application/json")
        .with_body(
            json!({"response": {
                "url": format!("{}/confirm/TfaActivation?type=TfaActivation&uid=66faa6e4-f133-11ea-b126-00ffeec8b4ef", server.url()),
                "cookieName": "asc_confirm_key_TfaActivation",
                "cookieValue": "638712345678901234.Hq3VbKm0Xz7pWnYc2e4RtUoIaSdFgJ"
            }, "count": 1, "status": 0, "statusCode": 200})
            .to_string(),
        )
        .expect(1)
        .create();
    let with_ticket = server
        .mock("POST", "/api/2.0/settings/tfaapp/validate")
        .match_header("authorization", mockito::Matcher::Missing)
        .match_header(
            "confirm",
            mockito::Matcher::Regex("^type=TfaActivation&uid=66faa6e4".into()),
        )
        .with_header("content-type", "application/json")
        .with_body(r#"{"response":true,"count":1,"status":0,"statusCode":200}"#)
        .expect(1)
        .create();
    let validation = client
        .tfa()
        .validate("123456")
        .expect("validate with the ticket");
    assert!(validation.first_activation);
    confirm.assert();
    with_ticket.assert();
    // The bearer request was sent once, by the first call.
    refused.assert();
}
