//! The CLI's errors say what to do next, in its own words (its options and variables), in text
//! on stderr and in `--json`'s `advice`; and the small frictions of issue 21: "did you mean",
//! a code split in two, the emulator stopping on stdin's end, `[env: …=]` in the help.
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;

use cli_support::{run, Portal, Run};
use docspace_tfa::emulator::{Emulator, Fault};
use serde_json::Value;

/// Runs `args` in JSON mode and in text mode; returns the JSON error and the text's stderr.
fn both(
    args: &[&str],
    env: &[(&str, &str)],
    exit: i32,
    kind: &str,
    status: Option<u16>,
) -> (Value, String) {
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let json = run(&json_args, env, None).error(exit, kind, status);
    let text: Run = run(args, env, None);
    assert_eq!(text.code, exit, "{}", text.stderr);
    assert!(
        text.stdout.is_empty(),
        "machine output only on success: {}",
        text.stdout
    );
    (json, text.stderr)
}

/// What was wrong, the arguments, the environment, the exit code, the JSON kind and status,
/// and the advice the message ends with.
type Case<'a> = (
    &'a str,
    Vec<&'a str>,
    Vec<(&'a str, &'a str)>,
    i32,
    &'a str,
    Option<u16>,
    &'a str,
);

#[test]
fn each_error_with_advice_names_what_to_check_in_text_and_json() {
    let portal = Portal::new();
    let wrong_path = format!("{}/docspace", portal.emu.base_url());
    let faulty = Portal::with(Emulator::builder().fault(Fault::parse("503x6").unwrap()));
    // (what, args, env, exit, kind, status, advice the message ends with)
    let cases: [Case<'_>; 4] = [
        (
            "a refused token",
            vec!["settings"],
            vec![
                ("DOCSPACE_URL", portal.emu.base_url()),
                ("DOCSPACE_TOKEN", "sk-not-a-key-of-this-portal"),
            ],
            4,
            "unauthorized",
            Some(401),
            "HTTP 401 (empty body); the portal refused the bearer token: check DOCSPACE_TOKEN, \
             or the file given to --token-file (wrong, revoked, expired, or of another portal?)",
        ),
        (
            "a base URL with a path",
            vec!["settings"],
            vec![
                ("DOCSPACE_URL", wrong_path.as_str()),
                ("DOCSPACE_TOKEN", portal.token.as_str()),
            ],
            1,
            "not_found",
            Some(404),
            "HTTP 404 (empty body); no DocSpace API at this URL: check --url or DOCSPACE_URL, \
             which should be the portal's root (such as https://portal.example.com, with no path)",
        ),
        (
            "a host name that does not resolve",
            vec!["settings", "--retries", "0"],
            vec![
                ("DOCSPACE_URL", "https://portal.example.invalid"),
                ("DOCSPACE_TOKEN", "sk-x"),
            ],
            1,
            "network",
            None,
            "; the host name portal.example.invalid does not resolve: check the host in --url or \
             DOCSPACE_URL (and the network's DNS)",
        ),
        (
            "a 503 through the retries",
            vec!["settings", "--retries", "2"],
            faulty.env(),
            1,
            "server",
            Some(503),
            "; the portal (or the proxy in front of it) cannot answer now; try again later",
        ),
    ];
    for (what, args, env, exit, kind, status, advice) in cases {
        // The fault portal answers 503 six times: three attempts in each mode.
        let (json, stderr) = both(&args, &env, exit, kind, status);
        let message = json["message"].as_str().unwrap();
        assert!(message.ends_with(advice), "{what}: {message}");
        // `advice` is the end of the message, after "; ", and all of it that advises.
        let json_advice = json["advice"].as_str().unwrap_or_default();
        assert!(json_advice.len() > 40, "{what}: {json}");
        assert!(
            message.ends_with(&format!("; {json_advice}")),
            "{what}: {json}"
        );
        assert!(advice.ends_with(json_advice), "{what}: {json}");
        assert!(stderr.trim_end().ends_with(advice), "{what}: {stderr}");
        if what.starts_with("a 503") {
            assert!(message.contains("; 3 attempts over "), "{what}: {message}");
        }
    }
}

#[test]
fn the_attempt_lock_keeps_the_servers_text_and_says_what_it_means() {
    let portal = Portal::new();
    assert_eq!(portal.run(&["setup"]).code, 0);
    let right = portal.code();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for _ in 0..5 {
        assert_eq!(portal.run(&["validate", wrong, "--json"]).code, 3);
    }
    let r = portal.run(&["validate", &right, "--json"]);
    let e = r.error(6, "rate_limited", Some(403));
    let message = e["message"].as_str().unwrap();
    assert!(
        message.contains("You have sent too many text messages"),
        "{message}"
    );
    assert!(
        message.contains("the portal's attempt lock, whatever its text says"),
        "{message}"
    );
    assert!(
        e["advice"].as_str().unwrap().contains("a correct one too"),
        "{e}"
    );
    let r = portal.run(&["validate", &right]);
    assert_eq!(r.code, 6);
    assert!(
        r.stderr.contains("wait a minute, then enter a fresh code"),
        "{}",
        r.stderr
    );
}

