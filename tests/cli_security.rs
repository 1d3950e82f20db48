//! The `docspace-tfa` binary against hostile and TLS servers on loopback (issue 13): proxies,
//! custom CAs, the QR file, terminal injection, the token file, bad tokens, the whole-command
//! timeout and small usage mistakes.
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;
mod https;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use cli_support::{command, Portal, Run};
use docspace_tfa::emulator::Emulator;

const PROXY_VARS: [&str; 8] = [
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// The binary without the DocSpace and proxy variables of the environment.
fn clean_command() -> Command {
    let mut cmd = command();
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd
}

/// Runs the binary with a clean DocSpace and proxy environment plus `env`, stdin empty.
fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    let out = clean_command()
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run docspace-tfa");
    Run::from(out)
}

/// A listener that records the first bytes of each connection and closes it.
struct Recorder {
    port: u16,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Recorder {
    fn start() -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
                let mut buf = vec![0u8; 4096];
                let n = stream.read(&mut buf).unwrap_or(0);
                log.lock().unwrap().push(buf[..n].to_vec());
            }
        });
        Recorder { port, seen }
    }

    fn seen(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().clone()
    }
}

/// An emulator with one owner, and the owner's API key.
fn portal() -> (Emulator, String) {
    let Portal { emu, token, .. } = Portal::new();
    (emu, token)
}

fn tempdir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("docspace-tfa-cli13-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_loopback_portal_is_not_sent_to_the_proxy_of_the_environment() {
    let (emu, token) = portal();
    let proxy = Recorder::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port);
    let mut env = vec![
        ("DOCSPACE_URL", emu.base_url()),
        ("DOCSPACE_TOKEN", token.as_str()),
    ];
    for var in &PROXY_VARS[..6] {
        env.push((var, proxy_url.as_str()));
    }
    let r = run(&["settings", "--json"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json().is_array());
    assert!(
        proxy.seen().is_empty(),
        "the proxy received {:?}",
        proxy.seen()
    );
}

#[test]
fn unsupported_and_socks_proxies_are_never_bypassed() {
    let r = run(
        &["settings", "--json", "--url", "https://portal.example.com"],
        &[
            ("DOCSPACE_TOKEN", "sk-token-1234"),
            ("ALL_PROXY", "ftp://user:hunter22@proxy.example:21"),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    let m = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(m.contains("ALL_PROXY") && m.contains("unsupported"), "{m}");
    assert!(!m.contains("hunter22"), "{m}");

    let socks = Recorder::start();
    let url = format!("socks5h://127.0.0.1:{}", socks.port);
    let r = run(
        &[
            "settings",
            "--json",
            "--retries",
            "0",
            "--url",
            "https://portal.example.com",
        ],
        &[
            ("DOCSPACE_TOKEN", "sk-token-1234"),
            ("HTTPS_PROXY", url.as_str()),
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stdout);
    let seen = socks.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].first(), Some(&5), "a SOCKS5 greeting");
}

#[test]
fn ca_cert_reaches_a_portal_behind_an_internal_ca() {
    let portal = https::Portal::start(https::Cert::SignedByTestCa);
    let ca = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls/ca.pem");
    let url = portal.url();
    let base = [
        ("DOCSPACE_URL", url.as_str()),
        ("DOCSPACE_TOKEN", "sk-token-1234"),
    ];
    let r = run(&["settings", "--json", "--ca-cert", ca], &base);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()[1]["id"], "app");
    let r = run(
        &["settings", "--json"],
        &[base[0], base[1], ("DOCSPACE_CA_CERT", ca)],
    );
    assert_eq!(r.code, 0, "{}", r.stdout);

    let r = run(&["settings", "--json", "--retries", "0"], &base);
    assert_eq!(r.code, 1);
    let m = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(m.contains("not trusted") && m.contains("--ca-cert"), "{m}");
    assert_eq!(portal.requests().len(), 2, "the untrusted run sent nothing");

    let r = run(
        &["settings", "--json", "--ca-cert", "/nonexistent/ca.pem"],
        &base,
    );
    assert_eq!(r.code, 2);
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls/server.key");
    let r = run(&["settings", "--json", "--ca-cert", key], &base);
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("no certificate"), "{}", r.stdout);
}

