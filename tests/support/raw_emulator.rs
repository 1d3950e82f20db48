//! The harness of the session tests against the emulator (`tests/session_emulator.rs`,
//! `tests/confirm_emulator.rs`): a portal on a frozen clock, raw requests with exactly the
//! headers given, and clients with a token. Included with
//! `#[path = "support/raw_emulator.rs"] mod raw_support;`; each test binary uses a subset.
#![allow(dead_code)]

use docspace_tfa::emulator::Emulator;
use docspace_tfa::Client;
use serde_json::Value;

pub const T0: u64 = 1_700_000_000;
pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &[u8] = b"0123456789";

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

pub fn portal() -> Emulator {
    // The app method off until a test switches it on: a login is a session.
    Emulator::builder()
        .time(T0)
        .app_method_enabled(false)
        .start()
        .expect("emulator starts")
}

/// An answer as a raw client sees it.
pub struct Raw {
    pub status: u16,
    pub set_cookies: Vec<String>,
    pub body: Value,
}

/// Sends a request with exactly these headers (and a JSON body when given).
pub fn raw(
    portal: &Emulator,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> Raw {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let url = format!("{}/api/2.0/{path}", portal.base_url());
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (n, v) in headers {
        request = request.header(*n, *v);
    }
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    if !text.is_empty() {
        request = request.header("Content-Type", "application/json");
    }
    let mut response = agent
        .run(request.body(text).expect("a valid request"))
        .expect("the emulator answers");
    let set_cookies = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    Raw {
        status,
        set_cookies,
        body: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// A client of the portal with `token`.
pub fn with_token(portal: &Emulator, token: &str) -> Client {
    portal.client().expect("client").with_token(token)
}
