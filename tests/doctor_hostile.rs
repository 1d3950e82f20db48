//! `doctor::diagnose` against a hostile or broken server: garbage, HTML, huge lists, odd ids
//! and version strings. No panic, bounded work, nothing but `GET`, and no oversized output.

mod support;

use docspace_tfa::doctor::{diagnose, MAX_LOOKUPS};
use mockito::Matcher;
use serde_json::json;
use support::*;

fn me() -> serde_json::Value {
    json!({"id": USER_ID, "isOwner": true, "isAdmin": true, "tfaAppEnabled": true})
}

/// A mock portal answering `settings/tfaapp` with `methods`, the version with `version`, and
/// `people/@self`; any other request (a member or group read included) answers 404, and
/// anything but a GET is counted.
type Portal = (mockito::ServerGuard, mockito::Mock, [mockito::Mock; 4]);

fn portal(methods: serde_json::Value, version: serde_json::Value) -> Portal {
    let mut server = mockito::Server::new();
    server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/tfaapp", methods))
        .create();
    server
        .mock("GET", "/api/2.0/settings/version/build")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "settings/version/build", version))
        .create();
    server
        .mock("GET", "/api/2.0/people/@self")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me()))
        .create();
    let reads = server
        .mock(
            "GET",
            Matcher::Regex("^/api/2.0/(people|group)/[^@]".into()),
        )
        .with_status(404)
        .expect_at_most(2 * MAX_LOOKUPS)
        .create();
    let writes =
        ["POST", "PUT", "DELETE", "PATCH"].map(|m| server.mock(m, Matcher::Any).expect(0).create());
    (server, reads, writes)
}

fn app(extra: serde_json::Value) -> serde_json::Value {
    let mut m = json!({"id": "app", "title": "App", "enabled": true, "available": true,
        "trustedIps": [], "mandatoryUsers": [], "mandatoryGroups": []});
    for (k, v) in extra.as_object().unwrap() {
        m[k] = v.clone();
    }
    json!([m])
}

#[test]
fn html_and_garbage_are_errors_not_panics() {
    for (ctype, body) in [
        (
            "text/html",
            "<html><body>502 Bad Gateway</body></html>".to_owned(),
        ),
        (JSON, "{\"response\": 42}".to_owned()),
        (JSON, "[1, 2, 3]".to_owned()),
        (JSON, "{\"response\": [{\"id\": 7}]}".to_owned()),
        (JSON, "nul".to_owned()),
    ] {
        let mut server = mockito::Server::new();
        server
            .mock("GET", "/api/2.0/settings/tfaapp")
            .with_header("content-type", ctype)
            .with_body(&body)
            .create();
        let err = diagnose(&client(&server)).unwrap_err();
        assert!(!err.to_string().is_empty(), "{body}");
        for secret in SECRETS {
            assert!(!err.to_string().contains(secret), "{err}");
        }
    }
}

#[test]
fn ten_thousand_ids_and_entries_are_bounded() {
    let users: Vec<String> = (0..10_000)
        .map(|n| format!("00000000-0000-0000-0000-{n:012}"))
        .collect();
    let groups: Vec<String> = (0..10_000)
        .map(|n| format!("10000000-0000-0000-0000-{n:012}"))
        .collect();
    let ips: Vec<String> = (0..10_000)
        .map(|n| format!("10.{}.{}.0/0", n / 256, n % 256))
        .collect();
    let (server, reads, writes) = portal(
        app(json!({"trustedIps": ips, "mandatoryUsers": users, "mandatoryGroups": groups})),
        json!({"docSpace": "3.7.2"}),
    );
    let report = diagnose(&client(&server)).unwrap();
    reads.assert();
    writes.into_iter().for_each(|w| w.assert());
    let count = |code: &str| report.findings.iter().filter(|f| f.code == code).count();
    assert_eq!(count("mandatory_user_missing"), MAX_LOOKUPS);
    assert_eq!(count("mandatory_group_missing"), MAX_LOOKUPS);
    assert_eq!(count("trusted_ip_misleading"), 10_000);
    let note = report
        .findings
        .iter()
        .find(|f| f.code == "members_unchecked")
        .unwrap();
    assert!(
        note.message
            .contains(&format!("{} were not looked up", 20_000 - 2 * MAX_LOOKUPS)),
        "{}",
        note.message
    );
}

#[test]
fn odd_ids_are_never_put_in_a_path() {
    let odd = [
        "../settings/tfaapp",
        "66faa6e4-f133-11ea-b126-00ffeec8b4ef/../../x",
        "66faa6e4-f133-11ea-b126-00ffeec8b4e%",
        "66faa6e4-f133-11ea-b126-00ffeec8b4e?",
        "66faa6e4-f133-11ea-b126-00ffeec8b4e\u{0}",
        "",
        "\u{1b}[31mred",
    ];
    let mut server = mockito::Server::new();
    server
        .mock("GET", "/api/2.0/settings/tfaapp")
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/tfaapp",
            app(json!({"mandatoryUsers": odd, "mandatoryGroups": odd})),
        ))
        .create();
    server
        .mock("GET", "/api/2.0/settings/version/build")
        .with_header("content-type", JSON)
        .with_body(envelope(
            "GET",
            "settings/version/build",
            json!({"docSpace": "3.7.2"}),
        ))
        .create();
    server
        .mock("GET", "/api/2.0/people/@self")
        .with_header("content-type", JSON)
        .with_body(envelope("GET", "people/@self", me()))
        .create();
    let report = diagnose(&client(&server)).unwrap();
    // Only the three reads above were made: any other request would have had no mock (501).
    let missing: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.code.ends_with("_missing"))
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(missing.len(), 2 * odd.len());
    for m in missing {
        assert!(m.contains("not a GUID"), "{m}");
        assert!(!m.contains("404"), "nothing was asked: {m}");
    }
}

#[test]
fn odd_version_strings_are_read_safely_and_kept_short() {
    let long = "3.7.".to_owned() + &"9".repeat(100_000);
    for version in [
        json!(long),
        json!("99999999999999999999.1"),
        json!("3.7.2\u{1b}]0;pwned\u{7}"),
        json!("٣.٧"),
        json!(".."),
        json!(3.7),
        json!(null),
        json!({"major": 3}),
        json!(["3.7.2"]),
    ] {
        let sms = json!([{"id": "sms", "title": "SMS", "enabled": true, "available": true,
            "trustedIps": [], "mandatoryUsers": [], "mandatoryGroups": []}]);
        let (server, _reads, writes) = portal(sms, json!({"docSpace": version}));
        let report = diagnose(&client(&server)).unwrap();
        writes.into_iter().for_each(|w| w.assert());
        for f in &report.findings {
            assert!(
                f.message.len() < 1_000,
                "{}: {} bytes",
                f.code,
                f.message.len()
            );
        }
        assert!(
            report
                .server_version
                .as_ref()
                .is_none_or(|v| v.len() <= 100),
            "{version}"
        );
    }
}

#[test]
fn a_null_trusted_ip_breaks_logins_and_is_reported() {
    // The server saves a JSON null entry; every login the policy is checked for then answers
    // 500 NullReferenceException (docs/server.md, "Trusted IPs").
    let (server, _reads, _writes) = portal(
        app(json!({"trustedIps": ["10.0.0.1", null]})),
        json!({"docSpace": "3.7.2"}),
    );
    let report = diagnose(&client(&server)).unwrap();
    let codes: Vec<&str> = report.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, ["trusted_ip_breaks_logins"]);
}
