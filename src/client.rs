//! The client, its builder, and the one place where requests are sent.
//!
//! Every endpoint in the crate is described as a [`Request`] (method, path, credential, body,
//! how to classify its errors, whether it may be retried) and handed to [`Client::send`], which
//! adds the headers, sends it through the shared `ureq` agent, reads a bounded body and turns
//! the answer into a [`Reply`] or an [`Error`] (through [`crate::answer`]).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::http::Uri;

use crate::answer::{parse_success_body, status_error};
use crate::auth::Auth;
use crate::error::{Error, Result};
use crate::people::People;
use crate::proxy::{self, Proxy};
use crate::redact::{snippet, Redactions};
use crate::request::{header_str, Credential, Reply, Request, Retry};
use crate::resolver::CachingResolver;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::tfa::Tfa;
use crate::tls::{self, TlsRoots};

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("docspace-tfa/", env!("CARGO_PKG_VERSION"));

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default deadline for one request, from sending it to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest connect timeout or deadline a client accepts: one day. A longer one would
/// overflow the transport's clock arithmetic (`Instant + Duration::MAX` panics).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);
/// Default limit of a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// Idle keep-alive connections the pool keeps (all to the one portal).
const MAX_IDLE_CONNECTIONS: usize = 16;

/// A blocking client for the DocSpace TFA API.
///
/// Cheap to clone: clones share one `ureq` agent, and so one keep-alive connection pool, which
/// keeps up to 16 idle connections to the portal. `Client` is `Send + Sync`; share it between
/// threads freely.
///
/// The portal's host name is looked up once and its addresses are reused for 30 seconds (an
/// IP literal is never looked up), so a call on a pooled connection neither waits for name
/// resolution nor starts a thread; the connect timeout and the deadline apply as set.
///
/// ```no_run
/// use docspace_tfa::Client;
///
/// let client = Client::builder()
///     .base_url("https://portal.example.com")
///     .token("sk-…")
///     .build()?;
/// let setup = client.tfa().setup()?;
/// println!("add {} to your authenticator app", setup.account);
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    agent: ureq::Agent,
    /// `scheme://host[:port][/prefix]`, without a trailing slash.
    base_url: String,
    token: Option<Secret>,
    retry: RetryPolicy,
    max_response_bytes: u64,
    connect_timeout: Duration,
    timeout: Duration,
    /// Bounds each call, attempts and waits included.
    total_timeout: Option<Duration>,
    /// No call runs past it.
    deadline: Option<Instant>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("token", &self.inner.token)
            .field("connect_timeout", &self.inner.connect_timeout)
            .field("timeout", &self.inner.timeout)
            .field("retry", &self.inner.retry)
            .field("max_response_bytes", &self.inner.max_response_bytes)
            .field("total_timeout", &self.inner.total_timeout)
            .field("deadline", &self.inner.deadline)
            .finish()
    }
}

/// Builds a [`Client`]: `Client::builder().base_url(..).token(..).build()?`.
///
/// Everything but the base URL has a default.
#[derive(Clone)]
pub struct ClientBuilder {
    base_url: Option<String>,
    token: Option<Secret>,
    connect_timeout: Duration,
    timeout: Duration,
    allow_insecure_http: bool,
    retry: RetryPolicy,
    max_response_bytes: u64,
    tls_roots: TlsRoots,
    root_certificates_pem: Vec<Vec<u8>>,
    proxy: Proxy,
    total_timeout: Option<Duration>,
    deadline: Option<Instant>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("base_url", &self.base_url)
            .field("token", &self.token)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("retry", &self.retry)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("tls_roots", &self.tls_roots)
            .field("root_certificates_pem", &self.root_certificates_pem.len())
            .field("proxy", &self.proxy)
            .field("total_timeout", &self.total_timeout)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            base_url: None,
            token: None,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            allow_insecure_http: false,
            retry: RetryPolicy::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            tls_roots: TlsRoots::default(),
            root_certificates_pem: Vec::new(),
            proxy: Proxy::default(),
            total_timeout: None,
            deadline: None,
        }
    }
}

