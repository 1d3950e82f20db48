//! The client, its builder, and the one place where requests are sent and answers are read.
//!
//! Every endpoint in the crate is described as a [`Request`] (method, path, credential, body,
//! how to classify its errors, whether it may be retried) and handed to [`Client::send`], which
//! adds the headers, sends it through the shared `ureq` agent, reads a bounded body, unwraps
//! the DocSpace envelope and maps every failure to an [`Error`].

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::de::{DeserializeOwned, IgnoredAny};
use serde_json::Value;
use ureq::http::{HeaderMap, Method, Uri};

use crate::auth::Auth;
use crate::confirm::ConfirmTicket;
use crate::error::{Error, ErrorKind, Result};
use crate::people::People;
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::tfa::Tfa;

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("docspace-tfa/", env!("CARGO_PKG_VERSION"));

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default deadline for one request, from sending it to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit of a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;

/// Idle keep-alive connections the pool keeps (all to the one portal).
const MAX_IDLE_CONNECTIONS: usize = 16;

/// How many characters of a body an error message may quote.
const SNIPPET_CHARS: usize = 200;

/// A blocking client for the DocSpace TFA API.
///
/// Cheap to clone: clones share one `ureq` agent, and so one keep-alive connection pool, which
/// keeps up to 16 idle connections to the portal. `Client` is `Send + Sync`; share it between
/// threads freely.
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

    /// The time allowed to establish a connection, TLS included. Default: 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The deadline of one attempt, from sending the request to the last byte of the answer.
    /// Default: 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
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

    /// Checks the settings and builds the client.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`] when the base URL is missing or malformed, or is plain
    /// `http://` to a non-loopback host without
    /// [`allow_insecure_http`](Self::allow_insecure_http).
    pub fn build(self) -> Result<Client> {
        let raw = self.base_url.as_deref().ok_or_else(|| {
            Error::invalid_input(
                "base URL",
                "none was given (set `base_url` or DOCSPACE_URL)",
            )
        })?;
        let base_url = normalize_base_url(raw, self.allow_insecure_http)?;
        let config = ureq::Agent::config_builder()
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
        Ok(Client {
            inner: Arc::new(Inner {
                agent: config.into(),
                base_url,
                token: self.token.filter(|t| !t.expose().trim().is_empty()),
                retry: self.retry,
                max_response_bytes: self.max_response_bytes,
                connect_timeout: self.connect_timeout,
                timeout: self.timeout,
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
    /// [`ErrorKind::InvalidInput`] when `DOCSPACE_URL` is unset or invalid.
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
        let policy = &self.inner.retry;
        let attempts = if req.retry == Retry::Safe {
            policy.attempts()
        } else {
            1
        };
        let mut attempt = 1;
        loop {
            let failure = match self.attempt(&req) {
                Ok(reply) => return Ok(reply),
                // Only a failure pays for collecting the request's secrets.
                Err(f) => f.redacted(&self.redactions(&req)),
            };
            let wait = match (&failure, attempt < attempts) {
                (_, false) => None,
                // A timeout is not retried: the deadline is the caller's (see RetryPolicy).
                (Failure::BeforeResponse(e), true) if e.is_timeout() => None,
                (Failure::BeforeResponse(_), true) => Some(policy.backoff(attempt)),
                (Failure::Status(err), true) => retry_wait(err, policy, attempt),
                (Failure::Final(_), true) => None,
            };
            let within_budget = wait
                .map(|w| started.elapsed() + w <= policy.elapsed_budget())
                .unwrap_or(false);
            match wait {
                Some(w) if within_budget => {
                    std::thread::sleep(w);
                    attempt += 1;
                }
                _ => return Err(failure.into_error()),
            }
        }
    }

    /// One attempt: build the request, send it, read and check the answer.
    fn attempt(&self, req: &Request<'_>) -> std::result::Result<Reply, Failure> {
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

    /// The secret values `req` carries, which no text from the server may echo into an error:
    /// the client's token, the ticket's key, and the secret fields of the JSON body (the code,
    /// the password).
    fn redactions(&self, req: &Request<'_>) -> Redactions {
        let mut values = Vec::new();
        if let Some(token) = &self.inner.token {
            values.push(token.expose().to_owned());
        }
        if let Credential::Ticket(ticket) = req.credential {
            values.push(ticket.key().expose().to_owned());
        }
        if let Some(body) = &req.body {
            if let Ok(json) = serde_json::from_str::<Value>(body) {
                collect_secret_fields(&json, &mut values);
            }
        }
        Redactions::new(values)
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
                source: Box::new(other),
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

/// Which credential a request carries.
#[derive(Clone, Copy)]
pub(crate) enum Credential<'a> {
    /// None (login).
    Anonymous,
    /// `Authorization: Bearer <token>`; an error before sending when the client has no token.
    Bearer,
    /// `Confirm: type=…&uid=…&key=…` and no `Authorization`.
    Ticket(&'a ConfirmTicket),
}

/// Whether a request may be sent again after a failure.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// An idempotent read.
    Safe,
    /// Spends something on the server: sent once.
    Never,
}

/// Which endpoint a request is, for classifying its error statuses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// `POST settings/tfaapp/validate`: `400` is a wrong code, a `403` with a body a lock.
    Validate,
    /// `POST authentication` and `POST authentication/{code}`: a `403` with a body is a lock.
    Login,
    /// Anything else.
    Other,
}

/// An endpoint call, described as data.
pub(crate) struct Request<'a> {
    pub(crate) method: Method,
    /// The path under `/api/2.0/`, as sent.
    pub(crate) path: String,
    /// The path as shown in errors (a template where the real path holds a secret).
    pub(crate) display_path: &'static str,
    pub(crate) credential: Credential<'a>,
    /// A JSON body.
    pub(crate) body: Option<String>,
    pub(crate) endpoint: Endpoint,
    pub(crate) retry: Retry,
}

impl<'a> Request<'a> {
    /// A request whose path is shown as is.
    pub(crate) fn new(method: Method, path: &'static str, credential: Credential<'a>) -> Self {
        Request {
            path: path.to_owned(),
            display_path: path,
            credential,
            body: None,
            endpoint: Endpoint::Other,
            // Every GET of the API is a read; everything else spends or changes something.
            retry: if method == Method::GET {
                Retry::Safe
            } else {
                Retry::Never
            },
            method,
        }
    }

    /// Sets the JSON body.
    pub(crate) fn json(mut self, body: &impl serde::Serialize) -> Result<Self> {
        let text = serde_json::to_string(body)
            .map_err(|e| Error::invalid_input("request body", e.to_string()))?;
        self.body = Some(text);
        Ok(self)
    }

    /// Sets the endpoint class.
    pub(crate) fn endpoint(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = endpoint;
        self
    }

    /// Replaces the real path (keeping the display template).
    pub(crate) fn real_path(mut self, path: String) -> Self {
        self.path = path;
        self
    }

    /// `METHOD path-template`, for errors.
    pub(crate) fn operation(&self) -> String {
        format!("{} {}", self.method, self.display_path)
    }
}

/// The JSON shape a model is decoded from.
#[derive(Clone, Copy)]
pub(crate) enum Shape {
    /// A JSON object.
    Object,
    /// A JSON array whose items are objects.
    ListOfObjects,
}

/// A successful answer: the envelope's `response` and the headers.
pub(crate) struct Reply {
    operation: String,
    /// The unwrapped value (`Null` when absent or the body was empty).
    pub(crate) value: Value,
    headers: HeaderMap,
}

impl Reply {
    /// Decodes the value as `T`.
    ///
    /// `shape` is checked first: serde's derived decoding would otherwise fill a struct from a
    /// JSON array by position, and accept `["a","b"]` as a setup code.
    pub(crate) fn decode<T: DeserializeOwned>(
        &self,
        expected: &'static str,
        shape: Shape,
    ) -> Result<T> {
        let shape_ok = match (&self.value, shape) {
            (Value::Null, _) => {
                return Err(self.decode_error(expected, "the answer carried no value".to_owned()))
            }
            (Value::Object(_), Shape::Object) => true,
            (Value::Array(items), Shape::ListOfObjects) => items.iter().all(Value::is_object),
            _ => false,
        };
        if !shape_ok {
            let wanted = match shape {
                Shape::Object => "an object",
                Shape::ListOfObjects => "a list of objects",
            };
            return Err(self.decode_error(expected, format!("the answer is not {wanted}")));
        }
        // serde's messages quote the values they reject (`invalid type: string "JBSWY3DP…"`).
        T::deserialize(&self.value)
            .map_err(|e| self.decode_error(expected, blank_quoted(&e.to_string())))
    }

    /// The value as a bool (`validate`, `PUT tfaapp`).
    pub(crate) fn decode_bool(&self) -> Result<bool> {
        match &self.value {
            Value::Bool(b) => Ok(*b),
            Value::Null => Err(self.decode_error("bool", "the answer carried no value".into())),
            _ => Err(self.decode_error("bool", "the answer is not a bool".into())),
        }
    }

    /// A decode error about this reply.
    ///
    /// The body parsed as JSON, so the snippet shows its skeleton: keys, bools and nulls, with
    /// every string and number blanked. An answer of the wrong shape can carry a secret without
    /// a key that names it (`["user@example.com", "JBSWY3DP…"]`). `reason` is the crate's own
    /// text, or serde's with the quoted values blanked.
    pub(crate) fn decode_error(&self, expected: &'static str, reason: String) -> Error {
        Error::Decode {
            operation: self.operation.clone(),
            expected,
            reason,
            snippet: bounded(&skeleton(&self.value)),
        }
    }

    /// The values of all `Set-Cookie` headers.
    pub(crate) fn set_cookies(&self) -> impl Iterator<Item = &str> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Parses a `2xx` body: empty → `Null`; otherwise JSON, with the envelope unwrapped.
fn parse_success_body(bytes: &[u8]) -> std::result::Result<Value, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("the body is not UTF-8 ({e})"))?;
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    // The usual answer, the portal's envelope with `response`: one pass that builds only the
    // `response` value and skips `links`, `count` and the rest without allocating. Anything
    // else (a bare value, no or a null `response`, an unknown or repeated key, bad JSON) takes
    // the general path, which gives the same value or the error.
    if let Ok(Envelope {
        response: Some(value),
        ..
    }) = serde_json::from_str::<Envelope>(text)
    {
        return Ok(value);
    }
    let value: Value =
        serde_json::from_str(text).map_err(|e| format!("the body is not JSON ({e})"))?;
    Ok(unwrap_envelope(value))
}

/// A success envelope with only the keys a portal sends; all but `response` are skipped.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // the skipped keys are named only so that they are allowed
struct Envelope {
    response: Option<Value>,
    count: Option<IgnoredAny>,
    total: Option<IgnoredAny>,
    links: Option<IgnoredAny>,
    status: Option<IgnoredAny>,
    #[serde(rename = "statusCode")]
    status_code: Option<IgnoredAny>,
}

/// Unwraps `{"response": …, "status": 0, …}`. A body without the envelope is taken as the
/// value itself (as the seed page does); an envelope without `response` means `null`.
pub fn unwrap_envelope(value: Value) -> Value {
    match value {
        Value::Object(mut map) => {
            if let Some(v) = map.remove("response") {
                return v;
            }
            let looks_like_envelope = map.contains_key("statusCode")
                || (map.contains_key("status")
                    && (map.contains_key("count") || map.contains_key("links")));
            if looks_like_envelope {
                Value::Null
            } else {
                Value::Object(map)
            }
        }
        other => other,
    }
}

/// Builds the error for a non-success, non-redirect status.
fn status_error(req: &Request<'_>, status: u16, headers: &HeaderMap, body: &[u8]) -> Error {
    let envelope = std::str::from_utf8(body)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .and_then(|v| v.get("error").cloned());
    let (message, error_type, has_error_body) = match envelope {
        Some(Value::Object(e)) => (
            e.get("message").and_then(Value::as_str).map(scrub),
            e.get("type").and_then(Value::as_str).map(str::to_owned),
            true,
        ),
        Some(Value::String(m)) => (Some(scrub(&m)), None, true),
        _ => (None, None, false),
    };
    let kind = classify(status, req.endpoint, has_error_body, error_type.as_deref());
    let retry_after = header_str(headers, "retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    Error::Status {
        operation: req.operation(),
        status,
        kind,
        message,
        error_type,
        snippet: if has_error_body {
            String::new()
        } else {
            snippet(body)
        },
        retry_after,
    }
}

/// The classification of an error status. Never looks at message text (it is localized).
pub(crate) fn classify(
    status: u16,
    endpoint: Endpoint,
    has_error_body: bool,
    error_type: Option<&str>,
) -> ErrorKind {
    let type_has = |needle: &str| error_type.map(|t| t.contains(needle)).unwrap_or(false);
    match status {
        400 if endpoint == Endpoint::Validate => ErrorKind::InvalidCode,
        400 => ErrorKind::BadRequest,
        401 => ErrorKind::Unauthorized,
        403 if type_has("InvalidOperationException") => ErrorKind::NotAvailable,
        403 if type_has("Security") || type_has("Authoriz") => ErrorKind::Forbidden,
        403 if has_error_body && matches!(endpoint, Endpoint::Validate | Endpoint::Login) => {
            ErrorKind::RateLimited
        }
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        405 => ErrorKind::NotAvailable,
        429 => ErrorKind::RateLimited,
        500..=599 => ErrorKind::Server,
        _ => ErrorKind::UnexpectedStatus,
    }
}

/// The shortest value [`Redactions`] removes: shorter ones would blank out ordinary text.
const MIN_REDACTED_CHARS: usize = 4;

/// Secret values that a request carried, to be removed from every text the server sent back
/// (error messages, body snippets, a redirect's `Location`) before it reaches an [`Error`].
///
/// [`scrub`] hides the values of JSON fields named like secrets; this catches the rest: a
/// message that quotes the code (`Incorrect code 123456`), an HTML error page that echoes the
/// request, a redirect that repeats `authentication/{code}`, a plain-text body quoting the token.
pub(crate) struct Redactions(Vec<String>);

impl Redactions {
    /// From the raw values: each also percent-encoded, longest first, short ones dropped.
    fn new(raw: Vec<String>) -> Redactions {
        let mut values = Vec::with_capacity(raw.len() * 2);
        for value in raw {
            if value.chars().count() < MIN_REDACTED_CHARS {
                continue;
            }
            let encoded =
                percent_encoding::utf8_percent_encode(&value, crate::confirm::QUERY_VALUE)
                    .to_string();
            if encoded != value {
                values.push(encoded);
            }
            values.push(value);
        }
        values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        values.dedup();
        Redactions(values)
    }

    /// `text` with every value replaced by `***`, and a value cut off at the end of a bounded
    /// snippet (`…`) hidden too.
    fn apply(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for value in &self.0 {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), "***");
            }
        }
        if let Some(head) = out.strip_suffix('…') {
            let cut = self.0.iter().find_map(|value| {
                value
                    .char_indices()
                    .map(|(i, _)| i)
                    .skip(MIN_REDACTED_CHARS)
                    .chain(std::iter::once(value.len()))
                    .filter(|&i| head.ends_with(&value[..i]))
                    .last()
            });
            if let Some(len) = cut {
                out = format!("{}***…", &head[..head.len() - len]);
            }
        }
        out
    }

    /// `e` with every text that came from the server redacted.
    fn error(&self, mut e: Error) -> Error {
        if self.0.is_empty() {
            return e;
        }
        match &mut e {
            Error::Status {
                message, snippet, ..
            } => {
                if let Some(m) = message {
                    *m = self.apply(m);
                }
                *snippet = self.apply(snippet);
            }
            Error::Redirect {
                location: Some(location),
                ..
            } => *location = self.apply(location),
            Error::Decode {
                reason, snippet, ..
            } => {
                *reason = self.apply(reason);
                *snippet = self.apply(snippet);
            }
            _ => {}
        }
        e
    }
}

