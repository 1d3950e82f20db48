//! Errors that say what to do next (`Error::advice`, the end of `Display`), each against the
//! answer a real portal (or the network in front of it) gives: the framework's empty `401`, the
//! empty `404` of a base URL with a wrong path, `503`s through the retries, a host name that
//! does not resolve, and the portal's attempt locks, whose text says "too many text messages"
//! even for an app code (`docs/server.md`).

mod support;

use docspace_tfa::emulator::{Emulator, NewUser, TicketType};
use docspace_tfa::totp::{Totp, TotpKey};
use docspace_tfa::{Advice, Client, ConfirmTicket, Error, ErrorKind, RetryPolicy};
use support::{brute_force_lock, client, retrying_client, CONFIRM_KEY, JSON, TOKEN, USER_ID};

fn ticket() -> ConfirmTicket {
    ConfirmTicket::new("TfaActivation", USER_ID, CONFIRM_KEY).expect("a complete ticket")
}

/// One answer of a mock portal and what the call's error must say.
struct Case {
    name: &'static str,
    status: usize,
    body: String,
    ticket: bool,
    kind: ErrorKind,
    advice: Advice,
    says: &'static str,
}

#[test]
fn an_answer_that_tells_more_than_its_status_gets_advice() {
    let cases = [
        Case {
            name: "the framework's 401 to a bearer token",
            status: 401,
            body: String::new(),
            ticket: false,
            kind: ErrorKind::Unauthorized,
            advice: Advice::TokenRefused,
            says: "HTTP 401 (empty body); the portal refused the bearer token: check the token",
        },
        Case {
            name: "the framework's 401 to a confirm ticket",
            status: 401,
            body: String::new(),
            ticket: true,
            kind: ErrorKind::Unauthorized,
            advice: Advice::TicketRefused,
            says: "the portal refused the confirm ticket: it is wrong or expired",
        },
        Case {
            name: "an empty 404: no API under this base URL",
            status: 404,
            body: String::new(),
            ticket: false,
            kind: ErrorKind::NotFound,
            advice: Advice::NoApiAtUrl,
            says: "HTTP 404 (empty body); no DocSpace API at this URL: check the base URL, \
                   which should be the portal's root",
        },
        Case {
            name: "the attempt lock of validate, worded for SMS",
            status: 403,
            body: brute_force_lock(),
            ticket: true,
            kind: ErrorKind::RateLimited,
            advice: Advice::CodeLock,
            says: "You have sent too many text messages. Please try again later.; this is the \
                   portal's attempt lock, whatever its text says",
        },
    ];
    for case in cases {
        let mut server = mockito::Server::new();
        let (method, path) = if case.ticket {
            ("POST", "/api/2.0/settings/tfaapp/validate")
        } else {
            ("GET", "/api/2.0/settings/tfaapp")
        };
        let mock = server
            .mock(method, path)
            .with_status(case.status)
            .with_header("content-type", JSON)
            .with_body(&case.body)
            .expect(1)
            .create();
        let client = client(&server);
        let err = if case.ticket {
            client
                .tfa()
                .validate_with(&ticket(), "123456")
                .map(|_| ())
                .unwrap_err()
        } else {
            client.tfa().methods().map(|_| ()).unwrap_err()
        };
        mock.assert();
        assert_eq!(err.kind(), case.kind, "{}: {err}", case.name);
        assert_eq!(err.advice(), Some(&case.advice), "{}: {err}", case.name);
        assert!(err.to_string().contains(case.says), "{}: {err}", case.name);
        // The same words in `Debug`, which is what `main() -> Result` prints.
        assert!(
            format!("{err:?}").contains(case.says),
            "{}: {err:?}",
            case.name
        );
    }
}

#[test]
fn a_401_or_404_with_the_portals_own_body_gets_no_guess() {
    // Wrong credentials at login carry the portal's message: the status says it all.
    let mut server = mockito::Server::new();
    server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_status(404)
        .with_header("content-type", JSON)
        .with_body(support::error_envelope(
            404,
            "The user could not be found",
            None,
        ))
        .create();
    let err = client(&server).tfa().methods().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert_eq!(err.advice(), None, "{err}");
    assert!(!err.to_string().contains("base URL"), "{err}");
}

#[test]
fn a_503_through_the_retries_says_how_many_attempts_over_how_long() {
    let mut server = mockito::Server::new();
    let mock = server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_status(503)
        .expect(3)
        .create();
    let client = retrying_client(&server);
    let err = client.tfa().methods().unwrap_err();
    mock.assert();
    assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(503)));
    assert_eq!(err.attempts(), 3);
    assert_eq!(err.advice(), Some(&Advice::Unavailable));
    let text = err.to_string();
    assert!(
        text.starts_with("GET settings/tfaapp: HTTP 503 (empty body); 3 attempts over "),
        "{text}"
    );
    assert!(
        text.ends_with(
            " s; the portal (or the proxy in front of it) cannot answer now; try again later"
        ),
        "{text}"
    );

    // Without retries: one attempt, not worth a word.
    let err = support::client(&server).tfa().methods().unwrap_err();
    assert_eq!(err.attempts(), 1);
    assert!(!err.to_string().contains("attempts"), "{err}");
}

