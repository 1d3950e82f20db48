//! Proxies: a loopback portal is never reached through one, an unsupported one is refused,
//! and a supported one (HTTP CONNECT, SOCKS5) is really used. A fake proxy on loopback
//! records what it receives.
//!
//! The process environment is shared by the tests of this binary: every test sets the same
//! proxy variables (pointing at one shared fake proxy) and none removes them.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex, OnceLock};
use std::thread;
use std::time::Duration;

use docspace_tfa::{Client, ErrorKind, Proxy, RetryPolicy};

/// A fake proxy: records the first bytes of every connection, then answers 502 and closes.
struct FakeProxy {
    port: u16,
    received: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl FakeProxy {
    fn start() -> FakeProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let log = Arc::clone(&log);
                thread::spawn(move || {
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                    let mut seen = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n @ 1..) = stream.read(&mut buf) {
                        seen.extend_from_slice(&buf[..n]);
                        if seen.starts_with(&[5]) || seen.windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    log.lock().unwrap().push(seen);
                    let _ = stream.write_all(
                        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    );
                });
            }
        });
        FakeProxy { port, received }
    }

    fn received(&self) -> Vec<String> {
        let log = self.received.lock().unwrap();
        log.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }
}

/// The one fake proxy of this binary, with every proxy variable pointing at it.
fn env_proxy() -> &'static FakeProxy {
    static PROXY: OnceLock<FakeProxy> = OnceLock::new();
    PROXY.get_or_init(|| {
        let proxy = FakeProxy::start();
        let url = format!("http://127.0.0.1:{}", proxy.port);
        for name in [
            "ALL_PROXY",
            "HTTPS_PROXY",
            "HTTP_PROXY",
            "all_proxy",
            "https_proxy",
            "http_proxy",
        ] {
            std::env::set_var(name, &url);
        }
        std::env::remove_var("NO_PROXY");
        std::env::remove_var("no_proxy");
        proxy
    })
}

const SETTINGS: &str = r#"{"response":[{"id":"app","title":"Authenticator app","enabled":true,"available":true,"trustedIps":[],"mandatoryUsers":[],"mandatoryGroups":[]}],"count":1,"links":[],"status":0,"statusCode":200}"#;
const TOKEN: &str = "sk-2f0c8a1e9d7b4c3aa6e51f0b9d2c7e84";

#[test]
fn a_loopback_portal_is_never_reached_through_the_environment_proxy() {
    let proxy = env_proxy();
    let mut portal = mockito::Server::new();
    let mock = portal
        .mock("GET", "/api/2.0/settings/tfaapp")
        .match_header("authorization", format!("Bearer {TOKEN}").as_str())
        .with_body(SETTINGS)
        .create();
    let port = portal
        .host_with_port()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    for url in [
        format!("http://127.0.0.1:{port}"),
        format!("http://localhost:{port}"),
    ] {
        let client = Client::builder()
            .base_url(url)
            .token(TOKEN)
            .build()
            .unwrap();
        assert_eq!(client.tfa().methods().unwrap().len(), 1);
    }
    mock.expect(2).assert();
    assert!(
        proxy.received().iter().all(|r| !r.contains(&port)),
        "the proxy saw the loopback portal: {:?}",
        proxy.received()
    );
}

#[test]
fn a_loopback_portal_ignores_an_explicit_proxy_too() {
    let proxy = FakeProxy::start();
    let mut portal = mockito::Server::new();
    let mock = portal
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_body(SETTINGS)
        .create();
    let client = Client::builder()
        .base_url(portal.url())
        .token(TOKEN)
        .proxy(Proxy::Url(format!("http://127.0.0.1:{}", proxy.port)))
        .build()
        .unwrap();
    client.tfa().methods().unwrap();
    mock.assert();
    assert!(proxy.received().is_empty());
}

#[test]
fn a_remote_portal_goes_through_the_environment_proxy() {
    let proxy = env_proxy();
    let client = Client::builder()
        .base_url("https://portal.proxied-env.example")
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    let e = client.tfa().methods().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network, "{e}");
    let seen = proxy.received();
    let connect = seen
        .iter()
        .find(|r| r.contains("portal.proxied-env.example"))
        .expect("the proxy was asked");
    assert!(
        connect.starts_with("CONNECT portal.proxied-env.example:443"),
        "{connect}"
    );
    assert!(
        !connect.contains(TOKEN),
        "the token travels inside the tunnel only"
    );

    let direct = Client::builder()
        .base_url("https://portal.direct.example")
        .proxy(Proxy::Direct)
        .token(TOKEN)
        .retry(RetryPolicy::none())
        .connect_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let _ = direct.tfa().methods();
    assert!(proxy
        .received()
        .iter()
        .all(|r| !r.contains("portal.direct.example")));
}

#[test]
fn a_socks5_proxy_is_used_not_bypassed() {
    // socks5h: the proxy resolves the name; socks5: the client resolves it (an IP here).
    for (scheme, portal) in [
        ("socks5h", "https://portal.socks.example"),
        ("socks5", "https://192.0.2.1"),
    ] {
        let proxy = FakeProxy::start();
        let client = Client::builder()
            .base_url(portal)
            .token(TOKEN)
            .retry(RetryPolicy::none())
            .proxy(Proxy::Url(format!("{scheme}://127.0.0.1:{}", proxy.port)))
            .build()
            .unwrap();
        assert!(client.tfa().methods().is_err());
        let seen = proxy.received.lock().unwrap().clone();
        assert_eq!(seen.len(), 1, "{scheme}: one SOCKS connection");
        assert_eq!(seen[0][0], 5, "{scheme}: a SOCKS5 greeting");
    }
}

#[test]
fn an_unsupported_proxy_fails_the_build_instead_of_going_direct() {
    for url in [
        "ftp://user:hunter22@proxy.example:21",
        "gopher://proxy.example",
    ] {
        let e = Client::builder()
            .base_url("https://portal.example.com")
            .proxy(Proxy::Url(url.into()))
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidInput);
        let text = e.to_string();
        assert!(text.contains("unsupported kind"), "{text}");
        assert!(!text.contains("hunter22"), "{text}");
    }
}
