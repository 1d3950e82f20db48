//! The client and the one place where requests are sent.
//!
//! Every endpoint in the crate is described as a [`Request`] (method, path, credential, body,
//! how to classify its errors, whether it may be retried) and handed to [`Client::send`], which
//! adds the headers, sends it through the shared `ureq` agent, reads a bounded body and turns
//! the answer into a [`Reply`] or an [`Error`] (through [`crate::answer`]). The settings and
//! their checks are in [`crate::config`]; whether and when to try again is
//! [`RetryPolicy::next_wait`](crate::retry::RetryPolicy)'s decision.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ureq::http::{HeaderMap, Uri};

use crate::answer::{header_str, parse_success_body, status_error, undecodable_success, Reply};
use crate::auth::Authentication;
use crate::config::{ClientBuilder, Config, Settings, USER_AGENT};
use crate::error::{Advice, Error, Result};
use crate::link::ConfirmMemo;
use crate::people::People;
use crate::redact::Redactions;
use crate::request::{Credential, Request};
use crate::resolver::{CachingResolver, NameNotResolved};
use crate::retry::Failed;
use crate::secret::Secret;
use crate::tfa::Tfa;
use crate::tls;
use crate::typed::Decoded;

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

#[derive(Clone)]
struct Inner {
    agent: ureq::Agent,
    /// `scheme://host[:port][/prefix]`, without a trailing slash.
    base_url: String,
    token: Option<Secret>,
    settings: Settings,
    /// Whether the portal is known to have no `tfaapp/confirm` (see `src/link.rs`); shared
    /// with clones and derived clients.
    confirm_memo: Arc<ConfirmMemo>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.inner.settings;
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("token", &self.inner.token)
            .field("connect_timeout", &s.connect_timeout)
            .field("timeout", &s.timeout)
            .field("retry", &s.retry)
            .field("max_response_bytes", &s.max_response_bytes)
            .field("total_timeout", &s.total_timeout)
            .field("deadline", &s.deadline)
            .finish()
    }
}

impl ClientBuilder {
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
        let Config {
            base_url,
            token,
            proxy,
            tls,
            settings,
        } = self.check()?;
        let config = ureq::Agent::config_builder()
            .proxy(proxy)
            .tls_config(tls)
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(USER_AGENT)
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_global(Some(settings.timeout))
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
                base_url: base_url.url,
                token,
                settings,
                confirm_memo: Arc::default(),
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
    /// settings otherwise ([`ClientBuilder::from_env`], built).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when `DOCSPACE_URL` is unset or invalid.
    pub fn from_env() -> Result<Client> {
        let builder = ClientBuilder::from_env();
        if !builder.has_base_url() {
            return Err(Error::invalid_input("base URL", "DOCSPACE_URL is not set"));
        }
        builder.build()
    }

    /// A client for the same portal with another token, sharing this client's connection pool
    /// and settings. Use it to continue with the token of a login.
    pub fn with_token(&self, token: impl Into<Secret>) -> Client {
        let token: Secret = token.into();
        let mut inner = Inner::clone(&self.inner);
        inner.token = Some(Secret::new(token.expose().trim())).filter(|t| !t.is_empty());
        Client {
            inner: Arc::new(inner),
        }
    }

    /// A client for the same portal with the same token and settings, sharing this client's
    /// connection pool, whose calls end by `deadline` (see [`ClientBuilder::deadline`]).
    pub fn with_deadline(&self, deadline: Instant) -> Client {
        let mut inner = Inner::clone(&self.inner);
        inner.settings.deadline = Some(deadline);
        Client {
            inner: Arc::new(inner),
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

    /// Whether the token is an API key (`sk-…`), which is no session: there is nothing to log
    /// out (see [`Authentication::logout`]).
    pub(crate) fn token_is_api_key(&self) -> bool {
        self.inner
            .token
            .as_ref()
            .is_some_and(|t| t.expose().starts_with("sk-"))
    }

    /// The TFA settings endpoints (`/api/2.0/settings/tfaapp…`).
    pub fn tfa(&self) -> Tfa<'_> {
        Tfa::new(self)
    }

    /// The authentication endpoints (`/api/2.0/authentication…`): log in, with or without a
    /// second factor.
    pub fn auth(&self) -> Authentication<'_> {
        Authentication::new(self)
    }

