//! Shared helpers for the integration tests: realistic DocSpace bodies (see
//! `docs/server.md`, "Envelope") and clients pointed at a mockito server.
//!
//! Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use docspace_tfa::{Client, RetryPolicy};
use serde_json::{json, Value};

mod expect;
#[allow(unused_imports)]
pub use expect::*;

/// The portal host that appears in `links` and confirm URLs, as a real portal writes them.
pub const PORTAL: &str = "https://portal.example.com";
/// A personal access token, in the shape DocSpace hands out.
pub const TOKEN: &str = "sk-2f0c8a1e9d7b4c3aa6e51f0b9d2c7e84";
/// The signed-in user's id.
pub const USER_ID: &str = "66faa6e4-f133-11ea-b126-00ffeec8b4ef";
/// Another member of the portal.
pub const OTHER_USER_ID: &str = "1f9b3c2d-7e4a-4b8c-9d0e-2a3b4c5d6e7f";
/// A confirm key, in the shape the server's validation-key provider produces.
pub const CONFIRM_KEY: &str = "638512954712345678.DS2XL4UTNF3QS1H9AEB0ZHJYHQGYGDNWR8O8B4HGI";
/// A manual entry key: 10 random bytes in base32, as the portal generates them.
pub const MANUAL_KEY: &str = "GEZDGNBVGY3TQOJQ";
/// The start of the PNG data URL of a QR code (a real PNG signature, base64).
pub const QR_DATA_URL: &str =
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAMgAAADICAYAAACtWK6eAAAAAXNSR0IArs4c6QAAAARnQU1BAACx";
/// The account label the setup answer carries.
pub const ACCOUNT: &str = "john.doe@example.com";
/// The user name and password of the login tests.
pub const USER_NAME: &str = "bot@example.com";
pub const PASSWORD: &str = "c0rrect-h0rse-battery";
/// The token a login hands out (a DocSpace auth token).
pub const LOGIN_TOKEN: &str =
    "pA1vYZkDxaQNgbxy5cdt7J2dV/6m0Cb5mPK0BqVBQfTn3AaL6i9rKJQ2gkYz8Ykq,638513818452344721";

/// The confirm URL of a `TfaActivation` ticket for [`USER_ID`].
pub fn activation_url() -> String {
    format!("{PORTAL}/confirm/TfaActivation?type=TfaActivation&uid={USER_ID}")
}

/// The confirm URL of a `TfaAuth` ticket for [`USER_ID`].
pub fn auth_url() -> String {
    format!("{PORTAL}/confirm/TfaAuth?type=TfaAuth&uid={USER_ID}")
}

/// The `Confirm` header a ticket of `confirm_type` for [`USER_ID`] with [`CONFIRM_KEY`] carries.
pub fn confirm_header(confirm_type: &str) -> String {
    format!("type={confirm_type}&uid={USER_ID}&key={CONFIRM_KEY}")
}

/// The `Authorization` header of [`TOKEN`].
pub fn bearer() -> String {
    format!("Bearer {TOKEN}")
}

/// A `Set-Cookie` value as the portal sends a confirm key.
pub fn confirm_cookie(confirm_type: &str, key: &str) -> String {
    format!("asc_confirm_key_{confirm_type}={key}; path=/; secure; samesite=none; httponly")
}

/// The success envelope around `response`, with `count`, `links`, `status` and `statusCode` as
/// a real portal writes them. A `null` response is omitted, as the server does.
pub fn envelope(method: &str, path: &str, response: Value) -> String {
    let count = match &response {
        Value::Array(items) => items.len(),
        Value::Null => 0,
        _ => 1,
    };
    let mut body = json!({
        "count": count,
        "links": [{"href": format!("{PORTAL}/api/2.0/{path}"), "action": method}],
        "status": 0,
        "statusCode": 200,
    });
    if !response.is_null() {
        body["response"] = response;
    }
    body.to_string()
}

/// The envelope of a `null` answer: no `response` key at all.
pub fn null_envelope(method: &str, path: &str) -> String {
    envelope(method, path, Value::Null)
}

/// An error envelope. With `exception_type`, also `type`, `stack` and `hresult`, as for
/// controller exceptions; without it only `message`, as for authentication failures, the
/// brute-force lock.
pub fn error_envelope(status: u16, message: &str, exception_type: Option<&str>) -> String {
    let mut error = json!({ "message": message });
    if let Some(t) = exception_type {
        error["type"] = json!(t);
        error["stack"] = json!(format!(
            "   at ASC.Web.Api.Controllers.Settings.TfaappController.TfaValidateAuthCodeAsync(TfaValidateRequestsDto inDto)\n   at lambda_method123(Closure, Object)\n   ({t})"
        ));
        error["hresult"] = json!(match t {
            "System.ArgumentException" => -2147024809i64,
            "System.InvalidOperationException" => -2146233079,
            "System.Security.SecurityException" => -2146233078,
            _ => -2146233088,
        });
    }
    json!({ "error": error, "status": 1, "statusCode": status }).to_string()
}