impl ClientBuilder {
    /// The portal's address, such as `https://portal.example.com`.
    ///
    /// A trailing `/` and a trailing `/api/2.0` are tolerated; a path prefix is kept. The URL
    /// must have a scheme (`https`, or `http` for a loopback host) and a host, and no query,
    /// fragment or user info. It is checked by [`build`](Self::build).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// The bearer token: a personal access token / API key (`sk-…`) or the token of a login.
    /// Optional: a login needs none. Default: none.
    pub fn token(mut self, token: impl Into<Secret>) -> Self {
        self.token = Some(token.into());
        self
    }

    /// The time allowed to establish a connection, TLS included. Default: 10 s. At most
    /// [`MAX_TIMEOUT`] (a longer one is cut to it).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// The deadline of one attempt, from sending the request to the last byte of the answer.
    /// Default: 30 s. At most [`MAX_TIMEOUT`] (a longer one is cut to it).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// Allows plain `http://` to a host that is not loopback. Default: `false`, so that a
    /// token is never sent in clear text by accident. `http://` to `localhost`, `127.0.0.0/8`
    /// and `::1` is always allowed.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// The retry policy for idempotent reads. Default: [`RetryPolicy::default`].
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The largest response body accepted, in bytes. Default: 4 MiB.
    pub fn max_response_bytes(mut self, limit: u64) -> Self {
        self.max_response_bytes = limit;
        self
    }

    /// Trusts the certificates of a PEM text (one or many `-----BEGIN CERTIFICATE-----`
    /// sections; other sections are skipped) as root certificate authorities: the way to
    /// reach a portal behind an internal CA. May be called several times; all are trusted.
    /// They *replace* the bundled roots (as `curl --cacert` does). Default: none, and
    /// [`tls_roots`](Self::tls_roots) decides. The text is checked by [`build`](Self::build).
    pub fn add_root_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.root_certificates_pem.push(pem.as_ref().to_vec());
        self
    }

    /// The root certificate authorities trusted when no
    /// [`add_root_certificates_pem`](Self::add_root_certificates_pem) was given. Default:
    /// [`TlsRoots::Bundled`] (Mozilla's roots, built in).
    pub fn tls_roots(mut self, roots: TlsRoots) -> Self {
        self.tls_roots = roots;
        self
    }

    /// How the portal is reached: [`Proxy::FromEnv`] (the default), [`Proxy::Direct`] or
    /// [`Proxy::Url`]. A loopback portal is always reached directly. See [`Proxy`].
    pub fn proxy(mut self, proxy: Proxy) -> Self {
        self.proxy = proxy;
        self
    }

    /// The deadline of a whole call, every attempt and every wait between retries included:
    /// no attempt runs and no retry starts past it. Default: none (each attempt is bounded
    /// by [`timeout`](Self::timeout), the retries by
    /// [`RetryPolicy::max_elapsed`]). At most [`MAX_TIMEOUT`].
    pub fn total_timeout(mut self, total: Duration) -> Self {
        self.total_timeout = Some(total.min(MAX_TIMEOUT));
        self
    }

    /// An absolute deadline for every call of the client (and of the clients made from it
    /// with [`Client::with_token`]): a call past it fails with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) without sending anything. For a
    /// program that must finish a sequence of calls by a given time. Default: none.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Checks the settings and builds the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when the base URL is missing or malformed, or is plain
    /// `http://` to a non-loopback host without
    /// [`allow_insecure_http`](Self::allow_insecure_http); when the token holds characters
    /// a bearer token cannot have; when a root certificate PEM holds no certificate; when the
    /// proxy (given or from the environment) is malformed or of an unsupported kind.
    pub fn build(self) -> Result<Client> {
        let raw = self.base_url.as_deref().ok_or_else(|| {
            Error::invalid_input(
                "base URL",
                "none was given (set `base_url` or DOCSPACE_URL)",
            )
        })?;
        let base_url = normalize_base_url(raw, self.allow_insecure_http)?;
        let token = self.token.filter(|t| !t.expose().trim().is_empty());
        if let Some(token) = &token {
            check_token(token)?;
        }
        let host = base_url
            .parse::<Uri>()
            .ok()
            .and_then(|u| u.host().map(str::to_owned))
            .unwrap_or_default();
        let proxy = proxy::resolve(&self.proxy, &host, |name| std::env::var(name).ok())?;
        let tls_config = tls::config(self.tls_roots, &self.root_certificates_pem)?;
        let config = ureq::Agent::config_builder()
            .proxy(proxy)
            .tls_config(tls_config)
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .timeout_connect(Some(self.connect_timeout))
            .timeout_global(Some(self.timeout))
            // ureq keeps 3 idle connections per host by default; a client talks to one host,
            // often from several threads, and would otherwise open a new connection for most
            // calls once more than 3 threads share it.
            .max_idle_connections(MAX_IDLE_CONNECTIONS)
            .max_idle_connections_per_host(MAX_IDLE_CONNECTIONS)
            .build();
        // The resolver answers IP literals and recently resolved names without a lookup or a
        // thread (see src/resolver.rs); the connector is ureq's default.
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::new(),
            CachingResolver::new(),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                agent,
                base_url,
                token,
                retry: self.retry,
                max_response_bytes: self.max_response_bytes,
                connect_timeout: self.connect_timeout,
                timeout: self.timeout,
                total_timeout: self.total_timeout,
                deadline: self.deadline,
            }),
        })
    }
}

