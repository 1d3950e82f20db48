//! The client's resolver (src/resolver.rs) seen from outside: the connect timeout and the
//! deadline still hold, for an IP literal and for a host name, and a call that reuses a pooled
//! connection starts no thread (threads are counted in `/proc/self/task`).
//!
//! Loopback only: "an address that never answers" is a listener whose accept queue is full,
//! so that the kernel drops further connection attempts and `connect` waits.
#![cfg(target_os = "linux")]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use docspace_tfa::{Client, ErrorKind, RetryPolicy};

/// The tests of this file count threads and time timeouts: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

extern "C" {
    /// `listen(2)` from the C library `std` links anyway; `std` has no way to set a backlog.
    fn listen(fd: i32, backlog: i32) -> i32;
}

/// A loopback listener that never accepts, with its accept queue full: a connection attempt
/// to it is neither accepted nor refused, so `connect` waits for its timeout. Keep the
/// returned streams (they fill the queue) alive for the test.
fn black_hole() -> (TcpListener, Vec<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    // SAFETY: a valid, listening socket of this process; listen(2) on it again only changes
    // the backlog.
    assert_eq!(unsafe { listen(listener.as_raw_fd(), 0) }, 0);
    let addr = listener.local_addr().unwrap();
    let mut filling = Vec::new();
    // Linux queues backlog + 1 connections; connect until one waits.
    for _ in 0..16 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(200)) {
            Ok(s) => filling.push(s),
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return (listener, filling),
            Err(e) => panic!("unexpected connect error: {e}"),
        }
    }
    panic!("the accept queue never filled")
}

fn client(url: &str, connect_timeout: Duration, timeout: Duration) -> Client {
    Client::builder()
        .base_url(url)
        .token("sk-resolver-test")
        .connect_timeout(connect_timeout)
        .timeout(timeout)
        .retry(RetryPolicy::none())
        .build()
        .unwrap()
}

#[test]
fn an_address_that_never_answers_fails_at_the_connect_timeout() {
    let _serial = serial();
    let (listener, _filling) = black_hole();
    let port = listener.local_addr().unwrap().port();
    for host in ["127.0.0.1", "localhost"] {
        let client = client(
            &format!("http://{host}:{port}"),
            Duration::from_millis(300),
            Duration::from_secs(20),
        );
        let started = Instant::now();
        let err = client.tfa().methods().unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{host}: {err}");
        assert!(took >= Duration::from_millis(290), "{host}: {took:?}");
        assert!(took < Duration::from_secs(3), "{host}: {took:?}");
    }
}

#[test]
fn the_deadline_still_bounds_a_connection_that_never_answers() {
    let _serial = serial();
    // Accepts, reads, never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    for host in ["127.0.0.1", "localhost"] {
        let client = client(
            &format!("http://{host}:{port}"),
            Duration::from_secs(5),
            Duration::from_millis(300),
        );
        let started = Instant::now();
        let err = client.tfa().validate("123456").unwrap_err();
        let took = started.elapsed();
        assert_eq!(err.kind(), ErrorKind::Timeout, "{host}: {err}");
        assert!(took >= Duration::from_millis(290), "{host}: {took:?}");
        assert!(took < Duration::from_secs(3), "{host}: {took:?}");
    }
}

const SETTINGS: &str = r#"{"response":[{"id":"app","title":"Authenticator app","enabled":true,"available":true,"trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]}],"count":1,"links":[{"href":"http://127.0.0.1/api/2.0/settings/tfaapp","action":"GET"}],"status":0,"statusCode":200}"#;

/// A keep-alive server answering every request with the settings list; counts connections.
fn keep_alive_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&connections);
    let answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n\
         Content-Length: {}\r\n\r\n{SETTINGS}",
        SETTINGS.len()
    );
    thread::Builder::new()
        .name("test-accept".into())
        .spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                let answer = answer.clone();
                thread::Builder::new()
                    .name("test-conn".into())
                    .spawn(move || serve(stream, answer.as_bytes()))
                    .unwrap();
            }
        })
        .unwrap();
    (addr, connections)
}

fn serve(stream: TcpStream, answer: &[u8]) {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    loop {
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() || reader.get_mut().write_all(answer).is_err() {
            return;
        }
    }
}

/// This process's thread ids and names.
fn tasks() -> BTreeSet<(u32, String)> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let tid = e.file_name().to_str()?.parse().ok()?;
            let name = std::fs::read_to_string(e.path().join("comm")).ok()?;
            Some((tid, name.trim_end().to_owned()))
        })
        .collect()
}

/// Runs `calls` on this thread while another thread samples `/proc/self/task` as fast as it
/// can; returns the threads that appeared and were not the sampler's or a test server's.
/// (A thread a call starts inherits the calling thread's name, or has its own; the test
/// harness may start threads for other tests, named after them, which are ignored.)
fn threads_started_during(calls: impl FnOnce()) -> BTreeSet<(u32, String)> {
    let me = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
    let me = me.trim_end().to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let before = tasks();
    let sampler = {
        let stop = Arc::clone(&stop);
        thread::Builder::new()
            .name("test-sampler".into())
            .spawn(move || {
                let mut seen = BTreeSet::new();
                while !stop.load(Ordering::SeqCst) {
                    seen.extend(tasks());
                }
                seen
            })
            .unwrap()
    };
    // Let the sampler start before the calls.
    thread::sleep(Duration::from_millis(20));
    calls();
    stop.store(true, Ordering::SeqCst);
    let seen = sampler.join().unwrap();
    seen.into_iter()
        .filter(|t| !before.contains(t))
        .filter(|(_, name)| !name.starts_with("test-"))
        .filter(|(_, name)| *name == me || name.starts_with("docspace-tfa"))
        .collect()
}

#[test]
fn a_pooled_call_starts_no_thread() {
    let _serial = serial();
    let (addr, connections) = keep_alive_server();
    for url in [
        format!("http://{addr}"),
        format!("http://localhost:{}", addr.port()),
    ] {
        // The SDK's real timeouts (defaults: 10 s connect, 30 s deadline).
        let client = Client::builder()
            .base_url(&url)
            .token("sk-resolver-test")
            .build()
            .unwrap();
        // The first call opens the connection (and looks `localhost` up).
        assert_eq!(client.tfa().methods().unwrap().len(), 1);
        let opened = connections.load(Ordering::SeqCst);
        let started = threads_started_during(|| {
            for _ in 0..2000 {
                assert_eq!(client.tfa().methods().unwrap().len(), 1);
            }
        });
        assert_eq!(
            connections.load(Ordering::SeqCst),
            opened,
            "{url}: the calls were not pooled"
        );
        assert!(
            started.is_empty(),
            "{url}: pooled calls started threads: {started:?}"
        );
    }
}

/// The check above can see threads: `ureq`'s default resolver, with a timeout set, starts
/// one per call, and the sampler catches some of them.
#[test]
fn the_thread_count_sees_the_default_resolvers_threads() {
    let _serial = serial();
    let (addr, _) = keep_alive_server();
    let url = format!("http://{addr}/api/2.0/settings/tfaapp");
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let call = || {
        let mut r = agent.get(&url).call().unwrap();
        assert_eq!(r.body_mut().read_to_string().unwrap(), SETTINGS);
    };
    call();
    let started = threads_started_during(|| {
        for _ in 0..2000 {
            call();
        }
    });
    assert!(!started.is_empty(), "the sampler saw no thread");
}
