//! A fast canned DocSpace for the benchmark: `std::net::TcpListener`, one thread per
//! connection, HTTP/1.1 keep-alive, answers prepared once at start. It parses just enough
//! HTTP (request line, `Content-Length`, `Connection`) to stay out of the way of the
//! clients under test, and counts connections and requests so that the benchmark can show
//! how many connections a run opened. Plain HTTP, or HTTPS with rustls (the TLS library
//! `ureq` already uses) and the loopback-only test certificate in `tls/`.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use rustls::pki_types::{CertificateDer, PrivatePkcs8KeyDer};

/// A throwaway CA for the HTTPS rows, and a certificate for `127.0.0.1` it signed, with its
/// key. Generated once with `openssl` for this benchmark (see `tls/README.md`); they protect
/// nothing (the server listens on loopback for the length of a run) and must never be
/// trusted anywhere else.
pub const CA_PEM: &[u8] = include_bytes!("tls/ca.pem");
const SERVER_PEM: &[u8] = include_bytes!("tls/server.pem");
const SERVER_KEY: &[u8] = include_bytes!("tls/server.key");

/// Whether the server keeps connections open.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// HTTP/1.1 keep-alive (what a portal behind nginx does).
    KeepAlive,
    /// `Connection: close` on every answer: every call needs a new connection.
    Close,
}

/// The realistic bodies the benchmark's calls get (see docs/server.md, "Envelope" and the settings endpoints).
const VALIDATE_BODY: &str = r#"{"response":true,"count":1,"links":[{"href":"http://127.0.0.1/api/2.0/settings/tfaapp/validate","action":"POST"}],"status":0,"statusCode":200}"#;
pub const SETTINGS_BODY: &str = r#"{"response":[{"id":"sms","title":"SMS","enabled":false,"available":false,"trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]},{"id":"app","title":"Authenticator app","enabled":true,"available":true,"trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]}],"count":2,"links":[{"href":"http://127.0.0.1/api/2.0/settings/tfaapp","action":"GET"}],"status":0,"statusCode":200}"#;
/// `GET settings/tfaapp/confirm` as a portal answers it for the app method (the URL and key of
/// `calls::CONFIRM_URL` and `calls::CONFIRM_KEY`).
const CONFIRM_BODY: &str = r#"{"response":{"url":"http://127.0.0.1/confirm/TfaActivation?type=TfaActivation&uid=66faa6e4-f133-11ea-b126-00ffeec8b4ef","cookieName":"asc_confirm_key_TfaActivation","cookieValue":"638712345678901234.Hq3VbKm0Xz7pWnYc2e4RtUoIaSdFgJ"},"count":1,"links":[{"href":"http://127.0.0.1/api/2.0/settings/tfaapp/confirm","action":"GET"}],"status":0,"statusCode":200}"#;
const NOT_FOUND_BODY: &str = r#"{"error":{"message":"Not found"},"status":1,"statusCode":404}"#;
/// The session cookie a real validate sets.
const VALIDATE_COOKIE: &str =
    "asc_auth_key=bench-session-token; path=/; expires=Tue, 01 Jan 2036 00:00:00 GMT; HttpOnly";

/// The answers, each as the exact bytes to write, with and without `Connection: close`.
struct Answers {
    validate: [Vec<u8>; 2],
    settings: [Vec<u8>; 2],
    confirm: [Vec<u8>; 2],
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
            confirm: both("200 OK", None, CONFIRM_BODY),
            not_found: both("404 Not Found", None, NOT_FOUND_BODY),
        }
    }
}

/// CPU time of the connection threads (of every server) that have ended, in nanoseconds.
pub static EXITED_CPU_NS: AtomicU64 = AtomicU64::new(0);

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
    scheme: &'static str,
}

impl Server {
    /// Binds `127.0.0.1:port` (0: any free port) and serves plain HTTP in background threads.
    pub fn start(mode: Mode, port: u16) -> io::Result<Server> {
        Server::spawn(mode, port, None)
    }

    /// The same over HTTPS (rustls with ring; TLS 1.3 or 1.2), with the certificate for
    /// `127.0.0.1` that [`CA_PEM`] signed.
    pub fn start_tls(mode: Mode, port: u16) -> Result<Server, String> {
        let pem_err = |e: ureq::Error| format!("the test certificate does not parse: {e}");
        let cert = ureq::tls::Certificate::from_pem(SERVER_PEM).map_err(pem_err)?;
        let key = ureq::tls::PrivateKey::from_pem(SERVER_KEY).map_err(pem_err)?;
        let chain = vec![CertificateDer::from(cert.der().to_vec())];
        let key = PrivatePkcs8KeyDer::from(key.der().to_vec());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(chain, key.into()))
            .map_err(|e| format!("TLS server config: {e}"))?;
        Server::spawn(mode, port, Some(Arc::new(config))).map_err(|e| e.to_string())
    }

    fn spawn(mode: Mode, port: u16, tls: Option<Arc<rustls::ServerConfig>>) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
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
                    let tls = tls.clone();
                    let conn = move || {
                        let _ = stream.set_nodelay(true);
                        match tls {
                            None => serve(stream, mode, &answers, &counters),
                            Some(config) => {
                                let conn = rustls::ServerConnection::new(config)
                                    .map_err(io::Error::other)?;
                                let stream = rustls::StreamOwned::new(conn, stream);
                                serve(stream, mode, &answers, &counters)
                            }
                        }
                    };
                    let spawned = thread::Builder::new()
                        .name("bench-conn".into())
                        // A client that goes away mid-request is not the server's problem.
                        .spawn(move || {
                            drop(conn());
                            // What this thread used, for the client's CPU figures (which
                            // are the process's minus the servers').
                            if let Some(ns) = crate::measure::thread_cpu_ns() {
                                EXITED_CPU_NS.fetch_add(ns, Ordering::Relaxed);
                            }
                        });
                    if let Err(e) = spawned {
                        eprintln!("bench server: cannot spawn a connection thread: {e}");
                    }
                }
            })?;
        Ok(Server {
            addr,
            stats,
            scheme,
        })
    }

    /// `http://127.0.0.1:port`, or `https://…` for [`Server::start_tls`].
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// `http://HOST:port`: the same server by another name (such as `localhost`).
    pub fn url_with_host(&self, host: &str) -> String {
        format!("{}://{host}:{}", self.scheme, self.addr.port())
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
fn serve<S: Read + Write>(
    stream: S,
    mode: Mode,
    answers: &Answers,
    stats: &Stats,
) -> io::Result<()> {
    let mut reader = BufReader::with_capacity(16 * 1024, stream);
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
            ("GET", "/api/2.0/settings/tfaapp/confirm") => &answers.confirm,
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
        let writer = reader.get_mut();
        writer.write_all(&answer[usize::from(close)])?;
        writer.flush()?;
        if close {
            return Ok(());
        }
    }
}
