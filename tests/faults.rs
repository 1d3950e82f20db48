//! One test per fault of the network or the server: what the client does, how many requests
//! the server saw, and that the call ended within its deadline.
//!
//! The servers are plain `std::net` threads (`support/faulty.rs`) that stop by themselves.
//! Timing bounds are upper bounds with 10× headroom over the deadline they check (a loaded
//! 2-core machine must not fail them; `docs/reliability.md`, "Timing in tests"), and a
//! stalling server holds on far longer than that, so a call that ignored its deadline still
//! fails the bound; the only lower bound is the `Retry-After` wait, which is the behaviour
//! under test. Retries are checked by the server's request count, not by the clock.

#[path = "support/faulty.rs"]
mod faulty;
mod support;

use std::time::{Duration, Instant};

use docspace_tfa::{Client, ConfirmTicket, Error, ErrorKind, RetryPolicy, TfaPolicy, TfaType};
use faulty::{http, json_200, Action, FaultServer};
use serde_json::json;
use support::{envelope, ACCOUNT, CONFIRM_KEY, MANUAL_KEY, NGINX_502, QR_DATA_URL, TOKEN, USER_ID};

/// The per-attempt deadline of the clients below.
const TIMEOUT: Duration = Duration::from_millis(600);
/// The headroom every upper time bound allows over the time it checks (a loaded CI machine).
const HEADROOM: u32 = 10;
/// How long a stalling server holds a connection: far longer than [`HEADROOM`] × [`TIMEOUT`]
/// (the server lets go when it is dropped, at the end of the test).
const STALL: Duration = Duration::from_secs(60);

const SETUP: &str = "/api/2.0/settings/tfaapp/setup";
const VALIDATE: &str = "/api/2.0/settings/tfaapp/validate";

/// Retries quickly, so that a retried call shows up in the server's count without slowing the
/// suite down.
fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(3)
        .initial_backoff(Duration::from_millis(20))
        .max_backoff(Duration::from_millis(50))
}

fn client_with(url: &str, retry: RetryPolicy) -> Client {
    Client::builder()
        .base_url(url)
        .token(TOKEN)
        .connect_timeout(TIMEOUT)
        .timeout(TIMEOUT)
        .retry(retry)
        .build()
        .expect("a loopback URL is a valid base URL")
}

/// A client with [`TOKEN`], short timeouts and [`quick_retries`].
fn faulty_client(server: &FaultServer) -> Client {
    client_with(&server.url(), quick_retries())
}

fn ticket() -> ConfirmTicket {
    ConfirmTicket::new("TfaActivation", USER_ID, CONFIRM_KEY).expect("a complete ticket")
}

fn setup_json() -> String {
    envelope(
        "GET",
        "settings/tfaapp/setup",
        json!({"account": ACCOUNT, "manualEntryKey": MANUAL_KEY, "qrCodeSetupImageUrl": QR_DATA_URL}),
    )
}

/// Runs `f`, asserts it took at most [`HEADROOM`] × `limit`, and returns its result and time.
fn within<T>(limit: Duration, f: impl FnOnce() -> T) -> (T, Duration) {
    let started = Instant::now();
    let out = f();
    let took = started.elapsed();
    assert!(
        took <= limit * HEADROOM,
        "took {took:?}, more than {HEADROOM} × {limit:?}"
    );
    (out, took)
}

/// The whole budget of a call with [`quick_retries`]: three attempts and two short waits.
fn retried_budget() -> Duration {
    TIMEOUT * 3 + Duration::from_millis(100)
}

fn expect_err<T: std::fmt::Debug>(r: Result<T, Error>) -> Error {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

// ---------------------------------------------------------------------------------------------
// Transport faults

#[test]
fn connection_refused_is_a_network_error_for_reads_and_writes() {
    let url = faulty::refused_url();
    let client = client_with(&url, quick_retries());
    let (err, _) = within(retried_budget(), || expect_err(client.tfa().methods()));
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(err.status(), None);
    assert!(
        err.to_string()
            .starts_with("GET settings/tfaapp: network error"),
        "{err}"
    );
    let (err, _) = within(TIMEOUT, || {
        expect_err(client.tfa().validate_with(&ticket(), "123456"))
    });
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
}

#[test]
fn connection_closed_before_the_status_line_is_retried_for_a_get_only() {
    let server = FaultServer::always(|| Action::Close);
    let client = faulty_client(&server);
    let (err, _) = within(retried_budget(), || {
        expect_err(client.tfa().setup_with(&ticket()))
    });
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(server.requests(), 3, "a GET is tried three times");

    let server = FaultServer::always(|| Action::Close);
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || {
        expect_err(client.tfa().validate_with(&ticket(), "123456"))
    });
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(server.requests(), 1, "a POST is sent once");
}