#[test]
fn a_host_name_that_does_not_resolve_is_named() {
    // `.invalid` never resolves (RFC 6761).
    let client = Client::builder()
        .base_url("https://portal.example.invalid")
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let err = client.tfa().methods().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(
        err.advice(),
        Some(&Advice::HostNotFound {
            host: "portal.example.invalid".into()
        }),
        "{err}"
    );
    assert!(
        err.to_string().contains(
            "; the host name portal.example.invalid does not resolve: check the host in the \
             base URL"
        ),
        "{err}"
    );
}

fn expect_err<T>(r: Result<T, Error>) -> Error {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e,
    }
}

#[test]
fn the_emulators_locks_are_explained_and_a_correct_code_fails_too() {
    const SECRET: &[u8] = b"0123456789";
    let portal = Emulator::builder().time(1_700_000_000).start().unwrap();
    let id = portal
        .add_user(NewUser::new("guess@example.com", "pw-Pa55").secret(SECRET))
        .unwrap();
    let ticket = portal.ticket(&id, TicketType::TfaActivation).unwrap();
    let client = portal.client().unwrap();
    let key = TotpKey::from_bytes(SECRET).unwrap();
    let right = Totp::docspace().code_at(&key, portal.now());
    let wrong = if right.expose() == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        let err = expect_err(client.tfa().validate_with(&ticket, wrong));
        assert_eq!(err.kind(), ErrorKind::InvalidCode);
        assert_eq!(err.advice(), None);
    }
    let err = expect_err(client.tfa().validate_with(&ticket, right.expose()));
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::RateLimited, Some(403))
    );
    assert_eq!(err.advice(), Some(&Advice::CodeLock));
    let text = err.to_string();
    assert!(
        text.contains("too many text messages"),
        "the server's text is kept: {text}"
    );
    assert!(text.contains("a correct one too"), "{text}");
    assert!(text.contains("wait a minute"), "{text}");

    // The login lock: five wrong passwords, then the right one is refused too.
    let id = portal
        .add_user(NewUser::new("plain@example.com", "right-Pa55"))
        .unwrap();
    assert!(!id.is_empty());
    for _ in 0..5 {
        let err = expect_err(client.auth().login("plain@example.com", "wrong"));
        assert_eq!(err.kind(), ErrorKind::Unauthorized);
        assert_eq!(err.advice(), None, "a 401 with the portal's message: {err}");
    }
    let err = expect_err(client.auth().login("plain@example.com", "right-Pa55"));
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(err.advice(), Some(&Advice::LoginLock));
    assert!(err.to_string().contains("the right password too"), "{err}");
}

#[test]
fn a_refused_login_with_a_code_says_the_portal_hides_why() {
    const SECRET: &[u8] = b"0123456789";
    let portal = Emulator::builder().time(1_700_000_000).start().unwrap();
    portal
        .add_user(
            NewUser::new("linked@example.com", "pw-Pa55")
                .secret(SECRET)
                .linked(),
        )
        .unwrap();
    let client = portal.client().unwrap();
    let key = TotpKey::from_bytes(SECRET).unwrap();
    let right = Totp::docspace().code_at(&key, portal.now());
    let wrong = if right.expose() == "000000" {
        "111111"
    } else {
        "000000"
    };
    let err = expect_err(
        client
            .auth()
            .login_with_code("linked@example.com", "pw-Pa55", wrong),
    );
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Unauthorized, Some(401))
    );
    assert_eq!(err.advice(), Some(&Advice::CodeLoginRefused));
    assert!(
        err.server_message().is_some(),
        "the portal's own text is kept"
    );
    assert!(
        err.to_string()
            .contains("the portal does not say why a login with a code fails"),
        "{err}"
    );
    // A right code logs in: the advice was about that one refusal.
    assert!(client
        .auth()
        .login_with_code("linked@example.com", "pw-Pa55", right.expose())
        .is_ok());
}

#[test]
fn the_readmes_main_prints_one_readable_line() {
    // README, Quick start: what `fn main() -> Result<(), docspace_tfa::Error>` prints when the
    // token is refused (Rust prints `Error: {:?}`).
    let portal = Emulator::builder().start().unwrap();
    let client = portal
        .client()
        .unwrap()
        .with_token("sk-refused-by-this-portal");
    let err = expect_err(client.tfa().setup());
    let printed = format!("Error: {err:?}");
    assert_eq!(
        printed,
        "Error: Error { kind: Unauthorized, operation: \"GET settings/tfaapp/confirm\", status: \
         401, message: \"GET settings/tfaapp/confirm: HTTP 401 (empty body); the portal refused \
         the bearer token: check the token (wrong, revoked, expired, or of another portal?)\" }"
    );
    let readme = include_str!("../README.md");
    assert!(readme.contains(&printed), "the README shows it as printed");
    assert!(!printed.contains("sk-refused"), "no secret: {printed}");
}
