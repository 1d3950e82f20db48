//! The CLI's SMS factor against the emulator: `login`'s two SMS statuses, `sms phone` with
//! either form of the ticket, `sms send`, `login --code` finishing an SMS login, the
//! `phoneNoise` defect (sent, with a note; the failed finish explained with `--phone`), input
//! refused before sending, and the emulator subcommand's outbox URL and `--fixed-phone-noise`.
#![cfg(all(feature = "cli", feature = "emulator"))]

#[path = "support/cli.rs"]
mod cli_support;

use cli_support::{spawn_emulator, Portal, EMAIL, PASSWORD};
use docspace_tfa::emulator::Emulator;
use docspace_tfa::{TfaPolicy, TfaType};
use serde_json::Value;

/// 9 and 11 digits.
const SHORT: &str = "+123 456 789";
const LONG: &str = "+1 (234) 567-8901";

/// An SMS portal (the defect on, as on every released server) with the owner.
fn sms_portal(defect: bool) -> Portal {
    let portal = Portal::with(Emulator::builder().phone_noise_defect(defect));
    portal.emu.set_policy(&TfaPolicy::new(TfaType::Sms));
    portal
}

impl SmsRun for Portal {
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> cli_support::Run {
        let mut env = self.env();
        env.push(("DOCSPACE_PASSWORD", PASSWORD));
        cli_support::run(args, &env, stdin)
    }
}

trait SmsRun {
    fn cli(&self, args: &[&str], stdin: Option<&str>) -> cli_support::Run;
}