    /// The people endpoints this crate needs (`/api/2.0/people/@self`).
    pub fn people(&self) -> People<'_> {
        People::new(self)
    }

    /// What the client remembers about the portal's `tfaapp/confirm`.
    pub(crate) fn confirm_memo(&self) -> &ConfirmMemo {
        &self.inner.confirm_memo
    }

    /// Sends a request: the one place where the crate talks to the network. Tries again
    /// when and as [`RetryPolicy::next_wait`](crate::retry::RetryPolicy) allows. A success
    /// body is read by the general path of [`crate::answer`].
    pub(crate) fn send(&self, req: Request<'_>) -> Result<Reply> {
        let raw = self.exchange(&req)?;
        self.general(&req, raw)
    }

    /// [`send`](Self::send), reading a success with `fast` first: the usual envelope straight
    /// into the model (see [`crate::typed`]). When `fast` declines, the general path reads the
    /// body, exactly as `send` does, errors and all.
    pub(crate) fn send_fast<T>(
        &self,
        req: Request<'_>,
        fast: impl FnOnce(&[u8]) -> Option<T>,
    ) -> Result<Decoded<T>> {
        let raw = self.exchange(&req)?;
        if let Some(value) = fast(&raw.body) {
            return Ok(Decoded::Fast(value, raw.headers));
        }
        self.general(&req, raw).map(Decoded::General)
    }

    /// A success body through the general path: JSON, the envelope unwrapped, or the error
    /// for a body that is not JSON (never retried: the server answered).
    fn general(&self, req: &Request<'_>, raw: Success) -> Result<Reply> {
        let value = parse_success_body(&raw.body).map_err(|reason| {
            let redactions = Redactions::of(self.inner.token.as_ref(), req);
            undecodable_success(req, &reason, &raw.body, &redactions)
        })?;
        Ok(Reply {
            operation: req.operation(),
            value,
            headers: raw.headers,
        })
    }

    /// The exchange: attempts, and the waits between them, until a success status or a final
    /// error.
    fn exchange(&self, req: &Request<'_>) -> Result<Success> {
        let started = Instant::now();
        let settings = &self.inner.settings;
        let end = call_end(started, settings.total_timeout, settings.deadline);
        let mut attempt = 1;
        loop {
            let (failed, error) = match self.attempt(req, end) {
                Ok(success) => return Ok(success),
                Err(failure) => failure,
            };
            let remaining = end.map(|end| end.saturating_duration_since(Instant::now()));
            let wait =
                settings
                    .retry
                    .next_wait(req.retry, failed, attempt, started.elapsed(), remaining);
            match wait {
                Some(w) => {
                    std::thread::sleep(w);
                    attempt += 1;
                }
                None => return Err(error.after_tries(attempt, started.elapsed())),
            }
        }
    }

    /// One attempt: build the request, send it, read the answer and check its status.
    fn attempt(
        &self,
        req: &Request<'_>,
        end: Option<Instant>,
    ) -> std::result::Result<Success, (Failed, Error)> {
        let base = &self.inner.base_url;
        // Only a failure pays for collecting the request's secrets.
        let redactions = || Redactions::of(self.inner.token.as_ref(), req);
        let mut url = String::with_capacity(base.len() + "/api/2.0/".len() + req.path.len());
        url.push_str(base);
        url.push_str("/api/2.0/");
        url.push_str(&req.path);
        // From the owned String: `http` keeps its bytes instead of copying them.
        let uri = Uri::try_from(url).map_err(|_| {
            final_(Error::invalid_input(
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
                    final_(Error::invalid_input(
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
            Credential::Cookie => {
                let token = self.inner.token.as_ref().ok_or_else(|| {
                    final_(Error::invalid_input(
                        "token",
                        format!(
                            "{} needs the session's token; set one on the builder, in DOCSPACE_TOKEN, or log in",
                            req.operation()
                        ),
                    ))
                })?;
                builder = builder.header("Cookie", auth_cookie_header(token.expose()));
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
            final_(Error::invalid_input(
                "request",
                format!("{}: a header value is not valid HTTP", req.operation()),
            ))
        })?;
        let remaining = end.map(|end| end.saturating_duration_since(Instant::now()));
        let request = match remaining {
            Some(left) if left.is_zero() => {
                return Err(final_(Error::transport(
                    req.operation(),
                    true,
                    Box::new(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        "the call's deadline passed before the request was sent",
                    )),
                )))
            }
            // Only a deadline closer than the usual timeout pays for a per-request config.
            Some(left) if left < self.inner.settings.timeout => self
                .inner
                .agent
                .configure_request(request)
                .timeout_global(Some(left))
                .timeout_connect(Some(left.min(self.inner.settings.connect_timeout)))
                .build(),
            _ => request,
        };
        let response = self.inner.agent.run(request).map_err(|e| {
            let err = self.transport_error(req, e);
            let timeout = err.is_timeout();
            (Failed::BeforeResponse { timeout }, err)
        })?;

        // Taken apart, so that the headers move into the reply instead of being cloned.
        let (parts, mut answer) = response.into_parts();
        let status = parts.status.as_u16();
        let headers = parts.headers;
        if (300..400).contains(&status) {
            let location = header_str(&headers, "location").map(|l| redactions().apply(l));
            return Err(final_(Error::redirect(req.operation(), status, location)));
        }
        let success = (200..300).contains(&status);
        let limit = self.inner.settings.max_response_bytes;
        let bytes = match answer.with_config().limit(limit).read_to_vec() {
            Ok(bytes) => bytes,
            // An error status is classified by its status: an oversized error page (a proxy's)
            // must neither hide it nor keep a 502 or 503 from being retried.
            Err(ureq::Error::BodyExceedsLimit(_)) if !success => {
                format!("[the body exceeded the limit of {limit} bytes]").into_bytes()
            }
            Err(e) => return Err(final_(self.transport_error(req, e))),
        };

        if success {
            return Ok(Success {
                body: bytes,
                headers,
            });
        }
        let err = status_error(req, status, &headers, &bytes, &redactions());
        let retry_after = err.retry_after();
        Err((
            Failed::Status {
                status,
                retry_after,
            },
            err,
        ))
    }

    /// Maps a transport error of `ureq` to ours.
    fn transport_error(&self, req: &Request<'_>, e: ureq::Error) -> Error {
        match e {
            ureq::Error::BodyExceedsLimit(_) => {
                Error::too_large(req.operation(), self.inner.settings.max_response_bytes)
            }
            ureq::Error::Timeout(which) => Error::transport(
                req.operation(),
                true,
                Box::new(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    timeout_in_words(which),
                )),
            ),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                Error::transport(req.operation(), true, Box::new(io))
            }
            other => {
                // The resolver marks a failed lookup with the host it looked up.
                let unresolved = match &other {
                    ureq::Error::Io(io) => NameNotResolved::host_of(io).map(str::to_owned),
                    _ => None,
                };
                let err = Error::transport(
                    req.operation(),
                    false,
                    match tls::untrusted_certificate(&other) {
                        Some(untrusted) => Box::new(untrusted),
                        None => Box::new(other),
                    },
                );
                match unresolved {
                    Some(host) => err.with_advice(Advice::HostNotFound { host }),
                    None => err,
                }
            }
        }
    }
}

/// Which of ureq's timeouts ran out, in words: the connect timeout, or the request's own
/// timeout (which the call's deadline shortens when it is nearer). ureq's own text reads
/// "timeout: global".
fn timeout_in_words(which: ureq::Timeout) -> &'static str {
    match which {
        ureq::Timeout::Resolve | ureq::Timeout::Connect => {
            "no connection within the connect timeout"
        }
        _ => "no complete answer within the request timeout (or the call's deadline, if nearer)",
    }
}

