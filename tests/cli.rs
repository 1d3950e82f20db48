//! The `docspace-tfa` binary against the emulator and mock servers: every command in text and
//! JSON mode, every exit code, the error JSON, the secret rule, and "bad input sends nothing".
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;

use std::io::Write;
use std::process::Stdio;

use cli_support::{command, run, Portal, Run, EMAIL, PASSWORD};
use docspace_tfa::emulator::{Emulator, NewUser, TicketType};
use docspace_tfa::totp::{decode_png_data_url, Totp, TotpKey, PNG_SIGNATURE};
use docspace_tfa::{TfaPolicy, TfaType};
use serde_json::json;

#[test]
fn help_and_version_for_every_command() {
    let top = run(&["--help"], &[], None);
    assert_eq!(top.code, 0);
    for cmd in [
        "setup", "validate", "code", "login", "confirm", "settings", "codes", "unlink", "link",
    ] {
        assert!(top.stdout.contains(cmd), "{cmd} in --help");
        let r = run(&[cmd, "--help"], &[], None);
        assert_eq!(r.code, 0, "{cmd} --help: {}", r.stderr);
        assert!(r.stdout.contains("Usage: docspace-tfa"), "{}", r.stdout);
    }
    let r = run(&["settings", "set", "--help"], &[], None);
    assert!(r.stdout.contains("--mandatory-group"), "{}", r.stdout);
    let r = run(&["--version"], &[], None);
    assert_eq!(r.code, 0);
    assert_eq!(
        r.stdout.trim(),
        format!("docspace-tfa {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn code_is_offline_totp() {
    // RFC 6238's SHA-1 secret, 6 digits: T = 59 → 287082 (the 8-digit vector ends in it).
    let key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    let r = run(&["code", "--key", key, "--at", "59"], &[], None);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "287082\n");

    let r = run(
        &[
            "code",
            "--key",
            "gezd gnbv-gy3t qojq gezd gnbv gy3t qojq",
            "--at",
            "59",
            "--json",
        ],
        &[],
        None,
    );
    assert_eq!(r.json(), json!({"code": "287082", "validForSeconds": 1}));

    let r = run(
        &["--json", "code", "--at", "1111111109"],
        &[("DOCSPACE_TOTP_KEY", key)],
        None,
    );
    assert_eq!(r.json(), json!({"code": "081804", "validForSeconds": 1}));

    // Now: the code the library computes for the same second (or the next, at a step edge).
    let r = run(&["code", "--key", "JBSWY3DPEHPK3PXP", "--json"], &[], None);
    let v = r.json();
    let k = TotpKey::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let now = docspace_tfa::totp::unix_now();
    let code = v["code"].as_str().unwrap();
    assert!(Totp::docspace().verify(&k, code, now, 1), "{v}");
    let left = v["validForSeconds"].as_u64().unwrap();
    assert!((1..=30).contains(&left), "{v}");

    let r = run(&["code", "--key", "not base32!", "--json"], &[], None);
    let e = r.error(2, "invalid_input", None);
    assert!(
        !e["message"].as_str().unwrap().contains("not base32!"),
        "{e}"
    );
}

#[test]
fn setup_and_validate_with_a_confirm_ticket() {
    let p = Portal::new();
    let ticket = p.emu.ticket(&p.id, TicketType::TfaActivation).unwrap();
    let url = ticket.url().unwrap().to_owned();
    let key = ticket.key().expose().to_owned();
    let dir = tempdir();
    let png = dir.join("qr.png");
    let png_arg = png.to_str().unwrap();

    let r = p.run(&[
        "setup",
        "--confirm",
        &url,
        "--confirm-key",
        &key,
        "--qr-png",
        png_arg,
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["account"], EMAIL);
    let manual = v["manualEntryKey"].as_str().unwrap().to_owned();
    assert_eq!(manual.len(), 16);
    // The QR image's own URI: its issuer is the tenant's domain, not the URL's host.
    let host = p.emu.tenant_domain();
    assert_ne!(host, "127.0.0.1");
    assert_eq!(
        v["otpauthUri"],
        format!("otpauth://totp/{host}:bot%40example.com?secret={manual}&issuer={host}")
    );
    // The PNG on disk is the decoded data URL.
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(&PNG_SIGNATURE));
    assert_eq!(
        bytes,
        decode_png_data_url(v["qrCodeSetupImageUrl"].as_str().unwrap()).unwrap()
    );
    // Sent with the ticket and without the token.
    let log = p.emu.requests();
    let setup = log
        .iter()
        .find(|r| r.is("GET", "settings/tfaapp/setup"))
        .unwrap();
    assert!(!setup.has_authorization(), "{setup:?}");
    assert_eq!(
        setup.confirm().map(|c| c.uid().to_owned()),
        Some(p.id.clone())
    );

    // Text mode names the file and the key; with the env var for the key.
    let r = run(
        &["setup", "--confirm", &url, "--qr-png", png_arg],
        &[&p.env()[..], &[("DOCSPACE_CONFIRM_KEY", key.as_str())]].concat(),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(&format!("account: {EMAIL}")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&manual), "{}", r.stdout);
    assert!(r.stdout.contains(png_arg), "{}", r.stdout);

    // A wrong code: exit 3.
    let r = p.run(&[
        "validate",
        "000000",
        "--confirm",
        &url,
        "--confirm-key",
        &key,
        "--json",
    ]);
    r.error(3, "invalid_code", Some(400));
    r.assert_absent(&[&key, &p.token]);

    // The right code, "123 456"-style: first activation.
    let code = p.code();
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let r = p.run(&[
        "validate",
        &spaced,
        "--confirm",
        &url,
        "--confirm-key",
        &key,
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json(), json!({"valid": true, "firstActivation": true}));
    assert!(p.emu.user_state(&p.id).unwrap().linked);

    // Again with a TfaAuth ticket: already linked, in text mode.
    let auth = p.emu.ticket(&p.id, TicketType::TfaAuth).unwrap();
    let r = run(
        &[
            "validate",
            &p.code(),
            "--confirm",
            auth.url().unwrap(),
            "--confirm-key",
            auth.key().expose(),
        ],
        &[("DOCSPACE_URL", p.emu.base_url())],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("already linked"), "{}", r.stdout);

    // Setup once linked: the app is already linked → exit 5.
    let r = p.run(&["setup", "--confirm", &url, "--confirm-key", &key, "--json"]);
    r.error(5, "not_available", Some(403));
}

#[test]
fn impossible_codes_send_nothing() {
    let p = Portal::new();
    for bad in ["", "   ", "12 34\t56", "12345'", "١٢٣٤٥٦", &"1".repeat(65)] {
        let r = p.run(&["validate", bad, "--json"]);
        r.error(2, "invalid_input", None);
        let r = p.run(&["login", "--user", EMAIL, "--code", bad, "--json"]);
        r.error(2, "invalid_input", None);
        let r = p.run(&["link", "--code", bad, "--json"]);
        r.error(2, "invalid_input", None);
    }
    // The prompt too.
    let r = run(&["link", "--json"], &p.env(), Some("12-34 ?\n"));
    r.error(2, "invalid_input", None);
    assert!(p
        .emu
        .requests()
        .iter()
        .all(|r| !r.path().contains("validate") && !r.path().contains("authentication")));
    // Missing token, missing URL, plain http to a remote host: exit 2, nothing sent.
    let before = p.emu.requests().len();
    let r = run(
        &["codes", "--json"],
        &[("DOCSPACE_URL", p.emu.base_url())],
        None,
    );
    let e = r.error(2, "usage", None);
    assert!(
        e["message"].as_str().unwrap().contains("DOCSPACE_TOKEN"),
        "{e}"
    );
    run(&["codes", "--json"], &[("DOCSPACE_TOKEN", &p.token)], None).error(2, "usage", None);
    let r = run(
        &["codes", "--json", "--url", "http://portal.example.com"],
        &[("DOCSPACE_TOKEN", &p.token)],
        None,
    );
    r.error(2, "usage", None);
    r.assert_absent(&[&p.token]);
    run(
        &["setup", "--qr-png", "/nonexistent-dir/qr.png", "--json"],
        &p.env(),
        None,
    )
    .error(2, "usage", None);
    run(
        &[
            "setup",
            "--confirm",
            "https://p/confirm/TfaAuth",
            "--confirm-key",
            "k",
            "--json",
        ],
        &p.env(),
        None,
    )
    .error(2, "invalid_input", None);
    assert_eq!(p.emu.requests().len(), before, "no request for bad input");
    // Usage errors from the parser are JSON too.
    run(&["frobnicate", "--json"], &[], None).error(2, "usage", None);
    run(&["settings", "set", "--type", "fido", "--json"], &[], None).error(2, "usage", None);
}

#[test]
fn login_outcomes_and_secrets() {
    let p = Portal::new();
    let env = |pw: &str| {
        let mut e = vec![("DOCSPACE_URL", p.emu.base_url())];
        e.push(("DOCSPACE_PASSWORD", pw));
        e.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect::<Vec<_>>()
    };
    let as_refs = |e: &Vec<(String, String)>| -> Vec<(String, String)> { e.clone() };
    let call = |args: &[&str], pw: &str| {
        let e = as_refs(&env(pw));
        let refs: Vec<(&str, &str)> = e.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        run(args, &refs, None)
    };

    // Wrong password: exit 4, the password nowhere.
    let r = call(&["login", "--user", EMAIL, "--json"], "wrong-password-xyz");
    r.error(4, "unauthorized", Some(401));
    r.assert_absent(&["wrong-password-xyz"]);
    assert!(!r.stdout.contains("wrong-password-xyz"));

    // Not linked yet: activation required, with a usable ticket and the manual key.
    let r = call(&["login", "--user", EMAIL, "--json"], PASSWORD);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["status"], "tfa_activation_required", "{v}");
    assert!(v["confirmUrl"]
        .as_str()
        .unwrap()
        .contains("type=TfaActivation"));
    let manual = p.emu.user_state(&p.id).unwrap().manual_entry_key.unwrap();
    assert_eq!(v["tfaKey"], manual.expose());
    let confirm_key = v["confirmKey"].as_str().unwrap().to_owned();
    r.assert_absent(&[PASSWORD, &confirm_key]);

    // The ticket from the login works for setup.
    let r = call(
        &[
            "setup",
            "--confirm",
            v["confirmUrl"].as_str().unwrap(),
            "--confirm-key",
            &confirm_key,
            "--json",
        ],
        PASSWORD,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["manualEntryKey"], manual.expose());

    // Finish with a code (password from stdin this time).
    let r = run(
        &[
            "login",
            "--user",
            EMAIL,
            "--code",
            &p.code(),
            "--password-stdin",
            "--json",
        ],
        &[("DOCSPACE_URL", p.emu.base_url())],
        Some(&format!("{PASSWORD}\n")),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["status"], "authenticated");
    let token = v["token"].as_str().unwrap().to_owned();
    assert!(!token.is_empty());
    assert!(v["expires"].is_string());
    r.assert_absent(&[PASSWORD, &token]);

    // Linked now: code required (text mode).
    let r = call(&["login", "--user", EMAIL], PASSWORD);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("status: tfa_code_required"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("type=TfaAuth"), "{}", r.stdout);

    // A wrong code in a login is a 401 (the server wraps every failure).
    let r = call(
        &["login", "--user", EMAIL, "--code", "000000", "--json"],
        PASSWORD,
    );
    r.error(4, "unauthorized", Some(401));
    r.assert_absent(&[PASSWORD]);

    // No TFA for this user: authenticated at once.
    p.emu.set_policy(&TfaPolicy::new(TfaType::None));
    let r = call(&["login", "--user", EMAIL, "--json"], PASSWORD);
    assert_eq!(r.json()["status"], "authenticated");

    // SMS.
    p.emu.set_policy(&TfaPolicy::new(TfaType::Sms));
    let r = call(&["login", "--user", EMAIL, "--json"], PASSWORD);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["status"], "sms_phone_required", "{v}");
    assert!(
        v["confirmUrl"]
            .as_str()
            .unwrap()
            .contains("confirm/PhoneActivation"),
        "{v}"
    );
    assert!(
        v["confirmKey"].as_str().is_some_and(|k| !k.is_empty()),
        "{v}"
    );

    // No password at all: exit 2, nothing sent.
    let before = p.emu.request_count("POST", "authentication");
    let r = run(
        &["login", "--user", EMAIL, "--json"],
        &[("DOCSPACE_URL", p.emu.base_url())],
        None,
    );
    r.error(2, "usage", None);
    assert_eq!(p.emu.request_count("POST", "authentication"), before);
}

