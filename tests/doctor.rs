//! The trusted-IP and id guard of `set_policy`, the emulator's server-faithful answers to a
//! saved malformed entry or id, and `doctor` against the emulator in every state it reports
//! (each with the state that triggers it, and a healthy portal that stays quiet).
#![cfg(feature = "emulator")]

use std::io::{Read, Write};
use std::net::TcpStream;

use docspace_tfa::doctor::{diagnose, Severity};
use docspace_tfa::emulator::{Emulator, NewUser};
use docspace_tfa::{Client, ErrorKind, LoginOutcome, Secret, TfaPolicy, TfaType};
use serde_json::Value;

const T0: u64 = 1_700_000_000;
const PASSWORD: &str = "pw-for-tests";
const GROUP: &str = "c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e";
const GHOST: &str = "66faa6e4-f133-11ea-b126-00ffeec8b4ef";

/// A portal with a linked admin (the doctor's caller), a plain member, and the admin's client
/// (an API key: it survives policy changes).
struct Portal {
    emulator: Emulator,
    admin: String,
    member: String,
    client: Client,
}

fn portal() -> Portal {
    let emulator = Emulator::builder()
        .time(T0)
        .start()
        .expect("emulator starts");
    let admin = emulator
        .add_user(NewUser::new("admin@example.com", PASSWORD).owner().linked())
        .unwrap();
    let member = emulator
        .add_user(NewUser::new("member@example.com", PASSWORD).group(GROUP))
        .unwrap();
    let client = emulator
        .client()
        .unwrap()
        .with_token(emulator.issue_api_key(&admin).unwrap());
    Portal {
        emulator,
        admin,
        member,
        client,
    }
}

/// One HTTP/1.1 request with `Connection: close`; the status and the JSON body.
fn raw(
    portal: &Emulator,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, Value) {
    let addr = portal.base_url().trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "{method} /api/2.0/{path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let status = text[9..12].parse().unwrap();
    let json = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| serde_json::from_str(b).unwrap_or(Value::Null))
        .unwrap_or(Value::Null);
    (status, json)
}

fn login(p: &Portal, email: &str) -> (u16, Value) {
    let body = format!(r#"{{"userName":"{email}","password":"{PASSWORD}"}}"#);
    raw(&p.emulator, "POST", "authentication", None, &body)
}

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

// ---- doctor ----

fn codes(p: &Portal) -> Vec<&'static str> {
    diagnose(&p.client)
        .unwrap()
        .findings
        .into_iter()
        .map(|f| f.code)
        .collect()
}

#[test]
fn doctor_is_quiet_on_a_healthy_portal_and_only_reads() {
    let p = portal();
    p.emulator.add_group(GROUP, "Accounting").unwrap();
    p.emulator.set_policy(
        &TfaPolicy::new(TfaType::App)
            .trusted_ip("10.0.0.0/8")
            .trusted_ip("192.168.1.10-192.168.1.20")
            .mandatory_user(p.member.clone())
            .mandatory_group(GROUP),
    );
    let report = diagnose(&p.client).unwrap();
    assert_eq!(report.findings, vec![], "{report:?}");
    assert!(report.is_healthy());
    assert_eq!(report.server_version.as_deref(), Some("3.7.2"));
    let requests = p.emulator.requests();
    assert!(requests.iter().all(|r| r.method() == "GET"), "{requests:?}");
    for path in [
        "settings/tfaapp",
        "settings/version/build",
        "people/@self",
        "people/{userid}",
        "group/{id}",
    ] {
        assert_eq!(p.emulator.request_count("GET", path), 1, "{path}");
    }
}

