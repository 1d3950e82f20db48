//! `docspace-tfa demo`: the main job against the built-in emulator, from one command that needs
//! no network, no account and no dev-dependency (the README's "Try it").
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;

use std::process::Output;

use cli_support::command;
use docspace_tfa::totp::{Totp, TotpKey};
use serde_json::Value;

fn demo(args: &[&str]) -> Output {
    // Offline: nothing from the environment may point it elsewhere.
    command()
        .arg("demo")
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run docspace-tfa demo")
}

#[test]
fn the_demo_links_an_authenticator_and_shows_every_step() {
    let out = demo(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "exit {:?}: {stdout}{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    for step in [
        "[1/5] the caller's ticket: GET settings/tfaapp/confirm",
        "ticket: TfaActivation for user ",
        "[2/5] the setup code: GET settings/tfaapp/setup",
        "account: john.doe@example.com",
        "otpauth URI: otpauth://totp/",
        "[3/5] the code an authenticator app shows",
        "[4/5] validate: POST settings/tfaapp/validate",
        "valid: first activation",
        "[5/5] the backup codes: GET settings/tfaappcodes",
        "Done: 4 requests reached the emulator",
    ] {
        assert!(stdout.contains(step), "{step:?} missing from:\n{stdout}");
    }
    // The code shown is the manual key's code: six digits.
    let code_line = stdout
        .lines()
        .find(|l| l.starts_with("code: "))
        .expect("code line");
    let code = &code_line["code: ".len().."code: ".len() + 6];
    assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code_line}");
    let backup = stdout
        .lines()
        .find_map(|l| l.strip_prefix("backup codes: "))
        .expect("backup codes line");
    assert_eq!(backup.split(' ').count(), 5, "{backup}");
}

#[test]
fn the_demo_in_json_is_one_document_whose_code_matches_its_key() {
    let out = demo(&["--json"]);
    assert!(out.status.success(), "{:?}", out);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    assert_eq!(doc["account"], "john.doe@example.com");
    assert_eq!(doc["firstActivation"], true);
    assert_eq!(doc["requests"], 4);
    assert_eq!(doc["backupCodes"].as_array().map(Vec::len), Some(5));
    assert!(doc["url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    let key = doc["manualEntryKey"]
        .as_str()
        .unwrap()
        .parse::<TotpKey>()
        .unwrap();
    let uri = doc["otpauthUri"].as_str().unwrap();
    assert!(uri.contains(&format!(
        "secret={}",
        doc["manualEntryKey"].as_str().unwrap()
    )));
    // The code was computed at the emulator's time, which is the system's: it is one of the
    // codes of the last few steps for this key.
    let code = doc["code"].as_str().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let totp = Totp::docspace();
    assert!(
        (0..4).any(|back| totp.code_at(&key, now - back * 30).expose() == code),
        "{code} is not the key's code"
    );
}

#[test]
fn the_demo_needs_no_portal_and_hides_the_network_options_in_its_help() {
    let out = command().args(["demo", "--help"]).output().expect("help");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("built-in emulator"), "{help}");
    assert!(
        !help.contains("--url") && !help.contains("--ca-cert"),
        "{help}"
    );
}
