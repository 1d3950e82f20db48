//! `docspace-tfa doctor` and the `settings set` guard: the findings as text and as a JSON
//! list, the exit codes (0 healthy, 1 an error or a warning), and trusted IPs or ids refused
//! with exit 2 naming the option, before any request.
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;

use cli_support::{run, Run};
use docspace_tfa::emulator::{Emulator, NewUser};
use docspace_tfa::{TfaPolicy, TfaType};

/// A portal whose owner has an app linked, and the owner's API key.
fn portal() -> (Emulator, String) {
    let emu = Emulator::start().expect("emulator");
    let id = emu
        .add_user(NewUser::new("owner@example.com", "pw").owner().linked())
        .expect("owner");
    let token = emu.issue_api_key(&id).expect("key").expose().to_owned();
    (emu, token)
}

fn doctor(emu: &Emulator, token: &str, json: bool) -> Run {
    let mut args = vec!["doctor"];
    if json {
        args.push("--json");
    }
    run(
        &args,
        &[("DOCSPACE_URL", emu.base_url()), ("DOCSPACE_TOKEN", token)],
        None,
    )
}

#[test]
fn a_healthy_portal_exits_0() {
    let (emu, token) = portal();
    emu.set_policy(&TfaPolicy::new(TfaType::App).trusted_ip("10.0.0.0/8"));
    let r = doctor(&emu, &token, true);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(r.json(), serde_json::json!([]));
    let r = doctor(&emu, &token, false);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .starts_with("0 errors, 0 warnings, 0 notes (server 3.7.2)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("nothing to fix"));
    assert!(r.stderr.is_empty(), "{}", r.stderr);
}

#[test]
fn findings_exit_1_worst_first() {
    let (emu, token) = portal();
    emu.set_policy(
        &TfaPolicy::new(TfaType::App)
            .trusted_ip("0.0.0.0/0")
            .trusted_ip("not-an-ip")
            .mandatory_user("66faa6e4-f133-11ea-b126-00ffeec8b4ef"),
    );
    let r = doctor(&emu, &token, true);
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let list = r.json();
    let codes: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| f["code"].as_str().expect("code"))
        .collect();
    assert_eq!(
        codes,
        [
            "trusted_ip_breaks_logins",
            "trusted_ip_misleading",
            "mandatory_user_missing"
        ]
    );
    let first = &list[0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["subject"], "not-an-ip");
    assert!(first["message"]
        .as_str()
        .is_some_and(|m| m.contains("FormatException")));
    assert!(first["advice"].as_str().is_some_and(|a| !a.is_empty()));
    // Text: grouped, the worst first; stdout only.
    let r = doctor(&emu, &token, false);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.starts_with("1 error, 2 warnings, 0 notes"),
        "{}",
        r.stdout
    );
    let error_at = r.stdout.find("error: trusted_ip_breaks_logins [not-an-ip]");
    let warning_at = r.stdout.find("warning: trusted_ip_misleading [0.0.0.0/0]");
    assert!(
        error_at.is_some() && warning_at.is_some() && error_at < warning_at,
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("what to do: "));
    // It only read.
    assert!(emu.requests().iter().all(|q| q.method() == "GET"));
}

#[test]
fn notes_alone_exit_0() {
    let (emu, token) = portal();
    emu.set_policy(&TfaPolicy::new(TfaType::None));
    let r = doctor(&emu, &token, true);
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert_eq!(r.json()[0]["code"], "tfa_off");
    assert_eq!(r.json()[0]["severity"], "info");
}

#[test]
fn settings_set_refuses_what_the_portal_would_choke_on() {
    let (emu, token) = portal();
    let env = [
        ("DOCSPACE_URL", emu.base_url()),
        ("DOCSPACE_TOKEN", token.as_str()),
    ];
    let table: &[(&[&str], &str)] = &[
        (&["--trusted-ip", "not-an-ip"], "--trusted-ip \"not-an-ip\""),
        (
            &["--trusted-ip", "10.0.0.0/8", "--trusted-ip", "10.0.0.0/40"],
            "--trusted-ip \"10.0.0.0/40\"",
        ),
        (&["--trusted-ip", "300.1.1.1"], "never matches"),
        (&["--trusted-ip", "0.0.0.0/0"], "only 0.0.0.0"),
        (&["--mandatory-user", "not-a-guid"], "--mandatory-user"),
        (&["--mandatory-group", "x"], "--mandatory-group"),
    ];
    for (extra, named) in table {
        let mut args = vec!["--json", "settings", "set", "--type", "app"];
        args.extend_from_slice(extra);
        let r = run(&args, &env, None);
        let e = r.error(2, "usage", None);
        assert!(
            e["message"].as_str().is_some_and(|m| m.contains(named)),
            "{e}"
        );
    }
    assert!(emu.requests().is_empty(), "nothing was sent");
    // Ids with spaces around them are fine.
    let r = run(
        &[
            "settings",
            "set",
            "--type",
            "app",
            "--trusted-ip",
            "192.168.1.10-192.168.1.20",
            "--mandatory-group",
            " c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e ",
        ],
        &env,
        None,
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        emu.policy().mandatory_groups,
        ["c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e"]
    );
}

/// `docspace-tfa emulator` started in a state `doctor` reports; `doctor --json`'s codes.
fn doctor_codes_on_emulator(args: &[&str]) -> (i32, Vec<String>) {
    let (mut child, info) = cli_support::spawn_emulator(args);
    let url = info["url"].as_str().expect("url").to_owned();
    let owner = info["users"]
        .as_array()
        .and_then(|u| u.iter().find(|u| u["role"] == "owner"))
        .expect("an owner");
    let token = owner["apiKey"].as_str().expect("apiKey").to_owned();
    let r = run(
        &["doctor", "--json"],
        &[
            ("DOCSPACE_URL", url.as_str()),
            ("DOCSPACE_TOKEN", token.as_str()),
        ],
        None,
    );
    let _ = child.kill();
    let _ = child.wait();
    let codes = r
        .json()
        .as_array()
        .expect("a list")
        .iter()
        .map(|f| f["code"].as_str().unwrap_or_default().to_owned())
        .collect();
    (r.code, codes)
}

#[test]
fn the_emulator_process_starts_in_the_states_doctor_reports() {
    let table: &[(&[&str], &str)] = &[
        (&["--trusted-ip", "not-an-ip"], "trusted_ip_breaks_logins"),
        (
            &["--policy", "sms", "--trusted-ip", "0.0.0.0/0"],
            "trusted_ip_misleading",
        ),
        (
            &["--policy", "sms", "--no-sms-provider"],
            "sms_without_provider",
        ),
        (
            &["--policy", "sms", "--server-version", "3.9.1"],
            "sms_phone_noise_unverified",
        ),
        (&["--policy", "none"], "tfa_off"),
    ];
    for (args, code) in table {
        let (exit, codes) = doctor_codes_on_emulator(args);
        assert!(codes.iter().any(|c| c == code), "{args:?}: {codes:?}");
        assert_eq!(
            exit,
            i32::from(code.starts_with("trusted") || code.starts_with("sms_without")),
            "{args:?}: {codes:?}"
        );
    }
    for (args, needs) in [
        (
            &["--policy", "none", "--trusted-ip", "10.0.0.1"][..],
            "--policy app",
        ),
        (&["--no-sms-provider"][..], "--policy sms"),
    ] {
        let mut all = vec!["--json", "emulator"];
        all.extend_from_slice(args);
        let e = run(&all, &[], None).error(2, "usage", None);
        assert!(
            e["message"].as_str().is_some_and(|m| m.contains(needs)),
            "{e}"
        );
    }
}