#[test]
fn brute_force_lock_is_exit_6() {
    let p = Portal::new();
    let ticket = p.emu.ticket(&p.id, TicketType::TfaActivation).unwrap();
    let (url, key) = (
        ticket.url().unwrap().to_owned(),
        ticket.key().expose().to_owned(),
    );
    assert_eq!(
        p.run(&["setup", "--confirm", &url, "--confirm-key", &key])
            .code,
        0
    );
    for _ in 0..5 {
        p.run(&[
            "validate",
            "000000",
            "--confirm",
            &url,
            "--confirm-key",
            &key,
            "--json",
        ])
        .error(3, "invalid_code", Some(400));
    }
    let r = p.run(&[
        "validate",
        &p.code(),
        "--confirm",
        &url,
        "--confirm-key",
        &key,
        "--json",
    ]);
    r.error(6, "rate_limited", Some(403));
    assert_eq!(p.emu.request_count("POST", "settings/tfaapp/validate"), 6);
}

#[test]
fn confirm_settings_codes_and_unlink() {
    let p = Portal::new();

    // confirm: the caller's ticket data; the key is the cookie value.
    let r = p.run(&["confirm", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["cookieName"], "asc_confirm_key_TfaActivation");
    assert!(v["url"].as_str().unwrap().contains(&p.id));
    assert!(v["cookieValue"].as_str().is_some_and(|k| !k.is_empty()));

    // settings: the list as the server sends it.
    let r = p.run(&["settings", "--json"]);
    let list = r.json();
    let app = list
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "app")
        .unwrap()
        .clone();
    assert_eq!(app["enabled"], true);
    assert!(
        app.get("trustedIps").is_some() && app.get("mandatoryGroups").is_some(),
        "{app}"
    );
    let r = p.run(&["settings"]);
    assert!(
        r.stdout.contains("app") && r.stdout.contains("enabled=true"),
        "{}",
        r.stdout
    );

    // settings set: with a trusted IP and a group; then with a link.
    let group = "c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e";
    let r = p.run(&[
        "settings",
        "set",
        "--type",
        "app",
        "--trusted-ip",
        "10.1.0.0/16",
        "--mandatory-group",
        group,
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json(), json!({"enabled": true}));
    let policy = p.emu.policy();
    assert_eq!(policy.trusted_ips, vec!["10.1.0.0/16"]);
    assert_eq!(policy.mandatory_groups, vec![group]);
    // Switching a method on signed every session out; the API key still works.
    let r = p.run(&["settings", "set", "--type", "app", "--with-link", "--json"]);
    let url = r.json()["url"].clone();
    assert!(
        url.as_str().is_some_and(|u| u.contains("TfaActivation")),
        "{url}"
    );
    let r = p.run(&["settings", "set", "--type", "none", "--json"]);
    assert_eq!(r.json(), json!({"enabled": false}));
    let r = p.run(&["settings", "set", "--type", "none", "--with-link", "--json"]);
    assert_eq!(
        r.json(),
        json!({"url": ""}),
        "the server's \"\" as it sent it"
    );
    p.emu.set_policy(&TfaPolicy::new(TfaType::App));

    // A member who is not an admin: 403 → exit 4.
    let member = p
        .emu
        .add_user(NewUser::new("member@example.com", "m-pass-123"))
        .unwrap();
    let member_token = p.emu.issue_api_key(&member).unwrap();
    let r = run(
        &["settings", "set", "--type", "app", "--json"],
        &[
            ("DOCSPACE_URL", p.emu.base_url()),
            ("DOCSPACE_TOKEN", member_token.expose()),
        ],
        None,
    );
    r.error(4, "forbidden", Some(403));
    r.assert_absent(&[member_token.expose()]);

    // codes before linking: 403 "not available" → exit 5.
    p.run(&["codes", "--json"])
        .error(5, "not_available", Some(403));
    p.link();
    let r = p.run(&["codes", "--json"]);
    let codes = r.json();
    assert_eq!(codes.as_array().unwrap().len(), 5);
    assert_eq!(codes[0]["isUsed"], false);
    let old: Vec<String> = codes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect();
    let r = p.run(&["codes"]);
    assert_eq!(r.stdout.lines().count(), 5, "{}", r.stdout);

    // --regenerate: one PUT, a new set.
    let r = p.run(&["codes", "--regenerate", "--json"]);
    let new: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(new.len(), 5);
    assert!(new.iter().all(|c| !old.contains(c)));
    assert_eq!(p.emu.request_count("PUT", "settings/tfaappnewcodes"), 1);

    // unlink another member: owner only; a member is refused.
    let other = p
        .emu
        .add_user(NewUser::new("other@example.com", "o-pass-123").linked())
        .unwrap();
    let r = run(
        &["unlink", "--user", &p.id, "--json"],
        &[
            ("DOCSPACE_URL", p.emu.base_url()),
            ("DOCSPACE_TOKEN", member_token.expose()),
        ],
        None,
    );
    r.error(4, "forbidden", Some(403));
    let r = p.run(&["unlink", "--user", &other, "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json(), json!({"url": ""}));
    assert!(!p.emu.user_state(&other).unwrap().linked);

    // unlink self: by the own id from people/@self; answers the activation URL.
    let r = p.run(&["unlink", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.json()["url"].as_str().unwrap().contains("TfaActivation"));
    assert!(!p.emu.user_state(&p.id).unwrap().linked);
    assert_eq!(p.emu.request_count("GET", "people/@self"), 1);
    // Nothing to unlink now: 403 "not available" → exit 5.
    p.run(&["unlink", "--json"])
        .error(5, "not_available", Some(403));
}

#[test]
fn refusals_exit_4_and_not_available_exit_5_in_any_culture() {
    for (culture, legacy, not_available_status) in
        [("de", false, 403), ("ja-JP", false, 403), ("fr", true, 500)]
    {
        let p = Portal::with(Emulator::builder().culture(culture).legacy_errors(legacy));
        // "Not available": no app linked.
        let e = p
            .run(&["codes", "--json"])
            .error(5, "not_available", Some(not_available_status));
        assert!(
            !e["message"]
                .as_str()
                .unwrap()
                .contains("TFA application settings"),
            "{e}"
        );
        // A refusal with the same status and type: an admin who is not the owner unlinking
        // another member.
        let admin = p
            .emu
            .add_user(NewUser::new("admin@example.com", PASSWORD).admin())
            .unwrap();
        let admin_token = p.emu.issue_api_key(&admin).unwrap();
        let env = [
            ("DOCSPACE_URL", p.emu.base_url()),
            ("DOCSPACE_TOKEN", admin_token.expose()),
        ];
        run(&["unlink", "--user", &p.id, "--json"], &env, None).error(
            4,
            "forbidden",
            Some(not_available_status),
        );
    }
}

#[test]
fn with_link_on_a_trusted_ip_prints_an_empty_url_and_succeeds() {
    let p = Portal::new();
    // The caller's address is trusted, so TFA does not apply to them: the server saves the
    // policy and then fails with a 500; the CLI reads the policy back.
    let r = p.run(&[
        "settings",
        "set",
        "--type",
        "app",
        "--trusted-ip",
        "127.0.0.0/8",
        "--with-link",
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json(), serde_json::json!({"url": ""}));
    assert_eq!(p.emu.policy().trusted_ips, vec!["127.0.0.0/8"]);
    assert_eq!(p.emu.request_count("GET", "settings/tfaapp"), 1);
}

#[test]
fn link_with_token_auto() {
    let p = Portal::new();
    let dir = tempdir();
    let png = dir.join("link.png");
    let r = p.run(&[
        "link",
        "--auto",
        "--qr-png",
        png.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    assert_eq!(v["account"], EMAIL);
    let state = p.emu.user_state(&p.id).unwrap();
    assert!(state.linked);
    assert_eq!(
        v["manualEntryKey"],
        state.manual_entry_key.unwrap().expose()
    );
    let codes: Vec<&str> = state.backup_codes.iter().map(|c| c.code.expose()).collect();
    assert_eq!(v["backupCodes"], json!(codes));
    assert!(v.get("token").is_none(), "{v}");
    assert!(std::fs::read(&png).unwrap().starts_with(&PNG_SIGNATURE));
    // confirm → setup → validate (with the ticket) → codes, each once.
    for (m, path) in [
        ("GET", "settings/tfaapp/confirm"),
        ("GET", "settings/tfaapp/setup"),
        ("POST", "settings/tfaapp/validate"),
        ("GET", "settings/tfaappcodes"),
    ] {
        assert_eq!(p.emu.request_count(m, path), 1, "{m} {path}");
    }
    r.assert_absent(&[&p.token]);

    // Again: the confirm data is a TfaAuth ticket now → already linked, exit 5, no setup.
    let e = p
        .run(&["link", "--auto", "--json"])
        .error(5, "not_available", None);
    assert!(
        e["message"].as_str().unwrap().contains("already linked"),
        "{e}"
    );
    assert_eq!(p.emu.request_count("GET", "settings/tfaapp/setup"), 1);
}

#[test]
fn link_with_user_auto_and_prompt() {
    let p = Portal::new();
    let r = run(
        &["link", "--user", EMAIL, "--auto", "--json"],
        &[
            ("DOCSPACE_URL", p.emu.base_url()),
            ("DOCSPACE_PASSWORD", PASSWORD),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = r.json();
    let token = v["token"].as_str().unwrap().to_owned();
    assert_eq!(v["backupCodes"].as_array().unwrap().len(), 5);
    assert!(p.emu.user_state(&p.id).unwrap().linked);
    assert_eq!(p.emu.request_count("POST", "authentication/{code}"), 1);
    r.assert_absent(&[PASSWORD, &token]);
    // The token works.
    let r = run(
        &["codes", "--json"],
        &[
            ("DOCSPACE_URL", p.emu.base_url()),
            ("DOCSPACE_TOKEN", &token),
        ],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);

    // A second member, code from the prompt (password from stdin first, then the code).
    let id = p
        .emu
        .add_user(NewUser::new("second@example.com", "s3cond-pass"))
        .unwrap();
    let emu = &p.emu;
    // The member's secret exists once the login challenged them; compute the code then.
    let login = run(
        &["login", "--user", "second@example.com", "--json"],
        &[
            ("DOCSPACE_URL", emu.base_url()),
            ("DOCSPACE_PASSWORD", "s3cond-pass"),
        ],
        None,
    );
    assert_eq!(login.json()["status"], "tfa_activation_required");
    let code = emu.current_code(&id).unwrap();
    let r = run(
        &["link", "--user", "second@example.com", "--password-stdin"],
        &[("DOCSPACE_URL", emu.base_url())],
        Some(&format!("s3cond-pass\n{}\n", code.expose())),
    );
    assert_eq!(r.code, 0, "stdout {}\nstderr {}", r.stdout, r.stderr);
    assert!(r.stdout.contains("linked"), "{}", r.stdout);
    assert!(r.stdout.contains("backup codes:"), "{}", r.stdout);
    assert!(emu.user_state(&id).unwrap().linked);
    r.assert_absent(&["s3cond-pass"]);
}

#[test]
fn server_failures_map_to_exit_1() {
    let mut server = mockito::Server::new();
    let m = server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_status(502)
        .with_header("content-type", "text/html")
        .with_body("<html><body><h1>502 Bad Gateway</h1></body></html>")
        .expect_at_least(1)
        .create();
    let url = server.url();
    let r = run(
        &["settings", "--json"],
        &[
            ("DOCSPACE_URL", &url),
            ("DOCSPACE_TOKEN", "sk-secret-token-1"),
        ],
        None,
    );
    let e = r.error(1, "server", Some(502));
    assert!(
        e["message"].as_str().unwrap().contains("Bad Gateway"),
        "{e}"
    );
    r.assert_absent(&["sk-secret-token-1"]);
    m.assert();

    // A body that is not JSON on 200: decode.
    let _m = server
        .mock("GET", "/api/2.0/settings/tfaappcodes")
        .with_header("content-type", "application/json")
        .with_body(r#"{"response": [{"isUsed": false, "code": "#)
        .create();
    let r = run(
        &["codes", "--json"],
        &[
            ("DOCSPACE_URL", &url),
            ("DOCSPACE_TOKEN", "sk-secret-token-1"),
        ],
        None,
    );
    r.error(1, "decode", None);

    // Empty-body 401 (text mode: one line on stderr, exit 4).
    let _m = server
        .mock("GET", "/api/2.0/settings/tfaapp/confirm")
        .with_status(401)
        .create();
    let r = run(
        &["confirm"],
        &[
            ("DOCSPACE_URL", &url),
            ("DOCSPACE_TOKEN", "sk-secret-token-1"),
        ],
        None,
    );
    assert_eq!(r.code, 4);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    assert!(r.stdout.is_empty());
    r.assert_absent(&["sk-secret-token-1"]);

    // Connection refused: network.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let r = run(
        &[
            "settings",
            "--json",
            "--url",
            &format!("http://127.0.0.1:{port}"),
        ],
        &[("DOCSPACE_TOKEN", "sk-secret-token-1")],
        None,
    );
    r.error(1, "network", None);

    // 429: rate limited.
    let _m = server
        .mock("GET", "/api/2.0/people/@self")
        .with_status(429)
        .with_header("retry-after", "3600")
        .create();
    let r = run(
        &["unlink", "--json"],
        &[
            ("DOCSPACE_URL", &url),
            ("DOCSPACE_TOKEN", "sk-secret-token-1"),
        ],
        None,
    );
    r.error(6, "rate_limited", Some(429));
}

#[test]
fn token_file_and_stdin() {
    let p = Portal::new();
    let dir = tempdir();
    let file = dir.join("token");
    std::fs::write(&file, format!("{}\n", p.token)).unwrap();
    let r = run(
        &["confirm", "--json", "--token-file", file.to_str().unwrap()],
        &[("DOCSPACE_URL", p.emu.base_url())],
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        &["--token-file", "-", "settings", "--json"],
        &[("DOCSPACE_URL", p.emu.base_url())],
        Some(&p.token),
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = run(
        &["settings", "--json", "--token-file", "/nonexistent/token"],
        &[("DOCSPACE_URL", p.emu.base_url())],
        None,
    );
    r.error(2, "usage", None);
    // A wrong token: 401 → exit 4, the token nowhere.
    let r = run(
        &["settings", "--json"],
        &[
            ("DOCSPACE_URL", p.emu.base_url()),
            ("DOCSPACE_TOKEN", "sk-not-a-real-key"),
        ],
        None,
    );
    r.error(4, "unauthorized", Some(401));
    r.assert_absent(&["sk-not-a-real-key"]);
    assert!(!r.stdout.contains("sk-not-a-real-key"));
}

/// A fresh folder under the target directory.
fn tempdir() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "docspace-tfa-cli-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn command_line_mistakes_never_echo_values() {
    let key = "JBSWY3DPEHPK3PXP";
    // A stray positional: it may be a key, a code or a password typed in the wrong place.
    for args in [
        &["code", key][..],
        &["validate", "123456", "654321"],
        &["login", "--user", "a@example.com", "hunter2pass"],
        &[key],
        &["settings", "--password=hunter2pass"],
        &["validate", "-1hunter2pass"],
    ] {
        let r = run(args, &[], None);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
        assert!(r.stderr.starts_with("error: "), "{args:?}: {}", r.stderr);
        assert!(
            r.stderr.contains("For more information, try '--help'."),
            "{}",
            r.stderr
        );
        for secret in [key, "654321", "hunter2pass", "-1h"] {
            assert!(!r.stderr.contains(secret), "{args:?}: {}", r.stderr);
        }
        let r = run(&[args, &["--json"]].concat(), &[], None);
        let e = r.error(2, "usage", None);
        for secret in [key, "654321", "hunter2pass", "-1h"] {
            assert!(!e["message"].as_str().unwrap().contains(secret), "{e}");
        }
        assert!(r.stderr.is_empty(), "{}", r.stderr);
    }
    // The stray value of `validate`: neither code is shown.
    let r = run(&["validate", "123456", "654321"], &[], None);
    assert!(!r.stderr.contains("123456"), "{}", r.stderr);

    // What is safe to repeat still helps: a flag's name, a word-like subcommand, the argument
    // and the possible values of a bad value (but not the value), missing arguments.
    let message = |args: &[&str]| -> String {
        let r = run(&[args, &["--json"]].concat(), &[], None);
        r.error(2, "usage", None)["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let m = message(&["settings", "--frobnicate"]);
    assert!(m.contains("'--frobnicate'"), "{m}");
    let m = message(&["settings", "--password=hunter2pass"]);
    assert!(m.contains("'--password'"), "{m}");
    // A lower-case word may be a password typed in the wrong place: never echoed.
    let m = message(&["frobnicate"]);
    assert!(
        !m.contains("frobnicate") && m.contains("setup, validate"),
        "{m}"
    );
    let m = message(&["settings", "set", "--type", "s3cr3t-value"]);
    assert!(m.contains("--type") && m.contains("none, app, sms"), "{m}");
    assert!(!m.contains("s3cr3t-value"), "{m}");
    let m = message(&["settings", "--timeout", "s3cr3t-value"]);
    assert!(m.contains("--timeout"), "{m}");
    assert!(!m.contains("s3cr3t-value"), "{m}");
    let m = message(&["code"]);
    assert_eq!(
        m,
        "the following required arguments were not provided: --key <KEY>"
    );
    let m = message(&["link", "--code", "123456", "--auto"]);
    assert!(m.contains("--auto") && !m.contains("123456"), "{m}");
}

#[test]
fn timeout_is_bounded() {
    let p = Portal::new();
    // Each would overflow the deadline arithmetic or make no sense; none reaches the network.
    for t in ["18446744073709551615", "86401", "0"] {
        let r = p.run(&["settings", "--timeout", t, "--json"]);
        let e = r.error(2, "usage", None);
        assert!(e["message"].as_str().unwrap().contains("--timeout"), "{e}");
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        let r = p.run(&["settings", "--timeout", t]);
        assert_eq!(r.code, 2, "{}", r.stderr);
    }
    assert!(p.emu.requests().is_empty(), "no request for bad input");
    let r = p.run(&["settings", "--timeout", "86400", "--json"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn confirm_key_without_confirm() {
    let p = Portal::with(Emulator::builder().lenient_bearer(true));
    let key = "1700000000.0123456789abcdef";
    // On the command line it is a mistake: usage, nothing sent, the key nowhere.
    for cmd in [&["validate", "123456"][..], &["setup"]] {
        let r = p.run(&[cmd, &["--confirm-key", key, "--json"]].concat());
        let e = r.error(2, "usage", None);
        assert!(e["message"].as_str().unwrap().contains("--confirm"), "{e}");
        assert!(!r.stdout.contains(key) && !r.stderr.contains(key));
    }
    assert!(p.emu.requests().is_empty(), "no request for bad input");
    // From the environment it is not (a shell may export it for several calls): unused.
    let r = run(
        &["setup", "--json"],
        &[&p.env()[..], &[("DOCSPACE_CONFIRM_KEY", key)]].concat(),
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.json()["account"], EMAIL);
}

#[test]
fn server_data_that_does_not_decode_is_exit_1() {
    let mut server = mockito::Server::new();
    let url = server.url();
    let uid = "9a2b3c4d-0000-4000-8000-000000000001";
    let setup_body = json!({
        "response": {
            "account": EMAIL,
            "manualEntryKey": "not base32 at all!",
            "qrCodeSetupImageUrl": "data:image/png;base64,bm90IGEgUE5H",
        },
        "count": 1,
        "status": 0,
        "statusCode": 200,
    });
    let bad_key = server
        .mock("GET", "/api/2.0/settings/tfaapp/setup")
        .with_header("content-type", "application/json")
        .with_body(setup_body.to_string())
        .create();
    let _confirm = server
        .mock("GET", "/api/2.0/settings/tfaapp/confirm")
        .with_header("content-type", "application/json")
        .with_body(
            json!({
                "response": {
                    "url": format!("{url}/confirm/TfaActivation?type=TfaActivation&uid={uid}"),
                    "cookieName": "asc_confirm_key_TfaActivation",
                    "cookieValue": "1700000000.0123456789abcdef",
                },
                "count": 1,
                "status": 0,
                "statusCode": 200,
            })
            .to_string(),
        )
        .create();
    let validate = server
        .mock("POST", "/api/2.0/settings/tfaapp/validate")
        .expect(0)
        .create();
    let env = [
        ("DOCSPACE_URL", url.as_str()),
        ("DOCSPACE_TOKEN", "sk-secret-token-1"),
    ];
    // The manual key (otpauth URI), in both modes.
    let r = run(&["setup", "--json"], &env, None);
    r.error(1, "decode", None);
    let r = run(&["setup"], &env, None);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
    // `link --auto` computing the code from a key that is not base32: nothing validated.
    let r = run(&["link", "--auto", "--json"], &env, None);
    r.error(1, "decode", None);
    r.assert_absent(&["sk-secret-token-1", "1700000000.0123456789abcdef"]);
    validate.assert();

    // The QR image, for the user's (fine) path: still the server's fault.
    bad_key.remove();
    let _bad_qr = server
        .mock("GET", "/api/2.0/settings/tfaapp/setup")
        .with_header("content-type", "application/json")
        .with_body({
            let mut b = setup_body.clone();
            b["response"]["manualEntryKey"] = json!("JBSWY3DPEHPK3PXP");
            b.to_string()
        })
        .create();
    let dir = tempdir();
    let png = dir.join("qr.png");
    let r = run(
        &["setup", "--qr-png", png.to_str().unwrap(), "--json"],
        &env,
        None,
    );
    r.error(1, "decode", None);
    assert!(!png.exists());
}

/// Starts `link --json` with the code from the prompt and returns the child once the setup
/// was served, so that a test can change the portal between setup and validate.
fn link_paused_at_the_prompt(p: &Portal) -> std::process::Child {
    let child = command()
        .args(["link", "--json"])
        .envs(p.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn docspace-tfa");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while p.emu.request_count("GET", "settings/tfaapp/setup") == 0 {
        assert!(std::time::Instant::now() < deadline, "no setup request");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child
}

fn finish(mut child: std::process::Child, code: &str) -> Run {
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{code}").unwrap();
    drop(stdin);
    Run::from(child.wait_with_output().unwrap())
}

#[test]
fn link_with_token_that_links_nothing_is_not_available() {
    // Linked by another call between the setup and the code: the code is accepted, but it
    // activated nothing (validate answers false).
    let p = Portal::new();
    let child = link_paused_at_the_prompt(&p);
    let manual = p.emu.user_state(&p.id).unwrap().manual_entry_key.unwrap();
    p.link();
    let r = finish(child, &p.code());
    let e = r.error(5, "not_available", None);
    assert!(
        e["message"].as_str().unwrap().contains("linked nothing"),
        "{e}"
    );
    assert_eq!(p.emu.request_count("POST", "settings/tfaapp/validate"), 2);
    assert_eq!(p.emu.request_count("GET", "settings/tfaappcodes"), 0);
    // stderr is a pipe (a CI log), not a person: the manual key is not printed there.
    assert!(!r.stderr.contains(manual.expose()), "{}", r.stderr);
    r.assert_absent(&[&p.token]);

    // The app method switched off meanwhile: the server answers false without a check.
    let p = Portal::new();
    let child = link_paused_at_the_prompt(&p);
    p.emu.set_policy(&TfaPolicy::new(TfaType::None));
    let r = finish(child, "000000");
    r.error(5, "not_available", None);
    assert_eq!(p.emu.request_count("GET", "settings/tfaappcodes"), 0);
    assert!(!p.emu.user_state(&p.id).unwrap().linked);

    // Text mode says nothing about "linked" either.
    let p = Portal::new();
    let mut cmd = command();
    let child = cmd
        .args(["link"])
        .envs(p.env())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while p.emu.request_count("GET", "settings/tfaapp/setup") == 0 {
        assert!(std::time::Instant::now() < deadline, "no setup request");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    p.link();
    let r = finish(child, &p.code());
    assert_eq!(r.code, 5, "{}", r.stderr);
    assert!(!r.stdout.contains("linked:"), "{}", r.stdout);
    assert!(r.stderr.contains("linked nothing"), "{}", r.stderr);
}
