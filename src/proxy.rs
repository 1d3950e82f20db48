//! Which proxy, if any, a client goes through.
//!
//! The rules, decided once when the client is built (a client talks to one portal):
//!
//! 1. A loopback portal (`localhost`, `127.0.0.0/8`, `::1`) is always reached directly, whatever
//!    the setting or the environment says: plain `http://` is allowed there only because the
//!    traffic never leaves the machine, and a proxy would carry the bearer token elsewhere.
//! 2. [`Proxy::Direct`]: no proxy. [`Proxy::Url`]: that proxy.
//! 3. [`Proxy::FromEnv`] (the default): no proxy when `NO_PROXY` (or `no_proxy`) names the
//!    portal's host; otherwise the first non-empty of `ALL_PROXY`, `HTTPS_PROXY`, `HTTP_PROXY`
//!    (each upper case first, then lower case), the order `ureq` uses.
//! 4. A proxy is `http://`, `https://` (an HTTP `CONNECT` tunnel; the TLS session with the
//!    portal runs inside it) or `socks4://`, `socks4a://`, `socks5://`, `socks5h://`. Any
//!    other scheme (`ftp://`, …) or a malformed proxy URL fails the build with
//!    [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput): the client never falls back
//!    to a direct connection silently. Error messages name the variable, never its value (a
//!    proxy URL may hold a password).

use std::fmt;

use crate::error::{Error, Result};
use crate::text::is_loopback;

/// How a client reaches the portal: directly or through a proxy.
///
/// ```
/// use docspace_tfa::{Client, Proxy};
///
/// let client = Client::builder()
///     .base_url("https://portal.example.com")
///     .proxy(Proxy::Url("http://proxy.corp.example:3128".into()))
///     .build()?;
/// let direct = Client::builder()
///     .base_url("https://portal.example.com")
///     .proxy(Proxy::Direct)
///     .build()?;
/// # Ok::<(), docspace_tfa::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Proxy {
    /// From `ALL_PROXY` / `HTTPS_PROXY` / `HTTP_PROXY` and `NO_PROXY` (see the module rules).
    /// The default.
    #[default]
    FromEnv,
    /// No proxy, whatever the environment says.
    Direct,
    /// This proxy: `http://[user:password@]host:port`, `https://…`, or `socks5://…`.
    Url(String),
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Proxy::FromEnv => f.write_str("FromEnv"),
            Proxy::Direct => f.write_str("Direct"),
            // The URL may carry a password: only its scheme is shown.
            Proxy::Url(url) => write!(f, "Url({}://…)", scheme_of(url)),
        }
    }
}

/// The environment variables read for a proxy, in order.
const PROXY_VARIABLES: [&str; 6] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
];

/// The schemes `ureq` (with its `socks-proxy` feature) can use.
const SUPPORTED_SCHEMES: [&str; 7] = [
    "http", "https", "socks", "socks4", "socks4a", "socks5", "socks5h",
];