#[test]
fn doctor_reports_each_state() {
    type Setup = fn(&Portal);
    let table: &[(&str, Setup, &str, Severity)] = &[
        (
            "breaks",
            |p| {
                p.emulator
                    .set_policy(&TfaPolicy::new(TfaType::App).trusted_ip("not-an-ip"))
            },
            "trusted_ip_breaks_logins",
            Severity::Error,
        ),
        (
            "never",
            |p| {
                p.emulator
                    .set_policy(&TfaPolicy::new(TfaType::App).trusted_ip("300.1.1.1"))
            },
            "trusted_ip_never_matches",
            Severity::Warning,
        ),
        (
            "misleading",
            |p| {
                p.emulator
                    .set_policy(&TfaPolicy::new(TfaType::App).trusted_ip("0.0.0.0/0"))
            },
            "trusted_ip_misleading",
            Severity::Warning,
        ),
        (
            "sms without provider",
            |p| {
                p.emulator.set_policy(&TfaPolicy::new(TfaType::Sms));
                p.emulator.set_sms_provider(false);
            },
            "sms_without_provider",
            Severity::Error,
        ),
        (
            "sms defect",
            |p| p.emulator.set_policy(&TfaPolicy::new(TfaType::Sms)),
            "sms_phone_noise_defect",
            Severity::Warning,
        ),
        (
            "sms newer server",
            |p| {
                p.emulator.set_policy(&TfaPolicy::new(TfaType::Sms));
                p.emulator.set_server_version("3.9.0");
            },
            "sms_phone_noise_unverified",
            Severity::Info,
        ),
        (
            "deleted member",
            |p| {
                p.emulator
                    .set_policy(&TfaPolicy::new(TfaType::App).mandatory_user(p.member.clone()));
                p.emulator.remove_user(&p.member).unwrap();
            },
            "mandatory_user_missing",
            Severity::Warning,
        ),
        (
            "deleted group",
            |p| {
                p.emulator
                    .set_policy(&TfaPolicy::new(TfaType::App).mandatory_group(GROUP));
                p.emulator.remove_group(GROUP).unwrap();
            },
            "mandatory_group_missing",
            Severity::Warning,
        ),
        (
            "tfa off",
            |p| p.emulator.set_policy(&TfaPolicy::new(TfaType::None)),
            "tfa_off",
            Severity::Info,
        ),
        (
            "no version",
            |p| {
                p.emulator.add_fault(
                    docspace_tfa::emulator::Fault::status(404).on("GET", "settings/version/build"),
                )
            },
            "version_unknown",
            Severity::Info,
        ),
    ];
    for (name, setup, code, severity) in table {
        let p = portal();
        assert!(!codes(&p).contains(code), "{name}: not before");
        setup(&p);
        let report = diagnose(&p.client).unwrap();
        let found = report.findings.iter().find(|f| f.code == *code);
        let found = found.unwrap_or_else(|| panic!("{name}: {report:?}"));
        assert_eq!(found.severity, *severity, "{name}");
        assert!(!found.message.is_empty() && !found.advice.is_empty());
        assert_eq!(report.is_healthy(), *severity == Severity::Info, "{name}");
        // Worst first.
        let order: Vec<Severity> = report.findings.iter().map(|f| f.severity).collect();
        assert!(order.windows(2).all(|w| w[0] >= w[1]), "{name}: {order:?}");
    }
}

#[test]
fn doctor_warns_an_admin_without_an_app() {
    let p = portal();
    let admin = p
        .emulator
        .add_user(NewUser::new("new-admin@example.com", PASSWORD).admin())
        .unwrap();
    let client = p
        .emulator
        .client()
        .unwrap()
        .with_token(p.emulator.issue_api_key(&admin).unwrap());
    let report = diagnose(&client).unwrap();
    let found: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.code == "caller_without_app")
        .collect();
    assert_eq!(found.len(), 1, "{report:?}");
    assert_eq!(found[0].subject.as_deref(), Some(admin.as_str()));
    // Linked (the portal's owner): quiet.
    assert!(!codes(&p).contains(&"caller_without_app"));
    // A mandatory member id that never existed is reported the same as a deleted one.
    p.emulator
        .set_policy(&TfaPolicy::new(TfaType::App).mandatory_user(GHOST));
    assert!(codes(&p).contains(&"mandatory_user_missing"));
}

#[test]
fn doctor_looks_up_each_id_once_and_at_most_the_limit() {
    use docspace_tfa::doctor::MAX_LOOKUPS;
    let p = portal();
    let mut policy = TfaPolicy::new(TfaType::App)
        .mandatory_user(p.member.clone())
        .mandatory_user(p.member.to_uppercase());
    for n in 0..MAX_LOOKUPS + 4 {
        policy = policy.mandatory_user(format!("00000000-0000-0000-0000-{n:012}"));
    }
    p.emulator.set_policy(&policy);
    let report = diagnose(&p.client).unwrap();
    assert_eq!(
        p.emulator.request_count("GET", "people/{userid}"),
        MAX_LOOKUPS,
        "the member once, then the limit"
    );
    let missing = report
        .findings
        .iter()
        .filter(|f| f.code == "mandatory_user_missing")
        .count();
    assert_eq!(missing, MAX_LOOKUPS - 1);
    let note = report
        .findings
        .iter()
        .find(|f| f.code == "members_unchecked");
    assert!(
        note.is_some_and(|n| n.message.contains("5 were not looked up")),
        "{report:?}"
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