#[test]
fn connection_reset_mid_headers_is_retried_for_a_get_only() {
    let partial = b"HTTP/1.1 200 OK\r\nContent-Type: applica".to_vec();
    let p = partial.clone();
    let server = FaultServer::always(move || Action::WriteThenReset(p.clone()));
    let client = faulty_client(&server);
    let (err, _) = within(retried_budget(), || {
        expect_err(client.tfa().setup_with(&ticket()))
    });
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(server.requests(), 3);

    let server = FaultServer::always(move || Action::WriteThenReset(partial.clone()));
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || {
        expect_err(client.tfa().validate_with(&ticket(), "123456"))
    });
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn content_length_larger_than_the_body_is_a_network_error_not_retried() {
    let server = FaultServer::always(|| {
        Action::Write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\
              Connection: close\r\n\r\n{\"response\":{\"account\":\"a\""
                .to_vec(),
        )
    });
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::Network, "{err}");
    // The status line arrived: a broken body is not "before a response", so not retried.
    assert_eq!(server.requests(), 1);
}

#[test]
fn stall_before_the_headers_times_out_within_the_deadline() {
    let server = FaultServer::always(|| Action::WriteThenStall(Vec::new(), STALL));
    let client = faulty_client(&server);
    let (err, took) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert!(err.is_timeout());
    assert!(err.to_string().contains("timed out"), "{err}");
    assert_eq!(server.requests(), 1, "a timeout is not retried");
    assert!(took < STALL, "{took:?}");

    let (err, _) = within(TIMEOUT, || {
        expect_err(client.tfa().validate_with(&ticket(), "123456"))
    });
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(server.requests(), 2);
}

#[test]
fn stall_mid_body_times_out_within_the_deadline() {
    let server = FaultServer::always(|| {
        Action::WriteThenStall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 400\r\n\
              Connection: close\r\n\r\n{\"response\":{\"acc"
                .to_vec(),
            STALL,
        )
    });
    let client = faulty_client(&server);
    let (err, took) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err}");
    assert_eq!(server.requests(), 1);
    assert!(took < STALL, "{took:?}");
}

#[test]
fn slow_connect_is_bounded_by_the_connect_timeout() {
    // A listener that never accepts, with its accept queue filled: the kernel drops further
    // SYNs, so the client's connect hangs until its connect timeout.
    let (url, _listener, _held) = faulty::full_backlog();
    let client = Client::builder()
        .base_url(&url)
        .connect_timeout(Duration::from_millis(300))
        .timeout(Duration::from_secs(5))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let (err, took) = within(Duration::from_millis(300), || {
        expect_err(client.auth().login("bot@example.com", "pw"))
    });
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err} after {took:?}");
}

// ---------------------------------------------------------------------------------------------
// Error statuses and retries

#[test]
fn html_502_from_a_proxy_is_a_server_error_retried_for_a_get_only() {
    let page = || {
        Action::Write(http(
            502,
            &[("Content-Type", "text/html")],
            NGINX_502.as_bytes(),
        ))
    };
    let server = FaultServer::always(page);
    let client = faulty_client(&server);
    let (err, _) = within(retried_budget(), || {
        expect_err(client.tfa().setup_with(&ticket()))
    });
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.status(), Some(502));
    assert!(err.to_string().contains("502 Bad Gateway"), "{err}");
    assert!(err.to_string().len() < 400, "bounded: {err}");
    assert_eq!(server.requests(), 3);

    let server = FaultServer::always(page);
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || {
        expect_err(client.tfa().validate_with(&ticket(), "123456"))
    });
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(server.requests(), 1);
}

/// A server that answers `first` to the first request and `then` to every later one.
fn first_then(first: Vec<u8>, then: Vec<u8>) -> FaultServer {
    FaultServer::start(move |seen| {
        if seen.number == 1 {
            Action::Write(first.clone())
        } else {
            Action::Write(then.clone())
        }
    })
}