#[test]
fn an_error_without_advice_has_a_null_advice() {
    let portal = Portal::new();
    let r = portal.run(&[
        "unlink",
        "--user",
        "00000000-0000-0000-0000-000000000000",
        "--json",
    ]);
    let v = r.json();
    assert!(v["error"].get("advice").is_some_and(Value::is_null), "{v}");
}

#[test]
fn mistyped_commands_and_options_get_a_suggestion_from_our_own_names() {
    // (args, what the message says) — never the typed word itself.
    let cases = [
        (vec!["stup"], "did you mean 'setup'?"),
        (vec!["valdiate", "123456"], "did you mean 'validate'?"),
        // A mistyped subcommand of `sms` gets the names of `sms`, not the tool's.
        (
            vec!["sms", "phnoe", "--phone", "1"],
            "commands: phone, send; did you mean 'phone'?",
        ),
        (
            vec!["settings", "--tokn-file", "x"],
            "unexpected argument '--tokn-file'; did you mean '--token-file'?",
        ),
        (
            vec!["validate", "12", "345"],
            "a code with a space must be one argument: quote it (\"123 456\")",
        ),
    ];
    for (args, says) in cases {
        let mut json_args = args.clone();
        json_args.push("--json");
        let e = run(&json_args, &[], None).error(2, "usage", None);
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(says), "{args:?}: {message}");
        assert!(
            !message.contains("stup")
                && !message.contains("valdiate")
                && !message.contains("345")
                && !message.contains("phnoe"),
            "{message}"
        );
        let text = run(&args, &[], None);
        assert_eq!(text.code, 2);
        assert!(text.stderr.contains(says), "{args:?}: {}", text.stderr);
    }
}

#[test]
fn the_emulator_says_why_it_stopped_when_stdin_is_at_its_end() {
    // `run` gives the child a pipe and closes it at once: stdin at end-of-file.
    let r = run(&["emulator"], &[], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line: Value = serde_json::from_str(r.stdout.trim()).expect("the one JSON line");
    assert!(line["url"].is_string(), "{line}");
    assert!(
        r.stderr.contains("stopped because stdin closed"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("--ignore-stdin"), "{}", r.stderr);
}

#[test]
fn the_emulator_stops_quietly_when_its_parent_is_done_with_it() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let mut child = Command::new(cli_support::BIN)
        .arg("emulator")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the emulator");
    let info = cli_support::first_line(&mut child);
    let url = info["url"].as_str().unwrap();
    let token = info["users"][0]["apiKey"].as_str().unwrap();
    let r = run(
        &["settings", "--json"],
        &[("DOCSPACE_URL", url), ("DOCSPACE_TOKEN", token)],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    drop(child.stdin.take()); // the parent is done: the usual end
    let status = child.wait().expect("the emulator ends");
    assert!(status.success());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(stderr, "", "nothing to explain after requests were served");
}

#[test]
fn help_shows_no_empty_or_set_environment_values() {
    let hidden = "/etc/ssl/internal-ca.pem";
    for env in [vec![], vec![("DOCSPACE_CA_CERT", hidden)]] {
        let r = run(&["setup", "--help"], &env, None);
        assert_eq!(r.code, 0);
        assert!(r.stdout.contains("[env: DOCSPACE_CA_CERT]"), "{}", r.stdout);
        assert!(!r.stdout.contains("DOCSPACE_CA_CERT="), "{}", r.stdout);
        assert!(!r.stdout.contains(hidden), "{}", r.stdout);
    }
}

#[test]
fn a_refused_login_with_a_code_says_why_it_cannot_say_more() {
    let portal = Portal::new();
    portal.link();
    let right = portal.code();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    let env = [
        ("DOCSPACE_URL", portal.emu.base_url()),
        ("DOCSPACE_PASSWORD", cli_support::PASSWORD),
    ];
    let args = ["login", "--user", cli_support::EMAIL, "--code", wrong];
    let (json, stderr) = both(&args, &env, 4, "unauthorized", Some(401));
    let advice = json["advice"].as_str().unwrap();
    assert!(
        advice.starts_with("the portal does not say why a login with a code fails"),
        "{json}"
    );
    assert!(advice.contains("a correct code fails too"), "{json}");
    assert!(stderr.contains(advice), "{stderr}");
    assert!(
        !stderr.contains(wrong) && !stderr.contains(cli_support::PASSWORD),
        "{stderr}"
    );
}
