//! Name resolution for the client's `ureq` agent: cheap on every call, bounded by the deadline
//! on a miss.
//!
//! `ureq` asks its resolver for the portal's addresses on **every** request, before it looks
//! for a pooled connection, and its default resolver runs each lookup on a new thread whenever
//! a timeout is set (so that the lookup can be abandoned at the deadline). A client always has
//! a timeout, so every call, even one that reuses a kept-alive connection, paid for a thread
//! and a `getaddrinfo` (glibc keeps no cache: with a host name that can be a DNS query per call).
//!
//! [`CachingResolver`] keeps the default resolver's contract and removes that cost:
//!
//! - an IP literal (`127.0.0.1`, `[::1]`) is answered without a lookup and without a thread;
//! - a host name's addresses are kept for [`NAME_TTL`] (30 s), so calls within that time,
//!   pooled or not, neither look up nor start a thread;
//! - on a miss the name is looked up as `ureq` does it: on the calling thread when no deadline
//!   applies, else on a new thread that the caller waits for until the deadline, which then
//!   fails with `ureq::Error::Timeout` of the same phase (the lookup itself cannot be
//!   cancelled; it ends on its own).
//!
//! The errors are the default resolver's: an invalid URL is its `BadUri` (the check is its
//! own), a failed lookup is `Io`, no address of the wanted IP family is `HostNotFound`, a
//! lookup past the deadline is `Timeout`. Failed lookups are not cached. The connect timeout is
//! untouched: it is the connector's, after resolution.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use ureq::config::{Config, IpFamily};
use ureq::http::uri::Scheme;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a host name's addresses are reused before they are looked up again.
///
/// Short enough that a portal that moves to new addresses is found again within half a
/// minute (most DNS records live for minutes), long enough that a busy client looks a name up
/// about twice a minute instead of on every call.
pub(crate) const NAME_TTL: Duration = Duration::from_secs(30);

/// Host names kept at once. A client talks to one portal (and perhaps a proxy); the limit
/// only bounds the memory of a client pointed at many.
const MAX_NAMES: usize = 8;

/// Most addresses kept per name: `ureq`'s own limit (`ResolvedSocketAddrs` holds 16).
const MAX_ADDRS: usize = 16;

/// Turns `host:port` into socket addresses; [`system_lookup`] except in tests.
type Lookup = fn(&str) -> io::Result<Vec<SocketAddr>>;

/// The operating system's resolver (`getaddrinfo` through `std`).
fn system_lookup(host_port: &str) -> io::Result<Vec<SocketAddr>> {
    host_port.to_socket_addrs().map(Iterator::collect)
}

/// A failed name lookup, marked with the host looked up: the `io::Error` inside
/// `ureq::Error::Io` carries it, so that the client can say which name does not resolve
/// (`Advice::HostNotFound`). Its text is the system resolver's own.
#[derive(Debug)]
pub(crate) struct NameNotResolved {
    host: String,
    source: io::Error,
}

impl NameNotResolved {
    /// `e`, marked as the failed lookup of `host`; the kind stays `e`'s.
    fn wrap(host: &str, e: io::Error) -> io::Error {
        io::Error::new(
            e.kind(),
            NameNotResolved {
                host: host.to_owned(),
                source: e,
            },
        )
    }

    /// The host whose lookup failed, when `e` is such a failure.
    pub(crate) fn host_of(e: &io::Error) -> Option<&str> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<NameNotResolved>())
            .map(|n| n.host.as_str())
    }
}

impl fmt::Display for NameNotResolved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.source, f)
    }
}

impl std::error::Error for NameNotResolved {}

/// The resolver of every client's agent: see the [module documentation](self).
pub(crate) struct CachingResolver {
    cache: Mutex<Vec<Entry>>,
    lookup: Lookup,
    ttl: Duration,
}

/// One host name's addresses, as `ureq` wants them.
struct Entry {
    host: String,
    port: u16,
    family: IpFamily,
    addrs: ResolvedSocketAddrs,
    expires: Instant,
}

impl CachingResolver {
    /// A resolver with the system's lookup and [`NAME_TTL`].
    pub(crate) fn new() -> CachingResolver {
        CachingResolver::with_lookup(system_lookup, NAME_TTL)
    }

