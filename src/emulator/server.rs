//! The HTTP loop: `tiny_http` accepts connections (HTTP/1.1, keep-alive) on its own threads;
//! one emulator thread takes the parsed requests, runs the handlers and answers.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::creds::Creds;
use super::faults::Action;
use super::http::{Body, Context, Incoming, Outgoing};
use super::log::LoggedRequest;
use super::routes::handle;
use super::sms::{outbox, OUTBOX_PATH};
use super::state::State;

/// The largest request body read; a larger one is answered `413`.
const MAX_BODY: u64 = 1024 * 1024;

/// What the server thread and the handle share.
pub(crate) struct Shared {
    pub(crate) state: Mutex<State>,
    pub(crate) log: Mutex<Vec<LoggedRequest>>,
    pub(crate) faults: Mutex<super::faults::Faults>,
    pub(crate) base_url: String,
    pub(crate) tenant_domain: String,
    /// Requests answered per open connection (by the client's address and port).
    pub(crate) per_connection: Mutex<HashMap<SocketAddr, u32>>,
}

/// Requests answered on one connection before the emulator closes it (`Connection: close`),
/// as a web server in front of a portal does after its own limit (nginx's
/// `keepalive_requests`, 1000 by default). The emulator's limit is far lower for another
/// reason: tiny_http 0.12 runs each connection on a pooled thread for its whole life, and two
/// connections accepted at once can both be handed to the same idle thread, so the second
/// waits until some connection closes — with clients that keep their connections
/// (`provision --jobs 16`), until the client's timeout (measured: one request of a 300-account
/// run stalled 30 s). Closing each connection after a hundred requests frees a thread for it
/// while the other clients are busy (at `--jobs 16`, within a few milliseconds). It was ten:
/// a new connection costs the client far more than a request on a kept one (ureq sets up and
/// zeroes 2 × 128 KiB of buffers), and with a reconnect every tenth request that was most of
/// the CPU `provision` spent per account beyond its requests.
const KEEPALIVE_REQUESTS: u32 = 100;
/// Connections counted at most; past that the counts start over (a long-running emulator).
const MAX_COUNTED_CONNECTIONS: usize = 4096;

/// Locks a mutex, recovering the data if a thread panicked while holding it (the state stays
/// usable for the rest of a test).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Serves requests until [`tiny_http::Server::unblock`] is called.
pub(crate) fn serve(server: Arc<tiny_http::Server>, shared: Arc<Shared>) {
    while let Ok(request) = server.recv() {
        answer(&shared, request);
    }
}

fn answer(shared: &Shared, mut request: tiny_http::Request) {
    let method = request.method().as_str().to_ascii_uppercase();
    let url = request.url().to_owned();
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| {
            (
                h.field.as_str().as_str().to_ascii_lowercase(),
                h.value.as_str().to_owned(),
            )
        })
        .collect();
    let remote_ip = request.remote_addr().map(|a| a.ip());
    let mut body = Vec::new();
    let read = request
        .as_reader()
        .take(MAX_BODY + 1)
        .read_to_end(&mut body);
    let creds = Creds::from_headers(&headers);
    let api_path = strip_api_prefix(path);
    let fault = api_path.and_then(|p| lock(&shared.faults).take(&method, p));
    let out = match (api_path, read, fault) {
        (_, Err(_), _) => Outgoing::empty(400),
        (_, Ok(_), _) if body.len() as u64 > MAX_BODY => Outgoing::empty(413),
        // The SMS provider stand-in's outbox: not a portal route (`sms.rs`).
        (None, Ok(_), _) if path.eq_ignore_ascii_case(OUTBOX_PATH) => {
            outbox(&lock(&shared.state), &method)
        }
        (None, Ok(_), _) => Outgoing::empty(404),
        // Fault injection (`faults.rs`): a matching rule answers instead of the handler.
        (Some(_), Ok(_), Some(Action::Status(status))) => Outgoing::empty(status),
        (Some(api_path), Ok(_), None | Some(Action::Drop)) => {
            let ctx = Context {
                base_url: &shared.base_url,
                tenant_domain: &shared.tenant_domain,
            };
            let incoming = Incoming {
                method: &method,
                path: api_path,
                remote_ip,
                body: &body,
            };
            handle(&mut lock(&shared.state), &ctx, &incoming, &creds)
        }
    };
    {
        let mut log = lock(&shared.log);
        log.push(LoggedRequest::new(
            &method,
            api_path.unwrap_or(path),
            &creds,
            &body,
            out.status,
        ));
        keep_newest(&mut log, MAX_LOGGED);
    }
    if fault == Some(Action::Drop) {
        // The request took effect; the answer breaks off after its head: a chunked body whose
        // first chunk size is not a number, so the client fails at once (as on a dropped
        // line) instead of waiting for bytes that never come.
        let mut writer = request.into_writer();
        let _ = writer.write_all(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        );
        let _ = writer.flush();
        return;
    }
    let last = remote_addr_full(&request).is_some_and(|a| last_on_connection(shared, a));
    if last {
        let mut writer = request.into_writer();
        let _ = writer.write_all(&closing_response(out));
        let _ = writer.flush();
        return;
    }
    let _ = request.respond(to_response(out));
}

