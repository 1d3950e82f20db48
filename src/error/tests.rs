//! `Error`'s texts, kinds, advice and `Debug`.

use super::*;

fn assert_send_sync<T: Send + Sync + 'static>() {}

#[test]
fn error_is_send_sync_static() {
    assert_send_sync::<Error>();
}

fn status(status: u16, kind: ErrorKind, message: Option<&str>, snippet: &str) -> Error {
    Error::status_error(StatusError {
        operation: "PUT settings/tfaapp".into(),
        status,
        kind,
        message: message.map(str::to_owned),
        error_type: None,
        snippet: snippet.into(),
        retry_after: None,
        html: snippet.starts_with("<html>"),
        recognized: None,
    })
}

#[test]
fn display_is_lowercase_and_informative() {
    let e = status(400, ErrorKind::InvalidCode, Some("Incorrect code"), "");
    assert_eq!(
        e.to_string(),
        "PUT settings/tfaapp: HTTP 400: Incorrect code"
    );
    assert_eq!(e.operation(), Some("PUT settings/tfaapp"));
    assert_eq!(e.server_message(), Some("Incorrect code"));
    assert!(!e.is_html());
    let e = status(403, ErrorKind::Forbidden, None, "");
    assert_eq!(e.to_string(), "PUT settings/tfaapp: HTTP 403 (empty body)");
    assert_eq!(e.body_snippet(), None);
    let page = "<html> <head><title>502 Bad Gateway</title></head>";
    let e = status(502, ErrorKind::Server, None, page);
    assert_eq!(
        e.to_string(),
        "PUT settings/tfaapp: HTTP 502 Bad Gateway: an HTML page from a proxy or gateway, \
         not the portal's JSON"
    );
    assert_eq!(e.body_snippet(), Some(page));
    assert!(e.is_html());
    assert_eq!(e.kind(), ErrorKind::Server);
}

#[test]
fn every_origin_displays_and_classifies() {
    let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "slow");
    let cases = [
        (
            Error::invalid_input("code", "it is empty"),
            ErrorKind::InvalidInput,
            "invalid code: it is empty",
        ),
        (
            Error::transport("GET x".into(), true, Box::new(io)),
            ErrorKind::Timeout,
            "GET x: timed out: slow",
        ),
        (
            Error::redirect("GET x".into(), 301, None),
            ErrorKind::Redirect,
            "GET x: unexpected redirect (HTTP 301) to an unnamed location; check the base URL",
        ),
        (
            Error::decode(
                "GET x".into(),
                "bool",
                "the answer is not a bool".into(),
                "[]".into(),
            ),
            ErrorKind::Decode,
            "GET x: could not decode bool: the answer is not a bool (body: [])",
        ),
        (
            Error::too_large("GET x".into(), 10),
            ErrorKind::ResponseTooLarge,
            "GET x: response body exceeds the limit of 10 bytes",
        ),
        (
            Error::precondition("GET x", ErrorKind::TfaNotApplicable, "no TFA"),
            ErrorKind::TfaNotApplicable,
            "GET x: no TFA",
        ),
    ];
    for (e, kind, text) in cases {
        assert_eq!((e.kind(), e.to_string().as_str()), (kind, text));
    }
    let e = Error::io("write qr.png", std::io::Error::other("disk full"));
    assert_eq!(e.to_string(), "write qr.png: disk full");
    assert_eq!(e.operation(), None);
    assert!(std::error::Error::source(&e).is_some());
}

#[test]
fn debug_is_short_and_readable_like_io_errors() {
    let e = status(401, ErrorKind::Unauthorized, None, "").with_advice(Advice::TokenRefused);
    assert_eq!(
        format!("{e:?}"),
        "Error { kind: Unauthorized, operation: \"PUT settings/tfaapp\", status: 401, \
         message: \"PUT settings/tfaapp: HTTP 401 (empty body); the portal refused the bearer \
         token: check the token (wrong, revoked, expired, or of another portal?)\" }"
    );
    let e = Error::invalid_input("code", "it is empty");
    assert_eq!(
        format!("{e:?}"),
        "Error { kind: InvalidInput, message: \"invalid code: it is empty\" }"
    );
    // What `main() -> Result<(), Error>` prints: one struct line, no private representation.
    let printed = format!("Error: {e:?}");
    assert!(
        !printed.contains("Repr") && !printed.contains("Box"),
        "{printed}"
    );
}

#[test]
fn tries_and_advice_end_the_display() {
    let cases = [
        (
            status(503, ErrorKind::Server, None, "")
                .after_tries(3, Duration::from_millis(1240))
                .with_advice(Advice::Unavailable),
            3,
            "PUT settings/tfaapp: HTTP 503 (empty body); 3 attempts over 1.2 s; the portal (or \
             the proxy in front of it) cannot answer now; try again later",
        ),
        (
            status(429, ErrorKind::RateLimited, None, "")
                .after_tries(2, Duration::from_secs(42))
                .with_advice(Advice::TooManyRequests {
                    retry_after: Some(Duration::from_secs(30)),
                }),
            2,
            "PUT settings/tfaapp: HTTP 429 (empty body); 2 attempts over 42 s; too many \
             requests; the server asks to wait 30 s before the next one",
        ),
        (
            // One attempt is not worth a word.
            status(404, ErrorKind::NotFound, None, "")
                .after_tries(1, Duration::from_millis(5))
                .with_advice(Advice::NoApiAtUrl),
            1,
            "PUT settings/tfaapp: HTTP 404 (empty body); no DocSpace API at this URL: check the \
             base URL, which should be the portal's root (such as https://portal.example.com, \
             with no path)",
        ),
        (
            status(
                403,
                ErrorKind::RateLimited,
                Some("You have sent too many text messages. Please try again later."),
                "",
            )
            .with_advice(Advice::CodeLock),
            1,
            "PUT settings/tfaapp: HTTP 403: You have sent too many text messages. Please try \
             again later.; this is the portal's attempt lock, whatever its text says: after too \
             many code checks within a minute (5 by default) the portal refuses every code of \
             this user, a correct one too, until about a minute after the last counted check; \
             wait a minute, then enter a fresh code",
        ),
    ];
    for (e, attempts, text) in cases {
        assert_eq!((e.attempts(), e.to_string().as_str()), (attempts, text));
        assert!(e.advice().is_some());
    }
    assert_eq!(Error::invalid_input("code", "empty").attempts(), 0);
    assert_eq!(Error::invalid_input("code", "empty").advice(), None);
}
