//! One `Client` shared by 8 threads, 200 calls each, against a local keep-alive server: every
//! request carries its own thread's ticket (no cross-talk), every answer reaches the thread that
//! asked (the server echoes the ticket's uid), and the connections are reused.

#[path = "support/faulty.rs"]
mod faulty;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use docspace_tfa::{Client, ConfirmTicket, ErrorKind, RetryPolicy};
use faulty::{http_keep_alive, Action, FaultServer, Seen};
use serde_json::{json, Value};

const THREADS: usize = 8;
const CALLS: usize = 200;

/// The uid of thread `t`'s ticket: a GUID whose last group is the thread number.
fn uid(t: usize) -> String {
    format!("5a4d8f3e-0c1b-4e2a-9f7d-{t:012}")
}

/// The confirm key of thread `t`'s ticket (with characters the header must percent-encode).
fn key(t: usize) -> String {
    format!("638512954712345678.K{t}/x+y={t}")
}

/// The code thread `t` sends on call `i`.
fn code(t: usize, i: usize) -> String {
    format!("{t}{:05}", (i / 2) % 100_000)
}

/// Decodes one `Confirm` header value into its (type, uid, key).
fn parse_confirm(header: &str) -> Option<(String, String, String)> {
    let mut parts = header.split('&').map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        let v = percent_decode(v);
        (k.to_owned(), v)
    });
    let (_, ty) = parts.find(|(k, _)| k == "type")?;
    let (_, uid) = parts.find(|(k, _)| k == "uid")?;
    let (_, key) = parts.find(|(k, _)| k == "key")?;
    Some((ty, uid, key))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The thread a request belongs to, judged from its ticket: `None` when the uid and the key
/// disagree (cross-talk) or are missing.
fn thread_of(seen: &Seen) -> Option<usize> {
    let (_, uid, key) = parse_confirm(seen.header("confirm")?)?;
    let t: usize = uid.rsplit('-').next()?.parse().ok()?;
    (key == self::key(t) && seen.header("authorization").is_none()).then_some(t)
}

/// The keep-alive server: checks every request's ticket (and a validate's code) against the
/// thread it claims to come from, counts mismatches, and echoes the uid as the account.
fn server(mismatches: Arc<AtomicUsize>) -> FaultServer {
    FaultServer::start(move |seen| {
        let json = |status: u16, body: Value| {
            Action::WriteKeepAlive(http_keep_alive(
                status,
                &[("Content-Type", "application/json; charset=utf-8")],
                body.to_string().as_bytes(),
            ))
        };
        let Some(t) = thread_of(seen) else {
            mismatches.fetch_add(1, Ordering::SeqCst);
            return json(
                401,
                json!({"error": {"message": "bad ticket"}, "statusCode": 401}),
            );
        };
        match (seen.method.as_str(), seen.path.as_str()) {
            ("GET", "/api/2.0/settings/tfaapp/setup") => json(
                200,
                json!({"response": {
                    "account": uid(t),
                    "manualEntryKey": format!("KEY{t}"),
                    "qrCodeSetupImageUrl": "data:image/png;base64,iVBORw0KGgo=",
                }, "status": 0, "statusCode": 200}),
            ),
            ("POST", "/api/2.0/settings/tfaapp/validate") => {
                let body: Value = serde_json::from_slice(&seen.body).unwrap_or(Value::Null);
                let code = body["code"].as_str().unwrap_or_default();
                if !code.starts_with(&t.to_string()) || code.len() != 6 {
                    mismatches.fetch_add(1, Ordering::SeqCst);
                    return json(400, json!({"error": {"message": "Incorrect code"}}));
                }
                // `true` for the thread's even codes: the client checks it gets its own answer.
                let last: u32 = code[1..].parse().unwrap_or(1);
                json(200, json!({"response": last % 2 == 0, "status": 0}))
            }
            _ => {
                mismatches.fetch_add(1, Ordering::SeqCst);
                json(404, json!({"error": {"message": "not found"}}))
            }
        }
    })
}

#[test]
fn eight_threads_share_one_client_without_cross_talk_and_reuse_connections() {
    let mismatches = Arc::new(AtomicUsize::new(0));
    let server = server(Arc::clone(&mismatches));
    let client = Client::builder()
        .base_url(server.url())
        .timeout(Duration::from_secs(10))
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let started = Instant::now();
    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let client = client.clone();
            thread::spawn(move || {
                let ticket = ConfirmTicket::new("TfaActivation", uid(t), key(t)).unwrap();
                let mut wrong_answers = 0;
                for i in 0..CALLS {
                    if i % 2 == 0 {
                        let setup = client.tfa().setup_with(&ticket).expect("setup_with");
                        if setup.account != uid(t)
                            || setup.manual_entry_key.expose() != format!("KEY{t}")
                        {
                            wrong_answers += 1;
                        }
                    } else {
                        let c = code(t, i);
                        let v = client
                            .tfa()
                            .validate_with(&ticket, &c)
                            .expect("validate_with");
                        let expected = c[1..].parse::<u32>().unwrap() % 2 == 0;
                        if v.first_activation != expected {
                            wrong_answers += 1;
                        }
                    }
                }
                wrong_answers
            })
        })
        .collect();
    let wrong_answers: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    let took = started.elapsed();

    assert_eq!(
        mismatches.load(Ordering::SeqCst),
        0,
        "requests with the wrong ticket"
    );
    assert_eq!(wrong_answers, 0, "answers that reached the wrong thread");
    assert_eq!(server.requests(), THREADS * CALLS);
    let connections = server.connections();
    assert!(
        connections <= 2 * THREADS,
        "{connections} connections for {} calls: the pool is not reused",
        THREADS * CALLS
    );
    // Every request was seen with its own ticket on some connection; most connections served
    // many requests.
    eprintln!(
        "{} calls from {THREADS} threads in {took:?} over {connections} connections",
        THREADS * CALLS
    );
}

#[test]
fn a_ticket_never_travels_with_the_token_even_on_a_shared_client() {
    // The same client holds a token; ticket calls from other threads must still carry none.
    let mismatches = Arc::new(AtomicUsize::new(0));
    let server = server(Arc::clone(&mismatches));
    let client = Client::builder()
        .base_url(server.url())
        .token("sk-shared-token-0123456789")
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let client = client.clone();
            thread::spawn(move || {
                let ticket = ConfirmTicket::new("TfaActivation", uid(t), key(t)).unwrap();
                for _ in 0..25 {
                    let setup = client.tfa().setup_with(&ticket).unwrap();
                    assert_eq!(setup.account, uid(t));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(mismatches.load(Ordering::SeqCst), 0);
    assert_eq!(server.requests(), 100);
    // A wrong ticket is refused by the server, and the client says so.
    let wrong = ConfirmTicket::new("TfaActivation", uid(1), key(2)).unwrap();
    let err = client.tfa().setup_with(&wrong).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthorized, "{err}");
    assert_eq!(mismatches.load(Ordering::SeqCst), 1);
}