fn ok_json(run: &cli_support::Run) -> Value {
    assert_eq!(
        run.code, 0,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    run.json()
}

fn last_code(portal: &Portal, phone: &str) -> String {
    let code = portal.emu.last_sms_code(phone).expect("a code was sent");
    code.expose().to_owned()
}

#[test]
fn phone_required_then_sms_phone_then_login_with_the_code() {
    for confirm_json in [true, false] {
        let portal = sms_portal(true);
        let login = portal.cli(&["login", "--user", EMAIL, "--json"], None);
        let challenge = ok_json(&login);
        assert_eq!(challenge["status"], "sms_phone_required", "{challenge}");
        let url = challenge["confirmUrl"].as_str().expect("confirmUrl");
        let key = challenge["confirmKey"].as_str().expect("confirmKey");
        assert!(url.contains("/confirm/PhoneActivation?type=PhoneActivation&key="));
        let run = if confirm_json {
            portal.cli(
                &[
                    "sms",
                    "phone",
                    "--phone",
                    SHORT,
                    "--confirm-json",
                    "-",
                    "--json",
                ],
                Some(&login.stdout),
            )
        } else {
            portal.cli(
                &[
                    "sms",
                    "phone",
                    "--phone",
                    SHORT,
                    "--confirm",
                    url,
                    "--confirm-key",
                    key,
                    "--json",
                ],
                None,
            )
        };
        let sent = ok_json(&run);
        assert_eq!(sent["status"], "sms_code_sent");
        assert_eq!(sent["phoneNoise"], "+1234*6789");
        assert_eq!(sent["serverMaskFailed"], false);
        assert!(sent["expires"].is_string());
        assert!(run.stderr.is_empty(), "{}", run.stderr);
        assert_eq!(portal.emu.sms_outbox().len(), 1);

        let code = last_code(&portal, SHORT);
        let done =
            ok_json(&portal.cli(&["login", "--user", EMAIL, "--code", &code, "--json"], None));
        assert_eq!(done["status"], "authenticated");
        assert!(done["token"].as_str().is_some_and(|t| !t.is_empty()));
        assert!(
            portal
                .emu
                .user_state(&portal.id)
                .expect("owner")
                .phone_activated
        );

        // The phone is set now: `login` sends a code and says so; `sms send` resends.
        let again = ok_json(&portal.cli(&["login", "--user", EMAIL, "--json"], None));
        assert_eq!(again["status"], "sms_code_sent");
        assert_eq!(again["phoneNoise"], "+1234*6789");
        let resent = ok_json(&portal.cli(&["sms", "send", "--user", EMAIL, "--json"], None));
        assert_eq!(resent["status"], "sms_code_sent");
        assert_eq!(portal.emu.sms_outbox().len(), 3);
    }
}

#[test]
fn the_defect_is_sent_with_a_note_and_the_failed_finish_is_explained() {
    let portal = sms_portal(true);
    let login = portal.cli(&["login", "--user", EMAIL, "--json"], None);
    let run = portal.cli(
        &[
            "sms",
            "phone",
            "--phone",
            LONG,
            "--confirm-json",
            "-",
            "--json",
        ],
        Some(&login.stdout),
    );
    let sent = ok_json(&run);
    assert_eq!(sent["status"], "sms_code_sent");
    assert_eq!(sent["phoneNoise"], "+1234***8901");
    assert_eq!(sent["serverMaskFailed"], true);
    assert!(run.stderr.contains("phoneNoise"), "{}", run.stderr);
    let code = last_code(&portal, LONG);
    // With the number: the defect is named, with the ways out.
    let run = portal.cli(
        &[
            "login", "--user", EMAIL, "--code", &code, "--phone", LONG, "--json",
        ],
        None,
    );
    let e = run.error(4, "unauthorized", Some(401));
    let message = e["message"].as_str().unwrap_or_default();
    assert!(message.contains("phoneNoise defect") && message.contains("authenticator app"));
    // The JSON advice carries the ways out, as the end of the message does.
    let advice = e["advice"].as_str().unwrap_or_default();
    assert!(advice.contains("authenticator app"), "{e}");
    assert!(message.ends_with(&format!("; {advice}")), "{e}");
    assert!(!message.contains("12345678901") && !run.stderr.contains("12345678901"));
    // Without it the server's answer is all there is to say.
    let code = {
        ok_json(&portal.cli(&["sms", "send", "--user", EMAIL, "--json"], None));
        last_code(&portal, LONG)
    };
    let run = portal.cli(&["login", "--user", EMAIL, "--code", &code, "--json"], None);
    let e = run.error(4, "unauthorized", Some(401));
    assert!(
        !e["message"].as_str().unwrap_or_default().contains("defect"),
        "{e}"
    );
}

#[test]
fn bad_input_is_refused_before_anything_is_sent() {
    let portal = sms_portal(true);
    let login = portal.cli(&["login", "--user", EMAIL, "--json"], None);
    portal.emu.clear_requests();
    let run = portal.cli(
        &[
            "sms",
            "phone",
            "--phone",
            " +-() ",
            "--confirm-json",
            "-",
            "--json",
        ],
        Some(&login.stdout),
    );
    run.error(2, "invalid_input", None);
    let run = portal.cli(&["sms", "phone", "--phone", SHORT, "--json"], None);
    let e = run.error(2, "usage", None);
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("--confirm-json"),
        "{e}"
    );
    let run = portal.cli(
        &[
            "login", "--user", EMAIL, "--code", "123456", "--phone", "()", "--json",
        ],
        None,
    );
    run.error(2, "invalid_input", None);
    // A key typed without --confirm is a mistake here too (it was silently ignored).
    let run = portal.cli(
        &[
            "sms",
            "phone",
            "--phone",
            SHORT,
            "--confirm-key",
            "1700000000.abc",
            "--confirm-json",
            "-",
            "--json",
        ],
        Some(&login.stdout),
    );
    let e = run.error(2, "usage", None);
    let message = e["message"].as_str().unwrap_or_default();
    assert!(message.contains("--confirm-key needs --confirm"), "{e}");
    assert!(!message.contains("1700000000.abc"), "{e}");
    assert!(portal.emu.requests().is_empty(), "nothing was sent");
}

