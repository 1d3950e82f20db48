//! The trusted-IP and id guard of `set_policy` (nothing sent), and the emulator's
//! server-faithful answers to what the library refuses to send: a saved malformed entry (`500`
//! `FormatException`, `401` at `authentication/{code}`), the server's matching order and
//! semantics, ids that are not GUIDs (a `400` under `response.errors["$.…"]`), and an SMS
//! policy whose provider is gone.
#![cfg(feature = "emulator")]

#[path = "support/portal.rs"]
mod portal;

use docspace_tfa::emulator::NewUser;
use docspace_tfa::{ErrorKind, LoginOutcome, Secret, TfaPolicy, TfaType};
use portal::*;
use serde_json::Value;

// ---- the library's guard ----

#[test]
fn set_policy_refuses_bad_entries_before_anything_is_sent() {
    let p = portal();
    let table: Vec<(TfaPolicy, &str)> = vec![
        (
            TfaPolicy::new(TfaType::App).trusted_ip("not-an-ip"),
            "not-an-ip",
        ),
        (
            TfaPolicy::new(TfaType::App).trusted_ip("10.0.0.0/33"),
            "10.0.0.0/33",
        ),
        (
            TfaPolicy::new(TfaType::App).trusted_ip("300.1.1.1"),
            "300.1.1.1",
        ),
        (
            TfaPolicy::new(TfaType::App).trusted_ip("0.0.0.0/0"),
            "0.0.0.0/0",
        ),
        (
            TfaPolicy::new(TfaType::App).trusted_ip("10.0.0.1/24"),
            "host bits",
        ),
        (
            TfaPolicy::new(TfaType::App).mandatory_user("not-a-guid"),
            "mandatory user",
        ),
        (
            TfaPolicy::new(TfaType::App).mandatory_group(""),
            "mandatory group",
        ),
        (TfaPolicy::new(TfaType::App).caller_id("me"), "caller id"),
    ];
    for (policy, named) in table {
        for with_link in [false, true] {
            let err = if with_link {
                p.client.tfa().set_policy_with_link(&policy).unwrap_err()
            } else {
                p.client.tfa().set_policy(&policy).unwrap_err()
            };
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{policy:?}");
            assert!(err.to_string().contains(named), "{err}");
        }
    }
    assert!(p.emulator.requests().is_empty(), "nothing was sent");
    // A sound policy goes through.
    let good = TfaPolicy::new(TfaType::App)
        .trusted_ip("10.0.0.0/8")
        .trusted_ip("192.168.1.10-192.168.1.20")
        .mandatory_user(p.member.to_uppercase())
        .mandatory_group(GROUP);
    assert!(p.client.tfa().set_policy(&good).unwrap());
}

// ---- the emulator follows the server ----