    fn with_lookup(lookup: Lookup, ttl: Duration) -> CachingResolver {
        CachingResolver {
            cache: Mutex::new(Vec::new()),
            lookup,
            ttl,
        }
    }

    /// The cached addresses of `host:port`, when they are still fresh.
    fn cached(&self, host: &str, port: u16, family: IpFamily) -> Option<ResolvedSocketAddrs> {
        let now = Instant::now();
        // A panic while the lock was held cannot leave the list inconsistent (every change
        // is one push, remove or retain), so a poisoned lock is used as it is.
        let cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache
            .iter()
            .find(|e| e.port == port && e.family == family && e.host.eq_ignore_ascii_case(host))
            .filter(|e| now < e.expires)
            .map(|e| e.addrs.clone())
    }

    fn remember(&self, host: &str, port: u16, family: IpFamily, addrs: &ResolvedSocketAddrs) {
        let now = Instant::now();
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.retain(|e| {
            now < e.expires
                && !(e.port == port && e.family == family && e.host.eq_ignore_ascii_case(host))
        });
        if cache.len() >= MAX_NAMES {
            // The one that expires first goes.
            if let Some(oldest) = (0..cache.len()).min_by_key(|&i| cache[i].expires) {
                cache.swap_remove(oldest);
            }
        }
        cache.push(Entry {
            host: host.to_owned(),
            port,
            family,
            addrs: addrs.clone(),
            expires: now + self.ttl,
        });
    }

    /// Looks `host:port` up, on a thread when the deadline needs one (as `ureq` does).
    fn look_up(
        &self,
        host: &str,
        port: u16,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host_port = format!("{host}:{port}");
        let unresolved = |e: io::Error| NameNotResolved::wrap(host, e);
        let found = if timeout.after.is_not_happening() {
            (self.lookup)(&host_port).map_err(unresolved)?
        } else {
            let lookup = self.lookup;
            let (tx, rx) = mpsc::sync_channel(1);
            thread::Builder::new()
                .name("docspace-tfa-resolve".into())
                .spawn(move || {
                    // The receiver is gone when the caller stopped waiting: nothing to do.
                    let _ = tx.send(lookup(&host_port));
                })?;
            match rx.recv_timeout(*timeout.after) {
                Ok(found) => found.map_err(unresolved)?,
                Err(RecvTimeoutError::Timeout) => return Err(ureq::Error::Timeout(timeout.reason)),
                // Only if the lookup panicked: the system resolver does not.
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(ureq::Error::Io(io::Error::other(
                        "the name lookup ended without an answer",
                    )))
                }
            }
        };
        let mut addrs = self.empty();
        for addr in config
            .ip_family()
            .keep_wanted(found.into_iter())
            .take(MAX_ADDRS)
        {
            addrs.push(addr);
        }
        if addrs.is_empty() {
            Err(ureq::Error::HostNotFound)
        } else {
            Ok(addrs)
        }
    }
}

impl Resolver for CachingResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let scheme = uri.scheme();
        let default_port = if scheme == Some(&Scheme::HTTPS) {
            443
        } else if scheme == Some(&Scheme::HTTP) {
            80
        } else {
            // Another scheme (a SOCKS proxy's) or none: the default resolver checks it and
            // resolves it, with its own errors.
            return DefaultResolver::default().resolve(uri, config, timeout);
        };
        let Some(authority) = uri.authority() else {
            return DefaultResolver::default().resolve(uri, config, timeout);
        };
        let port = authority.port_u16().unwrap_or(default_port);
        let host = authority.host();
        let family = config.ip_family();
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = literal.parse::<IpAddr>() {
            let addr = SocketAddr::new(ip, port);
            let mut wanted = family.keep_wanted(std::iter::once(addr));
            return match wanted.next() {
                Some(addr) => {
                    let mut addrs = self.empty();
                    addrs.push(addr);
                    Ok(addrs)
                }
                None => Err(ureq::Error::HostNotFound),
            };
        }
        if let Some(addrs) = self.cached(host, port, family) {
            return Ok(addrs);
        }
        let addrs = self.look_up(host, port, config, timeout)?;
        self.remember(host, port, family, &addrs);
        Ok(addrs)
    }
}

