//! The `docspace-tfa` binary at the edges a review found: a hostile QR image, a link whose last
//! step fails after the activation, the owner's own mandatory policy, `unlink --json` into
//! `setup --confirm-json -`, and `null` confirm data. Against the emulator (with its faults)
//! and a hostile server on loopback.
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;

use std::time::{Duration, Instant};

use base64::Engine;
use cli_support::{run, spawn_emulator, Portal, Run, EMAIL, PASSWORD};
use docspace_tfa::emulator::{Emulator, Fault, NewUser};
use serde_json::{json, Value};

/// A greyscale PNG of `side`×`side` pixels tiled with QR finder patterns, 1 pixel per module:
/// about a kilobyte that kept the QR reader busy for minutes before it was bounded.
fn finder_pattern_png(side: u32) -> Vec<u8> {
    let pixels: Vec<u8> = (0..side * side)
        .map(|i| {
            let (x, y) = ((i % side) % 8, (i / side) % 8);
            let ring = x < 7 && y < 7 && (x == 0 || x == 6 || y == 0 || y == 6);
            let stone = (2..=4).contains(&x) && (2..=4).contains(&y);
            if ring || stone {
                0
            } else {
                255
            }
        })
        .collect();
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().expect("PNG header");
    writer.write_image_data(&pixels).expect("PNG data");
    writer.finish().expect("PNG end");
    out
}

/// A DocSpace answer envelope around `response`.
fn envelope(response: Value) -> String {
    json!({"response": response, "count": 1, "status": 0, "statusCode": 200}).to_string()
}

#[test]
fn a_hostile_qr_image_does_not_hang_setup() {
    let mut server = mockito::Server::new();
    let url = server.url();
    let uid = "9a2b3c4d-0000-4000-8000-000000000001";
    for side in [512, 4096] {
        let png = finder_pattern_png(side);
        assert!(png.len() < 64 * 1024, "{} bytes", png.len());
        let image = format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&png)
        );
        let _setup = server
            .mock("GET", "/api/2.0/settings/tfaapp/setup")
            .with_header("content-type", "application/json")
            .with_body(envelope(json!({
                "account": EMAIL,
                "manualEntryKey": "JBSWY3DPEHPK3PXP",
                "qrCodeSetupImageUrl": image,
            })))
            .create();
        let _confirm = server
            .mock("GET", "/api/2.0/settings/tfaapp/confirm")
            .with_header("content-type", "application/json")
            .with_body(envelope(json!({
                "url": format!("{url}/confirm/TfaActivation?type=TfaActivation&uid={uid}"),
                "cookieName": "asc_confirm_key_TfaActivation",
                "cookieValue": "1700000000.0123456789abcdef",
            })))
            .create();
        let env = [
            ("DOCSPACE_URL", url.as_str()),
            ("DOCSPACE_TOKEN", "sk-secret-token-1"),
        ];
        for json_mode in [true, false] {
            let mut args = vec!["setup", "--timeout", "5"];
            if json_mode {
                args.push("--json");
            }
            let started = Instant::now();
            let r = run(&args, &env, None);
            let took = started.elapsed();
            // Minutes (and gigabytes) before; now refused at once and the URI is built. The
            // bound has 10× headroom over a debug CLI on a busy machine (docs/reliability.md).
            assert!(took < Duration::from_secs(20), "{side} px took {took:?}");
            assert_eq!(r.code, 0, "{}", r.stderr);
            let built = "otpauth://totp/127.0.0.1:bot%40example.com\
                         ?secret=JBSWY3DPEHPK3PXP&issuer=127.0.0.1";
            if json_mode {
                assert_eq!(r.json()["otpauthUri"], built);
            } else {
                assert!(r.stdout.contains(built), "{}", r.stdout);
            }
        }
    }
}

/// An emulator with its owner (app not linked yet) and the owner's API key.
/// Checks a `link` whose backup codes could not be listed after the app was linked: exit 0,
/// the key (and token) printed, `backupCodes: null`, and a secret-free warning.
fn assert_linked_without_codes(p: &Portal, r: &Run, with_token: bool) {
    assert_eq!(r.code, 0, "stdout {}\nstderr {}", r.stdout, r.stderr);
    assert!(p.emu.user_state(&p.id).expect("owner").linked);
    let v = r.json();
    let key = p.manual_key();
    assert_eq!(v["manualEntryKey"], key.as_str(), "{v}");
    assert_eq!(v["backupCodes"], Value::Null, "{v}");
    let warning = v["warning"].as_str().expect("a warning");
    assert!(
        warning.contains("backup codes could not be listed"),
        "{warning}"
    );
    assert!(warning.contains("settings/tfaappcodes"), "{warning}");
    assert!(!warning.contains(&key), "{warning}");
    assert_eq!(v["token"].is_string(), with_token, "{v}");
}

