//! `doctor` against the emulator in every state it reports (each with the state that triggers
//! it, and a healthy portal that stays quiet), and that it only reads.
#![cfg(feature = "emulator")]

#[path = "support/portal.rs"]
mod portal;

use docspace_tfa::doctor::{diagnose, Severity};
use docspace_tfa::emulator::NewUser;
use docspace_tfa::{TfaPolicy, TfaType};
use portal::*;

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
fn sms_without_provider_survives_switching_methods_until_a_provider_is_back() {
    // The server turns SMS off on a switch to the app method (or off) only while a provider is
    // configured (`TfaappController.cs:246-249`, `StudioSmsNotificationSettings.cs:70-73`).
    let p = portal();
    p.emulator.set_policy(&TfaPolicy::new(TfaType::Sms));
    p.emulator.set_sms_provider(false);
    for switch in [TfaType::App, TfaType::None] {
        p.client.tfa().set_policy(&TfaPolicy::new(switch)).unwrap();
        let client = p
            .emulator
            .client()
            .unwrap()
            .with_token(p.emulator.issue_api_key(&p.admin).unwrap());
        let report = diagnose(&client).unwrap();
        let found = report
            .findings
            .iter()
            .find(|f| f.code == "sms_without_provider");
        let found = found.unwrap_or_else(|| panic!("{switch:?}: {report:?}"));
        assert!(found.advice.contains("only then"), "{}", found.advice);
    }
    // Both on: logins take the SMS branch first, and the app's entries are not read (a
    // malformed one does not answer 500 while SMS applies).
    p.emulator
        .set_policy(&TfaPolicy::new(TfaType::App).trusted_ip("not-an-ip"));
    let login = p
        .emulator
        .client()
        .unwrap()
        .auth()
        .login("member@example.com", PASSWORD)
        .unwrap();
    assert!(
        matches!(login, docspace_tfa::LoginOutcome::SmsPhoneRequired { .. }),
        "{login:?}"
    );
    p.emulator.set_sms_provider(true);
    let client = p
        .emulator
        .client()
        .unwrap()
        .with_token(p.emulator.issue_api_key(&p.admin).unwrap());
    client
        .tfa()
        .set_policy(&TfaPolicy::new(TfaType::App))
        .unwrap();
    let report = diagnose(&client).unwrap();
    assert!(report.is_healthy(), "{report:?}");
}

#[test]
fn a_null_trusted_ip_saved_over_http_breaks_logins_and_is_reported() {
    // The server saves a JSON null entry (`List<string>`); every login the policy is checked
    // for then answers 500 NullReferenceException. The library never sends one: a raw PUT.
    let p = portal();
    let key = p.emulator.issue_api_key(&p.admin).unwrap();
    let agent = ureq::Agent::new_with_config(
        ureq::config::Config::builder()
            .http_status_as_error(false)
            .build(),
    );
    let api = |path: &str| format!("{}/api/2.0/{path}", p.emulator.base_url());
    let put = agent
        .put(&api("settings/tfaapp"))
        .header("Authorization", &format!("Bearer {}", key.expose()))
        .header("Content-Type", "application/json")
        .send(r#"{"type": "App", "trustedIps": ["10.9.9.9", null]}"#)
        .unwrap();
    assert_eq!(put.status(), 200);
    let report = diagnose(&p.client).unwrap();
    let found: Vec<_> = report
        .findings
        .iter()
        .map(|f| (f.severity, f.code, f.subject.as_deref()))
        .collect();
    assert_eq!(
        found,
        [(Severity::Error, "trusted_ip_breaks_logins", Some("null"))]
    );
    let mut login = agent
        .post(&api("authentication"))
        .header("Content-Type", "application/json")
        .send(r#"{"userName": "member@example.com", "password": "%P"}"#.replace("%P", PASSWORD))
        .unwrap();
    assert_eq!(login.status(), 500);
    let body = login.body_mut().read_to_string().unwrap();
    assert!(body.contains("System.NullReferenceException"), "{body}");
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