fn remote_addr_full(request: &tiny_http::Request) -> Option<SocketAddr> {
    request.remote_addr().copied()
}

/// Counts a request on the connection from `addr`; `true` when it is the connection's last
/// ([`KEEPALIVE_REQUESTS`]).
fn last_on_connection(shared: &Shared, addr: SocketAddr) -> bool {
    let mut counts = lock(&shared.per_connection);
    if counts.len() >= MAX_COUNTED_CONNECTIONS && !counts.contains_key(&addr) {
        counts.clear();
    }
    let n = counts.entry(addr).or_insert(0);
    *n += 1;
    if *n >= KEEPALIVE_REQUESTS {
        counts.remove(&addr);
        return true;
    }
    false
}

/// The whole answer with `Connection: close`, written at once (tiny_http drops a
/// `Connection` header given to its own responses).
fn closing_response(out: Outgoing) -> Vec<u8> {
    let status = out.status;
    let reason = tiny_http::StatusCode(status).default_reason_phrase();
    let (content_type, data) = body_bytes(out.body);
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nServer: tiny-http (Rust)\r\nContent-Length: {}\r\n\
         Connection: close\r\n",
        data.len()
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    for cookie in &out.set_cookies {
        if header("Set-Cookie", cookie).is_some() && !cookie.contains(['\r', '\n']) {
            head.push_str(&format!("Set-Cookie: {cookie}\r\n"));
        }
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(&data);
    bytes
}

/// How many requests the log keeps (the newest); each holds its body of up to a megabyte.
pub(crate) const MAX_LOGGED: usize = 10_000;

/// A long-running emulator (`docspace-tfa emulator`) keeps the newest `max` entries only; the
/// oldest go in batches of a tenth, so a push stays cheap.
fn keep_newest<T>(log: &mut Vec<T>, max: usize) {
    if log.len() > max + max / 10 {
        let excess = log.len() - max;
        log.drain(..excess);
    }
}

/// `/api/2.0/x/y` → `x/y` (the prefix case-insensitively).
fn strip_api_prefix(path: &str) -> Option<&str> {
    const PREFIX: &str = "/api/2.0/";
    match (path.get(..PREFIX.len()), path.get(PREFIX.len()..)) {
        (Some(head), Some(rest)) if head.eq_ignore_ascii_case(PREFIX) => Some(rest),
        _ => None,
    }
}

fn header(name: &str, value: &str) -> Option<tiny_http::Header> {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).ok()
}

fn body_bytes(body: Body) -> (Option<&'static str>, Vec<u8>) {
    match body {
        Body::Empty => (None, Vec::new()),
        Body::Json(v) => (
            Some("application/json; charset=utf-8"),
            serde_json::to_vec(&v).unwrap_or_default(),
        ),
        Body::Problem(v) => (
            Some("application/problem+json; charset=utf-8"),
            serde_json::to_vec(&v).unwrap_or_default(),
        ),
    }
}

fn to_response(out: Outgoing) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
    let (content_type, data) = body_bytes(out.body);
    let mut response = tiny_http::Response::from_data(data).with_status_code(out.status);
    if let Some(h) = content_type.and_then(|ct| header("Content-Type", ct)) {
        response.add_header(h);
    }
    for cookie in &out.set_cookies {
        if let Some(h) = header("Set-Cookie", cookie) {
            response.add_header(h);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_log_keeps_the_newest_entries() {
        let mut log: Vec<u32> = Vec::new();
        for i in 0..1_000 {
            log.push(i);
            super::keep_newest(&mut log, 100);
            assert!(log.len() <= 110, "{}", log.len());
        }
        assert_eq!(log.last(), Some(&999));
        assert!(log.len() >= 100);
        assert!(log.windows(2).all(|w| w[1] == w[0] + 1), "order kept");
    }

    use super::*;

    #[test]
    fn api_prefix() {
        assert_eq!(
            strip_api_prefix("/api/2.0/settings/tfaapp"),
            Some("settings/tfaapp")
        );
        assert_eq!(
            strip_api_prefix("/API/2.0/people/@self"),
            Some("people/@self")
        );
        assert_eq!(strip_api_prefix("/api/2.1/x"), None);
        assert_eq!(strip_api_prefix("/"), None);
        assert_eq!(strip_api_prefix("/api/2.0\u{e9}x"), None);
    }
}