#[test]
fn the_emulator_line_names_the_outbox_and_fixed_servers_finish() {
    let (mut child, info) = spawn_emulator(&["--policy", "sms", "--fixed-phone-noise"]);
    let url = info["url"].as_str().expect("url").to_owned();
    assert_eq!(info["smsOutbox"], format!("{url}/_emulator/sms"));
    let user = &info["users"][0];
    let (email, password) = (
        user["email"].as_str().unwrap(),
        user["password"].as_str().unwrap(),
    );
    let env = [
        ("DOCSPACE_URL", url.as_str()),
        ("DOCSPACE_PASSWORD", password),
    ];
    let login = cli_support::run(&["login", "--user", email, "--json"], &env, None);
    assert_eq!(
        login.json()["status"],
        "sms_phone_required",
        "{}",
        login.stdout
    );
    let sent = cli_support::run(
        &[
            "sms",
            "phone",
            "--phone",
            LONG,
            "--confirm-json",
            "-",
            "--json",
        ],
        &env,
        Some(&login.stdout),
    );
    let sent = ok_json(&sent);
    assert_eq!(
        (
            sent["phoneNoise"].as_str(),
            sent["serverMaskFailed"].as_bool()
        ),
        (Some("+1234***8901"), Some(false))
    );
    let outbox = ureq::get(info["smsOutbox"].as_str().unwrap())
        .call()
        .expect("outbox")
        .body_mut()
        .read_to_string()
        .expect("body");
    let outbox: Value = serde_json::from_str(&outbox).expect("JSON");
    let code = outbox["messages"][0]["code"]
        .as_str()
        .expect("a code")
        .to_owned();
    assert_eq!(outbox["messages"][0]["phone"], "12345678901");
    let done = cli_support::run(
        &["login", "--user", email, "--code", &code, "--json"],
        &env,
        None,
    );
    assert_eq!(ok_json(&done)["status"], "authenticated");
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn an_exported_key_does_not_override_the_key_in_a_phone_link() {
    let portal = sms_portal(false);
    let challenge = ok_json(&portal.cli(&["login", "--user", EMAIL, "--json"], None));
    let url = challenge["confirmUrl"].as_str().expect("confirmUrl");
    // DOCSPACE_CONFIRM_KEY left over from another ticket: the link's own key is used.
    let mut env = portal.env();
    env.push(("DOCSPACE_CONFIRM_KEY", "1700000000.STALE"));
    let run = cli_support::run(
        &["sms", "phone", "--phone", SHORT, "--confirm", url, "--json"],
        &env,
        None,
    );
    assert_eq!(ok_json(&run)["status"], "sms_code_sent");
    // A typed --confirm-key is what the user asked for: refused by the portal.
    let run = cli_support::run(
        &[
            "sms",
            "phone",
            "--phone",
            SHORT,
            "--confirm",
            url,
            "--confirm-key",
            "1700000000.TYPED",
            "--json",
        ],
        &env,
        None,
    );
    run.error(4, "unauthorized", Some(401));
}

#[test]
fn confirm_of_an_sms_member_prints_the_key_of_its_phone_link_for_sms_phone() {
    let portal = sms_portal(false);
    let confirm = portal.cli(&["confirm", "--json"], None);
    let data = ok_json(&confirm);
    let url = data["confirmUrl"].as_str().expect("confirmUrl");
    assert!(url.contains("PhoneActivation"), "{data}");
    let key = data["confirmKey"]
        .as_str()
        .expect("the key of the phone link");
    assert!(url.contains(&format!("key={key}")), "{data}");
    // `confirm --json | sms phone --confirm-json -`, as for the other ticket commands.
    let mut env = portal.env();
    env.retain(|(name, _)| *name != "DOCSPACE_TOKEN");
    let run = cli_support::run(
        &[
            "sms",
            "phone",
            "--phone",
            SHORT,
            "--confirm-json",
            "-",
            "--json",
        ],
        &env,
        Some(&confirm.stdout),
    );
    assert_eq!(ok_json(&run)["status"], "sms_code_sent");
}