impl fmt::Debug for CachingResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CachingResolver")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use ureq::unversioned::transport::time::Duration as UreqDuration;
    use ureq::Timeout;

    fn deadline(after: Duration) -> NextTimeout {
        NextTimeout {
            after: UreqDuration::Exact(after),
            reason: Timeout::Resolve,
            ..NextTimeout::default()
        }
    }

    fn config() -> Config {
        Config::default()
    }

    fn uri(s: &str) -> Uri {
        s.parse().unwrap()
    }

    /// A lookup that must not happen.
    fn no_lookup(_: &str) -> io::Result<Vec<SocketAddr>> {
        panic!("looked up")
    }

    #[test]
    fn ip_literals_need_no_lookup() {
        let r = CachingResolver::with_lookup(no_lookup, NAME_TTL);
        let t = deadline(Duration::from_secs(1));
        let a = r
            .resolve(&uri("http://127.0.0.1:8080/x"), &config(), t)
            .unwrap();
        assert_eq!(&a[..], &[SocketAddr::from((Ipv4Addr::LOCALHOST, 8080))]);
        let a = r.resolve(&uri("https://[::1]/x"), &config(), t).unwrap();
        assert_eq!(&a[..], &[SocketAddr::from((Ipv6Addr::LOCALHOST, 443))]);
        let a = r.resolve(&uri("http://10.1.2.3/"), &config(), t).unwrap();
        assert_eq!(a[0].port(), 80);
        // The IP family filter applies as it does to looked-up addresses.
        let v4 = Config::builder().ip_family(IpFamily::Ipv4Only).build();
        let e = r.resolve(&uri("https://[::1]/"), &v4, t).unwrap_err();
        assert!(matches!(e, ureq::Error::HostNotFound), "{e:?}");
    }

    static LOOKUPS: AtomicUsize = AtomicUsize::new(0);

    fn counting_lookup(host_port: &str) -> io::Result<Vec<SocketAddr>> {
        LOOKUPS.fetch_add(1, Ordering::SeqCst);
        assert!(
            host_port.eq_ignore_ascii_case("portal.test:443"),
            "{host_port}"
        );
        Ok(vec![
            SocketAddr::from((Ipv6Addr::LOCALHOST, 443)),
            SocketAddr::from((Ipv4Addr::LOCALHOST, 443)),
        ])
    }

    #[test]
    fn names_are_looked_up_once_per_ttl() {
        // A TTL with 10× headroom over what the first part needs on a busy machine (its 102
        // calls and one lookup thread must all fall within it: docs/reliability.md).
        let ttl = Duration::from_secs(3);
        let r = CachingResolver::with_lookup(counting_lookup, ttl);
        let t = deadline(Duration::from_secs(5));
        let u = uri("https://Portal.Test/api/2.0/x");
        let first = r.resolve(&u, &config(), t).unwrap();
        assert_eq!(first.len(), 2);
        for _ in 0..100 {
            assert_eq!(r.resolve(&u, &config(), t).unwrap(), first);
        }
        assert_eq!(LOOKUPS.load(Ordering::SeqCst), 1);
        // Another family is another entry, filtered.
        let v4 = Config::builder().ip_family(IpFamily::Ipv4Only).build();
        let only = r.resolve(&u, &v4, t).unwrap();
        assert_eq!(&only[..], &[SocketAddr::from((Ipv4Addr::LOCALHOST, 443))]);
        assert_eq!(LOOKUPS.load(Ordering::SeqCst), 2);
        // After the TTL the name is looked up again.
        thread::sleep(ttl + Duration::from_millis(50));
        assert_eq!(r.resolve(&u, &config(), t).unwrap(), first);
        assert_eq!(LOOKUPS.load(Ordering::SeqCst), 3);
    }

    fn never_answers(_: &str) -> io::Result<Vec<SocketAddr>> {
        thread::sleep(Duration::from_secs(30));
        Err(io::Error::other("too late"))
    }

    #[test]
    fn a_lookup_that_never_answers_fails_at_the_deadline() {
        let r = CachingResolver::with_lookup(never_answers, NAME_TTL);
        let started = Instant::now();
        let e = r
            .resolve(
                &uri("https://slow.test/"),
                &config(),
                deadline(Duration::from_millis(200)),
            )
            .unwrap_err();
        let took = started.elapsed();
        assert!(matches!(e, ureq::Error::Timeout(Timeout::Resolve)), "{e:?}");
        assert!(took >= Duration::from_millis(200), "{took:?}");
        assert!(took < Duration::from_secs(5), "{took:?}");
    }

    fn fails(_: &str) -> io::Result<Vec<SocketAddr>> {
        Err(io::Error::new(io::ErrorKind::NotFound, "no such host"))
    }

    fn nothing(_: &str) -> io::Result<Vec<SocketAddr>> {
        Ok(Vec::new())
    }

    #[test]
    fn errors_are_the_default_resolvers() {
        let t = deadline(Duration::from_secs(5));
        let no_deadline = NextTimeout::default();
        for timeout in [t, no_deadline] {
            let r = CachingResolver::with_lookup(fails, NAME_TTL);
            let e = r.resolve(&uri("https://x.test/"), &config(), timeout);
            assert!(matches!(e, Err(ureq::Error::Io(_))), "{e:?}");
            let r = CachingResolver::with_lookup(nothing, NAME_TTL);
            let e = r.resolve(&uri("https://x.test/"), &config(), timeout);
            assert!(matches!(e, Err(ureq::Error::HostNotFound)), "{e:?}");
        }
        // Unknown schemes and relative URIs: the default resolver's own errors.
        let r = CachingResolver::with_lookup(no_lookup, NAME_TTL);
        let e = r.resolve(&uri("foo://x.test/"), &config(), t).unwrap_err();
        assert!(matches!(e, ureq::Error::BadUri(_)), "{e:?}");
        let e = r.resolve(&uri("/relative"), &config(), t).unwrap_err();
        assert!(matches!(e, ureq::Error::BadUri(_)), "{e:?}");
    }

    static CALLERS: Mutex<Vec<thread::ThreadId>> = Mutex::new(Vec::new());

    fn recording_lookup(_: &str) -> io::Result<Vec<SocketAddr>> {
        CALLERS.lock().unwrap().push(thread::current().id());
        Ok(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 80))])
    }

    #[test]
    fn a_thread_only_when_a_deadline_needs_it() {
        let me = thread::current().id();
        let r = CachingResolver::with_lookup(recording_lookup, Duration::ZERO);
        let u = uri("http://name.test/");
        r.resolve(&u, &config(), NextTimeout::default()).unwrap();
        r.resolve(&u, &config(), deadline(Duration::from_secs(5)))
            .unwrap();
        let callers = CALLERS.lock().unwrap().clone();
        assert_eq!(callers.len(), 2);
        assert_eq!(callers[0], me, "no deadline: looked up on the caller");
        assert_ne!(callers[1], me, "a deadline: looked up on a thread");
    }

    #[test]
    fn the_cache_is_bounded() {
        fn any(_: &str) -> io::Result<Vec<SocketAddr>> {
            Ok(vec![SocketAddr::from((Ipv4Addr::LOCALHOST, 80))])
        }
        let r = CachingResolver::with_lookup(any, NAME_TTL);
        for i in 0..50 {
            let u = uri(&format!("http://host{i}.test/"));
            r.resolve(&u, &config(), NextTimeout::default()).unwrap();
        }
        assert_eq!(r.cache.lock().unwrap().len(), MAX_NAMES);
        assert!(!format!("{r:?}").contains("host"));
    }

    #[test]
    fn a_failed_lookup_names_its_host_with_or_without_a_thread() {
        fn unknown(_: &str) -> io::Result<Vec<SocketAddr>> {
            Err(io::Error::other(
                "failed to lookup address information: Name or service not known",
            ))
        }
        let r = CachingResolver::with_lookup(unknown, NAME_TTL);
        let u = uri("https://portal.example.invalid/api");
        for t in [NextTimeout::default(), deadline(Duration::from_secs(5))] {
            let e = r.resolve(&u, &config(), t).unwrap_err();
            let ureq::Error::Io(io) = &e else {
                panic!("not an I/O error: {e:?}")
            };
            assert_eq!(NameNotResolved::host_of(io), Some("portal.example.invalid"));
            assert!(e.to_string().contains("failed to lookup address"), "{e}");
        }
        assert_eq!(NameNotResolved::host_of(&io::Error::other("x")), None);
    }
}