fn unavailable_503() -> Vec<u8> {
    http(
        503,
        &[("Content-Type", "text/html")],
        b"<html><body>Service Unavailable</body></html>",
    )
}

#[test]
fn a_503_then_200_is_retried_for_a_get() {
    let server = first_then(unavailable_503(), json_200(&setup_json()));
    let client = faulty_client(&server);
    let (setup, _) = within(retried_budget(), || client.tfa().setup_with(&ticket()));
    let setup = setup.expect("the retry succeeds");
    assert_eq!(setup.account, ACCOUNT);
    assert_eq!(server.requests(), 2);
    assert_eq!(server.requests_to(SETUP), 2);
}

#[test]
fn a_503_then_200_is_not_retried_for_a_post() {
    let server = first_then(unavailable_503(), json_200(r#"{"response":true}"#));
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || {
        expect_err(client.tfa().validate_with(&ticket(), "123456"))
    });
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.requests(), 1);
    assert_eq!(server.requests_to(VALIDATE), 1);
}

#[test]
fn a_504_then_200_is_retried_for_a_get() {
    let server = first_then(
        http(504, &[("Content-Type", "text/html")], b"Gateway Timeout"),
        json_200(&setup_json()),
    );
    let client = faulty_client(&server);
    let (setup, _) = within(retried_budget(), || client.tfa().setup_with(&ticket()));
    assert!(setup.is_ok(), "{setup:?}");
    assert_eq!(server.requests(), 2);
}

#[test]
fn a_500_is_not_retried_even_for_a_get() {
    let server = FaultServer::always(|| {
        Action::Write(http(
            500,
            &[("Content-Type", "application/json")],
            br#"{"error":{"message":"Object reference not set"},"status":1,"statusCode":500}"#,
        ))
    });
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn retries_stop_at_the_attempt_limit_and_the_time_budget() {
    // Ten attempts allowed, but only 300 ms in all: the 200 ms..400 ms waits exhaust the budget
    // after very few attempts.
    let server = FaultServer::always(|| Action::Write(unavailable_503()));
    let client = client_with(
        &server.url(),
        RetryPolicy::default()
            .max_attempts(10)
            .initial_backoff(Duration::from_millis(200))
            .max_backoff(Duration::from_millis(400))
            .max_elapsed(Duration::from_millis(300)),
    );
    let (err, _) = within(Duration::from_millis(300) + TIMEOUT, || {
        expect_err(client.tfa().setup_with(&ticket()))
    });
    assert_eq!(err.status(), Some(503));
    assert!(
        (1..=2).contains(&server.requests()),
        "{} requests",
        server.requests()
    );

    // And without a time budget, exactly `max_attempts`.
    let server = FaultServer::always(|| Action::Write(unavailable_503()));
    let client = client_with(
        &server.url(),
        RetryPolicy::default()
            .max_attempts(5)
            .initial_backoff(Duration::from_millis(5))
            .max_backoff(Duration::from_millis(10)),
    );
    let (err, _) = within(TIMEOUT * 5, || {
        expect_err(client.tfa().setup_with(&ticket()))
    });
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.requests(), 5);
}

#[test]
fn retry_policy_none_sends_a_get_once() {
    let server = FaultServer::always(|| Action::Write(unavailable_503()));
    let client = client_with(&server.url(), RetryPolicy::none());
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.status(), Some(503));
    assert_eq!(server.requests(), 1);
}

#[test]
fn a_429_with_retry_after_is_honoured() {
    let server = first_then(
        http(
            429,
            &[("Content-Type", "text/plain"), ("Retry-After", "1")],
            b"Too Many Requests",
        ),
        json_200(&setup_json()),
    );
    let client = faulty_client(&server);
    let (setup, took) = within(Duration::from_secs(1) + TIMEOUT * 2, || {
        client.tfa().setup_with(&ticket())
    });
    assert!(setup.is_ok(), "{setup:?}");
    assert!(
        took >= Duration::from_secs(1),
        "Retry-After: 1 was not waited for: {took:?}"
    );
    assert_eq!(server.requests(), 2, "exactly one more request");
}