#[cfg(unix)]
#[test]
fn qr_png_replaces_a_symlink_with_a_private_file() {
    use std::os::unix::fs::{symlink, PermissionsExt};
    let (emu, token) = portal();
    let dir = tempdir("qr");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, b"not yours").unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let png = dir.join("qr.png");
    symlink(&victim, &png).unwrap();
    let env = [
        ("DOCSPACE_URL", emu.base_url()),
        ("DOCSPACE_TOKEN", token.as_str()),
    ];
    let r = run(
        &[
            "link",
            "--auto",
            "--json",
            "--qr-png",
            png.to_str().unwrap(),
        ],
        &env,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(std::fs::read(&victim).unwrap(), b"not yours");
    let meta = std::fs::symlink_metadata(&png).unwrap();
    assert!(meta.file_type().is_file(), "the link itself was replaced");
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn server_strings_cannot_drive_the_terminal() {
    let title = "Authenticator app\x1b[2K\r\nmanual key: AAAABBBBCCCCDDDD\x07\u{202e}";
    let body = serde_json::json!({"response": [{"id": "app", "title": title, "enabled": true,
        "available": true, "trustedIps": ["10.0.0.1\x1b]0;owned\x07"], "mandatoryUsers": [],
        "mandatoryGroups": []}], "count": 1, "status": 0, "statusCode": 200});
    let mut server = mockito::Server::new();
    let _m = server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_header("content-type", "application/json")
        .with_body(body.to_string())
        .create();
    let env = [
        ("DOCSPACE_URL", server.url()),
        ("DOCSPACE_TOKEN", "sk-token-1234".to_owned()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = run(&["settings"], &env);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for bad in ['\x1b', '\x07', '\r', '\u{202e}'] {
        assert!(
            !r.stdout.contains(bad),
            "{bad:?} reached the terminal: {:?}",
            r.stdout
        );
    }
    assert!(
        !r.stdout.lines().any(|l| l.starts_with("manual key:")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("\\u{1b}[2K"), "{}", r.stdout);
    // JSON output stays exact.
    let r = run(&["settings", "--json"], &env);
    assert_eq!(r.json()[0]["title"], title);
}

#[cfg(unix)]
#[test]
fn the_token_file_is_bounded_checked_and_not_echoed() {
    use std::os::unix::fs::PermissionsExt;
    let (emu, token) = portal();
    let dir = tempdir("token");
    let file = dir.join("token");
    std::fs::write(&file, format!("{token}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let url = [("DOCSPACE_URL", emu.base_url())];
    let r = run(
        &["settings", "--json", "--token-file", file.to_str().unwrap()],
        &url,
    );
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stderr.contains("can be read by others") && r.stderr.contains("644"),
        "{}",
        r.stderr
    );
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let r = run(
        &["settings", "--json", "--token-file", file.to_str().unwrap()],
        &url,
    );
    assert_eq!(r.code, 0);
    assert!(r.stderr.is_empty(), "{}", r.stderr);

    let started = Instant::now();
    let r = run(&["settings", "--json", "--token-file", "/dev/zero"], &url);
    assert_eq!(r.code, 2);
    assert!(r.stdout.contains("larger than 64 KiB"), "{}", r.stdout);
    assert!(started.elapsed() < Duration::from_secs(10));

    let r = run(&["settings", "--json", "--token-file", &token], &url);
    assert_eq!(r.code, 2);
    assert!(
        !r.stdout.contains(&token) && !r.stderr.contains(&token),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("not shown"), "{}", r.stdout);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_invalid_token_is_a_usage_error_before_connecting() {
    let server = Recorder::start();
    let url = format!("http://127.0.0.1:{}", server.port);
    for token in ["sk-tökén-1234", "sk-with space", "sk-\u{7}bell"] {
        let r = run(
            &["settings", "--json"],
            &[("DOCSPACE_URL", url.as_str()), ("DOCSPACE_TOKEN", token)],
        );
        assert_eq!(r.code, 2, "{token:?}: {}", r.stdout);
        assert_eq!(r.json()["error"]["kind"], "invalid_input");
        assert!(!r.stdout.contains(token));
    }
    assert!(server.seen().is_empty(), "nothing was sent");
}

#[test]
fn timeout_bounds_the_whole_command_and_retries_can_be_turned_off() {
    // A portal answering 503 after 700 ms, every time.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&requests);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let count = Arc::clone(&count);
            thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                count.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(700));
                let body =
                    r#"{"error":{"message":"Service Unavailable"},"status":1,"statusCode":503}"#;
                let _ = write!(
                    stream,
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    let url = format!("http://127.0.0.1:{port}");
    let env = [
        ("DOCSPACE_URL", url.as_str()),
        ("DOCSPACE_TOKEN", "sk-token-1234"),
    ];
    let started = Instant::now();
    let r = run(
        &["settings", "--json", "--timeout", "1", "--retries", "5"],
        &env,
    );
    let took = started.elapsed();
    assert_eq!(r.code, 1, "{}", r.stdout);
    // Counted, not timed: within 1 s, at most two answers of 700 ms each can have started
    // (six without the deadline); the wall time has 10× headroom over the deadline.
    let sent = requests.load(Ordering::SeqCst);
    assert!((1..=2).contains(&sent), "--timeout 1 sent {sent} requests");
    assert!(took < Duration::from_secs(10), "--timeout 1 took {took:?}");

    let before = requests.load(Ordering::SeqCst);
    let r = run(&["settings", "--json", "--retries", "0"], &env);
    assert_eq!(r.code, 1);
    assert_eq!(r.json()["error"]["status"], 503);
    assert_eq!(
        requests.load(Ordering::SeqCst) - before,
        1,
        "--retries 0: one request"
    );
}

#[test]
fn small_usage_mistakes() {
    let r = run(&["mysecretpassword", "--json"], &[]);
    assert_eq!(r.code, 2);
    assert!(!r.stdout.contains("mysecretpassword"), "{}", r.stdout);

    let r = run(
        &["settings", "--json", "--url", "http://portal.example.com"],
        &[("DOCSPACE_TOKEN", "sk-token-1234")],
    );
    assert_eq!(r.code, 2);
    let m = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        m.contains("--allow-insecure-http") && !m.contains("allow_insecure_http("),
        "{m}"
    );

    let server = Recorder::start();
    let url = format!("http://127.0.0.1:{}", server.port);
    let r = run(
        &["unlink", "--json", "--user", "not-a-guid"],
        &[
            ("DOCSPACE_URL", url.as_str()),
            ("DOCSPACE_TOKEN", "sk-token-1234"),
        ],
    );
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stdout.contains("GUID") && !r.stdout.contains("not-a-guid"),
        "{}",
        r.stdout
    );
    assert!(server.seen().is_empty());

    let r = run(
        &[
            "settings",
            "set",
            "--type",
            "app",
            "--mandatory-user",
            "--json",
        ],
        &[],
    );
    assert_eq!(r.code, 2);
    let r2 = run(
        &["settings", "set", "--type", "app", "--mandatory-user"],
        &[],
    );
    for text in [&r.stdout, &r2.stderr] {
        assert!(
            !text.contains("possible values: \n") && !text.contains("possible values: \""),
            "{text}"
        );
        assert!(!text.trim_end().ends_with("possible values:"), "{text}");
    }
    assert!(r2.stderr.contains("--mandatory-user"), "{}", r2.stderr);
}

/// `login --password-stdin` on a terminal: the password typed there is not echoed.
#[cfg(target_os = "linux")]
#[test]
fn a_password_typed_on_a_terminal_is_not_echoed() {
    use std::fs::File;
    use std::os::fd::{FromRawFd, OwnedFd};
    use std::os::unix::process::CommandExt;

    let server = Recorder::start();
    let url = format!("http://127.0.0.1:{}", server.port);
    let (mut master, slave) = {
        let (mut m, mut s) = (0, 0);
        // SAFETY: openpty writes two new descriptors into `m` and `s`; no other pointers.
        let rc = unsafe {
            libc::openpty(
                &mut m,
                &mut s,
                std::ptr::null_mut(),
                std::ptr::null(),
                std::ptr::null(),
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: both descriptors were just opened and are owned here only.
        unsafe { (File::from_raw_fd(m), OwnedFd::from_raw_fd(s)) }
    };
    let mut cmd = clean_command();
    cmd.args([
        "login",
        "--user",
        "bot@example.com",
        "--password-stdin",
        "--retries",
        "0",
        "--url",
        &url,
    ])
    .stdin(Stdio::from(slave.try_clone().unwrap()))
    .stdout(Stdio::from(slave.try_clone().unwrap()))
    .stderr(Stdio::from(slave));
    // SAFETY: only async-signal-safe calls between fork and exec: a new session whose
    // controlling terminal is the pty on stdin (what a login shell has).
    unsafe {
        cmd.pre_exec(|| {
            if libc::setsid() < 0 || libc::ioctl(0, libc::TIOCSCTTY as _, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("spawn on a pty");
    drop(cmd); // the parent's copies of the slave side
    let reader = {
        let mut master = master.try_clone().unwrap();
        thread::spawn(move || {
            let mut all = Vec::new();
            let mut buf = [0u8; 1024];
            while let Ok(n @ 1..) = master.read(&mut buf) {
                all.extend_from_slice(&buf[..n]);
            }
            String::from_utf8_lossy(&all).into_owned()
        })
    };
    // Type only once the terminal's echo is off (the prompt comes first, then rpassword turns
    // echo off): waiting a fixed 300 ms raced a CLI still starting on a busy machine. Polled
    // every 10 ms for at most 60 s (docs/reliability.md, "Timing in tests").
    let echo_off = (0..6000).any(|_| {
        // SAFETY: `termios` is plain data, filled by tcgetattr on a descriptor we own.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::tcgetattr(std::os::fd::AsRawFd::as_raw_fd(&master), &mut t) };
        let off = rc == 0 && t.c_lflag & libc::ECHO == 0;
        if !off {
            thread::sleep(Duration::from_millis(10));
        }
        off
    });
    assert!(echo_off, "the CLI never turned the terminal's echo off");
    master.write_all(b"hunter2-typed-secret\n").unwrap();
    let status = child.wait().unwrap();
    let shown = reader.join().unwrap();
    assert!(shown.contains("Password"), "a prompt: {shown:?}");
    assert!(
        !shown.contains("hunter2-typed-secret"),
        "the password was echoed: {shown:?}"
    );
    assert_eq!(status.code(), Some(1), "{shown}");
    let sent: Vec<String> = server
        .seen()
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    // The login went out (the password was read; its body is not checked here).
    assert!(
        sent.iter()
            .any(|r| r.starts_with("POST /api/2.0/authentication ")),
        "{sent:?}"
    );
}