/// The proxy for a portal on `host`, by the module's rules; `env` looks a variable up.
pub(crate) fn resolve(
    setting: &Proxy,
    host: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<ureq::Proxy>> {
    if is_loopback(host) {
        return Ok(None);
    }
    match setting {
        Proxy::Direct => Ok(None),
        Proxy::Url(url) => parse(url, "the proxy URL").map(Some),
        Proxy::FromEnv => {
            let no_proxy = env("NO_PROXY").or_else(|| env("no_proxy"));
            if no_proxy.is_some_and(|list| no_proxy_matches(&list, host)) {
                return Ok(None);
            }
            for name in PROXY_VARIABLES {
                if let Some(value) = env(name).filter(|v| !v.trim().is_empty()) {
                    return parse(value.trim(), name).map(Some);
                }
            }
            Ok(None)
        }
    }
}

/// A proxy URL as `ureq` takes it; `source` names where it came from, for messages.
fn parse(url: &str, source: &str) -> Result<ureq::Proxy> {
    let scheme = scheme_of(url);
    if !SUPPORTED_SCHEMES.contains(&scheme.as_str()) {
        return Err(Error::invalid_input(
            "proxy",
            format!(
                "{source} names a proxy of an unsupported kind ({}); use http://, https:// or \
                 socks5:// (nothing is sent directly instead)",
                printable_scheme(&scheme)
            ),
        ));
    }
    ureq::Proxy::new(url).map_err(|_| {
        Error::invalid_input(
            "proxy",
            format!("{source} is not a valid proxy URL (nothing is sent directly instead)"),
        )
    })
}

/// The lower-case scheme of a proxy URL; `http` when it has none (`host:port`).
fn scheme_of(url: &str) -> String {
    match url.trim().split_once("://") {
        Some((scheme, _)) => scheme.to_ascii_lowercase(),
        None => "http".to_owned(),
    }
}

/// A scheme fit for a message: `ftp://`, or `an unreadable scheme` when it is not a word.
fn printable_scheme(scheme: &str) -> String {
    if (1..=16).contains(&scheme.len())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.')
    {
        format!("{scheme}://")
    } else {
        "an unreadable scheme".to_owned()
    }
}

/// Whether a `NO_PROXY` list names `host`: `*`, the host itself, or a parent domain
/// (`example.com`, `.example.com` and `*.example.com` all match `portal.example.com`). An
/// entry's port is ignored.
fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.trim_start_matches("*.").trim_start_matches('.');
        let entry = match entry.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or_default(),
            // `host:port`, but not a bare IPv6 address (more than one colon).
            None if entry.matches(':').count() == 1 => entry.split(':').next().unwrap_or_default(),
            None => entry,
        }
        .to_ascii_lowercase();
        !entry.is_empty()
            && (host == entry
                || host
                    .strip_suffix(entry.as_str())
                    .is_some_and(|head| head.ends_with('.')))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn loopback_is_never_proxied() {
        let env = env_of(&[
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("ALL_PROXY", "ftp://x"),
        ]);
        for host in ["127.0.0.1", "localhost", "[::1]", "127.5.6.7"] {
            assert!(resolve(&Proxy::FromEnv, host, &env).unwrap().is_none());
            let url = Proxy::Url("http://proxy:3128".into());
            assert!(resolve(&url, host, &env).unwrap().is_none());
        }
    }

    #[test]
    fn environment_order_and_no_proxy() {
        let env = env_of(&[
            ("HTTP_PROXY", "http://second:1"),
            ("https_proxy", "http://first:2"),
        ]);
        let p = resolve(&Proxy::FromEnv, "portal.example.com", &env)
            .unwrap()
            .unwrap();
        assert_eq!((p.host(), p.port()), ("first", 2));
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "*",
            "x, portal.example.com:443",
        ] {
            let env = env_of(&[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", list)]);
            assert!(
                resolve(&Proxy::FromEnv, "portal.example.com", &env)
                    .unwrap()
                    .is_none(),
                "{list}"
            );
        }
        let env = env_of(&[
            ("HTTPS_PROXY", "http://p:1"),
            ("NO_PROXY", "ample.com,other"),
        ]);
        assert!(resolve(&Proxy::FromEnv, "portal.example.com", &env)
            .unwrap()
            .is_some());
        assert!(resolve(&Proxy::Direct, "portal.example.com", &env)
            .unwrap()
            .is_none());
    }

    #[test]
    fn unsupported_or_bad_proxies_fail_without_echo() {
        for value in ["ftp://user:hunter22@proxy:21", "gopher://x", "http://[::1"] {
            let env = env_of(&[("ALL_PROXY", value)]);
            let e = resolve(&Proxy::FromEnv, "portal.example.com", &env).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput);
            let text = e.to_string();
            assert!(text.contains("ALL_PROXY"), "{text}");
            assert!(
                !text.contains("hunter22") && !text.contains("proxy:21"),
                "{text}"
            );
        }
        let socks = env_of(&[("ALL_PROXY", "socks5://127.0.0.2:1080")]);
        let p = resolve(&Proxy::FromEnv, "portal.example.com", &socks)
            .unwrap()
            .unwrap();
        assert_eq!(p.protocol(), ureq::ProxyProtocol::Socks5);
        let debug = format!("{:?}", Proxy::Url("http://u:hunter22@p:1".into()));
        assert_eq!(debug, "Url(http://…)");
    }
}