/// Collects the string values of secret fields ([`SECRET_FIELDS`]) anywhere in `value`.
fn collect_secret_fields(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                match v {
                    Value::String(s)
                        if SECRET_FIELDS.contains(&k.to_ascii_lowercase().as_str()) =>
                    {
                        out.push(s.clone())
                    }
                    _ => collect_secret_fields(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_secret_fields(v, out)),
        _ => {}
    }
}

/// JSON fields whose values are secrets, lower case.
const SECRET_FIELDS: &[&str] = &[
    "token",
    "password",
    "manualentrykey",
    "tfakey",
    "code",
    "cookievalue",
    "key",
    "qrcodesetupimageurl",
];

/// Replaces the values of secret JSON fields in `text` with `***` (also in truncated JSON).
pub(crate) fn scrub(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut pos = 0;
    while pos < text.len() {
        let next = SECRET_FIELDS
            .iter()
            .filter_map(|f| {
                let pat = format!("\"{f}\"");
                lower[pos..].find(&pat).map(|i| (pos + i, pat.len()))
            })
            .min_by_key(|(i, _)| *i);
        let Some((start, len)) = next else {
            out.push_str(&text[pos..]);
            break;
        };
        let after_key = start + len;
        out.push_str(&text[pos..after_key]);
        let rest = &text[after_key..];
        let trimmed = rest.trim_start();
        let Some(value) = trimmed.strip_prefix(':') else {
            pos = after_key;
            continue;
        };
        let value_trimmed = value.trim_start();
        let value_start = text.len() - value_trimmed.len();
        out.push_str(&text[after_key..value_start]);
        if let Some(inner) = value_trimmed.strip_prefix('"') {
            out.push_str("\"***");
            let mut escaped = false;
            let mut end = None;
            for (i, c) in inner.char_indices() {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => {
                        end = Some(i);
                        break;
                    }
                    _ => escaped = false,
                }
            }
            match end {
                Some(i) => {
                    out.push('"');
                    pos = value_start + 1 + i + 1;
                }
                None => pos = text.len(),
            }
        } else if value_trimmed.starts_with(['{', '[']) || value_trimmed.starts_with("null") {
            pos = value_start;
        } else {
            let end = value_trimmed
                .find([',', '}', ']'])
                .unwrap_or(value_trimmed.len());
            out.push_str("***");
            pos = value_start + end;
        }
    }
    out
}

