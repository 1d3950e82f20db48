//! A misbehaving HTTP/1.1 server for the fault, retry and concurrency tests.
//!
//! Plain `std::net` threads, no dependencies. The server binds `127.0.0.1:0`, counts the
//! connections it accepts and the requests it reads, records every request, and answers each
//! one with the [`Action`] its handler picks: a well-formed answer, bytes that break off, a
//! reset, a stall.
//!
//! Nothing it starts can outlive the test for long: the accept loop stops when the
//! [`FaultServer`] is dropped or after [`LIFETIME`], connection threads stop on the same signal,
//! after [`IDLE`] without a request, or at the end of a bounded stall.
#![allow(dead_code)]

use std::io::{ErrorKind as IoErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest a server accepts connections, even if it is never dropped.
pub const LIFETIME: Duration = Duration::from_secs(30);
/// How long a connection thread waits for the next request before it closes the connection.
pub const IDLE: Duration = Duration::from_secs(3);
/// The largest request head or body the server reads.
const MAX_REQUEST: usize = 64 * 1024;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target, such as `/api/2.0/settings/tfaapp/setup`.
    pub path: String,
    /// Header names in lower case, with their values.
    pub headers: Vec<(String, String)>,
    /// The request body.
    pub body: Vec<u8>,
    /// Which connection it came on (1-based, in accept order).
    pub connection: usize,
    /// Which request it was, over the server's life (1-based).
    pub number: usize,
}

impl Seen {
    /// The value of header `name` (case-insensitive), if present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server does with a request it has read.
pub enum Action {
    /// Write these bytes, then close the connection.
    Write(Vec<u8>),
    /// Write these bytes and wait for the next request on the same connection.
    WriteKeepAlive(Vec<u8>),
    /// Close the connection without writing anything (no status line).
    Close,
    /// Write these bytes (possibly none), then reset the connection (TCP RST).
    WriteThenReset(Vec<u8>),
    /// Write these bytes (possibly none), then hold the connection silently for the duration
    /// (bounded by the server's stop signal), then close it.
    WriteThenStall(Vec<u8>, Duration),
    /// Write `head`, then `chunk` again and again until `total` bytes of body were written or
    /// the peer stopped reading; then close.
    Stream {
        head: Vec<u8>,
        chunk: Vec<u8>,
        total: usize,
    },
}

type Handler = dyn Fn(&Seen) -> Action + Send + Sync;

struct State {
    stop: AtomicBool,
    connections: AtomicUsize,
    requests: AtomicUsize,
    seen: Mutex<Vec<Seen>>,
    handler: Box<Handler>,
}

impl State {
    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// A running misbehaving server. Dropping it stops it.
pub struct FaultServer {
    addr: SocketAddr,
    state: Arc<State>,
}

impl FaultServer {
    /// Starts a server that answers each request with what `handler` returns.
    pub fn start(handler: impl Fn(&Seen) -> Action + Send + Sync + 'static) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(State {
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            seen: Mutex::new(Vec::new()),
            handler: Box::new(handler),
        });
        let shared = Arc::clone(&state);
        thread::spawn(move || accept_loop(listener, shared));
        FaultServer { addr, state }
    }

    /// Starts a server that answers every request with the same action.
    pub fn always(make: impl Fn() -> Action + Send + Sync + 'static) -> FaultServer {
        FaultServer::start(move |_| make())
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The host and port, such as `127.0.0.1:40123`.
    pub fn authority(&self) -> String {
        self.addr.to_string()
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::SeqCst)
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// Every request read so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.state
            .seen
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }

    /// Requests read so far whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path.starts_with(prefix))
            .count()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
    }
}

fn accept_loop(listener: TcpListener, state: Arc<State>) {
    let started = Instant::now();
    while !state.stopping() && started.elapsed() < LIFETIME {
        match listener.accept() {
            Ok((stream, _)) => {
                let number = state.connections.fetch_add(1, Ordering::SeqCst) + 1;
                let shared = Arc::clone(&state);
                thread::spawn(move || serve(stream, number, &shared));
            }
            Err(e) if e.kind() == IoErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(2));
            }
            Err(_) => thread::sleep(Duration::from_millis(2)),
        }
    }
}

