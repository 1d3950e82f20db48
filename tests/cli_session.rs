//! `status`, `logout` and `check-link` against the embedded emulator: their JSON, exit codes
//! (0 yes, 4 no), that `--json` prints exactly one document, and that no token or key reaches
//! stdout or stderr (`docs/cli.md`).
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;

use cli_support::{run, Portal};
use docspace_tfa::emulator::TicketType;
use serde_json::json;

#[test]
fn status_is_exit_0_when_signed_in_and_4_when_not() {
    let portal = Portal::new();
    let session = portal.emu.open_session(&portal.id).expect("session");
    let url = portal.emu.base_url();
    for (what, token, authenticated, exit) in [
        ("an API key", Some(portal.token.as_str()), true, 0),
        ("a session", Some(session.expose()), true, 0),
        ("no token", None, false, 4),
        ("an unknown token", Some("not-a-token"), false, 4),
    ] {
        let mut env = vec![("DOCSPACE_URL", url)];
        if let Some(t) = token {
            env.push(("DOCSPACE_TOKEN", t));
        }
        let r = run(&["status", "--json"], &env, None);
        assert_eq!(r.code, exit, "{what}: {}{}", r.stdout, r.stderr);
        assert_eq!(
            r.json(),
            json!({ "authenticated": authenticated }),
            "{what}"
        );
        assert!(r.stderr.is_empty(), "{what}: {}", r.stderr);
        let text = run(&["status"], &env, None);
        assert_eq!(text.code, exit, "{what}");
        let expected = if authenticated {
            "signed in\n"
        } else {
            "not signed in\n"
        };
        assert_eq!(text.stdout, expected, "{what}");
    }
}

#[test]
fn logout_ends_the_session_and_refuses_an_api_key() {
    let portal = Portal::new();
    let session = portal.emu.open_session(&portal.id).expect("session");
    let env = [
        ("DOCSPACE_URL", portal.emu.base_url()),
        ("DOCSPACE_TOKEN", session.expose()),
    ];
    let r = run(&["logout", "--json"], &env, None);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json(), json!({ "loggedOut": true }));
    r.assert_absent(&[session.expose()]);
    assert!(!r.stdout.contains(session.expose()));
    let after = run(&["status", "--json"], &env, None);
    assert_eq!(
        (after.code, after.json()),
        (4, json!({"authenticated": false}))
    );

    // An API key: a usage-class refusal, nothing sent.
    let before = portal.emu.request_count("POST", "authentication/logout");
    let key = portal.run(&["logout", "--json"]);
    let error = key.error(2, "invalid_input", None);
    assert!(
        error["message"].as_str().unwrap().contains("API key"),
        "{error}"
    );
    assert!(!key.stdout.contains(&portal.token));
    assert_eq!(
        portal.emu.request_count("POST", "authentication/logout"),
        before
    );
    // No token at all: the tool's own usage error.
    let none = run(
        &["logout", "--json"],
        &[("DOCSPACE_URL", portal.emu.base_url())],
        None,
    );
    none.error(2, "usage", None);
}

#[test]
fn check_link_is_exit_0_for_ok_and_4_for_anything_else() {
    let portal = Portal::new();
    let ticket = portal
        .emu
        .ticket(&portal.id, TicketType::TfaActivation)
        .expect("ticket");
    let url = ticket.url().expect("url").to_owned();
    let key = ticket.key().expose().to_owned();
    let base = [("DOCSPACE_URL", portal.emu.base_url())];
    let with_env_key = [
        ("DOCSPACE_URL", portal.emu.base_url()),
        ("DOCSPACE_CONFIRM_KEY", key.as_str()),
    ];
    for (what, args, env, result, exit) in [
        (
            "the right key",
            vec!["check-link", url.as_str(), "--confirm-key", key.as_str()],
            &base[..],
            "ok",
            0,
        ),
        (
            "the key from the environment",
            vec!["check-link", url.as_str()],
            &with_env_key[..],
            "ok",
            0,
        ),
        (
            "a wrong key",
            vec![
                "check-link",
                url.as_str(),
                "--confirm-key",
                "1700000000.ABC",
            ],
            &base[..],
            "invalid",
            4,
        ),
    ] {
        let args: Vec<&str> = args.into_iter().chain(["--json"]).collect();
        let r = run(&args, env, None);
        assert_eq!(r.code, exit, "{what}: {}{}", r.stdout, r.stderr);
        assert_eq!(r.json(), json!({ "result": result }), "{what}");
        r.assert_absent(&[key.as_str()]);
        assert!(!r.stdout.contains(&key), "{what}");
    }
    // Expired after the key lifetime (1 hour).
    portal.emu.advance(std::time::Duration::from_secs(3601));
    let r = run(
        &["check-link", &url, "--confirm-key", &key, "--json"],
        &base,
        None,
    );
    assert_eq!((r.code, r.json()), (4, json!({"result": "expired"})));
    // No key anywhere: refused before sending (exit 2).
    let r = run(&["check-link", &url, "--json"], &base, None);
    r.error(2, "invalid_input", None);
}

#[test]
fn an_exported_key_does_not_override_the_key_of_a_phone_link() {
    let portal = Portal::new();
    let ticket = portal
        .emu
        .ticket(&portal.id, TicketType::PhoneActivation)
        .expect("phone ticket");
    let url = ticket.url().expect("url").to_owned();
    let stale = [
        ("DOCSPACE_URL", portal.emu.base_url()),
        ("DOCSPACE_CONFIRM_KEY", "1700000000.STALE"),
    ];
    // The link's own key wins over DOCSPACE_CONFIRM_KEY (exported for another ticket) …
    let r = run(&["check-link", &url, "--json"], &stale, None);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json()["result"], "ok");
    // … while a typed --confirm-key is what the user asked for.
    let r = run(
        &[
            "check-link",
            &url,
            "--confirm-key",
            "1700000000.TYPED",
            "--json",
        ],
        &stale,
        None,
    );
    assert_eq!((r.code, r.json()["result"].clone()), (4, json!("invalid")));
}