#[test]
fn link_keeps_the_key_when_the_backup_codes_fail_after_activation() {
    // `docspace-tfa emulator --fault "500@GET settings/tfaappcodes"`, then `link --auto`.
    let p = Portal::new();
    p.emu
        .add_fault(Fault::status(500).on("GET", "settings/tfaappcodes"));
    let r = p.run(&["link", "--auto", "--json"]);
    assert_linked_without_codes(&p, &r, false);

    // Text mode: the key as on success, the warning on stderr, exit 0.
    let q = Portal::new();
    q.emu
        .add_fault(Fault::status(500).on("GET", "settings/tfaappcodes"));
    let r = q.run(&["link", "--auto"]);
    assert_eq!(r.code, 0, "stdout {}\nstderr {}", r.stdout, r.stderr);
    assert!(r.stdout.contains(&q.manual_key()), "{}", r.stdout);
    assert!(r.stdout.contains("linked:"), "{}", r.stdout);
    assert!(
        r.stderr.starts_with("warning: the app is linked"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(&q.manual_key()), "{}", r.stderr);
}

#[test]
fn link_with_a_user_keeps_the_key_and_token_when_the_backup_codes_fail() {
    // The login path: the TFA login links the app and opens a session; the codes then fail.
    let p = Portal::new();
    p.emu
        .add_fault(Fault::status(500).on("GET", "settings/tfaappcodes"));
    let env = [
        ("DOCSPACE_URL", p.emu.base_url()),
        ("DOCSPACE_PASSWORD", PASSWORD),
    ];
    let r = run(&["link", "--user", EMAIL, "--auto", "--json"], &env, None);
    assert_linked_without_codes(&p, &r, true);
    // The session works: the codes can be listed once the portal recovers.
    p.emu.clear_faults();
    let token = r.json()["token"].as_str().expect("token").to_owned();
    let codes = run(
        &["codes", "--json"],
        &[
            ("DOCSPACE_URL", p.emu.base_url()),
            ("DOCSPACE_TOKEN", &token),
        ],
        None,
    );
    assert_eq!(codes.code, 0, "{}", codes.stderr);
}

#[test]
fn the_owner_can_make_tfa_mandatory_for_themselves() {
    let p = Portal::new();
    let r = p.run(&[
        "settings",
        "set",
        "--type",
        "app",
        "--mandatory-user",
        &p.id,
        "--json",
    ]);
    // Was 403 "No permissions": the policy named the owner without the caller's id.
    assert_eq!(r.code, 0, "stdout {}\nstderr {}", r.stdout, r.stderr);
    assert_eq!(r.json(), json!({"enabled": true}));
    assert_eq!(p.emu.policy().mandatory_users, vec![p.id.clone()]);
    assert_eq!(p.emu.request_count("GET", "people/@self"), 1);
    let put = p
        .emu
        .requests()
        .into_iter()
        .find(|r| r.method() == "PUT")
        .expect("the PUT");
    let body = put.body().expect("a JSON body");
    assert_eq!(body["id"], p.id.as_str(), "{body}");

    // Without --mandatory-user: no extra request, and no id sent. (Switching a method on
    // signs every session out; the API key stays valid.)
    p.emu.clear_requests();
    let r = p.run(&["settings", "set", "--type", "app", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(p.emu.request_count("GET", "people/@self"), 0);
    let put = p.emu.requests().into_iter().find(|r| r.method() == "PUT");
    let put = put.expect("the PUT");
    let body = put.body().expect("a JSON body");
    assert_eq!(body.get("id"), None, "{body}");
}

#[test]
fn top_level_help_lists_every_exit_code_of_the_documentation() {
    let r = run(&["--help"], &[], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let help = r
        .stdout
        .split("Exit codes:")
        .nth(1)
        .expect("an exit-code list");
    let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
    // The rows `| N | … |` of docs/cli.md's exit-code table.
    let doc = include_str!("../docs/cli.md");
    let codes: Vec<u8> = doc
        .lines()
        .filter_map(|l| l.strip_prefix("| ")?.split(" |").next()?.parse().ok())
        .collect();
    // 8 and 130: `provision`'s (docs/provisioning.md).
    let want: Vec<u8> = (0..=8).chain([130]).collect();
    assert_eq!(codes, want);
    for code in codes {
        let sep = if code == 0 { "" } else { ", " };
        assert!(help.contains(&format!("{sep}{code} ")), "{code} in: {help}");
    }
    assert!(help.contains("7 TFA does not apply"), "{help}");
}

#[test]
fn unlink_json_feeds_setup_confirm_json() {
    let p = Portal::new();
    let r = p.run(&["link", "--auto", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let old_key = r.json()["manualEntryKey"].as_str().expect("key").to_owned();

    let r = p.run(&["unlink", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let url = v["confirmUrl"].as_str().expect("confirmUrl");
    assert!(url.contains("type=TfaActivation"), "{v}");
    assert_eq!(v["url"], url, "the old name stays: {v}");
    assert!(
        v["confirmKey"].as_str().is_some_and(|k| !k.is_empty()),
        "{v}"
    );
    assert!(!r.stderr.contains(v["confirmKey"].as_str().unwrap_or("-")));

    // `unlink --json | setup --confirm-json -`: the new secret, with the unlink's ticket only.
    p.emu.clear_requests();
    let env = [("DOCSPACE_URL", p.emu.base_url())];
    let r = run(
        &["setup", "--confirm-json", "-", "--json"],
        &env,
        Some(&r.stdout),
    );
    assert_eq!(r.code, 0, "stdout {}\nstderr {}", r.stdout, r.stderr);
    let setup = r.json();
    assert_eq!(setup["account"], EMAIL);
    assert_ne!(setup["manualEntryKey"], old_key.as_str(), "a new secret");
    let sent = p.emu.requests();
    assert_eq!(sent.len(), 1, "only setup");
    assert_eq!(
        sent[0].confirm().map(|c| c.confirm_type()),
        Some("TfaActivation")
    );

    // Text mode shows the same ticket under the same names.
    let r = p.run(&["link", "--auto", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = p.run(&["unlink"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("confirmUrl: "), "{}", r.stdout);
    assert!(r.stdout.contains("confirmKey: "), "{}", r.stdout);
}

#[test]
fn confirm_json_null_is_exit_7() {
    // `confirm --json` prints `null` when TFA does not apply; piped on, that is exit 7.
    let p = Portal::new();
    for args in [
        &["setup", "--confirm-json", "-", "--json"][..],
        &["validate", "123456", "--confirm-json", "-", "--json"][..],
        &["link", "--auto", "--confirm-json", "-", "--json"][..],
    ] {
        let r = p.run_stdin(args, "null\n");
        assert_eq!(r.code, 7, "{args:?}: {}\n{}", r.stdout, r.stderr);
        let v = r.json();
        assert_eq!(v["error"]["kind"], "tfa_not_applicable", "{v}");
        assert_eq!(v["error"]["status"], Value::Null, "{v}");
    }
    assert!(p.emu.requests().is_empty(), "nothing sent");
    let r = p.run_stdin(&["setup", "--confirm-json", "-"], "null");
    assert_eq!(r.code, 7, "{}", r.stderr);
    assert!(r.stderr.contains("does not apply"), "{}", r.stderr);
}

#[test]
fn messages_say_what_happened() {
    // An unknown culture: the cultures there are, not the port.
    let r = run(&["emulator", "--culture", "BAD"], &[], None);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("emulator culture"), "{}", r.stderr);
    assert!(r.stderr.contains("en, "), "{}", r.stderr);
    assert!(r.stderr.contains("pt-BR"), "{}", r.stderr);
    assert!(!r.stderr.contains("127.0.0.1"), "{}", r.stderr);

    // A server that accepts and never answers: which timeout ran out, in words.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop = std::sync::Arc::clone(&done);
    let hold = std::thread::spawn(move || {
        // Hold the connections open (unanswered) until the CLI gives up.
        let mut held = Vec::new();
        listener.set_nonblocking(true).expect("nonblocking");
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until && !stop.load(std::sync::atomic::Ordering::SeqCst) {
            match listener.accept() {
                Ok((stream, _)) => held.push(stream),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    let env = [("DOCSPACE_URL", url.as_str()), ("DOCSPACE_TOKEN", "sk-t")];
    let r = run(&["settings", "--timeout", "1", "--json"], &env, None);
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let e = &r.json()["error"];
    assert_eq!(e["kind"], "timeout", "{e}");
    let message = e["message"].as_str().expect("message");
    assert!(
        message.contains("timed out: no complete answer within the request timeout"),
        "{message}"
    );
    assert!(!message.contains("global"), "{message}");
    hold.join().expect("the silent server");

    // A redirect is kind `redirect`, not `network`.
    let mut server = mockito::Server::new();
    let _moved = server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_status(302)
        .with_header("location", "https://elsewhere.example.com/login")
        .create();
    let url = server.url();
    let env = [("DOCSPACE_URL", url.as_str()), ("DOCSPACE_TOKEN", "sk-t")];
    let r = run(&["settings", "--json"], &env, None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let e = &r.json()["error"];
    assert_eq!(
        (&e["kind"], &e["status"]),
        (&json!("redirect"), &json!(302)),
        "{e}"
    );

    // A setup code the tool cannot use names the call that sent it.
    let _setup = server
        .mock("GET", "/api/2.0/settings/tfaapp/setup")
        .with_header("content-type", "application/json")
        .with_body(envelope(json!({
            "account": EMAIL,
            "manualEntryKey": "not base32!",
            "qrCodeSetupImageUrl": "",
        })))
        .create();
    let _no_confirm = server
        .mock("GET", "/api/2.0/settings/tfaapp/confirm")
        .with_status(404)
        .create();
    let r = run(&["setup", "--json"], &env, None);
    let e = &r.json()["error"];
    assert_eq!((r.code, &e["kind"]), (1, &json!("decode")), "{e}");
    let message = e["message"].as_str().expect("message");
    assert!(
        message.starts_with("GET settings/tfaapp/setup answered a setup code"),
        "{message}"
    );
    assert!(message.contains("manual entry key"), "{message}");
}

/// The `available` flag of the SMS entry in `settings --json` against `url` with `token`.
fn sms_available(url: &str, token: &str) -> Value {
    let r = run(
        &["settings", "--json"],
        &[("DOCSPACE_URL", url), ("DOCSPACE_TOKEN", token)],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let sms = v
        .as_array()
        .and_then(|m| m.iter().find(|m| m["id"] == "sms"))
        .cloned()
        .unwrap_or_else(|| panic!("an SMS entry: {v}"));
    sms["available"].clone()
}

#[test]
fn sms_is_not_available_by_default_as_on_a_portal_without_a_provider() {
    // The library's emulator: off by default, a switch, and an SMS policy implies a provider.
    let p = Portal::new();
    assert_eq!(sms_available(p.emu.base_url(), &p.token), json!(false));
    let r = p.run(&["settings", "set", "--type", "sms", "--json"]);
    assert_eq!(r.json()["error"]["kind"], "not_available", "{}", r.stdout);
    p.emu
        .set_policy(&docspace_tfa::TfaPolicy::new(docspace_tfa::TfaType::Sms));
    assert_eq!(sms_available(p.emu.base_url(), &p.token), json!(true));
    let emu = Emulator::builder()
        .sms_available(true)
        .start()
        .expect("emulator");
    let id = emu
        .add_user(NewUser::new(EMAIL, PASSWORD).owner())
        .expect("owner");
    let token = emu.issue_api_key(&id).expect("key");
    assert_eq!(sms_available(emu.base_url(), token.expose()), json!(true));

    // The CLI's emulator: the same default, `--sms-available` and `--policy sms` turn it on.
    for (args, expected) in [
        (&[][..], false),
        (&["--sms-available"][..], true),
        (&["--policy", "sms"][..], true),
    ] {
        let (mut child, info) = spawn_emulator(args);
        let admin = info["users"]
            .as_array()
            .and_then(|u| {
                u.iter()
                    .find(|u| u["role"] == "owner" || u["role"] == "admin")
            })
            .expect("an admin");
        let url = info["url"].as_str().expect("url");
        let key = admin["apiKey"].as_str().expect("key");
        assert_eq!(sms_available(url, key), json!(expected), "{args:?}");
        drop(child.stdin.take()); // stops the emulator
        assert!(child.wait().expect("the emulator stops").success());
    }
}