/// Serves one connection until it is closed, idle, or the server stops.
fn serve(stream: TcpStream, connection: usize, state: &State) {
    let mut stream = stream;
    if stream.set_nonblocking(false).is_err()
        || stream
            .set_read_timeout(Some(Duration::from_millis(100)))
            .is_err()
    {
        return;
    }
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = stream.set_nodelay(true);
    loop {
        let Some((mut seen, consumed)) = peek_request(&stream, state) else {
            return;
        };
        seen.connection = connection;
        seen.number = state.requests.fetch_add(1, Ordering::SeqCst) + 1;
        if let Ok(mut all) = state.seen.lock() {
            all.push(seen.clone());
        }
        let action = match (state.handler)(&seen) {
            Action::WriteThenReset(bytes) => {
                // Leave the request unread: closing a socket with unread input makes the
                // kernel send a RST instead of a FIN.
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                return;
            }
            other => other,
        };
        let mut discard = vec![0u8; consumed];
        if stream.read_exact(&mut discard).is_err() {
            return;
        }
        match action {
            Action::Write(bytes) => {
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                let _ = stream.shutdown(Shutdown::Write);
                linger_until_closed(&mut stream, state);
                return;
            }
            Action::WriteKeepAlive(bytes) => {
                if stream.write_all(&bytes).is_err() {
                    return;
                }
            }
            Action::Close => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Action::WriteThenStall(bytes, duration) => {
                let _ = stream.write_all(&bytes);
                let _ = stream.flush();
                let until = Instant::now() + duration;
                while Instant::now() < until && !state.stopping() {
                    thread::sleep(Duration::from_millis(10));
                }
                return;
            }
            Action::Stream { head, chunk, total } => {
                if stream.write_all(&head).is_err() || chunk.is_empty() {
                    return;
                }
                let mut written = 0;
                while written < total && !state.stopping() {
                    let n = chunk.len().min(total - written);
                    if stream.write_all(&chunk[..n]).is_err() {
                        return;
                    }
                    written += n;
                }
                return;
            }
            Action::WriteThenReset(_) => return,
        }
    }
}

/// After a response with `Connection: close`: wait (briefly) for the client to close, so that
/// the client reads the whole answer before the socket goes away.
fn linger_until_closed(stream: &mut TcpStream, state: &State) {
    let until = Instant::now() + Duration::from_secs(1);
    let mut buf = [0u8; 1024];
    while Instant::now() < until && !state.stopping() {
        match stream.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), IoErrorKind::WouldBlock | IoErrorKind::TimedOut) => {}
            Err(_) => return,
        }
    }
}

/// Peeks at the socket until a whole request (head and `Content-Length` body) is buffered, and
/// returns it with the number of bytes it takes. `None` when the peer closed, the connection
/// stayed idle for [`IDLE`], the request is malformed or too large, or the server stops.
fn peek_request(stream: &TcpStream, state: &State) -> Option<(Seen, usize)> {
    let started = Instant::now();
    let mut buf = vec![0u8; MAX_REQUEST * 2];
    loop {
        if state.stopping() || started.elapsed() > IDLE {
            return None;
        }
        let n = match stream.peek(&mut buf) {
            Ok(0) => return None,
            Ok(n) => n,
            Err(e) if matches!(e.kind(), IoErrorKind::WouldBlock | IoErrorKind::TimedOut) => {
                continue
            }
            Err(_) => return None,
        };
        let data = &buf[..n];
        let Some(head_end) = find(data, b"\r\n\r\n") else {
            if n >= MAX_REQUEST {
                return None;
            }
            thread::sleep(Duration::from_millis(1));
            continue;
        };
        let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut request_line = lines.next().unwrap_or_default().split(' ');
        let method = request_line.next().unwrap_or_default().to_owned();
        let path = request_line.next().unwrap_or_default().to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse::<usize>().ok())
            .unwrap_or(0);
        if length > MAX_REQUEST {
            return None;
        }
        let total = head_end + 4 + length;
        if n < total {
            thread::sleep(Duration::from_millis(1));
            continue;
        }
        let body = data[head_end + 4..total].to_vec();
        return Some((
            Seen {
                method,
                path,
                headers,
                body,
                connection: 0,
                number: 0,
            },
            total,
        ));
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A complete HTTP/1.1 answer with `Content-Length` and `Connection: close`.
pub fn http(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    answer(status, headers, body, false)
}

/// A complete HTTP/1.1 answer with `Content-Length`, for a kept-alive connection.
pub fn http_keep_alive(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    answer(status, headers, body, true)
}

/// A `200` JSON answer with `Connection: close`.
pub fn json_200(body: &str) -> Vec<u8> {
    http(
        200,
        &[("Content-Type", "application/json; charset=utf-8")],
        body.as_bytes(),
    )
}

fn answer(status: u16, headers: &[(&str, &str)], body: &[u8], keep_alive: bool) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("Content-Length: {}\r\n", body.len()));
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        401 => "Unauthorized",
        403 => "Forbidden",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

/// A loopback address on which nothing listens (connection refused).
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    drop(listener);
    format!("http://{addr}")
}

/// A listener that never accepts, with its accept queue full: a connect to it hangs (the
/// kernel drops the SYN). Returns the URL, the listener and the connections that fill the
/// queue; keep all three alive while the URL is used.
pub fn full_backlog() -> (String, TcpListener, Vec<TcpStream>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let addr = listener.local_addr().expect("local address");
    let mut held = Vec::new();
    // Linux queues backlog + 1 (129 for std's 128) connections; stop at the first that hangs.
    for _ in 0..1024 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(100)) {
            Ok(s) => held.push(s),
            Err(_) => break,
        }
    }
    (format!("http://{addr}"), listener, held)
}
