//! `doctor::diagnose` against a mock portal answering with the server's own shapes and texts
//! (`docs/server.md`, "What `doctor` reads"): the SMS policy on without a provider, a saved
//! malformed entry, a deleted member (`404` `ItemNotFoundException`), an existing group, the
//! version endpoint read anonymously, and the failures that end the check.

mod support;

use docspace_tfa::doctor::{diagnose, Severity};
use docspace_tfa::ErrorKind;
use mockito::Matcher;
use serde_json::json;
use support::*;

const GROUP_ID: &str = "c5cc67d1-c3e8-43c0-a3ad-3928ae3e5b5e";

fn me(admin: bool, tfa_app_enabled: Option<bool>) -> serde_json::Value {
    let mut me = json!({
        "id": USER_ID, "displayName": "Bot", "email": USER_NAME, "isOwner": false,
        "isAdmin": admin, "isVisitor": false, "status": 1, "activationStatus": 1,
        "groups": [{"id": GROUP_ID, "name": "Accounting", "manager": "Olga Owner"}],
    });
    if let Some(linked) = tfa_app_enabled {
        me["tfaAppEnabled"] = json!(linked);
    }
    me
}

#[test]
fn sms_without_provider_and_a_deleted_member_from_the_servers_bodies() {
    let mut server = mockito::Server::new();
    // SMS on with a saved policy, provider gone: `enabled` and `available` both false.
    let methods = json!([
        {"id": "sms", "title": "By SMS", "enabled": false, "available": false,
         "trustedIps": ["192.168.0.1-192.168.0.x"], "mandatoryUsers": [OTHER_USER_ID],
         "mandatoryGroups": [GROUP_ID]},
        {"id": "app", "title": "By authenticator app", "enabled": false, "available": true},
    ]);
    let m1 = server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .match_header("authorization", bearer().as_str())
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", methods))
        .create();
    let m2 = server
        .mock("GET", "/api/2.0/settings/version/build")
        .match_header("authorization", Matcher::Missing)
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/version/build",
            json!({"docSpace": "3.7.2.1176", "documentServer": "9.0.4.50"}),
        ))
        .create();
    let m3 = server
        .mock("GET", "/api/2.0/people/@self")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me(true, None)))
        .create();
    let m4 = server
        .mock("GET", format!("/api/2.0/people/{OTHER_USER_ID}").as_str())
        .with_status(404)
        .with_header("content-type", JSON)
        .with_body(error_envelope(
            404,
            "The user could not be found",
            Some("ASC.Common.Web.ItemNotFoundException"),
        ))
        .create();
    let m5 = server
        .mock("GET", format!("/api/2.0/group/{GROUP_ID}").as_str())
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "group",
            json!({"name": "Accounting", "id": GROUP_ID, "isLDAP": false, "membersCount": 3,
                   "category": "00000000-0000-0000-0000-000000000000"}),
        ))
        .create();
    let report = diagnose(&client(&server)).unwrap();
    for m in [m1, m2, m3, m4, m5] {
        m.assert();
    }
    let found: Vec<(Severity, &str, Option<&str>)> = report
        .findings
        .iter()
        .map(|f| (f.severity, f.code, f.subject.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            (
                Severity::Error,
                "trusted_ip_breaks_logins",
                Some("192.168.0.1-192.168.0.x")
            ),
            (Severity::Error, "sms_without_provider", Some("sms")),
            (Severity::Warning, "sms_phone_noise_defect", Some("sms")),
            (
                Severity::Warning,
                "mandatory_user_missing",
                Some(OTHER_USER_ID)
            ),
        ]
    );
    assert_eq!(report.server_version.as_deref(), Some("3.7.2.1176"));
    assert!(!report.is_healthy());
    assert!(report.findings[2].message.contains("3.7.2.1176"));
}

#[test]
fn a_version_the_server_does_not_say_is_a_note_and_a_refused_read_ends_the_check() {
    let mut server = mockito::Server::new();
    let methods = json!([
        {"id": "app", "title": "By authenticator app", "enabled": true, "available": true,
         "trustedIps": [], "mandatoryUsers": [USER_ID], "mandatoryGroups": []},
    ]);
    server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", methods))
        .expect(2)
        .create();
    // Older servers have no such route: an empty 404.
    server
        .mock("GET", "/api/2.0/settings/version/build")
        .with_status(404)
        .expect(2)
        .create();
    server
        .mock("GET", "/api/2.0/people/@self")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me(true, Some(true))))
        .expect(2)
        .create();
    let person = server
        .mock("GET", format!("/api/2.0/people/{USER_ID}").as_str())
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people", me(true, Some(true))))
        .create();
    let report = diagnose(&client(&server)).unwrap();
    person.assert();
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["version_unknown"]);
    assert!(report.is_healthy(), "a note alone is healthy");
    assert_eq!(report.worst(), Some(Severity::Info));
    // A member read refused for another reason than 404 is the error, not a finding.
    person.remove();
    server
        .mock("GET", format!("/api/2.0/people/{USER_ID}").as_str())
        .with_status(403)
        .with_header("content-type", JSON)
        .with_body(error_envelope(
            403,
            "Access denied",
            Some("System.Security.SecurityException"),
        ))
        .create();
    let err = diagnose(&client(&server)).unwrap_err();
    assert_eq!(
        (err.kind(), err.status()),
        (ErrorKind::Forbidden, Some(403))
    );
}