#[test]
fn a_429_asking_for_more_than_the_cap_is_returned_at_once() {
    let server = FaultServer::always(|| {
        Action::Write(http(
            429,
            &[("Content-Type", "text/plain"), ("Retry-After", "30")],
            b"Too Many Requests",
        ))
    });
    let client = faulty_client(&server);
    let (err, took) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert!(err.is_rate_limited());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(30)));
    assert_eq!(server.requests(), 1);
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_429_is_never_retried_for_a_post() {
    let server = FaultServer::always(|| {
        Action::Write(http(
            429,
            &[("Content-Type", "text/plain"), ("Retry-After", "60")],
            b"",
        ))
    });
    let client = faulty_client(&server);
    let (err, took) = within(TIMEOUT, || {
        expect_err(client.tfa().validate_with(&ticket(), "123456"))
    });
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    // Counted: one request (a retry would be a second); and far from the minute asked for.
    assert_eq!(server.requests(), 1);
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn empty_401_and_403_are_unauthorized_and_forbidden_and_not_retried() {
    for (status, kind) in [(401, ErrorKind::Unauthorized), (403, ErrorKind::Forbidden)] {
        let server = FaultServer::always(move || Action::Write(http(status, &[], b"")));
        let client = faulty_client(&server);
        let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
        assert_eq!(err.kind(), kind, "{err}");
        assert_eq!(err.status(), Some(status));
        assert!(err.to_string().contains("(empty body)"), "{err}");
        assert_eq!(server.requests(), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// Bodies that are not what was expected

#[test]
fn a_204_where_json_was_expected_is_a_decode_error() {
    let server = FaultServer::always(|| Action::Write(http(204, &[], b"")));
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("the body is empty"), "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn an_html_page_with_status_200_is_a_decode_error() {
    let server = FaultServer::always(|| {
        Action::Write(http(
            200,
            &[("Content-Type", "text/html; charset=utf-8")],
            b"<!DOCTYPE html><html><head><title>ONLYOFFICE</title></head><body>Sign in</body></html>",
        ))
    });
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("<!DOCTYPE html>"), "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn invalid_utf8_is_a_decode_error_with_a_bounded_snippet() {
    let server = FaultServer::always(|| {
        let mut body = b"{\"response\":\"".to_vec();
        body.extend(std::iter::repeat_n(0xffu8, 3000));
        body.extend_from_slice(b"\"}");
        Action::Write(http(200, &[("Content-Type", "application/json")], &body))
    });
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::Decode, "{err}");
    assert!(err.to_string().contains("UTF-8"), "{err}");
    assert!(err.to_string().chars().count() < 600, "bounded: {err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn a_body_over_the_limit_is_an_error_not_an_allocation() {
    let limit = 1024;
    let big = format!(r#"{{"response":"{}"}}"#, "x".repeat(8 * 1024));
    let server = FaultServer::always(move || Action::Write(json_200(&big)));
    let client = Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .timeout(TIMEOUT)
        .max_response_bytes(limit)
        .retry(quick_retries())
        .build()
        .unwrap();
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    assert!(err.to_string().contains("1024 bytes"), "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn an_endless_body_without_length_stops_at_the_limit() {
    // No Content-Length: the body runs until the connection closes, 256 MiB of it. The client
    // must stop reading at its limit, long before the server is done.
    let server = FaultServer::always(|| {
        Action::Stream {
        head: b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"response\":\""
            .to_vec(),
        chunk: vec![b'a'; 64 * 1024],
        total: 256 * 1024 * 1024,
    }
    });
    let client = Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .timeout(Duration::from_secs(5))
        .max_response_bytes(64 * 1024)
        .retry(quick_retries())
        .build()
        .unwrap();
    let (err, _) = within(Duration::from_secs(1), || {
        expect_err(client.tfa().setup_with(&ticket()))
    });
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
    assert_eq!(server.requests(), 1);
}

#[test]
fn an_error_page_over_the_limit_keeps_its_status_and_is_retried() {
    let page = format!("<html>{}</html>", "x".repeat(8 * 1024));
    let server = first_then(
        http(503, &[("Content-Type", "text/html")], page.as_bytes()),
        json_200(&setup_json()),
    );
    let client = Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .timeout(TIMEOUT)
        .max_response_bytes(4096)
        .retry(quick_retries())
        .build()
        .unwrap();
    let (setup, _) = within(retried_budget(), || client.tfa().setup_with(&ticket()));
    assert!(setup.is_ok(), "{setup:?}");
    assert_eq!(server.requests(), 2);

    let server = FaultServer::always(move || {
        Action::Write(http(502, &[("Content-Type", "text/html")], page.as_bytes()))
    });
    let client = Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .timeout(TIMEOUT)
        .max_response_bytes(4096)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().setup_with(&ticket())));
    assert_eq!(err.kind(), ErrorKind::Server, "{err}");
    assert_eq!(err.status(), Some(502));
    assert!(
        err.to_string().contains("exceeded the limit of 4096 bytes"),
        "{err}"
    );
}

#[test]
fn the_default_limit_is_four_mib() {
    assert_eq!(docspace_tfa::DEFAULT_MAX_RESPONSE_BYTES, 4 * 1024 * 1024);
    let just_over = format!(
        r#"{{"response":"{}"}}"#,
        "x".repeat(4 * 1024 * 1024 + 1 - 15)
    );
    assert_eq!(just_over.len(), 4 * 1024 * 1024 + 1);
    let server = FaultServer::always(move || Action::Write(json_200(&just_over)));
    let client = Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .build()
        .unwrap();
    let (err, _) = within(Duration::from_secs(3), || {
        expect_err(client.tfa().setup_with(&ticket()))
    });
    assert_eq!(err.kind(), ErrorKind::ResponseTooLarge, "{err}");
}

// ---------------------------------------------------------------------------------------------
// Redirects

#[test]
fn a_302_to_another_host_is_an_error_and_no_credential_leaves_the_origin() {
    let other = FaultServer::always(|| Action::Write(json_200(r#"{"response":true}"#)));
    let location = format!("{}/api/2.0/settings/tfaapp/setup", other.url());
    let loc = location.clone();
    let origin =
        FaultServer::always(move || Action::Write(http(302, &[("Location", loc.as_str())], b"")));
    let client = faulty_client(&origin);
    let ticket = ticket();

    type Call<'a> = Box<dyn Fn() -> Result<String, Error> + 'a>;
    let calls: Vec<(&str, Call)> = vec![
        (
            "bearer GET",
            Box::new(|| client.tfa().methods().map(|m| m.len().to_string())),
        ),
        (
            "ticket GET",
            Box::new(|| client.tfa().setup_with(&ticket).map(|s| s.account)),
        ),
        (
            "ticket POST",
            Box::new(|| {
                client
                    .tfa()
                    .validate_with(&ticket, "123456")
                    .map(|v| v.first_activation.to_string())
            }),
        ),
        (
            "anonymous POST",
            Box::new(|| {
                client
                    .auth()
                    .login("bot@example.com", "pw")
                    .map(|o| format!("{o:?}"))
            }),
        ),
    ];
    for (i, (name, call)) in calls.iter().enumerate() {
        let (err, _) = within(TIMEOUT, || expect_err(call()));
        assert_eq!(err.kind(), ErrorKind::Redirect, "{name}: {err}");
        assert_eq!(err.status(), Some(302), "{name}");
        assert!(err.to_string().contains(&location), "{name}: {err}");
        assert_eq!(
            origin.requests(),
            i + 1,
            "{name}: a redirect is not retried"
        );
    }
    // The credentials went to the origin only.
    let seen = origin.seen();
    assert!(seen[0].header("authorization").is_some());
    assert!(seen[1].header("confirm").is_some());
    assert_eq!(other.requests(), 0, "the other host saw a request");
    assert_eq!(other.connections(), 0, "the other host saw a connection");
}

#[test]
fn a_301_from_http_to_https_names_the_https_location() {
    let server = FaultServer::always(|| {
        Action::Write(http(
            301,
            &[(
                "Location",
                "https://portal.example.com/api/2.0/settings/tfaapp",
            )],
            b"<html>Moved</html>",
        ))
    });
    let client = faulty_client(&server);
    let (err, _) = within(TIMEOUT, || expect_err(client.tfa().methods()));
    assert_eq!(err.kind(), ErrorKind::Redirect, "{err}");
    assert!(
        err.to_string()
            .contains("https://portal.example.com/api/2.0/settings/tfaapp"),
        "{err}"
    );
    assert_eq!(server.requests(), 1);
}

// ---------------------------------------------------------------------------------------------
// Calls that spend something are sent exactly once

/// A non-idempotent call, by name, with the path it must reach once.
type Spending<'a> = (
    &'a str,
    &'a str,
    Box<dyn Fn(&Client) -> Result<(), Error> + 'a>,
);

fn spending_calls<'a>(ticket: &'a ConfirmTicket) -> Vec<Spending<'a>> {
    vec![
        // `validate` is `confirm` (a GET) and then `validate_with`, below.
        (
            "validate_with",
            VALIDATE,
            Box::new(move |c: &Client| c.tfa().validate_with(ticket, "123456").map(drop)),
        ),
        (
            "login",
            "/api/2.0/authentication",
            Box::new(|c: &Client| c.auth().login("bot@example.com", "pw").map(drop)),
        ),
        (
            "login_with_code",
            "/api/2.0/authentication/123456",
            Box::new(|c: &Client| {
                c.auth()
                    .login_with_code("bot@example.com", "pw", "123456")
                    .map(drop)
            }),
        ),
        (
            "set_policy",
            "/api/2.0/settings/tfaapp",
            Box::new(|c: &Client| c.tfa().set_policy(&TfaPolicy::new(TfaType::App)).map(drop)),
        ),
        (
            "set_policy_with_link",
            "/api/2.0/settings/tfaappwithlink",
            Box::new(|c: &Client| {
                c.tfa()
                    .set_policy_with_link(&TfaPolicy::new(TfaType::App))
                    .map(drop)
            }),
        ),
        (
            "regenerate_backup_codes",
            "/api/2.0/settings/tfaappnewcodes",
            Box::new(|c: &Client| c.tfa().regenerate_backup_codes().map(drop)),
        ),
        (
            "unlink_user",
            "/api/2.0/settings/tfaappnewapp",
            Box::new(|c: &Client| c.tfa().unlink_user(USER_ID)),
        ),
        (
            "unlink_self",
            "/api/2.0/settings/tfaappnewapp",
            Box::new(|c: &Client| c.tfa().unlink_self().map(drop)),
        ),
    ]
}

/// Answers `GET people/@self` (which `unlink_self` reads first) and faults every other request.
fn spending_server(fault: fn() -> Action) -> FaultServer {
    FaultServer::start(move |seen| {
        if seen.method == "GET" && seen.path == "/api/2.0/people/@self" {
            Action::Write(json_200(&format!(
                r#"{{"response":{{"id":"{USER_ID}","displayName":"John Doe"}}}}"#
            )))
        } else {
            fault()
        }
    })
}

fn assert_sent_once(fault: fn() -> Action, kind: ErrorKind) {
    let ticket = ticket();
    for (name, path, call) in spending_calls(&ticket) {
        let server = spending_server(fault);
        let client = client_with(
            &server.url(),
            // Would retry eagerly if the call were retryable.
            RetryPolicy::default()
                .max_attempts(5)
                .initial_backoff(Duration::from_millis(5)),
        );
        let (result, _) = within(TIMEOUT * 2, || call(&client));
        let err = expect_err(result);
        assert_eq!(err.kind(), kind, "{name}: {err}");
        let writes: Vec<_> = server
            .seen()
            .into_iter()
            .filter(|s| s.method != "GET")
            .collect();
        assert_eq!(writes.len(), 1, "{name} was sent {} times", writes.len());
        assert_eq!(writes[0].path, path, "{name}");
    }
}

#[test]
fn spending_calls_are_sent_once_on_503() {
    assert_sent_once(|| Action::Write(unavailable_503()), ErrorKind::Server);
}

#[test]
fn spending_calls_are_sent_once_on_a_connection_reset() {
    assert_sent_once(|| Action::WriteThenReset(Vec::new()), ErrorKind::Network);
}

#[test]
fn spending_calls_are_sent_once_on_a_close_before_the_status_line() {
    assert_sent_once(|| Action::Close, ErrorKind::Network);
}

#[test]
fn timeouts_are_on_by_default() {
    assert_eq!(
        docspace_tfa::DEFAULT_CONNECT_TIMEOUT,
        Duration::from_secs(10)
    );
    assert_eq!(docspace_tfa::DEFAULT_TIMEOUT, Duration::from_secs(30));
    let client = Client::builder()
        .base_url("https://portal.example.com")
        .build()
        .unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains("connect_timeout: 10s"), "{debug}");
    assert!(debug.contains("timeout: 30s"), "{debug}");
}
