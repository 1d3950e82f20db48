//! The client's settings: [`ClientBuilder`], its defaults, and the checks a setting passes
//! before a client is built from it (the base URL, the token, the proxy, the roots).
//!
//! As in `ureq` (its `config.rs` beside `agent.rs`), the settings are their own room: the
//! builder collects them, [`ClientBuilder::check`] turns them into a checked [`Config`], and
//! `src/client.rs` builds the transport from that and sends requests.

use std::fmt;
use std::time::{Duration, Instant};

use ureq::http::Uri;
use ureq::tls::TlsConfig;

use crate::error::{Error, Result};
use crate::proxy::{self, Proxy};
use crate::retry::RetryPolicy;
use crate::secret::Secret;
use crate::text::is_loopback;
use crate::tls::{self, TlsRoots};

/// The `User-Agent` every request carries.
pub const USER_AGENT: &str = concat!("docspace-tfa/", env!("CARGO_PKG_VERSION"));

/// Default connect timeout.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default deadline for one request, from sending it to the last byte of the answer.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Default limit of a response body.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 4 * 1024 * 1024;
/// The longest connect timeout or deadline a client accepts: one day. A longer one would
/// overflow the transport's clock arithmetic (`Instant + Duration::MAX` panics).
const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// What a client keeps of its builder besides the transport: copied as is into a client made
/// with [`Client::with_token`](crate::Client::with_token) or
/// [`Client::with_deadline`](crate::Client::with_deadline).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) retry: RetryPolicy,
    pub(crate) max_response_bytes: u64,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    /// Bounds each call, attempts and waits included.
    pub(crate) total_timeout: Option<Duration>,
    /// No call runs past it.
    pub(crate) deadline: Option<Instant>,
}

/// The checked settings a client is built from.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) base_url: BaseUrl,
    pub(crate) token: Option<Secret>,
    pub(crate) proxy: Option<ureq::Proxy>,
    pub(crate) tls: TlsConfig,
    pub(crate) settings: Settings,
}

/// Builds a [`Client`](crate::Client): `Client::builder().base_url(..).token(..).build()?`.
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
    /// A builder with the portal from `DOCSPACE_URL` and the token from `DOCSPACE_TOKEN`,
    /// each when set and not blank; everything else at its default. Later calls override
    /// either (a command-line flag over the environment, say).
    /// [`Client::from_env`](crate::Client::from_env) is this, built.
    pub fn from_env() -> ClientBuilder {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        ClientBuilder {
            base_url: var("DOCSPACE_URL"),
            token: var("DOCSPACE_TOKEN").map(Secret::new),
            ..ClientBuilder::default()
        }
    }

    /// Whether a base URL was given (by [`base_url`](Self::base_url) or the environment):
    /// without one, [`build`](Self::build) fails.
    pub fn has_base_url(&self) -> bool {
        self.base_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
    }

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

    /// The time allowed to establish a connection, TLS included. Default: 10 s. At most one
    /// day (a longer one is cut to it).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout.min(MAX_TIMEOUT);
        self
    }

    /// The deadline of one attempt, from sending the request to the last byte of the answer.
    /// Default: 30 s. At most one day (a longer one is cut to it).
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
    /// [`RetryPolicy::max_elapsed`]). At most one day.
    pub fn total_timeout(mut self, total: Duration) -> Self {
        self.total_timeout = Some(total.min(MAX_TIMEOUT));
        self
    }

    /// An absolute deadline for every call of the client (and of the clients made from it
    /// with [`Client::with_token`](crate::Client::with_token)): a call past it fails with
    /// [`ErrorKind::Timeout`](crate::ErrorKind::Timeout) without sending anything. For a
    /// program that must finish a sequence of calls by a given time. Default: none.
    pub fn deadline(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// Checks every setting; what [`build`](Self::build) does before it builds the transport.
    pub(crate) fn check(self) -> Result<Config> {
        let raw = self.base_url.as_deref().ok_or_else(|| {
            Error::invalid_input(
                "base URL",
                "none was given (set `base_url` or DOCSPACE_URL)",
            )
        })?;
        let base_url = normalize_base_url(raw, self.allow_insecure_http)?;
        // Surrounding whitespace (a token file's newline) is not part of a token.
        let token = self
            .token
            .filter(|t| !t.expose().trim().is_empty())
            .map(|t| Secret::new(t.expose().trim()));
        if let Some(token) = &token {
            check_token(token)?;
        }
        let proxy = proxy::resolve(&self.proxy, &base_url.host, |name| std::env::var(name).ok())?;
        let tls = tls::config(self.tls_roots, &self.root_certificates_pem)?;
        Ok(Config {
            base_url,
            token,
            proxy,
            tls,
            settings: Settings {
                retry: self.retry,
                max_response_bytes: self.max_response_bytes,
                connect_timeout: self.connect_timeout,
                timeout: self.timeout,
                total_timeout: self.total_timeout,
                deadline: self.deadline,
            },
        })
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

/// A checked base URL: `scheme://authority[/prefix]` and its host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BaseUrl {
    /// `scheme://authority[/prefix]`, lower-case scheme and authority, no trailing slash.
    pub(crate) url: String,
    /// The host, lower case (an IPv6 literal in brackets).
    pub(crate) host: String,
}

/// Checks and normalizes a base URL to `scheme://authority[/prefix]`: a trailing `/` and
/// `/api/2.0` are dropped; a query, fragment, user info, whitespace, another scheme than
/// `http(s)` or plain `http://` to a host that is not loopback (unless allowed) is refused.
pub(crate) fn normalize_base_url(raw: &str, allow_insecure_http: bool) -> Result<BaseUrl> {
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
    Ok(BaseUrl {
        url: format!("{scheme}://{}{path}", authority.to_ascii_lowercase()),
        host: host.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn base_url_rules() {
        let ok = |s: &str| normalize_base_url(s, false).unwrap().url;
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
            normalize_base_url("http://Portal.example.com:8080", true).unwrap(),
            BaseUrl {
                url: "http://portal.example.com:8080".into(),
                host: "portal.example.com".into()
            }
        );
        assert_eq!(
            normalize_base_url("http://[::1]:9000/", false)
                .unwrap()
                .host,
            "[::1]"
        );
    }

    #[test]
    fn tokens_are_trimmed_and_checked() {
        let config = ClientBuilder::default()
            .base_url("https://portal.example.com")
            .token(" sk-abc\n")
            .check()
            .unwrap();
        assert_eq!(config.token.unwrap().expose(), "sk-abc");
        let blank = ClientBuilder::default()
            .base_url("https://portal.example.com")
            .token("  ")
            .check()
            .unwrap();
        assert!(blank.token.is_none());
        let err = ClientBuilder::default()
            .base_url("https://portal.example.com")
            .token("sk abc")
            .check()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(!err.to_string().contains("sk abc"), "{err}");
    }
}