impl Client {
    /// Starts a [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Builds a client from `DOCSPACE_URL` and, when set, `DOCSPACE_TOKEN`, with default
    /// settings otherwise.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `DOCSPACE_URL` is unset or invalid.
    pub fn from_env() -> Result<Client> {
        let url = std::env::var("DOCSPACE_URL")
            .ok()
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| Error::invalid_input("base URL", "DOCSPACE_URL is not set"))?;
        let mut builder = Client::builder().base_url(url);
        if let Ok(token) = std::env::var("DOCSPACE_TOKEN") {
            builder = builder.token(token);
        }
        builder.build()
    }

    /// A client for the same portal with another token, sharing this client's connection pool
    /// and settings. Use it to continue with the token of a login.
    pub fn with_token(&self, token: impl Into<Secret>) -> Client {
        let token: Secret = token.into();
        Client {
            inner: Arc::new(Inner {
                agent: self.inner.agent.clone(),
                base_url: self.inner.base_url.clone(),
                token: Some(token).filter(|t| !t.expose().trim().is_empty()),
                retry: self.inner.retry.clone(),
                max_response_bytes: self.inner.max_response_bytes,
                connect_timeout: self.inner.connect_timeout,
                timeout: self.inner.timeout,
                total_timeout: self.inner.total_timeout,
                deadline: self.inner.deadline,
            }),
        }
    }

    /// A client for the same portal with the same token and settings, sharing this client's
    /// connection pool, whose calls end by `deadline` (see [`ClientBuilder::deadline`]).
    pub fn with_deadline(&self, deadline: Instant) -> Client {
        Client {
            inner: Arc::new(Inner {
                agent: self.inner.agent.clone(),
                base_url: self.inner.base_url.clone(),
                token: self.inner.token.clone(),
                retry: self.inner.retry.clone(),
                max_response_bytes: self.inner.max_response_bytes,
                connect_timeout: self.inner.connect_timeout,
                timeout: self.inner.timeout,
                total_timeout: self.inner.total_timeout,
                deadline: Some(deadline),
            }),
        }
    }

    /// The normalized base URL, such as `https://portal.example.com` (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Whether the client holds a bearer token.
    pub fn has_token(&self) -> bool {
        self.inner.token.is_some()
    }

    /// The TFA settings endpoints (`/api/2.0/settings/tfaapp…`).
    pub fn tfa(&self) -> Tfa<'_> {
        Tfa::new(self)
    }

    /// The authentication endpoints (`/api/2.0/authentication…`).
    pub fn auth(&self) -> Auth<'_> {
        Auth::new(self)
    }

    /// The people endpoints this crate needs (`/api/2.0/people/@self`).
    pub fn people(&self) -> People<'_> {
        People::new(self)
    }

    /// Sends a request: the one place where the crate talks to the network.
    pub(crate) fn send(&self, req: Request<'_>) -> Result<Reply> {
        let started = Instant::now();
        let end = call_end(started, self.inner.total_timeout, self.inner.deadline);
        let policy = &self.inner.retry;
        let attempts = if req.retry == Retry::Safe {
            policy.attempts()
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let failure = match self.attempt(&req, end) {
                Ok(reply) => return Ok(reply),
                // Only a failure pays for collecting the request's secrets.
                Err(f) => f.redacted(&Redactions::of(self.inner.token.as_ref(), &req)),
            };
            let wait = match (&failure, attempt < attempts) {
                (_, false) => None,
                // A timeout is not retried: the deadline is the caller's (see RetryPolicy).
                (Failure::BeforeResponse(e), true) if e.is_timeout() => None,
                (Failure::BeforeResponse(_), true) => Some(policy.backoff(attempt)),
                (Failure::Status(err), true) => retry_wait(err, policy, attempt),
                (Failure::Final(_), true) => None,
            };
            let remaining = end.map(|end| end.saturating_duration_since(Instant::now()));
            match wait {
                Some(w) if policy.allows(started.elapsed(), w, remaining) => {
                    std::thread::sleep(w);
                    attempt += 1;
                }
                _ => return Err(failure.into_error()),
            }
        }
    }

    /// One attempt: build the request, send it, read and check the answer.
    fn attempt(
        &self,
        req: &Request<'_>,
        end: Option<Instant>,
    ) -> std::result::Result<Reply, Failure> {
        let base = &self.inner.base_url;
        let mut url = String::with_capacity(base.len() + "/api/2.0/".len() + req.path.len());
        url.push_str(base);
        url.push_str("/api/2.0/");
        url.push_str(&req.path);
        // From the owned String: `http` keeps its bytes instead of copying them.
        let uri = Uri::try_from(url).map_err(|_| {
            Failure::Final(Error::invalid_input(
                "request path",
                format!("{} does not form a valid URL", req.operation()),
            ))
        })?;
        let mut builder = ureq::http::Request::builder()
            .method(req.method.clone())
            .uri(uri)
            .header("Accept", "application/json");
        match req.credential {
            Credential::Anonymous => {}
            Credential::Bearer => {
                let token = self.inner.token.as_ref().ok_or_else(|| {
                    Failure::Final(Error::invalid_input(
                        "token",
                        format!(
                            "{} needs a bearer token; set one on the builder, in DOCSPACE_TOKEN, or log in",
                            req.operation()
                        ),
                    ))
                })?;
                builder = builder.header("Authorization", format!("Bearer {}", token.expose()));
            }
            Credential::Ticket(ticket) => {
                builder = builder.header("Confirm", ticket.header_value());
            }
        }
        let body: &[u8] = match &req.body {
            Some(json) => {
                builder = builder.header("Content-Type", "application/json");
                json.as_bytes()
            }
            None => &[],
        };
        let request = builder.body(body).map_err(|_| {
            Failure::Final(Error::invalid_input(
                "request",
                format!("{}: a header value is not valid HTTP", req.operation()),
            ))
        })?;
        let remaining = end.map(|end| end.saturating_duration_since(Instant::now()));
        let request = match remaining {
            Some(left) if left.is_zero() => {
                return Err(Failure::Final(Error::Transport {
                    operation: req.operation(),
                    timeout: true,
                    source: Box::new(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the call's deadline passed before the request was sent",
                    )),
                }))
            }
            // Only a deadline closer than the usual timeout pays for a per-request config.
            Some(left) if left < self.inner.timeout => self
                .inner
                .agent
                .configure_request(request)
                .timeout_global(Some(left))
                .timeout_connect(Some(left.min(self.inner.connect_timeout)))
                .build(),
            _ => request,
        };
        let response = self
            .inner
            .agent
            .run(request)
            .map_err(|e| Failure::BeforeResponse(self.transport_error(req, e)))?;

        // Taken apart, so that the headers move into the reply instead of being cloned.
        let (parts, mut answer) = response.into_parts();
        let status = parts.status.as_u16();
        let headers = parts.headers;
        if (300..400).contains(&status) {
            return Err(Failure::Final(Error::Redirect {
                operation: req.operation(),
                status,
                location: header_str(&headers, "location").map(str::to_owned),
            }));
        }
        let success = (200..300).contains(&status);
        let limit = self.inner.max_response_bytes;
        let bytes = match answer.with_config().limit(limit).read_to_vec() {
            Ok(bytes) => bytes,
            // An error status is classified by its status: an oversized error page (a proxy's)
            // must neither hide it nor keep a 502 or 503 from being retried.
            Err(ureq::Error::BodyExceedsLimit(_)) if !success => {
                format!("[the body exceeded the limit of {limit} bytes]").into_bytes()
            }
            Err(e) => return Err(Failure::Final(self.transport_error(req, e))),
        };

        if success {
            let value = parse_success_body(&bytes).map_err(|reason| {
                Failure::Final(Error::Decode {
                    operation: req.operation(),
                    expected: "JSON",
                    reason,
                    snippet: snippet(&bytes),
                })
            })?;
            return Ok(Reply {
                operation: req.operation(),
                value,
                headers,
            });
        }
        Err(Failure::Status(status_error(req, status, &headers, &bytes)))
    }

    /// Maps a transport error of `ureq` to ours.
    fn transport_error(&self, req: &Request<'_>, e: ureq::Error) -> Error {
        match e {
            ureq::Error::BodyExceedsLimit(_) => Error::ResponseTooLarge {
                operation: req.operation(),
                limit: self.inner.max_response_bytes,
            },
            ureq::Error::Timeout(_) => Error::Transport {
                operation: req.operation(),
                timeout: true,
                source: Box::new(e),
            },
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => Error::Transport {
                operation: req.operation(),
                timeout: true,
                source: Box::new(io),
            },
            other => Error::Transport {
                operation: req.operation(),
                timeout: false,
                source: match tls::untrusted_certificate(&other) {
                    Some(untrusted) => Box::new(untrusted),
                    None => Box::new(other),
                },
            },
        }
    }
}