#[test]
fn a_saved_malformed_entry_breaks_logins_as_the_server_does() {
    let table = [
        ("not-an-ip", "An invalid IP address was specified."),
        ("10.0.0.0/99", "An invalid IP network was specified."),
    ];
    for (entry, text) in table {
        let p = portal();
        // The server saves any entry (live-confirmed: their bug 82994).
        let body = format!(r#"{{"type":"App","trustedIps":["{entry}"]}}"#);
        let key = p.emulator.issue_api_key(&p.admin).unwrap();
        let (status, saved) = raw(
            &p.emulator,
            "PUT",
            "settings/tfaapp",
            Some(key.expose()),
            &body,
        );
        assert_eq!((status, &saved["response"]), (200, &Value::Bool(true)));
        // Every password login the policy is checked for: 500 FormatException.
        let (status, answer) = login(&p, "member@example.com");
        assert_eq!(status, 500, "{entry}");
        assert_eq!(answer["error"]["message"], text);
        assert_eq!(answer["error"]["type"], "System.FormatException");
        // The confirm ticket too, and tfaappwithlink after saving.
        let err = p.client.tfa().confirm().unwrap_err();
        assert_eq!((err.kind(), err.status()), (ErrorKind::Server, Some(500)));
        assert_eq!(err.server_message(), Some(text));
        let (status, _) = raw(
            &p.emulator,
            "PUT",
            "settings/tfaappwithlink",
            Some(key.expose()),
            &body,
        );
        assert_eq!(status, 500);
        // authentication/{code} checks inside its try/catch: 401.
        let body = format!(
            r#"{{"userName":"member@example.com","password":"{PASSWORD}","code":"123456"}}"#
        );
        let (status, _) = raw(&p.emulator, "POST", "authentication/123456", None, &body);
        assert_eq!(status, 401);
    }
}

#[test]
fn entries_are_read_in_order_and_mandatory_members_skip_them() {
    let p = portal();
    p.emulator.set_policy(
        &TfaPolicy::new(TfaType::App)
            .trusted_ip("not-an-ip")
            .mandatory_user(p.member.clone()),
    );
    // A member named mandatory is decided before the trusted IPs are read.
    assert_eq!(login(&p, "member@example.com").0, 200);
    assert_eq!(login(&p, "admin@example.com").0, 500);
    // A matching entry before the malformed one hides it.
    p.emulator.set_policy(
        &TfaPolicy::new(TfaType::App)
            .trusted_ip("127.0.0.1")
            .trusted_ip("not-an-ip"),
    );
    let (status, answer) = login(&p, "admin@example.com");
    assert_eq!(status, 200);
    assert!(answer["response"]["token"].is_string(), "trusted: no TFA");
}

#[test]
fn trusted_ips_match_with_the_servers_semantics() {
    // The emulator sees the client at 127.0.0.1.
    let table = [
        ("127.0.0.1", false),
        ("127.0.0.0/8", false),
        ("127.0.0.1-127.0.0.5", false),
        // /0 compares all 32 bits: it matches only 0.0.0.0.
        ("0.0.0.0/0", true),
        // Compared as text: never matches.
        ("127.000.000.001", true),
        ("10.0.0.0/8", true),
    ];
    for (entry, challenged) in table {
        let p = portal();
        p.emulator
            .set_policy(&TfaPolicy::new(TfaType::App).trusted_ip(entry));
        let client = p.emulator.client().unwrap();
        let outcome = client
            .auth()
            .login("member@example.com", Secret::new(PASSWORD))
            .unwrap();
        let was_challenged = !matches!(outcome, LoginOutcome::Authenticated(_));
        assert_eq!(was_challenged, challenged, "{entry}");
    }
}

#[test]
fn malformed_ids_are_a_400_under_their_json_path() {
    let p = portal();
    let key = p.emulator.issue_api_key(&p.admin).unwrap();
    let key = key.expose();
    let table = [
        (
            "settings/tfaapp",
            r#"{"type":"App","mandatoryUsers":["not-a-guid"]}"#,
            "$.mandatoryUsers[0]",
        ),
        (
            "settings/tfaapp",
            r#"{"type":"App","mandatoryGroups":["00000000-0000-0000-0000-000000000000","x"]}"#,
            "$.mandatoryGroups[1]",
        ),
        ("settings/tfaapp", r#"{"type":"App","id":"me"}"#, "$.id"),
        ("settings/tfaappnewapp", r#"{"id":"not-a-guid"}"#, "$.id"),
        ("settings/tfaappnewapp", r#"{"id":""}"#, "$.id"),
    ];
    for (path, body, at) in table {
        let (status, answer) = raw(&p.emulator, "PUT", path, Some(key), body);
        assert_eq!(status, 400, "{body}");
        // ValidationProblemDetails, wrapped in the envelope by the server's result filter.
        assert_eq!(answer["status"], 1);
        assert_eq!(answer["statusCode"], 400);
        assert_eq!(
            answer["response"]["title"],
            "One or more validation errors occurred."
        );
        let problem = &answer["response"]["errors"][at][0];
        assert!(problem.as_str().is_some_and(|t| t.contains(at)), "{answer}");
    }
    // `{}`: the empty GUID, no one to unlink: 403.
    assert_eq!(
        raw(&p.emulator, "PUT", "settings/tfaappnewapp", Some(key), "{}").0,
        403
    );
    assert_eq!(
        p.emulator.policy().tfa_type,
        TfaType::App,
        "nothing was saved"
    );
}

#[test]
fn an_sms_policy_whose_provider_is_gone_breaks_logins_as_on_the_server() {
    let p = portal();
    p.emulator
        .add_user(NewUser::new("phone@example.com", PASSWORD).phone("+123456789"))
        .unwrap();
    p.emulator.set_policy(&TfaPolicy::new(TfaType::Sms));
    p.emulator.set_sms_provider(false);
    // The settings list: neither enabled nor available, the saved lists still there.
    let sms = p.client.tfa().methods().unwrap().remove(0);
    assert_eq!((sms.enabled, sms.available), (false, false));
    assert_eq!(sms.trusted_ips, Some(vec![]));
    // Logins still take the SMS branch: phone activation for a member without a phone, and a
    // failed send for one with a phone.
    let (status, answer) = login(&p, "member@example.com");
    assert_eq!(
        (status, &answer["response"]["sms"]),
        (200, &Value::Bool(true))
    );
    let (status, answer) = login(&p, "phone@example.com");
    assert_eq!(status, 500);
    assert_eq!(answer["error"]["type"], "System.MethodAccessException");
    // Switching SMS on again is refused.
    let key = p.emulator.issue_api_key(&p.admin).unwrap();
    let (status, answer) = raw(
        &p.emulator,
        "PUT",
        "settings/tfaapp",
        Some(key.expose()),
        r#"{"type":"Sms"}"#,
    );
    assert_eq!(status, 403);
    assert_eq!(answer["error"]["type"], "System.InvalidOperationException");
    // With the provider back, the code goes out.
    p.emulator.set_sms_provider(true);
    assert_eq!(login(&p, "phone@example.com").0, 200);
}