/// A serde message with the values it quotes replaced by `…`: everything between double
/// quotes, and between backticks in `invalid …` and `unknown variant …` messages (where they
/// hold a value such as ``integer `123456` ``; elsewhere they name a field).
fn blank_quoted(text: &str) -> String {
    let values_in_backticks = text.starts_with("invalid") || text.starts_with("unknown variant");
    let mut out = String::with_capacity(text.len());
    let mut open: Option<char> = None;
    for c in text.chars() {
        match open {
            Some(q) if c == q => {
                out.push('…');
                out.push(c);
                open = None;
            }
            Some(_) => {}
            None => {
                out.push(c);
                if c == '"' || (c == '`' && values_in_backticks) {
                    open = Some(c);
                }
            }
        }
    }
    if open.is_some() {
        out.push('…');
    }
    out
}

/// A JSON value with every string replaced by `"…"` and every number by `0`, for error
/// messages.
fn skeleton(value: &Value) -> String {
    fn blank(v: &Value) -> Value {
        match v {
            Value::String(_) => Value::String("…".into()),
            Value::Number(_) => Value::from(0),
            Value::Array(items) => Value::Array(items.iter().map(blank).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), blank(v))).collect())
            }
            other => other.clone(),
        }
    }
    blank(value).to_string()
}