/// How a failed attempt ended, which decides whether it may be retried.
enum Failure {
    /// No response arrived (connect failed, reset before the status line).
    BeforeResponse(Error),
    /// An error status, possibly retryable (`429`, `502`, `503`, `504`).
    Status(Error),
    /// Anything else: never retried.
    Final(Error),
}

impl Failure {
    /// The same failure with every secret of the request removed from its texts.
    fn redacted(self, redactions: &Redactions) -> Failure {
        match self {
            Failure::BeforeResponse(e) => Failure::BeforeResponse(redactions.error(e)),
            Failure::Status(e) => Failure::Status(redactions.error(e)),
            Failure::Final(e) => Failure::Final(redactions.error(e)),
        }
    }

    fn into_error(self) -> Error {
        match self {
            Failure::BeforeResponse(e) | Failure::Status(e) | Failure::Final(e) => e,
        }
    }
}

/// The wait before retrying after an error status, or `None` when it must not be retried.
fn retry_wait(err: &Error, policy: &RetryPolicy, attempt: u32) -> Option<Duration> {
    let status = err.status()?;
    match status {
        502..=504 => Some(
            err.retry_after()
                .filter(|w| *w <= policy.retry_after_cap())
                .unwrap_or_else(|| policy.backoff(attempt)),
        ),
        429 => match err.retry_after() {
            Some(w) if w <= policy.retry_after_cap() => Some(w),
            Some(_) => None,
            None => Some(policy.backoff(attempt)),
        },
        _ => None,
    }
}