/// `asc_auth_key=<token>`, the token percent-encoded where a cookie value cannot hold a
/// character as is (the server unescapes cookie values, as ASP.NET Core does).
fn auth_cookie_header(token: &str) -> String {
    use percent_encoding::{utf8_percent_encode, AsciiSet, CONTROLS};
    const COOKIE_VALUE: &AsciiSet = &CONTROLS
        .add(b' ')
        .add(b'"')
        .add(b',')
        .add(b';')
        .add(b'\\')
        .add(b'%');
    format!(
        "{}={}",
        crate::text::AUTH_COOKIE,
        utf8_percent_encode(token, COOKIE_VALUE)
    )
}

/// A success status's answer, its body not read yet.
struct Success {
    body: Vec<u8>,
    headers: HeaderMap,
}

/// A failure that is never retried.
fn final_(error: Error) -> (Failed, Error) {
    (Failed::Final, error)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn the_auth_cookie_escapes_only_what_a_cookie_cannot_hold() {
        assert_eq!(auth_cookie_header("ab+/=c"), "asc_auth_key=ab+/=c");
        assert_eq!(auth_cookie_header("a;b,c%d"), "asc_auth_key=a%3Bb%2Cc%25d");
    }

    #[test]
    fn client_is_send_sync_clone() {
        assert_send_sync::<Client>();
    }

    #[test]
    fn derived_clients_share_the_pool_and_change_one_thing() {
        let client = Client::builder()
            .base_url("https://portal.example.com")
            .token("sk-one")
            .build()
            .unwrap();
        let other = client.with_token(" sk-two ");
        assert_eq!(other.inner.token.as_ref().unwrap().expose(), "sk-two");
        assert_eq!(other.base_url(), client.base_url());
        assert!(!client.with_token("  ").has_token());
        let deadline = Instant::now() + Duration::from_secs(5);
        let bounded = other.with_deadline(deadline);
        assert_eq!(bounded.inner.settings.deadline, Some(deadline));
        assert_eq!(bounded.inner.token.as_ref().unwrap().expose(), "sk-two");
        assert_eq!(client.inner.settings.deadline, None);
    }
}
