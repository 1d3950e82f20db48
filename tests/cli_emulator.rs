//! `docspace-tfa emulator` as a process, and the commands a newcomer runs against it with only
//! a token: its JSON line, how it stops (stdin EOF, SIGTERM, a killed parent), fault injection,
//! `--confirm-json`, the confirm key's one name, login with a stored key, and the help layout.
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use cli_support::{command, first_line, run, spawn_emulator, BIN};
use serde_json::Value;

/// A running `docspace-tfa emulator` and its JSON line.
struct Emu {
    child: Child,
    stdin: Option<ChildStdin>,
    info: Value,
}

impl Emu {
    fn start(args: &[&str]) -> Emu {
        let (mut child, info) = spawn_emulator(args);
        let stdin = child.stdin.take();
        Emu { child, stdin, info }
    }

    fn url(&self) -> &str {
        self.info["url"].as_str().expect("url")
    }

    fn user(&self, email: &str) -> &Value {
        self.info["users"]
            .as_array()
            .and_then(|u| u.iter().find(|u| u["email"] == email))
            .expect("seeded user")
    }

    /// Runs the CLI against this emulator with `user`'s API key (if any).
    fn cli(&self, user: Option<&str>, args: &[&str], stdin: &str) -> (i32, Value) {
        let mut env = vec![("DOCSPACE_URL", self.url())];
        if let Some(u) = user {
            env.push((
                "DOCSPACE_TOKEN",
                self.user(u)["apiKey"].as_str().expect("key"),
            ));
        }
        let args: Vec<&str> = args.iter().copied().chain(["--json"]).collect();
        let r = run(&args, &env, Some(stdin));
        (r.code, r.json())
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether something still accepts connections at `url` (`http://127.0.0.1:PORT`).
fn serving(url: &str) -> bool {
    let addr = url.trim_start_matches("http://");
    TcpStream::connect_timeout(&addr.parse().expect("addr"), Duration::from_millis(300)).is_ok()
}

/// Waits up to 10 s for `url` to stop serving.
fn stops_serving(url: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if !serving(url) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn the_json_line_lists_the_seeded_users() {
    let emu = Emu::start(&[]);
    assert!(emu.url().starts_with("http://127.0.0.1:"));
    let users = emu.info["users"].as_array().expect("users");
    assert_eq!(users.len(), 4);
    for u in users {
        for field in ["email", "password", "apiKey", "id", "role"] {
            assert!(
                u[field].as_str().is_some_and(|s| !s.is_empty()),
                "{field}: {u}"
            );
        }
        assert_eq!(u["totpKey"].is_string(), u["linked"] == true, "{u}");
    }
    assert_eq!(emu.user("owner@example.com")["role"], "owner");
    assert_eq!(emu.user("linked@example.com")["linked"], true);
}

#[test]
fn setup_validate_and_link_work_with_only_a_token() {
    let emu = Emu::start(&[]);
    // setup, then validate with the code computed offline by `code`.
    let (exit, setup) = emu.cli(Some("user@example.com"), &["setup"], "");
    assert_eq!(exit, 0, "{setup}");
    let key = setup["manualEntryKey"].as_str().expect("key");
    let (_, code) = emu.cli(None, &["code", "--key", key], "");
    let (exit, v) = emu.cli(
        Some("user@example.com"),
        &["validate", code["code"].as_str().expect("code")],
        "",
    );
    assert_eq!(
        (exit, &v["firstActivation"]),
        (0, &Value::Bool(true)),
        "{v}"
    );
    // link in one command for another member.
    let (exit, linked) = emu.cli(Some("admin@example.com"), &["link", "--auto"], "");
    assert_eq!(exit, 0, "{linked}");
    assert_eq!(linked["backupCodes"].as_array().map(Vec::len), Some(5));
    // A linked member: setup is not available (5).
    let (exit, err) = emu.cli(Some("linked@example.com"), &["setup"], "");
    assert_eq!(
        (exit, &err["error"]["kind"]),
        (5, &Value::from("not_available"))
    );
}

#[test]
fn tfa_that_does_not_apply_is_exit_7() {
    let emu = Emu::start(&["--policy", "none"]);
    for args in [&["setup"][..], &["validate", "123456"], &["link", "--auto"]] {
        let (exit, err) = emu.cli(Some("user@example.com"), args, "");
        assert_eq!(exit, 7, "{args:?}: {err}");
        assert_eq!(err["error"]["kind"], "tfa_not_applicable");
    }
}

#[test]
fn confirm_output_feeds_confirm_json_under_one_name() {
    let emu = Emu::start(&[]);
    let (exit, data) = emu.cli(Some("user@example.com"), &["confirm"], "");
    assert_eq!(exit, 0);
    assert_eq!(
        data["confirmKey"], data["cookieValue"],
        "the old name stays an alias"
    );
    assert_eq!(data["confirmUrl"], data["url"]);
    let json = data.to_string();
    // From stdin, with no token at all: the ticket is the credential.
    let (exit, setup) = emu.cli(None, &["setup", "--confirm-json", "-"], &json);
    assert_eq!(exit, 0, "{setup}");
    let key = setup["manualEntryKey"].as_str().expect("key").to_owned();
    let (_, code) = emu.cli(None, &["code", "--key", &key], "");
    let (exit, v) = emu.cli(
        None,
        &[
            "validate",
            code["code"].as_str().expect("code"),
            "--confirm-json",
            "-",
        ],
        &json,
    );
    assert_eq!(
        (exit, &v["firstActivation"]),
        (0, &Value::Bool(true)),
        "{v}"
    );

    // `login`'s challenge feeds `link --confirm-json` the same way; the session validate opens
    // comes back as the token.
    let mut login = command();
    let out = login
        .env("DOCSPACE_URL", emu.url())
        .env("DOCSPACE_PASSWORD", "owner-Pa55")
        .args(["login", "--user", "owner@example.com", "--json"])
        .output()
        .expect("login");
    let challenge: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(challenge["status"], "tfa_activation_required");
    let (exit, linked) = emu.cli(
        None,
        &["link", "--auto", "--confirm-json", "-"],
        &challenge.to_string(),
    );
    assert_eq!(exit, 0, "{linked}");
    assert!(linked["token"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(linked["backupCodes"].as_array().map(Vec::len), Some(5));
    // Not JSON: a usage error that does not echo the input.
    let (exit, err) = emu.cli(None, &["setup", "--confirm-json", "-"], "key-1234 not json");
    assert_eq!(exit, 2);
    assert!(!err.to_string().contains("key-1234"));
}

#[test]
fn login_with_a_stored_key_from_a_file_or_the_environment() {
    let emu = Emu::start(&[]);
    let user = emu.user("linked@example.com").clone();
    let key = user["totpKey"].as_str().expect("key");
    let dir = std::env::temp_dir().join(format!("docspace-tfa-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("totp.key");
    std::fs::write(&file, format!("{key}\n")).expect("key file");
    let base = |cmd: &mut Command| {
        cmd.env("DOCSPACE_URL", emu.url())
            .env("DOCSPACE_PASSWORD", "linked-Pa55")
            .args(["login", "--user", "linked@example.com", "--json"]);
    };
    let mut by_file = command();
    base(&mut by_file);
    let out = by_file
        .arg("--totp-key-file")
        .arg(&file)
        .output()
        .expect("login");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "authenticated", "{v}");
    let mut by_env = command();
    base(&mut by_env);
    let out = by_env
        .env("DOCSPACE_TOTP_KEY", key)
        .output()
        .expect("login");
    let v: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["status"], "authenticated", "{v}");
    // Without a key: the challenge, as before.
    let mut plain = command();
    base(&mut plain);
    let v: Value = serde_json::from_slice(&plain.output().expect("login").stdout).expect("json");
    assert_eq!(v["status"], "tfa_code_required");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn faults_from_the_command_line() {
    let emu = Emu::start(&[
        "--fault",
        "503x1@POST settings/tfaapp/validate",
        "--fault",
        "404@settings/tfaapp/confirm",
        "--lenient-bearer",
    ]);
    // No tfaapp/confirm here: the bearer token goes to setup (the documentation's server).
    let (exit, setup) = emu.cli(Some("user@example.com"), &["setup"], "");
    assert_eq!(exit, 0, "{setup}");
    // The first validate meets the 503 (never retried: it is not idempotent).
    let (exit, err) = emu.cli(Some("user@example.com"), &["validate", "123456"], "");
    assert_eq!(
        (exit, &err["error"]["status"]),
        (1, &Value::from(503)),
        "{err}"
    );
    let (exit, err) = emu.cli(Some("user@example.com"), &["validate", "123456"], "");
    assert_eq!(
        (exit, &err["error"]["kind"]),
        (3, &Value::from("invalid_code")),
        "{err}"
    );
}

#[test]
fn stdin_eof_stops_the_emulator() {
    let mut emu = Emu::start(&[]);
    let url = emu.url().to_owned();
    assert!(serving(&url));
    drop(emu.stdin.take());
    assert!(stops_serving(&url));
    let status = emu.child.wait().expect("exit");
    assert!(status.success(), "{status:?}");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_the_emulator() {
    let mut emu = Emu::start(&[]);
    let url = emu.url().to_owned();
    let kill = Command::new("kill")
        .args(["-TERM", &emu.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
    assert!(stops_serving(&url));
    assert!(!emu.child.wait().expect("exit").success());
}

/// The parent of the next test: spawns the emulator with a pipe on its stdin, prints the
/// emulator's JSON line and waits to be killed. Runs only when that test starts it.
#[test]
fn parent_helper() {
    if std::env::var_os("DOCSPACE_TFA_TEST_PARENT").is_none() {
        return;
    }
    let mut child = Command::new(BIN)
        .arg("emulator")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn the emulator");
    let line = first_line(&mut child);
    println!("EMULATOR {line}");
    std::thread::sleep(Duration::from_secs(120));
    drop(child);
}

#[test]
fn a_killed_parent_leaves_no_emulator_behind() {
    let me = std::env::current_exe().expect("test binary");
    let mut parent = Command::new(me)
        .args([
            "--exact",
            "parent_helper",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DOCSPACE_TFA_TEST_PARENT", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn the parent");
    let mut url = None;
    let mut lines = BufReader::new(parent.stdout.take().expect("stdout")).lines();
    for line in lines.by_ref() {
        let line = line.expect("line");
        // libtest may put `test parent_helper ... ` in front of it.
        if let Some((_, json)) = line.split_once("EMULATOR ") {
            let v: Value = serde_json::from_str(json).expect("json");
            url = v["url"].as_str().map(str::to_owned);
            break;
        }
    }
    let url = url.expect("the parent reported the emulator");
    assert!(serving(&url));
    parent.kill().expect("SIGKILL the parent"); // no cleanup code of the parent runs
    parent.wait().expect("reaped");
    assert!(stops_serving(&url), "the emulator outlived its parent");
}

#[test]
fn help_puts_each_commands_own_options_first() {
    let out = Command::new(BIN)
        .args(["setup", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    let own = help.find("--qr-png").expect("own option");
    let heading = help.find("Global options:").expect("heading");
    let url = help.find("--url").expect("global option");
    assert!(own < heading && heading < url, "{help}");
    let out = Command::new(BIN)
        .args(["code", "--help"])
        .output()
        .expect("help");
    let help = String::from_utf8_lossy(&out.stdout);
    for network in [
        "--url",
        "--token-file",
        "--timeout",
        "--allow-insecure-http",
    ] {
        assert!(!help.contains(network), "{network} in code --help: {help}");
    }
    assert!(help.contains("--json"));
    // Hidden from help, still accepted (a script may pass its usual options).
    let out = Command::new(BIN)
        .args([
            "code",
            "--key",
            "JBSWY3DPEHPK3PXP",
            "--at",
            "0",
            "--url",
            "https://x.example",
        ])
        .output()
        .expect("code");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "282760");
}