/// The end of a call that starts at `started`: the nearer of its total timeout and the
/// client's deadline.
fn call_end(
    started: Instant,
    total: Option<Duration>,
    deadline: Option<Instant>,
) -> Option<Instant> {
    let by_total = total.and_then(|t| started.checked_add(t));
    match (by_total, deadline) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Refuses a token that cannot travel in an `Authorization` header: anything but visible
/// ASCII (a non-ASCII character, a space, a control character inside it).
fn check_token(token: &Secret) -> Result<()> {
    if token.expose().trim().bytes().all(|b| b.is_ascii_graphic()) {
        return Ok(());
    }
    Err(Error::invalid_input(
        "token",
        "it holds a character a bearer token cannot have (only visible ASCII; no spaces, \
         control or non-ASCII characters)",
    ))
}

/// Checks and normalizes a base URL to `scheme://authority[/prefix]`.
fn normalize_base_url(raw: &str, allow_insecure_http: bool) -> Result<String> {
    let bad = |reason: &str| Error::invalid_input("base URL", reason.to_owned());
    let s = raw.trim();
    if s.is_empty() {
        return Err(bad("it is empty"));
    }
    if s.chars().any(char::is_whitespace) {
        return Err(bad("it contains whitespace"));
    }
    if s.contains('#') {
        return Err(bad("it has a fragment (`#…`)"));
    }
    let uri: Uri = s
        .parse()
        .map_err(|_| bad("it is not a URL (expected https://portal.example.com)"))?;
    let scheme = match uri.scheme_str().map(str::to_ascii_lowercase) {
        Some(s) if s == "https" || s == "http" => s,
        Some(_) => {
            return Err(bad(
                "the scheme must be https (or http for a loopback host)",
            ))
        }
        None => {
            return Err(bad(
                "it has no scheme (expected https://portal.example.com)",
            ))
        }
    };
    let authority = uri
        .authority()
        .ok_or_else(|| bad("it has no host"))?
        .as_str();
    if authority.contains('@') {
        return Err(bad("it must not contain user info (`user:password@`)"));
    }
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("it has no host"));
    }
    if uri.query().is_some() {
        return Err(bad("it has a query (`?…`)"));
    }
    if scheme == "http" && !allow_insecure_http && !is_loopback(host) {
        return Err(bad(
            "plain http:// is refused for a host that is not loopback, so the token is not sent in \
             clear text; use https:// or allow_insecure_http(true)",
        ));
    }
    let mut path = uri.path().trim_end_matches('/');
    let lower = path.to_ascii_lowercase();
    if lower.ends_with("/api/2.0") {
        path = path[..path.len() - "/api/2.0".len()].trim_end_matches('/');
    }
    Ok(format!(
        "{scheme}://{}{path}",
        authority.to_ascii_lowercase()
    ))
}