/// `400 Incorrect code` from validate.
pub fn incorrect_code() -> String {
    error_envelope(400, "Incorrect code", Some("System.ArgumentException"))
}

/// `403 Access denied`: a security exception (not an admin, not the owner).
pub fn access_denied() -> String {
    error_envelope(
        403,
        "Access denied",
        Some("System.Security.SecurityException"),
    )
}

/// `405`: listed in the API reference for "not available", answered by no released server;
/// the crate still maps it.
pub fn not_available_405() -> String {
    error_envelope(405, "TFA application settings are not available", None)
}

/// `403 InvalidOperationException` "not available": what servers from 3.5 answer.
pub fn not_available_legacy_403() -> String {
    error_envelope(
        403,
        "TFA application settings are not available",
        Some("System.InvalidOperationException"),
    )
}

/// `403` brute-force lock of validate (worded for SMS, as the server does).
pub fn brute_force_lock() -> String {
    error_envelope(
        403,
        "You have sent too many text messages. Please try again later.",
        None,
    )
}

/// `401 User authentication failed` from the login endpoints.
pub fn authentication_failed() -> String {
    error_envelope(401, "User authentication failed", None)
}

/// The page nginx answers when the portal behind it is down.
pub const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n";

/// The content type of every JSON answer of the portal.
pub const JSON: &str = "application/json; charset=utf-8";

/// A retry policy that never retries, so that a mock's hit count is the number of calls.
pub fn no_retries() -> RetryPolicy {
    RetryPolicy::none()
}

/// A client for the mock server with [`TOKEN`] and no retries.
pub fn client(server: &mockito::Server) -> Client {
    Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .retry(no_retries())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a loopback mockito URL is a valid base URL")
}

/// A client for the mock server without a token (for logins and ticket calls).
pub fn anonymous_client(server: &mockito::Server) -> Client {
    Client::builder()
        .base_url(server.url())
        .retry(no_retries())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a loopback mockito URL is a valid base URL")
}

/// A client for the mock server with [`TOKEN`] and a retry policy that *would* retry quickly:
/// for proving that a call is not retried.
pub fn retrying_client(server: &mockito::Server) -> Client {
    Client::builder()
        .base_url(server.url())
        .token(TOKEN)
        .retry(
            RetryPolicy::default()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(10))
                .max_backoff(Duration::from_millis(20)),
        )
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a loopback mockito URL is a valid base URL")
}

/// A server that accepts connections, reads what comes, and never answers.
/// Returns its base URL and the number of connections it accepted so far. The listener
/// thread lives until the test process exits.
pub fn silent_server() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            counter.fetch_add(1, Ordering::SeqCst);
            thread::spawn(move || hold(stream));
        }
    });
    (format!("http://{addr}"), connections)
}

/// A minimal keep-alive HTTP/1.1 server that answers every request `200` with `body` (JSON).
/// Returns its base URL, the number of connections accepted and the number of requests
/// answered, to show whether clients reuse connections.
pub fn keep_alive_server(body: String) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (conn_count, req_count) = (Arc::clone(&connections), Arc::clone(&requests));
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            conn_count.fetch_add(1, Ordering::SeqCst);
            let (body, req_count) = (body.clone(), Arc::clone(&req_count));
            thread::spawn(move || serve_keep_alive(stream, &body, &req_count));
        }
    });
    (format!("http://{addr}"), connections, requests)
}

fn serve_keep_alive(mut stream: TcpStream, body: &str, requests: &AtomicUsize) {
    use std::io::Write;
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // Read one request head (and its body, by Content-Length).
        let head_end = loop {
            if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        };
        let head = String::from_utf8_lossy(&pending[..head_end]).to_ascii_lowercase();
        let content_length = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(0);
        while pending.len() < head_end + content_length {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => return,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
        }
        pending.drain(..head_end + content_length);
        requests.fetch_add(1, Ordering::SeqCst);
        let answer = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        if stream.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

/// Reads and discards until the peer closes; never writes.
fn hold(mut stream: TcpStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
}

/// A base URL on which nothing listens (connection refused).
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}

/// Asserts that none of `secrets` appears in the `Display` and `Debug` output of `value`.
pub fn assert_no_secrets<T: std::fmt::Debug>(value: &T, display: &str, secrets: &[&str]) {
    let debug = format!("{value:?}");
    let pretty = format!("{value:#?}");
    for secret in secrets {
        assert!(
            !display.contains(secret),
            "Display leaks {secret:?}: {display}"
        );
        assert!(!debug.contains(secret), "Debug leaks {secret:?}: {debug}");
        assert!(!pretty.contains(secret), "Debug leaks {secret:?}: {pretty}");
    }
}
