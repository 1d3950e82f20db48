//! A fast canned DocSpace for the benchmark: `std::net::TcpListener`, one thread per
//! connection, HTTP/1.1 keep-alive, answers prepared once at start. It parses just enough
//! HTTP (request line, `Content-Length`, `Connection`) to stay out of the way of the
//! clients under test, and counts connections and requests so that the benchmark can show
//! how many connections a run opened.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

/// Whether the server keeps connections open.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// HTTP/1.1 keep-alive (what a portal behind nginx does).
    KeepAlive,
    /// `Connection: close` on every answer: every call needs a new connection.
    Close,
}

/// The realistic bodies the benchmark's calls get (see docs/docspace-api.md, §1 and §4).
const VALIDATE_BODY: &str = r#"{"response":true,"count":1,"links":[{"href":"http://127.0.0.1/api/2.0/settings/tfaapp/validate","action":"POST"}],"status":0,"statusCode":200}"#;
const SETTINGS_BODY: &str = r#"{"response":[{"id":"sms","title":"SMS","enabled":false,"available":false,"trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]},{"id":"app","title":"Authenticator app","enabled":true,"available":true,"trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]}],"count":2,"links":[{"href":"http://127.0.0.1/api/2.0/settings/tfaapp","action":"GET"}],"status":0,"statusCode":200}"#;
const NOT_FOUND_BODY: &str = r#"{"error":{"message":"Not found"},"status":1,"statusCode":404}"#;
/// The session cookie a real validate sets.
const VALIDATE_COOKIE: &str =
    "asc_auth_key=bench-session-token; path=/; expires=Tue, 01 Jan 2036 00:00:00 GMT; HttpOnly";

/// The answers, each as the exact bytes to write, with and without `Connection: close`.
struct Answers {
    validate: [Vec<u8>; 2],
    settings: [Vec<u8>; 2],
    not_found: [Vec<u8>; 2],
}

impl Answers {
    fn new() -> Answers {
        let both = |status: &str, cookie: Option<&str>, body: &str| {
            [false, true].map(|close| {
                let mut head = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\n\
                     Content-Length: {}\r\nServer: bench\r\n",
                    body.len()
                );
                if let Some(c) = cookie {
                    head.push_str(&format!("Set-Cookie: {c}\r\n"));
                }
                if close {
                    head.push_str("Connection: close\r\n");
                }
                head.push_str("\r\n");
                let mut bytes = head.into_bytes();
                bytes.extend_from_slice(body.as_bytes());
                bytes
            })
        };
        Answers {
            validate: both("200 OK", Some(VALIDATE_COOKIE), VALIDATE_BODY),
            settings: both("200 OK", None, SETTINGS_BODY),
            not_found: both("404 Not Found", None, NOT_FOUND_BODY),
        }
    }
}

/// Counters shared with the connection threads.
#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    requests: AtomicUsize,
}

/// A running server. Its threads live until the process ends.
pub struct Server {
    addr: SocketAddr,
    stats: Arc<Stats>,
}

impl Server {
    /// Binds `127.0.0.1:port` (0: any free port) and serves in background threads.
    pub fn start(mode: Mode, port: u16) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let stats = Arc::new(Stats::default());
        let answers = Arc::new(Answers::new());
        let counters = Arc::clone(&stats);
        thread::Builder::new()
            .name("bench-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let Ok(stream) = stream else { continue };
                    counters.connections.fetch_add(1, Ordering::Relaxed);
                    let counters = Arc::clone(&counters);
                    let answers = Arc::clone(&answers);
                    let spawned =
                        thread::Builder::new()
                            .name("bench-conn".into())
                            .spawn(move || {
                                // A client that goes away mid-request is not the server's problem.
                                let _ = serve(stream, mode, &answers, &counters);
                            });
                    if let Err(e) = spawned {
                        eprintln!("bench server: cannot spawn a connection thread: {e}");
                    }
                }
            })?;
        Ok(Server { addr, stats })
    }

    /// `http://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.stats.connections.load(Ordering::Relaxed)
    }

    /// Requests answered so far.
    pub fn requests(&self) -> usize {
        self.stats.requests.load(Ordering::Relaxed)
    }
}

/// Serves one connection until the client closes it (or, in [`Mode::Close`], one request).
fn serve(stream: TcpStream, mode: Mode, answers: &Answers, stats: &Stats) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::with_capacity(16 * 1024, stream.try_clone()?);
    let mut writer = stream;
    let mut line = String::with_capacity(256);
    let mut body = Vec::with_capacity(256);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_ascii_whitespace();
        let method = parts.next().unwrap_or_default();
        let path = parts.next().unwrap_or_default();
        let path = path.split('?').next().unwrap_or_default();
        let answer = match (method, path) {
            ("POST", "/api/2.0/settings/tfaapp/validate") => &answers.validate,
            ("GET", "/api/2.0/settings/tfaapp") => &answers.settings,
            _ => &answers.not_found,
        };
        let mut content_length = 0usize;
        let mut close = mode == Mode::Close;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    content_length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("connection")
                    && value.eq_ignore_ascii_case("close")
                {
                    close = true;
                }
            }
        }
        body.resize(content_length, 0);
        reader.read_exact(&mut body)?;
        stats.requests.fetch_add(1, Ordering::Relaxed);
        writer.write_all(&answer[usize::from(close)])?;
        if close {
            return Ok(());
        }
    }
}