/// Whether a URL host is loopback: `localhost`, `127.0.0.0/8` or `::1`.
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if h.eq_ignore_ascii_case("localhost") {
        return true;
    }
    h.parse::<IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn base_url_rules() {
        let ok = |s: &str| normalize_base_url(s, false).unwrap();
        assert_eq!(
            ok("https://Portal.Example.com"),
            "https://portal.example.com"
        );
        assert_eq!(
            ok("https://portal.example.com/"),
            "https://portal.example.com"
        );
        assert_eq!(
            ok("https://portal.example.com/api/2.0/"),
            "https://portal.example.com"
        );
        assert_eq!(
            ok("https://p.example.com/docspace/api/2.0"),
            "https://p.example.com/docspace"
        );
        assert_eq!(ok("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(ok("http://127.1.2.3"), "http://127.1.2.3");
        assert_eq!(ok("http://[::1]:9000/"), "http://[::1]:9000");
        assert_eq!(ok("http://localhost"), "http://localhost");
        for bad in [
            "",
            "   ",
            "portal.example.com",
            "ftp://portal.example.com",
            "https://",
            "https://portal.example.com/?a=1",
            "https://portal.example.com/#x",
            "http://portal.example.com",
            "http://10.0.0.1",
            "https://user:pw@portal.example.com",
            "https://por tal.example.com",
        ] {
            let e = normalize_base_url(bad, false).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(!e.to_string().contains("pw@"), "{e}");
        }
        assert_eq!(
            normalize_base_url("http://portal.example.com", true).unwrap(),
            "http://portal.example.com"
        );
    }

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync::<Client>();
    }
}