/// A bounded, printable, secret-scrubbed start of a body for error messages.
pub(crate) fn snippet(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(SNIPPET_CHARS * 4)];
    bounded(&scrub(&String::from_utf8_lossy(head)))
}

/// At most `SNIPPET_CHARS` printable characters of `scrubbed`, whitespace collapsed.
fn bounded(scrubbed: &str) -> String {
    let mut out = String::new();
    let mut last_space = false;
    for c in scrubbed.chars() {
        let c = if c.is_control() || c.is_whitespace() {
            ' '
        } else {
            c
        };
        if c == ' ' && (last_space || out.is_empty()) {
            continue;
        }
        last_space = c == ' ';
        out.push(c);
        if out.chars().count() >= SNIPPET_CHARS {
            out.push('…');
            break;
        }
    }
    out.trim_end().to_owned()
}

/// The answer-handling path without the network, for the fuzz targets under `fuzz/`.
///
/// Only `cargo fuzz` builds it (it passes `--cfg fuzzing`); no normal build has it.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use super::*;
    use ureq::http::HeaderValue;

    /// Does what [`Client::send`] and the endpoints do with an answer of `status`, with these
    /// `Set-Cookie` values and this body: classify an error status for every endpoint class,
    /// or parse a success body and decode every model and the login outcome from it. Formats
    /// every error and checks that snippets stay bounded.
    pub fn answer(status: u16, set_cookies: &[&str], body: &[u8]) {
        let mut headers = HeaderMap::new();
        for cookie in set_cookies {
            if let Ok(v) = HeaderValue::from_str(cookie) {
                headers.append("set-cookie", v);
            }
        }
        let snip = snippet(body);
        assert!(
            snip.chars().count() <= SNIPPET_CHARS + 1,
            "unbounded snippet"
        );
        if !(200..300).contains(&status) {
            for endpoint in [Endpoint::Validate, Endpoint::Login, Endpoint::Other] {
                let req = Request::new(
                    Method::POST,
                    "settings/tfaapp/validate",
                    Credential::Anonymous,
                )
                .endpoint(endpoint);
                let e = status_error(&req, status, &headers, body);
                let _ = format!("{e} {e:?} {:?}", e.kind());
            }
            return;
        }
        let value = match parse_success_body(body) {
            Ok(v) => v,
            Err(reason) => {
                let _ = scrub(&reason);
                return;
            }
        };
        // The one-pass envelope parser must agree with the general path.
        if let Some(general) = std::str::from_utf8(body)
            .ok()
            .filter(|t| !t.trim().is_empty())
            .and_then(|t| serde_json::from_str::<Value>(t).ok())
        {
            assert_eq!(
                value,
                unwrap_envelope(general),
                "fast and general paths differ"
            );
        }
        let reply = Reply {
            operation: "GET settings/tfaapp/setup".to_owned(),
            value,
            headers,
        };
        fn show<T: fmt::Debug>(r: Result<T>) {
            match r {
                Ok(v) => drop(format!("{v:?}")),
                Err(e) => drop(format!("{e} {e:?}")),
            }
        }
        show(reply.decode::<crate::SetupCode>("setup code", Shape::Object));
        show(reply.decode::<Vec<crate::TfaMethod>>("list of TFA methods", Shape::ListOfObjects));
        show(reply.decode::<crate::ConfirmData>("confirm data", Shape::Object));
        show(reply.decode::<Vec<crate::BackupCode>>("list of backup codes", Shape::ListOfObjects));
        show(reply.decode::<crate::Me>("user", Shape::Object));
        show(reply.decode_bool());
        show(crate::auth::outcome(&reply));
        let _ = reply.set_cookies().count();
    }

    /// [`scrub`] and [`snippet`] on arbitrary text.
    pub fn scrub_and_snippet(text: &str) -> (String, String) {
        (scrub(text), snippet(text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn envelope_unwrapping() {
        use serde_json::json;
        assert_eq!(
            unwrap_envelope(json!({"response": false, "status": 0})),
            json!(false)
        );
        assert_eq!(
            unwrap_envelope(json!({"count": 0, "links": [], "status": 0, "statusCode": 200})),
            Value::Null
        );
        assert_eq!(unwrap_envelope(json!(true)), json!(true));
        assert_eq!(
            unwrap_envelope(json!({"account": "a"})),
            json!({"account": "a"})
        );
    }

    #[test]
    fn the_envelope_fast_path_agrees_with_unwrap_envelope() {
        for body in [
            r#"{"response":true,"count":1,"links":[{"href":"h","action":"POST"}],"status":0,"statusCode":200}"#,
            r#"{"response":[{"id":"app"}],"count":1,"total":1,"status":0,"statusCode":200}"#,
            r#"{"response":null,"count":0,"status":0,"statusCode":200}"#,
            r#"{"count":0,"links":[],"status":0,"statusCode":200}"#,
            r#"{"response":1,"response":2,"status":0}"#,
            r#"{"response":{"a":1},"extra":true}"#,
            r#"{"resp\u006fnse":"escaped","status":0}"#,
            r#"{"account":"a","manualEntryKey":"K"}"#,
            r#"{"count":1}"#,
            "true",
            r#"["a"]"#,
        ] {
            let general = unwrap_envelope(serde_json::from_str(body).unwrap());
            assert_eq!(
                parse_success_body(body.as_bytes()).unwrap(),
                general,
                "{body}"
            );
        }
        for bad in [r#"{"response":true,"links":["#, r#"{"response":true} x"#] {
            assert!(parse_success_body(bad.as_bytes()).is_err(), "{bad}");
        }
    }

    #[test]
    fn scrub_hides_secret_fields() {
        let s = scrub(
            r#"{"response":{"token":"abc\"def","expires":"x","tfaKey":"KEY1", "code" : 123456}}"#,
        );
        assert!(
            !s.contains("abc")
                && !s.contains("def")
                && !s.contains("KEY1")
                && !s.contains("123456"),
            "{s}"
        );
        assert!(s.contains("expires"));
        let truncated = scrub(r#"{"response":{"manualEntryKey":"JBSWY3DP"#);
        assert!(!truncated.contains("JBSWY3DP"), "{truncated}");
        assert_eq!(scrub("plain text"), "plain text");
        assert_eq!(scrub(r#""code""#), r#""code""#);
        assert_eq!(scrub("\"code\": "), "\"code\": ***");
    }

    #[test]
    fn serde_messages_lose_their_values() {
        assert_eq!(
            blank_quoted("invalid type: string \"JBSWY3DP\", expected a boolean"),
            "invalid type: string \"…\", expected a boolean"
        );
        assert_eq!(
            blank_quoted("invalid type: integer `123456`, expected a string"),
            "invalid type: integer `…`, expected a string"
        );
        assert_eq!(
            blank_quoted("missing field `manualEntryKey`"),
            "missing field `manualEntryKey`"
        );
        assert_eq!(blank_quoted("invalid value: \"abc"), "invalid value: \"…");
    }

    #[test]
    fn snippet_is_bounded() {
        let big = "x".repeat(10_000);
        let s = snippet(big.as_bytes());
        assert!(s.chars().count() <= SNIPPET_CHARS + 1);
        assert_eq!(
            snippet(b"<html>\n\n <body>Bad   Gateway</body>"),
            "<html> <body>Bad Gateway</body>"
        );
        assert_eq!(snippet(&[0xff, 0xfe, b'a']), "\u{fffd}\u{fffd}a");
    }

    #[test]
    fn classification() {
        use Endpoint::*;
        assert_eq!(classify(400, Validate, true, None), ErrorKind::InvalidCode);
        assert_eq!(classify(400, Other, true, None), ErrorKind::BadRequest);
        assert_eq!(classify(403, Validate, true, None), ErrorKind::RateLimited);
        assert_eq!(classify(403, Validate, false, None), ErrorKind::Forbidden);
        assert_eq!(
            classify(403, Other, true, Some("System.InvalidOperationException")),
            ErrorKind::NotAvailable
        );
        assert_eq!(
            classify(
                403,
                Validate,
                true,
                Some("System.Security.SecurityException")
            ),
            ErrorKind::Forbidden
        );
        assert_eq!(classify(405, Other, true, None), ErrorKind::NotAvailable);
        assert_eq!(classify(429, Other, false, None), ErrorKind::RateLimited);
        assert_eq!(classify(502, Other, false, None), ErrorKind::Server);
        assert_eq!(
            classify(402, Other, true, None),
            ErrorKind::UnexpectedStatus
        );
    }

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync::<Client>();
    }
}
